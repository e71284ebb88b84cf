/* balance.c - replica choice inside a pool (see balance.h). */
#include "sim/balance.h"

#include <stdlib.h>

#include "sim/kv.h"

/* A node of a pool's tree holds its subtree's least keys and their replica, so a
 * comparison reads the two children, which sit side by side, and no per-replica
 * array: the tree is the only thing a pick or an update touches.  An empty subtree
 * (leaves past the pool's last replica, or replicas that live in the pool's other
 * tree) has keys INT64_MAX and replica -1, which compares after every replica
 * (indices compare unsigned). */
typedef struct node {
	int64_t k1, k2;
	int32_t w;  /* replica, pool-relative; -1: none */
} node;

/* A bounded replica's load over its macro-step under least tokens: at a time t in
 * [t0, tend] it has at least L + n * ((tend - t) / dmax - 1) tokens outstanding (L
 * after the last step, n fewer per step, steps of at most dmax ns).  Kept so that
 * the keys can be recomputed when the pool's slope changes. */
typedef struct bline {
	int64_t L, n, dmax, tend, t0;
} bline;

/* A pool's slope is one token per q ns; q stays in [1, Q_MAX] so that keys in
 * q-units keep far from overflow (clamped keys are only lower, still bounds).  These
 * are engineering limits, not model constants: Q_START (~1 ms per token) is replaced
 * by the pool's first line, and any q gives exact picks, only looser or tighter
 * bounds. */
#define Q_MAX ((int64_t)1 << 24)
#define Q_START ((int64_t)1 << 20)
#define K_MAX (INT64_MAX / 4)

/* Where a replica's leaf is: exact keys or lower bounds that hold to the end of its
 * macro-step in the pool's tree, or a line in the pool's bounded tree. */
enum { LOC_EXACT, LOC_STATIC, LOC_LINE };

struct balance {
	router_balance kind;
	int npools;
	int pool_first[FS_MAX_POOLS + 1];
	uint64_t rr[FS_MAX_POOLS];
	int tree_size[FS_MAX_POOLS];  /* leaves, a power of two */
	int tree_log[FS_MAX_POOLS];   /* its log2: the root's height */
	/* 2 x tree_size nodes each, the root at 1, leaves from tree_size: exact keys and
	 * bounds that hold to a macro-step's end (tree), and lines (btree, least tokens:
	 * keys K in q-units, the bound at time t being (K - t) / q tokens). */
	node *tree[FS_MAX_POOLS];
	node *btree[FS_MAX_POOLS];
	int64_t q[FS_MAX_POOLS];
	int64_t qsum_d[FS_MAX_POOLS], qsum_n[FS_MAX_POOLS], qcnt[FS_MAX_POOLS]; /* the window */
	int8_t qset[FS_MAX_POOLS];
	int8_t *reps_pool;            /* pool of each replica */
	int32_t *bpos;                /* bounded replicas: position in blist, or -1 */
	int8_t *loc;                  /* where its leaf is: LOC_EXACT, LOC_STATIC (both in
				       * tree) or LOC_LINE (btree); set with its keys */
	int nstatic[FS_MAX_POOLS];    /* LOC_STATIC leaves per pool */
	int32_t *blist;
	bline *line;                  /* least tokens: bounded replicas' lines */
	int nb;
	int64_t searches, leaves;
};

/* Is (a1, a2, a) before (b1, b2, b)?  Replica -1 (none) is after every replica.
 * Branch free: in a busy fleet which side wins is a coin toss, and a mispredicted
 * branch per key costs more than evaluating all three. */
static int key_less(int64_t a1, int64_t a2, int32_t a, int64_t b1, int64_t b2, int32_t b)
{
	return (a1 < b1) | ((a1 == b1) & ((a2 < b2) | ((a2 == b2) & ((uint32_t)a < (uint32_t)b))));
}

/* key_less of two nodes, with branches: an update walks up the tree, and predicted
 * branches let the next level's loads start before this level's compare is done
 * (branch free, the walk waited on each compare and cost more). */
static int node_less(const node *x, const node *y)
{
	if (x->k1 != y->k1)
		return x->k1 < y->k1;
	if (x->k2 != y->k2)
		return x->k2 < y->k2;
	return (uint32_t)x->w < (uint32_t)y->w;
}

static const node none = {INT64_MAX, INT64_MAX, -1};

/* Leaf w of tree t (n leaves) becomes `leaf`, and the path above it follows.  The
 * path's winner so far stays in registers and only the siblings are read: their
 * loads do not wait on the compares, and a compare waits only on the one below it
 * (re-reading both children after each store made every level wait on the store
 * and on a coin-toss branch). */
static inline void put(node *t, int n, int w, int64_t k1, int64_t k2, int32_t wv)
{
	node m = {k1, k2, wv};
	int i = n + w;

	if (t[i].k1 == k1 && t[i].k2 == k2 && t[i].w == wv)
		return;
	t[i] = m;
	for (; i > 1; i /= 2) {
		const node *sib = &t[i ^ 1], *up = &t[i / 2];
		int s_first = key_less(sib->k1, sib->k2, sib->w, m.k1, m.k2, m.w);

		m.k1 = s_first ? sib->k1 : m.k1;
		m.k2 = s_first ? sib->k2 : m.k2;
		m.w = s_first ? sib->w : m.w;
		/* Same other winner: nothing above changes either. */
		if (m.w == up->w && m.w != w)
			break;
		t[i / 2] = m;
	}
}

/* put for the tree of exact keys: there an update seldom changes the path's winner
 * and the early exit comes within a level or two, where predicted branches on both
 * children beat the selects. */
static inline void put_exact(node *t, int n, int w, int64_t k1, int64_t k2)
{
	if (t[n + w].k1 == k1 && t[n + w].k2 == k2 && t[n + w].w == w)
		return;
	t[n + w] = (node){k1, k2, w};
	for (int i = (n + w) / 2; i >= 1; i /= 2) {
		const node *m = node_less(&t[2 * i + 1], &t[2 * i]) ? &t[2 * i + 1] : &t[2 * i];

		/* Same other winner: nothing above changes either. */
		if (m->w == t[i].w && m->w != w)
			break;
		t[i] = *m;
	}
}

static void heapify(node *t, int n)
{
	for (int i = n - 1; i >= 1; i--)
		t[i] = node_less(&t[2 * i + 1], &t[2 * i]) ? t[2 * i + 1] : t[2 * i];
}

/* The key in q-units of line l: the largest K with (K - t) / q below l's bound for
 * every t in [t0, tend] (slope 1 / q against the line's n / dmax: the steeper one
 * is clipped to the other at t0), rounded and clamped downwards. */
static int64_t line_key(int64_t q, const bline *l)
{
	__int128 k = (__int128)l->L * q + l->t0;

	if (l->n > 0 && l->dmax > 0 && l->tend > l->t0) {
		int64_t span = l->tend - l->t0, nq = l->n * q, e;

		if (nq >= l->dmax) {
			e = span - nq;
		} else {
			/* nq / dmax < 1: the product stays below span, and 2 units off the
			 * double's result cover its rounding (span < 2^50). */
			double f = (double)nq / (double)l->dmax * (double)span;

			e = span < ((int64_t)1 << 50) ? (int64_t)f - 2 - nq : 0;
		}
		if (e > 0)
			k += e;
	}
	return k > K_MAX ? K_MAX : (int64_t)k;
}

int balance_create(router_balance kind, int npools, const int *pool_first, balance **out)
{
	balance *b = calloc(1, sizeof *b);
	int nreps;

	*out = NULL;
	if (!b)
		return -1;
	b->kind = kind;
	b->npools = npools;
	for (int p = 0; p <= npools; p++)
		b->pool_first[p] = pool_first[p];
	if (kind == BAL_ROUND_ROBIN) {
		*out = b;
		return 0;
	}
	nreps = pool_first[npools];
	b->reps_pool = malloc(((size_t)nreps + 1) * sizeof *b->reps_pool);
	b->bpos = malloc(((size_t)nreps + 1) * sizeof *b->bpos);
	b->blist = malloc(((size_t)nreps + 1) * sizeof *b->blist);
	b->line = calloc((size_t)nreps + 1, sizeof *b->line);
	b->loc = calloc((size_t)nreps + 1, sizeof *b->loc);
	if (!b->reps_pool || !b->bpos || !b->blist || !b->line || !b->loc)
		goto fail;
	for (int i = 0; i < nreps; i++)
		b->bpos[i] = -1;
	for (int p = 0; p < npools; p++) {
		int first = pool_first[p], cnt = pool_first[p + 1] - first, n = 1;
		node *t, *bt;

		for (int i = first; i < first + cnt; i++)
			b->reps_pool[i] = (int8_t)p;
		while (n < cnt)
			n *= 2;
		t = b->tree[p] = malloc(2 * (size_t)n * sizeof *t);
		bt = b->btree[p] = malloc(2 * (size_t)n * sizeof *bt);
		if (!t || !bt)
			goto fail;
		b->tree_size[p] = n;
		while ((1 << b->tree_log[p]) < n)
			b->tree_log[p]++;
		b->q[p] = Q_START;
		for (int i = 0; i < n; i++) {
			t[n + i] = i < cnt ? (node){0, 0, i} : none;
			bt[n + i] = none;
		}
		heapify(t, n);
		heapify(bt, n);
	}
	*out = b;
	return 0;
fail:
	balance_destroy(b);
	return -1;
}

void balance_destroy(balance *b)
{
	if (!b)
		return;
	for (int p = 0; p < FS_MAX_POOLS; p++) {
		free(b->tree[p]);
		free(b->btree[p]);
	}
	free(b->reps_pool);
	free(b->bpos);
	free(b->blist);
	free(b->line);
	free(b->loc);
	free(b);
}

/* Pool p's bounded keys again from their lines (its q changed). */
static void rebuild(balance *b, int p)
{
	node *t = b->btree[p];
	int n = b->tree_size[p], first = b->pool_first[p];

	for (int j = 0; j < b->nb; j++) {
		int ri = b->blist[j];

		if (b->reps_pool[ri] == p && b->loc[ri] == LOC_LINE)
			t[n + ri - first] = (node){line_key(b->q[p], &b->line[ri]), 0, ri - first};
	}
	heapify(t, n);
}

/* Replica ri's leaf goes where `to` says (bound and unbound only mark a replica: a
 * replica that ends a macro-step and starts the next stays where it is). */
static void move_leaf(balance *b, int ri, int pool, int w, int to)
{
	int from = b->loc[ri];

	if (from == to)
		return;
	if ((from == LOC_LINE) != (to == LOC_LINE))
		put(from == LOC_LINE ? b->btree[pool] : b->tree[pool], b->tree_size[pool], w, INT64_MAX,
		    INT64_MAX, -1);
	b->nstatic[pool] += (to == LOC_STATIC) - (from == LOC_STATIC);
	b->loc[ri] = (int8_t)to;
}

void balance_set_keys(balance *b, int ri, int64_t k1, int64_t k2)
{
	int pool, w;

	if (b->kind == BAL_ROUND_ROBIN)
		return;
	pool = b->reps_pool[ri];
	w = ri - b->pool_first[pool];
	move_leaf(b, ri, pool, w, b->bpos[ri] >= 0 ? LOC_STATIC : LOC_EXACT);
	put_exact(b->tree[pool], b->tree_size[pool], w, k1, k2);
}

void balance_set_line(balance *b, int ri, int64_t now, int64_t L, int64_t n, int64_t dmax,
		      int64_t tend)
{
	int pool, w;
	int64_t q;

	if (b->kind != BAL_LEAST_TOKENS || b->bpos[ri] < 0) {
		balance_set_keys(b, ri, L, 0);
		return;
	}
	pool = b->reps_pool[ri];
	w = ri - b->pool_first[pool];
	move_leaf(b, ri, pool, w, LOC_LINE);
	b->line[ri] = (bline){L, n, dmax, tend, now};
	q = b->q[pool];
	if (n > 0 && dmax > 0) {
		/* The pool's slope follows its replicas' n / dmax (the keys are tightest for
		 * replicas whose slope it matches): set by the first line, then by each
		 * window of 2 x replicas + 16 lines (their dmax sum over their n sum) when
		 * that is 1/16 off.  A change rebuilds the pool's bounded keys: O(1) per line,
		 * amortised. */
		int64_t cnt = b->pool_first[pool + 1] - b->pool_first[pool];

		b->qsum_d[pool] += dmax;
		b->qsum_n[pool] += n;
		if (!b->qset[pool] || ++b->qcnt[pool] >= 2 * cnt + 16) {
			int64_t m = (b->qsum_d[pool] + b->qsum_n[pool] - 1) / b->qsum_n[pool];

			m = m < 1 ? 1 : m > Q_MAX ? Q_MAX : m;
			b->qset[pool] = 1;
			b->qsum_d[pool] = b->qsum_n[pool] = b->qcnt[pool] = 0;
			if (16 * (m > q ? m - q : q - m) > q) {
				b->q[pool] = m;
				rebuild(b, pool);
				return;
			}
		}
	}
	put(b->btree[pool], b->tree_size[pool], w, line_key(q, &b->line[ri]), 0, w);
}

void balance_update(balance *b, int ri, const replica *r, int64_t now)
{
	int64_t out, used;

	if (b->kind == BAL_ROUND_ROBIN)
		return;
	if (b->kind == BAL_LEAST_KV) {
		/* Blocks in use order like the KV usage ratio because every replica of a
		 * pool has the same number of blocks.  Bounded: blocks in use at its
		 * macro-step's first step are the least over it. */
		if (b->bpos[ri] >= 0)
			replica_macro_view(r, 0, &out, &used);
		else
			used = kv_used_blocks(replica_kv(r));
		balance_set_keys(b, ri, used, replica_outstanding_tokens(r));
	} else if (b->bpos[ri] >= 0 && replica_admits_none(r)) {
		/* A full batch stays bounded when it gets a request (it is not cut), so a
		 * bound that falls with time pays for its tree; one that is not full is
		 * cut by the next request it gets, and its bound (tokens after the last
		 * step) stays among the exact keys, which saves moving it between trees. */
		int64_t n, dmax, tend;

		replica_macro_span(r, &n, &dmax, &tend);
		balance_set_line(b, ri, now, replica_outstanding_tokens(r), n, dmax, tend);
	} else {
		balance_set_keys(b, ri, replica_outstanding_tokens(r), 0);
	}
}

void balance_bound(balance *b, int ri)
{
	if (b->kind == BAL_ROUND_ROBIN || b->bpos[ri] >= 0)
		return;
	b->bpos[ri] = b->nb;
	b->blist[b->nb++] = ri;
}

void balance_unbound(balance *b, int ri)
{
	int p;

	if (b->kind == BAL_ROUND_ROBIN || (p = b->bpos[ri]) < 0)
		return;
	b->blist[p] = b->blist[--b->nb];
	b->bpos[b->blist[p]] = p;
	b->bpos[ri] = -1;
}

int balance_bounded(const balance *b, int ri)
{
	return b->kind != BAL_ROUND_ROBIN && b->bpos[ri] >= 0;
}

/* a * q, or INT64_MAX past it. */
static int64_t mul_sat(int64_t a, int64_t q)
{
	return a >= INT64_MAX / q ? INT64_MAX : a * q;
}

/* The best so far of a search: keys, replica (pool-relative, -1 none) and, for
 * bounds in q-units, best1 * q. */
typedef struct best_keys {
	int64_t k1, k2, bq;
	int32_t w;
} best_keys;

/* Branch and bound over one tree of pool `pool` from the best so far *bk: depth
 * first with the winner's side first (its bound is the subtree's least), a subtree
 * skipped when its least bound cannot be before the best.  In the tree (lines 0) a
 * leaf holds exact keys, or lower bounds (LOC_STATIC) evaluated through view; the
 * keys are compared with the index as the order is.  In the bounded tree (lines 1,
 * least tokens) a subtree's bound at time `now` is ceil((K - now) / q) tokens for its
 * least key K, and a tie with the best is skipped only if the best's index is below
 * the whole subtree's (K's order is not the bounds' order among equal bounds).
 * Iterative: opening a subtree goes straight to its winner's leaf and stacks the
 * siblings of the path to it, deepest first.  The path is the leaf's index shifted
 * right, so stacking reads no node and takes no branch (walking down and comparing
 * children mispredicted half the time); a stacked node is read when taken. */
static void bb_tree(balance *b, int pool, int lines, int64_t now, balance_view_fn view, void *ctx,
		    best_keys *bk)
{
	const node *t = lines ? b->btree[pool] : b->tree[pool];
	int first = b->pool_first[pool], n = b->tree_size[pool], sp = 0;
	int tokens = b->kind == BAL_LEAST_TOKENS;
	int64_t q = b->q[pool], leaves = 0;
	/* The best in locals: stores through b (or bk) would otherwise make the compiler
	 * reload them after each. */
	int64_t b1 = bk->k1, b2 = bk->k2, bq = bk->bq;
	int32_t bw = bk->w;
	/* Pending subtrees and their heights: at most one per level of the current path. */
	int32_t stack[64];
	int8_t height[64];

	stack[sp] = 1;
	height[sp++] = (int8_t)b->tree_log[pool];
	while (sp > 0) {
		int32_t i = stack[--sp], w = t[i].w, leaf, h = height[sp];
		int64_t k1, k2, out, used = 0;
		int tie = 0;

		if (w < 0)
			continue;
		if (lines) {
			int64_t x = t[i].k1 - now;

			tie = x > bq - q;
			if ((x > bq) | (tie & ((uint32_t)bw < (uint32_t)((i << h) - n))))
				continue;
		} else if (!key_less(t[i].k1, t[i].k2, w, b1, b2, bw)) {
			continue;
		}
		leaf = n + w;
		for (h--; h >= 0; h--) {
			stack[sp] = (leaf >> h) ^ 1;
			height[sp++] = (int8_t)h;
		}
		leaves++;
		if (lines) {
			/* The subtree's other replicas may win the tie; w itself does not. */
			if (tie & ((uint32_t)bw < (uint32_t)w))
				continue;
		} else if (b->loc[first + w] != LOC_STATIC) {
			k1 = t[leaf].k1;
			k2 = t[leaf].k2;
			goto have;
		}
		view(ctx, first + w, &out, tokens ? NULL : &used);
		k1 = tokens ? out : used;
		k2 = tokens ? 0 : out;
have:
		if (!key_less(k1, k2, w, b1, b2, bw))
			continue;
		bw = w;
		b1 = k1;
		b2 = k2;
		bq = mul_sat(k1, q);
	}
	*bk = (best_keys){b1, b2, bq, bw};
	b->leaves += leaves;
}

/* The replica with the least exact keys: the pool's tree alone when it holds only
 * exact keys (its root), else a search of it; then a search of the bounded tree when
 * it holds anyone. */
static int bb_search(balance *b, int pool, int64_t now, balance_view_fn view, void *ctx)
{
	best_keys bk = {INT64_MAX, INT64_MAX, INT64_MAX, -1};

	if (b->nstatic[pool] == 0) {
		const node *e = &b->tree[pool][1];

		bk = (best_keys){e->k1, e->k2, e->k1 == INT64_MAX ? INT64_MAX : mul_sat(e->k1, b->q[pool]), e->w};
	} else {
		bb_tree(b, pool, 0, now, view, ctx, &bk);
	}
	if (b->btree[pool][1].w >= 0)
		bb_tree(b, pool, 1, now, view, ctx, &bk);
	return bk.w;
}

int balance_pick(balance *b, int pool, int64_t now, balance_view_fn view, void *ctx)
{
	int first = b->pool_first[pool], n = b->pool_first[pool + 1] - first;

	if (b->kind == BAL_ROUND_ROBIN)
		return first + (int)(b->rr[pool]++ % (uint64_t)n);
	if (b->nstatic[pool] == 0 && b->btree[pool][1].w < 0)
		return first + b->tree[pool][1].w;
	b->searches++;
	return first + bb_search(b, pool, now, view, ctx);
}

uint64_t balance_rr_count(const balance *b, int pool)
{
	return b->rr[pool];
}

void balance_search_stats(const balance *b, int64_t *searches, int64_t *leaves)
{
	*searches = b->searches;
	*leaves = b->leaves;
}
