/*
 * perf.h - step-time model: how long one engine step takes for a given batch.
 *
 * Roofline (SPEC section 4): compute time = FLOPs / (tp x peak x compute_eff),
 * memory time = bytes / (tp x bandwidth x mem_eff); the step takes the larger, plus
 * tensor-parallel all-reduce time and a fixed per-step overhead.  FLOPs are
 * 2 x active params x batch tokens plus attention (4 x layers x heads x head_dim per
 * (query token, context token) pair); bytes are the weights once per step, the KV read
 * for every sequence's context and the KV written.  Each sequence that prefills in
 * the step adds the GEMM time of gpu_spec.prefill_seq_tokens tokens (per-request
 * prefill work that does not shrink with the prompt: see perf.c, docs/models.md).
 *
 * The struct is public because the replica engine evaluates it on every step; build
 * it with perf_init and treat the fields as read-only.
 */
#ifndef FS_PERF_H
#define FS_PERF_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"
#include "models/memory.h"

typedef struct perf_model {
	/* All per replica (already divided across tp shards). */
	double s_per_flop;          /* 1 / (tp x peak x compute_eff) */
	double s_per_byte;          /* 1 / (tp x bw x mem_eff) */
	double flops_per_token;     /* 2 x active params */
	double attn_flops_per_pair; /* attention FLOPs per (query token, context token) */
	double weight_bytes;        /* whole replica, read once per step */
	double kv_bytes_per_token;  /* whole replica */
	double ar_s_per_token;      /* all-reduce seconds per batch token (0 at tp 1) */
	double ar_fixed_s;          /* all-reduce latency per step */
	double overhead_s;          /* fixed per step */
	double prefill_seq_s;       /* per prompt sequence (or chunk) in a step:
				     * gpu_spec.prefill_seq_tokens x flops_per_token
				     * x s_per_flop */
} perf_model;

/* One step's batch, aggregated over the scheduled sequences. */
typedef struct perf_batch {
	int64_t tokens;      /* tokens computed this step (prefill chunks + decodes) */
	int64_t seqs;        /* sequences in the step */
	double attn_pairs;   /* sum over scheduled tokens of the context each attends to */
	double kv_read;      /* sum over sequences of context tokens read */
	int64_t prefill_seqs; /* sequences prefilling (a prompt or a chunk of one) */
} perf_batch;

/* Build the model for a replica. Returns 0, or -1 with the reason. */
int perf_init(perf_model *p, const gpu_spec *g, const llm_spec *m, const mem_config *c,
	      fs_err *err);

/* Step duration in seconds, and in integer nanoseconds (rounded up, at least 1).
 * Inline: the engine's macro-steps evaluate it once per engine step.  Every caller
 * compiles the same expression in the same order (no FP contraction in ISO C mode),
 * so the fast path and the reference get the same bits. */
static inline double perf_step_s(const perf_model *p, const perf_batch *b)
{
	double flops, bytes, t_compute, t_memory, t;

	if (b->tokens <= 0)
		return 0.0;
	flops = p->flops_per_token * (double)b->tokens + p->attn_flops_per_pair * b->attn_pairs;
	bytes = p->weight_bytes + p->kv_bytes_per_token * (b->kv_read + (double)b->tokens);
	t_compute = flops * p->s_per_flop;
	t_memory = bytes * p->s_per_byte;
	t = t_compute > t_memory ? t_compute : t_memory;
	return t + p->ar_fixed_s + p->ar_s_per_token * (double)b->tokens + p->overhead_s +
	       p->prefill_seq_s * (double)b->prefill_seqs;
}

static inline int64_t perf_step_ns(const perf_model *p, const perf_batch *b)
{
	double ns = perf_step_s(p, b) * 1e9;
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

/* Add one sequence prefilling `chunk` tokens after `context` already computed (counts
 * one prefill sequence: a chunked prompt pays the per-sequence cost in every step). */
void perf_batch_add_prefill(perf_batch *b, int64_t context, int64_t chunk);
/* Add one decode token of a sequence with `context` tokens before it. */
void perf_batch_add_decode(perf_batch *b, int64_t context);

#endif
