/*
 * holtwinters.c - fitting Holt-Winters exponential smoothing by least
 * squares, as statsmodels 0.13.5 ExponentialSmoothing(...).fit() does by
 * default (initialization_method="estimated": the initial states are
 * optimised together with the smoothing parameters).
 *
 *   x --/ rms--> y --starting states, grid--> p0 --bounded minimiser--> p
 *     --* rms--> parameters in data units --recursion on x--> fitted, SSE
 *
 * DESIGN: the minimiser works on statsmodels' unit-box transform
 *
 *   alpha = e + u0 (1 - 2e)   beta = u1 alpha   gamma = u2 (1 - alpha)
 *
 * (e = sqrt(DBL_EPSILON)), so the constraints beta <= alpha and
 * gamma <= 1 - alpha become plain bounds 0 <= u <= 1, and on the series
 * divided by its root mean square, so every state is of order one. Each
 * unit-box parameter is further divided by its Gauss-Newton scale at the
 * start (holtwinters_scale.c), so that a small alpha or the initial trend
 * of a long series is not far stiffer than the rest. The objective is
 * SSE / n with its exact gradient (holtwinters_smooth.c); statsmodels runs
 * SLSQP with finite differences on the same objective and bounds, and
 * reaches the same minimum (or, when it stops early, a higher one).
 */
#include "holtwinters_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PHI_LO 0.8
#define PHI_HI 0.995
#define PHI_START 0.99

disco_tsa_hw_config disco_tsa_hw_config_default(void)
{
    disco_tsa_hw_config c;

    memset(&c, 0, sizeof c);
    c.trend = DISCO_TSA_TREND_ADD;
    c.damped = 0;
    c.season = DISCO_TSA_SEASON_ADD;
    c.period = 12;
    c.use_brute = 1;
    c.max_iter = 1000;
    c.nsim = 2000;
    c.seed = 1;
    return c;
}

static int check_config(const disco_tsa_hw_config *c, disco_status *st)
{
    if (c->trend != DISCO_TSA_TREND_NONE && c->trend != DISCO_TSA_TREND_ADD)
        return disco_status_set(st, DISCO_ERR_INVAL, "trend", "trend %d is not none or additive",
                                (int)c->trend);
    if (c->season != DISCO_TSA_SEASON_NONE && c->season != DISCO_TSA_SEASON_ADD &&
        c->season != DISCO_TSA_SEASON_MUL)
        return disco_status_set(st, DISCO_ERR_INVAL, "season",
                                "season %d is not none, additive or multiplicative",
                                (int)c->season);
    if (c->damped && c->trend == DISCO_TSA_TREND_NONE)
        return disco_status_set(st, DISCO_ERR_INVAL, "damped", "only a trend can be damped");
    if (c->season != DISCO_TSA_SEASON_NONE && c->period < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "period", "period %zu must be >= 2",
                                c->period);
    if (c->max_iter < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_iter", "max_iter %d must be >= 1",
                                c->max_iter);
    return DISCO_OK;
}

static int check_series(const double *x, size_t n, const disco_tsa_hw_config *c, disco_status *st)
{
    int seasonal = c->season != DISCO_TSA_SEASON_NONE;

    if (!x && n)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x is NULL");
    if (seasonal && n < 2 * c->period)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "series of %zu points is shorter than two cycles of %zu", n,
                                c->period);
    if (!seasonal && n < 4)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "series of %zu points is too short (need >= 4)", n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is not finite", i);
        if (c->season == DISCO_TSA_SEASON_MUL && x[i] <= 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                    "x[%zu] = %g: multiplicative season needs values > 0", i, x[i]);
    }
    return DISCO_OK;
}

/* What the minimiser sees: the series, its scratch, and natural-space buffers. */
typedef struct fit {
    disco__hw_spec sp;
    const double *y;
    size_t n, dim;
    disco__hw_work w;
    double *p, *gp; /* natural parameters and their gradient */
    double *u, *sc; /* unit-box parameters u = sc z of the minimiser's z */
} fit;

static void to_natural(const double *u, double *p, size_t dim)
{
    const double e = sqrt(DBL_EPSILON);

    memcpy(p, u, sizeof *p * dim);
    p[HW_ALPHA] = e + u[HW_ALPHA] * (1 - 2 * e);
    p[HW_BETA] = u[HW_BETA] * p[HW_ALPHA];
    p[HW_GAMMA] = u[HW_GAMMA] * (1 - p[HW_ALPHA]);
}

static void to_unit(const double *p, double *u, size_t dim)
{
    const double e = sqrt(DBL_EPSILON);

    memcpy(u, p, sizeof *u * dim);
    u[HW_ALPHA] = (p[HW_ALPHA] - e) / (1 - 2 * e);
    u[HW_BETA] = p[HW_ALPHA] > 0 ? p[HW_BETA] / p[HW_ALPHA] : 0;
    u[HW_GAMMA] = p[HW_ALPHA] < 1 ? p[HW_GAMMA] / (1 - p[HW_ALPHA]) : 0;
}

static double objective(const double *z, double *g, void *ctx)
{
    fit *f = ctx;
    const double e = sqrt(DBL_EPSILON), inv_n = 1 / (double)f->n;
    const double *u = f->u, *gp = f->gp;
    double sse;

    for (size_t i = 0; i < f->dim; i++)
        f->u[i] = z[i] * f->sc[i];
    to_natural(u, f->p, f->dim);
    if (!g)
        return disco__hw_sse(&f->sp, f->y, f->n, f->p, &f->w, NULL, NULL, NULL) * inv_n;
    sse = disco__hw_sse_grad(&f->sp, f->y, f->n, f->p, &f->w, f->gp);
    memcpy(g, gp, sizeof *g * f->dim);
    g[HW_ALPHA] =
        (1 - 2 * e) * (gp[HW_ALPHA] + u[HW_BETA] * gp[HW_BETA] - u[HW_GAMMA] * gp[HW_GAMMA]);
    g[HW_BETA] = f->p[HW_ALPHA] * gp[HW_BETA];
    g[HW_GAMMA] = (1 - f->p[HW_ALPHA]) * gp[HW_GAMMA];
    for (size_t i = 0; i < f->dim; i++)
        g[i] *= f->sc[i] * inv_n;
    return sse * inv_n;
}

/*
 * Units for the minimiser: sc[i] = sqrt(n / (2 J'J[i][i])) at the start, so
 * the Gauss-Newton curvature of SSE/n is one along every axis. Curvatures
 * below 1e-10 of the largest are raised to that floor.
 */
static int scales(fit *f)
{
    const double e = sqrt(DBL_EPSILON), a = f->p[HW_ALPHA];
    const double tr[3][3] = {
        {1 - 2 * e, f->u[HW_BETA] * (1 - 2 * e), -f->u[HW_GAMMA] * (1 - 2 * e)},
        {0, a, 0},
        {0, 0, 1 - a}};
    double top = 0;
    int rc = disco__hw_gn_diag(&f->sp, f->y, f->n, f->p, tr, &f->w, f->sc);

    if (rc)
        return rc;
    for (size_t i = 0; i < f->dim; i++)
        top = fmax(top, f->sc[i]);
    for (size_t i = 0; i < f->dim; i++) {
        double c = fmax(f->sc[i], 1e-10 * top);

        f->sc[i] = c > 0 && isfinite(c) ? sqrt((double)f->n / (2 * c)) : 1;
    }
    return DISCO_OK;
}

/* Bounds in the unit-box space; fixed entries have lo == hi. */
static void bounds(const disco__hw_spec *sp, size_t dim, double *lo, double *hi)
{
    for (size_t i = 0; i < dim; i++) {
        lo[i] = -INFINITY;
        hi[i] = INFINITY;
    }
    lo[HW_ALPHA] = lo[HW_BETA] = lo[HW_GAMMA] = 0;
    hi[HW_ALPHA] = 1;
    hi[HW_BETA] = sp->trend ? 1 : 0;
    hi[HW_GAMMA] = sp->season ? 1 : 0;
    lo[HW_PHI] = sp->damped ? PHI_LO : 1;
    hi[HW_PHI] = sp->damped ? PHI_HI : 1;
    if (sp->mul)
        lo[HW_L0] = 0;
    if (!sp->trend)
        lo[HW_B0] = hi[HW_B0] = 0;
    for (size_t j = HW_S0; j < dim; j++) {
        if (!sp->season)
            lo[j] = hi[j] = 0;
        else if (sp->mul)
            lo[j] = 0;
    }
}

/* statsmodels' _enforce_bounds: nudge free starting values off their bounds. */
static void enforce(double *p, const double *lo, const double *hi, size_t dim)
{
    for (size_t i = 0; i < dim; i++) {
        double l = i <= HW_GAMMA ? 0 : lo[i], h = i <= HW_GAMMA ? 1 : hi[i];

        if (l >= h)
            continue;
        if (p[i] <= l)
            p[i] = l + 1e-4 * ((isfinite(h) ? h : 100) - l);
        else if (p[i] >= h)
            p[i] = h - 1e-4 * (h - (isfinite(l) ? l : -100));
    }
}

/* Starting point, as statsmodels' _optimize_parameters builds it. */
static void start(fit *f, const disco_tsa_hw_config *cfg, const double *lo, const double *hi,
                  double *u)
{
    double *p = f->p;
    double m = f->sp.season ? (double)f->sp.m : 1;

    memset(p, 0, sizeof *p * f->dim);
    disco__hw_initial_states(&f->sp, f->y, f->n, p);
    p[HW_ALPHA] = 0.5 / m;
    p[HW_BETA] = f->sp.trend ? 0.1 * p[HW_ALPHA] : 0;
    p[HW_GAMMA] = f->sp.season ? 0.05 * (1 - p[HW_ALPHA]) : 0;
    p[HW_PHI] = f->sp.damped ? PHI_START : 1;
    if (cfg->use_brute)
        disco__hw_grid_start(&f->sp, f->y, f->n, p, &f->w);
    enforce(p, lo, hi, f->dim);
    to_unit(p, u, f->dim);
}

static double rms(const double *x, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    s = sqrt(s / (double)n);
    return s > 0 && isfinite(s) ? s : 1;
}

/* Minimises from the start; leaves the natural parameters (scaled) in f->p. */
static int minimise(fit *f, const disco_tsa_hw_config *cfg, disco__opt_result *res)
{
    size_t d = f->dim;
    double *buf = malloc(sizeof *buf * 5 * d);
    int rc;

    if (!buf)
        return DISCO_ERR_NOMEM;
    double *z = buf, *lo = buf + d, *hi = buf + 2 * d;
    f->u = buf + 3 * d;
    f->sc = buf + 4 * d;
    bounds(&f->sp, d, lo, hi);
    start(f, cfg, lo, hi, f->u);
    rc = scales(f);
    for (size_t i = 0; rc == DISCO_OK && i < d; i++) {
        z[i] = f->u[i] / f->sc[i];
        lo[i] /= f->sc[i];
        hi[i] /= f->sc[i];
    }
    if (rc == DISCO_OK)
        rc = disco__opt_minimize(objective, f, d, z, lo, hi, cfg->max_iter, res);
    for (size_t i = 0; i < d; i++)
        f->u[i] = z[i] * f->sc[i];
    to_natural(f->u, f->p, d);
    free(buf);
    return rc;
}

/* Fits on x / rms(x) and stores the parameters in data units in hw->par. */
static int estimate(disco_tsa_hw *hw, const double *x, size_t n, disco__hw_work *w)
{
    fit f = {hw->spec, NULL, n, HW_S0 + hw->spec.m, *w, NULL, NULL, NULL, NULL};
    double scale = rms(x, n), *y = malloc(sizeof *y * (n + 2 * f.dim));
    disco__opt_result res = {0, 0, 0};
    int rc;

    if (!y)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] / scale;
    f.y = y;
    f.p = y + n;
    f.gp = f.p + f.dim;
    rc = minimise(&f, &hw->cfg, &res);
    if (rc == DISCO_OK) {
        memcpy(hw->par, f.p, sizeof *f.p * f.dim);
        hw->par[HW_L0] *= scale;
        hw->par[HW_B0] *= scale;
        for (size_t j = 0; hw->spec.season && !hw->spec.mul && j < hw->spec.m; j++)
            hw->par[HW_S0 + j] *= scale;
        hw->res.iterations = res.iterations;
        hw->res.converged = res.converged;
    }
    free(y);
    return rc;
}

/* Fitted values, final states and the statistics statsmodels reports. */
static void summarise(disco_tsa_hw *hw, const double *x, size_t n, disco__hw_work *w)
{
    const disco__hw_spec *sp = &hw->spec;
    disco_tsa_hw_result *r = &hw->res;
    const double *p = hw->par;
    double k;

    r->sse = disco__hw_sse(sp, x, n, p, w, hw->fitted, &hw->level, &hw->trend);
    memcpy(hw->season, w->s + n, sizeof *hw->season * sp->m);
    r->alpha = p[HW_ALPHA];
    r->beta = sp->trend ? p[HW_BETA] : NAN;
    r->gamma = sp->season ? p[HW_GAMMA] : NAN;
    r->phi = sp->damped ? p[HW_PHI] : NAN;
    r->level0 = p[HW_L0];
    r->trend0 = sp->trend ? p[HW_B0] : NAN;
    r->season0 = sp->season ? p + HW_S0 : NULL;
    r->fitted = hw->fitted;
    r->n = n;
    r->period = sp->season ? sp->m : 0;
    r->k = (sp->season ? sp->m : 0) + 2 * (size_t)sp->trend + 2 + (size_t)sp->damped;
    k = (double)r->k;
    r->sigma2 = r->sse / (double)n;
    r->aic = (double)n * log(r->sigma2) + 2 * k;
    r->aicc = (double)n > k + 3 ? r->aic + 2 * (k + 2) * (k + 3) / ((double)n - k - 3) : INFINITY;
    r->bic = (double)n * log(r->sigma2) + k * log((double)n);
}

static disco_tsa_hw *model_new(const disco_tsa_hw_config *cfg, size_t n)
{
    disco_tsa_hw *hw = calloc(1, sizeof *hw);

    if (!hw)
        return NULL;
    hw->cfg = *cfg;
    hw->spec.trend = cfg->trend == DISCO_TSA_TREND_ADD;
    hw->spec.damped = cfg->damped != 0;
    hw->spec.season = cfg->season != DISCO_TSA_SEASON_NONE;
    hw->spec.mul = cfg->season == DISCO_TSA_SEASON_MUL;
    hw->spec.m = hw->spec.season ? cfg->period : 1;
    hw->par = calloc(HW_S0 + hw->spec.m, sizeof *hw->par);
    hw->fitted = malloc(sizeof *hw->fitted * n);
    hw->season = malloc(sizeof *hw->season * hw->spec.m);
    if (!hw->par || !hw->fitted || !hw->season) {
        disco_tsa_hw_free(hw);
        return NULL;
    }
    return hw;
}

int disco_tsa_hw_fit(const double *x, size_t n, const disco_tsa_hw_config *cfg, disco_tsa_hw **out,
                     disco_status *st)
{
    disco__hw_work w = {NULL, NULL, NULL, NULL};
    disco_tsa_hw *hw = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_config(cfg, st)) || (rc = check_series(x, n, cfg, st)))
        return rc;
    hw = model_new(cfg, n);
    if (!hw || disco__hw_work_init(&w, n, hw->spec.m)) {
        rc = DISCO_ERR_NOMEM;
        goto free_model;
    }
    rc = estimate(hw, x, n, &w);
    if (rc)
        goto free_model;
    summarise(hw, x, n, &w);
    disco__hw_work_release(&w);
    *out = hw;
    return DISCO_OK;

free_model:
    disco__hw_work_release(&w);
    disco_tsa_hw_free(hw);
    return disco_status_set(st, rc, NULL, "Holt-Winters fit: %s", disco_strerror(rc));
}

void disco_tsa_hw_free(disco_tsa_hw *hw)
{
    if (!hw)
        return;
    free(hw->par);
    free(hw->fitted);
    free(hw->season);
    free(hw);
}

const disco_tsa_hw_result *disco_tsa_hw_result_get(const disco_tsa_hw *hw)
{
    return &hw->res;
}
