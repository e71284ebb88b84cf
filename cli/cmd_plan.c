/*
 * cmd_plan.c - `fleetsim plan`: the cheapest fleet per GPU x precision x layout that
 * meets the scenario's SLO, a sizing report and deployment manifests.
 */
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "reports/cost.h"
#include "reports/db.h"
#include "reports/plan.h"
#include "reports/sizing.h"
#include "reports/sweep.h"
#include "scenarios/scenario.h"
#include "traces/tcache.h"
#include "util/outfile.h"

#define MAX_SCALES 16

/* Redundancy and cost block (below, before cmd_plan). */
static void cost_json(cJSON *j, const plan_option *p);

static const char usage_text[] =
	"usage: fleetsim plan SCENARIO.yaml [options]\n"
	"\n"
	"For each GPU x precision x layout, find the fewest GPUs whose simulated P99 TTFT,\n"
	"P99 TPOT and rejection rate meet the scenario's slo:, price them, and write a\n"
	"sizing report (report.html, report.md, plots) and Kubernetes manifests.\n"
	"\n"
	"  --gpus LIST          GPUs to consider (default h100,h200,b200)\n"
	"  --precisions LIST    weight precisions: bf16, fp8, nvfp4 (default bf16,nvfp4)\n"
	"  --policies LIST      layouts: single, dual (default single,dual); the scenario's\n"
	"                       single-pool and two-pool token_budget policies give the pool shapes\n"
	"  --out DIR            report directory (default plan-out)\n"
	"  --db FILE            results database; every simulation is recorded (default results.db)\n"
	"  --load-scale LIST    what-if: re-plan at these multiples of the traffic, e.g. 0.5,1,2,4\n"
	"  --baseline G/P/L     option the savings are measured against (default: first GPU,\n"
	"                       bf16, single)\n"
	"  --max-preemptions X  also require at most X preemptions per request\n"
	"  --max-replicas N     search ceiling per option (default 512)\n"
	"  --no-verify          skip the check of each winner on other traffic (seed + 1, or a\n"
	"                       shifted trace window) and at +10 %% load\n"
	"  --no-tune            keep the scenario's pool shapes and TP (no TP / shape / threshold search)\n"
	"  --tp N               pin tensor_parallel_size (default: searched, powers of two that\n"
	"                       divide the model's heads, up to --node-gpus)\n"
	"  --node-gpus N        GPUs in one node / NVLink domain (default 8)\n"
	"  --max-num-seqs N     pin max_num_seqs of every pool (default: searched)\n"
	"  --max-num-batched-tokens N  pin max_num_batched_tokens (default: searched)\n"
	"  --thresholds LIST    dual thresholds to try (default: the workload's length quantiles)\n"
	"  --max-candidates N   simulated TP/shape/threshold candidates per option (default 6)\n"
	"  --mixed-gpus         also dual options with the short and the long pool on different GPUs\n"
	"                       (every ordered pair of --gpus; labelled short+long/precision/dual)\n"
	"  --no-report          search only: no report, plots or manifests\n"
	"  --pdf                also print report.pdf with headless Chromium (docs/deploy.md)\n"
	"  --set KEY=VALUE      override a scenario key (repeatable), e.g. workload.duration=120\n"
	"  --json               print the plan as one JSON object\n"
	"  -q, --quiet          no table\n"
	"  -h, --help           this text\n"
	"\n"
	"Redundancy and cost (docs/planning.md, \"Cost, power and redundancy\"):\n"
	"  --spares K           K spare servers (N + K)\n"
	"  --availability A     or: the fewest spares for availability A in (0, 1), e.g. 0.999,\n"
	"  --mtbf-h H           with per-server MTBF and MTTR in hours\n"
	"  --mttr-h R\n"
	"  --gpus-per-server N  GPUs per server (default 8)\n"
	"  --server-price USD   on-prem: price of one server; adds the on-prem TCO\n"
	"  --amortization-years Y  (default 4)\n"
	"  --power-price USD    $ per kWh for the on-prem energy cost\n"
	"  --pue X              power usage effectiveness (default 1.3)\n"
	"  --opex-per-server-year USD  other yearly cost per server\n";

struct progress {
	int tty;
	double t0;
	int start_done;
};

static void show_progress(void *ctx, const char *option, int sims)
{
	(void)ctx;
	(void)option;
	(void)sims;
}

/* Progress with an ETA from the options finished so far. */
static void show_progress_eta(void *ctx, const char *option, int sims, int done, int total)
{
	struct progress *p = ctx;
	struct timespec now;
	double el, eta;

	if (!p->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!p->t0) {
		p->t0 = (double)now.tv_sec + now.tv_nsec / 1e9;
		p->start_done = done;
	}
	el = (double)now.tv_sec + now.tv_nsec / 1e9 - p->t0;
	eta = done > p->start_done ? el / (done - p->start_done) * (total - done) : -1;
	if (eta >= 0)
		fprintf(stderr, "\r\033[K  planning %-28s option %d/%d, %4d simulations, %.0f s, ETA %.0f s", option,
			done + 1, total, sims, el, eta);
	else
		fprintf(stderr, "\r\033[K  planning %-28s option %d/%d, %4d simulations, %.0f s", option, done + 1,
			total, sims, el);
}

/* Split a comma list in place; returns the count or -1 when more than cap. */
static int split_list(char *s, char **items, int cap)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (!*tok)
			continue;
		if (n >= cap)
			return -1;
		items[n++] = tok;
	}
	return n;
}

static cJSON *eval_json(const plan_eval *e)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "replicas");

	for (int k = 0; k < e->npools; k++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(e->replicas[k]));
	cJSON_AddNumberToObject(o, "gpus", e->gpus);
	if (e->threshold > 0)
		cJSON_AddNumberToObject(o, "threshold", (double)e->threshold);
	cJSON_AddNumberToObject(o, "seed", (double)e->seed);
	cJSON_AddBoolToObject(o, "meets_slo", e->pass);
	cJSON_AddNumberToObject(o, "ttft_p99_s", e->ttft_p99_s);
	cJSON_AddNumberToObject(o, "tpot_p99_s", e->tpot_p99_s);
	cJSON_AddNumberToObject(o, "rejection_rate", e->rejection_rate);
	cJSON_AddNumberToObject(o, "preemptions_per_request", e->preemptions_per_request);
	cJSON_AddNumberToObject(o, "busy_share", e->busy_share);
	cJSON_AddNumberToObject(o, "run_id", (double)e->run_id);
	return o;
}

static cJSON *plan_json(const plan_result *r, int64_t plan_id)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "options");

	cJSON_AddNumberToObject(o, "plan_id", (double)plan_id);
	cJSON_AddStringToObject(o, "scenario", r->scenario);
	cJSON_AddNumberToObject(o, "load_scale", r->load_scale);
	{
		cJSON *so = cJSON_AddObjectToObject(o, "slo");
		if (r->slo.ttft_p99_s > 0)
			cJSON_AddNumberToObject(so, "ttft_p99_s", r->slo.ttft_p99_s);
		if (r->slo.tpot_p99_s > 0)
			cJSON_AddNumberToObject(so, "tpot_p99_s", r->slo.tpot_p99_s);
		cJSON_AddNumberToObject(so, "max_rejection_rate", r->max_rejection_rate);
	}
	cJSON_AddNumberToObject(o, "simulations", r->sims);
	cJSON_AddNumberToObject(o, "wall_s", r->wall_s);
	cJSON_AddStringToObject(o, "recommended", r->best >= 0 ? r->options[r->best].label : "");
	cJSON_AddStringToObject(o, "baseline", r->baseline >= 0 ? r->options[r->baseline].label : "");
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *p = &r->options[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "option", p->label);
		cJSON_AddStringToObject(j, "gpu", p->gpu);
		cJSON_AddStringToObject(j, "precision", prec_name(p->prec));
		cJSON_AddStringToObject(j, "kv_cache_dtype", prec_name(p->kv));
		cJSON_AddStringToObject(j, "policy", plan_layout_name(p->layout));
		cJSON_AddBoolToObject(j, "feasible", p->feasible);
		cJSON_AddNumberToObject(j, "rank", p->rank);
		cJSON_AddStringToObject(j, "note", p->note);
		cJSON_AddNumberToObject(j, "simulations", p->sims);
		cJSON_AddNumberToObject(j, "estimate_gpus", p->estimate_gpus);
		/* Bounds that hold at any fleet size (plan.h): an SLO below them is infeasible. */
		cJSON_AddNumberToObject(j, "ttft_p99_floor_s", p->ttft_p99_floor_s);
		cJSON_AddNumberToObject(j, "tpot_p99_floor_s", p->tpot_p99_floor_s);
		cJSON_AddNumberToObject(j, "never_fits_share", p->never_fits);
		if (p->feasible) {
			cJSON *tp = cJSON_AddArrayToObject(j, "tensor_parallel_size");
			for (int k = 0; k < p->npools; k++)
				cJSON_AddItemToArray(tp, cJSON_CreateNumber(p->tp[k]));
			cJSON_AddNumberToObject(j, "gpus", p->best.gpus);
			cJSON_AddItemToObject(j, "result", eval_json(&p->best));
			if (p->verify.seed)
				cJSON_AddItemToObject(j, "verify", eval_json(&p->verify));
			cJSON_AddNumberToObject(j, "price_per_gpu_hour", p->price_per_gpu_hour);
			cJSON_AddNumberToObject(j, "gpu_hours_per_day", p->gpu_hours_per_day);
			cJSON_AddNumberToObject(j, "gpu_hours_per_year", p->gpu_hours_per_year);
			cJSON_AddNumberToObject(j, "annual_cost_usd", p->annual_cost);
			cJSON_AddNumberToObject(j, "power_kw", p->power_kw);
			cJSON_AddNumberToObject(j, "energy_mwh_per_year", p->energy_mwh_per_year);
			cost_json(j, p);
			if (!isnan(p->savings_vs_baseline))
				cJSON_AddNumberToObject(j, "savings_vs_baseline", p->savings_vs_baseline);
		}
		/* Search over engine settings (issue 17). */
		{
			cJSON *sh = cJSON_AddArrayToObject(j, "max_num_seqs"), *sb = cJSON_AddArrayToObject(j, "max_num_batched_tokens");
			cJSON *ml = cJSON_AddArrayToObject(j, "max_model_len"), *tr;
			for (int k = 0; k < p->npools; k++) {
				cJSON_AddItemToArray(sh, cJSON_CreateNumber(p->max_num_seqs[k]));
				cJSON_AddItemToArray(sb, cJSON_CreateNumber(p->max_num_batched_tokens[k]));
				cJSON_AddItemToArray(ml, cJSON_CreateNumber(p->max_model_len[k]));
			}
			cJSON_AddBoolToObject(j, "dual_built_from_single", p->synth_dual);
			if (p->mixed) {
				cJSON *pg = cJSON_AddArrayToObject(j, "pool_gpus"), *pp = cJSON_AddArrayToObject(j, "pool_price_per_gpu_hour");
				for (int k = 0; k < p->npools; k++) {
					cJSON_AddItemToArray(pg, cJSON_CreateString(p->pool_gpu[k]));
					cJSON_AddItemToArray(pp, cJSON_CreateNumber(p->pool_price[k]));
				}
			}
			if (p->searched_gpus)
				cJSON_AddNumberToObject(j, "gpus_before_verify", p->searched_gpus);
			cJSON_AddNumberToObject(j, "candidates", p->candidates);
			cJSON_AddNumberToObject(j, "candidates_simulated", p->candidates_simulated);
			if (p->tp_note[0])
				cJSON_AddStringToObject(j, "tp_note", p->tp_note);
			if (p->tp_searched[0])
				cJSON_AddStringToObject(j, "tp_searched", p->tp_searched);
			tr = cJSON_AddArrayToObject(j, "tried");
			for (int t = 0; t < p->ntried; t++) {
				const struct plan_tried *x = &p->tried[t];
				cJSON *e = cJSON_CreateObject(), *tpa = cJSON_AddArrayToObject(e, "tp"),
				      *a = cJSON_AddArrayToObject(e, "max_num_seqs"),
				      *b = cJSON_AddArrayToObject(e, "max_num_batched_tokens");
				for (int k = 0; k < p->npools; k++) {
					cJSON_AddItemToArray(tpa, cJSON_CreateNumber(x->tp[k]));
					cJSON_AddItemToArray(a, cJSON_CreateNumber(x->max_num_seqs[k]));
					cJSON_AddItemToArray(b, cJSON_CreateNumber(x->max_num_batched_tokens[k]));
				}
				if (x->threshold > 0)
					cJSON_AddNumberToObject(e, "threshold", (double)x->threshold);
				cJSON_AddBoolToObject(e, "found", x->found);
				if (x->found) {
					cJSON_AddNumberToObject(e, "gpus", x->gpus);
					cJSON_AddNumberToObject(e, "ttft_p99_s", x->ttft_p99_s);
				}
				cJSON_AddBoolToObject(e, "pareto", x->pareto);
				cJSON_AddItemToArray(tr, e);
			}
			if (p->has_defaults) {
				cJSON *d = cJSON_AddObjectToObject(j, "vllm_defaults");
				cJSON_AddNumberToObject(d, "tensor_parallel_size", p->defaults_tp);
				cJSON_AddNumberToObject(d, "max_num_seqs", p->defaults_max_num_seqs);
				cJSON_AddNumberToObject(d, "max_num_batched_tokens", p->defaults_max_num_batched_tokens);
				cJSON_AddBoolToObject(d, "feasible", p->defaults_feasible);
				if (p->defaults_feasible) {
					cJSON_AddNumberToObject(d, "gpus", p->defaults.gpus);
					cJSON_AddItemToObject(d, "result", eval_json(&p->defaults));
				}
			}
			if (p->nchecks) {
				cJSON *v = cJSON_AddObjectToObject(j, "verification"), *ch = cJSON_AddArrayToObject(v, "checks");
				cJSON_AddStringToObject(v, "verified", p->verified);
				cJSON_AddNumberToObject(v, "ttft_p99_min_s", p->verify_ttft_min_s);
				cJSON_AddNumberToObject(v, "ttft_p99_max_s", p->verify_ttft_max_s);
				for (int t = 0; t < p->nchecks; t++) {
					cJSON *e = eval_json(&p->check[t]);
					cJSON_AddStringToObject(e, "traffic", p->check_name[t]);
					cJSON_AddNumberToObject(e, "load_scale", p->check[t].load_scale);
					cJSON_AddItemToArray(ch, e);
				}
			}
		}
		cJSON_AddItemToArray(arr, j);
	}
	/* Where a saving comes from: per GPU x precision, the single pool at vLLM's
	 * defaults, the single pool tuned, and the dual layout tuned. */
	{
		cJSON *bl = cJSON_AddArrayToObject(o, "baselines");
		for (int i = 0; i < r->noptions; i++) {
			const plan_option *s1 = &r->options[i];
			cJSON *e;
			if (s1->layout != PLAN_SINGLE)
				continue;
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "gpu", s1->gpu);
			cJSON_AddStringToObject(e, "precision", prec_name(s1->prec));
			if (s1->has_defaults && s1->defaults_feasible)
				cJSON_AddNumberToObject(e, "single_defaults_gpus", s1->defaults.gpus);
			else
				cJSON_AddNullToObject(e, "single_defaults_gpus");
			if (s1->feasible) {
				cJSON_AddNumberToObject(e, "single_tuned_gpus", s1->best.gpus);
				if (s1->searched_gpus)
					cJSON_AddNumberToObject(e, "single_tuned_gpus_before_verify", s1->searched_gpus);
			}
			else
				cJSON_AddNullToObject(e, "single_tuned_gpus");
			cJSON_AddNullToObject(e, "dual_tuned_gpus");
			for (int k = 0; k < r->noptions; k++) {
				const plan_option *d = &r->options[k];
				if (d->layout == PLAN_DUAL && !d->mixed && d->prec == s1->prec && !strcmp(d->gpu, s1->gpu) && d->feasible)
					cJSON_ReplaceItemInObject(e, "dual_tuned_gpus", cJSON_CreateNumber(d->best.gpus));
			}
			cJSON_AddItemToArray(bl, e);
		}
	}
	return o;
}

static void print_table(const plan_result *r, int64_t plan_id, const char *dbpath)
{
	printf("plan %lld of %s at load x%g: %d simulations in %.1f s -> %s\n", (long long)plan_id,
	       r->scenario, r->load_scale, r->sims, r->wall_s, dbpath);
	printf("%-4s %-26s %5s %-10s %6s %9s %9s %8s %12s %8s\n", "rank", "option", "GPUs", "replicas",
	       "thresh", "TTFT p99", "TPOT p99", "$/GPU-h", "annual $", "savings");
	for (int rank = 0; rank <= r->noptions; rank++)
		for (int i = 0; i < r->noptions; i++) {
			const plan_option *p = &r->options[i];
			char reps[32] = "", sav[16] = "-";
			int w = 0;
			if (p->rank != (rank == r->noptions ? 0 : rank + 1) || (rank == r->noptions) != !p->feasible)
				continue;
			if (!p->feasible) {
				printf("%-4s %-26s  no fleet: %s\n", "-", p->label, p->note);
				continue;
			}
			for (int k = 0; k < p->npools; k++)
				w += snprintf(reps + w, sizeof reps - (size_t)w, "%s%dx%d", k ? "+" : "",
					      p->best.replicas[k], p->tp[k]);
			if (!isnan(p->savings_vs_baseline))
				snprintf(sav, sizeof sav, "%+.1f%%", 100 * p->savings_vs_baseline);
			printf("%-4d %-26s %5d %-10s %6lld %8.3fs %8.4fs %8.2f %12.0f %8s\n", p->rank, p->label,
			       p->best.gpus, reps, (long long)p->best.threshold, p->best.ttft_p99_s,
			       p->best.tpot_p99_s, p->price_per_gpu_hour, p->annual_cost, sav);
		}
	/* Where a saving comes from: vLLM defaults vs tuned single vs tuned dual. */
	for (int i = 0; i < r->noptions; i++) {
		const plan_option *s1 = &r->options[i];
		if (s1->layout != PLAN_SINGLE || !s1->has_defaults)
			continue;
		printf("  %s/%s: single at vLLM defaults ", s1->gpu, prec_name(s1->prec));
		s1->defaults_feasible ? printf("%d GPUs", s1->defaults.gpus) : printf("-");
		printf(", single tuned ");
		s1->feasible ? printf("%d", s1->searched_gpus ? s1->searched_gpus : s1->best.gpus) : printf("-");
		for (int k = 0; k < r->noptions; k++) {
			const plan_option *d = &r->options[k];
			if (d->layout == PLAN_DUAL && !d->mixed && d->prec == s1->prec && !strcmp(d->gpu, s1->gpu)) {
				printf(", dual tuned ");
				d->feasible ? printf("%d", d->searched_gpus ? d->searched_gpus : d->best.gpus) : printf("-");
			}
		}
		{
			int verified = 0;
			for (int i = 0; i < r->noptions; i++)
				verified |= r->options[i].nchecks > 0;
			printf(" (each the fewest GPUs holding on the planned%s traffic)\n",
			       verified ? " and the verification" : "");
		}
	}
	if (r->best >= 0)
		printf("recommended: %s (%d GPUs)\n", r->options[r->best].label, r->options[r->best].best.gpus);
	else
		printf("recommended: none: no option meets the SLO\n");
}

/* ---- Redundancy, cost, power (issue 17 items 5 and 6; reports/cost.h) ---- */

/* One --spares ... --opex-per-server-year value into o.  Returns 0, or -1 after a
 * usage message (exit 2). */
static int cost_option(int c, const char *arg, cost_opts *o)
{
	static const char *const names[] = {"spares", "availability", "mtbf-h", "mttr-h", "gpus-per-server",
					    "server-price", "amortization-years", "power-price", "pue",
					    "opex-per-server-year"};
	const char *name = names[c - 1100];
	double v;
	int n;

	if (c == 1100 || c == 1104) {
		if (cli_parse_int(arg, &n) || n < (c == 1100 ? 0 : 1)) {
			cli_usage_error("plan: --%s wants a whole number %s, got '%s'", name, c == 1100 ? ">= 0" : ">= 1",
					arg);
			return -1;
		}
		if (c == 1100)
			o->spares = n;
		else
			o->gpus_per_server = n;
		return 0;
	}
	if (cli_parse_double(arg, &v) || !isfinite(v) || (c == 1109 ? v < 0 : !(v > 0))) {
		cli_usage_error("plan: --%s wants a number %s, got '%s'", name, c == 1109 ? ">= 0" : "> 0", arg);
		return -1;
	}
	switch (c) {
	case 1101: o->availability = v; break;
	case 1102: o->mtbf_h = v; break;
	case 1103: o->mttr_h = v; break;
	case 1105: o->server_price = v; break;
	case 1106: o->amortization_years = v; break;
	case 1107: o->power_price = v; break;
	case 1108: o->pue = v; break;
	default: o->opex_per_server_year = v; break;
	}
	return 0;
}

/* Power model and cost figures of a feasible option, units in the keys. */
static void cost_json(cJSON *j, const plan_option *p)
{
	cJSON *c;

	cJSON_AddNumberToObject(j, "power_w_per_gpu", p->power_w_per_gpu);
	cJSON_AddNumberToObject(j, "idle_power_w_per_gpu", p->idle_power_w_per_gpu);
	cJSON_AddNumberToObject(j, "compute_utilisation", p->best.utilisation);
	cJSON_AddNumberToObject(j, "busy_share", p->best.busy_share);
	cJSON_AddNumberToObject(j, "tokens_per_joule", p->best.tokens_per_joule);
	cJSON_AddNumberToObject(j, "energy_per_mtok_j", p->best.energy_per_mtok_j);
	if (!p->cost_ok)
		return;
	c = cJSON_AddObjectToObject(j, "cost");
	cJSON_AddNumberToObject(c, "servers", p->cost.servers);
	cJSON_AddNumberToObject(c, "spare_servers", p->cost.spares);
	cJSON_AddNumberToObject(c, "gpus_per_server", p->cost.node_gpus);
	cJSON_AddNumberToObject(c, "spare_gpus", p->cost.spare_gpus);
	if (!isnan(p->cost.availability)) {
		cJSON_AddNumberToObject(c, "server_unavailability", p->cost.unavailability);
		cJSON_AddNumberToObject(c, "availability", p->cost.availability);
	}
	cJSON_AddNumberToObject(c, "cloud_usd_per_year", p->cost.cloud_per_year);
	cJSON_AddNumberToObject(c, "cloud_usd_per_mtok", p->cost.cloud_per_mtok);
	if (p->cost.onprem) {
		cJSON_AddNumberToObject(c, "onprem_servers", p->cost.onprem_servers);
		cJSON_AddNumberToObject(c, "onprem_capex_usd_per_year", p->cost.capex_per_year);
		cJSON_AddNumberToObject(c, "onprem_power_kw", p->cost.power_kw);
		cJSON_AddNumberToObject(c, "onprem_facility_kw", p->cost.facility_kw);
		cJSON_AddNumberToObject(c, "onprem_energy_mwh_per_year", p->cost.energy_mwh_per_year);
		cJSON_AddNumberToObject(c, "onprem_energy_usd_per_year", p->cost.energy_cost_per_year);
		cJSON_AddNumberToObject(c, "onprem_opex_usd_per_year", p->cost.opex_per_year);
		cJSON_AddNumberToObject(c, "onprem_tco_usd_per_year", p->cost.tco_per_year);
		cJSON_AddNumberToObject(c, "onprem_usd_per_mtok", p->cost.onprem_per_mtok);
	}
}

/* The recommended option's power and, when asked for, redundancy and cost. */
static void print_cost(const plan_result *r, const cost_opts *co)
{
	const plan_option *p = r->best >= 0 ? &r->options[r->best] : NULL;

	if (!p)
		return;
	printf("power: %.2f kW (%.0f W per GPU), compute utilisation %.1f %%, busy %.1f %%, "
	       "%.3f output tokens/J, %.0f kJ per 1M output tokens\n",
	       p->power_kw, p->power_w_per_gpu, 100 * p->best.utilisation, 100 * p->best.busy_share,
	       p->best.tokens_per_joule, p->best.energy_per_mtok_j / 1e3);
	if (!cost_opts_given(co) || !p->cost_ok)
		return;
	printf("redundancy: N + %d (%d + %d servers of %d GPUs)", p->cost.spares, p->cost.servers, p->cost.spares,
	       p->cost.node_gpus);
	if (!isnan(p->cost.availability))
		printf(", availability %.6f >= %g", p->cost.availability, co->availability);
	printf("\ncost: cloud $%.0f/year", p->cost.cloud_per_year);
	if (p->cost.onprem)
		printf(", on-prem TCO $%.0f/year (capex $%.0f + energy $%.0f for %.1f MWh + opex $%.0f)",
		       p->cost.tco_per_year, p->cost.capex_per_year, p->cost.energy_cost_per_year,
		       p->cost.energy_mwh_per_year, p->cost.opex_per_year);
	printf("\n");
}

int cmd_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gpus", required_argument, NULL, 'g'},       {"precisions", required_argument, NULL, 'p'},
		{"policies", required_argument, NULL, 'P'},   {"out", required_argument, NULL, 'o'},
		{"db", required_argument, NULL, 'd'},         {"load-scale", required_argument, NULL, 'l'},
		{"baseline", required_argument, NULL, 'b'},   {"max-preemptions", required_argument, NULL, 'm'},
		{"max-replicas", required_argument, NULL, 'M'}, {"no-verify", no_argument, NULL, 'V'},
		{"no-report", no_argument, NULL, 'R'},        {"set", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},             {"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		/* Search over engine settings (issue 17). */
		{"no-tune", no_argument, NULL, 1001},         {"tp", required_argument, NULL, 1002},
		{"node-gpus", required_argument, NULL, 1003}, {"max-num-seqs", required_argument, NULL, 1004},
		{"max-num-batched-tokens", required_argument, NULL, 1005},
		{"thresholds", required_argument, NULL, 1006}, {"max-candidates", required_argument, NULL, 1007},
		{"mixed-gpus", no_argument, NULL, 1008},
		/* Redundancy and cost (issue 17 item 6): cost_option. */
		{"spares", required_argument, NULL, 1100},    {"availability", required_argument, NULL, 1101},
		{"mtbf-h", required_argument, NULL, 1102},    {"mttr-h", required_argument, NULL, 1103},
		{"gpus-per-server", required_argument, NULL, 1104}, {"server-price", required_argument, NULL, 1105},
		{"amortization-years", required_argument, NULL, 1106}, {"power-price", required_argument, NULL, 1107},
		{"pue", required_argument, NULL, 1108},       {"opex-per-server-year", required_argument, NULL, 1109},
		{"pdf", no_argument, NULL, 1200},
		{NULL, 0, NULL, 0}};
	char gpus_def[] = "h100,h200,b200", precs_def[] = "bf16,nvfp4", pols_def[] = "single,dual";
	char *gpus_s = gpus_def, *precs_s = precs_def, *pols_s = pols_def, *scales_s = NULL;
	char *items[MAX_SCALES + 1];
	const char *out_dir = "plan-out", *dbpath = "results.db", **sets = NULL;
	double scales[MAX_SCALES];
	int nscales = 0, nsets = 0, json = 0, quiet = 0, report = 1, pdf = 0, c, n, status = FS_EXIT_OK;
	plan_request rq;
	cost_opts copts;
	plan_result *main_res = NULL, *what[MAX_SCALES] = {0};
	char *text = NULL, dirbuf[1024];
	scenario_src *src = NULL;
	db *d = NULL;
	fs_err err = {0};
	struct progress pr = {.tty = isatty(2)};

	memset(&rq, 0, sizeof rq);
	cost_opts_init(&copts);
	rq.load_scale = 1.0;
	rq.max_preemptions_per_request = -1;
	rq.verify = 1;
	rq.tune = 1;
	sets = calloc((size_t)argc + 1, sizeof *sets);
	if (!sets)
		return cli_usage_error("out of memory");
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'g': gpus_s = optarg; break;
		case 'p': precs_s = optarg; break;
		case 'P': pols_s = optarg; break;
		case 'o': out_dir = optarg; break;
		case 'd': dbpath = optarg; break;
		case 'l': scales_s = optarg; break;
		case 'b': rq.baseline = optarg; break;
		case 'm':
			if (cli_parse_double(optarg, &rq.max_preemptions_per_request) ||
			    rq.max_preemptions_per_request < 0) {
				status = cli_usage_error("plan: --max-preemptions wants a number >= 0, got '%s'", optarg);
				goto out;
			}
			break;
		case 'M':
			if (cli_parse_int(optarg, &rq.max_replicas) || rq.max_replicas > PLAN_MAX_REPLICAS) {
				status = cli_usage_error("plan: --max-replicas wants 1..%d, got '%s'", PLAN_MAX_REPLICAS,
							 optarg);
				goto out;
			}
			break;
		case 'V': rq.verify = 0; break;
		case 1001: rq.tune = 0; break;
		case 1008: rq.mixed_gpus = 1; break;
		case 1002:
		case 1003:
		case 1004:
		case 1005:
		case 1007: {
			int v;
			if (cli_parse_int(optarg, &v) || v < 1 || v > (1 << 24) ||
			    ((c == 1002 || c == 1003) && (v > 64 || (v & (v - 1))))) {
				status = cli_usage_error("plan: --%s wants a positive integer%s, got '%s'",
							 c == 1002 ? "tp" : c == 1003 ? "node-gpus" : c == 1004 ? "max-num-seqs"
							 : c == 1005 ? "max-num-batched-tokens" : "max-candidates",
							 c == 1002 || c == 1003 ? " (a power of two up to 64)" : "", optarg);
				goto out;
			}
			if (c == 1002)
				rq.pin_tp = v;
			else if (c == 1003)
				rq.node_gpus = v;
			else if (c == 1004)
				rq.pin_max_num_seqs = v;
			else if (c == 1005)
				rq.pin_max_num_batched_tokens = v;
			else
				rq.max_candidates = v;
			break;
		}
		case 1006: {
			char *tk[9];
			int nt = split_list(optarg, tk, 8);
			if (nt < 1) {
				status = cli_usage_error("plan: --thresholds wants 1 to 8 comma-separated token counts");
				goto out;
			}
			for (int i = 0; i < nt; i++) {
				int v;
				if (cli_parse_int(tk[i], &v) || v < 1) {
					status = cli_usage_error("plan: --thresholds wants positive token counts, got '%s'", tk[i]);
					goto out;
				}
				rq.thresholds[i] = v;
			}
			rq.nthresholds = nt;
			break;
		}
		case 'R': report = 0; break;
		case 1200: pdf = 1; break;
		case 's': sets[nsets++] = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); goto out;
		case 1100: case 1101: case 1102: case 1103: case 1104:
		case 1105: case 1106: case 1107: case 1108: case 1109:
			if (cost_option(c, optarg, &copts)) {
				status = FS_EXIT_INPUT;
				goto out;
			}
			break;
		default:
			fputs(usage_text, stderr);
			status = FS_EXIT_INPUT;
			goto out;
		}
	}
	if (optind != argc - 1) {
		status = cli_usage_error("plan: expected one SCENARIO.yaml (see 'fleetsim plan --help')");
		goto out;
	}
	if (rq.mixed_gpus && !rq.tune) {
		status = cli_usage_error("plan: --mixed-gpus needs the tuned search (drop --no-tune)");
		goto out;
	}
	rq.scenario_path = argv[optind];
	rq.sets = sets;
	rq.nsets = nsets;
	cli_scenario_warnings(rq.scenario_path, sets, nsets);
	/* Every candidate replays the same trace files: decode them once (traces/tcache.h). */
	tcache_enable(TCACHE_DEFAULT_BYTES);
	/* Redundancy and cost: checked before any simulation. */
	if (cost_opts_check(&copts, &err))
		goto fail_input;
	rq.cost = &copts;
	if ((n = split_list(gpus_s, items, PLAN_MAX_GPUS)) < 1) {
		status = cli_usage_error("plan: --gpus wants 1 to %d comma-separated GPU names", PLAN_MAX_GPUS);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		snprintf(rq.gpus[i], sizeof rq.gpus[i], "%s", items[i]);
		for (int j = 0; j < i; j++)
			if (!strcmp(rq.gpus[i], rq.gpus[j])) {
				status = cli_usage_error("plan: --gpus names '%s' twice", items[i]);
				goto out;
			}
	}
	rq.ngpus = n;
	if ((n = split_list(precs_s, items, 3)) < 1) {
		status = cli_usage_error("plan: --precisions wants 1 to 3 of bf16, fp8, nvfp4");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (prec_parse(items[i], &rq.precs[i], &err))
			goto fail_input;
		for (int j = 0; j < i; j++)
			if (rq.precs[i] == rq.precs[j]) {
				status = cli_usage_error("plan: --precisions names %s twice", prec_name(rq.precs[i]));
				goto out;
			}
	}
	rq.nprecs = n;
	if ((n = split_list(pols_s, items, 2)) < 1) {
		status = cli_usage_error("plan: --policies wants single, dual or single,dual");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (plan_layout_parse(items[i], &rq.layouts[i], &err))
			goto fail_input;
		if (i && rq.layouts[0] == rq.layouts[1]) {
			status = cli_usage_error("plan: --policies names %s twice", items[i]);
			goto out;
		}
	}
	rq.nlayouts = n;
	if (rq.mixed_gpus) {
		int dual = 0;
		for (int l = 0; l < rq.nlayouts; l++)
			dual |= rq.layouts[l] == PLAN_DUAL;
		if (rq.ngpus < 2 || !dual) {
			status = cli_usage_error("plan: --mixed-gpus pairs two GPUs for the dual layout: give --gpus with "
						 "at least two GPUs and dual in --policies");
			goto out;
		}
	}
	if (scales_s) {
		if ((n = split_list(scales_s, items, MAX_SCALES)) < 1) {
			status = cli_usage_error("plan: --load-scale wants 1 to %d comma-separated factors", MAX_SCALES);
			goto out;
		}
		for (int i = 0; i < n; i++)
			if (cli_parse_double(items[i], &scales[i]) || !(scales[i] > 0) || scales[i] > 1e4 ||
			    (i && scales[i] <= scales[i - 1])) {
				status = cli_usage_error("plan: --load-scale wants increasing positive factors, got '%s'",
							 items[i]);
				goto out;
			}
		nscales = n;
	}
	/* The report directory and the database before any simulation: a bad --out should
	 * not cost a whole search. */
	if (of_same_file(dbpath, argv[optind])) {
		status = cli_usage_error("plan: --db %s is the scenario file itself", dbpath);
		goto out;
	}
	/* The scenario is read and parsed once, before any file is made: a missing or
	 * malformed scenario leaves no database behind, and every plan below (the what-if
	 * loads too) loads its candidates from this one parse. */
	snprintf(dirbuf, sizeof dirbuf, "%s", argv[optind]);
	if (sweep_read_scenario(argv[optind], &text, &rq.scenario_len, &err) ||
	    scenario_src_open(argv[optind], text, rq.scenario_len, dirname(dirbuf), &src, &err))
		goto fail;
	rq.scenario_text = text;
	rq.scenario_src = src;
	if (of_prepare_dir(out_dir, &err) || db_open(dbpath, &d, &err))
		goto fail;
	rq.d = d;
	rq.progress = show_progress;
	rq.progress_eta = show_progress_eta;
	rq.progress_ctx = &pr;
	if (rq.pin_tp && rq.node_gpus && rq.pin_tp > rq.node_gpus) {
		status = cli_usage_error("plan: --tp %d spans more than one %d-GPU node (--node-gpus): that needs "
					 "pipeline parallelism, which fleetsim does not model", rq.pin_tp, rq.node_gpus);
		goto out;
	}
	/* Plans in ascending load, each bounded below by the one before it (the what-if
	 * curve never goes down); the main plan (x1) takes its place in the chain. */
	{
		const plan_result *prev = NULL;
		for (int i = 0; i <= nscales; i++) {
			double sc = i < nscales ? scales[i] : 1e300;
			plan_request r2 = rq;
			if (!main_res && sc >= 1.0) {
				rq.lower = prev;
				if (db_next_plan_id(d, &rq.plan_id, &err) || plan_run(&rq, &main_res, &err))
					goto fail;
				prev = main_res;
			}
			if (i == nscales || sc == 1.0)
				continue;
			r2.load_scale = sc;
			r2.lower = prev;
			/* Each what-if load is a plan of its own in the `plans` table. */
			if (db_next_plan_id(d, &r2.plan_id, &err) || plan_run(&r2, &what[i], &err))
				goto fail;
			prev = what[i];
		}
	}
	if (pr.tty)
		fputs("\r\033[K", stderr);
	if (report) {
		sizing_opts so;
		const plan_result *ws[MAX_SCALES];
		memset(&so, 0, sizeof so);
		for (int i = 0; i < nscales; i++)
			ws[i] = scales[i] == 1.0 ? main_res : what[i];
		so.out_dir = out_dir;
		so.whatif = ws;
		so.whatif_scales = scales;
		so.nwhatif = nscales;
		if (sizing_write(&rq, main_res, &so, &err))
			goto fail;
		if (pdf && sizing_write_pdf(out_dir, &err))
			goto fail;
	}
	if (json) {
		cJSON *o = plan_json(main_res, rq.plan_id);
		if (nscales) {
			cJSON *w = cJSON_AddArrayToObject(o, "what_if");
			for (int i = 0; i < nscales; i++) {
				const plan_result *r = scales[i] == 1.0 ? main_res : what[i];
				cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "gpus");
				cJSON_AddNumberToObject(j, "load_scale", scales[i]);
				for (int k = 0; k < r->noptions; k++) {
					cJSON *e = cJSON_CreateObject();
					cJSON_AddStringToObject(e, "option", r->options[k].label);
					if (r->options[k].feasible)
						cJSON_AddNumberToObject(e, "gpus", r->options[k].best.gpus);
					else
						cJSON_AddNullToObject(e, "gpus");
					cJSON_AddItemToArray(a, e);
				}
				cJSON_AddItemToArray(w, j);
			}
		}
		if (report)
			cJSON_AddStringToObject(o, "out", out_dir);
		cJSON_AddStringToObject(o, "db", dbpath);
		status = cli_print_json(o);
	} else if (!quiet) {
		print_table(main_res, rq.plan_id, dbpath);
		print_cost(main_res, &copts);
		for (int i = 0; i < nscales; i++) {
			const plan_result *r = scales[i] == 1.0 ? main_res : what[i];
			printf("load x%-5g", scales[i]);
			for (int k = 0; k < r->noptions; k++) {
				if (r->options[k].feasible)
					printf("  %s %d", r->options[k].label, r->options[k].best.gpus);
				else
					printf("  %s -", r->options[k].label);
			}
			printf("\n");
		}
		if (report)
			printf("report: %s/report.html, %s/report.md, manifests in %s/manifests\n", out_dir, out_dir,
			       out_dir);
	}
	goto out;
fail_input:
	if (!err.status)
		err.status = FS_EXIT_INPUT;
fail:
	if (pr.tty)
		fputs("\r\033[K", stderr);
	status = cli_report(&err);
out:
	tcache_clear();
	plan_result_free(main_res);
	for (int i = 0; i < MAX_SCALES; i++)
		plan_result_free(what[i]);
	db_close(d);
	scenario_src_free(src);
	free(text);
	free(sets);
	return status;
}
