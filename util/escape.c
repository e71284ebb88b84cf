#include "util/escape.h"

#include <string.h>

int esc_html(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\t': case '\n': case '\r': fputc(*s, f); break;
		default: fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
		}
	}
	return ferror(f) ? -1 : 0;
}

/* A '<' that could open raw HTML in Markdown (a tag, end tag, comment or processing
 * instruction); "<=" and "< 5" stay as they are. */
static int md_tag_open(const char *s)
{
	char c = s[1];

	return s[0] == '<' && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '!' ||
			       c == '?');
}

int esc_md_cell(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (md_tag_open(s))
			fputs("&lt;", f);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
	return ferror(f) ? -1 : 0;
}

int esc_md_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		if (md_tag_open(s))
			fputs("&lt;", f);
		else
			fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
	return ferror(f) ? -1 : 0;
}

int esc_gnuplot(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; s && *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc('?', f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
	return ferror(f) ? -1 : 0;
}

int esc_gnuplot_comment(FILE *f, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
	return ferror(f) ? -1 : 0;
}

int esc_csv(FILE *f, const char *s)
{
	if (!s)
		return 0;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return ferror(f) ? -1 : 0;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
	return ferror(f) ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s (1-4) and its code point, or 0 when s does
 * not start one (a stray continuation byte, an overlong form, a surrogate, a cut-off
 * sequence). */
static int utf8_seq(const unsigned char *s, unsigned *cp)
{
	unsigned c = s[0], v, min;
	int n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

int esc_yaml(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		unsigned cp;
		int n = utf8_seq(p, &cp);

		if (!n) {
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			fprintf(f, "\\x%02x", cp);
		else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(p, 1, (size_t)n, f);
		p += n;
	}
	fputc('"', f);
	return ferror(f) ? -1 : 0;
}

int esc_yaml_comment(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		unsigned cp;
		int n = utf8_seq(p, &cp);

		/* NEL, LS and PS end a line for YAML 1.1 readers. */
		if (!n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
			fputc('?', f);
			p += n ? n : 1;
			continue;
		}
		fwrite(p, 1, (size_t)n, f);
		p += n;
	}
	return ferror(f) ? -1 : 0;
}

int esc_has_ctrl(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}
