/* fuzz_calib.c - calibration measurements CSV (Splitwise layout). */
#include "fuzz_common.h"
#include "models/calib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	calib_row *rows = NULL;
	size_t n = 0;
	fs_err e = {0};
	const char *p = fuzz_file("calib.csv", data, size);
	int rc = calib_read_csv(p, "llama-2-70b", "a100", NULL, 4, &rows, &n, &e);

	fuzz_check_err(rc, &e);
	if (!rc && n && !rows)
		abort();
	free(rows);
	return 0;
}
