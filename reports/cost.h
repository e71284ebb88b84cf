/*
 * cost.h - redundancy (N + k spare servers) and cost (cloud $/GPU-hour and on-prem
 * TCO) of a planned fleet, for `fleetsim plan` (docs/planning.md, "Cost, power and
 * redundancy").
 *
 * Redundancy: the fleet's GPUs sit in servers of gpus_per_server GPUs; N = the
 * servers the serving GPUs need (ceil(GPUs / gpus_per_server)).  k spare servers come from --spares, or from an availability target A
 * with node MTBF and MTTR: per-server unavailability u = MTTR / (MTBF + MTTR),
 * failures independent, k = the smallest k with P(at most k of the N + k servers
 * down) = BinomialCDF(k; N + k, u) >= A (GSL's gsl_cdf_binomial_P).
 *
 * Cost, per year (8760 h):
 *   cloud   = (serving GPUs + k x min(gpus_per_server, serving GPUs)) x $/GPU-hour
 *             x 8760 (a spare replaces what one failed server takes down);
 *   on-prem = (N + k) servers x server price / amortisation years
 *             + energy: (simulated mean power of the serving GPUs + idle power of
 *               every other installed GPU: spares, empty slots) x PUE x 8760 h
 *               x $/kWh
 *             + (N + k) x opex per server-year.
 * Host CPUs, network and storage power are not in the simulated power (GPU board
 * power only); PUE covers cooling and power delivery.
 *
 * Owns: nothing; plain values.
 */
#ifndef FS_COST_H
#define FS_COST_H

#include "util/err.h"

#define COST_HOURS_PER_YEAR 8760.0
#define COST_DEFAULT_GPUS_PER_SERVER 8
#define COST_DEFAULT_AMORTIZATION_YEARS 4.0
/* Default PUE 1.3: an assumption for a modern GPU hall.  For scale: the Uptime
 * Institute Global Data Center Survey 2023 (July 2023) finds average PUE flat for
 * four years, at 1.58 in 2023 (1.55 in 2022), as quoted by upsite.com ("Why has
 * PUE remained flat..."); new hyperscale halls report lower.  Set --pue for the
 * customer's site. */
#define COST_DEFAULT_PUE 1.3

typedef struct cost_opts {
	int spares;                 /* spare servers from --spares; -1: not given */
	double availability;        /* target in (0, 1); 0: not given */
	double mtbf_h, mttr_h;      /* per server, hours (with availability) */
	int gpus_per_server;        /* 0: COST_DEFAULT_GPUS_PER_SERVER */
	double server_price;        /* $ per server; 0: no on-prem figures */
	double amortization_years;  /* 0: COST_DEFAULT_AMORTIZATION_YEARS */
	double power_price;         /* $ per kWh; 0: no energy cost */
	double pue;                 /* 0: COST_DEFAULT_PUE */
	double opex_per_server_year;/* $; 0: none */
} cost_opts;

/* cost_opts with nothing given (spares -1, everything else 0 = default). */
void cost_opts_init(cost_opts *o);

/* Check o (after the command line filled it): values > 0 where given, availability in
 * (0, 1) with mtbf_h and mttr_h, not both --spares and --availability, integers in
 * range.  Returns 0, or -1 with an FS_EXIT_INPUT message naming the option. */
int cost_opts_check(const cost_opts *o, fs_err *err);

/* Whether any redundancy or on-prem option was given (the report's cost section
 * shows them only then). */
int cost_opts_given(const cost_opts *o);

/* Smallest k >= 0 with BinomialCDF(k; n + k, u) >= a (n >= 0 servers, u in [0, 1),
 * a in (0, 1)), and that probability in *achieved (may be NULL).  Returns k, or -1
 * when no k <= 100000 reaches a (u too high). */
int cost_spares_for(int n, double u, double a, double *achieved);

typedef struct cost_result {
	int gpus;                 /* serving GPUs (the plan's) */
	int node_gpus;            /* GPUs per server (gpus_per_server or its default) */
	int servers;              /* N: servers the serving GPUs need */
	int spares;               /* k: spare servers */
	int spare_gpus;           /* cloud: k x min(node_gpus, gpus) */
	double unavailability;    /* per server (0 with --spares only) */
	double availability;      /* P(at most k of N + k down); NAN with --spares only */
	double cloud_per_year;    /* $ */
	double cloud_per_mtok;    /* $ per million output tokens (0: tokens unknown) */
	int onprem;               /* server_price given */
	int onprem_servers;       /* ceil(gpus / gpus_per_server) + k: bought */
	double capex_per_year;    /* (N + k) x price / years */
	double power_kw;          /* serving GPUs (simulated) + spares at idle, board */
	double facility_kw;       /* power_kw x PUE */
	double energy_mwh_per_year;
	double energy_cost_per_year;
	double opex_per_year;
	double tco_per_year;      /* capex + energy + opex */
	double onprem_per_mtok;
} cost_result;

/* Redundancy and cost of a fleet of gpus serving GPUs at price_per_gpu_hour ($),
 * drawing power_w in all (simulated mean board power of the serving GPUs) with
 * idle_w per idle spare GPU, producing tokens_per_s output tokens per second (for $
 * per million tokens; 0: not computed).  o must pass cost_opts_check.  Returns 0,
 * or -1 with an FS_EXIT_INPUT message (an availability no spare count reaches). */
int cost_compute(const cost_opts *o, int gpus, double price_per_gpu_hour, double power_w, double idle_w,
		 double tokens_per_s, cost_result *out, fs_err *err);

#endif
