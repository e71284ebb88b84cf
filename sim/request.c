/* request.c - the request pool (see request.h). */
#include "sim/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/slab.h"

struct rq_pool {
	slab *mem;        /* where requests live (huge pages: see util/slab.h) */
	sim_req *free;    /* handed back, linked through next; most recent first, so the
			   * next get reuses the struct still in cache */
	slab *blocks;     /* queue blocks, created with the first one */
	void *free_blocks; /* handed back, linked through their first word */
};

/* memset(q, 0, sizeof *q), in 16-byte stores where the target has them: compilers
 * turn a memset of this size into `rep stos`, whose start-up cost showed in the
 * profile of an overloaded run (a get per arrival and one per admission). */
static void zero(sim_req *q)
{
#if defined(__SSE2__) && UINTPTR_MAX == UINT64_MAX
	/* Written out: a loop of these is turned back into a memset. */
	__m128i z = _mm_setzero_si128(), *v = (__m128i *)(void *)q;

	_Static_assert(sizeof *q == 11 * 16, "one store per 16 bytes of sim_req");
	_mm_storeu_si128(v + 0, z);
	_mm_storeu_si128(v + 1, z);
	_mm_storeu_si128(v + 2, z);
	_mm_storeu_si128(v + 3, z);
	_mm_storeu_si128(v + 4, z);
	_mm_storeu_si128(v + 5, z);
	_mm_storeu_si128(v + 6, z);
	_mm_storeu_si128(v + 7, z);
	_mm_storeu_si128(v + 8, z);
	_mm_storeu_si128(v + 9, z);
	_mm_storeu_si128(v + 10, z);
#else
	memset(q, 0, sizeof *q);
#endif
}

int rq_pool_create(rq_pool **out)
{
	rq_pool *p = calloc(1, sizeof *p);

	*out = NULL;
	if (!p || slab_create(sizeof(sim_req), &p->mem)) {
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void rq_pool_destroy(rq_pool *p)
{
	sim_req *q;

	if (!p)
		return;
	while ((q = p->free)) {
		p->free = q->next;
		free(q->blocks);
		free(q->hashes);
	}
	slab_destroy(p->mem);
	slab_destroy(p->blocks);
	free(p);
}

sim_req *rq_pool_get(rq_pool *p)
{
	sim_req *q = p->free;
	int32_t *blocks;
	uint64_t *hashes;
	int32_t cap_b, cap_h;

	if (!q)
		return slab_alloc(p->mem);
	p->free = q->next;
	blocks = q->blocks;
	hashes = q->hashes;
	cap_b = q->cap_blocks;
	cap_h = q->cap_hashes;
	zero(q);
	q->blocks = blocks;
	q->hashes = hashes;
	q->cap_blocks = cap_b;
	q->cap_hashes = cap_h;
	return q;
}

void rq_pool_put(rq_pool *p, sim_req *q)
{
	q->next = p->free;
	p->free = q;
}

void *rq_pool_get_block(rq_pool *p)
{
	void *b = p->free_blocks;

	if (b) {
		memcpy(&p->free_blocks, b, sizeof(void *));
		return b;
	}
	if (!p->blocks && slab_create(RQ_BLOCK, &p->blocks))
		return NULL;
	return slab_alloc(p->blocks);
}

void rq_pool_put_block(rq_pool *p, void *b)
{
	memcpy(b, &p->free_blocks, sizeof(void *));
	p->free_blocks = b;
}
