/*
 * audio_process.c - effects and mastering as flows: load the input, run
 * dsp/, measure before and after, write the result to a file and/or the
 * store under its input (see audio_flow.h).
 */
#include "disco/effects.h"
#include "disco/json.h"
#include "disco/loudness.h"
#include "flows_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOAD_BLOCK 65536

int disco_audio_input_load(disco_audio_input *in, disco_audio *out, disco_status *st)
{
    const disco_audio_info *i = disco_audio_reader_info(in->reader);
    size_t ch = (size_t)i->channels, cap = i->frames > 0 ? (size_t)i->frames : LOAD_BLOCK, n = 1;
    memset(out, 0, sizeof(*out));
    int rc = disco_audio_alloc(out, cap, i->channels, i->rate, st);
    out->frames = 0;
    while (!rc && n > 0) {
        if (out->frames + LOAD_BLOCK > cap) {
            cap = cap * 2 > out->frames + LOAD_BLOCK ? cap * 2 : out->frames + LOAD_BLOCK;
            float *p = realloc(out->data, cap * ch * sizeof(float));
            if (!p) {
                rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the audio");
                break;
            }
            out->data = p;
        }
        rc = disco_audio_reader_read(in->reader, out->data + out->frames * ch, LOAD_BLOCK, &n, st);
        out->frames += n;
    }
    if (rc)
        disco_audio_release(out);
    return rc;
}

json_t *disco__audio_measure(const disco_audio *a, disco_status *st)
{
    disco_loudness l;
    if (disco_loudness_measure(a, DISCO_LOUDNESS_ALL, &l, st))
        return NULL;
    return json_pack("{s:o, s:o, s:o, s:o}", "integrated_lufs",
                     disco_json_number(l.integrated_lufs, 2), "range_lu",
                     disco_json_number(l.range_lu, 2), "true_peak_dbtp",
                     disco_json_number(l.true_peak_dbtp, 2), "sample_peak_dbfs",
                     disco_json_number(l.sample_peak_dbfs, 2));
}

/* Writes `a` where `out` says; stores it with `meta` under the input's resource. */
static int write_result(disco_catalog *cat, disco_objects *objs, const disco_audio *a,
                        const disco_audio_output *out, const char *parent, const json_t *meta,
                        json_t *res, disco_status *st)
{
    disco_audio_encoding enc = out->encoding;
    char tmp[] = "/tmp/disco-audio-XXXXXX.flac";
    const char *path = out->path;
    int rc = DISCO_OK;
    if (!path) {
        int fd = mkstemps(tmp, 5);
        if (fd < 0)
            return disco_status_errno(st, errno, "output", "cannot make a temporary file");
        close(fd);
        path = tmp;
        if (!out->encoding_set)
            enc = DISCO_AUDIO_FLAC24;
    } else if (!out->encoding_set) {
        rc = disco_audio_encoding_for_path(path, &enc, st);
    }
    if (!rc)
        rc = disco_audio_save(path, a, enc, st);
    if (!rc && out->store) {
        disco_resource r;
        disco_resource_init(&r);
        json_t *parents = json_pack("[s]", parent);
        rc = disco_audio_import(cat, objs, path, NULL, meta, parents, out->owner, &r, st);
        if (!rc)
            json_object_set_new(res, "resource", json_string(r.id));
        json_decref(parents);
        disco_resource_release(&r);
    }
    if (path == tmp)
        unlink(tmp);
    json_object_set_new(res, "output", out->path ? json_string(out->path) : json_null());
    return rc;
}

/* Opens the input; a file that is to be stored is imported first, for lineage. */
int disco__audio_open_input(disco_catalog *cat, disco_objects *objs, const char *input,
                            const disco_audio_output *out, disco_audio_input *in, disco_audio *sig,
                            disco_status *st)
{
    memset(in, 0, sizeof(*in));
    in->fd = -1;
    if (!out->path && !out->store)
        return disco_status_set(st, DISCO_ERR_INVAL, "output",
                                "nowhere to put the result: give an output file or store it");
    int rc = disco_audio_input_open(cat, objs, input, "input", in, st);
    if (!rc && out->store && !in->res.id[0]) {
        disco_resource r;
        disco_resource_init(&r);
        rc = disco_audio_import(cat, objs, input, NULL, NULL, NULL, out->owner, &r, st);
        disco_audio_input_release(in);
        if (!rc)
            rc = disco_audio_input_open(cat, objs, r.id, "input", in, st);
        disco_resource_release(&r);
    }
    if (!rc)
        rc = disco_audio_input_load(in, sig, st);
    return rc;
}

json_t *disco__audio_result(const char *input, const disco_audio_input *in, const disco_audio *a)
{
    return json_pack("{s:s, s:o, s:f}", "input", input, "audio",
                     in->res.id[0] ? json_string(in->res.id) : json_null(), "duration_s",
                     (double)a->frames / a->rate);
}

/* Measures the result, writes the output and hands over the result. */
int disco__audio_finish(disco_catalog *cat, disco_objects *objs, json_t *before,
                        const disco_audio *after, const disco_audio_output *out,
                        const disco_audio_input *in, json_t *meta, json_t *res, json_t **result,
                        disco_status *st)
{
    json_t *a = disco__audio_measure(after, st);
    int rc = a ? DISCO_OK : st->code;
    if (!rc) {
        json_object_set(res, "before", before);
        json_object_set_new(res, "after", a);
        json_object_set(meta, "loudness", a);
        rc = write_result(cat, objs, after, out, in->res.id, meta, res, st);
    }
    if (!rc)
        *result = json_incref(res);
    return rc;
}

int disco_audio_flow_process(disco_catalog *cat, disco_objects *objs, const char *input,
                             const json_t *chain, const disco_audio_output *out, json_t **result,
                             disco_status *st)
{
    disco_audio_input in;
    disco_audio sig = {0};
    disco_chain *c = NULL;
    json_t *res = NULL, *meta = NULL, *before = NULL;
    *result = NULL;
    int rc = disco__audio_open_input(cat, objs, input, out, &in, &sig, st);
    if (!rc)
        rc = disco_chain_new(chain, sig.channels, sig.rate, &c, st);
    if (!rc && !(before = disco__audio_measure(&sig, st)))
        rc = st->code;
    if (!rc)
        rc = disco_chain_apply(c, &sig, st);
    if (!rc) {
        res = disco__audio_result(input, &in, &sig);
        json_object_set_new(res, "effects", json_integer((json_int_t)disco_chain_length(c)));
        meta = json_pack("{s:s, s:O}", "operation", "process", "chain", chain);
        rc = disco__audio_finish(cat, objs, before, &sig, out, &in, meta, res, result, st);
    }
    json_decref(res);
    json_decref(meta);
    json_decref(before);
    disco_chain_free(c);
    disco_audio_release(&sig);
    disco_audio_input_release(&in);
    return rc;
}
