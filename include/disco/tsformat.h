/*
 * tsformat.h - time-series ingest and export formats.
 *
 * JSON      {"series": [{"metric": "loss", "tags": {"run": "a"},
 *                        "points": [[ts, value], ...]}, ...]}
 *           or an array of {"metric", "tags", "ts", "value"} objects;
 *           ts as Unix milliseconds or an ISO 8601 string; value a number
 *           or one of the strings "NaN", "Inf", "-Inf" (JSON has no literal
 *           for them); unknown members are errors
 * CSV       RFC 4180; a header row; columns "ts" and "value" required,
 *           "metric" optional (else the default metric), every other column
 *           a tag (an empty cell: no such tag); names matched in any case;
 *           ts as Unix milliseconds or ISO 8601; value a number or NaN, Inf,
 *           -Inf in any case
 * line      InfluxDB line protocol: measurement,tag=v field=1.5,n=2i ts
 *           metric = measurement_field ("value" field: measurement alone),
 *           bytes outside [A-Za-z0-9_:.-] in it replaced by '_'; integer,
 *           unsigned and boolean fields become doubles (true 1, false 0),
 *           string fields are skipped; ts in units of line_unit_ns (default
 *           ns), rounded toward minus infinity to ms
 *
 * src/store/tsformat_{json,csv,line}.c open with the full rules of each.
 *
 * Parsing is all or nothing: the first problem rejects the whole text with
 * DISCO_ERR_INVAL and a message placing it, status field "data":
 *   "line L, column C: <problem>"          (line and CSV; JSON syntax, where
 *                                           the parser noticed it)
 *   "series S, point P: <problem>"         (JSON structure, counted from 1)
 *   "point P: <problem>"                   (the array-of-points shape)
 * Lines and columns count from 1, columns in bytes.
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

/* Options of a parse; zero-initialise, then set what you need. */
typedef struct disco_tsformat_opts {
    const char *metric;   /* default metric: CSV without a metric column or with an empty
                             cell, JSON without "metric"; NULL: none */
    const json_t *tags;   /* tags added to every series (input tags win); NULL: none */
    int64_t line_unit_ns; /* line protocol timestamp unit: 1 (ns, default when 0), 1000,
                             1000000, 1000000000; any divisor or multiple of 1000000 */
    int64_t now_ms;       /* time of line-protocol lines without one; 0: the time of the call */
} disco_tsformat_opts;

/* "json", "csv", "line" (also "influx"), in any case; INVAL otherwise. */
int disco_tsformat_parse_name(const char *name, disco_ts_format *f, disco_status *st);

/*
 * Parses `len` bytes of `text` (no NUL needed) into `out`, appending samples
 * and adding series. `o` may be NULL (all defaults). Errors, with `out`
 * left exactly as it was (samples, series table and index):
 *   INVAL  malformed input (message as above), a bad option (default metric
 *          or tags failing tsbatch's checks, line_unit_ns), NULL `out`,
 *          or NULL `text` with `len` > 0
 *   NOMEM
 */
int disco_tsformat_parse(disco_ts_format f, const char *text, size_t len,
                         const disco_tsformat_opts *o, disco_ts_batch *out, disco_status *st);

/*
 * CSV export writer. _begin writes the header "metric,<tag keys...>,ts,value"
 * with `tag_keys` (a JSON array of distinct strings other than metric, ts and
 * value in any case; NULL: none), copied. Each _rows call writes `n` rows
 * of one series: ts as ISO 8601 with milliseconds when `iso_time` (Unix
 * milliseconds outside the years 0000..9999) or as Unix milliseconds,
 * values so that they read back bit for bit (NaN's sign and payload aside),
 * NaN/Inf/-Inf for non-finite ones. A tag the series lacks is an empty cell,
 * so an empty tag value reads back as no tag. What the writer writes, the
 * CSV parser reads back to the same series and samples.
 *
 * _begin: INVAL (NULL `out`, bad keys), NOMEM, IO. _rows: INVAL (NULL
 * metric, tags not a string map, a tag key not in the header, NULL arrays
 * with n > 0), NOMEM, IO (a write failed). _end releases the writer, never
 * closes `out`, and may be called twice.
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
