/*
 * cu_main.c - shared main for the CUnit suites: each tests/unit/test_<module>.c
 * defines fs_test_register() adding its suite; exit status is non-zero on any failure.
 */
#include <CUnit/Basic.h>
#include <stdio.h>

int fs_test_register(void);

int main(void)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (fs_test_register() != 0) {
		fprintf(stderr, "test registration failed: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_error() != CUE_SUCCESS)
		failed++;
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
