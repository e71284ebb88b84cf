/*
 * synth.h - seeded synthetic request streams (GSL): Poisson or Gamma arrivals, lognormal,
 * constant or empirical-CDF lengths, categories each with their own distributions.
 * The spec YAML is shared by `workload: synthetic:` and `fleetsim trace gen`; see
 * docs/traces.md for the keys.  Same spec + seed gives the same stream, bit for bit.
 */
#ifndef FS_SYNTH_H
#define FS_SYNTH_H

#include <libfyaml.h>
#include <stdint.h>
#include <stdio.h>

#include "traces/trace.h"

typedef enum { SYNTH_LOGNORMAL, SYNTH_EMPIRICAL, SYNTH_CONSTANT } synth_dist_kind;

typedef struct synth_dist {
	synth_dist_kind kind;
	double median, sigma;   /* lognormal: exp(mu) and sigma of log */
	double mu;              /* log(median): synth_open sets it (a log per draw was ~1 %
				 * of an overloaded run) */
	double value;           /* constant */
	int n_pts;              /* empirical CDF points (x ascending, F non-decreasing, last 1) */
	double *x, *F;
	int64_t min, max;       /* clamp after rounding */
} synth_dist;

typedef struct synth_category {
	char name[64];          /* "" = no category (the single-category spec) */
	double weight;
	synth_dist input, output;
	int has_max_tokens;     /* max_tokens = min(cap, ceil(output * U(fmin, fmax))), >= output */
	double mt_fmin, mt_fmax;
	int64_t mt_cap;
} synth_category;

typedef struct synth_spec {
	int has_seed;
	uint64_t seed;
	int64_t requests;       /* 0 = unlimited (duration must be set) */
	double duration_s;      /* 0 = unlimited (requests must be set) */
	int gamma;              /* 0 Poisson, 1 Gamma */
	double rate;            /* mean requests per second */
	double cv;              /* Gamma: coefficient of variation of inter-arrival gaps */
	int n_cats;
	synth_category *cats;
} synth_spec;

/* Parse a spec mapping (file names the YAML file in messages).  Returns 0 with *out
 * filled (synth_spec_free), or -1 with err "FILE:LINE:COL: ...". */
int synth_spec_from_yaml(const char *file, struct fy_node *node, synth_spec *out, fs_err *err);
/* Load a spec file whose root is the spec mapping. */
int synth_spec_load(const char *path, synth_spec *out, fs_err *err);
/* Deep copy; returns 0 or -1 (out of memory). */
int synth_spec_copy(const synth_spec *src, synth_spec *dst, fs_err *err);
void synth_spec_free(synth_spec *s);

/* Open a generator.  The spec is copied.  Returns 0 with a reader (trace_close) or -1. */
int synth_open(const synth_spec *spec, uint64_t seed, trace_reader **out, fs_err *err);

/* Write r as generic CSV (arrival_s,input_tokens,output_tokens,max_tokens,category,
 * prompt_bytes) to f; name is used in messages.  Returns 0 and *n_rows, or -1. */
int synth_write_csv(trace_reader *r, FILE *f, const char *name, int64_t *n_rows, fs_err *err);

#endif
