/*
 * test_tokens.c - the token language: ids and names, tempo and velocity
 * buckets, the header (key given or estimated, families, tempo, meter),
 * round trips of quantised scores (meter and tempo changes, drums, several
 * programs, empty bars, long notes cut at 64), quantisation of off-grid
 * input, lenient decoding (hand-made faults with known skip counts, and
 * random ids that must give a valid score), transposition, bad input, and
 * a trip through a MIDI file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/tu_num.h"

#define TPQ 480
#define SIX (TPQ / 4) /* ticks per sixteenth */

/* --- building scores ------------------------------------------------------------- */

static void score_new(disco_score *sc, int tpq)
{
    assert_int_equal(disco_score_init(sc, tpq, NULL), DISCO_OK);
}

static void note(disco_score *sc, uint32_t start, uint32_t dur, int pitch, int vel, int chan,
                 int prog)
{
    disco_note_ev n = {start, dur, (uint8_t)pitch, (uint8_t)vel, (uint8_t)chan, (uint8_t)prog, 0};

    assert_int_equal(disco_score_add_note(sc, &n, NULL), DISCO_OK);
}

static void tempo(disco_score *sc, uint32_t tick, int bucket)
{
    uint32_t us = (uint32_t)lround(60e6 / disco_tok_tempo_bpm(bucket));

    if (tick == 0) {
        sc->tempos[0].us_per_quarter = us;
        return;
    }
    sc->tempos = realloc(sc->tempos, (sc->ntempos + 1) * sizeof *sc->tempos);
    assert_non_null(sc->tempos);
    sc->tempos[sc->ntempos++] = (disco_tempo_ev){tick, us};
}

static void meter(disco_score *sc, uint32_t tick, int num, int den)
{
    if (tick == 0) {
        sc->timesigs[0] = (disco_timesig_ev){0, (uint8_t)num, (uint8_t)den};
        return;
    }
    sc->timesigs = realloc(sc->timesigs, (sc->ntimesigs + 1) * sizeof *sc->timesigs);
    assert_non_null(sc->timesigs);
    sc->timesigs[sc->ntimesigs++] = (disco_timesig_ev){tick, (uint8_t)num, (uint8_t)den};
}

/* --- comparing --------------------------------------------------------------------- */

typedef struct key {
    uint32_t start, dur;
    int pitch, vel, prog; /* prog 128 for drums */
} key;

static int cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(key));
}

static key *keys_of(const disco_score *sc)
{
    key *k = calloc(sc->nnotes + 1, sizeof *k);

    assert_non_null(k);
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];

        k[i] = (key){n->start, n->dur, n->pitch, n->velocity,
                     n->channel == DISCO_MIDI_DRUMS ? 128 : n->program};
    }
    qsort(k, sc->nnotes, sizeof *k, cmp_key);
    return k;
}

static void assert_same_notes(const disco_score *got, const disco_score *want)
{
    key *a = keys_of(got), *b = keys_of(want);

    assert_int_equal(got->nnotes, want->nnotes);
    for (size_t i = 0; i < want->nnotes; i++) {
        if (memcmp(&a[i], &b[i], sizeof(key)) != 0)
            print_error("note %zu: got %u+%u p%d v%d g%d, want %u+%u p%d v%d g%d\n", i, a[i].start,
                        a[i].dur, a[i].pitch, a[i].vel, a[i].prog, b[i].start, b[i].dur, b[i].pitch,
                        b[i].vel, b[i].prog);
        assert_memory_equal(&a[i], &b[i], sizeof(key));
    }
    free(a);
    free(b);
}

static void assert_same_maps(const disco_score *got, const disco_score *want)
{
    assert_int_equal(got->ntempos, want->ntempos);
    for (size_t i = 0; i < want->ntempos; i++) {
        assert_int_equal(got->tempos[i].tick, want->tempos[i].tick);
        assert_int_equal(got->tempos[i].us_per_quarter, want->tempos[i].us_per_quarter);
    }
    assert_int_equal(got->ntimesigs, want->ntimesigs);
    for (size_t i = 0; i < want->ntimesigs; i++) {
        assert_int_equal(got->timesigs[i].tick, want->timesigs[i].tick);
        assert_int_equal(got->timesigs[i].num, want->timesigs[i].num);
        assert_int_equal(got->timesigs[i].den, want->timesigs[i].den);
    }
}

static size_t count_tok(const int32_t *t, size_t n, int32_t tok)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += t[i] == tok;
    return c;
}

/* Encodes, decodes at TPQ with no skipped token; the caller releases *out and frees *toks. */
static void trip(const disco_score *sc, const disco_tok_cond *cond, disco_score *out,
                 int32_t **toks, size_t *n)
{
    disco_status st = {0};
    size_t skipped = 99;

    assert_int_equal(disco_tokens_encode(sc, cond, toks, n, &st), DISCO_OK);
    assert_int_equal(disco_tokens_decode(*toks, *n, sc->tpq, out, &skipped, &st), DISCO_OK);
    assert_int_equal(skipped, 0);
    assert_int_equal((*toks)[0], DISCO_TOK_BOS);
    assert_int_equal((*toks)[*n - 1], DISCO_TOK_EOS);
}

/* --- tests --------------------------------------------------------------------------- */

static void test_ids_and_names(void **state)
{
    char buf[24];
    int v;

    (void)state;
    assert_int_equal(DISCO_TOK_VOCAB, 479);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_PAD, &v), DISCO_TK_PAD);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_POS0 + 47, &v), DISCO_TK_POS);
    assert_int_equal(v, 47);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_DUR1, &v), DISCO_TK_DUR);
    assert_int_equal(v, 1);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_DUR1 + 63, &v), DISCO_TK_DUR);
    assert_int_equal(v, 64);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_PROG_DRUMS, &v), DISCO_TK_PROG);
    assert_int_equal(v, 128);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_FAMILY0 + 16, &v), DISCO_TK_FAMILY);
    assert_int_equal(v, 16);
    assert_int_equal(disco_tok_kind_of(DISCO_TOK_VOCAB, &v), DISCO_TK_INVALID);
    assert_int_equal(v, -1);
    assert_int_equal(disco_tok_kind_of(-1, NULL), DISCO_TK_INVALID);
    assert_string_equal(disco_tok_name(DISCO_TOK_POS0 + 12, buf), "POS_12");
    assert_string_equal(disco_tok_name(DISCO_TOK_PITCH0 + 60, buf), "PITCH_60");
    assert_string_equal(disco_tok_name(DISCO_TOK_TEMPO0 + 17, buf), "TEMPO_17");
    assert_string_equal(disco_tok_name(DISCO_TOK_DUR1 + 3, buf), "DUR_4");
    assert_string_equal(disco_tok_name(DISCO_TOK_PROG_DRUMS, buf), "PROG_DRUMS");
    assert_string_equal(disco_tok_name(DISCO_TOK_BAR, buf), "BAR");
    assert_string_equal(disco_tok_name(DISCO_TOK_VOCAB + 5, buf), "?");
    /* every id has exactly one kind, and the kinds come in layout order */
    for (int32_t t = 1, prev = 0; t < DISCO_TOK_VOCAB; t++) {
        int k = (int)disco_tok_kind_of(t, NULL);

        assert_true(k != DISCO_TK_INVALID && k >= prev);
        prev = k;
    }
}

static void test_buckets(void **state)
{
    (void)state;
    for (int b = 0; b < DISCO_TOK_TEMPOS; b++) {
        double bpm = disco_tok_tempo_bpm(b);

        assert_int_equal(disco_tok_tempo_bucket(bpm), b);
        /* through the integer us/quarter a score stores */
        assert_int_equal(disco_tok_tempo_bucket(60e6 / (double)lround(60e6 / bpm)), b);
        if (b > 0)
            assert_true(bpm > disco_tok_tempo_bpm(b - 1) * 1.05);
    }
    assert_near(disco_tok_tempo_bpm(0), 40.0, 1e-9);
    assert_near(disco_tok_tempo_bpm(31), 250.0, 1e-9);
    assert_int_equal(disco_tok_tempo_bucket(10.0), 0);
    assert_int_equal(disco_tok_tempo_bucket(900.0), 31);
    assert_int_equal(disco_tok_tempo_bucket(NAN), 0);
    assert_near(disco_tok_tempo_bpm(99), 250.0, 1e-9);
    for (int b = 0; b < DISCO_TOK_VELS; b++)
        assert_int_equal(disco_tok_vel_bin(disco_tok_vel_value(b)), b);
    for (int v = 0, prev = 0; v < 128; v++) {
        int b = disco_tok_vel_bin(v);

        assert_true(b >= prev && b <= prev + 1);
        assert_true(abs(disco_tok_vel_value(b) - v) <= 4);
        prev = b;
    }
    assert_int_equal(disco_tok_vel_bin(-3), 0);
    assert_int_equal(disco_tok_vel_bin(300), 15);
    assert_int_equal(disco_tok_vel_value(16), 124);
}

/* The round-trip score: every bar is listed with its meter and contents. */
static void rich_score(disco_score *sc)
{
    uint32_t six = SIX;

    score_new(sc, TPQ);
    tempo(sc, 0, 19);
    /* bar 0, 4/4 (sixteenths 0..15): piano, bass and drums at 0, a chord at 4 */
    note(sc, 0, 4 * six, 60, 100, 0, 0);
    note(sc, 0, 8 * six, 36, 84, 1, 33);
    note(sc, 0, 1 * six, 36, 124, 9, 0);
    note(sc, 0, 1 * six, 42, 60, 9, 0);
    note(sc, 4 * six, 2 * six, 64, 68, 0, 0);
    note(sc, 4 * six, 2 * six, 67, 68, 0, 0);
    tempo(sc, 6 * six, 22); /* where no note starts */
    /* bar 1 empty; bar 2 (3/4 from sixteenth 32) */
    meter(sc, 32 * six, 3, 4);
    note(sc, 32 * six, 3 * six, 72, 44, 2, 73);
    tempo(sc, 36 * six, 10); /* where a note starts */
    note(sc, 36 * six, 1 * six, 74, 44, 2, 73);
    /* bar 3 (44..55) empty; bar 4 6/8 (56..67): a note of 100 sixteenths, cut to 64 */
    meter(sc, 56 * six, 6, 8);
    note(sc, 67 * six, 100 * six, 48, 36, 3, 48);
    /* bar 5 7/8 (68..81), bar 6 empty, bar 7 12/8 (96..119), bar 8 2/4 (120..127) */
    meter(sc, 68 * six, 7, 8);
    note(sc, 81 * six, 2 * six, 79, 92, 2, 73);
    meter(sc, 96 * six, 12, 8);
    note(sc, 119 * six, 1 * six, 38, 12, 9, 0);
    meter(sc, 120 * six, 2, 4);
    note(sc, 127 * six, 1 * six, 50, 4, 1, 33);
    disco_score_sort(sc);
}

static void test_round_trip(void **state)
{
    disco_score sc, out, want;
    int32_t *toks;
    size_t n;

    (void)state;
    rich_score(&sc);
    trip(&sc, &(disco_tok_cond){3, 4}, &out, &toks, &n);
    assert_int_equal(count_tok(toks, n, DISCO_TOK_BAR), 9);
    assert_int_equal(toks[1], DISCO_TOK_KEY0 + 3);
    assert_int_equal(toks[2], DISCO_TOK_STYLE0 + 4);
    /* the long note comes back cut to 64 sixteenths */
    rich_score(&want);
    for (size_t i = 0; i < want.nnotes; i++)
        if (want.notes[i].dur == 100 * SIX)
            want.notes[i].dur = 64 * SIX;
    assert_same_notes(&out, &want);
    assert_same_maps(&out, &want);
    assert_int_equal(out.tpq, TPQ);
    assert_true(out.end_tick >= (67 + 64) * SIX);
    /* pitched programs on channels of their own, never 9 */
    for (size_t i = 0; i < out.nnotes; i++)
        for (size_t j = 0; j < out.nnotes; j++)
            if (out.notes[i].channel != 9 && out.notes[j].channel != 9)
                assert_true((out.notes[i].program == out.notes[j].program) ==
                            (out.notes[i].channel == out.notes[j].channel));
    assert_int_equal(out.nkeysigs, 1);
    assert_int_equal(out.keysigs[0].sharps, -3); /* E flat major */
    assert_int_equal(out.keysigs[0].minor, 0);
    free(toks);
    disco_score_release(&out);
    disco_score_release(&want);
    disco_score_release(&sc);
}

static void test_header(void **state)
{
    static const int c_major[] = {60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 55};
    static const int a_minor[] = {57, 59, 60, 62, 64, 65, 68, 69, 64, 57, 60, 64, 57};
    disco_score sc;
    int32_t *toks;
    size_t n, i;

    (void)state;
    score_new(&sc, TPQ);
    tempo(&sc, 0, 7);
    meter(&sc, 0, 6, 8);
    for (i = 0; i < 12; i++)
        note(&sc, (uint32_t)i * 2 * SIX, 2 * SIX, c_major[i], 80, 0, 1);
    note(&sc, 0, 16 * SIX, 36, 80, 1, 34);
    note(&sc, 0, SIX, 36, 80, 9, 0);
    note(&sc, 0, SIX, 60, 80, 4, 56);
    assert_int_equal(disco_tokens_encode(&sc, NULL, &toks, &n, NULL), DISCO_OK);
    {
        const int32_t want[] = {
            DISCO_TOK_BOS,          DISCO_TOK_KEY0 + 0,    DISCO_TOK_STYLE0,
            DISCO_TOK_FAMILY0 + 0,  DISCO_TOK_FAMILY0 + 4, DISCO_TOK_FAMILY0 + 7,
            DISCO_TOK_FAMILY0 + 16, DISCO_TOK_TEMPO0 + 7,  DISCO_TOK_TIMESIG0 + 4,
            DISCO_TOK_BAR,          DISCO_TOK_POS0,        DISCO_TOK_PROG0 + 1,
            DISCO_TOK_PITCH0 + 60};
        assert_memory_equal(toks, want, sizeof want);
    }
    free(toks);
    disco_score_release(&sc);
    /* A harmonic minor, A-heavy: KEY 12 + 9 */
    score_new(&sc, TPQ);
    for (i = 0; i < 13; i++)
        note(&sc, (uint32_t)i * 4 * SIX, (a_minor[i] % 12 == 9 ? 8 : 2) * SIX, a_minor[i], 80, 0,
             0);
    assert_int_equal(disco_tokens_encode(&sc, &(disco_tok_cond){-1, 2}, &toks, &n, NULL), DISCO_OK);
    assert_int_equal(toks[1], DISCO_TOK_KEY0 + 21);
    assert_int_equal(toks[2], DISCO_TOK_STYLE0 + 2);
    free(toks);
    disco_score_release(&sc);
    /* drums only: unknown key; explicit unknown key is written as is */
    score_new(&sc, TPQ);
    note(&sc, 0, SIX, 36, 80, 9, 0);
    note(&sc, 4 * SIX, SIX, 38, 80, 9, 0);
    assert_int_equal(disco_tokens_encode(&sc, NULL, &toks, &n, NULL), DISCO_OK);
    assert_int_equal(toks[1], DISCO_TOK_KEY0 + 24);
    assert_int_equal(toks[3], DISCO_TOK_FAMILY0 + 16);
    assert_int_equal(toks[4], DISCO_TOK_TEMPO0 + disco_tok_tempo_bucket(120.0));
    assert_int_equal(toks[5], DISCO_TOK_TIMESIG0 + 2);
    free(toks);
    disco_score_release(&sc);
}

static void test_quantise_off_grid(void **state)
{
    disco_score sc, out;
    int32_t *toks;
    size_t n;
    const int six = 24; /* tpq 96 */

    (void)state;
    score_new(&sc, 96);
    meter(&sc, 0, 13, 4);                       /* no token: written and gridded as 4/4 */
    note(&sc, 13, 5, 60, 1, 0, 0);              /* 0.54 -> 1; 5 ticks -> 1 sixteenth (at least 1) */
    note(&sc, 11, 40, 62, 64, 0, 0);            /* 0.46 -> 0; 1.67 -> 2 */
    note(&sc, 16 * six + 2, 30, 64, 127, 0, 0); /* bar 1, position 0 */
    meter(&sc, 16 * six + 8 * six, 3, 4);       /* mid-bar: from bar 2 */
    note(&sc, 32 * six + 12 * six - 5, six, 65, 90, 0, 0); /* 43.8 -> 44 = bar 3 in 3/4 */
    disco_score_sort(&sc);
    trip(&sc, NULL, &out, &toks, &n);
    assert_int_equal(toks[5], DISCO_TOK_TIMESIG0 + 2);
    assert_int_equal(count_tok(toks, n, DISCO_TOK_BAR), 4);
    assert_int_equal(out.nnotes, 4);
    assert_int_equal(out.notes[0].start, 0);
    assert_int_equal(out.notes[0].dur, 2 * six);
    assert_int_equal(out.notes[0].velocity, 68);
    assert_int_equal(out.notes[1].start, six);
    assert_int_equal(out.notes[1].dur, six);
    assert_int_equal(out.notes[1].velocity, 4);
    assert_int_equal(out.notes[2].start, 16 * six);
    assert_int_equal(out.notes[2].velocity, 124);
    assert_int_equal(out.notes[3].start, 44 * six);
    assert_int_equal(out.ntimesigs, 2);
    assert_int_equal(out.timesigs[0].num, 4);
    assert_int_equal(out.timesigs[1].tick, 32 * six);
    assert_int_equal(out.timesigs[1].num, 3);
    free(toks);
    disco_score_release(&out);
    disco_score_release(&sc);
}

static void test_duplicates_and_order(void **state)
{
    disco_score sc;
    int32_t *toks;
    size_t n;

    (void)state;
    score_new(&sc, TPQ);
    note(&sc, 0, SIX, 67, 80, 3, 0);
    note(&sc, 0, 3 * SIX, 60, 80, 0, 0);
    note(&sc, 0, 2 * SIX, 60, 80, 2, 0); /* same program and pitch: the longer stays */
    note(&sc, 0, SIX, 40, 80, 1, 25);
    note(&sc, 0, SIX, 36, 80, 9, 0);
    assert_int_equal(disco_tokens_encode(&sc, &(disco_tok_cond){0, 0}, &toks, &n, NULL), DISCO_OK);
    {
        const int32_t want[] = {DISCO_TOK_BAR,         DISCO_TOK_POS0,        DISCO_TOK_PROG0,
                                DISCO_TOK_PITCH0 + 60, DISCO_TOK_VEL0 + 10,   DISCO_TOK_DUR1 + 2,
                                DISCO_TOK_PITCH0 + 67, DISCO_TOK_VEL0 + 10,   DISCO_TOK_DUR1,
                                DISCO_TOK_PROG0 + 25,  DISCO_TOK_PITCH0 + 40, DISCO_TOK_VEL0 + 10,
                                DISCO_TOK_DUR1,        DISCO_TOK_PROG_DRUMS,  DISCO_TOK_PITCH0 + 36,
                                DISCO_TOK_VEL0 + 10,   DISCO_TOK_DUR1,        DISCO_TOK_EOS};

        assert_int_equal(n, 8 + sizeof want / sizeof want[0]);
        assert_memory_equal(toks + 8, want, sizeof want);
    }
    free(toks);
    disco_score_release(&sc);
}

static void test_lenient_decode(void **state)
{
    const int32_t t[] = {
        DISCO_TOK_BOS,
        DISCO_TOK_TEMPO0 + 20,
        DISCO_TOK_PITCH0 + 60, /* 1: no bar */
        DISCO_TOK_BAR,
        DISCO_TOK_PITCH0 + 60, /* 2: no POS */
        DISCO_TOK_POS0 + 4,
        DISCO_TOK_VEL0 + 3, /* 3: no PITCH */
        DISCO_TOK_PROG0 + 5,
        DISCO_TOK_PITCH0 + 60,
        DISCO_TOK_VEL0 + 5,
        DISCO_TOK_DUR1 + 3,
        DISCO_TOK_DUR1 + 1,  /* 4: no PITCH */
        DISCO_TOK_POS0 + 2,  /* 5: not later */
        DISCO_TOK_POS0 + 20, /* 6: past 16 */
        DISCO_TOK_KEY0 + 3,  /* 7: header */
        DISCO_TOK_BOS,       /* 8 */
        DISCO_TOK_PAD,       /* ignored */
        DISCO_TOK_PITCH0 + 62,
        DISCO_TOK_VEL0 + 1, /* 9, 10: no DUR */
        DISCO_TOK_POS0 + 8,
        DISCO_TOK_TIMESIG0 + 1, /* 11: not after BAR */
        9999,
        -5, /* 12, 13 */
        DISCO_TOK_BAR,
        DISCO_TOK_TIMESIG0 + 1,
        DISCO_TOK_POS0 + 11,
        DISCO_TOK_PITCH0 + 50,
        DISCO_TOK_DUR1, /* 14, 15: no VEL */
        DISCO_TOK_EOS,
        DISCO_TOK_PITCH0 + 1, /* after EOS */
    };
    disco_score out;
    size_t skipped = 0;

    (void)state;
    assert_int_equal(disco_tokens_decode(t, sizeof t / sizeof t[0], 96, &out, &skipped, NULL),
                     DISCO_OK);
    assert_int_equal(skipped, 15);
    assert_int_equal(out.nnotes, 1);
    assert_int_equal(out.notes[0].start, 4 * 24);
    assert_int_equal(out.notes[0].dur, 4 * 24);
    assert_int_equal(out.notes[0].program, 5);
    assert_int_equal(out.notes[0].velocity, 44);
    assert_int_equal(out.ntempos, 1);
    assert_int_equal(out.tempos[0].us_per_quarter,
                     (uint32_t)lround(60e6 / disco_tok_tempo_bpm(20)));
    assert_int_equal(out.ntimesigs, 2);
    assert_int_equal(out.timesigs[1].tick, 16 * 24);
    assert_int_equal(out.end_tick, 28 * 24); /* the 3/4 bar that EOS closes */
    disco_score_release(&out);
    /* nothing at all is a valid empty score */
    assert_int_equal(disco_tokens_decode(NULL, 0, 96, &out, &skipped, NULL), DISCO_OK);
    assert_int_equal(out.nnotes, 0);
    assert_int_equal(out.ntempos, 1);
    assert_int_equal(skipped, 0);
    disco_score_release(&out);
}

static void assert_valid_score(const disco_score *sc)
{
    assert_true(sc->ntempos >= 1 && sc->tempos[0].tick == 0);
    assert_true(sc->ntimesigs >= 1 && sc->timesigs[0].tick == 0);
    for (size_t i = 1; i < sc->ntempos; i++)
        assert_true(sc->tempos[i].tick > sc->tempos[i - 1].tick);
    for (size_t i = 1; i < sc->ntimesigs; i++)
        assert_true(sc->timesigs[i].tick > sc->timesigs[i - 1].tick);
    for (size_t i = 0; i < sc->ntempos; i++)
        assert_true(sc->tempos[i].us_per_quarter >= 240000 &&
                    sc->tempos[i].us_per_quarter <= 1500000);
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];

        assert_true(n->pitch <= 127 && n->velocity >= 1 && n->velocity <= 127);
        assert_true(n->dur >= 1 && n->channel <= 15 && n->program <= 127);
        assert_true(n->start + n->dur <= sc->end_tick);
        if (i > 0)
            assert_true(n->start > n[-1].start ||
                        (n->start == n[-1].start && n->pitch >= n[-1].pitch));
    }
}

static int32_t pick(int32_t first, int count)
{
    return first + (int32_t)(rng_uniform() * count);
}

/* Mostly the token kind the grammar expects after `prev` (any value), sometimes any id. */
static int32_t near_grammar(int32_t prev)
{
    if (rng_uniform() < 0.15)
        return pick(-2, DISCO_TOK_VOCAB + 4);
    switch (disco_tok_kind_of(prev, NULL)) {
    case DISCO_TK_BAR:
        return rng_uniform() < 0.1 ? pick(DISCO_TOK_TIMESIG0, DISCO_TOK_NTIMESIGS)
                                   : pick(DISCO_TOK_POS0, 24);
    case DISCO_TK_POS:
        return rng_uniform() < 0.1 ? pick(DISCO_TOK_TEMPO0, DISCO_TOK_TEMPOS)
                                   : pick(DISCO_TOK_PROG0, 129);
    case DISCO_TK_PROG:
        return pick(DISCO_TOK_PITCH0, 128);
    case DISCO_TK_PITCH:
        return pick(DISCO_TOK_VEL0, DISCO_TOK_VELS);
    case DISCO_TK_VEL:
        return pick(DISCO_TOK_DUR1, DISCO_TOK_DURS);
    case DISCO_TK_DUR:
        return rng_uniform() < 0.5 ? pick(DISCO_TOK_POS0, 24) : DISCO_TOK_BAR;
    default:
        return rng_uniform() < 0.5 ? DISCO_TOK_BAR : pick(0, DISCO_TOK_VOCAB);
    }
}

static void test_random_ids(void **state)
{
    int32_t t[400];
    disco_score out;
    size_t skipped, notes = 0;

    (void)state;
    rng_state = 12345;
    for (int round = 0; round < 3000; round++) {
        size_t n = (size_t)(rng_uniform() * 400);

        for (size_t i = 0; i < n; i++) {
            if (round % 3 == 0) /* ids past the vocabulary too */
                t[i] = pick(-20, DISCO_TOK_VOCAB + 40);
            else if (round % 3 == 1)
                t[i] = pick(0, DISCO_TOK_VOCAB);
            else /* near the grammar, so that notes do form */
                t[i] = near_grammar(i ? t[i - 1] : DISCO_TOK_BOS);
        }
        assert_int_equal(disco_tokens_decode(t, n, 1 + 4 * (round % 200 + 1), &out, &skipped, NULL),
                         DISCO_OK);
        assert_true(skipped <= n);
        assert_valid_score(&out);
        notes += out.nnotes;
        disco_score_release(&out);
    }
    assert_true(notes > 10000); /* the fuzz did reach note decoding */
}

static void test_transpose(void **state)
{
    disco_score sc, out;
    int32_t *toks, *copy;
    size_t n;
    disco_status st = {0};

    (void)state;
    score_new(&sc, TPQ);
    note(&sc, 0, SIX, 60, 80, 0, 0);
    note(&sc, 0, SIX, 38, 80, 9, 0);
    note(&sc, 4 * SIX, SIX, 120, 80, 0, 0);
    note(&sc, 4 * SIX, SIX, 42, 80, 9, 0);
    disco_score_sort(&sc);
    assert_int_equal(disco_tokens_encode(&sc, &(disco_tok_cond){22, 0}, &toks, &n, NULL), DISCO_OK);
    copy = malloc(n * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, toks, n * sizeof *copy);
    /* 120 + 8 leaves the range: nothing changes */
    assert_int_equal(disco_tokens_transpose(toks, n, 8, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "pitch 120 +8"));
    assert_memory_equal(toks, copy, n * sizeof *copy);
    assert_int_equal(disco_tokens_transpose(toks, n, 3, NULL), DISCO_OK);
    assert_int_equal(toks[1], DISCO_TOK_KEY0 + 12 + 1); /* A# minor + 3 = C# minor */
    assert_int_equal(disco_tokens_decode(toks, n, TPQ, &out, NULL, NULL), DISCO_OK);
    assert_int_equal(out.nnotes, 4);
    assert_int_equal(out.notes[0].pitch, 38); /* drums stay */
    assert_int_equal(out.notes[1].pitch, 63);
    assert_int_equal(out.notes[2].pitch, 42);
    assert_int_equal(out.notes[3].pitch, 123);
    disco_score_release(&out);
    assert_int_equal(disco_tokens_transpose(toks, n, -3, NULL), DISCO_OK);
    assert_memory_equal(toks, copy, n * sizeof *copy);
    assert_int_equal(disco_tokens_transpose(toks, n, -15, NULL), DISCO_OK); /* key wraps */
    assert_int_equal(toks[1], DISCO_TOK_KEY0 + 12 + 7);
    free(copy);
    free(toks);
    disco_score_release(&sc);
}

static void expect_encode_error(const disco_score *sc, const disco_tok_cond *cond, int code,
                                const char *field, const char *text)
{
    disco_status st = {0};
    int32_t *toks = NULL;
    size_t n = 0;

    assert_int_equal(disco_tokens_encode(sc, cond, &toks, &n, &st), code);
    assert_string_equal(st.field, field);
    assert_non_null(strstr(st.msg, text));
    assert_null(toks);
}

static void test_bad_input(void **state)
{
    disco_score sc, out;
    disco_status st = {0};
    int32_t t[2] = {DISCO_TOK_BOS, DISCO_TOK_EOS};

    (void)state;
    score_new(&sc, TPQ);
    expect_encode_error(&sc, NULL, DISCO_ERR_INVAL, "notes", "no notes");
    note(&sc, 0, SIX, 60, 80, 0, 0);
    expect_encode_error(&sc, &(disco_tok_cond){25, 0}, DISCO_ERR_INVAL, "key", "key 25");
    expect_encode_error(&sc, &(disco_tok_cond){0, 8}, DISCO_ERR_INVAL, "style", "style 8");
    sc.notes[0].pitch = 200;
    expect_encode_error(&sc, NULL, DISCO_ERR_INVAL, "notes", "notes[0]: pitch 200");
    sc.notes[0].pitch = 60;
    sc.notes[0].start = 4000000000u;
    expect_encode_error(&sc, NULL, DISCO_ERR_LIMIT, "notes", "beyond");
    sc.notes[0].start = 0;
    sc.tpq = 0;
    expect_encode_error(&sc, NULL, DISCO_ERR_INVAL, "tpq", "tpq 0");
    sc.tpq = TPQ;
    assert_int_equal(disco_tokens_decode(t, 2, 2, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tpq");
    assert_int_equal(disco_tokens_decode(NULL, 2, TPQ, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "toks");
    disco_score_release(&sc);
}

/* Decoded scores go through a MIDI file and come back with the same tokens. */
static void test_through_midi(void **state)
{
    disco_score sc, out, back;
    disco_smf smf;
    uint8_t *buf;
    size_t len, n, n2;
    int32_t *toks, *toks2;

    (void)state;
    rich_score(&sc);
    trip(&sc, &(disco_tok_cond){3, 4}, &out, &toks, &n);
    assert_int_equal(disco_score_to_smf(&out, &smf, NULL), DISCO_OK);
    assert_int_equal(disco_smf_write_mem(&smf, &buf, &len, NULL), DISCO_OK);
    assert_int_equal(disco_score_read_mem(buf, len, &back, NULL), DISCO_OK);
    assert_int_equal(disco_tokens_encode(&back, &(disco_tok_cond){3, 4}, &toks2, &n2, NULL),
                     DISCO_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(toks2, toks, n * sizeof *toks);
    free(toks2);
    free(toks);
    free(buf);
    disco_smf_release(&smf);
    disco_score_release(&back);
    disco_score_release(&out);
    disco_score_release(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_names),     cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_header),
        cmocka_unit_test(test_quantise_off_grid), cmocka_unit_test(test_duplicates_and_order),
        cmocka_unit_test(test_lenient_decode),    cmocka_unit_test(test_random_ids),
        cmocka_unit_test(test_transpose),         cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_through_midi),
    };

    return cmocka_run_group_tests_name("music/tokens", tests, NULL, NULL);
}
