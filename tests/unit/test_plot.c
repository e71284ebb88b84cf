/* CUnit suite for reports/plot: gnuplot output files, their data, and failures. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/plot.h"
#include "tutil.h"

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];
	char *buf = NULL;
	long n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

static void check_outputs(const char *dir, const char *base)
{
	char name[256];
	size_t len = 0;
	char *b;

	snprintf(name, sizeof name, "%s.png", base);
	b = slurp(dir, name, &len);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT(b && len > 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0);
	free(b);
	snprintf(name, sizeof name, "%s.svg", base);
	b = slurp(dir, name, &len);
	CU_ASSERT_PTR_NOT_NULL(b);
	CU_ASSERT(b && (strncmp(b, "<?xml", 5) == 0 || strstr(b, "<svg")));
	CU_ASSERT(b && strstr(b, "</svg>"));
	free(b);
	snprintf(name, sizeof name, "%s.gp", base);
	b = slurp(dir, name, NULL);
	CU_ASSERT_PTR_NOT_NULL(b);
	snprintf(name, sizeof name, "'%s.dat'", base);
	CU_ASSERT(b && strstr(b, name)); /* the script reads the data file next to it */
	free(b);
}

/* Data lines (not comments, not blank) in a .dat file. */
static int data_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');
		if (*p != '#' && *p != '\n')
			n++;
		p = e ? e + 1 : NULL;
	}
	return n;
}

static void test_ttft_cdf(void)
{
	char dir[512];
	enum { NBIG = 5000 };
	double *big = malloc(NBIG * sizeof *big);
	double small[3] = {0.4, -1, 0.2};
	double none[2] = {-1, -1};
	const char *names[] = {"single", "dual", "it's empty"};
	const double *vals[] = {big, small, none};
	size_t counts[] = {NBIG, 3, 2};
	fs_err err = {0};
	char *dat, *gp;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	for (int i = 0; i < NBIG; i++)
		big[i] = 0.1 + 0.001 * (NBIG - 1 - i); /* reversed: plot must sort */
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "plots/nested"), 0);
	CU_ASSERT_EQUAL(plot_ttft_cdf(dir, 3, names, vals, counts, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "\n  %s\n", err.msg);
	check_outputs(dir, "ttft_cdf");

	dat = slurp(dir, "ttft_cdf.dat", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dat);
	/* "dual": 0.2 and 0.4 kept (-1 skipped): start (0.2, 0), then 1/2 and 2/2. */
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "# series 'dual' (2 values)\n0.2 0\n0.2 0.5\n0.4 1\n"));
	/* "single": 5000 values thinned to 2000 points + the start point = 2001 lines;
	 * the last is the maximum, 0.1 + 0.001 x 4999 = 5.099, at probability 1. */
	CU_ASSERT_EQUAL(data_lines(dat), 2001 + 3);
	/* first thinned point: k = 1, index ceil(1 x 5000 / 2000) - 1 = 2 -> (0.102, 3/5000) */
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "\n0.1 0\n0.102 0.0006\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "\n5.099 1\n"));
	CU_ASSERT_PTR_NULL(strstr(dat, "empty")); /* no data block for the empty series */
	free(dat);
	gp = slurp(dir, "ttft_cdf.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "\n  set logscale x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "keyentry title 'it''s empty (no data)'"));
	free(gp);

	/* Nothing to plot is an error, not an empty picture. */
	CU_ASSERT_EQUAL(plot_ttft_cdf(dir, 1, &names[2], &vals[2], &counts[2], &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nothing to plot"));
	free(big);
}

static void test_timeseries(void)
{
	char dir[512];
	const char *pools[] = {"short", "long"};
	/* Out of time order and interleaved: the plot sorts each pool by time. */
	mx_sample ts[] = {
		{1.0, 0, 4, 1, 0.50, 0, 0}, {0.0, 0, 1, 0, 0.10, 0, 0}, {0.0, 1, 2, 0, 0.20, 0, 0},
		{1.0, 1, 3, 2, 0.90, 0, 0}, {0.0, -1, 3, 0, 0.15, 0, 0}, {1.0, -1, 7, 3, 0.70, 0, 0},
	};
	fs_err err = {0};
	char *dat;

	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "ts"), 0);
	CU_ASSERT_EQUAL(plot_timeseries(dir, "dual/../x y", ts, 6, 2, pools, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "\n  %s\n", err.msg);
	check_outputs(dir, "timeseries_dual_.._x_y");
	dat = slurp(dir, "timeseries_dual_.._x_y.dat", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dat);
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "# pool 'short'\n0 1 0 0.1\n1 4 1 0.5\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "# pool 'long'\n0 2 0 0.2\n1 3 2 0.9\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(dat, "# pool '*'\n0 3 0 0.15\n1 7 3 0.7\n"));
	free(dat);

	ts[2].pool = 2;
	CU_ASSERT_EQUAL(plot_timeseries(dir, "p", ts, 6, 2, pools, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "pool index 2"));
	CU_ASSERT_EQUAL(plot_timeseries(dir, "p", ts, 0, 2, pools, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no samples"));
}

static void test_safe_name(void)
{
	char out[16];
	plot_safe_name("a b/c", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "a_b_c");
	plot_safe_name(".hidden", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "_hidden");
	plot_safe_name("", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "unnamed");
	plot_safe_name("abcdefghijklmnopqrstuvwxyz", out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "abcdefghijklmno");
}

static void test_gnuplot_failures(void)
{
	char dir[512], empty[600], *old = NULL;
	const char *names[] = {"single"};
	double v[] = {0.5, 1.0};
	const double *vals[] = {v};
	size_t counts[] = {2};
	fs_err err = {0};

	/* gnuplot fails: the PNG output path is taken by a directory. */
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "fail"), 0);
	CU_ASSERT_EQUAL(mkdir(dir, 0755), 0);
	snprintf(empty, sizeof empty, "%s/ttft_cdf.png", dir);
	CU_ASSERT_EQUAL(mkdir(empty, 0755), 0);
	CU_ASSERT_EQUAL(plot_ttft_cdf(dir, 1, names, vals, counts, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gnuplot failed"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot open file"));

	/* gnuplot missing: PATH holds only an empty directory. */
	CU_ASSERT_EQUAL_FATAL(tu_path(empty, sizeof empty, "nobin"), 0);
	CU_ASSERT_EQUAL(mkdir(empty, 0755), 0);
	if (getenv("PATH"))
		old = strdup(getenv("PATH"));
	setenv("PATH", empty, 1);
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "nognuplot"), 0);
	CU_ASSERT_EQUAL(plot_ttft_cdf(dir, 1, names, vals, counts, &err), -1);
	if (old) {
		setenv("PATH", old, 1);
		free(old);
	}
	CU_ASSERT_EQUAL(err.status, FS_EXIT_RUNTIME);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gnuplot not found"));
}

/* Count the distinct (colour, dash, point) triples of the plot clauses in a .gp, and
 * the clauses.  A clause reads "... lc rgb '#RRGGBB' dt D pt P ...". */
static int style_triples(const char *gp, int *clauses)
{
	char seen[64][40];
	int n = 0;

	*clauses = 0;
	for (const char *p = gp; (p = strstr(p, " lc rgb '#")); p++) {
		char col[8] = {0}, t[40];
		int dt = 0, pt = 0, dup = 0;
		if (sscanf(p, " lc rgb '#%6[0-9A-Fa-f]' dt %d pt %d", col, &dt, &pt) != 3)
			continue;
		(*clauses)++;
		snprintf(t, sizeof t, "%s/%d/%d", col, dt, pt);
		for (int i = 0; i < n; i++)
			dup |= !strcmp(seen[i], t);
		if (!dup && n < 64)
			snprintf(seen[n++], sizeof seen[0], "%s", t);
	}
	return n;
}

/* Ten series: ten different (colour, dash, point) triples, none repeated. */
static void test_styles(void)
{
	char dir[512], name[64];
	enum { NS = 10 };
	double x[3] = {1, 2, 3}, y[NS][3];
	plot_series ser[NS];
	char names[NS][16];
	plot_lines_spec sp = {.name = "styles", .title = "ten", .xlabel = "x", .ylabel = "y"};
	plot_style a, b;
	fs_err err = {0};
	char *gp;
	int clauses = 0;

	for (int s = 0; s < NS; s++) {
		for (int i = 0; i < 3; i++)
			y[s][i] = 1 + s + i;
		snprintf(names[s], sizeof names[s], "s%d", s);
		ser[s] = (plot_series){names[s], x, y[s], 3, 0};
	}
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "styles"), 0);
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, NS, ser, &err), 0);
	gp = slurp(dir, "styles.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_EQUAL(style_triples(gp, &clauses), NS);
	CU_ASSERT_EQUAL(clauses, NS);
	/* Okabe-Ito colours only (the first is its blue). */
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "lc rgb '#0072B2' dt 1 pt 7"));
	free(gp);
	snprintf(name, sizeof name, "styles");
	check_outputs(dir, name);
	/* The rule holds far beyond 10: the first 280 triples are all different. */
	for (int i = 0; i < 280; i++)
		for (int j = i + 1; j < 280; j++) {
			plot_series_style(i, &a);
			plot_series_style(j, &b);
			if (!strcmp(a.colour, b.colour) && a.dash == b.dash && a.point == b.point)
				CU_FAIL("two series share colour, dash and point type");
		}
}

/* y spanning 3 decades is drawn on a log axis (so a 1 s SLO stays visible next to
 * 500 s); 1.5 decades, or a zero, keep it linear. */
static void test_log_y(void)
{
	char dir[512];
	double x[3] = {1, 2, 3}, wide[3] = {0.5, 20, 500}, narrow[3] = {1, 10, 30}, zero[3] = {0, 5, 500};
	plot_series s = {"p", x, wide, 3, 0};
	plot_lines_spec sp = {.name = "logy", .hline = 1, .hline_label = "SLO"};
	fs_err err = {0};
	char *gp;

	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "logy"), 0);
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "logy.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "\n  set logscale y"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'SLO = 1'"));
	free(gp);
	s.y = narrow;
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "logy.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NULL(strstr(gp, "\n  set logscale y"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "unset logscale y"));
	free(gp);
	s.y = zero;
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "logy.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NULL(strstr(gp, "\n  set logscale y"));
	free(gp);
	/* Shares ask for a linear axis whatever the span. */
	s.y = wide;
	sp.logy = -1;
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "logy.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NULL(strstr(gp, "\n  set logscale y"));
	free(gp);
}

/* x from 1024 to 16384: a log axis fitted to the data, ticked at the values (not
 * 1,000 to 100,000); x from 4 to 16 (less than a decade): linear. */
static void test_x_range(void)
{
	char dir[512];
	double x[5] = {1024, 2048, 4096, 8192, 16384}, y[5] = {1, 2, 3, 4, 5};
	double xs[3] = {4, 8, 16};
	plot_series s = {"p", x, y, 5, 0};
	plot_lines_spec sp = {.name = "xr", .logx = 1};
	fs_err err = {0};
	double lo = 0, hi = 0;
	char *gp, *p;

	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "xrange"), 0);
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "xr.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "\n  set logscale x"));
	p = strstr(gp, "set xrange [");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(sscanf(p, "set xrange [%lf:%lf]", &lo, &hi), 2);
	CU_ASSERT(lo > 900 && lo < 1024 && hi > 16384 && hi < 20000);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set xtics (\"1024\" 1024, \"2048\" 2048, \"4096\" 4096, \"8192\" 8192, "
					  "\"16384\" 16384)"));
	/* y holds integers: whole ticks only. */
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set format y '%.0f'"));
	free(gp);
	s.x = xs;
	s.n = 3;
	CU_ASSERT_EQUAL(plot_lines(dir, &sp, 1, &s, &err), 0);
	gp = slurp(dir, "xr.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "unset logscale x"));
	free(gp);
}

/* GPU counts: integer ticks (no 0.5 GPU), headroom above the tallest bar for its label. */
static void test_bars_integer(void)
{
	char dir[512];
	const char *labels[3] = {"a", "b", "c"};
	double gpus[3] = {1, 2, 3}, step = 0, first = -1, top = 0;
	plot_chart_spec spec = {.name = "gpus", .origin = "test", .size = "600,400", .ylabel = "GPUs"};
	fs_err err = {0};
	char *gp, *p;

	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "bars"), 0);
	CU_ASSERT_EQUAL(plot_value_bars(dir, &spec, 3, labels, gpus, &err), 0);
	gp = slurp(dir, "gpus.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	p = strstr(gp, "set ytics ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(sscanf(p, "set ytics %lf, %lf", &first, &step), 2);
	CU_ASSERT(step >= 1 && step == (double)(long)step && first == 0);
	p = strstr(gp, "set yrange [0:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(sscanf(p, "set yrange [0:%lf]", &top), 1);
	CU_ASSERT(top >= 3 * 1.15);
	free(gp);
	check_outputs(dir, "gpus");
}

/* The axis label table, and the fallback to the key's last component. */
static void test_param_label(void)
{
	char b[128];

	CU_ASSERT_STRING_EQUAL(plot_param_label("workload.synthetic.arrival.rate", b, sizeof b),
			       "arrival rate (req/s)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.1.router.threshold", b, sizeof b), "threshold (tokens)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.1.router.thresholds.0", b, sizeof b),
			       "threshold (tokens)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.0.pools.0.replicas", b, sizeof b), "replicas");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.0.pools.1.max_num_seqs", b, sizeof b), "max_num_seqs");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.0.pools.1.max_num_batched_tokens", b, sizeof b),
			       "max_num_batched_tokens (tokens)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("policies.0.pools.0.long_prefill_token_threshold", b, sizeof b),
			       "long_prefill_token_threshold (tokens)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("workload.target_rate", b, sizeof b), "arrival rate (req/s)");
	CU_ASSERT_STRING_EQUAL(plot_param_label("workload.synthetic.weird_knob", b, sizeof b), "weird_knob");
	CU_ASSERT_STRING_EQUAL(plot_param_label("solo", b, sizeof b), "solo");
	CU_ASSERT_STRING_EQUAL(plot_param_label("", b, sizeof b), "value");
}

/* The SLO on a CDF: a vertical line at the TTFT p99 target and a horizontal one at 0.99. */
static void test_cdf_slo(void)
{
	char dir[512];
	const char *names[] = {"single"};
	double v[] = {0.1, 0.2, 0.3};
	const double *vals[] = {v};
	size_t counts[] = {3};
	fs_err err = {0};
	char *gp;

	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "cdfslo"), 0);
	CU_ASSERT_EQUAL(plot_ttft_cdf_slo(dir, 1, names, vals, counts, 2.0, &err), 0);
	gp = slurp(dir, "ttft_cdf.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set arrow 1 from 2, graph 0 to 2, graph 1 nohead"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "title 'TTFT p99 SLO (s) = 2'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "0.99 with lines"));
	/* The target lies beyond the data: the x range reaches it. */
	CU_ASSERT_PTR_NULL(strstr(gp, "set xrange [*"));
	free(gp);
	check_outputs(dir, "ttft_cdf");
	/* Without an SLO: no marks. */
	CU_ASSERT_EQUAL(plot_ttft_cdf(dir, 1, names, vals, counts, &err), 0);
	gp = slurp(dir, "ttft_cdf.gp", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	CU_ASSERT_PTR_NULL(strstr(gp, "set arrow"));
	free(gp);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("plot", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "TTFT CDF files and data", test_ttft_cdf) ||
	    !CU_add_test(s, "time series files and data", test_timeseries) ||
	    !CU_add_test(s, "safe file names", test_safe_name) ||
	    !CU_add_test(s, "gnuplot failing or missing", test_gnuplot_failures) ||
	    !CU_add_test(s, "10 series, 10 style triples", test_styles) ||
	    !CU_add_test(s, "log y beyond 2 decades", test_log_y) ||
	    !CU_add_test(s, "x range fitted, log only past a decade", test_x_range) ||
	    !CU_add_test(s, "integer ticks and bar headroom", test_bars_integer) ||
	    !CU_add_test(s, "axis labels from the table", test_param_label) ||
	    !CU_add_test(s, "CDF with the SLO marked", test_cdf_slo))
		return -1;
	return 0;
}
