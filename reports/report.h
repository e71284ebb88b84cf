/*
 * report.h - `fleetsim report`: plots and an index.html from a results database.
 *
 * A sweep report draws, for each swept parameter, fleet GPU-hours, preemptions per
 * request, TTFT p99 and TPOT p99 against the parameter (one line per policy and
 * combination of the other parameters the policy uses; the SLO as a dashed line) and
 * each pool's traffic share.  A policy does not use a parameter when its key names
 * another policy ("policies.1.router.threshold" belongs to policy 1 alone) or when its
 * runs agree in every number at every value of the parameter: such a parameter adds
 * no lines for that policy, and against that parameter the policy is one flat line
 * ("... (does not use threshold)") per combination of the parameters it uses.  Axis
 * labels come from plot_param_label (names and units), styles and axis scales from
 * plot.h's rules.  The TTFT and TPOT CDFs show three runs, each named by its role:
 * best = the lowest GPU-hours among runs meeting the SLO (TTFT p99 and TPOT p99 within
 * the targets; none meeting it: the lowest TTFT p99), worst = the highest TTFT p99,
 * baseline = report_opts.baseline_run (`--baseline RUN`) or else the first policy at
 * the first grid point; the SLO target is a vertical dashed line and 0.99 a horizontal
 * one.  KV usage / queue depth over time for each policy's run with the worst TTFT p99.
 * A run report (a `fleetsim run` invocation: the given run and the other policies
 * written with it — same scenario and start time, no sweep) draws the CDFs of every
 * policy (at most REPORT_MAX_CDF) with the same SLO marks, each policy's time series
 * and per-pool traffic share bars.
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
	int64_t baseline_run; /* > 0: the CDFs' baseline run (must be one of the report's runs) */
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
