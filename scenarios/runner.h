/*
 * runner.h - run one policy of a loaded scenario: open its workload stream, replay it
 * on the policy's fleet and aggregate the results.  Shared by `run`, `sweep` and
 * `plan`; holds no global state, so several runners may work on threads at once
 * (each on its own scenario copy or policy).
 */
#ifndef FS_RUNNER_H
#define FS_RUNNER_H

#include "scenarios/scenario.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "util/err.h"

typedef struct runner_opts {
	int with_requests;      /* keep per-request rows for the requests table */
	int check_invariants;   /* replica_check after every step */
	int reference;          /* step-by-step reference engine instead of the fast path */
	void (*progress)(void *ctx, double sim_s, int64_t arrived); /* may be NULL */
	void *progress_ctx;
} runner_opts;

typedef struct runner_result {
	int policy;                          /* index into sc->policies */
	metrics *m;                          /* owned */
	fleet_result res;
	metrics_summary fleet;               /* pool "*" */
	metrics_summary pools[FS_MAX_POOLS];
	double wall_s;                       /* host seconds the replay took */
	int64_t bad_rows;                    /* trace rows skipped with skip_bad_rows */
	/* Per workload category (index = trace category; names: metrics_category_name of m),
	 * the first RUNNER_MAX_CATEGORIES of them; owned. */
	metrics_summary *cats;
	int ncats;
} runner_result;

#define RUNNER_MAX_CATEGORIES 64

/* Replay policy i of sc. Returns 0 with *out filled (free with runner_result_free),
 * or -1 with err ("SCENARIO: policy 'x': ..."); *out needs no freeing then. */
int runner_run_policy(const scenario *sc, int i, const runner_opts *o, runner_result *out,
		      fs_err *err);
void runner_result_free(runner_result *r);

/* Whether the run meets the scenario's SLO: mx_slo_verdict_ex with the scenario's
 * default targets, slo.classes, slo.pools and slo.per_pool, on the fleet and every
 * pool of r.  max_preemptions_per_request < 0: not part of the SLO.  The one rule of
 * run, sweep and plan.  Returns 0 with *out, or -1 on allocation failure. */
int runner_slo_verdict(const scenario *sc, const runner_result *r, double max_preemptions_per_request,
		       mx_verdict *out);

#endif
