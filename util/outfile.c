#include "util/outfile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int of_prepare_dir(const char *dir, fs_err *err)
{
	char buf[4096];
	struct stat sb;
	size_t len = dir ? strlen(dir) : 0;

	if (len == 0)
		return fs_fail(err, FS_EXIT_INPUT, "output directory is empty");
	if (len >= sizeof buf)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s...: output directory path too long", dir);
	memcpy(buf, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return fs_fail(err, FS_EXIT_INPUT, "%s: cannot create directory: %s", buf, strerror(errno));
		buf[i] = dir[i];
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a directory", dir);
	if (access(dir, W_OK | X_OK) != 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot write into it: %s", dir, strerror(errno));
	return 0;
}

int of_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}
