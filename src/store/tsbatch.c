/*
 * tsbatch.c - batches of samples, series names and tags checked once.
 */
#include "disco/tsbatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int disco_ts_batch_init(disco_ts_batch *b)
{
    memset(b, 0, sizeof *b);
    b->series = json_array();
    b->index = json_object();
    if (!b->series || !b->index) {
        disco_ts_batch_release(b);
        return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

void disco_ts_batch_release(disco_ts_batch *b)
{
    json_decref(b->series);
    json_decref(b->index);
    free(b->samples);
    memset(b, 0, sizeof *b);
}

void disco_ts_batch_clear(disco_ts_batch *b)
{
    json_array_clear(b->series);
    json_object_clear(b->index);
    b->count = 0;
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int disco_ts_check_metric(const char *m, disco_status *st)
{
    size_t n = m ? strlen(m) : 0;

    if (n == 0 || n > DISCO_TS_METRIC_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric",
                                "metric '%.64s': must be 1..%d characters", m ? m : "",
                                DISCO_TS_METRIC_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = m[i];
        int ok = is_alpha(c) || c == ':' || (i > 0 && (is_digit(c) || c == '.' || c == '-'));
        if (!ok)
            return disco_status_set(st, DISCO_ERR_INVAL, "metric",
                                    "metric '%.64s': character %zu ('%c') is not allowed "
                                    "(use [A-Za-z_:][A-Za-z0-9_:.-]*)",
                                    m, i + 1, c >= 32 && c < 127 ? c : '?');
    }
    return DISCO_OK;
}

static int check_tag_key(const char *k, disco_status *st)
{
    size_t n = strlen(k);

    if (n == 0 || n > DISCO_TS_TAG_KEY_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tag key '%.64s': must be 1..%d characters", k,
                                DISCO_TS_TAG_KEY_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!(is_alpha(c) || (i > 0 && (is_digit(c) || c == '.' || c == '-'))))
            return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                    "tag key '%.64s': use [A-Za-z_][A-Za-z0-9_.-]*", k);
    }
    /* Reserved: they name the columns of CSV import and export. */
    if (strcasecmp(k, "metric") == 0 || strcasecmp(k, "ts") == 0 || strcasecmp(k, "value") == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tag key '%s' is reserved (metric, ts and value name CSV columns)",
                                k);
    return DISCO_OK;
}

static int check_tag_value(const char *k, const json_t *v, disco_status *st)
{
    const char *s = json_string_value(v);

    if (!s)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "tag '%.64s': value must be a string",
                                k);
    if (json_string_length(v) > DISCO_TS_TAG_VALUE_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tag '%.64s': value longer than %d bytes", k,
                                DISCO_TS_TAG_VALUE_MAX);
    for (size_t i = 0; i < json_string_length(v); i++)
        if ((unsigned char)s[i] < 32 || s[i] == 127)
            return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                    "tag '%.64s': value holds a control character", k);
    return DISCO_OK;
}

int disco_ts_check_tags(const json_t *tags, disco_status *st)
{
    const char *k;
    json_t *v;
    int rc;

    if (!tags)
        return DISCO_OK;
    if (!json_is_object(tags))
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "tags must be an object of strings");
    if (json_object_size(tags) > DISCO_TS_TAGS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags", "more than %d tags on one series",
                                DISCO_TS_TAGS_MAX);
    json_object_foreach ((json_t *)tags, k, v) {
        if ((rc = check_tag_key(k, st)) || (rc = check_tag_value(k, v, st)))
            return rc;
    }
    return DISCO_OK;
}

/* Appends `s` to the growing key text, escaping '"' and '\'. */
static int key_append(char **buf, size_t *len, size_t *cap, const char *s, int escape)
{
    for (; *s; s++) {
        if (*len + 3 > *cap) {
            size_t ncap = *cap ? *cap * 2 : 128;
            char *nb = realloc(*buf, ncap);
            if (!nb)
                return -1;
            *buf = nb;
            *cap = ncap;
        }
        if (escape && (*s == '"' || *s == '\\'))
            (*buf)[(*len)++] = '\\';
        (*buf)[(*len)++] = *s;
    }
    (*buf)[*len] = '\0';
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *disco_ts_series_key(const char *metric, const json_t *tags)
{
    const char *keys[DISCO_TS_TAGS_MAX], *k;
    size_t nk = 0, len = 0, cap = 0;
    char *buf = NULL;
    json_t *v;
    int bad = key_append(&buf, &len, &cap, metric, 0) || key_append(&buf, &len, &cap, "{", 0);

    json_object_foreach ((json_t *)tags, k, v) {
        if (nk < DISCO_TS_TAGS_MAX)
            keys[nk++] = k;
    }
    qsort(keys, nk, sizeof keys[0], cmp_str);
    for (size_t i = 0; i < nk && !bad; i++) {
        bad = key_append(&buf, &len, &cap, i ? ",\"" : "\"", 0) ||
              key_append(&buf, &len, &cap, keys[i], 1) ||
              key_append(&buf, &len, &cap, "\"=\"", 0) ||
              key_append(&buf, &len, &cap, json_string_value(json_object_get(tags, keys[i])), 1) ||
              key_append(&buf, &len, &cap, "\"", 0);
    }
    if (bad || key_append(&buf, &len, &cap, "}", 0)) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int add_series(disco_ts_batch *b, const char *metric, const json_t *tags, const char *key,
                      uint32_t *index)
{
    json_t *copy = tags ? json_deep_copy(tags) : json_object();
    json_t *entry = json_pack("{s:s, s:o}", "metric", metric, "tags", copy);

    if (!entry || json_array_append_new(b->series, entry) != 0)
        return DISCO_ERR_NOMEM;
    *index = (uint32_t)(json_array_size(b->series) - 1);
    if (json_object_set_new(b->index, key, json_integer(*index)) != 0) {
        json_array_remove(b->series, *index);
        return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

int disco_ts_batch_series(disco_ts_batch *b, const char *metric, const json_t *tags,
                          uint32_t *index, disco_status *st)
{
    char *key;
    json_t *found;
    int rc;

    if ((rc = disco_ts_check_metric(metric, st)) || (rc = disco_ts_check_tags(tags, st)))
        return rc;
    key = disco_ts_series_key(metric, tags);
    if (!key)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    found = json_object_get(b->index, key);
    if (found) {
        *index = (uint32_t)json_integer_value(found);
        rc = DISCO_OK;
    } else {
        rc = add_series(b, metric, tags, key, index);
        if (rc != DISCO_OK)
            disco_status_set(st, rc, NULL, "out of memory");
    }
    free(key);
    return rc;
}

int disco_ts_batch_add(disco_ts_batch *b, uint32_t index, int64_t ts, double value)
{
    if (b->count == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 1024;
        disco_ts_sample *ns = realloc(b->samples, ncap * sizeof *ns);
        if (!ns)
            return DISCO_ERR_NOMEM;
        b->samples = ns;
        b->cap = ncap;
    }
    b->samples[b->count++] = (disco_ts_sample){index, ts, value};
    return DISCO_OK;
}
