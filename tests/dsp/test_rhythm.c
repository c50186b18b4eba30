/*
 * test_rhythm.c - onset envelope, onset picking, tempo and beats on
 * envelopes built from known events: percussive kernels at jittered
 * positions with accents, eighth-note subdivisions, swing, syncopation,
 * waltz grouping, dropped beats and noise, for tempi from 60 to 190 BPM.
 * One end-to-end case runs synthesised clicks through the STFT, mel bank
 * and dB conversion of spectrum.h into the streaming envelope.
 */
#include "disco/rhythm.h"
#include "disco/spectrum.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

#define FR (22050.0 / 512.0)

/* A percussive event at fractional frame t: sharp rise, decay over ~2 frames. */
static void add_event(float *env, size_t n, double t, double amp)
{
    long f = (long)floor(t);
    double frac = t - (double)f;

    for (long j = 0; j < 8; j++) {
        double k = amp * exp(-(double)j / 1.5);

        if (f + j >= 0 && f + j < (long)n)
            env[f + j] += (float)((1.0 - frac) * k);
        if (f + j + 1 >= 0 && f + j + 1 < (long)n)
            env[f + j + 1] += (float)(frac * k);
    }
}

static void add_noise(float *env, size_t n, double level)
{
    for (size_t i = 0; i < n; i++)
        env[i] += (float)(level * fabs(rng_gauss()));
}

enum pattern { QUARTERS, ROCK, SWING, SYNCOPATED, WALTZ, N_PATTERNS };

static const char *pattern_names[N_PATTERNS] = {"quarters", "rock", "swing", "syncopated", "waltz"};

/*
 * Strength of the event at eighth-note slot `slot` of a bar (8 slots in 4/4,
 * 6 in 3/4); 0 for none. Swing's off-beats are moved later in synth().
 */
static double slot_amp(enum pattern p, int slot)
{
    static const double rock[8] = {1.0, 0.3, 0.9, 0.3, 0.95, 0.3, 0.9, 0.3};
    static const double sync[8] = {1.0, 0.3, 0.9, 0.6, 0.8, 0.3, 0.9, 0.3};
    static const double swing[8] = {1.0, 0.0, 0.9, 0.35, 0.95, 0.0, 0.9, 0.35};
    static const double waltz[6] = {1.0, 0.0, 0.6, 0.0, 0.6, 0.0};

    switch (p) {
    case QUARTERS: /* kick and snare on the beats, nothing between */
        return slot % 2 ? 0.0 : rock[slot];
    case ROCK:
        return rock[slot];
    case SWING:
        return swing[slot];
    case SYNCOPATED:
        return sync[slot];
    case WALTZ:
        return waltz[slot];
    default:
        return 0.0;
    }
}

/*
 * Envelope of `seconds` of pattern p at bpm, starting at `start` s, with
 * timing jitter (s.d. 8 ms), 5 % of the events dropped, amplitude
 * variation and a noise floor. Returns the malloc'd envelope; *n frames.
 */
static float *synth(enum pattern p, double bpm, double start, double seconds, double tail,
                    size_t *n)
{
    int slots = p == WALTZ ? 6 : 8;
    double eighth = 30.0 / bpm * FR; /* frames */
    float *env;

    *n = (size_t)((start + seconds + tail) * FR);
    env = calloc(*n, sizeof *env);
    assert_non_null(env);
    for (long k = 0; (double)k * eighth < seconds * FR; k++) {
        double amp = slot_amp(p, (int)(k % slots)), t = start * FR + (double)k * eighth;

        if (amp == 0.0 || rng_uniform() < 0.05)
            continue;
        if (p == SWING && k % 2)
            t += eighth / 3.0; /* off-beat at 2/3 of the beat */
        add_event(env, *n, t + 0.008 * FR * rng_gauss(), amp * (0.85 + 0.3 * rng_uniform()));
    }
    add_noise(env, *n, 0.03);
    return env;
}

/* --- onset envelope -------------------------------------------------------- */

static void test_onset_env_stream(void **state)
{
    float a[8], b[8], c[8];
    disco_onset_env *o;
    disco_status st;

    (void)state;
    for (int i = 0; i < 8; i++) {
        a[i] = -20.0f;
        b[i] = i < 4 ? -10.0f : -20.0f; /* half the bands rise by 10 dB */
        c[i] = -30.0f;                  /* everything falls */
    }
    assert_int_equal(disco_onset_env_new(8, &o, NULL), DISCO_OK);
    assert_near(disco_onset_env_push(o, a), 0.0, 0.0);
    assert_near(disco_onset_env_push(o, b), 10.0 * 4 / 8, 1e-6);
    assert_near(disco_onset_env_push(o, c), 0.0, 0.0);
    assert_near(disco_onset_env_push(o, b), (20.0 * 4 + 10.0 * 4) / 8, 1e-6);

    /* Loudest so far is -10 dB: the floor is -90 dB, so -100 -> -95 is no rise. */
    for (int i = 0; i < 8; i++) {
        a[i] = -100.0f;
        b[i] = -95.0f;
    }
    disco_onset_env_push(o, a);
    assert_near(disco_onset_env_push(o, b), 0.0, 0.0);
    b[0] = -50.0f; /* 40 dB above the floor */
    b[1] = NAN;    /* counts as the floor */
    assert_near(disco_onset_env_push(o, b), 40.0 / 8, 1e-5);
    disco_onset_env_free(o);
    disco_onset_env_free(NULL);

    disco_status_clear(&st);
    assert_int_equal(disco_onset_env_new(0, &o, &st), DISCO_ERR_INVAL);
    assert_null(o);
    assert_string_equal(st.field, "n_mels");
}

/* --- onset picking ----------------------------------------------------------- */

/* F-measure of detected against true times (seconds), one-to-one within tol. */
static double f_measure(const double *est, size_t ne, const double *ref, size_t nr, double tol)
{
    size_t hits = 0, j = 0;

    for (size_t i = 0; i < nr; i++) { /* both sorted; greedy in time order */
        while (j < ne && est[j] < ref[i] - tol)
            j++;
        if (j < ne && fabs(est[j] - ref[i]) <= tol) {
            hits++;
            j++;
        }
    }
    if (hits == 0)
        return 0.0;
    double p = (double)hits / (double)ne, r = (double)hits / (double)nr;

    return 2.0 * p * r / (p + r);
}

/*
 * Percussive events at random gaps of 90..600 ms, amplitudes 0.25..1, in
 * noise; with `outlier`, first the jump out of digital silence at 0.1 s,
 * ten times any other onset.
 */
static float *random_events(size_t n, int outlier, double *ref, size_t *nref)
{
    float *env = calloc(n, sizeof *env);
    double t = 0.3;

    assert_non_null(env);
    *nref = 0;
    if (outlier) {
        ref[(*nref)++] = 0.1;
        add_event(env, n, 0.1 * FR, 10.0);
    }
    while ((t += 0.09 + 0.51 * rng_uniform()) < (double)n / FR - 0.5) {
        ref[(*nref)++] = t;
        add_event(env, n, t * FR, 0.25 + 0.75 * rng_uniform());
    }
    add_noise(env, n, 0.02);
    return env;
}

static void test_onset_detect_percussive(void **state)
{
    double ref[400], *times;
    size_t n = (size_t)(60.0 * FR), nref, count;

    (void)state;
    rng_state = 21;
    for (int trial = 0; trial < 4; trial++) {
        float *env = random_events(n, trial >= 2, ref, &nref);

        assert_int_equal(disco_onset_detect(env, n, FR, NULL, &times, &count, NULL), DISCO_OK);
        double f = f_measure(times, count, ref, nref, 0.05);

        if (f < 0.95)
            fail_msg("trial %d: F = %.3f (%zu detected, %zu true)", trial, f, count, nref);
        free(times);
        free(env);
    }
}

static void test_onset_detect_edges(void **state)
{
    disco_onset_config c = disco_onset_config_default();
    float flat[100], one[1] = {3.0f};
    double *times = (double *)1;
    size_t count = 7;
    disco_status st;

    (void)state;
    for (int i = 0; i < 100; i++)
        flat[i] = 2.5f;
    assert_int_equal(disco_onset_detect(flat, 100, FR, &c, &times, &count, NULL), DISCO_OK);
    assert_null(times);
    assert_int_equal(count, 0);
    assert_int_equal(disco_onset_detect(NULL, 0, FR, &c, &times, &count, NULL), DISCO_OK);
    assert_int_equal(count, 0);
    assert_int_equal(disco_onset_detect(one, 1, FR, &c, &times, &count, NULL), DISCO_OK);
    assert_int_equal(count, 0);

    /* Two events one frame (23 ms) apart give one onset: the wait is 30 ms. */
    float env[200] = {0};
    add_event(env, 200, 50.0, 1.0);
    add_event(env, 200, 51.0, 1.2);
    add_event(env, 200, 120.0, 1.0);
    assert_int_equal(disco_onset_detect(env, 200, FR, &c, &times, &count, NULL), DISCO_OK);
    assert_int_equal(count, 2);
    assert_near(times[0], 50.0 / FR, 1e-9);
    assert_near(times[1], 120.0 / FR, 1e-9);
    free(times);

    disco_status_clear(&st);
    c.pre_avg_s = -1.0;
    assert_int_equal(disco_onset_detect(env, 200, FR, &c, &times, &count, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "pre_avg_s");
    c = disco_onset_config_default();
    c.delta = NAN;
    assert_int_equal(disco_onset_detect(env, 200, FR, &c, &times, &count, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "delta");
    c = disco_onset_config_default();
    assert_int_equal(disco_onset_detect(env, 200, 0.0, &c, &times, &count, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "frame_rate");
    env[10] = INFINITY;
    assert_int_equal(disco_onset_detect(env, 200, FR, &c, &times, &count, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "env");
    assert_null(times);
}

/* --- tempo ------------------------------------------------------------------- */

static void check_tempo(enum pattern p, double bpm, double tol)
{
    size_t n;
    float *env = synth(p, bpm, 0.5, 30.0, 0.5, &n);
    disco_tempo t;

    assert_int_equal(disco_tempo_estimate(env, n, FR, NULL, &t, NULL), DISCO_OK);
    if (fabs(t.bpm - bpm) > tol * bpm)
        fail_msg("%s at %.0f BPM: estimated %.2f (alt %.2f, confidence %.2f)", pattern_names[p],
                 bpm, t.bpm, t.alt_bpm, t.confidence);
    assert_true(t.confidence > 0.0 && t.confidence <= 1.0);
    free(env);
}

static void test_tempo_patterns(void **state)
{
    static const double tempi[] = {60, 72, 85, 100, 120, 140, 160, 175, 190};

    (void)state;
    rng_state = 5;
    for (int p = 0; p < N_PATTERNS; p++) {
        for (size_t i = 0; i < sizeof tempi / sizeof tempi[0]; i++)
            check_tempo((enum pattern)p, tempi[i], 0.04);
    }
}

static void test_tempo_precision(void **state)
{
    (void)state;
    rng_state = 8;
    /* One frame is 7 % of a beat at 190 BPM; the refined period is far finer. */
    for (double bpm = 181.0; bpm <= 193.0; bpm += 3.0)
        check_tempo(QUARTERS, bpm, 0.005);
    for (double bpm = 61.0; bpm <= 67.0; bpm += 3.0)
        check_tempo(ROCK, bpm, 0.005);
}

static void test_tempo_alternative(void **state)
{
    size_t n;
    float *env;
    disco_tempo t;

    (void)state;
    rng_state = 13;
    env = synth(ROCK, 100.0, 0.5, 30.0, 0.5, &n);
    assert_int_equal(disco_tempo_estimate(env, n, FR, NULL, &t, NULL), DISCO_OK);
    assert_near(t.bpm, 100.0, 4.0);
    /* The runner-up is a metrical neighbour: half, double, a third or three times. */
    double r = t.alt_bpm / t.bpm;
    assert_true(fabs(r - 0.5) < 0.01 || fabs(r - 2.0) < 0.02 || fabs(r - 3.0) < 0.03 ||
                fabs(r - 1.0 / 3.0) < 0.01);
    free(env);
}

static void test_tempo_silence_and_short(void **state)
{
    float zero[2000] = {0}, flat[2000];
    disco_tempo t;

    (void)state;
    for (int i = 0; i < 2000; i++)
        flat[i] = 1.5f;
    assert_int_equal(disco_tempo_estimate(zero, 2000, FR, NULL, &t, NULL), DISCO_OK);
    assert_near(t.bpm, 0.0, 0.0);
    assert_near(t.confidence, 0.0, 0.0);
    assert_int_equal(disco_tempo_estimate(flat, 2000, FR, NULL, &t, NULL), DISCO_OK);
    assert_near(t.bpm, 0.0, 0.0);
    add_event(zero, 2000, 5.0, 1.0);
    add_event(zero, 2000, 25.0, 1.0);
    assert_int_equal(disco_tempo_estimate(zero, 30, FR, NULL, &t, NULL), DISCO_OK);
    assert_near(t.bpm, 0.0, 0.0);
    assert_int_equal(disco_tempo_estimate(NULL, 0, FR, NULL, &t, NULL), DISCO_OK);
    assert_near(t.bpm, 0.0, 0.0);
}

static void test_tempo_bad_input(void **state)
{
    disco_tempo_config c = disco_tempo_config_default();
    float env[500] = {0};
    disco_tempo t;
    disco_status st;

    (void)state;
    disco_status_clear(&st);
    c.min_bpm = 0.0;
    assert_int_equal(disco_tempo_estimate(env, 500, FR, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "min_bpm");
    c = disco_tempo_config_default();
    c.max_bpm = 50.0;
    assert_int_equal(disco_tempo_estimate(env, 500, FR, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "max_bpm");
    assert_non_null(strstr(st.msg, "max_bpm 50"));
    c = disco_tempo_config_default();
    c.std_octaves = 0.0;
    assert_int_equal(disco_tempo_estimate(env, 500, FR, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "std_octaves");
    c = disco_tempo_config_default();
    c.start_bpm = NAN;
    assert_int_equal(disco_tempo_estimate(env, 500, FR, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "start_bpm");
    c = disco_tempo_config_default();
    assert_int_equal(disco_tempo_estimate(env, 500, -1.0, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "frame_rate");
    env[7] = NAN;
    assert_int_equal(disco_tempo_estimate(env, 500, FR, &c, &t, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "env");
    assert_non_null(strstr(st.msg, "env[7]"));
}

/* --- beats ------------------------------------------------------------------- */

static void check_beats(double bpm)
{
    double start = 2.0, seconds = 24.0, *times, ref[200];
    size_t n, count, nref = 0;
    float *env = synth(ROCK, bpm, start, seconds, 2.0, &n);

    for (double t = start; t < start + seconds - 1e-9; t += 60.0 / bpm)
        ref[nref++] = t;
    assert_int_equal(disco_beat_track(env, n, FR, bpm, 100.0, &times, &count, NULL), DISCO_OK);
    double f = f_measure(times, count, ref, nref, 0.07);

    if (f < 0.95)
        fail_msg("%.0f BPM: beat F = %.3f (%zu beats, %zu true)", bpm, f, count, nref);
    /* The silent 2 s before and after carry no beats. */
    assert_true(times[0] > start - 0.1);
    assert_true(times[count - 1] < start + seconds + 0.1);
    free(times);
    free(env);
}

static void test_beats_on_events(void **state)
{
    (void)state;
    rng_state = 17;
    check_beats(72.0);
    check_beats(100.0);
    check_beats(128.0);
    check_beats(163.0);
    check_beats(188.0);
}

static void test_beats_edges(void **state)
{
    float env[400] = {0};
    double *times = (double *)1;
    size_t count = 3;
    disco_status st;

    (void)state;
    assert_int_equal(disco_beat_track(env, 400, FR, 120.0, 100.0, &times, &count, NULL), DISCO_OK);
    assert_null(times); /* silence */
    assert_int_equal(count, 0);
    add_event(env, 400, 100.0, 1.0);
    assert_int_equal(disco_beat_track(env, 400, FR, 0.0, 100.0, &times, &count, NULL), DISCO_OK);
    assert_null(times); /* no tempo */

    disco_status_clear(&st);
    assert_int_equal(disco_beat_track(env, 400, FR, 2000.0, 100.0, &times, &count, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "bpm");
    assert_int_equal(disco_beat_track(env, 400, FR, -5.0, 100.0, &times, &count, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_beat_track(env, 400, FR, 120.0, 0.0, &times, &count, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tightness");
    env[3] = NAN;
    assert_int_equal(disco_beat_track(env, 400, FR, 120.0, 100.0, &times, &count, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "env");
}

/* --- end to end: audio -> STFT power -> mel -> dB -> envelope ---------------- */

#define SR 22050
#define NFFT 2048
#define HOP 512

/* A click: a burst of noise decaying over ~20 ms. */
static void add_click(float *x, size_t n, double t, double amp)
{
    size_t s = (size_t)(t * SR);

    for (size_t i = 0; i < (size_t)(0.08 * SR) && s + i < n; i++)
        x[s + i] += (float)(amp * exp(-(double)i / (0.02 * SR)) * (2.0 * rng_uniform() - 1.0));
}

/* A hi-hat-like tick: differenced noise (high frequencies only), decaying over 5 ms. */
static void add_tick(float *x, size_t n, double t, double amp)
{
    size_t s = (size_t)(t * SR);
    double prev = 0.0;

    for (size_t i = 0; i < (size_t)(0.03 * SR) && s + i < n; i++) {
        double w = 2.0 * rng_uniform() - 1.0;

        x[s + i] += (float)(amp * exp(-(double)i / (0.005 * SR)) * (w - prev));
        prev = w;
    }
}

/* The streaming envelope of x, frames centred with reflect padding as in spectrum.h. */
static float *envelope_of(const float *x, size_t n, size_t *frames)
{
    disco_mel_config mc = disco_mel_config_default();
    disco_stft *s;
    disco_melbank *mb;
    disco_onset_env *o;

    assert_int_equal(disco_stft_new(NFFT, HOP, &s, NULL), DISCO_OK);
    assert_int_equal(disco_melbank_new(&mc, &mb, NULL), DISCO_OK);
    assert_int_equal(disco_onset_env_new(mc.n_mels, &o, NULL), DISCO_OK);
    size_t scratch_bytes = (disco_stft_scratch_floats(s) * sizeof(float) + 31) / 32 * 32;
    float *scratch = aligned_alloc(32, scratch_bytes), frame[NFFT], power[NFFT / 2 + 1];
    float mel[128], *env;

    assert_non_null(scratch);
    *frames = 1 + n / HOP;
    env = malloc(*frames * sizeof *env);
    assert_non_null(env);
    for (size_t f = 0; f < *frames; f++) {
        for (long k = 0; k < NFFT; k++) {
            long i = (long)(f * HOP) + k - NFFT / 2;

            i = i < 0 ? -i : i;
            i = i >= (long)n ? 2 * (long)n - 2 - i : i;
            frame[k] = x[i];
        }
        disco_stft_power(s, frame, power, scratch);
        disco_melbank_apply(mb, power, mel);
        disco_power_to_db(mel, mc.n_mels);
        env[f] = disco_onset_env_push(o, mel);
    }
    free(scratch);
    disco_onset_env_free(o);
    disco_melbank_free(mb);
    disco_stft_free(s);
    return env;
}

static void test_end_to_end_clicks(void **state)
{
    size_t n = (size_t)(20.0 * SR), frames, count, nref = 0;
    float *x = calloc(n, sizeof *x), *env;
    double ref[200], *times, t = 0.5;
    disco_tempo tempo;

    (void)state;
    assert_non_null(x);
    rng_state = 33;
    /* Irregular clicks: onsets. */
    while ((t += 0.1 + 0.4 * rng_uniform()) < 19.5) {
        ref[nref++] = t;
        add_click(x, n, t, 0.2 + 0.6 * rng_uniform());
    }
    for (size_t i = 0; i < n; i++)
        x[i] += (float)(1e-4 * rng_gauss());
    env = envelope_of(x, n, &frames);
    assert_int_equal(disco_onset_detect(env, frames, (double)SR / HOP, NULL, &times, &count, NULL),
                     DISCO_OK);
    double f = f_measure(times, count, ref, nref, 0.05);

    if (f < 0.95)
        fail_msg("clicks: onset F = %.3f (%zu detected, %zu true)", f, count, nref);
    free(times);
    free(env);

    /* A beat of broadband clicks at 132 BPM with hi-hat ticks on the off-beats: tempo. */
    memset(x, 0, n * sizeof *x);
    for (int k = 0; 0.5 + k * 30.0 / 132.0 < 19.5; k++) {
        if (k % 2)
            add_tick(x, n, 0.5 + k * 30.0 / 132.0, 0.3);
        else
            add_click(x, n, 0.5 + k * 30.0 / 132.0, k % 8 == 0 ? 0.8 : 0.6);
    }
    env = envelope_of(x, n, &frames);
    assert_int_equal(disco_tempo_estimate(env, frames, (double)SR / HOP, NULL, &tempo, NULL),
                     DISCO_OK);
    assert_near(tempo.bpm, 132.0, 132.0 * 0.04);
    free(env);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_onset_env_stream),
        cmocka_unit_test(test_onset_detect_percussive),
        cmocka_unit_test(test_onset_detect_edges),
        cmocka_unit_test(test_tempo_patterns),
        cmocka_unit_test(test_tempo_precision),
        cmocka_unit_test(test_tempo_alternative),
        cmocka_unit_test(test_tempo_silence_and_short),
        cmocka_unit_test(test_tempo_bad_input),
        cmocka_unit_test(test_beats_on_events),
        cmocka_unit_test(test_beats_edges),
        cmocka_unit_test(test_end_to_end_clicks),
    };

    return cmocka_run_group_tests_name("dsp/rhythm", tests, NULL, NULL);
}
