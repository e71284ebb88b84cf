/*
 * fleet.h - a fleet: one or more pools of identical vLLM replicas behind a router,
 * replaying one request stream in simulated time.
 *
 * fleet_run drives the event loop: arrivals pulled from the trace one at a time
 * (the trace streams; memory is bounded by requests in flight), engine steps as
 * events at each step's end, and periodic metric samples.
 *
 * Owns: fleet_run owns every replica, request and event of a run and frees them before
 * it returns; the caller owns the policy, the trace reader and the metrics it fills.
 */
#ifndef FS_FLEET_H
#define FS_FLEET_H

#include <stdint.h>

#include "models/gpu.h"
#include "models/llm.h"
#include "models/memory.h"
#include "models/perf.h"
#include "sim/metrics.h"
#include "sim/router.h"
#include "traces/trace.h"
#include "util/err.h"

/* One pool: N identical replicas (GPU, TP, precision, vLLM settings). */
typedef struct pool_cfg {
	char name[64];
	char gpu_name[256];
	gpu_spec gpu;
	int replicas;
	mem_config mem;              /* tp, precisions, utilisation, block size, ... */
	int max_model_len;
	int max_num_seqs;
	int max_num_batched_tokens;
	int enable_prefix_caching;
	int long_prefill_token_threshold;
	int async_scheduling;        /* default: the release's (mem.eng) */
	double price_per_gpu_hour;   /* from the GPU catalog unless overridden */
	/* Derived by fleet_pool_prepare: */
	int32_t default_max_tokens;  /* the model's generation_config default, -1 none */
	mem_plan plan;
	perf_model perf;
} pool_cfg;

/* One fleet layout to evaluate (a `policies:` entry). */
typedef struct policy_cfg {
	char name[64];
	router_cfg router;
	int npools;
	pool_cfg pools[FS_MAX_POOLS];
} policy_cfg;

/* Fill the pool's memory plan and perf model for model m. Returns 0, or -1 (input
 * error) when the model does not fit, the KV cache cannot hold one max_model_len
 * sequence, or the settings are invalid; messages name the pool. */
int fleet_pool_prepare(pool_cfg *p, const llm_spec *m, fs_err *err);

typedef struct fleet_opts {
	int drain;                 /* 1: run until every request finishes (default) */
	simtime_t metrics_interval;/* timeseries sampling period, ns (> 0) */
	int record_requests;       /* keep per-request rows (always kept for aggregates) */
	uint64_t seed;
	int check_invariants;      /* replica_check after every step */
	/* 1: step-by-step reference engine (every step an event, every request touched
	 * every step); 0: the exact fast path (decode cohort + macro-steps), which must
	 * give identical results (tests/unit/test_fastpath.c).  `fleetsim run
	 * --reference` (or FLEETSIM_REFERENCE=1 in its environment) sets it. */
	int reference;
	/* Called now and then with the simulated time, for progress bars; may be NULL. */
	void (*progress)(void *ctx, double sim_s, int64_t arrived);
	void *progress_ctx;
} fleet_opts;

/* Per-pool totals the metrics cannot know. */
typedef struct fleet_pool_totals {
	int64_t steps;
	int64_t busy_ns;           /* summed over replicas, one GPU-set each */
	int64_t compute_ns;        /* of busy_ns: compute-bound, memory-bound (power */
	int64_t memory_ns;         /* model, models/perf.h perf_step_activity_ns) */
	int64_t preemptions;
	int64_t prefix_hit_tokens;
} fleet_pool_totals;

typedef struct fleet_result {
	simtime_t end;             /* time the run stopped */
	simtime_t first_arrival, last_arrival;
	int64_t arrived, completed, rejected, unfinished;
	fleet_pool_totals pools[FS_MAX_POOLS];
	/* Fast-path bookkeeping (all 0 with --reference), not results: macro-steps taken,
	 * those made explicit (placeholder events, see fleet.c "Event order"), and real
	 * events that fell exactly on an implicit macro-step's intermediate step end, and
	 * macro-steps cut back by an arrival routed to their replica; arrivals that
	 * joined a replica in a macro-step with a full batch, which went on uncut. */
	int64_t macro_steps, macro_explicit, tie_hits, macro_cuts, macro_passed;
} fleet_result;

/* Replay tr on the fleet described by pol (its pools prepared) and record into m.
 * Checks conservation (arrived = completed + rejected + unfinished, KV blocks back to
 * zero after a drain, busy time within provisioned time) and fails with
 * FS_EXIT_RUNTIME if one breaks. Returns 0 or -1. */
int fleet_run(const policy_cfg *pol, trace_reader *tr, const fleet_opts *o, metrics *m,
	      fleet_result *res, fs_err *err);

/* Fill the summary of pool p (-1: the whole fleet, named "*") from m and res. */
int fleet_summarize(const policy_cfg *pol, const fleet_result *res, const metrics *m,
		    const mx_slo *slo, int p, metrics_summary *out, fs_err *err);

#endif
