/*
 * audio_master.c - the mastering flow: input (and optional reference)
 * loaded, disco_master_apply(), before/after measured, result written and
 * stored under the input with the report in its metadata.
 */
#include "flows_int.h"

#include "disco/master.h"
#include "disco/json.h"

#include <math.h>
#include <string.h>

static json_t *report_json(const disco_master_report *r, const disco_master_config *cfg,
                           const char *preset)
{
    json_t *o = json_pack(
        "{s:s?, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:b}", "preset", preset, "target_lufs",
        disco_json_number(r->target_lufs, 2), "ceiling_dbtp",
        disco_json_number(cfg->ceiling_dbtp, 2), "in_lufs", disco_json_number(r->in_lufs, 2),
        "out_lufs", disco_json_number(r->out_lufs, 2), "out_true_peak_dbtp",
        disco_json_number(r->out_true_peak_db, 2), "gain_db", disco_json_number(r->gain_db, 2),
        "glue_reduction_db", disco_json_number(r->glue_reduction_db, 2), "limiter_reduction_db",
        disco_json_number(r->max_reduction_db, 2), "iterations", r->iterations, "converged",
        r->converged);
    if (r->has_reference) {
        json_t *bands = json_array();
        for (int b = 0; b < DISCO_MASTER_BANDS; b++)
            json_array_append_new(bands,
                                  json_pack("{s:o, s:o}", "hz", disco_json_number(r->band_hz[b], 2),
                                            "eq_db", disco_json_number(r->eq_db[b], 2)));
        json_object_set_new(o, "reference_lufs", disco_json_number(r->ref_lufs, 2));
        json_object_set_new(o, "reference_eq", bands);
    }
    return o;
}

static int load_reference(disco_catalog *cat, disco_objects *objs, const char *reference,
                          disco_audio *ref, disco_status *st)
{
    disco_audio_input in;
    int rc = disco_audio_input_open(cat, objs, reference, "reference", &in, st);
    if (!rc)
        rc = disco_audio_input_load(&in, ref, st);
    disco_audio_input_release(&in);
    return rc;
}

int disco_audio_flow_master(disco_catalog *cat, disco_objects *objs, const char *input,
                            const disco_master_config *cfg, const char *preset,
                            const char *reference, const disco_audio_output *out, json_t **result,
                            disco_status *st)
{
    disco_audio_input in;
    disco_audio sig = {0}, ref = {0}, mastered = {0};
    disco_master_report rep;
    json_t *res = NULL, *meta = NULL, *before = NULL;
    *result = NULL;
    int rc = disco_master_config_check(cfg, st);
    if (!rc)
        rc = disco__audio_open_input(cat, objs, input, out, &in, &sig, st);
    if (!rc && reference)
        rc = load_reference(cat, objs, reference, &ref, st);
    if (!rc && !(before = disco__audio_measure(&sig, st)))
        rc = st->code;
    if (!rc)
        rc = disco_master_apply(&sig, cfg, reference ? &ref : NULL, &mastered, &rep, st);
    if (!rc) {
        json_t *report = report_json(&rep, cfg, preset);
        res = disco__audio_result(input, &in, &mastered);
        json_object_set_new(res, "master", json_incref(report));
        meta = json_pack("{s:s, s:o}", "operation", "master", "master", report);
        if (reference)
            json_object_set_new(meta, "reference", json_string(reference));
        rc = disco__audio_finish(cat, objs, before, &mastered, out, &in, meta, res, result, st);
    }
    json_decref(res);
    json_decref(meta);
    json_decref(before);
    disco_audio_release(&sig);
    disco_audio_release(&ref);
    disco_audio_release(&mastered);
    disco_audio_input_release(&in);
    return rc;
}
