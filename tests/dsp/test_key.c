/*
 * test_key.c - key estimation from synthetic chroma: I-IV-V-I cadences and
 * tonic-weighted scale passages in all 24 keys, as symbolic pitch-class
 * histograms and with the overtones an audio chroma has, clean and with
 * noise, scored with the MIREX weighted score; the score table itself;
 * profile names; zero/constant chroma; bad input.
 */
#include "disco/key.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

/* 1: notes carry the overtones an STFT chroma sees; 0: a symbolic pitch-class histogram. */
static int overtones = 1;

/*
 * Adds a note of pitch class pc with weight w to the chroma, plus (with
 * `overtones`) the 3rd harmonic (a fifth up) and the 5th (a major third up).
 */
static void add_note(double *c, int pc, double w)
{
    c[pc % 12] += w;
    if (!overtones)
        return;
    c[(pc + 7) % 12] += 0.3 * w;
    c[(pc + 4) % 12] += 0.12 * w;
}

static void add_triad(double *c, int root, int minor_third, double w)
{
    add_note(c, root, 1.5 * w); /* root doubled in the bass */
    add_note(c, root + (minor_third ? 3 : 4), w);
    add_note(c, root + 7, w);
}

/* I-IV-V-I (major) or i-iv-V-i (harmonic minor: the dominant is major). */
static void add_cadence(double *c, int tonic, int minor)
{
    add_triad(c, tonic, minor, 2.0);
    add_triad(c, tonic + 5, minor, 1.0);
    add_triad(c, tonic + 7, 0, 1.0);
    add_triad(c, tonic, minor, 2.0);
}

/* A scale up and down from the tonic, tonic held at both ends. */
static void add_scale(double *c, int tonic, int minor)
{
    static const int major_steps[7] = {0, 2, 4, 5, 7, 9, 11};
    static const int minor_steps[7] = {0, 2, 3, 5, 7, 8, 10};
    const int *s = minor ? minor_steps : major_steps;

    for (int i = 0; i < 7; i++)
        add_note(c, tonic + s[i], 2.0 * (i == 0 ? 3.0 : 1.0));
    if (minor)
        add_note(c, tonic + 11, 1.0); /* the leading tone on the way back up */
    add_note(c, tonic + 12, 2.0);
}

static void synth_piece(double *c, int tonic, int minor, double noise)
{
    double max = 0.0;

    memset(c, 0, 12 * sizeof *c);
    add_cadence(c, tonic, minor);
    add_scale(c, tonic, minor);
    for (int i = 0; i < 12; i++)
        max = fmax(max, c[i]);
    for (int i = 0; i < 12; i++)
        c[i] += noise * max * rng_uniform();
}

/* Mean MIREX score over the 24 keys and `trials` noisy pieces each. */
static double mean_mirex(disco_key_profile profile, double noise, int trials)
{
    double total = 0.0, c[12];
    disco_key k;

    for (int t = 0; t < trials; t++) {
        for (int key = 0; key < 24; key++) {
            synth_piece(c, key % 12, key / 12, noise);
            assert_int_equal(disco_key_estimate(c, profile, &k, NULL), DISCO_OK);
            total += disco_key_mirex_score(k.tonic, k.minor, key % 12, key / 12);
        }
    }
    return total / (24.0 * trials);
}

static void test_clean_pieces_all_keys_exact(void **state)
{
    static const disco_key_profile all[] = {DISCO_KEY_KRUMHANSL, DISCO_KEY_TEMPERLEY,
                                            DISCO_KEY_EDMA, DISCO_KEY_COMBINED};
    double c[12];
    disco_key k;

    (void)state;
    for (size_t i = 0; i < 2 * sizeof all / sizeof all[0]; i++) {
        size_t p = i / 2;

        overtones = (int)(i % 2);
        for (int key = 0; key < 24; key++) {
            synth_piece(c, key % 12, key / 12, 0.0);
            assert_int_equal(disco_key_estimate(c, all[p], &k, NULL), DISCO_OK);
            if (k.tonic != key % 12 || k.minor != key / 12)
                fail_msg("profile %d key %d overtones %d: got tonic %d minor %d", (int)all[p], key,
                         overtones, k.tonic, k.minor);
            assert_near(k.correlation, k.scores[key], 0.0);
            assert_true(k.correlation > 0.6 && k.correlation <= 1.0 + 1e-12);
            assert_true(k.confidence > 0.0 && k.confidence <= 1.0);
        }
    }
}

static void test_noisy_pieces_mirex_score(void **state)
{
    double m;

    (void)state;
    rng_state = 99;
    m = mean_mirex(DISCO_KEY_COMBINED, 0.5, 20);
    if (m < 0.9)
        fail_msg("combined mean MIREX %.3f < 0.9 at 50%% noise", m);
    m = mean_mirex(DISCO_KEY_KRUMHANSL, 0.5, 20);
    if (m < 0.85)
        fail_msg("krumhansl mean MIREX %.3f < 0.85 at 50%% noise", m);
    m = mean_mirex(DISCO_KEY_TEMPERLEY, 0.5, 20);
    if (m < 0.85)
        fail_msg("temperley mean MIREX %.3f < 0.85 at 50%% noise", m);
    m = mean_mirex(DISCO_KEY_EDMA, 0.5, 20);
    if (m < 0.85)
        fail_msg("edma mean MIREX %.3f < 0.85 at 50%% noise", m);
    /* Pure noise is not a key: the score falls well below the bar. */
    m = mean_mirex(DISCO_KEY_COMBINED, 50.0, 4);
    if (m > 0.5)
        fail_msg("noise-only chroma scored %.3f", m);
}

static void test_rotation_invariance(void **state)
{
    double c[12], r[12];
    disco_key a, b;

    (void)state;
    rng_state = 5;
    synth_piece(c, 0, 1, 0.2);
    assert_int_equal(disco_key_estimate(c, DISCO_KEY_COMBINED, &a, NULL), DISCO_OK);
    for (int shift = 1; shift < 12; shift++) {
        for (int i = 0; i < 12; i++)
            r[(i + shift) % 12] = c[i];
        assert_int_equal(disco_key_estimate(r, DISCO_KEY_COMBINED, &b, NULL), DISCO_OK);
        assert_int_equal(b.tonic, (a.tonic + shift) % 12);
        assert_int_equal(b.minor, a.minor);
        assert_near(b.correlation, a.correlation, 1e-12);
        assert_near(b.confidence, a.confidence, 1e-12);
    }
}

static void test_mirex_score_table(void **state)
{
    (void)state;
    assert_near(disco_key_mirex_score(0, 0, 0, 0), 1.0, 0.0);  /* C = C */
    assert_near(disco_key_mirex_score(9, 1, 9, 1), 1.0, 0.0);  /* Am = Am */
    assert_near(disco_key_mirex_score(7, 0, 0, 0), 0.5, 0.0);  /* G for C */
    assert_near(disco_key_mirex_score(5, 0, 0, 0), 0.5, 0.0);  /* F for C */
    assert_near(disco_key_mirex_score(4, 1, 9, 1), 0.5, 0.0);  /* Em for Am */
    assert_near(disco_key_mirex_score(2, 1, 9, 1), 0.5, 0.0);  /* Dm for Am */
    assert_near(disco_key_mirex_score(7, 1, 0, 0), 0.0, 0.0);  /* Gm for C: mode differs */
    assert_near(disco_key_mirex_score(9, 1, 0, 0), 0.3, 0.0);  /* Am for C */
    assert_near(disco_key_mirex_score(0, 0, 9, 1), 0.3, 0.0);  /* C for Am */
    assert_near(disco_key_mirex_score(3, 0, 0, 1), 0.3, 0.0);  /* Eb for Cm */
    assert_near(disco_key_mirex_score(0, 1, 0, 0), 0.2, 0.0);  /* Cm for C */
    assert_near(disco_key_mirex_score(6, 0, 6, 1), 0.2, 0.0);  /* F# for F#m */
    assert_near(disco_key_mirex_score(2, 0, 0, 0), 0.0, 0.0);  /* D for C */
    assert_near(disco_key_mirex_score(1, 0, 0, 0), 0.0, 0.0);  /* C# for C */
    assert_near(disco_key_mirex_score(4, 1, 0, 0), 0.0, 0.0);  /* Em for C */
    assert_near(disco_key_mirex_score(11, 0, 4, 0), 0.5, 0.0); /* B for E */
    assert_near(disco_key_mirex_score(-1, 0, 0, 0), 0.0, 0.0); /* no key */
    assert_near(disco_key_mirex_score(0, 0, 12, 0), 0.0, 0.0); /* bad truth */
}

static void test_key_names(void **state)
{
    char buf[16];

    (void)state;
    assert_string_equal(disco_key_name(0, 0, buf), "C major");
    assert_string_equal(disco_key_name(6, 1, buf), "F# minor");
    assert_string_equal(disco_key_name(10, 0, buf), "A# major");
    assert_string_equal(disco_key_name(11, 1, buf), "B minor");
    assert_string_equal(disco_key_name(-1, 0, buf), "none");
    assert_string_equal(disco_key_name(12, 0, buf), "none");
}

static void test_profile_parse(void **state)
{
    disco_key_profile p = DISCO_KEY_COMBINED;
    disco_status st;

    (void)state;
    assert_int_equal(disco_key_profile_parse("krumhansl", "key_profile", &p, NULL), DISCO_OK);
    assert_int_equal(p, DISCO_KEY_KRUMHANSL);
    assert_int_equal(disco_key_profile_parse("temperley", "key_profile", &p, NULL), DISCO_OK);
    assert_int_equal(p, DISCO_KEY_TEMPERLEY);
    assert_int_equal(disco_key_profile_parse("edma", "key_profile", &p, NULL), DISCO_OK);
    assert_int_equal(p, DISCO_KEY_EDMA);
    assert_int_equal(disco_key_profile_parse("combined", "key_profile", &p, NULL), DISCO_OK);
    assert_int_equal(p, DISCO_KEY_COMBINED);

    disco_status_clear(&st);
    assert_int_equal(disco_key_profile_parse("Krumhansl ", "analysis.key_profile", &p, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "analysis.key_profile");
    assert_non_null(strstr(st.msg, "analysis.key_profile"));
    assert_non_null(strstr(st.msg, "'Krumhansl '"));
    disco_status_clear(&st);
    assert_int_equal(disco_key_profile_parse(NULL, "key_profile", &p, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "key_profile");
    disco_status_clear(&st);
    assert_int_equal(disco_key_profile_parse("", NULL, &p, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "profile");
}

static void test_zero_and_constant_chroma(void **state)
{
    double zero[12] = {0}, flat[12];
    disco_key k;

    (void)state;
    for (int i = 0; i < 12; i++)
        flat[i] = 0.37;
    assert_int_equal(disco_key_estimate(zero, DISCO_KEY_COMBINED, &k, NULL), DISCO_OK);
    assert_int_equal(k.tonic, -1);
    assert_near(k.confidence, 0.0, 0.0);
    assert_near(k.correlation, 0.0, 0.0);
    assert_int_equal(disco_key_estimate(flat, DISCO_KEY_KRUMHANSL, &k, NULL), DISCO_OK);
    assert_int_equal(k.tonic, -1);
    assert_near(k.confidence, 0.0, 0.0);
    for (int i = 0; i < 24; i++)
        assert_near(k.scores[i], 0.0, 0.0);
}

static void test_bad_input(void **state)
{
    double c[12] = {1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1};
    disco_status st;
    disco_key k;

    (void)state;
    disco_status_clear(&st);
    c[3] = NAN;
    assert_int_equal(disco_key_estimate(c, DISCO_KEY_COMBINED, &k, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "chroma");
    assert_non_null(strstr(st.msg, "chroma[3]"));
    c[3] = -0.5;
    assert_int_equal(disco_key_estimate(c, DISCO_KEY_COMBINED, &k, &st), DISCO_ERR_INVAL);
    c[3] = 0.0;
    disco_status_clear(&st);
    assert_int_equal(disco_key_estimate(c, (disco_key_profile)7, &k, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "profile");
    assert_int_equal(k.tonic, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_pieces_all_keys_exact),
        cmocka_unit_test(test_noisy_pieces_mirex_score),
        cmocka_unit_test(test_rotation_invariance),
        cmocka_unit_test(test_mirex_score_table),
        cmocka_unit_test(test_key_names),
        cmocka_unit_test(test_profile_parse),
        cmocka_unit_test(test_zero_and_constant_chroma),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests_name("dsp/key", tests, NULL, NULL);
}
