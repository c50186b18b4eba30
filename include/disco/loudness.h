/*
 * loudness.h - EBU R 128 / ITU-R BS.1770 measurement through libebur128,
 * plus the sample-level characteristics a producer checks first.
 *
 * Both are streaming accumulators: feed interleaved blocks as they are
 * decoded, read the result at the end. Values that do not exist (the
 * integrated loudness of silence, the loudness range of a 2-second file)
 * are -HUGE_VAL or NAN as documented per field; the JSON layer writes them
 * as null.
 *
 * Channel weighting follows BS.1770: for 5.0/5.1 layouts (5 or 6 channels)
 * channels 4 and 5 are surrounds (+1.5 dB) and the 4th of 6 is LFE (unused);
 * everything else is weighted 1.
 */
#ifndef DISCO_LOUDNESS_H
#define DISCO_LOUDNESS_H

#include "disco/audio.h"

#include <stddef.h>

typedef struct disco_loudness {
    double integrated_lufs;  /* -HUGE_VAL when everything is gated out (silence) */
    double range_lu;         /* NAN when too short to measure */
    double momentary_max;    /* LUFS, max over 400 ms windows; -HUGE_VAL when none */
    double short_term_max;   /* LUFS, max over 3 s windows; -HUGE_VAL when none */
    double sample_peak_dbfs; /* max |x| over channels in dBFS; -HUGE_VAL for all zeros */
    double true_peak_dbtp;   /* 4x oversampled inter-sample peak, dBTP */
} disco_loudness;
/*
 * In DISCO_LOUDNESS_FAST mode range_lu, short_term_max and true_peak_dbtp
 * are not measured and read NAN. range_lu is also NAN when no 3 s window
 * exists or the signal is gated out entirely. libebur128 oversamples 4x
 * below 96 kHz, 2x below 192 kHz and not at all above.
 */

typedef struct disco_loudness_meter disco_loudness_meter;

/* What to measure: everything (true peak costs the most) or only integrated + sample peak. */
#define DISCO_LOUDNESS_ALL 0
#define DISCO_LOUDNESS_FAST 1

int disco_loudness_meter_new(int channels, int rate, int mode, disco_loudness_meter **out,
                             disco_status *st);
/* INVAL naming frame and channel for a NaN or infinite sample (the block is not added). */
int disco_loudness_meter_add(disco_loudness_meter *m, const float *interleaved, size_t frames,
                             disco_status *st);
/* Result so far; may be called more than once. */
int disco_loudness_meter_result(disco_loudness_meter *m, disco_loudness *out, disco_status *st);
void disco_loudness_meter_free(disco_loudness_meter *m);

/* One-shot measurement of a whole signal. */
int disco_loudness_measure(const disco_audio *a, int mode, disco_loudness *out, disco_status *st);

/*
 * Sample-level characteristics. Silence is every channel's |x| < 0.001
 * (-60 dBFS sample peak); a silent signal has head = tail = duration.
 * disco_character_add() does not check for NaN (feed it decoded blocks).
 */
typedef struct disco_character {
    double duration_s;
    int channels;
    int rate;
    double dc_offset[2];       /* mean of channel 0 and 1 (channel 1 = channel 0 for mono) */
    double dc_offset_max;      /* largest |mean| over all channels */
    uint64_t clipped_samples;  /* samples with |x| >= 0.999 that sit in runs of >= 3 */
    double silence_head_s;     /* leading time below -60 dBFS (all channels) */
    double silence_tail_s;     /* trailing time below -60 dBFS */
    double stereo_correlation; /* Pearson r of channels 0 and 1; NAN for mono or silence */
    double rms_dbfs;           /* over all samples; -HUGE_VAL for silence */
} disco_character;

typedef struct disco_character_acc disco_character_acc;

int disco_character_new(int channels, int rate, disco_character_acc **out, disco_status *st);
void disco_character_add(disco_character_acc *c, const float *interleaved, size_t frames);
void disco_character_result(const disco_character_acc *c, disco_character *out);
void disco_character_free(disco_character_acc *c);

#endif
