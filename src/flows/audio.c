/*
 * audio.c - audio inputs (file or resource), import, and the analysis flow.
 */
#include "disco/analysis.h"
#include "disco/artefact.h"
#include "disco/audio_flow.h"
#include "disco/id.h"
#include "disco/tsbatch.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int disco_audio_input_is_resource(const char *input)
{
    struct stat sb;
    return stat(input, &sb) != 0 && disco_id_valid(input);
}

static int open_resource(disco_catalog *cat, disco_objects *objs, const char *id, const char *field,
                         disco_audio_input *in, disco_status *st)
{
    if (!cat || !objs)
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s '%s' looks like a resource id but no store is open", field, id);
    int rc = disco_catalog_get(cat, id, 0, &in->res, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return disco_status_set(st, rc, field, "no file or resource '%s'", id);
    if (rc)
        return rc;
    if (!in->res.object[0])
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "resource %s (%s) has no payload to read audio from", id,
                                in->res.type);
    rc = disco_objects_open_read(objs, in->res.object, &in->fd, st);
    if (!rc)
        rc = disco_audio_reader_open_fd(in->fd, &in->reader, st);
    if (rc && st && !st->field[0])
        snprintf(st->field, sizeof(st->field), "%s", field);
    return rc;
}

int disco_audio_input_open(disco_catalog *cat, disco_objects *objs, const char *input,
                           const char *field, disco_audio_input *in, disco_status *st)
{
    memset(in, 0, sizeof(*in));
    in->fd = -1;
    disco_resource_init(&in->res);
    int rc;
    if (disco_audio_input_is_resource(input)) {
        rc = open_resource(cat, objs, input, field, in, st);
    } else {
        in->path = strdup(input);
        rc = in->path ? disco_audio_reader_open(input, &in->reader, st)
                      : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        if (rc && st && !st->field[0])
            snprintf(st->field, sizeof(st->field), "%s", field);
    }
    if (rc)
        disco_audio_input_release(in);
    return rc;
}

void disco_audio_input_release(disco_audio_input *in)
{
    disco_audio_reader_close(in->reader);
    if (in->fd >= 0)
        close(in->fd);
    free(in->path);
    disco_resource_release(&in->res);
    memset(in, 0, sizeof(*in));
    in->fd = -1;
}

/* Decodes the whole file once: it must be readable audio, and we learn its length. */
static int probe(const char *path, json_t *md, disco_status *st)
{
    disco_audio_reader *r = NULL;
    int rc = disco_audio_reader_open(path, &r, st);
    if (rc)
        return rc;
    const disco_audio_info *i = disco_audio_reader_info(r);
    float *buf = malloc(sizeof(float) * 8192 * (size_t)i->channels);
    size_t n = 1;
    while (!rc && n > 0)
        rc = buf ? disco_audio_reader_read(r, buf, 8192, &n, st)
                 : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!rc) {
        uint64_t frames = disco_audio_reader_position(r);
        char *copy = strdup(path);
        json_t *probed = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:f}", "filename",
                                   copy ? basename(copy) : path, "format", i->format, "subtype",
                                   i->subtype, "channels", i->channels, "rate", i->rate, "frames",
                                   (json_int_t)frames, "duration_s", (double)frames / i->rate);
        json_object_update(md, probed);
        json_decref(probed);
        free(copy);
    }
    free(buf);
    disco_audio_reader_close(r);
    return rc;
}

int disco_audio_import(disco_catalog *cat, disco_objects *objs, const char *path,
                       const json_t *tags, const json_t *metadata, const json_t *parents,
                       const char *owner, disco_resource *out, disco_status *st)
{
    json_t *md = metadata ? json_deep_copy(metadata) : json_object();
    int rc = probe(path, md, st);
    if (!rc) {
        disco_resource_spec spec = {
            .type = "audio", .parents = parents, .tags = tags, .metadata = md, .owner = owner};
        disco_payload payload = {.path = path, .fd = -1};
        rc = disco_artefact_create(cat, objs, &spec, &payload, NULL, out, st);
    }
    json_decref(md);
    return rc;
}
