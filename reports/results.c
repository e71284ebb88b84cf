#include "reports/results.h"

#include <cJSON.h>
#include <stdlib.h>

#include "version.h"

int results_write_run(db *d, const scenario *sc, const runner_result *r,
		      const results_opts *o, int64_t *run_id, fs_err *err)
{
	const policy_cfg *pc = &sc->policies[r->policy];
	metrics_summary rows[FS_MAX_POOLS + 1];
	const char *names[FS_MAX_POOLS + 1];
	const mx_sample *ts;
	const mx_request *rq;
	size_t nts, nrq;
	char *params = scenario_policy_json(sc, r->policy);
	db_run_info info = {0};
	int rc;

	if (!params)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	if (o->extra_params_json) {
		cJSON *p = cJSON_Parse(params), *x = cJSON_Parse(o->extra_params_json);
		free(params);
		params = NULL;
		if (p && x) {
			cJSON_AddItemToObject(p, "point", x);
			x = NULL;
			params = cJSON_PrintUnformatted(p);
		}
		cJSON_Delete(p);
		cJSON_Delete(x);
		if (!params)
			return fs_fail(err, FS_EXIT_RUNTIME, "cannot merge sweep parameters into the run's JSON");
	}
	rows[0] = r->fleet;
	for (int p = 0; p < pc->npools; p++) {
		rows[p + 1] = r->pools[p];
		names[p] = pc->pools[p].name;
	}
	names[pc->npools] = NULL;
	ts = metrics_samples(r->m, &nts);
	rq = metrics_requests(r->m, &nrq);
	info.scenario = sc->name;
	info.policy = pc->name;
	info.params_json = params;
	info.seed = sc->seed;
	info.started_at = o->started_at;
	info.wall_seconds = r->wall_s;
	info.version = FLEETSIM_VERSION;
	info.sweep_id = o->sweep_id;
	rc = db_write_run(d, &info, rows, pc->npools + 1, names, ts, nts, rq,
			  o->with_requests ? nrq : 0, run_id, err);
	free(params);
	return rc;
}
