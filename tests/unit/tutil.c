/* tutil.c - one private temporary directory per test process; see tutil.h. */
#define _XOPEN_SOURCE 700 /* nftw(3) and its FTW_* flags */

#include "tutil.h"

#include <CUnit/CUnit.h>
#include <ftw.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[4096];
/* Only the creating process removes the directory: a forked child that calls exit()
 * must not delete it from under its parent. */
static pid_t owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* Keep going past one failure so that as much as possible is removed. */
	if (remove(path) != 0)
		perror(path);
	return 0;
}

static void remove_dir(void)
{
	const char *keep = getenv("FS_KEEP_TMP");

	if (!dir[0] || getpid() != owner)
		return;
	if (keep && strcmp(keep, "1") == 0) {
		fprintf(stderr, "tutil: FS_KEEP_TMP=1, kept %s\n", dir);
		return;
	}
	/* Depth first, so each directory is empty when it is removed; physical, so a
	 * symlink a test made is removed, never followed. */
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		perror(dir);
}

/* Directory names carry the suite's name with anything unusual replaced by '_'. */
static void suite_name(char *out, size_t n)
{
	CU_pSuite s = CU_get_current_suite();
	const char *name = s && s->pName && s->pName[0] ? s->pName : "unit";
	size_t i;

	for (i = 0; name[i] && i + 1 < n; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

const char *tu_dir(void)
{
	const char *base = getenv("TMPDIR");
	char name[48];
	int len;

	if (dir[0])
		return dir;
	if (!base || !base[0])
		base = "/tmp";
	suite_name(name, sizeof name);
	len = snprintf(dir, sizeof dir, "%s/fs_test_%s_XXXXXX", base, name);
	if (len < 0 || (size_t)len >= sizeof dir || !mkdtemp(dir)) {
		dir[0] = '\0';
		return NULL;
	}
	owner = getpid();
	if (atexit(remove_dir) != 0) {
		rmdir(dir);
		dir[0] = '\0';
		return NULL;
	}
	return dir;
}

int tu_path(char *buf, size_t n, const char *name)
{
	const char *d = tu_dir();
	int len;

	if (!d)
		return -1;
	len = snprintf(buf, n, "%s/%s", d, name);
	return len < 0 || (size_t)len >= n ? -1 : 0;
}

int tu_write(const char *name, const char *text, char *path_out, size_t n)
{
	char path[sizeof dir + 256];
	FILE *f;
	int ok;

	if (tu_path(path, sizeof path, name))
		return -1;
	if (path_out && snprintf(path_out, n, "%s", path) >= (int)n)
		return -1;
	if (!(f = fopen(path, "w")))
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int tu_mkdir(const char *name, char *path_out, size_t n)
{
	char path[sizeof dir + 256];

	if (tu_path(path, sizeof path, name))
		return -1;
	if (path_out && snprintf(path_out, n, "%s", path) >= (int)n)
		return -1;
	return mkdir(path, 0700) == 0 ? 0 : -1;
}

const char *tu_file(const char *name, const char *text)
{
	static char paths[8][sizeof dir + 256];
	static unsigned next;
	char *p = paths[next++ % 8];

	return tu_write(name, text, p, sizeof paths[0]) == 0 ? p : NULL;
}

int tu_suite_init(void)
{
	return tu_dir() ? 0 : -1;
}

int tu_yaml_docs(const char *path, struct fy_document **docs, int cap)
{
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
	struct fy_parser *p = fy_parser_create(&cfg);
	struct fy_document *d;
	int n = 0;

	if (!p || fy_parser_set_input_file(p, path)) {
		fy_parser_destroy(p);
		return -1;
	}
	while (n < cap && (d = fy_parse_load_document(p)))
		docs[n++] = d;
	if (fy_parser_get_stream_error(p))
		n = -1;
	fy_parser_destroy(p);
	return n;
}
