/*
 * memory.c - per-GPU memory plan of a vLLM replica, as the modelled release sizes it
 * at start-up.  Per TP shard:
 *
 *   budget     = device memory x gpu_memory_utilization
 *   available  = budget - weights - activation_peak - nontorch - cudagraph - state
 *   kv_blocks  = floor(available / (block_size x kv_bytes_per_token))
 *
 * Each term and where it comes from (docs/models.md "Memory plan" has the citations;
 * the per-release figures live in models/engine.c):
 *
 * device memory: what torch.cuda.mem_get_info() reports as total, which vLLM's
 *   MemorySnapshot takes and multiplies by gpu_memory_utilization
 *   (v1/worker/gpu_worker.py init_device: requested_memory = total x util).  It is
 *   below the marketed capacity (H100 79.19 of 80 GiB, H200 139.81 of 141):
 *   gpu_spec.hbm_device_gib, falling back to hbm_bytes when unknown.
 *
 * weights: llm_weight_bytes / tp ("Model loading took X GiB").
 *
 * activation_peak: the torch peak increase of the profile run.  Where public logs
 *   give it for a release, the release's measured constant (eng->activation_gib,
 *   TP-independent: vLLM profiles max_num_batched_tokens through the model and the
 *   peak is dominated by unsharded buffers); else the formula
 *     max_num_batched_tokens x 2 B x (4 x hidden + 3 x ffn_width / tp)
 *       + max_num_seqs x vocab x 4 B
 *   (the live BF16 tensors at the MLP: residual, normed copy, attention output, MLP
 *   input, sharded gate/up output and activation; plus the sampler's FP32 logits).
 *
 * nontorch: memory allocated outside torch between vLLM's start-up snapshot and the
 *   end of the profile run (CUDA context growth, cuBLAS workspaces, NCCL / custom
 *   all-reduce buffers with TP): eng->nontorch_gib[tp > 1].
 *
 * cudagraph: releases that estimate CUDA-graph memory during profiling and subtract
 *   it (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS default on): eng->cudagraph_gib;
 *   0 for releases that capture graphs after sizing the pool.
 *
 * state: hybrid models (Gated DeltaNet / Mamba layers).  Releases without the shared
 *   pool reserve state_bytes_per_seq x max_num_seqs / tp up front.  vLLM V1's hybrid
 *   KV-cache manager instead keeps one state page per linear-attention layer group
 *   per running request in the same block pool as the KV blocks, with the attention
 *   block size raised until one attention page equals one state page
 *   (model_executor/models/config.py HybridAttentionMambaModelConfig,
 *   v1/core/kv_cache_utils.py _get_kv_cache_groups_uniform_page_size, MambaSpec):
 *   nothing is reserved, and each running request holds state_blocks extra blocks.
 *
 * KV bytes per token: full-attention layers (MLA: the latent + rope entry of every
 *   layer, padded to a 256-byte multiple, 576 -> 640 elements, in releases that
 *   align MLA entries: eng->mla_pad).  Sliding-window layers hold at most their
 *   window (vLLM SlidingWindowSpec: cdiv(window - 1, block_size) + 1 blocks).
 */
#include "models/memory.h"

#include <math.h>

#include "models/engine.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

/* vLLM raises the attention block size of hybrid models in steps of the attention
 * kernel's block alignment, 16 tokens for FlashAttention / FlashInfer on Hopper
 * (config.py: block_size = 16 x cdiv(mamba_page, 16 x attn_page_per_token)).  Checked
 * against a v0.11 log: Qwen3-Next-80B TP 2 -> 544 tokens, 7162 blocks. */
#define HYBRID_BLOCK_ALIGN 16

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
	c->eng = NULL;
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

static double activation_formula(const llm_spec *m, const mem_config *c)
{
	return (double)c->max_num_batched_tokens * 2.0 *
		       (4.0 * (double)m->hidden + 3.0 * ffn_width(m) / c->tp) +
	       (double)c->max_num_seqs * (double)m->vocab * 4.0;
}

static int64_t cdiv64(int64_t a, int64_t b)
{
	return (a + b - 1) / b;
}

int64_t mem_blocks_for_tokens(const mem_plan *p, int64_t tokens)
{
	int64_t per = cdiv64(tokens > 0 ? tokens : 1, p->block_size);
	int64_t swa = per < p->swa_window_blocks ? per : p->swa_window_blocks;

	return (int64_t)p->full_mult * per + p->state_blocks + (int64_t)p->swa_mult * swa;
}

/* vLLM's KV-cache group size (_get_kv_cache_groups_uniform_page_size): the smallest
 * layer count among the attention types, or the largest when it is under 1.5 x the
 * smallest (fewer padding layers).  counts[] holds the types present. */
static int64_t group_size(const int64_t *counts, int n)
{
	int64_t lo = 0, hi = 0;

	for (int i = 0; i < n; i++) {
		if (!lo || counts[i] < lo)
			lo = counts[i];
		if (counts[i] > hi)
			hi = counts[i];
	}
	return (double)hi < 1.5 * (double)lo ? hi : lo;
}

/* Blocks (of n_base layers' pages) that the ceil(n / g) groups of g layers of one type
 * take per block id.  An approximation when g != n_base: vLLM's blocks are pages of g
 * layers, fleetsim's of n_base layers; rounded up per request. */
static int groups_in_blocks(int64_t n, int64_t g, int64_t n_base)
{
	return (int)cdiv64(cdiv64(n, g) * g, n_base);
}

/* The KV layout: bytes per token of the layers a block holds, the effective block
 * size and the per-request extra blocks.  Returns 0, or -1 for a model without any
 * attention layer. */
static int kv_layout(const llm_spec *m, const mem_config *c, const eng_release *eng, mem_plan *p,
		     fs_err *err)
{
	double kvb = prec_kv_bytes(c->kv);
	int64_t per = (m->kv_heads + c->tp - 1) / c->tp; /* KV heads per shard, >= 1 */
	int64_t n_full, n_swa, n_lin, n_base, counts[3], g;
	double full_tok, swa_tok, base_tok;
	int ntypes = 0, shared = eng->hybrid_shared_pool;

	if (m->kv_lora_rank > 0) {
		/* MLA: one latent + rope entry per token and layer, replicated on every
		 * shard; V0's cache engine aligned it to 256 bytes (576 -> 640 BF16). */
		double entry = (double)(m->kv_lora_rank + m->qk_rope_head_dim) * kvb;

		if (eng->mla_pad)
			entry = ceil(entry / 256.0) * 256.0;
		n_full = m->layers;
		n_swa = 0;
		full_tok = entry * (double)n_full;
		swa_tok = 0;
	} else {
		n_full = m->full_attn_layers;
		n_swa = m->swa_layers;
		full_tok = 2.0 * (double)n_full * (double)per * (double)m->head_dim * kvb;
		swa_tok = 2.0 * (double)n_swa * (double)per * (double)m->head_dim * kvb;
	}
	n_lin = m->state_bytes_per_seq > 0 ? m->layers - n_full - n_swa : 0;
	if (n_full <= 0 && n_swa <= 0)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s has no attention layer: attention-free models are not modelled", m->name);
	n_base = n_full > 0 ? n_full : n_swa;
	base_tok = n_full > 0 ? full_tok : swa_tok;

	p->kv_bytes_per_token = base_tok;
	p->block_size = c->block_size;
	p->full_mult = n_full > 0;
	p->state_blocks = 0;
	p->swa_mult = 0;
	p->swa_window_blocks = 0;
	p->state_bytes = 0;

	if (n_full > 0)
		counts[ntypes++] = n_full;
	if (n_swa > 0)
		counts[ntypes++] = n_swa;
	if (n_lin > 0 && shared) {
		/* One state page per layer and request, padded up to one attention page:
		 * the attention block grows until its page (per layer) holds the state. */
		double attn_page_tok = base_tok / (double)n_base;
		double state_page = m->state_bytes_per_seq / (double)n_lin / c->tp;
		int64_t bs = HYBRID_BLOCK_ALIGN *
			     (int64_t)ceil(state_page / (HYBRID_BLOCK_ALIGN * attn_page_tok));

		if (bs > p->block_size)
			p->block_size = (int)bs;
		counts[ntypes++] = n_lin;
	} else if (n_lin > 0) {
		p->state_bytes = m->state_bytes_per_seq * c->max_num_seqs / c->tp;
	}
	g = group_size(counts, ntypes);
	if (n_lin > 0 && shared)
		p->state_blocks = groups_in_blocks(n_lin, g, n_base);
	if (n_swa > 0) {
		p->swa_mult = n_full > 0 ? groups_in_blocks(n_swa, g, n_base) : 1;
		p->swa_window_blocks = cdiv64(m->sliding_window - 1, p->block_size) + 1;
	}
	p->block_bytes = (double)p->block_size * base_tok;
	return 0;
}

static int check_config(const llm_spec *m, const mem_config *c, fs_err *err)
{
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
	return 0;
}

int mem_plan_compute(const gpu_spec *g, const llm_spec *m, const mem_config *c,
		     mem_plan *out, fs_err *err)
{
	const eng_release *eng = c->eng ? c->eng : eng_default();
	mem_plan p = {0};
	double avail, need;

	if (check_config(m, c, err) || gpu_check_kv_dtype(g, c->kv, err))
		return -1;
	p.eng = eng;
	if (kv_layout(m, c, eng, &p, err))
		return -1;
	p.device_bytes = gpu_device_hbm_bytes(g);
	p.budget_bytes = p.device_bytes * c->gpu_memory_utilization;
	p.weights_bytes = llm_weight_bytes(m, c->weights) / c->tp;
	p.activation_measured = eng->activation_gib >= 0;
	p.activation_bytes = p.activation_measured ? eng->activation_gib * GIB : activation_formula(m, c);
	p.nontorch_bytes = eng->nontorch_gib[c->tp > 1 ? 1 : 0] * GIB;
	p.cudagraph_bytes = eng->cudagraph_gib * GIB;
	p.overhead_bytes = p.nontorch_bytes + p.cudagraph_bytes;

	avail = p.budget_bytes - p.weights_bytes - p.activation_bytes - p.overhead_bytes - p.state_bytes;
	/* vLLM refuses to start without room for one request's first token: one block of
	 * context, its state pages and its sliding-window block. */
	need = (double)mem_blocks_for_tokens(&p, 1) * p.block_bytes;
	if (avail < need)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s (%s) does not fit on %d x %s at gpu_memory_utilization %.2f (vLLM %s): "
			       "short by %.2f GiB per GPU (budget %.2f GiB = %.2f GiB device x %.2f; "
			       "weights %.2f + activations %.2f + non-torch %.2f + CUDA graphs %.2f + "
			       "state %.2f + KV for one request %.2f)",
			       m->name, prec_name(c->weights), c->tp, g->name, c->gpu_memory_utilization,
			       eng->version, (need - avail) / GIB, p.budget_bytes / GIB, p.device_bytes / GIB,
			       c->gpu_memory_utilization, p.weights_bytes / GIB, p.activation_bytes / GIB,
			       p.nontorch_bytes / GIB, p.cudagraph_bytes / GIB, p.state_bytes / GIB, need / GIB);
	p.kv_bytes_available = avail;
	p.kv_blocks = (int64_t)floor(avail / p.block_bytes);
	p.kv_tokens = p.kv_blocks * p.block_size;
	for (int i = 0; i < 5; i++)
		p.max_seqs_at[i] = p.kv_blocks / mem_blocks_for_tokens(&p, mem_context_points[i]);
	*out = p;
	return 0;
}
