#include "reports/compare.h"

#include <stdlib.h>
#include <string.h>

#include "models/capacity.h"

double cmp_closed_form(double alpha, double rho)
{
	return rho > 0 ? alpha * (1.0 - 1.0 / rho) : 0.0;
}

static void engine_of(const pool_cfg *p, cap_engine *e)
{
	e->perf = &p->perf;
	e->kv_tokens = p->plan.kv_tokens;
	e->block_size = p->mem.block_size;
	e->max_num_seqs = p->max_num_seqs;
	e->max_num_batched_tokens = p->max_num_batched_tokens;
	e->tp = p->mem.tp;
}

/* P99 TTFT of completed requests with prompt + output <= thr; -1 when none. */
static int short_p99(const cmp_run *r, int64_t thr, double *out, fs_err *err)
{
	double *v = malloc((r->nreq + 1) * sizeof *v);
	size_t n = 0;

	if (!v)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory comparing policies");
	for (size_t i = 0; i < r->nreq; i++) {
		int st = r->brf ? r->brf[i].status : r->req[i].status;
		double ttft = r->brf ? mx_brief_ttft_s(&r->brf[i]) : r->req[i].ttft_s;
		int64_t tot = r->brf ? (int64_t)r->brf[i].prompt + r->brf[i].output
				     : (int64_t)r->req[i].prompt + r->req[i].output;
		if (st == RQ_DONE && ttft >= 0 && tot <= thr)
			v[n++] = ttft;
	}
	*out = n ? metrics_quantile(v, n, 0.99) : -1.0;
	free(v);
	return 0;
}

int cmp_policies(const cmp_run *base, const cmp_run *dual, cmp_result *o, fs_err *err)
{
	const policy_cfg *dp = dual->pol;
	const pool_cfg *ps, *pl;
	cap_mix sm, lm;
	cap_engine es, el;
	cap_result rs, rl, rll;
	double base_ppr, dual_ppr;

	memset(o, 0, sizeof *o);
	if (dp->router.type != ROUTER_TOKEN_BUDGET || dp->npools < 2 || dp->router.nthresholds < 1)
		return fs_fail(err, FS_EXIT_INPUT, "policy '%s' is not a token_budget policy with two or more pools",
			       dp->name);
	o->threshold = dp->router.thresholds[0];
	ps = &dp->pools[0];
	/* The baseline's replicas are what the short traffic would otherwise run on (in
	 * the paper the long pool has the same settings, so the two readings agree). */
	pl = &base->pol->pools[0];
	memset(&sm, 0, sizeof sm);
	memset(&lm, 0, sizeof lm);
	for (size_t i = 0; i < dual->nreq; i++) {
		int st = dual->brf ? dual->brf[i].status : dual->req[i].status;
		int32_t pr = dual->brf ? dual->brf[i].prompt : dual->req[i].prompt;
		int32_t ou = dual->brf ? dual->brf[i].output : dual->req[i].output;
		if (st == RQ_REJECTED)
			continue;
		if ((int64_t)pr + ou <= o->threshold)
			cap_mix_add(&sm, pr, ou);
		else
			cap_mix_add(&lm, pr, ou);
	}
	if (sm.n < 1)
		return fs_fail(err, FS_EXIT_INPUT, "policy '%s': no request at or under the threshold %lld",
			       dp->name, (long long)o->threshold);
	engine_of(ps, &es);
	engine_of(pl, &el);
	if (cap_replica(&es, &sm, &rs, err) || cap_replica(&el, &sm, &rl, err))
		return fs_failp(err, "policy '%s': ", dp->name);
	o->mu_short_rps_gpu = rs.rps_per_gpu;
	o->mu_long_rps_gpu = rl.rps_per_gpu;
	o->mu_long_long_rps_gpu = -1.0;
	o->rho = rs.rps_per_gpu / rl.rps_per_gpu;
	o->alpha = dual->pools[0].traffic_share;
	o->alpha_work = o->alpha;
	if (lm.n >= 1) {
		if (cap_replica(&el, &lm, &rll, err))
			return fs_failp(err, "policy '%s': ", dp->name);
		o->mu_long_long_rps_gpu = rll.rps_per_gpu;
		{
			double ws = o->alpha / rl.rps_per_gpu, wl = (1.0 - o->alpha) / rll.rps_per_gpu;
			o->alpha_work = ws / (ws + wl);
		}
	}
	o->saving_closed = cmp_closed_form(o->alpha, o->rho);
	o->saving_closed_work = cmp_closed_form(o->alpha_work, o->rho);
	o->saving_sim = base->fleet->gpu_hours > 0 ? 1.0 - dual->fleet->gpu_hours / base->fleet->gpu_hours : 0.0;
	o->saving_busy = base->fleet->gpu_busy_s > 0 ? 1.0 - dual->fleet->gpu_busy_s / base->fleet->gpu_busy_s : 0.0;
	o->gpus_closed = base->fleet->gpus * (1.0 - o->saving_closed);
	base_ppr = base->fleet->preemptions_per_request;
	dual_ppr = dual->fleet->preemptions_per_request;
	o->ppr_base = base_ppr;
	o->ppr_dual = dual_ppr;
	o->preempt_ratio = dual_ppr > 0 ? base_ppr / dual_ppr : -1.0;
	o->ttft_p99_change = base->fleet->ttft_p99_s > 0 ? dual->fleet->ttft_p99_s / base->fleet->ttft_p99_s - 1.0 : 0.0;
	if (short_p99(base, o->threshold, &o->short_ttft_p99_base_s, err) ||
	    short_p99(dual, o->threshold, &o->short_ttft_p99_dual_s, err))
		return -1;
	o->short_ttft_p99_change = o->short_ttft_p99_base_s > 0 && o->short_ttft_p99_dual_s >= 0
					   ? o->short_ttft_p99_dual_s / o->short_ttft_p99_base_s - 1.0
					   : 0.0;
	o->misroutes = dual->fleet->misroutes;
	return 0;
}
