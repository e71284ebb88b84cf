/*
 * sizing.h - the customer-facing output of `fleetsim plan`: report.html (one
 * self-contained file: inline CSS, plots as base64 PNG, opens offline), report.md
 * (plots linked from plots/), plots/ (png, svg, dat, gp) and manifests/ (yaml files)
 * (vLLM Deployments + Services per pool, Kueue flavor and queues, the router's
 * ConfigMap: reports/k8s.h).  report.html prints cleanly (print CSS); sizing_write_pdf
 * turns it into report.pdf when Chromium is installed.
 *
 * Writing the report re-simulates the recommended fleet (TTFT CDF, load headroom);
 * those runs are recorded in the plan's database like the search's, phase "report"
 * and "headroom".
 *
 * Owns: nothing after a call returns; the plan request and result are borrowed.
 */
#ifndef FS_SIZING_H
#define FS_SIZING_H

#include <stddef.h>

#include "reports/plan.h"
#include "scenarios/scenario.h"
#include "util/err.h"

typedef struct sizing_opts {
	const char *out_dir;                 /* created if missing */
	const plan_result *const *whatif;    /* plans at other loads (may include r itself) */
	const double *whatif_scales;         /* their load factors, ascending */
	int nwhatif;                         /* 0: no what-if section */
	const double *headroom_scales;       /* NULL: 1, 1.25, 1.5, 2, 3, 4 */
	int nheadroom;
} sizing_opts;

/* Write the report, plots and manifests for plan r (made from rq) into o->out_dir.
 * Returns 0, or -1 with err (FS_EXIT_RUNTIME for I/O, gnuplot or simulation failures).
 * With no feasible option the report says so and no manifests are written. */
int sizing_write(const plan_request *rq, const plan_result *r, const sizing_opts *o, fs_err *err);

/* Write the Kubernetes manifests for option opt of r into dir (created if missing):
 * DIR/<pool>.yaml (vLLM Deployment + Service), DIR/kueue-clusterqueue.yaml
 * (ResourceFlavor + ClusterQueue with the fleet's quotas), DIR/kueue-localqueues.yaml,
 * DIR/router-configmap.yaml (reports/k8s.h, docs/deploy.md).  sc: the scenario the
 * plan was made from, for what the plan does not carry (model_id:, vLLM release,
 * block size, prefix caching, async scheduling, the router's estimator and
 * spill-over); NULL: vLLM's defaults and the catalog's model id.  Returns 0 or -1
 * with err. */
int sizing_write_manifests_for(const plan_result *r, const plan_option *opt, const scenario *sc,
			       const char *dir, fs_err *err);
/* sizing_write_manifests_for without a scenario. */
int sizing_write_manifests(const plan_result *r, const plan_option *opt, const char *dir,
			   fs_err *err);

/* Print dir/report.html to dir/report.pdf with headless Chromium (chromium,
 * chromium-browser or google-chrome on PATH; $FLEETSIM_CHROMIUM overrides).  Returns 0,
 * or -1 with err: FS_EXIT_INPUT when no Chromium is found, FS_EXIT_RUNTIME when it
 * fails or writes no PDF. */
int sizing_write_pdf(const char *dir, fs_err *err);

/* Money for people: "$950", "$43.7k", "$1.25M" (suffix appended: "/yr", "" ...). */
void sizing_fmt_usd(char *buf, size_t cap, double usd, const char *suffix);

/* vLLM's spelling of a weight precision for --quantization (NULL for bf16: none) and
 * of a KV dtype for --kv-cache-dtype ("auto" for bf16). */
const char *sizing_vllm_quantization(prec_t p);
const char *sizing_vllm_kv_dtype(prec_t p);

#endif
