/*
 * sweep.c - parameter grids, point evaluation, the thread pool + single writer, the
 * MPI coordinator/worker loop, and resume.  See sweep.h for the contract.
 */
#include "reports/sweep.h"

#include <cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef FLEETSIM_HAVE_MPI
#include <mpi.h>
#endif

#include "reports/db.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "util/numparse.h"
#include "util/yamlutil.h"

/* ---------------------------------------------------------------- grids */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void free_vals(char **v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int push_val(char ***vals, int *n, int *cap, const char *s, size_t len)
{
	char *c;

	if (*n >= SWEEP_MAX_VALUES)
		return -1;
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 8;
		char **nv = realloc(*vals, (size_t)nc * sizeof *nv);
		if (!nv)
			return -1;
		*vals = nv;
		*cap = nc;
	}
	if (!(c = strndup(s, len)))
		return -1;
	(*vals)[(*n)++] = c;
	return 0;
}

static int is_int(double v)
{
	return fabs(v) < 9e15 && v == floor(v);
}

static void fmt_num(char *buf, size_t cap, double v, int integral)
{
	if (integral)
		snprintf(buf, cap, "%lld", (long long)llround(v));
	else
		snprintf(buf, cap, "%.12g", v);
}

/* "A:B:xF" or "A:B:+D"; returns 1 if spec is a range (parsed or failed), 0 if not. */
static int parse_range(const char *spec, char ***vals, int *n, int *cap, int *rc, fs_err *err)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	double a, b, step;
	int mult, integral;
	char buf[64];

	if (!c1)
		return 0;
	*rc = -1;
	if (!c2 || strchr(c2 + 1, ':') || (c2[1] != 'x' && c2[1] != '+') ||
	    np_double(spec, (size_t)(c1 - spec), &a) || np_double(c1 + 1, (size_t)(c2 - c1 - 1), &b) ||
	    np_double(c2 + 2, (size_t)-1, &step) || !isfinite(a) || !isfinite(b) || !isfinite(step)) {
		fs_fail(err, FS_EXIT_INPUT,
			"sweep range '%s': expected START:STOP:xFACTOR or START:STOP:+STEP (e.g. 512:16384:x2, 0.1:1.0:+0.1)",
			spec);
		return 1;
	}
	mult = c2[1] == 'x';
	if (b < a) {
		fs_fail(err, FS_EXIT_INPUT, "sweep range '%s': stop %g is below start %g", spec, b, a);
		return 1;
	}
	if (mult && (step <= 1 || a <= 0)) {
		fs_fail(err, FS_EXIT_INPUT, "sweep range '%s': a xFACTOR range needs factor > 1 and start > 0",
			spec);
		return 1;
	}
	if (!mult && step <= 0) {
		fs_fail(err, FS_EXIT_INPUT, "sweep range '%s': a +STEP range needs step > 0", spec);
		return 1;
	}
	integral = is_int(a) && is_int(step);
	/* Values come from A and the index, not by accumulation, so 0.1:1.0:+0.1 ends at
	 * exactly 1 and does not drift; the tolerance admits a STOP hit up to rounding. */
	for (int i = 0;; i++) {
		double v = mult ? a * pow(step, i) : a + i * step;
		if (v > b + fabs(b) * 1e-9 + (mult ? 0 : step * 1e-9))
			break;
		fmt_num(buf, sizeof buf, v, integral);
		if (push_val(vals, n, cap, buf, strlen(buf))) {
			fs_fail(err, FS_EXIT_INPUT, "sweep range '%s': more than %d values (or out of memory)",
				spec, SWEEP_MAX_VALUES);
			return 1;
		}
	}
	*rc = 0;
	return 1;
}

int sweep_parse_values(const char *spec, char ***vals, int *n, fs_err *err)
{
	char **v = NULL;
	int nv = 0, cap = 0, rc = 0;
	const char *p;

	*vals = NULL;
	*n = 0;
	if (!spec || !*spec)
		return fs_fail(err, FS_EXIT_INPUT, "sweep values are empty");
	if (parse_range(spec, &v, &nv, &cap, &rc, err)) {
		if (rc) {
			free_vals(v, nv);
			return -1;
		}
	} else {
		for (p = spec;;) {
			const char *e = strchr(p, ',');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			while (len && (*p == ' ' || *p == '\t'))
				p++, len--;
			while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
				len--;
			if (!len) {
				free_vals(v, nv);
				return fs_fail(err, FS_EXIT_INPUT, "sweep values '%s': empty value in the list", spec);
			}
			if (push_val(&v, &nv, &cap, p, len)) {
				free_vals(v, nv);
				return fs_fail(err, FS_EXIT_INPUT, "sweep values '%s': too many values or out of memory",
					       spec);
			}
			if (!e)
				break;
			p = e + 1;
		}
	}
	*vals = v;
	*n = nv;
	return 0;
}

static int recount(sweep_grid *g, fs_err *err)
{
	int64_t n = 1;

	for (int i = 0; i < g->nparams; i++) {
		n *= g->params[i].nvals;
		if (n > SWEEP_MAX_POINTS)
			return fs_fail(err, FS_EXIT_INPUT, "sweep has more than %d points", SWEEP_MAX_POINTS);
	}
	g->npoints = n;
	return 0;
}

static int grid_set(sweep_grid *g, const char *key, size_t klen, char **vals, int n, fs_err *err)
{
	int i;

	if (klen == 0 || klen >= sizeof g->params[0].key) {
		free_vals(vals, n);
		return fs_fail(err, FS_EXIT_INPUT, "sweep parameter key '%.*s' is empty or too long",
			       (int)(klen > 200 ? 200 : klen), key);
	}
	for (i = 0; i < g->nparams; i++)
		if (strlen(g->params[i].key) == klen && !strncmp(g->params[i].key, key, klen))
			break;
	if (i == g->nparams) {
		if (g->nparams == SWEEP_MAX_PARAMS) {
			free_vals(vals, n);
			return fs_fail(err, FS_EXIT_INPUT, "sweep has more than %d parameters", SWEEP_MAX_PARAMS);
		}
		memcpy(g->params[i].key, key, klen);
		g->params[i].key[klen] = '\0';
		g->nparams++;
	} else {
		free_vals(g->params[i].vals, g->params[i].nvals);
	}
	g->params[i].vals = vals;
	g->params[i].nvals = n;
	return recount(g, err);
}

int sweep_grid_add(sweep_grid *g, const char *assignment, fs_err *err)
{
	const char *eq = assignment ? strchr(assignment, '=') : NULL;
	char **vals;
	int n;

	if (!eq || eq == assignment)
		return fs_fail(err, FS_EXIT_INPUT,
			       "--param '%s': expected key.path=v1,v2,... or key.path=START:STOP:xF|+D",
			       assignment ? assignment : "");
	if (sweep_parse_values(eq + 1, &vals, &n, err))
		return fs_failp(err, "--param %.*s: ", (int)(eq - assignment), assignment);
	return grid_set(g, assignment, (size_t)(eq - assignment), vals, n, err);
}

static int scalar_text(const char *path, struct fy_node *n, char *buf, size_t cap, fs_err *err)
{
	if (yu_str(path, n, buf, cap, err))
		return -1;
	return 0;
}

int sweep_read_scenario(const char *path, char **text, size_t *len, fs_err *err)
{
	return yu_read_file(path, text, len, err);
}

int sweep_grid_from_file(sweep_grid *g, const char *path, fs_err *err)
{
	char *text;
	size_t len;
	int rc;

	if (sweep_read_scenario(path, &text, &len, err))
		return -1;
	rc = sweep_grid_from_text(g, path, text, len, err);
	free(text);
	return rc;
}

int sweep_grid_from_text(sweep_grid *g, const char *path, const char *text, size_t len, fs_err *err)
{
	struct fy_document *doc = NULL;
	struct fy_node *root, *sw;
	struct fy_node_pair *pair;
	void *it = NULL;
	int rc = -1;

	if (yu_load_string(path, text, len, &doc, err))
		return -1;
	root = fy_document_root(doc);
	sw = yu_get(root, "sweep");
	if (!sw) {
		rc = 0;
		goto out;
	}
	if (yu_expect_map(path, sw, "sweep", err))
		goto out;
	while ((pair = fy_node_mapping_iterate(sw, &it))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char key[256], text[4096];
		char **vals = NULL;
		int nv = 0, cap = 0;
		if (scalar_text(path, k, key, sizeof key, err))
			goto out;
		if (v && fy_node_is_sequence(v)) {
			void *it2 = NULL;
			struct fy_node *e;
			while ((e = fy_node_sequence_iterate(v, &it2))) {
				if (scalar_text(path, e, text, sizeof text, err) ||
				    push_val(&vals, &nv, &cap, text, strlen(text))) {
					free_vals(vals, nv);
					if (!err || !err->msg[0])
						yu_errf(err, path, e, "sweep: %s: too many values", key);
					goto out;
				}
			}
			if (nv == 0) {
				yu_errf(err, path, v, "sweep: %s: empty list of values", key);
				goto out;
			}
		} else {
			if (!v || scalar_text(path, v, text, sizeof text, err))
				goto out;
			if (sweep_parse_values(text, &vals, &nv, err)) {
				int line, col;
				yu_pos(v, &line, &col);
				fs_failp(err, "%s:%d:%d: sweep: %s: ", path, line, col, key);
				goto out;
			}
		}
		if (grid_set(g, key, strlen(key), vals, nv, err))
			goto out;
	}
	rc = 0;
out:
	fy_document_destroy(doc);
	return rc;
}

void sweep_grid_free(sweep_grid *g)
{
	for (int i = 0; i < g->nparams; i++)
		free_vals(g->params[i].vals, g->params[i].nvals);
	memset(g, 0, sizeof *g);
	g->npoints = 1;
}

/* Value index of axis k for point idx: row-major, the last axis fastest. */
static int axis_index(const sweep_grid *g, int64_t idx, int k)
{
	for (int j = g->nparams - 1; j > k; j--)
		idx /= g->params[j].nvals;
	return (int)(idx % g->params[k].nvals);
}

int sweep_point_sets(const sweep_grid *g, int64_t idx, const char **sets, char **buf)
{
	size_t need = 1, off = 0;
	char *b;

	*buf = NULL;
	if (idx < 0 || idx >= (g->nparams ? g->npoints : 1))
		return -1;
	for (int k = 0; k < g->nparams; k++)
		need += strlen(g->params[k].key) + strlen(g->params[k].vals[axis_index(g, idx, k)]) + 2;
	if (!(b = malloc(need)))
		return -1;
	for (int k = 0; k < g->nparams; k++) {
		const char *v = g->params[k].vals[axis_index(g, idx, k)];
		sets[k] = b + off;
		off += (size_t)sprintf(b + off, "%s=%s", g->params[k].key, v) + 1;
	}
	*buf = b;
	return 0;
}

static cJSON *typed_value(const char *v)
{
	double d;
	int bv;

	if (!np_double(v, (size_t)-1, &d) && isfinite(d))
		return cJSON_CreateNumber(d);
	if (!np_bool(v, (size_t)-1, &bv))
		return cJSON_CreateBool(bv);
	return cJSON_CreateString(v);
}

char *sweep_point_json(const sweep_grid *g, int64_t idx)
{
	cJSON *o;
	char *s;

	if (idx < 0 || idx >= (g->nparams ? g->npoints : 1) || !(o = cJSON_CreateObject()))
		return NULL;
	for (int k = 0; k < g->nparams; k++)
		cJSON_AddItemToObject(o, g->params[k].key, typed_value(g->params[k].vals[axis_index(g, idx, k)]));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---------------------------------------------------------------- outcomes */

double sweep_quantile_q(int k)
{
	if (k <= 100)
		return k / 100.0;
	return k == 101 ? 0.995 : 0.999;
}

void sweep_outcome_free(sweep_outcome *o)
{
	if (!o)
		return;
	for (int i = 0; o->runs && i < o->nruns; i++)
		results_record_free(&o->runs[i].rec);
	free(o->runs);
	memset(o, 0, sizeof *o);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Fleet-wide quantiles of the requests' TTFT (which = 0) or TPOT (which = 1). */
static int fill_quantiles(const metrics *mx, int which, double *q)
{
	double *v;
	size_t m = 0;

	if (metrics_values(mx, -1, which ? MX_TPOT : MX_TTFT, &v, &m))
		return -1;
	qsort(v, m, sizeof *v, cmp_dbl);
	for (int k = 0; k < SWEEP_NQ; k++) {
		/* Linear interpolation between order statistics (type 7, as metrics_quantile). */
		double pos = sweep_quantile_q(k) * (double)(m ? m - 1 : 0);
		size_t lo = (size_t)pos;
		if (!m)
			q[k] = -1;
		else if (lo + 1 >= m)
			q[k] = v[m - 1];
		else
			q[k] = v[lo] + (pos - (double)lo) * (v[lo + 1] - v[lo]);
	}
	free(v);
	return 0;
}

static int fill_run(const scenario *sc, const runner_result *r, const char *point_json,
		    int with_requests, sweep_run_out *o, fs_err *err)
{
	mx_verdict v;

	if (results_record_init(sc, r, point_json, with_requests, &o->rec, err) ||
	    results_record_own(&o->rec, err))
		return -1;
	if (fill_quantiles(r->m, 0, o->ttft_q) || fill_quantiles(r->m, 1, o->tpot_q))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	if (runner_slo_verdict(sc, r, -1, &v))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	o->meets_slo = v.pass;
	return 0;
}

/* Load point idx's scenario: base sets, then the point's, on a copy of the document
 * parsed once (c->scenario_src, which sweep_run sets before any point loads). */
static int load_point(const sweep_cfg *c, int64_t idx, scenario **sc, fs_err *err)
{
	const char **sets = calloc((size_t)c->nsets + SWEEP_MAX_PARAMS + 1, sizeof *sets);
	char *buf = NULL;
	int rc = -1;

	*sc = NULL;
	if (!sets)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int i = 0; i < c->nsets; i++)
		sets[i] = c->sets[i];
	if (sweep_point_sets(c->grid, idx, sets + c->nsets, &buf)) {
		fs_fail(err, FS_EXIT_RUNTIME, "sweep point %lld out of range or out of memory", (long long)idx);
		goto out;
	}
	if (scenario_src_load(c->scenario_src, sets, c->nsets + c->grid->nparams, sc, err)) {
		char *pj = sweep_point_json(c->grid, idx);
		fs_failp(err, "sweep point %lld %s: ", (long long)idx, pj ? pj : "");
		free(pj);
		goto out;
	}
	if (c->seed >= 0)
		(*sc)->seed = (uint64_t)c->seed;
	rc = 0;
out:
	free(buf);
	free(sets);
	return rc;
}

int sweep_eval_point(const sweep_cfg *c, int64_t idx, sweep_outcome *out, fs_err *err)
{
	scenario *sc = NULL;
	char *pj = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	out->point = idx;
	if (load_point(c, idx, &sc, err))
		return -1;
	pj = sweep_point_json(c->grid, idx);
	out->runs = calloc((size_t)sc->npolicies + 1, sizeof *out->runs);
	if (!pj || !out->runs) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	for (int i = 0; i < sc->npolicies; i++) {
		runner_opts ro = {.with_requests = c->with_requests};
		runner_result r;
		if (runner_run_policy(sc, i, &ro, &r, err)) {
			fs_failp(err, "sweep point %lld %s: ", (long long)idx, pj);
			goto out;
		}
		out->nruns++;
		if (fill_run(sc, &r, pj, c->with_requests, &out->runs[i], err)) {
			runner_result_free(&r);
			goto out;
		}
		runner_result_free(&r);
	}
	rc = 0;
out:
	if (rc)
		sweep_outcome_free(out);
	free(pj);
	scenario_free(sc);
	return rc;
}

/* ---------------------------------------------------------------- pack / unpack */

typedef struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int bad;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		unsigned char *np;
		while (nc < b->len + n)
			nc *= 2;
		if (!(np = realloc(b->p, nc))) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	if (n)
		memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void put_u64(wbuf *b, uint64_t v)
{
	put(b, &v, sizeof v);
}

static void put_str(wbuf *b, const char *s)
{
	uint64_t n = s ? strlen(s) : 0;
	put_u64(b, n);
	put(b, s, n);
}

int sweep_outcome_pack(const sweep_outcome *o, void **buf, size_t *len, fs_err *err)
{
	wbuf b = {0};

	put(&b, "FSW3", 4);
	put_u64(&b, (uint64_t)o->point);
	put_u64(&b, (uint64_t)o->nruns);
	for (int i = 0; i < o->nruns; i++) {
		const sweep_run_out *r = &o->runs[i];
		const results_record *rec = &r->rec;
		put_str(&b, rec->scenario);
		put_str(&b, rec->policy);
		put_u64(&b, rec->seed);
		put_str(&b, rec->params_json);
		put_u64(&b, (uint64_t)rec->npools);
		put(&b, rec->rows, (size_t)(rec->npools + 1) * sizeof *rec->rows);
		put(&b, rec->pool_names, (size_t)rec->npools * sizeof *rec->pool_names);
		put_u64(&b, rec->nts);
		put(&b, rec->ts, rec->nts * sizeof *rec->ts);
		put_u64(&b, rec->nreq);
		put(&b, rec->req, rec->nreq * sizeof *rec->req);
		put(&b, &rec->wall_s, sizeof rec->wall_s);
		put(&b, r->ttft_q, sizeof r->ttft_q);
		put(&b, r->tpot_q, sizeof r->tpot_q);
		put_u64(&b, (uint64_t)r->meets_slo);
		put_u64(&b, (uint64_t)rec->ncats);
		for (int c = 0; c < rec->ncats; c++)
			put_str(&b, rec->cat_names[c]);
		put_u64(&b, (uint64_t)rec->ncat_rows);
		put(&b, rec->cat_rows, (size_t)rec->ncat_rows * sizeof *rec->cat_rows);
	}
	if (b.bad) {
		free(b.p);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory packing sweep point %lld",
			       (long long)o->point);
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

typedef struct rbuf {
	const unsigned char *p;
	size_t len, off;
	int bad;
} rbuf;

static int get(rbuf *b, void *dst, size_t n)
{
	if (b->bad || n > b->len - b->off) {
		b->bad = 1;
		return -1;
	}
	memcpy(dst, b->p + b->off, n);
	b->off += n;
	return 0;
}

static uint64_t get_u64(rbuf *b)
{
	uint64_t v = 0;
	get(b, &v, sizeof v);
	return v;
}

/* A malloc'd array of n elements of size sz read from b (n bounded by what is left). */
static void *get_arr(rbuf *b, uint64_t n, size_t sz)
{
	void *p;

	if (b->bad || (sz && n > (b->len - b->off) / sz)) {
		b->bad = 1;
		return NULL;
	}
	if (!(p = malloc((size_t)n * sz + 1))) {
		b->bad = 1;
		return NULL;
	}
	get(b, p, (size_t)n * sz);
	return p;
}

static char *get_str(rbuf *b)
{
	uint64_t n = get_u64(b);
	char *s = get_arr(b, n, 1);
	if (s)
		s[n] = '\0';
	return s;
}

/* A length-prefixed string into out[cap], truncated as snprintf would. */
static void get_name(rbuf *b, char *out, size_t cap)
{
	char *s = get_str(b);

	out[0] = '\0';
	if (s)
		snprintf(out, cap, "%s", s);
	free(s);
}

int sweep_outcome_unpack(const void *buf, size_t len, sweep_outcome *o, fs_err *err)
{
	rbuf b = {buf, len, 0, 0};
	char magic[4];
	uint64_t n;

	memset(o, 0, sizeof *o);
	if (get(&b, magic, 4) || memcmp(magic, "FSW3", 4))
		goto bad;
	o->point = (int64_t)get_u64(&b);
	n = get_u64(&b);
	if (b.bad || n > SCENARIO_MAX_POLICIES)
		goto bad;
	if (!(o->runs = calloc((size_t)n + 1, sizeof *o->runs)))
		goto bad;
	for (uint64_t i = 0; i < n && !b.bad; i++) {
		sweep_run_out *r = &o->runs[i];
		results_record *rec = &r->rec;
		uint64_t np;
		o->nruns++;
		get_name(&b, rec->scenario, sizeof rec->scenario);
		get_name(&b, rec->policy, sizeof rec->policy);
		rec->seed = get_u64(&b);
		rec->params_json = get_str(&b);
		np = get_u64(&b);
		if (b.bad || np > FS_MAX_POOLS)
			goto bad;
		rec->npools = (int)np;
		get(&b, rec->rows, (size_t)(np + 1) * sizeof *rec->rows);
		get(&b, rec->pool_names, (size_t)np * sizeof *rec->pool_names);
		rec->nts = get_u64(&b);
		rec->ts = rec->own_ts = get_arr(&b, rec->nts, sizeof *rec->ts);
		rec->nreq = get_u64(&b);
		rec->req = rec->own_req = get_arr(&b, rec->nreq, sizeof *rec->req);
		get(&b, &rec->wall_s, sizeof rec->wall_s);
		get(&b, r->ttft_q, sizeof r->ttft_q);
		get(&b, r->tpot_q, sizeof r->tpot_q);
		r->meets_slo = (int)get_u64(&b);
		{
			/* Workload categories (names, then the summaries of the first ones). */
			uint64_t nc = get_u64(&b), nr;
			if (b.bad || nc > ((uint64_t)1 << 20))
				goto bad;
			if (nc && !(rec->cat_names = calloc((size_t)nc, sizeof *rec->cat_names)))
				goto bad;
			for (uint64_t c = 0; c < nc && !b.bad; c++) {
				rec->cat_names[c] = get_str(&b);
				rec->ncats++;
			}
			nr = get_u64(&b);
			if (b.bad || nr > (uint64_t)rec->ncats)
				goto bad;
			rec->ncat_rows = (int)nr;
			rec->cat_rows = get_arr(&b, nr, sizeof *rec->cat_rows);
		}
		for (uint64_t p = 0; !b.bad && p < np; p++)
			rec->pool_names[p][sizeof rec->pool_names[p] - 1] = '\0';
	}
	if (b.bad || b.off != b.len || !o->runs)
		goto bad;
	return 0;
bad:
	sweep_outcome_free(o);
	return fs_fail(err, FS_EXIT_RUNTIME, "corrupt sweep result message (%zu bytes)", len);
}

/* ---------------------------------------------------------------- identity */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

/* FNV-1a of a file's bytes (16 hex digits into hex[17]). */
static int file_hash(const char *path, char hex[17], fs_err *err)
{
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned char buf[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot read: %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		h = fnv(h, buf, n);
	if (ferror(f)) {
		fclose(f);
		return fs_fail(err, FS_EXIT_INPUT, "%s: read error", path);
	}
	fclose(f);
	snprintf(hex, 17, "%016llx", (unsigned long long)h);
	return 0;
}

void sweep_inputs_free(sweep_inputs *in)
{
	for (int i = 0; in && i < in->n; i++)
		free(in->path[i]);
	if (in) {
		free(in->path);
		free(in->hash);
		memset(in, 0, sizeof *in);
	}
}

int sweep_inputs_add(sweep_inputs *in, const char *path, fs_err *err)
{
	int i;

	for (i = 0; i < in->n; i++)
		if (!strcmp(in->path[i], path))
			return 0;
	if (in->n == in->cap) {
		int nc = in->cap ? in->cap * 2 : 8;
		char **np = realloc(in->path, (size_t)nc * sizeof *np);
		char (*nh)[17];
		if (!np)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		in->path = np;
		if (!(nh = realloc(in->hash, (size_t)nc * sizeof *nh)))
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		in->hash = nh;
		in->cap = nc;
	}
	/* Keep the list sorted so the hash does not depend on the order points list them. */
	for (i = in->n; i > 0 && strcmp(in->path[i - 1], path) > 0; i--) {
		in->path[i] = in->path[i - 1];
		memcpy(in->hash[i], in->hash[i - 1], 17);
	}
	if (!(in->path[i] = strdup(path))) {
		memmove(&in->path[i], &in->path[i + 1], (size_t)(in->n - i) * sizeof *in->path);
		memmove(&in->hash[i], &in->hash[i + 1], (size_t)(in->n - i) * sizeof *in->hash);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	in->n++;
	return file_hash(path, in->hash[i], err);
}

/* The hash of sweeps written before referenced files counted: the scenario text,
 * base sets, axes, seed and --requests. */
static uint64_t hash_legacy(const sweep_cfg *c, const char *text, size_t len)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, text, len);
	char num[64];

	for (int i = 0; i < c->nsets; i++)
		h = fnv(h, c->sets[i], strlen(c->sets[i]) + 1);
	h = fnv(h, "|grid|", 6);
	for (int k = 0; k < c->grid->nparams; k++) {
		const sweep_param *p = &c->grid->params[k];
		h = fnv(h, p->key, strlen(p->key) + 1);
		for (int v = 0; v < p->nvals; v++)
			h = fnv(h, p->vals[v], strlen(p->vals[v]) + 1);
		h = fnv(h, "\n", 1);
	}
	snprintf(num, sizeof num, "seed=%lld req=%d", (long long)c->seed, c->with_requests);
	return fnv(h, num, strlen(num));
}

/* The scenario text: c's snapshot, else the file read now (*owned, caller frees). */
static int scenario_text(const sweep_cfg *c, const char **text, size_t *len, char **owned, fs_err *err)
{
	*owned = NULL;
	if (c->scenario_text) {
		*text = c->scenario_text;
		*len = c->scenario_len;
		return 0;
	}
	if (sweep_read_scenario(c->scenario_path, owned, len, err))
		return -1;
	*text = *owned;
	return 0;
}

int sweep_hash(const sweep_cfg *c, const sweep_inputs *in, char hash[17], fs_err *err)
{
	const char *text;
	char *owned;
	size_t len;
	uint64_t h;

	if (scenario_text(c, &text, &len, &owned, err))
		return -1;
	h = hash_legacy(c, text, len);
	free(owned);
	/* Then each file the scenario references (sorted path, its content hash); with none
	 * (catalog model and GPUs, synthetic workload) the hash is the legacy one. */
	if (in && in->n) {
		h = fnv(h, "|inputs|", 8);
		for (int i = 0; i < in->n; i++) {
			h = fnv(h, in->path[i], strlen(in->path[i]) + 1);
			h = fnv(h, in->hash[i], 17);
		}
	}
	snprintf(hash, 17, "%016llx", (unsigned long long)h);
	return 0;
}

/* Every file point idx's scenario references, added to in. */
static int point_inputs(const scenario *sc, sweep_inputs *in, fs_err *err)
{
	char **paths = NULL;
	int n = 0, rc = 0;

	if (scenario_input_files(sc, &paths, &n))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int i = 0; i < n; i++) {
		if (!rc && sweep_inputs_add(in, paths[i], err))
			rc = -1;
		free(paths[i]);
	}
	free(paths);
	return rc;
}

static char *grid_json(const sweep_cfg *c, const scenario *sc, const char *hash,
		       const char *scenario_hash, const sweep_inputs *in)
{
	cJSON *o = cJSON_CreateObject(), *params, *sets, *slo, *inputs;
	char *s;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "scenario_path", c->scenario_path);
	cJSON_AddStringToObject(o, "grid_hash", hash);
	sets = cJSON_AddArrayToObject(o, "sets");
	for (int i = 0; i < c->nsets; i++)
		cJSON_AddItemToArray(sets, cJSON_CreateString(c->sets[i]));
	params = cJSON_AddArrayToObject(o, "params");
	for (int k = 0; k < c->grid->nparams; k++) {
		cJSON *p = cJSON_CreateObject(), *vals = cJSON_AddArrayToObject(p, "values");
		cJSON_AddStringToObject(p, "key", c->grid->params[k].key);
		for (int v = 0; v < c->grid->params[k].nvals; v++)
			cJSON_AddItemToArray(vals, typed_value(c->grid->params[k].vals[v]));
		cJSON_AddItemToArray(params, p);
	}
	cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
	cJSON_AddBoolToObject(o, "requests", c->with_requests);
	/* What --resume compares to name a changed file: the scenario, then each file it
	 * references, with the FNV-1a hash of its bytes. */
	inputs = cJSON_AddArrayToObject(o, "inputs");
	for (int i = -1; i < (in ? in->n : 0); i++) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", i < 0 ? c->scenario_path : in->path[i]);
		cJSON_AddStringToObject(f, "fnv", i < 0 ? scenario_hash : in->hash[i]);
		cJSON_AddItemToArray(inputs, f);
	}
	slo = cJSON_AddObjectToObject(o, "slo");
	if (sc->slo.ttft_p99_s > 0)
		cJSON_AddNumberToObject(slo, "ttft_p99_s", sc->slo.ttft_p99_s);
	if (sc->slo.tpot_p99_s > 0)
		cJSON_AddNumberToObject(slo, "tpot_p99_s", sc->slo.tpot_p99_s);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* ---------------------------------------------------------------- writer */

typedef struct writer {
	db *d;
	const sweep_cfg *c;
	int64_t sweep_id, total, done, skipped, runs;
	double t0, best;
	char best_desc[400];
} writer;

/* Store one point: its runs, their quantiles and the sweeps links, one transaction.
 * A point already in the file (another process ran it) is dropped, not stored twice.
 * *stored says whether this call stored it. */
static int write_once(writer *w, const sweep_outcome *o, const char *pj, int *stored, fs_err *err)
{
	double best = w->best;
	char best_desc[sizeof w->best_desc];
	int dup = 0;

	*stored = 0;
	memcpy(best_desc, w->best_desc, sizeof best_desc);
	if (db_begin(w->d, err))
		return -1;
	if (db_sweep_point_stored(w->d, w->sweep_id, o->point, &dup, err))
		goto fail;
	if (dup) {
		db_rollback(w->d);
		return 0;
	}
	for (int i = 0; i < o->nruns; i++) {
		const sweep_run_out *r = &o->runs[i];
		double q[SWEEP_NQ];
		int64_t rid;
		for (int k = 0; k < SWEEP_NQ; k++)
			q[k] = sweep_quantile_q(k);
		if (results_record_write(w->d, &r->rec, time(NULL), w->sweep_id, &rid, err) ||
		    db_write_quantiles(w->d, rid, "*", "ttft", q, r->ttft_q, SWEEP_NQ, err) ||
		    db_write_quantiles(w->d, rid, "*", "tpot", q, r->tpot_q, SWEEP_NQ, err) ||
		    db_sweep_link(w->d, w->sweep_id, o->point, r->rec.policy, rid, pj, err))
			goto fail;
		if (r->meets_slo && r->rec.rows[0].gpu_hours < best) {
			best = r->rec.rows[0].gpu_hours;
			snprintf(best_desc, sizeof best_desc, "%.100s @ %.200s: %.3g GPU-h", r->rec.policy, pj,
				 r->rec.rows[0].gpu_hours);
		}
	}
	if (db_commit(w->d, err))
		goto fail;
	w->best = best;
	memcpy(w->best_desc, best_desc, sizeof best_desc);
	*stored = 1;
	return 0;
fail:
	db_rollback(w->d);
	return -1;
}

static int write_outcome(writer *w, const sweep_outcome *o, fs_err *err)
{
	char *pj = sweep_point_json(w->c->grid, o->point);
	double t0 = 0;
	int stored = 0;

	if (!pj)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	/* A computed point must not be lost to a busy database: retry while busy. */
	for (int attempt = 0; write_once(w, o, pj, &stored, err); attempt++) {
		if (!db_retry_busy(w->d, attempt, &t0))
			goto fail;
		fs_err_clear(err);
	}
	if (stored)
		w->runs += o->nruns;
	w->done++;
	free(pj);
	if (w->c->progress) {
		double el = now_s() - w->t0;
		sweep_progress p = {w->done, w->total, w->skipped, el,
				    w->done ? el / (double)w->done * (double)(w->total - w->done) : -1,
				    w->best_desc[0] ? w->best_desc : NULL};
		w->c->progress(w->c->progress_ctx, &p);
	}
	return 0;
fail:
	fs_failp(err, "sweep point %lld: ", (long long)o->point);
	free(pj);
	return -1;
}

/* ---------------------------------------------------------------- thread pool */

typedef struct qitem {
	sweep_outcome o;
	struct qitem *next;
} qitem;

typedef struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const sweep_cfg *c;
	const int64_t *todo;
	int64_t ntodo, next;
	qitem *head, *tail;
	int running;     /* worker threads not yet finished */
	int stop;        /* writer failed or a worker failed: hand out no more points */
	fs_err err;      /* first worker failure */
	int failed;
} pool;

static void *worker_main(void *arg)
{
	pool *p = arg;

	for (;;) {
		int64_t idx;
		qitem *it;
		fs_err e = {0};
		pthread_mutex_lock(&p->mu);
		if (p->stop || p->next >= p->ntodo) {
			p->running--;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		idx = p->todo[p->next++];
		pthread_mutex_unlock(&p->mu);

		it = calloc(1, sizeof *it);
		if (!it)
			fs_fail(&e, FS_EXIT_RUNTIME, "out of memory");
		if (!it || sweep_eval_point(p->c, idx, &it->o, &e)) {
			free(it);
			pthread_mutex_lock(&p->mu);
			if (!p->failed) {
				p->err = e;
				p->failed = 1;
			}
			p->stop = 1;
			p->running--;
			pthread_cond_broadcast(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_lock(&p->mu);
		if (p->tail)
			p->tail->next = it;
		else
			p->head = it;
		p->tail = it;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

static int run_threads(const sweep_cfg *c, writer *w, const int64_t *todo, int64_t ntodo, fs_err *err)
{
	pool p = {.c = c, .todo = todo, .ntodo = ntodo};
	pthread_t *th;
	int nth = c->jobs < 1 ? 1 : c->jobs, started = 0, rc = 0;

	if (nth > ntodo)
		nth = ntodo > 0 ? (int)ntodo : 1;
	th = calloc((size_t)nth, sizeof *th);
	if (!th)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	pthread_mutex_lock(&p.mu);
	for (int i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, worker_main, &p))
			break;
		started++;
		p.running++;
	}
	if (!started) {
		pthread_mutex_unlock(&p.mu);
		rc = fs_fail(err, FS_EXIT_RUNTIME, "cannot start worker threads");
		goto out;
	}
	/* This thread is the single writer: SQLite sees one connection, one thread. */
	for (;;) {
		qitem *it;
		while (!p.head && p.running > 0)
			pthread_cond_wait(&p.cv, &p.mu);
		if (!p.head)
			break;
		it = p.head;
		p.head = it->next;
		if (!p.head)
			p.tail = NULL;
		pthread_mutex_unlock(&p.mu);
		if (!rc && write_outcome(w, &it->o, err)) {
			rc = -1;
			pthread_mutex_lock(&p.mu);
			p.stop = 1;
			pthread_mutex_unlock(&p.mu);
		}
		sweep_outcome_free(&it->o);
		free(it);
		pthread_mutex_lock(&p.mu);
	}
	pthread_mutex_unlock(&p.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (!rc && p.failed) {
		*err = p.err;
		rc = -1;
	}
out:
	pthread_cond_destroy(&p.cv);
	pthread_mutex_destroy(&p.mu);
	free(th);
	return rc;
}

/* ---------------------------------------------------------------- MPI */

int sweep_mpi_launched(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
					   "SLURM_NTASKS", "MPI_LOCALNRANKS", NULL};
	for (int i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		int64_t n;
		/* SLURM_NTASKS is set for batch scripts too; only count it under srun. */
		if (i == 3 && !getenv("SLURM_STEP_ID"))
			continue;
		if (v && !np_i64(v, (size_t)-1, &n) && n > 1)
			return 1;
	}
	return 0;
}

#ifdef FLEETSIM_HAVE_MPI
enum { TAG_READY = 1, TAG_RESULT, TAG_ERROR, TAG_WORK, TAG_STOP };

static int mpi_worker(const sweep_cfg *c)
{
	int64_t idx = 0;
	MPI_Status st;

	MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
	for (;;) {
		sweep_outcome o;
		fs_err e = {0};
		void *buf = NULL;
		size_t len = 0;
		MPI_Recv(&idx, 1, MPI_INT64_T, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		if (st.MPI_TAG == TAG_STOP)
			return 0;
		if (sweep_eval_point(c, idx, &o, &e) || sweep_outcome_pack(&o, &buf, &len, &e)) {
			sweep_outcome_free(&o);
			MPI_Send(e.msg, (int)strlen(e.msg) + 1, MPI_CHAR, 0, TAG_ERROR, MPI_COMM_WORLD);
			continue; /* the coordinator answers with STOP and reports the error */
		}
		sweep_outcome_free(&o);
		if (len > (size_t)INT32_MAX) {
			free(buf);
			fs_fail(&e, FS_EXIT_RUNTIME, "sweep point %lld: result of %zu bytes exceeds an MPI message",
				(long long)idx, len);
			MPI_Send(e.msg, (int)strlen(e.msg) + 1, MPI_CHAR, 0, TAG_ERROR, MPI_COMM_WORLD);
			continue;
		}
		MPI_Send(buf, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
		free(buf);
	}
}

static int mpi_coordinator(writer *w, int nranks, const int64_t *todo, int64_t ntodo, fs_err *err)
{
	int active = nranks - 1, rc = 0;
	int64_t next = 0;

	while (active > 0) {
		MPI_Status st;
		int count;
		char *buf;
		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
		MPI_Get_count(&st, MPI_BYTE, &count);
		buf = malloc((size_t)count + 1);
		if (!buf) {
			MPI_Abort(MPI_COMM_WORLD, 1);
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		}
		MPI_Recv(buf, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		if (st.MPI_TAG == TAG_RESULT && !rc) {
			sweep_outcome o;
			if (sweep_outcome_unpack(buf, (size_t)count, &o, err) || write_outcome(w, &o, err))
				rc = -1;
			sweep_outcome_free(&o);
		} else if (st.MPI_TAG == TAG_ERROR && !rc) {
			buf[count] = '\0';
			fs_fail(err, FS_EXIT_RUNTIME, "rank %d: %s", st.MPI_SOURCE, buf);
			rc = -1;
		}
		free(buf);
		/* Dynamic balancing: whoever reports back gets the next point. */
		if (!rc && next < ntodo) {
			MPI_Send(&todo[next], 1, MPI_INT64_T, st.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
			next++;
		} else {
			int64_t z = 0;
			MPI_Send(&z, 1, MPI_INT64_T, st.MPI_SOURCE, TAG_STOP, MPI_COMM_WORLD);
			active--;
		}
	}
	return rc;
}
#endif

/* ---------------------------------------------------------------- driver */

/* --resume found no sweep with this hash: is there one of the same grid whose inputs
 * were different?  Then refuse (FS_EXIT_INPUT), naming what changed. */
static int refuse_changed(writer *w, const char *gj, fs_err *err)
{
	int64_t id = 0;
	char *old = NULL, changed[700] = "";
	size_t len = 0;
	cJSON *o, *ins;
	int nchanged = 0;

	if (db_sweep_find_like(w->d, gj, &id, &old, err))
		return -1;
	if (!id)
		return 0;
	o = cJSON_Parse(old);
	ins = cJSON_GetObjectItemCaseSensitive(o, "inputs");
	if (cJSON_IsArray(ins)) {
		cJSON *now = cJSON_Parse(gj), *nins = cJSON_GetObjectItemCaseSensitive(now, "inputs"), *a, *b;
		/* Files whose hash differs, that are new, or that the sweep had and no longer reads. */
		for (int pass = 0; pass < 2; pass++)
			cJSON_ArrayForEach(a, (pass ? ins : nins)) {
				const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "path"));
				const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "fnv"));
				const char *oh = NULL;
				cJSON_ArrayForEach(b, (pass ? nins : ins)) {
					const char *q = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "path"));
					if (p && q && !strcmp(p, q))
						oh = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "fnv"));
				}
				if (pass && oh)
					continue; /* in both: compared in pass 0 */
				if (!p || (oh && h && !strcmp(h, oh)))
					continue;
				nchanged++;
				if (len < sizeof changed - 1)
					len += (size_t)snprintf(changed + len, sizeof changed - len, "%s%s%s",
								len ? ", " : "", p,
								!oh ? (pass ? " (no longer read)" : " (not read before)") : "");
			}
		cJSON_Delete(now);
	}
	cJSON_Delete(o);
	free(old);
	if (nchanged)
		return fs_fail(err, FS_EXIT_INPUT,
			       "--resume: sweep %lld in %s was run on other inputs: %s %s changed since; restore %s,"
			       " or run without --resume to start a new sweep",
			       (long long)id, db_path(w->d), changed, nchanged > 1 ? "have" : "has",
			       nchanged > 1 ? "them" : "it");
	return fs_fail(err, FS_EXIT_INPUT,
		       "--resume: sweep %lld in %s was run on other inputs (written by an older fleetsim that"
		       " did not record them: the scenario file or a file it references changed); run without"
		       " --resume to start a new sweep",
		       (long long)id, db_path(w->d));
}

/* Find (--resume) or create the sweep and claim it, in one write transaction, so two
 * processes never both run the points of one sweep. */
static int find_or_create(const sweep_cfg *c, writer *w, sweep_stats *st, const scenario *sc,
			  const char *gj, const char *legacy, int64_t np, fs_err *err)
{
	if (db_begin(w->d, err))
		return -1;
	if (c->resume) {
		if (db_sweep_find(w->d, st->hash, &w->sweep_id, err))
			goto fail;
		/* A sweep from before referenced files were hashed: its legacy hash matches. */
		if (!w->sweep_id && strcmp(legacy, st->hash) && db_sweep_find(w->d, legacy, &w->sweep_id, err))
			goto fail;
		if (!w->sweep_id && refuse_changed(w, gj, err))
			goto fail;
	}
	st->resumed = w->sweep_id > 0;
	if (!w->sweep_id && db_sweep_create(w->d, sc->name, st->hash, gj, np, &w->sweep_id, err))
		goto fail;
	if (db_sweep_claim(w->d, w->sweep_id, err) || db_commit(w->d, err))
		goto fail;
	return 0;
fail:
	db_rollback(w->d);
	return -1;
}

/* Everything up to and including the points still missing; rank 0 (or the only
 * process) does this. */
static int prepare(const sweep_cfg *c, writer *w, sweep_stats *st, int64_t **todo, int64_t *ntodo,
		   fs_err *err)
{
	scenario *sc = NULL;
	unsigned char *done = NULL;
	char *gj = NULL, shash[17], legacy[17];
	int64_t np = c->grid->nparams ? c->grid->npoints : 1, n = 0;
	sweep_inputs in = {0};
	int rc = -1;

	/* Load every point's scenario now: a bad value in the last point should fail in
	 * the first second, not after hours of simulation.  Collect the files they read. */
	for (int64_t i = np - 1; i >= 0; i--) {
		scenario_free(sc);
		sc = NULL;
		if (load_point(c, i, &sc, err) || point_inputs(sc, &in, err))
			goto out;
	}
	snprintf(shash, sizeof shash, "%016llx",
		 (unsigned long long)fnv(0xcbf29ce484222325ull, c->scenario_text, c->scenario_len));
	if (sweep_hash(c, NULL, legacy, err) || sweep_hash(c, &in, st->hash, err) ||
	    db_open(c->db_path, &w->d, err))
		goto out;
	if (!(gj = grid_json(c, sc, st->hash, shash, &in))) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	if (find_or_create(c, w, st, sc, gj, legacy, np, err))
		goto out;
	done = calloc((size_t)np, 1);
	*todo = malloc((size_t)np * sizeof **todo);
	if (!done || !*todo) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto out;
	}
	if (st->resumed && db_sweep_done_points(w->d, w->sweep_id, done, np, err))
		goto out;
	for (int64_t i = 0; i < np; i++) {
		if (done[i])
			st->skipped++;
		else
			(*todo)[n++] = i;
	}
	*ntodo = n;
	st->sweep_id = w->sweep_id;
	st->npoints = np;
	w->total = n;
	w->skipped = st->skipped;
	rc = 0;
out:
	free(done);
	free(gj);
	sweep_inputs_free(&in);
	scenario_free(sc);
	return rc;
}

#ifdef FLEETSIM_HAVE_MPI
/* Workers parse rank 0's scenario text, not their own read of the file. */
static int mpi_share_text(sweep_cfg *lc, int rank, char **owned)
{
	uint64_t len = lc->scenario_len;
	char *buf;

	MPI_Bcast(&len, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	if (rank == 0) {
		MPI_Bcast((void *)lc->scenario_text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
		return 0;
	}
	if (len > YU_MAX_FILE_BYTES || !(buf = malloc((size_t)len + 1)))
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_Bcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
	buf[len] = '\0';
	free(*owned);
	*owned = buf;
	lc->scenario_text = buf;
	lc->scenario_len = (size_t)len;
	return 0;
}
#endif

/* Parse lc's text once into lc->scenario_src unless the caller gave one; *owned gets
 * what to free (scenario_src_free), NULL when nothing was made.  Returns 0, or -1 with
 * err (the scenario's syntax error: no point could load). */
static int open_src(sweep_cfg *lc, scenario_src **owned, fs_err *err)
{
	char dirbuf[1024];
	const char *dir = lc->scenario_dir;

	*owned = NULL;
	if (lc->scenario_src)
		return 0;
	if (!dir) {
		snprintf(dirbuf, sizeof dirbuf, "%s", lc->scenario_path);
		dir = dirname(dirbuf);
	}
	if (scenario_src_open(lc->scenario_path, lc->scenario_text, lc->scenario_len, dir, owned, err))
		return -1;
	lc->scenario_src = *owned;
	return 0;
}

int sweep_run(const sweep_cfg *c0, sweep_stats *st, fs_err *err)
{
	sweep_cfg lc = *c0, *c = &lc;
	writer w = {.c = c, .best = INFINITY};
	int64_t *todo = NULL, ntodo = 0;
	int rc = -1, rank = 0, nranks = 1;
	char *owned = NULL;
	scenario_src *src = NULL;

	memset(st, 0, sizeof *st);
	st->ranks = 1;
	w.t0 = now_s();
	/* Snapshot: the scenario is read once, so editing it mid-sweep changes nothing. */
	if (!lc.scenario_text) {
		if (sweep_read_scenario(lc.scenario_path, &owned, &lc.scenario_len, err))
			return -1;
		lc.scenario_text = owned;
	}
	if (sweep_mpi_launched()) {
#ifdef FLEETSIM_HAVE_MPI
		int inited = 0, ok;
		MPI_Initialized(&inited);
		if (!inited)
			MPI_Init(NULL, NULL);
		MPI_Comm_rank(MPI_COMM_WORLD, &rank);
		MPI_Comm_size(MPI_COMM_WORLD, &nranks);
		st->ranks = nranks;
		mpi_share_text(&lc, rank, &owned);
		/* Every rank parses the same text, so all fail alike; rank 0 says why. */
		if (open_src(&lc, &src, err))
			rc = -1;
		else if (rank == 0)
			rc = prepare(c, &w, st, &todo, &ntodo, err);
		/* Everyone learns whether rank 0 could start, so no worker waits forever. */
		ok = rank == 0 ? rc == 0 : 0;
		MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
		if (!ok) {
			if (rank != 0) {
				st->worker = 1;
				fs_fail(err, FS_EXIT_RUNTIME, "rank %d: the coordinator could not start the sweep", rank);
			}
			rc = -1;
		} else if (nranks == 1) {
			rc = run_threads(c, &w, todo, ntodo, err);
		} else if (rank == 0) {
			rc = mpi_coordinator(&w, nranks, todo, ntodo, err);
		} else {
			st->worker = 1;
			rc = mpi_worker(c);
		}
		MPI_Finalize();
		goto out;
#else
		(void)rank;
		(void)nranks;
		free(owned);
		return fs_fail(err, FS_EXIT_INPUT,
			       "started by an MPI launcher but this fleetsim was built without MPI"
			       " (rebuild with -DFLEETSIM_MPI=ON, libopenmpi-dev installed)");
#endif
	}
	if (open_src(&lc, &src, err) || prepare(c, &w, st, &todo, &ntodo, err))
		goto out;
	rc = run_threads(c, &w, todo, ntodo, err);
out:
	st->ran = w.done;
	st->runs = w.runs;
	st->wall_s = now_s() - w.t0;
	free(todo);
	db_close(w.d);
	scenario_src_free(src);
	free(owned);
	return rc;
}
