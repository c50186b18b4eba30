/*
 * tsformat_export.c - the CSV export writer (disco_tscsv_*).
 *
 *   metric,<tag keys in the given order>,ts,value
 *   loss,a,train,2026-11-21T05:59:56.000Z,2.31
 *
 * What it writes reads back through the CSV parser to the same batch:
 *   - cells holding ',', '"', CR or LF are quoted, '"' doubled;
 *   - a tag the series lacks is an empty cell (so an empty tag value also
 *     reads back as no tag);
 *   - ts in ISO 8601 with milliseconds, or in Unix milliseconds when asked
 *     or when the time falls outside the years 0000..9999;
 *   - values as the shortest of "%.15g", "%.16g", "%.17g" that reads back
 *     to the same double (so 0.1 stays "0.1", and -0.0 is "-0"); non-finite
 *     values as NaN, Inf, -Inf (a NaN's sign and payload are not kept).
 */
#include "disco/timeutil.h"
#include "disco/tsformat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ISO_MIN_MS INT64_C(-62167219200000) /* 0000-01-01T00:00:00.000Z */
#define ISO_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

/* A growing text buffer for a row's fixed part. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static int text_add(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t ncap = t->cap ? t->cap : 128;
        char *ns;
        while (ncap < t->len + n + 1)
            ncap *= 2;
        if (!(ns = realloc(t->s, ncap)))
            return -1;
        t->s = ns;
        t->cap = ncap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
    return 0;
}

/* Appends `s` as one CSV cell, quoted when it must be. */
static int text_cell(text *t, const char *s)
{
    int bad;

    if (!s[strcspn(s, ",\"\r\n")])
        return text_add(t, s, strlen(s));
    bad = text_add(t, "\"", 1);
    for (const char *q; !bad && (q = strchr(s, '"')) != NULL; s = q + 1)
        bad = text_add(t, s, (size_t)(q - s) + 1) || text_add(t, "\"", 1);
    return bad || text_add(t, s, strlen(s)) || text_add(t, "\"", 1) ? -1 : 0;
}

static int reserved(const char *key)
{
    return strcasecmp(key, "metric") == 0 || strcasecmp(key, "ts") == 0 ||
           strcasecmp(key, "value") == 0;
}

/* Tag keys must be distinct strings other than metric, ts and value. */
static int check_keys(const json_t *keys)
{
    if (!json_is_array(keys))
        return DISCO_ERR_INVAL;
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const char *k = json_string_value(json_array_get(keys, i));
        if (!k || !*k || reserved(k))
            return DISCO_ERR_INVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, json_string_value(json_array_get(keys, j))) == 0)
                return DISCO_ERR_INVAL;
    }
    return DISCO_OK;
}

int disco_tscsv_begin(disco_tscsv_writer *w, FILE *out, const json_t *tag_keys, int iso_time)
{
    text t = {0};
    int bad;

    memset(w, 0, sizeof *w);
    if (!out || (tag_keys && check_keys(tag_keys) != DISCO_OK))
        return DISCO_ERR_INVAL;
    w->keys = tag_keys ? json_deep_copy(tag_keys) : json_array();
    if (!w->keys)
        return DISCO_ERR_NOMEM;
    w->out = out;
    w->iso_time = iso_time;
    bad = text_add(&t, "metric", 6);
    for (size_t i = 0; i < json_array_size(w->keys) && !bad; i++)
        bad = text_add(&t, ",", 1) || text_cell(&t, json_string_value(json_array_get(w->keys, i)));
    bad = bad || text_add(&t, ",ts,value\n", 10);
    if (!bad && fwrite(t.s, 1, t.len, out) != t.len)
        bad = 2;
    free(t.s);
    if (bad)
        disco_tscsv_end(w);
    return bad == 2 ? DISCO_ERR_IO : bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

/* "metric,tag cells," of a series; INVAL when it has a tag the header lacks. */
static int row_prefix(const disco_tscsv_writer *w, const char *metric, const json_t *tags, text *t)
{
    size_t known = 0;
    int bad;

    if (!metric || (tags && !json_is_object(tags)))
        return DISCO_ERR_INVAL;
    bad = text_cell(t, metric) || text_add(t, ",", 1);
    for (size_t i = 0; i < json_array_size(w->keys) && !bad; i++) {
        json_t *v = json_object_get(tags, json_string_value(json_array_get(w->keys, i)));
        if (v && !json_is_string(v))
            return DISCO_ERR_INVAL;
        known += v != NULL;
        bad = (v && text_cell(t, json_string_value(v))) || text_add(t, ",", 1);
    }
    if (bad)
        return DISCO_ERR_NOMEM;
    return known == json_object_size(tags) ? DISCO_OK : DISCO_ERR_INVAL;
}

static void format_value(double v, char buf[40])
{
    if (isnan(v)) {
        strcpy(buf, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(buf, v > 0 ? "Inf" : "-Inf");
        return;
    }
    for (int digits = 15; digits < 17; digits++) {
        snprintf(buf, 40, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            return;
    }
    snprintf(buf, 40, "%.17g", v);
}

static int write_row(const disco_tscsv_writer *w, const text *prefix, int64_t ts, double v)
{
    char tbuf[DISCO_TIME_ISO_MAX], vbuf[40];

    if (w->iso_time && ts >= ISO_MIN_MS && ts <= ISO_MAX_MS)
        disco_time_format_iso(ts, tbuf);
    else
        snprintf(tbuf, sizeof tbuf, "%lld", (long long)ts);
    format_value(v, vbuf);
    return fprintf(w->out, "%s%s,%s\n", prefix->s, tbuf, vbuf) < 0 ? -1 : 0;
}

int disco_tscsv_rows(disco_tscsv_writer *w, const char *metric, const json_t *tags,
                     const int64_t *ts, const double *v, size_t n)
{
    text prefix = {0};
    int rc;

    if (!w->out || !w->keys || (n && (!ts || !v)))
        return DISCO_ERR_INVAL;
    rc = row_prefix(w, metric, tags, &prefix);
    for (size_t i = 0; i < n && rc == DISCO_OK; i++)
        if (write_row(w, &prefix, ts[i], v[i]) != 0)
            rc = DISCO_ERR_IO;
    if (rc == DISCO_OK && ferror(w->out))
        rc = DISCO_ERR_IO;
    free(prefix.s);
    return rc;
}

void disco_tscsv_end(disco_tscsv_writer *w)
{
    json_decref(w->keys);
    w->keys = NULL;
    w->out = NULL;
}
