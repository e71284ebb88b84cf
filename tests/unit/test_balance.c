/* CUnit suite for sim/balance: round robin, ties to the lowest index, and branch and
 * bound over bounded replicas agreeing with a scan of the exact keys. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/balance.h"

static void test_round_robin(void)
{
	int first[3] = {0, 3, 5};
	balance *b = NULL;

	CU_ASSERT_EQUAL_FATAL(balance_create(BAL_ROUND_ROBIN, 2, first, &b), 0);
	for (int i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(balance_pick(b, 0, NULL, NULL), i % 3);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 3);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 4);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 3);
	CU_ASSERT_EQUAL(balance_rr_count(b, 0), 7);
	CU_ASSERT_EQUAL(balance_rr_count(b, 1), 3);
	CU_ASSERT_FALSE(balance_bounded(b, 0));
	balance_destroy(b);
}

static void test_ties_lowest_index(void)
{
	int first[3] = {0, 5, 8};
	balance *b = NULL;

	CU_ASSERT_EQUAL_FATAL(balance_create(BAL_LEAST_KV, 2, first, &b), 0);
	/* All keys 0: the first replica of each pool. */
	CU_ASSERT_EQUAL(balance_pick(b, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 5);
	balance_set_keys(b, 0, 4, 1);
	balance_set_keys(b, 1, 2, 9);
	balance_set_keys(b, 2, 2, 7);
	balance_set_keys(b, 3, 2, 7);
	balance_set_keys(b, 4, 3, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 0, NULL, NULL), 2); /* (2, 7) at 2 and 3: the lower */
	balance_set_keys(b, 2, 2, 8);
	CU_ASSERT_EQUAL(balance_pick(b, 0, NULL, NULL), 3);
	balance_set_keys(b, 3, 5, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 0, NULL, NULL), 2);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 5); /* other pool untouched */
	balance_set_keys(b, 5, 1, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 1, NULL, NULL), 6);
	balance_destroy(b);
}

/* Exact loads for the view function; the tree holds lower bounds for bounded ones. */
typedef struct loads {
	int64_t out[64], used[64];
	int calls;
} loads;

static void view(void *ctx, int ri, int64_t *out, int64_t *used)
{
	loads *l = ctx;

	l->calls++;
	*out = l->out[ri];
	if (used) /* NULL when only the tokens are wanted (least tokens) */
		*used = l->used[ri];
}

static uint64_t rnd(uint64_t *x)
{
	*x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
	return *x >> 33;
}

static void bb_vs_scan(router_balance kind)
{
	enum { NP = 2 };
	int first[NP + 1] = {0, 37, 50};
	uint64_t x = 99;
	int bad = 0;

	for (int round = 0; round < 300; round++) {
		balance *b = NULL;
		loads l = {0};

		CU_ASSERT_EQUAL_FATAL(balance_create(kind, NP, first, &b), 0);
		for (int i = 0; i < first[NP]; i++) {
			int bounded = rnd(&x) % 3 == 0;
			/* Few distinct values, so ties are common. */
			int64_t out = (int64_t)(rnd(&x) % 6), used = (int64_t)(rnd(&x) % 4);
			int64_t lo_out = bounded ? out - (int64_t)(rnd(&x) % 3) : out;
			int64_t lo_used = bounded ? used - (int64_t)(rnd(&x) % 2) : used;

			l.out[i] = out;
			l.used[i] = used;
			if (bounded)
				balance_bound(b, i);
			if (kind == BAL_LEAST_KV)
				balance_set_keys(b, i, lo_used, out); /* as balance_update: tokens exact */
			else
				balance_set_keys(b, i, lo_out, 0);
		}
		for (int p = 0; p < NP; p++) {
			int best = -1;
			int64_t b1 = 0, b2 = 0;

			for (int i = first[p]; i < first[p + 1]; i++) {
				int64_t k1 = kind == BAL_LEAST_KV ? l.used[i] : l.out[i];
				int64_t k2 = kind == BAL_LEAST_KV ? l.out[i] : 0;

				if (best < 0 || k1 < b1 || (k1 == b1 && k2 < b2)) {
					best = i;
					b1 = k1;
					b2 = k2;
				}
			}
			if (balance_pick(b, p, view, &l) != best)
				bad++;
		}
		/* Unbinding every replica with its exact keys: the tree alone decides. */
		for (int i = 0; i < first[NP]; i++) {
			balance_unbound(b, i);
			CU_ASSERT_FALSE(balance_bounded(b, i));
			if (kind == BAL_LEAST_KV)
				balance_set_keys(b, i, l.used[i], l.out[i]);
			else
				balance_set_keys(b, i, l.out[i], 0);
		}
		l.calls = 0;
		(void)balance_pick(b, 0, view, &l);
		CU_ASSERT_EQUAL(l.calls, 0);
		balance_destroy(b);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static void test_bb_least_tokens(void)
{
	bb_vs_scan(BAL_LEAST_TOKENS);
}

static void test_bb_least_kv(void)
{
	bb_vs_scan(BAL_LEAST_KV);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("balance", NULL, NULL);
	if (!s || !CU_add_test(s, "round robin per pool", test_round_robin) ||
	    !CU_add_test(s, "ties go to the lowest index", test_ties_lowest_index) ||
	    !CU_add_test(s, "branch and bound = scan (least tokens)", test_bb_least_tokens) ||
	    !CU_add_test(s, "branch and bound = scan (least KV)", test_bb_least_kv))
		return -1;
	return 0;
}
