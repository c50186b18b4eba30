/*
 * stft.c - periodic-Hann short-time Fourier transforms on FFTW (single
 * precision): one frame to its power spectrum, a whole signal to complex
 * frames, and complex frames back to a signal.
 *
 * DESIGN: a disco_stft holds the window and three FFTW plans made once under
 * disco_fft_plan_lock() with FFTW_ESTIMATE: about a millisecond to plan, and
 * the choice does not depend on timing, so two runs give the same bits.
 * (FFTW_MEASURE runs a 2048-point frame in ~3 us instead of ~5 us, but
 * plans for ~0.3 s per size, more than it saves on a ten-minute file.)
 *
 *   fwd     r2c for SIMD-aligned scratch (the documented contract)
 *   fwd_u   r2c with FFTW_UNALIGNED, for a caller's scratch that is not
 *   inv     c2r, only ever run on buffers this file allocates
 *
 * Plans are then only executed through the new-array interface, which FFTW
 * documents as thread-safe, so one disco_stft may serve many threads.
 *
 * Scratch layout (floats): [0, real_len) the windowed frame, then the
 * n_fft/2 + 1 complex bins interleaved re,im. real_len is n_fft rounded up
 * to 8 floats so the complex half keeps the 32-byte alignment.
 *
 * Centred frames: frame t covers padded samples [t*hop, t*hop + n_fft) of
 * the signal reflect-padded by n_fft/2 at both ends (numpy "reflect", the
 * edge sample not repeated), so frames = 1 + n / hop.
 */
#include "disco/spectrum.h"
#include "disco/fftlock.h"

#include <fftw3.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STFT_NFFT_MIN 16
#define STFT_NFFT_MAX 65536

struct disco_stft {
    size_t n_fft, hop, bins, real_len;
    float *window;
    fftwf_plan fwd, fwd_u, inv;
};

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void destroy_plans(disco_stft *s)
{
    disco_fft_plan_lock();
    if (s->fwd)
        fftwf_destroy_plan(s->fwd);
    if (s->fwd_u)
        fftwf_destroy_plan(s->fwd_u);
    if (s->inv)
        fftwf_destroy_plan(s->inv);
    disco_fft_plan_unlock();
}

/* Plans on a scratch-shaped buffer; 0 or NOMEM. */
static int make_plans(disco_stft *s)
{
    float *buf = fftwf_malloc(sizeof(float) * disco_stft_scratch_floats(s));
    int n = (int)s->n_fft, rc = DISCO_OK;

    if (!buf)
        return DISCO_ERR_NOMEM;
    float *re = buf;
    fftwf_complex *cx = (fftwf_complex *)(buf + s->real_len);

    disco_fft_plan_lock();
    s->fwd = fftwf_plan_dft_r2c_1d(n, re, cx, FFTW_ESTIMATE);
    s->fwd_u = fftwf_plan_dft_r2c_1d(n, re, cx, FFTW_ESTIMATE | FFTW_UNALIGNED);
    s->inv = fftwf_plan_dft_c2r_1d(n, cx, re, FFTW_ESTIMATE);
    disco_fft_plan_unlock();
    if (!s->fwd || !s->fwd_u || !s->inv)
        rc = DISCO_ERR_INTERNAL;
    fftwf_free(buf);
    return rc;
}

int disco_stft_new(size_t n_fft, size_t hop, disco_stft **out, disco_status *st)
{
    disco_stft *s;
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    *out = NULL;
    if (n_fft < STFT_NFFT_MIN || n_fft > STFT_NFFT_MAX || n_fft % 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                "n_fft %zu must be even and in %d..%d", n_fft, STFT_NFFT_MIN,
                                STFT_NFFT_MAX);
    if (hop < 1 || hop > n_fft)
        return disco_status_set(st, DISCO_ERR_INVAL, "hop", "hop %zu out of range 1..%zu", hop,
                                n_fft);
    s = calloc(1, sizeof *s);
    if (!s)
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for an STFT plan");
    s->n_fft = n_fft;
    s->hop = hop;
    s->bins = n_fft / 2 + 1;
    s->real_len = round8(n_fft);
    s->window = malloc(sizeof *s->window * n_fft);
    if (!s->window) {
        disco_stft_free(s);
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for a %zu-point window",
                                n_fft);
    }
    for (size_t i = 0; i < n_fft; i++)
        s->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n_fft));
    rc = make_plans(s);
    if (rc) {
        disco_stft_free(s);
        return disco_status_set(st, rc, "n_fft", "FFTW could not plan a %zu-point transform",
                                n_fft);
    }
    *out = s;
    return DISCO_OK;
}

void disco_stft_free(disco_stft *s)
{
    if (!s)
        return;
    destroy_plans(s);
    free(s->window);
    free(s);
}

size_t disco_stft_bins(const disco_stft *s)
{
    return s->bins;
}

size_t disco_stft_scratch_floats(const disco_stft *s)
{
    return s->real_len + 2 * s->bins;
}

/* Runs the r2c plan that fits the scratch's alignment. */
static void forward_frame(const disco_stft *s, float *scratch)
{
    fftwf_complex *cx = (fftwf_complex *)(scratch + s->real_len);
    fftwf_plan p = fftwf_alignment_of(scratch) ? s->fwd_u : s->fwd;

    fftwf_execute_dft_r2c(p, scratch, cx);
}

void disco_stft_power(const disco_stft *s, const float *frame, float *power, float *scratch)
{
    const float *restrict w = s->window;
    float *restrict re = scratch;
    const float *restrict cx = scratch + s->real_len;

    for (size_t i = 0; i < s->n_fft; i++)
        re[i] = frame[i] * w[i];
    forward_frame(s, scratch);
    for (size_t k = 0; k < s->bins; k++)
        power[k] = cx[2 * k] * cx[2 * k] + cx[2 * k + 1] * cx[2 * k + 1];
}

/* numpy "reflect" index of padded position i (may be negative) into [0, n). */
static size_t reflect_index(long long i, size_t n)
{
    long long period, m;

    if (n == 1)
        return 0;
    period = 2 * (long long)(n - 1);
    m = i % period;
    if (m < 0)
        m += period;
    return (size_t)(m < (long long)n ? m : period - m);
}

/* Windowed frame t of the reflect-padded signal into re[0, n_fft). */
static void load_frame(const disco_stft *s, const float *x, size_t n, size_t t, float *re)
{
    long long start = (long long)(t * s->hop) - (long long)(s->n_fft / 2);

    if (start >= 0 && (size_t)start + s->n_fft <= n) {
        const float *src = x + start;

        for (size_t j = 0; j < s->n_fft; j++)
            re[j] = src[j] * s->window[j];
        return;
    }
    for (size_t j = 0; j < s->n_fft; j++)
        re[j] = x[reflect_index(start + (long long)j, n)] * s->window[j];
}

int disco_stft_forward(const disco_stft *s, const float *x, size_t n, float **spec, size_t *frames,
                       disco_status *st)
{
    size_t nf, per_frame = 2 * s->bins;
    float *scratch, *out;

    if (!spec || !frames)
        return disco_status_set(st, DISCO_ERR_INVAL, spec ? "frames" : "spec", "%s is NULL",
                                spec ? "frames" : "spec");
    *spec = NULL;
    *frames = 0;
    if (!x || n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "signal is %s", x ? "empty" : "NULL");
    nf = 1 + n / s->hop;
    if (nf > SIZE_MAX / sizeof(float) / per_frame)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "signal of %zu samples too long", n);
    out = malloc(sizeof *out * nf * per_frame);
    scratch = fftwf_malloc(sizeof *scratch * disco_stft_scratch_floats(s));
    if (!out || !scratch) {
        free(out);
        fftwf_free(scratch);
        return disco_status_set(st, DISCO_ERR_NOMEM, "n", "no memory for %zu STFT frames", nf);
    }
    for (size_t t = 0; t < nf; t++) {
        load_frame(s, x, n, t, scratch);
        forward_frame(s, scratch);
        memcpy(out + t * per_frame, scratch + s->real_len, sizeof *out * per_frame);
    }
    fftwf_free(scratch);
    *spec = out;
    *frames = nf;
    return DISCO_OK;
}

/* Sum of squared windows over the frames covering padded position p. */
static float window_sumsquare(const disco_stft *s, size_t frames, size_t p)
{
    size_t t_lo = p >= s->n_fft ? (p - s->n_fft) / s->hop + 1 : 0;
    size_t t_hi = p / s->hop;
    float sum = 0.0f;

    if (t_hi > frames - 1)
        t_hi = frames - 1;
    for (size_t t = t_lo; t <= t_hi; t++) {
        float w = s->window[p - t * s->hop];

        sum += w * w;
    }
    return sum;
}

/* Adds window * irfft(frame t) / n_fft into x where it lands inside [0, n). */
static void add_frame(const disco_stft *s, const float *re, size_t t, float *x, size_t n)
{
    long long start = (long long)(t * s->hop) - (long long)(s->n_fft / 2);
    float scale = 1.0f / (float)s->n_fft;
    size_t j0 = start < 0 ? (size_t)(-start) : 0;

    for (size_t j = j0; j < s->n_fft; j++) {
        size_t i = (size_t)(start + (long long)j);

        if (i >= n)
            break;
        x[i] += re[j] * s->window[j] * scale;
    }
}

int disco_stft_inverse(const disco_stft *s, const float *spec, size_t frames, size_t n, float *x,
                       disco_status *st)
{
    size_t per_frame = 2 * s->bins, half = s->n_fft / 2;
    float *scratch;

    if (!spec || frames == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "spec", "spectrogram is %s",
                                spec ? "empty" : "NULL");
    if (!x && n > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x is NULL");
    scratch = fftwf_malloc(sizeof *scratch * disco_stft_scratch_floats(s));
    if (!scratch)
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for a %zu-point frame",
                                s->n_fft);
    if (n > 0)
        memset(x, 0, sizeof *x * n);
    for (size_t t = 0; t < frames; t++) {
        float *cx = scratch + s->real_len;

        memcpy(cx, spec + t * per_frame, sizeof *cx * per_frame);
        fftwf_execute_dft_c2r(s->inv, (fftwf_complex *)cx, scratch);
        add_frame(s, scratch, t, x, n);
    }
    fftwf_free(scratch);
    for (size_t i = 0; i < n; i++) {
        float wss = window_sumsquare(s, frames, i + half);

        if (wss > FLT_MIN)
            x[i] /= wss;
    }
    return DISCO_OK;
}
