/* CUnit suite for models/gpu: catalog figures, aliases, YAML GPU files, precision rules. */
#include <CUnit/CUnit.h>
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/gpu.h"
#include "tutil.h"

static void test_catalog(void)
{
	gpu_spec g;
	fs_err err = {0};

	CU_ASSERT_EQUAL(gpu_catalog_count(), 5);
	CU_ASSERT_EQUAL_FATAL(gpu_lookup("H100-SXM", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "h100");
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(g.prefill_seq_tokens, 0, 0); /* the operator model has no such term */
	CU_ASSERT(g.attn_eff > 0.5 && g.attn_eff < 0.8);    /* fitted on FlashAttention-3 */
	CU_ASSERT_DOUBLE_EQUAL(g.mem_bw, 3.35e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(g.hbm_bytes, 80.0 * 1073741824.0, 1);
	CU_ASSERT_EQUAL(gpu_lookup("a100-80gb", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "a100");
	CU_ASSERT_EQUAL(gpu_lookup("b200", &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_fp4, 9000e12, 1);
	CU_ASSERT_EQUAL(gpu_lookup("mi300x", &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 1307e12, 1);
	CU_ASSERT_EQUAL(gpu_lookup("h300", &g, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown GPU 'h300'"));
	for (int i = 0; i < gpu_catalog_count(); i++) {
		const gpu_spec *c = gpu_catalog_get(i);

		CU_ASSERT(c->compute_eff > 0 && c->compute_eff <= 1);
		CU_ASSERT(c->mem_eff > 0 && c->mem_eff <= 1);
		CU_ASSERT(c->price_per_hour > 0);
	}
}

static void test_precision_rules(void)
{
	gpu_spec h100, b200, a100;
	fs_err err = {0};

	CU_ASSERT_FATAL(!gpu_lookup("h100", &h100, &err) && !gpu_lookup("b200", &b200, &err) &&
			!gpu_lookup("a100", &a100, &err));
	/* NVFP4 on Hopper is weight-only: BF16 rate; on B200 the FP4 rate. */
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&h100, PREC_NVFP4), 989e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&b200, PREC_NVFP4), 9000e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&h100, PREC_FP8), 1979e12, 1);
	CU_ASSERT_DOUBLE_EQUAL(gpu_compute_flops(&a100, PREC_FP8), 312e12, 1);
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&h100, PREC_NVFP4, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "nvfp4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "h100"));
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&b200, PREC_NVFP4, &err), 0);
	CU_ASSERT_EQUAL(gpu_check_kv_dtype(&h100, PREC_FP8, &err), 0);
}

static void test_yaml(void)
{
	gpu_spec g;
	fs_err err = {0};
	const char *p;
	char want[512];

	/* The shipped example loads. */
	CU_ASSERT_EQUAL(gpu_lookup(FS_SOURCE_DIR "/models/gpus/example.yaml", &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "l40s");
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 362e12, 1);

	p = tu_file("base.yaml", "name: h100-cheap\nbase: h100\nprice_per_hour: 1.5\n");
	CU_ASSERT_EQUAL_FATAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "h100-cheap");
	CU_ASSERT_DOUBLE_EQUAL(g.price_per_hour, 1.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(g.flops_bf16, 989e12, 1);
	{
		gpu_spec h;

		CU_ASSERT_EQUAL_FATAL(gpu_lookup("h100", &h, &err), 0);
		CU_ASSERT_EQUAL(g.attn_eff, h.attn_eff); /* inherited from h100 */
		CU_ASSERT_EQUAL(g.gemm_half, h.gemm_half);
	}

	p = tu_file("seq.yaml", "name: x\nbase: a100\nprefill_seq_tokens: 0\n");
	CU_ASSERT_EQUAL_FATAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(g.prefill_seq_tokens, 0, 0);
	p = tu_file("seqneg.yaml", "name: x\nbase: a100\nprefill_seq_tokens: -5\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);

	p = tu_file("unknown.yaml", "name: x\nbase: h100\nhbm_gb: 80\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	snprintf(want, sizeof want, "%s:3:1: unknown key 'hbm_gb'", p);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));

	p = tu_file("type.yaml", "name: x\nbase: h100\nmem_eff: fast\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	snprintf(want, sizeof want, "%s:3:10:", p);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));

	p = tu_file("missing.yaml", "name: x\nhbm_gib: 48\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing key 'mem_bw_tbps'"));
}

/* Every table field of a and b is the same string / the same double bits. */
static int same_fields(const gpu_spec *a, const gpu_spec *b)
{
	for (int i = 0; i < gpu_field_count(); i++) {
		const gpu_field *f = gpu_field_at(i);

		if (f->kind == GPU_FIELD_STR ? strcmp(gpu_field_str(a, f), gpu_field_str(b, f)) != 0 :
					       memcmp((const char *)a + f->off, (const char *)b + f->off,
						      sizeof(double)) != 0) {
			fprintf(stderr, "field %s differs\n", f->key);
			return 0;
		}
	}
	return 1;
}

static int write_and_load(const gpu_spec *g, const char *path, gpu_spec *back, fs_err *err)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -1;
	rc = gpu_write_yaml(g, f, err);
	if (fclose(f) || rc)
		return -1;
	return gpu_load_file(path, back, err);
}

static void test_field_table(void)
{
	gpu_spec h100, a100;
	fs_err err = {0};
	char buf[64];
	int n = gpu_field_count();

	/* name, display, calib_source + 22 figures (hbm_device_gib: models/memory.c;
	 * idle_power_w: the power model, models/perf.h). */
	CU_ASSERT_EQUAL(n, 25);
	CU_ASSERT_PTR_NULL(gpu_field_at(n));
	CU_ASSERT_PTR_NULL(gpu_field_at(-1));
	CU_ASSERT_STRING_EQUAL(gpu_field_at(0)->key, "name");
	CU_ASSERT_EQUAL(gpu_field_at(0)->need, GPU_NEED_ALWAYS);
	CU_ASSERT_FATAL(!gpu_lookup("h100", &h100, &err) && !gpu_lookup("a100", &a100, &err));
	/* Shortest text in the file's unit: 3.35e12 B/s = "3.35" TB/s, 80 x 2^30 B = "80"
	 * GiB, 9e-6 s = "9" us, 0.001 s = "1" ms, 0 = "0". */
	for (int i = 0; i < n; i++) {
		const gpu_field *f = gpu_field_at(i);

		if (f->kind != GPU_FIELD_NUM)
			continue;
		CU_ASSERT_EQUAL(gpu_field_text(&h100, f, buf, sizeof buf), 0);
		if (!strcmp(f->key, "mem_bw_tbps"))
			CU_ASSERT_STRING_EQUAL(buf, "3.35");
		if (!strcmp(f->key, "hbm_gib"))
			CU_ASSERT_STRING_EQUAL(buf, "80");
		if (!strcmp(f->key, "fp8_tflops"))
			CU_ASSERT_STRING_EQUAL(buf, "1979");
		if (!strcmp(f->key, "step_overhead_ms"))
			CU_ASSERT_STRING_EQUAL(buf, "1");
		if (!strcmp(f->key, "prefill_seq_tokens"))
			CU_ASSERT_STRING_EQUAL(buf, "0");
		CU_ASSERT_EQUAL(gpu_field_text(&a100, f, buf, sizeof buf), 0);
		if (!strcmp(f->key, "car_latency_us"))
			CU_ASSERT_STRING_EQUAL(buf, "9");
		if (!strcmp(f->key, "attn_eff")) {
			CU_ASSERT_STRING_EQUAL(buf, "0.62");
			CU_ASSERT_EQUAL(gpu_field_text(&a100, f, buf, 4), -1); /* needs 5 bytes */
		}
	}
	/* Exponent forms, tiny and huge values keep the shortest digits. */
	{
		gpu_spec g = h100;
		const gpu_field *lat = NULL, *bw = NULL;

		for (int i = 0; i < n; i++) {
			if (!strcmp(gpu_field_at(i)->key, "link_latency_us"))
				lat = gpu_field_at(i);
			if (!strcmp(gpu_field_at(i)->key, "mem_bw_tbps"))
				bw = gpu_field_at(i);
		}
		CU_ASSERT_FATAL(lat && bw);
		g.link_latency_s = 1.5e-13; /* 1.5e-7 us */
		CU_ASSERT(!gpu_field_text(&g, lat, buf, sizeof buf) && !strcmp(buf, "1.5e-7"));
		g.link_latency_s = 2.5e-12; /* 0.0000025 us */
		CU_ASSERT(!gpu_field_text(&g, lat, buf, sizeof buf) && !strcmp(buf, "0.0000025"));
		g.mem_bw = -1e40; /* -1e28 TB/s */
		CU_ASSERT(!gpu_field_text(&g, bw, buf, sizeof buf) && !strcmp(buf, "-1e28"));
		g.mem_bw = NAN;
		CU_ASSERT_EQUAL(gpu_field_text(&g, bw, buf, sizeof buf), -1);
		CU_ASSERT(isnan(gpu_field_value(&g, bw)));
	}
}

/* `fleetsim models --json` lists each GPU through gpu_json: every table key is there,
 * numbers in the file's units, plus the older step_overhead_s. */
static void test_json(void)
{
	fs_err err = {0};

	for (int k = 0; k < gpu_catalog_count(); k++) {
		const gpu_spec *g = gpu_catalog_get(k);
		cJSON *o = NULL, *v;

		CU_ASSERT_EQUAL_FATAL(gpu_json(g, &o, &err), 0);
		for (int i = 0; i < gpu_field_count(); i++) {
			const gpu_field *f = gpu_field_at(i);

			v = cJSON_GetObjectItemCaseSensitive(o, f->key);
			CU_ASSERT_PTR_NOT_NULL(v);
			if (!v)
				continue;
			if (f->kind == GPU_FIELD_STR) {
				CU_ASSERT(cJSON_IsString(v) && !strcmp(v->valuestring, gpu_field_str(g, f)));
			} else {
				CU_ASSERT(cJSON_IsNumber(v) && v->valuedouble == gpu_field_value(g, f));
			}
		}
		v = cJSON_GetObjectItemCaseSensitive(o, "step_overhead_s");
		CU_ASSERT(cJSON_IsNumber(v) && v->valuedouble == g->step_overhead_s);
		CU_ASSERT_EQUAL(cJSON_GetArraySize(o), gpu_field_count() + 2);
		if (!strcmp(g->name, "h100")) {
			CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "mem_bw_tbps")->valuedouble, 3.35);
			CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "car_latency_us")->valuedouble, 9.0);
		}
		/* Every figure of a catalog GPU says where it comes from. */
		v = cJSON_GetObjectItemCaseSensitive(o, "sources");
		CU_ASSERT(cJSON_IsObject(v) && cJSON_GetArraySize(v) == gpu_field_count());
		for (int i = 0; v && i < gpu_field_count(); i++) {
			cJSON *s = cJSON_GetObjectItemCaseSensitive(v, gpu_field_at(i)->key);

			CU_ASSERT(cJSON_IsString(s) && strcmp(s->valuestring, "file") != 0);
			if (cJSON_IsString(s) && !strcmp(gpu_field_at(i)->key, "mem_eff"))
				CU_ASSERT(!strncmp(s->valuestring, "fitted", 6) || !strncmp(s->valuestring, "measured", 8) ||
					  !strncmp(s->valuestring, "assumption", 10));
		}
		cJSON_Delete(o);
	}
}

/* The writer quotes what YAML would misread, and figures come back bit for bit. */
static void test_write_roundtrip(void)
{
	gpu_spec g, back;
	fs_err err = {0};
	char *text = NULL;
	size_t len;
	char p[512];

	CU_ASSERT_EQUAL_FATAL(tu_path(p, sizeof p, "written.yaml"), 0);
	CU_ASSERT_FATAL(!gpu_lookup("a100", &g, &err));
	snprintf(g.name, sizeof g.name, "x\"q\\b: c #d e \xc3\xa9\xe2\x82\xac");  /* é € */
	snprintf(g.display, sizeof g.display, "- \"H100\": 80 GB # really 'single' \xf0\x9f\x9a\x80");
	snprintf(g.calib_source, sizeof g.calib_source, "fitted: \\\\server\\csv: a #1\r\nb\x01 null");
	/* Figures that x / 1e12 written with %%.17g and read back x 1e12 would miss. */
	g.mem_bw = nextafter(3.35e12, 0);
	g.flops_bf16 = 312e12 * (1 + 3 * 2.220446049250313e-16);
	g.link_latency_s = 10.0977284699218e-6;
	g.step_overhead_s = 0.011673832923933113;
	g.compute_eff = nextafter(1.0, 0);
	g.hbm_bytes = 80 * 1073741824.0 + 1; /* not a whole GiB: 80.000000000931... */
	CU_ASSERT_EQUAL_FATAL(write_and_load(&g, p, &back, &err), 0);
	CU_ASSERT(same_fields(&g, &back));
	CU_ASSERT_STRING_EQUAL(back.name, g.name);
	CU_ASSERT_STRING_EQUAL(back.display, g.display);

	/* The text is what a person expects: double-quoted strings, plain numbers. */
	CU_ASSERT_EQUAL_FATAL(gpu_yaml_string(&g, &text, &len, &err), 0);
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "name: \"x\\\"q\\\\b: c #d e \xc3\xa9\xe2\x82\xac\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nprice_per_hour: 1.79\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nmem_bw_tbps: 3.3499999999999995\n"));
	free(text);

	/* Strings libfyaml 0.7 cannot write faithfully are refused, not mangled. */
	back = g;
	snprintf(back.name, sizeof back.name, " lead");
	CU_ASSERT_EQUAL(gpu_yaml_string(&back, &text, &len, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "name does not survive"));
	back = g;
	snprintf(back.display, sizeof back.display, "bad \xff byte");
	CU_ASSERT_EQUAL(gpu_yaml_string(&back, &text, &len, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "display"));
	/* ... and so are control characters, which no name may hold (issue 15). */
	back = g;
	snprintf(back.name, sizeof back.name, "a\n---\nkind: Pod");
	CU_ASSERT_EQUAL(gpu_yaml_string(&back, &text, &len, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "control character"));
	/* ... and so are figures the loader would refuse. */
	back = g;
	back.mem_eff = 1.5;
	CU_ASSERT_EQUAL(gpu_yaml_string(&back, &text, &len, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of range"));
	back = g;
	back.attn_eff = NAN;
	CU_ASSERT_EQUAL(gpu_yaml_string(&back, &text, &len, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "attn_eff is not a finite number"));
	/* The empty string and YAML words stay strings. */
	back = g;
	snprintf(back.display, sizeof back.display, "%s", "");
	snprintf(back.calib_source, sizeof back.calib_source, "null");
	CU_ASSERT_EQUAL_FATAL(write_and_load(&back, p, &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.display, "");
	CU_ASSERT_STRING_EQUAL(g.calib_source, "null");
}

/* Random figures over each field's whole range: all read back bit for bit, though
 * the old writer (x / scale with %.17g, read back as v x scale) loses many. */
static void test_write_random(void)
{
	uint64_t s = 0x9e3779b97f4a7c15u;
	int old_misses = 0;
	fs_err err = {0};
	char path[512];

	CU_ASSERT_EQUAL_FATAL(tu_path(path, sizeof path, "random.yaml"), 0);
	for (int k = 0; k < 300; k++) {
		gpu_spec g, back;
		char *text;
		size_t len;
		CU_ASSERT_FATAL(!gpu_lookup("b200", &g, &err));
		for (int i = 0; i < gpu_field_count(); i++) {
			const gpu_field *f = gpu_field_at(i);
			double u, v, scale = f->bin_scale * pow(10, f->dec_exp), x;
			char t[40];

			if (f->kind != GPU_FIELD_NUM)
				continue;
			s = s * 6364136223846793005u + 1442695040888963407u;
			u = (double)(s >> 11) / 9007199254740992.0;
			/* log-uniform over [max(lo, 1e-3), hi]; sometimes exactly 0 when allowed. */
			v = exp(log(f->lo > 1e-3 ? f->lo : 1e-3) * (1 - u) + log(f->hi) * u);
			x = f->lo == 0 && (s >> 60) == 0 ? 0 : v * scale;
			x = nextafter(x, (s >> 8) & 1 ? 0 : INFINITY);
			if (x / scale > f->hi || x / scale < f->lo)
				x = f->lo * scale;
			memcpy((char *)&g + f->off, &x, sizeof x);
			snprintf(t, sizeof t, "%.17g", x / scale);
			old_misses += strtod(t, NULL) * scale != x;
		}
		if (gpu_yaml_string(&g, &text, &len, &err)) {
			CU_FAIL(err.msg);
			continue;
		}
		free(text);
		CU_ASSERT_EQUAL_FATAL(write_and_load(&g, path, &back, &err), 0);
		CU_ASSERT(same_fields(&g, &back));
	}
	/* Measured: 183 of the 2100 figures whose unit is a power of ten. */
	CU_ASSERT(old_misses > 50);
}

/* Hand-written figures: the unit's power of ten is applied to the decimal, so
 * "15" ms is exactly the double nearest 0.015 s (what the literal 0.015 is). */
static void test_decimal_units(void)
{
	gpu_spec g;
	fs_err err = {0};
	const char *p = tu_file("units.yaml", "name: u\nbase: h100\nstep_overhead_ms: 15\n"
					      "link_latency_us: 2.5E0\nmem_bw_tbps: 3350e-3\n"
					      "link_gbps: \" 0.1 \"\nbf16_tflops: +.5\n");

	CU_ASSERT_EQUAL_FATAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT(g.step_overhead_s == 0.015);
	CU_ASSERT(g.link_latency_s == 2.5e-6);
	CU_ASSERT(g.mem_bw == 3.35e12);
	CU_ASSERT(g.link_bw == 1e8);
	CU_ASSERT(g.flops_bf16 == 5e11);
	p = tu_file("units_bad.yaml", "name: u\nbase: h100\nlink_latency_us: 2e\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":3:18: expected a number"));
	p = tu_file("units_range.yaml", "name: u\nbase: h100\nmem_bw_tbps: 2e3\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":3:14: value 2000 out of range [0.001, 1000]"));
}

/* Names refuse control characters at load, with FILE:LINE:COL (issue 15). */
static void test_name_controls(void)
{
	gpu_spec g;
	fs_err err = {0};
	const char *p;

	p = tu_file("esc_name.yaml", "base: h100\nname: \"a\\e[31m\"\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "esc_name.yaml:2:8: name contains a control character (byte 0x1b"));
	p = tu_file("bel_display.yaml", "base: h100\nname: ok\ndisplay: \"x\\\"\\nhostPID: true\\a\"\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bel_display.yaml:3:11: display contains a control character"));
	p = tu_file("del_display.yaml", "base: h100\nname: ok\ndisplay: \"x\\x7f\"\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "display contains a control character (byte 0x7f"));
	/* Printable hostile names are names like any other. */
	p = tu_file("ok_name.yaml", "base: h100\nname: \"'.system('touch X').' <b>|$(x)\"\n");
	CU_ASSERT_EQUAL(gpu_lookup(p, &g, &err), 0);
	CU_ASSERT_STRING_EQUAL(g.name, "'.system('touch X').' <b>|$(x)");
}

/* base: names a catalog GPU only: a path (itself, or files naming each other) is
 * refused before it is loaded, so nothing recurses (issue 15). */
static void test_base_paths(void)
{
	gpu_spec g;
	fs_err err = {0};
	char self[512], a[512], b[512], text[1200];

	CU_ASSERT_EQUAL_FATAL(tu_path(self, sizeof self, "self.yaml"), 0);
	CU_ASSERT_EQUAL_FATAL(tu_path(a, sizeof a, "chain_a.yaml"), 0);
	CU_ASSERT_EQUAL_FATAL(tu_path(b, sizeof b, "chain_b.yaml"), 0);
	snprintf(text, sizeof text, "name: s\nbase: %s\n", self);
	tu_file("self.yaml", text);
	CU_ASSERT_EQUAL(gpu_lookup(self, &g, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "self.yaml:2:7: base '"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a base cannot be another GPU file"));
	snprintf(text, sizeof text, "name: a\nbase: %s\n", b);
	tu_file("chain_a.yaml", text);
	snprintf(text, sizeof text, "name: b\nbase: %s\n", a);
	tu_file("chain_b.yaml", text);
	CU_ASSERT_EQUAL(gpu_lookup(a, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "chain_a.yaml:2:7: base '"));
	tu_file("rel.yaml", "name: r\nbase: rel.yaml\n");
	CU_ASSERT_EQUAL(gpu_load_file(self, &g, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "a base cannot be another GPU file"));
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("gpu", NULL, NULL);
	if (!s || !CU_add_test(s, "catalog", test_catalog) ||
	    !CU_add_test(s, "precision rules", test_precision_rules) ||
	    !CU_add_test(s, "yaml files", test_yaml) ||
	    !CU_add_test(s, "field table", test_field_table) ||
	    !CU_add_test(s, "json from the table", test_json) ||
	    !CU_add_test(s, "writer round trip, hostile strings", test_write_roundtrip) ||
	    !CU_add_test(s, "writer round trip, random figures", test_write_random) ||
	    !CU_add_test(s, "decimal unit scaling", test_decimal_units) ||
	    !CU_add_test(s, "names refuse control characters", test_name_controls) ||
	    !CU_add_test(s, "base: a path is refused unloaded", test_base_paths))
		return -1;
	return 0;
}
