#include "sim/fleet.h"

#include "models/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/balance.h"
#include "sim/event.h"
#include "sim/gwheel.h"
#include "sim/lookahead.h"
#include "sim/replica.h"
#include "util/simtime.h"

enum { EV_ARRIVAL = 1, EV_STEP_END, EV_SAMPLE, EV_GHOST };

/*
 * Event order.  The reference engine orders events by (time, seq), seq being the
 * order of scheduling; an event is scheduled while another (its parent) is processed.
 * Ordering by (time, sched, seq) - sched being the parent's time - is the same order
 * (sim/event.h, ev_key), and it lets a macro-step skip its placeholders: the
 * reference's per-step end events, which do nothing but take a seq each.  The last
 * step end of a macro-step whose placeholders are skipped ("implicit") gets the key
 * (T, e, EV_SEQ_VIRTUAL), e being the end time of the step before it: that is its
 * reference key unless another event scheduled at exactly e sits at time T too, and
 * that can happen only if some event was processed at e.  So the fleet indexes every
 * macro-step's intermediate end times by exact time (the ghost-time wheel,
 * sim/gwheel.h) and makes a macro-step explicit - placeholders in its pending slot
 * from that step on, as the reference - when
 *   - a real event (arrival, sample, step end) is processed at one of its
 *     intermediate end times: the placeholder is then ordered against that event by
 *     its key (time, previous end, seq) and processed at its place; or
 *   - another macro-step has an intermediate end at the same time (checked when the
 *     later one starts: the later one is explicit from its start, the earlier one from
 *     its next step end).
 * A comparison that would need a virtual seq to break a tie is then impossible; the
 * run fails loudly if one happens (ev_key_less's `ambiguous`) rather than guess.  A
 * macro-step cut back by an arrival (see pass in run_state) keeps the same rule: its
 * new last end is keyed after the end before it.
 *
 * Each replica's one pending step event (a step end or a placeholder) lives outside
 * the queue, in an ev_slots: a placeholder then costs one leaf-to-root pass instead
 * of a heap pop and push, and next_event takes whichever of the slots and the queue
 * comes first by key, the queue's own order, so the event order is unchanged.
 */

int fleet_pool_prepare(pool_cfg *p, const llm_spec *m, fs_err *err)
{
	int64_t need_blocks;

	if (p->replicas < 1)
		return fs_fail(err, FS_EXIT_INPUT, "pool '%s': replicas must be at least 1", p->name);
	p->default_max_tokens = m->default_max_tokens;
	p->mem.max_num_batched_tokens = p->max_num_batched_tokens;
	p->mem.max_num_seqs = p->max_num_seqs;
	if (mem_plan_compute(&p->gpu, m, &p->mem, &p->plan, err))
		return fs_failp(err, "pool '%s': ", p->name);
	if (perf_init(&p->perf, &p->gpu, m, &p->mem, err))
		return fs_failp(err, "pool '%s': ", p->name);
	/* One max_model_len sequence must fit beside the null block (vLLM refuses to
	 * start otherwise). */
	need_blocks = mem_blocks_for_tokens(&p->plan, p->max_model_len) + (p->plan.eng->null_block ? 1 : 0);
	if (p->plan.kv_blocks < need_blocks)
		return fs_fail(err, FS_EXIT_INPUT,
			       "pool '%s': max_model_len %d needs %lld KV blocks but %s x%d of %s holds only "
			       "%lld (%lld tokens); lower max_model_len or raise tensor_parallel_size",
			       p->name, p->max_model_len, (long long)need_blocks, p->gpu.name, p->mem.tp,
			       m->name, (long long)p->plan.kv_blocks, (long long)p->plan.kv_tokens);
	return 0;
}

/* One replica's step state in the event loop, in one place: the router's search reads
 * it for several replicas per arrival (macro_load), and separate arrays cost a cache
 * miss each.  Cache-line aligned; the fields macro_load reads come first (one line). */
typedef struct rep_state {
	/* Macro-steps in flight: the durations of the engine steps the step stands for
	 * (the replica's array, valid until its step ends), how many, and the index of
	 * the step whose end is pending. */
	_Alignas(64) const int64_t *ghost_d;
	int64_t ghost_n;
	int64_t ghost_step;
	int64_t m_ended;         /* steps of it ended before the arrival (set by macro_load) */
	int64_t cur_g;           /* implicit macro-steps: next placeholder not yet passed */
	simtime_t cur_t;         /* and its time */
	/* Implicit macro-steps (see "Event order"): whether the step in flight is one, its
	 * start time and the seq its first placeholder took. */
	int8_t chain_imp;
	uint32_t chain_gen;      /* bumped per macro-step and per cut: wheel entries of
				  * older ones are void */
	simtime_t chain_t0;
	uint64_t chain_s0;
	simtime_t step_end;      /* end of its step in flight, -1 if none */
	const void *touch[REPLICA_TOUCH]; /* what the end of its step in flight touches
					    * first (replica_next_touch at the step's start),
					    * prefetched just before that event */
} rep_state;

/* Everything one run owns; freed together in run_free. */
typedef struct run_state {
	const policy_cfg *pol;
	const fleet_opts *o;
	metrics *m;
	fleet_result *res;
	trace_reader *tr;        /* borrowed */
	ev_queue *q;
	ev_slots *slots;         /* each replica's pending step event */
	router *rt;
	balance *bal;            /* replica choice */
	gw_wheel *gw;            /* ghost-time wheel; NULL with --reference */
	la_ring *la;             /* the trace's next requests */
	replica **reps;          /* all replicas, pool by pool */
	int nreps;
	int pool_first[FS_MAX_POOLS + 1];
	rep_state *rs;           /* per replica (nreps + 1), see rep_state */
	/* Macro-steps past arrivals (pass): with least_tokens / least_kv the router reads
	 * every replica's load, which a macro-step has applied ahead of time.  While KV is
	 * counted, a macro-step may still run past arrivals: such a replica is bounded in
	 * the balance (its keys are lower bounds), balance_pick evaluates its load as of
	 * the arrival (macro_load) where the bounds do not rule it out, and the replica
	 * that gets the request is cut back to its step in flight (macro_cut). */
	int pass;
	int64_t steps_started;   /* engine steps begun so far (macro-steps count all theirs) */
	int order_bug;           /* two events the key order cannot tell apart (a bug) */
	/* The read-ahead window holds one arrival, unless arrivals go round robin over a
	 * single pool without spill-over (la_rr): the k-th next arrival then goes to a
	 * replica known now (k positions after the counter, later if some are rejected),
	 * so a replica's macro-steps need to stop only at the next arrival *to it*, and
	 * the window holds one arrival per replica of the pool.  Not with --no-drain: the
	 * run stops at the last arrival, and no replica may have applied steps beyond it
	 * then. */
	int la_rr;
	/* Round robin without spill-over and with drain: no arrival reads a replica's
	 * load, so one whose batch is full (replica_admits_none) ignores arrivals. */
	int rr_blind;
	rq_pool *reqs;           /* every request (the replicas park and unpark theirs) */
	int64_t inflight;
	int64_t next_id, events;
	int trace_done;
	simtime_t next_arrival;  /* time of the pending arrival event, INT64_MAX if none */
	simtime_t next_sample;   /* time of the pending sample event */
	/* The time series, kept here until run_finish hands it to the metrics: past
	 * FLEET_MAX_GRID_SAMPLES grid samples per pool, every other one is dropped and the
	 * interval doubles, so memory and sample events stay bounded whatever the span. */
	mx_sample *smp;
	size_t nsmp, capsmp;
	int64_t ticks;           /* grid samples (one per pool each) in smp */
	simtime_t interval;      /* sampling interval now: metrics_interval x 2^k */
	int failed;              /* allocation failure inside a callback */
} run_state;

/* Grid samples kept per pool (even, so thinning keeps the newest): with the final
 * sample at the end, at most FLEET_MAX_GRID_SAMPLES + 2 = 100,000 per pool. */
#define FLEET_MAX_GRID_SAMPLES 99998

static int oom(fs_err *err)
{
	return fs_fail(err, FS_EXIT_RUNTIME, "out of memory during the simulation");
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
	rq_pool_put(s->reqs, r);
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

/* Make replica x's implicit macro-step explicit from its placeholder `g` (1-based:
 * the end of its step g - 1, at time t): that placeholder goes into its slot with its
 * reference key, (t, end of the step before, seq), the seq virtual after the first. */
static void chain_explicit_at(run_state *s, int x, int64_t g, simtime_t t)
{
	ev_key k = {t, t - s->rs[x].ghost_d[g - 1], g == 1 ? s->rs[x].chain_s0 : EV_SEQ_VIRTUAL};

	s->rs[x].chain_imp = 0;
	s->rs[x].ghost_step = g;
	ev_slots_put(s->slots, x, &k, EV_GHOST);
	s->res->macro_explicit++;
}

/* Make replica x's implicit macro-step explicit from its first placeholder after
 * now (earlier ones are past: no event was processed at their times, or x would have
 * been made explicit then). */
static void chain_explicit_now(run_state *s, int x, simtime_t now)
{
	const int64_t *d = s->rs[x].ghost_d;
	simtime_t t = s->rs[x].chain_t0 + d[0];
	int64_t g = 1;

	/* The caller found one of its placeholders after now, so this stops there. */
	while (t <= now && g < s->rs[x].ghost_n - 1)
		t += d[g++];
	chain_explicit_at(s, x, g, t);
}

/* gw_index met another macro-step's intermediate end at a time of the one starting
 * now: that one becomes explicit from now on (not only from the shared time: an event
 * processed between now and then could otherwise meet a virtual key). */
static void chain_meet(void *ctx, const gw_entry *e)
{
	run_state *s = ctx;

	if (s->rs[e->owner].chain_imp && e->gen == s->rs[e->owner].chain_gen)
		chain_explicit_now(s, e->owner, ev_now(s->q));
}

/* A real event with key k is about to be processed: a placeholder of an implicit
 * macro-step at exactly its time is ordered against it by the reference's key and
 * either processed now (it comes first: it only takes a seq, and the event has not
 * scheduled anything yet) or put in its slot to follow it. */
static void chain_hits(run_state *s, const ev_key *k)
{
	const gw_entry *es;
	simtime_t t = k->time;
	int n = gw_find(s->gw, t, &es);

	for (int i = 0; i < n; i++) {
		const gw_entry *e = &es[i];
		int x = e->owner;
		int64_t g = e->step;
		ev_key gk;

		if (e->time != t || !s->rs[x].chain_imp || e->gen != s->rs[x].chain_gen)
			continue;
		s->res->tie_hits++;
		gk = (ev_key){t, t - s->rs[x].ghost_d[g - 1], g == 1 ? s->rs[x].chain_s0 : EV_SEQ_VIRTUAL};
		if (ev_key_less(&gk, k, &s->order_bug)) {
			s->rs[x].chain_imp = 0;
			s->rs[x].ghost_step = g + 1;
			ev_slots_set(s->slots, s->q, x, t + s->rs[x].ghost_d[g], t,
				     g == s->rs[x].ghost_n - 1 ? EV_STEP_END : EV_GHOST);
			s->res->macro_explicit++;
		} else {
			chain_explicit_at(s, x, g, t);
		}
	}
}

/* Steps of replica x's macro-step that end before the event being processed at t:
 * placeholders processed (explicit), or end times before t (implicit: one at t would
 * have made it explicit in chain_hits). */
static int64_t macro_ended(run_state *s, int x, simtime_t t)
{
	if (!s->rs[x].chain_imp)
		return s->rs[x].ghost_step - 1;
	while (s->rs[x].cur_g < s->rs[x].ghost_n && s->rs[x].cur_t < t)
		s->rs[x].cur_t += s->rs[x].ghost_d[s->rs[x].cur_g++];
	return s->rs[x].cur_g - 1;
}

/* balance_view_fn: replica x's load as of now, inside its macro-step. */
static void macro_load(void *ctx, int x, int64_t *out, int64_t *used)
{
	run_state *s = ctx;

	s->rs[x].m_ended = macro_ended(s, x, ev_now(s->q));
	replica_macro_view(s->reps[x], s->rs[x].m_ended, out, used);
}

/* Replica x, in a macro-step, got a request: cut the macro-step back to its step in
 * flight, which becomes its last (the next step admits the request). */
static void macro_cut(run_state *s, int x)
{
	int64_t ended = s->rs[x].m_ended, k = s->rs[x].ghost_n;
	simtime_t t = s->rs[x].chain_t0;

	balance_unbound(s->bal, x);
	if (ended >= k - 1)
		return; /* its last step is already the one in flight */
	s->res->macro_cuts++;
	replica_macro_cut(s->reps[x], ended);
	for (int64_t i = 0; i <= ended; i++)
		t += s->rs[x].ghost_d[i];
	if (s->rs[x].chain_imp) {
		/* Its end keyed as the reference's: after step `ended` - 1's end, at which no
		 * event was processed (or it would be explicit). */
		ev_key key = {t, t - s->rs[x].ghost_d[ended], ended == 0 ? s->rs[x].chain_s0 : EV_SEQ_VIRTUAL};

		ev_slots_put(s->slots, x, &key, EV_STEP_END);
		s->rs[x].chain_imp = 0;
	} else {
		/* The pending placeholder is that step's end: make it the real one. */
		ev_slots_set_kind(s->slots, x, EV_STEP_END);
	}
	s->rs[x].ghost_n = ended + 1;
	s->rs[x].step_end = t;
	s->rs[x].chain_gen++;
}

/* Replica ri's step now is a macro-step of d ns: implicit (one event at its end,
 * keyed as the reference's last step end) unless it shares an end time with
 * something. */
static void start_macro(run_state *s, int ri, simtime_t now, int64_t d)
{
	const int64_t *gd;
	int64_t k;
	ev_key key;

	gd = s->rs[ri].ghost_d = replica_macro_steps(s->reps[ri], &s->rs[ri].ghost_n);
	k = s->rs[ri].ghost_n;
	s->rs[ri].chain_t0 = now;
	s->rs[ri].chain_s0 = ev_take_seq(s->q);
	s->rs[ri].chain_gen++;
	s->rs[ri].cur_g = 1;
	s->rs[ri].cur_t = now + gd[0];
	s->res->macro_steps++;
	if (gw_index(s->gw, now, gd, k, ri, s->rs[ri].chain_gen, chain_meet, s)) {
		s->rs[ri].chain_imp = 1;
		key = (ev_key){now + d, now + d - gd[k - 1], EV_SEQ_VIRTUAL};
		ev_slots_put(s->slots, ri, &key, EV_STEP_END);
	} else {
		s->res->macro_explicit++;
		s->rs[ri].ghost_step = 1;
		key = (ev_key){now + gd[0], now, s->rs[ri].chain_s0};
		ev_slots_put(s->slots, ri, &key, EV_GHOST);
	}
}

/* horizon: the earliest time another event may read or feed replica ri (see
 * replica_begin_step_until); other replicas' step ends do neither.  Returns 0, or -1
 * with err set. */
static int start_step(run_state *s, int ri, simtime_t horizon, fs_err *err)
{
	simtime_t now = ev_now(s->q);
	int64_t d;

	if (replica_in_step(s->reps[ri]) || !replica_has_work(s->reps[ri]))
		return 0;
	if (s->gw && horizon > now + gw_span(s->gw))
		horizon = now + gw_span(s->gw);
	d = replica_begin_step_until(s->reps[ri], now, horizon);
	if (d < 0)
		return oom(err);
	if (s->pass && replica_macro_cuttable(s->reps[ri]))
		balance_bound(s->bal, ri); /* before balance_update: its keys become lower bounds */
	balance_update(s->bal, ri, s->reps[ri], ev_now(s->q));
	if (d <= 0)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "replica %d has queued requests but could schedule none at t=%.6f s",
			       ri, st_to_s(now));
	if (replica_step_count(s->reps[ri]) > 1)
		start_macro(s, ri, now, d);
	else
		ev_slots_set(s->slots, s->q, ri, now + d, now, EV_STEP_END);
	s->rs[ri].step_end = now + d;
	replica_next_touch(s->reps[ri], s->rs[ri].touch);
	s->steps_started += replica_step_count(s->reps[ri]);
	return 0;
}

/* Copy trace request t into a fresh request r.  Returns 0, or -1 (out of memory for
 * its prefix hashes; r unchanged beyond its scalar fields). */
static int req_fill(sim_req *r, const trace_req *t, int64_t id, simtime_t now)
{
	r->id = id;
	r->arrival = now;
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

			if (!h)
				return -1;
			r->hashes = h;
			r->cap_hashes = t->n_hashes;
		}
		memcpy(r->hashes, t->hashes, sizeof *r->hashes * (size_t)t->n_hashes);
		r->n_hashes = t->n_hashes;
		r->hash_block_tokens = t->hash_block_tokens;
	}
	return 0;
}

/* Route trace request t, arriving now, to a pool and a replica and start that
 * replica's step if it is idle.  Returns 0, or -1 with err set. */
static int route_request(run_state *s, const trace_req *t, int64_t id, fs_err *err)
{
	router_pool_view view[FS_MAX_POOLS];
	sim_req *r = rq_pool_get(s->reqs);
	int pool, ri;

	if (!r)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for a request");
	if (req_fill(r, t, id, ev_now(s->q))) {
		rq_pool_put(s->reqs, r);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for prefix hashes");
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
	ri = balance_pick(s->bal, pool, ev_now(s->q), macro_load, s);
	r->pool = (int16_t)pool;
	r->replica = (int16_t)(ri - s->pool_first[pool]);
	switch (replica_add(s->reps[ri], r, ev_now(s->q))) {
	case 0: break;
	case 1: on_done(s, r); return 0; /* rejected: over max_model_len */
	default:
		rq_pool_put(s->reqs, r);
		return oom(err);
	}
	/* A full batch admits nobody before its macro-step ends: the request only joins
	 * the queue, and the replica stays bounded (its outstanding tokens after the
	 * last step, the request's included, are still the least over the macro-step). */
	if (replica_admits_none(s->reps[ri]))
		s->res->macro_passed += replica_step_count(s->reps[ri]) > 1;
	else if (balance_bounded(s->bal, ri))
		macro_cut(s, ri);
	balance_update(s->bal, ri, s->reps[ri], ev_now(s->q));
	/* The next arrival is not scheduled yet (its time is unknown here): one step. */
	return start_step(s, ri, ev_now(s->q), err);
}

/* The earliest time an arrival may feed replica ri. */
static simtime_t arrival_horizon(const run_state *s, int ri)
{
	const trace_req *t;
	const replica *r = s->reps[ri];
	int n, m;
	/* A full batch admits nobody before its next finish, which ends any macro-step:
	 * an arrival then only joins the queue and changes none of its steps (route_request
	 * does not cut it).  In an overloaded fleet that is most arrivals. */
	int full = replica_num_running(r) >= replica_get_cfg(r)->max_num_seqs;

	if (full && s->rr_blind)
		return INT64_MAX;
	/* Past arrivals (pass) only while steps far outnumber arrivals and the searches
	 * stay cheap: each arrival then pays a search among bounds (balance_pick) that
	 * plain macro-steps do not need, which pays off with several steps per arrival and
	 * a few replicas evaluated per search (many replicas with loose bounds, e.g.
	 * 1,280 lightly loaded ones, evaluate ~120 each).  A full replica passes whatever
	 * the searches cost so far: no arrival cuts it, so it saves an event per step
	 * (that rule also keeps pass from locking itself out after costly searches early
	 * in a run).  Either way the results are the same. */
	if (s->pass && s->steps_started > 8 * s->res->arrived && kv_counting(replica_kv(r))) {
		int64_t searches, leaves;

		balance_search_stats(s->bal, &searches, &leaves);
		if (full || leaves <= 16 * searches + 4096)
			return INT64_MAX; /* arrivals cut it back when they must (macro_cut) */
	}
	if (!s->la_rr)
		return s->next_arrival;
	n = la_capacity(s->la);
	m = (int)(((uint64_t)(ri - s->pool_first[0]) + (uint64_t)n -
		   balance_rr_count(s->bal, 0) % (uint64_t)n) % (uint64_t)n);
	if ((t = la_peek(s->la, m)))
		return t->arrival_ns;
	return la_eof(s->la) ? INT64_MAX : s->next_arrival;
}

static int take_sample(run_state *s)
{
	if (s->nsmp + (size_t)s->pol->npools > s->capsmp) {
		size_t cap = s->capsmp ? 2 * s->capsmp : 1024;
		mx_sample *p;

		while (cap < s->nsmp + (size_t)s->pol->npools)
			cap *= 2;
		p = realloc(s->smp, cap * sizeof *p);
		if (!p)
			return -1;
		s->smp = p;
		s->capsmp = cap;
	}
	for (int p = 0; p < s->pol->npools; p++) {
		mx_sample x = {0};
		int64_t used = 0, total = 0;
		x.t_s = st_to_s(ev_now(s->q));
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
		s->smp[s->nsmp++] = x;
	}
	return 0;
}

/* Past the cap: keep the even grid samples (times 0, 2i, 4i, ...: the grid of the
 * doubled interval) and double the interval.  Depends on simulated time only, so runs
 * stay deterministic. */
static void thin_samples(run_state *s)
{
	size_t np = (size_t)s->pol->npools, k = 0;

	for (int64_t t = 0; t < s->ticks; t += 2, k++)
		memmove(&s->smp[k * np], &s->smp[(size_t)t * np], np * sizeof *s->smp);
	s->nsmp = k * np;
	s->ticks = (int64_t)k;
	s->interval *= 2;
}

/* The next event to process, from the queue or a replica's slot.  Placeholders of
 * explicit macro-steps met on the way are run here: their work was done at the
 * macro-step's start, so each only schedules the next end as the reference's step end
 * would; nothing else changes and no clock is read.  Returns 1 and *ev (ev->sched:
 * when it was scheduled), or 0 when no event is left. */
static int next_event(run_state *s, ev_event *ev)
{
	ev_key head, k;
	int have_q = ev_peek_key(s->q, &head), ri, kind;

	/* Placeholders do not touch the queue, so its head stays as peeked. */
	while ((ri = ev_slots_first(s->slots, &head, &kind)) >= 0 && kind == EV_GHOST) {
		int64_t j = s->rs[ri].ghost_step++;

		ev_slots_take(s->slots, ri, &k, NULL);
		ev_slots_set(s->slots, s->q, ri, k.time + s->rs[ri].ghost_d[j], k.time,
			     j == s->rs[ri].ghost_n - 1 ? EV_STEP_END : EV_GHOST);
	}
	if (ri >= 0) {
		/* A step end: the slot is free until start_step refills it. */
		ev_slots_take(s->slots, ri, &k, &kind);
		*ev = (ev_event){.time = k.time, .seq = k.seq, .sched = k.sched, .kind = kind, .target = ri};
		(void)ev_advance(s->q, ev->time); /* cannot fail: ev->time <= the queue's head */
		s->rs[ri].chain_imp = 0;
		return 1;
	}
	return have_q ? ev_pop(s->q, ev) : 0;
}

/* The head of the read-ahead window arrives: route it and schedule the next.
 * Returns 0, or -1 with err set. */
static int on_arrival(run_state *s, const ev_event *ev, fs_err *err)
{
	const trace_req *t;

	if (s->res->first_arrival < 0)
		s->res->first_arrival = ev->time;
	s->res->last_arrival = ev->time;
	if (route_request(s, la_peek(s->la, 0), s->next_id++, err))
		return -1;
	la_drop(s->la);
	if (la_fill(s->la, s->tr, err))
		return -1;
	if ((t = la_peek(s->la, 0))) {
		if (!ev_schedule(s->q, t->arrival_ns, EV_ARRIVAL, 0, NULL))
			return oom(err);
		s->next_arrival = t->arrival_ns;
	} else {
		s->trace_done = 1;
		s->next_arrival = INT64_MAX;
	}
	return 0;
}

/* Replica ev->target's step ends: finish it and start the next.  Returns 0, or -1
 * with err set. */
static int on_step_end(run_state *s, const ev_event *ev, fs_err *err)
{
	int ri = ev->target;
	simtime_t h;

	s->rs[ri].step_end = -1;
	balance_unbound(s->bal, ri);
	replica_end_step(s->reps[ri], ev->time, on_done, s);
	if (s->o->check_invariants && replica_check(s->reps[ri], err))
		return -1;
	h = arrival_horizon(s, ri);
	if (start_step(s, ri, h < s->next_sample ? h : s->next_sample, err))
		return -1;
	/* A step started re-read the keys already (nothing searched in between). */
	if (!replica_in_step(s->reps[ri]))
		balance_update(s->bal, ri, s->reps[ri], ev_now(s->q));
	ev_slots_settle(s->slots, ri); /* no new step: take it out of the tree */
	return 0;
}

/* Record the pools' state and schedule the next sample.  Returns 0, or -1 with err
 * set. */
static int on_sample(run_state *s, const ev_event *ev, fs_err *err)
{
	if (take_sample(s))
		return oom(err);
	if (++s->ticks > FLEET_MAX_GRID_SAMPLES)
		thin_samples(s);
	if (!ev_schedule(s->q, ev->time + s->interval, EV_SAMPLE, 0, NULL))
		return oom(err);
	s->next_sample = ev->time + s->interval;
	return 0;
}

static void run_free(run_state *s)
{
	if (s->reps)
		for (int i = 0; i < s->nreps; i++)
			replica_destroy(s->reps[i]);
	free(s->reps);
	free(s->rs);
	gw_destroy(s->gw);
	la_destroy(s->la);
	balance_destroy(s->bal);
	ev_slots_destroy(s->slots);
	rq_pool_destroy(s->reqs);
	router_destroy(s->rt);
	ev_destroy(s->q);
	free(s->smp);
}

/* With --no-drain a step may be in flight at the end: only the part before the
 * end counts as busy time. */
static int64_t overshoot(const run_state *s, int i)
{
	return s->rs[i].step_end > s->res->end ? s->rs[i].step_end - s->res->end : 0;
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
				       i, st_to_s(st.busy_ns), st_to_s(res->end));
	}
	return 0;
}

/* Create the router and every pool's replicas.  Returns 0, or -1 with err set (what
 * was created is s's: run_free frees it). */
static int create_replicas(run_state *s, fs_err *err)
{
	const policy_cfg *pol = s->pol;

	if (router_create(&pol->router, pol->npools, s->o->seed, &s->rt, err))
		return -1;
	for (int p = 0; p < pol->npools; p++) {
		s->pool_first[p] = s->nreps;
		s->nreps += pol->pools[p].replicas;
	}
	s->pool_first[pol->npools] = s->nreps;
	s->reps = calloc((size_t)s->nreps, sizeof *s->reps);
	s->rs = aligned_alloc(_Alignof(rep_state), ((size_t)s->nreps + 1) * sizeof *s->rs);
	if (s->rs)
		memset(s->rs, 0, ((size_t)s->nreps + 1) * sizeof *s->rs);
	if (!s->reps || !s->rs)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for %d replicas", s->nreps);
	for (int i = 0; i < s->nreps; i++)
		s->rs[i].step_end = -1;
	for (int p = 0; p < pol->npools; p++) {
		const pool_cfg *pc = &pol->pools[p];
		replica_cfg rc_ = {
			.max_num_seqs = pc->max_num_seqs,
			.max_num_batched_tokens = pc->max_num_batched_tokens,
			.max_model_len = pc->max_model_len,
			.block_size = pc->plan.block_size,
			.num_blocks = pc->plan.kv_blocks,
			.enable_prefix_caching = pc->enable_prefix_caching,
			.long_prefill_token_threshold = pc->long_prefill_token_threshold,
			.perf = &pc->perf,
			.fast_path = !s->o->reference,
			.reserve_full_isl = pc->plan.eng->reserve_full_isl,
			.async_scheduling = pc->async_scheduling,
			.null_block = pc->plan.eng->null_block,
			.state_blocks = pc->plan.state_blocks,
			.swa_mult = pc->plan.full_mult == 0 ? pc->plan.swa_mult - 1 : pc->plan.swa_mult,
			.swa_window_blocks = pc->plan.swa_window_blocks,
			.all_sliding = pc->plan.full_mult == 0,
			.default_max_tokens = pc->default_max_tokens,
			.default_max_tokens_caps = pc->plan.eng->gen_max_tokens_cap,
			.pool = s->reqs,
		};
		for (int i = s->pool_first[p]; i < s->pool_first[p + 1]; i++)
			if (replica_create(&rc_, &s->reps[i], err))
				return fs_failp(err, "pool '%s': ", pc->name);
	}
	return 0;
}

/* The per-replica indexes: replica choice, pending slots, macro-step state and (fast
 * path) the ghost-time wheel.  Returns 0, or -1 on allocation failure. */
static int create_indexes(run_state *s)
{
	if (balance_create(s->pol->router.balance, s->pol->npools, s->pool_first, &s->bal) ||
	    ev_slots_create(s->nreps, &s->slots))
		return -1;
	for (int i = 0; i < s->nreps; i++)
		balance_update(s->bal, i, s->reps[i], 0);
	s->pass = !s->o->reference && s->o->drain && !s->pol->router.spillover &&
		  s->pol->router.balance != BAL_ROUND_ROBIN;
	if (!s->o->reference && gw_create(s->nreps, &s->gw))
		return -1;
	return 0;
}

/* Set up a run: replicas, indexes, the read-ahead window, and the first arrival and
 * sample events.  Returns 0, or -1 with err set (run_free frees what was made). */
static int run_init(run_state *s, const policy_cfg *pol, trace_reader *tr, const fleet_opts *o,
		    metrics *m, fleet_result *res, fs_err *err)
{
	const trace_req *t;

	memset(s, 0, sizeof *s);
	memset(res, 0, sizeof *res);
	s->pol = pol;
	s->o = o;
	s->m = m;
	s->res = res;
	s->tr = tr;
	res->first_arrival = res->last_arrival = -1;
	if (ev_create(&s->q) || rq_pool_create(&s->reqs))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory creating the event queue");
	if (create_replicas(s, err))
		return -1;
	if (create_indexes(s))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for the replica index");
	s->la_rr = pol->npools == 1 && pol->router.balance == BAL_ROUND_ROBIN &&
		   !pol->router.spillover && o->drain && !o->reference;
	s->rr_blind = pol->router.balance == BAL_ROUND_ROBIN && !pol->router.spillover && o->drain &&
		      !o->reference;
	if (la_create(s->la_rr ? pol->pools[0].replicas : 1, &s->la))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for the trace window");
	if (la_fill(s->la, tr, err))
		return -1;
	if ((t = la_peek(s->la, 0))) {
		if (!ev_schedule(s->q, t->arrival_ns, EV_ARRIVAL, 0, NULL))
			return oom(err);
	} else {
		s->trace_done = 1;
	}
	s->next_arrival = t ? t->arrival_ns : INT64_MAX;
	if (!ev_schedule(s->q, 0, EV_SAMPLE, 0, NULL))
		return oom(err);
	s->next_sample = 0;
	s->interval = o->metrics_interval;
	return 0;
}

/* After the last event: abort what is left (--no-drain), take a final sample, sum the
 * pools' figures and check conservation.  Returns 0, or -1 with err set. */
static int run_finish(run_state *s, fs_err *err)
{
	fleet_result *res = s->res;

	res->end = ev_now(s->q);
	if (!s->o->drain)
		for (int i = 0; i < s->nreps; i++)
			if (replica_abort_all(s->reps[i], on_done, s))
				return oom(err);
	if (s->failed)
		return oom(err);
	/* A final sample at the end time, so plots reach the run's end. */
	if (take_sample(s))
		return oom(err);
	for (size_t i = 0; i < s->nsmp; i++)
		if (metrics_add_sample(s->m, &s->smp[i]))
			return oom(err);
	for (int p = 0; p < s->pol->npools; p++) {
		for (int i = s->pool_first[p]; i < s->pool_first[p + 1]; i++) {
			replica_stats st;
			replica_get_stats(s->reps[i], &st);
			res->pools[p].steps += st.steps;
			res->pools[p].busy_ns += st.busy_ns - overshoot(s, i);
			{
				/* --no-drain: a step cut by the end keeps its shares of the
				 * part that ran (scaled down to fit). */
				int64_t b = st.busy_ns - overshoot(s, i), c = st.compute_ns, m = st.memory_ns;

				if (c + m > b && c + m > 0) {
					double k = (double)(b > 0 ? b : 0) / (double)(c + m);
					c = (int64_t)((double)c * k);
					m = (int64_t)((double)m * k);
				}
				res->pools[p].compute_ns += c;
				res->pools[p].memory_ns += m;
			}
			res->pools[p].preemptions += st.preemptions;
			res->pools[p].prefix_hit_tokens += st.prefix_hit_tokens;
		}
	}
	return check_conservation(s, err);
}

int fleet_run(const policy_cfg *pol, trace_reader *tr, const fleet_opts *o, metrics *m,
	      fleet_result *res, fs_err *err)
{
	run_state s;
	ev_event ev;
	int rc = -1;

	if (run_init(&s, pol, tr, o, m, res, err))
		goto out;
	while (next_event(&s, &ev)) {
		int st = 0;

		if (s.gw)
			chain_hits(&s, &(ev_key){ev.time, ev.sched, ev.seq});
		if ((++s.events & 0xFFFF) == 0 && o->progress)
			o->progress(o->progress_ctx, st_to_s(ev.time), res->arrived);
		switch (ev.kind) {
		case EV_ARRIVAL: st = on_arrival(&s, &ev, err); break;
		case EV_STEP_END: st = on_step_end(&s, &ev, err); break;
		case EV_SAMPLE: st = on_sample(&s, &ev, err); break;
		}
		if (st)
			goto out;
		if (s.failed) {
			oom(err);
			goto out;
		}
		if (s.order_bug || ev_slots_ambiguous(s.slots)) {
			fs_fail(err, FS_EXIT_RUNTIME,
				"internal error: two events at t=%.9f s the fast path cannot order "
				"(run with --reference and report it)", st_to_s(ev.time));
			goto out;
		}
		if (s.trace_done && (!o->drain || s.inflight == 0))
			break;
		{
			/* The next step end's replica is most often cold (hundreds of others
			 * ran since it last did): start fetching it, and what its step end
			 * will read first, now. */
			int nx = ev_slots_top(s.slots);

			if (nx >= 0) {
				replica_prefetch(s.reps[nx]);
				replica_prefetch_touch(s.rs[nx].touch);
			}
		}
	}
	if (run_finish(&s, err))
		goto out;
	rc = 0;
out:
	run_free(&s);
	return rc;
}

/* Energy of pool i over the run, J: every GPU draws perf_power_w at the pool's
 * compute-bound and memory-bound shares of its provisioned time (idle otherwise). */
static double pool_energy_j(const pool_cfg *pc, const fleet_pool_totals *t, double span,
			    double *compute_gpu_s)
{
	double gpus = (double)pc->replicas * pc->mem.tp, prov = gpus * span;
	double c = st_to_s(t->compute_ns) * pc->mem.tp, m = st_to_s(t->memory_ns) * pc->mem.tp;

	*compute_gpu_s = c;
	if (!(prov > 0))
		return 0.0;
	return perf_power_w(&pc->gpu, c / prov, m / prov) * prov;
}

/* The energy figures of a summary whose gpus, makespan and output_tps are set. */
static void fill_energy(metrics_summary *o, double energy_j, double compute_gpu_s)
{
	double prov = o->gpus * o->makespan_s, out_tokens = o->output_tps * o->makespan_s;

	o->energy_j = energy_j;
	o->avg_power_w = o->makespan_s > 0 ? energy_j / o->makespan_s : 0.0;
	o->utilisation = prov > 0 ? compute_gpu_s / prov : 0.0;
	o->tokens_per_joule = energy_j > 0 ? out_tokens / energy_j : 0.0;
	o->energy_per_mtok_j = out_tokens > 0 ? energy_j / out_tokens * 1e6 : 0.0;
}

int fleet_summarize(const policy_cfg *pol, const fleet_result *res, const metrics *m,
		    const mx_slo *slo, int p, metrics_summary *o, fs_err *err)
{
	double span = st_to_s(res->end), energy_j = 0, compute_gpu_s = 0, c;

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
			o->gpu_busy_s += st_to_s(res->pools[i].busy_ns) * pc->mem.tp;
			o->steps += res->pools[i].steps;
			energy_j += pool_energy_j(pc, &res->pools[i], span, &c);
			compute_gpu_s += c;
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
		o->gpu_busy_s = st_to_s(res->pools[p].busy_ns) * pc->mem.tp;
		o->steps = res->pools[p].steps;
		energy_j = pool_energy_j(pc, &res->pools[p], span, &compute_gpu_s);
	}
	if (metrics_summarize(m, p, slo, o))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory summarising the run");
	fill_energy(o, energy_j, compute_gpu_s);
	return 0;
}
