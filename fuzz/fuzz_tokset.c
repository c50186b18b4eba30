/*
 * fuzz_tokset.c - the corpus token-file reader (corpus.h) accepts or
 * refuses any bytes cleanly; what it accepts holds valid token ids and
 * consistent sequence bounds.
 */
#include "disco/corpus.h"
#include "disco/tokens.h"

#include "fuzz_check.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_tokset s;
    size_t total = 0;

    if (disco_tokset_read_mem(data, size, &s, &st) != DISCO_OK) {
        CHECK(st.msg[0] != '\0');
        return 0;
    }
    for (size_t i = 0; i < s.nseqs; i++) {
        CHECK(s.source[i] < s.nsources);
        for (size_t k = 0; k < s.lens[i]; k++)
            CHECK(s.seqs[i][k] >= 0 && s.seqs[i][k] < DISCO_TOK_VOCAB);
        total += s.lens[i];
    }
    CHECK(total == s.ntokens);
    disco_tokset_release(&s);
    return 0;
}
