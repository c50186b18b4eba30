/*
 * validate.c - checking and converting parameters against an op's schema.
 *
 * Adapters hand over raw values: typed JSON from HTTP bodies, strings from
 * the command line. Each type has one converter that accepts both forms, so
 * "--top-k ten" and {"top_k": "ten"} fail with the same message.
 */
#include "ops_int.h"

#include "disco/hash.h"
#include "disco/id.h"
#include "disco/json.h"
#include "disco/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void disco__json_brief(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        int n = (int)strlen(s);
        if (n > 40)
            snprintf(buf, size, "\"%.40s...\"", s);
        else
            snprintf(buf, size, "\"%s\"", s);
    } else if (json_is_object(v)) {
        snprintf(buf, size, "an object");
    } else if (json_is_array(v)) {
        snprintf(buf, size, "a list");
    } else {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(buf, size, "%s", text ? text : "?");
        free(text);
    }
}

static void range_text(const disco_param *p, char *buf, size_t size)
{
    if (p->type == DISCO_P_INT)
        snprintf(buf, size, " in %.0f..%.0f", p->min, p->max);
    else
        snprintf(buf, size, " in %g..%g", p->min, p->max);
}

/* "must be <expectation>, got <value>" for parameter p. */
static int expect_err(const disco_param *p, const json_t *got, const char *expectation,
                      disco_status *st)
{
    char brief[64], range[64] = "";

    disco__json_brief(got, brief, sizeof brief);
    if (p->flags & DISCO_PARAM_RANGE)
        range_text(p, range, sizeof range);
    return disco_status_set(st, DISCO_ERR_INVAL, p->name, "param '%s': must be %s%s, got %s",
                            p->name, expectation, range, brief);
}

static int param_err(const disco_param *p, disco_status *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int param_err(const disco_param *p, disco_status *st, const char *fmt, ...)
{
    char detail[DISCO_STATUS_MSG_MAX - 80];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return disco_status_set(st, DISCO_ERR_INVAL, p->name, "param '%s': %s", p->name, detail);
}

/* Re-labels a message from a lower layer as being about parameter p. */
static int relabel(const disco_param *p, int rc, disco_status *st)
{
    char msg[DISCO_STATUS_MSG_MAX];

    if (!st)
        return rc;
    snprintf(msg, sizeof msg, "%s", st->msg);
    return disco_status_set(st, rc, p->name, "param '%s': %s", p->name, msg);
}

static int in_range(const disco_param *p, double x)
{
    return !(p->flags & DISCO_PARAM_RANGE) || (x >= p->min && x <= p->max);
}

static int convert_int(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    long long x = 0;
    int ok = 0;

    if (json_is_integer(v)) {
        x = json_integer_value(v);
        ok = 1;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        ok = d == floor(d) && fabs(d) < 9.0e15;
        x = ok ? (long long)d : 0;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        x = strtoll(s, &end, 10);
        ok = *s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0;
    }
    if (!ok)
        return expect_err(p, v, "an integer", st);
    if (!in_range(p, (double)x)) {
        json_t *num = json_integer(x);
        int rc = expect_err(p, num, "an integer", st);
        json_decref(num);
        return rc;
    }
    *out = json_integer(x);
    return DISCO_OK;
}

static int convert_number(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    double x = 0;
    int ok = 0;

    if (json_is_number(v)) {
        x = json_number_value(v);
        ok = 1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        x = strtod(s, &end);
        ok = *s && !isspace((unsigned char)*s) && *end == '\0' && errno == 0 && isfinite(x);
    }
    if (!ok)
        return expect_err(p, v, "a number", st);
    *out = json_real(x);
    if (!in_range(p, x)) {
        int rc = expect_err(p, *out, "a number", st);
        json_decref(*out);
        *out = NULL;
        return rc;
    }
    return DISCO_OK;
}

static int convert_bool(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    static const char *const yes[] = {"true", "yes", "on", "1", NULL};
    static const char *const no[] = {"false", "no", "off", "0", NULL};

    if (json_is_boolean(v)) {
        *out = json_boolean(json_is_true(v));
        return DISCO_OK;
    }
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        *out = json_boolean(json_integer_value(v));
        return DISCO_OK;
    }
    for (int i = 0; json_is_string(v) && yes[i]; i++) {
        if (strcasecmp(json_string_value(v), yes[i]) == 0) {
            *out = json_true();
            return DISCO_OK;
        }
        if (strcasecmp(json_string_value(v), no[i]) == 0) {
            *out = json_false();
            return DISCO_OK;
        }
    }
    return expect_err(p, v, "true or false", st);
}

static int convert_string(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    const char *s = json_string_value(v);

    if (!s)
        return expect_err(p, v, "a string", st);
    if (!*s)
        return param_err(p, st, "must not be empty");
    if (p->choices) {
        char list[256] = "";
        for (int i = 0; p->choices[i]; i++) {
            if (strcmp(s, p->choices[i]) == 0) {
                *out = json_string(s);
                return DISCO_OK;
            }
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     p->choices[i]);
        }
        char expectation[300];
        snprintf(expectation, sizeof expectation, "one of %s", list);
        return expect_err(p, v, expectation, st);
    }
    *out = json_string(s);
    return DISCO_OK;
}

/* Upper-cases ids and lower-cases hashes so lookups match however typed. */
static void normalise_case(char *s, int upper)
{
    for (; *s; s++)
        *s = (char)(upper ? toupper((unsigned char)*s) : tolower((unsigned char)*s));
}

static int convert_ident(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    int is_id = p->type == DISCO_P_ID || p->type == DISCO_P_IDS;
    char what[96], buf[128];
    int rc;

    if (!json_is_string(v))
        return expect_err(p, v, is_id ? "a resource id" : "an object hash", st);
    snprintf(buf, sizeof buf, "%s", json_string_value(v));
    normalise_case(buf, is_id);
    snprintf(what, sizeof what, "param '%s'", p->name);
    rc = is_id ? disco_id_check(buf, what, st) : disco_hash_check(buf, what, st);
    if (rc != DISCO_OK) {
        if (st)
            snprintf(st->field, sizeof st->field, "%s", p->name);
        return rc;
    }
    *out = json_string(buf);
    return DISCO_OK;
}

/* Splits "a, b,c" into trimmed, non-empty words appended to `arr`. */
static void split_commas(const char *s, json_t *arr)
{
    while (*s) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        while (n && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (n)
            json_array_append_new(arr, json_stringn(s, n));
        s = end ? end + 1 : s + strlen(s);
    }
}

/* Flattens a raw list value (string, or array of strings) into words. */
static int list_words(const disco_param *p, const json_t *v, json_t *words, disco_status *st)
{
    size_t i;
    json_t *item;

    if (json_is_string(v)) {
        split_commas(json_string_value(v), words);
        return DISCO_OK;
    }
    if (!json_is_array(v))
        return expect_err(p, v, "a list of strings", st);
    json_array_foreach (v, i, item) {
        if (!json_is_string(item))
            return expect_err(p, item, "a list of strings", st);
        split_commas(json_string_value(item), words);
    }
    return DISCO_OK;
}

static int convert_list(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    json_t *words = json_array(), *item;
    size_t i;
    int rc = list_words(p, v, words, st);

    for (i = 0; rc == DISCO_OK && p->type != DISCO_P_STRINGS && i < json_array_size(words); i++) {
        rc = convert_ident(p, json_array_get(words, i), &item, st);
        if (rc == DISCO_OK)
            json_array_set_new(words, i, item);
    }
    if (rc != DISCO_OK) {
        json_decref(words);
        return rc;
    }
    *out = words;
    return DISCO_OK;
}

static int add_tag_pair(const disco_param *p, const char *pair, json_t *tags, disco_status *st)
{
    const char *eq = strchr(pair, '=');

    if (!eq || eq == pair)
        return param_err(p, st, "expected key=value, got \"%s\"", pair);
    char key[DISCO_TAG_KEY_MAX + 2];
    size_t n = (size_t)(eq - pair);
    if (n >= sizeof key)
        return param_err(p, st, "tag key \"%.*s...\" is longer than %d characters", 16, pair,
                         DISCO_TAG_KEY_MAX);
    memcpy(key, pair, n);
    key[n] = '\0';
    json_object_set_new(tags, key, json_string(eq + 1));
    return DISCO_OK;
}

static int convert_tags(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    json_t *tags, *words;
    size_t i;
    int rc;

    if (json_is_object(v)) {
        tags = json_deep_copy(v);
    } else {
        tags = json_object();
        words = json_array();
        rc = list_words(p, v, words, st);
        for (i = 0; rc == DISCO_OK && i < json_array_size(words); i++)
            rc = add_tag_pair(p, json_string_value(json_array_get(words, i)), tags, st);
        json_decref(words);
        if (rc != DISCO_OK) {
            json_decref(tags);
            return rc;
        }
    }
    rc = disco_catalog_check_tags(tags, st);
    if (rc != DISCO_OK) {
        json_decref(tags);
        return relabel(p, rc, st);
    }
    *out = tags;
    return DISCO_OK;
}

static int convert_object(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    const char *s = json_string_value(v);
    char what[96];
    int rc;

    snprintf(what, sizeof what, "param '%s'", p->name);
    if (json_is_object(v)) {
        if (disco_json_depth(v) > DISCO_JSON_MAX_DEPTH)
            return param_err(p, st, "nested deeper than %d levels", DISCO_JSON_MAX_DEPTH);
        *out = json_deep_copy(v);
        return DISCO_OK;
    }
    if (!s)
        return expect_err(p, v, "a JSON object", st);
    if (s[0] == '@') {
        rc = disco_json_load_file(s + 1, DISCO_METADATA_MAX, out, st);
        if (rc == DISCO_OK && !json_is_object(*out)) {
            json_decref(*out);
            return param_err(p, st, "file %s does not hold a JSON object", s + 1);
        }
        return rc == DISCO_OK ? rc : relabel(p, rc, st);
    }
    rc = disco_json_parse_object(s, strlen(s), what, out, st);
    if (rc != DISCO_OK && st)
        snprintf(st->field, sizeof st->field, "%s", p->name);
    return rc;
}

/* Any JSON value; text from the command line is parsed (or read with @FILE). */
static int convert_json(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    const char *s = json_string_value(v);
    char what[96];
    int rc;

    if (!s) {
        if (disco_json_depth(v) > DISCO_JSON_MAX_DEPTH)
            return param_err(p, st, "nested deeper than %d levels", DISCO_JSON_MAX_DEPTH);
        *out = json_deep_copy(v);
        return DISCO_OK;
    }
    snprintf(what, sizeof what, "param '%s'", p->name);
    if (s[0] == '@')
        rc = disco_json_load_file(s + 1, (size_t)64 << 20, out, st);
    else
        rc = disco_json_parse(s, strlen(s), what, out, st);
    if (rc != DISCO_OK && st)
        snprintf(st->field, sizeof st->field, "%s", p->name);
    /* A string value would be read as JSON text again: ask for structure. */
    if (rc == DISCO_OK && json_is_string(*out)) {
        json_decref(*out);
        *out = NULL;
        return param_err(p, st, "must be a JSON list, object, number or boolean");
    }
    return rc;
}

static int convert_time(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    char what[96];
    int64_t ms;
    int rc;

    if (json_is_integer(v)) {
        *out = json_integer(json_integer_value(v));
        return DISCO_OK;
    }
    if (!json_is_string(v))
        return expect_err(p, v, "a time (ISO 8601 or Unix milliseconds)", st);
    snprintf(what, sizeof what, "param '%s'", p->name);
    rc = disco_time_parse(json_string_value(v), what, &ms, st);
    if (rc != DISCO_OK) {
        if (st)
            snprintf(st->field, sizeof st->field, "%s", p->name);
        return rc;
    }
    *out = json_integer(ms);
    return DISCO_OK;
}

static int convert(const disco_param *p, const json_t *v, json_t **out, disco_status *st)
{
    switch (p->type) {
    case DISCO_P_INT:
        return convert_int(p, v, out, st);
    case DISCO_P_NUMBER:
        return convert_number(p, v, out, st);
    case DISCO_P_BOOL:
        return convert_bool(p, v, out, st);
    case DISCO_P_STRING:
    case DISCO_P_PATH:
        return convert_string(p, v, out, st);
    case DISCO_P_STRINGS:
    case DISCO_P_IDS:
    case DISCO_P_HASHES:
        return convert_list(p, v, out, st);
    case DISCO_P_TAGS:
        return convert_tags(p, v, out, st);
    case DISCO_P_OBJECT:
        return convert_object(p, v, out, st);
    case DISCO_P_ID:
    case DISCO_P_HASH:
        return convert_ident(p, v, out, st);
    case DISCO_P_TIME:
        return convert_time(p, v, out, st);
    case DISCO_P_JSON:
        return convert_json(p, v, out, st);
    }
    return disco_status_set(st, DISCO_ERR_INTERNAL, p->name, "param '%s': unknown type", p->name);
}

int disco__param_from_string(const disco_param *p, const char *s, json_t **out, disco_status *st)
{
    json_t *v = json_string(s);
    int rc;

    if (!v)
        return param_err(p, st, "must be valid UTF-8 text");
    rc = convert(p, v, out, st);
    json_decref(v);
    return rc;
}

static int set_defaults(const disco_op *op, json_t *params, disco_status *st)
{
    for (const disco_param *p = op->params; p && p->name; p++) {
        if (json_object_get(params, p->name))
            continue;
        if (p->flags & DISCO_PARAM_REQUIRED)
            return disco_status_set(st, DISCO_ERR_INVAL, p->name, "param '%s': required by %s (%s)",
                                    p->name, op->name,
                                    p->help ? p->help : disco_ptype_name(p->type));
        if (p->def) {
            json_t *def = json_loads(p->def, JSON_DECODE_ANY, NULL);
            DISCO_ASSERT(def != NULL);
            json_object_set_new(params, p->name, def);
        }
    }
    return DISCO_OK;
}

int disco_ops_validate(const disco_op *op, const json_t *raw, json_t **params, disco_status *st)
{
    json_t *out, *value, *conv;
    const char *key;
    int rc = DISCO_OK;

    if (raw && !json_is_object(raw))
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "parameters of %s must be a JSON object",
                                op->name);
    out = json_object();
    if (!out)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    json_object_foreach ((json_t *)raw, key, value) {
        const disco_param *p = disco_ops_param(op, key);
        if (!p) {
            rc = disco_status_set(st, DISCO_ERR_INVAL, key, "param '%s': unknown parameter of %s",
                                  key, op->name);
            break;
        }
        if (json_is_null(value))
            continue;
        rc = convert(p, value, &conv, st);
        if (rc != DISCO_OK)
            break;
        json_object_set_new(out, p->name, conv);
    }
    if (rc == DISCO_OK)
        rc = set_defaults(op, out, st);
    if (rc != DISCO_OK) {
        json_decref(out);
        return rc;
    }
    *params = out;
    return DISCO_OK;
}
