/* CUnit suite for traces/ readers: each format on a small fixture with known answers,
 * gzip/zstd input, timestamp parsing, and bad rows (message, skip counting). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "traces/trace.h"
#include "tutil.h"

#define D FS_SOURCE_DIR "/tests/data/traces/"

static trace_reader *open_ok(const char *path, trace_format f)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	fs_err err = {0};

	o.format = f;
	if (trace_open_file(path, &o, &r, &err))
		fprintf(stderr, "\nopen failed: %s\n", err.msg);
	return r;
}

static void test_timestamp(void)
{
	int64_t a, b;

	/* 2023-11-16 = 19677 days after 1970-01-01 (python: date(2023,11,16).toordinal()-719163). */
	CU_ASSERT_EQUAL(trace_parse_timestamp("2023-11-16 18:17:03.9799600", 27, &a), 0);
	CU_ASSERT_EQUAL(a, (19677LL * 86400 + 18 * 3600 + 17 * 60 + 3) * 1000000000LL + 979960000LL);
	CU_ASSERT_EQUAL(trace_parse_timestamp("2023-11-16 20:17:03.97996+02:00", 31, &b), 0);
	CU_ASSERT_EQUAL(a, b);
	CU_ASSERT_EQUAL(trace_parse_timestamp("2023-02-30 00:00:00", 19, &a), -1);
	CU_ASSERT_EQUAL(trace_parse_timestamp("2023-11-16 18:17", 16, &a), -1);
	CU_ASSERT_EQUAL(trace_parse_timestamp("2023-11-16 18:17:03.x", 21, &a), -1);
}

static void test_azure2024(void)
{
	trace_reader *r = open_ok(D "azure2024.csv", TRACE_FMT_AUTO);
	trace_req q;
	fs_err err = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_AZURE);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 0);
	CU_ASSERT_EQUAL(q.input_tokens, 100);
	CU_ASSERT_EQUAL(q.max_tokens, -1);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 1491000000LL); /* 1.5 s - 0.009 s */
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 2991000000LL);
	CU_ASSERT_EQUAL(q.output_tokens, 0);
	CU_ASSERT_EQUAL(q.flags, TRACE_F_FAILED);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 0);
	trace_close(r);
}

static void test_burstgpt(void)
{
	trace_reader *r = open_ok(D "burstgpt.csv", TRACE_FMT_AUTO);
	trace_req q;
	fs_err err = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_BURSTGPT);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 5000000000LL);
	CU_ASSERT_EQUAL(q.input_tokens, 472);
	CU_ASSERT_EQUAL(q.output_tokens, 18);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "ChatGPT/Conversation log");
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "GPT-4/API log");
	CU_ASSERT_EQUAL(q.flags & TRACE_F_FAILED, TRACE_F_FAILED);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.category, 0);
	CU_ASSERT_EQUAL(q.arrival_ns, 6500000000LL);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 0);
	CU_ASSERT_EQUAL(trace_category_count(r), 2);
	trace_close(r);
}

static void test_mooncake(void)
{
	trace_reader *r = open_ok(D "mooncake.jsonl", TRACE_FMT_AUTO);
	trace_req q;
	fs_err err = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_MOONCAKE);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.input_tokens, 1024);
	CU_ASSERT_EQUAL(q.n_hashes, 2);
	CU_ASSERT_EQUAL(q.hash_block_tokens, 512);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 1500000000LL); /* 1500 ms */
	CU_ASSERT_EQUAL_FATAL(q.n_hashes, 3);
	CU_ASSERT_EQUAL(q.hashes[0], 1);
	CU_ASSERT_EQUAL(q.hashes[2], 4);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 0);
	trace_close(r);
}

/* generic.csv, .jsonl, .csv.gz and .csv.zst hold the same three requests. */
static void check_generic(const char *path, trace_format want)
{
	trace_reader *r = open_ok(path, TRACE_FMT_AUTO);
	trace_req q;
	fs_err err = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), want);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 500000000LL);
	CU_ASSERT_EQUAL(q.input_tokens, 100);
	CU_ASSERT_EQUAL(q.output_tokens, 10);
	CU_ASSERT_EQUAL(q.max_tokens, 64);
	CU_ASSERT_EQUAL(q.prompt_bytes, 400);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "chat");
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 1250000000LL);
	CU_ASSERT_EQUAL(q.max_tokens, -1);
	CU_ASSERT_EQUAL(q.prompt_bytes, -1);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "doc, long");
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 2000000000LL);
	CU_ASSERT_EQUAL(q.category, 0);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 0);
	trace_close(r);
}

static void test_generic(void)
{
	check_generic(D "generic.csv", TRACE_FMT_CSV);
	check_generic(D "generic.jsonl", TRACE_FMT_JSONL);
	check_generic(D "generic.csv.gz", TRACE_FMT_CSV);
	check_generic(D "generic.csv.zst", TRACE_FMT_CSV);
}

/* Open + read to the end; returns the error message ("" when fine). */
static const char *read_all(const char *text, int skip, int64_t *bad, int64_t *n)
{
	static fs_err err;
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	trace_req q;
	int rc;
	const char *path = tu_file("trace.csv", text);

	memset(&err, 0, sizeof err);
	o.skip_bad_rows = skip;
	*n = 0;
	if (trace_open_file(path, &o, &r, &err))
		return err.msg;
	while ((rc = trace_next(r, &q, &err)) == 1)
		(*n)++;
	*bad = trace_bad_rows(r);
	trace_close(r);
	return rc < 0 ? err.msg : "";
}

/* The message expected for the fixture: its path followed by rest. */
static const char *at_trace(const char *rest)
{
	static char want[640];
	char path[512];

	if (tu_path(path, sizeof path, "trace.csv"))
		return "(no temp dir)";
	snprintf(want, sizeof want, "%s%s", path, rest);
	return want;
}

static void test_bad_rows(void)
{
	static const char hdr[] = "arrival_s,input_tokens,output_tokens\n";
	char buf[512];
	int64_t bad = 0, n;

	snprintf(buf, sizeof buf, "%s1,10,5\n2,-3,5\n3,10,5\n", hdr);
	CU_ASSERT_STRING_EQUAL(read_all(buf, 0, &bad, &n), at_trace(":3: input tokens -3 is negative"));
	CU_ASSERT_STRING_EQUAL(read_all(buf, 1, &bad, &n), "");
	CU_ASSERT_EQUAL(bad, 1);
	CU_ASSERT_EQUAL(n, 2);
	snprintf(buf, sizeof buf, "%s1,10,abc\n", hdr);
	CU_ASSERT_STRING_EQUAL(read_all(buf, 0, &bad, &n), at_trace(":2: output tokens 'abc' is not an integer"));
	snprintf(buf, sizeof buf, "%s1,10\n", hdr);
	CU_ASSERT_STRING_EQUAL(read_all(buf, 0, &bad, &n), at_trace(":2: expected 3 columns, found 2"));
	/* 0.5 s back is within the 1 s tolerance (clamped); 1.5 s back is not. */
	snprintf(buf, sizeof buf, "%s10,1,1\n9.5,1,1\n8,1,1\n", hdr);
	CU_ASSERT_STRING_EQUAL(read_all(buf, 0, &bad, &n), at_trace(":4: timestamp goes backwards by 2.000 s (tolerance 1.000 s)"));
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(read_all("", 0, &bad, &n), at_trace(": empty trace file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(read_all("a,b,c\n1,2,3\n", 0, &bad, &n), "unknown column 'a'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(read_all("{\"x\": 1}\n", 0, &bad, &n), "unknown trace format"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("trace_readers", NULL, NULL);

	if (!s || !CU_add_test(s, "timestamp", test_timestamp) || !CU_add_test(s, "azure2024", test_azure2024) ||
	    !CU_add_test(s, "burstgpt", test_burstgpt) || !CU_add_test(s, "mooncake", test_mooncake) ||
	    !CU_add_test(s, "generic", test_generic) || !CU_add_test(s, "bad_rows", test_bad_rows))
		return -1;
	return 0;
}
