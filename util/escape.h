/*
 * escape.h - the one escaper per output format.  Names in reports (scenario, policy,
 * pool, GPU, option labels) come from untrusted files, so every one of them that is
 * embedded in HTML, Markdown, YAML or a gnuplot script goes through these functions; no
 * other module escapes for these formats.
 *
 * Each writes s (NULL: nothing) to f, escaped, and returns 0, or -1 when f reports a
 * write error (the caller's of_close reports it too, with the path).
 */
#ifndef FS_ESCAPE_H
#define FS_ESCAPE_H

#include <stdio.h>

/* HTML text or a double-quoted attribute value: < > & " become entities.  ' is left
 * alone: no attribute is single-quoted.  A control character other than tab, newline
 * and carriage return (not valid in HTML) becomes '?'. */
int esc_html(FILE *f, const char *s);

/* A Markdown table cell: | becomes \|, and a newline or other control character
 * becomes a space, so a name can neither end its cell nor its row.  Other text is
 * kept as is (the reports' own Markdown markup is written around it), but a '<' that
 * could open raw HTML (followed by a letter, '/', '!' or '?') becomes &lt;. */
int esc_md_cell(FILE *f, const char *s);

/* Markdown running text (a paragraph, heading or image alt text): a newline or other
 * control character becomes a space, so a name cannot end the block and start markup
 * of its own at the beginning of a line; a '<' that could open raw HTML becomes &lt;. */
int esc_md_text(FILE *f, const char *s);

/* A gnuplot single-quoted string, quotes included: ' doubles, control characters
 * become '?' (a newline would end the command). */
int esc_gnuplot(FILE *f, const char *s);

/* Text inside a gnuplot comment line (# ...): control characters become '?', so the
 * comment cannot end early and start a command. */
int esc_gnuplot_comment(FILE *f, const char *s);

/* A YAML scalar: always a double-quoted string, quotes included.  \\ and " are
 * escaped, control characters (C0, DEL, C1) and the Unicode line and paragraph
 * separators become \xHH / \uHHHH escapes, and a byte that is not part of valid
 * UTF-8 becomes \xHH (YAML has no raw bytes), so the value can neither end its
 * string nor its line: whatever s holds, it reads back as one scalar. */
int esc_yaml(FILE *f, const char *s);

/* Text inside a YAML comment line (# ...): control characters (C0, DEL, C1), the
 * Unicode line and paragraph separators and invalid UTF-8 become '?', so the comment
 * cannot end early and start YAML of its own. */
int esc_yaml_comment(FILE *f, const char *s);

/* One CSV field (RFC 4180): as it is, or double-quoted with "" for a quote when it
 * holds a comma, a quote, CR or LF, so a name never adds a column or a row. */
int esc_csv(FILE *f, const char *s);

/* The name rule of every loader: 1 when s holds a control character (below 0x20, or
 * 0x7f), which no name may contain (it would reach a terminal or a file raw); 0
 * otherwise (also for NULL). */
int esc_has_ctrl(const char *s);

#endif
