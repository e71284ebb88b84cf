/*
 * tcache.h - decoded trace files shared by every simulation of a process.
 *
 * A sweep or a plan replays the same trace file hundreds of times (every point, every
 * candidate, and once more to measure its rate when a target_rate rescales it).  With
 * the cache on, a file is parsed once: its rows are decoded into fixed-size chunks as
 * far as any reader has asked (a 10 GB trace replayed through a 10-minute window is
 * decoded for those 10 minutes only), and every later reader of the same file with the
 * same options walks the chunks instead of the text.  Results are the same bit for bit:
 * the rows are what the file reader returned, in the same order, with the same bad-row
 * counts, time note, categories and, at the point where the file reader failed, the
 * same error.
 *
 * Thread-safe (one mutex; readers take it only to move to the next chunk).  Off unless
 * tcache_enable is called: `run` streams a trace in constant memory; `plan` and `sweep`
 * turn the cache on.  When a file's chunks would pass the byte budget, readers past it
 * reopen the file and stream (skipping the rows already served).
 */
#ifndef FS_TCACHE_H
#define FS_TCACHE_H

#include <stddef.h>

#include "traces/trace.h"

/* The default budget of decoded rows, all files together. */
#define TCACHE_DEFAULT_BYTES ((size_t)1 << 30)

/* Turn the cache on with a budget of max_bytes (0: off, and already-open readers keep
 * working).  FLEETSIM_TRACE_CACHE_MB in the environment overrides the budget (0: off).
 * Call it before starting workers. */
void tcache_enable(size_t max_bytes);

/* Whether the cache is on. */
int tcache_enabled(void);

/* trace_open_file through the cache when it is on (else exactly trace_open_file).
 * Returns 0 with a reader (caller frees with trace_close), or -1 with err as
 * trace_open_file's: open-time errors (missing file, bad header) are not cached. */
int tcache_open(const char *path, const trace_open_opts *o, trace_reader **out, fs_err *err);

/* Free every cached file and turn the cache off.  Readers must all be closed. */
void tcache_clear(void);

/* Decoded files held and bytes used (tests, benchmarks). */
void tcache_stats(int *files, size_t *bytes);

#endif
