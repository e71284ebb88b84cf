/* tstats.c - trace statistics (see tstats.h). */
#include "traces/tstats.h"
#include "util/simtime.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_sort_long.h>
#include <gsl/gsl_sort_int.h>
#include <gsl/gsl_statistics_int.h>
#include <gsl/gsl_statistics_long.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const int32_t tstats_limits[TSTATS_N_LIMITS] = {2048, 4096, 8192, 16384, 32768, 65536};

typedef struct ibuf {
	int32_t *in, *out, *cat;
	size_t n, cap;
} ibuf;

static int ibuf_push(ibuf *b, const trace_req *q)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 4096;
		int32_t *a = realloc(b->in, cap * sizeof *a);

		if (!a)
			return -1;
		b->in = a;
		a = realloc(b->out, cap * sizeof *a);
		if (!a)
			return -1;
		b->out = a;
		a = realloc(b->cat, cap * sizeof *a);
		if (!a)
			return -1;
		b->cat = a;
		b->cap = cap;
	}
	b->in[b->n] = q->input_tokens;
	b->out[b->n] = q->output_tokens;
	b->cat[b->n] = q->category;
	b->n++;
	return 0;
}

static void group_add(tstats_group *g, const trace_req *q)
{
	int64_t tot = (int64_t)q->input_tokens + q->output_tokens;

	g->count++;
	g->failed += (q->flags & TRACE_F_FAILED) != 0;
	g->sum_in += q->input_tokens;
	g->sum_out += q->output_tokens;
	if (q->input_tokens > g->input.max)
		g->input.max = q->input_tokens;
	if (q->output_tokens > g->output.max)
		g->output.max = q->output_tokens;
	if (tot > g->total.max)
		g->total.max = tot;
	for (int i = 0; i < TSTATS_N_LIMITS; i++)
		g->n_le[i] += tot <= tstats_limits[i];
}

static void group_finish(tstats_group *g)
{
	double n = g->count ? (double)g->count : 1.0;

	g->input.mean = g->sum_in / n;
	g->output.mean = g->sum_out / n;
	g->total.mean = (g->sum_in + g->sum_out) / n;
	for (int i = 0; i < TSTATS_N_LIMITS; i++)
		g->share_le[i] = g->n_le[i] / n;
	g->input.p50 = g->input.p90 = g->input.p99 = NAN;
	g->output.p50 = g->output.p90 = g->output.p99 = NAN;
	g->total.p50 = g->total.p90 = g->total.p99 = NAN;
}

/* Quantiles of group cat (-2: all rows) from the collected lengths. */
static int group_quantiles(tstats_group *g, const ibuf *b, int cat)
{
	size_t n = 0;
	int *in, *out;
	long *tot;

	if (g->count == 0)
		return 0;
	in = malloc((size_t)g->count * sizeof *in);
	out = malloc((size_t)g->count * sizeof *out);
	tot = malloc((size_t)g->count * sizeof *tot);
	if (!in || !out || !tot) {
		free(in);
		free(out);
		free(tot);
		return -1;
	}
	for (size_t i = 0; i < b->n; i++)
		if (cat == -2 || b->cat[i] == cat) {
			in[n] = b->in[i];
			out[n] = b->out[i];
			tot[n] = (long)b->in[i] + b->out[i];
			n++;
		}
	gsl_sort_int(in, 1, n);
	gsl_sort_int(out, 1, n);
	gsl_sort_long(tot, 1, n);
	g->input.p50 = gsl_stats_int_quantile_from_sorted_data(in, 1, n, 0.50);
	g->input.p90 = gsl_stats_int_quantile_from_sorted_data(in, 1, n, 0.90);
	g->input.p99 = gsl_stats_int_quantile_from_sorted_data(in, 1, n, 0.99);
	g->output.p50 = gsl_stats_int_quantile_from_sorted_data(out, 1, n, 0.50);
	g->output.p90 = gsl_stats_int_quantile_from_sorted_data(out, 1, n, 0.90);
	g->output.p99 = gsl_stats_int_quantile_from_sorted_data(out, 1, n, 0.99);
	g->total.p50 = gsl_stats_long_quantile_from_sorted_data(tot, 1, n, 0.50);
	g->total.p90 = gsl_stats_long_quantile_from_sorted_data(tot, 1, n, 0.90);
	g->total.p99 = gsl_stats_long_quantile_from_sorted_data(tot, 1, n, 0.99);
	free(in);
	free(out);
	free(tot);
	return 0;
}

int tstats_compute(trace_reader *r, int quantiles, tstats *out, fs_err *err)
{
	tstats s;
	ibuf b = {0};
	trace_req q;
	int64_t first = 0, last = 0, bucket = -1, in_bucket = 0, max_gap = 0, gap_at = 0;
	int rc;

	memset(&s, 0, sizeof s);
	memset(out, 0, sizeof *out);
	while ((rc = trace_next(r, &q, err)) == 1) {
		int64_t k;

		if (s.count == 0) {
			first = q.arrival_ns;
		} else {
			int64_t gap = q.arrival_ns - last;

			s.long_gaps += gap > (int64_t)(TSTATS_LONG_GAP_S * 1e9);
			if (gap > max_gap) {
				max_gap = gap;
				gap_at = last - first;
			}
		}
		last = q.arrival_ns;
		k = (q.arrival_ns - first) / 1000000000LL;
		if (k != bucket) {
			bucket = k;
			in_bucket = 0;
		}
		if (++in_bucket > s.peak_1s)
			s.peak_1s = in_bucket;
		s.count++;
		group_add(&s.all, &q);
		if (q.category >= 0) {
			if (q.category >= s.n_cats) {
				int n = q.category + 1;
				tstats_group *g = realloc(s.cats, (size_t)n * sizeof *g);

				if (!g)
					goto oom;
				memset(g + s.n_cats, 0, (size_t)(n - s.n_cats) * sizeof *g);
				s.cats = g;
				s.n_cats = n;
			}
			group_add(&s.cats[q.category], &q);
		}
		if (quantiles && ibuf_push(&b, &q))
			goto oom;
	}
	if (rc < 0)
		goto fail;
	s.bad_rows = trace_bad_rows(r);
	s.first_s = st_to_s(first);
	s.last_s = st_to_s(last);
	s.duration_s = st_to_s(last - first);
	s.max_gap_s = st_to_s(max_gap);
	s.max_gap_at_s = st_to_s(gap_at);
	s.mean_rate = s.duration_s > 0 ? s.count / s.duration_s : 0.0;
	group_finish(&s.all);
	if (quantiles && group_quantiles(&s.all, &b, -2))
		goto oom;
	for (int i = 0; i < s.n_cats; i++) {
		const char *nm = trace_category_name(r, i);

		s.cats[i].name = strdup(nm ? nm : "?");
		if (!s.cats[i].name)
			goto oom;
		group_finish(&s.cats[i]);
		if (quantiles && group_quantiles(&s.cats[i], &b, i))
			goto oom;
	}
	free(b.in);
	free(b.out);
	free(b.cat);
	*out = s;
	return 0;
oom:
	fs_fail(err, FS_EXIT_RUNTIME, "out of memory computing trace statistics");
fail:
	free(b.in);
	free(b.out);
	free(b.cat);
	tstats_free(&s);
	return -1;
}

void tstats_free(tstats *s)
{
	for (int i = 0; i < s->n_cats; i++)
		free(s->cats[i].name);
	free(s->cats);
	memset(s, 0, sizeof *s);
}
