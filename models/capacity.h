/*
 * capacity.h - analytical steady-state throughput of one vLLM replica for a given
 * request-length mix, from the step-time model (perf.h) and the memory plan.
 *
 * Derivation (saturated replica, continuous batching, every freed slot refilled at
 * once; per engine step, lambda = requests finishing per step):
 *
 *   s_p   = max(1, E[P] / B)          steps a request spends prefilling (B =
 *                                     max_num_batched_tokens; a lower bound: chunks of
 *                                     concurrent prefills share the budget)
 *   steps a request occupies a slot:  E[O] + s_p
 *   c     = E[O (P + O/2)] / E[O] + block/2
 *                                     mean KV tokens a running request holds, weighted
 *                                     by its decode steps (its context grows from P to
 *                                     P + O), plus half a block of paging slack
 *   N_max = min(max_num_seqs, kv_tokens / c)         concurrency: seqs cap or KV
 *   lambda = min(N_max / (E[O] + s_p),               Little's law on the slots
 *                B / (E[P] + E[O]))                  every token of a request is
 *                                                    computed once within the budget
 *   N     = lambda (E[O] + s_p)                      running requests in steady state
 *   step  = perf_step_s(tokens = lambda (E[P] + E[O]), seqs = N,
 *                       attn = lambda (E[P^2]/2 + E[O] c), kv_read = N c)
 *   throughput = lambda / step  requests per second per replica.
 *
 * What it leaves out: queueing (it is the saturation rate, the most a replica can
 * serve, not the rate at which an SLO holds), preemption (the KV bound uses mean
 * occupancy; peaks above it preempt in the simulator), the prefix cache, and output
 * clamping by max_model_len (callers pass only requests the pool accepts).
 */
#ifndef FS_CAPACITY_H
#define FS_CAPACITY_H

#include <stdint.h>

#include "models/perf.h"
#include "util/err.h"

/* Moments of a request-length mix; build with cap_mix_add. */
typedef struct cap_mix {
	double n;
	double sum_p, sum_o, sum_p2, sum_op, sum_o2;
} cap_mix;

/* Add one request (prompt >= 1, output >= 1; smaller outputs count as 1). */
void cap_mix_add(cap_mix *m, int64_t prompt, int64_t output);

/* The engine settings that bound a replica's concurrency and batch. */
typedef struct cap_engine {
	const perf_model *perf;
	int64_t kv_tokens;          /* KV cache, tokens per replica */
	int block_size;
	int max_num_seqs;
	int max_num_batched_tokens;
	int tp;                     /* GPUs per replica, for per-GPU figures */
} cap_engine;

typedef enum cap_bound {
	CAP_BOUND_SEQS = 0,         /* max_num_seqs */
	CAP_BOUND_KV,               /* KV cache holds fewer sequences than max_num_seqs */
	CAP_BOUND_BUDGET            /* max_num_batched_tokens */
} cap_bound;

typedef struct cap_result {
	double rps;                 /* requests per second per replica */
	double rps_per_gpu;         /* rps / tp */
	double output_tps;          /* output tokens per second per replica */
	double concurrency;         /* N: running requests in steady state */
	double kv_concurrency;      /* kv_tokens / c */
	double step_s;              /* duration of the steady-state step */
	double tokens_per_step;
	cap_bound bound;
} cap_result;

const char *cap_bound_name(cap_bound b);

/* Steady-state capacity of one replica of e for mix m. Returns 0, or -1 (FS_EXIT_INPUT)
 * when the mix is empty or the engine settings are not positive. */
int cap_replica(const cap_engine *e, const cap_mix *m, cap_result *out, fs_err *err);

#endif
