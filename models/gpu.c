/*
 * gpu.c - built-in GPU catalog, the GPU file key table, and the YAML loader and
 * writer for user GPUs.
 *
 * Conventions for the figures (see docs/models.md):
 * - hbm_bytes: the marketed capacity read as GiB (nvidia-smi: A100-80GB 81920 MiB,
 *   H100 SXM 81559 MiB, H200 143771 MiB).
 * - hbm_device_gib: what torch.cuda.mem_get_info() reports as the total, which is
 *   what vLLM multiplies by gpu_memory_utilization: H100 79.19 GiB, H200 139.81 GiB,
 *   B200 178.36 GiB, read from vLLM start-up logs (sources in the table below);
 *   0 (use hbm_bytes) where no log was found.
 * - flops_*: dense (no 2:4 sparsity) tensor-core peaks from the vendor data sheets,
 *   as quoted in SPEC section 3.
 * - link_bw: one direction per GPU, i.e. half the marketed bidirectional NVLink /
 *   Infinity Fabric figure; a ring all-reduce's bus bandwidth is bounded by it.
 * - price_per_hour: representative 2025 on-demand cloud list prices (Lambda, RunPod,
 *   CoreWeave pages); a scenario overrides them for a real quote.
 * - the step model's constants (models/perf.h): fitted per GPU generation to
 *   operator measurements (models/data/README.md) where they exist, assumptions
 *   otherwise; gpu_field_source() says which, for every field of every catalog GPU
 *   (`fleetsim models --json` lists them; docs/fidelity.md has the errors).
 */
#include "models/gpu.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/escape.h"
#include "util/numparse.h"
#include "util/yamlutil.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define TB 1e12
#define GB 1e9
#define TFLOPS 1e12

/* The fitted operator constants (bench/calibrate.sh writes this file from
 * `fleetsim calibrate --operators`; tests/unit/test_opfit.c checks a fresh fit
 * reproduces it). */
#include "models/data/fitted.h"

/* Shared by the GPUs that take H100's fitted figures (see each entry for why). */
#define H100_GEMMS .compute_eff = FIT_H100_COMPUTE_EFF, .gemm_half = FIT_H100_GEMM_HALF, \
	.kernel_s = FIT_H100_KERNEL_S
#define H100_LINKS .link_latency_s = FIT_H100_LINK_LATENCY_S, .link_eff = FIT_H100_LINK_EFF
/* The engine's own costs, the same on every GPU (sources: gpu_field_source). */
#define V1_ENGINE .car_latency_s = 9e-6, .step_overhead_s = 1.0e-3, .prefill_seq_tokens = 0

static const gpu_spec catalog[] = {
	{
		.name = "a100", .display = "NVIDIA A100-SXM4-80GB",
		.hbm_bytes = 80 * GIB,        /* A100 data sheet: 80 GB HBM2e */
		.mem_bw = 2.039 * TB,         /* A100 data sheet: 2,039 GB/s (SPEC: 2.04 TB/s) */
		.flops_bf16 = 312 * TFLOPS,   /* A100 data sheet: BF16 tensor 312 TFLOPS dense */
		.flops_fp8 = 0,               /* Ampere has no FP8 tensor cores */
		.flops_fp4 = 0,
		.link_bw = 300 * GB,          /* NVLink3: 600 GB/s bidirectional per GPU */
		.power_w = 400,               /* A100 SXM TDP 400 W */
		.idle_power_w = 80,          /* assumption: 0.2 x TDP (see sources) */
		.price_per_hour = 1.79,       /* Lambda on-demand A100 80GB SXM, 2025 */
		.hbm_device_gib = 79.25, /* vLLM logs on A100 80GB: "Free memory on device (78.84/79.25 GiB)" */
		/* Fitted on Vidur's A100 operator profiles and NCCL all-reduce. */
		.compute_eff = FIT_A100_COMPUTE_EFF, .gemm_half = FIT_A100_GEMM_HALF,
		.mem_eff = FIT_A100_MEM_EFF, .kernel_s = FIT_A100_KERNEL_S, .ew_eff = FIT_A100_EW_EFF,
		.link_latency_s = FIT_A100_LINK_LATENCY_S, .link_eff = FIT_A100_LINK_EFF,
		/* Assumptions (no A100 measurement in models/data): FlashAttention-2
		 * "reaches 50-73 % of the theoretical maximum FLOPs/s on A100" (FA2 paper,
		 * arXiv 2307.08691, abstract): the middle, 0.62; the length dependence of
		 * FA2 on H100 (fitted). */
		.attn_eff = 0.62, .attn_half_q = FIT_H100_FA2_ATTN_HALF_Q,
		V1_ENGINE,
		.calib_source = "fitted: Vidur A100 operators + NCCL; attention assumed (FA2 paper)",
	},
	{
		.name = "h100", .display = "NVIDIA H100 SXM5 80GB",
		.hbm_bytes = 80 * GIB,        /* H100 SXM data sheet: 80 GB HBM3 */
		.hbm_device_gib = 79.19, /* vLLM log: "Free memory on device (78.66/79.19 GiB)" */
		.mem_bw = 3.35 * TB,          /* H100 SXM data sheet: 3.35 TB/s */
		.flops_bf16 = 989 * TFLOPS,   /* H100 SXM: BF16 989 TFLOPS dense (1979 sparse) */
		.flops_fp8 = 1979 * TFLOPS,   /* H100 SXM: FP8 1979 TFLOPS dense */
		.flops_fp4 = 0,               /* Hopper has no FP4 tensor cores */
		.link_bw = 450 * GB,          /* NVLink4: 900 GB/s bidirectional per GPU */
		.power_w = 700,               /* H100 SXM TDP 700 W */
		.idle_power_w = 140,         /* measured: nvidia-smi, model loaded, 0 % util */
		.price_per_hour = 2.99,       /* Lambda on-demand H100 SXM, 2025 */
		/* Fitted on Vidur's H100 operator profiles and NCCL all-reduce, and on the
		 * FlashAttention-3 causal kernel throughputs. */
		H100_GEMMS, .mem_eff = FIT_H100_MEM_EFF, .ew_eff = FIT_H100_EW_EFF, H100_LINKS,
		.attn_eff = FIT_H100_ATTN_EFF, .attn_half_q = FIT_H100_ATTN_HALF_Q,
		V1_ENGINE,
		.calib_source = "fitted: Vidur H100 operators + NCCL, FA3 kernels",
	},
	{
		.name = "h200", .display = "NVIDIA H200 SXM 141GB",
		.hbm_bytes = 141 * GIB,       /* H200 data sheet: 141 GB HBM3e */
		.hbm_device_gib = 139.81, /* vLLM logs: "(139.21/139.81 GiB)", total_gpu_memory (139.81GiB) */
		.mem_bw = 4.8 * TB,           /* H200 data sheet: 4.8 TB/s */
		.flops_bf16 = 989 * TFLOPS,   /* same Hopper die as H100 SXM */
		.flops_fp8 = 1979 * TFLOPS,
		.flops_fp4 = 0,
		.link_bw = 450 * GB,          /* NVLink4: 900 GB/s bidirectional */
		.power_w = 700,               /* H200 SXM TDP 700 W */
		.idle_power_w = 140,         /* assumption: H100's (same die) */
		.price_per_hour = 3.79,       /* typical on-demand H200, 2025 */
		/* Compute, kernels, attention and links: the H100 fit (same die, same
		 * NVLink).  Bandwidth fractions: assumed equal to H100's measured ones
		 * (no H200 measurement), applied to H200's own 4.8 TB/s. */
		H100_GEMMS, .mem_eff = FIT_H100_MEM_EFF, .ew_eff = FIT_H100_EW_EFF, H100_LINKS,
		.attn_eff = FIT_H100_ATTN_EFF, .attn_half_q = FIT_H100_ATTN_HALF_Q,
		V1_ENGINE,
		.calib_source = "H100 fit (same die); bandwidth fractions assumed as H100's",
	},
	{
		.name = "b200", .display = "NVIDIA B200 180GB",
		.hbm_bytes = 180 * GIB,       /* DGX B200: 180 GB usable of 192 GB HBM3e */
		.hbm_device_gib = 178.36, /* vLLM PR #21489 log: "Free memory on device (177.66/178.36 GiB)" */
		.mem_bw = 8.0 * TB,           /* B200 data sheet: 8 TB/s */
		.flops_bf16 = 2250 * TFLOPS,  /* B200 (HGX, 1000 W): BF16 2.25 PFLOPS dense */
		.flops_fp8 = 4500 * TFLOPS,   /* FP8 4.5 PFLOPS dense */
		.flops_fp4 = 9000 * TFLOPS,   /* FP4 9 PFLOPS dense */
		.link_bw = 900 * GB,          /* NVLink5: 1.8 TB/s bidirectional per GPU */
		.power_w = 1000,              /* HGX B200 1000 W */
		.idle_power_w = 200,         /* assumption: 0.2 x TDP */
		.price_per_hour = 4.99,       /* Lambda on-demand B200, 2025 */
		/* Measured: 6.043 TB/s device copy (nvbench DeviceTransform, NVIDIA/cccl
		 * PR #7391) = 0.755 of 8 TB/s.  Fitted: attention on the Sm100
		 * FlashAttention causal row.  Assumed (no B200 operator profile): GEMMs
		 * at H100's fitted fractions (checked against two published B200 BF16
		 * GEMMs in docs/fidelity.md), element-wise at H100's ew/mem ratio,
		 * kernel time and links as H100's. */
		H100_GEMMS, .mem_eff = 0.755, .ew_eff = 0.755 * FIT_H100_EW_EFF / FIT_H100_MEM_EFF,
		H100_LINKS,
		.attn_eff = FIT_B200_ATTN_EFF, .attn_half_q = FIT_H100_ATTN_HALF_Q,
		V1_ENGINE,
		.calib_source = "measured HBM (cccl nvbench), fitted Sm100 attention; rest H100-based",
	},
	{
		.name = "mi300x", .display = "AMD Instinct MI300X 192GB",
		.hbm_bytes = 192 * GIB,       /* MI300X data sheet: 192 GB HBM3 */
		.mem_bw = 5.3 * TB,           /* MI300X data sheet: 5.3 TB/s */
		.flops_bf16 = 1307 * TFLOPS,  /* MI300X: BF16 1307.4 TFLOPS dense */
		.flops_fp8 = 2615 * TFLOPS,   /* MI300X: FP8 2614.9 TFLOPS dense */
		.flops_fp4 = 0,               /* CDNA3 has no FP4 */
		.link_bw = 448 * GB,          /* Infinity Fabric: 7 links x 64 GB/s per direction */
		.power_w = 750,               /* MI300X TBP 750 W */
		.idle_power_w = 150,         /* assumption: 0.2 x TBP */
		.price_per_hour = 2.49,       /* typical on-demand MI300X, 2025 */
		/* No measurement in models/data: every efficiency is an assumption.
		 * Bandwidth 0.81 of 5.3 TB/s (~4.3 TB/s, a reported microbenchmark;
		 * AMD: the data-sheet figure is not reachable); compute, attention,
		 * element-wise and links at H100's fitted fractions. */
		H100_GEMMS, .mem_eff = 0.81, .ew_eff = 0.81 * FIT_H100_EW_EFF / FIT_H100_MEM_EFF,
		H100_LINKS,
		.attn_eff = FIT_H100_ATTN_EFF, .attn_half_q = FIT_H100_ATTN_HALF_Q,
		V1_ENGINE,
		.calib_source = "assumed: H100 fractions, ~4.3 TB/s reported HBM (no MI300X data)",
	},
};

#define NCATALOG ((int)(sizeof catalog / sizeof catalog[0]))

static const struct {
	const char *alias, *name;
} aliases[] = {
	{"a100-80gb", "a100"}, {"a100-sxm", "a100"}, {"a100-sxm4-80gb", "a100"},
	{"h100-sxm", "h100"}, {"h100-80gb", "h100"}, {"h100-sxm5", "h100"},
	{"h200-sxm", "h200"}, {"h200-141gb", "h200"},
	{"b200-180gb", "b200"}, {"dgx-b200", "b200"},
	{"mi300", "mi300x"}, {"mi300x-192gb", "mi300x"},
};

int gpu_catalog_count(void)
{
	return NCATALOG;
}

const gpu_spec *gpu_catalog_get(int i)
{
	return i >= 0 && i < NCATALOG ? &catalog[i] : NULL;
}

static int is_path(const char *name)
{
	size_t n = strlen(name);

	return strchr(name, '/') || (n > 5 && !strcasecmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcasecmp(name + n - 4, ".yml"));
}

int gpu_lookup(const char *name, gpu_spec *out, fs_err *err)
{
	const char *key = name;

	if (!name || !*name)
		return fs_fail(err, FS_EXIT_INPUT, "empty GPU name");
	if (is_path(name))
		return gpu_load_file(name, out, err);
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (!strcasecmp(name, aliases[i].alias))
			key = aliases[i].name;
	for (int i = 0; i < NCATALOG; i++)
		if (!strcasecmp(key, catalog[i].name)) {
			*out = catalog[i];
			return 0;
		}
	return fs_fail(err, FS_EXIT_INPUT,
		       "unknown GPU '%s' (known: a100, h100, h200, b200, mi300x, or a GPU YAML file)",
		       name);
}

/* The GPU file's keys (see gpu.h).  Units are the data sheets' so a user can copy
 * figures straight in; ranges are in those units.  Order = the written file's. */
#define STR(k, member, need) \
	{k, GPU_FIELD_STR, need, offsetof(gpu_spec, member), sizeof(((gpu_spec *)0)->member), 0, 0, 0, 0, 0}
#define NUM(k, member, need, bin, dec, lo, hi, dflt) \
	{k, GPU_FIELD_NUM, need, offsetof(gpu_spec, member), 0, bin, dec, lo, hi, dflt}
static const gpu_field fields[] = {
	STR("name", name, GPU_NEED_ALWAYS),
	STR("display", display, GPU_NEED_OPTIONAL),
	STR("calib_source", calib_source, GPU_NEED_OPTIONAL),
	NUM("hbm_gib", hbm_bytes, GPU_NEED_UNLESS_BASE, GIB, 0, 1e-3, 1e6, 0),
	NUM("mem_bw_tbps", mem_bw, GPU_NEED_UNLESS_BASE, 1, 12, 1e-3, 1e3, 0),
	NUM("bf16_tflops", flops_bf16, GPU_NEED_UNLESS_BASE, 1, 12, 1e-3, 1e6, 0),
	NUM("fp8_tflops", flops_fp8, GPU_NEED_OPTIONAL, 1, 12, 0, 1e6, 0),
	NUM("fp4_tflops", flops_fp4, GPU_NEED_OPTIONAL, 1, 12, 0, 1e6, 0),
	NUM("link_gbps", link_bw, GPU_NEED_UNLESS_BASE, 1, 9, 1e-3, 1e6, 0),
	NUM("power_w", power_w, GPU_NEED_OPTIONAL, 1, 0, 0, 1e5, 0),
	NUM("price_per_hour", price_per_hour, GPU_NEED_OPTIONAL, 1, 0, 0, 1e4, 0),
	/* Defaults for the step model: a typical serving GPU, uncalibrated. */
	NUM("compute_eff", compute_eff, GPU_NEED_OPTIONAL, 1, 0, 1e-4, 1.0, 0.5),
	NUM("mem_eff", mem_eff, GPU_NEED_OPTIONAL, 1, 0, 1e-4, 1.0, 0.6),
	NUM("step_overhead_ms", step_overhead_s, GPU_NEED_OPTIONAL, 1, -3, 0, 1e5, 1e-3),
	NUM("link_latency_us", link_latency_s, GPU_NEED_OPTIONAL, 1, -6, 0, 1e6, 2e-6),
	NUM("link_eff", link_eff, GPU_NEED_OPTIONAL, 1, 0, 1e-4, 1.0, 0.7),
	NUM("attn_eff", attn_eff, GPU_NEED_OPTIONAL, 1, 0, 0, 1.0, 0),
	NUM("prefill_seq_tokens", prefill_seq_tokens, GPU_NEED_OPTIONAL, 1, 0, 0, 1e6, 0),
	NUM("gemm_half", gemm_half, GPU_NEED_OPTIONAL, 1, 0, 0, 1e12, 1e6),
	NUM("kernel_us", kernel_s, GPU_NEED_OPTIONAL, 1, -6, 0, 1e6, 3e-6),
	NUM("ew_eff", ew_eff, GPU_NEED_OPTIONAL, 1, 0, 0, 1.0, 0),
	NUM("attn_half_q", attn_half_q, GPU_NEED_OPTIONAL, 1, 0, 0, 1e9, 512),
	NUM("car_latency_us", car_latency_s, GPU_NEED_OPTIONAL, 1, -6, 0, 1e6, 0),
	/* 0 = unknown: the memory plan budgets from hbm_gib. */
	NUM("hbm_device_gib", hbm_device_gib, GPU_NEED_OPTIONAL, 1, 0, 0, 1e6, 0),
	/* 0 = unknown: the power model takes 20 % of power_w. */
	NUM("idle_power_w", idle_power_w, GPU_NEED_OPTIONAL, 1, 0, 0, 1e5, 0),
};
#undef STR
#undef NUM

#define NFIELDS ((int)(sizeof fields / sizeof fields[0]))

int gpu_field_count(void)
{
	return NFIELDS;
}

const gpu_field *gpu_field_at(int i)
{
	return i >= 0 && i < NFIELDS ? &fields[i] : NULL;
}

const char *gpu_field_str(const gpu_spec *g, const gpu_field *f)
{
	return (const char *)g + f->off;
}

double gpu_field_si(const gpu_spec *g, const gpu_field *f)
{
	double v;

	memcpy(&v, (const char *)g + f->off, sizeof v);
	return v;
}

static void set_si(gpu_spec *g, const gpu_field *f, double v)
{
	memcpy((char *)g + f->off, &v, sizeof v);
}

/* SI value of the file text s, which np_double already read as v (file units).
 * The power of ten goes into the text's exponent ("3.35" -> "3.35e12") so the
 * decimal is rounded once; v * 1e12 rounds twice and cannot reach about half of the
 * doubles, so a written figure would not read back exactly. */
static double text_to_si(const gpu_field *f, const char *s, size_t len, double v)
{
	char buf[128], pw[16];
	const char *e;
	size_t mlen;
	int64_t ex = 0;
	double x;

	if (f->dec_exp == 0)
		return v * f->bin_scale;
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	e = memchr(s, 'e', len);
	if (!e)
		e = memchr(s, 'E', len);
	mlen = e ? (size_t)(e - s) : len;
	/* np_double accepted s, so it is [sign] digits [. digits] [e [sign] digits]. */
	if ((!e || (np_i64(e + 1, len - mlen - 1, &ex) == 0 && ex > -100000 && ex < 100000)) &&
	    snprintf(buf, sizeof buf, "%.*se%lld", (int)mlen, s, (long long)(ex + f->dec_exp)) <
		    (int)sizeof buf &&
	    np_double(buf, (size_t)-1, &x) == 0)
		return x * f->bin_scale;
	/* Not expected to happen (an overlong mantissa): scale with two roundings. */
	snprintf(pw, sizeof pw, "1e%d", f->dec_exp);
	if (np_double(pw, (size_t)-1, &x))
		x = 1;
	return v * x * f->bin_scale;
}

int gpu_field_text(const gpu_spec *g, const gpu_field *f, char *buf, size_t cap)
{
	double x = gpu_field_si(g, f) / f->bin_scale, back;
	static const char zeros[] = "000000000000000000000";
	char sci[40], digits[24], *p, *end;
	int prec, n = 0, point, len;
	long ex;

	if (f->kind != GPU_FIELD_NUM || !isfinite(x) || !cap)
		return -1;
	/* Shortest "d.ddde+XX" that reads back as x (at most 17 digits, IEEE double). */
	for (prec = 0; prec < 17; prec++) {
		snprintf(sci, sizeof sci, "%.*e", prec, x);
		if (np_double(sci, (size_t)-1, &back) == 0 && back == x)
			break;
	}
	p = sci;
	if (*p == '-')
		p++;
	for (; *p && *p != 'e'; p++)
		if (isdigit((unsigned char)*p))
			digits[n++] = *p;
	digits[n] = '\0';
	ex = strtol(p + 1, &end, 10);
	while (n > 1 && digits[n - 1] == '0')
		digits[--n] = '\0';
	if (!strcmp(digits, "0")) {
		len = snprintf(buf, cap, "%s0", sci[0] == '-' ? "-" : "");
		return len < (int)cap ? 0 : -1;
	}
	/* x = 0.digits x 10^point in the file's unit: shift the decimal exponent. */
	point = (int)ex + 1 - f->dec_exp;
	if (point >= n && point <= 21) /* integer: 80, 1979 */
		len = snprintf(buf, cap, "%s%s%.*s", sci[0] == '-' ? "-" : "", digits, point - n, zeros);
	else if (point > 0 && point < n) /* 3.35 */
		len = snprintf(buf, cap, "%s%.*s.%s", sci[0] == '-' ? "-" : "", point, digits,
			       digits + point);
	else if (point <= 0 && point > -6) /* 0.011674 */
		len = snprintf(buf, cap, "%s0.%.*s%s", sci[0] == '-' ? "-" : "", -point, zeros, digits);
	else
		len = snprintf(buf, cap, "%s%c%s%se%d", sci[0] == '-' ? "-" : "", digits[0],
			       n > 1 ? "." : "", digits + 1, point - 1);
	return len > 0 && len < (int)cap ? 0 : -1;
}

double gpu_field_value(const gpu_spec *g, const gpu_field *f)
{
	char buf[64];
	double v;

	if (gpu_field_text(g, f, buf, sizeof buf) || np_double(buf, (size_t)-1, &v))
		return NAN;
	return v;
}

/* The loader proper, on a parsed document; path names the file in messages. */
static int load_doc(const char *path, struct fy_document *doc, gpu_spec *out, fs_err *err)
{
	const char *allowed[NFIELDS + 2];
	struct fy_node *root, *n, *nodes[NFIELDS];
	gpu_spec g;
	int has_base = 0;
	char base[64];

	for (int i = 0; i < NFIELDS; i++)
		allowed[i] = fields[i].key;
	allowed[NFIELDS] = "base";
	allowed[NFIELDS + 1] = NULL;
	root = fy_document_root(doc);
	if (!root)
		return fs_fail(err, FS_EXIT_INPUT, "%s: empty GPU file", path);
	if (yu_expect_map(path, root, "GPU file", err) ||
	    yu_check_keys(path, root, allowed, "GPU file", err))
		return -1;

	memset(&g, 0, sizeof g);
	/* A file may start from a catalog GPU and override a few figures. */
	if ((n = yu_get(root, "base"))) {
		fs_err sub = {0};

		if (yu_name(path, n, "base", base, sizeof base, err))
			return -1;
		/* Only a catalog GPU, never another file: a path is refused before it is
		 * loaded, so files naming each other (or themselves) cannot recurse. */
		if (is_path(base) || gpu_lookup(base, &g, &sub))
			return yu_errf(err, path, n,
				       "base '%s' is not a catalog GPU (a100, h100, h200, b200, mi300x)%s", base,
				       is_path(base) ? "; a base cannot be another GPU file" : "");
		has_base = 1;
	} else {
		for (int i = 0; i < NFIELDS; i++)
			if (fields[i].kind == GPU_FIELD_NUM)
				set_si(&g, &fields[i], fields[i].dflt);
	}

	for (int i = 0; i < NFIELDS; i++) {
		const gpu_field *f = &fields[i];
		double v;
		size_t len;
		const char *s;

		nodes[i] = n = yu_get(root, f->key);
		if (!n) {
			if (f->need == GPU_NEED_ALWAYS)
				return fs_fail(err, FS_EXIT_INPUT, "%s: missing key '%s'", path, f->key);
			continue;
		}
		if (f->kind == GPU_FIELD_STR) {
			/* name and display are names (no control characters); calib_source
			 * is free text (it may quote a CSV path), escaped wherever written. */
			if (strcmp(f->key, "calib_source") ?
				    yu_name(path, n, f->key, (char *)&g + f->off, f->cap, err) :
				    yu_str(path, n, (char *)&g + f->off, f->cap, err))
				return -1;
			continue;
		}
		if (yu_double_range(path, n, f->lo, f->hi, &v, err))
			return -1;
		s = fy_node_get_scalar(n, &len);
		set_si(&g, f, text_to_si(f, s, len, v));
	}
	for (int i = 0; i < NFIELDS; i++) {
		const gpu_field *f = &fields[i];

		if (nodes[i] || f->need != GPU_NEED_UNLESS_BASE || has_base)
			continue;
		return fs_fail(err, FS_EXIT_INPUT, "%s: missing key '%s'", path, f->key);
	}
	/* A file that changes the capacity of its base without saying what the device
	 * reports must not keep the base's device figure. */
	if (has_base && yu_get(root, "hbm_gib") && !yu_get(root, "hbm_device_gib"))
		g.hbm_device_gib = 0;
	if (!yu_get(root, "display") && !g.display[0])
		snprintf(g.display, sizeof g.display, "%s", g.name);
	if (!yu_get(root, "calib_source"))
		snprintf(g.calib_source, sizeof g.calib_source, "file %s", path);
	*out = g;
	return 0;
}

int gpu_load_file(const char *path, gpu_spec *out, fs_err *err)
{
	struct fy_document *doc = NULL;
	int rc;

	/* The path names the GPU's calibration source when the file sets none. */
	if (esc_has_ctrl(path))
		return fs_fail(err, FS_EXIT_INPUT, "%s: the path contains a control character", path);
	if (yu_load_file(path, &doc, err))
		return -1;
	rc = load_doc(path, doc, out, err);
	fy_document_destroy(doc);
	return rc;
}

static int emit(struct fy_emitter *em, struct fy_event *ev)
{
	return ev ? fy_emit_event(em, ev) : -1;
}

/* The YAML text of g, malloc'd into *text.  Strings are forced double-quoted: the
 * emitter's automatic style writes "" as nothing (null) and "- x" plain. */
static int emit_yaml(const gpu_spec *g, char **text, size_t *len, fs_err *err)
{
	struct fy_emitter *em;
	char num[NFIELDS][64];
	int bad;

	*text = NULL;
	/* Numbers first: stopping an emitter halfway leaks its queued events. */
	for (int i = 0; i < NFIELDS; i++)
		if (fields[i].kind == GPU_FIELD_NUM && gpu_field_text(g, &fields[i], num[i], sizeof num[i]))
			return fs_fail(err, FS_EXIT_INPUT, "GPU '%s': %s is not a finite number", g->name,
				       fields[i].key);
	em = fy_emit_to_string(FYECF_MODE_BLOCK | FYECF_WIDTH_INF | FYECF_DOC_START_MARK_OFF |
			       FYECF_DOC_END_MARK_OFF);
	bad = !em || emit(em, fy_emit_event_create(em, FYET_STREAM_START)) ||
	      emit(em, fy_emit_event_create(em, FYET_DOCUMENT_START, 1, NULL, NULL)) ||
	      emit(em, fy_emit_event_create(em, FYET_MAPPING_START, FYNS_BLOCK, NULL, NULL));
	for (int i = 0; i < NFIELDS && !bad; i++) {
		const gpu_field *f = &fields[i];

		bad = emit(em, fy_emit_event_create(em, FYET_SCALAR, FYSS_PLAIN, f->key, FY_NT, NULL, NULL)) ||
		      emit(em, f->kind == GPU_FIELD_STR ?
				       fy_emit_event_create(em, FYET_SCALAR, FYSS_DOUBLE_QUOTED,
							    gpu_field_str(g, f), FY_NT, NULL, NULL) :
				       fy_emit_event_create(em, FYET_SCALAR, FYSS_PLAIN, num[i], FY_NT, NULL,
							    NULL));
	}
	bad = bad || emit(em, fy_emit_event_create(em, FYET_MAPPING_END)) ||
	      emit(em, fy_emit_event_create(em, FYET_DOCUMENT_END, 1)) ||
	      emit(em, fy_emit_event_create(em, FYET_STREAM_END)) ||
	      !(*text = fy_emit_to_string_collect(em, len));
	if (em)
		fy_emitter_destroy(em);
	if (bad)
		return fs_fail(err, FS_EXIT_RUNTIME, "GPU '%s': YAML emitter failed", g->name);
	*len = strlen(*text); /* libfyaml 0.7's size counts the terminating NUL */
	return 0;
}

int gpu_yaml_string(const gpu_spec *g, char **out, size_t *outlen, fs_err *err)
{
	static const char what[] = "GPU YAML being written";
	struct fy_document *doc = NULL;
	fs_err sub = {0};
	gpu_spec back;
	char *text;
	size_t len;

	if (emit_yaml(g, &text, &len, err))
		return -1;
	/* Read it back: the file must give g again, bit for bit. */
	if (yu_load_string(what, text, len, &doc, &sub) || load_doc(what, doc, &back, &sub)) {
		fs_fail(err, FS_EXIT_INPUT, "GPU '%s' cannot be written as a GPU file: %s", g->name, sub.msg);
		goto fail;
	}
	for (int i = 0; i < NFIELDS; i++) {
		const gpu_field *f = &fields[i];
		int same = f->kind == GPU_FIELD_STR ?
				   !strcmp(gpu_field_str(g, f), gpu_field_str(&back, f)) :
				   !memcmp((const char *)g + f->off, (const char *)&back + f->off, sizeof(double));

		if (!same) {
			fs_fail(err, FS_EXIT_INPUT,
				"GPU '%s': %s does not survive a YAML round trip (leading or trailing "
				"blanks and invalid UTF-8 are not supported)", g->name, f->key);
			goto fail;
		}
	}
	fy_document_destroy(doc);
	*out = text;
	*outlen = len;
	return 0;
fail:
	fy_document_destroy(doc);
	free(text);
	return -1;
}

int gpu_write_yaml(const gpu_spec *g, FILE *f, fs_err *err)
{
	char *text;
	size_t len;
	int rc = 0;

	if (gpu_yaml_string(g, &text, &len, err))
		return -1;
	if (fwrite(text, 1, len, f) != len)
		rc = fs_fail(err, FS_EXIT_RUNTIME, "GPU file write failed: %s", strerror(errno));
	free(text);
	return rc;
}

int gpu_json(const gpu_spec *g, struct cJSON **out, fs_err *err)
{
	cJSON *o = cJSON_CreateObject();
	int bad = !o;

	for (int i = 0; i < NFIELDS && !bad; i++) {
		const gpu_field *f = &fields[i];

		bad = f->kind == GPU_FIELD_STR ?
			      !cJSON_AddStringToObject(o, f->key, gpu_field_str(g, f)) :
			      !cJSON_AddNumberToObject(o, f->key, gpu_field_value(g, f));
	}
	/* Listed before the table existed; scripts may read it. */
	bad = bad || !cJSON_AddNumberToObject(o, "step_overhead_s", g->step_overhead_s);
	if (!bad) {
		cJSON *src = cJSON_AddObjectToObject(o, "sources");

		bad = !src;
		for (int i = 0; i < NFIELDS && !bad; i++) {
			const char *why = gpu_field_source(g, &fields[i]);

			bad = !cJSON_AddStringToObject(src, fields[i].key, why ? why : "unknown");
		}
	}
	if (bad) {
		cJSON_Delete(o);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	*out = o;
	return 0;
}

/* Provenance of the catalog's figures: first match of (gpu, key) wins; "*" is any
 * catalog GPU.  Kept beside the catalog so a changed constant changes its source. */
static const struct {
	const char *gpu, *key, *src;
} sources[] = {
	{"*", "name", "catalog"},
	{"*", "display", "catalog"},
	{"*", "calib_source", "catalog"},
	{"*", "hbm_gib", "datasheet: marketed HBM capacity (GiB, within 1 % of what the device reports)"},
	{"h100", "hbm_device_gib", "measured: vLLM start-up log, H100 80GB HBM3 \"Free memory on device "
				   "(78.66/79.19 GiB)\" (torch.cuda.mem_get_info total; 79.11-79.25 across drivers)"},
	{"h200", "hbm_device_gib", "measured: vLLM start-up logs on H200, \"(139.21/139.81 GiB)\" (v0.11, "
				   "TP 2) and total_gpu_memory (139.81GiB) (V0, TP 8)"},
	{"b200", "hbm_device_gib", "measured: vLLM PR #21489 log, \"Free memory on device (177.66/178.36 "
				   "GiB)\" (GPU inferred from the size)"},
	{"a100", "hbm_device_gib", "measured: vLLM start-up logs on A100 80GB, \"Free memory on device "
				   "(78.84/79.25 GiB)\" (v0.31.0) and \"(46.41/79.25 GiB)\" "
				   "(tests/data/memory/vllm_startup_logs.csv)"},
	{"*", "hbm_device_gib", "not measured: 0, the memory plan uses hbm_gib"},
	{"*", "mem_bw_tbps", "datasheet: HBM bandwidth"},
	{"*", "bf16_tflops", "datasheet: dense BF16 tensor peak"},
	{"*", "fp8_tflops", "datasheet: dense FP8 tensor peak (0: none)"},
	{"*", "fp4_tflops", "datasheet: dense FP4 tensor peak (0: none)"},
	{"*", "link_gbps", "datasheet: NVLink / Infinity Fabric per GPU, one direction"},
	{"*", "power_w", "datasheet: board power (TDP / TBP): the draw of compute-bound steps"},
	{"h100", "idle_power_w", "measured: nvidia-smi on H100 80GB HBM3 SXM, 140-145 W / 700 W at P0, 0 % "
				 "util with 72.8 GB allocated (wilicc/gpu-burn issue #114)"},
	{"h200", "idle_power_w", "assumption: H100's measured idle (same die and board power)"},
	{"*", "idle_power_w", "assumption: 20 % of TDP, as H100's measured 140 W / 700 W"},
	{"*", "price_per_hour", "assumption: representative 2025 on-demand list price"},
	{"a100", "compute_eff", "fitted: Vidur A100 GEMM profiles (Llama-2-70B, Llama-3-8B; TP 1-8)"},
	{"a100", "gemm_half", "fitted: Vidur A100 GEMM profiles"},
	{"a100", "mem_eff", "fitted: Vidur A100 small-M GEMMs (weight streaming)"},
	{"a100", "kernel_us", "fitted: Vidur A100 operator profiles"},
	{"a100", "ew_eff", "fitted: Vidur A100 element-wise ops (rope, act, add, emb)"},
	{"a100", "link_latency_us", "fitted: Vidur A100 DGX NCCL all-reduce"},
	{"a100", "link_eff", "fitted: Vidur A100 DGX NCCL all-reduce"},
	{"a100", "attn_eff", "assumption: FA2 paper abstract, 50-73 % of A100 peak (middle)"},
	{"a100", "attn_half_q", "fitted: FA2 causal on H100 (length dependence; no A100 data)"},
	{"h100", "compute_eff", "fitted: Vidur H100 GEMM profiles (Llama-2-70B, Llama-2-7B; TP 1-8)"},
	{"h100", "gemm_half", "fitted: Vidur H100 GEMM profiles"},
	{"h100", "mem_eff", "fitted: Vidur H100 small-M GEMMs (weight streaming)"},
	{"h100", "kernel_us", "fitted: Vidur H100 operator profiles"},
	{"h100", "ew_eff", "fitted: Vidur H100 element-wise ops (rope, act, add, emb)"},
	{"h100", "link_latency_us", "fitted: Vidur H100 DGX NCCL all-reduce"},
	{"h100", "link_eff", "fitted: Vidur H100 DGX NCCL all-reduce"},
	{"h100", "attn_eff", "fitted: FlashAttention-3 causal forward, H100 (attention_kernels*.csv)"},
	{"h100", "attn_half_q", "fitted: FlashAttention-3 causal forward, H100"},
	{"h200", "compute_eff", "fitted on H100 (same Hopper die)"},
	{"h200", "gemm_half", "fitted on H100 (same Hopper die)"},
	{"h200", "kernel_us", "fitted on H100 (same Hopper die)"},
	{"h200", "mem_eff", "assumption: H100's fitted fraction of bandwidth (no H200 data)"},
	{"h200", "ew_eff", "assumption: H100's fitted fraction of bandwidth (no H200 data)"},
	{"h200", "link_latency_us", "fitted on H100 (same NVLink4)"},
	{"h200", "link_eff", "fitted on H100 (same NVLink4)"},
	{"h200", "attn_eff", "fitted on H100 (FA3, same die)"},
	{"h200", "attn_half_q", "fitted on H100 (FA3, same die)"},
	{"b200", "compute_eff", "assumption: H100's fit; checked on published B200 BF16 GEMMs (vLLM PR #20071)"},
	{"b200", "gemm_half", "assumption: H100's fit"},
	{"b200", "mem_eff", "measured: 6.043 TB/s device copy (nvbench, NVIDIA/cccl PR #7391) / 8 TB/s"},
	{"b200", "kernel_us", "assumption: H100's fit"},
	{"b200", "ew_eff", "assumption: H100's ew_eff / mem_eff ratio x B200 mem_eff"},
	{"b200", "link_latency_us", "assumption: H100's fit (no NVLink5 all-reduce data)"},
	{"b200", "link_eff", "assumption: H100's fit (no NVLink5 all-reduce data)"},
	{"b200", "attn_eff", "fitted: FlashAttention CuTe-DSL Sm100 causal forward (flash-attention PR #2280)"},
	{"b200", "attn_half_q", "assumption: H100's FA3 fit"},
	{"mi300x", "mem_eff", "assumption: ~4.3 TB/s reported by a microbenchmark (secondary source)"},
	{"mi300x", "ew_eff", "assumption: H100's ew_eff / mem_eff ratio x MI300X mem_eff"},
	{"mi300x", "*", "assumption: H100's fitted value (no MI300X measurement)"},
	{"*", "car_latency_us", "measured: vLLM custom all-reduce, 8.5-11.8 us at <= 32 KiB, TP 2-8 on "
				"H100 (sgl-project/sglang PR #2904); assumed for the other GPUs"},
	{"*", "step_overhead_ms", "assumption: vLLM V1 CPU cost per step; PR #17866 measured 2.73 ms "
				  "TPOT on Llama-3.2-1B, whose GPU work is ~1-1.5 ms: ~1.2-1.7 ms of CPU, part "
				  "of it overlapped by async scheduling"},
	{"*", "prefill_seq_tokens", "not used by the catalog (0); an end-to-end calibrate term"},
};

const char *gpu_field_source(const gpu_spec *g, const gpu_field *f)
{
	const gpu_spec *cat = NULL;

	for (int i = 0; i < NCATALOG; i++)
		if (!strcmp(g->name, catalog[i].name))
			cat = &catalog[i];
	if (cat) {
		int same = f->kind == GPU_FIELD_STR ?
				   !strcmp(gpu_field_str(g, f), gpu_field_str(cat, f)) :
				   !memcmp((const char *)g + f->off, (const char *)cat + f->off, sizeof(double));

		if (!same)
			return "file";
		for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
			if ((!strcmp(sources[i].gpu, "*") || !strcmp(sources[i].gpu, g->name)) &&
			    (!strcmp(sources[i].key, "*") || !strcmp(sources[i].key, f->key)))
				return sources[i].src;
		return NULL;
	}
	return "file";
}

double gpu_device_hbm_bytes(const gpu_spec *g)
{
	return g->hbm_device_gib > 0 ? g->hbm_device_gib * GIB : g->hbm_bytes;
}

double gpu_compute_flops(const gpu_spec *g, prec_t weights)
{
	switch (weights) {
	case PREC_NVFP4:
		if (g->flops_fp4 > 0)
			return g->flops_fp4;
		return g->flops_bf16; /* weight-only: dequantised to BF16 GEMMs */
	case PREC_FP8:
		if (g->flops_fp8 > 0)
			return g->flops_fp8;
		return g->flops_bf16; /* Ampere: FP8 weight-only (Marlin) at BF16 rate */
	case PREC_BF16:
		break;
	}
	return g->flops_bf16;
}

int gpu_check_kv_dtype(const gpu_spec *g, prec_t kv, fs_err *err)
{
	if (kv == PREC_NVFP4 && g->flops_fp4 <= 0)
		return fs_fail(err, FS_EXIT_INPUT,
			       "kv_cache_dtype nvfp4 needs FP4 tensor cores; GPU '%s' has none "
			       "(use fp8 or bf16)", g->name);
	return 0;
}
