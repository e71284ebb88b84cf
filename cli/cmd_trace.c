/* cmd_trace.c - `fleetsim trace stats FILE` and `fleetsim trace gen SPEC.yaml -o FILE`. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "traces/synth.h"
#include "traces/trace.h"
#include "traces/tstats.h"
#include "util/numparse.h"
#include "util/outfile.h"

static const char usage[] =
	"usage: fleetsim trace stats FILE [--format F] [--columns ROLE=COL,...] [--time-unit U]\n"
	"                            [--model NAME] [--skip-bad-rows] [--no-quantiles] [--json]\n"
	"       fleetsim trace gen SPEC.yaml -o FILE [--seed N]\n"
	"\n"
	"stats: count, duration, mean and peak 1-s rate, input/output/total token mean,\n"
	"       p50/p90/p99/max, share of requests with total <= 2K..64K, per category.\n"
	"       FILE may be plain, gzip or zstd; format detected (azure, burstgpt, mooncake,\n"
	"       csv, jsonl, openai) unless --format is given.  --no-quantiles streams in bounded memory.\n"
	"       --columns maps roles (arrival, input, output, max_tokens, category, hash_ids,\n"
	"       prompt_bytes, model) to CSV columns or JSON keys (dotted: usage.prompt_tokens);\n"
	"       --time-unit s|ms|us|ns|iso8601|auto (default auto: detected, noted on stderr);\n"
	"       --model NAME keeps only that model's requests.  Warns about gaps over an hour\n"
	"       and spans over a week.\n"
	"gen:   write a synthetic trace (generic CSV) from a spec; same seed, same bytes.\n";

static cJSON *tokens_json(const tstats_tokens *t)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "mean", t->mean);
	if (!isnan(t->p50)) {
		cJSON_AddNumberToObject(o, "p50", t->p50);
		cJSON_AddNumberToObject(o, "p90", t->p90);
		cJSON_AddNumberToObject(o, "p99", t->p99);
	}
	cJSON_AddNumberToObject(o, "max", (double)t->max);
	return o;
}

static cJSON *group_json(const tstats_group *g)
{
	cJSON *o = cJSON_CreateObject(), *sh = cJSON_CreateObject();

	if (g->name)
		cJSON_AddStringToObject(o, "name", g->name);
	cJSON_AddNumberToObject(o, "requests", (double)g->count);
	cJSON_AddNumberToObject(o, "failed", (double)g->failed);
	cJSON_AddItemToObject(o, "input_tokens", tokens_json(&g->input));
	cJSON_AddItemToObject(o, "output_tokens", tokens_json(&g->output));
	cJSON_AddItemToObject(o, "total_tokens", tokens_json(&g->total));
	for (int i = 0; i < TSTATS_N_LIMITS; i++) {
		char k[32];

		snprintf(k, sizeof k, "le_%dk", tstats_limits[i] / 1024);
		cJSON_AddNumberToObject(sh, k, g->share_le[i]);
	}
	cJSON_AddItemToObject(o, "share_total", sh);
	return o;
}

static void print_tokens(const char *what, const tstats_tokens *t)
{
	if (isnan(t->p50))
		printf("  %-7s mean %10.1f  max %8lld\n", what, t->mean, (long long)t->max);
	else
		printf("  %-7s mean %10.1f  p50 %8.0f  p90 %8.0f  p99 %8.0f  max %8lld\n", what, t->mean,
		       t->p50, t->p90, t->p99, (long long)t->max);
}

static void print_group(const tstats_group *g)
{
	printf("%s: %lld requests", g->name ? g->name : "all", (long long)g->count);
	if (g->failed)
		printf(" (%lld failed: zero output)", (long long)g->failed);
	printf("\n");
	print_tokens("input", &g->input);
	print_tokens("output", &g->output);
	print_tokens("total", &g->total);
	printf("  total <=");
	for (int i = 0; i < TSTATS_N_LIMITS; i++)
		printf(" %dK %.1f%%", tstats_limits[i] / 1024, 100 * g->share_le[i]);
	printf("\n");
}

static int do_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'}, {"skip-bad-rows", no_argument, NULL, 's'},
		{"no-quantiles", no_argument, NULL, 'q'}, {"json", no_argument, NULL, 'j'},
		{"columns", required_argument, NULL, 'c'}, {"time-unit", required_argument, NULL, 'u'},
		{"model", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	fs_err err = {0};
	tstats s;
	int json = 0, quant = 1, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (trace_format_parse(optarg, &o.format))
				return cli_usage_error("trace stats: unknown format '%s' (known: auto, azure, burstgpt, mooncake, csv, jsonl, openai)", optarg);
			break;
		case 's':
			o.skip_bad_rows = 1;
			break;
		case 'c':
			if (trace_columns_parse(optarg, &o, &err))
				return cli_usage_error("trace stats: %s", err.msg);
			break;
		case 'u':
			if (trace_time_unit_parse(optarg, &o.time_unit))
				return cli_usage_error("trace stats: unknown --time-unit '%s' (known: s, ms, us, ns, iso8601, auto)", optarg);
			break;
		case 'm':
			if (!optarg[0] || strlen(optarg) >= sizeof o.model_filter)
				return cli_usage_error("trace stats: --model needs a name of 1 to %d bytes",
						       (int)sizeof o.model_filter - 1);
			snprintf(o.model_filter, sizeof o.model_filter, "%s", optarg);
			break;
		case 'q':
			quant = 0;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_usage_error("trace stats: bad option (see fleetsim trace --help)");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("trace stats: expects one FILE (see fleetsim trace --help)");
	if (trace_open_file(argv[optind], &o, &r, &err) || tstats_compute(r, quant, &s, &err)) {
		trace_close(r);
		return cli_report(&err);
	}
	if (trace_time_note(r))
		fprintf(stderr, "fleetsim: note: %s\n", trace_time_note(r));
	if (s.long_gaps)
		fprintf(stderr, "fleetsim: warning: %s: %lld gap%s longer than an hour between requests "
			"(longest %.1f h, after %.0f s): replaying %s simulates an idle fleet; "
			"consider start:/duration:\n", argv[optind], (long long)s.long_gaps,
			s.long_gaps > 1 ? "s" : "", s.max_gap_s / 3600, s.max_gap_at_s,
			s.long_gaps > 1 ? "them" : "it");
	if (s.duration_s > TSTATS_LONG_SPAN_S)
		fprintf(stderr, "fleetsim: warning: %s: requests span %.1f days (over a week): check the "
			"timestamps' unit (--time-unit / time_unit:) or replay a window (start:/duration:)\n",
			argv[optind], s.duration_s / 86400);
	if (json) {
		cJSON *root = cJSON_CreateObject(), *cats = cJSON_CreateArray();

		cJSON_AddStringToObject(root, "file", argv[optind]);
		cJSON_AddStringToObject(root, "format", trace_format_name(trace_reader_format(r)));
		cJSON_AddNumberToObject(root, "requests", (double)s.count);
		cJSON_AddNumberToObject(root, "bad_rows", (double)s.bad_rows);
		cJSON_AddNumberToObject(root, "duration_s", s.duration_s);
		cJSON_AddNumberToObject(root, "mean_rate_rps", s.mean_rate);
		cJSON_AddNumberToObject(root, "peak_1s_rate_rps", (double)s.peak_1s);
		cJSON_AddNumberToObject(root, "max_gap_s", s.max_gap_s);
		cJSON_AddNumberToObject(root, "long_gaps", (double)s.long_gaps);
		if (trace_time_note(r))
			cJSON_AddStringToObject(root, "time_note", trace_time_note(r));
		cJSON_AddItemToObject(root, "all", group_json(&s.all));
		for (int i = 0; i < s.n_cats; i++)
			cJSON_AddItemToArray(cats, group_json(&s.cats[i]));
		cJSON_AddItemToObject(root, "categories", cats);
		c = cli_print_json(root);
	} else {
		printf("%s (%s): %lld requests over %.3f s, mean %.3f req/s, peak %lld req in 1 s\n",
		       argv[optind], trace_format_name(trace_reader_format(r)), (long long)s.count,
		       s.duration_s, s.mean_rate, (long long)s.peak_1s);
		print_group(&s.all);
		for (int i = 0; i < s.n_cats; i++)
			print_group(&s.cats[i]);
		c = 0;
	}
	if (s.bad_rows)
		fprintf(stderr, "fleetsim: %s: skipped %lld bad rows\n", argv[optind], (long long)s.bad_rows);
	tstats_free(&s);
	trace_close(r);
	return c;
}

static int do_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *outp = NULL;
	synth_spec spec;
	trace_reader *r = NULL;
	fs_err err = {0};
	int64_t seed = -1, n;
	FILE *f;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			outp = optarg;
			break;
		case 'S':
			if (np_i64(optarg, (size_t)-1, &seed) || seed < 0)
				return cli_usage_error("trace gen: --seed must be a non-negative integer, not '%s'", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return cli_usage_error("trace gen: bad option (see fleetsim trace --help)");
		}
	}
	if (optind != argc - 1 || !outp)
		return cli_usage_error("trace gen: expects SPEC.yaml and -o FILE (see fleetsim trace --help)");
	if (of_same_file(argv[optind], outp))
		return cli_usage_error("trace gen: -o %s is the spec file itself: it would be overwritten", outp);
	if (synth_spec_load(argv[optind], &spec, &err))
		return cli_report(&err);
	if (seed < 0)
		seed = spec.has_seed ? (int64_t)spec.seed : 1;
	if (synth_open(&spec, (uint64_t)seed, &r, &err)) {
		synth_spec_free(&spec);
		return cli_report(&err);
	}
	synth_spec_free(&spec);
	f = fopen(outp, "w");
	if (!f) {
		trace_close(r);
		fs_fail(&err, FS_EXIT_RUNTIME, "%s: cannot create: %s", outp, strerror(errno));
		return cli_report(&err);
	}
	rc = synth_write_csv(r, f, outp, &n, &err);
	if (fclose(f) != 0 && rc == 0)
		rc = fs_fail(&err, FS_EXIT_RUNTIME, "%s: write error", outp);
	trace_close(r);
	if (rc)
		return cli_report(&err);
	fprintf(stderr, "fleetsim: wrote %lld requests to %s (seed %lld)\n", (long long)n, outp, (long long)seed);
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("trace: expects a subcommand: stats or gen (see fleetsim trace --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "stats"))
		return do_stats(argc - 1, argv + 1);
	if (!strcmp(argv[1], "gen"))
		return do_gen(argc - 1, argv + 1);
	return cli_usage_error("trace: unknown subcommand '%s' (known: stats, gen)", argv[1]);
}
