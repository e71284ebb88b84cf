/* CUnit suite for reports/report and the plot_lines/plot_bars helpers: a tiny sweep is
 * reported; PNGs carry the PNG signature, index.html names the plots; bad ids fail. */
#include <CUnit/CUnit.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/db.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/sweep.h"
#include "tutil.h"

static int is_png(const char *dir, const char *base)
{
	char p[1280], h[8] = {0};
	FILE *f;
	snprintf(p, sizeof p, "%s/%s.png", dir, base);
	if (!(f = fopen(p, "rb")))
		return 0;
	size_t n = fread(h, 1, 8, f);
	fclose(f);
	return n == 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8);
}

static void test_plot_helpers(void)
{
	char dir[512];
	double x[3] = {1, 2, 4}, y[3] = {0.5, -1, 2}, v[4] = {0.25, 0.75, 1, -1};
	plot_series s = {"a", x, y, 3};
	plot_lines_spec sp = {.name = "lines", .title = "t", .hline = 1};
	const char *cats[2] = {"short", "long"}, *ser[2] = {"single", "dual"};
	fs_err err = {0};

	CU_ASSERT_EQUAL_FATAL(tu_mkdir("plot", dir, sizeof dir), 0);
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	CU_ASSERT(is_png(dir, "lines"));
	CU_ASSERT_EQUAL(plot_bars(dir, "bars", "t", "share", 2, cats, 2, ser, v, &err), 0);
	CU_ASSERT(is_png(dir, "bars"));
	/* All values missing: an input error, not an empty picture. */
	double none[3] = {-1, -1, -1};
	plot_series e = {"e", x, none, 3};
	fs_err e2 = {0};
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &e, &e2), -1);
	CU_ASSERT_EQUAL(e2.status, FS_EXIT_INPUT);
}

static void test_report_sweep(void)
{
	char dir[512], dbp[600], out[600];
	sweep_grid g = {.npoints = 1};
	sweep_stats st;
	report_stats rs;
	fs_err err = {0};
	db *d = NULL;

	CU_ASSERT_EQUAL_FATAL(tu_mkdir("report", dir, sizeof dir), 0);
	snprintf(dbp, sizeof dbp, "%s/r.db", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "policies.0.pools.0.replicas=1,2", &err), 0);
	sweep_cfg c = {.scenario_path = FS_SOURCE_DIR "/tests/data/scenarios/light.yaml", .grid = &g,
		       .seed = -1, .jobs = 2, .db_path = dbp};
	CU_ASSERT_EQUAL_FATAL(sweep_run(&c, &st, &err), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(dbp, &d, &err), 0);
	report_opts o = {.sweep_id = st.sweep_id, .out_dir = out};
	CU_ASSERT_EQUAL_FATAL(report_write(d, &o, &rs, &err), 0);
	CU_ASSERT_EQUAL(rs.nruns, 2);
	/* 1 axis x (GPU-hours, preemptions, TTFT p99, TPOT p99, traffic share) + 2 CDFs +
	 * 1 time series (one policy) = 8. */
	CU_ASSERT_EQUAL(rs.nplots, 8);
	CU_ASSERT(is_png(out, "gpu_hours_vs_policies.0.pools.0.replicas"));
	CU_ASSERT(is_png(out, "ttft_cdf"));
	CU_ASSERT_EQUAL(access(rs.index_path, R_OK), 0);
	/* Unknown sweep: input error. */
	fs_err e2 = {0};
	report_opts bad = {.sweep_id = 99, .out_dir = out};
	CU_ASSERT_EQUAL(report_write(d, &bad, &rs, &e2), -1);
	CU_ASSERT_EQUAL(e2.status, FS_EXIT_INPUT);
	db_close(d);

	/* Read-only: the report of the same file opened read-only is the same. */
	CU_ASSERT_EQUAL_FATAL(db_open_readonly(dbp, &d, &err), 0);
	CU_ASSERT_EQUAL(report_write(d, &o, &rs, &err), 0);
	CU_ASSERT_EQUAL(rs.nplots, 8);
	db_close(d);

	/* Crafted rows: each is "not a fleetsim results database", FS_EXIT_INPUT, and no
	 * output directory is created. */
	static const char *const crafted[][2] = {
		{"UPDATE sweeps SET point = -1 WHERE rowid = (SELECT min(rowid) FROM sweeps)", "point -1 is not in 0..1"},
		{"UPDATE sweeps SET point = 9999 WHERE rowid = (SELECT min(rowid) FROM sweeps)", "point 9999 is not in 0..1"},
		{"UPDATE sweeps SET run_id = 777 WHERE rowid = (SELECT min(rowid) FROM sweeps)", "names run 777, which is not in runs"},
		{"UPDATE sweep_defs SET grid = '[1'", "grid is not a JSON object"},
		{"UPDATE sweep_defs SET points = 3", "points is 3 but the grid's parameters make 2"},
		{"UPDATE quantiles SET value_s = 'x'", "quantile is not a finite number"},
		{"DROP TABLE quantiles", "(no table quantiles)"},
	};
	for (size_t i = 0; i < sizeof crafted / sizeof crafted[0]; i++) {
		char cp[700], od[700];
		sqlite3 *h = NULL;
		fs_err e = {0};
		snprintf(cp, sizeof cp, "%s/crafted%zu.db", dir, i);
		snprintf(od, sizeof od, "%s/crafted_out%zu", dir, i);
		sqlite3 *src = NULL;
		sqlite3_backup *b;
		CU_ASSERT_EQUAL_FATAL(sqlite3_open(cp, &h), SQLITE_OK);
		CU_ASSERT_EQUAL_FATAL(sqlite3_open(dbp, &src), SQLITE_OK);
		b = sqlite3_backup_init(h, "main", src, "main");
		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		CU_ASSERT_EQUAL(sqlite3_backup_step(b, -1), SQLITE_DONE);
		sqlite3_backup_finish(b);
		sqlite3_close(src);
		CU_ASSERT_EQUAL(sqlite3_exec(h, "PRAGMA ignore_check_constraints = ON", NULL, NULL, NULL), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_exec(h, crafted[i][0], NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
		report_opts co = {.out_dir = od};
		int rc = db_open_readonly(cp, &d, &e);
		if (rc == 0)
			rc = report_write(d, &co, &rs, &e);
		db_close(d);
		d = NULL;
		CU_ASSERT_EQUAL(rc, -1);
		CU_ASSERT_EQUAL(e.status, FS_EXIT_INPUT);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a fleetsim results database"));
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, crafted[i][1]));
		CU_ASSERT_NOT_EQUAL(access(od, F_OK), 0);
		if (!strstr(e.msg, crafted[i][1]))
			fprintf(stderr, "crafted %zu: %s\n", i, e.msg);
	}

	/* A mistyped path: "no such database", and nothing is created. */
	char miss[700];
	fs_err e3 = {0};
	snprintf(miss, sizeof miss, "%s/nosuch.db", dir);
	CU_ASSERT_EQUAL(db_open_readonly(miss, &d, &e3), -1);
	CU_ASSERT_EQUAL(e3.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e3.msg, "no such database"));
	CU_ASSERT_NOT_EQUAL(access(miss, F_OK), 0);
	sweep_grid_free(&g);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("report", NULL, NULL);
	if (!s || !CU_add_test(s, "plot_lines and plot_bars", test_plot_helpers) ||
	    !CU_add_test(s, "sweep report", test_report_sweep))
		return -1;
	return 0;
}
