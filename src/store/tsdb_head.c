/*
 * tsdb_head.c - the head (points in memory, per series) and the write path.
 *
 *   WRITE log record payload
 *   +--------------+-------------------------------+-------------+-------------------+
 *   | n_series u32 | series definition * n_series  | n_points u32| point * n_points  |
 *   +--------------+-------------------------------+-------------+-------------------+
 *   point = series id u32 | timestamp i64 | value f64 (IEEE bits)      (20 bytes)
 *
 *   A batch is one record: the series it creates and its points (values
 *   already rounded to the metric's precision), so it is replayed whole or
 *   not at all.
 *
 * DESIGN
 *   A write checks the whole batch first (out-of-order window, retention),
 *   then creates its new series, reserves head room for every point and the
 *   log record, and only then applies: nothing after the checks can fail,
 *   so a batch is stored whole or not at all. The apply loop encodes each
 *   point into the log record and appends it to its series' sorted arrays;
 *   a point after the series' last one (the usual case) is a plain store,
 *   others take a binary search and a memmove within the head. Batches of
 *   many series are first grouped by series (a counting sort of indexes),
 *   so that each head is filled in one go rather than one cache miss per
 *   point; the log record is written in that order (a series' own points
 *   keep their batch order, which is all that replay needs).
 */
#include "tsdb_int.h"

#include "disco/log.h"
#include "disco/timeutil.h"

#include <inttypes.h>
#include <stdlib.h>

#define BATCH_MAX ((size_t)1 << 25) /* points in one write */
#define GROUP_MIN_SERIES 64         /* batches of this many series are applied by series */

/* ---- the head of one series ------------------------------------------------------ */

int disco__head_reserve(tsdb_series *s, size_t extra)
{
    size_t need = s->n + extra, ncap = s->cap ? s->cap : 16;
    int64_t *nt;
    double *nv;

    if (need <= s->cap)
        return DISCO_OK;
    while (ncap < need)
        ncap *= 2;
    nt = realloc(s->ts, ncap * sizeof *nt);
    if (!nt)
        return DISCO_ERR_NOMEM;
    s->ts = nt;
    nv = realloc(s->v, ncap * sizeof *nv);
    if (!nv)
        return DISCO_ERR_NOMEM;
    s->v = nv;
    s->cap = ncap;
    return DISCO_OK;
}

size_t disco__head_lower_bound(const tsdb_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int disco__head_put(disco_tsdb *db, tsdb_series *s, int64_t ts, double v)
{
    size_t i = disco__head_lower_bound(s, ts);
    int replaced = 0;

    if (ts < s->roll_ceil && ts < s->dirty_from)
        s->dirty_from = ts;
    if (i < s->n && s->ts[i] == ts) {
        s->v[i] = v;
        return 1;
    }
    DISCO_ASSERT(s->n < s->cap);
    memmove(s->ts + i + 1, s->ts + i, (s->n - i) * sizeof *s->ts);
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->ts[i] = ts;
    s->v[i] = v;
    s->n++;
    db->head_points++;
    if (ts <= s->chunk_max && !db->replaying)
        replaced = disco__chunks_hold(db, s, ts);
    if (ts > s->newest)
        s->newest = ts;
    return replaced;
}

/* Appends when ts is after everything the series holds; 0 when it cannot. */
static inline int head_append(disco_tsdb *db, tsdb_series *s, int64_t ts, double v)
{
    if (ts <= s->chunk_max || ts < s->roll_ceil || (s->n && ts <= s->ts[s->n - 1]))
        return 0;
    s->ts[s->n] = ts;
    s->v[s->n++] = v;
    s->newest = ts;
    db->head_points++;
    return 1;
}

size_t disco__head_remove(disco_tsdb *db, tsdb_series *s, int64_t from, int64_t to)
{
    size_t a = disco__head_lower_bound(s, from), b = disco__head_lower_bound(s, to), k = b - a;

    if (!k)
        return 0;
    memmove(s->ts + a, s->ts + b, (s->n - b) * sizeof *s->ts);
    memmove(s->v + a, s->v + b, (s->n - b) * sizeof *s->v);
    s->n -= k;
    db->head_points -= k;
    if (!s->n)
        disco__head_free(db, s);
    return k;
}

void disco__head_drop_front(disco_tsdb *db, tsdb_series *s, size_t k)
{
    if (k >= s->n) {
        disco__head_free(db, s);
        return;
    }
    memmove(s->ts, s->ts + k, (s->n - k) * sizeof *s->ts);
    memmove(s->v, s->v + k, (s->n - k) * sizeof *s->v);
    s->n -= k;
    db->head_points -= k;
}

void disco__head_free(disco_tsdb *db, tsdb_series *s)
{
    db->head_points -= s->n;
    free(s->ts);
    free(s->v);
    s->ts = NULL;
    s->v = NULL;
    s->n = s->cap = 0;
}

void disco__series_refresh(tsdb_series *s)
{
    s->chunk_max = INT64_MIN;
    for (size_t i = 0; i < s->n_chunks; i++)
        if (s->chunks[i].t_last > s->chunk_max)
            s->chunk_max = s->chunks[i].t_last;
    s->newest = s->chunk_max;
    if (s->n && s->ts[s->n - 1] > s->newest)
        s->newest = s->ts[s->n - 1];
}

/* ---- checking a batch --------------------------------------------------------------- */

/* One series of a batch while it is written. */
typedef struct wseries {
    tsdb_series *s; /* NULL until created */
    tsdb_metric *m;
    const char *key;
    int64_t newest;
    size_t count, at;
    int round, is_new;
} wseries;

static int scratch(disco_tsdb *db, size_t n, wseries **out, disco_status *st)
{
    if (n * sizeof(wseries) > db->wscratch_cap) {
        void *p = realloc(db->wscratch, n * sizeof(wseries));
        if (!p)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        db->wscratch = p;
        db->wscratch_cap = n * sizeof(wseries);
    }
    *out = db->wscratch;
    memset(*out, 0, n * sizeof(wseries));
    return DISCO_OK;
}

/* Finds (or prepares) the store's series for each series of the batch. */
static int resolve(disco_tsdb *db, const disco_ts_batch *b, wseries *ws, size_t nb,
                   disco_status *st)
{
    const char *key;
    json_t *idx;
    int rc;

    json_object_foreach (b->index, key, idx) {
        json_int_t i = json_integer_value(idx);
        if (i >= 0 && (size_t)i < nb)
            ws[i].key = key;
    }
    for (size_t i = 0; i < nb; i++) {
        json_t *e = json_array_get(b->series, i);
        const char *metric = json_string_value(json_object_get(e, "metric"));
        if (!ws[i].key || !metric)
            return disco_status_set(st, DISCO_ERR_INVAL, "batch",
                                    "batch series %zu is malformed (use disco_ts_batch_series)", i);
        ws[i].s = disco__map_get(&db->by_key, ws[i].key);
        if (!ws[i].s && (rc = disco__metric_get(db, metric, &ws[i].m, st)) != DISCO_OK)
            return rc;
        if (ws[i].s)
            ws[i].m = ws[i].s->metric;
        ws[i].newest = ws[i].s ? ws[i].s->newest : INT64_MIN;
        ws[i].round = ws[i].m->prec.kind != DISCO_TS_FLOAT64;
    }
    return DISCO_OK;
}

static int refuse_old(disco_tsdb *db, const wseries *w, int64_t ts, disco_status *st)
{
    int64_t limit = tsdb_sub_sat(w->newest, db->cfg.ooo_window_ms);

    return disco_status_set(st, DISCO_ERR_INVAL, "batch",
                            "series %.200s: timestamp %" PRId64 " is older than the out-of-order "
                            "limit %" PRId64 " (newest %" PRId64 " minus the %" PRId64
                            " ms window); batch refused",
                            w->key, ts, limit, w->newest, db->cfg.ooo_window_ms);
}

static int check(disco_tsdb *db, const disco_ts_batch *b, wseries *ws, size_t nb, disco_status *st)
{
    int64_t keep = db->cfg.retention_ms > 0
                       ? tsdb_sub_sat(disco_time_now_ms(), db->cfg.retention_ms)
                       : INT64_MIN;

    for (size_t j = 0; j < b->count; j++) {
        const disco_ts_sample *smp = &b->samples[j];
        wseries *w = smp->series < nb ? &ws[smp->series] : NULL;
        if (!w)
            return disco_status_set(st, DISCO_ERR_INVAL, "batch",
                                    "sample %zu names series %" PRIu32 " of a batch of %zu", j,
                                    smp->series, nb);
        if (smp->ts < w->newest && smp->ts < tsdb_sub_sat(w->newest, db->cfg.ooo_window_ms))
            return refuse_old(db, w, smp->ts, st);
        if (smp->ts < keep)
            return disco_status_set(st, DISCO_ERR_INVAL, "batch",
                                    "series %.200s: timestamp %" PRId64 " is older than the "
                                    "retention limit %" PRId64 " (now minus %" PRId64
                                    " ms); batch refused",
                                    w->key, smp->ts, keep, db->cfg.retention_ms);
        if (smp->ts > w->newest)
            w->newest = smp->ts;
        w->count++;
    }
    return DISCO_OK;
}

/* ---- applying a batch ------------------------------------------------------------- */

static void undo_new(disco_tsdb *db, wseries *ws, size_t nb)
{
    for (size_t i = 0; i < nb; i++)
        if (ws[i].is_new && ws[i].s && ws[i].s->alive && !ws[i].s->n)
            disco__series_forget(db, ws[i].s);
}

/* Creates the new series and reserves head room; returns the record size. */
static int prepare(disco_tsdb *db, const disco_ts_batch *b, wseries *ws, size_t nb, size_t *rec_len,
                   disco_status *st)
{
    size_t len = 8 + (size_t)TSDB_SAMPLE_BYTES * b->count;
    int rc;

    for (size_t i = 0; i < nb; i++) {
        json_t *e = json_array_get(b->series, i);
        const char *metric = json_string_value(json_object_get(e, "metric"));
        const json_t *tags = json_object_get(e, "tags");
        if (!ws[i].count)
            continue;
        if (!ws[i].s) {
            rc = disco__series_add(db, db->next_id, metric, tags, ws[i].key, &ws[i].s, st);
            if (rc != DISCO_OK)
                return rc;
            ws[i].is_new = 1;
            len += disco__series_def_size(metric, ws[i].s->tags);
        }
        if (disco__head_reserve(ws[i].s, ws[i].count) != DISCO_OK)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu points",
                                    ws[i].count);
    }
    *rec_len = len;
    return DISCO_OK;
}

/* Logs and stores one sample; 1 when it replaced a point. */
static inline int apply_one(disco_tsdb *db, const wseries *w, const disco_ts_sample *smp,
                            uint8_t *p)
{
    double v = w->round ? disco_ts_round(smp->value, &w->m->prec) : smp->value;

    tsdb_put32(p, w->s->id);
    tsdb_put64(p + 4, (uint64_t)smp->ts);
    tsdb_put64(p + 12, tsdb_dbits(v));
    return head_append(db, w->s, smp->ts, v) ? 0 : disco__head_put(db, w->s, smp->ts, v);
}

/* Sample indexes grouped by series, in batch order within a series. */
static int group(disco_tsdb *db, const disco_ts_batch *b, wseries *ws, size_t nb, disco_status *st)
{
    size_t at = 0;

    if (b->count > db->wperm_cap) {
        uint32_t *np = realloc(db->wperm, b->count * sizeof *np);
        if (!np)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        db->wperm = np;
        db->wperm_cap = b->count;
    }
    for (size_t i = 0; i < nb; i++) {
        ws[i].at = at;
        at += ws[i].count;
    }
    for (size_t j = 0; j < b->count; j++)
        db->wperm[ws[b->samples[j].series].at++] = (uint32_t)j;
    for (size_t i = 0; i < nb; i++)
        ws[i].at -= ws[i].count;
    return DISCO_OK;
}

/* Applies the batch series by series (when grouped), so that each head
 * is written in one go instead of one point per series in turn. */
static size_t apply(disco_tsdb *db, const disco_ts_batch *b, const wseries *ws, size_t nb,
                    int grouped, uint8_t *p)
{
    size_t replaced = 0;

    if (!grouped) {
        for (size_t j = 0; j < b->count; j++, p += TSDB_SAMPLE_BYTES)
            replaced += (size_t)apply_one(db, &ws[b->samples[j].series], &b->samples[j], p);
        return replaced;
    }
    for (size_t i = 0; i < nb; i++) {
        const uint32_t *perm = db->wperm + ws[i].at;
        for (size_t k = 0; k < ws[i].count; k++, p += TSDB_SAMPLE_BYTES)
            replaced += (size_t)apply_one(db, &ws[i], &b->samples[perm[k]], p);
    }
    return replaced;
}

static int write_locked(disco_tsdb *db, const disco_ts_batch *b, disco_tsdb_write_result *res,
                        uint64_t *lsn, disco_status *st)
{
    size_t nb = json_array_size(b->series), len = 0, news = 0;
    int grouped = nb >= GROUP_MIN_SERIES, rc;
    wseries *ws = NULL;
    uint8_t *p;

    if ((rc = disco__wal_usable(&db->wal, st)) != DISCO_OK ||
        (rc = scratch(db, nb ? nb : 1, &ws, st)) != DISCO_OK ||
        (rc = resolve(db, b, ws, nb, st)) != DISCO_OK ||
        (rc = check(db, b, ws, nb, st)) != DISCO_OK)
        return rc;
    if ((rc = prepare(db, b, ws, nb, &len, st)) != DISCO_OK ||
        (grouped && (rc = group(db, b, ws, nb, st)) != DISCO_OK) ||
        (rc = disco__wal_begin(&db->wal, len, &p, st)) != DISCO_OK) {
        undo_new(db, ws, nb);
        return rc;
    }
    for (size_t i = 0; i < nb; i++)
        news += (size_t)ws[i].is_new;
    tsdb_put32(p, (uint32_t)news);
    p += 4;
    for (size_t i = 0; i < nb; i++)
        if (ws[i].is_new)
            p = disco__series_def_put(p, ws[i].s->id, ws[i].s->metric->name, ws[i].s->tags);
    tsdb_put32(p, (uint32_t)b->count);
    res->replaced = apply(db, b, ws, nb, grouped, p + 4);
    *lsn = disco__wal_end(&db->wal, TSDB_REC_WRITE, len);
    res->written = b->count;
    res->new_series = news;
    return DISCO_OK;
}

static void flush_if_due(disco_tsdb *db)
{
    disco_status fst = {0};

    if (db->head_points < db->flush_at)
        return;
    if (disco__flush_locked(db, 0, &fst) != DISCO_OK) {
        DISCO_LOG_WARN("tsdb %s: flush failed: %s", db->dir, disco_status_message(&fst));
        db->flush_at = db->head_points + db->cfg.head_flush_points;
    }
}

int disco_tsdb_write(disco_tsdb *db, const disco_ts_batch *b, disco_tsdb_write_result *res,
                     disco_status *st)
{
    disco_tsdb_write_result r = {0};
    uint64_t lsn = 0;
    int rc;

    if (!db || !b)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb write: no store or batch");
    if (b->count > BATCH_MAX)
        return disco_status_set(st, DISCO_ERR_LIMIT, "batch",
                                "batch of %zu points: at most %zu per write", b->count, BATCH_MAX);
    if (res)
        *res = r;
    if (!b->count)
        return DISCO_OK;
    pthread_rwlock_wrlock(&db->lock);
    rc = write_locked(db, b, &r, &lsn, st);
    if (rc == DISCO_OK)
        flush_if_due(db);
    pthread_rwlock_unlock(&db->lock);
    if (rc == DISCO_OK)
        rc = disco__wal_commit(&db->wal, lsn, 0, st);
    if (rc == DISCO_OK && res)
        *res = r;
    return rc;
}

/* ---- writes from inside the store and from the log ------------------------------------ */

int disco__write_points(disco_tsdb *db, tsdb_series *s, int is_new, const int64_t *ts,
                        const double *v, size_t n, disco_status *st)
{
    size_t len = 8 + (size_t)TSDB_SAMPLE_BYTES * n +
                 (is_new ? disco__series_def_size(s->metric->name, s->tags) : 0);
    const disco_ts_precision *prec = &s->metric->prec;
    uint8_t *p;
    int rc;

    if (disco__head_reserve(s, n) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if ((rc = disco__wal_begin(&db->wal, len, &p, st)) != DISCO_OK)
        return rc;
    tsdb_put32(p, is_new ? 1 : 0);
    p += 4;
    if (is_new)
        p = disco__series_def_put(p, s->id, s->metric->name, s->tags);
    tsdb_put32(p, (uint32_t)n);
    p += 4;
    for (size_t i = 0; i < n; i++, p += TSDB_SAMPLE_BYTES) {
        double x = prec->kind == DISCO_TS_FLOAT64 ? v[i] : disco_ts_round(v[i], prec);
        tsdb_put32(p, s->id);
        tsdb_put64(p + 4, (uint64_t)ts[i]);
        tsdb_put64(p + 12, tsdb_dbits(x));
        if (!head_append(db, s, ts[i], x))
            disco__head_put(db, s, ts[i], x);
    }
    disco__wal_end(&db->wal, TSDB_REC_WRITE, len);
    return DISCO_OK;
}

static int replay_bad(const disco_tsdb *db, const char *seg, uint64_t off, const char *what,
                      disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                            "tsdb log %s/wal/%s: write record at offset %" PRIu64 ": %s", db->dir,
                            seg, off, what);
}

/* A series defined in the log: known already (from series.idx) or added. */
static int replay_series(disco_tsdb *db, uint32_t id, const char *metric, const json_t *tags,
                         const char *seg, uint64_t off, disco_status *st)
{
    char *key = disco_ts_series_key(metric, tags);
    tsdb_series *s = disco__series_by_id(db, id);
    int rc = DISCO_OK;

    if (!key)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (s && (!s->alive || strcmp(s->key, key) != 0))
        rc = replay_bad(db, seg, off, "series id reused for another series", st);
    else if (!s) {
        /* The key may belong to a series deleted since: the newer id takes it. */
        disco__map_del(&db->by_key, key);
        rc = disco__series_add(db, id, metric, tags, key, &s, st);
    }
    free(key);
    return rc;
}

static int replay_defs(disco_tsdb *db, const uint8_t *p, size_t len, size_t *at, const char *seg,
                       uint64_t off, disco_status *st)
{
    char metric[DISCO_TS_METRIC_MAX + 1];
    uint32_t n = len >= 4 ? tsdb_get32(p) : 0, id;
    json_t *tags;
    size_t used;
    int rc;

    if (len < 4)
        return replay_bad(db, seg, off, "truncated", st);
    *at = 4;
    for (uint32_t i = 0; i < n; i++) {
        if (disco__series_def_get(p + *at, len - *at, &id, metric, &tags, &used) != DISCO_OK)
            return replay_bad(db, seg, off, "bad series definition", st);
        rc = replay_series(db, id, metric, tags, seg, off, st);
        json_decref(tags);
        if (rc != DISCO_OK)
            return rc;
        *at += used;
    }
    return DISCO_OK;
}

int disco__replay_write(disco_tsdb *db, const uint8_t *p, size_t len, const char *seg, uint64_t off,
                        disco_status *st)
{
    size_t at = 0, n;
    int rc = replay_defs(db, p, len, &at, seg, off, st);

    if (rc != DISCO_OK)
        return rc;
    n = len - at >= 4 ? tsdb_get32(p + at) : SIZE_MAX;
    if (n == SIZE_MAX || (len - at - 4) / TSDB_SAMPLE_BYTES != n ||
        (len - at - 4) % TSDB_SAMPLE_BYTES)
        return replay_bad(db, seg, off, "bad point count", st);
    for (p += at + 4; n--; p += TSDB_SAMPLE_BYTES) {
        tsdb_series *s = disco__series_by_id(db, tsdb_get32(p));
        int64_t ts = (int64_t)tsdb_get64(p + 4);
        double v = tsdb_bitsd(tsdb_get64(p + 12));
        if (!s || !s->alive)
            return replay_bad(db, seg, off, "point of an undefined series", st);
        if (disco__head_reserve(s, 1) != DISCO_OK)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        if (!head_append(db, s, ts, v))
            disco__head_put(db, s, ts, v);
    }
    return DISCO_OK;
}
