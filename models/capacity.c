#include "models/capacity.h"

#include <string.h>

static const char *bound_names[] = {"max_num_seqs", "kv_cache", "token_budget"};

const char *cap_bound_name(cap_bound b)
{
	return bound_names[b];
}

void cap_mix_add(cap_mix *m, int64_t prompt, int64_t output)
{
	double p = (double)(prompt < 1 ? 1 : prompt), o = (double)(output < 1 ? 1 : output);

	m->n += 1.0;
	m->sum_p += p;
	m->sum_o += o;
	m->sum_p2 += p * p;
	m->sum_op += o * p;
	m->sum_o2 += o * o;
}

int cap_replica(const cap_engine *e, const cap_mix *m, cap_result *out, fs_err *err)
{
	double ep, eo, ep2, c, sp, slots, n_max, lam_seqs, lam_budget, lam, b;
	perf_batch batch;

	memset(out, 0, sizeof *out);
	if (!m || m->n < 1)
		return fs_fail(err, FS_EXIT_INPUT, "capacity: the request mix is empty");
	if (!e || !e->perf || e->kv_tokens < 1 || e->max_num_seqs < 1 ||
	    e->max_num_batched_tokens < 1 || e->tp < 1 || e->block_size < 1)
		return fs_fail(err, FS_EXIT_INPUT,
			       "capacity: engine settings must be positive (kv_tokens %lld, max_num_seqs %d, "
			       "max_num_batched_tokens %d, tp %d)",
			       (long long)(e ? e->kv_tokens : 0), e ? e->max_num_seqs : 0,
			       e ? e->max_num_batched_tokens : 0, e ? e->tp : 0);
	ep = m->sum_p / m->n;
	eo = m->sum_o / m->n;
	ep2 = m->sum_p2 / m->n;
	b = (double)e->max_num_batched_tokens;
	/* KV held by a running request, averaged over its decode steps: context P + k for
	 * k = 0..O-1, i.e. P + O/2 per step, weighted by O across the mix. */
	c = (m->sum_op + m->sum_o2 / 2.0) / m->sum_o + e->block_size / 2.0;
	sp = ep / b > 1.0 ? ep / b : 1.0;
	slots = eo + sp;
	out->kv_concurrency = (double)e->kv_tokens / c;
	n_max = e->max_num_seqs;
	out->bound = CAP_BOUND_SEQS;
	if (out->kv_concurrency < n_max) {
		n_max = out->kv_concurrency;
		out->bound = CAP_BOUND_KV;
	}
	lam_seqs = n_max / slots;
	lam_budget = b / (ep + eo);
	lam = lam_seqs;
	if (lam_budget < lam) {
		lam = lam_budget;
		out->bound = CAP_BOUND_BUDGET;
	}
	out->concurrency = lam * slots;
	memset(&batch, 0, sizeof batch);
	batch.tokens = (int64_t)(lam * (ep + eo) + 0.5);
	if (batch.tokens < 1)
		batch.tokens = 1;
	batch.seqs = (int64_t)(out->concurrency + 0.5);
	if (batch.seqs < 1)
		batch.seqs = 1;
	/* Prefill attention: lam prompts' P^2/2 pairs per step, at the efficiency of a
	 * chunk of the mean prompt (capped by the token budget); decodes read their
	 * context's KV. */
	batch.attn_pairs = lam * ep2 / 2.0;
	batch.attn_pairs_q = batch.attn_pairs / (ep < b ? (ep > 1.0 ? ep : 1.0) : b);
	batch.kv_read = out->concurrency * c;
	/* Each step carries lam new prompts' prefill, each spread over sp steps. */
	batch.prefill_seqs = (int64_t)(lam * sp + 0.5);
	out->tokens_per_step = lam * (ep + eo);
	out->step_s = perf_step_s(e->perf, &batch);
	if (out->step_s <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "capacity: the step model gives a non-positive step time");
	out->rps = lam / out->step_s;
	out->rps_per_gpu = out->rps / e->tp;
	out->output_tps = lam * eo / out->step_s;
	return 0;
}
