/* CUnit suite for models/gpu: catalog figures, aliases, YAML GPU files, precision rules. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu.h"

static void test_catalog(void)
{
	gpu_spec g;
	fs_err err = {0};

	CU_ASSERT_EQUAL(gpu_catalog_count(), 5);
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("H100-SXM", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "h100");
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(g.prefill_seq_tokens, 99.51, 1e-9); /* fitted on BLOOM-176B */
	CU_ASSERT_DOUBLE_EQUAL(g.mem_bw, 3.35e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(g.hbm_bytes, 80.0 * 1073741824.0, 1);
	CU_ASSERT_EQUAL(gpu_lookup("a100-80gb", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "a100");
	CU_ASSERT_EQUAL(gpu_lookup("b200", &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_fp4, 9000e12, 1);
	CU_ASSERT_EQUAL(gpu_lookup("mi300x", &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 1307e12, 1);
	CU_ASSERT_EQUAL(gpu_lookup("h300", &g, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown GPU 'h300'"));
	for (int i = 0; i < gpu_catalog_count(); i++) {
		const gpu_spec *c = gpu_catalog_get(i);

		CU_ASSERT(c->compute_eff > 0 && c->compute_eff <= 1);
		CU_ASSERT(c->mem_eff > 0 && c->mem_eff <= 1);
		CU_ASSERT(c->price_per_hour > 0);
	}
}

static void test_precision_rules(void)
{
	gpu_spec h100, b200, a100;
	fs_err err = {0};

	CU_ASSERT_FATAL(!gpu_lookup("h100", &h100, &err) && !gpu_lookup("b200", &b200, &err) &&
			!gpu_lookup("a100", &a100, &err));
	/* NVFP4 on Hopper is weight-only: BF16 rate; on B200 the FP4 rate. */
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&h100, PREC_NVFP4), 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&b200, PREC_NVFP4), 9000e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&h100, PREC_FP8), 1979e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&a100, PREC_FP8), 312e12, 1);
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&h100, PREC_NVFP4, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nvfp4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "h100"));
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&b200, PREC_NVFP4, &err), 0);
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&h100, PREC_FP8, &err), 0);
}

static const char *write_tmp(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "/tmp/fs_test_gpu_%s.yaml", name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_yaml(void)
{
	gpu_spec g;
	fs_err err = {0};
	const char *p;
	char want[512];

	/* The shipped example loads. */
	CU_ASSERT_EQUAL(gpu_lookup(FS_SOURCE_DIR "/models/gpus/example.yaml", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "l40s");
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 362e12, 1);

	p = write_tmp("base", "name: h100-cheap\nbase: h100\nprice_per_hour: 1.5\n");
	CU_ASSERT_EQUAL_FATAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "h100-cheap");
	CU_ASSERT_DOUBLE_EQUAL(g.price_per_hour, 1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(g.prefill_seq_tokens, 99.51, 1e-9); /* inherited from h100 */

	p = write_tmp("seq", "name: x\nbase: a100\nprefill_seq_tokens: 0\n");
	CU_ASSERT_EQUAL_FATAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.prefill_seq_tokens, 0, 0);
	p = write_tmp("seqneg", "name: x\nbase: a100\nprefill_seq_tokens: -5\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);

	p = write_tmp("unknown", "name: x\nbase: h100\nhbm_gb: 80\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	snprintf(want, sizeof want, "%s:3:1: unknown key 'hbm_gb'", p);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));

	p = write_tmp("type", "name: x\nbase: h100\nmem_eff: fast\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	snprintf(want, sizeof want, "%s:3:10:", p);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));

	p = write_tmp("missing", "name: x\nhbm_gib: 48\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing key 'mem_bw_tbps'"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("gpu", NULL, NULL);
	if (!s || !CU_add_test(s, "catalog", test_catalog) ||
	    !CU_add_test(s, "precision rules", test_precision_rules) ||
	    !CU_add_test(s, "yaml files", test_yaml))
		return -1;
	return 0;
}
