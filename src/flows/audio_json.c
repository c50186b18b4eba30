/*
 * audio_json.c - an audio analysis report as JSON and as one line.
 *
 * Non-finite numbers (the loudness of silence, the correlation of a mono
 * file) become null: JSON has no infinities, and null says "does not
 * exist" better than a sentinel.
 */
#include "disco/audio_flow.h"
#include "disco/json.h"

#include <math.h>
#include <stdio.h>

static json_t *stat_json(disco_stat s)
{
    return json_pack("{s:o, s:o}", "mean", disco_json_number(s.mean, -1), "std",
                     disco_json_number(s.std, -1));
}

static json_t *doubles(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, disco_json_number(v[i], -1));
    return a;
}

static json_t *floats(const float *v, size_t n, size_t stride, size_t k)
{
    json_t *a = json_array();
    for (size_t i = 0; v && i < n; i++)
        json_array_append_new(a, disco_json_number(v[i * stride + k], -1));
    return a;
}

static json_t *file_json(const disco_analysis_report *r)
{
    const disco_audio_info *i = &r->info;
    return json_pack("{s:s, s:s, s:i, s:i, s:I, s:o}", "format", i->format, "subtype", i->subtype,
                     "channels", i->channels, "rate", i->rate, "frames", (json_int_t)i->frames,
                     "duration_s", disco_json_number(r->character.duration_s, -1));
}

static json_t *character_json(const disco_character *c)
{
    return json_pack(
        "{s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "dc_offset", disco_json_number(c->dc_offset_max, -1),
        "rms_dbfs", disco_json_number(c->rms_dbfs, -1), "clipped_samples",
        (json_int_t)c->clipped_samples, "silence_head_s", disco_json_number(c->silence_head_s, -1),
        "silence_tail_s", disco_json_number(c->silence_tail_s, -1), "stereo_correlation",
        disco_json_number(c->stereo_correlation, -1), "duration_s",
        disco_json_number(c->duration_s, -1));
}

static json_t *loudness_json(const disco_loudness *l)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "integrated_lufs",
                     disco_json_number(l->integrated_lufs, -1), "range_lu",
                     disco_json_number(l->range_lu, -1), "momentary_max_lufs",
                     disco_json_number(l->momentary_max, -1), "short_term_max_lufs",
                     disco_json_number(l->short_term_max, -1), "sample_peak_dbfs",
                     disco_json_number(l->sample_peak_dbfs, -1), "true_peak_dbtp",
                     disco_json_number(l->true_peak_dbtp, -1));
}

static const char *profile_name(disco_key_profile p)
{
    static const char *const names[] = {"krumhansl", "temperley", "edma", "combined"};
    return (unsigned)p < 4 ? names[p] : "combined";
}

static json_t *key_json(const disco_analysis_report *r, const disco_analysis_config *cfg)
{
    char name[16];
    const disco_key *k = &r->key;
    return json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:s, s:o}", "name", disco_key_name(k->tonic, k->minor, name),
        "tonic", k->tonic >= 0 ? json_integer(k->tonic) : json_null(), "mode",
        k->tonic < 0 ? json_null() : json_string(k->minor ? "minor" : "major"), "confidence",
        disco_json_number(k->confidence, -1), "correlation", disco_json_number(k->correlation, -1),
        "profile", profile_name(cfg->key_profile), "tuning_semitones",
        disco_json_number(r->tuning, -1));
}

static json_t *rhythm_json(const disco_analysis_report *r)
{
    const disco_tempo *t = &r->tempo;
    return json_pack("{s:{s:o, s:o, s:o}, s:{s:I, s:o}, s:{s:I, s:o}}", "tempo", "bpm",
                     t->bpm > 0 ? json_real(t->bpm) : json_null(), "confidence",
                     disco_json_number(t->confidence, -1), "alternative_bpm",
                     t->alt_bpm > 0 ? json_real(t->alt_bpm) : json_null(), "beats", "count",
                     (json_int_t)r->n_beats, "times", doubles(r->beats, r->n_beats), "onsets",
                     "count", (json_int_t)r->n_onsets, "times", doubles(r->onsets, r->n_onsets));
}

static json_t *features_json(const disco_analysis_report *r)
{
    json_t *mean = json_array(), *sd = json_array(), *contrast = json_array();
    for (size_t k = 0; k < r->n_mfcc; k++) {
        json_array_append_new(mean, disco_json_number(r->mfcc[k].mean, -1));
        json_array_append_new(sd, disco_json_number(r->mfcc[k].std, -1));
    }
    for (int b = 0; b < 7; b++)
        json_array_append_new(contrast, stat_json(r->contrast[b]));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "mfcc_mean", mean,
                     "mfcc_std", sd, "chroma_mean", doubles(r->chroma_mean, 12),
                     "spectral_centroid_hz", stat_json(r->centroid), "spectral_bandwidth_hz",
                     stat_json(r->bandwidth), "spectral_rolloff_hz", stat_json(r->rolloff),
                     "spectral_flatness", stat_json(r->flatness), "spectral_contrast_db", contrast,
                     "zero_crossing_rate", stat_json(r->zcr), "rms", stat_json(r->rms), "frames",
                     json_integer((json_int_t)r->frames.count));
}

static json_t *frames_json(const disco_analysis_frames *f, size_t n_mfcc)
{
    json_t *mfcc = json_array(), *chroma = json_array();
    for (size_t k = 0; f->mfcc && k < n_mfcc; k++)
        json_array_append_new(mfcc, floats(f->mfcc, f->count, n_mfcc, k));
    for (size_t k = 0; f->chroma && k < 12; k++)
        json_array_append_new(chroma, floats(f->chroma, f->count, 12, k));
    return json_pack(
        "{s:f, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "frame_rate", f->frame_rate,
        "count", (json_int_t)f->count, "onset_env", floats(f->onset_env, f->count, 1, 0), "rms",
        floats(f->rms, f->count, 1, 0), "zcr", floats(f->zcr, f->count, 1, 0), "centroid",
        floats(f->centroid, f->count, 1, 0), "bandwidth", floats(f->bandwidth, f->count, 1, 0),
        "rolloff", floats(f->rolloff, f->count, 1, 0), "flatness",
        floats(f->flatness, f->count, 1, 0), "mfcc", mfcc, "chroma", chroma);
}

json_t *disco_audio_report_json(const disco_analysis_report *rep, const disco_analysis_config *cfg,
                                int with_frames)
{
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "file", file_json(rep), "characteristics",
                  character_json(&rep->character), "loudness", loudness_json(&rep->loudness), "key",
                  key_json(rep, cfg), "features", features_json(rep));
    json_object_update_missing_new(o, rhythm_json(rep));
    if (with_frames)
        json_object_set_new(o, "frames", frames_json(&rep->frames, rep->n_mfcc));
    return o;
}

void disco_audio_report_summary(const disco_analysis_report *rep, char *buf, size_t size)
{
    char key[16], tempo[32] = "no tempo", loud[32] = "silent";
    double d = rep->character.duration_s;
    if (rep->tempo.bpm > 0)
        snprintf(tempo, sizeof(tempo), "%.1f BPM", rep->tempo.bpm);
    if (isfinite(rep->loudness.integrated_lufs))
        snprintf(loud, sizeof(loud), "%.1f LUFS", rep->loudness.integrated_lufs);
    snprintf(buf, size, "%s, %s, %s, %d:%04.1f", tempo,
             disco_key_name(rep->key.tonic, rep->key.minor, key), loud, (int)(d / 60),
             fmod(d, 60.0));
}
