/*
 * render.h - notes to audio through a General MIDI SoundFont (FluidSynth).
 *
 * A note list (start, duration, channel, pitch, velocity) is rendered
 * offline to interleaved stereo float at the configured rate; no audio or
 * MIDI driver is ever started. Channel 9 is the General MIDI drum channel
 * (FluidSynth selects bank 128 for it; `programs[9]` picks the drum kit).
 *
 *   notes --validate--> note-on/off events sorted by frame
 *         --> fluid_synth_write_float in runs between event frames
 *         --> [0, last note end + tail_s) or exactly length_s
 *
 * Timing: events land on FluidSynth's 64-frame control block (1.5 ms at
 * 44.1 kHz), so a note starts within one block of its requested frame.
 * MIDI semantics apply: a note-off ends every sounding voice of that pitch
 * on that channel, so overlapping notes of the same pitch and channel are
 * cut at the first one's end. At equal times note-offs go first, so a note
 * that starts where the previous one of the same pitch ends retriggers.
 *
 * The SoundFont is loaded once per call with dynamic sample loading: only
 * the presets the channels use are read (FluidR3_GM.sf2, 140 MB: about
 * 30 ms instead of 150-400 ms for the whole file). Output is deterministic
 * for the same notes and config.
 *
 * Threads: calls are independent and may run concurrently. FluidSynth's own
 * log messages are routed to disco_log (errors as WARN, the rest as DEBUG).
 */
#ifndef DISCO_RENDER_H
#define DISCO_RENDER_H

#include "disco/err.h"

#include <stddef.h>

#define DISCO_RENDER_CHANNELS 16
#define DISCO_RENDER_DRUM_CHANNEL 9
#define DISCO_RENDER_MIN_RATE 8000
#define DISCO_RENDER_MAX_RATE 96000
#define DISCO_RENDER_MAX_SECONDS 3600.0
#define DISCO_RENDER_DEFAULT_SOUNDFONT "/usr/share/sounds/sf2/FluidR3_GM.sf2"

/* One note. Times in seconds from the start of the output. */
typedef struct disco_note {
    double start_s; /* >= 0, finite */
    double dur_s;   /* > 0, finite */
    int channel;    /* 0..15; 9 = GM drums (pitch picks the drum sound) */
    int pitch;      /* MIDI key 0..127 (69 = A4 = 440 Hz) */
    int velocity;   /* 1..127 */
} disco_note;

typedef struct disco_render_config {
    const char *soundfont; /* DISCO_RENDER_DEFAULT_SOUNDFONT; NULL means the default */
    int rate;              /* 44100; DISCO_RENDER_MIN_RATE..DISCO_RENDER_MAX_RATE */
    double gain;           /* FluidSynth master gain, 0.4; 0..10 */
    int programs[DISCO_RENDER_CHANNELS]; /* GM program 0..127 per channel; all 0 (a program
                                             the SoundFont lacks falls back to FluidSynth's
                                             substitute, with a WARN log line) */
    int reverb;                          /* 1: FluidSynth's reverb on (default) */
    int chorus;                          /* 0: chorus off (default) */
    double tail_s;   /* 1.0: kept after the last note ends, for release and reverb */
    double length_s; /* 0: last note end + tail_s; > 0: exactly this long (notes cut) */
} disco_render_config;

disco_render_config disco_render_config_default(void);

/*
 * Renders `notes[n]` to a malloc'd interleaved stereo buffer in *out (caller
 * frees) of *frames frames at cfg->rate; `cfg` NULL means the defaults.
 * An empty list is INVAL ("notes: nothing to render") unless cfg->length_s
 * > 0, which gives that much silence.
 *
 * Errors (nothing is allocated on failure, *out is NULL and *frames 0):
 *   INVAL    a bad note, naming its index and field
 *            ("notes[12].pitch: 130 is outside 0..127"), or a bad config
 *            field (rate, gain, programs[i], tail_s, length_s);
 *   LIMIT    output longer than DISCO_RENDER_MAX_SECONDS;
 *   NOTFOUND the SoundFont path does not exist (the message names it);
 *   PERM, IO, INVAL (a directory): other failures to read it, from errno;
 *   CORRUPT  the file is not a SoundFont 2 file or FluidSynth failed to load it;
 *   NOMEM, INTERNAL (FluidSynth failed to start or to render).
 */
int disco_render_notes(const disco_note *notes, size_t n, const disco_render_config *cfg,
                       float **out, size_t *frames, disco_status *st);

#endif
