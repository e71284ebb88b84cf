/*
 * opfit.h - fit the step model's operator terms (models/perf.h) to measured
 * operator timings, with GSL nonlinear least squares, and report held-out errors.
 *
 * Three sources, each fitting its own terms (models/data/README.md lists them):
 * - operator profiles (Vidur layout: one row per (num_tokens, TP) with the time of
 *   each operator of one transformer layer): the GEMMs (attn_pre_proj = QKV,
 *   attn_post_proj = O, mlp_up_proj, mlp_down_proj) fit compute_eff, gemm_half,
 *   mem_eff and kernel_s; the single-pass element-wise ops (attn_rope, mlp_act, add,
 *   emb) fit ew_eff (kernel_s shared).  The RMSNorm columns are not used: Vidur
 *   profiled an unfused PyTorch RMSNorm (several passes, ~1/3 of bandwidth), vLLM
 *   runs a fused one-pass kernel.
 * - NCCL all-reduce times by message size and GPU count: link_latency_s (ring
 *   step latency) and link_eff.
 * - single-GEMM benchmarks (m, n, k, tflops; BF16): compute_eff and gemm_half only,
 *   at the GPU's mem_eff and kernel_us (for a GPU with no operator profile);
 * - attention-kernel throughputs (TFLOPS by sequence length, causal rows only):
 *   attn_eff and attn_half_q; with fewer than 3 training rows only attn_eff, at
 *   the GPU's current attn_half_q.
 *
 * Every holdout_every-th row (k % K == K - 1 in file order after filtering) of each
 * source is held out of its fit and reported separately.  Residuals are
 * log(predicted / measured) under a Huber loss (threshold 0.05).
 */
#ifndef FS_OPFIT_H
#define FS_OPFIT_H

#include <stddef.h>

#include "models/gpu.h"

typedef struct opfit_err {
	size_t rows;
	double mape, worst; /* fractions (0.05 = 5 %) */
} opfit_err;

typedef struct opfit_sources {
	const char *ops[8];     /* operator profile CSVs of this GPU; NULL-terminated */
	const char *allreduce;  /* NCCL all-reduce CSV, or NULL */
	const char *attention;  /* attention-kernel CSV(s), comma-free paths; or NULL */
	const char *attention2; /* a second attention CSV (extra rows), or NULL */
	const char *attn_gpu;   /* `gpu` column value to use (default g->name) */
	const char *attn_engine;/* substring the `engine` column must contain, or NULL */
	const char *gemm;       /* single-GEMM benchmark CSV (m, n, k, dtype, tflops), or
				 * NULL: fits compute_eff and gemm_half at the GPU's
				 * mem_eff and kernel_us (a GPU with no operator profile) */
	int holdout_every;      /* 0 = none, else >= 2 */
	int check_only;         /* 1: fit nothing; evaluate g as it is on every row */
} opfit_sources;

typedef struct opfit_part {
	int fitted;             /* 1 when this source was given and fitted */
	int iterations;
	opfit_err train, holdout;
} opfit_part;

typedef struct opfit_result {
	gpu_spec gpu;           /* the input GPU with the fitted fields replaced */
	opfit_part gemm, ew, allreduce, attention, bench;
} opfit_result;

/* Fit what the given sources allow.  Returns 0, or -1 with "FILE:LINE: ..." for a
 * missing column, a non-numeric cell or a row faster than the GPU's peak (FLOPs and
 * bandwidth at 100 %, FS_EXIT_INPUT), "... too few rows to fit TERM" when a fit
 * has fewer training rows than unknowns (FS_EXIT_INPUT), or "... did not converge"
 * (FS_EXIT_RUNTIME).  Nothing is allocated that outlives the call. */
int opfit_run(const gpu_spec *g, const opfit_sources *src, opfit_result *out, fs_err *err);

/* Predicted time (seconds) of one Vidur operator column (e.g. "mlp_up_proj_ms")
 * for a layer of the given shape; -1 for a column the model does not price. */
double opfit_predict_op(const gpu_spec *g, const char *column, double tokens, int tp,
			double n_head, double n_kv_head, double n_embd, double n_expanded,
			int gated);

/* Predicted NCCL all-reduce time (seconds) of `bytes` over `tp` GPUs. */
double opfit_predict_allreduce(const gpu_spec *g, double bytes, int tp);

/* Predicted FlashAttention forward TFLOPS at query length `seq`. */
double opfit_predict_attention_tflops(const gpu_spec *g, double seq);

#endif
