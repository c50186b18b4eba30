/*
 * tsa_insight.h - a short plain-language summary of a series' analysis.
 *
 * The caller fills a disco_tsa_insight with what the analyses found and
 * gets back one deterministic line, e.g.
 *
 *   daily cycle, strength 0.81; rising 2.3 %/day (+16.1 % overall);
 *   3 anomalies, largest 97.5 at 2026-01-01T10:00:00Z (+4.2σ)
 *
 * Parts, in this order, joined by "; " (σ is UTF-8):
 *   season   "<season_name> cycle, strength S" or "cycle of P <unit>s, strength S"  (S: %.2f)
 *   trend    "flat" when |slope_pct| < 0.05 (or slope_pct is NaN and slope is 0),
 *            else "rising|falling R %/<unit>" (R: %.1f of |slope_pct|), or without
 *            slope_pct "rising|falling A/<unit>" (A: %.3g of |slope|);
 *            then " (+C % overall)" when change_pct is finite (C: %+.1f)
 *   anomalies "no anomalies", "1 anomaly V at W (Zσ)" or "N anomalies, largest V at W (Zσ)":
 *            V the value (%.4g, left out when NaN), W the ISO time (seconds, or
 *            milliseconds when there are any) or "index I" without a time, Z the
 *            score (%+.1f, the parenthesis left out when NaN)
 *   cycle    "dominant cycle of P <unit>s (H % of variance)" (H: %.0f); left out when a
 *            season is reported with a period within 1 % of it
 * Periods are printed with %.4g and the unit gets an "s" unless the period
 * is 1. Nothing to report gives "no notable structure". The unit defaults
 * to "sample".
 */
#ifndef DISCO_TSA_INSIGHT_H
#define DISCO_TSA_INSIGHT_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_TSA_NO_TIME INT64_MIN
#define DISCO_TSA_INSIGHT_TEXT_MAX 512 /* always enough for the text */

/*
 * What the analyses found. Caller-owned; the strings are borrowed and need
 * only outlive the call. Set up with disco_tsa_insight_init().
 */
typedef struct disco_tsa_insight {
    const char *time_unit; /* singular name of the time unit ("day"); NULL: "sample" */

    int has_season;
    const char *season_name; /* "daily", "weekly"; NULL: described by its period */
    double season_period;    /* in time units */
    double season_strength;  /* 0..1 (Hyndman's F_S) */

    int has_trend;
    double slope;      /* value units per time unit */
    double slope_pct;  /* slope relative to the series' level, % per time unit; NaN: unknown */
    double change_pct; /* relative change over the whole series, %; NaN: unknown */

    int has_anomalies;       /* anomaly detection ran (a count of 0 is reported) */
    size_t anomalies;        /* how many */
    size_t anomaly_index;    /* sample index of the largest */
    int64_t anomaly_time_ms; /* its Unix time in ms; DISCO_TSA_NO_TIME: use the index */
    double anomaly_value;    /* its value; NaN: not shown */
    double anomaly_score;    /* its signed score in standard deviations; NaN: not shown */

    int has_cycle;
    double cycle_period; /* in time units */
    double cycle_share;  /* share of the variance, 0..1 */
} disco_tsa_insight;

/* Nothing found yet: flags 0, unknowns NaN, no time. */
void disco_tsa_insight_init(disco_tsa_insight *in);

/*
 * Writes the summary into `buf` (`cap` bytes, NUL-terminated) and returns
 * its length. Errors: INVAL for NULL in/buf, cap 0, or a part whose flag is
 * set with a non-finite or out-of-range field (naming the field); LIMIT when
 * `cap` is too small (buf then holds the text cut short).
 */
int disco_tsa_insight_text(const disco_tsa_insight *in, char *buf, size_t cap, disco_status *st);

#endif
