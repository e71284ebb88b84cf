/* CUnit suite for sim/gwheel: indexing a macro-step's intermediate times, finding
 * them, meetings at equal times, full buckets, and lazily voided windows. */
#include <CUnit/CUnit.h>
#include <stdint.h>

#include "sim/gwheel.h"

typedef struct hits {
	int n;
	gw_entry last;
} hits;

static void on_hit(void *ctx, const gw_entry *e)
{
	hits *h = ctx;

	h->n++;
	h->last = *e;
}

/* Entries of w at exactly time t: how many, and the last in *e. */
static int count_at(const gw_wheel *w, simtime_t t, gw_entry *e)
{
	const gw_entry *es;
	int n = gw_find(w, t, &es), c = 0;

	for (int i = 0; i < n; i++)
		if (es[i].time == t) {
			c++;
			*e = es[i];
		}
	return c;
}

static void test_index_find(void)
{
	gw_wheel *w = NULL;
	const int64_t d[4] = {10, 20, 30, 40};
	hits h = {0};
	gw_entry e;

	CU_ASSERT_EQUAL_FATAL(gw_create(4, &w), 0);
	CU_ASSERT(gw_span(w) > 1000000000LL); /* at least ~1.6 s ahead */
	/* Four steps from t=1000: intermediate ends 1010, 1030, 1060 (not the last, 1100). */
	CU_ASSERT_EQUAL(gw_index(w, 1000, d, 4, 2, 7, on_hit, &h), 1);
	CU_ASSERT_EQUAL(h.n, 0);
	CU_ASSERT_EQUAL(count_at(w, 1010, &e), 1);
	CU_ASSERT_EQUAL(e.owner, 2);
	CU_ASSERT_EQUAL(e.step, 1);
	CU_ASSERT_EQUAL(e.gen, 7);
	CU_ASSERT_EQUAL(count_at(w, 1060, &e), 1);
	CU_ASSERT_EQUAL(e.step, 3);
	CU_ASSERT_EQUAL(count_at(w, 1100, &e), 0);
	CU_ASSERT_EQUAL(count_at(w, 1011, &e), 0);
	/* Another owner's macro-step with an end at 1030: met, reported before adding. */
	{
		const int64_t d2[2] = {25, 100};

		CU_ASSERT_EQUAL(gw_index(w, 1005, d2, 2, 3, 1, on_hit, &h), 0);
		CU_ASSERT_EQUAL(h.n, 1);
		CU_ASSERT_EQUAL(h.last.owner, 2);
		CU_ASSERT_EQUAL(h.last.step, 2);
		CU_ASSERT_EQUAL(h.last.time, 1030);
		CU_ASSERT_EQUAL(count_at(w, 1030, &e), 2);
	}
	/* A single step has no intermediate end: nothing indexed, nothing met. */
	CU_ASSERT_EQUAL(gw_index(w, 2000, d, 1, 1, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(h.n, 1);
	gw_destroy(w);
}

static void test_full_bucket(void)
{
	gw_wheel *w = NULL;
	const int64_t d[2] = {1, 1};
	hits h = {0};
	gw_entry e;

	CU_ASSERT_EQUAL_FATAL(gw_create(1, &w), 0);
	/* GW_CAP distinct times in one bucket fit; the next does not. */
	for (int i = 0; i < GW_CAP; i++)
		CU_ASSERT_EQUAL(gw_index(w, 100 * i, d, 2, i, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(gw_index(w, 100 * GW_CAP, d, 2, GW_CAP, 1, on_hit, &h), 0);
	CU_ASSERT_EQUAL(h.n, 0);
	CU_ASSERT_EQUAL(count_at(w, 100 * GW_CAP + 1, &e), 0);
	CU_ASSERT_EQUAL(count_at(w, 1, &e), 1);
	gw_destroy(w);
}

static void test_void_window(void)
{
	gw_wheel *w = NULL;
	const int64_t d[2] = {5, 5};
	hits h = {0};
	gw_entry e;
	simtime_t turn;

	CU_ASSERT_EQUAL_FATAL(gw_create(1, &w), 0);
	/* One owner: the minimum of 4096 buckets, so a turn of the ring is span + span/4095. */
	turn = gw_span(w) / 4095 * 4096;
	CU_ASSERT_EQUAL(gw_index(w, 0, d, 2, 0, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(count_at(w, 5, &e), 1);
	CU_ASSERT_EQUAL(count_at(w, turn + 5, &e), 0); /* same bucket, other window */
	/* A window one turn later reuses the bucket: the old entry is void, and the
	 * same time one turn later is not a meeting. */
	CU_ASSERT_EQUAL(gw_index(w, turn, d, 2, 1, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(h.n, 0);
	CU_ASSERT_EQUAL(count_at(w, turn + 5, &e), 1);
	CU_ASSERT_EQUAL(e.owner, 1);
	CU_ASSERT_EQUAL(count_at(w, 5, &e), 0);
	gw_destroy(w);
}

/* Times in one bucket with equal low 16 bits (kept in the bucket's head) are told apart
 * by the entries; other low bits rule a bucket out without them. */
static void test_low_bits(void)
{
	gw_wheel *w = NULL;
	const int64_t d[2] = {1000, 1}, d2[2] = {1000 + 65536, 1};
	const gw_entry *es;
	hits h = {0};
	gw_entry e;

	CU_ASSERT_EQUAL_FATAL(gw_create(1, &w), 0); /* one owner: buckets of ~16 ms */
	CU_ASSERT_EQUAL(gw_index(w, 0, d, 2, 0, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(gw_find(w, 1001, &es), 0);
	CU_ASSERT_EQUAL(gw_find(w, 1000 + 65536, &es), 1); /* returned whole ... */
	CU_ASSERT_EQUAL(count_at(w, 1000 + 65536, &e), 0); /* ... but none is at it */
	/* The same low bits are no meeting. */
	CU_ASSERT_EQUAL(gw_index(w, 0, d2, 2, 1, 1, on_hit, &h), 1);
	CU_ASSERT_EQUAL(h.n, 0);
	CU_ASSERT_EQUAL(count_at(w, 1000 + 65536, &e), 1);
	CU_ASSERT_EQUAL(e.owner, 1);
	CU_ASSERT_EQUAL(count_at(w, 1000, &e), 1);
	CU_ASSERT_EQUAL(e.owner, 0);
	gw_destroy(w);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("gwheel", NULL, NULL);
	if (!s || !CU_add_test(s, "index and find", test_index_find) ||
	    !CU_add_test(s, "full bucket", test_full_bucket) ||
	    !CU_add_test(s, "older windows are void", test_void_window) ||
	    !CU_add_test(s, "low bits of times in the head", test_low_bits))
		return -1;
	return 0;
}
