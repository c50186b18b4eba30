/*
 * analysis.h - analyses of stored metrics, kept as catalog resources.
 *
 * The flows read series from the tsdb, run the pure tsa/ computations and
 * store what they found as a resource of type "analysis" whose parents are
 * the metric resources it read: the summary in its metadata, the full
 * result (arrays included) as its JSON payload in the object store.
 */
#ifndef DISCO_ANALYSIS_H
#define DISCO_ANALYSIS_H

#include "disco/catalog.h"
#include "disco/objects.h"
#include "disco/tsdb.h"

#include <jansson.h>

/* One series read for analysis: times (Unix ms) and values. */
typedef struct disco_series_data {
    char *metric; /* owned */
    json_t *tags; /* owned string map */
    int64_t *ts;  /* owned */
    double *v;    /* owned */
    size_t n;
} disco_series_data;

typedef struct disco_series_set {
    disco_series_data *items;
    size_t count;
} disco_series_set;

void disco_series_set_release(disco_series_set *set);

/*
 * Reads the selected series; with step_ms > 0 each becomes the average per
 * step bucket (empty buckets skipped). NOTFOUND when nothing matches
 * (naming the metric), LIMIT past `max_series`.
 */
int disco_analysis_load(disco_tsdb *db, const disco_ts_selector *sel, int64_t step_ms,
                        size_t max_series, disco_series_set *out, disco_status *st);

/*
 * Stores an analysis: a resource of type "analysis" with metadata
 * {"kind": kind, "summary": summary, ...`meta`} and the full `result` as its
 * JSON payload; parents are the live metric resources of `metrics` (names;
 * missing ones are skipped). `out` may be NULL.
 */
int disco_analysis_store(disco_catalog *cat, disco_objects *objs, const char *kind,
                         const json_t *metrics, const char *summary, const json_t *meta,
                         const json_t *result, const char *owner, disco_resource *out,
                         disco_status *st);

/*
 * Same with the parents given as an array of resource ids (each must be
 * live), for analyses of something other than metrics (audio, MIDI).
 */
int disco_analysis_store_with(disco_catalog *cat, disco_objects *objs, const char *kind,
                              const json_t *parents, const char *summary, const json_t *meta,
                              const json_t *result, const char *owner, disco_resource *out,
                              disco_status *st);

/*
 * Analyses one series: `what` is "all" (NULL), "seasonal", "cyclic", "trend"
 * or "anomaly"; `period` in samples, 0 to take the dominant cycle when it
 * is significant. Result: {"metric", "tags", "points", "interpolated",
 * "step_ms", "summary", and per part "cycles", "seasonal", "trend",
 * "anomalies"}. New reference.
 */
int disco_analysis_series(const disco_series_data *d, size_t period, const char *what,
                          json_t **result, disco_status *st);

/*
 * Compares two or more series on a common grid (their overlap; `step_ms`
 * 0: the median spacing): correlation matrices with p-values, lags,
 * co-movement and DTW distance/similarity of z-normalised shapes, plus a
 * summary. New reference in *result.
 */
int disco_analysis_compare(const disco_series_set *set, int64_t step_ms, json_t **result,
                           disco_status *st);

/* Forecast settings; season is a disco_tsa_hw_season (additive default). */
typedef struct disco_forecast_opts {
    size_t horizon; /* steps ahead, >= 1 */
    size_t period;  /* season length in samples; 0: the dominant cycle if significant */
    int season;     /* DISCO_TSA_SEASON_ADD or _MUL (used when there is a period) */
    int damped;
    double level; /* prediction interval level, e.g. 0.95 */
} disco_forecast_opts;

/*
 * Holt-Winters forecast of one gap-free series: {"metric", "tags", "model",
 * "columns": ["ts","mean","lower","upper"], "forecast": [...], "holdout":
 * {accuracy of Holt-Winters and of seasonal naive}, "summary"}.
 */
int disco_analysis_forecast(const disco_series_data *d, const disco_forecast_opts *o,
                            json_t **result, disco_status *st);

/* ---- training runs -------------------------------------------------------- */

#include "disco/tsa_training.h"

/* The curves of one run, by disco_tsa_metric, with steps as times. */
typedef struct disco_training_data {
    disco_series_set curves[DISCO_TSA_METRIC_COUNT];
    disco_series_set steps;
} disco_training_data;

/*
 * Reads run `run` (series tagged run=<run>); see training.c for how steps
 * are found. NOTFOUND when the run has none of the metrics. Zero `out`
 * first; release with disco_training_release().
 */
int disco_training_load(disco_tsdb *db, const char *run, disco_training_data *out,
                        disco_status *st);
void disco_training_release(disco_training_data *t);

/* A tsa run viewing `t`'s arrays (valid while `t` lives). */
void disco_training_run(const disco_training_data *t, const char *name, disco_tsa_run *run);

#endif
