/* fuzz_set.c - `--set KEY=VALUE` overrides: each input line is one assignment applied
 * to a real scenario (tests/data/scenarios/light.yaml), then the scenario validated. */
#include "fuzz_common.h"
#include "scenarios/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *sets[8], *save = NULL;
	int nsets = 0;
	scenario *sc = NULL;
	fs_err e = {0};
	int rc;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *s = strtok_r(buf, "\n", &save); s && nsets < 8; s = strtok_r(NULL, "\n", &save))
		sets[nsets++] = s;
	rc = scenario_load(FS_SOURCE_DIR "/tests/data/scenarios/light.yaml",
			   (const char *const *)sets, nsets, &sc, &e);
	fuzz_check_err(rc, &e);
	scenario_free(sc);
	free(buf);
	return 0;
}
