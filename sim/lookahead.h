/*
 * lookahead.h - the read-ahead ring: a trace's next requests, read before their
 * arrival events run, so the fleet can tell how far ahead a replica may simulate
 * without meeting an arrival (see fleet.c arrival_horizon).
 *
 * A ring of `cap` trace_req entries.  A reader's prompt hashes are valid only until
 * its next call, so the ring copies them into per-entry arrays it owns; an entry's
 * `hashes` points into those and stays valid until the entry is dropped.  The ring
 * owns its entries and hash arrays (la_destroy frees them); it borrows the reader
 * only during la_fill.
 */
#ifndef FS_LOOKAHEAD_H
#define FS_LOOKAHEAD_H

#include "traces/trace.h"
#include "util/err.h"

typedef struct la_ring la_ring;

/* An empty ring of cap >= 1 entries.  Returns 0 and *out (caller owns, la_destroy),
 * or -1 on allocation failure (*out NULL). */
int la_create(int cap, la_ring **out);
void la_destroy(la_ring *r);

/* Read from tr until the ring is full or the trace ends.  Arrival times never go
 * back: an entry earlier than the one before it is moved up to it (readers keep
 * order; this makes sure).  Returns 0, or -1 with err set (trace error or out of
 * memory; the entries read so far stay). */
int la_fill(la_ring *r, trace_reader *tr, fs_err *err);

/* The k-th next request (0: the head), or NULL when fewer than k + 1 are held. */
const trace_req *la_peek(const la_ring *r, int k);
/* Drop the head (no-op when empty). */
void la_drop(la_ring *r);

int la_count(const la_ring *r);
int la_capacity(const la_ring *r);
/* Whether the trace has ended (la_fill saw its end). */
int la_eof(const la_ring *r);

#endif
