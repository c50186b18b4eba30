/*
 * insight.c - composes the plain-language summary of a series' analysis
 * (the wording is specified in tsa_insight.h and tested word for word).
 */
#include "disco/tsa_insight.h"

#include "disco/timeutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FLAT_PCT 0.05        /* |% per unit| below this reads as flat */
#define SAME_PERIOD_REL 0.01 /* a cycle this close to the season is not repeated */
#define SIGMA "\xcf\x83"

/* The text so far; `len` counts what would have been written had `cap` sufficed. */
typedef struct text {
    char *buf;
    size_t cap;
    size_t len;
    int parts;
} text;

__attribute__((format(printf, 2, 3))) static void text_add(text *tx, const char *fmt, ...)
{
    size_t room = tx->len < tx->cap ? tx->cap - tx->len : 0;
    va_list ap;
    int k;

    va_start(ap, fmt);
    k = vsnprintf(room ? tx->buf + tx->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        tx->len += (size_t)k;
}

static void text_part(text *tx)
{
    if (tx->parts++ > 0)
        text_add(tx, "; ");
}

void disco_tsa_insight_init(disco_tsa_insight *in)
{
    memset(in, 0, sizeof *in);
    in->season_period = NAN;
    in->season_strength = NAN;
    in->slope = NAN;
    in->slope_pct = NAN;
    in->change_pct = NAN;
    in->anomaly_time_ms = DISCO_TSA_NO_TIME;
    in->anomaly_value = NAN;
    in->anomaly_score = NAN;
    in->cycle_period = NAN;
    in->cycle_share = NAN;
}

static const char *unit_of(const disco_tsa_insight *in)
{
    return in->time_unit && in->time_unit[0] ? in->time_unit : "sample";
}

static void add_period(text *tx, const disco_tsa_insight *in, double period)
{
    text_add(tx, "%.4g %s%s", period, unit_of(in), period == 1.0 ? "" : "s");
}

static int check(const disco_tsa_insight *in, disco_status *st)
{
    if (in->has_season && !(in->season_strength >= 0.0 && in->season_strength <= 1.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "season_strength",
                                "season_strength %g out of range 0..1", in->season_strength);
    if (in->has_season && !in->season_name &&
        !(in->season_period > 0.0 && isfinite(in->season_period)))
        return disco_status_set(st, DISCO_ERR_INVAL, "season_period",
                                "season_period %g must be positive without a season_name",
                                in->season_period);
    if (in->has_trend && !isfinite(in->slope))
        return disco_status_set(st, DISCO_ERR_INVAL, "slope", "slope %g is not finite", in->slope);
    if (in->has_cycle && !(in->cycle_period > 0.0 && isfinite(in->cycle_period)))
        return disco_status_set(st, DISCO_ERR_INVAL, "cycle_period",
                                "cycle_period %g must be positive", in->cycle_period);
    if (in->has_cycle && !(in->cycle_share >= 0.0 && in->cycle_share <= 1.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "cycle_share",
                                "cycle_share %g out of range 0..1", in->cycle_share);
    return DISCO_OK;
}

static void add_season(text *tx, const disco_tsa_insight *in)
{
    text_part(tx);
    if (in->season_name) {
        text_add(tx, "%s cycle", in->season_name);
    } else {
        text_add(tx, "cycle of ");
        add_period(tx, in, in->season_period);
    }
    text_add(tx, ", strength %.2f", in->season_strength);
}

/* -0.04 would print as "-0.0"; values that round to zero print as zero. */
static double no_negative_zero(double v, double half_ulp)
{
    return fabs(v) < half_ulp ? 0.0 : v;
}

static void add_trend(text *tx, const disco_tsa_insight *in)
{
    int pct = isfinite(in->slope_pct);
    double rate = pct ? in->slope_pct : in->slope;

    text_part(tx);
    if (pct ? fabs(rate) < FLAT_PCT : rate == 0.0)
        text_add(tx, "flat");
    else if (pct)
        text_add(tx, "%s %.1f %%/%s", rate > 0 ? "rising" : "falling", fabs(rate), unit_of(in));
    else
        text_add(tx, "%s %.3g/%s", rate > 0 ? "rising" : "falling", fabs(rate), unit_of(in));
    if (isfinite(in->change_pct))
        text_add(tx, " (%+.1f %% overall)", no_negative_zero(in->change_pct, 0.05));
}

static void add_when(text *tx, const disco_tsa_insight *in)
{
    char iso[DISCO_TIME_ISO_MAX];
    char *ms;

    if (in->anomaly_time_ms == DISCO_TSA_NO_TIME) {
        text_add(tx, "index %zu", in->anomaly_index);
        return;
    }
    disco_time_format_iso(in->anomaly_time_ms, iso);
    ms = strstr(iso, ".000Z");
    if (ms)
        strcpy(ms, "Z");
    text_add(tx, "%s", iso);
}

static void add_anomalies(text *tx, const disco_tsa_insight *in)
{
    text_part(tx);
    if (in->anomalies == 0) {
        text_add(tx, "no anomalies");
        return;
    }
    if (in->anomalies == 1)
        text_add(tx, "1 anomaly");
    else
        text_add(tx, "%zu anomalies, largest", in->anomalies);
    if (isfinite(in->anomaly_value))
        text_add(tx, " %.4g", in->anomaly_value);
    text_add(tx, " at ");
    add_when(tx, in);
    if (isfinite(in->anomaly_score))
        text_add(tx, " (%+.1f" SIGMA ")", no_negative_zero(in->anomaly_score, 0.05));
}

static void add_cycle(text *tx, const disco_tsa_insight *in)
{
    if (in->has_season && isfinite(in->season_period) &&
        fabs(in->cycle_period - in->season_period) <= SAME_PERIOD_REL * in->season_period)
        return;
    text_part(tx);
    text_add(tx, "dominant cycle of ");
    add_period(tx, in, in->cycle_period);
    text_add(tx, " (%.0f %% of variance)", 100.0 * in->cycle_share);
}

int disco_tsa_insight_text(const disco_tsa_insight *in, char *buf, size_t cap, disco_status *st)
{
    text tx = {buf, cap, 0, 0};
    int rc;

    if (!in || !buf || cap == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, !in ? "in" : "buf", "%s",
                                !in ? "in is NULL" : "buf is NULL or empty");
    if ((rc = check(in, st)) < 0)
        return rc;
    buf[0] = '\0';
    if (in->has_season)
        add_season(&tx, in);
    if (in->has_trend)
        add_trend(&tx, in);
    if (in->has_anomalies)
        add_anomalies(&tx, in);
    if (in->has_cycle)
        add_cycle(&tx, in);
    if (tx.parts == 0)
        text_add(&tx, "no notable structure");
    if (tx.len >= cap)
        return disco_status_set(st, DISCO_ERR_LIMIT, "buf",
                                "buf of %zu bytes too small: the summary needs %zu", cap,
                                tx.len + 1);
    return (int)tx.len;
}
