/*
 * cli.h - the command layer: the only code that prints results or errors and exits.
 * Each subcommand lives in cli/cmd_<name>.c with its own usage text (git's builtin/).
 */
#ifndef FS_CLI_H
#define FS_CLI_H

#include <cJSON.h>
#include <stdio.h>

#include "util/err.h"

typedef struct cli_command {
	const char *name;
	int (*fn)(int argc, char **argv); /* returns the process exit status */
	const char *summary;
} cli_command;

/* Subcommands (argv[0] is the subcommand name). */
int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_memory(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_engines(int argc, char **argv);
int cmd_trace(int argc, char **argv);

/* Print "fleetsim: <msg>" to stderr and return e->status (FS_EXIT_RUNTIME if unset). */
int cli_report(const fs_err *e);
/* Print "fleetsim: <fmt>" to stderr; returns FS_EXIT_INPUT (usage errors). */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print obj as one JSON object line on stdout and free it. Returns 0, or
 * FS_EXIT_RUNTIME if it could not be printed. */
int cli_print_json(cJSON *obj);
/* The options `memory`, `step` and the like share: --gpu, --model, --tp,
 * --precision, --kv-cache-dtype (getopt codes 'g', 'm', 't', 'p', 'k'). */
typedef struct cli_model_args {
	const char *gpu, *model;
} cli_model_args;
struct mem_config;
/* Handle option c with argument arg for command cmd into a and cfg.  Returns 1 if c
 * was one of the shared options and is fine, 0 if c is not shared, or -1 after
 * printing an error (the command then exits with *status). */
int cli_model_opt(const char *cmd, int c, const char *arg, cli_model_args *a,
		  struct mem_config *cfg, int *status);

/* Print the scenario's load warnings (scenario.warnings: e.g. an SLO bound that looks
 * like milliseconds written as seconds) to stderr as "fleetsim: warning: ...".  Loads
 * the scenario for that; a scenario that does not load prints nothing here (the
 * command reports the error itself). */
void cli_scenario_warnings(const char *path, const char *const *sets, int nsets);

/* Parse a strictly positive int / any finite double CLI value; -1 on junk. */
int cli_parse_int(const char *s, int *out);
int cli_parse_double(const char *s, double *out);

#endif
