/* fuzz_config_json.c - Hugging Face config.json import (cJSON), then the size
 * arithmetic every command does with the result. */
#include "fuzz_common.h"
#include "models/llm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	llm_spec m;
	fs_err e = {0};
	const char *p = fuzz_file("config.json", data, size);
	int rc = llm_load_config_json(p, &m, &e);

	fuzz_check_err(rc, &e);
	if (rc)
		return 0;
	for (int tp = 1; tp <= 8; tp *= 2)
		(void)llm_kv_bytes_per_token_gpu(&m, PREC_BF16, tp);
	(void)llm_weight_bytes(&m, PREC_FP8);
	return 0;
}
