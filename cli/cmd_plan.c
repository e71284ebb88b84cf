/*
 * cmd_plan.c - `fleetsim plan`: the cheapest fleet per GPU x precision x layout that
 * meets the scenario's SLO, a sizing report and deployment manifests.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "reports/db.h"
#include "reports/plan.h"
#include "reports/sizing.h"
#include "util/outfile.h"

#define MAX_SCALES 16

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
	"  --no-verify          skip the second-seed check of each winner\n"
	"  --no-report          search only: no report, plots or manifests\n"
	"  --set KEY=VALUE      override a scenario key (repeatable), e.g. workload.duration=120\n"
	"  --json               print the plan as one JSON object\n"
	"  -q, --quiet          no table\n"
	"  -h, --help           this text\n";

struct progress {
	int tty;
};

static void show_progress(void *ctx, const char *option, int sims)
{
	struct progress *p = ctx;

	if (p->tty)
		fprintf(stderr, "\r\033[K  planning %-28s %4d simulations", option, sims);
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
			if (!isnan(p->savings_vs_baseline))
				cJSON_AddNumberToObject(j, "savings_vs_baseline", p->savings_vs_baseline);
		}
		cJSON_AddItemToArray(arr, j);
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
	if (r->best >= 0)
		printf("recommended: %s (%d GPUs)\n", r->options[r->best].label, r->options[r->best].best.gpus);
	else
		printf("recommended: none: no option meets the SLO\n");
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
		{"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
	char gpus_def[] = "h100,h200,b200", precs_def[] = "bf16,nvfp4", pols_def[] = "single,dual";
	char *gpus_s = gpus_def, *precs_s = precs_def, *pols_s = pols_def, *scales_s = NULL;
	char *items[MAX_SCALES + 1];
	const char *out_dir = "plan-out", *dbpath = "results.db", **sets = NULL;
	double scales[MAX_SCALES];
	int nscales = 0, nsets = 0, json = 0, quiet = 0, report = 1, c, n, status = FS_EXIT_OK;
	plan_request rq;
	plan_result *main_res = NULL, *what[MAX_SCALES] = {0};
	db *d = NULL;
	fs_err err = {0};
	struct progress pr = {isatty(2)};

	memset(&rq, 0, sizeof rq);
	rq.load_scale = 1.0;
	rq.max_preemptions_per_request = -1;
	rq.verify = 1;
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
		case 'R': report = 0; break;
		case 's': sets[nsets++] = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage_text, stdout); goto out;
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
	rq.scenario_path = argv[optind];
	rq.sets = sets;
	rq.nsets = nsets;
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
	if (of_prepare_dir(out_dir, &err) || db_open(dbpath, &d, &err))
		goto fail;
	rq.d = d;
	rq.progress = show_progress;
	rq.progress_ctx = &pr;
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
	plan_result_free(main_res);
	for (int i = 0; i < MAX_SCALES; i++)
		plan_result_free(what[i]);
	db_close(d);
	free(sets);
	return status;
}
