/* balance.c - replica choice inside a pool (see balance.h). */
#include "sim/balance.h"

#include <stdlib.h>

#include "sim/kv.h"

/* A node of a pool's tree holds its subtree's least keys and their replica, so a
 * comparison reads the two children, which sit side by side, and no per-replica
 * array: the tree is the only thing a pick or an update touches.  An empty subtree
 * (leaves past the pool's last replica) has keys INT64_MAX and replica -1, which
 * compares after every replica (indices compare unsigned). */
typedef struct node {
	int64_t k1, k2;
	int32_t w;  /* replica, pool-relative; -1: none */
} node;

struct balance {
	router_balance kind;
	int npools;
	int pool_first[FS_MAX_POOLS + 1];
	uint64_t rr[FS_MAX_POOLS];
	int tree_size[FS_MAX_POOLS];  /* leaves, a power of two */
	int tree_log[FS_MAX_POOLS];   /* its log2: the root's height */
	node *tree[FS_MAX_POOLS];     /* 2 x tree_size nodes, the root at 1, leaves from tree_size */
	int8_t *reps_pool;            /* pool of each replica */
	int32_t *bpos;                /* bounded replicas: position in blist, or -1 */
	int32_t *blist;
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
	if (!b->reps_pool || !b->bpos || !b->blist)
		goto fail;
	for (int i = 0; i < nreps; i++)
		b->bpos[i] = -1;
	for (int p = 0; p < npools; p++) {
		int first = pool_first[p], cnt = pool_first[p + 1] - first, n = 1;
		node *t;

		for (int i = first; i < first + cnt; i++)
			b->reps_pool[i] = (int8_t)p;
		while (n < cnt)
			n *= 2;
		t = malloc(2 * (size_t)n * sizeof *t);
		if (!t)
			goto fail;
		b->tree[p] = t;
		b->tree_size[p] = n;
		while ((1 << b->tree_log[p]) < n)
			b->tree_log[p]++;
		for (int i = 0; i < n; i++)
			t[n + i] = i < cnt ? (node){0, 0, i} : (node){INT64_MAX, INT64_MAX, -1};
		for (int i = n - 1; i >= 1; i--)
			t[i] = node_less(&t[2 * i + 1], &t[2 * i]) ? t[2 * i + 1] : t[2 * i];
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
	free(b->reps_pool);
	free(b->bpos);
	free(b->blist);
	free(b);
}

void balance_set_keys(balance *b, int ri, int64_t k1, int64_t k2)
{
	int pool, n, w;
	node *t;

	if (b->kind == BAL_ROUND_ROBIN)
		return;
	pool = b->reps_pool[ri];
	n = b->tree_size[pool];
	t = b->tree[pool];
	w = ri - b->pool_first[pool];
	if (t[n + w].k1 == k1 && t[n + w].k2 == k2)
		return;
	t[n + w].k1 = k1;
	t[n + w].k2 = k2;
	for (int i = (n + w) / 2; i >= 1; i /= 2) {
		const node *m = node_less(&t[2 * i + 1], &t[2 * i]) ? &t[2 * i + 1] : &t[2 * i];

		/* Same winner with unchanged keys: nothing above changes either. */
		if (m->w == t[i].w && m->w != w)
			break;
		t[i].k1 = m->k1;
		t[i].k2 = m->k2;
		t[i].w = m->w;
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

/* Replica first + w's exact keys (it is bounded). */
static void exact_keys(balance *b, int first, int w, balance_view_fn view, void *ctx,
		       int64_t *k1, int64_t *k2)
{
	int64_t out, used = 0;

	view(ctx, first + w, &out, b->kind == BAL_LEAST_KV ? &used : NULL);
	*k1 = b->kind == BAL_LEAST_KV ? used : out;
	*k2 = b->kind == BAL_LEAST_KV ? out : 0;
}

/* The replica with the least exact keys: branch and bound over the tree, depth first
 * with the winner's side first (its bound is the subtree's least), a subtree whose
 * least bound is not below the best exact key so far skipped.  Iterative: opening a
 * subtree goes straight to its winner's leaf and stacks the siblings of the path to
 * it, so they are taken deepest first, as the recursive search did (half its
 * instructions were call overhead: searches are ~30 % of an overloaded fleet's
 * engine).  The path is the leaf's index shifted right, so stacking reads no node
 * and takes no branch (walking down and comparing children mispredicted half the
 * time); a stacked node is read when taken.  The result is the least exact (key1,
 * key2, index) whatever the order, but keeping this order keeps the replicas
 * evaluated (balance_search_stats), which the fleet's choice to pass arrivals reads. */
static int bb_search(balance *b, int pool, balance_view_fn view, void *ctx)
{
	const node *t = b->tree[pool];
	int first = b->pool_first[pool], n = b->tree_size[pool], sp = 0;
	int64_t best1 = INT64_MAX, best2 = INT64_MAX;
	int32_t best = -1;
	/* Pending subtrees and their heights: at most one per level of the current path. */
	int32_t stack[64];
	int8_t height[64];

	stack[sp] = 1;
	height[sp++] = (int8_t)b->tree_log[pool];
	while (sp > 0) {
		int32_t i = stack[--sp], w = t[i].w, leaf;
		int64_t k1, k2;

		if (!key_less(t[i].k1, t[i].k2, w, best1, best2, best))
			continue;
		leaf = n + w;
		for (int h = height[sp] - 1; h >= 0; h--) {
			stack[sp] = (leaf >> h) ^ 1;
			height[sp++] = (int8_t)h;
		}
		b->leaves++;
		if (b->bpos[first + w] >= 0) {
			exact_keys(b, first, w, view, ctx, &k1, &k2);
			if (!key_less(k1, k2, w, best1, best2, best))
				continue;
		} else {
			k1 = t[i].k1;
			k2 = t[i].k2;
		}
		best = w;
		best1 = k1;
		best2 = k2;
	}
	return best;
}

int balance_pick(balance *b, int pool, balance_view_fn view, void *ctx)
{
	int first = b->pool_first[pool], n = b->pool_first[pool + 1] - first;

	if (b->kind == BAL_ROUND_ROBIN)
		return first + (int)(b->rr[pool]++ % (uint64_t)n);
	if (b->nb == 0)
		return first + b->tree[pool][1].w;
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
