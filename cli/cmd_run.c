/*
 * cmd_run.c - `fleetsim run`: replay the scenario's workload on every policy (the same
 * request stream each time), write the results to SQLite, print a summary table and
 * optionally draw plots.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "reports/compare.h"
#include "reports/db.h"
#include "reports/plot.h"
#include "reports/results.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "traces/workload.h"
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
	const char *policy;
};

static void show_progress(void *ctx, double sim_s, int64_t arrived)
{
	struct progress *p = ctx;

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

static void print_row(const char *policy, const metrics_summary *s)
{
	char t50[16], t99[16], p99[16];

	fmt_s(t50, sizeof t50, s->ttft_p50_s);
	fmt_s(t99, sizeof t99, s->ttft_p99_s);
	fmt_s(p99, sizeof p99, s->tpot_p99_s);
	printf("%-14s %-10s %5d %6.1f%% %9lld %8lld %8lld %9.4f %9s %9s %9s %9.2f\n", policy, s->pool,
	       s->gpus, 100.0 * s->traffic_share, (long long)s->completed, (long long)s->rejected,
	       (long long)s->misroutes, s->preemptions_per_request, t50, t99, p99, s->gpu_hours);
}

static void fill_cmp_run(const scenario *sc, int i, const runner_result *po, cmp_run *r)
{
	r->pol = &sc->policies[i];
	r->fleet = &po[i].fleet;
	r->pools = po[i].pools;
	r->req = NULL;
	r->brf = metrics_briefs(po[i].m, &r->nreq);
}

/* Index of the first balance policy (the baseline), or -1. */
static int baseline_index(const scenario *sc)
{
	for (int i = 0; i < sc->npolicies; i++)
		if (sc->policies[i].router.type == ROUTER_BALANCE)
			return i;
	return -1;
}

/* Compare every token_budget policy with the baseline; fills cmp[i] and ok[i]. A
 * policy that cannot be compared (no short request) is skipped, not an error. */
static void compare_all(const scenario *sc, const runner_result *po, cmp_result *cmp, int *ok)
{
	int b = baseline_index(sc);
	cmp_run base, dual;

	for (int i = 0; i < sc->npolicies; i++) {
		fs_err e = {0};
		ok[i] = 0;
		if (b < 0 || sc->policies[i].router.type != ROUTER_TOKEN_BUDGET)
			continue;
		fill_cmp_run(sc, b, po, &base);
		fill_cmp_run(sc, i, po, &dual);
		ok[i] = cmp_policies(&base, &dual, &cmp[i], &e) == 0;
	}
}

static void print_cmp(const char *name, const char *base, const cmp_result *c)
{
	char pr[64];

	if (c->ppr_base <= 0 && c->ppr_dual <= 0)
		snprintf(pr, sizeof pr, "%s", "none in either");
	else if (c->preempt_ratio < 0)
		snprintf(pr, sizeof pr, "%.4f/request -> none", c->ppr_base);
	else
		snprintf(pr, sizeof pr, "%.4f -> %.4f/request", c->ppr_base, c->ppr_dual);
	printf("%s vs %s: alpha %.3f, rho %.2f (%.3f vs %.3f req/s/GPU) -> closed-form saving %.1f%% "
	       "(work-weighted %.1f%%, %.1f GPUs for the baseline's capacity); simulated GPU-hours saving "
	       "%.1f%%, busy-GPU saving %.1f%%; preemptions %s; P99 TTFT %+.1f%%, short-request P99 TTFT "
	       "%+.1f%%; %lld mis-routes\n",
	       name, base, c->alpha, c->rho, c->mu_short_rps_gpu, c->mu_long_rps_gpu,
	       100 * c->saving_closed, 100 * c->saving_closed_work, c->gpus_closed, 100 * c->saving_sim,
	       100 * c->saving_busy, pr, 100 * c->ttft_p99_change, 100 * c->short_ttft_p99_change,
	       (long long)c->misroutes);
}

static cJSON *cmp_json(const char *base, const cmp_result *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "baseline", base);
	cJSON_AddNumberToObject(o, "threshold_tokens", (double)c->threshold);
	cJSON_AddNumberToObject(o, "alpha", c->alpha);
	cJSON_AddNumberToObject(o, "alpha_work", c->alpha_work);
	cJSON_AddNumberToObject(o, "rho", c->rho);
	cJSON_AddNumberToObject(o, "mu_short_rps_per_gpu", c->mu_short_rps_gpu);
	cJSON_AddNumberToObject(o, "mu_long_rps_per_gpu", c->mu_long_rps_gpu);
	cJSON_AddNumberToObject(o, "mu_long_on_long_rps_per_gpu", c->mu_long_long_rps_gpu);
	cJSON_AddNumberToObject(o, "saving_closed_form", c->saving_closed);
	cJSON_AddNumberToObject(o, "saving_closed_form_work", c->saving_closed_work);
	cJSON_AddNumberToObject(o, "gpus_closed_form", c->gpus_closed);
	cJSON_AddNumberToObject(o, "saving_simulated_gpu_hours", c->saving_sim);
	cJSON_AddNumberToObject(o, "saving_simulated_busy", c->saving_busy);
	if (c->preempt_ratio >= 0)
		cJSON_AddNumberToObject(o, "preemptions_ratio", c->preempt_ratio);
	else
		cJSON_AddNullToObject(o, "preemptions_ratio");
	cJSON_AddNumberToObject(o, "preemptions_per_request_base", c->ppr_base);
	cJSON_AddNumberToObject(o, "preemptions_per_request", c->ppr_dual);
	cJSON_AddNumberToObject(o, "ttft_p99_change", c->ttft_p99_change);
	cJSON_AddNumberToObject(o, "short_ttft_p99_base_s", c->short_ttft_p99_base_s);
	cJSON_AddNumberToObject(o, "short_ttft_p99_s", c->short_ttft_p99_dual_s);
	cJSON_AddNumberToObject(o, "short_ttft_p99_change", c->short_ttft_p99_change);
	cJSON_AddNumberToObject(o, "misroutes", (double)c->misroutes);
	return o;
}

static cJSON *summary_json(const metrics_summary *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "pool", s->pool);
	cJSON_AddStringToObject(o, "gpu", s->gpu);
	cJSON_AddNumberToObject(o, "gpus", s->gpus);
	cJSON_AddNumberToObject(o, "replicas", s->replicas);
	cJSON_AddNumberToObject(o, "requests", (double)s->requests);
	cJSON_AddNumberToObject(o, "completed", (double)s->completed);
	cJSON_AddNumberToObject(o, "rejected", (double)s->rejected);
	cJSON_AddNumberToObject(o, "unfinished", (double)s->unfinished);
	cJSON_AddNumberToObject(o, "preemptions", (double)s->preemptions);
	cJSON_AddNumberToObject(o, "preemptions_per_request", s->preemptions_per_request);
	cJSON_AddNumberToObject(o, "traffic_share", s->traffic_share);
	cJSON_AddNumberToObject(o, "misroutes", (double)s->misroutes);
	cJSON_AddNumberToObject(o, "ttft_p50_s", s->ttft_p50_s);
	cJSON_AddNumberToObject(o, "ttft_p99_s", s->ttft_p99_s);
	cJSON_AddNumberToObject(o, "tpot_p50_s", s->tpot_p50_s);
	cJSON_AddNumberToObject(o, "tpot_p99_s", s->tpot_p99_s);
	cJSON_AddNumberToObject(o, "e2e_p99_s", s->e2e_p99_s);
	cJSON_AddNumberToObject(o, "throughput_rps", s->throughput_rps);
	cJSON_AddNumberToObject(o, "output_tps", s->output_tps);
	cJSON_AddNumberToObject(o, "makespan_s", s->makespan_s);
	cJSON_AddNumberToObject(o, "gpu_busy_s", s->gpu_busy_s);
	cJSON_AddNumberToObject(o, "gpu_hours", s->gpu_hours);
	cJSON_AddNumberToObject(o, "kv_usage_mean", s->kv_usage_mean);
	cJSON_AddNumberToObject(o, "kv_usage_max", s->kv_usage_max);
	cJSON_AddNumberToObject(o, "slo_attainment", s->slo_attainment);
	cJSON_AddNumberToObject(o, "goodput_rps", s->goodput_rps);
	cJSON_AddNumberToObject(o, "steps", (double)s->steps);
	return o;
}

static int draw_plots(const char *dir, const scenario *sc, runner_result *po, fs_err *err)
{
	const char *names[SCENARIO_MAX_POLICIES];
	double *ttft[SCENARIO_MAX_POLICIES] = {0};
	size_t counts[SCENARIO_MAX_POLICIES];
	int rc = -1;

	for (int i = 0; i < sc->npolicies; i++) {
		names[i] = sc->policies[i].name;
		counts[i] = 0;
		if (metrics_values(po[i].m, -1, MX_TTFT, &ttft[i], &counts[i])) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
	}
	if (plot_ttft_cdf(dir, sc->npolicies, names, (const double *const *)ttft, counts, err))
		goto out;
	for (int i = 0; i < sc->npolicies; i++) {
		const policy_cfg *pc = &sc->policies[i];
		const char *pn[FS_MAX_POOLS + 1];
		size_t nts;
		const mx_sample *ts = metrics_samples(po[i].m, &nts);
		for (int p = 0; p < pc->npools; p++)
			pn[p] = pc->pools[p].name;
		pn[pc->npools] = NULL;
		if (plot_timeseries(dir, pc->name, ts, nts, pc->npools, pn, err))
			goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < sc->npolicies; i++)
		free(ttft[i]);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},     {"plots", required_argument, NULL, 'p'},
		{"set", required_argument, NULL, 's'},    {"seed", required_argument, NULL, 'S'},
		{"requests", no_argument, NULL, 'r'},     {"no-drain", no_argument, NULL, 'n'},
		{"check", no_argument, NULL, 'c'},        {"reference", no_argument, NULL, 'R'},        {"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},        {"policy", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *dbpath = "results.db", *plots = NULL, **sets = NULL, **only = NULL;
	int nsets = 0, nonly = 0, with_requests = 0, drain = -1, check = 0, json = 0, quiet = 0;
	int reference = getenv("FLEETSIM_REFERENCE") && !strcmp(getenv("FLEETSIM_REFERENCE"), "1");
	int64_t seed = -1;
	scenario *sc = NULL;
	db *d = NULL;
	runner_result *po = NULL;
	cmp_result *cmp = NULL;
	int *cmp_ok = NULL;
	int64_t *run_ids = NULL;
	fs_err err = {0};
	int c, status = FS_EXIT_OK;
	time_t started = time(NULL);

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
		case 'd': dbpath = optarg; break;
		case 'p': plots = optarg; break;
		case 's': sets[nsets++] = optarg; break;
		case 'P': only[nonly++] = optarg; break;
		case 'S':
			if (np_i64(optarg, (size_t)-1, &seed) || seed < 0) {
				status = cli_usage_error("run: --seed wants a non-negative integer, got '%s'", optarg);
				goto out;
			}
			break;
		case 'r': with_requests = 1; break;
		case 'n': drain = 0; break;
		case 'c': check = 1; break;
		case 'R': reference = 1; break;
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
	if (scenario_load(argv[optind], sets, nsets, &sc, &err))
		goto fail;
	if (seed >= 0)
		sc->seed = (uint64_t)seed;
	if (drain >= 0)
		sc->drain = drain;
	for (int k = 0; k < nonly; k++) {
		int found = 0;
		for (int i = 0; i < sc->npolicies; i++)
			found |= !strcmp(sc->policies[i].name, only[k]);
		if (!found) {
			status = cli_usage_error("run: %s has no policy '%s'", sc->path, only[k]);
			goto out;
		}
	}
	if (nonly) {
		int w = 0;
		for (int i = 0; i < sc->npolicies; i++) {
			int keep = 0;
			for (int k = 0; k < nonly; k++)
				keep |= !strcmp(sc->policies[i].name, only[k]);
			if (keep)
				sc->policies[w++] = sc->policies[i];
		}
		sc->npolicies = w;
	}
	/* Open the database first: a read-only or locked file should fail before an
	 * hour of simulation, not after. */
	if (db_open(dbpath, &d, &err))
		goto fail;
	po = calloc((size_t)sc->npolicies, sizeof *po);
	run_ids = calloc((size_t)sc->npolicies, sizeof *run_ids);
	if (!po || !run_ids) {
		fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	for (int i = 0; i < sc->npolicies; i++) {
		struct progress pr = {isatty(2), sc->policies[i].name};
		runner_opts ro = {.with_requests = with_requests, .check_invariants = check,
				  .reference = reference,
				  .progress = show_progress, .progress_ctx = &pr};
		results_opts wo = {.with_requests = with_requests, .started_at = started};
		if (runner_run_policy(sc, i, &ro, &po[i], &err))
			goto fail;
		if (pr.tty)
			fputs("\r\033[K", stderr);
		if (po[i].bad_rows > 0)
			fprintf(stderr, "fleetsim: warning: %s: %lld bad trace rows skipped (skip_bad_rows)\n",
				sc->policies[i].name, (long long)po[i].bad_rows);
		if (results_write_run(d, sc, &po[i], &wo, &run_ids[i], &err))
			goto fail;
	}
	if (plots && draw_plots(plots, sc, po, &err))
		goto fail;
	cmp = calloc((size_t)sc->npolicies, sizeof *cmp);
	cmp_ok = calloc((size_t)sc->npolicies, sizeof *cmp_ok);
	if (!cmp || !cmp_ok) {
		fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	compare_all(sc, po, cmp, cmp_ok);
	if (json) {
		cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "policies");
		cJSON_AddStringToObject(o, "scenario", sc->name);
		cJSON_AddStringToObject(o, "db", dbpath);
		cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
		for (int i = 0; i < sc->npolicies; i++) {
			cJSON *p = cJSON_CreateObject(), *pools = cJSON_CreateArray();
			cJSON_AddStringToObject(p, "policy", sc->policies[i].name);
			cJSON_AddNumberToObject(p, "run_id", (double)run_ids[i]);
			cJSON_AddNumberToObject(p, "wall_s", po[i].wall_s);
			{
				/* How the fast path ran (not a result: --reference gives zeros). */
				cJSON *fp = cJSON_AddObjectToObject(p, "fast_path");

				cJSON_AddNumberToObject(fp, "macro_steps", (double)po[i].res.macro_steps);
				cJSON_AddNumberToObject(fp, "explicit", (double)po[i].res.macro_explicit);
				cJSON_AddNumberToObject(fp, "tie_hits", (double)po[i].res.tie_hits);
				cJSON_AddNumberToObject(fp, "cuts", (double)po[i].res.macro_cuts);
			}
			cJSON_AddItemToObject(p, "fleet", summary_json(&po[i].fleet));
			for (int k = 0; k < sc->policies[i].npools; k++)
				cJSON_AddItemToArray(pools, summary_json(&po[i].pools[k]));
			cJSON_AddItemToObject(p, "pools", pools);
			if (cmp_ok[i])
				cJSON_AddItemToObject(p, "vs_baseline",
						      cmp_json(sc->policies[baseline_index(sc)].name, &cmp[i]));
			cJSON_AddItemToArray(arr, p);
		}
		status = cli_print_json(o);
	} else if (!quiet) {
		printf("scenario %s, seed %llu -> %s\n", sc->name, (unsigned long long)sc->seed, dbpath);
		printf("%-14s %-10s %5s %7s %9s %8s %8s %9s %9s %9s %9s %9s\n", "policy", "pool", "GPUs",
		       "share", "completed", "rejected", "misroute", "preempt/r", "TTFT p50", "TTFT p99",
		       "TPOT p99", "GPU-hours");
		for (int i = 0; i < sc->npolicies; i++) {
			if (sc->policies[i].npools > 1)
				for (int k = 0; k < sc->policies[i].npools; k++)
					print_row(sc->policies[i].name, &po[i].pools[k]);
			print_row(sc->policies[i].name, &po[i].fleet);
		}
		for (int i = 0; i < sc->npolicies; i++)
			if (cmp_ok[i])
				print_cmp(sc->policies[i].name, sc->policies[baseline_index(sc)].name, &cmp[i]);
	}
	goto out;
fail:
	status = cli_report(&err);
out:
	if (po)
		for (int i = 0; sc && i < sc->npolicies; i++)
			runner_result_free(&po[i]);
	free(po);
	free(cmp);
	free(cmp_ok);
	free(run_ids);
	db_close(d);
	scenario_free(sc);
	free(sets);
	free(only);
	return status;
}
