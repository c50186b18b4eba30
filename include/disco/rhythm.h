/*
 * rhythm.h - onset strength, onset detection, tempo and beat tracking.
 *
 * All functions work on an onset-strength envelope sampled at `frame_rate`
 * frames per second (sr / hop: 22050 / 512 = 43.07 by default), so they are
 * independent of how the envelope was made. disco_onset_env builds it the
 * librosa way from log-mel frames: mean over mel bands of the half-wave
 * rectified difference to the previous frame (lag 1).
 *
 * Methods, in brief (details in docs/audio.md):
 *   onsets: adaptive peak picking (local max over pre_max/post_max, above
 *           the local mean over pre_avg/post_avg plus delta, then a wait);
 *   tempo:  autocorrelation of the envelope over lags for 30..300 BPM and
 *           a comb over lag multiples, refined to sub-frame precision; the
 *           octave is chosen by walking up the metrical levels from the
 *           fastest pulse, stepping to the double/triple period while that
 *           level is accented (its off-beats weak), with a log-normal prior
 *           around 120 BPM tilting the thresholds; the confidence says how
 *           clearly the last decision went (the rule: src/dsp/tempo.c);
 *   beats:  dynamic-programming beat tracking (Ellis 2007) with the tempo.
 */
#ifndef DISCO_RHYTHM_H
#define DISCO_RHYTHM_H

#include "disco/err.h"

#include <stddef.h>

/*
 * Streaming onset-strength envelope over log-mel (dB) frames. Both frames of
 * each difference are floored at the loudest value seen so far minus 80 dB
 * (power_to_db's top_db, streamed); a NaN band counts as that floor.
 * new: n_mels 1..4096, INVAL otherwise; NOMEM. One object per stream.
 */
typedef struct disco_onset_env disco_onset_env;
int disco_onset_env_new(size_t n_mels, disco_onset_env **out, disco_status *st);
/* `logmel` has n_mels values; returns this frame's envelope value (0 for the first frame). */
float disco_onset_env_push(disco_onset_env *o, const float *logmel);
void disco_onset_env_free(disco_onset_env *o);

typedef struct disco_onset_config {
    double pre_max_s;  /* 0.03 */
    double post_max_s; /* 0.00 (one frame) */
    double pre_avg_s;  /* 0.10 */
    double post_avg_s; /* 0.10 */
    double delta;      /* 0.07, on the envelope normalised so a typical strong onset is 1
                          (its 90th-percentile peak, but at least max / 4; see onset.c) */
    double wait_s;     /* 0.03 */
} disco_onset_config;

disco_onset_config disco_onset_config_default(void);

/*
 * Picks onset frames from `env[n]` (`cfg` NULL means the defaults). Writes their times in seconds
 * (frame / frame_rate) to a malloc'd array in *times (caller frees; NULL when
 * none) and the count in *count. NOMEM, or INVAL for a bad config.
 */
int disco_onset_detect(const float *env, size_t n, double frame_rate,
                       const disco_onset_config *cfg, double **times, size_t *count,
                       disco_status *st);

typedef struct disco_tempo {
    double bpm;        /* 0 when no tempo could be found (silence, too short) */
    double confidence; /* 0..1 */
    double alt_bpm;    /* the best half/double/third alternative, 0 if none */
} disco_tempo;

typedef struct disco_tempo_config {
    double start_bpm;  /* prior centre, 120 */
    double std_octaves; /* prior width in octaves, 1.0 */
    double min_bpm;    /* 30 */
    double max_bpm;    /* 300 */
} disco_tempo_config;

disco_tempo_config disco_tempo_config_default(void);
/*
 * Tempo of the envelope; `cfg` NULL means the defaults. Silence or an
 * envelope shorter than two beats at max_bpm gives bpm 0. INVAL naming the
 * config field out of range (min_bpm 1..1000, max_bpm at least 2 x min_bpm,
 * std_octaves 0.05..10) or "env" for a non-finite value; NOMEM.
 */
int disco_tempo_estimate(const float *env, size_t n, double frame_rate,
                         const disco_tempo_config *cfg, disco_tempo *out, disco_status *st);

/*
 * Beat times (seconds, malloc'd, caller frees; NULL when none) for tempo
 * `bpm` over the envelope; `tightness` 100 as in librosa. Leading/trailing
 * beats weaker than half the RMS beat strength are trimmed. bpm 0 (no
 * tempo found) gives no beats. INVAL for a bpm outside 1..(two frames a beat),
 * a tightness outside (0, 1e6] or a non-finite envelope value; NOMEM.
 */
int disco_beat_track(const float *env, size_t n, double frame_rate, double bpm, double tightness,
                     double **times, size_t *count, disco_status *st);

#endif
