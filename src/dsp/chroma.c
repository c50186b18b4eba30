/*
 * chroma.c - 12-bin chroma filterbank for STFT frames, and the tuning
 * estimate (in fractions of a semitone) it is built for.
 *
 * Filterbank (librosa.filters.chroma): bin k sits at
 *   b(k) = 12 log2(f_k / (A0 * 2^(tuning/12))),  A0 = 27.5 Hz,
 * (the DC bin is put 18 semitones below bin 1); its weight for pitch class
 * c is a Gaussian in the circular distance d = b(k) - c (mod 12, in -6..6)
 * with width half the bin's own width in semitones (at least 1):
 *   exp(-0.5 (2 d / width(k))^2),
 * each bin's 12 weights scaled to unit L2 norm, then multiplied by an
 * octave emphasis exp(-0.5 ((b(k)/12 - 5) / 2)^2) centred on A5 (880 Hz).
 * Rows are rotated so class 0 is C (A is 9).
 *
 * Tuning (librosa.estimate_tuning on the frames given, as chroma_stft does
 * with its power spectrogram): in each frame, bins between 150 and 4000 Hz
 * that are local maxima of the frame thresholded at 0.1 x its maximum give
 * a parabolic-interpolated pitch and height. Over all frames, the peaks at
 * least as high as the median height vote in a histogram of the pitch's
 * deviation from the equal-tempered grid (100 bins of 0.01 semitone from
 * -0.5); the result is the left edge of the fullest bin.
 *
 * DESIGN: the weights are stored bin-major (bins x 12) so applying them is
 * one pass over the spectrum adding into 12 independent accumulators. The
 * tuning accumulator keeps every peak (height and histogram bin, 5 bytes)
 * because the median is over the whole input; the median is found by a
 * 4-pass radix selection on the float bits, so the result needs no extra
 * memory and leaves the accumulator untouched.
 */
#include "disco/spectrum.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_CHROMA 12
#define CHROMA_CTROCT 5.0
#define CHROMA_OCTWIDTH 2.0
#define A0_HZ 27.5 /* A440 / 16: octave 0 of the semitone count */

#define TUNING_FMIN 150.0
#define TUNING_FMAX 4000.0
#define TUNING_THRESHOLD 0.1f
#define TUNING_BINS 100 /* resolution 0.01 semitone over -0.5..0.5 */
#define TUNING_PEAKS_INIT 4096
#define TUNING_PEAKS_MAX ((size_t)1 << 22)

struct disco_chromabank {
    size_t bins;
    float *w; /* bins x 12 */
};

struct disco_tuning {
    double rate;
    size_t n_fft, bins, k_lo, k_hi; /* peaks are looked for in bins [k_lo, k_hi) */
    float *height;
    uint8_t *hbin;
    size_t n, cap;
};

static int check_rate_nfft(double rate, size_t n_fft, disco_status *st)
{
    if (!(rate > 0.0) || !isfinite(rate))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "rate %g must be positive", rate);
    if (n_fft < 16 || n_fft > 65536 || n_fft % 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                "n_fft %zu must be even and in 16..65536", n_fft);
    return DISCO_OK;
}

/* b(k) for every FFT bin, the DC bin 18 semitones below bin 1. */
static void semitone_positions(double rate, size_t n_fft, double tuning, double *b)
{
    double ref = A0_HZ * pow(2.0, tuning / N_CHROMA);

    for (size_t k = 1; k < n_fft; k++)
        b[k] = N_CHROMA * log2((double)k * rate / (double)n_fft / ref);
    b[0] = b[1] - 1.5 * N_CHROMA;
}

/* The 12 weights of bin k (before the rotation to C), width w in semitones. */
static void bin_weights(double bk, double width, double *out)
{
    double norm = 0.0, oct = (bk / N_CHROMA - CHROMA_CTROCT) / CHROMA_OCTWIDTH;

    for (int c = 0; c < N_CHROMA; c++) {
        double d = fmod(bk - c + N_CHROMA / 2 + 10.0 * N_CHROMA, (double)N_CHROMA);

        if (d < 0.0)
            d += N_CHROMA;
        d -= N_CHROMA / 2;
        out[c] = exp(-0.5 * (2.0 * d / width) * (2.0 * d / width));
        norm += out[c] * out[c];
    }
    norm = sqrt(norm);
    for (int c = 0; c < N_CHROMA; c++)
        out[c] = out[c] / (norm > 0.0 ? norm : 1.0) * exp(-0.5 * oct * oct);
}

int disco_chromabank_new(double rate, size_t n_fft, double tuning, disco_chromabank **out,
                         disco_status *st)
{
    disco_chromabank *c;
    double *b, wts[N_CHROMA];
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    *out = NULL;
    rc = check_rate_nfft(rate, n_fft, st);
    if (rc)
        return rc;
    if (!(tuning >= -0.5 && tuning <= 0.5))
        return disco_status_set(st, DISCO_ERR_INVAL, "tuning",
                                "tuning %g out of range -0.5..0.5 semitone", tuning);
    c = calloc(1, sizeof *c);
    b = malloc(sizeof *b * n_fft);
    if (c) {
        c->bins = n_fft / 2 + 1;
        c->w = malloc(sizeof *c->w * c->bins * N_CHROMA);
    }
    if (!c || !b || !c->w) {
        free(b);
        disco_chromabank_free(c);
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for a chroma bank");
    }
    semitone_positions(rate, n_fft, tuning, b);
    for (size_t k = 0; k < c->bins; k++) {
        double width = k + 1 < n_fft ? fmax(b[k + 1] - b[k], 1.0) : 1.0;

        bin_weights(b[k], width, wts);
        for (int p = 0; p < N_CHROMA; p++) /* class p (0 = C) is row p + 3 (0 = A) */
            c->w[k * N_CHROMA + (size_t)p] = (float)wts[(p + 3) % N_CHROMA];
    }
    free(b);
    *out = c;
    return DISCO_OK;
}

void disco_chromabank_free(disco_chromabank *c)
{
    if (!c)
        return;
    free(c->w);
    free(c);
}

void disco_chromabank_apply(const disco_chromabank *c, const float *spec, float *chroma)
{
    /* four bins per step into four accumulator sets, so the adds do not wait on each other */
    float acc[4][N_CHROMA] = {{0}}, top = 0.0f;
    size_t k = 0;

    for (; k + 4 <= c->bins; k += 4) {
        const float *restrict w = c->w + k * N_CHROMA;

        for (int b = 0; b < 4; b++)
            for (int p = 0; p < N_CHROMA; p++)
                acc[b][p] += w[b * N_CHROMA + p] * spec[k + (size_t)b];
    }
    for (; k < c->bins; k++)
        for (int p = 0; p < N_CHROMA; p++)
            acc[0][p] += c->w[k * N_CHROMA + (size_t)p] * spec[k];
    for (int p = 0; p < N_CHROMA; p++) {
        acc[0][p] = (acc[0][p] + acc[1][p]) + (acc[2][p] + acc[3][p]);
        top = fabsf(acc[0][p]) > top ? fabsf(acc[0][p]) : top;
    }
    for (int p = 0; p < N_CHROMA; p++)
        chroma[p] = top > FLT_MIN ? acc[0][p] / top : 0.0f;
}

/* --- tuning ------------------------------------------------------------- */

int disco_tuning_new(double rate, size_t n_fft, disco_tuning **out, disco_status *st)
{
    disco_tuning *t;
    double df = rate / (double)n_fft, fmax;
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    *out = NULL;
    rc = check_rate_nfft(rate, n_fft, st);
    if (rc)
        return rc;
    t = calloc(1, sizeof *t);
    if (!t)
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for a tuning estimate");
    t->rate = rate;
    t->n_fft = n_fft;
    t->bins = n_fft / 2 + 1;
    fmax = fmin(TUNING_FMAX, rate / 2.0);
    while (t->k_lo < t->bins && (double)t->k_lo * df < TUNING_FMIN)
        t->k_lo++;
    t->k_hi = t->k_lo;
    while (t->k_hi < t->bins && (double)t->k_hi * df < fmax)
        t->k_hi++;
    /* every candidate has both neighbours: k_lo >= 1 and k_hi <= bins - 1 */
    *out = t;
    return DISCO_OK;
}

void disco_tuning_free(disco_tuning *t)
{
    if (!t)
        return;
    free(t->height);
    free(t->hbin);
    free(t);
}

/* Histogram bin (0..99) of a pitch's deviation from the semitone grid. */
static uint8_t deviation_bin(double hz)
{
    double x = N_CHROMA * log2(hz / A0_HZ), r = x - floor(x);
    int b;

    if (r >= 0.5)
        r -= 1.0;
    b = (int)floor((r + 0.5) * TUNING_BINS);
    b = b < 0 ? 0 : b > TUNING_BINS - 1 ? TUNING_BINS - 1 : b;
    while (b > 0 && r < -0.5 + b * 0.01)
        b--;
    while (b < TUNING_BINS - 1 && r >= -0.5 + (b + 1) * 0.01)
        b++;
    return (uint8_t)b;
}

/* Room for one more peak; 0 when the accumulator is full or memory ran out. */
static int reserve_peak(disco_tuning *t)
{
    size_t cap;
    float *h;
    uint8_t *b;

    if (t->n < t->cap)
        return 1;
    if (t->cap >= TUNING_PEAKS_MAX)
        return 0;
    cap = t->cap ? 2 * t->cap : TUNING_PEAKS_INIT;
    h = realloc(t->height, sizeof *h * cap);
    if (!h)
        return 0;
    t->height = h;
    b = realloc(t->hbin, sizeof *b * cap);
    if (!b)
        return 0;
    t->hbin = b;
    t->cap = cap;
    return 1;
}

static void add_peak(disco_tuning *t, const float *s, size_t k)
{
    float avg = 0.5f * (s[k + 1] - s[k - 1]);
    float curv = 2.0f * s[k] - s[k + 1] - s[k - 1];
    float shift = avg / curv; /* curv > 0 at a local maximum */
    float height = s[k] + 0.5f * avg * shift;
    double hz = ((double)k + shift) * t->rate / (double)t->n_fft;

    if (!(hz > 0.0) || !isfinite(height) || !reserve_peak(t))
        return;
    t->height[t->n] = height;
    t->hbin[t->n] = deviation_bin(hz);
    t->n++;
}

void disco_tuning_add(disco_tuning *t, const float *power)
{
    float top = 0.0f, ref;

    for (size_t k = 0; k < t->bins; k++)
        top = power[k] > top ? power[k] : top;
    ref = TUNING_THRESHOLD * top;
    for (size_t k = t->k_lo; k < t->k_hi; k++) {
        float v = power[k];
        float left = power[k - 1] > ref ? power[k - 1] : 0.0f;
        float right = power[k + 1] > ref ? power[k + 1] : 0.0f;

        if (v > ref && v > left && v >= right)
            add_peak(t, power, k);
    }
}

/* Order-preserving map of a float to an unsigned key. */
static uint32_t float_key(float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t key)
{
    uint32_t u = (key & 0x80000000u) ? key & 0x7fffffffu : ~key;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

/* The k-th smallest (0-based) of v[0..n) by radix selection, one byte per pass. */
static float kth_smallest(const float *v, size_t n, size_t k)
{
    uint32_t prefix = 0, mask = 0;

    for (int shift = 24; shift >= 0; shift -= 8) {
        size_t hist[256] = {0}, b = 0;

        for (size_t i = 0; i < n; i++) {
            uint32_t key = float_key(v[i]);

            if ((key & mask) == prefix)
                hist[(key >> shift) & 0xffu]++;
        }
        while (k >= hist[b])
            k -= hist[b++];
        prefix |= (uint32_t)b << shift;
        mask |= 0xffu << shift;
    }
    return key_float(prefix);
}

double disco_tuning_result(const disco_tuning *t)
{
    size_t counts[TUNING_BINS] = {0}, best = 0;
    float median;

    if (t->n == 0)
        return 0.0;
    median = kth_smallest(t->height, t->n, t->n / 2);
    if (t->n % 2 == 0)
        median = (kth_smallest(t->height, t->n, t->n / 2 - 1) + median) / 2.0f;
    for (size_t i = 0; i < t->n; i++)
        if (t->height[i] >= median)
            counts[t->hbin[i]]++;
    for (size_t b = 1; b < TUNING_BINS; b++)
        if (counts[b] > counts[best])
            best = b;
    return -0.5 + (double)best * 0.01;
}
