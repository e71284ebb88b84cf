/* CUnit suite for sim/metrics.c: per-request derived times and pool aggregates,
 * checked against values computed by hand. */
#include <CUnit/CUnit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/metrics.h"

static sim_req done_req(int64_t id, int pool, double arr, double first, double fin, int out,
			int preempt)
{
	sim_req r;

	memset(&r, 0, sizeof r);
	r.id = id;
	r.pool = (int16_t)pool;
	r.arrival = (simtime_t)(arr * 1e9);
	r.first_token = (simtime_t)(first * 1e9);
	r.finish = (simtime_t)(fin * 1e9);
	r.generated = r.output = out;
	r.prompt = 100;
	r.preemptions = preempt;
	r.status = RQ_DONE;
	return r;
}

static void test_request_fields(void)
{
	metrics *m;
	sim_req r = done_req(7, 0, 1.0, 1.5, 3.5, 5, 0);
	const mx_request *x;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(metrics_create(&m), 0);
	CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
	x = metrics_requests(m, &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_DOUBLE_EQUAL(x[0].ttft_s, 0.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(x[0].e2e_s, 2.5, 1e-12);
	/* TPOT = (3.5 - 1.5) / (5 - 1) = 0.5 */
	CU_ASSERT_DOUBLE_EQUAL(x[0].tpot_s, 0.5, 1e-12);
	r = done_req(8, 0, 1.0, 1.5, 1.5, 1, 0);
	CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
	x = metrics_requests(m, &n);
	CU_ASSERT_DOUBLE_EQUAL(x[1].tpot_s, -1.0, 0); /* one output token: no TPOT */
	metrics_destroy(m);
}

static void test_summary(void)
{
	metrics *m;
	metrics_summary s;
	mx_slo slo = {.ttft_p99_s = 2.5, .tpot_p99_s = 0};
	sim_req r;
	mx_sample smp = {0};

	CU_ASSERT_EQUAL_FATAL(metrics_create(&m), 0);
	/* Pool 0: TTFTs 1, 2, 3, 4 s; pool 1: one rejected request. */
	for (int i = 0; i < 4; i++) {
		r = done_req(i, 0, 0.0, 1.0 + i, 10.0, 11, i == 3 ? 2 : 0);
		CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
	}
	memset(&r, 0, sizeof r);
	r.id = 4;
	r.pool = 1;
	r.status = RQ_REJECTED;
	r.first_token = -1;
	CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
	smp.pool = 0;
	smp.kv_usage = 0.2;
	metrics_add_sample(m, &smp);
	smp.kv_usage = 0.6;
	metrics_add_sample(m, &smp);

	memset(&s, 0, sizeof s);
	s.gpus = 2;
	s.makespan_s = 10.0;
	CU_ASSERT_EQUAL(metrics_summarize(m, 0, &slo, &s), 0);
	CU_ASSERT_EQUAL(s.requests, 4);
	CU_ASSERT_EQUAL(s.completed, 4);
	CU_ASSERT_EQUAL(s.preemptions, 2);
	CU_ASSERT_EQUAL(s.preempted_requests, 1);
	CU_ASSERT_DOUBLE_EQUAL(s.preemptions_per_request, 0.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.preempted_share, 0.25, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.traffic_share, 0.8, 1e-12);
	/* GSL quantiles interpolate: p50 of {1,2,3,4} = 2.5, p90 = 1 + 0.9*3 = 3.7. */
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_p50_s, 2.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_p90_s, 3.7, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_max_s, 4.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_mean_s, 2.5, 1e-12);
	/* TPOT of each: (10 - first) / 10 -> 0.9, 0.8, 0.7, 0.6; p50 = 0.75. */
	CU_ASSERT_DOUBLE_EQUAL(s.tpot_p50_s, 0.75, 1e-12);
	/* SLO: TTFT <= 2.5 holds for 2 of 4. */
	CU_ASSERT_DOUBLE_EQUAL(s.slo_attainment, 0.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.goodput_rps, 0.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.throughput_rps, 0.4, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.output_tps, 4.4, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.gpu_hours, 20.0 / 3600, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.kv_usage_mean, 0.4, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.kv_usage_max, 0.6, 1e-12);

	memset(&s, 0, sizeof s);
	CU_ASSERT_EQUAL(metrics_summarize(m, 1, &slo, &s), 0);
	CU_ASSERT_EQUAL(s.requests, 1);
	CU_ASSERT_EQUAL(s.rejected, 1);
	CU_ASSERT_EQUAL(s.completed, 0);
	CU_ASSERT_DOUBLE_EQUAL(s.ttft_p99_s, -1.0, 0);

	memset(&s, 0, sizeof s);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &s), 0);
	CU_ASSERT_EQUAL(s.requests, 5);
	CU_ASSERT_DOUBLE_EQUAL(s.traffic_share, 1.0, 1e-12);
	metrics_destroy(m);
}

/* The fleet's KV usage pools blocks across pools sampled at the same instant: a
 * 100-block pool at 10 % and a 1000-block pool at 90 % make 910 / 1100 = 0.8273, not
 * the 0.5 an average of the two ratios would say.  At t = 1 both are empty. */
static void test_fleet_kv_weighting(void)
{
	metrics *m;
	metrics_summary s;
	mx_slo slo = {0};
	mx_sample a = {.t_s = 0, .pool = 0, .kv_usage = 0.1, .kv_used = 10, .kv_total = 100};
	mx_sample b = {.t_s = 0, .pool = 1, .kv_usage = 0.9, .kv_used = 900, .kv_total = 1000};
	mx_sample c = {.t_s = 1, .pool = 0, .kv_usage = 0.0, .kv_used = 0, .kv_total = 100};
	mx_sample d = {.t_s = 1, .pool = 1, .kv_usage = 0.0, .kv_used = 0, .kv_total = 1000};

	CU_ASSERT_EQUAL_FATAL(metrics_create(&m), 0);
	metrics_add_sample(m, &a);
	metrics_add_sample(m, &b);
	metrics_add_sample(m, &c);
	metrics_add_sample(m, &d);
	memset(&s, 0, sizeof s);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &s), 0);
	CU_ASSERT_DOUBLE_EQUAL(s.kv_usage_max, 910.0 / 1100.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(s.kv_usage_mean, 910.0 / 1100.0 / 2.0, 1e-12);
	memset(&s, 0, sizeof s);
	CU_ASSERT_EQUAL(metrics_summarize(m, 1, &slo, &s), 0);
	CU_ASSERT_DOUBLE_EQUAL(s.kv_usage_mean, 0.45, 1e-12);
	metrics_destroy(m);
}

static void test_quantile(void)
{
	double v[] = {5, 1, 3};

	CU_ASSERT_DOUBLE_EQUAL(metrics_quantile(v, 3, 0.5), 3.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(metrics_quantile(v, 3, 1.0), 5.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(v[0], 5.0, 0); /* input untouched */
	CU_ASSERT_DOUBLE_EQUAL(metrics_quantile(v, 0, 0.5), -1.0, 0);
}

/* Compact storage: no rows, the same summary bit for bit, values per pool. */
static void test_compact(void)
{
	metrics *full, *cmp;
	metrics_summary a, b;
	mx_slo slo = {.ttft_p99_s = 0.35, .tpot_p99_s = 0.011};
	const mx_request *rows;
	const mx_brief *br;
	double *v;
	size_t n, nf;
	sim_req r;

	CU_ASSERT_EQUAL_FATAL(metrics_create(&full), 0);
	CU_ASSERT_EQUAL_FATAL(metrics_create_ex(0, &cmp), 0);
	CU_ASSERT_EQUAL(metrics_keeps_rows(full), 1);
	CU_ASSERT_EQUAL(metrics_keeps_rows(cmp), 0);
	/* 200 requests with awkward nanosecond times (pool i % 3, every 7th unfinished
	 * with a first token, every 11th rejected), recorded in both collectors. */
	for (int i = 0; i < 200; i++) {
		memset(&r, 0, sizeof r);
		r.id = i;
		r.pool = (int16_t)(i % 3);
		r.prompt = 100 + i;
		r.arrival = 1000000007LL * i + 13;
		r.first_token = r.arrival + 123456789LL + 7919LL * i * i;
		r.finish = r.first_token + 98765431LL * (1 + i % 5) + i;
		r.generated = r.output = 1 + i % 9;
		r.preemptions = i % 13 == 0;
		r.misrouted = i % 17 == 0;
		r.status = RQ_DONE;
		if (i % 7 == 0) {
			r.status = RQ_UNFINISHED;
			r.generated = 1;
		} else if (i % 11 == 0) {
			r.status = RQ_REJECTED;
			r.first_token = -1;
			r.finish = r.arrival;
		}
		CU_ASSERT_EQUAL(metrics_add_request(full, &r), 0);
		CU_ASSERT_EQUAL(metrics_add_request(cmp, &r), 0);
	}
	rows = metrics_requests(cmp, &n);
	CU_ASSERT_PTR_NULL(rows);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(metrics_count(cmp), 200);
	rows = metrics_requests(full, &nf);
	br = metrics_briefs(cmp, &n);
	CU_ASSERT_EQUAL_FATAL(n, 200);
	CU_ASSERT_EQUAL_FATAL(nf, 200);
	/* The briefs' times equal the rows' doubles exactly (compared as ==). */
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(mx_brief_ttft_s(&br[i]) == rows[i].ttft_s);
		CU_ASSERT(mx_brief_tpot_s(&br[i]) == rows[i].tpot_s);
		CU_ASSERT(mx_brief_e2e_s(&br[i]) == rows[i].e2e_s);
		CU_ASSERT_EQUAL(br[i].output, rows[i].output);
	}
	for (int pool = -1; pool < 3; pool++) {
		memset(&a, 0, sizeof a);
		memset(&b, 0, sizeof b);
		a.makespan_s = b.makespan_s = 200.0;
		CU_ASSERT_EQUAL(metrics_summarize(full, pool, &slo, &a), 0);
		CU_ASSERT_EQUAL(metrics_summarize(cmp, pool, &slo, &b), 0);
		CU_ASSERT(memcmp(&a, &b, sizeof a) == 0);
	}
	/* TTFT values: every request with a first token, any status: 200 minus the
	 * rejected ones (i % 11 == 0 and i % 7 != 0: 19 of 0..199 are multiples of 11,
	 * 3 of them (0, 77, 154) multiples of 7) -> 200 - 16 = 184. */
	CU_ASSERT_EQUAL(metrics_values(cmp, -1, MX_TTFT, &v, &n), 0);
	CU_ASSERT_EQUAL(n, 184);
	CU_ASSERT(v[0] == rows[0].ttft_s); /* request 0: unfinished with a first token */
	free(v);
	/* E2E of pool 1: done requests i = 1, 4, .., 199 (67) less multiples of 7 (i = 7,
	 * 28, .., 196: i = 7 (mod 21), 10 of them) and of 11 not of 7 (22, 55, 88, 121,
	 * 154 is x7, 187: 5) -> 67 - 10 - 5 = 52. */
	CU_ASSERT_EQUAL(metrics_values(cmp, 1, MX_E2E, &v, &n), 0);
	CU_ASSERT_EQUAL(n, 52);
	CU_ASSERT(v[0] == rows[1].e2e_s);
	free(v);
	/* TPOT needs >= 2 output tokens too: same values from either collector. */
	CU_ASSERT_EQUAL(metrics_values(full, 2, MX_TPOT, &v, &nf), 0);
	free(v);
	CU_ASSERT_EQUAL(metrics_values(cmp, 2, MX_TPOT, &v, &n), 0);
	CU_ASSERT_EQUAL(n, nf);
	free(v);
	CU_ASSERT_EQUAL(metrics_values(cmp, 2, (mx_value)7, &v, &n), -1);
	metrics_destroy(full);
	metrics_destroy(cmp);
}

/* A fleet summary with the counts and P99s the verdict reads. */
static metrics_summary fleet(int64_t requests, int64_t rejected, int64_t unfinished, double ttft_p99,
			     double tpot_p99)
{
	metrics_summary f;

	memset(&f, 0, sizeof f);
	f.requests = requests;
	f.rejected = rejected;
	f.unfinished = unfinished;
	f.completed = requests - rejected - unfinished;
	f.ttft_p99_s = ttft_p99;
	f.tpot_p99_s = tpot_p99;
	return f;
}

static void test_slo_verdict(void)
{
	mx_slo slo = {.ttft_p99_s = 2.0, .tpot_p99_s = 0.1}, none = {0};
	metrics_summary f;
	mx_verdict v;

	CU_ASSERT_EQUAL(mx_slo_max_rejection(-1), MX_DEFAULT_MAX_REJECTION);
	CU_ASSERT_EQUAL(mx_slo_max_rejection(0), 0);
	CU_ASSERT_EQUAL(mx_slo_max_rejection(0.05), 0.05);
	/* 1 of 1000 rejected: exactly the default limit 0.001, which is inclusive. */
	f = fleet(1000, 1, 0, 1.0, 0.05);
	CU_ASSERT_EQUAL_FATAL(mx_slo_verdict(&slo, -1, -1, &f, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	CU_ASSERT_EQUAL(v.rejection_rate, 0.001);
	CU_ASSERT_STRING_EQUAL(v.reason, "");
	/* 2 of 1000: over it.  With max_rejection_rate 0 a single rejection fails. */
	f = fleet(1000, 2, 0, 1.0, 0.05);
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "rejection rate 0.0020 > 0.0010");
	f = fleet(1000, 1, 0, 1.0, 0.05);
	mx_slo_verdict(&slo, 0, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	mx_slo_verdict(&slo, 0.002, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1);
	/* Unfinished requests count as rejected: 1 + 1 of 1000 = 0.002 > 0.001. */
	f = fleet(1000, 1, 1, 1.0, 0.05);
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_EQUAL(v.rejection_rate, 0.002);
	f = fleet(100, 0, 100, -1, -1);
	mx_slo_verdict(&none, 1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1); /* every request unfinished, but a limit of 100 % and no latency keys */
	/* No requests at all: fails, rate 1. */
	f = fleet(0, 0, 0, -1, -1);
	mx_slo_verdict(&none, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_EQUAL(v.rejection_rate, 1);
	CU_ASSERT_STRING_EQUAL(v.reason, "no requests in the workload");
	/* TTFT at the limit passes, above it fails; no TTFT at all fails when it is set. */
	f = fleet(10, 0, 0, 2.0, 0.05);
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1);
	f.ttft_p99_s = 2.5;
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "TTFT p99 2.500 s > 2.000 s");
	f.ttft_p99_s = -1;
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	/* TPOT above its limit fails; no TPOT (one-token outputs only) passes. */
	f = fleet(10, 0, 0, 1.0, 0.2);
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "TPOT p99 0.2000 s > 0.1000 s");
	f.tpot_p99_s = -1;
	mx_slo_verdict(&slo, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1);
	/* Missing SLO keys (0): any latency passes. */
	f = fleet(10, 0, 0, 99.0, 9.0);
	mx_slo_verdict(&none, -1, -1, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1);
	/* Preemptions per request only when asked for (>= 0). */
	f.preemptions_per_request = 0.5;
	mx_slo_verdict(&none, -1, 0.5, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 1);
	mx_slo_verdict(&none, -1, 0.25, &f, &v);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "preemptions per request 0.500 > 0.250");
	CU_ASSERT_EQUAL(mx_slo_verdict(NULL, -1, -1, &f, &v), -1);
	CU_ASSERT_EQUAL(mx_slo_verdict(&none, -1, -1, NULL, &v), -1);
}

static void test_slo_latency(void)
{
	mx_slo slo = {.ttft_p99_s = 1.0, .tpot_p99_s = 0.05}, ttft_only = {.ttft_p99_s = 1.0};

	CU_ASSERT_EQUAL(mx_slo_latency_ok(&slo, 1.0, 0.05), 1);
	CU_ASSERT_EQUAL(mx_slo_latency_ok(&slo, 1.0001, 0.01), 0);
	CU_ASSERT_EQUAL(mx_slo_latency_ok(&slo, 0.5, 0.06), 0);
	CU_ASSERT_EQUAL(mx_slo_latency_ok(&slo, 0.5, -1), 1);  /* one-token output: no TPOT */
	CU_ASSERT_EQUAL(mx_slo_latency_ok(&slo, -1, 0.01), 0); /* no first token */
	CU_ASSERT_EQUAL(mx_slo_latency_ok(&ttft_only, 0.5, 99), 1);
}

/* ---- per-class and per-pool SLOs (mx_slo_verdict_ex) ----
 * 1000 short requests (pool 0 "short", category 0 "chat", prompt 100 + 10 out, TTFT
 * 0.5 s) and 2 long ones (pool 1 "long", category 1 "doc", prompt 20000 + 10 out, TTFT
 * 100 s): the fleet p99 (0.5 s) passes a 2 s target while the long pool starves. */
static metrics *slo_fixture(int long_status, metrics_summary *fleet, metrics_summary pools[2])
{
	static const char *const cats[] = {"chat", "doc"};
	const mx_slo none = {0};
	metrics *m = NULL;

	if (metrics_create_ex(0, &m))
		return NULL;
	for (int i = 0; i < 1002; i++) {
		int lng = i >= 1000;
		sim_req r = done_req(i, lng, i, i + (lng ? 100.0 : 0.5), i + (lng ? 100.5 : 1.0), 10, 0);

		r.prompt = lng ? 20000 : 100;
		r.category = lng;
		if (lng && long_status != RQ_DONE) {
			r.status = (uint8_t)long_status;
			r.first_token = -1;
		}
		CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
	}
	CU_ASSERT_EQUAL(metrics_set_categories(m, cats, 2), 0);
	memset(fleet, 0, sizeof *fleet);
	memset(pools, 0, 2 * sizeof *pools);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &none, fleet), 0);
	snprintf(fleet->pool, sizeof fleet->pool, "*");
	for (int p = 0; p < 2; p++) {
		CU_ASSERT_EQUAL(metrics_summarize(m, p, &none, &pools[p]), 0);
		snprintf(pools[p].pool, sizeof pools[p].pool, "%s", p ? "long" : "short");
	}
	return m;
}

static void test_slo_per_pool_class(void)
{
	const mx_slo slo = {.ttft_p99_s = 2.0, .tpot_p99_s = 0.1};
	metrics_summary f, ps[2];
	metrics *m = slo_fixture(RQ_DONE, &f, ps);
	mx_slo_detail d;
	mx_verdict v, v0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_DOUBLE_EQUAL(f.ttft_p99_s, 0.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(ps[1].ttft_p99_s, 100.0, 1e-9);
	/* no detail, or no classes and per_pool off: the fleet-only verdict exactly */
	CU_ASSERT_EQUAL(mx_slo_verdict(&slo, -1, -1, &f, &v0), 0);
	CU_ASSERT_EQUAL(v0.pass, 1);
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, NULL, -1, -1, NULL, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(memcmp(&v, &v0, sizeof v), 0);
	memset(&d, 0, sizeof d);
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(memcmp(&v, &v0, sizeof v), 0);
	/* per pool: the starved pool fails, named */
	d.per_pool = 1;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, NULL, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "pool 'long': TTFT p99 100.000 s > 2.000 s");
	/* the pool's own target (ttft only; tpot inherits 0.1 s, met) */
	d.npools = 1;
	snprintf(d.pools[0].name, sizeof d.pools[0].name, "long");
	d.pools[0].target.ttft_p99_s = 150;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, NULL, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	CU_ASSERT_STRING_EQUAL(v.reason, "");
	d.pools[0].target.ttft_p99_s = 99.5;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, NULL, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "pool 'long': TTFT p99 100.000 s > 99.500 s");
	/* a length class (prompt + output >= 10000): judged fleet-wide first */
	memset(&d, 0, sizeof d);
	d.nclasses = 1;
	snprintf(d.classes[0].name, sizeof d.classes[0].name, "docs");
	d.classes[0].kind = MX_CLASS_TOTAL;
	d.classes[0].min_tokens = 10000;
	d.classes[0].max_tokens = INT64_MAX;
	d.classes[0].target.ttft_p99_s = 15;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "class 'docs': TTFT p99 100.000 s > 15.000 s");
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, NULL, &f, ps, 2, &v), -1); /* classes need m */
	/* the class's target holds: its requests leave the default group, and per pool
	 * the long pool has only class requests (judged by the class's target) */
	d.classes[0].target.ttft_p99_s = 200;
	d.per_pool = 1;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	/* the class's tpot inherits the default (0.5 s / 9 tokens = 0.0556 s) */
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&(mx_slo){.ttft_p99_s = 2, .tpot_p99_s = 0.05}, &d, -1, -1, m, &f, ps, 2,
					  &v),
			0);
	CU_ASSERT_STRING_EQUAL(v.reason, "TPOT p99 0.0556 s > 0.0500 s");
	d.classes[0].target.tpot_p99_s = 0.05;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "class 'docs': TPOT p99 0.0556 s > 0.0500 s");
	d.classes[0].target.tpot_p99_s = 0;
	/* a prompt-length class covering only the short requests: fleet default group is
	 * the long ones then */
	d.classes[0].kind = MX_CLASS_PROMPT;
	d.classes[0].min_tokens = 0;
	d.classes[0].max_tokens = 1000;
	d.classes[0].target.ttft_p99_s = 0.4;
	d.per_pool = 0;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "TTFT p99 100.000 s > 2.000 s");
	/* a category class */
	memset(&d, 0, sizeof d);
	d.nclasses = 1;
	snprintf(d.classes[0].name, sizeof d.classes[0].name, "chat");
	d.classes[0].kind = MX_CLASS_CATEGORY;
	snprintf(d.classes[0].category, sizeof d.classes[0].category, "chat");
	d.classes[0].target.ttft_p99_s = 0.4;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, -1, -1, m, &f, ps, 2, &v), 0);
	/* the default group (the 2 docs) fails first: checks 3-4 come before classes */
	CU_ASSERT_STRING_EQUAL(v.reason, "TTFT p99 100.000 s > 2.000 s");
	d.classes[0].target.ttft_p99_s = 0.6;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&(mx_slo){.ttft_p99_s = 120}, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	d.classes[0].target.ttft_p99_s = 0.45;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&(mx_slo){.ttft_p99_s = 120}, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "class 'chat': TTFT p99 0.500 s > 0.450 s");
	/* a category the run does not have: the class holds no request, not judged */
	snprintf(d.classes[0].category, sizeof d.classes[0].category, "nope");
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&(mx_slo){.ttft_p99_s = 120}, &d, -1, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	metrics_destroy(m);

	/* a pool whose requests never finished (1 % of traffic under the fleet's
	 * rejection limit): "no completed request" */
	m = slo_fixture(RQ_UNFINISHED, &f, ps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memset(&d, 0, sizeof d);
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, 0.01, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	d.per_pool = 1;
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&slo, &d, 0.01, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.reason, "pool 'long': no completed request of 2");
	/* without a TTFT target there is no latency to judge it on */
	CU_ASSERT_EQUAL(mx_slo_verdict_ex(&(mx_slo){.tpot_p99_s = 1}, &d, 0.01, -1, m, &f, ps, 2, &v), 0);
	CU_ASSERT_EQUAL(v.pass, 1);
	metrics_destroy(m);
}

/* slo_attainment / goodput judge each request by its own target (metrics_set_targets):
 * with the default TTFT 2 s the 2 long requests (TTFT 100 s) miss, 1000 / 1002 meet;
 * a class for them with 150 s, or the long pool's own 150 s, counts them too. */
static void test_slo_attainment_targets(void)
{
	const mx_slo slo = {.ttft_p99_s = 2.0};
	const char *const names[] = {"short", "long"};
	metrics_summary f, ps[2], g;
	metrics *m = slo_fixture(RQ_DONE, &f, ps);
	mx_slo_detail d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memset(&g, 0, sizeof g);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1000.0 / 1002, 1e-12);
	memset(&d, 0, sizeof d);
	d.nclasses = 1;
	snprintf(d.classes[0].name, sizeof d.classes[0].name, "docs");
	d.classes[0].kind = MX_CLASS_CATEGORY;
	snprintf(d.classes[0].category, sizeof d.classes[0].category, "doc");
	d.classes[0].target.ttft_p99_s = 150;
	CU_ASSERT_EQUAL(metrics_set_targets(m, &d, names, 2), 0);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1.0, 1e-12);
	CU_ASSERT_EQUAL(metrics_summarize(m, 1, &slo, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1.0, 1e-12);
	/* a pool target instead of a class */
	memset(&d, 0, sizeof d);
	d.npools = 1;
	snprintf(d.pools[0].name, sizeof d.pools[0].name, "long");
	d.pools[0].target.ttft_p99_s = 150;
	CU_ASSERT_EQUAL(metrics_set_targets(m, &d, names, 2), 0);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1.0, 1e-12);
	d.pools[0].target.ttft_p99_s = 50;
	CU_ASSERT_EQUAL(metrics_set_targets(m, &d, names, 2), 0);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &slo, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1000.0 / 1002, 1e-12);
	/* nothing per class or pool: the default again */
	memset(&d, 0, sizeof d);
	CU_ASSERT_EQUAL(metrics_set_targets(m, &d, names, 2), 0);
	CU_ASSERT_EQUAL(metrics_summarize(m, -1, &(mx_slo){.ttft_p99_s = 120}, &g), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.slo_attainment, 1.0, 1e-12);
	metrics_destroy(m);
}

/* metrics_quantile_inplace equals GSL's quantile of the fully sorted keep smallest,
 * bit for bit, on data with ties, for every keep and several q. */
static void test_quantile_inplace(void)
{
	enum { N = 257 };
	double v[N], w[N], s[N];
	unsigned x = 12345;

	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		v[i] = (double)((x >> 16) % 50) / 7.0; /* many ties */
	}
	for (size_t keep = 1; keep <= N; keep += 16) {
		for (int qi = 0; qi < 5; qi++) {
			const double q = (const double[]){0, 0.5, 0.9, 0.99, 1}[qi];
			memcpy(s, v, sizeof s);
			gsl_sort(s, 1, N);
			memcpy(w, v, sizeof w);
			CU_ASSERT_EQUAL(metrics_quantile_inplace(w, N, keep, q), gsl_stats_quantile_from_sorted_data(s, 1, keep, q));
		}
	}
	CU_ASSERT_EQUAL(metrics_quantile_inplace(w, N, 0, 0.5), -1.0);
	CU_ASSERT_EQUAL(metrics_quantile(v, N, 0.99), gsl_stats_quantile_from_sorted_data(s, 1, N, 0.99));
}

/* Summaries of runs large enough for the sampled brackets (sim/metrics.c
 * quantiles_sampled, n >= 131,072): p50/p90/p99/max of TTFT, TPOT and E2E equal a full
 * sort's, on random, sorted, reversed, tied and constant latencies (the last two
 * overflow a bracket: the selection path must give the same). */
static void test_summary_large(void)
{
	enum { N = 200003 };
	double *t = malloc(N * sizeof *t), *p = malloc(N * sizeof *p), *e = malloc(N * sizeof *e);
	unsigned x = 777;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	for (int shape = 0; shape < 5; shape++) {
		metrics *m;
		metrics_summary o;
		mx_slo slo = {0};
		const double *got[3][4] = {{&o.ttft_p50_s, &o.ttft_p90_s, &o.ttft_p99_s, &o.ttft_max_s},
					   {&o.tpot_p50_s, &o.tpot_p90_s, &o.tpot_p99_s, &o.tpot_max_s},
					   {&o.e2e_p50_s, &o.e2e_p90_s, &o.e2e_p99_s, &o.e2e_max_s}};
		double *want[3] = {t, p, e};

		CU_ASSERT_EQUAL_FATAL(metrics_create_ex(0, &m), 0);
		for (int i = 0; i < N; i++) {
			sim_req r;
			int64_t a, d;

			x = x * 1103515245u + 12345u;
			switch (shape) {
			case 0: a = (int64_t)(x >> 4); break;                 /* random */
			case 1: a = 1000 + 37 * (int64_t)i; break;            /* ascending (queues) */
			case 2: a = 1000 + 37 * (int64_t)(N - i); break;      /* descending */
			case 3: a = 1000000 * (int64_t)((x >> 16) % 3); break; /* three values */
			default: a = 5000; break;                             /* one value */
			}
			d = shape == 4 ? 9000 : 1 + (int64_t)((x >> 8) % 100000);
			memset(&r, 0, sizeof r);
			r.id = i;
			r.arrival = 0;
			r.first_token = a;
			r.finish = a + d;
			r.generated = r.output = 11;
			r.prompt = 10;
			r.status = RQ_DONE;
			CU_ASSERT_EQUAL(metrics_add_request(m, &r), 0);
			t[i] = st_to_s(a);
			p[i] = st_to_s(d) / 10;
			e[i] = st_to_s(a + d);
		}
		o.makespan_s = 1.0;
		CU_ASSERT_EQUAL_FATAL(metrics_summarize(m, -1, &slo, &o), 0);
		for (int k = 0; k < 3; k++) {
			gsl_sort(want[k], 1, N);
			CU_ASSERT_EQUAL(*got[k][0], gsl_stats_quantile_from_sorted_data(want[k], 1, N, 0.50));
			CU_ASSERT_EQUAL(*got[k][1], gsl_stats_quantile_from_sorted_data(want[k], 1, N, 0.90));
			CU_ASSERT_EQUAL(*got[k][2], gsl_stats_quantile_from_sorted_data(want[k], 1, N, 0.99));
			CU_ASSERT_EQUAL(*got[k][3], want[k][N - 1]);
		}
		metrics_destroy(m);
	}
	free(t);
	free(p);
	free(e);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("metrics", NULL, NULL);
	if (!s || !CU_add_test(s, "request fields", test_request_fields) ||
	    !CU_add_test(s, "pool summary", test_summary) ||
	    !CU_add_test(s, "quantile", test_quantile) ||
	    !CU_add_test(s, "fleet KV usage weighting", test_fleet_kv_weighting) ||
	    !CU_add_test(s, "compact storage", test_compact) ||
	    !CU_add_test(s, "SLO verdict", test_slo_verdict) ||
	    !CU_add_test(s, "SLO latency per request", test_slo_latency) ||
	    !CU_add_test(s, "SLO per class and per pool", test_slo_per_pool_class) ||
	    !CU_add_test(s, "SLO attainment per request target", test_slo_attainment_targets) ||
	    !CU_add_test(s, "quantile by selection", test_quantile_inplace) ||
	    !CU_add_test(s, "large summaries: sampled brackets", test_summary_large))
		return -1;
	return 0;
}
