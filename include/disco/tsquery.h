/*
 * tsquery.h - queries over the tsdb: raw ranges, aggregation by step,
 * grouping by tags.
 *
 * Aggregations per step bucket [t0 + k*step, t0 + (k+1)*step), with t0 the
 * query start rounded down to a multiple of step: avg, min, max, sum,
 * count, first, last, stddev (population), p50, p90, p99 (exact, linear
 * interpolation between closest ranks as numpy's default). NaN samples are
 * skipped by every aggregation (count counts the others) except first and
 * last, which return values as stored.
 */
#ifndef DISCO_TSQUERY_H
#define DISCO_TSQUERY_H

#include "disco/tsdb.h"

enum {
    DISCO_AGG_AVG = 1u << 0,
    DISCO_AGG_MIN = 1u << 1,
    DISCO_AGG_MAX = 1u << 2,
    DISCO_AGG_SUM = 1u << 3,
    DISCO_AGG_COUNT = 1u << 4,
    DISCO_AGG_FIRST = 1u << 5,
    DISCO_AGG_LAST = 1u << 6,
    DISCO_AGG_STDDEV = 1u << 7,
    DISCO_AGG_P50 = 1u << 8,
    DISCO_AGG_P90 = 1u << 9,
    DISCO_AGG_P99 = 1u << 10,
};

/* "avg" -> DISCO_AGG_AVG, ...; INVAL names an unknown aggregation. */
int disco_ts_agg_parse(const char *name, unsigned *bit, disco_status *st);
const char *disco_ts_agg_name(unsigned bit);

/* Parses "90s", "1m", "5m", "1h", "1d", "1w" or plain milliseconds. */
int disco_ts_step_parse(const char *text, int64_t *ms, disco_status *st);

typedef struct disco_ts_query {
    disco_ts_selector sel;
    int64_t step_ms;        /* 0: raw points */
    unsigned aggs;          /* with a step; 0 means avg */
    const char *const *group_by; /* tag keys: series agreeing on them are aggregated together */
    size_t n_group_by;      /* 0 with a step: each series on its own */
    size_t max_points;      /* refuse (LIMIT) results larger than this; 0: 1e7 */
} disco_ts_query;

/*
 * Runs a query. Result:
 *   {"series": [{"metric", "tags", "columns": ["ts", "avg", ...],
 *                "points": [[ts, avg, ...], ...]}], "points": total}
 * (raw: columns ["ts", "value"]). Grouped series carry only the group
 * tags. Non-finite numbers appear as strings "NaN", "Inf", "-Inf".
 */
int disco_tsdb_query(disco_tsdb *db, const disco_ts_query *q, json_t **result, disco_status *st);

/* The aggregation kernel: aggregates of v[0..n) (bits of `aggs`) into out[]
 * in bit order; `scratch` has room for n doubles (percentiles). */
void disco_ts_aggregate(const double *v, size_t n, unsigned aggs, double *out, double *scratch);

#endif
