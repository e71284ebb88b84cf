/*
 * trace.h - request streams: real trace files, synthetic generators and the
 * transformations between them, all behind one pull interface so a multi-GB trace
 * is replayed without being loaded whole.
 *
 * A trace_reader hands out requests in arrival order; the simulator pulls the next one
 * only when simulated time reaches the previous one.
 *
 * Owns: a trace_reader owns its input (a wrapper: the reader it wraps) and the prefix
 * hashes of the request it last returned (valid until the next trace_next); trace_close
 * frees it all.
 */
#ifndef FS_TRACE_H
#define FS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define TRACE_F_FAILED 0x1u /* BurstGPT row logged as a failure (zero response tokens) */

typedef struct trace_req {
	int64_t arrival_ns;    /* from the start of the stream (first request may be > 0) */
	int32_t input_tokens;  /* prompt length, >= 1 */
	int32_t output_tokens; /* true output length, >= 0 (0 only for failed rows) */
	int32_t max_tokens;    /* request's max_tokens, -1 when the trace has none */
	int32_t prompt_bytes;  /* prompt size in bytes, -1 when unknown */
	int32_t category;      /* index into trace_category_name(), -1 when none */
	uint32_t flags;        /* TRACE_F_* */
	int32_t n_hashes;      /* prefix block hashes (Mooncake hash_ids), 0 if none */
	const uint64_t *hashes;/* valid until the next trace_next() call on this reader */
	int32_t hash_block_tokens; /* tokens per hash block (512 for Mooncake) */
} trace_req;

typedef struct trace_reader trace_reader;

/* Pull the next request. Returns 1 with *out filled, 0 at end of stream, or -1 with
 * err set ("FILE:LINE: what is wrong").  */
int trace_next(trace_reader *r, trace_req *out, fs_err *err);

/* Name of category idx, or NULL. Owned by the reader. */
const char *trace_category_name(const trace_reader *r, int idx);
int trace_category_count(const trace_reader *r);

/* Rows skipped as bad with skip_bad_rows set (reported by the caller at the end). */
int64_t trace_bad_rows(const trace_reader *r);

/* Free the reader and everything it owns (NULL is fine). */
void trace_close(trace_reader *r);

/* ---- Opening files (added by the workloads issue; see docs/traces.md) ---- */

typedef enum trace_format {
	TRACE_FMT_AUTO = 0, /* detect from the header line / first JSON object */
	TRACE_FMT_AZURE,    /* Azure LLM inference 2023/2024 CSV */
	TRACE_FMT_BURSTGPT, /* BurstGPT CSV */
	TRACE_FMT_MOONCAKE, /* Mooncake JSONL */
	TRACE_FMT_CSV,      /* generic CSV with header */
	TRACE_FMT_JSONL,    /* generic JSONL */
	TRACE_FMT_OPENAI    /* OpenAI-style usage JSONL: created, usage.prompt_tokens, ... */
} trace_format;

/* Unit of the arrival column of csv, jsonl and openai traces.  AUTO: ISO 8601 strings
 * are dates; a number's magnitude (the first row's) says which: below 1e8 relative
 * seconds, then epoch seconds, milliseconds (>= 1e11), microseconds (>= 1e14) or
 * nanoseconds (>= 1e17). */
typedef enum trace_time_unit {
	TRACE_TU_AUTO = 0,
	TRACE_TU_S,
	TRACE_TU_MS,
	TRACE_TU_US,
	TRACE_TU_NS,
	TRACE_TU_ISO
} trace_time_unit;

/* Absolute timestamps (ISO dates, and numbers whose first value is at least this many
 * seconds: epoch times after 1973-03-03) are re-based so the first request arrives at
 * 0; smaller ones are offsets already and are kept as they are. */
#define TRACE_EPOCH_MIN_S 1e8

/* Roles a CSV column or JSON key can be mapped to (`workload.columns`, `--columns`). */
enum {
	TRACE_COL_ARRIVAL = 0, /* arrival time (unit: time_unit) */
	TRACE_COL_INPUT,       /* prompt tokens */
	TRACE_COL_OUTPUT,      /* generated tokens */
	TRACE_COL_MAX_TOKENS,  /* request's max_tokens (optional) */
	TRACE_COL_CATEGORY,    /* category label (optional; default: the model column) */
	TRACE_COL_HASH_IDS,    /* prefix block hashes (optional; 512 tokens a block) */
	TRACE_COL_PROMPT_BYTES,/* prompt size in bytes (optional) */
	TRACE_COL_MODEL,       /* model name (optional; model filter, default category) */
	TRACE_COL_N
};
#define TRACE_COL_NAME_MAX 128

/* "arrival", "input", ...; NULL for an unknown role. */
const char *trace_column_role_name(int role);
/* Role of name[0..len), or -1. */
int trace_column_role_parse(const char *name, size_t len);
/* "arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model". */
const char *trace_column_roles_known(void);
/* "s", "ms", "us", "ns", "iso8601", "auto". */
const char *trace_time_unit_name(trace_time_unit u);
int trace_time_unit_parse(const char *name, trace_time_unit *out);

/* Timestamps may go backwards by up to this much (then are clamped to the previous
 * arrival, keeping the stream non-decreasing); more is a bad row. */
#define TRACE_DEFAULT_BACKWARD_TOL_NS 1000000000LL

typedef struct trace_open_opts {
	trace_format format;     /* TRACE_FMT_AUTO to detect */
	int skip_bad_rows;       /* count bad rows instead of failing */
	int64_t backward_tol_ns; /* < 0: TRACE_DEFAULT_BACKWARD_TOL_NS */
	trace_time_unit time_unit; /* csv, jsonl, openai: unit of the arrival column */
	/* Column (CSV header name) or JSON key (dotted path: usage.prompt_tokens) per
	 * TRACE_COL_* role; "" keeps the format's default.  Any mapping makes a CSV a
	 * generic csv whose other columns are ignored. */
	char columns[TRACE_COL_N][TRACE_COL_NAME_MAX];
	char model_filter[TRACE_COL_NAME_MAX]; /* keep only rows of this model; "" all */
} trace_open_opts;

/* Parse "arrival=timestamp,input=prompt_len" into o->columns.  Returns 0, or -1 with
 * err naming an unknown role (and the known ones) or a malformed item. */
int trace_columns_parse(const char *spec, trace_open_opts *o, fs_err *err);

/* Defaults: auto format, stop on the first bad row, 1 s backward tolerance. */
trace_open_opts trace_open_opts_default(void);

/* Open a trace file (plain, gzip or zstd, detected by magic bytes).  Returns 0 with a
 * reader the caller frees with trace_close, or -1 with err set (missing file, empty
 * file, unknown format, bad header), FS_EXIT_INPUT for content errors. */
int trace_open_file(const char *path, const trace_open_opts *opts, trace_reader **out,
		    fs_err *err);

/* What the reader detected about time that the user should hear about (the arrival
 * column's unit when time_unit is auto, and re-basing of absolute timestamps), as one
 * line without a trailing newline, or NULL.  Set once the first request was read;
 * owned by the reader.  Wrappers forward their source's; the command layer prints it. */
const char *trace_time_note(const trace_reader *r);

/* "azure", "burstgpt", "mooncake", "csv", "jsonl", "openai" ("auto" for TRACE_FMT_AUTO). */
const char *trace_format_name(trace_format f);
/* Parse a format name; returns 0 or -1 on an unknown name. */
int trace_format_parse(const char *name, trace_format *out);
/* Format a file was opened as (after detection); TRACE_FMT_AUTO for non-file readers. */
trace_format trace_reader_format(const trace_reader *r);

/* Parse "YYYY-MM-DD HH:MM:SS[.frac][+HH:MM|Z]" (also 'T' as separator) into ns since
 * 1970-01-01 UTC without locale or TZ.  Returns 0 or -1 on malformed text or a year
 * outside 1970..2199 (so differences of stamps fit in int64_t nanoseconds). */
int trace_parse_timestamp(const char *s, size_t len, int64_t *out_ns);

#endif
