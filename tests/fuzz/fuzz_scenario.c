/* fuzz_scenario.c - scenario YAML (with its workload section, inline synthetic specs,
 * pools, routers), then the first requests of its workload. */
#include "fuzz_common.h"
#include "scenarios/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scenario *sc = NULL;
	trace_reader *r = NULL;
	trace_req q;
	fs_err e = {0};
	const char *p = fuzz_file("scenario.yaml", data, size);
	int rc = scenario_load(p, NULL, 0, &sc, &e);

	fuzz_check_err(rc, &e);
	if (rc)
		return 0;
	fs_err_clear(&e);
	rc = workload_open(&sc->workload, sc->seed, &r, &e);
	fuzz_check_err(rc, &e);
	for (int i = 0; !rc && i < 1000; i++)
		if (trace_next(r, &q, &e) <= 0)
			break;
	trace_close(r);
	for (int i = 0; i < sc->npolicies; i++)
		free(scenario_policy_json(sc, i));
	scenario_free(sc);
	return 0;
}
