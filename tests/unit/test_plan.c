/* CUnit suite for reports/plan and reports/sizing: the search on fake predicates and on
 * a pool whose capacity is computed by hand, monotonicity in load, the second seed,
 * the plans table, power, and manifests parsed back with libfyaml. */
#include <CUnit/CUnit.h>
#include <libfyaml.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/db.h"
#include "reports/plan.h"
#include "reports/sizing.h"
#include "scenarios/scenario.h"
#include "traces/workload.h"
#include "tutil.h"

/* ---- the generic search ---- */

typedef struct fake {
	int answer, calls, fail_at;
} fake;

static int fake_pred(void *ctx, int n, int *pass, fs_err *err)
{
	fake *f = ctx;
	f->calls++;
	if (f->fail_at && f->calls >= f->fail_at)
		return fs_fail(err, FS_EXIT_RUNTIME, "fake failure");
	*pass = n >= f->answer;
	return 0;
}

static void test_search_fake(void)
{
	/* (guess_lo, guess_hi) pairs: right, too low (exponential up), too high (halving
	 * down), and degenerate. */
	const int guesses[][2] = {{30, 45}, {2, 5}, {200, 300}, {37, 37}, {1, 1}, {36, 36}};
	fs_err err = {0};

	for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
		fake f = {37, 0, 0};
		int found, n, evals;
		CU_ASSERT_EQUAL_FATAL(plan_search_min(fake_pred, &f, guesses[i][0], guesses[i][1], 1, 1000, &found,
						      &n, &evals, &err), 0);
		CU_ASSERT_EQUAL(found, 1);
		CU_ASSERT_EQUAL(n, 37);
		CU_ASSERT_EQUAL(evals, f.calls);
		/* Never more than a doubling walk plus a bisection: ~2 log2(1000). */
		CU_ASSERT(evals <= 22);
	}
	{
		/* A good bracket [30, 45]: 45 pass, 30 fail, then bisect 15 -> 4 probes. */
		fake f = {37, 0, 0};
		int found, n, evals;
		plan_search_min(fake_pred, &f, 30, 45, 1, 1000, &found, &n, &evals, &err);
		CU_ASSERT(evals <= 6);
	}
	{
		fake f = {1, 0, 0};
		int found, n;
		CU_ASSERT_EQUAL(plan_search_min(fake_pred, &f, 3, 8, 1, 100, &found, &n, NULL, &err), 0);
		CU_ASSERT_EQUAL(found, 1);
		CU_ASSERT_EQUAL(n, 1);
	}
	{
		/* Nothing up to the ceiling passes. */
		fake f = {5000, 0, 0};
		int found = 1, n;
		CU_ASSERT_EQUAL(plan_search_min(fake_pred, &f, 3, 8, 1, 100, &found, &n, NULL, &err), 0);
		CU_ASSERT_EQUAL(found, 0);
	}
	{
		fake f = {10, 0, 2};
		int found, n;
		CU_ASSERT_EQUAL(plan_search_min(fake_pred, &f, 3, 8, 1, 100, &found, &n, NULL, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fake failure"));
	}
	CU_ASSERT_EQUAL(plan_search_min(fake_pred, NULL, 3, 8, 5, 4, &(int){0}, &(int){0}, NULL, &err), -1);
}

/* ---- the per-pool (split) search ---- */

typedef struct fake2 {
	int kind;              /* 0: a >= A && b >= B; 1: a >= 5 && b >= 5 && a + 2b >= 60;
				* 2: a * b >= C (a hyperbola: the minimum of each pool depends
				* on the other); 3: three pools, each >= its own minimum */
	int A, B, C, calls, fail_at;
} fake2;

static int fake2_pred(void *ctx, const int *n, int *pass, fs_err *err)
{
	fake2 *f = ctx;
	f->calls++;
	if (f->fail_at && f->calls >= f->fail_at)
		return fs_fail(err, FS_EXIT_RUNTIME, "fake2 failure");
	switch (f->kind) {
	case 0: *pass = n[0] >= f->A && n[1] >= f->B; break;
	case 1: *pass = n[0] >= 5 && n[1] >= 5 && n[0] + 2 * n[1] >= 60; break;
	case 2: *pass = (long)n[0] * n[1] >= f->C; break;
	default: *pass = n[0] >= f->A && n[1] >= f->B && n[2] >= f->C; break;
	}
	return 0;
}

static int ceil_log2(int x)
{
	int k = 0;
	while ((1 << k) < x)
		k++;
	return k;
}

static void test_search_split(void)
{
	const int ones[3] = {1, 1, 1};
	fs_err err = {0};

	{
		/* Separable pools (each sized for its own traffic): the exact answer (13, 27)
		 * from a far start, in at most 1 + ceil(log2 200) + ceil(log2 150) = 1 + 8 + 8
		 * probes — against 160 + 123 one-replica steps for the old split phase. */
		fake2 f = {.kind = 0, .A = 13, .B = 27};
		int start[2] = {200, 150}, out[2], found = 0, evals = 0;
		CU_ASSERT_EQUAL_FATAL(plan_search_split(fake2_pred, &f, 2, start, ones, NULL, 0, &found, out, &evals,
							&err), 0);
		CU_ASSERT_EQUAL(found, 1);
		CU_ASSERT_EQUAL(out[0], 13);
		CU_ASSERT_EQUAL(out[1], 27);
		CU_ASSERT_EQUAL(evals, f.calls);
		CU_ASSERT(evals <= 17);
	}
	{
		/* Coupled: with b = 100, pool 0 goes to its floor 5; then b needs
		 * 5 + 2b >= 60 -> b = 28 (27.5 rounded up); then a needs 60 - 56 = 4, so 5
		 * stays: (5, 28), and lowering either one fails. */
		fake2 f = {.kind = 1};
		int start[2] = {100, 100}, out[2], found = 0, evals = 0, pass;
		CU_ASSERT_EQUAL_FATAL(plan_search_split(fake2_pred, &f, 2, start, ones, NULL, 0, &found, out, &evals,
							&err), 0);
		CU_ASSERT_EQUAL(found, 1);
		CU_ASSERT_EQUAL(out[0], 5);
		CU_ASSERT_EQUAL(out[1], 28);
		CU_ASSERT(evals <= 1 + 2 * ceil_log2(100));
		fake2_pred(&f, (int[]){4, 28}, &pass, &err);
		CU_ASSERT_EQUAL(pass, 0);
		fake2_pred(&f, (int[]){5, 27}, &pass, &err);
		CU_ASSERT_EQUAL(pass, 0);
	}
	{
		/* Hyperbola a b >= C from many starts: the result passes, each pool is at its
		 * minimum given the other, and the probe count stays within the bound. */
		for (int c = 37; c < 4000; c += 397)
			for (int s0 = 70; s0 <= 300; s0 += 115) {
				fake2 f = {.kind = 2, .C = c};
				int start[2] = {s0, 370 - s0}, out[2], found = 0, evals = 0, pass;
				CU_ASSERT_EQUAL_FATAL(plan_search_split(fake2_pred, &f, 2, start, ones, NULL, 0, &found,
									out, &evals, &err), 0);
				CU_ASSERT_EQUAL(found, 1);
				CU_ASSERT((long)out[0] * out[1] >= c);
				CU_ASSERT((long)(out[0] - 1) * out[1] < c);
				CU_ASSERT((long)out[0] * (out[1] - 1) < c);
				CU_ASSERT(evals <= 1 + ceil_log2(start[0]) + ceil_log2(start[1]));
				(void)pass;
			}
	}
	{
		/* Known failures bound the bisections: with (12, 28) and (14, 26) already
		 * seen failing, the start (14, 28) needs one probe per pool (13, then 27) plus
		 * the start itself; a known pass of the start costs nothing. */
		fake2 f = {.kind = 0, .A = 13, .B = 27};
		plan_point known[3] = {{{12, 28}, 0}, {{14, 26}, 0}, {{14, 28}, 1}};
		int start[2] = {14, 28}, out[2], found = 0, evals = 0;
		CU_ASSERT_EQUAL_FATAL(plan_search_split(fake2_pred, &f, 2, start, ones, known, 3, &found, out, &evals,
							&err), 0);
		CU_ASSERT_EQUAL(out[0], 13);
		CU_ASSERT_EQUAL(out[1], 27);
		CU_ASSERT_EQUAL(evals, 2);
	}
	if (FS_MAX_POOLS >= 3) {
		/* Three pools, floors (2, 3, 1): answer (9, 4, 30) from (64, 64, 64). */
		fake2 f = {.kind = 3, .A = 9, .B = 4, .C = 30};
		int start[3] = {64, 64, 64}, mins[3] = {2, 3, 1}, out[3], found = 0, evals = 0;
		CU_ASSERT_EQUAL_FATAL(plan_search_split(fake2_pred, &f, 3, start, mins, NULL, 0, &found, out, &evals,
							&err), 0);
		CU_ASSERT_EQUAL(out[0], 9);
		CU_ASSERT_EQUAL(out[1], 4);
		CU_ASSERT_EQUAL(out[2], 30);
		CU_ASSERT(evals <= 1 + 3 * 6);
	}
	{
		/* A start that fails: found = 0, out = start. */
		fake2 f = {.kind = 0, .A = 13, .B = 27};
		int start[2] = {20, 20}, out[2], found = 1;
		CU_ASSERT_EQUAL(plan_search_split(fake2_pred, &f, 2, start, ones, NULL, 0, &found, out, NULL, &err), 0);
		CU_ASSERT_EQUAL(found, 0);
		CU_ASSERT_EQUAL(out[0], 20);
		CU_ASSERT_EQUAL(out[1], 20);
	}
	{
		/* The predicate's error comes back; bad arguments are refused. */
		fake2 f = {.kind = 0, .A = 13, .B = 27, .fail_at = 3};
		int start[2] = {200, 150}, out[2], found;
		CU_ASSERT_EQUAL(plan_search_split(fake2_pred, &f, 2, start, ones, NULL, 0, &found, out, NULL, &err), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fake2 failure"));
		CU_ASSERT_EQUAL(plan_search_split(fake2_pred, &f, 2, (int[]){0, 5}, ones, NULL, 0, &found, out, NULL,
						  &err), -1);
		CU_ASSERT_EQUAL(plan_search_split(fake2_pred, &f, 0, start, ones, NULL, 0, &found, out, NULL, &err), -1);
	}
}


/* ---- a pool computed by hand ----
 * Constant requests (prompt P = 1024, output O = 64), near-periodic arrivals (gamma,
 * cv 0.02), max_num_seqs = 1: a replica serves one request at a time, in
 * S = prefill(P) + (O - 1) decode steps, each from the step model (`fleetsim step`).
 * At rate lambda = 3.5 / S the fleet needs lambda x S = 3.5 -> 4 replicas: with 3 the
 * backlog grows by 0.5 / S requests per second, so after 40 s the last requests wait
 * about 40 / 6 ~ 7 s, far beyond the 1.5 s TTFT SLO; with 4 each replica is 87.5 %
 * busy on a near-regular stream and requests barely queue.  At 1.6x the load,
 * lambda S = 5.6 -> 6 replicas. */

#define HP 1024
#define HO 64

static int write_hand(const char *path, double rate, int requests)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"name: hand\n"
		"seed: 7\n"
		"workload:\n"
		"  synthetic:\n"
		"    requests: %d\n"
		"    arrival: {process: gamma, rate: %.9g, cv: 0.02}\n"
		"    input: {dist: constant, value: %d}\n"
		"    output: {dist: constant, value: %d}\n"
		"model: llama-3.1-8b\n"
		"slo: {ttft_p99: 1.5}\n"
		"policies:\n"
		"  - name: single\n"
		"    pools:\n"
		"      - {name: one, gpu: h100, replicas: 1, max_model_len: 4096, max_num_seqs: 1,\n"
		"         max_num_batched_tokens: 2048, enable_prefix_caching: false}\n",
		requests, rate, HP, HO);
	return fclose(f);
}

static double service_s(const char *path)
{
	scenario *sc = NULL;
	fs_err err = {0};
	double s;
	perf_batch b;

	if (scenario_load(path, NULL, 0, &sc, &err))
		return -1;
	const perf_model *pm = &sc->policies[0].pools[0].perf;
	memset(&b, 0, sizeof b);
	b.tokens = HP;
	b.seqs = 1;
	b.prefill_seqs = 1;
	b.attn_pairs = HP * (HP + 1) / 2.0;
	b.kv_read = HP;
	s = perf_step_s(pm, &b);
	for (int k = 1; k < HO; k++) {
		memset(&b, 0, sizeof b);
		b.tokens = 1;
		b.seqs = 1;
		b.attn_pairs = HP + k;
		b.kv_read = HP + k;
		s += perf_step_s(pm, &b);
	}
	scenario_free(sc);
	return s;
}

static void hand_request(plan_request *rq, const char *path, db *d)
{
	memset(rq, 0, sizeof *rq);
	rq->scenario_path = path;
	rq->ngpus = 1;
	snprintf(rq->gpus[0], sizeof rq->gpus[0], "h100");
	rq->nprecs = 1;
	rq->precs[0] = PREC_BF16;
	rq->nlayouts = 1;
	rq->layouts[0] = PLAN_SINGLE;
	rq->load_scale = 1;
	rq->max_preemptions_per_request = -1;
	rq->verify = 1;
	rq->d = d;
	rq->plan_id = 1;
}

static void test_known_answer(void)
{
	char path[512], dbp[512];
	double s, rate;
	plan_request rq;
	plan_result *r1 = NULL, *r2 = NULL;
	db *d = NULL;
	fs_err err = {0};
	int64_t n;
	char sql[128];

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "hand.yaml"), 0);
	CU_ASSERT_EQUAL_FATAL(tu_path(dbp, sizeof dbp, "plan.db"), 0);
	CU_ASSERT_EQUAL_FATAL(write_hand(path, 1.0, 10), 0);
	s = service_s(path);
	CU_ASSERT_FATAL(s > 0.05 && s < 5);
	rate = 3.5 / s;
	/* 40 s of traffic. */
	CU_ASSERT_EQUAL_FATAL(write_hand(path, rate, (int)(rate * 40)), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(dbp, &d, &err), 0);
	hand_request(&rq, path, d);
	if (plan_run(&rq, &r1, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
	CU_ASSERT_EQUAL(r1->noptions, 1);
	CU_ASSERT_EQUAL(r1->options[0].feasible, 1);
	CU_ASSERT_EQUAL(r1->options[0].tp[0], 1);
	CU_ASSERT_EQUAL(r1->options[0].best.replicas[0], 4);
	CU_ASSERT_EQUAL(r1->options[0].best.gpus, 4);
	CU_ASSERT_EQUAL(r1->best, 0);
	/* Analytical estimate: rate / (1 / S) = 3.5 replicas, within 20 %. */
	CU_ASSERT(fabs(r1->options[0].estimate_gpus - 3.5) < 0.7);
	/* Cost: 4 GPUs x 8760 h x the catalog's H100 price. */
	CU_ASSERT_DOUBLE_EQUAL(r1->options[0].annual_cost, 4 * 8760.0 * r1->options[0].price_per_gpu_hour, 1e-6);
	CU_ASSERT(r1->options[0].savings_vs_baseline == 0.0);
	/* The winner holds on the second seed, both in the plan and when re-simulated. */
	CU_ASSERT_EQUAL(r1->options[0].verify.seed, 8);
	CU_ASSERT_EQUAL(r1->options[0].verify.pass, 1);
	{
		plan_eval ev;
		CU_ASSERT_EQUAL(plan_simulate(&rq, &r1->options[0], r1->options[0].best.replicas, 0, 1.0, 8, "test",
					      &ev, NULL, &err), 0);
		CU_ASSERT_EQUAL(ev.pass, 1);
		/* One replica fewer breaks the SLO. */
		int three[1] = {3};
		CU_ASSERT_EQUAL(plan_simulate(&rq, &r1->options[0], three, 0, 1.0, 7, "test", &ev, NULL, &err), 0);
		CU_ASSERT_EQUAL(ev.pass, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(ev.reason, "TTFT"));
	}
	/* Every simulation is a plans row linked to a run. */
	snprintf(sql, sizeof sql, "SELECT count(*) FROM plans WHERE plan_id = 1 AND phase != 'test'");
	CU_ASSERT_EQUAL(db_query_int64(d, sql, &n, &err), 0);
	CU_ASSERT_EQUAL(n, r1->sims);
	CU_ASSERT_EQUAL(db_query_int64(d, "SELECT count(*) FROM plans p JOIN runs r USING (run_id)", &n, &err), 0);
	CU_ASSERT_EQUAL(n, r1->sims + 2);
	CU_ASSERT_EQUAL(db_query_int64(d, "SELECT min(replicas) FROM plans WHERE verdict = 'pass' AND seed = 7",
				       &n, &err), 0);
	CU_ASSERT_EQUAL(n, 4);

	/* More load never needs fewer GPUs: 1.6x -> lambda S = 5.6 -> 6 replicas. */
	rq.load_scale = 1.6;
	rq.d = NULL;
	CU_ASSERT_EQUAL(plan_run(&rq, &r2, &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
	CU_ASSERT_EQUAL(r2->options[0].best.replicas[0], 6);
	CU_ASSERT(r2->options[0].best.gpus >= r1->options[0].best.gpus);
	plan_result_free(r1);
	plan_result_free(r2);
	db_close(d);
}

/* ---- the SLO floor: fail fast when no fleet size can meet it ----
 * In the hand pool every request is the same 1024-token prompt, prefilled in one
 * step (max_num_batched_tokens 2048 >= 1024), so the unloaded TTFT of every request,
 * and hence the floor on TTFT p99, is exactly that one step: perf_step_s of a batch
 * holding one 1024-token prefill (tokens 1024, attention pairs 1024 x 1025 / 2).  An
 * SLO 10 % below it is out of reach at any size: the plan says so, names the bound,
 * and runs no simulation.  An SLO 10 % above it searches as before. */
static void test_slo_floor(void)
{
	char path[512], set[200];
	const char *sets[1] = {set};
	plan_request rq;
	plan_result *r = NULL;
	scenario *sc = NULL;
	perf_batch b;
	double prefill, decode;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "floor.yaml"), 0);
	CU_ASSERT_EQUAL_FATAL(write_hand(path, 2.0, 40), 0);
	CU_ASSERT_EQUAL_FATAL(scenario_load(path, NULL, 0, &sc, &err), 0);
	memset(&b, 0, sizeof b);
	perf_batch_add_prefill(&b, 0, HP);
	CU_ASSERT_DOUBLE_EQUAL(b.attn_pairs, 1024.0 * 1025 / 2, 1e-9);
	prefill = perf_step_s(&sc->policies[0].pools[0].perf, &b);
	memset(&b, 0, sizeof b);
	perf_batch_add_decode(&b, HP);
	decode = perf_step_s(&sc->policies[0].pools[0].perf, &b);
	scenario_free(sc);
	CU_ASSERT_FATAL(prefill > 0.01 && prefill < 1);

	hand_request(&rq, path, NULL);
	rq.sets = sets;
	rq.nsets = 1;
	snprintf(set, sizeof set, "slo.ttft_p99=%.9g", 0.9 * prefill);
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT_EQUAL(r->options[0].feasible, 0);
	CU_ASSERT_EQUAL(r->sims, 0);
	CU_ASSERT_DOUBLE_EQUAL(r->options[0].ttft_p99_floor_s, prefill, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r->options[0].tpot_p99_floor_s, decode, 1e-12);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].note, "unloaded prefill"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].note, "1024 tokens"));
	plan_result_free(r);
	r = NULL;

	/* TPOT below one lone decode step: also infeasible, and the note says TPOT. */
	snprintf(set, sizeof set, "slo.tpot_p99=%.9g", 0.5 * decode);
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT_EQUAL(r->options[0].feasible, 0);
	CU_ASSERT_EQUAL(r->sims, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].note, "TPOT"));
	plan_result_free(r);
	r = NULL;

	/* SLO classes: a class's own target is bounded over its requests ... */
	snprintf(set, sizeof set, "slo={ttft_p99: 10, classes: [{name: all, min_tokens_total: 1, ttft_p99: %.9g}]}",
		 0.9 * prefill);
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT_EQUAL(r->options[0].feasible, 0);
	CU_ASSERT_EQUAL(r->sims, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].note, "class 'all'"));
	plan_result_free(r);
	r = NULL;
	/* ... and the default target only over the requests in no class (here none): a
	 * tight default with a class target above the floor is not refused. */
	snprintf(set, sizeof set, "slo={ttft_p99: %.9g, classes: [{name: all, min_tokens_total: 1, ttft_p99: %.9g}]}",
		 0.9 * prefill, 1.1 * prefill);
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT(r->sims > 0);
	CU_ASSERT_PTR_NULL(strstr(r->options[0].note, "unloaded prefill"));
	plan_result_free(r);
	r = NULL;

	/* Above the floor the search runs and finds a fleet; its TTFT p99 is not below
	 * the floor (the floor is a lower bound). */
	snprintf(set, sizeof set, "slo.ttft_p99=%.9g", 1.1 * prefill);
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT(r->sims > 0);
	CU_ASSERT_EQUAL(r->options[0].feasible, 1);
	CU_ASSERT(r->options[0].best.ttft_p99_s >= r->options[0].ttft_p99_floor_s - 1e-9);
	plan_result_free(r);
}

/* ---- dual on the example scenario: second seed and monotone load ---- */

static void test_dual_example(void)
{
	char path[512];
	/* 150 s of source trace (~370 requests): keeps the sanitizer build, which checks
	 * the KV invariants after every step, within a minute or two. */
	const char *sets[] = {"workload.duration=150"};
	plan_request rq;
	plan_result *r[3] = {0};
	const double loads[3] = {0.5, 1, 2};
	fs_err err = {0};

	snprintf(path, sizeof path, "%s/scenarios/plan_example.yaml", FS_SOURCE_DIR);
	hand_request(&rq, path, NULL);
	rq.sets = sets;
	rq.nsets = 1;
	rq.layouts[0] = PLAN_DUAL;
	rq.nlayouts = 2;
	rq.layouts[1] = PLAN_SINGLE;
	/* Chained as `plan --load-scale` does: each plan's floor is the one below. */
	for (int i = 0; i < 3; i++) {
		rq.load_scale = loads[i];
		rq.lower = i ? r[i - 1] : NULL;
		if (plan_run(&rq, &r[i], &err))
			fprintf(stderr, "plan_run: %s\n", err.msg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r[i]);
		CU_ASSERT_EQUAL(r[i]->noptions, 2);
		for (int k = 0; k < 2; k++) {
			const plan_option *o = &r[i]->options[k];
			CU_ASSERT_EQUAL(o->feasible, 1);
			CU_ASSERT_EQUAL(o->verify.pass, 1);
			/* A trace replay ignores the seed: verified on a shifted window of the
			 * trace (same seed), plus +10 % load for the record. */
			CU_ASSERT_EQUAL(o->verify.seed, o->best.seed);
			CU_ASSERT_EQUAL(o->nchecks, 3);
			CU_ASSERT_PTR_NOT_NULL(strstr(o->check_name[0], "trace window"));
			CU_ASSERT_PTR_NOT_NULL(strstr(o->check_name[1], "block bootstrap"));
			CU_ASSERT_PTR_NOT_NULL(strstr(o->verified, "load x1.1"));
			CU_ASSERT(o->best.ttft_p99_s <= r[i]->slo.ttft_p99_s);
			if (i)
				CU_ASSERT(o->best.gpus >= r[i - 1]->options[k].best.gpus);
		}
		/* Dual: both pools get replicas, the threshold fits the short pool. */
		CU_ASSERT(r[i]->options[0].best.replicas[0] >= 1 && r[i]->options[0].best.replicas[1] >= 1);
		CU_ASSERT(r[i]->options[0].best.threshold > 0 &&
			  r[i]->options[0].best.threshold <= r[i]->options[0].max_model_len[0]);
	}
	/* Without the chain: 4x the load, planned from scratch, needs more GPUs than 1x
	 * (at 3x the dual layout's 1x plan, 1 + 2 replicas, still suffices: its pools
	 * round up separately). */
	{
		plan_result *r3 = NULL;
		rq.load_scale = 4;
		rq.lower = NULL;
		CU_ASSERT_EQUAL(plan_run(&rq, &r3, &err), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r3);
		for (int k = 0; k < 2; k++)
			CU_ASSERT(r3->options[k].best.gpus > r[1]->options[k].best.gpus);
		plan_result_free(r3);
	}
	for (int i = 0; i < 3; i++)
		plan_result_free(r[i]);
}


/* ---- the tuned search (issue 17) ---- */

static void tune_request(plan_request *rq, const char *path)
{
	hand_request(rq, path, NULL);
	rq->tune = 1;
}

static int gpus_of(const plan_result *r, const char *label)
{
	for (int i = 0; i < r->noptions; i++)
		if (!strcmp(r->options[i].label, label))
			return r->options[i].feasible ? r->options[i].best.gpus : -1;
	return -2;
}

/* Llama-3-70B in BF16 (~141 GB of weights) does not fit one H200: the planner picks a
 * TP that loads (and divides the 64 heads) without being told, and says why TP 1 was
 * left out.  A pinned TP beyond the node is refused with the reason. */
static void test_tune_tp_70b(void)
{
	char path[512];
	FILE *f;
	plan_request rq;
	plan_result *r = NULL;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "tp70b.yaml"), 0);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "name: tp70b\nseed: 3\nworkload:\n  synthetic:\n    requests: 120\n"
		   "    arrival: {process: poisson, rate: 2}\n    input: {dist: constant, value: 2000}\n"
		   "    output: {dist: constant, value: 100}\nmodel: llama-3-70b\n"
		   "slo: {ttft_p99: 3.0, tpot_p99: 0.1}\npolicies:\n  - name: single\n    pools:\n"
		   "      - {name: all, gpu: h200, replicas: 1, max_model_len: 8192}\n");
	fclose(f);
	tune_request(&rq, path);
	snprintf(rq.gpus[0], sizeof rq.gpus[0], "h200");
	rq.verify = 0;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->options[0].feasible, 1);
	CU_ASSERT(r->options[0].tp[0] >= 2 && r->options[0].tp[0] <= 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].tp_note, "TP 1"));
	CU_ASSERT(r->options[0].has_defaults);
	plan_result_free(r);
	r = NULL;
	/* Dual: each pool gets its own TP; the long pool also one step above the short. */
	rq.nlayouts = 1;
	rq.layouts[0] = PLAN_DUAL;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->options[0].feasible, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].tp_searched, "2+4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].tp_searched, "2+2"));
	CU_ASSERT_PTR_NULL(strstr(r->options[0].tp_searched, "1+"));
	plan_result_free(r);
	r = NULL;
	rq.layouts[0] = PLAN_SINGLE;
	/* TP 16 on 8-GPU nodes: no NVLink across nodes is invented. */
	rq.pin_tp = 16;
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	CU_ASSERT_EQUAL(r->options[0].feasible, 0);
	CU_ASSERT_EQUAL(r->sims, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].note, "pipeline parallelism"));
	plan_result_free(r);
}

/* A scenario with only a single-pool policy: the planner builds the dual layout
 * (short pool max_model_len = threshold, long pool = the single pool's), tunes it,
 * and the single option carries the vLLM-defaults baseline next to the tuned one. */
static void test_tune_dual_built(void)
{
	char path[512];
	plan_request rq;
	plan_result *r = NULL;
	fs_err err = {0};

	snprintf(path, sizeof path, "%s/tests/data/scenarios/plan_tune.yaml", FS_SOURCE_DIR);
	tune_request(&rq, path);
	rq.nlayouts = 2;
	rq.layouts[1] = PLAN_DUAL;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	{
		const plan_option *s1 = &r->options[0], *d = &r->options[1];
		CU_ASSERT_EQUAL(d->layout, PLAN_DUAL);
		CU_ASSERT_EQUAL(d->synth_dual, 1);
		CU_ASSERT_EQUAL(d->npools, 2);
		CU_ASSERT_EQUAL_FATAL(d->feasible, 1);
		CU_ASSERT(d->best.replicas[0] >= 1 && d->best.replicas[1] >= 1);
		CU_ASSERT_EQUAL(d->max_model_len[0], d->best.threshold);
		CU_ASSERT_EQUAL(d->max_model_len[1], 16384);
		CU_ASSERT(d->ntried >= 2);
		CU_ASSERT_STRING_EQUAL(d->pool_names[0], "short");
		/* Baselines: vLLM defaults simulated, tuned no worse on the planned traffic. */
		CU_ASSERT_EQUAL(s1->has_defaults, 1);
		CU_ASSERT_EQUAL_FATAL(s1->defaults_feasible, 1);
		CU_ASSERT(s1->searched_gpus <= s1->defaults.gpus);
		CU_ASSERT_EQUAL(s1->defaults_max_num_seqs, 1024);
		/* Synthetic workload: verified on the next seed, and at +10 % load. */
		CU_ASSERT_EQUAL(s1->check[0].seed, s1->best.seed + 1);
		CU_ASSERT_EQUAL(s1->nchecks, 2);
		CU_ASSERT_DOUBLE_EQUAL(s1->check[1].load_scale, 1.1, 1e-12);
	}
	plan_result_free(r);
	r = NULL;
	/* Pins: --thresholds 4096 and --tp 1 leave only those values in the search. */
	rq.nthresholds = 1;
	rq.thresholds[0] = 4096;
	rq.pin_tp = 1;
	rq.verify = 0;
	CU_ASSERT_EQUAL_FATAL(plan_run(&rq, &r, &err), 0);
	{
		const plan_option *d = &r->options[1];
		CU_ASSERT_EQUAL_FATAL(d->feasible, 1);
		CU_ASSERT_EQUAL(d->best.threshold, 4096);
		CU_ASSERT_EQUAL(d->max_model_len[0], 4096);
		for (int i = 0; i < d->ntried; i++) {
			CU_ASSERT_EQUAL(d->tried[i].threshold, 4096);
			CU_ASSERT_EQUAL(d->tried[i].tp[0], 1);
			CU_ASSERT_EQUAL(d->tried[i].tp[1], 1);
		}
		for (int i = 0; i < r->options[0].ntried; i++)
			CU_ASSERT_EQUAL(r->options[0].tried[i].tp[0], 1);
	}
	plan_result_free(r);
}

/* Physics: for the same SLO, B200 <= H200 <= H100 GPUs, and NVFP4 <= BF16 on B200,
 * for the verified answer (the search's predicate includes the verification traffic,
 * so no winner is grown after the search, which could break the order). */
static void test_tune_monotone(void)
{
	char path[512];
	plan_request rq;
	plan_result *r = NULL;
	fs_err err = {0};
	int h100, h200, b200, b200fp4;

	snprintf(path, sizeof path, "%s/tests/data/scenarios/plan_tune.yaml", FS_SOURCE_DIR);
	tune_request(&rq, path);
	CU_ASSERT_EQUAL(rq.verify, 1);
	rq.ngpus = 3;
	snprintf(rq.gpus[0], sizeof rq.gpus[0], "h100");
	snprintf(rq.gpus[1], sizeof rq.gpus[1], "h200");
	snprintf(rq.gpus[2], sizeof rq.gpus[2], "b200");
	rq.nprecs = 2;
	rq.precs[1] = PREC_NVFP4;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	h100 = gpus_of(r, "h100/bf16/single");
	h200 = gpus_of(r, "h200/bf16/single");
	b200 = gpus_of(r, "b200/bf16/single");
	b200fp4 = gpus_of(r, "b200/nvfp4/single");
	fprintf(stderr, "  [h100 %d, h200 %d, b200 %d, b200/nvfp4 %d] ", h100, h200, b200, b200fp4);
	CU_ASSERT(h100 > 0 && h200 > 0 && b200 > 0 && b200fp4 > 0);
	CU_ASSERT(b200 <= h200);
	CU_ASSERT(h200 <= h100);
	CU_ASSERT(b200fp4 <= b200);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *o = &r->options[i];
		/* Verified in the search: nothing added afterwards, and the check held. */
		CU_ASSERT_EQUAL(o->verify.pass, 1);
		CU_ASSERT_EQUAL(o->best.gpus, o->searched_gpus);
	}
	plan_result_free(r);
}

/* --mixed-gpus: dual options with the short pool on one GPU and the long pool on the
 * other (both orders), next to the single-GPU ones; each pool carries its GPU and price,
 * and the fleet's $/GPU-hour is the GPU-weighted mean of the pools' prices. */
static void test_tune_mixed(void)
{
	char path[512];
	plan_request rq;
	plan_result *r = NULL;
	fs_err err = {0};
	int nmixed = 0;

	snprintf(path, sizeof path, "%s/tests/data/scenarios/plan_tune.yaml", FS_SOURCE_DIR);
	tune_request(&rq, path);
	rq.verify = 0;
	rq.ngpus = 2;
	snprintf(rq.gpus[0], sizeof rq.gpus[0], "h100");
	snprintf(rq.gpus[1], sizeof rq.gpus[1], "b200");
	rq.layouts[0] = PLAN_DUAL;
	rq.nlayouts = 1;
	rq.mixed_gpus = 1;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->noptions, 4);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *o = &r->options[i];
		double usd = 0;
		int n = 0;
		if (!o->mixed)
			continue;
		nmixed++;
		CU_ASSERT_EQUAL_FATAL(o->feasible, 1);
		CU_ASSERT_STRING_EQUAL(o->label, strcmp(o->pool_gpu[0], "h100") ? "b200+h100/bf16/dual" : "h100+b200/bf16/dual");
		CU_ASSERT(strcmp(o->pool_gpu[0], o->pool_gpu[1]) != 0);
		CU_ASSERT_STRING_EQUAL(o->pool_gpu_display[1], strcmp(o->pool_gpu[1], "b200") ? "NVIDIA H100 SXM5 80GB"
											      : "NVIDIA B200 180GB");
		CU_ASSERT(o->cap_rps[0] > 0 && o->cap_rps[1] > 0);
		for (int k = 0; k < 2; k++) {
			usd += o->best.replicas[k] * o->tp[k] * o->pool_price[k];
			n += o->best.replicas[k] * o->tp[k];
		}
		CU_ASSERT_EQUAL(n, o->best.gpus);
		CU_ASSERT_DOUBLE_EQUAL(o->price_per_gpu_hour, usd / n, 1e-9);
		CU_ASSERT_DOUBLE_EQUAL(o->annual_cost, usd * PLAN_HOURS_PER_YEAR, 1e-6);
	}
	CU_ASSERT_EQUAL(nmixed, 2);
	plan_result_free(r);
}

/* A trace replay ignores the seed: verification must run on other requests.  The
 * check is a window of the trace shifted by half its length: its request stream
 * differs from the planned one (lengths and arrivals). */
static void test_verify_trace(void)
{
	char path[512];
	const char *sets[] = {"workload.duration=150"};
	const char *shifted[] = {"workload.duration=150", "workload.start=75"};
	plan_request rq;
	plan_result *r = NULL;
	scenario *a = NULL, *b = NULL;
	trace_reader *ta = NULL, *tb = NULL;
	fs_err err = {0};
	int differ = 0, n = 0;

	snprintf(path, sizeof path, "%s/scenarios/plan_example.yaml", FS_SOURCE_DIR);
	tune_request(&rq, path);
	rq.sets = sets;
	rq.nsets = 1;
	rq.max_candidates = 2;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(r->options[0].feasible, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].check_name[0], "trace window 75-225 s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r->options[0].verified, "trace window"));
	plan_result_free(r);
	CU_ASSERT_EQUAL_FATAL(scenario_load(path, sets, 1, &a, &err), 0);
	CU_ASSERT_EQUAL_FATAL(scenario_load(path, shifted, 2, &b, &err), 0);
	CU_ASSERT_EQUAL_FATAL(workload_open(&a->workload, a->seed, &ta, &err), 0);
	CU_ASSERT_EQUAL_FATAL(workload_open(&b->workload, b->seed, &tb, &err), 0);
	for (; n < 200; n++) {
		trace_req x, y;
		if (trace_next(ta, &x, &err) != 1 || trace_next(tb, &y, &err) != 1)
			break;
		differ += x.input_tokens != y.input_tokens || x.output_tokens != y.output_tokens ||
			  x.arrival_ns != y.arrival_ns;
	}
	if (n <= 20)
		fprintf(stderr, "  [%d requests compared, %d differ: %s] ", n, differ, err.msg);
	CU_ASSERT(n > 20);
	CU_ASSERT(differ > n / 2);
	trace_close(ta);
	trace_close(tb);
	scenario_free(b);
	b = NULL;
	/* The block bootstrap (workload.bootstrap, what a whole-trace replay is verified
	 * on): as many blocks as the window spans, drawn with replacement, so about as
	 * many requests, arrivals non-decreasing, and a different stream; the same seed
	 * gives the same stream. */
	{
		const char *boot[] = {"workload.duration=150", "workload.bootstrap={block: 10, seed: 5}"};
		int64_t na = 0, nb = 0, nb2 = 0, last = 0, same = 0;
		int mono = 1;
		trace_req x, y;
		trace_reader *tc = NULL;
		scenario *c = NULL;
		CU_ASSERT_EQUAL_FATAL(scenario_load(path, boot, 2, &b, &err), 0);
		CU_ASSERT_EQUAL_FATAL(scenario_load(path, boot, 2, &c, &err), 0);
		CU_ASSERT_EQUAL_FATAL(workload_open(&a->workload, a->seed, &ta, &err), 0);
		CU_ASSERT_EQUAL_FATAL(workload_open(&b->workload, b->seed, &tb, &err), 0);
		CU_ASSERT_EQUAL_FATAL(workload_open(&c->workload, c->seed, &tc, &err), 0);
		while (trace_next(ta, &x, &err) == 1)
			na++;
		while (trace_next(tb, &y, &err) == 1) {
			trace_req z;
			nb++;
			mono &= y.arrival_ns >= last;
			last = y.arrival_ns;
			if (trace_next(tc, &z, &err) == 1) {
				nb2++;
				same += z.arrival_ns == y.arrival_ns && z.input_tokens == y.input_tokens;
			}
		}
		CU_ASSERT(mono);
		CU_ASSERT(nb > na / 2 && nb < 2 * na);
		CU_ASSERT_EQUAL(same, nb);
		CU_ASSERT_EQUAL(nb2, nb);
		CU_ASSERT_PTR_NOT_NULL(strstr(b->params_json, "bootstrap"));
		trace_close(ta);
		trace_close(tb);
		trace_close(tc);
		scenario_free(c);
		scenario_free(b);
	}
	scenario_free(a);
}

/* ---- manifests ---- */

static const char *scalar_at(struct fy_node *root, const char *p)
{
	struct fy_node *n = fy_node_by_path(root, p, (size_t)-1, FYNWF_DONT_FOLLOW);
	size_t len;
	static char buf[256];
	const char *s;

	if (!n || !(s = fy_node_get_scalar(n, &len)) || len >= sizeof buf)
		return "";
	memcpy(buf, s, len);
	buf[len] = 0;
	return buf;
}

/* Mapping path p, then key (which may hold '/', unlike a path component). */
static const char *scalar_key(struct fy_node *root, const char *p, const char *key)
{
	struct fy_node *n = fy_node_by_path(root, p, (size_t)-1, FYNWF_DONT_FOLLOW);
	size_t len;
	static char buf[256];
	const char *s;

	if (!n || !(n = fy_node_mapping_lookup_by_string(n, key, strlen(key))) ||
	    !(s = fy_node_get_scalar(n, &len)) || len >= sizeof buf)
		return "";
	memcpy(buf, s, len);
	buf[len] = 0;
	return buf;
}

static int has_arg(struct fy_node *root, const char *want)
{
	struct fy_node *args = fy_node_by_path(root, "/spec/template/spec/containers/0/args", (size_t)-1,
					       FYNWF_DONT_FOLLOW), *it;
	void *iter = NULL;

	while (args && (it = fy_node_sequence_iterate(args, &iter))) {
		size_t len;
		const char *s = fy_node_get_scalar(it, &len);
		if (s && len == strlen(want) && !memcmp(s, want, len))
			return 1;
	}
	return 0;
}


static void test_manifests(void)
{
	plan_result *r = calloc(1, sizeof *r);
	plan_option *o = &r->options[0];
	char dir[512], path[600];
	struct fy_document *docs[4] = {0};
	fs_err err = {0};
	int n;

	snprintf(r->model, sizeof r->model, "llama-3.1-8b");
	r->noptions = 1;
	o->feasible = 1;
	snprintf(o->label, sizeof o->label, "b200/nvfp4/dual");
	snprintf(o->gpu, sizeof o->gpu, "b200");
	snprintf(o->gpu_display, sizeof o->gpu_display, "NVIDIA B200");
	o->prec = PREC_NVFP4;
	o->kv = PREC_FP8;
	o->layout = PLAN_DUAL;
	o->npools = 2;
	snprintf(o->pool_names[0], 64, "Short_Pool");
	snprintf(o->pool_names[1], 64, "long");
	o->tp[0] = 1;
	o->tp[1] = 2;
	o->max_model_len[0] = 4096;
	o->max_model_len[1] = 32768;
	o->max_num_seqs[0] = 128;
	o->max_num_seqs[1] = 16;
	o->max_num_batched_tokens[0] = o->max_num_batched_tokens[1] = 8192;
	o->gpu_memory_utilization[0] = o->gpu_memory_utilization[1] = 0.9;
	o->best.npools = 2;
	o->best.replicas[0] = 5;
	o->best.replicas[1] = 3;
	o->best.threshold = 3000;
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "manifests"), 0);
	CU_ASSERT_EQUAL_FATAL(sizing_write_manifests(r, o, dir, &err), 0);

	snprintf(path, sizeof path, "%s/short-pool.yaml", dir);
	n = tu_yaml_docs(path, docs, 4);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	{
		struct fy_node *root = fy_document_root(docs[0]);
		CU_ASSERT_STRING_EQUAL(scalar_at(root, "/kind"), "Deployment");
		CU_ASSERT_STRING_EQUAL(scalar_at(root, "/spec/replicas"), "5");
		CU_ASSERT_STRING_EQUAL(
			scalar_key(root, "/spec/template/spec/containers/0/resources/limits", "nvidia.com/gpu"), "1");
		CU_ASSERT(has_arg(root, "--max-model-len=4096"));
		CU_ASSERT(has_arg(root, "--max-num-seqs=128"));
		CU_ASSERT(has_arg(root, "--gpu-memory-utilization=0.90"));
		CU_ASSERT(has_arg(root, "--tensor-parallel-size=1"));
		CU_ASSERT(has_arg(root, "--quantization=modelopt_fp4"));
		CU_ASSERT(has_arg(root, "--kv-cache-dtype=fp8"));
		CU_ASSERT_STRING_EQUAL(scalar_key(root, "/metadata/labels", "kueue.x-k8s.io/queue-name"),
				       "short-pool-queue");
		CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[1]), "/kind"), "Service");
	}
	for (int i = 0; i < n; i++)
		fy_document_destroy(docs[i]);
	snprintf(path, sizeof path, "%s/long.yaml", dir);
	n = tu_yaml_docs(path, docs, 4);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[0]), "/spec/replicas"), "3");
	CU_ASSERT(has_arg(fy_document_root(docs[0]), "--tensor-parallel-size=2"));
	CU_ASSERT_STRING_EQUAL(
		scalar_key(fy_document_root(docs[0]), "/spec/template/spec/containers/0/resources/requests",
			   "nvidia.com/gpu"),
		"2");
	for (int i = 0; i < n; i++)
		fy_document_destroy(docs[i]);
	snprintf(path, sizeof path, "%s/kueue-localqueues.yaml", dir);
	n = tu_yaml_docs(path, docs, 4);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[0]), "/kind"), "LocalQueue");
	CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[1]), "/metadata/name"), "long-queue");
	for (int i = 0; i < n; i++)
		fy_document_destroy(docs[i]);
	snprintf(path, sizeof path, "%s/router-configmap.yaml", dir);
	n = tu_yaml_docs(path, docs, 4);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[0]), "/kind"), "ConfigMap");
	CU_ASSERT_STRING_EQUAL(scalar_at(fy_document_root(docs[0]), "/data/threshold"), "3000");
	fy_document_destroy(docs[0]);
	CU_ASSERT_STRING_EQUAL(sizing_vllm_kv_dtype(PREC_BF16), "auto");
	CU_ASSERT_PTR_NULL(sizing_vllm_quantization(PREC_BF16));
	free(r);
}

static void test_bad_input(void)
{
	plan_request rq;
	plan_result *r = NULL;
	fs_err err = {0};
	char path[512];
	plan_layout l;

	snprintf(path, sizeof path, "%s/scenarios/plan_example.yaml", FS_SOURCE_DIR);
	hand_request(&rq, path, NULL);
	rq.baseline = "a100/bf16/single";
	CU_ASSERT_EQUAL(plan_run(&rq, &r, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NULL(r);
	rq.baseline = NULL;
	snprintf(rq.gpus[0], sizeof rq.gpus[0], "tpu9");
	CU_ASSERT_EQUAL(plan_run(&rq, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "tpu9"));
	CU_ASSERT_EQUAL(plan_layout_parse("triple", &l, &err), -1);
	CU_ASSERT_EQUAL(plan_layout_parse("Dual", &l, &err), 0);
	CU_ASSERT_EQUAL(l, PLAN_DUAL);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("plan", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "search on fake predicates", test_search_fake) ||
	    !CU_add_test(s, "per-pool split search on fake predicates", test_search_split) ||
	    !CU_add_test(s, "SLO floor: infeasible at any size, no simulation", test_slo_floor) ||
	    !CU_add_test(s, "known answer: pool sized by hand", test_known_answer) ||
	    !CU_add_test(s, "dual: second seed, monotone load", test_dual_example) ||
	    !CU_add_test(s, "manifests parse with the planned values", test_manifests) ||
	    !CU_add_test(s, "tuned: 70B BF16 on H200 picks a TP that fits", test_tune_tp_70b) ||
	    !CU_add_test(s, "tuned: dual built from a single-pool scenario, baselines", test_tune_dual_built) ||
	    !CU_add_test(s, "tuned: B200 <= H200 <= H100, NVFP4 <= BF16", test_tune_monotone) ||
	    !CU_add_test(s, "tuned: a GPU per pool (--mixed-gpus)", test_tune_mixed) ||
	    !CU_add_test(s, "verification of a trace replay uses other requests", test_verify_trace) ||
	    !CU_add_test(s, "bad input", test_bad_input))
		return -1;
	return 0;
}
