/*
 * gwheel.h - the ghost-time wheel: the intermediate step-end times of the fleet's
 * macro-steps in flight, indexed by exact time, so that an event processed at one of
 * them, or another macro-step ending a step at the same time, is found in O(1) (see
 * fleet.c "Event order" for why those meetings matter).
 *
 * A ring of buckets of 2^shift ns; a bucket holds up to GW_CAP entries of one window
 * (time >> shift) and is emptied lazily when a later window reuses it.  Its window,
 * count and the low bits of its entries' times sit in a 32-byte head apart from the
 * entries, so that indexing a time (at a bucket seldom in cache) reads one small head
 * and writes one entry (see gwheel.c).  Entries stay valid while their time is at
 * most gw_span() ahead of the present, so callers cap what they index to that span.
 * Entries are never removed: the caller tells current ones from void ones by the
 * generation it stored in them.
 *
 * The wheel owns its buckets (gw_destroy frees them); it keeps no pointers to the
 * caller's data.
 */
#ifndef FS_GWHEEL_H
#define FS_GWHEEL_H

#include <stdint.h>

#include "util/simtime.h"

#define GW_CAP 7

typedef struct gw_entry {
	simtime_t time;
	int32_t owner;  /* caller-defined: the replica */
	int32_t step;   /* caller-defined: which of its ends (1-based) */
	uint32_t gen;   /* caller-defined: the owner's generation when added */
} gw_entry;

typedef struct gw_wheel gw_wheel;

/* A wheel sized for `owners` objects each with its intermediate times ~50 ms apart:
 * buckets of about 100 ms / owners (4 us to 16 ms), at least 16 per owner and 4096.
 * Returns 0 and *out (caller owns, gw_destroy), or -1 on allocation failure. */
int gw_create(int owners, gw_wheel **out);
void gw_destroy(gw_wheel *w);

/* How far ahead of the present indexed times may lie. */
simtime_t gw_span(const gw_wheel *w);

/* Index the k - 1 intermediate times t0 + d[0], t0 + d[0] + d[1], ... (all but the
 * last end of a macro-step of k steps starting at t0) as entries {time, owner, g, gen},
 * g the 1-based index of the time.  For each entry already at exactly one of those
 * times, calls hit(ctx, entry) before adding.  Returns 1 when every time was added
 * and none was shared, 0 otherwise (a shared time or a full bucket: those times are
 * then not all indexed, and the caller must not rely on them being found). */
int gw_index(gw_wheel *w, simtime_t t0, const int64_t *d, int64_t k, int32_t owner, uint32_t gen,
	     void (*hit)(void *ctx, const gw_entry *e), void *ctx);

/* The entries in time t's bucket (other times of its window too: compare e->time):
 * returns their number and *e (valid until the next gw_index), or 0 if none is at t
 * as far as the low bits of their times tell (kept in the head: a bucket with no
 * match is not returned, one with a match is returned whole). */
int gw_find(const gw_wheel *w, simtime_t t, const gw_entry **e);

#endif
