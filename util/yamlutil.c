#include "util/yamlutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/numparse.h"

/* Walk n as if every alias were replaced by its target, counting nodes; stop (and
 * fail) once the count passes YU_MAX_NODES or the depth passes YU_MAX_DEPTH, so the
 * walk itself is bounded even when the expansion is exponential or an alias points at
 * its own ancestor. */
static int walk_expanded(struct fy_node *n, unsigned depth, size_t *count)
{
	struct fy_node *t;
	void *it = NULL;

	if (!n)
		return 0;
	if (++*count > YU_MAX_NODES || depth > YU_MAX_DEPTH)
		return -1;
	if (fy_node_is_alias(n)) {
		t = fy_node_resolve_alias(n);
		return t ? walk_expanded(t, depth + 1, count) : 0;
	}
	switch (fy_node_get_type(n)) {
	case FYNT_SEQUENCE:
		for (struct fy_node *c; (c = fy_node_sequence_iterate(n, &it));)
			if (walk_expanded(c, depth + 1, count))
				return -1;
		return 0;
	case FYNT_MAPPING:
		for (struct fy_node_pair *p; (p = fy_node_mapping_iterate(n, &it));)
			if (walk_expanded(fy_node_pair_key(p), depth + 1, count) ||
			    walk_expanded(fy_node_pair_value(p), depth + 1, count))
				return -1;
		return 0;
	default:
		return 0;
	}
}

static int expansion_ok(const char *name, struct fy_document *doc, fs_err *err)
{
	size_t count = 0;

	if (walk_expanded(fy_document_root(doc), 0, &count))
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: YAML too large or too deeply nested once aliases are expanded "
			       "(limits: %u nodes, depth %u)", name, YU_MAX_NODES, YU_MAX_DEPTH);
	return 0;
}

/* Offset of the first byte of s[0..n) that is not part of well-formed UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF), or n.  libfyaml 0.7 can
 * loop forever on some malformed sequences, so input is checked before it sees it. */
static size_t utf8_bad_offset(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			min = 0x80;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			min = 0x800;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			min = 0x10000;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (n - i <= need)
			return i;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += need + 1;
	}
	return n;
}

/* Parse buf with errors collected rather than printed, so the command layer prints
 * them in our FILE:LINE:COL format.  If owned, buf was malloc()ed and the document
 * takes it (libfyaml keeps pointers into its input); it is freed on failure too. */
static int build_doc(const char *name, char *buf, size_t len, int owned,
		     struct fy_document **out, fs_err *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;
	struct fy_parse_cfg pcfg;
	struct fy_document *doc;
	struct fy_diag_error *de;
	void *it = NULL;
	int bad;
	size_t bad_at;

	bad_at = utf8_bad_offset((const unsigned char *)buf, len);
	if (bad_at < len) {
		int line = 1, col = 1;

		for (size_t i = 0; i < bad_at; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				col++;
			}
		}
		fs_fail(err, FS_EXIT_INPUT, "%s:%d:%d: not valid UTF-8 (byte 0x%02x); YAML files must be UTF-8",
			name, line, col, (unsigned char)buf[bad_at]);
		if (owned)
			free(buf);
		return -1;
	}
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		if (owned)
			free(buf);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory creating YAML parser", name);
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof pcfg);
	/* Not FYPCF_RESOLVE_DOCUMENT: aliases are resolved below, after bounding what
	 * their expansion would produce (a "billion laughs" file is a few hundred bytes). */
	pcfg.flags = FYPCF_QUIET;
	pcfg.diag = diag;
	doc = owned ? fy_document_build_from_malloc_string(&pcfg, buf, len)
		    : fy_document_build_from_string(&pcfg, buf, len);
	if (!doc || fy_diag_got_error(diag)) {
		/* libfyaml's collected line and column are already 1-based. */
		de = fy_diag_errors_iterate(diag, &it);
		if (de)
			fs_fail(err, FS_EXIT_INPUT, "%s:%d:%d: YAML syntax error: %s", name,
				de->line, de->column, de->msg ? de->msg : "invalid YAML");
		else
			fs_fail(err, FS_EXIT_INPUT, "%s: invalid YAML", name);
		/* A malloc()ed input belongs to libfyaml from the call on, even when the
		 * parse fails: its diagnostics still point into it, and it frees it. */
		if (doc)
			fy_document_destroy(doc);
		fy_diag_destroy(diag);
		return -1;
	}
	bad = expansion_ok(name, doc, err);
	if (!bad && (fy_document_resolve(doc) || fy_diag_got_error(diag))) {
		bad = -1;
		de = fy_diag_errors_iterate(diag, &it);
		if (de)
			fs_fail(err, FS_EXIT_INPUT, "%s:%d:%d: YAML error: %s", name, de->line,
				de->column, de->msg ? de->msg : "cannot resolve aliases");
		else
			fs_fail(err, FS_EXIT_INPUT, "%s: cannot resolve YAML aliases or merge keys", name);
	}
	if (bad) {
		fy_document_destroy(doc);
		fy_diag_destroy(diag);
		return -1;
	}
	fy_diag_destroy(diag);
	if (!fy_document_root(doc)) {
		fy_document_destroy(doc);
		return fs_fail(err, FS_EXIT_INPUT, "%s: empty YAML document", name);
	}
	*out = doc;
	return 0;
}

int yu_load_string(const char *name, const char *buf, size_t len,
		   struct fy_document **out, fs_err *err)
{
	return build_doc(name, (char *)buf, len, 0, out, err);
}

int yu_read_file(const char *path, char **text, size_t *len, fs_err *err)
{
	struct stat st;
	FILE *f;
	char *buf;
	size_t n;

	*text = NULL;
	*len = 0;
	if (stat(path, &st) != 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	if ((unsigned long long)st.st_size > YU_MAX_FILE_BYTES)
		return fs_fail(err, FS_EXIT_INPUT, "%s: file is %lld bytes, over the %u-byte limit for YAML",
			       path, (long long)st.st_size, YU_MAX_FILE_BYTES);
	if (!(f = fopen(path, "rb")))
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	/* Read to the end (not st_size bytes): the file may be rewritten meanwhile. */
	buf = malloc(YU_MAX_FILE_BYTES + 2);
	if (!buf) {
		fclose(f);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
	}
	n = fread(buf, 1, YU_MAX_FILE_BYTES + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return fs_fail(err, FS_EXIT_INPUT, "%s: read error", path);
	}
	fclose(f);
	if (n > YU_MAX_FILE_BYTES) {
		free(buf);
		return fs_fail(err, FS_EXIT_INPUT, "%s: over the %u-byte limit for YAML", path, YU_MAX_FILE_BYTES);
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return fs_fail(err, FS_EXIT_INPUT, "%s: contains a NUL byte; not a YAML text file", path);
	}
	*text = buf;
	*len = n;
	return 0;
}

int yu_load_file(const char *path, struct fy_document **out, fs_err *err)
{
	char *buf;
	size_t n;

	if (yu_read_file(path, &buf, &n, err))
		return -1;
	return build_doc(path, buf, n, 1, out, err);
}

/* Nodes made by --set carry their key path (a malloc'ed string, freed with the
 * document) as libfyaml meta data: their positions are in the --set string, not the
 * file, so messages name the --set key instead. */
static const char *from_set(struct fy_node *n)
{
	for (; n; n = fy_node_get_parent(n))
		if (fy_node_get_meta(n))
			return fy_node_get_meta(n);
	return NULL;
}

static void free_meta(struct fy_node *n, void *meta, void *user)
{
	(void)n;
	(void)user;
	free(meta);
}

static void mark_set(struct fy_node *n, const char *key, size_t len)
{
	char *k = strndup(key, len);

	if (k && fy_node_set_meta(n, k))
		free(k);
}

void yu_pos(struct fy_node *n, int *line, int *col)
{
	struct fy_token *t;
	const struct fy_mark *m;
	void *it = NULL;

	*line = *col = 0;
	if (!n || from_set(n))
		return;
	switch (fy_node_get_type(n)) {
	case FYNT_SCALAR:
		t = fy_node_get_scalar_token(n);
		m = t ? fy_token_start_mark(t) : NULL;
		if (m) {
			*line = m->line + 1;
			*col = m->column + 1;
		}
		return;
	case FYNT_MAPPING: {
		struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
		if (p)
			yu_pos(fy_node_pair_key(p), line, col);
		return;
	}
	case FYNT_SEQUENCE:
		yu_pos(fy_node_sequence_iterate(n, &it), line, col);
		return;
	}
}

int yu_errf(fs_err *err, const char *file, struct fy_node *n, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	int line, col;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	yu_pos(n, &line, &col);
	if (line > 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s:%d:%d: %s", file, line, col, msg);
	if (from_set(n))
		return fs_fail(err, FS_EXIT_INPUT, "%s: --set %s: %s", file, from_set(n), msg);
	return fs_fail(err, FS_EXIT_INPUT, "%s: %s", file, msg);
}

static const char *scalar(const char *file, struct fy_node *n, size_t *len, const char *want,
			  fs_err *err)
{
	const char *s;

	if (!n || fy_node_get_type(n) != FYNT_SCALAR) {
		yu_errf(err, file, n, "expected %s, found a %s", want,
			!n ? "missing value" :
			fy_node_get_type(n) == FYNT_MAPPING ? "mapping" : "sequence");
		return NULL;
	}
	s = fy_node_get_scalar(n, len);
	if (!s) {
		yu_errf(err, file, n, "expected %s", want);
		return NULL;
	}
	return s;
}

int yu_i64(const char *file, struct fy_node *n, int64_t *out, fs_err *err)
{
	size_t len;
	const char *s = scalar(file, n, &len, "an integer", err);
	double d;

	if (!s)
		return -1;
	if (np_i64(s, len, out) == 0)
		return 0;
	/* Accept 1e6 or 65536.0 when they are exact integers. */
	/* Range first: casting an out-of-range double to int64_t is undefined. */
	if (np_double(s, len, &d) == 0 && d < 9.2e18 && d > -9.2e18 && d == (double)(int64_t)d) {
		*out = (int64_t)d;
		return 0;
	}
	return yu_errf(err, file, n, "expected an integer, found '%.*s'", (int)(len > 64 ? 64 : len), s);
}

int yu_int(const char *file, struct fy_node *n, int *out, fs_err *err)
{
	int64_t v;

	if (yu_i64(file, n, &v, err))
		return -1;
	if (v < -2147483647LL || v > 2147483647LL)
		return yu_errf(err, file, n, "integer %lld out of range", (long long)v);
	*out = (int)v;
	return 0;
}

int yu_double(const char *file, struct fy_node *n, double *out, fs_err *err)
{
	size_t len;
	const char *s = scalar(file, n, &len, "a number", err);

	if (!s)
		return -1;
	if (np_double(s, len, out))
		return yu_errf(err, file, n, "expected a number, found '%.*s'", (int)(len > 64 ? 64 : len), s);
	return 0;
}

int yu_bool(const char *file, struct fy_node *n, int *out, fs_err *err)
{
	size_t len;
	const char *s = scalar(file, n, &len, "true or false", err);

	if (!s)
		return -1;
	if (np_bool(s, len, out))
		return yu_errf(err, file, n, "expected true or false, found '%.*s'", (int)(len > 64 ? 64 : len), s);
	return 0;
}

int yu_str(const char *file, struct fy_node *n, char *buf, size_t cap, fs_err *err)
{
	size_t len;
	const char *s = scalar(file, n, &len, "a string", err);

	if (!s)
		return -1;
	if (len >= cap)
		return yu_errf(err, file, n, "string too long (%zu bytes, at most %zu)", len, cap - 1);
	if (memchr(s, '\0', len))
		return yu_errf(err, file, n, "string contains a NUL byte");
	memcpy(buf, s, len);
	buf[len] = '\0';
	return 0;
}

int yu_name(const char *file, struct fy_node *n, const char *what, char *buf, size_t cap, fs_err *err)
{
	if (yu_str(file, n, buf, cap, err))
		return -1;
	for (size_t i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return yu_errf(err, file, n,
				       "%s contains a control character (byte 0x%02x at offset %zu); names may not",
				       what, (unsigned char)buf[i], i);
	return 0;
}

int yu_double_range(const char *file, struct fy_node *n, double lo, double hi,
		    double *out, fs_err *err)
{
	double v;

	if (yu_double(file, n, &v, err))
		return -1;
	if (v < lo || v > hi)
		return yu_errf(err, file, n, "value %g out of range [%g, %g]", v, lo, hi);
	*out = v;
	return 0;
}

int yu_duration_s(const char *file, struct fy_node *n, double lo, double hi, double *out, int *bare,
		  fs_err *err)
{
	static const struct {
		const char *unit;
		double s;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"ms", 1e-3}, {"s", 1},
		     {"sec", 1}, {"min", 60}, {"h", 3600}};
	size_t len, nl;
	const char *s = scalar(file, n, &len, "a duration", err);
	double v;

	if (!s)
		return -1;
	*bare = 1;
	if (np_double(s, len, &v)) {
		/* A number and a unit: "2s", "50ms", "1.5 min". */
		for (nl = len; nl > 0 && (((s[nl - 1] | 0x20) >= 'a' && (s[nl - 1] | 0x20) <= 'z') ||
					  (unsigned char)s[nl - 1] >= 0x80);
		     nl--)
			;
		{
			size_t ul = len - nl, k;
			const char *u = s + nl;
			size_t numl = nl;
			while (numl > 0 && s[numl - 1] == ' ')
				numl--;
			for (k = 0; k < sizeof units / sizeof units[0]; k++)
				if (strlen(units[k].unit) == ul && !strncmp(u, units[k].unit, ul))
					break;
			if (!ul || !numl || np_double(s, numl, &v))
				return yu_errf(err, file, n, "expected a duration (seconds, or a number with a unit: 2s, "
					       "50ms, 500us, 1.5min), found '%.*s'", (int)(len > 64 ? 64 : len), s);
			if (k == sizeof units / sizeof units[0])
				return yu_errf(err, file, n, "unknown time unit '%.*s' in '%.*s' (use ns, us, ms, s, min, h)",
					       (int)(ul > 16 ? 16 : ul), u, (int)(len > 64 ? 64 : len), s);
			v *= units[k].s;
			*bare = 0;
		}
	}
	if (!(v >= lo && v <= hi))
		return yu_errf(err, file, n, "duration %g s out of range [%g, %g] s", v, lo, hi);
	*out = v;
	return 0;
}

int yu_i64_range(const char *file, struct fy_node *n, int64_t lo, int64_t hi,
		 int64_t *out, fs_err *err)
{
	int64_t v;

	if (yu_i64(file, n, &v, err))
		return -1;
	if (v < lo || v > hi)
		return yu_errf(err, file, n, "value %lld out of range [%lld, %lld]", (long long)v,
			       (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

int yu_expect_map(const char *file, struct fy_node *n, const char *what, fs_err *err)
{
	if (n && fy_node_get_type(n) == FYNT_MAPPING)
		return 0;
	return yu_errf(err, file, n, "%s must be a mapping (key: value)", what);
}

int yu_expect_seq(const char *file, struct fy_node *n, const char *what, fs_err *err)
{
	if (n && fy_node_get_type(n) == FYNT_SEQUENCE)
		return 0;
	return yu_errf(err, file, n, "%s must be a list", what);
}

int yu_check_keys(const char *file, struct fy_node *n, const char *const *allowed,
		  const char *what, fs_err *err)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (yu_expect_map(file, n, what, err))
		return -1;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		size_t len;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
		int ok = 0;
		char list[512] = "";

		if (!ks)
			return yu_errf(err, file, k, "keys of %s must be plain strings", what);
		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == len && !memcmp(*a, ks, len))
				ok = 1;
		if (ok)
			continue;
		for (const char *const *a = allowed; *a; a++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", *a);
		}
		return yu_errf(err, file, k, "unknown key '%.*s' in %s (known: %s)",
			       (int)(len > 64 ? 64 : len), ks, what, list);
	}
	return 0;
}

struct fy_node *yu_get(struct fy_node *n, const char *key)
{
	struct fy_node_pair *p;
	void *it = NULL;
	size_t klen = strlen(key);

	if (!n || fy_node_get_type(n) != FYNT_MAPPING)
		return NULL;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		size_t len;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
		if (ks && len == klen && !memcmp(ks, key, len))
			return fy_node_pair_value(p);
	}
	return NULL;
}

static struct fy_node_pair *get_pair(struct fy_node *n, const char *key, size_t klen)
{
	struct fy_node_pair *p;
	void *it = NULL;

	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		size_t len;
		const char *ks = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar(k, &len) : NULL;
		if (ks && len == klen && !memcmp(ks, key, len))
			return p;
	}
	return NULL;
}

/* Walk path components and attach vnode; returns 0 once attached, -1 otherwise (the
 * caller still owns vnode then). */
static int attach_set(struct fy_document *doc, const char *assignment, size_t plen,
		      struct fy_node *vnode, fs_err *err)
{
	const char *path = assignment, *comp;
	struct fy_node *cur = fy_document_root(doc);

	comp = path;
	while (comp < path + plen) {
		const char *dot = memchr(comp, '.', (size_t)(path + plen - comp));
		size_t clen = dot ? (size_t)(dot - comp) : (size_t)(path + plen - comp);
		int last = dot == NULL;

		if (clen == 0)
			goto bad_path;
		if (fy_node_get_type(cur) == FYNT_SEQUENCE) {
			int64_t idx;
			struct fy_node *item;
			if (np_i64(comp, clen, &idx) || idx < 0 || idx >= fy_node_sequence_item_count(cur))
				return fs_fail(err, FS_EXIT_INPUT,
					       "--set '%s': '%.*s' is not an index of a %d-item list",
					       assignment, (int)clen, comp, fy_node_sequence_item_count(cur));
			item = fy_node_sequence_get_by_index(cur, (int)idx);
			if (last) {
				/* Replace list item: rebuild via remove + insert is not in 0.7's
				 * API for sequences, so only mapping values may be replaced. */
				return fs_fail(err, FS_EXIT_INPUT,
					       "--set '%s': cannot replace a whole list item; set one of its keys",
					       assignment);
			}
			cur = item;
		} else if (fy_node_get_type(cur) == FYNT_MAPPING) {
			struct fy_node_pair *p = get_pair(cur, comp, clen);
			if (last) {
				if (p) {
					if (fy_node_pair_set_value(p, vnode))
						goto fail;
				} else {
					struct fy_node *k = fy_node_create_scalar_copy(doc, comp, clen);
					if (!k || fy_node_mapping_append(cur, k, vnode)) {
						fy_node_free(k); /* not attached: ours to free */
						goto fail;
					}
					mark_set(k, assignment, plen);
				}
				return 0;
			}
			if (!p) {
				struct fy_node *k = fy_node_create_scalar_copy(doc, comp, clen);
				struct fy_node *m = fy_node_create_mapping(doc);
				if (!k || !m || fy_node_mapping_append(cur, k, m)) {
					fy_node_free(k);
					fy_node_free(m);
					goto fail;
				}
				mark_set(m, assignment, plen);
				mark_set(k, assignment, plen);
				cur = m;
			} else {
				cur = fy_node_pair_value(p);
			}
		} else {
			return fs_fail(err, FS_EXIT_INPUT, "--set '%s': '%.*s' is inside a scalar value",
				       assignment, (int)clen, comp);
		}
		comp += clen + 1;
	}
bad_path:
	return fs_fail(err, FS_EXIT_INPUT, "--set '%s': malformed key path", assignment);
fail:
	return fs_fail(err, FS_EXIT_INPUT, "--set '%s': cannot set that key (a key is letters, digits, "
		       "'_' and '-' between dots)", assignment);
}

int yu_set_path(struct fy_document *doc, const char *assignment, fs_err *err)
{
	const char *eq = strchr(assignment, '=');
	struct fy_node *vnode;
	size_t plen;

	if (!eq || eq == assignment)
		return fs_fail(err, FS_EXIT_INPUT, "--set '%s': expected key.path=value", assignment);
	plen = (size_t)(eq - assignment);
	if (!fy_document_root(doc))
		return fs_fail(err, FS_EXIT_INPUT, "--set '%s': document is empty", assignment);
	/* Parsed as a document of its own, not with fy_node_build_from_string: that
	 * leaks its diagnostics on a syntax error, and this way the value gets the same
	 * UTF-8 and alias-expansion limits as a file. */
	{
		const char *v = eq[1] ? eq + 1 : "''";
		struct fy_document *vdoc;
		fs_err ve = {0};

		if (build_doc("value", (char *)v, strlen(v), 0, &vdoc, &ve))
			return fs_fail(err, FS_EXIT_INPUT, "--set '%.*s': value is not valid YAML (%s)",
				       (int)plen, assignment, ve.msg);
		vnode = fy_node_copy(doc, fy_document_root(vdoc));
		fy_document_destroy(vdoc);
	}
	if (!vnode)
		return fs_fail(err, FS_EXIT_RUNTIME, "--set '%s': out of memory", assignment);
	fy_document_register_meta(doc, free_meta, NULL);
	mark_set(vnode, assignment, plen);
	if (attach_set(doc, assignment, plen, vnode, err)) {
		fy_node_free(vnode);
		return -1;
	}
	return 0;
}
