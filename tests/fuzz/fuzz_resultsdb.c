/* fuzz_resultsdb.c - a results database as `fleetsim report` reads it (issue 15): the
 * input is written to a scratch file, opened read-only (reports/db.c
 * db_open_readonly) and reported (reports/report.c) into a scratch directory.  Beyond
 * "no crash, no leak, no UB": a failure has a one-line message and an exit status, a
 * failed report leaves its output directory absent, and the database file is never
 * changed by reading it. */
#include <dirent.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "reports/db.h"
#include "reports/report.h"

/* Remove dir and the files in it (a report has no subdirectories). */
static void rm_flat(const char *dir)
{
	DIR *dd = opendir(dir);
	struct dirent *de;
	char p[600];

	while (dd && (de = readdir(dd)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
	if (dd)
		closedir(dd);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[300], side[320];
	db *d = NULL;
	fs_err e = {0};
	report_stats st;
	report_opts o = {0};
	struct stat sb;
	const char *p = fuzz_file("results.db", data, size);
	int rc;

	snprintf(out, sizeof out, "%s/report", fuzz_dir);
	o.out_dir = out;
	rc = db_open_readonly(p, &d, &e);
	if (!rc)
		rc = report_write(d, &o, &st, &e);
	fuzz_check_err(rc, &e);
	db_close(d);
	if (rc != 0 && stat(out, &sb) == 0)
		abort(); /* a half-written report */
	/* Reading never changes the file. */
	if (stat(p, &sb) != 0 || (size_t)sb.st_size != size)
		abort();
	rm_flat(out);
	/* A read-only reader of a WAL file may leave -wal and -shm beside it. */
	snprintf(side, sizeof side, "%s-wal", p);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", p);
	unlink(side);
	return 0;
}
