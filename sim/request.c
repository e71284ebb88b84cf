/* request.c - the request pool (see request.h). */
#include "sim/request.h"

#include <stdlib.h>
#include <string.h>

#include "util/slab.h"

struct rq_pool {
	slab *mem;        /* where requests live (huge pages: see util/slab.h) */
	sim_req *free;    /* handed back, linked through next; most recent first, so the
			   * next get reuses the struct still in cache */
	slab *blocks;     /* queue blocks, created with the first one */
	void *free_blocks; /* handed back, linked through their first word */
};

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
	memset(q, 0, sizeof *q);
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
