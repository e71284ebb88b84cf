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

#define MODELS FS_SOURCE_DIR "/tests/data/models/"

/* Sliding-window layers: catalog entries and the four ways config.json states them. */
static void test_sliding_window(void)
{
	llm_spec m = get("gpt-oss-120b"), c;
	fs_err err = {0};

	/* 18 sliding (window 128) + 18 full; 128 experts top-4.  Total without the
	 * biases and sinks: attention 26,542,080 x 36 + experts 3 x 2880^2 x 128 x 36 +
	 * router 2880 x 128 x 36 + norms 210,240 + untied 201088 x 2880 x 2 =
	 * 116,789,048,640 (published 116.83 B with biases); active minus the input
	 * embedding = 5,131,310,400 (OpenAI's "5.13 B active"). */
	CU_ASSERT_EQUAL(m.full_attn_layers, 18);
	CU_ASSERT_EQUAL(m.swa_layers, 18);
	CU_ASSERT_EQUAL(m.sliding_window, 128);
	CU_ASSERT_EQUAL(m.default_max_tokens, -1);
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, 116789048640.0, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(m.params_active - m.params_embed, 5131310400.0, 0.5);
	/* KV: full layers only in llm_kv_bytes_per_token, 2 x 18 x 8 x 64 x 2 = 36,864;
	 * the sliding ones the same again in llm_swa_kv_bytes_per_token. */
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), 36864.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token(&m, PREC_BF16), 36864.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token(&m, PREC_FP8), 18432.0, 0);
	/* TP 4: 2 of 8 KV heads; TP 16: one replicated head per shard. */
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token_gpu(&m, PREC_BF16, 4), 9216.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token_gpu(&m, PREC_BF16, 16), 4608.0, 0);
	/* Dense models have none. */
	c = get("llama-3-70b");
	CU_ASSERT_EQUAL(c.swa_layers, 0);
	CU_ASSERT_EQUAL(c.sliding_window, 0);
	CU_ASSERT_EQUAL(c.default_max_tokens, -1);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token(&c, PREC_BF16), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token_gpu(&c, PREC_BF16, 8), 0, 0);

	/* gpt-oss-20b: layer_types (24 alternating), num_local_experts 32. */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "gpt-oss-20b", &c, &err), 0);
	m = get("gpt-oss-20b");
	CU_ASSERT_EQUAL(c.full_attn_layers, 12);
	CU_ASSERT_EQUAL(c.swa_layers, 12);
	CU_ASSERT_EQUAL(c.sliding_window, 128);
	CU_ASSERT_EQUAL(c.n_experts, 32);
	CU_ASSERT_DOUBLE_EQUAL(c.params_total, m.params_total, 0.5);
	/* 20,907,927,360 (published 20.91 B). */
	CU_ASSERT_DOUBLE_EQUAL(m.params_total, 20907927360.0, 0.5);

	/* Gemma-3-27B: text_config with neither vocab nor pattern: the class defaults
	 * (vocab 262,208, pattern 6 -> layers 5, 11, ..., 59 full: 10 of 62). */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "gemma-3-27b-it", &c, &err), 0);
	m = get("gemma-3-27b-it");
	CU_ASSERT_STRING_EQUAL(m.name, "gemma-3-27b");
	CU_ASSERT_EQUAL(c.vocab, 262208);
	CU_ASSERT_EQUAL(c.full_attn_layers, 10);
	CU_ASSERT_EQUAL(c.swa_layers, 52);
	CU_ASSERT_EQUAL(c.sliding_window, 1024);
	CU_ASSERT_EQUAL(c.qk_norm, 1);
	CU_ASSERT_EQUAL(c.tied_embeddings, 1);
	CU_ASSERT_DOUBLE_EQUAL(c.params_total, m.params_total, 0.5);
	CU_ASSERT(m.params_total > 26.9e9 && m.params_total < 27.1e9);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&m, PREC_BF16), 2.0 * 10 * 16 * 128 * 2, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token(&m, PREC_BF16), 2.0 * 52 * 16 * 128 * 2, 0);

	/* Mistral-7B-v0.1: sliding_window and nothing else: every layer slides, no
	 * full-attention KV at all.  7,241,732,096 parameters (published). */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "mistral-7b-v0.1", &c, &err), 0);
	CU_ASSERT_EQUAL(c.swa_layers, 32);
	CU_ASSERT_EQUAL(c.full_attn_layers, 0);
	CU_ASSERT_EQUAL(c.sliding_window, 4096);
	CU_ASSERT_DOUBLE_EQUAL(c.params_total, 7241732096.0, 0.5);
	CU_ASSERT_DOUBLE_EQUAL(llm_kv_bytes_per_token(&c, PREC_BF16), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(llm_swa_kv_bytes_per_token(&c, PREC_BF16), 2.0 * 32 * 8 * 128 * 2, 0);

	/* Qwen2.5: sliding_window 131072 but use_sliding_window false: no window. */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "qwen2.5-7b-instruct", &c, &err), 0);
	CU_ASSERT_EQUAL(c.swa_layers, 0);
	CU_ASSERT_EQUAL(c.sliding_window, 0);
	CU_ASSERT_EQUAL(c.full_attn_layers, 28);
	CU_ASSERT_EQUAL(c.default_max_tokens, -1);
	/* ... and with it true: layers i >= max_window_layers (20) slide. */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "qwen2-swa", &c, &err), 0);
	CU_ASSERT_EQUAL(c.full_attn_layers, 20);
	CU_ASSERT_EQUAL(c.swa_layers, 8);
	CU_ASSERT_EQUAL(c.sliding_window, 4096);
	CU_ASSERT_STRING_EQUAL(c.name, "qwen2-swa");
}

/* Sliding-window errors name the file and the key. */
static void test_sliding_window_errors(void)
{
	llm_spec m;
	fs_err err = {0};
	const char *p;
	static const char *const base = "\"hidden_size\": 64, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
					"\"intermediate_size\": 128, \"vocab_size\": 100";
	char buf[512];
	static const struct {
		const char *extra, *want;
	} bad[] = {
		{"\"sliding_window\": 4096.5", "'sliding_window' must be a positive integer, got 4096.5"},
		{"\"sliding_window\": 0", "'sliding_window' must be a positive number of tokens, got 0"},
		{"\"sliding_window\": -8", "'sliding_window' must be a positive number of tokens, got -8"},
		{"\"sliding_window\": \"4k\"", "'sliding_window' must be a positive integer number of tokens or null"},
		{"\"sliding_window\": [512, 512]", "'sliding_window' must be a positive integer number of tokens or null"},
		{"\"sliding_window\": 64, \"sliding_window_pattern\": 0", "'sliding_window_pattern' must be a positive integer"},
		{"\"sliding_window\": 64, \"layer_types\": [\"sliding_attention\", \"full_attention\", \"full_attention\"]",
		 "'layer_types' has 3 entries but num_hidden_layers is 4"},
		{"\"sliding_window\": 64, \"layer_types\": \"sliding_attention\"", "'layer_types' must be an array of strings"},
		{"\"sliding_window\": 64, \"use_sliding_window\": 1", "'use_sliding_window' must be true or false"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "{%s, %s}", base, bad[i].extra);
		p = tu_file("swa_bad.json", buf);
		CU_ASSERT_EQUAL(llm_lookup(p, &m, &err), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "swa_bad.json: "));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].want));
		if (!strstr(err.msg, bad[i].want))
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
	}
	/* null is "no window"; layer_types marking sliding layers without a window
	 * leaves them full (vLLM passes them config.sliding_window = None). */
	snprintf(buf, sizeof buf, "{%s, \"sliding_window\": null, \"layer_types\": [\"sliding_attention\","
		 "\"full_attention\", \"sliding_attention\", \"full_attention\"]}", base);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(tu_file("swa_null.json", buf), &m, &err), 0);
	CU_ASSERT_EQUAL(m.swa_layers, 0);
	CU_ASSERT_EQUAL(m.full_attn_layers, 4);
	/* An explicit pattern: layers 2 and 4 full (i + 1 = 2, 4). */
	snprintf(buf, sizeof buf, "{%s, \"sliding_window\": 32, \"sliding_window_pattern\": 2}", base);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(tu_file("swa_pat.json", buf), &m, &err), 0);
	CU_ASSERT_EQUAL(m.swa_layers, 2);
	CU_ASSERT_EQUAL(m.full_attn_layers, 2);
	CU_ASSERT_EQUAL(m.sliding_window, 32);
	/* A hand-built spec: full_attn_layers 0 means the layers that do not slide. */
	memset(&m, 0, sizeof m);
	snprintf(m.name, sizeof m.name, "hand");
	m.hidden = 64, m.layers = 4, m.heads = 4, m.intermediate = 128, m.vocab = 100;
	m.swa_layers = 3, m.sliding_window = 16;
	CU_ASSERT_EQUAL(llm_finish(&m, &err), 0);
	CU_ASSERT_EQUAL(m.full_attn_layers, 1);
	CU_ASSERT_EQUAL(m.default_max_tokens, -1);
	m.swa_layers = 3, m.sliding_window = 0, m.full_attn_layers = 0;
	CU_ASSERT_EQUAL(llm_finish(&m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sliding-window layers but no sliding_window"));
	m.swa_layers = 3, m.sliding_window = 16, m.full_attn_layers = 2;
	CU_ASSERT_EQUAL(llm_finish(&m, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "but only 4 layers"));
}

/* generation_config.json beside config.json: max_new_tokens -> default_max_tokens. */
static void test_generation_config(void)
{
	llm_spec m;
	fs_err err = {0};
	char dir[4096], path[4200];
	static const struct {
		const char *text, *want;
	} bad[] = {
		{"{\"max_new_tokens\": 1.5}", "'max_new_tokens' must be a positive integer (at most 2147483647), got 1.5"},
		{"{\"max_new_tokens\": 0}", "got 0"},
		{"{\"max_new_tokens\": -3}", "got -3"},
		{"{\"max_new_tokens\": 3e9}", "got 3e+09"},
		{"{\"max_new_tokens\": \"2048\"}", "'max_new_tokens' must be a positive integer or null"},
		{"{\"max_new_tokens\": ", "generation_config.json:1: not valid JSON"},
		{"[2048]", "generation_config.json: expected a JSON object at the top"},
	};

	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "qwen3-1.7b-base", &m, &err), 0);
	CU_ASSERT_EQUAL(m.default_max_tokens, 2048);
	CU_ASSERT_EQUAL(m.swa_layers, 0);
	/* The file named instead of its directory finds it too. */
	CU_ASSERT_EQUAL_FATAL(llm_lookup(MODELS "qwen3-1.7b-base/config.json", &m, &err), 0);
	CU_ASSERT_EQUAL(m.default_max_tokens, 2048);

	CU_ASSERT_EQUAL_FATAL(tu_mkdir("gen", dir, sizeof dir), 0);
	CU_ASSERT_EQUAL_FATAL(tu_write("gen/config.json",
				       "{\"hidden_size\": 64, \"num_hidden_layers\": 4, \"num_attention_heads\": 4,"
				       "\"intermediate_size\": 128, \"vocab_size\": 100}", NULL, 0), 0);
	/* max_length alone is not what vLLM reads; null is none. */
	CU_ASSERT_EQUAL_FATAL(tu_write("gen/generation_config.json", "{\"max_length\": 4096, \"temperature\": 0.6}",
				       NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(dir, &m, &err), 0);
	CU_ASSERT_EQUAL(m.default_max_tokens, -1);
	CU_ASSERT_EQUAL_FATAL(tu_write("gen/generation_config.json", "{\"max_new_tokens\": null}", NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(dir, &m, &err), 0);
	CU_ASSERT_EQUAL(m.default_max_tokens, -1);
	CU_ASSERT_EQUAL_FATAL(tu_write("gen/generation_config.json", "{\"max_new_tokens\": 32768}", NULL, 0), 0);
	snprintf(path, sizeof path, "%s/config.json", dir);
	CU_ASSERT_EQUAL_FATAL(llm_lookup(path, &m, &err), 0);
	CU_ASSERT_EQUAL(m.default_max_tokens, 32768);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CU_ASSERT_EQUAL_FATAL(tu_write("gen/generation_config.json", bad[i].text, NULL, 0), 0);
		CU_ASSERT_EQUAL(llm_lookup(dir, &m, &err), -1);
		CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "gen/generation_config.json"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].want));
		if (!strstr(err.msg, bad[i].want))
			fprintf(stderr, "case %zu: %s\n", i, err.msg);
	}
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("llm", NULL, NULL);
	if (!s || !CU_add_test(s, "llama-3-70b sizes", test_llama3_70b) ||
	    !CU_add_test(s, "hybrid and MoE", test_hybrid_and_moe) ||
	    !CU_add_test(s, "deepseek MLA", test_deepseek_mla) ||
	    !CU_add_test(s, "qwen3.6 and catalog", test_qwen36_and_catalog) ||
	    !CU_add_test(s, "config.json import", test_config_json) ||
	    !CU_add_test(s, "names refuse control characters", test_name_controls) ||
	    !CU_add_test(s, "sliding-window layers", test_sliding_window) ||
	    !CU_add_test(s, "sliding-window errors", test_sliding_window_errors) ||
	    !CU_add_test(s, "generation_config.json", test_generation_config))
		return -1;
	return 0;
}
