/*
 * memory.h - per-GPU memory plan of one vLLM replica, term by term as the chosen vLLM
 * release computes it at start-up (v1/worker/gpu_worker.py determine_available_memory,
 * v1/core/kv_cache_utils.py get_kv_cache_config): device memory x utilisation, minus
 * weights, the profiled activation peak, non-torch memory, CUDA graphs (releases that
 * subtract them) and hybrid state reserved up front (releases without the shared
 * pool); the rest is KV blocks.  docs/models.md "Memory plan" has the formula and the
 * source of every term.
 *
 * Owns: nothing; mem_plan and mem_config are plain values (mem_config.eng points into
 * the static release table of models/engine.c).
 */
#ifndef FS_MEMORY_H
#define FS_MEMORY_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"

struct eng_release;

typedef struct mem_config {
	int tp;                        /* tensor_parallel_size >= 1 */
	prec_t weights;                /* quantization */
	prec_t kv;                     /* kv_cache_dtype */
	double gpu_memory_utilization; /* (0, 1]; the release's default (0.9 in 0.16 and
					* 0.19, 0.92 in 0.21: eng_pool_defaults) */
	int block_size;                /* tokens per KV block requested, default 16 (hybrid
					* models: raised, see mem_plan.block_size) */
	int max_num_batched_tokens;    /* drives the activation formula */
	int max_num_seqs;              /* sampler logits; hybrid state when reserved */
	const struct eng_release *eng; /* vLLM release whose memory plan is modelled;
					* NULL = eng_default() */
} mem_config;

/* tp 1, bf16/bf16, 0.9, 16, 8192, 256, eng NULL (newest release); scenarios take
 * the release's per-GPU defaults from eng_pool_defaults instead. */
void mem_config_default(mem_config *c);

typedef struct mem_plan {
	const struct eng_release *eng; /* the release modelled (never NULL) */
	double device_bytes;         /* what the device reports (torch.cuda.mem_get_info) */
	double budget_bytes;         /* device_bytes x gpu_memory_utilization */
	double weights_bytes;        /* per GPU */
	double activation_bytes;     /* per GPU, peak of the profile run */
	int activation_measured;     /* 1: the release's measured constant; 0: formula */
	double nontorch_bytes;       /* per GPU: CUDA context, NCCL, cuBLAS workspaces */
	double cudagraph_bytes;      /* per GPU: CUDA graphs, when the release subtracts them */
	double overhead_bytes;       /* nontorch_bytes + cudagraph_bytes */
	double state_bytes;          /* per GPU: hybrid state x max_num_seqs reserved up
				      * front (releases without the shared pool), else 0 */
	double kv_bytes_per_token;   /* per GPU, the layers one KV block holds (full
				      * attention; sliding-window when there is no full
				      * layer), MLA padding included */
	double kv_bytes_available;   /* per GPU, after the above */
	int64_t kv_blocks;           /* per replica (same count on each shard) */
	int64_t kv_tokens;           /* kv_blocks x block_size */
	int block_size;              /* effective tokens per KV block (hybrid models: raised
				      * so one attention page equals one state page) */
	double block_bytes;          /* block_size x kv_bytes_per_token */
	int state_blocks;            /* extra blocks each running request holds for its
				      * recurrent state (hybrid shared pool), else 0 */
	int full_mult;               /* blocks per block_size tokens of context: 1; 0 when
				      * every attention layer is sliding-window */
	int swa_mult;                /* sliding-window layers: each running request holds
				      * swa_mult x min(ceil(tokens / block_size),
				      * swa_window_blocks) extra blocks; 0 when none */
	int64_t swa_window_blocks;
	int64_t max_seqs_at[5];      /* concurrent sequences at 2K, 8K, 32K, 64K, 128K */
} mem_plan;

extern const int64_t mem_context_points[5];

/* Blocks one running request holds at `tokens` tokens of context under plan p:
 * full_mult x ceil(tokens / bs) + state_blocks + swa_mult x min(ceil(tokens / bs),
 * swa_window_blocks). */
int64_t mem_blocks_for_tokens(const mem_plan *p, int64_t tokens);

/* Compute the plan. Returns 0, or -1 (FS_EXIT_INPUT) when the model does not fit,
 * naming every term and by how many GiB it is short, or when the config is invalid
 * (tp <= 0, heads not divisible by tp, utilisation out of (0,1], nvfp4 KV on a GPU
 * without FP4, a model without attention layers). */
int mem_plan_compute(const gpu_spec *g, const llm_spec *m, const mem_config *c,
		     mem_plan *out, fs_err *err);

#endif
