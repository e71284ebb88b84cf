/*
 * memory.h - per-GPU memory plan of one vLLM replica: weights, activation peak,
 * runtime overhead, KV cache blocks (SPEC section 2's num_blocks formula).
 *
 * Owns: nothing; mem_plan and mem_config are plain values.
 */
#ifndef FS_MEMORY_H
#define FS_MEMORY_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"

typedef struct mem_config {
	int tp;                        /* tensor_parallel_size >= 1 */
	prec_t weights;                /* quantization */
	prec_t kv;                     /* kv_cache_dtype */
	double gpu_memory_utilization; /* (0, 1], vLLM default 0.9 */
	int block_size;                /* tokens per KV block, default 16 */
	int max_num_batched_tokens;    /* drives the activation peak estimate */
	int max_num_seqs;              /* drives per-sequence state of hybrid models */
} mem_config;

/* vLLM defaults: tp 1, bf16/bf16, 0.9, 16, 8192, 256. */
void mem_config_default(mem_config *c);

typedef struct mem_plan {
	double weights_bytes;        /* per GPU */
	double activation_bytes;     /* per GPU, peak of a forward pass */
	double overhead_bytes;       /* per GPU: CUDA context, graphs, allocator slack */
	double state_bytes;          /* per GPU: hybrid models' per-sequence state x max_num_seqs */
	double kv_bytes_per_token;   /* per GPU shard */
	double kv_bytes_available;   /* per GPU, after the above */
	int64_t kv_blocks;           /* per replica (same count on each shard) */
	int64_t kv_tokens;           /* kv_blocks x block_size */
	int64_t max_seqs_at[5];      /* concurrent sequences at 2K, 8K, 32K, 64K, 128K */
} mem_plan;

extern const int64_t mem_context_points[5];

/* Compute the plan. Returns 0, or -1 (FS_EXIT_INPUT) when the model does not fit,
 * saying by how many GiB, or when the config is invalid (tp <= 0, heads not divisible
 * by tp, utilisation out of (0,1], nvfp4 KV on a GPU without FP4). */
int mem_plan_compute(const gpu_spec *g, const llm_spec *m, const mem_config *c,
		     mem_plan *out, fs_err *err);

#endif
