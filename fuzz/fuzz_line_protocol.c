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
    int rc;

    seeded_batch(&b, "yes");
    rc = disco_tsformat_parse(DISCO_TSF_LINE, (const char *)data, size, &o, &b, &st);
    if (rc == DISCO_OK) {
        check_batch(&b);
    } else {
        check_untouched(&b, rc, &st);
    }
    disco_ts_batch_release(&b);
    return 0;
}
