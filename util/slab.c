/* slab.c - chunked object allocator with huge-page hints (see slab.h). */
#if defined(__linux__)
#define _GNU_SOURCE /* mremap: grow a mapping without copying it */
#endif
#include "util/slab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif
/* One huge page: the unit the kernel can back with a single TLB entry. */
#define HUGE (2u << 20)
/* The first chunk; each next one doubles up to HUGE.  A short run (a planner's
 * candidate holds a few hundred requests at once) then neither zeroes nor keeps a
 * huge page it does not need. */
#define FIRST_CHUNK (64u << 10)
/* Arrays of at least this many bytes are mappings of their own (Linux): below, a
 * copy at each doubling is cheap, and a mapping's huge pages would be zeroed for
 * every short run. */
#define MAPPED_ARRAY (16u << 20)

struct slab {
	size_t stride;   /* object size rounded up to the alignment */
	char **chunks;   /* FIRST_CHUNK, 2 x FIRST_CHUNK, ... HUGE, HUGE, ... bytes */
	size_t nchunks, capchunks;
	size_t used;     /* bytes handed out of the last chunk */
	size_t size;     /* the last chunk's size */
};

int slab_create(size_t obj_size, slab **out)
{
	slab *s = calloc(1, sizeof *s);
	size_t align = obj_size > 64 ? 64 : 16;

	*out = NULL;
	if (!s || obj_size == 0 || obj_size > HUGE) {
		free(s);
		return -1;
	}
	s->stride = (obj_size + align - 1) / align * align;
	s->size = FIRST_CHUNK / 2;
	s->used = s->size; /* the first alloc opens a chunk */
	*out = s;
	return 0;
}

void *slab_alloc(slab *s)
{
	void *p;

	if (s->used + s->stride > s->size) {
		size_t size = s->size < HUGE ? 2 * s->size : HUGE;
		void *c = NULL;

		if (s->nchunks == s->capchunks) {
			size_t cap = s->capchunks ? 2 * s->capchunks : 16;
			char **n = realloc(s->chunks, cap * sizeof *n);

			if (!n)
				return NULL;
			s->chunks = n;
			s->capchunks = cap;
		}
		if (size < s->stride)
			size = s->stride;
		/* Huge chunks on huge-page boundaries, so the hint can take. */
		if (posix_memalign(&c, size >= HUGE ? HUGE : 64, size))
			return NULL;
		if (size >= HUGE)
			slab_hint_huge(c, size);
		s->chunks[s->nchunks++] = c;
		s->size = size;
		s->used = 0;
	}
	p = s->chunks[s->nchunks - 1] + s->used;
	s->used += s->stride;
	memset(p, 0, s->stride);
	return p;
}

void slab_destroy(slab *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i]);
	free(s->chunks);
	free(s);
}

void slab_hint_huge(void *p, size_t n)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
	uintptr_t a = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
	uintptr_t b = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE - 1);

	if (b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

static int mapped(size_t bytes)
{
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
	return bytes >= MAPPED_ARRAY;
#else
	(void)bytes;
	return 0;
#endif
}

int slab_array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024, old = *cap * elem, bytes;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -1;
		ncap *= 2;
	}
	bytes = ncap * elem;
	if (!mapped(bytes)) {
		np = realloc(*p, bytes);
		if (!np)
			return -1;
	} else {
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
		/* Whole huge pages, so the mapping stays one region the kernel can remap. */
		bytes = (bytes + HUGE - 1) / HUGE * HUGE;
		ncap = bytes / elem;
		if (mapped(old)) {
			size_t ob = (old + HUGE - 1) / HUGE * HUGE;

			np = mremap(*p, ob, bytes, MREMAP_MAYMOVE);
			if (np == MAP_FAILED)
				return -1;
		} else {
			np = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (np == MAP_FAILED)
				return -1;
#if defined(MADV_HUGEPAGE)
			(void)madvise(np, bytes, MADV_HUGEPAGE);
#endif
			if (old)
				memcpy(np, *p, old);
			free(*p);
		}
#else
		return -1; /* unreachable: mapped() is 0 */
#endif
	}
	*p = np;
	*cap = ncap;
	return 0;
}

void slab_array_free(void *p, size_t cap, size_t elem)
{
	if (!p)
		return;
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
	if (mapped(cap * elem)) {
		(void)munmap(p, (cap * elem + HUGE - 1) / HUGE * HUGE);
		return;
	}
#endif
	(void)cap;
	(void)elem;
	free(p);
}
