/*
 * replica.c - one vLLM V1 engine, scheduled as v1/core/sched/scheduler.py does:
 * RUNNING first (chunked prefill, preempt-the-last on block shortage, recompute),
 * then WAITING FCFS if nothing was preempted.  Lists are intrusive (req->prev/next)
 * so every queue operation is O(1); the step's batch is kept in an array sized
 * max_num_seqs at creation, so a step allocates nothing (request block arrays grow
 * geometrically inside kv).
 */
#include "sim/replica.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct rlist {
	sim_req *head, *tail;
	int n;
} rlist;

struct replica {
	replica_cfg cfg;
	kv_cache *kv;
	rlist waiting, running;
	sim_req **batch; /* scheduled requests of the step in flight */
	int n_batch;
	int in_step;
	int64_t outstanding; /* sum over queued requests of prompt + output - computed */
	replica_stats st;
};

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

static void list_push_head(rlist *l, sim_req *r)
{
	r->prev = NULL;
	r->next = l->head;
	if (l->head)
		l->head->prev = r;
	else
		l->tail = r;
	l->head = r;
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

int replica_create(const replica_cfg *cfg, replica **out, fs_err *err)
{
	replica *r = NULL;
	int64_t need;

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
	need = ((int64_t)cfg->max_model_len + cfg->block_size - 1) / cfg->block_size;
	if (cfg->num_blocks < need)
		return fs_fail(err, FS_EXIT_INPUT,
			       "KV cache has %lld blocks of %d tokens (%lld tokens) but one max_model_len "
			       "(%d) sequence needs %lld blocks; increase gpu_memory_utilization or "
			       "decrease max_model_len",
			       (long long)cfg->num_blocks, cfg->block_size,
			       (long long)cfg->num_blocks * cfg->block_size, cfg->max_model_len,
			       (long long)need);
	r = calloc(1, sizeof *r);
	if (!r)
		goto oom;
	r->cfg = *cfg;
	r->batch = malloc((size_t)cfg->max_num_seqs * sizeof *r->batch);
	if (!r->batch)
		goto oom;
	if (kv_create(cfg->num_blocks, cfg->block_size, cfg->enable_prefix_caching, &r->kv) != 0)
		goto oom;
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
	/* vLLM's implicit max_tokens is the room left in the context window. */
	limit = mml - req->prompt;
	if (req->max_tokens >= 0 && req->max_tokens < limit)
		limit = req->max_tokens;
	if (req->output > limit)
		req->output = (int32_t)limit;
	if (req->output < 1)
		req->output = 1;
	req->status = RQ_WAITING;
	req->computed = 0;
	req->scheduled = 0;
	req->generated = 0;
	list_push_tail(&r->waiting, req);
	r->outstanding += (int64_t)req->prompt + req->output;
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

static void preempt(replica *r, sim_req *v)
{
	list_remove(&r->running, v);
	kv_free(r->kv, v);
	r->outstanding += v->computed;
	v->computed = 0;
	v->scheduled = 0;
	v->preemptions++;
	v->status = RQ_WAITING;
	r->st.preemptions++;
	list_push_head(&r->waiting, v);
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

int64_t replica_begin_step(replica *r, simtime_t now)
{
	int64_t budget = r->cfg.max_num_batched_tokens;
	int preempted = 0, i;
	sim_req *q;
	perf_batch b;

	(void)now;
	if (r->in_step)
		return 0;
	r->n_batch = 0;

	/* Pass 1: RUNNING in order. */
	for (q = r->running.head; q && budget > 0; q = q->next) {
		int64_t n = cap_new(r, q, (int64_t)rq_num_tokens(q) - q->computed, budget);
		int ok = 1;

		if (n == 0)
			continue;
		/* Most decode steps need no new block: skip the call. */
		while ((int64_t)q->computed + n > (int64_t)q->n_blocks * r->cfg.block_size &&
		       kv_allocate(r->kv, q, (int64_t)q->computed + n) != 0) {
			sim_req *v = r->running.tail;

			preempt(r, v);
			preempted = 1;
			if (v == q) {
				ok = 0;
				break;
			}
		}
		if (!ok)
			break;
		q->scheduled = (int32_t)n;
		r->batch[r->n_batch++] = q;
		budget -= n;
	}

	/* Pass 2: WAITING, FCFS, only in a step that preempted nothing. */
	while (!preempted && r->waiting.n > 0 && budget > 0 && r->running.n < r->cfg.max_num_seqs) {
		int64_t ev = 0, hit = 0, n, want_blocks, have_blocks;
		int bs = r->cfg.block_size;

		q = r->waiting.head;
		if (q->computed == 0)
			hit = kv_lookup_prefix(r->kv, q, &ev);
		n = cap_new(r, q, (int64_t)rq_num_tokens(q) - (q->computed + hit), budget);
		if (n == 0)
			break;
		/* Check first, touch after: a refused admission leaves the LRU order alone. */
		want_blocks = ((int64_t)q->computed + hit + n + bs - 1) / bs;
		have_blocks = q->n_blocks + hit / bs;
		if (want_blocks - have_blocks + ev > kv_free_blocks(r->kv))
			break;
		if (q->computed == 0) {
			hit = kv_match_prefix(r->kv, q);
			q->computed = (int32_t)hit;
			q->cached_tokens = (int32_t)hit;
			r->outstanding -= hit;
			r->st.prefix_hit_tokens += hit;
		}
		if (kv_allocate(r->kv, q, (int64_t)q->computed + n) != 0) {
			/* Only on allocation failure of the block array: undo the match. */
			r->outstanding += q->computed;
			q->computed = 0;
			kv_free(r->kv, q);
			break;
		}
		list_remove(&r->waiting, q);
		list_push_tail(&r->running, q);
		q->status = RQ_RUNNING;
		q->scheduled = (int32_t)n;
		r->batch[r->n_batch++] = q;
		budget -= n;
	}

	if (r->n_batch == 0)
		return 0;
	memset(&b, 0, sizeof b);
	for (i = 0; i < r->n_batch; i++) {
		q = r->batch[i];
		if (q->generated > 0 && q->computed == rq_num_tokens(q) - 1 && q->scheduled == 1)
			perf_batch_add_decode(&b, q->computed);
		else
			perf_batch_add_prefill(&b, q->computed, q->scheduled);
	}
	r->in_step = 1;
	{
		int64_t d = perf_step_ns(r->cfg.perf, &b);

		r->st.steps++;
		r->st.busy_ns += d;
		return d;
	}
}

static void finish_req(replica *r, sim_req *q, int status, simtime_t now)
{
	/* The block array stays with the request: the fleet recycles request structs
	 * and frees the array with them. */
	kv_free(r->kv, q);
	r->outstanding -= (int64_t)q->prompt + q->output - q->computed;
	q->status = (uint8_t)status;
	q->finish = now;
	q->scheduled = 0;
}

void replica_end_step(replica *r, simtime_t now, replica_done_fn done, void *ctx)
{
	int i;

	if (!r->in_step)
		return;
	r->in_step = 0;
	for (i = 0; i < r->n_batch; i++) {
		sim_req *q = r->batch[i];

		q->computed += q->scheduled;
		r->outstanding -= q->scheduled;
		r->st.tokens_computed += q->scheduled;
		q->last_scheduled = now;
		if (q->n_hashes > 0) /* kv_commit has nothing to register otherwise */
			kv_commit(r->kv, q);
		q->scheduled = 0;
		if (q->computed < rq_num_tokens(q))
			continue; /* a partial prefill chunk samples nothing */
		q->generated++;
		if (q->first_token < 0)
			q->first_token = now;
		if (q->generated >= q->output) {
			list_remove(&r->running, q);
			finish_req(r, q, RQ_DONE, now);
			if (done)
				done(ctx, q);
		}
	}
	r->n_batch = 0;
#ifdef FS_CHECK_INVARIANTS
	{
		fs_err e = {0};
		int rc = replica_check(r, &e);

		assert(rc == 0);
		(void)rc;
	}
#endif
}

void replica_abort_all(replica *r, replica_done_fn done, void *ctx)
{
	rlist *lists[2] = {&r->running, &r->waiting};
	int k;

	for (k = 0; k < 2; k++) {
		while (lists[k]->head) {
			sim_req *q = lists[k]->head;

			list_remove(lists[k], q);
			finish_req(r, q, RQ_UNFINISHED, -1);
			if (done)
				done(ctx, q);
		}
	}
	r->in_step = 0;
	r->n_batch = 0;
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

static int check_list(const rlist *l, int status, const char *name, int bs, int64_t *blocks,
		      int64_t *outstanding, fs_err *err)
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
		if (q->status != status)
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "replica: request %lld in %s has status %d", (long long)q->id, name,
				       q->status);
		if ((int64_t)q->n_blocks * bs < q->computed + q->scheduled)
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "replica: request %lld holds %d blocks for %d tokens",
				       (long long)q->id, q->n_blocks, q->computed + q->scheduled);
		if (status == RQ_WAITING && q->n_blocks != 0)
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "replica: waiting request %lld holds %d blocks", (long long)q->id,
				       q->n_blocks);
		if (q->generated >= q->output || q->computed > rq_num_tokens(q))
			return fs_fail(err, FS_EXIT_RUNTIME,
				       "replica: request %lld has generated %d/%d, computed %d",
				       (long long)q->id, q->generated, q->output, q->computed);
		*blocks += q->n_blocks;
		*outstanding += (int64_t)q->prompt + q->output - q->computed;
		prev = q;
	}
	if (n != l->n || prev != l->tail)
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: %s list has %d entries, count %d", name, n,
			       l->n);
	return 0;
}

int replica_check(const replica *r, fs_err *err)
{
	int64_t blocks = 0, refs = 0, outstanding = 0;

	if (kv_check(r->kv, &refs, err) != 0)
		return -1;
	if (kv_used_blocks(r->kv) + kv_free_blocks(r->kv) != kv_total_blocks(r->kv))
		return fs_fail(err, FS_EXIT_RUNTIME, "replica: used + free blocks != total");
	if (check_list(&r->running, RQ_RUNNING, "running", r->cfg.block_size, &blocks, &outstanding,
		       err) != 0 ||
	    check_list(&r->waiting, RQ_WAITING, "waiting", r->cfg.block_size, &blocks, &outstanding,
		       err) != 0)
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
