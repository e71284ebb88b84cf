/* CUnit suite for models/llm: parameter counts from the architecture, KV bytes,
 * precision sizes and config.json import. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "models/llm.h"
#include "tutil.h"

static llm_spec get(const char *name)
{
	llm_spec m;
	fs_err err = {0};

	memset(&m, 0, sizeof m);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(name, &m, &err), 0);
	return m;
}

static void test_llama3_70b(void)
{
	llm_spec m = get("llama-3.3-70b");

	CU_ASSERT_STRING_EQUAL(m.name, "llama-3-70b");
	/* Per layer: q,o 8192x8192 x2 = 134,217,728; k,v 8192x1024 x2 = 16,777,216;
	 * SwiGLU 3 x 8192 x 28672 = 704,643,072 -> 855,638,016 x 80 = 68,451,041,280.
	 * BF16 rest: embeddings + lm_head 2 x 128256 x 8192 = 2,101,346,304, norms
	 * 80 x 2 x 8192 + 8192 = 1,318,912.  Total 70,553,706,496. */
	CU_ASSERT_DOUBLE_EQUAL(m.params_linear, 68451041280.0, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, 70553706496.0, 0.5);
	/* BF16: 2 B/param = 141.1 GB. */
	CU_ASSERT_DOUBLE_EQUAL(llm_weight_bytes(&m, PREC_BF16), 141107412992.0, 1);
	/* NVFP4: 68,451,041,280 x 0.5625 + 2,102,665,216 x 2 = 42,709,041,152 = 42.7 GB. */
	CU_ASSERT_DOUBLE_EQUAL(llm_weight_bytes(&m, PREC_NVFP4), 42709041152.0, 1);
	CU_ASSERT(llm_weight_bytes(&m, PREC_NVFP4) > 40e9 && llm_weight_bytes(&m, PREC_NVFP4) < 44e9);
	/* KV: 2 x 80 layers x 8 heads x 128 x 2 B = 327,680 B = 320 KiB; FP8 half. */
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), 320.0 * 1024, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_FP8), 160.0 * 1024, 0);
	/* Per GPU at TP 4: 2 of the 8 KV heads. */
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token_gpu(&m, PREC_BF16, 4), 81920.0, 0);
	/* TP 16 > 8 KV heads: each shard keeps one (replicated) head. */
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token_gpu(&m, PREC_BF16, 16), 40960.0, 0);
}

static void test_hybrid_and_moe(void)
{
	llm_spec m = get("qwen3-next-80b-a3b");

	/* 12 of 48 layers keep KV: 2 x 12 x 2 heads x 256 x 2 B = 24,576 B/token. */
	CU_ASSERT_EQUAL(m.full_attn_layers, 12);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), 24576.0, 0);
	/* Published total of the Qwen3-Next-80B architecture (Qwen3-Coder-Next
	 * safetensors): 79,674,391,296. */
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, 79674391296.0, 0.5);
	CU_ASSERT(m.params_active > 3.5e9 && m.params_active < 4.0e9);
	/* State of the 36 Gated DeltaNet layers, BF16: recurrent 32 x 128 x 128 x 2 =
	 * 1,048,576 + conv (2 x 16 x 128 + 32 x 128) x 3 x 2 = 49,152 -> 1,097,728 x 36. */
	CU_ASSERT_DOUBLE_EQUAL(m.state_bytes_per_seq, 1097728.0 * 36, 0);

	m = get("qwen3-235b-a22b");
	CU_ASSERT(m.params_total > 234e9 && m.params_total < 236e9);
	CU_ASSERT(m.params_active > 21.5e9 && m.params_active < 22.5e9);
}

static void test_deepseek_mla(void)
{
	llm_spec m = get("deepseek-v3");

	/* MLA latent: (512 + 64) x 61 layers x 2 B = 70,272 B/token, replicated per shard. */
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), (512.0 + 64) * 61 * 2, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token_gpu(&m, PREC_BF16, 8), 70272.0, 0);
	/* 671 B total (without the MTP module), ~37 B active. */
	CU_ASSERT(m.params_total > 670e9 && m.params_total < 672e9);
	CU_ASSERT(m.params_active > 36e9 && m.params_active < 39e9);
}

static void test_qwen36_and_catalog(void)
{
	llm_spec m = get("qwen3.6-27b");

	/* Model card: BF16 about 54 GB; 16 of 64 layers full attention. */
	CU_ASSERT_EQUAL(m.full_attn_layers, 16);
	CU_ASSERT(llm_weight_bytes(&m, PREC_BF16) > 53e9 && llm_weight_bytes(&m, PREC_BF16) < 55e9);
	/* NVFP4 ~2.5x smaller: the 2.5 GB untied embeddings stay BF16. */
	CU_ASSERT(llm_weight_bytes(&m, PREC_NVFP4) > 17e9 && llm_weight_bytes(&m, PREC_NVFP4) < 21e9);
	/* BLOOM-176B: 12 h^2 per layer x 70 + 250880 x 14336 (tied) + biases = 176.2 B. */
	m = get("bloom");
	CU_ASSERT(m.params_total > 176.0e9 && m.params_total < 176.5e9);
	m = get("llama-2-70b");
	CU_ASSERT(m.params_total > 68.9e9 && m.params_total < 69.1e9);
	for (int i = 0; i < llm_catalog_count(); i++)
		CU_ASSERT(llm_catalog_get(i)->params_total > 1e9);
}

static void test_config_json(void)
{
	llm_spec m, cat = get("llama-3-70b");
	fs_err err = {0};
	const char *p;

	p = tu_file("llama.json", "{\"hidden_size\": 8192, \"num_hidden_layers\": 80, \"num_attention_heads\": 64,"
			          "\"num_key_value_heads\": 8, \"intermediate_size\": 28672, \"vocab_size\": 128256,"
			          "\"tie_word_embeddings\": false, \"max_position_embeddings\": 131072}");
	CU_ASSERT_EQUAL_FATAL(llm_lookup(p, &m, &err), 0);
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, cat.params_total, 0.5);
	CU_ASSERT_EQUAL(m.head_dim, 128);

	/* text_config + layer_types, as Qwen3.5 multimodal checkpoints write them. */
	p = tu_file("qwen35.json", "{\"model_type\": \"qwen3_5\", \"tie_word_embeddings\": false, \"text_config\": {"
			          "\"model_type\": \"qwen3_5_text\", \"hidden_size\": 5120, \"num_hidden_layers\": 8,"
			          "\"num_attention_heads\": 24, \"num_key_value_heads\": 4, \"head_dim\": 256,"
			          "\"intermediate_size\": 17408, \"vocab_size\": 248320,"
			          "\"layer_types\": [\"linear_attention\",\"linear_attention\",\"linear_attention\","
			          "\"full_attention\",\"linear_attention\",\"linear_attention\",\"linear_attention\","
			          "\"full_attention\"], \"linear_num_key_heads\": 16, \"linear_num_value_heads\": 48,"
			          "\"linear_key_head_dim\": 128, \"linear_value_head_dim\": 128,"
			          "\"mamba_ssm_dtype\": \"float32\"}}");
	CU_ASSERT_EQUAL_FATAL(llm_lookup(p, &m, &err), 0);
	CU_ASSERT_EQUAL(m.full_attn_layers, 2);
	CU_ASSERT_EQUAL(m.attn_output_gate, 1);
	CU_ASSERT_EQUAL(m.ssm_state_fp32, 1);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), 2.0 * 2 * 4 * 256 * 2, 0);

	/* DeepSeek field names. */
	p = tu_file("ds.json", "{\"model_type\": \"deepseek_v3\", \"hidden_size\": 7168, \"num_hidden_layers\": 61,"
			      "\"num_attention_heads\": 128, \"num_key_value_heads\": 128, \"intermediate_size\": 18432,"
			      "\"vocab_size\": 129280, \"tie_word_embeddings\": false, \"n_routed_experts\": 256,"
			      "\"n_shared_experts\": 1, \"num_experts_per_tok\": 8, \"moe_intermediate_size\": 2048,"
			      "\"first_k_dense_replace\": 3, \"kv_lora_rank\": 512, \"q_lora_rank\": 1536,"
			      "\"qk_rope_head_dim\": 64, \"qk_nope_head_dim\": 128, \"v_head_dim\": 128}");
	CU_ASSERT_EQUAL_FATAL(llm_lookup(p, &m, &err), 0);
	cat = get("deepseek-v3");
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, cat.params_total, 0.5);

	/* Malformed: one-line errors naming the file. */
	p = tu_file("bad.json", "{\"hidden_size\": 8192,\n \"num_hidden_layers\": }");
	CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, p));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":2: not valid JSON"));
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	p = tu_file("type.json", "{\"hidden_size\": \"big\", \"num_hidden_layers\": 2}");
	CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'hidden_size' must be a number"));
	p = tu_file("heads.json", "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 6,"
			         "\"num_key_value_heads\": 4, \"intermediate_size\": 128, \"vocab_size\": 100}");
	CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not divisible"));
	CU_ASSERT_EQUAL(llm_lookup("/nonexistent/config.json", &m, &err), -1);
	CU_ASSERT_EQUAL(llm_lookup("gpt-9", &m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unknown model 'gpt-9'"));
}

/* The model's name comes from _name_or_path: control characters are refused. */
static void test_name_controls(void)
{
	llm_spec m;
	fs_err err = {0};
	const char *p;

	p = tu_file("esc.json", "{\"_name_or_path\": \"m\\\"\\n          securityContext: {privileged: true}\\u001b\","
			        "\"hidden_size\": 4096, \"num_hidden_layers\": 32, \"num_attention_heads\": 32,"
			        "\"num_key_value_heads\": 8, \"intermediate_size\": 14336, \"vocab_size\": 128256}");
	CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "esc.json: '_name_or_path' contains a control character"));
	p = tu_file("ok.json", "{\"_name_or_path\": \"m\\\" securityContext: {privileged: true} '.system('x').'\","
			       "\"hidden_size\": 4096, \"num_hidden_layers\": 32, \"num_attention_heads\": 32,"
			       "\"num_key_value_heads\": 8, \"intermediate_size\": 14336, \"vocab_size\": 128256}");
	CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), 0);
	CU_ASSERT_STRING_EQUAL(m.name, "m\" securityContext: {privileged: true} '.system('x').'");
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("llm", NULL, NULL);
	if (!s || !CU_add_test(s, "llama-3-70b sizes", test_llama3_70b) ||
	    !CU_add_test(s, "hybrid and MoE", test_hybrid_and_moe) ||
	    !CU_add_test(s, "deepseek MLA", test_deepseek_mla) ||
	    !CU_add_test(s, "qwen3.6 and catalog", test_qwen36_and_catalog) ||
	    !CU_add_test(s, "config.json import", test_config_json) ||
	    !CU_add_test(s, "names refuse control characters", test_name_controls))
		return -1;
	return 0;
}
