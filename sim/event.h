/*
 * event.h - discrete-event core: a priority queue of events ordered by
 * (time, sequence number), so events at equal times run in the order they were
 * scheduled (ns-3 EventKey, OMNeT++ insertOrder).  Simulated time is integer ns.
 *
 * No global state: each simulation owns its ev_queue.
 */
#ifndef FS_EVENT_H
#define FS_EVENT_H

#include <stdint.h>

typedef int64_t simtime_t; /* nanoseconds */

#define SIMTIME_NS_PER_S 1000000000LL

typedef struct ev_queue ev_queue;

typedef struct ev_event {
	simtime_t time;
	uint64_t seq;     /* assigned by ev_schedule */
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
/* For a caller that keeps some of its events outside the queue (in its own index,
 * one per object) but must order them with the queued ones exactly: ev_take_seq
 * hands out the sequence number ev_schedule would give an event scheduled now
 * (compare (time, seq) with ev_peek's), and ev_advance moves now to t when the
 * caller runs such an event.  ev_advance returns 0, or -1 (nothing changes) if t is
 * before now or after the earliest queued event. */
uint64_t ev_take_seq(ev_queue *q);
/* The counter ev_take_seq reads and increments (`(*p)++` is ev_take_seq), for a
 * caller that takes one per engine step; valid for the queue's lifetime. */
uint64_t *ev_seq_counter(ev_queue *q);
int ev_advance(ev_queue *q, simtime_t t);
/* Time of the earliest pending event without popping: returns 1 and *t, or 0 if
 * the queue is empty (*t untouched). */
int ev_peek_time(const ev_queue *q, simtime_t *t);

simtime_t ev_now(const ev_queue *q);
uint64_t ev_pending(const ev_queue *q);

#endif
