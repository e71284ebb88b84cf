/*
 * numparse.h - strict, locale-independent number parsing for every input path
 * (trace rows, YAML scalars, --set values, CLI flags).
 *
 * fleetsim never calls setlocale(), so strtod() keeps the "C" decimal point whatever
 * LC_NUMERIC says; these wrappers add what strtod/strtoll lack: the whole string must
 * be consumed, overflow and NaN/Inf are rejected.
 *
 * Owns: nothing (pure functions on the caller's text).
 */
#ifndef FS_NUMPARSE_H
#define FS_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parse the first len bytes of s (len = (size_t)-1: up to NUL).  Leading/trailing
 * blanks are allowed.  Return 0 and set *out, or -1 if empty, not a number, trailing
 * garbage, out of range, or not finite. */
int np_i64(const char *s, size_t len, int64_t *out);
int np_double(const char *s, size_t len, double *out);

/* Boolean words: true/false/yes/no/on/off/1/0.  Return 0 or -1. */
int np_bool(const char *s, size_t len, int *out);

#endif
