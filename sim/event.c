/*
 * event.c - indexed binary min-heap keyed (time, seq).
 *
 * Events live in a slot array (stable index, recycled through a free list); the
 * heap holds (time, seq, slot) so comparisons touch only the heap array.  A small
 * open-addressing table maps seq -> slot, which is what makes ev_cancel O(log n)
 * with real removal (no tombstones left in the heap to skew ev_pending/ev_peek).
 * The table is built on the first ev_cancel and kept from then on: a queue that
 * never cancels (the fleet) pays no hash insert / delete per event (it was ~30 % of
 * the instructions of a decode-heavy run).
 *
 * Also here: event keys (ev_key) and their one comparison, and pending slots
 * (ev_slots): a winner tree over per-object events ordered by the same keys.
 */
#include "sim/event.h"

#include <stdlib.h>
#include <string.h>

typedef struct heap_ent {
	simtime_t time;
	uint64_t seq;
	uint32_t slot;
} heap_ent;

typedef struct slot {
	ev_event ev;
	uint32_t pos;  /* index in heap; UINT32_MAX when the slot is free */
	uint32_t next_free;
} slot;

struct ev_queue {
	simtime_t now;
	uint64_t next_seq;
	heap_ent *heap;
	uint32_t n, cap;       /* heap entries / capacity (slots share the capacity) */
	slot *slots;
	uint32_t free_head;    /* UINT32_MAX when none */
	uint32_t slots_used;   /* slots ever handed out (high-water mark) */
	/* seq -> slot map: linear probing, key 0 = empty (seq 0 is never issued). */
	uint64_t *map_key;
	uint32_t *map_val;
	uint32_t map_mask;
	int mapped;            /* the seq -> slot table is live (after the first cancel) */
};

#define NONE UINT32_MAX

static inline uint32_t hash_seq(uint64_t s)
{
	s ^= s >> 33;
	s *= 0xff51afd7ed558ccdULL;
	s ^= s >> 33;
	return (uint32_t)s;
}

static void map_put(ev_queue *q, uint64_t key, uint32_t val)
{
	uint32_t i = hash_seq(key) & q->map_mask;

	while (q->map_key[i])
		i = (i + 1) & q->map_mask;
	q->map_key[i] = key;
	q->map_val[i] = val;
}

static uint32_t map_find(const ev_queue *q, uint64_t key)
{
	uint32_t i = hash_seq(key) & q->map_mask;

	while (q->map_key[i]) {
		if (q->map_key[i] == key)
			return i;
		i = (i + 1) & q->map_mask;
	}
	return NONE;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void map_del_at(ev_queue *q, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & q->map_mask;
		if (!q->map_key[j])
			break;
		home = hash_seq(q->map_key[j]) & q->map_mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		q->map_key[i] = q->map_key[j];
		q->map_val[i] = q->map_val[j];
		i = j;
	}
	q->map_key[i] = 0;
}

static inline int ent_less(const heap_ent *a, const heap_ent *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static inline void heap_set(ev_queue *q, uint32_t i, heap_ent e)
{
	q->heap[i] = e;
	/* Heap positions are read only by ev_cancel; kept once it is in use. */
	if (q->mapped)
		q->slots[e.slot].pos = i;
}

static void sift_up(ev_queue *q, uint32_t i)
{
	heap_ent e = q->heap[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!ent_less(&e, &q->heap[p]))
			break;
		heap_set(q, i, q->heap[p]);
		i = p;
	}
	heap_set(q, i, e);
}

/* Bottom-up (Floyd): move the hole at i down along the smaller children to a leaf,
 * then let the entry rise from there.  The entry placed at the root after a pop or
 * by ev_replace_top is usually among the latest, so this takes about one comparison
 * per level instead of two. */
static void sift_down(ev_queue *q, uint32_t i)
{
	heap_ent e = q->heap[i];
	uint32_t c;

	while ((c = 2 * i + 1) < q->n) {
		if (c + 1 < q->n && ent_less(&q->heap[c + 1], &q->heap[c]))
			c++;
		heap_set(q, i, q->heap[c]);
		i = c;
	}
	q->heap[i] = e;
	sift_up(q, i);
}

/* Remove heap entry at index i, release its slot and map entry. */
static void remove_at(ev_queue *q, uint32_t i)
{
	heap_ent e = q->heap[i];
	if (q->mapped) {
		uint32_t mi = map_find(q, e.seq);

		if (mi != NONE)
			map_del_at(q, mi);
	}
	q->slots[e.slot].pos = NONE;
	q->slots[e.slot].next_free = q->free_head;
	q->free_head = e.slot;
	q->n--;
	if (i < q->n) {
		heap_set(q, i, q->heap[q->n]);
		if (i > 0 && ent_less(&q->heap[i], &q->heap[(i - 1) / 2]))
			sift_up(q, i);
		else
			sift_down(q, i);
	}
}

static int grow(ev_queue *q)
{
	uint32_t ncap = q->cap ? q->cap * 2 : 64;
	uint32_t nmap = (q->map_mask + 1) * 2, k;
	heap_ent *h;
	slot *s;
	uint64_t *mk, *old_k = q->map_key;
	uint32_t *mv, *old_v = q->map_val, old_mask = q->map_mask;

	if (ncap < q->cap || ncap > (UINT32_MAX / 4))
		return -1;
	while (nmap < 2 * ncap)
		nmap *= 2;
	h = realloc(q->heap, (size_t)ncap * sizeof *h);
	if (!h)
		return -1;
	q->heap = h;
	s = realloc(q->slots, (size_t)ncap * sizeof *s);
	if (!s)
		return -1;
	q->slots = s;
	mk = calloc(nmap, sizeof *mk);
	mv = malloc((size_t)nmap * sizeof *mv);
	if (!mk || !mv) {
		free(mk);
		free(mv);
		return -1;
	}
	q->map_key = mk;
	q->map_val = mv;
	q->map_mask = nmap - 1;
	if (old_k && q->mapped) {
		for (k = 0; k <= old_mask; k++)
			if (old_k[k])
				map_put(q, old_k[k], old_v[k]);
	}
	free(old_k);
	free(old_v);
	q->cap = ncap;
	return 0;
}

int ev_create(ev_queue **out)
{
	ev_queue *q = calloc(1, sizeof *q);

	*out = NULL;
	if (!q)
		return -1;
	q->next_seq = 1;
	q->free_head = NONE;
	q->map_mask = 63; /* grow() doubles it to at least 2 x capacity */
	if (grow(q) != 0) {
		ev_destroy(q);
		return -1;
	}
	*out = q;
	return 0;
}

void ev_destroy(ev_queue *q)
{
	if (!q)
		return;
	free(q->heap);
	free(q->slots);
	free(q->map_key);
	free(q->map_val);
	free(q);
}

ev_handle ev_schedule(ev_queue *q, simtime_t t, int kind, int32_t target, void *data)
{
	uint32_t sl;
	heap_ent e;

	if (t < q->now)
		return 0;
	if (q->free_head == NONE && q->slots_used == q->cap && grow(q) != 0)
		return 0;
	if (q->free_head != NONE) {
		sl = q->free_head;
		q->free_head = q->slots[sl].next_free;
	} else {
		sl = q->slots_used++;
	}
	e.time = t;
	e.seq = q->next_seq++;
	e.slot = sl;
	q->slots[sl].ev.time = t;
	q->slots[sl].ev.seq = e.seq;
	q->slots[sl].ev.sched = q->now;
	q->slots[sl].ev.kind = kind;
	q->slots[sl].ev.target = target;
	q->slots[sl].ev.data = data;
	if (q->mapped)
		map_put(q, e.seq, sl);
	q->heap[q->n++] = e;
	sift_up(q, q->n - 1);
	return e.seq;
}

int ev_cancel(ev_queue *q, ev_handle h)
{
	uint32_t mi;

	if (h == 0)
		return -1;
	if (!q->mapped) {
		for (uint32_t i = 0; i < q->n; i++) {
			map_put(q, q->heap[i].seq, q->heap[i].slot);
			q->slots[q->heap[i].slot].pos = i;
		}
		q->mapped = 1;
	}
	mi = map_find(q, h);
	if (mi == NONE)
		return -1;
	remove_at(q, q->slots[q->map_val[mi]].pos);
	return 0;
}

int ev_pop(ev_queue *q, ev_event *out)
{
	if (q->n == 0)
		return 0;
	*out = q->slots[q->heap[0].slot].ev;
	q->now = out->time;
	remove_at(q, 0);
	return 1;
}

int ev_peek(const ev_queue *q, ev_event *out)
{
	if (q->n == 0)
		return 0;
	*out = q->slots[q->heap[0].slot].ev;
	return 1;
}

uint64_t ev_take_seq(ev_queue *q)
{
	return q->next_seq++;
}

int ev_advance(ev_queue *q, simtime_t t)
{
	if (t < q->now || (q->n > 0 && t > q->heap[0].time))
		return -1;
	q->now = t;
	return 0;
}

int ev_peek_time(const ev_queue *q, simtime_t *t)
{
	if (q->n == 0)
		return 0;
	*t = q->heap[0].time;
	return 1;
}

simtime_t ev_now(const ev_queue *q)
{
	return q->now;
}

uint64_t ev_pending(const ev_queue *q)
{
	return q->n;
}

/* Break a tie in time t between keys (da, qa) and (db, qb): is a first?  By scheduling
 * time, then seq.  Empty slots (t = INT64_MAX) are in any order. */
static inline int tie_less(int *ambiguous, simtime_t t, simtime_t da, uint64_t qa, simtime_t db,
			   uint64_t qb)
{
	if (da != db)
		return da < db;
	if (t != INT64_MAX && (qa == EV_SEQ_VIRTUAL || qb == EV_SEQ_VIRTUAL))
		*ambiguous = 1;
	return qa < qb;
}

int ev_key_less(const ev_key *a, const ev_key *b, int *ambiguous)
{
	if (a->time != b->time)
		return a->time < b->time;
	return tie_less(ambiguous, a->time, a->sched, a->seq, b->sched, b->seq);
}

int ev_peek_key(const ev_queue *q, ev_key *k)
{
	const ev_event *e;

	if (q->n == 0) {
		k->time = INT64_MAX;
		k->sched = 0;
		k->seq = 0;
		return 0;
	}
	e = &q->slots[q->heap[0].slot].ev;
	k->time = e->time;
	k->sched = e->sched;
	k->seq = e->seq;
	return 1;
}

/* Keys as parallel arrays, indexed by slot; index n is a sentinel that never wins
 * (time INT64_MAX, seq UINT64_MAX): it fills the leaves past the last slot.
 *
 * Each tree node holds its winner's slot and a copy of that slot's time, so that a
 * replay reads one contiguous node per level: the siblings' loads do not wait on one
 * another (as loading a time through the sibling's index did), and the compares
 * become conditional moves.  sched and seq are read through the slot only on equal
 * times.  Invariant: node.time == time[node.slot] for every node but those naming
 * `taken`, the slot ev_slots_take emptied without a replay (they keep its time from
 * before: a replay reads those as INT64_MAX, so every compare is the one the keys
 * themselves would give, as when nodes held only slots). */
typedef struct node {
	simtime_t time;
	int32_t slot;
} node;

struct ev_slots {
	simtime_t *time;   /* INT64_MAX: empty */
	simtime_t *sched;
	uint64_t *seq;
	int8_t *kind;
	node *tree;        /* 2 x size nodes: the slot winning the subtree, and its time */
	int size;          /* leaves, a power of two */
	int n;
	int32_t taken;     /* the slot taken and not replayed since, or -1 */
	int ambiguous;
};

int ev_slots_create(int n, ev_slots **out)
{
	ev_slots *s = calloc(1, sizeof *s);
	size_t m = (size_t)n + 1;
	int size = 1;

	*out = NULL;
	if (!s)
		return -1;
	while (size < n)
		size *= 2;
	s->size = size;
	s->n = n;
	s->taken = -1;
	s->time = malloc(m * sizeof *s->time);
	s->sched = calloc(m, sizeof *s->sched);
	s->seq = malloc(m * sizeof *s->seq);
	s->kind = calloc(m, sizeof *s->kind);
	s->tree = malloc(2 * (size_t)size * sizeof *s->tree);
	if (!s->time || !s->sched || !s->seq || !s->kind || !s->tree)
		goto fail;
	for (size_t i = 0; i < m; i++) {
		s->time[i] = INT64_MAX;
		s->seq[i] = UINT64_MAX;
	}
	/* Every node starts as the sentinel: all slots are empty. */
	for (int i = 0; i < 2 * size; i++)
		s->tree[i] = (node){INT64_MAX, n};
	for (int i = 0; i < n; i++)
		s->tree[size + i].slot = i;
	*out = s;
	return 0;
fail:
	ev_slots_destroy(s);
	return -1;
}

void ev_slots_destroy(ev_slots *s)
{
	if (!s)
		return;
	free(s->time);
	free(s->sched);
	free(s->seq);
	free(s->kind);
	free(s->tree);
	free(s);
}

/* Replay slot i's path after its event changed. */
static void replay(ev_slots *s, int i)
{
	node *t = s->tree;
	int32_t cur = i, gone;
	simtime_t ct = s->time[i];
	int k = s->size + i;

	if (s->taken == i)
		s->taken = -1; /* every node naming i is on its path, rewritten here */
	gone = s->taken;
	t[k].time = ct;
	for (; k > 1; k >>= 1) {
		const node *sib = &t[k ^ 1];
		int32_t ss = sib->slot;
		simtime_t st = ss == gone ? INT64_MAX : sib->time;
		int64_t win = st < ct; /* then all ones: the sibling wins */

		/* Equal times are rare: branch there.  Otherwise the sibling wins about every
		 * other level, a branch no predictor guesses, so select with masks. */
		if (st == ct)
			win = tie_less(&s->ambiguous, st, s->sched[ss], s->seq[ss], s->sched[cur],
				       s->seq[cur]);
		win = -win;
		cur = (int32_t)((ss & win) | (cur & ~win));
		ct = (st & win) | (ct & ~win);
		t[k >> 1] = (node){ct, cur};
	}
}

/* Bring the nodes naming the taken slot back to the invariant: they are its leaf
 * and the ancestors it wins, a run from the leaf up. */
static void untake(ev_slots *s)
{
	int32_t i = s->taken;

	for (int j = s->size + i; j >= 1 && s->tree[j].slot == i; j >>= 1)
		s->tree[j].time = INT64_MAX;
	s->taken = -1;
}

void ev_slots_put(ev_slots *s, int i, const ev_key *k, int kind)
{
	s->time[i] = k->time;
	s->sched[i] = k->sched;
	s->seq[i] = k->seq;
	s->kind[i] = (int8_t)kind;
	replay(s, i);
}

void ev_slots_set(ev_slots *s, ev_queue *q, int i, simtime_t t, simtime_t sched, int kind)
{
	s->time[i] = t;
	s->sched[i] = sched;
	s->seq[i] = q->next_seq++;
	s->kind[i] = (int8_t)kind;
	replay(s, i);
}

void ev_slots_set_kind(ev_slots *s, int i, int kind)
{
	s->kind[i] = (int8_t)kind;
}

int ev_slots_kind(const ev_slots *s, int i)
{
	return s->kind[i];
}

int ev_slots_empty(const ev_slots *s, int i)
{
	return s->time[i] == INT64_MAX;
}

int ev_slots_first(ev_slots *s, const ev_key *head, int *kind)
{
	int i = s->tree[1].slot;
	simtime_t top = i == s->taken ? INT64_MAX : s->tree[1].time;

	if (top == INT64_MAX || top > head->time)
		return -1;
	if (top == head->time &&
	    !tie_less(&s->ambiguous, top, s->sched[i], s->seq[i], head->sched, head->seq))
		return -1;
	if (kind)
		*kind = s->kind[i];
	return i;
}

int ev_slots_top(const ev_slots *s)
{
	int i = s->tree[1].slot;

	return i == s->taken || s->tree[1].time == INT64_MAX ? -1 : i;
}

void ev_slots_take(ev_slots *s, int i, ev_key *k, int *kind)
{
	if (k) {
		k->time = s->time[i];
		k->sched = s->sched[i];
		k->seq = s->seq[i];
	}
	if (kind)
		*kind = s->kind[i];
	s->time[i] = INT64_MAX;
	/* Its nodes wait for the replay that refills or settles it (one pending at most). */
	if (s->taken >= 0 && s->taken != i)
		untake(s);
	s->taken = i;
}

void ev_slots_settle(ev_slots *s, int i)
{
	if (s->time[i] == INT64_MAX)
		replay(s, i);
}

int ev_slots_ambiguous(const ev_slots *s)
{
	return s->ambiguous;
}
