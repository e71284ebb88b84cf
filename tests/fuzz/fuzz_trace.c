/* fuzz_trace.c - trace readers (Azure, BurstGPT, Mooncake, generic CSV/JSONL) behind
 * plain/gzip/zstd input.  Byte 0 picks the format (auto or forced) and skip_bad_rows;
 * the rest is the file. */
#include "fuzz_common.h"
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	trace_open_opts o = trace_open_opts_default();
	trace_reader *r = NULL;
	trace_req q;
	fs_err e = {0};
	const char *p;
	int rc;

	if (size < 1)
		return 0;
	o.format = (trace_format)(data[0] % 6);
	o.skip_bad_rows = (data[0] >> 3) & 1;
	p = fuzz_file("trace", data + 1, size - 1);
	rc = trace_open_file(p, &o, &r, &e);
	fuzz_check_err(rc, &e);
	if (rc)
		return 0;
	for (int i = 0; i < 100000; i++) {
		int64_t prev = i ? q.arrival_ns : 0;

		rc = trace_next(r, &q, &e);
		if (rc <= 0) {
			fuzz_check_err(rc, &e);
			break;
		}
		/* The reader's contract: arrivals non-decreasing and >= 0, prompts >= 1. */
		if (q.arrival_ns < prev || q.input_tokens < 1 || q.output_tokens < 0 ||
		    q.n_hashes < 0 || (q.n_hashes && !q.hashes))
			abort();
		for (int k = 0; k < q.n_hashes; k++)
			(void)*(volatile const uint64_t *)&q.hashes[k];
		(void)trace_category_name(r, q.category);
	}
	trace_close(r);
	return 0;
}
