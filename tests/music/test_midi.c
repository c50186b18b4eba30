/*
 * test_midi.c - Standard MIDI Files: events and scores survive write then
 * read (memory and path), running status, note pairing (overlapping notes of
 * one pitch, velocity-0 note-offs, unterminated and zero-length notes),
 * programs from the note's own track or another, the tempo map, time and
 * key signatures, SMPTE divisions, format 0 and 1 giving the same score,
 * every malformed input refused as CORRUPT with its byte offset (and a
 * missing end-of-track accepted), the caps (LIMIT), what the writer refuses,
 * and real files (the corpus copies always; Debian's packages when present).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/midi.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "support/tu_num.h"

/* ---- hand-made files -------------------------------------------------------------------- */

typedef struct bytes {
    uint8_t b[8192];
    size_t n;
} bytes;

static void put(bytes *x, const void *p, size_t n)
{
    assert_true(x->n + n <= sizeof x->b);
    memcpy(x->b + x->n, p, n);
    x->n += n;
}

static void put_be(bytes *x, uint32_t v, int nbytes)
{
    for (int i = nbytes - 1; i >= 0; i--) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        put(x, &c, 1);
    }
}

static void header(bytes *x, int format, int ntracks, int division)
{
    x->n = 0;
    put(x, "MThd", 4);
    put_be(x, 6, 4);
    put_be(x, (uint32_t)format, 2);
    put_be(x, (uint32_t)ntracks, 2);
    put_be(x, (uint32_t)division, 2);
}

static void track(bytes *x, const uint8_t *body, size_t n)
{
    put(x, "MTrk", 4);
    put_be(x, (uint32_t)n, 4);
    put(x, body, n);
}

#define TRACK(x, ...)                                                                              \
    do {                                                                                           \
        const uint8_t body_[] = {__VA_ARGS__};                                                     \
        track((x), body_, sizeof body_);                                                           \
    } while (0)

#define EOT 0x00, 0xFF, 0x2F, 0x00

static void read_score(const bytes *x, disco_score *sc)
{
    disco_status st = {0};
    int rc = disco_score_read_mem(x->b, x->n, sc, &st);

    if (rc != DISCO_OK)
        fail_msg("read: %s", st.msg);
}

static void expect_note(const disco_note_ev *n, uint32_t start, uint32_t dur, int pitch,
                        int velocity, int channel, int program)
{
    if (n->start != start || n->dur != dur || n->pitch != pitch || n->velocity != velocity ||
        n->channel != channel || n->program != program)
        fail_msg("note %u+%u p%d v%d ch%d prog%d, expected %u+%u p%d v%d ch%d prog%d", n->start,
                 n->dur, n->pitch, n->velocity, n->channel, n->program, start, dur, pitch, velocity,
                 channel, program);
}

/* Same notes (all but the source track), tempo map, signatures and length. */
static void assert_scores_equal(const disco_score *a, const disco_score *b)
{
    assert_int_equal(a->tpq, b->tpq);
    assert_int_equal(a->nnotes, b->nnotes);
    for (size_t i = 0; i < a->nnotes; i++) {
        const disco_note_ev *x = &a->notes[i];
        expect_note(&b->notes[i], x->start, x->dur, x->pitch, x->velocity, x->channel, x->program);
    }
    assert_int_equal(a->ntempos, b->ntempos);
    for (size_t i = 0; i < a->ntempos; i++) {
        assert_int_equal(a->tempos[i].tick, b->tempos[i].tick);
        assert_int_equal(a->tempos[i].us_per_quarter, b->tempos[i].us_per_quarter);
    }
    assert_int_equal(a->ntimesigs, b->ntimesigs);
    for (size_t i = 0; i < a->ntimesigs; i++)
        assert_memory_equal(&a->timesigs[i], &b->timesigs[i], sizeof a->timesigs[i]);
    assert_int_equal(a->nkeysigs, b->nkeysigs);
    for (size_t i = 0; i < a->nkeysigs; i++)
        assert_memory_equal(&a->keysigs[i], &b->keysigs[i], sizeof a->keysigs[i]);
    assert_int_equal(a->end_tick, b->end_tick);
}

/* score -> smf -> bytes -> score equals the original. */
static void assert_round_trip(const disco_score *sc)
{
    disco_status st = {0};
    disco_smf smf;
    disco_score back;
    uint8_t *buf;
    size_t len;

    if (disco_score_to_smf(sc, &smf, &st) != DISCO_OK)
        fail_msg("to_smf: %s", st.msg);
    if (disco_smf_write_mem(&smf, &buf, &len, &st) != DISCO_OK)
        fail_msg("write: %s", st.msg);
    if (disco_score_read_mem(buf, len, &back, &st) != DISCO_OK)
        fail_msg("read back: %s", st.msg);
    assert_scores_equal(sc, &back);
    disco_score_release(&back);
    disco_smf_release(&smf);
    free(buf);
}

/* ---- events ----------------------------------------------------------------------------- */

static void *dup_bytes(const void *p, size_t n)
{
    void *d = malloc(n);

    assert_non_null(d);
    memcpy(d, p, n);
    return d;
}

/* Every kind of event the reader keeps, in a format-1 file of two tracks. */
static void make_smf(disco_smf *s)
{
    static const disco_midi_event conductor[] = {
        {.tick = 0, .kind = DISCO_MIDI_META, .meta = 0x03, .len = 5},
        {.tick = 0, .kind = DISCO_MIDI_META, .meta = 0x51, .len = 3},
        {.tick = 0, .kind = DISCO_MIDI_META, .meta = 0x58, .len = 4},
        {.tick = 0, .kind = DISCO_MIDI_META, .meta = 0x59, .len = 2},
        {.tick = 10, .kind = DISCO_MIDI_SYSEX, .len = 6},
        {.tick = 300, .kind = DISCO_MIDI_META, .meta = 0x2F},
    };
    static const disco_midi_event notes[] = {
        {.tick = 0, .kind = DISCO_MIDI_PROGRAM, .channel = 3, .a = 40},
        {.tick = 0, .kind = DISCO_MIDI_CONTROL, .channel = 3, .a = 7, .b = 100},
        {.tick = 5, .kind = DISCO_MIDI_NOTE_ON, .channel = 3, .a = 60, .b = 90},
        {.tick = 7, .kind = DISCO_MIDI_POLY_AT, .channel = 3, .a = 60, .b = 20},
        {.tick = 9, .kind = DISCO_MIDI_CHAN_AT, .channel = 3, .a = 30},
        {.tick = 200, .kind = DISCO_MIDI_PITCH_BEND, .channel = 3, .a = 0, .b = 64},
        {.tick = 20000, .kind = DISCO_MIDI_NOTE_OFF, .channel = 3, .a = 60, .b = 64},
        {.tick = 20000, .kind = 0xF7, .len = 2},
    };
    static const uint8_t payload[][6] = {{'P', 'i', 'a', 'n', 'o'},
                                         {0x07, 0xA1, 0x20},
                                         {3, 2, 24, 8},
                                         {0xFD, 1},
                                         {0xF0, 0x7E, 0x7F, 9, 1, 0xF7}};
    s->format = 1;
    s->division = 480;
    s->ntracks = 2;
    s->tracks = calloc(2, sizeof *s->tracks);
    assert_non_null(s->tracks);
    s->tracks[0].events = dup_bytes(conductor, sizeof conductor);
    s->tracks[0].count = 6;
    s->tracks[1].events = dup_bytes(notes, sizeof notes);
    s->tracks[1].count = 8;
    for (int i = 0; i < 5; i++)
        s->tracks[0].events[i].data = dup_bytes(payload[i], s->tracks[0].events[i].len);
    s->tracks[1].events[7].data = dup_bytes("\x01\xF7", 2);
}

static void assert_events_equal(const disco_smf *a, const disco_smf *b)
{
    assert_int_equal(a->format, b->format);
    assert_int_equal(a->division, b->division);
    assert_int_equal(a->ntracks, b->ntracks);
    for (size_t t = 0; t < a->ntracks; t++) {
        const disco_midi_track *x = &a->tracks[t], *y = &b->tracks[t];
        assert_int_equal(x->count, y->count);
        for (size_t i = 0; i < x->count; i++) {
            const disco_midi_event *e = &x->events[i], *f = &y->events[i];
            assert_int_equal(e->tick, f->tick);
            assert_int_equal(e->kind, f->kind);
            assert_int_equal(e->channel, f->channel);
            assert_int_equal(e->a, f->a);
            assert_int_equal(e->b, f->b);
            assert_int_equal(e->meta, f->meta);
            assert_int_equal(e->len, f->len);
            if (e->len)
                assert_memory_equal(e->data, f->data, e->len);
        }
    }
}

static void test_events_round_trip(void **state)
{
    (void)state;
    disco_status st = {0};
    disco_smf s, back, from_file;
    uint8_t *buf;
    size_t len;
    char *dir = tu_tmpdir("midi"), *path = tu_path(dir, "events.mid");

    make_smf(&s);
    assert_int_equal(disco_smf_write_mem(&s, &buf, &len, &st), DISCO_OK);
    assert_int_equal(disco_smf_read_mem(buf, len, &back, &st), DISCO_OK);
    /* the writer ends track 1 with end-of-track, which the reader keeps */
    assert_int_equal(back.tracks[1].count, 9);
    assert_int_equal(back.tracks[1].events[8].meta, 0x2F);
    assert_int_equal(back.tracks[1].events[8].tick, 20000);
    back.tracks[1].count = 8;
    assert_events_equal(&s, &back);
    back.tracks[1].count = 9;
    /* a file this writer produced reads back to exactly what wrote it */
    assert_int_equal(disco_smf_write(path, &back, &st), DISCO_OK);
    assert_int_equal(disco_smf_read(path, &from_file, &st), DISCO_OK);
    assert_events_equal(&back, &from_file);
    /* no running status: every channel event of track 1 carries its status byte */
    static const uint8_t status[] = {0xC3, 0xB3, 0x93, 0xA3, 0xD3, 0xE3, 0x83};
    for (size_t i = 0; i < sizeof status; i++) {
        size_t k = 0;
        while (k < len && buf[k] != status[i])
            k++;
        if (k == len)
            fail_msg("status byte 0x%02X is not in the file", status[i]);
    }
    disco_smf_release(&s);
    disco_smf_release(&back);
    disco_smf_release(&from_file);
    disco_smf_release(NULL);
    free(buf);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

static void test_running_status(void **state)
{
    (void)state;
    bytes x;
    disco_smf s;
    disco_score sc;
    disco_status st = {0};

    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0x91, 60, 100,     /* note-on ch 1 */
          0x60, 62, 90,                /* running status: note-on 62 */
          0x60, 60, 0,                 /* running status, velocity 0: off 60 */
          0x00, 0xFF, 0x01, 0x01, 'x', /* a meta event does not cancel it */
          0x00, 62, 0, EOT);
    assert_int_equal(disco_smf_read_mem(x.b, x.n, &s, &st), DISCO_OK);
    assert_int_equal(s.format, 0);
    assert_int_equal(s.tracks[0].count, 6);
    for (int i = 0; i < 5; i++)
        if (i != 3) {
            assert_int_equal(s.tracks[0].events[i].kind, DISCO_MIDI_NOTE_ON);
            assert_int_equal(s.tracks[0].events[i].channel, 1);
        }
    assert_int_equal(s.tracks[0].events[1].a, 62);
    assert_int_equal(s.tracks[0].events[1].tick, 96);
    disco_smf_release(&s);
    read_score(&x, &sc);
    assert_int_equal(sc.nnotes, 2);
    expect_note(&sc.notes[0], 0, 192, 60, 100, 1, 0);
    expect_note(&sc.notes[1], 96, 96, 62, 90, 1, 0);
    disco_score_release(&sc);
}

static void test_note_pairing(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    header(&x, 0, 1, 100);
    TRACK(&x, 0x00, 0x90, 60, 10,  /* A on @0 */
          0x0A, 0x90, 60, 20,      /* B on @10, same pitch */
          0x0A, 0x80, 60, 64,      /* off @20 ends A, the oldest */
          0x0A, 0x90, 60, 0,       /* velocity 0 @30 ends B */
          0x0A, 0x90, 64, 30,      /* zero-length note @40 */
          0x00, 0x80, 64, 0,       /*   ... lasts one tick */
          0x00, 0x80, 70, 0,       /* note-off with nothing sounding: ignored */
          0x00, 0x99, 36, 40,      /* drum hit never ended: ends with the track */
          0x3C, 0xFF, 0x2F, 0x00); /* end of track @100 */
    read_score(&x, &sc);
    assert_int_equal(sc.nnotes, 4);
    expect_note(&sc.notes[0], 0, 20, 60, 10, 0, 0);
    expect_note(&sc.notes[1], 10, 20, 60, 20, 0, 0);
    expect_note(&sc.notes[2], 40, 60, 36, 40, 9, 0);
    expect_note(&sc.notes[3], 40, 1, 64, 30, 0, 0);
    assert_int_equal(sc.end_tick, 100);
    disco_score_release(&sc);
    /* a note nested inside a longer one of the same pitch round-trips (layered tracks) */
    header(&x, 0, 1, 100);
    TRACK(&x, 0x00, 0x90, 60, 10, 0x05, 0x90, 60, 20, 0x05, 0x80, 60, 0, 0x05, 0x80, 60, 0, 0x00,
          0x90, 60, 30, 0x01, 0x80, 60, 0, EOT);
    read_score(&x, &sc);
    disco_note_ev nested = {.start = 3, .dur = 2, .pitch = 60, .velocity = 5};
    assert_int_equal(disco_score_add_note(&sc, &nested, NULL), DISCO_OK);
    disco_score_sort(&sc);
    assert_round_trip(&sc);
    disco_score_release(&sc);
}

static void test_programs(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    /* track 0 sets the programs of channels 1 and 2 for the other tracks; tracks 2 and 3
     * both play channel 0 and each set their own program (as home-made files do) */
    header(&x, 1, 4, 96);
    TRACK(&x, 0x00, 0xC2, 33, 0x00, 0xC1, 99, EOT);
    TRACK(&x, 0x00, 0x92, 40, 80, 0x10, 0x82, 40, 0, EOT);
    TRACK(&x, 0x00, 0xC0, 5, 0x00, 0x90, 50, 80, 0x10, 0x80, 50, 0, EOT);
    TRACK(&x, 0x00, 0xC0, 8, 0x00, 0x90, 55, 80, /* channel 0, own program 8 */
          0x00, 0x91, 52, 80, 0x00, 0xC1, 7,     /* channel 1: on, then own change */
          0x10, 0x80, 55, 0, 0x00, 0x81, 52, 0, 0x00, 0x91, 53, 80, 0x10, 0x81, 53, 0, EOT);
    read_score(&x, &sc);
    assert_int_equal(sc.nnotes, 5);
    expect_note(&sc.notes[0], 0, 16, 40, 80, 2, 33); /* from track 0 */
    expect_note(&sc.notes[1], 0, 16, 50, 80, 0, 5);  /* its own track's */
    /* before its track's own change at the same tick: track 0's applies */
    expect_note(&sc.notes[2], 0, 16, 52, 80, 1, 99);
    expect_note(&sc.notes[3], 0, 16, 55, 80, 0, 8); /* not track 2's program 5 */
    expect_note(&sc.notes[4], 16, 16, 53, 80, 1, 7);
    assert_int_equal(sc.notes[0].track, 1);
    assert_int_equal(sc.notes[4].track, 3);
    disco_score_release(&sc);
}

/* ---- tempo map and signatures ----------------------------------------------------------- */

static void test_tempo_map(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    /* 120 BPM, then 60 BPM from quarter 4 (tick 1920 at 480 per quarter) */
    header(&x, 1, 2, 480);
    TRACK(&x, 0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, 0x8F, 0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42,
          0x40, EOT);
    TRACK(&x, 0x00, 0x90, 60, 64, 0x96, 0x40, 0x80, 60, 0, EOT); /* note of 2880 ticks */
    read_score(&x, &sc);
    assert_int_equal(sc.ntempos, 2);
    assert_int_equal(sc.tempos[1].tick, 1920);
    assert_int_equal(sc.tempos[1].us_per_quarter, 1000000);
    assert_near(disco_score_seconds(&sc, 0), 0.0, 1e-12);
    assert_near(disco_score_seconds(&sc, 960), 1.0, 1e-12);
    assert_near(disco_score_seconds(&sc, 1920), 2.0, 1e-12);
    assert_near(disco_score_seconds(&sc, 2880), 4.0, 1e-12);
    assert_near(disco_score_bpm_at(&sc, 1919), 120.0, 1e-9);
    assert_near(disco_score_bpm_at(&sc, 1920), 60.0, 1e-9);
    assert_round_trip(&sc);
    disco_score_release(&sc);
    /* a file without tempo or time signature: 120 BPM and 4/4 at tick 0; a first tempo
     * after tick 0 gets 120 BPM before it; of two tempos at one tick the last wins */
    header(&x, 0, 1, 100);
    TRACK(&x, 0x64, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, 0x00, 0xFF, 0x51, 0x03, 0x03, 0xD0, 0x90,
          EOT);
    read_score(&x, &sc);
    assert_int_equal(sc.ntempos, 2);
    assert_int_equal(sc.tempos[0].tick, 0);
    assert_int_equal(sc.tempos[0].us_per_quarter, 500000);
    assert_int_equal(sc.tempos[1].us_per_quarter, 250000);
    assert_int_equal(sc.ntimesigs, 1);
    assert_int_equal(sc.timesigs[0].num, 4);
    assert_int_equal(sc.timesigs[0].den, 4);
    assert_int_equal(sc.nkeysigs, 0);
    assert_near(disco_score_seconds(&sc, 200), 0.5 + 0.25, 1e-12);
    disco_score_release(&sc);
}

static void test_signatures(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    header(&x, 0, 1, 240);
    TRACK(&x, 0x00, 0xFF, 0x58, 0x04, 6, 3, 36, 8,   /* 6/8 */
          0x00, 0xFF, 0x59, 0x02, 0xFE, 0x01,        /* 2 flats, minor: G minor */
          0x87, 0x40, 0xFF, 0x58, 0x04, 3, 2, 24, 8, /* 3/4 at 960 */
          0x00, 0xFF, 0x59, 0x02, 0x03, 0x00,        /* A major */
          0x00, 0xFF, 0x58, 0x04, 0, 2, 24, 8,       /* 0/4: ignored */
          0x00, 0xFF, 0x59, 0x02, 0x09, 0x00,        /* 9 sharps: ignored */
          EOT);
    read_score(&x, &sc);
    assert_int_equal(sc.ntimesigs, 2);
    assert_int_equal(sc.timesigs[0].num, 6);
    assert_int_equal(sc.timesigs[0].den, 8);
    assert_int_equal(sc.timesigs[1].tick, 960);
    assert_int_equal(sc.timesigs[1].num, 3);
    assert_int_equal(sc.timesigs[1].den, 4);
    assert_int_equal(sc.nkeysigs, 2);
    assert_int_equal(sc.keysigs[0].sharps, -2);
    assert_int_equal(sc.keysigs[0].minor, 1);
    assert_int_equal(sc.keysigs[1].sharps, 3);
    assert_int_equal(sc.keysigs[1].minor, 0);
    assert_int_equal(sc.tempos[0].us_per_quarter, 500000);
    assert_round_trip(&sc);
    disco_score_release(&sc);
}

static void test_smpte_division(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    header(&x, 0, 1, 0xE728); /* -25 frames per second, 40 ticks per frame: 1000 ticks/s */
    TRACK(&x, 0x00, 0x90, 60, 64, 0x83, 0x74, 0x80, 60, 0, EOT);
    read_score(&x, &sc);
    assert_int_equal(sc.tpq, 500); /* at 120 BPM */
    assert_near(disco_score_seconds(&sc, sc.notes[0].dur), 0.5, 1e-12);
    disco_score_release(&sc);
}

static void test_format0_equals_format1(void **state)
{
    (void)state;
    bytes x;
    disco_score a, b;

    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0xFF, 0x51, 0x03, 0x09, 0x27, 0xC0, /* 100 BPM */
          0x00, 0xC0, 24, 0x00, 0xC1, 40,               /* programs */
          0x00, 0x90, 60, 80, 0x00, 0x91, 72, 70,       /* two channels at once */
          0x30, 0x80, 60, 0, 0x00, 0x99, 38, 100,       /* snare */
          0x30, 0x81, 72, 0, 0x00, 0x89, 38, 0, EOT);
    read_score(&x, &a);
    header(&x, 1, 4, 96);
    TRACK(&x, 0x00, 0xFF, 0x51, 0x03, 0x09, 0x27, 0xC0, EOT);
    TRACK(&x, 0x00, 0xC0, 24, 0x00, 0x90, 60, 80, 0x30, 0x80, 60, 0, EOT);
    TRACK(&x, 0x00, 0xC1, 40, 0x00, 0x91, 72, 70, 0x60, 0x81, 72, 0, EOT);
    TRACK(&x, 0x30, 0x99, 38, 100, 0x30, 0x89, 38, 0, EOT);
    read_score(&x, &b);
    assert_int_equal(a.nnotes, 3);
    expect_note(&a.notes[0], 0, 48, 60, 80, 0, 24);
    expect_note(&a.notes[1], 0, 96, 72, 70, 1, 40);
    expect_note(&a.notes[2], 48, 48, 38, 100, 9, 0);
    assert_scores_equal(&a, &b);
    disco_score_release(&a);
    disco_score_release(&b);
}

/* ---- malformed input -------------------------------------------------------------------- */

static void expect_corrupt(const bytes *x, const char *offset)
{
    disco_status st = {0};
    disco_smf s;
    int rc = disco_smf_read_mem(x->b, x->n, &s, &st);

    if (rc != DISCO_ERR_CORRUPT)
        fail_msg("expected CORRUPT at %s, got %s (%s)", offset, disco_errname(rc), st.msg);
    if (!strstr(st.msg, offset))
        fail_msg("message \"%s\" does not say \"%s\"", st.msg, offset);
    assert_null(s.tracks);
    assert_int_equal(s.ntracks, 0);
}

static void test_malformed(void **state)
{
    (void)state;
    bytes x;

    header(&x, 0, 1, 96);
    x.n = 10; /* truncated header */
    expect_corrupt(&x, "offset 10: truncated header");
    memcpy(x.b, "RIFF", 4);
    x.n = 14;
    expect_corrupt(&x, "offset 0: not a MIDI file");
    header(&x, 3, 1, 96);
    expect_corrupt(&x, "offset 8: format 3");
    header(&x, 0, 1, 0);
    expect_corrupt(&x, "offset 12: division of 0");
    header(&x, 1, 0, 96);
    expect_corrupt(&x, "offset 10: header declares no tracks");
    header(&x, 0, 1, 96);
    put(&x, "MTrk", 4);
    put_be(&x, 1000, 4); /* bad chunk length */
    put(&x, "\x00\xFF\x2F\x00", 4);
    expect_corrupt(&x, "offset 18: chunk length 1000 runs past the end of the file");
    header(&x, 0, 1, 96);
    TRACK(&x, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 64, EOT); /* VLQ of 5 bytes */
    expect_corrupt(&x, "offset 22: delta-time is a variable-length number longer than 4");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 60, 64, EOT); /* running status at track start */
    expect_corrupt(&x, "offset 23: data byte 0x3C uses running status");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0x90, 60, 0x80, EOT); /* data byte with the high bit */
    expect_corrupt(&x, "offset 25: data byte 0x80 of message 0x90");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0xFF, 0x03, 0x20, 'a', 'b'); /* meta length past the chunk */
    expect_corrupt(&x, "offset 25: meta event length 32 runs past the end");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0x90, 60); /* message cut by the chunk's end */
    expect_corrupt(&x, "offset 25: message 0x90 misses its data byte 2");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0xF3, 1, EOT); /* system common message */
    expect_corrupt(&x, "offset 23: status byte 0xF3");
    header(&x, 0, 1, 96);
    TRACK(&x, 0x80); /* delta-time cut */
    expect_corrupt(&x, "offset 22: delta-time runs past the end");
    header(&x, 1, 2, 96);
    TRACK(&x, EOT); /* a track missing */
    expect_corrupt(&x, "offset 26: the file holds 1 of the 2 tracks");
    put(&x, "MTr", 3);
    expect_corrupt(&x, "offset 26: truncated chunk header");
    header(&x, 0, 1, 96);
    TRACK(&x, 0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 64, 0x01, 0x80, 60, 0); /* past the last tick */
    expect_corrupt(&x, "offset 29: delta-time 1 takes the track past tick 268435455");
}

static void test_lenient(void **state)
{
    (void)state;
    bytes x;
    disco_score sc;

    /* no end-of-track; an unknown chunk before the track; bytes after the declared
     * tracks and after end-of-track; format 2 read as 1 */
    header(&x, 2, 1, 96);
    static const uint8_t unknown[] = {'X', 'F', 'I', 'H', 0, 0, 0, 3, 'a', 'b', 'c'};
    put(&x, unknown, sizeof unknown);
    TRACK(&x, 0x00, 0x90, 60, 64, 0x10, 0x80, 60, 0, EOT, 0x99, 0x99);
    read_score(&x, &sc);
    assert_int_equal(sc.nnotes, 1);
    disco_score_release(&sc);
    header(&x, 0, 1, 96);
    TRACK(&x, 0x00, 0x90, 60, 64, 0x10, 0x80, 60, 0, 0x00, 0x90, 62, 64);
    put(&x, "trailing", 8);
    read_score(&x, &sc);
    assert_int_equal(sc.nnotes, 2);
    expect_note(&sc.notes[0], 0, 16, 60, 64, 0, 0);
    expect_note(&sc.notes[1], 16, 1, 62, 64, 0, 0); /* ends where the track ends */
    disco_score_release(&sc);
}

static void test_limits(void **state)
{
    (void)state;
    disco_status st = {0};
    disco_smf s;
    bytes x;
    size_t n = (size_t)DISCO_MIDI_MAX_EVENTS + 1, len = 22 + 1 + 3 * n;
    uint8_t *big = malloc(len);

    header(&x, 1, DISCO_MIDI_MAX_TRACKS + 1, 96);
    assert_int_equal(disco_smf_read_mem(x.b, x.n, &s, &st), DISCO_ERR_LIMIT);
    assert_non_null(strstr(st.msg, "257 tracks"));
    /* one event over the cap: a note-on, then running-status events of 3 bytes */
    assert_non_null(big);
    header(&x, 0, 1, 96);
    memcpy(big, x.b, 14);
    memcpy(big + 14, "MTrk", 4);
    for (int i = 0; i < 4; i++)
        big[18 + i] = (uint8_t)((len - 22) >> (24 - 8 * i));
    memcpy(big + 22, "\x00\x90\x3C\x40", 4);
    for (size_t i = 1; i < n; i++)
        memcpy(big + 23 + 3 * i, "\x00\x3C\x40", 3);
    assert_int_equal(disco_smf_read_mem(big, len, &s, &st), DISCO_ERR_LIMIT);
    assert_non_null(strstr(st.msg, "more than 2000000 events"));
    free(big);
}

static void test_writer_refuses(void **state)
{
    (void)state;
    disco_status st = {0};
    disco_smf s;
    disco_score sc;
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 1;

    make_smf(&s);
    s.tracks[1].events[3].tick = 1; /* before the previous event */
    assert_int_equal(disco_smf_write_mem(&s, &buf, &len, &st), DISCO_ERR_INVAL);
    assert_null(buf);
    assert_non_null(strstr(st.msg, "track 1 event 3: tick 1"));
    s.tracks[1].events[3].tick = 7;
    s.tracks[1].events[2].channel = 16;
    assert_int_equal(disco_smf_write_mem(&s, &buf, &len, &st), DISCO_ERR_INVAL);
    s.tracks[1].events[2].channel = 3;
    s.tracks[0].events[2].meta = 0x2F; /* end of track mid-track */
    assert_int_equal(disco_smf_write_mem(&s, &buf, &len, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "end of track before the last event"));
    s.tracks[0].events[2].meta = 0x58;
    s.format = 0;
    assert_int_equal(disco_smf_write_mem(&s, &buf, &len, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_score_from_smf(&s, &sc, &st), DISCO_ERR_INVAL);
    s.format = 1;
    assert_int_equal(disco_smf_write(NULL, &s, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_smf_write("/nonexistent-dir/x.mid", &s, &st), DISCO_ERR_NOTFOUND);
    disco_smf_release(&s);
    assert_int_equal(disco_smf_read("/nonexistent-dir/x.mid", &s, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "/nonexistent-dir/x.mid"));
    assert_null(s.tracks);
    /* scores: tpq, note fields, durations past the last tick, signatures */
    assert_int_equal(disco_score_init(&sc, 0, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_score_init(&sc, 480, &st), DISCO_OK);
    disco_note_ev n = {.start = 0, .dur = 0, .pitch = 60, .velocity = 64};
    assert_int_equal(disco_score_add_note(&sc, &n, &st), DISCO_ERR_INVAL);
    n.dur = 10;
    n.pitch = 128;
    assert_int_equal(disco_score_add_note(&sc, &n, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "pitch 128"));
    n.pitch = 60;
    n.start = DISCO_MIDI_MAX_TICK - 5;
    assert_int_equal(disco_score_add_note(&sc, &n, &st), DISCO_ERR_INVAL);
    sc.timesigs[0].den = 3;
    assert_int_equal(disco_score_to_smf(&sc, &s, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "4/3"));
    disco_score_release(&sc);
}

/* ---- scores ----------------------------------------------------------------------------- */

static void test_score_round_trip(void **state)
{
    (void)state;
    disco_status st = {0};
    disco_score sc, back;
    disco_smf smf;
    char *dir = tu_tmpdir("midi"), *path = tu_path(dir, "score.mid");

    assert_int_equal(disco_score_init(&sc, 480, &st), DISCO_OK);
    for (int i = 0; i < 40; i++) { /* melody, bass, drums; some same-pitch overlaps */
        disco_note_ev m = {(uint32_t)i * 240,
                           200 + (uint32_t)(i % 3) * 300,
                           (uint8_t)(60 + i % 5),
                           (uint8_t)(40 + i),
                           0,
                           73,
                           0};
        disco_note_ev b = {(uint32_t)i * 480, 960, (uint8_t)(36 + i % 2), 90, 1, 33, 0};
        disco_note_ev d = {(uint32_t)i * 120, 1, (uint8_t)(35 + i % 3), 127, 9, 0, 0};
        assert_int_equal(disco_score_add_note(&sc, &m, &st), DISCO_OK);
        assert_int_equal(disco_score_add_note(&sc, &b, &st), DISCO_OK);
        assert_int_equal(disco_score_add_note(&sc, &d, &st), DISCO_OK);
    }
    disco_note_ev same_prog_other_channel = {100, 50, 60, 64, 2, 73, 0};
    assert_int_equal(disco_score_add_note(&sc, &same_prog_other_channel, &st), DISCO_OK);
    assert_int_equal(sc.end_tick, 39 * 480 + 960);
    sc.end_tick = 40000; /* silence after the last note survives */
    sc.tempos[0].us_per_quarter = 400000;
    sc.keysigs = malloc(sizeof *sc.keysigs);
    assert_non_null(sc.keysigs);
    sc.keysigs[0] = (disco_keysig_ev){0, -3, 1};
    sc.nkeysigs = 1;
    disco_score_sort(&sc);
    assert_int_equal(disco_score_to_smf(&sc, &smf, &st), DISCO_OK);
    assert_int_equal(smf.format, 1);
    assert_true(smf.ntracks >= 5); /* conductor + 4 (channel, program) pairs (+ layers) */
    assert_int_equal(smf.tracks[0].events[smf.tracks[0].count - 1].tick, 40000);
    disco_smf_release(&smf);
    assert_int_equal(disco_score_write(path, &sc, &st), DISCO_OK);
    assert_int_equal(disco_score_read(path, &back, &st), DISCO_OK);
    assert_scores_equal(&sc, &back);
    assert_round_trip(&back);
    disco_score_release(&back);
    disco_score_release(&sc);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

/* ---- real files ------------------------------------------------------------------------- */

/* Reads every .mid of `dir` named `prefix`... (at most `max`); returns how many it read. */
static int check_dir(const char *dir, const char *prefix, int max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 4, ".mid") != 0 ||
            strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        char *path = tu_path(dir, e->d_name);
        disco_status st = {0};
        disco_score sc;
        if (disco_score_read(path, &sc, &st) != DISCO_OK)
            fail_msg("%s", st.msg);
        if (sc.nnotes == 0 || disco_score_seconds(&sc, sc.end_tick) < 1.0)
            fail_msg("%s: %zu notes, %.2f s", path, sc.nnotes,
                     disco_score_seconds(&sc, sc.end_tick));
        assert_round_trip(&sc);
        disco_score_release(&sc);
        free(path);
        n++;
    }
    closedir(d);
    return n;
}

static void test_real_files(void **state)
{
    (void)state;
    static const char *const system_dirs[] = {"/usr/share/games/openttd/baseset/openmsx",
                                              "/usr/share/planetblupi/music"};
    int corpus = check_dir("fuzz/corpus/midi", "real_", 16), system = 0;

    assert_true(corpus >= 3); /* the real files kept with the fuzz corpus */
    for (int i = 0; i < 2; i++)
        system += check_dir(system_dirs[i], "", 4);
    if (system == 0) {
        print_message("no MIDI files from openttd-openmsx or planetblupi-music-midi on this "
                      "machine: only the corpus copies were read\n");
        skip();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_round_trip),
        cmocka_unit_test(test_running_status),
        cmocka_unit_test(test_note_pairing),
        cmocka_unit_test(test_programs),
        cmocka_unit_test(test_tempo_map),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_smpte_division),
        cmocka_unit_test(test_format0_equals_format1),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_lenient),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_writer_refuses),
        cmocka_unit_test(test_score_round_trip),
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
