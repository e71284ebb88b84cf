#include "sim/fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/event.h"
#include "sim/replica.h"

enum { EV_ARRIVAL = 1, EV_STEP_END, EV_SAMPLE, EV_GHOST };

/*
 * Event order.  The reference engine orders events by (time, seq), seq being the
 * order of scheduling; an event is scheduled while another (its parent) is processed.
 * Since seqs grow with processing order and processing order with time, ordering by
 * (time, sched, seq) - sched being the parent's time - is the same order, and it lets
 * a macro-step skip its placeholders: the reference's per-step end events, which do
 * nothing but take a seq each.  The last step end of a macro-step whose placeholders
 * are skipped ("implicit") gets the key (T, e, virtual seq), e being the end time of
 * the step before it: that is its reference key unless another event scheduled at
 * exactly e sits at time T too, and that can happen only if some event was processed
 * at e.  So the fleet indexes every macro-step's intermediate end times by exact time
 * (the ghost-time wheel below) and makes a macro-step explicit - placeholders in the
 * tree from that step on, as the reference - when
 *   - a real event (arrival, sample, step end) is processed at one of its
 *     intermediate end times: the placeholder is then ordered against that event by
 *     its key (time, previous end, seq) and processed at its place; or
 *   - another macro-step has an intermediate end at the same time (checked when the
 *     later one starts: the later one is explicit from its start, the earlier one from
 *     its next step end).
 * A comparison that would need a virtual seq to break a tie is then impossible; the
 * run fails loudly if one happens (order_bug) rather than guess.  A macro-step cut
 * back by an arrival (see pass in run_state) keeps the same rule: its new last end is
 * keyed after the end before it.
 */
#define SEQ_VIRTUAL UINT64_MAX

/* The ghost-time wheel: intermediate end times of macro-steps in flight, by exact
 * time.  A ring of gw_n buckets of 2^gw_shift ns; a bucket holds the entries of
 * one window (time >> gw_shift) and is emptied lazily when a later window reuses it.
 * Entries stay valid while their time is at most (gw_n - 1) windows ahead of
 * the present, so macro-steps are capped to that span (gw_span).  A full bucket is
 * marked: a macro-step that would add to it is made explicit instead (exact, slower). */
#define GW_CAP 7
typedef struct gw_bucket {
	int64_t window;
	int32_t n, full;
	struct gw_entry {
		simtime_t time;
		int32_t ri;    /* replica */
		int32_t step;  /* the end of step `step` - 1 of its macro-step (1-based ghost) */
		uint32_t gen;  /* the replica's chain_gen when added: current entries only */
	} e[GW_CAP];
} gw_bucket;

int fleet_pool_prepare(pool_cfg *p, const llm_spec *m, fs_err *err)
{
	int64_t need_blocks;

	if (p->replicas < 1)
		return fs_fail(err, FS_EXIT_INPUT, "pool '%s': replicas must be at least 1", p->name);
	p->mem.max_num_batched_tokens = p->max_num_batched_tokens;
	p->mem.max_num_seqs = p->max_num_seqs;
	if (mem_plan_compute(&p->gpu, m, &p->mem, &p->plan, err))
		return fs_failp(err, "pool '%s': ", p->name);
	if (perf_init(&p->perf, &p->gpu, m, &p->mem, err))
		return fs_failp(err, "pool '%s': ", p->name);
	need_blocks = (p->max_model_len + p->mem.block_size - 1) / p->mem.block_size;
	if (p->plan.kv_blocks < need_blocks)
		return fs_fail(err, FS_EXIT_INPUT,
			       "pool '%s': max_model_len %d needs %lld KV blocks but %s x%d of %s holds only "
			       "%lld (%lld tokens); lower max_model_len or raise tensor_parallel_size",
			       p->name, p->max_model_len, (long long)need_blocks, p->gpu.name, p->mem.tp,
			       m->name, (long long)p->plan.kv_blocks, (long long)p->plan.kv_tokens);
	return 0;
}

/* Everything one run owns; freed together in run_free. */
typedef struct run_state {
	const policy_cfg *pol;
	const fleet_opts *o;
	metrics *m;
	fleet_result *res;
	ev_queue *q;
	router *rt;
	replica **reps;          /* all replicas, pool by pool */
	simtime_t *step_end;     /* end of each replica's step in flight, -1 if none */
	/* Macro-steps in flight: per replica the durations of the engine steps its step
	 * stands for (the replica's array, valid until its step ends), how many, and the
	 * index of the step whose end is pending. */
	const int64_t **ghost_d;
	int64_t *ghost_n;
	int64_t *ghost_step;
	/* Each replica's one pending step event (a step end or a macro-step placeholder)
	 * lives outside the event queue: (time, seq, kind) per replica, INT64_MAX = none,
	 * seq from the queue's counter, and a winner tree over replicas keyed (time, seq).
	 * Runs take the smaller of its root and the queue's head by (time, seq), the
	 * queue's own order, so the event order is unchanged; a macro-step placeholder
	 * then costs one leaf-to-root pass (log2 replicas comparisons) instead of a heap
	 * pop and push.  Index nreps is a sentinel that never wins (time INT64_MAX, seq
	 * UINT64_MAX): it fills the leaves past the last replica. */
	simtime_t *rev_time;
	simtime_t *rev_sched;    /* when the pending event was scheduled (see key order below) */
	uint64_t *rev_seq;
	int8_t *rev_kind;
	int32_t *rtree;          /* 2 x rtree_size nodes: the replica winning the subtree */
	uint64_t *seq;           /* the queue's sequence counter (ev_seq_counter) */
	/* Implicit macro-steps (see "Event order" below): per replica, whether the step in
	 * flight is one, its start time and the seq its first placeholder took. */
	int8_t *chain_imp;
	simtime_t *chain_t0;
	uint64_t *chain_s0;
	uint32_t *chain_gen;     /* bumped per macro-step and per cut: wheel entries of older ones are void */
	/* Macro-steps past arrivals (pass): with least_tokens / least_kv the router reads
	 * every replica's load, which a macro-step has applied ahead of time.  While KV is
	 * counted, a macro-step may still run past arrivals: the replica tree holds lower
	 * bounds of their loads, pick_replica evaluates the loads as of the arrival
	 * (replica_macro_view) where the bounds do not rule a replica out, and the replica
	 * that gets the request is cut back to its step in flight (replica_macro_cut). */
	int pass;
	int64_t steps_started;   /* engine steps begun so far (macro-steps count all theirs) */
	int64_t bb_searches, bb_leaves; /* pick_replica's searches and replicas they evaluated */
	int32_t *mlist, *mpos;   /* replicas in a cuttable macro-step; position or -1 */
	int nm;
	int64_t *m_ended;        /* steps of it ended before the arrival (set by pick_replica) */
	int64_t *cur_g;          /* implicit macro-steps: next placeholder not yet passed */
	simtime_t *cur_t;        /* and its time */
	gw_bucket *gw;           /* ghost-time wheel, gw_n buckets; NULL with --reference */
	int64_t gw_n;            /* a power of two */
	int gw_shift;            /* bucket width 2^gw_shift ns */
	simtime_t arr_sched, smp_sched; /* scheduling times of the queued arrival / sample */
	int order_bug;           /* two events the key order cannot tell apart (a bug) */
	int rtree_size;
	int nreps;
	int pool_first[FS_MAX_POOLS + 1];
	int8_t *reps_pool;       /* pool of each replica */
	uint64_t rr[FS_MAX_POOLS];
	sim_req *free_list;      /* recycled requests (keep their arrays) */
	/* Least-tokens / least-KV choice: per pool a min segment tree over its replicas
	 * keyed (key1, key2, index), so a choice costs O(log replicas) instead of a scan
	 * and ties go to the lowest index exactly as the scan did. */
	int tree_size[FS_MAX_POOLS];     /* leaves, a power of two */
	int32_t *tree[FS_MAX_POOLS];     /* 2 x tree_size nodes: replica index (pool-relative) or -1 */
	int64_t *key1, *key2;            /* per replica (global index) */
	int64_t inflight;
	simtime_t next_arrival;  /* time of the pending arrival event, INT64_MAX if none */
	simtime_t next_sample;   /* time of the pending sample event */
	int failed;              /* allocation failure inside a callback */
	/* The trace's next requests, read ahead (hashes copied: a reader's are valid only
	 * until its next call).  One entry, unless arrivals go round robin over a single
	 * pool without spill-over: the k-th next arrival then goes to a replica known
	 * now (k positions after the counter, later if some are rejected), so a replica's
	 * macro-steps need to stop only at the next arrival *to it*, and the window holds
	 * one arrival per replica of the pool.  Not with --no-drain: the run stops at the
	 * last arrival, and no replica may have applied steps beyond it then. */
	trace_req *la;
	uint64_t **la_hash;      /* per entry, owned */
	int32_t *la_hash_cap;
	int la_cap, la_head, la_n, la_eof, la_rr;
} run_state;

static sim_req *req_get(run_state *s)
{
	sim_req *r = s->free_list;
	int32_t *blocks;
	uint64_t *hashes;
	int32_t cap_b, cap_h;

	if (!r)
		return calloc(1, sizeof *r);
	s->free_list = r->next;
	blocks = r->blocks;
	hashes = r->hashes;
	cap_b = r->cap_blocks;
	cap_h = r->cap_hashes;
	memset(r, 0, sizeof *r);
	r->blocks = blocks;
	r->hashes = hashes;
	r->cap_blocks = cap_b;
	r->cap_hashes = cap_h;
	return r;
}

static void req_put(run_state *s, sim_req *r)
{
	r->next = s->free_list;
	s->free_list = r;
}

static void on_done(void *ctx, sim_req *r)
{
	run_state *s = ctx;

	if (metrics_add_request(s->m, r))
		s->failed = 1;
	router_observe(s->rt, r);
	switch (r->status) {
	case RQ_DONE: s->res->completed++; break;
	case RQ_REJECTED: s->res->rejected++; break;
	default: s->res->unfinished++; break;
	}
	s->inflight--;
	req_put(s, r);
}

/* Balance keys of replica ri: outstanding tokens, or (KV blocks in use, outstanding
 * tokens).  Blocks in use order like the KV usage ratio because every replica of a
 * pool has the same number of blocks. */
static void balance_keys(const run_state *s, int ri, int64_t *k1, int64_t *k2)
{
	const replica *r = s->reps[ri];

	if (s->mpos && s->mpos[ri] >= 0 && s->pol->router.balance == BAL_LEAST_KV) {
		int64_t out, used;

		/* In a macro-step past arrivals: a lower bound of its keys at any moment of
		 * it (blocks in use at its first step, outstanding tokens after its last);
		 * pick_replica evaluates the exact ones. */
		replica_macro_view(r, 0, &out, &used);
		*k1 = used;
		*k2 = replica_outstanding_tokens(r);
		return;
	}
	/* (least_tokens: the outstanding tokens after the last step are the lower bound.) */
	if (s->pol->router.balance == BAL_LEAST_KV) {
		*k1 = kv_used_blocks(replica_kv(r));
		*k2 = replica_outstanding_tokens(r);
	} else {
		*k1 = replica_outstanding_tokens(r);
		*k2 = 0;
	}
}

static int node_less(const run_state *s, int first, int32_t a, int32_t b)
{
	int64_t a1, b1;

	if (b < 0)
		return a >= 0;
	if (a < 0)
		return 0;
	a1 = s->key1[first + a];
	b1 = s->key1[first + b];
	if (a1 != b1)
		return a1 < b1;
	if (s->key2[first + a] != s->key2[first + b])
		return s->key2[first + a] < s->key2[first + b];
	return a < b;
}

/* Refresh replica ri's keys after the fleet called into it. */
static void tree_update(run_state *s, int ri)
{
	int pool = s->reps_pool[ri], first = s->pool_first[pool], n = s->tree_size[pool], i;
	int32_t *t = s->tree[pool];
	int64_t k1, k2;

	if (!t)
		return;
	balance_keys(s, ri, &k1, &k2);
	if (k1 == s->key1[ri] && k2 == s->key2[ri])
		return;
	s->key1[ri] = k1;
	s->key2[ri] = k2;
	for (i = (n + ri - first) / 2; i >= 1; i /= 2) {
		int32_t m = node_less(s, first, t[2 * i + 1], t[2 * i]) ? t[2 * i + 1] : t[2 * i];

		/* Same winner with unchanged key: nothing above changes either. */
		if (m == t[i] && m != ri - first)
			break;
		t[i] = m;
	}
}

static int tree_init(run_state *s)
{
	if (s->pol->router.balance == BAL_ROUND_ROBIN)
		return 0;
	s->key1 = calloc((size_t)s->nreps, sizeof *s->key1);
	s->key2 = calloc((size_t)s->nreps, sizeof *s->key2);
	if (!s->key1 || !s->key2)
		return -1;
	for (int p = 0; p < s->pol->npools; p++) {
		int first = s->pool_first[p], cnt = s->pool_first[p + 1] - first, n = 1;
		int32_t *t;

		while (n < cnt)
			n *= 2;
		t = malloc(2 * (size_t)n * sizeof *t);
		if (!t)
			return -1;
		s->tree[p] = t;
		s->tree_size[p] = n;
		for (int i = 0; i < n; i++)
			t[n + i] = i < cnt ? i : -1;
		for (int i = 0; i < cnt; i++)
			balance_keys(s, first + i, &s->key1[first + i], &s->key2[first + i]);
		for (int i = n - 1; i >= 1; i--)
			t[i] = node_less(s, first, t[2 * i + 1], t[2 * i]) ? t[2 * i + 1] : t[2 * i];
	}
	return 0;
}

static int64_t macro_ended(run_state *s, int x, simtime_t t);

/* Is (a1, a2, a) before (b1, b2, b)?  b < 0: nothing yet. */
static int key_less(int64_t a1, int64_t a2, int a, int64_t b1, int64_t b2, int b)
{
	if (b < 0)
		return 1;
	if (a1 != b1)
		return a1 < b1;
	if (a2 != b2)
		return a2 < b2;
	return a < b;
}

/* The replica with the least keys in the subtree under node i of pool tree t: the
 * tree holds exact keys, except lower bounds for replicas in macro-steps past
 * arrivals, whose exact keys at the present are evaluated here (branch and bound:
 * a subtree whose least bound is not below the best exact key so far is skipped).
 * *b / *b1 / *b2: best so far (relative index, -1 none). */
static void bb_search(run_state *s, const int32_t *t, int first, int n, int i, int *b, int64_t *b1,
		      int64_t *b2)
{
	int w = t[i];

	if (w < 0 || !key_less(s->key1[first + w], s->key2[first + w], w, *b1, *b2, *b))
		return;
	if (i >= n) {
		int x = first + w;
		int64_t k1 = s->key1[x], k2 = s->key2[x];

		s->bb_leaves++;
		if (s->mpos[x] >= 0) {
			int64_t out, used;

			s->m_ended[x] = macro_ended(s, x, ev_now(s->q));
			replica_macro_view(s->reps[x], s->m_ended[x], &out, &used);
			k1 = s->pol->router.balance == BAL_LEAST_KV ? used : out;
			k2 = s->pol->router.balance == BAL_LEAST_KV ? out : 0;
		}
		if (key_less(k1, k2, w, *b1, *b2, *b)) {
			*b = w;
			*b1 = k1;
			*b2 = k2;
		}
		return;
	}
	/* The winner's side first: its bound is the subtree's least. */
	if (t[2 * i] == w) {
		bb_search(s, t, first, n, 2 * i, b, b1, b2);
		bb_search(s, t, first, n, 2 * i + 1, b, b1, b2);
	} else {
		bb_search(s, t, first, n, 2 * i + 1, b, b1, b2);
		bb_search(s, t, first, n, 2 * i, b, b1, b2);
	}
}

static int pick_replica(run_state *s, int pool)
{
	int first = s->pool_first[pool], n = s->pool_first[pool + 1] - first, b = -1;
	int64_t b1 = 0, b2 = 0;

	if (s->pol->router.balance == BAL_ROUND_ROBIN)
		return first + (int)(s->rr[pool]++ % (uint64_t)n);
	if (s->nm == 0)
		return first + s->tree[pool][1];
	s->bb_searches++;
	bb_search(s, s->tree[pool], first, s->tree_size[pool], 1, &b, &b1, &b2);
	return first + b;
}

static void pool_view(run_state *s, router_pool_view *v)
{
	for (int p = 0; p < s->pol->npools; p++) {
		const pool_cfg *pc = &s->pol->pools[p];
		v[p].max_model_len = pc->max_model_len;
		v[p].replicas = pc->replicas;
		v[p].waiting = 0;
		v[p].kv_usage = 0.0;
		/* Load figures cost a scan of the pool: only spill-over needs them. */
		if (!s->pol->router.spillover)
			continue;
		for (int i = s->pool_first[p]; i < s->pool_first[p + 1]; i++) {
			v[p].waiting += replica_num_waiting(s->reps[i]);
			v[p].kv_usage += replica_kv_usage(s->reps[i]);
		}
		v[p].kv_usage /= pc->replicas;
	}
}

/* Break a tie in time between events a and b (at time t): is a first?  By scheduling
 * time, then seq.  Empty slots (t = INT64_MAX) are in any order. */
static int tie_less(run_state *s, simtime_t t, simtime_t da, uint64_t qa, simtime_t db, uint64_t qb)
{
	if (da != db)
		return da < db;
	if (t != INT64_MAX && (qa == SEQ_VIRTUAL || qb == SEQ_VIRTUAL))
		s->order_bug = 1; /* see "Event order": must not happen */
	return qa < qb;
}

/* Replay replica ri's path of the winner tree after its pending event changed.
 * Nodes hold indices only and the keys are read from rev_*: a level is one sibling
 * load and a compare (scheduling time and seq only on equal times). */
static void rtree_update(run_state *s, int ri)
{
	int32_t *t = s->rtree, cur = ri;
	const simtime_t *tm = s->rev_time;
	simtime_t ct = tm[ri];
	int i = s->rtree_size + ri;

	for (; i > 1; i >>= 1) {
		int32_t sib = t[i ^ 1];
		simtime_t st = tm[sib];

		if (st < ct || (st == ct && tie_less(s, st, s->rev_sched[sib], s->rev_seq[sib],
						       s->rev_sched[cur], s->rev_seq[cur]))) {
			cur = sib;
			ct = st;
		}
		t[i >> 1] = cur;
	}
}

/* Give replica ri the pending event (t, kind) with key (t, sched, seq). */
static void rev_put(run_state *s, int ri, simtime_t t, simtime_t sched, uint64_t seq, int kind)
{
	s->rev_time[ri] = t;
	s->rev_sched[ri] = sched;
	s->rev_seq[ri] = seq;
	s->rev_kind[ri] = (int8_t)kind;
	rtree_update(s, ri);
}

/* Give replica ri the pending event (t, kind), scheduled now (at time `now`). */
static void rev_set(run_state *s, int ri, simtime_t t, simtime_t now, int kind)
{
	rev_put(s, ri, t, now, (*s->seq)++, kind);
}

static int rtree_init(run_state *s)
{
	int n = 1;
	size_t m = (size_t)s->nreps + 1;

	while (n < s->nreps)
		n *= 2;
	s->rtree_size = n;
	s->seq = ev_seq_counter(s->q);
	s->rev_time = malloc(m * sizeof *s->rev_time);
	s->rev_sched = calloc(m, sizeof *s->rev_sched);
	s->rev_seq = malloc(m * sizeof *s->rev_seq);
	s->rev_kind = calloc(m, sizeof *s->rev_kind);
	s->rtree = malloc(2 * (size_t)n * sizeof *s->rtree);
	s->ghost_d = calloc(m, sizeof *s->ghost_d);
	s->ghost_n = calloc(m, sizeof *s->ghost_n);
	s->chain_imp = calloc(m, sizeof *s->chain_imp);
	s->chain_t0 = calloc(m, sizeof *s->chain_t0);
	s->chain_s0 = calloc(m, sizeof *s->chain_s0);
	s->chain_gen = calloc(m, sizeof *s->chain_gen);
	s->mlist = malloc(m * sizeof *s->mlist);
	s->mpos = malloc(m * sizeof *s->mpos);
	s->m_ended = calloc(m, sizeof *s->m_ended);
	s->cur_g = calloc(m, sizeof *s->cur_g);
	s->cur_t = calloc(m, sizeof *s->cur_t);
	if (!s->rev_time || !s->rev_sched || !s->rev_seq || !s->rev_kind || !s->rtree || !s->ghost_d ||
	    !s->ghost_n || !s->chain_imp || !s->chain_t0 || !s->chain_s0 || !s->chain_gen || !s->mlist ||
	    !s->mpos || !s->m_ended || !s->cur_g || !s->cur_t)
		return -1;
	for (size_t i = 0; i < m; i++)
		s->mpos[i] = -1;
	s->pass = !s->o->reference && s->o->drain && !s->pol->router.spillover &&
		  s->pol->router.balance != BAL_ROUND_ROBIN;
	for (size_t i = 0; i < m; i++) {
		s->rev_time[i] = INT64_MAX;
		s->rev_seq[i] = UINT64_MAX;
	}
	/* Every node starts as the sentinel: all slots are empty. */
	for (int i = 0; i < 2 * n; i++)
		s->rtree[i] = s->nreps;
	for (int i = 0; i < s->nreps; i++)
		s->rtree[n + i] = i;
	if (!s->o->reference) {
		/* Buckets of about 100 ms / replicas (steps of ~50 ms put ~2 ghost times in
		 * a bucket), 4 us to 16 ms, and at least 16 per replica, so a macro-step
		 * may span about 1.6 s or more whatever the fleet size (~2 KB per replica). */
		int64_t w = 100000000 / s->nreps;

		s->gw_shift = 12;
		while (s->gw_shift < 24 && ((int64_t)1 << (s->gw_shift + 1)) <= w)
			s->gw_shift++;
		s->gw_n = 4096;
		while (s->gw_n < 16 * (int64_t)s->nreps)
			s->gw_n *= 2;
		s->gw = malloc((size_t)s->gw_n * sizeof *s->gw);
		if (!s->gw)
			return -1;
		for (int64_t i = 0; i < s->gw_n; i++) {
			s->gw[i].window = -1;
			s->gw[i].n = s->gw[i].full = 0;
		}
	}
	return 0;
}

/* How far ahead of now a macro-step's intermediate ends may lie (see the wheel). */
static simtime_t gw_span(const run_state *s)
{
	return (s->gw_n - 1) << s->gw_shift;
}

/* The bucket of time t, or NULL if it holds another window (no entry for t). */
static gw_bucket *gw_find(run_state *s, simtime_t t)
{
	gw_bucket *b = &s->gw[(t >> s->gw_shift) & (s->gw_n - 1)];

	return b->window == t >> s->gw_shift ? b : NULL;
}

/* Make replica x's implicit macro-step explicit from its placeholder `g` (1-based:
 * the end of its step g - 1, at time t): that placeholder goes into the tree with its
 * reference key, (t, end of the step before, seq), the seq virtual after the first. */
static void chain_explicit_at(run_state *s, int x, int64_t g, simtime_t t)
{
	s->chain_imp[x] = 0;
	s->ghost_step[x] = g;
	rev_put(s, x, t, t - s->ghost_d[x][g - 1], g == 1 ? s->chain_s0[x] : SEQ_VIRTUAL, EV_GHOST);
	s->res->macro_explicit++;
}

/* Make replica x's implicit macro-step explicit from its first placeholder after
 * now (earlier ones are past: no event was processed at their times, or x would have
 * been made explicit then). */
static void chain_explicit_now(run_state *s, int x, simtime_t now)
{
	const int64_t *d = s->ghost_d[x];
	simtime_t t = s->chain_t0[x] + d[0];
	int64_t g = 1;

	/* The caller found one of its placeholders after now, so this stops there. */
	while (t <= now && g < s->ghost_n[x] - 1)
		t += d[g++];
	chain_explicit_at(s, x, g, t);
}

/* Index the intermediate end times of replica ri's macro-step starting now; other
 * macro-steps with an end at one of them become explicit (from now on, not only from
 * the shared time: an event processed between now and then could otherwise meet a
 * virtual key).  Returns 1 when this one may be implicit, 0 when it must be explicit
 * (a shared time or a full bucket). */
static int chain_index(run_state *s, int ri, simtime_t now)
{
	const int64_t *d = s->ghost_d[ri];
	int64_t k = s->ghost_n[ri];
	gw_bucket *gw = s->gw;
	const int64_t mask = s->gw_n - 1;
	const int shift = s->gw_shift;
	simtime_t t = now;
	int imp = 1;

	for (int64_t g = 1; g < k; g++) {
		int64_t w = (t += d[g - 1]) >> shift;
		gw_bucket *b = &gw[w & mask];

		if (b->window != w) {
			b->window = w;
			b->n = b->full = 0;
		}
		for (int i = 0; i < b->n; i++) {
			const struct gw_entry *e = &b->e[i];

			if (e->time != t)
				continue;
			imp = 0;
			if (s->chain_imp[e->ri] && e->gen == s->chain_gen[e->ri])
				chain_explicit_now(s, e->ri, now);
		}
		if (b->n < GW_CAP)
			b->e[b->n++] = (struct gw_entry){t, ri, (int32_t)g, s->chain_gen[ri]};
		else
			b->full = imp = 0;
	}
	return imp;
}

/* A real event with key (t, sched, seq) is about to be processed: a placeholder of an
 * implicit macro-step at exactly t is ordered against it by the reference's key and
 * either processed now (it comes first: it only takes a seq, and the event has not
 * scheduled anything yet) or put in the tree to follow it. */
static void chain_hits(run_state *s, simtime_t t, simtime_t sched, uint64_t seq)
{
	gw_bucket *b = gw_find(s, t);

	if (!b)
		return;
	for (int i = 0; i < b->n; i++) {
		const struct gw_entry *e = &b->e[i];
		int x = e->ri;
		int64_t g = e->step;

		if (e->time != t || !s->chain_imp[x] || e->gen != s->chain_gen[x])
			continue;
		s->res->tie_hits++;
		if (tie_less(s, t, t - s->ghost_d[x][g - 1], g == 1 ? s->chain_s0[x] : SEQ_VIRTUAL, sched,
			     seq)) {
			s->chain_imp[x] = 0;
			s->ghost_step[x] = g + 1;
			rev_set(s, x, t + s->ghost_d[x][g], t, g == s->ghost_n[x] - 1 ? EV_STEP_END : EV_GHOST);
			s->res->macro_explicit++;
		} else {
			chain_explicit_at(s, x, g, t);
		}
	}
}

static void mlist_add(run_state *s, int x)
{
	if (s->mpos[x] >= 0)
		return;
	s->mpos[x] = s->nm;
	s->mlist[s->nm++] = x;
}

static void mlist_del(run_state *s, int x)
{
	int p = s->mpos[x];

	if (p < 0)
		return;
	s->mlist[p] = s->mlist[--s->nm];
	s->mpos[s->mlist[p]] = p;
	s->mpos[x] = -1;
}

/* Steps of replica x's macro-step that end before the event being processed at t:
 * placeholders processed (explicit), or end times before t (implicit: one at t would
 * have made it explicit in chain_hits). */
static int64_t macro_ended(run_state *s, int x, simtime_t t)
{
	if (!s->chain_imp[x])
		return s->ghost_step[x] - 1;
	while (s->cur_g[x] < s->ghost_n[x] && s->cur_t[x] < t)
		s->cur_t[x] += s->ghost_d[x][s->cur_g[x]++];
	return s->cur_g[x] - 1;
}

/* Replica x, in a macro-step, got a request: cut the macro-step back to its step in
 * flight, which becomes its last (the next step admits the request). */
static void macro_cut(run_state *s, int x)
{
	int64_t ended = s->m_ended[x], k = s->ghost_n[x];

	mlist_del(s, x);
	if (ended >= k - 1)
		return; /* its last step is already the one in flight */
	s->res->macro_cuts++;
	replica_macro_cut(s->reps[x], ended);
	{
		simtime_t t = s->chain_t0[x];

		for (int64_t i = 0; i <= ended; i++)
			t += s->ghost_d[x][i];
		if (s->chain_imp[x]) {
			/* Its end keyed as the reference's: after step `ended` - 1's end, at
			 * which no event was processed (or it would be explicit). */
			rev_put(s, x, t, t - s->ghost_d[x][ended], ended == 0 ? s->chain_s0[x] : SEQ_VIRTUAL,
				EV_STEP_END);
			s->chain_imp[x] = 0;
		} else {
			/* The pending placeholder is that step's end: make it the real one. */
			s->rev_kind[x] = EV_STEP_END;
		}
		s->ghost_n[x] = ended + 1;
		s->step_end[x] = t;
		s->chain_gen[x]++;
	}
}

/* horizon: the earliest time another event may read or feed replica ri (see
 * replica_begin_step_until); other replicas' step ends do neither. */
static int start_step(run_state *s, int ri, simtime_t horizon, fs_err *err)
{
	simtime_t now = ev_now(s->q);
	int64_t d;

	if (replica_in_step(s->reps[ri]) || !replica_has_work(s->reps[ri]))
		return 0;
	if (s->gw && horizon > now + gw_span(s))
		horizon = now + gw_span(s);
	d = replica_begin_step_until(s->reps[ri], now, horizon);
	if (s->pass && replica_macro_cuttable(s->reps[ri]))
		mlist_add(s, ri); /* before tree_update: its keys become lower bounds */
	tree_update(s, ri);
	if (d <= 0)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica %d has queued requests but could schedule none at t=%.6f s",
			       ri, now / 1e9);
	if (replica_step_count(s->reps[ri]) > 1) {
		/* A macro-step: implicit (one event at its end, keyed as the reference's
		 * last step end) unless it shares an end time with something. */
		int64_t k;

		s->ghost_d[ri] = replica_macro_steps(s->reps[ri], &s->ghost_n[ri]);
		k = s->ghost_n[ri];
		s->chain_t0[ri] = now;
		s->chain_s0[ri] = (*s->seq)++;
		s->chain_gen[ri]++;
		s->cur_g[ri] = 1;
		s->cur_t[ri] = now + s->ghost_d[ri][0];
		s->res->macro_steps++;
		if (chain_index(s, ri, now)) {
			s->chain_imp[ri] = 1;
			rev_put(s, ri, now + d, now + d - s->ghost_d[ri][k - 1], SEQ_VIRTUAL, EV_STEP_END);
		} else {
			s->res->macro_explicit++;
			s->ghost_step[ri] = 1;
			rev_put(s, ri, now + s->ghost_d[ri][0], now, s->chain_s0[ri], EV_GHOST);
		}
	} else {
		rev_set(s, ri, now + d, now, EV_STEP_END);
	}
	s->step_end[ri] = now + d;
	s->steps_started += replica_step_count(s->reps[ri]);
	return 0;
}

static int on_arrival(run_state *s, const trace_req *t, int64_t id, fs_err *err)
{
	router_pool_view view[FS_MAX_POOLS];
	sim_req *r = req_get(s);
	int pool, ri;

	if (!r)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for a request");
	r->id = id;
	r->arrival = ev_now(s->q);
	r->first_token = r->finish = -1;
	r->prompt = t->input_tokens;
	r->true_output = t->output_tokens;
	r->output = t->output_tokens < 1 ? 1 : t->output_tokens;
	r->max_tokens = t->max_tokens;
	r->category = t->category;
	r->prompt_bytes = t->prompt_bytes;
	r->status = RQ_NEW;
	r->pool = r->replica = -1;
	if (t->n_hashes > 0) {
		if (t->n_hashes > r->cap_hashes) {
			uint64_t *h = realloc(r->hashes, sizeof *h * (size_t)t->n_hashes);
			if (!h) {
				req_put(s, r);
				return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for prefix hashes");
			}
			r->hashes = h;
			r->cap_hashes = t->n_hashes;
		}
		memcpy(r->hashes, t->hashes, sizeof *r->hashes * (size_t)t->n_hashes);
		r->n_hashes = t->n_hashes;
		r->hash_block_tokens = t->hash_block_tokens;
	}
	s->res->arrived++;
	s->inflight++;
	pool_view(s, view);
	pool = router_pick_pool(s->rt, r, view, s->pol->npools);
	if (pool < 0) {
		/* No pool can hold it: vLLM's HTTP 400, counted against the largest pool. */
		int largest = 0;
		for (int p = 1; p < s->pol->npools; p++)
			if (s->pol->pools[p].max_model_len > s->pol->pools[largest].max_model_len)
				largest = p;
		r->pool = (int16_t)largest;
		r->status = RQ_REJECTED;
		r->finish = r->arrival;
		on_done(s, r);
		return 0;
	}
	ri = pick_replica(s, pool);
	r->pool = (int16_t)pool;
	r->replica = (int16_t)(ri - s->pool_first[pool]);
	if (replica_add(s->reps[ri], r, ev_now(s->q))) {
		on_done(s, r);
		return 0;
	}
	if (s->mpos[ri] >= 0)
		macro_cut(s, ri);
	tree_update(s, ri);
	/* The next arrival is not scheduled yet (its time is unknown here): one step. */
	return start_step(s, ri, ev_now(s->q), err);
}

/* Read ahead until the window is full or the trace ends.  Returns 0, or -1 with err
 * set (trace error or out of memory). */
static int la_fill(run_state *s, trace_reader *tr, fs_err *err)
{
	while (!s->la_eof && s->la_n < s->la_cap) {
		int i = (s->la_head + s->la_n) % s->la_cap, prev = (i + s->la_cap - 1) % s->la_cap;
		trace_req *e = &s->la[i];
		int got = trace_next(tr, e, err);

		if (got < 0)
			return -1;
		if (got == 0) {
			s->la_eof = 1;
			break;
		}
		if (e->n_hashes > 0) {
			if (e->n_hashes > s->la_hash_cap[i]) {
				uint64_t *h = realloc(s->la_hash[i], sizeof *h * (size_t)e->n_hashes);

				if (!h)
					return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for prefix hashes");
				s->la_hash[i] = h;
				s->la_hash_cap[i] = e->n_hashes;
			}
			memcpy(s->la_hash[i], e->hashes, sizeof *e->hashes * (size_t)e->n_hashes);
			e->hashes = s->la_hash[i];
		}
		/* Readers keep order; never go back (as the arrival before it ran). */
		if (s->la_n > 0 && e->arrival_ns < s->la[prev].arrival_ns)
			e->arrival_ns = s->la[prev].arrival_ns;
		s->la_n++;
	}
	return 0;
}

static int la_init(run_state *s)
{
	const policy_cfg *pol = s->pol;

	s->la_rr = pol->npools == 1 && pol->router.balance == BAL_ROUND_ROBIN &&
		   !pol->router.spillover && s->o->drain && !s->o->reference;
	s->la_cap = s->la_rr ? pol->pools[0].replicas : 1;
	s->la = calloc((size_t)s->la_cap, sizeof *s->la);
	s->la_hash = calloc((size_t)s->la_cap, sizeof *s->la_hash);
	s->la_hash_cap = calloc((size_t)s->la_cap, sizeof *s->la_hash_cap);
	return s->la && s->la_hash && s->la_hash_cap ? 0 : -1;
}

/* The earliest time an arrival may feed replica ri. */
static simtime_t arrival_horizon(const run_state *s, int ri)
{
	int n, m;

	/* Past arrivals (pass) only while steps far outnumber arrivals and the searches
	 * stay cheap: each arrival then pays a search among bounds (pick_replica) that
	 * plain macro-steps do not need, which pays off with several steps per arrival and
	 * a few replicas evaluated per search (many replicas with loose bounds, e.g.
	 * 1,280 lightly loaded ones, evaluate ~120 each).  Either way the results are the
	 * same. */
	if (s->pass && s->steps_started > 8 * s->res->arrived &&
	    s->bb_leaves <= 16 * s->bb_searches + 4096 && kv_counting(replica_kv(s->reps[ri])))
		return INT64_MAX; /* arrivals cut it back when they must (macro_cut) */
	if (!s->la_rr)
		return s->next_arrival;
	n = s->la_cap;
	m = (int)(((uint64_t)(ri - s->pool_first[0]) + (uint64_t)n - s->rr[0] % (uint64_t)n) % (uint64_t)n);
	if (m < s->la_n)
		return s->la[(s->la_head + m) % n].arrival_ns;
	return s->la_eof ? INT64_MAX : s->next_arrival;
}

static int take_sample(run_state *s)
{
	for (int p = 0; p < s->pol->npools; p++) {
		mx_sample x = {0};
		int64_t used = 0, total = 0;
		x.t_s = ev_now(s->q) / 1e9;
		x.pool = (int16_t)p;
		for (int i = s->pool_first[p]; i < s->pool_first[p + 1]; i++) {
			const kv_cache *kv = replica_kv(s->reps[i]);
			x.running += replica_num_running(s->reps[i]);
			x.waiting += replica_num_waiting(s->reps[i]);
			used += kv_used_blocks(kv);
			total += kv_total_blocks(kv);
		}
		x.kv_usage = total ? (double)used / total : 0.0;
		x.kv_used = used;
		x.kv_total = total;
		if (metrics_add_sample(s->m, &x))
			return -1;
	}
	return 0;
}

static void run_free(run_state *s)
{
	sim_req *r;

	if (s->reps)
		for (int i = 0; i < s->nreps; i++)
			replica_destroy(s->reps[i]);
	free(s->reps);
	free(s->step_end);
	free(s->ghost_step);
	free(s->rev_time);
	free(s->rev_seq);
	free(s->rev_kind);
	free(s->rtree);
	free(s->rev_sched);
	free(s->ghost_d);
	free(s->ghost_n);
	free(s->chain_imp);
	free(s->chain_t0);
	free(s->chain_s0);
	free(s->chain_gen);
	free(s->mlist);
	free(s->mpos);
	free(s->m_ended);
	free(s->cur_g);
	free(s->cur_t);
	free(s->gw);
	if (s->la_hash)
		for (int i = 0; i < s->la_cap; i++)
			free(s->la_hash[i]);
	free(s->la_hash);
	free(s->la_hash_cap);
	free(s->la);
	free(s->reps_pool);
	free(s->key1);
	free(s->key2);
	for (int p = 0; p < FS_MAX_POOLS; p++)
		free(s->tree[p]);
	while ((r = s->free_list)) {
		s->free_list = r->next;
		free(r->blocks);
		free(r->hashes);
		free(r);
	}
	router_destroy(s->rt);
	ev_destroy(s->q);
}

/* With --no-drain a step may be in flight at the end: only the part before the
 * end counts as busy time. */
static int64_t overshoot(const run_state *s, int i)
{
	return s->step_end[i] > s->res->end ? s->step_end[i] - s->res->end : 0;
}

static int check_conservation(run_state *s, fs_err *err)
{
	fleet_result *res = s->res;

	if (res->arrived != res->completed + res->rejected + res->unfinished)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "conservation broken: %lld arrived != %lld completed + %lld rejected + %lld unfinished",
			       (long long)res->arrived, (long long)res->completed, (long long)res->rejected,
			       (long long)res->unfinished);
	for (int i = 0; i < s->nreps; i++) {
		replica_stats st;
		replica_get_stats(s->reps[i], &st);
		st.busy_ns -= overshoot(s, i);
		if (kv_used_blocks(replica_kv(s->reps[i])) != 0)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica %d still holds %lld KV blocks after the run",
				       i, (long long)kv_used_blocks(replica_kv(s->reps[i])));
		if (st.busy_ns > res->end)
			return fs_fail(err, FS_EXIT_RUNTIME, "replica %d busy %.3f s longer than the run's %.3f s",
				       i, st.busy_ns / 1e9, res->end / 1e9);
	}
	return 0;
}

int fleet_run(const policy_cfg *pol, trace_reader *tr, const fleet_opts *o, metrics *m,
	      fleet_result *res, fs_err *err)
{
	run_state s;
	ev_event ev;
	int trace_done = 0, rc = -1;
	int64_t next_id = 0, events = 0;
	int reference = o->reference;

	memset(&s, 0, sizeof s);
	memset(res, 0, sizeof *res);
	s.pol = pol;
	s.o = o;
	s.m = m;
	s.res = res;
	res->first_arrival = res->last_arrival = -1;
	if (ev_create(&s.q)) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory creating the event queue");
		goto out;
	}
	if (router_create(&pol->router, pol->npools, o->seed, &s.rt, err))
		goto out;
	for (int p = 0; p < pol->npools; p++) {
		s.pool_first[p] = s.nreps;
		s.nreps += pol->pools[p].replicas;
	}
	s.pool_first[pol->npools] = s.nreps;
	s.reps = calloc((size_t)s.nreps, sizeof *s.reps);
	s.step_end = malloc((size_t)s.nreps * sizeof *s.step_end);
	s.ghost_step = calloc((size_t)s.nreps, sizeof *s.ghost_step);
	s.reps_pool = malloc((size_t)s.nreps * sizeof *s.reps_pool);
	if (!s.reps || !s.step_end || !s.reps_pool || !s.ghost_step) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory for %d replicas", s.nreps);
		goto out;
	}
	for (int i = 0; i < s.nreps; i++)
		s.step_end[i] = -1;
	for (int p = 0; p < pol->npools; p++) {
		const pool_cfg *pc = &pol->pools[p];
		replica_cfg rc_ = {
			.max_num_seqs = pc->max_num_seqs,
			.max_num_batched_tokens = pc->max_num_batched_tokens,
			.max_model_len = pc->max_model_len,
			.block_size = pc->mem.block_size,
			.num_blocks = pc->plan.kv_blocks,
			.enable_prefix_caching = pc->enable_prefix_caching,
			.long_prefill_token_threshold = pc->long_prefill_token_threshold,
			.perf = &pc->perf,
			.fast_path = !reference,
		};
		for (int i = s.pool_first[p]; i < s.pool_first[p + 1]; i++)
			if (replica_create(&rc_, &s.reps[i], err)) {
				fs_failp(err, "pool '%s': ", pc->name);
				goto out;
			}
	}

	for (int p = 0; p < pol->npools; p++)
		for (int i = s.pool_first[p]; i < s.pool_first[p + 1]; i++)
			s.reps_pool[i] = (int8_t)p;
	if (tree_init(&s) || rtree_init(&s)) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory for the replica index");
		goto out;
	}
	if (la_init(&s)) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory for the trace window");
		goto out;
	}
	if (la_fill(&s, tr, err))
		goto out;
	if (s.la_n > 0) {
		if (!ev_schedule(s.q, s.la[s.la_head].arrival_ns, EV_ARRIVAL, 0, NULL))
			goto oom;
	} else {
		trace_done = 1;
	}
	s.next_arrival = s.la_n > 0 ? s.la[s.la_head].arrival_ns : INT64_MAX;
	if (!ev_schedule(s.q, 0, EV_SAMPLE, 0, NULL))
		goto oom;
	s.next_sample = 0;

	for (;;) {
		ev_event qh;
		int have_q = ev_peek(s.q, &qh), ri;

		/* Placeholders run in this inner loop: they do not touch the queue, so
		 * its head stays as peeked. */
		simtime_t qt = have_q ? qh.time : INT64_MAX;
		simtime_t qd = have_q ? (qh.kind == EV_ARRIVAL ? s.arr_sched : s.smp_sched) : 0;

		for (;;) {
			simtime_t top;

			ri = s.rtree[1];
			top = s.rev_time[ri];
			if (top > qt || top == INT64_MAX ||
			    (top == qt && tie_less(&s, qt, qd, qh.seq, s.rev_sched[ri], s.rev_seq[ri])))
				break;
			if (s.rev_kind[ri] != EV_GHOST)
				break;
			/* An intermediate step end of an explicit macro-step: its work was done
			 * at the macro-step's start; schedule the next end as the reference's
			 * step end would.  Nothing else changes, so the exit test below cannot
			 * either, and no clock is read (only events that do move it). */
			{
				int64_t j = s.ghost_step[ri]++;

				rev_set(&s, ri, top + s.ghost_d[ri][j], top,
					j == s.ghost_n[ri] - 1 ? EV_STEP_END : EV_GHOST);
			}
		}
		if (s.rev_time[ri] != INT64_MAX &&
		    (s.rev_time[ri] < qt ||
		     (s.rev_time[ri] == qt &&
		      tie_less(&s, qt, s.rev_sched[ri], s.rev_seq[ri], qd, qh.seq)))) {
			/* The replica's pending event comes first. */
			ev.time = s.rev_time[ri];
			ev.seq = s.rev_seq[ri];
			ev.kind = s.rev_kind[ri];
			ev.target = ri;
			ev.data = NULL;
			qd = s.rev_sched[ri];
			/* A step end: the pending slot is free until start_step refills it. */
			(void)ev_advance(s.q, ev.time); /* cannot fail: ev.time <= the queue's head */
			s.rev_time[ri] = INT64_MAX;
			s.chain_imp[ri] = 0;
		} else if (!have_q) {
			break;
		} else {
			ev_pop(s.q, &ev);
		}
		/* qd: the event's scheduling time. */
		if (s.gw)
			chain_hits(&s, ev.time, qd, ev.seq);
		if ((++events & 0xFFFF) == 0 && o->progress)
			o->progress(o->progress_ctx, ev.time / 1e9, res->arrived);
		switch (ev.kind) {
		case EV_ARRIVAL:
			if (res->first_arrival < 0)
				res->first_arrival = ev.time;
			res->last_arrival = ev.time;
			if (on_arrival(&s, &s.la[s.la_head], next_id++, err))
				goto out;
			s.la_head = (s.la_head + 1) % s.la_cap;
			s.la_n--;
			if (la_fill(&s, tr, err))
				goto out;
			if (s.la_n > 0) {
				simtime_t t = s.la[s.la_head].arrival_ns;

				if (!ev_schedule(s.q, t, EV_ARRIVAL, 0, NULL))
					goto oom;
				s.arr_sched = ev.time;
				s.next_arrival = t;
			} else {
				trace_done = 1;
				s.next_arrival = INT64_MAX;
			}
			break;
		case EV_STEP_END:
			s.step_end[ev.target] = -1;
			mlist_del(&s, ev.target);
			replica_end_step(s.reps[ev.target], ev.time, on_done, &s);
			tree_update(&s, ev.target);
			if (o->check_invariants && replica_check(s.reps[ev.target], err))
				goto out;
			{
				simtime_t h = arrival_horizon(&s, ev.target);

				if (start_step(&s, ev.target, h < s.next_sample ? h : s.next_sample, err))
					goto out;
			}
			if (s.rev_time[ev.target] == INT64_MAX)
				rtree_update(&s, ev.target); /* no new step: take it out of the tree */
			break;
		case EV_SAMPLE:
			if (take_sample(&s))
				goto oom;
			if (!ev_schedule(s.q, ev.time + o->metrics_interval, EV_SAMPLE, 0, NULL))
				goto oom;
			s.smp_sched = ev.time;
			s.next_sample = ev.time + o->metrics_interval;
			break;
		}
		if (s.failed)
			goto oom;
		if (s.order_bug) {
			fs_fail(err, FS_EXIT_RUNTIME,
				"internal error: two events at t=%.9f s the fast path cannot order "
				"(run with --reference and report it)", ev.time / 1e9);
			goto out;
		}
		if (trace_done && (!o->drain || s.inflight == 0))
			break;
	}
	res->end = ev_now(s.q);
	if (!o->drain)
		for (int i = 0; i < s.nreps; i++)
			replica_abort_all(s.reps[i], on_done, &s);
	if (s.failed)
		goto oom;
	/* A final sample at the end time, so plots reach the run's end. */
	if (take_sample(&s))
		goto oom;
	for (int p = 0; p < pol->npools; p++) {
		for (int i = s.pool_first[p]; i < s.pool_first[p + 1]; i++) {
			replica_stats st;
			replica_get_stats(s.reps[i], &st);
			res->pools[p].steps += st.steps;
			res->pools[p].busy_ns += st.busy_ns - overshoot(&s, i);
			res->pools[p].preemptions += st.preemptions;
			res->pools[p].prefix_hit_tokens += st.prefix_hit_tokens;
		}
	}
	if (check_conservation(&s, err))
		goto out;
	rc = 0;
	goto out;
oom:
	fs_fail(err, FS_EXIT_RUNTIME, "out of memory during the simulation");
out:
	run_free(&s);
	return rc;
}

int fleet_summarize(const policy_cfg *pol, const fleet_result *res, const metrics *m,
		    const mx_slo *slo, int p, metrics_summary *o, fs_err *err)
{
	double span = res->end / 1e9;

	memset(o, 0, sizeof *o);
	/* Provisioned time runs from t=0 (the trace's first timestamp) to the run's end:
	 * the fleet is up for the whole replay, idle or not. */
	o->makespan_s = span;
	if (p < 0) {
		snprintf(o->pool, sizeof o->pool, "*");
		for (int i = 0; i < pol->npools; i++) {
			const pool_cfg *pc = &pol->pools[i];
			o->replicas += pc->replicas;
			o->gpus += pc->replicas * pc->mem.tp;
			o->gpu_busy_s += res->pools[i].busy_ns / 1e9 * pc->mem.tp;
			o->steps += res->pools[i].steps;
			if (i == 0)
				snprintf(o->gpu, sizeof o->gpu, "%s", pc->gpu.name);
			else if (strcmp(o->gpu, pc->gpu.name))
				snprintf(o->gpu, sizeof o->gpu, "mixed");
		}
	} else {
		const pool_cfg *pc = &pol->pools[p];
		snprintf(o->pool, sizeof o->pool, "%s", pc->name);
		snprintf(o->gpu, sizeof o->gpu, "%s", pc->gpu.name);
		o->replicas = pc->replicas;
		o->gpus = pc->replicas * pc->mem.tp;
		o->gpu_busy_s = res->pools[p].busy_ns / 1e9 * pc->mem.tp;
		o->steps = res->pools[p].steps;
	}
	if (metrics_summarize(m, p, slo, o))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory summarising the run");
	return 0;
}
