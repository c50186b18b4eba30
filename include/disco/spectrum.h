/*
 * spectrum.h - short-time spectra and the frame features built on them.
 *
 * Conventions follow librosa 0.10 unless a comment says otherwise: periodic
 * Hann window, frames centred (the signal is reflect-padded by n_fft/2 at
 * both ends), power spectrogram |X|^2, defaults sr 22050, n_fft 2048, hop
 * 512, 128 mels (Slaney scale and Slaney area normalisation), 20 MFCC
 * (DCT-II, orthonormal, of the mel power in dB, disco_power_to_db), chroma
 * from the STFT with tuning estimation.
 *
 * Known differences from librosa: librosa's MFCC and spectral contrast clip
 * dB values at 80 dB (top_db) below the maximum over the whole file, which
 * frame-at-a-time kernels cannot know, so they do not clip (only frames far
 * quieter than the loudest differ). librosa 0.10's stft pads with zeros by
 * default; disco_stft_forward() reflect-pads, as librosa did before 0.10.
 *
 * Plans (disco_stft) are immutable once made and may be shared by threads;
 * every per-call buffer is caller-owned scratch, so frame kernels never
 * allocate. FFTW planning happens under disco_fft_plan_lock().
 */
#ifndef DISCO_SPECTRUM_H
#define DISCO_SPECTRUM_H

#include "disco/err.h"

#include <stddef.h>

/* --- STFT ---------------------------------------------------------------- */

typedef struct disco_stft disco_stft;

/*
 * n_fft even, 16..65536; hop 1..n_fft. INVAL naming the value otherwise,
 * NOMEM, INTERNAL if FFTW cannot plan. Free with disco_stft_free().
 */
int disco_stft_new(size_t n_fft, size_t hop, disco_stft **out, disco_status *st);
void disco_stft_free(disco_stft *s);
size_t disco_stft_bins(const disco_stft *s); /* n_fft/2 + 1 */

/*
 * Power spectrum of one frame of n_fft samples (windowed here).
 * `scratch` holds disco_stft_scratch_floats(s) floats, 32-byte aligned
 * (use fftwf_malloc or aligned_alloc; unaligned scratch works, more slowly).
 * `power` gets disco_stft_bins(s) floats, |X_k|^2 unnormalised.
 */
size_t disco_stft_scratch_floats(const disco_stft *s);
void disco_stft_power(const disco_stft *s, const float *frame, float *power, float *scratch);

/*
 * Whole-signal STFT and its inverse, for processing that edits spectra.
 * Complex output is interleaved re,im: frames x bins x 2 floats, owned by
 * the caller (free()). disco_stft_inverse() does windowed overlap-add with
 * window-sum normalisation, so inverse(forward(x)) == x to float precision
 * for hop <= n_fft/4.
 * forward: frame t is centred on x[t * hop] (reflect padding), frames =
 * 1 + n / hop; INVAL for a NULL or empty signal, NOMEM.
 * inverse: writes n samples to x (zeros past the last frame); INVAL for a
 * NULL or empty spectrogram, NOMEM.
 */
int disco_stft_forward(const disco_stft *s, const float *x, size_t n, float **spec, size_t *frames,
                       disco_status *st);
int disco_stft_inverse(const disco_stft *s, const float *spec, size_t frames, size_t n, float *x,
                       disco_status *st);

/* --- mel, MFCC ---------------------------------------------------------- */

typedef struct disco_melbank disco_melbank;

typedef struct disco_mel_config {
    double rate;   /* 22050 */
    size_t n_fft;  /* 2048 */
    size_t n_mels; /* 128 */
    double fmin;   /* 0 */
    double fmax;   /* 0 (default): rate / 2 */
    int htk;       /* 0: Slaney scale (default), 1: HTK scale */
    int norm;      /* 1: Slaney area normalisation (default), 0: peak 1 */
} disco_mel_config;

disco_mel_config disco_mel_config_default(void);
/* INVAL naming the field (0 <= fmin < fmax <= rate / 2, n_mels 1..4096), NOMEM. */
int disco_melbank_new(const disco_mel_config *cfg, disco_melbank **out, disco_status *st);
void disco_melbank_free(disco_melbank *m);
/* mel[n_mels] = filterbank x power[bins] (sparse: each filter touches its own bins only). */
void disco_melbank_apply(const disco_melbank *m, const float *power, float *mel);

/*
 * The mel scales: Slaney (htk 0) is linear, 3 mels per 200 Hz, below
 * 1000 Hz (= 15 mels) and logarithmic above, 27 mels per factor 6.4;
 * HTK (htk 1) is 2595 log10(1 + hz / 700).
 */
double disco_hz_to_mel(double hz, int htk);
double disco_mel_to_hz(double mel, int htk);

/* 10*log10(max(x, 1e-10)) in place (librosa power_to_db with ref 1, amin 1e-10, no top_db). */
void disco_power_to_db(float *x, size_t n);

/*
 * MFCC: orthonormal DCT-II of `n_mels` dB values, first `n_mfcc` coefficients
 * (scipy.fft.dct type 2, norm "ortho"). disco_dct_new(n_in, n_out): n_in
 * 1..65536, n_out 1..n_in; INVAL naming the value, NOMEM.
 */
typedef struct disco_dct disco_dct;
int disco_dct_new(size_t n_in, size_t n_out, disco_dct **out, disco_status *st);
void disco_dct_free(disco_dct *d);
void disco_dct_apply(const disco_dct *d, const float *in, float *out);

/* --- chroma ------------------------------------------------------------- */

typedef struct disco_chromabank disco_chromabank;

/*
 * Chroma filterbank (librosa.filters.chroma: 12 bins, Gaussian-weighted
 * octave emphasis centred 5 octaves above A0, i.e. on A5 = 880 Hz, with
 * width 2 octaves, base C: class 0 is C, 9 is A) for a tuning offset in
 * fractions of a semitone (-0.5..0.5). INVAL for a bad rate, n_fft or
 * tuning, NOMEM.
 */
int disco_chromabank_new(double rate, size_t n_fft, double tuning, disco_chromabank **out,
                         disco_status *st);
void disco_chromabank_free(disco_chromabank *c);
/* chroma[12] from a power (or magnitude) frame; normalised so the max is 1 (all 0 for silence). */
void disco_chromabank_apply(const disco_chromabank *c, const float *spec, float *chroma);

/*
 * Tuning estimate in semitone fractions from spectral peaks
 * (librosa.estimate_tuning/piptrack: local maxima between 150 and 4000 Hz
 * above 0.1 x the frame's maximum, parabolic interpolation, the peaks at or
 * above the median height vote in a 0.01-semitone histogram; the result is
 * a multiple of 0.01 in -0.5..0.49). Feed it the same frames chroma is made
 * from: librosa's chroma_stft estimates on its power spectrogram, so pass
 * power. An accumulator so it can run while streaming; it keeps 5 bytes per
 * peak (a few tens per frame), up to 4M peaks, past which (or if memory
 * runs out) further peaks are not counted. One thread at a time.
 */
typedef struct disco_tuning disco_tuning;
int disco_tuning_new(double rate, size_t n_fft, disco_tuning **out, disco_status *st);
void disco_tuning_add(disco_tuning *t, const float *power);
double disco_tuning_result(const disco_tuning *t); /* 0 when no peaks were seen */
void disco_tuning_free(disco_tuning *t);

/* --- scalar spectral features ------------------------------------------- */

#define DISCO_CONTRAST_BANDS 7 /* librosa: 6 bands above 200 Hz + the bottom one */

typedef struct disco_spectral_frame {
    float centroid;                       /* Hz, of magnitudes */
    float bandwidth;                      /* Hz, p = 2 */
    float rolloff;                        /* Hz, 85 % of magnitude */
    float flatness;                       /* of power, amin 1e-10 */
    float contrast[DISCO_CONTRAST_BANDS]; /* dB, quantile 0.02 */
} disco_spectral_frame;

typedef struct disco_spectral disco_spectral;
/*
 * INVAL for an n_fft outside 16..65536 or odd, a rate of 12800 or less (the
 * last contrast band starts at 6400 Hz, as librosa requires), or an n_fft
 * too short to put a bin in every contrast band; NOMEM.
 */
int disco_spectral_new(double rate, size_t n_fft, disco_spectral **out, disco_status *st);
void disco_spectral_free(disco_spectral *s);
/* `power` has bins floats; `scratch` disco_spectral_scratch_floats() floats. */
size_t disco_spectral_scratch_floats(const disco_spectral *s);
void disco_spectral_apply(const disco_spectral *s, const float *power, float *scratch,
                          disco_spectral_frame *out);

/*
 * Zero-crossing rate and RMS of one (uncentred) frame of `n` samples
 * (librosa: samples with |x| <= 1e-10 count as positive; crossings / n;
 * sqrt(mean x^2)). Both 0 for n == 0.
 */
float disco_zcr(const float *frame, size_t n);
float disco_rms(const float *frame, size_t n);

#endif
