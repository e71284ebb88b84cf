/*
 * compare.h - a token-budget policy against the homogeneous baseline: the paper's
 * closed-form saving next to what the simulation measured.
 *
 * Closed form (arXiv 2604.08075): saving = alpha x (1 - 1/rho).  The baseline needs
 * alpha L / mu_L replicas for short traffic and (1 - alpha) L / mu_L for long; the
 * dual fleet serves the short share at mu_S = rho mu_L, so it saves
 * alpha L / mu_L x (1 - 1/rho) of L / mu_L.  That assumes one mu_L for both classes
 * (alpha counts requests, not work); alpha_work, the short traffic's share of the
 * baseline's capacity (requests weighted by 1 / mu_L of their class), drops that
 * assumption and gives saving_work = alpha_work x (1 - 1/rho).
 *
 * Here alpha is the simulated share of requests the dual fleet's first pool took,
 * mu is models/capacity.h's steady-state rate per GPU (so pools with different GPUs
 * or TP compare per GPU-hour), rho = mu(short pool, short mix) / mu(baseline's first
 * pool, short mix) -- the paper's long pool has the baseline's settings, so this is
 * its "short/long" ratio -- with the short mix = requests whose true prompt + output <= the first
 * threshold.  The simulated saving is 1 - GPU-hours(dual) / GPU-hours(baseline);
 * with equal GPU counts it is ~0 by construction, and the gain shows as latency and
 * preemptions instead (see docs/validation.md).
 *
 * Owns: nothing; cmp_result is a plain value computed from borrowed summaries.
 */
#ifndef FS_COMPARE_H
#define FS_COMPARE_H

#include <stddef.h>

#include "sim/fleet.h"
#include "sim/metrics.h"
#include "util/err.h"

/* One policy's results as cmp_policies needs them. */
typedef struct cmp_run {
	const policy_cfg *pol;
	const metrics_summary *fleet;
	const metrics_summary *pools;   /* pol->npools entries */
	const mx_request *req;          /* every request of the run (or NULL: brf) */
	const mx_brief *brf;            /* every request of the run, read when set */
	size_t nreq;
} cmp_run;

typedef struct cmp_result {
	int64_t threshold;               /* first threshold: short = total <= it */
	double alpha;                    /* simulated share of requests in pool 0 */
	double alpha_work;               /* short share of baseline capacity */
	double mu_short_rps_gpu;         /* short pool on the short mix, per GPU */
	double mu_long_rps_gpu;          /* baseline pool on the short mix, per GPU */
	double mu_long_long_rps_gpu;     /* baseline pool on the long mix (-1: none) */
	double rho;
	double saving_closed;            /* alpha (1 - 1/rho) */
	double saving_closed_work;       /* alpha_work (1 - 1/rho) */
	double saving_sim;               /* 1 - gpu_hours(dual) / gpu_hours(base) */
	double saving_busy;              /* 1 - gpu_busy_s(dual) / gpu_busy_s(base) */
	double gpus_closed;              /* baseline GPUs x (1 - saving_closed) */
	double preempt_ratio;            /* base / dual preemptions per request (-1: dual 0) */
	double ppr_base, ppr_dual;       /* preemptions per request */
	double ttft_p99_change;          /* dual / base fleet P99 TTFT - 1 */
	double short_ttft_p99_base_s;    /* P99 TTFT of short requests, -1 if none */
	double short_ttft_p99_dual_s;
	double short_ttft_p99_change;
	int64_t misroutes;               /* dual fleet */
} cmp_result;

/* The paper's closed form; 0 when rho <= 0. */
double cmp_closed_form(double alpha, double rho);

/* Compare `dual` (a token_budget policy with >= 2 pools) against `base`. Both runs
 * replayed the same requests.  Returns 0, or -1 (FS_EXIT_INPUT) when dual is not a
 * token-budget policy or the short mix is empty, (FS_EXIT_RUNTIME) on allocation
 * failure. */
int cmp_policies(const cmp_run *base, const cmp_run *dual, cmp_result *out, fs_err *err);

#endif
