/* CUnit suite for reports/sweep: value lists and ranges, point order, point JSON,
 * outcome pack/unpack round trip, and a 4-point sweep on 1 and 3 threads. */
#include <CUnit/CUnit.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/db.h"
#include "reports/sweep.h"
#include "tutil.h"

static void free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void test_values(void)
{
	fs_err err = {0};
	char **v;
	int n;

	/* 512, 1024, ..., 16384: 512 * 2^5 = 16384 -> 6 values. */
	CU_ASSERT_EQUAL_FATAL(sweep_parse_values("512:16384:x2", &v, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_STRING_EQUAL(v[0], "512");
	CU_ASSERT_STRING_EQUAL(v[5], "16384");
	free_list(v, n);
	/* 0.1 + i * 0.1 for i = 0..9 reaches 1.0 without drift -> 10 values, last "1". */
	CU_ASSERT_EQUAL_FATAL(sweep_parse_values("0.1:1.0:+0.1", &v, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_STRING_EQUAL(v[2], "0.3");
	CU_ASSERT_STRING_EQUAL(v[9], "1");
	free_list(v, n);
	/* 1, 4, 16 (64 > 20). */
	CU_ASSERT_EQUAL_FATAL(sweep_parse_values("1:20:x4", &v, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(v[2], "16");
	free_list(v, n);
	CU_ASSERT_EQUAL_FATAL(sweep_parse_values("fp8, bf16 ,nvfp4", &v, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(v[1], "bf16");
	free_list(v, n);
	static const char *const bad[] = {"", "1,,2", "4:1:x2", "1:4:x1", "1:4:+0", "1:4:*2", "1:4", "a:4:+1",
					  "1:4:+1:2"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fs_err e = {0};
		CU_ASSERT_EQUAL(sweep_parse_values(bad[i], &v, &n, &e), -1);
		CU_ASSERT_EQUAL(e.status, FS_EXIT_INPUT);
		CU_ASSERT(strlen(e.msg) > 0);
	}
}

static void test_grid(void)
{
	sweep_grid g = {.npoints = 1};
	fs_err err = {0};
	const char *sets[SWEEP_MAX_PARAMS];
	char *buf, *js;

	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "a.b=1,2,3", &err), 0);
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "c=x,y", &err), 0);
	CU_ASSERT_EQUAL(g.npoints, 6);
	/* Row-major, last axis fastest: point 3 = (a.b index 1, c index 1) = (2, y). */
	CU_ASSERT_EQUAL_FATAL(sweep_point_sets(&g, 3, sets, &buf), 0);
	CU_ASSERT_STRING_EQUAL(sets[0], "a.b=2");
	CU_ASSERT_STRING_EQUAL(sets[1], "c=y");
	free(buf);
	js = sweep_point_json(&g, 4);
	CU_ASSERT_STRING_EQUAL(js, "{\"a.b\":3,\"c\":\"x\"}");
	free(js);
	CU_ASSERT_EQUAL(sweep_point_sets(&g, 6, sets, &buf), -1);
	/* The same key again replaces its values (--param over the sweep: block). */
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "a.b=5", &err), 0);
	CU_ASSERT_EQUAL(g.npoints, 2);
	CU_ASSERT_EQUAL(sweep_grid_add(&g, "=1,2", &err), -1);
	sweep_grid_free(&g);
}

static void test_file_block(void)
{
	sweep_grid g = {.npoints = 1};
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(
		sweep_grid_from_file(&g, FS_SOURCE_DIR "/tests/data/scenarios/sweep_small.yaml", &err), 0);
	/* rate: [4, 8, 16]; max_num_seqs: 8:32:x2 = 8, 16, 32 -> 9 points. */
	CU_ASSERT_EQUAL(g.nparams, 2);
	CU_ASSERT_EQUAL(g.npoints, 9);
	CU_ASSERT_STRING_EQUAL(g.params[1].vals[2], "32");
	sweep_grid_free(&g);
}

static void test_pack(void)
{
	sweep_outcome o = {0}, back;
	sweep_run_out *r;
	fs_err err = {0};
	void *buf;
	size_t len;

	o.point = 7;
	o.nruns = 1;
	o.runs = calloc(1, sizeof *o.runs);
	r = &o.runs[0];
	strcpy(r->rec.scenario, "sc");
	r->rec.seed = 42;
	strcpy(r->rec.policy, "dual");
	r->rec.params_json = strdup("{\"point\":{}}");
	r->rec.npools = 2;
	r->rec.rows[2].gpu_hours = 1.5;
	strcpy(r->rec.pool_names[1], "long");
	r->rec.nts = 2;
	r->rec.own_ts = calloc(2, sizeof *r->rec.own_ts);
	r->rec.own_ts[1].kv_usage = 0.25;
	r->rec.ts = r->rec.own_ts;
	r->rec.own_req = calloc(1, sizeof *r->rec.own_req);
	r->rec.req = r->rec.own_req;
	r->ttft_q[SWEEP_NQ - 1] = 3.0;
	r->meets_slo = 1;
	r->rec.ncats = 2;
	r->rec.cat_names = calloc(2, sizeof *r->rec.cat_names);
	r->rec.cat_names[0] = strdup("chat");
	r->rec.cat_names[1] = strdup("<doc>");
	r->rec.ncat_rows = 1;
	r->rec.cat_rows = calloc(1, sizeof *r->rec.cat_rows);
	r->rec.cat_rows[0].requests = 9;
	CU_ASSERT_EQUAL_FATAL(sweep_outcome_pack(&o, &buf, &len, &err), 0);
	CU_ASSERT_EQUAL_FATAL(sweep_outcome_unpack(buf, len, &back, &err), 0);
	CU_ASSERT_EQUAL(back.point, 7);
	CU_ASSERT_EQUAL(back.nruns, 1);
	CU_ASSERT_EQUAL(back.runs[0].rec.seed, 42);
	CU_ASSERT_STRING_EQUAL(back.runs[0].rec.scenario, "sc");
	CU_ASSERT_STRING_EQUAL(back.runs[0].rec.policy, "dual");
	CU_ASSERT_STRING_EQUAL(back.runs[0].rec.pool_names[1], "long");
	CU_ASSERT_EQUAL(back.runs[0].rec.rows[2].gpu_hours, 1.5);
	CU_ASSERT_EQUAL(back.runs[0].rec.ts[1].kv_usage, 0.25);
	CU_ASSERT_EQUAL(back.runs[0].ttft_q[SWEEP_NQ - 1], 3.0);
	CU_ASSERT_EQUAL(back.runs[0].meets_slo, 1);
	CU_ASSERT_STRING_EQUAL(back.runs[0].rec.params_json, "{\"point\":{}}");
	CU_ASSERT_EQUAL_FATAL(back.runs[0].rec.ncats, 2);
	CU_ASSERT_STRING_EQUAL(back.runs[0].rec.cat_names[1], "<doc>");
	CU_ASSERT_EQUAL_FATAL(back.runs[0].rec.ncat_rows, 1);
	CU_ASSERT_EQUAL(back.runs[0].rec.cat_rows[0].requests, 9);
	sweep_outcome_free(&back);
	/* Truncated and corrupted buffers are refused, never read past the end. */
	for (size_t cut = 0; cut < len; cut += 7) {
		fs_err e = {0};
		CU_ASSERT_EQUAL(sweep_outcome_unpack(buf, cut, &back, &e), -1);
	}
	((char *)buf)[0] = 'X';
	CU_ASSERT_EQUAL(sweep_outcome_unpack(buf, len, &back, &err), -1);
	free(buf);
	sweep_outcome_free(&o);
}

/* Sum over the sweep of fleet gpu_hours, keyed by point, as text for comparison. */
static void dump(const char *path, char *out, size_t cap)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	size_t n = 0;

	out[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &h), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(h,
		"SELECT s.point, s.policy, m.completed, m.ttft_p99_s, m.gpu_hours FROM sweeps s"
		" JOIN pool_metrics m USING (run_id) WHERE m.pool = '*' ORDER BY 1, 2", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%d %s %d %.17g %.17g\n", sqlite3_column_int(st, 0),
				      sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
				      sqlite3_column_double(st, 3), sqlite3_column_double(st, 4));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static void test_run_threads(void)
{
	char path[2][512], text[2][8192];
	sweep_grid g = {.npoints = 1};
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "policies.0.pools.0.replicas=1,2", &err), 0);
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "workload.synthetic.arrival.rate=0.5,1", &err), 0);
	for (int t = 0; t < 2; t++) {
		sweep_cfg c = {.scenario_path = FS_SOURCE_DIR "/tests/data/scenarios/light.yaml",
			       .grid = &g, .seed = -1, .jobs = t ? 3 : 1};
		sweep_stats st;
		CU_ASSERT_EQUAL_FATAL(tu_path(path[t], sizeof path[t], t ? "sweep_1.db" : "sweep_0.db"), 0);
		c.db_path = path[t];
		CU_ASSERT_EQUAL_FATAL(sweep_run(&c, &st, &err), 0);
		/* light.yaml has one policy: 4 points -> 4 runs. */
		CU_ASSERT_EQUAL(st.npoints, 4);
		CU_ASSERT_EQUAL(st.ran, 4);
		CU_ASSERT_EQUAL(st.runs, 4);
		dump(path[t], text[t], sizeof text[t]);
		/* Resume of a complete sweep runs nothing. */
		c.resume = 1;
		CU_ASSERT_EQUAL_FATAL(sweep_run(&c, &st, &err), 0);
		CU_ASSERT_EQUAL(st.ran, 0);
		CU_ASSERT_EQUAL(st.skipped, 4);
		CU_ASSERT(st.resumed);
	}
	CU_ASSERT_STRING_EQUAL(text[0], text[1]);
	CU_ASSERT(strlen(text[0]) > 20);
	for (int t = 0; t < 2; t++) {
		char p[1040];
		unlink(path[t]);
		snprintf(p, sizeof p, "%s-wal", path[t]);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", path[t]);
		unlink(p);
	}
	sweep_grid_free(&g);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("sweep", NULL, NULL);
	if (!s || !CU_add_test(s, "value lists and ranges", test_values) ||
	    !CU_add_test(s, "grid order and point JSON", test_grid) ||
	    !CU_add_test(s, "sweep: block in the scenario", test_file_block) ||
	    !CU_add_test(s, "outcome pack/unpack", test_pack) ||
	    !CU_add_test(s, "1 vs 3 threads, resume", test_run_threads))
		return -1;
	return 0;
}
