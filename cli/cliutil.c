#include <limits.h>
#include <string.h>

#include "cli/cli.h"

#include "models/memory.h"
#include "scenarios/scenario.h"
#include "util/numparse.h"

int cli_parse_int(const char *s, int *out)
{
	int64_t v;

	if (np_i64(s, (size_t)-1, &v) || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int cli_parse_double(const char *s, double *out)
{
	return np_double(s, (size_t)-1, out);
}

int cli_model_opt(const char *cmd, int c, const char *arg, cli_model_args *a, mem_config *cfg,
		  int *status)
{
	fs_err err = {0};

	switch (c) {
	case 'g': a->gpu = arg; return 1;
	case 'm': a->model = arg; return 1;
	case 't':
		if (cli_parse_int(arg, &cfg->tp) || cfg->tp <= 0) {
			*status = cli_usage_error("%s: --tp must be a positive integer, got '%s'", cmd, arg);
			return -1;
		}
		return 1;
	case 'p':
	case 'k':
		if (prec_parse(arg, c == 'p' ? &cfg->weights : &cfg->kv, &err)) {
			*status = cli_report(&err);
			return -1;
		}
		return 1;
	}
	return 0;
}

void cli_scenario_warnings(const char *path, const char *const *sets, int nsets)
{
	scenario *sc = NULL;
	fs_err err = {0};

	if (scenario_load(path, sets, nsets, &sc, &err))
		return;
	for (int i = 0; i < sc->nwarnings; i++)
		fprintf(stderr, "fleetsim: warning: %s\n", sc->warnings[i]);
	{
		/* How the traces' timestamps were read (unit detected, absolute times
		 * re-based): one line per trace.  Errors are left to the run itself. */
		char notes[2048], *line, *save = NULL;

		if (workload_time_notes(&sc->workload, notes, sizeof notes, &err) == 0)
			for (line = strtok_r(notes, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				fprintf(stderr, "fleetsim: note: %s\n", line);
	}
	scenario_free(sc);
}
