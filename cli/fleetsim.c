/*
 * fleetsim.c - entry point: dispatch to a subcommand from the table (git.c's
 * commands[]).  Never calls setlocale(): parsing and output stay in the "C" locale
 * whatever LC_NUMERIC says, so results do not depend on the machine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "version.h"

static const cli_command commands[] = {
	{"run", cmd_run, "replay a scenario's workload on each of its fleets"},
	{"sweep", cmd_sweep, "run a scenario over a grid of parameter values"},
	{"plan", cmd_plan, "find the cheapest fleet that meets the SLO"},
	{"report", cmd_report, "plots and an HTML page from a results database"},
	{"trace", cmd_trace, "trace statistics (trace stats) and synthetic traces (trace gen)"},
	{"memory", cmd_memory, "per-GPU memory plan: weights, KV blocks, max sequences"},
	{"step", cmd_step, "predicted prefill and decode step times"},
	{"calibrate", cmd_calibrate, "fit step-time efficiencies to measured timings"},
	{"models", cmd_models, "list the built-in GPUs and LLMs"},
	{"engines", cmd_engines, "list the modelled vLLM releases and their defaults"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fleetsim [--version] [--help] COMMAND [ARGS]\n\n"
		   "Discrete-event simulator and capacity planner for LLM serving fleets.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'fleetsim COMMAND --help' for a command's options.\n");
}

int cli_report(const fs_err *e)
{
	fprintf(stderr, "fleetsim: %s\n", e->msg[0] ? e->msg : "unknown error");
	return e->status ? e->status : FS_EXIT_RUNTIME;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("fleetsim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return FS_EXIT_INPUT;
}

int cli_print_json(cJSON *obj)
{
	char *s = cJSON_PrintUnformatted(obj);
	int rc = FS_EXIT_OK;

	if (!s || puts(s) == EOF)
		rc = FS_EXIT_RUNTIME;
	free(s);
	cJSON_Delete(obj);
	return rc;
}

/* A command's output that did not reach its destination (a full disk, a closed pipe
 * reading --json) is a failed command: flush and close stdout here, once, for every
 * command (git's approach), and turn a write error into exit 1. */
static int finish_stdout(int status)
{
	int bad = fflush(stdout) != 0 || ferror(stdout);

	if (fclose(stdout) != 0)
		bad = 1;
	if (!bad)
		return status;
	fprintf(stderr, "fleetsim: writing standard output failed: %s\n", strerror(errno ? errno : EIO));
	return status == FS_EXIT_OK ? FS_EXIT_RUNTIME : status;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return FS_EXIT_INPUT;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return finish_stdout(FS_EXIT_OK);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fleetsim %s\n", FLEETSIM_VERSION);
		return finish_stdout(FS_EXIT_OK);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return finish_stdout(commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "fleetsim: '%s' is not a command; see 'fleetsim --help'\n", argv[1]);
	return FS_EXIT_INPUT;
}
