/*
 * test_wad.c - the WAD directory reader and MUS -> MIDI: a hand-built WAD
 * lists its lumps and hands out a MIDI lump unchanged; a hand-built MUS with
 * known events becomes the expected notes (timing, volumes, programs, drum
 * channel, channel remapping); malformed WADs and MUS are CORRUPT with a
 * message that says where and what.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/midi.h"
#include "disco/wad.h"

#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"

typedef struct lump_spec {
    const char *name;
    const uint8_t *data;
    size_t len;
} lump_spec;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A PWAD holding `n` lumps: header, data, directory at the end. Caller frees. */
static uint8_t *make_wad(const lump_spec *l, size_t n, size_t *len)
{
    size_t data = 0;
    for (size_t i = 0; i < n; i++)
        data += l[i].len;
    *len = 12 + data + 16 * n;
    uint8_t *w = calloc(1, *len);
    assert_non_null(w);
    memcpy(w, "PWAD", 4);
    put32(w + 4, (uint32_t)n);
    put32(w + 8, (uint32_t)(12 + data));
    size_t off = 12;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = w + 12 + data + 16 * i;
        if (l[i].len)
            memcpy(w + off, l[i].data, l[i].len);
        put32(e, (uint32_t)off);
        put32(e + 4, (uint32_t)l[i].len);
        memcpy(e + 8, l[i].name, strlen(l[i].name));
        off += l[i].len;
    }
    return w;
}

/* One note-on at 0 and its note-off a quarter later, at 96 ticks per quarter. */
static const uint8_t tiny_midi[] = {
    'M', 'T', 'h', 'd', 0,  0,    0,    6,  0,   0,    0,    1,  0, 96,   'M',  'T',  'r',
    'k', 0,   0,   0,   12, 0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00};

/* A MUS header for `score` bytes of events and no instruments, followed by them. */
static uint8_t *make_mus(const uint8_t *score, size_t n, size_t *len)
{
    *len = 16 + n;
    uint8_t *m = calloc(1, *len);
    assert_non_null(m);
    memcpy(m, "MUS\x1a", 4);
    m[4] = (uint8_t)n;
    m[5] = (uint8_t)(n >> 8);
    m[6] = 16;
    m[8] = 2; /* primary channels */
    memcpy(m + 16, score, n);
    return m;
}

/* Events with known results (see test_mus_notes). */
static const uint8_t known_score[] = {
    0x40, 0x00,      24,         /* ch 0: instrument 24 */
    0x90, 0x80 | 60, 100,  70,   /* ch 0: play 60 at volume 100, then wait 70 */
    0x00, 60,                    /* ch 0: release 60 */
    0x10, 64,                    /* ch 0: play 64, volume kept */
    0x9F, 0x80 | 36, 90,   35,   /* ch 15 (drums): play 36 at 90, wait 35 */
    0x00, 64,                    /* ch 0: release 64 */
    0x8F, 36,        0x81, 0x48, /* ch 15: release 36, wait 200 (two-byte delay) */
    0x99, 0x80 | 72, 50,   10,   /* ch 9 (MIDI 10): play 72 at 50, wait 10 */
    0x09, 72,                    /* ch 9: release 72 */
    0x20, 0x80,                  /* ch 0: pitch bend centre */
    0x30, 11,                    /* ch 0: all notes off */
    0x4F, 0x03,      100,        /* ch 15: volume 100 */
    0x50,                        /* end of measure */
    0x60,                        /* end of score */
    0x10, 70,                    /* after the end: never played */
};

static void expect_note(const disco_note_ev *n, uint32_t start, uint32_t dur, int pitch, int vel,
                        int channel, int program)
{
    assert_int_equal(n->start, start);
    assert_int_equal(n->dur, dur);
    assert_int_equal(n->pitch, pitch);
    assert_int_equal(n->velocity, vel);
    assert_int_equal(n->channel, channel);
    assert_int_equal(n->program, program);
}

static void test_mus_notes(void **state)
{
    (void)state;
    size_t len, mlen;
    uint8_t *mus = make_mus(known_score, sizeof(known_score), &len), *midi = NULL;
    disco_status st = {0};
    disco_score sc;

    assert_int_equal(disco_mus_to_midi(mus, len, &midi, &mlen, &st), DISCO_OK);
    assert_memory_equal(midi, "MThd", 4);
    assert_int_equal(disco_score_read_mem(midi, mlen, &sc, &st), DISCO_OK);
    assert_int_equal(sc.tpq, DISCO_MUS_TPQ);
    assert_int_equal(sc.nnotes, 4);
    expect_note(&sc.notes[0], 0, 70, 60, 100, 0, 24);
    expect_note(&sc.notes[1], 70, 35, 36, 90, 9, 0);
    expect_note(&sc.notes[2], 70, 35, 64, 100, 0, 24);
    expect_note(&sc.notes[3], 305, 10, 72, 50, 10, 0);
    /* 140 MUS ticks a second: 70 ticks are half a second. */
    assert_true(disco_score_seconds(&sc, 70) > 0.4999 && disco_score_seconds(&sc, 70) < 0.5001);
    assert_int_equal(sc.end_tick, 315);
    disco_score_release(&sc);
    free(midi);
    free(mus);
}

static void expect_corrupt(const uint8_t *score, size_t n, const char *words)
{
    size_t len, mlen = 7;
    uint8_t *mus = make_mus(score, n, &len), *midi = (uint8_t *)&mlen;
    disco_status st = {0};

    assert_int_equal(disco_mus_to_midi(mus, len, &midi, &mlen, &st), DISCO_ERR_CORRUPT);
    assert_null(midi);
    assert_int_equal(mlen, 0);
    if (!strstr(st.msg, words))
        fail_msg("message '%s' lacks '%s'", st.msg, words);
    free(mus);
}

static void test_mus_malformed(void **state)
{
    (void)state;
    static const uint8_t no_volume[] = {0x10, 0x80 | 60};
    static const uint8_t type7[] = {0x10, 60, 0x70};
    static const uint8_t long_delay[] = {0x90, 60, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    static const uint8_t cut_delay[] = {0x90, 60, 0x81};
    static const uint8_t no_data[] = {0x40, 0x03};
    static const uint8_t too_late[] = {0x90, 60, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0x01};
    disco_status st = {0};
    uint8_t *midi;
    size_t mlen;

    expect_corrupt(no_volume, sizeof(no_volume), "offset 16");
    expect_corrupt(type7, sizeof(type7), "type 7");
    expect_corrupt(long_delay, sizeof(long_delay), "longer than 4 bytes");
    expect_corrupt(cut_delay, sizeof(cut_delay), "cut off");
    expect_corrupt(no_data, sizeof(no_data), "needs 2 data bytes");
    expect_corrupt(too_late, sizeof(too_late), "offset 24 takes the score past 268435455 ticks");

    assert_int_equal(disco_mus_to_midi("MUS\x1a\0\0", 6, &midi, &mlen, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "16 bytes"));
    assert_int_equal(disco_mus_to_midi("MThd0123456789abcdef", 20, &midi, &mlen, &st),
                     DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "not MUS"));
    /* score length pointing past the end */
    size_t len;
    uint8_t *mus = make_mus(known_score, 4, &len);
    mus[4] = 200;
    assert_int_equal(disco_mus_to_midi(mus, len, &midi, &mlen, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "does not fit"));
    /* instruments overlapping the score */
    mus[4] = 4;
    mus[12] = 3;
    assert_int_equal(disco_mus_to_midi(mus, len, &midi, &mlen, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "3 instruments"));
    free(mus);
}

static void test_wad_directory(void **state)
{
    (void)state;
    size_t mlen, wlen, n;
    uint8_t *mus = make_mus(known_score, sizeof(known_score), &mlen);
    static const uint8_t palette[] = {1, 2, 3, 4, 5, 6};
    lump_spec lumps[] = {{"MAP01", NULL, 0},
                         {"D_RUNNIN", tiny_midi, sizeof(tiny_midi)},
                         {"PLAYPAL", palette, sizeof(palette)},
                         {"D_MUSIC", mus, mlen},
                         {"D_BROKEN", palette, sizeof(palette)}};
    uint8_t *buf = make_wad(lumps, 5, &wlen), *midi;
    disco_status st = {0};
    disco_wad w;

    assert_int_equal(disco_wad_read_mem(buf, wlen, &w, &st), DISCO_OK);
    assert_int_equal(w.iwad, 0);
    assert_int_equal(w.nlumps, 5);
    assert_string_equal(w.lumps[1].name, "D_RUNNIN");
    assert_int_equal(disco_wad_find(&w, "playpal"), 2);
    assert_int_equal(disco_wad_find(&w, "NOPE"), -1);
    const uint8_t *d = disco_wad_lump_data(&w, 2, &n);
    assert_int_equal(n, sizeof(palette));
    assert_memory_equal(d, palette, n);
    assert_null(disco_wad_lump_data(&w, 5, &n));
    assert_false(disco_wad_is_music(&w, 0));
    assert_true(disco_wad_is_music(&w, 1));
    assert_false(disco_wad_is_music(&w, 2));
    assert_true(disco_wad_is_music(&w, 3));
    assert_false(disco_wad_is_music(&w, 4));

    assert_int_equal(disco_wad_music(&w, 1, &midi, &n, &st), DISCO_OK);
    assert_int_equal(n, sizeof(tiny_midi));
    assert_memory_equal(midi, tiny_midi, n);
    free(midi);
    assert_int_equal(disco_wad_music(&w, 3, &midi, &n, &st), DISCO_OK);
    disco_score sc;
    assert_int_equal(disco_score_read_mem(midi, n, &sc, &st), DISCO_OK);
    assert_int_equal(sc.nnotes, 4);
    disco_score_release(&sc);
    free(midi);
    assert_int_equal(disco_wad_music(&w, 4, &midi, &n, &st), DISCO_ERR_UNSUPPORTED);
    assert_non_null(strstr(st.msg, "D_BROKEN"));
    disco_wad_release(&w);
    disco_wad_release(&w); /* released twice: a no-op */
    free(buf);
    free(mus);
}

static void test_wad_mus_lump_corrupt(void **state)
{
    (void)state;
    static const uint8_t type7[] = {0x70};
    size_t mlen, wlen, n;
    uint8_t *mus = make_mus(type7, 1, &mlen), *midi;
    lump_spec lumps[] = {{"D_BAD", mus, mlen}};
    uint8_t *buf = make_wad(lumps, 1, &wlen);
    disco_status st = {0};
    disco_wad w;

    assert_int_equal(disco_wad_read_mem(buf, wlen, &w, &st), DISCO_OK);
    assert_int_equal(disco_wad_music(&w, 0, &midi, &n, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "lump 0 'D_BAD'"));
    assert_non_null(strstr(st.msg, "type 7"));
    disco_wad_release(&w);
    free(buf);
    free(mus);
}

static void expect_wad_corrupt(const uint8_t *buf, size_t len, const char *words)
{
    disco_status st = {0};
    disco_wad w;

    assert_int_equal(disco_wad_read_mem(buf, len, &w, &st), DISCO_ERR_CORRUPT);
    if (!strstr(st.msg, words))
        fail_msg("message '%s' lacks '%s'", st.msg, words);
    assert_null(w.lumps);
    assert_int_equal(w.nlumps, 0);
}

static void test_wad_malformed(void **state)
{
    (void)state;
    lump_spec lumps[] = {{"D_RUNNIN", tiny_midi, sizeof(tiny_midi)}};
    size_t len;
    uint8_t *buf = make_wad(lumps, 1, &len);

    expect_wad_corrupt(buf, 8, "12 bytes");
    memcpy(buf, "JWAD", 4);
    expect_wad_corrupt(buf, len, "IWAD");
    memcpy(buf, "IWAD", 4);
    expect_wad_corrupt(buf, len - 1, "directory of 1 lumps");
    put32(buf + 4, 0x7fffffff);
    expect_wad_corrupt(buf, len, "runs past the end");
    put32(buf + 4, 1);
    put32(buf + 8, 0xffffffff);
    expect_wad_corrupt(buf, len, "runs past the end");
    put32(buf + 8, (uint32_t)(len - 16));
    put32(buf + len - 12, 1000); /* lump size */
    expect_wad_corrupt(buf, len, "lump 0 'D_RUNNIN'");
    put32(buf + len - 12, sizeof(tiny_midi));
    put32(buf + len - 16, 0xfffffff0); /* lump offset */
    expect_wad_corrupt(buf, len, "past the end of the archive");
    free(buf);
}

static void test_wad_file(void **state)
{
    (void)state;
    lump_spec lumps[] = {{"D_RUNNIN", tiny_midi, sizeof(tiny_midi)}};
    char *dir = tu_tmpdir("wad"), *path = tu_path(dir, "t.wad"), *missing = tu_path(dir, "no.wad");
    size_t len;
    uint8_t *buf = make_wad(lumps, 1, &len);
    disco_status st = {0};
    disco_wad w;

    assert_int_equal(tu_write_file(path, buf, len), 0);
    assert_int_equal(disco_wad_read(path, &w, &st), DISCO_OK);
    assert_int_equal(w.nlumps, 1);
    assert_true(disco_wad_is_music(&w, 0));
    disco_wad_release(&w);
    assert_int_equal(disco_wad_read(missing, &w, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "no.wad"));
    assert_int_equal(tu_write_file(path, buf, 10), 0);
    assert_int_equal(disco_wad_read(path, &w, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "t.wad"));
    free(buf);
    tu_rmrf(dir);
    free(dir);
    free(path);
    free(missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mus_notes),     cmocka_unit_test(test_mus_malformed),
        cmocka_unit_test(test_wad_directory), cmocka_unit_test(test_wad_mus_lump_corrupt),
        cmocka_unit_test(test_wad_malformed), cmocka_unit_test(test_wad_file),
    };
    return cmocka_run_group_tests_name("wad", tests, NULL, NULL);
}
