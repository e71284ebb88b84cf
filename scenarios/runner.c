#include "scenarios/runner.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "traces/workload.h"
#include "util/simtime.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Hand the workload's category names to the collector (per-category summaries and
 * per-class SLOs, sim/metrics.h); a category class naming none of them is an input
 * error at its FILE:LINE:COL. */
static int set_categories(const scenario *sc, trace_reader *tr, metrics *m, fs_err *err)
{
	const mx_slo_detail *d = &sc->slo_detail;
	int n = trace_category_count(tr), rc;
	const char **names;

	names = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
	if (!names)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int i = 0; i < n; i++)
		names[i] = trace_category_name(tr, i);
	rc = metrics_set_categories(m, names, n);
	free(names);
	if (rc)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int k = 0; k < d->nclasses; k++) {
		const mx_slo_class *c = &d->classes[k];

		if (c->kind != MX_CLASS_CATEGORY || metrics_category_index(m, c->category) >= 0)
			continue;
		if (c->line > 0)
			return fs_fail(err, FS_EXIT_INPUT, "%s:%d:%d: slo class '%s': the workload has no category '%s'",
				       sc->path, c->line, c->col, c->name, c->category);
		return fs_fail(err, FS_EXIT_INPUT, "%s: slo class '%s': the workload has no category '%s'", sc->path,
			       c->name, c->category);
	}
	return 0;
}

int runner_run_policy(const scenario *sc, int i, const runner_opts *o, runner_result *out,
		      fs_err *err)
{
	const policy_cfg *pc = &sc->policies[i];
	trace_reader *tr = NULL;
	fleet_opts fo = {
		.drain = sc->drain,
		.metrics_interval = 0,
		.record_requests = o->with_requests,
		.seed = sc->seed,
		.check_invariants = o->check_invariants,
		.reference = o->reference,
		.progress = o->progress,
		.progress_ctx = o->progress_ctx,
	};
	double t0 = now_s();

	memset(out, 0, sizeof *out);
	/* metrics_interval is validated to [1 ms, 1e6 s] at load: always representable. */
	if (st_from_s(sc->metrics_interval_s, &fo.metrics_interval))
		return fs_fail(err, FS_EXIT_INPUT, "%s: metrics_interval %g s out of range", sc->path,
			       sc->metrics_interval_s);
	out->policy = i;
	if (metrics_create_ex(o->with_requests, &out->m)) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	if (workload_open(&sc->workload, sc->seed, &tr, err))
		goto fail;
	if (fleet_run(pc, tr, &fo, out->m, &out->res, err)) {
		fs_failp(err, "%s: policy '%s': ", sc->path, pc->name);
		goto fail;
	}
	out->bad_rows = trace_bad_rows(tr);
	if (set_categories(sc, tr, out->m, err))
		goto fail;
	{
		const char *names[FS_MAX_POOLS];
		for (int p = 0; p < pc->npools && p < FS_MAX_POOLS; p++)
			names[p] = pc->pools[p].name;
		if (metrics_set_targets(out->m, &sc->slo_detail, names, pc->npools < FS_MAX_POOLS ? pc->npools : FS_MAX_POOLS)) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
	}
	out->wall_s = now_s() - t0;
	if (fleet_summarize(pc, &out->res, out->m, &sc->slo, -1, &out->fleet, err))
		goto fail;
	/* One pool is the fleet: its summary is the fleet's under the pool's name (the
	 * quantile selections over every request were a tenth of an overloaded run). */
	if (pc->npools == 1) {
		out->pools[0] = out->fleet;
		snprintf(out->pools[0].pool, sizeof out->pools[0].pool, "%s", pc->pools[0].name);
	}
	for (int p = 0; p < pc->npools && pc->npools > 1; p++)
		if (fleet_summarize(pc, &out->res, out->m, &sc->slo, p, &out->pools[p], err))
			goto fail;
	out->ncats = metrics_category_count(out->m);
	if (out->ncats > RUNNER_MAX_CATEGORIES)
		out->ncats = RUNNER_MAX_CATEGORIES;
	if (out->ncats > 0) {
		if (!(out->cats = calloc((size_t)out->ncats, sizeof *out->cats))) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
		for (int c = 0; c < out->ncats; c++) {
			out->cats[c].makespan_s = out->fleet.makespan_s;
			if (metrics_summarize_category(out->m, c, &sc->slo, &out->cats[c])) {
				fs_fail(err, FS_EXIT_RUNTIME, "out of memory summarising the run");
				goto fail;
			}
		}
	}
	trace_close(tr);
	return 0;
fail:
	trace_close(tr);
	runner_result_free(out);
	return -1;
}

void runner_result_free(runner_result *r)
{
	if (!r)
		return;
	metrics_destroy(r->m);
	r->m = NULL;
	free(r->cats);
	r->cats = NULL;
	r->ncats = 0;
}

int runner_slo_verdict(const scenario *sc, const runner_result *r, double max_preemptions_per_request,
		       mx_verdict *out)
{
	return mx_slo_verdict_ex(&sc->slo, &sc->slo_detail, sc->max_rejection_rate, max_preemptions_per_request,
				 r->m, &r->fleet, r->pools, sc->policies[r->policy].npools, out);
}
