/*
 * report.h - `fleetsim report`: plots and an index.html from a results database.
 *
 * A sweep report draws, for each swept parameter, fleet GPU-hours, preemptions per
 * request, TTFT p99 and TPOT p99 against the parameter (one line per policy and
 * combination of the other parameters; the SLO as a dashed line) and each pool's
 * traffic share; TTFT and TPOT CDFs (at most REPORT_MAX_CDF runs, evenly chosen);
 * and KV usage / queue depth over time for each policy's run with the worst TTFT p99.
 * A run report (a `fleetsim run` invocation: the given run and the other policies
 * written with it — same scenario and start time, no sweep) draws the CDFs, each
 * policy's time series and per-pool traffic share bars.
 *
 * CDFs come from the `requests` table when the run stored requests (exact), else from
 * the `quantiles` table (101 + 2 quantiles per run, written by every sweep), else they
 * are left out and index.html says why.
 *
 * Owns: nothing after report_write returns; the db handle is borrowed.
 */
#ifndef FS_REPORT_H
#define FS_REPORT_H

#include <stdint.h>

#include "reports/db.h"
#include "util/err.h"

#define REPORT_MAX_CDF 12

typedef struct report_opts {
	int64_t sweep_id;     /* > 0: report this sweep */
	int64_t run_id;       /* > 0: report this run; neither: the latest sweep, else the latest run */
	const char *out_dir;  /* created if missing */
} report_opts;

typedef struct report_stats {
	int64_t sweep_id, run_id; /* what was reported (one of them 0) */
	int nruns;                /* runs in the report */
	int nplots;               /* plots drawn (each PNG + SVG + .gp + .dat) */
	char index_path[4200];
} report_stats;

/* Read d, draw the plots into o->out_dir and write index.html there.  Returns 0 with
 * *st, or -1 with err: FS_EXIT_INPUT for an unknown sweep/run id or an empty
 * database, FS_EXIT_RUNTIME for database, I/O and gnuplot failures. */
int report_write(db *d, const report_opts *o, report_stats *st, fs_err *err);

#endif
