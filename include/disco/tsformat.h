/*
 * tsformat.h - time-series ingest and export formats.
 *
 * JSON      {"series": [{"metric": "loss", "tags": {"run": "a"},
 *                        "points": [[ts, value], ...]}, ...]}
 *           or an array of {"metric", "tags", "ts", "value"} objects
 * CSV       a header row; columns "ts" and "value" required, "metric"
 *           optional (else the default metric), every other column a tag;
 *           ts as Unix milliseconds or ISO 8601
 * line      InfluxDB line protocol: measurement,tag=v field=1.5,n=2i ts
 *           metric = measurement_field ("value" field: measurement alone),
 *           ts in the given precision (default ns), rounded to ms
 *
 * Parsing is all or nothing: the first malformed line rejects the batch
 * with INVAL and "line L, column C: <problem>".
 */
#ifndef DISCO_TSFORMAT_H
#define DISCO_TSFORMAT_H

#include "disco/tsbatch.h"

#include <stdio.h>

typedef enum disco_ts_format {
    DISCO_TSF_JSON = 0,
    DISCO_TSF_CSV = 1,
    DISCO_TSF_LINE = 2,
} disco_ts_format;

typedef struct disco_tsformat_opts {
    const char *metric;      /* default metric for CSV without a metric column */
    const json_t *tags;      /* tags added to every series (input tags win) */
    int64_t line_unit_ns;    /* line protocol timestamp unit: 1 (ns, default), 1000, 1e6, 1e9 */
    int64_t now_ms;          /* time for line-protocol lines without one */
} disco_tsformat_opts;

/* "json", "csv", "line" (also "influx"); INVAL otherwise. */
int disco_tsformat_parse_name(const char *name, disco_ts_format *f, disco_status *st);

/* Parses `len` bytes into `out` (appending). */
int disco_tsformat_parse(disco_ts_format f, const char *text, size_t len,
                         const disco_tsformat_opts *o, disco_ts_batch *out, disco_status *st);

/*
 * CSV export writer: header "metric,<tag keys...>,ts,value" is written by
 * _begin with the union of tag keys; rows per series with ISO 8601 times.
 */
typedef struct disco_tscsv_writer {
    FILE *out;
    json_t *keys; /* tag key order; owned */
    int iso_time;
} disco_tscsv_writer;

int disco_tscsv_begin(disco_tscsv_writer *w, FILE *out, const json_t *tag_keys, int iso_time);
int disco_tscsv_rows(disco_tscsv_writer *w, const char *metric, const json_t *tags,
                     const int64_t *ts, const double *v, size_t n);
void disco_tscsv_end(disco_tscsv_writer *w);

#endif
