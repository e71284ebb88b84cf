/*
 * lsq.h - the nonlinear least squares both fitters share (models/calib.c: end-to-end
 * steps; models/opfit.c: operators): GSL's trust-region solver with a finite-difference
 * Jacobian on residuals the caller computes, plus the transforms that keep fitted
 * constants physical (efficiencies through a logistic, positive terms through exp)
 * and the Huber weighting of log ratios.
 *
 * Owns: nothing beyond one lsq_solve call (GSL workspace freed before it returns).
 */
#ifndef FS_LSQ_H
#define FS_LSQ_H

#include <stddef.h>

#include "util/err.h"

/* Huber threshold on log(predicted / measured): beyond ~5 % a point's pull stops
 * growing, so the fit is close to least absolute deviations (it targets the MAPE it
 * reports) and a few outliers cannot drag it. */
#define LSQ_HUBER_C 0.05

double lsq_logistic(double x);
double lsq_logit(double p);

/* The residual whose square is the Huber loss of r. */
double lsq_huber(double r);

/* Residuals of the p parameters x: write n values into r.  Returns 0, or -1 when the
 * model is undefined at x (the solver then backs off). */
typedef int (*lsq_fn)(const double *x, void *ctx, double *r, size_t n);

/* Minimise the sum of squares of f's n residuals over p parameters; x holds the
 * start and receives the solution, *iters the iteration count (may be NULL).
 * `term` names what is fitted in messages.  Returns 0, or -1: fewer residuals than
 * unknowns ("too few rows to fit TERM", FS_EXIT_INPUT), out of memory, or no
 * convergence within max_iter ("did not converge; nothing written",
 * FS_EXIT_RUNTIME).  Allocates nothing that outlives the call. */
int lsq_solve(lsq_fn f, void *ctx, size_t n, int p, double *x, int max_iter, const char *term,
	      int *iters, fs_err *err);

#endif
