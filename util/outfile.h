/*
 * outfile.h - the report files fleetsim writes into an output directory (plot data
 * and scripts, sizing reports, manifests): one place for the path, open and close
 * checks, so every writer reports a full disk or a bad directory the same way.
 *
 * Owns: the FILE it opens until of_close; the caller owns the path text.
 */
#ifndef FS_OUTFILE_H
#define FS_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "util/err.h"

/* Open dir/name for writing (truncated); the path goes to path (cap bytes).  Returns 0
 * with *f open (the caller closes it with of_close), or -1 with err set: the path
 * does not fit (FS_EXIT_INPUT) or the file cannot be created (FS_EXIT_RUNTIME). */
int of_open(const char *dir, const char *name, char *path, size_t cap, FILE **f, fs_err *err);

/* Close f, failing if any write to it or the close failed (a full disk shows here).
 * f is closed either way.  Returns 0, or -1 with err naming path. */
int of_close(FILE *f, const char *path, fs_err *err);

/* Make dir (and its parents) if missing, and check it is a directory this process can
 * write into, before any work is done for it.  Returns 0, or -1 with err naming dir:
 * empty or too long a path, not a directory, cannot be created (FS_EXIT_INPUT), or not
 * writable (FS_EXIT_INPUT). */
int of_prepare_dir(const char *dir, fs_err *err);

/* 1 when paths a and b name the same existing file (same device and inode; links and
 * "./x" vs "x" included), else 0 (either missing included). */
int of_same_file(const char *a, const char *b);

#endif
