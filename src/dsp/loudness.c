/*
 * loudness.c - EBU R 128 / ITU-R BS.1770 loudness through libebur128.
 *
 * DESIGN
 *   libebur128 gives the integrated loudness, the loudness range and the
 *   peaks directly, but only the current momentary (400 ms) and short-term
 *   (3 s) values, and asking for those every 100 ms sums the whole window
 *   each time (30 passes over every sample for short-term). The meter
 *   instead feeds libebur128 in pieces that end on its 100 ms grid
 *   ((rate + 5) / 10 frames), reads the loudness of the last 100 ms at each
 *   grid point (one pass), turns it back into mean-square energy and keeps
 *   the last 30 in a ring: the momentary and short-term windows are the
 *   means of the last 4 and 30, stepped every 100 ms as BS.1770's gating
 *   blocks and EBU Tech 3341 have them. (libebur128 measures "the last
 *   100 ms" as rate / 10 frames, so at rates that are not a multiple of 10
 *   the pieces overlap by a frame: under 0.01 dB.)
 *
 *   True peak comes from the limiter's 4x interpolator (effects.h,
 *   disco_true_peak: the same 12-tap-per-phase design as libebur128's,
 *   agreeing to float rounding) run over each block as it arrives: about
 *   15x faster than libebur128's true-peak mode, which alone would take
 *   most of a full analysis's time.
 *
 *   Modes:  ALL   I + LRA (so S and M) + sample peak + true peak
 *           FAST  I (so M) + sample peak
 */
#include "disco/loudness.h"

#include "fx_int.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STEPS_M 4  /* 100 ms steps in a momentary window */
#define STEPS_S 30 /* ... in a short-term window */

struct disco_loudness_meter {
    ebur128_state *st;
    int channels;
    int mode;
    size_t step;    /* frames per 100 ms */
    size_t in_step; /* frames fed since the last grid point */
    uint64_t steps; /* grid points passed */
    uint64_t frames;
    double ring[STEPS_S];                 /* weighted mean-square energy of the last 30 steps */
    double momentary_max, short_term_max; /* energies; -1 while no window is full */
    disco__tpdet tp;                      /* ALL mode: the true-peak detector */
    float tp_max;                         /* largest detector output so far */
};

/* BS.1770 weights: 5.0 is L R C Ls Rs, 5.1 is L R C LFE Ls Rs; all else weight 1. */
static int set_channel_map(ebur128_state *s, int channels)
{
    static const int five[] = {EBUR128_LEFT, EBUR128_RIGHT, EBUR128_CENTER, EBUR128_LEFT_SURROUND,
                               EBUR128_RIGHT_SURROUND};
    static const int six[] = {EBUR128_LEFT,   EBUR128_RIGHT,         EBUR128_CENTER,
                              EBUR128_UNUSED, EBUR128_LEFT_SURROUND, EBUR128_RIGHT_SURROUND};

    for (int c = 0; c < channels; c++) {
        int type = c == 0 ? EBUR128_LEFT : c == 1 ? EBUR128_RIGHT : EBUR128_CENTER;

        if (channels == 5)
            type = five[c];
        else if (channels == 6)
            type = six[c];
        if (ebur128_set_channel(s, (unsigned)c, type) != EBUR128_SUCCESS)
            return -1;
    }
    return 0;
}

static int check_args(int channels, int rate, int mode, disco_status *st)
{
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "%d channels outside 1..%d",
                                channels, DISCO_AUDIO_MAX_CHANNELS);
    if (rate < DISCO_AUDIO_MIN_RATE || rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "sample rate %d Hz outside %d..%d",
                                rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    if (mode != DISCO_LOUDNESS_ALL && mode != DISCO_LOUDNESS_FAST)
        return disco_status_set(st, DISCO_ERR_INVAL, "mode",
                                "loudness mode %d is neither ALL (0) nor FAST (1)", mode);
    return DISCO_OK;
}

int disco_loudness_meter_new(int channels, int rate, int mode, disco_loudness_meter **out,
                             disco_status *st)
{
    int flags = mode == DISCO_LOUDNESS_ALL
                    ? EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_SAMPLE_PEAK
                    : EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK;
    disco_loudness_meter *m;
    int rc = check_args(channels, rate, mode, st);

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    m = calloc(1, sizeof *m);
    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, "meter", "out of memory");
    m->st = ebur128_init((unsigned)channels, (unsigned long)rate, flags);
    if (!m->st || set_channel_map(m->st, channels) != 0) {
        disco_loudness_meter_free(m);
        return disco_status_set(st, DISCO_ERR_NOMEM, "meter",
                                "cannot set up a loudness meter for %d channels at %d Hz", channels,
                                rate);
    }
    if (mode == DISCO_LOUDNESS_ALL && disco__tpdet_init(&m->tp, channels, st) != DISCO_OK) {
        disco_loudness_meter_free(m);
        return DISCO_ERR_NOMEM;
    }
    m->channels = channels;
    m->mode = mode;
    m->step = ((size_t)rate + 5) / 10;
    m->momentary_max = -1.0;
    m->short_term_max = -1.0;
    *out = m;
    return DISCO_OK;
}

/* Mean energy of the last `n` steps. */
static double window_energy(const disco_loudness_meter *m, unsigned n)
{
    double sum = 0.0;

    for (unsigned i = 1; i <= n; i++)
        sum += m->ring[(m->steps - i) % STEPS_S];
    return sum / n;
}

/* At a grid point: the last 100 ms joins the ring, full windows update the maxima. */
static void grid_point(disco_loudness_meter *m)
{
    double v, e;

    if (ebur128_loudness_window(m->st, 100, &v) != EBUR128_SUCCESS || !(v > -HUGE_VAL))
        v = -HUGE_VAL;
    m->ring[m->steps % STEPS_S] = v > -HUGE_VAL ? pow(10.0, (v + 0.691) / 10.0) : 0.0;
    m->steps++;
    if (m->steps >= STEPS_M && (e = window_energy(m, STEPS_M)) > m->momentary_max)
        m->momentary_max = e;
    if (m->mode == DISCO_LOUDNESS_ALL && m->steps >= STEPS_S &&
        (e = window_energy(m, STEPS_S)) > m->short_term_max)
        m->short_term_max = e;
}

/* BS.1770 loudness of a mean-square energy; -HUGE_VAL for none or zero. */
static double energy_lufs(double e)
{
    return e > 0.0 ? 10.0 * log10(e) - 0.691 : -HUGE_VAL;
}

static int check_finite(const disco_loudness_meter *m, const float *x, size_t frames,
                        disco_status *st)
{
    size_t n = frames * (size_t)m->channels;

    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "samples",
                                    "non-finite sample at frame %llu channel %d",
                                    (unsigned long long)(m->frames + i / (size_t)m->channels),
                                    (int)(i % (size_t)m->channels));
    return DISCO_OK;
}

static void true_peak_add(disco_loudness_meter *m, const float *x, size_t frames)
{
    float det[DISCO__TP_BLOCK];

    for (size_t s = 0; s < frames; s += DISCO__TP_BLOCK) {
        size_t n = frames - s < DISCO__TP_BLOCK ? frames - s : DISCO__TP_BLOCK;

        disco__tpdet_run(&m->tp, x + s * (size_t)m->channels, n, det);
        for (size_t j = 0; j < n; j++)
            m->tp_max = det[j] > m->tp_max ? det[j] : m->tp_max;
    }
}

/* The true peak including the last DISCO__TP_LAG frames, without disturbing the stream. */
static int true_peak_db(const disco_loudness_meter *m, double *out, disco_status *st)
{
    static const float zeros[DISCO__TP_LAG * DISCO_AUDIO_MAX_CHANNELS];
    float det[DISCO__TP_LAG], peak = m->tp_max;
    disco__tpdet d;
    int rc = disco__tpdet_init(&d, m->channels, st);

    if (rc != DISCO_OK)
        return rc;
    memcpy(d.hist, m->tp.hist,
           (size_t)m->channels * (DISCO__TP_TAPS - 1 + DISCO__TP_BLOCK) * sizeof(float));
    disco__tpdet_run(&d, zeros, DISCO__TP_LAG, det);
    for (size_t j = 0; j < DISCO__TP_LAG; j++)
        peak = det[j] > peak ? det[j] : peak;
    disco__tpdet_release(&d);
    *out = peak > 0.0f ? 20.0 * log10(peak) : -HUGE_VAL;
    return DISCO_OK;
}

int disco_loudness_meter_add(disco_loudness_meter *m, const float *interleaved, size_t frames,
                             disco_status *st)
{
    int rc = check_finite(m, interleaved, frames, st);

    if (rc != DISCO_OK)
        return rc;
    if (m->mode == DISCO_LOUDNESS_ALL)
        true_peak_add(m, interleaved, frames);
    while (frames > 0) {
        size_t k = m->step - m->in_step;

        if (k > frames)
            k = frames;
        if (ebur128_add_frames_float(m->st, interleaved, k) != EBUR128_SUCCESS)
            return disco_status_set(st, DISCO_ERR_NOMEM, "meter", "libebur128 ran out of memory");
        interleaved += k * (size_t)m->channels;
        frames -= k;
        m->frames += k;
        m->in_step += k;
        if (m->in_step == m->step) {
            m->in_step = 0;
            grid_point(m);
        }
    }
    return DISCO_OK;
}

/* Largest per-channel peak in dB (-HUGE_VAL for zero). */
static int peak_db(ebur128_state *s, int channels, int (*peak)(ebur128_state *, unsigned, double *),
                   double *out)
{
    double best = 0.0, v;

    for (int c = 0; c < channels; c++) {
        if (peak(s, (unsigned)c, &v) != EBUR128_SUCCESS)
            return -1;
        if (v > best)
            best = v;
    }
    *out = best > 0.0 ? 20.0 * log10(best) : -HUGE_VAL;
    return 0;
}

int disco_loudness_meter_result(disco_loudness_meter *m, disco_loudness *out, disco_status *st)
{
    int all = m->mode == DISCO_LOUDNESS_ALL;

    out->range_lu = NAN;
    out->true_peak_dbtp = NAN;
    out->momentary_max = energy_lufs(m->momentary_max);
    out->short_term_max = all ? energy_lufs(m->short_term_max) : NAN;
    if (ebur128_loudness_global(m->st, &out->integrated_lufs) != EBUR128_SUCCESS ||
        peak_db(m->st, m->channels, ebur128_sample_peak, &out->sample_peak_dbfs) != 0)
        return disco_status_set(st, DISCO_ERR_INTERNAL, "meter", "libebur128 query failed");
    if (!all)
        return DISCO_OK;
    if (true_peak_db(m, &out->true_peak_dbtp, st) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    if (m->steps >= STEPS_S && out->integrated_lufs > -HUGE_VAL &&
        ebur128_loudness_range(m->st, &out->range_lu) != EBUR128_SUCCESS)
        return disco_status_set(st, DISCO_ERR_NOMEM, "meter", "loudness range: out of memory");
    return DISCO_OK;
}

void disco_loudness_meter_free(disco_loudness_meter *m)
{
    if (!m)
        return;
    if (m->st)
        ebur128_destroy(&m->st);
    disco__tpdet_release(&m->tp);
    free(m);
}

int disco_loudness_measure(const disco_audio *a, int mode, disco_loudness *out, disco_status *st)
{
    disco_loudness_meter *m;
    int rc = disco_loudness_meter_new(a->channels, a->rate, mode, &m, st);

    if (rc != DISCO_OK)
        return rc;
    rc = disco_loudness_meter_add(m, a->data, a->frames, st);
    if (rc == DISCO_OK)
        rc = disco_loudness_meter_result(m, out, st);
    disco_loudness_meter_free(m);
    return rc;
}
