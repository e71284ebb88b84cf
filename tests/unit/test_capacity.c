/*
 * CUnit suite for models/capacity: the steady-state formula on a toy step model whose
 * step always takes 10 ms (perf_init_linear(10 ms, 0)), so every figure is hand-checkable;
 * then the paper's short-vs-homogeneous ratio on the real A100 model.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "models/capacity.h"
#include "models/gpu.h"
#include "models/llm.h"
#include "models/memory.h"

static cap_mix uniform_mix(int64_t p, int64_t o, int n)
{
	cap_mix m;

	memset(&m, 0, sizeof m);
	for (int i = 0; i < n; i++)
		cap_mix_add(&m, p, o);
	return m;
}

static void test_toy(void)
{
	perf_model pm;
	cap_engine e;
	cap_result r;
	cap_mix m = uniform_mix(1000, 100, 10);
	fs_err err = {0};

	perf_init_linear(&pm, 0.01, 0.0);
	e = (cap_engine){.perf = &pm, .kv_tokens = 1 << 30, .block_size = 16, .max_num_seqs = 16,
			 .max_num_batched_tokens = 8192, .tp = 4};
	/* P 1000, O 100: s_p = max(1, 1000/8192) = 1, 101 steps per slot; 16 seqs ->
	 * lambda = 16/101 per step; the budget allows 8192/1100 = 7.45: seqs bind.
	 * 10 ms steps -> 15.84 req/s, 3.96 per GPU, 1584 output tok/s. */
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &r, &err), 0);
	CU_ASSERT_EQUAL(r.bound, CAP_BOUND_SEQS);
	CU_ASSERT_DOUBLE_EQUAL(r.rps, 1600.0 / 101.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.rps_per_gpu, 400.0 / 101.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.output_tps, 160000.0 / 101.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(r.concurrency, 16.0, 1e-9);
	/* 128 seqs: 8x the rate (the paper's rho for a concurrency-bound pool). */
	e.max_num_seqs = 128;
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &r, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(r.rps, 12800.0 / 101.0, 1e-9);
	/* KV bound: c = 1000 + 100/2 + 16/2 = 1058 tokens per running request; a cache of
	 * 20 x 1058 tokens holds 20 < 128 sequences -> 20/101 per step. */
	e.kv_tokens = 20 * 1058;
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &r, &err), 0);
	CU_ASSERT_EQUAL(r.bound, CAP_BOUND_KV);
	CU_ASSERT_DOUBLE_EQUAL(r.kv_concurrency, 20.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.rps, 2000.0 / 101.0, 1e-9);
	/* Token budget: B = 512 -> s_p = 1000/512 = 1.953; seqs would allow
	 * 128/101.953 = 1.256 per step, the budget 512/1100 = 0.4655: budget binds,
	 * 46.55 req/s. */
	e.kv_tokens = 1 << 30;
	e.max_num_batched_tokens = 512;
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &r, &err), 0);
	CU_ASSERT_EQUAL(r.bound, CAP_BOUND_BUDGET);
	CU_ASSERT_DOUBLE_EQUAL(r.rps, 51200.0 / 1100.0, 1e-9);
	/* Bad input is an error, never a zero. */
	memset(&m, 0, sizeof m);
	CU_ASSERT_EQUAL(cap_replica(&e, &m, &r, &err), -1);
	m = uniform_mix(1000, 100, 1);
	e.max_num_seqs = 0;
	CU_ASSERT_EQUAL(cap_replica(&e, &m, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "max_num_seqs 0"));
}

/* The paper's layout on A100 TP4, Llama-3-70B BF16.  For a decode-heavy chat mix
 * (500 in, 100 out) the short pool (128 seqs, 16384 budget) out-serves the
 * homogeneous pool (16 seqs, 8192 budget) by a wide margin, but by less than the 8x
 * concurrency ratio, because bigger batches make each step longer.  For a
 * prefill-heavy code mix (2000 in, 30 out, Azure-code-like) both are compute bound
 * on prefill and concurrency buys almost nothing: rho stays near 1. */
static void test_paper_ratio(void)
{
	gpu_spec g;
	llm_spec l;
	mem_config mc;
	mem_plan plan;
	perf_model pm;
	cap_engine e;
	cap_result hom, sh;
	cap_mix m = uniform_mix(500, 100, 1), code = uniform_mix(2000, 30, 1);
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(gpu_lookup("a100", &g, &err), 0);
	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3-70b", &l, &err), 0);
	mem_config_default(&mc);
	mc.tp = 4;
	CU_ASSERT_EQUAL_FATAL(mem_plan_compute(&g, &l, &mc, &plan, &err), 0);
	CU_ASSERT_EQUAL_FATAL(perf_init(&pm, &g, &l, &mc, &err), 0);
	e = (cap_engine){.perf = &pm, .kv_tokens = plan.kv_tokens, .block_size = 16,
			 .max_num_seqs = 16, .max_num_batched_tokens = 8192, .tp = 4};
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &hom, &err), 0);
	e.max_num_seqs = 128;
	e.max_num_batched_tokens = 16384;
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &m, &sh, &err), 0);
	CU_ASSERT_EQUAL(hom.bound, CAP_BOUND_SEQS);
	CU_ASSERT(sh.rps / hom.rps > 1.8);
	CU_ASSERT(sh.rps / hom.rps < 8.0);
	CU_ASSERT(sh.step_s > hom.step_s);
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &code, &sh, &err), 0);
	e.max_num_seqs = 16;
	e.max_num_batched_tokens = 8192;
	CU_ASSERT_EQUAL_FATAL(cap_replica(&e, &code, &hom, &err), 0);
	CU_ASSERT(sh.rps / hom.rps > 1.0);
	CU_ASSERT(sh.rps / hom.rps < 1.3);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("capacity", NULL, NULL);
	if (!s || !CU_add_test(s, "hand-checkable toy engine", test_toy) ||
	    !CU_add_test(s, "paper layout on A100", test_paper_ratio))
		return -1;
	return 0;
}
