/*
 * tsdb_meta.c - series definitions as bytes, metric definitions, and
 * series.idx, the snapshot of the registry written at each flush.
 *
 *   series definition (in WRITE log records and in series.idx)
 *   +--------+----------------+--------+-------------+------------------------+
 *   | id u32 | metric_len u16 | metric | n_tags u16  | (klen u16 key vlen u16 |
 *   |        |                |        |             |  value) * n_tags       |
 *   +--------+----------------+--------+-------------+------------------------+
 *
 *   series.idx
 *   +------------------------------ header (24 bytes) ------------------------+
 *   | "DTSI" | version u16 | flags u16 | next_id u32 | n_metrics u32 |         |
 *   | n_series u32 | reserved u32                                            |
 *   +------------------------------ n_metrics times --------------------------+
 *   | name_len u16 | name | precision kind u8 | decimals u8 |                 |
 *   | rules_len u32 | rules (JSON text, "" for none)                          |
 *   +------------------------------ n_series times ---------------------------+
 *   | series definition | n_rolled u16 | (step_ms i64 | until i64) * n_rolled|
 *   +--------------------------------------------------------------------------+
 *   | crc32c u32 of everything before                                         |
 *   +--------------------------------------------------------------------------+
 *
 * The file is replaced whole (temp + fsync + rename + fsync of the folder)
 * before the log is checkpointed, so it always covers every series the
 * remaining log does not define. Only declared metrics are listed.
 */
#include "tsdb_int.h"

#include "disco/crc32c.h"
#include "disco/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define META_FILE "series.idx"
#define META_TMP "series.idx.tmp"
#define META_VERSION 1
#define META_MAX ((size_t)1 << 31)

typedef struct meta_header {
    char magic[4];
    uint16_t version, flags;
    uint32_t next_id, n_metrics, n_series, reserved;
} meta_header;

_Static_assert(sizeof(meta_header) == 24, "series.idx header is 24 bytes");
_Static_assert(offsetof(meta_header, next_id) == 8, "next_id at 8");

/* ---- series definitions ---------------------------------------------------------- */

size_t disco__series_def_size(const char *metric, const json_t *tags)
{
    size_t n = 4 + 2 + strlen(metric) + 2;
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)tags, k, v) {
        n += 4 + strlen(k) + strlen(json_string_value(v));
    }
    return n;
}

static uint8_t *put_str16(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    tsdb_put16(p, (uint16_t)n);
    memcpy(p + 2, s, n);
    return p + 2 + n;
}

uint8_t *disco__series_def_put(uint8_t *p, uint32_t id, const char *metric, const json_t *tags)
{
    const char *k;
    json_t *v;

    tsdb_put32(p, id);
    p = put_str16(p + 4, metric);
    tsdb_put16(p, (uint16_t)json_object_size(tags));
    p += 2;
    json_object_foreach ((json_t *)tags, k, v) {
        p = put_str16(p, k);
        p = put_str16(p, json_string_value(v));
    }
    return p;
}

/* A length-prefixed string of at most `max` bytes into buf (NUL-terminated). */
static int get_str16(const uint8_t *p, size_t len, size_t *at, char *buf, size_t max)
{
    size_t n;

    if (len - *at < 2)
        return -1;
    n = tsdb_get16(p + *at);
    if (n > max || len - *at - 2 < n)
        return -1;
    memcpy(buf, p + *at + 2, n);
    buf[n] = '\0';
    *at += 2 + n;
    return memchr(buf, '\0', n) ? -1 : 0;
}

int disco__series_def_get(const uint8_t *p, size_t len, uint32_t *id, char *metric, json_t **tags,
                          size_t *used)
{
    char key[DISCO_TS_TAG_KEY_MAX + 1], val[DISCO_TS_TAG_VALUE_MAX + 1];
    size_t at = 4, nt;

    *tags = NULL;
    if (len < 4)
        return DISCO_ERR_CORRUPT;
    *id = tsdb_get32(p);
    if (get_str16(p, len, &at, metric, DISCO_TS_METRIC_MAX) || len - at < 2)
        return DISCO_ERR_CORRUPT;
    nt = tsdb_get16(p + at);
    at += 2;
    if (nt > DISCO_TS_TAGS_MAX || !(*tags = json_object()))
        return nt > DISCO_TS_TAGS_MAX ? DISCO_ERR_CORRUPT : DISCO_ERR_NOMEM;
    for (size_t i = 0; i < nt; i++) {
        if (get_str16(p, len, &at, key, DISCO_TS_TAG_KEY_MAX) ||
            get_str16(p, len, &at, val, DISCO_TS_TAG_VALUE_MAX) ||
            json_object_set_new(*tags, key, json_string(val)) != 0) {
            json_decref(*tags);
            *tags = NULL;
            return DISCO_ERR_CORRUPT;
        }
    }
    *used = at;
    return DISCO_OK;
}

/* ---- metric definitions ------------------------------------------------------------- */

/* Keeps the rollup progress of steps the rules still have; recomputes roll_ceil. */
static void rolled_prune(tsdb_series *s, const tsdb_metric *m)
{
    size_t k = 0;

    s->roll_ceil = INT64_MIN;
    for (size_t i = 0; i < s->n_rolled; i++) {
        int keep = 0;
        for (size_t j = 0; j < m->n_rules; j++)
            keep |= m->rules[j].step_ms == s->rolled[i].step_ms;
        if (!keep)
            continue;
        s->rolled[k++] = s->rolled[i];
    }
    s->n_rolled = k;
    for (size_t i = 0; i < k; i++)
        if (s->rolled[i].until > s->roll_ceil)
            s->roll_ceil = s->rolled[i].until;
}

int disco__metric_set(disco_tsdb *db, tsdb_metric *m, const disco_ts_precision *p,
                      const json_t *rollups, disco_status *st)
{
    tsdb_rule *rules = NULL;
    size_t n = 0;
    json_t *copy = NULL;
    int rc = disco__rollup_rules_parse(m->name, rollups, &rules, &n, st);

    if (rc != DISCO_OK)
        return rc;
    if (n && !(copy = json_deep_copy(rollups))) {
        free(rules);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    json_decref(m->rollups);
    free(m->rules);
    m->rollups = copy;
    m->rules = rules;
    m->n_rules = n;
    for (size_t i = 0; i < m->series.n; i++)
        rolled_prune(disco__series_by_id(db, m->series.v[i]), m);
    m->prec = *p;
    m->defined = 1;
    db->registry_dirty = 1;
    return DISCO_OK;
}

/* ---- metric definitions as bytes ------------------------------------------------------ */

/*
 *   metric definition (DEFINE log records and series.idx)
 *   +--------------+------+------------+-------------+---------------+-------------------+
 *   | name_len u16 | name | kind u8    | decimals u8 | rules_len u32 | rules (JSON text) |
 *   +--------------+------+------------+-------------+---------------+-------------------+
 */
size_t disco__metric_def_size(const char *name, const char *rules)
{
    return 2 + strlen(name) + 6 + (rules ? strlen(rules) : 0);
}

uint8_t *disco__metric_def_put(uint8_t *p, const char *name, const disco_ts_precision *prec,
                               const char *rules)
{
    size_t tl = rules ? strlen(rules) : 0;

    p = put_str16(p, name);
    p[0] = (uint8_t)prec->kind;
    p[1] = (uint8_t)prec->decimals;
    tsdb_put32(p + 2, (uint32_t)tl);
    if (tl)
        memcpy(p + 6, rules, tl);
    return p + 6 + tl;
}

int disco__metric_def_apply(disco_tsdb *db, const uint8_t *p, size_t len, size_t *used,
                            const char **why, disco_status *st)
{
    char name[DISCO_TS_METRIC_MAX + 1];
    disco_ts_precision prec;
    json_t *rules = NULL;
    tsdb_metric *m;
    size_t at = 0, tl;
    int rc;

    *why = "bad metric definition";
    if (get_str16(p, len, &at, name, DISCO_TS_METRIC_MAX) || len - at < 6)
        return DISCO_ERR_CORRUPT;
    prec.kind = (disco_ts_precision_kind)p[at];
    prec.decimals = p[at + 1];
    tl = tsdb_get32(p + at + 2);
    at += 6;
    if (tl > len - at || prec.kind > DISCO_TS_DECIMAL || prec.decimals > 9)
        return DISCO_ERR_CORRUPT;
    if (tl && disco_json_parse((const char *)p + at, tl, "rules", &rules, NULL) != DISCO_OK)
        return DISCO_ERR_CORRUPT;
    *used = at + tl;
    *why = "rollup rules refused";
    rc = disco__metric_get(db, name, &m, st);
    if (rc == DISCO_OK)
        rc = disco__metric_set(db, m, &prec, rules, st);
    json_decref(rules);
    return rc;
}

/* ---- series.idx: writing ----------------------------------------------------------- */

static int put_metrics(disco_tsdb *db, tsdb_buf *b, uint32_t *count)
{
    for (size_t i = 0; i < db->metrics.cap; i++) {
        tsdb_metric *m = db->metrics.slots[i].val;
        char *text;
        size_t need;

        if (!db->metrics.slots[i].key || !m->defined)
            continue;
        text = m->rollups ? disco_json_dumps(m->rollups) : NULL;
        need = disco__metric_def_size(m->name, text);
        if ((m->rollups && !text) || disco__tsdb_buf_reserve(b, need) != DISCO_OK) {
            free(text);
            return DISCO_ERR_NOMEM;
        }
        disco__metric_def_put(b->p + b->len, m->name, &m->prec, text);
        b->len += need;
        free(text);
        (*count)++;
    }
    return DISCO_OK;
}

static int put_series(disco_tsdb *db, tsdb_buf *b, uint32_t *count)
{
    for (uint32_t id = 0; id < db->next_id; id++) {
        tsdb_series *s = disco__series_by_id(db, id);
        size_t need;
        uint8_t *p;

        if (!s || !s->alive)
            continue;
        need = disco__series_def_size(s->metric->name, s->tags) + 2 + 16 * s->n_rolled;
        if (disco__tsdb_buf_reserve(b, need) != DISCO_OK)
            return DISCO_ERR_NOMEM;
        p = disco__series_def_put(b->p + b->len, id, s->metric->name, s->tags);
        tsdb_put16(p, (uint16_t)s->n_rolled);
        p += 2;
        for (size_t i = 0; i < s->n_rolled; i++, p += 16) {
            tsdb_put64(p, (uint64_t)s->rolled[i].step_ms);
            tsdb_put64(p + 8, (uint64_t)s->rolled[i].until);
        }
        b->len += need;
        (*count)++;
    }
    return DISCO_OK;
}

static int meta_encode(disco_tsdb *db, tsdb_buf *b)
{
    uint32_t nm = 0, ns = 0;

    if (disco__tsdb_buf_reserve(b, sizeof(meta_header)) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    b->len = sizeof(meta_header);
    if (put_metrics(db, b, &nm) != DISCO_OK || put_series(db, b, &ns) != DISCO_OK ||
        disco__tsdb_buf_reserve(b, 4) != DISCO_OK)
        return DISCO_ERR_NOMEM;
    memcpy(b->p, "DTSI", 4);
    tsdb_put16(b->p + offsetof(meta_header, version), META_VERSION);
    tsdb_put16(b->p + offsetof(meta_header, flags), 0);
    tsdb_put32(b->p + offsetof(meta_header, next_id), db->next_id);
    tsdb_put32(b->p + offsetof(meta_header, n_metrics), nm);
    tsdb_put32(b->p + offsetof(meta_header, n_series), ns);
    tsdb_put32(b->p + offsetof(meta_header, reserved), 0);
    tsdb_put32(b->p + b->len, disco_crc32c(0, b->p, b->len));
    b->len += 4;
    return DISCO_OK;
}

static int write_file(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int disco__meta_save(disco_tsdb *db, disco_status *st)
{
    tsdb_buf b = {0};
    int fd = -1, rc = meta_encode(db, &b);

    if (rc != DISCO_OK) {
        disco__tsdb_buf_free(&b);
        return disco_status_set(st, rc, NULL, "out of memory writing %s", META_FILE);
    }
    fd = openat(db->dirfd, META_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_file(fd, b.p, b.len) != 0 || fdatasync(fd) != 0 ||
        renameat(db->dirfd, META_TMP, db->dirfd, META_FILE) != 0 || fsync(db->dirfd) != 0) {
        rc = disco_status_errno(st, errno, "dir", "tsdb: cannot write %s/%s", db->dir, META_FILE);
        unlinkat(db->dirfd, META_TMP, 0);
    } else {
        db->registry_dirty = 0;
    }
    if (fd >= 0)
        close(fd);
    disco__tsdb_buf_free(&b);
    return rc;
}

/* ---- series.idx: reading ----------------------------------------------------------- */

typedef struct meta_reader {
    disco_tsdb *db;
    const uint8_t *p;
    size_t len, at;
} meta_reader;

static int meta_bad(meta_reader *r, disco_status *st, const char *what)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, "dir", "tsdb %s/%s: %s at offset %zu",
                            r->db->dir, META_FILE, what, r->at);
}

static int read_metric(meta_reader *r, disco_status *st)
{
    const char *why;
    size_t used = 0;
    int rc = disco__metric_def_apply(r->db, r->p + r->at, r->len - r->at, &used, &why, st);

    if (rc == DISCO_ERR_NOMEM)
        return rc;
    if (rc != DISCO_OK)
        return meta_bad(r, st, why);
    r->at += used;
    return DISCO_OK;
}

static int read_rolled(meta_reader *r, tsdb_series *s, disco_status *st)
{
    size_t n;

    if (r->len - r->at < 2)
        return meta_bad(r, st, "bad rollup progress");
    n = tsdb_get16(r->p + r->at);
    r->at += 2;
    if (n * 16 > r->len - r->at)
        return meta_bad(r, st, "bad rollup progress");
    for (size_t i = 0; i < n; i++, r->at += 16)
        if (disco__rolled_set(s, (int64_t)tsdb_get64(r->p + r->at),
                              (int64_t)tsdb_get64(r->p + r->at + 8)) != DISCO_OK)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

static int read_series(meta_reader *r, disco_status *st)
{
    char metric[DISCO_TS_METRIC_MAX + 1], *key;
    json_t *tags;
    uint32_t id;
    size_t used;
    tsdb_series *s;
    int rc;

    if (disco__series_def_get(r->p + r->at, r->len - r->at, &id, metric, &tags, &used) != DISCO_OK)
        return meta_bad(r, st, "bad series definition");
    key = disco_ts_series_key(metric, tags);
    if (!key)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    else if (disco__series_by_id(r->db, id) || disco__map_get(&r->db->by_key, key))
        rc = meta_bad(r, st, "series listed twice");
    else
        rc = disco__series_add(r->db, id, metric, tags, key, &s, st);
    free(key);
    json_decref(tags);
    if (rc != DISCO_OK)
        return rc;
    r->at += used;
    return read_rolled(r, s, st);
}

static int meta_parse(meta_reader *r, disco_status *st)
{
    uint32_t nm, ns, next;
    int rc;

    if (r->len < sizeof(meta_header) + 4 || memcmp(r->p, "DTSI", 4) != 0)
        return meta_bad(r, st, "not a series index");
    if (tsdb_get32(r->p + r->len - 4) != disco_crc32c(0, r->p, r->len - 4))
        return meta_bad(r, st, "checksum mismatch");
    if (tsdb_get16(r->p + 4) != META_VERSION)
        return meta_bad(r, st, "unknown version");
    next = tsdb_get32(r->p + 8);
    nm = tsdb_get32(r->p + 12);
    ns = tsdb_get32(r->p + 16);
    r->len -= 4;
    r->at = sizeof(meta_header);
    for (uint32_t i = 0; i < nm; i++)
        if ((rc = read_metric(r, st)) != DISCO_OK)
            return rc;
    for (uint32_t i = 0; i < ns; i++)
        if ((rc = read_series(r, st)) != DISCO_OK)
            return rc;
    if (r->at != r->len)
        return meta_bad(r, st, "trailing bytes");
    if (next > r->db->next_id)
        r->db->next_id = next;
    return DISCO_OK;
}

static int read_whole(int fd, uint8_t **out, size_t *len)
{
    struct stat sb;
    uint8_t *p;
    size_t got = 0;

    if (fstat(fd, &sb) != 0)
        return errno;
    if ((size_t)sb.st_size > META_MAX)
        return EFBIG;
    if (!(p = malloc((size_t)sb.st_size + 1)))
        return ENOMEM;
    while (got < (size_t)sb.st_size) {
        ssize_t k = read(fd, p + got, (size_t)sb.st_size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            free(p);
            return k < 0 ? errno : EIO;
        }
        got += (size_t)k;
    }
    *out = p;
    *len = got;
    return 0;
}

int disco__meta_load(disco_tsdb *db, disco_status *st)
{
    meta_reader r = {.db = db};
    uint8_t *buf = NULL;
    int fd = openat(db->dirfd, META_FILE, O_RDONLY | O_CLOEXEC), e, rc;

    unlinkat(db->dirfd, META_TMP, 0);
    if (fd < 0 && errno == ENOENT)
        return DISCO_OK;
    if (fd < 0)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot open %s/%s", db->dir, META_FILE);
    e = read_whole(fd, &buf, &r.len);
    close(fd);
    if (e != 0)
        return disco_status_errno(st, e, "dir", "tsdb: cannot read %s/%s", db->dir, META_FILE);
    r.p = buf;
    rc = meta_parse(&r, st);
    free(buf);
    if (rc == DISCO_OK)
        db->registry_dirty = 0;
    return rc;
}
