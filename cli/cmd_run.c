/*
 * cmd_run.c - `fleetsim run`: the options and the printing; the use case itself (replay
 * the scenario's workload on every policy, write the results to SQLite, draw plots,
 * compare) is libfleetsim's fsim_run_file (api/fleetsim.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fleetsim/fleetsim.h"
#include "util/numparse.h"

static const char usage_text[] =
	"usage: fleetsim run SCENARIO.yaml [options]\n"
	"\n"
	"Replay the scenario's workload on each of its policies (fleet layouts) and\n"
	"record what every request experienced.\n"
	"\n"
	"  --db FILE          results database, created or appended (default results.db)\n"
	"  --plots DIR        draw TTFT CDFs and KV / queue time series into DIR (PNG+SVG)\n"
	"  --set KEY=VALUE    override a scenario key, e.g. --set policies.0.pools.0.replicas=8\n"
	"                     (repeatable; the value is YAML)\n"
	"  --seed N           override the scenario's seed\n"
	"  --requests         also store one row per request in the `requests` table\n"
	"  --policy NAME      run only this policy (repeatable)\n"
	"  --no-drain         stop at the trace's last arrival; requests in flight are\n"
	"                     reported as unfinished\n"
	"  --check            verify the engine's invariants after every step (slower)\n"
	"  --reference        use the step-by-step reference engine instead of the exact\n"
	"                     fast path (same results, slower; FLEETSIM_REFERENCE=1 too)\n"
	"  --json             print the fleet-wide results as one JSON object\n"
	"  -q, --quiet        no summary table\n"
	"  -h, --help         this text\n";

struct progress {
	int tty;
	const char *policy; /* the last one reported */
};

static void show_progress(void *ctx, const char *policy, double sim_s, int64_t arrived)
{
	struct progress *p = ctx;

	if (p->tty && p->policy && strcmp(p->policy, policy))
		fputs("\r\033[K", stderr);
	p->policy = policy;
	if (p->tty)
		fprintf(stderr, "\r  %-16s simulated %9.1f s, %10lld requests", p->policy, sim_s,
			(long long)arrived);
}

static void fmt_s(char *buf, size_t cap, double v)
{
	if (v < 0)
		snprintf(buf, cap, "-");
	else if (v < 1.0)
		snprintf(buf, cap, "%.1fms", v * 1e3);
	else
		snprintf(buf, cap, "%.2fs", v);
}

static void print_row(const fsim_summary *s)
{
	char t50[16], t99[16], p99[16];

	fmt_s(t50, sizeof t50, s->ttft_p50_s);
	fmt_s(t99, sizeof t99, s->ttft_p99_s);
	fmt_s(p99, sizeof p99, s->tpot_p99_s);
	printf("%-14s %-10s %5d %6.1f%% %9lld %8lld %8lld %9.4f %9s %9s %9s %9.2f\n", s->policy, s->pool,
	       s->gpus, 100.0 * s->traffic_share, (long long)s->completed, (long long)s->rejected,
	       (long long)s->misroutes, s->preemptions_per_request, t50, t99, p99, s->gpu_hours);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},     {"plots", required_argument, NULL, 'p'},
		{"set", required_argument, NULL, 's'},    {"seed", required_argument, NULL, 'S'},
		{"requests", no_argument, NULL, 'r'},     {"no-drain", no_argument, NULL, 'n'},
		{"check", no_argument, NULL, 'c'},        {"reference", no_argument, NULL, 'R'},
		{"json", no_argument, NULL, 'j'},         {"quiet", no_argument, NULL, 'q'},
		{"policy", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char **sets = NULL, **only = NULL;
	int json = 0, quiet = 0, c, status = FS_EXIT_OK;
	struct progress pr = {isatty(2), NULL};
	fsim_options o;
	fsim_run *r = NULL;
	char msg[1024];

	fsim_options_init(&o);
	o.db_path = "results.db";
	o.reference = getenv("FLEETSIM_REFERENCE") && !strcmp(getenv("FLEETSIM_REFERENCE"), "1");
	sets = calloc((size_t)argc, sizeof *sets);
	only = calloc((size_t)argc, sizeof *only);
	if (!sets || !only) {
		free(sets);
		free(only);
		return cli_usage_error("out of memory");
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o.db_path = optarg; break;
		case 'p': o.plots_dir = optarg; break;
		case 's': sets[o.nsets++] = optarg; break;
		case 'P': only[o.npolicies++] = optarg; break;
		case 'S':
			if (np_i64(optarg, (size_t)-1, &o.seed) || o.seed < 0) {
				status = cli_usage_error("run: --seed wants a non-negative integer, got '%s'", optarg);
				goto out;
			}
			break;
		case 'r': o.with_requests = 1; break;
		case 'n': o.drain = 0; break;
		case 'c': o.check_invariants = 1; break;
		case 'R': o.reference = 1; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); goto out;
		default:
			fputs(usage_text, stderr);
			status = FS_EXIT_INPUT;
			goto out;
		}
	}
	if (optind != argc - 1) {
		status = cli_usage_error("run: expected one SCENARIO.yaml (see 'fleetsim run --help')");
		goto out;
	}
	o.sets = sets;
	o.policies = only;
	o.progress = show_progress;
	o.progress_ctx = &pr;
	cli_scenario_warnings(argv[optind], sets, o.nsets);
	status = fsim_run_file(argv[optind], &o, &r, msg, sizeof msg);
	if (pr.tty && pr.policy)
		fputs("\r\033[K", stderr);
	if (status) {
		fprintf(stderr, "fleetsim: %s\n", msg);
		goto out;
	}
	for (int i = 0; i < fsim_policy_count(r); i++) {
		fsim_summary s;

		if (fsim_bad_rows(r, i) > 0 && fsim_summary_get(r, i, -1, &s) == 0)
			fprintf(stderr, "fleetsim: warning: %s: %lld bad trace rows skipped (skip_bad_rows)\n",
				s.policy, (long long)fsim_bad_rows(r, i));
	}
	if (json) {
		char *text = fsim_run_json(r);

		status = !text || puts(text) == EOF ? FS_EXIT_RUNTIME : FS_EXIT_OK;
		free(text);
	} else if (!quiet) {
		char *cmp = fsim_run_comparison_text(r);

		printf("scenario %s, seed %llu -> %s\n", fsim_scenario_name(r), (unsigned long long)fsim_seed(r),
		       o.db_path);
		printf("%-14s %-10s %5s %7s %9s %8s %8s %9s %9s %9s %9s %9s\n", "policy", "pool", "GPUs",
		       "share", "completed", "rejected", "misroute", "preempt/r", "TTFT p50", "TTFT p99",
		       "TPOT p99", "GPU-hours");
		for (int i = 0; i < fsim_policy_count(r); i++) {
			fsim_summary s;

			if (fsim_pool_count(r, i) > 1)
				for (int k = 0; k < fsim_pool_count(r, i); k++)
					if (fsim_summary_get(r, i, k, &s) == 0)
						print_row(&s);
			if (fsim_summary_get(r, i, -1, &s) == 0)
				print_row(&s);
		}
		for (int i = 0; i < fsim_policy_count(r); i++) {
			char reason[256];
			int pass = 0, rc = fsim_slo_verdict(r, i, &pass, reason, sizeof reason);
			fsim_summary s;

			if (rc)
				status = FS_EXIT_RUNTIME;
			else if (pass >= 0 && fsim_summary_get(r, i, -1, &s) == 0)
				printf("SLO %s: %s%s%s\n", s.policy, pass ? "pass" : "FAIL", pass ? "" : ": ",
				       pass ? "" : reason);
		}
		if (!cmp)
			status = FS_EXIT_RUNTIME;
		else
			fputs(cmp, stdout);
		free(cmp);
		if (ferror(stdout))
			status = FS_EXIT_RUNTIME;
	}
out:
	fsim_run_free(r);
	free(sets);
	free(only);
	return status;
}
