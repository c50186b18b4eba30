/*
 * fuzz_check.h - checks shared by the fuzz targets: a failed check aborts,
 * which libFuzzer reports as a crash with the input that caused it.
 */
#ifndef DISCO_FUZZ_CHECK_H
#define DISCO_FUZZ_CHECK_H

#include "disco/tsbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A batch is well formed: valid, indexed series; samples name existing series. */
static inline void check_batch(const disco_ts_batch *b)
{
    size_t n = json_array_size(b->series);
    disco_status st = {0};

    CHECK(json_object_size(b->index) == n);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(b->series, i);
        const char *metric = json_string_value(json_object_get(e, "metric"));
        char *key;
        CHECK(disco_ts_check_metric(metric, &st) == DISCO_OK);
        CHECK(disco_ts_check_tags(json_object_get(e, "tags"), &st) == DISCO_OK);
        key = disco_ts_series_key(metric, json_object_get(e, "tags"));
        CHECK(key && json_integer_value(json_object_get(b->index, key)) == (json_int_t)i);
        free(key);
    }
    for (size_t i = 0; i < b->count; i++)
        CHECK(b->samples[i].series < n);
}

/* A batch already holding one series and one sample, so a failed parse can
 * be checked to leave earlier contents alone (check_untouched). */
static inline void seeded_batch(disco_ts_batch *b, const char *tag_value)
{
    disco_status st = {0};
    json_t *tags = json_pack("{s:s}", "seed", tag_value);
    uint32_t index;

    CHECK(tags && disco_ts_batch_init(b) == DISCO_OK);
    CHECK(disco_ts_batch_series(b, "seed", tags, &index, &st) == DISCO_OK);
    CHECK(disco_ts_batch_add(b, index, 1, 2.0) == DISCO_OK);
    json_decref(tags);
}

/* A refused parse names its line and leaves the seeded batch as it was. */
static inline void check_untouched(const disco_ts_batch *b, int rc, const disco_status *st)
{
    CHECK(rc == DISCO_ERR_INVAL && strncmp(st->msg, "line ", 5) == 0);
    CHECK(b->count == 1 && b->samples[0].ts == 1 && json_array_size(b->series) == 1);
    check_batch(b);
}

#endif
