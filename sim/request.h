/*
 * request.h - one request's life inside the simulator.
 *
 * The struct is public: the replica scheduler, KV manager, router and metrics all
 * touch its fields on the hot path.  Requests live in a pool (rq_pool, owned by the
 * fleet); a replica links them into its queues and, given the pool, may park a
 * fresh one that must wait (keep its few fields in its waiting queue and hand the
 * struct back) and take one from the pool again when it is admitted.
 */
#ifndef FS_REQUEST_H
#define FS_REQUEST_H

#include <stdint.h>

#include "sim/event.h"

typedef enum rq_status {
	RQ_NEW = 0,      /* created, not yet at a replica */
	RQ_WAITING,      /* in a replica's waiting queue (also after preemption) */
	RQ_RUNNING,      /* in a replica's running list */
	RQ_DONE,         /* finished all its output tokens */
	RQ_REJECTED,     /* prompt (+ max_tokens) over max_model_len: HTTP 400 */
	RQ_UNFINISHED    /* still queued or running when the run stopped */
} rq_status;

typedef struct sim_req {
	int64_t id;               /* arrival order, 0-based */
	simtime_t arrival;        /* at the router */
	simtime_t first_token;    /* -1 until the first output token */
	simtime_t finish;         /* -1 until done or rejected */
	simtime_t last_scheduled; /* end of the last step it took part in */
	simtime_t queued;         /* when it joined its replica's waiting queue */
	int32_t prompt;           /* input tokens */
	int32_t output;           /* output tokens it will generate (clamped, >= 1) */
	int32_t max_tokens;       /* -1 if the request had none */
	int32_t true_output;      /* trace's output length, before any clamp */
	int32_t generated;        /* output tokens produced so far */
	int32_t computed;         /* tokens whose KV is computed (reset on preemption) */
	int32_t scheduled;        /* tokens scheduled in the step in flight */
	int32_t cached_tokens;    /* prefix-cache hit tokens at the last admission */
	int32_t preemptions;
	int32_t category;
	int32_t prompt_bytes;     /* -1 if unknown */
	int16_t pool, replica;
	uint8_t status;           /* rq_status */
	uint8_t misrouted;        /* router's estimate fell on the other side of its threshold */
	uint8_t lingering;        /* async scheduling: sampled its last token (finish is
				   * set) but keeps its seat and blocks for the step that
				   * was scheduled before its end was known */
	int64_t est_tokens;       /* router's estimate of input + output */
	/* KV blocks held, in order (owned; kv_free releases them). */
	int32_t n_blocks, cap_blocks;
	int32_t n_extra;          /* sliding-window and recurrent-state blocks held */
	int32_t *blocks;
	/* Prefix hashes copied from the trace (owned). */
	int32_t n_hashes, hash_block_tokens, cap_hashes;
	uint64_t *hashes;
	/* Intrusive links for the replica's waiting queue / running list. */
	struct sim_req *prev, *next;
} sim_req;

/* Tokens the request has in total right now: prompt plus generated output. */
static inline int32_t rq_num_tokens(const sim_req *r)
{
	return r->prompt + r->generated;
}

/* Tokens of r whose blocks carry the trace's shared (prefix-chained) hashes.  Traces
 * hash prompts, the last hash covering a partial block; a chain running a whole hash
 * block or more past the prompt stands for the output's content too (a
 * conversation's next turn carries it in its prompt, and vLLM hashes output blocks
 * with the same chained function), so it then covers the output as far as it goes. */
static inline int64_t rq_hashed_tokens(const sim_req *r)
{
	int64_t lim, len;

	if (r->n_hashes <= 0 || r->hash_block_tokens <= 0 || !r->hashes)
		return 0;
	lim = (int64_t)r->n_hashes * r->hash_block_tokens;
	len = lim - r->prompt >= r->hash_block_tokens ? (int64_t)r->prompt + r->output : r->prompt;
	return lim < len ? lim : len;
}

/* A free list of requests over a slab (util/slab.h): requests handed back keep their
 * block and hash arrays for the next user.  Also the blocks of the replicas' waiting
 * queues.  Not thread-safe: one per simulation. */
typedef struct rq_pool rq_pool;

/* Returns 0 and *out (caller owns, rq_pool_destroy), or -1 out of memory. */
int rq_pool_create(rq_pool **out);
/* Frees every request and block, and the arrays of the requests handed back (NULL:
 * no-op). */
void rq_pool_destroy(rq_pool *p);
/* A request with every field zero but its arrays (blocks, hashes and their
 * capacities, kept from its last use), owned by the pool; NULL out of memory.  The
 * most recently handed back comes first (it is the one still in cache). */
sim_req *rq_pool_get(rq_pool *p);
/* Hand q back (its arrays with it); q must not be used after. */
void rq_pool_put(rq_pool *p, sim_req *q);
/* A block of RQ_BLOCK bytes (64-byte aligned, contents undefined) for a replica's
 * waiting queue, owned by the pool, or NULL out of memory.  Blocks come from a slab
 * of their own (huge-page chunks), so a fleet's queues sit in a few pages. */
#define RQ_BLOCK 4096
void *rq_pool_get_block(rq_pool *p);
void rq_pool_put_block(rq_pool *p, void *b);

#endif
