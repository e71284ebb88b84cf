/*
 * k8s.c - Kubernetes manifests of a planned fleet (see k8s.h, docs/deploy.md).
 */
#include "reports/k8s.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/plot.h"
#include "util/escape.h"
#include "util/outfile.h"

#define PATH_CAP 4096

/* ---- GPU node labels --------------------------------------------------------------
 *
 * NVIDIA: GPU feature discovery (part of the GPU operator / k8s-device-plugin) labels
 * each node nvidia.com/gpu.product with the driver's product name, spaces replaced by
 * '-' (NVIDIA/k8s-device-plugin internal/lm/resource.go, sanitised as a label value):
 * "NVIDIA H100 80GB HBM3" -> NVIDIA-H100-80GB-HBM3 (H100 SXM5), NVIDIA-A100-SXM4-80GB,
 * NVIDIA-H200, NVIDIA-B200; GPUs are the extended resource nvidia.com/gpu.
 * AMD: the ROCm k8s-device-plugin's node labeller (ROCm/k8s-device-plugin,
 * k8s-ds-amdgpu-labeller.yaml with -product-name) sets amd.com/gpu.product-name, e.g.
 * AMD_Instinct_MI300X_OAM on an MI300X node (its README's example labels); GPUs are
 * amd.com/gpu.  vLLM's images: vllm/vllm-openai:vX.Y.Z (CUDA) and
 * vllm/vllm-openai-rocm:vX.Y.Z (ROCm) on Docker Hub. */
static const struct {
	const char *gpu, *value;
	int amd;
} gpu_labels[] = {
	{"a100", "NVIDIA-A100-SXM4-80GB", 0},
	{"h100", "NVIDIA-H100-80GB-HBM3", 0},
	{"h200", "NVIDIA-H200", 0},
	{"b200", "NVIDIA-B200", 0},
	{"mi300x", "AMD_Instinct_MI300X_OAM", 1},
};

/* A label value from a display name the way GFD makes one: spaces become '-', other
 * characters a label value cannot hold are dropped, ends trimmed to [A-Za-z0-9]. */
static void label_value_from(const char *s, char *out, size_t cap)
{
	size_t j = 0;

	for (; *s && j + 1 < cap && j < 63; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ')
			c = '-';
		if (!(isalnum(c) && c < 0x80) && c != '-' && c != '_' && c != '.')
			continue;
		if (!j && !isalnum(c))
			continue;
		out[j++] = (char)c;
	}
	while (j > 0 && !isalnum((unsigned char)out[j - 1]))
		j--;
	out[j] = 0;
}

void k8s_gpu_selector(const char *gpu, const char *display, k8s_gpu_sel *out)
{
	int amd = display && !strncmp(display, "AMD", 3);

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < sizeof gpu_labels / sizeof gpu_labels[0]; i++)
		if (gpu && !strcmp(gpu, gpu_labels[i].gpu)) {
			snprintf(out->label_value, sizeof out->label_value, "%s", gpu_labels[i].value);
			amd = gpu_labels[i].amd;
			out->known = 1;
		}
	if (!out->known)
		label_value_from(display && *display ? display : gpu ? gpu : "", out->label_value,
				 sizeof out->label_value);
	out->label_key = amd ? "amd.com/gpu.product-name" : "nvidia.com/gpu.product";
	out->resource = amd ? "amd.com/gpu" : "nvidia.com/gpu";
	out->image_repo = amd ? "vllm/vllm-openai-rocm" : "vllm/vllm-openai";
}

/* ---- names and syntax rules ------------------------------------------------------- */

void k8s_name(const char *s, char *out, size_t cap)
{
	size_t j = 0;

	for (; s && *s && j + 1 < cap && j < 40; s++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*s);
		int ok = c < 0x80 && isalnum(c);
		if (!j && !ok)
			continue;
		/* runs of other characters become one '-' */
		if (!ok && out[j - 1] == '-')
			continue;
		out[j++] = ok ? (char)c : '-';
	}
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = 0;
	if (!j)
		snprintf(out, cap, "pool");
}

void k8s_pool_names(const k8s_fleet *f, char names[][64])
{
	for (int k = 0; k < f->npools; k++) {
		char base[64];

		k8s_name(f->pools[k].name, base, sizeof base);
		for (int a = 0;; a++) {
			int clash = 0;

			if (!a) {
				snprintf(names[k], 64, "%s", base);
			} else {
				char tail[32];
				int tl = a == 1 ? snprintf(tail, sizeof tail, "-%d", k) :
						  snprintf(tail, sizeof tail, "-%d-%d", k, a);
				int keep = (int)strlen(base) < 40 - tl ? (int)strlen(base) : 40 - tl;
				/* a cut must not leave a '-' before the tail's own */
				while (keep > 0 && base[keep - 1] == '-')
					keep--;
				snprintf(names[k], 64, "%.*s%s", keep, base, tail);
			}
			for (int i = 0; i < k && !clash; i++)
				clash = !strcmp(names[i], names[k]);
			if (!clash)
				break;
		}
	}
}

static int alnum_lower(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int alnum_any(int c)
{
	return alnum_lower(c) || (c >= 'A' && c <= 'Z');
}

int k8s_is_dns1123_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 63 || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int k8s_is_dns1123_subdomain(const char *s)
{
	char part[254];
	const char *p = s;
	size_t n = s ? strlen(s) : 0;

	if (!n || n > 253)
		return 0;
	while (*p) {
		size_t l = strcspn(p, ".");
		if (!l || l > 63)
			return 0;
		memcpy(part, p, l);
		part[l] = 0;
		if (!k8s_is_dns1123_label(part))
			return 0;
		p += l;
		if (*p == '.' && !*++p)
			return 0;
	}
	return 1;
}

int k8s_is_label_value(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n)
		return 1;
	if (n > 63 || !alnum_any((unsigned char)s[0]) || !alnum_any((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!alnum_any((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

/* ^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$
 * (apimachinery resource.Quantity). */
int k8s_is_quantity(const char *s)
{
	const char *p = s;
	int digits = 0;
	static const char *const suffixes[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m",
					       "k", "M", "G", "T", "P", "E", ""};

	if (!p || !*p)
		return 0;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p))
		p++, digits++;
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p))
			p++, digits++;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;
		if (*q == '+' || *q == '-')
			q++;
		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q))
				q++;
			return !*q;
		}
	}
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (!strcmp(p, suffixes[i]))
			return 1;
	return 0;
}

/* ---- resources ------------------------------------------------------------------- */

/* Host resources per replica: 4 cores per GPU worker plus 4 for the API server,
 * scheduler and tokenizer; memory for the weights once in page cache / pinned buffers
 * (x 1.25) plus 16 GiB for the process, plus /dev/shm, which an emptyDir of medium
 * Memory charges to the container's memory limit.  Assumptions (not measured), given as
 * starting values in docs/deploy.md. */
void k8s_pool_resources(const k8s_pool *p, int *cpu, int *memory_gib, int *shm_gib)
{
	int tp = p->tp > 0 ? p->tp : 1;
	double w = p->weights_gib > 0 ? p->weights_gib : 48.0 * tp;

	*cpu = 4 * tp + 4;
	*shm_gib = tp > 1 ? 16 : 8;
	*memory_gib = (int)ceil(1.25 * w) + 16 + *shm_gib;
}

/* ---- writing ------------------------------------------------------------------------ */

/* Values checked while writing: the first bad one fails the write (set in ck). */
typedef struct check {
	fs_err *err;
	int bad;
} check;

static void need(check *c, int ok, const char *what, const char *value)
{
	if (!ok && !c->bad) {
		c->bad = 1;
		fs_fail(c->err, FS_EXIT_RUNTIME, "manifests: %s '%.80s' breaks Kubernetes' syntax rules", what,
			value);
	}
}

/* "INDENT KEY: "VALUE"" with the value through esc_yaml. */
static void kv(FILE *f, const char *indent, const char *key, const char *value)
{
	fprintf(f, "%s%s: ", indent, key);
	esc_yaml(f, value);
	fputc('\n', f);
}

/* A label (key: value) whose value is checked. */
static void label(FILE *f, check *c, const char *indent, const char *key, const char *value)
{
	need(c, k8s_is_label_value(value), "label value", value);
	kv(f, indent, key, value);
}

static void arg(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(FILE *f, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fputs("            - ", f);
	esc_yaml(f, buf);
	fputc('\n', f);
}

static void quantity(FILE *f, check *c, const char *indent, const char *key, const char *value)
{
	need(c, k8s_is_quantity(value), "quantity", value);
	kv(f, indent, key, value);
}

/* The pool's labels: the Deployment's, its pods' and the Service's selector. */
static void pool_labels(FILE *f, check *c, const char *indent, const char *name, int queue)
{
	char q[80];

	label(f, c, indent, "app.kubernetes.io/name", "vllm");
	label(f, c, indent, "app.kubernetes.io/part-of", "fleetsim");
	label(f, c, indent, "fleetsim.io/pool", name);
	if (queue) {
		snprintf(q, sizeof q, "%s-queue", name);
		label(f, c, indent, "kueue.x-k8s.io/queue-name", q);
	}
}

/* The names as given, where a label could not carry them: the pool's (when its object
 * name had to be derived) and, with gpu, the GPU's display name. */
static void pool_annotation(FILE *f, const char *orig, const char *name, const char *gpu)
{
	int pool = orig && strcmp(orig, name);

	if (!pool && !gpu)
		return;
	fputs("  annotations:\n", f);
	if (pool)
		kv(f, "    ", "fleetsim.io/pool-name", orig);
	if (gpu)
		kv(f, "    ", "fleetsim.io/gpu", gpu);
}

static void probe(FILE *f, const char *kind, int period, int failures)
{
	fprintf(f,
		"          %s:\n"
		"            httpGet:\n"
		"              path: \"/health\"\n"
		"              port: 8000\n"
		"            periodSeconds: %d\n"
		"            failureThreshold: %d\n",
		kind, period, failures);
}

static int write_pool(const k8s_fleet *fl, const k8s_gpu_sel *sel, int k, const char *name, const char *dir,
		      fs_err *err)
{
	const k8s_pool *p = &fl->pools[k];
	char path[PATH_CAP], fname[96], obj[80], image[160], v[64];
	int cpu, mem, shm;
	check c = {err, 0};
	FILE *f = NULL;

	k8s_pool_resources(p, &cpu, &mem, &shm);
	snprintf(fname, sizeof fname, "%s.yaml", name);
	snprintf(obj, sizeof obj, "vllm-%s", name);
	snprintf(image, sizeof image, "%s:%s", sel->image_repo, fl->image_tag);
	need(&c, k8s_is_dns1123_label(obj), "object name", obj);
	if (of_open(dir, fname, path, sizeof path, &f, err))
		return -1;
	fputs("# vLLM pool '", f);
	esc_yaml_comment(f, p->name);
	fputs("' of the planned fleet (", f);
	esc_yaml_comment(f, fl->label);
	fputs("), written by fleetsim plan (docs/deploy.md).\n", f);
	if (fl->model_note) {
		fputs("# ", f);
		esc_yaml_comment(f, fl->model_note);
		fputc('\n', f);
	}
	if (!sel->known) {
		fputs("# The node label value below was derived from the GPU's name; check it with\n# kubectl get nodes -L ",
		      f);
		esc_yaml_comment(f, sel->label_key);
		fputc('\n', f);
	}
	fputs("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n", f);
	kv(f, "  ", "name", obj);
	fputs("  labels:\n", f);
	pool_labels(f, &c, "    ", name, 1);
	pool_annotation(f, p->name, name, p->gpu_display ? p->gpu_display : fl->gpu_display);
	fprintf(f, "spec:\n  replicas: %d\n  selector:\n    matchLabels:\n", p->replicas);
	label(f, &c, "      ", "fleetsim.io/pool", name);
	fputs("  template:\n    metadata:\n      labels:\n", f);
	pool_labels(f, &c, "        ", name, 1);
	fputs("    spec:\n      nodeSelector:\n", f);
	label(f, &c, "        ", sel->label_key, sel->label_value);
	fputs("      containers:\n        - name: \"vllm\"\n", f);
	kv(f, "          ", "image", image);
	fputs("          args:\n", f);
	arg(f, "--model=%s", fl->model_id);
	arg(f, "--port=8000");
	arg(f, "--tensor-parallel-size=%d", p->tp);
	arg(f, "--max-model-len=%d", p->max_model_len);
	arg(f, "--max-num-seqs=%d", p->max_num_seqs);
	arg(f, "--max-num-batched-tokens=%d", p->max_num_batched_tokens);
	arg(f, "--gpu-memory-utilization=%.2f", p->gpu_memory_utilization);
	if (p->block_size > 0)
		arg(f, "--block-size=%d", p->block_size);
	if (p->prefix_caching >= 0)
		arg(f, "%s", p->prefix_caching ? "--enable-prefix-caching" : "--no-enable-prefix-caching");
	if (fl->quantization)
		arg(f, "--quantization=%s", fl->quantization);
	else
		arg(f, "--dtype=bfloat16");
	arg(f, "--kv-cache-dtype=%s", fl->kv_cache_dtype ? fl->kv_cache_dtype : "auto");
	if (p->async_scheduling >= 0)
		arg(f, "%s", p->async_scheduling ? "--async-scheduling" : "--no-async-scheduling");
	fputs("          ports:\n"
	      "            - name: \"http\"\n"
	      "              containerPort: 8000\n",
	      f);
	/* Loading weights (and downloading them) and capturing CUDA graphs can take many
	 * minutes: the startup probe allows 30; readiness keeps an unready replica out of
	 * the Service, liveness restarts a hung one. */
	probe(f, "startupProbe", 10, 180);
	probe(f, "readinessProbe", 5, 3);
	probe(f, "livenessProbe", 10, 6);
	fputs("          resources:\n", f);
	for (int lim = 0; lim < 2; lim++) {
		fprintf(f, "            %s:\n", lim ? "limits" : "requests");
		snprintf(v, sizeof v, "%d", p->tp);
		quantity(f, &c, "              ", sel->resource, v);
		snprintf(v, sizeof v, "%d", cpu);
		quantity(f, &c, "              ", "cpu", v);
		snprintf(v, sizeof v, "%dGi", mem);
		quantity(f, &c, "              ", "memory", v);
	}
	/* NCCL (TP > 1) and PyTorch's worker processes exchange data through /dev/shm,
	 * which a container gets only 64 MiB of unless a memory-backed volume is mounted. */
	fputs("          volumeMounts:\n"
	      "            - name: \"dshm\"\n"
	      "              mountPath: \"/dev/shm\"\n"
	      "      volumes:\n"
	      "        - name: \"dshm\"\n"
	      "          emptyDir:\n"
	      "            medium: \"Memory\"\n",
	      f);
	snprintf(v, sizeof v, "%dGi", shm);
	quantity(f, &c, "            ", "sizeLimit", v);
	fputs("---\napiVersion: v1\nkind: Service\nmetadata:\n", f);
	kv(f, "  ", "name", obj);
	fputs("  labels:\n", f);
	pool_labels(f, &c, "    ", name, 0);
	pool_annotation(f, p->name, name, NULL);
	fputs("spec:\n  selector:\n", f);
	label(f, &c, "    ", "fleetsim.io/pool", name);
	fputs("  ports:\n"
	      "    - name: \"http\"\n"
	      "      port: 8000\n"
	      "      targetPort: 8000\n",
	      f);
	if (of_close(f, path, c.bad ? NULL : err) || c.bad)
		return -1;
	return 0;
}

/* Pool k's GPU (its own with --mixed-gpus, else the fleet's). */
static const char *pool_gpu(const k8s_fleet *fl, int k)
{
	return fl->pools[k].gpu ? fl->pools[k].gpu : fl->gpu;
}

/* The flavor and ClusterQueue name of a GPU: fleetsim-<gpu>. */
static void queue_name(const char *gpu, char *out, size_t cap)
{
	char g[64], base[64];
	const char *s = gpu ? gpu : "gpu";
	const char *slash = strrchr(s, '/');

	/* a GPU YAML path: its file name without .yaml */
	snprintf(base, sizeof base, "%s", slash ? slash + 1 : s);
	if (strlen(base) > 5 && !strcmp(base + strlen(base) - 5, ".yaml"))
		base[strlen(base) - 5] = 0;
	k8s_name(base, g, sizeof g);
	snprintf(out, cap, "fleetsim-%s", g);
}

/* One ResourceFlavor + ClusterQueue per GPU type of the fleet (one, unless the plan put
 * the pools on different GPUs), its quotas the planned pools on that GPU. */
static int write_kueue(const k8s_fleet *fl, const k8s_gpu_sel *sels, char names[][64], const char *dir,
		       fs_err *err)
{
	char path[PATH_CAP], cq[80], v[64], q[80];
	check c = {err, 0};
	FILE *f = NULL;

	if (of_open(dir, "kueue-clusterqueue.yaml", path, sizeof path, &f, err))
		return -1;
	fputs("# Kueue: per GPU type, the flavor (nodes with this GPU) and a ClusterQueue whose quotas\n"
	      "# are the planned pools on it (replicas x their requests). Cluster-scoped.\n",
	      f);
	for (int k0 = 0, nq = 0; k0 < fl->npools; k0++) {
		const k8s_gpu_sel *sel = &sels[k0];
		long gpus = 0, cpus = 0, mem = 0;
		int first = 1;
		for (int j = 0; j < k0; j++)
			first &= strcmp(pool_gpu(fl, j) ? pool_gpu(fl, j) : "", pool_gpu(fl, k0) ? pool_gpu(fl, k0) : "") != 0;
		if (!first)
			continue;
		queue_name(pool_gpu(fl, k0), cq, sizeof cq);
		need(&c, k8s_is_dns1123_subdomain(cq), "object name", cq);
		for (int k = k0; k < fl->npools; k++) {
			int cpu, m, shm;
			if (strcmp(pool_gpu(fl, k) ? pool_gpu(fl, k) : "", pool_gpu(fl, k0) ? pool_gpu(fl, k0) : ""))
				continue;
			k8s_pool_resources(&fl->pools[k], &cpu, &m, &shm);
			gpus += (long)fl->pools[k].replicas * fl->pools[k].tp;
			cpus += (long)fl->pools[k].replicas * cpu;
			mem += (long)fl->pools[k].replicas * m;
		}
		fprintf(f, "%sapiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n", nq++ ? "---\n" : "");
		kv(f, "  ", "name", cq);
		fputs("spec:\n  nodeLabels:\n", f);
		label(f, &c, "    ", sel->label_key, sel->label_value);
		fputs("---\napiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n", f);
		kv(f, "  ", "name", cq);
		fputs("spec:\n"
		      "  namespaceSelector: {}\n"
		      "  resourceGroups:\n"
		      "    - coveredResources:\n"
		      "        - \"cpu\"\n"
		      "        - \"memory\"\n"
		      "        - ",
		      f);
		esc_yaml(f, sel->resource);
		fputs("\n      flavors:\n        - name: ", f);
		esc_yaml(f, cq);
		fputs("\n          resources:\n", f);
		for (int r = 0; r < 3; r++) {
			const char *rn = r == 0 ? "cpu" : r == 1 ? "memory" : sel->resource;
			if (r == 0)
				snprintf(v, sizeof v, "%ld", cpus);
			else if (r == 1)
				snprintf(v, sizeof v, "%ldGi", mem);
			else
				snprintf(v, sizeof v, "%ld", gpus);
			fputs("            - name: ", f);
			esc_yaml(f, rn);
			fputc('\n', f);
			quantity(f, &c, "              ", "nominalQuota", v);
		}
	}
	if (of_close(f, path, c.bad ? NULL : err) || c.bad)
		return -1;

	if (of_open(dir, "kueue-localqueues.yaml", path, sizeof path, &f, err))
		return -1;
	fputs("# Kueue LocalQueues, one per pool, in the namespace the pools are applied to; the\n"
	      "# Deployments name theirs in the kueue.x-k8s.io/queue-name label.\n",
	      f);
	for (int k = 0; k < fl->npools; k++) {
		snprintf(q, sizeof q, "%.63s-queue", names[k]);
		need(&c, k8s_is_dns1123_label(q), "object name", q);
		fprintf(f, "%sapiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata:\n", k ? "---\n" : "");
		kv(f, "  ", "name", q);
		fputs("  labels:\n", f);
		label(f, &c, "    ", "fleetsim.io/pool", names[k]);
		fputs("  annotations:\n", f);
		snprintf(v, sizeof v, "%d", fl->pools[k].replicas * fl->pools[k].tp);
		kv(f, "    ", "fleetsim.io/gpus", v);
		if (fl->pools[k].name && strcmp(fl->pools[k].name, names[k]))
			kv(f, "    ", "fleetsim.io/pool-name", fl->pools[k].name);
		fputs("spec:\n", f);
		queue_name(pool_gpu(fl, k), cq, sizeof cq);
		kv(f, "  ", "clusterQueue", cq);
	}
	if (of_close(f, path, c.bad ? NULL : err) || c.bad)
		return -1;
	return 0;
}

/* router.yaml (docs/deploy.md, "Router"): written to a memory buffer, then embedded in
 * the ConfigMap as one esc_yaml scalar; names inside it go through esc_yaml too. */
static char *router_yaml(const k8s_fleet *fl, char names[][64])
{
	const router_cfg *r = &fl->router;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("# fleetsim token-budget router (docs/deploy.md)\n", f);
	fprintf(f, "policy: %s\n", fl->dual ? "\"token_budget\"" : "\"balance\"");
	fprintf(f, "balance: \"%s\"\n", router_balance_name(r->balance));
	fprintf(f, "estimator:\n  type: \"%s\"\n  default_max_tokens: %d\n", router_estimator_name(r->estimator),
		r->default_max_tokens);
	if (r->estimator == EST_PERCENTILE)
		fprintf(f, "  percentile: %g\n  window: %d\n", r->percentile, r->percentile_window);
	if (r->estimator == EST_BYTES_EMA)
		fprintf(f, "  ema_alpha: %g\n  ema_gamma: %g\n  cold_start_bytes_per_token: %g\n", r->ema_alpha,
			r->ema_gamma, r->ema_c0);
	if (fl->dual)
		fprintf(f, "thresholds: [%lld]\n", (long long)fl->threshold);
	else
		fputs("thresholds: []\n", f);
	fprintf(f, "spillover:\n  enabled: %s\n  waiting_per_replica: %g\n  kv_usage: %g\n",
		fl->dual && r->spillover ? "true" : "false", r->spill_waiting_per_replica, r->spill_kv_usage);
	fputs("pools:\n", f);
	for (int k = 0; k < fl->npools; k++) {
		char ep[128];
		snprintf(ep, sizeof ep, "http://vllm-%.63s:8000", names[k]);
		fputs("  - name: ", f);
		esc_yaml(f, names[k]);
		fputs("\n    endpoint: ", f);
		esc_yaml(f, ep);
		fprintf(f, "\n    max_model_len: %d\n    replicas: %d\n", fl->pools[k].max_model_len,
			fl->pools[k].replicas);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_router(const k8s_fleet *fl, char names[][64], const char *dir, fs_err *err)
{
	char path[PATH_CAP], key[64], val[128];
	char *ry = router_yaml(fl, names);
	FILE *f = NULL;

	if (!ry)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory");
	if (of_open(dir, "router-configmap.yaml", path, sizeof path, &f, err)) {
		free(ry);
		return -1;
	}
	fputs("# The router's configuration: router.yaml is the file the router reads (mount the\n"
	      "# ConfigMap, docs/deploy.md); the other keys repeat its main values for scripts.\n"
	      "# Requests whose estimated prompt + output tokens are <= threshold go to the first\n"
	      "# pool, the rest to the next; spill-over sends to the other pool when one is overloaded.\n"
	      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"fleetsim-router\"\n  labels:\n"
	      "    app.kubernetes.io/part-of: \"fleetsim\"\ndata:\n",
	      f);
	kv(f, "  ", "policy", fl->dual ? "dual" : "single");
	snprintf(val, sizeof val, "%lld", (long long)(fl->dual ? fl->threshold : 0));
	kv(f, "  ", "threshold", val);
	kv(f, "  ", "estimator", router_estimator_name(fl->router.estimator));
	kv(f, "  ", "spillover", fl->dual && fl->router.spillover ? "true" : "false");
	for (int k = 0; k < fl->npools; k++) {
		snprintf(key, sizeof key, "pool_%d_service", k);
		snprintf(val, sizeof val, "vllm-%s:8000", names[k]);
		kv(f, "  ", key, val);
		snprintf(key, sizeof key, "pool_%d_max_model_len", k);
		snprintf(val, sizeof val, "%d", fl->pools[k].max_model_len);
		kv(f, "  ", key, val);
	}
	kv(f, "  ", "router.yaml", ry);
	free(ry);
	return of_close(f, path, err);
}

int k8s_write(const k8s_fleet *fl, const char *dir, fs_err *err)
{
	char names[FS_MAX_POOLS][64];
	k8s_gpu_sel sel[FS_MAX_POOLS];

	if (fl->npools < 1 || fl->npools > FS_MAX_POOLS)
		return fs_fail(err, FS_EXIT_RUNTIME, "manifests: %d pools", fl->npools);
	if (!fl->model_id || !*fl->model_id || !fl->image_tag)
		return fs_fail(err, FS_EXIT_RUNTIME, "manifests: no model id or image");
	if (plot_mkdir(dir, err))
		return -1;
	for (int k = 0; k < fl->npools; k++)
		k8s_gpu_selector(pool_gpu(fl, k), fl->pools[k].gpu_display ? fl->pools[k].gpu_display : fl->gpu_display,
				 &sel[k]);
	k8s_pool_names(fl, names);
	for (int k = 0; k < fl->npools; k++)
		if (write_pool(fl, &sel[k], k, names[k], dir, err))
			return -1;
	if (write_kueue(fl, sel, names, dir, err))
		return -1;
	return write_router(fl, names, dir, err);
}
