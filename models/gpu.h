/*
 * gpu.h - GPU catalog: the hardware figures the memory planner and step-time model
 * need, plus per-GPU step-time efficiencies (calibrated where measurements exist).
 *
 * Built-in entries: a100 (A100-80GB SXM), h100 (H100 SXM), h200 (H200 SXM), b200,
 * mi300x.  A GPU not in the catalog can be described in a YAML file (see
 * models/gpus/example.yaml) and named by its path wherever a GPU name is accepted.
 */
#ifndef FS_GPU_H
#define FS_GPU_H

#include "util/err.h"
#include "models/precision.h"

typedef struct gpu_spec {
	char name[64];          /* catalog key, lower case: "h100" */
	char display[64];       /* "NVIDIA H100 SXM 80GB" */
	double hbm_bytes;       /* usable device memory, bytes */
	double mem_bw;          /* HBM bandwidth, bytes/s */
	double flops_bf16;      /* dense tensor FLOP/s */
	double flops_fp8;       /* 0 if unsupported */
	double flops_fp4;       /* 0 if no FP4 tensor cores */
	double link_bw;         /* NVLink/Infinity Fabric per GPU, bytes/s (one direction) */
	double power_w;         /* board power at full load, W */
	double price_per_hour;  /* default $ per GPU-hour (scenario may override) */
	/* Step-time model parameters (see models/perf.h). */
	double compute_eff;     /* fraction of dense peak reached by GEMMs */
	double mem_eff;         /* fraction of HBM bandwidth reached by weight/KV reads */
	double step_overhead_s; /* fixed per engine step (scheduler, launch, sampling) */
	double link_latency_s;  /* latency of one step of a ring all-reduce (the alpha of
				 * the alpha-beta model): an all-reduce over tp GPUs
				 * costs 2 (tp - 1) x this, plus bytes over bandwidth */
	double link_eff;        /* fraction of link bandwidth reached by all-reduce */
	char calib_source[128]; /* where the efficiencies come from */
	double attn_eff;        /* fraction of dense peak reached by attention's
				 * score/value products; 0 = same as compute_eff */
	double prefill_seq_tokens; /* each prompt sequence prefilled in a step costs
				 * the GEMM time of this many extra tokens, on top of
				 * its own tokens (models/perf.h); 0 = none (not fitted) */
} gpu_spec;

/* Look name up in the built-in catalog (case-insensitive, aliases like "h100-sxm",
 * "a100-80gb"), or, if name ends in .yaml/.yml or contains '/', load that YAML file.
 * Returns 0, or -1 with "unknown GPU 'x' (known: ...)" / the file's FILE:LINE:COL error. */
int gpu_lookup(const char *name, gpu_spec *out, fs_err *err);

/* Load one GPU description from a YAML file. Returns 0 or -1. */
int gpu_load_file(const char *path, gpu_spec *out, fs_err *err);

/* Number of built-in GPUs and the i-th one (for `fleetsim models`). */
int gpu_catalog_count(void);
const gpu_spec *gpu_catalog_get(int i);

/* Dense FLOP/s for compute in the given weight precision: NVFP4 on a GPU without FP4
 * units runs weight-only (dequantised to BF16), so it gets the BF16 rate. */
double gpu_compute_flops(const gpu_spec *g, prec_t weights);

/* Whether the GPU can hold a KV cache in this dtype (nvfp4 needs FP4 units).
 * Returns 0, or -1 with a message naming the GPU and dtype. */
int gpu_check_kv_dtype(const gpu_spec *g, prec_t kv, fs_err *err);

#endif
