/*
 * sizing.c - sizing report, plots and Kubernetes manifests of a plan (see sizing.h).
 */
#include "reports/sizing.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports/plot.h"
#include "util/escape.h"
#include "util/outfile.h"

#define PATH_CAP 4096

const char *sizing_vllm_quantization(prec_t p)
{
	switch (p) {
	case PREC_FP8: return "fp8";
	case PREC_NVFP4: return "modelopt_fp4";
	default: return NULL;
	}
}

const char *sizing_vllm_kv_dtype(prec_t p)
{
	switch (p) {
	case PREC_FP8: return "fp8";
	case PREC_NVFP4: return "nvfp4";
	default: return "auto";
	}
}


/* A DNS-1123 label from a name: lower case, [a-z0-9-], starting and ending with a
 * letter or digit, at most 40 characters (so "vllm-NAME" and "NAME-queue" stay within
 * the 63 of a label); "pool" when nothing is left. */
static void k8s_name(const char *s, char *out, size_t cap)
{
	size_t j = 0;

	for (; *s && j + 1 < cap && j < 40; s++) {
		char c = (char)tolower((unsigned char)*s);
		if (!j && !isalnum((unsigned char)c))
			continue;
		out[j++] = isalnum((unsigned char)c) && !((unsigned char)c & 0x80) ? c : '-';
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = 0;
	if (!j)
		snprintf(out, cap, "pool");
}

/* The object names of o's pools: k8s_name of each, made unique with "-K" (then
 * "-K-A" for attempt A) where two pools' names map to the same label. */
static void pool_k8s_names(const plan_option *o, char names[][64])
{
	for (int k = 0; k < o->npools; k++) {
		char base[64];

		k8s_name(o->pool_names[k], base, sizeof base);
		for (int a = 0;; a++) {
			int clash = 0;

			if (!a) {
				snprintf(names[k], 64, "%s", base);
			} else {
				char tail[32];
				int tl = a == 1 ? snprintf(tail, sizeof tail, "-%d", k) :
						  snprintf(tail, sizeof tail, "-%d-%d", k, a);
				snprintf(names[k], 64, "%.*s%s", 40 - tl, base, tail);
			}
			for (int i = 0; i < k && !clash; i++)
				clash = !strcmp(names[i], names[k]);
			if (!clash)
				break;
		}
	}
}

/* "    fleetsim.io/pool-name: <original>" under an annotations: key at indent, when
 * the object name had to be derived (the original does not survive as a label). */
static void pool_name_annotation(FILE *f, const char *indent, const char *orig, const char *name, int open)
{
	if (!strcmp(orig, name))
		return;
	if (open)
		fprintf(f, "%sannotations:\n", indent);
	fprintf(f, "%s  fleetsim.io/pool-name: ", indent);
	esc_yaml(f, orig);
	fputc('\n', f);
}

/* "KEY: PREFIX+VALUE" as one quoted YAML scalar, at indent. */
static void yaml_kv(FILE *f, const char *indent, const char *key, const char *prefix, const char *value)
{
	char buf[512];

	snprintf(buf, sizeof buf, "%s%s", prefix, value);
	fprintf(f, "%s%s", indent, key);
	esc_yaml(f, buf);
	fputc('\n', f);
}

/* ---- manifests ------------------------------------------------------------------- */

/* Every name in the manifests is either a k8s_name (letters, digits and '-': safe
 * unquoted) or goes through esc_yaml (comments: esc_yaml_comment), so no name can end
 * its scalar, its line or its document. */

/* DIR/<pool>.yaml: the Deployment and Service of pool k of option o.  Returns 0, or -1
 * with err (the file is closed either way). */
static int write_pool_manifest(const plan_result *r, const plan_option *o, int k, const char *name,
			       const char *dir, fs_err *err)
{
	char path[PATH_CAP], fname[96], arg[160];
	const char *q = sizing_vllm_quantization(o->prec);
	const char *orig = o->pool_names[k];
	FILE *f = NULL;

	snprintf(fname, sizeof fname, "%s.yaml", name);
	if (of_open(dir, fname, path, sizeof path, &f, err))
		return -1;
	fputs("# vLLM pool '", f);
	esc_yaml_comment(f, orig);
	fputs("' of the recommended fleet (", f);
	esc_yaml_comment(f, o->label);
	fprintf(f,
		"), planned by fleetsim plan.\n"
		"# --model is fleetsim's catalog name: replace it with your checkpoint path or HF id.\n"
		"apiVersion: apps/v1\n"
		"kind: Deployment\n"
		"metadata:\n"
		"  name: vllm-%s\n"
		"  labels:\n"
		"    app.kubernetes.io/name: vllm\n",
		name);
	yaml_kv(f, "    ", "fleetsim.io/pool: ", "", name);
	fprintf(f, "    kueue.x-k8s.io/queue-name: %s-queue\n", name);
	pool_name_annotation(f, "  ", orig, name, 1);
	fprintf(f,
		"spec:\n"
		"  replicas: %d\n"
		"  selector:\n"
		"    matchLabels:\n",
		o->best.replicas[k]);
	yaml_kv(f, "      ", "fleetsim.io/pool: ", "", name);
	fputs("  template:\n"
	      "    metadata:\n"
	      "      labels:\n"
	      "        app.kubernetes.io/name: vllm\n",
	      f);
	yaml_kv(f, "        ", "fleetsim.io/pool: ", "", name);
	fprintf(f,
		"        kueue.x-k8s.io/queue-name: %s-queue\n"
		"    spec:\n"
		"      nodeSelector:\n",
		name);
	yaml_kv(f, "        ", "nvidia.com/gpu.product: ", "", o->gpu_display);
	fputs("      containers:\n"
	      "        - name: vllm\n"
	      "          image: vllm/vllm-openai:latest\n"
	      "          args:\n",
	      f);
	yaml_kv(f, "            ", "- ", "--model=", r->model);
	snprintf(arg, sizeof arg, "%d", o->max_model_len[k]);
	yaml_kv(f, "            ", "- ", "--max-model-len=", arg);
	snprintf(arg, sizeof arg, "%d", o->max_num_seqs[k]);
	yaml_kv(f, "            ", "- ", "--max-num-seqs=", arg);
	snprintf(arg, sizeof arg, "%d", o->max_num_batched_tokens[k]);
	yaml_kv(f, "            ", "- ", "--max-num-batched-tokens=", arg);
	snprintf(arg, sizeof arg, "%.2f", o->gpu_memory_utilization[k]);
	yaml_kv(f, "            ", "- ", "--gpu-memory-utilization=", arg);
	snprintf(arg, sizeof arg, "%d", o->tp[k]);
	yaml_kv(f, "            ", "- ", "--tensor-parallel-size=", arg);
	if (q)
		yaml_kv(f, "            ", "- ", "--quantization=", q);
	else
		yaml_kv(f, "            ", "- ", "--dtype=", "bfloat16");
	yaml_kv(f, "            ", "- ", "--kv-cache-dtype=", sizing_vllm_kv_dtype(o->kv));
	fprintf(f,
		"          ports:\n"
		"            - containerPort: 8000\n"
		"              name: http\n"
		"          resources:\n"
		"            requests:\n"
		"              nvidia.com/gpu: %d\n"
		"            limits:\n"
		"              nvidia.com/gpu: %d\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata:\n"
		"  name: vllm-%s\n",
		o->tp[k], o->tp[k], name);
	pool_name_annotation(f, "  ", orig, name, 1);
	fputs("spec:\n"
	      "  selector:\n",
	      f);
	yaml_kv(f, "    ", "fleetsim.io/pool: ", "", name);
	fputs("  ports:\n"
	      "    - port: 8000\n"
	      "      targetPort: http\n",
	      f);
	return of_close(f, path, err);
}

/* DIR/kueue-localqueues.yaml: one LocalQueue per pool of option o.  Returns 0, or -1
 * with err (the file is closed either way). */
static int write_localqueues(const plan_option *o, char names[][64], const char *dir, fs_err *err)
{
	char path[PATH_CAP], gpu[64], n[32];
	FILE *f = NULL;

	if (of_open(dir, "kueue-localqueues.yaml", path, sizeof path, &f, err))
		return -1;
	k8s_name(o->gpu, gpu, sizeof gpu);
	fprintf(f, "# Kueue LocalQueues, one per pool; point clusterQueue at your cluster's queue.\n");
	for (int k = 0; k < o->npools; k++) {
		fprintf(f,
			"%s"
			"apiVersion: kueue.x-k8s.io/v1beta1\n"
			"kind: LocalQueue\n"
			"metadata:\n"
			"  name: %s-queue\n"
			"  labels:\n",
			k ? "---\n" : "", names[k]);
		yaml_kv(f, "    ", "fleetsim.io/pool: ", "", names[k]);
		fputs("  annotations:\n", f);
		snprintf(n, sizeof n, "%d", o->best.replicas[k] * o->tp[k]);
		yaml_kv(f, "    ", "fleetsim.io/gpus: ", "", n);
		pool_name_annotation(f, "  ", o->pool_names[k], names[k], 0);
		fprintf(f,
			"spec:\n"
			"  clusterQueue: fleetsim-%s\n",
			gpu);
	}
	return of_close(f, path, err);
}

/* DIR/router-configmap.yaml: the router's policy, threshold and pool services of
 * option o.  Returns 0, or -1 with err (the file is closed either way). */
static int write_router_configmap(const plan_option *o, char names[][64], const char *dir, fs_err *err)
{
	char path[PATH_CAP], key[64], val[64];
	FILE *f = NULL;

	if (of_open(dir, "router-configmap.yaml", path, sizeof path, &f, err))
		return -1;
	fputs("# The router's settings: requests with estimated prompt + output tokens up to\n"
	      "# `threshold` go to the short pool, the rest to the long pool.\n"
	      "apiVersion: v1\n"
	      "kind: ConfigMap\n"
	      "metadata:\n"
	      "  name: fleetsim-router\n"
	      "data:\n",
	      f);
	yaml_kv(f, "  ", "policy: ", "", plan_layout_name(o->layout));
	snprintf(val, sizeof val, "%lld", (long long)o->best.threshold);
	yaml_kv(f, "  ", "threshold: ", "", val);
	for (int k = 0; k < o->npools; k++) {
		snprintf(key, sizeof key, "pool_%d_service: ", k);
		snprintf(val, sizeof val, "%s:8000", names[k]);
		yaml_kv(f, "  ", key, "vllm-", val);
		snprintf(key, sizeof key, "pool_%d_max_model_len: ", k);
		snprintf(val, sizeof val, "%d", o->max_model_len[k]);
		yaml_kv(f, "  ", key, "", val);
	}
	return of_close(f, path, err);
}

int sizing_write_manifests(const plan_result *r, const plan_option *o, const char *dir, fs_err *err)
{
	char names[FS_MAX_POOLS][64];

	if (!o->feasible)
		return fs_fail(err, FS_EXIT_INPUT, "manifests: %s has no feasible fleet", o->label);
	if (plot_mkdir(dir, err))
		return -1;
	pool_k8s_names(o, names);
	for (int k = 0; k < o->npools; k++)
		if (write_pool_manifest(r, o, k, names[k], dir, err))
			return -1;
	if (write_localqueues(o, names, dir, err))
		return -1;
	return write_router_configmap(o, names, dir, err);
}

/* ---- plots ----------------------------------------------------------------------- */

/* Bar chart of one value per option, in rank order (feasible options have ranks). */
static int bar_chart(const char *dir, const char *name, const plan_result *r, const char *title,
		     const char *ylabel, int cost, fs_err *err)
{
	const char *labels[PLAN_MAX_OPTIONS];
	double values[PLAN_MAX_OPTIONS];
	plot_chart_spec spec = {.name = name, .origin = "plan", .size = "900,420", .title = title,
				.ylabel = ylabel, .columns = "option value"};
	int n = 0;

	for (int rank = 1; rank <= r->noptions; rank++)
		for (int i = 0; i < r->noptions && n < PLAN_MAX_OPTIONS; i++)
			if (r->options[i].rank == rank) {
				labels[n] = r->options[i].label;
				values[n++] = cost ? r->options[i].annual_cost / 1000.0 : (double)r->options[i].best.gpus;
			}
	return plot_value_bars(dir, &spec, n, labels, values, err);
}

/* P99 over SLO against load; 0 where the SLO sets no limit or nothing was measured. */
static int plot_headroom(const char *dir, const plan_result *r, const plan_eval *ev, int n, fs_err *err)
{
	double x[16], ttft[16], tpot[16];
	const double *y[2] = {ttft, tpot};
	const char *titles[2] = {"TTFT p99 / SLO", "TPOT p99 / SLO"};
	plot_chart_spec spec = {.name = "headroom", .origin = "plan", .size = "900,420",
				.title = "Load headroom of the recommended fleet",
				.xlabel = "traffic (x planned load)", .ylabel = "P99 / SLO",
				.columns = "load_scale ttft_p99/slo tpot_p99/slo", .logscale = "y",
				.key = "top left"};

	if (n > 16)
		n = 16;
	for (int i = 0; i < n; i++) {
		x[i] = ev[i].load_scale;
		ttft[i] = r->slo.ttft_p99_s > 0 && ev[i].ttft_p99_s >= 0 ? ev[i].ttft_p99_s / r->slo.ttft_p99_s : 0;
		tpot[i] = r->slo.tpot_p99_s > 0 && ev[i].tpot_p99_s >= 0 ? ev[i].tpot_p99_s / r->slo.tpot_p99_s : 0;
	}
	return plot_columns(dir, &spec, n, x, 2, y, titles, 1, "SLO", err);
}

/* GPUs of each option's feasible plans against the what-if load. */
static int plot_whatif(const char *dir, const sizing_opts *so, fs_err *err)
{
	const plan_result *r0 = so->whatif[0];
	plot_series ser[PLAN_MAX_OPTIONS];
	double *xy = malloc(((size_t)so->nwhatif + 1) * 2 * PLAN_MAX_OPTIONS * sizeof *xy);
	plot_chart_spec spec = {.name = "gpus_vs_load", .origin = "plan", .size = "900,480",
				.title = "GPUs needed against load (what-if)",
				.xlabel = "traffic (x scenario load)", .ylabel = "GPUs", .logscale = "x 2",
				.key = "outside right"};
	int ns = r0->noptions < PLAN_MAX_OPTIONS ? r0->noptions : PLAN_MAX_OPTIONS, rc;

	if (!xy)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	for (int k = 0; k < ns; k++) {
		double *x = xy + (size_t)k * 2 * ((size_t)so->nwhatif + 1), *y = x + so->nwhatif + 1;
		ser[k] = (plot_series){.name = r0->options[k].label, .x = x, .y = y, .n = 0};
		for (int i = 0; i < so->nwhatif; i++) {
			const plan_option *o = &so->whatif[i]->options[k];
			if (o->feasible) {
				x[ser[k].n] = so->whatif_scales[i];
				y[ser[k].n++] = o->best.gpus;
			}
		}
	}
	rc = plot_series_lines(dir, &spec, ns, ser, err);
	free(xy);
	return rc;
}

/* ---- report ---------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* <img> with the PNG inlined as base64, so the HTML opens offline. */
static int html_img(FILE *out, const char *dir, const char *name, const char *alt, fs_err *err)
{
	char path[PATH_CAP];
	unsigned char in[3];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s.png", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: cannot read: %s", path, strerror(errno));
	fputs("<figure><img alt=\"", out);
	esc_html(out, alt);
	fputs("\" src=\"data:image/png;base64,", out);
	while ((n = fread(in, 1, 3, f)) > 0) {
		unsigned v = (unsigned)in[0] << 16 | (n > 1 ? (unsigned)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
		fputc(b64[v >> 18 & 63], out);
		fputc(b64[v >> 12 & 63], out);
		fputc(n > 1 ? b64[v >> 6 & 63] : '=', out);
		fputc(n > 2 ? b64[v & 63] : '=', out);
	}
	fclose(f);
	fputs("\"><figcaption>", out);
	esc_html(out, alt);
	fputs("</figcaption></figure>\n", out);
	return 0;
}

static void fmt_money(char *buf, size_t cap, double v)
{
	if (v >= 1e6)
		snprintf(buf, cap, "$%.2fM", v / 1e6);
	else
		snprintf(buf, cap, "$%.0fk", v / 1e3);
}

static void fleet_text(const plan_option *o, char *buf, size_t cap)
{
	int w = 0;

	buf[0] = 0;
	for (int k = 0; k < o->npools && w < (int)cap; k++)
		w += snprintf(buf + w, cap - (size_t)w, "%s%s: %d x TP%d", k ? ", " : "", o->pool_names[k],
			      o->best.replicas[k], o->tp[k]);
	if (o->layout == PLAN_DUAL && w < (int)cap)
		snprintf(buf + w, cap - (size_t)w, "; threshold %lld tokens", (long long)o->best.threshold);
}

typedef struct doc {
	FILE *md, *html;
} doc;

/* A table row in both formats; cells separated by '\t'. */
static void row(doc *d, const char *cells, int header)
{
	char buf[2048];
	char *save = NULL, *c;
	int n = 0;

	snprintf(buf, sizeof buf, "%s", cells);
	fputs("|", d->md);
	fputs("<tr>", d->html);
	for (c = strtok_r(buf, "\t", &save); c; c = strtok_r(NULL, "\t", &save), n++) {
		fputc(' ', d->md);
		esc_md_cell(d->md, c);
		fputs(" |", d->md);
		fputs(header ? "<th>" : "<td>", d->html);
		esc_html(d->html, c);
		fputs(header ? "</th>" : "</td>", d->html);
	}
	fputs("\n", d->md);
	fputs("</tr>\n", d->html);
	if (header) {
		fputs("|", d->md);
		for (int i = 0; i < n; i++)
			fputs("---|", d->md);
		fputs("\n", d->md);
	}
}

static void para(doc *d, const char *text)
{
	esc_md_text(d->md, text);
	fputs("\n\n", d->md);
	fputs("<p>", d->html);
	esc_html(d->html, text);
	fputs("</p>\n", d->html);
}

static void heading(doc *d, const char *text)
{
	fputs("## ", d->md);
	esc_md_text(d->md, text);
	fputs("\n\n", d->md);
	fputs("<h2>", d->html);
	esc_html(d->html, text);
	fputs("</h2>\n", d->html);
}

static void table_open(doc *d)
{
	fputs("<table>\n", d->html);
}

static void table_close(doc *d)
{
	fputs("</table>\n", d->html);
	fputs("\n", d->md);
}

static int figure(doc *d, const char *plots, const char *name, const char *alt, fs_err *err)
{
	fputs("![", d->md);
	esc_md_text(d->md, alt);
	fprintf(d->md, "](plots/%s.png)\n\n", name);
	return html_img(d->html, plots, name, alt, err);
}

static const char css[] =
	"body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;"
	"margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
	"h1{border-bottom:3px solid #3b6ea8;padding-bottom:.3em}h2{color:#3b6ea8;margin-top:1.6em}"
	"table{border-collapse:collapse;margin:1em 0;font-size:.92em}"
	"th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eef3f9}"
	"tr:nth-child(even) td{background:#fafafa}"
	".rec{background:#eef8ee;border-left:5px solid #3a3;padding:.8em 1.2em;margin:1em 0}"
	"figure{margin:1em 0}img{max-width:100%;border:1px solid #ddd}"
	"figcaption{font-size:.85em;color:#666}";

/* The recommended fleet's load headroom: re-simulations at growing load. */
typedef struct headroom {
	plan_eval ev[16];
	int n;
	double scale; /* highest load factor that still met the SLO; 0: none */
} headroom;

/* Simulate the recommended fleet (and the baseline, when it is another feasible
 * option) at the planned load, as phase "report", and draw their TTFT CDFs into
 * plots/ttft_cdf.  The runs' metrics are freed here.  Returns 0, or -1 with err. */
static int plot_fleet_ttft(const plan_request *rq, const plan_result *r, const char *plots, fs_err *err)
{
	const plan_option *best = &r->options[r->best];
	const plan_option *base = r->baseline >= 0 ? &r->options[r->baseline] : NULL;
	const char *names[2];
	const double *vals[2];
	double *ttft[2] = {0};
	size_t counts[2] = {0};
	runner_result rb, rbase;
	int have_rb = 0, have_base = 0, ns = 0, rc = -1;
	plan_eval ev;

	memset(&rb, 0, sizeof rb);
	memset(&rbase, 0, sizeof rbase);
	if (plan_simulate(rq, best, best->best.replicas, best->best.threshold, r->load_scale, best->best.seed,
			  "report", &ev, &rb, err))
		goto out;
	have_rb = 1;
	if (base && base != best && base->feasible) {
		if (plan_simulate(rq, base, base->best.replicas, base->best.threshold, r->load_scale,
				  base->best.seed, "report", &ev, &rbase, err))
			goto out;
		have_base = 1;
	}
	for (int s = 0; s < 1 + have_base; s++) {
		if (metrics_values(s ? rbase.m : rb.m, -1, MX_TTFT, &ttft[s], &counts[s])) {
			fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
			goto out;
		}
		names[s] = s ? base->label : best->label;
		vals[s] = ttft[s];
		ns++;
	}
	rc = plot_ttft_cdf(plots, ns, names, vals, counts, err);
out:
	free(ttft[0]);
	free(ttft[1]);
	if (have_rb)
		runner_result_free(&rb);
	if (have_base)
		runner_result_free(&rbase);
	return rc;
}

/* Every plot of the report, and the recommended fleet's manifests, written before the
 * report itself so that a gnuplot failure leaves no half report.  Fills *h (the
 * caller's) from the headroom runs.  Returns 0, or -1 with err. */
static int draw_plots(const plan_request *rq, const plan_result *r, const sizing_opts *so, const char *plots,
		      const char *mani, headroom *h, fs_err *err)
{
	const double def_scales[] = {1, 1.25, 1.5, 2, 3, 4};
	const double *hs = so->headroom_scales ? so->headroom_scales : def_scales;
	int nhs = so->headroom_scales ? so->nheadroom : 6;

	if (nhs > 16)
		nhs = 16;
	if (r->best >= 0) {
		const plan_option *best = &r->options[r->best];
		if (bar_chart(plots, "gpus_per_option", r, "GPUs needed per option", "GPUs", 0, err) ||
		    bar_chart(plots, "cost_per_option", r, "Annual cost per option", "k$ per year", 1, err) ||
		    plot_fleet_ttft(rq, r, plots, err))
			return -1;
		if (plan_headroom(rq, best, hs, nhs, h->ev, &h->n, err) || plot_headroom(plots, r, h->ev, h->n, err))
			return -1;
		for (int i = 0; i < h->n; i++)
			if (h->ev[i].pass)
				h->scale = h->ev[i].load_scale;
		if (sizing_write_manifests(r, best, mani, err))
			return -1;
	}
	if (so->nwhatif > 0 && plot_whatif(plots, so, err))
		return -1;
	return 0;
}

/* The report's sections, in order.  Each writes to both of d's files (the caller's);
 * none can fail here, a write error shows when write_report closes the files. */

static void write_title(doc *d, const plan_result *r, const char *when)
{
	char buf[2048];

	fputs("# Sizing report: ", d->md);
	esc_md_text(d->md, r->scenario);
	fputs("\n\n", d->md);
	fprintf(d->html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			 "<title>Sizing report: ");
	esc_html(d->html, r->scenario);
	fprintf(d->html, "</title><style>%s</style></head><body>\n<h1>Sizing report: ", css);
	esc_html(d->html, r->scenario);
	fputs("</h1>\n", d->html);
	snprintf(buf, sizeof buf,
		 "Generated by fleetsim plan on %s: model %s, %d options, %d simulations in %.1f s, traffic at %gx the scenario's load.",
		 when, r->model, r->noptions, r->sims, r->wall_s, r->load_scale);
	para(d, buf);
}

static void write_recommendation(doc *d, const plan_result *r, const headroom *h)
{
	const plan_option *best = r->best >= 0 ? &r->options[r->best] : NULL;
	const plan_option *base = r->baseline >= 0 ? &r->options[r->baseline] : NULL;
	char buf[2048], fl[512], money[32];

	heading(d, "Recommended fleet");
	if (!best) {
		para(d, "No option meets the SLO within the search limits; see the notes in the table below.");
		return;
	}
	fleet_text(best, fl, sizeof fl);
	fmt_money(money, sizeof money, best->annual_cost);
	snprintf(buf, sizeof buf,
		 "%s: %d GPUs (%s) of %s, %s weights, %s KV cache. P99 TTFT %.3f s, P99 TPOT %.4f s, "
		 "rejections %.2f%%. %s per year at $%.2f per GPU-hour; %.1f kW mean GPU board power "
		 "(compute utilisation %.0f %%, busy %.0f %%; %.2f output tokens per joule). "
		 "Load headroom: the SLO holds up to %gx the planned traffic%s.",
		 best->label, best->best.gpus, fl, best->gpu_display, prec_name(best->prec), prec_name(best->kv),
		 best->best.ttft_p99_s, best->best.tpot_p99_s, 100 * best->best.rejection_rate, money,
		 best->price_per_gpu_hour, best->power_kw, 100 * best->best.utilisation,
		 100 * best->best.busy_share, best->best.tokens_per_joule, h->scale,
		 h->n > 0 && h->ev[h->n - 1].pass ? " (the highest tried)" : "");
	fputs("**", d->md);
	esc_md_text(d->md, buf);
	fputs("**\n\n", d->md);
	fputs("<div class=\"rec\"><strong>", d->html);
	esc_html(d->html, buf);
	fputs("</strong></div>\n", d->html);
	if (base && base->feasible && base != best && !isnan(best->savings_vs_baseline)) {
		snprintf(buf, sizeof buf, "Savings against the baseline %s (%d GPUs): %.1f%% of its annual cost.",
			 base->label, base->best.gpus, 100 * best->savings_vs_baseline);
		para(d, buf);
	}
	para(d, "Busy is the share of GPU time an engine step is running; compute utilisation is the share "
		"the tensor cores are the bottleneck (compute-bound step time, models/perf.h). Decode steps are "
		"memory-bound, so a fleet can be 100 % busy at a low compute utilisation; headroom comes from "
		"batching more sequences per step, which the load headroom above measures directly.");
	para(d, "Deployment manifests for this fleet are in manifests/ (vLLM Deployments and Services per "
		"pool, Kueue LocalQueues, the router's ConfigMap).");
}

static void fmt_dollars(char *buf, size_t cap, double v)
{
	if (v >= 1e6)
		snprintf(buf, cap, "$%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, cap, "$%.1fk", v / 1e3);
	else
		snprintf(buf, cap, "$%.2f", v);
}

/* Power, energy and utilisation per feasible option; redundancy and cloud / on-prem
 * cost side by side when rq->cost gives them (docs/planning.md, "Cost, power and
 * redundancy"). */
static void write_cost_power(doc *d, const plan_request *rq, const plan_result *r)
{
	char buf[2048];
	const cost_opts *co = rq->cost;
	int onprem = 0;

	heading(d, "Power, energy and utilisation");
	table_open(d);
	row(d, "option\tGPUs\tmean power (kW)\tper GPU (W)\tcompute utilisation\tbusy\tenergy per 1M output tokens (kWh)"
	       "\toutput tokens per joule\tenergy per year (MWh)", 1);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *o = &r->options[i];
		if (!o->feasible)
			continue;
		snprintf(buf, sizeof buf, "%s\t%d\t%.2f kW\t%.0f W\t%.1f %%\t%.1f %%\t%.3f kWh\t%.3f tok/J\t%.1f MWh",
			 o->label, o->best.gpus, o->power_kw, o->power_w_per_gpu, 100 * o->best.utilisation,
			 100 * o->best.busy_share, o->best.energy_per_mtok_j / 3.6e6, o->best.tokens_per_joule,
			 o->energy_mwh_per_year);
		row(d, buf, 0);
		onprem |= o->cost_ok && o->cost.onprem;
	}
	table_close(d);
	para(d, "GPU board power only (host, network and cooling excluded; the on-prem cost below adds PUE). "
		"Each step's time is split into compute-bound, memory-bound and other (all-reduce, CPU) parts; "
		"compute-bound time draws TDP, memory-bound time 73 % of TDP, other time and idle gaps the GPU's "
		"idle power (Splitwise's A100 prompt vs token phase power, models/data/splitwise_perf_a100.csv).");
	if (!co || !cost_opts_given(co))
		return;
	heading(d, "Redundancy and cost");
	table_open(d);
	row(d, onprem ? "option\tserving GPUs\tservers (N + k)\tavailability\tcloud $/year\tcloud $/1M tokens"
			"\ton-prem capex/year\ton-prem energy/year\ton-prem TCO/year\ton-prem $/1M tokens"
		      : "option\tserving GPUs\tservers (N + k)\tavailability\tcloud $/year\tcloud $/1M tokens", 1);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *o = &r->options[i];
		char av[48], cl[32], cm[32], cap[32], en[32], tco[32], om[32];
		int w;
		if (!o->feasible || !o->cost_ok)
			continue;
		if (isnan(o->cost.availability))
			snprintf(av, sizeof av, "-");
		else
			snprintf(av, sizeof av, "%.6f", o->cost.availability);
		fmt_dollars(cl, sizeof cl, o->cost.cloud_per_year);
		fmt_dollars(cm, sizeof cm, o->cost.cloud_per_mtok);
		w = snprintf(buf, sizeof buf, "%s\t%d\t%d + %d of %d GPUs\t%s\t%s\t%s", o->label, o->cost.gpus,
			     o->cost.servers, o->cost.spares, o->cost.node_gpus, av, cl, cm);
		if (onprem && w > 0 && (size_t)w < sizeof buf) {
			fmt_dollars(cap, sizeof cap, o->cost.capex_per_year);
			fmt_dollars(en, sizeof en, o->cost.energy_cost_per_year);
			fmt_dollars(tco, sizeof tco, o->cost.tco_per_year);
			fmt_dollars(om, sizeof om, o->cost.onprem_per_mtok);
			snprintf(buf + w, sizeof buf - (size_t)w, "\t%s\t%s (%.1f MWh)\t%s\t%s", cap, en,
				 o->cost.energy_mwh_per_year, tco, om);
		}
		row(d, buf, 0);
	}
	table_close(d);
	if (r->best >= 0 && r->options[r->best].cost_ok) {
		const cost_result *c = &r->options[r->best].cost;
		if (co->availability > 0)
			snprintf(buf, sizeof buf,
				 "Redundancy: N + %d for availability %g: %d serving server(s) of %d GPUs plus %d spare(s); "
				 "a server is down %.4f %% of the time (MTTR %g h / (MTBF %g h + MTTR)), failures taken "
				 "as independent; P(at most %d of %d servers down) = %.6f.",
				 c->spares, co->availability, c->servers, c->node_gpus, c->spares, 100 * c->unavailability,
				 co->mttr_h, co->mtbf_h, c->spares, c->servers + c->spares, c->availability);
		else
			snprintf(buf, sizeof buf, "Redundancy: N + %d (--spares): %d serving server(s) of %d GPUs plus %d spare(s).",
				 c->spares, c->servers, c->node_gpus, c->spares);
		para(d, buf);
	}
	snprintf(buf, sizeof buf,
		 "Cloud: (serving GPUs + k x the GPUs one server holds of them) x $/GPU-hour x 8760 h. On-prem TCO "
		 "per year: servers (N + k, %d GPUs each) x $%.0f / %g years + energy (mean GPU power + idle "
		 "power of the other installed GPUs) x PUE %.2f x 8760 h x "
		 "$%.3f/kWh + $%.0f opex per server-year. $/1M tokens: output tokens at the simulated rate, "
		 "around the clock.",
		 co->gpus_per_server > 0 ? co->gpus_per_server : COST_DEFAULT_GPUS_PER_SERVER, co->server_price,
		 co->amortization_years > 0 ? co->amortization_years : COST_DEFAULT_AMORTIZATION_YEARS,
		 co->pue > 0 ? co->pue : COST_DEFAULT_PUE, co->power_price, co->opex_per_server_year);
	para(d, buf);
}

static void write_workload(doc *d, const plan_result *r)
{
	char line[1024];

	heading(d, "Workload");
	table_open(d);
	row(d, "quantity\tvalue", 1);
	snprintf(line, sizeof line, "requests\t%lld", (long long)r->stats.count);
	row(d, line, 0);
	snprintf(line, sizeof line, "duration\t%.1f s", r->stats.duration_s);
	row(d, line, 0);
	snprintf(line, sizeof line, "mean rate\t%.2f req/s", r->stats.mean_rate);
	row(d, line, 0);
	snprintf(line, sizeof line, "peak 1-s rate\t%lld req/s", (long long)r->stats.peak_1s);
	row(d, line, 0);
	snprintf(line, sizeof line, "input tokens mean / p50 / p99 / max\t%.0f / %.0f / %.0f / %lld",
		 r->stats.all.input.mean, r->stats.all.input.p50, r->stats.all.input.p99,
		 (long long)r->stats.all.input.max);
	row(d, line, 0);
	snprintf(line, sizeof line, "output tokens mean / p50 / p99 / max\t%.0f / %.0f / %.0f / %lld",
		 r->stats.all.output.mean, r->stats.all.output.p50, r->stats.all.output.p99,
		 (long long)r->stats.all.output.max);
	row(d, line, 0);
	table_close(d);
}

static void write_slo(doc *d, const plan_result *r)
{
	char buf[2048], t1[32] = "(none)", t2[32] = "(none)";

	heading(d, "Service-level objective");
	if (r->slo.ttft_p99_s > 0)
		snprintf(t1, sizeof t1, "%g", r->slo.ttft_p99_s);
	if (r->slo.tpot_p99_s > 0)
		snprintf(t2, sizeof t2, "%g", r->slo.tpot_p99_s);
	snprintf(buf, sizeof buf,
		 "P99 TTFT <= %s s, P99 TPOT <= %s s, rejected or unfinished requests <= %.2f%%%s. "
		 "Each candidate is simulated on seed %llu; the winner of each option is verified on other "
		 "traffic: seed %llu for a synthetic workload, a shifted window of a replayed trace "
		 "(see \"Where the saving comes from\").",
		 t1, t2, 100 * r->max_rejection_rate,
		 r->max_preemptions_per_request >= 0 ? ", preemptions per request within the limit" : "",
		 (unsigned long long)r->seed, (unsigned long long)r->seed + 1);
	para(d, buf);
}

/* Feasible options in rank order, then the infeasible ones with their notes. */
static void write_options(doc *d, const plan_result *r)
{
	char line[1024];

	heading(d, "Options, cheapest first");
	table_open(d);
	row(d, "rank\toption\tGPUs\tfleet\tTTFT p99 (s)\tTPOT p99 (s)\tbusy\t$/GPU-h\tGPU-h/day\tannual cost\tpower (kW)\tvs baseline\tsims",
	    1);
	for (int rank = 1; rank <= r->noptions + 1; rank++)
		for (int i = 0; i < r->noptions; i++) {
			const plan_option *o = &r->options[i];
			char fl[256], money[32], sav[32] = "-";
			if (rank <= r->noptions ? o->rank != rank : o->feasible)
				continue;
			if (!o->feasible) {
				snprintf(line, sizeof line, "-\t%s\t-\tno fleet: %.200s\t-\t-\t-\t-\t-\t-\t-\t-\t%d", o->label,
					 o->note, o->sims);
				row(d, line, 0);
				continue;
			}
			fleet_text(o, fl, sizeof fl);
			fmt_money(money, sizeof money, o->annual_cost);
			if (!isnan(o->savings_vs_baseline))
				snprintf(sav, sizeof sav, "%+.1f%%", 100 * o->savings_vs_baseline);
			snprintf(line, sizeof line, "%d\t%s\t%d\t%s\t%.3f\t%.4f\t%.0f%%\t%.2f\t%.0f\t%s\t%.1f\t%s\t%d", o->rank,
				 o->label, o->best.gpus, fl, o->best.ttft_p99_s, o->best.tpot_p99_s,
				 100 * o->best.busy_share, o->price_per_gpu_hour, o->gpu_hours_per_day, money, o->power_kw,
				 sav, o->sims);
			row(d, line, 0);
		}
	table_close(d);
}

/* Where a saving comes from (issue 17): per GPU x precision, the single pool at vLLM's
 * defaults, the single pool tuned and the dual layout tuned, each the fewest GPUs that
 * met the SLO on the planned traffic; then what each winner was verified on. */
static void write_baselines(doc *d, const plan_result *r)
{
	char line[1024];
	int any = 0;

	for (int i = 0; i < r->noptions; i++)
		any |= r->options[i].has_defaults || r->options[i].nchecks;
	if (!any)
		return;
	heading(d, "Where the saving comes from");
	para(d, "Each layout is tuned before layouts are compared: the single pool at vLLM's defaults (the "
		"smallest TP that loads, the release's max_num_seqs and max_num_batched_tokens for the GPU), "
		"the single pool with TP and shape searched, and the dual layout (threshold, TP and per-pool "
		"shape searched). GPUs on the planned traffic, before verification.");
	table_open(d);
	row(d, "GPU / precision	single, vLLM defaults	single, tuned	dual, tuned	tuning saves	dual saves vs defaults	dual saves vs tuned single",
	    1);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *s1 = &r->options[i], *du = NULL;
		char a[96] = "-", b[96] = "-", c[160] = "-", s_t[16] = "-", s_d[16] = "-", s_dt[16] = "-";
		int gd = 0, gt = 0, gu = 0;
		if (s1->layout != PLAN_SINGLE || !s1->has_defaults)
			continue;
		for (int k = 0; k < r->noptions; k++)
			if (r->options[k].layout == PLAN_DUAL && r->options[k].prec == s1->prec &&
			    !strcmp(r->options[k].gpu, s1->gpu))
				du = &r->options[k];
		if (s1->defaults_feasible) {
			gd = s1->defaults.gpus;
			snprintf(a, sizeof a, "%d (TP %d, seqs %d, batch %d)", gd, s1->defaults_tp, s1->defaults_max_num_seqs,
				 s1->defaults_max_num_batched_tokens);
		}
		if (s1->feasible) {
			gt = s1->searched_gpus ? s1->searched_gpus : s1->best.gpus;
			snprintf(b, sizeof b, "%d (TP %d, seqs %d, batch %d)", gt, s1->tp[0], s1->max_num_seqs[0],
				 s1->max_num_batched_tokens[0]);
		}
		if (du && du->feasible) {
			gu = du->searched_gpus ? du->searched_gpus : du->best.gpus;
			snprintf(c, sizeof c, "%d (threshold %lld, TP %d, seqs %d + %d%s)", gu, (long long)du->best.threshold,
				 du->tp[0], du->max_num_seqs[0], du->max_num_seqs[1],
				 du->synth_dual ? ", built from the single pool" : "");
		}
		if (gd && gt)
			snprintf(s_t, sizeof s_t, "%+.0f%%", 100.0 * (gd - gt) / gd);
		if (gd && gu)
			snprintf(s_d, sizeof s_d, "%+.0f%%", 100.0 * (gd - gu) / gd);
		if (gt && gu)
			snprintf(s_dt, sizeof s_dt, "%+.0f%%", 100.0 * (gt - gu) / gt);
		snprintf(line, sizeof line, "%s / %s	%s	%s	%s	%s	%s	%s", s1->gpu_display, prec_name(s1->prec), a, b, c,
			 s_t, s_d, s_dt);
		row(d, line, 0);
	}
	table_close(d);
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *o = &r->options[i];
		if (!o->nchecks)
			continue;
		snprintf(line, sizeof line, "%s verified on %s; TTFT p99 over the checks %.3f-%.3f s.%s", o->label, o->verified,
			 o->verify_ttft_min_s, o->verify_ttft_max_s,
			 o->searched_gpus && o->searched_gpus != o->best.gpus ? " Verification added replicas." : "");
		para(d, line);
	}
}

/* The what-if table and its plot.  Returns 0, or -1 with err (the plot's PNG is
 * unreadable). */
static int write_whatif(doc *d, const plan_result *r, const sizing_opts *so, const char *plots, fs_err *err)
{
	char line[1024];
	int w = snprintf(line, sizeof line, "load");

	heading(d, "What-if: GPUs needed against load");
	table_open(d);
	for (int k = 0; k < r->noptions && w < (int)sizeof line; k++)
		w += snprintf(line + w, sizeof line - (size_t)w, "\t%s", r->options[k].label);
	row(d, line, 1);
	for (int i = 0; i < so->nwhatif; i++) {
		w = snprintf(line, sizeof line, "x%g", so->whatif_scales[i]);
		for (int k = 0; k < so->whatif[i]->noptions && w < (int)sizeof line; k++) {
			const plan_option *o = &so->whatif[i]->options[k];
			if (o->feasible)
				w += snprintf(line + w, sizeof line - (size_t)w, "\t%d", o->best.gpus);
			else
				w += snprintf(line + w, sizeof line - (size_t)w, "\t-");
		}
		row(d, line, 0);
	}
	table_close(d);
	return figure(d, plots, "gpus_vs_load", "GPUs needed against load", err);
}

static void write_assumptions(doc *d, const plan_request *rq, const plan_result *r)
{
	char buf[2048];

	heading(d, "Assumptions");
	snprintf(buf, sizeof buf,
		 "Model %s. Pool shapes (max_model_len, max_num_seqs, max_num_batched_tokens, "
		 "gpu_memory_utilization) come from the scenario's single and dual policies; tensor parallelism "
		 "is the scenario's where it sets one, else the smallest that fits the model and one "
		 "max_model_len sequence. FP8 and NVFP4 weights are paired with an FP8 KV cache.",
		 r->model);
	para(d, buf);
	para(d, "Cost: GPUs x hours x $/GPU-hour (the GPU catalog's price, or the scenario's "
		"price_per_gpu_hour for the GPU it was written for); fleets run 24 h a day, 8760 h a year.");
	para(d, "Power: from the simulated steps. Compute-bound step time draws the GPU's TDP, memory-bound "
		"time 73 % of TDP (Splitwise's A100 measurements: prompt phase at TDP, token phase at 0.71-0.73 "
		"x TDP), all-reduce, CPU gaps and idle time the GPU's idle power (catalog idle_power_w; H100 "
		"measured at 140 W with a model loaded, 20 % of TDP assumed elsewhere). Host, network and "
		"cooling power are not included.");
	para(d, "NVFP4: 4-bit weights cost accuracy that the simulator does not model; validate output quality "
		"on your own evaluations before deploying. On GPUs without FP4 tensor cores (H100, H200) "
		"NVFP4 runs weight-only, at BF16 compute speed.");
	para(d, "Search: the analytical saturation throughput of each pool brackets the replica count, "
		"simulations bisect it; tensor parallelism, max_num_seqs, max_num_batched_tokens and the dual "
		"threshold are searched (docs/planning.md), and the winner is verified on other traffic. Simulated traffic is "
		"short; rerun with a longer workload.duration for the final figures.");
	for (int g = 0; g < rq->ngpus; g++) {
		snprintf(buf, sizeof buf, "Step-time calibration, %s.", r->calib_source[g]);
		para(d, buf);
	}
}

/* report.md and report.html in so->out_dir, from the plots already drawn in plots.
 * Returns 0, or -1 with err (the first failure; both files are closed either way). */
static int write_report(const plan_request *rq, const plan_result *r, const sizing_opts *so,
			const char *plots, const char *when, const headroom *h, fs_err *err)
{
	char pmd[PATH_CAP], phtml[PATH_CAP];
	doc d = {0};
	fs_err e2 = {0};
	int rc;

	if (of_open(so->out_dir, "report.md", pmd, sizeof pmd, &d.md, err) ||
	    of_open(so->out_dir, "report.html", phtml, sizeof phtml, &d.html, err))
		goto fail;
	write_title(&d, r, when);
	write_recommendation(&d, r, h);
	write_workload(&d, r);
	write_slo(&d, r);
	write_options(&d, r);
	write_baselines(&d, r);
	write_cost_power(&d, rq, r);
	if (r->best >= 0) {
		heading(&d, "Plots");
		if (figure(&d, plots, "gpus_per_option", "GPUs needed per option", err) ||
		    figure(&d, plots, "cost_per_option", "Annual cost per option (k$)", err) ||
		    figure(&d, plots, "ttft_cdf", "TTFT CDF of the recommended fleet (and the baseline)", err) ||
		    figure(&d, plots, "headroom", "Load headroom: P99 over SLO as traffic grows", err))
			goto fail;
	}
	if (so->nwhatif > 0 && write_whatif(&d, r, so, plots, err))
		goto fail;
	write_assumptions(&d, rq, r);
	fputs("</body></html>\n", d.html);
	/* Close both even when the first fails; err keeps the first failure. */
	rc = of_close(d.md, pmd, err);
	if (of_close(d.html, phtml, rc ? &e2 : err))
		rc = -1;
	return rc;
fail:
	if (d.md)
		fclose(d.md);
	if (d.html)
		fclose(d.html);
	return -1;
}

int sizing_write(const plan_request *rq, const plan_result *r, const sizing_opts *so, fs_err *err)
{
	char plots[PATH_CAP], mani[PATH_CAP], when[64];
	headroom h;
	time_t now = time(NULL);
	struct tm tm;

	memset(&h, 0, sizeof h);
	if ((size_t)snprintf(plots, sizeof plots, "%s/plots", so->out_dir) >= sizeof plots ||
	    (size_t)snprintf(mani, sizeof mani, "%s/manifests", so->out_dir) >= sizeof mani)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: path too long", so->out_dir);
	if (plot_mkdir(so->out_dir, err) || plot_mkdir(plots, err))
		return -1;
	/* Dated before the report's re-simulations, which can take minutes: the report's
	 * date is when writing it started, as it always has been. */
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
	if (draw_plots(rq, r, so, plots, mani, &h, err))
		return -1;
	return write_report(rq, r, so, plots, when, &h, err);
}
