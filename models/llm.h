/*
 * llm.h - LLM architectures: built-in catalog and Hugging Face config.json import.
 *
 * Parameter counts are computed from the architecture (never typed in), split into
 * the parts that quantisation touches (linear layers) and those that stay BF16
 * (embeddings, lm_head, norms).
 *
 * Owns: the static catalog; an llm_spec is a plain value (no pointers).
 */
#ifndef FS_LLM_H
#define FS_LLM_H

#include <stdint.h>

#include "util/err.h"
#include "models/precision.h"

typedef struct llm_spec {
	char name[96];
	int64_t hidden;            /* hidden_size */
	int64_t layers;            /* num_hidden_layers */
	int64_t heads;             /* num_attention_heads */
	int64_t kv_heads;          /* num_key_value_heads */
	int64_t head_dim;          /* head_dim (hidden/heads if absent) */
	int64_t intermediate;      /* dense FFN intermediate_size */
	int64_t vocab;             /* vocab_size */
	int tied_embeddings;       /* tie_word_embeddings */
	int attn_output_gate;      /* Qwen3-Next / Qwen3.5 gated attention: q_proj doubles */
	int64_t max_position;      /* max_position_embeddings */
	/* MoE (0 experts = dense) */
	int64_t n_experts, experts_per_tok, moe_intermediate, n_shared_experts;
	int64_t shared_intermediate;   /* per shared expert, 0 = moe_intermediate */
	int64_t first_dense_layers;    /* DeepSeek first_k_dense_replace */
	/* Hybrid attention: full_attn_layers + swa_layers keep per-token KV (the sliding
	 * ones only for the last sliding_window tokens); the others (linear attention /
	 * Gated DeltaNet / Mamba) keep a fixed per-sequence state.  Always
	 *   full_attn_layers + swa_layers + (linear/mamba layers) == layers.
	 * A catalog entry or hand-built spec may leave full_attn_layers 0: llm_finish()
	 * then sets it to layers - swa_layers (0 for Mistral-7B-v0.1, where every layer
	 * slides), or keeps 0 when there are sliding AND linear-attention layers
	 * (lin_k_heads > 0). */
	int64_t full_attn_layers;      /* full (global) attention layers; == layers for
					* ordinary models */
	int64_t swa_layers;            /* attention layers with a sliding window; 0 = none */
	int64_t sliding_window;        /* window in tokens; 0 = none (then swa_layers 0) */
	int32_t default_max_tokens;    /* generation_config.json max_new_tokens: vLLM's
					* default max_tokens of a request; -1 = none (a
					* catalog entry's 0 is read as none by llm_finish) */
	double state_bytes_per_seq;    /* whole model, for the non-full layers: recurrent
					* state (FP32 if ssm_state_fp32, else BF16) + BF16
					* conv state; filled by llm_finish() */
	/* MLA (DeepSeek): kv_lora_rank > 0 */
	int64_t kv_lora_rank, qk_rope_head_dim, qk_nope_head_dim, v_head_dim, q_lora_rank;
	/* Added: FFN and linear-attention shape details. */
	int ffn_plain;             /* 2-matrix GELU FFN (BLOOM) instead of gated SwiGLU (3) */
	int linear_bias;           /* biases on every linear layer and LayerNorm (BLOOM) */
	int shared_expert_gate;    /* Qwen MoE: sigmoid gate (hidden x 1) on the shared expert */
	/* Gated DeltaNet (linear_attention) layers: heads and dims of keys/values. */
	int64_t lin_k_heads, lin_v_heads, lin_k_dim, lin_v_dim, lin_conv_kernel;
	int ssm_state_fp32;        /* recurrent state kept in FP32 (mamba_ssm_dtype float32) */
	int qk_norm;               /* per-head RMSNorm on q and k (Qwen3): 2 x head_dim */
	/* Derived by llm_finish(): */
	double params_total;       /* all parameters */
	double params_active;      /* used per token (MoE: routed top-k + shared + dense) */
	double params_linear;      /* quantisable linear-layer params (total) */
	double params_linear_active;
	double params_bf16;        /* embeddings, lm_head, norms, router: kept in BF16 */
	double params_embed;       /* input embedding table (a lookup: no FLOPs) */
} llm_spec;

/* name: a catalog name (case-insensitive: "llama-3-70b", "llama-3.1-8b", "qwen3-32b",
 * ...) or a path to a Hugging Face config.json (or a directory holding one).
 * Returns 0, or -1 with "unknown model 'x' (known: ...)" or the file's error. */
int llm_lookup(const char *name, llm_spec *out, fs_err *err);

/* Parse a config.json (and a generation_config.json in the same directory, for
 * default_max_tokens).  Returns 0 or -1 with "FILE: what is wrong". */
int llm_load_config_json(const char *path, llm_spec *out, fs_err *err);

/* Fill the derived parameter counts from the architecture fields. Returns 0, or -1
 * if the fields are inconsistent (zero layers, heads not dividing, ...). */
int llm_finish(llm_spec *m, fs_err *err);

int llm_catalog_count(void);
const llm_spec *llm_catalog_get(int i);

/* KV bytes per token of the FULL-attention layers, whole model (all TP shards
 * together) in dtype kv: 2 x full_attn_layers x kv_heads x head_dim x bytes, or for
 * MLA (kv_lora_rank + qk_rope_head_dim) x full_attn_layers x bytes.  Sliding-window
 * layers are not included (llm_swa_kv_bytes_per_token): a model's KV for a sequence
 * of n tokens is  kv x n + swa_kv x min(n, sliding_window)  (before block rounding). */
double llm_kv_bytes_per_token(const llm_spec *m, prec_t kv);

/* KV bytes per token held by ONE GPU of a tp-way replica: KV heads are split across
 * shards but replicated when kv_heads < tp (each shard keeps at least one head), and
 * the MLA latent is replicated on every shard (vLLM). */
double llm_kv_bytes_per_token_gpu(const llm_spec *m, prec_t kv, int tp);

/* The same for the sliding-window layers (swa_layers instead of full_attn_layers);
 * 0 when the model has none.  What one sliding layer group's page holds per token. */
double llm_swa_kv_bytes_per_token(const llm_spec *m, prec_t kv);
double llm_swa_kv_bytes_per_token_gpu(const llm_spec *m, prec_t kv, int tp);

/* Weight bytes for the whole model at the given precision (linear layers at the
 * precision's size, the rest BF16). */
double llm_weight_bytes(const llm_spec *m, prec_t weights);

#endif
