/*
 * training_report.c - what a training diagnosis says: suggestions as lines
 * of text ("stop at step 4200 (val_loss minimum 1.83)") and the diagnosis
 * as a JSON object.
 *
 * Suggestions come in order of urgency: divergence and non-finite values,
 * overfitting, plateaus, spikes, throughput, memory, then how the run ends.
 */
#include "training_int.h"

#include "disco/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plateaus turned into suggestions; all of them are in the JSON. */
#define MAX_PLATEAU_LINES 3

void disco__tsa_train_fmt(char *buf, size_t len, double v)
{
    double a = fabs(v);
    char tmp[32];

    if (!isfinite(v) || a == 0 || (a >= 1e-3 && a < 1000)) {
        snprintf(buf, len, "%.3g", v);
        return;
    }
    if (a >= 1000 && a < 1e9) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    snprintf(tmp, sizeof tmp, "%.2e", v);
    char *e = strchr(tmp, 'e');
    int exp10 = atoi(e + 1);
    char *end = e;
    while (end[-1] == '0')
        end--;
    if (end[-1] == '.')
        end--;
    *end = '\0';
    snprintf(buf, len, "%se%d", tmp, exp10);
}

__attribute__((format(printf, 2, 3))) static int say(disco_tsa_training_diag *d, const char *fmt,
                                                     ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char **a = realloc(d->suggestions, (d->n_suggestions + 1) * sizeof *a);
    if (a == NULL)
        return DISCO_ERR_NOMEM;
    d->suggestions = a;
    a[d->n_suggestions] = strdup(line);
    if (a[d->n_suggestions] == NULL)
        return DISCO_ERR_NOMEM;
    d->n_suggestions++;
    return DISCO_OK;
}

static int say_divergence(disco_tsa_training_diag *d)
{
    const disco_tsa_divergence *dv = &d->divergence;
    const disco_tsa_nonfinite *nf = &d->nonfinite;
    char why[128] = "", lr[32];
    int rc = DISCO_OK;

    if (dv->found) {
        if (dv->grad_ratio >= 2)
            snprintf(why, sizeof why, "grad_norm spiked ×%.0f", dv->grad_ratio);
        if (isfinite(dv->lr)) {
            disco__tsa_train_fmt(lr, sizeof lr, dv->lr);
            size_t len = strlen(why);
            snprintf(why + len, sizeof why - len, "%slr %s", len > 0 ? ", " : "", lr);
        }
        rc = say(d, "divergence at step %lld%s: lower the learning rate or clip gradients%s%s%s",
                 (long long)dv->step, dv->nonfinite ? " (loss became non-finite)" : "",
                 why[0] ? " (" : "", why, why[0] ? ")" : "");
    }
    if (rc == DISCO_OK && nf->found && !(dv->found && dv->nonfinite && nf->step == dv->step))
        rc = say(d, "first non-finite value: %s = %g at step %lld; later points are not analysed",
                 disco_tsa_metric_name(nf->metric), nf->value, (long long)nf->step);
    return rc;
}

static int say_overfit(disco_tsa_training_diag *d)
{
    const disco_tsa_overfit *o = &d->overfit;
    char best[32], gap[32];

    if (!o->found)
        return DISCO_OK;
    disco__tsa_train_fmt(best, sizeof best, d->best.value);
    disco__tsa_train_fmt(gap, sizeof gap, o->gap_growth);
    int rc = say(d, "stop at step %lld (val_loss minimum %s)", (long long)d->best.step, best);
    if (rc == DISCO_OK)
        rc = say(d,
                 "overfitting from step %lld: val_loss rises %.0f %% while loss falls (gap grew "
                 "by %s); add regularisation or data, or stop early",
                 (long long)o->start, 100 * o->val_rise, gap);
    return rc;
}

static int say_plateau(disco_tsa_training_diag *d, const disco_tsa_plateau *p, double lr_factor)
{
    char lr[32], fac[32], loss[32];

    disco__tsa_train_fmt(loss, sizeof loss, p->loss);
    if (!isfinite(p->lr))
        return say(d,
                   "plateau from step %lld to %lld (loss %s): lower the learning rate or "
                   "change its schedule",
                   (long long)p->start, (long long)p->end, loss);
    double factor = p->resumed && p->lr_end < p->lr / 1.5 ? p->lr / p->lr_end : lr_factor;
    disco__tsa_train_fmt(lr, sizeof lr, p->lr);
    disco__tsa_train_fmt(fac, sizeof fac, factor);
    if (!p->resumed)
        return say(d,
                   "loss flat from step %lld to the end (%lld) at lr %s: lower the learning "
                   "rate by ×%s or stop",
                   (long long)p->start, (long long)p->end, lr, fac);
    return say(
        d, "lower the learning rate by ×%s after step %lld (plateau from %lld to %lld at lr %s)",
        fac, (long long)p->start, (long long)p->start, (long long)p->end, lr);
}

static int say_spikes(disco_tsa_training_diag *d, disco_tsa_metric m)
{
    const disco_tsa_spike *big = NULL;
    size_t count = 0;
    char ratio[32];

    for (size_t i = 0; i < d->n_spikes; i++) {
        const disco_tsa_spike *sp = &d->spikes[i];
        if (sp->metric != m)
            continue;
        count++;
        if (big == NULL || sp->z > big->z)
            big = sp;
    }
    if (big == NULL)
        return DISCO_OK;
    disco__tsa_train_fmt(ratio, sizeof ratio, big->median > 0 ? big->value / big->median : NAN);
    return say(d,
               "%s spiked %zu time%s (largest at step %lld, ×%s its local median): clip "
               "gradients or lower the learning rate",
               disco_tsa_metric_name(m), count, count == 1 ? "" : "s", (long long)big->step, ratio);
}

static int say_shifts(disco_tsa_training_diag *d)
{
    char a[32], b[32];
    int rc = DISCO_OK;

    if (d->throughput.found) {
        disco__tsa_train_fmt(a, sizeof a, d->throughput.before);
        disco__tsa_train_fmt(b, sizeof b, d->throughput.after);
        rc = say(d, "throughput fell %.0f %% after step %lld (%s → %s tokens/s)",
                 100 * d->throughput.change, (long long)d->throughput.step, a, b);
    }
    if (rc == DISCO_OK && d->memory.found) {
        disco__tsa_train_fmt(a, sizeof a, d->memory.before);
        disco__tsa_train_fmt(b, sizeof b, d->memory.after);
        rc = say(d, "memory grew %.0f %% from step %lld (%s → %s): look for a leak",
                 100 * d->memory.change, (long long)d->memory.step, a, b);
    }
    return rc;
}

/* How the run ends, when nothing went wrong with it. */
static int say_ending(const disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    char v[32];
    int64_t last = d->summary[DISCO_TSA_LOSS].last_step;

    if (!d->best.found || d->overfit.found || d->divergence.found)
        return DISCO_OK;
    disco__tsa_train_fmt(v, sizeof v, d->best.value);
    int ending = d->n_plateaus > 0 && !d->plateaus[d->n_plateaus - 1].resumed;
    if (!ending && d->best.step >= last - cx->window)
        return say(d, "%s still falling at step %lld (%s): training longer may help",
                   disco_tsa_metric_name(d->best.metric), (long long)d->best.step, v);
    return say(d, "best checkpoint at step %lld (%s %s)", (long long)d->best.step,
               disco_tsa_metric_name(d->best.metric), v);
}

int disco__tsa_train_suggest(const disco__train_ctx *cx, disco_tsa_training_diag *d)
{
    int rc = say_divergence(d);

    if (rc == DISCO_OK)
        rc = say_overfit(d);
    for (size_t i = 0; i < d->n_plateaus && i < MAX_PLATEAU_LINES && rc == DISCO_OK; i++)
        rc = say_plateau(d, &d->plateaus[i], cx->cfg->lr_factor);
    if (rc == DISCO_OK)
        rc = say_spikes(d, DISCO_TSA_LOSS);
    if (rc == DISCO_OK)
        rc = say_spikes(d, DISCO_TSA_GRAD_NORM);
    if (rc == DISCO_OK)
        rc = say_shifts(d);
    if (rc == DISCO_OK)
        rc = say_ending(cx, d);
    return rc;
}

/* ---- JSON ------------------------------------------------------------- */

/* Sets o[k] = v (stealing v); records a failure in *bad. */
static void put(json_t *o, const char *k, json_t *v, int *bad)
{
    if (json_object_set_new(o, k, v) != 0)
        *bad = 1;
}

static json_t *done(json_t *o, int bad)
{
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *summary_json(const disco_tsa_curve_summary *s)
{
    json_t *o = json_object();
    int bad = o == NULL;

    if (bad)
        return NULL;
    put(o, "n", json_integer((json_int_t)s->n), &bad);
    put(o, "finite", json_integer((json_int_t)s->finite), &bad);
    put(o, "first_step", json_integer(s->first_step), &bad);
    put(o, "last_step", json_integer(s->last_step), &bad);
    put(o, "last", disco_json_number(s->last, -1), &bad);
    put(o, "min", disco_json_number(s->min, -1), &bad);
    put(o, "min_step", s->finite ? json_integer(s->min_step) : json_null(), &bad);
    put(o, "max", disco_json_number(s->max, -1), &bad);
    put(o, "max_step", s->finite ? json_integer(s->max_step) : json_null(), &bad);
    return done(o, bad);
}

static json_t *curves_json(const disco_tsa_training_diag *d)
{
    json_t *o = json_object();
    int bad = o == NULL;

    for (int m = 0; m < DISCO_TSA_METRIC_COUNT && !bad; m++) {
        if (d->summary[m].present)
            put(o, disco_tsa_metric_name((disco_tsa_metric)m), summary_json(&d->summary[m]), &bad);
    }
    return o == NULL ? NULL : done(o, bad);
}

static json_t *best_json(const disco_tsa_best *b)
{
    if (!b->found)
        return json_null();
    return json_pack("{s:s, s:I, s:o}", "metric", disco_tsa_metric_name(b->metric), "step",
                     (json_int_t)b->step, "value", disco_json_number(b->value, -1));
}

static json_t *overfit_json(const disco_tsa_overfit *o)
{
    if (!o->found)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o}", "start_step", (json_int_t)o->start, "val_rise",
                     disco_json_number(o->val_rise, -1), "gap_start",
                     disco_json_number(o->gap_start, -1), "gap_end",
                     disco_json_number(o->gap_end, -1), "gap_growth",
                     disco_json_number(o->gap_growth, -1));
}

static json_t *nonfinite_json(const disco_tsa_nonfinite *nf)
{
    if (!nf->found)
        return json_null();
    return json_pack("{s:s, s:I, s:s}", "metric", disco_tsa_metric_name(nf->metric), "step",
                     (json_int_t)nf->step, "value",
                     isnan(nf->value) ? "nan"
                     : nf->value > 0  ? "inf"
                                      : "-inf");
}

static json_t *divergence_json(const disco_tsa_divergence *dv)
{
    if (!dv->found)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:b}", "step", (json_int_t)dv->step, "ratio",
                     disco_json_number(dv->ratio, -1), "lr", disco_json_number(dv->lr, -1),
                     "grad_ratio", disco_json_number(dv->grad_ratio, -1), "nonfinite",
                     dv->nonfinite);
}

static json_t *shift_json(const disco_tsa_shift *s, const char *change)
{
    if (!s->found)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:o}", "step", (json_int_t)s->step, "before",
                     disco_json_number(s->before, -1), "after", disco_json_number(s->after, -1),
                     change, disco_json_number(s->change, -1));
}

static json_t *plateaus_json(const disco_tsa_training_diag *d)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < d->n_plateaus; i++) {
        const disco_tsa_plateau *p = &d->plateaus[i];
        json_t *o =
            json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:b}", "start", (json_int_t)p->start, "end",
                      (json_int_t)p->end, "loss", disco_json_number(p->loss, -1), "rel_change",
                      disco_json_number(p->rel_change, -1), "lr", disco_json_number(p->lr, -1),
                      "lr_end", disco_json_number(p->lr_end, -1), "resumed", p->resumed);
        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *spikes_json(const disco_tsa_training_diag *d)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < d->n_spikes; i++) {
        const disco_tsa_spike *sp = &d->spikes[i];
        json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "metric",
                              disco_tsa_metric_name(sp->metric), "step", (json_int_t)sp->step,
                              "value", disco_json_number(sp->value, -1), "median",
                              disco_json_number(sp->median, -1), "z", disco_json_number(sp->z, -1));
        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *suggestions_json(const disco_tsa_training_diag *d)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < d->n_suggestions; i++) {
        if (json_array_append_new(a, json_string(d->suggestions[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *disco_tsa_training_to_json(const disco_tsa_training_diag *d)
{
    json_t *o = d != NULL ? json_object() : NULL;
    int bad = o == NULL;

    if (bad)
        return NULL;
    put(o, "healthy", json_boolean(d->healthy), &bad);
    put(o, "plateau_window", json_integer(d->plateau_window), &bad);
    put(o, "best", best_json(&d->best), &bad);
    put(o, "overfitting", overfit_json(&d->overfit), &bad);
    put(o, "nonfinite", nonfinite_json(&d->nonfinite), &bad);
    put(o, "divergence", divergence_json(&d->divergence), &bad);
    put(o, "plateaus", plateaus_json(d), &bad);
    put(o, "spikes", spikes_json(d), &bad);
    put(o, "spikes_total", json_integer((json_int_t)d->spikes_total), &bad);
    put(o, "throughput", shift_json(&d->throughput, "fall"), &bad);
    put(o, "memory", shift_json(&d->memory, "rise"), &bad);
    put(o, "curves", curves_json(d), &bad);
    put(o, "suggestions", suggestions_json(d), &bad);
    return done(o, bad);
}
