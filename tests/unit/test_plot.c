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
	CU_ASSERT_PTR_NOT_NULL(strstr(gp, "set logscale x"));
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

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("plot", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "TTFT CDF files and data", test_ttft_cdf) ||
	    !CU_add_test(s, "time series files and data", test_timeseries) ||
	    !CU_add_test(s, "safe file names", test_safe_name) ||
	    !CU_add_test(s, "gnuplot failing or missing", test_gnuplot_failures))
		return -1;
	return 0;
}
