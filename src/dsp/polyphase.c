/*
 * polyphase.c - rational-ratio polyphase FIR resampler for analysis
 * (see polyphase.h for the design and its figures).
 *
 * Input sample n has absolute index n. Output j sits at time t = j M / L,
 * base = floor(t), phase p = (j M) mod L, and
 *
 *     y[j] = sum_{i=0}^{TAPS-1} h[p][i] * x[base - HALF + 1 + i]
 *
 * with h[p][i] = g(p / L - (i - HALF + 1)), g the windowed sinc. The buffer
 * keeps the input from index `start` on; HALF-1 zeros stand for x[<0].
 */
#include "disco/polyphase.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAPS 64
#define HALF (TAPS / 2)
#define MAX_L 1024
#define BLOCK 8192
#define KAISER_BETA 8.0
#define CUTOFF 0.94

struct disco_polyphase {
    int64_t L, M;
    float *table;    /* L x TAPS */
    float *buf;      /* input from absolute index `start` */
    size_t len, cap; /* samples held, capacity */
    int64_t start;   /* absolute index of buf[0] */
    int64_t total;   /* input samples pushed so far */
    int64_t base;    /* floor(j M / L) of the next output */
    int64_t phase;   /* (j M) mod L of the next output */
    int64_t j;       /* next output index */
};

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Modified Bessel function of the first kind, order 0 (power series). */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 50 && term > 1e-12 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/* The windowed sinc at offset `t` input samples; `fc` = cutoff / input Nyquist. */
static double kernel(double t, double fc)
{
    double r = t / HALF;
    if (r <= -1.0 || r >= 1.0)
        return 0.0;
    double w = bessel_i0(KAISER_BETA * sqrt(1.0 - r * r)) / bessel_i0(KAISER_BETA);
    double x = M_PI * fc * t;
    double s = fabs(x) < 1e-12 ? 1.0 : sin(x) / x;
    return fc * s * w;
}

static void build_table(disco_polyphase *p)
{
    double fc = CUTOFF * (p->L < p->M ? (double)p->L / (double)p->M : 1.0);
    for (int64_t ph = 0; ph < p->L; ph++) {
        double frac = (double)ph / (double)p->L, sum = 0.0;
        float *row = p->table + ph * TAPS;
        for (int i = 0; i < TAPS; i++) {
            double v = kernel(frac - (double)(i - HALF + 1), fc);
            row[i] = (float)v;
            sum += v;
        }
        for (int i = 0; i < TAPS; i++) /* unity DC gain in every phase */
            row[i] = (float)(row[i] / sum);
    }
}

int disco_polyphase_new(int in_rate, int out_rate, disco_polyphase **out, disco_status *st)
{
    *out = NULL;
    if (in_rate < 1000 || in_rate > 768000)
        return disco_status_set(st, DISCO_ERR_INVAL, "in_rate",
                                "input rate %d Hz is outside 1000..768000", in_rate);
    if (out_rate < 1000 || out_rate > 768000)
        return disco_status_set(st, DISCO_ERR_INVAL, "out_rate",
                                "output rate %d Hz is outside 1000..768000", out_rate);
    int64_t g = gcd64(in_rate, out_rate);
    if (out_rate / g > MAX_L)
        return disco_status_set(st, DISCO_ERR_INVAL, "out_rate",
                                "ratio %d/%d needs %lld phases, more than %d", out_rate, in_rate,
                                (long long)(out_rate / g), MAX_L);
    disco_polyphase *p = calloc(1, sizeof(*p));
    if (!p)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the resampler");
    p->L = out_rate / g;
    p->M = in_rate / g;
    p->cap = BLOCK + 2 * TAPS;
    p->table = malloc(sizeof(float) * (size_t)p->L * TAPS);
    p->buf = calloc(p->cap, sizeof(float));
    if (!p->table || !p->buf) {
        disco_polyphase_free(p);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the resampler");
    }
    build_table(p);
    p->len = HALF - 1; /* zeros for x[-(HALF-1) .. -1] */
    p->start = -(HALF - 1);
    *out = p;
    return DISCO_OK;
}

void disco_polyphase_free(disco_polyphase *p)
{
    if (!p)
        return;
    free(p->table);
    free(p->buf);
    free(p);
}

size_t disco_polyphase_out_bound(const disco_polyphase *p, size_t in_frames)
{
    int64_t avail = p->total + (int64_t)in_frames + HALF;
    int64_t most = (avail * p->L) / p->M + 2 - p->j;
    return most > 0 ? (size_t)most : 1;
}

static inline float dot_taps(const float *restrict h, const float *restrict x)
{
    float acc[8] = {0};
    for (int i = 0; i < TAPS; i += 8)
        for (int k = 0; k < 8; k++)
            acc[k] += h[i + k] * x[i + k];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* Writes every output whose last tap index is below `limit` (absolute, exclusive). */
static size_t produce(disco_polyphase *p, int64_t limit, int64_t stop_j, float *out)
{
    size_t n = 0;
    while (p->j < stop_j && p->base + HALF < limit) {
        const float *x = p->buf + (p->base - HALF + 1 - p->start);
        out[n++] = dot_taps(p->table + p->phase * TAPS, x);
        p->j++;
        p->phase += p->M;
        p->base += p->phase / p->L;
        p->phase %= p->L;
    }
    return n;
}

/* Drops input no future output needs. */
static void compact(disco_polyphase *p)
{
    int64_t keep_from = p->base - HALF + 1;
    int64_t drop = keep_from - p->start;
    if (drop <= 0)
        return;
    if ((size_t)drop > p->len)
        drop = (int64_t)p->len;
    memmove(p->buf, p->buf + drop, (p->len - (size_t)drop) * sizeof(float));
    p->len -= (size_t)drop;
    p->start += drop;
}

size_t disco_polyphase_push(disco_polyphase *p, const float *in, size_t n, float *out)
{
    size_t written = 0;
    while (n > 0) {
        size_t room = p->cap - p->len;
        size_t take = n < room ? n : room;
        memcpy(p->buf + p->len, in, take * sizeof(float));
        p->len += take;
        p->total += (int64_t)take;
        in += take;
        n -= take;
        written += produce(p, p->start + (int64_t)p->len, INT64_MAX, out + written);
        compact(p);
    }
    return written;
}

size_t disco_polyphase_finish(disco_polyphase *p, float *out)
{
    int64_t stop_j = (p->total * p->L + p->M - 1) / p->M;
    size_t written = 0;
    for (int round = 0; round < 2 && p->j < stop_j; round++) {
        size_t room = p->cap - p->len, pad = HALF + 1;
        if (pad > room)
            pad = room;
        memset(p->buf + p->len, 0, pad * sizeof(float));
        p->len += pad;
        written += produce(p, p->start + (int64_t)p->len, stop_j, out + written);
        compact(p);
    }
    return written;
}
