/*
 * CUnit suite for sim/router: each estimator's pool choice and mis-route flag on
 * hand-made requests, the max_model_len guard, spill-over under a burst, N-pool
 * thresholds, and the bytes_ema update rule.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "sim/router.h"

/* The paper's dual layout: short pool holds 8192 tokens, long 65536. */
static const router_pool_view dual_pools[2] = {
	{.max_model_len = 8192, .replicas = 2},
	{.max_model_len = 65536, .replicas = 1},
};

static sim_req mkreq(int32_t prompt, int32_t out, int32_t max_tokens, int32_t cat, int32_t bytes)
{
	sim_req q;

	memset(&q, 0, sizeof q);
	q.prompt = prompt;
	q.true_output = out;
	q.output = out < 1 ? 1 : out;
	q.max_tokens = max_tokens;
	q.category = cat;
	q.prompt_bytes = bytes;
	return q;
}

static router *mk(router_estimator est, int nth, const int64_t *th, router_cfg *out_cfg)
{
	router_cfg c;
	router *r = NULL;
	fs_err err = {0};

	router_cfg_default(&c);
	c.type = ROUTER_TOKEN_BUDGET;
	c.estimator = est;
	c.nthresholds = nth;
	for (int i = 0; i < nth; i++)
		c.thresholds[i] = th[i];
	if (out_cfg) {
		/* caller's overrides on top of the defaults */
		out_cfg->type = c.type;
		out_cfg->estimator = est;
		out_cfg->nthresholds = nth;
		for (int i = 0; i < nth; i++)
			out_cfg->thresholds[i] = th[i];
		c = *out_cfg;
	}
	CU_ASSERT_FATAL(router_create(&c, nth + 1, 1, &r, &err) == 0);
	return r;
}

static const int64_t th8k[1] = {8192};

static void test_oracle(void)
{
	router *r = mk(EST_ORACLE, 1, th8k, NULL);
	sim_req a = mkreq(8000, 192, -1, 0, -1), b = mkreq(8000, 193, -1, 0, -1);

	/* 8000 + 192 = 8192 <= threshold: short; one more token: long.  Oracle never
	 * mis-routes. */
	CU_ASSERT_EQUAL(router_pick_pool(r, &a, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(a.est_tokens, 8192);
	CU_ASSERT_EQUAL(a.misrouted, 0);
	CU_ASSERT_EQUAL(router_pick_pool(r, &b, dual_pools, 2), 1);
	CU_ASSERT_EQUAL(b.misrouted, 0);
	router_destroy(r);
}

static void test_max_tokens(void)
{
	router *r = mk(EST_MAX_TOKENS, 1, th8k, NULL);
	/* est = prompt + max_tokens (256 when absent). */
	sim_req reqs[4] = {
		mkreq(7000, 50, 2000, 0, -1),  /* est 9000 long, truth 7050 short: misroute */
		mkreq(7000, 1500, -1, 0, -1),  /* est 7256 short, truth 8500 long: misroute */
		mkreq(1000, 100, 500, 0, -1),  /* est 1500 short, truth 1100 short */
		mkreq(9000, 10, 100, 0, -1),   /* est 9100 long, truth 9010 long */
	};
	int want[4] = {1, 0, 0, 1}, mis = 0;

	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(router_pick_pool(r, &reqs[i], dual_pools, 2), want[i]);
		mis += reqs[i].misrouted;
	}
	CU_ASSERT_EQUAL(reqs[0].est_tokens, 9000);
	CU_ASSERT_EQUAL(reqs[1].est_tokens, 7256);
	CU_ASSERT_EQUAL(reqs[0].misrouted, 1);
	CU_ASSERT_EQUAL(reqs[1].misrouted, 1);
	CU_ASSERT_EQUAL(mis, 2);
	router_destroy(r);
}

static void test_percentile(void)
{
	router_cfg c;
	router *r;
	sim_req q;

	router_cfg_default(&c);
	c.percentile = 0.9;
	c.percentile_window = 4;
	r = mk(EST_PERCENTILE, 1, th8k, &c);
	/* Cold category: falls back to the max_tokens bound, 7800 + 256 = 8056. */
	q = mkreq(7800, 500, -1, 1, -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(q.est_tokens, 8056);
	CU_ASSERT_EQUAL(q.misrouted, 1); /* truth 8300 */
	for (int o = 100; o <= 400; o += 100) {
		sim_req d = mkreq(10, o, -1, 1, -1);
		router_observe(r, &d);
	}
	/* Window {100,200,300,400}: P90 at rank 0.9 x 3 = 2.7 -> 300 + 0.7 x 100 = 370. */
	q = mkreq(7800, 500, -1, 1, -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(q.est_tokens, 8170);
	CU_ASSERT_EQUAL(q.misrouted, 1);
	/* Another category is still cold. */
	q = mkreq(7800, 100, -1, 2, -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(q.est_tokens, 8056);
	CU_ASSERT_EQUAL(q.misrouted, 0);
	/* A fifth output overwrites the oldest: {1000,200,300,400} sorted
	 * {200,300,400,1000}: 400 + 0.7 x 600 = 820 -> 8620, long; truth 8300: right. */
	{
		sim_req d = mkreq(10, 1000, -1, 1, -1);
		router_observe(r, &d);
	}
	q = mkreq(7800, 500, -1, 1, -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 1);
	CU_ASSERT_EQUAL(q.est_tokens, 8620);
	CU_ASSERT_EQUAL(q.misrouted, 0);
	router_destroy(r);
}

static void test_bytes_ema(void)
{
	router_cfg c;
	router *r;
	sim_req q;

	router_cfg_default(&c);
	c.ema_alpha = 0.5;
	c.ema_gamma = 1.0;
	c.bytes_noise = 0.0;
	r = mk(EST_BYTES_EMA, 1, th8k, &c);
	/* Cold start c* = 4.0 (sigma 0).  Code at 3.2 bytes/token: 32000 bytes look like
	 * 8000 tokens, + max_tokens 100 = 8100 -> short, but the truth is 10050 -> long:
	 * a mis-route; the guard still sends it long (prompt 10000 >= 8192). */
	CU_ASSERT_DOUBLE_EQUAL(router_ema_ratio(r, 5), 4.0, 1e-12);
	q = mkreq(10000, 50, 100, 5, 32000);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 1);
	CU_ASSERT_EQUAL(q.est_tokens, 8100);
	CU_ASSERT_EQUAL(q.misrouted, 1);
	/* Two finished requests at exactly 3.0 bytes/token, alpha 0.5:
	 *   d = -1    c_hat 3.5   var 0.5 x (0 + 0.5 x 1)      = 0.25
	 *   d = -0.5  c_hat 3.25  var 0.5 x (0.25 + 0.5 x 0.25) = 0.1875
	 * c* = 3.25 - sqrt(0.1875) = 2.81699 */
	for (int i = 0; i < 2; i++) {
		sim_req d = mkreq(1000, 10, -1, 5, 3000);
		router_observe(r, &d);
	}
	CU_ASSERT_DOUBLE_EQUAL(router_ema_ratio(r, 5), 3.25 - 0.4330127018922193, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(router_ema_ratio(r, 6), 4.0, 1e-12); /* per category */
	/* 24000 / 2.81699 = 8519.74 -> 8520 + 100 = 8620: long; truth 8000 + 50 short
	 * (the conservative ratio over-estimates: a mis-route toward the safe side). */
	q = mkreq(8000, 50, 100, 5, 24000);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 1);
	CU_ASSERT_EQUAL(q.est_tokens, 8620);
	CU_ASSERT_EQUAL(q.misrouted, 1);
	/* 22000 bytes: 7809.76 -> 7810 + 100 = 7910 short; truth 7000 + 50 short. */
	q = mkreq(7000, 50, 100, 5, 22000);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(q.est_tokens, 7910);
	CU_ASSERT_EQUAL(q.misrouted, 0);
	/* No bytes in the trace, noise 0: bytes = 4.0 x prompt exactly; category 6 is
	 * still at c* = 4.0 so the estimate is the prompt + max_tokens. */
	q = mkreq(3000, 10, 200, 6, -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &q, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(q.prompt_bytes, 12000);
	CU_ASSERT_EQUAL(q.est_tokens, 3200);
	router_destroy(r);
}

static void test_guard(void)
{
	router *r = mk(EST_ORACLE, 1, th8k, NULL);
	/* Oracle says short (1500) but max_tokens 9000 makes vLLM reject it in the short
	 * pool (1000 + 9000 > 8192): the guard sends it long. */
	sim_req a = mkreq(1000, 500, 9000, 0, -1);
	/* Fits nowhere: 20000 + 50000 > 65536 -> -1, the caller rejects. */
	sim_req b = mkreq(20000, 10, 50000, 0, -1);
	/* Prompt alone equal to max_model_len is rejected by vLLM too. */
	sim_req c = mkreq(65536, 1, -1, 0, -1);
	router_cfg bc;
	router *bal = NULL;
	fs_err err = {0};

	CU_ASSERT_EQUAL(router_pick_pool(r, &a, dual_pools, 2), 1);
	CU_ASSERT_EQUAL(a.misrouted, 0);
	CU_ASSERT_EQUAL(router_pick_pool(r, &b, dual_pools, 2), -1);
	CU_ASSERT_EQUAL(router_pick_pool(r, &c, dual_pools, 2), -1);
	router_destroy(r);
	/* balance: first pool that fits. */
	router_cfg_default(&bc);
	CU_ASSERT_FATAL(router_create(&bc, 2, 1, &bal, &err) == 0);
	a = mkreq(1000, 500, 9000, 0, -1);
	CU_ASSERT_EQUAL(router_pick_pool(bal, &a, dual_pools, 2), 1);
	a = mkreq(1000, 500, -1, 0, -1);
	CU_ASSERT_EQUAL(router_pick_pool(bal, &a, dual_pools, 2), 0);
	CU_ASSERT_EQUAL(router_pick_pool(bal, &b, dual_pools, 2), -1);
	router_destroy(bal);
}

static void test_spillover_burst(void)
{
	router_cfg c;
	router *r;
	router_pool_view v[2];
	int got[2] = {0, 0}, first_long = -1;

	router_cfg_default(&c);
	c.spillover = 1;
	c.spill_waiting_per_replica = 4.0;
	c.spill_kv_usage = 0.95;
	r = mk(EST_ORACLE, 1, th8k, &c);
	memcpy(v, dual_pools, sizeof v);
	/* 40 short requests arrive at once; nothing finishes, so each routed request
	 * waits.  Short (2 replicas) is overloaded once waiting/2 > 4, i.e. from the
	 * 10th request; long (1 replica) takes 5 (waiting 0..4) before it is overloaded
	 * too; then nothing is better and the rest stay short: 9 + 26 = 35 short, 5 long. */
	for (int i = 0; i < 40; i++) {
		sim_req q = mkreq(500, 100, -1, 0, -1);
		int p = router_pick_pool(r, &q, v, 2);
		CU_ASSERT_FATAL(p == 0 || p == 1);
		CU_ASSERT_EQUAL(q.misrouted, 0); /* spilling is not mis-routing */
		if (p == 1 && first_long < 0)
			first_long = i;
		got[p]++;
		v[p].waiting++;
	}
	CU_ASSERT_EQUAL(first_long, 9);
	CU_ASSERT_EQUAL(got[0], 35);
	CU_ASSERT_EQUAL(got[1], 5);
	/* KV bound: short at 97 % KV spills; long requests never spill into a pool that
	 * cannot hold them. */
	memcpy(v, dual_pools, sizeof v);
	v[0].kv_usage = 0.97;
	{
		sim_req q = mkreq(500, 100, -1, 0, -1), l = mkreq(20000, 100, -1, 0, -1);
		CU_ASSERT_EQUAL(router_pick_pool(r, &q, v, 2), 1);
		v[0].kv_usage = 0.0;
		v[1].kv_usage = 0.99;
		CU_ASSERT_EQUAL(router_pick_pool(r, &l, v, 2), 1);
	}
	router_destroy(r);
	/* Without spill-over the burst all goes short. */
	router_cfg_default(&c);
	r = mk(EST_ORACLE, 1, th8k, &c);
	memcpy(v, dual_pools, sizeof v);
	v[0].waiting = 1000;
	{
		sim_req q = mkreq(500, 100, -1, 0, -1);
		CU_ASSERT_EQUAL(router_pick_pool(r, &q, v, 2), 0);
	}
	router_destroy(r);
}

static void test_three_pools(void)
{
	static const int64_t th[2] = {2048, 16384};
	static const router_pool_view v[3] = {
		{.max_model_len = 4096, .replicas = 1},
		{.max_model_len = 32768, .replicas = 1},
		{.max_model_len = 131072, .replicas = 1},
	};
	router *r = mk(EST_ORACLE, 2, th, NULL);
	struct {
		int32_t prompt, out, max_tokens;
		int want;
	} cases[] = {
		{1000, 100, -1, 0},     /* 1100 */
		{1948, 100, -1, 0},     /* 2048: on the first threshold -> lower pool */
		{1949, 100, -1, 1},     /* 2049 */
		{16284, 100, -1, 1},    /* 16384 */
		{16285, 100, -1, 2},    /* 16385 */
		{1000, 500, 5000, 1},   /* class 0 but 6000 > 4096: guard moves up one */
		{1000, 500, 40000, 2},  /* 41000 > 32768: guard moves up two */
		{100000, 100, 40000, -1}, /* 140000 > 131072: nowhere */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sim_req q = mkreq(cases[i].prompt, cases[i].out, cases[i].max_tokens, 0, -1);
		CU_ASSERT_EQUAL(router_pick_pool(r, &q, v, 3), cases[i].want);
		CU_ASSERT_EQUAL(q.misrouted, 0);
	}
	router_destroy(r);
	/* max_tokens estimator across three pools: 1000 + 3500 = 4500 -> middle, truth
	 * 1100 -> first: mis-routed. */
	r = mk(EST_MAX_TOKENS, 2, th, NULL);
	{
		sim_req q = mkreq(1000, 100, 3500, 0, -1);
		CU_ASSERT_EQUAL(router_pick_pool(r, &q, v, 3), 1);
		CU_ASSERT_EQUAL(q.misrouted, 1);
	}
	router_destroy(r);
}

static void test_names(void)
{
	router_estimator e;
	router_type t;
	fs_err err = {0};

	CU_ASSERT_EQUAL(router_parse_estimator("bytes_ema", &e, &err), 0);
	CU_ASSERT_EQUAL(e, EST_BYTES_EMA);
	CU_ASSERT_EQUAL(router_parse_estimator("bytes", &e, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "percentile"));
	CU_ASSERT_EQUAL(router_parse_type("dual", &t, &err), 0);
	CU_ASSERT_EQUAL(t, ROUTER_TOKEN_BUDGET);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("router", NULL, NULL);
	if (!s || !CU_add_test(s, "oracle", test_oracle) ||
	    !CU_add_test(s, "max_tokens estimator and mis-routes", test_max_tokens) ||
	    !CU_add_test(s, "percentile estimator window", test_percentile) ||
	    !CU_add_test(s, "bytes_ema estimator and update", test_bytes_ema) ||
	    !CU_add_test(s, "max_model_len guard", test_guard) ||
	    !CU_add_test(s, "spill-over under a burst", test_spillover_burst) ||
	    !CU_add_test(s, "three pools, two thresholds", test_three_pools) ||
	    !CU_add_test(s, "names", test_names))
		return -1;
	return 0;
}
