/*
 * engine.c - the vLLM release table and the per-GPU-class defaults vLLM's API
 * server picks.  Every figure names where in vLLM it was read (the entry's
 * `source`); docs/engine.md and /work/notes/vllm_research.md have the details.
 *
 * The memory-plan terms (nontorch_gib, activation_gib, cudagraph_gib, mla_pad,
 * hybrid_shared_pool) belong to models/memory.c's owner: they are kept one per
 * line so they can be edited without touching the rest of an entry.
 */
#include "models/engine.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define GIB (1024.0 * 1024.0 * 1024.0)

/*
 * Oldest first; the last entry is the default (eng_default).
 *
 * What was read (vLLM has no version file; releases are branches cut from main):
 * - 0.16: the v0.16.0 release branch, tip 2d5be1dd5ce2 ("release script",
 *   2026-02-12), cut from main at 22b64948f6f4 (2026-02-09) plus 12 cherry-picks.
 * - 0.19: the v0.19.0 release branch, tip 2a69949bdadf (2026-04-02), cut from main
 *   at d816834c1aa6 (2026-03-29); released 2026-04-03.
 * - 0.21: main at 9aaf83ef502f (2026-05-19), after the v0.21.0 release.  The
 *   fields below are unchanged on main between v0.19.0 and that commit except
 *   gpu_memory_utilization 0.9 -> 0.92, which came with CUDA-graph memory
 *   profiling on by default (#38284, 2026-04-21); gpu_worker.py's own log line
 *   calls that "default since v0.21.0".
 * The batch defaults are the same in all three: engine/arg_utils.py
 * EngineArgs.get_batch_defaults, OPENAI_API_SERVER context (what `vllm serve`
 * uses).  cudagraph_max is config/vllm.py VllmConfig._set_cudagraph_sizes:
 * min(max_num_seqs * 2, 512, max_num_batched_tokens), 512 for both classes.
 */
static const eng_release releases[] = {
	{
		.version = "0.16",
		.tag = "v0.16.0",
		.date = "2026-02-12", /* the release branch's last commit */
		.image = "v0.16.0",
		/* no scheduler_reserve_full_isl yet (added by #37307 on 2026-03-24) */
		.reserve_full_isl = 0,
		/* VllmConfig.__post_init__: None -> on unless incompatible (#28250,
		 * 2025-11-07); off for Mamba prefix caching, which hybrids default off */
		.async_scheduling = 1,
		.null_block = 1, /* BlockPool.__init__ pops block 0 as null_block */
		.max_num_seqs = {256, 1024},
		.max_num_batched_tokens = {2048, 8192},
		.gpu_memory_utilization = 0.9, /* config/cache.py CacheConfig */
		.cudagraph_max = 512,
		/* generation_config max_new_tokens is a ceiling on every request: vLLM
		 * #34063 (72d5951d0, 2026-02-16: "as default not ceiling") is not in the
		 * 0.16 branch (cut at 22b64948f6f4, 2026-02-09), is in 0.19's. */
		.gen_max_tokens_cap = 1,
		.nontorch_gib = {0.15, 2.1}, /* memory.c owner: V1 logs, 0.07-0.25 GiB TP 1, 1.4-2.2 TP > 1 (docs/models.md) */
		.activation_gib = -1, /* no 0.16 log found: memory.c formula */
		.cudagraph_gib = 0, /* graphs captured after sizing (#30515 estimate opt-in) */
		.mla_pad = 0, /* V1 MLAAttentionSpec: 576 wide; 640 only in V0 (#12676) */
		.hybrid_shared_pool = 1, /* MambaSpec pages in the block pool (v0.11 log: 7162 blocks) */
		.source = "vllm v0.16.0 branch 2d5be1dd5ce2: engine/arg_utils.py get_batch_defaults; "
			  "config/cache.py CacheConfig; config/vllm.py __post_init__, _set_cudagraph_sizes; "
			  "v1/core/block_pool.py BlockPool.__init__; v1/core/sched/scheduler.py schedule",
	},
	{
		.version = "0.19",
		.tag = "v0.19.0",
		.date = "2026-04-03",
		.image = "v0.19.0",
		/* config/scheduler.py scheduler_reserve_full_isl = True; scheduler.py
		 * schedule() gates admission on KVCacheManager.can_fit_full_sequence */
		.reserve_full_isl = 1,
		.async_scheduling = 1,
		.null_block = 1,
		.max_num_seqs = {256, 1024},
		.max_num_batched_tokens = {2048, 8192},
		.gpu_memory_utilization = 0.9,
		.cudagraph_max = 512,
		.nontorch_gib = {0.15, 2.1}, /* memory.c owner: as 0.16 (docs/models.md) */
		.activation_gib = 2.2, /* measured: 1.9-2.5 GiB TP 1/2/4 (issue 16 logs; 1.7-2.4 found) */
		.cudagraph_gib = 0, /* estimated and logged as advice only ("increase ... to 0.9196") */
		.mla_pad = 0, /* V1 MLAAttentionSpec: no alignment padding */
		.hybrid_shared_pool = 1, /* hybrid KV-cache manager, MambaSpec */
		.source = "vllm v0.19.0 branch 2a69949bdadf: engine/arg_utils.py get_batch_defaults; "
			  "config/cache.py CacheConfig; config/scheduler.py scheduler_reserve_full_isl; "
			  "config/vllm.py __post_init__, _set_cudagraph_sizes; v1/core/kv_cache_manager.py "
			  "can_fit_full_sequence; v1/core/block_pool.py BlockPool.__init__",
	},
	{
		.version = "0.21",
		.tag = "v0.21.0",
		.date = "2026-05-15", /* approximate: downstreams bumped to it 2026-05-16 */
		.image = "v0.21.0",
		/* the same gate, moved into allocate_slots(full_sequence_must_fit=) by
		 * #41064 (2026-04-30) */
		.reserve_full_isl = 1,
		.async_scheduling = 1,
		.null_block = 1,
		.max_num_seqs = {256, 1024},
		.max_num_batched_tokens = {2048, 8192},
		.gpu_memory_utilization = 0.92, /* #38284 */
		.cudagraph_max = 512,
		/* vLLM #40734 (8b49cf3a3, 2026-04-28, on main before the 0.21 cut; not in
		 * the 0.19 branch): max_num_batched_tokens joins the capture sizes when it
		 * fits under the largest. */
		.cudagraph_capture_mnbt = 1,
		.nontorch_gib = {0.15, 2.1}, /* memory.c owner: as 0.16 (docs/models.md) */
		.activation_gib = 2.2, /* as 0.19 */
		.cudagraph_gib = 1.5, /* VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on (#38284): logged estimates 0.4-1.6 GiB */
		.mla_pad = 0, /* V1 MLAAttentionSpec: no alignment padding */
		.hybrid_shared_pool = 1, /* hybrid KV-cache manager, MambaSpec */
		.source = "vllm main 9aaf83ef502f (2026-05-19, after v0.21.0): engine/arg_utils.py "
			  "get_batch_defaults; config/cache.py CacheConfig (0.92, #38284); "
			  "config/scheduler.py; config/vllm.py __post_init__, _set_cudagraph_sizes; "
			  "v1/core/kv_cache_manager.py allocate_slots; v1/worker/gpu_worker.py "
			  "determine_available_memory",
	},
};

#define NRELEASES ((int)(sizeof releases / sizeof releases[0]))

int eng_count(void)
{
	return NRELEASES;
}

const eng_release *eng_get(int i)
{
	return i >= 0 && i < NRELEASES ? &releases[i] : NULL;
}

const eng_release *eng_default(void)
{
	return &releases[NRELEASES - 1];
}

/* "v0.16.0", "0.16.0" and "0.16" all name the 0.16 entry: strip a leading 'v'
 * and a ".0" patch level (fleetsim models each minor release by its .0). */
static int normalise(const char *in, char *out, size_t n)
{
	size_t len;

	if (in[0] == 'v' || in[0] == 'V')
		in++;
	len = strlen(in);
	if (len == 0 || len >= n)
		return -1;
	memcpy(out, in, len + 1);
	if (len > 2 && strcmp(out + len - 2, ".0") == 0) {
		/* only a third component: "0.16.0" -> "0.16", but "1.0" stays */
		const char *dot = strchr(out, '.');

		if (dot && strchr(dot + 1, '.'))
			out[len - 2] = '\0';
	}
	return 0;
}

int eng_lookup(const char *version, const eng_release **out, fs_err *err)
{
	char key[32];

	if (version && normalise(version, key, sizeof key) == 0) {
		for (int i = 0; i < NRELEASES; i++) {
			if (strcmp(releases[i].version, key) == 0) {
				*out = &releases[i];
				return 0;
			}
		}
	}
	{
		char known[256] = "", shown[48];
		size_t used = 0, n = 0;

		for (int i = 0; i < NRELEASES && used < sizeof known; i++)
			used += (size_t)snprintf(known + used, sizeof known - used, "%s%s",
						 i ? ", " : "", releases[i].version);
		/* The name comes from a scenario file: keep the message one short line. */
		for (const char *p = version ? version : ""; *p && n < sizeof shown - 4; p++)
			shown[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		if (version && strlen(version) > n)
			memcpy(shown + n, "...", 3), n += 3;
		shown[n] = '\0';
		return fs_fail(err, FS_EXIT_INPUT, "unknown vLLM release '%s' (modelled: %s)",
			       shown, known);
	}
}

/* Case-insensitive substring test (strcasestr is a GNU extension). */
static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/*
 * vLLM's rule (engine/arg_utils.py EngineArgs.get_batch_defaults, the same in all
 * modelled releases): `device_memory >= 70 * GiB_bytes and "a100" not in
 * device_name`, where device_memory is torch's total_memory for the device and
 * device_name the lower-cased torch device name ("NVIDIA A100-SXM4-80GB").  The
 * catalog keeps that name as `display` and the device's memory as hbm_bytes (GiB
 * as marketed, within 1 % of what torch reports).  The catalog key is checked too,
 * so a GPU file named after an A100 without a display line still counts as one.
 */
eng_gpu_class eng_gpu_class_of(const gpu_spec *g)
{
	if (g->hbm_bytes >= 70 * GIB && !contains_ci(g->display, "a100") &&
	    !contains_ci(g->name, "a100"))
		return ENG_GPU_LARGE;
	return ENG_GPU_SMALL;
}

void eng_pool_defaults(const eng_release *r, const gpu_spec *g, int *max_num_seqs,
		       int *max_num_batched_tokens, double *gpu_memory_utilization)
{
	eng_gpu_class c = eng_gpu_class_of(g);

	if (max_num_seqs)
		*max_num_seqs = r->max_num_seqs[c];
	if (max_num_batched_tokens)
		*max_num_batched_tokens = r->max_num_batched_tokens[c];
	if (gpu_memory_utilization)
		*gpu_memory_utilization = r->gpu_memory_utilization;
}

const char *eng_gpu_class_name(eng_gpu_class c)
{
	return c == ENG_GPU_LARGE ? "large" : "small";
}

int eng_json(const eng_release *r, cJSON **out, fs_err *err)
{
	cJSON *o = cJSON_CreateObject(), *d = NULL, *m = NULL;
	int bad = !o;

	bad = bad || !cJSON_AddStringToObject(o, "version", r->version) ||
	      !cJSON_AddStringToObject(o, "tag", r->tag) || !cJSON_AddStringToObject(o, "date", r->date) ||
	      !cJSON_AddStringToObject(o, "image", r->image) ||
	      !cJSON_AddBoolToObject(o, "default", r == eng_default()) ||
	      !cJSON_AddBoolToObject(o, "reserve_full_isl", r->reserve_full_isl) ||
	      !cJSON_AddBoolToObject(o, "async_scheduling", r->async_scheduling) ||
	      !cJSON_AddBoolToObject(o, "null_block", r->null_block) ||
	      !(d = cJSON_AddObjectToObject(o, "defaults"));
	for (int c = ENG_GPU_SMALL; c <= ENG_GPU_LARGE && !bad; c++) {
		cJSON *k = cJSON_AddObjectToObject(d, eng_gpu_class_name((eng_gpu_class)c));

		bad = !k || !cJSON_AddNumberToObject(k, "max_num_seqs", r->max_num_seqs[c]) ||
		      !cJSON_AddNumberToObject(k, "max_num_batched_tokens", r->max_num_batched_tokens[c]);
	}
	bad = bad || !cJSON_AddNumberToObject(o, "gpu_memory_utilization", r->gpu_memory_utilization) ||
	      !cJSON_AddNumberToObject(o, "cudagraph_max", r->cudagraph_max) ||
	      !cJSON_AddBoolToObject(o, "cudagraph_capture_mnbt", r->cudagraph_capture_mnbt) ||
	      !cJSON_AddBoolToObject(o, "generation_config_caps_max_tokens", r->gen_max_tokens_cap) ||
	      !(m = cJSON_AddObjectToObject(o, "memory")) ||
	      !cJSON_AddNumberToObject(m, "nontorch_gib_tp1", r->nontorch_gib[0]) ||
	      !cJSON_AddNumberToObject(m, "nontorch_gib_tpn", r->nontorch_gib[1]) ||
	      !cJSON_AddNumberToObject(m, "activation_gib", r->activation_gib) ||
	      !cJSON_AddNumberToObject(m, "cudagraph_gib", r->cudagraph_gib) ||
	      !cJSON_AddBoolToObject(m, "mla_pad", r->mla_pad) ||
	      !cJSON_AddBoolToObject(m, "hybrid_shared_pool", r->hybrid_shared_pool) ||
	      !cJSON_AddStringToObject(o, "source", r->source);
	if (bad) {
		cJSON_Delete(o);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	}
	*out = o;
	return 0;
}
