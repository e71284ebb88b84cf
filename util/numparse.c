#include "util/numparse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copy the trimmed token into buf; -1 if empty or too long for any sane number. */
static int trim_copy(const char *s, size_t len, char *buf, size_t cap)
{
	if (len == (size_t)-1)
		len = strlen(s);
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || len >= cap || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int np_i64(const char *s, size_t len, int64_t *out)
{
	char buf[64], *end;
	long long v;

	if (trim_copy(s, len, buf, sizeof buf))
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end != '\0' || end == buf)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int np_double(const char *s, size_t len, double *out)
{
	char buf[128], *end;
	double v;

	if (trim_copy(s, len, buf, sizeof buf))
		return -1;
	/* strtod accepts hex floats, "inf" and "nan"; none is a sensible input here. */
	for (const char *p = buf; *p; p++)
		if (!strchr("0123456789+-.eE", *p))
			return -1;
	errno = 0;
	v = strtod(buf, &end);
	if (errno == ERANGE && fabs(v) > 1.0)
		return -1;
	if (*end != '\0' || end == buf || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int np_bool(const char *s, size_t len, int *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};
	char buf[16];

	if (trim_copy(s, len, buf, sizeof buf))
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(buf, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(buf, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}
