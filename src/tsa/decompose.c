/*
 * decompose.c - classical seasonal decomposition (as statsmodels 0.13.5
 * seasonal_decompose) and Hyndman's strengths of the components.
 *
 *   x --centred moving average--> trend --(optional) OLS lines--> ends filled
 *   x - trend (or x / trend) --phase means, centred--> seasonal (tiled)
 *   resid = detrended - seasonal (or x / seasonal / trend)
 *
 * The moving average slides a running sum that is re-summed from scratch
 * at the start of every block, so rounding cannot drift over long series.
 */
#include "disco/tsa_decompose.h"

#include <math.h>
#include <stdlib.h>

#define MA_BLOCK 256 /* outputs between fresh sums of the moving average */

static int check_series(const double *x, size_t n, size_t period, disco_tsa_model model,
                        disco_status *st)
{
    if (period < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "period", "period %zu must be >= 2", period);
    if (n < 2 * period)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "series of %zu points is shorter than two cycles of %zu", n,
                                period);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is not finite", i);
        if (model == DISCO_TSA_MULTIPLICATIVE && x[i] <= 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                    "x[%zu] = %g: multiplicative needs values > 0", i, x[i]);
    }
    return DISCO_OK;
}

static double window_sum(const double *x, size_t from, size_t len)
{
    double s = 0;

    for (size_t j = 0; j < len; j++)
        s += x[from + j];
    return s;
}

/*
 * Centred moving average of `period` points (halves at both ends when the
 * period is even); NaN where the window does not fit.
 */
static void moving_average(const double *x, size_t n, size_t period, double *trend)
{
    size_t half = period / 2, even = period % 2 == 0;
    size_t inner = even ? period - 1 : period; /* points of weight 1 */
    size_t lo = even ? 1 : 0;                  /* offset of the first of them */
    double s = 0;

    for (size_t i = 0; i < n; i++)
        trend[i] = NAN;
    for (size_t i = half; i + half < n; i++) {
        size_t start = i - half;

        if ((i - half) % MA_BLOCK == 0)
            s = window_sum(x, start + lo, inner);
        else
            s += x[start + lo + inner - 1] - x[start + lo - 1];
        if (even)
            trend[i] = (s + 0.5 * (x[start] + x[start + period])) / (double)period;
        else
            trend[i] = s / (double)period;
    }
}

/*
 * Least-squares line through (i, y[i]) for i in [from, to); with one point
 * the minimum-norm solution, as numpy's lstsq gives.
 */
static void fit_line(const double *y, size_t from, size_t to, double *slope, double *icept)
{
    size_t m = to - from;
    double mx = 0, my = 0, sxx = 0, sxy = 0;

    if (m == 1) {
        double t = (double)from;

        *slope = t * y[from] / (t * t + 1);
        *icept = y[from] / (t * t + 1);
        return;
    }
    for (size_t i = from; i < to; i++) {
        mx += (double)i;
        my += y[i];
    }
    mx /= (double)m;
    my /= (double)m;
    for (size_t i = from; i < to; i++) {
        sxx += ((double)i - mx) * ((double)i - mx);
        sxy += ((double)i - mx) * (y[i] - my);
    }
    *slope = sxy / sxx;
    *icept = my - *slope * mx;
}

/*
 * Fills the NaN ends of the trend with lines fitted to the k + 1 nearest
 * defined points; the back fit stops short of the last defined point, as
 * statsmodels' does.
 */
static void extrapolate_trend(double *trend, size_t n, size_t front, size_t back, size_t k)
{
    size_t npoints = k + 1;
    size_t front_last = front + npoints < back ? front + npoints : back;
    size_t back_first = back >= front + npoints ? back - npoints : front;
    double slope, icept;

    fit_line(trend, front, front_last, &slope, &icept);
    for (size_t i = 0; i < front; i++)
        trend[i] = slope * (double)i + icept;
    fit_line(trend, back_first, back, &slope, &icept);
    for (size_t i = back + 1; i < n; i++)
        trend[i] = slope * (double)i + icept;
}

/* Mean of each phase of the detrended series (NaNs skipped), centred. */
static void seasonal_profile(const double *detr, size_t n, size_t period, disco_tsa_model model,
                             double *avg)
{
    double total = 0;

    for (size_t p = 0; p < period; p++) {
        double s = 0;
        size_t cnt = 0;

        for (size_t i = p; i < n; i += period) {
            if (!isnan(detr[i])) {
                s += detr[i];
                cnt++;
            }
        }
        avg[p] = cnt ? s / (double)cnt : NAN;
        total += avg[p];
    }
    total /= (double)period;
    for (size_t p = 0; p < period; p++)
        avg[p] = model == DISCO_TSA_MULTIPLICATIVE ? avg[p] / total : avg[p] - total;
}

static int check_extrapolate(int extrapolate, size_t period, size_t *k, disco_status *st)
{
    if (extrapolate == DISCO_TSA_EXTRAPOLATE_FREQ) {
        *k = period - 1;
        return DISCO_OK;
    }
    if (extrapolate < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "extrapolate",
                                "extrapolate %d must be >= 0 or DISCO_TSA_EXTRAPOLATE_FREQ",
                                extrapolate);
    *k = (size_t)extrapolate;
    return DISCO_OK;
}

int disco_tsa_decompose(const double *x, size_t n, size_t period, disco_tsa_model model,
                        int extrapolate, double *trend, double *seasonal, double *resid,
                        disco_status *st)
{
    size_t k = 0;
    double *avg;
    int mul = model == DISCO_TSA_MULTIPLICATIVE;
    int rc;

    if (!x || !trend || !seasonal || !resid)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "x and the outputs must not be NULL");
    if (model != DISCO_TSA_ADDITIVE && !mul)
        return disco_status_set(st, DISCO_ERR_INVAL, "model", "unknown model %d", (int)model);
    rc = check_series(x, n, period, model, st);
    if (rc == DISCO_OK)
        rc = check_extrapolate(extrapolate, period, &k, st);
    if (rc != DISCO_OK)
        return rc;
    avg = malloc(period * sizeof *avg);
    if (!avg)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    moving_average(x, n, period, trend);
    if (k > 0)
        extrapolate_trend(trend, n, period / 2, n - 1 - period / 2, k);
    for (size_t i = 0; i < n; i++)
        resid[i] = mul ? x[i] / trend[i] : x[i] - trend[i];
    seasonal_profile(resid, n, period, model, avg);
    for (size_t i = 0, p = 0; i < n; i++, p = p + 1 == period ? 0 : p + 1) {
        seasonal[i] = avg[p];
        resid[i] = mul ? x[i] / seasonal[i] / trend[i] : resid[i] - seasonal[i];
    }
    free(avg);
    return DISCO_OK;
}

/* 1 - var(r) / var(c + r) over the points where both are defined, floored at 0. */
static double strength(const double *comp, const double *resid, size_t n)
{
    double mr = 0, ms = 0, vr = 0, vs = 0;
    size_t m = 0;

    if (!comp || !resid)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(comp[i]) || isnan(resid[i]))
            continue;
        m++;
        mr += resid[i];
        ms += comp[i] + resid[i];
    }
    if (m < 2)
        return 0;
    mr /= (double)m;
    ms /= (double)m;
    for (size_t i = 0; i < n; i++) {
        if (isnan(comp[i]) || isnan(resid[i]))
            continue;
        vr += (resid[i] - mr) * (resid[i] - mr);
        vs += (comp[i] + resid[i] - ms) * (comp[i] + resid[i] - ms);
    }
    if (!(vs > 0))
        return 0;
    return fmax(0.0, 1.0 - vr / vs);
}

double disco_tsa_seasonal_strength(const double *seasonal, const double *resid, size_t n)
{
    return strength(seasonal, resid, n);
}

double disco_tsa_trend_strength(const double *trend, const double *resid, size_t n)
{
    return strength(trend, resid, n);
}
