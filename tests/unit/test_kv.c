/* CUnit suite for sim/kv: incremental allocation, prefix caching, LRU eviction. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sim/kv.h"

static void mkreq(sim_req *r, int64_t id, int32_t prompt, uint64_t *hashes, int32_t n_hashes,
		  int32_t hbt)
{
	memset(r, 0, sizeof *r);
	r->id = id;
	r->prompt = prompt;
	r->output = 1;
	r->max_tokens = -1;
	r->first_token = r->finish = -1;
	r->hashes = hashes;
	r->n_hashes = n_hashes;
	r->hash_block_tokens = hbt;
}

/* Pretend a step computed `tokens` tokens of r and commit them. */
static void compute(kv_cache *kv, sim_req *r, int32_t tokens)
{
	kv_commit(kv, r, r->computed, (int64_t)r->computed + tokens);
	r->computed += tokens;
}

static int check(const kv_cache *kv, int64_t expect_refs)
{
	fs_err err = {0};
	int64_t refs = -1;

	if (kv_check(kv, &refs, &err) != 0)
		return -1;
	return refs == expect_refs ? 0 : -1;
}

static void test_incremental(void)
{
	kv_cache *kv = NULL;
	sim_req a, b;

	CU_ASSERT_EQUAL(kv_create(0, 16, 1, &kv), -1);
	CU_ASSERT_EQUAL(kv_create(4, 0, 1, &kv), -1);
	CU_ASSERT_EQUAL_FATAL(kv_create(4, 4, 1, &kv), 0);
	mkreq(&a, 0, 10, NULL, 0, 0);
	mkreq(&b, 1, 10, NULL, 0, 0);
	/* 5 tokens / 4 per block -> 2 blocks; 8 tokens still 2; 9 -> 3. */
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 5), 0);
	CU_ASSERT_EQUAL(a.n_blocks, 2);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 8), 0);
	CU_ASSERT_EQUAL(a.n_blocks, 2);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 9), 0);
	CU_ASSERT_EQUAL(a.n_blocks, 3);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 3);
	/* b wants 2 blocks, 1 free: refused, nothing taken. */
	CU_ASSERT_EQUAL(kv_allocate(kv, &b, 5), -1);
	CU_ASSERT_EQUAL(b.n_blocks, 0);
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 1);
	CU_ASSERT_EQUAL(check(kv, 3), 0);
	kv_free(kv, &a);
	CU_ASSERT_EQUAL(a.n_blocks, 0);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 0);
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 4);
	CU_ASSERT_EQUAL(kv_allocate(kv, &b, 16), 0);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 4);
	kv_free(kv, &b);
	CU_ASSERT_EQUAL(check(kv, 0), 0);
	free(a.blocks);
	free(b.blocks);
	kv_destroy(kv);
}

static void test_prefix_and_lru(void)
{
	/* 8 blocks of 4 tokens, one trace hash per 4 tokens (hash_block_tokens 4). */
	uint64_t h1[5] = {11, 12, 13, 14, 15};
	uint64_t h2[5] = {11, 12, 99, 98, 97};
	kv_cache *kv = NULL;
	sim_req r1, r2, r3, r4, r5;
	int64_t ev = -1;

	CU_ASSERT_EQUAL_FATAL(kv_create(8, 4, 1, &kv), 0);
	mkreq(&r1, 1, 16, h1, 4, 4);
	/* r1: 16 tokens = 4 full hashed blocks, computed in two chunks of 8. */
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &r1), 0);
	CU_ASSERT_EQUAL(kv_allocate(kv, &r1, 8), 0);
	compute(kv, &r1, 8);
	CU_ASSERT_EQUAL(kv_allocate(kv, &r1, 17), 0); /* 16 + first decode token: 5 blocks */
	compute(kv, &r1, 8);
	CU_ASSERT_EQUAL(r1.n_blocks, 5);
	CU_ASSERT_EQUAL(check(kv, 5), 0);

	/* r2 shares r1's prompt while r1 still runs: hit = min(4 blocks, (16-1)/4 = 3) =
	 * 3 blocks = 12 tokens (the last token is always recomputed); shared blocks now
	 * have ref 2, so refs sum to 5 + 3 = 8 while 5 blocks are used. */
	mkreq(&r2, 2, 16, h1, 4, 4);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &r2, &ev), 12);
	CU_ASSERT_EQUAL(ev, 0); /* all hit blocks are held by r1, none in the free queue */
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &r2), 12);
	CU_ASSERT_EQUAL(r2.n_blocks, 3);
	CU_ASSERT_EQUAL(r2.blocks[0], r1.blocks[0]);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 5);
	CU_ASSERT_EQUAL(check(kv, 8), 0);
	CU_ASSERT_EQUAL(kv_hit_tokens(kv), 12);
	kv_free(kv, &r2);
	kv_free(kv, &r1);
	/* Free queue now (head first): 5 6 7 | r1 freed last block first: 4 3 2 1 0.
	 * Blocks 0..3 of r1 are cached (its block 4 held only the decode token). */
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 0);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 4);
	CU_ASSERT_EQUAL(check(kv, 0), 0);

	/* r3 (no hashes) takes 5 blocks: 5 6 7 4 and r1's block 3 -> evicts r1's TAIL
	 * cached block first; r1's blocks 0..2 stay cached. */
	mkreq(&r3, 3, 20, NULL, 0, 0);
	CU_ASSERT_EQUAL(kv_allocate(kv, &r3, 20), 0);
	CU_ASSERT_EQUAL(r3.blocks[4], r1.blocks[3]);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 3);

	/* r4 = r1's prefix + one more hashed block, 20 tokens: could hit up to
	 * (20-1)/4 = 4 blocks, but block 3 was evicted -> 3 blocks = 12 tokens, and all
	 * 3 sit in the free queue (evictable). */
	mkreq(&r4, 4, 20, h1, 5, 4);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &r4, &ev), 12);
	CU_ASSERT_EQUAL(ev, 3);
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &r4), 12);
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 0);

	/* r5 shares only the first 2 trace hashes -> 2 blocks = 8 tokens would hit. */
	mkreq(&r5, 5, 20, h2, 5, 4);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &r5, &ev), 8);
	CU_ASSERT_EQUAL(ev, 0);
	CU_ASSERT_EQUAL(check(kv, 8), 0);
	kv_free(kv, &r3);
	kv_free(kv, &r4);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 0);
	CU_ASSERT_EQUAL(check(kv, 0), 0);
	free(r1.blocks);
	free(r2.blocks);
	free(r3.blocks);
	free(r4.blocks);
	kv_destroy(kv);
}

static void test_coarse_hashes(void)
{
	/* Mooncake-style: one hash per 512 tokens, vLLM blocks of 16.  Prompt 1000 with
	 * 2 hashes covers min(1024, 1000) = 1000 tokens -> 62 full blocks (992 tokens).
	 * A request with the same first hash but another second one shares blocks whose
	 * last token is < 512: blocks 0..31 = 512 tokens. */
	uint64_t ha[2] = {7, 8}, hb[2] = {7, 9};
	kv_cache *kv = NULL;
	sim_req a, b, c;
	int64_t ev;

	CU_ASSERT_EQUAL_FATAL(kv_create(200, 16, 1, &kv), 0);
	mkreq(&a, 0, 1000, ha, 2, 512);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 1000), 0);
	compute(kv, &a, 1000);
	mkreq(&b, 1, 1000, ha, 2, 512);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &b, &ev), 992);
	mkreq(&c, 2, 1000, hb, 2, 512);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &c, &ev), 512);
	/* Caching off: never a hit. */
	kv_free(kv, &a);
	kv_destroy(kv);
	CU_ASSERT_EQUAL_FATAL(kv_create(200, 16, 0, &kv), 0);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 1000), 0);
	a.computed = 0;
	compute(kv, &a, 1000);
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &b), 0);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 0);
	kv_free(kv, &a);
	free(a.blocks);
	kv_destroy(kv);
}

/* Counting mode: requests without hashes get counts only, no block array. */
static void test_counting_mode(void)
{
	kv_cache *kv = NULL;
	sim_req a, b;
	int32_t *stale = malloc(8 * sizeof *stale);

	CU_ASSERT_EQUAL_FATAL(kv_create(10, 4, 1, &kv), 0);
	mkreq(&a, 0, 10, NULL, 0, 0);
	mkreq(&b, 1, 10, NULL, 0, 0);
	/* b is a reused struct holding an array from an earlier life: dropped on admission. */
	b.blocks = stale;
	b.cap_blocks = 8;
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 9), 0); /* ceil(9 / 4) = 3 */
	CU_ASSERT_EQUAL(kv_allocate(kv, &b, 16), 0); /* 4 */
	CU_ASSERT_EQUAL(a.n_blocks, 3);
	CU_ASSERT_EQUAL(b.n_blocks, 4);
	CU_ASSERT_PTR_NULL(a.blocks);
	CU_ASSERT_PTR_NULL(b.blocks);
	CU_ASSERT_EQUAL(b.cap_blocks, 0);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 7);
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 3);
	/* 4 more for a: 3 + 4 = 7 > 3 free -> refused, nothing taken. */
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 28), -1);
	CU_ASSERT_EQUAL(a.n_blocks, 3);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 24), 0); /* 6 blocks: the last 3 free */
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 0);
	CU_ASSERT_EQUAL(check(kv, 10), 0);
	/* Caching on but no keys yet: no hit, nothing touched. */
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &b), 0);
	kv_free(kv, &a);
	CU_ASSERT_EQUAL(a.n_blocks, 0);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 4);
	CU_ASSERT_EQUAL(check(kv, 4), 0);
	kv_free(kv, &b);
	CU_ASSERT_EQUAL(check(kv, 0), 0);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 0);
	kv_destroy(kv);
}

/* The first hashed allocation switches to id mode while counted requests hold
 * blocks: they become anonymous ids, get real ones when they grow, give them back
 * on free, and caching then works as in a manager that tracked ids all along. */
static void test_switch_to_ids(void)
{
	uint64_t h[4] = {21, 22, 23, 24};
	kv_cache *kv = NULL;
	sim_req a, b, c, d;
	int64_t ev = -1;

	CU_ASSERT_EQUAL_FATAL(kv_create(12, 4, 1, &kv), 0);
	mkreq(&a, 0, 8, NULL, 0, 0);
	mkreq(&b, 1, 12, NULL, 0, 0);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 8), 0);  /* 2 blocks, counted */
	CU_ASSERT_EQUAL(kv_allocate(kv, &b, 12), 0); /* 3 blocks, counted */
	/* c carries hashes: switch.  Used 5 -> anonymous ids 0..4, free queue 5..11;
	 * c takes 5, 6, 7, 8 (16 tokens). */
	mkreq(&c, 2, 16, h, 4, 4);
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &c), 0);
	CU_ASSERT_EQUAL(kv_allocate(kv, &c, 16), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.blocks);
	CU_ASSERT_EQUAL(c.blocks[0], 5);
	CU_ASSERT_EQUAL(c.blocks[3], 8);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 9);
	CU_ASSERT_EQUAL(check(kv, 9), 0);
	compute(kv, &c, 16); /* keys c's 4 full blocks */
	/* b grows to 4 blocks: takes the anonymous top 2..4 (anon range 0..4, b has 3),
	 * then block 9 from the free queue. */
	CU_ASSERT_EQUAL(kv_allocate(kv, &b, 13), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.blocks);
	CU_ASSERT_EQUAL(b.n_blocks, 4);
	CU_ASSERT_EQUAL(b.blocks[0], 2);
	CU_ASSERT_EQUAL(b.blocks[2], 4);
	CU_ASSERT_EQUAL(b.blocks[3], 9);
	CU_ASSERT_EQUAL(check(kv, 10), 0);
	/* a (still anonymous: 0, 1) frees: appended 1 then 0.  Free queue: 10 11 1 0. */
	kv_free(kv, &a);
	CU_ASSERT_PTR_NULL(a.blocks);
	CU_ASSERT_EQUAL(kv_free_blocks(kv), 4);
	CU_ASSERT_EQUAL(check(kv, 8), 0);
	/* c frees: its 4 keyed blocks go to the tail (8 7 6 5). */
	kv_free(kv, &c);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 4);
	/* d = c's prompt: hit min(4, (16-1)/4 = 3) blocks = 12 tokens, all evictable. */
	mkreq(&d, 3, 16, h, 4, 4);
	CU_ASSERT_EQUAL(kv_lookup_prefix(kv, &d, &ev), 12);
	CU_ASSERT_EQUAL(ev, 3);
	CU_ASSERT_EQUAL(kv_match_prefix(kv, &d), 12);
	CU_ASSERT_EQUAL(d.blocks[0], 5);
	/* d's 4th block pops the head: 10 (unkeyed), no eviction. */
	CU_ASSERT_EQUAL(kv_allocate(kv, &d, 16), 0);
	CU_ASSERT_EQUAL(d.blocks[3], 10);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 1); /* c's block 8 */
	CU_ASSERT_EQUAL(check(kv, 8), 0);
	kv_free(kv, &b);
	kv_free(kv, &d);
	CU_ASSERT_EQUAL(kv_used_blocks(kv), 0);
	CU_ASSERT_EQUAL(check(kv, 0), 0);
	free(b.blocks);
	free(c.blocks);
	free(d.blocks);
	kv_destroy(kv);
}

/* Caching off: hashed requests never leave counting mode. */
static void test_caching_off_counts(void)
{
	uint64_t h[2] = {1, 2};
	kv_cache *kv = NULL;
	sim_req a;

	CU_ASSERT_EQUAL_FATAL(kv_create(8, 4, 0, &kv), 0);
	mkreq(&a, 0, 8, h, 2, 4);
	CU_ASSERT_EQUAL(kv_allocate(kv, &a, 8), 0);
	compute(kv, &a, 8);
	CU_ASSERT_PTR_NULL(a.blocks);
	CU_ASSERT_EQUAL(kv_cached_blocks(kv), 0);
	CU_ASSERT_EQUAL(check(kv, 2), 0);
	kv_free(kv, &a);
	CU_ASSERT_EQUAL(check(kv, 0), 0);
	kv_destroy(kv);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("kv", NULL, NULL);
	if (!s || !CU_add_test(s, "incremental allocation", test_incremental) ||
	    !CU_add_test(s, "prefix caching and LRU eviction", test_prefix_and_lru) ||
	    !CU_add_test(s, "trace hash blocks vs vLLM blocks", test_coarse_hashes) ||
	    !CU_add_test(s, "counting mode", test_counting_mode) ||
	    !CU_add_test(s, "switch from counting to ids", test_switch_to_ids) ||
	    !CU_add_test(s, "caching off stays counting", test_caching_off_counts))
		return -1;
	return 0;
}
