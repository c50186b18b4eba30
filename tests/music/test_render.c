/*
 * test_render.c - FluidSynth note rendering: an A4 note has its energy at
 * 440 Hz and starts where asked, notes end at their note-off, a drum hit on
 * channel 9 sounds, output length rules (tail, length_s, empty list), the
 * same input renders the same samples (also from two threads at once), and
 * every validation error names its input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/render.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"

#define RATE 44100

/* Dry, short-tailed config: what reaches the output is the notes alone. */
static disco_render_config dry(void)
{
    disco_render_config c = disco_render_config_default();

    c.reverb = 0;
    c.chorus = 0;
    c.tail_s = 0.5;
    return c;
}

/* Mid (L+R)/2 of frames [from, to). */
static double *mid(const float *buf, size_t from, size_t to)
{
    double *m = malloc((to - from) * sizeof *m);

    assert_non_null(m);
    for (size_t i = from; i < to; i++)
        m[i - from] = 0.5 * ((double)buf[2 * i] + (double)buf[2 * i + 1]);
    return m;
}

/* Goertzel power at `hz` over x[n] (Hann-windowed), normalised by n. */
static double goertzel(const double *x, size_t n, double hz)
{
    double w = 2.0 * M_PI * hz / RATE, c = 2.0 * cos(w), s1 = 0.0, s2 = 0.0;

    for (size_t i = 0; i < n; i++) {
        double win = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
        double s0 = x[i] * win + c * s1 - s2;

        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - c * s1 * s2) / (double)n;
}

static double energy(const float *buf, size_t from, size_t to)
{
    double e = 0.0;

    for (size_t i = 2 * from; i < 2 * to; i++)
        e += (double)buf[i] * (double)buf[i];
    return e / (double)(to - from);
}

/* First frame whose |sample| exceeds `frac` of the peak over the buffer. */
static size_t first_sound(const float *buf, size_t frames, double frac)
{
    double peak = 0.0;

    for (size_t i = 0; i < 2 * frames; i++)
        peak = fmax(peak, fabs((double)buf[i]));
    assert_true(peak > 0.0);
    for (size_t i = 0; i < 2 * frames; i++)
        if (fabs((double)buf[i]) > frac * peak)
            return i / 2;
    return frames;
}

static void test_a4_pitch_and_onset(void **state)
{
    disco_render_config c = dry();
    disco_note a4 = {.start_s = 0.5, .dur_s = 1.0, .channel = 0, .pitch = 69, .velocity = 100};
    float *buf;
    size_t frames, on;
    double *m, p440;

    (void)state;
    assert_int_equal(disco_render_notes(&a4, 1, &c, &buf, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, (size_t)(2.0 * RATE)); /* 0.5 + 1.0 + 0.5 tail */
    on = first_sound(buf, frames, 1e-3);
    assert_true(on + RATE / 100 >= RATE / 2 && on <= RATE / 2 + RATE / 100);
    assert_true(energy(buf, 0, RATE / 2 - RATE / 100) == 0.0);
    assert_true(energy(buf, RATE / 2, RATE) > 1e-4);

    m = mid(buf, RATE / 2, RATE / 2 + RATE / 2);
    p440 = goertzel(m, RATE / 2, 440.0);
    assert_true(p440 > 30.0 * goertzel(m, RATE / 2, 415.30)); /* G#4 */
    assert_true(p440 > 30.0 * goertzel(m, RATE / 2, 466.16)); /* A#4 */
    assert_true(p440 > 30.0 * goertzel(m, RATE / 2, 349.23)); /* F4 */
    free(m);
    free(buf);
}

/* A note at a time that is not a multiple of FluidSynth's 64-frame block. */
static void test_onset_off_grid(void **state)
{
    disco_render_config c = dry();
    disco_note n = {.start_s = 0.7371, .dur_s = 0.3, .channel = 3, .pitch = 60, .velocity = 90};
    size_t want = (size_t)llround(0.7371 * RATE), frames, on;
    float *buf;

    (void)state;
    c.programs[3] = 11; /* vibraphone */
    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, NULL), DISCO_OK);
    on = first_sound(buf, frames, 1e-3);
    assert_true(on + 64 >= want && on <= want + 64 + RATE / 200);
    free(buf);
}

/* An organ sustains until its note-off, then falls silent within the tail unless reverb is on. */
static void test_note_off_ends_sound(void **state)
{
    disco_render_config c = dry();
    disco_note n = {.start_s = 0.1, .dur_s = 0.4, .channel = 0, .pitch = 60, .velocity = 100};
    size_t frames;
    float *buf;
    double during, after;

    (void)state;
    c.programs[0] = 19; /* church organ */
    c.tail_s = 1.0;
    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, (size_t)(1.5 * RATE));
    during = energy(buf, (size_t)(0.3 * RATE), (size_t)(0.5 * RATE));
    after = energy(buf, (size_t)(1.1 * RATE), frames);
    assert_true(during > 1e-4);
    assert_true(after < during * 1e-3);
    free(buf);
    /* With the reverb on, the room rings on after the note-off. */
    c.reverb = 1;
    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, NULL), DISCO_OK);
    assert_true(energy(buf, (size_t)(0.6 * RATE), (size_t)(0.9 * RATE)) > 10.0 * after);
    free(buf);
}

static void test_drum_hit(void **state)
{
    disco_render_config c = dry();
    disco_note hits[] = {
        {.start_s = 0.2, .dur_s = 0.1, .channel = 9, .pitch = 38, .velocity = 110}, /* snare */
        {.start_s = 0.8, .dur_s = 0.1, .channel = 9, .pitch = 36, .velocity = 110}, /* kick */
    };
    size_t frames, on;
    float *buf;
    double *m;

    (void)state;
    assert_int_equal(disco_render_notes(hits, 2, &c, &buf, &frames, NULL), DISCO_OK);
    on = first_sound(buf, frames, 1e-3);
    assert_true(on + RATE / 100 >= RATE / 5 && on <= RATE / 5 + RATE / 100);
    assert_true(energy(buf, RATE / 5, RATE / 5 + RATE / 10) > 1e-4);
    assert_true(energy(buf, (size_t)(0.8 * RATE), (size_t)(0.9 * RATE)) > 1e-4);
    /* The snare is broadband: plenty of energy near 3 kHz; the kick is not. */
    m = mid(buf, RATE / 5, RATE / 5 + 4096);
    assert_true(goertzel(m, 4096, 3000.0) > 1e-6);
    free(m);
    free(buf);
}

static void test_lengths(void **state)
{
    disco_render_config c = dry();
    disco_note n = {.start_s = 0.0, .dur_s = 2.0, .channel = 0, .pitch = 48, .velocity = 80};
    disco_status st = {0};
    static float sentinel;
    size_t frames = 99;
    float *buf = &sentinel;

    (void)state;
    /* Empty list: INVAL unless length_s asks for silence. */
    assert_int_equal(disco_render_notes(NULL, 0, &c, &buf, &frames, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "notes");
    assert_null(buf);
    assert_int_equal(frames, 0);
    c.length_s = 0.25;
    assert_int_equal(disco_render_notes(NULL, 0, &c, &buf, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, RATE / 4);
    assert_true(energy(buf, 0, frames) == 0.0);
    free(buf);
    /* length_s cuts a longer note. */
    c.length_s = 1.0;
    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, RATE);
    assert_true(energy(buf, RATE / 2, RATE) > 1e-5);
    free(buf);
    /* Other rates. */
    c = dry();
    c.rate = 22050;
    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, (size_t)(2.5 * 22050));
    free(buf);
}

typedef struct job {
    float *buf;
    size_t frames;
    int rc;
} job;

static const disco_note tune[] = {
    {0.00, 0.30, 0, 60, 90},  {0.25, 0.30, 0, 64, 80},  {0.50, 0.30, 0, 67, 85},
    {0.50, 0.60, 1, 36, 100}, {0.00, 0.10, 9, 36, 120}, {0.50, 0.10, 9, 38, 110},
    {0.75, 0.40, 0, 72, 70},  {0.75, 0.40, 0, 72, 70}, /* a duplicate: same frame, same key */
};

static void *render_job(void *arg)
{
    job *j = arg;
    disco_render_config c = disco_render_config_default(); /* reverb on: still deterministic */

    c.programs[1] = 33;
    j->rc = disco_render_notes(tune, sizeof tune / sizeof tune[0], &c, &j->buf, &j->frames, NULL);
    return NULL;
}

static void test_deterministic_and_concurrent(void **state)
{
    pthread_t th[2];
    job jobs[3] = {{0}};

    (void)state;
    render_job(&jobs[0]);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_job, &jobs[i + 1]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(jobs[i].rc, DISCO_OK);
        assert_int_equal(jobs[i].frames, jobs[0].frames);
        assert_memory_equal(jobs[i].buf, jobs[0].buf, 2 * jobs[0].frames * sizeof(float));
    }
    assert_int_equal(jobs[0].frames, (size_t)llround(2.15 * RATE)); /* 1.15 + 1.0 tail */
    assert_true(energy(jobs[0].buf, 0, jobs[0].frames) > 1e-5);
    for (int i = 0; i < 3; i++)
        free(jobs[i].buf);
}

/* Renders one bad note at index 1 and checks the code, field and message. */
static void expect_bad_note(disco_note bad, int code, const char *field, const char *msg)
{
    disco_note notes[2] = {{0.0, 0.5, 0, 60, 100}, bad};
    disco_render_config c = dry();
    disco_status st = {0};
    float *buf;
    size_t frames;

    assert_int_equal(disco_render_notes(notes, 2, &c, &buf, &frames, &st), code);
    assert_string_equal(st.field, field);
    if (!strstr(st.msg, msg))
        fail_msg("message \"%s\" lacks \"%s\"", st.msg, msg);
    assert_null(buf);
}

static void test_bad_notes(void **state)
{
    disco_note ok = {0.0, 0.5, 0, 60, 100}, b;

    (void)state;
    b = ok, b.pitch = 130;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].pitch", "notes[1].pitch: 130 is outside 0..127");
    b = ok, b.pitch = -1;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].pitch", "-1 is outside 0..127");
    b = ok, b.velocity = 0;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].velocity", "0 is outside 1..127");
    b = ok, b.velocity = 128;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].velocity", "128 is outside 1..127");
    b = ok, b.channel = 16;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].channel", "16 is outside 0..15");
    b = ok, b.start_s = -0.1;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].start_s", "not a finite time >= 0");
    b = ok, b.start_s = NAN;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].start_s", "not a finite time");
    b = ok, b.dur_s = 0.0;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].dur_s", "not a finite duration > 0");
    b = ok, b.dur_s = INFINITY;
    expect_bad_note(b, DISCO_ERR_INVAL, "notes[1].dur_s", "not a finite duration");
    b = ok, b.start_s = 4000.0;
    expect_bad_note(b, DISCO_ERR_LIMIT, "notes[1].dur_s", "beyond");
}

static void expect_bad_config(disco_render_config c, int code, const char *field, const char *msg)
{
    disco_note n = {0.0, 0.5, 0, 60, 100};
    disco_status st = {0};
    float *buf;
    size_t frames = 7;

    assert_int_equal(disco_render_notes(&n, 1, &c, &buf, &frames, &st), code);
    assert_string_equal(st.field, field);
    if (!strstr(st.msg, msg))
        fail_msg("message \"%s\" lacks \"%s\"", st.msg, msg);
    assert_null(buf);
    assert_int_equal(frames, 0);
}

static void test_bad_config(void **state)
{
    disco_render_config c;
    char *dir = tu_tmpdir("render"), *junk = tu_path(dir, "junk.sf2");

    (void)state;
    c = dry(), c.rate = 1000;
    expect_bad_config(c, DISCO_ERR_INVAL, "rate", "1000 Hz is outside 8000..96000");
    c = dry(), c.gain = -1.0;
    expect_bad_config(c, DISCO_ERR_INVAL, "gain", "-1 is outside 0..10");
    c = dry(), c.gain = NAN;
    expect_bad_config(c, DISCO_ERR_INVAL, "gain", "outside 0..10");
    c = dry(), c.tail_s = -1.0;
    expect_bad_config(c, DISCO_ERR_INVAL, "tail_s", "outside");
    c = dry(), c.length_s = 1e9;
    expect_bad_config(c, DISCO_ERR_LIMIT, "length_s", "beyond");
    c = dry(), c.programs[3] = 128;
    expect_bad_config(c, DISCO_ERR_INVAL, "programs[3]", "programs[3]: 128 is outside 0..127");
    c = dry(), c.soundfont = "/nonexistent/dir/none.sf2";
    expect_bad_config(c, DISCO_ERR_NOTFOUND, "soundfont", "/nonexistent/dir/none.sf2");
    assert_int_equal(tu_write_file(junk, "RIFF\4\0\0\0WAVEdata", 16), 0);
    c = dry(), c.soundfont = junk;
    expect_bad_config(c, DISCO_ERR_CORRUPT, "soundfont", "not a SoundFont 2 file");
    c = dry(), c.soundfont = dir;
    expect_bad_config(c, DISCO_ERR_INVAL, "soundfont", "Is a directory");
    free(junk);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a4_pitch_and_onset),
        cmocka_unit_test(test_onset_off_grid),
        cmocka_unit_test(test_note_off_ends_sound),
        cmocka_unit_test(test_drum_hit),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_deterministic_and_concurrent),
        cmocka_unit_test(test_bad_notes),
        cmocka_unit_test(test_bad_config),
    };

    return cmocka_run_group_tests_name("music/render", tests, NULL, NULL);
}
