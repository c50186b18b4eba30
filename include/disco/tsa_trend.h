/*
 * tsa_trend.h - polynomial trends: least-squares fits of a chosen degree
 * and the degree chosen by AIC or BIC.
 *
 * Pure computation on arrays: no storage. The fit is solved by LAPACK's
 * SVD least squares (dgelsd) on a Vandermonde matrix of the centred and
 * scaled time u = (t - centre) / scale, u in [-1, 1], which keeps it well
 * conditioned; the coefficients are then expanded back to powers of t.
 * The expanded coefficients match numpy.polyfit (highest power first).
 * For times far from zero (Unix seconds) the expanded form is itself ill
 * conditioned, so disco_tsa_polyval() and the slopes use the centred form.
 *
 * Criteria (Gaussian log-likelihood as statsmodels' OLS, p = degree + 1):
 *     llf = -n/2 (ln(2 pi) + ln(RSS/n) + 1)
 *     AIC = -2 llf + 2 p            BIC = -2 llf + p ln(n)
 * In the criteria RSS is floored at n (2^-52 max|y|)^2, so exact fits are
 * finite and the lowest exact degree wins.
 */
#ifndef DISCO_TSA_TREND_H
#define DISCO_TSA_TREND_H

#include "disco/err.h"

#include <stddef.h>

#define DISCO_TSA_POLY_MAX_DEGREE 10

typedef enum disco_tsa_criterion {
    DISCO_TSA_AIC = 0,
    DISCO_TSA_BIC = 1,
} disco_tsa_criterion;

/* A fitted polynomial; caller-owned, nothing to free. */
typedef struct disco_tsa_poly {
    int degree;
    double coef[DISCO_TSA_POLY_MAX_DEGREE + 1];  /* powers of t, highest first (degree+1 used) */
    double centre, scale;                        /* u = (t - centre) / scale */
    double ucoef[DISCO_TSA_POLY_MAX_DEGREE + 1]; /* powers of u, lowest first */
    size_t n;                                    /* points fitted */
    double rss;                                  /* residual sum of squares */
    double r2;                                   /* 1 - RSS/TSS (1 when y is constant) */
    double aic, bic;
    double slope_end;  /* derivative at the last time, y units per t unit */
    double slope_mean; /* (p(t[n-1]) - p(t[0])) / (t[n-1] - t[0]); 0 when n = 1 */
} disco_tsa_poly;

/*
 * Least-squares fit of y over t by a polynomial of `degree`
 * (0..DISCO_TSA_POLY_MAX_DEGREE) into `out`. `t` may be NULL: then t is
 * the index 0..n-1. Allocates its work arrays.
 * Errors (INVAL naming the input): NULL y or out, degree out of range,
 * n < degree + 1, a non-finite t[i] or y[i], t not strictly increasing
 * (naming the index), a numerically rank-deficient design; NOMEM;
 * INTERNAL when the SVD does not converge.
 */
int disco_tsa_polyfit(const double *t, const double *y, size_t n, int degree, disco_tsa_poly *out,
                      disco_status *st);

/*
 * Fits every degree 0..max_degree and keeps the one with the smallest AIC
 * or BIC (the lower degree on ties) in `out`. Errors as disco_tsa_polyfit,
 * and INVAL when n < max_degree + 2 (the criteria need a residual).
 */
int disco_tsa_trend(const double *t, const double *y, size_t n, int max_degree,
                    disco_tsa_criterion criterion, disco_tsa_poly *out, disco_status *st);

/* The fitted polynomial at time t (centred form). */
double disco_tsa_polyval(const disco_tsa_poly *fit, double t);

/* Its derivative at time t, in y units per t unit. */
double disco_tsa_polyder(const disco_tsa_poly *fit, double t);

#endif
