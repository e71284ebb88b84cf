/* fuzz_param.c - `fleetsim sweep --param KEY=SPEC` values: each input line is one axis
 * ("key=v1,v2", "key=A:B:xF", "key=A:B:+D"); the grid is then expanded point by point
 * as a sweep would, bounded so a huge product is refused rather than walked. */
#include "fuzz_common.h"
#include "reports/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *save = NULL, *pbuf = NULL;
	const char *sets[SWEEP_MAX_PARAMS];
	sweep_grid g;
	fs_err e = {0};
	int rc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	memset(&g, 0, sizeof g);
	g.npoints = 1;
	for (char *s = strtok_r(buf, "\n", &save); s && rc == 0; s = strtok_r(NULL, "\n", &save)) {
		rc = sweep_grid_add(&g, s, &e);
		fuzz_check_err(rc, &e);
	}
	/* Walk at most the first and last few points: expansion must stay in range. */
	for (int64_t i = 0; rc == 0 && i < g.npoints && i < 64; i++) {
		int64_t idx = i < 32 ? i : g.npoints - 1 - (i - 32);
		if (idx < 0)
			break;
		if (sweep_point_sets(&g, idx, sets, &pbuf) != 0)
			abort(); /* every index below npoints must expand */
		free(pbuf);
		pbuf = NULL;
	}
	sweep_grid_free(&g);
	free(buf);
	return 0;
}
