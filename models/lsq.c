#include "models/lsq.h"

#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double lsq_logistic(double x)
{
	return 1.0 / (1.0 + exp(-x));
}

double lsq_logit(double p)
{
	return log(p / (1.0 - p));
}

double lsq_huber(double r)
{
	double a = fabs(r);

	if (a <= LSQ_HUBER_C)
		return r;
	return copysign(sqrt(2.0 * LSQ_HUBER_C * a - LSQ_HUBER_C * LSQ_HUBER_C), r);
}

typedef struct call {
	lsq_fn f;
	void *ctx;
	double *x, *r; /* contiguous copies: GSL's vectors may be strided views */
} call;

static int gsl_f(const gsl_vector *x, void *data, gsl_vector *r)
{
	const call *c = data;

	for (size_t i = 0; i < x->size; i++)
		c->x[i] = gsl_vector_get(x, i);
	if (c->f(c->x, c->ctx, c->r, r->size))
		return GSL_EDOM;
	for (size_t i = 0; i < r->size; i++) {
		if (!isfinite(c->r[i]))
			return GSL_EDOM;
		gsl_vector_set(r, i, c->r[i]);
	}
	return GSL_SUCCESS;
}

int lsq_solve(lsq_fn f, void *ctx, size_t n, int p, double *x, int max_iter, const char *term,
	      int *iters, fs_err *err)
{
	gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
	gsl_multifit_nlinear_fdf fdf;
	gsl_multifit_nlinear_workspace *w = NULL;
	gsl_vector *x0 = NULL;
	gsl_error_handler_t *old;
	call c = {f, ctx, NULL, NULL};
	int info = 0, status, rc = -1;

	if (p < 1 || n < (size_t)p + 1)
		return fs_fail(err, FS_EXIT_INPUT, "%s: %zu residuals: too few rows to fit %s (%d unknowns)",
			       term, n, term, p);
	memset(&fdf, 0, sizeof fdf);
	fdf.f = gsl_f;
	fdf.df = NULL; /* finite differences */
	fdf.n = n;
	fdf.p = (size_t)p;
	fdf.params = &c;
	old = gsl_set_error_handler_off();
	w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, fdf.n, fdf.p);
	x0 = gsl_vector_alloc(fdf.p);
	c.x = malloc((size_t)p * sizeof *c.x);
	c.r = malloc(n * sizeof *c.r);
	if (!w || !x0 || !c.x || !c.r) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: out of memory", term);
		goto out;
	}
	for (int i = 0; i < p; i++)
		gsl_vector_set(x0, (size_t)i, x[i]);
	if (gsl_multifit_nlinear_init(x0, &fdf, w) != GSL_SUCCESS) {
		fs_fail(err, FS_EXIT_RUNTIME, "%s: the fit cannot start (model undefined at the start point)",
			term);
		goto out;
	}
	status = gsl_multifit_nlinear_driver((size_t)max_iter, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
	if (status != GSL_SUCCESS) {
		/* Includes GSL_EMAXITER: a fit that has not converged is not used. */
		fs_fail(err, FS_EXIT_RUNTIME, "%s: the fit did not converge (%s); nothing written", term,
			gsl_strerror(status));
		goto out;
	}
	for (int i = 0; i < p; i++) {
		x[i] = gsl_vector_get(w->x, (size_t)i);
		if (!isfinite(x[i])) {
			fs_fail(err, FS_EXIT_RUNTIME, "%s: the fit did not converge (non-finite parameter); "
				"nothing written", term);
			goto out;
		}
	}
	if (iters)
		*iters = (int)gsl_multifit_nlinear_niter(w);
	rc = 0;
out:
	if (w)
		gsl_multifit_nlinear_free(w);
	gsl_vector_free(x0);
	free(c.x);
	free(c.r);
	gsl_set_error_handler(old);
	return rc;
}
