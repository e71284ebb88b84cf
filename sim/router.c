#include "sim/router.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


#define MAX_CATEGORIES 64

struct router {
	router_cfg cfg;
	int npools;
	gsl_rng *rng;             /* prompt-bytes noise when the trace has none */
	/* EST_PERCENTILE: ring buffer of recent outputs per category. */
	int32_t *ring[MAX_CATEGORIES];
	int ring_len[MAX_CATEGORIES], ring_pos[MAX_CATEGORIES];
	double *scratch;
	/* EST_BYTES_EMA state, per category slot (the paper learns one bytes-per-token
	 * ratio per request category: code and prose tokenise very differently). */
	double c_hat[MAX_CATEGORIES], var_hat[MAX_CATEGORIES];
	int64_t ema_n[MAX_CATEGORIES];
};

static const char *type_names[] = {"balance", "token_budget"};
static const char *est_names[] = {"oracle", "max_tokens", "percentile", "bytes_ema"};
static const char *bal_names[] = {"round_robin", "least_tokens", "least_kv"};

void router_cfg_default(router_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->type = ROUTER_BALANCE;
	c->estimator = EST_MAX_TOKENS;
	c->balance = BAL_LEAST_TOKENS;
	c->default_max_tokens = 256;
	c->spill_waiting_per_replica = 4.0;
	c->spill_kv_usage = 0.95;
	c->percentile = 0.9;
	c->percentile_window = 512;
	c->ema_alpha = 0.05;
	c->ema_gamma = 1.0;
	c->ema_c0 = 4.0;
	c->bytes_per_token = 4.0;
	c->bytes_noise = 0.1;
}

const char *router_type_name(router_type t) { return type_names[t]; }
const char *router_estimator_name(router_estimator e) { return est_names[e]; }
const char *router_balance_name(router_balance b) { return bal_names[b]; }

static int parse_name(const char *s, const char *const *names, int n, const char *what, int *out,
		      fs_err *err)
{
	char list[256] = "";

	for (int i = 0; i < n; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
		size_t l = strlen(list);
		snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", names[i]);
	}
	return fs_fail(err, FS_EXIT_INPUT, "unknown %s '%s' (known: %s)", what, s, list);
}

int router_parse_type(const char *s, router_type *out, fs_err *err)
{
	int v;
	/* "single" and "least_tokens"-style names are accepted as the balance router. */
	if (!strcmp(s, "single") || !strcmp(s, "none")) {
		*out = ROUTER_BALANCE;
		return 0;
	}
	if (!strcmp(s, "dual")) {
		*out = ROUTER_TOKEN_BUDGET;
		return 0;
	}
	if (parse_name(s, type_names, 2, "router type", &v, err))
		return -1;
	*out = (router_type)v;
	return 0;
}

int router_parse_estimator(const char *s, router_estimator *out, fs_err *err)
{
	int v;
	if (parse_name(s, est_names, 4, "estimator", &v, err))
		return -1;
	*out = (router_estimator)v;
	return 0;
}

int router_parse_balance(const char *s, router_balance *out, fs_err *err)
{
	int v;
	if (parse_name(s, bal_names, 3, "replica balance policy", &v, err))
		return -1;
	*out = (router_balance)v;
	return 0;
}

int router_create(const router_cfg *cfg, int npools, uint64_t seed, router **out, fs_err *err)
{
	router *r = calloc(1, sizeof *r);

	if (!r)
		goto oom;
	r->cfg = *cfg;
	r->npools = npools;
	r->rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (!r->rng)
		goto oom;
	/* Derive the router's stream from the run seed so it never correlates with the
	 * workload generator's. */
	gsl_rng_set(r->rng, (unsigned long)(seed * 0x9E3779B97F4A7C15ULL + 0x5151));
	if (cfg->estimator == EST_PERCENTILE) {
		if (cfg->percentile_window < 1)
			r->cfg.percentile_window = 1;
		r->scratch = malloc(sizeof(double) * (size_t)r->cfg.percentile_window);
		if (!r->scratch)
			goto oom;
	}
	for (int i = 0; i < MAX_CATEGORIES; i++) {
		r->c_hat[i] = cfg->ema_c0;
		r->var_hat[i] = 0.0;
	}
	*out = r;
	return 0;
oom:
	router_destroy(r);
	return fs_fail(err, FS_EXIT_RUNTIME, "out of memory creating the router");
}

void router_destroy(router *r)
{
	if (!r)
		return;
	for (int i = 0; i < MAX_CATEGORIES; i++)
		free(r->ring[i]);
	free(r->scratch);
	if (r->rng)
		gsl_rng_free(r->rng);
	free(r);
}

static int cat_slot(int32_t category)
{
	if (category < 0)
		return 0;
	return 1 + (category % (MAX_CATEGORIES - 1));
}

static int64_t output_bound(const router *r, const sim_req *q)
{
	return q->max_tokens >= 0 ? q->max_tokens : r->cfg.default_max_tokens;
}

static int64_t estimate(router *r, sim_req *q)
{
	switch (r->cfg.estimator) {
	case EST_ORACLE:
		return (int64_t)q->prompt + q->true_output;
	case EST_MAX_TOKENS:
		return (int64_t)q->prompt + output_bound(r, q);
	case EST_PERCENTILE: {
		int s = cat_slot(q->category), n = r->ring_len[s];
		double p;
		if (n == 0)
			return (int64_t)q->prompt + output_bound(r, q);
		for (int i = 0; i < n; i++)
			r->scratch[i] = r->ring[s][i];
		/* Sort a copy in the router's own scratch: no allocation per arrival. */
		gsl_sort(r->scratch, 1, (size_t)n);
		p = gsl_stats_quantile_from_sorted_data(r->scratch, 1, (size_t)n, r->cfg.percentile);
		/* Interpolated quantiles carry rounding dust (820.0000000001): do not let
		 * it add a token. */
		return (int64_t)q->prompt + (int64_t)ceil(p - 1e-6);
	}
	case EST_BYTES_EMA: {
		double c = router_ema_ratio(r, q->category);
		if (q->prompt_bytes < 0) {
			/* Token-count-only traces: synthesise the bytes the router would have
			 * seen, from a true ratio with per-request noise.  Stored in the request
			 * so router_observe learns from the same bytes the estimate used. */
			double ratio = r->cfg.bytes_per_token *
				       (1.0 + r->cfg.bytes_noise * gsl_ran_gaussian_ziggurat(r->rng, 1.0));
			if (ratio < 1.0)
				ratio = 1.0;
			q->prompt_bytes = (int32_t)ceil(ratio * q->prompt);
		}
		return (int64_t)ceil(q->prompt_bytes / c) + output_bound(r, q);
	}
	}
	return (int64_t)q->prompt + output_bound(r, q);
}

static int pool_class(const router *r, int64_t tokens)
{
	int i;
	for (i = 0; i < r->cfg.nthresholds; i++)
		if (tokens <= r->cfg.thresholds[i])
			return i;
	return i;
}

/* vLLM rejects prompt + max_tokens > max_model_len (prompt alone without max_tokens). */
static int fits(const sim_req *q, const router_pool_view *p)
{
	int64_t need = (int64_t)q->prompt + (q->max_tokens >= 0 ? q->max_tokens : 0);
	return q->prompt < p->max_model_len && need <= p->max_model_len;
}

static int overloaded(const router *r, const router_pool_view *p)
{
	if (p->replicas > 0 && (double)p->waiting / p->replicas > r->cfg.spill_waiting_per_replica)
		return 1;
	return p->kv_usage > r->cfg.spill_kv_usage;
}

int router_pick_pool(router *r, sim_req *q, const router_pool_view *pools, int npools)
{
	int want, truth, i;

	if (r->cfg.type == ROUTER_BALANCE || npools == 1) {
		q->est_tokens = (int64_t)q->prompt + q->true_output;
		for (i = 0; i < npools; i++)
			if (fits(q, &pools[i]))
				return i;
		return -1;
	}
	q->est_tokens = estimate(r, q);
	want = pool_class(r, q->est_tokens);
	if (want >= npools)
		want = npools - 1;
	truth = pool_class(r, (int64_t)q->prompt + q->true_output);
	if (truth >= npools)
		truth = npools - 1;
	q->misrouted = want != truth;
	/* The max_model_len guard: move up to the first larger pool that holds it, and
	 * only if none does, down. */
	if (!fits(q, &pools[want])) {
		int alt = -1;
		for (i = want + 1; i < npools && alt < 0; i++)
			if (fits(q, &pools[i]))
				alt = i;
		for (i = want - 1; i >= 0 && alt < 0; i--)
			if (fits(q, &pools[i]))
				alt = i;
		return alt;
	}
	if (r->cfg.spillover && overloaded(r, &pools[want])) {
		/* Spill to the nearest pool that holds the request and is not itself
		 * overloaded, preferring larger pools (they can hold longer contexts). */
		for (int d = 1; d < npools; d++) {
			int up = want + d, down = want - d;
			if (up < npools && fits(q, &pools[up]) && !overloaded(r, &pools[up]))
				return up;
			if (down >= 0 && fits(q, &pools[down]) && !overloaded(r, &pools[down]))
				return down;
		}
	}
	return want;
}

void router_observe(router *r, const sim_req *q)
{
	if (r->cfg.estimator == EST_PERCENTILE) {
		int s = cat_slot(q->category);
		if (!r->ring[s]) {
			r->ring[s] = malloc(sizeof(int32_t) * (size_t)r->cfg.percentile_window);
			if (!r->ring[s])
				return; /* estimator degrades to its cold-start bound */
		}
		r->ring[s][r->ring_pos[s]] = q->true_output;
		r->ring_pos[s] = (r->ring_pos[s] + 1) % r->cfg.percentile_window;
		if (r->ring_len[s] < r->cfg.percentile_window)
			r->ring_len[s]++;
	} else if (r->cfg.estimator == EST_BYTES_EMA && q->prompt > 0 && q->prompt_bytes > 0) {
		/* SPEC section 5: start from c0 (4.0 bytes/token) and move by EMA toward each
		 * finished request's true ratio; the variance is the matching exponentially
		 * weighted one (var <- (1-a)(var + a d^2)), so sigma_hat measures how much
		 * the category's ratio wanders around c_hat. */
		int s = cat_slot(q->category);
		double c = (double)q->prompt_bytes / q->prompt, a = r->cfg.ema_alpha;
		double d = c - r->c_hat[s];
		r->c_hat[s] += a * d;
		r->var_hat[s] = (1.0 - a) * (r->var_hat[s] + a * d * d);
		r->ema_n[s]++;
	}
}

double router_ema_ratio(const router *r, int32_t category)
{
	int s = cat_slot(category);
	double c = r->c_hat[s] - r->cfg.ema_gamma * sqrt(r->var_hat[s]);

	/* A conservative ratio under half a byte per token is not text: clamp, so a
	 * noisy cold start cannot blow an estimate up by orders of magnitude. */
	return c < 0.5 ? 0.5 : c;
}
