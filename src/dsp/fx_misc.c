/*
 * fx_misc.c - the small effects: feedback delay (with note values at a
 * tempo), gain, constant-power pan, mid/side width and fades; plus the
 * range check every effect's config uses.
 */
#include "disco/effects.h"

#include "fx_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int disco__fx_range(double v, double lo, double hi, const char *name, disco_status *st)
{
    if (v >= lo && v <= hi)
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_INVAL, name, "%s: %g out of range %g..%g", name, v, lo,
                            hi);
}

int disco__fx_signal(int channels, double rate, disco_status *st)
{
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "channels: %d out of range 1..%d",
                                channels, DISCO_AUDIO_MAX_CHANNELS);
    return disco__fx_range(rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE, "rate", st);
}

/* --- delay --------------------------------------------------------------- */

struct disco_delay {
    int channels;
    size_t len; /* delay in frames */
    float feedback, mix;
    float *buf; /* len x channels ring */
    size_t pos;
};

disco_delay_config disco_delay_config_default(void)
{
    return (disco_delay_config){.time_ms = 250.0, .feedback = 0.35, .mix = 0.35};
}

int disco_delay_config_check(const disco_delay_config *c, disco_status *st)
{
    int rc;

    if ((rc = disco__fx_range(c->time_ms, 1.0, 4000.0, "time_ms", st)) ||
        (rc = disco__fx_range(c->feedback, 0.0, 0.95, "feedback", st)) ||
        (rc = disco__fx_range(c->mix, 0.0, 1.0, "mix", st)))
        return rc;
    return DISCO_OK;
}

/* Reads an integer 1..max at *p, advancing it; -1 when there is none. */
static long note_int(const char **p, long max)
{
    char *end;
    long v;

    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    v = strtol(*p, &end, 10);
    if (errno || v < 1 || v > max)
        return -1;
    *p = end;
    return v;
}

int disco_note_seconds(const char *note, double bpm, const char *field, double *out,
                       disco_status *st)
{
    const char *p = note ? note : "";
    long num, den = -1;
    double mult = 1.0;
    int rc = disco__fx_range(bpm, 20.0, 400.0, "bpm", st);

    if (rc != DISCO_OK)
        return rc;
    if ((num = note_int(&p, 64)) > 0 && *p == '/') {
        p++;
        den = note_int(&p, 256);
    }
    if (den > 0 && (*p == '.' || *p == 't')) {
        mult = *p == '.' ? 1.5 : 2.0 / 3.0;
        p++;
    }
    if (den <= 0 || *p != '\0')
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: \"%s\" is not a note value like 1/4, 1/8., 1/8t", field,
                                note ? note : "");
    *out = 4.0 * (double)num / (double)den * mult * 60.0 / bpm;
    return DISCO_OK;
}

int disco_delay_new(const disco_delay_config *cfg, int channels, double rate, disco_delay **out,
                    disco_status *st)
{
    disco_delay *d;
    int rc = disco_delay_config_check(cfg, st);

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    if ((rc = disco__fx_signal(channels, rate, st)))
        return rc;
    if (!(d = calloc(1, sizeof *d)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "delay", "delay: out of memory");
    d->channels = channels;
    d->len = (size_t)lround(cfg->time_ms * rate / 1000.0);
    d->len = d->len < 1 ? 1 : d->len;
    d->feedback = (float)cfg->feedback;
    d->mix = (float)cfg->mix;
    if (!(d->buf = calloc(d->len * (size_t)channels, sizeof *d->buf))) {
        free(d);
        return disco_status_set(st, DISCO_ERR_NOMEM, "delay", "delay: out of memory");
    }
    *out = d;
    return DISCO_OK;
}

void disco_delay_process(disco_delay *d, float *x, size_t frames)
{
    const size_t C = (size_t)d->channels;

    for (size_t i = 0; i < frames; i++) {
        float *slot = d->buf + d->pos * C, *f = x + i * C;

        for (size_t c = 0; c < C; c++) {
            float v = f[c], e = slot[c];

            f[c] = v + d->mix * e;
            slot[c] = v + d->feedback * e;
        }
        if (++d->pos == d->len)
            d->pos = 0;
    }
}

void disco_delay_free(disco_delay *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d);
}

/* --- gain, pan, width ---------------------------------------------------- */

void disco_gain_apply(float *x, size_t frames, int channels, double gain_db)
{
    const float g = (float)pow(10.0, gain_db / 20.0);
    const size_t n = frames * (size_t)channels;

    for (size_t i = 0; i < n; i++)
        x[i] *= g;
}

void disco_pan_gains(double pan, double *gl, double *gr)
{
    double t = (fmin(1.0, fmax(-1.0, pan)) + 1.0) * M_PI / 4.0;

    *gl = M_SQRT2 * cos(t);
    *gr = M_SQRT2 * sin(t);
}

void disco_pan_apply(float *x, size_t frames, double pan)
{
    double gl, gr;

    disco_pan_gains(pan, &gl, &gr);
    for (size_t i = 0; i < frames; i++) {
        x[2 * i] = (float)(x[2 * i] * gl);
        x[2 * i + 1] = (float)(x[2 * i + 1] * gr);
    }
}

void disco_width_apply(float *x, size_t frames, double width)
{
    const float w = (float)width;

    for (size_t i = 0; i < frames; i++) {
        float m = 0.5f * (x[2 * i] + x[2 * i + 1]), s = 0.5f * (x[2 * i] - x[2 * i + 1]) * w;

        x[2 * i] = m + s;
        x[2 * i + 1] = m - s;
    }
}

/* --- fades --------------------------------------------------------------- */

static const char *const curve_names[] = {"linear", "sine", "exp", "log", "scurve"};

int disco_fade_curve_parse(const char *name, const char *field, disco_fade_curve *out,
                           disco_status *st)
{
    for (size_t i = 0; i < sizeof curve_names / sizeof curve_names[0]; i++) {
        if (name && strcmp(name, curve_names[i]) == 0) {
            *out = (disco_fade_curve)i;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, field,
                            "%s: unknown fade curve \"%s\"; known: linear, sine, exp, log, scurve",
                            field, name ? name : "");
}

double disco_fade_gain(disco_fade_curve curve, double t)
{
    t = fmin(1.0, fmax(0.0, t));
    switch (curve) {
    case DISCO_FADE_SINE:
        return sin(t * M_PI / 2.0);
    case DISCO_FADE_EXP:
        return t * t;
    case DISCO_FADE_LOG:
        return 1.0 - (1.0 - t) * (1.0 - t);
    case DISCO_FADE_SCURVE:
        return (1.0 - cos(t * M_PI)) / 2.0;
    case DISCO_FADE_LINEAR:
    default:
        return t;
    }
}

void disco_fade_apply(float *x, size_t frames, int channels, size_t pos, size_t total,
                      size_t in_frames, size_t out_frames, disco_fade_curve curve)
{
    const size_t C = (size_t)channels;
    const size_t out_start = out_frames < total ? total - out_frames : 0;

    for (size_t i = 0; i < frames; i++) {
        size_t at = pos + i;
        double g = 1.0;

        if (at < in_frames)
            g = disco_fade_gain(curve, (double)at / (double)in_frames);
        if (out_frames > 0 && at >= out_start)
            g *= disco_fade_gain(curve, (double)(total - 1 - at) / (double)out_frames);
        if (g == 1.0)
            continue;
        for (size_t c = 0; c < C; c++)
            x[i * C + c] = (float)(x[i * C + c] * g);
    }
}
