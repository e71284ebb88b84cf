/*
 * gwheel.c - the ghost-time wheel (see gwheel.h).
 *
 * Layout.  A macro-step indexes its ~13 times into buckets far apart in a ring of
 * 4096+ of them, so each bucket touched is a cache miss unless the part read is small.
 * So a bucket's head (window, count and the low 16 bits of each entry's time: 32
 * bytes, a ring of 8192 heads is 256 KB) lives apart from its entries (192 bytes):
 * gw_index reads one head and writes one entry, and reads entries only when a low
 * half matches (equal times are rare).  It also prefetches the heads and entries a
 * few times ahead, whose addresses do not depend on what it reads.
 */
#include "sim/gwheel.h"

#include <stdlib.h>

/* A head's tag: window << TAG_BITS | entries; TAG_NONE never matches a window (t >= 0
 * and shift >= 12 keep windows below 2^51). */
#define TAG_BITS 3
#define TAG_NONE UINT64_MAX
_Static_assert(GW_CAP < (1 << TAG_BITS), "a bucket's entry count fits its tag");

typedef struct head {
	_Alignas(32) uint64_t tag;
	uint16_t lo[GW_CAP];  /* (uint16_t)entry time: unequal proves the times unequal */
} head;
_Static_assert(sizeof(head) == 32, "two heads per cache line");

/* Entries per bucket in the entry ring: GW_CAP rounded up so that buckets start on
 * a cache line (8 x 24 bytes = 3 lines) and the first entries share one. */
#define SLOTS 8
_Static_assert(SLOTS >= GW_CAP, "a bucket holds GW_CAP entries");

/* Times gw_index prefetches ahead of the one it indexes: all of a typical macro-step's
 * (~13) at its start, so their misses overlap. */
#define AHEAD 16

#if defined(__GNUC__)
#define PREFETCH(p, rw) __builtin_prefetch((p), (rw))
#else
#define PREFETCH(p, rw) ((void)(p))
#endif

/* The index of m's lowest set bit (m != 0). */
static inline int lowest(unsigned m)
{
#if defined(__GNUC__)
	return __builtin_ctz(m);
#else
	int i = 0;

	while (!(m & 1u << i))
		i++;
	return i;
#endif
}

struct gw_wheel {
	head *h;      /* per bucket: its window, count and the entries' low time bits */
	gw_entry *e;  /* per bucket: SLOTS entries, the first (tag & 7) of them current */
	int64_t n;    /* buckets, a power of two */
	int shift;    /* bucket width 2^shift ns */
};

/* Bit i set for each of h's first n entries whose time's low bits are lo: a fixed
 * count of compares, no branch (n varies, a loop over it is mispredicted). */
static inline unsigned match(const head *h, uint16_t lo, int n)
{
	unsigned m = 0;

	for (int i = 0; i < GW_CAP; i++)
		m |= (unsigned)(h->lo[i] == lo) << i;
	return m & ((1u << n) - 1);
}

int gw_create(int owners, gw_wheel **out)
{
	gw_wheel *w = calloc(1, sizeof *w);
	/* Steps of ~50 ms put ~2 intermediate times of each owner in a bucket, and 16
	 * buckets per owner let a macro-step span about 1.6 s or more whatever the
	 * fleet size (~3.5 KB per owner). */
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
	/* Both sizes are multiples of 64 (n >= 4096), as aligned_alloc wants. */
	w->h = aligned_alloc(64, (size_t)w->n * sizeof *w->h);
	w->e = aligned_alloc(64, (size_t)w->n * SLOTS * sizeof *w->e);
	if (!w->h || !w->e)
		goto fail;
	for (int64_t i = 0; i < w->n; i++)
		w->h[i] = (head){.tag = TAG_NONE}; /* lo[] past the count is read, never used */
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
	free(w->h);
	free(w->e);
	free(w);
}

simtime_t gw_span(const gw_wheel *w)
{
	return (w->n - 1) << w->shift;
}

int gw_index(gw_wheel *w, simtime_t t0, const int64_t *d, int64_t k, int32_t owner, uint32_t gen,
	     void (*hit)(void *ctx, const gw_entry *e), void *ctx)
{
	head *hs = w->h;
	gw_entry *es = w->e;
	const int64_t mask = w->n - 1;
	const int shift = w->shift;
	simtime_t t = t0, tp = t0;
	int64_t gp = 1; /* the next time to prefetch, at tp + d[gp - 1] */
	int clean = 1;

	for (int64_t g = 1; g < k; g++) {
		int64_t win, bi;
		uint64_t tag;
		head *h;
		uint16_t lo;
		int n;

		for (; gp < k && gp <= g + AHEAD; gp++) {
			int64_t pi = ((tp += d[gp - 1]) >> shift) & mask;

			PREFETCH(&hs[pi], 1);
			PREFETCH(&es[pi * SLOTS], 1);
		}
		win = (t += d[g - 1]) >> shift;
		bi = win & mask;
		h = &hs[bi];
		lo = (uint16_t)t;
		tag = h->tag;
		if (tag >> TAG_BITS != (uint64_t)win)
			tag = (uint64_t)win << TAG_BITS; /* a later window reuses it: empty */
		n = (int)(tag & ((1 << TAG_BITS) - 1));
		for (unsigned m = match(h, lo, n); m; m &= m - 1) {
			const gw_entry *e = &es[bi * SLOTS + lowest(m)];

			if (e->time != t)
				continue;
			clean = 0;
			hit(ctx, e);
		}
		if (n < GW_CAP) {
			es[bi * SLOTS + n] = (gw_entry){t, owner, (int32_t)g, gen};
			h->lo[n] = lo;
			tag++;
		} else {
			clean = 0;
		}
		h->tag = tag;
	}
	return clean;
}

int gw_find(const gw_wheel *w, simtime_t t, const gw_entry **e)
{
	int64_t win = t >> w->shift, bi = win & (w->n - 1);
	const head *h = &w->h[bi];
	uint64_t tag = h->tag;
	int n = (int)(tag & ((1 << TAG_BITS) - 1));

	if (tag >> TAG_BITS != (uint64_t)win)
		return 0;
	if (!match(h, (uint16_t)t, n))
		return 0; /* none can be at t: spare the caller a look at the entries */
	*e = &w->e[bi * SLOTS];
	return n;
}
