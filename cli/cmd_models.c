/*
 * cmd_models.c - `fleetsim models`: the built-in GPUs and LLMs with their figures
 * and computed parameter counts.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "models/engine.h"
#include "models/gpu.h"
#include "models/llm.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static void usage(FILE *f)
{
	fprintf(f, "usage: fleetsim models [--json]\n\n"
		   "List the built-in GPUs (figures, default $/GPU-hour, step-time efficiencies)\n"
		   "and LLMs (architecture, parameters computed from it, KV bytes per token).\n"
		   "--json also lists the modelled vLLM releases (\"engines\"; see 'fleetsim engines').\n");
}

int cmd_models(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int json = 0, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			return cli_usage_error("models: unknown option '%s'; see 'fleetsim models --help'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("models: unexpected argument '%s'", argv[optind]);
	if (json) {
		cJSON *o = cJSON_CreateObject(), *ga = cJSON_CreateArray(), *la = cJSON_CreateArray();

		for (int i = 0; i < gpu_catalog_count(); i++) {
			cJSON *e;
			fs_err err = {0};

			/* Every GPU file key (models/gpu.c's table), in the file's units. */
			if (gpu_json(gpu_catalog_get(i), &e, &err)) {
				cJSON_Delete(o);
				cJSON_Delete(ga);
				cJSON_Delete(la);
				return cli_report(&err);
			}
			cJSON_AddItemToArray(ga, e);
		}
		for (int i = 0; i < llm_catalog_count(); i++) {
			const llm_spec *m = llm_catalog_get(i);
			cJSON *e = cJSON_CreateObject();

			cJSON_AddStringToObject(e, "name", m->name);
			cJSON_AddNumberToObject(e, "layers", (double)m->layers);
			cJSON_AddNumberToObject(e, "full_attn_layers", (double)m->full_attn_layers);
			cJSON_AddNumberToObject(e, "hidden", (double)m->hidden);
			cJSON_AddNumberToObject(e, "experts", (double)m->n_experts);
			cJSON_AddNumberToObject(e, "params_total", m->params_total);
			cJSON_AddNumberToObject(e, "params_active", m->params_active);
			cJSON_AddNumberToObject(e, "weights_bf16_gb", llm_weight_bytes(m, PREC_BF16) / 1e9);
			cJSON_AddNumberToObject(e, "weights_nvfp4_gb", llm_weight_bytes(m, PREC_NVFP4) / 1e9);
			cJSON_AddNumberToObject(e, "kv_bytes_per_token_bf16", llm_kv_bytes_per_token(m, PREC_BF16));
			cJSON_AddNumberToObject(e, "state_bytes_per_seq", m->state_bytes_per_seq);
			cJSON_AddItemToArray(la, e);
		}
		cJSON_AddItemToObject(o, "gpus", ga);
		cJSON_AddItemToObject(o, "models", la);
		/* The vLLM releases, as `fleetsim engines --json` lists them (after
		 * "models": readers that split the object at "models" keep working). */
		{
			cJSON *ea = cJSON_AddArrayToObject(o, "engines");
			fs_err err = {0};

			for (int i = 0; i < eng_count(); i++) {
				cJSON *e;

				if (!ea || eng_json(eng_get(i), &e, &err)) {
					if (!ea)
						fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
					cJSON_Delete(o);
					return cli_report(&err);
				}
				cJSON_AddItemToArray(ea, e);
			}
		}
		return cli_print_json(o);
	}
	printf("GPUs:\n  %-7s %-26s %7s %6s %6s %6s %6s %6s %6s %7s  %s\n", "name", "device", "HBM GiB",
	       "TB/s", "BF16", "FP8", "FP4", "W", "$/h", "c/m eff", "calibration");
	for (int i = 0; i < gpu_catalog_count(); i++) {
		const gpu_spec *g = gpu_catalog_get(i);

		printf("  %-7s %-26s %7.0f %6.2f %6.0f %6.0f %6.0f %6.0f %6.2f %.2f/%.2f  %s\n", g->name,
		       g->display, g->hbm_bytes / GIB, g->mem_bw / 1e12, g->flops_bf16 / 1e12,
		       g->flops_fp8 / 1e12, g->flops_fp4 / 1e12, g->power_w, g->price_per_hour,
		       g->compute_eff, g->mem_eff, g->calib_source);
	}
	printf("\nLLMs (parameters computed from the architecture):\n  %-20s %6s %6s %8s %9s %9s %9s %9s\n",
	       "name", "layers", "KVlyr", "experts", "total B", "active B", "BF16 GB", "KV B/tok");
	for (int i = 0; i < llm_catalog_count(); i++) {
		const llm_spec *m = llm_catalog_get(i);

		printf("  %-20s %6lld %6lld %8lld %9.2f %9.2f %9.1f %9.0f\n", m->name, (long long)m->layers,
		       (long long)m->full_attn_layers, (long long)m->n_experts, m->params_total / 1e9,
		       m->params_active / 1e9, llm_weight_bytes(m, PREC_BF16) / 1e9,
		       llm_kv_bytes_per_token(m, PREC_BF16));
	}
	return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
}
