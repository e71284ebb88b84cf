/*
 * engine.h - the vLLM releases fleetsim models, and what each one does differently:
 * scheduler behaviour (admission reservation, async scheduling, null block), the
 * defaults its API server picks per GPU class, and the terms of its start-up memory
 * plan.  A scenario names a release (`vllm_version:`, top level or per pool); every
 * behaviour that differs between releases switches with it.  docs/engine.md lists
 * every vLLM behaviour with where it lives in vLLM and whether fleetsim models it.
 *
 * Owns: the static release table; eng_release values are read-only.
 */
#ifndef FS_ENGINE_H
#define FS_ENGINE_H

#include "models/gpu.h"
#include "util/err.h"

/* vLLM's API server picks its batch defaults by GPU: devices with >= 70 GiB that
 * are not A100s get the large ones (engine/arg_utils.py). */
typedef enum eng_gpu_class {
	ENG_GPU_SMALL = 0, /* A100 and GPUs under 70 GiB */
	ENG_GPU_LARGE = 1  /* H100, H200, B200, MI300X class */
} eng_gpu_class;

typedef struct eng_release {
	const char *version;       /* "0.16": what `vllm_version:` names */
	const char *tag;           /* git tag read, "v0.16.0" */
	const char *date;          /* release date, YYYY-MM-DD */
	const char *image;         /* container image tag, "v0.16.0" */

	/* ---- Scheduler (v1/core/sched/scheduler.py, v1/core/kv_cache_manager.py) ---- */
	int reserve_full_isl;      /* admission reserves blocks for the whole prompt
				    * (minus prefix hits), not only the first chunk */
	int async_scheduling;      /* default of --async-scheduling */
	int null_block;            /* BlockPool reserves block 0 (usable = num_blocks - 1) */

	/* ---- API-server defaults per eng_gpu_class (engine/arg_utils.py) ---- */
	int max_num_seqs[2];
	int max_num_batched_tokens[2];
	double gpu_memory_utilization;
	int cudagraph_max;         /* largest CUDA-graph capture size (tokens) */

	/* ---- Memory plan terms (v1/worker/gpu_worker.py determine_available_memory) ---- */
	double nontorch_gib[2];    /* non-torch memory at [TP 1, TP > 1], GiB */
	double activation_gib;     /* measured profile peak (TP-independent), GiB; < 0:
				    * use the activation formula of models/memory.c */
	double cudagraph_gib;      /* CUDA-graph pool subtracted before sizing the KV
				    * cache, GiB; 0 when the release does not */
	int mla_pad;               /* MLA KV entries padded 576 -> 640 wide */
	int hybrid_shared_pool;    /* hybrid models' recurrent state comes from the KV
				    * block pool per running request (else reserved for
				    * max_num_seqs up front) */

	int gen_max_tokens_cap;    /* generation_config max_new_tokens caps every request
				    * (1, before vLLM #34063 of 2026-02-16) or is only the
				    * default of requests without max_tokens (0) */

	const char *source;        /* where the figures were read (files, commit) */

	/* ---- CUDA-graph capture list (config/vllm.py _set_cudagraph_sizes; read by
	 * models/perf.c perf_graph_limit) ---- */
	int cudagraph_capture_mnbt; /* max_num_batched_tokens is added to the capture
				     * sizes when it is at most the largest one, even off
				     * the 8/16 grid (vLLM PR #40734, merged ~2026-04-29);
				     * 0: the grid only */
} eng_release;

int eng_count(void);
const eng_release *eng_get(int i);
/* The newest modelled release: the default when a scenario names none. */
const eng_release *eng_default(void);

/* Look a release up by version ("0.16", "0.16.0", "v0.16.0" all name 0.16).
 * Returns 0 and *out, or -1 with "unknown vLLM release 'x' (modelled: ...)". */
int eng_lookup(const char *version, const eng_release **out, fs_err *err);

/* The GPU class vLLM's defaults key on (by memory and device name). */
eng_gpu_class eng_gpu_class_of(const gpu_spec *g);

/* The release's defaults for a pool on GPU g. */
void eng_pool_defaults(const eng_release *r, const gpu_spec *g, int *max_num_seqs,
		       int *max_num_batched_tokens, double *gpu_memory_utilization);

/* "small" or "large": how `fleetsim engines` and the JSON name a class. */
const char *eng_gpu_class_name(eng_gpu_class c);

struct cJSON;

/* A new cJSON object with every field of r (flags as booleans, the defaults per
 * class as "defaults": {"small": {...}, "large": {...}}, the memory terms under
 * "memory") and "default": whether r is eng_default().  The caller owns *out
 * (cJSON_Delete).  Returns 0, or -1 (out of memory). */
int eng_json(const eng_release *r, struct cJSON **out, fs_err *err);

#endif
