/*
 * tsquery.h - queries over the tsdb: raw ranges, aggregation by step,
 * grouping by tags.
 *
 * Aggregations per step bucket [t0 + k*step, t0 + (k+1)*step), with t0 the
 * query start rounded down to a multiple of step (so every bucket starts
 * at a multiple of step; a row's ts is its bucket's start; buckets without
 * samples give no row): avg, min, max, sum, count, first, last, stddev
 * (population), p50, p90, p99 (exact, linear interpolation between closest
 * ranks as numpy's default). NaN samples are skipped by every aggregation
 * (count counts the others) except first and last, which return values as
 * stored. Over no samples (all NaN) count and sum are 0 and the others
 * NaN. Infinities take part: a sum of +Inf and -Inf is NaN.
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
/* The name of one aggregation bit ("avg"); NULL for anything else. */
const char *disco_ts_agg_name(unsigned bit);

/*
 * Parses a positive step: "500ms", "90s", "1m", "5m", "1h", "1d", "1w",
 * sums of those ("1h30m") or plain milliseconds ("1500"). INVAL naming
 * the text for anything else, zero, or a step past INT64_MAX ms.
 */
int disco_ts_step_parse(const char *text, int64_t *ms, disco_status *st);

typedef struct disco_ts_query {
    disco_ts_selector sel;
    int64_t step_ms;             /* 0: raw points */
    unsigned aggs;               /* with a step; 0 means avg */
    const char *const *group_by; /* tag keys: series agreeing on them are aggregated together */
    size_t n_group_by;           /* 0 with a step: each series on its own */
    size_t max_points;           /* refuse (LIMIT) results larger than this; 0: 1e7 */
} disco_ts_query;

/*
 * Runs a query. Result (a new reference in *result, NULL on failure):
 *   {"series": [{"metric", "tags", "columns": ["ts", "avg", ...],
 *                "points": [[ts, avg, ...], ...]}], "points": total}
 * (raw: columns ["ts", "value"]; aggregation columns in bit order).
 * Series come sorted by their canonical key (disco_ts_series_key()),
 * rows by time; "points" counts rows over all series. Timestamps and
 * counts are integers, other values reals; non-finite numbers appear as
 * strings "NaN", "Inf", "-Inf".
 *
 * With group_by, series of the same metric agreeing on the group_by tags
 * (a tag a series lacks counts as a value of its own) form one series
 * carrying only the group tags it has; each bucket aggregates the union
 * of the members' samples (avg is over all samples, not of averages;
 * first and last are the earliest and latest samples; on equal times,
 * first takes the series read first and last the one read last).
 *
 * Errors: INVAL for aggregations or group_by without a step, a negative
 * step, unknown aggregation bits, an empty group_by key, or more than
 * DISCO_TS_TAGS_MAX of them; LIMIT when the result would hold more than
 * max_points rows (the message says how many and how to narrow the
 * query); NOMEM; and whatever disco_tsdb_read() returns.
 */
int disco_tsdb_query(disco_tsdb *db, const disco_ts_query *q, json_t **result, disco_status *st);

/*
 * The aggregation kernel: aggregates of v[0..n) (bits of `aggs`) into out[]
 * in bit order (count as a double); `scratch` has room for n doubles when
 * a percentile is asked for (else it may be NULL). v is left as it was;
 * nothing is allocated. Sums are pairwise (error growing with log n) and
 * stddev takes a second pass over deviations from the mean.
 */
void disco_ts_aggregate(const double *v, size_t n, unsigned aggs, double *out, double *scratch);

#endif
