/* CUnit suite for reports/db: the SQLite results file, read back with plain sqlite3. */
#include <CUnit/CUnit.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "reports/db.h"
#include "tutil.h"
#include "version.h"

/* Plain-sqlite3 readers: a second connection sees exactly what was committed. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *h = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return NULL;
	}
	return h;
}

static sqlite3_stmt *raw_row(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static int64_t q_int(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = raw_row(h, sql);
	int64_t v = st ? sqlite3_column_int64(st, 0) : -999;
	sqlite3_finalize(st);
	return v;
}

static double q_dbl(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = raw_row(h, sql);
	double v = st ? sqlite3_column_double(st, 0) : -999;
	sqlite3_finalize(st);
	return v;
}

static int q_is_null(sqlite3 *h, const char *sql)
{
	sqlite3_stmt *st = raw_row(h, sql);
	int v = st ? sqlite3_column_type(st, 0) == SQLITE_NULL : -1;
	sqlite3_finalize(st);
	return v;
}

static int q_text_is(sqlite3 *h, const char *sql, const char *want)
{
	sqlite3_stmt *st = raw_row(h, sql);
	const unsigned char *t = st ? sqlite3_column_text(st, 0) : NULL;
	int ok = t && strcmp((const char *)t, want) == 0;
	if (!ok)
		fprintf(stderr, "\n  %s -> '%s', want '%s'\n", sql, t ? (const char *)t : "(null)", want);
	sqlite3_finalize(st);
	return ok;
}

static metrics_summary summary(const char *pool, int64_t requests, double ttft_p50)
{
	metrics_summary m;
	memset(&m, 0, sizeof m);
	snprintf(m.pool, sizeof m.pool, "%s", pool);
	snprintf(m.gpu, sizeof m.gpu, "h100");
	m.replicas = 2;
	m.gpus = 8;
	m.requests = requests;
	m.completed = requests - 1;
	m.rejected = 1;
	m.preemptions = 5;
	m.preemptions_per_request = 5.0 / (double)requests;
	m.ttft_p50_s = ttft_p50;
	m.ttft_p90_s = m.ttft_p99_s = m.ttft_max_s = m.ttft_mean_s = ttft_p50 * 2;
	m.tpot_p50_s = m.tpot_p90_s = m.tpot_p99_s = m.tpot_max_s = 0.02;
	m.e2e_p50_s = m.e2e_p90_s = m.e2e_p99_s = m.e2e_max_s = 3.5;
	m.makespan_s = 3600;
	m.gpu_hours = 8; /* 8 GPUs x 3600 s / 3600 */
	m.gpu_busy_s = 1234.5;
	m.kv_usage_mean = 0.4;
	m.kv_usage_max = 0.95;
	m.slo_attainment = 0.9;
	m.steps = 100000;
	return m;
}

static mx_request req(int64_t id, int16_t pool, int16_t replica, uint8_t status, double arr, double ft,
		      double fin, int32_t out)
{
	mx_request r;
	memset(&r, 0, sizeof r);
	r.id = id;
	r.pool = pool;
	r.replica = replica;
	r.status = status;
	r.arrival_s = arr;
	r.first_token_s = ft;
	r.finish_s = fin;
	r.ttft_s = ft >= 0 ? ft - arr : -1;
	r.e2e_s = fin >= 0 && status == RQ_DONE ? fin - arr : -1;
	r.tpot_s = status == RQ_DONE && out >= 2 ? (fin - ft) / (out - 1) : -1;
	r.prompt = 1000;
	r.output = out;
	r.category = 3;
	return r;
}

static void test_write_and_read(void)
{
	char path[512], sql[256];
	static const char *const names1[] = {"all", NULL};
	static const char *const names2[] = {"short", "long", NULL};
	metrics_summary p1[2], p2[3];
	mx_sample ts1[4] = {
		{0.0, 0, 1, 0, 0.1, 0, 0}, {1.0, 0, 2, 3, 0.5, 0, 0}, {2.0, 0, 0, 0, 0.0, 0, 0}, {1.0, -1, 2, 3, 0.5, 0, 0},
	};
	mx_request rq[4];
	db_run_info info = {0};
	fs_err err = {0};
	int64_t id1 = 0, id2 = 0, n = 0;
	double d = 0;
	db *db = NULL;
	sqlite3 *h;

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "runs.db"), 0);
	/* 0.1 + 0.2 is not 0.3 in binary: only an exact double round-trip returns it. */
	p1[0] = summary("*", 4, 0.1 + 0.2);
	p1[1] = summary("all", 4, 0.1 + 0.2);
	/* done: arrival 1.0, first token 1.25, finish 2.25, 5 outputs -> TPOT (2.25-1.25)/4 = 0.25 */
	rq[0] = req(0, 0, 1, RQ_DONE, 1.0, 1.25, 2.25, 5);
	rq[1] = req(1, -1, -1, RQ_REJECTED, 1.5, -1, 1.5, 10);   /* rejected at the router */
	rq[2] = req(2, 0, 0, RQ_UNFINISHED, 2.0, 2.5, -1, 10);   /* first token, no finish */
	rq[3] = req(3, 0, 0, RQ_DONE, 2.0, 2.5, 2.5, 1);         /* one token: no TPOT */
	rq[0].preemptions = 2;
	rq[0].misrouted = 1;

	info.scenario = "quickstart";
	info.policy = "single";
	info.params_json = "{ \"replicas\" : 2 }";
	info.seed = 42;
	info.started_at = 1700000000; /* 2023-11-14T22:13:20Z */
	info.wall_seconds = 0.25;

	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p1, 2, names1, ts1, 4, rq, 4, &id1, &err), 0);
	info.policy = "dual";
	info.params_json = NULL;
	info.seed = UINT64_MAX; /* stored as -1, cast back gives UINT64_MAX */
	info.sweep_id = 7;
	p2[0] = summary("*", 10, 0.5);
	p2[1] = summary("short", 10, 0.5);
	p2[2] = summary("long", 0, -1); /* no requests: quantiles are -1 -> NULL */
	CU_ASSERT_EQUAL(db_write_run(db, &info, p2, 3, names2, NULL, 0, NULL, 0, &id2, &err), 0);
	CU_ASSERT_EQUAL(id1, 1);
	CU_ASSERT_EQUAL(id2, 2);
	CU_ASSERT_EQUAL(db_count_runs(db, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(db_query_double(db, "SELECT gpu_busy_s FROM pool_metrics WHERE run_id=1 AND pool='all'",
					&d, &err),
			0);
	CU_ASSERT_EQUAL(d, 1234.5);
	CU_ASSERT_EQUAL(db_query_double(db, "SELECT ttft_p50_s FROM pool_metrics WHERE pool='long'", &d, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NULL"));
	CU_ASSERT_EQUAL(db_query_double(db, "SELECT nonsense FROM nowhere", &d, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	db_close(db);

	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(q_int(h, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	CU_ASSERT(q_text_is(h, "PRAGMA journal_mode", "wal"));
	/* runs */
	CU_ASSERT(q_text_is(h, "SELECT started_at FROM runs WHERE run_id=1", "2023-11-14T22:13:20Z"));
	CU_ASSERT(q_text_is(h, "SELECT params FROM runs WHERE run_id=1", "{\"replicas\":2}"));
	CU_ASSERT(q_text_is(h, "SELECT params FROM runs WHERE run_id=2", "{}"));
	CU_ASSERT(q_text_is(h, "SELECT version FROM runs WHERE run_id=1", FLEETSIM_VERSION));
	CU_ASSERT(q_text_is(h, "SELECT policy FROM runs WHERE run_id=2", "dual"));
	CU_ASSERT(q_text_is(h, "SELECT status FROM runs WHERE run_id=2", "complete"));
	CU_ASSERT_EQUAL(q_int(h, "SELECT seed FROM runs WHERE run_id=1"), 42);
	CU_ASSERT_EQUAL((uint64_t)q_int(h, "SELECT seed FROM runs WHERE run_id=2"), UINT64_MAX);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT sweep_id FROM runs WHERE run_id=1"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT sweep_id FROM runs WHERE run_id=2"), 7);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT wall_seconds FROM runs WHERE run_id=1"), 0.25);
	/* pool_metrics: 2 + 3 rows, doubles exact, -1 quantiles NULL */
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pool_metrics WHERE run_id=1"), 2);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pool_metrics WHERE run_id=2"), 3);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT ttft_p50_s FROM pool_metrics WHERE run_id=1 AND pool='*'"), 0.1 + 0.2);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT ttft_p99_s FROM pool_metrics WHERE run_id=1 AND pool='*'"),
			(0.1 + 0.2) * 2);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT preemptions_per_request FROM pool_metrics WHERE run_id=2 AND pool='short'"),
			0.5);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT ttft_p50_s FROM pool_metrics WHERE run_id=2 AND pool='long'"), 1);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT ttft_max_s FROM pool_metrics WHERE run_id=2 AND pool='long'"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT gpus FROM pool_metrics WHERE run_id=2 AND pool='long'"), 8);
	CU_ASSERT_EQUAL(q_int(h, "SELECT steps FROM pool_metrics WHERE run_id=2 AND pool='long'"), 100000);
	CU_ASSERT(q_text_is(h, "SELECT gpu FROM pool_metrics WHERE run_id=2 AND pool='long'", "h100"));
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT gpu_hours FROM pool_metrics WHERE run_id=1 AND pool='all'"), 8.0);
	/* requests: only run 1 asked for them */
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests WHERE run_id=1"), 4);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests WHERE run_id=2"), 0);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT tpot_s FROM requests WHERE id=0"), 0.25);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT ttft_s FROM requests WHERE id=0"), 0.25);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT e2e_s FROM requests WHERE id=0"), 1.25);
	CU_ASSERT_EQUAL(q_int(h, "SELECT preemptions FROM requests WHERE id=0"), 2);
	CU_ASSERT_EQUAL(q_int(h, "SELECT misrouted FROM requests WHERE id=0"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT replica FROM requests WHERE id=0"), 1);
	CU_ASSERT(q_text_is(h, "SELECT pool FROM requests WHERE id=0", "all"));
	CU_ASSERT(q_text_is(h, "SELECT status FROM requests WHERE id=1", "rejected"));
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT first_token_s FROM requests WHERE id=1"), 1);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT ttft_s FROM requests WHERE id=1"), 1);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT pool FROM requests WHERE id=1"), 1);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT replica FROM requests WHERE id=1"), 1);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT finish_s FROM requests WHERE id=1"), 1.5);
	CU_ASSERT(q_text_is(h, "SELECT status FROM requests WHERE id=2", "unfinished"));
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT finish_s FROM requests WHERE id=2"), 1);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT e2e_s FROM requests WHERE id=2"), 1);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT ttft_s FROM requests WHERE id=2"), 0.5);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT tpot_s FROM requests WHERE id=3"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests WHERE status='done'"), 2);
	/* timeseries: pool names, fleet sample as '*' */
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM timeseries WHERE run_id=1"), 4);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM timeseries WHERE pool='all'"), 3);
	CU_ASSERT_EQUAL(q_int(h, "SELECT waiting FROM timeseries WHERE pool='*'"), 3);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT kv_usage FROM timeseries WHERE pool='all' AND t_s=1"), 0.5);
	/* the tables later features append to exist already */
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM sqlite_master WHERE name IN ('sweeps','plans')"), 2);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM pragma_table_info('pool_metrics')");
	CU_ASSERT_EQUAL(q_int(h, sql), 43); /* run_id, pool + 41 metrics_summary fields */
	/* 2 x char[64] + 2 int + 7 int64 + 25 double + steps + 5 energy doubles
	 * = 128 + 8 + 56 + 200 + 8 + 40 = 440 bytes:
	 * when metrics_summary grows, add the field to pm_cols in reports/db.c and fix these. */
	CU_ASSERT_EQUAL(sizeof(metrics_summary), 440);
	sqlite3_close(h);
}

static void test_rollback_and_reopen(void)
{
	char path[512];
	static const char *const names[] = {"all", NULL};
	metrics_summary p[2];
	mx_sample ts[3] = {{0.0, 0, 1, 0, 0.1, 0, 0}, {1.0, 0, 1, 0, 0.2, 0, 0}, {2.0, 5, 1, 0, 0.3, 0, 0}};
	mx_request rq[2];
	db_run_info info = {.scenario = "s", .policy = "p", .started_at = 0};
	fs_err err = {0};
	int64_t id = 0, n = 0;
	db *db = NULL;
	sqlite3 *h;

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "runs.db"), 0); /* written by test_write_and_read: 2 runs */
	p[0] = summary("*", 2, 0.1);
	p[1] = summary("*", 2, 0.1); /* same pool twice: PRIMARY KEY (run_id, pool) fails */
	rq[0] = req(0, 0, 0, RQ_DONE, 0, 0.5, 1.0, 2);
	rq[1] = req(1, 0, 0, RQ_DONE, 0, 0.5, 1.0, 2);

	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	/* Failure inside SQL after the runs row went in. */
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 2, names, ts, 2, rq, 2, &id, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "UNIQUE"));
	/* Failure in our own check on the last sample, after pools and 2 samples went in. */
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, ts, 3, rq, 2, &id, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pool index 5"));
	/* Unknown request status. */
	rq[1].status = RQ_RUNNING;
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, ts, 2, rq, 2, &id, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "status"));
	rq[1].status = RQ_DONE;
	/* Invalid JSON is refused before anything is written. */
	info.params_json = "{replicas: 2";
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, ts, 2, rq, 2, &id, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "JSON"));
	info.params_json = NULL;
	CU_ASSERT_EQUAL(db_count_runs(db, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 2);

	/* The handle (and its reused statements) still works after the failures. */
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, ts, 2, rq, 2, &id, &err), 0);
	CU_ASSERT_EQUAL(id, 3);
	db_close(db);

	/* Reopening appends. */
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, NULL, 0, NULL, 0, &id, &err), 0);
	CU_ASSERT_EQUAL(id, 4);
	db_close(db);

	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM runs"), 4);
	/* runs 1, 2 as written before: 2 + 3 pool rows, 4 samples, 4 requests; run 3: 1 + 2 + 2 */
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pool_metrics"), 2 + 3 + 1 + 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM timeseries"), 4 + 2);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests"), 4 + 2);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests WHERE run_id NOT IN (SELECT run_id FROM runs)"), 0);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM timeseries WHERE run_id NOT IN (SELECT run_id FROM runs)"), 0);
	sqlite3_close(h);
}

/* A file written before the energy columns existed (schema version 2 without them)
 * gets them on open, NULL in its old rows, and takes new rows with them. */
static void test_energy_columns_migration(void)
{
	char path[512];
	static const char *const names[] = {"all", NULL};
	metrics_summary p[1];
	db_run_info info = {.scenario = "s", .policy = "p", .started_at = 0};
	fs_err err = {0};
	int64_t id = 0;
	db *db = NULL;
	sqlite3 *h;
	static const char *const cols[] = {"energy_j", "avg_power_w", "utilisation", "tokens_per_joule",
					   "energy_per_mtok_j"};

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "old_energy.db"), 0);
	remove(path);
	p[0] = summary("*", 2, 0.1);
	p[0].energy_j = 1234.5;
	p[0].avg_power_w = 600;
	p[0].utilisation = 0.25;
	p[0].tokens_per_joule = 3.5;
	p[0].energy_per_mtok_j = 1e6 / 3.5;
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, NULL, 0, NULL, 0, &id, &err), 0);
	db_close(db);
	/* Make it an old file: drop the new columns (SQLite >= 3.35). */
	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		char sql[128];
		snprintf(sql, sizeof sql, "ALTER TABLE pool_metrics DROP COLUMN %s", cols[i]);
		CU_ASSERT_EQUAL(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pragma_table_info('pool_metrics')"), 38);
	sqlite3_close(h);
	/* Reopen: the columns come back, the old row has NULLs, a new row has values. */
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, NULL, 0, NULL, 0, &id, &err), 0);
	db_close(db);
	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pragma_table_info('pool_metrics')"), 43);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT energy_j FROM pool_metrics WHERE run_id=1"), 1);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT energy_j FROM pool_metrics WHERE run_id=2"), 1234.5);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT avg_power_w FROM pool_metrics WHERE run_id=2"), 600);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT utilisation FROM pool_metrics WHERE run_id=2"), 0.25);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT tokens_per_joule FROM pool_metrics WHERE run_id=2"), 3.5);
	sqlite3_close(h);
}

/* Categories by name: a categories row per name (with its summary where given),
 * requests.category NULL when a request has none, and the table is added to a file
 * written before it existed. */
static void test_categories(void)
{
	char path[512];
	static const char *const names[] = {"all", NULL};
	static const char *const cats[] = {"chat", "docs, \"quoted\""};
	metrics_summary p[1], crow[1];
	mx_request rq[3];
	db_run_info info = {.scenario = "s", .policy = "p", .started_at = 0};
	fs_err err = {0};
	int64_t id = 0;
	db *db = NULL;
	sqlite3 *h;

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "cats.db"), 0);
	remove(path);
	p[0] = summary("*", 2, 0.1);
	crow[0] = summary("chat", 2, 0.1);
	crow[0].requests = 2;
	crow[0].ttft_p99_s = 0.75;
	rq[0] = req(0, 0, 0, RQ_DONE, 1.0, 1.25, 2.25, 5);
	rq[0].category = 0;
	rq[1] = req(1, 0, 0, RQ_DONE, 1.0, 1.25, 2.25, 5);
	rq[1].category = 1;
	rq[2] = req(2, 0, 0, RQ_DONE, 1.0, 1.25, 2.25, 5);
	rq[2].category = -1;
	info.category_names = cats;
	info.ncategories = 2;
	info.category_rows = crow;
	info.ncategory_rows = 1;
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, NULL, 0, rq, 3, &id, &err), 0);
	db_close(db);
	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM categories WHERE run_id = 1"), 2);
	CU_ASSERT_EQUAL(q_int(h, "SELECT requests FROM categories WHERE name = 'chat'"), 2);
	CU_ASSERT_EQUAL(q_dbl(h, "SELECT ttft_p99_s FROM categories WHERE name = 'chat'"), 0.75);
	CU_ASSERT_EQUAL(q_is_null(h, "SELECT requests FROM categories WHERE category = 1"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests r JOIN categories c USING (run_id, category)"
				 " WHERE c.name = 'docs, \"quoted\"'"), 1);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM requests WHERE category IS NULL"), 1);
	CU_ASSERT_EQUAL(sqlite3_exec(h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* An older file without the table gets it on open. */
	CU_ASSERT_EQUAL(sqlite3_exec(h, "PRAGMA foreign_keys = OFF; DROP TABLE categories", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, p, 1, names, NULL, 0, NULL, 0, &id, &err), 0);
	db_close(db);
	h = raw_open(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL(q_int(h, "SELECT count(*) FROM categories WHERE run_id = 2"), 2);
	sqlite3_close(h);
}

static void test_open_errors(void)
{
	char path[512];
	fs_err err = {0};
	db *db = NULL;
	sqlite3 *h;
	FILE *f;

	/* a directory */
	CU_ASSERT_EQUAL(db_open(tu_dir(), &db, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is a directory"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, tu_dir()));
	CU_ASSERT_PTR_NULL(db);

	/* a missing parent directory */
	CU_ASSERT_EQUAL(db_open("/nonexistent-fleetsim-dir/r.db", &db, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent-fleetsim-dir/r.db: cannot open"));

	/* read-only: a write-protected file.  Root ignores file modes, so as root the check
	 * runs in a child that drops to user nobody. */
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "ro.db"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	db_close(db);
	chmod(path, 0444);
	if (geteuid() == 0) {
		pid_t pid;
		int st = 0;
		chmod(tu_dir(), 0755);
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(77);
			_exit(db_open(path, &db, &err) == -1 && err.status == FS_EXIT_RUNTIME &&
					      strstr(err.msg, "read-only") && strstr(err.msg, path) ?
				      0 :
				      1);
		}
		CU_ASSERT_EQUAL(waitpid(pid, &st, 0), pid);
		CU_ASSERT(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77));
		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			fprintf(stderr, "\n  (read-only check skipped: cannot drop root)\n");
		chmod(tu_dir(), 0700);
	} else {
		CU_ASSERT_EQUAL(db_open(path, &db, &err), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "read-only"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	}

	/* not a database */
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "text.db"), 0);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("this is not an SQLite file, just some text that is long enough to have a header\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(db_open(path, &db, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an SQLite database"));

	/* someone else's database */
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "foreign.db"), 0);
	h = raw_open(path);
	CU_ASSERT_EQUAL(sqlite3_exec(h, "CREATE TABLE customers (id INTEGER)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	CU_ASSERT_EQUAL(db_open(path, &db, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a fleetsim results database"));

	/* a newer schema */
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "newer.db"), 0);
	h = raw_open(path);
	CU_ASSERT_EQUAL(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	CU_ASSERT_EQUAL(db_open(path, &db, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "newer fleetsim (schema version 99"));

	/* locked: another connection holds the write lock */
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "locked.db"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	db_close(db);
	h = raw_open(path);
	CU_ASSERT_EQUAL(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(db_open_ex(path, 50, &db, &err), 0); /* WAL: readers are not blocked */
	{
		db_run_info info = {.scenario = "s", .policy = "p"};
		int64_t n = -1;
		CU_ASSERT_EQUAL(db_write_run(db, &info, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, &err), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "locked"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
		CU_ASSERT_EQUAL(sqlite3_exec(h, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		CU_ASSERT_EQUAL(db_write_run(db, &info, NULL, 0, NULL, NULL, 0, NULL, 0, NULL, &err), 0);
		CU_ASSERT_EQUAL(db_count_runs(db, &n, &err), 0);
		CU_ASSERT_EQUAL(n, 1);
	}
	db_close(db);
	sqlite3_close(h);
}

/* Bulk speed: FS_DB_BENCH_ROWS request rows (default 200000) in one run. */
static void test_bulk_requests(void)
{
	char path[512];
	static const char *const names[] = {"short", "long", NULL};
	const char *env = getenv("FS_DB_BENCH_ROWS");
	size_t n = env ? (size_t)strtoull(env, NULL, 10) : 200000;
	mx_request *rq = calloc(n ? n : 1, sizeof *rq);
	metrics_summary p = summary("*", (int64_t)n, 0.2);
	db_run_info info = {.scenario = "bulk", .policy = "dual", .started_at = 0};
	struct timespec t0, t1;
	fs_err err = {0};
	int64_t id = 0, cnt = 0;
	double secs;
	db *db = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rq);
	for (size_t i = 0; i < n; i++)
		rq[i] = req((int64_t)i, (int16_t)(i % 2), (int16_t)(i % 7), RQ_DONE, i * 0.01, i * 0.01 + 0.2,
			    i * 0.01 + 3.0, 100);
	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "bulk.db"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(path, &db, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(db_write_run(db, &info, &p, 1, names, NULL, 0, rq, n, &id, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	fprintf(stderr, "\n  db: %zu request rows in %.3f s = %.0f rows/s\n", n, secs,
		secs > 0 ? (double)n / secs : 0.0);
	CU_ASSERT_EQUAL(db_query_int64(db, "SELECT count(*) FROM requests WHERE pool='long'", &cnt, &err), 0);
	CU_ASSERT_EQUAL(cnt, (int64_t)(n / 2));
	db_close(db);
	free(rq);
}

/* db_open_readonly: a missing path is "no such database" and nothing is created; a
 * file that is not SQLite, or SQLite without the fleetsim schema, is "not a fleetsim
 * results database"; a real file opens and takes no writes. */
static void test_open_readonly(void)
{
	char dir[512], p[700];
	db *d = NULL;
	fs_err e = {0};
	FILE *f;

	CU_ASSERT_EQUAL_FATAL(tu_mkdir("dbro", dir, sizeof dir), 0);
	snprintf(p, sizeof p, "%s/missing.db", dir);
	CU_ASSERT_EQUAL(db_open_readonly(p, &d, &e), -1);
	CU_ASSERT_EQUAL(e.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no such database"));
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);

	snprintf(p, sizeof p, "%s/text.db", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(p, "w"));
	for (int i = 0; i < 200; i++)
		fputs("this is not a database\n", f);
	fclose(f);
	fs_err_clear(&e);
	CU_ASSERT_EQUAL(db_open_readonly(p, &d, &e), -1);
	CU_ASSERT_EQUAL(e.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a fleetsim results database (not an SQLite file)"));

	snprintf(p, sizeof p, "%s/real.db", dir);
	CU_ASSERT_EQUAL_FATAL(db_open(p, &d, &e), 0);
	db_close(d);
	d = NULL;
	CU_ASSERT_EQUAL_FATAL(db_open_readonly(p, &d, &e), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	int64_t n = -1;
	CU_ASSERT_EQUAL(db_count_runs(d, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_NOT_EQUAL(sqlite3_exec(db_sqlite(d), "DELETE FROM runs", NULL, NULL, NULL), SQLITE_OK);
	db_close(d);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("db", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "write two runs, read back", test_write_and_read) ||
	    !CU_add_test(s, "failed writes roll back; reopen appends", test_rollback_and_reopen) ||
	    !CU_add_test(s, "open errors name the file", test_open_errors) ||
	    !CU_add_test(s, "energy columns added to older files", test_energy_columns_migration) ||
	    !CU_add_test(s, "bulk request rows", test_bulk_requests) ||
	    !CU_add_test(s, "categories by name", test_categories) ||
	    !CU_add_test(s, "read-only open of untrusted files", test_open_readonly))
		return -1;
	return 0;
}
