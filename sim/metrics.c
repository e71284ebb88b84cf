#include "sim/metrics.h"
#include "util/slab.h"

#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every request has a brief (the aggregates read only those, so both storage modes
 * summarise identically); full rows only with keep_rows. */
struct metrics {
	int keep_rows;
	mx_brief *brf;
	size_t nreq, capbrf;
	mx_request *req;
	size_t capreq;
	mx_sample *smp;
	size_t nsmp, capsmp;
	int32_t *cat;            /* category of every request (both modes), capcat; NULL
				  * while none has one (-1 each): 4 B a request saved */
	size_t capcat;
	char **cat_names;        /* metrics_set_categories */
	int ncat_names;
	/* metrics_set_targets: per-request latency targets for slo_attainment / goodput
	 * (NULL: the summary's own slo for every request). */
	mx_slo_detail *det;
	int det_cat[MX_SLO_MAX_CLASSES];
	int npool_tgt;
	mx_slo pool_tgt[MX_SLO_MAX_POOLS]; /* by the policy's pool index; unset fields inherit */
};

int metrics_create_ex(int keep_rows, metrics **out)
{
	metrics *m = calloc(1, sizeof *m);

	if (!m)
		return -1;
	m->keep_rows = keep_rows != 0;
	*out = m;
	return 0;
}

int metrics_create(metrics **out)
{
	return metrics_create_ex(1, out);
}

int metrics_keeps_rows(const metrics *m)
{
	return m->keep_rows;
}

void metrics_destroy(metrics *m)
{
	if (!m)
		return;
	slab_array_free(m->brf, m->capbrf, sizeof *m->brf);
	slab_array_free(m->req, m->capreq, sizeof *m->req);
	slab_array_free(m->smp, m->capsmp, sizeof *m->smp);
	slab_array_free(m->cat, m->capcat, sizeof *m->cat);
	for (int i = 0; i < m->ncat_names; i++)
		free(m->cat_names[i]);
	free(m->cat_names);
	free(m->det);
	free(m);
}

/* Request i's category index, -1 for none. */
static int32_t cat_of(const metrics *m, size_t i)
{
	return m->cat ? m->cat[i] : -1;
}

static double to_s(simtime_t t)
{
	return t < 0 ? -1.0 : st_to_s(t);
}

int metrics_add_request(metrics *m, const sim_req *r)
{
	mx_request *x;
	mx_brief *b;

	if (r->category >= 0 && !m->cat) {
		if (slab_array_grow((void **)&m->cat, &m->capcat, m->nreq + 1, sizeof *m->cat))
			return -1;
		for (size_t i = 0; i < m->nreq; i++)
			m->cat[i] = -1;
	}
	if (slab_array_grow((void **)&m->brf, &m->capbrf, m->nreq + 1, sizeof *m->brf) ||
	    (m->cat && slab_array_grow((void **)&m->cat, &m->capcat, m->nreq + 1, sizeof *m->cat)) ||
	    (m->keep_rows && slab_array_grow((void **)&m->req, &m->capreq, m->nreq + 1, sizeof *m->req)))
		return -1;
	b = &m->brf[m->nreq];
	b->ttft_ns = r->first_token >= 0 ? r->first_token - r->arrival : MX_NONE;
	b->e2e_ns = r->status == RQ_DONE ? r->finish - r->arrival : MX_NONE;
	b->prompt = r->prompt;
	b->output = r->status == RQ_DONE ? r->generated : r->output;
	b->preemptions = r->preemptions;
	b->pool = r->pool;
	b->status = r->status;
	b->misrouted = r->misrouted;
	if (m->cat)
		m->cat[m->nreq] = r->category;
	if (!m->keep_rows) {
		m->nreq++;
		return 0;
	}
	x = &m->req[m->nreq++];
	x->id = r->id;
	x->arrival_s = to_s(r->arrival);
	x->first_token_s = to_s(r->first_token);
	x->finish_s = r->status == RQ_UNFINISHED ? -1.0 : to_s(r->finish);
	x->ttft_s = r->first_token >= 0 ? st_to_s(r->first_token - r->arrival) : -1.0;
	x->e2e_s = r->status == RQ_DONE ? st_to_s(r->finish - r->arrival) : -1.0;
	x->tpot_s = r->status == RQ_DONE && r->generated >= 2
			    ? st_to_s(r->finish - r->first_token) / (r->generated - 1)
			    : -1.0;
	x->prompt = r->prompt;
	x->output = r->status == RQ_DONE ? r->generated : r->output;
	x->preemptions = r->preemptions;
	x->category = r->category;
	x->pool = r->pool;
	x->replica = r->replica;
	x->status = r->status;
	x->misrouted = r->misrouted;
	return 0;
}

int metrics_add_sample(metrics *m, const mx_sample *s)
{
	if (slab_array_grow((void **)&m->smp, &m->capsmp, m->nsmp + 1, sizeof *m->smp))
		return -1;
	m->smp[m->nsmp++] = *s;
	return 0;
}

const mx_request *metrics_requests(const metrics *m, size_t *n)
{
	*n = m->keep_rows ? m->nreq : 0;
	return m->keep_rows ? m->req : NULL;
}

const mx_brief *metrics_briefs(const metrics *m, size_t *n)
{
	*n = m->nreq;
	return m->brf;
}

size_t metrics_count(const metrics *m)
{
	return m->nreq;
}

int metrics_values(const metrics *m, int pool, mx_value which, double **out, size_t *n)
{
	double *v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (which != MX_TTFT && which != MX_TPOT && which != MX_E2E)
		return -1;
	v = malloc((m->nreq + 1) * sizeof *v);
	if (!v)
		return -1;
	for (size_t i = 0; i < m->nreq; i++) {
		const mx_brief *b = &m->brf[i];
		double x;

		if (pool >= 0 && b->pool != pool)
			continue;
		x = which == MX_TTFT ? mx_brief_ttft_s(b) : which == MX_TPOT ? mx_brief_tpot_s(b) : mx_brief_e2e_s(b);
		if (x >= 0)
			v[k++] = x;
	}
	*out = v;
	*n = k;
	return 0;
}

const mx_sample *metrics_samples(const metrics *m, size_t *n)
{
	*n = m->nsmp;
	return m->smp;
}

static void select_kth(double *v, size_t lo, size_t hi, size_t k);

double metrics_quantile_inplace(double *v, size_t n, size_t keep, double q)
{
	size_t k;

	if (keep > n)
		keep = n;
	if (keep == 0)
		return -1.0;
	/* The keep smallest first, then only the two order statistics GSL's interpolation
	 * reads (positions (int)(q (keep - 1)) and the next): O(n), the same value as a
	 * full sort. */
	if (keep < n)
		select_kth(v, 0, n, keep - 1);
	k = (size_t)(int)(q * (double)(keep - 1));
	select_kth(v, 0, keep, k);
	if (k + 1 < keep)
		select_kth(v, k + 1, keep, k + 1);
	return gsl_stats_quantile_from_sorted_data(v, 1, keep, q);
}

double metrics_quantile(const double *v, size_t n, double q)
{
	double *s, r;

	if (n == 0)
		return -1.0;
	s = malloc(n * sizeof *s);
	if (!s)
		return -1.0;
	memcpy(s, v, n * sizeof *s);
	r = metrics_quantile_inplace(s, n, n, q);
	free(s);
	return r;
}

/* Put the k-th smallest of v[lo, hi) at v[k], smaller-or-equal values before it and
 * greater-or-equal after it (quickselect, median of three, three-way partition so
 * runs of equal values cannot stall it; deterministic). */
static void select_kth(double *v, size_t lo, size_t hi, size_t k)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2, lt = lo, i = lo, gt = hi;
		double a = v[lo], b = v[mid], c = v[hi - 1], piv, t;

		piv = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		/* [lo, lt) < piv, [lt, i) == piv, [gt, hi) > piv */
		while (i < gt) {
			if (v[i] < piv) {
				t = v[i];
				v[i++] = v[lt];
				v[lt++] = t;
			} else if (v[i] > piv) {
				t = v[i];
				v[i] = v[--gt];
				v[gt] = t;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return;
	}
}

/* The least of v[b, n) moved to v[b] (one scan, ~3x cheaper than a selection). */
static void min_to(double *v, size_t b, size_t n)
{
	size_t at = b;
	double t;

	for (size_t j = b + 1; j < n; j++)
		if (v[j] < v[at])
			at = j;
	t = v[b];
	v[b] = v[at];
	v[at] = t;
}

/* Sampled brackets (quantiles() on large arrays): a sorted sample of QS_SAMPLE values
 * taken every n / QS_SAMPLE, and QS_MARGIN sample positions either side of a target
 * rank, bracket ~6 % of the values around it with near certainty; the bracket's
 * buffer holds up to n / 8. */
#define QS_SAMPLE 16384
#define QS_MARGIN 512

/* Place the order statistics at positions k[j] and k[j] + 1 (j < 3, ascending, and
 * k[j] + 1 < k[j + 1]) of v, and the maximum in *mx, in one pass over v: count the
 * values below each target's bracket, gather those inside, select within them.
 * Exact, like a selection over v.  Returns 0 (the other positions of v are then
 * meaningless: the caller reads only these), or -1 when a rank fell outside its
 * bracket or a bracket outgrew its buffer, or out of memory (v unchanged then). */
static int quantiles_sampled(double *v, size_t n, const size_t *k, double *mx)
{
	size_t stride = n / QS_SAMPLE, cap = n / 8, below[3] = {0, 0, 0}, len[3] = {0, 0, 0};
	double lo[3], hi[3], m = v[0];
	double *smp = malloc(QS_SAMPLE * sizeof *smp), *buf = malloc(3 * (cap + 1) * sizeof *buf);
	int rc = -1;

	if (!smp || !buf)
		goto out;
	for (size_t i = 0; i < QS_SAMPLE; i++)
		smp[i] = v[i * stride];
	gsl_sort(smp, 1, QS_SAMPLE);
	for (int j = 0; j < 3; j++) {
		size_t p = (size_t)((double)k[j] / (double)n * QS_SAMPLE);

		lo[j] = p >= QS_MARGIN ? smp[p - QS_MARGIN] : -HUGE_VAL;
		hi[j] = p + QS_MARGIN < QS_SAMPLE ? smp[p + QS_MARGIN] : HUGE_VAL;
	}
	/* Branch-free: which side of a bracket a value falls is a coin toss near the
	 * median.  Every value is stored at its bracket's end; only those inside count. */
	for (size_t i = 0; i < n; i++) {
		double x = v[i];

		m = x > m ? x : m;
		for (int j = 0; j < 3; j++) {
			double *b = buf + (size_t)j * (cap + 1);

			below[j] += x < lo[j];
			b[len[j]] = x;
			len[j] += (x >= lo[j]) & (x <= hi[j]);
		}
		if (len[0] == cap || len[1] == cap || len[2] == cap)
			goto out;
	}
	for (int j = 0; j < 3; j++) {
		double *b = buf + (size_t)j * (cap + 1);
		size_t r = k[j] - below[j];

		/* Both ranks k and k + 1 must lie inside (k + 1 = n has no value to place). */
		if (k[j] < below[j] || r >= len[j] || (k[j] + 1 < n && r + 1 >= len[j]))
			goto out;
		select_kth(b, 0, len[j], r);
		if (k[j] + 1 < n)
			min_to(b, r + 1, len[j]);
	}
	for (int j = 0; j < 3; j++) {
		const double *b = buf + (size_t)j * (cap + 1);
		size_t r = k[j] - below[j];

		v[k[j]] = b[r];
		if (k[j] + 1 < n)
			v[k[j] + 1] = b[r + 1];
	}
	*mx = m;
	rc = 0;
out:
	free(smp);
	free(buf);
	return rc;
}

/* Reorder v in place (not fully sorted: only the order statistics GSL reads) and fill
 * p50/p90/p99/max (all -1 when empty).  gsl_stats_quantile_from_sorted_data reads
 * positions floor(q (n-1)) and the one after, so placing exactly those order
 * statistics gives the same figures as sorting, in O(n) instead of O(n log n). */
static void quantiles(double *v, size_t n, double *p50, double *p90, double *p99, double *mx)
{
	static const double qs[3] = {0.50, 0.90, 0.99};
	double *out[3] = {p50, p90, p99};
	size_t b = 0; /* v[0, b) are <= v[b, n) and every needed position below b is final */

	if (n == 0) {
		*p50 = *p90 = *p99 = *mx = -1.0;
		return;
	}
	if (n >= 8 * QS_SAMPLE) {
		size_t k[3];

		for (int i = 0; i < 3; i++)
			k[i] = (size_t)(int)(qs[i] * (double)(n - 1));
		if (!quantiles_sampled(v, n, k, mx)) {
			for (int i = 0; i < 3; i++)
				*out[i] = gsl_stats_quantile_from_sorted_data(v, 1, n, qs[i]);
			return;
		}
	}
	for (int i = 0; i < 3; i++) {
		size_t k = (size_t)(int)(qs[i] * (double)(n - 1));

		for (size_t kk = k; kk <= k + 1 && kk < n; kk++) {
			if (kk == b) {
				min_to(v, b, n);
				b = kk + 1;
			} else if (kk > b) {
				select_kth(v, b, n, kk);
				b = kk + 1;
			}
		}
		*out[i] = gsl_stats_quantile_from_sorted_data(v, 1, n, qs[i]);
	}
	*mx = v[b - 1];
	for (size_t i = b; i < n; i++)
		if (v[i] > *mx)
			*mx = v[i];
}

static mx_slo slo_over(const mx_slo *dflt, const mx_slo *t);

/* Whether request i meets its own latency target (metrics_set_targets): its class's
 * if it is in one, else its pool's (slo.pools), each over the default *slo. */
static int target_ok(const metrics *m, const mx_slo *slo, size_t i, double ttft_s, double tpot_s)
{
	const mx_brief *b = &m->brf[i];
	int c = mx_slo_class_of(m->det, m->det_cat, b, cat_of(m, i));
	mx_slo t;

	if (c >= 0)
		t = slo_over(slo, &m->det->classes[c].target);
	else if (b->pool >= 0 && b->pool < m->npool_tgt)
		t = slo_over(slo, &m->pool_tgt[b->pool]);
	else
		t = *slo;
	return mx_slo_latency_ok(&t, ttft_s, tpot_s);
}

int metrics_set_targets(metrics *m, const mx_slo_detail *d, const char *const *pool_names, int npools)
{
	if (!d || (d->nclasses == 0 && d->npools == 0)) {
		free(m->det);
		m->det = NULL;
		return 0;
	}
	if (!m->det && !(m->det = malloc(sizeof *m->det)))
		return -1;
	*m->det = *d;
	for (int k = 0; k < d->nclasses; k++)
		m->det_cat[k] = d->classes[k].kind == MX_CLASS_CATEGORY ? metrics_category_index(m, d->classes[k].category)
									 : -1;
	m->npool_tgt = npools < MX_SLO_MAX_POOLS ? npools : MX_SLO_MAX_POOLS;
	for (int p = 0; p < m->npool_tgt; p++) {
		memset(&m->pool_tgt[p], 0, sizeof m->pool_tgt[p]);
		for (int j = 0; j < d->npools; j++)
			if (pool_names[p] && !strcmp(d->pools[j].name, pool_names[p]))
				m->pool_tgt[p] = d->pools[j].target;
	}
	return 0;
}

/* metrics_summarize over the requests of pool (-1: all) and category cat (-2: all). */
static int summarize(const metrics *m, int pool, int cat, const mx_slo *slo, metrics_summary *o);

int metrics_summarize(const metrics *m, int pool, const mx_slo *slo, metrics_summary *o)
{
	return summarize(m, pool, -2, slo, o);
}

int metrics_summarize_category(const metrics *m, int cat, const mx_slo *slo, metrics_summary *o)
{
	if (cat < 0 || cat >= m->ncat_names)
		return -1;
	if (summarize(m, -1, cat, slo, o))
		return -1;
	snprintf(o->pool, sizeof o->pool, "%.63s", m->cat_names[cat]);
	return 0;
}

int metrics_category_count(const metrics *m)
{
	return m ? m->ncat_names : 0;
}

const char *metrics_category_name(const metrics *m, int i)
{
	return m && i >= 0 && i < m->ncat_names ? m->cat_names[i] : NULL;
}

/* The TPOTs (which = 1) or E2E latencies (2) of the completed requests of pool and
 * category cat (as summarize selects them) into v; returns how many. */
static size_t latencies(const metrics *m, int pool, int cat, int which, double *v)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nreq; i++) {
		const mx_brief *x = &m->brf[i];
		double t;

		if ((pool >= 0 && x->pool != pool) || (cat != -2 && cat_of(m, i) != cat) ||
		    x->status != RQ_DONE)
			continue;
		t = which == 2 ? mx_brief_e2e_s(x) : mx_brief_tpot_s(x);
		if (which == 2 || t >= 0) /* -1: no TPOT (one output token) */
			v[n++] = t;
	}
	return n;
}

static int summarize(const metrics *m, int pool, int cat, const mx_slo *slo, metrics_summary *o)
{
	/* One buffer (huge pages past 16 MiB, slab_array_grow), reused for each latency in
	 * turn: a third of the memory of one array each, and page faults were a few % of a
	 * multi-million-request run. */
	double *ttft = NULL;
	size_t nt = 0, np, ne, i, cap = 0;
	int64_t out_tokens = 0, good = 0, all = 0;
	double kv_sum = 0.0, kv_max = 0.0;
	size_t kv_n = 0;

	if (slab_array_grow((void **)&ttft, &cap, m->nreq + 1, sizeof *ttft))
		goto fail;
	o->requests = o->completed = o->rejected = o->unfinished = 0;
	o->preemptions = o->preempted_requests = o->misroutes = 0;
	for (i = 0; i < m->nreq; i++) {
		const mx_brief *x = &m->brf[i];
		double x_ttft, x_tpot;

		all++;
		if ((pool >= 0 && x->pool != pool) || (cat != -2 && cat_of(m, i) != cat))
			continue;
		o->requests++;
		o->preemptions += x->preemptions;
		o->preempted_requests += x->preemptions > 0;
		o->misroutes += x->misrouted;
		if (x->status == RQ_REJECTED) {
			o->rejected++;
			continue;
		}
		if (x->status != RQ_DONE) {
			o->unfinished++;
			continue;
		}
		o->completed++;
		out_tokens += x->output;
		x_ttft = mx_brief_ttft_s(x);
		x_tpot = mx_brief_tpot_s(x);
		ttft[nt++] = x_ttft;
		good += m->det ? target_ok(m, slo, i, x_ttft, x_tpot) : mx_slo_latency_ok(slo, x_ttft, x_tpot);
	}
	o->traffic_share = all ? (double)o->requests / all : 0.0;
	o->preemptions_per_request = o->requests ? (double)o->preemptions / o->requests : 0.0;
	o->preempted_share = o->requests ? (double)o->preempted_requests / o->requests : 0.0;
	o->ttft_mean_s = nt ? gsl_stats_mean(ttft, 1, nt) : -1.0;
	quantiles(ttft, nt, &o->ttft_p50_s, &o->ttft_p90_s, &o->ttft_p99_s, &o->ttft_max_s);
	np = latencies(m, pool, cat, 1, ttft);
	quantiles(ttft, np, &o->tpot_p50_s, &o->tpot_p90_s, &o->tpot_p99_s, &o->tpot_max_s);
	ne = latencies(m, pool, cat, 2, ttft);
	quantiles(ttft, ne, &o->e2e_p50_s, &o->e2e_p90_s, &o->e2e_p99_s, &o->e2e_max_s);
	o->throughput_rps = o->makespan_s > 0 ? o->completed / o->makespan_s : 0.0;
	o->output_tps = o->makespan_s > 0 ? out_tokens / o->makespan_s : 0.0;
	o->gpu_hours = o->gpus * o->makespan_s / 3600.0;
	o->slo_attainment = o->completed ? (double)good / o->completed : 0.0;
	o->goodput_rps = o->makespan_s > 0 ? good / o->makespan_s : 0.0;
	/* KV usage: time average of the pool's samples.  For the fleet, the pools sampled
	 * at one instant are pooled block for block (a 1-replica pool must not weigh as
	 * much as a 30-replica one); samples without block counts fall back to the plain
	 * average of their usages. */
	for (i = 0; i < m->nsmp;) {
		const mx_sample *s = &m->smp[i];
		double u;
		if (pool >= 0) {
			i++;
			if (s->pool != pool)
				continue;
			u = s->kv_usage;
		} else {
			int64_t used = 0, total = 0;
			double plain = 0.0;
			size_t k = i;
			for (; k < m->nsmp && m->smp[k].t_s == s->t_s; k++) {
				used += m->smp[k].kv_used;
				total += m->smp[k].kv_total;
				plain += m->smp[k].kv_usage;
			}
			u = total > 0 ? (double)used / total : plain / (double)(k - i);
			i = k;
		}
		kv_sum += u;
		kv_n++;
		if (u > kv_max)
			kv_max = u;
	}
	o->kv_usage_mean = kv_n ? kv_sum / kv_n : 0.0;
	o->kv_usage_max = kv_max;
	slab_array_free(ttft, cap, sizeof *ttft);
	return 0;
fail:
	slab_array_free(ttft, cap, sizeof *ttft);
	return -1;
}

int mx_slo_latency_ok(const mx_slo *slo, double ttft_s, double tpot_s)
{
	if (slo->ttft_p99_s > 0 && (ttft_s < 0 || ttft_s > slo->ttft_p99_s))
		return 0;
	return !(slo->tpot_p99_s > 0 && tpot_s > slo->tpot_p99_s);
}

double mx_slo_max_rejection(double max_rejection_rate)
{
	return max_rejection_rate >= 0 ? max_rejection_rate : MX_DEFAULT_MAX_REJECTION;
}

int mx_slo_verdict(const mx_slo *slo, double max_rejection_rate, double max_preemptions_per_request,
		   const metrics_summary *f, mx_verdict *out)
{
	double maxrej = mx_slo_max_rejection(max_rejection_rate);
	mx_verdict v = {0};

	if (!slo || !f || !out)
		return -1;
	v.rejection_rate = f->requests > 0 ? (double)(f->rejected + f->unfinished) / (double)f->requests : 1;
	/* The reasons' wording is stored in plans.reason and shown in sizing reports. */
	if (f->requests <= 0)
		snprintf(v.reason, sizeof v.reason, "no requests in the workload");
	else if (v.rejection_rate > maxrej)
		snprintf(v.reason, sizeof v.reason, "rejection rate %.4f > %.4f", v.rejection_rate, maxrej);
	else if (!mx_slo_latency_ok(&(mx_slo){.ttft_p99_s = slo->ttft_p99_s}, f->ttft_p99_s, -1))
		snprintf(v.reason, sizeof v.reason, "TTFT p99 %.3f s > %.3f s", f->ttft_p99_s, slo->ttft_p99_s);
	else if (!mx_slo_latency_ok(&(mx_slo){.tpot_p99_s = slo->tpot_p99_s}, 0, f->tpot_p99_s))
		snprintf(v.reason, sizeof v.reason, "TPOT p99 %.4f s > %.4f s", f->tpot_p99_s, slo->tpot_p99_s);
	else if (max_preemptions_per_request >= 0 && f->preemptions_per_request > max_preemptions_per_request)
		snprintf(v.reason, sizeof v.reason, "preemptions per request %.3f > %.3f",
			 f->preemptions_per_request, max_preemptions_per_request);
	else
		v.pass = 1;
	*out = v;
	return 0;
}

int metrics_set_categories(metrics *m, const char *const *names, int n)
{
	char **v = n > 0 ? calloc((size_t)n, sizeof *v) : NULL;

	if (n > 0 && !v)
		return -1;
	for (int i = 0; i < n; i++)
		if (!(v[i] = strdup(names[i] ? names[i] : ""))) {
			while (i--)
				free(v[i]);
			free(v);
			return -1;
		}
	for (int i = 0; i < m->ncat_names; i++)
		free(m->cat_names[i]);
	free(m->cat_names);
	m->cat_names = v;
	m->ncat_names = n > 0 ? n : 0;
	return 0;
}

int metrics_category_index(const metrics *m, const char *name)
{
	for (int i = 0; m && i < m->ncat_names; i++)
		if (!strcmp(m->cat_names[i], name))
			return i;
	return -1;
}

int mx_slo_class_of(const mx_slo_detail *d, const int *cat_idx, const mx_brief *b, int32_t category)
{
	for (int k = 0; k < d->nclasses; k++) {
		const mx_slo_class *c = &d->classes[k];
		int64_t len;

		if (c->kind == MX_CLASS_CATEGORY) {
			if (category >= 0 && cat_idx[k] == category)
				return k;
			continue;
		}
		len = c->kind == MX_CLASS_PROMPT ? (int64_t)b->prompt : (int64_t)b->prompt + b->output;
		if (len >= c->min_tokens && len <= c->max_tokens)
			return k;
	}
	return -1;
}

/* The default target with t's set fields over it. */
static mx_slo slo_over(const mx_slo *dflt, const mx_slo *t)
{
	mx_slo r = *dflt;

	if (t && t->ttft_p99_s > 0)
		r.ttft_p99_s = t->ttft_p99_s;
	if (t && t->tpot_p99_s > 0)
		r.tpot_p99_s = t->tpot_p99_s;
	return r;
}

/* Latency p99s against target t, reason prefixed with who; 1 when they hold. */
static int latency_check(const mx_slo *t, double ttft_p99, double tpot_p99, const char *who, mx_verdict *v)
{
	if (!mx_slo_latency_ok(&(mx_slo){.ttft_p99_s = t->ttft_p99_s}, ttft_p99, -1)) {
		snprintf(v->reason, sizeof v->reason, "%sTTFT p99 %.3f s > %.3f s", who, ttft_p99, t->ttft_p99_s);
		return 0;
	}
	if (!mx_slo_latency_ok(&(mx_slo){.tpot_p99_s = t->tpot_p99_s}, 0, tpot_p99)) {
		snprintf(v->reason, sizeof v->reason, "%sTPOT p99 %.4f s > %.4f s", who, tpot_p99, t->tpot_p99_s);
		return 0;
	}
	return 1;
}

/* Completed-request TTFT and TPOT p99 per (scope, group): scope 0 the fleet, 1 + p pool
 * p; group g < nclasses class g, g == nclasses requests in no class.  n[] counts the
 * completed requests.  Arrays of (npools + 1) x (nclasses + 1). */
typedef struct group_stats {
	int ng;
	double *ttft, *tpot;
	int64_t *n;
} group_stats;

static void group_stats_free(group_stats *g)
{
	free(g->ttft);
	free(g->tpot);
	free(g->n);
}

static int group_stats_build(const mx_slo_detail *d, const metrics *m, int npools, group_stats *g)
{
	int ng = d->nclasses + 1, ns = npools + 1, cat_idx[MX_SLO_MAX_CLASSES];
	size_t cells = (size_t)ns * (size_t)ng, nreq = m->nreq;
	int16_t *gi = NULL;
	double *tv = NULL, *pv = NULL;
	int rc = -1;

	memset(g, 0, sizeof *g);
	g->ng = ng;
	g->ttft = malloc(cells * sizeof *g->ttft);
	g->tpot = malloc(cells * sizeof *g->tpot);
	g->n = calloc(cells, sizeof *g->n);
	gi = malloc((nreq + 1) * sizeof *gi);
	tv = malloc((nreq + 1) * sizeof *tv);
	pv = malloc((nreq + 1) * sizeof *pv);
	if (!g->ttft || !g->tpot || !g->n || !gi || !tv || !pv)
		goto out;
	for (int k = 0; k < d->nclasses; k++)
		cat_idx[k] = d->classes[k].kind == MX_CLASS_CATEGORY ? metrics_category_index(m, d->classes[k].category)
								      : -1;
	for (size_t i = 0; i < nreq; i++) {
		int c = mx_slo_class_of(d, cat_idx, &m->brf[i], cat_of(m, i));

		gi[i] = (int16_t)(c < 0 ? d->nclasses : c);
	}
	for (int s = 0; s < ns; s++)
		for (int k = 0; k < ng; k++) {
			size_t nt = 0, np = 0;

			for (size_t i = 0; i < nreq; i++) {
				const mx_brief *b = &m->brf[i];
				double x;

				if (gi[i] != k || b->status != RQ_DONE || (s > 0 && b->pool != s - 1))
					continue;
				tv[nt++] = mx_brief_ttft_s(b);
				if ((x = mx_brief_tpot_s(b)) >= 0)
					pv[np++] = x;
			}
			g->n[s * ng + k] = (int64_t)nt;
			g->ttft[s * ng + k] = metrics_quantile(tv, nt, 0.99);
			g->tpot[s * ng + k] = metrics_quantile(pv, np, 0.99);
		}
	rc = 0;
out:
	free(gi);
	free(tv);
	free(pv);
	if (rc)
		group_stats_free(g);
	return rc;
}

int mx_slo_verdict_ex(const mx_slo *slo, const mx_slo_detail *d, double max_rejection_rate,
		      double max_preemptions_per_request, const metrics *m, const metrics_summary *f,
		      const metrics_summary *pools, int npools, mx_verdict *out)
{
	group_stats g = {0};
	int classes = d && d->nclasses > 0, rest, ng;
	mx_verdict v;
	char who[160];

	if (!slo || !f || !out || (classes && !m) || (d && d->per_pool && npools > 0 && !pools))
		return -1;
	if (!classes) {
		if (mx_slo_verdict(slo, max_rejection_rate, max_preemptions_per_request, f, &v))
			return -1;
	} else {
		/* checks 3 and 4 on the requests in no class: judge a copy of the fleet
		 * summary carrying that group's p99s (none: nothing to judge) */
		metrics_summary rf = *f;

		if (group_stats_build(d, m, npools, &g))
			return -1;
		rest = d->nclasses;
		if (g.n[rest] > 0) {
			rf.ttft_p99_s = g.ttft[rest];
			rf.tpot_p99_s = g.tpot[rest];
		} else {
			rf.ttft_p99_s = rf.tpot_p99_s = -1;
		}
		mx_slo_verdict(g.n[rest] > 0 ? slo : &(mx_slo){0}, max_rejection_rate, max_preemptions_per_request,
			       &rf, &v);
	}
	ng = d ? d->nclasses + 1 : 1;
	/* 6. classes, fleet-wide */
	for (int k = 0; v.pass && classes && k < d->nclasses; k++) {
		mx_slo t = slo_over(slo, &d->classes[k].target);

		if (g.n[k] == 0)
			continue;
		snprintf(who, sizeof who, "class '%s': ", d->classes[k].name);
		v.pass = latency_check(&t, g.ttft[k], g.tpot[k], who, &v);
	}
	/* 7. pools */
	for (int p = 0; v.pass && d && d->per_pool && p < npools; p++) {
		const metrics_summary *ps = &pools[p];
		mx_slo pt = *slo;

		if (ps->requests <= 0)
			continue;
		for (int j = 0; j < d->npools; j++)
			if (!strcmp(d->pools[j].name, ps->pool))
				pt = slo_over(slo, &d->pools[j].target);
		if (ps->completed <= 0) {
			if (pt.ttft_p99_s <= 0)
				continue; /* nothing to judge latency on; rejections are fleet-wide */
			snprintf(v.reason, sizeof v.reason, "pool '%s': no completed request of %lld", ps->pool,
				 (long long)ps->requests);
			v.pass = 0;
			break;
		}
		snprintf(who, sizeof who, "pool '%s': ", ps->pool);
		if (!classes)
			v.pass = latency_check(&pt, ps->ttft_p99_s, ps->tpot_p99_s, who, &v);
		else if (g.n[(p + 1) * ng + d->nclasses] > 0)
			v.pass = latency_check(&pt, g.ttft[(p + 1) * ng + d->nclasses],
					       g.tpot[(p + 1) * ng + d->nclasses], who, &v);
		for (int k = 0; v.pass && classes && k < d->nclasses; k++) {
			mx_slo t = slo_over(slo, &d->classes[k].target);
			size_t c = (size_t)(p + 1) * (size_t)ng + (size_t)k;

			if (g.n[c] == 0)
				continue;
			snprintf(who, sizeof who, "pool '%s', class '%s': ", ps->pool, d->classes[k].name);
			v.pass = latency_check(&t, g.ttft[c], g.tpot[c], who, &v);
		}
	}
	if (v.pass)
		v.reason[0] = '\0';
	group_stats_free(&g);
	*out = v;
	return 0;
}
