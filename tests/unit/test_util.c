/* CUnit suite for util/: strict number parsing, YAML helpers and --set paths. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "util/err.h"
#include "util/numparse.h"
#include "util/yamlutil.h"

static void test_numbers(void)
{
	int64_t i;
	double d;
	int b;

	CU_ASSERT_EQUAL(np_i64(" 42 ", (size_t)-1, &i), 0);
	CU_ASSERT_EQUAL(i, 42);
	CU_ASSERT_EQUAL(np_i64("42x", (size_t)-1, &i), -1);
	CU_ASSERT_EQUAL(np_i64("", (size_t)-1, &i), -1);
	CU_ASSERT_EQUAL(np_i64("9223372036854775808", (size_t)-1, &i), -1);
	CU_ASSERT_EQUAL(np_double("1.5e3", (size_t)-1, &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 1500.0, 1e-12);
	CU_ASSERT_EQUAL(np_double("1e309", (size_t)-1, &d), -1);
	CU_ASSERT_EQUAL(np_double("nan", (size_t)-1, &d), -1);
	CU_ASSERT_EQUAL(np_double("0x10", (size_t)-1, &d), -1);
	CU_ASSERT_EQUAL(np_double("1,5", (size_t)-1, &d), -1);
	CU_ASSERT_EQUAL(np_double("12", 1, &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 1.0, 0);
	CU_ASSERT_EQUAL(np_bool("Yes", (size_t)-1, &b), 0);
	CU_ASSERT_EQUAL(b, 1);
	CU_ASSERT_EQUAL(np_bool("maybe", (size_t)-1, &b), -1);
}

static void test_yaml_errors(void)
{
	static const char bad[] = "a: 1\nb: [1, 2\n";
	static const char good[] = "a: 1\nb:\n  c: x\n  d: 2.5\n";
	static const char *const allowed[] = {"a", "b", NULL};
	static const char *const allowed_b[] = {"c", NULL};
	struct fy_document *doc = NULL;
	fs_err err = {0};
	double d;

	CU_ASSERT_EQUAL(yu_load_string("bad.yaml", bad, strlen(bad), &doc, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bad.yaml:"));

	CU_ASSERT_EQUAL_FATAL(yu_load_string("good.yaml", good, strlen(good), &doc, &err), 0);
	CU_ASSERT_EQUAL(yu_check_keys("good.yaml", fy_document_root(doc), allowed, "scenario", &err), 0);
	CU_ASSERT_EQUAL(yu_check_keys("good.yaml", yu_get(fy_document_root(doc), "b"), allowed_b, "b", &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "good.yaml:4:3: unknown key 'd' in b (known: c)");
	CU_ASSERT_EQUAL(yu_double("good.yaml", yu_get(yu_get(fy_document_root(doc), "b"), "c"), &d, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "good.yaml:3:6: expected a number"));

	CU_ASSERT_EQUAL(yu_set_path(doc, "b.d=7", &err), 0);
	CU_ASSERT_EQUAL(yu_double("x", yu_get(yu_get(fy_document_root(doc), "b"), "d"), &d, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 7.0, 0);
	CU_ASSERT_EQUAL(yu_set_path(doc, "e.f=3", &err), 0);
	CU_ASSERT_PTR_NOT_NULL(yu_get(yu_get(fy_document_root(doc), "e"), "f"));
	CU_ASSERT_EQUAL(yu_set_path(doc, "a.x=3", &err), -1);
	CU_ASSERT_EQUAL(yu_set_path(doc, "noequals", &err), -1);
	fy_document_destroy(doc);

	CU_ASSERT_EQUAL(yu_load_file("/nonexistent/x.yaml", &doc, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/nonexistent/x.yaml: cannot open"));
	CU_ASSERT_EQUAL(yu_load_file("/tmp", &doc, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a regular file"));
}

/* Durations with units (SLO bounds): bare numbers are seconds; units scale; junk and
 * unknown units fail naming the text at its position. */
static void test_durations(void)
{
	static const char y[] = "a: 2\nb: 50ms\nc: 2s\nd: 1.5 min\ne: 500us\nf: 50 msec\ng: ms\nh: -1s\ni: 3ns\nj: 1h\n";
	struct fy_document *doc = NULL;
	struct fy_node *r;
	fs_err err = {0};
	double v;
	int bare;

	CU_ASSERT_EQUAL_FATAL(yu_load_string("d.yaml", y, strlen(y), &doc, &err), 0);
	r = fy_document_root(doc);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "a"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT(v == 2 && bare == 1);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "b"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT(v == 50e-3 && bare == 0);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "c"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT(v == 2 && bare == 0);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "d"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 90, 1e-12);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "e"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 500e-6, 1e-18);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "i"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 3e-9, 1e-21);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "j"), 0, 1e6, &v, &bare, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(v, 3600, 1e-9);
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "f"), 0, 1e6, &v, &bare, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "d.yaml:6:4: unknown time unit 'msec'"));
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "g"), 0, 1e6, &v, &bare, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected a duration"));
	CU_ASSERT_EQUAL(yu_duration_s("d.yaml", yu_get(r, "h"), 0, 1e6, &v, &bare, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of range"));
	fy_document_destroy(doc);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("util", NULL, NULL);
	if (!s || !CU_add_test(s, "strict numbers", test_numbers) ||
	    !CU_add_test(s, "yaml errors and --set", test_yaml_errors) ||
	    !CU_add_test(s, "durations with units", test_durations))
		return -1;
	return 0;
}
