/*
 * cmd_step.c - `fleetsim step`: predicted time of a T-token prefill and of one decode
 * step of B sequences at context C, from the roofline in models/perf.h.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "models/perf.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fleetsim step --gpu G --model M [--tp N] [--precision P] [--kv-cache-dtype D]\n"
		"                     --prefill T [--prefill-batch N] --batch B --context C\n"
		"                     [--breakdown] [--json]\n\n"
		"Predicted step times: prefill_s is one step prefilling N prompts of T tokens\n"
		"each (default N=1; no cached prefix); decode_step_s is one step decoding one\n"
		"token for each of B sequences that have C tokens of context.\n\n"
		"  --gpu G        catalog GPU or GPU YAML file (e.g. a calibrate --out file)\n"
		"  --model M      catalog model or config.json path\n"
		"  --tp N         tensor_parallel_size (default 1)\n"
		"  --prefill-batch N  prompts of T tokens prefilled together in the one step\n"
		"  --precision P  weights: bf16, fp8, nvfp4 (default bf16)\n"
		"  --kv-cache-dtype D  bf16, fp8, nvfp4 (default bf16)\n"
		"  --breakdown    also the time per operator class (GEMMs, lm_head, prefill\n"
		"                 attention, KV reads, element-wise, all-reduce, CPU) and the\n"
		"                 CUDA-graph size each step runs at\n"
		"  --json         one JSON object on stdout\n");
}

static const char *const part_names[] = {"gemm", "lm_head", "attn_prefill", "attn_kv_read",
					 "elementwise", "allreduce", "cpu"};

static void parts_array(const perf_parts *q, double *v)
{
	v[0] = q->gemm;
	v[1] = q->lm_head;
	v[2] = q->attn_prefill;
	v[3] = q->attn_decode;
	v[4] = q->elementwise;
	v[5] = q->allreduce;
	v[6] = q->cpu;
}

static cJSON *parts_json(const perf_model *pm, const perf_batch *b)
{
	cJSON *o = cJSON_CreateObject();
	perf_parts q;
	double v[7];

	perf_breakdown(pm, b, &q);
	parts_array(&q, v);
	for (int i = 0; i < 7; i++)
		cJSON_AddNumberToObject(o, part_names[i], v[i]);
	cJSON_AddNumberToObject(o, "graph_tokens", (double)q.padded_tokens);
	return o;
}

static void parts_print(const perf_model *pm, const perf_batch *b)
{
	perf_parts q;
	double v[7], total = 0;

	perf_breakdown(pm, b, &q);
	parts_array(&q, v);
	for (int i = 0; i < 7; i++)
		total += v[i];
	for (int i = 0; i < 7; i++)
		printf("      %-13s %10.4f ms %5.1f %%\n", part_names[i], v[i] * 1e3,
		       total > 0 ? 100 * v[i] / total : 0.0);
	printf("      (%lld tokens run as %s of %lld)\n", (long long)b->tokens,
	       q.cuda_graph ? "a CUDA graph" : "an eager step", (long long)q.padded_tokens);
}

int cmd_step(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gpu", required_argument, NULL, 'g'}, {"model", required_argument, NULL, 'm'},
		{"tp", required_argument, NULL, 't'}, {"precision", required_argument, NULL, 'p'},
		{"kv-cache-dtype", required_argument, NULL, 'k'},
		{"prefill", required_argument, NULL, 'P'}, {"batch", required_argument, NULL, 'B'},
		{"prefill-batch", required_argument, NULL, 'N'},
		{"context", required_argument, NULL, 'C'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'},
		{"breakdown", no_argument, NULL, 'b'}, {NULL, 0, NULL, 0},
	};
	int breakdown = 0;
	cli_model_args ma = {0};
	int status = 0;
	int json = 0, c, prefill = -1, batch = -1, context = -1, nprefill = 1;
	mem_config cfg;
	gpu_spec g;
	llm_spec m;
	perf_model pm;
	perf_batch pb = {0}, db = {0};
	double ps, ds;
	fs_err err = {0};

	mem_config_default(&cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int shared = cli_model_opt("step", c, optarg, &ma, &cfg, &status);

		if (shared < 0)
			return status;
		if (shared)
			continue;
		switch (c) {
		case 'P':
			if (cli_parse_int(optarg, &prefill) || prefill <= 0)
				return cli_usage_error("step: --prefill must be a positive integer, got '%s'", optarg);
			break;
		case 'N':
			if (cli_parse_int(optarg, &nprefill) || nprefill <= 0)
				return cli_usage_error("step: --prefill-batch must be a positive integer, got '%s'",
						       optarg);
			break;
		case 'B':
			if (cli_parse_int(optarg, &batch) || batch <= 0)
				return cli_usage_error("step: --batch must be a positive integer, got '%s'", optarg);
			break;
		case 'C':
			if (cli_parse_int(optarg, &context) || context < 0)
				return cli_usage_error("step: --context must be a non-negative integer, got '%s'", optarg);
			break;
		case 'j': json = 1; break;
		case 'b': breakdown = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			return cli_usage_error("step: unknown or incomplete option '%s'; see 'fleetsim step --help'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("step: unexpected argument '%s'", argv[optind]);
	if (!ma.gpu || !ma.model || prefill < 0 || batch < 0 || context < 0)
		return cli_usage_error("step: --gpu, --model, --prefill, --batch and --context are required");
	if (gpu_lookup(ma.gpu, &g, &err) || llm_lookup(ma.model, &m, &err) ||
	    gpu_check_kv_dtype(&g, cfg.kv, &err) || perf_init(&pm, &g, &m, &cfg, &err))
		return cli_report(&err);
	for (int i = 0; i < nprefill; i++)
		perf_batch_add_prefill(&pb, 0, prefill);
	for (int i = 0; i < batch; i++)
		perf_batch_add_decode(&db, context);
	ps = perf_step_s(&pm, &pb);
	ds = perf_step_s(&pm, &db);
	if (json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "gpu", g.name);
		cJSON_AddStringToObject(o, "model", m.name);
		cJSON_AddNumberToObject(o, "tp", cfg.tp);
		cJSON_AddStringToObject(o, "precision", prec_name(cfg.weights));
		cJSON_AddStringToObject(o, "kv_cache_dtype", prec_name(cfg.kv));
		cJSON_AddNumberToObject(o, "prefill_tokens", prefill);
		cJSON_AddNumberToObject(o, "prefill_batch", nprefill);
		cJSON_AddNumberToObject(o, "prefill_s", ps);
		cJSON_AddNumberToObject(o, "batch", batch);
		cJSON_AddNumberToObject(o, "context", context);
		cJSON_AddNumberToObject(o, "decode_step_s", ds);
		cJSON_AddNumberToObject(o, "decode_tokens_per_s", batch / ds);
		if (breakdown) {
			cJSON_AddItemToObject(o, "prefill_breakdown", parts_json(&pm, &pb));
			cJSON_AddItemToObject(o, "decode_breakdown", parts_json(&pm, &db));
		}
		return cli_print_json(o);
	}
	printf("%s on %d x %s, %s weights, %s KV\n", m.name, cfg.tp, g.display, prec_name(cfg.weights),
	       prec_name(cfg.kv));
	if (nprefill == 1)
		printf("  prefill of %d tokens:            %.4f s\n", prefill, ps);
	else
		printf("  prefill of %d x %d tokens:       %.4f s\n", nprefill, prefill, ps);
	if (breakdown)
		parts_print(&pm, &pb);
	printf("  decode step, %d seqs at ctx %d:  %.4f s (%.0f tokens/s)\n", batch, context, ds, batch / ds);
	if (breakdown)
		parts_print(&pm, &db);
	return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
}
