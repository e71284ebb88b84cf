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
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "models/engine.h"
#include "reports/k8s.h"
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


/* ---- manifests ------------------------------------------------------------------- */

/* Hugging Face ids of catalog models (the sources models/llm.c names for each). */
static const struct {
	const char *name, *hf;
} hf_ids[] = {
	{"llama-2-70b", "meta-llama/Llama-2-70b-hf"},
	{"llama-3.1-8b", "meta-llama/Llama-3.1-8B"},
	{"llama-3-70b", "meta-llama/Meta-Llama-3-70B"},
	{"qwen3-32b", "Qwen/Qwen3-32B"},
	{"qwen3-235b-a22b", "Qwen/Qwen3-235B-A22B"},
	{"qwen3-next-80b-a3b", "Qwen/Qwen3-Next-80B-A3B-Instruct"},
	{"deepseek-v3", "deepseek-ai/DeepSeek-V3"},
	{"bloom-176b", "bigscience/bloom"},
	{"gpt-oss-120b", "openai/gpt-oss-120b"},
	{"gpt-oss-20b", "openai/gpt-oss-20b"},
	{"gemma-3-27b", "google/gemma-3-27b-it"},
};

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

/* --model of the manifests (docs/deploy.md, "Model"): the scenario's model_id:; else
 * a config.json's _name_or_path; else a catalog model's Hugging Face id; else the
 * config's directory (a path the container must have) or the catalog name, with a
 * note saying so.  sc may be NULL (then only r->model is known). */
static void model_id_of(const plan_result *r, const scenario *sc, char *id, size_t cap, const char **note)
{
	const char *name = sc ? sc->model.name : r->model;

	*note = NULL;
	if (sc && sc->model_id[0]) {
		snprintf(id, cap, "%s", sc->model_id);
		return;
	}
	for (size_t i = 0; i < sizeof hf_ids / sizeof hf_ids[0]; i++)
		if (!strcmp(name, hf_ids[i].name)) {
			snprintf(id, cap, "%s", hf_ids[i].hf);
			return;
		}
	if (sc && (strchr(sc->model_name, '/') || ends_with(sc->model_name, ".json"))) {
		/* llm.c names a config.json model by _name_or_path, else by its path */
		if (!ends_with(sc->model_name, name) && !ends_with(name, ".json") && name[0] != '/' &&
		    name[0] != '.') {
			snprintf(id, cap, "%s", name);
			return;
		}
		snprintf(id, cap, "%s", sc->model_name);
		if (ends_with(id, "/config.json"))
			id[strlen(id) - strlen("/config.json")] = 0;
		else if (ends_with(id, "config.json"))
			snprintf(id, cap, ".");
		*note = "--model is the model's directory on the planning machine: mount it at that path "
			"in the container, or set model_id: in the scenario (docs/deploy.md).";
		return;
	}
	snprintf(id, cap, "%s", name);
	*note = "--model is fleetsim's catalog name, not a Hugging Face id: set model_id: in the "
		"scenario (docs/deploy.md).";
}

/* The scenario as the plan read it (rq->scenario_text when set), or NULL with err. */
static int load_scenario(const plan_request *rq, scenario **sc, fs_err *err)
{
	char dir[1024];
	char *slash;

	if (!rq->scenario_text)
		return scenario_load(rq->scenario_path, rq->sets, rq->nsets, sc, err);
	snprintf(dir, sizeof dir, "%s", rq->scenario_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	return scenario_load_string(rq->scenario_path, rq->scenario_text, rq->scenario_len, dir, rq->sets,
				    rq->nsets, sc, err);
}

/* Fill kf for option o: shapes, replicas and TP from the plan; what the planner does not
 * change (vLLM release, block size, prefix caching, async scheduling, the router's
 * estimator and spill-over) from the option's template policy in sc (NULL: vLLM's
 * defaults).  kf's strings point into r, o, sc and id (the caller's, idcap bytes). */
static void fleet_of(const plan_result *r, const plan_option *o, const scenario *sc, k8s_fleet *kf, char *id,
		     size_t idcap)
{
	const policy_cfg *pc = sc && o->policy >= 0 && o->policy < sc->npolicies ? &sc->policies[o->policy] : NULL;
	const eng_release *eng = sc ? sc->eng : eng_default();
	const llm_spec *m = sc ? &sc->model : NULL;

	memset(kf, 0, sizeof *kf);
	kf->label = o->label;
	kf->gpu = o->gpu;
	kf->gpu_display = o->gpu_display;
	model_id_of(r, sc, id, idcap, &kf->model_note);
	kf->model_id = id;
	kf->quantization = sizing_vllm_quantization(o->prec);
	kf->kv_cache_dtype = sizing_vllm_kv_dtype(o->kv);
	kf->npools = o->npools;
	kf->dual = o->layout == PLAN_DUAL;
	kf->threshold = o->best.threshold;
	router_cfg_default(&kf->router);
	if (pc)
		kf->router = pc->router;
	if (kf->dual && (o->synth_dual || !pc)) {
		/* the planner's dual built from the single pool (plan.c candidate_sets) */
		kf->router.type = ROUTER_TOKEN_BUDGET;
		kf->router.estimator = EST_MAX_TOKENS;
		kf->router.spillover = 1;
	}
	for (int k = 0; k < o->npools && k < FS_MAX_POOLS; k++) {
		k8s_pool *p = &kf->pools[k];
		const pool_cfg *tp = pc && pc->npools > 0 ? &pc->pools[o->synth_dual || k >= pc->npools ? 0 : k] : NULL;
		const eng_release *pe = tp && tp->mem.eng ? tp->mem.eng : eng;

		p->name = o->pool_names[k];
		p->replicas = o->best.replicas[k];
		p->tp = o->tp[k];
		p->max_model_len = o->max_model_len[k];
		p->max_num_seqs = o->max_num_seqs[k];
		p->max_num_batched_tokens = o->max_num_batched_tokens[k];
		p->gpu_memory_utilization = o->gpu_memory_utilization[k];
		p->block_size = tp ? tp->mem.block_size : 0;
		p->prefix_caching = tp ? tp->enable_prefix_caching : -1;
		p->async_scheduling = tp ? tp->async_scheduling : -1;
		p->weights_gib = m ? llm_weight_bytes(m, o->prec) / (1024.0 * 1024 * 1024) : 0;
		if (o->mixed && o->pool_gpu[k][0]) {
			p->gpu = o->pool_gpu[k];
			p->gpu_display = o->pool_gpu_display[k];
		}
		if (!k)
			kf->image_tag = pe->image;
	}
	if (!kf->image_tag)
		kf->image_tag = eng->image;
}

/* The manifests of option o with the scenario of rq (loaded once more here: the plan
 * result does not carry the engine settings). */
static int write_fleet_manifests(const plan_request *rq, const plan_result *r, const plan_option *o,
				 const char *dir, fs_err *err)
{
	scenario *sc = NULL;
	int rc;

	if (load_scenario(rq, &sc, err))
		return -1;
	rc = sizing_write_manifests_for(r, o, sc, dir, err);
	scenario_free(sc);
	return rc;
}

int sizing_write_manifests(const plan_result *r, const plan_option *o, const char *dir, fs_err *err)
{
	return sizing_write_manifests_for(r, o, NULL, dir, err);
}

int sizing_write_manifests_for(const plan_result *r, const plan_option *o, const scenario *sc, const char *dir,
			       fs_err *err)
{
	k8s_fleet kf;
	char id[1024];

	if (!o->feasible)
		return fs_fail(err, FS_EXIT_INPUT, "manifests: %s has no feasible fleet", o->label);
	fleet_of(r, o, sc, &kf, id, sizeof id);
	return k8s_write(&kf, dir, err);
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
				/* thousands of $ to one decimal: the bar's label reads 43.7, not 43.7124 */
				values[n++] = cost ? round(r->options[i].annual_cost / 100.0) / 10.0
						   : (double)r->options[i].best.gpus;
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

void sizing_fmt_usd(char *buf, size_t cap, double v, const char *suffix)
{
	const char *sfx = suffix ? suffix : "";

	if (!isfinite(v))
		snprintf(buf, cap, "-");
	else if (fabs(v) >= 1e6)
		snprintf(buf, cap, "$%.2fM%s", v / 1e6, sfx);
	else if (fabs(v) >= 1e3)
		snprintf(buf, cap, "$%.1fk%s", v / 1e3, sfx);
	else if (fabs(v) >= 100)
		snprintf(buf, cap, "$%.0f%s", v, sfx);
	else
		snprintf(buf, cap, "$%.2f%s", v, sfx);
}

/* "1 GPU", "2 GPUs": every count of a unit in the report goes through here. */
static const char *units(int n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void fleet_text(const plan_option *o, char *buf, size_t cap)
{
	int w = 0;

	buf[0] = 0;
	for (int k = 0; k < o->npools && w < (int)cap; k++)
		w += snprintf(buf + w, cap - (size_t)w, "%s%s: %d %s x TP%d", k ? ", " : "", o->pool_names[k],
			      o->best.replicas[k], units(o->best.replicas[k], "replica", "replicas"), o->tp[k]);
	if (o->layout == PLAN_DUAL && w < (int)cap)
		snprintf(buf + w, cap - (size_t)w, "; threshold %lld tokens", (long long)o->best.threshold);
}

typedef struct doc {
	FILE *md, *html;
} doc;

/* A table row in both formats; cells separated by '\t'.  cls: the HTML row's class
 * ("best" marks the recommended option), or NULL. */
static void row_cls(doc *d, const char *cells, int header, const char *cls)
{
	char buf[2048];
	char *save = NULL, *c;
	int n = 0;

	snprintf(buf, sizeof buf, "%s", cells);
	fputs("|", d->md);
	if (cls)
		fprintf(d->html, "<tr class=\"%s\">", cls);
	else
		fputs("<tr>", d->html);
	for (c = strtok_r(buf, "\t", &save); c; c = strtok_r(NULL, "\t", &save), n++) {
		fputc(' ', d->md);
		esc_md_cell(d->md, c);
		fputs(" |", d->md);
		/* short cells (numbers, units, labels) keep together; long ones wrap */
		fputs(header ? "<th>" : strlen(c) <= 20 ? "<td class=\"nw\">" : "<td>", d->html);
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

static void row(doc *d, const char *cells, int header)
{
	row_cls(d, cells, header, NULL);
}

/* Bulleted lists in both formats (item: one line of text). */
static void list_open(doc *d)
{
	fputs("<ul>\n", d->html);
}

static void item(doc *d, const char *label, const char *text)
{
	fputs("- ", d->md);
	fputs("<li>", d->html);
	if (label) {
		fputs("**", d->md);
		esc_md_text(d->md, label);
		fputs("** ", d->md);
		fputs("<strong>", d->html);
		esc_html(d->html, label);
		fputs("</strong> ", d->html);
	}
	esc_md_text(d->md, text);
	fputs("\n", d->md);
	esc_html(d->html, text);
	fputs("</li>\n", d->html);
}

static void list_close(doc *d)
{
	fputs("</ul>\n", d->html);
	fputs("\n", d->md);
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

/* Readable at 1,280 px without horizontal scrolling (tests/e2e/report_browser.sh):
 * tables take the page width; cells of up to 20 characters (numbers, units, labels)
 * keep together and longer ones wrap anywhere, so a long pool name or note makes a row
 * taller, never the page wider.  @media print: A4, no page margins
 * of the screen layout, no table or figure split across pages. */
static const char css[] =
	"*{box-sizing:border-box}"
	"body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;"
	"margin:2em auto;padding:0 1em;color:#222;line-height:1.45}"
	"h1{border-bottom:3px solid #3b6ea8;padding-bottom:.3em}h2{color:#3b6ea8;margin-top:1.6em}"
	"table{border-collapse:collapse;margin:1em 0;font-size:.88em;width:100%}"
	"th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;"
	"overflow-wrap:anywhere}th{background:#eef3f9;overflow-wrap:normal}td.nw{white-space:nowrap}"
	"tr:nth-child(even) td{background:#fafafa}"
	"tr.best td{background:#eef8ee;font-weight:600}"
	".rec{background:#eef8ee;border-left:5px solid #3a3;padding:.8em 1.2em;margin:1em 0}"
	"#summary ul{margin:.4em 0}"
	"figure{margin:1em 0}img{max-width:100%;height:auto;border:1px solid #ddd}"
	"figcaption{font-size:.85em;color:#666}"
	"@media print{@page{size:A4;margin:14mm}"
	"body{max-width:none;margin:0;padding:0;font-size:10pt}"
	"h2{break-after:avoid}table,figure,.rec,tr{break-inside:avoid}"
	"img{max-height:120mm}}";

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
	rc = plot_ttft_cdf_slo(plots, ns, names, vals, counts, r->slo.ttft_p99_s, err);
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
		if (bar_chart(plots, "gpus_per_option", r, "GPUs needed per option", "GPUs (whole GPUs)", 0, err) ||
		    bar_chart(plots, "cost_per_option", r, "Annual cloud cost per option", "thousand $ per year", 1, err) ||
		    plot_fleet_ttft(rq, r, plots, err))
			return -1;
		if (plan_headroom(rq, best, hs, nhs, h->ev, &h->n, err) || plot_headroom(plots, r, h->ev, h->n, err))
			return -1;
		for (int i = 0; i < h->n; i++)
			if (h->ev[i].pass)
				h->scale = h->ev[i].load_scale;
		if (write_fleet_manifests(rq, r, best, mani, err))
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

/* Fidelity of the step-time model per catalog GPU, as docs/fidelity.md states it
 * (generated by bench/fidelity.sh from models/data/ and bench/validation_public.csv);
 * keep in step with that page when it is regenerated. */
static const struct {
	const char *gpu, *text;
} fidelity[] = {
	{"a100", "A100: operator constants fitted to Vidur's A100 profiles (GEMM time held-out MAPE 6.0 %, "
		 "NCCL all-reduce 20.3 %); one end-to-end vLLM point (V3, 2024-01 engine): model 17 % faster "
		 "than measured."},
	{"h100", "H100: operator constants fitted to Vidur's H100 profiles and FlashAttention-3 kernels (GEMM "
		 "time held-out MAPE 9.6 %, all-reduce 21.3 %, attention 5.8 %); NVIDIA NIM on H100 (V7, V8): "
		 "model 8-10 % faster than measured."},
	{"h200", "H200: no H200 kernel measurement; H100's fitted constants with H200's memory and "
		 "bandwidth; vLLM CI latency on H200 (V4, V5): model 9-14 % faster than measured."},
	{"b200", "B200: H100's GEMM fit assumed (published B200 BF16 GEMMs: 29.3 % held-out error), "
		 "attention fitted to one FlashAttention Sm100 point, bandwidth measured; no current "
		 "end-to-end check (V6 is an anomaly its reporter filed)."},
	{"mi300x", "MI300X: no measurement; every constant is an assumption."},
};

/* Executive summary: the recommended fleet, its cost per year (cloud, and on-prem TCO
 * when given), the service level it reaches and what the figures assume. */
static void write_recommendation(doc *d, const plan_result *r, const headroom *h)
{
	const plan_option *best = r->best >= 0 ? &r->options[r->best] : NULL;
	const plan_option *base = r->baseline >= 0 ? &r->options[r->baseline] : NULL;
	char buf[2048], fl[512], money[48], m2[48], slo1[48] = "", slo2[48] = "";

	fputs("<section id=\"summary\">\n", d->html);
	heading(d, "Executive summary");
	if (!best) {
		para(d, "No option meets the SLO within the search limits; see the notes in the options table.");
		fputs("</section>\n", d->html);
		return;
	}
	fleet_text(best, fl, sizeof fl);
	sizing_fmt_usd(money, sizeof money, best->annual_cost, "/yr");
	snprintf(buf, sizeof buf, "Recommended: %s, %d %s of %s (%s), %s in the cloud.", best->label, best->best.gpus,
		 units(best->best.gpus, "GPU", "GPUs"), best->gpu_display, fl, money);
	fputs("**", d->md);
	esc_md_text(d->md, buf);
	fputs("**\n\n", d->md);
	fputs("<div class=\"rec\"><strong>", d->html);
	esc_html(d->html, buf);
	fputs("</strong></div>\n", d->html);

	list_open(d);
	snprintf(buf, sizeof buf, "%s weights, %s KV cache; %s.", prec_name(best->prec), prec_name(best->kv),
		 best->layout == PLAN_DUAL ? "two pools behind a token-budget router" : "one pool");
	item(d, "Fleet:", buf);
	snprintf(buf, sizeof buf, "%s at $%.2f per GPU-hour, around the clock (8,760 h).", money,
		 best->price_per_gpu_hour);
	if (best->cost_ok && best->cost.onprem) {
		size_t w = strlen(buf);
		sizing_fmt_usd(m2, sizeof m2, best->cost.tco_per_year, "/yr");
		snprintf(buf + w, sizeof buf - w, " On-prem TCO %s (%d %s incl. %d %s).", m2, best->cost.onprem_servers,
			 units(best->cost.onprem_servers, "server", "servers"), best->cost.spares,
			 units(best->cost.spares, "spare", "spares"));
	}
	if (best->cost_ok && best->cost.spares > 0) {
		size_t w = strlen(buf);
		sizing_fmt_usd(m2, sizeof m2, best->cost.cloud_per_year, "/yr");
		snprintf(buf + w, sizeof buf - w, " Cloud with spares: %s.", m2);
	}
	item(d, "Cost per year:", buf);
	if (r->slo.ttft_p99_s > 0)
		snprintf(slo1, sizeof slo1, " (SLO %g s)", r->slo.ttft_p99_s);
	if (r->slo.tpot_p99_s > 0)
		snprintf(slo2, sizeof slo2, " (SLO %g s)", r->slo.tpot_p99_s);
	snprintf(buf, sizeof buf, "P99 TTFT %.3f s%s, P99 TPOT %.4f s%s, %.2f %% of requests rejected; the SLO "
		 "holds up to %gx the planned traffic%s.",
		 best->best.ttft_p99_s, slo1, best->best.tpot_p99_s, slo2, 100 * best->best.rejection_rate, h->scale,
		 h->n > 0 && h->ev[h->n - 1].pass ? " (the highest tried)" : "");
	item(d, "Service level:", buf);
	if (base && base->feasible && base != best && !isnan(best->savings_vs_baseline)) {
		snprintf(buf, sizeof buf, "%s %.1f %% %s the baseline %s (%d %s).",
			 best->savings_vs_baseline >= 0 ? "saves" : "costs", 100 * fabs(best->savings_vs_baseline),
			 best->savings_vs_baseline >= 0 ? "of the annual cost of" : "more per year than", base->label,
			 base->best.gpus, units(base->best.gpus, "GPU", "GPUs"));
		item(d, "Savings:", buf);
	}
	snprintf(buf, sizeof buf,
		 "traffic as simulated (%lld requests, %.2f req/s mean over %.0f s, at %gx the scenario's load); "
		 "model %s; GPU prices from the catalog or the scenario; step times from fleetsim's GPU model, "
		 "which on current vLLM engines runs 8-14 %% faster than measured (docs/fidelity.md): keep "
		 "the headroom above. Details under \"Assumptions and model fidelity\".",
		 (long long)r->stats.count, r->stats.mean_rate, r->stats.duration_s, r->load_scale, r->model);
	item(d, "Assumes:", buf);
	list_close(d);
	snprintf(buf, sizeof buf,
		 "Mean GPU board power %.1f kW (compute utilisation %.0f %%, busy %.0f %%; %.2f output tokens per "
		 "joule). Busy is the share of GPU time an engine step is running; compute utilisation is the share "
		 "the tensor cores are the bottleneck (compute-bound step time, models/perf.h). Decode steps are "
		 "memory-bound, so a fleet can be 100 %% busy at a low compute utilisation; headroom comes from "
		 "batching more sequences per step, which the load headroom measures directly.",
		 best->power_kw, 100 * best->best.utilisation, 100 * best->best.busy_share, best->best.tokens_per_joule);
	para(d, buf);
	para(d, "Deployment manifests for this fleet are in manifests/: vLLM Deployments and Services per pool, "
		"Kueue ResourceFlavor, ClusterQueue and LocalQueues, the router's ConfigMap (docs/deploy.md).");
	fputs("</section>\n", d->html);
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
		sizing_fmt_usd(cl, sizeof cl, o->cost.cloud_per_year, "/yr");
		sizing_fmt_usd(cm, sizeof cm, o->cost.cloud_per_mtok, "");
		w = snprintf(buf, sizeof buf, "%s\t%d\t%d + %d of %d %s\t%s\t%s\t%s", o->label, o->cost.gpus,
			     o->cost.servers, o->cost.spares, o->cost.node_gpus, units(o->cost.node_gpus, "GPU", "GPUs"),
			     av, cl, cm);
		if (onprem && w > 0 && (size_t)w < sizeof buf) {
			sizing_fmt_usd(cap, sizeof cap, o->cost.capex_per_year, "/yr");
			sizing_fmt_usd(en, sizeof en, o->cost.energy_cost_per_year, "/yr");
			sizing_fmt_usd(tco, sizeof tco, o->cost.tco_per_year, "/yr");
			sizing_fmt_usd(om, sizeof om, o->cost.onprem_per_mtok, "");
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
				 "Redundancy: N + %d for availability %g: %d serving server(s) of %d %s plus %d spare(s); "
				 "a server is down %.4f %% of the time (MTTR %g h / (MTBF %g h + MTTR)), failures taken "
				 "as independent; P(at most %d of %d servers down) = %.6f.",
				 c->spares, co->availability, c->servers, c->node_gpus, units(c->node_gpus, "GPU", "GPUs"), c->spares, 100 * c->unavailability,
				 co->mttr_h, co->mtbf_h, c->spares, c->servers + c->spares, c->availability);
		else
			snprintf(buf, sizeof buf, "Redundancy: N + %d (--spares): %d serving server(s) of %d %s plus %d spare(s).",
				 c->spares, c->servers, c->node_gpus, units(c->node_gpus, "GPU", "GPUs"), c->spares);
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

/* Feasible options in rank order, then the infeasible ones with their notes.  Ten
 * columns at most (on-prem TCO only when given), the recommended row marked, so the
 * table fits a 1,280 px window; busy share, GPU-hours and simulations are in the
 * power section and the JSON. */
static void write_options(doc *d, const plan_result *r)
{
	char line[1024];
	int onprem = 0;

	for (int i = 0; i < r->noptions; i++)
		onprem |= r->options[i].feasible && r->options[i].cost_ok && r->options[i].cost.onprem;
	heading(d, "Options, cheapest first");
	table_open(d);
	row(d, onprem ? "rank\toption\tGPUs\tfleet\tTTFT p99\tTPOT p99\tcloud cost\ton-prem TCO\tvs baseline\tpower"
		      : "rank\toption\tGPUs\tfleet\tTTFT p99\tTPOT p99\tcloud cost\tvs baseline\tpower",
	    1);
	for (int rank = 1; rank <= r->noptions + 1; rank++)
		for (int i = 0; i < r->noptions; i++) {
			const plan_option *o = &r->options[i];
			char fl[256], money[48], tco[64] = "", sav[32] = "-";
			if (rank <= r->noptions ? o->rank != rank : o->feasible)
				continue;
			if (!o->feasible) {
				snprintf(line, sizeof line, "-\t%s\t-\tno fleet: %.200s\t-\t-\t-\t%s-\t-", o->label, o->note,
					 onprem ? "-\t" : "");
				row(d, line, 0);
				continue;
			}
			fleet_text(o, fl, sizeof fl);
			sizing_fmt_usd(money, sizeof money, o->annual_cost, "/yr");
			if (onprem) {
				if (o->cost_ok && o->cost.onprem)
					sizing_fmt_usd(tco, sizeof tco - 1, o->cost.tco_per_year, "/yr");
				else
					snprintf(tco, sizeof tco, "-");
				strcat(tco, "\t");
			}
			if (!isnan(o->savings_vs_baseline))
				snprintf(sav, sizeof sav, "%+.1f %%", 100 * o->savings_vs_baseline);
			snprintf(line, sizeof line, "%d\t%s\t%d\t%s\t%.3f s\t%.4f s\t%s ($%.2f/GPU-h)\t%s%s\t%.1f kW", o->rank,
				 o->label, o->best.gpus, fl, o->best.ttft_p99_s, o->best.tpot_p99_s, money,
				 o->price_per_gpu_hour, tco, sav, o->power_kw);
			row_cls(d, line, 0, i == r->best ? "best" : NULL);
		}
	table_close(d);
}

/* Where a saving comes from (issue 17): per GPU x precision, the single pool at vLLM's
 * defaults, the single pool tuned and the dual layout tuned, each the fewest GPUs that
 * met the SLO on the planned traffic; then what each winner was verified on. */
static void write_baselines(doc *d, const plan_result *r)
{
	char line[1024];
	int any = 0, verified = 0;

	for (int i = 0; i < r->noptions; i++) {
		any |= r->options[i].has_defaults || r->options[i].nchecks;
		verified |= r->options[i].nchecks > 0;
	}
	if (!any)
		return;
	heading(d, "Where the saving comes from");
	para(d, verified ? "Each layout is tuned before layouts are compared: the single pool at vLLM's defaults (the "
			   "smallest TP that loads, the release's max_num_seqs and max_num_batched_tokens for the GPU), "
			   "the single pool with TP and shape searched, and the dual layout (threshold, TP and per-pool "
			   "shape searched). GPUs: the fewest that hold on the planned and on the verification traffic."
			 : "Each layout is tuned before layouts are compared: the single pool at vLLM's defaults (the "
			   "smallest TP that loads, the release's max_num_seqs and max_num_batched_tokens for the GPU), "
			   "the single pool with TP and shape searched, and the dual layout (threshold, TP and per-pool "
			   "shape searched). GPUs: the fewest that hold on the planned traffic (not verified).");
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
			if (r->options[k].layout == PLAN_DUAL && !r->options[k].mixed && r->options[k].prec == s1->prec &&
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

/* The what-if table (one row per option, one column per load, so it stays narrow
 * however many options are planned) and its plot.  Returns 0, or -1 with err (the
 * plot's PNG is unreadable). */
static int write_whatif(doc *d, const plan_result *r, const sizing_opts *so, const char *plots, fs_err *err)
{
	char line[1024];
	int w = snprintf(line, sizeof line, "option");

	heading(d, "What-if: GPUs needed against load");
	table_open(d);
	for (int i = 0; i < so->nwhatif && w < (int)sizeof line; i++)
		w += snprintf(line + w, sizeof line - (size_t)w, "\tx%g load", so->whatif_scales[i]);
	row(d, line, 1);
	for (int k = 0; k < r->noptions; k++) {
		w = snprintf(line, sizeof line, "%s", r->options[k].label);
		for (int i = 0; i < so->nwhatif && w < (int)sizeof line; i++) {
			const plan_option *o = k < so->whatif[i]->noptions ? &so->whatif[i]->options[k] : NULL;
			if (o && o->feasible)
				w += snprintf(line + w, sizeof line - (size_t)w, "\t%d", o->best.gpus);
			else
				w += snprintf(line + w, sizeof line - (size_t)w, "\t-");
		}
		row_cls(d, line, 0, k == r->best ? "best" : NULL);
	}
	table_close(d);
	para(d, "GPUs of each option's cheapest fleet that meets the SLO at that multiple of the planned "
		"traffic; - where none was found.");
	return figure(d, plots, "gpus_vs_load", "GPUs needed against load", err);
}

static void write_assumptions(doc *d, const plan_request *rq, const plan_result *r)
{
	char buf[2048];

	fputs("<section id=\"assumptions\">\n", d->html);
	heading(d, "Assumptions and model fidelity");
	snprintf(buf, sizeof buf,
		 "Model %s. Pool shapes (max_model_len, max_num_seqs, max_num_batched_tokens, "
		 "gpu_memory_utilization) come from the scenario's single and dual policies; tensor parallelism "
		 "is the scenario's where it sets one, else the smallest that fits the model and one "
		 "max_model_len sequence. FP8 and NVFP4 weights are paired with an FP8 KV cache.",
		 r->model);
	para(d, buf);
	para(d, "Cost: GPUs x hours x $/GPU-hour (the GPU catalog's price, or the scenario's "
		"price_per_gpu_hour for the GPU it was written for); fleets run 24 h a day, 8760 h a year. "
		"On-prem TCO, when server prices are given, is in \"Redundancy and cost\".");
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
	para(d, "Model fidelity (docs/fidelity.md): step times come from per-GPU operator constants fitted to "
		"kernel measurements (GEMMs, element-wise kernels, all-reduce, attention), never to serving "
		"results. On the four current-engine serving points held out (vLLM CI on H200, NVIDIA NIM on "
		"H100) the step-time MAPE is 10.3 %, the model 8-14 % faster than measured: the GPU counts "
		"here are optimistic by about that much unless the load headroom covers it. To remove the "
		"bias, measure your engine (bench/measure_vllm.py) and calibrate (fleetsim calibrate).");
	for (int g = 0; g < rq->ngpus; g++) {
		const char *fid = NULL;
		for (size_t i = 0; i < sizeof fidelity / sizeof fidelity[0]; i++)
			if (!strcmp(rq->gpus[g], fidelity[i].gpu))
				fid = fidelity[i].text;
		snprintf(buf, sizeof buf, "%s Step-time calibration, %s.",
			 fid ? fid : "A GPU from a YAML file: its constants and their sources are the file's.",
			 r->calib_source[g]);
		para(d, buf);
	}
	para(d, "Layouts (docs/validation.md): against the dual-pool paper's workload the sized GPU-hour "
		"saving of two pools over one is -20 to 9 % over seven GPU x precision pairs, not the paper's "
		"31-42 %: the saving depends on the traffic's mix of prompt and output lengths, so a dual "
		"recommendation holds for traffic like the simulated one.");
	fputs("</section>\n", d->html);
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
		    figure(&d, plots, "cost_per_option", "Annual cloud cost per option (thousand $ per year)", err) ||
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

/* ---- PDF ------------------------------------------------------------------------- */

/* The first of the usual Chromium names on PATH (or $FLEETSIM_CHROMIUM), into out. */
static int find_chromium(char *out, size_t cap)
{
	static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
	const char *env = getenv("FLEETSIM_CHROMIUM");
	const char *path = getenv("PATH");

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, X_OK) ? -1 : 0;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *p = path ? path : "/usr/bin:/bin";
		while (*p) {
			size_t l = strcspn(p, ":");
			if (l && (size_t)snprintf(out, cap, "%.*s/%s", (int)l, p, names[i]) < cap && !access(out, X_OK))
				return 0;
			p += l;
			if (*p == ':')
				p++;
		}
	}
	return -1;
}

int sizing_write_pdf(const char *dir, fs_err *err)
{
	char chrome[PATH_CAP], html[PATH_CAP], pdf[PATH_CAP], url[PATH_CAP + 16], opt[PATH_CAP + 32];
	char absdir[PATH_CAP];
	struct stat st;
	pid_t pid;
	int status;

	if (find_chromium(chrome, sizeof chrome))
		return fs_fail(err, FS_EXIT_INPUT, "--pdf needs Chromium (chromium, chromium-browser or google-chrome on "
						   "PATH, or FLEETSIM_CHROMIUM)");
	if (!realpath(dir, absdir))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s", dir, strerror(errno));
	if ((size_t)snprintf(html, sizeof html, "%s/report.html", absdir) >= sizeof html ||
	    (size_t)snprintf(pdf, sizeof pdf, "%s/report.pdf", absdir) >= sizeof pdf)
		return fs_fail(err, FS_EXIT_INPUT, "%.200s: path too long", dir);
	if (stat(html, &st))
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: %s", html, strerror(errno));
	/* the path goes to Chromium as an argument, never through a shell */
	snprintf(url, sizeof url, "file://%s", html);
	snprintf(opt, sizeof opt, "--print-to-pdf=%s", pdf);
	unlink(pdf);
	pid = fork();
	if (pid < 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "fork: %s", strerror(errno));
	if (!pid) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execl(chrome, chrome, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
		      opt, url, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s failed printing %s to PDF", chrome, html);
	if (stat(pdf, &st) || st.st_size == 0)
		return fs_fail(err, FS_EXIT_RUNTIME, "%s wrote no %s", chrome, pdf);
	return 0;
}
