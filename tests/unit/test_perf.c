/* CUnit suite for perf_init: the roofline constants, checked by hand on an ideal GPU. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "models/perf.h"

/* H100 figures with perfect efficiencies and no overheads: the bare roofline. */
static void ideal(const char *name, gpu_spec *g)
{
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(gpu_lookup(name, g, &err), 0);
	g->compute_eff = g->mem_eff = g->link_eff = 1.0;
	g->attn_eff = 0;
	g->step_overhead_s = g->link_latency_s = 0;
	g->prefill_seq_tokens = 0;
}

/* perf_step_ns rounds up without libm's ceil: it must agree with ceil() on every
 * batch, including exact multiples of a nanosecond and sub-nanosecond steps. */
static void test_step_ns_rounding(void)
{
	perf_model p;
	uint64_t x = 88172645463325252ULL;

	memset(&p, 0, sizeof p);
	/* 1 ns per token exactly: whole nanoseconds must not round up. */
	p.overhead_s = 0;
	p.flops_per_token = 1.0;
	p.s_per_flop = 1e-9;
	for (int64_t n = 1; n < 5000; n++) {
		perf_batch b = {n, 1, 0.0, 0.0, 0};

		CU_ASSERT_EQUAL(perf_step_ns(&p, &b), (int64_t)ceil(perf_step_s(&p, &b) * 1e9));
	}
	/* A 0.25 ns step is 1 ns (at least 1), an empty batch 1 ns. */
	p.s_per_flop = 0.25e-9;
	{
		perf_batch b = {1, 1, 0.0, 0.0, 0}, e = {0, 0, 0.0, 0.0, 0};

		CU_ASSERT_EQUAL(perf_step_ns(&p, &b), 1);
		CU_ASSERT_EQUAL(perf_step_ns(&p, &e), 1);
	}
	/* Random models and batches (xorshift), against ceil(). */
	for (int i = 0; i < 200000; i++) {
		perf_batch b;
		double want;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p.s_per_flop = 1e-15 * (double)(x % 100000 + 1);
		p.s_per_byte = 1e-13 * (double)(x >> 40 & 0xFFFF);
		p.flops_per_token = (double)(x >> 20 & 0xFFFFF);
		p.attn_flops_per_pair = (double)(x >> 50);
		p.weight_bytes = (double)(x & 0xFFFFFFF) * 100.0;
		p.kv_bytes_per_token = (double)(x >> 30 & 0xFFFF);
		p.overhead_s = 1e-6 * (double)(x >> 58);
		b.tokens = (int64_t)(x % 9000);
		b.seqs = 1;
		b.attn_pairs = (double)(x >> 12 & 0xFFFFFFF);
		b.kv_read = (double)(x >> 24 & 0xFFFFF);
		b.prefill_seqs = 0;
		want = ceil(perf_step_s(&p, &b) * 1e9);
		CU_ASSERT_EQUAL(perf_step_ns(&p, &b), want < 1.0 ? 1 : (int64_t)want);
	}
}

static void test_prefill_seq(void)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	perf_model p;
	perf_batch one = {0}, four = {0};
	fs_err err = {0};

	/* Ideal H100, Llama-3-70B, TP 2, 100 tokens per prompt: each prompt costs the
	 * GEMM time of 100 more tokens, 100 x 139,006,066,688 / (2 x 989e12) =
	 * 7.0276 ms, independent of its length. */
	ideal("h100", &g);
	g.prefill_seq_tokens = 100;
	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3-70b", &m, &err), 0);
	mem_config_default(&c);
	c.tp = 2;
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(p.prefill_seq_s, 100 * 139006066688.0 / (2 * 989e12), 1e-12);
	/* One 2048-token prompt vs four of 512: same tokens; the four pay 3 more
	 * per-prompt costs but 4x less attention (4 x 512 x 513 / 2 vs 2048 x 2049 / 2
	 * pairs = 525,312 vs 2,098,176: 1,572,864 fewer x 2,621,440 FLOPs over 2 x 989e12). */
	perf_batch_add_prefill(&one, 0, 2048);
	for (int i = 0; i < 4; i++)
		perf_batch_add_prefill(&four, 0, 512);
	CU_ASSERT_EQUAL(one.prefill_seqs, 1);
	CU_ASSERT_EQUAL(four.prefill_seqs, 4);
	CU_ASSERT_DOUBLE_EQUAL(perf_step_s(&p, &four) - perf_step_s(&p, &one),
			       3 * p.prefill_seq_s - 1572864.0 * 2621440.0 / (2 * 989e12), 1e-9);
	/* Decodes pay nothing per sequence. */
	perf_batch_add_decode(&one, 10);
	CU_ASSERT_EQUAL(one.prefill_seqs, 1);
	g.prefill_seq_tokens = -1;
	CU_ASSERT_EQUAL(perf_init(&p, &g, &m, &c, &err), -1);
}

static void test_roofline(void)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	perf_model p;
	perf_batch b = {0};
	fs_err err = {0};

	ideal("h100", &g);
	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3-70b", &m, &err), 0);
	mem_config_default(&c);
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	/* 2 x (70,553,706,496 - 1,050,673,152 input embedding) = 139,006,066,688. */
	CU_ASSERT_DOUBLE_EQUAL(p.flops_per_token, 139006066688.0, 1);
	/* 4 x 80 layers x 64 heads x 128 = 2,621,440 FLOPs per (query, key) pair. */
	CU_ASSERT_DOUBLE_EQUAL(p.attn_flops_per_pair, 2621440.0, 0);
	CU_ASSERT_EQUAL(p.ar_s_per_token, 0);
	/* Decode of one sequence at context 0: memory bound,
	 * (141,107,412,992 + 327,680) B / 3.35e12 B/s = 0.0421217 s. */
	perf_batch_add_decode(&b, 0);
	CU_ASSERT_DOUBLE_EQUAL(perf_step_s(&p, &b), 141107740672.0 / 3.35e12, 1e-9);

	/* TP 4: 2 all-reduces x 80 layers x 8192 x 2 B x 2(4-1)/4 = 3,932,160 B per token
	 * over 450 GB/s = 8.738 us per token. */
	c.tp = 4;
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(p.ar_s_per_token, 3932160.0 / 450e9, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(p.s_per_flop, 1.0 / (4 * 989e12), 1e-30);

	/* NVFP4: weight-only on Hopper (BF16 rate), FP4 rate on B200. */
	c.tp = 1;
	c.weights = PREC_NVFP4;
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(p.s_per_flop, 1.0 / 989e12, 1e-30);
	CU_ASSERT_DOUBLE_EQUAL(p.weight_bytes, 42709041152.0, 1);
	ideal("b200", &g);
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(p.s_per_flop, 1.0 / 9000e12, 1e-30);
	c.tp = 0;
	CU_ASSERT_EQUAL(perf_init(&p, &g, &m, &c, &err), -1);
}

static void test_spec_example(void)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	perf_model p;
	perf_batch pre = {0}, dec = {0};
	fs_err err = {0};

	/* SPEC section 4: Llama-2-70B on 4 x A100, measured 8192-token prefill ~2.3 s,
	 * decode at batch 1 ~45 ms.  The calibrated catalog A100 lands within 20 %. */
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("a100", &g, &err), 0);
	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-2-70b", &m, &err), 0);
	mem_config_default(&c);
	c.tp = 4;
	CU_ASSERT_EQUAL_FATAL(perf_init(&p, &g, &m, &c, &err), 0);
	perf_batch_add_prefill(&pre, 0, 8192);
	perf_batch_add_decode(&dec, 512);
	CU_ASSERT(perf_step_s(&p, &pre) > 2.3 * 0.8 && perf_step_s(&p, &pre) < 2.3 * 1.2);
	CU_ASSERT(perf_step_s(&p, &dec) > 0.045 * 0.8 && perf_step_s(&p, &dec) < 0.045 * 1.2);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("perf", NULL, NULL);
	if (!s || !CU_add_test(s, "roofline constants", test_roofline) ||
	    !CU_add_test(s, "SPEC example", test_spec_example) ||
	    !CU_add_test(s, "per-prompt prefill cost", test_prefill_seq) ||
	    !CU_add_test(s, "step ns rounding agrees with ceil", test_step_ns_rounding))
		return -1;
	return 0;
}
