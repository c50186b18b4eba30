/*
 * test_tsdb_util.h - helpers shared by the tsdb test groups: batches from
 * literals, reading a selection into arrays. Include after cmocka.h.
 */
#ifndef DISCO_TEST_TSDB_UTIL_H
#define DISCO_TEST_TSDB_UTIL_H

#include "disco/tsdb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds a sample of metric{tags_json} to b. */
static inline void tt_add(disco_ts_batch *b, const char *metric, const char *tags_json, int64_t ts,
                          double v)
{
    json_t *tags = tags_json ? json_loads(tags_json, 0, NULL) : NULL;
    uint32_t idx;

    assert_int_equal(disco_ts_batch_series(b, metric, tags, &idx, NULL), DISCO_OK);
    json_decref(tags);
    assert_int_equal(disco_ts_batch_add(b, idx, ts, v), DISCO_OK);
}

/* Writes one point; returns the write's code. */
static inline int tt_put(disco_tsdb *db, const char *metric, const char *tags_json, int64_t ts,
                         double v, disco_status *st)
{
    disco_ts_batch b;
    int rc;

    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, metric, tags_json, ts, v);
    rc = disco_tsdb_write(db, &b, NULL, st);
    disco_ts_batch_release(&b);
    return rc;
}

/* Everything a read returned, series after series. */
typedef struct tt_got {
    size_t series, n, cap;
    int64_t *ts;
    double *v;
    char last_metric[256];
} tt_got;

static inline int tt_collect(void *user, const disco_ts_series_info *s, const int64_t *ts,
                             const double *v, size_t n)
{
    tt_got *g = user;

    if (g->n + n > g->cap) {
        g->cap = (g->n + n) * 2;
        g->ts = realloc(g->ts, g->cap * sizeof *g->ts);
        g->v = realloc(g->v, g->cap * sizeof *g->v);
    }
    for (size_t i = 1; i < n; i++)
        if (ts[i] <= ts[i - 1])
            return -100; /* not sorted */
    memcpy(g->ts + g->n, ts, n * sizeof *ts);
    memcpy(g->v + g->n, v, n * sizeof *v);
    g->n += n;
    g->series++;
    snprintf(g->last_metric, sizeof g->last_metric, "%s", s->metric);
    return 0;
}

static inline void tt_got_free(tt_got *g)
{
    free(g->ts);
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Reads metric{matchers} in [from, to) into g (freed first). */
static inline void tt_read(disco_tsdb *db, const char *metric, const char *matchers_json,
                           int64_t from, int64_t to, tt_got *g)
{
    disco_ts_matcher m[8];
    disco_ts_selector sel = {metric, m, 0, from, to};
    json_t *ex = matchers_json ? json_loads(matchers_json, JSON_DECODE_ANY, NULL) : NULL;
    disco_status st = {0};

    tt_got_free(g);
    if (ex)
        assert_int_equal(disco_ts_matchers_parse(ex, m, 8, &sel.n_matchers, &st), DISCO_OK);
    if (disco_tsdb_read(db, &sel, tt_collect, g, &st) != DISCO_OK)
        fail_msg("read: %s", st.msg);
    json_decref(ex);
}

#endif
