/*
 * analyze_int.h - state shared by the two halves of the one-pass analysis:
 * analyze.c (stream, resample, frame) and analyze_frame.c (what each frame
 * yields and how it is summed up).
 */
#ifndef DISCO_ANALYZE_INT_H
#define DISCO_ANALYZE_INT_H

#include "disco/audio_analysis.h"
#include "disco/spectrum.h"

#include <stddef.h>

/* Running mean and variance (Welford). */
typedef struct disco__welford {
    double n, mean, m2;
} disco__welford;

/* A growable float series. */
typedef struct disco__series {
    float *v;
    size_t len, cap;
} disco__series;

typedef struct disco__frame_state {
    const disco_analysis_config *cfg;
    disco_stft *stft;
    disco_melbank *mel;
    disco_dct *dct;
    disco_spectral *spectral;
    disco_tuning *tuning;
    disco_chromabank *chroma; /* made once the tuning is known */
    disco_onset_env *onset;
    float *scratch, *power, *logmel, *mfcc, *spec_scratch;
    size_t bins, frames;
    /* power frames held back until the tuning is estimated */
    float *held;
    size_t held_count, held_cap;
    double chroma_sum[12];
    disco__welford w_mfcc[DISCO_ANALYSIS_MFCC_MAX], w_centroid, w_bandwidth, w_rolloff, w_flatness,
        w_zcr, w_rms, w_contrast[DISCO_CONTRAST_BANDS];
    disco__series env;
    disco__series s_rms, s_zcr, s_centroid, s_bandwidth, s_rolloff, s_flatness, s_mfcc, s_chroma;
} disco__frame_state;

int disco__frame_state_init(disco__frame_state *fs, const disco_analysis_config *cfg,
                            disco_status *st);
void disco__frame_state_release(disco__frame_state *fs);
/* One centred frame of n_fft samples at the analysis rate. */
int disco__frame_push(disco__frame_state *fs, const float *frame, disco_status *st);
/* After the last frame: chroma of held frames, onsets, tempo, beats, key, stats. */
int disco__frame_finish(disco__frame_state *fs, disco_analysis_report *rep, disco_status *st);

#endif
