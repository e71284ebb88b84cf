/* fuzz_numparse.c - the strict number parsers every text format goes through, and
 * trace timestamps: no crash, no UB, and a value only for text that is a number. */
#include <math.h>

#include "fuzz_common.h"
#include "traces/trace.h"
#include "util/numparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t i;
	double d;
	int b;

	if (np_double(s, size, &d) == 0 && !isfinite(d))
		abort();
	(void)np_i64(s, size, &i);
	(void)np_bool(s, size, &b);
	(void)trace_parse_timestamp(s, size, &i);
	return 0;
}
