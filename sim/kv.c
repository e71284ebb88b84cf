/*
 * kv.c - vLLM V1 block pool: reference-counted blocks, a FIFO free queue
 * (allocation pops the head, freeing appends to the tail, so cached blocks are
 * evicted least recently freed first) and a block-key -> block table for prefix
 * caching.  Cached blocks with ref 0 stay in the free queue: they count as free and
 * are evicted (their key dropped) when the head reaches them.
 *
 * The free queue is the never-used blocks [virgin, num_blocks) followed by a ring
 * buffer of freed block ids: the only out-of-order removal is a prefix hit on a
 * cached free block, which leaves a tombstone (NIL) that the head skips.  Compared
 * with a doubly linked list over all blocks this keeps pops and appends sequential
 * in memory and never touches a block the run does not use (a few hundred
 * 80 k-block replicas would otherwise cost 20 B per block up front).  Per-block keys,
 * ring positions and the key table are allocated on the first key registration,
 * so workloads without prefix hashes never pay for them.
 *
 * Counting mode: until a request with prefix hashes is allocated blocks or a request
 * is preempted (and while caching is off, for ever) no block carries a key, so blocks are interchangeable
 * and nothing observable depends on which ids a request holds.  The manager then only
 * counts (n_free, req->n_blocks): no per-block array, no ring, no req->blocks (left
 * NULL).  The first hashed allocation switches to id mode: the blocks already held
 * become ids [0, used) ("anonymous": held, ref 1, owner unknown, since the manager
 * keeps no list of requests) and the free queue becomes [used, num_blocks).  Any
 * assignment is equivalent to the one the id mode would have made, because the free
 * queue then holds only unkeyed blocks and only its length and the position of keyed
 * blocks in it are observable.  A request admitted in counting mode (n_blocks > 0,
 * blocks == NULL) takes its ids from the top of the anonymous range the first time
 * id mode needs them (kv_allocate, kv_commit) or gives them back (kv_free).
 *
 * Block keys: the trace gives one prefix-chained hash per hash_block_tokens tokens
 * (Mooncake 512), vLLM blocks are block_size tokens (16).  Block j entirely inside
 * min(n_hashes x hash_block_tokens, prompt) is keyed by the hash covering its last
 * token mixed with j, which identifies the whole prefix up to the block's end because
 * the trace hashes are chained.  vLLM hashes every other full block too (rest of the
 * prompt and the output, chained on its parent): content no other request shares, so
 * those blocks get keys private to the request (its id mixed with j).  Shared keys
 * are registered when their block is scheduled (kv_commit), private ones when the
 * request is preempted (kv_free_preempted), the only time anyone (the request itself,
 * on resume) can look them up.
 */
#include "sim/kv.h"

#include <stdlib.h>
#include <string.h>

#define NIL (-1)

struct kv_cache {
	int64_t num_blocks;
	int bs;
	int caching;
	int ids;            /* 0: counting mode (ref, ring NULL), 1: id mode */
	int64_t anon;       /* id mode: blocks [0, anon) held by counting-mode requests */
	int32_t *ref;       /* per block */
	uint64_t *key;      /* per block; 0 = not cached (NULL until the first key) */
	int32_t *pos;       /* ring index of a keyed free block (with key) */
	/* Free queue: blocks [virgin, num_blocks), then ring[rh .. rh + rn) (mod rcap). */
	int64_t virgin;
	int32_t *ring;
	int64_t rcap, rh, rn, tomb;
	int64_t n_free;         /* blocks in the free queue */
	int64_t n_cached_free;  /* of which keyed */
	/* key -> block, linear probing, key 0 = empty slot (NULL until the first key). */
	uint64_t *tab_key;
	int32_t *tab_val;
	uint64_t tab_mask;
	uint64_t hit_tokens;
	/* Id mode: ids of extra blocks taken since (kv_extra_take); extras taken while
	 * counting sit in the anonymous range. */
	int32_t *xstack;
	int64_t nx, xcap;
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

/* Blocks of r keyed by the trace's shared hashes. */
static int64_t shared_blocks(const kv_cache *kv, const sim_req *r)
{
	return rq_hashed_tokens(r) / kv->bs;
}

static uint64_t block_key(const kv_cache *kv, const sim_req *r, int64_t j)
{
	uint64_t k;

	if (j < shared_blocks(kv, r)) {
		int64_t last_tok = j * kv->bs + kv->bs - 1;

		k = mix64(r->hashes[last_tok / r->hash_block_tokens] ^
			  mix64((uint64_t)j + 0x9e3779b97f4a7c15ULL));
	} else {
		/* Private: only this request (by id, unique in a run) has this content. */
		k = mix64(mix64((uint64_t)r->id ^ 0x5851f42d4c957f2dULL) ^ ((uint64_t)j + 0x2545f4914f6cdd1dULL));
	}
	return k ? k : 1;
}

static int32_t tab_find(const kv_cache *kv, uint64_t k)
{
	uint64_t i = k & kv->tab_mask;

	if (!kv->tab_key)
		return NIL;
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

static inline int keyed(const kv_cache *kv, int32_t b)
{
	return kv->key && kv->key[b];
}

/* Take keyed free block b out of the middle of the free queue (a prefix hit). */
static void fq_remove(kv_cache *kv, int32_t b)
{
	kv->ring[kv->pos[b]] = NIL;
	kv->tomb++;
	kv->n_free--;
	kv->n_cached_free--;
}

/* Squeeze the tombstones out of the ring in place: the write index trails the read
 * index, so live entries keep their order.  Called only when the ring is full, which
 * (it has room for num_blocks + slack entries, at most num_blocks of them live)
 * means at least slack tombstones are dropped: amortised O(1) per removal. */
static void ring_compact(kv_cache *kv)
{
	int64_t i, r = kv->rh, w = kv->rh, live = 0;

	for (i = 0; i < kv->rn; i++) {
		int32_t b = kv->ring[r];

		if (++r == kv->rcap)
			r = 0;
		if (b == NIL)
			continue;
		kv->ring[w] = b;
		if (keyed(kv, b))
			kv->pos[b] = (int32_t)w;
		if (++w == kv->rcap)
			w = 0;
		live++;
	}
	kv->rn = live;
	kv->tomb = 0;
}

/* Append a block to the tail of the free queue. */
static void fq_append(kv_cache *kv, int32_t b)
{
	int64_t i;

	if (kv->rn == kv->rcap)
		ring_compact(kv);
	i = kv->rh + kv->rn;
	if (i >= kv->rcap)
		i -= kv->rcap;
	kv->ring[i] = b;
	kv->rn++;
	kv->n_free++;
	if (keyed(kv, b)) {
		kv->pos[b] = (int32_t)i;
		kv->n_cached_free++;
	}
}

/* Pop the head of the free queue (n_free > 0). */
static int32_t fq_pop(kv_cache *kv)
{
	int32_t b;

	kv->n_free--;
	if (kv->virgin < kv->num_blocks)
		return (int32_t)kv->virgin++;
	for (;;) {
		b = kv->ring[kv->rh];
		if (++kv->rh == kv->rcap)
			kv->rh = 0;
		kv->rn--;
		if (b != NIL)
			break;
		kv->tomb--;
	}
	if (keyed(kv, b))
		kv->n_cached_free--;
	return b;
}

/* First key registration: the per-block key/position arrays and the key table. */
static int keys_init(kv_cache *kv)
{
	uint64_t tsz = 16;

	while (tsz < 2 * (uint64_t)kv->num_blocks)
		tsz *= 2;
	kv->key = calloc((size_t)kv->num_blocks, sizeof *kv->key);
	kv->pos = malloc((size_t)kv->num_blocks * sizeof *kv->pos);
	kv->tab_key = calloc(tsz, sizeof *kv->tab_key);
	kv->tab_val = malloc(tsz * sizeof *kv->tab_val);
	if (!kv->key || !kv->pos || !kv->tab_key || !kv->tab_val) {
		free(kv->key);
		free(kv->pos);
		free(kv->tab_key);
		free(kv->tab_val);
		kv->key = NULL;
		kv->pos = NULL;
		kv->tab_key = NULL;
		kv->tab_val = NULL;
		return -1;
	}
	kv->tab_mask = tsz - 1;
	return 0;
}

int kv_create(int64_t num_blocks, int block_size, int enable_prefix_caching, kv_cache **out)
{
	kv_cache *kv;

	*out = NULL;
	if (num_blocks <= 0 || num_blocks > INT32_MAX / 2 || block_size <= 0 || block_size > (1 << 20))
		return -1;
	kv = calloc(1, sizeof *kv);
	if (!kv)
		return -1;
	kv->num_blocks = num_blocks;
	kv->bs = block_size;
	kv->caching = enable_prefix_caching != 0;
	kv->rcap = num_blocks + num_blocks / 8 + 64;
	kv->n_free = num_blocks;
	*out = kv;
	return 0;
}

/* Leave counting mode: the used blocks become the anonymous ids [0, used), the free
 * queue the never-used range [used, num_blocks).  Returns 0, or -1 (still counting)
 * on allocation failure. */
static int to_ids(kv_cache *kv)
{
	int64_t used = kv->num_blocks - kv->n_free, b;

	/* calloc: pages of blocks never used are never touched. */
	kv->ref = calloc((size_t)kv->num_blocks, sizeof *kv->ref);
	kv->ring = malloc((size_t)kv->rcap * sizeof *kv->ring);
	if (!kv->ref || !kv->ring) {
		free(kv->ref);
		free(kv->ring);
		kv->ref = NULL;
		kv->ring = NULL;
		return -1;
	}
	for (b = 0; b < used; b++)
		kv->ref[b] = 1;
	kv->virgin = used;
	kv->anon = used;
	kv->rh = kv->rn = kv->tomb = 0;
	kv->ids = 1;
	return 0;
}

void kv_destroy(kv_cache *kv)
{
	if (!kv)
		return;
	free(kv->ref);
	free(kv->key);
	free(kv->pos);
	free(kv->ring);
	free(kv->tab_key);
	free(kv->tab_val);
	free(kv->xstack);
	free(kv);
}

/* Longest run of leading cached blocks, at most (num_tokens - 1) / bs of them. */
static int64_t count_hits(const kv_cache *kv, const sim_req *req, int64_t *n_evictable)
{
	int64_t max_blocks, lim, j, ev = 0;

	*n_evictable = 0;
	if (!kv->caching || !kv->ids)
		return 0; /* counting mode: no block carries a key */
	max_blocks = ((int64_t)rq_num_tokens(req) - 1) / kv->bs;
	/* Private keys exist only once the request has been preempted. */
	lim = shared_blocks(kv, req);
	if (req->preemptions == 0 && lim < max_blocks)
		max_blocks = lim;
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

/* Id mode, request admitted in counting mode (n_blocks > 0, no array): give it ids
 * from the top of the anonymous range, room for `want` blocks.  Returns 0 or -1. */
static int materialise(kv_cache *kv, sim_req *req, int64_t want)
{
	int64_t n = req->n_blocks, j;

	if (req->blocks || n == 0)
		return 0;
	if (ensure_cap(req, want > n ? want : n) != 0)
		return -1;
	for (j = 0; j < n; j++)
		req->blocks[j] = (int32_t)(kv->anon - n + j);
	kv->anon -= n;
	return 0;
}

int32_t kv_match_prefix(kv_cache *kv, sim_req *req)
{
	int64_t ev, n, j;

	if (req->n_blocks != 0 || !kv->ids)
		return 0; /* counting mode: no block carries a key, so no hit */
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
	if (need > kv->n_free)
		return -1;
	if (!kv->ids && kv->caching && rq_hashed_tokens(req) > 0 && to_ids(kv) != 0)
		return -1;
	if (!kv->ids) {
		if (req->n_blocks == 0 && req->blocks) {
			/* A reused request's array from an id-mode replica: drop it, so that
			 * blocks == NULL marks requests admitted while counting. */
			free(req->blocks);
			req->blocks = NULL;
			req->cap_blocks = 0;
		}
		kv->n_free -= need;
		req->n_blocks = (int32_t)want;
		return 0;
	}
	if (materialise(kv, req, want) != 0 || ensure_cap(req, want) != 0)
		return -1;
	for (i = 0; i < need; i++) {
		int32_t b = fq_pop(kv);

		if (keyed(kv, b)) {
			/* Evict: the block's cached content is about to be overwritten. */
			tab_del(kv, kv->key[b], b);
			kv->key[b] = 0;
		}
		kv->ref[b] = 1;
		req->blocks[req->n_blocks++] = b;
	}
	return 0;
}

/* Key blocks [j, full) of req that carry no key yet (out of memory: they just stay
 * uncached). */
static void register_blocks(kv_cache *kv, sim_req *req, int64_t j, int64_t full)
{
	for (; j < full; j++) {
		int32_t b = req->blocks[j];
		uint64_t k;

		if (!kv->key && keys_init(kv) != 0)
			return;
		if (kv->key[b])
			continue;
		k = block_key(kv, req, j);
		if (tab_find(kv, k) != NIL)
			continue;
		tab_put(kv, k, b);
		kv->key[b] = k;
	}
}

void kv_free_preempted(kv_cache *kv, sim_req *req)
{
	int64_t full = req->computed / kv->bs;

	if (kv->caching && full > 0 && req->n_blocks > 0) {
		if (full > req->n_blocks)
			full = req->n_blocks;
		/* Out of memory: the blocks are freed uncached. */
		if ((kv->ids || to_ids(kv) == 0) && materialise(kv, req, 0) == 0)
			register_blocks(kv, req, 0, full);
	}
	kv_free(kv, req);
}

void kv_commit(kv_cache *kv, sim_req *req, int64_t from, int64_t to)
{
	int64_t lim, full, j;

	if (!kv->caching)
		return;
	lim = rq_hashed_tokens(req);
	if (lim <= 0)
		return;
	if (lim > to)
		lim = to;
	full = lim / kv->bs;
	if (full > req->n_blocks)
		full = req->n_blocks;
	j = from / kv->bs;
	if (j < 0)
		j = 0;
	if (j >= full)
		return;
	/* Out of memory below: the blocks just stay uncached. */
	if ((!kv->ids && to_ids(kv) != 0) || materialise(kv, req, 0) != 0)
		return;
	register_blocks(kv, req, j, full);
}

int kv_extra_take(kv_cache *kv, sim_req *req, int64_t n)
{
	if (n <= 0)
		return 0;
	if (n > kv->n_free)
		return -1;
	if (!kv->ids) {
		kv->n_free -= n;
		req->n_extra += (int32_t)n;
		return 0;
	}
	if (kv->nx + n > kv->xcap) {
		int64_t cap = kv->xcap > 0 ? 2 * kv->xcap : 64;
		int32_t *x;

		while (cap < kv->nx + n)
			cap *= 2;
		x = realloc(kv->xstack, (size_t)cap * sizeof *x);
		if (!x)
			return -1;
		kv->xstack = x;
		kv->xcap = cap;
	}
	for (int64_t i = 0; i < n; i++) {
		int32_t b = fq_pop(kv);

		if (keyed(kv, b)) {
			tab_del(kv, kv->key[b], b);
			kv->key[b] = 0;
		}
		kv->ref[b] = 1;
		kv->xstack[kv->nx++] = b;
	}
	req->n_extra += (int32_t)n;
	return 0;
}

void kv_extra_give(kv_cache *kv, sim_req *req)
{
	int64_t n = req->n_extra;

	req->n_extra = 0;
	if (!kv->ids) {
		kv->n_free += n;
		return;
	}
	for (; n > 0; n--) {
		int32_t b;

		if (kv->nx > 0)
			b = kv->xstack[--kv->nx];
		else
			b = (int32_t)--kv->anon; /* taken while counting */
		kv->ref[b] = 0;
		fq_append(kv, b);
	}
}

void kv_free(kv_cache *kv, sim_req *req)
{
	int32_t i;

	if (!kv->ids) {
		kv->n_free += req->n_blocks;
		req->n_blocks = 0;
		return;
	}
	if (!req->blocks) {
		/* Admitted while counting: its blocks are the top of the anonymous range. */
		for (i = req->n_blocks - 1; i >= 0; i--) {
			int32_t b = (int32_t)(kv->anon - req->n_blocks + i);

			if (--kv->ref[b] == 0)
				fq_append(kv, b);
		}
		kv->anon -= req->n_blocks;
		req->n_blocks = 0;
		return;
	}
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

int kv_counting(const kv_cache *kv)
{
	return !kv->ids;
}

void kv_take_counted(kv_cache *kv, int64_t n)
{
	kv->n_free -= n;
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

static int check_free_block(const kv_cache *kv, int32_t b, uint8_t *seen, int64_t *keyed_free,
			    fs_err *err)
{
	if (b < 0 || b >= kv->num_blocks)
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: free queue holds block %d of %lld", b,
			       (long long)kv->num_blocks);
	if (seen[b / 8] & (1u << (b % 8)))
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: block %d is in the free queue twice", b);
	seen[b / 8] |= (uint8_t)(1u << (b % 8));
	if (kv->ref[b] != 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: block %d in free queue has ref %d", b,
			       kv->ref[b]);
	if (keyed(kv, b))
		(*keyed_free)++;
	return 0;
}

int kv_check(const kv_cache *kv, int64_t *ref_sum, fs_err *err)
{
	int64_t n = 0, keyed_free = 0, zero = 0, sum = 0, keyed_n = 0, entries = 0, tomb = 0, i;
	uint8_t *seen;
	int rc = -1;

	if (!kv->ids) {
		if (kv->n_free < 0 || kv->n_free > kv->num_blocks || kv->n_cached_free != 0 || kv->key)
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "kv: counting mode with %lld of %lld blocks free, %lld cached",
				       (long long)kv->n_free, (long long)kv->num_blocks,
				       (long long)kv->n_cached_free);
		if (ref_sum)
			*ref_sum = kv->num_blocks - kv->n_free;
		return 0;
	}
	if (kv->anon < 0 || kv->anon > kv->num_blocks)
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: %lld anonymous blocks of %lld",
			       (long long)kv->anon, (long long)kv->num_blocks);
	for (i = 0; i < kv->anon; i++)
		if (kv->ref[i] != 1 || keyed(kv, (int32_t)i))
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "kv: anonymous block %lld has ref %d%s", (long long)i,
				       kv->ref[i], keyed(kv, (int32_t)i) ? " and a key" : "");
	seen = calloc((size_t)kv->num_blocks / 8 + 1, 1);
	if (!seen)
		return fs_fail(err, FS_EXIT_RUNTIME, "kv: out of memory checking the block pool");
	if (kv->rn > kv->rcap || kv->rh < 0 || kv->rh >= kv->rcap) {
		fs_fail(err, FS_EXIT_RUNTIME, "kv: free ring head %lld count %lld capacity %lld",
			(long long)kv->rh, (long long)kv->rn, (long long)kv->rcap);
		goto out;
	}
	for (i = kv->virgin; i < kv->num_blocks; i++, n++)
		if (check_free_block(kv, (int32_t)i, seen, &keyed_free, err))
			goto out;
	for (i = 0; i < kv->rn; i++) {
		int64_t at = (kv->rh + i) % kv->rcap;
		int32_t b = kv->ring[at];

		if (b == NIL) {
			tomb++;
			continue;
		}
		if (check_free_block(kv, b, seen, &keyed_free, err))
			goto out;
		if (keyed(kv, b) && kv->pos[b] != at) {
			fs_fail(err, FS_EXIT_RUNTIME, "kv: cached free block %d at ring slot %lld, recorded %d",
				b, (long long)at, kv->pos[b]);
			goto out;
		}
		n++;
	}
	if (n != kv->n_free || keyed_free != kv->n_cached_free || tomb != kv->tomb) {
		fs_fail(err, FS_EXIT_RUNTIME,
			"kv: free queue holds %lld blocks (%lld cached, %lld tombstones), counters say "
			"%lld (%lld, %lld)",
			(long long)n, (long long)keyed_free, (long long)tomb, (long long)kv->n_free,
			(long long)kv->n_cached_free, (long long)kv->tomb);
		goto out;
	}
	for (i = 0; i < kv->num_blocks; i++) {
		if (kv->ref[i] < 0) {
			fs_fail(err, FS_EXIT_RUNTIME, "kv: block %lld has ref %d", (long long)i, kv->ref[i]);
			goto out;
		}
		if (kv->ref[i] == 0)
			zero++;
		sum += kv->ref[i];
		if (keyed(kv, (int32_t)i)) {
			keyed_n++;
			if (tab_find(kv, kv->key[i]) != (int32_t)i) {
				fs_fail(err, FS_EXIT_RUNTIME,
					"kv: block %lld has a key the table does not map to it", (long long)i);
				goto out;
			}
		}
	}
	if (zero != n) {
		fs_fail(err, FS_EXIT_RUNTIME, "kv: %lld blocks have ref 0 but %lld are in the free queue",
			(long long)zero, (long long)n);
		goto out;
	}
	if (kv->tab_key)
		for (i = 0; i <= (int64_t)kv->tab_mask; i++)
			if (kv->tab_key[i])
				entries++;
	if (entries != keyed_n) {
		fs_fail(err, FS_EXIT_RUNTIME, "kv: table has %lld keys, blocks carry %lld",
			(long long)entries, (long long)keyed_n);
		goto out;
	}
	if (ref_sum)
		*ref_sum = sum;
	rc = 0;
out:
	free(seen);
	return rc;
}
