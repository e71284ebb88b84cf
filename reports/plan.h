/*
 * plan.h - the capacity planner behind `fleetsim plan`: for each GPU x precision x
 * layout (single pool / dual token-budget pools), the fewest GPUs whose simulated
 * SLO holds (P99 TTFT, P99 TPOT, rejection rate, optionally preemptions per request).
 *
 * Search, per option (docs/planning.md has the full story):
 *   1. bracket with the analytical saturation throughput (models/capacity.h) of each
 *      pool for the request mix it receives: need = rate / rps_per_replica;
 *   2. simulate the bracket ends; if the top fails, double it until one passes
 *      (exponential search), if the bottom passes, halve it until one fails;
 *   3. bisect between the highest failing and the lowest passing replica count;
 *   4. verify the winner on other traffic (seed + 1 for synthetic workloads; for trace
 *      replays a shifted window or a block bootstrap of the trace); if it fails there,
 *      add a replica until it holds; then report it at +10 % load.
 * With rq->tune (the CLI's default) each option first searches TP, max_num_seqs,
 * max_num_batched_tokens and the dual threshold (plan_request.tune), and a dual layout
 * is built from the single-pool policy when the scenario has no two-pool one.
 * Dual: for each candidate threshold (the scenario's, half of it, twice it while the
 * short pool's max_model_len holds it) the total replica count is bisected with the
 * split between the pools proportional to their analytical demand; then each pool is
 * shrunk to its minimum with the other held, by bisection, alternating
 * (plan_search_split: O(log) simulations).  The threshold and split with the fewest
 * GPUs win (ties: lower P99 TTFT).
 * Before searching, lower bounds that hold at any fleet size (unloaded prefill for
 * TTFT, a lone decode step for TPOT, requests no pool holds) are checked against the
 * SLO; an option that cannot meet it is reported infeasible with the bound named. 
 *
 * Each candidate is a scenario_load of the scenario with --set assignments (pool gpu,
 * quantization, kv_cache_dtype, tensor_parallel_size, replicas, router thresholds,
 * workload rate), so the `runs.params` of every simulation say what was simulated.
 * Every simulation is written to the database (runs + pool_metrics + timeseries) and
 * linked by a `plans` row (plan id, option, phase, replicas, verdict).
 *
 * Owns: a plan_result (options, their runs) until plan_result_free.
 */
#ifndef FS_PLAN_H
#define FS_PLAN_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/precision.h"
#include "reports/cost.h"
#include "reports/db.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "sim/metrics.h"
#include "traces/tstats.h"
#include "util/err.h"

#define PLAN_MAX_GPUS 8
/* GPU x precision x layout, plus (--mixed-gpus) every ordered pair of GPUs per precision
 * for the dual layout. */
#define PLAN_MAX_OPTIONS (PLAN_MAX_GPUS * 3 * 2 + PLAN_MAX_GPUS * (PLAN_MAX_GPUS - 1) * 3)
#define PLAN_MAX_REPLICAS 100000
/* Used when the scenario sets no slo.max_rejection_rate (mx_slo_verdict's default). */
#define PLAN_DEFAULT_MAX_REJECTION MX_DEFAULT_MAX_REJECTION
#define PLAN_HOURS_PER_YEAR 8760.0

typedef enum plan_layout { PLAN_SINGLE = 0, PLAN_DUAL = 1 } plan_layout;

const char *plan_layout_name(plan_layout l);
/* "single" / "dual"; returns 0 or -1 with a message listing both. */
int plan_layout_parse(const char *s, plan_layout *out, fs_err *err);

typedef struct plan_request {
	const char *scenario_path;
	/* The scenario as read once (NULL: plan_run / plan_simulate / plan_headroom read
	 * scenario_path once themselves); it is parsed once, into scenario_src. */
	const char *scenario_text;
	size_t scenario_len;
	/* The text parsed once (scenarios/scenario.h): every candidate loads a copy of it
	 * in memory.  NULL: plan_run / plan_simulate / plan_headroom parse the text once
	 * themselves; a caller that sets it keeps ownership. */
	struct scenario_src *scenario_src;
	const char *const *sets;       /* user --set assignments, applied first (borrowed) */
	int nsets;
	int ngpus;
	char gpus[PLAN_MAX_GPUS][64];  /* catalog names or GPU YAML paths */
	int nprecs;
	prec_t precs[3];
	int nlayouts;
	plan_layout layouts[2];
	double load_scale;             /* multiplies the workload's rate; 1 */
	double max_preemptions_per_request; /* < 0: not part of the SLO */
	int max_replicas;              /* per option, search ceiling; 0: 512 */
	int verify;                    /* re-check the winner on seed + 1 */
	int mixed_gpus;                /* also dual options with a different GPU per pool (tuned search only) */
	const char *baseline;          /* option label "gpu/precision/layout"; NULL: default */
	/* A plan of the same options at a lower load (what-if chains), or NULL: each
	 * option's total replicas there is the floor of the search here, since the SLO
	 * is taken as monotone in load (noise in short simulations can break that). */
	const struct plan_result *lower;
	db *d;                         /* NULL: record nothing */
	int64_t plan_id;               /* plans.plan_id of this plan (db_next_plan_id) */
	/* Called after each simulation, for progress bars; may be NULL. */
	void (*progress)(void *ctx, const char *option, int sims);
	void *progress_ctx;
	/* ---- Search over engine settings (issue 17; docs/planning.md "Tuning") ----
	 * tune 0: the scenario's pool shapes and TP as given (the search above); 1: per
	 * option, search tensor_parallel_size (powers of two up to node_gpus that divide
	 * the model's attention heads and load), max_num_seqs and max_num_batched_tokens
	 * per pool (vLLM's defaults for the GPU, half the default seqs, the KV worst case
	 * kv_tokens / max_model_len), and for dual the threshold over the workload's
	 * length quantiles; a dual layout is built from the single-pool policy when the
	 * scenario has no two-pool one.  Candidates are ranked by the closed-form
	 * capacity model; the first is searched fully, the others only below the best
	 * fleet found so far.  Pins: > 0 fixes that dimension. */
	int tune;
	int node_gpus;                 /* GPUs in one node (NVLink domain); 0: 8 */
	int pin_tp, pin_max_num_seqs, pin_max_num_batched_tokens;
	int nthresholds;               /* dual thresholds to try (0: quantiles) */
	int64_t thresholds[8];
	int max_candidates;            /* simulated candidates per option; 0: 6 */
	/* Progress with the option's place in the plan (may be NULL; called in addition
	 * to progress). */
	void (*progress_eta)(void *ctx, const char *option, int sims, int done, int total);
	/* Redundancy and on-prem cost (reports/cost.h); NULL: cloud cost only, no spares. */
	const cost_opts *cost;
} plan_request;

/* One simulated candidate and its verdict. */
typedef struct plan_eval {
	int npools;
	int replicas[FS_MAX_POOLS];
	int gpus;
	int64_t threshold;             /* 0 for single */
	uint64_t seed;
	double load_scale;
	int pass;
	char reason[160];              /* why it failed ("" when it passed) */
	double ttft_p99_s, tpot_p99_s, rejection_rate, preemptions_per_request;
	double busy_share;             /* GPU busy seconds / (GPUs x makespan) */
	double gpu_hours, makespan_s, throughput_rps;
	int64_t requests;
	int64_t run_id;                /* 0 when not recorded */
	/* Power model (fleet-wide metrics_summary figures; 0 when not simulated): */
	double energy_j;               /* all GPUs over the makespan, idle included */
	double avg_power_w;            /* mean draw of all the fleet's GPUs, W */
	double utilisation;            /* compute-bound GPU-seconds / provisioned */
	double tokens_per_joule, energy_per_mtok_j; /* output tokens */
} plan_eval;

typedef struct plan_option {
	char gpu[64];                  /* as requested; mixed: the short pool's */
	char gpu_display[64];          /* mixed: "short + long" */
	/* --mixed-gpus: the GPU of each pool ("" for every pool: gpu) and its $/GPU-hour;
	 * price_per_gpu_hour is then the GPU-weighted mean over the planned fleet. */
	int mixed;
	char pool_gpu[FS_MAX_POOLS][64];
	char pool_gpu_display[FS_MAX_POOLS][64];
	double pool_price[FS_MAX_POOLS];
	prec_t prec, kv;
	plan_layout layout;
	char label[128];               /* "h100/bf16/single" */
	int policy;                    /* template policy index in the scenario, -1 none */
	char policy_name[64];
	int npools;
	char pool_names[FS_MAX_POOLS][64];
	int tp[FS_MAX_POOLS];
	int max_model_len[FS_MAX_POOLS], max_num_seqs[FS_MAX_POOLS];
	int max_num_batched_tokens[FS_MAX_POOLS];
	double gpu_memory_utilization[FS_MAX_POOLS];
	double cap_rps[FS_MAX_POOLS];  /* analytical requests/s per replica */
	double estimate_gpus;          /* analytical GPUs at saturation */
	/* Lower bounds that hold for any fleet size (see docs/planning.md, "Feasibility"):
	 * P99 over requests of the unloaded TTFT (prefill in max_num_batched_tokens chunks
	 * with nothing else in the steps) and of one lone decode step, on the fastest pool
	 * that holds each request; and the share of requests no pool holds.  When one of
	 * them breaks the SLO the option is infeasible, its note says why, and no fleet is
	 * simulated. */
	double ttft_p99_floor_s, tpot_p99_floor_s, never_fits;
	int feasible;                  /* a fleet meeting the SLO was found */
	char note[256];                /* why not feasible, or remarks */
	plan_eval best;                /* the chosen fleet on the scenario's seed */
	plan_eval verify;              /* the same on seed + 1 (verify.seed 0: not run) */
	int sims;                      /* simulations spent on this option */
	double wall_s;
	/* Cost and power (feasible options only). */
	double price_per_gpu_hour, gpu_hours_per_day, gpu_hours_per_year, annual_cost;
	double power_w_per_gpu, power_kw, energy_mwh_per_year;
	double savings_vs_baseline;    /* share of the baseline's annual cost; NAN if none */
	int rank;                      /* 1 = cheapest feasible; 0 infeasible */
	/* ---- Tuning (rq->tune) ---- */
	int shape_set;                 /* max_num_seqs / max_num_batched_tokens are set */
	int synth_dual;                /* dual built from the single-pool policy */
	int64_t synth_long_len;        /* its long pool's max_model_len */
	int candidates, candidates_simulated;
	/* The single pool at vLLM's defaults (smallest TP that loads, the release's
	 * max_num_seqs / max_num_batched_tokens for the GPU): single options only. */
	int has_defaults, defaults_feasible, defaults_tp;
	int defaults_max_num_seqs, defaults_max_num_batched_tokens;
	plan_eval defaults;
	/* Every simulated candidate's best fleet (pareto: GPUs vs TTFT p99 over
	 * thresholds for dual). */
	int ntried;
	struct plan_tried {
		int tp[FS_MAX_POOLS], max_num_seqs[FS_MAX_POOLS], max_num_batched_tokens[FS_MAX_POOLS];
		int64_t threshold;
		int found, gpus;
		double ttft_p99_s;
		int pareto;
	} tried[48];
	/* Verification: what it ran on ("seed 8", "window 300-600 s", "load x1.1"),
	 * each check's verdict and the spread of TTFT p99 over them and best. */
	int nchecks;
	char check_name[4][128];
	plan_eval check[4];
	double verify_ttft_min_s, verify_ttft_max_s;
	char verified[400];
	char tp_note[200];             /* why TPs were excluded (node size, heads) */
	char tp_searched[160];         /* the TPs that loaded: "1, 2" or, dual, "short+long": "1+1, 1+2" */
	int searched_gpus;             /* best.gpus before verification added replicas */
	/* Redundancy and cost with rq->cost (feasible options; cost_ok 0 otherwise). */
	int cost_ok;
	cost_result cost;
	double idle_power_w_per_gpu;   /* idle board power of the option's GPU, W */
} plan_option;

typedef struct plan_result {
	char scenario[128];
	char model[96];
	char calib_source[PLAN_MAX_GPUS][200];
	double load_scale;
	mx_slo slo;
	double max_rejection_rate;
	double max_preemptions_per_request;
	uint64_t seed;
	tstats stats;                  /* the workload as simulated (at load_scale) */
	int noptions;
	plan_option options[PLAN_MAX_OPTIONS];
	int baseline;                  /* option index, -1 when not feasible / absent */
	int best;                      /* cheapest feasible option, -1 none */
	int sims;
	double wall_s;
} plan_result;

/* Run the plan.  Options are enumerated gpu-major, then precision, then layout (so
 * option 0 is the first GPU, first precision, first layout); rq->baseline NULL picks
 * single/bf16 on the first GPU (or option 0 when that is not planned).  Returns 0 and
 * *out (caller owns, plan_result_free) — options with no feasible fleet are in it
 * with a note — or -1 with err: FS_EXIT_INPUT for a bad scenario or request (a
 * baseline label that names no option),
 * FS_EXIT_RUNTIME for a failed simulation or database write. */
int plan_run(const plan_request *rq, plan_result **out, fs_err *err);
void plan_result_free(plan_result *r);

/* Simulate option o with the given per-pool replicas (and threshold for dual) at
 * load_scale and seed; fill *ev.  Records the run when rq->d is set (phase names
 * the step: "bracket", "bisect", "verify", "headroom", ...).  keep: when not NULL,
 * receives the runner result (caller frees with runner_result_free).  Returns 0 (the
 * verdict is in ev->pass) or -1 with err. */
int plan_simulate(const plan_request *rq, const plan_option *o, const int *replicas,
		  int64_t threshold, double load_scale, uint64_t seed, const char *phase,
		  plan_eval *ev, runner_result *keep, fs_err *err);

/* Re-simulate the chosen fleet of o at each of the n load scales (ascending) and stop
 * after the first that breaks the SLO.  Returns 0 with evs[0..*nout) filled, or -1. */
int plan_headroom(const plan_request *rq, const plan_option *o, const double *scales, int n,
		  plan_eval *evs, int *nout, fs_err *err);

/* The generic search: the smallest n in [min_n, max_n] with pass(n), assuming pass is
 * monotone.  guess_lo / guess_hi bracket the answer (they are clamped; they need not
 * be right).  Returns 0 with *found (0: even max_n fails) and *out_n, or -1 when pass
 * fails.  *evals counts calls to pass (may be NULL). */
typedef int (*plan_pred)(void *ctx, int n, int *pass, fs_err *err);
int plan_search_min(plan_pred pass, void *ctx, int guess_lo, int guess_hi, int min_n, int max_n,
		    int *found, int *out_n, int *evals, fs_err *err);

/* A point of the per-pool search with its verdict (seeds plan_search_split). */
typedef struct plan_point {
	int n[FS_MAX_POOLS];
	int pass;
} plan_point;

/* The per-pool search behind the dual layout's split phase: starting from a point that
 * passes, shrink each pool in turn to the fewest replicas that still pass with the
 * other pools held, each by bisection, alternating until a round changes nothing.
 * pass must be monotone in every pool (more replicas never break the SLO).
 *   start:  npools counts; it must pass (probed unless known says so);
 *   min_n:  per-pool floor (>= 1);
 *   known:  points already simulated (may be NULL): a known failure f bounds pool k
 *           from below for any point whose other pools are all <= f's, so bisection
 *           intervals only shrink across rounds: at most sum_k ceil(log2(start_k -
 *           min_n_k + 1)) probes in all, plus one for start.
 * Returns 0 with *found (0: start fails; out = start) and out (npools counts, each
 * pool's minimum given the others: lowering any one of them fails), or -1 when pass
 * fails or the arguments are bad.  *evals counts calls to pass (may be NULL). */
typedef int (*plan_pred_pools)(void *ctx, const int *n, int *pass, fs_err *err);
int plan_search_split(plan_pred_pools pass, void *ctx, int npools, const int *start, const int *min_n,
		      const plan_point *known, int nknown, int *found, int *out, int *evals, fs_err *err);


#endif
