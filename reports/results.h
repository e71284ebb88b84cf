/*
 * results.h - store a runner result in the results database: one `runs` row with the
 * policy's effective settings as JSON, `pool_metrics` for the fleet ("*") and each
 * pool, `timeseries`, and optionally `requests` — all in one transaction.
 */
#ifndef FS_RESULTS_H
#define FS_RESULTS_H

#include <stdint.h>
#include <time.h>

#include "reports/db.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

typedef struct results_opts {
	int with_requests;   /* write the requests table rows */
	time_t started_at;
	int64_t sweep_id;    /* <= 0: not part of a sweep */
	const char *extra_params_json; /* merged into runs.params as "point" (NULL: none) */
} results_opts;

/* Returns 0 and *run_id (may be NULL), or -1 with err; the database is unchanged on
 * failure. */
int results_write_run(db *d, const scenario *sc, const runner_result *r,
		      const results_opts *o, int64_t *run_id, fs_err *err);

#endif
