#include <limits.h>

#include "cli/cli.h"
#include "util/numparse.h"

int cli_parse_int(const char *s, int *out)
{
	int64_t v;

	if (np_i64(s, (size_t)-1, &v) || v < INT_MIN || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int cli_parse_double(const char *s, double *out)
{
	return np_double(s, (size_t)-1, out);
}
