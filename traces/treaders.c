/*
 * treaders.c - trace file readers: Azure 2023/2024, BurstGPT, Mooncake JSONL, the
 * generic CSV/JSONL (with an optional column mapping and time unit) and OpenAI-style
 * usage JSONL, behind trace_reader.  One line is parsed per trace_next(), so memory is
 * the input buffer plus one row whatever the file size.
 */
#include "traces/trace_impl.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "traces/tinput.h"
#include "util/numparse.h"
#include "util/simtime.h"

/* Column roles of a CSV header. */
enum {
	C_IGNORE,   /* known but unused (BurstGPT Total tokens) */
	C_TS_DATE,  /* Azure TIMESTAMP: calendar date-time */
	C_TS_SEC,   /* BurstGPT Timestamp: seconds */
	C_ARRIVAL,  /* generic arrival_s */
	C_IN,
	C_OUT,
	C_MAX,
	C_CAT,
	C_BYTES,
	C_MODEL,    /* BurstGPT Model */
	C_LOGTYPE,  /* BurstGPT Log Type */
	C_HASHES,   /* mapped hash_ids: integers separated by spaces, ';' or ',' */
	C_MODELCOL  /* mapped model: filter, and category unless one is mapped */
};

/* Columns of a CSV header (mapped CSVs from real logs often carry many). */
#define MAX_COLS 64
/* Distinct model names remembered for the "no request has model" message. */
#define MAX_SEEN_MODELS 8
/* Candidate JSON key paths per role (first present wins), plus the NULL. */
#define MAX_JKEYS 5

typedef struct file_reader {
	trace_reader base;
	tin *in;
	char *path;
	int skip_bad;
	int64_t tol_ns;
	int64_t prev_ns;
	int have_prev;
	int64_t t0_ns; /* Azure: first row's timestamp; arrivals are relative to it */
	int have_t0;
	int is_json;
	int ncols;
	unsigned char role[MAX_COLS];
	char *pending;  /* first data line when format detection had to consume it */
	size_t pending_len;
	uint64_t *hashes;
	int hash_cap;
	/* Time: the arrival column's unit (TRACE_TU_AUTO until the first value decides)
	 * and the offset subtracted from every arrival (absolute timestamps, decided by
	 * the first good row). */
	trace_time_unit tu, tu_asked;
	int64_t rebase_ns;
	int have_first;
	int mapped;            /* a columns mapping was given */
	int rebase_always;     /* mapped, time_unit given or openai: start at the first request */
	/* Names used in messages: per role, "input tokens" (generic names) or
	 * "prompt_len (input)" (mapped); arr_col: the arrival column/key itself. */
	char label[TRACE_COL_N][TRACE_COL_NAME_MAX + 16];
	char arr_col[TRACE_COL_NAME_MAX];
	char note[512];        /* trace_time_note; "" when nothing to say */
	/* JSON (jsonl, openai): candidate key paths per role; they point into jown or
	 * at string literals. */
	const char *jkeys[TRACE_COL_N][MAX_JKEYS];
	char jown[TRACE_COL_N][TRACE_COL_NAME_MAX];
	int cat_from_model;    /* the model names the category (none mapped) */
	char model_filter[TRACE_COL_NAME_MAX];
	int64_t filtered, returned;
	char seen[MAX_SEEN_MODELS][64];
	int n_seen;
} file_reader;

static const char *const role_names[TRACE_COL_N] = {
	"arrival", "input", "output", "max_tokens", "category", "hash_ids", "prompt_bytes", "model"};
/* Generic column names (csv header, jsonl keys) of each role. */
static const char *const generic_names[TRACE_COL_N] = {
	"arrival_s", "input_tokens", "output_tokens", "max_tokens", "category", "hash_ids",
	"prompt_bytes", "model"};
/* What each role's generic column is called in the messages of unmapped traces (as
 * before mappings existed, so those messages do not change). */
static const char *const legacy_labels[TRACE_COL_N] = {
	"arrival_s", "input tokens", "output tokens", "max_tokens", "category", "hash_ids",
	"prompt_bytes", "model"};
static const unsigned char role_col[TRACE_COL_N] = {
	C_ARRIVAL, C_IN, C_OUT, C_MAX, C_CAT, C_HASHES, C_BYTES, C_MODELCOL};

const char *trace_column_role_name(int role)
{
	return role >= 0 && role < TRACE_COL_N ? role_names[role] : NULL;
}

int trace_column_role_parse(const char *name, size_t len)
{
	for (int i = 0; i < TRACE_COL_N; i++)
		if (strlen(role_names[i]) == len && !memcmp(role_names[i], name, len))
			return i;
	return -1;
}

const char *trace_column_roles_known(void)
{
	return "arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model";
}

static const char *const tu_names[] = {"auto", "s", "ms", "us", "ns", "iso8601"};
static const char *const tu_long[] = {"auto", "seconds", "milliseconds", "microseconds",
				      "nanoseconds", "ISO 8601 timestamps"};

const char *trace_time_unit_name(trace_time_unit u)
{
	return (unsigned)u < sizeof tu_names / sizeof *tu_names ? tu_names[u] : "?";
}

int trace_time_unit_parse(const char *name, trace_time_unit *out)
{
	for (size_t i = 0; i < sizeof tu_names / sizeof *tu_names; i++)
		if (!strcmp(name, tu_names[i])) {
			*out = (trace_time_unit)i;
			return 0;
		}
	if (!strcmp(name, "iso")) {
		*out = TRACE_TU_ISO;
		return 0;
	}
	return -1;
}

int trace_columns_parse(const char *spec, trace_open_opts *o, fs_err *err)
{
	const char *p = spec;

	while (*p) {
		const char *comma = strchr(p, ','), *eq;
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int role;

		eq = memchr(p, '=', n);
		if (!eq || eq == p || (size_t)(eq - p) + 1 == n)
			return fs_fail(err, FS_EXIT_INPUT, "--columns: '%.*s' is not ROLE=COLUMN (roles: %s)",
				       (int)(n > 60 ? 60 : n), p, trace_column_roles_known());
		role = trace_column_role_parse(p, (size_t)(eq - p));
		if (role < 0)
			return fs_fail(err, FS_EXIT_INPUT, "--columns: unknown role '%.*s' (known: %s)",
				       (int)(eq - p > 60 ? 60 : eq - p), p, trace_column_roles_known());
		if (n - (size_t)(eq - p) - 1 >= TRACE_COL_NAME_MAX)
			return fs_fail(err, FS_EXIT_INPUT, "--columns: column name for %s longer than %d bytes",
				       role_names[role], TRACE_COL_NAME_MAX - 1);
		snprintf(o->columns[role], TRACE_COL_NAME_MAX, "%.*s", (int)(n - (size_t)(eq - p) - 1), eq + 1);
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* ---- timestamps ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), so no mktime/TZ is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((unsigned)(s[i] - '0') > 9u)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int trace_parse_timestamp(const char *s, size_t len, int64_t *out_ns)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec;
	int64_t ns = 0, off = 0;
	size_t i;

	while (len && (*s == ' ' || *s == '\t' || *s == '"')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '"'))
		len--;
	if (len < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	/* Years are bounded so that nanoseconds, and the difference of any two stamps
	 * (arrival = ts - first ts), fit in int64_t: 230 years is 7.3e18 ns. */
	if (y < 1970 || y > 2199)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return -1;
	i = 19;
	if (i < len && s[i] == '.') {
		int nd = 0;

		for (i++; i < len && (unsigned)(s[i] - '0') <= 9u; i++, nd++)
			if (nd < 9)
				ns = ns * 10 + (s[i] - '0');
		if (nd == 0)
			return -1;
		for (; nd < 9; nd++)
			ns *= 10;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		int oh, om;

		if (len - i != 6 || digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		off = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
		i += 6;
	}
	if (i != len)
		return -1;
	*out_ns = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		    sec - off) * 1000000000LL) + ns;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS UTC" of ns since the epoch (inverse of days_from_civil, after
 * H. Hinnant's civil_from_days), for notes. */
static void format_utc(int64_t ns, char *buf, size_t cap)
{
	int64_t s = ns / 1000000000LL, z = s / 86400, sod = s % 86400, era, y;
	unsigned doe, yoe, doy, mp, d, m;

	if (sod < 0) {
		sod += 86400;
		z--;
	}
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	snprintf(buf, cap, "%04lld-%02u-%02u %02lld:%02lld:%02lld UTC", (long long)y, m, d,
		 (long long)(sod / 3600), (long long)(sod / 60 % 60), (long long)(sod % 60));
}

/* Whether s looks like a calendar date ("2025-03-04..."): a unit check, not a parse. */
static int looks_iso(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '"')) {
		s++;
		n--;
	}
	return n >= 10 && (unsigned)(s[0] - '0') <= 9u && (unsigned)(s[1] - '0') <= 9u &&
	       (unsigned)(s[2] - '0') <= 9u && (unsigned)(s[3] - '0') <= 9u && s[4] == '-' &&
	       s[7] == '-';
}

/* Unit a first numeric arrival's magnitude implies (trace.h, TRACE_TU_AUTO); beyond
 * any epoch unit it stays seconds and is reported as too large. */
static trace_time_unit unit_of_magnitude(double v)
{
	if (v < 1e11)
		return TRACE_TU_S; /* relative seconds, or epoch seconds from 1e8 */
	if (v < 1e14)
		return TRACE_TU_MS;
	if (v < 1e17)
		return TRACE_TU_US;
	if (v < 1e19)
		return TRACE_TU_NS;
	return TRACE_TU_S;
}

/* ---- numbers with a fast path for plain digits ---- */

static int bad(file_reader *fr, fs_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(file_reader *fr, fs_err *err, const char *fmt, ...)
{
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return fs_fail(err, FS_EXIT_INPUT, "%s:%lld: %s", fr->path,
		       (long long)tin_lineno(fr->in), what);
}

/* Non-negative int32 token-like count; name used in messages. */
static int parse_count(file_reader *fr, const char *s, size_t n, const char *name,
		       int32_t *out, fs_err *err)
{
	int64_t v = 0;
	size_t i;

	if (n && n <= 9) {
		for (i = 0; i < n; i++) {
			unsigned d = (unsigned)(s[i] - '0');

			if (d > 9u)
				break;
			v = v * 10 + d;
		}
		if (i == n) {
			*out = (int32_t)v;
			return 0;
		}
	}
	if (np_i64(s, n, &v))
		return bad(fr, err, "%s '%.*s' is not an integer", name, (int)(n > 40 ? 40 : n), s);
	if (v < 0)
		return bad(fr, err, "%s %lld is negative", name, (long long)v);
	if (v > INT32_MAX)
		return bad(fr, err, "%s %lld is too large", name, (long long)v);
	*out = (int32_t)v;
	return 0;
}

/* ns per unit and fractional digits kept, for TRACE_TU_S .. TRACE_TU_NS. */
static const int64_t unit_ns[] = {0, 1000000000LL, 1000000LL, 1000LL, 1LL};
static const int unit_fdig[] = {0, 9, 6, 3, 0};
/* INT64_MAX / unit_ns: integer parts below it cannot overflow with any fraction. */
static const uint64_t unit_max_ip[] = {0, 9223372036ULL, 9223372036854ULL, 9223372036854775ULL,
				       9223372036854775807ULL};

/* A time of unit u (TRACE_TU_S..NS; plain decimal fast path, else strict np_double) to
 * ns, >= 0.  name is used in messages. */
static int parse_time_num(file_reader *fr, const char *s, size_t n, trace_time_unit u,
			  const char *name, int64_t *out, fs_err *err)
{
	uint64_t ip = 0;
	int64_t frac = 0, mul = unit_ns[u];
	size_t i = 0;
	int nd = 0, ni = 0, fd = unit_fdig[u];
	double d;

	for (; i < n && (unsigned)(s[i] - '0') <= 9u && ni < 19; i++, ni++)
		ip = ip * 10 + (uint64_t)(s[i] - '0');
	if (ni && (i == n || s[i] == '.')) {
		if (i < n)
			for (i++; i < n && (unsigned)(s[i] - '0') <= 9u && nd < fd; i++, nd++)
				frac = frac * 10 + (s[i] - '0');
		if (i == n && !(nd == 0 && s[n - 1] == '.')) {
			for (; nd < fd; nd++)
				frac *= 10;
			if (ip < unit_max_ip[u]) { /* ip * mul + frac fits */
				*out = (int64_t)ip * mul + frac;
				return 0;
			}
		}
	}
	if (np_double(s, n, &d)) {
		if (looks_iso(s, n))
			return bad(fr, err, "%s '%.*s' is an ISO 8601 timestamp, not a number of %s "
				   "(time_unit: %s; use time_unit: iso8601 or auto)", name,
				   (int)(n > 40 ? 40 : n), s, tu_long[u], tu_names[fr->tu_asked]);
		return bad(fr, err, "%s '%.*s' is not a number", name, (int)(n > 40 ? 40 : n), s);
	}
	if (d < 0)
		return bad(fr, err, "%s %g is negative", name, d);
	if (u == TRACE_TU_S ? st_from_s(d, out) != 0 : !(d * (double)mul <= 9.0e18))
		return bad(fr, err, "%s %g is too large%s", name, d,
			   u == TRACE_TU_S && d >= 1e11 && d < 1e19
				   ? " as seconds (epoch milliseconds, microseconds or nanoseconds? "
				     "set time_unit: ms, us, ns or auto)" : "");
	if (u != TRACE_TU_S)
		*out = llround(d * (double)mul);
	return 0;
}

/* Seconds (plain decimal fast path, else strict np_double) to ns, >= 0. */
static int parse_seconds(file_reader *fr, const char *s, size_t n, const char *name,
			 int64_t *out, fs_err *err)
{
	return parse_time_num(fr, s, n, TRACE_TU_S, name, out, err);
}

/* The arrival cell s[0..n) of a csv/jsonl/openai trace, in the reader's unit (the
 * first value decides it when time_unit is auto), to ns since its origin (the epoch
 * for ISO dates; rebasing happens in parse_row). */
static int parse_arrival_text(file_reader *fr, const char *s, size_t n, int64_t *out,
			      fs_err *err)
{
	const char *name = fr->label[TRACE_COL_ARRIVAL];

	if (fr->tu == TRACE_TU_AUTO) {
		double d;

		if (looks_iso(s, n)) {
			fr->tu = TRACE_TU_ISO;
		} else if (np_double(s, n, &d)) {
			return bad(fr, err, "%s '%.*s' is neither a number nor an ISO 8601 timestamp",
				   name, (int)(n > 40 ? 40 : n), s);
		} else {
			fr->tu = d < 0 ? TRACE_TU_S : unit_of_magnitude(d);
		}
	}
	if (fr->tu != TRACE_TU_ISO)
		return parse_time_num(fr, s, n, fr->tu, name, out, err);
	if (trace_parse_timestamp(s, n, out)) {
		double d;

		if (!np_double(s, n, &d))
			return bad(fr, err, "%s '%.*s' is a number, not an ISO 8601 timestamp "
				   "(time_unit: %s; use time_unit: s, ms, us, ns or auto)", name,
				   (int)(n > 40 ? 40 : n), s, tu_names[fr->tu_asked]);
		return bad(fr, err, "%s: bad timestamp '%.*s' (expected YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM])",
			   name, (int)(n > 40 ? 40 : n), s);
	}
	return 0;
}

/* Prefix hashes from a CSV cell: non-negative integers separated by spaces, ';' or
 * ',' (the cell is quoted then), optionally in [ ].  Stored in fr->hashes. */
static int parse_hash_cell(file_reader *fr, const char *s, size_t n, trace_req *q, fs_err *err)
{
	int k = 0;
	size_t i = 0;

	while (i < n) {
		uint64_t v = 0;
		size_t st;

		while (i < n && (s[i] == ' ' || s[i] == ';' || s[i] == ',' || s[i] == '[' || s[i] == ']'))
			i++;
		if (i == n)
			break;
		for (st = i; i < n && (unsigned)(s[i] - '0') <= 9u && i - st < 19; i++)
			v = v * 10 + (uint64_t)(s[i] - '0');
		if (i == st || (i < n && s[i] != ' ' && s[i] != ';' && s[i] != ',' && s[i] != ']'))
			return bad(fr, err, "%s: hash %d is not a non-negative integer",
				   fr->label[TRACE_COL_HASH_IDS], k);
		if (k == fr->hash_cap) {
			int cap = fr->hash_cap ? 2 * fr->hash_cap : 64;
			uint64_t *p = realloc(fr->hashes, (size_t)cap * sizeof *p);

			if (!p)
				return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			fr->hashes = p;
			fr->hash_cap = cap;
		}
		fr->hashes[k++] = v;
	}
	q->n_hashes = k;
	q->hashes = k ? fr->hashes : NULL;
	q->hash_block_tokens = 512;
	return 0;
}

/* The model filter: 1 when the row's model s[0..n) is kept, 0 when filtered out (its
 * name remembered for the "no request has model" message). */
static int model_kept(file_reader *fr, const char *s, size_t n)
{
	if (!fr->model_filter[0] || (strlen(fr->model_filter) == n && !memcmp(fr->model_filter, s, n)))
		return 1;
	for (int i = 0; i < fr->n_seen; i++)
		if (strlen(fr->seen[i]) == (n < 63 ? n : 63) && !memcmp(fr->seen[i], s, n < 63 ? n : 63))
			return 0;
	if (fr->n_seen < MAX_SEEN_MODELS)
		snprintf(fr->seen[fr->n_seen++], sizeof fr->seen[0], "%.*s", (int)(n < 63 ? n : 63), s);
	return 0;
}

/* ---- CSV ---- */

/* Split line in place into fields (quotes "..." with "" escapes allowed).  Returns the
 * field count, or -1 on an unterminated quote; more than max fields counts as max+1. */
static int split_csv(char *line, size_t len, char **f, size_t *fl, int max)
{
	size_t i = 0;
	int n = 0;

	for (;;) {
		if (n == max)
			return max + 1;
		if (i < len && line[i] == '"') {
			size_t w = i + 1, r = i + 1;

			for (;;) {
				if (r >= len)
					return -1;
				if (line[r] == '"') {
					if (r + 1 < len && line[r + 1] == '"') {
						line[w++] = '"';
						r += 2;
						continue;
					}
					r++;
					break;
				}
				line[w++] = line[r++];
			}
			f[n] = line + i + 1;
			fl[n] = w - i - 1;
			n++;
			if (r == len)
				return n;
			if (line[r] != ',')
				return -1;
			i = r + 1;
			continue;
		}
		{
			char *c = memchr(line + i, ',', len - i);
			size_t e = c ? (size_t)(c - line) : len;

			f[n] = line + i;
			fl[n] = e - i;
			n++;
			if (!c)
				return n;
			i = e + 1;
		}
	}
}

static void trim(char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static int name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(s, name, n);
}

/* Map a header to column roles and the format it implies.  Returns 0, or -1 with err
 * naming the column we do not know. */
static int read_header(file_reader *fr, char *line, size_t len, trace_format *fmt, fs_err *err)
{
	char *f[MAX_COLS + 1];
	size_t fl[MAX_COLS + 1];
	int n = split_csv(line, len, f, fl, MAX_COLS), have_ts_date = 0, have_model = 0;
	int have_arr = 0, have_in = 0, have_out = 0;

	if (n < 0)
		return bad(fr, err, "unterminated quote in header");
	if (n > MAX_COLS)
		return bad(fr, err, "header has more than %d columns", MAX_COLS);
	for (int i = 0; i < n; i++) {
		unsigned char role;

		trim(&f[i], &fl[i]);
		if (name_is(f[i], fl[i], "TIMESTAMP") && fl[i] && f[i][0] == 'T' && f[i][1] == 'I')
			role = C_TS_DATE, have_ts_date = 1; /* Azure spells it in capitals */
		else if (name_is(f[i], fl[i], "Timestamp"))
			role = C_TS_SEC;
		else if (name_is(f[i], fl[i], "ContextTokens") || name_is(f[i], fl[i], "Request tokens") ||
			 name_is(f[i], fl[i], "input_tokens"))
			role = C_IN, have_in = 1;
		else if (name_is(f[i], fl[i], "GeneratedTokens") ||
			 name_is(f[i], fl[i], "Response tokens") || name_is(f[i], fl[i], "output_tokens"))
			role = C_OUT, have_out = 1;
		else if (name_is(f[i], fl[i], "Total tokens"))
			role = C_IGNORE;
		else if (name_is(f[i], fl[i], "Model"))
			role = C_MODEL, have_model = 1;
		else if (name_is(f[i], fl[i], "Log Type"))
			role = C_LOGTYPE;
		else if (name_is(f[i], fl[i], "arrival_s"))
			role = C_ARRIVAL, have_arr = 1;
		else if (name_is(f[i], fl[i], "max_tokens"))
			role = C_MAX;
		else if (name_is(f[i], fl[i], "category"))
			role = C_CAT;
		else if (name_is(f[i], fl[i], "prompt_bytes"))
			role = C_BYTES;
		else
			return bad(fr, err, "unknown column '%.*s' in header (known: TIMESTAMP,ContextTokens,GeneratedTokens for Azure; "
				   "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type for BurstGPT; "
				   "arrival_s,input_tokens,output_tokens,max_tokens,category,prompt_bytes for generic CSV; "
				   "other names: map them with columns: / --columns)",
				   (int)(fl[i] > 60 ? 60 : fl[i]), f[i]);
		for (int j = 0; j < i; j++)
			if (fr->role[j] == role && role != C_IGNORE)
				return bad(fr, err, "column '%.*s' appears twice", (int)fl[i], f[i]);
		fr->role[i] = role;
	}
	fr->ncols = n;
	if (have_ts_date)
		*fmt = TRACE_FMT_AZURE;
	else if (have_model)
		*fmt = TRACE_FMT_BURSTGPT;
	else if (have_arr)
		*fmt = TRACE_FMT_CSV;
	else
		return bad(fr, err, "unknown trace format: header has no TIMESTAMP, Timestamp+Model or arrival_s column "
			   "(other names: map them with columns: / --columns)");
	if (!have_in || !have_out)
		return bad(fr, err, "%s header lacks the %s column", trace_format_name(*fmt),
			   have_in ? "output tokens" : "input tokens");
	for (int i = 0; i < n; i++) {
		unsigned char r = fr->role[i];
		int ok = *fmt == TRACE_FMT_AZURE ? (r == C_TS_DATE || r == C_IN || r == C_OUT)
			 : *fmt == TRACE_FMT_BURSTGPT ? (r == C_TS_SEC || r == C_MODEL || r == C_IN || r == C_OUT || r == C_IGNORE || r == C_LOGTYPE)
			 : (r == C_ARRIVAL || r == C_IN || r == C_OUT || r == C_MAX || r == C_CAT || r == C_BYTES);

		if (!ok)
			return bad(fr, err, "column %d does not belong in a %s header", i + 1,
				   trace_format_name(*fmt));
	}
	if (*fmt == TRACE_FMT_BURSTGPT) {
		int has_ts = 0;

		for (int i = 0; i < n; i++)
			has_ts |= fr->role[i] == C_TS_SEC;
		if (!has_ts)
			return bad(fr, err, "burstgpt header lacks the Timestamp column");
	}
	return 0;
}

/* Header of a csv trace read through a column mapping: each role's column is the
 * mapped name, or the generic name when the role is not mapped; other columns are
 * ignored.  Returns 0, or -1 with err naming a mapped column the header lacks. */
static int read_header_mapped(file_reader *fr, char *line, size_t len, const trace_open_opts *o,
			      fs_err *err)
{
	char *f[MAX_COLS + 1];
	size_t fl[MAX_COLS + 1];
	int n = split_csv(line, len, f, fl, MAX_COLS), found[TRACE_COL_N] = {0};
	char list[256];
	size_t ll = 0;

	if (n < 0)
		return bad(fr, err, "unterminated quote in header");
	if (n > MAX_COLS)
		return bad(fr, err, "header has more than %d columns", MAX_COLS);
	list[0] = '\0';
	for (int i = 0; i < n; i++) {
		trim(&f[i], &fl[i]);
		if (ll < sizeof list - 1)
			ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%.*s", i ? ", " : "",
					       (int)(fl[i] > 40 ? 40 : fl[i]), f[i]);
		fr->role[i] = C_IGNORE;
		for (int r = 0; r < TRACE_COL_N; r++) {
			const char *want = o->columns[r][0] ? o->columns[r] : generic_names[r];

			if (!name_is(f[i], fl[i], want))
				continue;
			if (found[r])
				return bad(fr, err, "column '%.*s' appears twice", (int)fl[i], f[i]);
			found[r] = 1;
			fr->role[i] = role_col[r];
			break;
		}
	}
	if (ll >= sizeof list - 1)
		snprintf(list + sizeof list - 5, 5, "...");
	fr->ncols = n;
	for (int r = 0; r < TRACE_COL_N; r++) {
		if (o->columns[r][0] && !found[r])
			return bad(fr, err, "column '%s' (columns.%s) is not in the header (columns: %s)",
				   o->columns[r], role_names[r], list);
		if (!found[r] && r <= TRACE_COL_OUTPUT)
			return bad(fr, err, "header has no %s column '%s': map one with columns.%s (columns: %s)",
				   role_names[r], generic_names[r], role_names[r], list);
	}
	fr->cat_from_model = found[TRACE_COL_MODEL] && !found[TRACE_COL_CATEGORY];
	if (fr->model_filter[0] && !found[TRACE_COL_MODEL])
		return bad(fr, err, "the model filter needs a model column: map one with columns.model (columns: %s)",
			   list);
	return 0;
}

static void req_init(trace_req *q)
{
	memset(q, 0, sizeof *q);
	q->max_tokens = -1;
	q->prompt_bytes = -1;
	q->category = -1;
}

/* Returns 0 with *q filled, 1 for a row the model filter drops, or -1 with err set. */
static int parse_csv_row(file_reader *fr, char *line, size_t len, trace_req *q, fs_err *err)
{
	char *f[MAX_COLS + 1];
	size_t fl[MAX_COLS + 1];
	int n = split_csv(line, len, f, fl, fr->ncols);
	const char *model = NULL, *logtype = NULL;
	size_t model_len = 0, logtype_len = 0;
	int32_t v;

	if (n < 0)
		return bad(fr, err, "unterminated quote");
	if (n != fr->ncols)
		return bad(fr, err, "expected %d columns, found %s%d", fr->ncols,
			   n > fr->ncols ? "more than " : "", n > fr->ncols ? fr->ncols : n);
	req_init(q);
	for (int i = 0; i < n; i++) {
		switch (fr->role[i]) {
		case C_TS_DATE: {
			int64_t ts;

			if (trace_parse_timestamp(f[i], fl[i], &ts))
				return bad(fr, err, "bad timestamp '%.*s' (expected YYYY-MM-DD HH:MM:SS[.frac][+HH:MM])",
					   (int)(fl[i] > 40 ? 40 : fl[i]), f[i]);
			if (!fr->have_t0) {
				fr->t0_ns = ts;
				fr->have_t0 = 1;
			}
			q->arrival_ns = ts - fr->t0_ns;
			if (q->arrival_ns < 0 && -q->arrival_ns > fr->tol_ns)
				return bad(fr, err, "timestamp goes back %.3f s before the first row",
					   st_to_s(-q->arrival_ns));
			if (q->arrival_ns < 0)
				q->arrival_ns = 0;
			break;
		}
		case C_TS_SEC:
			if (parse_seconds(fr, f[i], fl[i], "timestamp", &q->arrival_ns, err))
				return -1;
			break;
		case C_ARRIVAL:
			if (parse_arrival_text(fr, f[i], fl[i], &q->arrival_ns, err))
				return -1;
			break;
		case C_IN:
			if (parse_count(fr, f[i], fl[i], fr->label[TRACE_COL_INPUT], &q->input_tokens, err))
				return -1;
			break;
		case C_OUT:
			if (parse_count(fr, f[i], fl[i], fr->label[TRACE_COL_OUTPUT], &q->output_tokens, err))
				return -1;
			break;
		case C_MAX:
			if (fl[i] == 0)
				break; /* optional per row */
			if (parse_count(fr, f[i], fl[i], fr->label[TRACE_COL_MAX_TOKENS], &v, err))
				return -1;
			q->max_tokens = v;
			break;
		case C_BYTES:
			if (fl[i] == 0)
				break;
			if (parse_count(fr, f[i], fl[i], fr->label[TRACE_COL_PROMPT_BYTES], &v, err))
				return -1;
			q->prompt_bytes = v;
			break;
		case C_HASHES:
			if (parse_hash_cell(fr, f[i], fl[i], q, err))
				return -1;
			break;
		case C_MODELCOL:
			trim(&f[i], &fl[i]);
			if (!model_kept(fr, f[i], fl[i]))
				return 1;
			if (fr->cat_from_model && fl[i] &&
			    trace_cat_intern(&fr->base, f[i], fl[i], &q->category, err))
				return bad(fr, err, "%s", err->msg);
			break;
		case C_CAT:
			trim(&f[i], &fl[i]);
			if (fl[i] && trace_cat_intern(&fr->base, f[i], fl[i], &q->category, err))
				return bad(fr, err, "%s", err->msg);
			break;
		case C_MODEL:
			model = f[i];
			model_len = fl[i];
			break;
		case C_LOGTYPE:
			logtype = f[i];
			logtype_len = fl[i];
			break;
		default:
			break;
		}
	}
	if (model && !model_kept(fr, model, model_len))
		return 1;
	if (model || logtype) { /* BurstGPT: "Model/Log Type" */
		char cat[256];
		int cl = snprintf(cat, sizeof cat, "%.*s%s%.*s", (int)(model_len > 120 ? 120 : model_len),
				  model ? model : "", logtype ? "/" : "",
				  (int)(logtype_len > 120 ? 120 : logtype_len), logtype ? logtype : "");

		if (trace_cat_intern(&fr->base, cat, (size_t)cl, &q->category, err))
			return bad(fr, err, "%s", err->msg);
	}
	return 0;
}

/* ---- JSONL ---- */

/* A count from JSON value v (NULL: absent) of key. */
static int json_count_v(file_reader *fr, cJSON *v, const char *key, int required, int32_t *out,
			fs_err *err)
{
	if (!v) {
		if (required)
			return bad(fr, err, "missing \"%s\"", key);
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return bad(fr, err, "\"%s\" is not a number", key);
	if (v->valuedouble < 0)
		return bad(fr, err, "\"%s\" %g is negative", key, v->valuedouble);
	if (v->valuedouble != floor(v->valuedouble))
		return bad(fr, err, "\"%s\" %g is not an integer", key, v->valuedouble);
	if (v->valuedouble > INT32_MAX)
		return bad(fr, err, "\"%s\" %g is too large", key, v->valuedouble);
	*out = (int32_t)v->valuedouble;
	return 0;
}

static int json_count(file_reader *fr, cJSON *o, const char *key, int required, int32_t *out,
		      fs_err *err)
{
	return json_count_v(fr, cJSON_GetObjectItemCaseSensitive(o, key), key, required, out, err);
}

/* Value at key path (a literal key first, then "a.b.c" through nested objects). */
static cJSON *json_path(cJSON *o, const char *path)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, path);
	const char *p = path, *dot;
	char seg[TRACE_COL_NAME_MAX];

	if (v || !strchr(path, '.'))
		return v;
	v = o;
	while (v && cJSON_IsObject(v)) {
		dot = strchr(p, '.');
		if (!dot)
			return cJSON_GetObjectItemCaseSensitive(v, p);
		if ((size_t)(dot - p) >= sizeof seg)
			return NULL;
		memcpy(seg, p, (size_t)(dot - p));
		seg[dot - p] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(v, seg);
		p = dot + 1;
	}
	return NULL;
}

/* Value of role r in o: the first of its candidate keys present (JSON null counts as
 * absent: gateways log "max_tokens": null).  *key: the key found, or the first one. */
static cJSON *json_role(file_reader *fr, cJSON *o, int r, const char **key)
{
	*key = fr->jkeys[r][0] ? fr->jkeys[r][0] : generic_names[r];
	for (int k = 0; k < MAX_JKEYS && fr->jkeys[r][k]; k++) {
		cJSON *v = json_path(o, fr->jkeys[r][k]);

		if (v && !cJSON_IsNull(v)) {
			*key = fr->jkeys[r][k];
			return v;
		}
	}
	return NULL;
}

/* Prefix hashes from JSON array h into fr->hashes. */
static int json_hashes(file_reader *fr, cJSON *h, const char *key, trace_req *q, fs_err *err)
{
	cJSON *c;
	int n, i = 0;

	if (!cJSON_IsArray(h))
		return bad(fr, err, "\"%s\" is not an array", key);
	n = cJSON_GetArraySize(h);
	if (n > fr->hash_cap) {
		uint64_t *p = realloc(fr->hashes, (size_t)n * sizeof *p);

		if (!p)
			return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		fr->hashes = p;
		fr->hash_cap = n;
	}
	cJSON_ArrayForEach(c, h) {
		if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble != floor(c->valuedouble))
			return bad(fr, err, "\"%s\"[%d] is not a non-negative integer", key, i);
		fr->hashes[i++] = (uint64_t)c->valuedouble;
	}
	q->n_hashes = n;
	q->hashes = n ? fr->hashes : NULL;
	q->hash_block_tokens = 512;
	return 0;
}

/* Arrival from JSON value v of key: a number in the reader's unit (auto: its magnitude
 * decides on the first row), or a string (ISO 8601 date or a number). */
static int json_arrival(file_reader *fr, cJSON *v, const char *key, int64_t *out, fs_err *err)
{
	double d, mul;

	if (cJSON_IsString(v))
		return parse_arrival_text(fr, v->valuestring, strlen(v->valuestring), out, err);
	if (!cJSON_IsNumber(v))
		return bad(fr, err, "\"%s\" is not a number", key);
	d = v->valuedouble;
	if (fr->tu == TRACE_TU_AUTO)
		fr->tu = d < 0 ? TRACE_TU_S : unit_of_magnitude(d);
	if (fr->tu == TRACE_TU_ISO)
		return bad(fr, err, "\"%s\" %g is a number, not an ISO 8601 timestamp "
			   "(time_unit: %s; use time_unit: s, ms, us, ns or auto)", key, d,
			   tu_names[fr->tu_asked]);
	if (d < 0)
		return bad(fr, err, "\"%s\" %g is negative", key, d);
	mul = (double)unit_ns[fr->tu];
	if (d * mul > 9.0e18)
		return bad(fr, err, "\"%s\" %g is too large%s", key, d,
			   fr->tu == TRACE_TU_S && d >= 1e11 && d < 1e19
				   ? " as seconds (epoch milliseconds, microseconds or nanoseconds? "
				     "set time_unit: ms, us, ns or auto)" : "");
	/* Integral values exactly (epoch microseconds do not survive d * 1000 in double). */
	if (d == floor(d) && d <= 9.0e18 && (int64_t)d <= INT64_MAX / unit_ns[fr->tu])
		*out = (int64_t)d * unit_ns[fr->tu];
	else
		*out = llround(d * mul);
	return 0;
}

/* A generic jsonl or openai row through fr->jkeys.  0, 1 (model filtered out) or -1. */
static int parse_json_mapped(file_reader *fr, cJSON *o, trace_req *q, fs_err *err)
{
	const char *key;
	cJSON *v;

	v = json_role(fr, o, TRACE_COL_ARRIVAL, &key);
	if (!v)
		return bad(fr, err, "missing \"%s\"", key);
	if (!fr->have_first)
		snprintf(fr->arr_col, sizeof fr->arr_col, "%s", key);
	if (json_arrival(fr, v, key, &q->arrival_ns, err))
		return -1;
	v = json_role(fr, o, TRACE_COL_INPUT, &key);
	if (json_count_v(fr, v, key, 1, &q->input_tokens, err))
		return -1;
	v = json_role(fr, o, TRACE_COL_OUTPUT, &key);
	if (json_count_v(fr, v, key, 1, &q->output_tokens, err))
		return -1;
	v = json_role(fr, o, TRACE_COL_MAX_TOKENS, &key);
	if (json_count_v(fr, v, key, 0, &q->max_tokens, err))
		return -1;
	v = json_role(fr, o, TRACE_COL_PROMPT_BYTES, &key);
	if (json_count_v(fr, v, key, 0, &q->prompt_bytes, err))
		return -1;
	if (fr->jkeys[TRACE_COL_HASH_IDS][0] && (v = json_role(fr, o, TRACE_COL_HASH_IDS, &key)) &&
	    json_hashes(fr, v, key, q, err))
		return -1;
	if (fr->model_filter[0] || fr->cat_from_model) {
		v = fr->jkeys[TRACE_COL_MODEL][0] ? json_role(fr, o, TRACE_COL_MODEL, &key) : NULL;
		if (v && !cJSON_IsString(v))
			return bad(fr, err, "\"%s\" is not a string", key);
		if (!v && fr->model_filter[0])
			return bad(fr, err, "missing \"%s\" (the model filter needs it)", key);
		if (v && !model_kept(fr, v->valuestring, strlen(v->valuestring)))
			return 1;
		if (v && fr->cat_from_model &&
		    trace_cat_intern(&fr->base, v->valuestring, strlen(v->valuestring), &q->category, err))
			return bad(fr, err, "%s", err->msg);
	}
	if (fr->jkeys[TRACE_COL_CATEGORY][0] && (v = json_role(fr, o, TRACE_COL_CATEGORY, &key))) {
		if (!cJSON_IsString(v))
			return bad(fr, err, "\"%s\" is not a string", key);
		if (trace_cat_intern(&fr->base, v->valuestring, strlen(v->valuestring), &q->category, err))
			return bad(fr, err, "%s", err->msg);
	}
	return 0;
}

static int json_time(file_reader *fr, cJSON *o, const char *key, double unit_ns, int64_t *out,
		     fs_err *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		return bad(fr, err, "missing \"%s\"", key);
	if (!cJSON_IsNumber(v))
		return bad(fr, err, "\"%s\" is not a number", key);
	if (v->valuedouble < 0)
		return bad(fr, err, "\"%s\" %g is negative", key, v->valuedouble);
	if (v->valuedouble * unit_ns > 9.0e18)
		return bad(fr, err, "\"%s\" %g is too large", key, v->valuedouble);
	*out = llround(v->valuedouble * unit_ns);
	return 0;
}

/* Returns 0 with *q filled, 1 for a row the model filter drops, or -1 with err set. */
static int parse_json_row(file_reader *fr, char *line, size_t len, trace_req *q, fs_err *err)
{
	cJSON *o = cJSON_ParseWithLength(line, len), *h;
	int rc = -1;

	req_init(q);
	if (!o || !cJSON_IsObject(o)) {
		bad(fr, err, "not a JSON object");
		goto out;
	}
	if (fr->base.format == TRACE_FMT_MOONCAKE) {
		if (json_time(fr, o, "timestamp", 1e6, &q->arrival_ns, err) ||
		    json_count(fr, o, "input_length", 1, &q->input_tokens, err) ||
		    json_count(fr, o, "output_length", 1, &q->output_tokens, err))
			goto out;
		h = cJSON_GetObjectItemCaseSensitive(o, "hash_ids");
		if (h && json_hashes(fr, h, "hash_ids", q, err))
			goto out;
		rc = 0;
	} else {
		rc = parse_json_mapped(fr, o, q, err);
	}
out:
	cJSON_Delete(o);
	return rc;
}

/* ---- the reader ---- */

/* Note that absolute timestamps were re-based (and what the unit was, when detected). */
static void set_time_note(file_reader *fr, int64_t first_ns)
{
	char when[48];

	if (fr->tu == TRACE_TU_ISO || first_ns >= (int64_t)(TRACE_EPOCH_MIN_S * 1e9))
		format_utc(first_ns, when, sizeof when);
	else
		snprintf(when, sizeof when, "%.3f s", st_to_s(first_ns));
	if (fr->base.format == TRACE_FMT_CSV || fr->base.format == TRACE_FMT_JSONL ||
	    fr->base.format == TRACE_FMT_OPENAI)
		snprintf(fr->note, sizeof fr->note,
			 "%s: arrival column '%s' holds %s%s (%s%s); first request at %s, arrivals re-based to it",
			 fr->path, fr->arr_col, fr->tu == TRACE_TU_ISO || first_ns < (int64_t)(TRACE_EPOCH_MIN_S * 1e9) ? "" : "epoch ", tu_long[fr->tu],
			 fr->tu_asked == TRACE_TU_AUTO ? "detected" : "time_unit: ",
			 fr->tu_asked == TRACE_TU_AUTO ? "" : tu_names[fr->tu_asked], when);
	else
		snprintf(fr->note, sizeof fr->note,
			 "%s: timestamps are absolute; first request at %s, arrivals re-based to it", fr->path,
			 when);
}

/* End of a file whose every row the model filter dropped: an error naming the models
 * the file has, not an empty replay. */
static int no_model(file_reader *fr, fs_err *err)
{
	char list[8 * 66 + 8];
	size_t ll = 0;

	list[0] = '\0';
	for (int i = 0; i < fr->n_seen; i++)
		ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%s", i ? ", " : "", fr->seen[i]);
	if (fr->n_seen == MAX_SEEN_MODELS)
		snprintf(list + ll, sizeof list - ll, ", ...");
	return fs_fail(err, FS_EXIT_INPUT, "%s: no request has model '%s' (%lld rows have other models: %s)",
		       fr->path, fr->model_filter, (long long)fr->filtered, list);
}

/* 0 with *q, 1 for a row the model filter dropped, -1 with err set. */
static int parse_row(file_reader *fr, char *line, size_t len, trace_req *q, fs_err *err)
{
	int rc = fr->is_json ? parse_json_row(fr, line, len, q, err) : parse_csv_row(fr, line, len, q, err);

	if (rc)
		return rc;
	if (q->input_tokens < 1)
		return bad(fr, err, "input tokens must be at least 1");
	if (q->output_tokens == 0)
		q->flags |= TRACE_F_FAILED; /* nothing generated: BurstGPT's failure rows */
	if (q->max_tokens >= 0 && q->max_tokens < q->output_tokens)
		return bad(fr, err, "max_tokens %d is below output tokens %d", q->max_tokens,
			   q->output_tokens);
	if (!fr->have_first) {
		/* Absolute timestamps (ISO dates, epoch times) start the replay at the first
		 * request: a 1.7e9 s idle lead-in is never what is meant.  Offsets (Azure is
		 * re-based by its reader already) are kept as they are. */
		fr->have_first = 1;
		if ((fr->rebase_always && q->arrival_ns > 0) ||
		    (fr->tu == TRACE_TU_ISO && fr->base.format != TRACE_FMT_AZURE) ||
		    q->arrival_ns >= (int64_t)(TRACE_EPOCH_MIN_S * 1e9)) {
			fr->rebase_ns = q->arrival_ns;
			set_time_note(fr, q->arrival_ns);
		}
	}
	q->arrival_ns -= fr->rebase_ns;
	if (fr->have_prev && q->arrival_ns < fr->prev_ns) {
		if (fr->prev_ns - q->arrival_ns > fr->tol_ns) {
			if (fr->mapped || fr->base.format == TRACE_FMT_OPENAI)
				return bad(fr, err, "timestamp goes backwards by %.3f s (tolerance %.3f s) in column '%s'",
					   st_to_s(fr->prev_ns - q->arrival_ns), st_to_s(fr->tol_ns), fr->arr_col);
			return bad(fr, err, "timestamp goes backwards by %.3f s (tolerance %.3f s)",
				   st_to_s(fr->prev_ns - q->arrival_ns), st_to_s(fr->tol_ns));
		}
		q->arrival_ns = fr->prev_ns; /* small reorder: keep the stream non-decreasing */
	}
	return 0;
}

static int file_next(trace_reader *r, trace_req *out, fs_err *err)
{
	file_reader *fr = (file_reader *)r;
	char *line;
	size_t len;
	int rc;

	for (;;) {
		if (fr->pending) {
			line = fr->pending;
			len = fr->pending_len;
			rc = parse_row(fr, line, len, out, err);
			/* pending is only used for JSONL, whose rows keep no pointers into line */
			free(fr->pending);
			fr->pending = NULL;
		} else {
			int got = tin_line(fr->in, &line, &len, err);

			if (got < 0)
				return got;
			if (got == 0) {
				if (fr->returned == 0 && fr->filtered > 0)
					return no_model(fr, err);
				return 0;
			}
			if (len == 0)
				continue; /* blank lines are not rows */
			rc = parse_row(fr, line, len, out, err);
		}
		if (rc == 0) {
			fr->prev_ns = out->arrival_ns;
			fr->have_prev = 1;
			fr->returned++;
			return 1;
		}
		if (rc == 1) {
			fr->filtered++;
			continue;
		}
		if (!fr->skip_bad || err->status == FS_EXIT_RUNTIME)
			return -1;
		fr->base.bad_rows++;
		fs_err_clear(err);
	}
}

static void file_destroy(trace_reader *r)
{
	file_reader *fr = (file_reader *)r;

	tin_close(fr->in);
	free(fr->path);
	free(fr->pending);
	free(fr->hashes);
}

static const char *file_note(const trace_reader *r)
{
	const file_reader *fr = (const file_reader *)r;

	return fr->note[0] ? fr->note : NULL;
}

static const trace_ops file_ops = {.next = file_next, .destroy = file_destroy, .time_note = file_note};

trace_open_opts trace_open_opts_default(void)
{
	trace_open_opts o;

	memset(&o, 0, sizeof o);
	o.format = TRACE_FMT_AUTO;
	o.backward_tol_ns = TRACE_DEFAULT_BACKWARD_TOL_NS;
	o.time_unit = TRACE_TU_AUTO;
	return o;
}

static const char *const fmt_names[] = {"auto", "azure", "burstgpt", "mooncake", "csv", "jsonl", "openai"};

const char *trace_format_name(trace_format f)
{
	return (unsigned)f < sizeof fmt_names / sizeof *fmt_names ? fmt_names[f] : "?";
}

int trace_format_parse(const char *name, trace_format *out)
{
	for (size_t i = 0; i < sizeof fmt_names / sizeof *fmt_names; i++)
		if (!strcasecmp(name, fmt_names[i])) {
			*out = (trace_format)i;
			return 0;
		}
	return -1;
}

/* Whether JSON object o is an OpenAI-style usage record (a chat/completions response,
 * or a gateway's {"request": ..., "response": ...} log line). */
static int is_openai(cJSON *o)
{
	cJSON *v = json_path(o, "usage.prompt_tokens");

	if (!v)
		v = json_path(o, "response.usage.prompt_tokens");
	return v && cJSON_IsNumber(v);
}

/* Keys of the openai format per role, most common first. */
static const char *const openai_keys[TRACE_COL_N][MAX_JKEYS] = {
	[TRACE_COL_ARRIVAL] = {"created", "timestamp", "response.created"},
	[TRACE_COL_INPUT] = {"usage.prompt_tokens", "response.usage.prompt_tokens"},
	[TRACE_COL_OUTPUT] = {"usage.completion_tokens", "response.usage.completion_tokens"},
	[TRACE_COL_MAX_TOKENS] = {"max_tokens", "max_completion_tokens", "request.max_tokens",
				  "request.max_completion_tokens"},
	[TRACE_COL_MODEL] = {"model", "response.model", "request.model"},
};

/* Message labels, JSON keys, the arrival column's name and the checks that depend on
 * the format now known.  Returns 0, or -1 with err. */
static int setup_roles(file_reader *fr, const trace_open_opts *o, trace_format fmt, fs_err *err)
{
	static const char *const native_unit[] = {
		[TRACE_FMT_AZURE] = "ISO 8601 dates", [TRACE_FMT_BURSTGPT] = "seconds",
		[TRACE_FMT_MOONCAKE] = "milliseconds"};
	int json = fmt == TRACE_FMT_JSONL || fmt == TRACE_FMT_OPENAI;

	for (int r = 0; r < TRACE_COL_N; r++) {
		if (o->columns[r][0]) {
			snprintf(fr->label[r], sizeof fr->label[r], "%s (%s)", o->columns[r], role_names[r]);
			snprintf(fr->jown[r], sizeof fr->jown[r], "%s", o->columns[r]);
			fr->jkeys[r][0] = fr->jown[r];
		} else {
			snprintf(fr->label[r], sizeof fr->label[r], "%s", legacy_labels[r]);
			if (fmt == TRACE_FMT_OPENAI)
				memcpy(fr->jkeys[r], openai_keys[r], sizeof fr->jkeys[r]);
			else if (r != TRACE_COL_HASH_IDS && (r != TRACE_COL_MODEL || o->model_filter[0]))
				fr->jkeys[r][0] = generic_names[r]; /* jsonl: hash_ids, model when mapped */
		}
	}
	if (json) {
		if (fmt == TRACE_FMT_OPENAI && !o->columns[TRACE_COL_CATEGORY][0])
			fr->cat_from_model = 1;
		if (fmt == TRACE_FMT_JSONL && o->columns[TRACE_COL_MODEL][0] && !o->columns[TRACE_COL_CATEGORY][0])
			fr->cat_from_model = 1;
		if (fr->cat_from_model)
			fr->jkeys[TRACE_COL_CATEGORY][0] = NULL;
		snprintf(fr->arr_col, sizeof fr->arr_col, "%s", fr->jkeys[TRACE_COL_ARRIVAL][0]);
		if (!o->columns[TRACE_COL_ARRIVAL][0] && fmt == TRACE_FMT_OPENAI)
			snprintf(fr->label[TRACE_COL_ARRIVAL], sizeof fr->label[0], "created");
	} else {
		snprintf(fr->arr_col, sizeof fr->arr_col, "%s",
			 o->columns[TRACE_COL_ARRIVAL][0] ? o->columns[TRACE_COL_ARRIVAL]
			 : fmt == TRACE_FMT_AZURE ? "TIMESTAMP" : fmt == TRACE_FMT_BURSTGPT ? "Timestamp"
			 : fmt == TRACE_FMT_MOONCAKE ? "timestamp" : "arrival_s");
	}
	if (fmt == TRACE_FMT_AZURE || fmt == TRACE_FMT_BURSTGPT || fmt == TRACE_FMT_MOONCAKE) {
		trace_time_unit ok = fmt == TRACE_FMT_AZURE ? TRACE_TU_ISO : fmt == TRACE_FMT_BURSTGPT
					     ? TRACE_TU_S : TRACE_TU_MS;

		if (o->time_unit != TRACE_TU_AUTO && o->time_unit != ok)
			return fs_fail(err, FS_EXIT_INPUT,
				       "%s: time_unit %s does not apply to %s traces (their timestamps are %s)",
				       fr->path, tu_names[o->time_unit], fmt_names[fmt], native_unit[fmt]);
		fr->tu = TRACE_TU_AUTO; /* the format's own parser handles its unit */
		if (o->model_filter[0] && fmt != TRACE_FMT_BURSTGPT)
			return fs_fail(err, FS_EXIT_INPUT, "%s: a model filter needs a model column; %s traces have none",
				       fr->path, fmt_names[fmt]);
	} else if (fmt == TRACE_FMT_CSV && !fr->mapped && o->model_filter[0]) {
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: a model filter needs a model column: name it with columns.model (--columns model=NAME)",
			       fr->path);
	}
	return 0;
}

int trace_open_file(const char *path, const trace_open_opts *opts, trace_reader **out,
		    fs_err *err)
{
	trace_open_opts o = opts ? *opts : trace_open_opts_default();
	file_reader *fr = (file_reader *)trace_alloc(sizeof *fr, &file_ops);
	trace_format fmt = TRACE_FMT_AUTO;
	char *line;
	size_t len;
	int got;

	if (!fr)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	fr->skip_bad = o.skip_bad_rows;
	fr->tol_ns = o.backward_tol_ns < 0 ? TRACE_DEFAULT_BACKWARD_TOL_NS : o.backward_tol_ns;
	fr->tu = fr->tu_asked = o.time_unit;
	for (int r = 0; r < TRACE_COL_N; r++) {
		o.columns[r][TRACE_COL_NAME_MAX - 1] = '\0';
		fr->mapped |= o.columns[r][0] != '\0';
	}
	o.model_filter[TRACE_COL_NAME_MAX - 1] = '\0';
	snprintf(fr->model_filter, sizeof fr->model_filter, "%s", o.model_filter);
	fr->path = strdup(path);
	if (!fr->path) {
		fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
		goto fail;
	}
	if (tin_open(path, &fr->in, err))
		goto fail;
	do
		got = tin_line(fr->in, &line, &len, err);
	while (got == 1 && len == 0);
	if (got < 0)
		goto fail;
	if (got == 0) {
		fs_fail(err, FS_EXIT_INPUT, "%s: empty trace file", path);
		goto fail;
	}
	if (len >= 3 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
	    (unsigned char)line[2] == 0xbf) { /* UTF-8 byte order mark */
		line += 3;
		len -= 3;
	}
	if (len && line[0] == '{') {
		cJSON *obj = cJSON_ParseWithLength(line, len);

		fr->is_json = 1;
		if (obj && !fr->mapped && cJSON_GetObjectItemCaseSensitive(obj, "input_length"))
			fmt = TRACE_FMT_MOONCAKE;
		else if (obj && !fr->mapped && cJSON_GetObjectItemCaseSensitive(obj, "input_tokens"))
			fmt = TRACE_FMT_JSONL;
		else if (obj && is_openai(obj))
			fmt = TRACE_FMT_OPENAI;
		else if (obj && fr->mapped)
			fmt = TRACE_FMT_JSONL;
		cJSON_Delete(obj);
		if (fmt == TRACE_FMT_AUTO && o.format != TRACE_FMT_MOONCAKE && o.format != TRACE_FMT_JSONL &&
		    o.format != TRACE_FMT_OPENAI) {
			bad(fr, err, "unknown trace format: first JSON object has neither \"input_length\" (Mooncake), \"input_tokens\" (generic JSONL) "
			    "nor \"usage\": {\"prompt_tokens\": ...} (OpenAI usage log); name its keys with columns (--columns)");
			goto fail;
		}
		if (o.format != TRACE_FMT_AUTO)
			fmt = o.format;
		if (fmt != TRACE_FMT_MOONCAKE && fmt != TRACE_FMT_JSONL && fmt != TRACE_FMT_OPENAI) {
			bad(fr, err, "format %s expects a CSV header, found a JSON object", trace_format_name(fmt));
			goto fail;
		}
		if (fmt == TRACE_FMT_MOONCAKE && fr->mapped) {
			bad(fr, err, "columns apply to csv, jsonl and openai traces, not mooncake");
			goto fail;
		}
		fr->pending = malloc(len + 1);
		if (!fr->pending) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto fail;
		}
		memcpy(fr->pending, line, len + 1);
		fr->pending_len = len;
	} else {
		if (o.format == TRACE_FMT_MOONCAKE || o.format == TRACE_FMT_JSONL || o.format == TRACE_FMT_OPENAI) {
			bad(fr, err, "format %s expects JSON objects, found '%.40s'",
			    trace_format_name(o.format), line);
			goto fail;
		}
		if (fr->mapped) {
			if (o.format != TRACE_FMT_AUTO && o.format != TRACE_FMT_CSV) {
				bad(fr, err, "columns apply to csv, jsonl and openai traces, not %s",
				    trace_format_name(o.format));
				goto fail;
			}
			fmt = TRACE_FMT_CSV;
			if (read_header_mapped(fr, line, len, &o, err))
				goto fail;
		} else {
			if (read_header(fr, line, len, &fmt, err))
				goto fail;
			if (o.format != TRACE_FMT_AUTO && o.format != fmt) {
				bad(fr, err, "header is a %s header, not %s", trace_format_name(fmt),
				    trace_format_name(o.format));
				goto fail;
			}
		}
	}
	fr->base.format = fmt;
	/* New ways of reading (a mapping, a unit, usage logs) always start the replay at
	 * the first request; plain traces keep their offsets below TRACE_EPOCH_MIN_S, so
	 * existing results do not move. */
	fr->rebase_always = fr->mapped || o.time_unit != TRACE_TU_AUTO || fmt == TRACE_FMT_OPENAI;
	if (setup_roles(fr, &o, fmt, err))
		goto fail;
	*out = &fr->base;
	return 0;
fail:
	trace_close(&fr->base);
	return -1;
}
