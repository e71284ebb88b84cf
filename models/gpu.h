/*
 * gpu.h - GPU catalog: the hardware figures the memory planner and step-time model
 * need, plus per-GPU step-time efficiencies (calibrated where measurements exist).
 *
 * Built-in entries: a100 (A100-80GB SXM), h100 (H100 SXM), h200 (H200 SXM), b200,
 * mi300x.  A GPU not in the catalog can be described in a YAML file (see
 * models/gpus/example.yaml) and named by its path wherever a GPU name is accepted.
 *
 * Owns: the static catalog and field table; a gpu_spec is a plain value (no pointers).
 */
#ifndef FS_GPU_H
#define FS_GPU_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"
#include "models/precision.h"

struct cJSON;

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
	/* Step-time model parameters (see models/perf.h); where each catalog value
	 * comes from is gpu_field_source(). */
	double compute_eff;     /* fraction of dense peak reached by large GEMMs */
	double mem_eff;         /* fraction of HBM bandwidth reached streaming weights
				 * and paged KV */
	double step_overhead_s; /* fixed CPU cost per engine step (scheduler, input
				 * preparation, sampling) */
	double link_latency_s;  /* NCCL ring: latency of one of its 2 (tp - 1) steps */
	double link_eff;        /* fraction of link bandwidth reached by all-reduce */
	char calib_source[128]; /* where the efficiencies come from, in one line */
	double attn_eff;        /* FlashAttention forward: fraction of BF16 peak at long
				 * query lengths; 0 = compute_eff */
	double prefill_seq_tokens; /* each prompt sequence prefilled in a step costs
				 * the GEMM time of this many extra tokens (an optional
				 * end-to-end fit term; 0 in the catalog) */
	double gemm_half;       /* GEMM output elements (M x N) at which a GEMM runs at
				 * half of compute_eff: small-M / narrow GEMMs */
	double kernel_s;        /* fixed time of one kernel (GEMM or element-wise) */
	double ew_eff;          /* fraction of HBM bandwidth reached by element-wise
				 * ops (norms, RoPE, activation); 0 = mem_eff */
	double attn_half_q;     /* query length at which FlashAttention reaches half of
				 * attn_eff */
	double car_latency_s;   /* vLLM custom all-reduce latency per call (messages up
				 * to 8 MiB); 0 = use the NCCL ring */
	double hbm_device_gib;  /* total memory the device reports to torch, in GiB
				 * (torch.cuda.mem_get_info, what vLLM multiplies by
				 * gpu_memory_utilization); 0 = unknown, use hbm_bytes.
				 * Kept in GiB, the unit of the logs and of the file key,
				 * so every figure round-trips (gpu_device_hbm_bytes()
				 * gives bytes) */
	double idle_power_w;    /* board power with the model loaded and no kernel
				 * running (P0 idle), W; 0 = unknown: the power model
				 * takes PERF_IDLE_POWER_SHARE of power_w (models/perf.h) */
} gpu_spec;

/* Look name up in the built-in catalog (case-insensitive, aliases like "h100-sxm",
 * "a100-80gb"), or, if name ends in .yaml/.yml or contains '/', load that YAML file.
 * Returns 0, or -1 with "unknown GPU 'x' (known: ...)" / the file's FILE:LINE:COL error. */
int gpu_lookup(const char *name, gpu_spec *out, fs_err *err);

/* Load one GPU description from a YAML file. Returns 0 or -1. */
int gpu_load_file(const char *path, gpu_spec *out, fs_err *err);

/*
 * The GPU file's keys.  One table in gpu.c lists them; the loader, the writer
 * (gpu_write_yaml, used by `fleetsim calibrate --out`) and `fleetsim models --json`
 * all walk it, so a field added there is read, written and listed.
 *
 * Numbers are in the units of data sheets (GiB, TB/s, TFLOPS, GB/s, ms, us); the
 * struct holds SI: si = file value x bin_scale x 10^dec_exp.  The power of ten is
 * applied to the decimal text (one rounding), not by a multiplication (two), so
 * every double the writer emits reads back bit-for-bit.
 */
typedef enum gpu_field_kind { GPU_FIELD_STR, GPU_FIELD_NUM } gpu_field_kind;

typedef enum gpu_field_need {
	GPU_NEED_ALWAYS,      /* every file names it (name) */
	GPU_NEED_UNLESS_BASE, /* required unless `base: <catalog gpu>` supplies it */
	GPU_NEED_OPTIONAL,    /* NUM: dflt; display: the name; calib_source: "file PATH" */
} gpu_field_need;

typedef struct gpu_field {
	const char *key;     /* YAML and JSON key */
	gpu_field_kind kind;
	gpu_field_need need;
	size_t off;          /* offsetof(gpu_spec, member) */
	size_t cap;          /* STR: size of the char array, NUL included */
	double bin_scale;    /* NUM: a power of two (exact): 2^30 for GiB, else 1 */
	int dec_exp;         /* NUM: power of ten from the file unit to SI */
	double lo, hi;       /* NUM: accepted range, file units */
	double dflt;         /* NUM: SI value when optional, absent and no base */
} gpu_field;

/* Number of keys and the i-th (table order = the order files are written in);
 * NULL when i is out of range.  The table is static: nothing to free. */
int gpu_field_count(void);
const gpu_field *gpu_field_at(int i);

/* The string of a GPU_FIELD_STR field (points into g). */
const char *gpu_field_str(const gpu_spec *g, const gpu_field *f);

/* The SI value of a GPU_FIELD_NUM field. */
double gpu_field_si(const gpu_spec *g, const gpu_field *f);

/* The shortest decimal text, in the file's unit, that gpu_load_file reads back to
 * exactly gpu_field_si(g, f) (e.g. "3.35" for 3.35e12 B/s in mem_bw_tbps).
 * Returns 0, or -1 if the value is not finite or buf (64 bytes is enough) is short. */
int gpu_field_text(const gpu_spec *g, const gpu_field *f, char *buf, size_t cap);

/* The value of a GPU_FIELD_NUM field in the file's unit, correctly rounded from
 * gpu_field_text (3.35, not 3.35e12 / 1e12 = 3.3500000000000001); NAN if not finite. */
double gpu_field_value(const gpu_spec *g, const gpu_field *f);

/* g as the text of a GPU YAML file: every key of the table, strings double-quoted by
 * libfyaml's emitter.  The text is loaded back before it is returned: a GPU whose
 * strings libfyaml 0.7 cannot write faithfully (it drops leading/trailing blanks;
 * invalid UTF-8) or whose figures the loader would refuse is an FS_EXIT_INPUT error
 * naming the field.  *text is malloc'd (NUL-terminated, *len bytes), caller frees.
 * Returns 0 or -1. */
int gpu_yaml_string(const gpu_spec *g, char **text, size_t *len, fs_err *err);

/* gpu_yaml_string written to f; nothing is written on failure.  A write error is
 * FS_EXIT_RUNTIME.  Returns 0 or -1. */
int gpu_write_yaml(const gpu_spec *g, FILE *f, fs_err *err);

/* A new cJSON object with every key of the table (numbers in the file's units,
 * via gpu_field_value) plus "step_overhead_s" (seconds, kept for existing readers)
 * and "sources": each key's provenance (gpu_field_source).
 * The caller owns *out (cJSON_Delete).  Returns 0, or -1 (out of memory). */
int gpu_json(const gpu_spec *g, struct cJSON **out, fs_err *err);

/* Where the value of field f of g comes from ("datasheet: ...", "fitted: ...",
 * "assumption: ..."): the catalog's provenance when g is a catalog GPU and the value
 * is the catalog's, "file" for a value read from a GPU file, else NULL.  Static
 * strings: nothing to free. */
const char *gpu_field_source(const gpu_spec *g, const gpu_field *f);

/* Number of built-in GPUs and the i-th one (for `fleetsim models`). */
int gpu_catalog_count(void);
const gpu_spec *gpu_catalog_get(int i);

/* The device memory vLLM budgets from, bytes: hbm_device_gib, or hbm_bytes when 0. */
double gpu_device_hbm_bytes(const gpu_spec *g);

/* Dense FLOP/s for compute in the given weight precision: NVFP4 on a GPU without FP4
 * units runs weight-only (dequantised to BF16), so it gets the BF16 rate. */
double gpu_compute_flops(const gpu_spec *g, prec_t weights);

/* Whether the GPU can hold a KV cache in this dtype (nvfp4 needs FP4 units).
 * Returns 0, or -1 with a message naming the GPU and dtype. */
int gpu_check_kv_dtype(const gpu_spec *g, prec_t kv, fs_err *err);

#endif
