/*
 * tsformat_json.c - the two JSON shapes into a batch.
 *
 *   {"series": [{"metric": "loss", "tags": {"run": "a"},
 *                "points": [[1732168796123, 2.31], ["2026-11-21T06:00:00Z", "NaN"]]}]}
 *
 *   [{"metric": "loss", "tags": {"run": "a"}, "ts": 1732168796123, "value": 2.31}, ...]
 *
 * Rules this parser follows (and tsformat.h promises):
 *   - Syntax errors carry the JSON text's line and column; errors in the
 *     structure name the place: "series 3, point 7: ...", "point 7: ..."
 *     (counted from 1). Duplicate object keys are errors.
 *   - "metric" may be left out when a default metric is given; "tags"
 *     (an object of strings, or null) is laid over the default tags. Other
 *     members are errors, so a misspelt member is not silently dropped.
 *   - ts: an integer of Unix milliseconds (a real with no fraction too), or
 *     a string in ISO 8601 or of Unix milliseconds.
 *   - value: a number (integers beyond 2^53 are rounded to a double), or a
 *     string holding a decimal number or NaN, Inf, -Inf (any case), since
 *     JSON has no literal for those.
 */
#include "tsformat_int.h"

#include "disco/timeutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WHERE_MAX 64

/* Sets INVAL with "<where>: <message>" and returns it. */
static int at(disco__tsformat_ctx *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at(disco__tsformat_ctx *c, const char *where, const char *fmt, ...)
{
    char msg[DISCO_STATUS_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return disco_status_set(c->st, DISCO_ERR_INVAL, "data", "%s: %s", where, msg);
}

/* Puts "<where>: " before the message a callee left; returns `rc`. */
static int rewrap(disco__tsformat_ctx *c, const char *where, int rc)
{
    char msg[DISCO_STATUS_MSG_MAX];

    if (!c->st || rc == DISCO_ERR_NOMEM)
        return rc;
    snprintf(msg, sizeof msg, "%s", c->st->msg);
    return disco_status_set(c->st, rc, "data", "%s: %s", where, msg);
}

/* Every member of `obj` is one of the NULL-terminated `allowed`. */
static int members(disco__tsformat_ctx *c, const char *where, const json_t *obj,
                   const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)obj, key, v) {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return at(c, where, "unknown member '%.64s'", key);
    }
    return DISCO_OK;
}

static int point_ts(disco__tsformat_ctx *c, const char *where, const json_t *v, int64_t *ts)
{
    double d = json_real_value(v);
    int rc;

    if (json_is_integer(v)) {
        *ts = json_integer_value(v);
        return DISCO_OK;
    }
    if (json_is_real(v) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
        *ts = (int64_t)d;
        return DISCO_OK;
    }
    if (json_is_real(v))
        return at(c, where, "ts %.17g: not a whole number of milliseconds", d);
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return at(c, where, "ts must be Unix milliseconds or an ISO 8601 string");
    rc = disco_time_parse(json_string_value(v), "ts", ts, c->st);
    return rc ? rewrap(c, where, rc) : DISCO_OK;
}

static int point_value(disco__tsformat_ctx *c, const char *where, const json_t *v, double *x)
{
    char q[DISCO__TSFORMAT_SHOW_MAX];
    int rc;

    if (json_is_number(v)) {
        *x = json_number_value(v);
        return DISCO_OK;
    }
    if (!json_is_string(v))
        return at(c, where, "value must be a number or \"NaN\", \"Inf\", \"-Inf\"");
    rc = disco__tsformat_number(json_string_value(v), json_string_length(v), 1, x);
    if (rc == 0)
        return DISCO_OK;
    return at(c, where, "value '%s': %s",
              disco__tsformat_show(json_string_value(v), json_string_length(v), q),
              rc == -1   ? "expected a number, NaN, Inf or -Inf"
              : rc == -2 ? "out of range"
                         : "longer than 400 characters");
}

/* The series of `metric` (NULL: the default) and `tags` (NULL: none). */
static int series_of(disco__tsformat_ctx *c, const char *where, const json_t *metric,
                     const json_t *tags, uint32_t *index)
{
    const char *m = metric ? json_string_value(metric) : c->metric;
    json_t *all;
    int rc;

    if (metric && (!m || strlen(m) != json_string_length(metric)))
        return at(c, where, "metric must be a string");
    if (!m)
        return at(c, where, "no metric and no default metric was given");
    if (tags && !json_is_null(tags) && !json_is_object(tags))
        return at(c, where, "tags must be an object of strings");
    all = disco__tsformat_tags_new(c);
    if (!all || (json_is_object(tags) && json_object_update(all, (json_t *)tags) != 0)) {
        json_decref(all);
        return disco__tsformat_nomem(c);
    }
    rc = disco_ts_batch_series(c->out, m, all, index, c->st);
    json_decref(all);
    return rc ? rewrap(c, where, rc) : DISCO_OK;
}

static int add_point(disco__tsformat_ctx *c, const char *where, uint32_t index, const json_t *ts,
                     const json_t *value)
{
    int64_t t;
    double x;
    int rc;

    if ((rc = point_ts(c, where, ts, &t)) != DISCO_OK ||
        (rc = point_value(c, where, value, &x)) != DISCO_OK)
        return rc;
    return disco_ts_batch_add(c->out, index, t, x) ? disco__tsformat_nomem(c) : DISCO_OK;
}

/* ---- {"series": [...]} --------------------------------------------------- */

static int one_series(disco__tsformat_ctx *c, size_t n, const json_t *s)
{
    static const char *const allowed[] = {"metric", "tags", "points", NULL};
    char where[WHERE_MAX];
    const json_t *points = json_object_get(s, "points");
    uint32_t index;
    int rc;

    snprintf(where, sizeof where, "series %zu", n);
    if (!json_is_object(s))
        return at(c, where, "expected an object of metric, tags and points");
    if ((rc = members(c, where, s, allowed)) != DISCO_OK)
        return rc;
    if (!json_is_array(points))
        return at(c, where, "\"points\" must be an array of [ts, value] pairs");
    rc = series_of(c, where, json_object_get(s, "metric"), json_object_get(s, "tags"), &index);
    for (size_t i = 0; i < json_array_size(points) && rc == DISCO_OK; i++) {
        const json_t *p = json_array_get(points, i);
        snprintf(where, sizeof where, "series %zu, point %zu", n, i + 1);
        if (!json_is_array(p) || json_array_size(p) != 2)
            return at(c, where, "expected a [ts, value] pair");
        rc = add_point(c, where, index, json_array_get(p, 0), json_array_get(p, 1));
    }
    return rc;
}

static int series_shape(disco__tsformat_ctx *c, const json_t *root)
{
    static const char *const allowed[] = {"series", NULL};
    const json_t *all = json_object_get(root, "series");
    int rc = members(c, "JSON object", root, allowed);

    if (rc == DISCO_OK && !json_is_array(all))
        rc = at(c, "JSON object", "expected {\"series\": [...]} or an array of points");
    for (size_t i = 0; i < json_array_size(all) && rc == DISCO_OK; i++)
        rc = one_series(c, i + 1, json_array_get(all, i));
    return rc;
}

/* ---- [{"metric", "tags", "ts", "value"}, ...] ------------------------------ */

/* The last point's series, to skip the lookup for runs of the same one. */
typedef struct last_series {
    const json_t *metric, *tags;
    uint32_t index;
    int valid;
} last_series;

static int same_json(const json_t *a, const json_t *b)
{
    return a == b || (a && b && json_equal(a, b));
}

static int same_series(const last_series *last, const json_t *metric, const json_t *tags)
{
    return last->valid && same_json(last->metric, metric) && same_json(last->tags, tags);
}

static int one_point(disco__tsformat_ctx *c, size_t n, const json_t *p, last_series *last)
{
    static const char *const allowed[] = {"metric", "tags", "ts", "value", NULL};
    const json_t *metric = json_object_get(p, "metric"), *tags = json_object_get(p, "tags");
    char where[WHERE_MAX];
    int rc;

    snprintf(where, sizeof where, "point %zu", n);
    if (!json_is_object(p))
        return at(c, where, "expected an object of metric, tags, ts and value");
    if ((rc = members(c, where, p, allowed)) != DISCO_OK)
        return rc;
    if (!json_object_get(p, "ts") || !json_object_get(p, "value"))
        return at(c, where, "\"ts\" and \"value\" are required");
    if (!same_series(last, metric, tags)) {
        last->valid = 0;
        if ((rc = series_of(c, where, metric, tags, &last->index)) != DISCO_OK)
            return rc;
        *last = (last_series){metric, tags, last->index, 1};
    }
    return add_point(c, where, last->index, json_object_get(p, "ts"), json_object_get(p, "value"));
}

static int points_shape(disco__tsformat_ctx *c, const json_t *root)
{
    last_series last = {0};
    int rc = DISCO_OK;

    for (size_t i = 0; i < json_array_size(root) && rc == DISCO_OK; i++)
        rc = one_point(c, i + 1, json_array_get(root, i), &last);
    return rc;
}

int disco__tsformat_parse_json(disco__tsformat_ctx *c)
{
    json_error_t err;
    json_t *root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &err);
    int rc;

    if (!root) {
        for (char *p = err.text; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7F)
                *p = '?';
        if (err.line > 0)
            return disco_status_set(c->st, DISCO_ERR_INVAL, "data", "line %d, column %d: %s",
                                    err.line, err.column, err.text);
        return disco_status_set(c->st, DISCO_ERR_INVAL, "data", "JSON: %s", err.text);
    }
    rc = json_is_object(root) ? series_shape(c, root) : points_shape(c, root);
    json_decref(root);
    return rc;
}
