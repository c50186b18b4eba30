/*
 * character.c - sample-level characteristics of a stream, accumulated block
 * by block: DC offset, clipping, silent head and tail, stereo correlation,
 * RMS level.
 *
 * DESIGN
 *   Everything is a running sum except the stereo correlation, which keeps
 *   the means and centred second moments of channels 0 and 1 and merges
 *   each block's into them (Chan, Golub and LeVeque's pairwise update), so
 *   a long, loud, DC-shifted stream does not lose the correlation to
 *   cancellation. Clipping runs and the silent tail carry across blocks.
 *
 *   Thresholds: clipped is |x| >= 0.999 in a run of >= 3 consecutive
 *   samples of one channel; silent is every channel's |x| < 0.001
 *   (-60 dBFS sample peak).
 */
#include "disco/loudness.h"

#include <math.h>
#include <stdlib.h>

#define CLIP_LEVEL 0.999f
#define CLIP_RUN 3
#define SILENCE_LEVEL 0.001f

struct disco_character_acc {
    int channels, rate;
    uint64_t frames;
    double *sum;   /* per channel */
    uint32_t *run; /* per channel: current run of clipped samples (saturating) */
    double sumsq;  /* over all samples */
    uint64_t clipped;
    uint64_t first_loud;          /* frame index of the first non-silent frame */
    uint64_t loud_end;            /* one past the last non-silent frame; 0 while none */
    double mx, my, sxx, syy, sxy; /* channels 0 and 1, centred */
};

int disco_character_new(int channels, int rate, disco_character_acc **out, disco_status *st)
{
    disco_character_acc *c;

    *out = NULL;
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "%d channels outside 1..%d",
                                channels, DISCO_AUDIO_MAX_CHANNELS);
    if (rate < DISCO_AUDIO_MIN_RATE || rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "sample rate %d Hz outside %d..%d",
                                rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    c = calloc(1, sizeof *c);
    if (c) {
        c->sum = calloc((size_t)channels, sizeof *c->sum);
        c->run = calloc((size_t)channels, sizeof *c->run);
    }
    if (!c || !c->sum || !c->run) {
        disco_character_free(c);
        return disco_status_set(st, DISCO_ERR_NOMEM, "character", "out of memory");
    }
    c->channels = channels;
    c->rate = rate;
    *out = c;
    return DISCO_OK;
}

/* Sums, clipping runs and silence of one frame; returns whether it is loud. */
static int add_frame(disco_character_acc *c, const float *f)
{
    int loud = 0;

    for (int ch = 0; ch < c->channels; ch++) {
        float x = f[ch], ax = fabsf(x);

        c->sum[ch] += x;
        c->sumsq += (double)x * x;
        loud |= ax >= SILENCE_LEVEL;
        if (ax < CLIP_LEVEL) {
            c->run[ch] = 0;
        } else if (c->run[ch] < CLIP_RUN) {
            if (++c->run[ch] == CLIP_RUN)
                c->clipped += CLIP_RUN;
        } else {
            c->clipped++;
        }
    }
    return loud;
}

/* Merges the block's centred moments of channels 0 and 1 into the running ones. */
static void add_pair(disco_character_acc *c, const float *x, size_t frames)
{
    size_t ch = (size_t)c->channels;
    double bx = 0.0, by = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0, n0, n1, n, dx, dy;

    for (size_t i = 0; i < frames; i++) {
        bx += x[i * ch];
        by += x[i * ch + 1];
    }
    bx /= (double)frames;
    by /= (double)frames;
    for (size_t i = 0; i < frames; i++) {
        double u = x[i * ch] - bx, v = x[i * ch + 1] - by;

        sxx += u * u;
        syy += v * v;
        sxy += u * v;
    }
    n0 = (double)c->frames;
    n1 = (double)frames;
    n = n0 + n1;
    dx = bx - c->mx;
    dy = by - c->my;
    c->sxx += sxx + dx * dx * n0 * n1 / n;
    c->syy += syy + dy * dy * n0 * n1 / n;
    c->sxy += sxy + dx * dy * n0 * n1 / n;
    c->mx += dx * n1 / n;
    c->my += dy * n1 / n;
}

void disco_character_add(disco_character_acc *c, const float *interleaved, size_t frames)
{
    if (frames == 0)
        return;
    if (c->channels >= 2)
        add_pair(c, interleaved, frames);
    for (size_t i = 0; i < frames; i++) {
        if (!add_frame(c, interleaved + i * (size_t)c->channels))
            continue;
        if (c->loud_end == 0)
            c->first_loud = c->frames + i;
        c->loud_end = c->frames + i + 1;
    }
    c->frames += frames;
}

static double correlation(const disco_character_acc *c)
{
    double r;

    if (c->channels < 2 || c->sxx <= 0.0 || c->syy <= 0.0)
        return NAN;
    r = c->sxy / sqrt(c->sxx * c->syy);
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

void disco_character_result(const disco_character_acc *c, disco_character *out)
{
    double n = (double)c->frames, rate = (double)c->rate;

    out->duration_s = n / rate;
    out->channels = c->channels;
    out->rate = c->rate;
    out->dc_offset_max = 0.0;
    for (int ch = 0; ch < c->channels; ch++) {
        double m = c->frames ? c->sum[ch] / n : 0.0;

        if (ch < 2)
            out->dc_offset[ch] = m;
        if (fabs(m) > out->dc_offset_max)
            out->dc_offset_max = fabs(m);
    }
    if (c->channels == 1)
        out->dc_offset[1] = out->dc_offset[0];
    out->clipped_samples = c->clipped;
    if (c->loud_end == 0) {
        out->silence_head_s = out->silence_tail_s = out->duration_s;
    } else {
        out->silence_head_s = (double)c->first_loud / rate;
        out->silence_tail_s = (double)(c->frames - c->loud_end) / rate;
    }
    out->stereo_correlation = correlation(c);
    out->rms_dbfs = c->sumsq > 0.0 ? 10.0 * log10(c->sumsq / (n * c->channels)) : -HUGE_VAL;
}

void disco_character_free(disco_character_acc *c)
{
    if (!c)
        return;
    free(c->sum);
    free(c->run);
    free(c);
}
