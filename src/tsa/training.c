/*
 * training.c - learning-curve analysis of a training run: settings,
 * validation of the curves, the shared smoothing and interpolation, and
 * disco_tsa_training_analyze(), which runs the detectors of
 * training_detect.c and the suggestions of training_report.c.
 *
 * Order of analysis: the loss is cut at its first non-finite value and
 * smoothed; divergence is found first, because everything after it (a
 * rising, exploding loss) would otherwise read as plateaus and spikes.
 */
#include "disco/tsa_training.h"

#include "training_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const metric_names[DISCO_TSA_METRIC_COUNT] = {
    "loss",          "val_loss",  "accuracy",     "val_accuracy",
    "learning_rate", "grad_norm", "tokens_per_s", "memory",
};

const char *disco_tsa_metric_name(disco_tsa_metric m)
{
    if ((int)m < 0 || m >= DISCO_TSA_METRIC_COUNT)
        return "unknown";
    return metric_names[m];
}

disco_tsa_training_config disco_tsa_training_config_default(void)
{
    return (disco_tsa_training_config){
        .ema_alpha = 0.1,
        .val_ema_alpha = 0.5,
        .median_window = 5,
        .plateau_window = 0,
        .plateau_rel = 0.01,
        .plateau_min_span = 0,
        .overfit_rel = 0.02,
        .diverge_factor = 3.0,
        .spike_window = 51,
        .spike_z = 7.0,
        .max_spikes = 64,
        .throughput_drop = 0.2,
        .memory_growth = 0.2,
        .lr_factor = 3.0,
        .compare_tol = 0.05,
    };
}

static int bad_setting(disco_status *st, const char *name, double v, const char *range)
{
    return disco_status_set(st, DISCO_ERR_INVAL, name, "setting %s = %g out of range %s", name, v,
                            range);
}

static int odd_window(size_t w, size_t lo)
{
    return w >= lo && w <= DISCO__TRAIN_MAX_WINDOW && w % 2 == 1;
}

static int in_open_unit(double v)
{
    return v > 0 && v < 1;
}

int disco__tsa_train_check_config(const disco_tsa_training_config *c, disco_status *st)
{
    if (!(c->ema_alpha > 0 && c->ema_alpha <= 1))
        return bad_setting(st, "ema_alpha", c->ema_alpha, "(0, 1]");
    if (!(c->val_ema_alpha > 0 && c->val_ema_alpha <= 1))
        return bad_setting(st, "val_ema_alpha", c->val_ema_alpha, "(0, 1]");
    if (!odd_window(c->median_window, 1))
        return bad_setting(st, "median_window", (double)c->median_window, "odd 1..255");
    if (c->plateau_window < 0)
        return bad_setting(st, "plateau_window", (double)c->plateau_window, ">= 0");
    if (!in_open_unit(c->plateau_rel))
        return bad_setting(st, "plateau_rel", c->plateau_rel, "(0, 1)");
    if (c->plateau_min_span < 0)
        return bad_setting(st, "plateau_min_span", (double)c->plateau_min_span, ">= 0");
    if (!in_open_unit(c->overfit_rel))
        return bad_setting(st, "overfit_rel", c->overfit_rel, "(0, 1)");
    if (!(c->diverge_factor > 1 && isfinite(c->diverge_factor)))
        return bad_setting(st, "diverge_factor", c->diverge_factor, "> 1");
    if (!odd_window(c->spike_window, 5))
        return bad_setting(st, "spike_window", (double)c->spike_window, "odd 5..255");
    if (!(c->spike_z > 0 && isfinite(c->spike_z)))
        return bad_setting(st, "spike_z", c->spike_z, "> 0");
    if (!in_open_unit(c->throughput_drop))
        return bad_setting(st, "throughput_drop", c->throughput_drop, "(0, 1)");
    if (!(c->memory_growth > 0 && isfinite(c->memory_growth)))
        return bad_setting(st, "memory_growth", c->memory_growth, "> 0");
    if (!(c->lr_factor > 1 && isfinite(c->lr_factor)))
        return bad_setting(st, "lr_factor", c->lr_factor, "> 1");
    if (!in_open_unit(c->compare_tol))
        return bad_setting(st, "compare_tol", c->compare_tol, "(0, 1)");
    return DISCO_OK;
}

int disco__tsa_train_has(const disco_tsa_run *run, disco_tsa_metric m)
{
    return run->curve[m].n_steps > 0;
}

static int check_curve(const disco_tsa_curve *c, const char *name, const char *label,
                       disco_status *st)
{
    if (c->n_steps != c->n_values)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%scurve '%s': %zu steps but %zu values",
                                label, name, c->n_steps, c->n_values);
    if (c->steps == NULL || c->values == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%scurve '%s': %s array is NULL", label,
                                name, c->steps == NULL ? "steps" : "values");
    for (size_t i = 1; i < c->n_steps; i++) {
        if (c->steps[i] <= c->steps[i - 1])
            return disco_status_set(
                st, DISCO_ERR_INVAL, name,
                "%scurve '%s': step %lld at index %zu does not follow step %lld", label, name,
                (long long)c->steps[i], i, (long long)c->steps[i - 1]);
    }
    return DISCO_OK;
}

int disco__tsa_train_check_run(const disco_tsa_run *run, const char *label, disco_status *st)
{
    if (run == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "run", "%srun is NULL", label);
    if (run->curve[DISCO_TSA_LOSS].n_steps == 0 && run->curve[DISCO_TSA_LOSS].n_values == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "loss", "%srun has no loss curve (empty)",
                                label);
    for (int m = 0; m < DISCO_TSA_METRIC_COUNT; m++) {
        const disco_tsa_curve *c = &run->curve[m];
        if (c->n_steps == 0 && c->n_values == 0)
            continue;
        int rc = check_curve(c, metric_names[m], label, st);
        if (rc < 0)
            return rc;
    }
    return DISCO_OK;
}

double disco__tsa_train_at(const disco_tsa_run *run, disco_tsa_metric m, int64_t at)
{
    const disco_tsa_curve *c = &run->curve[m];
    size_t lo = 0, hi = c->n_steps;

    if (hi == 0)
        return NAN;
    while (hi - lo > 1) { /* last index with steps <= at, or 0 */
        size_t mid = lo + (hi - lo) / 2;
        if (c->steps[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    return c->values[lo];
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

/* k-th smallest of x[0..n) by quickselect with Hoare's partition (reorders x). */
static double select_kth(double *x, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

    while (lo < hi) {
        double pivot = x[lo + (hi - lo) / 2];
        ptrdiff_t i = lo - 1, j = hi + 1;
        for (;;) {
            do
                i++;
            while (x[i] < pivot);
            do
                j--;
            while (x[j] > pivot);
            if (i >= j)
                break;
            swap(&x[i], &x[j]);
        }
        if (kk <= j)
            hi = j;
        else
            lo = j + 1;
    }
    return x[kk];
}

double disco__tsa_train_median(double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double hi = select_kth(x, n, n / 2);
    if (n % 2 == 1)
        return hi;
    double lo = x[0];
    for (size_t i = 1; i < n / 2; i++)
        lo = x[i] > lo ? x[i] : lo;
    return (lo + hi) / 2;
}

double disco__tsa_train_interp(const int64_t *step, const double *v, size_t n, int64_t at)
{
    if (n == 0)
        return NAN;
    if (at <= step[0])
        return v[0];
    if (at >= step[n - 1])
        return v[n - 1];
    size_t lo = 0, hi = n - 1; /* step[lo] < at < step[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (step[mid] <= at)
            lo = mid;
        else
            hi = mid;
    }
    double t = (double)(at - step[lo]) / (double)(step[hi] - step[lo]);
    return v[lo] + t * (v[hi] - v[lo]);
}

/* Centred running median (window shrinks at the ends), then zero-phase EMA. */
static void smooth(const double *x, size_t n, size_t w, double alpha, double *out)
{
    double win[DISCO__TRAIN_MAX_WINDOW];
    size_t h = w / 2;

    for (size_t i = 0; i < n; i++) {
        size_t lo = i >= h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;
        memcpy(win, x + lo, (hi - lo) * sizeof *win);
        out[i] = disco__tsa_train_median(win, hi - lo);
    }
    for (size_t i = 1; i < n; i++)
        out[i] = alpha * out[i] + (1 - alpha) * out[i - 1];
    for (size_t i = n - 1; i-- > 0;)
        out[i] = alpha * out[i] + (1 - alpha) * out[i + 1];
}

int disco__tsa_train_series_init(disco__train_series *ser, const disco_tsa_curve *c,
                                 const disco_tsa_training_config *cfg, double alpha)
{
    size_t n = 0;

    *ser = (disco__train_series){c->steps, c->values, 0, NULL};
    while (n < c->n_values && isfinite(c->values[n]))
        n++;
    if (n == 0)
        return DISCO_OK;
    ser->s = malloc(n * sizeof *ser->s);
    if (ser->s == NULL)
        return DISCO_ERR_NOMEM;
    ser->n = n;
    smooth(c->values, n, cfg->median_window, alpha, ser->s);
    return DISCO_OK;
}

void disco__tsa_train_series_cut(disco__train_series *ser, size_t n,
                                 const disco_tsa_training_config *cfg, double alpha)
{
    if (n >= ser->n)
        return;
    ser->n = n;
    if (n > 0)
        smooth(ser->x, n, cfg->median_window, alpha, ser->s);
}

void disco__tsa_train_series_release(disco__train_series *ser)
{
    free(ser->s);
    ser->s = NULL;
    ser->n = 0;
}

static void summarise(const disco_tsa_curve *c, disco_tsa_curve_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    if (c->n_steps == 0)
        return;
    sum->present = 1;
    sum->n = c->n_steps;
    while (sum->finite < c->n_values && isfinite(c->values[sum->finite]))
        sum->finite++;
    sum->first_step = c->steps[0];
    sum->last_step = c->steps[c->n_steps - 1];
    sum->last = sum->min = sum->max = NAN;
    for (size_t i = 0; i < sum->finite; i++) {
        double v = c->values[i];
        if (i == 0 || v < sum->min) {
            sum->min = v;
            sum->min_step = c->steps[i];
        }
        if (i == 0 || v > sum->max) {
            sum->max = v;
            sum->max_step = c->steps[i];
        }
        sum->last = v;
    }
}

/* The earliest non-finite value over all curves (ties: the lower metric). */
static void find_nonfinite(const disco_tsa_training_diag *d, const disco_tsa_run *run,
                           disco_tsa_nonfinite *nf)
{
    memset(nf, 0, sizeof *nf);
    for (int m = 0; m < DISCO_TSA_METRIC_COUNT; m++) {
        const disco_tsa_curve_summary *s = &d->summary[m];
        if (!s->present || s->finite == s->n)
            continue;
        int64_t step = run->curve[m].steps[s->finite];
        if (nf->found && step >= nf->step)
            continue;
        *nf = (disco_tsa_nonfinite){1, (disco_tsa_metric)m, step, run->curve[m].values[s->finite]};
    }
}

static int64_t plateau_window(const disco_tsa_run *run, const disco_tsa_training_config *cfg)
{
    const disco_tsa_curve *c = &run->curve[DISCO_TSA_LOSS];
    int64_t w = cfg->plateau_window;

    if (w == 0)
        w = (c->steps[c->n_steps - 1] - c->steps[0]) / 20;
    return w > 0 ? w : 1;
}

static int run_detectors(disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    int rc = disco__tsa_train_divergence(cx, d);

    if (rc < 0)
        return rc;
    disco__tsa_train_best(cx, d);
    disco__tsa_train_overfit(cx, d);
    rc = disco__tsa_train_plateaus(cx, d);
    if (rc == DISCO_OK)
        rc = disco__tsa_train_spikes(cx, d);
    if (rc == DISCO_OK)
        rc = disco__tsa_train_shifts(cx, d);
    if (rc < 0)
        return rc;
    d->healthy = !d->overfit.found && !d->nonfinite.found && !d->divergence.found &&
                 d->n_plateaus == 0 && d->spikes_total == 0 && !d->throughput.found &&
                 !d->memory.found;
    return disco__tsa_train_suggest(cx, d);
}

int disco_tsa_training_analyze(const disco_tsa_run *run, const disco_tsa_training_config *cfg,
                               disco_tsa_training_diag *out, disco_status *st)
{
    disco_tsa_training_config def = disco_tsa_training_config_default();
    disco__train_ctx cx = {0};
    int rc;

    if (out == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "diagnosis pointer is NULL");
    memset(out, 0, sizeof *out);
    cx.cfg = cfg != NULL ? cfg : &def;
    rc = disco__tsa_train_check_config(cx.cfg, st);
    if (rc == DISCO_OK)
        rc = disco__tsa_train_check_run(run, "", st);
    if (rc < 0)
        return rc;
    cx.run = run;
    for (int m = 0; m < DISCO_TSA_METRIC_COUNT; m++)
        summarise(&run->curve[m], &out->summary[m]);
    find_nonfinite(out, run, &out->nonfinite);
    cx.window = out->plateau_window = plateau_window(run, cx.cfg);
    rc = disco__tsa_train_series_init(&cx.loss, &run->curve[DISCO_TSA_LOSS], cx.cfg,
                                      cx.cfg->ema_alpha);
    if (rc == DISCO_OK && disco__tsa_train_has(run, DISCO_TSA_VAL_LOSS))
        rc = disco__tsa_train_series_init(&cx.val, &run->curve[DISCO_TSA_VAL_LOSS], cx.cfg,
                                          cx.cfg->val_ema_alpha);
    if (rc == DISCO_OK)
        rc = run_detectors(&cx, out);
    disco__tsa_train_series_release(&cx.val);
    disco__tsa_train_series_release(&cx.loss);
    if (rc < 0) {
        disco_tsa_training_diag_release(out);
        return disco_status_set(st, rc, NULL, "out of memory analysing the training curves");
    }
    return DISCO_OK;
}

void disco_tsa_training_diag_release(disco_tsa_training_diag *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n_suggestions; i++)
        free(d->suggestions[i]);
    free(d->suggestions);
    free(d->plateaus);
    free(d->spikes);
    memset(d, 0, sizeof *d);
}
