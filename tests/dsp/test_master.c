/*
 * test_master.c - mastering lands on every preset's loudness (+-0.2 LU) under
 * its true-peak ceiling for a quiet and a loud signal (noise + tones, 30 s),
 * both measured here with libebur128; the report agrees with libebur128;
 * reference mode moves the spectrum toward the reference's (band energies
 * before and after) and takes its loudness; presets, config and input
 * errors; a speed print.
 */
#include "disco/effects.h"
#include "disco/master.h"

#include <ebur128.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "support/tu_num.h"

#define RATE 44100

typedef struct ebu {
    double lufs, tp;
} ebu;

/* Integrated loudness and true peak (max over channels) by libebur128. */
static ebu ebu_measure(const disco_audio *a)
{
    ebur128_state *m = ebur128_init((unsigned)a->channels, (unsigned long)a->rate,
                                    EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK);
    ebu r = {0, 0};
    double v;

    assert_non_null(m);
    assert_int_equal(ebur128_add_frames_float(m, a->data, a->frames), EBUR128_SUCCESS);
    assert_int_equal(ebur128_loudness_global(m, &r.lufs), EBUR128_SUCCESS);
    for (int c = 0; c < a->channels; c++) {
        assert_int_equal(ebur128_true_peak(m, (unsigned)c, &v), EBUR128_SUCCESS);
        r.tp = fmax(r.tp, v);
    }
    r.tp = 20.0 * log10(r.tp);
    ebur128_destroy(&m);
    return r;
}

/*
 * Noise + tones: pink-ish noise, a bass line, a chord, hi-hat ticks and a
 * kick every half second, scaled by `amp`.
 */
static disco_audio program(double seconds, int channels, int rate, double amp, uint64_t seed)
{
    const size_t n = (size_t)(seconds * rate);
    disco_audio a = {calloc(n * (size_t)channels, sizeof(float)), n, channels, rate};
    double lp[2] = {0, 0}, ph = 0;

    assert_non_null(a.data);
    rng_state = seed;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate, tk = fmod(t, 0.5), th = fmod(t + 0.125, 0.25);
        double kick, tones;

        ph += 2 * M_PI * (50 + 90 * exp(-tk * 25)) / rate;
        kick = exp(-tk * 9) * sin(ph);
        tones = 0.3 * sin(2 * M_PI * 110 * t) * (0.6 + 0.4 * sin(2 * M_PI * 0.3 * t)) +
                0.12 * (sin(2 * M_PI * 440 * t) + sin(2 * M_PI * 554.4 * t) +
                        sin(2 * M_PI * 659.3 * t));
        for (int c = 0; c < channels; c++) {
            double hat = exp(-th * 80) * rng_gauss() * 0.25;

            lp[c % 2] = 0.97 * lp[c % 2] + 0.03 * rng_gauss();
            a.data[i * (size_t)channels + (size_t)c] =
                (float)(amp * (0.7 * kick + tones + hat + 0.8 * lp[c % 2]));
        }
    }
    return a;
}

/* Masters `in` with `cfg` and checks it against libebur128; returns the report. */
static disco_master_report master_and_check(const disco_audio *in, const disco_master_config *cfg,
                                            const disco_audio *ref, double target)
{
    disco_audio out;
    disco_master_report r;
    disco_status st = {0};
    ebu before = ebu_measure(in), after;
    int rc = disco_master_apply(in, cfg, ref, &out, &r, &st);

    if (rc != DISCO_OK)
        print_error("master: %s\n", st.msg);
    assert_int_equal(rc, DISCO_OK);
    assert_int_equal(out.frames, in->frames);
    assert_int_equal(out.channels, in->channels);
    assert_int_equal(out.rate, in->rate);
    after = ebu_measure(&out);
    assert_near(after.lufs, target, 0.2);
    if (after.tp > cfg->ceiling_dbtp)
        print_error("true peak %.4f over the ceiling %.2f\n", after.tp, cfg->ceiling_dbtp);
    assert_true(after.tp <= cfg->ceiling_dbtp);
    /* the report says what libebur128 says */
    assert_near(r.in_lufs, before.lufs, 0.01);
    assert_near(r.in_true_peak_db, before.tp, 0.01);
    assert_near(r.out_lufs, after.lufs, 0.01);
    assert_near(r.out_true_peak_db, after.tp, 0.01);
    assert_near(r.target_lufs, target, 1e-9);
    assert_true(r.converged);
    assert_true(r.iterations >= 1 && r.iterations <= cfg->max_iterations);
    assert_true(r.max_reduction_db >= 0.0 && r.glue_reduction_db >= 0.0);
    disco_audio_release(&out);
    return r;
}

static void test_presets_land_on_target(void **state)
{
    static const double amps[] = {0.025, 1.4}; /* about -41 and -6 LUFS, the loud one clips */
    disco_master_report r;

    (void)state;
    for (int s = 0; s < 2; s++) {
        disco_audio in = program(30.0, 2, RATE, amps[s], 11 + (uint64_t)s);

        for (int p = DISCO_MASTER_STREAMING; p <= DISCO_MASTER_CLUB; p++) {
            disco_master_config cfg = disco_master_config_preset((disco_master_preset)p);

            r = master_and_check(&in, &cfg, NULL, cfg.target_lufs);
            print_message("%-9s from %6.2f LUFS %6.2f dBTP: %6.2f LUFS %6.2f dBTP, gain %+6.2f dB, "
                          "limiter %5.2f dB, glue %4.2f dB, %d pass(es)\n",
                          disco_master_preset_name((disco_master_preset)p), r.in_lufs,
                          r.in_true_peak_db, r.out_lufs, r.out_true_peak_db, r.gain_db,
                          r.max_reduction_db, r.glue_reduction_db, r.iterations);
            if (p == DISCO_MASTER_CLUB)
                assert_true(r.max_reduction_db > 1.0); /* club has to limit this material */
        }
        free(in.data);
    }
}

static void test_mono_48k(void **state)
{
    disco_audio in = program(12.0, 1, 48000, 0.3, 5);
    disco_master_config cfg = disco_master_config_preset(DISCO_MASTER_STREAMING);

    (void)state;
    master_and_check(&in, &cfg, NULL, -14.0);
    cfg.target_lufs = -10.0, cfg.ceiling_dbtp = -2.0, cfg.lowcut_hz = 0.0;
    master_and_check(&in, &cfg, NULL, -10.0);
    free(in.data);
}

/* Shapes white noise with two shelves into a new signal. */
static disco_audio shaped_noise(double seconds, double low_db, double high_db, double amp,
                                uint64_t seed)
{
    disco_biquad_band lo = {DISCO_BIQUAD_LOWSHELF, 250, low_db, M_SQRT1_2, 0};
    disco_biquad_band hi = {DISCO_BIQUAD_HIGHSHELF, 3000, high_db, M_SQRT1_2, 0};
    disco_biquad f[2];
    disco_biquad_coefs co;
    const size_t n = (size_t)(seconds * RATE);
    disco_audio a = {malloc(2 * n * sizeof(float)), n, 2, RATE};

    assert_non_null(a.data);
    rng_state = seed;
    for (size_t i = 0; i < 2 * n; i++)
        a.data[i] = (float)(amp * rng_gauss());
    assert_int_equal(disco_biquad_design(&lo, RATE, &co, NULL), DISCO_OK);
    disco_biquad_init(&f[0], &co, 2);
    assert_int_equal(disco_biquad_design(&hi, RATE, &co, NULL), DISCO_OK);
    disco_biquad_init(&f[1], &co, 2);
    disco_biquad_process(f, 2, a.data, n);
    return a;
}

/* Energy (dB) of `a` after a filter: an independent look at one region of the spectrum. */
static double region_db(const disco_audio *a, disco_biquad_kind kind, double freq)
{
    disco_biquad_band b = {kind, freq, 0, M_SQRT1_2, 0};
    disco_biquad f[2];
    disco_biquad_coefs co;
    float *x = malloc(a->frames * 2 * sizeof *x);
    double e = 0;

    assert_non_null(x);
    memcpy(x, a->data, a->frames * 2 * sizeof *x);
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    disco_biquad_init(&f[0], &co, 2);
    disco_biquad_init(&f[1], &co, 2);
    disco_biquad_process(f, 2, x, a->frames);
    for (size_t i = 0; i < a->frames * 2; i++)
        e += (double)x[i] * x[i];
    free(x);
    return 10 * log10(e / (double)a->frames);
}

/* RMS over bands 50 Hz .. 12.5 kHz of (x - ref) with the mean difference removed. */
static double shape_distance(const double *x, const double *ref)
{
    double d[DISCO_MASTER_BANDS], mean = 0, ss = 0;
    int n = 0;

    for (int b = 3; b <= 27; b++)
        mean += d[n++] = x[b] - ref[b];
    mean /= n;
    for (int i = 0; i < n; i++)
        ss += (d[i] - mean) * (d[i] - mean);
    return sqrt(ss / n);
}

static void test_reference_mode_moves_spectrum(void **state)
{
    disco_audio in = shaped_noise(20.0, 8.0, -6.0, 0.05, 21);  /* boomy, dull, quiet */
    disco_audio ref = shaped_noise(15.0, -3.0, 5.0, 0.04, 22); /* thin, bright, louder */
    disco_master_config cfg = disco_master_config_preset(DISCO_MASTER_STREAMING);
    double hz[DISCO_MASTER_BANDS], s_in[DISCO_MASTER_BANDS], s_ref[DISCO_MASTER_BANDS];
    double s_out[DISCO_MASTER_BANDS], tilt_in, tilt_ref, tilt_out;
    disco_audio out;
    disco_master_report r;
    ebu ref_m = ebu_measure(&ref);

    (void)state;
    r = master_and_check(&in, &cfg, &ref, ref_m.lufs);
    assert_true(r.has_reference);
    assert_near(r.ref_lufs, ref_m.lufs, 0.01);
    for (int b = 0; b < DISCO_MASTER_BANDS; b++)
        assert_true(fabs(r.eq_db[b]) <= cfg.max_eq_db + 1e-9);
    assert_true(r.eq_db[4] < -3.0 && r.eq_db[25] > 3.0); /* cut at 63 Hz, boost at 6.3 kHz */
    assert_near(r.band_hz[16], 1000.0, 0);

    assert_int_equal(disco_master_apply(&in, &cfg, &ref, &out, &r, NULL), DISCO_OK);
    assert_int_equal(disco_master_spectrum(&in, hz, s_in, NULL), DISCO_OK);
    assert_int_equal(disco_master_spectrum(&ref, NULL, s_ref, NULL), DISCO_OK);
    assert_int_equal(disco_master_spectrum(&out, NULL, s_out, NULL), DISCO_OK);
    print_message("band shape distance to the reference: before %.2f dB, after %.2f dB\n",
                  shape_distance(s_in, s_ref), shape_distance(s_out, s_ref));
    assert_true(shape_distance(s_out, s_ref) < 0.5 * shape_distance(s_in, s_ref));
    /* the same seen through filters: high band minus low band energy */
    tilt_in =
        region_db(&in, DISCO_BIQUAD_HIGHPASS, 5000) - region_db(&in, DISCO_BIQUAD_LOWPASS, 150);
    tilt_ref =
        region_db(&ref, DISCO_BIQUAD_HIGHPASS, 5000) - region_db(&ref, DISCO_BIQUAD_LOWPASS, 150);
    tilt_out =
        region_db(&out, DISCO_BIQUAD_HIGHPASS, 5000) - region_db(&out, DISCO_BIQUAD_LOWPASS, 150);
    print_message("high - low energy: input %.1f dB, output %.1f dB, reference %.1f dB\n", tilt_in,
                  tilt_out, tilt_ref);
    assert_true(fabs(tilt_out - tilt_ref) < 0.5 * fabs(tilt_in - tilt_ref));
    disco_audio_release(&out);
    free(in.data);
    free(ref.data);
}

static void test_spectrum_bands(void **state)
{
    const size_t n = RATE;
    disco_audio a = {malloc(n * sizeof(float)), n, 1, RATE};
    double hz[DISCO_MASTER_BANDS], db[DISCO_MASTER_BANDS];
    int top = 0;

    (void)state;
    for (size_t i = 0; i < n; i++)
        a.data[i] = (float)(0.5 * sin(2 * M_PI * 1000.0 * i / RATE));
    assert_int_equal(disco_master_spectrum(&a, hz, db, NULL), DISCO_OK);
    for (int b = 1; b < DISCO_MASTER_BANDS; b++)
        top = db[b] > db[top] ? b : top;
    assert_near(hz[top], 1000.0, 0);
    assert_true(db[top] > db[top - 2] + 30 && db[top] > db[top + 2] + 30);
    a.rate = 22050; /* 12.5 and 16 kHz bands lie above Nyquist */
    assert_int_equal(disco_master_spectrum(&a, NULL, db, NULL), DISCO_OK);
    assert_true(db[27] == -HUGE_VAL && db[28] == -HUGE_VAL && isfinite(db[20]));
    free(a.data);
}

static void test_presets_and_config(void **state)
{
    static const struct {
        const char *name;
        double lufs, tp;
    } want[] = {
        {"streaming", -14, -1}, {"apple", -16, -1}, {"broadcast", -23, -1}, {"club", -9, -0.3}};
    disco_master_preset p;
    disco_master_config cfg;
    disco_status st = {0};

    (void)state;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(disco_master_preset_parse(want[i].name, "preset", &p, NULL), DISCO_OK);
        assert_string_equal(disco_master_preset_name(p), want[i].name);
        cfg = disco_master_config_preset(p);
        assert_near(cfg.target_lufs, want[i].lufs, 0);
        assert_near(cfg.ceiling_dbtp, want[i].tp, 0);
        assert_int_equal(disco_master_config_check(&cfg, NULL), DISCO_OK);
    }
    assert_int_equal(disco_master_preset_parse("loud", "preset", &p, &st), DISCO_ERR_INVAL);
    assert_string_equal(
        st.msg, "preset: unknown preset \"loud\"; known: streaming, apple, broadcast, club");
    cfg.target_lufs = 0;
    assert_int_equal(disco_master_config_check(&cfg, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "target_lufs: 0 out of range -40..-5");
    cfg = disco_master_config_preset(DISCO_MASTER_APPLE);
    cfg.ceiling_dbtp = 0.5;
    assert_int_equal(disco_master_config_check(&cfg, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "ceiling_dbtp");
}

static void test_bad_input(void **state)
{
    disco_master_config cfg = disco_master_config_preset(DISCO_MASTER_STREAMING);
    disco_audio in = {calloc(2 * RATE, sizeof(float)), RATE, 2, RATE}, out;
    disco_audio quiet = program(5.0, 2, RATE, 0.002, 3); /* about -65 LUFS */
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_master_apply(&in, &cfg, NULL, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "input is silent (integrated loudness below -70 LUFS)");
    assert_null(out.data);
    assert_int_equal(disco_master_apply(&quiet, &cfg, NULL, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "max_gain_db");
    cfg.max_gain_db = 60;
    assert_int_equal(disco_master_apply(&quiet, &cfg, &in, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "reference is silent (integrated loudness below -70 LUFS)");
    in.frames = 0;
    assert_int_equal(disco_master_apply(&in, &cfg, NULL, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "input has no audio frames");
    in.frames = RATE / 4;
    assert_int_equal(disco_master_apply(&in, &cfg, NULL, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "input is 0.250 s long, shorter than the 0.4 s loudness needs");
    in.frames = RATE;
    cfg.lookahead_ms = 100;
    assert_int_equal(disco_master_apply(&quiet, &cfg, NULL, &out, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "lookahead_ms: 100 out of range 0.5..20");
    free(in.data);
    free(quiet.data);
}

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* No timing assert: prints the speed (this build has ASan and UBSan on). */
static void test_speed_print(void **state)
{
    disco_audio in = program(60.0, 2, RATE, 0.5, 9), out;
    disco_master_config cfg = disco_master_config_preset(DISCO_MASTER_CLUB);
    disco_master_report r;
    double t0 = cpu_seconds(), dt;

    (void)state;
    assert_int_equal(disco_master_apply(&in, &cfg, NULL, &out, &r, NULL), DISCO_OK);
    dt = cpu_seconds() - t0;
    print_message("mastering 60 s of 44.1 kHz stereo (club, %d passes): %.2f s CPU, %.0fx real "
                  "time in this sanitizer build\n",
                  r.iterations, dt, 60.0 / dt);
    disco_audio_release(&out);
    free(in.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_land_on_target),
        cmocka_unit_test(test_mono_48k),
        cmocka_unit_test(test_reference_mode_moves_spectrum),
        cmocka_unit_test(test_spectrum_bands),
        cmocka_unit_test(test_presets_and_config),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_speed_print),
    };

    return cmocka_run_group_tests_name("dsp/master", tests, NULL, NULL);
}
