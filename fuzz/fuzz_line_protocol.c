/*
 * fuzz_line_protocol.c - libFuzzer target for InfluxDB line protocol input.
 *
 * Parses the input into a batch that already holds one series and sample.
 * Checks that:
 *   - a successful parse leaves a well-formed batch: the index maps every
 *     series' canonical key to its position and nothing else, every metric
 *     and tag set passes tsbatch's checks, every sample names a series;
 *   - a failed parse says why ("line L, column C: ...") and leaves the
 *     batch exactly as it was (all or nothing).
 * Any failed check aborts, so libFuzzer reports it as a crash.
 */
#include "disco/tsformat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_batch(const disco_ts_batch *b)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_tsformat_opts o = {.now_ms = 7};
    disco_status st = {0};
    disco_ts_batch b;
    json_t *tags = json_pack("{s:s}", "seed", "yes");
    uint32_t index;
    int rc;

    CHECK(tags && disco_ts_batch_init(&b) == DISCO_OK);
    CHECK(disco_ts_batch_series(&b, "seed", tags, &index, &st) == DISCO_OK);
    CHECK(disco_ts_batch_add(&b, index, 1, 2.0) == DISCO_OK);
    rc = disco_tsformat_parse(DISCO_TSF_LINE, (const char *)data, size, &o, &b, &st);
    if (rc == DISCO_OK) {
        check_batch(&b);
    } else {
        CHECK(rc == DISCO_ERR_INVAL && strncmp(st.msg, "line ", 5) == 0);
        CHECK(b.count == 1 && b.samples[0].ts == 1 && json_array_size(b.series) == 1);
        check_batch(&b);
    }
    disco_ts_batch_release(&b);
    json_decref(tags);
    return 0;
}
