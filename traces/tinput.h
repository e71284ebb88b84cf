/*
 * tinput.h - line input for trace files: plain, gzip (zlib) or zstd, chosen by the
 * file's magic bytes, through one large buffer so memory stays bounded whatever the
 * file size.
 *
 * Owns: the open file, its decompressor and its buffer, until tin_close.
 */
#ifndef FS_TINPUT_H
#define FS_TINPUT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct tin tin;

/* Longest line accepted (Mooncake rows carry long hash lists). */
#define TIN_BUF_BYTES (4u << 20)

/* Open path.  Returns 0 with a handle (tin_close), or -1 with err "PATH: why". */
int tin_open(const char *path, tin **out, fs_err *err);

/* Next line: *line points into the buffer, NUL-terminated, without '\n' or a trailing
 * '\r'; valid until the next call.  Returns 1, 0 at end of file, or -1 with err set
 * (I/O error, corrupt or truncated compressed data, line too long). */
int tin_line(tin *t, char **line, size_t *len, fs_err *err);

/* 1-based number of the line last returned (0 before the first). */
int64_t tin_lineno(const tin *t);

/* "plain", "gzip" or "zstd". */
const char *tin_kind(const tin *t);

void tin_close(tin *t);

#endif
