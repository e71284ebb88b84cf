/* CUnit suite for traces/tcache.c: a cached reader gives exactly what the file reader
 * gives (rows, hash ids, categories, bad-row counts, time note, and the error at the
 * row where the file reader fails), alone, interleaved with other readers, from
 * several threads at once, and past the byte budget (streaming fallback). */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/tcache.h"
#include "traces/trace.h"
#include "tutil.h"

/* FNV-1a over everything a reader hands out, up to and including how it ends. */
typedef struct digest {
	uint64_t h;
	int64_t rows, bad;
	int end;          /* 0 EOF, -1 error */
	char err[512];
	char note[256];
	int ncats;
	char cats[512];
} digest;

static void mix(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ c[i]) * 0x100000001b3ull;
}

static void walk(trace_reader *r, digest *d, int64_t max_rows)
{
	trace_req q;
	fs_err err = {0};
	int rc;

	memset(d, 0, sizeof *d);
	d->h = 0xcbf29ce484222325ull;
	while ((max_rows < 0 || d->rows < max_rows) && (rc = trace_next(r, &q, &err)) == 1) {
		mix(&d->h, &q.arrival_ns, sizeof q.arrival_ns);
		mix(&d->h, &q.input_tokens, sizeof q.input_tokens);
		mix(&d->h, &q.output_tokens, sizeof q.output_tokens);
		mix(&d->h, &q.max_tokens, sizeof q.max_tokens);
		mix(&d->h, &q.category, sizeof q.category);
		mix(&d->h, &q.flags, sizeof q.flags);
		mix(&d->h, &q.n_hashes, sizeof q.n_hashes);
		if (q.n_hashes > 0)
			mix(&d->h, q.hashes, (size_t)q.n_hashes * sizeof *q.hashes);
		d->rows++;
		rc = 0;
	}
	if (max_rows < 0 || d->rows < max_rows) {
		d->end = rc < 0 ? -1 : 0;
		if (rc < 0)
			snprintf(d->err, sizeof d->err, "%.500s", err.msg);
	}
	d->bad = trace_bad_rows(r);
	snprintf(d->note, sizeof d->note, "%s", trace_time_note(r) ? trace_time_note(r) : "");
	d->ncats = trace_category_count(r);
	for (int i = 0; i < d->ncats; i++) {
		size_t l = strlen(d->cats);
		snprintf(d->cats + l, sizeof d->cats - l, "%s|", trace_category_name(r, i));
	}
}

static void same(const digest *a, const digest *b)
{
	CU_ASSERT_EQUAL(a->h, b->h);
	CU_ASSERT_EQUAL(a->rows, b->rows);
	CU_ASSERT_EQUAL(a->bad, b->bad);
	CU_ASSERT_EQUAL(a->end, b->end);
	CU_ASSERT_STRING_EQUAL(a->err, b->err);
	CU_ASSERT_STRING_EQUAL(a->note, b->note);
	CU_ASSERT_EQUAL(a->ncats, b->ncats);
	CU_ASSERT_STRING_EQUAL(a->cats, b->cats);
}

/* A generic CSV of n rows with categories, a few bad rows (skip_bad) and, when
 * fail_at >= 0, a bad row there that stops a strict reader. */
static const char *write_csv(const char *name, int n, int fail_at)
{
	size_t cap = (size_t)n * 48 + 64, len = 0;
	char *text = malloc(cap);
	const char *path;

	len += (size_t)snprintf(text + len, cap - len, "arrival_s,input_tokens,output_tokens,category\n");
	for (int i = 0; i < n; i++) {
		if (i == fail_at || (fail_at < 0 && i % 997 == 5))
			len += (size_t)snprintf(text + len, cap - len, "%d.5,oops,3,c%d\n", i, i % 7);
		else
			len += (size_t)snprintf(text + len, cap - len, "%d.25,%d,%d,c%d\n", i, 10 + i % 300, 1 + i % 50,
						i % 7);
	}
	path = tu_file(name, text);
	free(text);
	return path;
}

static void compare(const char *path, const trace_open_opts *o, int64_t max_rows)
{
	trace_reader *a = NULL, *b = NULL, *c = NULL;
	fs_err err = {0};
	digest da, db, dc;

	CU_ASSERT_EQUAL_FATAL(trace_open_file(path, o, &a, &err), 0);
	walk(a, &da, max_rows);
	trace_close(a);
	/* Two cached readers: the first decodes, the second (opened mid-way) re-reads. */
	CU_ASSERT_EQUAL_FATAL(tcache_open(path, o, &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(tcache_open(path, o, &c, &err), 0);
	walk(b, &db, max_rows);
	walk(c, &dc, max_rows);
	same(&da, &db);
	same(&da, &dc);
	trace_close(b);
	trace_close(c);
}

static void test_same_as_file(void)
{
	char mc[1024];
	trace_open_opts o = trace_open_opts_default();
	const char *csv = write_csv("t.csv", 30000, -1), *bad = write_csv("bad.csv", 20000, 17000);
	int files;
	size_t bytes;

	snprintf(mc, sizeof mc, "%s/tests/data/traces/mooncake_prefix.jsonl", FS_SOURCE_DIR);
	tcache_enable(TCACHE_DEFAULT_BYTES);
	CU_ASSERT(tcache_enabled());
	o.skip_bad_rows = 1;
	compare(csv, &o, -1);       /* bad rows skipped and counted, categories, 4 chunks */
	compare(csv, &o, 12345);    /* a reader that stops mid-chunk */
	compare(mc, NULL, -1);      /* hash ids */
	o.skip_bad_rows = 0;
	compare(csv, &o, -1);       /* strict: the first bad row is the error */
	compare(bad, &o, -1);       /* the error after 17000 rows (third chunk) */
	tcache_stats(&files, &bytes);
	CU_ASSERT_EQUAL(files, 4);  /* one entry per (file, options) */
	CU_ASSERT(bytes > 0);
	tcache_clear();
	CU_ASSERT(!tcache_enabled());
	tcache_stats(&files, &bytes);
	CU_ASSERT_EQUAL(files, 0);
}

/* Past the budget, readers stream from the file (skipping what was served). */
static void test_over_budget(void)
{
	trace_open_opts o = trace_open_opts_default();
	const char *csv = write_csv("big.csv", 40000, -1);

	tcache_enable(1); /* not even one chunk */
	o.skip_bad_rows = 1;
	compare(csv, &o, -1);
	tcache_clear();
	tcache_enable(1200 * 1024); /* two chunks (16384 rows), then the file */
	compare(csv, &o, -1);
	{
		int files;
		size_t bytes;
		tcache_stats(&files, &bytes);
		CU_ASSERT(bytes > 0 && bytes <= 1200 * 1024);
	}
	tcache_clear();
}

typedef struct job {
	const char *path;
	digest d;
} job;

static void *reader_thread(void *arg)
{
	job *j = arg;
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	fs_err err = {0};

	o.skip_bad_rows = 1;
	if (tcache_open(j->path, &o, &r, &err) == 0) {
		walk(r, &j->d, -1);
		trace_close(r);
	}
	return NULL;
}

static void test_threads(void)
{
	const char *csv = write_csv("thr.csv", 50000, -1);
	trace_open_opts o = trace_open_opts_default();
	trace_reader *a = NULL;
	fs_err err = {0};
	pthread_t t[4];
	job jobs[4];
	digest ref;

	o.skip_bad_rows = 1;
	CU_ASSERT_EQUAL_FATAL(trace_open_file(csv, &o, &a, &err), 0);
	walk(a, &ref, -1);
	trace_close(a);
	tcache_enable(TCACHE_DEFAULT_BYTES);
	for (int i = 0; i < 4; i++) {
		jobs[i].path = csv;
		pthread_create(&t[i], NULL, reader_thread, &jobs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		same(&ref, &jobs[i].d);
	}
	tcache_clear();
}

/* Off: tcache_open is trace_open_file (open errors alike). */
static void test_off(void)
{
	trace_reader *r = NULL;
	fs_err err = {0};

	CU_ASSERT(!tcache_enabled());
	CU_ASSERT_EQUAL(tcache_open("/nonexistent/trace.csv", NULL, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/trace.csv"));
	tcache_enable(TCACHE_DEFAULT_BYTES);
	CU_ASSERT_EQUAL(tcache_open("/nonexistent/trace.csv", NULL, &r, &err), -1);
	tcache_clear();
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("tcache", tu_suite_init, NULL);

	if (!s || !CU_add_test(s, "cached readers give what the file reader gives", test_same_as_file) ||
	    !CU_add_test(s, "past the budget: streaming fallback", test_over_budget) ||
	    !CU_add_test(s, "four threads on one file", test_threads) || !CU_add_test(s, "off, and open errors", test_off))
		return -1;
	return 0;
}
