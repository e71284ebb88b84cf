/*
 * workload.h - the scenario's `workload:` mapping and the request stream it describes:
 * one trace file or synthetic spec, or a weighted mix of them, with time window,
 * request cap, rate rescaling and Poisson re-timing stacked as trace_readers.
 *
 * Order of operations (docs/traces.md has the full story):
 *   source -> start/duration window (SOURCE time, rebased to 0) -> max_requests
 *          -> rate: target_rate / rate_scale rescales inter-arrival times, or
 *             retime: poisson draws new Poisson arrivals keeping the lengths.
 * target_rate needs the source's mean rate: workload_open makes a first pass over the
 * windowed source and uses count / (last - first arrival).
 * mix: each entry is windowed (its own start/duration) and rescaled to
 * R * weight / sum(weights), where R = target_rate, or rate_scale x the sum of the
 * entries' own mean rates; the scaled streams are merged by arrival time.  With a mix,
 * start/duration belong in the entries; max_requests and retime apply to the merge.
 */
#ifndef FS_WORKLOAD_H
#define FS_WORKLOAD_H

#include <libfyaml.h>
#include <stdint.h>

#include "traces/synth.h"
#include "traces/trace.h"

#define WORKLOAD_MAX_MIX 8

typedef struct workload_src {
	char *trace;          /* resolved path (malloc), NULL when synthetic */
	int has_synth;
	synth_spec synth;
	trace_format format;  /* TRACE_FMT_AUTO: detect */
	double weight;        /* mix entries only; > 0 */
	double start_s;       /* window in the source's own seconds */
	double duration_s;    /* 0 = to the end */
	/* Reading a trace file (`columns:`, `time_unit:`, `model_filter:`; trace.h): the
	 * column or JSON key per TRACE_COL_* role ("" = the format's default), the
	 * arrival column's unit, and the one model to keep ("" = all). */
	trace_time_unit time_unit;
	char columns[TRACE_COL_N][TRACE_COL_NAME_MAX];
	char model_filter[TRACE_COL_NAME_MAX];
} workload_src;

typedef struct workload_cfg {
	workload_src src;     /* used when n_mix == 0 */
	int n_mix;
	workload_src mix[WORKLOAD_MAX_MIX];
	double target_rate;   /* req/s; 0 = keep the source's rate (x rate_scale) */
	double rate_scale;    /* multiplies the rate (divides inter-arrival times); 1 */
	int64_t max_requests; /* 0 = no cap */
	int retime_poisson;
	int skip_bad_rows;
	int has_seed;         /* workload seed overrides the scenario's */
	uint64_t seed;
	/* Block bootstrap (`bootstrap: {block: S, seed: N}`): after the window, the
	 * source's span is cut into blocks of S seconds and as many blocks are drawn with
	 * replacement (seed N) and laid end to end, each keeping its requests' offsets:
	 * resampled traffic with the source's local burstiness, for verifying a plan on
	 * other requests than it was searched on.  block_s 0: off.  Applied per source
	 * (each mix entry), before rate rescaling. */
	double bootstrap_block_s;
	uint64_t bootstrap_seed;
} workload_cfg;

/* Empty config: no source yet, rate_scale 1, everything else off. */
workload_cfg workload_cfg_default(void);

/* Parse the `workload:` mapping node of file.  Relative trace paths are resolved against
 * base_dir (the scenario file's directory; NULL or "" = current directory).  Returns 0
 * with *out filled (free with workload_cfg_free), or -1 with err "FILE:LINE:COL: ..."
 * (unknown key, wrong type, negative rate, conflicting keys, no source). */
int workload_from_yaml(const char *file, struct fy_node *node, const char *base_dir,
		       workload_cfg *out, fs_err *err);

/* Build the stream.  seed is the scenario seed (cfg->seed wins when set); synthetic
 * sources and Poisson re-timing draw from it.  Returns 0 with a reader the caller
 * closes with trace_close, or -1 with err set (file errors as FILE:LINE: ...). */
int workload_open(const workload_cfg *cfg, uint64_t seed, trace_reader **out, fs_err *err);

void workload_cfg_free(workload_cfg *cfg);

/* Notes on how each trace file's timestamps were read (trace_time_note: the unit
 * time_unit auto detected, re-basing of absolute timestamps), for the command layer
 * to print before a run: opens each trace source, reads its first request and
 * collects the notes, one a line, into buf (cap bytes, NUL-terminated, "" when none).
 * Returns 0, or -1 with err set (the same errors a run would hit on that row). */
int workload_time_notes(const workload_cfg *cfg, char *buf, size_t cap, fs_err *err);

#endif
