/*
 * correlate.c - Pearson and Spearman correlation with two-sided p-values,
 * co-movement, and rolling correlation.
 *
 * Pairs with a NaN on either side are skipped everywhere, so series
 * aligned onto a common grid (align.c leaves NaN outside a series' range)
 * can be passed as they are. Sums are taken about the means (two passes)
 * to avoid the cancellation of the one-pass formula. The p-value is
 * 2 Q_t(|t|, n - 2) with t = r sqrt((n - 2) / (1 - r^2)), via GSL.
 */
#include "disco/tsa_compare.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

/* Centred sums over the pairs without NaN. */
typedef struct corr_sums {
    size_t n;
    double sxx, syy, sxy;
} corr_sums;

static corr_sums corr_centred(const double *x, const double *y, size_t n)
{
    corr_sums s = {0};
    double mx = 0.0, my = 0.0;

    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        mx += x[i];
        my += y[i];
        s.n++;
    }
    if (s.n == 0)
        return s;
    mx /= (double)s.n;
    my /= (double)s.n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        s.sxx += (x[i] - mx) * (x[i] - mx);
        s.syy += (y[i] - my) * (y[i] - my);
        s.sxy += (x[i] - mx) * (y[i] - my);
    }
    return s;
}

static double corr_r(const corr_sums *s)
{
    double r = s->sxy / sqrt(s->sxx * s->syy);

    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

static double corr_p(double r, size_t n)
{
    double df = (double)(n - 2), t, p;

    if (fabs(r) >= 1.0)
        return 0.0;
    t = r * sqrt(df / (1.0 - r * r));
    p = 2.0 * gsl_cdf_tdist_Q(fabs(t), df);
    return p > 1.0 ? 1.0 : p;
}

static int corr_check(const double *x, const double *y, size_t n, disco_status *st)
{
    if (!x || !y)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x and y are required");
    if (n < 3)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "%zu pairs: correlation needs 3", n);
    for (size_t i = 0; i < n; i++) {
        if (isinf(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is infinite", i);
        if (isinf(y[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "y", "y[%zu] is infinite", i);
    }
    return DISCO_OK;
}

/* r and p from centred sums, or INVAL naming what made them undefined. */
static int corr_finish(const corr_sums *s, disco_tsa_corr *out, disco_status *st)
{
    if (s->n < 3)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "%zu pairs without NaN: correlation needs 3", s->n);
    if (s->sxx == 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x is constant over %zu pairs", s->n);
    if (s->syy == 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "y", "y is constant over %zu pairs", s->n);
    out->r = corr_r(s);
    out->p = corr_p(out->r, s->n);
    out->n = s->n;
    return DISCO_OK;
}

int disco_tsa_pearson(const double *x, const double *y, size_t n, disco_tsa_corr *out,
                      disco_status *st)
{
    corr_sums s;
    int rc;

    if ((rc = corr_check(x, y, n, st)))
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is required");
    s = corr_centred(x, y, n);
    return corr_finish(&s, out, st);
}

typedef struct rank_item {
    double v;
    size_t i;
} rank_item;

static int rank_cmp(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;

    return (a->v > b->v) - (a->v < b->v);
}

/* Replaces v[0..n) by its ranks (1-based), ties sharing their average rank. */
static void rank_average(double *v, size_t n, rank_item *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (rank_item){v[i], i};
    qsort(tmp, n, sizeof *tmp, rank_cmp);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        double rank;

        for (hi = lo + 1; hi < n && tmp[hi].v == tmp[lo].v; hi++)
            ;
        rank = (double)(lo + hi + 1) / 2.0;
        for (size_t k = lo; k < hi; k++)
            v[tmp[k].i] = rank;
    }
}

int disco_tsa_spearman(const double *x, const double *y, size_t n, disco_tsa_corr *out,
                       disco_status *st)
{
    double *rx = NULL;
    rank_item *tmp = NULL;
    corr_sums s;
    size_t used = 0;
    int rc;

    if ((rc = corr_check(x, y, n, st)))
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is required");
    rx = malloc(2 * n * sizeof *rx);
    tmp = malloc(n * sizeof *tmp);
    if (!rx || !tmp) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "ranks of %zu pairs", n);
        goto free_ranks;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            continue;
        rx[used] = x[i];
        rx[n + used++] = y[i];
    }
    rank_average(rx, used, tmp);
    rank_average(rx + n, used, tmp);
    s = corr_centred(rx, rx + n, used);
    rc = corr_finish(&s, out, st);
free_ranks:
    free(tmp);
    free(rx);
    return rc;
}

static int sign_of(double d)
{
    return (d > 0.0) - (d < 0.0);
}

int disco_tsa_comovement(const double *x, const double *y, size_t n, disco_tsa_comove *out,
                         disco_status *st)
{
    disco_tsa_comove c = {0};

    if (!x || !y || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x, y and out are required");
    if (n < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "%zu points: co-movement needs 2", n);
    for (size_t t = 1; t < n; t++) {
        int sx = sign_of(x[t] - x[t - 1]), sy = sign_of(y[t] - y[t - 1]);

        if (sx == 0 || sy == 0) /* flat, or NaN (the sign of NaN is 0) */
            continue;
        c.steps++;
        c.same += sx == sy;
    }
    if (c.steps == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "no step of %zu points where both series moved", n);
    c.fraction = (double)c.same / (double)c.steps;
    *out = c;
    return DISCO_OK;
}

int disco_tsa_rolling_corr(const double *x, const double *y, size_t n, size_t window, double *out,
                           disco_status *st)
{
    if (!x || !y || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x, y and out are required");
    if (window < 3 || window > n)
        return disco_status_set(st, DISCO_ERR_INVAL, "window",
                                "window %zu out of range 3..%zu (the series length)", window, n);
    for (size_t i = 0; i < n; i++) {
        corr_sums s;

        out[i] = NAN;
        if (i + 1 < window)
            continue;
        s = corr_centred(x + i + 1 - window, y + i + 1 - window, window);
        if (s.n >= 3 && s.sxx > 0.0 && s.syy > 0.0 && isfinite(s.sxx * s.syy) && isfinite(s.sxy))
            out[i] = corr_r(&s);
    }
    return DISCO_OK;
}
