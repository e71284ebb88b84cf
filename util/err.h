/*
 * err.h - error values passed up from library code to the command layer.
 *
 * Library functions never print or exit (git's error()/die() split): they return -1
 * and describe the failure in a caller-owned fs_err.  The command layer prints
 * "fleetsim: <msg>" and exits with err.status.  Messages that concern a file start
 * with "FILE:LINE:COL: " (or "FILE:LINE: ") so editors can jump to them.
 */
#ifndef FS_ERR_H
#define FS_ERR_H

#include <stdarg.h>

enum {
	FS_EXIT_OK = 0,
	FS_EXIT_RUNTIME = 1, /* the work failed: I/O, database, simulation invariant */
	FS_EXIT_INPUT = 2    /* the user's input is wrong: usage, file content, value */
};

typedef struct fs_err {
	int status;      /* FS_EXIT_RUNTIME or FS_EXIT_INPUT once set; 0 while clear */
	char msg[1024];
} fs_err;

/* Record a failure in e (which may be NULL) and return -1, so callers can write
 * `return fs_fail(err, FS_EXIT_INPUT, "...")`.  A message already set is kept
 * when the new one is a generic wrapper: see fs_failp. */
int fs_fail(fs_err *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int fs_vfail(fs_err *e, int status, const char *fmt, va_list ap);

/* Prefix an existing message with more context ("FILE: " + old msg); returns -1. */
int fs_failp(fs_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void fs_err_clear(fs_err *e);

#endif
