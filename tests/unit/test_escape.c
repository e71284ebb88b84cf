/* CUnit suite for util/escape.c: each format's escaper on hostile names, checked
 * against the bytes written by hand. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

/* What fn writes for s, as a string (static buffer, overwritten by the next call). */
static const char *run(int (*fn)(FILE *, const char *), const char *s)
{
	static char buf[256];
	FILE *f;

	memset(buf, 0, sizeof buf);
	f = fmemopen(buf, sizeof buf - 1, "w");
	if (!f)
		return "(fmemopen failed)";
	CU_ASSERT_EQUAL(fn(f, s), 0);
	fclose(f);
	return buf;
}

static void test_html(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_html, "plain name-1"), "plain name-1");
	CU_ASSERT_STRING_EQUAL(run(esc_html, "<script>a&b\"c'</script>"),
			       "&lt;script&gt;a&amp;b&quot;c'&lt;/script&gt;");
	CU_ASSERT_STRING_EQUAL(run(esc_html, NULL), "");
}

static void test_markdown(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_md_cell, "h100/bf16/single"), "h100/bf16/single");
	CU_ASSERT_STRING_EQUAL(run(esc_md_cell, "a|b\nc"), "a\\|b c");
	CU_ASSERT_STRING_EQUAL(run(esc_md_text, "x\n# not a heading\r"), "x # not a heading ");
	CU_ASSERT_STRING_EQUAL(run(esc_md_text, "**kept** | as is"), "**kept** | as is");
}

static void test_gnuplot(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, "TTFT p99 / SLO"), "'TTFT p99 / SLO'");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, "it's\n; system 'rm'"), "'it''s?; system ''rm'''");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, ""), "''");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot_comment, "opt\nplot 1"), "opt?plot 1");
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("escape", NULL, NULL);
	if (!s || !CU_add_test(s, "html", test_html) || !CU_add_test(s, "markdown", test_markdown) ||
	    !CU_add_test(s, "gnuplot", test_gnuplot))
		return -1;
	return 0;
}
