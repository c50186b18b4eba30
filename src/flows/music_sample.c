/*
 * music_sample.c - one piece from the model: sample tokens under the
 * requested conditioning and constraints, decode them to a score, write
 * MIDI (and a FluidSynth render when asked), keep it as a resource.
 */
#include "disco/artefact.h"
#include "disco/audio.h"
#include "disco/midi.h"
#include "disco/midi_metrics.h"
#include "disco/music_flow.h"
#include "disco/render.h"
#include "disco/tokens.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_TPQ 480

/* A channel per program in order of appearance (drums stay on 9). */
static void channel_map(const disco_score *sc, int chan_of[129], int programs[16])
{
    int next = 0;
    for (int p = 0; p < 129; p++)
        chan_of[p] = -1;
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        int p = n->channel == DISCO_MIDI_DRUMS ? 128 : n->program;
        if (chan_of[p] >= 0)
            continue;
        if (p == 128) {
            chan_of[p] = DISCO_MIDI_DRUMS;
            continue;
        }
        next += next == DISCO_MIDI_DRUMS;
        chan_of[p] = next < 16 ? next : 0; /* past 15 programs they share channel 0 */
        if (next < 16)
            programs[next] = p;
        next++;
    }
}

/* Renders the score with FluidSynth and writes a 24-bit WAV. */
static int render_wav(const disco_score *sc, const char *path, disco_status *st)
{
    int chan_of[129];
    disco_render_config cfg = disco_render_config_default();
    channel_map(sc, chan_of, cfg.programs);
    disco_note *notes = malloc((sc->nnotes + 1) * sizeof *notes);
    if (!notes)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        double t0 = disco_score_seconds(sc, n->start);
        double t1 = disco_score_seconds(sc, n->start + n->dur);
        int p = n->channel == DISCO_MIDI_DRUMS ? 128 : n->program;
        notes[i] = (disco_note){.start_s = t0,
                                .dur_s = t1 > t0 ? t1 - t0 : 0.01,
                                .channel = chan_of[p],
                                .pitch = n->pitch,
                                .velocity = n->velocity ? n->velocity : 1};
    }
    disco_audio a = {.channels = 2, .rate = cfg.rate};
    int rc = disco_render_notes(notes, sc->nnotes, &cfg, &a.data, &a.frames, st);
    if (!rc)
        rc = disco_audio_save(path, &a, DISCO_AUDIO_WAV24, st);
    free(a.data);
    free(notes);
    return rc;
}

/* Stores the MIDI file as a resource of type "midi" under the model. */
static int keep(disco_catalog *cat, disco_objects *objs, const disco_sample_opts *o,
                const char *path, const json_t *meta, json_t *res, disco_status *st)
{
    json_t *parents = o->model_id ? json_pack("[s]", o->model_id) : NULL;
    disco_resource_spec spec = {
        .type = "midi", .parents = parents, .metadata = meta, .owner = o->owner};
    disco_payload p = {.path = path, .fd = -1};
    disco_resource r;
    disco_resource_init(&r);
    int rc = disco_artefact_create(cat, objs, &spec, &p, NULL, &r, st);
    if (!rc)
        json_object_set_new(res, "resource", json_string(r.id));
    disco_resource_release(&r);
    json_decref(parents);
    return rc;
}

static int sample_tokens(const disco_sample_opts *o, int32_t **toks, size_t *n,
                         disco_sampler_stats *stats, double *secs, disco_status *st)
{
    disco_tf *tf = NULL;
    disco_lm *lm = NULL;
    struct timespec t0, t1;
    int rc = disco_tf_load(o->model, &tf, st);
    if (!rc)
        rc = disco_tf_lm_new(tf, &lm, st);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!rc)
        rc = disco_sampler_generate(lm, &o->sampler, toks, n, stats, st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (lm)
        lm->vt->free(lm);
    disco_tf_free(tf);
    return rc;
}

static json_t *stats_json(const disco_sampler_stats *s)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:f}", "steps", (json_int_t)s->steps, "forced",
                     (json_int_t)s->forced, "grammar_masked", (json_int_t)s->grammar_masked,
                     "constraint_masked", (json_int_t)s->masked, "constraint_masked_mass",
                     s->masked_mass);
}

/* Writes the MIDI (a temporary file when only storing), the WAV, and the resource. */
static int outputs(disco_catalog *cat, disco_objects *objs, const disco_sample_opts *o,
                   const disco_score *sc, json_t *res, disco_status *st)
{
    char tmp[] = "/tmp/disco-sample-XXXXXX.mid";
    const char *mid = o->midi;
    int rc = DISCO_OK;
    if (!mid) {
        int fd = mkstemps(tmp, 4);
        if (fd < 0)
            return disco_status_errno(st, errno, "midi", "cannot make a temporary file");
        close(fd);
        mid = tmp;
    }
    rc = disco_score_write(mid, sc, st);
    if (!rc && o->wav)
        rc = render_wav(sc, o->wav, st);
    if (!rc && o->store)
        rc = keep(cat, objs, o, mid, json_object_get(res, "analysis"), res, st);
    if (mid == tmp)
        unlink(tmp);
    return rc;
}

int disco_music_sample(disco_catalog *cat, disco_objects *objs, const disco_sample_opts *o,
                       json_t **result, disco_status *st)
{
    int32_t *toks = NULL;
    size_t n = 0, skipped = 0;
    disco_sampler_stats stats;
    disco_score sc;
    disco_midi_metrics m;
    double secs = 0;
    memset(&sc, 0, sizeof sc);
    *result = NULL;
    if (!o->midi && !o->store)
        return disco_status_set(st, DISCO_ERR_INVAL, "output",
                                "nowhere to put the piece: give an output file or store it");
    int rc = sample_tokens(o, &toks, &n, &stats, &secs, st);
    if (!rc)
        rc = disco_tokens_decode(toks, n, SAMPLE_TPQ, &sc, &skipped, st);
    if (!rc)
        rc = disco_midi_metrics_compute(&sc, &m, st);
    if (!rc) {
        json_t *res = json_pack(
            "{s:I, s:I, s:I, s:f, s:f, s:s?, s:s?, s:n, s:o, s:o}", "tokens", (json_int_t)n,
            "notes", (json_int_t)sc.nnotes, "skipped", (json_int_t)skipped, "seconds",
            disco_score_seconds(&sc, sc.end_tick), "tokens_per_s",
            secs > 0 ? (double)stats.steps / secs : 0.0, "midi", o->midi, "wav", o->wav, "resource",
            "stats", stats_json(&stats), "analysis", disco_midi_metrics_json(&m));
        rc = outputs(cat, objs, o, &sc, res, st);
        if (rc)
            json_decref(res);
        else
            *result = res;
    }
    free(toks);
    disco_score_release(&sc);
    return rc;
}
