/*
 * music_midi.c - MIDI analysis as a flow: a file or a stored MIDI
 * resource, MusPy-style metrics, kept under the resource when asked.
 */
#include "disco/analysis.h"
#include "disco/json.h"
#include "disco/id.h"
#include "disco/midi.h"
#include "disco/midi_metrics.h"
#include "disco/music_flow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIDI_MAX_BYTES ((size_t)64 << 20)

json_t *disco_midi_metrics_json(const disco_midi_metrics *m)
{
    json_t *progs = json_array();
    for (int p = 0; p < 128; p++)
        if (m->program_used[p])
            json_array_append_new(progs, json_integer(p));
    return json_pack("{s:I, s:I, s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, "
                     "s:s, s:o}",
                     "notes", (json_int_t)m->nnotes, "pitched_notes", (json_int_t)m->npitched,
                     "pitch_range", m->pitch_range, "pitch_classes", m->pitch_classes, "polyphony",
                     disco_json_number(m->polyphony, 4), "scale_consistency",
                     disco_json_number(m->scale_consistency, 4), "pitch_entropy",
                     disco_json_number(m->pitch_entropy, 4), "pitch_class_entropy",
                     disco_json_number(m->pitch_class_entropy, 4), "empty_beat_rate",
                     disco_json_number(m->empty_beat_rate, 4), "groove_consistency",
                     disco_json_number(m->groove_consistency, 4), "bpm_initial",
                     disco_json_number(m->bpm_initial, 4), "bpm_mean",
                     disco_json_number(m->bpm_mean, 4), "seconds", disco_json_number(m->seconds, 4),
                     "programs", progs, "drums", m->has_drums, "key",
                     disco_midi_metrics_key_name(m->key), "key_correlation",
                     disco_json_number(m->key_corr, 4));
}

/* Reads the MIDI payload of resource `id` into a score. */
static int read_resource(disco_catalog *cat, disco_objects *objs, const char *id,
                         disco_resource *res, disco_score *sc, disco_status *st)
{
    int fd = -1, rc = disco_catalog_get(cat, id, 0, res, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return disco_status_set(st, rc, "input", "no file or resource '%s'", id);
    if (!rc && !res->object[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "input", "resource %s has no payload", id);
    if (!rc)
        rc = disco_objects_open_read(objs, res->object, &fd, st);
    if (rc)
        return rc;
    struct stat sb;
    uint8_t *buf = NULL;
    if (fstat(fd, &sb) == 0 && (size_t)sb.st_size <= MIDI_MAX_BYTES)
        buf = malloc((size_t)sb.st_size + 1);
    ssize_t got = buf ? read(fd, buf, (size_t)sb.st_size) : -1;
    close(fd);
    rc = got == (ssize_t)sb.st_size
             ? disco_score_read_mem(buf, (size_t)got, sc, st)
             : disco_status_set(st, DISCO_ERR_IO, "input", "cannot read the payload of %s", id);
    free(buf);
    return rc;
}

static int keep(disco_catalog *cat, disco_objects *objs, const char *id, const json_t *metrics,
                const char *owner, json_t *res, disco_status *st)
{
    char summary[128];
    disco_resource an;
    disco_resource_init(&an);
    snprintf(summary, sizeof summary, "%s, %lld notes, scale consistency %.2f",
             json_string_value(json_object_get(metrics, "key")),
             (long long)json_integer_value(json_object_get(metrics, "notes")),
             json_real_value(json_object_get(metrics, "scale_consistency")));
    json_t *parents = json_pack("[s]", id);
    int rc = disco_analysis_store_with(cat, objs, "midi", parents, summary, NULL, metrics, owner,
                                       &an, st);
    if (!rc)
        json_object_set_new(res, "analysis", json_string(an.id));
    json_decref(parents);
    disco_resource_release(&an);
    return rc;
}

int disco_midi_flow_analyze(disco_catalog *cat, disco_objects *objs, const char *input, int store,
                            const char *owner, json_t **result, disco_status *st)
{
    struct stat sb;
    disco_score sc;
    disco_resource res;
    disco_midi_metrics m;
    int is_res = stat(input, &sb) != 0 && disco_id_valid(input), rc;
    memset(&sc, 0, sizeof sc);
    disco_resource_init(&res);
    *result = NULL;
    if (is_res && (!cat || !objs))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "input", "'%s' needs the store", input);
    else
        rc = is_res ? read_resource(cat, objs, input, &res, &sc, st)
                    : disco_score_read(input, &sc, st);
    if (!rc)
        rc = disco_midi_metrics_compute(&sc, &m, st);
    if (!rc) {
        json_t *metrics = disco_midi_metrics_json(&m);
        json_t *out =
            json_pack("{s:s, s:o, s:O, s:n}", "input", input, "resource",
                      is_res ? json_string(input) : json_null(), "metrics", metrics, "analysis");
        if (store && is_res)
            rc = keep(cat, objs, input, metrics, owner, out, st);
        json_decref(metrics);
        if (rc)
            json_decref(out);
        else
            *result = out;
    }
    disco_score_release(&sc);
    disco_resource_release(&res);
    return rc;
}
