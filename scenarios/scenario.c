#include "scenarios/scenario.h"

#include "models/engine.h"

#include <cJSON.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/escape.h"
#include "util/yamlutil.h"

static const char *const top_keys[] = {
	"name", "description", "seed", "workload", "model", "model_id", "quantization",
	"kv_cache_dtype", "vllm_version", "slo", "policies", "metrics_interval", "drain",
	"sweep", /* read by reports/sweep.c (fleetsim sweep); ignored here */
	NULL};
static const char *const slo_keys[] = {"ttft_p99", "tpot_p99", "max_rejection_rate", "per_pool",
				       "pools", "classes", NULL};
static const char *const slo_target_keys[] = {"ttft_p99", "tpot_p99", NULL};
static const char *const slo_class_keys[] = {
	"name", "category", "min_tokens_total", "max_tokens_total", "min_prompt_tokens",
	"max_prompt_tokens", "ttft_p99", "tpot_p99", NULL};
static const char *const policy_keys[] = {"name", "router", "pools", NULL};
static const char *const router_keys[] = {
	"type", "threshold", "thresholds", "estimator", "spillover", "spill_waiting_per_replica",
	"spill_kv_usage", "balance", "default_max_tokens", "percentile", "percentile_window",
	"ema_alpha", "ema_gamma", "ema_c0", "bytes_per_token", "bytes_noise", NULL};
static const char *const pool_keys[] = {
	"name", "gpu", "replicas", "tensor_parallel_size", "max_model_len", "max_num_seqs",
	"max_num_batched_tokens", "gpu_memory_utilization", "block_size", "kv_cache_dtype",
	"quantization", "enable_prefix_caching", "long_prefill_token_threshold",
	"price_per_gpu_hour", "vllm_version", "async_scheduling", NULL};

/* Resolve a relative path against the scenario's directory; absolute paths and
 * catalog names (no '/') are kept.  Returns 0, or -1 when the result is too long. */
static int resolve(const scenario *sc, const char *in, char *out, size_t cap)
{
	int n;

	if (in[0] == '/' || !strchr(in, '/'))
		n = snprintf(out, cap, "%s", in);
	else
		n = snprintf(out, cap, "%s/%s", sc->dir, in);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A vllm_version: value (a string or a number such as 0.16). */
static int get_release(const char *file, struct fy_node *n, const eng_release **out, fs_err *err)
{
	char buf[32];

	if (yu_str(file, n, buf, sizeof buf, err))
		return -1;
	if (eng_lookup(buf, out, err))
		return yu_errf(err, file, n, "%s", err->msg);
	return 0;
}

static int get_prec(const char *file, struct fy_node *n, prec_t *out, fs_err *err)
{
	char buf[32];

	if (yu_str(file, n, buf, sizeof buf, err))
		return -1;
	if (prec_parse(buf, out, err))
		return yu_errf(err, file, n, "%s", err->msg);
	return 0;
}

/* Optional integer key with bounds: leaves *out alone when absent. */
static int opt_int(const char *file, struct fy_node *map, const char *key, int64_t lo, int64_t hi,
		   int *out, fs_err *err)
{
	struct fy_node *n = yu_get(map, key);
	int64_t v;

	if (!n)
		return 0;
	if (yu_i64_range(file, n, lo, hi, &v, err))
		return -1;
	*out = (int)v;
	return 0;
}

static int opt_double(const char *file, struct fy_node *map, const char *key, double lo, double hi,
		      double *out, fs_err *err)
{
	struct fy_node *n = yu_get(map, key);

	if (!n)
		return 0;
	return yu_double_range(file, n, lo, hi, out, err);
}

static int opt_bool(const char *file, struct fy_node *map, const char *key, int *out, fs_err *err)
{
	struct fy_node *n = yu_get(map, key);

	if (!n)
		return 0;
	return yu_bool(file, n, out, err);
}

static int parse_router(const scenario *sc, struct fy_node *n, router_cfg *r, fs_err *err)
{
	const char *f = sc->path;
	struct fy_node *v;
	char buf[64];

	if (yu_check_keys(f, n, router_keys, "router", err))
		return -1;
	if ((v = yu_get(n, "type"))) {
		if (yu_str(f, v, buf, sizeof buf, err))
			return -1;
		if (router_parse_type(buf, &r->type, err))
			return yu_errf(err, f, v, "%s", err->msg);
	}
	if ((v = yu_get(n, "estimator"))) {
		if (yu_str(f, v, buf, sizeof buf, err))
			return -1;
		if (router_parse_estimator(buf, &r->estimator, err))
			return yu_errf(err, f, v, "%s", err->msg);
	}
	if ((v = yu_get(n, "balance"))) {
		if (yu_str(f, v, buf, sizeof buf, err))
			return -1;
		if (router_parse_balance(buf, &r->balance, err))
			return yu_errf(err, f, v, "%s", err->msg);
	}
	if ((v = yu_get(n, "threshold"))) {
		if (yu_i64_range(f, v, 1, 1 << 30, &r->thresholds[0], err))
			return -1;
		r->nthresholds = 1;
	}
	if ((v = yu_get(n, "thresholds"))) {
		struct fy_node *item;
		void *it = NULL;
		if (yu_expect_seq(f, v, "router.thresholds", err))
			return -1;
		r->nthresholds = 0;
		while ((item = fy_node_sequence_iterate(v, &it))) {
			if (r->nthresholds >= FS_MAX_POOLS - 1)
				return yu_errf(err, f, item, "at most %d thresholds", FS_MAX_POOLS - 1);
			if (yu_i64_range(f, item, 1, 1 << 30, &r->thresholds[r->nthresholds], err))
				return -1;
			if (r->nthresholds && r->thresholds[r->nthresholds] <= r->thresholds[r->nthresholds - 1])
				return yu_errf(err, f, item, "thresholds must be strictly increasing");
			r->nthresholds++;
		}
	}
	if (opt_bool(f, n, "spillover", &r->spillover, err) ||
	    opt_double(f, n, "spill_waiting_per_replica", 0, 1e9, &r->spill_waiting_per_replica, err) ||
	    opt_double(f, n, "spill_kv_usage", 0, 1, &r->spill_kv_usage, err) ||
	    opt_int(f, n, "default_max_tokens", 1, 1 << 24, &r->default_max_tokens, err) ||
	    opt_double(f, n, "percentile", 0, 1, &r->percentile, err) ||
	    opt_int(f, n, "percentile_window", 1, 1 << 24, &r->percentile_window, err) ||
	    opt_double(f, n, "ema_alpha", 0, 1, &r->ema_alpha, err) ||
	    opt_double(f, n, "ema_gamma", 0, 100, &r->ema_gamma, err) ||
	    opt_double(f, n, "ema_c0", 0.1, 100, &r->ema_c0, err) ||
	    opt_double(f, n, "bytes_per_token", 0.1, 100, &r->bytes_per_token, err) ||
	    opt_double(f, n, "bytes_noise", 0, 10, &r->bytes_noise, err))
		return -1;
	return 0;
}

static int parse_pool(scenario *sc, struct fy_node *n, int idx, pool_cfg *p, fs_err *err)
{
	const char *f = sc->path;
	struct fy_node *v;
	char buf[1024];
	int tp = 1;
	int64_t mml_max = sc->model.max_position > 0 ? sc->model.max_position : (1 << 20);

	if (yu_check_keys(f, n, pool_keys, "pool", err))
		return -1;
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "pool%d", idx);
	if ((v = yu_get(n, "name")) && yu_name(f, v, "pool name", p->name, sizeof p->name, err))
		return -1;
	if (!(v = yu_get(n, "gpu")))
		return yu_errf(err, f, n, "pool '%s' needs a gpu (h100, h200, b200, a100, mi300x or a YAML file)",
			       p->name);
	if (yu_name(f, v, "gpu", buf, sizeof buf, err))
		return -1;
	if (resolve(sc, buf, p->gpu_name, sizeof p->gpu_name))
		return yu_errf(err, f, v, "path too long");
	if (gpu_lookup(p->gpu_name, &p->gpu, err))
		return yu_errf(err, f, v, "%s", err->msg);
	p->replicas = 1;
	mem_config_default(&p->mem);
	p->mem.weights = sc->quantization;
	p->mem.kv = sc->kv_cache_dtype;
	p->mem.eng = sc->eng;
	if ((v = yu_get(n, "vllm_version")) && get_release(f, v, &p->mem.eng, err))
		return -1;
	/* The release's API-server defaults for this GPU class (engine/arg_utils.py). */
	eng_pool_defaults(p->mem.eng, &p->gpu, &p->max_num_seqs, &p->max_num_batched_tokens,
			  &p->mem.gpu_memory_utilization);
	p->async_scheduling = p->mem.eng->async_scheduling;
	p->max_model_len = (int)(mml_max < (1 << 30) ? mml_max : (1 << 30));
	/* vLLM turns prefix caching off by default for hybrid (Mamba / Gated DeltaNet)
	 * models in every modelled release (docs/engine.md). */
	p->enable_prefix_caching = sc->model.state_bytes_per_seq > 0 ? 0 : 1;
	p->price_per_gpu_hour = p->gpu.price_per_hour;
	if (opt_int(f, n, "replicas", 1, 1000000, &p->replicas, err) ||
	    opt_int(f, n, "tensor_parallel_size", 1, 1024, &tp, err) ||
	    opt_int(f, n, "max_model_len", 16, mml_max, &p->max_model_len, err) ||
	    opt_int(f, n, "max_num_seqs", 1, 1 << 20, &p->max_num_seqs, err) ||
	    opt_int(f, n, "max_num_batched_tokens", 1, 1 << 24, &p->max_num_batched_tokens, err) ||
	    opt_double(f, n, "gpu_memory_utilization", 0.01, 1.0, &p->mem.gpu_memory_utilization, err) ||
	    opt_int(f, n, "block_size", 1, 1024, &p->mem.block_size, err) ||
	    opt_bool(f, n, "enable_prefix_caching", &p->enable_prefix_caching, err) ||
	    opt_bool(f, n, "async_scheduling", &p->async_scheduling, err) ||
	    opt_int(f, n, "long_prefill_token_threshold", 0, 1 << 24, &p->long_prefill_token_threshold, err) ||
	    opt_double(f, n, "price_per_gpu_hour", 0, 1e6, &p->price_per_gpu_hour, err))
		return -1;
	p->mem.tp = tp;
	if ((v = yu_get(n, "block_size")) && (p->mem.block_size & (p->mem.block_size - 1)))
		return yu_errf(err, f, v, "block_size must be a power of two, got %d", p->mem.block_size);
	if ((v = yu_get(n, "quantization")) && get_prec(f, v, &p->mem.weights, err))
		return -1;
	if ((v = yu_get(n, "kv_cache_dtype")) && get_prec(f, v, &p->mem.kv, err))
		return -1;
	if (p->max_num_batched_tokens < p->max_num_seqs)
		return yu_errf(err, f, n,
			       "pool '%s': max_num_batched_tokens (%d) must be at least max_num_seqs (%d), as vLLM requires",
			       p->name, p->max_num_batched_tokens, p->max_num_seqs);
	if (fleet_pool_prepare(p, &sc->model, err))
		return yu_errf(err, f, n, "%s", err->msg);
	return 0;
}

static int parse_policy(scenario *sc, struct fy_node *n, policy_cfg *pc, fs_err *err)
{
	const char *f = sc->path;
	struct fy_node *v, *item;
	void *it = NULL;

	if (yu_check_keys(f, n, policy_keys, "policy", err))
		return -1;
	memset(pc, 0, sizeof *pc);
	snprintf(pc->name, sizeof pc->name, "policy%d", sc->npolicies);
	if ((v = yu_get(n, "name")) && yu_name(f, v, "policy name", pc->name, sizeof pc->name, err))
		return -1;
	for (int i = 0; i < sc->npolicies; i++)
		if (!strcmp(sc->policies[i].name, pc->name))
			return yu_errf(err, f, v ? v : n, "duplicate policy name '%s'", pc->name);
	router_cfg_default(&pc->router);
	if ((v = yu_get(n, "router")) && parse_router(sc, v, &pc->router, err))
		return -1;
	if (!(v = yu_get(n, "pools")))
		return yu_errf(err, f, n, "policy '%s' needs a pools: list", pc->name);
	if (yu_expect_seq(f, v, "pools", err))
		return -1;
	while ((item = fy_node_sequence_iterate(v, &it))) {
		if (pc->npools >= FS_MAX_POOLS)
			return yu_errf(err, f, item, "at most %d pools per policy", FS_MAX_POOLS);
		if (parse_pool(sc, item, pc->npools, &pc->pools[pc->npools], err))
			return -1;
		for (int i = 0; i < pc->npools; i++)
			if (!strcmp(pc->pools[i].name, pc->pools[pc->npools].name))
				return yu_errf(err, f, item, "duplicate pool name '%s'", pc->pools[i].name);
		pc->npools++;
	}
	if (pc->npools == 0)
		return yu_errf(err, f, v, "policy '%s' has no pools", pc->name);
	if (pc->router.type == ROUTER_TOKEN_BUDGET) {
		if (pc->npools < 2)
			return yu_errf(err, f, n, "policy '%s': token_budget routing needs at least two pools",
				       pc->name);
		if (pc->router.nthresholds != pc->npools - 1)
			return yu_errf(err, f, yu_get(n, "router"),
				       "policy '%s': %d pools need %d threshold(s), found %d", pc->name,
				       pc->npools, pc->npools - 1, pc->router.nthresholds);
	}
	return 0;
}

/* An SLO latency bound: seconds, or a number with a unit ("2s", "50ms").  A bare number
 * beyond what a latency target plausibly is in seconds (TPOT > 1 s, TTFT > 600 s) loads
 * but leaves a warning in sc (a value meant as milliseconds is the usual cause). */
static int opt_slo_time(scenario *sc, struct fy_node *map, const char *key, const char *where, double warn_above,
			double *out, fs_err *err)
{
	struct fy_node *n = yu_get(map, key);
	int bare, line, col;

	if (!n)
		return 0;
	if (yu_duration_s(sc->path, n, 1e-6, 1e6, out, &bare, err))
		return -1;
	if (bare && *out > warn_above && sc->nwarnings < SCENARIO_MAX_WARNINGS) {
		char w[sizeof sc->warnings[0]];
		yu_pos(n, &line, &col);
		snprintf(w, sizeof w, "%.120s:%d:%d: %.40s%s %g is read as seconds; did you mean %gms? (write units: 2s, 50ms)",
			 sc->path, line, col, where, key, *out, *out);
		memcpy(sc->warnings[sc->nwarnings++], w, sizeof w);
	}
	return 0;
}

/* A ttft_p99 / tpot_p99 pair (slo.pools entries, slo.classes entries); unset stays 0. */
static int parse_slo_target(scenario *sc, struct fy_node *n, mx_slo *t, fs_err *err)
{
	return opt_slo_time(sc, n, "ttft_p99", "slo target ", 600, &t->ttft_p99_s, err) ||
			       opt_slo_time(sc, n, "tpot_p99", "slo target ", 1, &t->tpot_p99_s, err)
		       ? -1
		       : 0;
}

/* slo.pools and slo.classes (docs/planning.md "SLOs per class and per pool"); what
 * needs the policies and the workload is checked later (check_slo_detail). */
static int parse_slo_detail(scenario *sc, struct fy_node *slo, fs_err *err)
{
	const char *f = sc->path;
	mx_slo_detail *d = &sc->slo_detail;
	struct fy_node *v, *item;
	struct fy_node_pair *pr;
	void *it = NULL;

	if ((v = yu_get(slo, "pools"))) {
		if (yu_expect_map(f, v, "slo.pools", err))
			return -1;
		while ((pr = fy_node_mapping_iterate(v, &it))) {
			struct fy_node *k = fy_node_pair_key(pr), *val = fy_node_pair_value(pr);
			mx_slo_pool *sp;

			if (d->npools >= MX_SLO_MAX_POOLS)
				return yu_errf(err, f, k, "slo.pools: at most %d pools", MX_SLO_MAX_POOLS);
			sp = &d->pools[d->npools];
			if (yu_name(f, k, "slo.pools pool name", sp->name, sizeof sp->name, err) ||
			    yu_check_keys(f, val, slo_target_keys, "slo.pools entry", err) ||
			    parse_slo_target(sc, val, &sp->target, err))
				return -1;
			if (sp->target.ttft_p99_s <= 0 && sp->target.tpot_p99_s <= 0)
				return yu_errf(err, f, val, "slo.pools.%s: set ttft_p99 or tpot_p99", sp->name);
			d->npools++;
		}
	}
	it = NULL;
	if ((v = yu_get(slo, "classes"))) {
		if (yu_expect_seq(f, v, "slo.classes", err))
			return -1;
		while ((item = fy_node_sequence_iterate(v, &it))) {
			mx_slo_class *c;
			struct fy_node *cat, *b[4];
			int64_t lo = 0, hi = INT64_MAX, x;
			int prompt_keys, total_keys;

			if (d->nclasses >= MX_SLO_MAX_CLASSES)
				return yu_errf(err, f, item, "slo.classes: at most %d classes", MX_SLO_MAX_CLASSES);
			c = &d->classes[d->nclasses];
			if (yu_check_keys(f, item, slo_class_keys, "slo.classes entry", err))
				return -1;
			if (!yu_get(item, "name"))
				return yu_errf(err, f, item, "slo.classes entry needs a name:");
			if (yu_name(f, yu_get(item, "name"), "slo class name", c->name, sizeof c->name, err) ||
			    parse_slo_target(sc, item, &c->target, err))
				return -1;
			for (int k = 0; k < d->nclasses; k++)
				if (!strcmp(d->classes[k].name, c->name))
					return yu_errf(err, f, yu_get(item, "name"), "duplicate slo class name '%s'",
						       c->name);
			if (c->target.ttft_p99_s <= 0 && c->target.tpot_p99_s <= 0)
				return yu_errf(err, f, item, "slo class '%s': set ttft_p99 or tpot_p99", c->name);
			cat = yu_get(item, "category");
			b[0] = yu_get(item, "min_tokens_total");
			b[1] = yu_get(item, "max_tokens_total");
			b[2] = yu_get(item, "min_prompt_tokens");
			b[3] = yu_get(item, "max_prompt_tokens");
			total_keys = (b[0] != NULL) + (b[1] != NULL);
			prompt_keys = (b[2] != NULL) + (b[3] != NULL);
			if (cat && (total_keys || prompt_keys))
				return yu_errf(err, f, cat,
					       "slo class '%s': category: and a token range cannot be combined "
					       "(a request takes the first class that holds it; list two classes)",
					       c->name);
			if (total_keys && prompt_keys)
				return yu_errf(err, f, b[2] ? b[2] : b[3],
					       "slo class '%s': use either *_tokens_total or *_prompt_tokens, not both",
					       c->name);
			if (cat) {
				c->kind = MX_CLASS_CATEGORY;
				if (yu_name(f, cat, "slo class category", c->category, sizeof c->category, err))
					return -1;
				yu_pos(cat, &c->line, &c->col);
				for (int k = 0; k < d->nclasses; k++)
					if (d->classes[k].kind == MX_CLASS_CATEGORY &&
					    !strcmp(d->classes[k].category, c->category))
						return yu_errf(err, f, cat,
							       "slo class '%s': category '%s' is already class '%s'",
							       c->name, c->category, d->classes[k].name);
			} else if (total_keys || prompt_keys) {
				int o = prompt_keys ? 2 : 0;

				c->kind = prompt_keys ? MX_CLASS_PROMPT : MX_CLASS_TOTAL;
				if (b[o] && yu_i64_range(f, b[o], 0, INT64_MAX, &x, err))
					return -1;
				if (b[o])
					lo = x;
				if (b[o + 1] && yu_i64_range(f, b[o + 1], 0, INT64_MAX, &x, err))
					return -1;
				if (b[o + 1])
					hi = x;
				if (lo > hi)
					return yu_errf(err, f, b[o + 1], "slo class '%s': %s %lld < %s %lld", c->name,
						       o ? "max_prompt_tokens" : "max_tokens_total", (long long)hi,
						       o ? "min_prompt_tokens" : "min_tokens_total", (long long)lo);
				c->min_tokens = lo;
				c->max_tokens = hi;
				for (int k = 0; k < d->nclasses; k++) {
					const mx_slo_class *q = &d->classes[k];

					if (q->kind == c->kind && lo <= q->max_tokens && q->min_tokens <= hi)
						return yu_errf(err, f, b[o] ? b[o] : b[o + 1],
							       "slo class '%s' overlaps class '%s' (tokens %lld..%lld "
							       "and %lld..%lld)",
							       c->name, q->name, (long long)lo, (long long)hi,
							       (long long)q->min_tokens, (long long)q->max_tokens);
				}
			} else {
				return yu_errf(err, f, item,
					       "slo class '%s' needs category: or a token range (min_tokens_total/"
					       "max_tokens_total or min_prompt_tokens/max_prompt_tokens)",
					       c->name);
			}
			d->nclasses++;
		}
	}
	return 0;
}

/* Whether name is a category of synthetic source s. */
static int synth_has_category(const workload_src *s, const char *name)
{
	for (int i = 0; i < s->synth.n_cats; i++)
		if (!strcmp(s->synth.cats[i].name, name))
			return 1;
	return 0;
}

/* What slo.pools and slo.classes name must exist: every slo.pools name is a pool of
 * some policy; a class's category is one of the workload's when the workload is all
 * synthetic (trace categories are known only once read: the runner checks those). */
static int check_slo_detail(const scenario *sc, struct fy_node *slo, fs_err *err)
{
	const mx_slo_detail *d = &sc->slo_detail;
	const workload_cfg *w = &sc->workload;
	struct fy_node *pools = yu_get(slo, "pools");
	struct fy_node_pair *pr;
	void *it = NULL;
	int all_synth = 1;

	for (int j = 0; pools && (pr = fy_node_mapping_iterate(pools, &it)); j++) {
		int found = 0;

		for (int i = 0; i < sc->npolicies && !found; i++)
			for (int p = 0; p < sc->policies[i].npools; p++)
				found |= !strcmp(sc->policies[i].pools[p].name, d->pools[j].name);
		if (!found)
			return yu_errf(err, sc->path, fy_node_pair_key(pr), "slo.pools: no policy has a pool '%s'",
				       d->pools[j].name);
	}
	if (w->n_mix == 0)
		all_synth = w->src.has_synth;
	for (int m = 0; m < w->n_mix; m++)
		all_synth &= w->mix[m].has_synth;
	for (int k = 0; all_synth && k < d->nclasses; k++) {
		const mx_slo_class *c = &d->classes[k];
		int found = 0;

		if (c->kind != MX_CLASS_CATEGORY)
			continue;
		if (w->n_mix == 0)
			found = synth_has_category(&w->src, c->category);
		for (int m = 0; m < w->n_mix; m++)
			found |= synth_has_category(&w->mix[m], c->category);
		if (!found && c->line > 0)
			return fs_fail(err, FS_EXIT_INPUT,
				       "%s:%d:%d: slo class '%s': the workload has no category '%s'", sc->path,
				       c->line, c->col, c->name, c->category);
		if (!found)
			return fs_fail(err, FS_EXIT_INPUT, "%s: slo class '%s': the workload has no category '%s'",
				       sc->path, c->name, c->category);
	}
	return 0;
}

static int parse(scenario *sc, struct fy_node *root, fs_err *err)
{
	const char *f = sc->path;
	struct fy_node *v, *item;
	void *it = NULL;
	char buf[1024];
	int64_t seed;

	if (yu_check_keys(f, root, top_keys, "scenario", err))
		return -1;
	if ((v = yu_get(root, "name")) && yu_name(f, v, "scenario name", sc->name, sizeof sc->name, err))
		return -1;
	if ((v = yu_get(root, "seed"))) {
		if (yu_i64_range(f, v, 0, INT64_MAX, &seed, err))
			return -1;
		sc->seed = (uint64_t)seed;
	}
	if (!(v = yu_get(root, "model")))
		return yu_errf(err, f, root, "scenario needs a model: (catalog name or config.json path)");
	if (yu_name(f, v, "model", buf, sizeof buf, err))
		return -1;
	if (resolve(sc, buf, sc->model_name, sizeof sc->model_name))
		return yu_errf(err, f, v, "path too long");
	if (llm_lookup(sc->model_name, &sc->model, err))
		return yu_errf(err, f, v, "%s", err->msg);
	/* model_id: what a deployment serves (--model of the manifests: a Hugging Face id
	 * or a path inside the container); never simulated.  A name, like the others. */
	if ((v = yu_get(root, "model_id")) &&
	    yu_name(f, v, "model_id", sc->model_id, sizeof sc->model_id, err))
		return -1;
	if ((v = yu_get(root, "quantization")) && get_prec(f, v, &sc->quantization, err))
		return -1;
	if ((v = yu_get(root, "kv_cache_dtype")) && get_prec(f, v, &sc->kv_cache_dtype, err))
		return -1;
	sc->eng = eng_default();
	if ((v = yu_get(root, "vllm_version")) && get_release(f, v, &sc->eng, err))
		return -1;
	sc->slo_detail.per_pool = 1;
	if ((v = yu_get(root, "slo"))) {
		sc->slo_detail.present = 1;
		if (yu_check_keys(f, v, slo_keys, "slo", err) ||
		    opt_slo_time(sc, v, "ttft_p99", "slo.", 600, &sc->slo.ttft_p99_s, err) ||
		    opt_slo_time(sc, v, "tpot_p99", "slo.", 1, &sc->slo.tpot_p99_s, err) ||
		    opt_double(f, v, "max_rejection_rate", 0, 1, &sc->max_rejection_rate, err) ||
		    opt_bool(f, v, "per_pool", &sc->slo_detail.per_pool, err) || parse_slo_detail(sc, v, err))
			return -1;
	}
	if (opt_double(f, root, "metrics_interval", 1e-3, 1e6, &sc->metrics_interval_s, err) ||
	    opt_bool(f, root, "drain", &sc->drain, err))
		return -1;
	if (!(v = yu_get(root, "workload")))
		return yu_errf(err, f, root, "scenario needs a workload: (trace: FILE or synthetic: ...)");
	if (workload_from_yaml(f, v, sc->dir, &sc->workload, err))
		return -1;
	if (!(v = yu_get(root, "policies")))
		return yu_errf(err, f, root, "scenario needs a policies: list (each with pools:)");
	if (yu_expect_seq(f, v, "policies", err))
		return -1;
	while ((item = fy_node_sequence_iterate(v, &it))) {
		if (sc->npolicies >= SCENARIO_MAX_POLICIES)
			return yu_errf(err, f, item, "at most %d policies", SCENARIO_MAX_POLICIES);
		if (parse_policy(sc, item, &sc->policies[sc->npolicies], err))
			return -1;
		sc->npolicies++;
	}
	if (sc->npolicies == 0)
		return yu_errf(err, f, v, "policies: list is empty");
	return check_slo_detail(sc, yu_get(root, "slo"), err);
}

/* The loader proper on a parsed document (consumed: destroyed here); sc holds the
 * path and directory already. */
static int load_doc(scenario *sc, struct fy_document *doc, const char *const *sets, int nsets,
		    scenario **out, fs_err *err)
{
	sc->seed = 42;
	sc->quantization = PREC_BF16;
	sc->kv_cache_dtype = PREC_BF16;
	sc->max_rejection_rate = -1;
	sc->metrics_interval_s = 1.0;
	sc->drain = 1;
	sc->workload = workload_cfg_default();
	for (int i = 0; i < nsets; i++)
		if (yu_set_path(doc, sets[i], err))
			goto fail;
	if (parse(sc, fy_document_root(doc), err))
		goto fail;
	sc->params_json = fy_emit_document_to_string(doc, FYECF_MODE_JSON_ONELINE);
	fy_document_destroy(doc);
	*out = sc;
	return 0;
fail:
	fy_document_destroy(doc);
	scenario_free(sc);
	return -1;
}

int scenario_load(const char *path, const char *const *sets, int nsets, scenario **out,
		  fs_err *err)
{
	struct fy_document *doc = NULL;
	scenario *sc = calloc(1, sizeof *sc);
	char tmp[1024];

	if (!sc)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory loading %s", path);
	/* The file's path names the scenario when it sets no name: */
	if (esc_has_ctrl(path)) {
		free(sc);
		return fs_fail(err, FS_EXIT_INPUT, "%s: the path contains a control character", path);
	}
	snprintf(sc->path, sizeof sc->path, "%s", path);
	snprintf(tmp, sizeof tmp, "%s", path);
	snprintf(sc->dir, sizeof sc->dir, "%s", dirname(tmp));
	snprintf(sc->name, sizeof sc->name, "%s", path);
	if (yu_load_file(path, &doc, err)) {
		free(sc);
		return -1;
	}
	return load_doc(sc, doc, sets, nsets, out, err);
}

int scenario_load_string(const char *name, const char *text, size_t len, const char *base_dir,
			 const char *const *sets, int nsets, scenario **out, fs_err *err)
{
	struct fy_document *doc = NULL;
	scenario *sc = calloc(1, sizeof *sc);

	if (!sc)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory loading %s", name);
	if (esc_has_ctrl(name)) {
		free(sc);
		return fs_fail(err, FS_EXIT_INPUT, "%s: the name contains a control character", name);
	}
	snprintf(sc->path, sizeof sc->path, "%s", name);
	snprintf(sc->dir, sizeof sc->dir, "%s", base_dir && *base_dir ? base_dir : ".");
	snprintf(sc->name, sizeof sc->name, "%s", name);
	if (yu_load_string(name, text, len, &doc, err)) {
		free(sc);
		return -1;
	}
	return load_doc(sc, doc, sets, nsets, out, err);
}

struct scenario_src {
	char name[1024];
	char dir[1024];
	char *text;               /* the copy libfyaml's tokens point into */
	struct fy_document *doc;  /* parsed and resolved, never modified */
	pthread_mutex_t lock;     /* clones share tokens (their reference counts, lazily
				   * decoded text) with doc: one load at a time */
};

int scenario_src_open(const char *name, const char *text, size_t len, const char *base_dir,
		      scenario_src **out, fs_err *err)
{
	scenario_src *src;

	if (esc_has_ctrl(name))
		return fs_fail(err, FS_EXIT_INPUT, "%s: the name contains a control character", name);
	src = calloc(1, sizeof *src);
	if (!src || !(src->text = malloc(len ? len : 1))) {
		free(src);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory loading %s", name);
	}
	memcpy(src->text, text, len);
	snprintf(src->name, sizeof src->name, "%s", name);
	snprintf(src->dir, sizeof src->dir, "%s", base_dir && *base_dir ? base_dir : ".");
	if (yu_load_string(name, src->text, len, &src->doc, err)) {
		free(src->text);
		free(src);
		return -1;
	}
	if (pthread_mutex_init(&src->lock, NULL)) {
		fy_document_destroy(src->doc);
		free(src->text);
		free(src);
		return fs_fail(err, FS_EXIT_RUNTIME, "cannot create a lock loading %s", name);
	}
	*out = src;
	return 0;
}

int scenario_src_load(scenario_src *src, const char *const *sets, int nsets, scenario **out,
		      fs_err *err)
{
	struct fy_document *doc;
	scenario *sc = calloc(1, sizeof *sc);
	int rc;

	if (!sc)
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory loading %s", src->name);
	snprintf(sc->path, sizeof sc->path, "%s", src->name);
	snprintf(sc->dir, sizeof sc->dir, "%s", src->dir);
	snprintf(sc->name, sizeof sc->name, "%.*s", (int)sizeof sc->name - 1, src->name);
	pthread_mutex_lock(&src->lock);
	doc = fy_document_clone(src->doc);
	if (!doc) {
		pthread_mutex_unlock(&src->lock);
		free(sc);
		return fs_fail(err, FS_EXIT_RUNTIME, "out of memory copying %s", src->name);
	}
	rc = load_doc(sc, doc, sets, nsets, out, err);
	pthread_mutex_unlock(&src->lock);
	return rc;
}

void scenario_src_free(scenario_src *src)
{
	if (!src)
		return;
	pthread_mutex_destroy(&src->lock);
	fy_document_destroy(src->doc);
	free(src->text);
	free(src);
}

void scenario_free(scenario *sc)
{
	if (!sc)
		return;
	free(sc->params_json);
	workload_cfg_free(&sc->workload);
	free(sc);
}

char *scenario_policy_json(const scenario *sc, int i)
{
	const policy_cfg *pc = &sc->policies[i];
	cJSON *o = cJSON_CreateObject(), *r, *pools;
	char *s;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "scenario", sc->name);
	cJSON_AddStringToObject(o, "policy", pc->name);
	cJSON_AddStringToObject(o, "model", sc->model.name);
	cJSON_AddNumberToObject(o, "seed", (double)sc->seed);
	/* The default SLO in seconds as loaded: scenario_file keeps what was written
	 * ("2s", "50ms"), which readers must not take as a number. */
	if (sc->slo.ttft_p99_s > 0 || sc->slo.tpot_p99_s > 0) {
		cJSON *so = cJSON_AddObjectToObject(o, "slo");
		if (sc->slo.ttft_p99_s > 0)
			cJSON_AddNumberToObject(so, "ttft_p99_s", sc->slo.ttft_p99_s);
		if (sc->slo.tpot_p99_s > 0)
			cJSON_AddNumberToObject(so, "tpot_p99_s", sc->slo.tpot_p99_s);
	}
	r = cJSON_AddObjectToObject(o, "router");
	cJSON_AddStringToObject(r, "type", router_type_name(pc->router.type));
	cJSON_AddStringToObject(r, "balance", router_balance_name(pc->router.balance));
	if (pc->router.type == ROUTER_TOKEN_BUDGET) {
		cJSON *t = cJSON_AddArrayToObject(r, "thresholds");
		for (int k = 0; k < pc->router.nthresholds; k++)
			cJSON_AddItemToArray(t, cJSON_CreateNumber((double)pc->router.thresholds[k]));
		cJSON_AddStringToObject(r, "estimator", router_estimator_name(pc->router.estimator));
		cJSON_AddBoolToObject(r, "spillover", pc->router.spillover);
	}
	pools = cJSON_AddArrayToObject(o, "pools");
	for (int k = 0; k < pc->npools; k++) {
		const pool_cfg *p = &pc->pools[k];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "name", p->name);
		cJSON_AddStringToObject(j, "gpu", p->gpu.name);
		cJSON_AddNumberToObject(j, "replicas", p->replicas);
		cJSON_AddNumberToObject(j, "tensor_parallel_size", p->mem.tp);
		cJSON_AddStringToObject(j, "quantization", prec_name(p->mem.weights));
		cJSON_AddStringToObject(j, "kv_cache_dtype", prec_name(p->mem.kv));
		cJSON_AddNumberToObject(j, "max_model_len", p->max_model_len);
		cJSON_AddNumberToObject(j, "max_num_seqs", p->max_num_seqs);
		cJSON_AddNumberToObject(j, "max_num_batched_tokens", p->max_num_batched_tokens);
		cJSON_AddNumberToObject(j, "gpu_memory_utilization", p->mem.gpu_memory_utilization);
		cJSON_AddNumberToObject(j, "block_size", p->mem.block_size);
		cJSON_AddBoolToObject(j, "enable_prefix_caching", p->enable_prefix_caching);
		cJSON_AddStringToObject(j, "vllm_version", p->mem.eng ? p->mem.eng->version : eng_default()->version);
		cJSON_AddBoolToObject(j, "async_scheduling", p->async_scheduling);
		cJSON_AddNumberToObject(j, "kv_blocks", (double)p->plan.kv_blocks);
		cJSON_AddNumberToObject(j, "price_per_gpu_hour", p->price_per_gpu_hour);
		cJSON_AddItemToArray(pools, j);
	}
	if (sc->params_json) {
		cJSON *doc = cJSON_Parse(sc->params_json);
		if (doc)
			cJSON_AddItemToObject(o, "scenario_file", doc);
	}
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* --- Inputs a loaded scenario references (sweep identity) ------------------------- */

static int ends_with_ci(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcasecmp(s + n - m, suf);
}

static int add_input(char ***v, int *n, int *cap, const char *path)
{
	char *c;

	if (!path || !*path)
		return 0;
	for (int i = 0; i < *n; i++)
		if (!strcmp((*v)[i], path))
			return 0;
	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 8;
		char **nv = realloc(*v, (size_t)nc * sizeof *nv);
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	if (!(c = strdup(path)))
		return -1;
	(*v)[(*n)++] = c;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_input_files(const scenario *sc, char ***paths, int *n)
{
	char **v = NULL, buf[1100];
	int cnt = 0, cap = 0;
	struct stat st;
	const workload_cfg *w = &sc->workload;

	*paths = NULL;
	*n = 0;
	/* The model: a config.json path, or a directory holding one (as llm_lookup). */
	if (strchr(sc->model_name, '/') || ends_with_ci(sc->model_name, ".json") ||
	    (stat(sc->model_name, &st) == 0 && S_ISDIR(st.st_mode))) {
		if (stat(sc->model_name, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(buf, sizeof buf, "%s/config.json", sc->model_name);
		else
			snprintf(buf, sizeof buf, "%s", sc->model_name);
		if (add_input(&v, &cnt, &cap, buf))
			goto oom;
	}
	/* GPU YAML files (as gpu_lookup: a path, or a name ending .yaml / .yml). */
	for (int i = 0; i < sc->npolicies; i++)
		for (int k = 0; k < sc->policies[i].npools; k++) {
			const char *g = sc->policies[i].pools[k].gpu_name;
			if ((strchr(g, '/') || ends_with_ci(g, ".yaml") || ends_with_ci(g, ".yml")) &&
			    add_input(&v, &cnt, &cap, g))
				goto oom;
		}
	/* Trace files: the single source or each mix entry. */
	if (w->n_mix == 0) {
		if (add_input(&v, &cnt, &cap, w->src.trace))
			goto oom;
	} else {
		for (int i = 0; i < w->n_mix && i < WORKLOAD_MAX_MIX; i++)
			if (add_input(&v, &cnt, &cap, w->mix[i].trace))
				goto oom;
	}
	if (cnt > 1)
		qsort(v, (size_t)cnt, sizeof *v, cmp_str);
	*paths = v;
	*n = cnt;
	return 0;
oom:
	for (int i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	return -1;
}
