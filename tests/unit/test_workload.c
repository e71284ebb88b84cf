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


/* The error of opening and reading the workload ("" when it reads fine). */
static const char *open_error(const char *yaml)
{
	static fs_err err;
	workload_cfg cfg;
	trace_reader *r = NULL;
	trace_req q;
	int rc;

	memset(&err, 0, sizeof err);
	if (parse(yaml, &cfg, &err))
		return err.msg;
	rc = workload_open(&cfg, 1, &r, &err);
	if (rc == 0)
		while ((rc = trace_next(r, &q, &err)) == 1)
			;
	trace_close(r);
	workload_cfg_free(&cfg);
	return rc < 0 ? err.msg : "";
}

static void test_columns(void)
{
	static const char gw[] = "trace: gateway_epoch.csv\n"
				 "columns: {arrival: timestamp, input: prompt_len, output: completion_len, model: model}\n";
	char y[512], notes[1024];
	int64_t t[16];
	workload_cfg cfg;
	fs_err err = {0};

	/* epoch seconds with custom names: re-based; start/duration relative to the first */
	CU_ASSERT_EQUAL(arrivals(gw, t, 16, NULL), 8);
	CU_ASSERT_EQUAL(t[0], 0);
	CU_ASSERT_EQUAL(t[7], 5930000000LL);
	snprintf(y, sizeof y, "%sstart: 1\nduration: 2.5\n", gw);
	CU_ASSERT_EQUAL(arrivals(y, t, 16, NULL), 3); /* 1.83, 3.08, 3.09 s, less the 1 s start */
	CU_ASSERT_EQUAL(t[0], 830000000LL);
	/* model_filter, in a mix entry too */
	snprintf(y, sizeof y, "%smodel_filter: llama-3.1-70b\n", gw);
	CU_ASSERT_EQUAL(arrivals(y, t, 16, NULL), 3);
	CU_ASSERT_EQUAL(arrivals("mix:\n  - {trace: openai_usage.jsonl, model_filter: Qwen/Qwen2.5-7B-Instruct}\n"
				 "  - {trace: iso_requests.csv, time_unit: iso8601, columns: {arrival: time, input: input, output: output}}\n",
				 t, 16, NULL), 8);
	/* time notes for the command layer */
	CU_ASSERT_EQUAL(parse(gw, &cfg, &err), 0);
	CU_ASSERT_EQUAL(workload_time_notes(&cfg, notes, sizeof notes, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(notes, "gateway_epoch.csv: arrival column 'timestamp' holds epoch seconds (detected)"));
	workload_cfg_free(&cfg);
	CU_ASSERT_EQUAL(parse("trace: generic.csv\n", &cfg, &err), 0);
	CU_ASSERT_EQUAL(workload_time_notes(&cfg, notes, sizeof notes, &err), 0);
	CU_ASSERT_STRING_EQUAL(notes, "");
	workload_cfg_free(&cfg);

	/* a window with no request: exit 2 naming the window and the span */
	snprintf(y, sizeof y, "%sstart: 100\nduration: 50\n", gw);
	CU_ASSERT_PTR_NOT_NULL(strstr(open_error(y), "gateway_epoch.csv: workload window (start 100 s, duration 50 s) selects no request: "
						     "the trace's 8 requests span 0.000 s to 5.930 s"));
	CU_ASSERT_EQUAL(err.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(open_error("trace: generic.csv\nstart: 0\nduration: 0.25\n"),
				      "workload window (start 0 s, duration 0.25 s) selects no request: the trace's 3 requests span 0.500 s to 2.000 s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(open_error("trace: generic.csv\nstart: 10\ntarget_rate: 5\n"),
				      "workload window (start 10 s, no duration) selects no request"));

	/* bad keys: unknown role (line:col, the known ones), unit, empty names, synthetic */
	CU_ASSERT_EQUAL(parse("trace: a.csv\ncolumns: {arival: ts}\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "w.yaml:2:11: unknown key 'arival' in columns (known: arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model)"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\ntime_unit: minutes\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "w.yaml:2:12: unknown time_unit 'minutes' (known: s, ms, us, ns, iso8601, auto)"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\ncolumns: {input: ''}\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "columns.input is empty"));
	CU_ASSERT_EQUAL(parse("trace: a.csv\ncolumns: [a]\n", &cfg, &err), -1);
	CU_ASSERT_EQUAL(parse("synthetic: {requests: 5, arrival: {rate: 2}, input: {dist: constant, value: 10}, output: {dist: constant, value: 3}}\ntime_unit: s\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "time_unit: applies to trace: files only"));
	CU_ASSERT_EQUAL(parse("mix:\n  - {trace: a.csv}\ncolumns: {input: x}\n", &cfg, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "put columns: inside each mix entry"));
	/* reading errors carry FILE:LINE and the column */
	CU_ASSERT_PTR_NOT_NULL(strstr(open_error("trace: iso_requests.csv\ntime_unit: ms\ncolumns: {arrival: time, input: input, output: output}\n"),
				      "iso_requests.csv:2: time (arrival) '2025-03-04T09:20:00.120Z' is an ISO 8601 timestamp, not a number of milliseconds"));
	CU_ASSERT_PTR_NOT_NULL(strstr(open_error("trace: iso_requests.csv\ncolumns: {arrival: when, input: input, output: output}\n"),
				      "iso_requests.csv:1: column 'when' (columns.arrival) is not in the header"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("workload", NULL, NULL);

	if (!s || !CU_add_test(s, "transforms", test_transforms) || !CU_add_test(s, "errors", test_errors) ||
	    !CU_add_test(s, "columns", test_columns))
		return -1;
	return 0;
}
