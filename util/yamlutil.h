/*
 * yamlutil.h - thin helpers over libfyaml for the modules that read YAML (scenarios,
 * workloads, GPU files, synthetic trace specs): loading with errors as FILE:LINE:COL,
 * typed scalar getters, unknown-key checks and --set path overrides.
 *
 * Every getter returns 0 on success and -1 on failure with err set to
 * "FILE:LINE:COL: <what is wrong>" and status FS_EXIT_INPUT.  Nodes are owned by
 * their document; nothing returned here needs freeing except the document.
 */
#ifndef FS_YAMLUTIL_H
#define FS_YAMLUTIL_H

#include <libfyaml.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Largest YAML file we accept; scenario and spec files are a few KiB. */
#define YU_MAX_FILE_BYTES (16u << 20)
/* Most nodes a document may hold once its aliases are expanded, and deepest nesting:
 * bounds the memory a small hostile file ("billion laughs") can make us use. */
#define YU_MAX_NODES 1000000u
#define YU_MAX_DEPTH 256u

/* Parse path into a new document owned by the caller (fy_document_destroy).
 * Refuses directories, FIFOs, missing and oversized files, and syntax errors, each
 * with a message naming the file (and line:col for syntax).  Returns 0 or -1. */
int yu_load_file(const char *path, struct fy_document **out, fs_err *err);
/* The text of path (NUL-terminated, *len bytes), under the same checks as
 * yu_load_file, read to its end.  *text is malloc'd: the caller frees it.  Returns 0,
 * or -1 with err naming path. */
int yu_read_file(const char *path, char **text, size_t *len, fs_err *err);
/* Same from memory; name is used in messages. */
int yu_load_string(const char *name, const char *buf, size_t len,
		   struct fy_document **out, fs_err *err);

/* Format "FILE:LINE:COL: msg" for node n (1-based line/col; nodes made by --set
 * have no position and report "FILE: (--set PATH): msg").  Returns -1. */
int yu_errf(fs_err *err, const char *file, struct fy_node *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* 1-based line and column of n, or 0/0 when unknown. */
void yu_pos(struct fy_node *n, int *line, int *col);

/* Typed scalar reads.  Each fails on non-scalars and unparsable text. */
int yu_i64(const char *file, struct fy_node *n, int64_t *out, fs_err *err);
int yu_int(const char *file, struct fy_node *n, int *out, fs_err *err);
int yu_double(const char *file, struct fy_node *n, double *out, fs_err *err);
int yu_bool(const char *file, struct fy_node *n, int *out, fs_err *err);
/* Copies the scalar into buf (NUL-terminated); fails if it does not fit. */
int yu_str(const char *file, struct fy_node *n, char *buf, size_t cap, fs_err *err);

/* yu_str for a name (scenario, policy, pool, GPU, model): also fails, naming what,
 * when it holds a control character (below 0x20, or 0x7f), which would reach a
 * terminal or a generated file raw. */
int yu_name(const char *file, struct fy_node *n, const char *what, char *buf, size_t cap, fs_err *err);

/* Range-checked variants: value must satisfy lo <= v <= hi. */
int yu_double_range(const char *file, struct fy_node *n, double lo, double hi,
		    double *out, fs_err *err);
int yu_i64_range(const char *file, struct fy_node *n, int64_t lo, int64_t hi,
		 int64_t *out, fs_err *err);

/* A duration in seconds: a bare number (seconds; *bare = 1) or a number with a unit
 * (ns, us, ms, s, sec, min, h: "2s", "50ms", "1.5 min"; *bare = 0), then lo <= v <= hi
 * (seconds).  Fails naming the text, an unknown unit or the range. */
int yu_duration_s(const char *file, struct fy_node *n, double lo, double hi, double *out, int *bare,
		  fs_err *err);

/* Fail unless n is a mapping (resp. sequence); what names it in the message. */
int yu_expect_map(const char *file, struct fy_node *n, const char *what, fs_err *err);
int yu_expect_seq(const char *file, struct fy_node *n, const char *what, fs_err *err);

/* Fail on the first key of mapping n not in the NULL-terminated list allowed,
 * naming the key, its position, and the allowed keys. */
int yu_check_keys(const char *file, struct fy_node *n, const char *const *allowed,
		  const char *what, fs_err *err);

/* Value of key in mapping n, or NULL if absent (n may be NULL). */
struct fy_node *yu_get(struct fy_node *n, const char *key);

/* Apply "a.b.0.c=value" to doc: walk mappings by key and sequences by index,
 * creating missing mapping keys; the value is parsed as YAML (so "[1,2]" is a list).
 * Returns 0 or -1 with a message naming the assignment. */
int yu_set_path(struct fy_document *doc, const char *assignment, fs_err *err);

#endif
