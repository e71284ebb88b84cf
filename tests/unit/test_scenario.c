/* CUnit suite for scenarios/scenario.c: vLLM defaults, --set overrides, path
 * resolution and FILE:LINE:COL errors. */
#include <CUnit/CUnit.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>
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

/* Load text named path through a scenario_src (parsed once, loaded from a copy):
 * the error, from the parse or the load, lands in err. */
static int src_load(const char *path, const char *text, const char *const *sets, int nsets,
		    scenario **sc, fs_err *err)
{
	scenario_src *src = NULL;
	char dir[1024];
	int rc;

	snprintf(dir, sizeof dir, "%s", path);
	if (scenario_src_open(path, text, strlen(text), dirname(dir), &src, err))
		return -1;
	rc = scenario_src_load(src, sets, nsets, sc, err);
	scenario_src_free(src);
	return rc;
}

static void expect_error(const char *body, const char *fragment)
{
	scenario *sc = NULL;
	fs_err err = {0}, e2 = {0};
	const char *p = tu_file("bad.yaml", body);

	CU_ASSERT_EQUAL(scenario_load(p, NULL, 0, &sc, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	if (!strstr(err.msg, fragment))
		fprintf(stderr, "\nexpected '%s' in: %s\n", fragment, err.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, fragment));
	/* The copy of a document parsed once reports the same, line and column included. */
	CU_ASSERT_EQUAL(src_load(p, body, NULL, 0, &sc, &e2), -1);
	CU_ASSERT_EQUAL(e2.status, FS_EXIT_INPUT);
	CU_ASSERT_STRING_EQUAL(e2.msg, err.msg);
}

/* Loads from one parsed document: each equals scenario_load with the same sets (the
 * effective scenario's JSON and the prepared pools), and loading never changes the
 * document (a set applied to one copy is absent from the next). */
static void test_src_copies(void)
{
	const char *p = tu_file("s.yaml", base);
	const char *s1[] = {"policies.0.pools.0.replicas=7", "seed=9"};
	const char *s2[] = {"policies.1.pools=[{name: a, gpu: h100}, {name: b, gpu: b200, replicas: 3}]"};
	const char *bad[] = {"policies.0.pools.0.replicas=0"};
	scenario_src *src = NULL;
	scenario *a = NULL, *b = NULL;
	fs_err err = {0}, e2 = {0};
	char dir[1024];

	snprintf(dir, sizeof dir, "%s", p);
	CU_ASSERT_EQUAL_FATAL(scenario_src_open(p, base, strlen(base), dirname(dir), &src, &err), 0);
	for (int round = 0; round < 2; round++) {
		CU_ASSERT_EQUAL_FATAL(scenario_src_load(src, s1, 2, &a, &err), 0);
		CU_ASSERT_EQUAL_FATAL(scenario_load(p, s1, 2, &b, &err), 0);
		CU_ASSERT_STRING_EQUAL(a->params_json, b->params_json);
		CU_ASSERT_STRING_EQUAL(a->path, b->path);
		CU_ASSERT_STRING_EQUAL(a->dir, b->dir);
		CU_ASSERT_STRING_EQUAL(a->workload.src.trace, b->workload.src.trace);
		CU_ASSERT_EQUAL(a->policies[0].pools[0].replicas, 7);
		CU_ASSERT_EQUAL(a->seed, 9);
		CU_ASSERT_EQUAL(a->policies[1].pools[1].plan.kv_blocks, b->policies[1].pools[1].plan.kv_blocks);
		scenario_free(a);
		scenario_free(b);
		CU_ASSERT_EQUAL_FATAL(scenario_src_load(src, s2, 1, &a, &err), 0);
		CU_ASSERT_EQUAL_FATAL(scenario_load(p, s2, 1, &b, &err), 0);
		CU_ASSERT_STRING_EQUAL(a->params_json, b->params_json);
		CU_ASSERT_EQUAL(a->policies[0].pools[0].replicas, 2); /* s1 did not stick */
		CU_ASSERT_EQUAL(a->seed, 42);
		CU_ASSERT_EQUAL(a->policies[1].pools[1].replicas, 3);
		CU_ASSERT_STRING_EQUAL(a->policies[1].pools[1].name, "b");
		scenario_free(a);
		scenario_free(b);
		/* A bad set fails with scenario_load's message; the document stays usable. */
		CU_ASSERT_EQUAL(scenario_src_load(src, bad, 1, &a, &err), -1);
		CU_ASSERT_EQUAL(scenario_load(p, bad, 1, &b, &e2), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
		CU_ASSERT_STRING_EQUAL(err.msg, e2.msg);
	}
	scenario_src_free(src);
	scenario_src_free(NULL);
	/* A syntax error is reported by the parse, as scenario_load_string reports it. */
	CU_ASSERT_EQUAL(scenario_src_open("x.yaml", "a: [1,\n", 7, NULL, &src, &err), -1);
	CU_ASSERT_EQUAL(scenario_load_string("x.yaml", "a: [1,\n", 7, NULL, NULL, 0, &a, &e2), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, e2.msg);
	CU_ASSERT_EQUAL(scenario_src_open("x\x1b.yaml", base, strlen(base), NULL, &src, &err), -1);
}

/* Sweep workers load from one document at once: every load gets its own sets. */
typedef struct src_job {
	scenario_src *src;
	int id, bad;
} src_job;

static void *src_worker(void *arg)
{
	src_job *j = arg;
	char set[64];
	const char *sets[1] = {set};

	for (int i = 0; i < 40; i++) {
		scenario *sc = NULL;
		fs_err err = {0};
		int want = 1 + j->id * 100 + i;

		snprintf(set, sizeof set, "policies.0.pools.0.replicas=%d", want);
		if (scenario_src_load(j->src, sets, 1, &sc, &err) || sc->policies[0].pools[0].replicas != want ||
		    sc->policies[1].pools[0].replicas != 1)
			j->bad++;
		scenario_free(sc);
	}
	return NULL;
}

static void test_src_threads(void)
{
	const char *p = tu_file("s.yaml", base);
	scenario_src *src = NULL;
	pthread_t th[4];
	src_job jobs[4];
	fs_err err = {0};
	int started = 0;

	CU_ASSERT_EQUAL_FATAL(scenario_src_open(p, base, strlen(base), NULL, &src, &err), 0);
	for (int i = 0; i < 4; i++) {
		jobs[i] = (src_job){src, i, 0};
		if (!pthread_create(&th[i], NULL, src_worker, &jobs[i]))
			started++;
	}
	CU_ASSERT_EQUAL(started, 4);
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(jobs[i].bad, 0);
	}
	scenario_src_free(src);
}

/* workload: columns / time_unit / model_filter load into the source; errors carry
 * FILE:LINE:COL (issue 19). */
static void test_workload_columns(void)
{
	static const char yaml[] =
		"name: t\n"
		"workload:\n"
		"  trace: data/gw.csv\n"
		"  columns: {arrival: timestamp, input: usage.prompt_tokens, output: completion_len}\n"
		"  time_unit: ms\n"
		"  model_filter: llama-3.1-70b\n"
		"model: llama-3.1-8b\n"
		"policies:\n"
		"  - name: single\n"
		"    pools:\n"
		"      - {name: all, gpu: h100, replicas: 1}\n";
	scenario *sc = NULL;
	fs_err err = {0};
	char buf[1024], *k;

	CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("w.yaml", yaml), NULL, 0, &sc, &err), 0);
	CU_ASSERT_STRING_EQUAL(sc->workload.src.columns[TRACE_COL_ARRIVAL], "timestamp");
	CU_ASSERT_STRING_EQUAL(sc->workload.src.columns[TRACE_COL_INPUT], "usage.prompt_tokens");
	CU_ASSERT_STRING_EQUAL(sc->workload.src.columns[TRACE_COL_MAX_TOKENS], "");
	CU_ASSERT_EQUAL(sc->workload.src.time_unit, TRACE_TU_MS);
	CU_ASSERT_STRING_EQUAL(sc->workload.src.model_filter, "llama-3.1-70b");
	scenario_free(sc);
	snprintf(buf, sizeof buf, "%s", yaml);
	k = strstr(buf, "input:");
	memcpy(k, "inptu:", 6);
	expect_error(buf, "bad.yaml:4:33: unknown key 'inptu' in columns (known: arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model)");
	snprintf(buf, sizeof buf, "%s", yaml);
	k = strstr(buf, "time_unit: ms");
	memcpy(k, "time_unit: hh", 13);
	expect_error(buf, "bad.yaml:5:14: unknown time_unit 'hh'");
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

/* slo.classes, slo.pools, slo.per_pool (docs/planning.md "SLOs per class and per
 * pool"): parsed values, defaults, and FILE:LINE:COL errors naming the key. */
static void test_slo_detail(void)
{
	static const char synth_base[] =
		"name: t\n"
		"workload:\n"
		"  synthetic:\n"
		"    requests: 10\n"
		"    arrival: {rate: 1}\n"
		"    categories:\n"
		"      - {name: chat, input: {dist: constant, value: 100}, output: {dist: constant, value: 10}}\n"
		"      - {name: doc, input: {dist: constant, value: 9000}, output: {dist: constant, value: 10}}\n"
		"model: llama-3.1-8b\n"
		"policies:\n"
		"  - name: single\n"
		"    pools:\n"
		"      - {name: all, gpu: h100, replicas: 2}\n";
	char buf[4096];
	scenario *sc = NULL;
	fs_err err = {0};
	const mx_slo_detail *d;

	tu_file("data/t.csv", "arrival_s,input_tokens,output_tokens\n0,10,10\n");
	/* no slo: nothing present, per_pool on by default; slo without the new keys:
	 * the same defaults */
	CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("ok.yaml", base), NULL, 0, &sc, &err), 0);
	CU_ASSERT_EQUAL(sc->slo_detail.present, 0);
	CU_ASSERT_EQUAL(sc->slo_detail.per_pool, 1);
	CU_ASSERT_EQUAL(sc->slo_detail.nclasses, 0);
	scenario_free(sc);
	snprintf(buf, sizeof buf, "%sslo: {ttft_p99: 2}\n", base);
	CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("ok.yaml", buf), NULL, 0, &sc, &err), 0);
	CU_ASSERT_EQUAL(sc->slo_detail.present, 1);
	CU_ASSERT_EQUAL(sc->slo_detail.per_pool, 1);
	CU_ASSERT_EQUAL(sc->slo_detail.npools + sc->slo_detail.nclasses, 0);
	scenario_free(sc);
	snprintf(buf, sizeof buf,
		 "%sslo:\n"
		 "  ttft_p99: 2\n"
		 "  per_pool: false\n"
		 "  pools: {long: {ttft_p99: 15}, short: {tpot_p99: 0.05}}\n"
		 "  classes:\n"
		 "    - {name: short, max_tokens_total: 4096, ttft_p99: 1}\n"
		 "    - {name: docs, min_tokens_total: 4097, ttft_p99: 15, tpot_p99: 0.2}\n"
		 "    - {name: big, min_prompt_tokens: 30000, ttft_p99: 30}\n"
		 "    - {name: code, category: code, ttft_p99: 3}\n",
		 base);
	CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("ok.yaml", buf), NULL, 0, &sc, &err), 0);
	d = &sc->slo_detail;
	CU_ASSERT_EQUAL(d->per_pool, 0);
	CU_ASSERT_EQUAL(d->npools, 2);
	CU_ASSERT_STRING_EQUAL(d->pools[0].name, "long");
	CU_ASSERT_DOUBLE_EQUAL(d->pools[0].target.ttft_p99_s, 15, 0);
	CU_ASSERT_DOUBLE_EQUAL(d->pools[0].target.tpot_p99_s, 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(d->pools[1].target.tpot_p99_s, 0.05, 0);
	CU_ASSERT_EQUAL_FATAL(d->nclasses, 4);
	CU_ASSERT_EQUAL(d->classes[0].kind, MX_CLASS_TOTAL);
	CU_ASSERT_EQUAL(d->classes[0].min_tokens, 0);
	CU_ASSERT_EQUAL(d->classes[0].max_tokens, 4096);
	CU_ASSERT_EQUAL(d->classes[1].min_tokens, 4097);
	CU_ASSERT_EQUAL(d->classes[1].max_tokens, INT64_MAX);
	CU_ASSERT_DOUBLE_EQUAL(d->classes[1].target.tpot_p99_s, 0.2, 0);
	CU_ASSERT_EQUAL(d->classes[2].kind, MX_CLASS_PROMPT); /* another measure: may overlap */
	CU_ASSERT_EQUAL(d->classes[3].kind, MX_CLASS_CATEGORY);
	CU_ASSERT_STRING_EQUAL(d->classes[3].category, "code"); /* a trace: checked when read */
	CU_ASSERT_EQUAL(d->classes[3].line, 22);
	scenario_free(sc);
	/* --set reaches the new keys */
	{
		const char *sets[] = {"slo.per_pool=false", "slo.classes.0.ttft_p99=0.5"};

		CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("ok.yaml", buf), sets, 2, &sc, &err), 0);
		CU_ASSERT_EQUAL(sc->slo_detail.per_pool, 0);
		CU_ASSERT_DOUBLE_EQUAL(sc->slo_detail.classes[0].target.ttft_p99_s, 0.5, 0);
		scenario_free(sc);
	}
	/* a synthetic workload's categories are known at load */
	snprintf(buf, sizeof buf, "%sslo: {ttft_p99: 2, classes: [{name: c, category: chat, ttft_p99: 1}]}\n",
		 synth_base);
	CU_ASSERT_EQUAL_FATAL(scenario_load(tu_file("ok.yaml", buf), NULL, 0, &sc, &err), 0);
	scenario_free(sc);
	snprintf(buf, sizeof buf, "%sslo: {ttft_p99: 2, classes: [{name: c, category: code, ttft_p99: 1}]}\n",
		 synth_base);
	expect_error(buf, "bad.yaml:14:50: slo class 'c': the workload has no category 'code'");

	/* errors, each at its key */
	snprintf(buf, sizeof buf, "%sslo: {ttft_p99: 2, per_class: true}\n", base);
	expect_error(buf, "bad.yaml:14:20: unknown key 'per_class' in slo");
	snprintf(buf, sizeof buf, "%sslo:\n  classes:\n    - {name: a, max_tokens_total: 10, ttft: 1}\n", base);
	expect_error(buf, "bad.yaml:16:39: unknown key 'ttft' in slo.classes entry");
	snprintf(buf, sizeof buf, "%sslo:\n  classes:\n    - {name: a, max_tokens_total: 10, ttft_p99: -1}\n", base);
	expect_error(buf, "bad.yaml:16:49: duration -1 s out of range");
	snprintf(buf, sizeof buf, "%sslo:\n  pools: {long: {ttft_p99: 0}}\n", base);
	expect_error(buf, "bad.yaml:15:28: duration 0 s out of range");
	snprintf(buf, sizeof buf, "%sslo:\n  pools: {nope: {ttft_p99: 3}}\n", base);
	expect_error(buf, "bad.yaml:15:11: slo.pools: no policy has a pool 'nope'");
	snprintf(buf, sizeof buf, "%sslo:\n  pools: {long: {}}\n", base);
	expect_error(buf, "slo.pools.long: set ttft_p99 or tpot_p99");
	snprintf(buf, sizeof buf, "%sslo:\n  per_pool: maybe\n", base);
	expect_error(buf, "bad.yaml:15:13:");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, max_tokens_total: 4096, ttft_p99: 1}\n"
		 "    - {name: b, min_tokens_total: 4000, ttft_p99: 9}\n",
		 base);
	expect_error(buf, "bad.yaml:17:35: slo class 'b' overlaps class 'a' (tokens 4000..");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, max_tokens_total: 10, ttft_p99: 1}\n"
		 "    - {name: a, min_tokens_total: 11, ttft_p99: 9}\n",
		 base);
	expect_error(buf, "bad.yaml:17:14: duplicate slo class name 'a'");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, category: x, ttft_p99: 1}\n"
		 "    - {name: b, category: x, ttft_p99: 9}\n",
		 base);
	expect_error(buf, "slo class 'b': category 'x' is already class 'a'");
	snprintf(buf, sizeof buf, "%sslo:\n  classes:\n    - {name: a, ttft_p99: 1}\n", base);
	expect_error(buf, "bad.yaml:16:8: slo class 'a' needs category: or a token range");
	snprintf(buf, sizeof buf, "%sslo:\n  classes:\n    - {name: a, max_tokens_total: 10}\n", base);
	expect_error(buf, "slo class 'a': set ttft_p99 or tpot_p99");
	snprintf(buf, sizeof buf, "%sslo:\n  classes:\n    - {max_tokens_total: 10, ttft_p99: 1}\n", base);
	expect_error(buf, "slo.classes entry needs a name:");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, min_tokens_total: 10, max_tokens_total: 5, ttft_p99: 1}\n",
		 base);
	expect_error(buf, "slo class 'a': max_tokens_total 5 < min_tokens_total 10");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, category: x, max_tokens_total: 5, ttft_p99: 1}\n", base);
	expect_error(buf, "category: and a token range cannot be combined");
	snprintf(buf, sizeof buf,
		 "%sslo:\n  classes:\n    - {name: a, max_prompt_tokens: 9, max_tokens_total: 5, ttft_p99: 1}\n",
		 base);
	expect_error(buf, "use either *_tokens_total or *_prompt_tokens");
	snprintf(buf, sizeof buf, "%sslo:\n  classes: {name: a}\n", base);
	expect_error(buf, "bad.yaml:15:13: slo.classes must be a list");
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
	    !CU_add_test(s, "workload columns", test_workload_columns) ||
	    !CU_add_test(s, "slo per class and per pool", test_slo_detail) ||
	    !CU_add_test(s, "names refuse control characters", test_name_controls) ||
	    !CU_add_test(s, "parsed once, loaded from copies", test_src_copies) ||
	    !CU_add_test(s, "copies loaded from several threads", test_src_threads))
		return -1;
	return 0;
}
