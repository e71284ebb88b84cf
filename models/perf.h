/*
 * perf.h - step-time model: how long one engine step takes for a given batch.
 *
 * Priced per operator, like Vidur and the roofline papers (docs/models.md, "Step
 * model"; docs/fidelity.md for how far it is from measurements).  A step of M
 * scheduled tokens from S sequences costs, per replica (every TP shard works in
 * parallel, so times are per GPU):
 *
 * - the linear layers (QKV / O / gate-up / down, MoE experts, linear-attention
 *   projections): each GEMM of sharded shape K x N at hypot(C, W) + kernel, with
 *       C = 2 K (N M + gemm_half) / (peak x compute_eff)   (compute)
 *       W = (K N x weight bytes + 2 M (K + N) x 2) / (bandwidth x mem_eff)   (memory),
 *   i.e. an efficiency that falls with the output size M x N (small-M and narrow
 *   GEMMs) and a smooth roofline: near the ridge a GEMM is limited by both, which
 *   max(C, W) misses (the Vidur profiles fit 9.4 % MAPE with the 2-norm, 10.6 %
 *   with max, and the max drags mem_eff from 0.86 to 0.72).  MoE experts run at the
 *   routed tokens per expert (M x top_k / experts) and read only the experts hit;
 * - lm_head at S tokens (the last position of every scheduled sequence, BF16);
 * - element-wise ops (fused add+RMSNorm, RoPE, SiLU-and-mul, KV-cache write,
 *   embedding lookup) as bytes over bandwidth x ew_eff, plus a kernel each;
 * - prefill attention at FlashAttention's efficiency for the chunk's query length q,
 *   attn_eff x q / (q + attn_half_q) of peak; decode attention (and the prefix a
 *   chunk attends to) as a paged-KV read at bandwidth x mem_eff;
 * - the TP all-reduce after attention and after the MLP: vLLM's custom all-reduce
 *   (latency car_latency + bytes over link) up to 8 MiB, NCCL's ring above;
 * - a fixed per-step CPU cost (scheduler, input preparation, sampling).
 * Steps of up to graph_max tokens are padded to the release's CUDA-graph capture
 * sizes for the linear, element-wise and all-reduce terms, as the engine pads them;
 * larger steps run eager at their own size.  vLLM's default capture list
 * (VllmConfig._set_cudagraph_sizes, vllm@000fc94b vllm/config/vllm.py; the 8/16
 * steps since PR #26016, so in every modelled release) is 1, 2, 4, the multiples of
 * 8 below 256 and the multiples of 16 from 256 up to
 *     graph_max = min(release cudagraph_max (512), 2 x max_num_seqs,
 *                     max_num_batched_tokens),
 * rounded down onto the list.  Under the default cudagraph_mode FULL_AND_PIECEWISE
 * every step is padded, not only decode-only ones: a uniform-decode batch replays a
 * FULL graph, a mixed (prefill) batch of up to graph_max tokens a PIECEWISE graph
 * captured for the padded token count (vllm/v1/cudagraph_dispatcher.py
 * initialize_cudagraph_keys / dispatch, vllm@009eec3b).  Attention is priced at the
 * real batch either way.
 *
 * Sliding-window layers (llm_spec.swa_layers) attend to at most sliding_window
 * positions: their prefill FLOPs and KV reads are the batch's, capped at
 * window x (prefill tokens, sequences) -- exact when every context is longer (or
 * every one shorter) than the window, an upper bound otherwise.
 *
 * Everything that depends on M alone (and the per-step constants) is tabulated by
 * perf_init for M <= PERF_GRAPH_MAX, so the hot path is a table lookup plus a few
 * products.  The struct is public because the replica engine evaluates it on every
 * step; build it with perf_init and treat the fields as read-only.  It holds no
 * pointers: copying it copies the model.
 */
#ifndef FS_PERF_H
#define FS_PERF_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"
#include "models/memory.h"

/* The largest CUDA-graph capture size modelled: the size of perf_model.tok_s (a
 * release's limit is clamped to it; vLLM's default ceiling is 512, 1024 only on data
 * centre Blackwell after PR #49390, not in any modelled release). */
#define PERF_GRAPH_MAX 512
/* GEMM groups a model can have (dense projections, experts, lm_head). */
#define PERF_MAX_GEMMS 12

/* One GEMM shape, repeated `count` times per step (e.g. once per layer). */
typedef struct perf_gemm {
	double count;      /* instances per step */
	double k, n;       /* sharded shape: M x k times k x n */
	double flop_s;     /* 2 k n / (peak x compute_eff): seconds per token */
	double half_s;     /* 2 k gemm_half / (peak x compute_eff): seconds, once */
	double w_s;        /* weight bytes / (bw x mem_eff) */
	double act_s;      /* 2 (k + n) bytes / (bw x mem_eff): per token */
	int experts;       /* > 0: routed experts, M x topk / experts tokens each */
	int topk;
} perf_gemm;

typedef struct perf_model {
	/* Per-step seconds for a step of m tokens (padded), m = 1..PERF_GRAPH_MAX:
	 * linear layers, element-wise ops, all-reduces, kernels and CPU cost. */
	double tok_s[PERF_GRAPH_MAX + 1];
	/* lm_head on S sequences: max(lm_flop_s x S + lm_half_s, lm_w_s + lm_act_s x S). */
	double lm_flop_s, lm_half_s, lm_w_s, lm_act_s;
	double attn_s_per_pair;     /* FLOPs per (query, key) pair / (peak x attn_eff) */
	double attn_half_q;         /* FlashAttention's half-efficiency query length */
	double kv_s_per_token;      /* one context token's KV read (all layers) */
	double state_s_per_seq;     /* linear-attention state read + write per sequence */
	/* Sliding-window layers (0 when the model has none): */
	double swa_window;          /* tokens each one attends to at most */
	double swa_attn_s_per_pair; /* their prefill FLOPs per pair / (peak x attn_eff) */
	double swa_kv_s_per_token;  /* one in-window context token's KV read (all of them) */
	int64_t graph_max;          /* largest CUDA-graph capture size: steps of up to this
				     * many tokens are padded (0: none, all eager) */
	int64_t graph_extra;        /* off-grid capture size (max_num_batched_tokens, in
				     * releases that add it), 0 = none */
	double prefill_seq_s;       /* per prompt sequence (or chunk) in a step: the GEMM
				     * time of gpu_spec.prefill_seq_tokens tokens (0 in the
				     * catalog; a calibrate fit may use it) */
	/* For steps beyond the table (eager) and for perf_breakdown. */
	int ngemm;
	perf_gemm gemm[PERF_MAX_GEMMS];
	double ew_s_per_token;      /* element-wise bytes per token / (bw x ew_eff) */
	double ew_fixed_s;          /* element-wise kernels and attention kernels */
	double ar_count;            /* all-reduces per step (0 at TP 1) */
	double ar_bytes_per_token;  /* message bytes per token of one all-reduce */
	double car_lat_s, nccl_lat_s, ar_s_per_byte; /* custom / ring latency, bw term */
	double cpu_s;               /* fixed per-step CPU cost */
	double kernel_s;            /* per GEMM kernel */
	/* Kept for reports and tests: */
	double flops_per_token;     /* 2 x active linear params (+ lm_head) */
	double attn_flops_per_pair; /* attention FLOPs per (query token, context token) */
	double weight_bytes;        /* whole replica */
	double kv_bytes_per_token;  /* whole replica, full-attention layers */
	double swa_kv_bytes_per_token; /* whole replica, sliding-window layers */
	/* Power model: of tok_s[m], the seconds the GEMMs (and element-wise traffic) are
	 * compute-bound (tok_c) and memory-bound (tok_m); the rest (kernel launches,
	 * all-reduce, CPU) is "other" (see perf_step_activity). */
	double tok_c[PERF_GRAPH_MAX + 1];
	double tok_m[PERF_GRAPH_MAX + 1];
} perf_model;

/* One step's batch, aggregated over the scheduled sequences. */
typedef struct perf_batch {
	int64_t tokens;       /* tokens computed this step (prefill chunks + decodes) */
	int64_t seqs;         /* sequences in the step */
	double attn_pairs;    /* prefill chunks: sum of (query, key) pairs computed */
	double kv_read;       /* context tokens whose KV is read: decodes' contexts and
			       * the prefix each prefill chunk attends to */
	int64_t prefill_seqs; /* sequences prefilling (a prompt or a chunk of one) */
	double attn_pairs_q;  /* prefill chunks: sum of pairs / chunk length */
} perf_batch;

/* Build the model for a replica. Returns 0, or -1 with the reason. */
int perf_init(perf_model *p, const gpu_spec *g, const llm_spec *m, const mem_config *c,
	      fs_err *err);

/* A linear toy model for analytical checks: every step of M tokens costs
 * fixed_s + per_token_s x M (no padding, no other term). */
void perf_init_linear(perf_model *p, double fixed_s, double per_token_s);

/* Seconds of the m-token part (linear layers, element-wise, all-reduce, kernels,
 * CPU) for a step of m > PERF_GRAPH_MAX tokens (no padding). */
double perf_tokens_s(const perf_model *p, int64_t m);

/* The sliding-window layers' attention: FLOPs of the pairs within the window and KV
 * reads of the in-window context, each capped at window x (prefill tokens or
 * sequences).  0 without such layers. */
static inline double perf_swa_attn_s(const perf_model *p, const perf_batch *b)
{
	double w = p->swa_window, pf, pairs, q;

	if (!(w > 0))
		return 0.0;
	pf = (double)(b->tokens - (b->seqs - b->prefill_seqs)); /* decodes: one token each */
	if (pf < 0)
		pf = 0;
	pairs = b->attn_pairs < pf * w ? b->attn_pairs : pf * w;
	q = b->attn_pairs_q < (double)b->prefill_seqs * w ? b->attn_pairs_q : (double)b->prefill_seqs * w;
	return p->swa_attn_s_per_pair * (pairs + p->attn_half_q * q);
}

static inline double perf_swa_kv_s(const perf_model *p, const perf_batch *b)
{
	double w = p->swa_window, cap;

	if (!(w > 0))
		return 0.0;
	cap = (double)b->seqs * w;
	return p->swa_kv_s_per_token * (b->kv_read < cap ? b->kv_read : cap);
}

/* Step duration in seconds, and in integer nanoseconds (rounded up, at least 1).
 * Inline: the engine's macro-steps evaluate it once per engine step.  Every caller
 * compiles the same expression in the same order (no FP contraction in ISO C mode),
 * so the fast path and the reference get the same bits. */
/* perf_step_s given the m-token part t (tok_s or perf_tokens_s). */
static inline double perf_step_rest_s(const perf_model *p, const perf_batch *b, double t)
{
	double s, lc, lm;

	s = (double)b->seqs;
	lc = p->lm_flop_s * s + p->lm_half_s;
	lm = p->lm_w_s + p->lm_act_s * s;
	t += lc > lm ? lc : lm;
	t += p->attn_s_per_pair * (b->attn_pairs + p->attn_half_q * b->attn_pairs_q);
	t += p->kv_s_per_token * b->kv_read + p->state_s_per_seq * s;
	if (p->swa_window > 0)
		t += perf_swa_attn_s(p, b) + perf_swa_kv_s(p, b);
	return t + p->prefill_seq_s * (double)b->prefill_seqs;
}

static inline double perf_step_s(const perf_model *p, const perf_batch *b)
{
	if (b->tokens <= 0)
		return 0.0;
	return perf_step_rest_s(p, b,
				b->tokens <= PERF_GRAPH_MAX ? p->tok_s[b->tokens] : perf_tokens_s(p, b->tokens));
}

/* Seconds to whole nanoseconds, rounded up, at least 1. */
static inline int64_t perf_ns_of(double s)
{
	double ns = s * 1e9;
	int64_t i;

	/* ceil without the libm call: exact for 1 < ns < 2^62 (truncation, plus one
	 * when there was a fraction); below, at least 1 ns as before. */
	if (!(ns > 1.0))
		return 1;
	if (ns >= 4.6e18)
		return INT64_MAX / 4; /* a step of 146 years: callers' sums stay finite */
	i = (int64_t)ns;
	return i + ((double)i < ns);
}

static inline int64_t perf_step_ns(const perf_model *p, const perf_batch *b)
{
	return perf_ns_of(perf_step_s(p, b));
}

/* A step's time split by operator class (seconds); the parts add up to perf_step_s. */
typedef struct perf_parts {
	double gemm;        /* linear layers (dense, experts) incl. their kernels */
	double lm_head;
	double attn_prefill;/* FlashAttention FLOPs of prefill chunks */
	double attn_decode; /* paged-KV reads (decode contexts and chunk prefixes), and
			     * linear-attention state */
	double elementwise; /* norms, RoPE, activation, KV write, embedding, kernels */
	double allreduce;
	double cpu;         /* fixed per-step CPU cost (+ per-prompt cost if fitted) */
	int64_t padded_tokens; /* tokens after CUDA-graph padding */
	int cuda_graph;        /* 1: the step replays a CUDA graph (tokens <= graph_max) */
} perf_parts;

void perf_breakdown(const perf_model *p, const perf_batch *b, perf_parts *out);

/* One GEMM of m tokens times a k x n weight matrix (wbytes per weight) at FLOP
 * rate `peak` on g, its kernel included: the same formula perf_init prices the
 * linear layers with (used by the operator fit, models/opfit.c). */
double perf_gemm_time(const gpu_spec *g, double peak, double wbytes, double k, double n, double m);

/* One element-wise kernel moving `bytes` on g. */
double perf_ew_time(const gpu_spec *g, double bytes);

/* The CUDA-graph size a step of m tokens runs at under vLLM's default capture list
 * (1, 2, 4, multiples of 8 below 256, multiples of 16 from 256) whose largest size
 * is `limit` (a size on that list): the smallest capture size >= m, or m itself
 * (eager) above limit; limit <= 0: no graphs. */
int64_t perf_graph_pad_limit(int64_t m, int64_t limit);
/* The same with limit PERF_GRAPH_MAX (a replica at the default ceiling). */
int64_t perf_graph_pad(int64_t m);
/* The capture list of a replica configured by c: returns its largest size,
 * min(cudagraph_max of the release c->eng (NULL: eng_default()), 2 x max_num_seqs,
 * max_num_batched_tokens, PERF_GRAPH_MAX) rounded down onto the grid (0 when < 1),
 * or the off-grid max_num_batched_tokens the release adds (*extra, when extra is
 * not NULL; 0 when none). */
int64_t perf_graph_limit(const mem_config *c, int64_t *extra);
/* The size a step of m tokens runs at on replica p (its graph_max, graph_extra):
 * what perf_step_s prices the linear, element-wise and all-reduce terms at. */
int64_t perf_model_pad(const perf_model *p, int64_t m);

/* Add one sequence prefilling `chunk` tokens after `context` already computed (counts
 * one prefill sequence: a chunked prompt pays the per-sequence cost in every step). */
void perf_batch_add_prefill(perf_batch *b, int64_t context, int64_t chunk);
/* Add one decode token of a sequence with `context` tokens before it. */
void perf_batch_add_decode(perf_batch *b, int64_t context);

/*
 * Power.  A step's time splits into compute-bound seconds (GEMMs by the share
 * C^2/hypot(C, W) of their smooth roofline, lm_head when its FLOP term binds,
 * FlashAttention prefill), memory-bound seconds (GEMMs' W^2/hypot share, element-wise
 * traffic, paged-KV and state reads) and the rest (kernel launches, all-reduce, CPU
 * gaps), which draws idle power.  "Compute utilisation" is compute-bound time over
 * time: the share of the time the tensor cores are the bottleneck -- the figure that
 * says how much more work the GPU could do, unlike "busy" (any step running).
 *
 * Board power while a share c of the time is compute-bound and m memory-bound:
 *     P = idle + (TDP - idle) x (c + a_m x m),  a_m = (0.73 TDP - idle) / (TDP - idle)
 * Sources: compute-bound phases at TDP and memory-bound ones at 0.73 of TDP are
 * Splitwise's A100 measurements (models/data/splitwise_perf_a100.csv, Llama-2-70B,
 * TP 2; Patel et al., "Splitwise", ISCA 2024): peak_power, reached in the prompt
 * phase, is 1.00-1.09 x TDP; the token phase, solved from average_power over the
 * request with the prompt at 1.0 x TDP, is 0.71-0.73 x TDP at batch 1-16 (0.59 at TP 4
 * and 0.43 at TP 8, where all-reduce and CPU gaps -- "other" here -- grow).  Idle
 * power per GPU is gpu_spec.idle_power_w (PERF_IDLE_POWER_SHARE x TDP when unset).
 */
#define PERF_POWER_COMPUTE_FRAC 1.0  /* activity of a compute-bound phase (TDP) */
#define PERF_POWER_MEMORY_FRAC 0.73  /* memory-bound phase, share of TDP (Splitwise) */
#define PERF_IDLE_POWER_SHARE 0.20   /* idle / TDP when the GPU gives no idle_power_w */

/* The m-token part's compute- and memory-bound seconds for m > PERF_GRAPH_MAX
 * (no padding): what tok_c / tok_m tabulate below it. */
void perf_tokens_split(const perf_model *p, int64_t m, double *compute_s, double *memory_s);
/* perf_tokens_s and perf_tokens_split in one pass (the same bits as each). */
void perf_tokens_s_split(const perf_model *p, int64_t m, double *t, double *compute_s,
			 double *memory_s);

/* perf_step_activity given the m-token part's compute- and memory-bound seconds. */
static inline void perf_step_activity_rest(const perf_model *p, const perf_batch *b, double c,
					   double m, double *compute_s, double *memory_s)
{
	double s, lc, lm;

	/* lm_head: the max of its compute and memory terms, whichever binds. */
	s = (double)b->seqs;
	lc = p->lm_flop_s * s + p->lm_half_s;
	lm = p->lm_w_s + p->lm_act_s * s;
	if (lc > lm)
		c += lc;
	else
		m += lm;
	/* Prefill attention is FLOP-bound (FlashAttention); decode attention and the
	 * linear-attention state are KV / state reads. */
	c += p->attn_s_per_pair * (b->attn_pairs + p->attn_half_q * b->attn_pairs_q);
	m += p->kv_s_per_token * b->kv_read + p->state_s_per_seq * s;
	if (p->swa_window > 0) {
		c += perf_swa_attn_s(p, b);
		m += perf_swa_kv_s(p, b);
	}
	*compute_s = c;
	*memory_s = m;
}

/* Compute-bound and memory-bound seconds of the step b (their sum <= perf_step_s).
 * Inline: the engine calls it on every step, fast path and reference alike. */
static inline void perf_step_activity(const perf_model *p, const perf_batch *b, double *compute_s,
				      double *memory_s)
{
	double c, m;

	*compute_s = *memory_s = 0;
	if (b->tokens <= 0)
		return;
	if (b->tokens <= PERF_GRAPH_MAX) {
		c = p->tok_c[b->tokens];
		m = p->tok_m[b->tokens];
	} else {
		perf_tokens_split(p, b->tokens, &c, &m);
	}
	perf_step_activity_rest(p, b, c, m, compute_s, memory_s);
}

/* The same as integer nanoseconds of a step lasting step_ns (= perf_step_ns(p, b)):
 * each share of perf_step_s times step_ns, truncated.  Integers, so sums over steps
 * do not depend on how steps are grouped (the fast path's macro-steps and the
 * reference engine get the same totals). */
/* Compute- and memory-bound shares (c, m seconds) of a step lasting step_ns, as whole
 * nanoseconds (truncated; together at most step_ns). */
static inline void perf_shares_ns(double c, double m, int64_t step_ns, int64_t *compute_ns,
				  int64_t *memory_ns)
{
	/* c x 1e9 is c's share of step_ns (the step time rounded up to whole ns) to
	 * within 1 ns; no division on the engine's per-step path. */
	double cn = c * 1e9, mn = m * 1e9;
	int64_t ci, mi;

	*compute_ns = *memory_ns = 0;
	if (step_ns <= 0)
		return;
	ci = cn > 0 ? (cn < (double)step_ns ? (int64_t)cn : step_ns) : 0;
	mi = mn > 0 ? (mn < (double)(step_ns - ci) ? (int64_t)mn : step_ns - ci) : 0;
	*compute_ns = ci;
	*memory_ns = mi;
}

static inline void perf_step_activity_ns(const perf_model *p, const perf_batch *b, int64_t step_ns,
					 int64_t *compute_ns, int64_t *memory_ns)
{
	double c, m;

	perf_step_activity(p, b, &c, &m);
	perf_shares_ns(c, m, step_ns, compute_ns, memory_ns);
}

/* perf_step_ns and perf_step_activity_ns of the same step in one evaluation of the
 * m-token part (the engine's per-step call): the same step_ns and shares as the two. */
static inline int64_t perf_step_ns_activity(const perf_model *p, const perf_batch *b,
					    int64_t *compute_ns, int64_t *memory_ns)
{
	double t, c, m, cs, ms;
	int64_t ns;

	if (b->tokens <= 0) {
		*compute_ns = *memory_ns = 0;
		return perf_step_ns(p, b);
	}
	if (b->tokens <= PERF_GRAPH_MAX) {
		t = p->tok_s[b->tokens];
		c = p->tok_c[b->tokens];
		m = p->tok_m[b->tokens];
	} else {
		perf_tokens_s_split(p, b->tokens, &t, &c, &m);
	}
	ns = perf_ns_of(perf_step_rest_s(p, b, t));
	perf_step_activity_rest(p, b, c, m, &cs, &ms);
	perf_shares_ns(cs, ms, ns, compute_ns, memory_ns);
	return ns;
}

/* Idle board power of g, W (idle_power_w, or PERF_IDLE_POWER_SHARE x power_w). */
double perf_idle_power_w(const gpu_spec *g);

/* Mean board power of one GPU of g that is compute-bound a share compute_share of
 * the time and memory-bound memory_share (idle otherwise), W; see above. */
double perf_power_w(const gpu_spec *g, double compute_share, double memory_share);

#endif
