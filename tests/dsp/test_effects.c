/*
 * test_effects.c - biquads against the analytic RBJ response (measured with
 * sines) and its known anchor values; compressor curve and steady state;
 * the true-peak limiter on hostile input, checked with libebur128's meter;
 * the true-peak meter against libebur128 and its two kernels against each
 * other; reverb decay and stability; delay echoes and note values; pan,
 * width and fade math. The chain has its own group, test_chain.c.
 */
#include "disco/effects.h"

#include "dsp/fx_int.h"

#include <ebur128.h>
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

#define RATE 44100

/* Amplitude of the `freq` component of x[start .. start+n) (stride `step`), by least squares. */
static double sine_amp(const float *x, size_t start, size_t n, size_t step, double freq)
{
    double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0, det, a, b;

    for (size_t i = start; i < start + n; i++) {
        double w = 2.0 * M_PI * freq * (double)i / RATE, s = sin(w), c = cos(w), y = x[i * step];

        ss += s * s, cc += c * c, sc += s * c, ys += y * s, yc += y * c;
    }
    det = ss * cc - sc * sc;
    a = (ys * cc - yc * sc) / det;
    b = (yc * ss - ys * sc) / det;
    return sqrt(a * a + b * b);
}

/* libebur128's 4x true peak over all channels, dBTP. */
static double ebu_true_peak(const float *x, size_t frames, int channels)
{
    ebur128_state *m = ebur128_init((unsigned)channels, RATE, EBUR128_MODE_TRUE_PEAK);
    double peak = 0.0, v;

    assert_non_null(m);
    assert_int_equal(ebur128_add_frames_float(m, x, frames), EBUR128_SUCCESS);
    for (int c = 0; c < channels; c++) {
        assert_int_equal(ebur128_true_peak(m, (unsigned)c, &v), EBUR128_SUCCESS);
        peak = fmax(peak, v);
    }
    ebur128_destroy(&m);
    return peak > 0.0 ? 20.0 * log10(peak) : -HUGE_VAL;
}

static disco_audio make_audio(size_t frames, int channels)
{
    disco_audio a = {calloc(frames * (size_t)channels, sizeof(float)), frames, channels, RATE};

    assert_non_null(a.data);
    return a;
}

/* --- biquad -------------------------------------------------------------- */

static void test_biquad_matches_rbj_response(void **state)
{
    static const disco_biquad_band bands[] = {
        {DISCO_BIQUAD_LOWPASS, 2000, 0, 0.7071, 0}, {DISCO_BIQUAD_HIGHPASS, 300, 0, 2.0, 0},
        {DISCO_BIQUAD_PEAKING, 1000, 6, 1.0, 0},    {DISCO_BIQUAD_PEAKING, 4000, -9, 4.0, 0},
        {DISCO_BIQUAD_LOWSHELF, 200, 5, 0.7071, 0}, {DISCO_BIQUAD_HIGHSHELF, 6000, -4, 0, 0.5},
    };
    static const double freqs[] = {60, 300, 1000, 2000, 4000, 9000, 15000};
    const size_t n = RATE / 2;
    float *x = malloc(2 * n * sizeof *x);

    (void)state;
    assert_non_null(x);
    for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++) {
        disco_biquad_coefs co;
        disco_biquad f;

        assert_int_equal(disco_biquad_design(&bands[b], RATE, &co, NULL), DISCO_OK);
        for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
            double want = disco_biquad_response_db(&co, RATE, freqs[k]), got;

            for (size_t i = 0; i < n; i++)
                x[2 * i] = x[2 * i + 1] = (float)(0.5 * sin(2 * M_PI * freqs[k] * i / RATE));
            disco_biquad_init(&f, &co, 2);
            disco_biquad_process(&f, 1, x, n);
            got = 20.0 * log10(sine_amp(x, n / 2, n / 2, 2, freqs[k]) / 0.5);
            assert_near(got, want, 0.02);
            assert_near(20.0 * log10(sine_amp(x + 1, n / 2, n / 2, 2, freqs[k]) / 0.5), want, 0.02);
        }
    }
    free(x);
}

/* Values the cookbook formulas must give whatever the implementation. */
static void test_biquad_anchor_values(void **state)
{
    disco_biquad_coefs co;
    disco_biquad_band b = {DISCO_BIQUAD_PEAKING, 1000, 6, 1.0, 0};

    (void)state;
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    assert_near(disco_biquad_response_db(&co, RATE, 1000), 6.0, 1e-9);
    assert_near(disco_biquad_response_db(&co, RATE, 10), 0.0, 1e-3);
    b = (disco_biquad_band){DISCO_BIQUAD_LOWPASS, 1000, 0, 3.0, 0};
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    assert_near(disco_biquad_response_db(&co, RATE, 1000), 20.0 * log10(3.0), 1e-9);
    assert_near(disco_biquad_response_db(&co, RATE, 1), 0.0, 1e-4);
    b = (disco_biquad_band){DISCO_BIQUAD_HIGHPASS, 1000, 0, M_SQRT1_2, 0};
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    assert_near(disco_biquad_response_db(&co, RATE, 1000), -3.0103, 1e-3);
    assert_near(disco_biquad_response_db(&co, RATE, 22049), 0.0, 1e-3);
    b = (disco_biquad_band){DISCO_BIQUAD_LOWSHELF, 300, 8, 0, 1.0};
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    assert_near(disco_biquad_response_db(&co, RATE, 1), 8.0, 1e-3);
    assert_near(disco_biquad_response_db(&co, RATE, 300), 4.0, 1e-9); /* half gain at f0 */
    assert_near(disco_biquad_response_db(&co, RATE, 20000), 0.0, 0.01);
    b = (disco_biquad_band){DISCO_BIQUAD_HIGHSHELF, 5000, -6, M_SQRT1_2, 0};
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    assert_near(disco_biquad_response_db(&co, RATE, 22050), -6.0, 1e-6);
    assert_near(disco_biquad_response_db(&co, RATE, 5000), -3.0, 1e-9);
    assert_near(disco_biquad_response_db(&co, RATE, 20), 0.0, 1e-3);
}

static void test_biquad_layouts_agree(void **state)
{
    disco_biquad_band b = {DISCO_BIQUAD_PEAKING, 700, 5, 2.0, 0};
    disco_biquad_coefs co;
    disco_biquad f2[2], f3[2];
    float st[2 * 3000], mc[3 * 3000];

    (void)state;
    rng_state = 3;
    for (size_t i = 0; i < 3000; i++) {
        st[2 * i] = mc[3 * i] = mc[3 * i + 2] = (float)rng_gauss();
        st[2 * i + 1] = mc[3 * i + 1] = (float)rng_gauss();
    }
    assert_int_equal(disco_biquad_design(&b, RATE, &co, NULL), DISCO_OK);
    for (int k = 0; k < 2; k++) {
        disco_biquad_init(&f2[k], &co, 2);
        disco_biquad_init(&f3[k], &co, 3);
    }
    disco_biquad_process(f2, 2, st, 1000); /* in pieces: state carries over */
    disco_biquad_process(f2, 2, st + 2000, 2000);
    disco_biquad_process(f3, 2, mc, 3000);
    for (size_t i = 0; i < 3000; i++) {
        assert_true(st[2 * i] == mc[3 * i] && st[2 * i] == mc[3 * i + 2]);
        assert_true(st[2 * i + 1] == mc[3 * i + 1]);
    }
}

static void test_biquad_bad_bands(void **state)
{
    disco_biquad_band b = {DISCO_BIQUAD_PEAKING, 30000, 3, 1, 0};
    disco_biquad_coefs co;
    disco_biquad_kind k;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_biquad_design(&b, RATE, &co, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "freq: 30000 Hz is above Nyquist (22050 Hz)");
    assert_string_equal(st.field, "freq");
    b.freq = 1000, b.q = 0;
    assert_int_equal(disco_biquad_design(&b, RATE, &co, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "q");
    b.q = 1, b.gain_db = NAN;
    assert_int_equal(disco_biquad_design(&b, RATE, &co, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "gain_db");
    b.gain_db = 0, b.kind = DISCO_BIQUAD_LOWSHELF, b.slope = 2;
    assert_int_equal(disco_biquad_design(&b, RATE, &co, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "slope: 2 out of range 0.05..1");
    assert_int_equal(disco_biquad_kind_parse("notch", "kind", &k, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "\"notch\""));
    assert_int_equal(disco_biquad_kind_parse("highshelf", "kind", &k, &st), DISCO_OK);
    assert_int_equal(k, DISCO_BIQUAD_HIGHSHELF);
    assert_string_equal(disco_biquad_kind_name(k), "highshelf");
}

/* --- compressor ---------------------------------------------------------- */

static void test_compressor_curve(void **state)
{
    disco_compressor_config c = disco_compressor_config_default();

    (void)state;
    c.threshold_db = -20, c.ratio = 4, c.knee_db = 10;
    assert_near(disco_compressor_curve_db(&c, -40), 0.0, 1e-12);
    assert_near(disco_compressor_curve_db(&c, -25), 0.0, 1e-12); /* knee starts at -25 */
    /* in the knee: (1/R - 1) (x - T + W/2)^2 / (2W) */
    assert_near(disco_compressor_curve_db(&c, -20), -0.75 * 25.0 / 20.0, 1e-12);
    assert_near(disco_compressor_curve_db(&c, -17), -0.75 * 64.0 / 20.0, 1e-12);
    /* above: (1/R - 1)(x - T), continuous at the knee's end */
    assert_near(disco_compressor_curve_db(&c, -15), -0.75 * 5.0, 1e-12);
    assert_near(disco_compressor_curve_db(&c, 0), -15.0, 1e-12);
    c.knee_db = 0;
    assert_near(disco_compressor_curve_db(&c, -20.001), 0.0, 1e-12);
    assert_near(disco_compressor_curve_db(&c, -8), -9.0, 1e-12);
}

/* Output level in dB of a steady signal at `amp` after the compressor settles. */
static double compressed_level(const disco_compressor_config *cfg, double amp, int square)
{
    const size_t n = RATE;
    disco_audio a = make_audio(n, 2);
    disco_compressor *c;
    double out;

    for (size_t i = 0; i < n; i++) {
        double v = square ? ((i / 50) % 2 ? amp : -amp) : amp * sin(2 * M_PI * 1000.0 * i / RATE);

        a.data[2 * i] = a.data[2 * i + 1] = (float)v;
    }
    assert_int_equal(disco_compressor_new(cfg, 2, RATE, &c, NULL), DISCO_OK);
    disco_compressor_process(c, a.data, n);
    out = sine_amp(a.data, n - 4410, 4410, 2, 1000.0);
    if (square)
        out = fabs(a.data[2 * (n - 1)]);
    disco_compressor_free(c);
    free(a.data);
    return 20.0 * log10(out);
}

static void test_compressor_steady_state(void **state)
{
    static const double levels[] = {-40, -24, -20, -17, -10, -3};
    disco_compressor_config c = disco_compressor_config_default();

    (void)state;
    c.threshold_db = -20, c.ratio = 4, c.knee_db = 8, c.attack_ms = 1, c.release_ms = 50;
    c.makeup_db = 2;
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        double want = levels[i] + disco_compressor_curve_db(&c, levels[i]) + 2.0;

        c.detector = DISCO_DETECT_PEAK;
        assert_near(compressed_level(&c, pow(10, levels[i] / 20), 1), want, 0.01);
        /* RMS sees a sine of amplitude A at A / sqrt 2 */
        c.detector = DISCO_DETECT_RMS, c.rms_ms = 50;
        want = levels[i] + disco_compressor_curve_db(&c, levels[i] - 3.0103) + 2.0;
        assert_near(compressed_level(&c, pow(10, levels[i] / 20), 0), want, 0.05);
    }
}

static void test_compressor_attack_time(void **state)
{
    disco_compressor_config cfg = disco_compressor_config_default();
    const size_t n = RATE / 2, at = (size_t)(0.020 * RATE); /* attack 20 ms */
    float *x = malloc(n * sizeof *x);
    disco_compressor *c;
    double full, red;

    (void)state;
    cfg.threshold_db = -20, cfg.ratio = 10, cfg.knee_db = 0, cfg.attack_ms = 20;
    full = -disco_compressor_curve_db(&cfg, 20.0 * log10(0.5));
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f; /* -6 dBFS step from silence */
    assert_int_equal(disco_compressor_new(&cfg, 1, RATE, &c, NULL), DISCO_OK);
    disco_compressor_process(c, x, n);
    red = -20.0 * log10(x[at] / 0.5);
    assert_near(red / full, 1.0 - exp(-1.0), 0.01); /* one time constant */
    assert_near(disco_compressor_max_reduction_db(c), full, 1e-3);
    disco_compressor_free(c);
    free(x);
}

static void test_compressor_bad_config(void **state)
{
    disco_compressor_config cfg = disco_compressor_config_default();
    disco_compressor *c = (disco_compressor *)&cfg;
    disco_status st = {0};

    (void)state;
    cfg.ratio = 0.5;
    assert_int_equal(disco_compressor_new(&cfg, 2, RATE, &c, &st), DISCO_ERR_INVAL);
    assert_null(c);
    assert_string_equal(st.msg, "ratio: 0.5 out of range 1..100");
    cfg = disco_compressor_config_default();
    cfg.detector = 7;
    assert_int_equal(disco_compressor_new(&cfg, 2, RATE, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "detector");
}

/* --- limiter and true peak ----------------------------------------------- */

enum { SQ_NYQUIST, SQ_QUARTER, SQ_SLOW, SINE_45, CLIPPED_NOISE, BURSTS, NSIG };

/* One second of a hostile stereo signal. */
static void hostile(int kind, float *x, size_t n)
{
    rng_state = 99 + (uint64_t)kind;
    for (size_t i = 0; i < n; i++) {
        double l = 0, r = 0;

        switch (kind) {
        case SQ_NYQUIST:
            l = i % 2 ? 1.0 : -1.0, r = -l;
            break;
        case SQ_QUARTER:
            l = (i / 2) % 2 ? 1.0 : -1.0, r = (i / 3) % 2 ? 1.0 : -1.0;
            break;
        case SQ_SLOW:
            l = (i / 50) % 2 ? 1.0 : -1.0, r = (i / 17) % 2 ? 0.9 : -0.9;
            break;
        case SINE_45: /* fs/4 at 45 degrees: samples +-1, true peak sqrt 2 */
            l = M_SQRT2 * sin(M_PI * i / 2.0 + M_PI / 4), r = -l;
            break;
        case CLIPPED_NOISE:
            l = fmax(-1, fmin(1, 3 * rng_gauss())), r = fmax(-1, fmin(1, 3 * rng_gauss()));
            break;
        case BURSTS: /* silence, then full-scale noise bursts of 1 to 40 frames */
            l = r = (i % 997) < 1 + (i / 997) % 40 ? (rng_uniform() < 0.5 ? -1.0 : 1.0) : 0.0;
            break;
        }
        x[2 * i] = (float)l, x[2 * i + 1] = (float)r;
    }
}

static void test_limiter_hostile_input(void **state)
{
    static const double ceilings[] = {-1.0, -0.3, -6.0};
    disco_audio a = make_audio(RATE, 2);

    (void)state;
    for (size_t ci = 0; ci < 3; ci++) {
        for (int kind = 0; kind < NSIG; kind++) {
            disco_limiter_config cfg = disco_limiter_config_default();
            disco_limiter *l;
            double tp, sp = 0.0;

            cfg.ceiling_db = ceilings[ci];
            cfg.lookahead_ms = kind % 2 ? 1.5 : 5.0;
            hostile(kind, a.data, a.frames);
            assert_int_equal(disco_limiter_new(&cfg, 2, RATE, &l, NULL), DISCO_OK);
            disco_limiter_apply(l, &a);
            tp = ebu_true_peak(a.data, a.frames, 2);
            for (size_t i = 0; i < 2 * a.frames; i++)
                sp = fmax(sp, fabs(a.data[i]));
            if (tp > ceilings[ci])
                print_error("signal %d ceiling %g: true peak %.4f\n", kind, ceilings[ci], tp);
            assert_true(tp <= ceilings[ci]);
            assert_true(20 * log10(sp) <= ceilings[ci]);
            assert_true(disco_limiter_max_reduction_db(l) > 0.0);
            disco_limiter_free(l);
        }
    }
    free(a.data);
}

static void test_limiter_transparent_below_ceiling(void **state)
{
    disco_limiter_config cfg = disco_limiter_config_default();
    disco_audio a = make_audio(20000, 2);
    float *ref = malloc(2 * 20000 * sizeof *ref);
    disco_limiter *l;

    (void)state;
    for (size_t i = 0; i < 20000; i++)
        a.data[2 * i] = a.data[2 * i + 1] = (float)(0.3 * sin(2 * M_PI * 440.0 * i / RATE));
    memcpy(ref, a.data, 2 * 20000 * sizeof *ref);
    assert_int_equal(disco_limiter_new(&cfg, 2, RATE, &l, NULL), DISCO_OK);
    disco_limiter_apply(l, &a);
    assert_memory_equal(a.data, ref, 2 * 20000 * sizeof *ref);
    assert_near(disco_limiter_max_reduction_db(l), 0.0, 0.0);
    disco_limiter_free(l);
    free(ref);
    free(a.data);
}

static void test_limiter_streams_like_apply(void **state)
{
    disco_limiter_config cfg = disco_limiter_config_default();
    const size_t n = 30000;
    disco_audio a = make_audio(n, 2);
    disco_limiter *l;
    float *in, *out;
    size_t lat;

    (void)state;
    hostile(CLIPPED_NOISE, a.data, n);
    in = malloc(2 * n * sizeof *in);
    assert_int_equal(disco_limiter_new(&cfg, 2, RATE, &l, NULL), DISCO_OK);
    lat = disco_limiter_latency(l);
    out = calloc(2 * (n + lat), sizeof *out);
    memcpy(in, a.data, 2 * n * sizeof *in);
    disco_limiter_apply(l, &a);
    disco_limiter_free(l);
    assert_int_equal(disco_limiter_new(&cfg, 2, RATE, &l, NULL), DISCO_OK);
    for (size_t s = 0; s < n; s += 777) /* odd pieces, in place */
        disco_limiter_process(l, in + 2 * s, in + 2 * s, n - s < 777 ? n - s : 777);
    memcpy(out, in, 2 * n * sizeof *out);
    disco_limiter_process(l, out + 2 * n, out + 2 * n, lat); /* drain with zeros */
    for (size_t i = 0; i < lat; i++)
        assert_true(out[2 * i] == 0.0f);
    assert_memory_equal(out + 2 * lat, a.data, 2 * n * sizeof *out);
    disco_limiter_free(l);
    free(in);
    free(out);
    free(a.data);
}

static void test_true_peak_matches_libebur128(void **state)
{
    const size_t n = 20000;
    float *x = malloc(3 * n * sizeof *x);
    double tp;

    (void)state;
    rng_state = 5;
    for (int trial = 0; trial < 4; trial++) {
        for (size_t i = 0; i < 3 * n; i++)
            x[i] = trial == 3 ? (float)(0.8 * sin(2 * M_PI * 11025.0 * (i / 3) / RATE + 0.7))
                              : (float)(0.3 * rng_gauss() * (trial + 1) / 3.0);
        assert_int_equal(disco_true_peak(x, n, 3, &tp, NULL), DISCO_OK);
        assert_near(tp, ebu_true_peak(x, n, 3), 1e-4);
    }
    memset(x, 0, 3 * n * sizeof *x);
    assert_int_equal(disco_true_peak(x, n, 3, &tp, NULL), DISCO_OK);
    assert_true(tp == -HUGE_VAL);
    assert_int_equal(disco_true_peak(x, n, 0, &tp, NULL), DISCO_ERR_INVAL);
    free(x);
}

static void test_true_peak_kernels_agree(void **state)
{
    disco__tpdet fast, port;
    float x[2 * DISCO__TP_BLOCK], a[DISCO__TP_BLOCK], b[DISCO__TP_BLOCK];

    (void)state;
    rng_state = 17;
    assert_int_equal(disco__tpdet_init(&fast, 2, NULL), DISCO_OK);
    assert_int_equal(disco__tpdet_init(&port, 2, NULL), DISCO_OK);
    disco__tpdet_use_portable(&port);
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + (size_t)(rng_uniform() * DISCO__TP_BLOCK);

        for (size_t i = 0; i < 2 * n; i++)
            x[i] = (float)rng_gauss();
        disco__tpdet_run(&fast, x, n, a);
        disco__tpdet_run(&port, x, n, b);
        assert_memory_equal(a, b, n * sizeof *a);
    }
    disco__tpdet_release(&fast);
    disco__tpdet_release(&port);
}

/* --- reverb -------------------------------------------------------------- */

static double window_energy(const float *x, size_t from, size_t to)
{
    double e = 0.0;

    for (size_t i = from; i < to; i++)
        e += (double)x[2 * i] * x[2 * i] + (double)x[2 * i + 1] * x[2 * i + 1];
    return e;
}

static void test_reverb_tail_decays(void **state)
{
    static const double rooms[] = {0.0, 0.5, 1.0};
    const size_t n = 3 * RATE;
    disco_audio a = make_audio(n, 2);

    (void)state;
    for (size_t ri = 0; ri < 3; ri++) {
        disco_reverb_config cfg = disco_reverb_config_default();
        disco_reverb *r;
        double rt = disco_reverb_rt60(rooms[ri]), e1, e2, corr = 0, el = 0, er = 0;
        size_t t1 = RATE / 5, t2 = t1 + (size_t)(0.2 * rt * RATE), w = RATE / 20;

        cfg.room_size = rooms[ri], cfg.wet = 1.0, cfg.dry = 0.0, cfg.damping = 0.3;
        memset(a.data, 0, 2 * n * sizeof *a.data);
        a.data[0] = a.data[1] = 1.0f;
        assert_int_equal(disco_reverb_new(&cfg, 2, RATE, &r, NULL), DISCO_OK);
        disco_reverb_process(r, a.data, n);
        for (size_t i = 0; i < 2 * n; i++) {
            assert_true(isfinite(a.data[i]));
            assert_true(fabs(a.data[i]) < 1.0);
        }
        for (size_t i = 0; i < n; i++) {
            corr += (double)a.data[2 * i] * a.data[2 * i + 1];
            el += (double)a.data[2 * i] * a.data[2 * i];
            er += (double)a.data[2 * i + 1] * a.data[2 * i + 1];
        }
        assert_true(fabs(corr / sqrt(el * er)) < 0.3); /* decorrelated channels */
        e1 = window_energy(a.data, t1, t1 + w);
        e2 = window_energy(a.data, t2, t2 + w);
        assert_true(e1 > 0.0);
        /* 0.2 RT60 later the energy is about 12 dB down (damping takes a little more) */
        assert_true(10 * log10(e2 / e1) < -9.0 && 10 * log10(e2 / e1) > -20.0);
        disco_reverb_free(r);
    }
    free(a.data);
}

static void test_reverb_stable_on_loud_input(void **state)
{
    disco_reverb_config cfg = disco_reverb_config_default();
    const size_t n = 4 * RATE;
    disco_audio a = make_audio(n, 1);
    disco_reverb *r;
    double late;

    (void)state;
    cfg.room_size = 1.0, cfg.damping = 0.0, cfg.wet = 1.0, cfg.pre_delay_ms = 100;
    for (size_t i = 0; i < RATE; i++)
        a.data[i] = i % 2 ? 1.0f : -1.0f; /* a second of full-scale Nyquist */
    assert_int_equal(disco_reverb_new(&cfg, 1, RATE, &r, NULL), DISCO_OK);
    disco_reverb_process(r, a.data, n);
    for (size_t i = 0; i < n; i++)
        assert_true(isfinite(a.data[i]) && fabs(a.data[i]) < 4.0);
    late = 0.0;
    for (size_t i = n - RATE / 10; i < n; i++)
        late = fmax(late, fabs(a.data[i]));
    assert_true(late < 1.0);
    disco_reverb_free(r);
    cfg.damping = 2.0;
    assert_int_equal(disco_reverb_new(&cfg, 1, RATE, &r, NULL), DISCO_ERR_INVAL);
    disco_reverb_free(NULL);
    free(a.data);
}

/* --- delay, pan, width, fade --------------------------------------------- */

static void test_delay_echo_at_the_right_sample(void **state)
{
    disco_delay_config cfg = {.time_ms = 10.0, .feedback = 0.5, .mix = 0.4};
    const size_t n = 2000, d = 441;
    float x[2 * 2000] = {0};
    disco_delay *dl;

    (void)state;
    x[0] = 1.0f, x[1] = -1.0f;
    assert_int_equal(disco_delay_new(&cfg, 2, RATE, &dl, NULL), DISCO_OK);
    disco_delay_process(dl, x, 300);
    disco_delay_process(dl, x + 600, n - 300);
    for (size_t i = 0; i < n; i++) {
        double want = i == 0 ? 1.0 : i == d ? 0.4 : i == 2 * d ? 0.2 : i == 3 * d ? 0.1 : 0.0;

        if (i == 4 * d)
            want = 0.05;
        assert_near(x[2 * i], want, 1e-6);
        assert_near(x[2 * i + 1], -want, 1e-6);
    }
    disco_delay_free(dl);
}

static void test_note_values(void **state)
{
    double s;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_note_seconds("1/4", 120, "time", &s, NULL), DISCO_OK);
    assert_near(s, 0.5, 1e-12);
    assert_int_equal(disco_note_seconds("1/8", 120, "time", &s, NULL), DISCO_OK);
    assert_near(s, 0.25, 1e-12);
    assert_int_equal(disco_note_seconds("1/4.", 100, "time", &s, NULL), DISCO_OK);
    assert_near(s, 0.9, 1e-12);
    assert_int_equal(disco_note_seconds("1/8t", 120, "time", &s, NULL), DISCO_OK);
    assert_near(s, 1.0 / 6.0, 1e-12);
    assert_int_equal(disco_note_seconds("3/16", 90, "time", &s, NULL), DISCO_OK);
    assert_near(s, 0.5, 1e-12);
    assert_int_equal(disco_note_seconds("1/8x", 120, "time", &s, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "time: \"1/8x\" is not a note value like 1/4, 1/8., 1/8t");
    assert_int_equal(disco_note_seconds("eighth", 120, "time", &s, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_note_seconds("1/0", 120, "time", &s, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_note_seconds("1/4", 500, "time", &s, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "bpm");
}

static void test_pan_and_width(void **state)
{
    float x[2 * 3];
    double gl, gr;

    (void)state;
    for (double p = -1.0; p <= 1.0; p += 0.125) {
        disco_pan_gains(p, &gl, &gr);
        assert_near(gl * gl + gr * gr, 2.0, 1e-12);
    }
    disco_pan_gains(0, &gl, &gr);
    assert_near(gl, 1.0, 1e-12);
    assert_near(gr, 1.0, 1e-12);
    disco_pan_gains(-1, &gl, &gr);
    assert_near(gl, M_SQRT2, 1e-12);
    assert_near(gr, 0.0, 1e-12);
    disco_pan_gains(0.5, &gl, &gr);
    assert_near(gl, M_SQRT2 * cos(3 * M_PI / 8), 1e-12);
    x[0] = 0.5f, x[1] = 0.5f;
    disco_pan_apply(x, 1, 1.0);
    assert_near(x[0], 0.0, 1e-7);
    assert_near(x[1], 0.5 * M_SQRT2, 1e-6);

    x[0] = 0.8f, x[1] = 0.2f, x[2] = -0.3f, x[3] = 0.1f, x[4] = 1, x[5] = 1;
    disco_width_apply(x, 3, 0.0);
    assert_near(x[0], 0.5, 1e-7);
    assert_near(x[1], 0.5, 1e-7);
    assert_near(x[2], -0.1, 1e-7);
    assert_near(x[3], -0.1, 1e-7);
    x[0] = 0.8f, x[1] = 0.2f;
    disco_width_apply(x, 1, 1.0);
    assert_near(x[0], 0.8, 1e-7);
    assert_near(x[1], 0.2, 1e-7);
    disco_width_apply(x, 1, 2.0); /* M 0.5, S 0.3 -> 0.6 */
    assert_near(x[0], 1.1, 1e-6);
    assert_near(x[1], -0.1, 1e-6);
    assert_near(x[4], 1.0, 0);
}

static void test_fades(void **state)
{
    static const struct {
        disco_fade_curve c;
        double half;
    } curves[] = {{DISCO_FADE_LINEAR, 0.5},
                  {DISCO_FADE_SINE, 0.70710678118654752},
                  {DISCO_FADE_EXP, 0.25},
                  {DISCO_FADE_LOG, 0.75},
                  {DISCO_FADE_SCURVE, 0.5}};
    float whole[2 * 1000], pieces[2 * 1000];
    disco_fade_curve c;
    disco_status st = {0};

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        assert_near(disco_fade_gain(curves[i].c, 0.0), 0.0, 1e-12);
        assert_near(disco_fade_gain(curves[i].c, 0.5), curves[i].half, 1e-12);
        assert_near(disco_fade_gain(curves[i].c, 1.0), 1.0, 1e-12);
        assert_near(disco_fade_gain(curves[i].c, 7.0), 1.0, 1e-12);
    }
    assert_near(disco_fade_gain(DISCO_FADE_SCURVE, 0.25), (1 - cos(M_PI / 4)) / 2, 1e-12);
    for (size_t i = 0; i < 2000; i++)
        whole[i] = pieces[i] = 1.0f;
    disco_fade_apply(whole, 1000, 2, 0, 1000, 100, 200, DISCO_FADE_SINE);
    for (size_t s = 0; s < 1000; s += 64)
        disco_fade_apply(pieces + 2 * s, 1000 - s < 64 ? 1000 - s : 64, 2, s, 1000, 100, 200,
                         DISCO_FADE_SINE);
    assert_memory_equal(whole, pieces, sizeof whole);
    assert_near(whole[0], 0.0, 0);
    assert_near(whole[2 * 50], sin(0.5 * M_PI / 2), 1e-6);
    assert_near(whole[2 * 500 + 1], 1.0, 0);
    assert_near(whole[2 * 999], 0.0, 1e-7);
    assert_near(whole[2 * 899], sin((100.0 / 200.0) * M_PI / 2), 1e-6);
    assert_int_equal(disco_fade_curve_parse("cosine", "curve", &c, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "known: linear, sine, exp, log, scurve"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_biquad_matches_rbj_response),
        cmocka_unit_test(test_biquad_anchor_values),
        cmocka_unit_test(test_biquad_layouts_agree),
        cmocka_unit_test(test_biquad_bad_bands),
        cmocka_unit_test(test_compressor_curve),
        cmocka_unit_test(test_compressor_steady_state),
        cmocka_unit_test(test_compressor_attack_time),
        cmocka_unit_test(test_compressor_bad_config),
        cmocka_unit_test(test_limiter_hostile_input),
        cmocka_unit_test(test_limiter_transparent_below_ceiling),
        cmocka_unit_test(test_limiter_streams_like_apply),
        cmocka_unit_test(test_true_peak_matches_libebur128),
        cmocka_unit_test(test_true_peak_kernels_agree),
        cmocka_unit_test(test_reverb_tail_decays),
        cmocka_unit_test(test_reverb_stable_on_loud_input),
        cmocka_unit_test(test_delay_echo_at_the_right_sample),
        cmocka_unit_test(test_note_values),
        cmocka_unit_test(test_pan_and_width),
        cmocka_unit_test(test_fades),
    };

    return cmocka_run_group_tests_name("dsp/effects", tests, NULL, NULL);
}
