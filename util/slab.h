/*
 * slab.h - memory for the engine's big, randomly touched data: fixed-size objects
 * carved from large chunks (the simulated requests and the waiting queues' blocks,
 * sim/request.c), arrays that grow without being copied (the per-request metric
 * records), and the huge-page hint both use.
 *
 * Why: an overloaded fleet keeps ~10^6 requests queued and touches each at random
 * moments (admission, finish): with 4 KiB pages nearly every such touch is also a TLB
 * miss, and with one malloc per request every new page is a page fault of its own.
 * Chunks of 2 MiB, aligned and marked MADV_HUGEPAGE (where the kernel offers it:
 * Linux with transparent_hugepage "madvise" or "always") cut both; elsewhere the hint
 * is a no-op and the slab is a plain chunk allocator.  Neither changes any result.
 *
 * Objects are never returned to the slab one by one (the caller keeps its own free
 * list); slab_destroy frees every chunk at once.
 */
#ifndef FS_SLAB_H
#define FS_SLAB_H

#include <stddef.h>

typedef struct slab slab;

/* A slab of objects of obj_size bytes (each starting on a 64-byte cache line when
 * larger than one), carved from chunks that double from 64 KiB to 2 MiB (the huge
 * ones hinted).  Returns 0 and *out (caller owns, slab_destroy), or -1 on
 * allocation failure (*out NULL). */
int slab_create(size_t obj_size, slab **out);
/* A zeroed object (owned by the slab: valid until slab_destroy), or NULL when out of
 * memory. */
void *slab_alloc(slab *s);
/* Free every chunk (the objects with them); NULL is a no-op. */
void slab_destroy(slab *s);

/* Ask for huge pages over the 2 MiB-aligned part of [p, p + n) (an array that will
 * be touched all over).  A hint: ignored where unsupported or when it fails. */
void slab_hint_huge(void *p, size_t n);

/* Grow the array *p (capacity *cap elements of elem bytes, from slab_array_grow or
 * NULL with *cap 0) to hold at least `need` elements, doubling.  Past 16 MiB it is a
 * private mapping backed by huge pages where the kernel offers them (Linux), grown by
 * remapping, not copying: a per-request array of a multi-million-request run then
 * takes a page fault per 2 MiB instead of per 4 KiB.  Returns 0 (contents kept, *p
 * and *cap updated), or -1 out of memory (*p and *cap unchanged).  Free it with
 * slab_array_free, never free(). */
int slab_array_grow(void **p, size_t *cap, size_t need, size_t elem);
/* Free an array of slab_array_grow with its capacity and element size (NULL: no-op). */
void slab_array_free(void *p, size_t cap, size_t elem);

#endif
