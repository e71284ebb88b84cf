/*
 * calib.h - fit a GPU's step-time parameters (compute_eff, mem_eff, step_overhead_s)
 * to measured prompt and decode timings in the Splitwise CSV layout
 * (models/data/README.md), with GSL nonlinear least squares on relative
 * error, and report the error on held-out configurations.
 *
 * How a row maps to the step model (models/perf.h):
 * - prompt_time: batch_size requests of prompt_size tokens prefilled in ONE step
 *   (Splitwise timed the whole batch's prompt phase, no chunking).
 * - token_time: one decode step of batch_size sequences, each at the mean context
 *   of the generation, prompt_size + token_size / 2.
 *
 * Owns: the rows calib_read_csv returns (caller frees); fits allocate nothing that
 * outlives them.
 */
#ifndef FS_CALIB_H
#define FS_CALIB_H

#include <stddef.h>
#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"

typedef struct calib_row {
	int tp;
	int64_t prompt, batch, gen; /* prompt_size, batch_size, token_size */
	double prompt_s, token_s;   /* measured, seconds */
	int config;                 /* index of (tp, prompt, batch, gen) in sorted order */
	int holdout;                /* 1: not used by the fit */
	int line;                   /* CSV line number */
	int excluded;               /* 1: physically impossible, used nowhere */
} calib_row;

/* Read the rows of path whose model resolves (llm_lookup) to model->name and whose
 * hardware resolves (gpu_lookup) to gpu_name, or equals hw_match if that is not
 * NULL.  Holds out every holdout_every-th configuration (k % holdout_every ==
 * holdout_every - 1 in sorted order; 0 = none) with all its repeated rows.
 * *rows is malloc'd, caller frees.  Returns 0, or -1 with "FILE:LINE: ..." for a bad
 * row or "FILE: no rows for ..." when nothing matches. */
int calib_read_csv(const char *path, const char *model_name, const char *gpu_name,
		   const char *hw_match, int holdout_every, calib_row **rows, size_t *n,
		   fs_err *err);

/* Mark rows whose measured prompt or token time is below the ideal roofline of g
 * (100 % of peak FLOPs, bandwidth and link, no overhead): no run can be that fast,
 * so the row is a broken measurement (the Llama-2-70B TP 2 batch-64 prompt row:
 * 0.8 s for 32768 tokens, whose FLOPs alone need 7.2 s on two A100s).  Returns the
 * number of rows marked, or -1 with err set. */
int calib_flag_impossible(const gpu_spec *g, const llm_spec *m, calib_row *rows, size_t n,
			  fs_err *err);

typedef struct calib_err {
	size_t rows;
	double mape_prefill, worst_prefill; /* fractions (0.05 = 5 %) */
	double mape_decode, worst_decode;
} calib_err;

typedef struct calib_result {
	gpu_spec gpu;          /* input GPU with the fitted parameters */
	size_t train_rows;
	int iterations;
	calib_err train, holdout;
} calib_result;

/* Fit g's compute_eff, mem_eff, attn_eff, step_overhead_s and prefill_seq_tokens
 * (and link_latency_s / link_eff when the
 * training rows span two or more TP sizes > 1: only then is the all-reduce latency
 * separable from the step overhead) to the non-held-out rows (weights and KV in
 * BF16), minimising the Huber loss (threshold 0.05) of the log ratios
 * predicted/measured, and
 * evaluate both sets.  Returns 0, or -1 when there
 * are no training rows or the solver fails. */
int calib_fit(const gpu_spec *g, const llm_spec *m, const calib_row *rows, size_t n,
	      calib_result *out, fs_err *err);

/* Predicted prompt and token times (seconds) of one row under g. */
int calib_predict(const gpu_spec *g, const llm_spec *m, const calib_row *r, double *prompt_s,
		  double *token_s, fs_err *err);

/* Write g as a GPU YAML file (gpu_yaml_string) that gpu_load_file reads back bit for
 * bit; header (lines split at '\n') is written as '#' comments above it.  Returns 0,
 * or -1: g cannot be written faithfully (FS_EXIT_INPUT, no file created) or an I/O
 * error (FS_EXIT_RUNTIME). */
int calib_write_gpu_yaml(const char *path, const gpu_spec *g, const char *header, fs_err *err);

#endif
