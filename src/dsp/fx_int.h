/*
 * fx_int.h - internals shared by the effect, chain and mastering files of
 * the dsp layer (biquad.c, dynamics.c, reverb.c, fx_misc.c, chain.c,
 * master.c): parameter range checks and the pieces of the true-peak
 * limiter that mastering runs over a whole signal.
 *
 * Limiter timing (frames), T = DISCO__TP_TAPS: the detector's value for
 * frame m (the sample m and the three inter-sample points after it) is
 * built from frames m - T/2 + 1 .. m + T/2, so it needs input up to
 * m + T/2 (DISCO__TP_LAG); the gain computer's output for push m applies to
 * frame m - (A + T/2 - 2), A the look-ahead in frames. Total latency
 * A + T - 2.
 */
#ifndef DISCO_FX_INT_H
#define DISCO_FX_INT_H

#include "disco/err.h"
#include "disco/master.h"

#include <stddef.h>

/*
 * INVAL "name: v out of range lo..hi" (field `name`) unless lo <= v <= hi;
 * NaN is out of range.
 */
int disco__fx_range(double v, double lo, double hi, const char *name, disco_status *st);

/* INVAL naming "channels" or "rate" when a signal's shape is outside audio.h's limits. */
int disco__fx_signal(int channels, double rate, disco_status *st);

/* --- 4x true-peak detector ----------------------------------------------- */

#define DISCO__TP_TAPS 12   /* taps per inter-sample phase */
#define DISCO__TP_LAG 6     /* frames the detector runs behind its input (T/2) */
#define DISCO__TP_BLOCK 256 /* most frames per disco__tpdet_run() call */

typedef struct disco__tpdet {
    int channels;
    float h[3][DISCO__TP_TAPS]; /* phases 1/4, 2/4, 3/4 */
    float *hist;                /* channels x (DISCO__TP_TAPS - 1 + DISCO__TP_BLOCK) */
    void (*kernel)(const float *h, const float *restrict b, size_t n, float *restrict m);
} disco__tpdet;

int disco__tpdet_init(disco__tpdet *d, int channels, disco_status *st);
void disco__tpdet_reset(disco__tpdet *d);
void disco__tpdet_release(disco__tpdet *d);

/* Switches to the portable kernel (tests compare it with the AVX2 one). */
void disco__tpdet_use_portable(disco__tpdet *d);

/*
 * Takes `frames` (<= DISCO__TP_BLOCK) interleaved frames; det[j] is the
 * largest |x| over channels of the sample DISCO__TP_LAG frames before the
 * j-th new one and of the three interpolated points that follow it.
 */
void disco__tpdet_run(disco__tpdet *d, const float *x, size_t frames, float *det);

/*
 * The whole detector stream of a signal: det[k] for k = 0 .. frames +
 * DISCO__TP_LAG - 1 (the signal followed by LAG frames of silence), i.e.
 * det[k] covers frame k - DISCO__TP_LAG. NOMEM only.
 */
int disco__tp_detect(const float *x, size_t frames, int channels, float *det, disco_status *st);

/* --- limiter gain computer ----------------------------------------------- */

typedef struct disco__gaincomp {
    size_t box;     /* A: look-ahead = moving-average length */
    size_t win;     /* running-minimum window, A + DISCO__TP_TAPS - 1 */
    float rel;      /* release coefficient per frame */
    double inv_box; /* 1 / box */
    float *blk;     /* running minimum: the current block of `win` pushes */
    float *suf;     /* suffix minima of the previous block, win + 1 (last = 1) */
    size_t pos;     /* position in the block */
    float pre;      /* minimum of the current block so far */
    float env;      /* held and released gain */
    float *ring;    /* last `box` env values */
    size_t ring_pos;
    double sum;     /* of ring (exact: floats summed in double) */
    float min_gain; /* smallest output so far */
} disco__gaincomp;

int disco__gaincomp_init(disco__gaincomp *g, size_t box, double release_frames, disco_status *st);
void disco__gaincomp_reset(disco__gaincomp *g);
void disco__gaincomp_release(disco__gaincomp *g);

/* Pushes the gain r (0 < r <= 1) the detector asks for; returns the smoothed gain. */
float disco__gaincomp_push(disco__gaincomp *g, float r);

/* Latency of the limiter for look-ahead A frames. */
#define DISCO__LIMITER_LATENCY(a) ((a) + DISCO__TP_TAPS - 2)

/* --- mastering: reference EQ (master_ref.c) ------------------------------ */

/*
 * The band centres and per-band correction (dB) that moves the spectrum
 * of `in` toward that of `ref`: difference of the long-term spectra, mean
 * removed, smoothed, limited to +-max_db; 0 where a band is missing or
 * more than 60 dB below the loudest band of either signal.
 */
int disco__master_ref_eq(const disco_audio *in, const disco_audio *ref, double max_db,
                         double hz[DISCO_MASTER_BANDS], double eq_db[DISCO_MASTER_BANDS],
                         disco_status *st);

/*
 * Filters `frames` interleaved frames in place with a linear-phase FIR
 * whose magnitude follows eq_db (interpolated over log frequency), delay
 * compensated. NOMEM only.
 */
int disco__master_fir_apply(float *x, size_t frames, int channels, int rate,
                            const double eq_db[DISCO_MASTER_BANDS], disco_status *st);

#endif
