/*
 * CUnit suite for sim/replica: a replica driven by hand, step by step, against
 * times computed on paper.
 *
 * Step-time models used (all other perf fields 0):
 *  - COMPUTE: overhead 1/64 s, 1 FLOP per token at 1/512 s per FLOP, so a step of
 *    n tokens takes 15625000 + n x 1953125 ns exactly (binary fractions, no rounding):
 *    8192 tokens = 16 s + 15.625 ms = 16015625000 ns.
 *  - MEMORY: COMPUTE plus 1/512 s per context token whose KV is read (a decode
 *    reads its context and the new token, a prefill chunk the prefix before it):
 *    a step takes 15625000 + (KV read + tokens) x 1953125 ns, so decodes get
 *    slower as the context grows, which shows the replica passes the right context.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sim/replica.h"

#define OVH 15625000LL  /* 1/64 s */
#define TOK 1953125LL   /* 1/512 s */

static perf_model compute_model(void)
{
	perf_model p;

	perf_init_linear(&p, 1.0 / 64, 1.0 / 512);
	return p;
}

static perf_model memory_model(void)
{
	perf_model p;

	perf_init_linear(&p, 1.0 / 64, 1.0 / 512);
	p.kv_s_per_token = 1.0 / 512;
	return p;
}

static replica_cfg base_cfg(const perf_model *p)
{
	replica_cfg c;

	memset(&c, 0, sizeof c);
	c.max_num_seqs = 256;
	c.max_num_batched_tokens = 8192;
	c.max_model_len = 32768;
	c.block_size = 16;
	c.num_blocks = 4096;
	c.enable_prefix_caching = 1;
	c.perf = p;
	return c;
}

static void mkreq(sim_req *r, int64_t id, int32_t prompt, int32_t output, int32_t max_tokens)
{
	memset(r, 0, sizeof *r);
	r->id = id;
	r->prompt = prompt;
	r->output = r->true_output = output;
	r->max_tokens = max_tokens;
	r->first_token = r->finish = r->last_scheduled = -1;
	r->prompt_bytes = -1;
}

typedef struct done_log {
	int n;
	int64_t ids[16];
} done_log;

static void on_done(void *ctx, sim_req *req)
{
	done_log *d = ctx;

	if (d->n < 16)
		d->ids[d->n] = req->id;
	d->n++;
}

/* One step: begin at *now, end after its duration; returns the duration (0 = idle).
 * The replica's invariants are checked after every step. */
static int64_t step(replica *r, simtime_t *now, done_log *d)
{
	fs_err err = {0};
	int64_t dur = replica_begin_step(r, *now);

	if (dur <= 0)
		return 0;
	CU_ASSERT(replica_in_step(r));
	*now += dur;
	replica_end_step(r, *now, on_done, d);
	CU_ASSERT(!replica_in_step(r));
	if (replica_check(r, &err) != 0)
		CU_FAIL(err.msg);
	return dur;
}

static void test_lone_request(void)
{
	perf_model p = memory_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	replica_stats st;

	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 1000, 4, -1);
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 1004); /* 1000 prompt + 4 output */
	/* Prefill 1000 tokens, context 0: 15625000 + 1000 x 1953125 = 1968750000. */
	CU_ASSERT_EQUAL(step(r, &now, &d), 1968750000LL);
	CU_ASSERT_EQUAL(a.first_token, 1968750000LL);
	CU_ASSERT_EQUAL(a.generated, 1);
	CU_ASSERT_EQUAL(a.n_blocks, 63); /* ceil(1000 / 16) */
	/* Decodes of 1 token read 1000 + 1, 1001 + 1, 1002 + 1 tokens of KV:
	 * 15625000 + 1002 x 1953125 = 1972656250, then 1974609375, 1976562500. */
	CU_ASSERT_EQUAL(step(r, &now, &d), 1972656250LL);
	CU_ASSERT_EQUAL(step(r, &now, &d), 1974609375LL);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_EQUAL(step(r, &now, &d), 1976562500LL);
	/* TTFT is the prefill step; finish is the sum of all four: 7892578125. */
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_EQUAL(a.status, RQ_DONE);
	CU_ASSERT_EQUAL(a.finish, 7892578125LL);
	CU_ASSERT_EQUAL(a.last_scheduled, 7892578125LL);
	CU_ASSERT_EQUAL(a.generated, 4);
	CU_ASSERT_EQUAL(a.computed, 1003); /* the last sampled token is never fed back */
	CU_ASSERT_EQUAL(replica_has_work(r), 0);
	CU_ASSERT_EQUAL(replica_begin_step(r, now), 0);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 0);
	replica_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.steps, 4);
	CU_ASSERT_EQUAL(st.busy_ns, 7892578125LL);
	CU_ASSERT_EQUAL(st.tokens_computed, 1003);
	CU_ASSERT_EQUAL(st.preemptions, 0);
	replica_destroy(r);
	free(a.blocks);
}

static void test_chunked_prefill(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 20000, 2, -1);
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	/* 20000 = 8192 + 8192 + 3616. 8192 tokens: 16 s + 1/64 s = 16015625000 ns. */
	CU_ASSERT_EQUAL(replica_begin_step(r, now), 16015625000LL);
	CU_ASSERT_EQUAL(a.scheduled, 8192);
	now += 16015625000LL;
	replica_end_step(r, now, on_done, &d);
	CU_ASSERT_EQUAL(a.computed, 8192);
	CU_ASSERT_EQUAL(a.generated, 0); /* a partial chunk samples nothing */
	CU_ASSERT_EQUAL(a.first_token, -1);
	CU_ASSERT_EQUAL(step(r, &now, &d), 16015625000LL);
	CU_ASSERT_EQUAL(a.computed, 16384);
	CU_ASSERT_EQUAL(a.first_token, -1);
	/* 3616 tokens: 3616 / 512 = 7.0625 s + 1/64 s = 7078125000 ns. */
	CU_ASSERT_EQUAL(step(r, &now, &d), 7078125000LL);
	CU_ASSERT_EQUAL(a.computed, 20000);
	CU_ASSERT_EQUAL(a.generated, 1);
	/* TTFT = 2 x 16015625000 + 7078125000 = 39109375000. */
	CU_ASSERT_EQUAL(a.first_token, 39109375000LL);
	/* One decode: 1/512 + 1/64 s = 17578125 ns. */
	CU_ASSERT_EQUAL(step(r, &now, &d), 17578125LL);
	CU_ASSERT_EQUAL(a.finish, 39109375000LL + 17578125LL);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);
	free(a.blocks); /* the request owns its block array (kept for reuse by kv) */

	/* long_prefill_token_threshold 4096 caps each chunk: 20000 = 4 x 4096 + 3616. */
	c.long_prefill_token_threshold = 4096;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 20000, 1, -1);
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	now = 0;
	CU_ASSERT_EQUAL(step(r, &now, &d), OVH + 4096 * TOK);
	CU_ASSERT_EQUAL(a.computed, 4096);
	step(r, &now, &d);
	step(r, &now, &d);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(step(r, &now, &d), OVH + 3616 * TOK);
	CU_ASSERT_EQUAL(a.status, RQ_DONE);
	CU_ASSERT_EQUAL(a.first_token, 5 * OVH + 20000 * TOK);
	replica_destroy(r);
	free(a.blocks);
}

/* KV for exactly N = 7 blocks of 16 tokens (max_model_len 64 needs 4).
 * A and B: prompt 32, output 20 -> each needs at most 32 + 19 = 51 tokens = 4
 * blocks, 8 together: the 8th block must preempt.
 *  step 1: both prefill 32 (2 blocks each, 4 used); each samples token 1.
 *  step k (2..17): both decode; computed 32 + k - 2 -> 3 blocks each (6 used).
 *  step 18: computed 48, token 49 needs a 4th block: A gets it (7 used); B cannot ->
 *           B is the last running request, so B itself is preempted (blocks freed,
 *           computed 0, 17 tokens generated so far) and pass 1 stops. A runs alone.
 *  steps 19, 20: A decodes (4 blocks); B at the head of WAITING needs
 *           32 + 17 = 49 tokens = 4 blocks but only 3 are free: not admitted.
 *           A reaches 20 tokens at the end of step 20 and frees its 4 blocks.
 *  C (prompt 16, output 1) arrives just before step 18, behind B once B is pushed
 *  back to the HEAD of WAITING: FCFS, C waits behind B although 1 block would fit.
 *  step 21: B re-prefills 49 tokens (4 blocks) and samples token 18; C is admitted
 *           behind it (16 tokens, 1 block) and finishes.
 *  steps 22, 23: B decodes tokens 19, 20 and finishes.
 * Times (COMPUTE model): step 1 = 64 tokens = 15625000 + 125000000 = 140625000;
 * steps 2-17 = 2 tokens = 19531250 each (x16 = 312500000); steps 18-20 = 1 token =
 * 17578125 each (x3 = 52734375); A finishes at 505859375.  Step 21 = 49 + 16 = 65
 * tokens = 15625000 + 126953125 = 142578125 (C finishes at 648437500); steps 22-23 =
 * 35156250; B finishes at 683593750. */
static void test_preemption(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a, b, cc;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	replica_stats st;
	int k;

	c.max_model_len = 64;
	c.num_blocks = 7;
	/* Recompute from scratch: with caching on B would re-hit its own blocks
	 * (test_resume_hits_own_blocks). */
	c.enable_prefix_caching = 0;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 32, 20, -1);
	mkreq(&b, 1, 32, 20, -1);
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	CU_ASSERT_EQUAL(replica_add(r, &b, 0), 0);
	CU_ASSERT_EQUAL(step(r, &now, &d), 140625000LL);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 4);
	CU_ASSERT_EQUAL(b.first_token, 140625000LL);
	for (k = 2; k <= 17; k++)
		CU_ASSERT_EQUAL(step(r, &now, &d), 19531250LL);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 6);
	CU_ASSERT_EQUAL(b.generated, 17);
	CU_ASSERT_EQUAL(b.computed, 48);

	/* Step 18: the 8th block. */
	mkreq(&cc, 2, 16, 1, -1);
	CU_ASSERT_EQUAL(replica_add(r, &cc, now), 0);
	CU_ASSERT_EQUAL(replica_begin_step(r, now), 17578125LL);
	CU_ASSERT_EQUAL(b.status, RQ_WAITING);
	CU_ASSERT_EQUAL(b.preemptions, 1);
	CU_ASSERT_EQUAL(b.computed, 0);
	CU_ASSERT_EQUAL(b.n_blocks, 0);
	CU_ASSERT_EQUAL(a.preemptions, 0);
	CU_ASSERT_EQUAL(a.n_blocks, 4);
	CU_ASSERT_EQUAL(replica_num_running(r), 1);
	CU_ASSERT_EQUAL(replica_num_waiting(r), 2);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 4);
	now += 17578125LL;
	replica_end_step(r, now, on_done, &d);
	CU_ASSERT_EQUAL(step(r, &now, &d), 17578125LL); /* 19: B (and C) not admitted */
	CU_ASSERT_EQUAL(replica_num_waiting(r), 2);
	CU_ASSERT_EQUAL(step(r, &now, &d), 17578125LL); /* 20: A finishes */
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_EQUAL(d.ids[0], 0);
	CU_ASSERT_EQUAL(a.finish, 505859375LL);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	/* Step 21: B recomputes prompt + its 17 generated tokens; C runs behind it. */
	CU_ASSERT_EQUAL(step(r, &now, &d), 142578125LL);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_EQUAL(d.ids[1], 2);
	CU_ASSERT_EQUAL(cc.finish, 648437500LL);
	CU_ASSERT_EQUAL(cc.first_token, 648437500LL);
	CU_ASSERT_EQUAL(b.computed, 49);
	CU_ASSERT_EQUAL(b.generated, 18);
	CU_ASSERT_EQUAL(b.first_token, 140625000LL); /* TTFT not re-recorded */
	step(r, &now, &d);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(d.n, 3);
	CU_ASSERT_EQUAL(b.status, RQ_DONE);
	CU_ASSERT_EQUAL(b.finish, 683593750LL);
	CU_ASSERT_EQUAL(b.generated, 20);
	CU_ASSERT_EQUAL(b.preemptions, 1);
	replica_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.preemptions, 1);
	CU_ASSERT_EQUAL(st.steps, 23);
	/* 64 + 16 x 2 + 3 + 49 + 16 + 2 = 166 tokens computed, 49 of them recompute. */
	CU_ASSERT_EQUAL(st.tokens_computed, 166);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	CU_ASSERT_EQUAL(replica_has_work(r), 0);
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);
	free(cc.blocks);
}

/* No admission in a step that preempted.  4 blocks of 16, max_model_len 64,
 * long_prefill_token_threshold 16 (so a re-prefill chunk needs only 1 block).
 * A, B: prompt 16, output 40.  Step 1: both prefill 16 (1 block each).  Steps 2-17:
 * both decode with 2 blocks each (4 used).  Step 18: A needs a 3rd block -> preempt the
 * last running request B (2 blocks freed) -> A takes one, 1 free.  B at the head of
 * WAITING would fit (first chunk 16 tokens = 1 block) but is NOT admitted in this
 * step; it is in step 19. */
static void test_no_admission_after_preemption(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a, b;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	int k;

	c.max_model_len = 64;
	c.num_blocks = 4;
	c.long_prefill_token_threshold = 16;
	c.enable_prefix_caching = 0;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 16, 40, -1);
	mkreq(&b, 1, 16, 40, -1);
	replica_add(r, &a, 0);
	replica_add(r, &b, 0);
	for (k = 1; k <= 17; k++)
		step(r, &now, &d);
	CU_ASSERT_EQUAL(a.generated, 17);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 4);
	/* Step 18: A decodes alone: 1 token. */
	CU_ASSERT_EQUAL(replica_begin_step(r, now), OVH + TOK);
	CU_ASSERT_EQUAL(b.preemptions, 1);
	CU_ASSERT_EQUAL(replica_num_running(r), 1);
	CU_ASSERT_EQUAL(replica_num_waiting(r), 1);
	CU_ASSERT_EQUAL(kv_free_blocks(replica_kv(r)), 1);
	now += OVH + TOK;
	replica_end_step(r, now, on_done, &d);
	/* Step 19: A decodes (1 token) and B is admitted with a 16-token chunk. */
	CU_ASSERT_EQUAL(step(r, &now, &d), OVH + 17 * TOK);
	CU_ASSERT_EQUAL(replica_num_running(r), 2);
	CU_ASSERT_EQUAL(b.computed, 16);
	for (k = 0; k < 400 && replica_has_work(r); k++)
		step(r, &now, &d);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_EQUAL(a.status, RQ_DONE);
	CU_ASSERT_EQUAL(b.status, RQ_DONE);
	CU_ASSERT_EQUAL(a.generated, 40);
	CU_ASSERT_EQUAL(b.generated, 40);
	CU_ASSERT(b.preemptions >= 1);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	free(a.blocks);
	free(b.blocks);
	replica_destroy(r);
}

/* max_num_seqs = 2, three requests of prompt 16 / output 3.
 * step 1: A and B prefill (32 tokens: 15625000 + 62500000 = 78125000), C waits.
 * steps 2, 3: A and B decode (2 tokens: 19531250 each) and finish after step 3.
 * step 4: C prefills 16 tokens: 15625000 + 31250000 = 46875000.
 * C's first token at 78125000 + 2 x 19531250 + 46875000 = 164062500. */
static void test_max_num_seqs(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req q[3];
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	int i;

	c.max_num_seqs = 2;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	for (i = 0; i < 3; i++) {
		mkreq(&q[i], i, 16, 3, -1);
		CU_ASSERT_EQUAL(replica_add(r, &q[i], 0), 0);
	}
	CU_ASSERT_EQUAL(step(r, &now, &d), 78125000LL);
	CU_ASSERT_EQUAL(replica_num_running(r), 2);
	CU_ASSERT_EQUAL(replica_num_waiting(r), 1);
	CU_ASSERT_EQUAL(q[2].status, RQ_WAITING);
	CU_ASSERT_EQUAL(step(r, &now, &d), 19531250LL);
	CU_ASSERT_EQUAL(replica_num_running(r), 2);
	CU_ASSERT_EQUAL(step(r, &now, &d), 19531250LL);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_EQUAL(d.ids[0], 0);
	CU_ASSERT_EQUAL(d.ids[1], 1);
	CU_ASSERT_EQUAL(step(r, &now, &d), 46875000LL);
	CU_ASSERT_EQUAL(q[2].first_token, 164062500LL);
	while (replica_has_work(r))
		step(r, &now, &d);
	CU_ASSERT_EQUAL(d.n, 3);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);
	for (i = 0; i < 3; i++)
		free(q[i].blocks);
}

/* Issue 20: a macro-step with a full batch admits nobody, so a request queued while
 * it runs changes none of its steps (replica_admits_none; the fleet then does not cut
 * it).  The fast path takes the decodes as one macro-step, the request joins its
 * queue half-way, and every finish and first-token time equals the reference's
 * (fast_path 0, one step at a time, the request queued at the same time). */
static void test_full_batch_ignores_arrivals(void)
{
	perf_model p = compute_model();
	simtime_t fin[2][3], first[2][3];

	for (int fast = 0; fast < 2; fast++) {
		replica_cfg c = base_cfg(&p);
		replica *r = NULL;
		sim_req q[3];
		done_log d = {0};
		simtime_t now = 0, t_add;
		fs_err err = {0};
		int64_t dur;

		c.max_num_seqs = 2;
		c.fast_path = fast;
		CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
		for (int i = 0; i < 3; i++)
			mkreq(&q[i], i, 16, i < 2 ? 8 : 3, -1);
		CU_ASSERT_EQUAL(replica_add(r, &q[0], 0), 0);
		CU_ASSERT_EQUAL(replica_add(r, &q[1], 0), 0);
		CU_ASSERT(!replica_admits_none(r)); /* no step in flight */
		step(r, &now, &d);                  /* both prefills: first tokens */
		/* Decodes 2..8 of 8: one macro-step of 7 steps on the fast path. */
		dur = replica_begin_step_until(r, now, INT64_MAX);
		CU_ASSERT(replica_admits_none(r));
		CU_ASSERT_EQUAL(replica_step_count(r), fast ? 7 : 1);
		t_add = now + 2 * 19531250LL + 1; /* during the third decode */
		if (fast) {
			CU_ASSERT_EQUAL(replica_add(r, &q[2], t_add), 0);
			CU_ASSERT_EQUAL(replica_step_count(r), 7);
			now += dur;
			replica_end_step(r, now, on_done, &d);
		} else {
			for (;;) {
				now += dur;
				replica_end_step(r, now, on_done, &d);
				if (now < t_add && now + 19531250LL > t_add)
					CU_ASSERT_EQUAL(replica_add(r, &q[2], t_add), 0);
				if (d.n > 0)
					break;
				dur = replica_begin_step(r, now);
			}
		}
		CU_ASSERT_EQUAL(d.n, 2);
		CU_ASSERT_EQUAL(q[2].status, RQ_WAITING);
		if (replica_check(r, &err) != 0)
			CU_FAIL(err.msg);
		while (replica_has_work(r))
			step(r, &now, &d);
		CU_ASSERT_EQUAL(d.n, 3);
		for (int i = 0; i < 3; i++) {
			fin[fast][i] = q[i].finish;
			first[fast][i] = q[i].first_token;
			free(q[i].blocks);
		}
		replica_destroy(r);
	}
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(fin[0][i], fin[1][i]);
		CU_ASSERT_EQUAL(first[0][i], first[1][i]);
	}
}

static void test_rejection_and_create(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a;
	fs_err err = {0};

	c.max_model_len = 1024;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 1024, 10, -1); /* prompt fills the whole window: no room to sample */
	CU_ASSERT_EQUAL(replica_add(r, &a, 5), 1);
	CU_ASSERT_EQUAL(a.status, RQ_REJECTED);
	CU_ASSERT_EQUAL(a.finish, 5);
	mkreq(&a, 1, 1000, 10, 25); /* 1000 + 25 = 1025 > 1024 */
	CU_ASSERT_EQUAL(replica_add(r, &a, 5), 1);
	mkreq(&a, 2, 1000, 100, 24); /* 1024: accepted, output clamped to max_tokens 24 */
	CU_ASSERT_EQUAL(replica_add(r, &a, 5), 0);
	CU_ASSERT_EQUAL(a.output, 24);
	CU_ASSERT_EQUAL(a.true_output, 100);
	replica_abort_all(r, NULL, NULL);
	CU_ASSERT_EQUAL(a.status, RQ_UNFINISHED);
	mkreq(&a, 3, 1000, 100, -1); /* no max_tokens: clamped to the 24 left in the window */
	CU_ASSERT_EQUAL(replica_add(r, &a, 5), 0);
	CU_ASSERT_EQUAL(a.output, 24);
	replica_abort_all(r, NULL, NULL);
	mkreq(&a, 4, 10, 0, -1); /* zero output is raised to one token */
	CU_ASSERT_EQUAL(replica_add(r, &a, 5), 0);
	CU_ASSERT_EQUAL(a.output, 1);
	CU_ASSERT_EQUAL(replica_num_waiting(r), 1);
	replica_abort_all(r, NULL, NULL);
	CU_ASSERT_EQUAL(replica_has_work(r), 0);
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 0);
	replica_destroy(r);

	/* 1024 tokens need 64 blocks of 16: 63 is refused, naming both numbers. */
	c.num_blocks = 63;
	CU_ASSERT_EQUAL(replica_create(&c, &r, &err), -1);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "63 blocks"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "64 blocks"));
	c.num_blocks = 64;
	CU_ASSERT_EQUAL(replica_create(&c, &r, &err), 0);
	replica_destroy(r);
	c.max_num_seqs = 0;
	CU_ASSERT_EQUAL(replica_create(&c, &r, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "max_num_seqs"));
	c.max_num_seqs = 4;
	c.block_size = 0;
	CU_ASSERT_EQUAL(replica_create(&c, &r, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
}

/* Prefix hits skip prefill.  Prompts of 2000 tokens with 4 Mooncake hashes
 * (512 tokens each, covering min(2048, 2000) = 2000 tokens = 125 full blocks).
 * A alone: TTFT = 15625000 + 2000 x 1953125 = 3921875000.  B with the same hashes,
 * after A finished: hit = min(125, (2000 - 1) / 16 = 124) blocks = 1984 tokens, so
 * B prefills 16 tokens: TTFT = 15625000 + 16 x 1953125 = 46875000. */
/* Preemption keeps the victim's full blocks cached under keys private to it (vLLM
 * hashes every full block of prompt and output): when nothing evicted them, its
 * resume re-hits them and recomputes only the rest.  Same setup as test_preemption
 * (7 blocks of 16): B (prompt 32, 17 tokens generated, 48 computed = 3 full blocks)
 * is preempted for A's block; its 3 blocks go to the tail of the free queue; A takes
 * 1 of the 3 free... (A's new block comes from the queue's head: B's tail block,
 * freed first) so on resume B re-hits blocks 0 and 1 (32 tokens) and recomputes 17. */
static void test_resume_hits_own_blocks(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a, b;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	replica_stats st;
	int k;

	c.max_model_len = 64;
	c.num_blocks = 7;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 32, 20, -1);
	mkreq(&b, 1, 32, 20, -1);
	replica_add(r, &a, 0);
	replica_add(r, &b, 0);
	for (k = 1; k <= 17; k++)
		step(r, &now, &d);
	CU_ASSERT_EQUAL(b.computed, 48);
	CU_ASSERT_EQUAL(kv_free_blocks(replica_kv(r)), 1);
	step(r, &now, &d); /* 18: A takes the free block, needs none more; B preempted? */
	CU_ASSERT_EQUAL(b.preemptions, 1);
	CU_ASSERT_EQUAL(b.status, RQ_WAITING);
	/* B's 3 full blocks are cached (evictable), one of them taken by A. */
	for (k = 0; k < 3 && replica_num_running(r) < 2; k++)
		step(r, &now, &d);
	CU_ASSERT_EQUAL(b.status, RQ_RUNNING);
	CU_ASSERT(b.cached_tokens >= 16);
	CU_ASSERT_EQUAL(b.cached_tokens % 16, 0);
	while (replica_has_work(r))
		step(r, &now, &d);
	replica_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.prefix_hit_tokens, b.cached_tokens);
	/* 64 + 16 x 2 + 3 + 49 + 2 = 150 tokens without the hit (test_preemption
	 * less C's 16); the hit saves its tokens of B's recompute. */
	CU_ASSERT_EQUAL(st.tokens_computed, 150 - b.cached_tokens);
	CU_ASSERT_EQUAL(a.status, RQ_DONE);
	CU_ASSERT_EQUAL(b.status, RQ_DONE);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);
}

/* Admission with and without the full-prompt reservation (vLLM's
 * scheduler_reserve_full_isl / allocate_slots(full_sequence_must_fit)): 8 usable
 * blocks of 16, budget 32 tokens a step.  A (prompt 64) runs; B (prompt 96 = 6
 * blocks) arrives.  Without the reservation B's first chunk (needs its 1st block)
 * is admitted although its prompt can never fit beside A; with it B waits until A is
 * gone. */
static void test_full_isl_admission(void)
{
	perf_model p = compute_model();
	for (int full = 0; full <= 1; full++) {
		replica_cfg c = base_cfg(&p);
		replica *r = NULL;
		sim_req a, b;
		done_log d = {0};
		simtime_t now = 0;
		fs_err err = {0};

		c.max_model_len = 128;
		c.num_blocks = 9;
		c.null_block = 1;
		c.max_num_batched_tokens = 32;
		c.max_num_seqs = 4;
		c.reserve_full_isl = full;
		c.enable_prefix_caching = 0;
		CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
		CU_ASSERT_EQUAL(kv_total_blocks(replica_kv(r)), 8);
		mkreq(&a, 0, 64, 8, -1);
		mkreq(&b, 1, 96, 4, -1);
		replica_add(r, &a, 0);
		step(r, &now, &d); /* A: 32 tokens, 2 blocks */
		replica_add(r, &b, now);
		step(r, &now, &d); /* A: 32 more (4 blocks); budget gone */
		step(r, &now, &d); /* A decodes 1 (5th block); B: 31 tokens? */
		if (full) { /* braces: CU_ASSERT is a block */
			/* 5 used, 3 free < 6 for B's prompt: not admitted. */
			CU_ASSERT_EQUAL(b.status, RQ_WAITING);
			CU_ASSERT_EQUAL(b.computed, 0);
		} else {
			CU_ASSERT_EQUAL(b.status, RQ_RUNNING);
			CU_ASSERT_EQUAL(b.scheduled + b.computed, 31);
		}
		while (replica_has_work(r))
			step(r, &now, &d);
		CU_ASSERT_EQUAL(a.status, RQ_DONE);
		CU_ASSERT_EQUAL(b.status, RQ_DONE);
		if (full)
			CU_ASSERT_EQUAL(b.preemptions + a.preemptions, 0);
		replica_destroy(r);
		free(a.blocks);
		free(b.blocks);
	}
}

/* Async scheduling: a request queued while a step runs joins the step after next
 * (vLLM formed the next step when the running one was launched), and a request
 * that sampled its last token keeps its seat and blocks for one more (placeholder)
 * decode; its finish time is that of its last token. */
static void test_async_scheduling(void)
{
	perf_model p = compute_model();
	int64_t fin[2] = {0}, first_b[2] = {0}, steps[2] = {0};

	for (int as = 0; as <= 1; as++) {
		replica_cfg c = base_cfg(&p);
		replica *r = NULL;
		sim_req a, b;
		done_log d = {0};
		simtime_t now = 0;
		fs_err err = {0};
		replica_stats st;

		c.async_scheduling = as;
		CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
		mkreq(&a, 0, 32, 3, -1);
		mkreq(&b, 1, 16, 2, -1);
		replica_add(r, &a, 0);
		{
			int64_t dur = replica_begin_step(r, now); /* A's prefill */

			/* B arrives while it runs. */
			replica_add(r, &b, now + 1);
			now += dur;
			replica_end_step(r, now, on_done, &d);
		}
		step(r, &now, &d); /* A decodes; sync: B prefills too */
		if (as) {
			CU_ASSERT_EQUAL(b.status, RQ_WAITING); /* joins the next step */
		} else {
			CU_ASSERT_EQUAL(b.status, RQ_RUNNING);
			CU_ASSERT_EQUAL(b.generated, 1);
		}
		while (replica_has_work(r)) {
			CU_ASSERT(step(r, &now, &d) > 0);
		}
		CU_ASSERT_EQUAL(a.status, RQ_DONE);
		CU_ASSERT_EQUAL(a.generated, 3);
		CU_ASSERT_EQUAL(b.generated, 2);
		CU_ASSERT(a.finish > a.first_token);
		CU_ASSERT(b.finish <= now);
		replica_get_stats(r, &st);
		fin[as] = a.finish;
		first_b[as] = b.first_token;
		steps[as] = st.steps;
		CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
		replica_destroy(r);
		free(a.blocks);
		free(b.blocks);
	}
	/* B's first token comes a step later; the placeholder steps cost a step. */
	CU_ASSERT(first_b[1] > first_b[0]);
	CU_ASSERT(steps[1] > steps[0]);
	/* A's last token comes sooner: its second step no longer carries B's prefill. */
	CU_ASSERT(fin[1] < fin[0]);
}

/* Recurrent-state and sliding-window blocks (hybrid KV cache manager): a request
 * holds state_blocks from admission, plus swa_mult x min(token blocks, window)
 * blocks; all-sliding models hold at most the window. */
static void test_extra_blocks(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};

	c.max_model_len = 256;
	c.num_blocks = 64;
	c.state_blocks = 3;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 40, 30, -1);
	replica_add(r, &a, 0);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(a.n_blocks, 3);
	CU_ASSERT_EQUAL(a.n_extra, 3);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 6);
	while (replica_has_work(r))
		step(r, &now, &d);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);

	c.state_blocks = 0;
	c.swa_mult = 2;
	c.swa_window_blocks = 2;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 1, 40, 30, -1);
	replica_add(r, &a, 0);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(a.n_blocks, 3);
	CU_ASSERT_EQUAL(a.n_extra, 4); /* 2 x min(3, 2) */
	while (replica_has_work(r))
		step(r, &now, &d);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);

	c.swa_mult = 0;
	c.all_sliding = 1;
	c.swa_window_blocks = 2;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 2, 40, 30, -1);
	replica_add(r, &a, 0);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(a.n_blocks, 2);
	CU_ASSERT_EQUAL(a.n_extra, 0);
	while (replica_has_work(r))
		step(r, &now, &d);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);
	free(a.blocks);
}

/* The model's generation_config max_new_tokens is the max_tokens of a request that
 * names none (vLLM's default sampling params), clamped to the room left; a request's
 * own max_tokens wins.  Under async scheduling such a length stop is known in
 * advance, so the request does not linger a step. */
static void test_default_max_tokens(void)
{
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a, b, x;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	replica_stats st;

	c.default_max_tokens = 10;
	c.async_scheduling = 1;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 16, 100, -1);
	mkreq(&b, 1, 16, 100, 50);
	mkreq(&x, 2, 16, 5, -1);
	CU_ASSERT_EQUAL(replica_add(r, &a, 0), 0);
	CU_ASSERT_EQUAL(replica_add(r, &b, 0), 0);
	CU_ASSERT_EQUAL(replica_add(r, &x, 0), 0);
	CU_ASSERT_EQUAL(a.output, 10);
	CU_ASSERT_EQUAL(b.output, 50);
	CU_ASSERT_EQUAL(x.output, 5);
	while (replica_has_work(r))
		step(r, &now, &d);
	replica_get_stats(r, &st);
	/* 50 steps for b (length stop: no placeholder); x (EOS at 5) lingers one step
	 * inside them; a stops at 10 without a placeholder. */
	CU_ASSERT_EQUAL(st.steps, 50);
	CU_ASSERT_EQUAL(st.tokens_computed, 3 * 16 + 9 + 49 + 5);
	replica_destroy(r);
	/* Before vLLM #34063 (0.16) the default caps explicit max_tokens too. */
	c.default_max_tokens_caps = 1;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&b, 1, 16, 100, 50);
	CU_ASSERT_EQUAL(replica_add(r, &b, 0), 0);
	CU_ASSERT_EQUAL(b.output, 10);
	while (replica_has_work(r))
		step(r, &now, &d);
	replica_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.steps, 10);
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);
	free(x.blocks);
}

static void test_prefix_hit(void)
{
	uint64_t h[4] = {101, 102, 103, 104};
	perf_model p = compute_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req a, b;
	done_log d = {0};
	simtime_t now = 0;
	fs_err err = {0};
	replica_stats st;

	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 2000, 2, -1);
	a.hashes = h;
	a.n_hashes = 4;
	a.hash_block_tokens = 512;
	b = a;
	b.id = 1;
	replica_add(r, &a, 0);
	CU_ASSERT_EQUAL(step(r, &now, &d), 3921875000LL);
	CU_ASSERT_EQUAL(a.cached_tokens, 0);
	CU_ASSERT_EQUAL(a.first_token, 3921875000LL);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	CU_ASSERT_EQUAL(kv_cached_blocks(replica_kv(r)), 125);

	b.arrival = now;
	replica_add(r, &b, now);
	CU_ASSERT_EQUAL(step(r, &now, &d), 46875000LL);
	CU_ASSERT_EQUAL(b.cached_tokens, 1984);
	CU_ASSERT_EQUAL(b.first_token - b.arrival, 46875000LL);
	step(r, &now, &d);
	CU_ASSERT_EQUAL(d.n, 2);
	replica_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.prefix_hit_tokens, 1984);
	CU_ASSERT_EQUAL(kv_hit_tokens(replica_kv(r)), 1984);
	CU_ASSERT_EQUAL(kv_used_blocks(replica_kv(r)), 0);
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);

	/* Prefix caching off: B pays the full prefill. */
	c.enable_prefix_caching = 0;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	mkreq(&a, 0, 2000, 1, -1);
	a.hashes = h;
	a.n_hashes = 4;
	a.hash_block_tokens = 512;
	b = a;
	now = 0;
	replica_add(r, &a, 0);
	step(r, &now, &d);
	replica_add(r, &b, now);
	CU_ASSERT_EQUAL(step(r, &now, &d), 3921875000LL);
	CU_ASSERT_EQUAL(b.cached_tokens, 0);
	step(r, &now, &d);
	replica_destroy(r);
	free(a.blocks);
	free(b.blocks);
}

/* Parking (replica_cfg.pool) and the block deque of WAITING.  The same requests go
 * to two replicas, one with a pool (fresh requests that must wait are parked and
 * rebuilt at admission) and one without; with a small KV cache and max_num_seqs 8
 * the queue runs to hundreds (several blocks) and preemptions push to its head
 * across block boundaries.  Every finished request must match field for field. */
typedef struct park_log {
	rq_pool *pool;   /* hand finished requests back here (NULL: test-owned) */
	int n;
	sim_req rec[400];
} park_log;

static void park_done(void *ctx, sim_req *q)
{
	park_log *l = ctx;

	CU_ASSERT_FATAL(q->id >= 0 && q->id < 400);
	l->rec[q->id] = *q;
	l->n++;
	if (l->pool)
		rq_pool_put(l->pool, q);
}

static void park_run(int fast, rq_pool *pool, park_log *l)
{
	perf_model p = memory_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	sim_req *own = calloc(400, sizeof *own);
	fs_err err = {0};
	simtime_t now = 0;
	uint32_t x = 12345;
	int next = 0;

	CU_ASSERT_FATAL(own != NULL);
	c.max_num_seqs = 8;
	c.num_blocks = 96;
	c.max_model_len = 1024;
	c.fast_path = fast;
	c.pool = pool;
	l->pool = pool;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	while (l->n < 400) {
		/* Arrivals: 150 at once, then 10 before each step until all 400 came. */
		for (int k = 0; next < 400 && k < (next == 0 ? 150 : 10); k++, next++) {
			sim_req *q = pool ? rq_pool_get(pool) : &own[next];

			CU_ASSERT_FATAL(q != NULL);
			x = x * 1103515245u + 12345u;
			mkreq(q, next, 20 + (int32_t)(x >> 16) % 300, 2 + (int32_t)(x >> 8) % 120, -1);
			q->last_scheduled = 0; /* as the fleet's requests: never scheduled */
			q->arrival = q->queued = now;
			CU_ASSERT_EQUAL_FATAL(replica_add(r, q, now), 0);
		}
		{
			int64_t d = replica_begin_step(r, now);

			CU_ASSERT_FATAL(d > 0);
			now += d;
			replica_end_step(r, now, park_done, l);
		}
		if (replica_check(r, &err) != 0)
			CU_FAIL(err.msg);
	}
	replica_destroy(r);
	for (int i = 0; i < 400; i++)
		free(own[i].blocks);
	free(own);
}

static void test_parked_queue(void)
{
	for (int fast = 0; fast < 2; fast++) {
		park_log *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
		rq_pool *pool = NULL;
		int64_t preempted = 0;

		CU_ASSERT_FATAL(a && b && rq_pool_create(&pool) == 0);
		park_run(fast, NULL, a);
		park_run(fast, pool, b);
		CU_ASSERT_EQUAL(a->n, 400);
		CU_ASSERT_EQUAL(b->n, 400);
		for (int i = 0; i < 400; i++) {
			const sim_req *x = &a->rec[i], *y = &b->rec[i];

			preempted += x->preemptions;
			CU_ASSERT_EQUAL(x->status, RQ_DONE);
			CU_ASSERT(x->status == y->status && x->arrival == y->arrival &&
				  x->queued == y->queued && x->first_token == y->first_token &&
				  x->finish == y->finish && x->prompt == y->prompt &&
				  x->output == y->output && x->generated == y->generated &&
				  x->preemptions == y->preemptions &&
				  x->cached_tokens == y->cached_tokens);
		}
		/* The setup is meant to preempt (the head pushes it tests). */
		CU_ASSERT(preempted > 10);
		rq_pool_destroy(pool);
		free(a);
		free(b);
	}
}

/* A fresh request behind others is parked: its struct is back in the pool at once
 * (the pool hands out the most recent first). */
static void test_park_returns_struct(void)
{
	perf_model p = memory_model();
	replica_cfg c = base_cfg(&p);
	replica *r = NULL;
	rq_pool *pool = NULL;
	sim_req *a, *b;
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(rq_pool_create(&pool), 0);
	c.pool = pool;
	CU_ASSERT_EQUAL_FATAL(replica_create(&c, &r, &err), 0);
	a = rq_pool_get(pool);
	b = rq_pool_get(pool);
	mkreq(a, 0, 100, 4, -1);
	mkreq(b, 1, 100, 4, -1);
	a->last_scheduled = b->last_scheduled = 0;
	CU_ASSERT_EQUAL(replica_add(r, a, 0), 0); /* empty queue: kept */
	CU_ASSERT_EQUAL(replica_add(r, b, 0), 0); /* behind a: parked */
	CU_ASSERT_PTR_EQUAL(rq_pool_get(pool), b);
	CU_ASSERT_EQUAL(replica_num_waiting(r), 2);
	CU_ASSERT_EQUAL(replica_outstanding_tokens(r), 208);
	if (replica_check(r, &err) != 0)
		CU_FAIL(err.msg);
	replica_destroy(r);
	rq_pool_destroy(pool);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("replica", NULL, NULL);
	if (!s || !CU_add_test(s, "lone request TTFT and TPOT", test_lone_request) ||
	    !CU_add_test(s, "chunked prefill 20K", test_chunked_prefill) ||
	    !CU_add_test(s, "preemption at the (N+1)th block", test_preemption) ||
	    !CU_add_test(s, "no admission in a preempting step", test_no_admission_after_preemption) ||
	    !CU_add_test(s, "max_num_seqs caps running", test_max_num_seqs) ||
	    !CU_add_test(s, "a full batch's macro-step ignores arrivals", test_full_batch_ignores_arrivals) ||
	    !CU_add_test(s, "rejection and startup check", test_rejection_and_create) ||
	    !CU_add_test(s, "prefix hits skip prefill", test_prefix_hit) ||
	    !CU_add_test(s, "resume re-hits its own blocks", test_resume_hits_own_blocks) ||
	    !CU_add_test(s, "full-prompt admission reservation", test_full_isl_admission) ||
	    !CU_add_test(s, "async scheduling", test_async_scheduling) ||
	    !CU_add_test(s, "state and sliding-window blocks", test_extra_blocks) ||
	    !CU_add_test(s, "generation_config default max_tokens", test_default_max_tokens) ||
	    !CU_add_test(s, "parked requests and the block queue", test_parked_queue) ||
	    !CU_add_test(s, "a parked request's struct goes back", test_park_returns_struct))
		return -1;
	return 0;
}
