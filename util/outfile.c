#include "util/outfile.h"

#include <errno.h>
#include <string.h>

int of_open(const char *dir, const char *name, char *path, size_t cap, FILE **f, fs_err *err)
{
	*f = NULL;
	if ((size_t)snprintf(path, cap, "%s/%s", dir, name) >= cap)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: output directory path too long", dir);
	*f = fopen(path, "w");
	if (!*f)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot write: %s", path, strerror(errno));
	return 0;
}

int of_close(FILE *f, const char *path, fs_err *err)
{
	int bad = ferror(f);

	/* errno from the failed write or fclose; 0 prints as "Success" only if neither
	 * set it, which ferror without errno does not do on glibc. */
	if (fclose(f) != 0 || bad)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: write failed: %s", path, strerror(errno));
	return 0;
}
