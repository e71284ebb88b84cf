#include "util/err.h"

#include <stdio.h>
#include <string.h>

/* Messages quote user input (a YAML scalar, a --set value, a trace field); control
 * characters in it would split the one-line "fleetsim: FILE:LINE: msg" report, so
 * they are shown as '?'. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

int fs_vfail(fs_err *e, int status, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->status = status;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	one_line(e->msg);
	return -1;
}

int fs_fail(fs_err *e, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fs_vfail(e, status, fmt, ap);
	va_end(ap);
	return -1;
}

int fs_failp(fs_err *e, const char *fmt, ...)
{
	char prefix[512], old[sizeof e->msg];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	{
		size_t pl = strlen(prefix), ol = strlen(old);
		if (pl >= sizeof e->msg)
			pl = sizeof e->msg - 1;
		if (pl + ol >= sizeof e->msg)
			ol = sizeof e->msg - 1 - pl;
		memcpy(e->msg, prefix, pl);
		memcpy(e->msg + pl, old, ol);
		e->msg[pl + ol] = '\0';
	}
	one_line(e->msg);
	if (!e->status)
		e->status = FS_EXIT_RUNTIME;
	return -1;
}

void fs_err_clear(fs_err *e)
{
	if (e) {
		e->status = 0;
		e->msg[0] = '\0';
	}
}
