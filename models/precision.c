#include "models/precision.h"

#include <strings.h>

static const struct {
	const char *name;
	prec_t p;
} names[] = {
	{"bf16", PREC_BF16}, {"bfloat16", PREC_BF16}, {"fp16", PREC_BF16}, {"float16", PREC_BF16},
	{"auto", PREC_BF16}, {"fp8", PREC_FP8}, {"fp8_e4m3", PREC_FP8}, {"fp8_e5m2", PREC_FP8},
	{"nvfp4", PREC_NVFP4}, {"modelopt", PREC_NVFP4}, {"modelopt_fp4", PREC_NVFP4},
};

int prec_parse(const char *s, prec_t *out, fs_err *err)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(s, names[i].name)) {
			*out = names[i].p;
			return 0;
		}
	return fs_fail(err, FS_EXIT_INPUT, "unknown precision '%s' (known: bf16, fp8, nvfp4)", s);
}

const char *prec_name(prec_t p)
{
	switch (p) {
	case PREC_BF16: return "bf16";
	case PREC_FP8: return "fp8";
	case PREC_NVFP4: return "nvfp4";
	}
	return "?";
}

double prec_weight_bytes(prec_t p)
{
	switch (p) {
	case PREC_BF16: return 2.0;
	case PREC_FP8: return 1.0;
	/* 4-bit E2M1 value + one 8-bit E4M3 scale per 16 values = 4.5 bits. */
	case PREC_NVFP4: return 4.5 / 8.0;
	}
	return 2.0;
}

double prec_kv_bytes(prec_t p)
{
	/* Same NVFP4 block layout for KV: 0.5625 B/element. */
	return prec_weight_bytes(p);
}
