/*
 * cmd_calibrate.c - `fleetsim calibrate MEASUREMENTS.csv --gpu G --model M`: fit the
 * GPU's step-time efficiencies and overhead to measured timings (models/calib.h),
 * report the error on held-out configurations and optionally write a GPU YAML file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "models/calib.h"
#include "models/opfit.h"
#include "util/outfile.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fleetsim calibrate MEASUREMENTS.csv --gpu G --model M [--hardware STR]\n"
		"                          [--holdout-every K] [--out FILE.yaml] [--json]\n\n"
		"Fit compute_eff, mem_eff, attn_eff, step_overhead and prefill_seq_tokens\n"
		"(and link figures with 2+ TP sizes) of GPU G to measured prompt and\n"
		"decode step times in the Splitwise CSV layout (model, hardware, prompt_size,\n"
		"batch_size, token_size, prompt_time and token_time in ms, tensor_parallel),\n"
		"by GSL nonlinear least squares on relative error.  Rows are those whose model\n"
		"is M and whose hardware names G (or equals --hardware).  Every K-th distinct\n"
		"configuration (tp, prompt, batch, tokens; default K=4) is held out of the fit\n"
		"with all its repeats; the MAPE and worst case on those rows are printed for\n"
		"prefill and decode separately.  --holdout-every 0 fits on everything.\n\n"
		"  --gpu G            catalog GPU or GPU YAML file to start from\n"
		"  --model M          catalog model or config.json\n"
		"  --hardware STR     match the CSV hardware column exactly (e.g. h100-80gb-pcap)\n"
		"  --holdout-every K  hold out configurations k with k %% K == K-1 (default 4)\n"
		"  --out FILE.yaml    write the fitted GPU (loadable wherever a GPU name goes)\n"
		"  --verbose          also print measured vs predicted per configuration\n"
		"  --json             one JSON object on stdout\n\n"
		"usage: fleetsim calibrate --operators --gpu G [--ops FILE.csv]... [--gemm FILE.csv]\n"
		"                          [--allreduce FILE.csv]\n"
		"                          [--attention FILE.csv]... [--attention-gpu KEY]\n"
		"                          [--attention-engine STR] [--holdout-every K] [--out FILE.yaml]\n"
		"                          [--defines PREFIX] [--json]\n\n"
		"Fit the step model's operator terms of GPU G to operator measurements\n"
		"(models/data/README.md): --ops (Vidur layout, one layer's operator times by\n"
		"num_tokens and TP) fits compute_eff, gemm_half, mem_eff, kernel_us and ew_eff;\n"
		"--gemm (single BF16 GEMMs: m, n, k, dtype, tflops) fits compute_eff and gemm_half\n"
		"at G's mem_eff and kernel_us, for a GPU without operator profiles;\n"
		"--allreduce (NCCL all_reduce_ms by size and num_workers) fits link_latency_us\n"
		"and link_eff; --attention (kernel TFLOPS by seq_len; causal BF16 rows of gpu\n"
		"KEY, default G, whose engine contains STR) fits attn_eff and attn_half_q.\n"
		"Every K-th row of each source is held out (default 4) and its error printed.\n"
		"  --defines PREFIX   print the fitted values as C #defines (models/data/fitted.h)\n"
		"  --check            fit nothing: the error of G as it is on every row (use\n"
		"                     --holdout-every 0)\n");
}

static void part_print(const char *what, const opfit_part *p)
{
	if (!p->fitted)
		return;
	printf("  %-11s fit %5zu rows: MAPE %6.2f %% (worst %6.2f %%) | held out %5zu rows: MAPE %6.2f %% "
	       "(worst %6.2f %%)\n", what, p->train.rows, 100 * p->train.mape, 100 * p->train.worst,
	       p->holdout.rows, 100 * p->holdout.mape, 100 * p->holdout.worst);
}

static void part_json(cJSON *o, const char *what, const opfit_part *p)
{
	cJSON *e;

	if (!p->fitted)
		return;
	e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "train_rows", (double)p->train.rows);
	cJSON_AddNumberToObject(e, "train_mape_pct", 100 * p->train.mape);
	cJSON_AddNumberToObject(e, "train_worst_pct", 100 * p->train.worst);
	cJSON_AddNumberToObject(e, "holdout_rows", (double)p->holdout.rows);
	cJSON_AddNumberToObject(e, "holdout_mape_pct", 100 * p->holdout.mape);
	cJSON_AddNumberToObject(e, "holdout_worst_pct", 100 * p->holdout.worst);
	cJSON_AddItemToObject(o, what, e);
}

/* `calibrate --operators`: argv already parsed into src. */
static int operators(const char *gpu_name, opfit_sources *src, const char *out, const char *defines,
		     int json)
{
	gpu_spec g;
	opfit_result res;
	fs_err err = {0};
	const opfit_result *r = &res;

	for (int i = 0; out && i < 8 && src->ops[i]; i++)
		if (of_same_file(out, src->ops[i]))
			return cli_usage_error("calibrate: --out %s is an input (--ops): it would be overwritten", out);
	if (out && (of_same_file(out, src->allreduce) || of_same_file(out, src->attention) ||
		    of_same_file(out, src->attention2) || of_same_file(out, src->gemm)))
		return cli_usage_error("calibrate: --out %s is one of the inputs: it would be overwritten", out);
	if (gpu_lookup(gpu_name, &g, &err) || opfit_run(&g, src, &res, &err))
		return cli_report(&err);
	snprintf(res.gpu.calib_source, sizeof res.gpu.calib_source, "fitted: operator measurements");
	if (out) {
		char hdr[768];

		snprintf(hdr, sizeof hdr,
			 "fleetsim calibrate --operators --gpu %s --holdout-every %d\n"
			 "held-out MAPE: GEMM %.2f %%, element-wise %.2f %%, all-reduce %.2f %%, attention %.2f %%",
			 gpu_name, src->holdout_every,
			 100 * (r->bench.fitted ? r->bench.holdout.mape : r->gemm.holdout.mape), 100 * r->ew.holdout.mape,
			 100 * r->allreduce.holdout.mape, 100 * r->attention.holdout.mape);
		if (calib_write_gpu_yaml(out, &res.gpu, hdr, &err))
			return cli_report(&err);
	}
	if (json) {
		cJSON *o = cJSON_CreateObject(), *gj = NULL;

		cJSON_AddStringToObject(o, "gpu", g.name);
		part_json(o, "gemm", &r->gemm);
		part_json(o, "gemm_bench", &r->bench);
		part_json(o, "elementwise", &r->ew);
		part_json(o, "allreduce", &r->allreduce);
		part_json(o, "attention", &r->attention);
		if (gpu_json(&res.gpu, &gj, &err)) {
			cJSON_Delete(o);
			return cli_report(&err);
		}
		cJSON_AddItemToObject(o, "fitted_gpu", gj);
		return cli_print_json(o);
	}
	if (defines) {
		/* %.17g: the doubles round-trip exactly through the compiler. */
		if (r->gemm.fitted)
			printf("#define %s_COMPUTE_EFF %.17g\n#define %s_GEMM_HALF %.17g\n#define %s_MEM_EFF %.17g\n"
			       "#define %s_KERNEL_S %.17g\n#define %s_EW_EFF %.17g\n", defines,
			       res.gpu.compute_eff, defines, res.gpu.gemm_half, defines, res.gpu.mem_eff, defines,
			       res.gpu.kernel_s, defines, res.gpu.ew_eff);
		if (r->bench.fitted)
			printf("#define %s_COMPUTE_EFF %.17g\n#define %s_GEMM_HALF %.17g\n", defines,
			       res.gpu.compute_eff, defines, res.gpu.gemm_half);
		if (r->allreduce.fitted)
			printf("#define %s_LINK_LATENCY_S %.17g\n#define %s_LINK_EFF %.17g\n", defines,
			       res.gpu.link_latency_s, defines, res.gpu.link_eff);
		if (r->attention.fitted)
			printf("#define %s_ATTN_EFF %.17g\n#define %s_ATTN_HALF_Q %.17g\n", defines,
			       res.gpu.attn_eff, defines, res.gpu.attn_half_q);
		return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
	}
	if (src->check_only)
		printf("operator check of %s as it is (nothing fitted)\n", g.name);
	else
		printf("operator fit for %s (every %d-th row of each source held out)\n", g.name,
		       src->holdout_every);
	if (r->gemm.fitted)
		printf("  compute_eff %.4f  gemm_half %.4g elements  mem_eff %.4f  kernel_us %.3f  ew_eff %.4f\n",
		       res.gpu.compute_eff, res.gpu.gemm_half, res.gpu.mem_eff, res.gpu.kernel_s * 1e6,
		       res.gpu.ew_eff);
	if (r->bench.fitted)
		printf("  compute_eff %.4f  gemm_half %.4g elements (at mem_eff %.4f, kernel_us %.3f)\n",
		       res.gpu.compute_eff, res.gpu.gemm_half, res.gpu.mem_eff, res.gpu.kernel_s * 1e6);
	if (r->allreduce.fitted)
		printf("  link_latency_us %.3f  link_eff %.4f\n", res.gpu.link_latency_s * 1e6, res.gpu.link_eff);
	if (r->attention.fitted)
		printf("  attn_eff %.4f  attn_half_q %.1f tokens\n", res.gpu.attn_eff, res.gpu.attn_half_q);
	part_print("GEMM", &r->gemm);
	part_print("GEMM bench", &r->bench);
	part_print("elementwise", &r->ew);
	part_print("all-reduce", &r->allreduce);
	part_print("attention", &r->attention);
	if (out)
		printf("  wrote %s\n", out);
	return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
}

static cJSON *err_json(cJSON *o, const char *pfx, const calib_err *e)
{
	char k[64];

	snprintf(k, sizeof k, "%s_rows", pfx);
	cJSON_AddNumberToObject(o, k, (double)e->rows);
	snprintf(k, sizeof k, "%s_prefill_mape_pct", pfx);
	cJSON_AddNumberToObject(o, k, 100 * e->mape_prefill);
	snprintf(k, sizeof k, "%s_prefill_worst_pct", pfx);
	cJSON_AddNumberToObject(o, k, 100 * e->worst_prefill);
	snprintf(k, sizeof k, "%s_decode_mape_pct", pfx);
	cJSON_AddNumberToObject(o, k, 100 * e->mape_decode);
	snprintf(k, sizeof k, "%s_decode_worst_pct", pfx);
	cJSON_AddNumberToObject(o, k, 100 * e->worst_decode);
	return o;
}

/* One line per configuration: the first row's measurement against the prediction. */
static void print_configs(const gpu_spec *g, const llm_spec *m, const calib_row *rows, size_t n)
{
	printf("  %3s %6s %5s %5s %4s %10s %10s %8s %8s\n", "tp", "prompt", "batch", "gen", "set",
	       "prompt_ms", "pred_ms", "token_ms", "pred_ms");
	for (size_t i = 0; i < n; i++) {
		double ps, ts;

		if (i > 0 && rows[i].config == rows[i - 1].config)
			continue;
		if (calib_predict(g, m, &rows[i], &ps, &ts, NULL))
			continue;
		printf("  %3d %6lld %5lld %5lld %4s %10.1f %10.1f %8.2f %8.2f\n", rows[i].tp,
		       (long long)rows[i].prompt, (long long)rows[i].batch, (long long)rows[i].gen,
		       rows[i].excluded ? "bad" : rows[i].holdout ? "held" : "fit", rows[i].prompt_s * 1e3, ps * 1e3,
		       rows[i].token_s * 1e3, ts * 1e3);
	}
}

int cmd_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gpu", required_argument, NULL, 'g'}, {"model", required_argument, NULL, 'm'},
		{"hardware", required_argument, NULL, 'H'}, {"holdout-every", required_argument, NULL, 'k'},
		{"out", required_argument, NULL, 'o'}, {"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{"operators", no_argument, NULL, 'O'}, {"ops", required_argument, NULL, 'P'},
		{"allreduce", required_argument, NULL, 'A'}, {"attention", required_argument, NULL, 'T'},
		{"attention-gpu", required_argument, NULL, 'G'},
		{"attention-engine", required_argument, NULL, 'E'},
		{"defines", required_argument, NULL, 'D'}, {"gemm", required_argument, NULL, 'M'},
		{"check", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	opfit_sources src = {0};
	int op_mode = 0, nops = 0, natt = 0;
	const char *defines = NULL;
	const char *gpu_name = NULL, *model_name = NULL, *hw = NULL, *out = NULL, *csv;
	int k = 4, json = 0, verbose = 0, c, nbad;
	gpu_spec g;
	llm_spec m;
	calib_row *rows = NULL;
	size_t n;
	calib_result res;
	fs_err err = {0};
	int rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'g': gpu_name = optarg; break;
		case 'm': model_name = optarg; break;
		case 'H': hw = optarg; break;
		case 'o': out = optarg; break;
		case 'j': json = 1; break;
		case 'v': verbose = 1; break;
		case 'O': op_mode = 1; break;
		case 'P':
			if (nops == 7)
				return cli_usage_error("calibrate: at most 7 --ops files");
			src.ops[nops++] = optarg;
			break;
		case 'A': src.allreduce = optarg; break;
		case 'T':
			if (natt == 2)
				return cli_usage_error("calibrate: at most 2 --attention files");
			*(natt++ ? &src.attention2 : &src.attention) = optarg;
			break;
		case 'G': src.attn_gpu = optarg; break;
		case 'E': src.attn_engine = optarg; break;
		case 'D': defines = optarg; break;
		case 'M': src.gemm = optarg; break;
		case 'C': src.check_only = 1; break;
		case 'k':
			if (cli_parse_int(optarg, &k) || k < 0 || k == 1)
				return cli_usage_error("calibrate: --holdout-every must be 0 or >= 2, got '%s'", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default:
			return cli_usage_error("calibrate: unknown or incomplete option '%s'; see 'fleetsim calibrate --help'",
					       argv[optind - 1]);
		}
	}
	if (op_mode || nops || natt || src.allreduce || src.gemm) {
		if (!op_mode)
			return cli_usage_error("calibrate: --ops, --gemm, --allreduce and --attention need --operators");
		if (optind != argc)
			return cli_usage_error("calibrate --operators: unexpected argument '%s'", argv[optind]);
		if (!gpu_name)
			return cli_usage_error("calibrate: --gpu is required");
		if (!nops && !natt && !src.allreduce && !src.gemm)
			return cli_usage_error("calibrate --operators: give --ops, --gemm, --allreduce or --attention");
		src.holdout_every = k;
		return operators(gpu_name, &src, out, defines, json);
	}
	if (optind != argc - 1)
		return cli_usage_error("calibrate: expected one MEASUREMENTS.csv; see 'fleetsim calibrate --help'");
	csv = argv[optind];
	if (!gpu_name || !model_name)
		return cli_usage_error("calibrate: --gpu and --model are required");
	if (out && (of_same_file(out, csv) || of_same_file(out, gpu_name)))
		return cli_usage_error("calibrate: --out %s is one of the inputs: it would be overwritten", out);
	if (gpu_lookup(gpu_name, &g, &err) || llm_lookup(model_name, &m, &err))
		return cli_report(&err);
	if (calib_read_csv(csv, m.name, g.name, hw, k, &rows, &n, &err) ||
	    (nbad = calib_flag_impossible(&g, &m, rows, n, &err)) < 0 ||
	    calib_fit(&g, &m, rows, n, &res, &err)) {
		free(rows);
		return cli_report(&err);
	}
	/* Broken rows are named (they are left out of fit and evaluation, not fatal:
	 * the Splitwise data itself holds five). */
	for (size_t i = 0; i < n; i++)
		if (rows[i].excluded)
			fprintf(stderr, "fleetsim: warning: %s:%d: faster than %s's ideal roofline (100 %% of peak "
				"FLOPs, bandwidth and link, no overhead): row excluded\n", csv, rows[i].line, g.name);
	snprintf(res.gpu.calib_source, sizeof res.gpu.calib_source, "fitted: %s rows of %s",
		 m.name, strrchr(csv, '/') ? strrchr(csv, '/') + 1 : csv);
	if (out) {
		char hdr[512];

		snprintf(hdr, sizeof hdr,
			 "fleetsim calibrate %s --gpu %s --model %s --holdout-every %d\n"
			 "held-out MAPE: prefill %.2f %% (worst %.2f %%), decode %.2f %% (worst %.2f %%)",
			 csv, gpu_name, model_name, k, 100 * res.holdout.mape_prefill,
			 100 * res.holdout.worst_prefill, 100 * res.holdout.mape_decode,
			 100 * res.holdout.worst_decode);
		if (calib_write_gpu_yaml(out, &res.gpu, hdr, &err)) {
			free(rows);
			return cli_report(&err);
		}
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "gpu", g.name);
		cJSON_AddStringToObject(o, "model", m.name);
		cJSON_AddNumberToObject(o, "rows", (double)n);
		cJSON_AddNumberToObject(o, "rows_impossible", nbad);
		cJSON_AddNumberToObject(o, "iterations", res.iterations);
		cJSON_AddNumberToObject(o, "compute_eff", res.gpu.compute_eff);
		cJSON_AddNumberToObject(o, "mem_eff", res.gpu.mem_eff);
		cJSON_AddNumberToObject(o, "step_overhead_s", res.gpu.step_overhead_s);
		cJSON_AddNumberToObject(o, "prefill_seq_tokens", res.gpu.prefill_seq_tokens);
		cJSON_AddNumberToObject(o, "link_latency_s", res.gpu.link_latency_s);
		err_json(o, "train", &res.train);
		err_json(o, "holdout", &res.holdout);
		if (out)
			cJSON_AddStringToObject(o, "out", out);
		rc = cli_print_json(o);
	} else {
		printf("calibrated %s on %s: %zu rows from %s (%zu fit, %zu held out in every %d-th configuration)\n",
		       g.name, m.name, n, csv, res.train_rows, res.holdout.rows, k);
		printf("  compute_eff       %.4f\n  mem_eff           %.4f\n  step_overhead_ms  %.3f\n"
		       "  link_latency_us   %.3f%s\n  link_eff          %.4f\n  attn_eff          %.4f\n",
		       res.gpu.compute_eff, res.gpu.mem_eff, res.gpu.step_overhead_s * 1e3,
		       res.gpu.link_latency_s * 1e6,
		       res.gpu.link_latency_s == g.link_latency_s ? " (kept: one TP size)" : "", res.gpu.link_eff, res.gpu.attn_eff);
		printf("  prefill_seq_tokens %.2f\n", res.gpu.prefill_seq_tokens);
		printf("  fit (%zu rows):      prefill MAPE %5.2f %% worst %5.2f %% | decode MAPE %5.2f %% worst %5.2f %%\n",
		       res.train.rows, 100 * res.train.mape_prefill, 100 * res.train.worst_prefill,
		       100 * res.train.mape_decode, 100 * res.train.worst_decode);
		if (res.holdout.rows)
			printf("  held out (%zu rows): prefill MAPE %5.2f %% worst %5.2f %% | decode MAPE %5.2f %% worst %5.2f %%\n",
			       res.holdout.rows, 100 * res.holdout.mape_prefill, 100 * res.holdout.worst_prefill,
			       100 * res.holdout.mape_decode, 100 * res.holdout.worst_decode);
		if (nbad)
			printf("  excluded %d row(s) faster than the ideal roofline (broken measurements)\n", nbad);
		if (out)
			printf("  wrote %s\n", out);
		if (verbose)
			print_configs(&res.gpu, &m, rows, n);
		rc = ferror(stdout) ? FS_EXIT_RUNTIME : 0;
	}
	free(rows);
	return rc;
}
