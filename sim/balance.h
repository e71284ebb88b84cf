/*
 * balance.h - replica choice inside a pool (the router picks the pool): round robin,
 * least outstanding tokens, or least KV usage (KV blocks in use, then outstanding
 * tokens), ties to the lowest replica index.
 *
 * Least tokens / least KV keep per pool a min segment tree over its replicas keyed
 * (key1, key2, index), so a choice costs O(log replicas) instead of a scan.  A
 * replica may be "bounded": in a macro-step that runs past arrivals its keys are
 * lower bounds over the macro-step, and balance_pick evaluates its keys as of the
 * present through the caller's view function where the bounds do not rule it out
 * (branch and bound: it picks exactly what a scan of the exact keys would).  Bounds
 * that hold to the macro-step's end sit among the exact keys; under least tokens a
 * full batch's bound falls with time as its steps run (balance_set_line) and sits in
 * a second tree, since such bounds move with time and exact keys do not.
 *
 * Replicas are numbered globally, pool by pool (pool p has pool_first[p] ..
 * pool_first[p + 1] - 1).  The balance owns its trees, keys and counters
 * (balance_destroy frees them); it keeps no pointer to replicas.
 */
#ifndef FS_BALANCE_H
#define FS_BALANCE_H

#include <stdint.h>

#include "sim/replica.h"
#include "sim/router.h"

typedef struct balance balance;

/* A replica's load as of the present while it is bounded: outstanding tokens and KV
 * blocks in use (the caller knows how far its macro-step has got).  kv_used is NULL
 * when only the tokens are wanted (least tokens). */
typedef void (*balance_view_fn)(void *ctx, int ri, int64_t *outstanding, int64_t *kv_used);

/* npools pools, pool_first[0..npools] (copied), every replica's keys 0 and none
 * bounded.  Returns 0 and *out (caller owns, balance_destroy), or -1 on allocation
 * failure (*out NULL). */
int balance_create(router_balance kind, int npools, const int *pool_first, balance **out);
void balance_destroy(balance *b);

/* Re-read replica ri's keys from r at time now (call after anything that may change
 * its load, and after balance_bound / balance_unbound): outstanding tokens, or (KV
 * blocks in use, outstanding tokens); lower bounds over its macro-step while
 * bounded.  No-op for round robin. */
void balance_update(balance *b, int ri, const replica *r, int64_t now);
/* Set replica ri's keys directly: exact keys, or while it is bounded lower bounds
 * valid to the end of its macro-step (under least tokens a bound that does not fall
 * with time, looser than balance_set_line's). */
void balance_set_keys(balance *b, int ri, int64_t key1, int64_t key2);
/* Least tokens, replica ri bounded: at any time t in [now, tend] it has at least
 * L + n * ((tend - t) / dmax - 1) tokens outstanding, and never fewer than L (L
 * after its macro-step's last step, which ends at tend; n fewer per step; steps of
 * at most dmax ns).  Otherwise as balance_set_keys(b, ri, L, 0). */
void balance_set_line(balance *b, int ri, int64_t now, int64_t L, int64_t n, int64_t dmax,
		      int64_t tend);

/* Mark replica ri bounded (call before balance_update, so its keys become the bounds)
 * or no longer bounded; balance_bounded says which it is.  Either only marks it: set
 * its keys (balance_update) before the next pick, which until then sees its old ones. */
void balance_bound(balance *b, int ri);
void balance_unbound(balance *b, int ri);
int balance_bounded(const balance *b, int ri);

/* The replica (global index) of `pool` the next request goes to at time now (not
 * before any time its keys were set at).  Round robin advances the pool's counter;
 * the others call view(ctx, ...) for bounded replicas they must evaluate (view may
 * be NULL when none is bounded). */
int balance_pick(balance *b, int pool, int64_t now, balance_view_fn view, void *ctx);

/* Round robin: requests picked so far in `pool` (the next goes to replica
 * pool_first[pool] + count % replicas). */
uint64_t balance_rr_count(const balance *b, int pool);
/* Branch-and-bound searches so far and the replicas they evaluated. */
void balance_search_stats(const balance *b, int64_t *searches, int64_t *leaves);

#endif
