/*
 * effects.h - audio effects on interleaved float signals, and the JSON
 * effect chain that strings them together.
 *
 * Every effect processes `frames` interleaved frames in place (the limiter
 * reads `in` and writes `out`, which may be the same buffer), keeps its
 * state between calls so a long signal can be fed block by block, and never
 * allocates while processing: buffers are made by _new (or live in the
 * caller-owned struct for biquads).
 *
 *   biquad      RBJ cookbook low/high-pass, peaking, low/high shelf
 *   compressor  feed-forward, peak or RMS detector, soft knee, stereo-linked
 *   limiter     look-ahead true-peak limiter (4x polyphase oversampled detector)
 *   reverb      8-line feedback delay network, Hadamard mixing
 *   delay       feedback delay, time in ms or a note value at a tempo
 *   gain, pan, width, fade   stateless helpers
 *
 * Errors: constructors and designers return DISCO_ERR_INVAL for parameters
 * out of range, with st->field = the config field ("ratio") and a message
 * that starts with it ("ratio: 0.5 out of range 1..100"), so the chain can
 * prefix its JSON path ("effects[1].ratio: 0.5 out of range 1..100").
 * DISCO_ERR_NOMEM when a buffer cannot be allocated.
 *
 * Threads: every object belongs to one thread; distinct objects may be used
 * concurrently. Designed coefficient structs are plain values.
 */
#ifndef DISCO_EFFECTS_H
#define DISCO_EFFECTS_H

#include "disco/audio.h"
#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>

/* --- biquad -------------------------------------------------------------- */

typedef enum disco_biquad_kind {
    DISCO_BIQUAD_LOWPASS,
    DISCO_BIQUAD_HIGHPASS,
    DISCO_BIQUAD_PEAKING,
    DISCO_BIQUAD_LOWSHELF,
    DISCO_BIQUAD_HIGHSHELF,
} disco_biquad_kind;

/* One EQ band. Ranges are checked by disco_biquad_design(). */
typedef struct disco_biquad_band {
    disco_biquad_kind kind;
    double freq;    /* Hz, 1 .. below Nyquist */
    double gain_db; /* peaking and shelves, -40..40; ignored by low/high-pass */
    double q;       /* 0.05..50 (0.7071 = Butterworth for low/high-pass) */
    double slope;   /* shelves only: 0 = use q, else the RBJ shelf slope S in 0.05..1 */
} disco_biquad_band;

/* A peaking band at 1 kHz, 0 dB, Q 0.7071, slope 0. */
disco_biquad_band disco_biquad_band_default(void);

/* Parses "lowpass", "highpass", "peaking", "lowshelf", "highshelf"; INVAL naming `field`. */
int disco_biquad_kind_parse(const char *name, const char *field, disco_biquad_kind *out,
                            disco_status *st);
const char *disco_biquad_kind_name(disco_biquad_kind kind);

/* Normalised coefficients (a0 = 1): y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
typedef struct disco_biquad_coefs {
    double b0, b1, b2, a1, a2;
} disco_biquad_coefs;

/*
 * RBJ "Audio EQ Cookbook" design of `band` at sample rate `rate`.
 * INVAL (field "freq", "q", "gain_db", "slope" or "rate") when a parameter
 * is out of range, e.g. "freq: 30000 Hz is above Nyquist (22050 Hz)".
 */
int disco_biquad_design(const disco_biquad_band *band, double rate, disco_biquad_coefs *out,
                        disco_status *st);

/* Analytic magnitude response in dB of `c` at `freq` Hz (|H(e^jw)|). */
double disco_biquad_response_db(const disco_biquad_coefs *c, double rate, double freq);

/* A filter with per-channel state (transposed direct form II, double state). */
typedef struct disco_biquad {
    disco_biquad_coefs c;
    int channels;
    double z1[DISCO_AUDIO_MAX_CHANNELS];
    double z2[DISCO_AUDIO_MAX_CHANNELS];
} disco_biquad;

/* Sets coefficients and clears the state; `channels` is clamped to 1..MAX_CHANNELS. */
void disco_biquad_init(disco_biquad *f, const disco_biquad_coefs *c, int channels);
void disco_biquad_reset(disco_biquad *f);

/* Runs `n` filters in series over `frames` interleaved frames, in place. */
void disco_biquad_process(disco_biquad *f, size_t n, float *x, size_t frames);

/* --- compressor ---------------------------------------------------------- */

#define DISCO_DETECT_PEAK 0
#define DISCO_DETECT_RMS 1

typedef struct disco_compressor_config {
    double threshold_db; /* -80..0 dBFS, default -18 */
    double ratio;        /* 1..100, default 4 */
    double knee_db;      /* 0..24, default 6 (total knee width) */
    double attack_ms;    /* 0..1000, default 10 */
    double release_ms;   /* 1..5000, default 150 */
    double makeup_db;    /* -24..48, default 0 */
    int detector;        /* DISCO_DETECT_PEAK (default) or DISCO_DETECT_RMS */
    double rms_ms;       /* RMS averaging time 1..1000, default 10 */
} disco_compressor_config;

disco_compressor_config disco_compressor_config_default(void);

/* INVAL naming the first field out of range. */
int disco_compressor_config_check(const disco_compressor_config *cfg, disco_status *st);

/*
 * The static curve: gain in dB (<= 0, make-up excluded) applied to a
 * detector level of `level_db` (hard or quadratic soft knee of width
 * knee_db centred on the threshold).
 */
double disco_compressor_curve_db(const disco_compressor_config *cfg, double level_db);

/*
 * Stereo-linked: the detector sees max |x| over channels (peak) or the mean
 * square over channels smoothed over rms_ms (RMS); the gain reduction is
 * smoothed in dB with separate attack and release, then applied to every
 * channel together with the make-up gain.
 */
typedef struct disco_compressor disco_compressor;

int disco_compressor_new(const disco_compressor_config *cfg, int channels, double rate,
                         disco_compressor **out, disco_status *st);
void disco_compressor_process(disco_compressor *c, float *x, size_t frames);
/* Largest gain reduction so far, dB >= 0. */
double disco_compressor_max_reduction_db(const disco_compressor *c);
void disco_compressor_free(disco_compressor *c);

/* --- true-peak limiter --------------------------------------------------- */

typedef struct disco_limiter_config {
    double ceiling_db;   /* -30..0 dBTP, default -1 */
    double lookahead_ms; /* 0.1..50, default 5: also the attack time */
    double release_ms;   /* 1..5000, default 80 */
} disco_limiter_config;

disco_limiter_config disco_limiter_config_default(void);
int disco_limiter_config_check(const disco_limiter_config *cfg, disco_status *st);

/*
 * DESIGN: the detector interpolates every channel 4x, polyphase, with the
 * 12-tap-per-phase Hann-windowed sinc that libebur128's true-peak meter
 * uses (BS.1770-4 Annex 2 size), and takes the largest |x| of each sample
 * and its three inter-sample points; the gain needed for that point is held
 * (running minimum) over the look-ahead plus the interpolator's span,
 * released exponentially, and smoothed by a moving average as long as the
 * look-ahead. The audio is delayed to meet it, so the gain is already down,
 * and flat over the interpolator's span, when an isolated peak passes: the
 * 4x oversampled output peak stays at or below the ceiling. The limiter
 * aims DISCO_LIMITER_MARGIN_DB lower for the cases where the gain still
 * moves under a peak (peaks crowded within the look-ahead).
 */
#define DISCO_LIMITER_MARGIN_DB 0.05

typedef struct disco_limiter disco_limiter;

int disco_limiter_new(const disco_limiter_config *cfg, int channels, double rate,
                      disco_limiter **out, disco_status *st);
/* Frames by which the output lags the input. */
size_t disco_limiter_latency(const disco_limiter *l);
/*
 * Streams `frames` frames from `in` to `out` (may alias), delayed by the
 * latency; the first latency frames out are silence. Feed latency frames of
 * zeros at the end to drain.
 */
void disco_limiter_process(disco_limiter *l, const float *in, float *out, size_t frames);
/*
 * Limits a whole signal in place with the delay compensated (no added
 * frames), starting from a cleared state; the largest reduction accumulates.
 */
void disco_limiter_apply(disco_limiter *l, disco_audio *a);
/* Largest gain reduction so far, dB >= 0. */
double disco_limiter_max_reduction_db(const disco_limiter *l);
void disco_limiter_free(disco_limiter *l);

/*
 * 4x oversampled true peak in dBTP (-HUGE_VAL for silence) of `frames`
 * interleaved frames, with the limiter's interpolator: the fast meter
 * mastering uses. INVAL for channels outside 1..MAX_CHANNELS, NOMEM.
 */
int disco_true_peak(const float *x, size_t frames, int channels, double *dbtp, disco_status *st);

/* --- reverb -------------------------------------------------------------- */

typedef struct disco_reverb_config {
    double room_size;    /* 0..1, default 0.5: RT60 from 0.2 s to 8 s, larger lines */
    double damping;      /* 0..1, default 0.5: high-frequency loss per pass */
    double wet;          /* 0..1, default 0.3 */
    double dry;          /* 0..1, default 1 */
    double pre_delay_ms; /* 0..500, default 10 */
} disco_reverb_config;

disco_reverb_config disco_reverb_config_default(void);
int disco_reverb_config_check(const disco_reverb_config *cfg, disco_status *st);

/* RT60 in seconds a room_size maps to. */
double disco_reverb_rt60(double room_size);

typedef struct disco_reverb disco_reverb;

/*
 * DESIGN: channels are summed to mono, pre-delayed and fed to 8 delay lines
 * of mutually prime lengths; each line is damped by a one-pole low-pass
 * (DC gain 1) and a gain setting its RT60, and the lines are mixed by the
 * orthogonal 8x8 Hadamard matrix, so the loop gain stays below 1 at every
 * frequency. Output channel c reads the lines through Hadamard row
 * (c + 1) mod 8 (row 0 for mono), which decorrelates left and right.
 */
int disco_reverb_new(const disco_reverb_config *cfg, int channels, double rate, disco_reverb **out,
                     disco_status *st);
void disco_reverb_process(disco_reverb *r, float *x, size_t frames);
void disco_reverb_free(disco_reverb *r);

/* --- delay --------------------------------------------------------------- */

typedef struct disco_delay_config {
    double time_ms;  /* 1..4000, default 250 */
    double feedback; /* 0..0.95, default 0.35 */
    double mix;      /* wet level 0..1, default 0.35 (the dry signal passes at 1) */
} disco_delay_config;

disco_delay_config disco_delay_config_default(void);
int disco_delay_config_check(const disco_delay_config *cfg, disco_status *st);

/*
 * Length in seconds of a note value at `bpm` (20..400): "1/4" is one beat,
 * "1/8" half a beat, "1/1" four beats; a trailing "." makes it dotted (x1.5),
 * a trailing "t" a triplet (x2/3). INVAL naming `field` for anything else.
 */
int disco_note_seconds(const char *note, double bpm, const char *field, double *out,
                       disco_status *st);

typedef struct disco_delay disco_delay;

/* y = x + mix * d, where d is the line `time` ago and the line takes x + feedback * d. */
int disco_delay_new(const disco_delay_config *cfg, int channels, double rate, disco_delay **out,
                    disco_status *st);
void disco_delay_process(disco_delay *d, float *x, size_t frames);
void disco_delay_free(disco_delay *d);

/* --- gain, pan, width, fade ---------------------------------------------- */

void disco_gain_apply(float *x, size_t frames, int channels, double gain_db);

/*
 * Constant-power pan of a stereo signal, p in -1 (left) .. 1 (right):
 * gl = sqrt2 cos(t), gr = sqrt2 sin(t), t = (p + 1) pi / 4, so gl^2 + gr^2 = 2
 * for every p and the centre is unity.
 */
void disco_pan_gains(double pan, double *gl, double *gr);
void disco_pan_apply(float *x, size_t frames, double pan);

/* Stereo width through mid/side: S is scaled by `width` (0 mono, 1 unchanged, 2 wide). */
void disco_width_apply(float *x, size_t frames, double width);

typedef enum disco_fade_curve {
    DISCO_FADE_LINEAR, /* g = t */
    DISCO_FADE_SINE,   /* g = sin(t pi/2): equal power */
    DISCO_FADE_EXP,    /* g = t^2: slow start */
    DISCO_FADE_LOG,    /* g = 1 - (1-t)^2: fast start */
    DISCO_FADE_SCURVE, /* g = (1 - cos(t pi)) / 2 */
} disco_fade_curve;

/* Parses "linear", "sine", "exp", "log", "scurve"; INVAL naming `field`. */
int disco_fade_curve_parse(const char *name, const char *field, disco_fade_curve *out,
                           disco_status *st);

/* Gain of `curve` at t in 0..1 (clamped): 0 at t = 0, 1 at t = 1. */
double disco_fade_gain(disco_fade_curve curve, double t);

/*
 * Applies a fade-in over the first `in_frames` and a fade-out over the last
 * `out_frames` of a signal `total` frames long to the block of `frames`
 * frames starting at frame `pos`.
 */
void disco_fade_apply(float *x, size_t frames, int channels, size_t pos, size_t total,
                      size_t in_frames, size_t out_frames, disco_fade_curve curve);

/* --- chain --------------------------------------------------------------- */

/*
 * An effect chain from JSON: {"effects": [...]} or a bare array of effects,
 * each an object with "type" and that effect's parameters (all optional,
 * defaults as in the configs above, unless marked required):
 *
 *   eq          "bands": [{"kind", "freq" (required), "gain_db", "q", "slope"}]
 *               (1..16 bands), or one band's keys directly in the effect
 *   compressor  threshold_db, ratio, knee_db, attack_ms, release_ms,
 *               makeup_db, detector ("peak" | "rms"), rms_ms
 *   reverb      room_size, damping, wet, dry, pre_delay_ms
 *   delay       time_ms, or time ("1/8", "1/4.", "1/8t") with bpm (required
 *               then); feedback, mix
 *   gain        gain_db (-60..24, required)
 *   pan         pan (-1..1, required; stereo only)
 *   width       width (0..2, required; stereo only)
 *   fade        in_s, out_s (seconds >= 0), curve ("linear" | "sine" | "exp"
 *               | "log" | "scurve", default linear)
 *
 * Every error is INVAL with st->field the JSON path and a message that starts
 * with it: `effects[2].bands[0].freq: 30000 Hz is above Nyquist (22050 Hz)`,
 * `effects[0].type: unknown effect "flanger"; known: eq, compressor, ...`,
 * `effects[1].ratoi: unknown key; known: type, threshold_db, ...`,
 * `effects[3].pan: expected a number, got string`. Paths read "effects[i]"
 * for a bare array too. At most DISCO_CHAIN_MAX effects.
 */
#define DISCO_CHAIN_MAX 64

typedef struct disco_chain disco_chain;

/* Builds a chain for signals of `channels` channels at `rate` Hz from parsed JSON. */
int disco_chain_new(const json_t *spec, int channels, int rate, disco_chain **out,
                    disco_status *st);
/* Same from JSON text (`len` bytes). */
int disco_chain_parse(const char *text, size_t len, int channels, int rate, disco_chain **out,
                      disco_status *st);

size_t disco_chain_length(const disco_chain *c);

/*
 * Runs every effect over `a` in place, block by block, in one pass; the
 * length is kept (reverb and delay tails past the end are cut). INVAL when
 * `a` has other channels or rate than the chain was built for. A chain keeps
 * its state: applying it again continues where the last signal ended (fades
 * are positioned within each applied signal).
 */
int disco_chain_apply(disco_chain *c, disco_audio *a, disco_status *st);

void disco_chain_free(disco_chain *c);

#endif
