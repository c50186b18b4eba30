/*
 * trend.c - polynomial trend fits (LAPACK dgelsd on a centred, scaled
 * Vandermonde matrix) and degree selection by AIC/BIC.
 *
 * DESIGN: with u = (t - c) / s the fit is p(t) = sum_j b_j u^j. The
 * coefficients of t are recovered by Horner's scheme on polynomials:
 * q <- q * (t/s - c/s) + b_j for j = d..0, which needs no binomials.
 */
#include "disco/tsa_trend.h"

#include <float.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NP (DISCO_TSA_POLY_MAX_DEGREE + 1)

typedef struct fit_work {
    double *a; /* n x NP, column-major */
    double *b; /* n */
    double s[NP];
} fit_work;

static double tval(const double *t, size_t i)
{
    return t ? t[i] : (double)i;
}

/* Rejects non-finite values and, when `increasing`, values not above their predecessor. */
static int check_values(const double *v, size_t n, const char *name, int increasing,
                        disco_status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, name, "%s[%zu] is %s", name, i,
                                    isnan(v[i]) ? "NaN" : "infinite");
        if (increasing && i > 0 && !(v[i] > v[i - 1]))
            return disco_status_set(st, DISCO_ERR_INVAL, name,
                                    "%s[%zu] = %g is not after %s[%zu] = %g", name, i, v[i], name,
                                    i - 1, v[i - 1]);
    }
    return DISCO_OK;
}

static int check_inputs(const double *t, const double *y, size_t n, int degree, size_t min_n,
                        disco_status *st)
{
    int rc;

    if (!y)
        return disco_status_set(st, DISCO_ERR_INVAL, "y", "y is NULL");
    if (degree < 0 || degree > DISCO_TSA_POLY_MAX_DEGREE)
        return disco_status_set(st, DISCO_ERR_INVAL, "degree", "degree %d out of range 0..%d",
                                degree, DISCO_TSA_POLY_MAX_DEGREE);
    if (n < min_n)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "%zu points too few for degree %d: need %zu", n, degree, min_n);
    if (n > INT_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "%zu points too many", n);
    if ((rc = check_values(y, n, "y", 0, st)) < 0)
        return rc;
    return t ? check_values(t, n, "t", 1, st) : DISCO_OK;
}

static int work_init(fit_work *w, size_t n, int degree, disco_status *st)
{
    w->a = malloc(sizeof *w->a * n * (size_t)(degree + 1));
    w->b = malloc(sizeof *w->b * n);
    if (w->a && w->b)
        return DISCO_OK;
    free(w->a);
    free(w->b);
    return disco_status_set(st, DISCO_ERR_NOMEM, "n", "no memory for a fit of %zu points", n);
}

static void work_release(fit_work *w)
{
    free(w->a);
    free(w->b);
}

static void set_scale(const double *t, size_t n, disco_tsa_poly *fit)
{
    double lo = tval(t, 0), hi = tval(t, n - 1);

    fit->centre = 0.5 * (lo + hi);
    fit->scale = hi > lo ? 0.5 * (hi - lo) : 1.0;
}

/* Solves for fit->ucoef by SVD least squares on the scaled Vandermonde matrix. */
static int solve(const double *t, const double *y, size_t n, fit_work *w, disco_tsa_poly *fit,
                 disco_status *st)
{
    int p = fit->degree + 1;
    lapack_int rank = 0, info;

    for (size_t i = 0; i < n; i++) {
        double u = (tval(t, i) - fit->centre) / fit->scale, v = 1.0;

        for (int j = 0; j < p; j++, v *= u)
            w->a[(size_t)j * n + i] = v;
        w->b[i] = y[i];
    }
    info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, (lapack_int)n, p, 1, w->a, (lapack_int)n, w->b,
                          (lapack_int)n, w->s, (double)n * DBL_EPSILON, &rank);
    if (info < 0)
        return disco_status_set(st, DISCO_ERR_NOMEM, "n", "dgelsd failed (%d) on %zu points",
                                (int)info, n);
    if (info > 0)
        return disco_status_set(st, DISCO_ERR_INTERNAL, "y", "SVD did not converge for degree %d",
                                fit->degree);
    if (rank < p)
        return disco_status_set(st, DISCO_ERR_INVAL, "t",
                                "degree %d fit is rank-deficient (rank %d of %d)", fit->degree,
                                (int)rank, p);
    memcpy(fit->ucoef, w->b, sizeof *w->b * (size_t)p);
    return DISCO_OK;
}

/* Expands the centred coefficients into powers of t, highest first. */
static void expand(disco_tsa_poly *fit)
{
    double q[NP] = {0}, a = 1.0 / fit->scale, b = -fit->centre / fit->scale;
    int d = fit->degree;

    q[0] = fit->ucoef[d];
    for (int j = d - 1; j >= 0; j--) {
        for (int i = d - j; i > 0; i--)
            q[i] = q[i - 1] * a + q[i] * b;
        q[0] = q[0] * b + fit->ucoef[j];
    }
    for (int i = 0; i <= d; i++)
        fit->coef[i] = q[d - i];
}

double disco_tsa_polyval(const disco_tsa_poly *fit, double t)
{
    double u = (t - fit->centre) / fit->scale, v = 0.0;

    for (int j = fit->degree; j >= 0; j--)
        v = v * u + fit->ucoef[j];
    return v;
}

double disco_tsa_polyder(const disco_tsa_poly *fit, double t)
{
    double u = (t - fit->centre) / fit->scale, v = 0.0;

    for (int j = fit->degree; j >= 1; j--)
        v = v * u + (double)j * fit->ucoef[j];
    return v / fit->scale;
}

static void fit_stats(const double *t, const double *y, size_t n, disco_tsa_poly *fit)
{
    double mean = 0.0, tss = 0.0, rss = 0.0, amax = 0.0, floor_rss, llf, p, nd = (double)n;
    double t0 = tval(t, 0), t1 = tval(t, n - 1);

    for (size_t i = 0; i < n; i++) {
        mean += y[i];
        amax = fmax(amax, fabs(y[i]));
    }
    mean /= nd;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] - disco_tsa_polyval(fit, tval(t, i));

        rss += r * r;
        tss += (y[i] - mean) * (y[i] - mean);
    }
    fit->n = n;
    fit->rss = rss;
    fit->r2 = tss > 0.0 ? 1.0 - rss / tss : 1.0;
    floor_rss = fmax(nd * (DBL_EPSILON * amax) * (DBL_EPSILON * amax), DBL_MIN);
    llf = -0.5 * nd * (log(2.0 * M_PI) + log(fmax(rss, floor_rss) / nd) + 1.0);
    p = (double)(fit->degree + 1);
    fit->aic = -2.0 * llf + 2.0 * p;
    fit->bic = -2.0 * llf + p * log(nd);
    fit->slope_end = disco_tsa_polyder(fit, t1);
    fit->slope_mean =
        t1 > t0 ? (disco_tsa_polyval(fit, t1) - disco_tsa_polyval(fit, t0)) / (t1 - t0) : 0.0;
}

static int fit_degree(const double *t, const double *y, size_t n, int degree, fit_work *w,
                      disco_tsa_poly *fit, disco_status *st)
{
    int rc;

    memset(fit, 0, sizeof *fit);
    fit->degree = degree;
    set_scale(t, n, fit);
    if ((rc = solve(t, y, n, w, fit, st)) < 0)
        return rc;
    expand(fit);
    fit_stats(t, y, n, fit);
    return DISCO_OK;
}

int disco_tsa_polyfit(const double *t, const double *y, size_t n, int degree, disco_tsa_poly *out,
                      disco_status *st)
{
    fit_work w;
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    if ((rc = check_inputs(t, y, n, degree, (size_t)degree + 1, st)) < 0)
        return rc;
    if ((rc = work_init(&w, n, degree, st)) < 0)
        return rc;
    rc = fit_degree(t, y, n, degree, &w, out, st);
    work_release(&w);
    return rc;
}

int disco_tsa_trend(const double *t, const double *y, size_t n, int max_degree,
                    disco_tsa_criterion criterion, disco_tsa_poly *out, disco_status *st)
{
    disco_tsa_poly fit;
    fit_work w;
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    if (criterion != DISCO_TSA_AIC && criterion != DISCO_TSA_BIC)
        return disco_status_set(st, DISCO_ERR_INVAL, "criterion", "criterion %d is not AIC or BIC",
                                (int)criterion);
    if ((rc = check_inputs(t, y, n, max_degree, (size_t)max_degree + 2, st)) < 0)
        return rc;
    if ((rc = work_init(&w, n, max_degree, st)) < 0)
        return rc;
    for (int d = 0; d <= max_degree; d++) {
        if ((rc = fit_degree(t, y, n, d, &w, &fit, st)) < 0)
            goto release_work;
        if (d == 0 || (criterion == DISCO_TSA_AIC ? fit.aic < out->aic : fit.bic < out->bic))
            *out = fit;
    }
release_work:
    work_release(&w);
    return rc;
}
