/*
 * results.h - the run record: what the results database keeps of one runner result
 * (one policy of one scenario), and the one function that writes it.  `run`, `sweep`
 * and `plan` all build a results_record from their runner_result and store it with
 * results_record_write: one `runs` row with the policy's effective settings as JSON,
 * `pool_metrics` for the fleet ("*") and each pool, `timeseries`, and optionally
 * `requests` — all in one transaction (docs/database.md is the contract).
 *
 * A record borrows the runner result's time series and request rows (they can be
 * large); results_record_own copies them when the record must outlive the result
 * (a sweep hands records from worker threads or MPI ranks to its writer).
 */
#ifndef FS_RESULTS_H
#define FS_RESULTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "reports/db.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/metrics.h"

typedef struct results_record {
	char scenario[128];        /* scenario name */
	char policy[128];          /* policy name */
	uint64_t seed;
	char *params_json;         /* the policy's settings, "point" merged in; owned */
	int npools;
	metrics_summary rows[FS_MAX_POOLS + 1]; /* the fleet ("*") first, then each pool */
	char pool_names[FS_MAX_POOLS][64];
	const mx_sample *ts;       /* borrowed from the runner result, or own_ts */
	size_t nts;
	const mx_request *req;     /* only when requests are stored; borrowed or own_req */
	size_t nreq;
	double wall_s;             /* host seconds the replay took */
	mx_sample *own_ts;         /* non-NULL: the record owns ts (results_record_own, unpack) */
	mx_request *own_req;       /* non-NULL: the record owns req */
	int ncats;                 /* workload categories (names by index), owned */
	char **cat_names;
	int ncat_rows;             /* summaries of the first ncat_rows categories, owned */
	metrics_summary *cat_rows;
} results_record;

/* Build *out from runner result r of scenario sc: point_json (NULL: none; must be a
 * JSON value) is merged into the params as "point"; with_requests keeps the request
 * rows (when r has them); the category names and summaries are copied.  *out borrows
 * r's samples and rows, so r must outlive it
 * unless results_record_own is called.  Returns 0, or -1 with err (FS_EXIT_RUNTIME: no
 * memory or a point that is not JSON) and *out needing no free. */
int results_record_init(const scenario *sc, const runner_result *r, const char *point_json,
			int with_requests, results_record *out, fs_err *err);

/* Copy the borrowed samples and request rows into the record, so it no longer depends
 * on the runner result.  Returns 0, or -1 with err (out of memory; rec unchanged). */
int results_record_own(results_record *rec, fs_err *err);

/* Free what the record owns (rec itself is caller storage; NULL is fine). */
void results_record_free(results_record *rec);

/* Append the record to d: runs.started_at = started_at, runs.sweep_id = sweep_id
 * (<= 0: NULL).  Inside db_begin/db_commit it joins the caller's transaction.  Returns
 * 0 and *run_id (may be NULL), or -1 with err and the file unchanged. */
int results_record_write(db *d, const results_record *rec, time_t started_at, int64_t sweep_id,
			 int64_t *run_id, fs_err *err);

typedef struct results_opts {
	int with_requests;   /* write the requests table rows */
	time_t started_at;
	int64_t sweep_id;    /* <= 0: not part of a sweep */
	const char *extra_params_json; /* merged into runs.params as "point" (NULL: none) */
} results_opts;

/* results_record_init + results_record_write + results_record_free, for callers that
 * write a result as soon as they have it (run, plan).  Returns 0 and *run_id (may be
 * NULL), or -1 with err; the database is unchanged on failure. */
int results_write_run(db *d, const scenario *sc, const runner_result *r,
		      const results_opts *o, int64_t *run_id, fs_err *err);

#endif
