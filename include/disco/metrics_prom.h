/*
 * metrics_prom.h - a registry of process metrics in the Prometheus text
 * exposition format (version 0.0.4), for a server's `/metrics`.
 *
 * A registry holds metrics in registration order. Each metric has a fixed
 * list of label names given when it is registered; its series (one per
 * distinct tuple of label values) are created on first use, up to
 * DISCO_PROM_SERIES_MAX per metric so a wrong label cannot grow memory
 * without bound. Three kinds:
 *
 *   counter    a monotonically increasing total; its name ends in "_total"
 *   histogram  observations counted into fixed cumulative buckets, plus
 *              _sum and _count; the +Inf bucket is implicit
 *   gauge      a value read when the registry is written, by a callback
 *              that reports one value per series (queue depth, open files)
 *
 * Written as:
 *
 *   # HELP http_requests_total requests served
 *   # TYPE http_requests_total counter
 *   http_requests_total{route="/api/jobs/{id}",code="200"} 3
 *   # TYPE http_request_duration_seconds histogram
 *   http_request_duration_seconds_bucket{route="/healthz",le="0.005"} 1
 *   ...
 *   http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1
 *   http_request_duration_seconds_sum{route="/healthz"} 0.0003
 *   http_request_duration_seconds_count{route="/healthz"} 1
 *
 * Thread safety: every function may be called from any thread at any time,
 * except disco_prom_free(). Each metric has its own mutex; updates cost a
 * lock and a scan of that metric's series (kept small by design).
 * Metrics without labels have their one series from registration, so they
 * show 0 before the first update.
 */
#ifndef DISCO_METRICS_PROM_H
#define DISCO_METRICS_PROM_H

#include "disco/err.h"

#include <stddef.h>

/* The Content-Type of what disco_prom_write() produces. */
#define DISCO_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define DISCO_PROM_NAME_MAX 128    /* metric and label names */
#define DISCO_PROM_LABELS_MAX 8    /* label names per metric */
#define DISCO_PROM_BUCKETS_MAX 32  /* finite bucket bounds per histogram */
#define DISCO_PROM_SERIES_MAX 1000 /* series per metric */

/*
 * Latency bounds in seconds, 1 ms .. 60 s, used when a histogram is
 * registered without bounds of its own.
 */
extern const double disco_prom_latency_buckets[];
extern const size_t disco_prom_latency_buckets_n;

typedef struct disco_prom disco_prom;
typedef struct disco_prom_metric disco_prom_metric;
typedef struct disco_prom_sink disco_prom_sink;

/*
 * Reports the current values of a gauge, once per series, through
 * disco_prom_sink_put(). Called from disco_prom_write() on the writer's
 * thread; it must be thread-safe in itself and must not call back into the
 * registry other than through the sink.
 */
typedef void (*disco_prom_gauge_fn)(void *user, disco_prom_sink *sink);

/* A new empty registry (NOMEM). */
int disco_prom_new(disco_prom **out, disco_status *st);

/* Frees the registry and its metrics. NULL is a no-op. No other call may run. */
void disco_prom_free(disco_prom *reg);

/*
 * Registers a metric. `labels` is a NULL-terminated list of label names
 * (NULL: none). The registry owns the metric; the returned handle stays
 * valid until disco_prom_free(). `help` may be NULL (no HELP line).
 * Errors (INVAL names the field "name" or "labels"): a name that is not
 * [a-zA-Z_:][a-zA-Z0-9_:]*, a counter name not ending in "_total", a label
 * name that is not [a-zA-Z_][a-zA-Z0-9_]* or starts with "__", a repeated
 * label, more than DISCO_PROM_LABELS_MAX labels, "le" on a histogram;
 * EXISTS when the registry already has that name; NOMEM.
 */
int disco_prom_counter_new(disco_prom *reg, const char *name, const char *help,
                           const char *const *labels, disco_prom_metric **out, disco_status *st);

/*
 * As above for a histogram with `n` finite, strictly increasing upper bounds
 * (`bounds` NULL: disco_prom_latency_buckets). INVAL (field "buckets") for
 * bounds that are not finite, not increasing, or more than
 * DISCO_PROM_BUCKETS_MAX.
 */
int disco_prom_histogram_new(disco_prom *reg, const char *name, const char *help,
                             const char *const *labels, const double *bounds, size_t n,
                             disco_prom_metric **out, disco_status *st);

/* As above for a gauge whose values come from fn(user, sink) at write time. */
int disco_prom_gauge_new(disco_prom *reg, const char *name, const char *help,
                         const char *const *labels, disco_prom_gauge_fn fn, void *user,
                         disco_prom_metric **out, disco_status *st);

/*
 * Adds `delta` to a counter's series for `values` (one string per label
 * name, in order; NULL when the metric has no labels). Errors: INVAL for a
 * negative or non-finite delta, a NULL value, or a histogram/gauge handle;
 * LIMIT when the metric already has DISCO_PROM_SERIES_MAX series; NOMEM.
 */
int disco_prom_counter_add(disco_prom_metric *m, const char *const *values, double delta,
                           disco_status *st);

/* disco_prom_counter_add(m, values, 1, NULL). */
int disco_prom_counter_inc(disco_prom_metric *m, const char *const *values);

/*
 * Counts `x` into a histogram's series for `values`. Errors as
 * disco_prom_counter_add() (INVAL for NaN or a non-histogram handle).
 */
int disco_prom_histogram_observe(disco_prom_metric *m, const char *const *values, double x,
                                 disco_status *st);

/*
 * Reads a series back: a counter's value, or a histogram's observation
 * count (`sum` may be NULL; otherwise it gets the histogram's sum). A series
 * not yet created reads 0. For tests and for the server's own reports.
 */
double disco_prom_value(disco_prom_metric *m, const char *const *values, double *sum);

/*
 * From a gauge callback: one sample with the given label values (one per
 * label name, NULL when the gauge has none). Values with a NULL entry are
 * dropped.
 */
void disco_prom_sink_put(disco_prom_sink *sink, const char *const *values, double value);

/*
 * Writes every metric in the text exposition format into a new
 * NUL-terminated malloc'd buffer (*text, caller frees; *len its length,
 * may be NULL). Label values and HELP text are escaped (\\, \", \n). NOMEM.
 */
int disco_prom_write(disco_prom *reg, char **text, size_t *len, disco_status *st);

#endif
