/*
 * fuzz_common.h - shared by the libFuzzer harnesses: every fleetsim parser reads a
 * path (so that directories, FIFOs and sizes are checked where users hit them), so
 * each input is written to a per-process scratch file and the parser pointed at it.
 */
#ifndef FS_FUZZ_COMMON_H
#define FS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"

/* Write data[0..n) to a file named NAME in a private directory made once per process;
 * returns the path (static storage) or aborts: a harness that cannot write its input
 * must not report "no finding". */
static char fuzz_dir[64], fuzz_path[256];

static inline void fuzz_cleanup(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
	if (fuzz_dir[0])
		rmdir(fuzz_dir);
}

static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t n)
{
	char *dir = fuzz_dir, *path = fuzz_path;
	FILE *f;

	if (!dir[0]) {
		snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/fsfuzz.XXXXXX");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_cleanup);
	}
	snprintf(path, sizeof fuzz_path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f))
		abort();
	return path;
}

/* A failure must come with a message and an exit status: "bad input never yields a
 * silent zero". */
static inline void fuzz_check_err(int rc, const fs_err *e)
{
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "rc=%d %s\n", rc, rc ? e->msg : "");
	if (rc != 0 && (e->status != FS_EXIT_INPUT && e->status != FS_EXIT_RUNTIME))
		abort();
	if (rc != 0 && (!e->msg[0] || strchr(e->msg, '\n') != NULL))
		abort();
}

#endif
