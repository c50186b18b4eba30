/*
 * ts_forecast.c - forecasting a stored series with Holt-Winters, checked
 * against a seasonal-naive baseline on a holdout.
 */
#include "disco/analysis.h"

#include "disco/timeutil.h"
#include "disco/tsa_forecast.h"
#include "disco/tsa_spectral.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t median_step(const int64_t *ts, size_t n)
{
    int64_t best = n > 1 ? ts[1] - ts[0] : 1;
    size_t same = 0;

    /* the most common spacing among the first thousand gaps */
    for (size_t i = 1; i < n && i < 1000; i++) {
        size_t c = 0;
        for (size_t j = 1; j < n && j < 1000; j++)
            c += ts[j] - ts[j - 1] == ts[i] - ts[i - 1];
        if (c > same) {
            same = c;
            best = ts[i] - ts[i - 1];
        }
    }
    return best > 0 ? best : 1;
}

/* The period: given, else the dominant cycle when significant, else none. */
static size_t pick_period(const double *x, size_t n, size_t given)
{
    disco_tsa_cycles_config cfg = disco_tsa_cycles_config_default();
    disco_tsa_cycles cy;

    if (given)
        return given;
    if (disco_tsa_find_cycles(x, n, &cfg, &cy, NULL) != DISCO_OK || !cy.has_cycle || !cy.npeaks)
        return 0;
    double p = cy.peaks[0].period;
    return p >= 2 && p * 2 <= (double)n ? (size_t)llround(p) : 0;
}

static json_t *real_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *model_json(const disco_tsa_hw_result *r, const disco_tsa_hw_config *cfg)
{
    const char *season = cfg->season == DISCO_TSA_SEASON_MUL   ? "multiplicative"
                         : cfg->season == DISCO_TSA_SEASON_ADD ? "additive"
                                                               : "none";

    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:s, s:b}", "alpha",
                     real_or_null(r->alpha), "beta", real_or_null(r->beta), "gamma",
                     real_or_null(r->gamma), "phi", real_or_null(r->phi), "sse",
                     real_or_null(r->sse), "aic", real_or_null(r->aic), "bic", real_or_null(r->bic),
                     "period", (json_int_t)cfg->period, "season", season, "damped", cfg->damped);
}

static json_t *points_json(const int64_t *ts, size_t n, int64_t step, size_t h, const double *m,
                           const double *lo, const double *hi)
{
    json_t *pts = json_array();

    for (size_t i = 0; i < h; i++)
        json_array_append_new(pts, json_pack("[I, f, f, f]",
                                             (json_int_t)(ts[n - 1] + (int64_t)(i + 1) * step),
                                             m[i], lo[i], hi[i]));
    return pts;
}

static json_t *accuracy_json(const disco_tsa_accuracy *a)
{
    return json_pack("{s:f, s:f, s:o}", "mae", a->mae, "rmse", a->rmse, "mape",
                     isfinite(a->mape) ? json_real(a->mape) : json_null());
}

typedef struct fc_job {
    const disco_series_data *d;
    disco_tsa_hw_config cfg;
    size_t h;
    double level;
    int64_t step;
    double *mean, *lo, *hi;
    json_t *out;
} fc_job;

static int holdout_check(fc_job *j, disco_status *st)
{
    size_t hold = j->cfg.period ? j->cfg.period : 10;
    disco_tsa_forecast_eval ev;

    if (j->d->n < hold + (j->cfg.period ? 2 * j->cfg.period : 10) + 2)
        return DISCO_OK; /* too short to hold anything out: say nothing */
    int rc = disco_tsa_forecast_evaluate(j->d->v, j->d->n, hold, &j->cfg, &ev, st);
    if (rc == DISCO_OK)
        json_object_set_new(j->out, "holdout",
                            json_pack("{s:I, s:o, s:o}", "points", (json_int_t)hold, "holt_winters",
                                      accuracy_json(&ev.hw), "seasonal_naive",
                                      accuracy_json(&ev.snaive)));
    return rc;
}

static void summary_text(fc_job *j, char *buf, size_t cap)
{
    json_t *ho = json_object_get(j->out, "holdout");
    char when[DISCO_TIME_ISO_MAX];
    int len;

    disco_time_format_iso(j->d->ts[j->d->n - 1] + (int64_t)j->h * j->step, when);
    len =
        snprintf(buf, cap, "Holt-Winters (%s season%s): %.4g by %s (%.0f %% interval %.4g to %.4g)",
                 j->cfg.season == DISCO_TSA_SEASON_NONE  ? "no"
                 : j->cfg.season == DISCO_TSA_SEASON_MUL ? "multiplicative"
                                                         : "additive",
                 j->cfg.damped ? ", damped trend" : "", j->mean[j->h - 1], when, j->level * 100,
                 j->lo[j->h - 1], j->hi[j->h - 1]);
    if (ho && len > 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, "; holdout MAE %.4g vs %.4g for seasonal naive",
                 json_number_value(json_object_get(json_object_get(ho, "holt_winters"), "mae")),
                 json_number_value(json_object_get(json_object_get(ho, "seasonal_naive"), "mae")));
}

static int fc_run(fc_job *j, disco_status *st)
{
    disco_tsa_hw *m = NULL;
    char text[512];
    int rc = disco_tsa_hw_fit(j->d->v, j->d->n, &j->cfg, &m, st);

    if (rc == DISCO_OK)
        rc = disco_tsa_hw_forecast(m, j->h, j->level, j->mean, j->lo, j->hi, st);
    if (rc == DISCO_OK) {
        json_object_set_new(j->out, "model", model_json(disco_tsa_hw_result_get(m), &j->cfg));
        json_object_set_new(j->out, "forecast",
                            points_json(j->d->ts, j->d->n, j->step, j->h, j->mean, j->lo, j->hi));
        json_object_set_new(j->out, "columns",
                            json_pack("[s, s, s, s]", "ts", "mean", "lower", "upper"));
        rc = holdout_check(j, st);
    }
    if (rc == DISCO_OK) {
        summary_text(j, text, sizeof text);
        json_object_set_new(j->out, "summary", json_string(text));
    }
    disco_tsa_hw_free(m);
    return rc;
}

int disco_analysis_forecast(const disco_series_data *d, const disco_forecast_opts *o,
                            json_t **result, disco_status *st)
{
    fc_job j = {.d = d,
                .cfg = disco_tsa_hw_config_default(),
                .h = o->horizon,
                .level = o->level,
                .out = json_object()};
    int rc = DISCO_OK;

    for (size_t i = 0; i < d->n && rc == DISCO_OK; i++)
        if (!isfinite(d->v[i]))
            rc = disco_status_set(st, DISCO_ERR_INVAL, "metric",
                                  "metric '%s': value %zu is not finite; forecasting needs a "
                                  "gap-free series (use --step to average over gaps)",
                                  d->metric, i);
    j.step = median_step(d->ts, d->n);
    j.cfg.period = rc == DISCO_OK ? pick_period(d->v, d->n, o->period) : 0;
    j.cfg.season = !j.cfg.period ? DISCO_TSA_SEASON_NONE : o->season;
    j.cfg.damped = o->damped;
    j.mean = malloc(j.h * sizeof *j.mean);
    j.lo = malloc(j.h * sizeof *j.lo);
    j.hi = malloc(j.h * sizeof *j.hi);
    if (rc == DISCO_OK && (!j.mean || !j.lo || !j.hi || !j.out))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc == DISCO_OK)
        rc = fc_run(&j, st);
    if (rc == DISCO_OK) {
        json_object_set_new(j.out, "metric", json_string(d->metric));
        json_object_set(j.out, "tags", d->tags);
        json_object_set_new(j.out, "step_ms", json_integer(j.step));
        *result = json_incref(j.out);
    }
    free(j.mean);
    free(j.lo);
    free(j.hi);
    json_decref(j.out);
    return rc;
}
