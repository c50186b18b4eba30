/*
 * master.h - mastering: gentle EQ, glue compression, gain to a loudness
 * target and a true-peak limiter, optionally matched to a reference track.
 *
 * Presets (integrated loudness, true-peak ceiling):
 *
 *   streaming  -14 LUFS, -1.0 dBTP  (Spotify, YouTube, Tidal, Amazon)
 *   apple      -16 LUFS, -1.0 dBTP  (Apple Music sound check)
 *   broadcast  -23 LUFS, -1.0 dBTP  (EBU R 128)
 *   club       -9 LUFS,  -0.3 dBTP  (loud DJ masters; 0.3 dB left for
 *                                    lossy encoders and DAC overshoot)
 *
 * Chain: input gain to the target -> high-pass (low-cut, 30 Hz Butterworth)
 * -> high shelf (+1 dB at 10 kHz) -> [reference EQ] -> glue compressor
 * (RMS, 1.5:1, 6 dB knee, 30 ms / 250 ms, threshold 2 dB above the target)
 * -> gain -> true-peak limiter. The gain before the limiter is searched
 * (secant steps on a fast loudness estimate, each candidate then limited
 * and measured, the measurement correcting the estimate) until the output
 * measures within tolerance_lu / 2 of the target, so it lands within
 * tolerance_lu.
 *
 * Loudness is measured by libebur128 (integrated, BS.1770-4 gating); true
 * peak by disco_true_peak(), the limiter's polyphase form of libebur128's
 * own 4x interpolator: the same readings (to float rounding) at several
 * times the speed of libebur128's true-peak mode.
 *
 * Reference mode: the long-term average spectra of the input and the
 * reference (Hann-windowed FFT frames, mono) are compared in third-octave
 * bands from 25 Hz to 16 kHz; the difference, with its mean removed,
 * smoothed over neighbouring bands and limited to +-max_eq_db, becomes a
 * linear-phase FIR (frequency sampling, Hann window, delay compensated)
 * applied before the compressor; the target loudness becomes the
 * reference's. The two signals may differ in rate and channels.
 *
 * Memory: the output plus one processed copy and a float per frame.
 */
#ifndef DISCO_MASTER_H
#define DISCO_MASTER_H

#include "disco/audio.h"
#include "disco/err.h"

typedef enum disco_master_preset {
    DISCO_MASTER_STREAMING,
    DISCO_MASTER_APPLE,
    DISCO_MASTER_BROADCAST,
    DISCO_MASTER_CLUB,
} disco_master_preset;

/* Parses "streaming", "apple", "broadcast", "club"; INVAL naming `field` and the names. */
int disco_master_preset_parse(const char *name, const char *field, disco_master_preset *out,
                              disco_status *st);
const char *disco_master_preset_name(disco_master_preset p);

typedef struct disco_master_config {
    double target_lufs;     /* -40..-5 */
    double ceiling_dbtp;    /* -10..0 */
    double tolerance_lu;    /* 0.05..2, default 0.2 */
    double lowcut_hz;       /* 0 (off) or 10..200, default 30 */
    double shelf_hz;        /* high shelf corner 1000..20000, default 10000 */
    double shelf_db;        /* -6..6, default 1 */
    double glue_ratio;      /* 1 (off)..4, default 1.5 */
    double glue_above_db;   /* threshold relative to the target, -20..20, default 2 */
    double glue_attack_ms;  /* default 30 */
    double glue_release_ms; /* default 250 */
    double lookahead_ms;    /* limiter, 0.5..20, default 5 */
    double release_ms;      /* limiter, 5..1000, default 80 */
    double max_gain_db;     /* largest total gain, 0..60, default 40 */
    double max_eq_db;       /* reference EQ limit, 0..12, default 6 */
    int max_iterations;     /* 1..20, default 8 */
} disco_master_config;

/* The settings of a preset (unknown values give streaming's). */
disco_master_config disco_master_config_preset(disco_master_preset p);

/* INVAL naming the first field out of range. */
int disco_master_config_check(const disco_master_config *cfg, disco_status *st);

/* Third-octave bands of the reference EQ: 25 Hz .. 16 kHz (ISO centres). */
#define DISCO_MASTER_BANDS 29

typedef struct disco_master_report {
    double target_lufs;
    double in_lufs;         /* integrated loudness of the input */
    double in_true_peak_db; /* dBTP */
    double out_lufs;
    double out_true_peak_db;
    double gain_db;           /* total gain before the limiter */
    double glue_reduction_db; /* glue compressor, max gain reduction (>= 0) */
    double max_reduction_db;  /* limiter, max gain reduction (>= 0) */
    int iterations;           /* limiter passes measured */
    int converged;            /* 1 when |out_lufs - target| <= tolerance_lu */
    /* Reference mode only (has_reference = 1). */
    int has_reference;
    double ref_lufs;
    double band_hz[DISCO_MASTER_BANDS];
    double eq_db[DISCO_MASTER_BANDS]; /* correction applied per band */
} disco_master_report;

/*
 * Masters `in` into `out` (allocated here, same channels, rate and length;
 * the caller releases it with disco_audio_release). `reference` may be NULL;
 * when given, the target loudness is the reference's and its spectrum is
 * matched. `rep` may be NULL.
 *
 * Errors: INVAL for a bad config (naming the field), an empty, silent
 * ("input is silent ...") or shorter than 0.4 s input or reference, an input
 * the low-cut leaves silent, or a target that needs more than max_gain_db;
 * NOMEM. A target the limiter cannot reach within
 * max_iterations is not an error: rep->converged is 0.
 */
int disco_master_apply(const disco_audio *in, const disco_master_config *cfg,
                       const disco_audio *reference, disco_audio *out, disco_master_report *rep,
                       disco_status *st);

/*
 * Long-term average spectrum of a signal in the DISCO_MASTER_BANDS bands:
 * mean power per band in dB (relative, -HUGE_VAL for an empty band or a
 * band above Nyquist). `hz` (may be NULL) receives the band centres.
 */
int disco_master_spectrum(const disco_audio *a, double hz[DISCO_MASTER_BANDS],
                          double db[DISCO_MASTER_BANDS], disco_status *st);

#endif
