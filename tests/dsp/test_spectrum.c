/*
 * test_spectrum.c - the dsp spectrum module against analytic truths: STFT
 * peaks, Parseval and a direct DFT, reflect-padded frames, perfect
 * reconstruction, one plan shared by threads; mel scales and filters
 * against the triangle definition and unit area; DCT orthonormality;
 * chroma of a tone and a triad and the bank against librosa's documented
 * values; tuning of detuned tones and the median vote; spectral features of
 * sines, white noise and silence, contrast against a sort-based reference,
 * flatness against plain logs; ZCR and RMS of sines; bad arguments.
 */
#include "disco/spectrum.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

#define SR 22050.0
#define NFFT 2048

/* 32-byte aligned floats, zeroed. */
static float *afloats(size_t n)
{
    size_t bytes = (sizeof(float) * n + 31) / 32 * 32;
    float *p = aligned_alloc(32, bytes ? bytes : 32);

    assert_non_null(p);
    memset(p, 0, bytes);
    return p;
}

static void add_sine(float *x, size_t n, double hz, double amp, double phase)
{
    for (size_t i = 0; i < n; i++)
        x[i] += (float)(amp * sin(2.0 * M_PI * hz * (double)i / SR + phase));
}

/* Power spectrum of x[0..n_fft) through a fresh plan. */
static void power_of(const float *x, size_t n_fft, float *power)
{
    disco_stft *s;
    float *scratch;

    assert_int_equal(disco_stft_new(n_fft, n_fft / 4, &s, NULL), DISCO_OK);
    scratch = afloats(disco_stft_scratch_floats(s));
    disco_stft_power(s, x, power, scratch);
    free(scratch);
    disco_stft_free(s);
}

static double hann(size_t i, size_t n)
{
    return 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n);
}

/* --- STFT --------------------------------------------------------------- */

/* Full-spectrum sum of |X|^2 over N sum (w x)^2: 1 by Parseval. */
static double parseval_ratio(const float *x, const float *p)
{
    double energy = 0.0, sum = 0.0;

    for (size_t i = 0; i < NFFT; i++)
        energy += pow(hann(i, NFFT) * x[i], 2.0);
    for (size_t k = 0; k <= NFFT / 2; k++)
        sum += (k == 0 || k == NFFT / 2 ? 1.0 : 2.0) * p[k];
    return sum / (NFFT * energy);
}

static void test_stft_sine_peak_and_parseval(void **state)
{
    disco_stft *s;
    float *x = afloats(NFFT), *p = afloats(NFFT / 2 + 1), *p2 = afloats(NFFT / 2 + 1), *scratch;
    size_t best = 0;

    (void)state;
    assert_int_equal(disco_stft_new(NFFT, 512, &s, NULL), DISCO_OK);
    scratch = afloats(disco_stft_scratch_floats(s) + 1);
    add_sine(x, NFFT, 100 * SR / NFFT, 0.8, 0.3);
    disco_stft_power(s, x, p, scratch);
    for (size_t k = 0; k <= NFFT / 2; k++)
        best = p[k] > p[best] ? k : best;
    assert_int_equal(best, 100);
    /* a windowed sine at a bin centre: |X| = amp * sum(w) / 2 = amp * N / 4 */
    assert_near(sqrt(p[100]), 0.8 * NFFT / 4.0, 1e-2);
    assert_near(parseval_ratio(x, p), 1.0, 1e-5);
    rng_state = 11; /* noise, also through an unaligned scratch */
    for (size_t i = 0; i < NFFT; i++)
        x[i] = (float)rng_gauss();
    disco_stft_power(s, x, p, scratch + 1);
    disco_stft_power(s, x, p2, scratch);
    assert_near(parseval_ratio(x, p), 1.0, 1e-5);
    for (size_t k = 0; k <= NFFT / 2; k++)
        assert_near(p[k], p2[k], 1e-4 * (p2[k] + 1.0));
    free(scratch);
    disco_stft_free(s);
    free(x);
    free(p);
    free(p2);
}

static void test_stft_power_matches_direct_dft(void **state)
{
    enum { N = 24 };
    float x[N], p[N / 2 + 1];

    (void)state;
    rng_state = 5;
    for (size_t i = 0; i < N; i++)
        x[i] = (float)rng_gauss();
    power_of(x, N, p);
    for (size_t k = 0; k <= N / 2; k++) {
        double re = 0.0, im = 0.0;

        for (size_t i = 0; i < N; i++) {
            re += hann(i, N) * x[i] * cos(2.0 * M_PI * (double)(k * i) / N);
            im -= hann(i, N) * x[i] * sin(2.0 * M_PI * (double)(k * i) / N);
        }
        assert_near(p[k], re * re + im * im, 1e-4 * (re * re + im * im + 1.0));
    }
}

/* Frame t of forward() is the power of the reflect-padded frame centred on x[t * hop]. */
static void check_frame(const float *x, size_t n, size_t n_fft, const float *cx, long long centre)
{
    float *frame = afloats(n_fft), *p = afloats(n_fft / 2 + 1);

    for (size_t j = 0; j < n_fft; j++) {
        long long i = centre - (long long)n_fft / 2 + (long long)j;

        while (i < 0 || i >= (long long)n) /* numpy reflect, repeated for short signals */
            i = i < 0 ? -i : 2 * ((long long)n - 1) - i;
        frame[j] = x[i];
    }
    power_of(frame, n_fft, p);
    for (size_t k = 0; k <= n_fft / 2; k++) {
        double got = (double)cx[2 * k] * cx[2 * k] + (double)cx[2 * k + 1] * cx[2 * k + 1];

        assert_near(got, p[k], 1e-4 * (p[k] + 1.0));
    }
    free(frame);
    free(p);
}

static void test_stft_forward_frames(void **state)
{
    enum { N = 3000, NF = 256, HOP = 100 };
    disco_stft *s;
    float x[N], *spec;
    size_t frames;

    (void)state;
    rng_state = 21;
    for (size_t i = 0; i < N; i++)
        x[i] = (float)rng_gauss();
    assert_int_equal(disco_stft_new(NF, HOP, &s, NULL), DISCO_OK);
    assert_int_equal(disco_stft_forward(s, x, N, &spec, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, 1 + N / HOP);
    for (size_t t = 0; t < frames; t += 7)
        check_frame(x, N, NF, spec + t * (NF + 2), (long long)(t * HOP));
    check_frame(x, N, NF, spec + (frames - 1) * (NF + 2), (long long)((frames - 1) * HOP));
    free(spec);
    /* a signal shorter than half a frame reflects back and forth */
    assert_int_equal(disco_stft_forward(s, x, 5, &spec, &frames, NULL), DISCO_OK);
    assert_int_equal(frames, 1);
    check_frame(x, 5, NF, spec, 0);
    free(spec);
    disco_stft_free(s);
}

static void roundtrip(size_t n_fft, size_t hop, size_t n)
{
    disco_stft *s;
    float *x = malloc(sizeof *x * n), *y = malloc(sizeof *y * n), *spec;
    size_t frames;
    double worst = 0.0;

    assert_int_equal(disco_stft_new(n_fft, hop, &s, NULL), DISCO_OK);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.5 * rng_gauss());
    assert_int_equal(disco_stft_forward(s, x, n, &spec, &frames, NULL), DISCO_OK);
    assert_int_equal(disco_stft_inverse(s, spec, frames, n, y, NULL), DISCO_OK);
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs((double)x[i] - y[i]));
    if (worst > 1e-5)
        fail_msg("n_fft %zu hop %zu n %zu: max error %g", n_fft, hop, n, worst);
    /* a longer output is zero past the last frame's reach */
    float *z = malloc(sizeof *z * (n + 3 * n_fft));

    assert_int_equal(disco_stft_inverse(s, spec, frames, n + 3 * n_fft, z, NULL), DISCO_OK);
    for (size_t i = n + 2 * n_fft; i < n + 3 * n_fft; i++)
        assert_true(z[i] == 0.0f);
    free(z);
    free(spec);
    free(x);
    free(y);
    disco_stft_free(s);
}

static void test_stft_roundtrip(void **state)
{
    (void)state;
    rng_state = 3;
    roundtrip(2048, 512, 22050);
    roundtrip(512, 128, 5001);
    roundtrip(64, 8, 1000);
    roundtrip(256, 64, 300);
}

/* One plan shared by threads, each with its own scratch: 16 frames, 20 times over. */
static disco_stft *shared_plan;
static float shared_x[16 * 256 + NFFT];

static void *share_worker(void *power)
{
    float *scratch = afloats(disco_stft_scratch_floats(shared_plan));

    for (int rep = 0; rep < 20; rep++)
        for (size_t t = 0; t < 16; t++)
            disco_stft_power(shared_plan, shared_x + t * 256, (float *)power + t * 1025, scratch);
    free(scratch);
    return NULL;
}

static void test_stft_shared_by_threads(void **state)
{
    float *want = afloats(16 * 1025), *got[4];
    pthread_t th[4];

    (void)state;
    rng_state = 8;
    for (size_t i = 0; i < 16 * 256 + NFFT; i++)
        shared_x[i] = (float)rng_gauss();
    assert_int_equal(disco_stft_new(NFFT, 256, &shared_plan, NULL), DISCO_OK);
    share_worker(want);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, share_worker, got[i] = afloats(16 * 1025)),
                         0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_memory_equal(got[i], want, sizeof *want * 16 * 1025);
        free(got[i]);
    }
    disco_stft_free(shared_plan);
    free(want);
}

/* --- mel, dB, DCT ------------------------------------------------------- */

/* The scales from their definitions, written out independently of the library. */
static double ref_hz_to_mel(double hz, int htk)
{
    if (htk)
        return 2595.0 * log10(1.0 + hz / 700.0);
    return hz < 1000.0 ? hz * 3.0 / 200.0 : 15.0 + 27.0 * log(hz / 1000.0) / log(6.4);
}

static double ref_mel_to_hz(double mel, int htk)
{
    if (htk)
        return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    return mel < 15.0 ? mel * 200.0 / 3.0 : 1000.0 * pow(6.4, (mel - 15.0) / 27.0);
}

static void test_mel_scales_and_db(void **state)
{
    float x[] = {1.0f, 100.0f, 0.001f, 0.0f, 1e-12f, 2.0f};
    static const double db[] = {0.0, 20.0, -30.0, -100.0, -100.0, 3.0103};

    (void)state;
    disco_power_to_db(x, 6);
    for (size_t i = 0; i < 6; i++)
        assert_near(x[i], db[i], 1e-4);
    assert_near(disco_hz_to_mel(1000.0, 0), 15.0, 1e-12);
    assert_near(disco_hz_to_mel(500.0, 0), 7.5, 1e-12);
    assert_near(disco_hz_to_mel(6400.0, 0), 42.0, 1e-9);
    assert_near(disco_hz_to_mel(1000.0, 1), 999.98553, 1e-4);
    assert_near(disco_hz_to_mel(0.0, 1), 0.0, 1e-12);
    for (double hz = 10.0; hz < 20000.0; hz *= 1.37)
        for (int htk = 0; htk < 2; htk++) {
            assert_near(disco_hz_to_mel(hz, htk), ref_hz_to_mel(hz, htk), 1e-9 * hz);
            assert_near(disco_mel_to_hz(disco_hz_to_mel(hz, htk), htk), hz, 1e-9 * hz);
        }
}

/* Column k of the bank: its response to a unit power at bin k alone. */
static void bank_column(const disco_melbank *m, size_t bins, size_t k, float *col)
{
    float *delta = calloc(bins, sizeof *delta);

    delta[k] = 1.0f;
    disco_melbank_apply(m, delta, col);
    free(delta);
}

static void check_bank(const disco_mel_config *cfg)
{
    size_t bins = cfg->n_fft / 2 + 1, nm = cfg->n_mels;
    double top = cfg->fmax > 0.0 ? cfg->fmax : cfg->rate / 2.0, df = cfg->rate / cfg->n_fft;
    double m0 = ref_hz_to_mel(cfg->fmin, cfg->htk), m1 = ref_hz_to_mel(top, cfg->htk);
    float *w = malloc(sizeof *w * bins * nm); /* bins x n_mels */
    disco_melbank *m;

    assert_int_equal(disco_melbank_new(cfg, &m, NULL), DISCO_OK);
    for (size_t k = 0; k < bins; k++)
        bank_column(m, bins, k, w + k * nm);
    for (size_t i = 0; i < nm; i++) {
        double lo = ref_mel_to_hz(m0 + (m1 - m0) * (double)i / (double)(nm + 1), cfg->htk);
        double mid = ref_mel_to_hz(m0 + (m1 - m0) * (double)(i + 1) / (double)(nm + 1), cfg->htk);
        double hi = ref_mel_to_hz(m0 + (m1 - m0) * (double)(i + 2) / (double)(nm + 1), cfg->htk);
        double scale = cfg->norm ? 2.0 / (hi - lo) : 1.0, area = 0.0;

        for (size_t k = 0; k < bins; k++) {
            double f = (double)k * df;
            double want = scale * fmax(0.0, fmin((f - lo) / (mid - lo), (hi - f) / (hi - mid)));

            assert_near(w[k * nm + i], want, 1e-6 * scale);
            area += w[k * nm + i] * df;
        }
        /* unit area in Hz; the sampled sum is exact up to ~(bin / width)^2 at the corners */
        if (cfg->norm && hi - lo > 10.0 * df)
            assert_near(area, 1.0, 0.02);
    }
    disco_melbank_free(m);
    free(w);
}

static void test_mel_filters(void **state)
{
    disco_mel_config cfg = disco_mel_config_default();

    (void)state;
    assert_int_equal(cfg.n_mels, 128);
    assert_int_equal(cfg.n_fft, 2048);
    check_bank(&cfg);
    { /* librosa.filters.mel(sr=22050, n_fft=2048) documents 0.016 for filter 0 at bin 1 */
        disco_melbank *m;
        float col[128];

        assert_int_equal(disco_melbank_new(&cfg, &m, NULL), DISCO_OK);
        bank_column(m, 1025, 1, col);
        assert_near(col[0], 0.016, 0.0005);
        disco_melbank_free(m);
    }
    cfg.htk = 1;
    check_bank(&cfg);
    cfg = (disco_mel_config){16000.0, 512, 40, 133.0, 6855.0, 0, 0}; /* peak-1 triangles */
    check_bank(&cfg);
    cfg.htk = 1;
    cfg.norm = 1;
    check_bank(&cfg);
}

static void test_mel_centres(void **state)
{
    /* 20 Slaney filters from 0 to 31.5 mel (3109 Hz): edges every 1.5 mel, so filter 9's
     * centre is 15 mel = 1000 Hz and filter 4's is 7.5 mel = 500 Hz; a tone there peaks it
     * and sits on the edges of its neighbours. */
    disco_mel_config cfg = disco_mel_config_default();
    disco_melbank *m;
    float p[513] = {0}, mel[20];
    size_t best = 0;

    (void)state;
    cfg.rate = 16000.0;
    cfg.n_fft = 1024;
    cfg.n_mels = 20;
    cfg.fmax = ref_mel_to_hz(31.5, 0);
    assert_int_equal(disco_melbank_new(&cfg, &m, NULL), DISCO_OK);
    p[64] = 1.0f; /* 64 * 16000 / 1024 = 1000 Hz */
    disco_melbank_apply(m, p, mel);
    for (size_t i = 0; i < 20; i++)
        best = mel[i] > mel[best] ? i : best;
    assert_int_equal(best, 9); /* at its centre: the area-normalised height 2 / (hi - lo) */
    assert_near(mel[9], 2.0 / (ref_mel_to_hz(16.5, 0) - ref_mel_to_hz(13.5, 0)), 1e-6);
    assert_near(mel[8], 0.0, 1e-6);
    assert_near(mel[10], 0.0, 1e-6);
    p[64] = 0.0f;
    p[32] = 1.0f; /* 500 Hz */
    disco_melbank_apply(m, p, mel);
    assert_near(mel[4], 2.0 / (600.0 - 400.0), 1e-6);
    assert_near(mel[3], 0.0, 1e-6);
    assert_near(mel[5], 0.0, 1e-6);
    disco_melbank_free(m);
}

static void test_dct(void **state)
{
    enum { N = 16 };
    disco_dct *d;
    float in[N], out[N], rows[N][N];

    (void)state;
    assert_int_equal(disco_dct_new(N, N, &d, NULL), DISCO_OK);
    for (size_t i = 0; i < N; i++) { /* column i of the matrix */
        memset(in, 0, sizeof in);
        in[i] = 1.0f;
        disco_dct_apply(d, in, out);
        for (size_t k = 0; k < N; k++)
            rows[k][i] = out[k];
    }
    for (size_t a = 0; a < N; a++)
        for (size_t b = 0; b < N; b++) {
            double dotp = 0.0;

            for (size_t i = 0; i < N; i++)
                dotp += (double)rows[a][i] * rows[b][i];
            assert_near(dotp, a == b ? 1.0 : 0.0, 1e-6);
        }
    for (int f = 0; f < 2; f++) { /* a constant c gives (c sqrt(N), 0, ...); cosine 3 gives
                                   * sqrt(N / 2) at k = 3 alone */
        for (size_t i = 0; i < N; i++)
            in[i] = f ? (float)cos(M_PI * 3.0 * (2.0 * i + 1.0) / (2.0 * N)) : 2.5f;
        disco_dct_apply(d, in, out);
        for (size_t k = 0; k < N; k++)
            assert_near(out[k], k != (f ? 3u : 0u) ? 0.0 : f ? sqrt(N / 2.0) : 2.5 * sqrt(N), 1e-5);
    }
    disco_dct_free(d);
}

/* --- chroma and tuning -------------------------------------------------- */

static void chroma_of(const float *x, double tuning, float *chroma)
{
    disco_chromabank *c;
    float p[NFFT / 2 + 1];

    power_of(x, NFFT, p);
    assert_int_equal(disco_chromabank_new(SR, NFFT, tuning, &c, NULL), DISCO_OK);
    disco_chromabank_apply(c, p, chroma);
    disco_chromabank_free(c);
}

/* A440 peaks at A (9) alone; a C4-E4-G4 triad at C, E and G; silence is all 0. */
static void test_chroma_tone_triad_silence(void **state)
{
    float x[NFFT] = {0}, chroma[12];
    static const double triad[] = {261.6256, 329.6276, 391.9954};

    (void)state;
    add_sine(x, NFFT, 440.0, 0.5, 0.0);
    chroma_of(x, 0.0, chroma);
    for (size_t i = 0; i < 12; i++)
        assert_true(i == 9 ? chroma[i] == 1.0f : chroma[i] < 0.5f);
    memset(x, 0, sizeof x);
    for (size_t i = 0; i < 3; i++)
        add_sine(x, NFFT, triad[i], 0.3, 0.7 * (double)i);
    chroma_of(x, 0.0, chroma);
    for (size_t i = 0; i < 12; i++)
        assert_true(i == 0 || i == 4 || i == 7 ? chroma[i] > 0.5f : chroma[i] < 0.5f);
    memset(x, 0, sizeof x);
    chroma[3] = 7.0f;
    chroma_of(x, 0.0, chroma);
    for (size_t i = 0; i < 12; i++)
        assert_true(chroma[i] == 0.0f);
}

static void test_chroma_bank_matches_librosa_doc(void **state)
{
    /* librosa.filters.chroma(sr=22050, n_fft=4096) as printed in its documentation, rows 0,
     * 1, 10 and 11 at bins 0, 1, 2047 and 2048. The printed rows count from A (the example
     * predates the rotation to C), so they are our A, A#, G and G#. Apply normalises each
     * column to its largest weight, so the ratios between rows of a column are compared. */
    static const size_t bins[4] = {0, 1, 2047, 2048}, rows[4] = {9, 10, 7, 8};
    static const double doc[4][4] = {
        {1.689e-05, 3.024e-04, 4.639e-17, 5.327e-17},
        {1.716e-05, 2.652e-04, 2.674e-25, 3.176e-25},
        {1.578e-05, 3.619e-04, 8.577e-06, 9.205e-06},
        {1.643e-05, 3.355e-04, 1.474e-10, 1.636e-10},
    };
    disco_chromabank *c;
    float *p = calloc(2049, sizeof *p), chroma[12];

    (void)state;
    assert_int_equal(disco_chromabank_new(22050.0, 4096, 0.0, &c, NULL), DISCO_OK);
    for (size_t b = 0; b < 4; b++) {
        p[bins[b]] = 1.0f;
        disco_chromabank_apply(c, p, chroma);
        p[bins[b]] = 0.0f;
        for (size_t r = 1; r < 4; r++) {
            double want = doc[r][b] / doc[0][b], got = chroma[rows[r]] / chroma[rows[0]];

            if (fabs(got / want - 1.0) > 1e-3)
                fail_msg("bin %zu row %zu: ratio %g, librosa %g", bins[b], rows[r], got, want);
        }
    }
    disco_chromabank_free(c);
    free(p);
}

/* Feeds `frames` frames of a tone at hz with the given amplitude. */
static void feed_tone(disco_tuning *t, double hz, double amp, size_t frames)
{
    float x[NFFT], p[NFFT / 2 + 1];

    for (size_t f = 0; f < frames; f++) {
        memset(x, 0, sizeof x);
        add_sine(x, NFFT, hz, amp, 0.37 * (double)f);
        power_of(x, NFFT, p);
        disco_tuning_add(t, p);
    }
}

static void test_tuning(void **state)
{
    static const double devs[] = {0.0, 0.2344, -0.3, 0.45};
    disco_tuning *t;
    float silence[NFFT / 2 + 1] = {0};

    (void)state;
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) { /* A4 and E5, detuned */
        assert_int_equal(disco_tuning_new(SR, NFFT, &t, NULL), DISCO_OK);
        feed_tone(t, 440.0 * pow(2.0, devs[i] / 12.0), 0.5, 2);
        feed_tone(t, 440.0 * pow(2.0, (7.0 + devs[i]) / 12.0), 0.4, 2);
        assert_near(disco_tuning_result(t), devs[i], 0.05);
        disco_tuning_free(t);
    }
    /* 446 Hz is 12 log2(446 / 440) = 0.2344 semitone sharp; the grid's bin is [0.23, 0.24) */
    assert_int_equal(disco_tuning_new(SR, NFFT, &t, NULL), DISCO_OK);
    feed_tone(t, 446.0, 0.5, 3);
    assert_near(disco_tuning_result(t), 0.23, 0.05);
    disco_tuning_free(t);
    /* nothing but silence: no peaks, 0 */
    assert_int_equal(disco_tuning_new(SR, NFFT, &t, NULL), DISCO_OK);
    disco_tuning_add(t, silence);
    assert_true(disco_tuning_result(t) == 0.0);
    disco_tuning_free(t);
}

static void test_tuning_median_vote(void **state)
{
    /* Tones at bin centres interpolate exactly: bin 44 (473.73 Hz) is +0.2773 semitone from
     * A#4, so it votes in [0.27, 0.28); bin 40 (430.66 Hz) is -0.3714 from A4: [-0.38, -0.37).
     * Five quiet frames of bin 40 and three loud of bin 44: a plain vote says -0.38, but only
     * peaks at or above the median height vote (the loudest quiet one and the loud ones). */
    double hz44 = 44 * SR / NFFT, hz40 = 40 * SR / NFFT;
    disco_tuning *t;

    (void)state;
    assert_int_equal(disco_tuning_new(SR, NFFT, &t, NULL), DISCO_OK);
    for (int i = 0; i < 5; i++)
        feed_tone(t, hz40, 0.1 + 0.05 * i, 1);
    feed_tone(t, hz44, 0.8, 3);
    assert_near(disco_tuning_result(t), 0.27, 1e-9);
    disco_tuning_free(t);
    assert_int_equal(disco_tuning_new(SR, NFFT, &t, NULL), DISCO_OK);
    for (int i = 0; i < 5; i++)
        feed_tone(t, hz40, 0.9 + 0.05 * i, 1);
    feed_tone(t, hz44, 0.8, 3);
    assert_near(disco_tuning_result(t), -0.38, 1e-9);
    disco_tuning_free(t);
}

/* --- scalar spectral features ------------------------------------------- */

static void features_of(const float *p, size_t n_fft, disco_spectral_frame *f)
{
    disco_spectral *s;
    float *scratch;

    assert_int_equal(disco_spectral_new(SR, n_fft, &s, NULL), DISCO_OK);
    scratch = afloats(disco_spectral_scratch_floats(s));
    disco_spectral_apply(s, p, scratch, f);
    free(scratch);
    disco_spectral_free(s);
}

static void test_spectral_sine_and_silence(void **state)
{
    float x[NFFT] = {0}, p[NFFT / 2 + 1];
    double hz = 200 * SR / NFFT, df = SR / NFFT;
    disco_spectral_frame f;

    (void)state;
    add_sine(x, NFFT, hz, 0.5, 0.2);
    power_of(x, NFFT, p);
    features_of(p, NFFT, &f);
    assert_near(f.centroid, hz, df);
    assert_true(f.bandwidth < 3.0 * df);
    assert_near(f.rolloff, hz, 2.0 * df);
    assert_true(f.flatness < 1e-3f);
    /* the sine sits in band 4 (1600..3200 Hz): strongly peaked there */
    assert_true(f.contrast[4] > 40.0f);
    memset(p, 0, sizeof p); /* silence: all 0 but flatness, 1 */
    features_of(p, NFFT, &f);
    assert_true(f.centroid == 0.0f && f.bandwidth == 0.0f && f.rolloff == 0.0f);
    assert_near(f.flatness, 1.0, 1e-4);
    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++)
        assert_true(f.contrast[b] == 0.0f);
}

static void white_noise_power(float *p, size_t frames)
{
    float x[NFFT], q[NFFT / 2 + 1];

    memset(p, 0, sizeof *p * (NFFT / 2 + 1));
    for (size_t t = 0; t < frames; t++) {
        for (size_t i = 0; i < NFFT; i++)
            x[i] = (float)rng_gauss();
        power_of(x, NFFT, q);
        for (size_t k = 0; k <= NFFT / 2; k++)
            p[k] += q[k] / (float)frames;
    }
}

static void test_spectral_white_noise(void **state)
{
    float p[NFFT / 2 + 1], x[NFFT] = {0};
    disco_spectral_frame f, sine;

    (void)state;
    rng_state = 99;
    /* One frame: periodogram values are exponential, so flatness -> exp(-Euler gamma);
     * averaged over 16 frames (each varies by ~5 %). */
    double flat = 0.0;

    for (int i = 0; i < 16; i++) {
        white_noise_power(p, 1);
        features_of(p, NFFT, &f);
        flat += f.flatness / 16.0;
    }
    assert_near(flat, exp(-0.5772156649), 0.03);
    assert_near(f.rolloff, 0.85 * SR / 2, 0.03 * SR / 2);
    assert_near(f.centroid, 0.5 * SR / 2, 0.03 * SR / 2);
    /* Averaged over 64 frames the spectrum is flat: flatness near 1, same roll-off. */
    white_noise_power(p, 64);
    features_of(p, NFFT, &f);
    assert_true(f.flatness > 0.97f && f.flatness <= 1.0f);
    assert_near(f.rolloff, 0.85 * SR / 2, 0.01 * SR / 2);
    /* a uniform spread over 0..Nyquist has standard deviation Nyquist / sqrt(12) */
    assert_near(f.bandwidth, SR / 2 / sqrt(12.0), 0.02 * SR / 2);
    /* a 1 kHz sine has far more contrast in its band (800..1600 Hz) than noise does */
    white_noise_power(p, 1);
    features_of(p, NFFT, &f);
    add_sine(x, NFFT, 1000.0, 0.5, 0.0);
    power_of(x, NFFT, p);
    features_of(p, NFFT, &sine);
    assert_true(sine.contrast[3] > f.contrast[3] + 20.0f);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* librosa's contrast, spelled out: bands by masks on the bin frequencies, full sorts. */
static void ref_contrast(const float *mag, size_t n_fft, float *out)
{
    size_t bins = n_fft / 2 + 1;
    double f_lo = 0.0, f_hi = 200.0, df = SR / n_fft;
    float *band = malloc(sizeof *band * bins);

    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++, f_lo = f_hi, f_hi *= 2.0) {
        size_t first = bins, last = 0, n = 0, q;
        double lo = 0.0, hi = 0.0;

        for (size_t k = 0; k < bins; k++)
            if (k * df >= f_lo && k * df <= f_hi) {
                first = k < first ? k : first;
                last = k;
            }
        first -= b > 0;
        if (b == DISCO_CONTRAST_BANDS - 1)
            last = bins - 1;
        q = (size_t)fmax(1.0, nearbyint(0.02 * (double)(last - first + 1)));
        for (size_t k = first; k <= last - (b < DISCO_CONTRAST_BANDS - 1); k++)
            band[n++] = mag[k];
        qsort(band, n, sizeof *band, cmp_float);
        for (size_t i = 0; i < q; i++) {
            lo += band[i];
            hi += band[n - 1 - i];
        }
        out[b] = (float)(10.0 * log10(fmax(hi / q, 1e-10) / fmax(lo / q, 1e-10)));
    }
    free(band);
}

/* Centroid, bandwidth and roll-off summed plainly in double. */
static void ref_moments(const float *mag, size_t n_fft, double *cbr)
{
    double df = SR / n_fft, sum = 0.0, fsum = 0.0, var = 0.0, cum = 0.0;
    size_t bins = n_fft / 2 + 1, k = 0;

    for (size_t i = 0; i < bins; i++) {
        sum += mag[i];
        fsum += i * df * mag[i];
    }
    for (size_t i = 0; i < bins; i++)
        var += mag[i] * pow(i * df - fsum / sum, 2.0);
    while ((cum += mag[k]) < 0.85 * sum)
        k++;
    cbr[0] = fsum / sum;
    cbr[1] = sqrt(var / sum);
    cbr[2] = k * df;
}

/*
 * Against plain references: contrast against full sorts (q 1 to 9 at 2048 points, up to 17
 * at 4096, over 32 at 32768), flatness against plain logs, centroid, bandwidth and roll-off
 * against double sums, on spectra spanning 200 dB, with zeros, and full of ties, also at
 * sizes whose bins fill no whole lane or chunk.
 */
static void test_spectral_reference(void **state)
{
    static const size_t sizes[] = {2048, 4096, 32768, 2000, 1998, 1166, 126};

    (void)state;
    rng_state = 1234;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], bins = n / 2 + 1;
        float *p = malloc(sizeof *p * bins), *mag = malloc(sizeof *mag * bins), want[7];
        double cbr[3];
        disco_spectral_frame f;

        for (int round = 0; round < 3; round++) {
            double logs = 0.0, sum = 0.0;

            for (size_t k = 0; k < bins; k++) {
                p[k] = round == 2 ? (float)(k % 7) : (float)pow(10.0, 4.0 * rng_gauss());
                p[k] = round == 1 && k % 13 == 0 ? 0.0f : p[k];
                mag[k] = sqrtf(p[k]);
                logs += log(fmax(p[k], 1e-10));
                sum += fmax(p[k], 1e-10);
            }
            features_of(p, n, &f);
            ref_contrast(mag, n, want);
            for (int b = 0; b < DISCO_CONTRAST_BANDS; b++)
                assert_near(f.contrast[b], want[b], 1e-3);
            assert_near(f.flatness / (exp(logs / bins) / (sum / bins)), 1.0, 1e-4);
            ref_moments(mag, n, cbr);
            assert_near(f.centroid, cbr[0], 1e-4 * cbr[0]);
            assert_near(f.bandwidth, cbr[1], 1e-4 * cbr[1]);
            assert_near(f.rolloff, cbr[2], 1e-6 * cbr[2]);
        }
        free(p);
        free(mag);
    }
}

static void test_zcr_and_rms(void **state)
{
    float x[NFFT] = {0}, tiny[64];

    (void)state;
    add_sine(x, NFFT, 1000.0, 0.7, 0.1);
    assert_near(disco_zcr(x, NFFT), 2.0 * 1000.0 / SR, 2.0 / NFFT);
    assert_near(disco_rms(x, NFFT), 0.7 / sqrt(2.0), 2e-3);
    /* 20 whole periods of 220.5 Hz: exactly amp / sqrt(2) and 40 crossings */
    memset(x, 0, sizeof x);
    add_sine(x, 2000, 220.5, 0.3, 0.4);
    assert_near(disco_rms(x, 2000), 0.3 / sqrt(2.0), 1e-6);
    assert_near(disco_zcr(x, 2000), 40.0 / 2000.0, 1e-7);
    for (size_t i = 0; i < 64; i++) /* values within 1e-10 of zero do not cross */
        tiny[i] = i % 2 ? 1e-11f : -1e-11f;
    assert_true(disco_zcr(tiny, 64) == 0.0f);
    tiny[10] = -1.0f;
    assert_near(disco_zcr(tiny, 64), 2.0 / 64.0, 1e-7);
    assert_true(disco_zcr(x, 0) == 0.0f && disco_rms(x, 0) == 0.0f);
}

/* --- bad arguments ------------------------------------------------------ */

static disco_status st;

/* `call` (which reports into st) fails with INVAL naming `fld`. */
#define assert_inval(call, fld)                                                                    \
    do {                                                                                           \
        assert_int_equal((call), DISCO_ERR_INVAL);                                                 \
        assert_string_equal(st.field, (fld));                                                      \
    } while (0)

static void test_bad_arguments(void **state)
{
    disco_stft *s = (disco_stft *)&st;
    disco_mel_config good = disco_mel_config_default(), cfg;
    disco_melbank *m = (disco_melbank *)&st;
    disco_dct *d;
    disco_chromabank *c = (disco_chromabank *)&st;
    disco_spectral *sp = (disco_spectral *)&st;
    disco_tuning *t;
    float x[4] = {0}, *spec = x;
    size_t frames = 7;

    (void)state;
    assert_inval(disco_stft_new(2047, 512, &s, &st), "n_fft");
    assert_null(s);
    assert_inval(disco_stft_new(8, 2, &s, &st), "n_fft");
    assert_inval(disco_stft_new(131072, 512, &s, &st), "n_fft");
    assert_inval(disco_stft_new(2048, 0, &s, &st), "hop");
    assert_inval(disco_stft_new(2048, 2049, &s, &st), "hop");
    assert_int_equal(disco_stft_new(16, 16, &s, &st), DISCO_OK);
    assert_int_equal(disco_stft_bins(s), 9);
    assert_inval(disco_stft_forward(s, x, 0, &spec, &frames, &st), "x");
    assert_true(spec == NULL && frames == 0);
    assert_inval(disco_stft_forward(s, NULL, 4, &spec, &frames, &st), "x");
    assert_inval(disco_stft_inverse(s, x, 0, 4, x, &st), "spec");
    assert_inval(disco_stft_inverse(s, NULL, 1, 4, x, &st), "spec");
    disco_stft_free(s);
    assert_inval((cfg = good, cfg.fmax = 20000.0, disco_melbank_new(&cfg, &m, &st)), "fmax");
    assert_null(m);
    assert_inval((cfg = good, cfg.fmin = -1.0, disco_melbank_new(&cfg, &m, &st)), "fmin");
    assert_inval((cfg = good, cfg.n_mels = 0, disco_melbank_new(&cfg, &m, &st)), "n_mels");
    assert_inval((cfg = good, cfg.rate = 0.0, disco_melbank_new(&cfg, &m, &st)), "rate");
    assert_inval((cfg = good, cfg.n_fft = 1001, disco_melbank_new(&cfg, &m, &st)), "n_fft");
    assert_inval(disco_dct_new(10, 11, &d, &st), "n_out");
    assert_inval(disco_dct_new(0, 0, &d, &st), "n_in");
    assert_inval(disco_chromabank_new(SR, NFFT, 0.7, &c, &st), "tuning");
    assert_null(c);
    assert_inval(disco_chromabank_new(-1.0, NFFT, 0.0, &c, &st), "rate");
    assert_inval(disco_tuning_new(SR, 100001, &t, &st), "n_fft");
    assert_inval(disco_spectral_new(8000.0, NFFT, &sp, &st), "rate"); /* contrast needs 6400 Hz */
    assert_null(sp);
    assert_inval(disco_spectral_new(SR, 16, &sp, &st), "n_fft"); /* a contrast band with no bin */
    assert_inval(disco_spectral_new(SR, 2049, &sp, &st), "n_fft");
    disco_stft_free(NULL);
    disco_melbank_free(NULL);
    disco_dct_free(NULL);
    disco_chromabank_free(NULL);
    disco_tuning_free(NULL);
    disco_spectral_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stft_sine_peak_and_parseval),
        cmocka_unit_test(test_stft_power_matches_direct_dft),
        cmocka_unit_test(test_stft_forward_frames),
        cmocka_unit_test(test_stft_roundtrip),
        cmocka_unit_test(test_stft_shared_by_threads),
        cmocka_unit_test(test_mel_scales_and_db),
        cmocka_unit_test(test_mel_filters),
        cmocka_unit_test(test_mel_centres),
        cmocka_unit_test(test_dct),
        cmocka_unit_test(test_chroma_tone_triad_silence),
        cmocka_unit_test(test_chroma_bank_matches_librosa_doc),
        cmocka_unit_test(test_tuning),
        cmocka_unit_test(test_tuning_median_vote),
        cmocka_unit_test(test_spectral_sine_and_silence),
        cmocka_unit_test(test_spectral_white_noise),
        cmocka_unit_test(test_spectral_reference),
        cmocka_unit_test(test_zcr_and_rms),
        cmocka_unit_test(test_bad_arguments),
    };

    return cmocka_run_group_tests_name("dsp/spectrum", tests, NULL, NULL);
}
