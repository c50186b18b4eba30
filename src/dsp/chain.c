/*
 * chain.c - an effect chain described in JSON: parsing with a path in
 * every error, and the one-pass, block-by-block run over a signal.
 *
 * DESIGN: parsing turns each effect object into its config struct (type
 * and key checks happen here, with the JSON path), then builds the effect
 * with its constructor, whose range errors ("ratio: 0.5 out of range
 * 1..100") get the path put in front. Running feeds BLOCK frames at a time
 * through every effect in order, so a long signal stays in cache per block
 * and every effect keeps its state across blocks.
 */
#include "disco/effects.h"
#include "disco/json.h"

#include "fx_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 1024
#define MAX_BANDS 16
#define PATH_MAX_LEN 96 /* a path plus a key */
#define EFFECT_PATH 32  /* "effects[63]" */
#define BAND_PATH 64    /* "effects[63].bands[15]" */

typedef enum fx_type {
    FX_EQ,
    FX_COMPRESSOR,
    FX_REVERB,
    FX_DELAY,
    FX_GAIN,
    FX_PAN,
    FX_WIDTH,
    FX_FADE,
    FX_COUNT
} fx_type;

static const char *const type_names[FX_COUNT] = {"eq",   "compressor", "reverb", "delay",
                                                 "gain", "pan",        "width",  "fade"};

typedef struct fx_node {
    fx_type type;
    disco_biquad *bands; /* eq */
    size_t nbands;
    disco_compressor *comp;
    disco_reverb *rev;
    disco_delay *dly;
    double value; /* gain_db, pan or width */
    double fade_in_s, fade_out_s;
    disco_fade_curve curve;
} fx_node;

struct disco_chain {
    int channels, rate;
    size_t n;
    fx_node fx[DISCO_CHAIN_MAX];
};

/* Parse context: the JSON path of the value being read. */
typedef struct pctx {
    const disco_chain *c;
    disco_status *st;
} pctx;

/* --- checking helpers ---------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
    default:
        return "null";
    }
}

/* INVAL with field `path[.key]` and a message starting with it. */
static int fail(disco_status *st, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(disco_status *st, const char *path, const char *key, const char *fmt, ...)
{
    char field[PATH_MAX_LEN + 64], what[DISCO_STATUS_MSG_MAX];
    va_list ap;

    snprintf(field, sizeof field, "%s%s%s", path, key ? "." : "", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: %s", field, what);
}

/* Puts `path.` in front of an effect constructor's "field: problem" error. */
static int prefix(disco_status *st, int rc, const disco_status *inner, const char *path)
{
    char field[PATH_MAX_LEN + DISCO_STATUS_FIELD_MAX];

    snprintf(field, sizeof field, "%s.%s", path, inner->field);
    return disco_status_set(st, rc, field, "%s.%s", path, inner->msg);
}

/* Every key of `obj` must be in the NULL-terminated `known`. */
static int keys_check(const json_t *obj, const char *const *known, const char *path,
                      disco_status *st)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)obj, key, v) {
        size_t i = 0;
        char list[256] = "";

        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (known[i])
            continue;
        for (i = 0; known[i]; i++) {
            strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
            strncat(list, known[i], sizeof list - strlen(list) - 1);
        }
        return fail(st, path, key, "unknown key; known: %s", list);
    }
    return DISCO_OK;
}

/* Reads number `key` into *v when present (leaves *v alone when absent and optional). */
static int get_num(const json_t *obj, const char *key, int required, double *v, const char *path,
                   disco_status *st)
{
    const json_t *j = json_object_get(obj, key);

    if (!j)
        return required ? fail(st, path, key, "missing (required)") : DISCO_OK;
    if (!json_is_number(j))
        return fail(st, path, key, "expected a number, got %s", json_kind(j));
    *v = json_number_value(j);
    return DISCO_OK;
}

static int get_str(const json_t *obj, const char *key, const char **v, const char *path,
                   disco_status *st)
{
    const json_t *j = json_object_get(obj, key);

    if (!j)
        return DISCO_OK;
    if (!json_is_string(j))
        return fail(st, path, key, "expected a string, got %s", json_kind(j));
    *v = json_string_value(j);
    return DISCO_OK;
}

static int need_stereo(const pctx *p, const char *name, const char *path)
{
    if (p->c->channels == 2)
        return DISCO_OK;
    return fail(p->st, path, "type", "%s needs 2 channels, the signal has %d", name,
                p->c->channels);
}

/* --- effects ------------------------------------------------------------- */

static const char *const band_keys[] = {"kind", "freq", "gain_db", "q", "slope", NULL};

/* One EQ band from `obj` (an element of bands, or the effect itself). */
static int parse_band(const pctx *p, const json_t *obj, const char *path, disco_biquad *out)
{
    disco_biquad_band b = disco_biquad_band_default();
    disco_biquad_coefs co;
    disco_status inner = {0};
    const char *kind = "peaking";
    char field[PATH_MAX_LEN];
    int rc;

    snprintf(field, sizeof field, "%s.kind", path);
    if ((rc = get_str(obj, "kind", &kind, path, p->st)) ||
        (rc = disco_biquad_kind_parse(kind, field, &b.kind, p->st)) ||
        (rc = get_num(obj, "freq", 1, &b.freq, path, p->st)) ||
        (rc = get_num(obj, "gain_db", 0, &b.gain_db, path, p->st)) ||
        (rc = get_num(obj, "q", 0, &b.q, path, p->st)) ||
        (rc = get_num(obj, "slope", 0, &b.slope, path, p->st)))
        return rc;
    if ((rc = disco_biquad_design(&b, p->c->rate, &co, &inner)) != DISCO_OK)
        return prefix(p->st, rc, &inner, path);
    disco_biquad_init(out, &co, p->c->channels);
    return DISCO_OK;
}

static int parse_bands(const pctx *p, const json_t *arr, const char *path, fx_node *fx)
{
    char sub[BAND_PATH];
    size_t n = json_array_size(arr);
    int rc;

    if (!json_is_array(arr))
        return fail(p->st, path, "bands", "expected an array, got %s", json_kind(arr));
    if (n < 1 || n > MAX_BANDS)
        return fail(p->st, path, "bands", "%zu bands; 1..%d allowed", n, MAX_BANDS);
    if (!(fx->bands = calloc(n, sizeof *fx->bands)))
        return disco_status_set(p->st, DISCO_ERR_NOMEM, path, "%s: out of memory", path);
    fx->nbands = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(arr, i);

        snprintf(sub, sizeof sub, "%s.bands[%zu]", path, i);
        if (!json_is_object(b))
            return fail(p->st, sub, NULL, "expected an object, got %s", json_kind(b));
        if ((rc = keys_check(b, band_keys, sub, p->st)) ||
            (rc = parse_band(p, b, sub, &fx->bands[i])))
            return rc;
    }
    return DISCO_OK;
}

static int parse_eq(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const char *const keys[] = {"type",    "bands", "kind",  "freq",
                                       "gain_db", "q",     "slope", NULL};
    const json_t *bands = json_object_get(obj, "bands");
    int rc = keys_check(obj, keys, path, p->st);

    if (rc != DISCO_OK)
        return rc;
    if (bands) {
        for (size_t i = 0; band_keys[i]; i++)
            if (json_object_get(obj, band_keys[i]))
                return fail(p->st, path, band_keys[i], "not allowed together with bands");
        return parse_bands(p, bands, path, fx);
    }
    if (!(fx->bands = calloc(1, sizeof *fx->bands)))
        return disco_status_set(p->st, DISCO_ERR_NOMEM, path, "%s: out of memory", path);
    fx->nbands = 1;
    return parse_band(p, obj, path, &fx->bands[0]);
}

static int parse_compressor(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const char *const keys[] = {
        "type",       "threshold_db", "ratio",    "knee_db", "attack_ms",
        "release_ms", "makeup_db",    "detector", "rms_ms",  NULL};
    disco_compressor_config cfg = disco_compressor_config_default();
    disco_status inner = {0};
    const char *det = "peak";
    int rc;

    if ((rc = keys_check(obj, keys, path, p->st)) ||
        (rc = get_num(obj, "threshold_db", 0, &cfg.threshold_db, path, p->st)) ||
        (rc = get_num(obj, "ratio", 0, &cfg.ratio, path, p->st)) ||
        (rc = get_num(obj, "knee_db", 0, &cfg.knee_db, path, p->st)) ||
        (rc = get_num(obj, "attack_ms", 0, &cfg.attack_ms, path, p->st)) ||
        (rc = get_num(obj, "release_ms", 0, &cfg.release_ms, path, p->st)) ||
        (rc = get_num(obj, "makeup_db", 0, &cfg.makeup_db, path, p->st)) ||
        (rc = get_num(obj, "rms_ms", 0, &cfg.rms_ms, path, p->st)) ||
        (rc = get_str(obj, "detector", &det, path, p->st)))
        return rc;
    if (strcmp(det, "peak") != 0 && strcmp(det, "rms") != 0)
        return fail(p->st, path, "detector", "unknown detector \"%s\"; known: peak, rms", det);
    cfg.detector = strcmp(det, "rms") == 0 ? DISCO_DETECT_RMS : DISCO_DETECT_PEAK;
    rc = disco_compressor_new(&cfg, p->c->channels, p->c->rate, &fx->comp, &inner);
    return rc == DISCO_OK ? rc : prefix(p->st, rc, &inner, path);
}

static int parse_reverb(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const char *const keys[] = {"type", "room_size",    "damping", "wet",
                                       "dry",  "pre_delay_ms", NULL};
    disco_reverb_config cfg = disco_reverb_config_default();
    disco_status inner = {0};
    int rc;

    if ((rc = keys_check(obj, keys, path, p->st)) ||
        (rc = get_num(obj, "room_size", 0, &cfg.room_size, path, p->st)) ||
        (rc = get_num(obj, "damping", 0, &cfg.damping, path, p->st)) ||
        (rc = get_num(obj, "wet", 0, &cfg.wet, path, p->st)) ||
        (rc = get_num(obj, "dry", 0, &cfg.dry, path, p->st)) ||
        (rc = get_num(obj, "pre_delay_ms", 0, &cfg.pre_delay_ms, path, p->st)))
        return rc;
    rc = disco_reverb_new(&cfg, p->c->channels, p->c->rate, &fx->rev, &inner);
    return rc == DISCO_OK ? rc : prefix(p->st, rc, &inner, path);
}

/* A delay's "time" note value at "bpm", into cfg->time_ms. */
static int delay_note(const pctx *p, const json_t *obj, const char *path, disco_delay_config *cfg)
{
    const char *note = NULL;
    double bpm = 0.0, sec;
    char field[PATH_MAX_LEN];
    int rc;

    if (json_object_get(obj, "time_ms"))
        return fail(p->st, path, "time_ms", "give either time_ms or time, not both");
    snprintf(field, sizeof field, "%s.time", path);
    if ((rc = get_str(obj, "time", &note, path, p->st)) ||
        (rc = get_num(obj, "bpm", 1, &bpm, path, p->st)))
        return rc;
    if (!(bpm >= 20.0 && bpm <= 400.0))
        return fail(p->st, path, "bpm", "%g out of range 20..400", bpm);
    if ((rc = disco_note_seconds(note, bpm, field, &sec, p->st)))
        return rc;
    if (sec * 1000.0 > 4000.0)
        return fail(p->st, path, "time", "%s at %g bpm is %.0f ms, above 4000 ms", note, bpm,
                    sec * 1000.0);
    cfg->time_ms = sec * 1000.0;
    return DISCO_OK;
}

static int parse_delay(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const char *const keys[] = {"type", "time_ms", "time", "bpm", "feedback", "mix", NULL};
    disco_delay_config cfg = disco_delay_config_default();
    disco_status inner = {0};
    int rc;

    if ((rc = keys_check(obj, keys, path, p->st)) ||
        (rc = get_num(obj, "time_ms", 0, &cfg.time_ms, path, p->st)) ||
        (rc = get_num(obj, "feedback", 0, &cfg.feedback, path, p->st)) ||
        (rc = get_num(obj, "mix", 0, &cfg.mix, path, p->st)))
        return rc;
    if (json_object_get(obj, "time")) {
        if ((rc = delay_note(p, obj, path, &cfg)))
            return rc;
    } else if (json_object_get(obj, "bpm")) {
        return fail(p->st, path, "bpm", "only used with time (a note value such as \"1/8\")");
    }
    rc = disco_delay_new(&cfg, p->c->channels, p->c->rate, &fx->dly, &inner);
    return rc == DISCO_OK ? rc : prefix(p->st, rc, &inner, path);
}

/* gain, pan, width: one required number in a range. */
static int parse_value(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const struct {
        const char *key;
        double lo, hi;
    } spec[] = {[FX_GAIN] = {"gain_db", -60.0, 24.0},
                [FX_PAN] = {"pan", -1.0, 1.0},
                [FX_WIDTH] = {"width", 0.0, 2.0}};
    const char *keys[] = {"type", spec[fx->type].key, NULL};
    disco_status inner = {0};
    int rc;

    if ((rc = keys_check(obj, keys, path, p->st)) ||
        (rc = get_num(obj, keys[1], 1, &fx->value, path, p->st)))
        return rc;
    if ((rc = disco__fx_range(fx->value, spec[fx->type].lo, spec[fx->type].hi, keys[1], &inner)))
        return prefix(p->st, rc, &inner, path);
    if (fx->type != FX_GAIN)
        return need_stereo(p, type_names[fx->type], path);
    return DISCO_OK;
}

static int parse_fade(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    static const char *const keys[] = {"type", "in_s", "out_s", "curve", NULL};
    const char *curve = "linear";
    disco_status inner = {0};
    char field[PATH_MAX_LEN];
    int rc;

    snprintf(field, sizeof field, "%s.curve", path);
    if ((rc = keys_check(obj, keys, path, p->st)) ||
        (rc = get_num(obj, "in_s", 0, &fx->fade_in_s, path, p->st)) ||
        (rc = get_num(obj, "out_s", 0, &fx->fade_out_s, path, p->st)) ||
        (rc = get_str(obj, "curve", &curve, path, p->st)) ||
        (rc = disco_fade_curve_parse(curve, field, &fx->curve, p->st)))
        return rc;
    if ((rc = disco__fx_range(fx->fade_in_s, 0.0, 3600.0, "in_s", &inner)) ||
        (rc = disco__fx_range(fx->fade_out_s, 0.0, 3600.0, "out_s", &inner)))
        return prefix(p->st, rc, &inner, path);
    return DISCO_OK;
}

static int parse_effect(const pctx *p, const json_t *obj, const char *path, fx_node *fx)
{
    const json_t *type = json_object_get(obj, "type");
    const char *name;
    size_t t = 0;

    if (!json_is_object(obj))
        return fail(p->st, path, NULL, "expected an object, got %s", json_kind(obj));
    if (!type)
        return fail(p->st, path, "type", "missing (required)");
    if (!json_is_string(type))
        return fail(p->st, path, "type", "expected a string, got %s", json_kind(type));
    name = json_string_value(type);
    while (t < FX_COUNT && strcmp(type_names[t], name) != 0)
        t++;
    if (t == FX_COUNT)
        return fail(p->st, path, "type",
                    "unknown effect \"%s\"; known: eq, compressor, reverb, delay, gain, pan, "
                    "width, fade",
                    name);
    fx->type = (fx_type)t;
    switch (fx->type) {
    case FX_EQ:
        return parse_eq(p, obj, path, fx);
    case FX_COMPRESSOR:
        return parse_compressor(p, obj, path, fx);
    case FX_REVERB:
        return parse_reverb(p, obj, path, fx);
    case FX_DELAY:
        return parse_delay(p, obj, path, fx);
    case FX_FADE:
        return parse_fade(p, obj, path, fx);
    default:
        return parse_value(p, obj, path, fx);
    }
}

/* --- public -------------------------------------------------------------- */

/* The effects array of `spec` (an array, or an object holding one under "effects"). */
static int effects_of(const json_t *spec, const json_t **arr, disco_status *st)
{
    static const char *const keys[] = {"effects", NULL};
    int rc;

    if (json_is_array(spec)) {
        *arr = spec;
        return DISCO_OK;
    }
    if (!json_is_object(spec))
        return disco_status_set(st, DISCO_ERR_INVAL, "effects",
                                "effects: expected an object with \"effects\" or an array, got %s",
                                spec ? json_kind(spec) : "nothing");
    if ((rc = keys_check(spec, keys, "chain", st)))
        return rc;
    *arr = json_object_get(spec, "effects");
    if (!*arr)
        return fail(st, "effects", NULL, "missing (required)");
    if (!json_is_array(*arr))
        return fail(st, "effects", NULL, "expected an array, got %s", json_kind(*arr));
    return DISCO_OK;
}

int disco_chain_new(const json_t *spec, int channels, int rate, disco_chain **out, disco_status *st)
{
    const json_t *arr = NULL;
    disco_chain *c;
    char path[EFFECT_PATH];
    int rc;

    *out = NULL;
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS || rate < DISCO_AUDIO_MIN_RATE ||
        rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "signal",
                                "signal: %d channels at %d Hz is outside 1..%d channels, %d..%d Hz",
                                channels, rate, DISCO_AUDIO_MAX_CHANNELS, DISCO_AUDIO_MIN_RATE,
                                DISCO_AUDIO_MAX_RATE);
    if ((rc = effects_of(spec, &arr, st)))
        return rc;
    if (json_array_size(arr) > DISCO_CHAIN_MAX)
        return fail(st, "effects", NULL, "%zu effects, at most %d", json_array_size(arr),
                    DISCO_CHAIN_MAX);
    if (!(c = calloc(1, sizeof *c)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "effects", "effects: out of memory");
    c->channels = channels;
    c->rate = rate;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        pctx p = {c, st};

        snprintf(path, sizeof path, "effects[%zu]", i);
        c->n = i + 1;
        if ((rc = parse_effect(&p, json_array_get(arr, i), path, &c->fx[i]))) {
            disco_chain_free(c);
            return rc;
        }
    }
    *out = c;
    return DISCO_OK;
}

int disco_chain_parse(const char *text, size_t len, int channels, int rate, disco_chain **out,
                      disco_status *st)
{
    json_t *spec;
    int rc;

    *out = NULL;
    if ((rc = disco_json_parse(text, len, "effects", &spec, st)) != DISCO_OK)
        return rc;
    rc = disco_chain_new(spec, channels, rate, out, st);
    json_decref(spec);
    return rc;
}

size_t disco_chain_length(const disco_chain *c)
{
    return c->n;
}

static void run_node(fx_node *fx, const disco_chain *c, float *x, size_t n, size_t pos,
                     size_t total)
{
    switch (fx->type) {
    case FX_EQ:
        disco_biquad_process(fx->bands, fx->nbands, x, n);
        break;
    case FX_COMPRESSOR:
        disco_compressor_process(fx->comp, x, n);
        break;
    case FX_REVERB:
        disco_reverb_process(fx->rev, x, n);
        break;
    case FX_DELAY:
        disco_delay_process(fx->dly, x, n);
        break;
    case FX_GAIN:
        disco_gain_apply(x, n, c->channels, fx->value);
        break;
    case FX_PAN:
        disco_pan_apply(x, n, fx->value);
        break;
    case FX_WIDTH:
        disco_width_apply(x, n, fx->value);
        break;
    case FX_FADE:
        disco_fade_apply(x, n, c->channels, pos, total, (size_t)llround(fx->fade_in_s * c->rate),
                         (size_t)llround(fx->fade_out_s * c->rate), fx->curve);
        break;
    case FX_COUNT:
        break;
    }
}

int disco_chain_apply(disco_chain *c, disco_audio *a, disco_status *st)
{
    const size_t C = (size_t)c->channels;

    if (a->channels != c->channels || a->rate != c->rate)
        return disco_status_set(st, DISCO_ERR_INVAL, "signal",
                                "signal: %d channels at %d Hz, the chain was built for %d at %d Hz",
                                a->channels, a->rate, c->channels, c->rate);
    for (size_t s = 0; s < a->frames; s += BLOCK) {
        size_t n = a->frames - s < BLOCK ? a->frames - s : BLOCK;

        for (size_t i = 0; i < c->n; i++)
            run_node(&c->fx[i], c, a->data + s * C, n, s, a->frames);
    }
    return DISCO_OK;
}

void disco_chain_free(disco_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->fx[i].bands);
        disco_compressor_free(c->fx[i].comp);
        disco_reverb_free(c->fx[i].rev);
        disco_delay_free(c->fx[i].dly);
    }
    free(c);
}
