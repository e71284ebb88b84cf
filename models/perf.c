#include "models/perf.h"

#include <math.h>
#include <string.h>

#include "models/engine.h"

/*
 * perf_init: the operator model's per-replica constants (perf.h; the constants'
 * sources are in models/gpu.c and docs/models.md).
 *
 * Shapes are per GPU: column-parallel layers (QKV, gate-up, experts' gate-up,
 * lm_head) split N by tp, row-parallel ones (O, down) split K; KV heads are
 * replicated when there are fewer than tp of them; MLA's down-projections
 * (q_a, kv_a) are replicated.  The input embedding is a lookup (bytes, no GEMM).
 */

/* vLLM V1 custom all-reduce's largest message (custom_all_reduce max_size). */
#define CAR_MAX_BYTES (8.0 * 1024 * 1024)

static int perf_check(const gpu_spec *g, const llm_spec *m, const mem_config *c, fs_err *err)
{
	if (c->tp <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "tensor parallel size must be >= 1, got %d", c->tp);
	if (m->heads % c->tp)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld attention heads are not divisible by TP %d",
			       m->name, (long long)m->heads, c->tp);
	if (!(g->compute_eff > 0 && g->compute_eff <= 1 && g->mem_eff > 0 && g->mem_eff <= 1 &&
	      g->ew_eff >= 0 && g->ew_eff <= 1 && g->attn_eff >= 0 && g->attn_eff <= 1))
		return fs_fail(err, FS_EXIT_INPUT,
			       "GPU '%s': compute_eff and mem_eff must be in (0, 1], ew_eff and attn_eff in [0, 1]",
			       g->name);
	if (!(g->flops_bf16 > 0 && g->mem_bw > 0) || g->step_overhead_s < 0 || g->prefill_seq_tokens < 0 ||
	    g->kernel_s < 0 || g->gemm_half < 0 || g->attn_half_q < 0 || g->car_latency_s < 0)
		return fs_fail(err, FS_EXIT_INPUT,
			       "GPU '%s': needs bf16 FLOPS and bandwidth > 0 and non-negative overheads", g->name);
	if (c->tp > 1 && !(g->link_bw > 0 && g->link_eff > 0))
		return fs_fail(err, FS_EXIT_INPUT, "GPU '%s': TP %d needs link bandwidth and link_eff > 0",
			       g->name, c->tp);
	return 0;
}

typedef struct rates {
	double peak;     /* FLOP/s of the linear layers' precision */
	double wbytes;   /* bytes per linear weight */
	double bw;       /* bytes/s at mem_eff */
} rates;

/* Add `count` GEMMs of sharded shape k x n (weights of wb bytes each) per step. */
static void add_gemm(perf_model *p, const gpu_spec *g, double peak, double wb, double bw,
		     double count, double k, double n, int experts, int topk)
{
	perf_gemm *q;

	if (count <= 0 || k <= 0 || n <= 0 || p->ngemm >= PERF_MAX_GEMMS)
		return;
	q = &p->gemm[p->ngemm++];
	q->count = count;
	q->k = k;
	q->n = n;
	q->flop_s = 2.0 * k * n / (peak * g->compute_eff);
	q->half_s = 2.0 * k * g->gemm_half / (peak * g->compute_eff);
	q->w_s = k * n * wb / bw;
	q->act_s = 2.0 * (k + n) * 2.0 / bw;
	q->experts = experts;
	q->topk = topk;
}

/* One GEMM group at m tokens, its kernels included. */
/* One GEMM group's compute (*c) and memory (*w) roofline terms at m tokens. */
static void gemm_terms(const perf_gemm *q, double m, double *c, double *w)
{
	if (q->experts > 0) {
		/* m x topk routed tokens in one fused-MoE kernel (its output is
		 * routed x n elements: one small-size term); the experts hit (expected
		 * distinct of m x topk uniform picks) are the weights read. */
		double routed = m * (double)q->topk, e = (double)q->experts;
		double hit = e * -expm1(-routed / e);

		*c = q->flop_s * routed + q->half_s;
		*w = q->w_s * hit + q->act_s * routed;
	} else {
		*c = q->flop_s * m + q->half_s;
		*w = q->w_s + q->act_s * m;
	}
}

static double gemm_s(const perf_model *p, const perf_gemm *q, double m)
{
	double c, w;

	gemm_terms(q, m, &c, &w);
	return q->count * (sqrt(c * c + w * w) + p->kernel_s);
}

/* The compute-bound (*cs) and memory-bound (*ms) seconds of one GEMM group at m
 * tokens (power model): the smooth roofline hypot(C, W) = C^2/h + W^2/h is split
 * into the share each limit accounts for; kernel launch time is neither. */
static void gemm_split(const perf_gemm *q, double m, double *cs, double *ms)
{
	double c, w, h;

	gemm_terms(q, m, &c, &w);
	h = sqrt(c * c + w * w);
	if (h > 0) {
		*cs += q->count * c * c / h;
		*ms += q->count * w * w / h;
	}
}

/* The m-token part's compute-bound and memory-bound seconds (no padding here). */
static void tokens_split(const perf_model *p, double m, double *cs, double *ms)
{
	*cs = *ms = 0;
	for (int i = 0; i < p->ngemm; i++)
		gemm_split(&p->gemm[i], m, cs, ms);
	/* Element-wise traffic streams HBM; its fixed kernel cost, the all-reduces and
	 * the CPU cost are "other". */
	*ms += p->ew_s_per_token * m;
}

static double allreduce_s(const perf_model *p, double m)
{
	double bytes = m * p->ar_bytes_per_token;

	if (p->ar_count <= 0)
		return 0.0;
	return p->ar_count * ((bytes <= CAR_MAX_BYTES ? p->car_lat_s : p->nccl_lat_s) +
			      bytes * p->ar_s_per_byte);
}

static double gemms_s(const perf_model *p, double m)
{
	double t = 0;

	for (int i = 0; i < p->ngemm; i++)
		t += gemm_s(p, &p->gemm[i], m);
	return t;
}

double perf_tokens_s(const perf_model *p, int64_t m)
{
	double x = (double)m;

	return gemms_s(p, x) + p->ew_s_per_token * x + p->ew_fixed_s + allreduce_s(p, x) + p->cpu_s;
}

double perf_gemm_time(const gpu_spec *g, double peak, double wbytes, double k, double n, double m)
{
	double c = 2.0 * k * (n * m + g->gemm_half) / (peak * g->compute_eff);
	double w = (k * n * wbytes + 2.0 * m * (k + n) * 2.0) / (g->mem_bw * g->mem_eff);

	return sqrt(c * c + w * w) + g->kernel_s;
}

double perf_ew_time(const gpu_spec *g, double bytes)
{
	return bytes / (g->mem_bw * (g->ew_eff > 0 ? g->ew_eff : g->mem_eff)) + g->kernel_s;
}

/* vLLM's default capture list, VllmConfig._set_cudagraph_sizes (vllm@000fc94b
 * vllm/config/vllm.py; the same rule since PR #26016, Oct 2025):
 *     [1, 2, 4] + range(8, min(max + 1, 256), 8) + range(256, max + 1, 16)
 * with max = min(max_num_seqs x decode_query_len x 2, default_max_graph_size 512),
 * then min(max_num_batched_tokens, max); decode_query_len is 1 without speculative
 * decoding.  Releases with eng_release.cudagraph_capture_mnbt (PR #40734) also
 * capture max_num_batched_tokens itself when it is <= that max.  Not modelled (in
 * no modelled release): max_num_seqs appended (PR #57355), the 1024 ceiling on data
 * centre Blackwell (PR #49390), performance_mode "interactivity" (1..32). */
int64_t perf_graph_limit(const mem_config *c, int64_t *extra)
{
	const eng_release *r = c->eng ? c->eng : eng_default();
	int64_t lim = r ? r->cudagraph_max : PERF_GRAPH_MAX, grid;

	if (extra)
		*extra = 0;
	if (c->max_num_seqs > 0 && 2 * (int64_t)c->max_num_seqs < lim)
		lim = 2 * (int64_t)c->max_num_seqs;
	if (lim > PERF_GRAPH_MAX)
		lim = PERF_GRAPH_MAX;
	/* max_num_batched_tokens <= max before the min: the appended size. */
	if (r && r->cudagraph_capture_mnbt && c->max_num_batched_tokens > 0 && c->max_num_batched_tokens <= lim &&
	    extra)
		*extra = c->max_num_batched_tokens;
	if (c->max_num_batched_tokens > 0 && c->max_num_batched_tokens < lim)
		lim = c->max_num_batched_tokens;
	/* The largest size on the grid: vLLM's valid_max_size = sizes[-1]. */
	if (lim >= 256)
		grid = 256 + (lim - 256) / 16 * 16;
	else if (lim >= 8)
		grid = lim / 8 * 8;
	else if (lim >= 4)
		grid = 4;
	else if (lim >= 2)
		grid = 2;
	else
		grid = lim >= 1 ? 1 : 0;
	if (extra && *extra == grid)
		*extra = 0; /* on the grid already */
	return extra && *extra > grid ? *extra : grid;
}

/* The smallest size of the (unbounded) 1, 2, 4, 8k (< 256), 256 + 16k grid >= m. */
static int64_t grid_pad(int64_t m)
{
	if (m <= 1)
		return 1;
	if (m <= 2)
		return 2;
	if (m <= 4)
		return 4;
	if (m <= 256)
		return (m + 7) / 8 * 8;
	return 256 + (m - 256 + 15) / 16 * 16;
}

int64_t perf_graph_pad_limit(int64_t m, int64_t limit)
{
	/* The runner pads num_tokens to the smallest capture size >= it when it is at
	 * most the largest one (pad_for_cudagraph); above, the step runs eager. */
	if (limit <= 0 || m > limit)
		return m;
	return grid_pad(m);
}

int64_t perf_model_pad(const perf_model *p, int64_t m)
{
	int64_t g;

	if (p->graph_max <= 0 || m > p->graph_max)
		return m;
	g = grid_pad(m);
	/* An off-grid size (max_num_batched_tokens) between m and the grid's next. */
	if (p->graph_extra >= m && p->graph_extra < g)
		return p->graph_extra;
	return g;
}

int64_t perf_graph_pad(int64_t m)
{
	return perf_graph_pad_limit(m, PERF_GRAPH_MAX);
}

/* Kernel counts per layer below (RoPE, KV write, attention and its metadata; MoE top-k,
 * permute, combine; activation; two norms) are an assumption: the kernels a vLLM
 * forward pass launches per layer as read from its model code, each charged the
 * fitted kernel_us.  The element-wise byte counts are what each op must read and write.
 *
 * What perf_init's sections share: the replica's rates, and the element-wise bytes
 * per token and kernels per step they add up (in this order, so results do not
 * depend on how the sections are split). */
typedef struct build {
	perf_model *p;
	const gpu_spec *g;
	const llm_spec *m;
	double tp, h, peak, peak16, wb, bw, kvb;
	double la;           /* attention layers with projections: full + sliding */
	double lf, ls;       /* full-attention layers, sliding-window layers */
	double ew, kernels;
	double qk, v;        /* attention head dims (FLOPs per pair) */
} build;

static void gemm(build *b, double count, double k, double n, int experts, int topk)
{
	add_gemm(b->p, b->g, b->peak, b->wb, b->bw, count, k, n, experts, topk);
}

/* Attention layers (full and sliding-window: the same projections): MLA (DeepSeek)
 * or grouped-query projections, RoPE, KV write. */
static void attention_layers(build *b)
{
	const llm_spec *m = b->m;
	double h = b->h, tp = b->tp, la = b->la, kvd, qd;

	if (m->kv_lora_rank > 0) {
		double nope = (double)m->qk_nope_head_dim, rope = (double)m->qk_rope_head_dim;
		double lora = (double)m->kv_lora_rank, hq = (double)m->heads / tp;

		b->v = (double)m->v_head_dim;
		b->qk = nope + rope;
		if (m->q_lora_rank > 0) {
			gemm(b, la, h, (double)m->q_lora_rank, 0, 0);
			gemm(b, la, (double)m->q_lora_rank, hq * b->qk, 0, 0);
		} else {
			gemm(b, la, h, hq * b->qk, 0, 0);
		}
		gemm(b, la, h, lora + rope, 0, 0);
		gemm(b, la, lora, hq * (nope + b->v), 0, 0);
		gemm(b, la, hq * b->v, h, 0, 0);
		kvd = lora + rope;
		/* RoPE on q's and k's rope dims; the latent written to the cache. */
		b->ew += la * (4.0 * (hq + 1.0) * rope + kvd * (2.0 + b->kvb));
	} else {
		double kvh = (double)m->kv_heads / tp;

		if (kvh < 1.0)
			kvh = 1.0; /* replicated KV heads */
		b->qk = b->v = (double)m->head_dim;
		qd = (double)m->heads / tp * b->qk;
		kvd = kvh * b->qk;
		gemm(b, la, h, qd * (m->attn_output_gate ? 2.0 : 1.0) + 2.0 * kvd, 0, 0);
		gemm(b, la, qd, h, 0, 0);
		/* RoPE reads and writes q and k; the KV-cache write reads k, v and
		 * stores them in the cache dtype. */
		b->ew += la * (4.0 * (qd + kvd) + 2.0 * kvd * (2.0 + b->kvb));
	}
	b->kernels += la * 4.0; /* RoPE, KV write, attention, its metadata/merge */
}

/* Gated DeltaNet (linear attention) layers: projections, conv and gated norm. */
static void linear_attention_layers(build *b)
{
	const llm_spec *m = b->m;
	double ll = (double)(m->layers - m->full_attn_layers - m->swa_layers);
	double kd = (double)m->lin_k_heads * m->lin_k_dim, vd = (double)m->lin_v_heads * m->lin_v_dim;

	if (ll <= 0)
		return;
	gemm(b, ll, b->h, (2 * kd + 2 * vd + 2.0 * m->lin_v_heads) / b->tp, 0, 0);
	gemm(b, ll, vd / b->tp, b->h, 0, 0);
	/* Conv and gated norm over q, k, v, z: read + write. */
	b->ew += ll * 4.0 * (2 * kd + 2 * vd) / b->tp;
	b->kernels += ll * 4.0;
}

/* Dense FFN layers and MoE layers (routed experts, shared experts, router). */
static void ffn_layers(build *b)
{
	const llm_spec *m = b->m;
	double moe = m->n_experts > 0 ? (double)(m->layers - m->first_dense_layers) : 0.0;
	double dense = (double)m->layers - moe, in = (double)m->intermediate / b->tp, h = b->h;

	if (dense > 0) {
		gemm(b, dense, h, in * (m->ffn_plain ? 1.0 : 2.0), 0, 0);
		gemm(b, dense, in, h, 0, 0);
		b->ew += dense * (m->ffn_plain ? 4.0 : 6.0) * in;
	}
	if (moe > 0) {
		double ie = (double)m->moe_intermediate / b->tp;
		double is = (double)m->shared_intermediate * (double)m->n_shared_experts / b->tp;

		gemm(b, moe, h, 2.0 * ie, (int)m->n_experts, (int)m->experts_per_tok);
		gemm(b, moe, ie, h, (int)m->n_experts, (int)m->experts_per_tok);
		gemm(b, moe, h, 2.0 * is, 0, 0);
		gemm(b, moe, is, h, 0, 0);
		/* Router (BF16, replicated). */
		add_gemm(b->p, b->g, b->peak16, 2.0, b->bw, moe, h, (double)m->n_experts, 0, 0);
		b->ew += moe * 6.0 * (ie * (double)m->experts_per_tok + is);
		b->kernels += moe * 3.0; /* top-k, align/permute, combine */
	}
	b->kernels += (dense + moe) * 1.0; /* activation */
}

/* Every layer: two fused add + RMSNorm (read x and the residual, write both); once per
 * step: embedding lookup and final norm.  Then the per-token and per-step totals. */
static void elementwise(build *b, double ew_bw)
{
	double h = b->h;

	b->ew += (double)b->m->layers * 2.0 * 4.0 * h * 2.0;
	b->kernels += (double)b->m->layers * 2.0;
	b->ew += 4.0 * h + 8.0 * h;
	b->kernels += 2.0;
	b->p->ew_s_per_token = b->ew / ew_bw;
	b->p->ew_fixed_s = b->kernels * b->g->kernel_s;
}

/* lm_head: BF16, vocab split across shards, one row per sequence. */
static void lm_head(build *b)
{
	perf_model *p = b->p;
	const gpu_spec *g = b->g;
	double h = b->h, n = (double)b->m->vocab / b->tp;

	p->lm_flop_s = 2.0 * h * n / (b->peak16 * g->compute_eff);
	p->lm_half_s = 2.0 * h * g->gemm_half / (b->peak16 * g->compute_eff) + g->kernel_s;
	p->lm_w_s = h * n * 2.0 / b->bw + g->kernel_s;
	p->lm_act_s = 2.0 * (h + n) * 2.0 / b->bw;
}

/* Prefill attention FLOPs, decode KV reads (or MLA's absorbed FLOPs), recurrent state;
 * the full-attention layers here, the sliding-window ones in swa_terms. */
static void attention_terms(build *b, const mem_config *c, double attn_eff)
{
	perf_model *p = b->p;
	const llm_spec *m = b->m;
	double kv_gpu = llm_kv_bytes_per_token_gpu(m, c->kv, c->tp);
	double rd = kv_gpu / b->bw, fl;

	p->attn_flops_per_pair = 2.0 * b->lf * (double)m->heads * (b->qk + b->v);
	p->attn_s_per_pair = p->attn_flops_per_pair / b->tp / (b->peak16 * attn_eff);
	p->attn_half_q = b->g->attn_half_q;
	/* A decode reads each context token's KV once; MLA's absorbed decode does
	 * ~2 x heads x (2 x latent + rope) FLOPs per context token, which can
	 * make it compute bound. */
	if (m->kv_lora_rank > 0)
		fl = 2.0 * b->lf * (double)m->heads / b->tp *
		     (2.0 * (double)m->kv_lora_rank + (double)m->qk_rope_head_dim) / (b->peak16 * attn_eff);
	else
		fl = p->attn_s_per_pair;
	p->kv_s_per_token = rd > fl ? rd : fl;
	p->kv_bytes_per_token = kv_gpu * b->tp;
	p->state_s_per_seq = 2.0 * m->state_bytes_per_seq / b->tp / b->bw;
}

/* Sliding-window layers: the same per-pair FLOPs and per-token KV read as a full
 * layer, over at most sliding_window positions (perf_swa_attn_s, perf_swa_kv_s). */
static void swa_terms(build *b, const mem_config *c, double attn_eff)
{
	perf_model *p = b->p;
	const llm_spec *m = b->m;
	double kv_gpu, rd;

	if (!(b->ls > 0) || m->sliding_window <= 0)
		return;
	kv_gpu = llm_swa_kv_bytes_per_token_gpu(m, c->kv, c->tp);
	rd = kv_gpu / b->bw;
	p->swa_window = (double)m->sliding_window;
	p->swa_attn_s_per_pair = 2.0 * b->ls * (double)m->heads * (b->qk + b->v) / b->tp / (b->peak16 * attn_eff);
	p->swa_kv_s_per_token = rd > p->swa_attn_s_per_pair ? rd : p->swa_attn_s_per_pair;
	p->swa_kv_bytes_per_token = kv_gpu * b->tp;
}

/* TP all-reduce: after attention and after the MLP, BF16 activations. */
static void allreduce_terms(build *b)
{
	perf_model *p = b->p;
	const gpu_spec *g = b->g;
	double tp = b->tp;

	if (tp <= 1.0)
		return;
	p->ar_count = 2.0 * (double)b->m->layers;
	p->ar_bytes_per_token = b->h * 2.0;
	p->ar_s_per_byte = 2.0 * (tp - 1.0) / tp / (g->link_bw * g->link_eff);
	p->nccl_lat_s = 2.0 * (tp - 1.0) * g->link_latency_s;
	p->car_lat_s = g->car_latency_s > 0 ? g->car_latency_s : p->nccl_lat_s;
}

int perf_init(perf_model *p, const gpu_spec *g, const llm_spec *m, const mem_config *c,
	      fs_err *err)
{
	build b;
	double per_tok = 0, attn_eff;

	if (perf_check(g, m, c, err))
		return -1;
	/* 0 = not given: attention at the GEMMs' efficiency, element-wise ops at the
	 * weight-streaming bandwidth. */
	attn_eff = g->attn_eff > 0 ? g->attn_eff : g->compute_eff;
	memset(p, 0, sizeof *p);
	b = (build){.p = p, .g = g, .m = m, .tp = (double)c->tp, .h = (double)m->hidden,
		    .peak = gpu_compute_flops(g, c->weights), .peak16 = g->flops_bf16,
		    .wb = prec_weight_bytes(c->weights), .bw = g->mem_bw * g->mem_eff,
		    .kvb = prec_kv_bytes(c->kv), .la = (double)(m->full_attn_layers + m->swa_layers),
		    .lf = (double)m->full_attn_layers, .ls = (double)m->swa_layers};
	p->kernel_s = g->kernel_s;
	attention_layers(&b);
	linear_attention_layers(&b);
	ffn_layers(&b);
	elementwise(&b, g->mem_bw * (g->ew_eff > 0 ? g->ew_eff : g->mem_eff));
	lm_head(&b);
	attention_terms(&b, c, attn_eff);
	swa_terms(&b, c, attn_eff);
	allreduce_terms(&b);
	p->cpu_s = g->step_overhead_s;

	p->graph_max = perf_graph_limit(c, &p->graph_extra);
	for (int64_t i = 1; i <= PERF_GRAPH_MAX; i++)
		p->tok_s[i] = perf_tokens_s(p, perf_model_pad(p, i));
	p->tok_s[0] = p->tok_s[1];
	for (int64_t i = 1; i <= PERF_GRAPH_MAX; i++)
		tokens_split(p, (double)perf_model_pad(p, i), &p->tok_c[i], &p->tok_m[i]);
	p->tok_c[0] = p->tok_c[1];
	p->tok_m[0] = p->tok_m[1];

	/* Per prompt (only when a fit asks for it): the dense GEMM time of
	 * prefill_seq_tokens tokens at the compute rate. */
	for (int i = 0; i < p->ngemm; i++)
		per_tok += p->gemm[i].count * p->gemm[i].flop_s *
			   (p->gemm[i].experts ? (double)p->gemm[i].topk : 1.0);
	p->prefill_seq_s = g->prefill_seq_tokens * per_tok;
	p->flops_per_token = per_tok * b.peak * g->compute_eff * b.tp + 2.0 * b.h * (double)m->vocab;
	p->weight_bytes = llm_weight_bytes(m, c->weights);
	return 0;
}

void perf_init_linear(perf_model *p, double fixed_s, double per_token_s)
{
	memset(p, 0, sizeof *p);
	p->cpu_s = fixed_s;
	p->ew_s_per_token = per_token_s;
	for (int64_t i = 0; i <= PERF_GRAPH_MAX; i++)
		p->tok_s[i] = perf_tokens_s(p, i);
}

void perf_breakdown(const perf_model *p, const perf_batch *b, perf_parts *o)
{
	double x, s, lc, lm;

	memset(o, 0, sizeof *o);
	if (b->tokens <= 0)
		return;
	o->padded_tokens = perf_model_pad(p, b->tokens);
	o->cuda_graph = p->graph_max > 0 && b->tokens <= p->graph_max;
	x = (double)o->padded_tokens;
	s = (double)b->seqs;
	o->gemm = gemms_s(p, x);
	lc = p->lm_flop_s * s + p->lm_half_s;
	lm = p->lm_w_s + p->lm_act_s * s;
	o->lm_head = lc > lm ? lc : lm;
	o->attn_prefill = p->attn_s_per_pair * (b->attn_pairs + p->attn_half_q * b->attn_pairs_q);
	o->attn_decode = p->kv_s_per_token * b->kv_read + p->state_s_per_seq * s;
	if (p->swa_window > 0) {
		o->attn_prefill += perf_swa_attn_s(p, b);
		o->attn_decode += perf_swa_kv_s(p, b);
	}
	o->elementwise = p->ew_s_per_token * x + p->ew_fixed_s;
	o->allreduce = allreduce_s(p, x);
	o->cpu = p->cpu_s + p->prefill_seq_s * (double)b->prefill_seqs;
}

void perf_batch_add_prefill(perf_batch *b, int64_t context, int64_t chunk)
{
	/* Token j of the chunk (0-based) attends to context + j + 1 positions. */
	double pairs = (double)chunk * (double)context + (double)chunk * (double)(chunk + 1) / 2.0;

	b->tokens += chunk;
	b->seqs += 1;
	b->prefill_seqs += 1;
	b->attn_pairs += pairs;
	if (chunk > 0)
		b->attn_pairs_q += pairs / (double)chunk;
	b->kv_read += (double)context;
}

void perf_batch_add_decode(perf_batch *b, int64_t context)
{
	/* The new token's KV is written, then read with the context. */
	b->tokens += 1;
	b->seqs += 1;
	b->kv_read += (double)(context + 1);
}

/* ---- Power (docs/planning.md, "Cost, power and redundancy") ---- */

void perf_tokens_split(const perf_model *p, int64_t m, double *compute_s, double *memory_s)
{
	tokens_split(p, (double)m, compute_s, memory_s);
}

void perf_tokens_s_split(const perf_model *p, int64_t m, double *t, double *compute_s,
			 double *memory_s)
{
	double x = (double)m;

	double g = 0;

	/* The operations of gemms_s / perf_tokens_s and tokens_split in their order, so
	 * each result has exactly their bits; the GEMM terms are computed once. */
	*compute_s = *memory_s = 0;
	for (int i = 0; i < p->ngemm; i++) {
		const perf_gemm *q = &p->gemm[i];
		double c, w, h;

		gemm_terms(q, x, &c, &w);
		h = sqrt(c * c + w * w);
		g += q->count * (h + p->kernel_s);
		if (h > 0) {
			*compute_s += q->count * c * c / h;
			*memory_s += q->count * w * w / h;
		}
	}
	*memory_s += p->ew_s_per_token * x;
	*t = g + p->ew_s_per_token * x + p->ew_fixed_s + allreduce_s(p, x) + p->cpu_s;
}

double perf_idle_power_w(const gpu_spec *g)
{
	if (g->idle_power_w > 0)
		return g->idle_power_w < g->power_w ? g->idle_power_w : g->power_w;
	return PERF_IDLE_POWER_SHARE * g->power_w;
}

double perf_power_w(const gpu_spec *g, double compute_share, double memory_share)
{
	double idle = perf_idle_power_w(g), max = g->power_w, mem_act;

	if (!(max > idle))
		return max > 0 ? max : 0;
	/* A memory-bound phase draws PERF_POWER_MEMORY_FRAC of TDP: its activity
	 * between idle and TDP follows from the GPU's idle power. */
	mem_act = (PERF_POWER_MEMORY_FRAC * max - idle) / (max - idle);
	if (mem_act < 0)
		mem_act = 0;
	if (mem_act > 1)
		mem_act = 1;
	if (compute_share < 0)
		compute_share = 0;
	if (memory_share < 0)
		memory_share = 0;
	if (compute_share + memory_share > 1) {
		double k = 1 / (compute_share + memory_share);
		compute_share *= k;
		memory_share *= k;
	}
	return idle + (max - idle) * (PERF_POWER_COMPUTE_FRAC * compute_share + mem_act * memory_share);
}
