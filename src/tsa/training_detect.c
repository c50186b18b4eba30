/*
 * training_detect.c - the detectors of the training-curve analysis: best
 * stopping step, overfitting, divergence, plateaus, spikes, and the
 * throughput and memory shifts. Each reads the smoothed curves of a
 * disco__train_ctx and fills its part of a diagnosis.
 *
 * Divergence runs first and sets ctx->limit: plateaus, spikes and the best
 * step look only at the loss before it, smoothed again without what follows.
 *
 * Throughput drop: the split k of the (median-filtered) tokens_per_s that
 * best separates two levels, maximising k (n - k) (mean_before -
 * mean_after)^2 over falls only; the fall is then measured between the
 * medians of the two parts, so a few slow steps do not count.
 */
#include "training_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t argmin(const double *x, size_t n)
{
    size_t b = 0;

    for (size_t i = 1; i < n; i++)
        b = x[i] < x[b] ? i : b;
    return b;
}

/* Median of the centred window of `w` points around i (shrunk at the ends). */
static double local_median(const double *x, size_t n, size_t i, size_t w)
{
    double win[DISCO__TRAIN_MAX_WINDOW];
    size_t h = w / 2;
    size_t lo = i >= h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;

    memcpy(win, x + lo, (hi - lo) * sizeof *win);
    return disco__tsa_train_median(win, hi - lo);
}

void disco__tsa_train_best(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    const disco__train_series *ser = cx->val.n > 0 ? &cx->val : &cx->loss;
    size_t n = cx->val.n > 0 ? cx->val.n : cx->limit;

    if (n == 0)
        return;
    size_t b = argmin(ser->s, n);
    d->best = (disco_tsa_best){1, cx->val.n > 0 ? DISCO_TSA_VAL_LOSS : DISCO_TSA_LOSS, ser->step[b],
                               ser->s[b]};
}

void disco__tsa_train_overfit(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    const disco__train_series *v = &cx->val, *l = &cx->loss;

    if (v->n < 3 || l->n < 2)
        return;
    size_t b = argmin(v->s, v->n), last = v->n - 1;
    if (b == last)
        return;
    double peak = v->s[b + 1];
    for (size_t i = b + 1; i < v->n; i++)
        peak = v->s[i] > peak ? v->s[i] : peak;
    double rise = (peak - v->s[b]) / fmax(fabs(v->s[b]), DBL_MIN);
    double tb = disco__tsa_train_interp(l->step, l->s, l->n, v->step[b]);
    double te = disco__tsa_train_interp(l->step, l->s, l->n, v->step[last]);
    if (rise < cx->cfg->overfit_rel || !(te < tb))
        return;
    d->overfit.found = 1;
    d->overfit.start = v->step[b];
    d->overfit.val_rise = rise;
    d->overfit.gap_start = v->s[b] - tb;
    d->overfit.gap_end = v->s[last] - te;
    d->overfit.gap_growth = d->overfit.gap_end - d->overfit.gap_start;
}

/* grad_norm peak from `from` on over its median before `from`; NaN without. */
static int grad_ratio(const disco_tsa_run *run, const disco_tsa_curve_summary *g, int64_t from,
                      double *ratio)
{
    const disco_tsa_curve *c = &run->curve[DISCO_TSA_GRAD_NORM];
    size_t nb = 0;
    double peak = NAN;

    *ratio = NAN;
    if (!g->present || g->finite == 0)
        return DISCO_OK;
    while (nb < g->finite && c->steps[nb] < from)
        nb++;
    for (size_t i = nb; i < g->finite; i++)
        peak = isnan(peak) || c->values[i] > peak ? c->values[i] : peak;
    if (nb < 3 || isnan(peak))
        return DISCO_OK;
    double *tmp = malloc(nb * sizeof *tmp);
    if (tmp == NULL)
        return DISCO_ERR_NOMEM;
    memcpy(tmp, c->values, nb * sizeof *tmp);
    double med = disco__tsa_train_median(tmp, nb);
    free(tmp);
    if (med > 0)
        *ratio = peak / med;
    return DISCO_OK;
}

size_t disco__tsa_train_explosion(const disco__train_series *l,
                                  const disco_tsa_training_config *cfg, double *ratio)
{
    double k = cfg->diverge_factor, runmin = INFINITY;

    for (size_t i = 0; i < l->n; i++) {
        double m = local_median(l->x, l->n, i, cfg->median_window);
        if (m < runmin)
            runmin = m;
        double excess = m - runmin;
        if (excess > 0 && excess > (k - 1) * fabs(runmin)) {
            *ratio = runmin > 0 ? m / runmin : INFINITY;
            return i;
        }
    }
    return l->n;
}

int disco__tsa_train_divergence(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    disco__train_series *l = &cx->loss;
    disco_tsa_divergence *dv = &d->divergence;
    double ratio = NAN;
    size_t at = disco__tsa_train_explosion(l, cx->cfg, &ratio);

    cx->limit = at;
    if (at < l->n) {
        *dv = (disco_tsa_divergence){1, l->step[at], ratio, NAN, NAN, 0};
        disco__tsa_train_series_cut(l, at, cx->cfg, cx->cfg->ema_alpha);
    } else if (l->n < cx->run->curve[DISCO_TSA_LOSS].n_values) {
        *dv = (disco_tsa_divergence){1, l->step[l->n], NAN, NAN, NAN, 1};
    } else {
        return DISCO_OK;
    }
    dv->lr = disco__tsa_train_at(cx->run, DISCO_TSA_LEARNING_RATE, dv->step);
    return grad_ratio(cx->run, &d->summary[DISCO_TSA_GRAD_NORM], dv->step - cx->window,
                      &dv->grad_ratio);
}

static int push_plateau(disco_tsa_training_diag *d, const disco_tsa_plateau *p)
{
    disco_tsa_plateau *a = realloc(d->plateaus, (d->n_plateaus + 1) * sizeof *a);

    if (a == NULL)
        return DISCO_ERR_NOMEM;
    a[d->n_plateaus++] = *p;
    d->plateaus = a;
    return DISCO_OK;
}

/* Relative improvement of the smoothed loss over the N steps after point i. */
static double improvement(const disco__train_ctx *cx, size_t i, size_t *j)
{
    const int64_t *st = cx->loss.step;
    const double *s = cx->loss.s;
    size_t n = cx->limit;
    double den = fmax(fabs(s[i]), DBL_MIN);

    while (*j < n && st[*j] < st[i] + cx->window)
        (*j)++;
    if (*j < n)
        return (s[i] - s[*j]) / den;
    int64_t span = st[n - 1] - st[i];
    if (span <= 0 || 2 * span < cx->window)
        return NAN;
    return (s[i] - s[n - 1]) * (double)cx->window / (double)span / den;
}

static int add_plateau(disco__train_ctx *cx, disco_tsa_training_diag *d, size_t a, size_t b,
                       int resumed)
{
    const int64_t *st = cx->loss.step;
    int64_t last = st[cx->limit - 1], min_span = cx->cfg->plateau_min_span;
    disco_tsa_plateau p = {0};

    p.start = st[a];
    p.end = st[b] + cx->window < last ? st[b] + cx->window : last;
    if (p.end - p.start < (min_span > 0 ? min_span : 2 * cx->window))
        return DISCO_OK;
    p.loss = cx->loss.s[a];
    double se = disco__tsa_train_interp(st, cx->loss.s, cx->limit, p.end);
    p.rel_change = (p.loss - se) / fmax(fabs(p.loss), DBL_MIN);
    p.lr = disco__tsa_train_at(cx->run, DISCO_TSA_LEARNING_RATE, p.start);
    p.lr_end = disco__tsa_train_at(cx->run, DISCO_TSA_LEARNING_RATE, p.end);
    p.resumed = resumed;
    return push_plateau(d, &p);
}

int disco__tsa_train_plateaus(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    double rel = cx->cfg->plateau_rel;
    size_t j = 0, first = 0;
    int flat = 0, rc = DISCO_OK;

    if (cx->limit < 3)
        return DISCO_OK;
    for (size_t i = 0; i < cx->limit && rc == DISCO_OK; i++) {
        double r = improvement(cx, i, &j);
        int now = flat ? !(r >= 2 * rel) : r < rel; /* NaN keeps the state */
        if (now && !flat)
            first = i;
        if (!now && flat)
            rc = add_plateau(cx, d, first, i - 1, 1);
        flat = now;
    }
    if (flat && rc == DISCO_OK)
        rc = add_plateau(cx, d, first, cx->limit - 1, 0);
    return rc;
}

static int push_spike(disco_tsa_training_diag *d, size_t max, const disco_tsa_spike *sp)
{
    d->spikes_total++;
    if (d->n_spikes >= max)
        return DISCO_OK;
    disco_tsa_spike *a = realloc(d->spikes, (d->n_spikes + 1) * sizeof *a);
    if (a == NULL)
        return DISCO_ERR_NOMEM;
    a[d->n_spikes++] = *sp;
    d->spikes = a;
    return DISCO_OK;
}

/* Robust z of x[i] against the full window of w points that contains it. */
static double robust_z(const double *x, size_t n, size_t i, size_t w, double *median)
{
    double win[DISCO__TRAIN_MAX_WINDOW];
    size_t lo = i >= w / 2 ? i - w / 2 : 0;

    lo = lo + w > n ? n - w : lo;
    memcpy(win, x + lo, w * sizeof *win);
    double med = disco__tsa_train_median(win, w);
    for (size_t k = 0; k < w; k++)
        win[k] = fabs(x[lo + k] - med);
    double scale = fmax(1.4826 * disco__tsa_train_median(win, w), 1e-9 * fabs(med));
    *median = med;
    if (x[i] == med)
        return 0;
    return (x[i] - med) / fmax(scale, DBL_MIN);
}

static int spikes_in(disco__train_ctx *cx, disco_tsa_training_diag *d, disco_tsa_metric m,
                     const int64_t *step, const double *x, size_t n)
{
    size_t w = cx->cfg->spike_window;
    int rc = DISCO_OK;

    if (n < w)
        return DISCO_OK;
    for (size_t i = w / 2; i < n && rc == DISCO_OK; i++) {
        disco_tsa_spike sp = {m, step[i], x[i], 0, 0};
        sp.z = robust_z(x, n, i, w, &sp.median);
        if (sp.z > cx->cfg->spike_z)
            rc = push_spike(d, cx->cfg->max_spikes, &sp);
    }
    return rc;
}

static int by_step(const void *a, const void *b)
{
    const disco_tsa_spike *x = a, *y = b;

    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return (int)x->metric - (int)y->metric;
}

/* Points of a curve before `end` (a step); all of them when end is INT64_MAX. */
static size_t before_step(const int64_t *step, size_t n, int64_t end)
{
    while (n > 0 && step[n - 1] >= end)
        n--;
    return n;
}

int disco__tsa_train_spikes(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    const disco_tsa_curve *g = &cx->run->curve[DISCO_TSA_GRAD_NORM];
    int64_t end = d->divergence.found ? d->divergence.step - cx->window : INT64_MAX;
    size_t nl = before_step(cx->loss.step, cx->limit, end);
    size_t ng = before_step(g->steps, d->summary[DISCO_TSA_GRAD_NORM].finite, end);
    int rc = spikes_in(cx, d, DISCO_TSA_LOSS, cx->loss.step, cx->loss.x, nl);

    if (rc == DISCO_OK && ng > 0)
        rc = spikes_in(cx, d, DISCO_TSA_GRAD_NORM, g->steps, g->values, ng);
    if (d->n_spikes > 1)
        qsort(d->spikes, d->n_spikes, sizeof *d->spikes, by_step);
    return rc;
}

/* Split index that best separates a higher level before from a lower after. */
static size_t best_drop_split(const double *f, size_t n)
{
    size_t m = n / 20 > 2 ? n / 20 : 2, best = 0;
    double total = 0, before = 0, best_stat = 0;

    for (size_t i = 0; i < n; i++)
        total += f[i];
    for (size_t k = 1; k + m <= n; k++) {
        before += f[k - 1];
        if (k < m)
            continue;
        double a = before / (double)k, b = (total - before) / (double)(n - k);
        double stat = (double)k * (double)(n - k) * (a - b) * (a - b);
        if (a > b && stat > best_stat) {
            best_stat = stat;
            best = k;
        }
    }
    return best;
}

static int throughput(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    const disco_tsa_curve *c = &cx->run->curve[DISCO_TSA_TOKENS_PER_S];
    size_t n = d->summary[DISCO_TSA_TOKENS_PER_S].finite;

    if (n < 8)
        return DISCO_OK;
    double *f = malloc(n * sizeof *f);
    if (f == NULL)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        f[i] = local_median(c->values, n, i, cx->cfg->median_window);
    size_t k = best_drop_split(f, n);
    if (k > 0) {
        memcpy(f, c->values, n * sizeof *f);
        double before = disco__tsa_train_median(f, k);
        double after = disco__tsa_train_median(f + k, n - k);
        double fall = before > 0 ? 1 - after / before : 0;
        if (fall >= cx->cfg->throughput_drop)
            d->throughput = (disco_tsa_shift){1, c->steps[k], before, after, fall};
    }
    free(f);
    return DISCO_OK;
}

static int memory(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    const disco_tsa_curve *c = &cx->run->curve[DISCO_TSA_MEMORY];
    size_t n = d->summary[DISCO_TSA_MEMORY].finite, q = n / 10 > 0 ? n / 10 : 1;

    if (n < 4)
        return DISCO_OK;
    double *f = malloc(n * sizeof *f);
    if (f == NULL)
        return DISCO_ERR_NOMEM;
    memcpy(f, c->values, n * sizeof *f);
    double before = disco__tsa_train_median(f, q);
    double after = disco__tsa_train_median(f + n - q, q);
    free(f);
    double rise = before > 0 ? after / before - 1 : 0;
    if (rise < cx->cfg->memory_growth)
        return DISCO_OK;
    size_t i = 0;
    while (i + 1 < n && c->values[i] < before + (after - before) / 2)
        i++;
    d->memory = (disco_tsa_shift){1, c->steps[i], before, after, rise};
    return DISCO_OK;
}

int disco__tsa_train_shifts(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    int rc = throughput(cx, d);

    return rc < 0 ? rc : memory(cx, d);
}
