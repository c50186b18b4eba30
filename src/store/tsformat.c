/*
 * tsformat.c - ingest formats of the time-series store: dispatch, options,
 * all-or-nothing rollback, positioned errors, numbers and the series cache
 * that the parsers in tsformat_{json,csv,line}.c share (see tsformat_int.h).
 *
 * Numbers: decimal text is converted with the exact fast path of Clinger
 * (at most 19 significant digits forming an integer below 2^53, scaled by a
 * power of ten up to 10^22: one correctly rounded IEEE operation) and falls
 * back to strtod() otherwise, so every number is read correctly rounded and
 * "%.17g" output reads back bit for bit.
 */
#include "tsformat_int.h"

#include "disco/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_PER_MS INT64_C(1000000)

struct disco__tsformat_slot {
    uint64_t hash; /* 0: empty */
    size_t off;    /* of the key in the cache's bytes */
    size_t na, nb; /* lengths of the key's two parts */
    uint32_t series;
};

int disco_tsformat_parse_name(const char *name, disco_ts_format *f, disco_status *st)
{
    if (name && strcasecmp(name, "json") == 0)
        *f = DISCO_TSF_JSON;
    else if (name && strcasecmp(name, "csv") == 0)
        *f = DISCO_TSF_CSV;
    else if (name && (strcasecmp(name, "line") == 0 || strcasecmp(name, "influx") == 0))
        *f = DISCO_TSF_LINE;
    else
        return disco_status_set(st, DISCO_ERR_INVAL, "format",
                                "format '%.64s': expected json, csv or line (influx)",
                                name ? name : "");
    return DISCO_OK;
}

/* ---- errors -------------------------------------------------------------- */

static void locate(const char *text, size_t off, size_t *line, size_t *col)
{
    const char *p = text, *end = text + off, *start = text;
    size_t n = 1;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        start = ++p;
    }
    *line = n;
    *col = (size_t)(end - start) + 1;
}

int disco__tsformat_fail(disco__tsformat_ctx *c, size_t off, const char *fmt, ...)
{
    char msg[DISCO_STATUS_MSG_MAX];
    size_t line, col;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    locate(c->text, off, &line, &col);
    return disco_status_set(c->st, DISCO_ERR_INVAL, "data", "line %zu, column %zu: %s", line, col,
                            msg);
}

int disco__tsformat_wrap(disco__tsformat_ctx *c, size_t off, int rc)
{
    char msg[DISCO_STATUS_MSG_MAX], field[DISCO_STATUS_FIELD_MAX];
    size_t line, col;

    if (!c->st || rc == DISCO_ERR_NOMEM)
        return rc;
    snprintf(msg, sizeof msg, "%s", c->st->msg);
    snprintf(field, sizeof field, "%s", c->st->field);
    locate(c->text, off, &line, &col);
    return disco_status_set(c->st, rc, field, "line %zu, column %zu: %s", line, col, msg);
}

const char *disco__tsformat_show(const char *s, size_t n, char buf[DISCO__TSFORMAT_SHOW_MAX])
{
    size_t k = n > 64 ? 64 : n;

    for (size_t i = 0; i < k; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    strcpy(buf + k, n > k ? "..." : "");
    return buf;
}

int disco__tsformat_nomem(disco__tsformat_ctx *c)
{
    return disco_status_set(c->st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

/* ---- numbers ------------------------------------------------------------- */

/* Decimal text taken apart: significand digits (while they fit) and exponent. */
struct decimal {
    uint64_t m;
    int exact; /* m holds every significant digit */
    long exp10;
    int neg;
};

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static void take_digit(struct decimal *d, char ch, int fraction)
{
    if (d->exact && d->m <= (UINT64_MAX - 9) / 10) {
        d->m = d->m * 10 + (uint64_t)(ch - '0');
        d->exp10 -= fraction;
    } else if (ch != '0' || !fraction) {
        d->exact = 0; /* trailing fraction zeros change nothing */
        d->exp10 += !fraction;
    }
}

/* Reads "(e|E)[+-]digits" at s[*i]; 0, or -1 when malformed. */
static int scan_exponent(const char *s, size_t n, size_t *i, struct decimal *d)
{
    long e = 0;
    int neg = 0, nd = 0;

    if (*i >= n || (s[*i] != 'e' && s[*i] != 'E'))
        return 0;
    if (++*i < n && (s[*i] == '+' || s[*i] == '-'))
        neg = s[(*i)++] == '-';
    for (; *i < n && is_digit(s[*i]); (*i)++, nd++)
        if (e < 100000)
            e = e * 10 + (s[*i] - '0');
    d->exp10 += neg ? -e : e;
    return nd ? 0 : -1;
}

static int scan_decimal(const char *s, size_t n, struct decimal *d)
{
    size_t i = 0;
    int nd = 0;

    memset(d, 0, sizeof *d);
    d->exact = 1;
    if (n && (s[0] == '+' || s[0] == '-'))
        d->neg = s[i++] == '-';
    for (; i < n && is_digit(s[i]); i++, nd++)
        take_digit(d, s[i], 0);
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++, nd++)
            take_digit(d, s[i], 1);
    if (nd == 0 || scan_exponent(s, n, &i, d) != 0)
        return -1;
    return i == n ? 0 : -1;
}

/* s[0..n) is `word` (lower case) in any case; s need not end in a NUL. */
static int is_word(const char *s, size_t n, const char *word)
{
    size_t i = 0;

    for (; i < n && word[i]; i++)
        if ((s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]) != word[i])
            return 0;
    return i == n && !word[i];
}

static int special_word(const char *s, size_t n, double *v)
{
    int neg = 0;

    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    if (is_word(s, n, "nan"))
        *v = NAN;
    else if (is_word(s, n, "inf") || is_word(s, n, "infinity"))
        *v = neg ? -INFINITY : INFINITY;
    else
        return -1;
    return 0;
}

static int slow_number(const char *s, size_t n, double *v)
{
    char buf[DISCO__TSFORMAT_NUMBER_MAX + 1];

    if (n > DISCO__TSFORMAT_NUMBER_MAX)
        return -3;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    return isinf(*v) ? -2 : 0;
}

int disco__tsformat_number(const char *s, size_t n, int words, double *v)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    struct decimal d;
    double x;

    if (scan_decimal(s, n, &d) != 0)
        return words ? special_word(s, n, v) : -1;
    if (d.exact && d.m == 0) {
        *v = d.neg ? -0.0 : 0.0;
        return 0;
    }
    if (!d.exact || d.m > (UINT64_C(1) << 53) || d.exp10 < -22 || d.exp10 > 22)
        return slow_number(s, n, v);
    x = (double)d.m;
    x = d.exp10 < 0 ? x / pow10[-d.exp10] : x * pow10[d.exp10];
    *v = d.neg ? -x : x;
    return 0;
}

int disco__tsformat_int64(const char *s, size_t n, int64_t *v)
{
    uint64_t acc = 0, limit = (uint64_t)INT64_MAX;
    size_t i = 0;
    int neg = 0;

    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return -1;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        if (acc > (limit + (uint64_t)neg - (uint64_t)(s[i] - '0')) / 10)
            return -2;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    }
    *v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

/* ---- series cache -------------------------------------------------------- */

uint64_t disco__tsformat_hash(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = seed ^ ((uint64_t)n * UINT64_C(0x9E3779B97F4A7C15)), w;

    for (; n >= 8; b += 8, n -= 8) {
        memcpy(&w, b, 8);
        h = (h ^ w) * UINT64_C(0xBF58476D1CE4E5B9);
        h ^= h >> 31;
    }
    if (n) {
        w = 0;
        memcpy(&w, b, n);
        h = (h ^ w) * UINT64_C(0x94D049BB133111EB);
    }
    h ^= h >> 32;
    h *= UINT64_C(0xD6E8FEB86659FD93);
    return h ^ (h >> 32);
}

static int slot_matches(const disco__tsformat_cache *k, const struct disco__tsformat_slot *s,
                        uint64_t h, const char *a, size_t na, const char *b, size_t nb)
{
    const char *key = k->keys + s->off;

    return s->hash == h && s->na == na && s->nb == nb && memcmp(key, a, na) == 0 &&
           memcmp(key + na, b, nb) == 0;
}

int disco__tsformat_cache_get(const disco__tsformat_cache *k, uint64_t h, const char *a, size_t na,
                              const char *b, size_t nb, uint32_t *series)
{
    size_t mask = k->cap - 1;

    h |= 1;
    if (!k->cap)
        return 0;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const struct disco__tsformat_slot *s = &k->slots[i];
        if (!s->hash)
            return 0;
        if (slot_matches(k, s, h, a, na, b, nb)) {
            *series = s->series;
            return 1;
        }
    }
}

static void slot_place(struct disco__tsformat_slot *slots, size_t cap,
                       const struct disco__tsformat_slot *s)
{
    size_t i = s->hash & (cap - 1);

    while (slots[i].hash)
        i = (i + 1) & (cap - 1);
    slots[i] = *s;
}

static int cache_grow(disco__tsformat_cache *k)
{
    size_t ncap = k->cap ? k->cap * 2 : 64;
    struct disco__tsformat_slot *ns = calloc(ncap, sizeof *ns);

    if (!ns)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < k->cap; i++)
        if (k->slots[i].hash)
            slot_place(ns, ncap, &k->slots[i]);
    free(k->slots);
    k->slots = ns;
    k->cap = ncap;
    return DISCO_OK;
}

int disco__tsformat_cache_put(disco__tsformat_cache *k, uint64_t h, const char *a, size_t na,
                              const char *b, size_t nb, uint32_t series)
{
    struct disco__tsformat_slot s = {h | 1, k->keys_len, na, nb, series};

    if ((k->used + 1) * 2 > k->cap && cache_grow(k) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    if (disco__tsformat_reserve(&k->keys, &k->keys_cap, k->keys_len + na + nb) != 0)
        return DISCO_ERR_NOMEM;
    memcpy(k->keys + k->keys_len, a, na);
    memcpy(k->keys + k->keys_len + na, b, nb);
    k->keys_len += na + nb;
    slot_place(k->slots, k->cap, &s);
    k->used++;
    return DISCO_OK;
}

static void cache_release(disco__tsformat_cache *k)
{
    free(k->slots);
    free(k->keys);
    memset(k, 0, sizeof *k);
}

/* ---- helpers for the parsers -------------------------------------------- */

int disco__tsformat_reserve(char **buf, size_t *cap, size_t need)
{
    size_t ncap = *cap ? *cap : 256;
    char *nb;

    if (need <= *cap && *buf)
        return 0;
    while (ncap < need)
        ncap *= 2;
    nb = realloc(*buf, ncap);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = ncap;
    return 0;
}

json_t *disco__tsformat_tags_new(const disco__tsformat_ctx *c)
{
    return c->tags ? json_deep_copy(c->tags) : json_object();
}

int disco__tsformat_series(disco__tsformat_ctx *c, size_t off, const char *metric,
                           const json_t *tags, uint32_t *index)
{
    int rc = disco_ts_batch_series(c->out, metric, tags, index, c->st);

    return rc ? disco__tsformat_wrap(c, off, rc) : DISCO_OK;
}

/* ---- parse --------------------------------------------------------------- */

static int resolve_opts(disco__tsformat_ctx *c, const disco_tsformat_opts *o)
{
    int rc;

    c->metric = o && o->metric && *o->metric ? o->metric : NULL;
    c->tags = o && o->tags && json_object_size(o->tags) ? o->tags : NULL;
    c->unit_ns = o && o->line_unit_ns ? o->line_unit_ns : 1;
    c->now_ms = o && o->now_ms ? o->now_ms : disco_time_now_ms();
    if (c->metric && (rc = disco_ts_check_metric(c->metric, c->st)) != DISCO_OK)
        return rc;
    if (o && o->tags && (rc = disco_ts_check_tags(o->tags, c->st)) != DISCO_OK)
        return rc;
    if (c->unit_ns < 0 || (NS_PER_MS % c->unit_ns != 0 && c->unit_ns % NS_PER_MS != 0))
        return disco_status_set(c->st, DISCO_ERR_INVAL, "line_unit_ns",
                                "line_unit_ns %lld: must divide 1000000 or be a multiple of it "
                                "(1 ns, 1000 us, 1000000 ms, 1000000000 s)",
                                (long long)c->unit_ns);
    return DISCO_OK;
}

/* Cuts the batch back to `count` samples and `nseries` series. */
static void rollback(disco_ts_batch *b, size_t count, size_t nseries)
{
    const char *key;
    json_t *v;
    void *tmp;

    b->count = count;
    if (json_array_size(b->series) <= nseries)
        return;
    json_object_foreach_safe (b->index, tmp, key, v) {
        if (json_integer_value(v) >= (json_int_t)nseries)
            json_object_del(b->index, key);
    }
    while (json_array_size(b->series) > nseries)
        json_array_remove(b->series, json_array_size(b->series) - 1);
}

int disco_tsformat_parse(disco_ts_format f, const char *text, size_t len,
                         const disco_tsformat_opts *o, disco_ts_batch *out, disco_status *st)
{
    disco__tsformat_ctx c = {.text = text ? text : "", .len = len, .out = out, .st = st};
    size_t count, nseries;
    int rc;

    if (!out || !out->series || !out->index || (!text && len))
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "no text or no batch to parse into");
    if ((rc = resolve_opts(&c, o)) != DISCO_OK)
        return rc;
    count = out->count;
    nseries = json_array_size(out->series);
    if (f == DISCO_TSF_JSON)
        rc = disco__tsformat_parse_json(&c);
    else if (f == DISCO_TSF_CSV)
        rc = disco__tsformat_parse_csv(&c);
    else if (f == DISCO_TSF_LINE)
        rc = disco__tsformat_parse_line(&c);
    else
        rc = disco_status_set(st, DISCO_ERR_INVAL, "format", "unknown format %d", (int)f);
    if (rc != DISCO_OK)
        rollback(out, count, nseries);
    cache_release(&c.cache);
    return rc;
}
