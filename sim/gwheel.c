/* gwheel.c - the ghost-time wheel (see gwheel.h). */
#include "sim/gwheel.h"

#include <stdlib.h>

typedef struct bucket {
	int64_t window;  /* -1: never used */
	int32_t n;
	gw_entry e[GW_CAP];
} bucket;

struct gw_wheel {
	bucket *b;
	int64_t n;   /* buckets, a power of two */
	int shift;   /* bucket width 2^shift ns */
};

int gw_create(int owners, gw_wheel **out)
{
	gw_wheel *w = calloc(1, sizeof *w);
	/* Steps of ~50 ms put ~2 intermediate times of each owner in a bucket, and 16
	 * buckets per owner let a macro-step span about 1.6 s or more whatever the
	 * fleet size (~2 KB per owner). */
	int64_t width = 100000000 / (owners > 0 ? owners : 1);

	*out = NULL;
	if (!w)
		return -1;
	w->shift = 12;
	while (w->shift < 24 && ((int64_t)1 << (w->shift + 1)) <= width)
		w->shift++;
	w->n = 4096;
	while (w->n < 16 * (int64_t)owners)
		w->n *= 2;
	w->b = malloc((size_t)w->n * sizeof *w->b);
	if (!w->b)
		goto fail;
	for (int64_t i = 0; i < w->n; i++) {
		w->b[i].window = -1;
		w->b[i].n = 0;
	}
	*out = w;
	return 0;
fail:
	gw_destroy(w);
	return -1;
}

void gw_destroy(gw_wheel *w)
{
	if (!w)
		return;
	free(w->b);
	free(w);
}

simtime_t gw_span(const gw_wheel *w)
{
	return (w->n - 1) << w->shift;
}

int gw_index(gw_wheel *w, simtime_t t0, const int64_t *d, int64_t k, int32_t owner, uint32_t gen,
	     void (*hit)(void *ctx, const gw_entry *e), void *ctx)
{
	bucket *bs = w->b;
	const int64_t mask = w->n - 1;
	const int shift = w->shift;
	simtime_t t = t0;
	int clean = 1;

	for (int64_t g = 1; g < k; g++) {
		int64_t win = (t += d[g - 1]) >> shift;
		bucket *b = &bs[win & mask];

		if (b->window != win) {
			b->window = win;
			b->n = 0;
		}
		for (int i = 0; i < b->n; i++) {
			if (b->e[i].time != t)
				continue;
			clean = 0;
			hit(ctx, &b->e[i]);
		}
		if (b->n < GW_CAP)
			b->e[b->n++] = (gw_entry){t, owner, (int32_t)g, gen};
		else
			clean = 0;
	}
	return clean;
}

int gw_find(const gw_wheel *w, simtime_t t, const gw_entry **e)
{
	const bucket *b = &w->b[(t >> w->shift) & (w->n - 1)];

	if (b->window != t >> w->shift)
		return 0;
	*e = b->e;
	return b->n;
}
