/*
 * fleetsim.h - the public API of libfleetsim: run a scenario (a file, or YAML text in
 * memory) on every one of its policies, store the results in a SQLite database, and
 * read the summaries.  `fleetsim run` is built on it (cli/cmd_run.c).
 *
 * Build against an installed copy with
 *     cc app.c $(pkg-config --cflags --libs fleetsim)
 * (examples/embed.c).  Everything here is plain C11; the library holds no global
 * state, so separate runs may proceed on separate threads.
 *
 * Errors: functions return 0, or an exit status (1: the work failed - I/O, database,
 * out of memory; 2: the input is wrong - scenario, option, file) with a message
 * ("FILE:LINE:COL: what is wrong" where a file is at fault) in the caller's buffer.
 */
#ifndef FLEETSIM_H
#define FLEETSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FSIM_OK 0
#define FSIM_ERR_RUNTIME 1
#define FSIM_ERR_INPUT 2

/* What to run and where the results go.  Initialise with fsim_options_init. */
typedef struct fsim_options {
	const char *db_path;          /* results database, created or appended; NULL = none */
	const char *plots_dir;        /* TTFT CDFs and time series (PNG + SVG); NULL = none */
	const char *const *sets;      /* "key.path=value" overrides, applied in order */
	int nsets;
	const char *const *policies;  /* run only these policies (names); NULL = all */
	int npolicies;
	int64_t seed;                 /* -1: the scenario's */
	int drain;                    /* -1: the scenario's; 0: stop at the last arrival */
	int with_requests;            /* store one row per request (`requests` table) */
	int check_invariants;         /* verify the engine after every step (slower) */
	int reference;                /* step-by-step reference engine (same results) */
	/* Called now and then while a policy runs; may be NULL. */
	void (*progress)(void *ctx, const char *policy, double sim_s, int64_t arrived);
	void *progress_ctx;
} fsim_options;

void fsim_options_init(fsim_options *o);

/* The results of one scenario run (opaque). */
typedef struct fsim_run fsim_run;

/* Run the scenario file at path.  Returns 0 and *out (the caller frees it with
 * fsim_run_free), or FSIM_ERR_* with the message in err (errcap bytes, may be 0). */
int fsim_run_file(const char *path, const fsim_options *o, fsim_run **out, char *err, size_t errcap);

/* Run a scenario given as YAML text; `name` stands for the file in messages and
 * relative paths in it (trace:, model config) resolve against base_dir (NULL: the
 * current directory).  Returns as fsim_run_file. */
int fsim_run_yaml(const char *name, const char *yaml, size_t len, const char *base_dir,
		  const fsim_options *o, fsim_run **out, char *err, size_t errcap);

void fsim_run_free(fsim_run *r);

/* One row of results: a pool of a policy, or the whole fleet (pool "*"). */
typedef struct fsim_summary {
	const char *policy;
	const char *pool;             /* "*" for the fleet */
	const char *gpu;
	int gpus, replicas;
	int64_t requests, completed, rejected, unfinished, preemptions, misroutes, steps;
	double traffic_share, preemptions_per_request;
	double ttft_p50_s, ttft_p99_s, tpot_p50_s, tpot_p99_s, e2e_p99_s; /* -1: none */
	double throughput_rps, output_tps, makespan_s, gpu_busy_s, gpu_hours;
	double kv_usage_mean, kv_usage_max, slo_attainment, goodput_rps;
} fsim_summary;

const char *fsim_scenario_name(const fsim_run *r);
uint64_t fsim_seed(const fsim_run *r);
int fsim_policy_count(const fsim_run *r);
/* Pools of policy i; 0 when i is out of range. */
int fsim_pool_count(const fsim_run *r, int i);
/* Results of policy i, pool p (0 .. fsim_pool_count - 1), or the fleet for p = -1.
 * Strings point into r.  Returns 0, or FSIM_ERR_INPUT for an index out of range. */
int fsim_summary_get(const fsim_run *r, int i, int p, fsim_summary *out);
/* Trace rows policy i skipped as malformed (the workload's skip_bad_rows). */
int64_t fsim_bad_rows(const fsim_run *r, int i);
/* The database run id of policy i (0 without a database). */
int64_t fsim_run_id(const fsim_run *r, int i);

/* Whether policy i meets the scenario's slo: (the default targets, slo.classes,
 * slo.pools, slo.per_pool: the rule sweep and plan use, without plan's
 * --max-preemptions).  Returns 0 with *pass 1 (meets it), 0 (fails it) or -1 (the
 * scenario has no slo: section: nothing judged) and the first failing reason copied
 * into reason ("" otherwise; e.g. "pool 'long': TTFT p99 1662.000 s > 2.000 s"),
 * FSIM_ERR_INPUT for i out of range, FSIM_ERR_RUNTIME when out of memory. */
int fsim_slo_verdict(const fsim_run *r, int i, int *pass, char *reason, size_t cap);

/* The run as one JSON object (what `fleetsim run --json` prints: per policy the fleet
 * and pool summaries, how the fast path ran, the comparison of each token-budget
 * policy with the first balance policy, and with a scenario slo: an "slo" object
 * {"pass": BOOL, "reason": TEXT} as fsim_slo_verdict).  Returns a malloc'd NUL-terminated string
 * the caller frees, or NULL when out of memory. */
char *fsim_run_json(const fsim_run *r);

/* The comparison lines `fleetsim run` prints under its table, one per compared
 * policy ("dual vs single: alpha ..."), "" when there is none.  malloc'd; caller
 * frees; NULL when out of memory. */
char *fsim_run_comparison_text(const fsim_run *r);

#ifdef __cplusplus
}
#endif

#endif
