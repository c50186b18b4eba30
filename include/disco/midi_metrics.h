/*
 * midi_metrics.h - objective metrics of a score, after MusPy's.
 *
 * "Pitched notes" are the notes off the drum channel (DISCO_MIDI_DRUMS);
 * metrics about pitch ignore drums, as MusPy's do. Definitions:
 *
 *   pitch_range          highest minus lowest pitch of the pitched notes (0 without any).
 *   pitch_classes        how many of the 12 pitch classes the pitched notes use.
 *   polyphony            mean number of distinct pitches sounding, over the ticks
 *                        where at least one pitched note sounds (a note sounds on
 *                        [start, start + dur)); MusPy's polyphony.
 *   scale_consistency    largest fraction of pitched notes inside one of the 24
 *                        major and natural-minor scales.
 *   pitch_entropy        Shannon entropy (bits) of the pitched notes' pitch histogram
 *                        (note counts); pitch_class_entropy the same over pitch classes.
 *   empty_beat_rate      fraction of the beats (quarter notes, ceil(end_tick / tpq)
 *                        of them) in which no note sounds, drums included; MusPy's
 *                        empty-beat rate, with notes as half-open intervals and the
 *                        piece lasting to end_tick.
 *   groove_consistency   1 - mean over consecutive bars of the Hamming distance of
 *                        their onset patterns divided by the bar's positions. Onsets
 *                        of all notes (drums included) are rounded to a sixteenth
 *                        grid; bars have the first time signature's length and
 *                        there are ceil(end_tick / bar) of them (MusPy's groove
 *                        consistency on a sixteenth grid).
 *   bpm_initial          tempo at tick 0; bpm_mean quarters per minute over the whole
 *                        piece (the time-weighted mean tempo; bpm_initial when empty).
 *   seconds              duration to end_tick through the tempo map.
 *   key                  Krumhansl-Kessler estimate: the pitch-class histogram of the
 *                        pitched notes weighted by duration, correlated (Pearson)
 *                        with the major and minor key profiles in all 12 rotations;
 *                        0..11 C..B major, 12..23 C..B minor (the tokenizer's KEY_k),
 *                        key_corr the best correlation.
 *
 * Undefined values are NaN: polyphony, scale consistency and the entropies
 * without pitched notes, empty-beat rate when end_tick is 0, groove
 * consistency with fewer than two bars; key is -1 (key_corr NaN) without
 * pitched notes or when every pitch class lasts equally long.
 *
 * Threads: pure function of the score.
 */
#ifndef DISCO_MIDI_METRICS_H
#define DISCO_MIDI_METRICS_H

#include "disco/err.h"
#include "disco/midi.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_midi_metrics {
    size_t nnotes;   /* all notes */
    size_t npitched; /* notes off the drum channel */
    int pitch_range;
    int pitch_classes;
    double polyphony;
    double scale_consistency;
    double pitch_entropy;
    double pitch_class_entropy;
    double empty_beat_rate;
    double groove_consistency;
    double bpm_initial, bpm_mean;
    double seconds;
    int nprograms;             /* distinct programs of pitched notes */
    uint8_t program_used[128]; /* 1 where a pitched note uses the program */
    int has_drums;             /* 1 when a note is on the drum channel */
    int key;                   /* 0..23 (see above), -1 unknown */
    double key_corr;
} disco_midi_metrics;

/*
 * Computes every metric of `sc` into `out`. The score's notes need not be
 * sorted. Errors: INVAL (tpq < 1, NULL notes with nnotes > 0), NOMEM.
 */
int disco_midi_metrics_compute(const disco_score *sc, disco_midi_metrics *out, disco_status *st);

/* "C major", "F# minor", ... for key 0..23; "unknown" otherwise. Never NULL. */
const char *disco_midi_metrics_key_name(int key);

#endif
