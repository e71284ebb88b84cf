#include "reports/results.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* policy_json with point_json added as "point".  Returns a malloc'd string (caller
 * frees), or NULL when either is not JSON or memory runs out. */
static char *merge_point(const char *policy_json, const char *point_json)
{
	cJSON *p = cJSON_Parse(policy_json), *x = cJSON_Parse(point_json);
	char *s = NULL;

	if (p && x) {
		cJSON_AddItemToObject(p, "point", x);
		x = NULL;
		s = cJSON_PrintUnformatted(p);
	}
	cJSON_Delete(p);
	cJSON_Delete(x);
	return s;
}

int results_record_init(const scenario *sc, const runner_result *r, const char *point_json,
			int with_requests, results_record *out, fs_err *err)
{
	const policy_cfg *pc = &sc->policies[r->policy];
	char *pj;

	memset(out, 0, sizeof *out);
	if (!(pj = scenario_policy_json(sc, r->policy)))
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	if (point_json) {
		out->params_json = merge_point(pj, point_json);
		free(pj);
		if (!out->params_json)
			return fs_fail(err, FS_EXIT_RUNTIME, "cannot merge sweep parameters into the run's JSON");
	} else {
		out->params_json = pj;
	}
	snprintf(out->scenario, sizeof out->scenario, "%s", sc->name);
	snprintf(out->policy, sizeof out->policy, "%s", pc->name);
	out->seed = sc->seed;
	out->npools = pc->npools;
	out->rows[0] = r->fleet;
	for (int p = 0; p < pc->npools; p++) {
		out->rows[p + 1] = r->pools[p];
		snprintf(out->pool_names[p], sizeof out->pool_names[p], "%s", pc->pools[p].name);
	}
	out->ts = metrics_samples(r->m, &out->nts);
	out->req = metrics_requests(r->m, &out->nreq);
	if (!with_requests) {
		out->req = NULL;
		out->nreq = 0;
	}
	out->wall_s = r->wall_s;
	/* Categories: copied (names live in the collector, which a sweep frees first). */
	out->ncats = metrics_category_count(r->m);
	if (out->ncats > 0) {
		if (!(out->cat_names = calloc((size_t)out->ncats, sizeof *out->cat_names)))
			goto oom;
		for (int c = 0; c < out->ncats; c++)
			if (!(out->cat_names[c] = strdup(metrics_category_name(r->m, c))))
				goto oom;
	}
	if (r->ncats > 0) {
		if (!(out->cat_rows = malloc((size_t)r->ncats * sizeof *out->cat_rows)))
			goto oom;
		memcpy(out->cat_rows, r->cats, (size_t)r->ncats * sizeof *out->cat_rows);
		out->ncat_rows = r->ncats;
	}
	return 0;
oom:
	results_record_free(out);
	return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
}

int results_record_own(results_record *rec, fs_err *err)
{
	mx_sample *ts = malloc((rec->nts + 1) * sizeof *ts);
	mx_request *rq = malloc((rec->nreq + 1) * sizeof *rq);

	if (!ts || !rq)
		goto fail;
	if (rec->nts)
		memcpy(ts, rec->ts, rec->nts * sizeof *ts);
	if (rec->nreq)
		memcpy(rq, rec->req, rec->nreq * sizeof *rq);
	free(rec->own_ts);
	free(rec->own_req);
	rec->ts = rec->own_ts = ts;
	rec->req = rec->own_req = rq;
	return 0;
fail:
	free(ts);
	free(rq);
	return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
}

void results_record_free(results_record *rec)
{
	if (!rec)
		return;
	free(rec->params_json);
	free(rec->own_ts);
	free(rec->own_req);
	for (int c = 0; c < rec->ncats && rec->cat_names; c++)
		free(rec->cat_names[c]);
	free(rec->cat_names);
	free(rec->cat_rows);
	rec->cat_names = NULL;
	rec->cat_rows = NULL;
	rec->ncats = rec->ncat_rows = 0;
	rec->params_json = NULL;
	rec->own_ts = NULL;
	rec->own_req = NULL;
	rec->ts = NULL;
	rec->req = NULL;
	rec->nts = rec->nreq = 0;
}

int results_record_write(db *d, const results_record *rec, time_t started_at, int64_t sweep_id,
			 int64_t *run_id, fs_err *err)
{
	const char *names[FS_MAX_POOLS + 1];
	db_run_info info = {0};

	for (int p = 0; p < rec->npools; p++)
		names[p] = rec->pool_names[p];
	names[rec->npools] = NULL;
	info.scenario = rec->scenario;
	info.policy = rec->policy;
	info.params_json = rec->params_json;
	info.seed = rec->seed;
	info.started_at = started_at;
	info.wall_seconds = rec->wall_s;
	info.sweep_id = sweep_id;
	info.category_names = (const char *const *)rec->cat_names;
	info.ncategories = rec->ncats;
	info.category_rows = rec->cat_rows;
	info.ncategory_rows = rec->ncat_rows;
	return db_write_run(d, &info, rec->rows, rec->npools + 1, names, rec->ts, rec->nts, rec->req,
			    rec->nreq, run_id, err);
}

int results_write_run(db *d, const scenario *sc, const runner_result *r,
		      const results_opts *o, int64_t *run_id, fs_err *err)
{
	results_record rec;
	int rc;

	if (results_record_init(sc, r, o->extra_params_json, o->with_requests, &rec, err))
		return -1;
	rc = results_record_write(d, &rec, o->started_at, o->sweep_id, run_id, err);
	results_record_free(&rec);
	return rc;
}
