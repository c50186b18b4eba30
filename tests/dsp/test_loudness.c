/*
 * test_loudness.c - loudness against BS.1770's reference values (a 997 Hz
 * full-scale sine in one channel reads -3.01 LUFS; a -20 dBFS 1 kHz sine in
 * both stereo channels reads -20.0), silence, momentary and short-term
 * maxima (a burst; libebur128's own windows), true against sample peak,
 * the 5.0/5.1 channel weights, streaming in odd blocks, bad input; and the
 * sample-level characteristics: DC offset, clipping runs, silent head and
 * tail, stereo correlation, RMS.
 */
#include "disco/loudness.h"

#include <ebur128.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

/* amp * sin(2 pi f t + phase) in the channels whose bit is set in `mask`, zero elsewhere. */
static void tone(disco_audio *a, double seconds, int channels, int rate, double f, double amp,
                 double phase, unsigned mask)
{
    size_t frames = (size_t)(seconds * rate + 0.5);

    assert_int_equal(disco_audio_alloc(a, frames, channels, rate, NULL), DISCO_OK);
    for (size_t i = 0; i < frames; i++) {
        float x = (float)(amp * sin(2 * M_PI * f * (double)i / rate + phase));

        for (int c = 0; c < channels; c++)
            a->data[i * channels + c] = (mask >> c) & 1 ? x : 0.0f;
    }
}

static disco_loudness measure(const disco_audio *a, int mode)
{
    disco_loudness l;
    disco_status st = {0};

    assert_int_equal(disco_loudness_measure(a, mode, &l, &st), DISCO_OK);
    return l;
}

static void test_reference_sine_mono(void **state)
{
    disco_audio a;
    disco_loudness l;

    (void)state;
    tone(&a, 5.0, 1, 48000, 997.0, 1.0, 0.0, 1);
    l = measure(&a, DISCO_LOUDNESS_FAST);
    assert_near(l.integrated_lufs, -3.01, 0.05);
    assert_near(l.sample_peak_dbfs, 0.0, 0.01);
    disco_audio_release(&a);
}

static void test_stereo_sine_at_minus_20(void **state)
{
    disco_audio a;
    disco_loudness l, f;

    (void)state;
    /* -0.691 + 10 log10(2 * 0.1^2 / 2) + 0.691 (K gain at 1 kHz) = -20.0 LUFS */
    tone(&a, 20.0, 2, 48000, 1000.0, 0.1, 0.0, 3);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_near(l.integrated_lufs, -20.0, 0.1);
    assert_near(l.momentary_max, -20.0, 0.1);
    assert_near(l.short_term_max, -20.0, 0.1);
    assert_near(l.range_lu, 0.0, 0.1);
    assert_near(l.sample_peak_dbfs, -20.0, 0.01);
    assert_near(l.true_peak_dbtp, -20.0, 0.1);
    f = measure(&a, DISCO_LOUDNESS_FAST);
    assert_near(f.integrated_lufs, l.integrated_lufs, 1e-9);
    assert_near(f.momentary_max, l.momentary_max, 1e-9);
    assert_true(isnan(f.range_lu) && isnan(f.short_term_max) && isnan(f.true_peak_dbtp));
    disco_audio_release(&a);
}

static void test_silence(void **state)
{
    disco_audio a;
    disco_loudness l;

    (void)state;
    assert_int_equal(disco_audio_alloc(&a, 48000 * 5, 2, 48000, NULL), DISCO_OK);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_true(l.integrated_lufs == -HUGE_VAL);
    assert_true(isnan(l.range_lu));
    assert_true(l.momentary_max == -HUGE_VAL && l.short_term_max == -HUGE_VAL);
    assert_true(l.sample_peak_dbfs == -HUGE_VAL && l.true_peak_dbtp == -HUGE_VAL);
    disco_audio_release(&a);
}

static void test_burst_maxima_and_short_file(void **state)
{
    disco_audio a;
    disco_loudness l;

    (void)state;
    /* 1 s of tone in 6 s: the 400 ms windows see it whole, the 3 s ones a third of it. */
    tone(&a, 6.0, 2, 48000, 1000.0, 0.1, 0.0, 3);
    memset(a.data, 0, 48000 * 2 * 2 * sizeof(float));
    memset(a.data + 48000 * 2 * 3, 0, 48000 * 3 * 2 * sizeof(float));
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_near(l.momentary_max, -20.0, 0.1);
    assert_near(l.short_term_max, -20.0 - 10 * log10(3.0), 0.1);
    /* 13 gating blocks touch the tone: 7 whole, 2 each at 3/4, 1/2, 1/4 of it; none gated. */
    assert_near(l.integrated_lufs, -20.0 + 10 * log10(10.0 / 13.0), 0.1);
    disco_audio_release(&a);

    tone(&a, 1.0, 2, 44100, 1000.0, 0.1, 0.0, 3);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_near(l.momentary_max, -20.0, 0.1);
    assert_true(l.short_term_max == -HUGE_VAL);
    assert_true(isnan(l.range_lu));
    disco_audio_release(&a);

    tone(&a, 0.3, 1, 44100, 1000.0, 0.1, 0.0, 1);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_true(l.momentary_max == -HUGE_VAL && l.integrated_lufs == -HUGE_VAL);
    assert_near(l.sample_peak_dbfs, -20.0, 0.01);
    disco_audio_release(&a);
}

/* The maxima equal libebur128's own momentary/short-term values read every 100 ms. */
static void test_maxima_match_libebur128(void **state)
{
    disco_audio a;
    disco_loudness l;
    ebur128_state *s;
    double m_max = -HUGE_VAL, s_max = -HUGE_VAL, v;
    size_t steps = 0;

    (void)state;
    rng_state = 3;
    tone(&a, 10.0, 2, 48000, 300.0, 0.5, 0.0, 1);
    for (size_t i = 0; i < a.frames; i++) {
        double env = pow(0.5 + 0.5 * sin(2 * M_PI * (double)i / (48000 * 4.1)), 3.0);

        a.data[2 * i] *= (float)env;
        a.data[2 * i + 1] = (float)(0.2 * env * rng_gauss());
    }
    l = measure(&a, DISCO_LOUDNESS_ALL);
    s = ebur128_init(2, 48000, EBUR128_MODE_S);
    for (size_t at = 0; at + 4800 <= a.frames; at += 4800) {
        assert_int_equal(ebur128_add_frames_float(s, a.data + 2 * at, 4800), EBUR128_SUCCESS);
        if (++steps >= 4 && ebur128_loudness_momentary(s, &v) == EBUR128_SUCCESS)
            m_max = fmax(m_max, v);
        if (steps >= 30 && ebur128_loudness_shortterm(s, &v) == EBUR128_SUCCESS)
            s_max = fmax(s_max, v);
    }
    assert_near(l.momentary_max, m_max, 1e-6);
    assert_near(l.short_term_max, s_max, 1e-6);
    assert_true(l.momentary_max > l.short_term_max + 1.0);
    ebur128_destroy(&s);
    disco_audio_release(&a);
}

static void test_true_peak(void **state)
{
    disco_audio a;
    disco_loudness l;

    (void)state;
    tone(&a, 2.0, 1, 48000, 997.0, 0.5, 0.0, 1);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_near(l.true_peak_dbtp, -6.02, 0.02);
    disco_audio_release(&a);

    /* fs/4 at 45 degrees: samples sit at +-0.5/sqrt(2), the wave peaks between them. */
    tone(&a, 2.0, 1, 48000, 12000.0, 0.5, M_PI / 4, 1);
    l = measure(&a, DISCO_LOUDNESS_ALL);
    assert_near(l.sample_peak_dbfs, -9.03, 0.01);
    assert_true(l.true_peak_dbtp > l.sample_peak_dbfs + 2.0);
    assert_near(l.true_peak_dbtp, -6.02, 0.15);
    disco_audio_release(&a);
}

static double loudness_of(int channels, unsigned mask)
{
    disco_audio a;
    disco_loudness l;

    tone(&a, 3.0, channels, 48000, 1000.0, 0.1, 0.0, mask);
    l = measure(&a, DISCO_LOUDNESS_FAST);
    disco_audio_release(&a);
    return l.integrated_lufs;
}

static void test_channel_weights(void **state)
{
    double front;

    (void)state;
    front = loudness_of(6, 1u << 0);
    assert_near(loudness_of(6, 1u << 2), front, 1e-6);
    assert_true(loudness_of(6, 1u << 3) == -HUGE_VAL); /* LFE */
    assert_near(loudness_of(6, 1u << 4), front + 10 * log10(1.41), 1e-6);
    assert_near(loudness_of(6, 1u << 5), front + 10 * log10(1.41), 1e-6);
    assert_near(loudness_of(5, 1u << 3), front + 10 * log10(1.41), 1e-6);
    assert_near(loudness_of(4, 1u << 3), front, 1e-6);
    assert_near(loudness_of(8, 1u << 7), front, 1e-6);
}

static void test_streaming_in_odd_blocks(void **state)
{
    static const size_t sizes[] = {1, 333, 4799, 17, 9600};
    disco_audio a;
    disco_loudness whole, part;
    disco_loudness_meter *m;
    disco_status st = {0};
    size_t at = 0;

    (void)state;
    tone(&a, 5.0, 2, 44100, 440.0, 0.3, 0.0, 1);
    for (size_t i = 0; i < a.frames; i++)
        a.data[2 * i + 1] = (float)(0.2 * sin((double)i * 0.001) * (double)(i % 1000) / 1000.0);
    whole = measure(&a, DISCO_LOUDNESS_ALL);
    assert_int_equal(disco_loudness_meter_new(2, 44100, DISCO_LOUDNESS_ALL, &m, &st), DISCO_OK);
    for (size_t k = 0; at < a.frames; k++) {
        size_t n = sizes[k % 5] < a.frames - at ? sizes[k % 5] : a.frames - at;

        assert_int_equal(disco_loudness_meter_add(m, a.data + 2 * at, n, &st), DISCO_OK);
        at += n;
    }
    assert_int_equal(disco_loudness_meter_result(m, &part, &st), DISCO_OK);
    assert_near(part.integrated_lufs, whole.integrated_lufs, 1e-9);
    assert_near(part.momentary_max, whole.momentary_max, 1e-9);
    assert_near(part.short_term_max, whole.short_term_max, 1e-9);
    assert_near(part.range_lu, whole.range_lu, 1e-9);
    assert_near(part.true_peak_dbtp, whole.true_peak_dbtp, 1e-9);
    assert_int_equal(disco_loudness_meter_result(m, &part, &st), DISCO_OK);
    assert_near(part.integrated_lufs, whole.integrated_lufs, 1e-9);
    disco_loudness_meter_free(m);
    disco_audio_release(&a);
}

static void test_bad_input(void **state)
{
    float x[6] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.0f};
    disco_loudness_meter *m;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_loudness_meter_new(0, 48000, DISCO_LOUDNESS_ALL, &m, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "channels");
    assert_int_equal(disco_loudness_meter_new(2, 800, DISCO_LOUDNESS_ALL, &m, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "rate");
    assert_int_equal(disco_loudness_meter_new(2, 48000, 7, &m, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "mode");
    assert_null(m);
    assert_int_equal(disco_loudness_meter_new(2, 48000, DISCO_LOUDNESS_FAST, &m, &st), DISCO_OK);
    assert_int_equal(disco_loudness_meter_add(m, x, 2, &st), DISCO_OK);
    x[5] = NAN;
    assert_int_equal(disco_loudness_meter_add(m, x, 3, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "frame 4 channel 1"));
    disco_loudness_meter_free(m);
    disco_loudness_meter_free(NULL);
}

/* --- characteristics ------------------------------------------------------------- */

static disco_character character(const float *x, size_t frames, int channels, int rate,
                                 size_t block)
{
    disco_character_acc *c;
    disco_character out;

    assert_int_equal(disco_character_new(channels, rate, &c, NULL), DISCO_OK);
    for (size_t at = 0; at < frames; at += block)
        disco_character_add(c, x + at * channels, frames - at < block ? frames - at : block);
    disco_character_result(c, &out);
    disco_character_free(c);
    return out;
}

static void test_dc_offset_and_rms(void **state)
{
    disco_audio a;
    disco_character ch;

    (void)state;
    tone(&a, 1.0, 3, 8000, 100.0, 0.5, 0.0, 7);
    for (size_t i = 0; i < a.frames; i++) {
        a.data[3 * i] += 0.1f;
        a.data[3 * i + 1] -= 0.05f;
        a.data[3 * i + 2] -= 0.2f;
    }
    ch = character(a.data, a.frames, 3, 8000, 1000);
    assert_near(ch.duration_s, 1.0, 1e-12);
    assert_int_equal(ch.channels, 3);
    assert_near(ch.dc_offset[0], 0.1, 1e-6);
    assert_near(ch.dc_offset[1], -0.05, 1e-6);
    assert_near(ch.dc_offset_max, 0.2, 1e-6);
    disco_audio_release(&a);

    tone(&a, 1.0, 1, 8000, 100.0, 1.0, 0.0, 1);
    ch = character(a.data, a.frames, 1, 8000, 777);
    assert_near(ch.rms_dbfs, -3.0103, 1e-3);
    assert_near(ch.dc_offset[1], ch.dc_offset[0], 0);
    assert_true(isnan(ch.stereo_correlation));
    disco_audio_release(&a);
}

static void test_clipping_runs(void **state)
{
    /* runs of 2 (not counted), 3, 4 negative and 5; the block sizes cut them everywhere */
    static const float x[] = {1.0f,  1.0f, 0.5f, 1.0f, 0.9995f, 1.0f, 0.0f, -1.0f,  -1.0f, -1.0f,
                              -1.0f, 0.2f, 1.0f, 1.0f, 1.0f,    1.0f, 1.0f, 0.998f, 0.0f};
    size_t n = sizeof x / sizeof x[0];

    (void)state;
    for (size_t block = 1; block <= n; block++)
        assert_int_equal(character(x, n, 1, 8000, block).clipped_samples, 12);
}

static void test_silent_head_and_tail(void **state)
{
    size_t frames = 8000 * 2;
    float *x = calloc(frames, sizeof *x);
    disco_character ch;

    (void)state;
    for (size_t i = 4000; i < 12000; i++)
        x[i] = i % 2 ? 0.3f : -0.3f;
    for (size_t i = 14000; i < frames; i++)
        x[i] = 0.0009f;
    ch = character(x, frames, 1, 8000, 1500);
    assert_near(ch.silence_head_s, 0.5, 1e-12);
    assert_near(ch.silence_tail_s, 0.5, 1e-12);
    memset(x, 0, frames * sizeof *x);
    ch = character(x, frames, 1, 8000, 1500);
    assert_near(ch.silence_head_s, 2.0, 1e-12);
    assert_near(ch.silence_tail_s, 2.0, 1e-12);
    assert_true(ch.rms_dbfs == -HUGE_VAL);
    free(x);
}

static void test_stereo_correlation(void **state)
{
    size_t frames = 20000;
    float *x = malloc(frames * 2 * sizeof *x);
    disco_character ch;

    (void)state;
    rng_state = 5;
    for (size_t i = 0; i < frames; i++)
        x[2 * i] = x[2 * i + 1] = (float)(0.3 * rng_gauss() + 0.4);
    assert_near(character(x, frames, 2, 8000, 999).stereo_correlation, 1.0, 1e-9);
    for (size_t i = 0; i < frames; i++)
        x[2 * i + 1] = -x[2 * i];
    ch = character(x, frames, 2, 8000, 4096);
    assert_near(ch.stereo_correlation, -1.0, 1e-9);
    assert_near(ch.dc_offset[0], -ch.dc_offset[1], 1e-9);
    for (size_t i = 0; i < frames; i++)
        x[2 * i + 1] = (float)(0.3 * rng_gauss());
    assert_near(character(x, frames, 2, 8000, 333).stereo_correlation, 0.0, 0.03);
    memset(x, 0, frames * 2 * sizeof *x);
    assert_true(isnan(character(x, frames, 2, 8000, 333).stereo_correlation));
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_sine_mono),
        cmocka_unit_test(test_stereo_sine_at_minus_20),
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_burst_maxima_and_short_file),
        cmocka_unit_test(test_maxima_match_libebur128),
        cmocka_unit_test(test_true_peak),
        cmocka_unit_test(test_channel_weights),
        cmocka_unit_test(test_streaming_in_odd_blocks),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_dc_offset_and_rms),
        cmocka_unit_test(test_clipping_runs),
        cmocka_unit_test(test_silent_head_and_tail),
        cmocka_unit_test(test_stereo_correlation),
    };

    return cmocka_run_group_tests_name("dsp/loudness", tests, NULL, NULL);
}
