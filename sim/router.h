/*
 * router.h - the fleet's front door: which pool, then which replica, each request goes
 * to (SPEC section 5).
 *
 * Pool choice: `balance` sends everything to the pools that can hold the request,
 * first fit; `token_budget` estimates L_in + L_out and compares it with N-1 ascending
 * thresholds for N pools, never choosing a pool whose max_model_len cannot hold the
 * request, with optional spill-over when the preferred pool is overloaded.
 * Replica choice inside a pool (round robin, least outstanding tokens, least KV usage)
 * is configured here (router_balance) and made by sim/balance.h.
 *
 * Owns: a router's per-run estimator state (EMAs, recent outputs per category) until
 * router_destroy; requests and pool views are borrowed.
 */
#ifndef FS_ROUTER_H
#define FS_ROUTER_H

#include <stdint.h>

#include "sim/request.h"
#include "util/err.h"

#define FS_MAX_POOLS 8

typedef enum router_type {
	ROUTER_BALANCE = 0,   /* single pool (or first pool that fits) */
	ROUTER_TOKEN_BUDGET   /* dual / N-pool threshold routing */
} router_type;

typedef enum router_estimator {
	EST_ORACLE = 0,       /* trace's true input + output */
	EST_MAX_TOKENS,       /* input + max_tokens (default when absent) */
	EST_PERCENTILE,       /* input + Pq of recent outputs of the category */
	EST_BYTES_EMA         /* the paper's: ceil(bytes / c*) + max_tokens */
} router_estimator;

typedef enum router_balance {
	BAL_ROUND_ROBIN = 0,
	BAL_LEAST_TOKENS,
	BAL_LEAST_KV
} router_balance;

typedef struct router_cfg {
	router_type type;
	router_estimator estimator;
	router_balance balance;
	int nthresholds;                       /* npools - 1 for token_budget */
	int64_t thresholds[FS_MAX_POOLS - 1];  /* ascending, tokens */
	int default_max_tokens;                /* max_tokens estimator when absent: 256 */
	int spillover;                         /* allow the other pool when overloaded */
	double spill_waiting_per_replica;      /* overload: waiting requests per replica above this */
	double spill_kv_usage;                 /* overload: mean KV usage above this (0..1) */
	double percentile;                     /* EST_PERCENTILE: 0.75 or 0.9 */
	int percentile_window;                 /* finished requests remembered per category */
	double ema_alpha, ema_gamma, ema_c0;   /* EST_BYTES_EMA: EMA weight, gamma, cold start 4.0 */
	double bytes_per_token, bytes_noise;   /* when the trace has no prompt bytes */
} router_cfg;

void router_cfg_default(router_cfg *c);

const char *router_type_name(router_type t);
const char *router_estimator_name(router_estimator e);
const char *router_balance_name(router_balance b);
int router_parse_type(const char *s, router_type *out, fs_err *err);
int router_parse_estimator(const char *s, router_estimator *out, fs_err *err);
int router_parse_balance(const char *s, router_balance *out, fs_err *err);

/* What the router may look at when choosing: per pool, its capacity and load. */
typedef struct router_pool_view {
	int max_model_len;
	int replicas;
	int64_t waiting;       /* requests waiting over the pool's replicas */
	double kv_usage;       /* mean KV usage over the pool's replicas */
} router_pool_view;

typedef struct router router;

/* Returns 0 and *out (caller owns, router_destroy), or -1 on allocation failure. */
int router_create(const router_cfg *cfg, int npools, uint64_t seed, router **out, fs_err *err);
void router_destroy(router *r);

/* Choose the pool for req: returns its index, or -1 when no pool's max_model_len can
 * hold the request (the caller rejects it).  Sets req->est_tokens and req->misrouted. */
int router_pick_pool(router *r, sim_req *req, const router_pool_view *pools, int npools);

/* Tell the estimators a request finished (its true prompt and output). */
void router_observe(router *r, const sim_req *req);

/* EST_BYTES_EMA: the conservative bytes-per-token ratio c* = c_hat - gamma * sigma_hat
 * the router would use now for `category` (floored at 0.5).  c_hat starts at ema_c0
 * (4.0) and follows each finished request's prompt_bytes / prompt by EMA with weight
 * ema_alpha; sigma_hat is the square root of the matching EW variance.  One state per
 * category (categories beyond 63 share slots modulo 63; negative = uncategorised). */
double router_ema_ratio(const router *r, int32_t category);

#endif
