/*
 * test_midi_metrics.c - score metrics on hand-made scores with known
 * answers: a C major scale (scale consistency 1, 7 pitch classes, entropies,
 * key C major), a held triad (polyphony 3) and a partly overlapping one, a
 * 4-bar drum pattern (groove consistency 1, then one changed onset), a
 * silent bar (empty-beat rate 1/4), an A minor piece, the tempo figures,
 * drums kept out of the pitch metrics, and an empty score (NaN, key -1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/midi_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/tu_num.h"

#define TPQ 480

static void add(disco_score *sc, uint32_t start, uint32_t dur, int pitch, int channel)
{
    disco_note_ev n = {start, dur, (uint8_t)pitch, 90, (uint8_t)channel, 0, 0};

    if (channel != 9)
        n.program = 1;
    assert_int_equal(disco_score_add_note(sc, &n, NULL), DISCO_OK);
}

static disco_midi_metrics measure(disco_score *sc)
{
    disco_midi_metrics m;
    disco_status st = {0};

    if (disco_midi_metrics_compute(sc, &m, &st) != DISCO_OK)
        fail_msg("metrics: %s", st.msg);
    return m;
}

static void test_c_major_scale(void **state)
{
    (void)state;
    static const int scale[8] = {60, 62, 64, 65, 67, 69, 71, 72};
    disco_score sc;

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    for (int i = 0; i < 8; i++)
        add(&sc, (uint32_t)i * TPQ, TPQ, scale[i], 0);
    disco_midi_metrics m = measure(&sc);
    assert_int_equal(m.nnotes, 8);
    assert_int_equal(m.npitched, 8);
    assert_int_equal(m.pitch_range, 12);
    assert_int_equal(m.pitch_classes, 7);
    assert_near(m.scale_consistency, 1.0, 1e-12);
    assert_near(m.polyphony, 1.0, 1e-12);
    assert_near(m.pitch_entropy, 3.0, 1e-12); /* 8 distinct pitches, once each */
    /* C twice (2/8), six others once (1/8): 0.5 + 6 * 0.375 bits */
    assert_near(m.pitch_class_entropy, 2.75, 1e-12);
    assert_near(m.empty_beat_rate, 0.0, 1e-12);
    assert_int_equal(m.key, 0);
    assert_string_equal(disco_midi_metrics_key_name(m.key), "C major");
    assert_true(m.key_corr > 0.5 && m.key_corr <= 1.0);
    assert_int_equal(m.nprograms, 1);
    assert_int_equal(m.program_used[1], 1);
    assert_int_equal(m.has_drums, 0);
    /* one F# out of 9 notes: 8/9 in G major (or E minor) */
    add(&sc, 8 * TPQ, TPQ, 66, 0);
    m = measure(&sc);
    assert_near(m.scale_consistency, 8.0 / 9.0, 1e-12);
    assert_int_equal(m.pitch_classes, 8);
    disco_score_release(&sc);
}

static void test_polyphony(void **state)
{
    (void)state;
    disco_score sc;

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    add(&sc, 0, 4 * TPQ, 60, 0); /* C major triad held one bar */
    add(&sc, 0, 4 * TPQ, 64, 0);
    add(&sc, 0, 4 * TPQ, 67, 0);
    assert_near(measure(&sc).polyphony, 3.0, 1e-12);
    add(&sc, 0, 4 * TPQ, 60, 1);       /* the same pitch again counts once */
    add(&sc, 8 * TPQ, 4 * TPQ, 72, 0); /* a bar of silence, then one note */
    add(&sc, 0, 16 * TPQ, 36, 9);      /* drums are not pitches */
    disco_midi_metrics m = measure(&sc);
    /* 4 beats with 3 pitches, 4 beats with 1; the silent bar does not count */
    assert_near(m.polyphony, 2.0, 1e-12);
    assert_int_equal(m.has_drums, 1);
    assert_int_equal(m.npitched, 5);
    assert_int_equal(m.pitch_range, 12);        /* 60..72, the drum's 36 left out */
    assert_near(m.empty_beat_rate, 0.0, 1e-12); /* the drum sounds throughout */
    disco_score_release(&sc);
}

/* Kick on beats 1 and 3, snare on 2 and 4, hi-hat on every eighth, for `bars` bars. */
static void drum_bars(disco_score *sc, int bars)
{
    for (int b = 0; b < bars; b++) {
        uint32_t bar = (uint32_t)b * 4 * TPQ;
        for (int e = 0; e < 8; e++)
            add(sc, bar + (uint32_t)e * TPQ / 2, 60, 42, 9);
        add(sc, bar, 60, 36, 9);
        add(sc, bar + 2 * TPQ, 60, 36, 9);
        add(sc, bar + TPQ, 60, 38, 9);
        add(sc, bar + 3 * TPQ, 60, 38, 9);
    }
}

static void test_groove(void **state)
{
    (void)state;
    disco_score sc;

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    drum_bars(&sc, 4);
    sc.end_tick = 16 * TPQ;
    disco_midi_metrics m = measure(&sc);
    assert_near(m.groove_consistency, 1.0, 1e-12);
    assert_true(isnan(m.polyphony) && isnan(m.scale_consistency) && m.key == -1);
    /* a sixteenth-note onset added in bar 3 differs from bars 2 and 4: 2 of 3 * 16 */
    add(&sc, 8 * TPQ + TPQ / 4, 60, 38, 9);
    m = measure(&sc);
    assert_near(m.groove_consistency, 1.0 - 2.0 / 48.0, 1e-12);
    /* a slightly early onset is rounded to its grid position: no change */
    add(&sc, 4 * TPQ - 7, 60, 38, 9);
    assert_near(measure(&sc).groove_consistency, 1.0 - 2.0 / 48.0, 1e-12);
    disco_score_release(&sc);
    /* 3/4: 12 positions a bar; a pattern in bar 1 only, 2 bars: 3 onsets differ */
    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    sc.timesigs[0] = (disco_timesig_ev){0, 3, 4};
    for (int i = 0; i < 3; i++)
        add(&sc, (uint32_t)i * TPQ, 60, 36, 9);
    sc.end_tick = 6 * TPQ;
    assert_near(measure(&sc).groove_consistency, 1.0 - 3.0 / 12.0, 1e-12);
    sc.end_tick = 3 * TPQ; /* one bar: undefined */
    assert_true(isnan(measure(&sc).groove_consistency));
    disco_score_release(&sc);
}

static void test_empty_beats(void **state)
{
    (void)state;
    disco_score sc;

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    for (int bar = 0; bar < 4; bar++) /* bars 1, 2 and 4 play a whole note, bar 3 rests */
        if (bar != 2)
            add(&sc, (uint32_t)bar * 4 * TPQ, 4 * TPQ, 60 + bar, 0);
    disco_midi_metrics m = measure(&sc);
    assert_near(m.empty_beat_rate, 4.0 / 16.0, 1e-12);
    /* a note ending on a beat does not make the next beat sound; a short note in a beat does */
    add(&sc, 9 * TPQ + 100, 10, 70, 0);
    assert_near(measure(&sc).empty_beat_rate, 3.0 / 16.0, 1e-12);
    /* trailing silence up to end_tick counts */
    sc.end_tick = 20 * TPQ;
    assert_near(measure(&sc).empty_beat_rate, 7.0 / 20.0, 1e-12);
    disco_score_release(&sc);
}

static void test_minor_key_and_tempo(void **state)
{
    (void)state;
    disco_score sc;

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    /* A minor: A and E long, C, B, D and the leading tone G# shorter */
    add(&sc, 0, 4 * TPQ, 57, 0);
    add(&sc, 0, 4 * TPQ, 64, 0);
    add(&sc, 4 * TPQ, 2 * TPQ, 60, 0);
    add(&sc, 6 * TPQ, TPQ, 59, 0);
    add(&sc, 7 * TPQ, TPQ, 56, 0);
    add(&sc, 8 * TPQ, 4 * TPQ, 57, 0);
    add(&sc, 8 * TPQ, 2 * TPQ, 62, 0);
    /* 120 BPM for 4 quarters, then 60 BPM: 2 s + 8 s for 12 quarters */
    sc.tempos = realloc(sc.tempos, 2 * sizeof *sc.tempos);
    assert_non_null(sc.tempos);
    sc.tempos[1] = (disco_tempo_ev){4 * TPQ, 1000000};
    sc.ntempos = 2;
    disco_midi_metrics m = measure(&sc);
    assert_int_equal(m.key, 21);
    assert_string_equal(disco_midi_metrics_key_name(m.key), "A minor");
    assert_near(m.seconds, 10.0, 1e-9);
    assert_near(m.bpm_initial, 120.0, 1e-9);
    assert_near(m.bpm_mean, 12.0 / (10.0 / 60.0), 1e-9); /* 72 quarters per minute */
    disco_score_release(&sc);
}

static void test_empty_score(void **state)
{
    (void)state;
    disco_score sc;
    disco_status st = {0};

    assert_int_equal(disco_score_init(&sc, TPQ, NULL), DISCO_OK);
    disco_midi_metrics m = measure(&sc);
    assert_int_equal(m.nnotes, 0);
    assert_int_equal(m.pitch_range, 0);
    assert_int_equal(m.pitch_classes, 0);
    assert_true(isnan(m.polyphony) && isnan(m.scale_consistency));
    assert_true(isnan(m.pitch_entropy) && isnan(m.pitch_class_entropy));
    assert_true(isnan(m.empty_beat_rate) && isnan(m.groove_consistency));
    assert_int_equal(m.key, -1);
    assert_true(isnan(m.key_corr));
    assert_near(m.seconds, 0.0, 0.0);
    assert_near(m.bpm_mean, 120.0, 1e-12);
    assert_string_equal(disco_midi_metrics_key_name(-1), "unknown");
    assert_string_equal(disco_midi_metrics_key_name(24), "unknown");
    /* all twelve pitch classes equally long: no key */
    for (int p = 0; p < 12; p++)
        add(&sc, 0, TPQ, 60 + p, 0);
    m = measure(&sc);
    assert_int_equal(m.key, -1);
    assert_near(m.pitch_class_entropy, log2(12.0), 1e-12);
    assert_near(m.polyphony, 12.0, 1e-12);
    sc.tpq = 0;
    assert_int_equal(disco_midi_metrics_compute(&sc, &m, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "tpq 0"));
    disco_score_release(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_major_scale),
        cmocka_unit_test(test_polyphony),
        cmocka_unit_test(test_groove),
        cmocka_unit_test(test_empty_beats),
        cmocka_unit_test(test_minor_key_and_tempo),
        cmocka_unit_test(test_empty_score),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
