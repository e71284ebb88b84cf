/* CUnit suite for api/fleetsim.c, libfleetsim's public API: an in-memory scenario run
 * end to end and checked against the step model by hand; options (policy filter,
 * seed, database); errors as statuses with file:line messages. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "fleetsim/fleetsim.h"
#include "models/perf.h"
#include "tutil.h"

/* One request at a time on one replica (200 s between arrivals on average; a request
 * takes well under a second): every TTFT is one
 * 1000-token prefill step, every TPOT one decode step at its context. */
static const char yaml[] =
	"name: api-light\n"
	"seed: 7\n"
	"workload:\n"
	"  synthetic:\n"
	"    requests: 20\n"
	"    arrival: {process: poisson, rate: 0.005}\n"
	"    input: {dist: constant, value: 1000}\n"
	"    output: {dist: constant, value: 2}\n"
	"model: llama-3.1-8b\n"
	"policies:\n"
	"  - name: single\n"
	"    pools:\n"
	"      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192}\n"
	"  - name: two\n"
	"    pools:\n"
	"      - {name: all, gpu: h100, replicas: 2, max_model_len: 8192}\n";

static double step_s(int64_t context, int64_t chunk)
{
	gpu_spec g;
	llm_spec m;
	mem_config c;
	perf_model p;
	perf_batch b = {0};
	fs_err err = {0};

	if (gpu_lookup("h100", &g, &err) || llm_lookup("llama-3.1-8b", &m, &err))
		return -1;
	mem_config_default(&c);
	if (perf_init(&p, &g, &m, &c, &err))
		return -1;
	if (chunk)
		perf_batch_add_prefill(&b, context, chunk);
	else
		perf_batch_add_decode(&b, context);
	return (double)perf_step_ns(&p, &b) / 1e9;
}

static void test_run_yaml(void)
{
	fsim_options o;
	fsim_run *r = NULL;
	fsim_summary s;
	char err[512] = "", *json, *cmp;

	fsim_options_init(&o);
	CU_ASSERT_EQUAL_FATAL(fsim_run_yaml("mem.yaml", yaml, strlen(yaml), NULL, &o, &r, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(fsim_scenario_name(r), "api-light");
	CU_ASSERT_EQUAL(fsim_seed(r), 7);
	CU_ASSERT_EQUAL(fsim_policy_count(r), 2);
	CU_ASSERT_EQUAL(fsim_pool_count(r, 0), 1);
	CU_ASSERT_EQUAL(fsim_pool_count(r, 9), 0);
	CU_ASSERT_EQUAL(fsim_run_id(r, 0), 0); /* no database */
	CU_ASSERT_EQUAL_FATAL(fsim_summary_get(r, 0, -1, &s), FSIM_OK);
	CU_ASSERT_STRING_EQUAL(s.policy, "single");
	CU_ASSERT_STRING_EQUAL(s.pool, "*");
	CU_ASSERT_EQUAL(s.gpus, 1);
	CU_ASSERT_EQUAL(s.requests, 20);
	CU_ASSERT_EQUAL(s.completed, 20);
	/* Alone on the replica: TTFT = the prefill step, TPOT = the decode step. */
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_p99_s, step_s(0, 1000), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.tpot_p99_s, step_s(1000, 0), 1e-9);
	CU_ASSERT_EQUAL(fsim_summary_get(r, 0, 1, &s), FSIM_ERR_INPUT);
	CU_ASSERT_EQUAL(fsim_summary_get(r, 2, -1, &s), FSIM_ERR_INPUT);
	CU_ASSERT_EQUAL_FATAL(fsim_summary_get(r, 1, 0, &s), FSIM_OK);
	CU_ASSERT_STRING_EQUAL(s.pool, "all");
	CU_ASSERT_EQUAL(s.gpus, 2);
	json = fsim_run_json(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(json);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"scenario\":\"api-light\""));
	CU_ASSERT_PTR_NULL(strstr(json, "\"db\":"));
	free(json);
	cmp = fsim_run_comparison_text(r); /* no token_budget policy: nothing to compare */
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmp);
	CU_ASSERT_STRING_EQUAL(cmp, "");
	free(cmp);
	fsim_run_free(r);
}

static void test_options(void)
{
	const char *only[] = {"two"}, *sets[] = {"workload.synthetic.requests=5"};
	fsim_options o;
	fsim_run *r = NULL;
	fsim_summary s;
	char err[512] = "", db[512];

	CU_ASSERT_EQUAL_FATAL(tu_path(db, sizeof db, "api.db"), 0);
	fsim_options_init(&o);
	o.policies = only;
	o.npolicies = 1;
	o.sets = sets;
	o.nsets = 1;
	o.seed = 99;
	o.db_path = db;
	CU_ASSERT_EQUAL_FATAL(fsim_run_yaml("mem.yaml", yaml, strlen(yaml), NULL, &o, &r, err, sizeof err), 0);
	CU_ASSERT_EQUAL(fsim_policy_count(r), 1);
	CU_ASSERT_EQUAL(fsim_seed(r), 99);
	CU_ASSERT_EQUAL(fsim_run_id(r, 0), 1);
	CU_ASSERT_EQUAL_FATAL(fsim_summary_get(r, 0, -1, &s), FSIM_OK);
	CU_ASSERT_STRING_EQUAL(s.policy, "two");
	CU_ASSERT_EQUAL(s.requests, 5);
	fsim_run_free(r);
	/* A policy the scenario does not have. */
	only[0] = "three";
	CU_ASSERT_EQUAL(fsim_run_yaml("mem.yaml", yaml, strlen(yaml), NULL, &o, &r, err, sizeof err),
			FSIM_ERR_INPUT);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "mem.yaml has no policy 'three'"));
}

static void test_errors(void)
{
	static const char bad[] = "name: x\nmodel: llama-3.1-8b\nworkload: {synthetic: {requests: -1}}\n";
	fsim_options o;
	fsim_run *r = NULL;
	char err[512] = "";

	fsim_options_init(&o);
	CU_ASSERT_EQUAL(fsim_run_yaml("bad.yaml", bad, strlen(bad), NULL, &o, &r, err, sizeof err),
			FSIM_ERR_INPUT);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad.yaml:3:"));
	CU_ASSERT_EQUAL(fsim_run_file(FS_SOURCE_DIR "/no/such.yaml", &o, &r, err, sizeof err), FSIM_ERR_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no/such.yaml"));
	/* A zero-size buffer is allowed. */
	CU_ASSERT_EQUAL(fsim_run_file(FS_SOURCE_DIR "/no/such.yaml", &o, &r, NULL, 0), FSIM_ERR_INPUT);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("api", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "run an in-memory scenario", test_run_yaml) ||
	    !CU_add_test(s, "options: policies, --set, seed, database", test_options) ||
	    !CU_add_test(s, "errors", test_errors))
		return -1;
	return 0;
}
