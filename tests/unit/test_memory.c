/* CUnit suite for models/memory: the KV-block plan and its refusals. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "models/memory.h"

static void setup(const char *gpu, const char *model, gpu_spec *g, llm_spec *m)
{
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(gpu_lookup(gpu, g, &err), 0);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(model, m, &err), 0);
}

static void test_llama3_70b_h100_tp4(void)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	mem_plan p;
	fs_err err = {0};

	setup("h100", "llama-3-70b", &g, &m);
	mem_config_default(&c);
	c.tp = 4;
	CU_ASSERT_EQUAL_FATAL(mem_plan_compute(&g, &m, &c, &p, &err), 0);
	/* Per GPU, by hand:
	 *   budget      80 GiB x 0.9                                   = 77,309,411,328
	 *   weights     141,107,412,992 B / 4                          = 35,276,853,248
	 *   activation  8192 x 2 x (4 x 8192 + 3 x 28672 / 4)          =    889,192,448
	 *               + 256 seqs x 128256 vocab x 4 B (FP32 logits)   =    131,334,144
	 *   overhead    1.5 GiB + 0.5 GiB (TP > 1)                      =  2,147,483,648
	 *   KV left                                                     = 38,864,547,840
	 *   block       16 tokens x 327,680 B / 4 shards = 1,310,720 B
	 *   kv_blocks   floor(38,864,547,840 / 1,310,720) = floor(29651.2) = 29651 */
	CU_ASSERT_DOUBLE_EQUAL(p.weights_bytes, 35276853248.0, 1);
	CU_ASSERT_DOUBLE_EQUAL(p.activation_bytes, 889192448.0 + 131334144.0, 1);
	CU_ASSERT_DOUBLE_EQUAL(p.kv_bytes_per_token, 81920.0, 0);
	CU_ASSERT_EQUAL(p.kv_blocks, 29651);
	CU_ASSERT_EQUAL(p.kv_tokens, 29651 * 16);
	/* 8K context = 512 blocks: 29651 / 512 = 57 sequences; 128K: 8192 blocks -> 3. */
	CU_ASSERT_EQUAL(p.max_seqs_at[1], 57);
	CU_ASSERT_EQUAL(p.max_seqs_at[4], 3);

	/* FP8 KV halves the bytes per token: twice the blocks (same memory). */
	c.kv = PREC_FP8;
	CU_ASSERT_EQUAL_FATAL(mem_plan_compute(&g, &m, &c, &p, &err), 0);
	CU_ASSERT_EQUAL(p.kv_blocks, 59302);
}

static void test_refusals(void)
{
	gpu_spec g, b;
	llm_spec m;
	mem_config c;
	mem_plan p;
	fs_err err = {0};

	setup("h100", "llama-3-70b", &g, &m);
	mem_config_default(&c);
	/* 141 GB of weights on one 80 GiB GPU: weights 131.42 GiB + activations
	 * (8192 x 2 x (32768 + 86016) + 131,334,144 B = 1.93 GiB) + overhead 1.5 GiB
	 * + one 20 MiB KV block - 72 GiB budget = 62.86 GiB short. */
	CU_ASSERT_EQUAL(mem_plan_compute(&g, &m, &c, &p, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "does not fit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "short by 62.86 GiB"));
	c.tp = 0;
	CU_ASSERT_EQUAL(mem_plan_compute(&g, &m, &c, &p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tensor parallel"));
	c.tp = 3;
	CU_ASSERT_EQUAL(mem_plan_compute(&g, &m, &c, &p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not divisible by TP 3"));
	c.tp = 4;
	c.kv = PREC_NVFP4;
	CU_ASSERT_EQUAL(mem_plan_compute(&g, &m, &c, &p, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nvfp4"));
	setup("b200", "llama-3-70b", &b, &m);
	CU_ASSERT_EQUAL(mem_plan_compute(&b, &m, &c, &p, &err), 0);
	c.gpu_memory_utilization = 1.5;
	CU_ASSERT_EQUAL(mem_plan_compute(&b, &m, &c, &p, &err), -1);
}

static void test_hybrid_state(void)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	mem_plan p;
	fs_err err = {0};

	setup("h200", "qwen3-next-80b-a3b", &g, &m);
	mem_config_default(&c);
	c.tp = 2;
	CU_ASSERT_EQUAL_FATAL(mem_plan_compute(&g, &m, &c, &p, &err), 0);
	/* State: 39,518,208 B/seq x 256 seqs / 2 shards. KV: 2 x 12 x 1 head x 256 x 2 B. */
	CU_ASSERT_DOUBLE_EQUAL(p.state_bytes, 39518208.0 * 256 / 2, 1);
	CU_ASSERT_DOUBLE_EQUAL(p.kv_bytes_per_token, 12288.0, 0);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("memory", NULL, NULL);
	if (!s || !CU_add_test(s, "llama-3-70b on 4 x h100", test_llama3_70b_h100_tp4) ||
	    !CU_add_test(s, "refusals", test_refusals) ||
	    !CU_add_test(s, "hybrid state", test_hybrid_state))
		return -1;
	return 0;
}
