/*
 * cmd_memory.c - `fleetsim memory`: per-GPU memory plan of one vLLM replica
 * (models/memory.h): weights, activation peak, overhead, KV blocks and the number
 * of concurrent sequences at 2K..128K context.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "models/engine.h"
#include "models/memory.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fleetsim memory --gpu G --model M --tp N --precision P [--kv-cache-dtype D]\n"
		"                       [--gpu-memory-utilization U] [--block-size B]\n"
		"                       [--max-num-batched-tokens T] [--max-num-seqs S]\n"
		"                       [--vllm-version V] [--json]\n\n"
		"Per-GPU memory plan as the vLLM release sizes it: num_blocks = floor((device\n"
		"memory x U - weights - activation peak - non-torch - CUDA graphs - reserved\n"
		"hybrid state) / (block size x KV bytes per token)); docs/models.md has the terms.\n\n"
		"  --gpu G     catalog GPU (a100, h100, h200, b200, mi300x) or GPU YAML file\n"
		"  --model M   catalog model (see 'fleetsim models') or config.json path\n"
		"  --tp N      tensor_parallel_size (default 1)\n"
		"  --precision P           weights: bf16, fp8, nvfp4 (default bf16)\n"
		"  --kv-cache-dtype D      bf16, fp8, nvfp4 (default bf16; nvfp4 needs FP4 units)\n"
		"  --gpu-memory-utilization U  default: the release's (0.92 in 0.21, 0.9 before)\n"
		"  --block-size B          default 16\n"
		"  --max-num-batched-tokens T  default: the release's for this GPU (0.21: 8192, A100\n"
		"                          2048); drives the activation estimate\n"
		"  --max-num-seqs S        default: the release's for this GPU (0.21: 1024, A100 256)\n"
		"  --vllm-version V        vLLM release whose memory plan and defaults are modelled\n"
		"                          (default: newest; see 'fleetsim engines')\n"
		"  --json                  one JSON object on stdout\n");
}

int cmd_memory(int argc, char **argv)
{
	static const struct option opts[] = {
		{"gpu", required_argument, NULL, 'g'}, {"model", required_argument, NULL, 'm'},
		{"tp", required_argument, NULL, 't'}, {"precision", required_argument, NULL, 'p'},
		{"kv-cache-dtype", required_argument, NULL, 'k'},
		{"gpu-memory-utilization", required_argument, NULL, 'u'},
		{"block-size", required_argument, NULL, 'b'},
		{"max-num-batched-tokens", required_argument, NULL, 'T'},
		{"max-num-seqs", required_argument, NULL, 'S'},
		{"vllm-version", required_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	cli_model_args ma = {0};
	int status = 0;
	int json = 0, c, set_u = 0, set_t = 0, set_s = 0;
	mem_config cfg;
	gpu_spec g;
	llm_spec m;
	mem_plan p;
	fs_err err = {0};

	mem_config_default(&cfg);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int shared = cli_model_opt("memory", c, optarg, &ma, &cfg, &status);

		if (shared < 0)
			return status;
		if (shared)
			continue;
		switch (c) {
		case 'u':
			set_u = 1;
			if (cli_parse_double(optarg, &cfg.gpu_memory_utilization) ||
			    !(cfg.gpu_memory_utilization > 0 && cfg.gpu_memory_utilization <= 1))
				return cli_usage_error("memory: --gpu-memory-utilization must be in (0, 1], got '%s'",
						       optarg);
			break;
		case 'b':
			if (cli_parse_int(optarg, &cfg.block_size) || cfg.block_size <= 0)
				return cli_usage_error("memory: --block-size must be a positive integer, got '%s'", optarg);
			break;
		case 'T':
			set_t = 1;
			if (cli_parse_int(optarg, &cfg.max_num_batched_tokens) || cfg.max_num_batched_tokens <= 0)
				return cli_usage_error("memory: --max-num-batched-tokens must be a positive integer, got '%s'",
						       optarg);
			break;
		case 'S':
			set_s = 1;
			if (cli_parse_int(optarg, &cfg.max_num_seqs) || cfg.max_num_seqs <= 0)
				return cli_usage_error("memory: --max-num-seqs must be a positive integer, got '%s'", optarg);
			break;
		case 'V':
			if (eng_lookup(optarg, &cfg.eng, &err))
				return cli_report(&err);
			break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default:
			return cli_usage_error("memory: unknown or incomplete option '%s'; see 'fleetsim memory --help'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("memory: unexpected argument '%s'", argv[optind]);
	if (!ma.gpu || !ma.model)
		return cli_usage_error("memory: --gpu and --model are required; see 'fleetsim memory --help'");
	if (gpu_lookup(ma.gpu, &g, &err) || llm_lookup(ma.model, &m, &err))
		return cli_report(&err);
	{
		/* What the release's API server would pick on this GPU, unless given. */
		int seqs, tokens;
		double util;

		eng_pool_defaults(cfg.eng ? cfg.eng : eng_default(), &g, &seqs, &tokens, &util);
		if (!set_u)
			cfg.gpu_memory_utilization = util;
		if (!set_t)
			cfg.max_num_batched_tokens = tokens;
		if (!set_s)
			cfg.max_num_seqs = seqs;
	}
	if (mem_plan_compute(&g, &m, &cfg, &p, &err))
		return cli_report(&err);

	if (json) {
		cJSON *o = cJSON_CreateObject(), *ms = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "gpu", g.name);
		cJSON_AddStringToObject(o, "model", m.name);
		cJSON_AddNumberToObject(o, "tp", cfg.tp);
		cJSON_AddStringToObject(o, "precision", prec_name(cfg.weights));
		cJSON_AddStringToObject(o, "kv_cache_dtype", prec_name(cfg.kv));
		cJSON_AddNumberToObject(o, "gpu_memory_utilization", cfg.gpu_memory_utilization);
		cJSON_AddStringToObject(o, "vllm_version", p.eng->version);
		cJSON_AddNumberToObject(o, "block_size", p.block_size);
		cJSON_AddNumberToObject(o, "hbm_gib", g.hbm_bytes / GIB);
		cJSON_AddNumberToObject(o, "device_gib", p.device_bytes / GIB);
		cJSON_AddNumberToObject(o, "budget_gib", p.budget_bytes / GIB);
		cJSON_AddNumberToObject(o, "params_total", m.params_total);
		cJSON_AddNumberToObject(o, "params_active", m.params_active);
		cJSON_AddNumberToObject(o, "weights_gib", p.weights_bytes / GIB);
		cJSON_AddNumberToObject(o, "activation_gib", p.activation_bytes / GIB);
		cJSON_AddBoolToObject(o, "activation_measured", p.activation_measured);
		cJSON_AddNumberToObject(o, "nontorch_gib", p.nontorch_bytes / GIB);
		cJSON_AddNumberToObject(o, "cudagraph_gib", p.cudagraph_bytes / GIB);
		cJSON_AddNumberToObject(o, "overhead_gib", p.overhead_bytes / GIB);
		cJSON_AddNumberToObject(o, "state_gib", p.state_bytes / GIB);
		cJSON_AddNumberToObject(o, "kv_bytes_per_token", p.kv_bytes_per_token);
		cJSON_AddNumberToObject(o, "kv_gib", p.kv_bytes_available / GIB);
		cJSON_AddNumberToObject(o, "kv_blocks", (double)p.kv_blocks);
		cJSON_AddNumberToObject(o, "kv_tokens", (double)p.kv_tokens);
		cJSON_AddNumberToObject(o, "state_blocks", p.state_blocks);
		cJSON_AddNumberToObject(o, "swa_mult", p.swa_mult);
		cJSON_AddNumberToObject(o, "swa_window_blocks", (double)p.swa_window_blocks);
		for (int i = 0; i < 5; i++) {
			char k[32];

			snprintf(k, sizeof k, "%lld", (long long)mem_context_points[i]);
			cJSON_AddNumberToObject(ms, k, (double)p.max_seqs_at[i]);
		}
		cJSON_AddItemToObject(o, "max_seqs_at_context", ms);
		return cli_print_json(o);
	}
	printf("%s on %d x %s (%s weights, %s KV, utilisation %.2f), vLLM %s\n", m.name, cfg.tp,
	       g.display, prec_name(cfg.weights), prec_name(cfg.kv), cfg.gpu_memory_utilization,
	       p.eng->version);
	printf("  parameters         %.2f B total, %.2f B active\n", m.params_total / 1e9,
	       m.params_active / 1e9);
	printf("  per GPU:           %.2f GiB device (%.0f GiB marketed) x %.2f = %.2f GiB budget\n",
	       p.device_bytes / GIB, g.hbm_bytes / GIB, cfg.gpu_memory_utilization, p.budget_bytes / GIB);
	printf("  weights            %8.2f GiB\n", p.weights_bytes / GIB);
	if (p.activation_measured)
		printf("  activation peak    %8.2f GiB (vLLM %s measured profile peak)\n",
		       p.activation_bytes / GIB, p.eng->version);
	else
		printf("  activation peak    %8.2f GiB (formula, max_num_batched_tokens %d)\n",
		       p.activation_bytes / GIB, cfg.max_num_batched_tokens);
	printf("  non-torch memory   %8.2f GiB (TP %s)\n", p.nontorch_bytes / GIB, cfg.tp > 1 ? "> 1" : "1");
	printf("  CUDA graphs        %8.2f GiB%s\n", p.cudagraph_bytes / GIB,
	       p.cudagraph_bytes > 0 ? "" : " (not subtracted by this release)");
	if (p.state_bytes > 0)
		printf("  linear-attn state  %8.2f GiB (reserved for max_num_seqs %d)\n", p.state_bytes / GIB,
		       cfg.max_num_seqs);
	printf("  KV cache           %8.2f GiB, %.0f bytes/token/GPU\n", p.kv_bytes_available / GIB,
	       p.kv_bytes_per_token);
	printf("  KV blocks          %lld of %d tokens (%lld tokens)\n", (long long)p.kv_blocks, p.block_size,
	       (long long)p.kv_tokens);
	if (p.state_blocks > 0)
		printf("  per request        + %d blocks of recurrent state (shared pool)\n", p.state_blocks);
	if (p.swa_mult > 0)
		printf("  sliding window     %d x up to %lld blocks per request\n", p.swa_mult,
		       (long long)p.swa_window_blocks);
	printf("  max sequences at context:");
	for (int i = 0; i < 5; i++)
		printf(" %lldK=%lld", (long long)mem_context_points[i] / 1024, (long long)p.max_seqs_at[i]);
	printf("\n");
	return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
}
