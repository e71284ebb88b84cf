/* CUnit suite for reports/sizing and reports/k8s: the manifests parsed back with
 * libfyaml and checked against Kubernetes' syntax rules (coded here from apimachinery's
 * validation regexes, independently of reports/k8s.c: no schema validator works
 * offline here, `kubectl apply --dry-run=client` needs an API server), the model id
 * and engine flags taken from a scenario, and the sizing report's HTML structure
 * (snapshot of sections, table headers, units and money; the browser layout check is
 * tests/e2e/report_browser.sh). */
#include <CUnit/CUnit.h>
#include <libfyaml.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/engine.h"
#include "reports/k8s.h"
#include "reports/plan.h"
#include "reports/sizing.h"
#include "scenarios/scenario.h"
#include "tutil.h"

/* ---- Kubernetes' rules, as regular expressions ---- */

static int matches(const char *re, const char *s)
{
	regex_t r;
	int ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB))
		return 0;
	ok = !regexec(&r, s, 0, NULL, 0);
	regfree(&r);
	return ok;
}

#define RE_DNS1123_LABEL "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
#define RE_DNS1123_SUB "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#define RE_DNS1035 "^[a-z]([-a-z0-9]*[a-z0-9])?$"
#define RE_LABEL_VALUE "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
#define RE_QNAME "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
#define RE_QUANTITY "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
#define RE_PORT_NAME "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

static int rule_label(const char *s)
{
	return strlen(s) <= 63 && matches(RE_DNS1123_LABEL, s);
}

static int rule_subdomain(const char *s)
{
	return strlen(s) <= 253 && matches(RE_DNS1123_SUB, s);
}

static int rule_label_value(const char *s)
{
	return strlen(s) <= 63 && matches(RE_LABEL_VALUE, s);
}

static int rule_quantity(const char *s)
{
	return matches(RE_QUANTITY, s);
}

/* A label or annotation key: [prefix/]name, prefix a DNS subdomain. */
static int rule_key(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[256];

	if (slash) {
		size_t n = (size_t)(slash - s);
		if (!n || n >= sizeof prefix)
			return 0;
		memcpy(prefix, s, n);
		prefix[n] = 0;
		if (!rule_subdomain(prefix))
			return 0;
		s = slash + 1;
	}
	return strlen(s) <= 63 && matches(RE_QNAME, s);
}

/* The coded rules agree with reports/k8s.c's checks on edge cases. */
static void test_rules(void)
{
	const char *labels[] = {"a", "vllm-short", "0abc", "a-b-c", "", "-a", "a-", "A", "a_b", "a.b",
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	const char *values[] = {"", "NVIDIA-H100-80GB-HBM3", "AMD_Instinct_MI300X_OAM", "NVIDIA H100", "-x", "x.",
				"a.b_c-d", "é"};
	const char *quantities[] = {"1", "8", "64Gi", "500m", "1.5", ".5", "1e3", "1E-3", "Gi", "1GiB", "", "-1",
				    "1.5.2", "8 Gi", "1ki", "+4k"};

	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		CU_ASSERT_EQUAL(k8s_is_dns1123_label(labels[i]), rule_label(labels[i]));
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
		CU_ASSERT_EQUAL(k8s_is_label_value(values[i]), rule_label_value(values[i]));
	for (size_t i = 0; i < sizeof quantities / sizeof quantities[0]; i++)
		CU_ASSERT_EQUAL(k8s_is_quantity(quantities[i]), rule_quantity(quantities[i]));
	CU_ASSERT(k8s_is_dns1123_subdomain("fleetsim-h100"));
	CU_ASSERT(k8s_is_dns1123_subdomain("a.b-c.d"));
	CU_ASSERT(!k8s_is_dns1123_subdomain("a..b"));
	CU_ASSERT(!k8s_is_dns1123_subdomain("a."));
	CU_ASSERT(rule_key("nvidia.com/gpu.product"));
	CU_ASSERT(rule_key("kueue.x-k8s.io/queue-name"));
	CU_ASSERT(!rule_key("NVIDIA.com/x"));
}

/* ---- YAML walking ---- */

static const char *scal(struct fy_node *n)
{
	static char buf[8][1024];
	static int next;
	size_t len;
	const char *s;
	char *b = buf[next++ % 8];

	if (!n || fy_node_get_type(n) != FYNT_SCALAR || !(s = fy_node_get_scalar(n, &len)) || len >= 1024)
		return "";
	memcpy(b, s, len);
	b[len] = 0;
	return b;
}

static struct fy_node *at(struct fy_node *root, const char *path)
{
	return fy_node_by_path(root, path, (size_t)-1, FYNWF_DONT_FOLLOW);
}

/* Mapping path p, then key (which may hold '/'). */
static const char *key_at(struct fy_node *root, const char *p, const char *key)
{
	struct fy_node *n = at(root, p);
	return n ? scal(fy_node_mapping_lookup_by_string(n, key, strlen(key))) : "";
}


typedef struct walk {
	int errors;
	char first[512];
} walk;

static void bad(walk *w, const char *what, const char *v)
{
	if (!w->errors++)
		snprintf(w->first, sizeof w->first, "%.100s: '%.380s'", what, v);
}

static int is_int(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Every mapping entry: labels / selectors / annotations keys and values, quantities,
 * container / port / volume names, and the style of scalars (strings double-quoted,
 * counts plain integers). */
static void walk_node(walk *w, struct fy_node *n, const char *key, const char *parent)
{
	void *it = NULL;

	if (!n)
		return;
	if (fy_node_get_type(n) == FYNT_SEQUENCE) {
		struct fy_node *c;
		while ((c = fy_node_sequence_iterate(n, &it)))
			walk_node(w, c, "-", key);
		return;
	}
	if (fy_node_get_type(n) == FYNT_SCALAR) {
		const char *v = scal(n);
		int quoted = fy_node_get_style(n) == FYNS_DOUBLE_QUOTED;
		if (!strcmp(key, "apiVersion") || !strcmp(key, "kind"))
			return;
		if (is_int(v) && !quoted)
			return; /* replicas, ports, probe periods */
		if (!quoted)
			bad(w, "unquoted string", v);
		if (!strcmp(parent, "labels") || !strcmp(parent, "matchLabels") || !strcmp(parent, "nodeLabels") ||
		    !strcmp(parent, "nodeSelector") || !strcmp(parent, "selector")) {
			if (!rule_key(key))
				bad(w, "label key", key);
			if (!rule_label_value(v))
				bad(w, "label value", v);
		}
		if (!strcmp(parent, "annotations") && !rule_key(key))
			bad(w, "annotation key", key);
		if ((!strcmp(parent, "requests") || !strcmp(parent, "limits") || !strcmp(key, "nominalQuota") ||
		     !strcmp(key, "sizeLimit")) &&
		    !rule_quantity(v))
			bad(w, "quantity", v);
		if (!strcmp(key, "image") && (!strchr(v, ':') || strstr(v, ":latest")))
			bad(w, "unpinned image", v);
		return;
	}
	{
		struct fy_node_pair *pr;
		while ((pr = fy_node_mapping_iterate(n, &it))) {
			const char *k = scal(fy_node_pair_key(pr));
			char kk[256];
			snprintf(kk, sizeof kk, "%s", k);
			walk_node(w, fy_node_pair_value(pr), kk, key);
		}
	}
}

/* One document: its name by kind, then every entry. */
static void check_doc(walk *w, struct fy_node *root, char *kind, size_t kcap)
{
	char name[256];
	struct fy_node *c;
	void *it = NULL;

	/* copies: scal's buffers are reused */
	snprintf(kind, kcap, "%s", scal(at(root, "/kind")));
	snprintf(name, sizeof name, "%s", scal(at(root, "/metadata/name")));
	if (!strcmp(kind, "Service") ? !(strlen(name) <= 63 && matches(RE_DNS1035, name)) : !rule_subdomain(name))
		bad(w, "object name", name);
	if (!strcmp(kind, "Deployment") && !rule_label(name))
		bad(w, "deployment name", name);
	while ((c = fy_node_sequence_iterate(at(root, "/spec/template/spec/containers"), &it))) {
		void *pit = NULL;
		struct fy_node *p;
		if (!rule_label(scal(at(c, "/name"))))
			bad(w, "container name", scal(at(c, "/name")));
		while ((p = fy_node_sequence_iterate(at(c, "/ports"), &pit)))
			if (strlen(scal(at(p, "/name"))) > 15 || !matches(RE_PORT_NAME, scal(at(p, "/name"))))
				bad(w, "port name", scal(at(p, "/name")));
	}
	it = NULL;
	while ((c = fy_node_sequence_iterate(at(root, "/spec/template/spec/volumes"), &it)))
		if (!rule_label(scal(at(c, "/name"))))
			bad(w, "volume name", scal(at(c, "/name")));
	walk_node(w, root, "", "");
}

static int has_arg(struct fy_node *root, const char *want)
{
	struct fy_node *args = at(root, "/spec/template/spec/containers/0/args"), *it;
	void *iter = NULL;

	while (args && (it = fy_node_sequence_iterate(args, &iter)))
		if (!strcmp(scal(it), want))
			return 1;
	return 0;
}

static const char *arg_value(struct fy_node *root, const char *prefix)
{
	struct fy_node *args = at(root, "/spec/template/spec/containers/0/args"), *it;
	void *iter = NULL;

	while (args && (it = fy_node_sequence_iterate(args, &iter))) {
		const char *s = scal(it);
		if (!strncmp(s, prefix, strlen(prefix)))
			return s + strlen(prefix);
	}
	return NULL;
}

/* A two-pool option with names that are not DNS labels (and two that map to the same
 * one) on GPU gpu. */
static void hostile_option(plan_result *r, const char *gpu, const char *display)
{
	plan_option *o = &r->options[0];
	const char *names[3] = {"Short Pool \"x\" 'y' </script> é", "short pool (x) y: SCRIPT",
				"long_\xe2\x80\xa8tail/../x"};

	memset(r, 0, sizeof *r);
	snprintf(r->model, sizeof r->model, "llama-3.1-8b");
	r->noptions = 1;
	o->feasible = 1;
	snprintf(o->label, sizeof o->label, "%s/nvfp4/dual", gpu);
	snprintf(o->gpu, sizeof o->gpu, "%s", gpu);
	snprintf(o->gpu_display, sizeof o->gpu_display, "%s", display);
	o->prec = PREC_NVFP4;
	o->kv = PREC_FP8;
	o->layout = PLAN_DUAL;
	o->policy = -1;
	o->npools = 3;
	for (int k = 0; k < 3; k++) {
		snprintf(o->pool_names[k], 64, "%s", names[k]);
		o->tp[k] = k + 1 == 3 ? 4 : k + 1;
		o->max_model_len[k] = 4096 << k;
		o->max_num_seqs[k] = 128 >> k;
		o->max_num_batched_tokens[k] = 8192;
		o->gpu_memory_utilization[k] = 0.9;
		o->best.replicas[k] = 5 - k;
	}
	o->best.npools = 3;
	o->best.threshold = 3000;
}

typedef struct mani {
	int ndeploy, nservice, nlq, ncq, nflavor, ncm;
	long gpus_quota, gpus_planned;
	char services[8][64];
	char cq_name[64], lq_target[64], flavor_value[128];
	char router_yaml[4096];
} mani;

/* Parse and check every file in dir; fills m. */
static void check_dir(const char *dir, const plan_option *o, mani *m, walk *w)
{
	const char *files[16];
	char names[FS_MAX_POOLS][64], path[1024], fname[128];
	int nf = 0;
	k8s_fleet kf;

	memset(m, 0, sizeof *m);
	memset(&kf, 0, sizeof kf);
	kf.npools = o->npools;
	for (int k = 0; k < o->npools; k++) {
		kf.pools[k].name = o->pool_names[k];
		m->gpus_planned += (long)o->best.replicas[k] * o->tp[k];
	}
	k8s_pool_names(&kf, names);
	for (int k = 0; k < o->npools; k++) {
		snprintf(fname, sizeof fname, "%s.yaml", names[k]);
		files[nf++] = strdup(fname);
	}
	files[nf++] = strdup("kueue-clusterqueue.yaml");
	files[nf++] = strdup("kueue-localqueues.yaml");
	files[nf++] = strdup("router-configmap.yaml");
	for (int i = 0; i < nf; i++) {
		struct fy_document *docs[8];
		int n;
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		n = tu_yaml_docs(path, docs, 8);
		CU_ASSERT(n >= 1);
		if (n < 1)
			bad(w, "does not parse", path);
		for (int j = 0; j < n; j++) {
			struct fy_node *root = fy_document_root(docs[j]);
			char kind[64];
			check_doc(w, root, kind, sizeof kind);
			if (!strcmp(kind, "Deployment")) {
				m->ndeploy++;
			} else if (!strcmp(kind, "Service")) {
				snprintf(m->services[m->nservice++ % 8], 64, "%s", scal(at(root, "/metadata/name")));
			} else if (!strcmp(kind, "LocalQueue")) {
				m->nlq++;
				snprintf(m->lq_target, sizeof m->lq_target, "%s", scal(at(root, "/spec/clusterQueue")));
			} else if (!strcmp(kind, "ClusterQueue")) {
				struct fy_node *r;
				void *it = NULL;
				m->ncq++;
				snprintf(m->cq_name, sizeof m->cq_name, "%s", scal(at(root, "/metadata/name")));
				while ((r = fy_node_sequence_iterate(at(root, "/spec/resourceGroups/0/flavors/0/resources"),
								     &it)))
					if (strstr(scal(at(r, "/name")), "/gpu"))
						m->gpus_quota = atol(scal(at(r, "/nominalQuota")));
			} else if (!strcmp(kind, "ResourceFlavor")) {
				struct fy_node_pair *pr;
				void *it = NULL;
				m->nflavor++;
				while ((pr = fy_node_mapping_iterate(at(root, "/spec/nodeLabels"), &it)))
					snprintf(m->flavor_value, sizeof m->flavor_value, "%s=%s",
						 scal(fy_node_pair_key(pr)), scal(fy_node_pair_value(pr)));
			} else if (!strcmp(kind, "ConfigMap")) {
				m->ncm++;
				snprintf(m->router_yaml, sizeof m->router_yaml, "%s",
					 key_at(root, "/data", "router.yaml"));
			}
			fy_document_destroy(docs[j]);
		}
		free((void *)files[i]);
	}
}

static void test_manifests_valid(void)
{
	static const struct {
		const char *gpu, *display, *selector, *resource;
	} gpus[] = {
		{"h100", "NVIDIA H100 SXM5 80GB", "nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3", "nvidia.com/gpu"},
		{"b200", "NVIDIA B200 180GB", "nvidia.com/gpu.product=NVIDIA-B200", "nvidia.com/gpu"},
		{"h200", "NVIDIA H200 SXM 141GB", "nvidia.com/gpu.product=NVIDIA-H200", "nvidia.com/gpu"},
		{"a100", "NVIDIA A100-SXM4-80GB", "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB", "nvidia.com/gpu"},
		{"mi300x", "AMD Instinct MI300X 192GB", "amd.com/gpu.product-name=AMD_Instinct_MI300X_OAM", "amd.com/gpu"},
		{"gpus/My GPU.yaml", "NVIDIA L40S 48GB (\"custom\")", "nvidia.com/gpu.product=NVIDIA-L40S-48GB-custom",
		 "nvidia.com/gpu"},
	};
	plan_result *r = calloc(1, sizeof *r);

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	for (size_t g = 0; g < sizeof gpus / sizeof gpus[0]; g++) {
		char dir[512], sub[64], path[600];
		struct fy_document *docs[4];
		fs_err err = {0};
		walk w = {0};
		mani m;
		int n;

		hostile_option(r, gpus[g].gpu, gpus[g].display);
		snprintf(sub, sizeof sub, "mani%zu", g);
		CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, sub), 0);
		if (sizing_write_manifests(r, &r->options[0], dir, &err))
			fprintf(stderr, "manifests: %s\n", err.msg);
		check_dir(dir, &r->options[0], &m, &w);
		if (w.errors)
			fprintf(stderr, "\n%s: %d rule violations, first %s\n", gpus[g].gpu, w.errors, w.first);
		CU_ASSERT_EQUAL(w.errors, 0);
		CU_ASSERT_EQUAL(m.ndeploy, 3);
		CU_ASSERT_EQUAL(m.nservice, 3);
		CU_ASSERT_EQUAL(m.nlq, 3);
		CU_ASSERT_EQUAL(m.ncq, 1);
		CU_ASSERT_EQUAL(m.nflavor, 1);
		CU_ASSERT_EQUAL(m.ncm, 1);
		CU_ASSERT_STRING_EQUAL(m.lq_target, m.cq_name);
		CU_ASSERT_EQUAL(m.gpus_quota, m.gpus_planned);
		CU_ASSERT_STRING_EQUAL(m.flavor_value, gpus[g].selector);
		/* the router's file names every pool by its Service */
		for (int s = 0; s < m.nservice; s++) {
			char ep[128];
			snprintf(ep, sizeof ep, "endpoint: \"http://%s:8000\"", m.services[s]);
			CU_ASSERT_PTR_NOT_NULL(strstr(m.router_yaml, ep));
		}
		{
			struct fy_document *ry = fy_document_build_from_string(NULL, m.router_yaml, FY_NT);
			CU_ASSERT_PTR_NOT_NULL_FATAL(ry);
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(ry), "/policy")), "token_budget");
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(ry), "/thresholds/0")), "3000");
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(ry), "/spillover/enabled")), "true");
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(ry), "/estimator/type")), "max_tokens");
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(ry), "/pools/2/max_model_len")), "16384");
			fy_document_destroy(ry);
		}
		/* the first pool's Deployment: flags, probes, /dev/shm, resources */
		snprintf(path, sizeof path, "%s/%s", dir, "short-pool-x-y-script.yaml");
		n = tu_yaml_docs(path, docs, 4);
		CU_ASSERT_EQUAL_FATAL(n, 2);
		{
			struct fy_node *d = fy_document_root(docs[0]);
			char img[128];
			snprintf(img, sizeof img, "%s:%s", g == 4 ? "vllm/vllm-openai-rocm" : "vllm/vllm-openai",
				 eng_default()->image);
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/containers/0/image")), img);
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/replicas")), "5");
			CU_ASSERT(has_arg(d, "--model=meta-llama/Llama-3.1-8B"));
			CU_ASSERT(has_arg(d, "--tensor-parallel-size=1"));
			CU_ASSERT(has_arg(d, "--max-model-len=4096"));
			CU_ASSERT(has_arg(d, "--max-num-seqs=128"));
			CU_ASSERT(has_arg(d, "--max-num-batched-tokens=8192"));
			CU_ASSERT(has_arg(d, "--gpu-memory-utilization=0.90"));
			CU_ASSERT(has_arg(d, "--quantization=modelopt_fp4"));
			CU_ASSERT(has_arg(d, "--kv-cache-dtype=fp8"));
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/containers/0/readinessProbe/httpGet/path")),
					       "/health");
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/containers/0/livenessProbe/httpGet/port")),
					       "8000");
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/volumes/0/emptyDir/medium")), "Memory");
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/containers/0/volumeMounts/0/mountPath")),
					       "/dev/shm");
			CU_ASSERT_STRING_EQUAL(key_at(d, "/spec/template/spec/containers/0/resources/limits",
						      gpus[g].resource),
					       "1");
			CU_ASSERT_STRING_EQUAL(key_at(d, "/spec/template/spec/containers/0/resources/requests",
						      gpus[g].resource),
					       "1");
			CU_ASSERT(atoi(key_at(d, "/spec/template/spec/containers/0/resources/requests", "cpu")) >= 4);
			CU_ASSERT_STRING_EQUAL(key_at(d, "/metadata/annotations", "fleetsim.io/pool-name"),
					       r->options[0].pool_names[0]);
			CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(docs[1]), "/kind")), "Service");
		}
		for (int i = 0; i < n; i++)
			fy_document_destroy(docs[i]);
	}
	free(r);
}

/* plan --mixed-gpus: each pool's Deployment selects its own GPU; Kueue gets a flavor and
 * ClusterQueue per GPU type, each with the quota of the pools on it, and every pool's
 * LocalQueue points at its GPU's ClusterQueue. */
static void test_manifests_mixed(void)
{
	plan_result *r = calloc(1, sizeof *r);
	plan_option *o;
	char dir[512], path[600];
	struct fy_document *docs[8];
	fs_err err = {0};
	walk w = {0};
	mani m;
	int n, cq = 0, rf = 0;
	long quota[2] = {0, 0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	hostile_option(r, "h100", "NVIDIA H100 SXM5 80GB");
	o = &r->options[0];
	o->npools = 2;
	o->best.npools = 2;
	o->mixed = 1;
	snprintf(o->pool_gpu[0], sizeof o->pool_gpu[0], "h100");
	snprintf(o->pool_gpu[1], sizeof o->pool_gpu[1], "b200");
	snprintf(o->pool_gpu_display[0], sizeof o->pool_gpu_display[0], "NVIDIA H100 SXM5 80GB");
	snprintf(o->pool_gpu_display[1], sizeof o->pool_gpu_display[1], "NVIDIA B200 180GB");
	snprintf(o->label, sizeof o->label, "h100+b200/nvfp4/dual");
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "mani_mixed"), 0);
	CU_ASSERT_EQUAL(sizing_write_manifests(r, o, dir, &err), 0);
	check_dir(dir, o, &m, &w);
	CU_ASSERT_EQUAL(w.errors, 0);
	CU_ASSERT_EQUAL(m.ndeploy, 2);
	CU_ASSERT_EQUAL(m.nflavor, 2);
	CU_ASSERT_EQUAL(m.ncq, 2);
	snprintf(path, sizeof path, "%s/kueue-clusterqueue.yaml", dir);
	n = tu_yaml_docs(path, docs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (int j = 0; j < n; j++) {
		struct fy_node *root = fy_document_root(docs[j]);
		if (!strcmp(scal(at(root, "/kind")), "ResourceFlavor")) {
			CU_ASSERT_STRING_EQUAL(key_at(root, "/spec/nodeLabels", "nvidia.com/gpu.product"),
					       rf++ ? "NVIDIA-B200" : "NVIDIA-H100-80GB-HBM3");
		} else {
			struct fy_node *x;
			void *it = NULL;
			CU_ASSERT_STRING_EQUAL(scal(at(root, "/metadata/name")), cq ? "fleetsim-b200" : "fleetsim-h100");
			while ((x = fy_node_sequence_iterate(at(root, "/spec/resourceGroups/0/flavors/0/resources"), &it)))
				if (!strcmp(scal(at(x, "/name")), "nvidia.com/gpu"))
					quota[cq] = atol(scal(at(x, "/nominalQuota")));
			cq++;
		}
		fy_document_destroy(docs[j]);
	}
	/* hostile_option: short 5 replicas x TP 1, long 4 x TP 2 */
	CU_ASSERT_EQUAL(quota[0], 5);
	CU_ASSERT_EQUAL(quota[1], 8);
	snprintf(path, sizeof path, "%s/kueue-localqueues.yaml", dir);
	n = tu_yaml_docs(path, docs, 8);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(docs[0]), "/spec/clusterQueue")), "fleetsim-h100");
	CU_ASSERT_STRING_EQUAL(scal(at(fy_document_root(docs[1]), "/spec/clusterQueue")), "fleetsim-b200");
	for (int j = 0; j < n; j++)
		fy_document_destroy(docs[j]);
	free(r);
}

/* With a scenario: model_id:, or a config.json's directory, and the engine flags the
 * planner does not change (block size, prefix caching, async scheduling, release). */
static void test_manifests_scenario(void)
{
	char cfgdir[512], cfg[600], dir[512], path[700], text[2048];
	const char *mistral = FS_SOURCE_DIR "/tests/data/models/mistral-7b-v0.1/config.json";
	plan_result *r = calloc(1, sizeof *r);
	struct fy_document *docs[4];
	scenario *sc = NULL;
	fs_err err = {0};
	FILE *in, *out;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	/* the config.json in a directory of its own, without _name_or_path */
	CU_ASSERT_EQUAL_FATAL(tu_mkdir("Mistral-7B", cfgdir, sizeof cfgdir), 0);
	snprintf(cfg, sizeof cfg, "%s/config.json", cfgdir);
	in = fopen(mistral, "rb");
	out = fopen(cfg, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	while ((n = fread(text, 1, sizeof text, in)) > 0)
		fwrite(text, 1, n, out);
	fclose(in);
	fclose(out);
	for (int with_id = 0; with_id < 2; with_id++) {
		snprintf(text, sizeof text,
			 "name: t\nmodel: %s\n%svllm_version: \"0.19\"\n"
			 "workload: {synthetic: {requests: 10, arrival: {process: poisson, rate: 1},"
			 " input: {dist: constant, value: 100}, output: {dist: constant, value: 10}}}\n"
			 "policies:\n  - name: single\n    pools:\n"
			 "      - {name: all, gpu: h100, replicas: 1, max_model_len: 4096, block_size: 32,"
			 " enable_prefix_caching: false, async_scheduling: false}\n",
			 cfg, with_id ? "model_id: \"mistralai/Mistral-7B-v0.1\"\n" : "");
		if (scenario_load(tu_file("m.yaml", text), NULL, 0, &sc, &err))
			fprintf(stderr, "scenario: %s\n", err.msg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
		memset(r, 0, sizeof *r);
		r->noptions = 1;
		snprintf(r->model, sizeof r->model, "%s", sc->model.name);
		{
			plan_option *o = &r->options[0];
			o->feasible = 1;
			snprintf(o->label, sizeof o->label, "h100/bf16/single");
			snprintf(o->gpu, sizeof o->gpu, "h100");
			snprintf(o->gpu_display, sizeof o->gpu_display, "NVIDIA H100 SXM5 80GB");
			o->layout = PLAN_SINGLE;
			o->policy = 0;
			o->npools = 1;
			snprintf(o->pool_names[0], 64, "all");
			o->tp[0] = 2;
			o->max_model_len[0] = 4096;
			o->max_num_seqs[0] = 256;
			o->max_num_batched_tokens[0] = 2048;
			o->gpu_memory_utilization[0] = 0.9;
			o->best.replicas[0] = 3;
			o->best.npools = 1;
		}
		snprintf(path, sizeof path, "scen%d", with_id);
		CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, path), 0);
		CU_ASSERT_EQUAL_FATAL(sizing_write_manifests_for(r, &r->options[0], sc, dir, &err), 0);
		snprintf(path, sizeof path, "%s/all.yaml", dir);
		CU_ASSERT_EQUAL_FATAL(tu_yaml_docs(path, docs, 4), 2);
		{
			struct fy_node *d = fy_document_root(docs[0]);
			const char *model = arg_value(d, "--model=");
			CU_ASSERT_PTR_NOT_NULL_FATAL(model);
			if (with_id)
				CU_ASSERT_STRING_EQUAL(model, "mistralai/Mistral-7B-v0.1");
			if (!with_id)
				CU_ASSERT_STRING_EQUAL(model, cfgdir);
			CU_ASSERT_PTR_NULL(strstr(model, "config.json"));
			CU_ASSERT(has_arg(d, "--block-size=32"));
			CU_ASSERT(has_arg(d, "--no-enable-prefix-caching"));
			CU_ASSERT(has_arg(d, "--no-async-scheduling"));
			CU_ASSERT(has_arg(d, "--tensor-parallel-size=2"));
			CU_ASSERT(has_arg(d, "--dtype=bfloat16"));
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/containers/0/image")),
					       "vllm/vllm-openai:v0.19.0");
			CU_ASSERT_STRING_EQUAL(key_at(d, "/spec/template/spec/containers/0/resources/limits",
						      "nvidia.com/gpu"),
					       "2");
			/* TP 2: NCCL's /dev/shm is larger than TP 1's */
			CU_ASSERT_STRING_EQUAL(scal(at(d, "/spec/template/spec/volumes/0/emptyDir/sizeLimit")), "16Gi");
		}
		fy_document_destroy(docs[0]);
		fy_document_destroy(docs[1]);
		scenario_free(sc);
		sc = NULL;
	}
	free(r);
}

/* ---- the report ---- */

static void test_money(void)
{
	char b[64];

	sizing_fmt_usd(b, sizeof b, 43712.4, "/yr");
	CU_ASSERT_STRING_EQUAL(b, "$43.7k/yr");
	sizing_fmt_usd(b, sizeof b, 1254000, "/yr");
	CU_ASSERT_STRING_EQUAL(b, "$1.25M/yr");
	sizing_fmt_usd(b, sizeof b, 950, "");
	CU_ASSERT_STRING_EQUAL(b, "$950");
	sizing_fmt_usd(b, sizeof b, 0.4213, NULL);
	CU_ASSERT_STRING_EQUAL(b, "$0.42");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = 0;
	fclose(f);
	return buf;
}

static int on_path(const char *prog)
{
	const char *p = getenv("PATH");
	char buf[1024];

	while (p && *p) {
		size_t l = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)l, p, prog);
		if (!access(buf, X_OK))
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

/* A real plan (plan_tune.yaml, H100 BF16, single and dual, no verification) written as
 * a report: the HTML's structure, units and money. */
static void test_report_html(void)
{
	static const double hs[] = {1, 1.5};
	char path[512], dir[512], file[700];
	plan_request rq;
	plan_result *r = NULL;
	const plan_result *wi[1];
	double scales[1] = {1};
	sizing_opts so;
	fs_err err = {0};
	char *html, *md;

	if (!on_path("gnuplot")) {
		fprintf(stderr, "\n  SKIP: no gnuplot on PATH\n");
		return;
	}
	snprintf(path, sizeof path, "%s/tests/data/scenarios/plan_tune.yaml", FS_SOURCE_DIR);
	memset(&rq, 0, sizeof rq);
	rq.scenario_path = path;
	rq.ngpus = 1;
	snprintf(rq.gpus[0], sizeof rq.gpus[0], "h100");
	rq.nprecs = 1;
	rq.precs[0] = PREC_BF16;
	rq.nlayouts = 2;
	rq.layouts[0] = PLAN_SINGLE;
	rq.layouts[1] = PLAN_DUAL;
	rq.load_scale = 1;
	rq.max_preemptions_per_request = -1;
	rq.tune = 1;
	rq.plan_id = 1;
	if (plan_run(&rq, &r, &err))
		fprintf(stderr, "plan_run: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(tu_path(dir, sizeof dir, "report"), 0);
	memset(&so, 0, sizeof so);
	so.out_dir = dir;
	wi[0] = r;
	so.whatif = wi;
	so.whatif_scales = scales;
	so.nwhatif = 1;
	so.headroom_scales = hs;
	so.nheadroom = 2;
	if (sizing_write(&rq, r, &so, &err))
		fprintf(stderr, "sizing_write: %s\n", err.msg);
	snprintf(file, sizeof file, "%s/report.html", dir);
	html = slurp(file);
	snprintf(file, sizeof file, "%s/report.md", dir);
	md = slurp(file);
	CU_ASSERT_PTR_NOT_NULL_FATAL(html);
	CU_ASSERT_PTR_NOT_NULL_FATAL(md);
	/* sections, in order: summary first */
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section id=\"summary\">\n<h2>Executive summary</h2>"));
	CU_ASSERT(strstr(html, "Executive summary") < strstr(html, "<h2>Workload</h2>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<strong>Cost per year:</strong>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<strong>Assumes:</strong>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section id=\"assumptions\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "Assumptions and model fidelity"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "docs/fidelity.md"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "held-out MAPE 9.6 %"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "@media print"));
	/* the option table: ten columns at most, the recommended row marked */
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>rank</th><th>option</th><th>GPUs</th><th>fleet</th><th>TTFT p99</th>"
					    "<th>TPOT p99</th><th>cloud cost</th><th>vs baseline</th><th>power</th></tr>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr class=\"best\">"));
	/* the what-if table: options as rows, loads as columns */
	CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><th>option</th><th>x1 load</th></tr>"));
	/* units and money */
	CU_ASSERT_FALSE(matches("[^0-9.]1 (GPUs|replicas|servers|spares)", html));
	CU_ASSERT_FALSE(matches("[^0-9.]1 (GPUs|replicas|servers|spares)", md));
	CU_ASSERT(matches("\\$[0-9]+\\.[0-9]k/yr", html));
	CU_ASSERT_FALSE(matches("\\$[0-9]+\\.[0-9]{2,}k", html));
	CU_ASSERT_FALSE(matches("k\\$", html));
	CU_ASSERT(matches("[0-9]+ GPUs? of NVIDIA H100", html));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "## Executive summary"));
	CU_ASSERT_PTR_NOT_NULL(strstr(md, "| rank | option | GPUs | fleet |"));
	free(html);
	free(md);

	/* The recommended fleet's manifests, as the CLI writes them (with the scenario). */
	{
		walk w = {0};
		mani m;
		CU_ASSERT_FATAL(r->best >= 0);
		snprintf(file, sizeof file, "%s/manifests", dir);
		check_dir(file, &r->options[r->best], &m, &w);
		if (w.errors)
			fprintf(stderr, "\n%d rule violations, first %s\n", w.errors, w.first);
		CU_ASSERT_EQUAL(w.errors, 0);
		CU_ASSERT_EQUAL(m.ndeploy, r->options[r->best].npools);
		CU_ASSERT_EQUAL(m.gpus_quota, r->options[r->best].best.gpus);
		CU_ASSERT_STRING_EQUAL(m.flavor_value, "nvidia.com/gpu.product=NVIDIA-H100-80GB-HBM3");
		CU_ASSERT_PTR_NOT_NULL(strstr(m.router_yaml, "endpoint: \"http://vllm-"));
	}

	/* Printable: report.pdf through Chromium when it is installed. */
	if (on_path("chromium") || on_path("chromium-browser") || on_path("google-chrome")) {
		char *pdf;
		CU_ASSERT_EQUAL(sizing_write_pdf(dir, &err), 0);
		snprintf(file, sizeof file, "%s/report.pdf", dir);
		pdf = slurp(file);
		CU_ASSERT(pdf && !strncmp(pdf, "%PDF", 4));
		free(pdf);
	} else {
		fprintf(stderr, "\n  SKIP: no chromium, report.pdf not printed\n");
	}
	setenv("FLEETSIM_CHROMIUM", "/nonexistent/chromium", 1);
	CU_ASSERT_EQUAL(sizing_write_pdf(dir, &err), -1);
	CU_ASSERT_EQUAL(err.status, FS_EXIT_INPUT);
	unsetenv("FLEETSIM_CHROMIUM");
	plan_result_free(r);
}

int fs_test_register(void)
{
	CU_pSuite s = CU_add_suite("sizing", tu_suite_init, NULL);
	if (!s || !CU_add_test(s, "Kubernetes rules: coded regexes agree with k8s.c", test_rules) ||
	    !CU_add_test(s, "manifests follow Kubernetes' rules on every GPU", test_manifests_valid) ||
	    !CU_add_test(s, "manifests: model id and engine flags from the scenario", test_manifests_scenario) ||
	    !CU_add_test(s, "manifests: a GPU per pool (plan --mixed-gpus)", test_manifests_mixed) ||
	    !CU_add_test(s, "money format", test_money) ||
	    !CU_add_test(s, "report.html structure, units, money, PDF", test_report_html))
		return -1;
	return 0;
}
