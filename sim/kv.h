/*
 * kv.h - paged KV-cache block manager of one replica (vLLM V1 KVCacheManager):
 * incremental block allocation, reference counts, and prefix caching where freed
 * full blocks stay cached (evictable, LRU) until reused or evicted.
 *
 * Until the first request with prefix hashes is allocated blocks (with caching off:
 * for ever) the manager only counts blocks: req->n_blocks is kept, req->blocks is
 * left NULL (kv_allocate frees a stale array a reused request brings with it).  The
 * figures every function returns are the same in both modes; only block ids, which
 * no caller may rely on, exist in id mode alone.
 */
#ifndef FS_KV_H
#define FS_KV_H

#include <stdint.h>

#include "sim/request.h"
#include "util/err.h"

typedef struct kv_cache kv_cache;

/* Create a manager for num_blocks blocks of block_size tokens. Returns 0 and *out
 * (caller owns, kv_destroy), or -1 on allocation failure or bad sizes. */
int kv_create(int64_t num_blocks, int block_size, int enable_prefix_caching, kv_cache **out);
void kv_destroy(kv_cache *kv);

/* For a request about to be admitted with computed == 0: find the longest run of its
 * leading full blocks present in the cache (never all its tokens: the last one is
 * always recomputed, as in vLLM), take references on them, append them to
 * req->blocks and return the number of tokens they cover. 0 when caching is off. */
int32_t kv_match_prefix(kv_cache *kv, sim_req *req);

/* The prefix hit kv_match_prefix would give req right now, without taking
 * references: returns the hit tokens and sets *n_evictable to how many of the hit
 * blocks sit in the free queue (ref 0), since touching them takes them out of the
 * free count.  Lets the scheduler check that admission can fully succeed before it
 * changes any block's LRU position (vLLM checks before it touches). */
int32_t kv_lookup_prefix(const kv_cache *kv, const sim_req *req, int64_t *n_evictable);

/* Ensure req holds blocks for `tokens` tokens in total. Allocates only the missing
 * blocks, evicting cached ones LRU-first. Returns 0, or -1 (nothing allocated) when
 * not enough blocks are free, or on allocation failure of the block array (or of
 * the per-block state, when this first hashed request leaves counting mode). */
int kv_allocate(kv_cache *kv, sim_req *req, int64_t tokens);

/* Register in the cache the blocks that tokens [from, to) of req complete and that
 * carry a shared (trace) prefix hash.  vLLM caches blocks when they are scheduled
 * (allocate_slots -> cache_blocks with the tokens computed after the step), so the
 * scheduler calls this right after allocating a request's tokens for the step: a
 * request later in the same step can then hit them.  A block whose key is already
 * cached under another block stays unregistered. */
void kv_commit(kv_cache *kv, sim_req *req, int64_t from, int64_t to);

/* Release the blocks of a preempted request, keeping its full blocks cached (vLLM
 * hashes every full block of prompt and output: blocks beyond the trace's hashes get
 * keys private to the request, so only its own resume hits them).  The first call
 * with caching on leaves counting mode.  Private keys are registered here rather
 * than when the block filled: nobody but the request itself can look them up, and
 * it only does after a preemption.  With caching off this is kv_free. */
void kv_free_preempted(kv_cache *kv, sim_req *req);

/* Release all of req's blocks (finish or preemption), last block first so a
 * request's tail blocks are evicted first (vLLM).  req->blocks' array (NULL if req
 * was admitted while counting) is kept for reuse; its owner frees it. */
void kv_free(kv_cache *kv, sim_req *req);

/* Blocks that hold no cacheable tokens (sliding-window pages, recurrent state):
 * interchangeable, never keyed.  kv_extra_take adds n to req->n_extra, evicting
 * cached blocks LRU-first like kv_allocate; returns 0, or -1 (nothing taken) when
 * fewer than n blocks are free or on allocation failure.  kv_extra_give returns all
 * of req's extra blocks to the tail of the free queue. */
int kv_extra_take(kv_cache *kv, sim_req *req, int64_t n);
void kv_extra_give(kv_cache *kv, sim_req *req);

/* Bulk growth in counting mode (the decode cohort's allocations): kv_counting says
 * whether the manager is counting (no block ids exist); then kv_allocate of a
 * request without prefix hashes that already holds blocks is exactly
 * "req->n_blocks = want; free -= want - old", and the caller may do that itself for
 * many requests and hand the total to kv_take_counted (which trusts it to fit).
 * Call kv_take_counted before any other kv_* call: the mode switch reads the count. */
int kv_counting(const kv_cache *kv);
void kv_take_counted(kv_cache *kv, int64_t n);

int64_t kv_total_blocks(const kv_cache *kv);
int64_t kv_used_blocks(const kv_cache *kv);    /* referenced by some request */
int64_t kv_free_blocks(const kv_cache *kv);    /* free + evictable cached */
int64_t kv_cached_blocks(const kv_cache *kv);  /* evictable blocks holding a hash */
uint64_t kv_hit_tokens(const kv_cache *kv);    /* cumulative prefix-hit tokens */
int kv_block_size(const kv_cache *kv);

/* Consistency check of the block pool (free queue links and count, reference
 * counts, hash table; in counting mode the free count only).  Returns 0 and *ref_sum = sum of all reference counts (equal
 * to the sum of n_blocks over the requests holding blocks), or -1 with err. */
int kv_check(const kv_cache *kv, int64_t *ref_sum, fs_err *err);

#endif
