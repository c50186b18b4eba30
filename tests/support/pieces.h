/*
 * pieces.h - a generated accuracy set: short pieces with a known tempo and
 * a known key, as note lists for disco_render_notes().
 *
 * 24 pieces, one per key (12 tonics x major/minor), 60..190 BPM, in ten
 * styles: piano ballad, drumless strings, reggae one-drop, waltz (3/4),
 * funk, rock, bossa, march (2/4), four-on-the-floor dance, punk. Each
 * is a groove of drum/bass/chord/arpeggio lanes over a progression that
 * establishes the key (I-IV-V-I, i-iv-V-i, i-VI-III-VII then i-iv-V-i,
 * ...), ending on the tonic, with a melody drawn from the scale (harmonic
 * minor over V). The beat is the clearest pulse: every beat carries an
 * onset in some lane, accents fall on beats, and faster subdivisions
 * (hi-hat eighths, funk sixteenths, reggae off-beat skanks) are softer.
 * Bass roots sit at E2..D#3 and above. Timing is exact (no swing, no
 * jitter); velocities vary.
 *
 * Deterministic: the same (index, seed, seconds) always gives the same
 * notes; another seed changes melodies and velocities but never the tempo,
 * key, style or length.
 */
#ifndef DISCO_TEST_PIECES_H
#define DISCO_TEST_PIECES_H

#include "disco/render.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_piece {
    char name[48];     /* "ballad-060-C-major" */
    const char *style; /* "ballad", "rock", ... (static) */
    double bpm;        /* the true tempo, quarter-note beats per minute */
    int beats_per_bar; /* 4, 3 (waltz) or 2 (march) */
    int tonic;         /* 0 = C .. 11 = B */
    int minor;         /* 0 major, 1 minor */
    size_t bars;
    double duration_s;                   /* bars * beats_per_bar * 60 / bpm; notes end by then */
    int programs[DISCO_RENDER_CHANNELS]; /* GM programs to render with */
    disco_note *notes;                   /* malloc'd, sorted by start */
    size_t n_notes;
} disco_piece;

/* How many pieces there are (24). */
size_t disco_pieces_count(void);

/*
 * Makes piece `i` about `seconds` long (whole bars; <= 0 means 24 s; the
 * length is clamped to 4..120 s). Returns 0, DISCO_ERR_INVAL for i out of
 * range, or DISCO_ERR_NOMEM (then `out` holds nothing to release).
 */
int disco_piece_make(size_t i, uint64_t seed, double seconds, disco_piece *out);

/* Frees the notes; NULL or an empty piece is fine. */
void disco_piece_release(disco_piece *p);

/* A render config with the piece's programs and the given rate, dry or with reverb. */
disco_render_config disco_piece_render_config(const disco_piece *p, int rate, int reverb);

#endif
