/* CUnit suite for reports/results.c: the run record built from a real runner result,
 * the borrowed -> owned copy, and the one writer (one `runs` row, pool_metrics for
 * the fleet and each pool, the point merged into params). */
#include <CUnit/CUnit.h>
#include <sqlite3.h>
#include <string.h>

#include "reports/db.h"
#include "reports/results.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"
#include "tutil.h"

static void test_record(void)
{
	scenario *sc = NULL;
	runner_opts ro = {.with_requests = 1};
	runner_result r;
	results_record rec, plain;
	fs_err err = {0};
	db *d = NULL;
	char path[4096];
	int64_t id = 0, n = 0;
	double x = 0;
	size_t nreq;

	CU_ASSERT_EQUAL_FATAL(scenario_load(FS_SOURCE_DIR "/tests/data/scenarios/light.yaml", NULL, 0, &sc, &err), 0);
	CU_ASSERT_EQUAL_FATAL(runner_run_policy(sc, 0, &ro, &r, &err), 0);
	CU_ASSERT_EQUAL_FATAL(results_record_init(sc, &r, "{\"k\":1}", 1, &rec, &err), 0);
	CU_ASSERT_STRING_EQUAL(rec.scenario, sc->name);
	CU_ASSERT_STRING_EQUAL(rec.policy, sc->policies[0].name);
	CU_ASSERT_EQUAL(rec.npools, sc->policies[0].npools);
	CU_ASSERT_STRING_EQUAL(rec.pool_names[0], sc->policies[0].pools[0].name);
	CU_ASSERT_EQUAL(rec.rows[0].requests, r.fleet.requests);
	CU_ASSERT_PTR_NOT_NULL(strstr(rec.params_json, "\"point\":{\"k\":1}"));
	/* Borrowed until owned: then the same rows at a new address. */
	CU_ASSERT_PTR_EQUAL(rec.req, metrics_requests(r.m, &nreq));
	CU_ASSERT_EQUAL(rec.nreq, nreq);
	CU_ASSERT_EQUAL_FATAL(results_record_own(&rec, &err), 0);
	CU_ASSERT_PTR_NOT_EQUAL(rec.req, metrics_requests(r.m, &nreq));
	CU_ASSERT_EQUAL(memcmp(rec.req, metrics_requests(r.m, &nreq), nreq * sizeof *rec.req), 0);
	/* Without requests and without a point. */
	CU_ASSERT_EQUAL_FATAL(results_record_init(sc, &r, NULL, 0, &plain, &err), 0);
	CU_ASSERT_EQUAL(plain.nreq, 0);
	CU_ASSERT_PTR_NULL(strstr(plain.params_json, "\"point\""));
	{
		results_record bad;
		CU_ASSERT_EQUAL(results_record_init(sc, &r, "{not json", 0, &bad, &err), -1);
	}

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "rec.db"), 0);
	CU_ASSERT_EQUAL_FATAL(db_open(path, &d, &err), 0);
	runner_result_free(&r); /* the owned record no longer needs it */
	CU_ASSERT_EQUAL(results_record_write(d, &rec, 0, 0, &id, &err), 0);
	CU_ASSERT_EQUAL(id, 1);
	CU_ASSERT_EQUAL(db_query_int64(d, "SELECT count(*) FROM pool_metrics WHERE run_id = 1", &n, &err), 0);
	CU_ASSERT_EQUAL(n, rec.npools + 1);
	CU_ASSERT_EQUAL(db_query_int64(d, "SELECT count(*) FROM requests WHERE run_id = 1", &n, &err), 0);
	CU_ASSERT_EQUAL(n, (int64_t)rec.nreq);
	CU_ASSERT_EQUAL(db_query_double(d, "SELECT json_extract(params, '$.point.k') FROM runs", &x, &err), 0);
	CU_ASSERT_EQUAL(x, 1);
	CU_ASSERT_EQUAL(db_query_int64(d, "SELECT count(*) FROM runs WHERE sweep_id IS NULL", &n, &err), 0);
	CU_ASSERT_EQUAL(n, 1);
	db_close(d);
	results_record_free(&rec);
	results_record_free(&plain);
	results_record_free(NULL);
	scenario_free(sc);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("results", NULL, NULL);
	if (!s || !CU_add_test(s, "run record", test_record))
		return -1;
	return 0;
}
