/*
 * cmd_sweep.c - `fleetsim sweep`: run a scenario over the cartesian product of
 * parameter values on a thread pool (or MPI ranks under mpirun/srun) into one SQLite
 * file; --resume completes an interrupted sweep.
 */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "reports/sweep.h"
#include "traces/tcache.h"
#include "util/numparse.h"

static const char usage_text[] =
	"usage: fleetsim sweep SCENARIO.yaml --param KEY=VALUES [--param ...] [options]\n"
	"\n"
	"Run every policy of the scenario at each point of the cartesian product of the\n"
	"parameter values; one SQLite file gets every run, tagged in `sweeps` with its point.\n"
	"\n"
	"  --param KEY=VALUES  an axis: KEY is a scenario path as for --set, VALUES is\n"
	"                      v1,v2,... or START:STOP:xFACTOR (512:16384:x2) or\n"
	"                      START:STOP:+STEP (0.1:1.0:+0.1); repeatable.  Axes may also\n"
	"                      come from a top-level `sweep:` mapping in the scenario file\n"
	"                      (KEY: [values] or KEY: \"START:STOP:xF\"); --param overrides it\n"
	"  --jobs N            worker threads (default: number of cores)\n"
	"  --db FILE           results database, created or appended (default results.db)\n"
	"  --resume            continue the latest sweep of this scenario and grid in FILE:\n"
	"                      run only the points it lacks; refused (exit 2) when the\n"
	"                      scenario or a file it reads (trace, GPU YAML, config.json)\n"
	"                      changed since, and while another process runs that sweep\n"
	"  --set KEY=VALUE     override a scenario key at every point (repeatable)\n"
	"  --seed N            override the scenario's seed\n"
	"  --requests          also store one row per request (large)\n"
	"  --json              print a summary as one JSON object\n"
	"  -q, --quiet         no summary line\n"
	"  -h, --help          this text\n"
	"\n"
	"Under an MPI launcher (mpirun -n R, srun) rank 0 writes the database and hands\n"
	"points to the other ranks one at a time; results are the same as a local sweep.\n"
	"The scenario file is read once at the start; editing it mid-sweep changes nothing.\n"
	"Writers wait up to FLEETSIM_DB_BUSY_TIMEOUT_S (default 600) seconds for a busy FILE.\n";

struct bar {
	int tty;
};

static void fmt_dur(char *buf, size_t cap, double s)
{
	if (s < 0)
		snprintf(buf, cap, "?");
	else if (s < 60)
		snprintf(buf, cap, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
	else
		snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void show_progress(void *ctx, const sweep_progress *p)
{
	struct bar *b = ctx;
	char eta[32], bar[31];
	int fill;

	if (!b->tty)
		return;
	fill = p->total ? (int)(30 * p->done / p->total) : 30;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	fmt_dur(eta, sizeof eta, p->eta_s);
	fprintf(stderr, "\r\033[K[%s] %lld/%lld points, ETA %s%s%.120s", bar, (long long)p->done,
		(long long)p->total, eta, p->best ? ", best " : "", p->best ? p->best : "");
}

int cmd_sweep(int argc, char **argv)
{
	static const struct option opts[] = {
		{"param", required_argument, NULL, 'p'}, {"jobs", required_argument, NULL, 'J'},
		{"db", required_argument, NULL, 'd'},    {"resume", no_argument, NULL, 'R'},
		{"set", required_argument, NULL, 's'},   {"seed", required_argument, NULL, 'S'},
		{"requests", no_argument, NULL, 'r'},    {"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *dbpath = "results.db", **sets = NULL, **params = NULL;
	int nsets = 0, nparams = 0, json = 0, quiet = 0, c, status = FS_EXIT_OK;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	sweep_grid g = {.npoints = 1};
	sweep_cfg cfg = {.seed = -1, .jobs = cores > 0 ? (int)cores : 1, .db_path = "results.db"};
	sweep_stats st;
	struct bar bar = {0};
	fs_err err = {0};
	char *text = NULL;
	int64_t v;

	sets = calloc((size_t)argc, sizeof *sets);
	params = calloc((size_t)argc, sizeof *params);
	if (!sets || !params) {
		free(sets);
		free(params);
		return cli_usage_error("out of memory");
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': params[nparams++] = optarg; break;
		case 'd': dbpath = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'R': cfg.resume = 1; break;
		case 'r': cfg.with_requests = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'J':
			if (np_i64(optarg, (size_t)-1, &v) || v < 1 || v > 4096) {
				status = cli_usage_error("sweep: --jobs wants an integer 1..4096, got '%s'", optarg);
				goto out;
			}
			cfg.jobs = (int)v;
			break;
		case 'S':
			if (np_i64(optarg, (size_t)-1, &v) || v < 0) {
				status = cli_usage_error("sweep: --seed wants a non-negative integer, got '%s'", optarg);
				goto out;
			}
			cfg.seed = v;
			break;
		case 'h':
			fputs(usage_text, stdout);
#ifdef FLEETSIM_HAVE_MPI
			puts("This build: MPI sweeps available.");
#else
			puts("This build: MPI sweeps not built in (configure with -DFLEETSIM_MPI=ON).");
#endif
			goto out;
		default:
			fputs(usage_text, stderr);
			status = FS_EXIT_INPUT;
			goto out;
		}
	}
	if (optind != argc - 1) {
		status = cli_usage_error("sweep: expected one SCENARIO.yaml (see 'fleetsim sweep --help')");
		goto out;
	}
	cfg.scenario_path = argv[optind];
	/* Read the scenario once: the grid and every point come from this text, so editing
	 * the file while the sweep runs cannot mix configurations within one sweep. */
	if (sweep_read_scenario(cfg.scenario_path, &text, &cfg.scenario_len, &err))
		goto fail;
	cfg.scenario_text = text;
	if (sweep_grid_from_text(&g, cfg.scenario_path, text, cfg.scenario_len, &err))
		goto fail;
	for (int i = 0; i < nparams; i++)
		if (sweep_grid_add(&g, params[i], &err))
			goto fail;
	if (g.nparams == 0) {
		status = cli_usage_error("sweep: no parameters: give --param KEY=VALUES or a sweep: block in %s",
					 cfg.scenario_path);
		goto out;
	}
	cfg.sets = sets;
	cfg.nsets = nsets;
	cli_scenario_warnings(cfg.scenario_path, sets, nsets);
	cfg.grid = &g;
	cfg.db_path = dbpath;
	bar.tty = isatty(2);
	cfg.progress = show_progress;
	cfg.progress_ctx = &bar;
	/* Every point replays the same trace files: decode them once (traces/tcache.h). */
	tcache_enable(TCACHE_DEFAULT_BYTES);
	if (sweep_run(&cfg, &st, &err)) {
		if (bar.tty)
			fputs("\r\033[K", stderr);
		/* Worker ranks stay quiet: the coordinator reports the failure once. */
		if (st.worker) {
			status = FS_EXIT_RUNTIME;
			goto out;
		}
		goto fail;
	}
	if (bar.tty)
		fputs("\r\033[K", stderr);
	if (st.worker)
		goto out;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "sweep_id", (double)st.sweep_id);
		cJSON_AddStringToObject(o, "db", dbpath);
		cJSON_AddStringToObject(o, "grid_hash", st.hash);
		cJSON_AddNumberToObject(o, "points", (double)st.npoints);
		cJSON_AddNumberToObject(o, "points_run", (double)st.ran);
		cJSON_AddNumberToObject(o, "points_skipped", (double)st.skipped);
		cJSON_AddNumberToObject(o, "runs_written", (double)st.runs);
		cJSON_AddBoolToObject(o, "resumed", st.resumed);
		cJSON_AddNumberToObject(o, "ranks", st.ranks);
		cJSON_AddNumberToObject(o, "jobs", st.ranks > 1 ? st.ranks - 1 : cfg.jobs);
		cJSON_AddNumberToObject(o, "wall_s", st.wall_s);
		cJSON_AddNumberToObject(o, "points_per_s", st.wall_s > 0 ? (double)st.ran / st.wall_s : 0);
		status = cli_print_json(o);
	} else if (!quiet) {
		printf("sweep %lld: %lld points (%lld run now, %lld already done), %lld runs written -> %s"
		       " in %.1f s\n",
		       (long long)st.sweep_id, (long long)st.npoints, (long long)st.ran,
		       (long long)st.skipped, (long long)st.runs, dbpath, st.wall_s);
	}
	goto out;
fail:
	status = cli_report(&err);
out:
	tcache_clear();
	sweep_grid_free(&g);
	free(text);
	free(sets);
	free(params);
	return status;
}
