/*
 * k8s.h - Kubernetes manifests of a planned fleet (docs/deploy.md): per pool a vLLM
 * Deployment and its Service, Kueue ResourceFlavor + ClusterQueue + one LocalQueue per
 * pool with the planned quotas, and the token-budget router's configuration as a
 * ConfigMap whose router.yaml names the pools by their Service DNS names.
 *
 * Everything that comes from a file (pool names, GPU names, the model id) is either
 * turned into a DNS-1123 label (k8s_name) or written through esc_yaml; numbers are
 * formatted here.  The writer checks every object name, label value and quantity it
 * produces against Kubernetes' rules (k8s_is_*) and fails instead of writing a
 * manifest that `kubectl apply` would reject.
 *
 * Owns: nothing; a k8s_fleet and its strings are the caller's.
 */
#ifndef FS_K8S_H
#define FS_K8S_H

#include <stddef.h>
#include <stdint.h>

#include "sim/router.h"
#include "util/err.h"

typedef struct k8s_pool {
	const char *name;                /* pool name as in the scenario (untrusted) */
	int replicas, tp;
	int max_model_len, max_num_seqs, max_num_batched_tokens;
	int block_size;                  /* 0: not passed (vLLM's default) */
	double gpu_memory_utilization;
	int prefix_caching;              /* 1 on, 0 off, -1 not passed */
	int async_scheduling;            /* 1 on, 0 off, -1 not passed */
	double weights_gib;              /* one replica's weights; 0: unknown (host memory
					  * then assumes 48 GiB per GPU) */
	const char *gpu, *gpu_display;   /* this pool's GPU (plan --mixed-gpus); NULL: the fleet's */
} k8s_pool;

typedef struct k8s_fleet {
	const char *label;               /* option label, for comments ("h100/bf16/dual") */
	const char *gpu;                 /* catalog key ("h100") or the name as requested */
	const char *gpu_display;         /* "NVIDIA H100 SXM5 80GB" */
	const char *model_id;            /* --model: Hugging Face id or path in the container */
	const char *model_note;          /* NULL, or one comment line about --model */
	const char *image_tag;           /* vLLM release tag, "v0.21.0" */
	const char *quantization;        /* --quantization, NULL: none (--dtype=bfloat16) */
	const char *kv_cache_dtype;      /* --kv-cache-dtype */
	int npools;
	k8s_pool pools[FS_MAX_POOLS];
	int dual;                        /* token-budget routing over the pools */
	int64_t threshold;               /* dual: the planned threshold, tokens */
	router_cfg router;               /* estimator, balance and spill-over settings */
} k8s_fleet;

/* Where pods of this GPU run: the node label GPU feature discovery (NVIDIA) or the AMD
 * node labeller sets, its value, and the extended resource the device plugin
 * advertises.  known: 0 when the GPU is not in the table and the value was derived
 * from the display name (the manifests then say to check it). */
typedef struct k8s_gpu_sel {
	const char *label_key;
	char label_value[64];
	const char *resource;
	const char *image_repo;          /* vllm/vllm-openai or vllm/vllm-openai-rocm */
	int known;
} k8s_gpu_sel;

void k8s_gpu_selector(const char *gpu, const char *display, k8s_gpu_sel *out);

/* A DNS-1123 label made from any name: lower case, [a-z0-9-], starting and ending with
 * a letter or digit, at most 40 characters (so "vllm-NAME" and "NAME-queue" stay
 * within 63); "pool" when nothing is left. */
void k8s_name(const char *s, char *out, size_t cap);

/* The object names of the pools: k8s_name of each, made unique with "-K" (then "-K-A")
 * where two pools map to the same label.  names[k] has 64 bytes. */
void k8s_pool_names(const k8s_fleet *f, char names[][64]);

/* Kubernetes' syntax rules (apimachinery validation): a DNS-1123 label (<= 63), a
 * DNS-1123 subdomain (<= 253), a label value (<= 63, may be empty) and a resource
 * quantity ("8", "500m", "64Gi", "1.5").  1 when s conforms. */
int k8s_is_dns1123_label(const char *s);
int k8s_is_dns1123_subdomain(const char *s);
int k8s_is_label_value(const char *s);
int k8s_is_quantity(const char *s);

/* Host resources of one replica of pool p (requests = limits): CPU cores, memory and
 * the /dev/shm size, in GiB. */
void k8s_pool_resources(const k8s_pool *p, int *cpu, int *memory_gib, int *shm_gib);

/* Write the manifests into dir (created if missing): DIR/<pool>.yaml (Deployment +
 * Service), DIR/kueue-clusterqueue.yaml (ResourceFlavor + ClusterQueue),
 * DIR/kueue-localqueues.yaml, DIR/router-configmap.yaml.  Returns 0, or -1 with err
 * (FS_EXIT_RUNTIME for I/O, or a generated value that breaks Kubernetes' rules). */
int k8s_write(const k8s_fleet *f, const char *dir, fs_err *err);

#endif
