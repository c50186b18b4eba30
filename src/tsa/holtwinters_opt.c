/*
 * holtwinters_opt.c - a small bounded minimiser: projected limited-memory
 * BFGS (the two-metric projection of Bertsekas), enough for smooth
 * least-squares objectives with simple bounds such as the Holt-Winters SSE.
 *
 *   each iteration   free set = variables not pinned at a bound by their
 *                    gradient; d = -H g on the free set (two-loop recursion
 *                    over the last OPT_MEM steps), steepest descent when that
 *                    is not a descent direction
 *   step             x' = P(x + t d), t halved until Armijo holds along the
 *                    projected path
 *   stop             relative decrease below OPT_FTOL twice running, a
 *                    projected gradient of zero, or max_iter
 */
#include "holtwinters_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OPT_MEM 10
#define OPT_FTOL 1e-11
#define OPT_ARMIJO 1e-4
#define OPT_HALVINGS 50

typedef struct opt {
    disco__opt_fn fn;
    void *ctx;
    size_t dim;
    const double *lo, *hi;
    double *g, *xn, *gn, *d, *free; /* dim each; free[i] is 1 or 0 */
    double *s, *y;                  /* OPT_MEM x dim history */
    double rho[OPT_MEM];
    int count, head; /* stored pairs, index of the next slot */
} opt;

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double dot_mask(const double *a, const double *b, const double *mask, size_t n)
{
    double s = 0;

    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i] * mask[i];
    return s;
}

/* Marks the free variables; returns the largest projected-gradient step. */
static double free_set(opt *o, const double *x)
{
    double pg = 0;

    for (size_t i = 0; i < o->dim; i++) {
        double g = o->g[i];
        int pinned =
            o->lo[i] >= o->hi[i] || (x[i] <= o->lo[i] && g > 0) || (x[i] >= o->hi[i] && g < 0);

        o->free[i] = pinned ? 0 : 1;
        double step = fabs(clamp(x[i] - g, o->lo[i], o->hi[i]) - x[i]);
        pg = step > pg ? step : pg;
    }
    return pg;
}

/* d = -H g on the free set by the two-loop recursion. */
static void direction(opt *o)
{
    double al[OPT_MEM], *q = o->d;
    size_t n = o->dim;

    for (size_t i = 0; i < n; i++)
        q[i] = o->g[i] * o->free[i];
    for (int k = 0; k < o->count; k++) {
        int j = (o->head - 1 - k + OPT_MEM) % OPT_MEM;
        double *s = o->s + (size_t)j * n, *y = o->y + (size_t)j * n;

        al[j] = o->rho[j] * dot_mask(s, q, o->free, n);
        for (size_t i = 0; i < n; i++)
            q[i] -= al[j] * y[i] * o->free[i];
    }
    if (o->count) {
        int j = (o->head - 1 + OPT_MEM) % OPT_MEM;
        double *y = o->y + (size_t)j * n, yy = dot_mask(y, y, o->free, n);
        double scale = yy > 0 ? 1 / (o->rho[j] * yy) : 1;

        for (size_t i = 0; i < n; i++)
            q[i] *= scale;
    }
    for (int k = o->count - 1; k >= 0; k--) {
        int j = (o->head - 1 - k + OPT_MEM) % OPT_MEM;
        double *s = o->s + (size_t)j * n, *y = o->y + (size_t)j * n;
        double b = o->rho[j] * dot_mask(y, q, o->free, n);

        for (size_t i = 0; i < n; i++)
            q[i] += s[i] * (al[j] - b) * o->free[i];
    }
    for (size_t i = 0; i < n; i++)
        q[i] = -q[i];
}

/* Armijo search along P(x + t d); fills xn, gn; returns f(xn) or NAN on failure. */
static double line_search(opt *o, const double *x, double f, double t)
{
    for (int k = 0; k < OPT_HALVINGS; k++, t *= 0.5) {
        double dec = 0;

        for (size_t i = 0; i < o->dim; i++) {
            o->xn[i] = clamp(x[i] + t * o->d[i], o->lo[i], o->hi[i]);
            dec += o->g[i] * (o->xn[i] - x[i]);
        }
        if (dec >= 0)
            continue;
        double fn = o->fn(o->xn, o->gn, o->ctx);
        if (fn <= f + OPT_ARMIJO * dec)
            return fn;
    }
    return NAN;
}

static void remember(opt *o, const double *x)
{
    size_t n = o->dim;
    double *s = o->s + (size_t)o->head * n, *y = o->y + (size_t)o->head * n, sy = 0, yy = 0;

    for (size_t i = 0; i < n; i++) {
        s[i] = o->xn[i] - x[i];
        y[i] = o->gn[i] - o->g[i];
        sy += s[i] * y[i];
        yy += y[i] * y[i];
    }
    if (sy <= 1e-12 * yy || sy <= 0)
        return; /* no positive curvature: keep the old pairs */
    o->rho[o->head] = 1 / sy;
    o->head = (o->head + 1) % OPT_MEM;
    o->count += o->count < OPT_MEM;
}

/* One iteration from (x, f, g); 1 when it moved, 0 when it cannot. */
static int iterate(opt *o, double *x, double *f, int first)
{
    double gd = 0, gmax = 0;

    direction(o);
    for (size_t i = 0; i < o->dim; i++)
        gd += o->g[i] * o->d[i];
    if (!(gd < 0)) {
        o->count = 0;
        direction(o);
    }
    for (size_t i = 0; i < o->dim; i++)
        gmax = fmax(gmax, fabs(o->d[i]));
    double fn = line_search(o, x, *f, first && gmax > 1 ? 1 / gmax : 1);
    if (isnan(fn))
        return 0;
    remember(o, x);
    memcpy(x, o->xn, sizeof *x * o->dim);
    memcpy(o->g, o->gn, sizeof *x * o->dim);
    *f = fn;
    return 1;
}

static int run(opt *o, double *x, int max_iter, disco__opt_result *out)
{
    double f = o->fn(x, o->g, o->ctx);
    int calm = 0;

    out->converged = 0;
    for (out->iterations = 0; out->iterations < max_iter; out->iterations++) {
        double before = f;

        if (free_set(o, x) == 0 || !isfinite(f)) {
            out->converged = isfinite(f);
            break;
        }
        if (!iterate(o, x, &f, out->iterations == 0)) {
            out->converged = 1; /* no descent left at working precision */
            break;
        }
        calm = before - f <= OPT_FTOL * fmax(fabs(before), 1e-300) ? calm + 1 : 0;
        if (calm >= 2) {
            out->converged = 1;
            break;
        }
    }
    out->f = f;
    return DISCO_OK;
}

int disco__opt_minimize(disco__opt_fn fn, void *ctx, size_t dim, double *x, const double *lo,
                        const double *hi, int max_iter, disco__opt_result *out)
{
    opt o = {fn, ctx, dim, lo, hi, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {0}, 0, 0};
    double *buf = malloc(sizeof *buf * dim * (5 + 2 * OPT_MEM));

    if (!buf)
        return DISCO_ERR_NOMEM;
    o.g = buf;
    o.xn = buf + dim;
    o.gn = buf + 2 * dim;
    o.d = buf + 3 * dim;
    o.free = buf + 4 * dim;
    o.s = buf + 5 * dim;
    o.y = o.s + OPT_MEM * dim;
    for (size_t i = 0; i < dim; i++)
        x[i] = clamp(x[i], lo[i], hi[i]);
    int rc = run(&o, x, max_iter, out);
    free(buf);
    return rc;
}
