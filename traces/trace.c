/* trace.c - the trace_reader dispatch and the shared category table. */
#include "traces/trace_impl.h"

#include <stdlib.h>
#include <string.h>

trace_reader *trace_alloc(size_t size, const trace_ops *ops)
{
	trace_reader *r = calloc(1, size);

	if (!r)
		return NULL;
	r->ops = ops;
	r->format = TRACE_FMT_AUTO;
	r->last_cat = -1;
	return r;
}

int trace_next(trace_reader *r, trace_req *out, fs_err *err)
{
	return r->ops->next(r, out, err);
}

const char *trace_category_name(const trace_reader *r, int idx)
{
	if (!r)
		return NULL;
	if (r->ops->category_name)
		return r->ops->category_name(r, idx);
	if (idx < 0 || idx >= r->n_cats)
		return NULL;
	return r->cat_names[idx];
}

int trace_category_count(const trace_reader *r)
{
	if (!r)
		return 0;
	if (r->ops->category_count)
		return r->ops->category_count(r);
	return r->n_cats;
}

int64_t trace_bad_rows(const trace_reader *r)
{
	if (!r)
		return 0;
	if (r->ops->bad_rows)
		return r->ops->bad_rows(r);
	return r->bad_rows;
}

void trace_close(trace_reader *r)
{
	if (!r)
		return;
	if (r->ops->destroy)
		r->ops->destroy(r);
	for (int i = 0; i < r->n_cats; i++)
		free(r->cat_names[i]);
	free(r->cat_names);
	free(r);
}

const char *trace_time_note(const trace_reader *r)
{
	return r && r->ops->time_note ? r->ops->time_note(r) : NULL;
}

trace_format trace_reader_format(const trace_reader *r)
{
	return r ? r->format : TRACE_FMT_AUTO;
}

int trace_cat_intern(trace_reader *r, const char *name, size_t len, int *idx, fs_err *err)
{
	char *copy;

	if (r->last_cat >= 0 && strlen(r->cat_names[r->last_cat]) == len &&
	    !memcmp(r->cat_names[r->last_cat], name, len)) {
		*idx = r->last_cat;
		return 0;
	}
	for (int i = 0; i < r->n_cats; i++)
		if (strlen(r->cat_names[i]) == len && !memcmp(r->cat_names[i], name, len)) {
			*idx = r->last_cat = i;
			return 0;
		}
	if (r->n_cats >= TRACE_MAX_CATEGORIES)
		return fs_fail(err, FS_EXIT_INPUT, "more than %d distinct categories",
			       TRACE_MAX_CATEGORIES);
	if (r->n_cats == r->cap_cats) {
		int cap = r->cap_cats ? 2 * r->cap_cats : 8;
		char **p = realloc(r->cat_names, (size_t)cap * sizeof *p);

		if (!p)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		r->cat_names = p;
		r->cap_cats = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	memcpy(copy, name, len);
	copy[len] = '\0';
	r->cat_names[r->n_cats] = copy;
	*idx = r->last_cat = r->n_cats++;
	return 0;
}
