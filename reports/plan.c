/*
 * plan.c - the capacity planner (see plan.h for the search).
 */
#include "reports/plan.h"

#include <cJSON.h>
#include <libfyaml.h>
#include <libgen.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "models/capacity.h"
#include "models/engine.h"
#include "models/perf.h"
#include "reports/results.h"
#include "reports/sweep.h"
#include "traces/workload.h"
#include "util/simtime.h"

#define MAX_SETS_EXTRA (8 * FS_MAX_POOLS + 8)
#define SET_LEN 1200
#define CACHE_MAX 96

static const char *const layout_names[] = {"single", "dual"};

const char *plan_layout_name(plan_layout l)
{
	return (unsigned)l < 2 ? layout_names[l] : "?";
}

int plan_layout_parse(const char *s, plan_layout *out, fs_err *err)
{
	for (int i = 0; i < 2; i++)
		if (!strcasecmp(s, layout_names[i])) {
			*out = (plan_layout)i;
			return 0;
		}
	return fs_fail(err, FS_EXIT_INPUT, "unknown layout '%s' (known: single, dual)", s);
}

/* ---- generic search -------------------------------------------------------------- */

typedef struct seen {
	int n, pass;
} seen;

typedef struct search {
	plan_pred f;
	void *ctx;
	int nseen;
	seen s[CACHE_MAX];
	int evals;
} search;

static int probe(search *s, int n, int *pass, fs_err *err)
{
	for (int i = 0; i < s->nseen; i++)
		if (s->s[i].n == n) {
			*pass = s->s[i].pass;
			return 0;
		}
	if (s->f(s->ctx, n, pass, err))
		return -1;
	s->evals++;
	if (s->nseen < CACHE_MAX)
		s->s[s->nseen++] = (seen){n, *pass};
	return 0;
}

int plan_search_min(plan_pred f, void *ctx, int guess_lo, int guess_hi, int min_n, int max_n,
		    int *found, int *out_n, int *evals, fs_err *err)
{
	search s = {.f = f, .ctx = ctx};
	int fail = min_n - 1, lo, hi, ok = 0, rc = -1;

	*found = 0;
	*out_n = 0;
	if (min_n < 1 || max_n < min_n)
		return fs_fail(err, FS_EXIT_INPUT, "plan: search range [%d, %d] is empty", min_n, max_n);
	lo = guess_lo < min_n ? min_n : guess_lo > max_n ? max_n : guess_lo;
	hi = guess_hi < lo ? lo : guess_hi > max_n ? max_n : guess_hi;
	/* Top of the bracket; grow it exponentially while it fails. */
	if (probe(&s, hi, &ok, err))
		goto out;
	while (!ok) {
		fail = hi;
		if (hi >= max_n) {
			rc = 0;
			goto out;
		}
		hi = hi * 2 > max_n ? max_n : hi * 2;
		if (probe(&s, hi, &ok, err))
			goto out;
	}
	/* Bottom of the bracket: it should fail; if it passes, halve until one fails. */
	if (lo > fail && lo < hi) {
		if (probe(&s, lo, &ok, err))
			goto out;
		if (ok) {
			hi = lo;
			while (hi - 1 > fail) {
				int cand = hi / 2 > fail ? hi / 2 : fail + 1;
				if (cand >= hi)
					cand = hi - 1;
				if (probe(&s, cand, &ok, err))
					goto out;
				if (ok)
					hi = cand;
				else {
					fail = cand;
					break;
				}
			}
		} else {
			fail = lo;
		}
	}
	while (hi - fail > 1) {
		int mid = fail + (hi - fail) / 2;
		if (probe(&s, mid, &ok, err))
			goto out;
		if (ok)
			hi = mid;
		else
			fail = mid;
	}
	*found = 1;
	*out_n = hi;
	rc = 0;
out:
	if (evals)
		*evals = s.evals;
	return rc;
}

/* ---- per-pool search ------------------------------------------------------------- */

#define SPLIT_MAX_POINTS 512
#define SPLIT_MAX_ROUNDS 64

typedef struct split_search {
	plan_pred_pools f;
	void *ctx;
	int np;
	int npts;
	plan_point pts[SPLIT_MAX_POINTS];
	int evals;
} split_search;

static void split_remember(split_search *s, const int *n, int pass)
{
	plan_point *p;

	if (s->npts >= SPLIT_MAX_POINTS)
		return;
	p = &s->pts[s->npts++];
	memset(p, 0, sizeof *p);
	memcpy(p->n, n, (size_t)s->np * sizeof *n);
	p->pass = pass;
}

static int split_probe(split_search *s, const int *n, int *pass, fs_err *err)
{
	for (int i = 0; i < s->npts; i++) {
		int same = 1;
		for (int k = 0; k < s->np; k++)
			same &= s->pts[i].n[k] == n[k];
		if (same) {
			*pass = s->pts[i].pass;
			return 0;
		}
	}
	if (s->f(s->ctx, n, pass, err))
		return -1;
	s->evals++;
	split_remember(s, n, *pass);
	return 0;
}

/* The highest count of pool k known to fail while every other pool has at least as
 * many replicas as cur: by monotonicity it fails at cur's other pools too. */
static int split_floor(const split_search *s, const int *cur, int k, int lo)
{
	for (int i = 0; i < s->npts; i++) {
		const plan_point *p = &s->pts[i];
		int dominates = !p->pass && p->n[k] > lo && p->n[k] < cur[k];
		for (int j = 0; j < s->np && dominates; j++)
			if (j != k && p->n[j] < cur[j])
				dominates = 0;
		if (dominates)
			lo = p->n[k];
	}
	return lo;
}

int plan_search_split(plan_pred_pools f, void *ctx, int npools, const int *start, const int *min_n,
		      const plan_point *known, int nknown, int *found, int *out, int *evals, fs_err *err)
{
	split_search *s;
	int cur[FS_MAX_POOLS], ok = 0, rc = -1;

	*found = 0;
	if (evals)
		*evals = 0;
	if (npools < 1 || npools > FS_MAX_POOLS)
		return fs_fail(err, FS_EXIT_INPUT, "plan: per-pool search over %d pools (1..%d)", npools,
			       FS_MAX_POOLS);
	for (int k = 0; k < npools; k++) {
		out[k] = start[k];
		if (min_n[k] < 1 || start[k] < min_n[k])
			return fs_fail(err, FS_EXIT_INPUT, "plan: pool %d: start %d below the floor %d (or floor < 1)",
				       k, start[k], min_n[k]);
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	s->f = f;
	s->ctx = ctx;
	s->np = npools;
	for (int i = 0; i < nknown && known; i++)
		split_remember(s, known[i].n, known[i].pass);
	memcpy(cur, start, (size_t)npools * sizeof *cur);
	if (split_probe(s, cur, &ok, err))
		goto out;
	if (!ok) {
		rc = 0;
		goto out;
	}
	/* Coordinate descent.  cur always passes (it was simulated), so each pool's
	 * interval (lo, cur[k]] holds its minimum given the others; lo comes from known
	 * failures, so a pool whose neighbours shrank is not re-bisected from scratch. */
	for (int round = 0; round < SPLIT_MAX_ROUNDS; round++) {
		int changed = 0;
		for (int k = 0; k < npools; k++) {
			int lo = split_floor(s, cur, k, min_n[k] - 1), hi = cur[k];
			while (hi - lo > 1) {
				int x[FS_MAX_POOLS], mid = lo + (hi - lo) / 2;
				memcpy(x, cur, sizeof x);
				x[k] = mid;
				if (split_probe(s, x, &ok, err))
					goto out;
				if (ok)
					hi = mid;
				else
					lo = mid;
			}
			if (hi != cur[k]) {
				cur[k] = hi;
				changed = 1;
			}
		}
		if (!changed || npools == 1)
			break;
	}
	memcpy(out, cur, (size_t)npools * sizeof *cur);
	*found = 1;
	rc = 0;
out:
	if (evals)
		*evals = s->evals;
	free(s);
	return rc;
}

/* ---- candidates ------------------------------------------------------------------ */

typedef struct wl_req {
	int32_t in, out, mt;
	int16_t hashed;        /* carries prefix hashes: the prefix cache may skip prefill */
	int16_t cls;           /* SLO class (slo.classes index, mx_slo_class_of), -1 none */
	int32_t cat;           /* workload category index, -1 none */
} wl_req;

typedef struct setlist {
	int n;
	const char **ptr;
	char (*buf)[SET_LEN];
} setlist;

static int setlist_init(setlist *l, const plan_request *rq, fs_err *err)
{
	l->n = 0;
	l->ptr = calloc((size_t)rq->nsets + MAX_SETS_EXTRA, sizeof *l->ptr);
	l->buf = calloc(MAX_SETS_EXTRA, sizeof *l->buf);
	if (!l->ptr || !l->buf) {
		free(l->ptr);
		free(l->buf);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	for (int i = 0; i < rq->nsets; i++)
		l->ptr[l->n++] = rq->sets[i];
	return 0;
}

static void setlist_free(setlist *l)
{
	free(l->ptr);
	free(l->buf);
}

static void __attribute__((format(printf, 3, 4))) add_set(setlist *l, int base, const char *fmt, ...)
{
	int k = l->n - base;
	va_list ap;

	if (k >= MAX_SETS_EXTRA)
		return;
	va_start(ap, fmt);
	vsnprintf(l->buf[k], SET_LEN, fmt, ap);
	va_end(ap);
	l->ptr[l->n++] = l->buf[k];
}

/* What the planner needs of the scenario as the user gave it. */
typedef struct base_info {
	double target_rate, rate_scale;
	uint64_t seed;
	int single_policy, dual_policy;
	/* A dual layout built from the single-pool policy (rq->tune, no two-pool policy):
	 * the keys its pools copy from the single pool, and that pool's max_model_len. */
	char synth_pool_keys[400];
	int64_t synth_long_len;
	int default_max_tokens;
	/* Verification: the trace replay's window (source seconds) and whether the
	 * workload draws from the seed (synthetic or Poisson re-timing). */
	int seeded;
	double win_start_s, win_duration_s;
} base_info;

static int find_template(const scenario *sc, plan_layout l)
{
	int any = -1;

	for (int i = 0; i < sc->npolicies; i++) {
		const policy_cfg *p = &sc->policies[i];
		int fits = l == PLAN_SINGLE ? p->npools == 1
					    : (p->npools == 2 && p->router.type == ROUTER_TOKEN_BUDGET);
		if (!fits)
			continue;
		if (!strcmp(p->name, plan_layout_name(l)))
			return i;
		if (any < 0)
			any = i;
	}
	return any;
}

/* The --set list that turns the scenario into candidate o. */
static int candidate_sets(const plan_request *rq, const base_info *bi, const plan_option *o,
			  const int *replicas, int64_t threshold, double load_scale, setlist *l,
			  fs_err *err)
{
	int base = rq->nsets;

	if (setlist_init(l, rq, err))
		return -1;
	if (o->synth_dual) {
		/* The single-pool policy becomes a two-pool token_budget policy: short pool
		 * max_model_len = threshold, long pool = the single pool's. */
		add_set(l, base,
			"policies.%d.router={type: token_budget, thresholds: [%lld], estimator: max_tokens, "
			"spillover: true, default_max_tokens: %d}",
			o->policy, (long long)threshold, bi->default_max_tokens);
		add_set(l, base, "policies.%d.pools=[{name: short, max_model_len: %lld%s}, {name: long, max_model_len: %lld%s}]",
			o->policy, (long long)threshold, bi->synth_pool_keys, (long long)o->synth_long_len,
			bi->synth_pool_keys);
	}
	for (int k = 0; k < o->npools; k++) {
		if (o->shape_set) {
			if (o->max_num_seqs[k] > 0)
				add_set(l, base, "policies.%d.pools.%d.max_num_seqs=%d", o->policy, k, o->max_num_seqs[k]);
			if (o->max_num_batched_tokens[k] > 0)
				add_set(l, base, "policies.%d.pools.%d.max_num_batched_tokens=%d", o->policy, k,
					o->max_num_batched_tokens[k]);
		}
		add_set(l, base, "policies.%d.pools.%d.gpu=%s", o->policy, k, o->pool_gpu[k][0] ? o->pool_gpu[k] : o->gpu);
		add_set(l, base, "policies.%d.pools.%d.quantization=%s", o->policy, k, prec_name(o->prec));
		add_set(l, base, "policies.%d.pools.%d.kv_cache_dtype=%s", o->policy, k, prec_name(o->kv));
		add_set(l, base, "policies.%d.pools.%d.tensor_parallel_size=%d", o->policy, k, o->tp[k]);
		add_set(l, base, "policies.%d.pools.%d.replicas=%d", o->policy, k, replicas ? replicas[k] : 1);
		if (o->mixed && o->pool_price[k] >= 0)
			add_set(l, base, "policies.%d.pools.%d.price_per_gpu_hour=%.17g", o->policy, k,
				o->pool_price[k]);
		else if (!o->mixed && o->price_per_gpu_hour >= 0)
			add_set(l, base, "policies.%d.pools.%d.price_per_gpu_hour=%.17g", o->policy, k,
				o->price_per_gpu_hour);
	}
	if (o->layout == PLAN_DUAL && threshold > 0 && !o->synth_dual)
		add_set(l, base, "policies.%d.router.thresholds=[%lld]", o->policy, (long long)threshold);
	if (load_scale != 1.0) {
		if (bi->target_rate > 0)
			add_set(l, base, "workload.target_rate=%.17g", bi->target_rate * load_scale);
		else
			add_set(l, base, "workload.rate_scale=%.17g", bi->rate_scale * load_scale);
	}
	return 0;
}

/* ---- evaluation ------------------------------------------------------------------ */

typedef struct plan_state {
	const plan_request *rq;
	base_info bi;
	plan_result *res;
	wl_req *reqs;
	size_t nreqs;
	double span_s;
	int cur_option;        /* index of the option being planned (progress) */
} plan_state;

/* Load the scenario with these sets from a copy of the document parsed once
 * (rq->scenario_src, set by plan_raise before any load), so editing the file mid-plan
 * cannot mix configurations.  Returns as scenario_src_load. */
static int plan_load(const plan_request *rq, const char *const *sets, int nsets, scenario **out,
		     fs_err *err)
{
	return scenario_src_load(rq->scenario_src, sets, nsets, out, err);
}

/* plan_simulate needs the base info; it is recomputed from the scenario when called
 * from outside plan_run (headroom, reports).  Cheap: one YAML load. */
static int load_base(const plan_request *rq, base_info *bi, scenario **keep, fs_err *err)
{
	scenario *sc = NULL;

	if (plan_load(rq, rq->sets, rq->nsets, &sc, err))
		return -1;
	bi->target_rate = sc->workload.target_rate;
	bi->rate_scale = sc->workload.rate_scale > 0 ? sc->workload.rate_scale : 1.0;
	bi->seed = sc->seed;
	bi->single_policy = find_template(sc, PLAN_SINGLE);
	bi->dual_policy = find_template(sc, PLAN_DUAL);
	bi->seeded = sc->workload.retime_poisson || (sc->workload.n_mix == 0 && !sc->workload.src.trace);
	for (int i = 0; i < sc->workload.n_mix; i++)
		bi->seeded |= !sc->workload.mix[i].trace;
	bi->win_start_s = sc->workload.n_mix ? 0 : sc->workload.src.start_s;
	bi->win_duration_s = sc->workload.n_mix ? 0 : sc->workload.src.duration_s;
	bi->default_max_tokens = 256;
	if (bi->single_policy >= 0) {
		const policy_cfg *pc = &sc->policies[bi->single_policy];
		const pool_cfg *p = &pc->pools[0];
		bi->default_max_tokens = pc->router.default_max_tokens > 0 ? pc->router.default_max_tokens : 256;
		bi->synth_long_len = p->max_model_len;
		snprintf(bi->synth_pool_keys, sizeof bi->synth_pool_keys,
			 ", gpu_memory_utilization: %.6g, block_size: %d, enable_prefix_caching: %s, "
			 "async_scheduling: %s%s%s",
			 p->mem.gpu_memory_utilization, p->mem.block_size, p->enable_prefix_caching ? "true" : "false",
			 p->async_scheduling ? "true" : "false", p->mem.eng ? ", vllm_version: \"" : "",
			 p->mem.eng ? p->mem.eng->version : "");
		if (p->mem.eng)
			strncat(bi->synth_pool_keys, "\"",
				sizeof bi->synth_pool_keys - strlen(bi->synth_pool_keys) - 1);
	}
	if (keep)
		*keep = sc;
	else
		scenario_free(sc);
	return 0;
}

/* The verdict itself is runner_slo_verdict's (the same rule as run and sweep); ev keeps
 * the figures the search and the report read. */
static void judge(const plan_request *rq, const scenario *sc, const runner_result *r, plan_eval *ev)
{
	const metrics_summary *f = &r->fleet;
	mx_verdict v;
	double denom;

	ev->requests = f->requests;
	ev->ttft_p99_s = f->ttft_p99_s;
	ev->tpot_p99_s = f->tpot_p99_s;
	ev->preemptions_per_request = f->preemptions_per_request;
	ev->gpu_hours = f->gpu_hours;
	ev->makespan_s = f->makespan_s;
	ev->throughput_rps = f->throughput_rps;
	denom = (double)ev->gpus * f->makespan_s;
	ev->busy_share = denom > 0 ? f->gpu_busy_s / denom : 0;
	/* fleet, then each class and pool (slo.classes, slo.pools, slo.per_pool) */
	if (runner_slo_verdict(sc, r, rq->max_preemptions_per_request, &v)) {
		mx_slo_verdict(&sc->slo, sc->max_rejection_rate, rq->max_preemptions_per_request, f, &v);
		v.pass = 0;
		snprintf(v.reason, sizeof v.reason, "out of memory judging the SLO per class and pool");
	}
	ev->rejection_rate = v.rejection_rate;
	ev->pass = v.pass;
	_Static_assert(sizeof ev->reason == sizeof v.reason, "plan_eval.reason holds mx_verdict.reason");
	memcpy(ev->reason, v.reason, sizeof ev->reason);
	/* Power model (fleet-wide, see models/perf.h). */
	ev->energy_j = f->energy_j;
	ev->avg_power_w = f->avg_power_w;
	ev->utilisation = f->utilisation;
	ev->tokens_per_joule = f->tokens_per_joule;
	ev->energy_per_mtok_j = f->energy_per_mtok_j;
}

static int record(const plan_request *rq, const scenario *sc, const plan_option *o,
		  const runner_result *r, const char *phase, plan_eval *ev, fs_err *err)
{
	cJSON *pt = cJSON_CreateObject(), *arr;
	char *ptxt = NULL;
	int total = 0, rc = -1;
	db_plan_row row;
	results_opts wo;

	if (!pt)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	cJSON_AddNumberToObject(pt, "plan_id", (double)rq->plan_id);
	cJSON_AddStringToObject(pt, "option", o->label);
	cJSON_AddStringToObject(pt, "phase", phase);
	arr = cJSON_AddArrayToObject(pt, "replicas");
	for (int k = 0; k < ev->npools; k++) {
		cJSON_AddItemToArray(arr, cJSON_CreateNumber(ev->replicas[k]));
		total += ev->replicas[k];
	}
	if (ev->threshold > 0)
		cJSON_AddNumberToObject(pt, "threshold", (double)ev->threshold);
	cJSON_AddNumberToObject(pt, "load_scale", ev->load_scale);
	ptxt = cJSON_PrintUnformatted(pt);
	if (!ptxt) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	memset(&wo, 0, sizeof wo);
	wo.started_at = time(NULL);
	wo.extra_params_json = ptxt;
	if (results_write_run(rq->d, sc, r, &wo, &ev->run_id, err))
		goto out;
	memset(&row, 0, sizeof row);
	row.plan_id = rq->plan_id;
	row.run_id = ev->run_id;
	row.option = o->label;
	row.gpu = o->gpu;
	row.precision = prec_name(o->prec);
	row.policy = plan_layout_name(o->layout);
	row.phase = phase;
	row.load_scale = ev->load_scale;
	row.seed = ev->seed;
	row.replicas = total;
	row.gpus = ev->gpus;
	row.threshold = ev->threshold;
	row.meets_slo = ev->pass;
	row.reason = ev->reason;
	row.ttft_p99_s = ev->ttft_p99_s;
	row.tpot_p99_s = ev->tpot_p99_s;
	row.rejection_rate = ev->rejection_rate;
	row.gpu_hours = ev->gpu_hours;
	row.params_json = ptxt;
	rc = db_write_plan_row(rq->d, &row, err);
out:
	cJSON_Delete(pt);
	free(ptxt);
	return rc;
}

static int simulate(const plan_request *rq, const base_info *bi, const plan_option *o,
		    const int *replicas, int64_t threshold, double load_scale, uint64_t seed,
		    const char *phase, const char *xset, plan_eval *ev, runner_result *keep, fs_err *err)
{
	setlist l;
	scenario *sc = NULL;
	runner_result rr;
	runner_opts ro;
	int rc = -1;

	memset(ev, 0, sizeof *ev);
	memset(&rr, 0, sizeof rr);
	if (o->policy < 0 || o->npools < 1)
		return fs_fail(err, FS_EXIT_INPUT, "plan: option %s has no template policy", o->label);
	ev->npools = o->npools;
	ev->threshold = o->layout == PLAN_DUAL ? threshold : 0;
	ev->seed = seed;
	ev->load_scale = load_scale;
	for (int k = 0; k < o->npools; k++) {
		if (replicas[k] < 1)
			return fs_fail(err, FS_EXIT_INPUT, "plan: %s: pool %d needs at least one replica", o->label, k);
		ev->replicas[k] = replicas[k];
		ev->gpus += replicas[k] * o->tp[k];
	}
	if (candidate_sets(rq, bi, o, replicas, ev->threshold, load_scale, &l, err))
		return -1;
	if (xset)
		add_set(&l, rq->nsets, "%s", xset);
	if (plan_load(rq, l.ptr, l.n, &sc, err))
		goto out;
	sc->seed = seed;
	memset(&ro, 0, sizeof ro);
	if (runner_run_policy(sc, o->policy, &ro, &rr, err))
		goto out;
	judge(rq, sc, &rr, ev);
	if (rq->d && record(rq, sc, o, &rr, phase, ev, err)) {
		runner_result_free(&rr);
		goto out;
	}
	if (keep)
		*keep = rr;
	else
		runner_result_free(&rr);
	rc = 0;
out:
	scenario_free(sc);
	setlist_free(&l);
	return rc;
}

static int raise_tp(plan_request *rq, const char ***extra, fs_err *err);
static void free_extra(const char **extra, int nuser, int n);

/* Parse rq's text once into rq->scenario_src unless the caller gave one; *owned gets
 * what to free (scenario_src_free), NULL when nothing was made.  Returns 0, or -1 with
 * err (the scenario's syntax error, as loading it would report). */
static int open_src(plan_request *rq, scenario_src **owned, fs_err *err)
{
	char dir[1024];

	*owned = NULL;
	if (rq->scenario_src)
		return 0;
	snprintf(dir, sizeof dir, "%s", rq->scenario_path);
	if (scenario_src_open(rq->scenario_path, rq->scenario_text, rq->scenario_len, dirname(dir), owned,
			      err))
		return -1;
	rq->scenario_src = *owned;
	return 0;
}

/* rq as plan_run, plan_simulate and plan_headroom use it: the scenario text read
 * once, parsed once (scenario_src) and, where the scenario's own pools do not load,
 * the TP-raising assignments (raise_tp).  Undo with plan_unraise. */
typedef struct raised {
	plan_request rq;
	const char **extra;
	char *owned;
	scenario_src *src;
	int nuser;
} raised;

static int plan_raise(const plan_request *rq, raised *r, fs_err *err)
{
	memset(r, 0, sizeof *r);
	r->rq = *rq;
	r->nuser = rq->nsets;
	if (!r->rq.scenario_text) {
		if (sweep_read_scenario(rq->scenario_path, &r->owned, &r->rq.scenario_len, err))
			return -1;
		r->rq.scenario_text = r->owned;
	}
	if (open_src(&r->rq, &r->src, err) || raise_tp(&r->rq, &r->extra, err)) {
		scenario_src_free(r->src);
		r->src = NULL;
		free(r->owned);
		r->owned = NULL;
		return -1;
	}
	return 0;
}

static void plan_unraise(raised *r)
{
	free_extra(r->extra, r->nuser, r->rq.nsets);
	scenario_src_free(r->src);
	free(r->owned);
}

/* The option's template shape, as the plan_option loaded by plan_run records it. */
int plan_simulate(const plan_request *rq0, const plan_option *o, const int *replicas,
		  int64_t threshold, double load_scale, uint64_t seed, const char *phase,
		  plan_eval *ev, runner_result *keep, fs_err *err)
{
	base_info bi;
	raised rs;
	int rc;

	if (plan_raise(rq0, &rs, err))
		return -1;
	rc = load_base(&rs.rq, &bi, NULL, err) ? -1
		: simulate(&rs.rq, &bi, o, replicas, threshold, load_scale, seed, phase, NULL, ev, keep, err);
	plan_unraise(&rs);
	return rc;
}

int plan_headroom(const plan_request *rq0, const plan_option *o, const double *scales, int n,
		  plan_eval *evs, int *nout, fs_err *err)
{
	base_info bi;
	raised rs;
	const plan_request *rq;
	int rc = -1;

	*nout = 0;
	if (!o->feasible)
		return fs_fail(err, FS_EXIT_INPUT, "plan: %s has no feasible fleet to stress", o->label);
	if (plan_raise(rq0, &rs, err))
		return -1;
	rq = &rs.rq;
	if (load_base(rq, &bi, NULL, err))
		goto out;
	for (int i = 0; i < n; i++) {
		if (simulate(rq, &bi, o, o->best.replicas, o->best.threshold, rq->load_scale * scales[i],
			     o->best.seed, "headroom", NULL, &evs[i], NULL, err))
			goto out;
		evs[i].load_scale = scales[i];
		(*nout)++;
		if (!evs[i].pass)
			break;
	}
	rc = 0;
out:
	plan_unraise(&rs);
	return rc;
}

/* ---- option setup ---------------------------------------------------------------- */

static int read_workload(plan_state *ps, const scenario *sc, fs_err *err)
{
	trace_reader *tr = NULL;
	trace_req r;
	size_t cap = 0;
	int64_t first = -1, last = 0;
	int got;

	if (workload_open(&sc->workload, sc->seed, &tr, err))
		return -1;
	while ((got = trace_next(tr, &r, err)) == 1) {
		if (ps->nreqs == cap) {
			size_t nc = cap ? cap * 2 : 4096;
			wl_req *p = realloc(ps->reqs, nc * sizeof *p);
			if (!p) {
				trace_close(tr);
				return fs_fail(err, FS_EXIT_RUNTIME, "out of memory reading the workload");
			}
			ps->reqs = p;
			cap = nc;
		}
		ps->reqs[ps->nreqs++] = (wl_req){r.input_tokens, r.output_tokens, r.max_tokens, r.n_hashes > 0, -1,
						 r.category};
		if (first < 0)
			first = r.arrival_ns;
		last = r.arrival_ns;
	}
	/* Each request's SLO class, for the per-class floors (category names resolve
	 * against the reader's categories, as the run's collector resolves them). */
	if (got == 0 && sc->slo_detail.nclasses > 0) {
		const mx_slo_detail *d = &sc->slo_detail;
		int cat_idx[MX_SLO_MAX_CLASSES];
		for (int k = 0; k < d->nclasses; k++) {
			cat_idx[k] = -1;
			for (int c = 0; d->classes[k].kind == MX_CLASS_CATEGORY && c < trace_category_count(tr); c++) {
				const char *nm = trace_category_name(tr, c);
				if (nm && !strcmp(nm, d->classes[k].category))
					cat_idx[k] = c;
			}
		}
		for (size_t i = 0; i < ps->nreqs; i++) {
			mx_brief b = {.prompt = ps->reqs[i].in, .output = ps->reqs[i].out};
			ps->reqs[i].cls = (int16_t)mx_slo_class_of(d, cat_idx, &b, ps->reqs[i].cat);
		}
	}
	trace_close(tr);
	if (got < 0)
		return -1;
	if (ps->nreqs == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: the workload has no requests", sc->path);
	ps->span_s = st_to_s(last - first);
	if (ps->span_s <= 0)
		ps->span_s = 1.0;
	return 0;
}

/* Which pool of a dual layout request r goes to under threshold t (-1: none holds it). */
static int route(const plan_option *o, const router_cfg *rc, const wl_req *r, int64_t t)
{
	int64_t total = (int64_t)r->in + r->out;
	int64_t est = r->in + (rc->estimator == EST_ORACLE ? r->out
							   : (r->mt > 0 ? r->mt : rc->default_max_tokens));
	int want = est <= t ? 0 : 1;

	if (total <= o->max_model_len[want])
		return want;
	if (total <= o->max_model_len[1 - want])
		return 1 - want;
	return -1;
}

/* Analytical demand of each pool in replicas (fractional) for threshold t. */
static int demand(const plan_state *ps, const plan_option *o, const scenario *sc, int64_t t,
		  double *need, fs_err *err)
{
	const policy_cfg *pc = &sc->policies[o->policy];
	cap_mix mix[FS_MAX_POOLS];

	memset(mix, 0, sizeof mix);
	for (size_t i = 0; i < ps->nreqs; i++) {
		const wl_req *r = &ps->reqs[i];
		int p;
		if (o->layout == PLAN_SINGLE)
			p = (int64_t)r->in + r->out <= o->max_model_len[0] ? 0 : -1;
		else
			p = route(o, &pc->router, r, t);
		if (p >= 0)
			cap_mix_add(&mix[p], r->in, r->out);
	}
	for (int k = 0; k < o->npools; k++) {
		const pool_cfg *pl = &pc->pools[k];
		cap_engine e = {.perf = &pl->perf, .kv_tokens = pl->plan.kv_tokens,
				.block_size = pl->mem.block_size, .max_num_seqs = pl->max_num_seqs,
				.max_num_batched_tokens = pl->max_num_batched_tokens, .tp = pl->mem.tp};
		cap_result cr;
		if (o->shape_set && o->max_num_seqs[k] > 0)
			e.max_num_seqs = o->max_num_seqs[k];
		if (o->shape_set && o->max_num_batched_tokens[k] > 0)
			e.max_num_batched_tokens = o->max_num_batched_tokens[k];
		need[k] = 0;
		if (mix[k].n < 1)
			continue;
		if (cap_replica(&e, &mix[k], &cr, err))
			return -1;
		need[k] = (mix[k].n / ps->span_s) / cr.rps;
	}
	return 0;
}

/* Seconds an unloaded replica of pool p needs to prefill a prompt: chunks of
 * max_num_batched_tokens, each one step with nothing else in it.  Smaller chunks or
 * company in the step only add time (each step pays the weights and the fixed costs
 * again; the roofline's max is subadditive), so this bounds any simulated TTFT. */
static double unloaded_prefill_s(const pool_cfg *p, int64_t prompt)
{
	int64_t chunk = p->max_num_batched_tokens > 0 ? p->max_num_batched_tokens : prompt;
	double t = 0;

	for (int64_t done = 0; done < prompt; done += chunk) {
		perf_batch b;
		memset(&b, 0, sizeof b);
		perf_batch_add_prefill(&b, done, prompt - done < chunk ? prompt - done : chunk);
		t += perf_step_s(&p->perf, &b);
	}
	return t;
}

/* One decode step of the request alone: the least any of its output tokens can take. */
static double unloaded_decode_s(const pool_cfg *p, int64_t context)
{
	perf_batch b;

	memset(&b, 0, sizeof b);
	perf_batch_add_decode(&b, context);
	return perf_step_s(&p->perf, &b);
}

/* P99 (as sim/metrics.c computes it: GSL's interpolated quantile over completed
 * requests) of per-request lower bounds v[0..n), after dropping the `drop` largest:
 * the SLO lets that many requests be rejected, which takes them out of the P99.
 * Sorts v. */
static double floor_p99(double *v, size_t n, size_t drop)
{
	if (n <= drop)
		return 0;
	return metrics_quantile_inplace(v, n, n - drop, 0.99);
}

/* The P99 floors of TTFT (pt) and TPOT (pd) over the requests of SLO class cls (-2:
 * every request), dropping `drop` of the slowest (the rejections the SLO allows).
 * buf holds 2 x nreqs doubles (scratch).  NAN entries (no pool holds the request, or
 * no TPOT) are skipped. */
static void subset_floor(const plan_state *ps, const double *pt, const double *pd, int cls, size_t drop, double *buf,
			 double *tf, double *df, size_t *count)
{
	size_t nt = 0, np = 0;
	double *tt = buf, *dd = buf + ps->nreqs;

	for (size_t i = 0; i < ps->nreqs; i++) {
		if (cls != -2 && ps->reqs[i].cls != cls)
			continue;
		if (!isnan(pt[i]))
			tt[nt++] = pt[i];
		if (!isnan(pd[i]))
			dd[np++] = pd[i];
	}
	*tf = floor_p99(tt, nt, drop);
	*df = floor_p99(dd, np, drop);
	*count = nt;
}

/* Lower bounds on what any fleet of option o can achieve, from the requests alone:
 * the P99 of each request's unloaded TTFT and TPOT on the fastest pool that holds it
 * (so the bound does not depend on the router or the threshold), and the share of
 * requests no pool holds (rejected at any size).  With SLO classes (slo.classes) each
 * class is bounded against its own targets and the default targets against the
 * requests in no class, as the verdict (mx_slo_verdict_ex) judges them.  When one
 * bound breaks the SLO, o gets a note saying which and by how much and *feasible = 0:
 * no search is run.  Returns -1 (err set) only when out of memory. */
static int slo_floor(const plan_state *ps, plan_option *o, const scenario *sc, int *feasible, fs_err *err)
{
	const policy_cfg *pc = &sc->policies[o->policy];
	const mx_slo_detail *d = &sc->slo_detail;
	double *pt = malloc((ps->nreqs + 1) * sizeof *pt), *pd = malloc((ps->nreqs + 1) * sizeof *pd);
	double *buf = malloc((2 * ps->nreqs + 1) * sizeof *buf);
	double maxrej = mx_slo_max_rejection(sc->max_rejection_rate);
	size_t never = 0, drop, allowed, cnt;
	int64_t p99_prompt = 0;
	double p99_prompt_s = 0;

	*feasible = 1;
	if (!pt || !pd || !buf) {
		free(pt);
		free(pd);
		free(buf);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	for (size_t i = 0; i < ps->nreqs; i++) {
		const wl_req *r = &ps->reqs[i];
		double bt = INFINITY, bd = INFINITY;
		for (int k = 0; k < o->npools; k++) {
			const pool_cfg *p = &pc->pools[k];
			double t;
			if ((int64_t)r->in + r->out > p->max_model_len)
				continue;
			t = r->hashed && p->enable_prefix_caching ? 0 : unloaded_prefill_s(p, r->in);
			if (t < bt)
				bt = t;
			t = unloaded_decode_s(p, r->in);
			if (t < bd)
				bd = t;
		}
		if (isinf(bt)) {
			never++;
			pt[i] = pd[i] = NAN;
			continue;
		}
		pt[i] = bt;
		pd[i] = r->out >= 2 ? bd : NAN;
	}
	allowed = (size_t)floor(maxrej * (double)ps->nreqs);
	drop = allowed > never ? allowed - never : 0;
	/* The default targets judge every request, or with classes those in no class. */
	subset_floor(ps, pt, pd, d->nclasses ? -1 : -2, drop, buf, &o->ttft_p99_floor_s, &o->tpot_p99_floor_s, &cnt);
	o->never_fits = ps->nreqs ? (double)never / (double)ps->nreqs : 0;
	/* The prompt whose unloaded prefill sits at the P99, to name in the message. */
	if (cnt > drop) {
		for (size_t i = 0; i < ps->nreqs; i++) {
			const wl_req *r = &ps->reqs[i];
			if (d->nclasses && r->cls != -1)
				continue;
			for (int k = 0; k < o->npools; k++) {
				const pool_cfg *p = &pc->pools[k];
				double t;
				if ((int64_t)r->in + r->out > p->max_model_len)
					continue;
				t = unloaded_prefill_s(p, r->in);
				if (t >= o->ttft_p99_floor_s && (!p99_prompt || r->in < p99_prompt)) {
					p99_prompt = r->in;
					p99_prompt_s = t;
				}
			}
		}
	}
	if (never > allowed) {
		*feasible = 0;
		snprintf(o->note, sizeof o->note,
			 "infeasible at any fleet size: %zu of %zu requests (%.2f %%) exceed every pool's "
			 "max_model_len and are rejected; the SLO allows %.2f %%",
			 never, ps->nreqs, 100.0 * o->never_fits, 100.0 * maxrej);
	} else if (sc->slo.ttft_p99_s > 0 && o->ttft_p99_floor_s > sc->slo.ttft_p99_s) {
		*feasible = 0;
		snprintf(o->note, sizeof o->note,
			 "infeasible at any fleet size: unloaded prefill alone puts TTFT p99 at >= %.3f s "
			 "> SLO %.3f s (prompts of %lld tokens take %.3f s in %d-token chunks on an idle "
			 "replica)",
			 o->ttft_p99_floor_s, sc->slo.ttft_p99_s, (long long)p99_prompt, p99_prompt_s,
			 pc->pools[o->npools - 1].max_num_batched_tokens);
	} else if (sc->slo.tpot_p99_s > 0 && o->tpot_p99_floor_s > sc->slo.tpot_p99_s) {
		*feasible = 0;
		snprintf(o->note, sizeof o->note,
			 "infeasible at any fleet size: one decode step alone puts TPOT p99 at >= %.4f s "
			 "> SLO %.4f s",
			 o->tpot_p99_floor_s, sc->slo.tpot_p99_s);
	}
	/* Each class against its own targets (unset ones inherit the default). */
	for (int k = 0; k < d->nclasses && *feasible; k++) {
		const mx_slo_class *c = &d->classes[k];
		double tl = c->target.ttft_p99_s > 0 ? c->target.ttft_p99_s : sc->slo.ttft_p99_s;
		double dl = c->target.tpot_p99_s > 0 ? c->target.tpot_p99_s : sc->slo.tpot_p99_s;
		double tf, df;
		subset_floor(ps, pt, pd, k, drop, buf, &tf, &df, &cnt);
		if (!cnt)
			continue;
		if (tl > 0 && tf > tl) {
			*feasible = 0;
			snprintf(o->note, sizeof o->note,
				 "infeasible at any fleet size: class '%.60s': unloaded prefill alone puts its TTFT "
				 "p99 at >= %.3f s > its SLO %.3f s",
				 c->name, tf, tl);
		} else if (dl > 0 && df > dl) {
			*feasible = 0;
			snprintf(o->note, sizeof o->note,
				 "infeasible at any fleet size: class '%.60s': one decode step alone puts its TPOT "
				 "p99 at >= %.4f s > its SLO %.4f s",
				 c->name, df, dl);
		}
	}
	free(pt);
	free(pd);
	free(buf);
	return 0;
}

/* Find the smallest TP (from the scenario's) and the KV dtype that load. On success the
 * loaded scenario is handed back in *out. */
static int option_setup(plan_state *ps, const scenario *base, plan_option *o, scenario **out,
			fs_err *err)
{
	const plan_request *rq = ps->rq;
	int pol = o->layout == PLAN_SINGLE ? ps->bi.single_policy : ps->bi.dual_policy;
	prec_t kvs[2];
	int nkv = 0, ones[FS_MAX_POOLS];
	fs_err e2 = {0};
	gpu_spec g;

	*out = NULL;
	o->policy = pol;
	if (pol < 0) {
		snprintf(o->note, sizeof o->note, "the scenario has no %s policy to take the pool shapes from",
			 o->layout == PLAN_SINGLE ? "single-pool" : "two-pool token_budget");
		return 0;
	}
	snprintf(o->policy_name, sizeof o->policy_name, "%s", base->policies[pol].name);
	o->npools = base->policies[pol].npools;
	if (gpu_lookup(o->gpu, &g, err))
		return -1;
	snprintf(o->gpu_display, sizeof o->gpu_display, "%s", g.display);
	/* Price: the scenario's override holds for the GPU it was written for. */
	o->price_per_gpu_hour = g.price_per_hour;
	{
		const pool_cfg *bp = &base->policies[pol].pools[0];
		if (!strcmp(bp->gpu.name, g.name))
			o->price_per_gpu_hour = bp->price_per_gpu_hour;
	}
	/* KV dtype: BF16 runs keep the scenario's; FP8 and NVFP4 weights pair with an FP8
	 * cache (what vLLM serves them with), or BF16 where the GPU has no FP8. */
	if (o->prec == PREC_BF16) {
		kvs[nkv++] = base->policies[pol].pools[0].mem.kv;
	} else {
		kvs[nkv++] = PREC_FP8;
		kvs[nkv++] = PREC_BF16;
	}
	for (int k = 0; k < o->npools; k++) {
		const pool_cfg *bp = &base->policies[pol].pools[k];
		snprintf(o->pool_names[k], sizeof o->pool_names[k], "%s", bp->name);
		ones[k] = 1;
	}
	for (int ki = 0; ki < nkv; ki++) {
		if (gpu_check_kv_dtype(&g, kvs[ki], &e2))
			continue;
		o->kv = kvs[ki];
		for (int tp = 1; tp <= 64; tp *= 2) {
			int tpk = tp;
			setlist l;
			scenario *sc = NULL;
			/* The scenario's TP where it gives one (> 1), else the smallest that loads. */
			for (int k = 0; k < o->npools; k++) {
				int st = base->policies[pol].pools[k].mem.tp;
				o->tp[k] = st > tpk ? st : tpk;
			}
			if (candidate_sets(rq, &ps->bi, o, ones, 0, rq->load_scale, &l, err))
				return -1;
			if (!plan_load(rq, l.ptr, l.n, &sc, &e2)) {
				setlist_free(&l);
				*out = sc;
				for (int k = 0; k < o->npools; k++) {
					const pool_cfg *p = &sc->policies[pol].pools[k];
					o->max_model_len[k] = p->max_model_len;
					o->max_num_seqs[k] = p->max_num_seqs;
					o->max_num_batched_tokens[k] = p->max_num_batched_tokens;
					o->gpu_memory_utilization[k] = p->mem.gpu_memory_utilization;
				}
				return 0;
			}
			setlist_free(&l);
		}
	}
	snprintf(o->note, sizeof o->note, "does not load at any tensor_parallel_size up to 64: %.180s", e2.msg);
	return 0;
}

typedef struct pred_ctx {
	plan_state *ps;
	plan_option *o;
	int64_t threshold;
	double share;          /* dual: short pool's share of the replicas */
	uint64_t seed;
	double load;           /* 0: rq->load_scale */
	const char *xset;      /* one more assignment (verification windows), or NULL */
	char xbuf[96];         /* storage for xset when set by verif_traffic */
	struct pred_ctx *vc;   /* the verification traffic: a point passes only if it holds there too */
	int nev;
	plan_eval ev[CACHE_MAX];
} pred_ctx;

/* The traffic the winner is verified on (see verify below): fills c's seed and xset
 * from the planned seed, and what[] with a description.  Never fails. */
static void verif_traffic(const plan_state *ps, pred_ctx *c, uint64_t seed, char *what, size_t cap)
{
	const base_info *bi = &ps->bi;

	c->seed = seed;
	c->xset = NULL;
	if (bi->seeded) {
		c->seed = seed + 1;
		snprintf(what, cap, "seed %llu", (unsigned long long)c->seed);
	} else if (bi->win_duration_s <= 0) {
		/* A whole-trace replay: a block bootstrap of the trace (60 s blocks drawn
		 * with replacement: other requests and arrivals, the same local bursts). */
		snprintf(c->xbuf, sizeof c->xbuf, "workload.bootstrap={block: 60, seed: %llu}", (unsigned long long)seed + 1);
		c->xset = c->xbuf;
		snprintf(what, cap, "block bootstrap of the trace (60 s blocks, seed %llu)", (unsigned long long)seed + 1);
	} else {
		double st = bi->win_start_s + bi->win_duration_s / 2;
		snprintf(c->xbuf, sizeof c->xbuf, "workload.start=%.17g", st);
		c->xset = c->xbuf;
		snprintf(what, cap, "trace window %.0f-%.0f s", st, st + bi->win_duration_s);
	}
}

static void split(int total, double share, int npools, int *rep)
{
	if (npools == 1) {
		rep[0] = total;
		return;
	}
	rep[0] = (int)lround(total * share);
	if (rep[0] < 1)
		rep[0] = 1;
	if (rep[0] > total - 1)
		rep[0] = total - 1;
	rep[1] = total - rep[0];
}

static int eval_reps(pred_ctx *c, const int *rep, const char *phase, plan_eval **ev, fs_err *err)
{
	for (int i = 0; i < c->nev; i++) {
		int same = c->ev[i].seed == c->seed && c->ev[i].threshold == (c->o->layout ? c->threshold : 0);
		for (int k = 0; k < c->o->npools; k++)
			same &= c->ev[i].replicas[k] == rep[k];
		if (same) {
			*ev = &c->ev[i];
			return 0;
		}
	}
	if (c->nev >= CACHE_MAX)
		return fs_fail(err, FS_EXIT_RUNTIME, "plan: %s: more than %d simulations for one search",
			       c->o->label, CACHE_MAX);
	*ev = &c->ev[c->nev];
	if (simulate(c->ps->rq, &c->ps->bi, c->o, rep, c->threshold, c->load > 0 ? c->load : c->ps->rq->load_scale,
		     c->seed, phase, c->xset, *ev, NULL, err))
		return -1;
	c->nev++;
	c->o->sims++;
	c->ps->res->sims++;
	if (c->ps->rq->progress)
		c->ps->rq->progress(c->ps->rq->progress_ctx, c->o->label, c->ps->res->sims);
	if (c->ps->rq->progress_eta)
		c->ps->rq->progress_eta(c->ps->rq->progress_ctx, c->o->label, c->ps->res->sims,
					c->ps->cur_option, c->ps->res->noptions);
	return 0;
}

/* A point passes when it meets the SLO on the planned traffic and, with verification
 * on, on the verification traffic too (simulated only when the first holds).  So the
 * search's minimum is already the fewest that hold on both: growing a winner after the
 * search (TP 2 grows two GPUs at a time) could break the order between options that
 * physics sets (B200 <= H200 <= H100). */
static int joint(pred_ctx *c, const int *rep, const char *phase, int *pass, fs_err *err)
{
	plan_eval *ev;

	if (eval_reps(c, rep, phase, &ev, err))
		return -1;
	*pass = ev->pass;
	if (*pass && c->vc) {
		c->vc->threshold = c->threshold;
		if (eval_reps(c->vc, rep, "verify", &ev, err))
			return -1;
		*pass = ev->pass;
	}
	return 0;
}

static int pred(void *ctx, int total, int *pass, fs_err *err)
{
	pred_ctx *c = ctx;
	int rep[FS_MAX_POOLS];

	split(total, c->share, c->o->npools, rep);
	return joint(c, rep, "search", pass, err);
}

static int pred_pools(void *ctx, const int *rep, int *pass, fs_err *err)
{
	return joint(ctx, rep, "split", pass, err);
}

static int total_of(const int *rep, int n)
{
	int t = 0;
	for (int k = 0; k < n; k++)
		t += rep[k];
	return t;
}

/* Search one threshold (or the single pool): fills *best (pass = 0: none found). */
static int search_one(plan_state *ps, plan_option *o, const scenario *sc, int64_t t, int cap, plan_eval *best,
		      fs_err *err)
{
	pred_ctx *c = calloc(1, sizeof *c);
	double need[FS_MAX_POOLS] = {0}, tot = 0;
	int lo, hi, found = 0, n = 0, evals = 0, min_n = o->npools, rc = -1;
	int maxr = ps->rq->max_replicas > 0 ? ps->rq->max_replicas : 512;

	if (cap > 0 && cap < maxr)
		maxr = cap;
	if (maxr < min_n) {
		memset(best, 0, sizeof *best);
		free(c);
		return 0;
	}
	int rep[FS_MAX_POOLS];
	plan_eval *ev;

	memset(best, 0, sizeof *best);
	if (!c)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	c->ps = ps;
	c->o = o;
	c->threshold = t;
	c->seed = ps->bi.seed;
	if (ps->rq->verify) {
		char what[128];
		c->vc = calloc(1, sizeof *c->vc);
		if (!c->vc) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		c->vc->ps = ps;
		c->vc->o = o;
		c->vc->threshold = t;
		verif_traffic(ps, c->vc, c->seed, what, sizeof what);
	}
	if (demand(ps, o, sc, t, need, err))
		goto out;
	for (int k = 0; k < o->npools; k++) {
		tot += need[k];
		o->cap_rps[k] = 0;
	}
	c->share = tot > 0 ? need[0] / tot : 0.5;
	{
		double g = 0;
		for (int k = 0; k < o->npools; k++)
			g += need[k] * o->tp[k];
		if (o->layout == PLAN_SINGLE || o->estimate_gpus <= 0 || g < o->estimate_gpus)
			o->estimate_gpus = g;
	}
	lo = (int)floor(0.8 * tot);
	hi = (int)ceil(1.3 * tot) + 1;
	if (ps->rq->lower && ps->cur_option < ps->rq->lower->noptions) {
		const plan_option *lo_o = &ps->rq->lower->options[ps->cur_option];
		int same = lo_o->feasible && !strcmp(lo_o->label, o->label) && lo_o->npools == o->npools;
		/* Tuned: only the same engine settings are monotone in load. */
		for (int k = 0; k < o->npools && same && ps->rq->tune; k++)
			same = lo_o->tp[k] == o->tp[k] && lo_o->max_num_seqs[k] == o->max_num_seqs[k] &&
			       lo_o->max_num_batched_tokens[k] == o->max_num_batched_tokens[k] &&
			       (o->layout == PLAN_SINGLE || lo_o->best.threshold == t);
		if (same && total_of(lo_o->best.replicas, o->npools) > min_n && total_of(lo_o->best.replicas, o->npools) <= maxr)
			min_n = total_of(lo_o->best.replicas, o->npools);
	}
	if (plan_search_min(pred, c, lo, hi, min_n, maxr, &found, &n, &evals, err))
		goto out;
	if (!found) {
		rc = 0;
		goto out;
	}
	split(n, c->share, o->npools, rep);
	if (eval_reps(c, rep, "search", &ev, err))
		goto out;
	*best = *ev;
	/* Dual: the proportional split over- or under-provisions one pool when the
	 * analytical shares are off; shrink each pool to its minimum with the other held,
	 * by bisection, alternating (plan_search_split), seeded with every simulation of
	 * this search so failures already seen bound the bisections. */
	if (o->npools == 2) {
		plan_point *known = calloc((size_t)c->nev, sizeof *known);
		int mins[FS_MAX_POOLS], out_rep[FS_MAX_POOLS], sfound = 0;
		if (!known) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		for (int i = 0; i < c->nev; i++) {
			memcpy(known[i].n, c->ev[i].replicas, sizeof known[i].n);
			known[i].pass = c->ev[i].pass;
			/* Joint verdict: every planned pass was also run on the verification traffic. */
			for (int j = 0; known[i].pass && c->vc && j < c->vc->nev; j++)
				if (!memcmp(c->vc->ev[j].replicas, c->ev[i].replicas, sizeof c->ev[i].replicas[0] * (size_t)o->npools))
					known[i].pass = c->vc->ev[j].pass;
		}
		for (int k = 0; k < o->npools; k++)
			mins[k] = 1;
		if (plan_search_split(pred_pools, c, o->npools, best->replicas, mins, known, c->nev, &sfound,
				      out_rep, NULL, err)) {
			free(known);
			goto out;
		}
		free(known);
		if (sfound) {
			if (eval_reps(c, out_rep, "split", &ev, err))
				goto out;
			*best = *ev;
		}
	}
	rc = 0;
out:
	if (c)
		free(c->vc);
	free(c);
	return rc;
}

/* Verify the winner on other traffic: a synthetic (or Poisson re-timed) workload on
 * seed + 1; a trace replay on a window of the trace shifted by half its length
 * (different requests, the same rate), since a replay ignores the seed.  If the
 * check fails, add replicas (alternating pools for dual) until it holds there and on
 * the original traffic.  Then, for the record only, the winner at +10 % load.
 * o->verify is the first check; o->check[] all of them; o->verified says what ran. */
static int verify(plan_state *ps, plan_option *o, fs_err *err)
{
	const base_info *bi = &ps->bi;
	pred_ctx *c = calloc(1, sizeof *c);
	int rep[FS_MAX_POOLS], maxr = ps->rq->max_replicas > 0 ? ps->rq->max_replicas : 512, rc = -1;
	char what[128];
	plan_eval *ev;

	if (!c)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	c->ps = ps;
	c->o = o;
	c->threshold = o->best.threshold;
	verif_traffic(ps, c, o->best.seed, what, sizeof what);
	memcpy(rep, o->best.replicas, sizeof rep);
	o->searched_gpus = o->best.gpus;
	for (int step = 0; step < 16; step++) {
		if (eval_reps(c, rep, "verify", &ev, err))
			goto out;
		o->verify = *ev;
		if (ev->pass)
			break;
		if (total_of(rep, o->npools) >= maxr)
			break;
		rep[o->npools == 2 ? step % 2 : 0]++;
	}
	o->nchecks = 0;
	snprintf(o->check_name[o->nchecks], sizeof o->check_name[0], "%s", what);
	o->check[o->nchecks++] = o->verify;
	if (!o->verify.pass) {
		o->feasible = 0;
		snprintf(o->note, sizeof o->note, "passes on the planned traffic but not on %.100s (%.80s)", what,
			 o->verify.reason);
		rc = 0;
		goto out;
	}
	if (total_of(rep, o->npools) != total_of(o->best.replicas, o->npools)) {
		/* Stepped up: the bigger fleet is the answer; check it on the planned traffic. */
		pred_ctx *c0 = calloc(1, sizeof *c0);
		if (!c0) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		c0->ps = ps;
		c0->o = o;
		c0->threshold = o->best.threshold;
		c0->seed = o->best.seed;
		if (eval_reps(c0, rep, "verify", &ev, err)) {
			free(c0);
			goto out;
		}
		if (ev->pass)
			o->best = *ev;
		else {
			o->feasible = 0;
			snprintf(o->note, sizeof o->note, "no fleet found that passes on the planned traffic and on %s",
				 what);
		}
		free(c0);
		if (!o->feasible) {
			rc = 0;
			goto out;
		}
	}
	/* A windowed trace replay: also a block bootstrap of the window, reported. */
	if (!bi->seeded && bi->win_duration_s > 0) {
		pred_ctx *c2 = calloc(1, sizeof *c2);
		char bs[96];
		if (!c2) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		snprintf(bs, sizeof bs, "workload.bootstrap={block: 60, seed: %llu}", (unsigned long long)o->best.seed + 1);
		c2->ps = ps;
		c2->o = o;
		c2->threshold = o->best.threshold;
		c2->seed = o->best.seed;
		c2->xset = bs;
		if (eval_reps(c2, o->best.replicas, "verify", &ev, err)) {
			free(c2);
			goto out;
		}
		snprintf(o->check_name[o->nchecks], sizeof o->check_name[0], "block bootstrap (60 s blocks, seed %llu)",
			 (unsigned long long)o->best.seed + 1);
		o->check[o->nchecks++] = *ev;
		free(c2);
	}
	/* +10 % load: reported, not enforced. */
	{
		pred_ctx *c1 = calloc(1, sizeof *c1);
		if (!c1) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		c1->ps = ps;
		c1->o = o;
		c1->threshold = o->best.threshold;
		c1->seed = o->best.seed;
		c1->load = ps->rq->load_scale * 1.1;
		if (eval_reps(c1, o->best.replicas, "verify", &ev, err)) {
			free(c1);
			goto out;
		}
		snprintf(o->check_name[o->nchecks], sizeof o->check_name[0], "load x1.1");
		o->check[o->nchecks++] = *ev;
		free(c1);
	}
	o->verify_ttft_min_s = o->verify_ttft_max_s = o->best.ttft_p99_s;
	{
		int w = snprintf(o->verified, sizeof o->verified, "%s", "");
		for (int i = 0; i < o->nchecks; i++) {
			const plan_eval *e = &o->check[i];
			if (e->ttft_p99_s < o->verify_ttft_min_s)
				o->verify_ttft_min_s = e->ttft_p99_s;
			if (e->ttft_p99_s > o->verify_ttft_max_s)
				o->verify_ttft_max_s = e->ttft_p99_s;
			if (w < (int)sizeof o->verified)
				w += snprintf(o->verified + w, sizeof o->verified - (size_t)w, "%s%s: %s (TTFT p99 %.3f s%s%.60s)",
					      i ? "; " : "", o->check_name[i], e->pass ? "pass" : "fail", e->ttft_p99_s,
					      e->pass ? "" : ", ", e->pass ? "" : e->reason);
		}
	}
	rc = 0;
out:
	free(c);
	return rc;
}

/* ---- tuning: TP x engine shape x threshold (rq->tune) ---------------------------- */

#define TUNE_MAX_CANDS 384
#define TUNE_MAX_LOADS 96

typedef struct tcand {
	int tp[FS_MAX_POOLS], li;       /* li: the loaded scenario (TP per pool, threshold) */
	int mns[FS_MAX_POOLS], mnbt[FS_MAX_POOLS];
	int64_t t;
	double est;                     /* closed-form GPUs at saturation */
	int defaults;                   /* the single pool at vLLM's defaults */
	double ttft_floor, tpot_floor, never;
} tcand;

typedef struct tload {
	int tp[FS_MAX_POOLS];
	int64_t t;
	scenario *sc;
} tload;

static void apply_cand(plan_option *o, const tcand *c, const scenario *sc)
{
	o->shape_set = 1;
	for (int k = 0; k < o->npools; k++) {
		const pool_cfg *p = &sc->policies[o->policy].pools[k];
		o->tp[k] = c->tp[k];
		o->max_num_seqs[k] = c->mns[k];
		o->max_num_batched_tokens[k] = c->mnbt[k];
		o->max_model_len[k] = p->max_model_len;
		o->gpu_memory_utilization[k] = p->mem.gpu_memory_utilization;
	}
}

static int cmp_cand(const void *a, const void *b)
{
	const tcand *x = a, *y = b;
	if (x->defaults != y->defaults)
		return y->defaults - x->defaults;
	return x->est < y->est ? -1 : x->est > y->est;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Dual thresholds: the rq's, else the scenario's plus the 50/75/90/95th percentiles of
 * the router's length estimate (prompt + max_tokens), rounded up to 256 tokens, that
 * leave both pools some traffic and fit the short pool. */
static int tune_thresholds(const plan_state *ps, const scenario *base, const plan_option *o, int64_t *ts)
{
	const plan_request *rq = ps->rq;
	int n = 0, dmt = ps->bi.default_max_tokens;
	int64_t short_len = o->synth_dual ? o->synth_long_len : base->policies[o->policy].pools[0].max_model_len;
	int64_t long_len = o->synth_dual ? o->synth_long_len : base->policies[o->policy].pools[1].max_model_len;
	int64_t *est;
	const double qs[] = {0.5, 0.75, 0.9, 0.95};

	if (rq->nthresholds > 0) {
		for (int i = 0; i < rq->nthresholds && i < 8; i++)
			ts[n++] = rq->thresholds[i];
		return n;
	}
	if (!o->synth_dual) {
		dmt = base->policies[o->policy].router.default_max_tokens;
		ts[n++] = base->policies[o->policy].router.thresholds[0];
	}
	est = malloc(ps->nreqs * sizeof *est);
	if (!est)
		return n;
	for (size_t i = 0; i < ps->nreqs; i++)
		est[i] = (int64_t)ps->reqs[i].in + (ps->reqs[i].mt > 0 ? ps->reqs[i].mt : dmt);
	qsort(est, ps->nreqs, sizeof *est, cmp_i64);
	for (int q = 0; q < 4; q++) {
		int64_t v = est[(size_t)(qs[q] * (double)(ps->nreqs - 1))], dup = 0;
		v = (v + 255) / 256 * 256;
		if (v < 256 || v >= long_len || v > short_len)
			continue;
		for (int j = 0; j < n; j++)
			dup |= ts[j] == v;
		if (!dup)
			ts[n++] = v;
	}
	free(est);
	return n;
}

static void tried_add(plan_option *o, const tcand *c, const plan_eval *b)
{
	struct plan_tried *t;

	if (o->ntried >= (int)(sizeof o->tried / sizeof o->tried[0]))
		return;
	t = &o->tried[o->ntried++];
	memset(t, 0, sizeof *t);
	for (int k = 0; k < o->npools; k++) {
		t->tp[k] = c->tp[k];
		t->max_num_seqs[k] = c->mns[k];
		t->max_num_batched_tokens[k] = c->mnbt[k];
	}
	t->threshold = c->t;
	t->found = b->pass;
	t->gpus = b->gpus;
	t->ttft_p99_s = b->ttft_p99_s;
}

/* Analytical requests/s per replica of each pool of o under candidate c (the report's). */
static void cand_cap_rps(const plan_state *ps, plan_option *o, const tcand *c, const scenario *sc)
{
	const policy_cfg *pc = &sc->policies[o->policy];
	fs_err e2 = {0};

	for (int k = 0; k < o->npools; k++) {
		const pool_cfg *pl = &pc->pools[k];
		cap_engine e = {.perf = &pl->perf, .kv_tokens = pl->plan.kv_tokens, .block_size = pl->mem.block_size,
				.max_num_seqs = c->mns[k], .max_num_batched_tokens = c->mnbt[k], .tp = pl->mem.tp};
		cap_mix m = {0};
		cap_result cr;
		for (size_t i = 0; i < ps->nreqs; i++) {
			const wl_req *r = &ps->reqs[i];
			int p = o->layout == PLAN_SINGLE ? ((int64_t)r->in + r->out <= o->max_model_len[0] ? 0 : -1)
							 : route(o, &pc->router, r, c->t);
			if (p == k)
				cap_mix_add(&m, r->in, r->out);
		}
		o->cap_rps[k] = m.n >= 1 && !cap_replica(&e, &m, &cr, &e2) ? cr.rps : 0;
	}
}

static int tune_option(plan_state *ps, const scenario *base, plan_option *o, fs_err *err)
{
	const plan_request *rq = ps->rq;
	int pol, node = rq->node_gpus > 0 ? rq->node_gpus : 8, kmax = rq->max_candidates > 0 ? rq->max_candidates : 6;
	int D, Db, Dk[FS_MAX_POOLS], Dbk[FS_MAX_POOLS], ntl = 0, nc = 0, nts = 0, simulated = 0, have = 0, rc = -1,
	    best_i = -1;
	int64_t ts[16];
	double gmu;
	gpu_spec g;
	fs_err e2 = {0};
	tload *tl = calloc(TUNE_MAX_LOADS, sizeof *tl);
	tcand *cs = calloc(TUNE_MAX_CANDS, sizeof *cs);
	char floor_note[256] = "", load_note[200] = "", last_err[160] = "";
	int last_tp = 0;
	const eng_release *rel;

	if (!tl || !cs) {
		free(tl);
		free(cs);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	pol = o->layout == PLAN_SINGLE ? ps->bi.single_policy : ps->bi.dual_policy;
	if (o->layout == PLAN_DUAL && pol < 0 && ps->bi.single_policy >= 0) {
		pol = ps->bi.single_policy;
		o->synth_dual = 1;
		o->synth_long_len = ps->bi.synth_long_len;
	}
	o->policy = pol;
	if (pol < 0) {
		snprintf(o->note, sizeof o->note, "the scenario has no %s policy to take the pool shapes from",
			 o->layout == PLAN_SINGLE ? "single-pool" : "single-pool or two-pool token_budget");
		rc = 0;
		goto out;
	}
	snprintf(o->policy_name, sizeof o->policy_name, "%s%s", base->policies[pol].name,
		 o->synth_dual ? " (as two pools)" : "");
	o->npools = o->synth_dual ? 2 : base->policies[pol].npools;
	if (o->mixed && o->npools != 2) {
		snprintf(o->note, sizeof o->note, "a GPU per pool needs a two-pool layout; policy '%.60s' has %d pools",
			 base->policies[pol].name, o->npools);
		rc = 0;
		goto out;
	}
	if (gpu_lookup(o->gpu, &g, err))
		goto out;
	snprintf(o->gpu_display, sizeof o->gpu_display, "%s", g.display);
	o->price_per_gpu_hour = g.price_per_hour;
	if (!strcmp(base->policies[pol].pools[0].gpu.name, g.name))
		o->price_per_gpu_hour = base->policies[pol].pools[0].price_per_gpu_hour;
	for (int k = 0; k < o->npools; k++)
		snprintf(o->pool_names[k], sizeof o->pool_names[k], "%s",
			 o->synth_dual ? (k ? "long" : "short") : base->policies[pol].pools[k].name);
	/* KV dtype as option_setup picks it (mixed: FP8 only when every pool's GPU has it). */
	if (o->prec == PREC_BF16)
		o->kv = base->policies[pol].pools[0].mem.kv;
	else
		o->kv = gpu_check_kv_dtype(&g, PREC_FP8, &e2) ? PREC_BF16 : PREC_FP8;
	rel = base->policies[pol].pools[0].mem.eng ? base->policies[pol].pools[0].mem.eng : eng_default();
	/* vLLM's defaults per pool: each pool's GPU class decides them. */
	for (int k = 0; k < o->npools; k++) {
		gpu_spec gk = g;
		if (o->mixed) {
			const pool_cfg *bp = &base->policies[pol].pools[o->synth_dual ? 0 : k];
			if (gpu_lookup(o->pool_gpu[k], &gk, err))
				goto out;
			snprintf(o->pool_gpu_display[k], sizeof o->pool_gpu_display[k], "%s", gk.display);
			o->pool_price[k] = !strcmp(bp->gpu.name, gk.name) ? bp->price_per_gpu_hour : gk.price_per_hour;
			if (o->prec != PREC_BF16 && gpu_check_kv_dtype(&gk, PREC_FP8, &e2))
				o->kv = PREC_BF16;
		}
		eng_pool_defaults(rel, &gk, &Dk[k], &Dbk[k], &gmu);
		if (rq->pin_max_num_seqs > 0)
			Dk[k] = rq->pin_max_num_seqs;
		if (rq->pin_max_num_batched_tokens > 0)
			Dbk[k] = rq->pin_max_num_batched_tokens;
		if (Dbk[k] < Dk[k])
			Dbk[k] = Dk[k];
	}
	if (o->mixed) {
		gpu_spec gl;
		if (gpu_lookup(o->pool_gpu[1], &gl, err))
			goto out;
		snprintf(o->gpu_display, sizeof o->gpu_display, "%.30s + %.30s", g.display, gl.display);
	}
	D = Dk[0];
	Db = Dbk[0];
	if (o->layout == PLAN_DUAL) {
		nts = tune_thresholds(ps, base, o, ts);
		if (!nts) {
			snprintf(o->note, sizeof o->note, "no dual threshold below the long pool's max_model_len");
			rc = 0;
			goto out;
		}
	} else {
		ts[nts++] = 0;
	}
	/* TP: powers of two that divide the attention heads, within one node. */
	{
		int64_t heads = base->model.heads > 0 ? base->model.heads : 1;
		int w = 0;
		for (int tp = 1; tp <= 64; tp *= 2) {
			if (rq->pin_tp > 0 && tp != rq->pin_tp)
				continue;
			if (tp > node) {
				if (rq->pin_tp > 0 || !ntl)
					w += snprintf(load_note + w, sizeof load_note - (size_t)w,
						      "%sTP %d spans more than one %d-GPU node: that needs pipeline "
						      "parallelism across nodes, which fleetsim does not model", w ? "; " : "",
						      tp, node);
				if (w > (int)sizeof load_note - 1)
					w = (int)sizeof load_note - 1;
				break;
			}
			if (heads % tp)
				continue;
			/* Dual: the long pool at the same TP or one step up (long contexts need
			 * KV; the short pool's short requests gain little from a wider TP). */
			for (int up = 0; up < (o->npools == 2 ? 2 : 1); up++) {
				int tpl = tp << up;
				if (up && (tpl > node || heads % tpl || rq->pin_tp > 0))
					continue;
				for (int ti = 0; ti < nts && ntl < TUNE_MAX_LOADS; ti++) {
					setlist l;
					scenario *sc = NULL;
					tcand c0 = {.t = ts[ti]};
					c0.tp[0] = tp;
					for (int k = 1; k < o->npools; k++)
						c0.tp[k] = tpl;
					for (int k = 0; k < o->npools; k++) {
						c0.mns[k] = Dk[k];
						c0.mnbt[k] = Dbk[k];
					}
					o->policy = pol;
					apply_cand(o, &c0, base); /* tp and shape only; max_model_len reset below */
					if (candidate_sets(rq, &ps->bi, o, NULL, ts[ti], rq->load_scale, &l, err))
						goto out;
					if (plan_load(rq, l.ptr, l.n, &sc, &e2)) {
						setlist_free(&l);
						/* The message without the file position. */
						{
							const char *m = strstr(e2.msg, ": pool ");
							snprintf(last_err, sizeof last_err, "%.150s", m ? m + 2 : e2.msg);
							last_tp = tpl;
						}
						if (!ntl && ti == 0 && !up && w < (int)sizeof load_note - 1) {
							w += snprintf(load_note + w, sizeof load_note - (size_t)w, "%sTP %d: %.120s",
								      w ? "; " : "", tp, e2.msg);
							if (w > (int)sizeof load_note - 1)
								w = (int)sizeof load_note - 1;
						}
						continue;
					}
					setlist_free(&l);
					tl[ntl] = (tload){.t = ts[ti], .sc = sc};
					memcpy(tl[ntl].tp, c0.tp, sizeof c0.tp);
					ntl++;
				}
			}
		}
	}
	snprintf(o->tp_note, sizeof o->tp_note, "%s", load_note);
	{
		size_t w = 0;
		o->tp_searched[0] = 0;
		for (int li = 0; li < ntl; li++) {
			char one[32];
			int dup = 0;
			for (int j = 0; j < li; j++)
				dup |= !memcmp(tl[j].tp, tl[li].tp, sizeof tl[li].tp);
			if (dup)
				continue;
			if (o->npools == 2)
				snprintf(one, sizeof one, "%d+%d", tl[li].tp[0], tl[li].tp[1]);
			else
				snprintf(one, sizeof one, "%d", tl[li].tp[0]);
			if (w + strlen(one) + 3 < sizeof o->tp_searched)
				w += (size_t)snprintf(o->tp_searched + w, sizeof o->tp_searched - w, "%s%s", w ? ", " : "", one);
		}
	}
	if (!ntl) {
		if (rq->pin_tp > node)
			snprintf(o->note, sizeof o->note, "%.250s", load_note);
		else
			snprintf(o->note, sizeof o->note,
				 "does not fit one %d-GPU node at any TP that divides the heads (it needs pipeline "
				 "parallelism across nodes, which fleetsim does not model); at TP %d: %.90s",
				 node, last_tp, last_err);
		rc = 0;
		goto out;
	}
	/* Candidates: per load, the engine shapes around vLLM's defaults. */
	for (int li = 0; li < ntl; li++) {
		const scenario *sc = tl[li].sc;
		const policy_cfg *pc = &sc->policies[pol];
		int W[FS_MAX_POOLS], S[FS_MAX_POOLS];
		int shapes[8][4], nsh = 0;
		for (int k = 0; k < o->npools; k++) {
			int64_t w = pc->pools[k].plan.kv_tokens / (pc->pools[k].max_model_len > 0 ? pc->pools[k].max_model_len : 1);
			W[k] = w < 1 ? 1 : w > Dk[k] ? Dk[k] : (int)w;
			S[k] = o->synth_dual ? Dk[k] : base->policies[pol].pools[k].max_num_seqs;
			if (S[k] > Dbk[k])
				S[k] = Dk[k];
		}
		if (rq->pin_max_num_seqs > 0)
			for (int k = 0; k < o->npools; k++)
				W[k] = S[k] = Dk[k];
#define ADD_SHAPE(a0, a1, b0, b1)                                                                     \
	do {                                                                                         \
		int sh[4] = {a0, a1, b0, b1}, dup = 0;                                               \
		for (int j = 0; j < nsh; j++)                                                        \
			dup |= shapes[j][0] == sh[0] && shapes[j][1] == sh[1] && shapes[j][2] == sh[2] &&  \
			       shapes[j][3] == sh[3];                                                \
		if (!dup && nsh < 8)                                                                 \
			memcpy(shapes[nsh++], sh, sizeof sh);                                        \
	} while (0)
		if (o->npools == 1) {
			ADD_SHAPE(D, 0, Db, 0);
			ADD_SHAPE(S[0], 0, Db, 0);
			ADD_SHAPE(W[0], 0, Db, 0);
			if (rq->pin_max_num_batched_tokens <= 0) {
				ADD_SHAPE(D, 0, 2 * Db, 0);
				ADD_SHAPE(W[0], 0, 2 * Db, 0);
			}
		} else {
			ADD_SHAPE(Dk[0], Dk[1], Dbk[0], Dbk[1]);
			ADD_SHAPE(S[0], S[1], Dbk[0], Dbk[1]);
			ADD_SHAPE(Dk[0], W[1], Dbk[0], Dbk[1]);
			ADD_SHAPE(W[0], W[1], Dbk[0], Dbk[1]);
			if (rq->pin_max_num_batched_tokens <= 0) {
				/* The long pool's prompts are long: bigger chunks prefill them in
				 * fewer steps (at the cost of decode stalls in the same steps). */
				ADD_SHAPE(Dk[0], Dk[1], Dbk[0], 2 * Dbk[1]);
				ADD_SHAPE(Dk[0], W[1], Dbk[0], 2 * Dbk[1]);
			}
		}
#undef ADD_SHAPE
		for (int si = 0; si < nsh && nc < TUNE_MAX_CANDS; si++) {
			tcand *c = &cs[nc];
			double need[FS_MAX_POOLS] = {0};
			int ok = 1;
			memset(c, 0, sizeof *c);
			memcpy(c->tp, tl[li].tp, sizeof c->tp);
			c->li = li;
			c->t = tl[li].t;
			for (int k = 0; k < o->npools; k++) {
				c->mns[k] = shapes[si][k];
				c->mnbt[k] = shapes[si][2 + k];
			}
			c->defaults = o->layout == PLAN_SINGLE && li == 0 && si == 0;
			apply_cand(o, c, sc);
			if (demand(ps, o, sc, c->t, need, &e2))
				continue;
			c->est = 0;
			for (int k = 0; k < o->npools; k++)
				c->est += need[k] * c->tp[k];
			/* The bounds at any fleet size, with this chunk size. */
			{
				scenario *scm = tl[li].sc;
				int keep[FS_MAX_POOLS];
				char note[256];
				memcpy(note, o->note, sizeof note);
				o->note[0] = 0;
				for (int k = 0; k < o->npools; k++) {
					keep[k] = scm->policies[pol].pools[k].max_num_batched_tokens;
					scm->policies[pol].pools[k].max_num_batched_tokens = c->mnbt[k];
				}
				if (slo_floor(ps, o, scm, &ok, err))
					goto out;
				for (int k = 0; k < o->npools; k++)
					scm->policies[pol].pools[k].max_num_batched_tokens = keep[k];
				c->ttft_floor = o->ttft_p99_floor_s;
				c->tpot_floor = o->tpot_p99_floor_s;
				c->never = o->never_fits;
				if (!ok)
					snprintf(floor_note, sizeof floor_note, "%.200s (at TP %d)", o->note, c->tp[o->npools - 1]);
				memcpy(o->note, note, sizeof note);
			}
			if (!ok && !c->defaults)
				continue;
			if (!ok)
				c->est = -1; /* defaults: kept to report, never simulated */
			nc++;
		}
	}
	o->candidates = nc;
	qsort(cs, (size_t)nc, sizeof *cs, cmp_cand);
	for (int i = 0; i < nc; i++) {
		tcand *c = &cs[i];
		plan_eval b;
		int cap = 0;
		if (c->est < 0) {
			o->has_defaults = 1;
			o->defaults_tp = c->tp[0];
			o->defaults_max_num_seqs = c->mns[0];
			o->defaults_max_num_batched_tokens = c->mnbt[0];
			continue;
		}
		if (have) {
			if (simulated >= kmax + (o->has_defaults ? 1 : 0))
				break;
			/* The closed form is a saturation bound: a candidate whose estimate
			 * already needs more GPUs than the best fleet found cannot win. */
			if (0.8 * c->est > o->best.gpus)
				continue;
			{
				/* Replicas are capped by the cheapest pool's TP (a bound, not exact). */
				int tmin = c->tp[0];
				for (int k = 1; k < o->npools; k++)
					tmin = c->tp[k] < tmin ? c->tp[k] : tmin;
				cap = o->best.gpus / tmin;
			}
			if (cap < o->npools)
				continue;
		}
		apply_cand(o, c, tl[c->li].sc);
		if (search_one(ps, o, tl[c->li].sc, c->t, cap, &b, err))
			goto out;
		simulated++;
		tried_add(o, c, &b);
		if (c->defaults) {
			o->has_defaults = 1;
			o->defaults_feasible = b.pass;
			o->defaults = b;
			o->defaults_tp = c->tp[0];
			o->defaults_max_num_seqs = c->mns[0];
			o->defaults_max_num_batched_tokens = c->mnbt[0];
		}
		if (!b.pass)
			continue;
		if (!have || b.gpus < o->best.gpus || (b.gpus == o->best.gpus && b.ttft_p99_s < o->best.ttft_p99_s)) {
			o->best = b;
			best_i = i;
			have = 1;
		}
	}
	o->candidates_simulated = simulated;
	/* Pareto front (GPUs vs TTFT p99) over what was simulated. */
	for (int i = 0; i < o->ntried; i++) {
		struct plan_tried *a = &o->tried[i];
		a->pareto = a->found;
		for (int j = 0; j < o->ntried && a->pareto; j++) {
			const struct plan_tried *b = &o->tried[j];
			if (j != i && b->found && b->gpus <= a->gpus && b->ttft_p99_s <= a->ttft_p99_s &&
			    (b->gpus < a->gpus || b->ttft_p99_s < a->ttft_p99_s))
				a->pareto = 0;
		}
	}
	if (best_i < 0) {
		/* Report the shape searched first. */
		if (nc)
			apply_cand(o, &cs[0], tl[cs[0].li].sc);
		if (floor_note[0] && !simulated)
			snprintf(o->note, sizeof o->note, "%s", floor_note);
		else
			snprintf(o->note, sizeof o->note, "no fleet of up to %d replicas meets the SLO at any TP / shape tried",
				 rq->max_replicas > 0 ? rq->max_replicas : 512);
		if (nc) {
			o->ttft_p99_floor_s = cs[0].ttft_floor;
			o->tpot_p99_floor_s = cs[0].tpot_floor;
			o->never_fits = cs[0].never;
		}
		rc = 0;
		goto out;
	}
	{
		const tcand *c = &cs[best_i];
		const scenario *sc = tl[c->li].sc;
		apply_cand(o, c, sc);
		o->ttft_p99_floor_s = c->ttft_floor;
		o->tpot_p99_floor_s = c->tpot_floor;
		o->never_fits = c->never;
		o->feasible = 1;
		cand_cap_rps(ps, o, c, sc);
	}
	rc = 0;
out:
	for (int i = 0; i < ntl; i++)
		scenario_free(tl[i].sc);
	free(tl);
	free(cs);
	return rc;
}

static int plan_option_run(plan_state *ps, const scenario *base, plan_option *o, fs_err *err)
{
	scenario *sc = NULL;
	int64_t ts[3];
	int nts = 0, rc = -1;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->mixed && !ps->rq->tune) {
		snprintf(o->note, sizeof o->note, "a GPU per pool needs the tuned search");
		rc = 0;
		goto out;
	}
	if (ps->rq->tune) {
		if (tune_option(ps, base, o, err) || (o->feasible && ps->rq->verify && verify(ps, o, err)))
			goto out;
		rc = 0;
		goto out;
	}
	if (option_setup(ps, base, o, &sc, err))
		return -1;
	if (!sc) {
		rc = 0;
		goto out;
	}
	{
		int ok = 1;
		if (slo_floor(ps, o, sc, &ok, err))
			goto out;
		if (!ok) {
			rc = 0;
			goto out;
		}
	}
	if (o->layout == PLAN_SINGLE) {
		ts[nts++] = 0;
	} else {
		const policy_cfg *pc = &sc->policies[o->policy];
		int64_t t0v = pc->router.thresholds[0], cand[3] = {t0v, t0v / 2, t0v * 2};
		for (int i = 0; i < 3; i++) {
			int dup = 0;
			if (cand[i] < 64 || cand[i] > o->max_model_len[0])
				continue;
			for (int j = 0; j < nts; j++)
				dup |= ts[j] == cand[i];
			if (!dup)
				ts[nts++] = cand[i];
		}
		if (!nts)
			ts[nts++] = t0v;
	}
	for (int i = 0; i < nts; i++) {
		plan_eval b;
		if (search_one(ps, o, sc, ts[i], 0, &b, err))
			goto out;
		if (!b.pass)
			continue;
		if (!o->feasible || b.gpus < o->best.gpus ||
		    (b.gpus == o->best.gpus && b.ttft_p99_s < o->best.ttft_p99_s)) {
			o->best = b;
			o->feasible = 1;
		}
	}
	/* Analytical capacity per replica at the chosen threshold, for the report. */
	if (o->feasible || nts) {
		double need[FS_MAX_POOLS];
		int64_t t = o->feasible ? o->best.threshold : ts[0];
		if (demand(ps, o, sc, t, need, err))
			goto out;
		for (int k = 0; k < o->npools; k++) {
			const pool_cfg *pl = &sc->policies[o->policy].pools[k];
			cap_engine e = {.perf = &pl->perf, .kv_tokens = pl->plan.kv_tokens,
					.block_size = pl->mem.block_size, .max_num_seqs = pl->max_num_seqs,
					.max_num_batched_tokens = pl->max_num_batched_tokens, .tp = pl->mem.tp};
			cap_mix m = {0};
			cap_result cr;
			for (size_t i = 0; i < ps->nreqs; i++) {
				const wl_req *r = &ps->reqs[i];
				int p = o->layout == PLAN_SINGLE
						? ((int64_t)r->in + r->out <= o->max_model_len[0] ? 0 : -1)
						: route(o, &sc->policies[o->policy].router, r, t);
				if (p == k)
					cap_mix_add(&m, r->in, r->out);
			}
			o->cap_rps[k] = m.n >= 1 && !cap_replica(&e, &m, &cr, err) ? cr.rps : 0;
		}
	}
	if (!o->feasible) {
		if (!o->note[0])
			snprintf(o->note, sizeof o->note, "no fleet of up to %d replicas meets the SLO",
				 ps->rq->max_replicas > 0 ? ps->rq->max_replicas : 512);
		rc = 0;
		goto out;
	}
	if (ps->rq->verify && verify(ps, o, err))
		goto out;
	rc = 0;
out:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	o->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	scenario_free(sc);
	return rc;
}

static void costs(plan_result *res, const plan_request *rq)
{
	for (int i = 0; i < res->noptions; i++) {
		plan_option *o = &res->options[i];
		gpu_spec g;
		fs_err e = {0};
		o->savings_vs_baseline = NAN;
		if (!o->feasible)
			continue;
		if (o->mixed) {
			/* A GPU type per pool: the fleet's $/GPU-hour is the GPU-weighted mean. */
			double usd = 0, idle = 0;
			int n = 0;
			for (int k = 0; k < o->npools; k++) {
				int gk = o->best.replicas[k] * o->tp[k];
				usd += gk * o->pool_price[k];
				if (!gpu_lookup(o->pool_gpu[k], &g, &e))
					idle += gk * perf_idle_power_w(&g);
				n += gk;
			}
			o->price_per_gpu_hour = n > 0 ? usd / n : 0;
			o->idle_power_w_per_gpu = n > 0 ? idle / n : 0;
		}
		o->gpu_hours_per_day = o->best.gpus * 24.0;
		o->gpu_hours_per_year = o->best.gpus * PLAN_HOURS_PER_YEAR;
		o->annual_cost = o->gpu_hours_per_year * o->price_per_gpu_hour;
		/* Mean board power from the simulated steps (compute- vs memory-bound time,
		 * idle between steps).  Without simulated energy (not expected: every run
		 * accounts it) the same model takes busy time as memory-bound, its lower
		 * bound for a busy GPU. */
		if (o->best.avg_power_w > 0 && o->best.gpus > 0)
			o->power_w_per_gpu = o->best.avg_power_w / o->best.gpus;
		else
			o->power_w_per_gpu = gpu_lookup(o->gpu, &g, &e) ? 0
							: perf_power_w(&g, 0, o->best.busy_share);
		o->power_kw = o->best.gpus * o->power_w_per_gpu / 1000.0;
		o->energy_mwh_per_year = o->power_kw * PLAN_HOURS_PER_YEAR / 1000.0;
		if (!o->mixed)
			o->idle_power_w_per_gpu = gpu_lookup(o->gpu, &g, &e) ? 0 : perf_idle_power_w(&g);
		if (rq && rq->cost) {
			/* Output tokens per second of the chosen fleet. */
			double tps = o->best.energy_j > 0 && o->best.makespan_s > 0 ?
					     o->best.tokens_per_joule * o->best.energy_j / o->best.makespan_s : 0;
			fs_err ce = {0};

			o->cost_ok = !cost_compute(rq->cost, o->best.gpus, o->price_per_gpu_hour,
						   o->power_kw * 1000.0, o->idle_power_w_per_gpu, tps, &o->cost, &ce);
			if (!o->cost_ok)
				snprintf(o->note, sizeof o->note, "%.255s", ce.msg);
		}
	}
	/* Rank by annual cost, then GPUs, then P99 TTFT. */
	for (int r = 1;; r++) {
		int pick = -1;
		for (int i = 0; i < res->noptions; i++) {
			plan_option *o = &res->options[i], *p;
			if (!o->feasible || o->rank)
				continue;
			if (pick < 0) {
				pick = i;
				continue;
			}
			p = &res->options[pick];
			if (o->annual_cost < p->annual_cost ||
			    (o->annual_cost == p->annual_cost &&
			     (o->best.gpus < p->best.gpus ||
			      (o->best.gpus == p->best.gpus && o->best.ttft_p99_s < p->best.ttft_p99_s))))
				pick = i;
		}
		if (pick < 0)
			break;
		res->options[pick].rank = r;
		if (r == 1)
			res->best = pick;
	}
	if (res->baseline >= 0 && res->options[res->baseline].feasible) {
		double b = res->options[res->baseline].annual_cost;
		for (int i = 0; i < res->noptions; i++)
			if (res->options[i].feasible && b > 0)
				res->options[i].savings_vs_baseline = (b - res->options[i].annual_cost) / b;
	}
}

/* Load the scenario at the planned load (no candidate applied) into *out (the
 * caller's, scenario_free): the workload summary and the template shapes come from
 * it.  Returns 0, or -1 with err (*out is then not set). */
static int load_planned_base(const plan_request *rq, const base_info *bi, scenario **out, fs_err *err)
{
	setlist l;
	plan_option dummy;
	int rc;

	memset(&dummy, 0, sizeof dummy);
	dummy.layout = PLAN_SINGLE;
	if (candidate_sets(rq, bi, &dummy, NULL, 0, rq->load_scale, &l, err))
		return -1;
	rc = plan_load(rq, l.ptr, l.n, out, err);
	setlist_free(&l);
	return rc;
}

/* Fill res's scenario-wide fields from base and summarise its workload (ps->reqs
 * holds the requests afterwards; ps owns them).  Returns 0, or -1 with err. */
static int describe_base(plan_state *ps, const scenario *base, fs_err *err)
{
	plan_result *res = ps->res;
	trace_reader *tr = NULL;

	snprintf(res->scenario, sizeof res->scenario, "%s", base->name);
	snprintf(res->model, sizeof res->model, "%s", base->model.name);
	res->slo = base->slo;
	res->max_rejection_rate = mx_slo_max_rejection(base->max_rejection_rate);
	res->seed = base->seed;
	if (read_workload(ps, base, err))
		return -1;
	if (workload_open(&base->workload, base->seed, &tr, err) || tstats_compute(tr, 1, &res->stats, err)) {
		trace_close(tr);
		return -1;
	}
	trace_close(tr);
	return 0;
}

/* One option per GPU x precision x layout, in that nesting order (the report lists
 * them so), with each GPU's calibration source.  Returns 0, or -1 with err for an
 * unknown GPU. */
static int enumerate_options(const plan_request *rq, plan_result *res, fs_err *err)
{
	for (int g = 0; g < rq->ngpus; g++) {
		gpu_spec gs;
		if (gpu_lookup(rq->gpus[g], &gs, err))
			return -1;
		snprintf(res->calib_source[g], sizeof res->calib_source[g], "%.63s: %.127s", gs.name,
			 gs.calib_source);
		for (int p = 0; p < rq->nprecs; p++)
			for (int l = 0; l < rq->nlayouts; l++) {
				plan_option *o = &res->options[res->noptions++];
				memset(o, 0, sizeof *o);
				memcpy(o->gpu, rq->gpus[g], sizeof o->gpu);
				o->gpu[sizeof o->gpu - 1] = 0;
				o->prec = rq->precs[p];
				o->layout = rq->layouts[l];
				o->policy = -1;
				o->price_per_gpu_hour = -1;
				snprintf(o->label, sizeof o->label, "%.63s/%s/%s", rq->gpus[g], prec_name(o->prec),
					 plan_layout_name(o->layout));
			}
	}
	/* --mixed-gpus: the dual layout with the short pool on one GPU and the long pool
	 * on another (every ordered pair), labelled "short+long/precision/dual". */
	for (int l = 0; rq->mixed_gpus && l < rq->nlayouts; l++) {
		if (rq->layouts[l] != PLAN_DUAL)
			continue;
		for (int p = 0; p < rq->nprecs; p++)
			for (int a = 0; a < rq->ngpus; a++)
				for (int b = 0; b < rq->ngpus; b++) {
					plan_option *o;
					if (a == b || res->noptions >= PLAN_MAX_OPTIONS)
						continue;
					o = &res->options[res->noptions++];
					memset(o, 0, sizeof *o);
					snprintf(o->gpu, sizeof o->gpu, "%s", rq->gpus[a]);
					o->mixed = 1;
					snprintf(o->pool_gpu[0], sizeof o->pool_gpu[0], "%s", rq->gpus[a]);
					snprintf(o->pool_gpu[1], sizeof o->pool_gpu[1], "%s", rq->gpus[b]);
					o->prec = rq->precs[p];
					o->layout = PLAN_DUAL;
					o->policy = -1;
					o->price_per_gpu_hour = -1;
					o->pool_price[0] = o->pool_price[1] = -1;
					snprintf(o->label, sizeof o->label, "%.40s+%.40s/%s/dual", rq->gpus[a], rq->gpus[b],
						 prec_name(o->prec));
				}
	}
	return 0;
}

/* res->baseline: the option named by rq->baseline, else the first GPU's BF16 single
 * pool, else option 0.  Returns 0, or -1 with err when the named option is not
 * planned. */
static int pick_baseline(const plan_request *rq, plan_result *res, fs_err *err)
{
	if (rq->baseline) {
		for (int i = 0; i < res->noptions; i++)
			if (!strcasecmp(res->options[i].label, rq->baseline))
				res->baseline = i;
		if (res->baseline < 0)
			return fs_fail(err, FS_EXIT_INPUT,
				       "plan: baseline '%s' is not one of the planned options (e.g. %s)", rq->baseline,
				       res->options[0].label);
		return 0;
	}
	res->baseline = 0;
	for (int i = 0; i < res->noptions; i++)
		if (!strcmp(res->options[i].gpu, rq->gpus[0]) && res->options[i].prec == PREC_BF16 &&
		    res->options[i].layout == PLAN_SINGLE) {
			res->baseline = i;
			break;
		}
	return 0;
}

/* The scenario's own pools may not load (a 70B model on one GPU): then every pool of
 * every policy is given the smallest power-of-two TP up to node_gpus at which the
 * scenario loads, as --set assignments appended to the user's (each candidate sets
 * its own option's TP after them).  *extra (caller frees, with its strings) holds the
 * new set list; NULL when the scenario loads as it is. */
static int plan_run_inner(const plan_request *rq, plan_result **out, fs_err *err);

static int raise_tp(plan_request *rq, const char ***extra, fs_err *err)
{
	struct fy_document *fyd;
	struct fy_node *pols, *pol;
	void *it = NULL;
	int node = rq->node_gpus > 0 ? rq->node_gpus : 8, npairs = 0, pools[64];
	base_info bi;
	fs_err e0 = {0};

	*extra = NULL;
	if (!load_base(rq, &bi, NULL, &e0))
		return 0;
	fyd = fy_document_build_from_string(NULL, rq->scenario_text, rq->scenario_len);
	pols = fyd ? fy_node_by_path(fy_document_root(fyd), "/policies", (size_t)-1, FYNWF_DONT_FOLLOW) : NULL;
	while (pols && fy_node_get_type(pols) == FYNT_SEQUENCE && npairs < 64 && (pol = fy_node_sequence_iterate(pols, &it))) {
		struct fy_node *pl = fy_node_by_path(pol, "/pools", (size_t)-1, FYNWF_DONT_FOLLOW);
		pools[npairs++] = pl && fy_node_get_type(pl) == FYNT_SEQUENCE ? fy_node_sequence_item_count(pl) : 0;
	}
	fy_document_destroy(fyd);
	/* Up to 64, past the node: the plan must start so that each option can say that
	 * it needs more than one node. */
	(void)node;
	for (int tp = 2; tp <= 64; tp *= 2) {
		int n = 0, total = 0;
		const char **sets;
		for (int i = 0; i < npairs; i++)
			total += pools[i];
		sets = calloc((size_t)rq->nsets + (size_t)total + 1, sizeof *sets);
		if (!sets)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		for (int i = 0; i < rq->nsets; i++)
			sets[n++] = rq->sets[i];
		for (int i = 0; i < npairs; i++)
			for (int k = 0; k < pools[i]; k++) {
				char buf[96];
				snprintf(buf, sizeof buf, "policies.%d.pools.%d.tensor_parallel_size=%d", i, k, tp);
				sets[n++] = strdup(buf);
			}
		{
			plan_request r2 = *rq;
			fs_err e1 = {0};
			r2.sets = sets;
			r2.nsets = n;
			if (!load_base(&r2, &bi, NULL, &e1)) {
				*extra = sets;
				rq->sets = sets;
				rq->nsets = n;
				return 0;
			}
		}
		for (int i = rq->nsets; i < n; i++)
			free((char *)sets[i]);
		free(sets);
	}
	/* Still does not load: report the original error. */
	*err = e0;
	return -1;
}

static void free_extra(const char **extra, int nuser, int n)
{
	if (!extra)
		return;
	for (int i = nuser; i < n; i++)
		free((char *)extra[i]);
	free(extra);
}

int plan_run(const plan_request *rq0, plan_result **out, fs_err *err)
{
	raised rs;
	int rc;

	*out = NULL;
	if (plan_raise(rq0, &rs, err))
		return -1;
	rc = plan_run_inner(&rs.rq, out, err);
	plan_unraise(&rs);
	return rc;
}

static int plan_run_inner(const plan_request *rq, plan_result **out, fs_err *err)
{
	plan_state ps;
	plan_result *res = calloc(1, sizeof *res);
	scenario *base = NULL;
	struct timespec t0, t1;

	memset(&ps, 0, sizeof ps);
	*out = NULL;
	if (!res)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ps.rq = rq;
	ps.res = res;
	res->baseline = -1;
	res->best = -1;
	res->load_scale = rq->load_scale;
	res->max_preemptions_per_request = rq->max_preemptions_per_request;
	if (rq->ngpus < 1 || rq->nprecs < 1 || rq->nlayouts < 1) {
		fs_fail(err, FS_EXIT_INPUT, "plan: need at least one GPU, precision and layout");
		goto fail;
	}
	if (!(rq->load_scale > 0)) {
		fs_fail(err, FS_EXIT_INPUT, "plan: load scale must be positive, got %g", rq->load_scale);
		goto fail;
	}
	if (load_base(rq, &ps.bi, NULL, err) || load_planned_base(rq, &ps.bi, &base, err) ||
	    describe_base(&ps, base, err) || enumerate_options(rq, res, err) || pick_baseline(rq, res, err))
		goto fail;
	for (int i = 0; i < res->noptions; i++) {
		ps.cur_option = i;
		if (plan_option_run(&ps, base, &res->options[i], err))
			goto fail;
	}
	costs(res, rq);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	scenario_free(base);
	free(ps.reqs);
	*out = res;
	return 0;
fail:
	scenario_free(base);
	free(ps.reqs);
	plan_result_free(res);
	return -1;
}

void plan_result_free(plan_result *r)
{
	if (!r)
		return;
	tstats_free(&r->stats);
	free(r);
}
