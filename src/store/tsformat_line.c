/*
 * tsformat_line.c - InfluxDB line protocol into a batch.
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * Rules this parser follows (and tsformat.h promises):
 *   - Lines end with \n or \r\n. Blank lines and lines whose first byte
 *     after spaces and tabs is '#' are skipped. One or more spaces separate
 *     the three sections; string field values cannot hold a raw newline.
 *   - Escapes: in the measurement, tag keys, tag values and field keys a
 *     backslash makes the next ',', ' ', '=' or '\' literal and is kept
 *     before any other byte. In string field values \" and \\.
 *   - Field values: float (1.5, -2e-3, 1.), integer (12i), unsigned (12u),
 *     boolean (t, T, true, True, TRUE and f... as 1 and 0). Integers beyond
 *     2^53 are rounded to the nearest double. String fields ("...") are
 *     skipped: a line with only string fields adds nothing.
 *   - Metric: measurement "_" field key, or the measurement alone for the
 *     field "value"; each byte outside [A-Za-z0-9_:.-] becomes '_', and '_'
 *     goes first when the measurement starts with a digit, '.' or '-'. Tag
 *     keys are not rewritten: one outside [A-Za-z_][A-Za-z0-9_.-]* is an
 *     error, as are empty tag values and repeated tag keys.
 *   - Timestamp: an integer in units of line_unit_ns, converted to Unix
 *     milliseconds rounding toward minus infinity (-1 ns is -1 ms); a line
 *     without one is stamped now_ms.
 *
 * Speed: one pass and no allocation per line. The measurement-and-tags
 * section is hashed once per line; each (section, field key) pair resolves
 * through the batch once per call and then through the series cache.
 */
#include "tsformat_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct lp_field {
    size_t key, key_len; /* raw field key: offset in the input, length */
    double value;
} lp_field;

typedef struct lp {
    disco__tsformat_ctx *c;
    const char *t;
    size_t sec, sec_len; /* raw measurement-and-tags section of the line */
    uint64_t sec_hash;
    int sec_done; /* the section is decoded into name and tags */
    json_t *tags; /* the section's tags over the default tags */
    json_t *own;  /* the section's own tags */
    json_t *one;  /* a single tag, to check it */
    char *name;   /* the measurement (meas_len bytes), then the metric name */
    size_t name_cap, meas_len;
    char *tmp; /* a decoded tag key and value */
    size_t tmp_cap;
    lp_field *fields; /* the numeric fields of the line */
    size_t nfields, fields_cap;
} lp;

/* Offset of the first unescaped `a`, `b` or `d` in t[i..e), or e. */
static size_t scan_to(const char *t, size_t i, size_t e, char a, char b, char d)
{
    for (; i < e; i++) {
        char ch = t[i];
        if (ch == '\\')
            i++;
        else if (ch == a || ch == b || ch == d)
            return i;
    }
    return e;
}

/* Copies s[0..n) to dst without the backslashes before , = space and \. */
static size_t unescape(const char *s, size_t n, char *dst)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n &&
            (s[i + 1] == ',' || s[i + 1] == ' ' || s[i + 1] == '=' || s[i + 1] == '\\'))
            i++;
        dst[k++] = s[i];
    }
    dst[k] = '\0';
    return k;
}

static void sanitize(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == ':' || ch == '.' || ch == '-'))
            s[i] = '_';
    }
}

static const char *show(const lp *p, size_t off, size_t n, char buf[DISCO__TSFORMAT_SHOW_MAX])
{
    return disco__tsformat_show(p->t + off, n, buf);
}

/* ---- the measurement and tags section ----------------------------------- */

/* Checks one decoded tag (key and value in p->tmp) and adds it to the section's tags. */
static int own_tag(lp *p, size_t k, size_t klen, size_t vlen)
{
    const char *key = p->tmp, *val = p->tmp + klen + 1;
    char q[DISCO__TSFORMAT_SHOW_MAX];
    json_t *s;
    int rc;

    if (memchr(key, '\0', klen) || memchr(val, '\0', vlen))
        return disco__tsformat_fail(p->c, k, "tag '%s' holds a NUL byte", show(p, k, klen, q));
    if (json_object_get(p->own, key))
        return disco__tsformat_fail(p->c, k, "tag key '%s' given twice", show(p, k, klen, q));
    if (json_object_size(p->own) >= DISCO_TS_TAGS_MAX)
        return disco__tsformat_fail(p->c, k, "more than %d tags", DISCO_TS_TAGS_MAX);
    if (!(s = json_stringn(val, vlen)))
        return disco__tsformat_fail(p->c, k, "tag '%s': value is not valid UTF-8",
                                    show(p, k, klen, q));
    json_object_clear(p->one);
    if (json_object_set_nocheck(p->one, key, s) != 0) {
        json_decref(s);
        return disco__tsformat_nomem(p->c);
    }
    if ((rc = disco_ts_check_tags(p->one, p->c->st)) != DISCO_OK) {
        json_decref(s);
        return disco__tsformat_wrap(p->c, k, rc);
    }
    if (json_object_set_new_nocheck(p->own, key, s) != 0)
        return disco__tsformat_nomem(p->c);
    return DISCO_OK;
}

/* Reads ",key=value" at t[*i]. */
static int section_tag(lp *p, size_t *i, size_t e)
{
    size_t k = *i + 1, eq = scan_to(p->t, k, e, '=', ',', ','), v = eq + 1, ve, klen;
    char q[DISCO__TSFORMAT_SHOW_MAX];

    if (eq == k)
        return disco__tsformat_fail(p->c, k, "empty tag key");
    if (eq == e || p->t[eq] != '=')
        return disco__tsformat_fail(p->c, k, "tag '%s' has no '=value'", show(p, k, eq - k, q));
    ve = scan_to(p->t, v, e, ',', '=', ',');
    if (ve < e && p->t[ve] == '=')
        return disco__tsformat_fail(p->c, ve, "unescaped '=' in the value of tag '%s'",
                                    show(p, k, eq - k, q));
    if (ve == v)
        return disco__tsformat_fail(p->c, v, "tag '%s' has no value", show(p, k, eq - k, q));
    if (disco__tsformat_reserve(&p->tmp, &p->tmp_cap, ve - k + 2))
        return disco__tsformat_nomem(p->c);
    klen = unescape(p->t + k, eq - k, p->tmp);
    *i = ve;
    return own_tag(p, k, klen, unescape(p->t + v, ve - v, p->tmp + klen + 1));
}

/* Decodes the measurement into p->name, sanitized, with room for a field. */
static int section_measurement(lp *p, size_t m)
{
    size_t n, skip;

    if (m == p->sec)
        return disco__tsformat_fail(p->c, p->sec, "missing measurement");
    if (disco__tsformat_reserve(&p->name, &p->name_cap, p->sec_len + 2))
        return disco__tsformat_nomem(p->c);
    n = unescape(p->t + p->sec, m - p->sec, p->name + 1);
    sanitize(p->name + 1, n);
    skip = !(p->name[1] >= '0' && p->name[1] <= '9') && p->name[1] != '.' && p->name[1] != '-';
    p->name[0] = '_';
    if (skip)
        memmove(p->name, p->name + 1, n + 1);
    p->meas_len = n + !skip;
    return DISCO_OK;
}

static int section_decode(lp *p)
{
    size_t e = p->sec + p->sec_len, i = scan_to(p->t, p->sec, e, ',', ',', ',');
    int rc = section_measurement(p, i);

    json_object_clear(p->own);
    while (rc == DISCO_OK && i < e)
        rc = section_tag(p, &i, e);
    if (rc != DISCO_OK)
        return rc;
    json_decref(p->tags);
    p->tags = disco__tsformat_tags_new(p->c);
    if (!p->tags || json_object_update(p->tags, p->own) != 0)
        return disco__tsformat_nomem(p->c);
    p->sec_done = 1;
    return DISCO_OK;
}

/* ---- fields -------------------------------------------------------------- */

static int parse_u64(const char *s, size_t n, double *v)
{
    uint64_t acc = 0;

    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        if (acc > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return -2;
        acc = acc * 10 + (uint64_t)(s[i] - '0');
    }
    *v = (double)acc;
    return 0;
}

static int parse_bool(const char *s, size_t n, double *v)
{
    static const char *const words[] = {"t", "T", "true",  "True",  "TRUE",
                                        "f", "F", "false", "False", "FALSE"};

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) {
            *v = i < 5;
            return 0;
        }
    return -1;
}

/* A numeric field value: 0, -1 malformed, -2 out of range. */
static int parse_value(const char *s, size_t n, double *v)
{
    int64_t i;
    int rc;

    if (s[n - 1] == 'i') {
        rc = disco__tsformat_int64(s, n - 1, &i);
        if (rc == 0)
            *v = (double)i;
        return rc;
    }
    if (s[n - 1] == 'u')
        return parse_u64(s, n - 1, v);
    if (parse_bool(s, n, v) == 0)
        return 0;
    return disco__tsformat_number(s, n, 0, v);
}

static int skip_string(lp *p, size_t k, size_t v, size_t e, size_t *end)
{
    char q[DISCO__TSFORMAT_SHOW_MAX];

    for (size_t j = v + 1; j < e; j++) {
        if (p->t[j] == '\\') {
            j++;
        } else if (p->t[j] == '"') {
            if (j + 1 < e && p->t[j + 1] != ',' && p->t[j + 1] != ' ')
                return disco__tsformat_fail(p->c, j + 1, "expected ',' or ' ' after field '%s'",
                                            show(p, k, v - 1 - k, q));
            *end = j + 1;
            return DISCO_OK;
        }
    }
    return disco__tsformat_fail(p->c, v, "field '%s': string without its closing '\"'",
                                show(p, k, v - 1 - k, q));
}

static int push_field(lp *p, size_t k, size_t klen, double value)
{
    if (p->nfields == p->fields_cap) {
        size_t ncap = p->fields_cap ? p->fields_cap * 2 : 16;
        lp_field *nf = realloc(p->fields, ncap * sizeof *nf);
        if (!nf)
            return disco__tsformat_nomem(p->c);
        p->fields = nf;
        p->fields_cap = ncap;
    }
    p->fields[p->nfields++] = (lp_field){k, klen, value};
    return DISCO_OK;
}

/* Reads the value of the field whose key spans t[k..eq); *i: past the value. */
static int field_value(lp *p, size_t k, size_t eq, size_t e, size_t *i)
{
    size_t v = eq + 1, end = v;
    char q[DISCO__TSFORMAT_SHOW_MAX], qv[DISCO__TSFORMAT_SHOW_MAX];
    double x;
    int rc;

    if (v < e && p->t[v] == '"')
        return skip_string(p, k, v, e, i);
    while (end < e && p->t[end] != ',' && p->t[end] != ' ')
        end++;
    if (end == v)
        return disco__tsformat_fail(p->c, v, "field '%s' has no value", show(p, k, eq - k, q));
    rc = parse_value(p->t + v, end - v, &x);
    if (rc != 0)
        return disco__tsformat_fail(
            p->c, v, "field '%s': %s '%s'", show(p, k, eq - k, q),
            rc == -1   ? "expected a number, 12i, 12u, a boolean or a \"string\", not"
            : rc == -2 ? "number out of range:"
                       : "number longer than 400 characters:",
            show(p, v, end - v, qv));
    *i = end;
    return push_field(p, k, eq - k, x);
}

static int fields(lp *p, size_t *pos, size_t e)
{
    size_t i = *pos, k, eq;
    char q[DISCO__TSFORMAT_SHOW_MAX];
    int rc;

    p->nfields = 0;
    for (;;) {
        k = i;
        eq = scan_to(p->t, k, e, '=', ',', ' ');
        if (eq == k)
            return disco__tsformat_fail(p->c, k, "expected a field key");
        if (eq == e || p->t[eq] != '=')
            return disco__tsformat_fail(p->c, k, "field '%s' has no '=value'",
                                        show(p, k, eq - k, q));
        if ((rc = field_value(p, k, eq, e, &i)) != DISCO_OK)
            return rc;
        if (i == e || p->t[i] != ',')
            break;
        i++;
    }
    *pos = i;
    return DISCO_OK;
}

/* ---- timestamp ----------------------------------------------------------- */

static int to_ms(int64_t raw, int64_t unit_ns, int64_t *ms)
{
    int64_t d, k;

    if (1000000 % unit_ns == 0) {
        d = 1000000 / unit_ns;
        *ms = raw / d - (raw % d < 0);
        return 0;
    }
    k = unit_ns / 1000000;
    if (raw > INT64_MAX / k || raw < INT64_MIN / k)
        return -1;
    *ms = raw * k;
    return 0;
}

static int timestamp(lp *p, size_t i, size_t e, int64_t *ms)
{
    size_t s;
    int64_t raw;
    int rc;
    char q[DISCO__TSFORMAT_SHOW_MAX];

    while (i < e && p->t[i] == ' ')
        i++;
    if (i == e) {
        *ms = p->c->now_ms;
        return DISCO_OK;
    }
    for (s = i; i < e && p->t[i] != ' '; i++)
        ;
    rc = disco__tsformat_int64(p->t + s, i - s, &raw);
    if (rc == 0 && to_ms(raw, p->c->unit_ns, ms) != 0)
        rc = -2;
    if (rc != 0)
        return disco__tsformat_fail(p->c, s, "timestamp '%s': %s", show(p, s, i - s, q),
                                    rc == -1 ? "expected an integer" : "out of range");
    while (i < e && p->t[i] == ' ')
        i++;
    if (i < e)
        return disco__tsformat_fail(p->c, i, "unexpected '%s' after the timestamp",
                                    show(p, i, e - i, q));
    return DISCO_OK;
}

/* ---- lines --------------------------------------------------------------- */

/* Resolves field `f` of the line through the batch and caches the answer. */
static int resolve(lp *p, const lp_field *f, uint64_t h, uint32_t *index)
{
    size_t n;
    int rc;

    if (!p->sec_done && (rc = section_decode(p)) != DISCO_OK)
        return rc;
    if (disco__tsformat_reserve(&p->name, &p->name_cap, p->meas_len + f->key_len + 3))
        return disco__tsformat_nomem(p->c);
    n = unescape(p->t + f->key, f->key_len, p->name + p->meas_len + 1);
    if (n == 5 && memcmp(p->name + p->meas_len + 1, "value", 5) == 0) {
        p->name[p->meas_len] = '\0';
    } else {
        p->name[p->meas_len] = '_';
        sanitize(p->name + p->meas_len + 1, n);
    }
    if ((rc = disco__tsformat_series(p->c, f->key, p->name, p->tags, index)) != DISCO_OK)
        return rc;
    if (disco__tsformat_cache_put(&p->c->cache, h, p->t + p->sec, p->sec_len, p->t + f->key,
                                  f->key_len, *index))
        return disco__tsformat_nomem(p->c);
    return DISCO_OK;
}

static int add_fields(lp *p, int64_t ts)
{
    const char *sec = p->t + p->sec;
    uint32_t index;
    int rc;

    for (size_t i = 0; i < p->nfields; i++) {
        const lp_field *f = &p->fields[i];
        uint64_t h = disco__tsformat_hash(p->t + f->key, f->key_len, p->sec_hash);
        if (!disco__tsformat_cache_get(&p->c->cache, h, sec, p->sec_len, p->t + f->key, f->key_len,
                                       &index) &&
            (rc = resolve(p, f, h, &index)) != DISCO_OK)
            return rc;
        if (disco_ts_batch_add(p->c->out, index, ts, f->value) != DISCO_OK)
            return disco__tsformat_nomem(p->c);
    }
    return DISCO_OK;
}

static int line(lp *p, size_t b, size_t e)
{
    size_t i;
    int64_t ts = 0;
    int rc;

    while (b < e && (p->t[b] == ' ' || p->t[b] == '\t'))
        b++;
    if (b == e || p->t[b] == '#')
        return DISCO_OK;
    i = scan_to(p->t, b, e, ' ', ' ', ' ');
    p->sec = b;
    p->sec_len = i - b;
    p->sec_done = 0;
    p->sec_hash = disco__tsformat_hash(p->t + b, i - b, 0);
    while (i < e && p->t[i] == ' ')
        i++;
    if (i == e)
        return disco__tsformat_fail(p->c, i, "expected fields after the measurement and tags");
    if ((rc = fields(p, &i, e)) != DISCO_OK || (rc = timestamp(p, i, e, &ts)) != DISCO_OK)
        return rc;
    if (p->nfields == 0)
        return section_decode(p); /* only string fields: still check the section */
    return add_fields(p, ts);
}

static void lp_release(lp *p)
{
    json_decref(p->tags);
    json_decref(p->own);
    json_decref(p->one);
    free(p->name);
    free(p->tmp);
    free(p->fields);
}

int disco__tsformat_parse_line(disco__tsformat_ctx *c)
{
    lp p = {.c = c, .t = c->text, .own = json_object(), .one = json_object()};
    size_t pos = 0;
    int rc = p.own && p.one ? DISCO_OK : disco__tsformat_nomem(c);

    while (rc == DISCO_OK && pos < c->len) {
        const char *nl = memchr(c->text + pos, '\n', c->len - pos);
        size_t end = nl ? (size_t)(nl - c->text) : c->len, next = nl ? end + 1 : end;
        if (end > pos && c->text[end - 1] == '\r')
            end--;
        rc = line(&p, pos, end);
        pos = next;
    }
    lp_release(&p);
    return rc;
}
