/*
 * CUnit suite for the replica engine's fast path (decode cohort + macro-steps,
 * sim/replica.c): randomised fleets and traces run twice, once with the step-by-step
 * reference engine (fleet_opts.reference = 1) and once with the fast path, and every
 * per-request record, every time-series sample and the fleet totals must be
 * identical bit for bit.  Scenarios vary lengths, arrival rates (bursts and idle
 * gaps), max_num_seqs, token budgets, chunked-prefill thresholds, block sizes, KV
 * sizes down to one max_model_len sequence (forcing preemptions), prefix hashes with
 * shared prefixes, one or two pools, the three balance policies, spill-over, metrics
 * intervals and --no-drain.  A hand-checkable macro-step case pins the fast path to
 * the toy step model too.
 */
#include <CUnit/CUnit.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/engine.h"
#include "sim/fleet.h"
#include "sim/replica.h"
#include "traces/trace.h"
#include "tutil.h"

/* The suite's private temp dir (tutil.h), copied here by suite_init. */
static char tmpdir[256];

/* Overloaded fleets (issue 20): small batches, arrivals far faster than the fleet
 * serves them, so queues grow and most arrivals join a full batch. */
static int overload;

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t urange(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* A Mooncake-style JSONL trace: ms timestamps, lengths, optional chained hash ids
 * (a few shared prefixes so prefix caching hits).  hashes: 0 none, 1 every request,
 * 2 about half of the requests after the first quarter (a replica's KV manager then
 * leaves counting mode while a decode cohort is running). */
static const char *write_trace(int n, int max_in, int max_out, double mean_gap_ms, int hashes)
{
	static char path[512];
	FILE *f;
	double t = 0;

	snprintf(path, sizeof path, "%s/fp_%" PRIu64 ".jsonl", tmpdir, rng_state);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < n; i++) {
		int in = (int)urange(1, max_in), out = (int)urange(1, max_out);

		/* Bursts (gap 0), ordinary gaps and the odd long idle gap. */
		switch (rnd() % 8) {
		case 0: break;
		case 1: t += mean_gap_ms * 20; break;
		default: t += (double)(rnd() % 1000) / 500.0 * mean_gap_ms; break;
		}
		fprintf(f, "{\"timestamp\": %.3f, \"input_length\": %d, \"output_length\": %d", t, in, out);
		if (hashes == 1 || (hashes == 2 && i > n / 4 && rnd() % 2)) {
			int nh = (in + 511) / 512, family = (int)(rnd() % 3);

			fputs(", \"hash_ids\": [", f);
			for (int h = 0; h < nh; h++)
				fprintf(f, "%s%d", h ? ", " : "",
					h < 2 ? family * 100 + h : (int)(1000 + i * 50 + h));
			fputs("]", f);
		}
		fputs("}\n", f);
	}
	fclose(f);
	return path;
}

static void make_pool(pool_cfg *p, const char *name, const llm_spec *m, int max_model_len)
{
	fs_err err = {0};

	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &p->gpu, &err), 0);
	p->replicas = (int)urange(1, 4);
	mem_config_default(&p->mem);
	p->mem.block_size = (int)(rnd() % 2 ? 16 : urange(1, 32));
	p->max_model_len = max_model_len;
	p->max_num_seqs = (int)(rnd() % 4 ? urange(1, 64) : urange(128, 512));
	if (overload)
		p->max_num_seqs = (int)urange(1, 12);
	p->max_num_batched_tokens = (int)(rnd() % 3 ? urange(64, 8192) : urange(1, 64));
	p->enable_prefix_caching = (int)(rnd() % 2);
	p->long_prefill_token_threshold = rnd() % 4 ? 0 : (int)urange(1, 512);
	/* Every modelled vLLM release and scheduling mode. */
	p->mem.eng = eng_get((int)(rnd() % (uint64_t)eng_count()));
	p->async_scheduling = (int)(rnd() % 2);
	CU_ASSERT_EQUAL_FATAL(fleet_pool_prepare(p, m, &err), 0);
	/* Recurrent-state blocks per request (hybrid models' shared pool). */
	if (rnd() % 4 == 0)
		p->plan.state_blocks = (int)urange(1, 3);
	/* Tiny KV caches force preemptions; keep at least one max_model_len sequence. */
	if (rnd() % 2) {
		int64_t need = (max_model_len + p->mem.block_size - 1) / p->mem.block_size + 1 +
			       p->plan.state_blocks;

		p->plan.kv_blocks = need + urange(0, 4 * need);
	}
	/* Half the runs use the toy step model (whole-ms steps: many exact time ties). */
	if (rnd() % 2) {
		perf_init_linear(&p->perf, 0.001 * (double)urange(1, 10), 0.0001 * (double)urange(0, 3));
	}
}

static int run_one(const policy_cfg *pol, const char *trace, fleet_opts *fo, metrics **m,
		   fleet_result *res)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *tr = NULL;
	fs_err err = {0};
	int rc;

	CU_ASSERT_EQUAL_FATAL(trace_open_file(trace, &o, &tr, &err), 0);
	CU_ASSERT_EQUAL_FATAL(metrics_create(m), 0);
	rc = fleet_run(pol, tr, fo, *m, res, &err);
	if (rc)
		fprintf(stderr, "fleet_run: %s\n", err.msg);
	trace_close(tr);
	return rc;
}

static int64_t total_preemptions, total_steps, total_macro, total_explicit, total_hits, total_cuts,
	total_passed, passed_by[3];

static void compare_engines(uint64_t seed, const policy_cfg *pol_, const char *tr, fleet_opts fo,
			    fleet_result *fast);

/* Run scenario `seed` with both engines and compare everything. */
static void one_scenario(uint64_t seed, int check)
{
	llm_spec m;
	policy_cfg pol;
	fs_err err = {0};
	fleet_opts fo;
	fleet_result rb;
	const char *tr;
	int mml;

	rng_state = seed * 0x2545f4914f6cdd1dULL + 1;
	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.router.balance = (router_balance)(rnd() % 3);
	mml = (int)urange(64, 4096);
	pol.npools = 1;
	make_pool(&pol.pools[0], "a", &m, mml);
	if (rnd() % 3 == 0) {
		pol.npools = 2;
		make_pool(&pol.pools[1], "b", &m, mml * 2);
		pol.router.type = ROUTER_TOKEN_BUDGET;
		pol.router.estimator = EST_ORACLE;
		pol.router.nthresholds = 1;
		pol.router.thresholds[0] = mml / 2;
		pol.router.spillover = (int)(rnd() % 2);
		pol.router.spill_waiting_per_replica = 2;
		pol.router.spill_kv_usage = 0.8;
	}
	if (overload)
		tr = write_trace((int)urange(200, 800), (int)urange(8, mml), (int)urange(20, 400),
				 (double)urange(1, 8), (int)(rnd() % 3));
	else
		tr = write_trace((int)urange(20, 400), (int)urange(8, mml), (int)urange(1, 600),
				 (double)urange(1, 300), (int)(rnd() % 3));
	memset(&fo, 0, sizeof fo);
	fo.drain = rnd() % 4 != 0;
	fo.metrics_interval = urange(1, 2000) * 1000000LL;
	fo.seed = seed;
	fo.check_invariants = check;
	compare_engines(seed, &pol, tr, fo, &rb);
	unlink(tr);
	for (int p = 0; p < pol.npools; p++) {
		total_preemptions += rb.pools[p].preemptions;
		total_steps += rb.pools[p].steps;
	}
	total_macro += rb.macro_steps;
	total_explicit += rb.macro_explicit;
	total_hits += rb.tie_hits;
	total_cuts += rb.macro_cuts;
	total_passed += rb.macro_passed;
	passed_by[pol.router.balance] += rb.macro_passed;
}

/* Replay trace tr on pol with the reference engine and the fast path; every request
 * row, sample and total must be equal.  *fast: the fast path's totals. */
static void compare_engines(uint64_t seed, const policy_cfg *pol_, const char *tr, fleet_opts fo,
			    fleet_result *fast)
{
	const policy_cfg pol = *pol_;
	metrics *ma, *mb;
	fleet_result ra, rb;
	const mx_request *qa, *qb;
	const mx_sample *sa, *sb;
	size_t na, nb, xa, xb;

	fo.reference = 1;
	CU_ASSERT_EQUAL_FATAL(run_one(&pol, tr, &fo, &ma, &ra), 0);
	fo.reference = 0;
	CU_ASSERT_EQUAL_FATAL(run_one(&pol, tr, &fo, &mb, &rb), 0);

	qa = metrics_requests(ma, &na);
	qb = metrics_requests(mb, &nb);
	sa = metrics_samples(ma, &xa);
	sb = metrics_samples(mb, &xb);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_EQUAL(xa, xb);
	for (size_t i = 0; i < na && i < nb; i++) {
		const mx_request *a = &qa[i], *b = &qb[i];
		int same = a->id == b->id && a->arrival_s == b->arrival_s &&
			   a->first_token_s == b->first_token_s && a->finish_s == b->finish_s &&
			   a->ttft_s == b->ttft_s && a->tpot_s == b->tpot_s && a->e2e_s == b->e2e_s &&
			   a->prompt == b->prompt && a->output == b->output &&
			   a->preemptions == b->preemptions && a->category == b->category &&
			   a->pool == b->pool && a->replica == b->replica && a->status == b->status &&
			   a->misrouted == b->misrouted;

		if (!same) {
			fprintf(stderr,
				"seed %" PRIu64 ": request row %zu differs: id %lld/%lld finish %.9f/%.9f "
				"first %.9f/%.9f preempt %d/%d status %d/%d replica %d/%d\n",
				seed, i, (long long)a->id, (long long)b->id, a->finish_s, b->finish_s,
				a->first_token_s, b->first_token_s, a->preemptions, b->preemptions,
				a->status, b->status, a->replica, b->replica);
			CU_FAIL("request rows differ");
			break;
		}
	}
	for (size_t i = 0; i < xa && i < xb; i++) {
		const mx_sample *a = &sa[i], *b = &sb[i];

		if (a->t_s != b->t_s || a->pool != b->pool || a->running != b->running ||
		    a->waiting != b->waiting || a->kv_usage != b->kv_usage) {
			fprintf(stderr, "seed %" PRIu64 ": sample %zu differs: t %.9f/%.9f run %d/%d wait %d/%d kv %.9f/%.9f\n",
				seed, i, a->t_s, b->t_s, a->running, b->running, a->waiting, b->waiting,
				a->kv_usage, b->kv_usage);
			CU_FAIL("samples differ");
			break;
		}
	}
	CU_ASSERT(ra.end == rb.end && ra.first_arrival == rb.first_arrival &&
		  ra.last_arrival == rb.last_arrival && ra.arrived == rb.arrived &&
		  ra.completed == rb.completed && ra.rejected == rb.rejected &&
		  ra.unfinished == rb.unfinished);
	for (int p = 0; p < pol.npools; p++) {
		CU_ASSERT_EQUAL(ra.pools[p].steps, rb.pools[p].steps);
		CU_ASSERT_EQUAL(ra.pools[p].busy_ns, rb.pools[p].busy_ns);
		/* Energy: compute- and memory-bound time, summed per step in both paths. */
		CU_ASSERT_EQUAL(ra.pools[p].compute_ns, rb.pools[p].compute_ns);
		CU_ASSERT_EQUAL(ra.pools[p].memory_ns, rb.pools[p].memory_ns);
		CU_ASSERT(ra.pools[p].compute_ns + ra.pools[p].memory_ns <= ra.pools[p].busy_ns);
		if (ra.pools[p].compute_ns != rb.pools[p].compute_ns || ra.pools[p].memory_ns != rb.pools[p].memory_ns)
			fprintf(stderr, "seed %" PRIu64 " pool %d: compute %lld/%lld memory %lld/%lld ns\n", seed, p,
				(long long)ra.pools[p].compute_ns, (long long)rb.pools[p].compute_ns,
				(long long)ra.pools[p].memory_ns, (long long)rb.pools[p].memory_ns);
		CU_ASSERT_EQUAL(ra.pools[p].preemptions, rb.pools[p].preemptions);
		CU_ASSERT_EQUAL(ra.pools[p].prefix_hit_tokens, rb.pools[p].prefix_hit_tokens);
		if (ra.pools[p].busy_ns != rb.pools[p].busy_ns || ra.pools[p].steps != rb.pools[p].steps)
			fprintf(stderr, "seed %" PRIu64 " pool %d: steps %lld/%lld busy %lld/%lld\n", seed, p,
				(long long)ra.pools[p].steps, (long long)rb.pools[p].steps,
				(long long)ra.pools[p].busy_ns, (long long)rb.pools[p].busy_ns);
	}
	*fast = rb;
	metrics_destroy(ma);
	metrics_destroy(mb);
}

/* Lockstep: 4 identical replicas, round robin, 8 equal requests at t=0 and then one
 * every 50 ms, whole-ms steps (10 ms + 1 ms per token).  Replicas 0-3 run the same
 * batches at the same times, so their macro-steps share every step end (the later
 * ones must be explicit), and arrivals on whole 50 ms land on step ends of
 * macro-steps in flight.  The reference orders all these equal-time events by
 * scheduling order; the fast path must reproduce it row for row. */
static void test_lockstep(void)
{
	llm_spec m;
	policy_cfg pol;
	fs_err err = {0};
	fleet_opts fo;
	fleet_result rb;
	char path[512];
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(llm_lookup("llama-3.1-8b", &m, &err), 0);
	memset(&pol, 0, sizeof pol);
	router_cfg_default(&pol.router);
	pol.router.balance = BAL_ROUND_ROBIN;
	pol.npools = 1;
	snprintf(pol.pools[0].name, sizeof pol.pools[0].name, "a");
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &pol.pools[0].gpu, &err), 0);
	pol.pools[0].replicas = 4;
	mem_config_default(&pol.pools[0].mem);
	pol.pools[0].max_model_len = 4096;
	pol.pools[0].max_num_seqs = 64;
	pol.pools[0].max_num_batched_tokens = 8192;
	CU_ASSERT_EQUAL_FATAL(fleet_pool_prepare(&pol.pools[0], &m, &err), 0);
	perf_init_linear(&pol.pools[0].perf, 0.010, 0.001);

	snprintf(path, sizeof path, "%s/lockstep.jsonl", tmpdir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < 8; i++)
		fprintf(f, "{\"timestamp\": 0, \"input_length\": 20, \"output_length\": 300}\n");
	for (int i = 1; i <= 40; i++)
		fprintf(f, "{\"timestamp\": %d, \"input_length\": 20, \"output_length\": 100}\n", 50 * i);
	fclose(f);

	memset(&fo, 0, sizeof fo);
	fo.drain = 1;
	fo.metrics_interval = 1000000000LL;
	fo.seed = 1;
	compare_engines(0, &pol, path, fo, &rb);
	unlink(path);
	CU_ASSERT(rb.macro_steps > 0);
	CU_ASSERT(rb.macro_explicit > 0);
	CU_ASSERT(rb.tie_hits > 0);
}

/* FS_FASTPATH_SCENARIOS=N runs N random scenarios instead of 120 (the sanitizer
 * pass in CI uses fewer: it is ~10x slower there). */
static uint64_t n_scenarios(void)
{
	const char *e = getenv("FS_FASTPATH_SCENARIOS");
	long v = e ? strtol(e, NULL, 10) : 0;

	return v > 0 ? (uint64_t)v : 120;
}

static void test_random_equivalence(void)
{
	uint64_t n = n_scenarios();

	total_preemptions = total_steps = total_macro = total_explicit = total_hits = total_cuts = 0;
	for (uint64_t seed = 1; seed <= n; seed++)
		one_scenario(seed, 0);
	fprintf(stderr, "\n  %" PRId64 " steps, %" PRId64 " preemptions, %" PRId64 " macro-steps (%" PRId64
		" made explicit, %" PRId64 " cut back by an arrival), %" PRId64
		" events on an implicit macro-step's step end\n",
		total_steps, total_preemptions, total_macro, total_explicit, total_cuts, total_hits);
	/* The scenarios must actually reach the hard cases (scaled for fewer runs). */
	CU_ASSERT(total_preemptions > (int64_t)(50 * n / 120));
	CU_ASSERT(total_steps > (int64_t)(30000 * n / 120));
	/* ... including macro-steps made explicit by shared end times and events landing
	 * on an implicit one's intermediate step end (fleet.c, "Event order"). */
	CU_ASSERT(total_macro > (int64_t)(10000 * n / 120));
	CU_ASSERT(total_explicit > (int64_t)(1000 * n / 120));
	CU_ASSERT(total_hits > (int64_t)(100 * n / 120) || (n < 120 && total_hits > 0));
	/* ... and macro-steps run past arrivals (least_tokens / least_kv) cut back. */
	CU_ASSERT(total_cuts > (int64_t)(500 * n / 120));
}

/* Overloaded fleets: max_num_seqs 1-12 and arrivals every few ms, so batches stay
 * full and arrivals join queues behind them; a replica's macro-step then runs on past
 * arrivals routed to it (replica_admits_none: not cut) under every balance policy.
 * A fifth of the scenarios run replica_check after every step. */
static void test_overloaded_equivalence(void)
{
	uint64_t n = (n_scenarios() + 3) / 4;

	total_preemptions = total_steps = total_macro = total_explicit = total_hits = total_cuts = 0;
	total_passed = passed_by[0] = passed_by[1] = passed_by[2] = 0;
	overload = 1;
	for (uint64_t seed = 5001; seed < 5001 + n; seed++)
		one_scenario(seed, seed % 5 == 0);
	overload = 0;
	fprintf(stderr, "\n  overloaded: %" PRId64 " steps, %" PRId64 " macro-steps, %" PRId64
		" cut back, %" PRId64 " arrivals passed by a full batch's macro-step (round robin %"
		PRId64 ", least tokens %" PRId64 ", least KV %" PRId64 ")\n",
		total_steps, total_macro, total_cuts, total_passed, passed_by[BAL_ROUND_ROBIN],
		passed_by[BAL_LEAST_TOKENS], passed_by[BAL_LEAST_KV]);
	/* Under every balance policy: round robin ignores load, the others search bounds
	 * (fleet.c, pass). */
	CU_ASSERT(total_passed > (int64_t)(1000 * n / 30));
	CU_ASSERT(passed_by[BAL_ROUND_ROBIN] > 0 && passed_by[BAL_LEAST_TOKENS] > 0 &&
		  passed_by[BAL_LEAST_KV] > 0);
}

/* Same, with replica_check after every step (it syncs the cohort first). */
static void test_random_equivalence_checked(void)
{
	uint64_t n = (n_scenarios() + 4) / 5;

	for (uint64_t seed = 1001; seed < 1001 + n; seed++)
		one_scenario(seed, 1);
}

/* Hand-checkable macro-step: one replica, toy model (10 ms + 1 ms per token), two
 * requests arriving at t=0 with prompts 10 and 20 and outputs 5 and 3.
 * Step 1 prefills both: 10 + 30 = 40 ms -> first tokens at 0.040 s.  Then decode
 * steps of 2 tokens: 12 ms each, so B (3 outputs) finishes at 0.040 + 2 x 0.012 =
 * 0.064 s; A then decodes alone in 11 ms steps: 2 more -> 0.064 + 0.022 = 0.086 s.
 * With a 1 s sample interval the fast path takes B's two decodes as one macro-step
 * and A's two as another: 3 events stand for 5 steps. */
static void test_macro_step_by_hand(void)
{
	replica_cfg cfg = {.max_num_seqs = 8, .max_num_batched_tokens = 1000, .max_model_len = 100,
			   .block_size = 4, .num_blocks = 100, .fast_path = 1};
	perf_model pm;
	replica *r = NULL;
	fs_err err = {0};
	sim_req a, b;
	int64_t d;

	perf_init_linear(&pm, 0.010, 0.001);
	cfg.perf = &pm;
	CU_ASSERT_EQUAL_FATAL(replica_create(&cfg, &r, &err), 0);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.id = 0;
	a.prompt = 10;
	a.output = 5;
	b.id = 1;
	b.prompt = 20;
	b.output = 3;
	a.max_tokens = b.max_tokens = -1;
	a.first_token = b.first_token = a.finish = b.finish = -1;
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	CU_ASSERT_EQUAL(replica_add(r, &b, 0), 0);
	d = replica_begin_step_until(r, 0, 1000000000LL);
	CU_ASSERT_EQUAL(d, 40000000);
	replica_end_step(r, d, NULL, NULL);
	CU_ASSERT_EQUAL(a.first_token, 40000000);
	/* Outstanding: (10 + 5 - 10) + (20 + 3 - 20) = 8 tokens after the prefill. */
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 8);
	d = replica_begin_step_until(r, 40000000, 1000000000LL);
	CU_ASSERT_EQUAL(d, 24000000);
	CU_ASSERT_EQUAL(replica_step_count(r), 2);
	/* One of the two steps has ended already: 8 - 2 = 6 outstanding. */
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 6);
	replica_end_step(r, 64000000, NULL, NULL);
	CU_ASSERT_EQUAL(b.status, RQ_DONE);
	CU_ASSERT_EQUAL(b.finish, 64000000);
	CU_ASSERT_EQUAL(b.generated, 3);
	d = replica_begin_step_until(r, 64000000, 1000000000LL);
	CU_ASSERT_EQUAL(d, 22000000);
	replica_end_step(r, 86000000, NULL, NULL);
	CU_ASSERT_EQUAL(a.status, RQ_DONE);
	CU_ASSERT_EQUAL(a.finish, 86000000);
	CU_ASSERT_EQUAL(a.generated, 5);
	CU_ASSERT_EQUAL(a.computed, 14); /* 10 + 5 - 1: the last token is never fed back */
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	{
		replica_stats st;

		replica_get_stats(r, &st);
		CU_ASSERT_EQUAL(st.steps, 5);
		CU_ASSERT_EQUAL(st.busy_ns, 86000000);
	}
	/* A horizon right after the macro-step's start gives one step only. */
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);
}

static int suite_init(void)
{
	const char *d = tu_dir();

	return d && snprintf(tmpdir, sizeof tmpdir, "%s", d) < (int)sizeof tmpdir ? 0 : -1;
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("fastpath", suite_init, NULL);

	if (!s || !CU_add_test(s, "macro-step by hand", test_macro_step_by_hand) ||
	    !CU_add_test(s, "random scenarios: fast == reference", test_random_equivalence) ||
	    !CU_add_test(s, "lockstep replicas and equal-time events", test_lockstep) ||
	    !CU_add_test(s, "overloaded fleets: fast == reference", test_overloaded_equivalence) ||
	    !CU_add_test(s, "random scenarios with replica_check", test_random_equivalence_checked))
		return -1;
	return 0;
}
