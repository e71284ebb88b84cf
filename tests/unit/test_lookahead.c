/* CUnit suite for sim/lookahead: filling the ring from a trace, peeking ahead,
 * dropping the head, refilling, and the end of the trace. */
#include <CUnit/CUnit.h>
#include <stdio.h>

#include "sim/lookahead.h"
#include "traces/trace.h"
#include "tutil.h"

static void test_fill_drain(void)
{
	char path[512];
	FILE *f;
	trace_open_opts o = trace_open_opts_default();
	trace_reader *tr = NULL;
	la_ring *r = NULL;
	fs_err err = {0};
	int seen = 0;

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "la.csv"), 0);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("arrival_s,input_tokens,output_tokens,max_tokens\n", f);
	for (int i = 0; i < 7; i++)
		fprintf(f, "%d,%d,5,10\n", i, 100 + i);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(trace_open_file(path, &o, &tr, &err), 0);
	CU_ASSERT_EQUAL_FATAL(la_create(3, &r), 0);
	CU_ASSERT_EQUAL(la_capacity(r), 3);
	CU_ASSERT_EQUAL(la_count(r), 0);
	CU_ASSERT_PTR_NULL(la_peek(r, 0));
	CU_ASSERT_EQUAL(la_fill(r, tr, &err), 0);
	CU_ASSERT_EQUAL(la_count(r), 3);
	CU_ASSERT_FALSE(la_eof(r));
	CU_ASSERT_EQUAL(la_peek(r, 0)->input_tokens, 100);
	CU_ASSERT_EQUAL(la_peek(r, 2)->input_tokens, 102);
	CU_ASSERT_EQUAL(la_peek(r, 2)->arrival_ns, 2000000000LL);
	CU_ASSERT_PTR_NULL(la_peek(r, 3));
	/* Drop one, refill: the ring wraps and keeps order. */
	la_drop(r);
	CU_ASSERT_EQUAL(la_count(r), 2);
	CU_ASSERT_EQUAL(la_peek(r, 0)->input_tokens, 101);
	CU_ASSERT_EQUAL(la_fill(r, tr, &err), 0);
	CU_ASSERT_EQUAL(la_peek(r, 2)->input_tokens, 103);
	/* Drain to the end, refilling after every drop as the fleet does. */
	seen = 1;
	while (la_count(r) > 0) {
		CU_ASSERT_EQUAL(la_peek(r, 0)->input_tokens, 100 + seen);
		seen++;
		la_drop(r);
		CU_ASSERT_EQUAL(la_fill(r, tr, &err), 0);
	}
	CU_ASSERT_EQUAL(seen, 7);
	CU_ASSERT(la_eof(r));
	la_drop(r); /* empty: no-op */
	CU_ASSERT_EQUAL(la_count(r), 0);
	la_destroy(r);
	trace_close(tr);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("lookahead", NULL, NULL);
	if (!s || !CU_add_test(s, "fill, peek, drop, drain", test_fill_drain))
		return -1;
	return 0;
}
