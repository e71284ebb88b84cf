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
	plot_series s = {"a", x, y, 3, 0};
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
	plot_series e = {"e", x, none, 3, 0};
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

/* Occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static char *slurp(const char *dir, const char *name)
{
	char p[1280];
	char *b = NULL;
	long n;
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (!(f = fopen(p, "rb")))
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n >= 0 && (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n)
		b[n] = '\0';
	else {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* A single-pool policy against the dual-only router threshold: one flat line per
 * arrival rate (not one line per threshold value), and against the rate one line, not
 * three identical ones.  Axis labels come from the table; the CDFs show the best, worst
 * and baseline runs with the SLO marked. */
static void test_report_policy_axes(void)
{
	char dir[512], dbp[600], out[600], out2[600];
	sweep_grid g = {.npoints = 1};
	sweep_stats st;
	report_stats rs;
	fs_err err = {0};
	db *d = NULL;
	char *gp;

	CU_ASSERT_EQUAL_FATAL(tu_mkdir("report_axes", dir, sizeof dir), 0);
	snprintf(dbp, sizeof dbp, "%s/r.db", dir);
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(out2, sizeof out2, "%s/out2", dir);
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "workload.synthetic.arrival.rate=4,8", &err), 0);
	CU_ASSERT_EQUAL_FATAL(sweep_grid_add(&g, "policies.1.router.threshold=1024,2048,4096", &err), 0);
	sweep_cfg c = {.scenario_path = FS_SOURCE_DIR "/tests/data/scenarios/sweep_small.yaml", .grid = &g,
		       .seed = -1, .jobs = 2, .db_path = dbp};
	CU_ASSERT_EQUAL_FATAL(sweep_run(&c, &st, &err), 0);
	CU_ASSERT_EQUAL_FATAL(db_open_readonly(dbp, &d, &err), 0);
	report_opts o = {.sweep_id = st.sweep_id, .out_dir = out};
	CU_ASSERT_EQUAL_FATAL(report_write(d, &o, &rs, &err), 0);
	CU_ASSERT_EQUAL(rs.nruns, 12);

	gp = slurp(out, "ttft_p99_vs_workload.synthetic.arrival.rate.gp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_EQUAL(count_of(gp, "title 'single"), 1);
	CU_ASSERT_EQUAL(count_of(gp, "title 'dual threshold="), 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xlabel 'arrival rate (req/s)'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'SLO = 1'"));
	free(gp);

	gp = slurp(out, "ttft_p99_vs_policies.1.router.threshold.gp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xlabel 'threshold (tokens)'"));
	/* single: one flat line (no point marks) per rate; dual: a line with points per rate. */
	CU_ASSERT_EQUAL(count_of(gp, "title 'single"), 2);
	CU_ASSERT_EQUAL(count_of(gp, "(does not use threshold)'"), 2);
	CU_ASSERT_EQUAL(count_of(gp, "with lines lw 2 lc rgb"), 2);
	CU_ASSERT_EQUAL(count_of(gp, "with linespoints"), 2);
	/* 1024 .. 4096 is less than a decade: linear, ticked at the values. */
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xtics (\"1024\" 1024, \"2048\" 2048, \"4096\" 4096)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "unset logscale x"));
	free(gp);

	gp = slurp(out, "ttft_cdf.gp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'best"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "worst"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "baseline: single rate=4'"));
	CU_ASSERT(count_of(gp, " with steps ") >= 2 && count_of(gp, " with steps ") <= 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set arrow 1 from 1, graph 0 to 1, graph 1 nohead"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'p99 = 0.99'"));
	free(gp);
	gp = slurp(out, "index.html");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "CDFs show three runs"));
	free(gp);

	/* A marked baseline: the last point's dual run (run ids follow completion order:
	 * look it up); one that is not in the sweep is an input error. */
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	int64_t last = 0;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open_v2(dbp, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_prepare_v2(h, "SELECT run_id FROM sweeps WHERE point = 5 AND policy = 'dual'", -1, &q,
					   NULL),
			SQLITE_OK);
	if (q && sqlite3_step(q) == SQLITE_ROW)
		last = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(h);
	CU_ASSERT(last > 0);
	report_opts ob = {.sweep_id = st.sweep_id, .out_dir = out2, .baseline_run = last};
	CU_ASSERT_EQUAL(report_write(d, &ob, &rs, &err), 0);
	gp = slurp(out2, "ttft_cdf.gp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "baseline: dual rate=8 threshold=4096'"));
	free(gp);
	fs_err e2 = {0};
	ob.baseline_run = 99999;
	CU_ASSERT_EQUAL(report_write(d, &ob, &rs, &e2), -1);
	CU_ASSERT_EQUAL(e2.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(e2.msg, "baseline run 99999"));
	db_close(d);
	sweep_grid_free(&g);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("report", NULL, NULL);
	if (!s || !CU_add_test(s, "plot_lines and plot_bars", test_plot_helpers) ||
	    !CU_add_test(s, "sweep report", test_report_sweep) ||
	    !CU_add_test(s, "policies and the parameters they use; CDF picks", test_report_policy_axes))
		return -1;
	return 0;
}
