/*
 * resample.c - sample-rate conversion through libsamplerate, and downmixing.
 *
 * DESIGN
 *   A disco_resampler wraps one SRC_STATE at a fixed ratio out_rate/in_rate.
 *   libsamplerate keeps its own filter history, so a stream cut into blocks
 *   of any size gives the same output as the whole signal at once. Equal
 *   rates are a plain copy (no filter delay, bit-exact). The whole-signal
 *   conversion is the streaming one run to the end over a growing buffer.
 */
#include "disco/audio.h"

#include <limits.h>
#include <math.h>
#include <samplerate.h>
#include <stdlib.h>
#include <string.h>

/* Headroom over in_frames * ratio that one call may emit from the filter's store. */
#define RESAMPLE_SLACK 64

struct disco_resampler {
    SRC_STATE *src; /* NULL when the rates are equal */
    int channels;
    double ratio;
};

static int check_rate(int rate, const char *field, disco_status *st)
{
    if (rate < DISCO_AUDIO_MIN_RATE || rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s %d Hz outside %d..%d", field, rate,
                                DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    return DISCO_OK;
}

static int check_args(int channels, int in_rate, int out_rate, int quality, disco_status *st)
{
    int rc;

    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "%d channels outside 1..%d",
                                channels, DISCO_AUDIO_MAX_CHANNELS);
    if ((rc = check_rate(in_rate, "in_rate", st)) != DISCO_OK ||
        (rc = check_rate(out_rate, "out_rate", st)) != DISCO_OK)
        return rc;
    if (quality < SRC_SINC_BEST_QUALITY || quality > SRC_LINEAR)
        return disco_status_set(st, DISCO_ERR_INVAL, "quality",
                                "resampler quality %d outside 0 (best) .. 4 (linear)", quality);
    if (!src_is_valid_ratio((double)out_rate / in_rate))
        return disco_status_set(st, DISCO_ERR_INVAL, "out_rate",
                                "cannot convert %d Hz to %d Hz: ratio beyond 1/256..256", in_rate,
                                out_rate);
    return DISCO_OK;
}

int disco_resampler_new(int channels, int in_rate, int out_rate, int quality, disco_resampler **out,
                        disco_status *st)
{
    disco_resampler *r;
    int rc = check_args(channels, in_rate, out_rate, quality, st), err = 0;

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    r = calloc(1, sizeof *r);
    if (!r)
        return disco_status_set(st, DISCO_ERR_NOMEM, "resampler", "out of memory");
    r->channels = channels;
    r->ratio = (double)out_rate / in_rate;
    if (in_rate != out_rate) {
        r->src = src_new(quality, channels, &err);
        if (!r->src) {
            free(r);
            /* The arguments are checked, so what is left is memory. */
            return disco_status_set(st, DISCO_ERR_NOMEM, "resampler", "libsamplerate: %s",
                                    src_strerror(err));
        }
    }
    *out = r;
    return DISCO_OK;
}

/* Equal rates: copy what fits. */
static void pass_through(const disco_resampler *r, const float *in, size_t in_frames, float *out,
                         size_t out_cap, size_t *used, size_t *produced)
{
    size_t n = in_frames < out_cap ? in_frames : out_cap;

    if (n)
        memcpy(out, in, n * (size_t)r->channels * sizeof(float));
    *used = n;
    *produced = n;
}

int disco_resampler_process(disco_resampler *r, const float *in, size_t in_frames, float *out,
                            size_t out_cap, int last, size_t *used, size_t *produced,
                            disco_status *st)
{
    long cap = LONG_MAX / r->channels;
    SRC_DATA d = {0};
    int err;

    if (!r->src) {
        pass_through(r, in, in_frames, out, out_cap, used, produced);
        return DISCO_OK;
    }
    d.data_in = in;
    d.data_out = out;
    d.input_frames = in_frames < (size_t)cap ? (long)in_frames : cap;
    d.output_frames = out_cap < (size_t)cap ? (long)out_cap : cap;
    d.end_of_input = last ? 1 : 0;
    d.src_ratio = r->ratio;
    err = src_process(r->src, &d);
    *used = (size_t)d.input_frames_used;
    *produced = (size_t)d.output_frames_gen;
    if (err != 0)
        return disco_status_set(st, DISCO_ERR_INTERNAL, "resampler", "libsamplerate: %s",
                                src_strerror(err));
    return DISCO_OK;
}

size_t disco_resampler_out_bound(const disco_resampler *r, size_t in_frames)
{
    return (size_t)ceil((double)in_frames * r->ratio) + RESAMPLE_SLACK;
}

void disco_resampler_free(disco_resampler *r)
{
    if (!r)
        return;
    if (r->src)
        src_delete(r->src);
    free(r);
}

/* Doubles the frames `a` can hold. */
static int grow(disco_audio *a, size_t *cap, disco_status *st)
{
    size_t ncap = *cap * 2;
    float *p;

    if (ncap > SIZE_MAX / sizeof(float) / (size_t)a->channels)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames", "resampled signal too long");
    p = realloc(a->data, ncap * (size_t)a->channels * sizeof(float));
    if (!p)
        return disco_status_set(st, DISCO_ERR_NOMEM, "frames",
                                "cannot allocate %zu resampled frames", ncap);
    a->data = p;
    *cap = ncap;
    return DISCO_OK;
}

/* Runs `r` over all of `in`, then drains it, into `out` (which holds `cap` frames). */
static int run_all(disco_resampler *r, const disco_audio *in, disco_audio *out, size_t cap,
                   disco_status *st)
{
    size_t done = 0, used, produced;
    int rc = DISCO_OK;

    for (;;) {
        size_t ch = (size_t)in->channels;

        if (out->frames == cap && (rc = grow(out, &cap, st)) != DISCO_OK)
            break;
        rc = disco_resampler_process(r, in->data + done * ch, in->frames - done,
                                     out->data + out->frames * ch, cap - out->frames, 1, &used,
                                     &produced, st);
        if (rc != DISCO_OK)
            break;
        done += used;
        out->frames += produced;
        if (produced == 0 && (done == in->frames || used == 0))
            break;
    }
    return rc;
}

int disco_audio_resample(const disco_audio *in, int out_rate, int quality, disco_audio *out,
                         disco_status *st)
{
    disco_resampler *r;
    size_t cap;
    int rc;

    memset(out, 0, sizeof *out);
    rc = disco_resampler_new(in->channels, in->rate, out_rate, quality, &r, st);
    if (rc != DISCO_OK)
        return rc;
    cap = disco_resampler_out_bound(r, in->frames);
    rc = disco_audio_alloc(out, cap, in->channels, out_rate, st);
    if (rc == DISCO_OK) {
        out->frames = 0;
        rc = run_all(r, in, out, cap, st);
    }
    disco_resampler_free(r);
    if (rc != DISCO_OK)
        disco_audio_release(out);
    return rc;
}

void disco_audio_downmix(const float *in, size_t frames, int channels, float *mono)
{
    if (channels == 1) {
        memmove(mono, in, frames * sizeof(float));
        return;
    }
    for (size_t i = 0; i < frames; i++) {
        const float *f = in + i * (size_t)channels;
        double sum = 0.0;

        for (int c = 0; c < channels; c++)
            sum += f[c];
        mono[i] = (float)(sum / channels);
    }
}
