/* fuzz_gpu.c - GPU YAML files (the catalog's extension point). */
#include "fuzz_common.h"
#include "models/gpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gpu_spec g;
	fs_err e = {0};
	const char *p = fuzz_file("gpu.yaml", data, size);
	int rc = gpu_load_file(p, &g, &e);

	fuzz_check_err(rc, &e);
	if (!rc)
		(void)gpu_compute_flops(&g, PREC_BF16);
	return 0;
}
