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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* ---- styling shared by every chart (plot.h "Paper-ready styling") ------------------ */

/* Okabe & Ito (2008), the colour-blind safe qualitative palette; yellow last, as it is
 * the faintest on white. */
static const char *const palette[8] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
				       "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
/* Solid, dashed, dash-dot, dash-dot-dot, dotted; filled circle, square, triangle,
 * diamond, then open circle, square, triangle.  8, 5 and 7 are coprime: the triples
 * repeat only after 280 series. */
static const int dashes[5] = {1, 2, 4, 5, 3};
static const int points[7] = {7, 5, 9, 13, 6, 4, 8};

/* Reference lines (SLO targets): grey, long dashes, so never mistaken for a series. */
#define REF_STYLE "lw 2 dt (12,6) lc rgb '#666666'"

void plot_series_style(int s, plot_style *st)
{
	if (s < 0)
		s = 0;
	st->colour = palette[s % 8];
	st->dash = dashes[s % 5];
	st->point = points[s % 7];
}

/* The line style of series s: colour and dash, and the point type when with_points. */
static void gp_style(FILE *f, int s, int with_points)
{
	plot_style st;

	plot_series_style(s, &st);
	fprintf(f, " lc rgb '%s' dt %d", st.colour, st.dash);
	if (with_points)
		fprintf(f, " pt %d ps 1.1", st.point);
}

/* Human names and units of scenario keys, matched against the key's last components
 * (list indices skipped), most specific first.  The one table: add keys here. */
static const struct {
	const char *suffix, *label;
} param_labels[] = {
	{"arrival.rate", "arrival rate (req/s)"},
	{"arrival.cv", "arrival burstiness (CV)"},
	{"target_rate", "arrival rate (req/s)"},
	{"load_scale", "load (x planned)"},
	{"duration", "trace duration (s)"},
	{"synthetic.requests", "requests"},
	{"input.median", "input median (tokens)"},
	{"output.median", "output median (tokens)"},
	{"router.threshold", "threshold (tokens)"},
	{"router.thresholds", "threshold (tokens)"},
	{"spill_waiting_per_replica", "spill-over: waiting per replica (requests)"},
	{"spill_kv_usage", "spill-over: KV usage (fraction)"},
	{"default_max_tokens", "default max_tokens (tokens)"},
	{"percentile_window", "estimator window (requests)"},
	{"percentile", "estimator percentile"},
	{"ema_alpha", "EMA weight alpha"},
	{"ema_gamma", "EMA margin gamma (std devs)"},
	{"replicas", "replicas"},
	{"max_num_seqs", "max_num_seqs"},
	{"max_num_batched_tokens", "max_num_batched_tokens (tokens)"},
	{"max_model_len", "max_model_len (tokens)"},
	{"gpu_memory_utilization", "gpu_memory_utilization (fraction)"},
	{"tensor_parallel_size", "tensor_parallel_size (GPUs per replica)"},
	{"block_size", "block_size (tokens)"},
	{"long_prefill_token_threshold", "long_prefill_token_threshold (tokens)"},
	{"price_per_gpu_hour", "price ($ per GPU-hour)"},
	{"slo.ttft_p99", "TTFT p99 target (s)"},
	{"slo.tpot_p99", "TPOT p99 target (s)"},
	{"kv_cache_dtype", "KV cache dtype"},
	{"quantization", "quantization"},
	{"vllm_version", "vLLM version"},
	{"gpu", "GPU"},
	{"seed", "seed"},
};

/* Length of key without its trailing ".N" list indices. */
static size_t key_len(const char *key)
{
	size_t n = strlen(key);

	for (;;) {
		size_t i = n;
		while (i > 0 && key[i - 1] >= '0' && key[i - 1] <= '9')
			i--;
		if (i == n || i == 0 || key[i - 1] != '.')
			return n;
		n = i - 1;
	}
}

const char *plot_param_label(const char *key, char *out, size_t cap)
{
	size_t n, start;

	if (cap < 2)
		return out;
	key = key ? key : "";
	n = key_len(key);
	for (size_t i = 0; i < sizeof param_labels / sizeof param_labels[0]; i++) {
		size_t l = strlen(param_labels[i].suffix);
		if (l <= n && !memcmp(key + n - l, param_labels[i].suffix, l) &&
		    (l == n || key[n - l - 1] == '.')) {
			snprintf(out, cap, "%s", param_labels[i].label);
			return out;
		}
	}
	for (start = n; start > 0 && key[start - 1] != '.'; start--)
		;
	snprintf(out, cap, "%.*s", (int)(n - start), key + start);
	if (!out[0])
		snprintf(out, cap, "%s", key[0] ? key : "value");
	return out;
}

/* What one axis of a chart holds: its range and whether every value is an integer.
 * Reference lines widen the range (ext_range) but say nothing about integers. */
typedef struct extent {
	double lo, hi;
	int n, integral;
	int nd;          /* distinct data values kept in d (up to 11: more is "many") */
	double d[11];
} extent;

static void ext_init(extent *e)
{
	memset(e, 0, sizeof *e);
	e->lo = INFINITY;
	e->hi = -INFINITY;
	e->integral = 1;
}

static void ext_range(extent *e, double v)
{
	if (!isfinite(v))
		return;
	e->lo = fmin(e->lo, v);
	e->hi = fmax(e->hi, v);
	e->n++;
}

static void ext_add(extent *e, double v)
{
	int i;

	if (!isfinite(v))
		return;
	ext_range(e, v);
	if (v != floor(v) || fabs(v) > 1e15)
		e->integral = 0;
	for (i = 0; i < e->nd && i < 11; i++)
		if (e->d[i] == v)
			break;
	if (i == e->nd && e->nd < 11)
		e->d[e->nd++] = v;
}

/* The smallest of 1, 2, 5, 10, 20, 50, ... at least raw (an integer tick step). */
static double int_step(double raw)
{
	double m = 1;

	while (m < 1e15) {
		if (raw <= m)
			return m;
		if (raw <= 2 * m)
			return 2 * m;
		if (raw <= 5 * m)
			return 5 * m;
		m *= 10;
	}
	return m;
}

/* Range and ticks of axis ax ('x' or 'y') from its extent e.  log: a log axis (e.lo
 * must be > 0).  from_zero: a linear range starts at 0 (bars, counts) and headroom is
 * the fraction added above the top (room for value labels).  Explicit ticks at the
 * data values when there are few of them (ticks_at_values), else integer ticks when
 * every value is an integer. */
static void gp_axis(FILE *f, char ax, const extent *e, int log, int from_zero, double headroom,
		    int ticks_at_values)
{
	double lo = e->lo, hi = e->hi;

	if (e->n == 0) {
		fprintf(f, "  unset logscale %c\n  set %crange [%s:*]\n", ax, ax, from_zero ? "0" : "*");
		return;
	}
	if (log) {
		/* A margin of a few percent of the span on each side, in log space. */
		double m = pow(hi / lo, 0.04);
		if (m < 1.05)
			m = 1.05;
		fprintf(f, "  set logscale %c\n  set %crange [%.6g:%.6g]\n", ax, ax, lo / m, hi * m);
	} else {
		double pad = (hi - lo) * 0.04;
		if (from_zero) {
			lo = 0;
			hi = hi > 0 ? hi * (1 + headroom) : 1;
		} else {
			if (pad <= 0)
				pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
			lo -= pad;
			hi += pad;
		}
		fprintf(f, "  unset logscale %c\n", ax);
		if (e->integral && !(ticks_at_values && e->nd <= 10)) {
			/* Whole ticks only, about 8 of them: no 0.5-GPU ticks. */
			double step = int_step((hi - lo) / 8);
			double first = ceil(lo / step) * step;
			if (from_zero)
				hi = ceil(hi / step) * step;
			fprintf(f, "  set %crange [%.10g:%.10g]\n  set %ctics %.10g, %.10g\n  set format %c '%%.0f'\n",
				ax, lo, hi, ax, first, step, ax);
			return;
		}
		fprintf(f, "  set %crange [%.10g:%.10g]\n", ax, lo, hi);
	}
	if (ticks_at_values && e->nd <= 10) {
		double v[10];
		int n = e->nd;
		memcpy(v, e->d, (size_t)n * sizeof *v);
		qsort(v, (size_t)n, sizeof *v, cmp_double);
		fprintf(f, "  set %ctics (", ax);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s\"%.6g\" %.10g", i ? ", " : "", v[i], v[i]);
		fputs(")\n", f);
	}
}

/* A dashed vertical reference line at x = v (an arrow across the graph) with its key
 * entry titled "LABEL = v"; the arrow goes before the plot command, the key entry into
 * it (keyentry_only selects which part to write). */
static void gp_vline(FILE *f, double v, const char *label, int keyentry_only)
{
	char t[200];

	if (!keyentry_only) {
		fprintf(f, "  set arrow 1 from %.10g, graph 0 to %.10g, graph 1 nohead front %s\n", v, v,
			REF_STYLE);
		return;
	}
	snprintf(t, sizeof t, "%.120s = %g", label ? label : "SLO", v);
	fputs(", \\\n    keyentry with lines " REF_STYLE " title ", f);
	esc_gnuplot(f, t);
}

/* A dashed horizontal reference line at y = v titled "LABEL = v", as a plot element. */
static void gp_hline(FILE *f, double v, const char *label)
{
	char t[200];

	snprintf(t, sizeof t, "%.120s = %g", label ? label : "SLO", v);
	fprintf(f, ", \\\n    %.10g with lines " REF_STYLE " title ", v);
	esc_gnuplot(f, t);
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
		    const size_t *counts, size_t *kept, int *logx, extent *ex, fs_err *err)
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
		ext_range(ex, v[0]);
		ext_range(ex, v[m - 1]);
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
 * values, a legend-only entry for the others so every policy shows in the key; with
 * slo > 0 the target as a vertical line and the 0.99 level as a horizontal one. */
static void cdf_script(FILE *f, int nseries, const char *const *names, const size_t *kept, int logx,
		       const extent *ex, double slo)
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
		   "  set yrange [0:1.02]\n"
		   "  set key bottom right\n"
		   "  set grid\n",
		logx ? ", log scale" : "");
	/* The range covers the data and the SLO line, wherever the target lies. */
	gp_axis(f, 'x', ex, logx, 0, 0, 0);
	if (slo > 0)
		gp_vline(f, slo, "TTFT p99 SLO (s)", 0);
	fputs("  plot \\\n", f);
	for (int s = 0; s < nseries; s++) {
		if (s)
			fputs(", \\\n", f);
		if (kept[s]) {
			fprintf(f, "    'ttft_cdf.dat' index %d using 1:2 with steps lw 2", block++);
			gp_style(f, s, 0);
			fputs(" title ", f);
			esc_gnuplot(f, names[s] ? names[s] : "");
		} else {
			char t[300];
			snprintf(t, sizeof t, "%.280s (no data)", names[s] ? names[s] : "");
			fputs("    keyentry title ", f);
			esc_gnuplot(f, t);
		}
	}
	if (slo > 0) {
		gp_hline(f, 0.99, "p99");
		gp_vline(f, slo, "TTFT p99 SLO (s)", 1);
	}
	fputs("\n  set output\n}\n", f);
}

int plot_ttft_cdf(const char *dir, int nseries, const char *const *names,
		  const double *const *ttft_s, const size_t *counts, fs_err *err)
{
	return plot_ttft_cdf_slo(dir, nseries, names, ttft_s, counts, 0, err);
}

int plot_ttft_cdf_slo(const char *dir, int nseries, const char *const *names,
		      const double *const *ttft_s, const size_t *counts, double slo, fs_err *err)
{
	char path[4096];
	size_t *kept = NULL;
	extent ex;
	FILE *f = NULL;
	int logx = 1, any = 0, rc;

	if (!dir || nseries <= 0 || !names || !ttft_s || !counts)
		return fs_fail(err, FS_EXIT_INPUT, "TTFT plot: no series given");
	if (!isfinite(slo) || slo < 0)
		slo = 0;
	if (mkdir_p(dir, err))
		return -1;
	kept = calloc((size_t)nseries, sizeof *kept);
	if (!kept)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	ext_init(&ex);
	if (slo > 0)
		ext_range(&ex, slo);

	if (of_open(dir, "ttft_cdf.dat", path, sizeof path, &f, err) ||
	    cdf_data(f, nseries, names, ttft_s, counts, kept, &logx, &ex, err))
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
	cdf_script(f, nseries, names, kept, logx, &ex, slo);
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
			fprintf(f, "    '%s.dat' index %d using 1:4 with lines lw 2 lc rgb '%s' title ", base, block[s],
				palette[block[s] % 8]);
			esc_gnuplot(f, pn);
		} else {
			snprintf(t, sizeof t, "%.150s running", pn);
			fprintf(f, "    '%s.dat' index %d using 1:2 with lines lw 2 lc rgb '%s' title ", base, block[s],
				palette[block[s] % 8]);
			esc_gnuplot(f, t);
			snprintf(t, sizeof t, "%.150s waiting", pn);
			fprintf(f, ", \\\n    '%s.dat' index %d using 1:3 with lines lw 2 dt 2 lc rgb '%s' title ", base,
				block[s], palette[block[s] % 8]);
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
	int any = 0, logx, logy, cat;
	extent ex, ey;
	FILE *f = NULL;

	if (!dir || !spec || nseries <= 0 || !series)
		return fs_fail(err, FS_EXIT_INPUT, "line plot: no series given");
	plot_safe_name(spec->name ? spec->name : "plot", base, sizeof base);
	cat = spec->xtics && spec->nxtics > 0;
	ext_init(&ex);
	ext_init(&ey);
	/* The axes span what is drawn: points with a value, and the reference lines. */
	for (int s = 0; s < nseries; s++)
		for (size_t i = 0; i < series[s].n; i++)
			if (isfinite(series[s].y[i]) && series[s].y[i] >= 0) {
				any = 1;
				ext_add(&ex, series[s].x[i]);
				ext_add(&ey, series[s].y[i]);
			}
	if (!any)
		return fs_fail(err, FS_EXIT_INPUT, "plot %s: no data", base);
	if (spec->hline > 0)
		ext_range(&ey, spec->hline);
	if (spec->vline > 0 && !cat)
		ext_range(&ex, spec->vline);
	logx = spec->logx && !cat && ex.lo > 0 && ex.hi / ex.lo > 10;
	logy = !spec->steps && spec->logy >= 0 && ey.lo > 0 && ey.hi / ey.lo > 100;
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
	fputc('\n', f);
	if (cat) {
		fputs("  unset logscale x\n  set xtics (", f);
		for (int i = 0; i < spec->nxtics; i++) {
			if (i)
				fputs(", ", f);
			esc_gnuplot(f, spec->xtics[i] ? spec->xtics[i] : "");
			fprintf(f, " %d", i);
		}
		fprintf(f, ")\n  set xrange [-0.5:%g]\n", spec->nxtics - 0.5);
	} else {
		gp_axis(f, 'x', &ex, logx, 0, 0, !spec->steps);
	}
	if (spec->steps)
		fputs("  unset logscale y\n  set yrange [0:1.02]\n", f); /* a CDF: probabilities */
	else
		gp_axis(f, 'y', &ey, logy, !logy, 0.05, 0);
	if (spec->vline > 0 && !cat)
		gp_vline(f, spec->vline, spec->vline_label, 0);
	fputs("  plot \\\n", f);
	for (int s = 0; s < nseries; s++) {
		if (s)
			fputs(", \\\n", f);
		fprintf(f, "    '%s.dat' index %d using 1:2 with %s lw 2", base, s,
			spec->steps ? "steps" : series[s].flat ? "lines" : "linespoints");
		gp_style(f, s, !spec->steps && !series[s].flat);
		fputs(" title ", f);
		esc_gnuplot(f, series[s].name ? series[s].name : "");
	}
	if (spec->hline > 0)
		gp_hline(f, spec->hline, spec->hline_label);
	if (spec->vline > 0 && !cat)
		gp_vline(f, spec->vline, spec->vline_label, 1);
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
	extent ey;
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
		   "  set xtics rotate by -30\n",
		base);
	ext_init(&ey);
	for (int i = 0; i < ncat * nseries; i++)
		if (isfinite(values[i]) && values[i] >= 0)
			ext_add(&ey, values[i]);
	gp_axis(f, 'y', &ey, 0, 1, 0.08, 0);
	fputs("  set title ", f);
	esc_gnuplot(f, title ? title : "");
	fputs("\n  set ylabel ", f);
	esc_gnuplot(f, ylabel ? ylabel : "");
	/* One clause per series, so each bar colour is its series' palette colour. */
	fputs("\n  plot", f);
	for (int s = 0; s < nseries; s++) {
		plot_style st;
		plot_series_style(s, &st);
		if (s)
			fprintf(f, ", '' using %d lc rgb '%s' title columnheader(%d)", s + 2, st.colour, s + 2);
		else
			fprintf(f, " '%s.dat' using 2:xtic(1) lc rgb '%s' title columnheader(2)", base, st.colour);
	}
	fputs("\n  set output\n}\n", f);
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

/* The chart's caller asked for a log y axis ("y", "xy", "y 2" ...). */
static int log_y(const plot_chart_spec *spec)
{
	return spec->logscale && strchr(spec->logscale, 'y');
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
	extent ey;
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
	ext_init(&ey);
	for (int i = 0; i < n; i++)
		if (isfinite(values[i]) && values[i] >= 0)
			ext_add(&ey, values[i]);
	/* 15 % headroom: the value printed above the tallest bar stays inside the frame. */
	gp_axis(f, 'y', &ey, 0, 1, 0.15, 0);
	fprintf(f,
		"  set style fill solid 0.7 border -1\n"
		"  set boxwidth 0.6\n"
		"  set xrange [-0.6:%g]\n"
		"  set xtics rotate by -30\n"
		"  unset key\n"
		"  plot '%s.dat' using 0:2:xtic(1) with boxes lc rgb '%s', "
		"'' using 0:2:(sprintf('%%g', $2)) with labels offset 0,0.8\n"
		"  set output\n}\n",
		n - 0.4, base, palette[0]);
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
	if (!log_y(spec)) {
		extent ey;
		ext_init(&ey);
		for (int k = 0; k < ny; k++)
			for (int i = 0; i < n; i++)
				if (isfinite(y[k][i]) && y[k][i] >= 0)
					ext_add(&ey, y[k][i]);
		if (ref > 0)
			ext_range(&ey, ref);
		gp_axis(f, 'y', &ey, 0, 1, 0.08, 0);
	}
	for (int k = 0; k < ny; k++) {
		if (k)
			fprintf(f, ", '' using 1:%d with linespoints lw 2", k + 2);
		else
			fprintf(f, "  plot '%s.dat' using 1:2 with linespoints lw 2", base);
		gp_style(f, k, 1);
		fputs(" title ", f);
		esc_gnuplot(f, col_titles[k] ? col_titles[k] : "");
	}
	if (ref > 0) {
		fprintf(f, ", %g with lines " REF_STYLE " title ", ref);
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
	if (!log_y(spec)) {
		extent ey;
		ext_init(&ey);
		for (int s = 0; s < nseries; s++)
			for (size_t i = 0; i < series[s].n; i++)
				if (isfinite(series[s].y[i]) && series[s].y[i] >= 0)
					ext_add(&ey, series[s].y[i]);
		gp_axis(f, 'y', &ey, 0, 1, 0.08, 0);
	}
	fputs("  plot ", f);
	for (int s = 0; s < nseries; s++) {
		fprintf(f, "%s'%s.dat' index %d using 1:2 with linespoints lw 2", s ? ", " : "", base, s);
		gp_style(f, s, 1);
		fputs(" title ", f);
		esc_gnuplot(f, series[s].name ? series[s].name : "");
	}
	fputs("\n  set output\n}\n", f);
	if (of_close(f, path, err))
		return -1;
	return run_gnuplot(dir, base, err);
}
