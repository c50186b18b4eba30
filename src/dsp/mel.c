/*
 * mel.c - mel filterbank (Slaney or HTK scale), power to dB, and the
 * orthonormal DCT-II that turns log-mel frames into MFCC.
 *
 * The filters are librosa.filters.mel's: n_mels + 2 edge frequencies evenly
 * spaced in mel between fmin and fmax; filter i rises linearly from edge i
 * to edge i+1 and falls to edge i+2 (in Hz, sampled at the FFT bin
 * frequencies k * rate / n_fft), optionally scaled by 2 / (f[i+2] - f[i])
 * so each has unit area in Hz.
 *
 * DESIGN: a triangle touches only the bins between its outer edges, so each
 * filter stores its first bin and a run of weights, all runs packed into one
 * array; applying the bank costs about two multiply-adds per bin. The DCT is
 * a dense precomputed matrix, one row per coefficient; both use a dot
 * product in eight independent lanes.
 */
#include "disco/spectrum.h"

#include <math.h>
#include <stdlib.h>

/* Slaney scale: linear (200/3 Hz per mel) to 1000 Hz, then log with 27 mels per factor 6.4. */
#define SLANEY_F_SP (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)
#define SLANEY_LOGSTEP (log(6.4) / 27.0)

#define DB_AMIN 1e-10f

struct disco_melbank {
    size_t n_mels, bins;
    size_t *first;  /* n_mels: first bin of each filter */
    size_t *count;  /* n_mels: bins it covers */
    size_t *offset; /* n_mels: start of its run in weights */
    float *weights;
};

struct disco_dct {
    size_t n_in, n_out;
    float *basis; /* n_out x n_in */
};

double disco_hz_to_mel(double hz, int htk)
{
    if (htk)
        return 2595.0 * log10(1.0 + hz / 700.0);
    if (hz < SLANEY_MIN_LOG_HZ)
        return hz / SLANEY_F_SP;
    return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
}

double disco_mel_to_hz(double mel, int htk)
{
    if (htk)
        return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    if (mel < SLANEY_MIN_LOG_MEL)
        return mel * SLANEY_F_SP;
    return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
}

disco_mel_config disco_mel_config_default(void)
{
    return (disco_mel_config){.rate = 22050.0,
                              .n_fft = 2048,
                              .n_mels = 128,
                              .fmin = 0.0,
                              .fmax = 0.0,
                              .htk = 0,
                              .norm = 1};
}

static int check_mel_config(const disco_mel_config *cfg, double fmax, disco_status *st)
{
    if (!(cfg->rate > 0.0) || !isfinite(cfg->rate))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "rate %g must be positive", cfg->rate);
    if (cfg->n_fft < 16 || cfg->n_fft > 65536 || cfg->n_fft % 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                "n_fft %zu must be even and in 16..65536", cfg->n_fft);
    if (cfg->n_mels < 1 || cfg->n_mels > 4096)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_mels", "n_mels %zu out of range 1..4096",
                                cfg->n_mels);
    if (!(cfg->fmin >= 0.0) || !(fmax > cfg->fmin) || !(fmax <= cfg->rate / 2.0))
        return disco_status_set(st, DISCO_ERR_INVAL, !(cfg->fmin >= 0.0) ? "fmin" : "fmax",
                                "mel range %g..%g Hz must satisfy 0 <= fmin < fmax <= rate/2 "
                                "(%g)",
                                cfg->fmin, fmax, cfg->rate / 2.0);
    return DISCO_OK;
}

/* Weight of filter with edges lo < mid < hi at frequency f (triangle of peak 1). */
static double triangle(double lo, double mid, double hi, double f)
{
    double up = (f - lo) / (mid - lo), down = (hi - f) / (hi - mid);
    double w = up < down ? up : down;

    return w > 0.0 ? w : 0.0;
}

/* Filter edges in Hz: n_mels + 2 points evenly spaced in mel. */
static void mel_edges(const disco_mel_config *cfg, double fmax, double *edges)
{
    double m_lo = disco_hz_to_mel(cfg->fmin, cfg->htk), m_hi = disco_hz_to_mel(fmax, cfg->htk);
    size_t n = cfg->n_mels + 2;

    for (size_t i = 0; i < n; i++)
        edges[i] = disco_mel_to_hz(m_lo + (m_hi - m_lo) * (double)i / (double)(n - 1), cfg->htk);
}

/* Finds every filter's support and fills the packed weight runs. */
static int fill_filters(disco_melbank *m, const disco_mel_config *cfg, const double *edges)
{
    double df = cfg->rate / (double)cfg->n_fft;
    size_t total = 0;

    for (size_t i = 0; i < m->n_mels; i++) {
        size_t k = (size_t)floor(edges[i] / df);

        while (k < m->bins && !((double)k * df > edges[i]))
            k++;
        m->first[i] = k;
        m->count[i] = 0;
        while (k < m->bins && (double)k * df < edges[i + 2]) {
            m->count[i]++;
            k++;
        }
        m->offset[i] = total;
        total += m->count[i];
    }
    m->weights = malloc(sizeof *m->weights * (total ? total : 1));
    if (!m->weights)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < m->n_mels; i++) {
        double scale = cfg->norm ? 2.0 / (edges[i + 2] - edges[i]) : 1.0;

        for (size_t j = 0; j < m->count[i]; j++) {
            double f = (double)(m->first[i] + j) * df;

            m->weights[m->offset[i] + j] =
                (float)(scale * triangle(edges[i], edges[i + 1], edges[i + 2], f));
        }
    }
    return DISCO_OK;
}

int disco_melbank_new(const disco_mel_config *cfg, disco_melbank **out, disco_status *st)
{
    disco_melbank *m;
    double *edges, fmax;
    int rc;

    if (!out || !cfg)
        return disco_status_set(st, DISCO_ERR_INVAL, out ? "cfg" : "out", "%s is NULL",
                                out ? "cfg" : "out");
    *out = NULL;
    fmax = cfg->fmax > 0.0 ? cfg->fmax : cfg->rate / 2.0;
    rc = check_mel_config(cfg, fmax, st);
    if (rc)
        return rc;
    m = calloc(1, sizeof *m);
    edges = malloc(sizeof *edges * (cfg->n_mels + 2));
    if (!m || !edges)
        goto nomem;
    m->n_mels = cfg->n_mels;
    m->bins = cfg->n_fft / 2 + 1;
    m->first = malloc(sizeof *m->first * m->n_mels);
    m->count = malloc(sizeof *m->count * m->n_mels);
    m->offset = malloc(sizeof *m->offset * m->n_mels);
    if (!m->first || !m->count || !m->offset)
        goto nomem;
    mel_edges(cfg, fmax, edges);
    if (fill_filters(m, cfg, edges))
        goto nomem;
    free(edges);
    *out = m;
    return DISCO_OK;
nomem:
    free(edges);
    disco_melbank_free(m);
    return disco_status_set(st, DISCO_ERR_NOMEM, "n_mels", "no memory for %zu mel filters",
                            cfg->n_mels);
}

void disco_melbank_free(disco_melbank *m)
{
    if (!m)
        return;
    free(m->first);
    free(m->count);
    free(m->offset);
    free(m->weights);
    free(m);
}

/* Dot product in eight independent lanes (the adds do not wait on each other and vectorise). */
static float dot(const float *restrict a, const float *restrict b, size_t n)
{
    float lane[8] = {0}, sum = 0.0f;
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        for (size_t j = 0; j < 8; j++)
            lane[j] += a[i + j] * b[i + j];
    for (; i < n; i++)
        sum += a[i] * b[i];
    return sum + ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

void disco_melbank_apply(const disco_melbank *m, const float *power, float *mel)
{
    for (size_t i = 0; i < m->n_mels; i++)
        mel[i] = dot(m->weights + m->offset[i], power + m->first[i], m->count[i]);
}

void disco_power_to_db(float *x, size_t n)
{
    /* 10 log10(v) = 10 log10(2) log2(v); log2f is the fastest accurate log in glibc. */
    const float k = 3.0102999566398120f;

    for (size_t i = 0; i < n; i++)
        x[i] = k * log2f(x[i] > DB_AMIN ? x[i] : DB_AMIN);
}

int disco_dct_new(size_t n_in, size_t n_out, disco_dct **out, disco_status *st)
{
    disco_dct *d;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    *out = NULL;
    if (n_in < 1 || n_in > 65536)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_in", "n_in %zu out of range 1..65536",
                                n_in);
    if (n_out < 1 || n_out > n_in)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_out", "n_out %zu out of range 1..%zu",
                                n_out, n_in);
    d = calloc(1, sizeof *d);
    if (d)
        d->basis = malloc(sizeof *d->basis * n_in * n_out);
    if (!d || !d->basis) {
        free(d);
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_in", "no memory for a %zu x %zu DCT", n_out,
                                n_in);
    }
    d->n_in = n_in;
    d->n_out = n_out;
    for (size_t k = 0; k < n_out; k++) {
        double scale = sqrt((k ? 2.0 : 1.0) / (double)n_in);

        for (size_t i = 0; i < n_in; i++)
            d->basis[k * n_in + i] =
                (float)(scale * cos(M_PI * (double)k * (2.0 * (double)i + 1.0) / (2.0 * n_in)));
    }
    *out = d;
    return DISCO_OK;
}

void disco_dct_free(disco_dct *d)
{
    if (!d)
        return;
    free(d->basis);
    free(d);
}

void disco_dct_apply(const disco_dct *d, const float *in, float *out)
{
    for (size_t k = 0; k < d->n_out; k++)
        out[k] = dot(d->basis + k * d->n_in, in, d->n_in);
}
