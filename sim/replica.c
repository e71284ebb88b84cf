/*
 * replica.c - one vLLM V1 engine, scheduled as v1/core/sched/scheduler.py does:
 * RUNNING first (chunked prefill, preempt-the-last on block shortage, recompute),
 * then WAITING FCFS if nothing was preempted.  RUNNING is intrusive (req->prev/next)
 * and WAITING a deque of blocks of entries (see rqueue), so every queue operation is
 * O(1); the step's batch is kept in an array sized max_num_seqs at creation, so a step
 * allocates nothing but, rarely, a queue block (request block arrays grow
 * geometrically inside kv).
 */
#include "sim/replica.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/simtime.h"

typedef struct rlist {
	sim_req *head, *tail;
	int n;
} rlist;

/* A WAITING entry: a request, or a parked one.  A request parks (cfg.pool) when it
 * joins the queue fresh (never run, no blocks, no prefix hashes, nothing but what
 * the router and replica_add set): those fields are all it has, so they are kept
 * here and its struct goes back to the pool.  An overloaded fleet queues ~10^6
 * requests for ~100 s of simulated time each: parked, they take one line each,
 * written and read in queue order, instead of a struct that is cold when it
 * reaches the head.  unpark() rebuilds the struct exactly. */
typedef struct wq_ent {
	union {
		sim_req *q;      /* not parked */
		int64_t id;      /* parked: the fields below */
	} u;
	simtime_t arrival, queued;
	int64_t est_tokens;
	int32_t prompt, output, true_output, max_tokens, category, prompt_bytes;
	int16_t pool, replica;
	uint8_t misrouted, parked;
} wq_ent;

/* WAITING: a deque of blocks of entries from the request pool (rq_pool_get_block),
 * in order from e[hi] of the head block to e[ti - 1] of the tail block.  Admission
 * takes the head without touching anything behind it (a linked list of requests
 * would write its prev), and the head's line is known without reading a request, so
 * it can be prefetched.  Blocks, not one array per replica: a fleet's queues then
 * share the pool's huge pages (with an array per replica, hundreds of them, the
 * touches at their heads and tails missed the TLB), take what they hold, not the
 * doubling of the longest they ever were, and never copy to grow. */
#define WQ_BLK ((RQ_BLOCK - 64) / (int)sizeof(wq_ent))
typedef struct wq_blk {
	struct wq_blk *next, *prev;
	_Alignas(64) wq_ent e[WQ_BLK];
} wq_blk;
_Static_assert(sizeof(wq_blk) <= RQ_BLOCK, "a queue block fits the pool's block size");

typedef struct rqueue {
	wq_blk *hb, *tb;  /* head and tail blocks; NULL until the first push */
	int hi, ti;       /* head entry in hb, one past the tail entry in tb */
	int n;
} rqueue;

/* A pure-decode request accounted in the cohort: its live computed / generated are
 * the values at join plus (D - d_join). */
typedef struct cmember {
	sim_req *q;
	int64_t d_join;     /* cohort step counter D when it joined (or was last synced) */
	int64_t d_fin;      /* D of the step in which it samples its last token */
	int64_t stamp;      /* running-list order */
	simtime_t sched_join; /* last_scheduled at join */
	int32_t c_join, g_join;
	int32_t res;        /* it needs a new block in the steps with D = res (mod bs) */
	int32_t rprev, rnext; /* links of its residue list (member slots, -1 = none) */
} cmember;

struct replica {
	/* What the router reads of other replicas on every arrival (balance keys, the
	 * search's views, replica_admits_none), first and together: the struct is
	 * cache-line aligned, so this is one line. */
	int64_t outstanding; /* sum over queued requests of prompt + output - computed */
	int64_t step_count;   /* engine steps the step in flight stands for */
	int64_t coh_n;        /* fast path: cohort members (see below) */
	kv_cache *kv;
	rlist running;
	int in_step;
	int max_num_seqs;     /* cfg.max_num_seqs */
	replica_cfg cfg;
	rqueue waiting;
	rq_pool *pool;        /* queue blocks (and parked requests' structs): cfg.pool,
			       * or own_pool without one */
	int oom;              /* out of memory for a queue block or a parked request */
	/* Lingering requests (async scheduling) preempted in the step being formed:
	 * their blocks are freed, done() is called at the step's end. */
	rlist retired;
	simtime_t cutoff; /* requests queued after it wait for the next step */
	/* Async scheduling: end of the last engine step that ended, start of the last
	 * engine step of the step in flight (the step after it was formed then), and
	 * end of the engine step before the one that ends now (a lingering request's
	 * finish time). */
	simtime_t last_end, last_start, prev_end;
	sim_req **batch; /* scheduled requests of the step in flight */
	int n_batch;
	replica_stats st;
	/* Fast path (cfg.fast_path).  Running requests are split into the cohort (pure
	 * decodes, in aggregate) and indiv[] (everything else, in running order).  Each
	 * running request has a stamp increasing along the running list, so the two can
	 * be merged in the reference's order when order matters (finishes). */
	int dissolved;        /* cohort and indiv[] must be rebuilt from the running list */
	int ref_step;         /* the step in flight was taken by the reference code */
	int coh_in_step;      /* the cohort takes part in the step in flight */
	int64_t D;            /* cohort steps completed */
	int64_t D_alloc;      /* members hold the blocks of their tokens after step D_alloc
			       * (D, or D + steps in flight) */
	int64_t coh_s;        /* sum of the members' computed tokens */
	int64_t next_stamp, m_max; /* next stamp; largest stamp of a member since rebuild */
	simtime_t coh_last_end; /* end of the last completed cohort step */
	int64_t macro_s0;     /* cohort tokens S at the macro-step's first step */
	simtime_t macro_t0;   /* start of the macro-step in flight */
	simtime_t macro_last_end0; /* coh_last_end before it */
	cmember *mem;
	int32_t *mem_free, n_mem_free;
	/* Member slots, min-heap on (d_fin, stamp), the keys copied in: a pop compares
	 * contiguous nodes, not members scattered over mem[] (a cache miss each). */
	struct hnode {
		int64_t d_fin, stamp;
		sim_req *q;       /* the member's request (a prefetch needs no member read) */
		int32_t slot;
	} *heap;
	int32_t n_heap;
	int32_t *res_head, *res_cnt; /* per residue mod bs */
	sim_req **indiv;
	int64_t *indiv_stamp;
	int n_indiv;
	int32_t *fin;         /* scratch: members finishing in the step that ends */
	/* Durations of the macro-step's steps, computed once in macro_step and read back
	 * by the fleet through replica_macro_steps (was a second perf evaluation per step). */
	int64_t *macro_d;
	int64_t macro_cap;
	simtime_t macro_end;  /* end of its last step */
	int64_t macro_dmax;   /* its longest step (at least: a cut leaves it) */
	rq_pool *own_pool;    /* the pool made for a replica without cfg.pool */
};

static void blocks_out(replica *r, const sim_req *q);

/* Ask for request q's cache lines ahead of use.  An overloaded replica touches a
 * request at admission ~100 s of simulated time after it arrived and at its finish
 * thousands of events after its last touch: both are cache misses that a hint issued
 * a macro-step earlier hides.  A hint only: no effect on any result. */
static inline void prefetch_req(const sim_req *q)
{
#if defined(__GNUC__) || defined(__clang__)
	if (q) {
		__builtin_prefetch(q);
		__builtin_prefetch((const char *)q + 64);
		__builtin_prefetch((const char *)q + 128);
	}
#else
	(void)q;
#endif
}

/* Ask for line p with intent to write it (a hint only). */
static inline void prefetch_w(const void *p)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(p, 1);
#else
	(void)p;
#endif
}

static void list_push_tail(rlist *l, sim_req *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void list_remove(rlist *l, sim_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

/* A new block for w linked after (at_tail) or before its end block; when w has
 * none it becomes both, with its index at the tail end or the head end (so the first
 * push fits).  Returns 0, or -1 out of memory (w unchanged). */
static int wq_add_block(rq_pool *p, rqueue *w, int at_tail)
{
	wq_blk *b = rq_pool_get_block(p);

	if (!b)
		return -1;
	b->next = b->prev = NULL;
	if (!w->hb) {
		w->hb = w->tb = b;
		w->hi = w->ti = at_tail ? 0 : WQ_BLK;
	} else if (at_tail) {
		b->prev = w->tb;
		w->tb->next = b;
		w->tb = b;
		w->ti = 0;
	} else {
		b->next = w->hb;
		w->hb->prev = b;
		w->hb = b;
		w->hi = WQ_BLK;
	}
	return 0;
}

/* Room for one more entry at the tail / at the head.  Returns 0, or -1 out of
 * memory (w unchanged). */
static int wq_room_tail(rq_pool *p, rqueue *w)
{
	return w->tb && w->ti < WQ_BLK ? 0 : wq_add_block(p, w, 1);
}

static int wq_room_head(rq_pool *p, rqueue *w)
{
	return w->hb && w->hi > 0 ? 0 : wq_add_block(p, w, 0);
}

/* The head entry; w->n > 0. */
static wq_ent *wq_first(const rqueue *w)
{
	return &w->hb->e[w->hi];
}

/* The entry after e (at index *i of block *b) in queue order: advances *b, *i. */
static wq_ent *wq_step(wq_blk **b, int *i)
{
	if (++*i == WQ_BLK) {
		*b = (*b)->next;
		*i = 0;
	}
	return &(*b)->e[*i];
}

/* Callers have made the room (wq_room_tail / wq_room_head). */
static wq_ent *wq_push_tail(rqueue *w)
{
	w->n++;
	return &w->tb->e[w->ti++];
}

static void wq_push_head(rqueue *w, sim_req *q)
{
	wq_ent *e = &w->hb->e[--w->hi];

	e->u.q = q;
	e->parked = 0;
	w->n++;
}

static void wq_pop_head(rq_pool *p, rqueue *w)
{
	w->n--;
	if (++w->hi < WQ_BLK && w->n > 0)
		return;
	if (w->n == 0) {
		/* Empty: keep one block, from its start. */
		while (w->hb != w->tb) {
			wq_blk *b = w->hb;

			w->hb = b->next;
			rq_pool_put_block(p, b);
		}
		w->hb->prev = NULL;
		w->hi = w->ti = 0;
		return;
	}
	{
		wq_blk *b = w->hb;

		w->hb = b->next;
		w->hb->prev = NULL;
		w->hi = 0;
		rq_pool_put_block(p, b);
	}
}

/* Every block back to the pool. */
static void wq_free(rq_pool *p, rqueue *w)
{
	while (w->hb) {
		wq_blk *b = w->hb;

		w->hb = b->next;
		rq_pool_put_block(p, b);
	}
	w->tb = NULL;
	w->n = w->hi = w->ti = 0;
}

/* Whether q holds nothing wq_ent cannot keep (see wq_ent): fresh from the router,
 * with the values replica_add set. */
static int parkable(const sim_req *q)
{
	return q->status == RQ_WAITING && q->first_token == -1 && q->finish == -1 &&
	       q->last_scheduled == 0 && q->generated == 0 && q->computed == 0 &&
	       q->scheduled == 0 && q->cached_tokens == 0 && q->preemptions == 0 &&
	       q->lingering == 0 && q->n_blocks == 0 && q->n_extra == 0 && q->n_hashes == 0 &&
	       q->hash_block_tokens == 0;
}

/* A field added to sim_req must be kept by park/unpark or excluded by parkable. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(sim_req) == 176, "sim_req changed: update wq_ent, park, unpark, parkable");
_Static_assert(sizeof(wq_ent) == 64, "wq_ent is one cache line");
#endif

static void park(wq_ent *e, const sim_req *q)
{
	e->u.id = q->id;
	e->arrival = q->arrival;
	e->queued = q->queued;
	e->est_tokens = q->est_tokens;
	e->prompt = q->prompt;
	e->output = q->output;
	e->true_output = q->true_output;
	e->max_tokens = q->max_tokens;
	e->category = q->category;
	e->prompt_bytes = q->prompt_bytes;
	e->pool = q->pool;
	e->replica = q->replica;
	e->misrouted = q->misrouted;
	e->parked = 1;
}

/* The request parked in e, into q, whose fields are all zero but its arrays (a
 * pool's, or a caller's scratch). */
static void unpark(const wq_ent *e, sim_req *q)
{
	q->id = e->u.id;
	q->arrival = e->arrival;
	q->queued = e->queued;
	q->est_tokens = e->est_tokens;
	q->prompt = e->prompt;
	q->output = e->output;
	q->true_output = e->true_output;
	q->max_tokens = e->max_tokens;
	q->category = e->category;
	q->prompt_bytes = e->prompt_bytes;
	q->pool = e->pool;
	q->replica = e->replica;
	q->misrouted = e->misrouted;
	q->first_token = q->finish = -1;
	q->status = RQ_WAITING;
}

/* Waiting entry e as a request: its own, or (parked) rebuilt into *scratch. */
static const sim_req *ent_view(const wq_ent *e, sim_req *scratch)
{
	if (!e->parked)
		return e->u.q;
	memset(scratch, 0, sizeof *scratch);
	unpark(e, scratch);
	return scratch;
}

/* The head of WAITING as a request (rebuilt from the pool if parked), NULL if the
 * queue is empty or, parked, the pool is out of memory (r->oom set). */
static sim_req *wq_head(replica *r)
{
	wq_ent *e;
	sim_req *q;

	if (r->waiting.n == 0)
		return NULL;
	e = wq_first(&r->waiting);
	if (!e->parked)
		return e->u.q;
	if (!(q = rq_pool_get(r->pool))) {
		r->oom = 1;
		return NULL;
	}
	unpark(e, q);
	e->u.q = q;
	e->parked = 0;
	return q;
}

/* Tokens whose blocks a request holds in its token-block array (all-sliding models
 * keep only the window). */
static int64_t kv_tokens(const replica_cfg *c, int64_t t)
{
	int64_t cap = c->swa_window_blocks * c->block_size;

	return c->all_sliding && t > cap ? cap : t;
}

/* Sliding-window and recurrent-state blocks a request with t tokens holds. */
static int64_t extra_for(const replica_cfg *c, int64_t t)
{
	int64_t tb, x;

	if (t <= 0)
		return 0;
	x = c->state_blocks;
	if (c->swa_mult > 0) {
		tb = (t + c->block_size - 1) / c->block_size;
		x += (int64_t)c->swa_mult * (tb < c->swa_window_blocks ? tb : c->swa_window_blocks);
	}
	return x;
}

static int has_extras(const replica_cfg *c)
{
	return c->state_blocks > 0 || c->swa_mult > 0 || c->all_sliding;
}

/* All blocks a request with t tokens holds. */
static int64_t blocks_for(const replica_cfg *c, int64_t t)
{
	if (!has_extras(c))
		return (t + c->block_size - 1) / c->block_size;
	return (kv_tokens(c, t) + c->block_size - 1) / c->block_size + extra_for(c, t);
}

/* Blocks q still needs to hold t tokens. */
static int64_t blocks_missing(const replica *r, const sim_req *q, int64_t t)
{
	int64_t want = (kv_tokens(&r->cfg, t) + r->cfg.block_size - 1) / r->cfg.block_size;
	int64_t miss = want > q->n_blocks ? want - q->n_blocks : 0;

	if (has_extras(&r->cfg)) {
		int64_t x = extra_for(&r->cfg, t);

		miss += x > q->n_extra ? x - q->n_extra : 0;
	}
	return miss;
}

/* Make q hold the blocks of t tokens.  Returns 0, or -1 with nothing taken when the
 * free blocks do not suffice (or on allocation failure). */
static int grow(replica *r, sim_req *q, int64_t t)
{
	if (!has_extras(&r->cfg))
		return kv_allocate(r->kv, q, t);
	if (blocks_missing(r, q, t) > kv_free_blocks(r->kv))
		return -1;
	if (kv_allocate(r->kv, q, kv_tokens(&r->cfg, t)) != 0)
		return -1;
	return kv_extra_take(r->kv, q, extra_for(&r->cfg, t) - q->n_extra);
}

/* Give back all of q's blocks; a preempted request keeps its full blocks cached. */
static void release(replica *r, sim_req *q, int preempted)
{
	if (q->n_extra > 0)
		kv_extra_give(r->kv, q);
	if (preempted)
		kv_free_preempted(r->kv, q);
	else
		kv_free(r->kv, q);
}

int replica_create(const replica_cfg *cfg, replica **out, fs_err *err)
{
	replica *r = NULL;
	int64_t need, usable;

	*out = NULL;
	if (!cfg || !cfg->perf)
		return fs_fail(err, FS_EXIT_INPUT, "replica: no step-time model");
	if (cfg->max_num_seqs < 1)
		return fs_fail(err, FS_EXIT_INPUT, "max_num_seqs must be >= 1 (got %d)", cfg->max_num_seqs);
	if (cfg->max_num_batched_tokens < 1)
		return fs_fail(err, FS_EXIT_INPUT, "max_num_batched_tokens must be >= 1 (got %d)",
			       cfg->max_num_batched_tokens);
	if (cfg->max_model_len < 2)
		return fs_fail(err, FS_EXIT_INPUT, "max_model_len must be >= 2 (got %d)", cfg->max_model_len);
	if (cfg->block_size < 1 || cfg->block_size > 4096)
		return fs_fail(err, FS_EXIT_INPUT, "block_size must be in [1, 4096] (got %d)", cfg->block_size);
	if (cfg->long_prefill_token_threshold < 0)
		return fs_fail(err, FS_EXIT_INPUT, "long_prefill_token_threshold must be >= 0 (got %d)",
			       cfg->long_prefill_token_threshold);
	if (cfg->num_blocks < 1 || cfg->num_blocks > INT32_MAX / 2)
		return fs_fail(err, FS_EXIT_INPUT,
			       "no room for the KV cache: %lld blocks (raise gpu_memory_utilization, "
			       "use fewer/smaller weights or more tensor parallelism)",
			       (long long)cfg->num_blocks);
	if (cfg->state_blocks < 0 || cfg->swa_mult < 0 || cfg->swa_window_blocks < 0 ||
	    (cfg->swa_mult > 0 && cfg->swa_window_blocks < 1) ||
	    (cfg->all_sliding && (cfg->swa_mult != 0 || cfg->swa_window_blocks < 1)))
		return fs_fail(err, FS_EXIT_INPUT,
			       "replica: bad KV shape (state %d, sliding %d x %lld blocks, all sliding %d)",
			       cfg->state_blocks, cfg->swa_mult, (long long)cfg->swa_window_blocks,
			       cfg->all_sliding);
	usable = cfg->num_blocks - (cfg->null_block ? 1 : 0);
	need = blocks_for(cfg, cfg->max_model_len);
	if (usable < need)
		return fs_fail(err, FS_EXIT_INPUT,
			       "KV cache has %lld blocks of %d tokens (%lld tokens) but one max_model_len "
			       "(%d) sequence needs %lld blocks; increase gpu_memory_utilization or "
			       "decrease max_model_len",
			       (long long)usable, cfg->block_size,
			       (long long)usable * cfg->block_size, cfg->max_model_len,
			       (long long)need);
	/* Cache-line aligned: the router's fields are one line (see struct replica). */
	r = aligned_alloc(64, (sizeof *r + 63) / 64 * 64);
	if (!r)
		goto oom;
	memset(r, 0, sizeof *r);
	r->cfg = *cfg;
	r->max_num_seqs = cfg->max_num_seqs;
	/* The cohort assumes one new block per block_size decoded tokens. */
	if (cfg->swa_mult > 0 || cfg->all_sliding)
		r->cfg.fast_path = 0;
	/* All-sliding models keep only the window's blocks: nothing to key by prefix
	 * (vLLM's sliding-window hits need only the window; not modelled). */
	if (cfg->all_sliding)
		r->cfg.enable_prefix_caching = 0;
	r->last_end = -1;
	r->pool = cfg->pool;
	if (!r->pool) {
		if (rq_pool_create(&r->own_pool))
			goto oom;
		r->pool = r->own_pool;
	}
	r->batch = malloc((size_t)cfg->max_num_seqs * sizeof *r->batch);
	if (!r->batch)
		goto oom;
	if (kv_create(usable, cfg->block_size, r->cfg.enable_prefix_caching, &r->kv) != 0)
		goto oom;
	if (r->cfg.fast_path) {
		size_t n = (size_t)cfg->max_num_seqs, bs = (size_t)cfg->block_size;

		r->mem = malloc(n * sizeof *r->mem);
		r->mem_free = malloc(n * sizeof *r->mem_free);
		r->heap = malloc(n * sizeof *r->heap);
		r->fin = malloc(n * sizeof *r->fin);
		r->res_head = malloc(bs * sizeof *r->res_head);
		r->res_cnt = calloc(bs, sizeof *r->res_cnt);
		r->indiv = malloc(n * sizeof *r->indiv);
		r->indiv_stamp = malloc(n * sizeof *r->indiv_stamp);
		if (!r->mem || !r->mem_free || !r->heap || !r->fin || !r->res_head || !r->res_cnt ||
		    !r->indiv || !r->indiv_stamp)
			goto oom;
		for (size_t i = 0; i < bs; i++)
			r->res_head[i] = -1;
		for (size_t i = 0; i < n; i++)
			r->mem_free[i] = (int32_t)(n - 1 - i);
		r->n_mem_free = (int32_t)n;
	}
	*out = r;
	return 0;
oom:
	replica_destroy(r);
	return fs_fail(err, FS_EXIT_RUNTIME, "replica: out of memory for %lld KV blocks",
		       (long long)cfg->num_blocks);
}

void replica_destroy(replica *r)
{
	if (!r)
		return;
	kv_destroy(r->kv);
	free(r->batch);
	free(r->mem);
	free(r->mem_free);
	free(r->heap);
	free(r->fin);
	free(r->res_head);
	free(r->res_cnt);
	free(r->indiv);
	free(r->indiv_stamp);
	free(r->macro_d);
	if (r->pool)
		wq_free(r->pool, &r->waiting);
	rq_pool_destroy(r->own_pool);
	free(r);
}

int replica_add(replica *r, sim_req *req, simtime_t now)
{
	int64_t mml = r->cfg.max_model_len;
	int64_t limit;

	if (req->prompt < 0 || req->prompt >= mml ||
	    (int64_t)req->prompt + (req->max_tokens >= 0 ? req->max_tokens : 0) > mml) {
		req->status = RQ_REJECTED;
		req->finish = now;
		return 1;
	}
	if (wq_room_tail(r->pool, &r->waiting))
		return -1;
	/* vLLM's implicit max_tokens is the room left in the context window. */
	limit = mml - req->prompt;
	if (req->max_tokens >= 0 && req->max_tokens < limit)
		limit = req->max_tokens;
	if ((req->max_tokens < 0 || r->cfg.default_max_tokens_caps) && r->cfg.default_max_tokens > 0 &&
	    r->cfg.default_max_tokens < limit)
		limit = r->cfg.default_max_tokens;
	if (req->output > limit)
		req->output = (int32_t)limit;
	if (req->output < 1)
		req->output = 1;
	req->status = RQ_WAITING;
	req->computed = 0;
	req->scheduled = 0;
	req->generated = 0;
	req->lingering = 0;
	req->queued = now;
	r->outstanding += (int64_t)req->prompt + req->output;
	/* Park what waits at least a step: behind others, or for a seat. */
	if (r->cfg.pool && (r->waiting.n > 0 || r->running.n >= r->cfg.max_num_seqs) &&
	    parkable(req)) {
		rqueue *w = &r->waiting;

		park(wq_push_tail(w), req);
		rq_pool_put(r->cfg.pool, req);
		/* The next park here writes the next entry, a line not touched since its
		 * block was last used: fetch it now, not when the store needs it. */
		if (w->ti < WQ_BLK)
			prefetch_w(&w->tb->e[w->ti]);
		return 0;
	}
	{
		wq_ent *e = wq_push_tail(&r->waiting);

		e->u.q = req;
		e->parked = 0;
	}
	return 0;
}

int replica_has_work(const replica *r)
{
	return r->running.n > 0 || r->waiting.n > 0;
}

int replica_in_step(const replica *r)
{
	return r->in_step;
}

/* Move running request v back to WAITING's head (or, lingering, to retired).
 * Returns 0, or -1 out of memory for a queue block (r->oom set, nothing changed). */
static int preempt(replica *r, sim_req *v)
{
	if (!v->lingering && wq_room_head(r->pool, &r->waiting)) {
		r->oom = 1;
		return -1;
	}
	list_remove(&r->running, v);
	r->st.preemptions++;
	if (v->lingering) {
		/* Its output is complete: vLLM frees it when the step that produced its
		 * last token is processed; only the placeholder decode is lost. */
		release(r, v, 0);
		r->outstanding -= (int64_t)v->prompt + v->output - v->computed;
		v->preemptions++;
		list_push_tail(&r->retired, v);
		return 0;
	}
	release(r, v, 1);
	r->outstanding += v->computed;
	v->computed = 0;
	v->scheduled = 0;
	v->preemptions++;
	v->status = RQ_WAITING;
	wq_push_head(&r->waiting, v);
	return 0;
}

/* Async scheduling: with something running, the step about to be formed was formed
 * by vLLM right after the previous one was launched, so only requests queued by then
 * can join it.  Idle, the engine schedules as soon as a request comes. */
static void set_cutoff(replica *r, simtime_t now)
{
	r->cutoff = r->cfg.async_scheduling && r->running.n > 0 && r->last_end == now ? r->last_start
										      : now;
}

/* Cap a request's tokens for this step as vLLM does (threshold, budget, context). */
static int64_t cap_new(const replica *r, const sim_req *q, int64_t n, int64_t budget)
{
	int64_t room = (int64_t)r->cfg.max_model_len - q->computed;

	if (r->cfg.long_prefill_token_threshold > 0 && n > r->cfg.long_prefill_token_threshold)
		n = r->cfg.long_prefill_token_threshold;
	if (n > budget)
		n = budget;
	if (n > room)
		n = room;
	return n < 0 ? 0 : n;
}

/* Admit the head of WAITING into this step, as vLLM's scheduler does: prefix hits
 * first (never the whole prompt), then as many tokens as the budget allows, but only if
 * the blocks they need are free: checked before anything is touched, so a refused
 * admission leaves the LRU order alone.  Returns the admitted request (now at the tail
 * of RUNNING and in the batch, *budget reduced), or NULL when the head cannot be
 * admitted and admission stops for this step. */
static sim_req *admit_head(replica *r, int64_t *budget)
{
	int64_t ev = 0, hit = 0, n, have, free_b;
	int bs = r->cfg.block_size;
	sim_req *q = wq_head(r);

	if (!q)
		return NULL; /* out of memory (r->oom) */
	/* Async scheduling: this step was formed when the one before it began. */
	if (q->queued > r->cutoff)
		return NULL;
	if (q->computed == 0)
		hit = kv_lookup_prefix(r->kv, q, &ev);
	n = cap_new(r, q, (int64_t)rq_num_tokens(q) - (q->computed + hit), *budget);
	if (n == 0)
		return NULL;
	/* Blocks held after the hit; touching evictable hit blocks takes them out of
	 * the free count (vLLM's get_num_blocks_to_allocate counts them). */
	have = q->n_blocks + hit / bs;
	free_b = kv_free_blocks(r->kv) - ev;
	if (r->cfg.reserve_full_isl) {
		int64_t full = rq_num_tokens(q);

		if (full > r->cfg.max_model_len)
			full = r->cfg.max_model_len;
		if (blocks_for(&r->cfg, full) - have - q->n_extra > free_b)
			return NULL;
	}
	if (blocks_for(&r->cfg, (int64_t)q->computed + hit + n) - have - q->n_extra > free_b)
		return NULL;
	if (q->computed == 0) {
		hit = kv_match_prefix(r->kv, q);
		q->computed = (int32_t)hit;
		q->cached_tokens = (int32_t)hit;
		r->outstanding -= hit;
		r->st.prefix_hit_tokens += hit;
	}
	blocks_out(r, q);
	if (grow(r, q, (int64_t)q->computed + n) != 0) {
		/* Only on allocation failure of the block array: undo the match. */
		r->outstanding += q->computed;
		q->computed = 0;
		release(r, q, 0);
		return NULL;
	}
	wq_pop_head(r->pool, &r->waiting);
	list_push_tail(&r->running, q);
	q->status = RQ_RUNNING;
	q->scheduled = (int32_t)n;
	if (q->n_hashes > 0)
		kv_commit(r->kv, q, q->computed, (int64_t)q->computed + n);
	r->batch[r->n_batch++] = q;
	*budget -= n;
	return q;
}

/* The step-time model's view of the scheduled requests in r->batch. */
static void batch_of(const replica *r, perf_batch *b)
{
	memset(b, 0, sizeof *b);
	for (int i = 0; i < r->n_batch; i++) {
		const sim_req *q = r->batch[i];

		if (q->generated > 0 && q->computed == rq_num_tokens(q) - 1 && q->scheduled == 1)
			perf_batch_add_decode(b, q->computed);
		else
			perf_batch_add_prefill(b, q->computed, q->scheduled);
	}
}

/* Put one engine step of batch b in flight.  Returns its duration (ns). */
static int64_t take_step(replica *r, const perf_batch *b)
{
	int64_t c_ns, m_ns, d = perf_step_ns_activity(r->cfg.perf, b, &c_ns, &m_ns);

	r->in_step = 1;
	r->step_count = 1;
	r->st.steps++;
	r->st.busy_ns += d;
	/* Energy: integer per-step shares, so the fast path's sums are the same. */
	r->st.compute_ns += c_ns;
	r->st.memory_ns += m_ns;
	return d;
}

static int64_t ref_begin_step(replica *r, simtime_t now)
{
	int64_t budget = r->cfg.max_num_batched_tokens;
	int preempted = 0;
	sim_req *q;
	perf_batch b;

	if (r->in_step)
		return 0;
	r->n_batch = 0;
	set_cutoff(r, now);

	/* Pass 1: RUNNING in order. */
	for (q = r->running.head; q && budget > 0; q = q->next) {
		int64_t n = cap_new(r, q, (int64_t)rq_num_tokens(q) - q->computed, budget);
		int ok = 1;

		if (n == 0)
			continue;
		/* Most decode steps need no new block: skip the call. */
		while (((int64_t)q->computed + n > (int64_t)q->n_blocks * r->cfg.block_size ||
			has_extras(&r->cfg)) &&
		       grow(r, q, (int64_t)q->computed + n) != 0) {
			sim_req *v = r->running.tail;

			if (preempt(r, v))
				return 0; /* out of memory: replica_begin_step_until says so */
			preempted = 1;
			if (v == q) {
				ok = 0;
				break;
			}
		}
		if (!ok)
			break;
		q->scheduled = (int32_t)n;
		if (q->n_hashes > 0)
			kv_commit(r->kv, q, q->computed, (int64_t)q->computed + n);
		r->batch[r->n_batch++] = q;
		budget -= n;
	}

	/* Pass 2: WAITING, FCFS, only in a step that preempted nothing. */
	while (!preempted && r->waiting.n > 0 && budget > 0 && r->running.n < r->cfg.max_num_seqs)
		if (!admit_head(r, &budget))
			break;

	if (r->n_batch == 0)
		return 0;
	batch_of(r, &b);
	r->last_start = now;
	return take_step(r, &b);
}

/* Async scheduling: vLLM schedules a request whose last token is in flight once
 * more, unless it knows that token is the last: max_tokens or the context window
 * reached (scheduler.py skips those).  Other stops (EOS: the trace's output length)
 * are seen only when the step's output is processed. */
static int linger(const replica *r, const sim_req *q)
{
	if (!r->cfg.async_scheduling)
		return 0;
	if (q->max_tokens >= 0 && q->output >= q->max_tokens)
		return 0;
	if ((q->max_tokens < 0 || r->cfg.default_max_tokens_caps) && r->cfg.default_max_tokens > 0 &&
	    q->output >= r->cfg.default_max_tokens)
		return 0;
	return (int64_t)q->prompt + q->output < r->cfg.max_model_len;
}

static void finish_req(replica *r, sim_req *q, int status, simtime_t now)
{
	/* The block array stays with the request: the fleet recycles request structs
	 * and frees the array with them. */
	release(r, q, 0);
	r->outstanding -= (int64_t)q->prompt + q->output - q->computed;
	q->status = (uint8_t)status;
	q->finish = now;
	q->scheduled = 0;
}

/* Account the step that just ended for request q (scheduled tokens computed, prefix
 * blocks registered, a token sampled unless a prefill chunk is partial).  Returns -1
 * for a partial chunk, 0 when q sampled and keeps running, 1 when it finished (it is
 * then off the running list and handed to done). */
static int step_done(replica *r, sim_req *q, simtime_t now, replica_done_fn done, void *ctx)
{
	q->computed += q->scheduled;
	r->outstanding -= q->scheduled;
	r->st.tokens_computed += q->scheduled;
	q->last_scheduled = now;
	q->scheduled = 0;
	if (q->lingering) {
		/* The placeholder step scheduled before its end was known. */
		q->lingering = 0;
		list_remove(&r->running, q);
		finish_req(r, q, RQ_DONE, q->finish);
		if (done)
			done(ctx, q);
		return 1;
	}
	if (q->computed < rq_num_tokens(q))
		return -1;
	q->generated++;
	if (q->first_token < 0)
		q->first_token = now;
	if (q->generated < q->output)
		return 0;
	if (linger(r, q)) {
		q->lingering = 1;
		q->finish = now;
		return 0;
	}
	list_remove(&r->running, q);
	finish_req(r, q, RQ_DONE, now);
	if (done)
		done(ctx, q);
	return 1;
}

/* Requests retired while the ended step was formed go to done() first. */
static void flush_retired(replica *r, replica_done_fn done, void *ctx)
{
	while (r->retired.head) {
		sim_req *q = r->retired.head;

		list_remove(&r->retired, q);
		q->status = RQ_DONE;
		q->scheduled = 0;
		q->lingering = 0;
		if (done)
			done(ctx, q);
	}
}

/* Bookkeeping of step ends for async scheduling (see struct replica). */
static void note_end(replica *r, simtime_t now)
{
	r->prev_end = r->step_count > 1 ? r->coh_last_end : r->last_end;
	r->last_end = now;
}

static void ref_end_step(replica *r, simtime_t now, replica_done_fn done, void *ctx)
{
	int i;

	note_end(r, now);
	flush_retired(r, done, ctx);
	r->in_step = 0;
	r->step_count = 0;
	for (i = 0; i < r->n_batch; i++)
		(void)step_done(r, r->batch[i], now, done, ctx);
	r->n_batch = 0;
}

/* ---- Fast path: the decode cohort and macro-steps ----
 *
 * Exactness argument, in short (details in bench/RESULTS.md, "issue 8 fast path"):
 * - A pure decode schedules 1 token, adds (1, 1, context + 1, context) to the perf
 *   batch and needs a block exactly when its computed tokens reach a multiple of
 *   block_size.  All perf batch terms are integers below 2^53, so summing the cohort
 *   in aggregate gives the reference's doubles bit for bit.
 * - The fast step is taken only when the reference would schedule everyone the same
 *   way: every member and every running request before a member gets its full share
 *   of the budget, and the step's new blocks fit in the free blocks (then no request
 *   is preempted and all allocations succeed).  Otherwise the cohort is dissolved
 *   and the reference code takes the step.
 * - Allocations of one step (or one macro-step, which has no other KV operation
 *   between its steps) are consecutive pops of the free queue; doing them in another
 *   order only relabels block ids among the requests that took them.
 * - Requests that finish in a step are handled in running-list order (stamp order),
 *   so kv_free order and done() order are the reference's.
 */

static void res_link(replica *r, int32_t sl)
{
	cmember *m = &r->mem[sl];

	m->rprev = -1;
	m->rnext = r->res_head[m->res];
	if (m->rnext >= 0)
		r->mem[m->rnext].rprev = sl;
	r->res_head[m->res] = sl;
	r->res_cnt[m->res]++;
}

static void res_unlink(replica *r, int32_t sl)
{
	cmember *m = &r->mem[sl];

	if (m->rprev >= 0)
		r->mem[m->rprev].rnext = m->rnext;
	else
		r->res_head[m->res] = m->rnext;
	if (m->rnext >= 0)
		r->mem[m->rnext].rprev = m->rprev;
	r->res_cnt[m->res]--;
}

static int heap_less(const struct hnode *x, const struct hnode *y)
{
	return x->d_fin < y->d_fin || (x->d_fin == y->d_fin && x->stamp < y->stamp);
}

static void heap_push(replica *r, int32_t sl)
{
	struct hnode nd = {r->mem[sl].d_fin, r->mem[sl].stamp, r->mem[sl].q, sl};
	int32_t i = r->n_heap++;

	while (i > 0) {
		int32_t p = (i - 1) / 2;

		if (!heap_less(&nd, &r->heap[p]))
			break;
		r->heap[i] = r->heap[p];
		i = p;
	}
	r->heap[i] = nd;
}

/* Pop the top; returns its member slot. */
static int32_t heap_pop(replica *r)
{
	int32_t top = r->heap[0].slot, i = 0;
	struct hnode last = r->heap[--r->n_heap];

	for (;;) {
		int32_t c = 2 * i + 1;

		if (c >= r->n_heap)
			break;
		if (c + 1 < r->n_heap && heap_less(&r->heap[c + 1], &r->heap[c]))
			c++;
		if (!heap_less(&r->heap[c], &last))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (r->n_heap > 0)
		r->heap[i] = last;
	return top;
}

/* While the KV manager only counts (kv_counting), members' block counts are not kept
 * per request: cohort_allocate takes the cohort's blocks in bulk, and a member's count
 * is its tokens after step D_alloc rounded up to blocks (it joined with exactly that,
 * see joinable).  They are written into the requests when someone reads them. */
static int32_t member_blocks(const replica *r, const cmember *m)
{
	int64_t tokens = m->c_join + (r->D_alloc - m->d_join), bs = r->cfg.block_size;

	return (int32_t)((tokens + bs - 1) / bs);
}

/* Before a KV call that may leave counting mode (a request with prefix hashes): the
 * id mode needs every holder's true count. */
static void blocks_out(replica *r, const sim_req *q)
{
	if (q->n_hashes <= 0 || !r->cfg.enable_prefix_caching || !r->cfg.fast_path || r->dissolved ||
	    !kv_counting(r->kv))
		return;
	for (int i = 0; i < r->n_heap; i++) {
		const cmember *m = &r->mem[r->heap[i].slot];

		m->q->n_blocks = member_blocks(r, m);
	}
}

/* Write a member's live values into its request and re-base it on D. */
static void member_sync(replica *r, cmember *m)
{
	int64_t delta = r->D - m->d_join;
	sim_req *q = m->q;

	if (kv_counting(r->kv))
		q->n_blocks = member_blocks(r, m);

	q->computed = (int32_t)(m->c_join + delta);
	q->generated = (int32_t)(m->g_join + delta);
	if (delta > 0)
		q->last_scheduled = r->coh_last_end;
	if (q->generated >= q->output && !q->lingering && linger(r, q)) {
		/* Async: its last token came at the end of step d_fin - 1 (or, past the
		 * placeholder step, of the step before the one ending now). */
		q->lingering = 1;
		q->finish = r->D == m->d_fin ? r->coh_last_end : r->prev_end;
		q->generated = q->output;
	}
	if (q->generated > q->output)
		q->generated = q->output;
	m->c_join = q->computed;
	m->g_join = q->generated;
	m->d_join = r->D;
	m->sched_join = q->last_scheduled;
}

/* A running request can join when it is a pure decode whose blocks cover exactly its
 * computed tokens rounded up (true after every step it took part in); its decode
 * steps then never touch a hashed block (its shared keys end before its
 * computed tokens; private ones are registered only at preemption).  At least one
 * block: a request with none may carry a recycled id array that counting-mode
 * kv_allocate would drop (member_blocks never calls it). */
static int joinable(const replica *r, const sim_req *q)
{
	int64_t slack = (int64_t)q->n_blocks * r->cfg.block_size - q->computed;

	return q->generated > 0 && q->generated < q->output && q->n_blocks > 0 &&
	       q->computed == rq_num_tokens(q) - 1 && slack >= 0 && slack < r->cfg.block_size &&
	       rq_hashed_tokens(q) <= q->computed;
}

static void member_join(replica *r, sim_req *q, int64_t stamp)
{
	int32_t sl = r->mem_free[--r->n_mem_free];
	cmember *m = &r->mem[sl];
	int64_t bs = r->cfg.block_size;

	m->q = q;
	m->d_join = r->D;
	/* Async: it keeps its seat for one more step after its last token. */
	m->d_fin = r->D + (q->output - q->generated) - 1 + linger(r, q);
	m->stamp = stamp;
	m->sched_join = q->last_scheduled;
	m->c_join = q->computed;
	m->g_join = q->generated;
	/* First step needing a block: D + n_blocks x bs - computed, then every bs. */
	m->res = (int32_t)(((r->D + (int64_t)q->n_blocks * bs - q->computed) % bs + bs) % bs);
	res_link(r, sl);
	heap_push(r, sl);
	r->coh_n++;
	r->coh_s += q->computed;
	if (stamp > r->m_max)
		r->m_max = stamp;
}

/* Hand every member back to the reference representation (O(members)). */
static void cohort_dissolve(replica *r)
{
	int i;

	if (!r->cfg.fast_path || r->dissolved)
		return;
	for (i = 0; i < r->n_heap; i++) {
		cmember *m = &r->mem[r->heap[i].slot];

		member_sync(r, m);
		r->res_head[m->res] = -1;
		r->res_cnt[m->res] = 0;
		r->mem_free[r->n_mem_free++] = r->heap[i].slot;
	}
	r->n_heap = 0;
	r->coh_n = r->coh_s = 0;
	r->n_indiv = 0;
	r->dissolved = 1;
}

static void cohort_rebuild(replica *r)
{
	sim_req *q;

	r->m_max = -1;
	for (q = r->running.head; q; q = q->next) {
		int64_t st = r->next_stamp++;

		if (joinable(r, q)) {
			member_join(r, q, st);
		} else {
			r->indiv[r->n_indiv] = q;
			r->indiv_stamp[r->n_indiv++] = st;
		}
	}
	r->dissolved = 0;
}


static void cohort_batch(const replica *r, int64_t s, perf_batch *b)
{
	b->tokens += r->coh_n;
	b->seqs += r->coh_n;
	b->kv_read += (double)(s + r->coh_n); /* = perf_batch_add_decode per member */
}

/* Give the members whose residue falls in the next k steps the blocks they hold at
 * the end of those k steps; `blocks` is how many that is (the callers count them to
 * check they fit: a member of residue class D + j needs one at steps j, j + bs, ...
 * below k). */
static void cohort_allocate(replica *r, int64_t k, int64_t blocks)
{
	int64_t bs = r->cfg.block_size, j, nres = k < bs ? k : bs;
	int64_t res = r->D % bs;

	r->D_alloc = r->D + k;
	if (kv_counting(r->kv)) {
		/* In bulk (see member_blocks). */
		kv_take_counted(r->kv, blocks);
		return;
	}
	for (j = 0; j < nres; j++) {
		for (int32_t sl = r->res_head[res]; sl >= 0; sl = r->mem[sl].rnext) {
			const cmember *m = &r->mem[sl];

			/* Cannot fail: the caller checked the blocks fit. */
			(void)kv_allocate(r->kv, m->q, m->c_join + (r->D + k - m->d_join));
		}
		if (++res == bs)
			res = 0;
	}
}

/* The step time and its energy shares for a batch of n pure decodes, folded: in a
 * macro-step only the KV read changes from step to step, so everything else of
 * perf_step_ns_activity is evaluated once (issue 17's per-step energy split cost ~8 %
 * of the engine's instructions).  decode_cost_step repeats perf_step_rest_s's and
 * perf_step_activity_rest's operations on the same values in the same order (no FP
 * contraction in ISO C), so the bits are perf_step_ns_activity's; test_fastpath
 * compares the energy totals with the reference engine's.  Sliding-window models
 * never get here (their fast path is off); `generic` keeps them exact anyway. */
typedef struct decode_cost {
	const perf_model *p;
	int generic;        /* sliding-window terms: call perf_step_ns_activity */
	int64_t n;
	double t2;          /* token part + lm_head + (empty) prefill attention */
	double k, st, pz;   /* KV seconds per token, state term, (zero) prefill term */
	double c0, m1;      /* compute share; memory share before the KV/state term */
} decode_cost;

static void decode_cost_init(decode_cost *dc, const perf_model *p, int64_t n)
{
	double t, c, m, s = (double)n, lc, lm, a;

	dc->p = p;
	dc->n = n;
	dc->generic = p->swa_window > 0;
	if (n <= PERF_GRAPH_MAX) {
		t = p->tok_s[n];
		c = p->tok_c[n];
		m = p->tok_m[n];
	} else {
		perf_tokens_s_split(p, n, &t, &c, &m);
	}
	lc = p->lm_flop_s * s + p->lm_half_s;
	lm = p->lm_w_s + p->lm_act_s * s;
	a = p->attn_s_per_pair * (0.0 + p->attn_half_q * 0.0);
	t += lc > lm ? lc : lm;
	dc->t2 = t + a;
	if (lc > lm)
		c += lc;
	else
		m += lm;
	dc->c0 = c + a;
	dc->m1 = m;
	dc->k = p->kv_s_per_token;
	dc->st = p->state_s_per_seq * s;
	dc->pz = p->prefill_seq_s * (double)0;
}

/* One step of the n decodes reading kv_read context tokens: its duration (ns) and
 * compute- / memory-bound shares, as perf_step_ns_activity gives them. */
static inline int64_t decode_cost_step(const decode_cost *dc, double kv_read, int64_t *c_ns,
				       int64_t *m_ns)
{
	double x;
	int64_t ns;

	if (dc->generic) {
		perf_batch b = {dc->n, dc->n, 0.0, kv_read, 0, 0.0};

		return perf_step_ns_activity(dc->p, &b, c_ns, m_ns);
	}
	x = dc->k * kv_read + dc->st;
	ns = perf_ns_of(dc->t2 + x + dc->pz);
	perf_shares_ns(dc->c0, dc->m1 + x, ns, c_ns, m_ns);
	return ns;
}

/* Several decode-only steps at once. Returns the duration, or 0 when the first step's
 * blocks do not fit (the reference must take it: preemption). */
static int64_t macro_step(replica *r, simtime_t now, simtime_t horizon)
{
	int64_t free_b = kv_free_blocks(r->kv), need = 0, total = 0, k = 0, s = r->coh_s;
	int64_t c_tot = 0, m_tot = 0, dm = 0;
	int64_t bs = r->cfg.block_size, res = r->D % bs, n = r->coh_n;
	/* The last step is the one in flight: a member's finish (its last token comes
	 * in the step with D = d_fin), the first end not strictly before the horizon (an
	 * event there would see it in flight), or the last whose blocks fit. */
	int64_t kmax = r->heap[0].d_fin - r->D + 1;
	simtime_t t = now, t_prev = now;
	decode_cost dc;

	decode_cost_init(&dc, r->cfg.perf, n);
	for (;;) {
		int64_t kstop = kmax < r->macro_cap ? kmax : r->macro_cap;
		/* Locals: the stores below would otherwise make the compiler reload these. */
		int64_t *md = r->macro_d;
		const int32_t *rc = r->res_cnt;

		while (k < kstop) {
			int64_t nb = rc[res], d;

			if (need + nb > free_b)
				goto done;
			/* = cohort_batch on an empty batch: (n, n, 0, s + n, 0, 0) */
			{
				int64_t c_ns, m_ns;

				d = decode_cost_step(&dc, (double)(s + n), &c_ns, &m_ns);
				c_tot += c_ns;
				m_tot += m_ns;
			}
			md[k++] = d;
			dm = d > dm ? d : dm;
			need += nb;
			total += d;
			t_prev = t;
			t += d;
			s += n;
			if (++res == bs)
				res = 0;
			if (t >= horizon)
				goto done;
		}
		if (k >= kmax)
			break;
		{
			int64_t nc = r->macro_cap ? 2 * r->macro_cap : 256;
			int64_t *nd = realloc(r->macro_d, (size_t)nc * sizeof *nd);

			/* Out of memory: a shorter macro-step is just as exact. */
			if (!nd)
				break;
			r->macro_d = nd;
			r->macro_cap = nc;
		}
	}
done:
	if (k == 0)
		return 0;
	r->macro_t0 = now;
	r->macro_last_end0 = r->coh_last_end;
	r->macro_end = now + total;
	r->macro_dmax = dm;
	cohort_allocate(r, k, need);
	/* The first k - 1 steps end before anyone can look: apply them now. */
	if (k > 1) {
		int64_t done = k - 1;

		r->D += done;
		r->coh_s += n * done;
		r->outstanding -= n * done;
		r->st.tokens_computed += n * done;
		r->coh_last_end = t_prev;
	}
	r->coh_in_step = 1;
	r->in_step = 1;
	r->n_batch = 0;
	r->step_count = k;
	r->last_start = t_prev;
	r->macro_s0 = r->coh_s - n * (k - 1);
	r->st.steps += k;
	r->st.busy_ns += total;
	r->st.compute_ns += c_tot;
	r->st.memory_ns += m_tot;
	return total;
}

/* One step with the cohort in aggregate. Returns the duration, 0 when there is
 * nothing to run, or -1 when the reference must take the step. */
static int64_t fast_step(replica *r, simtime_t now, simtime_t horizon)
{
	int64_t budget = r->cfg.max_num_batched_tokens, early = 0, need = 0;
	int64_t bs = r->cfg.block_size, n_coh = r->coh_n;
	int i, n_sched = 0;
	perf_batch b;

	set_cutoff(r, now);
	if (r->n_indiv == 0 && n_coh > 0 && n_coh <= budget &&
	    (r->waiting.n == 0 || r->running.n >= r->cfg.max_num_seqs)) {
		int64_t d = macro_step(r, now, horizon);

		return d > 0 ? d : -1;
	}
	/* Running requests before the last member take budget before (some) members:
	 * all of them must get their full share for the members to be uniform. */
	if (n_coh > 0) {
		for (i = 0; i < r->n_indiv && r->indiv_stamp[i] < r->m_max; i++)
			early += cap_new(r, r->indiv[i], (int64_t)rq_num_tokens(r->indiv[i]) -
							   r->indiv[i]->computed, INT64_MAX);
		if (early + n_coh > budget)
			return -1;
		need = r->res_cnt[r->D % bs];
	}
	/* Pass 1 dry run in running order: tokens and blocks. */
	{
		int64_t left = budget - n_coh;

		for (i = 0; i < r->n_indiv && left > 0; i++) {
			sim_req *q = r->indiv[i];
			int64_t n = cap_new(r, q, (int64_t)rq_num_tokens(q) - q->computed,
					    (n_coh > 0 && r->indiv_stamp[i] < r->m_max) ? INT64_MAX : left);

			q->scheduled = (int32_t)n;
			left -= n;
			need += blocks_missing(r, q, (int64_t)q->computed + n);
			n_sched = i + 1;
		}
		if (need > kv_free_blocks(r->kv)) {
			for (i = 0; i < n_sched; i++)
				r->indiv[i]->scheduled = 0;
			return -1;
		}
		budget = left;
	}
	/* Commit: no preemption can happen, every allocation succeeds. */
	r->n_batch = 0;
	for (i = 0; i < n_sched; i++) {
		sim_req *q = r->indiv[i];

		if (q->scheduled == 0)
			continue;
		if ((int64_t)q->computed + q->scheduled > (int64_t)q->n_blocks * bs ||
		    has_extras(&r->cfg)) {
			blocks_out(r, q);
			(void)grow(r, q, (int64_t)q->computed + q->scheduled);
		}
		if (q->n_hashes > 0) {
			blocks_out(r, q);
			kv_commit(r->kv, q, q->computed, (int64_t)q->computed + q->scheduled);
		}
		r->batch[r->n_batch++] = q;
	}
	if (n_coh > 0)
		cohort_allocate(r, 1, r->res_cnt[r->D % bs]);

	/* Pass 2: WAITING, FCFS, as the reference (nothing was preempted). */
	while (r->waiting.n > 0 && budget > 0 && r->running.n < r->cfg.max_num_seqs) {
		sim_req *q = admit_head(r, &budget);

		if (!q)
			break;
		r->indiv[r->n_indiv] = q;
		r->indiv_stamp[r->n_indiv++] = r->next_stamp++;
	}

	if (r->n_batch == 0 && n_coh == 0)
		return 0;
	batch_of(r, &b);
	if (n_coh > 0)
		cohort_batch(r, r->coh_s, &b);
	r->coh_in_step = n_coh > 0;
	r->last_start = now;
	return take_step(r, &b);
}

int64_t replica_begin_step_until(replica *r, simtime_t now, simtime_t horizon)
{
	int64_t d;

	if (r->in_step)
		return 0;
	if (!r->cfg.fast_path) {
		d = ref_begin_step(r, now);
	} else {
		if (r->dissolved)
			cohort_rebuild(r);
		d = fast_step(r, now, horizon);
		if (d < 0) {
			cohort_dissolve(r);
			r->ref_step = 1;
			d = ref_begin_step(r, now);
		}
	}
	return r->oom ? -1 : d;
}

int64_t replica_begin_step(replica *r, simtime_t now)
{
	return replica_begin_step_until(r, now, now);
}

static void member_finish(replica *r, int32_t sl, simtime_t now, replica_done_fn done, void *ctx)
{
	cmember *m = &r->mem[sl];
	sim_req *q = m->q;

	member_sync(r, m);
	q->last_scheduled = now;
	if (q->first_token < 0)
		q->first_token = now;
	res_unlink(r, sl);
	r->coh_n--;
	r->coh_s -= q->computed;
	r->mem_free[r->n_mem_free++] = sl;
	list_remove(&r->running, q);
	q->lingering = 0;
	finish_req(r, q, RQ_DONE, linger(r, q) ? q->finish : now);
	if (done)
		done(ctx, q);
}

static void fast_end_step(replica *r, simtime_t now, replica_done_fn done, void *ctx)
{
	int i, w = 0, nfin = 0, j = 0;

	note_end(r, now);
	flush_retired(r, done, ctx);
	r->in_step = 0;
	r->step_count = 0;
	if (r->coh_in_step) {
		r->D++;
		r->coh_s += r->coh_n;
		r->outstanding -= r->coh_n;
		r->st.tokens_computed += r->coh_n;
		r->coh_last_end = now;
		r->coh_in_step = 0;
		while (r->n_heap > 0 && r->heap[0].d_fin < r->D)
			r->fin[nfin++] = heap_pop(r);
	}
	/* indiv[] holds the step's other requests (scheduled > 0) in running order. */
	for (i = 0; i < r->n_indiv; i++) {
		sim_req *q = r->indiv[i];
		int64_t st = r->indiv_stamp[i];

		while (j < nfin && r->mem[r->fin[j]].stamp < st)
			member_finish(r, r->fin[j++], now, done, ctx);
		if (q->scheduled == 0) {
			r->indiv[w] = q;
			r->indiv_stamp[w++] = st;
			continue;
		}
		switch (step_done(r, q, now, done, ctx)) {
		case 1:
			continue; /* finished */
		case 0:
			if (joinable(r, q)) {
				member_join(r, q, st);
				continue;
			}
			break;
		default:
			break; /* a partial prefill chunk */
		}
		r->indiv[w] = q;
		r->indiv_stamp[w++] = st;
	}
	while (j < nfin)
		member_finish(r, r->fin[j++], now, done, ctx);
	r->n_indiv = w;
	r->n_batch = 0;
}

void replica_end_step(replica *r, simtime_t now, replica_done_fn done, void *ctx)
{
	if (!r->in_step)
		return;
	if (!r->cfg.fast_path || r->ref_step) {
		r->ref_step = 0;
		ref_end_step(r, now, done, ctx);
	} else {
		fast_end_step(r, now, done, ctx);
	}
#ifdef FS_CHECK_INVARIANTS
	{
		fs_err e = {0};

		/* A broken invariant is a bug in the engine, not bad input: stop at once
		 * with the state that shows it, in every build that asked for checks. */
		if (replica_check(r, &e)) {
			fprintf(stderr, "fleetsim: engine invariant violated at t=%.9f s: %s\n", st_to_s(now),
				e.msg);
			replica_dump(r, stderr);
			abort();
		}
	}
#endif
}

void replica_dump(const replica *r, FILE *f)
{
	const sim_req *q;
	sim_req tmp;

	fprintf(f, "replica: in_step %d, running %d, waiting %d, outstanding %lld tokens, "
		   "KV used %lld free %lld total %lld, steps %lld, preemptions %lld\n",
		r->in_step, replica_num_running(r), replica_num_waiting(r), (long long)r->outstanding,
		(long long)kv_used_blocks(r->kv), (long long)kv_free_blocks(r->kv),
		(long long)kv_total_blocks(r->kv), (long long)r->st.steps, (long long)r->st.preemptions);
	fprintf(f, "  (fast path: cohort %lld members, D %lld, dissolved %d)\n", (long long)r->coh_n,
		(long long)r->D, r->dissolved);
	for (int pass = 0; pass < 2; pass++) {
		int64_t i = 0;
		wq_blk *b = r->waiting.hb;
		int bi = r->waiting.hi;

		q = pass == 0 ? r->running.head
			      : r->waiting.n > 0 ? ent_view(wq_first(&r->waiting), &tmp) : NULL;
		while (q) {
			fprintf(f, "  %s id %lld: prompt %d output %d generated %d computed %d scheduled %d "
				   "blocks %d preemptions %d status %d\n",
				pass == 0 ? "running" : "waiting", (long long)q->id, q->prompt, q->output,
				q->generated, q->computed, q->scheduled, q->n_blocks, q->preemptions, q->status);
			q = pass == 0 ? q->next
				      : ++i < r->waiting.n ? ent_view(wq_step(&b, &bi), &tmp) : NULL;
		}
	}
}

const int64_t *replica_macro_steps(const replica *r, int64_t *n)
{
	/* Step j (0-based within the macro-step) has context S0 + j x N; its duration
	 * was computed from exactly that batch in macro_step. */
	*n = replica_step_count(r);
	return r->macro_d;
}

/* Blocks the cohort takes in steps [from, to) of the macro-step in flight (counted
 * from its first step). */
static int64_t macro_blocks(const replica *r, int64_t from, int64_t to)
{
	int64_t bs = r->cfg.block_size, d0 = r->D - (r->step_count - 1), sum = 0;
	int64_t n = to - from, nres = n < bs ? n : bs, res = (d0 + from) % bs;

	for (int64_t j = 0; j < nres; j++) {
		sum += r->res_cnt[res] * (1 + (n - 1 - j) / bs);
		if (++res == bs)
			res = 0;
	}
	return sum;
}

void replica_prefetch(const replica *r)
{
#if defined(__GNUC__) || defined(__clang__)
	__builtin_prefetch(r);
	__builtin_prefetch((const char *)r + 64);
	__builtin_prefetch((const char *)r + 128);
	__builtin_prefetch((const char *)r + 192);
	__builtin_prefetch((const char *)r + 256);
	__builtin_prefetch((const char *)r + 320);
	__builtin_prefetch((const char *)r + 384);
	__builtin_prefetch((const char *)r + 448);
#else
	(void)r;
#endif
}

void replica_next_touch(const replica *r, const void *out[REPLICA_TOUCH])
{
	/* Only a replica with a queue: its step's end finishes the heap's top and admits
	 * the waiting head (its entry only: reading it here would be the miss this is
	 * meant to hide), each cold since long.  Without one (a steady fleet) the next
	 * event is often a placeholder that reads neither, and the hints cost more than
	 * they save (3.8 % of bench/decode.yaml's profile). */
	if (r->waiting.n == 0 || r->n_heap == 0) {
		out[0] = out[1] = out[2] = NULL;
		return;
	}
	out[0] = r->heap;
	out[1] = r->heap[0].q;
	out[2] = wq_first(&r->waiting);
}

void replica_prefetch_touch(const void *const p[REPLICA_TOUCH])
{
#if defined(__GNUC__) || defined(__clang__)
	if (!p[0])
		return;
	__builtin_prefetch(p[0]);
	prefetch_req(p[1]);
	__builtin_prefetch(p[2]);
#else
	(void)p;
#endif
}

int replica_macro_cuttable(const replica *r)
{
	return r->in_step && r->step_count > 1 && r->coh_in_step && kv_counting(r->kv);
}

int replica_admits_none(const replica *r)
{
	/* Nobody leaves the running list before the step in flight ends (a macro-step
	 * stops at its first finish and never preempts), and admission needs a free
	 * seat. */
	return r->in_step && r->running.n >= r->max_num_seqs;
}

void replica_macro_view(const replica *r, int64_t ended, int64_t *outstanding, int64_t *kv_used)
{
	int64_t k = r->step_count;

	/* Steps ended + 1 .. k - 1 are applied but have not run yet. */
	*outstanding = r->outstanding + r->coh_n * (k - 1 - ended);
	if (kv_used)
		*kv_used = kv_used_blocks(r->kv) - macro_blocks(r, ended + 1, k);
}

void replica_macro_span(const replica *r, int64_t *per_step, int64_t *dmax, simtime_t *end)
{
	*per_step = r->coh_n;
	*dmax = r->macro_dmax;
	*end = r->macro_end;
}

void replica_macro_cut(replica *r, int64_t ended)
{
	int64_t k = r->step_count, u = k - 1 - ended, n = r->coh_n, undo_ns = 0;

	if (u <= 0)
		return;
	kv_take_counted(r->kv, -macro_blocks(r, ended + 1, k));
	for (int64_t i = ended + 1; i < k; i++) {
		/* Step i's batch as macro_step built it: context S0 + (i + 1) N. */
		perf_batch b = {n, n, 0.0, (double)(r->macro_s0 + n * (i + 1)), 0, 0.0};
		int64_t c_ns, m_ns;

		undo_ns += r->macro_d[i];
		perf_step_activity_ns(r->cfg.perf, &b, r->macro_d[i], &c_ns, &m_ns);
		r->st.compute_ns -= c_ns;
		r->st.memory_ns -= m_ns;
	}
	r->D -= u;
	r->D_alloc = r->D + 1;
	r->coh_s -= n * u;
	r->outstanding += n * u;
	r->st.tokens_computed -= n * u;
	r->st.steps -= u;
	r->st.busy_ns -= undo_ns;
	{
		simtime_t t = r->macro_t0;

		for (int64_t i = 0; i < ended; i++)
			t += r->macro_d[i];
		r->coh_last_end = ended == 0 ? r->macro_last_end0 : t;
		r->last_start = t;
		r->macro_end = t + r->macro_d[ended];
	}
	r->step_count = ended + 1;
}

int64_t replica_step_count(const replica *r)
{
	return r->in_step ? r->step_count : 0;
}

int replica_abort_all(replica *r, replica_done_fn done, void *ctx)
{
	cohort_dissolve(r);
	r->coh_in_step = 0;
	r->ref_step = 0;
	flush_retired(r, done, ctx);

	/* RUNNING first, then WAITING, each in order. */
	for (int k = 0; k < 2; k++) {
		for (;;) {
			sim_req *q = k == 0 ? r->running.head : wq_head(r);

			if (!q)
				break;
			if (k == 0)
				list_remove(&r->running, q);
			else
				wq_pop_head(r->pool, &r->waiting);
			if (q->lingering) {
				/* Its output is complete. */
				q->lingering = 0;
				q->scheduled = 0;
				finish_req(r, q, RQ_DONE, q->finish);
			} else {
				finish_req(r, q, RQ_UNFINISHED, -1);
			}
			if (done)
				done(ctx, q);
		}
	}
	r->in_step = 0;
	r->step_count = 0;
	r->n_batch = 0;
	return r->oom ? -1 : 0;
}

void replica_get_stats(const replica *r, replica_stats *out)
{
	*out = r->st;
}

int replica_num_running(const replica *r)
{
	return r->running.n;
}

int replica_num_waiting(const replica *r)
{
	return r->waiting.n;
}

int64_t replica_outstanding_tokens(const replica *r)
{
	return r->outstanding;
}

const kv_cache *replica_kv(const replica *r)
{
	return r->kv;
}

double replica_kv_usage(const replica *r)
{
	return (double)kv_used_blocks(r->kv) / (double)kv_total_blocks(r->kv);
}

const replica_cfg *replica_get_cfg(const replica *r)
{
	return &r->cfg;
}

/* One queued request's invariants (check_list, check_queue). */
static int check_req(const replica *r, const sim_req *q, int status, const char *name,
		     int64_t *blocks, int64_t *outstanding, fs_err *err)
{
	int bs = r->cfg.block_size;

	if (q->status != status)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: request %lld in %s has status %d", (long long)q->id, name,
			       q->status);
	if ((int64_t)q->n_blocks * bs < kv_tokens(&r->cfg, (int64_t)q->computed + q->scheduled) ||
	    q->n_extra < extra_for(&r->cfg, (int64_t)q->computed + q->scheduled))
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: request %lld holds %d blocks for %d tokens",
			       (long long)q->id, q->n_blocks, q->computed + q->scheduled);
	if (status == RQ_WAITING && (q->n_blocks != 0 || q->n_extra != 0))
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: waiting request %lld holds %d blocks", (long long)q->id,
			       q->n_blocks);
	if (q->generated > q->output || (q->generated == q->output && !q->lingering) ||
	    q->computed > rq_num_tokens(q))
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: request %lld has generated %d/%d, computed %d",
			       (long long)q->id, q->generated, q->output, q->computed);
	*blocks += q->n_blocks + q->n_extra;
	*outstanding += (int64_t)q->prompt + q->output - q->computed;
	return 0;
}

static int check_list(const replica *r, const rlist *l, int status, const char *name,
		      int64_t *blocks, int64_t *outstanding, fs_err *err)
{
	const sim_req *q, *prev = NULL;
	int n = 0;

	for (q = l->head; q; q = q->next) {
		if (++n > l->n)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica: %s list longer than its count %d",
				       name, l->n);
		if (q->prev != prev)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica: %s list link broken at request %lld",
				       name, (long long)q->id);
		if (check_req(r, q, status, name, blocks, outstanding, err))
			return -1;
		prev = q;
	}
	if (n != l->n || prev != l->tail)
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: %s list has %d entries, count %d", name, n,
			       l->n);
	return 0;
}

static int check_queue(const replica *r, const rqueue *w, int64_t *blocks, int64_t *outstanding,
		       fs_err *err)
{
	const wq_blk *b = w->hb;
	int64_t held = 0;

	if (w->n < 0 || (w->n > 0 && !w->hb) || (!w->hb) != (!w->tb) || w->hi < 0 ||
	    w->hi > WQ_BLK || w->ti < 0 || w->ti > WQ_BLK)
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: waiting queue of %d has bad ends", w->n);
	/* Entries held from e[hi] of the head block to e[ti - 1] of the tail block. */
	for (; b; b = b->next) {
		if (b->next && b->next->prev != b)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica: waiting queue block link broken");
		held += (b == w->tb ? w->ti : WQ_BLK) - (b == w->hb ? w->hi : 0);
		if (b == w->tb && b->next)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica: waiting queue runs past its tail");
	}
	if (held != w->n)
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: waiting queue holds %lld, count %d",
			       (long long)held, w->n);
	if (w->n > 0) {
		wq_blk *it = w->hb;
		int i = w->hi;
		const wq_ent *e = wq_first(w);

		for (int64_t k = 0; k < w->n; k++) {
			sim_req tmp;

			if (k > 0)
				e = wq_step(&it, &i);
			if (check_req(r, ent_view(e, &tmp), RQ_WAITING, "waiting", blocks, outstanding,
				      err))
				return -1;
		}
	}
	return 0;
}

int replica_check(const replica *rc, fs_err *err)
{
	int64_t blocks = 0, refs = 0, outstanding = 0;
	/* Writing the cohort's live values into its requests changes nothing a caller
	 * can observe, so the check may do it on a const replica. */
	replica *r = (replica *)rc;

	if (r->cfg.fast_path && !r->dissolved) {
		int64_t s = 0;

		for (int i = 0; i < r->n_heap; i++) {
			cmember *m = &r->mem[r->heap[i].slot];

			member_sync(r, m);
			s += m->q->computed;
			if (m->q->status != RQ_RUNNING || m->d_fin < r->D)
				return fs_fail(err, FS_EXIT_RUNTIME,
					       "replica: cohort member %lld has status %d, finish step %lld < %lld",
					       (long long)m->q->id, m->q->status, (long long)m->d_fin,
					       (long long)r->D);
			if (r->heap[i].d_fin != m->d_fin || r->heap[i].stamp != m->stamp ||
			    (i > 0 && heap_less(&r->heap[i], &r->heap[(i - 1) / 2])))
				return fs_fail(err, FS_EXIT_RUNTIME,
					       "replica: cohort heap node %d (member %lld) is out of order or "
					       "stale", i, (long long)m->q->id);
		}
		if (s != r->coh_s || r->n_heap != r->coh_n ||
		    r->n_heap + r->n_indiv != r->running.n || r->n_heap + r->n_mem_free != r->cfg.max_num_seqs)
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "replica: cohort of %lld (heap %d, %d indiv, %d running) holds %lld tokens, "
				       "members sum to %lld",
				       (long long)r->coh_n, r->n_heap, r->n_indiv, r->running.n,
				       (long long)r->coh_s, (long long)s);
	}

	if (kv_check(r->kv, &refs, err) != 0)
		return -1;
	if (kv_used_blocks(r->kv) + kv_free_blocks(r->kv) != kv_total_blocks(r->kv))
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: used + free blocks != total");
	if (check_list(r, &r->running, RQ_RUNNING, "running", &blocks, &outstanding, err) != 0 ||
	    check_queue(r, &r->waiting, &blocks, &outstanding, err) != 0)
		return -1;
	if (blocks != refs)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: requests hold %lld blocks, reference counts sum to %lld",
			       (long long)blocks, (long long)refs);
	if (r->running.n > r->cfg.max_num_seqs)
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: %d running > max_num_seqs %d",
			       r->running.n, r->cfg.max_num_seqs);
	if (outstanding != r->outstanding)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica: outstanding tokens counter %lld, requests sum to %lld",
			       (long long)r->outstanding, (long long)outstanding);
	return 0;
}
