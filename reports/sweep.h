/*
 * sweep.h - parameter sweeps: a grid of scenario overrides (the cartesian product of
 * several `key.path=values` axes), evaluated on a thread pool or, under mpirun, over
 * MPI ranks, with every result written to one SQLite file by one writer.
 *
 * Determinism: point i always means the same assignments (row-major order, the last
 * axis varying fastest), and each point's scenario is loaded from a copy of the
 * scenario parsed ONCE at the start (so editing the file mid-sweep changes nothing)
 * and replayed on its own, so the rows a point produces do not depend on --jobs, on
 * the number of ranks or on the order points finish in.  Points are written in
 * completion order; `sweeps.point` carries the index, so compare sweeps by
 * (point, policy), never by run_id.
 *
 * Resume: each point's runs, its `quantiles` rows and its `sweeps` rows are ONE
 * transaction, so after a crash a point is either fully in the file or absent.
 * `sweep_defs.grid_hash` identifies the sweep (scenario file bytes, base --set
 * assignments, axes, seed, --requests, and the bytes of every file the points'
 * scenarios reference: traces, GPU YAML files, the model's config.json); a resumed
 * sweep reuses the latest sweep with that hash and runs only the points it lacks.  A
 * resume whose sweep exists with other input contents is refused, naming the files.
 * One process at a time runs a sweep: a second one on the same sweep is refused.
 */
#ifndef FS_SWEEP_H
#define FS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "reports/results.h"
#include "sim/metrics.h"
#include "util/err.h"

#define SWEEP_MAX_PARAMS 16
/* Most values one axis may have, and most points a grid may have. */
#define SWEEP_MAX_VALUES 100000
#define SWEEP_MAX_POINTS 10000000
/* Quantile grid stored per run in `quantiles` (fleet-wide TTFT and TPOT), so CDFs can
 * be drawn for runs written without --requests: q = 0, 0.01, ..., 1, plus 0.995, 0.999. */
#define SWEEP_NQ 103

typedef struct sweep_param {
	char key[256];     /* scenario key path as for --set, e.g. policies.0.pools.0.replicas */
	int nvals;
	char **vals;       /* YAML scalars as text, owned */
} sweep_param;

typedef struct sweep_grid {
	int nparams;
	sweep_param params[SWEEP_MAX_PARAMS];
	int64_t npoints;   /* product of nvals; 1 for an empty grid */
} sweep_grid;

/* Expand a value list: "v1,v2,..." (each a YAML scalar), "A:B:xF" (A, A*F, ... <= B,
 * F > 1) or "A:B:+D" (A, A+D, ... <= B, D > 0).  Range values print as integers when
 * A and the step are integers, else with 12 significant digits (so 0.1:0.3:+0.1 gives
 * 0.1, 0.2, 0.3).  Returns 0 with *vals (caller frees each and the array) and *n, or -1
 * with err (FS_EXIT_INPUT) naming the spec. */
int sweep_parse_values(const char *spec, char ***vals, int *n, fs_err *err);

/* Add the axis "key=spec" to g; a key already in g has its values replaced (so
 * --param overrides the scenario's sweep: block).  Returns 0, or -1 with err. */
int sweep_grid_add(sweep_grid *g, const char *assignment, fs_err *err);

/* Add the axes of the scenario file's top-level `sweep:` block, a mapping from key
 * path to a list of values or a value-list string as for sweep_parse_values:
 *     sweep:
 *       policies.0.pools.0.replicas: [1, 2, 4]
 *       workload.synthetic.arrival.rate: "0.5:2:x2"
 * A file without the block adds nothing.  Returns 0, or -1 with err (FILE:LINE:COL). */
int sweep_grid_from_file(sweep_grid *g, const char *path, fs_err *err);

/* sweep_grid_from_file on the scenario text (path names it in messages). */
int sweep_grid_from_text(sweep_grid *g, const char *path, const char *text, size_t len, fs_err *err);

/* Read the scenario file once (as yu_load_file would: a regular file, at most
 * YU_MAX_FILE_BYTES, no NUL byte).  Returns 0 with *text (NUL-terminated, caller
 * frees) and *len, or -1 with err (FS_EXIT_INPUT). */
int sweep_read_scenario(const char *path, char **text, size_t *len, fs_err *err);

/* Release the values (g itself is caller storage); g is left empty. */
void sweep_grid_free(sweep_grid *g);

/* The --set assignments of point idx (0 <= idx < npoints): sets[k] = "key=value" for
 * each axis, written into one caller-freed block *buf; sets must hold nparams
 * pointers.  Returns 0, or -1 (index out of range or no memory). */
int sweep_point_sets(const sweep_grid *g, int64_t idx, const char **sets, char **buf);

/* The point's values as a JSON object {"key": value, ...} (numbers and booleans typed,
 * other values as strings).  Caller frees; NULL on failure. */
char *sweep_point_json(const sweep_grid *g, int64_t idx);

/* One policy's results for one point: the run record that goes into the database,
 * self-contained (it owns its samples and rows) so it can cross a thread or process
 * boundary (sweep_outcome_pack), plus what only sweeps store. */
typedef struct sweep_run_out {
	results_record rec;        /* params_json has the point merged as "point" */
	double ttft_q[SWEEP_NQ], tpot_q[SWEEP_NQ]; /* fleet quantiles, -1: no value */
	int meets_slo;             /* mx_slo_verdict's pass for the fleet */
} sweep_run_out;

typedef struct sweep_outcome {
	int64_t point;
	int nruns;
	sweep_run_out *runs;
} sweep_outcome;

/* The q of each index of the quantile grid. */
double sweep_quantile_q(int k);

/* Free the outcome's contents (o itself is caller storage; NULL is fine). */
void sweep_outcome_free(sweep_outcome *o);

/* Serialize o into one malloc'd buffer (*buf, *len; caller frees) / rebuild it.
 * The format is the host's native layout: ranks of one sweep must run the same build
 * on the same architecture.  unpack returns -1 with err (FS_EXIT_RUNTIME) on a
 * truncated or corrupt buffer and leaves *o empty. */
int sweep_outcome_pack(const sweep_outcome *o, void **buf, size_t *len, fs_err *err);
int sweep_outcome_unpack(const void *buf, size_t len, sweep_outcome *o, fs_err *err);

/* What a sweep needs besides its grid. Strings are borrowed. */
typedef struct sweep_progress {
	int64_t done, total;       /* points finished in this invocation / to run */
	int64_t skipped;           /* already in the file (resume) */
	double elapsed_s, eta_s;   /* eta_s < 0: unknown */
	const char *best;          /* "dual @ {...}: 1.23 GPU-h" or NULL */
} sweep_progress;

typedef struct sweep_cfg {
	const char *scenario_path;
	/* The scenario as read once (sweep_read_scenario), parsed once into scenario_src.
	 * NULL: sweep_run reads scenario_path once itself. */
	const char *scenario_text;
	size_t scenario_len;
	const char *scenario_dir;  /* relative paths resolve here; NULL: scenario_path's directory */
	/* The text parsed once (scenarios/scenario.h): each point loads a copy of it in
	 * memory.  NULL: sweep_run parses the text once itself; a caller that sets it keeps
	 * ownership and makes it from the same text. */
	struct scenario_src *scenario_src;
	const char *const *sets;   /* base --set assignments, applied before the point's */
	int nsets;
	const sweep_grid *grid;
	int64_t seed;              /* < 0: the scenario's */
	int with_requests;
	int jobs;                  /* worker threads (>= 1) */
	int resume;
	const char *db_path;
	void (*progress)(void *ctx, const sweep_progress *p); /* from the writer; may be NULL */
	void *progress_ctx;
} sweep_cfg;

typedef struct sweep_stats {
	int64_t sweep_id;
	int64_t npoints;
	int64_t skipped;           /* points already complete (resume) */
	int64_t ran;               /* points evaluated and written now */
	int64_t runs;              /* runs rows written now */
	int resumed;               /* 1: appended to an existing sweep */
	int ranks;                 /* MPI ranks (1 without MPI) */
	int worker;                /* 1 on an MPI worker rank: nothing was written here */
	double wall_s;
	char hash[17];
} sweep_stats;

/* Evaluate point idx: load the scenario with base sets + the point's, replay every
 * policy, fill *out (sweep_outcome_free).  Returns 0, or -1 with err. */
int sweep_eval_point(const sweep_cfg *c, int64_t idx, sweep_outcome *out, fs_err *err);

/* Files the sweep's scenarios reference, sorted, each with the FNV-1a 64 hash of its
 * bytes as 16 hex digits. */
typedef struct sweep_inputs {
	int n, cap;
	char **path;
	char (*hash)[17];
} sweep_inputs;
/* Add path (if new) and hash its content.  Returns 0 or -1 with err (unreadable). */
int sweep_inputs_add(sweep_inputs *in, const char *path, fs_err *err);
void sweep_inputs_free(sweep_inputs *in);

/* The sweep's identity hash (16 hex digits) into hash[17]: FNV-1a 64 over the
 * scenario text, each base --set, the axes (keys and values), seed and --requests,
 * then (only when in lists files) "|inputs|" and each input's path and content hash.
 * Returns 0 or -1 with err (the scenario file unreadable). */
int sweep_hash(const sweep_cfg *c, const sweep_inputs *in, char hash[17], fs_err *err);

/* True when this process was started by an MPI launcher (mpirun, srun) with more than
 * one rank, so sweep_run will distribute. */
int sweep_mpi_launched(void);

/* Run the sweep: validate every point's scenario, open the database, create (or with
 * resume, find) the sweep, evaluate the missing points on c->jobs threads — or over MPI
 * ranks when sweep_mpi_launched() (rank 0 coordinates and writes, the others evaluate,
 * one point at a time on request) — and write each point in one transaction.  Returns
 * 0 with *st, or -1 with err; points written before a failure stay written. */
int sweep_run(const sweep_cfg *c, sweep_stats *st, fs_err *err);

#endif
