/*
 * test_analyze.c - the one-pass analysis: what it reports on signals with
 * a known answer, that file and memory give the same result, odd rates,
 * frame counts, silence, bad configs and cancellation.
 */
#include "disco/audio_analysis.h"
#include "support/testutil.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Clicks (decaying noise bursts) at `bpm` over an A minor chord, `secs` long. */
static disco_audio clicks_over_chord(double bpm, double secs, int rate, int channels)
{
    disco_audio a;
    assert_int_equal(disco_audio_alloc(&a, (size_t)(secs * rate), channels, rate, NULL), 0);
    const double chord[] = {220.0, 261.63, 329.63, 440.0};
    size_t period = (size_t)(60.0 / bpm * rate);
    uint32_t s = 12345;
    for (size_t i = 0; i < a.frames; i++) {
        double v = 0;
        for (int k = 0; k < 4; k++)
            v += 0.05 * sin(2 * M_PI * chord[k] * (double)i / rate);
        size_t ph = i % period;
        s = s * 1664525u + 1013904223u;
        if (ph < (size_t)(0.03 * rate))
            v += 0.6 * exp(-(double)ph / (0.005 * rate)) * ((double)(s >> 8) / 8388608.0 - 1.0);
        for (int c = 0; c < channels; c++)
            a.data[i * (size_t)channels + (size_t)c] = (float)v;
    }
    return a;
}

static void test_known_signal(void **state)
{
    (void)state;
    disco_audio a = clicks_over_chord(120.0, 12.0, 44100, 2);
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_analysis_report r;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, NULL), 0);
    assert_true(fabs(r.tempo.bpm - 120.0) < 120.0 * 0.04);
    assert_int_equal(r.key.tonic, 9); /* A */
    assert_int_equal(r.key.minor, 1);
    assert_true(r.n_onsets >= 20 && r.n_onsets <= 26);
    assert_true(r.n_beats >= 18);
    assert_true(isfinite(r.loudness.integrated_lufs));
    assert_true(fabs(r.character.stereo_correlation - 1.0) < 1e-6);
    assert_int_equal(r.frames.count, 1 + (size_t)(12.0 * 22050) / 512);
    assert_non_null(r.frames.onset_env);
    assert_null(r.frames.mfcc);
    disco_analysis_report_release(&r);
    disco_audio_release(&a);
}

/* A file read through the streaming reader gives what the signal in memory gives. */
static void test_file_equals_memory(void **state)
{
    (void)state;
    char *dir = tu_tmpdir("analyze"), *path = tu_path(dir, "a.wav");
    disco_audio a = clicks_over_chord(96.0, 8.0, 48000, 1);
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_WAV32F, NULL), 0);
    disco_analysis_config cfg = disco_analysis_config_default();
    cfg.keep_frames = 1;
    disco_analysis_report m, f;
    disco_audio_reader *r = NULL;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &m, NULL), 0);
    assert_int_equal(disco_audio_reader_open(path, &r, NULL), 0);
    assert_int_equal(disco_audio_analyze(r, &cfg, NULL, &f, NULL), 0);
    assert_int_equal(m.frames.count, f.frames.count);
    assert_true(m.tempo.bpm == f.tempo.bpm);
    assert_true(m.loudness.integrated_lufs == f.loudness.integrated_lufs);
    for (size_t i = 0; i < m.frames.count * cfg.n_mfcc; i++)
        assert_true(m.frames.mfcc[i] == f.frames.mfcc[i]);
    assert_string_equal(f.info.format, "wav");
    disco_audio_reader_close(r);
    disco_analysis_report_release(&m);
    disco_analysis_report_release(&f);
    disco_audio_release(&a);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

/* A rate no polyphase table covers (7919 Hz) still analyses, through libsamplerate. */
static void test_odd_rate(void **state)
{
    (void)state;
    disco_audio a = clicks_over_chord(100.0, 8.0, 7919, 1);
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_analysis_report r;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, NULL), 0);
    assert_true(fabs(r.tempo.bpm - 100.0) < 4.0);
    size_t n = (size_t)(8.0 * 22050);
    assert_true(r.frames.count >= 1 + (n - 64) / 512 && r.frames.count <= 1 + (n + 64) / 512);
    disco_analysis_report_release(&r);
    disco_audio_release(&a);
}

static void test_silence(void **state)
{
    (void)state;
    disco_audio a;
    assert_int_equal(disco_audio_alloc(&a, 44100 * 3, 2, 44100, NULL), 0);
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_analysis_report r;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, NULL), 0);
    assert_true(r.loudness.integrated_lufs == -HUGE_VAL);
    assert_int_equal(r.key.tonic, -1);
    assert_true(r.tempo.bpm == 0.0);
    assert_int_equal(r.n_onsets, 0);
    disco_analysis_report_release(&r);
    disco_audio_release(&a);
}

static void test_bad_config(void **state)
{
    (void)state;
    disco_audio a = clicks_over_chord(120.0, 1.0, 22050, 1);
    disco_analysis_report r;
    disco_status st = {0};
    disco_analysis_config cfg = disco_analysis_config_default();
    cfg.n_fft = 1000;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "n_fft");
    cfg = disco_analysis_config_default();
    cfg.n_mfcc = 41;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "n_mfcc");
    cfg = disco_analysis_config_default();
    cfg.hop = 4096;
    assert_int_equal(disco_audio_analyze_signal(&a, &cfg, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "hop");
    disco_audio_release(&a);
}

static int stop_now(void *user, const char *stage, uint64_t done, uint64_t total)
{
    (void)stage;
    (void)total;
    *(uint64_t *)user = done;
    return 1;
}

static void test_cancel(void **state)
{
    (void)state;
    char *dir = tu_tmpdir("analyze"), *path = tu_path(dir, "a.flac");
    disco_audio a = clicks_over_chord(120.0, 5.0, 44100, 2);
    assert_int_equal(disco_audio_save(path, &a, DISCO_AUDIO_FLAC16, NULL), 0);
    uint64_t seen = 0;
    disco_progress prog = {.fn = stop_now, .user = &seen};
    disco_audio_reader *r = NULL;
    disco_analysis_config cfg = disco_analysis_config_default();
    disco_analysis_report rep;
    disco_status st = {0};
    assert_int_equal(disco_audio_reader_open(path, &r, NULL), 0);
    assert_int_equal(disco_audio_analyze(r, &cfg, &prog, &rep, &st), DISCO_ERR_CANCELLED);
    assert_true(seen > 0);
    assert_null(rep.beats);
    disco_audio_reader_close(r);
    disco_audio_release(&a);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_signal), cmocka_unit_test(test_file_equals_memory),
        cmocka_unit_test(test_odd_rate),     cmocka_unit_test(test_silence),
        cmocka_unit_test(test_bad_config),   cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
