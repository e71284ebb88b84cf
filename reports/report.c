/*
 * report.c - plots and index.html from a results database.  See report.h.
 */
#include "reports/report.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/plot.h"
#include "reports/sweep.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "util/escape.h"

#define MAX_PLOTS 256
/* Most cells (lines x values) of one metric-vs-parameter plot. */
#define MAX_PLOT_CELLS (1 << 22)

/* One run's numbers as the report shows them (fleet row unless noted). */
typedef struct rrun {
	int64_t run_id, point;
	char policy[128];
	char *point_json;
	int pol;                        /* index into the report's policy list */
	double gpu_hours, ppr, ttft_p50, ttft_p99, tpot_p99, slo_att, thr;
	int64_t completed, rejected, gpus;
	int npools;
	char pools[FS_MAX_POOLS][64];
	double share[FS_MAX_POOLS];
} rrun;

typedef struct axis {
	char key[256];
	int nvals, numeric;
	double *num;                    /* numeric values (numeric) */
	char **label;                   /* values as text */
} axis;

typedef struct rep {
	db *d;
	sqlite3 *h;
	const char *dir;
	int nruns;
	rrun *runs;
	int npol;
	char pols[64][128];
	int naxes;
	axis axes[16];
	int64_t npoints;                /* sweep report: points of the grid (product of nvals) */
	double slo_ttft, slo_tpot;
	int nplots;
	char plots[MAX_PLOTS][128];     /* base names */
	char notes[2048];
	/* unused[p][k]: policy p does not use axis k (UNUSED_KEY: the key names another
	 * policy; UNUSED_SAME: its results are identical at every value of the axis). */
	unsigned char unused[64][16];
	int64_t sweep_id, baseline_run;
	char cdf_desc[2048];            /* index.html: which runs the CDFs show (HTML) */
} rep;

enum { UNUSED_KEY = 1, UNUSED_SAME = 2 };

/* An SQL failure: a corrupt or foreign file is an input error (db_read_fail). */
static int sql_err(rep *r, fs_err *err, const char *what)
{
	return db_read_fail(r->d, err, what);
}

/* The database holds something no fleetsim wrote: "FILE: not a fleetsim results
 * database (WHAT)", FS_EXIT_INPUT. */
#define bad_db(r, err, ...) db_fail_foreign((r)->d, (err), __VA_ARGS__)

static int cmp_num(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double col_d(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? -1 : sqlite3_column_double(st, i);
}

/* The first column of sql's first row (?1 bound to arg) into *id: 0 when there is no
 * row or it is NULL.  Returns 0, -1 on an SQL error (sql_err can say why), 1 when the
 * value is not an integer. */
static int latest(rep *r, const char *sql, int64_t arg, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, step;

	*id = 0;
	if (sqlite3_prepare_v2(r->h, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, arg);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		*id = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		rc = 1;
	else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = -1;
	sqlite3_finalize(st); /* keeps the step's error for sql_err */
	return rc;
}

/* Column i is NULL or a finite number (what every REAL column of the schema holds). */
static int col_num_ok(sqlite3_stmt *st, int i)
{
	int t = sqlite3_column_type(st, i);
	return t == SQLITE_NULL || t == SQLITE_INTEGER ||
	       (t == SQLITE_FLOAT && isfinite(sqlite3_column_double(st, i)));
}

/* Column i is not an infinite (or NaN) floating-point number. */
static int col_finite(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) != SQLITE_FLOAT || isfinite(sqlite3_column_double(st, i));
}

/* Column i is a finite number >= 0 (not NULL). */
static int col_nonneg(sqlite3_stmt *st, int i)
{
	int t = sqlite3_column_type(st, i);
	return (t == SQLITE_INTEGER || t == SQLITE_FLOAT) && col_num_ok(st, i) &&
	       sqlite3_column_double(st, i) >= 0;
}

static void add_plot(rep *r, const char *base)
{
	if (r->nplots < MAX_PLOTS)
		plot_safe_name(base, r->plots[r->nplots++], sizeof r->plots[0]);
}

/* Append one HTML list item to the notes; a (a plot or run label, which carries
 * policy names from the scenario file) is HTML-escaped first. */
static void note(rep *r, const char *fmt, const char *a)
{
	char esc[512] = "";
	size_t n = strlen(r->notes);
	FILE *m = fmemopen(esc, sizeof esc - 1, "w");

	if (m) {
		esc_html(m, a);
		fclose(m);
	}
	snprintf(r->notes + n, sizeof r->notes - n, fmt, esc);
}

/* Load the runs selected by where (bound ?1 = id). */
static int load_runs(rep *r, const char *where, int64_t id, fs_err *err)
{
	char sql[1024];
	sqlite3_stmt *st = NULL;
	int rc, cap = 0;

	snprintf(sql, sizeof sql,
		 "SELECT r.run_id, r.policy, s.point, s.params, m.gpu_hours, m.preemptions_per_request,"
		 " m.ttft_p50_s, m.ttft_p99_s, m.tpot_p99_s, m.slo_attainment, m.throughput_rps,"
		 " m.completed, m.rejected, m.gpus"
		 " FROM runs r JOIN pool_metrics m ON m.run_id = r.run_id AND m.pool = '*'"
		 " LEFT JOIN sweeps s ON s.run_id = r.run_id WHERE %s ORDER BY s.point, r.run_id",
		 where);
	if (sqlite3_prepare_v2(r->h, sql, -1, &st, NULL) != SQLITE_OK)
		return sql_err(r, err, "reading runs");
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rrun *x;
		int p;
		long long rid = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 0) != SQLITE_INTEGER || rid <= 0) {
			sqlite3_finalize(st);
			return bad_db(r, err, "a run_id is not a positive integer");
		}
		if (sqlite3_column_type(st, 1) != SQLITE_TEXT) {
			sqlite3_finalize(st);
			return bad_db(r, err, "run %lld: policy is not text", rid);
		}
		if (sqlite3_column_type(st, 2) != SQLITE_NULL &&
		    (sqlite3_column_type(st, 2) != SQLITE_INTEGER || sqlite3_column_int64(st, 2) < 0)) {
			sqlite3_finalize(st);
			return bad_db(r, err, "run %lld: sweeps.point is not an integer >= 0", rid);
		}
		if (sqlite3_column_type(st, 3) != SQLITE_NULL && sqlite3_column_type(st, 3) != SQLITE_TEXT) {
			sqlite3_finalize(st);
			return bad_db(r, err, "run %lld: sweeps.params is not text", rid);
		}
		for (int c = 4; c <= 13; c++)
			if (c <= 10 ? !col_num_ok(st, c) :
				      sqlite3_column_type(st, c) != SQLITE_NULL &&
					      sqlite3_column_type(st, c) != SQLITE_INTEGER) {
				char cn[64];
				snprintf(cn, sizeof cn, "%s", sqlite3_column_name(st, c));
				sqlite3_finalize(st);
				return bad_db(r, err, "run %lld: pool_metrics.%s is not %s", rid, cn,
					      c <= 10 ? "a finite number" : "an integer");
			}
		if (r->nruns == cap) {
			rrun *n = realloc(r->runs, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *n);
			if (!n)
				goto oom;
			r->runs = n;
		}
		x = &r->runs[r->nruns];
		memset(x, 0, sizeof *x);
		x->run_id = sqlite3_column_int64(st, 0);
		snprintf(x->policy, sizeof x->policy, "%s", (const char *)sqlite3_column_text(st, 1));
		x->point = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    !(x->point_json = strdup((const char *)sqlite3_column_text(st, 3))))
			goto oom;
		r->nruns++;
		x->gpu_hours = col_d(st, 4);
		x->ppr = col_d(st, 5);
		x->ttft_p50 = col_d(st, 6);
		x->ttft_p99 = col_d(st, 7);
		x->tpot_p99 = col_d(st, 8);
		x->slo_att = col_d(st, 9);
		x->thr = col_d(st, 10);
		x->completed = sqlite3_column_int64(st, 11);
		x->rejected = sqlite3_column_int64(st, 12);
		x->gpus = sqlite3_column_int64(st, 13);
		for (p = 0; p < r->npol; p++)
			if (!strcmp(r->pols[p], x->policy))
				break;
		if (p == r->npol && r->npol < 64)
			snprintf(r->pols[r->npol++], sizeof r->pols[0], "%s", x->policy);
		x->pol = p < 64 ? p : 63;
	}
	if (rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return sql_err(r, err, "reading runs");
	}
	sqlite3_finalize(st);

	/* Pools and their traffic shares. */
	if (sqlite3_prepare_v2(r->h,
			       "SELECT pool, traffic_share FROM pool_metrics WHERE run_id = ?1 AND pool <> '*'"
			       " ORDER BY rowid",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_err(r, err, "reading pool metrics");
	for (int i = 0; i < r->nruns; i++) {
		rrun *x = &r->runs[i];
		sqlite3_bind_int64(st, 1, x->run_id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && x->npools < FS_MAX_POOLS) {
			if (sqlite3_column_type(st, 0) != SQLITE_TEXT || !col_num_ok(st, 1)) {
				sqlite3_finalize(st);
				return bad_db(r, err, "run %lld: a pool_metrics row has no pool name or a bad traffic_share",
					      (long long)x->run_id);
			}
			snprintf(x->pools[x->npools], 64, "%s", (const char *)sqlite3_column_text(st, 0));
			x->share[x->npools++] = col_d(st, 1);
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			sql_err(r, err, "reading pool metrics");
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return 0;
oom:
	sqlite3_finalize(st);
	return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
}

/* Read sweep sweep_id's grid: its SLO and its axes, checked against the sweep's point
 * count so that every point index the sweeps table may hold maps to axis values. */
static int load_grid(rep *r, int64_t sweep_id, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	cJSON *g = NULL, *params, *p, *slo, *v;
	int64_t npoints, prod = 1;
	long long sid = (long long)sweep_id;
	int rc = -1, step;

	if (sqlite3_prepare_v2(r->h, "SELECT grid, points FROM sweep_defs WHERE sweep_id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return sql_err(r, err, "reading the sweep");
	sqlite3_bind_int64(st, 1, sweep_id);
	if ((step = sqlite3_step(st)) != SQLITE_ROW) {
		if (step != SQLITE_DONE) {
			sql_err(r, err, "reading the sweep");
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
		/* Points linked to a sweep that has no definition: the file is damaged. */
		if (latest(r, "SELECT count(*) FROM sweeps WHERE sweep_id = ?1", sweep_id, &npoints) < 0)
			return sql_err(r, err, "reading the sweep");
		if (npoints > 0)
			return bad_db(r, err, "sweeps rows name sweep %lld, which sweep_defs lacks", sid);
		return fs_fail(err, FS_EXIT_INPUT, "%s: no sweep %lld", db_path(r->d), sid);
	}
	if (sqlite3_column_type(st, 0) != SQLITE_TEXT || sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
		sqlite3_finalize(st);
		return bad_db(r, err, "sweep %lld: grid is not text or points is not an integer", sid);
	}
	npoints = sqlite3_column_int64(st, 1);
	g = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (!cJSON_IsObject(g)) {
		cJSON_Delete(g);
		return bad_db(r, err, "sweep %lld: grid is not a JSON object", sid);
	}
	if (npoints < 1 || npoints > SWEEP_MAX_POINTS) {
		bad_db(r, err, "sweep %lld: points %lld is not in 1..%d", sid, (long long)npoints,
		       SWEEP_MAX_POINTS);
		goto out;
	}
	slo = cJSON_GetObjectItem(g, "slo");
	if ((v = cJSON_GetObjectItem(slo, "ttft_p99_s")) && cJSON_IsNumber(v))
		r->slo_ttft = v->valuedouble;
	if ((v = cJSON_GetObjectItem(slo, "tpot_p99_s")) && cJSON_IsNumber(v))
		r->slo_tpot = v->valuedouble;
	if (!isfinite(r->slo_ttft) || !isfinite(r->slo_tpot)) {
		bad_db(r, err, "sweep %lld: the grid's SLO is not a finite number", sid);
		goto out;
	}
	params = cJSON_GetObjectItem(g, "params");
	if (!cJSON_IsArray(params)) {
		bad_db(r, err, "sweep %lld: the grid has no params array", sid);
		goto out;
	}
	cJSON_ArrayForEach(p, params)
	{
		axis *a;
		cJSON *key = cJSON_GetObjectItem(p, "key"), *vals = cJSON_GetObjectItem(p, "values");
		int n = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0, k = 0;
		if (!cJSON_IsObject(p) || !cJSON_IsString(key) || n <= 0) {
			bad_db(r, err, "sweep %lld: grid parameter %d has no string key or no values", sid,
			       r->naxes + 1);
			goto out;
		}
		if (r->naxes == 16) {
			bad_db(r, err, "sweep %lld: the grid has more than 16 parameters", sid);
			goto out;
		}
		if (n > SWEEP_MAX_POINTS || (prod *= n) > SWEEP_MAX_POINTS) {
			bad_db(r, err, "sweep %lld: the grid has more than %d points", sid, SWEEP_MAX_POINTS);
			goto out;
		}
		a = &r->axes[r->naxes++];
		snprintf(a->key, sizeof a->key, "%s", key->valuestring);
		a->nvals = n;
		a->numeric = 1;
		a->num = calloc((size_t)n, sizeof *a->num);
		a->label = calloc((size_t)n, sizeof *a->label);
		if (!a->num || !a->label)
			goto oom;
		cJSON_ArrayForEach(v, vals)
		{
			char buf[64];
			if (k >= n)
				break;
			if (cJSON_IsNumber(v)) {
				if (!isfinite(v->valuedouble)) {
					bad_db(r, err, "sweep %lld: grid parameter %s has a non-finite value", sid,
					       a->key);
					goto out;
				}
				a->num[k] = v->valuedouble;
				snprintf(buf, sizeof buf, "%.12g", v->valuedouble);
				a->label[k] = strdup(buf);
			} else {
				a->numeric = 0;
				a->num[k] = k;
				a->label[k] = cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
			}
			if (!a->label[k++])
				goto oom;
		}
	}
	if (prod != npoints) {
		bad_db(r, err, "sweep %lld: points is %lld but the grid's parameters make %lld", sid,
		       (long long)npoints, (long long)prod);
		goto out;
	}
	r->npoints = npoints;
	rc = 0;
	goto out;
oom:
	fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
out:
	cJSON_Delete(g);
	return rc;
}

/* Value index of axis k for point idx: row-major, the last axis fastest (as sweep.c). */
static int axis_index(const rep *r, int64_t idx, int k)
{
	/* sweep_plots checked 0 <= point < npoints; a point from another sweep (a run
	 * report) never gets here with axes loaded.  Stay in bounds regardless. */
	if (idx < 0)
		idx = 0;
	for (int j = r->naxes - 1; j > k; j--)
		idx /= r->axes[j].nvals;
	return (int)(idx % r->axes[k].nvals);
}

/* The last component of key that is not a list index ("router.thresholds.0" ->
 * "thresholds"), into out. */
static const char *short_key(const char *key, char *out, size_t cap)
{
	size_t n = strlen(key), b;

	for (;;) {
		size_t i = n;
		while (i > 0 && key[i - 1] >= '0' && key[i - 1] <= '9')
			i--;
		if (i == n || i < 2 || key[i - 1] != '.')
			break;
		n = i - 1;
	}
	for (b = n; b > 0 && key[b - 1] != '.'; b--)
		;
	snprintf(out, cap, "%.*s", (int)(n - b), key + b);
	return out;
}

/* Axis j counts for run x's policy (see rep.unused). */
static int uses(const rep *r, const rrun *x, int j)
{
	return !r->unused[x->pol][j];
}

/* Two runs gave the same fleet results, to the last bit (the simulator is
 * deterministic: a parameter a policy ignores changes none of its numbers). */
static int same_result(const rrun *a, const rrun *b)
{
	if (a->gpu_hours != b->gpu_hours || a->ppr != b->ppr || a->ttft_p50 != b->ttft_p50 ||
	    a->ttft_p99 != b->ttft_p99 || a->tpot_p99 != b->tpot_p99 || a->slo_att != b->slo_att ||
	    a->thr != b->thr || a->completed != b->completed || a->rejected != b->rejected ||
	    a->gpus != b->gpus || a->npools != b->npools)
		return 0;
	for (int p = 0; p < a->npools; p++)
		if (a->share[p] != b->share[p] || strcmp(a->pools[p], b->pools[p]))
			return 0;
	return 1;
}

/* The scenario's policy names in file order, from the first run's stored scenario
 * (runs.params: scenario_file.policies[i].name, "policyI" when unnamed, as the loader
 * names them).  Returns how many (0 when the file does not say: the key rule is then
 * not applied). */
static int policy_names(rep *r, char (*names)[128], int cap)
{
	sqlite3_stmt *st = NULL;
	cJSON *j = NULL, *pols, *p;
	int n = 0;

	if (!r->nruns || sqlite3_prepare_v2(r->h, "SELECT params FROM runs WHERE run_id = ?1", -1, &st, NULL) !=
				 SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, r->runs[0].run_id);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT)
		j = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	pols = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "scenario_file"), "policies");
	if (!cJSON_IsArray(pols))
		pols = NULL;
	cJSON_ArrayForEach(p, pols)
	{
		cJSON *nm = cJSON_GetObjectItem(p, "name");
		if (n == cap)
			break;
		if (cJSON_IsString(nm))
			snprintf(names[n], 128, "%s", nm->valuestring);
		else
			snprintf(names[n], 128, "policy%d", n);
		n++;
	}
	cJSON_Delete(j);
	return n;
}

/* Fill r->unused: which swept parameters each policy does not use, so that it is not
 * drawn as several identical lines (report.h).  A key "policies.N...." belongs to
 * policy N alone; any other axis is unused by a policy whose runs agree in every
 * number at every value of the axis (the same point otherwise).  Returns 0, or -1
 * with err (out of memory). */
static int find_unused(rep *r, fs_err *err)
{
	char names[64][128];
	int nnames = policy_names(r, names, 64);
	int *at = NULL;
	int64_t stride = 1;

	for (int k = 0; k < r->naxes; k++) {
		const char *key = r->axes[k].key;
		char *end;
		long idx;
		if (!strncmp(key, "policies.", 9) && key[9] >= '0' && key[9] <= '9' &&
		    (idx = strtol(key + 9, &end, 10)) >= 0 && *end == '.' && idx < nnames)
			for (int p = 0; p < r->npol; p++)
				if (strcmp(r->pols[p], names[idx]))
					r->unused[p][k] = UNUSED_KEY;
	}
	/* The empirical rule needs each (point, policy)'s run: skip it on huge grids. */
	if (r->npoints * r->npol > (1 << 22))
		return 0;
	at = malloc((size_t)(r->npoints * r->npol) * sizeof *at);
	if (!at)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int64_t i = 0; i < r->npoints * r->npol; i++)
		at[i] = -1;
	for (int i = 0; i < r->nruns; i++)
		at[r->runs[i].point * r->npol + r->runs[i].pol] = i;
	for (int k = r->naxes - 1; k >= 0; stride *= r->axes[k].nvals, k--) {
		if (r->axes[k].nvals < 2)
			continue;
		for (int p = 0; p < r->npol; p++) {
			int compared = 0, differ = 0;
			if (r->unused[p][k])
				continue;
			for (int i = 0; i < r->nruns && !differ; i++) {
				const rrun *x = &r->runs[i];
				int v = axis_index(r, x->point, k), b;
				if (x->pol != p || v == 0)
					continue;
				b = at[(x->point - v * stride) * r->npol + p];
				if (b < 0)
					continue;
				compared++;
				differ = !same_result(x, &r->runs[b]);
			}
			if (compared && !differ)
				r->unused[p][k] = UNUSED_SAME;
		}
	}
	free(at);
	return 0;
}

/* Series name for run x on a plot against axis k: policy plus the values of the other
 * axes its policy uses. */
static void group_name(const rep *r, const rrun *x, int k, const char *suffix, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "%s%s", x->policy, suffix ? suffix : "");
	char sk[128];

	for (int j = 0; j < r->naxes && n < cap; j++)
		if (j != k && uses(r, x, j))
			n += (size_t)snprintf(out + n, cap - n, " %s=%s", short_key(r->axes[j].key, sk, sizeof sk),
					      r->axes[j].label[axis_index(r, x->point, j)]);
	if (n < cap && !uses(r, x, k))
		snprintf(out + n, cap - n, " (%s %s)",
			 r->unused[x->pol][k] == UNUSED_KEY ? "does not use" : "same at every",
			 short_key(r->axes[k].key, sk, sizeof sk));
}

/* Group index of run x against axis k: policy-major, then the other axes (an axis the
 * policy does not use always counts as its first value: one line, not one per value). */
static int64_t group_of(const rep *r, const rrun *x, int k, int64_t *ngroups)
{
	int64_t g = x->pol, n = r->npol;
	for (int j = 0; j < r->naxes; j++)
		if (j != k) {
			g = g * r->axes[j].nvals + (uses(r, x, j) ? axis_index(r, x->point, j) : 0);
			n *= r->axes[j].nvals;
		}
	*ngroups = n;
	return g;
}

/* Run x stands for its line on a plot against axis k: every axis its policy does not
 * use is at its first value (the others are copies of it). */
static int representative(const rep *r, const rrun *x, int k)
{
	(void)k; /* k included: a line flat in k is drawn from k's first value */
	for (int j = 0; j < r->naxes; j++)
		if (!uses(r, x, j) && axis_index(r, x->point, j) != 0)
			return 0;
	return 1;
}

typedef double (*metric_fn)(const rrun *x, int pool);

static double m_gpuh(const rrun *x, int p) { (void)p; return x->gpu_hours; }
static double m_ppr(const rrun *x, int p) { (void)p; return x->ppr; }
static double m_ttft(const rrun *x, int p) { (void)p; return x->ttft_p99; }
static double m_tpot(const rrun *x, int p) { (void)p; return x->tpot_p99; }
static double m_share(const rrun *x, int p) { return p < x->npools ? x->share[p] : -1; }

/* The values of a numeric axis read best on a log scale: they span more than a decade
 * and are not evenly spaced (1024, 2048, ... rather than 1, 2, 3, ...). */
static int geometric(const axis *a)
{
	double lo = INFINITY, hi = 0, *v;
	int arith = 1;

	for (int i = 0; i < a->nvals; i++) {
		lo = fmin(lo, a->num[i]);
		hi = fmax(hi, a->num[i]);
	}
	if (!(lo > 0) || hi / lo <= 10 || a->nvals < 3)
		return lo > 0 && hi / lo > 10;
	if (!(v = malloc((size_t)a->nvals * sizeof *v)))
		return 1;
	memcpy(v, a->num, (size_t)a->nvals * sizeof *v);
	qsort(v, (size_t)a->nvals, sizeof *v, cmp_num);
	for (int i = 2; i < a->nvals && arith; i++)
		arith = fabs((v[i] - v[i - 1]) - (v[1] - v[0])) <= 1e-9 * (hi - lo);
	free(v);
	return !arith;
}

/* One metric against axis k; with pooled, one line per (group, pool) of traffic share.
 * A policy that does not use axis k gets one flat line per combination of the axes it
 * uses (drawn from the axis' first value); axes it does not use add no lines. */
static int plot_vs(rep *r, int k, const char *mname, const char *mtitle, const char *ylabel, metric_fn fn,
		   int pooled, double slo, fs_err *err)
{
	const axis *a = &r->axes[k];
	int64_t ng = 1, nl;
	int npool = 1, rc = -1, used = 0;
	plot_series *ser = NULL;
	double *xs = NULL, *ys = NULL;
	char (*names)[256] = NULL;
	char base[200], title[400], xlabel[160];
	plot_lines_spec sp = {0};

	if (pooled)
		for (int i = 0; i < r->nruns; i++)
			if (r->runs[i].npools > npool)
				npool = r->runs[i].npools;
	if (r->nruns)
		group_of(r, &r->runs[0], k, &ng);
	nl = ng * npool;
	if (nl > 4096 || nl * a->nvals > MAX_PLOT_CELLS)
		return 0; /* unreadable anyway; the table has the numbers */
	ser = calloc((size_t)nl, sizeof *ser);
	names = calloc((size_t)nl, sizeof *names);
	xs = calloc((size_t)(nl * a->nvals), sizeof *xs);
	ys = malloc((size_t)(nl * a->nvals) * sizeof *ys);
	if (!ser || !names || !xs || !ys) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	for (int64_t i = 0; i < nl * a->nvals; i++)
		ys[i] = -1;
	for (int64_t l = 0; l < nl; l++) {
		ser[l].x = xs + l * a->nvals;
		ser[l].y = ys + l * a->nvals;
		ser[l].n = (size_t)a->nvals;
		for (int v = 0; v < a->nvals; v++)
			xs[l * a->nvals + v] = a->num[v];
	}
	for (int i = 0; i < r->nruns; i++) {
		const rrun *x = &r->runs[i];
		int64_t g = group_of(r, x, k, &ng);
		int v = axis_index(r, x->point, k), flat = !uses(r, x, k);
		if (!representative(r, x, k))
			continue;
		for (int p = 0; p < (pooled ? x->npools : 1); p++) {
			int64_t l = g * npool + p;
			char suffix[80];
			if (!names[l][0]) {
				snprintf(suffix, sizeof suffix, "/%s", pooled ? x->pools[p] : "");
				group_name(r, x, k, pooled ? suffix : NULL, names[l], sizeof names[l]);
				ser[l].name = names[l];
				ser[l].flat = flat;
			}
			if (flat) /* the same at every value of the axis: a horizontal line */
				for (int w = 0; w < a->nvals; w++)
					ys[l * a->nvals + w] = fn(x, p);
			else
				ys[l * a->nvals + v] = fn(x, p);
		}
	}
	/* Drop lines nobody filled (policies with fewer pools). */
	for (int64_t l = 0; l < nl; l++)
		if (ser[l].name)
			ser[used++] = ser[l];
	plot_param_label(a->key, xlabel, sizeof xlabel);
	snprintf(base, sizeof base, "%.40s_vs_%.80s", mname, a->key);
	/* The title keeps the key path: it says which pool or policy the knob belongs to. */
	snprintf(title, sizeof title, "%s vs %s", mtitle, a->key);
	sp.name = base;
	sp.title = title;
	sp.xlabel = xlabel;
	sp.ylabel = ylabel;
	sp.hline = slo;
	sp.hline_label = "SLO";
	sp.logy = pooled ? -1 : 0; /* shares: a linear 0..1 axis */
	if (!a->numeric) {
		sp.xtics = (const char *const *)a->label;
		sp.nxtics = a->nvals;
	} else {
		sp.logx = geometric(a);
	}
	if (used == 0) {
		rc = 0;
		goto out;
	}
	if (plot_lines(r->dir, &sp, used, ser, err)) {
		/* A metric nobody has (e.g. no TPOT with one-token outputs) is not an error. */
		if (err->status == FS_EXIT_INPUT) {
			note(r, "<li>%s: no data.</li>\n", base);
			err->status = 0;
			err->msg[0] = '\0';
			rc = 0;
		}
		goto out;
	}
	add_plot(r, base);
	rc = 0;
out:
	free(ser);
	free(names);
	free(xs);
	free(ys);
	return rc;
}

static void run_label(const rep *r, const rrun *x, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "%s", x->policy);
	char sk[128];

	if (x->point >= 0)
		for (int j = 0; j < r->naxes && n < cap; j++)
			if (uses(r, x, j))
				n += (size_t)snprintf(out + n, cap - n, " %s=%s", short_key(r->axes[j].key, sk, sizeof sk),
						      r->axes[j].label[axis_index(r, x->point, j)]);
	if (x->point < 0 && n < cap)
		snprintf(out + n, cap - n, " (run %lld)", (long long)x->run_id);
}

/* Run x meets the SLO: fleet TTFT p99 and TPOT p99 within the targets that are set. */
static int meets_slo(const rep *r, const rrun *x)
{
	return (r->slo_ttft <= 0 || (x->ttft_p99 >= 0 && x->ttft_p99 <= r->slo_ttft)) &&
	       (r->slo_tpot <= 0 || (x->tpot_p99 >= 0 && x->tpot_p99 <= r->slo_tpot)) && x->completed > 0;
}

/* a is a better run than b for "best": meeting the SLO beats missing it; among runs
 * meeting it the lower GPU-hours (then TTFT p99) wins, among the others the lower TTFT
 * p99.  Ties keep the earlier run. */
static int better(const rep *r, const rrun *a, const rrun *b)
{
	int oa = meets_slo(r, a), ob = meets_slo(r, b);

	if (oa != ob)
		return oa;
	if (oa && a->gpu_hours != b->gpu_hours)
		return a->gpu_hours >= 0 && (b->gpu_hours < 0 || a->gpu_hours < b->gpu_hours);
	return a->ttft_p99 < b->ttft_p99;
}

/* One curve of the CDF plots: a run and the roles it plays ("best", "worst", ...). */
typedef struct cdf_pick {
	int idx;
	char role[48];
} cdf_pick;

/* Add run i in role to the picks (one entry per run: roles accumulate). */
static void add_pick(cdf_pick *pk, int *n, int i, const char *role)
{
	for (int j = 0; j < *n; j++)
		if (pk[j].idx == i) {
			size_t l = strlen(pk[j].role);
			snprintf(pk[j].role + l, sizeof pk[j].role - l, ", %s", role);
			return;
		}
	pk[*n].idx = i;
	snprintf(pk[*n].role, sizeof pk[*n].role, "%s", role);
	(*n)++;
}

/* The index of the marked baseline run into *idx (-1: none marked).  Returns 0, or -1
 * with err (FS_EXIT_INPUT) when the marked run is not one of the report's. */
static int check_baseline(const rep *r, int *idx, fs_err *err)
{
	*idx = -1;
	for (int i = 0; i < r->nruns; i++)
		if (r->baseline_run > 0 && r->runs[i].run_id == r->baseline_run)
			*idx = i;
	if (r->baseline_run > 0 && *idx < 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: baseline run %lld is not in this report's runs",
			       db_path(r->d), (long long)r->baseline_run);
	return 0;
}

/* The runs the CDFs show (report.h).  A sweep: best (the cheapest run meeting the SLO,
 * lowest GPU-hours, ties by TTFT p99; with none meeting it, the lowest TTFT p99), worst
 * (the highest TTFT p99) and baseline (report_opts.baseline_run, else the first run of
 * the first grid point, i.e. the first policy at every axis' first value).  A run
 * report: every policy of the run (at most REPORT_MAX_CDF), the marked one labelled
 * baseline.  Writes r->cdf_desc.  Returns the count, or -1 with err (FS_EXIT_INPUT: the
 * baseline run is not in the report). */
static int pick_runs(rep *r, cdf_pick *pk, fs_err *err)
{
	int n = 0, best = -1, worst = -1, base = -1;
	char label[300];
	FILE *m;

	if (check_baseline(r, &base, err))
		return -1;
	if (r->sweep_id <= 0) {
		for (int i = 0; i < r->nruns && n < REPORT_MAX_CDF; i++)
			add_pick(pk, &n, i, i == base ? "baseline" : "");
		r->cdf_desc[0] = '\0';
		return n;
	}
	for (int i = 0; i < r->nruns; i++) {
		const rrun *x = &r->runs[i];
		if (x->ttft_p99 < 0)
			continue;
		if (best < 0 || better(r, x, &r->runs[best]))
			best = i;
		if (worst < 0 || x->ttft_p99 > r->runs[worst].ttft_p99)
			worst = i;
	}
	if (base < 0)
		base = 0; /* runs are ordered by point, then run_id: the first point's first policy */
	if (best >= 0)
		add_pick(pk, &n, best, meets_slo(r, &r->runs[best]) ? "best" : "best (none meets the SLO)");
	if (worst >= 0)
		add_pick(pk, &n, worst, "worst");
	add_pick(pk, &n, base, "baseline");
	/* The rule and the chosen runs, for index.html (labels come from the file: escaped). */
	if ((m = fmemopen(r->cdf_desc, sizeof r->cdf_desc - 1, "w"))) {
		fputs("<p>CDFs show three runs of the sweep: <b>best</b> = the lowest GPU-hours among runs "
		      "meeting the SLO (else the lowest TTFT p99), <b>worst</b> = the highest TTFT p99, "
		      "<b>baseline</b> = ",
		      m);
		fputs(r->baseline_run > 0 ? "the run given with --baseline" : "the first policy at the first grid point", m);
		fputs(". The dashed lines mark the p99 target and the 0.99 level.</p>\n<ul>\n", m);
		for (int j = 0; j < n; j++) {
			run_label(r, &r->runs[pk[j].idx], label, sizeof label);
			fputs("<li>", m);
			esc_html(m, pk[j].role);
			fprintf(m, ": run %lld, ", (long long)r->runs[pk[j].idx].run_id);
			esc_html(m, label);
			fputs("</li>\n", m);
		}
		fputs("</ul>\n", m);
		fclose(m);
	}
	return n;
}

/* Read one run's CDF of metric ("ttft"/"tpot") into (*xs, *ys, *n): from requests
 * when present, else the quantiles table.  *n = 0 when neither has it. */
static int read_cdf(rep *r, int64_t run_id, const char *metric, double **xs, double **ys, size_t *n,
		    int *exact, fs_err *err)
{
	char sql[256];
	sqlite3_stmt *st = NULL;
	size_t cap = 0, m = 0;
	double *x = NULL, *y = NULL;
	int pass, rc;

	*xs = *ys = NULL;
	*n = 0;
	for (pass = 0; pass < 2 && m == 0; pass++) {
		if (pass == 0)
			snprintf(sql, sizeof sql,
				 "SELECT %s_s FROM requests WHERE run_id = ?1 AND %s_s IS NOT NULL ORDER BY 1",
				 metric, metric);
		else
			snprintf(sql, sizeof sql,
				 "SELECT value_s, q FROM quantiles WHERE run_id = ?1 AND pool = '*'"
				 " AND metric = '%s' ORDER BY q",
				 metric);
		if (sqlite3_prepare_v2(r->h, sql, -1, &st, NULL) != SQLITE_OK)
			return sql_err(r, err, "reading CDF data");
		sqlite3_bind_int64(st, 1, run_id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (!col_nonneg(st, 0) ||
			    (pass && (!col_nonneg(st, 1) || sqlite3_column_double(st, 1) > 1))) {
				sqlite3_finalize(st);
				free(x);
				free(y);
				return bad_db(r, err, "run %lld: a %s %s is not a finite number >= 0%s", (long long)run_id,
					      metric, pass ? "quantile" : "time in requests",
					      pass ? " or its q is not in 0..1" : "");
			}
			if (m == cap) {
				double *nx, *ny;
				cap = cap ? 2 * cap : 256;
				nx = realloc(x, cap * sizeof *x);
				ny = nx ? realloc(y, cap * sizeof *y) : NULL;
				if (nx)
					x = nx;
				if (ny)
					y = ny;
				if (!nx || !ny) {
					sqlite3_finalize(st);
					free(x);
					free(y);
					return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
				}
			}
			x[m] = sqlite3_column_double(st, 0);
			y[m] = pass ? sqlite3_column_double(st, 1) : 0;
			m++;
		}
		if (rc != SQLITE_DONE) {
			sql_err(r, err, "reading CDF data");
			sqlite3_finalize(st);
			free(x);
			free(y);
			return -1;
		}
		sqlite3_finalize(st);
		*exact = pass == 0;
	}
	if (*exact)
		for (size_t i = 0; i < m; i++)
			y[i] = (double)(i + 1) / (double)m;
	/* Thin exact CDFs to PLOT_MAX_POINTS evenly spaced ranks. */
	if (m > PLOT_MAX_POINTS) {
		for (size_t i = 0; i < PLOT_MAX_POINTS; i++) {
			size_t j = (size_t)((double)i * (double)(m - 1) / (PLOT_MAX_POINTS - 1));
			x[i] = x[j];
			y[i] = y[j];
		}
		m = PLOT_MAX_POINTS;
	}
	*xs = x;
	*ys = y;
	*n = m;
	return 0;
}

/* The TTFT or TPOT CDF of the picked runs (pick_runs), with the SLO target as a
 * vertical line and the 0.99 level as a horizontal one. */
static int plot_cdf(rep *r, const char *metric, const char *label, fs_err *err)
{
	cdf_pick pk[REPORT_MAX_CDF];
	int n = pick_runs(r, pk, err), used = 0, exact = 0, rc = -1;
	plot_series ser[REPORT_MAX_CDF];
	char names[REPORT_MAX_CDF][360], base[64], title[128], rl[300];
	double *xs[REPORT_MAX_CDF] = {0}, *ys[REPORT_MAX_CDF] = {0};
	double slo = metric[1] == 't' ? r->slo_ttft : r->slo_tpot;
	plot_lines_spec sp = {0};

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		size_t m;
		int ex = 0;
		if (read_cdf(r, r->runs[pk[i].idx].run_id, metric, &xs[i], &ys[i], &m, &ex, err))
			goto out;
		if (!m)
			continue;
		exact |= ex;
		run_label(r, &r->runs[pk[i].idx], rl, sizeof rl);
		snprintf(names[used], sizeof names[used], "%s%s%s", pk[i].role, pk[i].role[0] ? ": " : "", rl);
		ser[used] = (plot_series){names[used], xs[i], ys[i], m, 0};
		used++;
	}
	snprintf(base, sizeof base, "%s_cdf", metric);
	if (!used) {
		note(r, "<li>%s: no per-request data or stored quantiles in these runs (run with --requests).</li>\n",
		     base);
		rc = 0;
		goto out;
	}
	snprintf(title, sizeof title, "%s CDF%s%s", label,
		 r->sweep_id > 0 ? " (best, worst and baseline runs)" : r->nruns > n ? " (first runs)" : "",
		 exact ? "" : " (from stored quantiles)");
	sp.name = base;
	sp.title = title;
	sp.xlabel = metric[1] == 't' ? "TTFT (s)" : "TPOT (s)";
	sp.ylabel = "fraction of requests";
	sp.logx = 1;
	sp.steps = 1;
	if (slo > 0) {
		sp.vline = slo;
		sp.vline_label = metric[1] == 't' ? "TTFT p99 SLO (s)" : "TPOT p99 SLO (s)";
		sp.hline = 0.99;
		sp.hline_label = "p99";
	}
	if (plot_lines(r->dir, &sp, used, ser, err))
		goto out;
	add_plot(r, base);
	rc = 0;
out:
	for (int i = 0; i < n; i++) {
		free(xs[i]);
		free(ys[i]);
	}
	return rc;
}

/* KV usage and queue depth over time of run x, through plot_timeseries. */
static int plot_ts(rep *r, const rrun *x, const char *label, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	mx_sample *s = NULL;
	size_t n = 0, cap = 0;
	const char *names[FS_MAX_POOLS + 1] = {0};
	char pn[FS_MAX_POOLS][64];
	int np = 0, rc = -1, step;
	char base[200];

	if (sqlite3_prepare_v2(r->h,
			       "SELECT t_s, pool, running, waiting, kv_usage FROM timeseries WHERE run_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_err(r, err, "reading timeseries");
	sqlite3_bind_int64(st, 1, x->run_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pool = (const char *)sqlite3_column_text(st, 1);
		int p = -1;
		if (!col_nonneg(st, 0) || !col_num_ok(st, 4) ||
		    (sqlite3_column_type(st, 1) != SQLITE_TEXT && sqlite3_column_type(st, 1) != SQLITE_NULL)) {
			bad_db(r, err, "run %lld: a timeseries row has a bad time, pool or kv_usage",
			       (long long)x->run_id);
			goto out;
		}
		for (int c = 2; c <= 3; c++)
			if (sqlite3_column_type(st, c) != SQLITE_INTEGER || sqlite3_column_int64(st, c) < 0 ||
			    sqlite3_column_int64(st, c) > INT32_MAX) {
				bad_db(r, err, "run %lld: a timeseries row's %s is not an integer in 0..2^31-1",
				       (long long)x->run_id, c == 2 ? "running" : "waiting");
				goto out;
			}
		if (n == cap) {
			mx_sample *ns = realloc(s, (cap = cap ? 2 * cap : 1024) * sizeof *s);
			if (!ns) {
				fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
				goto out;
			}
			s = ns;
		}
		if (pool && strcmp(pool, "*")) {
			for (p = 0; p < np; p++)
				if (!strcmp(pn[p], pool))
					break;
			if (p == np) {
				if (np == FS_MAX_POOLS)
					continue;
				snprintf(pn[np], sizeof pn[np], "%s", pool);
				names[np] = pn[np];
				np++;
			}
		}
		s[n].t_s = sqlite3_column_double(st, 0);
		s[n].pool = (int16_t)p;
		s[n].running = sqlite3_column_int(st, 2);
		s[n].waiting = sqlite3_column_int(st, 3);
		s[n].kv_usage = col_d(st, 4) < 0 ? 0 : sqlite3_column_double(st, 4);
		n++;
	}
	if (step != SQLITE_DONE) {
		sql_err(r, err, "reading timeseries");
		goto out;
	}
	if (!n) {
		note(r, "<li>%s: no time series stored.</li>\n", label);
		rc = 0;
		goto out;
	}
	if (plot_timeseries(r->dir, label, s, n, np, names, err))
		goto out;
	snprintf(base, sizeof base, "timeseries_%s", label);
	add_plot(r, base);
	rc = 0;
out:
	sqlite3_finalize(st);
	free(s);
	return rc;
}

static void html_num(FILE *f, double v, const char *fmt)
{
	fputs("<td>", f);
	if (v < 0 || !isfinite(v))
		fputs("&ndash;", f);
	else
		fprintf(f, fmt, v);
	fputs("</td>", f);
}

/* Per workload category of each run, by name (the categories table; files written
 * before it existed have none, and then the section is left out).  At most 64 runs. */
static void write_categories(rep *r, FILE *f)
{
	sqlite3_stmt *st = NULL;
	int any = 0;

	if (sqlite3_prepare_v2(r->h,
			       "SELECT name, requests, traffic_share, ttft_p50_s, ttft_p99_s, tpot_p99_s, slo_attainment"
			       " FROM categories WHERE run_id = ?1 ORDER BY category",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	for (int i = 0; i < r->nruns && i < 64; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->runs[i].run_id);
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			if (!any++)
				fputs("<h2>Per workload category</h2>\n<table><tr><th>run</th><th class=l>policy</th>"
				      "<th class=l>category</th><th>requests</th><th>traffic share</th><th>TTFT p50 (s)</th>"
				      "<th>TTFT p99 (s)</th><th>TPOT p99 (s)</th><th>SLO attainment</th></tr>\n",
				      f);
			fprintf(f, "<tr><td>%lld</td><td class=l>", (long long)r->runs[i].run_id);
			esc_html(f, r->runs[i].policy);
			fputs("</td><td class=l>", f);
			esc_html(f, name ? name : "");
			fputs("</td>", f);
			html_num(f, col_d(st, 1), "%.0f");
			html_num(f, col_d(st, 2), "%.4f");
			html_num(f, col_d(st, 3), "%.4g");
			html_num(f, col_d(st, 4), "%.4g");
			html_num(f, col_d(st, 5), "%.4g");
			html_num(f, col_d(st, 6), "%.4f");
			fputs("</tr>\n", f);
		}
	}
	if (any)
		fputs("</table>\n", f);
	sqlite3_finalize(st);
}

static int write_index(rep *r, const char *title, report_stats *stt, fs_err *err)
{
	FILE *f;

	if ((size_t)snprintf(stt->index_path, sizeof stt->index_path, "%s/index.html", r->dir) >=
	    sizeof stt->index_path)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: output directory path too long", r->dir);
	if (!(f = fopen(stt->index_path, "w")))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot write: %s", stt->index_path, strerror(errno));
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
	esc_html(f, title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}img{max-width:100%;border:1px solid #ddd}"
	      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
	      "td.l,th.l{text-align:left}figure{margin:1em 0}</style></head><body>\n<h1>",
	      f);
	esc_html(f, title);
	fprintf(f, "</h1>\n<p>Database: <code>");
	esc_html(f, db_path(r->d));
	fprintf(f, "</code>, %d runs. Each plot links its SVG, gnuplot script and data.</p>\n", r->nruns);
	if (r->slo_ttft > 0 || r->slo_tpot > 0)
		fprintf(f, "<p>SLO: TTFT p99 &le; %g s, TPOT p99 &le; %g s (unset: 0).</p>\n", r->slo_ttft,
			r->slo_tpot);
	for (int i = 0; i < r->nplots; i++) {
		const char *b = r->plots[i];
		fprintf(f, "<figure><img src=\"%s.png\" alt=\"%s\"><figcaption>%s "
			   "(<a href=\"%s.svg\">SVG</a>, <a href=\"%s.gp\">.gp</a>, <a href=\"%s.dat\">.dat</a>)"
			   "</figcaption></figure>\n",
			b, b, b, b, b, b);
	}
	fputs(r->cdf_desc, f); /* built HTML-escaped by pick_runs */
	if (r->notes[0])
		fprintf(f, "<h2>Not drawn</h2><ul>\n%s</ul>\n", r->notes);
	fputs("<h2>Numbers (fleet-wide)</h2>\n<table><tr><th>run</th><th class=l>policy</th>"
	      "<th>point</th><th class=l>parameters</th><th>GPUs</th><th>GPU-hours</th>"
	      "<th>completed</th><th>rejected</th><th>preemptions/req</th><th>TTFT p50 (s)</th>"
	      "<th>TTFT p99 (s)</th><th>TPOT p99 (s)</th><th>SLO attainment</th><th>req/s</th>"
	      "<th class=l>traffic share</th></tr>\n",
	      f);
	for (int i = 0; i < r->nruns; i++) {
		const rrun *x = &r->runs[i];
		fprintf(f, "<tr><td>%lld</td><td class=l>", (long long)x->run_id);
		esc_html(f, x->policy);
		fputs("</td><td>", f);
		if (x->point >= 0)
			fprintf(f, "%lld", (long long)x->point);
		fputs("</td><td class=l>", f);
		esc_html(f, x->point_json ? x->point_json : "");
		fprintf(f, "</td><td>%lld</td>", (long long)x->gpus);
		html_num(f, x->gpu_hours, "%.4g");
		fprintf(f, "<td>%lld</td><td>%lld</td>", (long long)x->completed, (long long)x->rejected);
		html_num(f, x->ppr, "%.4g");
		html_num(f, x->ttft_p50, "%.4g");
		html_num(f, x->ttft_p99, "%.4g");
		html_num(f, x->tpot_p99, "%.4g");
		html_num(f, x->slo_att, "%.4f");
		html_num(f, x->thr, "%.4g");
		fputs("<td class=l>", f);
		for (int p = 0; p < x->npools; p++) {
			char b[128];
			snprintf(b, sizeof b, "%s%s %.3f", p ? ", " : "", x->pools[p], x->share[p]);
			esc_html(f, b);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	write_categories(r, f);
	fputs("</body></html>\n", f);
	if (fclose(f) != 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: write failed", stt->index_path);
	return 0;
}

/* Outputs are drawn into a staging directory and moved into place only once the
 * whole report succeeded, so a failure (a damaged database found half-way, gnuplot)
 * leaves out_dir as it was.  An existing out_dir gets a hidden staging directory
 * inside it; a missing one is staged as a sibling and renamed into place. */
typedef struct stage {
	char dir[4200];
	int inside; /* staging is inside out_dir (which existed) */
} stage;

static int stage_open(const char *out, stage *sg, fs_err *err)
{
	struct stat sb;
	size_t len = strlen(out);

	memset(sg, 0, sizeof *sg);
	if (stat(out, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return fs_fail(err, FS_EXIT_INPUT, "%s: not a directory", out);
		sg->inside = 1;
		if ((size_t)snprintf(sg->dir, sizeof sg->dir, "%s/.fleetsim-report-XXXXXX", out) >= sizeof sg->dir)
			return fs_fail(err, FS_EXIT_INPUT, "%.200s: output directory path too long", out);
	} else {
		if (errno != ENOENT)
			return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot create: %s", out, strerror(errno));
		while (len > 1 && out[len - 1] == '/')
			len--;
		if ((size_t)snprintf(sg->dir, sizeof sg->dir, "%.*s.fleetsim-report-XXXXXX", (int)len, out) >=
		    sizeof sg->dir)
			return fs_fail(err, FS_EXIT_INPUT, "%.200s: output directory path too long", out);
	}
	if (!mkdtemp(sg->dir)) {
		int e = errno;
		sg->dir[0] = '\0';
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot create: %s", out, strerror(e));
	}
	if (!sg->inside) { /* as mkdir(out, 0777) would have made it */
		mode_t m = umask(0);
		umask(m);
		chmod(sg->dir, 0777 & ~m);
	}
	return 0;
}

/* Move (commit) or delete (!commit) every file of the staging directory, then remove
 * it.  Returns 0, or -1 with err when a move fails. */
static int stage_close(stage *sg, const char *out, int commit, fs_err *err)
{
	DIR *dd;
	struct dirent *de;
	char from[4600], to[4600];
	int rc = 0;

	if (!sg->dir[0])
		return 0;
	if (commit && !sg->inside && rename(sg->dir, out) == 0) {
		sg->dir[0] = '\0';
		return 0;
	}
	if (commit && !sg->inside && mkdir(out, 0777) != 0 && errno != EEXIST) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot create: %s", out, strerror(errno));
		commit = 0, rc = -1;
	}
	if ((dd = opendir(sg->dir))) {
		while ((de = readdir(dd))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(from, sizeof from, "%s/%s", sg->dir, de->d_name);
			snprintf(to, sizeof to, "%s/%s", out, de->d_name);
			if (commit && rename(from, to) != 0) {
				fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot move into place: %s", to, strerror(errno));
				commit = 0, rc = -1;
			}
			if (!commit)
				unlink(from);
		}
		closedir(dd);
	}
	rmdir(sg->dir);
	sg->dir[0] = '\0';
	return rc;
}

/* With neither a sweep nor a run asked for, pick the latest sweep, else the latest
 * run, into st.  Returns 0, or -1 with err (FS_EXIT_INPUT for an empty database). */
static int pick_latest(rep *r, report_stats *st, fs_err *err)
{
	int rc = latest(r, "SELECT max(sweep_id) FROM sweeps", 0, &st->sweep_id);

	if (!rc && !st->sweep_id)
		rc = latest(r, "SELECT max(run_id) FROM runs", 0, &st->run_id);
	if (rc < 0)
		return sql_err(r, err, "finding the latest sweep or run");
	if (rc > 0 || st->sweep_id < 0 || st->run_id < 0)
		return bad_db(r, err, "a sweep_id or run_id is not a positive integer");
	if (!st->sweep_id && !st->run_id)
		return fs_fail(err, FS_EXIT_INPUT, "%s: no runs to report", db_path(r->d));
	return 0;
}

/* Every stored fleet quantile of the sweep's runs is a finite number >= 0 at a q in
 * 0..1: checked for all runs up front, as the CDFs read only the few they show and a
 * damaged file must be refused whichever runs those are.  Returns 0, or -1 with err. */
static int check_quantiles(rep *r, int64_t sweep_id, fs_err *err)
{
	sqlite3_stmt *st = NULL;
	int step;

	if (sqlite3_prepare_v2(r->h,
			       "SELECT q.run_id, q.metric FROM quantiles q JOIN sweeps s ON s.run_id = q.run_id"
			       " WHERE s.sweep_id = ?1 AND q.pool = '*' AND q.metric IN ('ttft', 'tpot') AND NOT"
			       " (typeof(q.value_s) IN ('integer', 'real') AND q.value_s >= 0 AND"
			       " q.value_s <= 1.7976931348623157e308 AND typeof(q.q) IN ('integer', 'real') AND"
			       " q.q >= 0 AND q.q <= 1) LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return sql_err(r, err, "reading CDF data");
	sqlite3_bind_int64(st, 1, sweep_id);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		long long rid = sqlite3_column_int64(st, 0);
		char metric[8];
		snprintf(metric, sizeof metric, "%s", (const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
		return bad_db(r, err, "run %lld: a %s quantile is not a finite number >= 0 or its q is not in 0..1",
			      rid, metric);
	}
	if (step != SQLITE_DONE) {
		sql_err(r, err, "reading CDF data");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Load sweep sweep_id's points and draw each metric against each swept parameter.
 * Returns 0, or -1 with err (FS_EXIT_INPUT when no point has finished). */
static int sweep_plots(rep *r, int64_t sweep_id, fs_err *err)
{
	sqlite3_stmt *q = NULL;
	int step;

	if (load_grid(r, sweep_id, err))
		return -1;
	/* Every point of the sweep is in the grid and names a run with fleet metrics. */
	if (sqlite3_prepare_v2(r->h,
			       "SELECT CASE WHEN typeof(s.point) <> 'integer' OR s.point < 0 OR s.point >= ?2"
			       " THEN 1 WHEN typeof(s.run_id) <> 'integer' OR NOT EXISTS"
			       " (SELECT 1 FROM runs r WHERE r.run_id = s.run_id) THEN 2 ELSE 3 END,"
			       " CAST(s.point AS TEXT), CAST(s.run_id AS TEXT) FROM sweeps s WHERE s.sweep_id = ?1 AND"
			       " (typeof(s.point) <> 'integer' OR s.point < 0 OR s.point >= ?2 OR"
			       " typeof(s.run_id) <> 'integer' OR NOT EXISTS (SELECT 1 FROM pool_metrics m"
			       " WHERE m.run_id = s.run_id AND m.pool = '*')) LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return sql_err(r, err, "checking the sweep's points");
	sqlite3_bind_int64(q, 1, sweep_id);
	sqlite3_bind_int64(q, 2, r->npoints);
	if ((step = sqlite3_step(q)) == SQLITE_ROW) {
		char pt[32], run[32];
		int why = sqlite3_column_int(q, 0);
		snprintf(pt, sizeof pt, "%s", sqlite3_column_text(q, 1) ? (const char *)sqlite3_column_text(q, 1) : "NULL");
		snprintf(run, sizeof run, "%s", sqlite3_column_text(q, 2) ? (const char *)sqlite3_column_text(q, 2) : "NULL");
		sqlite3_finalize(q);
		if (why == 1)
			return bad_db(r, err, "sweep %lld: point %s is not in 0..%lld", (long long)sweep_id, pt,
				      (long long)r->npoints - 1);
		if (why == 2)
			return bad_db(r, err, "sweep %lld: point %s names run %s, which is not in runs",
				      (long long)sweep_id, pt, run);
		return bad_db(r, err, "sweep %lld: run %s (point %s) has no fleet-wide pool_metrics row",
			      (long long)sweep_id, run, pt);
	}
	if (step != SQLITE_DONE) {
		sql_err(r, err, "checking the sweep's points");
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	if (load_runs(r, "s.sweep_id = ?1", sweep_id, err))
		return -1;
	for (int i = 0; i < r->nruns; i++)
		if (r->runs[i].point < 0 || r->runs[i].point >= r->npoints)
			return bad_db(r, err, "sweep %lld: point %lld is not in 0..%lld", (long long)sweep_id,
				      (long long)r->runs[i].point, (long long)r->npoints - 1);
	if (!r->nruns)
		return fs_fail(err, FS_EXIT_INPUT, "%s: sweep %lld has no completed points yet", db_path(r->d),
			       (long long)sweep_id);
	if (check_quantiles(r, sweep_id, err) || find_unused(r, err) || check_baseline(r, &(int){0}, err))
		return -1;
	for (int k = 0; k < r->naxes; k++)
		if (plot_vs(r, k, "gpu_hours", "GPU-hours", "GPU-hours", m_gpuh, 0, 0, err) ||
		    plot_vs(r, k, "preemptions_per_request", "Preemptions per request", "preemptions per request",
			    m_ppr, 0, 0, err) ||
		    plot_vs(r, k, "ttft_p99", "TTFT p99", "TTFT p99 (s)", m_ttft, 0, r->slo_ttft, err) ||
		    plot_vs(r, k, "tpot_p99", "TPOT p99", "TPOT p99 (s)", m_tpot, 0, r->slo_tpot, err) ||
		    plot_vs(r, k, "traffic_share", "Traffic share", "share of requests", m_share, 1, 0, err))
			return -1;
	return 0;
}

/* Load run run_id with the other policies of the same `fleetsim run`, and its SLO.
 * Returns 0, or -1 with err (FS_EXIT_INPUT for an unknown run). */
static int load_run_group(rep *r, int64_t run_id, fs_err *err)
{
	sqlite3_stmt *q = NULL;
	int found = 0, valid = 0, step;

	/* params is JSON text in every fleetsim file: check before json_extract, which
	 * fails the whole query on malformed JSON.  The SLO in seconds is params.slo (files
	 * from before SLO units kept only scenario_file.slo, numbers then); a text value
	 * ("2s" as written) is never read as a number. */
	if (sqlite3_prepare_v2(r->h,
			       "SELECT typeof(params) = 'text' AND json_valid(params),"
			       " CASE WHEN typeof(params) = 'text' AND json_valid(params) THEN"
			       " coalesce(json_extract(params, '$.slo.ttft_p99_s'),"
			       " json_extract(params, '$.scenario_file.slo.ttft_p99')) END,"
			       " CASE WHEN typeof(params) = 'text' AND json_valid(params) THEN"
			       " coalesce(json_extract(params, '$.slo.tpot_p99_s'),"
			       " json_extract(params, '$.scenario_file.slo.tpot_p99')) END FROM runs WHERE run_id = ?1",
			       -1, &q, NULL) != SQLITE_OK)
		return sql_err(r, err, "reading the run");
	sqlite3_bind_int64(q, 1, run_id);
	if ((step = sqlite3_step(q)) == SQLITE_ROW) {
		found = 1;
		valid = sqlite3_column_int(q, 0) && col_finite(q, 1) && col_finite(q, 2) &&
			sqlite3_column_type(q, 1) != SQLITE_TEXT && sqlite3_column_type(q, 2) != SQLITE_TEXT;
		r->slo_ttft = col_d(q, 1);
		r->slo_tpot = col_d(q, 2);
	} else if (step != SQLITE_DONE) {
		sql_err(r, err, "reading the run");
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	if (!found)
		return fs_fail(err, FS_EXIT_INPUT, "%s: no run %lld", db_path(r->d), (long long)run_id);
	if (!valid)
		return bad_db(r, err, "run %lld: params is not JSON text or its SLO is not finite",
			      (long long)run_id);
	/* A `fleetsim run` writes each policy as its own run with the same scenario and
	 * start time: report them together so the policies can be compared. */
	if (load_runs(r,
		      "r.sweep_id IS NULL AND EXISTS (SELECT 1 FROM runs o WHERE o.run_id = ?1"
		      " AND o.scenario = r.scenario AND o.started_at = r.started_at"
		      " AND o.sweep_id IS NULL) OR r.run_id = ?1",
		      run_id, err))
		return -1;
	if (!r->nruns)
		return bad_db(r, err, "run %lld has no fleet-wide pool_metrics row", (long long)run_id);
	return 0;
}

/* Bars of each policy's traffic share per pool (pools in order of first appearance,
 * at most 64 policies); nothing when no run has pools.  Returns 0, or -1 with err. */
static int plot_share_bars(rep *r, fs_err *err)
{
	int ncat = 0;
	const char *cats[FS_MAX_POOLS * 4], *sers[64];
	double *vals;

	for (int i = 0; i < r->nruns; i++)
		for (int p = 0; p < r->runs[i].npools; p++) {
			int c;
			for (c = 0; c < ncat; c++)
				if (!strcmp(cats[c], r->runs[i].pools[p]))
					break;
			if (c == ncat && ncat < FS_MAX_POOLS * 4)
				cats[ncat++] = r->runs[i].pools[p];
		}
	vals = malloc((size_t)(ncat * r->nruns + 1) * sizeof *vals);
	if (!vals)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int i = 0; i < r->nruns && i < 64; i++) {
		sers[i] = r->runs[i].policy;
		for (int c = 0; c < ncat; c++) {
			vals[i * ncat + c] = -1;
			for (int p = 0; p < r->runs[i].npools; p++)
				if (!strcmp(cats[c], r->runs[i].pools[p]))
					vals[i * ncat + c] = r->runs[i].share[p];
		}
	}
	if (ncat && plot_bars(r->dir, "traffic_share", "Traffic share per pool", "share of requests", ncat, cats,
			      r->nruns < 64 ? r->nruns : 64, sers, vals, err)) {
		free(vals);
		return -1;
	}
	free(vals);
	if (ncat)
		add_plot(r, "traffic_share");
	return 0;
}

/* Time series of each policy's run with the worst TTFT p99 (the one under most
 * stress).  Returns 0, or -1 with err. */
static int plot_worst_timeseries(rep *r, fs_err *err)
{
	for (int p = 0; p < r->npol; p++) {
		int w = -1;
		char label[96]; /* plot_timeseries keeps 95 characters of the name */
		for (int i = 0; i < r->nruns; i++)
			if (r->runs[i].pol == p && (w < 0 || r->runs[i].ttft_p99 > r->runs[w].ttft_p99))
				w = i;
		if (w < 0)
			continue;
		run_label(r, &r->runs[w], label, sizeof label);
		if (plot_ts(r, &r->runs[w], label, err))
			return -1;
	}
	return 0;
}

/* Free r and everything it owns (runs, axes). */
static void rep_free(rep *r)
{
	for (int i = 0; i < r->nruns; i++)
		free(r->runs[i].point_json);
	free(r->runs);
	for (int k = 0; k < r->naxes; k++) {
		for (int v = 0; r->axes[k].label && v < r->axes[k].nvals; v++)
			free(r->axes[k].label[v]);
		free(r->axes[k].label);
		free(r->axes[k].num);
	}
	free(r);
}

int report_write(db *d, const report_opts *o, report_stats *st, fs_err *err)
{
	rep *r = calloc(1, sizeof *r);
	char title[256];
	int rc = -1;
	stage sg = {0};

	memset(st, 0, sizeof *st);
	if (!r)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	r->d = d;
	r->h = db_sqlite(d);
	r->dir = sg.dir;
	r->baseline_run = o->baseline_run;
	st->sweep_id = o->sweep_id;
	st->run_id = o->run_id;
	if (st->sweep_id <= 0 && st->run_id <= 0 && pick_latest(r, st, err))
		goto out;
	if (stage_open(o->out_dir, &sg, err))
		goto out;
	if (st->sweep_id > 0) {
		r->sweep_id = st->sweep_id;
		if (sweep_plots(r, st->sweep_id, err))
			goto out;
		snprintf(title, sizeof title, "fleetsim sweep %lld", (long long)st->sweep_id);
	} else {
		if (load_run_group(r, st->run_id, err) || check_baseline(r, &(int){0}, err) ||
		    plot_share_bars(r, err))
			goto out;
		snprintf(title, sizeof title, "fleetsim run %lld", (long long)st->run_id);
	}
	if (plot_cdf(r, "ttft", "TTFT", err) || plot_cdf(r, "tpot", "TPOT", err) ||
	    plot_worst_timeseries(r, err) || write_index(r, title, st, err) ||
	    stage_close(&sg, o->out_dir, 1, err))
		goto out;
	/* The index as the caller will find it, not where it was drawn. */
	snprintf(st->index_path, sizeof st->index_path, "%s/index.html", o->out_dir);
	st->nruns = r->nruns;
	st->nplots = r->nplots;
	rc = 0;
out:
	stage_close(&sg, o->out_dir, 0, NULL);
	rep_free(r);
	return rc;
}
