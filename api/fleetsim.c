/*
 * fleetsim.c - libfleetsim's public API (include/fleetsim/fleetsim.h): the `run` use
 * case.  Load a scenario, replay its workload on each policy (the same request stream
 * each time), store every run in the results database, draw plots, compare each
 * token-budget policy with the baseline.  The command layer (cli/cmd_run.c) only
 * parses options and prints.
 */
#include "fleetsim/fleetsim.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/compare.h"
#include "reports/db.h"
#include "reports/plot.h"
#include "reports/results.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/metrics.h"
#include "util/outfile.h"

struct fsim_run {
	scenario *sc;
	char *db_path;       /* as given in the options, or NULL */
	runner_result *po;   /* one per policy of sc (after filtering) */
	int64_t *run_ids;
	cmp_result *cmp;
	int *cmp_ok;         /* cmp[i] is valid */
	int baseline;        /* index of the first balance policy, or -1 */
};

void fsim_options_init(fsim_options *o)
{
	memset(o, 0, sizeof *o);
	o->seed = -1;
	o->drain = -1;
}

/* The status of err, its message copied into buf. */
static int report(const fs_err *e, char *buf, size_t cap)
{
	if (cap)
		snprintf(buf, cap, "%s", e->msg);
	return e->status ? e->status : FSIM_ERR_RUNTIME;
}

void fsim_run_free(fsim_run *r)
{
	if (!r)
		return;
	if (r->po)
		for (int i = 0; r->sc && i < r->sc->npolicies; i++)
			runner_result_free(&r->po[i]);
	free(r->po);
	free(r->run_ids);
	free(r->cmp);
	free(r->cmp_ok);
	free(r->db_path);
	scenario_free(r->sc);
	free(r);
}

/* Keep only the policies named in o; an unknown name is an input error. */
static int filter_policies(scenario *sc, const fsim_options *o, fs_err *err)
{
	int w = 0;

	for (int k = 0; k < o->npolicies; k++) {
		int found = 0;

		for (int i = 0; i < sc->npolicies; i++)
			found |= !strcmp(sc->policies[i].name, o->policies[k]);
		if (!found)
			return fs_fail(err, FS_EXIT_INPUT, "%s has no policy '%s'", sc->path, o->policies[k]);
	}
	if (!o->npolicies)
		return 0;
	for (int i = 0; i < sc->npolicies; i++) {
		int keep = 0;

		for (int k = 0; k < o->npolicies; k++)
			keep |= !strcmp(sc->policies[i].name, o->policies[k]);
		if (keep)
			sc->policies[w++] = sc->policies[i];
	}
	sc->npolicies = w;
	return 0;
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
	if (plot_ttft_cdf_slo(dir, sc->npolicies, names, (const double *const *)ttft, counts, sc->slo.ttft_p99_s, err))
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

static void fill_cmp_run(const fsim_run *r, int i, cmp_run *c)
{
	c->pol = &r->sc->policies[i];
	c->fleet = &r->po[i].fleet;
	c->pools = r->po[i].pools;
	c->req = NULL;
	c->brf = metrics_briefs(r->po[i].m, &c->nreq);
}

/* Compare every token_budget policy with the baseline (the first balance policy).
 * A policy that cannot be compared (no short request) is skipped, not an error. */
static void compare_all(fsim_run *r)
{
	cmp_run base, dual;

	r->baseline = -1;
	for (int i = 0; i < r->sc->npolicies && r->baseline < 0; i++)
		if (r->sc->policies[i].router.type == ROUTER_BALANCE)
			r->baseline = i;
	for (int i = 0; i < r->sc->npolicies; i++) {
		fs_err e = {0};

		r->cmp_ok[i] = 0;
		if (r->baseline < 0 || r->sc->policies[i].router.type != ROUTER_TOKEN_BUDGET)
			continue;
		fill_cmp_run(r, r->baseline, &base);
		fill_cmp_run(r, i, &dual);
		r->cmp_ok[i] = cmp_policies(&base, &dual, &r->cmp[i], &e) == 0;
	}
}

struct progress_relay {
	const fsim_options *o;
	const char *policy;
};

static void relay_progress(void *ctx, double sim_s, int64_t arrived)
{
	struct progress_relay *p = ctx;

	p->o->progress(p->o->progress_ctx, p->policy, sim_s, arrived);
}

/* 1 when path is the scenario file or one of the traces it reads. */
static int writes_input(const char *path, const scenario *sc)
{
	if (of_same_file(path, sc->path) || of_same_file(path, sc->workload.src.trace))
		return 1;
	for (int i = 0; i < sc->workload.n_mix; i++)
		if (of_same_file(path, sc->workload.mix[i].trace))
			return 1;
	return 0;
}

/* Run every policy of the loaded scenario r->sc (ownership taken). */
static int run_loaded(fsim_run *r, const fsim_options *o, fs_err *err)
{
	scenario *sc = r->sc;
	db *d = NULL;
	time_t started = time(NULL);
	int rc = -1;

	if (o->seed >= 0)
		sc->seed = (uint64_t)o->seed;
	if (o->drain >= 0)
		sc->drain = o->drain;
	if (filter_policies(sc, o, err))
		return -1;
	/* Outputs first: a read-only or locked database, an unwritable plots directory or
	 * a database that is one of the inputs should fail before an hour of simulation,
	 * not after. */
	if (o->db_path && writes_input(o->db_path, sc))
		return fs_fail(err, FS_EXIT_INPUT, "%s: the results database would overwrite an input of %s",
			       o->db_path, sc->path);
	if (o->plots_dir && of_prepare_dir(o->plots_dir, err))
		return -1;
	if (o->db_path && (!(r->db_path = strdup(o->db_path)) || db_open(o->db_path, &d, err))) {
		if (!r->db_path)
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		return -1;
	}
	r->po = calloc((size_t)sc->npolicies, sizeof *r->po);
	r->run_ids = calloc((size_t)sc->npolicies, sizeof *r->run_ids);
	r->cmp = calloc((size_t)sc->npolicies, sizeof *r->cmp);
	r->cmp_ok = calloc((size_t)sc->npolicies, sizeof *r->cmp_ok);
	if (!r->po || !r->run_ids || !r->cmp || !r->cmp_ok) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	for (int i = 0; i < sc->npolicies; i++) {
		struct progress_relay pr = {o, sc->policies[i].name};
		runner_opts ro = {.with_requests = o->with_requests, .check_invariants = o->check_invariants,
				  .reference = o->reference, .progress = o->progress ? relay_progress : NULL,
				  .progress_ctx = &pr};
		results_opts wo = {.with_requests = o->with_requests, .started_at = started};

		if (runner_run_policy(sc, i, &ro, &r->po[i], err))
			goto out;
		if (d && results_write_run(d, sc, &r->po[i], &wo, &r->run_ids[i], err))
			goto out;
	}
	if (o->plots_dir && draw_plots(o->plots_dir, sc, r->po, err))
		goto out;
	compare_all(r);
	rc = 0;
out:
	db_close(d);
	return rc;
}

int fsim_run_file(const char *path, const fsim_options *o, fsim_run **out, char *errbuf, size_t errcap)
{
	fsim_run *r = calloc(1, sizeof *r);
	fs_err err = {0};

	*out = NULL;
	if (!r) {
		fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
		return report(&err, errbuf, errcap);
	}
	if (scenario_load(path, o->sets, o->nsets, &r->sc, &err) || run_loaded(r, o, &err)) {
		fsim_run_free(r);
		return report(&err, errbuf, errcap);
	}
	*out = r;
	return FSIM_OK;
}

int fsim_run_yaml(const char *name, const char *yaml, size_t len, const char *base_dir,
		  const fsim_options *o, fsim_run **out, char *errbuf, size_t errcap)
{
	fsim_run *r = calloc(1, sizeof *r);
	fs_err err = {0};

	*out = NULL;
	if (!r) {
		fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
		return report(&err, errbuf, errcap);
	}
	if (scenario_load_string(name ? name : "(scenario)", yaml, len, base_dir, o->sets, o->nsets, &r->sc,
				 &err) ||
	    run_loaded(r, o, &err)) {
		fsim_run_free(r);
		return report(&err, errbuf, errcap);
	}
	*out = r;
	return FSIM_OK;
}

const char *fsim_scenario_name(const fsim_run *r)
{
	return r->sc->name;
}

uint64_t fsim_seed(const fsim_run *r)
{
	return r->sc->seed;
}

int fsim_policy_count(const fsim_run *r)
{
	return r->sc->npolicies;
}

int fsim_pool_count(const fsim_run *r, int i)
{
	return i >= 0 && i < r->sc->npolicies ? r->sc->policies[i].npools : 0;
}

int64_t fsim_bad_rows(const fsim_run *r, int i)
{
	return i >= 0 && i < r->sc->npolicies ? r->po[i].bad_rows : 0;
}

int64_t fsim_run_id(const fsim_run *r, int i)
{
	return i >= 0 && i < r->sc->npolicies ? r->run_ids[i] : 0;
}

int fsim_summary_get(const fsim_run *r, int i, int p, fsim_summary *o)
{
	const metrics_summary *s;

	if (i < 0 || i >= r->sc->npolicies || p < -1 || p >= r->sc->policies[i].npools)
		return FSIM_ERR_INPUT;
	s = p < 0 ? &r->po[i].fleet : &r->po[i].pools[p];
	memset(o, 0, sizeof *o);
	o->policy = r->sc->policies[i].name;
	o->pool = s->pool;
	o->gpu = s->gpu;
	o->gpus = s->gpus;
	o->replicas = s->replicas;
	o->requests = s->requests;
	o->completed = s->completed;
	o->rejected = s->rejected;
	o->unfinished = s->unfinished;
	o->preemptions = s->preemptions;
	o->misroutes = s->misroutes;
	o->steps = s->steps;
	o->traffic_share = s->traffic_share;
	o->preemptions_per_request = s->preemptions_per_request;
	o->ttft_p50_s = s->ttft_p50_s;
	o->ttft_p99_s = s->ttft_p99_s;
	o->tpot_p50_s = s->tpot_p50_s;
	o->tpot_p99_s = s->tpot_p99_s;
	o->e2e_p99_s = s->e2e_p99_s;
	o->throughput_rps = s->throughput_rps;
	o->output_tps = s->output_tps;
	o->makespan_s = s->makespan_s;
	o->gpu_busy_s = s->gpu_busy_s;
	o->gpu_hours = s->gpu_hours;
	o->kv_usage_mean = s->kv_usage_mean;
	o->kv_usage_max = s->kv_usage_max;
	o->slo_attainment = s->slo_attainment;
	o->goodput_rps = s->goodput_rps;
	return FSIM_OK;
}

/* ---- JSON and text ---- */

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

/* The request and latency figures of a summary (a pool's, the fleet's or a category's). */
static void request_fields(cJSON *o, const metrics_summary *s)
{
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
	cJSON_AddNumberToObject(o, "slo_attainment", s->slo_attainment);
	cJSON_AddNumberToObject(o, "goodput_rps", s->goodput_rps);
}

static cJSON *summary_json(const metrics_summary *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "pool", s->pool);
	cJSON_AddStringToObject(o, "gpu", s->gpu);
	cJSON_AddNumberToObject(o, "gpus", s->gpus);
	cJSON_AddNumberToObject(o, "replicas", s->replicas);
	request_fields(o, s);
	cJSON_AddNumberToObject(o, "makespan_s", s->makespan_s);
	cJSON_AddNumberToObject(o, "gpu_busy_s", s->gpu_busy_s);
	cJSON_AddNumberToObject(o, "gpu_hours", s->gpu_hours);
	cJSON_AddNumberToObject(o, "kv_usage_mean", s->kv_usage_mean);
	cJSON_AddNumberToObject(o, "kv_usage_max", s->kv_usage_max);
	cJSON_AddNumberToObject(o, "steps", (double)s->steps);
	/* Power model (models/perf.h): energy over the makespan, idle included. */
	cJSON_AddNumberToObject(o, "energy_j", s->energy_j);
	cJSON_AddNumberToObject(o, "avg_power_w", s->avg_power_w);
	cJSON_AddNumberToObject(o, "utilisation", s->utilisation);
	cJSON_AddNumberToObject(o, "tokens_per_joule", s->tokens_per_joule);
	cJSON_AddNumberToObject(o, "energy_per_mtok_j", s->energy_per_mtok_j);
	return o;
}

int fsim_slo_verdict(const fsim_run *r, int i, int *pass, char *reason, size_t cap)
{
	mx_verdict v;

	if (i < 0 || i >= r->sc->npolicies)
		return FSIM_ERR_INPUT;
	if (cap)
		reason[0] = '\0';
	*pass = -1;
	if (!r->sc->slo_detail.present)
		return 0;
	if (runner_slo_verdict(r->sc, &r->po[i], -1, &v))
		return FSIM_ERR_RUNTIME;
	*pass = v.pass;
	if (cap)
		snprintf(reason, cap, "%s", v.reason);
	return 0;
}

/* The policy's object of fsim_run_json. */
static cJSON *policy_json(const fsim_run *r, int i)
{
	const runner_result *po = &r->po[i];
	cJSON *p = cJSON_CreateObject(), *pools = cJSON_CreateArray(), *fp;

	cJSON_AddStringToObject(p, "policy", r->sc->policies[i].name);
	cJSON_AddNumberToObject(p, "run_id", (double)r->run_ids[i]);
	cJSON_AddNumberToObject(p, "wall_s", po->wall_s);
	/* How the fast path ran (not a result: the reference engine gives zeros). */
	fp = cJSON_AddObjectToObject(p, "fast_path");
	cJSON_AddNumberToObject(fp, "macro_steps", (double)po->res.macro_steps);
	cJSON_AddNumberToObject(fp, "explicit", (double)po->res.macro_explicit);
	cJSON_AddNumberToObject(fp, "tie_hits", (double)po->res.tie_hits);
	cJSON_AddNumberToObject(fp, "cuts", (double)po->res.macro_cuts);
	cJSON_AddNumberToObject(fp, "passed", (double)po->res.macro_passed);
	cJSON_AddItemToObject(p, "fleet", summary_json(&po->fleet));
	for (int k = 0; k < r->sc->policies[i].npools; k++)
		cJSON_AddItemToArray(pools, summary_json(&po->pools[k]));
	cJSON_AddItemToObject(p, "pools", pools);
	/* Per workload category, by name (the first RUNNER_MAX_CATEGORIES). */
	if (po->ncats > 0) {
		cJSON *cats = cJSON_AddArrayToObject(p, "categories");
		for (int c = 0; c < po->ncats; c++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "category", metrics_category_name(po->m, c));
			request_fields(o, &po->cats[c]);
			cJSON_AddItemToArray(cats, o);
		}
	}
	if (r->cmp_ok[i])
		cJSON_AddItemToObject(p, "vs_baseline", cmp_json(r->sc->policies[r->baseline].name, &r->cmp[i]));
	{
		int pass = 0;
		char reason[sizeof ((mx_verdict *)0)->reason];

		if (fsim_slo_verdict(r, i, &pass, reason, sizeof reason) == 0 && pass >= 0) {
			cJSON *so = cJSON_AddObjectToObject(p, "slo");

			cJSON_AddBoolToObject(so, "pass", pass);
			cJSON_AddStringToObject(so, "reason", reason);
		}
	}
	return p;
}

char *fsim_run_json(const fsim_run *r)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char *text;

	if (!o)
		return NULL;
	/* Key order as `fleetsim run --json` has always printed it. */
	arr = cJSON_AddArrayToObject(o, "policies");
	cJSON_AddStringToObject(o, "scenario", r->sc->name);
	if (r->db_path)
		cJSON_AddStringToObject(o, "db", r->db_path);
	cJSON_AddNumberToObject(o, "seed", (double)r->sc->seed);
	for (int i = 0; arr && i < r->sc->npolicies; i++)
		cJSON_AddItemToArray(arr, policy_json(r, i));
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

char *fsim_run_comparison_text(const fsim_run *r)
{
	size_t cap = 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	out[0] = '\0';
	for (int i = 0; i < r->sc->npolicies; i++) {
		const cmp_result *c = &r->cmp[i];
		char pr[64], line[1024], *t;
		int n;

		if (!r->cmp_ok[i])
			continue;
		if (c->ppr_base <= 0 && c->ppr_dual <= 0)
			snprintf(pr, sizeof pr, "%s", "none in either");
		else if (c->preempt_ratio < 0)
			snprintf(pr, sizeof pr, "%.4f/request -> none", c->ppr_base);
		else
			snprintf(pr, sizeof pr, "%.4f -> %.4f/request", c->ppr_base, c->ppr_dual);
		n = snprintf(line, sizeof line,
			     "%s vs %s: alpha %.3f, rho %.2f (%.3f vs %.3f req/s/GPU) -> closed-form saving "
			     "%.1f%% (work-weighted %.1f%%, %.1f GPUs for the baseline's capacity); simulated "
			     "GPU-hours saving %.1f%%, busy-GPU saving %.1f%%; preemptions %s; P99 TTFT %+.1f%%, "
			     "short-request P99 TTFT %+.1f%%; %lld mis-routes\n",
			     r->sc->policies[i].name, r->sc->policies[r->baseline].name, c->alpha, c->rho,
			     c->mu_short_rps_gpu, c->mu_long_rps_gpu, 100 * c->saving_closed,
			     100 * c->saving_closed_work, c->gpus_closed, 100 * c->saving_sim, 100 * c->saving_busy,
			     pr, 100 * c->ttft_p99_change, 100 * c->short_ttft_p99_change, (long long)c->misroutes);
		if (n < 0)
			continue;
		if ((size_t)n >= sizeof line)
			n = (int)sizeof line - 1;
		t = realloc(out, cap + (size_t)n);
		if (!t) {
			free(out);
			return NULL;
		}
		out = t;
		memcpy(out + len, line, (size_t)n + 1);
		len += (size_t)n;
		cap += (size_t)n;
	}
	return out;
}
