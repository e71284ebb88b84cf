/*
 * treaders.c - trace file readers: Azure 2023/2024, BurstGPT, Mooncake JSONL and the
 * generic CSV/JSONL, behind trace_reader.  One line is parsed per trace_next(), so
 * memory is the input buffer plus one row whatever the file size.
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
	C_LOGTYPE   /* BurstGPT Log Type */
};

#define MAX_COLS 16

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
} file_reader;

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

/* Seconds (plain decimal fast path, else strict np_double) to ns, >= 0. */
static int parse_seconds(file_reader *fr, const char *s, size_t n, const char *name,
			 int64_t *out, fs_err *err)
{
	int64_t ip = 0, frac = 0;
	size_t i = 0;
	int nd = 0, ni = 0;
	double d;

	for (; i < n && (unsigned)(s[i] - '0') <= 9u && ni < 10; i++, ni++)
		ip = ip * 10 + (s[i] - '0');
	if (ni && (i == n || s[i] == '.')) {
		if (i < n)
			for (i++; i < n && (unsigned)(s[i] - '0') <= 9u && nd < 9; i++, nd++)
				frac = frac * 10 + (s[i] - '0');
		if (i == n && !(nd == 0 && s[n - 1] == '.')) {
			for (; nd < 9; nd++)
				frac *= 10;
			*out = ip * 1000000000LL + frac;
			return 0;
		}
	}
	if (np_double(s, n, &d))
		return bad(fr, err, "%s '%.*s' is not a number", name, (int)(n > 40 ? 40 : n), s);
	if (d < 0)
		return bad(fr, err, "%s %g is negative", name, d);
	if (st_from_s(d, out))
		return bad(fr, err, "%s %g is too large", name, d);
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
				   "arrival_s,input_tokens,output_tokens,max_tokens,category,prompt_bytes for generic CSV)",
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
		return bad(fr, err, "unknown trace format: header has no TIMESTAMP, Timestamp+Model or arrival_s column");
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

static void req_init(trace_req *q)
{
	memset(q, 0, sizeof *q);
	q->max_tokens = -1;
	q->prompt_bytes = -1;
	q->category = -1;
}

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
			if (parse_seconds(fr, f[i], fl[i], "arrival_s", &q->arrival_ns, err))
				return -1;
			break;
		case C_IN:
			if (parse_count(fr, f[i], fl[i], "input tokens", &q->input_tokens, err))
				return -1;
			break;
		case C_OUT:
			if (parse_count(fr, f[i], fl[i], "output tokens", &q->output_tokens, err))
				return -1;
			break;
		case C_MAX:
			if (fl[i] == 0)
				break; /* optional per row */
			if (parse_count(fr, f[i], fl[i], "max_tokens", &v, err))
				return -1;
			q->max_tokens = v;
			break;
		case C_BYTES:
			if (fl[i] == 0)
				break;
			if (parse_count(fr, f[i], fl[i], "prompt_bytes", &v, err))
				return -1;
			q->prompt_bytes = v;
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

static int json_count(file_reader *fr, cJSON *o, const char *key, int required, int32_t *out,
		      fs_err *err)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

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

static int parse_json_row(file_reader *fr, char *line, size_t len, trace_req *q, fs_err *err)
{
	cJSON *o = cJSON_ParseWithLength(line, len), *h, *c;
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
		if (h) {
			int n, i = 0;

			if (!cJSON_IsArray(h)) {
				bad(fr, err, "\"hash_ids\" is not an array");
				goto out;
			}
			n = cJSON_GetArraySize(h);
			if (n > fr->hash_cap) {
				uint64_t *p = realloc(fr->hashes, (size_t)n * sizeof *p);

				if (!p) {
					fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
					goto out;
				}
				fr->hashes = p;
				fr->hash_cap = n;
			}
			cJSON_ArrayForEach(c, h) {
				if (!cJSON_IsNumber(c) || c->valuedouble < 0 ||
				    c->valuedouble != floor(c->valuedouble)) {
					bad(fr, err, "\"hash_ids\"[%d] is not a non-negative integer", i);
					goto out;
				}
				fr->hashes[i++] = (uint64_t)c->valuedouble;
			}
			q->n_hashes = n;
			q->hashes = n ? fr->hashes : NULL;
			q->hash_block_tokens = 512;
		}
	} else {
		if (json_time(fr, o, "arrival_s", 1e9, &q->arrival_ns, err) ||
		    json_count(fr, o, "input_tokens", 1, &q->input_tokens, err) ||
		    json_count(fr, o, "output_tokens", 1, &q->output_tokens, err) ||
		    json_count(fr, o, "max_tokens", 0, &q->max_tokens, err) ||
		    json_count(fr, o, "prompt_bytes", 0, &q->prompt_bytes, err))
			goto out;
		c = cJSON_GetObjectItemCaseSensitive(o, "category");
		if (c && !cJSON_IsNull(c)) {
			if (!cJSON_IsString(c)) {
				bad(fr, err, "\"category\" is not a string");
				goto out;
			}
			if (trace_cat_intern(&fr->base, c->valuestring, strlen(c->valuestring),
					     &q->category, err)) {
				bad(fr, err, "%s", err->msg);
				goto out;
			}
		}
	}
	rc = 0;
out:
	cJSON_Delete(o);
	return rc;
}

/* ---- the reader ---- */

static int parse_row(file_reader *fr, char *line, size_t len, trace_req *q, fs_err *err)
{
	if (fr->is_json ? parse_json_row(fr, line, len, q, err) : parse_csv_row(fr, line, len, q, err))
		return -1;
	if (q->input_tokens < 1)
		return bad(fr, err, "input tokens must be at least 1");
	if (q->output_tokens == 0)
		q->flags |= TRACE_F_FAILED; /* nothing generated: BurstGPT's failure rows */
	if (q->max_tokens >= 0 && q->max_tokens < q->output_tokens)
		return bad(fr, err, "max_tokens %d is below output tokens %d", q->max_tokens,
			   q->output_tokens);
	if (fr->have_prev && q->arrival_ns < fr->prev_ns) {
		if (fr->prev_ns - q->arrival_ns > fr->tol_ns)
			return bad(fr, err, "timestamp goes backwards by %.3f s (tolerance %.3f s)",
				   st_to_s(fr->prev_ns - q->arrival_ns), st_to_s(fr->tol_ns));
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

			if (got <= 0)
				return got;
			if (len == 0)
				continue; /* blank lines are not rows */
			rc = parse_row(fr, line, len, out, err);
		}
		if (rc == 0) {
			fr->prev_ns = out->arrival_ns;
			fr->have_prev = 1;
			return 1;
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

static const trace_ops file_ops = {.next = file_next, .destroy = file_destroy};

trace_open_opts trace_open_opts_default(void)
{
	trace_open_opts o = {TRACE_FMT_AUTO, 0, TRACE_DEFAULT_BACKWARD_TOL_NS};

	return o;
}

static const char *const fmt_names[] = {"auto", "azure", "burstgpt", "mooncake", "csv", "jsonl"};

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
		if (obj && cJSON_GetObjectItemCaseSensitive(obj, "input_length"))
			fmt = TRACE_FMT_MOONCAKE;
		else if (obj && cJSON_GetObjectItemCaseSensitive(obj, "input_tokens"))
			fmt = TRACE_FMT_JSONL;
		cJSON_Delete(obj);
		if (fmt == TRACE_FMT_AUTO && o.format != TRACE_FMT_MOONCAKE && o.format != TRACE_FMT_JSONL) {
			bad(fr, err, "unknown trace format: first JSON object has neither \"input_length\" (Mooncake) nor \"input_tokens\" (generic JSONL)");
			goto fail;
		}
		if (o.format != TRACE_FMT_AUTO)
			fmt = o.format;
		if (fmt != TRACE_FMT_MOONCAKE && fmt != TRACE_FMT_JSONL) {
			bad(fr, err, "format %s expects a CSV header, found a JSON object", trace_format_name(fmt));
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
		if (o.format == TRACE_FMT_MOONCAKE || o.format == TRACE_FMT_JSONL) {
			bad(fr, err, "format %s expects JSON objects, found '%.40s'",
			    trace_format_name(o.format), line);
			goto fail;
		}
		if (read_header(fr, line, len, &fmt, err))
			goto fail;
		if (o.format != TRACE_FMT_AUTO && o.format != fmt) {
			bad(fr, err, "header is a %s header, not %s", trace_format_name(fmt),
			    trace_format_name(o.format));
			goto fail;
		}
	}
	fr->base.format = fmt;
	*out = &fr->base;
	return 0;
fail:
	trace_close(&fr->base);
	return -1;
}
