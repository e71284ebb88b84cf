/*
 * tutil.h - temporary files for the unit tests.
 *
 * Each test process gets ONE private directory, made with mkdtemp(3) on first use
 * under $TMPDIR (or /tmp) and named after the running CUnit suite
 * (fs_test_<suite>_XXXXXX).  Fixed names under /tmp made concurrent test runs (two
 * build dirs, ctest -j) overwrite each other's fixtures and left litter behind;
 * inside the private directory any fixed name is safe.
 *
 * The directory and everything in it are removed when the process exits (atexit),
 * which also covers tests whose assertions failed: CUnit failures return to main.
 * With FS_KEEP_TMP=1 in the environment it is kept and its path printed on stderr.
 * A process that dies on a signal leaves it behind.
 */
#ifndef FS_TUTIL_H
#define FS_TUTIL_H

#include <stddef.h>

/* The process's temporary directory, created on the first call.  Returns NULL when
 * it cannot be created.  The string is owned by tutil and lives until exit. */
const char *tu_dir(void);

/* Write "<tu_dir()>/<name>" into buf (n bytes).  Returns 0, or -1 when the directory
 * cannot be created or the path does not fit. */
int tu_path(char *buf, size_t n, const char *name);

/* Write text to the fixture file <name> inside tu_dir() (replacing it), and its path
 * into path_out (n bytes) unless path_out is NULL.  name may name a subdirectory
 * that already exists.  Returns 0, or -1 when the path does not fit or the file
 * cannot be written. */
int tu_write(const char *name, const char *text, char *path_out, size_t n);

/* Create the subdirectory <name> (mode 0700) inside tu_dir(), and write its path into
 * path_out (n bytes) unless path_out is NULL.  Returns 0, or -1 when the path does
 * not fit or mkdir(2) fails (also when it exists: each test gets a fresh one). */
int tu_mkdir(const char *name, char *path_out, size_t n);

/* tu_write with the path returned: a tutil-owned buffer that stays valid for the
 * next 7 calls, or NULL on failure (callers pass it on to the code under test,
 * which must then fail cleanly).  For tests that write and load one file at a time. */
const char *tu_file(const char *name, const char *text);

/* A CUnit suite init function: creates tu_dir() before the suite's tests; 0 or -1. */
int tu_suite_init(void);

/* Every document of the multi-document YAML file path, parsed with libfyaml, into
 * docs[0..cap) (the caller destroys each).  Returns their count, or -1 when the file
 * cannot be read or does not parse. */
struct fy_document;
int tu_yaml_docs(const char *path, struct fy_document **docs, int cap);

#endif
