/*
 * tcache.c - decoded trace files shared by the simulations of a process (tcache.h).
 *
 * One entry per (file identity, open options): the file reader that decodes it (the
 * "decoder"), the rows decoded so far in chunks that never move, the hash ids in
 * append-only blocks that never move, the category names in the decoder's order, and
 * how the decoder ended (EOF with its bad-row count, or an error).  A cached reader
 * walks the chunks; only moving past the rows it has seen takes the lock (and then
 * decodes one more chunk if nobody has yet).
 */
#include "traces/tcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "traces/trace_impl.h"

#define CHUNK_ROWS 8192
#define HASH_BLOCK ((size_t)1 << 17) /* uint64s per hash block (1 MiB) */

typedef struct chunk {
	int n;                          /* rows filled (only grows, under the lock) */
	trace_req rows[CHUNK_ROWS];
	int64_t bad_after[CHUNK_ROWS];  /* the decoder's bad-row count after row i */
} chunk;

typedef struct hblock {
	struct hblock *next;
	size_t used;
	uint64_t h[HASH_BLOCK];
} hblock;

typedef struct entry {
	struct entry *next;
	char *path;
	trace_open_opts o;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	trace_reader *dec;              /* NULL once done, failed or over budget */
	trace_format format;
	chunk **chunks;
	int nchunks, capchunks;
	int64_t nrows;
	hblock *hashes;                 /* newest first */
	int done, failed, overflow;
	fs_err ferr;                    /* the decoder's error, at row nrows */
	int64_t final_bad;              /* bad rows at EOF */
	char *note;                     /* the decoder's time note, once set */
	char **cats;                    /* the decoder's category names, in its order */
	int ncats, capcats;
} entry;

typedef struct creader {
	trace_reader base;
	entry *e;
	int64_t pos;                    /* next row */
	const chunk *cur;               /* chunk holding rows [cur_first, cur_first + cur_n) */
	int64_t cur_first;
	int cur_n;
	int64_t bad;                    /* bad rows as of the last row returned */
	trace_reader *stream;           /* past the budget: the file itself */
} creader;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *entries;
static size_t budget, used;

static int same_opts(const trace_open_opts *a, const trace_open_opts *b)
{
	return a->format == b->format && a->skip_bad_rows == b->skip_bad_rows &&
	       a->backward_tol_ns == b->backward_tol_ns && a->time_unit == b->time_unit &&
	       !memcmp(a->columns, b->columns, sizeof a->columns) &&
	       !memcmp(a->model_filter, b->model_filter, sizeof a->model_filter);
}

static void entry_free(entry *e)
{
	trace_close(e->dec);
	for (int i = 0; i < e->nchunks; i++)
		free(e->chunks[i]);
	free(e->chunks);
	while (e->hashes) {
		hblock *n = e->hashes->next;
		free(e->hashes);
		e->hashes = n;
	}
	for (int i = 0; i < e->ncats; i++)
		free(e->cats[i]);
	free(e->cats);
	free(e->note);
	free(e->path);
	free(e);
}

/* Copy the decoder's new category names and its time note (under the lock). */
static int sync_meta(entry *e)
{
	int n = trace_category_count(e->dec);
	const char *note;

	if (n > e->capcats) {
		int cap = n > 2 * e->capcats ? n : 2 * e->capcats;
		char **p = realloc(e->cats, (size_t)cap * sizeof *p);
		if (!p)
			return -1;
		e->cats = p;
		e->capcats = cap;
	}
	for (; e->ncats < n; e->ncats++)
		if (!(e->cats[e->ncats] = strdup(trace_category_name(e->dec, e->ncats))))
			return -1;
	if (!e->note && (note = trace_time_note(e->dec)) && !(e->note = strdup(note)))
		return -1;
	return 0;
}

/* A stable copy of n hash ids (under the lock); NULL on out of memory. */
static const uint64_t *keep_hashes(entry *e, const uint64_t *h, int32_t n)
{
	hblock *b = e->hashes;
	uint64_t *dst;

	if ((size_t)n > HASH_BLOCK)
		return NULL;
	if (!b || b->used + (size_t)n > HASH_BLOCK) {
		if (used + sizeof *b > budget)
			return NULL;
		if (!(b = malloc(sizeof *b)))
			return NULL;
		b->used = 0;
		b->next = e->hashes;
		e->hashes = b;
		used += sizeof *b;
	}
	dst = b->h + b->used;
	memcpy(dst, h, (size_t)n * sizeof *h);
	b->used += (size_t)n;
	return dst;
}

/* Decode up to one chunk more (under the lock).  Sets done / failed / overflow as the
 * decoder ends; never fails itself (out of memory counts as over budget). */
static void decode_more(entry *e)
{
	chunk *c = e->nchunks ? e->chunks[e->nchunks - 1] : NULL;
	fs_err err = {0};

	if (!c || c->n == CHUNK_ROWS) {
		if (used + sizeof *c > budget)
			goto over;
		if (e->nchunks == e->capchunks) {
			int cap = e->capchunks ? 2 * e->capchunks : 16;
			chunk **p = realloc(e->chunks, (size_t)cap * sizeof *p);
			if (!p)
				goto over;
			e->chunks = p;
			e->capchunks = cap;
		}
		if (!(c = malloc(sizeof *c)))
			goto over;
		c->n = 0;
		e->chunks[e->nchunks++] = c;
		used += sizeof *c;
	}
	while (c->n < CHUNK_ROWS) {
		trace_req q;
		int rc = trace_next(e->dec, &q, &err);
		if (rc < 0) {
			e->failed = 1;
			e->ferr = err;
		} else if (rc == 0) {
			e->done = 1;
			e->final_bad = trace_bad_rows(e->dec);
		}
		if (sync_meta(e))
			goto over;
		if (rc <= 0) {
			trace_close(e->dec);
			e->dec = NULL;
			return;
		}
		if (q.n_hashes > 0 && !(q.hashes = keep_hashes(e, q.hashes, q.n_hashes)))
			goto over; /* this row is not kept: readers stream from it on */
		c->rows[c->n] = q;
		c->bad_after[c->n] = trace_bad_rows(e->dec);
		c->n++;
		e->nrows++;
	}
	return;
over:
	e->overflow = 1;
	trace_close(e->dec);
	e->dec = NULL;
}

static int stream_from(creader *r, fs_err *err)
{
	trace_req q;

	if (trace_open_file(r->e->path, &r->e->o, &r->stream, err))
		return -1;
	/* The rows already served, read again and dropped (same file, same order). */
	for (int64_t i = 0; i < r->pos; i++)
		if (trace_next(r->stream, &q, err) != 1)
			return fs_fail(err, FS_EXIT_RUNTIME, "%s: the trace changed while it was being replayed",
				       r->e->path);
	return 0;
}

static int cr_next(trace_reader *base, trace_req *out, fs_err *err)
{
	creader *r = (creader *)base;
	entry *e = r->e;
	int rc = 0;

	if (r->stream)
		return trace_next(r->stream, out, err);
	if (r->cur && r->pos < r->cur_first + r->cur_n) {
		int i = (int)(r->pos - r->cur_first);
		*out = r->cur->rows[i];
		r->bad = r->cur->bad_after[i];
		r->pos++;
		return 1;
	}
	pthread_mutex_lock(&lock);
	while (r->pos >= e->nrows && e->dec)
		decode_more(e);
	for (int i = base->n_cats; i < e->ncats; i++) {
		int idx;
		if (trace_cat_intern(base, e->cats[i], strlen(e->cats[i]), &idx, err)) {
			rc = -1;
			goto out;
		}
	}
	if (r->pos < e->nrows) {
		int64_t k = r->pos / CHUNK_ROWS;
		r->cur = e->chunks[k];
		r->cur_first = k * CHUNK_ROWS;
		r->cur_n = r->cur->n;
		*out = r->cur->rows[r->pos - r->cur_first];
		r->bad = r->cur->bad_after[r->pos - r->cur_first];
		r->pos++;
		rc = 1;
	} else if (e->done) {
		r->bad = e->final_bad;
		rc = 0;
	} else if (e->failed) {
		*err = e->ferr;
		rc = -1;
	} else {
		rc = 2; /* over budget: stream */
	}
out:
	pthread_mutex_unlock(&lock);
	if (rc == 2)
		return stream_from(r, err) ? -1 : trace_next(r->stream, out, err);
	return rc;
}

static const char *cr_cat_name(const trace_reader *base, int idx)
{
	const creader *r = (const creader *)base;

	if (r->stream)
		return trace_category_name(r->stream, idx);
	return idx >= 0 && idx < base->n_cats ? base->cat_names[idx] : NULL;
}

static int cr_cat_count(const trace_reader *base)
{
	const creader *r = (const creader *)base;

	return r->stream ? trace_category_count(r->stream) : base->n_cats;
}

static int64_t cr_bad(const trace_reader *base)
{
	const creader *r = (const creader *)base;

	return r->stream ? trace_bad_rows(r->stream) : r->bad;
}

static const char *cr_note(const trace_reader *base)
{
	const creader *r = (const creader *)base;

	/* The note is set once the first row is decoded and never changes after. */
	return r->stream ? trace_time_note(r->stream) : r->pos > 0 ? r->e->note : NULL;
}

static void cr_destroy(trace_reader *base)
{
	trace_close(((creader *)base)->stream);
}

static const trace_ops cr_ops = {cr_next, cr_destroy, cr_cat_name, cr_cat_count, cr_bad, cr_note};

void tcache_enable(size_t max_bytes)
{
	const char *env = getenv("FLEETSIM_TRACE_CACHE_MB");

	/* The budget from the environment overrides the caller's (0 turns the cache off). */
	if (env && *env) {
		char *end;
		double mb = strtod(env, &end);
		if (*end == 0 && mb >= 0 && mb < 1e9)
			max_bytes = (size_t)(mb * 1024 * 1024);
	}
	pthread_mutex_lock(&lock);
	budget = max_bytes;
	pthread_mutex_unlock(&lock);
}

int tcache_enabled(void)
{
	int on;

	pthread_mutex_lock(&lock);
	on = budget > 0;
	pthread_mutex_unlock(&lock);
	return on;
}

int tcache_open(const char *path, const trace_open_opts *o, trace_reader **out, fs_err *err)
{
	trace_open_opts oo = o ? *o : trace_open_opts_default();
	struct stat st;
	entry *e;
	creader *r;

	if (!tcache_enabled() || stat(path, &st) || !S_ISREG(st.st_mode))
		return trace_open_file(path, &oo, out, err);
	pthread_mutex_lock(&lock);
	for (e = entries; e; e = e->next)
		if (!strcmp(e->path, path) && e->dev == st.st_dev && e->ino == st.st_ino && e->size == st.st_size &&
		    e->mtime.tv_sec == st.st_mtim.tv_sec && e->mtime.tv_nsec == st.st_mtim.tv_nsec &&
		    same_opts(&e->o, &oo))
			break;
	if (!e) {
		trace_reader *dec = NULL;
		/* Open errors (missing file, bad header) are the caller's, as without the cache. */
		if (trace_open_file(path, &oo, &dec, err)) {
			pthread_mutex_unlock(&lock);
			return -1;
		}
		if (!(e = calloc(1, sizeof *e)) || !(e->path = strdup(path))) {
			free(e);
			trace_close(dec);
			pthread_mutex_unlock(&lock);
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		}
		e->o = oo;
		e->dev = st.st_dev;
		e->ino = st.st_ino;
		e->size = st.st_size;
		e->mtime = st.st_mtim;
		e->dec = dec;
		e->format = trace_reader_format(dec);
		e->next = entries;
		entries = e;
	}
	pthread_mutex_unlock(&lock);
	if (!(r = (creader *)trace_alloc(sizeof *r, &cr_ops)))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	r->e = e;
	r->base.format = e->format;
	*out = &r->base;
	return 0;
}

void tcache_clear(void)
{
	pthread_mutex_lock(&lock);
	while (entries) {
		entry *n = entries->next;
		entry_free(entries);
		entries = n;
	}
	used = 0;
	budget = 0;
	pthread_mutex_unlock(&lock);
}

void tcache_stats(int *files, size_t *bytes)
{
	int n = 0;

	pthread_mutex_lock(&lock);
	for (entry *e = entries; e; e = e->next)
		n++;
	*files = n;
	*bytes = used;
	pthread_mutex_unlock(&lock);
}
