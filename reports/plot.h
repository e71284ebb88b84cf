/*
 * plot.h - plots of a run drawn by gnuplot (SPEC section 7: commands piped to gnuplot).
 *
 * Each plot NAME leaves four files in the output directory: NAME.dat (the data, one
 * gnuplot index block per series), NAME.gp (the script; it reads NAME.dat and writes
 * NAME.png and NAME.svg, so `cd DIR && gnuplot NAME.gp` redraws after restyling),
 * NAME.png (pngcairo, or gnuplot's libgd png terminal where cairo is missing) and
 * NAME.svg.  The script is what we run: we pipe `cd DIR` and `load 'NAME.gp'` to
 * gnuplot, so the saved script and the picture never disagree.
 *
 * Failures (gnuplot missing, gnuplot reporting an error, an output missing or empty)
 * are FS_EXIT_RUNTIME errors that quote gnuplot's first error line; nothing is printed.
 *
 * Owns: nothing after a call returns (gnuplot pipe, data and script files are closed).
 */
#ifndef FS_PLOT_H
#define FS_PLOT_H

#include <stddef.h>

#include "sim/metrics.h"
#include "util/err.h"

/* Most points written per series: longer ECDFs are thinned to evenly spaced
 * quantiles (the curve is exact to 1/PLOT_MAX_POINTS in probability). */
#define PLOT_MAX_POINTS 2000

/* Paper-ready styling, shared by every chart here:
 * - series s gets colour s mod 8 of the Okabe-Ito palette (colour-blind safe), dash
 *   type s mod 5 and point type s mod 7; 8, 5 and 7 are coprime, so no two of the first
 *   280 series of a plot share all three (plot_series_style);
 * - reference lines (SLOs) are grey and long-dashed, never a series colour;
 * - a y axis is logarithmic when every drawn value (and the reference line) is > 0 and
 *   they span more than 2 decades (zeros keep it linear: they have no place on a log
 *   axis); an x axis asked for as log is log only when its data span more than 1
 *   decade;
 * - axis ranges are the data's (reference lines included) with a small margin; up to
 *   10 distinct x values are ticked at exactly those values (1024 ... 16384, not at
 *   powers of ten); an axis whose values are all integers (GPU counts, replicas) gets
 *   integer ticks only;
 * - bar charts leave headroom above the tallest bar for its value label. */
typedef struct plot_style {
	const char *colour;   /* "#RRGGBB" */
	int dash;             /* gnuplot dash type (1 = solid) */
	int point;            /* gnuplot point type */
} plot_style;

/* The style of series s (s >= 0) of a plot, as above. */
void plot_series_style(int s, plot_style *st);

/* The human axis label of a scenario key path: one table of names and units, e.g.
 * "workload.synthetic.arrival.rate" -> "arrival rate (req/s)",
 * "policies.1.router.threshold" -> "threshold (tokens)", "...pools.0.replicas" ->
 * "replicas".  Trailing list indices are skipped ("router.thresholds.0" reads as
 * router.thresholds); an unknown key gives its last component.  Writes into out (cap
 * >= 2, truncated) and returns out.  The label is plain text: callers escape it for
 * the format they write (esc_gnuplot, esc_html). */
const char *plot_param_label(const char *key, char *out, size_t cap);

/* Empirical CDF of TTFT, one curve per series (policy): writes ttft_cdf.{dat,gp,png,svg}
 * in dir (created if missing).  ttft_s[i] holds counts[i] values in seconds, in any
 * order; negative and non-finite values (no first token) are skipped.  The x axis is
 * logarithmic when every kept value is positive.  A series with no values is drawn as
 * an empty legend entry "NAME (no data)".  Returns 0, or -1 with err: FS_EXIT_INPUT
 * when no series has a value or an argument is missing, FS_EXIT_RUNTIME for I/O and
 * gnuplot failures. */
int plot_ttft_cdf(const char *dir, int nseries, const char *const *names,
		  const double *const *ttft_s, const size_t *counts, fs_err *err);

/* plot_ttft_cdf with the SLO marked when slo_ttft_p99_s > 0: a vertical reference
 * line at the TTFT p99 target and a horizontal one at 0.99, so a curve meets the
 * target when it crosses 0.99 left of the vertical line. */
int plot_ttft_cdf_slo(const char *dir, int nseries, const char *const *names,
		      const double *const *ttft_s, const size_t *counts, double slo_ttft_p99_s,
		      fs_err *err);

/* KV usage (top panel) and running / waiting requests (bottom panel) over time, one
 * line per pool, for one policy: writes timeseries_<policy>.{dat,gp,png,svg} in dir,
 * with the policy name reduced to [A-Za-z0-9._-] (others become '_').  ts holds n
 * samples in any order; sample pool k in [0, npools) is named pool_names[k], pool -1
 * is the fleet ("*").  Returns 0, or -1 with err: FS_EXIT_INPUT for no samples or a
 * pool index out of range, FS_EXIT_RUNTIME for I/O and gnuplot failures. */
int plot_timeseries(const char *dir, const char *policy, const mx_sample *ts, size_t n,
		    int npools, const char *const *pool_names, fs_err *err);

/* Write into out (size cap >= 2) a file-name-safe form of name: characters outside
 * [A-Za-z0-9._-] become '_', a leading '.' becomes '_', empty becomes "unnamed";
 * truncated to cap - 1 bytes.  Exposed for callers naming their own files. */
void plot_safe_name(const char *name, char *out, size_t cap);

/* Run the gnuplot script NAME.gp that a caller wrote in dir (it must write NAME.png
 * and NAME.svg, e.g. in a `do for [fmt in "png svg"]` loop) and check both outputs.
 * name must be a safe file name (plot_safe_name).  Returns 0 or -1 with err as above. */
int plot_run_script(const char *dir, const char *name, fs_err *err);
/* mkdir -p dir.  Returns 0, or -1 with err (FS_EXIT_RUNTIME naming the path). */
int plot_mkdir(const char *dir, fs_err *err);

/* One line of a plot_lines chart: n points (x[i], y[i]); negative or non-finite y
 * (no value) leaves a gap.  Strings and arrays are borrowed. */
typedef struct plot_series {
	const char *name;
	const double *x, *y;
	size_t n;
	int flat;      /* plot_lines: 1 = a horizontal reference (e.g. a policy that does not
		        * use the x parameter), drawn as a line without point marks */
} plot_series;

typedef struct plot_lines_spec {
	const char *name;          /* base file name; reduced with plot_safe_name */
	const char *title, *xlabel, *ylabel;
	int logx;                  /* log x axis (used only when every x > 0) */
	int steps;                 /* 1: staircase lines without point marks (CDFs) */
	double hline;              /* > 0: a dashed horizontal line at this y (an SLO) */
	const char *hline_label;
	const char *const *xtics;  /* non-NULL: categorical x, x values are 0..nxtics-1 */
	int nxtics;
	double vline;              /* > 0: a dashed vertical line at this x (an SLO target) */
	const char *vline_label;
	int logy;                  /* 0: log y when the values span > 2 decades (see above);
				    * -1: always linear (shares); steps plots are always linear */
} plot_lines_spec;

/* Lines (with point marks unless steps or flat) of y against x, one per series, each
 * with its plot_series_style; the reference lines are titled "LABEL = VALUE": writes
 * NAME.{dat,gp,png,svg} in dir.  Returns 0, or -1 with err: FS_EXIT_INPUT when no
 * series has a point, FS_EXIT_RUNTIME for I/O and gnuplot failures. */
int plot_lines(const char *dir, const plot_lines_spec *spec, int nseries,
	       const plot_series *series, fs_err *err);

/* Clustered bars: values[s * ncat + c] is series s (legend) in category c (x tic),
 * negative = no bar.  Writes NAME.{dat,gp,png,svg} in dir.  Returns 0, or -1 with err
 * as plot_lines. */
int plot_bars(const char *dir, const char *name, const char *title, const char *ylabel,
	      int ncat, const char *const *cats, int nseries, const char *const *series,
	      const double *values, fs_err *err);

/* The compact charts of the plan's sizing report: each NAME.gp starts with "# fleetsim
 * ORIGIN: redraw with `gnuplot NAME.gp` in this directory.", draws at a fixed size
 * with a grid, and sets the title, x and y labels that are not NULL. */
typedef struct plot_chart_spec {
	const char *name;          /* base file name; reduced with plot_safe_name */
	const char *origin;        /* the command named in the first line, e.g. "plan" */
	const char *size;          /* "W,H" in pixels */
	const char *title, *xlabel, *ylabel;
	const char *columns;       /* the .dat's first line after "# " (NULL: none) */
	const char *logscale;      /* axes for `set logscale`, e.g. "y" or "x 2"; NULL: linear */
	const char *key;           /* `set key` position, e.g. "top left"; NULL: no key */
} plot_chart_spec;

/* One box per label, its value printed above it, in the order given (logscale and key
 * are ignored: no key).  Writes NAME.{dat,gp,png,svg} in dir.  Returns 0, or -1 with
 * err: FS_EXIT_INPUT when n < 1 or an argument is missing, FS_EXIT_RUNTIME for I/O and
 * gnuplot failures. */
int plot_value_bars(const char *dir, const plot_chart_spec *spec, int n, const char *const *labels,
		    const double *values, fs_err *err);

/* Lines of ny columns against x, all in one table (row i: x[i], y[0][i] .. y[ny-1][i]),
 * titled col_titles[k]; ref > 0 adds a dashed red reference line y = ref titled
 * ref_title.  Writes NAME.{dat,gp,png,svg} in dir.  Returns 0, or -1 with err as
 * plot_value_bars. */
int plot_columns(const char *dir, const plot_chart_spec *spec, int n, const double *x, int ny,
		 const double *const *y, const char *const *col_titles, double ref, const char *ref_title,
		 fs_err *err);

/* Lines, one per series (one .dat index block each, headed by a comment naming it);
 * every point is drawn.  Writes NAME.{dat,gp,png,svg} in dir.  Returns 0, or -1 with
 * err as plot_value_bars. */
int plot_series_lines(const char *dir, const plot_chart_spec *spec, int nseries,
		      const plot_series *series, fs_err *err);

#endif
