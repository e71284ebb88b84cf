/*
 * CUnit suite for sim/fleet.c: the event loop driving pools of replicas, replica
 * choice, rejection, conservation and per-pool totals.  The pools' perf models are
 * replaced by a hand-computable one: every step costs 10 ms + 1 ms per token.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/fleet.h"
#include "traces/trace.h"
#include "tutil.h"

static const char *write_trace(const char *name, const char *body)
{
	static char path[512];
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, name), 0);
	f = fopen(path, "w");
	fputs("arrival_s,input_tokens,output_tokens,max_tokens\n", f);
	fputs(body, f);
	fclose(f);
	return path;
}

/* One pool of n H100 replicas of Llama-3.1-8B with the toy step model. */
static void make_pool(pool_cfg *p, const char *name, int n, int max_model_len, const llm_spec *m)
{
	fs_err err = {0};

	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &p->gpu, &err), 0);
	p->replicas = n;
	mem_config_default(&p->mem);
	p->max_model_len = max_model_len;
	p->max_num_seqs = 256;
	p->max_num_batched_tokens = 8192;
	p->enable_prefix_caching = 1;
	CU_ASSERT_EQUAL_FATAL(fleet_pool_prepare(p, m, &err), 0);
	perf_init_linear(&p->perf, 0.010, 0.001);
}

static int run(policy_cfg *pol, const char *trace, int drain, metrics **m, fleet_result *res)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *tr = NULL;
	fleet_opts fo = {.drain = drain, .metrics_interval = 1000000000LL, .seed = 1,
			 .check_invariants = 1};
	fs_err err = {0};
	int rc;

	CU_ASSERT_EQUAL_FATAL(trace_open_file(trace, &o, &tr, &err), 0);
	CU_ASSERT_EQUAL_FATAL(metrics_create(m), 0);
	rc = fleet_run(pol, tr, &fo, *m, res, &err);
	if (rc)
		fprintf(stderr, "fleet_run: %s\n", err.msg);
	trace_close(tr);
	return rc;
}

static void test_lone_request(void)
{
	llm_spec m;
	policy_cfg pol;
	metrics *mx;
	fleet_result res;
	metrics_summary s;
	fs_err err = {0};
	mx_slo slo = {0};
	const mx_request *r;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.npools = 1;
	make_pool(&pol.pools[0], "all", 1, 8192, &m);
	/* Prefill of 100 tokens: 10 + 100 = 110 ms -> first token at 0.110 s; two decode
	 * steps of 11 ms -> finish at 0.132 s; TPOT = 0.022 / 2 = 0.011 s. */
	CU_ASSERT_EQUAL_FATAL(run(&pol, write_trace("one.csv", "0,100,3,\n"), 1, &mx, &res), 0);
	r = metrics_requests(mx, &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_DOUBLE_EQUAL(r[0].ttft_s, 0.110, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r[0].finish_s, 0.132, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r[0].tpot_s, 0.011, 1e-9);
	CU_ASSERT_EQUAL(res.end, 132000000);
	CU_ASSERT_EQUAL(res.pools[0].steps, 3);
	CU_ASSERT_EQUAL(res.pools[0].busy_ns, 132000000);
	CU_ASSERT_EQUAL(fleet_summarize(&pol, &res, mx, &slo, -1, &s, &err), 0);
	CU_ASSERT_STRING_EQUAL(s.pool, "*");
	CU_ASSERT_EQUAL(s.completed, 1);
	CU_ASSERT_DOUBLE_EQUAL(s.gpu_busy_s, 0.132, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.gpu_hours, 0.132 / 3600, 1e-12);
	metrics_destroy(mx);
}

static void test_round_robin_and_rejection(void)
{
	llm_spec m;
	policy_cfg pol;
	metrics *mx;
	fleet_result res;
	fs_err err = {0};
	const mx_request *r;
	size_t n;
	int per_replica[2] = {0, 0};

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.router.balance = BAL_ROUND_ROBIN;
	pol.npools = 1;
	make_pool(&pol.pools[0], "all", 2, 1024, &m);
	/* Four requests at t=0 alternate between the two replicas; the fifth asks for
	 * 1000 + 100 tokens with max_model_len 1024 and is rejected at once. */
	CU_ASSERT_EQUAL_FATAL(run(&pol, write_trace("rr.csv", "0,10,2,\n0,10,2,\n0,10,2,\n0,10,2,\n0.5,1000,5,100\n"),
				  1, &mx, &res), 0);
	r = metrics_requests(mx, &n);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	for (size_t i = 0; i < n; i++)
		if (r[i].status == RQ_DONE)
			per_replica[r[i].replica]++;
	CU_ASSERT_EQUAL(per_replica[0], 2);
	CU_ASSERT_EQUAL(per_replica[1], 2);
	CU_ASSERT_EQUAL(res.arrived, 5);
	CU_ASSERT_EQUAL(res.completed, 4);
	CU_ASSERT_EQUAL(res.rejected, 1);
	metrics_destroy(mx);
}

static void test_least_tokens_prefers_idle(void)
{
	llm_spec m;
	policy_cfg pol;
	metrics *mx;
	fleet_result res;
	fs_err err = {0};
	const mx_request *r;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.router.balance = BAL_LEAST_TOKENS;
	pol.npools = 1;
	make_pool(&pol.pools[0], "all", 3, 8192, &m);
	/* A long request takes replica 0; the next two go to the idle replicas 1 and 2,
	 * the fourth to whichever has the fewest outstanding tokens (replica 1, lowest
	 * index among equals). */
	CU_ASSERT_EQUAL_FATAL(run(&pol, write_trace("lt.csv", "0,4000,50,\n0,100,5,\n0,100,5,\n0,10,2,\n"),
				  1, &mx, &res), 0);
	r = metrics_requests(mx, &n);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (size_t i = 0; i < n; i++) {
		if (r[i].id == 0)
			CU_ASSERT_EQUAL(r[i].replica, 0);
		if (r[i].id == 1)
			CU_ASSERT_EQUAL(r[i].replica, 1);
		if (r[i].id == 2)
			CU_ASSERT_EQUAL(r[i].replica, 2);
		if (r[i].id == 3)
			CU_ASSERT_EQUAL(r[i].replica, 1);
	}
	metrics_destroy(mx);
}

static void test_token_budget_pools(void)
{
	llm_spec m;
	policy_cfg pol;
	metrics *mx;
	fleet_result res;
	metrics_summary s0, s1;
	fs_err err = {0};
	mx_slo slo = {0};

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.router.type = ROUTER_TOKEN_BUDGET;
	pol.router.estimator = EST_ORACLE;
	pol.router.nthresholds = 1;
	pol.router.thresholds[0] = 2048;
	pol.npools = 2;
	make_pool(&pol.pools[0], "short", 1, 2048, &m);
	make_pool(&pol.pools[1], "long", 1, 16384, &m);
	/* Totals 1010, 5010, 2048, 2049: short, long, short, long. */
	CU_ASSERT_EQUAL_FATAL(run(&pol, write_trace("tb.csv", "0,1000,10,\n0,5000,10,\n1,2000,48,\n1,2000,49,\n"),
				  1, &mx, &res), 0);
	CU_ASSERT_EQUAL(fleet_summarize(&pol, &res, mx, &slo, 0, &s0, &err), 0);
	CU_ASSERT_EQUAL(fleet_summarize(&pol, &res, mx, &slo, 1, &s1, &err), 0);
	CU_ASSERT_EQUAL(s0.requests, 2);
	CU_ASSERT_EQUAL(s1.requests, 2);
	CU_ASSERT_DOUBLE_EQUAL(s0.traffic_share, 0.5, 1e-12);
	CU_ASSERT_EQUAL(s0.misroutes + s1.misroutes, 0);
	CU_ASSERT_EQUAL(s0.gpus + s1.gpus, 2);
	metrics_destroy(mx);
}

static void test_no_drain(void)
{
	llm_spec m;
	policy_cfg pol;
	metrics *mx;
	fleet_result res;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.npools = 1;
	make_pool(&pol.pools[0], "all", 1, 8192, &m);
	/* The second arrival (t = 0.05 s) ends the trace while the first request is still
	 * prefilling (its step ends at 0.11 s): both are unfinished, and only the 50 ms
	 * of the step before the end count as busy time. */
	CU_ASSERT_EQUAL_FATAL(run(&pol, write_trace("nd.csv", "0,100,3,\n0.05,100,3,\n"), 0, &mx, &res), 0);
	CU_ASSERT_EQUAL(res.unfinished, 2);
	CU_ASSERT_EQUAL(res.completed, 0);
	CU_ASSERT_EQUAL(res.end, 50000000);
	CU_ASSERT_EQUAL(res.pools[0].busy_ns, 50000000);
	metrics_destroy(mx);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("fleet", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "lone request timing", test_lone_request) ||
	    !CU_add_test(s, "round robin and rejection", test_round_robin_and_rejection) ||
	    !CU_add_test(s, "least tokens prefers idle", test_least_tokens_prefers_idle) ||
	    !CU_add_test(s, "token budget pools", test_token_budget_pools) ||
	    !CU_add_test(s, "no drain", test_no_drain))
		return -1;
	return 0;
}
