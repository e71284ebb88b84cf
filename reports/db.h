/*
 * db.h - the SQLite results file (SPEC section 7): one file, many runs appended.
 *
 * Tables (names and columns are the public interface, docs/database.md lists them):
 * runs, pool_metrics, requests, timeseries, sweeps, plans.  A run is written in ONE
 * transaction, so a reader never sees half a run and a failed write leaves the file
 * as it was.  The file is opened in WAL mode with a busy timeout, so a report can read
 * while a sweep writes.  Writers wait for each other: the busy timeout (10 minutes
 * unless FLEETSIM_DB_BUSY_TIMEOUT_S says otherwise) bounds both SQLite's busy handler
 * and a retry loop around each write transaction, so a simulated run is not lost to
 * a concurrent writer.  PRAGMA user_version carries the schema version; a file from a
 * newer fleetsim is refused rather than misread.
 *
 * NULL conventions: a -1 "none" in mx_request (no first token, TPOT of a one-token
 * output, no pool or replica) and a negative quantile/mean/max time in metrics_summary
 * (no request had one) are stored as NULL, never as -1.
 *
 * A db handle is used by one thread at a time; open one handle per thread.
 *
 * Owns: the SQLite handle and its prepared statements, until db_close.
 */
#ifndef FS_DB_H
#define FS_DB_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sim/metrics.h"
#include "util/err.h"

struct sqlite3;

/* Schema version written to PRAGMA user_version. */
#define DB_SCHEMA_VERSION 2
/* How long a reader waits for a lock (readers rarely wait in WAL mode). */
#define DB_BUSY_TIMEOUT_MS 5000
/* How long db_open's writers wait for another writer before failing with "locked",
 * unless the environment variable FLEETSIM_DB_BUSY_TIMEOUT_S (seconds, >= 0) is set. */
#define DB_WRITE_BUSY_TIMEOUT_S 600

typedef struct db db;

/* What identifies a run (one policy of one scenario).  Strings are borrowed. */
typedef struct db_run_info {
	const char *scenario;    /* scenario name (or file); required */
	const char *policy;      /* policy name; required */
	const char *params_json; /* the resolved settings as JSON; NULL: "{}"; must be valid JSON */
	uint64_t seed;           /* stored as INTEGER; seeds >= 2^63 read back negative (cast to uint64) */
	time_t started_at;       /* stored as ISO-8601 UTC text, e.g. 2024-05-01T12:00:00Z */
	double wall_seconds;     /* host time the run took */
	const char *version;     /* NULL: FLEETSIM_VERSION */
	int64_t sweep_id;        /* <= 0: not part of a sweep (NULL) */
	const char *status;      /* NULL: "complete" */
	/* Workload categories: names (index = requests.category) and, for the first
	 * ncategory_rows of them, their summary (categories table); borrowed. */
	const char *const *category_names;
	int ncategories;
	const metrics_summary *category_rows;
	int ncategory_rows;
} db_run_info;

/* Open (creating if missing) the results file at path, set WAL mode and a busy timeout
 * of db_busy_timeout_ms(), and create the schema if absent.  Returns 0 and *out (caller
 * owns, db_close), or -1 with err naming the file: FS_EXIT_INPUT for a directory, a
 * file that is not a fleetsim database or one from a newer schema version;
 * FS_EXIT_RUNTIME for a file or directory that cannot be written, a locked database,
 * I/O errors; FS_EXIT_INPUT for a malformed FLEETSIM_DB_BUSY_TIMEOUT_S. */
int db_open(const char *path, db **out, fs_err *err);
/* Same with a busy timeout of busy_ms milliseconds (0: fail at once when locked). */
int db_open_ex(const char *path, int busy_ms, db **out, fs_err *err);
/* The writers' busy timeout in ms: FLEETSIM_DB_BUSY_TIMEOUT_S x 1000 when set, else
 * DB_WRITE_BUSY_TIMEOUT_S x 1000.  Returns -1 with err (FS_EXIT_INPUT) when the
 * variable is not a number of seconds in 0..1000000. */
int db_busy_timeout_ms(fs_err *err);
/* After a failed write on d: when the failure was SQLITE_BUSY or SQLITE_LOCKED and
 * less than d's busy timeout has passed since *t0 (0 on the first call: set to now),
 * sleep a backoff (10 ms doubling to 1 s, jittered) and return 1: roll back and run
 * the transaction again.  Otherwise return 0.  attempt counts from 0. */
int db_retry_busy(db *d, int attempt, double *t0);

/* Close the handle (NULL is fine).  Nothing is lost: every write committed already. */
void db_close(db *d);

/* Append one run in one transaction: a `runs` row, one `pool_metrics` row per entry of
 * pools[0..npools) (each names its pool, "*" for the fleet), the nts samples into
 * `timeseries` and the nreqs records into `requests` (pass 0 to skip either).
 * pool_names is a NULL-terminated array: pool_names[k] names pool index k as used by
 * mx_sample.pool and mx_request.pool; sample pool -1 is stored as "*" (fleet-wide),
 * request pool -1 as NULL (never routed).  pool_names may be NULL only when no row
 * needs it.  Returns 0 and *run_id (may be NULL), or -1 with err (FS_EXIT_RUNTIME,
 * naming the file; FS_EXIT_INPUT for a bad argument such as a pool index with no name
 * or an unknown request status) and the file unchanged. */
int db_write_run(db *d, const db_run_info *info, const metrics_summary *pools, int npools,
		 const char *const *pool_names, const mx_sample *ts, size_t nts,
		 const mx_request *reqs, size_t nreqs, int64_t *run_id, fs_err *err);

/* Number of rows in `runs`.  Returns 0 and *n, or -1 with err. */
int db_count_runs(db *d, int64_t *n, fs_err *err);

/* Run a query and return the first column of its first row as a double / integer.
 * Returns 0 and *out, or -1 with err when the SQL fails, returns no row, or the value
 * is NULL (FS_EXIT_RUNTIME; the message quotes the SQL). */
int db_query_double(db *d, const char *sql, double *out, fs_err *err);
int db_query_int64(db *d, const char *sql, int64_t *out, fs_err *err);

/* The underlying connection, for readers (report, plan) that need their own queries.
 * Owned by d; do not close it.  Don't leave a transaction open on it. */
struct sqlite3 *db_sqlite(db *d);
/* The path the handle was opened with (owned by d), for error messages. */
const char *db_path(const db *d);

/* --- Sweeps (reports/sweep.h) -------------------------------------------------- */

/* Group several writes into one transaction: db_begin takes the write lock
 * (BEGIN IMMEDIATE, waiting up to the busy timeout); db_write_run inside it becomes a
 * savepoint of the outer transaction.  db_commit makes everything durable at once;
 * db_rollback (safe without a transaction) discards it.  Return 0 or -1 with err. */
int db_begin(db *d, fs_err *err);
int db_commit(db *d, fs_err *err);
void db_rollback(db *d);

/* Create a `sweep_defs` row.  grid_json must be valid JSON.  Returns 0 and *sweep_id,
 * or -1 with err. */
int db_sweep_create(db *d, const char *scenario, const char *grid_hash, const char *grid_json,
		    int64_t npoints, int64_t *sweep_id, fs_err *err);
/* The latest sweep with this hash, or *sweep_id = 0 when there is none.  Returns 0 or
 * -1 with err. */
int db_sweep_find(db *d, const char *grid_hash, int64_t *sweep_id, fs_err *err);
/* Mark done[p] = 1 for every point p < npoints of the sweep that has a `sweeps` row
 * (the caller zeroes done).  Returns 0 or -1 with err. */
int db_sweep_done_points(db *d, int64_t sweep_id, unsigned char *done, int64_t npoints,
			 fs_err *err);
/* Link run_id (policy) to point `point` of the sweep with the point's values as JSON.
 * A second row for the same (sweep, point, policy) fails: a point is never stored
 * twice.  Returns 0 or -1 with err. */
int db_sweep_link(db *d, int64_t sweep_id, int64_t point, const char *policy, int64_t run_id,
		  const char *params_json, fs_err *err);
/* *stored = 1 when point already has a `sweeps` row in the sweep (another process
 * stored it).  Returns 0 or -1 with err. */
int db_sweep_point_stored(db *d, int64_t sweep_id, int64_t point, int *stored, fs_err *err);
/* The latest sweep whose grid JSON has the same scenario_path, sets, params, seed and
 * requests as grid_json (the same sweep, whatever its inputs' contents were), or
 * *sweep_id = 0.  *old_grid is that sweep's grid JSON (caller frees) or NULL.
 * Returns 0 or -1 with err. */
int db_sweep_find_like(db *d, const char *grid_json, int64_t *sweep_id, char **old_grid, fs_err *err);
/* Claim the sweep for this process until db_close: a POSIX record lock on byte
 * sweep_id of the file PATH-sweeps.lock beside the database (created if missing; the
 * kernel drops the lock however the process ends).  Returns 0 (also when the lock file
 * cannot be created: then nothing is claimed), or -1 with err (FS_EXIT_RUNTIME) when
 * another process holds the claim. */
int db_sweep_claim(db *d, int64_t sweep_id, fs_err *err);
/* Store n quantiles of a run's metric ("ttft" or "tpot") for pool ("*": fleet) in
 * `quantiles`; values < 0 (none) are skipped.  Returns 0 or -1 with err. */
int db_write_quantiles(db *d, int64_t run_id, const char *pool, const char *metric,
		       const double *q, const double *v, int n, fs_err *err);

/* --- Plans (reports/plan.h) ------------------------------------------------------ */

/* One `plans` row: a simulation the planner ran and its verdict.  Strings borrowed. */
typedef struct db_plan_row {
	int64_t plan_id;
	int64_t run_id;          /* <= 0: NULL (not recorded as a run) */
	time_t created_at;       /* 0: now */
	const char *option;      /* "h100/bf16/dual"; required */
	const char *gpu, *precision, *policy, *phase; /* required */
	double load_scale;
	uint64_t seed;
	int64_t replicas;        /* total over the pools */
	int64_t gpus;            /* replicas x tensor_parallel_size, summed */
	int64_t threshold;       /* dual router threshold; <= 0: NULL */
	int meets_slo;           /* stored as verdict 'pass' / 'fail' */
	const char *reason;      /* NULL or "": NULL */
	double ttft_p99_s, tpot_p99_s, rejection_rate, gpu_hours; /* < 0: NULL */
	const char *params_json; /* per-pool replicas etc.; NULL: "{}"; must be valid JSON */
} db_plan_row;

/* The next free plan_id (max + 1, 1 for the first).  Returns 0 or -1 with err. */
int db_next_plan_id(db *d, int64_t *plan_id, fs_err *err);
/* Append one `plans` row (autocommit).  Returns 0, or -1 with err (FS_EXIT_INPUT for a
 * missing required string, FS_EXIT_RUNTIME for SQL failures). */
int db_write_plan_row(db *d, const db_plan_row *r, fs_err *err);

/* --- Reading back (report) -------------------------------------------------------
 * A results file travels between machines: whatever a reader takes from it is
 * untrusted input. */

/* Open an existing results file READ-ONLY (never creating one; works on a read-only
 * file and in a read-only directory) and check its schema version and the tables and
 * columns report reads.  Returns 0 and *out (db_close), or -1 with err: FS_EXIT_INPUT
 * "PATH: no such database", "PATH: is a directory...", "PATH: written by a newer
 * fleetsim ..." or "PATH: not a fleetsim results database (WHAT)"; FS_EXIT_RUNTIME for
 * I/O errors.  Only readers may use the handle: db_write_run and friends fail on it. */
int db_open_readonly(const char *path, db **out, fs_err *err);
/* Fail with FS_EXIT_INPUT "PATH: not a fleetsim results database (WHAT)"; returns -1. */
int db_fail_foreign(const db *d, fs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* After a failed read of d: a malformed or foreign file (corrupt, not SQLite, a query
 * its schema cannot answer) -> db_fail_foreign naming what; locked or I/O errors ->
 * FS_EXIT_RUNTIME.  Returns -1. */
int db_read_fail(const db *d, fs_err *err, const char *what);

#endif
