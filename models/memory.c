/*
 * memory.c - per-GPU memory plan of a vLLM replica (SPEC section 2):
 *
 *   kv_blocks = floor((hbm x gpu_memory_utilization - weights - activation_peak
 *                      - runtime_overhead - hybrid_state) / (block_size x kv_bytes_per_token))
 *
 * all per TP shard.  The two estimates that vLLM measures by profiling are modelled:
 *
 * activation_peak = max_num_batched_tokens x 2 B x (4 x hidden + 3 x ffn_width / tp)
 *                   + max_num_seqs x vocab x 4 B
 *   The profile run pushes max_num_batched_tokens through the model; at the FFN the
 *   live BF16 tensors are the residual stream and its normed copy, the attention
 *   output and the MLP input (~4 x hidden per token, unsharded: they are replicated
 *   across TP ranks) plus the sharded gate/up output (2 x ffn_width / tp) and the
 *   activation (ffn_width / tp).  ffn_width is the dense intermediate size or, for
 *   MoE layers, top-k x moe_intermediate + the shared expert, whichever is larger.
 *   The sampler's FP32 logits for max_num_seqs sequences come on top.
 *   Llama-3-70B, TP 4, 8192 tokens: 8192 x 2 x (32768 + 21504) = 0.83 GiB + 0.12 GiB.
 *
 * runtime_overhead = 1.5 GiB, + 0.5 GiB when tp > 1
 *   CUDA context and cuBLAS/cuDNN workspaces (~0.5-0.8 GiB), CUDA graphs for the
 *   decode batch sizes (~0.5-1 GiB) and the NCCL communicator buffers with TP; vLLM
 *   logs a few GiB of "non-torch memory" + graph memory on Hopper.
 */
#include "models/memory.h"

#include <math.h>

#define GIB (1024.0 * 1024.0 * 1024.0)

const int64_t mem_context_points[5] = {2048, 8192, 32768, 65536, 131072};

void mem_config_default(mem_config *c)
{
	c->tp = 1;
	c->weights = PREC_BF16;
	c->kv = PREC_BF16;
	c->gpu_memory_utilization = 0.9;
	c->block_size = 16;
	c->max_num_batched_tokens = 8192;
	c->max_num_seqs = 256;
}

static double ffn_width(const llm_spec *m)
{
	double w = m->first_dense_layers > 0 || m->n_experts == 0 ? (double)m->intermediate : 0;
	double moe = 0;

	if (m->n_experts > 0)
		moe = (double)m->experts_per_tok * m->moe_intermediate +
		      (double)m->n_shared_experts * m->shared_intermediate;
	return w > moe ? w : moe;
}

int mem_plan_compute(const gpu_spec *g, const llm_spec *m, const mem_config *c,
		     mem_plan *out, fs_err *err)
{
	mem_plan p = {0};
	double budget, block_bytes, avail;

	if (c->tp <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "tensor parallel size must be >= 1, got %d", c->tp);
	if (m->heads % c->tp)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld attention heads are not divisible by TP %d",
			       m->name, (long long)m->heads, c->tp);
	if (m->kv_lora_rank <= 0 && m->kv_heads % c->tp && c->tp % m->kv_heads)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: %lld KV heads cannot be split or replicated evenly over TP %d",
			       m->name, (long long)m->kv_heads, c->tp);
	if (!(c->gpu_memory_utilization > 0 && c->gpu_memory_utilization <= 1))
		return fs_fail(err, FS_EXIT_INPUT, "gpu_memory_utilization must be in (0, 1], got %g",
			       c->gpu_memory_utilization);
	if (c->block_size <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "block_size must be >= 1, got %d", c->block_size);
	if (c->max_num_batched_tokens <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "max_num_batched_tokens must be >= 1, got %d",
			       c->max_num_batched_tokens);
	if (c->max_num_seqs <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "max_num_seqs must be >= 1, got %d", c->max_num_seqs);
	if (gpu_check_kv_dtype(g, c->kv, err))
		return -1;

	p.weights_bytes = llm_weight_bytes(m, c->weights) / c->tp;
	p.activation_bytes = (double)c->max_num_batched_tokens * 2.0 *
				     (4.0 * (double)m->hidden + 3.0 * ffn_width(m) / c->tp) +
			     (double)c->max_num_seqs * (double)m->vocab * 4.0;
	p.overhead_bytes = 1.5 * GIB + (c->tp > 1 ? 0.5 * GIB : 0.0);
	/* Linear-attention state is split over TP with the value heads. */
	p.state_bytes = m->state_bytes_per_seq * c->max_num_seqs / c->tp;
	p.kv_bytes_per_token = llm_kv_bytes_per_token_gpu(m, c->kv, c->tp);

	budget = g->hbm_bytes * c->gpu_memory_utilization;
	avail = budget - p.weights_bytes - p.activation_bytes - p.overhead_bytes - p.state_bytes;
	block_bytes = (double)c->block_size * p.kv_bytes_per_token;
	if (avail < block_bytes)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s (%s) does not fit on %d x %s at gpu_memory_utilization %.2f: short by "
			       "%.2f GiB per GPU (budget %.2f GiB = weights %.2f + activations %.2f + "
			       "overhead %.2f + state %.2f + KV)",
			       m->name, prec_name(c->weights), c->tp, g->name, c->gpu_memory_utilization,
			       (block_bytes - avail) / GIB, budget / GIB, p.weights_bytes / GIB,
			       p.activation_bytes / GIB, p.overhead_bytes / GIB, p.state_bytes / GIB);
	p.kv_bytes_available = avail;
	p.kv_blocks = (int64_t)floor(avail / block_bytes);
	p.kv_tokens = p.kv_blocks * c->block_size;
	for (int i = 0; i < 5; i++) {
		int64_t per = (mem_context_points[i] + c->block_size - 1) / c->block_size;

		p.max_seqs_at[i] = p.kv_blocks / per;
	}
	*out = p;
	return 0;
}
