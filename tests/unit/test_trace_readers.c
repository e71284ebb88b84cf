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


/* ---- column mapping, time units, OpenAI usage logs (issue 19) ---- */

/* Open text (written to name) with a mapping "role=col,..." (NULL: none), unit and
 * model filter (NULL: none); err holds the message on failure. */
static trace_reader *open_mapped(const char *name, const char *text, const char *cols,
				 trace_time_unit unit, const char *model, fs_err *err)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;

	memset(err, 0, sizeof *err);
	if (cols && trace_columns_parse(cols, &o, err))
		return NULL;
	o.time_unit = unit;
	if (model)
		snprintf(o.model_filter, sizeof o.model_filter, "%s", model);
	if (trace_open_file(text ? tu_file(name, text) : name, &o, &r, err))
		return NULL;
	return r;
}

/* Read r to the end: the arrivals into t (cap), the count, or -1 with err set. */
static int drain(trace_reader *r, int64_t *t, int cap, fs_err *err)
{
	trace_req q;
	int n = 0, rc;

	while ((rc = trace_next(r, &q, err)) == 1) {
		if (n < cap)
			t[n] = q.arrival_ns;
		n++;
	}
	return rc < 0 ? -1 : n;
}

static void test_mapping(void)
{
	fs_err err;
	trace_req q;
	trace_reader *r = open_mapped(D "gateway_epoch.csv", NULL,
				      "arrival=timestamp,input=prompt_len,output=completion_len,model=model",
				      TRACE_TU_AUTO, NULL, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_CSV);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 0); /* epoch seconds re-based to the first request */
	CU_ASSERT_EQUAL(q.input_tokens, 812);
	CU_ASSERT_EQUAL(q.output_tokens, 143);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "llama-3.1-8b"); /* model */
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "holds epoch seconds (detected)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "2025-03-04 09:20:00 UTC"));
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 360000000LL);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 890000000LL);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "llama-3.1-70b");
	trace_close(r);

	/* model filter: 3 of the 8 rows; category mapped elsewhere wins over the model */
	r = open_mapped(D "gateway_epoch.csv", NULL,
			"arrival=timestamp,input=prompt_len,output=completion_len,model=model,category=status",
			TRACE_TU_AUTO, "llama-3.1-70b", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	{
		int64_t t[8];

		CU_ASSERT_EQUAL(drain(r, t, 8, &err), 3);
		CU_ASSERT_EQUAL(t[0], 0); /* re-based to the first KEPT request */
		CU_ASSERT_EQUAL(t[2], 5040000000LL);
		CU_ASSERT_EQUAL(trace_category_count(r), 1);
		CU_ASSERT_STRING_EQUAL(trace_category_name(r, 0), "200");
	}
	trace_close(r);
	r = open_mapped(D "gateway_epoch.csv", NULL,
			"arrival=timestamp,input=prompt_len,output=completion_len,model=model",
			TRACE_TU_AUTO, "gpt-5", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(drain(r, NULL, 0, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no request has model 'gpt-5' (8 rows have other models: llama-3.1-8b, llama-3.1-70b)"));
	trace_close(r);

	/* unmapped roles keep the generic names; hash ids in a cell; other columns ignored */
	r = open_mapped("hash.csv", "id,arrival_s,n_in,output_tokens,blocks\n"
			"a,5,1024,3,\"[7, 8]\"\nb,6,512,2,9 10 11\n",
			"input=n_in,hash_ids=blocks", TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 0); /* a mapping re-bases even small offsets */
	CU_ASSERT_EQUAL(q.n_hashes, 2);
	CU_ASSERT_EQUAL(q.hashes[1], 8);
	CU_ASSERT_EQUAL(q.hash_block_tokens, 512);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 1000000000LL);
	CU_ASSERT_EQUAL(q.n_hashes, 3);
	CU_ASSERT_EQUAL(q.hashes[2], 11);
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "first request at 5.000 s"));
	trace_close(r);

	/* --columns parsing */
	{
		trace_open_opts o = trace_open_opts_default();

		CU_ASSERT_EQUAL(trace_columns_parse("arrival=ts,output=usage.completion_tokens", &o, &err), 0);
		CU_ASSERT_STRING_EQUAL(o.columns[TRACE_COL_ARRIVAL], "ts");
		CU_ASSERT_STRING_EQUAL(o.columns[TRACE_COL_OUTPUT], "usage.completion_tokens");
		CU_ASSERT_EQUAL(trace_columns_parse("arival=ts", &o, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown role 'arival' (known: arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model)"));
		CU_ASSERT_EQUAL(trace_columns_parse("arrival", &o, &err), -1);
	}
}

static void test_units(void)
{
	static const char hdr[] = "ts,in,out\n";
	static const char cols[] = "arrival=ts,input=in,output=out";
	char buf[256];
	int64_t t[4];
	fs_err err;
	trace_reader *r;
	struct {
		const char *a, *b;
		const char *what;
	} auto_cases[] = {
		{"1741080005", "1741080006.5", "epoch seconds"},
		{"1741080005000", "1741080006500", "epoch milliseconds"},
		{"1741080005000000", "1741080006500000", "epoch microseconds"},
		{"1741080005000000000", "1741080006500000000", "epoch nanoseconds"},
		{"2025-03-04 09:20:05", "2025-03-04T09:20:06.5Z", "ISO 8601 timestamps"},
	};

	for (size_t i = 0; i < sizeof auto_cases / sizeof *auto_cases; i++) {
		snprintf(buf, sizeof buf, "%s%s,10,5\n%s,10,5\n", hdr, auto_cases[i].a, auto_cases[i].b);
		r = open_mapped("units.csv", buf, cols, TRACE_TU_AUTO, NULL, &err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT_EQUAL(drain(r, t, 4, &err), 2);
		CU_ASSERT_EQUAL(t[0], 0);
		CU_ASSERT_EQUAL(t[1], 1500000000LL);
		CU_ASSERT_PTR_NOT_NULL(trace_time_note(r));
		if (trace_time_note(r)) {
			CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), auto_cases[i].what));
			CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "2025-03-04 09:20:05 UTC"));
		}
		trace_close(r);
	}
	/* explicit units: relative milliseconds (auto would read them as seconds) */
	snprintf(buf, sizeof buf, "%s250,10,5\n1750,10,5\n", hdr);
	r = open_mapped("units.csv", buf, cols, TRACE_TU_MS, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(drain(r, t, 4, &err), 2);
	CU_ASSERT_EQUAL(t[1], 1500000000LL);
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "holds milliseconds (time_unit: ms); first request at 0.250 s"));
	trace_close(r);
	/* plain generic traces keep their offsets (results do not move) ... */
	r = open_mapped(D "generic.csv", NULL, NULL, TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(drain(r, t, 4, &err), 3);
	CU_ASSERT_EQUAL(t[0], 500000000LL);
	CU_ASSERT_PTR_NULL(trace_time_note(r));
	trace_close(r);
	/* ... but epoch milliseconds under arrival_s are detected and re-based */
	r = open_mapped("legacy.csv", "arrival_s,input_tokens,output_tokens\n1741080005000,1,1\n1741080005250,1,1\n",
			NULL, TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(drain(r, t, 4, &err), 2);
	CU_ASSERT_EQUAL(t[0], 0);
	CU_ASSERT_EQUAL(t[1], 250000000LL);
	trace_close(r);
	/* JSONL with a dotted mapping and epoch microseconds */
	r = open_mapped("us.jsonl", "{\"t\": 1741080005000000, \"u\": {\"p\": 7, \"c\": 2}}\n"
					"{\"t\": 1741080005000100, \"u\": {\"p\": 8, \"c\": 3}}\n",
			"arrival=t,input=u.p,output=u.c", TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_JSONL);
	CU_ASSERT_EQUAL(drain(r, t, 4, &err), 2);
	CU_ASSERT_EQUAL(t[1], 100000LL);
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "'t' holds epoch microseconds (detected)"));
	trace_close(r);
}

static void test_openai(void)
{
	fs_err err;
	trace_req q;
	trace_reader *r = open_mapped(D "openai_usage.jsonl", NULL, NULL, TRACE_TU_AUTO, NULL, &err);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_OPENAI);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 0);
	CU_ASSERT_EQUAL(q.input_tokens, 19);
	CU_ASSERT_EQUAL(q.output_tokens, 10);
	CU_ASSERT_EQUAL(q.max_tokens, -1);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "gpt-4o-mini-2024-07-18");
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 1000000000LL);
	CU_ASSERT_STRING_EQUAL(trace_category_name(r, q.category), "Qwen/Qwen2.5-7B-Instruct");
	CU_ASSERT_PTR_NOT_NULL(strstr(trace_time_note(r), "'created' holds epoch seconds"));
	trace_close(r);
	CU_ASSERT_EQUAL(trace_format_parse("openai", &(trace_format){0}), 0);

	/* gateway lines {"request": ..., "response": ...}: max_tokens from the request
	 * (null: none), the rest from the response */
	r = open_mapped(D "openai_gateway.jsonl", NULL, NULL, TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_OPENAI);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.input_tokens, 930);
	CU_ASSERT_EQUAL(q.max_tokens, 512);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.arrival_ns, 2000000000LL);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.max_tokens, -1);
	CU_ASSERT_EQUAL(q.output_tokens, 388);
	trace_close(r);

	/* model filter; a mapping overrides one key and keeps the other defaults */
	r = open_mapped(D "openai_usage.jsonl", NULL, NULL, TRACE_TU_AUTO, "Qwen/Qwen2.5-7B-Instruct", &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	{
		int64_t t[8];

		CU_ASSERT_EQUAL(drain(r, t, 8, &err), 2);
		CU_ASSERT_EQUAL(t[1], 3000000000LL);
	}
	trace_close(r);
	r = open_mapped(D "openai_usage.jsonl", NULL, "input=usage.total_tokens", TRACE_TU_AUTO, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(trace_reader_format(r), TRACE_FMT_OPENAI);
	CU_ASSERT_EQUAL(trace_next(r, &q, &err), 1);
	CU_ASSERT_EQUAL(q.input_tokens, 29);
	CU_ASSERT_EQUAL(q.output_tokens, 10);
	trace_close(r);
}

/* The message of reading text (as name) with cols/unit, "" when it reads fine. */
static const char *map_error(const char *name, const char *text, const char *cols, trace_time_unit unit)
{
	static fs_err err;
	trace_reader *r = open_mapped(name, text, cols, unit, NULL, &err);

	if (r) {
		int n = drain(r, NULL, 0, &err);

		trace_close(r);
		if (n >= 0)
			return "";
	}
	return err.msg;
}

static void test_mapping_errors(void)
{
	static const char cols[] = "arrival=timestamp,input=prompt_len,output=completion_len";
	char path[512];
	const char *m;

	/* the mapping names a column the header lacks: FILE:1 and the column */
	m = map_error("m.csv", "time,prompt_len,completion_len\n1,2,3\n", cols, TRACE_TU_AUTO);
	tu_path(path, sizeof path, "m.csv");
	CU_ASSERT_PTR_NOT_NULL(strstr(m, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "m.csv:1: column 'timestamp' (columns.arrival) is not in the header (columns: time, prompt_len, completion_len)"));
	/* ISO strings with time_unit: ms: FILE:LINE and the column */
	m = map_error("iso.csv", "timestamp,prompt_len,completion_len\n2025-03-04T09:20:05Z,2,3\n", cols, TRACE_TU_MS);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "iso.csv:2: timestamp (arrival) '2025-03-04T09:20:05Z' is an ISO 8601 timestamp, not a number of milliseconds (time_unit: ms"));
	/* numbers with time_unit: iso8601 */
	m = map_error("num.csv", "timestamp,prompt_len,completion_len\n1741080005,2,3\n", cols, TRACE_TU_ISO);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "num.csv:2: timestamp (arrival) '1741080005' is a number, not an ISO 8601 timestamp"));
	/* epoch ms read as seconds: too large, with the hint */
	m = map_error("ms.csv", "timestamp,prompt_len,completion_len\n1741080005000,2,3\n", cols, TRACE_TU_S);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "ms.csv:2: timestamp (arrival) 1.74108e+12 is too large as seconds"));
	/* decreasing epoch timestamps */
	m = map_error("dec.csv", "timestamp,prompt_len,completion_len\n1741080005,2,3\n1741080007,2,3\n1741080001,2,3\n",
		      cols, TRACE_TU_AUTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "dec.csv:4: timestamp goes backwards by 6.000 s (tolerance 1.000 s) in column 'timestamp'"));
	m = map_error("dec.jsonl", "{\"created\": 1741080009, \"usage\": {\"prompt_tokens\": 1, \"completion_tokens\": 1}}\n"
				   "{\"created\": 1741080001, \"usage\": {\"prompt_tokens\": 1, \"completion_tokens\": 1}}\n",
		      NULL, TRACE_TU_AUTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "dec.jsonl:2: timestamp goes backwards by 8.000 s (tolerance 1.000 s) in column 'created'"));
	/* a missing JSON key names the key path */
	m = map_error("k.jsonl", "{\"created\": 1741080009, \"usage\": {\"prompt_tokens\": 1}}\n", NULL, TRACE_TU_AUTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "k.jsonl:1: missing \"usage.completion_tokens\""));
	/* a bad cell in a mapped column names the column */
	m = map_error("c.csv", "timestamp,prompt_len,completion_len\n1,x,3\n", cols, TRACE_TU_AUTO);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "c.csv:2: prompt_len (input) 'x' is not an integer"));
	/* a unit the format fixes */
	m = map_error(D "azure2024.csv", NULL, NULL, TRACE_TU_MS);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "time_unit ms does not apply to azure traces"));
	/* nor to mooncake ones (milliseconds) */
	m = map_error(D "mooncake.jsonl", NULL, NULL, TRACE_TU_S);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "time_unit s does not apply to mooncake traces"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("trace_readers", NULL, NULL);

	if (!s || !CU_add_test(s, "timestamp", test_timestamp) || !CU_add_test(s, "azure2024", test_azure2024) ||
	    !CU_add_test(s, "burstgpt", test_burstgpt) || !CU_add_test(s, "mooncake", test_mooncake) ||
	    !CU_add_test(s, "generic", test_generic) || !CU_add_test(s, "bad_rows", test_bad_rows) ||
	    !CU_add_test(s, "mapping", test_mapping) || !CU_add_test(s, "units", test_units) ||
	    !CU_add_test(s, "openai", test_openai) || !CU_add_test(s, "mapping_errors", test_mapping_errors))
		return -1;
	return 0;
}
