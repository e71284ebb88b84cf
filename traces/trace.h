/*
 * trace.h - request streams: real trace files, synthetic generators and the
 * transformations between them, all behind one pull interface so a multi-GB trace
 * is replayed without being loaded whole.
 *
 * A trace_reader hands out requests in arrival order; the simulator pulls the next one
 * only when simulated time reaches the previous one.
 */
#ifndef FS_TRACE_H
#define FS_TRACE_H

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

#endif
