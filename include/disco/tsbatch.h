/*
 * tsbatch.h - a batch of time-series samples on its way into the tsdb.
 *
 * A series is a metric name plus a set of tags. A batch holds a table of
 * the series it touches and the samples, each naming its series by index,
 * so parsers (JSON, CSV, line protocol) and writers share one shape:
 *
 *     series[0] = loss{run="a",split="train"}
 *     series[1] = loss{run="a",split="val"}
 *     samples   = (0, t0, 2.31) (1, t0, 2.40) (0, t1, 2.12) ...
 *
 * Timestamps are integers of Unix milliseconds.
 */
#ifndef DISCO_TSBATCH_H
#define DISCO_TSBATCH_H

#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DISCO_TS_METRIC_MAX 200  /* metric: [A-Za-z_:][A-Za-z0-9_:.-]* */
#define DISCO_TS_TAG_KEY_MAX 128 /* tag key: [A-Za-z_][A-Za-z0-9_.-]* */
#define DISCO_TS_TAG_VALUE_MAX 1024
#define DISCO_TS_TAGS_MAX 32

typedef struct disco_ts_sample {
    uint32_t series; /* index into the batch's series table */
    int64_t ts;      /* Unix milliseconds */
    double value;    /* any double, NaN and infinities included */
} disco_ts_sample;

typedef struct disco_ts_batch {
    json_t *series;           /* array of {"metric": s, "tags": {k: v}}; owned */
    json_t *index;            /* canonical series key -> index; owned */
    disco_ts_sample *samples; /* owned */
    size_t count, cap;
} disco_ts_batch;

/* Empty batch; DISCO_ERR_NOMEM on allocation failure. */
int disco_ts_batch_init(disco_ts_batch *b);
void disco_ts_batch_release(disco_ts_batch *b);
/* Drops samples and series, keeps the allocations. */
void disco_ts_batch_clear(disco_ts_batch *b);

/*
 * Index of the series `metric` + `tags` (a string map, may be NULL),
 * adding it when new. Checks names and tags: DISCO_ERR_INVAL with a message
 * naming the bad part ("metric 'cpu load': ...", "tag key '1x': ...").
 */
int disco_ts_batch_series(disco_ts_batch *b, const char *metric, const json_t *tags,
                          uint32_t *index, disco_status *st);

/* Appends one sample of series `index`. DISCO_ERR_NOMEM only. */
int disco_ts_batch_add(disco_ts_batch *b, uint32_t index, int64_t ts, double value);

/* Checks a metric name / a tag set as disco_ts_batch_series() does. */
int disco_ts_check_metric(const char *metric, disco_status *st);
int disco_ts_check_tags(const json_t *tags, disco_status *st);

/*
 * The canonical text of a series: metric{k1="v1",k2="v2"} with keys sorted
 * and values escaped; equal series give equal keys. Caller frees.
 */
char *disco_ts_series_key(const char *metric, const json_t *tags);

#endif
