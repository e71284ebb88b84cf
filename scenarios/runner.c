#include "scenarios/runner.h"

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
	out->wall_s = now_s() - t0;
	if (fleet_summarize(pc, &out->res, out->m, &sc->slo, -1, &out->fleet, err))
		goto fail;
	for (int p = 0; p < pc->npools; p++)
		if (fleet_summarize(pc, &out->res, out->m, &sc->slo, p, &out->pools[p], err))
			goto fail;
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
}
