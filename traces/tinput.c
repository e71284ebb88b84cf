/* tinput.c - buffered, decompressing line input (see tinput.h). */
#include "traces/tinput.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { K_PLAIN, K_GZIP, K_ZSTD };
#define RAW_BYTES (256u << 10)

struct tin {
	int fd;
	int kind;
	char *path;
	/* compressed bytes read from fd (also the first bytes of a plain file) */
	unsigned char *raw;
	size_t raw_pos, raw_len;
	int raw_eof;
	z_stream zs;
	int zs_init, z_ended; /* z_ended: the last gzip member finished cleanly */
	ZSTD_DCtx *zd;
	size_t zret;          /* last ZSTD_decompressStream hint; 0 = frame complete */
	/* decompressed text */
	char *buf;            /* TIN_BUF_BYTES + 1 for the terminating NUL */
	size_t pos, len;
	int eof;
	int64_t lineno;
};

static int raw_fill(tin *t, fs_err *err)
{
	ssize_t n;

	if (t->raw_pos < t->raw_len || t->raw_eof)
		return 0;
	do
		n = read(t->fd, t->raw, RAW_BYTES);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: read error: %s", t->path, strerror(errno));
	t->raw_pos = 0;
	t->raw_len = (size_t)n;
	if (n == 0)
		t->raw_eof = 1;
	return 0;
}

/* Put up to cap decompressed bytes at dst; returns bytes (0 = end) or -1. */
static ssize_t fill(tin *t, char *dst, size_t cap, fs_err *err)
{
	if (t->kind == K_PLAIN) {
		ssize_t n;

		if (t->raw_pos < t->raw_len) {
			size_t k = t->raw_len - t->raw_pos;

			if (k > cap)
				k = cap;
			memcpy(dst, t->raw + t->raw_pos, k);
			t->raw_pos += k;
			return (ssize_t)k;
		}
		do
			n = read(t->fd, dst, cap);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return fs_fail(err, FS_EXIT_RUNTIME, "%s: read error: %s", t->path,
				       strerror(errno));
		return n;
	}
	for (;;) {
		size_t produced;

		if (raw_fill(t, err))
			return -1;
		if (t->raw_pos == t->raw_len) { /* compressed input exhausted */
			if (t->kind == K_GZIP && !t->z_ended)
				return fs_fail(err, FS_EXIT_INPUT, "%s: truncated gzip data", t->path);
			if (t->kind == K_ZSTD && t->zret != 0)
				return fs_fail(err, FS_EXIT_INPUT, "%s: truncated zstd data", t->path);
			return 0;
		}
		if (t->kind == K_GZIP) {
			int rc;

			if (t->z_ended) { /* another member follows (concatenated gzip) */
				inflateReset(&t->zs);
				t->z_ended = 0;
			}
			t->zs.next_in = t->raw + t->raw_pos;
			t->zs.avail_in = (uInt)(t->raw_len - t->raw_pos);
			t->zs.next_out = (Bytef *)dst;
			t->zs.avail_out = (uInt)cap;
			rc = inflate(&t->zs, Z_NO_FLUSH);
			if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
				return fs_fail(err, FS_EXIT_INPUT, "%s: corrupt gzip data (%s)", t->path,
					       t->zs.msg ? t->zs.msg : "inflate failed");
			if (rc == Z_STREAM_END)
				t->z_ended = 1;
			t->raw_pos = t->raw_len - t->zs.avail_in;
			produced = cap - t->zs.avail_out;
		} else {
			ZSTD_inBuffer in = {t->raw, t->raw_len, t->raw_pos};
			ZSTD_outBuffer out = {dst, cap, 0};

			t->zret = ZSTD_decompressStream(t->zd, &out, &in);
			if (ZSTD_isError(t->zret))
				return fs_fail(err, FS_EXIT_INPUT, "%s: corrupt zstd data (%s)", t->path,
					       ZSTD_getErrorName(t->zret));
			t->raw_pos = in.pos;
			produced = out.pos;
		}
		if (produced)
			return (ssize_t)produced;
	}
}

int tin_open(const char *path, tin **out, fs_err *err)
{
	struct stat st;
	tin *t = calloc(1, sizeof *t);

	if (!t)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	t->fd = -1;
	t->path = strdup(path);
	t->raw = malloc(RAW_BYTES);
	t->buf = malloc(TIN_BUF_BYTES + 1);
	if (!t->path || !t->raw || !t->buf) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	/* O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; only
	 * regular files are read, so the flag changes nothing after the check. */
	t->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(t->fd, &st) != 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: cannot stat: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		fs_fail(err, FS_EXIT_INPUT, "%s: is a directory", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file (a FIFO, socket or device); "
			"decompress or copy it to a file first", path);
		goto fail;
	}
	(void)fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) & ~O_NONBLOCK);
	/* Read until we have 4 bytes (or end) to look at the magic. */
	while (t->raw_len < 4 && !t->raw_eof) {
		ssize_t n = read(t->fd, t->raw + t->raw_len, RAW_BYTES - t->raw_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: read error: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			t->raw_eof = 1;
		t->raw_len += (size_t)n;
	}
	if (t->raw_len >= 2 && t->raw[0] == 0x1f && t->raw[1] == 0x8b) {
		t->kind = K_GZIP;
		if (inflateInit2(&t->zs, 15 + 32) != Z_OK) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot start gzip decoder", path);
			goto fail;
		}
		t->zs_init = 1;
	} else if (t->raw_len >= 4 && t->raw[0] == 0x28 && t->raw[1] == 0xb5 &&
		   t->raw[2] == 0x2f && t->raw[3] == 0xfd) {
		t->kind = K_ZSTD;
		t->zd = ZSTD_createDCtx();
		if (!t->zd) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot start zstd decoder", path);
			goto fail;
		}
		t->zret = 1;
	}
	*out = t;
	return 0;
fail:
	tin_close(t);
	return -1;
}

int tin_line(tin *t, char **line, size_t *len, fs_err *err)
{
	size_t scanned = t->pos;

	for (;;) {
		char *nl = memchr(t->buf + scanned, '\n', t->len - scanned);
		char *s = t->buf + t->pos;
		size_t l;
		ssize_t n;

		if (nl || (t->eof && t->pos < t->len)) {
			l = nl ? (size_t)(nl - s) : t->len - t->pos;
			t->pos = nl ? (size_t)(nl - t->buf) + 1 : t->len;
			if (l && s[l - 1] == '\r')
				l--;
			s[l] = '\0'; /* buf has one spare byte past TIN_BUF_BYTES */
			t->lineno++;
			/* A NUL would silently cut the line short for every parser. */
			if (memchr(s, '\0', l))
				return fs_fail(err, FS_EXIT_INPUT,
					       "%s:%lld: NUL byte in line; not a text trace (corrupt or binary file?)",
					       t->path, (long long)t->lineno);
			*line = s;
			*len = l;
			return 1;
		}
		if (t->eof)
			return 0;
		if (t->pos) {
			memmove(t->buf, t->buf + t->pos, t->len - t->pos);
			t->len -= t->pos;
			t->pos = 0;
		}
		scanned = t->len;
		if (t->len == TIN_BUF_BYTES)
			return fs_fail(err, FS_EXIT_INPUT, "%s:%lld: line longer than %u bytes",
				       t->path, (long long)t->lineno + 1, TIN_BUF_BYTES);
		n = fill(t, t->buf + t->len, TIN_BUF_BYTES - t->len, err);
		if (n < 0)
			return -1;
		if (n == 0)
			t->eof = 1;
		t->len += (size_t)n;
	}
}

int64_t tin_lineno(const tin *t)
{
	return t->lineno;
}

const char *tin_kind(const tin *t)
{
	return t->kind == K_GZIP ? "gzip" : t->kind == K_ZSTD ? "zstd" : "plain";
}

void tin_close(tin *t)
{
	if (!t)
		return;
	if (t->zs_init)
		inflateEnd(&t->zs);
	if (t->zd)
		ZSTD_freeDCtx(t->zd);
	if (t->fd >= 0)
		close(t->fd);
	free(t->raw);
	free(t->buf);
	free(t->path);
	free(t);
}
