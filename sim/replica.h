/*
 * replica.h - one vLLM V1 engine (tp GPUs) scheduled step by step.
 *
 * Per step (SPEC section 2): RUNNING requests first, in order, each gets
 * min(remaining tokens, budget left) with chunked prefill; blocks are allocated for
 * the tokens computed this step; when one cannot be had, the last running request is
 * preempted (blocks freed, computed reset, pushed to the head of WAITING).  Then, if
 * nothing was preempted, WAITING requests are admitted FCFS while
 * running < max_num_seqs, budget remains and blocks can be allocated.  The step's
 * duration comes from the perf model for that exact batch.
 *
 * Driving: the fleet calls replica_add() on arrival, replica_begin_step() whenever the
 * replica is idle and has work, and replica_end_step() when the step's time is up.
 */
#ifndef FS_REPLICA_H
#define FS_REPLICA_H

#include <stdint.h>
#include <stdio.h>

#include "models/perf.h"
#include "sim/event.h"
#include "sim/kv.h"
#include "sim/request.h"
#include "util/err.h"

typedef struct replica_cfg {
	int max_num_seqs;           /* vLLM 0.21: 1024 (A100: 256), models/engine.c */
	int max_num_batched_tokens; /* vLLM 0.21: 8192 (A100: 2048) */
	int max_model_len;
	int block_size;             /* default 16 */
	int64_t num_blocks;         /* from the memory plan */
	int enable_prefix_caching;  /* default on */
	int long_prefill_token_threshold; /* 0 = off (default of every modelled release) */
	const perf_model *perf;     /* borrowed; must outlive the replica */
	/* 1: account pure-decode requests as one cohort (O(1) per step) and let
	 * replica_begin_step_until take several decode-only steps at once.  Results are
	 * identical to the step-by-step engine (0, the reference); tests/unit/test_fastpath.c
	 * compares the two. */
	int fast_path;
	/* vLLM release behaviour (models/engine.h; the fleet fills these from the pool's
	 * release, tests set them directly). */
	int reserve_full_isl;       /* admission needs blocks for the whole prompt (minus
				     * prefix hits), not only for the first chunk */
	int async_scheduling;       /* step N+1 is formed while step N runs: a request
				     * that arrived after step N began waits one more step,
				     * and a finished request keeps its seat and blocks for
				     * one more (discarded) decode step */
	int null_block;             /* block 0 is reserved (usable = num_blocks - 1) */
	int32_t default_max_tokens; /* the model's generation_config max_new_tokens: the
				     * max_tokens of a request that names none (vLLM
				     * clamps it to the room left); -1 = none */
	int default_max_tokens_caps; /* ... and a ceiling on requests that name one too
				      * (releases before vLLM #34063) */
	/* KV blocks a running request holds besides ceil(tokens / block_size):
	 * hybrid models' recurrent state (state_blocks, from admission on) and
	 * sliding-window layers (swa_mult x min(ceil(tokens / block_size),
	 * swa_window_blocks)).  all_sliding: no full-attention layer, the token blocks
	 * themselves stop growing at swa_window_blocks (swa_mult is then 0).  Prefix
	 * hits reuse token blocks only; sliding and state blocks are taken afresh.
	 * With sliding layers the fast path is off (its cohort assumes one block per
	 * block_size tokens); state blocks keep it. */
	int state_blocks;
	int swa_mult;
	int64_t swa_window_blocks;
	int all_sliding;
	/* Borrowed, may be NULL.  With a pool a fresh request that joins a non-empty
	 * queue or a full batch is parked: its fields go into the waiting queue (64
	 * bytes instead of a struct of its own, read in queue order) and the struct back
	 * to the pool; it is rebuilt from the pool when it reaches the head.  The caller
	 * then must not touch a request after replica_add, only what done() hands back.
	 * Results are the same either way. */
	rq_pool *pool;
} replica_cfg;

typedef struct replica replica;

/* Returns 0 and *out (caller owns, replica_destroy), or -1 with err: invalid sizes, or
 * a KV cache too small to hold one max_model_len sequence (as vLLM refuses to start). */
int replica_create(const replica_cfg *cfg, replica **out, fs_err *err);
/* Frees the replica and its KV manager; requests still queued are not freed (the
 * fleet owns them). */
void replica_destroy(replica *r);

/* Queue an arrived request at the tail of WAITING. A request whose prompt (+
 * max_tokens) exceeds max_model_len, or whose prompt alone fills it, is rejected
 * instead: status RQ_REJECTED, finish = now, return 1. Otherwise req->output is
 * clamped to the room left (max_model_len - prompt, vLLM's implicit max_tokens), to
 * max_tokens if set (else to the model's default_max_tokens if any), and to at
 * least 1, and 0 is returned (with cfg.pool, req may then have gone back to the
 * pool: see replica_cfg.pool).  -1: out of memory for the queue (req untouched). */
int replica_add(replica *r, sim_req *req, simtime_t now);

/* Whether the replica has anything running or waiting. */
int replica_has_work(const replica *r);
/* Whether a step is in flight (between begin and end). */
int replica_in_step(const replica *r);

/* Form the next batch at time now. Returns the step's duration in ns (> 0), or 0 if
 * nothing can be scheduled (no work). */
int64_t replica_begin_step(replica *r, simtime_t now);

/* As replica_begin_step, but with fast_path on the replica may take k >= 1
 * decode-only steps at once (a macro-step) when nothing outside it can observe or
 * change it before `horizon`: every step but the last ends strictly before horizon,
 * the last one is in flight until the returned time.  Pass the earliest time any
 * other event that reads or feeds this replica (arrival, metrics sample) can run;
 * horizon <= now gives exactly one step.  Returns the total duration in ns (> 0),
 * 0 if nothing can be scheduled, or -1 out of memory (rebuilding a parked request,
 * or a queue block for a preempted one; the replica is then unusable).  The state the
 * replica reports at any time in [now, horizon] (outstanding tokens, KV use, queue
 * lengths) is the reference's. */
int64_t replica_begin_step_until(replica *r, simtime_t now, simtime_t horizon);

typedef void (*replica_done_fn)(void *ctx, sim_req *req);

/* Finish the step in flight at time now: advance computed tokens, emit output tokens
 * (first_token set when a prefill completes), finish requests that reached their
 * output length (blocks freed, status RQ_DONE, finish = now) and hand each to done(). */
void replica_end_step(replica *r, simtime_t now, replica_done_fn done, void *ctx);

/* Move every queued/running request to RQ_UNFINISHED, free their blocks and hand them
 * to done() (end of a run with --no-drain).  Returns 0, or -1 out of memory
 * rebuilding a parked request (some are then left queued). */
int replica_abort_all(replica *r, replica_done_fn done, void *ctx);

typedef struct replica_stats {
	int64_t steps;
	int64_t busy_ns;          /* sum of step durations */
	int64_t compute_ns;       /* of which compute-bound, memory-bound (power model: */
	int64_t memory_ns;        /* perf_step_activity_ns, summed per step) */
	int64_t preemptions;
	int64_t tokens_computed;  /* prefill + decode tokens processed */
	int64_t prefix_hit_tokens;
} replica_stats;

void replica_get_stats(const replica *r, replica_stats *out);
int replica_num_running(const replica *r);
int replica_num_waiting(const replica *r);
/* Tokens still to be processed by queued and running requests (router's
 * least-outstanding-tokens policy). */
int64_t replica_outstanding_tokens(const replica *r);
const kv_cache *replica_kv(const replica *r);
/* KV blocks in use / total, in [0, 1]. */
double replica_kv_usage(const replica *r);
const replica_cfg *replica_get_cfg(const replica *r);

/* Engine steps the step in flight stands for (1 unless it is a macro-step; 0 when no
 * step is in flight). */
int64_t replica_step_count(const replica *r);

/* The durations (ns) of the engine steps the step in flight stands for, in order;
 * *n = replica_step_count.  The array is the replica's, valid until its next
 * replica_begin_step*.  The fleet keeps one placeholder event per intermediate step
 * end so that events at equal times are ordered exactly as with the reference's
 * per-step events (the placeholders do no replica work). */
const int64_t *replica_macro_steps(const replica *r, int64_t *n);

/* A macro-step applies its first k - 1 steps when it starts.  While the KV manager
 * only counts blocks it can also be cut back, so the fleet may let it run past
 * arrivals: replica_macro_cuttable says whether the step in flight is such a
 * macro-step; replica_macro_view gives the replica's outstanding tokens and KV blocks
 * in use as the reference engine has them once `ended` of its steps have ended (0 <=
 * ended < step count; the rest applied but not yet run; kv_used may be NULL, which
 * saves counting blocks); replica_macro_cut makes step
 * `ended` the last one (in flight), undoing the later ones, as if the macro-step had
 * been cut there when it began.  Cut only a cuttable replica. */
int replica_macro_cuttable(const replica *r);
/* Hint the cache with r's struct (the first 512 bytes), which ending its step in
 * flight reads first; the fleet calls it for the next step end's replica.  No effect
 * on any result. */
void replica_prefetch(const replica *r);
/* What the end of the step in flight will touch first, cold by then in an
 * overloaded replica (hundreds of other events run in between): recorded when the
 * step starts (replica_next_touch, into out[], the addresses only) and prefetched by
 * the fleet just before that step end's event (replica_prefetch_touch).  Hints: the
 * addresses may be stale by then, which costs nothing but the hint. */
#define REPLICA_TOUCH 3
void replica_next_touch(const replica *r, const void *out[REPLICA_TOUCH]);
void replica_prefetch_touch(const void *const p[REPLICA_TOUCH]);
/* Whether a request queued now leaves every engine step of the step in flight (a
 * macro-step's included) as it is: the batch is full (max_num_seqs running) and stays
 * full until the last of them ends, so nothing is admitted before then.  An arrival
 * that joins such a replica's queue need not cut its macro-step. */
int replica_admits_none(const replica *r);
void replica_macro_view(const replica *r, int64_t ended, int64_t *outstanding, int64_t *kv_used);
/* The macro-step in flight (step count > 1): tokens each of its steps takes off the
 * outstanding ones, a step duration (ns) none of its steps exceeds (its longest,
 * before any cut) and when its last step ends. */
void replica_macro_span(const replica *r, int64_t *per_step, int64_t *dmax, simtime_t *end);
void replica_macro_cut(replica *r, int64_t ended);

/* Debug-build invariant check (blocks used + free == total, each request in exactly
 * one place). Returns 0, or -1 with err describing the violation. */
int replica_check(const replica *r, fs_err *err);

/* Print the replica's queues, KV counts and every queued request to f (invariant
 * failures and debugging only: the engine never prints otherwise). */
void replica_dump(const replica *r, FILE *f);

#endif
