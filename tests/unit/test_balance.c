/* CUnit suite for sim/balance: round robin, ties to the lowest index, and branch and
 * bound over bounded replicas agreeing with a scan of the exact keys and evaluating
 * the replicas a plain recursive search would. */
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
		CU_ASSERT_EQUAL(balance_pick(b, 0, 0, NULL, NULL), i % 3);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 3);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 4);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 3);
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
	CU_ASSERT_EQUAL(balance_pick(b, 0, 0, NULL, NULL), 0);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 5);
	balance_set_keys(b, 0, 4, 1);
	balance_set_keys(b, 1, 2, 9);
	balance_set_keys(b, 2, 2, 7);
	balance_set_keys(b, 3, 2, 7);
	balance_set_keys(b, 4, 3, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 0, 0, NULL, NULL), 2); /* (2, 7) at 2 and 3: the lower */
	balance_set_keys(b, 2, 2, 8);
	CU_ASSERT_EQUAL(balance_pick(b, 0, 0, NULL, NULL), 3);
	balance_set_keys(b, 3, 5, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 0, 0, NULL, NULL), 2);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 5); /* other pool untouched */
	balance_set_keys(b, 5, 1, 0);
	CU_ASSERT_EQUAL(balance_pick(b, 1, 0, NULL, NULL), 6);
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

/* Reference for the replicas a search evaluates (balance_search_stats), which the
 * fleet reads to decide whether macro-steps pass arrivals: a recursive branch and
 * bound over a pool's replicas with lower bounds (balance_set_keys on bounded ones;
 * exact keys are their own bounds), a subtree's least bound first, then its other
 * half, a subtree skipped when its least bound is not before the best exact key; none
 * in a pool without a bounded replica (its tree's root is the answer). */
typedef struct ref_search {
	const int64_t *lo1, *lo2, *ex1, *ex2; /* bounds and exact keys, pool-relative */
	const int *bounded;
	int cnt, best, leaves;
	int64_t b1, b2;
} ref_search;

static int ref_before(int64_t a1, int64_t a2, int a, int64_t b1, int64_t b2, int b)
{
	if (b < 0)
		return 1;
	if (a1 != b1)
		return a1 < b1;
	if (a2 != b2)
		return a2 < b2;
	return a < b;
}

/* Bounded replica with the least bound among [lo, hi), or -1 if none exists. */
static int ref_least(const ref_search *r, int lo, int hi)
{
	int w = -1;

	for (int i = lo; i < hi && i < r->cnt; i++)
		if (r->bounded[i] && (w < 0 || ref_before(r->lo1[i], r->lo2[i], i, r->lo1[w], r->lo2[w], w)))
			w = i;
	return w;
}

static void ref_visit(ref_search *r, int lo, int hi)
{
	int w = ref_least(r, lo, hi), mid = (lo + hi) / 2;

	if (w < 0)
		return;
	if (!ref_before(r->lo1[w], r->lo2[w], w, r->b1, r->b2, r->best))
		return;
	if (hi - lo == 1) {
		r->leaves++;
		if (ref_before(r->ex1[w], r->ex2[w], w, r->b1, r->b2, r->best)) {
			r->best = w;
			r->b1 = r->ex1[w];
			r->b2 = r->ex2[w];
		}
		return;
	}
	if (w < mid) {
		ref_visit(r, lo, mid);
		ref_visit(r, mid, hi);
	} else {
		ref_visit(r, mid, hi);
		ref_visit(r, lo, mid);
	}
}

static void bb_vs_scan(router_balance kind)
{
	enum { NP = 2 };
	int first[NP + 1] = {0, 37, 50};
	uint64_t x = 99;
	int bad = 0, bad_leaves = 0;
	int64_t lo1[64], lo2[64], ex1[64], ex2[64];
	int isb[64], all[64];

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
			lo1[i] = kind == BAL_LEAST_KV ? lo_used : lo_out;
			lo2[i] = kind == BAL_LEAST_KV ? out : 0;
			ex1[i] = kind == BAL_LEAST_KV ? used : out;
			ex2[i] = kind == BAL_LEAST_KV ? out : 0;
			isb[i] = bounded;
			all[i] = 1;
			if (bounded)
				balance_bound(b, i);
			if (kind == BAL_LEAST_KV)
				balance_set_keys(b, i, lo_used, out); /* as balance_update: tokens exact */
			else
				balance_set_keys(b, i, lo_out, 0);
		}
		for (int p = 0; p < NP; p++) {
			int best = -1, n = 1, f = first[p];
			int64_t b1 = 0, b2 = 0, searches, leaves0, leaves;
			ref_search r = {lo1 + f, lo2 + f, ex1 + f, ex2 + f, all + f, first[p + 1] - f, -1, 0, 0, 0};
			int any = 0;

			for (int i = first[p]; i < first[p + 1]; i++) {
				int64_t k1 = kind == BAL_LEAST_KV ? l.used[i] : l.out[i];
				int64_t k2 = kind == BAL_LEAST_KV ? l.out[i] : 0;

				if (best < 0 || k1 < b1 || (k1 == b1 && k2 < b2)) {
					best = i;
					b1 = k1;
					b2 = k2;
				}
			}
			while (n < r.cnt)
				n *= 2;
			for (int i = 0; i < r.cnt; i++)
				any |= isb[f + i];
			if (any) {
				ref_visit(&r, 0, n);
			} else {
				r.best = best - f;
			}
			balance_search_stats(b, &searches, &leaves0);
			if (balance_pick(b, p, 0, view, &l) != best || r.best + f != best)
				bad++;
			balance_search_stats(b, &searches, &leaves);
			if (leaves - leaves0 != r.leaves)
				bad_leaves++;
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
		(void)balance_pick(b, 0, 0, view, &l);
		CU_ASSERT_EQUAL(l.calls, 0);
		balance_destroy(b);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(bad_leaves, 0);
}

static void test_bb_least_tokens(void)
{
	bb_vs_scan(BAL_LEAST_TOKENS);
}

static void test_bb_least_kv(void)
{
	bb_vs_scan(BAL_LEAST_KV);
}

/* A replica in a macro-step as the fleet has it: L tokens outstanding after its last
 * step, n fewer per step, steps d[0..k-1] from t0. */
typedef struct mstep {
	int64_t L, n, t0, k, d[256];
} mstep;

/* Its outstanding tokens at time t, with the steps that end before t ended (or,
 * strict 0, those that end at t too: both orders occur in the fleet). */
static int64_t mstep_load(const mstep *m, int64_t t, int strict)
{
	int64_t e = 0, end = m->t0;

	for (int64_t j = 0; j < m->k - 1; j++) {
		end += m->d[j];
		if (strict ? end >= t : end > t)
			break;
		e++;
	}
	return m->L + m->n * (m->k - 1 - e);
}

static void mstep_span(const mstep *m, int64_t *dmax, int64_t *tend)
{
	*dmax = 0;
	*tend = m->t0;
	for (int64_t j = 0; j < m->k; j++) {
		*tend += m->d[j];
		*dmax = m->d[j] > *dmax ? m->d[j] : *dmax;
	}
}

/* Least tokens with bounds that fall with time (balance_set_line): random macro-steps
 * (steps of 1-30 ms, 1-16 requests, lines set at their start or later), picks at a
 * time inside every one of them equal a scan of the exact loads; one balance across
 * rounds, so the pools' slopes change and their keys are rebuilt. */
static void test_lines_vs_scan(void)
{
	enum { NP = 2 };
	int first[NP + 1] = {0, 37, 50};
	uint64_t x = 7;
	int bad = 0;
	int64_t searches, leaves, bounded_seen = 0;
	balance *b = NULL;
	static mstep ms[64];

	CU_ASSERT_EQUAL_FATAL(balance_create(BAL_LEAST_TOKENS, NP, first, &b), 0);
	for (int round = 0; round < 400; round++) {
		int64_t t = (int64_t)(round + 1) * 100000000; /* 0.1 s apart: time only moves on */
		loads l = {0};

		for (int i = 0; i < first[NP]; i++) {
			mstep *m = &ms[i];
			int64_t dlo = 1000000 + (int64_t)(rnd(&x) % 29000000), dmax, tend, tu;

			m->L = (int64_t)(rnd(&x) % (round % 2 ? 400 : 4000));
			if (rnd(&x) % 4 == 0) {
				balance_unbound(b, i);
				balance_set_keys(b, i, m->L, 0);
				l.out[i] = m->L;
				continue;
			}
			bounded_seen++;
			m->n = 1 + (int64_t)(rnd(&x) % 16);
			m->t0 = t - (int64_t)(rnd(&x) % 100000000);
			m->k = 0;
			tend = m->t0;
			/* Steps until one ends at t or later, then a few more. */
			for (int64_t extra = (int64_t)(rnd(&x) % 6); m->k < 256; m->k++) {
				m->d[m->k] = dlo + (int64_t)(rnd(&x) % (dlo / 4 + 1));
				tend += m->d[m->k];
				if (tend >= t && extra-- == 0) {
					m->k++;
					break;
				}
			}
			mstep_span(m, &dmax, &tend);
			tu = m->t0 + (int64_t)(rnd(&x) % (uint64_t)(t - m->t0 + 1));
			/* A line set at tu holds tu's L: loads from tu on are still its bounds. */
			balance_bound(b, i);
			balance_set_line(b, i, tu, m->L, m->n, dmax, tend);
			l.out[i] = mstep_load(m, t, (int)(rnd(&x) % 2));
		}
		for (int p = 0; p < NP; p++) {
			int best = -1;

			for (int i = first[p]; i < first[p + 1]; i++)
				if (best < 0 || l.out[i] < l.out[best])
					best = i;
			if (balance_pick(b, p, t, view, &l) != best)
				bad++;
		}
	}
	balance_search_stats(b, &searches, &leaves);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(searches > 0);
	CU_ASSERT(leaves < bounded_seen); /* the bounds did rule replicas out */
	balance_destroy(b);
}

/* The time-falling bound is what rules replicas out in an overloaded fleet: 32 full
 * replicas (16 requests, 30 ms steps, 20 steps from t = 0) 100 tokens apart, seen at
 * 10.5 steps: each has 144 tokens more than after its last step, so the least-loaded
 * one is the only one evaluated (a bound that does not fall, its tokens after the
 * last step, would evaluate the next one too). */
static void test_lines_prune(void)
{
	int first[2] = {0, 32};
	balance *b = NULL;
	loads l = {0};
	int64_t searches, leaves;

	CU_ASSERT_EQUAL_FATAL(balance_create(BAL_LEAST_TOKENS, 1, first, &b), 0);
	for (int i = 0; i < 32; i++) {
		mstep m = {1000 + 100 * ((i * 7 + 5) % 32), 16, 0, 20, {0}};

		for (int j = 0; j < 20; j++)
			m.d[j] = 30000000;
		balance_bound(b, i);
		balance_set_line(b, i, 0, m.L, m.n, 30000000, 600000000);
		l.out[i] = mstep_load(&m, 315000000, 1);
		CU_ASSERT_EQUAL(l.out[i], m.L + 144);
	}
	CU_ASSERT_EQUAL(balance_pick(b, 0, 315000000, view, &l), 13); /* (13 * 7 + 5) % 32 = 0 */
	balance_search_stats(b, &searches, &leaves);
	CU_ASSERT_EQUAL(searches, 1);
	CU_ASSERT_EQUAL(leaves, 1);
	balance_destroy(b);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("balance", NULL, NULL);
	if (!s || !CU_add_test(s, "round robin per pool", test_round_robin) ||
	    !CU_add_test(s, "ties go to the lowest index", test_ties_lowest_index) ||
	    !CU_add_test(s, "branch and bound = scan (least tokens)", test_bb_least_tokens) ||
	    !CU_add_test(s, "branch and bound = scan (least KV)", test_bb_least_kv) ||
	    !CU_add_test(s, "bounds falling with time = scan", test_lines_vs_scan) ||
	    !CU_add_test(s, "bounds falling with time rule out", test_lines_prune))
		return -1;
	return 0;
}
