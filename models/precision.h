/*
 * precision.h - number formats for weights and KV cache.
 *
 * Weights: BF16 (2 B/param), FP8 (1 B/param), NVFP4 (4-bit E2M1 + one FP8 E4M3 scale
 * per 16 values = 4.5 bits/param, linear layers only; embeddings, norms and lm_head
 * stay BF16).  KV cache: bf16 (2 B/elem), fp8 (1 B/elem), nvfp4 (0.5625 B/elem,
 * only on GPUs with FP4 tensor cores).
 *
 * Owns: nothing (a number format and its sizes).
 */
#ifndef FS_PRECISION_H
#define FS_PRECISION_H

#include "util/err.h"

typedef enum prec {
	PREC_BF16 = 0,
	PREC_FP8 = 1,
	PREC_NVFP4 = 2
} prec_t;

/* Parse "bf16"/"fp8"/"nvfp4" (case-insensitive; also "fp16"->bf16 sizes, "modelopt"
 * and "modelopt_fp4"->nvfp4 as vLLM spells it).  Returns 0, or -1 with a message
 * listing the valid names. */
int prec_parse(const char *s, prec_t *out, fs_err *err);
const char *prec_name(prec_t p);

/* Bytes per parameter of a quantised linear layer's weights. */
double prec_weight_bytes(prec_t p);
/* Bytes per KV-cache element. */
double prec_kv_bytes(prec_t p);

#endif
