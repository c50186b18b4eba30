/*
 * audio_analysis.h - the whole analysis of one audio stream in one pass.
 *
 *   reader --blocks--> characteristics, loudness          (original rate/channels)
 *          \--downmix--> resample to cfg.rate --> frames --> STFT power
 *                          --> mel -> dB -> MFCC, onset envelope
 *                          --> chroma (tuning estimated on the first 30 s)
 *                          --> centroid, bandwidth, rolloff, flatness, contrast
 *                          --> zcr, rms
 *   end of stream: onsets, tempo, beats (from the envelope), key (from chroma)
 *
 * Memory is bounded by the block size plus one float per frame for the
 * onset envelope and the optional frame-level series (cfg.keep_frames), so a
 * two-hour file does not sit in memory.
 */
#ifndef DISCO_AUDIO_ANALYSIS_H
#define DISCO_AUDIO_ANALYSIS_H

#include "disco/audio.h"
#include "disco/key.h"
#include "disco/loudness.h"
#include "disco/progress.h"
#include "disco/rhythm.h"

#include <stddef.h>

#define DISCO_ANALYSIS_MFCC_MAX 40

typedef struct disco_analysis_config {
    int rate;                      /* analysis rate, 22050 */
    size_t n_fft;                  /* 2048 */
    size_t hop;                    /* 512 */
    size_t n_mels;                 /* 128 */
    size_t n_mfcc;                 /* 20, at most DISCO_ANALYSIS_MFCC_MAX */
    int htk;                       /* mel scale: 0 Slaney, 1 HTK */
    disco_key_profile key_profile; /* combined */
    int loudness_mode;             /* DISCO_LOUDNESS_ALL */
    int keep_frames;               /* keep frame-level series (see disco_analysis_frames) */
} disco_analysis_config;

disco_analysis_config disco_analysis_config_default(void);

/* Mean and standard deviation of a frame feature over the file. */
typedef struct disco_stat {
    double mean, std;
} disco_stat;

/*
 * Frame-level series, one value per frame (frame i at i * hop / rate
 * seconds). The onset envelope is always there; the others only with
 * cfg.keep_frames (NULL otherwise). All malloc'd, released with the report.
 */
typedef struct disco_analysis_frames {
    size_t count;
    double frame_rate;
    float *onset_env, *rms, *zcr, *centroid, *bandwidth, *rolloff, *flatness;
    float *mfcc;   /* count x n_mfcc */
    float *chroma; /* count x 12 */
} disco_analysis_frames;

typedef struct disco_analysis_report {
    disco_audio_info info;
    disco_character character;
    disco_loudness loudness;
    disco_tempo tempo;
    double *beats; /* seconds, malloc'd */
    size_t n_beats;
    double *onsets; /* seconds, malloc'd */
    size_t n_onsets;
    disco_key key;
    double tuning; /* semitone fraction */
    size_t n_mfcc;
    disco_stat mfcc[DISCO_ANALYSIS_MFCC_MAX];
    double chroma_mean[12];
    disco_stat centroid, bandwidth, rolloff, flatness, zcr, rms;
    disco_stat contrast[7];
    disco_analysis_frames frames; /* count and onset_env always; the rest with cfg.keep_frames */
} disco_analysis_report;

/*
 * Reads `r` to the end and analyses it, reporting stage "analyze" with
 * frames read of the total (0 when the reader does not know it) to `prog`
 * (may be NULL); CANCELLED when the reporter asks to stop. Every error of
 * the reader, NOMEM, INVAL for a bad config naming the field. On failure the
 * report holds nothing to release.
 */
int disco_audio_analyze(disco_audio_reader *r, const disco_analysis_config *cfg,
                        const disco_progress *prog, disco_analysis_report *out, disco_status *st);

/* Same over a signal in memory. */
int disco_audio_analyze_signal(const disco_audio *a, const disco_analysis_config *cfg,
                               disco_analysis_report *out, disco_status *st);

void disco_analysis_report_release(disco_analysis_report *rep);

#endif
