/* CUnit suite for util/escape.c: each format's escaper on hostile names, checked
 * against the bytes written by hand; esc_yaml and the Kubernetes manifests parsed back
 * with libfyaml. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "reports/sizing.h"
#include "tutil.h"
#include "util/escape.h"
#include "util/yamlutil.h"

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
	CU_ASSERT_STRING_EQUAL(run(esc_md_text, "<script>a</script> <= 2 <!-- <?x"),
			       "&lt;script>a&lt;/script> <= 2 &lt;!-- &lt;?x");
	CU_ASSERT_STRING_EQUAL(run(esc_md_cell, "<b>|x< 3"), "&lt;b>\\|x< 3");
}

static void test_gnuplot(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, "TTFT p99 / SLO"), "'TTFT p99 / SLO'");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, "it's\n; system 'rm'"), "'it''s?; system ''rm'''");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot, ""), "''");
	CU_ASSERT_STRING_EQUAL(run(esc_gnuplot_comment, "opt\nplot 1"), "opt?plot 1");
}

static void test_html_controls(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_html, "a\x1b[31mb\x07\x7f\tc\n"), "a?[31mb??\tc\n");
	CU_ASSERT_EQUAL(esc_has_ctrl("plain name-1 <x>"), 0);
	CU_ASSERT_EQUAL(esc_has_ctrl(NULL), 0);
	CU_ASSERT_EQUAL(esc_has_ctrl("a\nb"), 1);
	CU_ASSERT_EQUAL(esc_has_ctrl("\x1b"), 1);
	CU_ASSERT_EQUAL(esc_has_ctrl("x\x7f"), 1);
	CU_ASSERT_EQUAL(esc_has_ctrl("caf\xc3\xa9"), 0);
}

/* The hostile names of issue 15, and a few more. */
static const char *const hostile[] = {
	"a\n---\nkind: Pod",
	"x\"\nhostPID: true",
	"'.system('touch MARKER').'",
	"<script>alert(1)</script>",
	"|pipe|",
	"$(touch M)",
	"back\\slash \\\" \\n",
	"tab\there\r\x1b[31m\x07\x7f",
	"caf\xc3\xa9 \xe2\x80\xa8 \xc2\x85 \xef\xbb\xbf",
	"bad utf8 \xff\xfe \xc3",
	"# not a comment: {a: [b]} & *c !d %e @f `g",
	"",
	"plain",
};

/* What esc_yaml writes, parsed as the value of key "v" of a one-key mapping. */
static void yaml_round_trip(const char *s)
{
	char buf[1024];
	FILE *f;
	struct fy_document *doc;
	struct fy_node *v;
	const char *got;
	size_t len;

	memset(buf, 0, sizeof buf);
	f = fmemopen(buf, sizeof buf - 1, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("v: ", f);
	CU_ASSERT_EQUAL(esc_yaml(f, s), 0);
	fputs("\nw: 1\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(buf[3], '"');
	/* One line: the value cannot end its line. */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"\nw: 1\n"));
	CU_ASSERT_PTR_NULL(memchr(buf, '\n', (size_t)(strstr(buf, "\nw: 1\n") - buf)));
	doc = fy_document_build_from_string(NULL, buf, FY_NT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(fy_node_mapping_item_count(fy_document_root(doc)), 2);
	v = fy_node_mapping_lookup_by_string(fy_document_root(doc), "v", FY_NT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	got = fy_node_get_scalar(v, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	/* Valid UTF-8 reads back byte for byte; an invalid byte B reads back as U+00B. */
	if (!strstr(s, "bad utf8")) {
		CU_ASSERT_EQUAL(len, strlen(s));
		CU_ASSERT(len == strlen(s) && !memcmp(got, s, len));
	} else {
		CU_ASSERT(len >= 9 && !memcmp(got, "bad utf8 ", 9));
	}
	fy_document_destroy(doc);
}

static void test_yaml(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_yaml, "short"), "\"short\"");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml, NULL), "\"\"");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml, "x\"\nhostPID: true"), "\"x\\\"\\x0ahostPID: true\"");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml, "a\\b\x7f"), "\"a\\\\b\\x7f\"");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml, "\xe2\x80\xa8\xff"), "\"\\u2028\\xff\"");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml_comment, "a\n---\nkind: Pod\xc2\x85"), "a?---?kind: Pod?");
	CU_ASSERT_STRING_EQUAL(run(esc_yaml_comment, "caf\xc3\xa9"), "caf\xc3\xa9");
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		yaml_round_trip(hostile[i]);
}

/* ---- the Kubernetes manifests of reports/sizing.c, parsed back ------------------ */

typedef struct {
	struct fy_document *docs[8];
	int n;
} ydocs;

/* Every document of dir/name; fails the test on a parse error. */
static void load_docs(const char *dir, const char *name, ydocs *d)
{
	char path[4096];
	struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
	struct fy_parser *fyp = fy_parser_create(&cfg);
	struct fy_document *doc;

	memset(d, 0, sizeof *d);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fyp);
	CU_ASSERT_EQUAL_FATAL(fy_parser_set_input_file(fyp, path), 0);
	while ((doc = fy_parse_load_document(fyp)) && d->n < 8)
		d->docs[d->n++] = doc;
	CU_ASSERT_FALSE(fy_parser_get_stream_error(fyp));
	if (doc)
		fy_document_destroy(doc);
	fy_parser_destroy(fyp);
}

static void free_docs(ydocs *d)
{
	for (int i = 0; i < d->n; i++)
		fy_document_destroy(d->docs[i]);
}

/* The scalar at a chain of keys from the root of doc ("" when absent). */
static const char *at(struct fy_document *doc, const char *k1, const char *k2, const char *k3)
{
	static char buf[512];
	struct fy_node *n = fy_document_root(doc);
	const char *keys[3] = {k1, k2, k3}, *s;
	size_t len;

	for (int i = 0; i < 3 && keys[i] && n; i++)
		n = yu_get(n, keys[i]);
	s = n ? fy_node_get_scalar(n, &len) : NULL;
	if (!s || len >= sizeof buf)
		return "";
	memcpy(buf, s, len);
	buf[len] = 0;
	return buf;
}

static int dns1123(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static void test_manifests(void)
{
	static const char *const pools[] = {"a\n---\nkind: Pod", "x\"\nhostPID: true", "A b", "a-b"};
	plan_result *r = calloc(1, sizeof *r);
	plan_option *o = calloc(1, sizeof *o);
	fs_err err = {0};
	char dir[4096], names[4][64];
	const char *model = "m\"\n          securityContext: {privileged: true}\n#";
	ydocs d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "manifests"), 0);
	snprintf(r->model, sizeof r->model, "%s", model);
	snprintf(o->gpu, sizeof o->gpu, "'.system('touch X').'.yaml");
	snprintf(o->gpu_display, sizeof o->gpu_display, "x\"\nhostPID: true");
	snprintf(o->label, sizeof o->label, "'.system('touch X').'/bf16\n---\nkind: Pod");
	o->feasible = 1;
	o->npools = 4;
	for (int k = 0; k < 4; k++) {
		snprintf(o->pool_names[k], sizeof o->pool_names[k], "%s", pools[k]);
		o->tp[k] = 1;
		o->best.replicas[k] = k + 1;
		o->max_model_len[k] = 4096;
		o->max_num_seqs[k] = 64;
		o->max_num_batched_tokens[k] = 8192;
		o->gpu_memory_utilization[k] = 0.9;
	}
	CU_ASSERT_EQUAL_FATAL(sizing_write_manifests(r, o, dir, &err), 0);

	/* One file per pool, named by its DNS-1123 name, unique ("A b" and "a-b" clash). */
	load_docs(dir, "kueue-localqueues.yaml", &d);
	CU_ASSERT_EQUAL(d.n, 4);
	for (int k = 0; k < d.n && k < 4; k++) {
		char qn[128];
		size_t l;

		snprintf(qn, sizeof qn, "%s", at(d.docs[k], "metadata", "name", NULL));
		l = strlen(qn);

		CU_ASSERT_STRING_EQUAL(at(d.docs[k], "kind", NULL, NULL), "LocalQueue");
		CU_ASSERT(l > 6 && !strcmp(qn + l - 6, "-queue"));
		snprintf(names[k], sizeof names[k], "%.*s", (int)(l > 6 ? l - 6 : 0), qn);
		CU_ASSERT(dns1123(names[k]));
		for (int i = 0; i < k; i++)
			CU_ASSERT_STRING_NOT_EQUAL(names[i], names[k]);
		CU_ASSERT_STRING_EQUAL(at(d.docs[k], "metadata", "labels", "fleetsim.io/pool"), names[k]);
		if (strcmp(pools[k], names[k]))
			CU_ASSERT_STRING_EQUAL(at(d.docs[k], "metadata", "annotations", "fleetsim.io/pool-name"),
					       pools[k]);
		CU_ASSERT(dns1123(at(d.docs[k], "spec", "clusterQueue", NULL)));
	}
	free_docs(&d);

	for (int k = 0; k < 4; k++) {
		char fname[320];
		struct fy_node *tspec, *args;

		snprintf(fname, sizeof fname, "%s.yaml", names[k]);
		load_docs(dir, fname, &d);
		CU_ASSERT_EQUAL(d.n, 2);
		if (d.n != 2) {
			free_docs(&d);
			continue;
		}
		CU_ASSERT_STRING_EQUAL(at(d.docs[0], "kind", NULL, NULL), "Deployment");
		CU_ASSERT_STRING_EQUAL(at(d.docs[1], "kind", NULL, NULL), "Service");
		CU_ASSERT_EQUAL(fy_node_mapping_item_count(fy_document_root(d.docs[0])), 4);
		CU_ASSERT_EQUAL(fy_node_mapping_item_count(fy_document_root(d.docs[1])), 4);
		CU_ASSERT_STRING_EQUAL(at(d.docs[0], "metadata", "annotations", "fleetsim.io/pool-name"), pools[k]);
		CU_ASSERT_STRING_EQUAL(at(d.docs[1], "metadata", "annotations", "fleetsim.io/pool-name"), pools[k]);
		CU_ASSERT(dns1123(at(d.docs[0], "metadata", "name", NULL)));
		CU_ASSERT(dns1123(at(d.docs[1], "metadata", "name", NULL)));
		/* The pod spec holds exactly nodeSelector, containers and volumes (/dev/shm): no
		 * hostPID. */
		tspec = fy_node_by_path(fy_document_root(d.docs[0]), "/spec/template/spec", FY_NT, FYNWF_DONT_FOLLOW);
		CU_ASSERT_PTR_NOT_NULL_FATAL(tspec);
		CU_ASSERT_EQUAL(fy_node_mapping_item_count(tspec), 3);
		CU_ASSERT_PTR_NOT_NULL(yu_get(tspec, "volumes"));
		CU_ASSERT_PTR_NULL(yu_get(tspec, "hostPID"));
		{
			/* The node label is a valid label value made from the display name (no
			 * quote, no newline); the display name itself is kept, quoted, in an
			 * annotation. */
			struct fy_node *ns = yu_get(tspec, "nodeSelector");
			size_t len;
			const char *g = fy_node_get_scalar(yu_get(ns, "nvidia.com/gpu.product"), &len);

			CU_ASSERT_PTR_NOT_NULL_FATAL(g);
			CU_ASSERT(len >= 1 && len <= 63);
			for (size_t i = 0; i < len; i++)
				CU_ASSERT((g[i] >= 'a' && g[i] <= 'z') || (g[i] >= 'A' && g[i] <= 'Z') ||
					  (g[i] >= '0' && g[i] <= '9') || g[i] == '-' || g[i] == '_' || g[i] == '.');
			CU_ASSERT_STRING_EQUAL(at(d.docs[0], "metadata", "annotations", "fleetsim.io/gpu"), o->gpu_display);
		}
		args = fy_node_by_path(tspec, "/containers/0/args", FY_NT, FYNWF_DONT_FOLLOW);
		CU_ASSERT_PTR_NOT_NULL_FATAL(args);
		CU_ASSERT(fy_node_sequence_item_count(args) >= 8);
		for (int i = 0; i < fy_node_sequence_item_count(args); i++) {
			size_t len;
			const char *a = fy_node_get_scalar(fy_node_sequence_get_by_index(args, i), &len);
			CU_ASSERT(a && len > 2 && a[0] == '-' && a[1] == '-');
		}
		{
			char want[256];
			size_t len;
			const char *a0 = fy_node_get_scalar(fy_node_sequence_get_by_index(args, 0), &len);

			snprintf(want, sizeof want, "--model=%s", model);
			CU_ASSERT(a0 && len == strlen(want) && !memcmp(a0, want, len));
			CU_ASSERT_PTR_NULL(yu_get(yu_get(fy_node_by_path(tspec, "/containers/0", FY_NT,
									  FYNWF_DONT_FOLLOW), "securityContext"), "privileged"));
		}
		free_docs(&d);
	}

	load_docs(dir, "router-configmap.yaml", &d);
	CU_ASSERT_EQUAL(d.n, 1);
	if (d.n == 1) {
		char want[96];

		snprintf(want, sizeof want, "vllm-%s:8000", names[1]);
		CU_ASSERT_STRING_EQUAL(at(d.docs[0], "data", "pool_1_service", NULL), want);
	}
	free_docs(&d);
	free(r);
	free(o);
}

/* CSV: a field with a comma, quote, CR or LF is quoted, quotes doubled; else as is. */
static void test_csv(void)
{
	CU_ASSERT_STRING_EQUAL(run(esc_csv, "chat"), "chat");
	CU_ASSERT_STRING_EQUAL(run(esc_csv, "a,b"), "\"a,b\"");
	CU_ASSERT_STRING_EQUAL(run(esc_csv, "say \"hi\""), "\"say \"\"hi\"\"\"");
	CU_ASSERT_STRING_EQUAL(run(esc_csv, "two\nrows"), "\"two\nrows\"");
	CU_ASSERT_STRING_EQUAL(run(esc_csv, "cr\r"), "\"cr\r\"");
	CU_ASSERT_STRING_EQUAL(run(esc_csv, ""), "");
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("escape", NULL, NULL);
	if (!s || !CU_add_test(s, "csv field", test_csv) || !CU_add_test(s, "html", test_html) || !CU_add_test(s, "markdown", test_markdown) ||
	    !CU_add_test(s, "gnuplot", test_gnuplot) || !CU_add_test(s, "html_controls", test_html_controls) ||
	    !CU_add_test(s, "yaml", test_yaml) || !CU_add_test(s, "manifests", test_manifests))
		return -1;
	return 0;
}
