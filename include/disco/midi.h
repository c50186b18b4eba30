/*
 * midi.h - Standard MIDI Files and the note-level score made from them.
 *
 * Two levels:
 *
 *   disco_smf    the file as events: format 0/1 (2 is read as 1), tracks of
 *                (delta-time, event) with running status resolved, meta
 *                events (tempo, time and key signature, track name, end of
 *                track), sysex kept opaque. Reader and writer are exact
 *                inverses for files this writer produced.
 *   disco_score  what music code works with: notes (start and duration in
 *                ticks, pitch, velocity, channel, program), the tempo map,
 *                time and key signatures, at `tpq` ticks per quarter note.
 *                Note-on/off pairing: a note-off (or note-on with velocity
 *                0) ends the earliest sounding note of that pitch and
 *                channel; notes still sounding at the end of a track end
 *                there. Channel 9 (0-based) is GM drums.
 *
 * Robustness: the reader never trusts a length. Truncated chunks, missing
 * end-of-track, running status without a previous status, unknown chunk
 * types (skipped), absurd tempos (clamped to 1..60 000 000 us per quarter)
 * and files over DISCO_MIDI_MAX_EVENTS events are handled: CORRUPT with the
 * byte offset and what was wrong for what cannot be read, NOTFOUND/IO for
 * the file itself, LIMIT past the caps. Read leniently, as real files need:
 * a track without end-of-track ends with its chunk, bytes after the
 * declared tracks are ignored, a format-0 header with several tracks reads
 * as format 1.
 *
 * Threads: plain data; no shared state.
 */
#ifndef DISCO_MIDI_H
#define DISCO_MIDI_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_MIDI_MAX_TRACKS 256
#define DISCO_MIDI_MAX_EVENTS 2000000
#define DISCO_MIDI_DRUMS 9 /* 0-based channel of GM percussion */
/*
 * Largest absolute tick a track may reach (the largest 4-byte delta-time):
 * over 38 hours at 960 ticks per quarter and 120 BPM. Files going further
 * are CORRUPT; scores and event lists going further cannot be written.
 */
#define DISCO_MIDI_MAX_TICK 0x0FFFFFFFu
#define DISCO_MIDI_MAX_FILE (64 << 20) /* bytes; disco_smf_read refuses larger files (LIMIT) */

/* --- events ----------------------------------------------------------------- */

typedef enum disco_midi_kind {
    DISCO_MIDI_NOTE_OFF = 0x80,
    DISCO_MIDI_NOTE_ON = 0x90,
    DISCO_MIDI_POLY_AT = 0xA0,
    DISCO_MIDI_CONTROL = 0xB0,
    DISCO_MIDI_PROGRAM = 0xC0,
    DISCO_MIDI_CHAN_AT = 0xD0,
    DISCO_MIDI_PITCH_BEND = 0xE0,
    DISCO_MIDI_SYSEX = 0xF0,
    DISCO_MIDI_META = 0xFF,
} disco_midi_kind;

typedef struct disco_midi_event {
    uint32_t tick;   /* absolute, from the start of the track */
    uint8_t kind;    /* disco_midi_kind (the status byte's high nibble, or F0/F7/FF) */
    uint8_t channel; /* 0..15 for channel messages */
    uint8_t a, b;    /* data bytes (note, velocity / controller, value / program / ...) */
    uint8_t meta;    /* meta type for DISCO_MIDI_META (0x51 tempo, 0x58 time sig, ...) */
    uint32_t len;    /* payload length for meta and sysex */
    uint8_t *data;   /* payload (owned by the smf), NULL when len is 0 */
} disco_midi_event;

typedef struct disco_midi_track {
    disco_midi_event *events;
    size_t count;
} disco_midi_track;

typedef struct disco_smf {
    int format;   /* 0 or 1 */
    int division; /* ticks per quarter (SMPTE divisions are converted at 120 BPM) */
    disco_midi_track *tracks;
    size_t ntracks;
} disco_smf;

/*
 * Parses a whole file held in memory into `out` (caller releases it with
 * disco_smf_release; on failure `out` is left empty). Every track keeps its
 * end-of-track meta event as its last event when the file has one; bytes
 * after it are ignored. Running status survives meta and sysex events.
 * Errors: CORRUPT ("MIDI data: offset N: what was wrong"), LIMIT (more than
 * DISCO_MIDI_MAX_TRACKS tracks or DISCO_MIDI_MAX_EVENTS events), NOMEM.
 */
int disco_smf_read_mem(const void *buf, size_t len, disco_smf *out, disco_status *st);
/* The same from a file (messages name the path); also NOTFOUND/PERM/IO, LIMIT over
 * DISCO_MIDI_MAX_FILE bytes. */
int disco_smf_read(const char *path, disco_smf *out, disco_status *st);
/*
 * Serialises into a malloc'd buffer (caller frees): every event with its
 * status byte (no running status), end-of-track appended to tracks that do
 * not end with one. INVAL for what a file cannot hold: format not 0/1 (or
 * format 0 with other than one track), division outside 1..32767, ticks
 * going backwards or past DISCO_MIDI_MAX_TICK, channel/data bytes out of
 * range, unknown kinds, payload with len > 0 and no data, end-of-track
 * before a track's last event.
 */
int disco_smf_write_mem(const disco_smf *smf, uint8_t **buf, size_t *len, disco_status *st);
/*
 * INVAL (with the track and event) unless `smf` is something the writer can
 * put in a file, as listed above; disco_smf_write_mem and
 * disco_score_from_smf check their input with it.
 */
int disco_smf_check(const disco_smf *smf, disco_status *st);
/* Writes `path` through a temporary file, fsync and rename. Errors as
 * disco_smf_write_mem, plus IO/NOSPC/PERM/NOTFOUND from the file system. */
int disco_smf_write(const char *path, const disco_smf *smf, disco_status *st);
/* Frees the tracks and payloads; leaves *smf zeroed. NULL is a no-op. */
void disco_smf_release(disco_smf *smf);

/* --- score ------------------------------------------------------------------ */

typedef struct disco_note_ev {
    uint32_t start; /* ticks */
    uint32_t dur;   /* ticks, >= 1 */
    uint8_t pitch, velocity, channel, program;
    uint16_t track; /* index of the source track */
} disco_note_ev;

typedef struct disco_tempo_ev {
    uint32_t tick;
    uint32_t us_per_quarter; /* 500000 = 120 BPM */
} disco_tempo_ev;

typedef struct disco_timesig_ev {
    uint32_t tick;
    uint8_t num, den; /* den as the value (4 = quarter), not the power of two */
} disco_timesig_ev;

typedef struct disco_keysig_ev {
    uint32_t tick;
    int8_t sharps; /* -7..7 */
    uint8_t minor; /* 0 major, 1 minor */
} disco_keysig_ev;

typedef struct disco_score {
    int tpq;
    disco_note_ev *notes; /* sorted by start, then pitch */
    size_t nnotes;
    disco_tempo_ev *tempos; /* sorted; at least one (120 BPM at 0 when the file has none) */
    size_t ntempos;
    disco_timesig_ev *timesigs; /* sorted; 4/4 at 0 when the file has none */
    size_t ntimesigs;
    disco_keysig_ev *keysigs; /* sorted; may be empty */
    size_t nkeysigs;
    uint32_t end_tick; /* last note end or end-of-track, whichever is later */
} disco_score;

/*
 * From events to notes (see the pairing rule above; a note lasting no time
 * lasts one tick). A note's program is the last program change on its
 * channel earlier in its own track, else the last one on that channel in
 * another track at or before its onset, else 0. Tempos (clamped), time
 * signatures (numerator >= 1, denominator up to 2^7; others ignored) and key
 * signatures (-7..7 sharps; others ignored) come from every track; of
 * several at one tick the last read wins; tempos[0] and timesigs[0] are at
 * tick 0. The caller releases `out` (left empty on failure). Errors: INVAL
 * when disco_smf_check refuses `smf`, NOMEM.
 */
int disco_score_from_smf(const disco_smf *smf, disco_score *out, disco_status *st);
/*
 * To a format-1 file: a conductor track (tempo, time and key signatures,
 * end of track at end_tick) and one track per (channel, program) in use,
 * each opening with its program change. Two notes of one pitch where the
 * later one ends first cannot share a track under FIFO pairing: such notes
 * go to extra tracks of the same (channel, program), so reading the file
 * back gives the same notes, tempo map, signatures and end_tick (note.track
 * aside). Notes need not be sorted; velocity 0 is written as 1 and
 * duration 0 as 1 tick. The caller releases `out`. Errors: INVAL (tpq not in
 * 1..32767, a note field out of range or ending past DISCO_MIDI_MAX_TICK,
 * a tempo outside 1..0xFFFFFF us, a time signature whose denominator is not
 * a power of two up to 128, a key signature outside -7..7), LIMIT (more
 * than DISCO_MIDI_MAX_TRACKS tracks or DISCO_MIDI_MAX_EVENTS events), NOMEM.
 */
int disco_score_to_smf(const disco_score *sc, disco_smf *out, disco_status *st);
/* Reads a MIDI file straight to a score: errors of disco_smf_read, then of from_smf. */
int disco_score_read(const char *path, disco_score *out, disco_status *st);
int disco_score_read_mem(const void *buf, size_t len, disco_score *out, disco_status *st);
/* Writes `path` (temporary file, fsync, rename): errors of to_smf, then of disco_smf_write. */
int disco_score_write(const char *path, const disco_score *sc, disco_status *st);
/* Frees the arrays; leaves *sc zeroed. NULL is a no-op. */
void disco_score_release(disco_score *sc);

/* Seconds at `tick`, through the tempo map (120 BPM before the first tempo); 0 when tpq < 1. */
double disco_score_seconds(const disco_score *sc, uint32_t tick);
/* Tempo in BPM at `tick` (120 before the first tempo). */
double disco_score_bpm_at(const disco_score *sc, uint32_t tick);
/*
 * Appends a note and raises end_tick to its end; keeps nothing sorted: call
 * disco_score_sort after. sc->notes grows in powers of two: it must be NULL
 * or hold room for the next power of two >= nnotes (at least 16), as every
 * function here leaves it. Errors: INVAL (dur 0, a field out of range, an
 * end past DISCO_MIDI_MAX_TICK), NOMEM.
 */
int disco_score_add_note(disco_score *sc, const disco_note_ev *n, disco_status *st);
/* Sorts notes (start, pitch, channel, program, dur, velocity, track) and the rest by tick. */
void disco_score_sort(disco_score *sc);
/* An empty score at `tpq` (1..32767, else INVAL) with 120 BPM and 4/4 at tick 0. */
int disco_score_init(disco_score *sc, int tpq, disco_status *st);

#endif
