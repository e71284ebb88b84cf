/* CUnit suite for models/engine: the vLLM release table, lookups, GPU classes and
 * the per-class API-server defaults. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "models/engine.h"
#include "models/gpu.h"
#include "tutil.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static void test_table(void)
{
	CU_ASSERT_EQUAL_FATAL(eng_count(), 3);
	CU_ASSERT_STRING_EQUAL(eng_get(0)->version, "0.16");
	CU_ASSERT_STRING_EQUAL(eng_get(1)->version, "0.19");
	CU_ASSERT_STRING_EQUAL(eng_get(2)->version, "0.21");
	CU_ASSERT_PTR_NULL(eng_get(-1));
	CU_ASSERT_PTR_NULL(eng_get(3));
	/* the newest is the default */
	CU_ASSERT_PTR_EQUAL(eng_default(), eng_get(eng_count() - 1));
	for (int i = 0; i < eng_count(); i++) {
		const eng_release *r = eng_get(i);

		CU_ASSERT_EQUAL(strlen(r->date), 10);
		CU_ASSERT_PTR_NOT_NULL(strstr(r->tag, r->version));
		CU_ASSERT_PTR_NOT_NULL(strstr(r->source, "arg_utils.py"));
		CU_ASSERT(r->null_block == 1);
		CU_ASSERT(r->async_scheduling == 1);
		CU_ASSERT_EQUAL(r->cudagraph_max, 512);
		if (i > 0) /* oldest first, dates ascending */
			CU_ASSERT(strcmp(eng_get(i - 1)->date, r->date) < 0);
	}
	/* admission reservation of the whole prompt arrived between 0.16 and 0.19 */
	CU_ASSERT_EQUAL(eng_get(0)->reserve_full_isl, 0);
	CU_ASSERT_EQUAL(eng_get(1)->reserve_full_isl, 1);
	CU_ASSERT_EQUAL(eng_get(2)->reserve_full_isl, 1);
}

static void test_lookup(void)
{
	const char *names[] = {"0.16", "0.16.0", "v0.16.0", "V0.16"};
	const eng_release *r = NULL;
	fs_err err = {0};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		r = NULL;
		CU_ASSERT_EQUAL(eng_lookup(names[i], &r, &err), 0);
		CU_ASSERT_PTR_EQUAL(r, eng_get(0));
	}
	CU_ASSERT_EQUAL(eng_lookup("v0.19.0", &r, &err), 0);
	CU_ASSERT_STRING_EQUAL(r->tag, "v0.19.0");
	CU_ASSERT_EQUAL(eng_lookup("0.21", &r, &err), 0);
	CU_ASSERT_PTR_EQUAL(r, eng_default());
	/* a patch release is not the .0 one */
	CU_ASSERT_EQUAL(eng_lookup("0.16.1", &r, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_STRING_EQUAL(err.msg, "unknown vLLM release '0.16.1' (modelled: 0.16, 0.19, 0.21)");
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(eng_lookup("0.1", &r, &err), -1);
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(eng_lookup("", &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown vLLM release ''"));
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(eng_lookup(NULL, &r, &err), -1);
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(eng_lookup("v", &r, &err), -1);
	fs_err_clear(&err);
	/* a hostile name stays one short line */
	CU_ASSERT_EQUAL(eng_lookup("0.1\n6xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &r, &err),
			-1);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'0.1?6xx"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "...' (modelled:"));
	CU_ASSERT(strlen(err.msg) < 120);
}

static void test_gpu_classes(void)
{
	const char *large[] = {"h100", "h200", "b200", "mi300x"};
	gpu_spec g;
	fs_err err = {0};

	for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
		CU_ASSERT_EQUAL_FATAL(gpu_lookup(large[i], &g, &err), 0);
		CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_LARGE);
	}
	/* 80 GiB, but vLLM excludes A100s by name (PR #17885: larger batches cost
	 * throughput there) */
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("a100", &g, &err), 0);
	CU_ASSERT(g.hbm_bytes >= 70 * GIB);
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_SMALL);
	/* the name rule on either the device name or the catalog key */
	strcpy(g.display, "Some Card");
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_SMALL);
	strcpy(g.name, "card");
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_LARGE);
	/* the memory threshold: >= 70 GiB */
	g.hbm_bytes = 70 * GIB;
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_LARGE);
	g.hbm_bytes = 70 * GIB - 1;
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_SMALL);
	g.hbm_bytes = 48 * GIB; /* L40S */
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_SMALL);
	g.display[0] = '\0';
	CU_ASSERT_EQUAL(eng_gpu_class_of(&g), ENG_GPU_SMALL);
}

static void test_pool_defaults(void)
{
	gpu_spec a100, h100;
	fs_err err = {0};
	int seqs = 0, tokens = 0;
	double util = 0;

	CU_ASSERT_FATAL(!gpu_lookup("a100", &a100, &err) && !gpu_lookup("h100", &h100, &err));
	for (int i = 0; i < eng_count(); i++) {
		const eng_release *r = eng_get(i);

		eng_pool_defaults(r, &h100, &seqs, &tokens, &util);
		CU_ASSERT_EQUAL(seqs, 1024);
		CU_ASSERT_EQUAL(tokens, 8192);
		CU_ASSERT_DOUBLE_EQUAL(util, r->gpu_memory_utilization, 0);
		eng_pool_defaults(r, &a100, &seqs, &tokens, &util);
		CU_ASSERT_EQUAL(seqs, 256);
		CU_ASSERT_EQUAL(tokens, 2048);
		/* NULL out-parameters are skipped */
		eng_pool_defaults(r, &a100, NULL, NULL, NULL);
	}
	/* gpu_memory_utilization: 0.9 until 0.92 came with CUDA-graph profiling */
	CU_ASSERT_DOUBLE_EQUAL(eng_get(0)->gpu_memory_utilization, 0.9, 0);
	CU_ASSERT_DOUBLE_EQUAL(eng_get(1)->gpu_memory_utilization, 0.9, 0);
	CU_ASSERT_DOUBLE_EQUAL(eng_get(2)->gpu_memory_utilization, 0.92, 0);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("engine", NULL, NULL);
	if (!s || !CU_add_test(s, "release table", test_table) ||
	    !CU_add_test(s, "lookup and aliases", test_lookup) ||
	    !CU_add_test(s, "GPU classes", test_gpu_classes) ||
	    !CU_add_test(s, "defaults per class and release", test_pool_defaults))
		return -1;
	return 0;
}
