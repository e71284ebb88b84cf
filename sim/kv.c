/*
 * kv.c - vLLM V1 block pool: reference-counted blocks, a doubly linked free queue
 * (allocation pops the head, freeing appends to the tail, so cached blocks are
 * evicted least recently freed first) and a block-key -> block table for prefix
 * caching.  Cached blocks with ref 0 stay in the free queue: they count as free and
 * are evicted (their key dropped) when the head reaches them.
 *
 * Block keys: the trace gives one prefix-chained hash per hash_block_tokens tokens
 * (Mooncake 512), vLLM blocks are block_size tokens (16).  Block j is keyed by the
 * hash covering its last token mixed with j, which identifies the whole prefix up to
 * the block's end because the trace hashes are chained.  Only blocks entirely inside
 * min(n_hashes x hash_block_tokens, prompt) are keyed.
 */
#include "sim/kv.h"

#include <stdlib.h>
#include <string.h>

#define NIL (-1)

struct kv_cache {
	int64_t num_blocks;
	int bs;
	int caching;
	int32_t *ref;       /* per block */
	uint64_t *key;      /* per block; 0 = not cached */
	int32_t *prev, *next; /* free queue links (valid while ref == 0) */
	int32_t head, tail;
	int64_t n_free;         /* blocks in the free queue */
	int64_t n_cached_free;  /* of which keyed */
	/* key -> block, linear probing, key 0 = empty slot. */
	uint64_t *tab_key;
	int32_t *tab_val;
	uint64_t tab_mask;
	uint64_t hit_tokens;
};

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* Tokens of req covered by full trace hashes, capped at the prompt. */
static int64_t hashed_limit(const sim_req *r)
{
	int64_t lim;

	if (r->n_hashes <= 0 || r->hash_block_tokens <= 0 || !r->hashes)
		return 0;
	lim = (int64_t)r->n_hashes * r->hash_block_tokens;
	return lim < r->prompt ? lim : r->prompt;
}

static uint64_t block_key(const kv_cache *kv, const sim_req *r, int64_t j)
{
	int64_t last_tok = j * kv->bs + kv->bs - 1;
	uint64_t k = mix64(r->hashes[last_tok / r->hash_block_tokens] ^ mix64((uint64_t)j + 0x9e3779b97f4a7c15ULL));

	return k ? k : 1;
}

static int32_t tab_find(const kv_cache *kv, uint64_t k)
{
	uint64_t i = k & kv->tab_mask;

	while (kv->tab_key[i]) {
		if (kv->tab_key[i] == k)
			return kv->tab_val[i];
		i = (i + 1) & kv->tab_mask;
	}
	return NIL;
}

static void tab_put(kv_cache *kv, uint64_t k, int32_t b)
{
	uint64_t i = k & kv->tab_mask;

	while (kv->tab_key[i])
		i = (i + 1) & kv->tab_mask;
	kv->tab_key[i] = k;
	kv->tab_val[i] = b;
}

/* Remove key k if it maps to block b; backward-shift deletion (no tombstones). */
static void tab_del(kv_cache *kv, uint64_t k, int32_t b)
{
	uint64_t i = k & kv->tab_mask, j;

	while (kv->tab_key[i] && kv->tab_key[i] != k)
		i = (i + 1) & kv->tab_mask;
	if (!kv->tab_key[i] || kv->tab_val[i] != b)
		return;
	j = i;
	for (;;) {
		uint64_t home;

		j = (j + 1) & kv->tab_mask;
		if (!kv->tab_key[j])
			break;
		home = kv->tab_key[j] & kv->tab_mask;
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		kv->tab_key[i] = kv->tab_key[j];
		kv->tab_val[i] = kv->tab_val[j];
		i = j;
	}
	kv->tab_key[i] = 0;
}

static void fq_remove(kv_cache *kv, int32_t b)
{
	int32_t p = kv->prev[b], n = kv->next[b];

	if (p != NIL)
		kv->next[p] = n;
	else
		kv->head = n;
	if (n != NIL)
		kv->prev[n] = p;
	else
		kv->tail = p;
	kv->n_free--;
	if (kv->key[b])
		kv->n_cached_free--;
}

static void fq_append(kv_cache *kv, int32_t b)
{
	kv->prev[b] = kv->tail;
	kv->next[b] = NIL;
	if (kv->tail != NIL)
		kv->next[kv->tail] = b;
	else
		kv->head = b;
	kv->tail = b;
	kv->n_free++;
	if (kv->key[b])
		kv->n_cached_free++;
}

int kv_create(int64_t num_blocks, int block_size, int enable_prefix_caching, kv_cache **out)
{
	kv_cache *kv;
	uint64_t tsz = 16;
	int64_t i;

	*out = NULL;
	if (num_blocks <= 0 || num_blocks > INT32_MAX / 2 || block_size <= 0 || block_size > (1 << 20))
		return -1;
	kv = calloc(1, sizeof *kv);
	if (!kv)
		return -1;
	kv->num_blocks = num_blocks;
	kv->bs = block_size;
	kv->caching = enable_prefix_caching != 0;
	kv->ref = calloc((size_t)num_blocks, sizeof *kv->ref);
	kv->key = calloc((size_t)num_blocks, sizeof *kv->key);
	kv->prev = malloc((size_t)num_blocks * sizeof *kv->prev);
	kv->next = malloc((size_t)num_blocks * sizeof *kv->next);
	while (tsz < 2 * (uint64_t)num_blocks)
		tsz *= 2;
	kv->tab_key = calloc(tsz, sizeof *kv->tab_key);
	kv->tab_val = malloc(tsz * sizeof *kv->tab_val);
	kv->tab_mask = tsz - 1;
	if (!kv->ref || !kv->key || !kv->prev || !kv->next || !kv->tab_key || !kv->tab_val)
		goto fail;
	kv->head = kv->tail = NIL;
	for (i = 0; i < num_blocks; i++)
		fq_append(kv, (int32_t)i);
	*out = kv;
	return 0;
fail:
	kv_destroy(kv);
	return -1;
}

void kv_destroy(kv_cache *kv)
{
	if (!kv)
		return;
	free(kv->ref);
	free(kv->key);
	free(kv->prev);
	free(kv->next);
	free(kv->tab_key);
	free(kv->tab_val);
	free(kv);
}

/* Longest run of leading cached blocks, at most (num_tokens - 1) / bs of them. */
static int64_t count_hits(const kv_cache *kv, const sim_req *req, int64_t *n_evictable)
{
	int64_t max_blocks, lim, j, ev = 0;

	*n_evictable = 0;
	if (!kv->caching)
		return 0;
	lim = hashed_limit(req);
	if (lim <= 0)
		return 0;
	max_blocks = lim / kv->bs;
	if (((int64_t)rq_num_tokens(req) - 1) / kv->bs < max_blocks)
		max_blocks = ((int64_t)rq_num_tokens(req) - 1) / kv->bs;
	for (j = 0; j < max_blocks; j++) {
		int32_t b = tab_find(kv, block_key(kv, req, j));
		if (b == NIL)
			break;
		if (kv->ref[b] == 0)
			ev++;
	}
	*n_evictable = ev;
	return j;
}

int32_t kv_lookup_prefix(const kv_cache *kv, const sim_req *req, int64_t *n_evictable)
{
	return (int32_t)(count_hits(kv, req, n_evictable) * kv->bs);
}

static int ensure_cap(sim_req *req, int64_t n)
{
	int32_t *nb;
	int64_t cap;

	if (n <= req->cap_blocks)
		return 0;
	cap = req->cap_blocks > 0 ? 2 * (int64_t)req->cap_blocks : 8;
	if (cap < n)
		cap = n;
	if (cap > INT32_MAX)
		return -1;
	nb = realloc(req->blocks, (size_t)cap * sizeof *nb);
	if (!nb)
		return -1;
	req->blocks = nb;
	req->cap_blocks = (int32_t)cap;
	return 0;
}

int32_t kv_match_prefix(kv_cache *kv, sim_req *req)
{
	int64_t ev, n, j;

	if (req->n_blocks != 0)
		return 0;
	n = count_hits(kv, req, &ev);
	if (n == 0 || ensure_cap(req, n) != 0)
		return 0;
	for (j = 0; j < n; j++) {
		int32_t b = tab_find(kv, block_key(kv, req, j));
		if (kv->ref[b]++ == 0)
			fq_remove(kv, b);
		req->blocks[req->n_blocks++] = b;
	}
	kv->hit_tokens += (uint64_t)(n * kv->bs);
	return (int32_t)(n * kv->bs);
}

int kv_allocate(kv_cache *kv, sim_req *req, int64_t tokens)
{
	int64_t want = (tokens + kv->bs - 1) / kv->bs, need = want - req->n_blocks, i;

	if (need <= 0)
		return 0;
	if (need > kv->n_free || ensure_cap(req, want) != 0)
		return -1;
	for (i = 0; i < need; i++) {
		int32_t b = kv->head;

		fq_remove(kv, b);
		if (kv->key[b]) {
			/* Evict: the block's cached content is about to be overwritten. */
			tab_del(kv, kv->key[b], b);
			kv->key[b] = 0;
		}
		kv->ref[b] = 1;
		req->blocks[req->n_blocks++] = b;
	}
	return 0;
}

void kv_commit(kv_cache *kv, sim_req *req)
{
	int64_t lim, full, j;

	if (!kv->caching)
		return;
	lim = hashed_limit(req);
	if (lim <= 0)
		return;
	if (lim > req->computed)
		lim = req->computed;
	full = lim / kv->bs;
	if (full > req->n_blocks)
		full = req->n_blocks;
	j = ((int64_t)req->computed - req->scheduled) / kv->bs;
	if (j < 0)
		j = 0;
	for (; j < full; j++) {
		int32_t b = req->blocks[j];
		uint64_t k;

		if (kv->key[b])
			continue;
		k = block_key(kv, req, j);
		if (tab_find(kv, k) != NIL)
			continue;
		tab_put(kv, k, b);
		kv->key[b] = k;
	}
}

void kv_free(kv_cache *kv, sim_req *req)
{
	int32_t i;

	for (i = req->n_blocks - 1; i >= 0; i--) {
		int32_t b = req->blocks[i];

		if (--kv->ref[b] == 0)
			fq_append(kv, b);
	}
	req->n_blocks = 0;
}

int64_t kv_total_blocks(const kv_cache *kv)
{
	return kv->num_blocks;
}

int64_t kv_used_blocks(const kv_cache *kv)
{
	return kv->num_blocks - kv->n_free;
}

int64_t kv_free_blocks(const kv_cache *kv)
{
	return kv->n_free;
}

int64_t kv_cached_blocks(const kv_cache *kv)
{
	return kv->n_cached_free;
}

uint64_t kv_hit_tokens(const kv_cache *kv)
{
	return kv->hit_tokens;
}

int kv_block_size(const kv_cache *kv)
{
	return kv->bs;
}

int kv_check(const kv_cache *kv, int64_t *ref_sum, fs_err *err)
{
	int64_t n = 0, keyed_free = 0, zero = 0, sum = 0, keyed = 0, entries = 0, i;
	int32_t b, prev = NIL;

	for (b = kv->head; b != NIL; b = kv->next[b]) {
		if (++n > kv->num_blocks)
			return fs_fail(err, FS_EXIT_RUNTIME, "kv: free queue has a cycle");
		if (kv->prev[b] != prev)
			return fs_fail(err, FS_EXIT_RUNTIME, "kv: free queue link broken at block %d", b);
		if (kv->ref[b] != 0)
			return fs_fail(err, FS_EXIT_RUNTIME, "kv: block %d in free queue has ref %d", b,
				       kv->ref[b]);
		if (kv->key[b])
			keyed_free++;
		prev = b;
	}
	if (prev != kv->tail || n != kv->n_free || keyed_free != kv->n_cached_free)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "kv: free queue holds %lld blocks (%lld cached), counters say %lld (%lld)",
			       (long long)n, (long long)keyed_free, (long long)kv->n_free,
			       (long long)kv->n_cached_free);
	for (i = 0; i < kv->num_blocks; i++) {
		if (kv->ref[i] < 0)
			return fs_fail(err, FS_EXIT_RUNTIME, "kv: block %lld has ref %d", (long long)i,
				       kv->ref[i]);
		if (kv->ref[i] == 0)
			zero++;
		sum += kv->ref[i];
		if (kv->key[i]) {
			keyed++;
			if (tab_find(kv, kv->key[i]) != (int32_t)i)
				return fs_fail(err, FS_EXIT_RUNTIME,
					       "kv: block %lld has a key the table does not map to it",
					       (long long)i);
		}
	}
	if (zero != n)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "kv: %lld blocks have ref 0 but %lld are in the free queue",
			       (long long)zero, (long long)n);
	for (i = 0; i <= (int64_t)kv->tab_mask; i++)
		if (kv->tab_key[i])
			entries++;
	if (entries != keyed)
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: table has %lld keys, blocks carry %lld",
			       (long long)entries, (long long)keyed);
	if (ref_sum)
		*ref_sum = sum;
	return 0;
}
