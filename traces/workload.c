/* workload.c - workload config and the transform readers (see workload.h). */
#include "traces/workload.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/tcache.h"
#include "traces/trace_impl.h"
#include "util/yamlutil.h"
#include "util/simtime.h"

/* ---- config ---- */

workload_cfg workload_cfg_default(void)
{
	workload_cfg c;

	memset(&c, 0, sizeof c);
	c.rate_scale = 1.0;
	return c;
}

static void src_free(workload_src *s)
{
	free(s->trace);
	s->trace = NULL;
	if (s->has_synth)
		synth_spec_free(&s->synth);
	s->has_synth = 0;
}

void workload_cfg_free(workload_cfg *cfg)
{
	if (!cfg)
		return;
	src_free(&cfg->src);
	for (int i = 0; i < cfg->n_mix; i++)
		src_free(&cfg->mix[i]);
	cfg->n_mix = 0;
}

static int parse_src(const char *file, struct fy_node *n, const char *base_dir, int in_mix,
		     workload_src *s, fs_err *err)
{
	struct fy_node *t = yu_get(n, "trace"), *sy = yu_get(n, "synthetic"), *v;
	char path[4096], fmt[32];

	s->weight = 1.0;
	if (t && sy)
		return yu_errf(err, file, sy, "give either trace: or synthetic:, not both");
	if (!t && !sy)
		return yu_errf(err, file, n, in_mix ? "mix entry needs trace: or synthetic:"
					    : "workload needs trace:, synthetic: or mix:");
	if (t) {
		if (yu_str(file, t, path, sizeof path, err))
			return -1;
		if (!path[0])
			return yu_errf(err, file, t, "trace path is empty");
		if (path[0] != '/' && base_dir && base_dir[0]) {
			size_t need = strlen(base_dir) + strlen(path) + 2;

			s->trace = malloc(need);
			if (s->trace)
				snprintf(s->trace, need, "%s/%s", base_dir, path);
		} else {
			s->trace = strdup(path);
		}
		if (!s->trace)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	} else {
		if (synth_spec_from_yaml(file, sy, &s->synth, err))
			return -1;
		s->has_synth = 1;
	}
	if ((v = yu_get(n, "format"))) {
		if (!t)
			return yu_errf(err, file, v, "format: applies to trace: files only");
		if (yu_str(file, v, fmt, sizeof fmt, err))
			return -1;
		if (trace_format_parse(fmt, &s->format))
			return yu_errf(err, file, v, "unknown trace format '%s' (known: auto, azure, burstgpt, mooncake, csv, jsonl, openai)", fmt);
	}
	if ((v = yu_get(n, "columns"))) {
		static const char *roles[TRACE_COL_N + 1];
		void *it = NULL;
		struct fy_node_pair *p;

		if (!t)
			return yu_errf(err, file, v, "columns: applies to trace: files only");
		for (int r = 0; r < TRACE_COL_N; r++)
			roles[r] = trace_column_role_name(r);
		if (yu_expect_map(file, v, "columns", err) || yu_check_keys(file, v, roles, "columns", err))
			return -1;
		while ((p = fy_node_mapping_iterate(v, &it))) {
			struct fy_node *k = fy_node_pair_key(p), *c = fy_node_pair_value(p);
			const char *ks;
			size_t kl;
			int r;

			ks = fy_node_get_scalar(k, &kl);
			r = ks ? trace_column_role_parse(ks, kl) : -1;
			if (r < 0)
				return yu_errf(err, file, k, "unknown key in columns (known: %s)",
					       trace_column_roles_known());
			if (yu_str(file, c, s->columns[r], sizeof s->columns[r], err))
				return -1;
			if (!s->columns[r][0])
				return yu_errf(err, file, c, "columns.%s is empty", trace_column_role_name(r));
		}
	}
	if ((v = yu_get(n, "time_unit"))) {
		if (!t)
			return yu_errf(err, file, v, "time_unit: applies to trace: files only");
		if (yu_str(file, v, fmt, sizeof fmt, err))
			return -1;
		if (trace_time_unit_parse(fmt, &s->time_unit))
			return yu_errf(err, file, v, "unknown time_unit '%s' (known: s, ms, us, ns, iso8601, auto)", fmt);
	}
	if ((v = yu_get(n, "model_filter"))) {
		if (!t)
			return yu_errf(err, file, v, "model_filter: applies to trace: files only");
		if (yu_str(file, v, s->model_filter, sizeof s->model_filter, err))
			return -1;
		if (!s->model_filter[0])
			return yu_errf(err, file, v, "model_filter is empty");
	}
	if ((v = yu_get(n, "weight")) && yu_double_range(file, v, 1e-12, 1e12, &s->weight, err))
		return -1;
	if ((v = yu_get(n, "start")) && yu_double_range(file, v, 0, 1e12, &s->start_s, err))
		return -1;
	if ((v = yu_get(n, "duration")) && yu_double_range(file, v, 1e-9, 1e12, &s->duration_s, err))
		return -1;
	return 0;
}

int workload_from_yaml(const char *file, struct fy_node *node, const char *base_dir,
		       workload_cfg *out, fs_err *err)
{
	static const char *const keys[] = {"trace", "format", "synthetic", "mix", "target_rate",
					   "rate_scale", "start", "duration", "max_requests", "retime",
					   "skip_bad_rows", "seed", "bootstrap", "columns", "time_unit",
					   "model_filter", NULL};
	static const char *const mkeys[] = {"trace", "synthetic", "format", "weight", "start",
					    "duration", "columns", "time_unit", "model_filter", NULL};
	struct fy_node *v, *mix;
	char buf[32];

	*out = workload_cfg_default();
	if (yu_expect_map(file, node, "workload", err) ||
	    yu_check_keys(file, node, keys, "workload", err))
		goto fail;
	if ((v = yu_get(node, "target_rate")) &&
	    yu_double_range(file, v, 1e-9, 1e9, &out->target_rate, err))
		goto fail;
	if ((v = yu_get(node, "rate_scale"))) {
		if (out->target_rate > 0) {
			yu_errf(err, file, v, "give either target_rate or rate_scale, not both");
			goto fail;
		}
		if (yu_double_range(file, v, 1e-9, 1e9, &out->rate_scale, err))
			goto fail;
	}
	if ((v = yu_get(node, "max_requests")) &&
	    yu_i64_range(file, v, 1, INT64_MAX, &out->max_requests, err))
		goto fail;
	if ((v = yu_get(node, "retime"))) {
		if (yu_str(file, v, buf, sizeof buf, err))
			goto fail;
		if (!strcmp(buf, "poisson"))
			out->retime_poisson = 1;
		else if (strcmp(buf, "none")) {
			yu_errf(err, file, v, "unknown retime '%s' (known: poisson, none)", buf);
			goto fail;
		}
	}
	if ((v = yu_get(node, "skip_bad_rows")) && yu_bool(file, v, &out->skip_bad_rows, err))
		goto fail;
	if ((v = yu_get(node, "seed"))) {
		int64_t s;

		if (yu_i64_range(file, v, 0, INT64_MAX, &s, err))
			goto fail;
		out->has_seed = 1;
		out->seed = (uint64_t)s;
	}
	if ((v = yu_get(node, "bootstrap"))) {
		static const char *const bkeys[] = {"block", "seed", NULL};
		struct fy_node *b;
		int64_t bs = 0;

		if (yu_expect_map(file, v, "bootstrap", err) || yu_check_keys(file, v, bkeys, "bootstrap", err))
			goto fail;
		if (!(b = yu_get(v, "block"))) {
			yu_errf(err, file, v, "bootstrap needs block: (seconds)");
			goto fail;
		}
		if (yu_double_range(file, b, 1e-3, 1e9, &out->bootstrap_block_s, err))
			goto fail;
		if ((b = yu_get(v, "seed")) && yu_i64_range(file, b, 0, INT64_MAX, &bs, err))
			goto fail;
		out->bootstrap_seed = (uint64_t)bs;
	}
	mix = yu_get(node, "mix");
	if (mix) {
		struct fy_node *e;
		void *it = NULL;
		static const char *const single[] = {"trace", "synthetic", "format", "start", "duration",
						     "columns", "time_unit", "model_filter"};

		for (size_t i = 0; i < sizeof single / sizeof *single; i++)
			if ((v = yu_get(node, single[i]))) {
				yu_errf(err, file, v, "with mix:, put %s: inside each mix entry", single[i]);
				goto fail;
			}
		if (yu_expect_seq(file, mix, "mix", err))
			goto fail;
		if (fy_node_sequence_item_count(mix) < 1 ||
		    fy_node_sequence_item_count(mix) > WORKLOAD_MAX_MIX) {
			yu_errf(err, file, mix, "mix needs 1 to %d entries", WORKLOAD_MAX_MIX);
			goto fail;
		}
		while ((e = fy_node_sequence_iterate(mix, &it))) {
			workload_src *s = &out->mix[out->n_mix++];

			if (yu_expect_map(file, e, "mix entry", err) ||
			    yu_check_keys(file, e, mkeys, "mix entry", err) ||
			    parse_src(file, e, base_dir, 1, s, err))
				goto fail;
		}
	} else {
		if ((v = yu_get(node, "weight"))) {
			yu_errf(err, file, v, "weight applies to mix entries only");
			goto fail;
		}
		if (parse_src(file, node, base_dir, 0, &out->src, err))
			goto fail;
	}
	return 0;
fail:
	workload_cfg_free(out);
	return -1;
}

/* ---- window + cap ---- */

typedef struct window_reader {
	trace_reader base;
	trace_reader *in;
	int64_t start_ns, end_ns; /* end_ns < 0: open */
	int64_t max_n, n;         /* max_n 0: no cap */
	/* A start/duration window that selects nothing is an error naming the window and
	 * the source's span, not an empty replay that "succeeds". */
	const char *what;         /* non-NULL until the check ran (not owned) */
	const char *path;         /* the source, for that message (not owned) */
	double start_s, duration_s;
	int64_t seen, first_ns, last_ns; /* source requests read, and their span */
} window_reader;

/* Wrappers start with base then their source, so these forward for all of them. */
typedef struct wrap_head {
	trace_reader base;
	trace_reader *in;
} wrap_head;

static const char *fwd_cat_name(const trace_reader *r, int idx)
{
	return trace_category_name(((const wrap_head *)r)->in, idx);
}

static int fwd_cat_count(const trace_reader *r)
{
	return trace_category_count(((const wrap_head *)r)->in);
}

static int64_t fwd_bad(const trace_reader *r)
{
	return trace_bad_rows(((const wrap_head *)r)->in);
}

static const char *fwd_note(const trace_reader *r)
{
	return trace_time_note(((const wrap_head *)r)->in);
}

static void fwd_destroy(trace_reader *r)
{
	trace_close(((wrap_head *)r)->in);
}

/* The window selected no request: read the rest of the source for its span and say
 * both (exit 2). */
static int window_empty(window_reader *w, fs_err *err)
{
	trace_req q;
	int rc;
	char dur[48];

	while ((rc = trace_next(w->in, &q, err)) == 1) {
		if (w->seen++ == 0)
			w->first_ns = q.arrival_ns;
		w->last_ns = q.arrival_ns;
	}
	if (rc < 0)
		return -1;
	if (w->duration_s > 0)
		snprintf(dur, sizeof dur, "duration %g s", w->duration_s);
	else
		snprintf(dur, sizeof dur, "no duration");
	w->what = NULL; /* report once */
	if (w->seen == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: workload window (start %g s, %s) selects no request: the trace has none",
			       w->path, w->start_s, dur);
	return fs_fail(err, FS_EXIT_INPUT,
		       "%s: workload window (start %g s, %s) selects no request: the trace's %lld requests span %.3f s to %.3f s "
		       "(from its first request when timestamps are absolute)",
		       w->path, w->start_s, dur, (long long)w->seen, st_to_s(w->first_ns), st_to_s(w->last_ns));
}

static int window_next(trace_reader *r, trace_req *out, fs_err *err)
{
	window_reader *w = (window_reader *)r;
	int rc;

	if (w->max_n && w->n >= w->max_n)
		return 0;
	for (;;) {
		rc = trace_next(w->in, out, err);
		if (rc == 1) {
			if (w->seen++ == 0)
				w->first_ns = out->arrival_ns;
			w->last_ns = out->arrival_ns;
		}
		if (rc < 0)
			return rc;
		if (rc == 0 || (w->end_ns >= 0 && out->arrival_ns >= w->end_ns)) {
			/* arrivals are non-decreasing: nothing later fits */
			if (w->n == 0 && w->what)
				return window_empty(w, err);
			return 0;
		}
		if (out->arrival_ns < w->start_ns)
			continue;
		out->arrival_ns -= w->start_ns;
		w->n++;
		return 1;
	}
}

static const trace_ops window_ops = {window_next, fwd_destroy, fwd_cat_name, fwd_cat_count, fwd_bad, fwd_note};

/* Takes ownership of in (closed on failure too).  what: the source's name, for the
 * error when a start/duration window selects nothing (NULL: no such check). */
static int wrap_window(trace_reader *in, double start_s, double duration_s, int64_t max_n,
		       const char *what, trace_reader **out, fs_err *err)
{
	window_reader *w;

	if (start_s == 0 && duration_s == 0 && max_n == 0) {
		*out = in;
		return 0;
	}
	w = (window_reader *)trace_alloc(sizeof *w, &window_ops);
	if (!w) {
		trace_close(in);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	w->in = in;
	w->base.format = in->format;
	{
		simtime_t d = 0;

		if (st_from_s(start_s, &w->start_ns) || (duration_s > 0 && st_from_s(duration_s, &d))) {
			trace_close(&w->base);
			return fs_fail(err, FS_EXIT_INPUT, "trace window start %g s / duration %g s out of range",
				       start_s, duration_s);
		}
		w->end_ns = duration_s > 0 ? w->start_ns + d : -1;
	}
	w->max_n = max_n;
	w->start_s = start_s;
	w->duration_s = duration_s;
	w->path = what && (start_s > 0 || duration_s > 0) ? what : NULL;
	w->what = w->path;
	*out = &w->base;
	return 0;
}

/* ---- block bootstrap ---- */

typedef struct boot_req {
	trace_req q;
	uint64_t *hashes;          /* own copy (trace_req.hashes lives one call) */
} boot_req;

typedef struct boot_reader {
	trace_reader base;
	trace_reader *in;          /* after base, for fwd_* */
	double block_s;
	uint64_t seed;
	int loaded;
	boot_req *reqs;
	size_t n;
	size_t *start;             /* block b: reqs[start[b] .. start[b + 1]) */
	int64_t nblocks, block_ns;
	int64_t i;                 /* output block */
	size_t k, end;             /* next request of the drawn block, and its end */
	int64_t shift;             /* arrival offset of the drawn block */
	gsl_rng *rng;
} boot_reader;

static int boot_load(boot_reader *b, fs_err *err)
{
	size_t cap = 0;
	trace_req q;
	int rc;
	int64_t first = 0, span;

	while ((rc = trace_next(b->in, &q, err)) == 1) {
		boot_req *e;
		if (b->n == cap) {
			size_t nc = cap ? 2 * cap : 1024;
			boot_req *p = realloc(b->reqs, nc * sizeof *p);
			if (!p)
				return fs_fail(err, FS_EXIT_RUNTIME, "out of memory bootstrapping the workload");
			b->reqs = p;
			cap = nc;
		}
		e = &b->reqs[b->n];
		e->q = q;
		e->hashes = NULL;
		if (q.n_hashes > 0 && q.hashes) {
			e->hashes = malloc((size_t)q.n_hashes * sizeof *e->hashes);
			if (!e->hashes)
				return fs_fail(err, FS_EXIT_RUNTIME, "out of memory bootstrapping the workload");
			memcpy(e->hashes, q.hashes, (size_t)q.n_hashes * sizeof *e->hashes);
		}
		if (b->n == 0)
			first = q.arrival_ns;
		b->n++;
	}
	if (rc < 0)
		return -1;
	b->loaded = 1;
	if (b->n == 0)
		return 0;
	if (st_from_s(b->block_s, &b->block_ns) || b->block_ns < 1)
		return fs_fail(err, FS_EXIT_INPUT, "bootstrap block %g s out of range", b->block_s);
	for (size_t i = 0; i < b->n; i++)
		b->reqs[i].q.arrival_ns -= first;
	span = b->reqs[b->n - 1].q.arrival_ns;
	b->nblocks = span / b->block_ns + 1;
	b->start = calloc((size_t)b->nblocks + 1, sizeof *b->start);
	b->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!b->start || !b->rng)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory bootstrapping the workload");
	gsl_rng_set(b->rng, b->seed);
	{
		size_t i = 0;
		for (int64_t k = 0; k <= b->nblocks; k++) {
			while (i < b->n && b->reqs[i].q.arrival_ns < k * b->block_ns)
				i++;
			b->start[k] = i;
		}
		b->start[b->nblocks] = b->n;
	}
	b->i = -1;
	b->k = b->end = 0;
	return 0;
}

static int boot_next(trace_reader *r, trace_req *out, fs_err *err)
{
	boot_reader *b = (boot_reader *)r;

	if (!b->loaded && boot_load(b, err))
		return -1;
	if (b->n == 0)
		return 0;
	while (b->k >= b->end) {
		int64_t d;
		if (++b->i >= b->nblocks)
			return 0;
		d = (int64_t)gsl_rng_uniform_int(b->rng, (unsigned long)b->nblocks);
		b->k = b->start[d];
		b->end = b->start[d + 1];
		b->shift = (b->i - d) * b->block_ns;
	}
	*out = b->reqs[b->k].q;
	out->hashes = b->reqs[b->k].hashes;
	out->arrival_ns += b->shift;
	b->k++;
	return 1;
}

static void boot_destroy(trace_reader *r)
{
	boot_reader *b = (boot_reader *)r;

	for (size_t i = 0; i < b->n; i++)
		free(b->reqs[i].hashes);
	free(b->reqs);
	free(b->start);
	if (b->rng)
		gsl_rng_free(b->rng);
	trace_close(b->in);
}

static const trace_ops boot_ops = {boot_next, boot_destroy, fwd_cat_name, fwd_cat_count, fwd_bad, fwd_note};

/* Takes ownership of in (closed on failure too). */
static int wrap_bootstrap(trace_reader *in, const workload_cfg *cfg, uint64_t salt, trace_reader **out,
			  fs_err *err)
{
	boot_reader *b;

	if (!cfg || !(cfg->bootstrap_block_s > 0)) {
		*out = in;
		return 0;
	}
	b = (boot_reader *)trace_alloc(sizeof *b, &boot_ops);
	if (!b) {
		trace_close(in);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	b->in = in;
	b->base.format = in->format;
	b->block_s = cfg->bootstrap_block_s;
	b->seed = cfg->bootstrap_seed + salt;
	*out = &b->base;
	return 0;
}

/* ---- rescale / Poisson re-timing ---- */

typedef struct retime_reader {
	trace_reader base;
	trace_reader *in;    /* first member after base, like window_reader, for fwd_* */
	double factor;       /* rescale: arrival / factor */
	gsl_rng *rng;        /* Poisson: non-NULL */
	double rate;
	int64_t t_ns;
} retime_reader;

static int retime_next(trace_reader *r, trace_req *out, fs_err *err)
{
	retime_reader *t = (retime_reader *)r;
	int rc = trace_next(t->in, out, err);

	if (rc != 1)
		return rc;
	if (t->rng) {
		simtime_t g;

		/* A gap past any representable time: the arrival stays at the horizon. */
		if (st_from_s(gsl_ran_exponential(t->rng, 1.0 / t->rate), &g) || t->t_ns > INT64_MAX / 2 - g)
			g = 0, t->t_ns = INT64_MAX / 2;
		t->t_ns += g;
		out->arrival_ns = t->t_ns;
	} else {
		out->arrival_ns = llround((double)out->arrival_ns / t->factor);
	}
	return 1;
}

static void retime_destroy(trace_reader *r)
{
	retime_reader *t = (retime_reader *)r;

	trace_close(t->in);
	if (t->rng)
		gsl_rng_free(t->rng);
}

static const trace_ops retime_ops = {retime_next, retime_destroy, fwd_cat_name, fwd_cat_count, fwd_bad, fwd_note};

/* factor > 0: rescale; poisson_rate > 0: re-time.  Takes ownership of in. */
static int wrap_retime(trace_reader *in, double factor, double poisson_rate, uint64_t seed,
		       trace_reader **out, fs_err *err)
{
	retime_reader *t;

	if (poisson_rate <= 0 && factor == 1.0) {
		*out = in;
		return 0;
	}
	t = (retime_reader *)trace_alloc(sizeof *t, &retime_ops);
	if (!t) {
		trace_close(in);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	t->in = in;
	t->base.format = in->format;
	t->factor = factor;
	if (poisson_rate > 0) {
		t->rate = poisson_rate;
		t->rng = gsl_rng_alloc(gsl_rng_mt19937);
		if (!t->rng) {
			trace_close(&t->base);
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		}
		gsl_rng_set(t->rng, (unsigned long)(((seed ^ (seed >> 32)) + 0x5bd1e995u) & 0xffffffffu));
	}
	*out = &t->base;
	return 0;
}

/* ---- mix: merge by arrival ---- */

typedef struct mix_reader {
	trace_reader base;
	int n;
	trace_reader *in[WORKLOAD_MAX_MIX];
	trace_req head[WORKLOAD_MAX_MIX];
	int state[WORKLOAD_MAX_MIX]; /* 0 needs a pull, 1 head valid, 2 ended */
} mix_reader;

static int mix_next(trace_reader *r, trace_req *out, fs_err *err)
{
	mix_reader *m = (mix_reader *)r;
	int best = -1;

	for (int i = 0; i < m->n; i++) {
		if (m->state[i] == 0) {
			int rc = trace_next(m->in[i], &m->head[i], err);

			if (rc < 0)
				return -1;
			m->state[i] = rc == 1 ? 1 : 2;
		}
		if (m->state[i] == 1 && (best < 0 || m->head[i].arrival_ns < m->head[best].arrival_ns))
			best = i; /* ties go to the earlier entry: deterministic */
	}
	if (best < 0)
		return 0;
	*out = m->head[best];
	m->state[best] = 0; /* its hashes stay valid until we pull it again, on the next call */
	if (out->category >= 0) {
		const char *nm = trace_category_name(m->in[best], out->category);

		if (nm && trace_cat_intern(&m->base, nm, strlen(nm), &out->category, err))
			return -1;
	}
	return 1;
}

static int64_t mix_bad(const trace_reader *r)
{
	const mix_reader *m = (const mix_reader *)r;
	int64_t n = 0;

	for (int i = 0; i < m->n; i++)
		n += trace_bad_rows(m->in[i]);
	return n;
}

static void mix_destroy(trace_reader *r)
{
	mix_reader *m = (mix_reader *)r;

	for (int i = 0; i < m->n; i++)
		trace_close(m->in[i]);
}

static const trace_ops mix_ops = {.next = mix_next, .destroy = mix_destroy, .bad_rows = mix_bad};

/* ---- composition ---- */

static int open_src(const workload_src *s, const workload_cfg *cfg, uint64_t salt, int skip_bad, uint64_t seed,
		    trace_reader **out, fs_err *err)
{
	trace_reader *r = NULL;

	if (s->has_synth) {
		if (synth_open(&s->synth, s->synth.has_seed ? s->synth.seed : seed, &r, err))
			return -1;
	} else {
		trace_open_opts o = trace_open_opts_default();

		o.format = s->format;
		o.skip_bad_rows = skip_bad;
		o.time_unit = s->time_unit;
		memcpy(o.columns, s->columns, sizeof o.columns);
		memcpy(o.model_filter, s->model_filter, sizeof o.model_filter);
		if (tcache_open(s->trace, &o, &r, err))
			return -1;
	}
	if (wrap_window(r, s->start_s, s->duration_s, 0, s->trace ? s->trace : "synthetic workload", &r, err))
		return -1;
	return wrap_bootstrap(r, cfg, salt, out, err);
}

/* Mean rate of a fresh copy of the source: count / (last - first arrival). */
static int measure_rate(const workload_src *s, const workload_cfg *cfg, uint64_t salt, int skip_bad, uint64_t seed,
			int64_t max_n, double *rate, fs_err *err)
{
	trace_reader *r, *w = NULL;
	trace_req q;
	int64_t n = 0, first = 0, last = 0;
	int rc;

	if (open_src(s, cfg, salt, skip_bad, seed, &r, err) || wrap_window(r, 0, 0, max_n, NULL, &w, err))
		return -1;
	while ((rc = trace_next(w, &q, err)) == 1) {
		if (n++ == 0)
			first = q.arrival_ns;
		last = q.arrival_ns;
	}
	trace_close(w);
	if (rc < 0)
		return -1;
	if (n < 2 || last == first)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: cannot rescale: the selected requests (%lld) span no time, so they have no mean rate",
			       s->trace ? s->trace : "synthetic workload", (long long)n);
	*rate = n / st_to_s(last - first);
	return 0;
}

int workload_open(const workload_cfg *cfg, uint64_t seed, trace_reader **out, fs_err *err)
{
	trace_reader *r = NULL;

	if (cfg->has_seed)
		seed = cfg->seed;
	if (cfg->n_mix == 0) {
		double factor = cfg->rate_scale, prate = 0, native;

		if (!cfg->src.trace && !cfg->src.has_synth)
			return fs_fail(err, FS_EXIT_INPUT, "workload has no trace, synthetic or mix source");
		if (cfg->retime_poisson && cfg->target_rate > 0) {
			prate = cfg->target_rate;
		} else if (cfg->target_rate > 0 || cfg->retime_poisson) {
			if (measure_rate(&cfg->src, cfg, 0, cfg->skip_bad_rows, seed, cfg->max_requests, &native, err))
				return -1;
			if (cfg->retime_poisson)
				prate = native * cfg->rate_scale;
			else
				factor = cfg->target_rate / native;
		}
		if (open_src(&cfg->src, cfg, 0, cfg->skip_bad_rows, seed, &r, err) ||
		    wrap_window(r, 0, 0, cfg->max_requests, NULL, &r, err) ||
		    wrap_retime(r, prate > 0 ? 1.0 : factor, prate, seed, &r, err))
			return -1;
		*out = r;
		return 0;
	} else {
		mix_reader *m;
		double native[WORKLOAD_MAX_MIX], sum_w = 0, sum_rate = 0, total;

		for (int i = 0; i < cfg->n_mix; i++) {
			if (measure_rate(&cfg->mix[i], cfg, (uint64_t)i, cfg->skip_bad_rows, seed + (uint64_t)i, 0, &native[i],
					 err))
				return -1;
			sum_w += cfg->mix[i].weight;
			sum_rate += native[i];
		}
		total = cfg->target_rate > 0 ? cfg->target_rate : cfg->rate_scale * sum_rate;
		m = (mix_reader *)trace_alloc(sizeof *m, &mix_ops);
		if (!m)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		for (int i = 0; i < cfg->n_mix; i++) {
			double want = total * cfg->mix[i].weight / sum_w;

			if (open_src(&cfg->mix[i], cfg, (uint64_t)i, cfg->skip_bad_rows, seed + (uint64_t)i, &r, err) ||
			    wrap_retime(r, want / native[i], 0, 0, &m->in[i], err)) {
				trace_close(&m->base);
				return -1;
			}
			m->n++;
		}
		r = &m->base;
		if (wrap_window(r, 0, 0, cfg->max_requests, NULL, &r, err) ||
		    wrap_retime(r, 1.0, cfg->retime_poisson ? total : 0, seed, &r, err))
			return -1;
		*out = r;
		return 0;
	}
}

/* Append src's note (after reading its first request) to buf. */
static int src_note(const workload_src *s, int skip_bad, char *buf, size_t cap, size_t *len,
		    fs_err *err)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	trace_req q;
	const char *note;
	int rc;

	if (!s->trace)
		return 0;
	o.format = s->format;
	o.skip_bad_rows = skip_bad;
	o.time_unit = s->time_unit;
	memcpy(o.columns, s->columns, sizeof o.columns);
	memcpy(o.model_filter, s->model_filter, sizeof o.model_filter);
	if (trace_open_file(s->trace, &o, &r, err))
		return -1;
	rc = trace_next(r, &q, err);
	note = trace_time_note(r);
	if (rc >= 0 && note && *len < cap)
		*len += (size_t)snprintf(buf + *len, cap - *len, "%s%s", *len ? "\n" : "", note);
	trace_close(r);
	if (*len >= cap)
		*len = cap - 1;
	return rc < 0 ? -1 : 0;
}

int workload_time_notes(const workload_cfg *cfg, char *buf, size_t cap, fs_err *err)
{
	size_t len = 0;

	if (!cap)
		return 0;
	buf[0] = '\0';
	if (cfg->n_mix == 0)
		return src_note(&cfg->src, cfg->skip_bad_rows, buf, cap, &len, err);
	for (int i = 0; i < cfg->n_mix; i++)
		if (src_note(&cfg->mix[i], cfg->skip_bad_rows, buf, cap, &len, err))
			return -1;
	return 0;
}
