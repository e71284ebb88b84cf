/*
 * event.h - discrete-event core: a priority queue of events ordered by
 * (time, sequence number), so events at equal times run in the order they were
 * scheduled (ns-3 EventKey, OMNeT++ insertOrder).  Simulated time is integer ns.
 *
 * Also the one home of event keys (time, scheduling time, seq) and their comparison,
 * and of pending slots: per-object events kept outside the queue but ordered with it.
 *
 * No global state: each simulation owns its ev_queue and ev_slots.
 */
#ifndef FS_EVENT_H
#define FS_EVENT_H

#include <stdint.h>

#include "util/simtime.h" /* simtime_t: integer nanoseconds */

#define SIMTIME_NS_PER_S 1000000000LL

typedef struct ev_queue ev_queue;

typedef struct ev_event {
	simtime_t time;
	uint64_t seq;     /* assigned by ev_schedule */
	simtime_t sched;  /* when it was scheduled: the queue's now at ev_schedule */
	int kind;         /* caller-defined */
	int32_t target;   /* caller-defined, e.g. replica index */
	void *data;       /* caller-defined */
} ev_event;

typedef uint64_t ev_handle; /* == seq of the scheduled event; 0 is never valid */

/* Create an empty queue. Returns 0 and *out (owned by the caller, ev_destroy), or -1. */
int ev_create(ev_queue **out);
void ev_destroy(ev_queue *q);

/* Schedule an event at time t (>= ev_now()). Returns its handle, or 0 on allocation
 * failure or if t is in the past. */
ev_handle ev_schedule(ev_queue *q, simtime_t t, int kind, int32_t target, void *data);

/* Cancel a pending event. Returns 0, or -1 if it already ran or was cancelled. */
int ev_cancel(ev_queue *q, ev_handle h);

/* Pop the earliest pending event into *out and advance now to its time.
 * Returns 1, or 0 when the queue is empty. */
int ev_pop(ev_queue *q, ev_event *out);

/* Copy the earliest pending event into *out without popping it: returns 1, or 0
 * when the queue is empty (*out untouched). */
int ev_peek(const ev_queue *q, ev_event *out);
/* For a caller that keeps some of its events outside the queue (in an ev_slots, one
 * per object) but must order them with the queued ones exactly: ev_take_seq hands out
 * the sequence number ev_schedule would give an event scheduled now, and ev_advance
 * moves now to t when the caller runs such an event.  ev_advance returns 0, or -1
 * (nothing changes) if t is before now or after the earliest queued event. */
uint64_t ev_take_seq(ev_queue *q);
int ev_advance(ev_queue *q, simtime_t t);
/* Time of the earliest pending event without popping: returns 1 and *t, or 0 if
 * the queue is empty (*t untouched). */
int ev_peek_time(const ev_queue *q, simtime_t *t);

simtime_t ev_now(const ev_queue *q);
uint64_t ev_pending(const ev_queue *q);

/*
 * Event keys.  The queue orders by (time, seq); an event's scheduling time `sched`
 * sits between the two for a caller that skips some events' seqs (the fleet's
 * macro-steps: see fleet.c "Event order"): ordering by (time, sched, seq) is the same
 * order as (time, seq) because seqs grow with processing order and processing order
 * with time, and it lets such a caller give a skipped event the virtual seq
 * EV_SEQ_VIRTUAL, valid as long as no comparison ever needs it to break a tie.
 */
#define EV_SEQ_VIRTUAL UINT64_MAX

typedef struct ev_key {
	simtime_t time;  /* INT64_MAX: no event (any order among those) */
	simtime_t sched;
	uint64_t seq;    /* EV_SEQ_VIRTUAL: skipped, see above */
} ev_key;

/* Is a before b?  Sets *ambiguous (never clears it) when the answer hangs on a virtual
 * seq, which the caller must treat as an internal error. */
int ev_key_less(const ev_key *a, const ev_key *b, int *ambiguous);

/* The key of the queue's earliest pending event: returns 1 and *k, or 0 when the queue
 * is empty (*k: time INT64_MAX). */
int ev_peek_key(const ev_queue *q, ev_key *k);

/*
 * Pending slots: n objects (replicas) with at most one pending event each, kept
 * outside the queue under a winner tree keyed like the queue, so that rescheduling
 * one costs a leaf-to-root pass (log2 n compares on times, which the nodes carry;
 * sched and seq only on equal times) instead of a heap pop and push.  An event is
 * (key, kind), kind caller-defined.  The set owns its arrays; ev_slots_destroy frees
 * them.
 */
typedef struct ev_slots ev_slots;

/* Returns 0 and *out (caller owns, ev_slots_destroy) with n empty slots, or -1 on
 * allocation failure (*out NULL). */
int ev_slots_create(int n, ev_slots **out);
void ev_slots_destroy(ev_slots *s);

/* Give slot i the event (k, kind). */
void ev_slots_put(ev_slots *s, int i, const ev_key *k, int kind);
/* Give slot i the event (t, kind) scheduled at `sched`, with the seq ev_schedule on q
 * would give it now (the caller's event is scheduled now, in the queue's order). */
void ev_slots_set(ev_slots *s, ev_queue *q, int i, simtime_t t, simtime_t sched, int kind);
/* Change slot i's pending event's kind, key unchanged. */
void ev_slots_set_kind(ev_slots *s, int i, int kind);
int ev_slots_kind(const ev_slots *s, int i);
int ev_slots_empty(const ev_slots *s, int i);

/* The slot whose event comes before `head` (the queue's earliest key, time INT64_MAX
 * if none) and *kind (if kind is not NULL) its event's kind, or -1 when none does (or
 * every slot is empty; *kind untouched). */
int ev_slots_first(ev_slots *s, const ev_key *head, int *kind);
/* The slot holding the earliest slot event, or -1 when all are empty (a hint for
 * prefetching: it ignores the queue and ties). */
int ev_slots_top(const ev_slots *s);
/* Take slot i's event into *k / *kind (either may be NULL) and empty the slot without
 * replaying the tree: the caller is about to run it and will refill the slot
 * (ev_slots_put/set) or call ev_slots_settle before the next ev_slots_first. */
void ev_slots_take(ev_slots *s, int i, ev_key *k, int *kind);
/* After ev_slots_take: if slot i is still empty, take it out of the tree. */
void ev_slots_settle(ev_slots *s, int i);
/* Two slot keys compared that only a virtual seq could order (see ev_key_less):
 * returns 1 from then on. */
int ev_slots_ambiguous(const ev_slots *s);

#endif
