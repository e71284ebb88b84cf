/* synth.c - synthetic request generator (see synth.h). */
#include "traces/synth.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "traces/trace_impl.h"
#include "util/escape.h"
#include "util/simtime.h"
#include "util/yamlutil.h"

/* ---- spec parsing ---- */

static int parse_dist(const char *file, struct fy_node *n, const char *what, synth_dist *d,
		      fs_err *err)
{
	static const char *const keys[] = {"dist", "median", "sigma", "value", "cdf", "min", "max", NULL};
	struct fy_node *v;
	char kind[32];

	memset(d, 0, sizeof *d);
	d->min = 1;
	d->max = 1 << 24;
	if (yu_expect_map(file, n, what, err) || yu_check_keys(file, n, keys, what, err))
		return -1;
	v = yu_get(n, "dist");
	if (!v)
		return yu_errf(err, file, n, "%s needs dist: lognormal, empirical or constant", what);
	if (yu_str(file, v, kind, sizeof kind, err))
		return -1;
	if ((v = yu_get(n, "min")) && yu_i64_range(file, v, 0, 1LL << 30, &d->min, err))
		return -1;
	if ((v = yu_get(n, "max")) && yu_i64_range(file, v, 1, 1LL << 30, &d->max, err))
		return -1;
	if (d->max < d->min)
		return yu_errf(err, file, n, "%s max %lld is below min %lld", what, (long long)d->max,
			       (long long)d->min);
	if (!strcmp(kind, "lognormal")) {
		d->kind = SYNTH_LOGNORMAL;
		if (!yu_get(n, "median") || !yu_get(n, "sigma"))
			return yu_errf(err, file, n, "lognormal %s needs median and sigma", what);
		if (yu_double_range(file, yu_get(n, "median"), 1e-9, 1e9, &d->median, err) ||
		    yu_double_range(file, yu_get(n, "sigma"), 0, 10, &d->sigma, err))
			return -1;
	} else if (!strcmp(kind, "constant")) {
		d->kind = SYNTH_CONSTANT;
		if (!yu_get(n, "value"))
			return yu_errf(err, file, n, "constant %s needs value", what);
		if (yu_double_range(file, yu_get(n, "value"), 0, 1e9, &d->value, err))
			return -1;
	} else if (!strcmp(kind, "empirical")) {
		struct fy_node *cdf = yu_get(n, "cdf"), *pt;
		void *it = NULL;
		int i = 0;

		d->kind = SYNTH_EMPIRICAL;
		if (!cdf)
			return yu_errf(err, file, n, "empirical %s needs cdf: [[tokens, F], ...]", what);
		if (yu_expect_seq(file, cdf, "cdf", err))
			return -1;
		d->n_pts = fy_node_sequence_item_count(cdf);
		if (d->n_pts < 1)
			return yu_errf(err, file, cdf, "cdf needs at least one point");
		d->x = calloc((size_t)d->n_pts, sizeof *d->x);
		d->F = calloc((size_t)d->n_pts, sizeof *d->F);
		if (!d->x || !d->F)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		while ((pt = fy_node_sequence_iterate(cdf, &it))) {
			if (yu_expect_seq(file, pt, "cdf point [tokens, F]", err))
				return -1;
			if (fy_node_sequence_item_count(pt) != 2)
				return yu_errf(err, file, pt, "cdf point must be [tokens, F]");
			if (yu_double_range(file, fy_node_sequence_get_by_index(pt, 0), 0, 1e9, &d->x[i], err) ||
			    yu_double_range(file, fy_node_sequence_get_by_index(pt, 1), 0, 1, &d->F[i], err))
				return -1;
			if (i > 0 && (d->x[i] <= d->x[i - 1] || d->F[i] < d->F[i - 1]))
				return yu_errf(err, file, pt, "cdf points must have increasing tokens and non-decreasing F");
			i++;
		}
		if (d->F[d->n_pts - 1] != 1.0)
			return yu_errf(err, file, cdf, "cdf must end with F = 1");
	} else {
		return yu_errf(err, file, yu_get(n, "dist"), "unknown dist '%s' (known: lognormal, empirical, constant)", kind);
	}
	return 0;
}

static int parse_category(const char *file, struct fy_node *n, int named, synth_category *c,
			  fs_err *err)
{
	struct fy_node *v;

	memset(c, 0, sizeof *c);
	c->weight = 1;
	if (named) {
		if (!(v = yu_get(n, "name")))
			return yu_errf(err, file, n, "category needs a name");
		if (yu_str(file, v, c->name, sizeof c->name, err))
			return -1;
		if ((v = yu_get(n, "weight")) && yu_double_range(file, v, 1e-12, 1e12, &c->weight, err))
			return -1;
	}
	if (!yu_get(n, "input") || !yu_get(n, "output"))
		return yu_errf(err, file, n, "%s needs input: and output: distributions",
			       named ? "category" : "synthetic spec");
	if (parse_dist(file, yu_get(n, "input"), "input", &c->input, err) ||
	    parse_dist(file, yu_get(n, "output"), "output", &c->output, err))
		return -1;
	if (c->input.min < 1)
		return yu_errf(err, file, yu_get(n, "input"), "input min must be at least 1");
	if ((v = yu_get(n, "max_tokens"))) {
		static const char *const keys[] = {"factor_min", "factor_max", "max", NULL};

		if (yu_expect_map(file, v, "max_tokens", err) ||
		    yu_check_keys(file, v, keys, "max_tokens", err))
			return -1;
		c->has_max_tokens = 1;
		c->mt_fmin = 1.0;
		c->mt_fmax = 2.0;
		c->mt_cap = 1LL << 30;
		if (yu_get(v, "factor_min") &&
		    yu_double_range(file, yu_get(v, "factor_min"), 1, 1e6, &c->mt_fmin, err))
			return -1;
		if (yu_get(v, "factor_max") &&
		    yu_double_range(file, yu_get(v, "factor_max"), 1, 1e6, &c->mt_fmax, err))
			return -1;
		if (c->mt_fmax < c->mt_fmin)
			return yu_errf(err, file, v, "factor_max is below factor_min");
		if (yu_get(v, "max") && yu_i64_range(file, yu_get(v, "max"), 1, 1LL << 30, &c->mt_cap, err))
			return -1;
	}
	return 0;
}

int synth_spec_from_yaml(const char *file, struct fy_node *node, synth_spec *out, fs_err *err)
{
	static const char *const keys[] = {"seed", "requests", "duration", "arrival", "categories",
					   "input", "output", "max_tokens", NULL};
	static const char *const akeys[] = {"process", "rate", "cv", NULL};
	static const char *const ckeys[] = {"name", "weight", "input", "output", "max_tokens", NULL};
	struct fy_node *v, *a;
	char proc[32];

	memset(out, 0, sizeof *out);
	if (yu_expect_map(file, node, "synthetic spec", err) ||
	    yu_check_keys(file, node, keys, "synthetic spec", err))
		goto fail;
	if ((v = yu_get(node, "seed"))) {
		int64_t s;

		if (yu_i64_range(file, v, 0, INT64_MAX, &s, err))
			goto fail;
		out->has_seed = 1;
		out->seed = (uint64_t)s;
	}
	if ((v = yu_get(node, "requests")) && yu_i64_range(file, v, 1, INT64_MAX, &out->requests, err))
		goto fail;
	if ((v = yu_get(node, "duration")) && yu_double_range(file, v, 1e-9, 1e12, &out->duration_s, err))
		goto fail;
	if (!out->requests && out->duration_s == 0) {
		yu_errf(err, file, node, "synthetic spec needs requests: or duration: to end");
		goto fail;
	}
	a = yu_get(node, "arrival");
	if (!a) {
		yu_errf(err, file, node, "synthetic spec needs arrival: {process: poisson|gamma, rate: R}");
		goto fail;
	}
	if (yu_expect_map(file, a, "arrival", err) || yu_check_keys(file, a, akeys, "arrival", err))
		goto fail;
	strcpy(proc, "poisson");
	if ((v = yu_get(a, "process")) && yu_str(file, v, proc, sizeof proc, err))
		goto fail;
	if (!strcmp(proc, "gamma")) {
		out->gamma = 1;
		if (!yu_get(a, "cv")) {
			yu_errf(err, file, a, "gamma arrivals need cv: (coefficient of variation)");
			goto fail;
		}
		if (yu_double_range(file, yu_get(a, "cv"), 1e-3, 100, &out->cv, err))
			goto fail;
	} else if (strcmp(proc, "poisson")) {
		yu_errf(err, file, yu_get(a, "process"), "unknown arrival process '%s' (known: poisson, gamma)", proc);
		goto fail;
	} else if (yu_get(a, "cv")) {
		yu_errf(err, file, yu_get(a, "cv"), "cv applies to gamma arrivals only");
		goto fail;
	}
	if (!yu_get(a, "rate")) {
		yu_errf(err, file, a, "arrival needs rate: (requests per second)");
		goto fail;
	}
	if (yu_double_range(file, yu_get(a, "rate"), 1e-9, 1e9, &out->rate, err))
		goto fail;
	if ((v = yu_get(node, "categories"))) {
		struct fy_node *c;
		void *it = NULL;

		if (yu_get(node, "input") || yu_get(node, "output") || yu_get(node, "max_tokens")) {
			yu_errf(err, file, v, "give input/output either at top level or per category, not both");
			goto fail;
		}
		if (yu_expect_seq(file, v, "categories", err))
			goto fail;
		out->n_cats = fy_node_sequence_item_count(v);
		if (out->n_cats < 1) {
			yu_errf(err, file, v, "categories is empty");
			goto fail;
		}
		out->cats = calloc((size_t)out->n_cats, sizeof *out->cats);
		if (!out->cats) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
		for (int i = 0; (c = fy_node_sequence_iterate(v, &it)); i++) {
			if (yu_expect_map(file, c, "category", err) ||
			    yu_check_keys(file, c, ckeys, "category", err) ||
			    parse_category(file, c, 1, &out->cats[i], err))
				goto fail;
			for (int j = 0; j < i; j++)
				if (!strcmp(out->cats[j].name, out->cats[i].name)) {
					yu_errf(err, file, c, "category '%s' appears twice", out->cats[i].name);
					goto fail;
				}
		}
	} else {
		out->n_cats = 1;
		out->cats = calloc(1, sizeof *out->cats);
		if (!out->cats) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
		if (parse_category(file, node, 0, &out->cats[0], err))
			goto fail;
	}
	return 0;
fail:
	synth_spec_free(out);
	return -1;
}

int synth_spec_load(const char *path, synth_spec *out, fs_err *err)
{
	struct fy_document *doc;
	int rc;

	memset(out, 0, sizeof *out);
	if (yu_load_file(path, &doc, err))
		return -1;
	rc = synth_spec_from_yaml(path, fy_document_root(doc), out, err);
	fy_document_destroy(doc);
	return rc;
}

static void dist_free(synth_dist *d)
{
	free(d->x);
	free(d->F);
	d->x = d->F = NULL;
}

void synth_spec_free(synth_spec *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_cats; i++) {
		dist_free(&s->cats[i].input);
		dist_free(&s->cats[i].output);
	}
	free(s->cats);
	memset(s, 0, sizeof *s);
}

static int dist_copy(const synth_dist *s, synth_dist *d)
{
	*d = *s;
	d->x = d->F = NULL;
	if (s->kind != SYNTH_EMPIRICAL)
		return 0;
	d->x = malloc((size_t)s->n_pts * sizeof *d->x);
	d->F = malloc((size_t)s->n_pts * sizeof *d->F);
	if (!d->x || !d->F)
		return -1;
	memcpy(d->x, s->x, (size_t)s->n_pts * sizeof *d->x);
	memcpy(d->F, s->F, (size_t)s->n_pts * sizeof *d->F);
	return 0;
}

int synth_spec_copy(const synth_spec *src, synth_spec *dst, fs_err *err)
{
	*dst = *src;
	dst->cats = calloc((size_t)src->n_cats, sizeof *dst->cats);
	if (!dst->cats) {
		dst->n_cats = 0;
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	for (int i = 0; i < src->n_cats; i++) {
		dst->cats[i] = src->cats[i];
		dst->cats[i].input.x = dst->cats[i].input.F = NULL;
		dst->cats[i].output.x = dst->cats[i].output.F = NULL;
		if (dist_copy(&src->cats[i].input, &dst->cats[i].input) ||
		    dist_copy(&src->cats[i].output, &dst->cats[i].output)) {
			synth_spec_free(dst);
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		}
	}
	return 0;
}

/* ---- the generator ---- */

typedef struct synth_reader {
	trace_reader base;
	synth_spec spec;
	gsl_rng *arr_rng, *len_rng; /* separate streams: changing the rate keeps the lengths */
	gsl_ran_discrete_t *pick;
	int64_t t_ns, emitted;
	int *cat_map;               /* spec category -> reader category index, -1 if unnamed */
} synth_reader;

static int64_t draw(const synth_dist *d, gsl_rng *r)
{
	double v;

	switch (d->kind) {
	case SYNTH_CONSTANT:
		v = d->value;
		break;
	case SYNTH_LOGNORMAL:
		v = gsl_ran_lognormal(r, d->mu, d->sigma);
		break;
	default: {
		double u = gsl_rng_uniform(r);
		int i = 0;

		while (i < d->n_pts - 1 && d->F[i] < u)
			i++;
		if (i == 0 || d->F[i] == d->F[i - 1])
			v = d->x[i];
		else
			v = d->x[i - 1] + (u - d->F[i - 1]) / (d->F[i] - d->F[i - 1]) * (d->x[i] - d->x[i - 1]);
	}
	}
	v = floor(v + 0.5);
	if (v < (double)d->min)
		return d->min;
	if (v > (double)d->max)
		return d->max;
	return (int64_t)v;
}

static int synth_next(trace_reader *r, trace_req *out, fs_err *err)
{
	synth_reader *s = (synth_reader *)r;
	const synth_spec *sp = &s->spec;
	const synth_category *c;
	double gap;
	size_t k;

	(void)err;
	if (sp->requests && s->emitted >= sp->requests)
		return 0;
	if (sp->gamma) { /* shape 1/cv^2 and mean 1/rate give the asked-for CV */
		double shape = 1.0 / (sp->cv * sp->cv);

		gap = gsl_ran_gamma(s->arr_rng, shape, 1.0 / (sp->rate * shape));
	} else {
		gap = gsl_ran_exponential(s->arr_rng, 1.0 / sp->rate);
	}
	{
		simtime_t g, end;

		/* A gap past any representable time ends the stream, as a duration would. */
		if (st_from_s(gap, &g) || s->t_ns > INT64_MAX / 2 - g)
			return 0;
		s->t_ns += g;
		if (sp->duration_s > 0 && !st_from_s(sp->duration_s, &end) && s->t_ns > end)
			return 0;
	}
	k = sp->n_cats > 1 ? gsl_ran_discrete(s->len_rng, s->pick) : 0;
	c = &sp->cats[k];
	memset(out, 0, sizeof *out);
	out->arrival_ns = s->t_ns;
	out->input_tokens = (int32_t)draw(&c->input, s->len_rng);
	out->output_tokens = (int32_t)draw(&c->output, s->len_rng);
	out->max_tokens = -1;
	out->prompt_bytes = -1;
	out->category = s->cat_map[k];
	if (out->output_tokens == 0)
		out->flags |= TRACE_F_FAILED;
	if (c->has_max_tokens) {
		double f = c->mt_fmin + (c->mt_fmax - c->mt_fmin) * gsl_rng_uniform(s->len_rng);
		double m = ceil(out->output_tokens * f);

		out->max_tokens = m > (double)c->mt_cap ? (int32_t)c->mt_cap : (int32_t)m;
		if (out->max_tokens < out->output_tokens)
			out->max_tokens = out->output_tokens;
	}
	s->emitted++;
	return 1;
}

static void synth_destroy(trace_reader *r)
{
	synth_reader *s = (synth_reader *)r;

	if (s->arr_rng)
		gsl_rng_free(s->arr_rng);
	if (s->len_rng)
		gsl_rng_free(s->len_rng);
	if (s->pick)
		gsl_ran_discrete_free(s->pick);
	free(s->cat_map);
	synth_spec_free(&s->spec);
}

static const trace_ops synth_ops = {.next = synth_next, .destroy = synth_destroy};

int synth_open(const synth_spec *spec, uint64_t seed, trace_reader **out, fs_err *err)
{
	synth_reader *s = (synth_reader *)trace_alloc(sizeof *s, &synth_ops);
	double *w = NULL;

	if (!s)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	if (synth_spec_copy(spec, &s->spec, err))
		goto fail;
	s->arr_rng = gsl_rng_alloc(gsl_rng_mt19937);
	s->len_rng = gsl_rng_alloc(gsl_rng_mt19937);
	s->cat_map = calloc((size_t)spec->n_cats, sizeof *s->cat_map);
	w = calloc((size_t)spec->n_cats, sizeof *w);
	if (!s->arr_rng || !s->len_rng || !s->cat_map || !w) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	/* Two streams from one seed: mt19937 seeds are 32-bit, fold the 64-bit seed. */
	gsl_rng_set(s->arr_rng, (unsigned long)((seed ^ (seed >> 32)) & 0xffffffffu));
	gsl_rng_set(s->len_rng, (unsigned long)(((seed ^ (seed >> 32)) + 0x9e3779b9u) & 0xffffffffu));
	for (int i = 0; i < spec->n_cats; i++) {
		synth_category *c = &s->spec.cats[i];

		c->input.mu = log(c->input.median);
		c->output.mu = log(c->output.median);
		w[i] = spec->cats[i].weight;
		s->cat_map[i] = -1;
		if (spec->cats[i].name[0] &&
		    trace_cat_intern(&s->base, spec->cats[i].name, strlen(spec->cats[i].name),
				     &s->cat_map[i], err))
			goto fail;
	}
	if (spec->n_cats > 1) {
		s->pick = gsl_ran_discrete_preproc((size_t)spec->n_cats, w);
		if (!s->pick) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
	}
	free(w);
	*out = &s->base;
	return 0;
fail:
	free(w);
	trace_close(&s->base);
	return -1;
}

int synth_write_csv(trace_reader *r, FILE *f, const char *name, int64_t *n_rows, fs_err *err)
{
	trace_req q;
	int64_t n = 0;
	int rc;

	fputs("arrival_s,input_tokens,output_tokens,max_tokens,category,prompt_bytes\n", f);
	while ((rc = trace_next(r, &q, err)) == 1) {
		const char *cat = q.category >= 0 ? trace_category_name(r, q.category) : NULL;

		fprintf(f, "%lld.%09lld,%d,%d,", (long long)(q.arrival_ns / 1000000000LL),
			(long long)(q.arrival_ns % 1000000000LL), q.input_tokens, q.output_tokens);
		if (q.max_tokens >= 0)
			fprintf(f, "%d", q.max_tokens);
		fputc(',', f);
		esc_csv(f, cat);
		fputc(',', f);
		if (q.prompt_bytes >= 0)
			fprintf(f, "%d", q.prompt_bytes);
		fputc('\n', f);
		n++;
	}
	if (rc < 0)
		return -1;
	if (ferror(f))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: write error", name);
	*n_rows = n;
	return 0;
}
