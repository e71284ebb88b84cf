/* CUnit suite for traces/workload: YAML errors and the transforms on generic.csv
 * (arrivals 0.5, 1.25, 2.0 s: 3 requests over 1.5 s, so its mean rate is 2 req/s). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "traces/workload.h"
#include "util/yamlutil.h"

static int parse(const char *yaml, workload_cfg *cfg, fs_err *err)
{
	struct fy_document *doc;
	int rc;

	if (yu_load_string("w.yaml", yaml, strlen(yaml), &doc, err))
		return -1;
	rc = workload_from_yaml("w.yaml", fy_document_root(doc), FS_SOURCE_DIR "/tests/data/traces", cfg, err);
	fy_document_destroy(doc);
	return rc;
}

/* Arrivals (ns) of the whole stream; returns the count. */
static int arrivals(const char *yaml, int64_t *t, int cap, int32_t *in)
{
	workload_cfg cfg;
	trace_reader *r = NULL;
	fs_err err = {0};
	trace_req q;
	int n = 0;

	if (parse(yaml, &cfg, &err) || workload_open(&cfg, 1, &r, &err)) {
		fprintf(stderr, "\n%s\n", err.msg);
		return -1;
	}
	while (trace_next(r, &q, &err) == 1 && n < cap) {
		t[n] = q.arrival_ns;
		if (in)
			in[n] = q.input_tokens;
		n++;
	}
	trace_close(r);
	workload_cfg_free(&cfg);
	return n;
}

static void test_transforms(void)
{
	int64_t t[16];
	int32_t in[16];

	CU_ASSERT_EQUAL(arrivals("trace: generic.csv\nrate_scale: 2\n", t, 16, NULL), 3);
	CU_ASSERT_EQUAL(t[0], 250000000LL);
	CU_ASSERT_EQUAL(t[2], 1000000000LL);
	/* target 4 req/s over a native 2 req/s: the same halving */
	CU_ASSERT_EQUAL(arrivals("trace: generic.csv\ntarget_rate: 4\n", t, 16, NULL), 3);
	CU_ASSERT_EQUAL(t[1], 625000000LL);
	/* window [1, 2) s of source time keeps only 1.25 s, rebased to 0.25 s */
	CU_ASSERT_EQUAL(arrivals("trace: generic.csv\nstart: 1\nduration: 1\n", t, 16, NULL), 1);
	CU_ASSERT_EQUAL(t[0], 250000000LL);
	CU_ASSERT_EQUAL(arrivals("trace: generic.csv\nmax_requests: 2\n", t, 16, NULL), 2);
	/* Poisson re-timing keeps the lengths in order */
	CU_ASSERT_EQUAL(arrivals("trace: generic.csv\nretime: poisson\ntarget_rate: 10\n", t, 16, in), 3);
	CU_ASSERT_EQUAL(in[0], 100);
	CU_ASSERT_EQUAL(in[1], 2000);
	CU_ASSERT(t[0] < t[1] && t[1] < t[2]);
	/* mix of two 2 req/s copies at 4 req/s, weights 1:1 -> each keeps its times;
	 * ties go to the first entry, so arrivals come in pairs */
	CU_ASSERT_EQUAL(arrivals("mix:\n  - {trace: generic.csv, weight: 1}\n  - {trace: generic.jsonl, weight: 1}\ntarget_rate: 4\n", t, 16, NULL), 6);
	CU_ASSERT_EQUAL(t[0], 500000000LL);
	CU_ASSERT_EQUAL(t[1], 500000000LL);
	CU_ASSERT_EQUAL(t[5], 2000000000LL);
	/* weights 3:1 at 4 req/s: the csv entry runs at 3 req/s (factor 1.5) */
	CU_ASSERT_EQUAL(arrivals("mix:\n  - {trace: generic.csv, weight: 3}\n  - {trace: generic.jsonl, weight: 1}\ntarget_rate: 4\n", t, 16, NULL), 6);
	CU_ASSERT_EQUAL(t[0], 333333333LL);
	/* synthetic source: requests cap respected */
	CU_ASSERT_EQUAL(arrivals("synthetic: {requests: 5, arrival: {rate: 2}, input: {dist: constant, value: 10}, output: {dist: constant, value: 3}}\n", t, 16, NULL), 5);
}

static void test_errors(void)
{
	workload_cfg cfg;
	fs_err err = {0};

	CU_ASSERT_EQUAL(parse("trace: a.csv\nrate: 3\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "w.yaml:2:1: unknown key 'rate' in workload"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\ntarget_rate: -1\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "w.yaml:2:14:"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\ntarget_rate: 1\nrate_scale: 2\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not both"));
	CU_ASSERT_EQUAL(parse("target_rate: 1\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "needs trace:"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\nformat: parquet\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "w.yaml:2:9: unknown trace format"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\n", &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.src.trace, FS_SOURCE_DIR "/tests/data/traces/a.csv");
	workload_cfg_free(&cfg);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("workload", NULL, NULL);

	if (!s || !CU_add_test(s, "transforms", test_transforms) || !CU_add_test(s, "errors", test_errors))
		return -1;
	return 0;
}
