/* balance.c - replica choice inside a pool (see balance.h). */
#include "sim/balance.h"

#include <stdlib.h>

#include "sim/kv.h"

struct balance {
	router_balance kind;
	int npools;
	int pool_first[FS_MAX_POOLS + 1];
	uint64_t rr[FS_MAX_POOLS];
	int tree_size[FS_MAX_POOLS];  /* leaves, a power of two */
	int32_t *tree[FS_MAX_POOLS];  /* 2 x tree_size nodes: replica index (pool-relative) or -1 */
	int8_t *reps_pool;            /* pool of each replica */
	int64_t *key1, *key2;         /* per replica */
	int32_t *bpos;                /* bounded replicas: position in blist, or -1 */
	int32_t *blist;
	int nb;
	int64_t searches, leaves;
};

static int node_less(const balance *b, int first, int32_t x, int32_t y)
{
	int64_t x1, y1;

	if (y < 0)
		return x >= 0;
	if (x < 0)
		return 0;
	x1 = b->key1[first + x];
	y1 = b->key1[first + y];
	if (x1 != y1)
		return x1 < y1;
	if (b->key2[first + x] != b->key2[first + y])
		return b->key2[first + x] < b->key2[first + y];
	return x < y;
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
	b->key1 = calloc((size_t)nreps + 1, sizeof *b->key1);
	b->key2 = calloc((size_t)nreps + 1, sizeof *b->key2);
	b->reps_pool = malloc(((size_t)nreps + 1) * sizeof *b->reps_pool);
	b->bpos = malloc(((size_t)nreps + 1) * sizeof *b->bpos);
	b->blist = malloc(((size_t)nreps + 1) * sizeof *b->blist);
	if (!b->key1 || !b->key2 || !b->reps_pool || !b->bpos || !b->blist)
		goto fail;
	for (int i = 0; i < nreps; i++)
		b->bpos[i] = -1;
	for (int p = 0; p < npools; p++) {
		int first = pool_first[p], cnt = pool_first[p + 1] - first, n = 1;
		int32_t *t;

		for (int i = first; i < first + cnt; i++)
			b->reps_pool[i] = (int8_t)p;
		while (n < cnt)
			n *= 2;
		t = malloc(2 * (size_t)n * sizeof *t);
		if (!t)
			goto fail;
		b->tree[p] = t;
		b->tree_size[p] = n;
		for (int i = 0; i < n; i++)
			t[n + i] = i < cnt ? i : -1;
		for (int i = n - 1; i >= 1; i--)
			t[i] = node_less(b, first, t[2 * i + 1], t[2 * i]) ? t[2 * i + 1] : t[2 * i];
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
	for (int p = 0; p < FS_MAX_POOLS; p++)
		free(b->tree[p]);
	free(b->key1);
	free(b->key2);
	free(b->reps_pool);
	free(b->bpos);
	free(b->blist);
	free(b);
}

void balance_set_keys(balance *b, int ri, int64_t k1, int64_t k2)
{
	int pool, first, n;
	int32_t *t;

	if (b->kind == BAL_ROUND_ROBIN)
		return;
	if (k1 == b->key1[ri] && k2 == b->key2[ri])
		return;
	pool = b->reps_pool[ri];
	first = b->pool_first[pool];
	n = b->tree_size[pool];
	t = b->tree[pool];
	b->key1[ri] = k1;
	b->key2[ri] = k2;
	for (int i = (n + ri - first) / 2; i >= 1; i /= 2) {
		int32_t m = node_less(b, first, t[2 * i + 1], t[2 * i]) ? t[2 * i + 1] : t[2 * i];

		/* Same winner with unchanged key: nothing above changes either. */
		if (m == t[i] && m != ri - first)
			break;
		t[i] = m;
	}
}

void balance_update(balance *b, int ri, const replica *r)
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
	} else {
		/* Outstanding tokens after a macro-step's last step are its least. */
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

/* Is (a1, a2, a) before (b1, b2, bi)?  bi < 0: nothing yet. */
static int key_less(int64_t a1, int64_t a2, int a, int64_t b1, int64_t b2, int bi)
{
	if (bi < 0)
		return 1;
	if (a1 != b1)
		return a1 < b1;
	if (a2 != b2)
		return a2 < b2;
	return a < bi;
}

/* The replica with the least exact keys: branch and bound over the tree, depth first
 * with the winner's side first (its bound is the subtree's least), a subtree whose
 * least bound is not below the best exact key so far skipped.  Iterative: opening a
 * subtree walks down its winner's path and stacks the siblings passed, so they are
 * taken deepest first, as the recursive search did (half its instructions were call
 * overhead: searches are ~30 % of an overloaded fleet's engine).  The result is the
 * least exact (key1, key2, index) whatever the order. */
static int bb_search(balance *b, int pool, balance_view_fn view, void *ctx)
{
	const int32_t *t = b->tree[pool];
	int first = b->pool_first[pool], n = b->tree_size[pool], best = -1, sp = 0;
	const int64_t *k1s = b->key1 + first, *k2s = b->key2 + first;
	int64_t best1 = 0, best2 = 0;
	/* Pending siblings: at most one per level of the current path. */
	int32_t stack[64];

	stack[sp++] = 1;
	while (sp > 0) {
		int32_t i = stack[--sp], w = t[i];
		int64_t k1, k2;

		if (w < 0 || !key_less(k1s[w], k2s[w], w, best1, best2, best))
			continue;
		while (i < n) {
			int32_t on = t[2 * i] == w ? 2 * i : 2 * i + 1;

			stack[sp++] = on ^ 1;
			i = on;
		}
		k1 = k1s[w];
		k2 = k2s[w];
		b->leaves++;
		if (b->bpos[first + w] >= 0) {
			int64_t out, used = 0;

			view(ctx, first + w, &out, b->kind == BAL_LEAST_KV ? &used : NULL);
			k1 = b->kind == BAL_LEAST_KV ? used : out;
			k2 = b->kind == BAL_LEAST_KV ? out : 0;
		}
		if (key_less(k1, k2, w, best1, best2, best)) {
			best = w;
			best1 = k1;
			best2 = k2;
		}
	}
	return best;
}

int balance_pick(balance *b, int pool, balance_view_fn view, void *ctx)
{
	int first = b->pool_first[pool], n = b->pool_first[pool + 1] - first;

	if (b->kind == BAL_ROUND_ROBIN)
		return first + (int)(b->rr[pool]++ % (uint64_t)n);
	if (b->nb == 0)
		return first + b->tree[pool][1];
	b->searches++;
	return first + bb_search(b, pool, view, ctx);
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
