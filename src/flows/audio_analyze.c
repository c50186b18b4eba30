/*
 * audio_analyze.c - the analysis flow: read, analyse, store the analysis
 * under the audio resource, and optionally put the frame series in the
 * tsdb (see audio_flow.h).
 */
#include "disco/analysis.h"
#include "disco/audio_flow.h"
#include "disco/metrics.h"
#include "disco/tsbatch.h"

#include <math.h>
#include <string.h>

/* The frame series that go to the tsdb, by metric name. */
static const char *const series_names[] = {"audio.rms",       "audio.zcr",     "audio.centroid",
                                           "audio.bandwidth", "audio.rolloff", "audio.flatness",
                                           "audio.onset_env"};

static const float *series_data(const disco_analysis_frames *f, size_t i)
{
    const float *all[] = {f->rms,     f->zcr,      f->centroid, f->bandwidth,
                          f->rolloff, f->flatness, f->onset_env};
    return all[i];
}

static int write_frames(disco_catalog *cat, disco_tsdb *db, const disco_resource *audio,
                        const disco_analysis_frames *f, const char *owner, json_t **written,
                        disco_status *st)
{
    disco_ts_batch b;
    json_t *tags = json_pack("{s:s}", "resource", audio->id);
    int rc = disco_ts_batch_init(&b);
    for (size_t s = 0; !rc && s < sizeof(series_names) / sizeof(series_names[0]); s++) {
        uint32_t idx;
        const float *v = series_data(f, s);
        rc = disco_ts_batch_series(&b, series_names[s], tags, &idx, st);
        for (size_t i = 0; !rc && v && i < f->count; i++) {
            int64_t t = audio->created_ms + llround(1000.0 * (double)i / f->frame_rate);
            if (isfinite(v[i]))
                rc = disco_ts_batch_add(&b, idx, t, v[i]);
        }
    }
    if (!rc)
        rc = disco_metric_write(cat, db, &b, owner, written, st);
    disco_ts_batch_release(&b);
    json_decref(tags);
    return rc;
}

static json_t *analysis_meta(const disco_analysis_report *r)
{
    char key[16];
    json_t *m = json_pack("{s:s, s:f}", "key", disco_key_name(r->key.tonic, r->key.minor, key),
                          "duration_s", r->character.duration_s);
    if (r->tempo.bpm > 0)
        json_object_set_new(m, "bpm", json_real(round(r->tempo.bpm * 10) / 10));
    if (isfinite(r->loudness.integrated_lufs))
        json_object_set_new(m, "integrated_lufs", json_real(r->loudness.integrated_lufs));
    if (isfinite(r->loudness.true_peak_dbtp))
        json_object_set_new(m, "true_peak_dbtp", json_real(r->loudness.true_peak_dbtp));
    return m;
}

/* Stores the analysis under `audio` and the frames in the tsdb when asked. */
static int keep(disco_catalog *cat, disco_objects *objs, disco_tsdb *tsdb,
                const disco_resource *audio, const disco_audio_analyze_opts *o,
                const disco_analysis_report *rep, json_t *res, disco_status *st)
{
    char summary[128];
    disco_resource an;
    disco_resource_init(&an);
    disco_audio_report_summary(rep, summary, sizeof(summary));
    json_t *parents = json_pack("[s]", audio->id), *meta = analysis_meta(rep), *written = NULL;
    int rc = disco_analysis_store_with(cat, objs, "audio", parents, summary, meta, res, o->owner,
                                       &an, st);
    if (!rc)
        json_object_set_new(res, "analysis", json_string(an.id));
    if (!rc && o->frames && tsdb)
        rc = write_frames(cat, tsdb, audio, &rep->frames, o->owner, &written, st);
    if (!rc && written)
        json_object_set_new(res, "series", written);
    json_decref(parents);
    json_decref(meta);
    disco_resource_release(&an);
    return rc;
}

/* For a file input that is to be stored: import it and read it from the store. */
static int import_input(disco_catalog *cat, disco_objects *objs, const char *input,
                        const char *owner, disco_audio_input *in, disco_status *st)
{
    disco_resource r;
    disco_resource_init(&r);
    int rc = disco_audio_import(cat, objs, input, NULL, NULL, NULL, owner, &r, st);
    disco_audio_input_release(in);
    if (!rc)
        rc = disco_audio_input_open(cat, objs, r.id, "input", in, st);
    disco_resource_release(&r);
    return rc;
}

int disco_audio_flow_analyze(disco_catalog *cat, disco_objects *objs, disco_tsdb *tsdb,
                             const char *input, const disco_audio_analyze_opts *o, json_t **result,
                             disco_status *st)
{
    disco_audio_input in;
    disco_analysis_report rep;
    memset(&rep, 0, sizeof(rep));
    *result = NULL;
    int rc = disco_audio_input_open(cat, objs, input, "input", &in, st);
    if (!rc && o->store && !in.res.id[0])
        rc = import_input(cat, objs, input, o->owner, &in, st);
    if (!rc)
        rc = disco_audio_analyze(in.reader, &o->cfg, o->progress, &rep, st);
    if (!rc) {
        char summary[128];
        json_t *res = disco_audio_report_json(&rep, &o->cfg, o->frames);
        disco_audio_report_summary(&rep, summary, sizeof(summary));
        json_object_set_new(res, "input", json_string(input));
        json_object_set_new(res, "summary", json_string(summary));
        json_object_set_new(res, "audio", in.res.id[0] ? json_string(in.res.id) : json_null());
        json_object_set_new(res, "analysis", json_null());
        if (o->store)
            rc = keep(cat, objs, tsdb, &in.res, o, &rep, res, st);
        if (rc)
            json_decref(res);
        else
            *result = res;
    }
    disco_analysis_report_release(&rep);
    disco_audio_input_release(&in);
    return rc;
}
