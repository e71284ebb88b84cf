#include "models/perf.h"

#include <math.h>

/*
 * perf_init: the roofline's per-replica constants (SPEC section 4).
 *
 * - Compute rate: tp x gpu_compute_flops(weights) x compute_eff.  FP8 weights use the
 *   FP8 tensor rate where the GPU has one; NVFP4 runs at the FP4 rate on B200 and
 *   weight-only (BF16 rate) on Hopper; everything else at BF16.
 * - FLOPs per token: 2 x active parameters, minus the input embedding (a lookup)
 *   unless it is tied to lm_head (then the one matrix is the lm_head GEMM); plus the
 *   Gated DeltaNet state update, ~4 x v_heads x k_dim x v_dim per linear layer.
 * - Attention FLOPs per (query, context) pair: 2 x full layers x heads x
 *   (qk_dim + v_dim), i.e. 4 x layers x heads x head_dim for ordinary attention.
 * - Bytes: whole-replica weights once per step; the KV of each context token as
 *   stored on every shard (replicated heads / MLA latent count once per shard).
 * - TP all-reduce: 2 per layer (after attention and after the MLP) of
 *   tokens x hidden x 2 B, ring traffic 2 (tp-1)/tp of that per GPU over
 *   link_bw x link_eff, plus the ring's 2 (tp-1) steps of link_latency_s each per
 *   all-reduce (alpha-beta model).
 * - Per prompt sequence: the GEMM time of prefill_seq_tokens extra tokens (so it
 *   scales with model size, precision rate and 1/tp), added outside the roofline
 *   max.  The Splitwise A100/H100 rows need it: B prompts of 512 tokens take 1.2-2x
 *   as long as one prompt of B x 512 tokens, which no function of the total token
 *   count can produce.  A cost per request that does not depend on its length is what
 *   a prefill path pays that pads each prompt (to a tile / block multiple) or runs
 *   per-request kernels (attention, KV-cache writes, the last-token lm_head).
 */
static int perf_check(const gpu_spec *g, const llm_spec *m, const mem_config *c, fs_err *err)
{
	if (c->tp <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "tensor parallel size must be >= 1, got %d", c->tp);
	if (m->heads % c->tp)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld attention heads are not divisible by TP %d",
			       m->name, (long long)m->heads, c->tp);
	if (!(g->compute_eff > 0 && g->compute_eff <= 1 && g->mem_eff > 0 && g->mem_eff <= 1))
		return fs_fail(err, FS_EXIT_INPUT, "GPU '%s': compute_eff and mem_eff must be in (0, 1]",
			       g->name);
	if (!(g->flops_bf16 > 0 && g->mem_bw > 0) || g->step_overhead_s < 0 || g->prefill_seq_tokens < 0)
		return fs_fail(err, FS_EXIT_INPUT, "GPU '%s': needs bf16 FLOPS and bandwidth > 0", g->name);
	if (c->tp > 1 && !(g->link_bw > 0 && g->link_eff > 0))
		return fs_fail(err, FS_EXIT_INPUT, "GPU '%s': TP %d needs link bandwidth and link_eff > 0",
			       g->name, c->tp);
	return 0;
}

int perf_init(perf_model *p, const gpu_spec *g, const llm_spec *m, const mem_config *c,
	      fs_err *err)
{
	double tp, flops, qk, v, nlin;

	if (perf_check(g, m, c, err))
		return -1;
	tp = (double)c->tp;
	p->s_per_flop = 1.0 / (tp * gpu_compute_flops(g, c->weights) * g->compute_eff);
	p->s_per_byte = 1.0 / (tp * g->mem_bw * g->mem_eff);

	flops = 2.0 * (m->params_active - (m->tied_embeddings ? 0.0 : m->params_embed));
	nlin = (double)(m->layers - m->full_attn_layers);
	flops += 4.0 * nlin * (double)m->lin_v_heads * (double)m->lin_k_dim * (double)m->lin_v_dim;
	p->flops_per_token = flops;
	if (m->kv_lora_rank > 0) {
		qk = (double)(m->qk_nope_head_dim + m->qk_rope_head_dim);
		v = (double)m->v_head_dim;
	} else {
		qk = v = (double)m->head_dim;
	}
	p->attn_flops_per_pair = 2.0 * (double)m->full_attn_layers * (double)m->heads * (qk + v);
	/* Attention kernels may reach a different share of peak than the GEMMs; the
	 * evaluator has one s_per_flop, so scale the FLOP count instead. */
	if (g->attn_eff > 0)
		p->attn_flops_per_pair *= g->compute_eff / g->attn_eff;
	p->weight_bytes = llm_weight_bytes(m, c->weights);
	p->kv_bytes_per_token = llm_kv_bytes_per_token_gpu(m, c->kv, c->tp) * tp;
	if (c->tp > 1) {
		double n_ar = 2.0 * (double)m->layers;

		p->ar_s_per_token = n_ar * (double)m->hidden * 2.0 * 2.0 * (tp - 1.0) / tp /
				    (g->link_bw * g->link_eff);
		p->ar_fixed_s = n_ar * 2.0 * (tp - 1.0) * g->link_latency_s;
	} else {
		p->ar_s_per_token = 0;
		p->ar_fixed_s = 0;
	}
	p->overhead_s = g->step_overhead_s;
	p->prefill_seq_s = g->prefill_seq_tokens * p->flops_per_token * p->s_per_flop;
	return 0;
}

void perf_batch_add_prefill(perf_batch *b, int64_t context, int64_t chunk)
{
	/* Token j of the chunk (0-based) attends to context + j + 1 positions. */
	b->tokens += chunk;
	b->seqs += 1;
	b->prefill_seqs += 1;
	b->attn_pairs += (double)chunk * (double)context + (double)chunk * (double)(chunk + 1) / 2.0;
	b->kv_read += (double)context;
}

void perf_batch_add_decode(perf_batch *b, int64_t context)
{
	b->tokens += 1;
	b->seqs += 1;
	b->attn_pairs += (double)(context + 1);
	b->kv_read += (double)context;
}
