/* CUnit suite for traces/synth: spec errors, determinism, rates and bounds. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/synth.h"
#include "traces/tstats.h"
#include "util/yamlutil.h"

#define SPEC FS_SOURCE_DIR "/tests/data/traces/synth_spec.yaml"

static char *gen(uint64_t seed, size_t *len)
{
	synth_spec sp;
	trace_reader *r = NULL;
	fs_err err = {0};
	char *buf = NULL;
	int64_t n;
	FILE *f = open_memstream(&buf, len);

	CU_ASSERT_EQUAL_FATAL(synth_spec_load(SPEC, &sp, &err), 0);
	CU_ASSERT_EQUAL_FATAL(synth_open(&sp, seed, &r, &err), 0);
	CU_ASSERT_EQUAL(synth_write_csv(r, f, "mem", &n, &err), 0);
	CU_ASSERT_EQUAL(n, 2000);
	fclose(f);
	trace_close(r);
	synth_spec_free(&sp);
	return buf;
}

static void test_determinism(void)
{
	size_t la, lb, lc;
	char *a = gen(7, &la), *b = gen(7, &lb), *c = gen(8, &lc);

	CU_ASSERT_EQUAL(la, lb);
	CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
	CU_ASSERT(la != lc || memcmp(a, c, la) != 0);
	free(a);
	free(b);
	free(c);
}

static void test_bounds_and_rate(void)
{
	synth_spec sp;
	trace_reader *r = NULL;
	fs_err err = {0};
	trace_req q;
	int64_t n = 0, chat = 0;

	CU_ASSERT_EQUAL_FATAL(synth_spec_load(SPEC, &sp, &err), 0);
	CU_ASSERT_EQUAL_FATAL(synth_open(&sp, 7, &r, &err), 0);
	while (trace_next(r, &q, &err) == 1) {
		const char *nm = trace_category_name(r, q.category);

		n++;
		CU_ASSERT(q.input_tokens >= 1 && q.input_tokens <= 32768);
		if (!strcmp(nm, "chat")) {
			chat++;
			/* empirical cdf spans [1, 1000]; max_tokens in [out, min(8192, 4 out)] */
			CU_ASSERT(q.output_tokens >= 1 && q.output_tokens <= 1000);
			CU_ASSERT(q.max_tokens >= q.output_tokens && q.max_tokens <= 4 * q.output_tokens);
		} else {
			CU_ASSERT_EQUAL(q.input_tokens, 20000);
			CU_ASSERT_EQUAL(q.max_tokens, -1);
		}
	}
	CU_ASSERT_EQUAL(n, 2000);
	/* weights 3:1 -> 1500 expected chat; binomial sd = sqrt(2000*.75*.25) = 19.4 */
	CU_ASSERT(chat > 1500 - 100 && chat < 1500 + 100);
	trace_close(r);
	synth_spec_free(&sp);
}

static void test_spec_errors(void)
{
	static const char bad[] = "requests: 10\narrival: {process: gamma, rate: 5}\ninput: {dist: constant, value: 5}\noutput: {dist: constant, value: 5}\n";
	static const char bad2[] = "requests: 10\narrival: {rate: -5}\ninput: {dist: constant, value: 5}\noutput: {dist: constant, value: 5}\n";
	struct fy_document *doc;
	fs_err err = {0};
	synth_spec sp;

	CU_ASSERT_EQUAL_FATAL(yu_load_string("s.yaml", bad, strlen(bad), &doc, &err), 0);
	CU_ASSERT_EQUAL(synth_spec_from_yaml("s.yaml", fy_document_root(doc), &sp, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "s.yaml:2:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cv"));
	fy_document_destroy(doc);
	CU_ASSERT_EQUAL_FATAL(yu_load_string("s.yaml", bad2, strlen(bad2), &doc, &err), 0);
	CU_ASSERT_EQUAL(synth_spec_from_yaml("s.yaml", fy_document_root(doc), &sp, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "s.yaml:2:17"));
	fy_document_destroy(doc);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("synth", NULL, NULL);

	if (!s || !CU_add_test(s, "determinism", test_determinism) ||
	    !CU_add_test(s, "bounds_and_rate", test_bounds_and_rate) ||
	    !CU_add_test(s, "spec_errors", test_spec_errors))
		return -1;
	return 0;
}
