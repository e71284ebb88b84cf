/*
 * llm.c - LLM catalog, config.json import and parameter counting.
 *
 * Catalog entries hold only architecture fields copied from each model's Hugging
 * Face config.json; every parameter count is derived by llm_finish(), which
 * reproduces the published Qwen3-Next total exactly (79,674,391,296; see
 * tests/unit/test_llm.c).
 */
#include "models/llm.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/escape.h"

static llm_spec catalog[] = {
	{ /* meta-llama/Llama-2-70b-hf config.json */
		.name = "llama-2-70b", .hidden = 8192, .layers = 80, .heads = 64, .kv_heads = 8,
		.head_dim = 128, .intermediate = 28672, .vocab = 32000, .max_position = 4096,
	},
	{ /* meta-llama/Llama-3.1-8B */
		.name = "llama-3.1-8b", .hidden = 4096, .layers = 32, .heads = 32, .kv_heads = 8,
		.head_dim = 128, .intermediate = 14336, .vocab = 128256, .max_position = 131072,
	},
	{ /* meta-llama/Meta-Llama-3-70B (3.1 / 3.3: same shapes, 128K context) */
		.name = "llama-3-70b", .hidden = 8192, .layers = 80, .heads = 64, .kv_heads = 8,
		.head_dim = 128, .intermediate = 28672, .vocab = 128256, .max_position = 131072,
	},
	{ /* Qwen/Qwen3-32B */
		.name = "qwen3-32b", .qk_norm = 1, .hidden = 5120, .layers = 64, .heads = 64, .kv_heads = 8,
		.head_dim = 128, .intermediate = 25600, .vocab = 151936, .max_position = 40960,
	},
	{ /* Qwen/Qwen3-235B-A22B: every layer MoE, 128 experts, top-8, no shared expert */
		.name = "qwen3-235b-a22b", .qk_norm = 1, .hidden = 4096, .layers = 94, .heads = 64, .kv_heads = 4,
		.head_dim = 128, .intermediate = 12288, .vocab = 151936, .max_position = 40960,
		.n_experts = 128, .experts_per_tok = 8, .moe_intermediate = 1536,
	},
	{ /* Qwen/Qwen3-Next-80B-A3B-Instruct: full_attention_interval 4 -> 12 of 48 layers
	   * full (gated) attention, 36 Gated DeltaNet; 512 experts top-10 + 1 gated shared */
		.name = "qwen3-next-80b-a3b", .qk_norm = 1, .hidden = 2048, .layers = 48, .heads = 16, .kv_heads = 2,
		.head_dim = 256, .intermediate = 5120, .vocab = 151936, .max_position = 262144,
		.attn_output_gate = 1, .n_experts = 512, .experts_per_tok = 10, .moe_intermediate = 512,
		.n_shared_experts = 1, .shared_intermediate = 512, .shared_expert_gate = 1,
		.full_attn_layers = 12, .lin_k_heads = 16, .lin_v_heads = 32, .lin_k_dim = 128,
		.lin_v_dim = 128, .lin_conv_kernel = 4,
	},
	{ /* deepseek-ai/DeepSeek-V3: MLA, first 3 layers dense, 256 routed top-8 + 1 shared
	   * (the multi-token-prediction layer is not served by default and not counted) */
		.name = "deepseek-v3", .hidden = 7168, .layers = 61, .heads = 128, .kv_heads = 128,
		.head_dim = 192, .intermediate = 18432, .vocab = 129280, .max_position = 163840,
		.n_experts = 256, .experts_per_tok = 8, .moe_intermediate = 2048, .n_shared_experts = 1,
		.first_dense_layers = 3, .kv_lora_rank = 512, .qk_rope_head_dim = 64,
		.qk_nope_head_dim = 128, .v_head_dim = 128, .q_lora_rank = 1536,
	},
	{ /* Qwen3.6-27B = Qwen3.5-27B architecture (SPEC section 3): every 4th layer full
	   * gated attention, the rest Gated DeltaNet (16 key / 48 value heads of dim 128,
	   * conv 4, mamba_ssm_dtype float32), dense FFN 17408, untied 248K vocab */
		.name = "qwen3.6-27b", .qk_norm = 1, .hidden = 5120, .layers = 64, .heads = 24, .kv_heads = 4,
		.head_dim = 256, .intermediate = 17408, .vocab = 248320, .max_position = 262144,
		.attn_output_gate = 1, .full_attn_layers = 16, .lin_k_heads = 16, .lin_v_heads = 48,
		.lin_k_dim = 128, .lin_v_dim = 128, .lin_conv_kernel = 4, .ssm_state_fp32 = 1,
	},
	{ /* bigscience/bloom: MHA, 4h GELU FFN, biases everywhere, tied embeddings, ALiBi */
		.name = "bloom-176b", .hidden = 14336, .layers = 70, .heads = 112, .kv_heads = 112,
		.head_dim = 128, .intermediate = 57344, .vocab = 250880, .max_position = 2048,
		.tied_embeddings = 1, .ffn_plain = 1, .linear_bias = 1,
	},
	{ /* openai/gpt-oss-120b config.json (= transformers GptOssConfig defaults,
	   * transformers@02b8f42b models/gpt_oss/configuration_gpt_oss.py): 36 layers,
	   * layer_types alternate sliding_attention (even i, window 128) and
	   * full_attention; 128 experts top-4 of width 2880 (MXFP4 in the checkpoint);
	   * untied 201,088 vocab.  Not counted: the q/k/v/o, expert and router biases and
	   * the attention sinks (~40 M, 0.03 %). */
		.name = "gpt-oss-120b", .hidden = 2880, .layers = 36, .heads = 64, .kv_heads = 8,
		.head_dim = 64, .intermediate = 2880, .vocab = 201088, .max_position = 131072,
		.n_experts = 128, .experts_per_tok = 4, .moe_intermediate = 2880,
		.full_attn_layers = 18, .swa_layers = 18, .sliding_window = 128,
	},
	{ /* openai/gpt-oss-20b config.json: as gpt-oss-120b with 24 layers and 32 experts
	   * (num_local_experts 32, experts_per_token 4; repo snapshot
	   * EchoCog/gpt-oss-20b docs/gpt-oss-20b-architecture.md) */
		.name = "gpt-oss-20b", .hidden = 2880, .layers = 24, .heads = 64, .kv_heads = 8,
		.head_dim = 64, .intermediate = 2880, .vocab = 201088, .max_position = 131072,
		.n_experts = 32, .experts_per_tok = 4, .moe_intermediate = 2880,
		.full_attn_layers = 12, .swa_layers = 12, .sliding_window = 128,
	},
	{ /* google/gemma-3-27b-it config.json text_config: hidden 5376, 62 layers, 32
	   * heads / 16 KV heads of 128, GeGLU 21504, sliding_window 1024; the rest are
	   * Gemma3TextConfig defaults (vocab 262,208, 131,072 positions, tied embeddings,
	   * sliding_window_pattern 6: layer i is full when (i + 1) % 6 == 0, so 10 full
	   * and 52 sliding).  Text model only (the SigLIP vision tower is not counted);
	   * 2 of its 4 RMSNorms per layer counted. */
		.name = "gemma-3-27b", .qk_norm = 1, .hidden = 5376, .layers = 62, .heads = 32,
		.kv_heads = 16, .head_dim = 128, .intermediate = 21504, .vocab = 262208,
		.max_position = 131072, .tied_embeddings = 1,
		.full_attn_layers = 10, .swa_layers = 52, .sliding_window = 1024,
	},
};

#define NCATALOG ((int)(sizeof catalog / sizeof catalog[0]))

static const struct {
	const char *alias, *name;
} aliases[] = {
	{"llama2-70b", "llama-2-70b"}, {"llama-2-70b-hf", "llama-2-70b"},
	{"llama-3-8b", "llama-3.1-8b"}, {"llama3.1-8b", "llama-3.1-8b"},
	{"llama3-70b", "llama-3-70b"}, {"llama-3.1-70b", "llama-3-70b"},
	{"llama-3.3-70b", "llama-3-70b"}, {"llama3.1-70b", "llama-3-70b"},
	{"llama3.3-70b", "llama-3-70b"},
	{"qwen3-235b", "qwen3-235b-a22b"}, {"qwen3-next", "qwen3-next-80b-a3b"},
	{"qwen3-next-80b", "qwen3-next-80b-a3b"}, {"deepseek-r1", "deepseek-v3"},
	{"qwen3.5-27b", "qwen3.6-27b"}, {"bloom", "bloom-176b"},
	{"gpt-oss", "gpt-oss-120b"}, {"gpt-oss-120", "gpt-oss-120b"}, {"gpt-oss-20", "gpt-oss-20b"},
	{"gemma-3-27b-it", "gemma-3-27b"}, {"gemma3-27b", "gemma-3-27b"},
};

static int catalog_ready;

static void ensure_catalog(void)
{
	/* The catalog is derived once; llm_finish cannot fail on these entries
	 * (tests/unit/test_llm.c checks every one). */
	if (catalog_ready)
		return;
	for (int i = 0; i < NCATALOG; i++)
		llm_finish(&catalog[i], NULL);
	catalog_ready = 1;
}

int llm_catalog_count(void)
{
	return NCATALOG;
}

const llm_spec *llm_catalog_get(int i)
{
	ensure_catalog();
	return i >= 0 && i < NCATALOG ? &catalog[i] : NULL;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

int llm_lookup(const char *name, llm_spec *out, fs_err *err)
{
	const char *key = name;
	struct stat st;

	if (!name || !*name)
		return fs_fail(err, FS_EXIT_INPUT, "empty model name");
	if (strchr(name, '/') || ends_with(name, ".json") ||
	    (stat(name, &st) == 0 && S_ISDIR(st.st_mode)))
		return llm_load_config_json(name, out, err);
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (!strcasecmp(name, aliases[i].alias))
			key = aliases[i].name;
	ensure_catalog();
	for (int i = 0; i < NCATALOG; i++)
		if (!strcasecmp(key, catalog[i].name)) {
			*out = catalog[i];
			return 0;
		}
	return fs_fail(err, FS_EXIT_INPUT,
		       "unknown model '%s' (known: llama-2-70b, llama-3.1-8b, llama-3-70b, qwen3-32b, "
		       "qwen3-235b-a22b, qwen3-next-80b-a3b, deepseek-v3, qwen3.6-27b, bloom-176b, "
		       "gpt-oss-120b, gpt-oss-20b, gemma-3-27b, or a config.json path)", name);
}

static int is_moe_layer(const llm_spec *m, int64_t i)
{
	return m->n_experts > 0 && i >= m->first_dense_layers;
}

/* The architecture fields are consistent (and defaults filled: KV heads, head_dim,
 * full-attention layers, conv kernel, shared expert size, MLA head dims).  Returns 0 or
 * -1 with the field at fault. */
static int check_fields(llm_spec *m, fs_err *err)
{
	int64_t nlin;

	if (m->hidden <= 0 || m->layers <= 0 || m->heads <= 0 || m->vocab <= 0)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: hidden_size, num_hidden_layers, num_attention_heads and vocab_size must be > 0",
			       m->name);
	if (m->kv_heads <= 0)
		m->kv_heads = m->heads;
	if (m->head_dim <= 0) {
		if (m->hidden % m->heads)
			return fs_fail(err, FS_EXIT_INPUT, "%s: hidden_size %lld not divisible by %lld heads",
				       m->name, (long long)m->hidden, (long long)m->heads);
		m->head_dim = m->hidden / m->heads;
	}
	if (m->kv_lora_rank <= 0 && m->heads % m->kv_heads)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld attention heads not divisible by %lld KV heads",
			       m->name, (long long)m->heads, (long long)m->kv_heads);
	if (m->swa_layers < 0 || m->sliding_window < 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: negative sliding-window layers or window", m->name);
	if (m->swa_layers > 0 && m->sliding_window <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld sliding-window layers but no sliding_window",
			       m->name, (long long)m->swa_layers);
	if (m->swa_layers == 0)
		m->sliding_window = 0;
	if (m->swa_layers > m->layers)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld sliding-window layers but only %lld layers",
			       m->name, (long long)m->swa_layers, (long long)m->layers);
	/* 0: the layers that do not slide -- unless the model also has linear-attention
	 * layers, whose count only full_attn_layers can tell (then 0 stays 0). */
	if (m->full_attn_layers <= 0)
		m->full_attn_layers = m->swa_layers > 0 && m->lin_k_heads > 0 ? 0 : m->layers - m->swa_layers;
	if (m->full_attn_layers + m->swa_layers > m->layers)
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: %lld full-attention + %lld sliding-window layers but only %lld layers",
			       m->name, (long long)m->full_attn_layers, (long long)m->swa_layers,
			       (long long)m->layers);
	if (m->default_max_tokens == 0)
		m->default_max_tokens = -1;
	if (m->default_max_tokens < -1)
		return fs_fail(err, FS_EXIT_INPUT, "%s: default_max_tokens %d is negative", m->name,
			       (int)m->default_max_tokens);
	nlin = m->layers - m->full_attn_layers - m->swa_layers;
	if (nlin > 0 && (m->lin_k_heads <= 0 || m->lin_v_heads <= 0 || m->lin_k_dim <= 0 ||
			 m->lin_v_dim <= 0))
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: %lld linear-attention layers but linear_num_key_heads/linear_num_value_heads/"
			       "linear_key_head_dim/linear_value_head_dim are not all > 0",
			       m->name, (long long)nlin);
	if (m->lin_conv_kernel <= 0)
		m->lin_conv_kernel = 4;
	if (m->n_experts < 0 || m->experts_per_tok < 0 || m->experts_per_tok > m->n_experts)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld experts per token but %lld experts",
			       m->name, (long long)m->experts_per_tok, (long long)m->n_experts);
	if (m->n_experts > 0 && (m->moe_intermediate <= 0 || m->experts_per_tok <= 0))
		return fs_fail(err, FS_EXIT_INPUT,
			       "%s: MoE model needs moe_intermediate_size and num_experts_per_tok > 0", m->name);
	if (m->first_dense_layers < 0 || m->first_dense_layers > m->layers)
		return fs_fail(err, FS_EXIT_INPUT, "%s: first_k_dense_replace out of range", m->name);
	if ((m->n_experts == 0 || m->first_dense_layers > 0) && m->intermediate <= 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: intermediate_size must be > 0", m->name);
	if (m->shared_intermediate <= 0)
		m->shared_intermediate = m->moe_intermediate;
	if (m->kv_lora_rank > 0) {
		if (m->qk_rope_head_dim <= 0 || m->qk_nope_head_dim <= 0 || m->v_head_dim <= 0)
			return fs_fail(err, FS_EXIT_INPUT,
				       "%s: MLA needs qk_rope_head_dim, qk_nope_head_dim and v_head_dim > 0", m->name);
		m->head_dim = m->qk_nope_head_dim + m->qk_rope_head_dim;
		m->kv_heads = m->heads;
	}
	return 0;
}

/* Linear and BF16 parameters of the full-attention layers, added to *lin and *bf. */
static void count_attention(const llm_spec *m, double h, double *lin, double *bf)
{
	{
		double a_lin, a_bf = 0;

		if (m->kv_lora_rank > 0) {
			double qk = (double)(m->qk_nope_head_dim + m->qk_rope_head_dim);

			if (m->q_lora_rank > 0) {
				a_lin = h * m->q_lora_rank + (double)m->q_lora_rank * m->heads * qk;
				a_bf += (double)m->q_lora_rank; /* q_a_layernorm */
			} else {
				a_lin = h * m->heads * qk;
			}
			a_lin += h * (double)(m->kv_lora_rank + m->qk_rope_head_dim);          /* kv_a */
			a_lin += (double)m->kv_lora_rank * m->heads *
				 (double)(m->qk_nope_head_dim + m->v_head_dim);                  /* kv_b */
			a_lin += (double)m->heads * m->v_head_dim * h;                          /* o */
			a_bf += (double)m->kv_lora_rank;                                        /* kv_a_layernorm */
		} else {
			double q = (double)m->heads * m->head_dim, kv = (double)m->kv_heads * m->head_dim;

			a_lin = h * q * (m->attn_output_gate ? 2 : 1) + 2 * h * kv + q * h;
			if (m->qk_norm)
				a_bf += 2.0 * (double)m->head_dim;
			if (m->linear_bias)
				a_bf += q + 2 * kv + h;
		}
		/* Sliding-window layers have the same projections as full ones. */
		*lin += a_lin * (double)(m->full_attn_layers + m->swa_layers);
		*bf += a_bf * (double)(m->full_attn_layers + m->swa_layers);
	}
}

/* ... of the Gated DeltaNet layers: in_proj_qkvz, in_proj_ba, out_proj are linear; the
 * depthwise conv, A_log, dt_bias and the gated RMSNorm stay BF16. */
static void count_linear_attention(const llm_spec *m, double h, double *lin, double *bf)
{
	int64_t nlin = m->layers - m->full_attn_layers - m->swa_layers;

	if (nlin > 0) {
		double kd = (double)m->lin_k_heads * m->lin_k_dim, vd = (double)m->lin_v_heads * m->lin_v_dim;
		double l_lin = h * (2 * kd + 2 * vd) + h * 2 * m->lin_v_heads + vd * h;
		double l_bf = (2 * kd + vd) * m->lin_conv_kernel + 2 * m->lin_v_heads + m->lin_v_dim;

		*lin += l_lin * nlin;
		*bf += l_bf * nlin;
	}
}

/* ... of the FFN / MoE blocks: *lin counts every expert, *lin_act the routed top-k. */
static void count_ffn(const llm_spec *m, double h, double *lin, double *lin_act, double *bf)
{
	for (int64_t i = 0; i < m->layers; i++) {
		if (is_moe_layer(m, i)) {
			double expert = 3 * h * m->moe_intermediate;
			double shared = 3 * h * m->shared_intermediate * m->n_shared_experts;

			*lin += expert * m->n_experts + shared;
			*lin_act += expert * m->experts_per_tok + shared;
			*bf += h * m->n_experts; /* router */
			if (m->shared_expert_gate && m->n_shared_experts > 0)
				*bf += h;
		} else {
			double f = (m->ffn_plain ? 2 : 3) * h * m->intermediate;

			*lin += f;
			*lin_act += f;
			if (m->linear_bias)
				*bf += (double)m->intermediate + h;
		}
	}
}

int llm_finish(llm_spec *m, fs_err *err)
{
	double lin = 0, lin_act = 0, bf = 0, h;
	int64_t nlin;

	if (check_fields(m, err))
		return -1;
	nlin = m->layers - m->full_attn_layers - m->swa_layers;
	h = (double)m->hidden;
	count_attention(m, h, &lin, &bf);
	count_linear_attention(m, h, &lin, &bf);
	lin_act = lin;
	count_ffn(m, h, &lin, &lin_act, &bf);
	/* Norms: two per layer (LayerNorm with bias doubles), the final one, and BLOOM's
	 * embedding LayerNorm. */
	bf += (double)m->layers * 2 * h * (m->linear_bias ? 2 : 1) + h * (m->linear_bias ? 2 : 1);
	if (m->linear_bias)
		bf += 2 * h;
	m->params_embed = (double)m->vocab * h;
	bf += m->params_embed * (m->tied_embeddings ? 1 : 2);

	m->params_linear = lin;
	m->params_linear_active = lin_act;
	m->params_bf16 = bf;
	m->params_total = lin + bf;
	m->params_active = lin_act + bf;

	/* Per-sequence state of the linear-attention layers: the recurrent state
	 * (v_heads x k_dim x v_dim) and the conv window (kernel - 1 past inputs of the
	 * q, k and v channels). */
	m->state_bytes_per_seq = 0;
	if (nlin > 0) {
		double kd = (double)m->lin_k_heads * m->lin_k_dim, vd = (double)m->lin_v_heads * m->lin_v_dim;
		double rec = (double)m->lin_v_heads * m->lin_k_dim * m->lin_v_dim * (m->ssm_state_fp32 ? 4 : 2);
		double conv = (2 * kd + vd) * (double)(m->lin_conv_kernel - 1) * 2;

		m->state_bytes_per_seq = (rec + conv) * nlin;
	}
	return 0;
}

/* KV bytes per token of `layers` attention layers, whole model or (tp > 0) one shard. */
static double kv_bytes(const llm_spec *m, prec_t kv, int64_t layers, int tp)
{
	double b = prec_kv_bytes(kv);
	int64_t per = m->kv_heads;

	if (m->kv_lora_rank > 0)
		return (double)(m->kv_lora_rank + m->qk_rope_head_dim) * (double)layers * b;
	if (tp > 0)
		per = (m->kv_heads + tp - 1) / tp;
	return 2.0 * (double)layers * (double)per * (double)m->head_dim * b;
}

double llm_kv_bytes_per_token(const llm_spec *m, prec_t kv)
{
	return kv_bytes(m, kv, m->full_attn_layers, 0);
}

double llm_kv_bytes_per_token_gpu(const llm_spec *m, prec_t kv, int tp)
{
	return kv_bytes(m, kv, m->full_attn_layers, tp < 1 ? 1 : tp);
}

double llm_swa_kv_bytes_per_token(const llm_spec *m, prec_t kv)
{
	return kv_bytes(m, kv, m->swa_layers, 0);
}

double llm_swa_kv_bytes_per_token_gpu(const llm_spec *m, prec_t kv, int tp)
{
	return kv_bytes(m, kv, m->swa_layers, tp < 1 ? 1 : tp);
}

double llm_weight_bytes(const llm_spec *m, prec_t weights)
{
	return m->params_linear * prec_weight_bytes(weights) + m->params_bf16 * 2.0;
}

/* ---- config.json import ---- */

#define CFG_MAX_BYTES (16u << 20)

static int read_file(const char *path, char **buf, size_t *len, fs_err *err)
{
	struct stat st;
	FILE *f;
	size_t n;

	if (stat(path, &st) != 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fs_fail(err, FS_EXIT_INPUT, "%s: not a regular file", path);
	if ((unsigned long long)st.st_size > CFG_MAX_BYTES)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %lld bytes, too large for a config.json", path,
			       (long long)st.st_size);
	if (!(f = fopen(path, "rb")))
		return fs_fail(err, FS_EXIT_INPUT, "%s: cannot open: %s", path, strerror(errno));
	*buf = malloc((size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		return fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", path);
	}
	n = fread(*buf, 1, (size_t)st.st_size, f);
	fclose(f);
	(*buf)[n] = '\0';
	*len = n;
	return 0;
}

/* Integer field: absent -> *out untouched (returns 0); present but not a
 * non-negative integer -> error naming the key.  null counts as absent (DeepSeek
 * writes "q_lora_rank": null for V2-Lite). */
static int get_int(const char *path, const cJSON *o, const char *key, int64_t *out, fs_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return fs_fail(err, FS_EXIT_INPUT, "%s: '%s' must be a number", path, key);
	d = v->valuedouble;
	if (d < 0 || d > 1e15 || d != (double)(int64_t)d)
		return fs_fail(err, FS_EXIT_INPUT, "%s: '%s' must be a non-negative integer, got %g", path,
			       key, d);
	*out = (int64_t)d;
	return 0;
}

static int get_bool(const char *path, const cJSON *o, const char *key, int *out, fs_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return fs_fail(err, FS_EXIT_INPUT, "%s: '%s' must be true or false", path, key);
	*out = cJSON_IsTrue(v);
	return 0;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Line number of byte offset off in buf, for parse errors. */
static int line_of(const char *buf, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && buf[i]; i++)
		line += buf[i] == '\n';
	return line;
}

/* What config.json leaves out and the model's transformers config class fills in:
 * the window and the every-Nth-layer-is-full pattern (0 = none).
 * - gemma3_text: Gemma3TextConfig, sliding_window 4096, sliding_window_pattern 6
 *   (transformers@008f5c8c src/transformers/models/gemma3/configuration_gemma3.py;
 *   newer versions turn the pattern into layer_types, "sliding_attention" if
 *   (i + 1) % pattern else "full_attention").
 * - gemma2: Gemma2Config sliding_window 4096; vLLM sets sliding_window_pattern = 2
 *   for it (vllm/config.py ModelConfig.__init__, "Workaround for Gemma 2").
 * - gpt_oss: GptOssConfig sliding_window 128, layer_types "sliding_attention" if
 *   (i + 1) % 2 (transformers@02b8f42b models/gpt_oss/configuration_gpt_oss.py). */
static const struct {
	const char *model_type;
	int64_t window, pattern;
} swa_defaults[] = {
	{"gemma3_text", 4096, 6}, {"gemma3", 4096, 6}, {"gemma2", 4096, 2}, {"gpt_oss", 128, 2},
};

/* Positive integer field (absent or null -> *out untouched, *present 0). */
static int get_pos_int(const char *path, const cJSON *o, const char *key, int64_t *out, int *present,
		       fs_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	*present = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return fs_fail(err, FS_EXIT_INPUT, "%s: '%s' must be a positive integer", path, key);
	d = v->valuedouble;
	if (!(d >= 1 && d <= 1e15) || d != (double)(int64_t)d)
		return fs_fail(err, FS_EXIT_INPUT, "%s: '%s' must be a positive integer, got %g", path, key, d);
	*out = (int64_t)d;
	*present = 1;
	return 0;
}

/* The sliding window vLLM runs with, in tokens (0 = none), as ModelConfig.
 * get_sliding_window() reads it: hf_text_config.sliding_window
 * (vllm@0052a5b8 vllm/config/model.py), which transformers' Qwen2/Qwen3 config
 * classes set to None unless use_sliding_window is true
 * (transformers@008e5743 models/qwen2/configuration_qwen2.py __post_init__; older
 * vLLM tested use_sliding_window itself in get_hf_config_sliding_window).  Their
 * use_sliding_window defaults to false; every other config class has no such flag. */
static int sliding_window_of(const char *path, const cJSON *c, const char *mt, int64_t *window,
			     int64_t *pattern, fs_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "sliding_window");
	int present = 0, use = -1;

	*window = 0;
	*pattern = 0;
	for (size_t i = 0; i < sizeof swa_defaults / sizeof swa_defaults[0]; i++)
		if (!strcmp(mt, swa_defaults[i].model_type)) {
			if (!v) /* absent: the class default; an explicit null means none */
				*window = swa_defaults[i].window;
			*pattern = swa_defaults[i].pattern;
		}
	if (v && !cJSON_IsNull(v) && (!cJSON_IsNumber(v) || v->valuedouble <= 0))
		return cJSON_IsNumber(v)
			       ? fs_fail(err, FS_EXIT_INPUT,
					 "%s: 'sliding_window' must be a positive number of tokens, got %g", path,
					 v->valuedouble)
			       : fs_fail(err, FS_EXIT_INPUT,
					 "%s: 'sliding_window' must be a positive integer number of tokens or null",
					 path);
	if (get_pos_int(path, c, "sliding_window", window, &present, err) ||
	    get_pos_int(path, c, "sliding_window_pattern", pattern, &present, err) ||
	    get_bool(path, c, "use_sliding_window", &use, err))
		return -1;
	if (use < 0)
		use = strncmp(mt, "qwen", 4) ? 1 : 0;
	if (!use)
		*window = 0;
	return 0;
}

/* Which layers keep per-token KV: m->full_attn_layers (global attention) and
 * m->swa_layers (the last sliding_window tokens only); the rest are linear
 * attention / Mamba.  In order:
 * 1. layer_types: "linear_attention" / "mamba" keep a state, "sliding_attention"
 *    slides when there is a window (vLLM passes config.sliding_window only to the
 *    layers layer_types marks sliding: gpt-oss, Gemma-3, Qwen2/3 in transformers
 *    >= 4.53), anything else is full;
 * 2. full_attention_interval (Qwen3-Next): every interval-th layer is full;
 * 3. with a window: sliding_window_pattern N (Gemma-3, Gemma-2 via vLLM's pattern 2):
 *    layer i is full when (i + 1) % N == 0, the others slide;
 *    use_sliding_window (Qwen2): layers i >= max_window_layers (default 28) slide;
 *    otherwise every layer slides (Mistral-7B-v0.1: vLLM's Attention falls back
 *    to the model-level cache_config.sliding_window when the model passes no
 *    per-layer window, vllm/attention/layer.py Attention.__init__).
 * Returns 0 or -1 for malformed input, naming the file. */
static int count_kv_layers(const char *path, const cJSON *c, const char *mt, int64_t interval, llm_spec *m,
			   fs_err *err)
{
	const cJSON *lt = cJSON_GetObjectItemCaseSensitive(c, "layer_types");
	int64_t window, pattern, full = m->layers, swa = 0, mwl = 28;

	if (sliding_window_of(path, c, mt, &window, &pattern, err))
		return -1;
	if (lt && !cJSON_IsNull(lt)) {
		const cJSON *e;
		int64_t n = 0;

		if (!cJSON_IsArray(lt))
			return fs_fail(err, FS_EXIT_INPUT, "%s: 'layer_types' must be an array of strings", path);
		full = 0;
		cJSON_ArrayForEach(e, lt) {
			if (!cJSON_IsString(e))
				return fs_fail(err, FS_EXIT_INPUT, "%s: 'layer_types' must be an array of strings",
					       path);
			n++;
			if (!strcmp(e->valuestring, "linear_attention") || !strcmp(e->valuestring, "mamba"))
				continue;
			if (window > 0 && !strcmp(e->valuestring, "sliding_attention"))
				swa++;
			else
				full++;
		}
		if (n != m->layers)
			return fs_fail(err, FS_EXIT_INPUT,
				       "%s: 'layer_types' has %lld entries but num_hidden_layers is %lld", path,
				       (long long)n, (long long)m->layers);
	} else if (interval > 0) {
		full = m->layers / interval;
	} else if (window > 0) {
		if (pattern > 0) {
			full = m->layers / pattern;
		} else if (cJSON_GetObjectItemCaseSensitive(c, "use_sliding_window")) {
			if (get_int(path, c, "max_window_layers", &mwl, err))
				return -1;
			full = mwl < m->layers ? mwl : m->layers;
		} else {
			full = 0;
		}
		swa = m->layers - full;
	}
	m->full_attn_layers = full;
	m->swa_layers = swa;
	m->sliding_window = swa > 0 ? window : 0;
	return 0;
}

/* m->name: the config's _name_or_path, else the file's path; the tail of a long one
 * (it carries the model's directory name). */
static int set_name(const char *path, const cJSON *root, llm_spec *m, fs_err *err)
{
	const char *nm = get_str(root, "_name_or_path");
	const char *src = nm && *nm ? nm : path;
	size_t n = strlen(src);

	/* The name reaches terminals, reports and manifests: no control characters. */
	if (esc_has_ctrl(src))
		return fs_fail(err, FS_EXIT_INPUT, "%s: %s contains a control character; names may not", path,
			       src == nm ? "'_name_or_path'" : "the path");
	if (n >= sizeof m->name)
		src += n - (sizeof m->name - 1);
	memcpy(m->name, src, strlen(src) + 1);
	return 0;
}

static int parse_config(const char *path, const cJSON *root, llm_spec *m, fs_err *err)
{
	const cJSON *c = root, *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
	const cJSON *lt;
	const char *mt;
	int64_t interval = 0, n_routed = 0, n_exp = 0, n_local = 0, shared_inter = 0, mlp_only = 0;
	int tied = 1, gate = -1;

	if (cJSON_IsObject(tc))
		c = tc;
	mt = get_str(c, "model_type");
	if (!mt)
		mt = get_str(root, "model_type");
	if (!mt)
		mt = "";
	/* HF default for tie_word_embeddings is true; multimodal wrappers put it at top. */
	if (get_bool(path, root, "tie_word_embeddings", &tied, err) ||
	    get_bool(path, c, "tie_word_embeddings", &tied, err))
		return -1;
	m->tied_embeddings = tied;
	if (get_int(path, c, "hidden_size", &m->hidden, err) ||
	    get_int(path, c, "n_embed", &m->hidden, err) ||
	    get_int(path, c, "num_hidden_layers", &m->layers, err) ||
	    get_int(path, c, "n_layer", &m->layers, err) ||
	    get_int(path, c, "num_attention_heads", &m->heads, err) ||
	    get_int(path, c, "n_head", &m->heads, err) ||
	    get_int(path, c, "num_key_value_heads", &m->kv_heads, err) ||
	    get_int(path, c, "head_dim", &m->head_dim, err) ||
	    get_int(path, c, "intermediate_size", &m->intermediate, err) ||
	    get_int(path, c, "vocab_size", &m->vocab, err) ||
	    get_int(path, c, "max_position_embeddings", &m->max_position, err) ||
	    get_int(path, c, "num_experts", &n_exp, err) ||
	    get_int(path, c, "n_routed_experts", &n_routed, err) ||
	    get_int(path, c, "num_local_experts", &n_local, err) ||
	    get_int(path, c, "num_experts_per_tok", &m->experts_per_tok, err) ||
	    get_int(path, c, "moe_intermediate_size", &m->moe_intermediate, err) ||
	    get_int(path, c, "n_shared_experts", &m->n_shared_experts, err) ||
	    get_int(path, c, "shared_expert_intermediate_size", &shared_inter, err) ||
	    get_int(path, c, "first_k_dense_replace", &m->first_dense_layers, err) ||
	    get_int(path, c, "full_attention_interval", &interval, err) ||
	    get_int(path, c, "kv_lora_rank", &m->kv_lora_rank, err) ||
	    get_int(path, c, "q_lora_rank", &m->q_lora_rank, err) ||
	    get_int(path, c, "qk_rope_head_dim", &m->qk_rope_head_dim, err) ||
	    get_int(path, c, "qk_nope_head_dim", &m->qk_nope_head_dim, err) ||
	    get_int(path, c, "v_head_dim", &m->v_head_dim, err) ||
	    get_int(path, c, "linear_num_key_heads", &m->lin_k_heads, err) ||
	    get_int(path, c, "linear_num_value_heads", &m->lin_v_heads, err) ||
	    get_int(path, c, "linear_key_head_dim", &m->lin_k_dim, err) ||
	    get_int(path, c, "linear_value_head_dim", &m->lin_v_dim, err) ||
	    get_int(path, c, "linear_conv_kernel_dim", &m->lin_conv_kernel, err) ||
	    get_bool(path, c, "attn_output_gate", &gate, err))
		return -1;
	if (!strcmp(mt, "gemma3_text") || !strcmp(mt, "gemma3")) {
		/* Gemma3TextConfig defaults that google/gemma-3-*-it's text_config leaves
		 * out (transformers@008f5c8c configuration_gemma3.py). */
		if (m->vocab == 0)
			m->vocab = 262208;
		if (m->max_position == 0)
			m->max_position = 131072;
		if (m->head_dim == 0)
			m->head_dim = 256;
		if (m->kv_heads == 0)
			m->kv_heads = 4;
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "hidden_size") && !cJSON_GetObjectItemCaseSensitive(c, "n_embed"))
		return fs_fail(err, FS_EXIT_INPUT, "%s: missing 'hidden_size'", path);
	if (m->layers == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: missing or zero 'num_hidden_layers'", path);
	if (m->heads == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: missing or zero 'num_attention_heads'", path);
	if (m->vocab == 0)
		return fs_fail(err, FS_EXIT_INPUT, "%s: missing or zero 'vocab_size'", path);
	if (!strcmp(mt, "bloom")) {
		m->ffn_plain = 1;
		m->linear_bias = 1;
		m->intermediate = 4 * m->hidden;
	}
	if (n_local > 0 && n_exp == 0)
		n_exp = n_local; /* Mixtral, gpt-oss: experts as wide as intermediate_size */
	if (n_routed > 0)
		n_exp = n_routed;
	if (n_exp > 0 && m->moe_intermediate == 0)
		m->moe_intermediate = m->intermediate;
	m->n_experts = n_exp;
	if (shared_inter > 0) {
		/* Qwen MoE: one shared expert of its own width behind a sigmoid gate. */
		m->n_shared_experts = 1;
		m->shared_intermediate = shared_inter;
		m->shared_expert_gate = 1;
	}
	if ((lt = cJSON_GetObjectItemCaseSensitive(c, "mlp_only_layers")) && cJSON_IsArray(lt))
		mlp_only = cJSON_GetArraySize(lt);
	if (mlp_only > 0 && m->first_dense_layers == 0)
		m->first_dense_layers = mlp_only; /* counted, not placed: same totals */
	if (gate < 0)
		gate = !strncmp(mt, "qwen3_next", 10) || !strncmp(mt, "qwen3_5", 7);
	m->attn_output_gate = gate;
	m->qk_norm = !strncmp(mt, "qwen3", 5) || !strncmp(mt, "gemma3", 6); /* q_norm, k_norm */
	{
		const cJSON *dt = cJSON_GetObjectItemCaseSensitive(c, "mamba_ssm_dtype");

		m->ssm_state_fp32 = cJSON_IsString(dt) && !strcmp(dt->valuestring, "float32");
	}
	if (count_kv_layers(path, c, mt, interval, m, err))
		return -1;
	return set_name(path, root, m, err);
}

/* Read and parse a JSON file whose top level must be an object: *root, or -1 with
 * "FILE[:LINE]: what is wrong". */
static int load_json(const char *file, cJSON **root, fs_err *err)
{
	char *buf = NULL;
	const char *at = NULL;
	size_t len = 0;

	*root = NULL;
	if (read_file(file, &buf, &len, err))
		return -1;
	/* The error position comes back through parse_end, not cJSON_GetErrorPtr(): that
	 * is one global, which another thread's parse (a sweep's worker) may overwrite. */
	*root = cJSON_ParseWithLengthOpts(buf, len, &at, 0);
	if (!*root) {
		size_t off = at && at >= buf && at <= buf + len ? (size_t)(at - buf) : 0;

		fs_fail(err, FS_EXIT_INPUT, "%s:%d: not valid JSON (near byte %zu)", file, line_of(buf, off),
			off);
		free(buf);
		return -1;
	}
	free(buf);
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return fs_fail(err, FS_EXIT_INPUT, "%s: expected a JSON object at the top", file);
	}
	return 0;
}

/* generation_config.json beside config.json: vLLM's default max_tokens.
 *
 * vLLM loads it with GenerationConfig.from_pretrained(model dir)
 * (vllm/transformers_utils/config.py try_get_generation_config) and keeps, of its
 * non-default values (to_diff_dict), only repetition_penalty, temperature, top_k,
 * top_p, min_p and max_new_tokens; max_new_tokens becomes the default max_tokens of
 * a request (vllm@0052a5b8 vllm/config/model.py ModelConfig.get_diff_sampling_param).
 * max_length is not among them, so it is not read here.  A missing file, or a null
 * max_new_tokens, leaves *out at -1.  (How the default applies to a request is a
 * serving-side matter: a ceiling on every request since vLLM PR #12242, only the
 * fallback for requests without max_tokens since PR #34063, vllm/entrypoints/utils.py
 * get_max_tokens.) */
static int load_generation_config(const char *dir, int32_t *out, fs_err *err)
{
	char file[4200];
	struct stat st;
	cJSON *root;
	const cJSON *v;
	int rc = 0;

	*out = -1;
	if (snprintf(file, sizeof file, "%s/generation_config.json", dir) >= (int)sizeof file)
		return fs_fail(err, FS_EXIT_INPUT, "%s: path too long", dir);
	if (stat(file, &st) != 0 && errno == ENOENT)
		return 0;
	if (load_json(file, &root, err))
		return -1;
	v = cJSON_GetObjectItemCaseSensitive(root, "max_new_tokens");
	if (v && !cJSON_IsNull(v)) {
		double d = cJSON_IsNumber(v) ? v->valuedouble : -1;

		if (!cJSON_IsNumber(v))
			rc = fs_fail(err, FS_EXIT_INPUT, "%s: 'max_new_tokens' must be a positive integer or null",
				     file);
		else if (!(d >= 1 && d <= 2147483647.0) || d != (double)(int64_t)d)
			rc = fs_fail(err, FS_EXIT_INPUT,
				     "%s: 'max_new_tokens' must be a positive integer (at most 2147483647), got %g",
				     file, d);
		else
			*out = (int32_t)d;
	}
	cJSON_Delete(root);
	return rc;
}

int llm_load_config_json(const char *path, llm_spec *out, fs_err *err)
{
	char file[4096], dir[4096];
	cJSON *root = NULL;
	llm_spec m;
	struct stat st;
	fs_err sub = {0};
	char *slash;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(file, sizeof file, "%s/config.json", path);
	else
		snprintf(file, sizeof file, "%s", path);
	/* The model's directory: where generation_config.json would be. */
	snprintf(dir, sizeof dir, "%s", file);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	if (load_json(file, &root, err))
		return -1;
	memset(&m, 0, sizeof m);
	if (parse_config(file, root, &m, err) || load_generation_config(dir, &m.default_max_tokens, err))
		goto fail;
	if (llm_finish(&m, &sub)) {
		fs_fail(err, FS_EXIT_INPUT, "%s: %s", file, sub.msg);
		goto fail;
	}
	cJSON_Delete(root);
	*out = m;
	return 0;
fail:
	cJSON_Delete(root);
	return -1;
}
