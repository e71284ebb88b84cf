/*
 * cmd_report.c - `fleetsim report`: plots (PNG + SVG, each with its .gp script and
 * .dat data) and an index.html with a table of the numbers, for a sweep or a run.
 */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "reports/db.h"
#include "reports/report.h"
#include "util/numparse.h"

static const char usage_text[] =
	"usage: fleetsim report --db FILE [--sweep ID | --run ID] [--baseline RUN] --out DIR\n"
	"\n"
	"Draw a sweep's metric-vs-parameter curves (GPU-hours, preemptions per request,\n"
	"TTFT/TPOT p99 with the SLO, per-pool traffic share; one line per policy and value\n"
	"of the other parameters it uses), TTFT and TPOT CDFs of the best, worst and\n"
	"baseline runs with the SLO marked, and KV usage / queue depth over time into DIR,\n"
	"with DIR/index.html.  best = the lowest GPU-hours meeting the SLO (none: the\n"
	"lowest TTFT p99), worst = the highest TTFT p99, baseline = --baseline or the first\n"
	"policy at the first grid point.\n"
	"A run report covers the run and the other policies of the same `fleetsim run`.\n"
	"Without --sweep or --run: the latest sweep, else the latest run.\n"
	"\n"
	"  --db FILE      results database (required)\n"
	"  --sweep ID     report sweep ID\n"
	"  --run ID       report run ID (and its sibling policies)\n"
	"  --baseline RUN the CDFs' baseline run (a run_id of the report)\n"
	"  --out DIR      output directory, created if missing (required)\n"
	"  --json         print what was written as one JSON object\n"
	"  -h, --help     this text\n";

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},  {"sweep", required_argument, NULL, 'S'},
		{"run", required_argument, NULL, 'r'}, {"out", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
		{"baseline", required_argument, NULL, 'b'},
		{NULL, 0, NULL, 0}};
	const char *dbpath = NULL;
	report_opts ro = {0};
	report_stats st;
	fs_err err = {0};
	db *d = NULL;
	int c, json = 0, status = FS_EXIT_OK;
	int64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dbpath = optarg; break;
		case 'o': ro.out_dir = optarg; break;
		case 'j': json = 1; break;
		case 'S':
		case 'r':
		case 'b':
			if (np_i64(optarg, (size_t)-1, &v) || v < 1)
				return cli_usage_error("report: --%s wants a positive integer id, got '%s'",
						       c == 'S' ? "sweep" : c == 'r' ? "run" : "baseline", optarg);
			if (c == 'S')
				ro.sweep_id = v;
			else if (c == 'r')
				ro.run_id = v;
			else
				ro.baseline_run = v;
			break;
		case 'h': fputs(usage_text, stdout); return FS_EXIT_OK;
		default: fputs(usage_text, stderr); return FS_EXIT_INPUT;
		}
	}
	if (optind != argc)
		return cli_usage_error("report: unexpected argument '%s' (see 'fleetsim report --help')",
				       argv[optind]);
	if (!dbpath || !ro.out_dir)
		return cli_usage_error("report: --db FILE and --out DIR are required");
	if (ro.sweep_id > 0 && ro.run_id > 0)
		return cli_usage_error("report: give --sweep or --run, not both");
	if (db_open_readonly(dbpath, &d, &err) || report_write(d, &ro, &st, &err)) {
		status = cli_report(&err);
		goto out;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		if (st.sweep_id > 0)
			cJSON_AddNumberToObject(o, "sweep_id", (double)st.sweep_id);
		else
			cJSON_AddNumberToObject(o, "run_id", (double)st.run_id);
		cJSON_AddNumberToObject(o, "runs", st.nruns);
		cJSON_AddNumberToObject(o, "plots", st.nplots);
		cJSON_AddStringToObject(o, "index", st.index_path);
		status = cli_print_json(o);
	} else {
		printf("%d plots for %d runs -> %s\n", st.nplots, st.nruns, st.index_path);
	}
out:
	db_close(d);
	return status;
}
