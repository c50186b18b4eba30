/*
 * ops_audio.c - audio import|analyze|process|master|convert: the audio
 * processing flow (flows/audio*.c) as operations.
 *
 * An input is a file path or the id of a resource whose payload is audio.
 * Results about a resource are stored under it (analysis, processed and
 * mastered audio, with lineage); a file is only read unless --store asks to
 * import it first.
 */
#include "ops_int.h"

#include "disco/audio_flow.h"
#include "disco/master.h"

#include <string.h>

typedef struct audio_stores {
    disco_catalog *cat;
    disco_objects *objs;
    disco_tsdb *tsdb;
} audio_stores;

/* Opens the stores a call needs: all of them when it stores, none for a plain file. */
static int open_stores(disco_ctx *ctx, const char *input, int store, int need_tsdb, audio_stores *s,
                       disco_status *st)
{
    memset(s, 0, sizeof(*s));
    if (!store && !disco_audio_input_is_resource(input))
        return DISCO_OK;
    int rc = disco_ctx_catalog(ctx, &s->cat, st);
    if (!rc)
        rc = disco_ctx_objects(ctx, &s->objs, st);
    if (!rc && need_tsdb)
        rc = disco_ctx_tsdb(ctx, &s->tsdb, st);
    return rc;
}

/* --store given: that; absent: store when the input is a resource. */
static int store_wanted(const json_t *params, const char *input)
{
    return disco__param_bool(params, "store", disco_audio_input_is_resource(input));
}

/* ---- analyze ------------------------------------------------------------------- */

static int analysis_config(const json_t *params, disco_analysis_config *c, disco_status *st)
{
    *c = disco_analysis_config_default();
    c->rate = (int)disco__param_int(params, "rate", c->rate);
    c->n_fft = (size_t)disco__param_int(params, "n_fft", (int64_t)c->n_fft);
    c->hop = (size_t)disco__param_int(params, "hop", (int64_t)c->hop);
    c->n_mels = (size_t)disco__param_int(params, "n_mels", (int64_t)c->n_mels);
    c->n_mfcc = (size_t)disco__param_int(params, "n_mfcc", (int64_t)c->n_mfcc);
    c->htk = strcmp(disco__param_str(params, "mel_scale"), "htk") == 0;
    c->keep_frames = disco__param_bool(params, "frames", 0);
    if (c->hop > c->n_fft)
        return disco_status_set(st, DISCO_ERR_INVAL, "hop",
                                "param 'hop': %zu is larger than n_fft (%zu)", c->hop, c->n_fft);
    if (c->n_mfcc > c->n_mels)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_mfcc",
                                "param 'n_mfcc': %zu is more than n_mels (%zu)", c->n_mfcc,
                                c->n_mels);
    return disco_key_profile_parse(disco__param_str(params, "key_profile"), "key_profile",
                                   &c->key_profile, st);
}

static int op_analyze(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *input = disco__param_str(params, "input");
    disco_audio_analyze_opts o = {.owner = disco_ctx_principal(ctx),
                                  .progress = disco_ctx_progress(ctx)};
    audio_stores s;
    int rc = analysis_config(params, &o.cfg, st);
    o.store = store_wanted(params, input);
    o.frames = o.cfg.keep_frames;
    if (!rc)
        rc = open_stores(ctx, input, o.store, o.frames, &s, st);
    if (!rc)
        rc = disco_audio_flow_analyze(s.cat, s.objs, s.tsdb, input, &o, result, st);
    return rc;
}

/* ---- import -------------------------------------------------------------------- */

static int op_import(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_resource r;
    audio_stores s;
    disco_resource_init(&r);
    int rc = open_stores(ctx, "", 1, 0, &s, st);
    if (!rc)
        rc = disco_audio_import(
            s.cat, s.objs, disco__param_str(params, "file"), disco__param_json(params, "tags"),
            disco__param_json(params, "metadata"), disco__param_json(params, "parents"),
            disco_ctx_principal(ctx), &r, st);
    if (!rc)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    return rc;
}

/* ---- process, master, convert ----------------------------------------------------- */

static int output_opts(disco_ctx *ctx, const json_t *params, const char *input,
                       disco_audio_output *o, disco_status *st)
{
    const char *enc = disco__param_str(params, "encoding");
    memset(o, 0, sizeof(*o));
    o->path = disco__param_str(params, "output");
    o->store = store_wanted(params, input);
    o->owner = disco_ctx_principal(ctx);
    o->progress = disco_ctx_progress(ctx);
    o->encoding_set = enc != NULL;
    return enc ? disco_audio_encoding_parse(enc, "encoding", &o->encoding, st) : DISCO_OK;
}

static int op_process(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *input = disco__param_str(params, "input");
    disco_audio_output o;
    audio_stores s;
    int rc = output_opts(ctx, params, input, &o, st);
    if (!rc)
        rc = open_stores(ctx, input, o.store, 0, &s, st);
    if (!rc)
        rc = disco_audio_flow_process(s.cat, s.objs, input, disco__param_json(params, "chain"), &o,
                                      result, st);
    return rc;
}

static int master_config(const json_t *params, disco_master_config *cfg, disco_status *st)
{
    disco_master_preset p;
    const char *name = disco__param_str(params, "preset");
    int rc = disco_master_preset_parse(name, "preset", &p, st);
    if (rc)
        return rc;
    *cfg = disco_master_config_preset(p);
    const json_t *t = json_object_get(params, "target"), *c = json_object_get(params, "ceiling");
    if (t)
        cfg->target_lufs = json_number_value(t);
    if (c)
        cfg->ceiling_dbtp = json_number_value(c);
    return disco_master_config_check(cfg, st);
}

static int op_master(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *input = disco__param_str(params, "input");
    const char *reference = disco__param_str(params, "reference");
    disco_master_config cfg;
    disco_audio_output o;
    audio_stores s;
    int rc = master_config(params, &cfg, st);
    if (!rc)
        rc = output_opts(ctx, params, input, &o, st);
    if (!rc)
        rc = open_stores(ctx, input,
                         o.store || (reference && disco_audio_input_is_resource(reference)), 0, &s,
                         st);
    if (!rc)
        rc = disco_audio_flow_master(s.cat, s.objs, input, &cfg, disco__param_str(params, "preset"),
                                     reference, &o, result, st);
    return rc;
}

static int op_convert(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *input = disco__param_str(params, "input");
    disco_audio_output o;
    audio_stores s;
    int rc = output_opts(ctx, params, input, &o, st);
    if (!rc)
        rc = open_stores(ctx, input, o.store, 0, &s, st);
    if (!rc)
        rc =
            disco_audio_flow_convert(s.cat, s.objs, input, (int)disco__param_int(params, "rate", 0),
                                     (int)disco__param_int(params, "channels", 0), &o, result, st);
    return rc;
}

/* ---- table --------------------------------------------------------------------- */

#define P_INPUT                                                                                    \
    {                                                                                              \
        .name = "input", .type = DISCO_P_STRING,                                                   \
        .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,                                    \
        .help = "audio file (WAV, FLAC, OGG, Opus, MP3, AIFF) or the id of an audio resource"      \
    }
#define P_STORE                                                                                    \
    {                                                                                              \
        .name = "store", .type = DISCO_P_BOOL,                                                     \
        .help = "store the result as a resource (default: when the input is a resource; "          \
                "a file is imported first)"                                                        \
    }

static const char *const key_profiles[] = {"combined", "krumhansl", "temperley", "edma", NULL};
static const char *const mel_scales[] = {"slaney", "htk", NULL};

static const disco_param analyze_params[] = {
    P_INPUT,
    P_STORE,
    {.name = "frames",
     .type = DISCO_P_BOOL,
     .help = "include frame-level series (and write them to the tsdb when stored)"},
    {.name = "key_profile",
     .type = DISCO_P_STRING,
     .def = "\"combined\"",
     .choices = key_profiles,
     .help = "key profile for key detection"},
    DISCO__P_INT("rate", 8000, 48000, "22050", "analysis sample rate in Hz"),
    DISCO__P_INT("n_fft", 256, 16384, "2048", "FFT size (a power of two)"),
    DISCO__P_INT("hop", 32, 16384, "512", "hop between frames in samples"),
    DISCO__P_INT("n_mels", 8, 512, "128", "mel bands"),
    DISCO__P_INT("n_mfcc", 1, 40, "20", "MFCC coefficients"),
    {.name = "mel_scale",
     .type = DISCO_P_STRING,
     .def = "\"slaney\"",
     .choices = mel_scales,
     .help = "mel scale"},
    {0},
};

#define P_OUTPUT                                                                                   \
    {                                                                                              \
        .name = "output", .type = DISCO_P_PATH, .short_flag = 'o',                                 \
        .help = "output file (.wav or .flac); optional when the result is stored"                  \
    }
#define P_ENCODING                                                                                 \
    {                                                                                              \
        .name = "encoding", .type = DISCO_P_STRING, .choices = encodings,                          \
        .help = "output encoding (default: from the extension; flac24 in the store)"               \
    }

static const char *const encodings[] = {"wav16", "wav24", "wav32f", "flac16", "flac24", NULL};
static const char *const presets[] = {"streaming", "apple", "broadcast", "club", NULL};

static const disco_param process_params[] = {
    P_INPUT,
    {.name = "chain",
     .type = DISCO_P_JSON,
     .flags = DISCO_PARAM_REQUIRED,
     .help = "effect chain: JSON or @FILE ({\"effects\": [{\"type\": \"eq\", ...}, ...]})"},
    P_OUTPUT,
    P_ENCODING,
    P_STORE,
    {0},
};

static const disco_param master_params[] = {
    P_INPUT,
    P_OUTPUT,
    {.name = "preset",
     .type = DISCO_P_STRING,
     .def = "\"streaming\"",
     .choices = presets,
     .help = "loudness target and ceiling: streaming -14/-1, apple -16/-1, broadcast -23/-1, "
             "club -9/-0.3"},
    {.name = "target",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = -40,
     .max = -5,
     .help = "integrated loudness target in LUFS (overrides the preset)"},
    {.name = "ceiling",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = -10,
     .max = 0,
     .help = "true-peak ceiling in dBTP (overrides the preset)"},
    {.name = "reference",
     .type = DISCO_P_STRING,
     .help = "reference track (file or resource): match its spectrum and loudness"},
    P_ENCODING,
    P_STORE,
    {0},
};

static const disco_param convert_params[] = {
    P_INPUT,
    P_OUTPUT,
    {.name = "rate",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 8000,
     .max = 192000,
     .help = "new sample rate in Hz (default: keep)"},
    {.name = "channels",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 2,
     .help = "1 mixes to mono, 2 makes stereo from mono (default: keep)"},
    P_ENCODING,
    P_STORE,
    {0},
};

static const disco_param import_params[] = {
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "audio file to store"},
    {.name = "tags", .type = DISCO_P_TAGS, .help = "tags, key=value"},
    {.name = "metadata", .type = DISCO_P_OBJECT, .help = "extra metadata (JSON or @FILE)"},
    {.name = "parents", .type = DISCO_P_IDS, .help = "parent resource ids"},
    {0},
};

const disco_op disco__ops_audio[] = {
    {.name = "audio.analyze",
     .summary = "tempo, beats, key, loudness, features and characteristics of audio",
     .help = "Analyses a file or an audio resource in one streaming pass: loudness (EBU R 128),\n"
             "true peak, tempo and beats, onsets, key and mode, MFCC, chroma, spectral shape,\n"
             "DC offset, clipping, silence and stereo correlation.\n\n"
             "Examples:\n"
             "  disco audio analyze song.wav\n"
             "  disco audio analyze song.flac --store --frames --json\n"
             "  disco audio analyze 01J9Z3... --key-profile edma",
     .params = analyze_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_analyze},
    {.name = "audio.convert",
     .summary = "resample, mix down or re-encode audio (WAV 16/24/32f, FLAC 16/24)",
     .help = "Examples:\n"
             "  disco audio convert song.mp3 -o song.wav --rate 48000\n"
             "  disco audio convert song.wav -o mono.flac --channels 1 --encoding flac16",
     .params = convert_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_convert},
    {.name = "audio.import",
     .summary = "store an audio file as a resource, described by its format and length",
     .params = import_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_import},
    {.name = "audio.process",
     .summary = "apply an effect chain (EQ, compressor, reverb, delay, gain, pan, width, fade)",
     .help = "The chain is JSON, inline or @FILE; see docs/audio.md for every effect.\n\n"
             "Examples:\n"
             "  disco audio process in.wav --chain @chain.json -o out.wav\n"
             "  disco audio process in.wav -o out.flac --chain "
             "'[{\"type\":\"eq\",\"kind\":\"highpass\",\"freq\":80}]'",
     .params = process_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_process},
    {.name = "audio.master",
     .summary = "master to a loudness target under a true-peak ceiling, or to a reference",
     .help = "Gentle EQ, glue compression, gain to the target and a look-ahead true-peak\n"
             "limiter; prints loudness and true peak before and after.\n\n"
             "Examples:\n"
             "  disco audio master mix.wav -o master.wav --target -14 --ceiling -1\n"
             "  disco audio master mix.wav -o master.wav --preset club\n"
             "  disco audio master mix.wav -o master.wav --reference ref.wav",
     .params = master_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_master},
    {0},
};
