/*
 * reverb.c - an 8-line feedback delay network reverb (see effects.h for
 * the picture): pre-delay, prime-length lines, one-pole damping and a
 * per-line decay gain from the RT60, Sylvester-Hadamard feedback matrix.
 *
 *   in (mono) -> pre-delay -+-> line 0..7 -> damp -> decay -+-> out rows
 *                           ^                               |
 *                           +------ H8 / sqrt(8) <----------+
 *
 * A tiny constant (1e-20) rides on the feedback so the decaying state
 * never sinks into denormals.
 */
#include "disco/effects.h"

#include "fx_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LINES 8
#define ANTI_DENORMAL 1e-20f

/* Line lengths at room size 0.5, ms (rounded up to primes at the sample rate). */
static const double line_ms[LINES] = {29.7, 37.1, 41.1, 43.7, 53.9, 59.3, 67.1, 73.3};

struct disco_reverb {
    int channels;
    float *line[LINES];
    size_t len[LINES], pos[LINES];
    float decay[LINES];
    float lp[LINES];
    float damp, in_gain, wet, dry;
    float *pre;
    size_t pre_len, pre_pos;
};

disco_reverb_config disco_reverb_config_default(void)
{
    return (disco_reverb_config){
        .room_size = 0.5, .damping = 0.5, .wet = 0.3, .dry = 1.0, .pre_delay_ms = 10.0};
}

int disco_reverb_config_check(const disco_reverb_config *c, disco_status *st)
{
    int rc;

    if ((rc = disco__fx_range(c->room_size, 0.0, 1.0, "room_size", st)) ||
        (rc = disco__fx_range(c->damping, 0.0, 1.0, "damping", st)) ||
        (rc = disco__fx_range(c->wet, 0.0, 1.0, "wet", st)) ||
        (rc = disco__fx_range(c->dry, 0.0, 1.0, "dry", st)) ||
        (rc = disco__fx_range(c->pre_delay_ms, 0.0, 500.0, "pre_delay_ms", st)))
        return rc;
    return DISCO_OK;
}

double disco_reverb_rt60(double room_size)
{
    return 0.2 * pow(40.0, fmin(1.0, fmax(0.0, room_size)));
}

static int is_prime(size_t n)
{
    if (n < 2)
        return 0;
    for (size_t d = 2; d * d <= n; d++)
        if (n % d == 0)
            return 0;
    return 1;
}

static int reverb_alloc(disco_reverb *r, const disco_reverb_config *cfg, double rate)
{
    const double scale = 0.6 + 0.8 * cfg->room_size, rt60 = disco_reverb_rt60(cfg->room_size);
    double g2 = 0.0;

    for (int i = 0; i < LINES; i++) {
        size_t n = (size_t)(line_ms[i] * scale * rate / 1000.0);

        while (!is_prime(n))
            n++;
        r->len[i] = n;
        r->decay[i] = (float)pow(10.0, -3.0 * (double)n / (rt60 * rate));
        g2 += (double)r->decay[i] * r->decay[i] / LINES;
        if (!(r->line[i] = calloc(n, sizeof *r->line[i])))
            return DISCO_ERR_NOMEM;
    }
    r->in_gain = (float)sqrt(1.0 - g2);
    r->pre_len = (size_t)lround(cfg->pre_delay_ms * rate / 1000.0);
    if (r->pre_len > 0 && !(r->pre = calloc(r->pre_len, sizeof *r->pre)))
        return DISCO_ERR_NOMEM;
    return DISCO_OK;
}

int disco_reverb_new(const disco_reverb_config *cfg, int channels, double rate, disco_reverb **out,
                     disco_status *st)
{
    disco_reverb *r;
    int rc = disco_reverb_config_check(cfg, st);

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    if ((rc = disco__fx_signal(channels, rate, st)))
        return rc;
    if (!(r = calloc(1, sizeof *r)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "reverb", "reverb: out of memory");
    r->channels = channels;
    r->damp = (float)(0.85 * cfg->damping);
    r->wet = (float)cfg->wet;
    r->dry = (float)cfg->dry;
    if (reverb_alloc(r, cfg, rate) != DISCO_OK) {
        disco_reverb_free(r);
        return disco_status_set(st, DISCO_ERR_NOMEM, "reverb", "reverb: out of memory");
    }
    *out = r;
    return DISCO_OK;
}

/* In-place unnormalised 8-point Hadamard transform (Sylvester order). */
static void hadamard8(float v[LINES])
{
    for (int h = 1; h < LINES; h *= 2) {
        for (int i = 0; i < LINES; i += 2 * h) {
            for (int j = i; j < i + h; j++) {
                float a = v[j], b = v[j + h];

                v[j] = a + b;
                v[j + h] = a - b;
            }
        }
    }
}

/* One frame through the network: takes the mono input, fills the line outputs y. */
static void fdn_step(disco_reverb *r, float in, float y[LINES])
{
    float s[LINES];

    if (r->pre_len > 0) {
        float p = r->pre[r->pre_pos];

        r->pre[r->pre_pos] = in;
        if (++r->pre_pos == r->pre_len)
            r->pre_pos = 0;
        in = p;
    }
    for (int i = 0; i < LINES; i++) {
        y[i] = r->line[i][r->pos[i]];
        r->lp[i] = y[i] + r->damp * (r->lp[i] - y[i]);
        s[i] = r->decay[i] * r->lp[i];
    }
    hadamard8(s);
    in = in * r->in_gain + ANTI_DENORMAL;
    for (int i = 0; i < LINES; i++) {
        r->line[i][r->pos[i]] = s[i] * (float)M_SQRT1_2 * 0.5f + in;
        if (++r->pos[i] == r->len[i])
            r->pos[i] = 0;
    }
}

void disco_reverb_process(disco_reverb *r, float *x, size_t frames)
{
    const size_t C = (size_t)r->channels;
    const float norm = (float)M_SQRT1_2 * 0.5f; /* 1 / sqrt(8) */

    for (size_t n = 0; n < frames; n++) {
        float *f = x + n * C, in = 0.0f, y[LINES];

        for (size_t c = 0; c < C; c++)
            in += f[c];
        fdn_step(r, in / (float)C, y);
        for (size_t c = 0; c < C; c++) {
            unsigned row = C == 1 ? 0u : (unsigned)((c + 1) % LINES);
            float out = 0.0f;

            for (unsigned i = 0; i < LINES; i++)
                out += (__builtin_popcount(row & i) & 1) ? -y[i] : y[i];
            f[c] = r->dry * f[c] + r->wet * norm * out;
        }
    }
}

void disco_reverb_free(disco_reverb *r)
{
    if (!r)
        return;
    for (int i = 0; i < LINES; i++)
        free(r->line[i]);
    free(r->pre);
    free(r);
}
