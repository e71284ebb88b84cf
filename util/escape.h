/*
 * escape.h - the one escaper per output format.  Names in reports (scenario, policy,
 * pool, GPU, option labels) come from untrusted files, so every one of them that is
 * embedded in HTML, Markdown or a gnuplot script goes through these functions; no
 * other module escapes for these formats.
 *
 * Each writes s (NULL: nothing) to f, escaped, and returns 0, or -1 when f reports a
 * write error (the caller's of_close reports it too, with the path).
 */
#ifndef FS_ESCAPE_H
#define FS_ESCAPE_H

#include <stdio.h>

/* HTML text or a double-quoted attribute value: < > & " become entities.  ' is left
 * alone: no attribute is single-quoted. */
int esc_html(FILE *f, const char *s);

/* A Markdown table cell: | becomes \|, and a newline or other control character
 * becomes a space, so a name can neither end its cell nor its row.  Other text is
 * kept as is (the reports' own Markdown markup is written around it). */
int esc_md_cell(FILE *f, const char *s);

/* Markdown running text (a paragraph, heading or image alt text): a newline or other
 * control character becomes a space, so a name cannot end the block and start markup
 * of its own at the beginning of a line. */
int esc_md_text(FILE *f, const char *s);

/* A gnuplot single-quoted string, quotes included: ' doubles, control characters
 * become '?' (a newline would end the command). */
int esc_gnuplot(FILE *f, const char *s);

/* Text inside a gnuplot comment line (# ...): control characters become '?', so the
 * comment cannot end early and start a command. */
int esc_gnuplot_comment(FILE *f, const char *s);

#endif
