/*
 * simtime.h - simulated time: integer nanoseconds, and the only conversions to and from
 * seconds.  Events are ordered by (time, sequence number); see sim/event.h.
 *
 * Every seconds <-> nanoseconds conversion in the tree goes through these, so they all
 * round the same way: st_to_s is exact division (one rounding), st_from_s rounds to the
 * nearest nanosecond (llround) and refuses what does not fit.
 *
 * Owns: nothing (inline conversions).
 */
#ifndef FS_SIMTIME_H
#define FS_SIMTIME_H

#include <math.h>
#include <stdint.h>

typedef int64_t simtime_t; /* nanoseconds */

#define ST_NS_PER_S 1000000000LL
/* The largest |seconds| st_from_s accepts: ~292 years fit in int64 nanoseconds; a
 * margin keeps sums of a few such times finite. */
#define ST_MAX_S 4.6e9

/* t nanoseconds as seconds. */
static inline double st_to_s(simtime_t t)
{
	return (double)t / 1e9;
}

/* s seconds as nanoseconds, rounded to the nearest.  Returns 0, or -1 (and leaves *out
 * alone) when s is not finite or |s| > ST_MAX_S. */
static inline int st_from_s(double s, simtime_t *out)
{
	if (!(s >= -ST_MAX_S && s <= ST_MAX_S))
		return -1;
	*out = (simtime_t)llround(s * 1e9);
	return 0;
}

#endif
