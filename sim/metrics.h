/*
 * metrics.h - what a run measured: per-request records, sampled time series, and
 * per-pool / fleet aggregates (SPEC section 6).  All times in seconds.
 *
 * The collector (metrics) owns its arrays; the record types are plain structs so the
 * reports layer can write them without knowing the simulator.
 */
#ifndef FS_METRICS_H
#define FS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/request.h"
#include "util/err.h"
#include "util/simtime.h"

typedef struct mx_request {
	int64_t id;
	double arrival_s;
	double first_token_s;  /* -1 if none */
	double finish_s;       /* -1 if none */
	double ttft_s;         /* first_token - arrival, -1 if none */
	double tpot_s;         /* (finish - first_token) / (output - 1), -1 if output < 2 */
	double e2e_s;          /* finish - arrival, -1 if none */
	int32_t prompt, output, preemptions, category;
	int16_t pool, replica;
	uint8_t status;        /* rq_status: RQ_DONE, RQ_REJECTED, RQ_UNFINISHED */
	uint8_t misrouted;
} mx_request;

/* What the aggregates need of one request (32 bytes, against mx_request's 80): kept
 * for every request in both storage modes.  Times are integer nanoseconds so the
 * doubles of mx_request can be recomputed bit for bit (mx_brief_ttft_s etc.);
 * MX_NONE marks a missing time. */
#define MX_NONE INT64_MIN
typedef struct mx_brief {
	int64_t ttft_ns;       /* first_token - arrival, MX_NONE without a first token */
	int64_t e2e_ns;        /* finish - arrival for RQ_DONE, else MX_NONE */
	int32_t prompt;
	int32_t output;        /* as mx_request.output: generated if done, else planned */
	int32_t preemptions;
	int16_t pool;
	uint8_t status;        /* rq_status */
	uint8_t misrouted;
} mx_brief;

/* mx_request.ttft_s / e2e_s / tpot_s of a brief, bit-identical (-1 when undefined). */
static inline double mx_brief_ttft_s(const mx_brief *b)
{
	return b->ttft_ns != MX_NONE ? st_to_s(b->ttft_ns) : -1.0;
}

static inline double mx_brief_e2e_s(const mx_brief *b)
{
	return b->e2e_ns != MX_NONE ? st_to_s(b->e2e_ns) : -1.0;
}

static inline double mx_brief_tpot_s(const mx_brief *b)
{
	/* finish - first_token = e2e - ttft exactly (integers), then mx_request's formula */
	return b->e2e_ns != MX_NONE && b->ttft_ns != MX_NONE && b->output >= 2
		       ? st_to_s(b->e2e_ns - b->ttft_ns) / (b->output - 1)
		       : -1.0;
}

/* Which per-request value metrics_values returns. */
typedef enum mx_value { MX_TTFT = 0, MX_TPOT = 1, MX_E2E = 2 } mx_value;

typedef struct mx_sample {
	double t_s;
	int16_t pool;          /* pool index */
	int32_t running, waiting;
	double kv_usage;       /* blocks used / total over the pool's replicas, [0,1] */
	int64_t kv_used, kv_total; /* the blocks behind kv_usage (0/0 if not recorded) */
} mx_sample;

typedef struct mx_slo {
	double ttft_p99_s;     /* <= 0: not set */
	double tpot_p99_s;     /* <= 0: not set */
} mx_slo;

/* Per-class and per-pool SLO targets (scenario keys slo.classes, slo.pools,
 * slo.per_pool; docs/planning.md "SLOs per class and per pool").  A class is a set of
 * requests: one workload category, or a length range over prompt + output tokens
 * (MX_CLASS_TOTAL) or over the prompt alone (MX_CLASS_PROMPT), bounds inclusive.  A
 * request belongs to the first class that holds it; requests in no class are judged
 * by the default (fleet-wide) targets, mx_slo.  A class's or pool's unset target
 * (<= 0) inherits the default. */
#define MX_SLO_MAX_CLASSES 16
#define MX_SLO_MAX_POOLS 16
enum { MX_CLASS_CATEGORY = 0, MX_CLASS_TOTAL = 1, MX_CLASS_PROMPT = 2 };

typedef struct mx_slo_class {
	char name[64];
	int kind;               /* MX_CLASS_* */
	char category[64];      /* MX_CLASS_CATEGORY: the workload category's name */
	int64_t min_tokens, max_tokens; /* length classes: inclusive range */
	mx_slo target;          /* unset fields inherit the default */
	int line, col;          /* of the class's category: key in the scenario (0: unknown) */
} mx_slo_class;

typedef struct mx_slo_pool {
	char name[64];          /* a pool name of the scenario's policies */
	mx_slo target;          /* unset fields inherit the default */
} mx_slo_pool;

typedef struct mx_slo_detail {
	int present;            /* the scenario has an slo: section */
	int per_pool;           /* every pool must meet its own targets (default 1) */
	int nclasses, npools;
	mx_slo_class classes[MX_SLO_MAX_CLASSES];
	mx_slo_pool pools[MX_SLO_MAX_POOLS];
} mx_slo_detail;

/* The rejection limit when the scenario sets no slo.max_rejection_rate. */
#define MX_DEFAULT_MAX_REJECTION 0.001

/* One pool's (or, with pool "*", the fleet's) aggregates for one run. */
typedef struct metrics_summary {
	char pool[64];
	char gpu[64];
	int replicas, gpus;
	int64_t requests, completed, rejected, unfinished;
	int64_t preemptions, preempted_requests, misroutes;
	double preemptions_per_request, preempted_share, traffic_share;
	double ttft_p50_s, ttft_p90_s, ttft_p99_s, ttft_max_s, ttft_mean_s;
	double tpot_p50_s, tpot_p90_s, tpot_p99_s, tpot_max_s;
	double e2e_p50_s, e2e_p90_s, e2e_p99_s, e2e_max_s;
	double throughput_rps, output_tps;
	double makespan_s;       /* first arrival to last finish */
	double gpu_busy_s;       /* sum of step time x tp */
	double gpu_hours;        /* provisioned: GPUs x makespan / 3600 */
	double kv_usage_mean, kv_usage_max;
	double slo_attainment;   /* share of completed requests meeting every set SLO */
	double goodput_rps;      /* completed requests meeting the SLO per second */
	int64_t steps;
	/* Power model (models/perf.h; fleet_summarize fills them, 0 elsewhere): */
	double energy_j;          /* all the pool's GPUs over the makespan, idle included */
	double avg_power_w;       /* energy_j / makespan_s: the pool's mean draw, all GPUs */
	double utilisation;       /* compute utilisation: compute-bound GPU-seconds /
				   * provisioned GPU-seconds (busy share = gpu_busy_s / the same) */
	double tokens_per_joule;  /* output tokens / energy_j */
	double energy_per_mtok_j; /* energy_j per million output tokens */
} metrics_summary;

typedef struct metrics metrics;

/* Create an empty collector that keeps full per-request rows (metrics_requests).
 * Same as metrics_create_ex(1, out). Returns 0 and *out (caller owns,
 * metrics_destroy), or -1. */
int metrics_create(metrics **out);

/* Create an empty collector; keep_rows = 0 stores only an mx_brief per request (32
 * bytes instead of 32 + 80): summaries, metrics_briefs and metrics_values are the
 * same in both modes, bit for bit, but metrics_requests has no rows.  Returns 0 and
 * *out (caller owns, metrics_destroy), or -1 on allocation failure. */
int metrics_create_ex(int keep_rows, metrics **out);
int metrics_keeps_rows(const metrics *m);
void metrics_destroy(metrics *m);

/* Record a request that has left the simulation (done, rejected or unfinished).
 * Returns 0, or -1 on allocation failure. */
int metrics_add_request(metrics *m, const sim_req *r);
int metrics_add_sample(metrics *m, const mx_sample *s);

/* Full rows in recording order; NULL and *n = 0 when the collector does not keep
 * rows (metrics_create_ex(0, ..)): use metrics_briefs / metrics_values then. */
const mx_request *metrics_requests(const metrics *m, size_t *n);
/* One brief per recorded request, in recording order (both modes; owned by m). */
const mx_brief *metrics_briefs(const metrics *m, size_t *n);
/* Number of requests recorded (both modes). */
size_t metrics_count(const metrics *m);

/* The TTFT / TPOT / E2E seconds (which) of every recorded request of pool `pool`
 * (-1: all) for which it is defined (TTFT: had a first token, whatever its status;
 * TPOT: done with >= 2 output tokens; E2E: done), in recording order: the values
 * the callers of metrics_requests filtered with `x >= 0`.  Returns 0 with *out
 * (malloc'd, never NULL, caller frees) and *n, or -1 on allocation failure or a bad
 * `which`. */
int metrics_values(const metrics *m, int pool, mx_value which, double **out, size_t *n);
const mx_sample *metrics_samples(const metrics *m, size_t *n);

/* Aggregate the recorded requests of pool `pool` (-1: all) into *out; the caller fills
 * the capacity fields it knows (replicas, gpus, gpu_busy_s, steps, makespan) first:
 * this function sets the request-derived fields and gpu_hours from gpus x makespan_s.
 * Returns 0 or -1 on allocation failure. */
int metrics_summarize(const metrics *m, int pool, const mx_slo *slo, metrics_summary *out);
/* As metrics_summarize over the requests of workload category cat (an index of
 * metrics_set_categories) in every pool; out->pool gets the category's name (cut at 63
 * bytes; metrics_category_name has it whole).  The GPU and energy fields are left as
 * the caller set them (a category has no GPUs of its own); set out->makespan_s first
 * for the per-second figures.  Returns 0, or -1 on allocation failure or an unknown
 * category. */
int metrics_summarize_category(const metrics *m, int cat, const mx_slo *slo, metrics_summary *out);
/* Number of category names set (metrics_set_categories) and name i (owned by m; NULL
 * when out of range). */
int metrics_category_count(const metrics *m);
const char *metrics_category_name(const metrics *m, int i);

/* Whether one latency pair meets the SLO's latency limits: a set TTFT limit needs a
 * TTFT (ttft_s >= 0) no larger than it; a set TPOT limit is met by an undefined TPOT
 * (tpot_s < 0: a one-token output has none) or one no larger than it.  Unset limits
 * (<= 0) always hold.  Used on each completed request (slo_attainment) and on the
 * fleet's P99s (mx_slo_verdict), so both read "meets the SLO" the same way.  Returns
 * 1 or 0. */
int mx_slo_latency_ok(const mx_slo *slo, double ttft_s, double tpot_s);

/* The rejection limit in force: max_rejection_rate as the scenario set it (>= 0), or
 * MX_DEFAULT_MAX_REJECTION when unset (< 0). */
double mx_slo_max_rejection(double max_rejection_rate);

/* What mx_slo_verdict decided for one run. */
typedef struct mx_verdict {
	int pass;               /* 1: the run meets the SLO */
	double rejection_rate;  /* (rejected + unfinished) / requests; 1 with no requests */
	char reason[160];       /* the first limit broken, "" when pass */
} mx_verdict;

/* The fleet-wide rule for "this run meets the SLO"; run, sweep and plan use it through
 * mx_slo_verdict_ex (below: the same checks, then per class and per pool).  fleet is
 * the fleet-wide ("*") summary of the run.  The checks, in order; the first that
 * fails names the reason:
 *   1. the workload had requests ("no requests in the workload");
 *   2. (rejected + unfinished) / requests <= the rejection limit
 *      (mx_slo_max_rejection(max_rejection_rate): 0.001 when unset): a request that
 *      never finished was not served, whether the router turned it away or the run
 *      ended first ("rejection rate R > LIMIT");
 *   3. TTFT p99 <= slo->ttft_p99_s when set; no completed request (p99 < 0) fails
 *      ("TTFT p99 X s > LIMIT s");
 *   4. TPOT p99 <= slo->tpot_p99_s when set; no TPOT at all (only one-token outputs)
 *      passes ("TPOT p99 X s > LIMIT s");
 *   5. preemptions per request <= max_preemptions_per_request when that is >= 0 (the
 *      planner's --max-preemptions; < 0: not part of the SLO).
 * The limits are inclusive: a value equal to its limit passes.  Returns 0 with *out,
 * or -1 (out untouched) when slo, fleet or out is NULL. */
int mx_slo_verdict(const mx_slo *slo, double max_rejection_rate, double max_preemptions_per_request,
		   const metrics_summary *fleet, mx_verdict *out);

/* mx_slo_verdict, then (when d is not NULL) the per-class and per-pool targets of d:
 *   6. each class, fleet-wide: its TTFT / TPOT p99 (completed requests of the class)
 *      within the class's targets ("class 'short': TTFT p99 X s > LIMIT s"); a class
 *      with no completed request is not judged.  With classes, checks 3 and 4 read
 *      only the requests in no class (skipped when there are none);
 *   7. with d->per_pool, each pool that received requests: with a TTFT target it has a
 *      completed request ("pool 'long': no completed request of N"), and the p99s of its requests in no
 *      class meet the pool's targets (slo.pools, else the default): "pool 'long': TTFT
 *      p99 1662.000 s > 2.000 s"; then each class within the pool ("pool 'long', class
 *      'docs': ...").
 * Without classes the figures are the summaries' own (fleet, pools[p]), so with d NULL,
 * or no classes and per_pool 0, the verdict is mx_slo_verdict's bit for bit.  m (the
 * run's collector, for the class figures) may be NULL when d has no classes.  pools
 * holds the npools per-pool summaries (their .pool names match d->pools).  Returns 0
 * with *out, or -1 (out untouched) on a NULL argument or allocation failure. */
int mx_slo_verdict_ex(const mx_slo *slo, const mx_slo_detail *d, double max_rejection_rate,
		      double max_preemptions_per_request, const metrics *m, const metrics_summary *fleet,
		      const metrics_summary *pools, int npools, mx_verdict *out);

/* Record the names of the workload's categories (index = sim_req.category), for
 * category classes.  Copies them.  Returns 0, or -1 on allocation failure. */
int metrics_set_categories(metrics *m, const char *const *names, int n);
/* Judge slo_attainment and goodput request by request (metrics_summarize): a request
 * in a class of d against the class's targets, else against its pool's (slo.pools;
 * pool_names[p] names the policy's pool p), unset fields inheriting the summary's
 * default.  Call after metrics_set_categories.  d with no classes and no pool targets
 * (or NULL) restores the default for every request.  Copies d.  Returns 0, or -1 on
 * allocation failure. */
int metrics_set_targets(metrics *m, const mx_slo_detail *d, const char *const *pool_names, int npools);
/* Index of category `name` among those set, or -1. */
int metrics_category_index(const metrics *m, const char *name);

/* The class (index into d->classes) request b (of category `category`, -1 none)
 * belongs to, or -1; cat_idx[k] is class k's category index (-1 when unknown). */
int mx_slo_class_of(const mx_slo_detail *d, const int *cat_idx, const mx_brief *b, int32_t category);

/* Quantile q in [0,1] of the n values (need not be sorted; v is not modified).
 * Returns -1 when n == 0.  Helper shared with trace statistics. */
double metrics_quantile(const double *v, size_t n, double q);
/* Quantile q of the keep smallest values of v[0, n), as metrics_quantile would give for
 * them (GSL's interpolation), in O(n): v is reordered in place.  -1 when keep is 0. */
double metrics_quantile_inplace(double *v, size_t n, size_t keep, double q);

#endif
