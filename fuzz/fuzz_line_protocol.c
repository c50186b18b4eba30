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

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
