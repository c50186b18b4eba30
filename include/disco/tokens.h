/*
 * tokens.h - the REMI-like token language the music model reads and writes.
 *
 * A piece becomes
 *
 *   BOS  KEY_k  STYLE_s  FAMILY_f...  TEMPO_t  TIMESIG_x            (conditioning header)
 *   BAR  POS_p [TEMPO_t] [PROG_g] PITCH_n VEL_v DUR_d  [PROG_g] PITCH ...  POS_p ...
 *   BAR  ...
 *   EOS
 *
 * Grid: 4 positions per quarter note (sixteenths); a bar has num * 16 / den
 * positions (4/4: 16, 3/4: 12, 6/8: 12), at most DISCO_TOK_MAX_POS. Within a
 * position notes are ordered by program, then pitch; PROG_g is written
 * before the first note of a position and whenever the program changes.
 * PROG_DRUMS stands for channel 9. Durations are in sixteenths, 1..64
 * (longer notes are cut to 64). Velocities are 16 bins (bin b decodes to
 * 8 b + 4). TEMPO_t: 32 buckets, log-spaced from 40 to 250 BPM, in the
 * header and at a position where the tempo changes. TIMESIG_x: one of
 * DISCO_TOK_TIMESIGS in the header and after BAR when it changes. KEY_k:
 * 0..11 major C..B, 12..23 minor, 24 unknown. STYLE_s: DISCO_TOK_STYLES.
 * FAMILY_f: the GM families (program / 8, 0..15) and 16 for drums, each
 * present family once, ascending.
 *
 * Round trip: decode(encode(score)) == score for a quantised score (onsets
 * and durations on the grid, velocities at bin centres, tempos at bucket
 * centres, programs as given) up to note order and track split.
 *
 * Details the encoder fixes (tokens.c has the full list):
 *   - a time signature without a token (3/8, 2/2, 13/4, ...) is written
 *     and gridded as 4/4; a change takes effect at the first barline at or
 *     after its tick;
 *   - every bar up to the last onset is written, an empty one as a bare
 *     BAR; tempo and meter changes are kept up to the end of the last note;
 *   - a tempo change where no note starts is a position of its own:
 *     POS_p TEMPO_t with no note after it;
 *   - one note per (onset, program, pitch): the longest.
 */
#ifndef DISCO_TOKENS_H
#define DISCO_TOKENS_H

#include "disco/err.h"
#include "disco/midi.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_TOK_MAX_POS 48
#define DISCO_TOK_TEMPOS 32
#define DISCO_TOK_DURS 64
#define DISCO_TOK_VELS 16
#define DISCO_TOK_KEYS 25
#define DISCO_TOK_FAMILIES 17
#define DISCO_TOK_NTIMESIGS 8
#define DISCO_TOK_NSTYLES 8

/* Token id layout: each range starts where the previous ends. */
enum {
    DISCO_TOK_PAD = 0,
    DISCO_TOK_BOS = 1,
    DISCO_TOK_EOS = 2,
    DISCO_TOK_BAR = 3,
    DISCO_TOK_POS0 = 4,
    DISCO_TOK_TEMPO0 = DISCO_TOK_POS0 + DISCO_TOK_MAX_POS,
    DISCO_TOK_TIMESIG0 = DISCO_TOK_TEMPO0 + DISCO_TOK_TEMPOS,
    DISCO_TOK_PROG0 = DISCO_TOK_TIMESIG0 + DISCO_TOK_NTIMESIGS, /* 128 programs, then drums */
    DISCO_TOK_PROG_DRUMS = DISCO_TOK_PROG0 + 128,
    DISCO_TOK_PITCH0 = DISCO_TOK_PROG_DRUMS + 1,
    DISCO_TOK_VEL0 = DISCO_TOK_PITCH0 + 128,
    DISCO_TOK_DUR1 = DISCO_TOK_VEL0 + DISCO_TOK_VELS, /* DUR_1 .. DUR_64 */
    DISCO_TOK_KEY0 = DISCO_TOK_DUR1 + DISCO_TOK_DURS,
    DISCO_TOK_STYLE0 = DISCO_TOK_KEY0 + DISCO_TOK_KEYS,
    DISCO_TOK_FAMILY0 = DISCO_TOK_STYLE0 + DISCO_TOK_NSTYLES,
    DISCO_TOK_VOCAB = DISCO_TOK_FAMILY0 + DISCO_TOK_FAMILIES,
};

/* Time signatures with a token, in TIMESIG order: "2/4", "3/4", "4/4", "5/4", "6/8", "7/8",
 * "9/8", "12/8". Others are written as 4/4. */
extern const uint8_t disco_tok_timesigs[DISCO_TOK_NTIMESIGS][2];
/* Style names in STYLE order: "unknown", "game", "folk", "classical", "jazz", "pop", "rock",
 * "electronic". */
extern const char *const disco_tok_styles[DISCO_TOK_NSTYLES];

typedef enum disco_tok_kind {
    DISCO_TK_PAD,
    DISCO_TK_BOS,
    DISCO_TK_EOS,
    DISCO_TK_BAR,
    DISCO_TK_POS,
    DISCO_TK_TEMPO,
    DISCO_TK_TIMESIG,
    DISCO_TK_PROG,
    DISCO_TK_PITCH,
    DISCO_TK_VEL,
    DISCO_TK_DUR,
    DISCO_TK_KEY,
    DISCO_TK_STYLE,
    DISCO_TK_FAMILY,
    DISCO_TK_INVALID,
} disco_tok_kind;

/* Kind of a token and its value within the kind (position, bucket, pitch, ...). */
disco_tok_kind disco_tok_kind_of(int32_t tok, int *value);
/* "POS_12", "PITCH_60", "TEMPO_17", ...; "?" for an invalid id. */
const char *disco_tok_name(int32_t tok, char buf[24]);

/* BPM <-> tempo bucket (bucket centres are what decoding gives back). */
int disco_tok_tempo_bucket(double bpm);
double disco_tok_tempo_bpm(int bucket);
/* Velocity <-> bin. */
int disco_tok_vel_bin(int velocity);
int disco_tok_vel_value(int bin);

/* Conditioning written in the header (a NULL cond: key estimated, style 0). */
typedef struct disco_tok_cond {
    int key;   /* 0..23, or 24 for unknown (-1 means: estimate from the notes) */
    int style; /* 0..DISCO_TOK_NSTYLES-1 */
} disco_tok_cond;

/*
 * Score -> tokens (malloc'd in *toks, caller frees). Notes are quantised to
 * the grid on the way (onset and duration to the nearest sixteenth,
 * duration at least 1). Bars follow the score's time signatures. The key
 * estimate (cond->key == -1) correlates the duration-weighted pitch-class
 * histogram of the pitched notes with the Krumhansl-Kessler profiles; 24
 * when there is no pitched note. INVAL for a score with no notes, a pitch,
 * program or channel out of range, a bad cond; LIMIT past 65536 bars;
 * NOMEM.
 */
int disco_tokens_encode(const disco_score *sc, const disco_tok_cond *cond, int32_t **toks,
                        size_t *n, disco_status *st);

/*
 * Tokens -> score at `tpq` (4..32767; 480 typical). Lenient, because sampled
 * sequences may be malformed: a token that makes no sense where it stands
 * (a PITCH with no POS before it in the bar, a DUR without a PITCH) is
 * skipped and counted in *skipped (may be NULL); PAD is ignored. Stops at
 * EOS. Any sequence gives a valid score (maybe without notes): drums on
 * channel 9, other programs on channels in order of first use (reused past 15),
 * a key signature from KEY, end_tick covering the last bar. `out` is
 * overwritten (release it with disco_score_release). INVAL for tpq; LIMIT
 * past DISCO_MIDI_MAX_TICK; NOMEM.
 */
int disco_tokens_decode(const int32_t *toks, size_t n, int tpq, disco_score *out, size_t *skipped,
                        disco_status *st);

/* Transposes every pitched note (not drums) by `semitones` in place; pitches leaving 0..127
 * make it INVAL and leave the tokens unchanged. KEY_k tokens move with it. */
int disco_tokens_transpose(int32_t *toks, size_t n, int semitones, disco_status *st);

#endif
