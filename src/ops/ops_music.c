/*
 * ops_music.c - music train|sample and midi analyze: the music model and
 * symbolic analysis (flows/music_*.c) as operations.
 */
#include "ops_int.h"

#include "disco/music_flow.h"
#include "disco/id.h"
#include "disco/tokens.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <errno.h>

#define DEFAULT_MODEL "models/music.bin"

/* ---- train --------------------------------------------------------------------- */

static void train_numbers(const json_t *params, disco_train_opts *o)
{
    o->model.d_model = (uint32_t)disco__param_int(params, "d_model", o->model.d_model);
    o->model.layers = (uint32_t)disco__param_int(params, "layers", o->model.layers);
    o->model.heads = (uint32_t)disco__param_int(params, "heads", o->model.heads);
    o->model.ctx = (uint32_t)disco__param_int(params, "ctx", o->model.ctx);
    o->model.seed = (uint64_t)disco__param_int(params, "seed", (int64_t)o->model.seed);
    o->seq = (size_t)disco__param_int(params, "seq", o->model.ctx);
    o->batch = (size_t)disco__param_int(params, "batch", (int64_t)o->batch);
    o->steps = (uint64_t)disco__param_int(params, "steps", (int64_t)o->steps);
    o->warmup = (uint64_t)disco__param_int(params, "warmup", (int64_t)o->warmup);
    o->threads = (size_t)disco__param_int(params, "threads", 0);
    o->seed = o->model.seed;
    o->log_every = (uint64_t)disco__param_int(params, "log_every", (int64_t)o->log_every);
    o->eval_every = (uint64_t)disco__param_int(params, "eval_every", (int64_t)o->eval_every);
    o->eval_tokens = (size_t)disco__param_int(params, "eval_tokens", (int64_t)o->eval_tokens);
    o->ngram_order = (int)disco__param_int(params, "ngram_order", o->ngram_order);
    const json_t *lr = json_object_get(params, "lr"), *lr_min = json_object_get(params, "lr_min");
    if (lr)
        o->lr = (float)json_number_value(lr);
    if (lr_min)
        o->lr_min = (float)json_number_value(lr_min);
}

static int op_train(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char corpus[DISCO_CONFIG_STR_MAX + 64], out[DISCO_CONFIG_STR_MAX + 64];
    disco_train_opts o = disco_train_opts_default();
    disco_catalog *cat = NULL;
    disco_objects *objs = NULL;
    disco_tsdb *db = NULL;
    int rc = DISCO_OK;
    train_numbers(params, &o);
    o.corpus = disco__param_str(params, "corpus");
    o.run = disco__param_str(params, "run");
    o.resume = disco__param_bool(params, "resume", 0);
    o.store = disco__param_bool(params, "store", 1);
    o.keep_best = disco__param_bool(params, "keep_best", 1);
    o.owner = disco_ctx_principal(ctx);
    o.progress = disco_ctx_progress(ctx);
    o.corpus_dir = disco__param_str(params, "corpus_dir");
    if (!o.corpus_dir) {
        char sub[128];
        snprintf(sub, sizeof sub, "corpus/%s", o.corpus);
        rc = disco__ctx_data_path(ctx, sub, corpus, sizeof corpus, st);
        o.corpus_dir = corpus;
    }
    o.out = disco__param_str(params, "output");
    if (!rc && !o.out) {
        rc = disco__ctx_data_path(ctx, "models", out, sizeof out, st);
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "/%s.bin", o.run ? o.run : "music");
        o.out = out;
    }
    if (!rc)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (!rc)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (!rc)
        rc = disco_ctx_tsdb(ctx, &db, st);
    if (!rc)
        rc = disco_music_train(cat, objs, db, &o, result, st);
    return rc;
}

/* ---- sample -------------------------------------------------------------------- */

/* "C", "C major", "c#m", "Bb minor", "A min", "none" -> 0..23 (24 for none). */
static int parse_key(const char *s, int *out, disco_status *st)
{
    static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
    const char *p = s;
    int minor = 0, pc;
    if (strcasecmp(s, "none") == 0 || strcasecmp(s, "unknown") == 0) {
        *out = DISCO_TOK_KEYS - 1;
        return DISCO_OK;
    }
    char c = (char)toupper((unsigned char)*p);
    if (c < 'A' || c > 'G')
        goto bad;
    pc = base[c - 'A'];
    p++;
    if (*p == '#' || *p == 'b')
        pc = (pc + (*p++ == '#' ? 1 : 11)) % 12;
    while (*p == ' ')
        p++;
    if (*p == 'm' && (p[1] == '\0' || strncasecmp(p, "min", 3) == 0))
        minor = 1;
    else if (*p && strncasecmp(p, "maj", 3) != 0)
        goto bad;
    *out = pc + 12 * minor;
    return DISCO_OK;
bad:
    return disco_status_set(st, DISCO_ERR_INVAL, "key",
                            "param 'key': '%s' is not a key (e.g. \"C\", \"A minor\", \"F#m\", "
                            "\"Bb major\", \"none\")",
                            s);
}

static const struct {
    const char *name;
    int program;
} instruments[] = {
    {"piano", 0},   {"epiano", 4},    {"vibraphone", 11}, {"marimba", 12}, {"organ", 16},
    {"guitar", 25}, {"eguitar", 27},  {"bass", 33},       {"violin", 40},  {"cello", 42},
    {"harp", 46},   {"strings", 48},  {"choir", 52},      {"trumpet", 56}, {"brass", 61},
    {"sax", 65},    {"clarinet", 71}, {"flute", 73},      {"lead", 80},    {"pad", 88},
    {"drums", 128},
};

static int parse_instrument(const char *s, int *program, disco_status *st)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s && !*end && v >= 0 && v <= 128) {
        *program = (int)v;
        return DISCO_OK;
    }
    for (size_t i = 0; i < sizeof instruments / sizeof instruments[0]; i++)
        if (strcasecmp(s, instruments[i].name) == 0) {
            *program = instruments[i].program;
            return DISCO_OK;
        }
    return disco_status_set(st, DISCO_ERR_INVAL, "instruments",
                            "param 'instruments': unknown instrument '%s' (a GM program 0..127, "
                            "128 for drums, or piano, bass, guitar, strings, drums, ...)",
                            s);
}

/* Restricts the programs to the instruments named and forces their families. */
static int apply_instruments(const json_t *list, disco_sampler_config *c, disco_status *st)
{
    size_t i;
    json_t *v;
    if (!list || json_array_size(list) == 0)
        return DISCO_OK;
    memset(c->programs, 0, sizeof c->programs);
    c->families = 0;
    json_array_foreach (list, i, v) {
        int p = 0;
        int rc = parse_instrument(json_string_value(v), &p, st);
        if (rc)
            return rc;
        c->programs[p] = 1;
        c->families |= 1u << (p == 128 ? 16 : p / 8);
    }
    return DISCO_OK;
}

/* Major scale or natural + harmonic minor (raised 7th) of key k, as a pitch-class mask. */
static uint16_t scale_of(int k)
{
    static const int major[] = {0, 2, 4, 5, 7, 9, 11}, minor[] = {0, 2, 3, 5, 7, 8, 10, 11};
    const int *iv = k < 12 ? major : minor;
    int n = k < 12 ? 7 : 8;
    uint16_t m = 0;
    for (int i = 0; i < n; i++)
        m |= (uint16_t)(1u << ((k % 12 + iv[i]) % 12));
    return m;
}

static int sampler_config(const json_t *params, disco_sampler_config *c, disco_status *st)
{
    const char *key = disco__param_str(params, "key"), *style = disco__param_str(params, "style");
    const json_t *tempo = json_object_get(params, "tempo"),
                 *t = json_object_get(params, "temperature");
    const json_t *tp = json_object_get(params, "top_p");
    int rc = DISCO_OK;
    *c = disco_sampler_config_default();
    c->seed = (uint64_t)disco__param_int(params, "seed", 1);
    c->top_k = (int)disco__param_int(params, "top_k", 0);
    c->bars = (int)disco__param_int(params, "bars", 16);
    c->max_tokens = (size_t)disco__param_int(params, "max_tokens", 8192);
    if (t)
        c->temperature = json_number_value(t);
    if (tp)
        c->top_p = json_number_value(tp);
    if (tempo)
        c->tempo = disco_tok_tempo_bucket(json_number_value(tempo));
    for (int s = 0; style && s < DISCO_TOK_NSTYLES; s++)
        if (strcmp(style, disco_tok_styles[s]) == 0)
            c->style = s;
    if (key)
        rc = parse_key(key, &c->key, st);
    if (!rc && key && c->key < 24 && disco__param_bool(params, "scale", 1))
        c->scale = scale_of(c->key);
    if (!rc)
        rc = apply_instruments(disco__param_json(params, "instruments"), c, st);
    return rc;
}

/* A model given as a resource id is copied out of the store to a temporary file. */
static int model_path(disco_ctx *ctx, const char *model, char *tmp, const char **path,
                      const char **model_id, disco_status *st)
{
    disco_catalog *cat;
    disco_objects *objs;
    disco_resource r;
    *path = model;
    *model_id = NULL;
    if (access(model, F_OK) == 0 || !disco_id_valid(model))
        return DISCO_OK;
    disco_resource_init(&r);
    int rc = disco_ctx_catalog(ctx, &cat, st);
    if (!rc)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (!rc)
        rc = disco_catalog_get(cat, model, 0, &r, st);
    if (!rc && strcmp(r.type, "model") != 0)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "model", "resource %s is a %s, not a model",
                              model, r.type);
    int fd = rc ? -1 : mkstemp(tmp);
    if (!rc && fd < 0)
        rc = disco_status_errno(st, errno, "model", "cannot make a temporary file");
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = disco_objects_get_file(objs, r.object, tmp, NULL, st);
    if (!rc) {
        *path = tmp;
        *model_id = model;
    }
    disco_resource_release(&r);
    return rc;
}

static int op_sample(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char tmp[] = "/tmp/disco-model-XXXXXX";
    disco_sample_opts o = {.midi = disco__param_str(params, "output"),
                           .wav = disco__param_str(params, "wav"),
                           .store = disco__param_bool(params, "store", 0),
                           .owner = disco_ctx_principal(ctx)};
    disco_catalog *cat = NULL;
    disco_objects *objs = NULL;
    int rc = sampler_config(params, &o.sampler, st);
    if (!rc)
        rc = model_path(ctx, disco__param_str(params, "model"), tmp, &o.model, &o.model_id, st);
    if (!rc && o.store)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (!rc && o.store)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (!rc)
        rc = disco_music_sample(cat, objs, &o, result, st);
    if (o.model == tmp)
        unlink(tmp);
    return rc;
}

/* ---- midi analyze ------------------------------------------------------------------ */

static int op_midi_analyze(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *input = disco__param_str(params, "input");
    int is_res = access(input, F_OK) != 0 && disco_id_valid(input);
    disco_catalog *cat = NULL;
    disco_objects *objs = NULL;
    int rc = DISCO_OK;
    if (is_res) {
        rc = disco_ctx_catalog(ctx, &cat, st);
        if (!rc)
            rc = disco_ctx_objects(ctx, &objs, st);
    }
    if (!rc)
        rc = disco_midi_flow_analyze(cat, objs, input, disco__param_bool(params, "store", is_res),
                                     disco_ctx_principal(ctx), result, st);
    return rc;
}

/* ---- model register -------------------------------------------------------------- */

static int op_register(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *info = disco__param_str(params, "info");
    disco_catalog *cat = NULL;
    disco_objects *objs = NULL;
    json_t *extra = NULL;
    disco_resource r;
    disco_resource_init(&r);
    int rc = DISCO_OK;
    if (info) {
        char *text = NULL;
        size_t len = 0;
        json_error_t jerr;
        rc = disco__read_input(ctx, "info", info, 1 << 20, &text, &len, st);
        if (!rc && !(extra = json_loadb(text, len, 0, &jerr)))
            rc = disco_status_set(st, DISCO_ERR_INVAL, "info", "%s: line %d: %s", info, jerr.line,
                                  jerr.text);
        free(text);
    }
    if (!rc)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (!rc)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (!rc)
        rc = disco_music_register(cat, objs, disco__param_str(params, "file"),
                                  disco__param_str(params, "corpus"), extra,
                                  disco_ctx_principal(ctx), &r, st);
    if (!rc)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    json_decref(extra);
    return rc;
}

/* ---- table --------------------------------------------------------------------- */

static const disco_param train_params[] = {
    {.name = "corpus", .type = DISCO_P_STRING, .def = "\"main\"", .help = "corpus name"},
    {.name = "corpus_dir",
     .type = DISCO_P_PATH,
     .help = "folder with train.tok and valid.tok (default: <data>/corpus/<corpus>)"},
    {.name = "output",
     .type = DISCO_P_PATH,
     .short_flag = 'o',
     .help = "checkpoint to write (default: <data>/models/<run>.bin)"},
    {.name = "run", .type = DISCO_P_STRING, .help = "run id for the metrics (default: music-<ms>)"},
    DISCO__P_INT("steps", 1, 10000000, "3000", "optimiser steps"),
    DISCO__P_INT("batch", 1, 4096, "16", "windows per step"),
    DISCO__P_INT("seq", 2, 1024, NULL, "tokens per window (default: ctx)"),
    DISCO__P_INT("ctx", 2, 1024, "256", "context length"),
    DISCO__P_INT("d_model", 8, 2048, "192", "model width"),
    DISCO__P_INT("layers", 1, 64, "4", "transformer blocks"),
    DISCO__P_INT("heads", 1, 64, "6", "attention heads"),
    {.name = "lr",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 1e-7,
     .max = 1,
     .def = "0.003",
     .help = "peak learning rate"},
    {.name = "lr_min",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 1,
     .def = "0.0001",
     .help = "final learning rate (cosine schedule)"},
    DISCO__P_INT("warmup", 0, 1000000, "100", "warm-up steps"),
    DISCO__P_INT("threads", 0, 256, "0", "threads (0: every CPU)"),
    DISCO__P_INT("seed", 0, 9007199254740991.0, "1", "initialisation and data order"),
    DISCO__P_INT("log_every", 1, 1000000, "10", "steps between metric points"),
    DISCO__P_INT("eval_every", 1, 1000000, "250", "steps between validations and checkpoints"),
    DISCO__P_INT("eval_tokens", 2, 100000000, "60000", "validation tokens scored each time"),
    DISCO__P_INT("ngram_order", 0, 8, "5", "Kneser-Ney baseline order (0: skip)"),
    {.name = "resume",
     .type = DISCO_P_BOOL,
     .help = "continue an interrupted run from <output>.resume"},
    {.name = "keep_best",
     .type = DISCO_P_BOOL,
     .def = "true",
     .help = "write the weights of the best validation (early stopping), not the last"},
    {.name = "store", .type = DISCO_P_BOOL, .def = "true", .help = "register the model"},
    {0},
};

static const char *const styles[] = {"unknown", "game", "folk",       "classical", "jazz",
                                     "pop",     "rock", "electronic", NULL};

static const disco_param sample_params[] = {
    {.name = "model",
     .type = DISCO_P_STRING,
     .def = "\"" DEFAULT_MODEL "\"",
     .help = "checkpoint file or model resource id"},
    {.name = "output", .type = DISCO_P_PATH, .short_flag = 'o', .help = "MIDI file to write"},
    {.name = "wav", .type = DISCO_P_PATH, .help = "also render it with FluidSynth to this WAV"},
    {.name = "key", .type = DISCO_P_STRING, .help = "\"C\", \"A minor\", \"F#m\", ... or none"},
    {.name = "scale",
     .type = DISCO_P_BOOL,
     .def = "true",
     .help = "keep pitched notes in the key's scale (with --key)"},
    {.name = "tempo",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 40,
     .max = 250,
     .help = "tempo in BPM"},
    {.name = "style", .type = DISCO_P_STRING, .choices = styles, .help = "style token"},
    {.name = "instruments",
     .type = DISCO_P_STRINGS,
     .help = "instruments that may play: piano, bass, guitar, strings, drums, ... or GM numbers"},
    DISCO__P_INT("bars", 1, 1024, "16", "length in bars"),
    {.name = "temperature",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 5,
     .def = "1.0",
     .help = "sampling temperature (0: greedy)"},
    DISCO__P_INT("top_k", 0, 100000, "0", "keep the k likeliest tokens (0: all)"),
    {.name = "top_p",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0.01,
     .max = 1,
     .def = "0.95",
     .help = "nucleus sampling mass"},
    DISCO__P_INT("seed", 0, 9007199254740991.0, "1", "random seed"),
    DISCO__P_INT("max_tokens", 16, 1000000, "8192", "longest sequence"),
    {.name = "store", .type = DISCO_P_BOOL, .help = "keep the MIDI as a resource"},
    {0},
};

static const disco_param midi_analyze_params[] = {
    {.name = "input",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "MIDI file or the id of a midi resource"},
    {.name = "store",
     .type = DISCO_P_BOOL,
     .help = "keep the analysis under the resource (default: for resources)"},
    {0},
};

static const disco_param register_params[] = {
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "checkpoint (e.g. models/music.bin)"},
    {.name = "corpus",
     .type = DISCO_P_STRING,
     .def = "\"main\"",
     .help = "corpus it was trained on"},
    {.name = "info",
     .type = DISCO_P_PATH,
     .help = "JSON describing it, merged into the metadata (e.g. models/music.json)"},
    {0},
};

const disco_op disco__ops_music[] = {
    {.name = "midi.analyze",
     .summary = "MusPy-style metrics of a MIDI file: pitch, polyphony, scale, groove, key, tempo",
     .params = midi_analyze_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_midi_analyze},
    {.name = "model.register",
     .summary = "register a music model checkpoint as a resource, under its corpus",
     .help = "Example:\n  disco model register models/music.bin --info models/music.json",
     .params = register_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_register},
    {.name = "music.sample",
     .summary = "compose a piece with the music model (MIDI, optionally rendered to WAV)",
     .help = "Conditioning (key, tempo, style, instruments) goes into the model's header;\n"
             "constraints (scale, instruments' pitch ranges, bar count) mask what it may play.\n\n"
             "Examples:\n"
             "  disco music sample -o song.mid --key \"A minor\" --tempo 100 --bars 16\n"
             "  disco music sample -o song.mid --wav song.wav --instruments piano,bass,drums",
     .params = sample_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_sample},
    {.name = "music.train",
     .summary = "train the music transformer on a corpus (metrics to the tsdb, n-gram baseline)",
     .help = "Reads <data>/corpus/<corpus>/{train,valid}.tok (disco corpus build), trains with\n"
             "AdamW and a cosine schedule, writes loss, val_loss, learning_rate, grad_norm and\n"
             "tokens_per_s tagged run=<id>, and compares with a Kneser-Ney n-gram.\n\n"
             "Example:\n"
             "  disco music train --steps 3000 -o models/music.bin --run music-v1",
     .params = train_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_train},
    {0},
};
