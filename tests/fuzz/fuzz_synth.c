/* fuzz_synth.c - synthetic trace spec YAML, then the first requests it generates. */
#include "fuzz_common.h"
#include "traces/synth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	synth_spec s;
	trace_reader *r = NULL;
	trace_req q;
	fs_err e = {0};
	const char *p = fuzz_file("spec.yaml", data, size);
	int rc = synth_spec_load(p, &s, &e);

	fuzz_check_err(rc, &e);
	if (rc)
		return 0;
	rc = synth_open(&s, 1, &r, &e);
	fuzz_check_err(rc, &e);
	for (int i = 0; !rc && i < 1000; i++) {
		int64_t prev = i ? q.arrival_ns : 0;

		if (trace_next(r, &q, &e) <= 0)
			break;
		if (q.arrival_ns < prev || q.input_tokens < 1 || q.output_tokens < 0)
			abort();
	}
	trace_close(r);
	synth_spec_free(&s);
	return 0;
}
