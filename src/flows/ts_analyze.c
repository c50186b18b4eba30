/*
 * ts_analyze.c - what one stored series shows: cycles, season, trend,
 * anomalies, and a sentence saying so.
 *
 *   values --(gaps filled)--> cycles (periodogram, Fisher's g)
 *                        \--> season (robust STL) when the period fits twice
 *                        \--> trend (polynomial by BIC on the deseasonalised series)
 *                        \--> anomalies (hybrid ESD on the STL residuals, or MAD without a season)
 *
 * Non-finite values are interpolated linearly from their neighbours and the
 * count is reported ("interpolated"); a series with fewer than 4 finite
 * values is refused.
 */
#include "disco/analysis.h"

#include "disco/timeutil.h"
#include "disco/tsa_anomaly.h"
#include "disco/tsa_decompose.h"
#include "disco/tsa_insight.h"
#include "disco/tsa_spectral.h"
#include "disco/tsa_trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct an_ctx {
    const disco_series_data *d;
    double *x; /* values with gaps filled */
    size_t n, filled;
    int64_t step_ms; /* median spacing */
    double unit_ms;  /* the time unit slopes are given in */
    const char *unit;
    size_t period;
    int period_given;
    double *trend, *seasonal, *resid;
    disco_tsa_insight in;
    json_t *out;
} an_ctx;

/* Fills non-finite values by linear interpolation; INVAL if too few remain. */
static int fill_gaps(an_ctx *c, disco_status *st)
{
    size_t n = c->n, last = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(c->x[i]))
            continue;
        for (size_t j = last == SIZE_MAX ? 0 : last + 1; j < i; j++)
            c->x[j] = last == SIZE_MAX ? c->x[i]
                                       : c->x[last] + (c->x[i] - c->x[last]) * (double)(j - last) /
                                                          (double)(i - last);
        c->filled += i - (last == SIZE_MAX ? 0 : last + 1);
        last = i;
    }
    if (last == SIZE_MAX || n < 4)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric",
                                "metric '%s': %zu points, too few finite values to analyse "
                                "(need at least 4)",
                                c->d->metric, n);
    for (size_t j = last + 1; j < n; j++)
        c->x[j] = c->x[last];
    c->filled += n - 1 - last;
    return DISCO_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median spacing and the time unit for slopes. */
static void pick_units(an_ctx *c)
{
    size_t n = c->n - 1;
    int64_t *gaps = malloc(n * sizeof *gaps), span = c->d->ts[c->n - 1] - c->d->ts[0];

    for (size_t i = 0; gaps && i < n; i++)
        gaps[i] = c->d->ts[i + 1] - c->d->ts[i];
    if (gaps)
        qsort(gaps, n, sizeof *gaps, cmp_i64);
    c->step_ms = gaps ? gaps[n / 2] : 1;
    free(gaps);
    c->unit = span >= 2 * 86400000LL  ? "day"
              : span >= 2 * 3600000LL ? "hour"
              : span >= 2 * 60000LL   ? "minute"
                                      : "second";
    c->unit_ms = strcmp(c->unit, "day") == 0      ? 86400000.0
                 : strcmp(c->unit, "hour") == 0   ? 3600000.0
                 : strcmp(c->unit, "minute") == 0 ? 60000.0
                                                  : 1000.0;
}

static const char *season_name(int64_t period_ms)
{
    if (period_ms == 86400000LL)
        return "daily";
    if (period_ms == 7 * 86400000LL)
        return "weekly";
    if (period_ms == 3600000LL)
        return "hourly";
    return NULL;
}

static int run_cycles(an_ctx *c, disco_status *st)
{
    disco_tsa_cycles_config cfg = disco_tsa_cycles_config_default();
    disco_tsa_cycles cy;
    json_t *peaks = json_array();
    int rc = disco_tsa_find_cycles(c->x, c->n, &cfg, &cy, st);

    if (rc != DISCO_OK) {
        json_decref(peaks);
        return rc;
    }
    for (size_t i = 0; i < cy.npeaks; i++)
        json_array_append_new(peaks,
                              json_pack("{s:f, s:f, s:f}", "period_samples", cy.peaks[i].period,
                                        "power", cy.peaks[i].power, "share", cy.peaks[i].share));
    json_object_set_new(c->out, "cycles",
                        json_pack("{s:b, s:f, s:f, s:o}", "significant", cy.has_cycle, "fisher_g",
                                  cy.fisher_g, "p_value", cy.p_value, "peaks", peaks));
    if (cy.has_cycle && cy.npeaks) {
        c->in.has_cycle = 1;
        c->in.cycle_period = cy.peaks[0].period * (double)c->step_ms / c->unit_ms;
        c->in.cycle_share = cy.peaks[0].share;
        if (!c->period && cy.peaks[0].period >= 2 && cy.peaks[0].period <= (double)c->n / 2)
            c->period = (size_t)llround(cy.peaks[0].period);
    }
    return DISCO_OK;
}

static int run_season(an_ctx *c, disco_status *st)
{
    disco_tsa_stl_config cfg;
    double fs, ft;
    int rc;

    if (c->period_given && c->n < 2 * c->period)
        return disco_status_set(st, DISCO_ERR_INVAL, "period",
                                "param 'period': metric '%s' has %zu points, too few for a "
                                "season of %zu (need at least two seasons, %zu points)",
                                c->d->metric, c->n, c->period, 2 * c->period);
    if (c->period < 2 || c->n < 2 * c->period)
        return DISCO_OK;
    cfg = disco_tsa_stl_config_default(c->period, 1);
    rc = disco_tsa_stl(c->x, c->n, &cfg, c->trend, c->seasonal, c->resid, NULL, st);
    if (rc != DISCO_OK)
        return rc;
    fs = disco_tsa_seasonal_strength(c->seasonal, c->resid, c->n);
    ft = disco_tsa_trend_strength(c->trend, c->resid, c->n);
    c->in.has_season = 1;
    c->in.season_period = (double)c->period * (double)c->step_ms / c->unit_ms;
    c->in.season_strength = fs;
    c->in.season_name = season_name((int64_t)c->period * c->step_ms);
    json_object_set_new(c->out, "seasonal",
                        json_pack("{s:I, s:I, s:f, s:f}", "period_samples", (json_int_t)c->period,
                                  "period_ms", (json_int_t)((int64_t)c->period * c->step_ms),
                                  "strength", fs, "trend_strength", ft));
    return DISCO_OK;
}

static int run_trend(an_ctx *c, disco_status *st)
{
    double *t = malloc(c->n * sizeof *t), *y = malloc(c->n * sizeof *y), mean = 0;
    disco_tsa_poly fit;
    int rc = t && y ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    for (size_t i = 0; rc == DISCO_OK && i < c->n; i++) {
        t[i] = (double)(c->d->ts[i] - c->d->ts[0]) / c->unit_ms;
        y[i] = c->in.has_season ? c->x[i] - c->seasonal[i] : c->x[i];
        mean += c->x[i] / (double)c->n;
    }
    if (rc == DISCO_OK)
        rc = disco_tsa_trend(t, y, c->n, c->n > 20 ? 3 : 1, DISCO_TSA_BIC, &fit, st);
    if (rc == DISCO_OK) {
        double first = disco_tsa_polyval(&fit, t[0]), last = disco_tsa_polyval(&fit, t[c->n - 1]);
        c->in.has_trend = fit.degree > 0;
        c->in.slope = fit.slope_end;
        c->in.slope_pct = mean != 0 ? 100.0 * fit.slope_end / fabs(mean) : NAN;
        c->in.change_pct = first != 0 ? 100.0 * (last - first) / fabs(first) : NAN;
        json_t *coef = json_array();
        for (int i = 0; i <= fit.degree; i++)
            json_array_append_new(coef, json_real(fit.coef[i]));
        json_object_set_new(c->out, "trend",
                            json_pack("{s:i, s:o, s:f, s:f, s:f, s:s}", "degree", fit.degree,
                                      "coef_highest_first", coef, "slope_per_unit", fit.slope_end,
                                      "mean_slope_per_unit", fit.slope_mean, "r2", fit.r2, "unit",
                                      c->unit));
    }
    free(t);
    free(y);
    return rc;
}

static json_t *anomaly_items(const an_ctx *c, const disco_tsa_anomalies *a, size_t *largest)
{
    json_t *items = json_array();
    double best = -1;

    for (size_t i = 0; i < a->count; i++) {
        size_t k = a->index[i];
        json_array_append_new(items, json_pack("{s:I, s:I, s:f, s:f}", "index", (json_int_t)k, "ts",
                                               (json_int_t)c->d->ts[k], "value", c->x[k], "score",
                                               a->score[i]));
        if (fabs(a->score[i]) > best) {
            best = fabs(a->score[i]);
            *largest = i;
        }
    }
    return items;
}

/*
 * Residuals for anomaly detection: a robust STL whose seasonal part is
 * periodic (one robust mean per phase), so a lone spike cannot be absorbed
 * into the season as a short seasonal window lets it be; trend removed too.
 */
static int spike_residuals(an_ctx *c, double *resid, disco_status *st)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(c->period, 1);
    double *t = malloc(c->n * sizeof *t), *s = malloc(c->n * sizeof *s);
    int rc = t && s ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    cfg.seasonal = 10 * c->n + 1;
    cfg.seasonal_deg = 0;
    if (rc == DISCO_OK)
        rc = disco_tsa_stl(c->x, c->n, &cfg, t, s, resid, NULL, st);
    free(t);
    free(s);
    return rc;
}

static int run_anomalies(an_ctx *c, disco_status *st)
{
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a = {0};
    const char *method =
        c->in.has_season ? "hybrid ESD on robust periodic-STL residuals" : "MAD (modified z-score)";
    size_t largest = 0;
    double *r = c->in.has_season ? malloc(c->n * sizeof *r) : NULL;
    int rc = c->in.has_season ? (r ? spike_residuals(c, r, st) : DISCO_ERR_NOMEM) : DISCO_OK;

    if (rc == DISCO_OK)
        rc = c->in.has_season ? disco_tsa_detect_esd(r, c->n, &cfg, &a, st)
                              : disco_tsa_detect_mad(c->x, c->n, DISCO_TSA_MODZ_THRESHOLD, &a, st);
    free(r);

    if (rc != DISCO_OK)
        return rc;
    json_t *items = anomaly_items(c, &a, &largest);
    json_object_set_new(c->out, "anomalies",
                        json_pack("{s:s, s:f, s:I, s:o}", "method", method, "threshold",
                                  a.threshold, "count", (json_int_t)a.count, "items", items));
    c->in.has_anomalies = 1;
    c->in.anomalies = a.count;
    if (a.count) {
        c->in.anomaly_index = a.index[largest];
        c->in.anomaly_time_ms = c->d->ts[a.index[largest]];
        c->in.anomaly_value = c->x[a.index[largest]];
        c->in.anomaly_score = a.score[largest];
    }
    disco_tsa_anomalies_release(&a);
    return DISCO_OK;
}

static int an_init(an_ctx *c, const disco_series_data *d, size_t period, disco_status *st)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->n = d->n;
    c->period = period;
    c->period_given = period > 0;
    c->x = malloc((d->n ? d->n : 1) * sizeof *c->x);
    c->trend = malloc((d->n ? d->n : 1) * sizeof *c->trend);
    c->seasonal = malloc((d->n ? d->n : 1) * sizeof *c->seasonal);
    c->resid = malloc((d->n ? d->n : 1) * sizeof *c->resid);
    c->out = json_object();
    if (!c->x || !c->trend || !c->seasonal || !c->resid || !c->out)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    memcpy(c->x, d->v, d->n * sizeof *c->x);
    disco_tsa_insight_init(&c->in);
    return DISCO_OK;
}

static void an_release(an_ctx *c)
{
    free(c->x);
    free(c->trend);
    free(c->seasonal);
    free(c->resid);
    json_decref(c->out);
}

static int wants(const char *what, const char *part)
{
    return !what || strcmp(what, "all") == 0 || strcmp(what, part) == 0;
}

/* The steps `what` asks for; a season is looked for when a trend or anomalies need it. */
static int an_run(an_ctx *c, const char *what, disco_status *st)
{
    int rc = fill_gaps(c, st);

    if (rc == DISCO_OK)
        pick_units(c);
    c->in.time_unit = c->unit;
    if (rc == DISCO_OK && (wants(what, "cyclic") || wants(what, "seasonal") || !c->period))
        rc = run_cycles(c, st);
    if (rc == DISCO_OK && !(what && strcmp(what, "cyclic") == 0))
        rc = run_season(c, st);
    if (rc == DISCO_OK && wants(what, "trend"))
        rc = run_trend(c, st);
    if (rc == DISCO_OK && wants(what, "anomaly"))
        rc = run_anomalies(c, st);
    return rc;
}

int disco_analysis_series(const disco_series_data *d, size_t period, const char *what,
                          json_t **result, disco_status *st)
{
    char text[DISCO_TSA_INSIGHT_TEXT_MAX];
    an_ctx c;
    int rc = an_init(&c, d, period, st);

    if (rc == DISCO_OK)
        rc = an_run(&c, what, st);
    if (rc == DISCO_OK && disco_tsa_insight_text(&c.in, text, sizeof text, st) < 0)
        rc = st ? st->code : DISCO_ERR_INTERNAL;
    if (rc == DISCO_OK) {
        json_object_set_new(c.out, "metric", json_string(d->metric));
        json_object_set(c.out, "tags", d->tags);
        json_object_set_new(c.out, "points", json_integer((json_int_t)d->n));
        json_object_set_new(c.out, "interpolated", json_integer((json_int_t)c.filled));
        json_object_set_new(c.out, "step_ms", json_integer(c.step_ms));
        json_object_set_new(c.out, "summary", json_string(text));
        *result = json_incref(c.out);
    }
    an_release(&c);
    return rc;
}
