/* lookahead.c - the read-ahead ring (see lookahead.h). */
#include "sim/lookahead.h"

#include <stdlib.h>
#include <string.h>

struct la_ring {
	trace_req *e;
	uint64_t **hash;     /* per entry, owned */
	int32_t *hash_cap;
	int cap, head, n, eof;
};

int la_create(int cap, la_ring **out)
{
	la_ring *r = calloc(1, sizeof *r);

	*out = NULL;
	if (!r || cap < 1)
		goto fail;
	r->cap = cap;
	r->e = calloc((size_t)cap, sizeof *r->e);
	r->hash = calloc((size_t)cap, sizeof *r->hash);
	r->hash_cap = calloc((size_t)cap, sizeof *r->hash_cap);
	if (!r->e || !r->hash || !r->hash_cap)
		goto fail;
	*out = r;
	return 0;
fail:
	la_destroy(r);
	return -1;
}

void la_destroy(la_ring *r)
{
	if (!r)
		return;
	if (r->hash)
		for (int i = 0; i < r->cap; i++)
			free(r->hash[i]);
	free(r->hash);
	free(r->hash_cap);
	free(r->e);
	free(r);
}

int la_fill(la_ring *r, trace_reader *tr, fs_err *err)
{
	while (!r->eof && r->n < r->cap) {
		int i = (r->head + r->n) % r->cap, prev = (i + r->cap - 1) % r->cap;
		trace_req *e = &r->e[i];
		int got = trace_next(tr, e, err);

		if (got < 0)
			return -1;
		if (got == 0) {
			r->eof = 1;
			break;
		}
		if (e->n_hashes > 0) {
			if (e->n_hashes > r->hash_cap[i]) {
				uint64_t *h = realloc(r->hash[i], sizeof *h * (size_t)e->n_hashes);

				if (!h)
					return fs_fail(err, FS_EXIT_RUNTIME, "out of memory for prefix hashes");
				r->hash[i] = h;
				r->hash_cap[i] = e->n_hashes;
			}
			memcpy(r->hash[i], e->hashes, sizeof *e->hashes * (size_t)e->n_hashes);
			e->hashes = r->hash[i];
		}
		/* Never go back (as the arrival before it ran). */
		if (r->n > 0 && e->arrival_ns < r->e[prev].arrival_ns)
			e->arrival_ns = r->e[prev].arrival_ns;
		r->n++;
	}
	return 0;
}

const trace_req *la_peek(const la_ring *r, int k)
{
	if (k < 0 || k >= r->n)
		return NULL;
	return &r->e[(r->head + k) % r->cap];
}

void la_drop(la_ring *r)
{
	if (r->n == 0)
		return;
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

int la_count(const la_ring *r)
{
	return r->n;
}

int la_capacity(const la_ring *r)
{
	return r->cap;
}

int la_eof(const la_ring *r)
{
	return r->eof;
}
