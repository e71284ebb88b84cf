/* CUnit suite for traces/tstats: the Azure 2023 code trace against an independent
 * computation (python csv+datetime, numpy-style linear quantiles = GSL's definition):
 *   8819 requests, mean input 2047.848282, mean output 27.882526,
 *   duration 3435.948056 s (18:17:03.97996 -> 19:14:19.928016), peak 67 in one second,
 *   input p50 1469 p90 5187.6 p99 7436 max 7437, output p50 13 p90 55 p99 251.46 max 1899,
 *   total p50 1493 p90 5207.8 p99 7461.82, total <= 2048: 5452 rows, <= 4096: 7562 rows. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "traces/trace.h"
#include "traces/tstats.h"

static void test_azure_code(void)
{
	trace_reader *r = NULL;
	fs_err err = {0};
	tstats s;

	CU_ASSERT_EQUAL_FATAL(trace_open_file(FS_SOURCE_DIR "/traces/data/azure2023_code.csv", NULL, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_compute(r, 1, &s, &err), 0);
	CU_ASSERT_EQUAL(s.count, 8819);
	CU_ASSERT_EQUAL(s.bad_rows, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.all.input.mean, 2047.848282, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(s.all.output.mean, 27.882526, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(s.duration_s, 3435.948056, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.mean_rate, 8819 / 3435.948056, 1e-9);
	CU_ASSERT_EQUAL(s.peak_1s, 67);
	CU_ASSERT_DOUBLE_EQUAL(s.all.input.p50, 1469, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.all.input.p90, 5187.6, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(s.all.input.p99, 7436, 1e-9);
	CU_ASSERT_EQUAL(s.all.input.max, 7437);
	CU_ASSERT_DOUBLE_EQUAL(s.all.output.p50, 13, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.all.output.p99, 251.46, 1e-6);
	CU_ASSERT_EQUAL(s.all.output.max, 1899);
	CU_ASSERT_DOUBLE_EQUAL(s.all.total.p90, 5207.8, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(s.all.total.p99, 7461.82, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(s.all.share_le[0], 5452.0 / 8819, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.all.share_le[1], 7562.0 / 8819, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.all.share_le[2], 1.0, 1e-12);
	CU_ASSERT_EQUAL(s.n_cats, 0);
	tstats_free(&s);
	trace_close(r);
}

/* burstgpt.csv: ChatGPT/Conversation log rows 472+18 and 30+7; GPT-4/API log 1000+0. */
static void test_categories(void)
{
	trace_reader *r = NULL;
	fs_err err = {0};
	tstats s;

	CU_ASSERT_EQUAL_FATAL(trace_open_file(FS_SOURCE_DIR "/tests/data/traces/burstgpt.csv", NULL, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_compute(r, 1, &s, &err), 0);
	CU_ASSERT_EQUAL_FATAL(s.n_cats, 2);
	CU_ASSERT_STRING_EQUAL(s.cats[0].name, "ChatGPT/Conversation log");
	CU_ASSERT_EQUAL(s.cats[0].count, 2);
	CU_ASSERT_DOUBLE_EQUAL(s.cats[0].input.mean, 251.0, 1e-12); /* (472+30)/2 */
	CU_ASSERT_DOUBLE_EQUAL(s.cats[0].total.p50, 263.5, 1e-12);  /* (490+37)/2 */
	CU_ASSERT_EQUAL(s.cats[1].failed, 1);
	CU_ASSERT_EQUAL(s.all.failed, 1);
	CU_ASSERT_EQUAL(s.peak_1s, 2); /* 5 s bucket: 1; [6,7): 6 and 6.5 */
	tstats_free(&s);
	trace_close(r);
}

/* Gaps: the Azure hour has none over an hour; an epoch CSV with 10000 s and 900000 s
 * gaps has two, the longest 900000 s starting 10000 s after the first request. */
static void test_gaps(void)
{
	trace_reader *r = NULL;
	fs_err err = {0};
	tstats s;
	trace_open_opts o = trace_open_opts_default();
	const char *path = FS_SOURCE_DIR "/tests/data/traces/generic.csv";
	FILE *f;
	char tmp[] = "/tmp/fs_test_tstats_gaps_XXXXXX";
	int fd = mkstemp(tmp);

	CU_ASSERT_EQUAL_FATAL(trace_open_file(path, NULL, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_compute(r, 0, &s, &err), 0);
	CU_ASSERT_EQUAL(s.long_gaps, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.max_gap_s, 0.75, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.max_gap_at_s, 0.0, 1e-12);
	tstats_free(&s);
	trace_close(r);
	CU_ASSERT_FATAL(fd >= 0 && (f = fdopen(fd, "w")) != NULL);
	fputs("timestamp,prompt_len,completion_len\n1741080005,10,5\n1741090005,10,5\n1741990005,10,5\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(trace_columns_parse("arrival=timestamp,input=prompt_len,output=completion_len", &o, &err), 0);
	CU_ASSERT_EQUAL_FATAL(trace_open_file(tmp, &o, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(tstats_compute(r, 0, &s, &err), 0);
	CU_ASSERT_EQUAL(s.long_gaps, 2);
	CU_ASSERT_DOUBLE_EQUAL(s.max_gap_s, 900000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.max_gap_at_s, 10000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.first_s, 0.0, 1e-12); /* re-based */
	CU_ASSERT(s.duration_s > TSTATS_LONG_SPAN_S);
	tstats_free(&s);
	trace_close(r);
	remove(tmp);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("tstats", NULL, NULL);

	if (!s || !CU_add_test(s, "azure_code", test_azure_code) ||
	    !CU_add_test(s, "categories", test_categories) || !CU_add_test(s, "gaps", test_gaps))
		return -1;
	return 0;
}
