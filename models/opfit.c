/*
 * opfit.c - least-squares fit of the operator terms to operator measurements.
 *
 * Unknowns are transformed so the solver works unconstrained and every result is
 * physical: efficiencies through a logistic (0, 1), times and sizes through exp.
 * The prices are perf.c's own (perf_gemm_time, perf_ew_time), so what is fitted
 * here is exactly what the engine evaluates.
 */
#include "models/opfit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "models/lsq.h"
#include "models/perf.h"
#include "util/numparse.h"

/* A GEMM row is refused when it is faster than 100 % of the peaks by more than
 * timer noise (10 %).  Element-wise rows are not checked against HBM: their
 * inputs are small enough to sit in L2 (the profiles' add runs at up to 1.1x HBM
 * bandwidth), as they do in a forward pass right after the op that wrote them. */
#define PEAK_SLACK 0.9
#define MAX_FIELDS 64
#define MAX_LINE 65536

/* ---- a small CSV reader: header by name, RFC 4180 quotes ---- */

typedef struct csv {
	const char *path;
	FILE *f;
	char *line;
	size_t cap;
	int lineno;
	int nf;
	char *fld[MAX_FIELDS];
	char *hdr[MAX_FIELDS];
	int nhdr;
	char *hdrbuf;
} csv;

/* Split s in place into fields; quotes are removed, "" is a quote. */
static int split_csv(char *s, char **fld, int max)
{
	int n = 0;
	char *r = s, *w = s;

	for (;;) {
		if (n == max)
			return n;
		fld[n++] = w;
		if (*r == '"') {
			r++;
			for (;;) {
				if (!*r)
					break;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
		}
		while (*r && *r != ',')
			*w++ = *r++;
		if (!*r) {
			*w = '\0';
			return n;
		}
		*w++ = '\0';
		r++;
		if (w > r) /* cannot happen: w never passes r */
			return n;
	}
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int csv_open(csv *c, const char *path, fs_err *err)
{
	struct stat st;

	memset(c, 0, sizeof *c);
	c->path = path;
	if (stat(path, &st) != 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	c->f = fopen(path, "r");
	if (!c->f)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (getline(&c->line, &c->cap, c->f) < 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: empty file", path);
		goto fail;
	}
	c->lineno = 1;
	chomp(c->line);
	c->hdrbuf = strdup(c->line);
	if (!c->hdrbuf) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
		goto fail;
	}
	c->nhdr = split_csv(c->hdrbuf, c->hdr, MAX_FIELDS);
	return 0;
fail:
	fclose(c->f);
	free(c->line);
	c->f = NULL;
	c->line = NULL;
	return -1;
}

static void csv_close(csv *c)
{
	if (c->f)
		fclose(c->f);
	free(c->line);
	free(c->hdrbuf);
	memset(c, 0, sizeof *c);
}

/* Column index of name, or -1 with "FILE:1: missing column" in err. */
static int csv_col(csv *c, const char *name, fs_err *err)
{
	for (int i = 0; i < c->nhdr; i++)
		if (!strcmp(c->hdr[i], name))
			return i;
	return fs_fail(err, FS_EXIT_INPUT, "%s:1: missing column '%s'", c->path, name);
}

/* Next non-empty row: 1, 0 at the end, -1 on error. */
static int csv_next(csv *c, fs_err *err)
{
	for (;;) {
		if (getline(&c->line, &c->cap, c->f) < 0)
			return ferror(c->f) ? fs_fail(err, FS_EXIT_RUNTIME, "%s: read error", c->path) : 0;
		c->lineno++;
		if (strlen(c->line) > MAX_LINE)
			return fs_fail(err, FS_EXIT_INPUT, "%s:%d: line longer than %d bytes", c->path,
				       c->lineno, MAX_LINE);
		chomp(c->line);
		if (!c->line[0])
			continue;
		c->nf = split_csv(c->line, c->fld, MAX_FIELDS);
		return 1;
	}
}

/* Close c after its last row: csv_next's final rc (< 0: the error is set), and
 * with need_rows, "FILE: no rows" when k rows were read is 0.  Returns 0 or -1. */
static int csv_end(csv *c, int rc, size_t k, int need_rows, fs_err *err)
{
	if (rc >= 0 && need_rows && k == 0)
		rc = fs_fail(err, FS_EXIT_INPUT, "%s: no rows", c->path);
	csv_close(c);
	return rc < 0 ? -1 : 0;
}

/* The number in column i of the current row: 0, or -1 naming file:line and column. */
static int csv_num(csv *c, int i, double *v, fs_err *err)
{
	if (i >= c->nf)
		return fs_fail(err, FS_EXIT_INPUT, "%s:%d: %d fields, column '%s' missing", c->path,
			       c->lineno, c->nf, c->hdr[i]);
	if (np_double(c->fld[i], (size_t)-1, v) || !isfinite(*v))
		return fs_fail(err, FS_EXIT_INPUT, "%s:%d: column '%s': '%s' is not a number", c->path,
			       c->lineno, c->hdr[i], c->fld[i]);
	return 0;
}

/* ---- data ---- */

enum { OP_QKV, OP_O, OP_UP, OP_DOWN, OP_ROPE, OP_ACT, OP_ADD, OP_EMB, OP_N };
static const char *const op_cols[OP_N] = {"attn_pre_proj_ms", "attn_post_proj_ms", "mlp_up_proj_ms",
					  "mlp_down_proj_ms", "attn_rope_ms", "mlp_act_ms", "add_ms",
					  "emb_ms"};
#define OP_IS_GEMM(o) ((o) <= OP_DOWN)

typedef struct op_row {
	int op, tp, gated, hold;
	double tokens, heads, kv_heads, embd, expanded, t_s;
} op_row;

typedef struct ar_row {
	int tp, hold;
	double bytes, t_s;
} ar_row;

typedef struct gb_row {
	int hold;
	double m, n, k, tflops;
} gb_row;

typedef struct at_row {
	int hold;
	double seq, tflops;
} at_row;

typedef struct rows {
	void *v;
	size_t n, cap, size;
} rows;

static void *rows_push(rows *r, fs_err *err)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 256;
		void *t = realloc(r->v, nc * r->size);

		if (!t) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			return NULL;
		}
		r->v = t;
		r->cap = nc;
	}
	return (char *)r->v + r->size * r->n++;
}

/* GEMM shape (k, n) of op for a layer sharded tp ways; element-wise bytes. */
static void op_shape(const op_row *r, double *k, double *n, double *bytes)
{
	double d = r->embd / r->heads, tp = (double)r->tp;
	double kvh = r->kv_heads / tp < 1 ? 1 : r->kv_heads / tp, qh = r->heads / tp;
	double f = r->expanded / tp, m = r->tokens;

	*k = *n = *bytes = 0;
	switch (r->op) {
	case OP_QKV: *k = r->embd; *n = (qh + 2 * kvh) * d; break;
	case OP_O: *k = qh * d; *n = r->embd; break;
	case OP_UP: *k = r->embd; *n = (r->gated ? 2 : 1) * f; break;
	case OP_DOWN: *k = f; *n = r->embd; break;
	case OP_ROPE: *bytes = 4.0 * m * (qh + kvh) * d; break;  /* q, k: read + write */
	case OP_ACT: *bytes = (r->gated ? 6.0 : 4.0) * m * f; break;
	case OP_ADD: *bytes = 6.0 * m * r->embd; break;          /* read 2, write 1 */
	case OP_EMB: *bytes = 4.0 * m * r->embd; break;          /* gather + write */
	}
}

static double op_predict(const gpu_spec *g, const op_row *r)
{
	double k, n, bytes;

	op_shape(r, &k, &n, &bytes);
	if (OP_IS_GEMM(r->op))
		return perf_gemm_time(g, g->flops_bf16, 2.0, k, n, r->tokens);
	return perf_ew_time(g, bytes);
}

double opfit_predict_op(const gpu_spec *g, const char *column, double tokens, int tp,
			double n_head, double n_kv_head, double n_embd, double n_expanded, int gated)
{
	op_row r = {.tp = tp, .gated = gated, .tokens = tokens, .heads = n_head, .kv_heads = n_kv_head,
		    .embd = n_embd, .expanded = n_expanded};

	for (r.op = 0; r.op < OP_N; r.op++)
		if (!strcmp(column, op_cols[r.op]))
			return op_predict(g, &r);
	return -1;
}

double opfit_predict_allreduce(const gpu_spec *g, double bytes, int tp)
{
	double t = (double)tp;

	return 2.0 * (t - 1.0) * g->link_latency_s + bytes * 2.0 * (t - 1.0) / t / (g->link_bw * g->link_eff);
}

double opfit_predict_attention_tflops(const gpu_spec *g, double seq)
{
	return g->flops_bf16 * g->attn_eff * seq / (seq + g->attn_half_q) / 1e12;
}

/* The ideal GPU: every efficiency 1, no fixed costs. */
static gpu_spec ideal_of(const gpu_spec *g)
{
	gpu_spec i = *g;

	i.compute_eff = i.mem_eff = i.ew_eff = i.attn_eff = i.link_eff = 1.0;
	i.kernel_s = i.gemm_half = i.attn_half_q = i.link_latency_s = i.car_latency_s = 0;
	return i;
}

static int read_ops(const gpu_spec *g, const char *path, int every, rows *out, fs_err *err)
{
	static const char *const shape_cols[] = {"n_head", "n_kv_head", "n_embd", "n_expanded_embd",
						 "num_tokens", "num_tensor_parallel_workers"};
	gpu_spec ideal = ideal_of(g);
	int ci[OP_N], si[6], gi, rc;
	size_t k = 0;
	csv c;

	if (csv_open(&c, path, err))
		return -1;
	for (int i = 0; i < OP_N; i++)
		if ((ci[i] = csv_col(&c, op_cols[i], err)) < 0)
			goto fail;
	for (int i = 0; i < 6; i++)
		if ((si[i] = csv_col(&c, shape_cols[i], err)) < 0)
			goto fail;
	if ((gi = csv_col(&c, "use_gated_mlp", err)) < 0)
		goto fail;
	while ((rc = csv_next(&c, err)) == 1) {
		double sh[6];
		int gated, hold = every > 0 && k % (size_t)every == (size_t)every - 1;

		k++;
		for (int i = 0; i < 6; i++)
			if (csv_num(&c, si[i], &sh[i], err))
				goto fail;
		if (gi >= c.nf || np_bool(c.fld[gi], (size_t)-1, &gated)) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: column 'use_gated_mlp': '%s' is not True/False",
				path, c.lineno, gi < c.nf ? c.fld[gi] : "");
			goto fail;
		}
		if (!(sh[0] >= 1 && sh[1] >= 1 && sh[2] >= sh[0] && sh[3] >= 1 && sh[4] >= 1 && sh[5] >= 1 &&
		      sh[5] <= 1024 && fmod(sh[0], sh[5]) == 0)) {
			fs_fail(err, FS_EXIT_INPUT,
				"%s:%d: shape columns (n_head %g, n_kv_head %g, n_embd %g, n_expanded_embd %g, "
				"num_tokens %g, TP %g) are not a valid sharded layer", path, c.lineno, sh[0], sh[1],
				sh[2], sh[3], sh[4], sh[5]);
			goto fail;
		}
		for (int o = 0; o < OP_N; o++) {
			op_row *r;
			double ms, ideal_s;

			if (csv_num(&c, ci[o], &ms, err))
				goto fail;
			if (!(ms > 0)) {
				fs_fail(err, FS_EXIT_INPUT, "%s:%d: column '%s': %g ms is not a positive time", path,
					c.lineno, op_cols[o], ms);
				goto fail;
			}
			if (!(r = rows_push(out, err)))
				goto fail;
			*r = (op_row){.op = o, .tp = (int)sh[5], .gated = gated, .hold = hold, .tokens = sh[4],
				      .heads = sh[0], .kv_heads = sh[1], .embd = sh[2], .expanded = sh[3],
				      .t_s = ms / 1e3};
			ideal_s = op_predict(&ideal, r);
			if (OP_IS_GEMM(o) && r->t_s < PEAK_SLACK * ideal_s) {
				fs_fail(err, FS_EXIT_INPUT,
					"%s:%d: %s: %.4g ms is faster than %s's peak allows (%.4g ms at 100 %% of "
					"its FLOPs and bandwidth)", path, c.lineno, op_cols[o], ms, g->name,
					ideal_s * 1e3);
				goto fail;
			}
		}
	}
	return csv_end(&c, rc, k, 1, err);
fail:
	csv_close(&c);
	return -1;
}

static int read_ar(const gpu_spec *g, const char *path, int every, rows *out, fs_err *err)
{
	gpu_spec ideal = ideal_of(g);
	int ct, cr, cn, cs, cd = -1, rc;
	size_t k = 0;
	csv c;

	if (csv_open(&c, path, err))
		return -1;
	/* Optional: GPUs per node.  Only all-reduces within one node (NVLink) are a
	 * tensor-parallel group's; rows spanning nodes are skipped. */
	for (int i = 0; i < c.nhdr; i++)
		if (!strcmp(c.hdr[i], "devices_per_node"))
			cd = i;
	if ((ct = csv_col(&c, "all_reduce_ms", err)) < 0 || (cr = csv_col(&c, "rank", err)) < 0 ||
	    (cn = csv_col(&c, "num_workers", err)) < 0 || (cs = csv_col(&c, "size", err)) < 0)
		goto fail;
	while ((rc = csv_next(&c, err)) == 1) {
		double ms, rank, nw, size, ideal_s;
		ar_row *r;

		if (csv_num(&c, ct, &ms, err) || csv_num(&c, cr, &rank, err) || csv_num(&c, cn, &nw, err) ||
		    csv_num(&c, cs, &size, err))
			goto fail;
		if (!(ms > 0 && nw >= 2 && nw <= 1024 && size > 0)) {
			fs_fail(err, FS_EXIT_INPUT,
				"%s:%d: all_reduce_ms %g, num_workers %g, size %g: need a positive time, 2+ "
				"workers and a positive size", path, c.lineno, ms, nw, size);
			goto fail;
		}
		if (rank != 0) /* one reporting rank per measurement */
			continue;
		if (cd >= 0) {
			double dpn;

			if (csv_num(&c, cd, &dpn, err))
				goto fail;
			if (dpn < nw)
				continue;
		}
		if (!(r = rows_push(out, err)))
			goto fail;
		*r = (ar_row){.tp = (int)nw, .bytes = size, .t_s = ms / 1e3,
			      .hold = every > 0 && k % (size_t)every == (size_t)every - 1};
		k++;
		ideal_s = opfit_predict_allreduce(&ideal, size, (int)nw);
		if (r->t_s < PEAK_SLACK * ideal_s) {
			fs_fail(err, FS_EXIT_INPUT,
				"%s:%d: all-reduce of %g B over %d GPUs in %.4g ms is faster than %s's link "
				"allows (%.4g ms)", path, c.lineno, size, (int)nw, ms, g->name, ideal_s * 1e3);
			goto fail;
		}
	}
	return csv_end(&c, rc, 0, 0, err);
fail:
	csv_close(&c);
	return -1;
}

static double gb_time(const gpu_spec *g, const gb_row *r)
{
	return perf_gemm_time(g, g->flops_bf16, 2.0, r->k, r->n, r->m);
}

static int read_gb(const gpu_spec *g, const char *path, int every, rows *out, fs_err *err)
{
	int cm, cn, ck, cd, ct, rc;
	size_t k = 0;
	csv c;

	if (csv_open(&c, path, err))
		return -1;
	if ((cm = csv_col(&c, "m", err)) < 0 || (cn = csv_col(&c, "n", err)) < 0 ||
	    (ck = csv_col(&c, "k", err)) < 0 || (cd = csv_col(&c, "dtype", err)) < 0 ||
	    (ct = csv_col(&c, "tflops", err)) < 0)
		goto fail;
	while ((rc = csv_next(&c, err)) == 1) {
		gb_row *r;
		double m, n, kk, tf;

		if (csv_num(&c, cm, &m, err) || csv_num(&c, cn, &n, err) || csv_num(&c, ck, &kk, err) ||
		    csv_num(&c, ct, &tf, err))
			goto fail;
		if (cd >= c.nf || strcasecmp(c.fld[cd], "bf16")) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: dtype '%s': only bf16 GEMMs are fitted", path, c.lineno,
				cd < c.nf ? c.fld[cd] : "");
			goto fail;
		}
		if (!(m >= 1 && n >= 1 && kk >= 1 && tf > 0)) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: m %g, n %g, k %g, tflops %g: all must be positive", path,
				c.lineno, m, n, kk, tf);
			goto fail;
		}
		if (tf * 1e12 > g->flops_bf16) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: GEMM: %g TFLOPS is above %s's BF16 peak (%g)", path,
				c.lineno, tf, g->name, g->flops_bf16 / 1e12);
			goto fail;
		}
		if (!(r = rows_push(out, err)))
			goto fail;
		*r = (gb_row){.m = m, .n = n, .k = kk, .tflops = tf,
			      .hold = every > 0 && k % (size_t)every == (size_t)every - 1};
		k++;
	}
	return csv_end(&c, rc, k, 1, err);
fail:
	csv_close(&c);
	return -1;
}

/* Causal rows only: vLLM's prefill attention is causal. */
static int is_causal(const char *notes)
{
	return (strstr(notes, "causal") && !strstr(notes, "non-causal") && !strstr(notes, "causal=False") &&
		!strstr(notes, "causal flag not stated") && !strstr(notes, "rejects causal"));
}

static int read_attn(const gpu_spec *g, const char *path, const char *gpu_key, const char *engine,
		     int every, rows *out, size_t *k, fs_err *err)
{
	int cg, ce, cp, cs, ct, cn, rc;
	csv c;

	if (csv_open(&c, path, err))
		return -1;
	if ((cg = csv_col(&c, "gpu", err)) < 0 || (ce = csv_col(&c, "engine", err)) < 0 ||
	    (cp = csv_col(&c, "precision", err)) < 0 || (cs = csv_col(&c, "seq_len", err)) < 0 ||
	    (ct = csv_col(&c, "tflops", err)) < 0 || (cn = csv_col(&c, "notes", err)) < 0)
		goto fail;
	while ((rc = csv_next(&c, err)) == 1) {
		double seq, tf;
		at_row *r;

		if (cg >= c.nf || ce >= c.nf || cp >= c.nf || cs >= c.nf || cn >= c.nf || ct >= c.nf) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: %d fields, expected %d", path, c.lineno, c.nf, c.nhdr);
			goto fail;
		}
		if (strcasecmp(c.fld[cg], gpu_key) || strcasecmp(c.fld[cp], "bf16") || !c.fld[cs][0] ||
		    (engine && !strstr(c.fld[ce], engine)) || !is_causal(c.fld[cn]))
			continue;
		if (csv_num(&c, cs, &seq, err) || csv_num(&c, ct, &tf, err))
			goto fail;
		if (!(seq >= 1 && tf > 0)) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: seq_len %g, tflops %g: both must be positive", path,
				c.lineno, seq, tf);
			goto fail;
		}
		if (tf * 1e12 > g->flops_bf16) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: attention: %g TFLOPS is above %s's BF16 peak (%g)",
				path, c.lineno, tf, g->name, g->flops_bf16 / 1e12);
			goto fail;
		}
		if (!(r = rows_push(out, err)))
			goto fail;
		*r = (at_row){.seq = seq, .tflops = tf,
			      .hold = every > 0 && *k % (size_t)every == (size_t)every - 1};
		(*k)++;
	}
	return csv_end(&c, rc, 0, 0, err);
fail:
	csv_close(&c);
	return -1;
}

/* ---- the solver ---- */

typedef struct fit {
	gpu_spec g;
	const rows *data;
	int npar;
	void (*apply)(gpu_spec *g, const double *x, int npar);
	double (*resid)(const gpu_spec *g, const void *row, int *use);
	int (*hold)(const void *row);
	double (*rel)(const gpu_spec *g, const void *row, int *use);
} fit;

/* lsq_fn: Huber-weighted log ratios of the training rows. */
static int fit_resid(const double *x, void *data, double *r, size_t n)
{
	fit *c = data;
	size_t k = 0;

	c->apply(&c->g, x, c->npar);
	for (size_t i = 0; i < c->data->n && k < n; i++) {
		int use;
		double v = c->resid(&c->g, (const char *)c->data->v + c->data->size * i, &use);

		if (use)
			r[k++] = lsq_huber(v);
	}
	return k == n ? 0 : -1;
}

/* MAPE and worst relative error over the rows with hold == want. */
static void evaluate(const fit *c, const gpu_spec *g, int want,
		     double (*rel)(const gpu_spec *, const void *, int *), opfit_err *e)
{
	memset(e, 0, sizeof *e);
	for (size_t i = 0; i < c->data->n; i++) {
		const void *row = (const char *)c->data->v + c->data->size * i;
		int use;
		double r;

		if (c->hold(row) != want)
			continue;
		r = rel(g, row, &use);
		if (!use)
			continue;
		r = fabs(r);
		e->mape += r;
		if (r > e->worst)
			e->worst = r;
		e->rows++;
	}
	if (e->rows)
		e->mape /= (double)e->rows;
}

/* Fit c's unknowns into *cur from the start x (nothing when check_only), then
 * c->rel's error on the training and the held-out rows into *part.  Returns 0, or
 * -1 with err set (too few rows, no convergence). */
static int run_part(fit *c, double *x, int check_only, const char *term, gpu_spec *cur,
		    opfit_part *part, fs_err *err)
{
	size_t ntrain = 0;

	for (size_t i = 0; i < c->data->n; i++)
		ntrain += !c->hold((const char *)c->data->v + c->data->size * i);
	if (!check_only) {
		c->g = *cur;
		if (lsq_solve(fit_resid, c, ntrain, c->npar, x, 300, term, &part->iterations, err))
			return -1;
		c->apply(cur, x, c->npar);
	}
	part->fitted = 1;
	evaluate(c, cur, 0, c->rel, &part->train);
	evaluate(c, cur, 1, c->rel, &part->holdout);
	return 0;
}

/* ---- operator profiles: compute_eff, gemm_half, mem_eff, kernel_s, ew_eff ---- */

static void ops_apply(gpu_spec *g, const double *x, int npar)
{
	(void)npar;
	g->compute_eff = lsq_logistic(x[0]);
	g->gemm_half = 1e6 * exp(x[1]);
	g->mem_eff = lsq_logistic(x[2]);
	g->kernel_s = 1e-6 * exp(x[3]);
	g->ew_eff = lsq_logistic(x[4]);
}

static double ops_resid(const gpu_spec *g, const void *row, int *use)
{
	const op_row *r = row;

	*use = !r->hold;
	return *use ? log(op_predict(g, r) / r->t_s) : 0;
}

static double gemm_rel(const gpu_spec *g, const void *row, int *use)
{
	const op_row *r = row;

	*use = OP_IS_GEMM(r->op);
	return op_predict(g, r) / r->t_s - 1.0;
}

static double ew_rel(const gpu_spec *g, const void *row, int *use)
{
	const op_row *r = row;

	*use = !OP_IS_GEMM(r->op);
	return op_predict(g, r) / r->t_s - 1.0;
}

static int ops_hold(const void *row)
{
	return ((const op_row *)row)->hold;
}

/* ---- all-reduce: link_latency_s, link_eff ---- */

static void ar_apply(gpu_spec *g, const double *x, int npar)
{
	(void)npar;
	g->link_latency_s = 1e-6 * exp(x[0]);
	g->link_eff = lsq_logistic(x[1]);
}

static double ar_rel(const gpu_spec *g, const void *row, int *use)
{
	const ar_row *r = row;

	*use = 1;
	return opfit_predict_allreduce(g, r->bytes, r->tp) / r->t_s - 1.0;
}

static double ar_resid(const gpu_spec *g, const void *row, int *use)
{
	const ar_row *r = row;

	*use = !r->hold;
	return *use ? log(opfit_predict_allreduce(g, r->bytes, r->tp) / r->t_s) : 0;
}

static int ar_hold(const void *row)
{
	return ((const ar_row *)row)->hold;
}

/* ---- attention: attn_eff (and attn_half_q) ---- */

static void at_apply(gpu_spec *g, const double *x, int npar)
{
	g->attn_eff = lsq_logistic(x[0]);
	if (npar > 1)
		g->attn_half_q = exp(x[1]);
}

static double at_rel(const gpu_spec *g, const void *row, int *use)
{
	const at_row *r = row;

	*use = 1;
	/* Relative error of time = measured / predicted throughput - 1. */
	return r->tflops / opfit_predict_attention_tflops(g, r->seq) - 1.0;
}

static double at_resid(const gpu_spec *g, const void *row, int *use)
{
	const at_row *r = row;

	*use = !r->hold;
	return *use ? log(r->tflops / opfit_predict_attention_tflops(g, r->seq)) : 0;
}

static int at_hold(const void *row)
{
	return ((const at_row *)row)->hold;
}

/* ---- single-GEMM benchmarks: compute_eff, gemm_half ---- */

static void gb_apply(gpu_spec *g, const double *x, int npar)
{
	(void)npar;
	g->compute_eff = lsq_logistic(x[0]);
	g->gemm_half = 1e6 * exp(x[1]);
}

static double gb_rel(const gpu_spec *g, const void *row, int *use)
{
	const gb_row *r = row;

	*use = 1;
	return gb_time(g, r) / (2.0 * r->m * r->n * r->k / (r->tflops * 1e12)) - 1.0;
}

static double gb_resid(const gpu_spec *g, const void *row, int *use)
{
	const gb_row *r = row;

	*use = !r->hold;
	return *use ? log(gb_time(g, r) / (2.0 * r->m * r->n * r->k / (r->tflops * 1e12))) : 0;
}

static int gb_hold(const void *row)
{
	return ((const gb_row *)row)->hold;
}

/* Attention: both terms with rows at 3+ lengths; else attn_eff alone at the GPU's
 * attn_half_q (the log-mean of the rows: one unknown, one or two rows).  Returns 0 or
 * -1 with err set. */
static int fit_attention(const rows *at, int check_only, gpu_spec *cur, opfit_part *part, fs_err *err)
{
	fit c = {.data = at, .apply = at_apply, .resid = at_resid, .hold = at_hold, .rel = at_rel};
	double x[2] = {lsq_logit(0.5), log(500.0)}, sum = 0;
	size_t ntrain = 0;

	for (size_t i = 0; i < at->n; i++)
		ntrain += !((const at_row *)at->v)[i].hold;
	if (ntrain < 1)
		return fs_fail(err, FS_EXIT_INPUT, "attention: no training rows: too few rows to fit attn_eff");
	c.npar = ntrain >= 3 ? 2 : 1;
	if (c.npar == 2)
		return run_part(&c, x, check_only, "attention terms (attn_eff, attn_half_q)", cur, part, err);
	if (!check_only) {
		for (size_t i = 0; i < at->n; i++) {
			const at_row *r = (const at_row *)at->v + i;

			if (!r->hold)
				sum += log(r->tflops * 1e12 / (cur->flops_bf16 * r->seq / (r->seq + cur->attn_half_q)));
		}
		cur->attn_eff = exp(sum / (double)ntrain);
		if (!(cur->attn_eff > 0 && cur->attn_eff <= 1))
			return fs_fail(err, FS_EXIT_INPUT, "attention: the rows imply attn_eff %g, outside (0, 1]",
				       cur->attn_eff);
	}
	return run_part(&c, x, 1, "attention", cur, part, err);
}

/* Read every source into its rows (a bad file fails before any fit runs). */
static int read_all(const gpu_spec *g, const opfit_sources *src, rows *ops, rows *ar, rows *gb, rows *at,
		    fs_err *err)
{
	int every = src->holdout_every;

	for (int i = 0; i < 8 && src->ops[i]; i++)
		if (read_ops(g, src->ops[i], every, ops, err))
			return -1;
	if (src->allreduce && read_ar(g, src->allreduce, every, ar, err))
		return -1;
	if (src->gemm && src->ops[0])
		return fs_fail(err, FS_EXIT_INPUT, "%s: GEMM benchmarks and operator profiles both fit "
			       "compute_eff: give one", src->gemm);
	if (src->gemm && read_gb(g, src->gemm, every, gb, err))
		return -1;
	if (src->attention) {
		const char *key = src->attn_gpu ? src->attn_gpu : g->name;
		size_t k = 0;

		if (read_attn(g, src->attention, key, src->attn_engine, every, at, &k, err) ||
		    (src->attention2 && read_attn(g, src->attention2, key, src->attn_engine, every, at, &k, err)))
			return -1;
		if (at->n == 0)
			return fs_fail(err, FS_EXIT_INPUT, "%s: no causal BF16 rows for gpu '%s'%s%s: too few "
				       "rows to fit attn_eff", src->attention, key,
				       src->attn_engine ? " and engine " : "", src->attn_engine ? src->attn_engine : "");
	}
	return 0;
}

int opfit_run(const gpu_spec *g, const opfit_sources *src, opfit_result *out, fs_err *err)
{
	rows ops = {.size = sizeof(op_row)}, ar = {.size = sizeof(ar_row)}, at = {.size = sizeof(at_row)};
	rows gb = {.size = sizeof(gb_row)};
	int every = src->holdout_every, rc = -1;
	gpu_spec cur = *g;

	memset(out, 0, sizeof *out);
	if (every < 0 || every == 1)
		return fs_fail(err, FS_EXIT_INPUT, "holdout_every must be 0 or >= 2, got %d", every);
	if (!src->ops[0] && !src->allreduce && !src->attention && !src->gemm)
		return fs_fail(err, FS_EXIT_INPUT, "no operator data given (operator profiles, all-reduce "
			       "or attention)");
	if (read_all(g, src, &ops, &ar, &gb, &at, err))
		goto out;
	if (ops.n) {
		fit c = {.data = &ops, .npar = 5, .apply = ops_apply, .resid = ops_resid, .hold = ops_hold,
			 .rel = gemm_rel};
		double x[5] = {lsq_logit(0.7), log(1.0), lsq_logit(0.8), log(3.0), lsq_logit(0.7)};

		if (run_part(&c, x, src->check_only, "GEMM and element-wise terms", &cur, &out->gemm, err))
			goto out;
		out->ew = out->gemm;
		evaluate(&c, &cur, 0, ew_rel, &out->ew.train);
		evaluate(&c, &cur, 1, ew_rel, &out->ew.holdout);
	}
	if (gb.n) {
		fit c = {.data = &gb, .npar = 2, .apply = gb_apply, .resid = gb_resid, .hold = gb_hold,
			 .rel = gb_rel};
		double x[2] = {lsq_logit(0.7), log(1.0)};

		if (run_part(&c, x, src->check_only, "GEMM terms (compute_eff, gemm_half)", &cur, &out->bench,
			     err))
			goto out;
	}
	if (ar.n) {
		fit c = {.data = &ar, .npar = 2, .apply = ar_apply, .resid = ar_resid, .hold = ar_hold,
			 .rel = ar_rel};
		double x[2] = {log(5.0), lsq_logit(0.7)};

		if (run_part(&c, x, src->check_only, "all-reduce terms (link_latency_us, link_eff)", &cur,
			     &out->allreduce, err))
			goto out;
	}
	if (at.n && fit_attention(&at, src->check_only, &cur, &out->attention, err))
		goto out;
	out->gpu = cur;
	rc = 0;
out:
	free(ops.v);
	free(ar.v);
	free(at.v);
	free(gb.v);
	return rc;
}
