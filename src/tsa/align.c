/*
 * align.c - bringing series with different timestamps onto one grid, and
 * finding how far one series lags another.
 *
 * Resampling walks the grid and the series together (both sorted), so it
 * is O(n + count). Timestamps are int64 milliseconds; differences are
 * taken in uint64 arithmetic, which is exact for any two sorted int64s.
 */
#include "disco/tsa_compare.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

static int align_check_series(const int64_t *ts, const double *v, size_t n, const char *name,
                              size_t idx, disco_status *st)
{
    if (!ts || !v || n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s[%zu] is empty", name, idx);
    for (size_t i = 1; i < n; i++)
        if (ts[i] <= ts[i - 1])
            return disco_status_set(st, DISCO_ERR_INVAL, name,
                                    "%s[%zu]: timestamp %zu (%lld) is not after the one before "
                                    "(%lld)",
                                    name, idx, i, (long long)ts[i], (long long)ts[i - 1]);
    return DISCO_OK;
}

/* 1 when start + (count - 1) * step fits in int64 (step > 0, count >= 1). */
static int grid_fits(const disco_tsa_grid *g)
{
    uint64_t span;

    if ((uint64_t)(g->count - 1) > (uint64_t)INT64_MAX / (uint64_t)g->step)
        return 0;
    span = (uint64_t)(g->count - 1) * (uint64_t)g->step;
    return g->start <= 0 || span <= (uint64_t)(INT64_MAX - g->start);
}

static int align_check_grid(const disco_tsa_grid *g, disco_status *st)
{
    if (!g)
        return disco_status_set(st, DISCO_ERR_INVAL, "grid", "grid is required");
    if (g->step <= 0 || g->count == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "grid",
                                "grid step %lld must be > 0 and count %zu >= 1", (long long)g->step,
                                g->count);
    if (!grid_fits(g))
        return disco_status_set(st, DISCO_ERR_INVAL, "grid",
                                "grid of %zu steps of %lld from %lld passes the largest timestamp",
                                g->count, (long long)g->step, (long long)g->start);
    return DISCO_OK;
}

/* Value at time t, given k: the last point with ts[k] <= t (t within the range). */
static double align_value(const int64_t *ts, const double *v, size_t k, int64_t t,
                          disco_tsa_fill fill)
{
    double frac;

    if (fill == DISCO_TSA_FILL_PREVIOUS || ts[k] == t)
        return v[k];
    frac =
        (double)((uint64_t)t - (uint64_t)ts[k]) / (double)((uint64_t)ts[k + 1] - (uint64_t)ts[k]);
    return v[k] + (v[k + 1] - v[k]) * frac;
}

int disco_tsa_resample(const int64_t *ts, const double *v, size_t n, const disco_tsa_grid *grid,
                       disco_tsa_fill fill, double *out, disco_status *st)
{
    size_t k = 0;
    int rc;

    if ((rc = align_check_series(ts, v, n, "series", 0, st)) || (rc = align_check_grid(grid, st)))
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is required");
    if (fill != DISCO_TSA_FILL_LINEAR && fill != DISCO_TSA_FILL_PREVIOUS)
        return disco_status_set(st, DISCO_ERR_INVAL, "fill", "unknown fill mode %d", (int)fill);
    for (size_t g = 0; g < grid->count; g++) {
        int64_t t = grid->start + (int64_t)g * grid->step;

        while (k + 1 < n && ts[k + 1] <= t)
            k++;
        out[g] = t < ts[0] || t > ts[n - 1] ? NAN : align_value(ts, v, k, t, fill);
    }
    return DISCO_OK;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;

    return (a > b) - (a < b);
}

/* Lower median of every consecutive timestamp difference of the k series. */
static int grid_median_step(const disco_tsa_series *series, size_t k, int64_t *step,
                            disco_status *st)
{
    size_t total = 0, used = 0;
    int64_t *d;

    for (size_t i = 0; i < k; i++)
        total += series[i].n - 1;
    if (total == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "series",
                                "none of the %zu series has two points to take a step from", k);
    if (!(d = malloc(total * sizeof *d)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "%zu timestamp steps", total);
    for (size_t i = 0; i < k; i++)
        for (size_t j = 1; j < series[i].n; j++)
            d[used++] = (int64_t)((uint64_t)series[i].ts[j] - (uint64_t)series[i].ts[j - 1]);
    qsort(d, total, sizeof *d, cmp_i64);
    *step = d[(total - 1) / 2];
    free(d);
    return DISCO_OK;
}

int disco_tsa_grid_choose(const disco_tsa_series *series, size_t k, disco_tsa_grid *grid,
                          disco_status *st)
{
    int64_t start = INT64_MIN, end = INT64_MAX, step = 1;
    int rc;

    if (!series || k == 0 || !grid)
        return disco_status_set(st, DISCO_ERR_INVAL, "series", "no series to align (k %zu)", k);
    for (size_t i = 0; i < k; i++) {
        const disco_tsa_series *s = &series[i];

        if ((rc = align_check_series(s->ts, s->v, s->n, "series", i, st)))
            return rc;
        start = s->ts[0] > start ? s->ts[0] : start;
        end = s->ts[s->n - 1] < end ? s->ts[s->n - 1] : end;
    }
    if (start > end)
        return disco_status_set(st, DISCO_ERR_INVAL, "series",
                                "the series do not overlap: latest start %lld is after "
                                "earliest end %lld",
                                (long long)start, (long long)end);
    if ((rc = grid_median_step(series, k, &step, st)))
        return rc;
    grid->start = start;
    grid->step = step;
    grid->count = (size_t)(((uint64_t)end - (uint64_t)start) / (uint64_t)step) + 1;
    return DISCO_OK;
}

static int lag_check(const double *s, size_t n, const char *name, disco_status *st)
{
    if (!s)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s is required", name);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(s[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, name, "%s[%zu] is %s", name, i,
                                    isnan(s[i]) ? "NaN" : "infinite");
    return DISCO_OK;
}

/* Correlation of x[t - lag] with y[t] over the overlap; NaN when undefined. */
static double lag_corr(const double *x, const double *y, size_t n, long lag)
{
    size_t k = (size_t)labs(lag);
    disco_tsa_corr c;
    int rc = lag >= 0 ? disco_tsa_pearson(x, y + k, n - k, &c, NULL)
                      : disco_tsa_pearson(x + k, y, n - k, &c, NULL);

    return rc == DISCO_OK ? c.r : NAN;
}

/* Keeps lag l when its correlation beats the best so far (earlier lags win ties). */
static void lag_try(const double *x, const double *y, size_t n, long l, double *best, long *at)
{
    double r = lag_corr(x, y, n, l);

    if (!isnan(r) && (isnan(*best) || r > *best)) {
        *best = r;
        *at = l;
    }
}

int disco_tsa_lag(const double *x, const double *y, size_t n, size_t max_lag, long *lag,
                  double *corr, disco_status *st)
{
    double best = NAN;
    long at = 0;
    int rc;

    if ((rc = lag_check(x, n, "x", st)) || (rc = lag_check(y, n, "y", st)))
        return rc;
    if (!lag || !corr)
        return disco_status_set(st, DISCO_ERR_INVAL, "lag", "lag and corr are required");
    if (n < 3 || max_lag > n - 3 || max_lag > (size_t)LONG_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_lag",
                                "max_lag %zu leaves fewer than 3 overlapping points of %zu",
                                max_lag, n);
    for (long k = 0; k <= (long)max_lag; k++) {
        lag_try(x, y, n, -k, &best, &at);
        if (k > 0)
            lag_try(x, y, n, k, &best, &at);
    }
    if (isnan(best))
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "no lag within +-%zu has a defined correlation (constant series?)",
                                max_lag);
    *lag = at;
    *corr = best;
    return DISCO_OK;
}
