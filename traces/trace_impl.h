/*
 * trace_impl.h - what a trace_reader implementation provides (internal to traces/).
 *
 * Every stream (file reader, synthetic generator, rescaler, window, mixer) is a struct
 * whose first member is a `trace_reader` whose ops point at its functions, so
 * transforms stack without the simulator knowing which is which.
 */
#ifndef FS_TRACE_IMPL_H
#define FS_TRACE_IMPL_H

#include <stddef.h>

#include "traces/trace.h"

typedef struct trace_ops {
	int (*next)(trace_reader *r, trace_req *out, fs_err *err);
	/* Free what the implementation owns (not r itself, not the category table). */
	void (*destroy)(trace_reader *r);
	/* Optional: wrappers forward these to their source; NULL uses the base fields. */
	const char *(*category_name)(const trace_reader *r, int idx);
	int (*category_count)(const trace_reader *r);
	int64_t (*bad_rows)(const trace_reader *r);
	const char *(*time_note)(const trace_reader *r); /* optional; NULL: none */
} trace_ops;

struct trace_reader {
	const trace_ops *ops;
	trace_format format; /* TRACE_FMT_AUTO for non-file streams */
	int64_t bad_rows;
	char **cat_names;    /* base category table (trace_cat_intern) */
	int n_cats, cap_cats;
	int last_cat;        /* cache: rows of one category tend to come in runs */
};

/* Allocate an implementation struct of size bytes (>= sizeof(trace_reader)) with its
 * base initialised; NULL on out of memory. */
trace_reader *trace_alloc(size_t size, const trace_ops *ops);

/* Index of category name[0..len) in r's base table, adding it if new.  Returns 0 and
 * *idx, or -1 on out of memory / too many categories (message without file prefix). */
int trace_cat_intern(trace_reader *r, const char *name, size_t len, int *idx, fs_err *err);

/* Maximum distinct categories one reader keeps (category is a label, not an id). */
#define TRACE_MAX_CATEGORIES 4096

#endif
