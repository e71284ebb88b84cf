/*
 * gpu.c - built-in GPU catalog and the YAML loader for user GPUs.
 *
 * Conventions for the figures (see docs/models.md):
 * - hbm_bytes: the marketed capacity read as GiB.  That is what the device reports
 *   within ~1 % (nvidia-smi: A100-80GB 81920 MiB, H100 SXM 81559 MiB, H200 143771 MiB),
 *   and vLLM multiplies the device total by gpu_memory_utilization.
 * - flops_*: dense (no 2:4 sparsity) tensor-core peaks from the vendor data sheets,
 *   as quoted in SPEC section 3.
 * - link_bw: one direction per GPU, i.e. half the marketed bidirectional NVLink /
 *   Infinity Fabric figure; a ring all-reduce's bus bandwidth is bounded by it.
 * - price_per_hour: representative 2025 on-demand cloud list prices (Lambda, RunPod,
 *   CoreWeave pages); a scenario overrides them for a real quote.
 * - compute_eff / mem_eff / step_overhead_s: fitted with `fleetsim calibrate` on the
 *   Splitwise measurements where they exist (A100: Llama-2-70B rows; H100: BLOOM-176B
 *   rows), copied from the nearest measured generation otherwise (docs/models.md).
 */
#include "models/gpu.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/yamlutil.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define TB 1e12
#define GB 1e9
#define TFLOPS 1e12

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
		.price_per_hour = 1.79,       /* Lambda on-demand A100 80GB SXM, 2025 */
		/* Fitted: fleetsim calibrate splitwise_perf_a100.csv --gpu a100
		 * --model llama-2-70b (TP 2/4/8, every 4th configuration held out). */
		.compute_eff = 0.7667, .mem_eff = 0.7573, .step_overhead_s = 0.011674,
		.link_latency_s = 10.098e-6, .link_eff = 0.3290, .attn_eff = 0.1239,
		.prefill_seq_tokens = 72.16,
		.calib_source = "fitted: Splitwise Llama-2-70B A100 rows",
	},
	{
		.name = "h100", .display = "NVIDIA H100 SXM5 80GB",
		.hbm_bytes = 80 * GIB,        /* H100 SXM data sheet: 80 GB HBM3 */
		.mem_bw = 3.35 * TB,          /* H100 SXM data sheet: 3.35 TB/s */
		.flops_bf16 = 989 * TFLOPS,   /* H100 SXM: BF16 989 TFLOPS dense (1979 sparse) */
		.flops_fp8 = 1979 * TFLOPS,   /* H100 SXM: FP8 1979 TFLOPS dense */
		.flops_fp4 = 0,               /* Hopper has no FP4 tensor cores */
		.link_bw = 450 * GB,          /* NVLink4: 900 GB/s bidirectional per GPU */
		.power_w = 700,               /* H100 SXM TDP 700 W */
		.price_per_hour = 2.99,       /* Lambda on-demand H100 SXM, 2025 */
		/* Fitted on the BLOOM-176B H100 rows (TP 8 only, so the link figures stay
		 * at the defaults 2 us / 0.7).  attn_eff is NOT the fit's 0.030: BLOOM's
		 * ALiBi attention ran without FlashAttention; vLLM's kernels are taken to
		 * keep A100's attention/GEMM ratio, 0.1239 / 0.7667 = 0.1616. */
		.compute_eff = 0.4605, .mem_eff = 0.4101, .step_overhead_s = 0.0,
		.link_latency_s = 2e-6, .link_eff = 0.7, .attn_eff = 0.0744,
		.prefill_seq_tokens = 99.51,
		.calib_source = "fitted: Splitwise BLOOM-176B H100 rows",
	},
	{
		.name = "h200", .display = "NVIDIA H200 SXM 141GB",
		.hbm_bytes = 141 * GIB,       /* H200 data sheet: 141 GB HBM3e */
		.mem_bw = 4.8 * TB,           /* H200 data sheet: 4.8 TB/s */
		.flops_bf16 = 989 * TFLOPS,   /* same Hopper die as H100 SXM */
		.flops_fp8 = 1979 * TFLOPS,
		.flops_fp4 = 0,
		.link_bw = 450 * GB,          /* NVLink4: 900 GB/s bidirectional */
		.power_w = 700,               /* H200 SXM TDP 700 W */
		.price_per_hour = 3.79,       /* typical on-demand H200, 2025 */
		/* Same die as H100: H100's fitted efficiencies. */
		.compute_eff = 0.4605, .mem_eff = 0.4101, .step_overhead_s = 0.0,
		.link_latency_s = 2e-6, .link_eff = 0.7, .attn_eff = 0.0744,
		.prefill_seq_tokens = 99.51, /* fitted jointly with compute_eff */
		.calib_source = "derived: H100 fit (same Hopper die)",
	},
	{
		.name = "b200", .display = "NVIDIA B200 180GB",
		.hbm_bytes = 180 * GIB,       /* DGX B200: 180 GB usable of 192 GB HBM3e */
		.mem_bw = 8.0 * TB,           /* B200 data sheet: 8 TB/s */
		.flops_bf16 = 2250 * TFLOPS,  /* B200 (HGX, 1000 W): BF16 2.25 PFLOPS dense */
		.flops_fp8 = 4500 * TFLOPS,   /* FP8 4.5 PFLOPS dense */
		.flops_fp4 = 9000 * TFLOPS,   /* FP4 9 PFLOPS dense */
		.link_bw = 900 * GB,          /* NVLink5: 1.8 TB/s bidirectional per GPU */
		.power_w = 1000,              /* HGX B200 1000 W */
		.price_per_hour = 4.99,       /* Lambda on-demand B200, 2025 */
		/* No measurements: nearest measured generation (H100). */
		.compute_eff = 0.4605, .mem_eff = 0.4101, .step_overhead_s = 0.0,
		.link_latency_s = 2e-6, .link_eff = 0.7, .attn_eff = 0.0744,
		.prefill_seq_tokens = 99.51, /* fitted jointly with compute_eff */
		.calib_source = "derived: H100 fit (nearest measured generation)",
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
		.price_per_hour = 2.49,       /* typical on-demand MI300X, 2025 */
		/* No measurements: H100's efficiencies (same-era data-centre part). */
		.compute_eff = 0.4605, .mem_eff = 0.4101, .step_overhead_s = 0.0,
		.link_latency_s = 2e-6, .link_eff = 0.7, .attn_eff = 0.0744,
		.prefill_seq_tokens = 99.51, /* fitted jointly with compute_eff */
		.calib_source = "derived: H100 fit (same era, no measurements)",
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

/* YAML keys and the factor from the file's unit to the struct's SI unit.  The
 * file uses the units of data sheets (GiB, TB/s, TFLOPS, GB/s, ms, us) so a user
 * can copy figures straight in. */
static const struct {
	const char *key;
	size_t off;
	double scale;
	double lo, hi;
} fields[] = {
	{"hbm_gib", offsetof(gpu_spec, hbm_bytes), GIB, 1e-3, 1e6},
	{"mem_bw_tbps", offsetof(gpu_spec, mem_bw), TB, 1e-3, 1e3},
	{"bf16_tflops", offsetof(gpu_spec, flops_bf16), TFLOPS, 1e-3, 1e6},
	{"fp8_tflops", offsetof(gpu_spec, flops_fp8), TFLOPS, 0, 1e6},
	{"fp4_tflops", offsetof(gpu_spec, flops_fp4), TFLOPS, 0, 1e6},
	{"link_gbps", offsetof(gpu_spec, link_bw), GB, 1e-3, 1e6},
	{"power_w", offsetof(gpu_spec, power_w), 1.0, 0, 1e5},
	{"price_per_hour", offsetof(gpu_spec, price_per_hour), 1.0, 0, 1e4},
	{"compute_eff", offsetof(gpu_spec, compute_eff), 1.0, 1e-4, 1.0},
	{"mem_eff", offsetof(gpu_spec, mem_eff), 1.0, 1e-4, 1.0},
	{"step_overhead_ms", offsetof(gpu_spec, step_overhead_s), 1e-3, 0, 1e5},
	{"link_latency_us", offsetof(gpu_spec, link_latency_s), 1e-6, 0, 1e6},
	{"link_eff", offsetof(gpu_spec, link_eff), 1.0, 1e-4, 1.0},
	{"attn_eff", offsetof(gpu_spec, attn_eff), 1.0, 0, 1.0},
	{"prefill_seq_tokens", offsetof(gpu_spec, prefill_seq_tokens), 1.0, 0, 1e6},
};

#define NFIELDS (sizeof fields / sizeof fields[0])

int gpu_load_file(const char *path, gpu_spec *out, fs_err *err)
{
	static const char *const allowed[] = {
		"name", "display", "base", "calib_source", "hbm_gib", "mem_bw_tbps",
		"bf16_tflops", "fp8_tflops", "fp4_tflops", "link_gbps", "power_w",
		"price_per_hour", "compute_eff", "mem_eff", "step_overhead_ms",
		"link_latency_us", "link_eff", "attn_eff", "prefill_seq_tokens", NULL,
	};
	struct fy_document *doc = NULL;
	struct fy_node *root, *n;
	gpu_spec g;
	int have[NFIELDS] = {0};
	char base[64];

	if (yu_load_file(path, &doc, err))
		return -1;
	root = fy_document_root(doc);
	if (!root) {
		fs_fail(err, FS_EXIT_INPUT, "%s: empty GPU file", path);
		goto fail;
	}
	if (yu_expect_map(path, root, "GPU file", err) ||
	    yu_check_keys(path, root, allowed, "GPU file", err))
		goto fail;

	memset(&g, 0, sizeof g);
	/* A file may start from a catalog GPU and override a few figures. */
	if ((n = yu_get(root, "base"))) {
		fs_err sub = {0};

		if (yu_str(path, n, base, sizeof base, err))
			goto fail;
		if (gpu_lookup(base, &g, &sub) || is_path(base)) {
			yu_errf(err, path, n, "base '%s' is not a catalog GPU (a100, h100, h200, b200, mi300x)",
				base);
			goto fail;
		}
		for (size_t i = 0; i < NFIELDS; i++)
			have[i] = 1;
	} else {
		/* Defaults for the optional step-model figures. */
		g.compute_eff = 0.5;
		g.mem_eff = 0.6;
		g.step_overhead_s = 0.015;
		g.link_latency_s = 2e-6;
		g.link_eff = 0.7;
		for (size_t i = 0; i < NFIELDS; i++)
			if (!strcmp(fields[i].key, "fp8_tflops") || !strcmp(fields[i].key, "fp4_tflops") ||
			    !strcmp(fields[i].key, "power_w") || !strcmp(fields[i].key, "price_per_hour") ||
			    !strcmp(fields[i].key, "compute_eff") || !strcmp(fields[i].key, "mem_eff") ||
			    !strcmp(fields[i].key, "step_overhead_ms") || !strcmp(fields[i].key, "link_latency_us") ||
			    !strcmp(fields[i].key, "link_eff") || !strcmp(fields[i].key, "attn_eff") ||
			    !strcmp(fields[i].key, "prefill_seq_tokens"))
				have[i] = 1;
	}

	n = yu_get(root, "name");
	if (!n) {
		fs_fail(err, FS_EXIT_INPUT, "%s: missing key 'name'", path);
		goto fail;
	}
	if (yu_str(path, n, g.name, sizeof g.name, err))
		goto fail;
	if ((n = yu_get(root, "display"))) {
		if (yu_str(path, n, g.display, sizeof g.display, err))
			goto fail;
	} else if (!g.display[0]) {
		snprintf(g.display, sizeof g.display, "%s", g.name);
	}
	if ((n = yu_get(root, "calib_source"))) {
		if (yu_str(path, n, g.calib_source, sizeof g.calib_source, err))
			goto fail;
	} else {
		snprintf(g.calib_source, sizeof g.calib_source, "file %s", path);
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		double v;

		if (!(n = yu_get(root, fields[i].key)))
			continue;
		if (yu_double_range(path, n, fields[i].lo, fields[i].hi, &v, err))
			goto fail;
		*(double *)((char *)&g + fields[i].off) = v * fields[i].scale;
		have[i] = 1;
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if (!have[i]) {
			fs_fail(err, FS_EXIT_INPUT, "%s: missing key '%s'", path, fields[i].key);
			goto fail;
		}
	fy_document_destroy(doc);
	*out = g;
	return 0;
fail:
	fy_document_destroy(doc);
	return -1;
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
