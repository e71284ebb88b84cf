/* CUnit suite for reports/cost: N + k spares against hand-computed binomial values,
 * cloud and on-prem TCO arithmetic, and option checks (issue 17 item 6). */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "reports/cost.h"

/* Hand-computed (sum of C(n,i) u^i (1-u)^(n-i), i <= k) values. */
static void test_spares_binomial(void)
{
	double p = 0;
	/* u = 24 / (1000 + 24) = 3/128; N = 1: k = 0 gives (1-u) = 0.9765625;
	 * k = 1: (1-u)^2 + 2u(1-u) = 0.99945068359375; k = 2: 0.9999871253967285. */
	double u = 24.0 / 1024.0;

	CU_ASSERT_EQUAL(cost_spares_for(1, u, 0.97, &p), 0);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.9765625, 1e-12);
	CU_ASSERT_EQUAL(cost_spares_for(1, u, 0.999, &p), 1);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.99945068359375, 1e-12);
	CU_ASSERT_EQUAL(cost_spares_for(1, u, 0.9999, &p), 2);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.9999871253967285, 1e-12);
	/* N = 16: k = 3 -> 0.9991180784349133, k = 4 -> 0.9999183356573957. */
	CU_ASSERT_EQUAL(cost_spares_for(16, u, 0.999, &p), 3);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.9991180784349133, 1e-12);
	CU_ASSERT_EQUAL(cost_spares_for(16, u, 0.9999, &p), 4);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.9999183356573957, 1e-12);
	/* u = 48 / 2048, N = 2, A = 0.9999: k = 2 (0.9999494068324566). */
	CU_ASSERT_EQUAL(cost_spares_for(2, 48.0 / 2048.0, 0.9999, &p), 2);
	CU_ASSERT_DOUBLE_EQUAL(p, 0.9999494068324566, 1e-12);
	/* Never-failing servers need none; bad arguments are refused. */
	CU_ASSERT_EQUAL(cost_spares_for(8, 0.0, 0.999999, &p), 0);
	CU_ASSERT_EQUAL(cost_spares_for(8, 1.0, 0.9, &p), -1);
	CU_ASSERT_EQUAL(cost_spares_for(8, 0.1, 1.0, &p), -1);
}

static void test_tco_arithmetic(void)
{
	cost_opts o;
	cost_result r;
	fs_err err = {0};

	cost_opts_init(&o);
	o.spares = 1;
	o.server_price = 250000;
	o.power_price = 0.12;
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), 0);
	/* 10 GPUs drawing 2000 W, 140 W idle, $2.99/GPU-h, 1000 output tok/s. */
	CU_ASSERT_EQUAL_FATAL(cost_compute(&o, 10, 2.99, 2000, 140, 1000, &r, &err), 0);
	CU_ASSERT_EQUAL(r.servers, 2);
	CU_ASSERT_EQUAL(r.spares, 1);
	CU_ASSERT_EQUAL(r.node_gpus, 8);
	CU_ASSERT_EQUAL(r.spare_gpus, 8);
	CU_ASSERT(isnan(r.availability));
	/* cloud: 18 GPUs x 2.99 x 8760 */
	CU_ASSERT_DOUBLE_EQUAL(r.cloud_per_year, 18 * 2.99 * 8760, 1e-6);
	/* 8760 h x 3600 s x 1000 tok/s = 31536 M tokens a year */
	CU_ASSERT_DOUBLE_EQUAL(r.cloud_per_mtok, 18 * 2.99 * 8760 / 31536.0, 1e-9);
	CU_ASSERT_EQUAL(r.onprem, 1);
	CU_ASSERT_EQUAL(r.onprem_servers, 3);
	/* capex: 3 x 250000 / 4 years */
	CU_ASSERT_DOUBLE_EQUAL(r.capex_per_year, 187500, 1e-6);
	/* power: 2000 W + (24 - 10) idle GPUs x 140 W = 3.96 kW; x PUE 1.3 = 5.148 kW */
	CU_ASSERT_DOUBLE_EQUAL(r.power_kw, 3.96, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.facility_kw, 5.148, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.energy_mwh_per_year, 5.148 * 8.76, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.energy_cost_per_year, 5.148 * 8760 * 0.12, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(r.tco_per_year, 187500 + 5.148 * 8760 * 0.12, 1e-6);
	/* opex and non-default amortisation and PUE */
	o.opex_per_server_year = 10000;
	o.amortization_years = 5;
	o.pue = 1.5;
	o.gpus_per_server = 4;
	CU_ASSERT_EQUAL_FATAL(cost_compute(&o, 10, 2.0, 2000, 100, 0, &r, &err), 0);
	CU_ASSERT_EQUAL(r.servers, 3);
	CU_ASSERT_EQUAL(r.onprem_servers, 4);
	CU_ASSERT_DOUBLE_EQUAL(r.capex_per_year, 4 * 250000 / 5.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(r.opex_per_year, 40000, 1e-9);
	/* 2000 + (16 - 10) x 100 = 2.6 kW x 1.5 */
	CU_ASSERT_DOUBLE_EQUAL(r.facility_kw, 3.9, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(r.cloud_per_mtok, 0, 0);
	/* A fleet smaller than a server: one server (+ k); cloud spares replace what a
	 * failed server takes down, here the whole 2-GPU fleet. */
	cost_opts_init(&o);
	o.spares = 1;
	CU_ASSERT_EQUAL_FATAL(cost_compute(&o, 2, 3.0, 500, 140, 0, &r, &err), 0);
	CU_ASSERT_EQUAL(r.node_gpus, 8);
	CU_ASSERT_EQUAL(r.servers, 1);
	CU_ASSERT_EQUAL(r.spare_gpus, 2);
	CU_ASSERT_DOUBLE_EQUAL(r.cloud_per_year, 4 * 3.0 * 8760, 1e-6);
	CU_ASSERT_EQUAL(r.onprem, 0);
	CU_ASSERT_EQUAL(r.onprem_servers, 2);
	/* energy still counts the 14 idle GPUs of the 2 servers: 500 + 14 x 140 W */
	CU_ASSERT_DOUBLE_EQUAL(r.power_kw, 2.46, 1e-12);
	/* Availability target. */
	cost_opts_init(&o);
	o.availability = 0.9999;
	o.mtbf_h = 2000;
	o.mttr_h = 48;
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), 0);
	CU_ASSERT_EQUAL_FATAL(cost_compute(&o, 16, 3.0, 5000, 140, 0, &r, &err), 0);
	CU_ASSERT_EQUAL(r.servers, 2);
	CU_ASSERT_EQUAL(r.spares, 2);
	CU_ASSERT_DOUBLE_EQUAL(r.unavailability, 48.0 / 2048.0, 1e-15);
	CU_ASSERT_DOUBLE_EQUAL(r.availability, 0.9999494068324566, 1e-12);
}

static void test_checks(void)
{
	cost_opts o;
	fs_err err = {0};

	cost_opts_init(&o);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), 0);
	CU_ASSERT_EQUAL(cost_opts_given(&o), 0);
	o.availability = 0.999;
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--mtbf-h"));
	o.mtbf_h = 1000;
	o.mttr_h = 10;
	o.spares = 2;
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not both"));
	cost_opts_init(&o);
	o.availability = 1.0;
	o.mtbf_h = o.mttr_h = 1;
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	cost_opts_init(&o);
	o.pue = 0.8;
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--pue"));
	cost_opts_init(&o);
	o.server_price = -1;
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	cost_opts_init(&o);
	o.mttr_h = 5;
	fs_err_clear(&err);
	CU_ASSERT_EQUAL(cost_opts_check(&o, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "need --availability"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("cost", NULL, NULL);
	if (!s || !CU_add_test(s, "spares from availability (binomial)", test_spares_binomial) ||
	    !CU_add_test(s, "cloud and on-prem TCO arithmetic", test_tco_arithmetic) ||
	    !CU_add_test(s, "option checks", test_checks))
		return -1;
	return 0;
}
