/* CUnit suite for scenarios/scenario.c: vLLM defaults, --set overrides, path
 * resolution and FILE:LINE:COL errors. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/engine.h"
#include "scenarios/scenario.h"
#include "tutil.h"

static const char base[] =
	"name: t\n"
	"workload:\n"
	"  trace: data/t.csv\n"
	"model: llama-3.1-8b\n"
	"policies:\n"
	"  - name: single\n"
	"    pools:\n"
	"      - {name: all, gpu: h100, replicas: 2}\n"
	"  - name: dual\n"
	"    router: {type: token_budget, threshold: 4096, estimator: oracle}\n"
	"    pools:\n"
	"      - {name: short, gpu: h100, max_model_len: 4096, max_num_seqs: 128}\n"
	"      - {name: long, gpu: h200, tensor_parallel_size: 2, quantization: fp8}\n";

/* vllm_version: at the top level and per pool switches the defaults (A100: 256 /
 * 2048; 0.16: utilisation 0.9); async_scheduling: overrides the release. */
static void test_vllm_version(void)
{
	static const char yaml[] =
		"model: llama-3.1-8b\n"
		"vllm_version: \"0.16\"\n"
		"workload: {trace: data/t.csv}\n"
		"policies:\n"
		"  - name: a\n"
		"    pools:\n"
		"      - {name: old, gpu: a100}\n"
		"      - {name: new, gpu: h100, vllm_version: 0.21, async_scheduling: false}\n";
	scenario *sc = NULL;
	fs_err err = {0};
	const char *p;
	const pool_cfg *o, *n;

	tu_file("data/t.csv", "arrival_s,input_tokens,output_tokens\n0,10,10\n");
	p = tu_file("v.yaml", yaml);
	CU_ASSERT_EQUAL_FATAL(scenario_load(p, NULL, 0, &sc, &err), 0);
	o = &sc->policies[0].pools[0];
	n = &sc->policies[0].pools[1];
	CU_ASSERT_STRING_EQUAL(o->mem.eng->version, "0.16");
	CU_ASSERT_EQUAL(o->max_num_seqs, 256);
	CU_ASSERT_EQUAL(o->max_num_batched_tokens, 2048);
	CU_ASSERT_DOUBLE_EQUAL(o->mem.gpu_memory_utilization, 0.9, 1e-12);
	CU_ASSERT_EQUAL(o->async_scheduling, 1);
	CU_ASSERT_STRING_EQUAL(n->mem.eng->version, "0.21");
	CU_ASSERT_EQUAL(n->max_num_seqs, 1024);
	CU_ASSERT_DOUBLE_EQUAL(n->mem.gpu_memory_utilization, 0.92, 1e-12);
	CU_ASSERT_EQUAL(n->async_scheduling, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(sc->policies[0].pools[1].name, "new"));
	scenario_free(sc);

	p = tu_file("v2.yaml", "model: llama-3.1-8b\nvllm_version: \"0.7\"\n"
			       "workload: {trace: data/t.csv}\n"
			       "policies: [{pools: [{gpu: h100}]}]\n");
	CU_ASSERT_NOT_EQUAL(scenario_load(p, NULL, 0, &sc, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "v2.yaml:2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "0.7"));
}

static void test_defaults_and_paths(void)
{
	scenario *sc = NULL;
	fs_err err = {0};
	const char *p;

	tu_file("data/t.csv", "arrival_s,input_tokens,output_tokens\n0,10,10\n");
	p = tu_file("s.yaml", base);
	CU_ASSERT_EQUAL_FATAL(scenario_load(p, NULL, 0, &sc, &err), 0);
	CU_ASSERT_EQUAL(sc->npolicies, 2);
	CU_ASSERT_EQUAL(sc->seed, 42);
	/* The newest modelled vLLM release's API-server defaults for an H100 (>= 70 GiB,
	 * not an A100: engine/arg_utils.py get_batch_defaults). */
	CU_ASSERT_PTR_EQUAL(sc->eng, eng_default());
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].max_num_seqs, eng_default()->max_num_seqs[ENG_GPU_LARGE]);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].max_num_seqs, 1024);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].max_num_batched_tokens, 8192);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].mem.block_size, 16);
	CU_ASSERT_DOUBLE_EQUAL(sc->policies[0].pools[0].mem.gpu_memory_utilization,
			       eng_default()->gpu_memory_utilization, 1e-12);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].async_scheduling, eng_default()->async_scheduling);
	CU_ASSERT_EQUAL(sc->policies[1].pools[0].max_num_seqs, 128); /* given */
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].enable_prefix_caching, 1);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].max_model_len, sc->model.max_position);
	CU_ASSERT_EQUAL(sc->policies[1].router.type, ROUTER_TOKEN_BUDGET);
	CU_ASSERT_EQUAL(sc->policies[1].router.thresholds[0], 4096);
	CU_ASSERT_EQUAL(sc->policies[1].pools[1].mem.tp, 2);
	CU_ASSERT_EQUAL(sc->policies[1].pools[1].mem.weights, PREC_FP8);
	CU_ASSERT(sc->policies[0].pools[0].plan.kv_blocks > 0);
	/* Relative trace paths resolve against the scenario's directory. */
	CU_ASSERT_PTR_NOT_NULL(strstr(sc->workload.src.trace, tu_dir()));
	scenario_free(sc);
}

static void test_set_overrides(void)
{
	scenario *sc = NULL;
	fs_err err = {0};
	const char *p = tu_file("s.yaml", base);
	const char *sets[] = {"policies.0.pools.0.replicas=7", "seed=9", "slo.ttft_p99=1.5"};

	CU_ASSERT_EQUAL_FATAL(scenario_load(p, sets, 3, &sc, &err), 0);
	CU_ASSERT_EQUAL(sc->policies[0].pools[0].replicas, 7);
	CU_ASSERT_EQUAL(sc->seed, 9);
	CU_ASSERT_DOUBLE_EQUAL(sc->slo.ttft_p99_s, 1.5, 1e-12);
	scenario_free(sc);
	{
		const char *bad[] = {"policies.0.pools.0.replicas=0"};
		CU_ASSERT_EQUAL(scenario_load(p, bad, 1, &sc, &err), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--set policies.0.pools.0.replicas"));
	}
}

static void expect_error(const char *body, const char *fragment)
{
	scenario *sc = NULL;
	fs_err err = {0};
	const char *p = tu_file("bad.yaml", body);

	CU_ASSERT_EQUAL(scenario_load(p, NULL, 0, &sc, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	if (!strstr(err.msg, fragment))
		fprintf(stderr, "\nexpected '%s' in: %s\n", fragment, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, fragment));
}

static void test_errors(void)
{
	char buf[2048];

	snprintf(buf, sizeof buf, "%sbogus: 1\n", base);
	expect_error(buf, "bad.yaml:14:1: unknown key 'bogus' in scenario");
	snprintf(buf, sizeof buf, "%s", base);
	*strstr(buf, "replicas: 2") = 'x';
	expect_error(buf, "bad.yaml:8:32: unknown key 'xeplicas' in pool");
	snprintf(buf, sizeof buf, "%s", base);
	memcpy(strstr(buf, "threshold: 4096"), "threshold: -409", 15);
	expect_error(buf, "bad.yaml:10:45: value -409 out of range");
	snprintf(buf, sizeof buf, "%s", base);
	memcpy(strstr(buf, "model: llama-3.1-8b"), "model: llama-9-99b ", 19);
	expect_error(buf, "bad.yaml:4:8: unknown model 'llama-9-99b");
	snprintf(buf, sizeof buf, "%s", base);
	memcpy(strstr(buf, "name: dual"), "name: sing", 10);
	memcpy(strstr(buf, "name: single"), "name: sing  ", 12);
	expect_error(buf, "duplicate policy name 'sing'");
	expect_error("name: t\nmodel: llama-3.1-8b\npolicies: []\n", "scenario needs a workload");
	expect_error("name: [unclosed\n", "bad.yaml:");
}

/* The suite's temp dir with a data/ subdirectory for the relative trace path. */
static int setup(void)
{
	return tu_mkdir("data", NULL, 0);
}

/* Every name the scenario sets refuses control characters, with FILE:LINE:COL. */
static void test_name_controls(void)
{
	static const struct {
		const char *from, *to, *msg;
	} cases[] = {
		{"name: t\n", "name: \"t\\e]0;x\\a\"\n", "bad.yaml:1:8: scenario name contains a control character (byte 0x1b"},
		{"name: single", "name: \"a\\n---\\nkind: Pod\"", "bad.yaml:6:12: policy name contains a control character (byte 0x0a"},
		{"name: all,", "name: \"x\\\"\\nhostPID: true\",", "bad.yaml:8:17: pool name contains a control character"},
		{"name: long,", "name: \"l\\x7f\",", "bad.yaml:13:17: pool name contains a control character (byte 0x7f"},
		{"gpu: h200", "gpu: \"h200\\a\"", "gpu contains a control character (byte 0x07"},
		{"model: llama-3.1-8b", "model: \"llama\\r\"", "bad.yaml:4:9: model contains a control character"},
	};
	char buf[2048];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *at;

		snprintf(buf, sizeof buf, "%s", base);
		at = strstr(buf, cases[i].from);
		CU_ASSERT_PTR_NOT_NULL_FATAL(at);
		memmove(at + strlen(cases[i].to), at + strlen(cases[i].from), strlen(at + strlen(cases[i].from)) + 1);
		memcpy(at, cases[i].to, strlen(cases[i].to));
		expect_error(buf, cases[i].msg);
	}
	/* Through --set too, and through the path that names a scenario without name:. */
	{
		scenario *sc = NULL;
		fs_err err = {0};
		const char *sets[] = {"name=\"a\\e\""};
		const char *p;

		tu_file("data/t.csv", "arrival_s,input_tokens,output_tokens\n0,10,10\n");
		p = tu_file("s.yaml", base);
		CU_ASSERT_EQUAL(scenario_load(p, sets, 1, &sc, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "scenario name contains a control character"));
		CU_ASSERT_EQUAL(scenario_load_string("s\x1b.yaml", base, strlen(base), NULL, NULL, 0, &sc, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "contains a control character"));
	}
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("scenario", setup, NULL);
	if (!s || !CU_add_test(s, "defaults and paths", test_defaults_and_paths) ||
	    !CU_add_test(s, "vllm_version and async_scheduling", test_vllm_version) ||
	    !CU_add_test(s, "--set overrides", test_set_overrides) ||
	    !CU_add_test(s, "errors", test_errors) ||
	    !CU_add_test(s, "names refuse control characters", test_name_controls))
		return -1;
	return 0;
}
