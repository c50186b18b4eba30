/*
 * fuzz_csv.c - libFuzzer target for CSV input and the CSV export writer.
 *
 * Parses the input into a batch that already holds one series and sample
 * (default metric "m", so a header without a metric column works too).
 * Checks that:
 *   - a successful parse leaves a well-formed batch (see check_batch);
 *   - exporting that batch as CSV (ISO times for inputs of odd length, Unix
 *     milliseconds otherwise) and parsing the export gives the same series
 *     in the same order and the same samples, values bit for bit (any NaN
 *     equals any NaN);
 *   - a failed parse says why ("line L, column C: ...") and leaves the
 *     batch exactly as it was (all or nothing).
 * Any failed check aborts, so libFuzzer reports it as a crash.
 */
#include "disco/tsformat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tag keys of every series, in the order they first appear. */
static json_t *tag_keys(const disco_ts_batch *b)
{
    json_t *keys = json_array(), *v;
    const char *k;

    for (size_t i = 0; i < json_array_size(b->series); i++) {
        json_object_foreach (json_object_get(json_array_get(b->series, i), "tags"), k, v) {
            int seen = 0;
            for (size_t j = 0; j < json_array_size(keys) && !seen; j++)
                seen = strcmp(json_string_value(json_array_get(keys, j)), k) == 0;
            if (!seen)
                CHECK(json_array_append_new(keys, json_string(k)) == 0);
        }
    }
    return keys;
}

/* Every sample of `b` as CSV, in order; malloc'd. */
static char *export_csv(const disco_ts_batch *b, int iso, size_t *len)
{
    json_t *keys = tag_keys(b);
    disco_tscsv_writer w;
    char *out = NULL;
    FILE *m = open_memstream(&out, len);

    CHECK(m && disco_tscsv_begin(&w, m, keys, iso) == DISCO_OK);
    for (size_t i = 0; i < b->count; i++) {
        const disco_ts_sample *s = &b->samples[i];
        json_t *e = json_array_get(b->series, s->series);
        CHECK(disco_tscsv_rows(&w, json_string_value(json_object_get(e, "metric")),
                               json_object_get(e, "tags"), &s->ts, &s->value, 1) == DISCO_OK);
    }
    disco_tscsv_end(&w);
    CHECK(fclose(m) == 0);
    json_decref(keys);
    return out;
}

static void check_same(const disco_ts_batch *a, const disco_ts_batch *b)
{
    CHECK(json_equal(a->series, b->series));
    CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        const disco_ts_sample *x = &a->samples[i], *y = &b->samples[i];
        CHECK(x->series == y->series && x->ts == y->ts);
        CHECK(isnan(x->value) ? isnan(y->value)
                              : memcmp(&x->value, &y->value, sizeof x->value) == 0);
    }
}

static void check_roundtrip(const disco_ts_batch *b, const disco_tsformat_opts *o, int iso)
{
    disco_status st = {0};
    disco_ts_batch back;
    size_t len = 0;
    char *text = export_csv(b, iso, &len);

    CHECK(disco_ts_batch_init(&back) == DISCO_OK);
    if (disco_tsformat_parse(DISCO_TSF_CSV, text, len, o, &back, &st) != DISCO_OK) {
        fprintf(stderr, "export does not parse back: %s\n%s", st.msg, text);
        abort();
    }
    check_same(b, &back);
    disco_ts_batch_release(&back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_tsformat_opts o = {.metric = "m", .now_ms = 7};
    disco_status st = {0};
    disco_ts_batch b;
    int rc;

    seeded_batch(&b, "a, \"b\"");
    rc = disco_tsformat_parse(DISCO_TSF_CSV, (const char *)data, size, &o, &b, &st);
    if (rc == DISCO_OK) {
        check_batch(&b);
        check_roundtrip(&b, &o, (int)(size & 1));
    } else {
        check_untouched(&b, rc, &st);
    }
    disco_ts_batch_release(&b);
    return 0;
}
