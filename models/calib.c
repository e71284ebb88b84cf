/*
 * calib.c - least-squares fit of the step-time parameters to measured timings.
 *
 * Unknowns are transformed so the solver works unconstrained and the result is
 * always physical: efficiencies through a logistic (0, 1), overhead through exp.
 * Residuals are relative errors, one per measured prompt time and one per token
 * time, so a 60 ms decode step weighs as much as a 10 s prefill.
 */
#include "models/calib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>

#include "models/lsq.h"
#include "models/perf.h"
#include "util/numparse.h"

enum { C_MODEL, C_HW, C_PROMPT, C_BATCH, C_GEN, C_PTIME, C_TTIME, C_TP, C_N };
static const char *const col_names[C_N] = {"model", "hardware", "prompt_size", "batch_size",
					    "token_size", "prompt_time", "token_time",
					    "tensor_parallel"};

/* Split line in place at commas (no quoting in this layout). Returns field count. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	while (n < max) {
		f[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int cmp_row(const void *a, const void *b)
{
	const calib_row *x = a, *y = b;

	if (x->tp != y->tp)
		return x->tp < y->tp ? -1 : 1;
	if (x->prompt != y->prompt)
		return x->prompt < y->prompt ? -1 : 1;
	if (x->batch != y->batch)
		return x->batch < y->batch ? -1 : 1;
	if (x->gen != y->gen)
		return x->gen < y->gen ? -1 : 1;
	return x->line - y->line;
}

static int same_config(const calib_row *x, const calib_row *y)
{
	return x->tp == y->tp && x->prompt == y->prompt && x->batch == y->batch && x->gen == y->gen;
}

static int matches_model(const char *field, const char *model_name)
{
	llm_spec m;

	if (!strcasecmp(field, model_name))
		return 1;
	return llm_lookup(field, &m, NULL) == 0 && !strcmp(m.name, model_name);
}

static int matches_gpu(const char *field, const char *gpu_name, const char *hw_match)
{
	gpu_spec g;

	if (hw_match)
		return !strcasecmp(field, hw_match);
	if (!strcasecmp(field, gpu_name))
		return 1;
	/* Only catalog names/aliases: a CSV field must never be opened as a file. */
	if (strchr(field, '/') || strchr(field, '.'))
		return 0;
	return gpu_lookup(field, &g, NULL) == 0 && !strcmp(g.name, gpu_name);
}

#define CALIB_MAX_LINE 65536

/* The column index of each of col_names in the header line (split in place).  Returns 0,
 * or -1 naming the first missing column. */
static int header_columns(const char *path, char *line, int *idx, fs_err *err)
{
	char *fld[64];
	int nf;

	chomp(line);
	nf = split(line, fld, 64);
	for (int c = 0; c < C_N; c++) {
		idx[c] = -1;
		for (int i = 0; i < nf; i++)
			if (!strcmp(fld[i], col_names[c]))
				idx[c] = i;
		if (idx[c] < 0)
			return fs_fail(err, FS_EXIT_INPUT, "%s:1: missing column '%s' (Splitwise layout: model,"
				       "hardware,prompt_size,batch_size,token_size,...,prompt_time,token_time,...,"
				       "tensor_parallel)", path, col_names[c]);
	}
	return 0;
}

/* The measurement of one row into r (times in seconds).  Returns -1, or the C_ index of
 * the first column that is not a positive number. */
static int parse_row(char *const *fld, const int *idx, calib_row *r)
{
	int64_t tp;

	if (np_i64(fld[idx[C_PROMPT]], (size_t)-1, &r->prompt) || r->prompt <= 0)
		return C_PROMPT;
	if (np_i64(fld[idx[C_BATCH]], (size_t)-1, &r->batch) || r->batch <= 0)
		return C_BATCH;
	if (np_i64(fld[idx[C_GEN]], (size_t)-1, &r->gen) || r->gen < 0)
		return C_GEN;
	if (np_double(fld[idx[C_PTIME]], (size_t)-1, &r->prompt_s) || r->prompt_s <= 0)
		return C_PTIME;
	if (np_double(fld[idx[C_TTIME]], (size_t)-1, &r->token_s) || r->token_s <= 0)
		return C_TTIME;
	if (np_i64(fld[idx[C_TP]], (size_t)-1, &tp) || tp <= 0 || tp > 1024)
		return C_TP;
	r->tp = (int)tp;
	r->prompt_s /= 1000.0; /* the file is in ms */
	r->token_s /= 1000.0;
	return -1;
}

int calib_read_csv(const char *path, const char *model_name, const char *gpu_name,
		   const char *hw_match, int holdout_every, calib_row **rows, size_t *n,
		   fs_err *err)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0, nr = 0, ar = 0;
	calib_row *r = NULL;
	int idx[C_N], lineno = 0;
	char *fld[64];
	struct stat st;

	*rows = NULL;
	*n = 0;
	/* stat first: fopen on a FIFO would block until a writer appears. */
	if (stat(path, &st) != 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	f = fopen(path, "r");
	if (!f)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (getline(&line, &cap, f) < 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: empty file", path);
		goto fail;
	}
	lineno = 1;
	if (header_columns(path, line, idx, err))
		goto fail;
	while (getline(&line, &cap, f) >= 0) {
		calib_row row = {0};
		int nf, bad;

		lineno++;
		/* A measurement row is a few hundred bytes; anything far longer is not
		 * this layout, and reading on would only grow memory. */
		if (strlen(line) > CALIB_MAX_LINE) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: line longer than %d bytes", path, lineno,
				CALIB_MAX_LINE);
			goto fail;
		}
		chomp(line);
		if (!line[0])
			continue;
		nf = split(line, fld, 64);
		for (int c = 0; c < C_N; c++)
			if (idx[c] >= nf) {
				fs_fail(err, FS_EXIT_INPUT, "%s:%d: %d fields, expected at least %d", path, lineno,
					nf, idx[c] + 1);
				goto fail;
			}
		if (!matches_model(fld[idx[C_MODEL]], model_name) ||
		    !matches_gpu(fld[idx[C_HW]], gpu_name, hw_match))
			continue;
		if ((bad = parse_row(fld, idx, &row)) >= 0) {
			fs_fail(err, FS_EXIT_INPUT, "%s:%d: %s '%s' is not a positive number", path, lineno,
				col_names[bad], fld[idx[bad]]);
			goto fail;
		}
		row.line = lineno;
		if (nr == ar) {
			size_t na = ar ? 2 * ar : 256;
			calib_row *t = realloc(r, na * sizeof *t);

			if (!t) {
				fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
				goto fail;
			}
			r = t;
			ar = na;
		}
		r[nr++] = row;
	}
	if (ferror(f)) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: read error", path);
		goto fail;
	}
	if (nr == 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: no rows for model '%s' on hardware '%s'", path, model_name,
			hw_match ? hw_match : gpu_name);
		goto fail;
	}
	qsort(r, nr, sizeof *r, cmp_row);
	{
		int cfg = -1;

		for (size_t i = 0; i < nr; i++) {
			if (i == 0 || !same_config(&r[i], &r[i - 1]))
				cfg++;
			r[i].config = cfg;
			r[i].holdout = holdout_every > 0 && cfg % holdout_every == holdout_every - 1;
		}
	}
	free(line);
	fclose(f);
	*rows = r;
	*n = nr;
	return 0;
fail:
	free(line);
	free(r);
	fclose(f);
	return -1;
}

int calib_predict(const gpu_spec *g, const llm_spec *m, const calib_row *r, double *prompt_s,
		  double *token_s, fs_err *err)
{
	perf_model p;
	perf_batch pb = {0}, db = {0};
	mem_config c;
	int64_t ctx;

	mem_config_default(&c);
	c.tp = r->tp;
	if (perf_init(&p, g, m, &c, err))
		return -1;
	for (int64_t i = 0; i < r->batch; i++)
		perf_batch_add_prefill(&pb, 0, r->prompt);
	ctx = r->prompt + r->gen / 2;
	for (int64_t i = 0; i < r->batch; i++)
		perf_batch_add_decode(&db, ctx);
	*prompt_s = perf_step_s(&p, &pb);
	*token_s = perf_step_s(&p, &db);
	return 0;
}

int calib_flag_impossible(const gpu_spec *g, const llm_spec *m, calib_row *rows, size_t n,
			  fs_err *err)
{
	gpu_spec ideal = *g;
	int count = 0;

	ideal.compute_eff = ideal.mem_eff = ideal.link_eff = ideal.ew_eff = ideal.attn_eff = 1.0;
	ideal.step_overhead_s = ideal.link_latency_s = ideal.car_latency_s = 0;
	ideal.kernel_s = ideal.gemm_half = ideal.attn_half_q = ideal.prefill_seq_tokens = 0;
	for (size_t i = 0; i < n; i++) {
		double ps, ts;

		if (calib_predict(&ideal, m, &rows[i], &ps, &ts, err))
			return -1;
		rows[i].excluded = ps > rows[i].prompt_s || ts > rows[i].token_s;
		count += rows[i].excluded;
	}
	return count;
}

/* ---- the fit ---- */

/* Residuals are log(predicted / measured): symmetric in over- and under-prediction
 * and scale-free, so a 45 ms decode step weighs as much as a 10 s prefill; Huber
 * weighted (models/lsq.h). */

typedef struct fit_ctx {
	gpu_spec g;
	const llm_spec *m;
	const calib_row *rows;
	size_t n;     /* all rows; training ones are those with !holdout */
	size_t ntrain;
	int npar;     /* 5, or 7 when the link latency is identifiable */
} fit_ctx;

static void apply(gpu_spec *g, const double *x, int npar)
{
	g->compute_eff = lsq_logistic(x[0]);
	g->mem_eff = lsq_logistic(x[1]);
	g->step_overhead_s = 1e-3 * exp(x[2]);
	g->attn_eff = lsq_logistic(x[3]);
	g->prefill_seq_tokens = exp(x[4]);
	if (npar > 5) {
		g->link_latency_s = 1e-6 * exp(x[5]);
		g->link_eff = lsq_logistic(x[6]);
	}
}

/* lsq_fn: two residuals (prompt, token) per training row. */
static int resid(const double *x, void *data, double *f, size_t nres)
{
	fit_ctx *c = data;
	size_t k = 0;

	apply(&c->g, x, c->npar);
	for (size_t i = 0; i < c->n && k + 2 <= nres; i++) {
		double ps, ts;

		if (c->rows[i].holdout || c->rows[i].excluded)
			continue;
		if (calib_predict(&c->g, c->m, &c->rows[i], &ps, &ts, NULL))
			return -1;
		f[k++] = lsq_huber(log(ps / c->rows[i].prompt_s));
		f[k++] = lsq_huber(log(ts / c->rows[i].token_s));
	}
	return k == nres ? 0 : -1;
}

static int evaluate(const gpu_spec *g, const llm_spec *m, const calib_row *rows, size_t n,
		    int want_holdout, calib_err *e, fs_err *err)
{
	memset(e, 0, sizeof *e);
	for (size_t i = 0; i < n; i++) {
		double ps, ts, ep, et;

		if (rows[i].holdout != want_holdout || rows[i].excluded)
			continue;
		if (calib_predict(g, m, &rows[i], &ps, &ts, err))
			return -1;
		ep = fabs(ps / rows[i].prompt_s - 1.0);
		et = fabs(ts / rows[i].token_s - 1.0);
		e->mape_prefill += ep;
		e->mape_decode += et;
		if (ep > e->worst_prefill)
			e->worst_prefill = ep;
		if (et > e->worst_decode)
			e->worst_decode = et;
		e->rows++;
	}
	if (e->rows) {
		e->mape_prefill /= (double)e->rows;
		e->mape_decode /= (double)e->rows;
	}
	return 0;
}

int calib_fit(const gpu_spec *g, const llm_spec *m, const calib_row *rows, size_t n,
	      calib_result *out, fs_err *err)
{
	fit_ctx ctx = {.g = *g, .m = m, .rows = rows, .n = n};
	/* Start from a typical serving GPU: 50 % of peak FLOPs, 60 % of bandwidth,
	 * 10 ms per step, 16 tokens per prompt, 2 us per ring step, 70 % of the link. */
	double x[7] = {lsq_logit(0.5), lsq_logit(0.6), log(10.0), lsq_logit(0.5), log(16.0), log(2.0),
		       lsq_logit(0.7)};
	int tp_seen[2] = {0, 0}, iters = 0;
	char term[160];

	/* The per-step all-reduce latency 2 (tp-1) alpha is a constant per step, like
	 * the step overhead; they separate only with two or more TP sizes > 1. */
	ctx.npar = 5;
	for (size_t i = 0; i < n; i++) {
		ctx.ntrain += !rows[i].holdout && !rows[i].excluded;
		if (rows[i].holdout || rows[i].excluded || rows[i].tp < 2)
			continue;
		if (!tp_seen[0])
			tp_seen[0] = rows[i].tp;
		else if (rows[i].tp != tp_seen[0])
			tp_seen[1] = rows[i].tp;
	}
	if (tp_seen[1])
		ctx.npar = 7;
	if (ctx.ntrain == 0)
		return fs_fail(err, FS_EXIT_INPUT, "calibrate: no training rows (every configuration held out)");
	{
		fs_err e = {0};
		double ps, ts;

		/* Surface configuration errors (TP vs heads) before the solver. */
		if (calib_predict(g, m, &rows[0], &ps, &ts, &e))
			return fs_fail(err, e.status, "calibrate: %s", e.msg);
	}
	snprintf(term, sizeof term, "calibrate: compute_eff, mem_eff, step_overhead, attn_eff, "
		 "prefill_seq_tokens%s", ctx.npar > 5 ? ", link_latency, link_eff" : "");
	if (lsq_solve(resid, &ctx, 2 * ctx.ntrain, ctx.npar, x, 200, term, &iters, err))
		return -1;
	memset(out, 0, sizeof *out);
	out->gpu = *g;
	apply(&out->gpu, x, ctx.npar);
	out->iterations = iters;
	out->train_rows = ctx.ntrain;
	if (evaluate(&out->gpu, m, rows, n, 0, &out->train, err) ||
	    evaluate(&out->gpu, m, rows, n, 1, &out->holdout, err))
		return -1;
	return 0;
}

int calib_write_gpu_yaml(const char *path, const gpu_spec *g, const char *header, fs_err *err)
{
	FILE *f;
	char *text;
	size_t len;

	/* Built and checked first: a GPU that cannot be written leaves no file. */
	if (gpu_yaml_string(g, &text, &len, err))
		return fs_failp(err, "%s: ", path);
	f = fopen(path, "w");
	if (!f) {
		free(text);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot write: %s", path, strerror(errno));
	}
	/* libfyaml's emitter writes no comments: the header goes first, by hand. */
	if (header && *header) {
		fputs("# ", f);
		for (const char *p = header; *p; p++) {
			if (*p == '\n') {
				if (p[1])
					fputs("\n# ", f);
			} else {
				fputc(*p == '\r' ? ' ' : *p, f); /* a CR would end the comment */
			}
		}
		fputc('\n', f);
	}
	fwrite(text, 1, len, f);
	free(text);
	if (ferror(f) | (fclose(f) != 0))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: write failed: %s", path, strerror(errno));
	return 0;
}
