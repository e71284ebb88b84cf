/*
 * db.c - the SQLite results file.  See db.h for the contract, docs/database.md for
 * the schema as users see it.
 *
 * pool_metrics' columns come from one table (pm_cols) that drives both CREATE TABLE
 * and the INSERT binding, so a field added to metrics_summary needs one line here.
 */
#include "reports/db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/numparse.h"
#include "version.h"

struct db {
	sqlite3 *h;
	char *path;
	int busy_ms;   /* the busy timeout; also bounds the retries of a busy transaction */
	int last_rc;   /* SQLite result code of the last failure sql_fail reported */
	int has_lock;  /* lock_fd is open: the sweep lock file (db_sweep_claim) */
	int lock_fd;
	sqlite3_stmt *ins_run, *ins_pm, *ins_ts, *ins_req, *ins_req_many, *json_ok;
};

enum col_type { C_TEXT64, C_INT, C_I64, C_DBL, C_SEC };

/* C_SEC: a time in seconds where a negative value means "none" -> NULL. */
typedef struct pm_col {
	const char *name;
	enum col_type type;
	size_t off;
} pm_col;

#define PM(name, type) {#name, type, offsetof(metrics_summary, name)}
static const pm_col pm_cols[] = {
	PM(gpu, C_TEXT64),
	PM(replicas, C_INT),
	PM(gpus, C_INT),
	PM(requests, C_I64),
	PM(completed, C_I64),
	PM(rejected, C_I64),
	PM(unfinished, C_I64),
	PM(preemptions, C_I64),
	PM(preempted_requests, C_I64),
	PM(misroutes, C_I64),
	PM(preemptions_per_request, C_DBL),
	PM(preempted_share, C_DBL),
	PM(traffic_share, C_DBL),
	PM(ttft_p50_s, C_SEC),
	PM(ttft_p90_s, C_SEC),
	PM(ttft_p99_s, C_SEC),
	PM(ttft_max_s, C_SEC),
	PM(ttft_mean_s, C_SEC),
	PM(tpot_p50_s, C_SEC),
	PM(tpot_p90_s, C_SEC),
	PM(tpot_p99_s, C_SEC),
	PM(tpot_max_s, C_SEC),
	PM(e2e_p50_s, C_SEC),
	PM(e2e_p90_s, C_SEC),
	PM(e2e_p99_s, C_SEC),
	PM(e2e_max_s, C_SEC),
	PM(throughput_rps, C_DBL),
	PM(output_tps, C_DBL),
	PM(makespan_s, C_DBL),
	PM(gpu_busy_s, C_DBL),
	PM(gpu_hours, C_DBL),
	PM(kv_usage_mean, C_DBL),
	PM(kv_usage_max, C_DBL),
	PM(slo_attainment, C_DBL),
	PM(goodput_rps, C_DBL),
	PM(steps, C_I64),
	/* Added after schema version 2 shipped: db_open adds them to older files. */
	PM(energy_j, C_DBL),
	PM(avg_power_w, C_DBL),
	PM(utilisation, C_DBL),
	PM(tokens_per_joule, C_DBL),
	PM(energy_per_mtok_j, C_DBL),
};
/* The first pm_cols entry a version-2 file may lack (added by add_missing_cols). */
#define PM_FIRST_ADDED 36
#undef PM
#define N_PM_COLS (sizeof pm_cols / sizeof pm_cols[0])

/* requests rows per multi-row INSERT (REQ_BATCH x REQ_COLS parameters). */
#define REQ_BATCH 64
#define REQ_COLS 16
#define REQ_INSERT                                                                          \
	"INSERT INTO requests (run_id, id, pool, replica, arrival_s, first_token_s, finish_s," \
	" ttft_s, tpot_s, e2e_s, prompt_tokens, output_tokens, preemptions, status, category," \
	" misrouted) VALUES "

/* Workload categories of each run by name, with their summary (docs/database.md);
 * requests.category is the index.  Also created in older version-2 files on open. */
#define CATEGORIES_DDL                                                                     \
	"CREATE TABLE IF NOT EXISTS categories ("                                          \
	" run_id INTEGER NOT NULL REFERENCES runs(run_id),"                               \
	" category INTEGER NOT NULL,"                                                     \
	" name TEXT NOT NULL,"                                                            \
	" requests INTEGER, completed INTEGER, rejected INTEGER, unfinished INTEGER,"     \
	" traffic_share REAL, preemptions_per_request REAL,"                             \
	" ttft_p50_s REAL, ttft_p90_s REAL, ttft_p99_s REAL,"                             \
	" tpot_p50_s REAL, tpot_p90_s REAL, tpot_p99_s REAL,"                             \
	" e2e_p50_s REAL, e2e_p99_s REAL, throughput_rps REAL, output_tps REAL,"         \
	" slo_attainment REAL,"                                                           \
	" PRIMARY KEY (run_id, category));"

static const char schema_fixed[] =
	"CREATE TABLE IF NOT EXISTS runs ("
	" run_id INTEGER PRIMARY KEY,"
	" scenario TEXT NOT NULL,"
	" policy TEXT NOT NULL,"
	" params TEXT NOT NULL CHECK (json_valid(params)),"
	" seed INTEGER NOT NULL,"
	" started_at TEXT NOT NULL,"
	" wall_seconds REAL,"
	" version TEXT NOT NULL,"
	" sweep_id INTEGER,"
	" status TEXT NOT NULL DEFAULT 'complete');"
	"CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep_id);"
	"CREATE TABLE IF NOT EXISTS requests ("
	" run_id INTEGER NOT NULL REFERENCES runs(run_id),"
	" id INTEGER NOT NULL,"
	" pool TEXT,"
	" replica INTEGER,"
	" arrival_s REAL NOT NULL,"
	" first_token_s REAL,"
	" finish_s REAL,"
	" ttft_s REAL,"
	" tpot_s REAL,"
	" e2e_s REAL,"
	" prompt_tokens INTEGER NOT NULL,"
	" output_tokens INTEGER NOT NULL,"
	" preemptions INTEGER NOT NULL,"
	" status TEXT NOT NULL"
	" CHECK (status = 'done' OR status = 'rejected' OR status = 'unfinished'),"
	" category INTEGER,"
	" misrouted INTEGER NOT NULL,"
	" FOREIGN KEY (run_id, category) REFERENCES categories(run_id, category));"
	"CREATE INDEX IF NOT EXISTS requests_run ON requests(run_id);"
	CATEGORIES_DDL
	"CREATE TABLE IF NOT EXISTS timeseries ("
	" run_id INTEGER NOT NULL REFERENCES runs(run_id),"
	" t_s REAL NOT NULL,"
	" pool TEXT NOT NULL,"
	" running INTEGER NOT NULL,"
	" waiting INTEGER NOT NULL,"
	" kv_usage REAL);"
	"CREATE INDEX IF NOT EXISTS timeseries_run ON timeseries(run_id);"
	"CREATE TABLE IF NOT EXISTS sweep_defs ("
	" sweep_id INTEGER PRIMARY KEY,"
	" scenario TEXT NOT NULL,"
	" grid_hash TEXT NOT NULL,"
	" grid TEXT NOT NULL CHECK (json_valid(grid)),"
	" points INTEGER NOT NULL,"
	" created_at TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sweep_defs_hash ON sweep_defs(grid_hash);"
	"CREATE TABLE IF NOT EXISTS sweeps ("
	" sweep_id INTEGER NOT NULL REFERENCES sweep_defs(sweep_id),"
	" point INTEGER NOT NULL,"
	" policy TEXT NOT NULL,"
	" run_id INTEGER NOT NULL REFERENCES runs(run_id),"
	" params TEXT NOT NULL CHECK (json_valid(params)),"
	" PRIMARY KEY (sweep_id, run_id),"
	" UNIQUE (sweep_id, point, policy));"
	"CREATE TABLE IF NOT EXISTS quantiles ("
	" run_id INTEGER NOT NULL REFERENCES runs(run_id),"
	" pool TEXT NOT NULL,"
	" metric TEXT NOT NULL CHECK (metric = 'ttft' OR metric = 'tpot'),"
	" q REAL NOT NULL,"
	" value_s REAL NOT NULL,"
	" PRIMARY KEY (run_id, pool, metric, q));"
	/* One row per simulation `fleetsim plan` ran (docs/database.md, docs/planning.md). */
	"CREATE TABLE IF NOT EXISTS plans ("
	" plan_id INTEGER NOT NULL,"
	" run_id INTEGER REFERENCES runs(run_id),"
	" created_at TEXT NOT NULL,"
	" option TEXT NOT NULL,"
	" gpu TEXT NOT NULL,"
	" precision TEXT NOT NULL,"
	" policy TEXT NOT NULL,"
	" phase TEXT NOT NULL,"
	" load_scale REAL NOT NULL,"
	" seed INTEGER NOT NULL,"
	" replicas INTEGER NOT NULL,"
	" gpus INTEGER NOT NULL,"
	" threshold INTEGER,"
	" verdict TEXT NOT NULL CHECK (verdict = 'pass' OR verdict = 'fail'),"
	" reason TEXT,"
	" ttft_p99_s REAL,"
	" tpot_p99_s REAL,"
	" rejection_rate REAL,"
	" gpu_hours REAL,"
	" params TEXT NOT NULL CHECK (json_valid(params)));"
	"CREATE INDEX IF NOT EXISTS plans_plan ON plans(plan_id);";

static int sql_fail(db *d, fs_err *err, const char *what)
{
	int code = sqlite3_errcode(d->h);

	d->last_rc = code;
	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "%s: database is locked by another process (%s; waited %.0f s, see"
			       " FLEETSIM_DB_BUSY_TIMEOUT_S); retry or use another file",
			       d->path, what, d->busy_ms / 1000.0);
	if (code == SQLITE_READONLY)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: database is read-only (%s)", d->path, what,
			       sqlite3_errmsg(d->h));
	if (code == SQLITE_NOTADB)
		return fs_fail(err, FS_EXIT_INPUT, "%s: not an SQLite database", d->path);
	return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->h));
}

static int exec(db *d, const char *sql, const char *what, fs_err *err)
{
	if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_fail(d, err, what);
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int db_busy_timeout_ms(fs_err *err)
{
	const char *v = getenv("FLEETSIM_DB_BUSY_TIMEOUT_S");
	double s;

	if (!v || !*v)
		return DB_WRITE_BUSY_TIMEOUT_S * 1000;
	if (np_double(v, (size_t)-1, &s) || !(s >= 0) || s > 1e6)
		return fs_fail(err, FS_EXIT_INPUT,
			       "FLEETSIM_DB_BUSY_TIMEOUT_S: expected seconds between 0 and 1000000, got '%.64s'", v);
	return (int)(s * 1000 + 0.5);
}

int db_retry_busy(db *d, int attempt, double *t0)
{
	int code = d->last_rc & 0xff;
	double now = mono_s(), pause;
	struct timespec ts;

	if (code != SQLITE_BUSY && code != SQLITE_LOCKED)
		return 0;
	if (*t0 <= 0)
		*t0 = now;
	if ((now - *t0) * 1000 >= d->busy_ms)
		return 0;
	/* Exponential backoff from 10 ms to 1 s, jittered so waiting writers spread out. */
	pause = 0.01 * (double)(1u << (attempt < 7 ? attempt : 7));
	if (pause > 1)
		pause = 1;
	pause *= 0.5 + (double)(rand() % 1000) / 1000.0;
	ts.tv_sec = (time_t)pause;
	ts.tv_nsec = (long)((pause - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	d->last_rc = 0;
	return 1;
}

/* exec for the statements that take or release the write lock (BEGIN IMMEDIATE,
 * COMMIT): SQLite can answer SQLITE_BUSY without calling the busy handler (a
 * deadlock it breaks, a WAL recovery in progress), so retry with backoff until the
 * busy timeout runs out.  A failed COMMIT leaves the transaction open: retrying it is
 * correct. */
static int exec_retry(db *d, const char *sql, const char *what, fs_err *err)
{
	double t0 = 0;

	for (int attempt = 0;; attempt++) {
		d->last_rc = 0;
		if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) == SQLITE_OK)
			return 0;
		sql_fail(d, err, what);
		if (!db_retry_busy(d, attempt, &t0))
			return -1;
		fs_err_clear(err);
	}
}

static int query_i64(db *d, const char *sql, int64_t *out, const char *what, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(d, err, what);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE) {
			sqlite3_finalize(st);
			return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: no row", d->path, what);
		}
		sql_fail(d, err, what);
		sqlite3_finalize(st);
		return -1;
	}
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		sqlite3_finalize(st);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: value is NULL", d->path, what);
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int create_schema(db *d, fs_err *err)
{
	char sql[4096];
	size_t len;
	int64_t ver, ntables;

	/* IMMEDIATE: two processes creating the same new file must not both decide it is empty. */
	if (exec_retry(d, "BEGIN IMMEDIATE", "creating the schema", err))
		return -1;
	if (query_i64(d, "PRAGMA user_version", &ver, "reading the schema version", err))
		goto fail;
	if (ver == 0) {
		if (query_i64(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", &ntables,
			      "reading the schema", err))
			goto fail;
		if (ntables > 0) {
			fs_fail(err, FS_EXIT_INPUT,
				"%s: not a fleetsim results database (it has tables but no fleetsim schema version)",
				d->path);
			goto fail;
		}
	}
	if (ver == 1) {
		/* Version 1 had a `sweeps` table no release wrote to; version 2 gives it the
		 * point index and policy.  Refuse rather than drop rows someone put there. */
		int64_t nsw;
		if (query_i64(d, "SELECT count(*) FROM sweeps", &nsw, "upgrading the schema", err))
			goto fail;
		if (nsw > 0) {
			fs_fail(err, FS_EXIT_INPUT, "%s: cannot upgrade schema version 1: its sweeps table has rows",
				d->path);
			goto fail;
		}
		if (exec(d, "DROP TABLE sweeps", "upgrading the schema", err))
			goto fail;
	}
	if (ver < DB_SCHEMA_VERSION) {
		if (exec(d, schema_fixed, "creating the schema", err))
			goto fail;
		len = (size_t)snprintf(sql, sizeof sql,
				       "CREATE TABLE IF NOT EXISTS pool_metrics ("
				       " run_id INTEGER NOT NULL REFERENCES runs(run_id),"
				       " pool TEXT NOT NULL");
		for (size_t i = 0; i < N_PM_COLS && len < sizeof sql; i++)
			len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s %s", pm_cols[i].name,
						pm_cols[i].type == C_TEXT64 ? "TEXT" :
						pm_cols[i].type == C_INT || pm_cols[i].type == C_I64 ? "INTEGER" :
						"REAL");
		if (len < sizeof sql)
			len += (size_t)snprintf(sql + len, sizeof sql - len, ", PRIMARY KEY (run_id, pool))");
		if (len >= sizeof sql) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: internal: schema text too long", d->path);
			goto fail;
		}
		if (exec(d, sql, "creating the schema", err))
			goto fail;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_SCHEMA_VERSION);
		if (exec(d, sql, "recording the schema version", err))
			goto fail;
	}
	if (exec_retry(d, "COMMIT", "creating the schema", err))
		goto fail;
	return 0;
fail:
	sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Columns appended to pool_metrics since schema version 2 (energy, power,
 * utilisation): an older file gets them by ALTER TABLE, NULL in its old rows, so it
 * stays readable and writable.  Returns 0 or -1. */
static int add_missing_cols(db *d, fs_err *err)
{
	char sql[256];

	if (exec_retry(d, CATEGORIES_DDL, "adding the categories table", err))
		return -1;

	for (size_t i = PM_FIRST_ADDED; i < N_PM_COLS; i++) {
		sqlite3_stmt *st;
		int has;

		if (sqlite3_prepare_v2(d->h, "SELECT 1 FROM pragma_table_info('pool_metrics') WHERE name = ?1", -1,
				       &st, NULL) != SQLITE_OK)
			return sql_fail(d, err, "reading the schema");
		sqlite3_bind_text(st, 1, pm_cols[i].name, -1, SQLITE_STATIC);
		has = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (has)
			continue;
		snprintf(sql, sizeof sql, "ALTER TABLE pool_metrics ADD COLUMN %s REAL", pm_cols[i].name);
		if (exec_retry(d, sql, "adding pool_metrics columns", err)) {
			/* Another process may have added it meanwhile. */
			if (sqlite3_prepare_v2(d->h, "SELECT 1 FROM pragma_table_info('pool_metrics') WHERE name = ?1",
					       -1, &st, NULL) != SQLITE_OK)
				return -1;
			sqlite3_bind_text(st, 1, pm_cols[i].name, -1, SQLITE_STATIC);
			has = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
			if (!has)
				return -1;
		}
	}
	return 0;
}

static int prepare(db *d, const char *sql, sqlite3_stmt **st, fs_err *err)
{
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return sql_fail(d, err, "preparing statements");
	return 0;
}

static int prepare_all(db *d, fs_err *err)
{
	char sql[8192];
	size_t len;

	if (prepare(d,
		    "INSERT INTO runs (scenario, policy, params, seed, started_at, wall_seconds,"
		    " version, sweep_id, status) VALUES (?1, ?2, json(?3), ?4, ?5, ?6, ?7, ?8, ?9)",
		    &d->ins_run, err) ||
	    prepare(d,
		    "INSERT INTO timeseries (run_id, t_s, pool, running, waiting, kv_usage)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		    &d->ins_ts, err) ||
	    prepare(d,
		    REQ_INSERT "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    &d->ins_req, err) ||
	    prepare(d, "SELECT json_valid(?1)", &d->json_ok, err))
		return -1;
	len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO pool_metrics (run_id, pool");
	for (size_t i = 0; i < N_PM_COLS; i++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s", pm_cols[i].name);
	len += (size_t)snprintf(sql + len, sizeof sql - len, ") VALUES (?, ?");
	for (size_t i = 0; i < N_PM_COLS; i++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, ", ?");
	len += (size_t)snprintf(sql + len, sizeof sql - len, ")");
	if (len >= sizeof sql)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: internal: insert text too long", d->path);
	if (prepare(d, sql, &d->ins_pm, err))
		return -1;
	len = (size_t)snprintf(sql, sizeof sql, "%s", REQ_INSERT);
	for (int r = 0; r < REQ_BATCH && len < sizeof sql; r++)
		len += (size_t)snprintf(sql + len, sizeof sql - len, "%s(?%.*s)", r ? ", " : "",
					(REQ_COLS - 1) * 3, ", ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
	if (len >= sizeof sql)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: internal: insert text too long", d->path);
	return prepare(d, sql, &d->ins_req_many, err);
}

int db_open(const char *path, db **out, fs_err *err)
{
	int ms = db_busy_timeout_ms(err);

	*out = NULL;
	if (ms < 0)
		return -1;
	return db_open_ex(path, ms, out, err);
}

int db_open_ex(const char *path, int busy_ms, db **out, fs_err *err)
{
	struct stat sb;
	db *d = NULL;
	int64_t ver;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return fs_fail(err, FS_EXIT_INPUT, "database path is empty");
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			return fs_fail(err, FS_EXIT_INPUT, "%s: is a directory, expected a database file", path);
		if (!S_ISREG(sb.st_mode))
			return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	} else if (errno != ENOENT) {
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
	}

	d = calloc(1, sizeof *d);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
	}
	d->busy_ms = busy_ms > 0 ? busy_ms : 0;
	rc = sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		int sys = d->h ? sqlite3_system_errno(d->h) : 0;
		if (rc == SQLITE_CANTOPEN)
			fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open or create: %s", path,
				sys ? strerror(sys) : "unable to open database file");
		else
			fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open: %s", path,
				d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		goto fail;
	}
	/* SQLite silently falls back to read-only when the file is write-protected;
	 * a results file we cannot append to is an error the user must see now. */
	if (sqlite3_db_readonly(d->h, "main") == 1) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: database is read-only (check the file's permissions)", path);
		goto fail;
	}
	sqlite3_busy_timeout(d->h, busy_ms > 0 ? busy_ms : 0);
	if (query_i64(d, "PRAGMA user_version", &ver, "reading the schema version", err))
		goto fail;
	if (ver > DB_SCHEMA_VERSION) {
		fs_fail(err, FS_EXIT_INPUT,
			"%s: written by a newer fleetsim (schema version %lld; this build knows up to %d)",
			path, (long long)ver, DB_SCHEMA_VERSION);
		goto fail;
	}
	/* WAL lets report/plan read while a sweep appends; NORMAL sync is durable
	 * across application crashes in WAL mode and much faster per commit.  A 32 MiB
	 * page cache (on demand) makes a 1M-row requests insert ~20% faster. */
	if (exec_retry(d, "PRAGMA journal_mode = WAL", "setting WAL mode", err) ||
	    exec(d, "PRAGMA synchronous = NORMAL", "setting synchronous mode", err) ||
	    exec(d, "PRAGMA cache_size = -32768", "setting the cache size", err))
		goto fail;
	if (ver < DB_SCHEMA_VERSION && create_schema(d, err))
		goto fail;
	if (add_missing_cols(d, err))
		goto fail;
	if (prepare_all(d, err))
		goto fail;
	*out = d;
	return 0;
fail:
	db_close(d);
	return -1;
}

void db_close(db *d)
{
	if (!d)
		return;
	sqlite3_finalize(d->ins_run);
	sqlite3_finalize(d->ins_pm);
	sqlite3_finalize(d->ins_ts);
	sqlite3_finalize(d->ins_req);
	sqlite3_finalize(d->ins_req_many);
	sqlite3_finalize(d->json_ok);
	sqlite3_close(d->h);
	/* After sqlite3_close, so closing the lock file cannot disturb SQLite's locks. */
	if (d->has_lock)
		close(d->lock_fd);
	free(d->path);
	free(d);
}

struct sqlite3 *db_sqlite(db *d)
{
	return d->h;
}

const char *db_path(const db *d)
{
	return d->path;
}

/* Bind a time that uses a negative value for "none". */
static int bind_sec(sqlite3_stmt *st, int i, double v)
{
	return v < 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

static int step_done(db *d, sqlite3_stmt *st, const char *what, fs_err *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		sql_fail(d, err, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

static int write_run_row(db *d, const db_run_info *info, int64_t *run_id, fs_err *err)
{
	sqlite3_stmt *st = d->ins_run;
	char when[32];
	struct tm tm;
	time_t t = info->started_at;

	if (!gmtime_r(&t, &tm) || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: run start time %lld out of range", d->path,
			       (long long)info->started_at);
	sqlite3_bind_text(st, 1, info->scenario, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, info->policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, info->params_json ? info->params_json : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)info->seed);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, info->wall_seconds);
	sqlite3_bind_text(st, 7, info->version ? info->version : FLEETSIM_VERSION, -1, SQLITE_STATIC);
	if (info->sweep_id > 0)
		sqlite3_bind_int64(st, 8, info->sweep_id);
	else
		sqlite3_bind_null(st, 8);
	sqlite3_bind_text(st, 9, info->status ? info->status : "complete", -1, SQLITE_STATIC);
	if (step_done(d, st, "writing the run", err))
		return -1;
	*run_id = sqlite3_last_insert_rowid(d->h);
	return 0;
}

static int write_pool_row(db *d, int64_t run_id, const metrics_summary *m, fs_err *err)
{
	sqlite3_stmt *st = d->ins_pm;
	const char *base = (const char *)m;
	int k = 1;

	sqlite3_bind_int64(st, k++, run_id);
	sqlite3_bind_text(st, k++, m->pool, (int)strnlen(m->pool, sizeof m->pool), SQLITE_STATIC);
	for (size_t i = 0; i < N_PM_COLS; i++, k++) {
		const void *p = base + pm_cols[i].off;
		double v;
		switch (pm_cols[i].type) {
		case C_TEXT64:
			sqlite3_bind_text(st, k, p, (int)strnlen(p, 64), SQLITE_STATIC);
			break;
		case C_INT: {
			int iv;
			memcpy(&iv, p, sizeof iv);
			sqlite3_bind_int(st, k, iv);
			break;
		}
		case C_I64: {
			int64_t lv;
			memcpy(&lv, p, sizeof lv);
			sqlite3_bind_int64(st, k, lv);
			break;
		}
		case C_DBL:
			memcpy(&v, p, sizeof v);
			sqlite3_bind_double(st, k, v);
			break;
		case C_SEC:
			memcpy(&v, p, sizeof v);
			bind_sec(st, k, v);
			break;
		}
	}
	if (step_done(d, st, "writing pool_metrics", err))
		return fs_failp(err, "pool '%.64s': ", m->pool);
	return 0;
}

static const char *status_name(uint8_t s)
{
	switch (s) {
	case RQ_DONE:
		return "done";
	case RQ_REJECTED:
		return "rejected";
	case RQ_UNFINISHED:
		return "unfinished";
	default:
		return NULL;
	}
}

/* Bind request r to columns base+1 .. base+REQ_COLS of st. */
static int bind_req(db *d, sqlite3_stmt *st, int base, int64_t rid, const mx_request *r,
		    const char *const *pool_names, int nnames, fs_err *err)
{
	const char *status = status_name(r->status);

	if (!status)
		return fs_fail(err, FS_EXIT_INPUT, "%s: request %lld: status %u is not done, rejected or unfinished",
			       d->path, (long long)r->id, r->status);
	sqlite3_bind_int64(st, base + 1, rid);
	sqlite3_bind_int64(st, base + 2, r->id);
	if (r->pool < 0)
		sqlite3_bind_null(st, base + 3);
	else if (r->pool < nnames)
		sqlite3_bind_text(st, base + 3, pool_names[r->pool], -1, SQLITE_STATIC);
	else
		return fs_fail(err, FS_EXIT_INPUT, "%s: request %lld: pool index %d has no name (%d pools named)",
			       d->path, (long long)r->id, r->pool, nnames);
	if (r->replica < 0)
		sqlite3_bind_null(st, base + 4);
	else
		sqlite3_bind_int(st, base + 4, r->replica);
	sqlite3_bind_double(st, base + 5, r->arrival_s);
	bind_sec(st, base + 6, r->first_token_s);
	bind_sec(st, base + 7, r->finish_s);
	bind_sec(st, base + 8, r->ttft_s);
	bind_sec(st, base + 9, r->tpot_s);
	bind_sec(st, base + 10, r->e2e_s);
	sqlite3_bind_int(st, base + 11, r->prompt);
	sqlite3_bind_int(st, base + 12, r->output);
	sqlite3_bind_int(st, base + 13, r->preemptions);
	sqlite3_bind_text(st, base + 14, status, -1, SQLITE_STATIC);
	if (r->category < 0)
		sqlite3_bind_null(st, base + 15);
	else
		sqlite3_bind_int(st, base + 15, r->category);
	sqlite3_bind_int(st, base + 16, r->misrouted);
	return 0;
}

static int write_run_once(db *d, const db_run_info *info, const metrics_summary *pools, int npools,
			  const char *const *pool_names, int nnames, const mx_sample *ts, size_t nts,
			  const mx_request *reqs, size_t nreqs, int64_t *run_id, fs_err *err);

/* One categories row per name of info (the summary columns where info has one). */
static int write_categories(db *d, int64_t rid, const db_run_info *info, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (info->ncategories <= 0)
		return 0;
	if (sqlite3_prepare_v2(d->h,
			       "INSERT INTO categories (run_id, category, name, requests, completed, rejected,"
			       " unfinished, traffic_share, preemptions_per_request, ttft_p50_s, ttft_p90_s,"
			       " ttft_p99_s, tpot_p50_s, tpot_p90_s, tpot_p99_s, e2e_p50_s, e2e_p99_s,"
			       " throughput_rps, output_tps, slo_attainment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			       " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_fail(d, err, "preparing the categories insert");
	for (int c = 0; c < info->ncategories; c++) {
		const metrics_summary *m = c < info->ncategory_rows ? &info->category_rows[c] : NULL;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int(st, 2, c);
		sqlite3_bind_text(st, 3, info->category_names[c] ? info->category_names[c] : "", -1, SQLITE_STATIC);
		if (m) {
			sqlite3_bind_int64(st, 4, m->requests);
			sqlite3_bind_int64(st, 5, m->completed);
			sqlite3_bind_int64(st, 6, m->rejected);
			sqlite3_bind_int64(st, 7, m->unfinished);
			sqlite3_bind_double(st, 8, m->traffic_share);
			sqlite3_bind_double(st, 9, m->preemptions_per_request);
			bind_sec(st, 10, m->ttft_p50_s);
			bind_sec(st, 11, m->ttft_p90_s);
			bind_sec(st, 12, m->ttft_p99_s);
			bind_sec(st, 13, m->tpot_p50_s);
			bind_sec(st, 14, m->tpot_p90_s);
			bind_sec(st, 15, m->tpot_p99_s);
			bind_sec(st, 16, m->e2e_p50_s);
			bind_sec(st, 17, m->e2e_p99_s);
			sqlite3_bind_double(st, 18, m->throughput_rps);
			sqlite3_bind_double(st, 19, m->output_tps);
			sqlite3_bind_double(st, 20, m->slo_attainment);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			sql_fail(d, err, "writing categories");
			goto out;
		}
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int db_write_run(db *d, const db_run_info *info, const metrics_summary *pools, int npools,
		 const char *const *pool_names, const mx_sample *ts, size_t nts,
		 const mx_request *reqs, size_t nreqs, int64_t *run_id, fs_err *err)
{
	double t0 = 0;
	int nnames = 0;

	if (!info || !info->scenario || !info->policy || npools < 0 || (npools > 0 && !pools) ||
	    (nts > 0 && !ts) || (nreqs > 0 && !reqs))
		return fs_fail(err, FS_EXIT_INPUT, "%s: writing a run: missing scenario, policy or data",
			       d->path);
	while (pool_names && pool_names[nnames])
		nnames++;
	if (info->params_json) {
		int ok;
		sqlite3_bind_text(d->json_ok, 1, info->params_json, -1, SQLITE_STATIC);
		ok = sqlite3_step(d->json_ok) == SQLITE_ROW && sqlite3_column_int(d->json_ok, 0) == 1;
		sqlite3_reset(d->json_ok);
		if (!ok)
			return fs_fail(err, FS_EXIT_INPUT, "%s: run parameters are not valid JSON", d->path);
	}
	/* A run that has been simulated must not be lost to a busy database: retry the
	 * whole transaction while it fails with SQLITE_BUSY / LOCKED, up to the busy
	 * timeout.  Inside a caller's transaction (db_begin) the caller retries. */
	for (int attempt = 0;; attempt++) {
		int nested = !sqlite3_get_autocommit(d->h);
		d->last_rc = 0;
		if (!write_run_once(d, info, pools, npools, pool_names, nnames, ts, nts, reqs, nreqs,
				    run_id, err))
			return 0;
		if (nested || !db_retry_busy(d, attempt, &t0))
			return -1;
		fs_err_clear(err);
	}
}

static int write_run_once(db *d, const db_run_info *info, const metrics_summary *pools, int npools,
			  const char *const *pool_names, int nnames, const mx_sample *ts, size_t nts,
			  const mx_request *reqs, size_t nreqs, int64_t *run_id, fs_err *err)
{
	int64_t rid = 0;
	int nested;

	/* Inside a caller's transaction (db_begin) the run is a savepoint of it.
	 * Otherwise IMMEDIATE takes the write lock now (waiting up to the busy timeout)
	 * rather than failing half-way when a concurrent writer got there first. */
	nested = !sqlite3_get_autocommit(d->h);
	if (nested ? exec(d, "SAVEPOINT fs_run", "starting the run's transaction", err) :
		     exec_retry(d, "BEGIN IMMEDIATE", "starting the run's transaction", err))
		return -1;
	if (write_run_row(d, info, &rid, err))
		goto fail;
	for (int i = 0; i < npools; i++)
		if (write_pool_row(d, rid, &pools[i], err))
			goto fail;

	for (size_t i = 0; i < nts; i++) {
		sqlite3_stmt *st = d->ins_ts;
		const mx_sample *s = &ts[i];
		const char *pool;
		if (s->pool == -1)
			pool = "*";
		else if (s->pool >= 0 && s->pool < nnames)
			pool = pool_names[s->pool];
		else {
			fs_fail(err, FS_EXIT_INPUT, "%s: timeseries sample %zu: pool index %d has no name (%d pools named)",
				d->path, i, s->pool, nnames);
			goto fail;
		}
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_double(st, 2, s->t_s);
		sqlite3_bind_text(st, 3, pool, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, s->running);
		sqlite3_bind_int(st, 5, s->waiting);
		sqlite3_bind_double(st, 6, s->kv_usage);
		if (step_done(d, st, "writing timeseries", err))
			goto fail;
	}

	if (write_categories(d, rid, info, err))
		goto fail;

	/* Multi-row INSERTs: per-statement overhead dominates single-row inserts. */
	for (size_t i = 0; i < nreqs;) {
		int batch = nreqs - i >= REQ_BATCH ? REQ_BATCH : 1;
		sqlite3_stmt *st = batch > 1 ? d->ins_req_many : d->ins_req;
		for (int k = 0; k < batch; k++, i++)
			if (bind_req(d, st, k * REQ_COLS, rid, &reqs[i], pool_names, nnames, err))
				goto fail;
		if (step_done(d, st, "writing requests", err))
			goto fail;
	}

	if (nested ? exec(d, "RELEASE fs_run", "committing the run", err) :
		     exec_retry(d, "COMMIT", "committing the run", err))
		goto fail;
	if (run_id)
		*run_id = rid;
	return 0;
fail:
	if (nested)
		sqlite3_exec(d->h, "ROLLBACK TO fs_run; RELEASE fs_run", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(d->h))
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int db_count_runs(db *d, int64_t *n, fs_err *err)
{
	return query_i64(d, "SELECT count(*) FROM runs", n, "counting runs", err);
}

int db_query_int64(db *d, const char *sql, int64_t *out, fs_err *err)
{
	char what[160];

	snprintf(what, sizeof what, "query '%.120s'", sql);
	return query_i64(d, sql, out, what, err);
}

int db_query_double(db *d, const char *sql, double *out, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	char what[160];
	int rc;

	snprintf(what, sizeof what, "query '%.120s'", sql);
	if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_fail(d, err, what);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*out = sqlite3_column_double(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	if (rc == SQLITE_ROW)
		fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: value is NULL", d->path, what);
	else if (rc == SQLITE_DONE)
		fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: no row", d->path, what);
	else
		sql_fail(d, err, what);
	sqlite3_finalize(st);
	return -1;
}

int db_begin(db *d, fs_err *err)
{
	return exec_retry(d, "BEGIN IMMEDIATE", "starting a transaction", err);
}

int db_commit(db *d, fs_err *err)
{
	if (exec_retry(d, "COMMIT", "committing", err)) {
		db_rollback(d);
		return -1;
	}
	return 0;
}

void db_rollback(db *d)
{
	if (d && !sqlite3_get_autocommit(d->h))
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
}

/* A one-off statement: these run once per point, cheap next to a simulation. */
static int stmt(db *d, const char *sql, sqlite3_stmt **st, const char *what, fs_err *err)
{
	if (sqlite3_prepare_v2(d->h, sql, -1, st, NULL) != SQLITE_OK)
		return sql_fail(d, err, what);
	return 0;
}

int db_sweep_create(db *d, const char *scenario, const char *grid_hash, const char *grid_json,
		    int64_t npoints, int64_t *sweep_id, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	char when[32];
	struct tm tm;
	time_t t = time(NULL);

	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof when, "1970-01-01T00:00:00Z");
	if (stmt(d, "INSERT INTO sweep_defs (scenario, grid_hash, grid, points, created_at)"
		    " VALUES (?1, ?2, json(?3), ?4, ?5)", &st, "creating the sweep", err))
		return -1;
	sqlite3_bind_text(st, 1, scenario, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, grid_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, grid_json, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, npoints);
	sqlite3_bind_text(st, 5, when, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(d, err, "creating the sweep");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	*sweep_id = sqlite3_last_insert_rowid(d->h);
	return 0;
}

int db_sweep_find(db *d, const char *grid_hash, int64_t *sweep_id, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*sweep_id = 0;
	if (stmt(d, "SELECT max(sweep_id) FROM sweep_defs WHERE grid_hash = ?1", &st,
		 "looking up the sweep", err))
		return -1;
	sqlite3_bind_text(st, 1, grid_hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*sweep_id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sql_fail(d, err, "looking up the sweep");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int db_sweep_done_points(db *d, int64_t sweep_id, unsigned char *done, int64_t npoints,
			 fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (stmt(d, "SELECT DISTINCT point FROM sweeps WHERE sweep_id = ?1", &st,
		 "reading the sweep's points", err))
		return -1;
	sqlite3_bind_int64(st, 1, sweep_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t p = sqlite3_column_int64(st, 0);
		if (p >= 0 && p < npoints)
			done[p] = 1;
	}
	if (rc != SQLITE_DONE) {
		sql_fail(d, err, "reading the sweep's points");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int db_sweep_link(db *d, int64_t sweep_id, int64_t point, const char *policy, int64_t run_id,
		  const char *params_json, fs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (stmt(d, "INSERT INTO sweeps (sweep_id, point, policy, run_id, params)"
		    " VALUES (?1, ?2, ?3, ?4, json(?5))", &st, "linking the run to its sweep", err))
		return -1;
	sqlite3_bind_int64(st, 1, sweep_id);
	sqlite3_bind_int64(st, 2, point);
	sqlite3_bind_text(st, 3, policy, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, run_id);
	sqlite3_bind_text(st, 5, params_json ? params_json : "{}", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(d, err, "linking the run to its sweep");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int db_sweep_point_stored(db *d, int64_t sweep_id, int64_t point, int *stored, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*stored = 0;
	if (stmt(d, "SELECT 1 FROM sweeps WHERE sweep_id = ?1 AND point = ?2 LIMIT 1", &st,
		 "reading the sweep's points", err))
		return -1;
	sqlite3_bind_int64(st, 1, sweep_id);
	sqlite3_bind_int64(st, 2, point);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sql_fail(d, err, "reading the sweep's points");
		sqlite3_finalize(st);
		return -1;
	}
	*stored = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
}

int db_sweep_find_like(db *d, const char *grid_json, int64_t *sweep_id, char **old_grid, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*sweep_id = 0;
	*old_grid = NULL;
	if (stmt(d, "SELECT sweep_id, grid FROM sweep_defs"
		    " WHERE json_extract(grid, '$.scenario_path') IS json_extract(?1, '$.scenario_path')"
		    " AND json_extract(grid, '$.sets') IS json_extract(?1, '$.sets')"
		    " AND json_extract(grid, '$.params') IS json_extract(?1, '$.params')"
		    " AND json_extract(grid, '$.seed') IS json_extract(?1, '$.seed')"
		    " AND json_extract(grid, '$.requests') IS json_extract(?1, '$.requests')"
		    " ORDER BY sweep_id DESC LIMIT 1",
		 &st, "looking up the sweep", err))
		return -1;
	sqlite3_bind_text(st, 1, grid_json, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *g = sqlite3_column_text(st, 1);
		*sweep_id = sqlite3_column_int64(st, 0);
		if (g && !(*old_grid = strdup((const char *)g))) {
			sqlite3_finalize(st);
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		}
	} else if (rc != SQLITE_DONE) {
		sql_fail(d, err, "looking up the sweep");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int db_sweep_claim(db *d, int64_t sweep_id, fs_err *err)
{
	char lp[4200];
	struct flock fl = {0};

	if (!d->has_lock) {
		int n = snprintf(lp, sizeof lp, "%s-sweeps.lock", d->path);
		if (n < 0 || (size_t)n >= sizeof lp)
			return 0;
		d->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (d->lock_fd < 0)
			return 0; /* no lock file: a duplicate point is still never stored twice */
		d->has_lock = 1;
	}
	/* One byte per sweep: a POSIX record lock, released by the kernel however the
	 * process ends, so a killed sweep never leaves a stale claim. */
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)sweep_id;
	fl.l_len = 1;
	if (fcntl(d->lock_fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno != EACCES && errno != EAGAIN)
		return 0;
	fl.l_type = F_WRLCK;
	if (fcntl(d->lock_fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "%s: sweep %lld is being run by another fleetsim process (pid %ld); wait for it to"
			       " finish (then --resume runs whatever it left) or stop it first",
			       d->path, (long long)sweep_id, (long)fl.l_pid);
	return fs_fail(err, FS_EXIT_RUNTIME,
		       "%s: sweep %lld is being run by another fleetsim process; wait for it to finish"
		       " (then --resume runs whatever it left) or stop it first",
		       d->path, (long long)sweep_id);
}

int db_write_quantiles(db *d, int64_t run_id, const char *pool, const char *metric,
		       const double *q, const double *v, int n, fs_err *err)
{
	sqlite3_stmt *st = NULL;

	if (stmt(d, "INSERT INTO quantiles (run_id, pool, metric, q, value_s) VALUES (?1, ?2, ?3, ?4, ?5)",
		 &st, "writing quantiles", err))
		return -1;
	for (int i = 0; i < n; i++) {
		if (!(v[i] >= 0))
			continue;
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, pool, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, metric, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 4, q[i]);
		sqlite3_bind_double(st, 5, v[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sql_fail(d, err, "writing quantiles");
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return 0;
}

/* --- Plans ---------------------------------------------------------------------- */

int db_next_plan_id(db *d, int64_t *plan_id, fs_err *err)
{
	int64_t n = 0;

	if (query_i64(d, "SELECT coalesce(max(plan_id), 0) + 1 FROM plans", &n, "numbering the plan", err))
		return -1;
	*plan_id = n;
	return 0;
}

int db_write_plan_row(db *d, const db_plan_row *r, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	char when[32];
	struct tm tm;
	time_t t = r->created_at ? r->created_at : time(NULL);

	if (!r->option || !r->gpu || !r->precision || !r->policy || !r->phase)
		return fs_fail(err, FS_EXIT_INPUT, "%s: plan row: option, gpu, precision, policy and phase are required",
			       d->path);
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof when, "1970-01-01T00:00:00Z");
	if (stmt(d, "INSERT INTO plans (plan_id, run_id, created_at, option, gpu, precision, policy,"
		    " phase, load_scale, seed, replicas, gpus, threshold, verdict, reason, ttft_p99_s,"
		    " tpot_p99_s, rejection_rate, gpu_hours, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		    " ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, json(?20))",
		 &st, "writing a plan row", err))
		return -1;
	sqlite3_bind_int64(st, 1, r->plan_id);
	if (r->run_id > 0)
		sqlite3_bind_int64(st, 2, r->run_id);
	sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->option, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->gpu, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->precision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->policy, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->phase, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 9, r->load_scale);
	sqlite3_bind_int64(st, 10, (int64_t)r->seed);
	sqlite3_bind_int64(st, 11, r->replicas);
	sqlite3_bind_int64(st, 12, r->gpus);
	if (r->threshold > 0)
		sqlite3_bind_int64(st, 13, r->threshold);
	sqlite3_bind_text(st, 14, r->meets_slo ? "pass" : "fail", -1, SQLITE_STATIC);
	if (r->reason && r->reason[0])
		sqlite3_bind_text(st, 15, r->reason, -1, SQLITE_STATIC);
	bind_sec(st, 16, r->ttft_p99_s);
	bind_sec(st, 17, r->tpot_p99_s);
	bind_sec(st, 18, r->rejection_rate);
	bind_sec(st, 19, r->gpu_hours);
	sqlite3_bind_text(st, 20, r->params_json ? r->params_json : "{}", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sql_fail(d, err, "writing a plan row");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* --- Reading back (report): the file is untrusted input ------------------------ */

int db_fail_foreign(const db *d, fs_err *err, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return fs_fail(err, FS_EXIT_INPUT, "%s: not a fleetsim results database (%s)", d->path, what);
}

int db_read_fail(const db *d, fs_err *err, const char *what)
{
	int code = sqlite3_errcode(d->h) & 0xff;

	if (code == SQLITE_NOTADB)
		return db_fail_foreign(d, err, "not an SQLite file");
	if (code == SQLITE_CORRUPT || code == SQLITE_FORMAT || code == SQLITE_RANGE ||
	    code == SQLITE_MISMATCH || code == SQLITE_ERROR || code == SQLITE_SCHEMA)
		return db_fail_foreign(d, err, "%s: %s", what, sqlite3_errmsg(d->h));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: database is locked by another process (%s); retry",
			       d->path, what);
	return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s: %s", d->path, what, sqlite3_errmsg(d->h));
}

/* The tables and columns report reads; each must be a real table (not a view). */
static const struct {
	const char *table, *cols[16];
} ro_schema[] = {
	{"runs", {"run_id", "scenario", "policy", "params", "started_at", "sweep_id"}},
	{"pool_metrics",
	 {"run_id", "pool", "gpus", "gpu_hours", "preemptions_per_request", "ttft_p50_s", "ttft_p99_s",
	  "tpot_p99_s", "slo_attainment", "throughput_rps", "completed", "rejected", "traffic_share"}},
	{"requests", {"run_id", "ttft_s", "tpot_s"}},
	{"timeseries", {"run_id", "t_s", "pool", "running", "waiting", "kv_usage"}},
	{"sweep_defs", {"sweep_id", "grid", "points"}},
	{"sweeps", {"sweep_id", "point", "policy", "run_id", "params"}},
	{"quantiles", {"run_id", "pool", "metric", "q", "value_s"}},
};

/* 1 when table t of d has column c, 0 when not, -1 on an SQL error. */
static int ro_has(db *d, const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(d->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Schema version and the tables and columns report reads. */
static int ro_check(db *d, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int64_t ver = 0;
	int rc;

	if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return db_read_fail(d, err, "reading the schema version");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		ver = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_read_fail(d, err, "reading the schema version");
	if (ver > DB_SCHEMA_VERSION)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: written by a newer fleetsim (schema version %lld; this build knows up to %d)",
			       d->path, (long long)ver, DB_SCHEMA_VERSION);
	if (ver <= 0)
		return db_fail_foreign(d, err, "no fleetsim schema version");
	for (size_t t = 0; t < sizeof ro_schema / sizeof ro_schema[0]; t++) {
		rc = ro_has(d, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
			    ro_schema[t].table, NULL);
		if (rc < 0)
			return db_read_fail(d, err, "reading the schema");
		if (!rc)
			return db_fail_foreign(d, err, "no table %s", ro_schema[t].table);
		for (int c = 0; c < 16 && ro_schema[t].cols[c]; c++) {
			rc = ro_has(d, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", ro_schema[t].table,
				    ro_schema[t].cols[c]);
			if (rc < 0)
				return db_read_fail(d, err, "reading the schema");
			if (!rc)
				return db_fail_foreign(d, err, "table %s has no column %s", ro_schema[t].table,
						       ro_schema[t].cols[c]);
		}
	}
	return 0;
}

/* Open path read-only (or, with immutable, as a file nobody changes: for a WAL file
 * in a directory we cannot create its -shm in).  Returns the sqlite3 result code. */
static int ro_open(db *d, int immutable)
{
	char uri[8400];
	size_t n = (size_t)snprintf(uri, sizeof uri, "file:");
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;

	for (const unsigned char *p = (const unsigned char *)d->path; *p && n + 4 < sizeof uri; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._-~", *p))
			uri[n++] = (char)*p;
		else
			n += (size_t)snprintf(uri + n, sizeof uri - n, "%%%02X", *p);
	if (n + 16 >= sizeof uri)
		return SQLITE_CANTOPEN;
	snprintf(uri + n, sizeof uri - n, "%s", immutable ? "?immutable=1" : "");
	if (d->h) {
		sqlite3_close(d->h);
		d->h = NULL;
	}
	int rc = sqlite3_open_v2(uri, &d->h, flags, NULL);
	if (rc == SQLITE_OK) {
		/* Hostile-file hardening: no writes to the schema, no functions with side
		 * effects from views or triggers the file brings. */
		sqlite3_db_config(d->h, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
#ifdef SQLITE_DBCONFIG_TRUSTED_SCHEMA
		sqlite3_db_config(d->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
#endif
		sqlite3_busy_timeout(d->h, DB_BUSY_TIMEOUT_MS);
	}
	return rc;
}

int db_open_readonly(const char *path, db **out, fs_err *err)
{
	struct stat sb;
	db *d = NULL;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return fs_fail(err, FS_EXIT_INPUT, "database path is empty");
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fs_fail(err, FS_EXIT_INPUT, "%s: no such database", path);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open: %s", path, strerror(errno));
	}
	if (S_ISDIR(sb.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: is a directory, expected a database file", path);
	if (!S_ISREG(sb.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	d = calloc(1, sizeof *d);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
	}
	rc = ro_open(d, 0);
	if (rc != SQLITE_OK) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open: %s", path,
			d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		goto fail;
	}
	if (ro_check(d, err)) {
		/* A WAL file whose -shm cannot be created (read-only directory) reads as
		 * CANTOPEN: read it as an immutable file instead. */
		int code = sqlite3_errcode(d->h) & 0xff;
		if (code != SQLITE_CANTOPEN && code != SQLITE_READONLY)
			goto fail;
		fs_err_clear(err);
		if ((rc = ro_open(d, 1)) != SQLITE_OK) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot open: %s", path,
				d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
			goto fail;
		}
		if (ro_check(d, err))
			goto fail;
	}
	*out = d;
	return 0;
fail:
	db_close(d);
	return -1;
}
