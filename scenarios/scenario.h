/*
 * scenario.h - a scenario file: one workload, one model, several fleet layouts
 * (policies) to compare on it.  Keys follow vLLM's argument names (SPEC section 7);
 * unknown keys, wrong types and impossible values are FILE:LINE:COL errors.
 */
#ifndef FS_SCENARIO_H
#define FS_SCENARIO_H

#include <stdint.h>

#include "models/llm.h"
#include "sim/fleet.h"
#include "sim/metrics.h"
#include "traces/workload.h"
#include "util/err.h"

#define SCENARIO_MAX_POLICIES 32

#define SCENARIO_MAX_WARNINGS 8

typedef struct scenario {
	char path[1024];          /* as given */
	char dir[1024];           /* directory relative paths resolve against */
	char name[128];
	uint64_t seed;
	workload_cfg workload;
	char model_name[1024];
	llm_spec model;
	char model_id[256];       /* model_id: (deployments' --model), "" when not given */
	prec_t quantization;      /* scenario default; pools may override */
	prec_t kv_cache_dtype;
	const struct eng_release *eng; /* vllm_version: (pools may override); never NULL */
	mx_slo slo;               /* default (fleet-wide) targets */
	mx_slo_detail slo_detail; /* slo.per_pool, slo.pools, slo.classes */
	double max_rejection_rate;/* planner's SLO on rejections, -1 unset */
	double metrics_interval_s;
	int drain;
	int npolicies;
	policy_cfg policies[SCENARIO_MAX_POLICIES];
	char *params_json;        /* the effective scenario (after --set) as JSON, owned */
	/* Things that load but look wrong ("FILE:LINE:COL: slo.tpot_p99 50 is read as
	 * seconds; did you mean 50ms?"), for the command layer to print. */
	int nwarnings;
	char warnings[SCENARIO_MAX_WARNINGS][256];
} scenario;

/* Load path, apply the --set assignments ("key.path=value") in order, validate and
 * prepare every pool (memory plan, perf model). Returns 0 and *out (caller owns,
 * scenario_free), or -1 with err (FS_EXIT_INPUT for anything wrong in the file). */
int scenario_load(const char *path, const char *const *sets, int nsets, scenario **out,
		  fs_err *err);
/* scenario_load on YAML text: `name` stands for the file in messages and relative
 * paths resolve against base_dir (NULL or "": the current directory).  The text need
 * not be NUL-terminated.  Returns as scenario_load. */
int scenario_load_string(const char *name, const char *text, size_t len, const char *base_dir,
			 const char *const *sets, int nsets, scenario **out, fs_err *err);
void scenario_free(scenario *sc);

/* A scenario's YAML parsed once, for a plan or sweep that loads it with different
 * --set lists many times: each scenario_src_load copies the parsed document in memory
 * (libfyaml's clone), applies the sets to the copy and validates it, so the text is
 * neither re-read nor re-parsed per candidate.  The result is the one
 * scenario_load_string would give on the same text and sets, messages included
 * (FILE:LINE:COL point into the original text).  Loads may come from several threads:
 * the copies share the parsed tokens, so loads take turns on a lock. */
typedef struct scenario_src scenario_src;

/* Parse `text` (as scenario_load_string: name for messages, base_dir for relative
 * paths; the text is copied).  Returns 0 and *out (caller owns, scenario_src_free), or
 * -1 with err (FS_EXIT_INPUT for a syntax error, FS_EXIT_RUNTIME out of memory). */
int scenario_src_open(const char *name, const char *text, size_t len, const char *base_dir,
		      scenario_src **out, fs_err *err);
/* Load a scenario from src with these sets.  Returns as scenario_load. */
int scenario_src_load(scenario_src *src, const char *const *sets, int nsets, scenario **out,
		      fs_err *err);
void scenario_src_free(scenario_src *src);

/* JSON text describing policy i as run (the `runs.params` column): model,
 * precision, router and pools with every effective setting. Caller frees.
 * Returns NULL on allocation failure. */
char *scenario_policy_json(const scenario *sc, int i);

/* The files a loaded scenario reads besides itself, as resolved at load: the model's
 * config.json (for a path or a directory model), GPU YAML files named as pool gpus and
 * the trace files of the workload (or of each mix entry).  Sorted, no duplicates, no
 * catalog names.  Returns 0 with *paths (caller frees each and the array; NULL when
 * *n is 0), or -1 when out of memory. */
int scenario_input_files(const scenario *sc, char ***paths, int *n);

#endif
