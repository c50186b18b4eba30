/*
 * stl.c - STL, seasonal-trend decomposition by loess, as statsmodels 0.13.5
 * STL(...).fit() computes it (the NETLIB stl.f steps, with the median of
 * the robustness weights taken by a proper selection).
 *
 *   outer loop (1 + outer_iter times):
 *     inner loop (inner_iter times):
 *       cycle-subseries of x - trend --loess(seasonal), one step past each end-->
 *       C (n + 2 period) --MA(p), MA(p), MA(3), loess(low_pass)--> L
 *       seasonal = C - L;  trend = loess(trend) of x - seasonal
 *     robustness weights = bisquare(|x - trend - seasonal| / (6 MAD))
 *
 * DESIGN: a loess fit whose window is centred on the point has the same
 * tricube kernel at every interior point. Each smoother builds that kernel
 * once; without robustness weights the interior fit is then one dot product
 * with the normalised kernel (the linear term vanishes by symmetry), and
 * with them a single pass gathers the weighted moments of the local line.
 * Fits at single points (the ends, jumps, the steps past each
 * cycle-subseries) take the general path, which follows stl.f step by step.
 * All work arrays are allocated once per call.
 */
#include "disco/tsa_decompose.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One loess smoother: window length, degree, jump and its interior kernel. */
typedef struct smoother {
    size_t len;
    int deg;
    size_t jump;
    size_t half;  /* (len - 1) / 2 */
    double *kern; /* tricube weights K for offsets t = -half..half */
    double *norm; /* K / sum(K) */
    double *kt;   /* K t */
    double *ktt;  /* K t^2 */
} smoother;

typedef struct stl_work {
    size_t n, period;
    int use_rw;
    smoother ss, ts, ls;
    const double *y;
    double *rw, *season, *trend;
    double *w0, *w1, *w2, *w3, *w4; /* rows of n + 2 period */
    double *gw;                     /* general-path weights */
    double *mem;
} stl_work;

static double tricube(double r, double h)
{
    double t, u;

    if (r > 0.999 * h)
        return 0;
    if (r <= 0.001 * h)
        return 1;
    t = r / h;
    u = 1.0 - t * t * t;
    return u * u * u;
}

static void smoother_init(smoother *s, size_t len, int deg, size_t jump, double *mem)
{
    double sum = 0;

    s->len = len;
    s->deg = deg;
    s->jump = jump;
    s->half = (len - 1) / 2;
    s->kern = mem;
    s->norm = mem + len;
    s->kt = mem + 2 * len;
    s->ktt = mem + 3 * len;
    for (size_t j = 0; j < len; j++) {
        double t = (double)j - (double)s->half;

        s->kern[j] = tricube(fabs(t), (double)s->half);
        s->kt[j] = s->kern[j] * t;
        s->ktt[j] = s->kern[j] * t * t;
        sum += s->kern[j];
    }
    for (size_t j = 0; j < len; j++)
        s->norm[j] = s->kern[j] / sum;
}

/*
 * Local fit at xs (1-based, may lie outside 1..n) over y[nleft-1 .. nright-1],
 * step by step as stl.f's est. Returns 0 when all weights vanish.
 */
static int est(const smoother *s, const double *restrict y, size_t n, double xs, size_t nleft,
               size_t nright, const double *rw, double *restrict w, double *ys)
{
    double rng = (double)n - 1.0, h, a = 0, b, c, acc = 0;

    h = fmax(xs - (double)nleft, (double)nright - xs);
    if (s->len > n)
        h += (double)((s->len - n) / 2);
    for (size_t j = nleft - 1; j < nright; j++) {
        w[j] = tricube(fabs((double)(j + 1) - xs), h);
        if (rw)
            w[j] *= rw[j];
        a += w[j];
    }
    if (a <= 0)
        return 0;
    for (size_t j = nleft - 1; j < nright; j++)
        w[j] /= a;
    if (h > 0 && s->deg > 0) {
        a = 0;
        for (size_t j = nleft - 1; j < nright; j++)
            a += w[j] * (double)(j + 1);
        b = xs - a;
        c = 0;
        for (size_t j = nleft - 1; j < nright; j++)
            c += w[j] * ((double)(j + 1) - a) * ((double)(j + 1) - a);
        if (sqrt(c) > 0.001 * rng) {
            b /= c;
            for (size_t j = nleft - 1; j < nright; j++)
                w[j] *= b * ((double)(j + 1) - a) + 1.0;
        }
    }
    for (size_t j = nleft - 1; j < nright; j++)
        acc += w[j] * y[j];
    *ys = acc;
    return 1;
}

static double min_var(size_t n)
{
    double t = 0.001 * ((double)n - 1.0);

    return t * t;
}

/*
 * Interior fit with robustness weights: the weighted moments of the local
 * line, each summed in two halves (even and odd offsets) to shorten the
 * chains of dependent additions. The line is fitted where the weighted
 * variance of the offsets exceeds min_var = (0.001 (n - 1))^2, stl.f's test.
 */
static int est_kernel_rw(const smoother *s, const double *restrict y, const double *restrict rw,
                         double min_var, size_t c0, double *ys)
{
    const double *restrict k = s->kern, *restrict kt = s->kt, *restrict ktt = s->ktt;
    const double *restrict yy = y + c0 - s->half, *restrict ww = rw + c0 - s->half;
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;
    double s0, mt, my, var;
    size_t j;

    for (j = 0; j + 1 < s->len; j += 2) {
        double r = ww[j], ry = r * yy[j], q = ww[j + 1], qy = q * yy[j + 1];

        a0 += k[j] * r;
        a1 += kt[j] * r;
        a2 += ktt[j] * r;
        a3 += k[j] * ry;
        a4 += kt[j] * ry;
        b0 += k[j + 1] * q;
        b1 += kt[j + 1] * q;
        b2 += ktt[j + 1] * q;
        b3 += k[j + 1] * qy;
        b4 += kt[j + 1] * qy;
    }
    if (j < s->len) {
        double r = ww[j], ry = r * yy[j];

        a0 += k[j] * r;
        a1 += kt[j] * r;
        a2 += ktt[j] * r;
        a3 += k[j] * ry;
        a4 += kt[j] * ry;
    }
    s0 = a0 + b0;
    if (s0 <= 0)
        return 0;
    s0 = 1.0 / s0;
    mt = (a1 + b1) * s0;
    my = (a3 + b3) * s0;
    var = (a2 + b2) * s0 - mt * mt;
    if (s->deg > 0 && s->half > 0 && var > min_var)
        my -= mt / var * ((a4 + b4) * s0 - mt * my);
    *ys = my;
    return 1;
}

/*
 * Fits at the centred points from..to-1 without robustness weights: the
 * normalised kernel slid over y, one kernel tap at a time.
 */
static void kernel_run(const smoother *s, const double *restrict y, size_t from, size_t to,
                       double *restrict ys)
{
    for (size_t i = from; i < to; i++)
        ys[i] = 0;
    for (size_t j = 0; j < s->len; j++) {
        const double c = s->norm[j];
        const double *restrict yy = y + j - s->half;

        for (size_t i = from; i < to; i++)
            ys[i] += c * yy[i];
    }
}

static void fit_point(const smoother *s, const double *y, size_t n, size_t i, size_t nleft,
                      size_t nright, const double *rw, double *gw, double *ys)
{
    if (!est(s, y, n, (double)(i + 1), nleft, nright, rw, gw, &ys[i]))
        ys[i] = y[i];
}

/* Linear interpolation between the fitted points of a jumping smoother. */
static void interpolate(const smoother *s, const double *y, size_t n, size_t jump, size_t nleft,
                        size_t nright, const double *rw, double *gw, double *ys)
{
    size_t k;

    for (size_t i = 0; i + jump < n; i += jump) {
        double delta = (ys[i + jump] - ys[i]) / (double)jump;

        for (size_t j = i + 1; j < i + jump; j++)
            ys[j] = ys[i] + delta * (double)(j - i);
    }
    k = ((n - 1) / jump) * jump + 1;
    if (k == n)
        return;
    fit_point(s, y, n, n - 1, nleft, nright, rw, gw, ys);
    if (k != n - 1) {
        double delta = (ys[n - 1] - ys[k - 1]) / (double)(n - k);

        for (size_t j = k; j < n - 1; j++)
            ys[j] = ys[k - 1] + delta * (double)(j + 1 - k);
    }
}

/*
 * Every point, window len < n (odd): the first and last `half` points fit
 * over the end windows, the rest over windows centred on them.
 */
static void smooth_all(const smoother *s, const double *y, size_t n, const double *rw, double *ys,
                       double *gw)
{
    size_t half = s->half, len = s->len;

    DISCO_ASSERT(len % 2 == 1 && len < n);
    for (size_t i = 0; i < half; i++)
        fit_point(s, y, n, i, 1, len, rw, gw, ys);
    if (rw) {
        double mv = min_var(n);

        for (size_t i = half; i < n - half; i++)
            if (!est_kernel_rw(s, y, rw, mv, i, &ys[i]))
                ys[i] = y[i];
    } else {
        kernel_run(s, y, half, n - half, ys);
    }
    for (size_t i = n - half; i < n; i++)
        fit_point(s, y, n, i, n - len + 1, n, rw, gw, ys);
}

/* stl.f's ess: the smoother over y[0..n-1] into ys (gw: n scratch weights). */
static void ess(const smoother *s, const double *y, size_t n, const double *rw, double *ys,
                double *gw)
{
    size_t len = s->len, jump, nleft = 1, nright = n, nsh = (len + 1) / 2;

    if (n < 2) {
        ys[0] = y[0];
        return;
    }
    jump = s->jump < n - 1 ? s->jump : n - 1;
    if (len >= n) {
        for (size_t i = 0; i < n; i += jump)
            fit_point(s, y, n, i, 1, n, rw, gw, ys);
    } else if (jump == 1) {
        smooth_all(s, y, n, rw, ys, gw);
    } else {
        for (size_t i = 0; i < n; i += jump) {
            if (i + 1 < nsh) {
                nleft = 1;
                nright = len;
            } else if (i + 1 >= n - nsh + 1) {
                nleft = n - len + 1;
                nright = n;
            } else {
                nleft = i + 1 - nsh + 1;
                nright = len + i + 1 - nsh;
            }
            fit_point(s, y, n, i, nleft, nright, rw, gw, ys);
        }
    }
    if (jump > 1)
        interpolate(s, y, n, jump, nleft, nright, rw, gw, ys);
}

/*
 * Seasonal smoothing: each cycle-subseries of w->w0 (x - trend) is smoothed
 * and extended by one fitted value at each end, into w->w1 (n + 2 period).
 */
static void seasonal_smooth(stl_work *w)
{
    size_t n = w->n, np = w->period;
    const smoother *s = &w->ss;
    double *sub = w->w2, *out = w->w3, *srw = w->w4, *gw = w->gw;

    for (size_t j = 0; j < np; j++) {
        size_t k = (n - (j + 1)) / np + 1;
        const double *rw = w->use_rw ? srw : NULL;

        for (size_t i = 0; i < k; i++)
            sub[i] = w->w0[i * np + j];
        if (w->use_rw)
            for (size_t i = 0; i < k; i++)
                srw[i] = w->rw[i * np + j];
        ess(s, sub, k, rw, out + 1, gw);
        if (!est(s, sub, k, 0.0, 1, s->len < k ? s->len : k, rw, gw, &out[0]))
            out[0] = out[1];
        if (!est(s, sub, k, (double)(k + 1), k >= s->len ? k - s->len + 1 : 1, k, rw, gw,
                 &out[k + 1]))
            out[k + 1] = out[k];
        for (size_t m = 0; m < k + 2; m++)
            w->w1[m * np + j] = out[m];
    }
}

/* Moving average of `len` points: ave gets n - len + 1 values. */
static void moving_avg(const double *restrict x, size_t n, size_t len, double *restrict ave)
{
    double v = 0, flen = (double)len;

    for (size_t i = 0; i < len; i++)
        v += x[i];
    ave[0] = v / flen;
    for (size_t j = 1, k = len, m = 0; j < n - len + 1; j++, k++, m++) {
        v += x[k] - x[m];
        ave[j] = v / flen;
    }
}

/* One pass of the inner loop: seasonal, low-pass, trend. */
static void inner_step(stl_work *w)
{
    size_t n = w->n, np = w->period;

    for (size_t i = 0; i < n; i++)
        w->w0[i] = w->y[i] - w->trend[i];
    seasonal_smooth(w);
    moving_avg(w->w1, n + 2 * np, np, w->w2);
    moving_avg(w->w2, n + np + 1, np, w->w0);
    moving_avg(w->w0, n + 2, 3, w->w2);
    ess(&w->ls, w->w2, n, NULL, w->w0, w->gw);
    for (size_t i = 0; i < n; i++) {
        w->season[i] = w->w1[np + i] - w->w0[i];
        w->w0[i] = w->y[i] - w->season[i];
    }
    ess(&w->ts, w->w0, n, w->use_rw ? w->rw : NULL, w->trend, w->gw);
}

/* The k-th smallest of v[0..n-1], by Wirth's selection (v is reordered). */
static double select_kth(double *v, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

    while (lo < hi) {
        double pivot = v[kk];
        ptrdiff_t i = lo, j = hi;

        do {
            while (v[i] < pivot)
                i++;
            while (pivot < v[j])
                j--;
            if (i <= j) {
                double t = v[i];

                v[i++] = v[j];
                v[j--] = t;
            }
        } while (i <= j);
        if (j < kk)
            lo = i;
        if (kk < i)
            hi = j;
    }
    return v[kk];
}

/* Sum of the two middle order statistics (the same one twice when n is odd). */
static double middle_pair(double *v, size_t n)
{
    size_t m0 = n / 2;
    double a = select_kth(v, n, m0), b = a;

    if (n % 2 == 0) {
        b = v[0];
        for (size_t i = 1; i < m0; i++)
            b = v[i] > b ? v[i] : b;
    }
    return a + b;
}

/* Bisquare robustness weights from the residuals of the current fit. */
static void robustness_weights(stl_work *w)
{
    size_t n = w->n;
    double *abs_r = w->w1, cmad, c1, c9;

    for (size_t i = 0; i < n; i++) {
        w->rw[i] = fabs(w->y[i] - (w->trend[i] + w->season[i]));
        abs_r[i] = w->rw[i];
    }
    cmad = 3.0 * middle_pair(abs_r, n);
    if (cmad == 0) {
        for (size_t i = 0; i < n; i++)
            w->rw[i] = 1;
        return;
    }
    c9 = 0.999 * cmad;
    c1 = 0.001 * cmad;
    for (size_t i = 0; i < n; i++) {
        double r = w->rw[i];

        if (r <= c1) {
            w->rw[i] = 1.0;
        } else if (r <= c9) {
            double u = r / cmad;

            w->rw[i] = (1.0 - u * u) * (1.0 - u * u);
        } else {
            w->rw[i] = 0.0;
        }
    }
}

disco_tsa_stl_config disco_tsa_stl_config_default(size_t period, int robust)
{
    disco_tsa_stl_config c;

    memset(&c, 0, sizeof c);
    c.period = period;
    c.seasonal = 7;
    c.seasonal_deg = c.trend_deg = c.low_pass_deg = 1;
    c.seasonal_jump = c.trend_jump = c.low_pass_jump = 1;
    c.robust = robust ? 1 : 0;
    c.inner_iter = robust ? 2 : 5;
    c.outer_iter = robust ? 15 : 0;
    return c;
}

static int check_window(size_t len, size_t period, const char *name, disco_status *st)
{
    if (len < 3 || len % 2 == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s %zu must be odd and >= 3", name,
                                len);
    if (period && len <= period)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s %zu must exceed the period %zu",
                                name, len, period);
    return DISCO_OK;
}

static int check_smoother(int deg, size_t jump, const char *deg_name, const char *jump_name,
                          disco_status *st)
{
    if (deg != 0 && deg != 1)
        return disco_status_set(st, DISCO_ERR_INVAL, deg_name, "%s %d must be 0 or 1", deg_name,
                                deg);
    if (jump < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, jump_name, "%s must be >= 1", jump_name);
    return DISCO_OK;
}

/* Default trend window: ceil(1.5 p / (1 - 1.5 / seasonal)), made odd. */
static size_t default_trend(size_t period, size_t seasonal)
{
    size_t t = (size_t)ceil(1.5 * (double)period / (1.0 - 1.5 / (double)seasonal));

    return t % 2 == 0 ? t + 1 : t;
}

/* Validates the settings and fills in the window lengths left at 0. */
static int resolve_config(const disco_tsa_stl_config *in, disco_tsa_stl_config *c, disco_status *st)
{
    int rc;

    *c = *in;
    if (c->period < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "period", "period %zu must be >= 2",
                                c->period);
    rc = check_window(c->seasonal, 0, "seasonal", st);
    if (rc != DISCO_OK)
        return rc;
    if (c->trend == 0)
        c->trend = default_trend(c->period, c->seasonal);
    if (c->low_pass == 0)
        c->low_pass = c->period % 2 ? c->period + 2 : c->period + 1;
    if ((rc = check_window(c->trend, c->period, "trend", st)) != DISCO_OK ||
        (rc = check_window(c->low_pass, c->period, "low_pass", st)) != DISCO_OK ||
        (rc = check_smoother(c->seasonal_deg, c->seasonal_jump, "seasonal_deg", "seasonal_jump",
                             st)) != DISCO_OK ||
        (rc = check_smoother(c->trend_deg, c->trend_jump, "trend_deg", "trend_jump", st)) !=
            DISCO_OK ||
        (rc = check_smoother(c->low_pass_deg, c->low_pass_jump, "low_pass_deg", "low_pass_jump",
                             st)) != DISCO_OK)
        return rc;
    if (c->inner_iter < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "inner_iter", "inner_iter %d must be >= 1",
                                c->inner_iter);
    if (c->outer_iter < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "outer_iter", "outer_iter %d must be >= 0",
                                c->outer_iter);
    return DISCO_OK;
}

static int check_input(const double *x, size_t n, size_t period, disco_status *st)
{
    if (n < 2 * period)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "series of %zu points is shorter than two cycles of %zu", n,
                                period);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is not finite", i);
    return DISCO_OK;
}

/* One block for the rows, weights and kernels; rw and season are the caller's when given. */
static int work_alloc(stl_work *w, const disco_tsa_stl_config *c, size_t n)
{
    size_t row = n + 2 * c->period;
    size_t kern = 4 * (c->seasonal + c->trend + c->low_pass);
    double *m;

    w->mem = m = malloc((6 * row + n + kern) * sizeof *m);
    if (!m)
        return DISCO_ERR_NOMEM;
    w->w0 = m;
    w->w1 = m + row;
    w->w2 = m + 2 * row;
    w->w3 = m + 3 * row;
    w->w4 = m + 4 * row;
    w->gw = m + 5 * row;
    w->rw = m + 6 * row;
    m += 6 * row + n;
    smoother_init(&w->ss, c->seasonal, c->seasonal_deg, c->seasonal_jump, m);
    m += 4 * c->seasonal;
    smoother_init(&w->ts, c->trend, c->trend_deg, c->trend_jump, m);
    m += 4 * c->trend;
    smoother_init(&w->ls, c->low_pass, c->low_pass_deg, c->low_pass_jump, m);
    return DISCO_OK;
}

int disco_tsa_stl(const double *x, size_t n, const disco_tsa_stl_config *cfg, double *trend,
                  double *seasonal, double *resid, double *weights, disco_status *st)
{
    disco_tsa_stl_config c;
    stl_work w;
    int rc;

    if (!x || !cfg || !trend || !seasonal || !resid)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL,
                                "x, cfg and the outputs must not be NULL");
    rc = resolve_config(cfg, &c, st);
    if (rc == DISCO_OK)
        rc = check_input(x, n, c.period, st);
    if (rc != DISCO_OK)
        return rc;
    memset(&w, 0, sizeof w);
    if (work_alloc(&w, &c, n) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    w.n = n;
    w.period = c.period;
    w.y = x;
    w.trend = trend;
    w.season = seasonal;
    for (size_t i = 0; i < n; i++) {
        trend[i] = seasonal[i] = 0;
        w.rw[i] = 1;
    }
    for (int k = 0;; k++) {
        for (int j = 0; j < c.inner_iter; j++)
            inner_step(&w);
        if (k >= c.outer_iter)
            break;
        robustness_weights(&w);
        w.use_rw = 1;
    }
    for (size_t i = 0; i < n; i++)
        resid[i] = x[i] - seasonal[i] - trend[i];
    if (weights)
        memcpy(weights, w.rw, n * sizeof *weights);
    free(w.mem);
    return DISCO_OK;
}
