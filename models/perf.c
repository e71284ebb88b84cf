#include "models/perf.h"

#include <math.h>

/* perf_init lives with the roofline's derivation below; these are the hot-path
 * evaluators the replica calls every step. */

double perf_step_s(const perf_model *p, const perf_batch *b)
{
	double flops, bytes, t_compute, t_memory, t;

	if (b->tokens <= 0)
		return 0.0;
	flops = p->flops_per_token * (double)b->tokens + p->attn_flops_per_pair * b->attn_pairs;
	bytes = p->weight_bytes + p->kv_bytes_per_token * (b->kv_read + (double)b->tokens);
	t_compute = flops * p->s_per_flop;
	t_memory = bytes * p->s_per_byte;
	t = t_compute > t_memory ? t_compute : t_memory;
	return t + p->ar_fixed_s + p->ar_s_per_token * (double)b->tokens + p->overhead_s;
}

int64_t perf_step_ns(const perf_model *p, const perf_batch *b)
{
	double ns = ceil(perf_step_s(p, b) * 1e9);

	return ns < 1.0 ? 1 : (int64_t)ns;
}

void perf_batch_add_prefill(perf_batch *b, int64_t context, int64_t chunk)
{
	/* Token j of the chunk (0-based) attends to context + j + 1 positions. */
	b->tokens += chunk;
	b->seqs += 1;
	b->attn_pairs += (double)chunk * (double)context + (double)chunk * (double)(chunk + 1) / 2.0;
	b->kv_read += (double)context;
}

void perf_batch_add_decode(perf_batch *b, int64_t context)
{
	b->tokens += 1;
	b->seqs += 1;
	b->attn_pairs += (double)(context + 1);
	b->kv_read += (double)context;
}
