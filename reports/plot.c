/*
 * plot.c - gnuplot plots of a run.  See plot.h.
 *
 * Each plot writes NAME.dat and NAME.gp first, then pipes "cd DIR; load 'NAME.gp'" to
 * gnuplot, whose stdout/stderr go to a scratch log in DIR so library code prints
 * nothing and errors can quote gnuplot's own message.
 */
#include "reports/plot.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/outfile.h"

#define PNG_SIZE "1000,650"
#define TS_SIZE "1000,800"

void plot_safe_name(const char *name, char *out, size_t cap)
{
	size_t j = 0;

	if (cap < 2)
		return;
	for (const char *p = name ? name : ""; *p && j + 1 < cap; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
	if (j == 0)
		snprintf(out, cap, "unnamed");
	else if (out[0] == '.')
		out[0] = '_';
}

/* The directory plots go into, made if missing and checked writable (util/outfile). */
static int mkdir_p(const char *dir, fs_err *err)
{
	return of_prepare_dir(dir, err);
}

/* Append s to out as one shell word in single quotes. */
static int sh_quote(char *out, size_t cap, const char *s)
{
	size_t j = strlen(out);

	if (j + 1 >= cap)
		return -1;
	out[j++] = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			if (j + 4 >= cap)
				return -1;
			memcpy(out + j, "'\\''", 4);
			j += 4;
		} else {
			if (j + 1 >= cap)
				return -1;
			out[j++] = *s;
		}
	}
	if (j + 2 > cap)
		return -1;
	out[j++] = '\'';
	out[j] = '\0';
	return 0;
}

/* A double-quoted string in a .dat file: gnuplot's data files have no escape for ",
 * so " (and control characters, which would end the row) become '_'. */
static void dat_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++)
		fputc(*s == '"' || (unsigned char)*s < 0x20 || *s == 0x7f ? '_' : *s, f);
	fputc('"', f);
}

static int join(char *out, size_t cap, const char *dir, const char *name, fs_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: plot directory path too long", dir);
	return 0;
}


/* The terminal selection shared by every script: the loop variable `fmt` is "png" or "svg". */
static void gp_terminal(FILE *f, const char *size)
{
	fprintf(f,
		"  if (fmt eq \"svg\") {\n"
		"    set terminal svg size %s dynamic noenhanced font \"sans,11\"\n"
		"  } else {\n"
		"    if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
		"      set terminal pngcairo size %s noenhanced font \"sans,11\"\n"
		"    } else {\n"
		"      set terminal png size %s noenhanced\n"
		"    }\n"
		"  }\n",
		size, size, size);
}

/* First non-blank line of gnuplot's log, for the error message. */
static void log_excerpt(const char *log, char *out, size_t cap)
{
	char line[512];
	FILE *f = fopen(log, "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		char *p = line, *e;
		while (*p == ' ' || *p == '\t' || *p == '^')
			p++;
		e = p + strlen(p);
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
			*--e = '\0';
		if (*p) {
			/* gnuplot prints the offending line first, then "file, line N: message":
			 * keep reading to prefer the line carrying the message. */
			snprintf(out, cap, "%s", p);
			if (strstr(p, "line ") || strstr(p, "rror"))
				break;
		}
	}
	fclose(f);
}

static int check_output(const char *dir, const char *base, const char *ext, fs_err *err)
{
	char path[4096], name[512], head[8] = {0};
	struct stat sb;
	FILE *f;
	size_t got;

	snprintf(name, sizeof name, "%s.%s", base, ext);
	if (join(path, sizeof path, dir, name, err))
		return -1;
	if (stat(path, &sb) != 0 || sb.st_size == 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: gnuplot produced no output", path);
	f = fopen(path, "rb");
	if (!f)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot read: %s", path, strerror(errno));
	got = fread(head, 1, sizeof head, f);
	fclose(f);
	if (strcmp(ext, "png") == 0 && (got < 4 || memcmp(head, "\x89PNG", 4) != 0))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: gnuplot output is not a PNG image", path);
	return 0;
}

/* Run NAME.gp in dir through a pipe to gnuplot and check both outputs. */
static int run_gnuplot(const char *dir, const char *base, fs_err *err)
{
	char log[4096], cmd[8400], msg[512];
	sigset_t pipe_set, old_set, pending;
	int fd, status, was_pending, wrote_ok;
	FILE *p;

	if (join(log, sizeof log, dir, ".fleetsim-gnuplot-XXXXXX", err))
		return -1;
	fd = mkstemp(log);
	if (fd < 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot create a scratch file: %s", dir,
			       strerror(errno));
	close(fd);
	cmd[0] = '\0';
	strcat(cmd, "exec >");
	if (sh_quote(cmd, sizeof cmd, log) ||
	    strlen(cmd) + sizeof " 2>&1; exec gnuplot" >= sizeof cmd) {
		unlink(log);
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: plot directory path too long", dir);
	}
	strcat(cmd, " 2>&1; exec gnuplot");

	/* If gnuplot is missing the shell exits before reading; block SIGPIPE in this
	 * thread so the write fails with EPIPE instead of killing the process. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

	p = popen(cmd, "w");
	if (!p) {
		pthread_sigmask(SIG_SETMASK, &old_set, NULL);
		unlink(log);
		return fs_fail(err, FS_EXIT_RUNTIME, "cannot start gnuplot: %s", strerror(errno));
	}
	fputs("cd ", p);
	esc_gnuplot(p, dir);
	fprintf(p, "\nload '%s.gp'\n", base); /* base is a safe name: no quoting needed */
	wrote_ok = fflush(p) == 0;
	status = pclose(p);

	sigpending(&pending);
	if (!was_pending && sigismember(&pending, SIGPIPE)) {
		struct timespec zero = {0, 0};
		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old_set, NULL);

	log_excerpt(log, msg, sizeof msg);
	unlink(log);
	if (status == -1)
		return fs_fail(err, FS_EXIT_RUNTIME, "cannot run gnuplot: %s", strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return fs_fail(err, FS_EXIT_RUNTIME,
			       "gnuplot not found (install gnuplot, or run without --plots)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s/%s.gp: gnuplot failed (%s %d)%s%s", dir, base,
			       WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			       msg[0] ? ": " : "", msg);
	if (!wrote_ok)
		return fs_fail(err, FS_EXIT_RUNTIME, "cannot send commands to gnuplot");
	if (check_output(dir, base, "png", err) || check_output(dir, base, "svg", err))
		return -1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The CDF points of m sorted values: thinned to PLOT_MAX_POINTS evenly spaced
 * quantiles when longer, so huge runs keep small files and fast plots. */
static void cdf_points(FILE *f, const double *v, size_t m)
{
	/* Start at probability 0 so `with steps` draws the rise at the first value. */
	fprintf(f, "%.9g 0\n", v[0]);
	if (m <= PLOT_MAX_POINTS) {
		for (size_t i = 0; i < m; i++)
			fprintf(f, "%.9g %.9g\n", v[i], (double)(i + 1) / (double)m);
	} else {
		for (size_t k = 1; k <= PLOT_MAX_POINTS; k++) {
			size_t idx = (k * m + PLOT_MAX_POINTS - 1) / PLOT_MAX_POINTS - 1;
			fprintf(f, "%.9g %.9g\n", v[idx], (double)(idx + 1) / (double)m);
		}
	}
}

/* Write ttft_cdf.dat's body to f (the caller's, left open): one index block per
 * series that has values.  Sets kept[s] to the number of values of series s drawn and
 * clears *logx when one of them is not positive.  Returns 0, or -1 with err (a series
 * without its array, or out of memory); the scratch copy is freed here. */
static int cdf_data(FILE *f, int nseries, const char *const *names, const double *const *ttft_s,
		    const size_t *counts, size_t *kept, int *logx, fs_err *err)
{
	double *v = NULL;
	int block = 0, rc = -1;

	fprintf(f, "# fleetsim TTFT empirical CDF; one index block per series with data\n"
		   "# columns: ttft_s cdf (fraction of requests with TTFT <= ttft_s)\n");
	for (int s = 0; s < nseries; s++) {
		size_t m = 0, n = counts[s];
		double *nv;
		if (n > 0 && !ttft_s[s]) {
			fs_fail(err, FS_EXIT_INPUT, "TTFT plot: series %d has %zu values but no array", s, n);
			goto out;
		}
		nv = realloc(v, (n ? n : 1) * sizeof *v);
		if (!nv) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		v = nv;
		for (size_t i = 0; i < n; i++)
			if (isfinite(ttft_s[s][i]) && ttft_s[s][i] >= 0)
				v[m++] = ttft_s[s][i];
		kept[s] = m;
		if (m == 0)
			continue;
		qsort(v, m, sizeof *v, cmp_double);
		if (v[0] <= 0)
			*logx = 0;
		if (block++)
			fputs("\n\n", f);
		fputs("# series ", f);
		esc_gnuplot(f, names[s] ? names[s] : "");
		fprintf(f, " (%zu values)\n", m);
		cdf_points(f, v, m);
	}
	rc = 0;
out:
	free(v);
	return rc;
}

/* Write ttft_cdf.gp to f (the caller's, left open): one step line per series with
 * values, a legend-only entry for the others so every policy shows in the key. */
static void cdf_script(FILE *f, int nseries, const char *const *names, const size_t *kept, int logx)
{
	int block = 0;

	fprintf(f, "# fleetsim: TTFT empirical CDF per policy, from ttft_cdf.dat.\n"
		   "# Redraw after editing: cd to this directory, then `gnuplot ttft_cdf.gp`.\n"
		   "do for [fmt in \"png svg\"] {\n");
	gp_terminal(f, PNG_SIZE);
	fprintf(f, "  set output 'ttft_cdf.'.fmt\n"
		   "  set title 'Time to first token, empirical CDF'\n"
		   "  set xlabel 'TTFT (s)%s'\n"
		   "  set ylabel 'fraction of requests'\n"
		   "  %s\n"
		   "  set yrange [0:1]\n"
		   "  set key bottom right\n"
		   "  set grid\n"
		   "  plot \\\n",
		logx ? ", log scale" : "", logx ? "set logscale x" : "unset logscale x");
	for (int s = 0; s < nseries; s++) {
		if (s)
			fputs(", \\\n", f);
		if (kept[s]) {
			fprintf(f, "    'ttft_cdf.dat' index %d using 1:2 with steps lw 2 title ", block++);
			esc_gnuplot(f, names[s] ? names[s] : "");
		} else {
			char t[300];
			snprintf(t, sizeof t, "%.280s (no data)", names[s] ? names[s] : "");
			fputs("    keyentry title ", f);
			esc_gnuplot(f, t);
		}
	}
	fputs("\n  set output\n}\n", f);
}

int plot_ttft_cdf(const char *dir, int nseries, const char *const *names,
		  const double *const *ttft_s, const size_t *counts, fs_err *err)
{
	char path[4096];
	size_t *kept = NULL;
	FILE *f = NULL;
	int logx = 1, any = 0, rc;

	if (!dir || nseries <= 0 || !names || !ttft_s || !counts)
		return fs_fail(err, FS_EXIT_INPUT, "TTFT plot: no series given");
	if (mkdir_p(dir, err))
		return -1;
	kept = calloc((size_t)nseries, sizeof *kept);
	if (!kept)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");

	if (of_open(dir, "ttft_cdf.dat", path, sizeof path, &f, err) ||
	    cdf_data(f, nseries, names, ttft_s, counts, kept, &logx, err))
		goto fail;
	rc = of_close(f, path, err);
	f = NULL;
	if (rc)
		goto fail;
	for (int s = 0; s < nseries; s++)
		any |= kept[s] > 0;
	if (!any) {
		fs_fail(err, FS_EXIT_INPUT, "TTFT plot: no request has a first token, nothing to plot");
		goto fail;
	}

	if (of_open(dir, "ttft_cdf.gp", path, sizeof path, &f, err))
		goto fail;
	cdf_script(f, nseries, names, kept, logx);
	rc = of_close(f, path, err);
	f = NULL;
	if (rc)
		goto fail;
	free(kept);
	return run_gnuplot(dir, "ttft_cdf", err);
fail:
	if (f)
		fclose(f);
	free(kept);
	return -1;
}

typedef struct ts_ref {
	double t;
	size_t i;
} ts_ref;

static int cmp_ts(const void *a, const void *b)
{
	const ts_ref *x = a, *y = b;
	if (x->t != y->t)
		return (x->t > y->t) - (x->t < y->t);
	return (x->i > y->i) - (x->i < y->i);
}

/* Count the samples of each slot (pool k in slot k, the fleet's pool -1 in slot
 * npools) into cnt (the caller's, zeroed).  Returns 0, or -1 with err when a sample's
 * pool is out of range. */
static int ts_count(const mx_sample *ts, size_t n, int npools, size_t *cnt, fs_err *err)
{
	for (size_t i = 0; i < n; i++) {
		int p = ts[i].pool;
		if (p < -1 || p >= npools)
			return fs_fail(err, FS_EXIT_INPUT,
				       "timeseries plot: sample %zu has pool index %d (%d pools)", i, p, npools);
		cnt[p < 0 ? npools : p]++;
	}
	return 0;
}

/* Write the .dat body to f (the caller's, left open): one index block per slot with
 * samples, in time order, and the block number of slot s into block[s].  refs is the
 * caller's scratch of n entries. */
static void ts_data(FILE *f, const char *policy, const mx_sample *ts, size_t n, int npools,
		    const char *const *pool_names, const size_t *cnt, ts_ref *refs, int *block)
{
	int nblocks = 0;

	fputs("# fleetsim time series, policy ", f);
	esc_gnuplot(f, policy ? policy : "");
	fputs("; one index block per pool\n# columns: t_s running waiting kv_usage\n", f);
	for (int s = 0; s <= npools; s++) {
		size_t m = 0;
		int pool = s == npools ? -1 : s;
		if (!cnt[s])
			continue;
		for (size_t i = 0; i < n; i++)
			if (ts[i].pool == pool)
				refs[m++] = (ts_ref){ts[i].t_s, i};
		/* Samples may arrive pool-interleaved or out of order; lines need time order. */
		qsort(refs, m, sizeof *refs, cmp_ts);
		if (nblocks)
			fputs("\n\n", f);
		block[s] = nblocks++;
		fputs("# pool ", f);
		esc_gnuplot(f, pool < 0 ? "*" : pool_names[pool] ? pool_names[pool] : "");
		fputc('\n', f);
		for (size_t k = 0; k < m; k++) {
			const mx_sample *x = &ts[refs[k].i];
			fprintf(f, "%.9g %d %d %.6g\n", x->t_s, (int)x->running, (int)x->waiting, x->kv_usage);
		}
	}
}

/* One panel's plot command: KV usage (pass 0) or running and waiting requests
 * (pass 1), a line colour per slot so a pool keeps its colour in both panels. */
static void ts_panel(FILE *f, const char *base, int pass, int npools, const char *const *pool_names,
		     const size_t *cnt, const int *block)
{
	int first = 1;

	for (int s = 0; s <= npools; s++) {
		const char *pn = s == npools ? "fleet" : pool_names[s] ? pool_names[s] : "";
		char t[200];
		if (!cnt[s])
			continue;
		if (!first)
			fputs(", \\\n", f);
		first = 0;
		if (pass == 0) {
			fprintf(f, "    '%s.dat' index %d using 1:4 with lines lw 2 lc %d title ", base, block[s],
				block[s] + 1);
			esc_gnuplot(f, pn);
		} else {
			snprintf(t, sizeof t, "%.150s running", pn);
			fprintf(f, "    '%s.dat' index %d using 1:2 with lines lw 2 lc %d title ", base, block[s],
				block[s] + 1);
			esc_gnuplot(f, t);
			snprintf(t, sizeof t, "%.150s waiting", pn);
			fprintf(f, ", \\\n    '%s.dat' index %d using 1:3 with lines lw 2 dt 2 lc %d title ", base,
				block[s], block[s] + 1);
			esc_gnuplot(f, t);
		}
	}
}

/* Write the two-panel .gp script to f (the caller's, left open). */
static void ts_script(FILE *f, const char *base, const char *policy, int npools,
		      const char *const *pool_names, const size_t *cnt, const int *block)
{
	char t[200];

	fprintf(f, "# fleetsim: KV usage and queue depth over time, from %s.dat.\n"
		   "# Redraw after editing: cd to this directory, then `gnuplot %s.gp`.\n"
		   "do for [fmt in \"png svg\"] {\n",
		base, base);
	gp_terminal(f, TS_SIZE);
	fprintf(f, "  set output '%s.'.fmt\n", base);
	fputs("  set multiplot layout 2,1 title ", f);
	snprintf(t, sizeof t, "Policy %.150s", policy ? policy : "");
	esc_gnuplot(f, t);
	/* Fixed margins keep both panels' time axes aligned whatever the legend widths. */
	fputs("\n  set grid\n  set key outside right\n"
	      "  set lmargin at screen 0.09\n  set rmargin at screen 0.78\n"
	      "  set ylabel 'KV cache usage'\n  set yrange [0:1.05]\n  unset xlabel\n  plot \\\n",
	      f);
	ts_panel(f, base, 0, npools, pool_names, cnt, block);
	fputs("\n  set ylabel 'requests'\n  set yrange [0:*]\n  set xlabel 'time (s)'\n"
	      "  plot \\\n",
	      f);
	ts_panel(f, base, 1, npools, pool_names, cnt, block);
	fputs("\n  unset multiplot\n  set output\n}\n", f);
}

int plot_timeseries(const char *dir, const char *policy, const mx_sample *ts, size_t n,
		    int npools, const char *const *pool_names, fs_err *err)
{
	char safe[96], base[128], name[160], path[4096];
	ts_ref *refs = NULL;
	size_t *cnt = NULL;
	int *block = NULL;
	int rc;
	FILE *f = NULL;

	if (!dir || !ts || n == 0)
		return fs_fail(err, FS_EXIT_INPUT, "timeseries plot%s%s: no samples",
			       policy ? " for " : "", policy ? policy : "");
	if (npools < 0 || (npools > 0 && !pool_names))
		return fs_fail(err, FS_EXIT_INPUT, "timeseries plot: pool names missing");
	plot_safe_name(policy, safe, sizeof safe);
	snprintf(base, sizeof base, "timeseries_%s", safe);
	if (mkdir_p(dir, err))
		return -1;

	/* Slot npools holds the fleet-wide samples (pool -1). */
	cnt = calloc((size_t)npools + 1, sizeof *cnt);
	block = calloc((size_t)npools + 1, sizeof *block);
	refs = malloc(n * sizeof *refs);
	if (!cnt || !block || !refs) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	if (ts_count(ts, n, npools, cnt, err))
		goto fail;

	snprintf(name, sizeof name, "%s.dat", base);
	if (of_open(dir, name, path, sizeof path, &f, err))
		goto fail;
	ts_data(f, policy, ts, n, npools, pool_names, cnt, refs, block);
	rc = of_close(f, path, err);
	f = NULL;
	if (rc)
		goto fail;

	snprintf(name, sizeof name, "%s.gp", base);
	if (of_open(dir, name, path, sizeof path, &f, err))
		goto fail;
	ts_script(f, base, policy, npools, pool_names, cnt, block);
	rc = of_close(f, path, err);
	f = NULL;
	if (rc)
		goto fail;
	free(cnt);
	free(block);
	free(refs);
	return run_gnuplot(dir, base, err);
fail:
	if (f)
		fclose(f);
	free(cnt);
	free(block);
	free(refs);
	return -1;
}

/* Added for the sizing report (reports/sizing.c): its own scripts, same runner. */
int plot_run_script(const char *dir, const char *name, fs_err *err)
{
	return run_gnuplot(dir, name, err);
}

int plot_mkdir(const char *dir, fs_err *err)
{
	return mkdir_p(dir, err);
}

int plot_lines(const char *dir, const plot_lines_spec *spec, int nseries,
	       const plot_series *series, fs_err *err)
{
	char base[128], name[160], path[4096];
	int block = 0, any = 0, logx, first = 1;
	FILE *f = NULL;

	if (!dir || !spec || nseries <= 0 || !series)
		return fs_fail(err, FS_EXIT_INPUT, "line plot: no series given");
	plot_safe_name(spec->name ? spec->name : "plot", base, sizeof base);
	logx = spec->logx && !spec->xtics;
	for (int s = 0; s < nseries; s++)
		for (size_t i = 0; i < series[s].n; i++) {
			if (isfinite(series[s].y[i]) && series[s].y[i] >= 0)
				any = 1;
			if (!(series[s].x[i] > 0))
				logx = 0;
		}
	if (!any)
		return fs_fail(err, FS_EXIT_INPUT, "plot %s: no data", base);
	if (mkdir_p(dir, err))
		return -1;
	snprintf(name, sizeof name, "%s.dat", base);
	if (of_open(dir, name, path, sizeof path, &f, err))
		return -1;
	fputs("# fleetsim: one index block per series; columns: x y (blank line: no value)\n", f);
	for (int s = 0; s < nseries; s++) {
		fprintf(f, "%s# ", s ? "\n\n" : "");
		esc_gnuplot(f, series[s].name ? series[s].name : "");
		fputc('\n', f);
		for (size_t i = 0; i < series[s].n; i++) {
			double y = series[s].y[i];
			if (isfinite(y) && y >= 0)
				fprintf(f, "%.10g %.10g\n", series[s].x[i], y);
			else
				fputc('\n', f);
		}
		/* An empty block would shift gnuplot's index numbering: keep a comment line. */
		if (!series[s].n)
			fputs("# (empty)\n", f);
	}
	if (of_close(f, path, err))
		return -1;

	snprintf(name, sizeof name, "%s.gp", base);
	if (of_open(dir, name, path, sizeof path, &f, err))
		return -1;
	fprintf(f, "# fleetsim plot from %s.dat. Redraw after editing: cd here, `gnuplot %s.gp`.\n"
		   "do for [fmt in \"png svg\"] {\n",
		base, base);
	gp_terminal(f, PNG_SIZE);
	fprintf(f, "  set output '%s.'.fmt\n  set grid\n  set key outside right\n", base);
	fputs("  set title ", f);
	esc_gnuplot(f, spec->title ? spec->title : "");
	fputs("\n  set xlabel ", f);
	esc_gnuplot(f, spec->xlabel ? spec->xlabel : "");
	fputs("\n  set ylabel ", f);
	esc_gnuplot(f, spec->ylabel ? spec->ylabel : "");
	fprintf(f, "\n  %s\n  set yrange [0:*]\n", logx ? "set logscale x" : "unset logscale x");
	if (spec->xtics && spec->nxtics > 0) {
		fputs("  set xtics (", f);
		for (int i = 0; i < spec->nxtics; i++) {
			if (i)
				fputs(", ", f);
			esc_gnuplot(f, spec->xtics[i] ? spec->xtics[i] : "");
			fprintf(f, " %d", i);
		}
		fprintf(f, ")\n  set xrange [-0.5:%g]\n", spec->nxtics - 0.5);
	}
	fputs("  plot \\\n", f);
	for (int s = 0; s < nseries; s++) {
		if (!first)
			fputs(", \\\n", f);
		first = 0;
		fprintf(f, "    '%s.dat' index %d using 1:2 with %s lw 2 title ", base, block++,
			spec->steps ? "steps" : "linespoints pt 7 ps 0.8");
		esc_gnuplot(f, series[s].name ? series[s].name : "");
	}
	if (spec->hline > 0) {
		char t[200];
		snprintf(t, sizeof t, "%.120s = %g", spec->hline_label ? spec->hline_label : "SLO", spec->hline);
		fprintf(f, ", \\\n    %.10g with lines dt 2 lw 2 lc rgb 'red' title ", spec->hline);
		esc_gnuplot(f, t);
	}
	fputs("\n  set output\n}\n", f);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}

int plot_bars(const char *dir, const char *name, const char *title, const char *ylabel,
	      int ncat, const char *const *cats, int nseries, const char *const *series,
	      const double *values, fs_err *err)
{
	char base[128], fname[160], path[4096];
	FILE *f = NULL;

	if (!dir || ncat <= 0 || nseries <= 0 || !cats || !series || !values)
		return fs_fail(err, FS_EXIT_INPUT, "bar plot: no data given");
	plot_safe_name(name ? name : "bars", base, sizeof base);
	if (mkdir_p(dir, err))
		return -1;
	snprintf(fname, sizeof fname, "%s.dat", base);
	if (of_open(dir, fname, path, sizeof path, &f, err))
		return -1;
	/* One row per category, one column per series ("-" = no bar). */
	fputs("# fleetsim bars; columns: category, then one value per series\n\"category\"", f);
	for (int s = 0; s < nseries; s++) {
		fputc(' ', f);
		dat_str(f, series[s]);
	}
	fputc('\n', f);
	for (int c = 0; c < ncat; c++) {
		dat_str(f, cats[c]);
		for (int s = 0; s < nseries; s++) {
			double v = values[s * ncat + c];
			if (isfinite(v) && v >= 0)
				fprintf(f, " %.10g", v);
			else
				fputs(" -", f);
		}
		fputc('\n', f);
	}
	if (of_close(f, path, err))
		return -1;
	snprintf(fname, sizeof fname, "%s.gp", base);
	if (of_open(dir, fname, path, sizeof path, &f, err))
		return -1;
	fprintf(f, "# fleetsim bar chart from %s.dat. Redraw after editing: cd here, `gnuplot %s.gp`.\n"
		   "do for [fmt in \"png svg\"] {\n",
		base, base);
	gp_terminal(f, PNG_SIZE);
	fprintf(f, "  set output '%s.'.fmt\n  set grid ytics\n  set key outside right\n"
		   "  set style data histograms\n  set style histogram clustered gap 1\n"
		   "  set style fill solid 0.8 border -1\n  set datafile missing '-'\n"
		   "  set yrange [0:*]\n  set xtics rotate by -30\n",
		base);
	fputs("  set title ", f);
	esc_gnuplot(f, title ? title : "");
	fputs("\n  set ylabel ", f);
	esc_gnuplot(f, ylabel ? ylabel : "");
	fprintf(f, "\n  plot for [i=2:%d] '%s.dat' using i:xtic(1) title columnheader(i)\n"
		   "  set output\n}\n",
		nseries + 1, base);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}

/* ---- the plan report's compact charts -------------------------------------------- */

/* Open NAME.dat (ext "dat") or NAME.gp in dir.  Returns 0 or -1 with err. */
static int open_ext(const char *dir, const char *base, const char *ext, char *path, size_t cap, FILE **f,
		    fs_err *err)
{
	char fname[160];

	snprintf(fname, sizeof fname, "%s.%s", base, ext);
	return of_open(dir, fname, path, cap, f, err);
}

static void chart_head(FILE *f, const plot_chart_spec *spec, const char *base)
{
	fprintf(f, "# fleetsim %s: redraw with `gnuplot %s.gp` in this directory.\n"
		   "do for [fmt in \"png svg\"] {\n",
		spec->origin ? spec->origin : "", base);
	gp_terminal(f, spec->size ? spec->size : PNG_SIZE);
	fprintf(f, "  set output '%s.'.fmt\n  set grid\n", base);
	if (spec->title) {
		fputs("  set title ", f);
		esc_gnuplot(f, spec->title);
		fputc('\n', f);
	}
	if (spec->xlabel) {
		fputs("  set xlabel ", f);
		esc_gnuplot(f, spec->xlabel);
		fputc('\n', f);
	}
	if (spec->ylabel) {
		fputs("  set ylabel ", f);
		esc_gnuplot(f, spec->ylabel);
		fputc('\n', f);
	}
}

/* logscale and key of a line chart. */
static void chart_axes(FILE *f, const plot_chart_spec *spec)
{
	if (spec->logscale)
		fprintf(f, "  set logscale %s\n", spec->logscale);
	if (spec->key)
		fprintf(f, "  set key %s\n", spec->key);
	else
		fputs("  unset key\n", f);
}

static void dat_columns(FILE *f, const plot_chart_spec *spec)
{
	if (spec->columns) {
		fputs("# ", f);
		esc_gnuplot_comment(f, spec->columns);
		fputc('\n', f);
	}
}

int plot_value_bars(const char *dir, const plot_chart_spec *spec, int n, const char *const *labels,
		    const double *values, fs_err *err)
{
	char base[128], path[4096];
	FILE *f = NULL;

	if (!dir || !spec || n < 1 || !labels || !values)
		return fs_fail(err, FS_EXIT_INPUT, "bar chart: no data given");
	plot_safe_name(spec->name ? spec->name : "bars", base, sizeof base);
	if (mkdir_p(dir, err) || open_ext(dir, base, "dat", path, sizeof path, &f, err))
		return -1;
	dat_columns(f, spec);
	for (int i = 0; i < n; i++) {
		dat_str(f, labels[i]);
		fprintf(f, " %.6g\n", values[i]);
	}
	if (of_close(f, path, err) || open_ext(dir, base, "gp", path, sizeof path, &f, err))
		return -1;
	chart_head(f, spec, base);
	fprintf(f,
		"  set style fill solid 0.7 border -1\n"
		"  set boxwidth 0.6\n"
		"  set yrange [0:*]\n"
		"  set xtics rotate by -30\n"
		"  unset key\n"
		"  plot '%s.dat' using 0:2:xtic(1) with boxes lc rgb '#3b6ea8', "
		"'' using 0:2:(sprintf('%%g', $2)) with labels offset 0,0.8\n"
		"  set output\n}\n",
		base);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}

int plot_columns(const char *dir, const plot_chart_spec *spec, int n, const double *x, int ny,
		 const double *const *y, const char *const *col_titles, double ref, const char *ref_title,
		 fs_err *err)
{
	char base[128], path[4096];
	FILE *f = NULL;

	if (!dir || !spec || n < 1 || ny < 1 || !x || !y || !col_titles)
		return fs_fail(err, FS_EXIT_INPUT, "column chart: no data given");
	plot_safe_name(spec->name ? spec->name : "columns", base, sizeof base);
	if (mkdir_p(dir, err) || open_ext(dir, base, "dat", path, sizeof path, &f, err))
		return -1;
	dat_columns(f, spec);
	for (int i = 0; i < n; i++) {
		fprintf(f, "%g", x[i]);
		for (int k = 0; k < ny; k++)
			fprintf(f, " %.6g", y[k][i]);
		fputc('\n', f);
	}
	if (of_close(f, path, err) || open_ext(dir, base, "gp", path, sizeof path, &f, err))
		return -1;
	chart_head(f, spec, base);
	chart_axes(f, spec);
	for (int k = 0; k < ny; k++) {
		if (k)
			fprintf(f, ", '' using 1:%d with linespoints lw 2 title ", k + 2);
		else
			fprintf(f, "  plot '%s.dat' using 1:2 with linespoints lw 2 title ", base);
		esc_gnuplot(f, col_titles[k] ? col_titles[k] : "");
	}
	if (ref > 0) {
		fprintf(f, ", %g with lines dt 2 lc rgb 'red' title ", ref);
		esc_gnuplot(f, ref_title ? ref_title : "");
	}
	fputs("\n  set output\n}\n", f);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}

int plot_series_lines(const char *dir, const plot_chart_spec *spec, int nseries,
		      const plot_series *series, fs_err *err)
{
	char base[128], path[4096];
	FILE *f = NULL;

	if (!dir || !spec || nseries < 1 || !series)
		return fs_fail(err, FS_EXIT_INPUT, "line chart: no series given");
	plot_safe_name(spec->name ? spec->name : "lines", base, sizeof base);
	if (mkdir_p(dir, err) || open_ext(dir, base, "dat", path, sizeof path, &f, err))
		return -1;
	dat_columns(f, spec);
	for (int s = 0; s < nseries; s++) {
		fputs("# ", f);
		esc_gnuplot_comment(f, series[s].name);
		fputc('\n', f);
		/* %.10g: integral values (GPU counts) print as integers */
		for (size_t i = 0; i < series[s].n; i++)
			fprintf(f, "%g %.10g\n", series[s].x[i], series[s].y[i]);
		fputs("\n\n", f);
	}
	if (of_close(f, path, err) || open_ext(dir, base, "gp", path, sizeof path, &f, err))
		return -1;
	chart_head(f, spec, base);
	chart_axes(f, spec);
	fputs("  plot ", f);
	for (int s = 0; s < nseries; s++) {
		fprintf(f, "%s'%s.dat' index %d using 1:2 with linespoints lw 2 title ", s ? ", " : "", base, s);
		esc_gnuplot(f, series[s].name ? series[s].name : "");
	}
	fputs("\n  set output\n}\n", f);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}
