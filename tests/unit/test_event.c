/* CUnit suite for sim/event: (time, seq) ordering, cancellation, independence, event
 * keys and pending slots. */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/event.h"

static void test_order_and_ties(void)
{
	ev_queue *q = NULL;
	ev_event e;
	simtime_t t = -1;
	ev_handle h[5];

	CU_ASSERT_EQUAL_FATAL(ev_create(&q), 0);
	CU_ASSERT_EQUAL(ev_peek_time(q, &t), 0);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 0);
	/* Scheduled: 30(kind 0), 10(1), 30(2), 10(3), 20(4).  Expected pop order:
	 * 10/1, 10/3 (equal times keep insertion order), 20/4, 30/0, 30/2. */
	h[0] = ev_schedule(q, 30, 0, 7, NULL);
	h[1] = ev_schedule(q, 10, 1, 7, NULL);
	h[2] = ev_schedule(q, 30, 2, 7, NULL);
	h[3] = ev_schedule(q, 10, 3, 7, NULL);
	h[4] = ev_schedule(q, 20, 4, -1, &t);
	CU_ASSERT(h[0] != 0 && h[1] != 0 && h[2] != 0 && h[3] != 0 && h[4] != 0);
	CU_ASSERT_EQUAL(h[0], 1); /* handles are the sequence numbers, from 1 */
	CU_ASSERT_EQUAL(h[4], 5);
	CU_ASSERT_EQUAL(ev_pending(q), 5);
	CU_ASSERT_EQUAL(ev_peek_time(q, &t), 1);
	CU_ASSERT_EQUAL(t, 10);

	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 1);
	CU_ASSERT_EQUAL(ev_now(q), 10);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 3);
	CU_ASSERT_EQUAL(e.seq, h[3]);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 4);
	CU_ASSERT_EQUAL(e.target, -1);
	CU_ASSERT_PTR_EQUAL(e.data, &t);
	CU_ASSERT_EQUAL(ev_now(q), 20);
	/* In the past: refused. At now: fine, and it runs before the later 30s. */
	CU_ASSERT_EQUAL(ev_schedule(q, 19, 9, 0, NULL), 0);
	CU_ASSERT(ev_schedule(q, 20, 5, 0, NULL) != 0);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 5);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 0);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 2);
	CU_ASSERT_EQUAL(ev_now(q), 30);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 0);
	CU_ASSERT_EQUAL(ev_pending(q), 0);
	ev_destroy(q);
}

static void test_cancel(void)
{
	ev_queue *q = NULL;
	ev_event e;
	ev_handle a, b, c;

	CU_ASSERT_EQUAL_FATAL(ev_create(&q), 0);
	a = ev_schedule(q, 5, 1, 0, NULL);
	b = ev_schedule(q, 5, 2, 0, NULL);
	c = ev_schedule(q, 7, 3, 0, NULL);
	CU_ASSERT_EQUAL(ev_cancel(q, a), 0);
	CU_ASSERT_EQUAL(ev_cancel(q, a), -1); /* twice */
	CU_ASSERT_EQUAL(ev_cancel(q, 0), -1);
	CU_ASSERT_EQUAL(ev_cancel(q, 999), -1); /* never issued */
	CU_ASSERT_EQUAL(ev_pending(q), 2);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 2);
	CU_ASSERT_EQUAL(ev_cancel(q, b), -1); /* already ran */
	CU_ASSERT_EQUAL(ev_cancel(q, c), 0);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 0);
	CU_ASSERT_EQUAL(ev_now(q), 5);
	ev_destroy(q);
}

/* 20000 pseudo-random events, every third cancelled, interleaved with pops: the pops
 * must come out in non-decreasing (time, seq) order and exactly the uncancelled ones
 * must come out.  Two queues run side by side to show there is no shared state. */
static void test_random_heap(void)
{
	enum { N = 20000 };
	ev_queue *q = NULL, *q2 = NULL;
	ev_handle *hs = malloc(N * sizeof *hs);
	uint64_t x = 12345, popped = 0, cancelled = 0;
	simtime_t last_t = -1;
	uint64_t last_seq = 0;
	ev_event e;
	int i, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(hs);
	CU_ASSERT_EQUAL_FATAL(ev_create(&q), 0);
	CU_ASSERT_EQUAL_FATAL(ev_create(&q2), 0);
	CU_ASSERT(ev_schedule(q2, 1000000, 42, 0, NULL) != 0);
	for (i = 0; i < N; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		hs[i] = ev_schedule(q, ev_now(q) + (simtime_t)((x >> 33) % 1000), i, 0, NULL);
		if (!hs[i])
			bad++;
		if (i % 3 == 2) {
			if (ev_cancel(q, hs[i - 1]) == 0)
				cancelled++;
		}
		if (i % 4 == 3 && ev_pop(q, &e)) {
			if (e.time < last_t || (e.time == last_t && e.seq < last_seq))
				bad++;
			last_t = e.time;
			last_seq = e.seq;
			popped++;
		}
	}
	while (ev_pop(q, &e)) {
		if (e.time < last_t || (e.time == last_t && e.seq < last_seq))
			bad++;
		last_t = e.time;
		last_seq = e.seq;
		popped++;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(cancelled > 0);
	CU_ASSERT_EQUAL(popped + cancelled, N);
	CU_ASSERT_EQUAL(ev_now(q2), 0);
	CU_ASSERT_EQUAL(ev_pending(q2), 1);
	CU_ASSERT_EQUAL(ev_pop(q2, &e), 1);
	CU_ASSERT_EQUAL(e.kind, 42);
	ev_destroy(q);
	ev_destroy(q2);
	free(hs);
}

/* ev_peek_key carries the scheduling time; ev_key_less orders (time, sched, seq) and
 * flags a tie only a virtual seq could break. */
static void test_keys(void)
{
	ev_queue *q = NULL;
	ev_event e;
	ev_key k, a, b;
	int amb = 0;

	CU_ASSERT_EQUAL_FATAL(ev_create(&q), 0);
	CU_ASSERT_EQUAL(ev_peek_key(q, &k), 0);
	CU_ASSERT_EQUAL(k.time, INT64_MAX);
	CU_ASSERT(ev_schedule(q, 10, 1, 0, NULL) != 0);
	CU_ASSERT_EQUAL(ev_pop(q, &e), 1);
	CU_ASSERT_EQUAL(e.sched, 0);
	CU_ASSERT(ev_schedule(q, 30, 2, 0, NULL) != 0);
	CU_ASSERT_EQUAL(ev_peek_key(q, &k), 1);
	CU_ASSERT_EQUAL(k.time, 30);
	CU_ASSERT_EQUAL(k.sched, 10);
	CU_ASSERT_EQUAL(k.seq, 2);
	CU_ASSERT_EQUAL(ev_take_seq(q), 3);
	CU_ASSERT_EQUAL(ev_schedule(q, 30, 3, 0, NULL), 4);
	a = (ev_key){5, 0, 9};
	b = (ev_key){6, 0, 1};
	CU_ASSERT(ev_key_less(&a, &b, &amb));
	CU_ASSERT_FALSE(ev_key_less(&b, &a, &amb));
	b = (ev_key){5, 1, 1}; /* same time: scheduling time first */
	CU_ASSERT(ev_key_less(&a, &b, &amb));
	b = (ev_key){5, 0, EV_SEQ_VIRTUAL}; /* different sched would have been fine ... */
	CU_ASSERT_EQUAL(amb, 0);
	CU_ASSERT(ev_key_less(&a, &b, &amb)); /* ... equal sched needs the virtual seq */
	CU_ASSERT_EQUAL(amb, 1);
	ev_destroy(q);
}

/* Slots against a scan: random puts, takes and settles; ev_slots_first must name the
 * slot with the least key whenever it comes before the queue's head. */
static void test_slots_random(void)
{
	enum { N = 13 };
	ev_queue *q = NULL;
	ev_slots *s = NULL;
	ev_key key[N], head;
	int kinds[N], bad = 0;
	uint64_t x = 777;

	CU_ASSERT_EQUAL_FATAL(ev_create(&q), 0);
	CU_ASSERT_EQUAL_FATAL(ev_slots_create(N, &s), 0);
	for (int i = 0; i < N; i++) {
		key[i].time = INT64_MAX;
		CU_ASSERT(ev_slots_empty(s, i));
	}
	head = (ev_key){INT64_MAX, 0, 0};
	CU_ASSERT_EQUAL(ev_slots_first(s, &head, NULL), -1);
	for (int it = 0; it < 5000; it++) {
		int i, best = -1, kind = -1, got;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		i = (int)((x >> 33) % N);
		if ((x >> 20) % 5 == 0 && key[i].time != INT64_MAX) {
			ev_slots_take(s, i, &head, &kind);
			CU_ASSERT(head.time == key[i].time && head.seq == key[i].seq && kind == kinds[i]);
			ev_slots_settle(s, i);
			key[i].time = INT64_MAX;
		} else {
			simtime_t t = (simtime_t)((x >> 40) % 50);

			kinds[i] = (int)((x >> 10) % 4);
			ev_slots_set(s, q, i, t, (simtime_t)((x >> 12) % 3), kinds[i]);
			key[i] = (ev_key){t, (simtime_t)((x >> 12) % 3), 0};
			ev_slots_take(s, i, &key[i], NULL); /* read back its seq ... */
			ev_slots_put(s, i, &key[i], kinds[i]); /* ... and put it back as it was */
		}
		for (int j = 0; j < N; j++)
			if (key[j].time != INT64_MAX &&
			    (best < 0 || ev_key_less(&key[j], &key[best], &(int){0})))
				best = j;
		head = (ev_key){(simtime_t)((x >> 30) % 60), 1, ev_take_seq(q)};
		got = ev_slots_first(s, &head, &kind);
		if (best >= 0 && ev_key_less(&key[best], &head, &(int){0})) {
			if (got != best || kind != kinds[best] || ev_slots_kind(s, best) != kinds[best])
				bad++;
		} else if (got != -1) {
			bad++;
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ev_slots_ambiguous(s), 0);
	/* Two slots equal in time and sched, one with a virtual seq: flagged. */
	ev_slots_put(s, 0, &(ev_key){100, 7, 5}, 1);
	ev_slots_put(s, 1, &(ev_key){100, 7, EV_SEQ_VIRTUAL}, 1);
	for (int j = 2; j < N; j++) {
		ev_slots_take(s, j, NULL, NULL);
		ev_slots_settle(s, j);
	}
	head = (ev_key){INT64_MAX, 0, 0};
	CU_ASSERT_EQUAL(ev_slots_first(s, &head, NULL), 0);
	CU_ASSERT_EQUAL(ev_slots_ambiguous(s), 1);
	ev_slots_set_kind(s, 0, 3);
	CU_ASSERT_EQUAL(ev_slots_kind(s, 0), 3);
	ev_slots_destroy(s);
	ev_destroy(q);
}

/* A taken slot stays out of every compare until it is refilled or settled, though
 * its tree nodes are replayed only then: another slot keyed like it meanwhile (a
 * virtual seq at the same time and sched) is not a tie, and a second take first brings
 * the pending one's nodes up to date. */
static void test_slots_taken(void)
{
	ev_slots *s = NULL;
	ev_key k, none = {INT64_MAX, 0, 0};
	int kind = -1;

	CU_ASSERT_EQUAL_FATAL(ev_slots_create(5, &s), 0);
	ev_slots_put(s, 0, &(ev_key){10, 3, 4}, 1);
	ev_slots_put(s, 1, &(ev_key){20, 3, 5}, 2);
	ev_slots_put(s, 2, &(ev_key){30, 3, 6}, 2);
	CU_ASSERT_EQUAL(ev_slots_first(s, &none, &kind), 0);
	CU_ASSERT_EQUAL(kind, 1);
	ev_slots_take(s, 0, &k, &kind);
	CU_ASSERT(k.time == 10 && k.sched == 3 && k.seq == 4 && kind == 1);
	CU_ASSERT(ev_slots_empty(s, 0));
	ev_slots_put(s, 3, &(ev_key){10, 3, EV_SEQ_VIRTUAL}, 1);
	CU_ASSERT_EQUAL(ev_slots_ambiguous(s), 0);
	ev_slots_take(s, 3, &k, NULL);
	CU_ASSERT(k.time == 10 && k.seq == EV_SEQ_VIRTUAL);
	ev_slots_settle(s, 3);
	ev_slots_settle(s, 0);
	CU_ASSERT_EQUAL(ev_slots_first(s, &none, NULL), 1);
	/* The common cycle: take the first, refill it later than the others. */
	ev_slots_take(s, 1, NULL, NULL);
	ev_slots_put(s, 1, &(ev_key){40, 20, 7}, 2);
	CU_ASSERT_EQUAL(ev_slots_first(s, &none, NULL), 2);
	ev_slots_take(s, 2, NULL, NULL);
	ev_slots_settle(s, 2);
	CU_ASSERT_EQUAL(ev_slots_first(s, &none, NULL), 1);
	ev_slots_take(s, 1, NULL, NULL);
	ev_slots_settle(s, 1);
	CU_ASSERT_EQUAL(ev_slots_first(s, &none, NULL), -1);
	CU_ASSERT_EQUAL(ev_slots_ambiguous(s), 0);
	ev_slots_destroy(s);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("event", NULL, NULL);
	if (!s || !CU_add_test(s, "order and equal-time ties", test_order_and_ties) ||
	    !CU_add_test(s, "cancellation", test_cancel) ||
	    !CU_add_test(s, "random heap with cancellations", test_random_heap) ||
	    !CU_add_test(s, "keys: scheduling time and virtual seqs", test_keys) ||
	    !CU_add_test(s, "pending slots against a scan", test_slots_random) ||
	    !CU_add_test(s, "taken slots until settled", test_slots_taken))
		return -1;
	return 0;
}
