/*
 * cmd_engines.c - `fleetsim engines`: the vLLM releases fleetsim models, what each
 * does differently, the defaults its API server picks per GPU class, its memory-plan
 * terms and where in vLLM each was read (models/engine.c; docs/engine.md).
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "models/engine.h"
#include "models/gpu.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fleetsim engines [--json]\n\n"
		   "List the modelled vLLM releases (a scenario names one with `vllm_version:`;\n"
		   "the newest is the default): scheduler behaviour flags, the API server's\n"
		   "max_num_seqs / max_num_batched_tokens per GPU class, gpu_memory_utilization,\n"
		   "the largest CUDA-graph capture size, the memory-plan terms, and the vLLM\n"
		   "files and commit each figure was read from.  docs/engine.md explains them.\n\n"
		   "  --json   one JSON object: {\"default\", \"releases\": [...], \"gpu_classes\"}\n");
}

static const char *yn(int v)
{
	return v ? "yes" : "no";
}

static int print_json(void)
{
	cJSON *o = cJSON_CreateObject(), *ra = cJSON_CreateArray(), *gc = cJSON_CreateObject();
	fs_err err = {0};

	if (!o || !ra || !gc || !cJSON_AddStringToObject(o, "default", eng_default()->version)) {
		cJSON_Delete(o);
		cJSON_Delete(ra);
		cJSON_Delete(gc);
		fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
		return cli_report(&err);
	}
	cJSON_AddItemToObject(o, "releases", ra);
	cJSON_AddItemToObject(o, "gpu_classes", gc);
	for (int i = 0; i < eng_count(); i++) {
		cJSON *e;

		if (eng_json(eng_get(i), &e, &err)) {
			cJSON_Delete(o);
			return cli_report(&err);
		}
		cJSON_AddItemToArray(ra, e);
	}
	/* The catalog GPUs' classes, so a reader need not apply vLLM's rule itself. */
	for (int i = 0; i < gpu_catalog_count(); i++) {
		const gpu_spec *g = gpu_catalog_get(i);

		if (!cJSON_AddStringToObject(gc, g->name, eng_gpu_class_name(eng_gpu_class_of(g)))) {
			cJSON_Delete(o);
			fs_fail(&err, FS_EXIT_RUNTIME, "out of memory");
			return cli_report(&err);
		}
	}
	return cli_print_json(o);
}

int cmd_engines(int argc, char **argv)
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
			return cli_usage_error("engines: unknown option '%s'; see 'fleetsim engines --help'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("engines: unexpected argument '%s'", argv[optind]);
	if (json)
		return print_json();

	printf("vLLM releases (default: %s; a scenario picks one with `vllm_version:`):\n",
	       eng_default()->version);
	printf("  %-7s %-8s %-10s %-12s %-5s %-4s %8s %6s  %-17s %s\n", "version", "tag", "date",
	       "reserve-isl", "async", "null", "gpu-util", "cg-max", "small seqs/tokens",
	       "large seqs/tokens");
	for (int i = 0; i < eng_count(); i++) {
		const eng_release *r = eng_get(i);

		printf("  %-7s %-8s %-10s %-12s %-5s %-4s %8.2f %6d  %4d / %-10d %4d / %d\n", r->version,
		       r->tag, r->date, yn(r->reserve_full_isl), yn(r->async_scheduling), yn(r->null_block),
		       r->gpu_memory_utilization, r->cudagraph_max, r->max_num_seqs[ENG_GPU_SMALL],
		       r->max_num_batched_tokens[ENG_GPU_SMALL], r->max_num_seqs[ENG_GPU_LARGE],
		       r->max_num_batched_tokens[ENG_GPU_LARGE]);
	}
	printf("\nMemory-plan terms (GiB; activation < 0: models/memory.c's formula):\n");
	printf("  %-7s %12s %12s %10s %13s %7s %s\n", "version", "non-torch/1", "non-torch/N",
	       "activation", "cuda-graphs", "mla-pad", "hybrid-state-in-pool");
	for (int i = 0; i < eng_count(); i++) {
		const eng_release *r = eng_get(i);

		printf("  %-7s %12.2f %12.2f %10.2f %13.2f %7s %s\n", r->version, r->nontorch_gib[0],
		       r->nontorch_gib[1], r->activation_gib, r->cudagraph_gib, yn(r->mla_pad),
		       yn(r->hybrid_shared_pool));
	}
	printf("\nGPU classes (vLLM: >= 70 GiB and not an A100 is large):\n ");
	for (int i = 0; i < gpu_catalog_count(); i++) {
		const gpu_spec *g = gpu_catalog_get(i);

		printf(" %s %s%s", g->name, eng_gpu_class_name(eng_gpu_class_of(g)),
		       i + 1 < gpu_catalog_count() ? "," : "\n");
	}
	printf("\nSources:\n");
	for (int i = 0; i < eng_count(); i++)
		printf("  %s: %s\n", eng_get(i)->version, eng_get(i)->source);
	return ferror(stdout) ? FS_EXIT_RUNTIME : 0;
}
