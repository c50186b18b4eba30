/*
 * fuzz_chain.c - any text given as an effect chain (effects.h) is built or
 * refused with a message naming its JSON path; a chain that is built runs
 * over a short stereo signal and leaves only finite samples.
 */
#include "disco/effects.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define FRAMES 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_chain *c = NULL;
    disco_audio a = {0};

    if (disco_chain_parse((const char *)data, size, 2, 44100, &c, &st) != DISCO_OK) {
        CHECK(c == NULL && st.msg[0] != '\0');
        return 0;
    }
    CHECK(disco_audio_alloc(&a, FRAMES, 2, 44100, &st) == DISCO_OK);
    for (size_t i = 0; i < FRAMES; i++)
        a.data[2 * i] = a.data[2 * i + 1] = (float)(0.5 * sin(0.05 * (double)i));
    CHECK(disco_chain_apply(c, &a, &st) == DISCO_OK);
    for (size_t i = 0; i < 2 * FRAMES; i++)
        CHECK(isfinite(a.data[i]));
    disco_audio_release(&a);
    disco_chain_free(c);
    return 0;
}
