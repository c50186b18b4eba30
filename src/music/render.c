/*
 * render.c - offline note rendering through libfluidsynth.
 *
 * DESIGN: every call builds its own synth (settings, synth, SoundFont) and
 * frees it before returning, so calls share nothing and need no lock. The
 * SoundFont is loaded with synth.dynamic-sample-loading, which reads only
 * the samples of the presets the channels select: on FluidR3_GM.sf2 that
 * is ~30 ms per call against 150-400 ms for a full load, small next to the
 * rendering itself, so no cache of loaded synths is kept.
 *
 * Notes become note-on/off events with frame positions; the synth renders
 * the run of frames up to each event, then the event is applied:
 *
 *   frame 0        e0    e1 e2           e3                     total
 *   |--write------>|on   |  |--write---->|off ...--write------->|
 *
 * FluidSynth's global log functions are set once (pthread_once) to route
 * its messages to disco_log; its last error message is kept per thread so
 * a failed SoundFont load can say why.
 */
#include "disco/render.h"

#include "disco/log.h"

#include <errno.h>
#include <fluidsynth.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITE_CHUNK 16384 /* frames per fluid_synth_write_float call at most */
#define MAX_TAIL_S 60.0

typedef struct event {
    size_t frame;
    size_t note; /* index into the caller's notes, for messages and a stable order */
    int on;      /* 1 note-on, 0 note-off */
} event;

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static _Thread_local char fluid_last_error[256];

disco_render_config disco_render_config_default(void)
{
    disco_render_config c;

    memset(&c, 0, sizeof c);
    c.soundfont = DISCO_RENDER_DEFAULT_SOUNDFONT;
    c.rate = 44100;
    c.gain = 0.4;
    c.reverb = 1;
    c.chorus = 0;
    c.tail_s = 1.0;
    c.length_s = 0.0;
    return c;
}

static void fluid_log_route(int level, const char *msg, void *data)
{
    (void)data;
    if (level <= FLUID_ERR)
        snprintf(fluid_last_error, sizeof fluid_last_error, "%s", msg);
    disco_log(level <= FLUID_WARN ? DISCO_LOG_WARN : DISCO_LOG_DEBUG, "fluidsynth: %s", msg);
}

static void log_init(void)
{
    for (int level = 0; level < LAST_LOG_LEVEL; level++)
        fluid_set_log_function(level, fluid_log_route, NULL);
}

static int check_config(const disco_render_config *cfg, disco_status *st)
{
    if (cfg->rate < DISCO_RENDER_MIN_RATE || cfg->rate > DISCO_RENDER_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "rate", "rate %d Hz is outside %d..%d",
                                cfg->rate, DISCO_RENDER_MIN_RATE, DISCO_RENDER_MAX_RATE);
    if (!isfinite(cfg->gain) || cfg->gain < 0.0 || cfg->gain > 10.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "gain", "gain %g is outside 0..10", cfg->gain);
    if (!isfinite(cfg->tail_s) || cfg->tail_s < 0.0 || cfg->tail_s > MAX_TAIL_S)
        return disco_status_set(st, DISCO_ERR_INVAL, "tail_s", "tail_s %g is outside 0..%g",
                                cfg->tail_s, MAX_TAIL_S);
    if (!isfinite(cfg->length_s) || cfg->length_s < 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "length_s",
                                "length_s %g is not a finite length >= 0", cfg->length_s);
    if (cfg->length_s > DISCO_RENDER_MAX_SECONDS)
        return disco_status_set(st, DISCO_ERR_LIMIT, "length_s",
                                "length_s %g is beyond the %g s limit", cfg->length_s,
                                DISCO_RENDER_MAX_SECONDS);
    for (int ch = 0; ch < DISCO_RENDER_CHANNELS; ch++) {
        if (cfg->programs[ch] < 0 || cfg->programs[ch] > 127) {
            char field[32];

            snprintf(field, sizeof field, "programs[%d]", ch);
            return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: %d is outside 0..127", field,
                                    cfg->programs[ch]);
        }
    }
    return DISCO_OK;
}

/* "notes[12].pitch" into f. */
static const char *note_field(char f[48], size_t i, const char *name)
{
    snprintf(f, 48, "notes[%zu].%s", i, name);
    return f;
}

static int check_note(const disco_note *nt, size_t i, disco_status *st)
{
    char f[48];

    if (nt->channel < 0 || nt->channel >= DISCO_RENDER_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, i, "channel"),
                                "%s: %d is outside 0..15", f, nt->channel);
    if (nt->pitch < 0 || nt->pitch > 127)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, i, "pitch"),
                                "%s: %d is outside 0..127", f, nt->pitch);
    if (nt->velocity < 1 || nt->velocity > 127)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, i, "velocity"),
                                "%s: %d is outside 1..127", f, nt->velocity);
    if (!isfinite(nt->start_s) || nt->start_s < 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, i, "start_s"),
                                "%s: %g is not a finite time >= 0", f, nt->start_s);
    if (!isfinite(nt->dur_s) || nt->dur_s <= 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, i, "dur_s"),
                                "%s: %g is not a finite duration > 0", f, nt->dur_s);
    if (nt->start_s + nt->dur_s > DISCO_RENDER_MAX_SECONDS)
        return disco_status_set(st, DISCO_ERR_LIMIT, note_field(f, i, "dur_s"),
                                "%s: the note ends at %g s, beyond the %g s render limit", f,
                                nt->start_s + nt->dur_s, DISCO_RENDER_MAX_SECONDS);
    return DISCO_OK;
}

static int event_cmp(const void *pa, const void *pb)
{
    const event *a = pa, *b = pb;

    if (a->frame != b->frame)
        return a->frame < b->frame ? -1 : 1;
    if (a->on != b->on)
        return a->on - b->on; /* offs first: a note ending where the next begins retriggers */
    return a->note < b->note ? -1 : (a->note > b->note);
}

/*
 * Validates the notes and makes the sorted events (2 per note) and the
 * output length in frames.
 */
static int plan_events(const disco_note *notes, size_t n, const disco_render_config *cfg,
                       event **out, size_t *total, disco_status *st)
{
    size_t last = 0;
    event *ev;
    int rc;

    *out = NULL;
    for (size_t i = 0; i < n; i++)
        if ((rc = check_note(&notes[i], i, st)) != DISCO_OK)
            return rc;
    if (n == 0 && cfg->length_s <= 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes",
                                "notes: nothing to render (empty list and no length_s)");
    ev = n ? malloc(2 * n * sizeof *ev) : NULL;
    if (n && !ev)
        return disco_status_set(st, DISCO_ERR_NOMEM, "notes", "no memory for %zu note events",
                                2 * n);
    for (size_t i = 0; i < n; i++) {
        size_t on = (size_t)llround(notes[i].start_s * cfg->rate);
        size_t off = (size_t)llround((notes[i].start_s + notes[i].dur_s) * cfg->rate);

        if (off <= on)
            off = on + 1;
        ev[2 * i] = (event){.frame = on, .note = i, .on = 1};
        ev[2 * i + 1] = (event){.frame = off, .note = i, .on = 0};
        if (off > last)
            last = off;
    }
    if (n)
        qsort(ev, 2 * n, sizeof *ev, event_cmp);
    if (cfg->length_s > 0.0)
        *total = (size_t)llround(cfg->length_s * cfg->rate);
    else
        *total = last + (size_t)llround(cfg->tail_s * cfg->rate);
    if (*total == 0)
        *total = 1;
    *out = ev;
    return DISCO_OK;
}

/* The file exists and starts like a SoundFont 2 ("RIFF" size "sfbk"). */
static int check_soundfont(const char *path, disco_status *st)
{
    unsigned char head[12];
    FILE *f = fopen(path, "rb");
    size_t got;

    if (!f)
        return disco_status_errno(st, errno, "soundfont", "soundfont %s", path);
    got = fread(head, 1, sizeof head, f);
    if (got < sizeof head && ferror(f)) {
        int err = errno;

        fclose(f);
        return disco_status_errno(st, err, "soundfont", "soundfont %s", path);
    }
    fclose(f);
    if (got < sizeof head || memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "sfbk", 4) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "soundfont",
                                "soundfont %s: not a SoundFont 2 file (no RIFF/sfbk header)", path);
    return DISCO_OK;
}

static fluid_settings_t *make_settings(const disco_render_config *cfg)
{
    fluid_settings_t *s = new_fluid_settings();

    if (!s)
        return NULL;
    if (fluid_settings_setnum(s, "synth.sample-rate", (double)cfg->rate) != FLUID_OK ||
        fluid_settings_setnum(s, "synth.gain", cfg->gain) != FLUID_OK ||
        fluid_settings_setint(s, "synth.reverb.active", cfg->reverb != 0) != FLUID_OK ||
        fluid_settings_setint(s, "synth.chorus.active", cfg->chorus != 0) != FLUID_OK ||
        fluid_settings_setint(s, "synth.dynamic-sample-loading", 1) != FLUID_OK ||
        fluid_settings_setint(s, "synth.lock-memory", 0) != FLUID_OK ||
        fluid_settings_setint(s, "synth.threadsafe-api", 0) != FLUID_OK) {
        delete_fluid_settings(s);
        return NULL;
    }
    return s;
}

/* A synth with the SoundFont loaded and the programs selected. */
static int open_synth(const disco_render_config *cfg, const char *path, fluid_settings_t **ps,
                      fluid_synth_t **psynth, disco_status *st)
{
    fluid_settings_t *s = make_settings(cfg);
    fluid_synth_t *synth;

    *ps = s;
    *psynth = NULL;
    if (!s)
        return disco_status_set(st, DISCO_ERR_INTERNAL, "rate",
                                "fluidsynth refused the settings (rate %d Hz, gain %g)", cfg->rate,
                                cfg->gain);
    synth = new_fluid_synth(s);
    if (!synth)
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "fluidsynth could not start: %s",
                                fluid_last_error[0] ? fluid_last_error : "unknown reason");
    *psynth = synth;
    fluid_last_error[0] = '\0';
    if (fluid_synth_sfload(synth, path, 1) == FLUID_FAILED)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "soundfont", "soundfont %s: %s", path,
                                fluid_last_error[0] ? fluid_last_error : "failed to load");
    for (int ch = 0; ch < DISCO_RENDER_CHANNELS; ch++) {
        if (fluid_synth_program_change(synth, ch, cfg->programs[ch]) != FLUID_OK)
            return disco_status_set(st, DISCO_ERR_INVAL, "programs",
                                    "programs[%d]: %d could not be selected from %s", ch,
                                    cfg->programs[ch], path);
    }
    return DISCO_OK;
}

/* Renders frames [from, to) of the interleaved stereo `buf`. */
static int write_run(fluid_synth_t *synth, float *buf, size_t from, size_t to, disco_status *st)
{
    while (from < to) {
        size_t len = to - from < WRITE_CHUNK ? to - from : WRITE_CHUNK;
        float *at = buf + 2 * from;

        if (fluid_synth_write_float(synth, (int)len, at, 0, 2, at, 1, 2) != FLUID_OK)
            return disco_status_set(st, DISCO_ERR_INTERNAL, NULL,
                                    "fluidsynth failed to render frames %zu..%zu", from,
                                    from + len);
        from += len;
    }
    return DISCO_OK;
}

static int apply_event(fluid_synth_t *synth, const event *e, const disco_note *nt, disco_status *st)
{
    char f[48];

    if (!e->on) {
        /* Fails harmlessly when a same-pitch note-off already ended the voice. */
        fluid_synth_noteoff(synth, nt->channel, nt->pitch);
        return DISCO_OK;
    }
    if (fluid_synth_noteon(synth, nt->channel, nt->pitch, nt->velocity) != FLUID_OK)
        return disco_status_set(st, DISCO_ERR_INVAL, note_field(f, e->note, "channel"),
                                "%s: the SoundFont has no preset to play on channel %d", f,
                                nt->channel);
    return DISCO_OK;
}

static int render_events(fluid_synth_t *synth, const disco_note *notes, const event *ev,
                         size_t n_ev, float *buf, size_t total, disco_status *st)
{
    size_t pos = 0;
    int rc;

    for (size_t k = 0; k < n_ev && ev[k].frame < total; k++) {
        if ((rc = write_run(synth, buf, pos, ev[k].frame, st)) != DISCO_OK)
            return rc;
        pos = ev[k].frame;
        if ((rc = apply_event(synth, &ev[k], &notes[ev[k].note], st)) != DISCO_OK)
            return rc;
    }
    return write_run(synth, buf, pos, total, st);
}

int disco_render_notes(const disco_note *notes, size_t n, const disco_render_config *cfg,
                       float **out, size_t *frames, disco_status *st)
{
    disco_render_config def = disco_render_config_default();
    const char *path;
    fluid_settings_t *settings = NULL;
    fluid_synth_t *synth = NULL;
    event *ev = NULL;
    float *buf = NULL;
    size_t total = 0;
    int rc;

    *out = NULL;
    *frames = 0;
    if (!cfg)
        cfg = &def;
    path = cfg->soundfont ? cfg->soundfont : DISCO_RENDER_DEFAULT_SOUNDFONT;
    if (n && !notes)
        return disco_status_set(st, DISCO_ERR_INVAL, "notes", "notes: NULL with n = %zu", n);
    pthread_once(&log_once, log_init);
    if ((rc = check_config(cfg, st)) != DISCO_OK ||
        (rc = plan_events(notes, n, cfg, &ev, &total, st)) != DISCO_OK)
        return rc;
    if ((rc = check_soundfont(path, st)) != DISCO_OK)
        goto free_events;
    buf = calloc(total, 2 * sizeof *buf);
    if (!buf) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for %zu stereo frames", total);
        goto free_events;
    }
    if ((rc = open_synth(cfg, path, &settings, &synth, st)) == DISCO_OK)
        rc = render_events(synth, notes, ev, 2 * n, buf, total, st);
    if (synth)
        delete_fluid_synth(synth);
    if (settings)
        delete_fluid_settings(settings);
    if (rc == DISCO_OK) {
        *out = buf;
        *frames = total;
        buf = NULL;
    }
    free(buf);
free_events:
    free(ev);
    return rc;
}
