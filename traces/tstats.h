/*
 * tstats.h - summary statistics of a request stream (`fleetsim trace stats`).
 *
 * Counts, rates, token means and the share of requests under context limits stream in
 * O(categories) memory.  Quantiles (GSL, on sorted data) need every length: 12 bytes per
 * request while reading plus a sorted copy per group, so they can be turned off for
 * multi-GB traces.
 *
 * Owns: the statistics it returns (caller frees with its _free function).
 */
#ifndef FS_TSTATS_H
#define FS_TSTATS_H

#include <stdint.h>

#include "traces/trace.h"

#define TSTATS_LONG_GAP_S 3600.0       /* gaps longer than an hour are worth a warning */
#define TSTATS_LONG_SPAN_S (7 * 86400.0) /* and so are spans over a week */
#define TSTATS_N_LIMITS 6 /* total <= 2K, 4K, 8K, 16K, 32K, 64K tokens (K = 1024) */
extern const int32_t tstats_limits[TSTATS_N_LIMITS];

typedef struct tstats_tokens {
	double mean;
	double p50, p90, p99; /* NaN when quantiles were not computed */
	int64_t max;
} tstats_tokens;

typedef struct tstats_group {
	char *name;           /* category name; NULL for the whole stream */
	int64_t count;
	int64_t failed;       /* TRACE_F_FAILED rows */
	tstats_tokens input, output, total;
	double share_le[TSTATS_N_LIMITS]; /* fraction of requests with total <= limit */
	/* accumulators */
	double sum_in, sum_out;
	int64_t n_le[TSTATS_N_LIMITS];
} tstats_group;

typedef struct tstats {
	int64_t count;
	int64_t bad_rows;
	double first_s, last_s;
	double duration_s;    /* last - first arrival */
	double mean_rate;     /* count / duration_s (0 if duration is 0) */
	int64_t peak_1s;      /* most arrivals in one 1-s bucket counted from the first */
	/* Gaps between consecutive arrivals: longest (and where it starts, s from the
	 * first arrival) and how many exceed TSTATS_LONG_GAP_S; with spans over
	 * TSTATS_LONG_SPAN_S the command layer warns (wrong unit? several logs glued?). */
	double max_gap_s, max_gap_at_s;
	int64_t long_gaps;
	tstats_group all;
	int n_cats;
	tstats_group *cats;   /* indexed like the reader's categories */
} tstats;

/* Read r to the end.  Returns 0 with *out filled (tstats_free), or -1 with err set
 * (the reader's error, or out of memory); *out is left empty on failure. */
int tstats_compute(trace_reader *r, int quantiles, tstats *out, fs_err *err);

void tstats_free(tstats *s);

#endif
