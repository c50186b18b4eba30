/*
 * fuzz_wad.c - the WAD reader and MUS -> MIDI conversion must accept or
 * refuse any bytes cleanly; every converted MUS must read back as MIDI, and
 * every lump the directory lists must lie inside the archive.
 */
#include "disco/midi.h"
#include "disco/wad.h"

#include "fuzz_check.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Converted MUS is MIDI the reader takes (LIMIT only for absurd event counts). */
static void check_midi(const uint8_t *midi, size_t len)
{
    disco_status st = {0};
    disco_smf smf;
    int rc = disco_smf_read_mem(midi, len, &smf, &st);
    CHECK(rc == DISCO_OK || rc == DISCO_ERR_LIMIT);
    if (rc == DISCO_OK)
        disco_smf_release(&smf);
}

static void fuzz_mus(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    uint8_t *midi = NULL;
    size_t len = 0;
    if (disco_mus_to_midi(data, size, &midi, &len, &st) == DISCO_OK)
        check_midi(midi, len);
    else
        CHECK(st.msg[0] != '\0' && midi == NULL && len == 0);
    free(midi);
}

static void fuzz_wad(const uint8_t *data, size_t size)
{
    disco_status st = {0};
    disco_wad w;
    if (disco_wad_read_mem(data, size, &w, &st) != DISCO_OK) {
        CHECK(st.msg[0] != '\0' && w.lumps == NULL);
        return;
    }
    for (size_t i = 0; i < w.nlumps; i++) {
        size_t n = 0;
        const uint8_t *p = disco_wad_lump_data(&w, i, &n);
        CHECK(p >= data && p + n <= data + size);
        uint8_t *midi = NULL;
        size_t len = 0;
        int rc = disco_wad_music(&w, i, &midi, &len, &st);
        if (rc == DISCO_OK && disco_wad_is_music(&w, i) && p[0] == 'M' && p[1] == 'U')
            check_midi(midi, len);
        CHECK(rc == DISCO_OK || st.msg[0] != '\0');
        free(midi);
    }
    disco_wad_release(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_wad(data, size);
    fuzz_mus(data, size);
    return 0;
}
