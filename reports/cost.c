/*
 * cost.c - N + k redundancy and cloud / on-prem cost (see cost.h).
 */
#include "reports/cost.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <string.h>

#define MAX_SPARES 100000

void cost_opts_init(cost_opts *o)
{
	memset(o, 0, sizeof *o);
	o->spares = -1;
}

int cost_opts_given(const cost_opts *o)
{
	return o->spares >= 0 || o->availability > 0 || o->server_price > 0 || o->power_price > 0;
}

int cost_opts_check(const cost_opts *o, fs_err *err)
{
	if (o->spares < -1 || o->spares > MAX_SPARES)
		return fs_fail(err, FS_EXIT_INPUT, "--spares wants 0..%d spare servers, got %d", MAX_SPARES, o->spares);
	if (o->availability != 0 && !(o->availability > 0 && o->availability < 1))
		return fs_fail(err, FS_EXIT_INPUT, "--availability wants a share in (0, 1), e.g. 0.999, got %g",
			       o->availability);
	if (o->availability > 0 && o->spares >= 0)
		return fs_fail(err, FS_EXIT_INPUT, "give --spares or --availability, not both");
	if (o->availability > 0 && !(o->mtbf_h > 0 && o->mttr_h > 0))
		return fs_fail(err, FS_EXIT_INPUT, "--availability needs --mtbf-h and --mttr-h (hours, > 0)");
	if (o->availability == 0 && (o->mtbf_h != 0 || o->mttr_h != 0))
		return fs_fail(err, FS_EXIT_INPUT, "--mtbf-h and --mttr-h need --availability");
	if (o->mtbf_h < 0 || o->mttr_h < 0 || !isfinite(o->mtbf_h) || !isfinite(o->mttr_h))
		return fs_fail(err, FS_EXIT_INPUT, "--mtbf-h and --mttr-h want hours > 0");
	if (o->gpus_per_server < 0 || o->gpus_per_server > 1024)
		return fs_fail(err, FS_EXIT_INPUT, "--gpus-per-server wants 1..1024, got %d", o->gpus_per_server);
	if (o->server_price < 0 || !isfinite(o->server_price))
		return fs_fail(err, FS_EXIT_INPUT, "--server-price wants dollars > 0, got %g", o->server_price);
	if (o->amortization_years < 0 || !isfinite(o->amortization_years))
		return fs_fail(err, FS_EXIT_INPUT, "--amortization-years wants years > 0, got %g",
			       o->amortization_years);
	if (o->power_price < 0 || !isfinite(o->power_price))
		return fs_fail(err, FS_EXIT_INPUT, "--power-price wants $/kWh > 0, got %g", o->power_price);
	if (o->pue != 0 && !(o->pue >= 1 && o->pue <= 5))
		return fs_fail(err, FS_EXIT_INPUT, "--pue wants a ratio in [1, 5], got %g", o->pue);
	if (o->opex_per_server_year < 0 || !isfinite(o->opex_per_server_year))
		return fs_fail(err, FS_EXIT_INPUT, "--opex-per-server-year wants dollars >= 0, got %g",
			       o->opex_per_server_year);
	return 0;
}

int cost_spares_for(int n, double u, double a, double *achieved)
{
	if (n < 0 || !(u >= 0 && u < 1) || !(a > 0 && a < 1))
		return -1;
	for (int k = 0; k <= MAX_SPARES; k++) {
		double p = gsl_cdf_binomial_P((unsigned)k, u, (unsigned)(n + k));

		if (p >= a) {
			if (achieved)
				*achieved = p;
			return k;
		}
	}
	return -1;
}

int cost_compute(const cost_opts *o, int gpus, double price_per_gpu_hour, double power_w, double idle_w,
		 double tokens_per_s, cost_result *out, fs_err *err)
{
	int gps = o->gpus_per_server > 0 ? o->gpus_per_server : COST_DEFAULT_GPUS_PER_SERVER;
	double years = o->amortization_years > 0 ? o->amortization_years : COST_DEFAULT_AMORTIZATION_YEARS;
	double pue = o->pue > 0 ? o->pue : COST_DEFAULT_PUE;
	double mtok_per_year = tokens_per_s * 3600.0 * COST_HOURS_PER_YEAR / 1e6;
	int onprem_servers;

	memset(out, 0, sizeof *out);
	out->gpus = gpus;
	out->node_gpus = gps;
	out->servers = gpus > 0 ? (gpus + gps - 1) / gps : 1;
	out->availability = NAN;
	if (o->spares >= 0) {
		out->spares = o->spares;
	} else if (o->availability > 0) {
		out->unavailability = o->mttr_h / (o->mtbf_h + o->mttr_h);
		out->spares = cost_spares_for(out->servers, out->unavailability, o->availability, &out->availability);
		if (out->spares < 0)
			return fs_fail(err, FS_EXIT_INPUT,
				       "availability %g is out of reach: a server is down %.4g of the time "
				       "(MTTR %g h / (MTBF %g h + MTTR))",
				       o->availability, out->unavailability, o->mttr_h, o->mtbf_h);
	}
	/* Cloud rents spare GPUs, not servers: enough to replace what one failed server
	 * takes down, at most the whole fleet. */
	out->spare_gpus = out->spares * (gpus < gps ? gpus : gps);
	out->cloud_per_year = (double)(gpus + out->spare_gpus) * price_per_gpu_hour * COST_HOURS_PER_YEAR;
	out->cloud_per_mtok = mtok_per_year > 0 ? out->cloud_per_year / mtok_per_year : 0;
	out->onprem = o->server_price > 0;
	/* On-prem buys whole servers of gps GPUs, however few the fleet uses; every
	 * installed GPU that does not serve (spares, empty slots) draws idle power. */
	onprem_servers = out->servers + out->spares;
	out->onprem_servers = onprem_servers;
	out->power_kw = (power_w + ((double)onprem_servers * gps - gpus) * idle_w) / 1000.0;
	out->facility_kw = out->power_kw * pue;
	out->energy_mwh_per_year = out->facility_kw * COST_HOURS_PER_YEAR / 1000.0;
	out->energy_cost_per_year = out->energy_mwh_per_year * 1000.0 * o->power_price;
	if (out->onprem) {
		out->capex_per_year = onprem_servers * o->server_price / years;
		out->opex_per_year = onprem_servers * o->opex_per_server_year;
		out->tco_per_year = out->capex_per_year + out->energy_cost_per_year + out->opex_per_year;
		out->onprem_per_mtok = mtok_per_year > 0 ? out->tco_per_year / mtok_per_year : 0;
	}
	return 0;
}
