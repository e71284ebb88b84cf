/*
 * embed.c - libfleetsim from another program: run a scenario file on every policy and
 * print each fleet's summary, then the same comparison `fleetsim run` prints.
 *
 *   cc embed.c $(pkg-config --cflags --libs fleetsim) -o embed
 *   ./embed scenarios/quickstart.yaml [results.db]
 */
#include <fleetsim/fleetsim.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	fsim_options o;
	fsim_run *r = NULL;
	char err[1024];
	char *cmp;
	int rc;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SCENARIO.yaml [RESULTS.db]\n", argv[0]);
		return 2;
	}
	fsim_options_init(&o);
	o.db_path = argc == 3 ? argv[2] : NULL; /* no database unless asked for */
	rc = fsim_run_file(argv[1], &o, &r, err, sizeof err);
	if (rc != FSIM_OK) {
		fprintf(stderr, "embed: %s\n", err);
		return rc;
	}
	printf("scenario %s (seed %llu): %d policies\n", fsim_scenario_name(r),
	       (unsigned long long)fsim_seed(r), fsim_policy_count(r));
	for (int i = 0; i < fsim_policy_count(r); i++) {
		fsim_summary s;

		if (fsim_summary_get(r, i, -1, &s) != FSIM_OK)
			continue;
		printf("%-8s %3d GPUs  %lld of %lld requests completed  TTFT p99 %.3f s  TPOT p99 %.4f s  "
		       "%.3f GPU-hours\n", s.policy, s.gpus, (long long)s.completed, (long long)s.requests,
		       s.ttft_p99_s, s.tpot_p99_s, s.gpu_hours);
	}
	cmp = fsim_run_comparison_text(r);
	if (cmp)
		fputs(cmp, stdout);
	free(cmp);
	fsim_run_free(r);
	return 0;
}
