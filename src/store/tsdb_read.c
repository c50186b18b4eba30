/*
 * tsdb_read.c - reading: each selected series' points in a range, its
 * chunks and head merged into one sorted array.
 *
 *   chunks   [c1: 0..99] [c2: 100..199] [c3: 200..299]      head [300..340]
 *   plain    decode c1, c2, c3 straight into the result, copy the head slice
 *
 *   chunks   [c1 (file 3): 0..99]                 head [50, 120]
 *            [c2 (file 5): 90..150]
 *   merged   c1, then c2 merged into the tail from 90 on, then the head from
 *            50 on; equal timestamps keep the newer source (head > file 5 >
 *            file 3): the last write wins
 *
 * DESIGN
 *   The plain path (chunks disjoint and before the head, the usual case)
 *   decodes interior chunks in place into the per-call result arrays and
 *   only boundary chunks through a scratch buffer: no per-point work besides
 *   the codec's. Buffers belong to one call and grow to the largest series.
 *   The lock is taken per series, so `fn` runs unlocked and may use the
 *   store (even write to it).
 */
#include "tsdb_int.h"

#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define BIG_BYTES ((size_t)4 << 20) /* buffers from this size are mapped */

/* ---- buffers -------------------------------------------------------------------- */

/* Room for n 8-byte items. Large buffers are mapped with huge pages
 * asked for, so that a series of millions of points does not pay a page
 * fault per 4 KiB; big_free() needs the same n. */
static void *big_alloc(size_t n)
{
    size_t len = n * 8;
    void *p;

    if (len < BIG_BYTES)
        return malloc(len ? len : 1);
    len = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    madvise(p, len, MADV_HUGEPAGE);
    return p;
}

static void big_free(void *p, size_t n)
{
    size_t len = n * 8;

    if (len < BIG_BYTES)
        free(p);
    else if (p)
        munmap(p, (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE);
}

/* A new array of n items for one of `old` (contents are not kept: every
 * caller fills its buffers anew); *ok is cleared when out of memory. */
static void *renew(void *p, size_t old, size_t n, int *ok)
{
    big_free(p, old);
    p = big_alloc(n);
    *ok &= p != NULL;
    return p;
}

static int need_result(tsdb_rbuf *rb, size_t n, disco_status *st)
{
    int ok = 1;

    if (n <= rb->cap)
        return DISCO_OK;
    n += n / 4;
    rb->ts = renew(rb->ts, rb->cap, n, &ok);
    rb->v = renew(rb->v, rb->cap, n, &ok);
    rb->cap = n;
    if (ok)
        return DISCO_OK;
    disco__rbuf_free(rb);
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu points", n);
}

static int need_merge(tsdb_rbuf *rb, size_t n, disco_status *st)
{
    int ok = 1;

    if (n <= rb->mcap)
        return DISCO_OK;
    n += n / 4;
    rb->seq = renew(rb->seq, rb->mcap, n, &ok);
    rb->seq2 = renew(rb->seq2, rb->mcap, n, &ok);
    rb->ts2 = renew(rb->ts2, rb->mcap, n, &ok);
    rb->v2 = renew(rb->v2, rb->mcap, n, &ok);
    rb->mcap = n;
    if (ok)
        return DISCO_OK;
    disco__rbuf_free(rb);
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu points", n);
}

static int need_decode(tsdb_rbuf *rb, size_t n, disco_status *st)
{
    int ok = 1;

    if (n <= rb->dcap)
        return DISCO_OK;
    rb->dts = renew(rb->dts, rb->dcap, n, &ok);
    rb->dv = renew(rb->dv, rb->dcap, n, &ok);
    rb->dcap = n;
    if (ok)
        return DISCO_OK;
    disco__rbuf_free(rb);
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu points", n);
}

void disco__rbuf_free(tsdb_rbuf *rb)
{
    big_free(rb->ts, rb->cap);
    big_free(rb->v, rb->cap);
    big_free(rb->seq, rb->mcap);
    big_free(rb->seq2, rb->mcap);
    big_free(rb->ts2, rb->mcap);
    big_free(rb->v2, rb->mcap);
    big_free(rb->dts, rb->dcap);
    big_free(rb->dv, rb->dcap);
    memset(rb, 0, sizeof *rb);
}

static size_t lower_bound(const int64_t *ts, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Decodes chunk `r` into the scratch and narrows it to [from, to). */
static int decode_slice(const tsdb_cref *r, int64_t from, int64_t to, tsdb_rbuf *rb, size_t *a,
                        size_t *b, disco_status *st)
{
    int rc = need_decode(rb, r->count, st);

    if (rc == DISCO_OK)
        rc = disco__chunk_decode(r, rb->dts, rb->dv, st);
    if (rc != DISCO_OK)
        return rc;
    *a = lower_bound(rb->dts, r->count, from);
    *b = lower_bound(rb->dts, r->count, to);
    return DISCO_OK;
}

/* ---- the plain path ------------------------------------------------------------------- */

/* First chunk whose t_last >= from (chunks disjoint, so t_last ascends). */
static size_t first_chunk(const tsdb_series *s, int64_t from)
{
    size_t lo = 0, hi = s->n_chunks;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->chunks[mid].t_last < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int read_plain(const tsdb_series *s, int64_t from, int64_t to, tsdb_rbuf *rb, size_t *n,
                      disco_status *st)
{
    size_t i0 = first_chunk(s, from), total = 0, pos = 0, ha, hb, a, b;
    int rc;

    for (size_t i = i0; i < s->n_chunks && s->chunks[i].t_first < to; i++)
        total += s->chunks[i].count;
    ha = disco__head_lower_bound(s, from);
    hb = disco__head_lower_bound(s, to);
    if ((rc = need_result(rb, total + (hb - ha), st)) != DISCO_OK)
        return rc;
    for (size_t i = i0; i < s->n_chunks && s->chunks[i].t_first < to; i++) {
        const tsdb_cref *r = &s->chunks[i];
        if (r->t_first >= from && r->t_last < to) {
            if ((rc = disco__chunk_decode(r, rb->ts + pos, rb->v + pos, st)) != DISCO_OK)
                return rc;
            pos += r->count;
            continue;
        }
        if ((rc = decode_slice(r, from, to, rb, &a, &b, st)) != DISCO_OK)
            return rc;
        memcpy(rb->ts + pos, rb->dts + a, (b - a) * sizeof *rb->ts);
        memcpy(rb->v + pos, rb->dv + a, (b - a) * sizeof *rb->v);
        pos += b - a;
    }
    if (hb > ha) {
        memcpy(rb->ts + pos, s->ts + ha, (hb - ha) * sizeof *rb->ts);
        memcpy(rb->v + pos, s->v + ha, (hb - ha) * sizeof *rb->v);
    }
    *n = pos + (hb - ha);
    return DISCO_OK;
}

/* ---- the merging path ---------------------------------------------------------------- */

/* Merges a sorted slice from source `seq` into the result from its first
 * timestamp on; on equal timestamps the larger seq (newer source) wins. */
static void merge_in(tsdb_rbuf *rb, size_t *n, const int64_t *ts, const double *v, size_t m,
                     uint64_t seq)
{
    size_t p, i, j = 0, k = 0;

    if (*n == 0 || ts[0] > rb->ts[*n - 1]) {
        memcpy(rb->ts + *n, ts, m * sizeof *ts);
        memcpy(rb->v + *n, v, m * sizeof *v);
        for (i = 0; i < m; i++)
            rb->seq[*n + i] = seq;
        *n += m;
        return;
    }
    p = lower_bound(rb->ts, *n, ts[0]);
    for (i = p; i < *n || j < m; k++) {
        int take_old = j == m || (i < *n && rb->ts[i] < ts[j]);
        int same = !take_old && i < *n && rb->ts[i] == ts[j];
        if (take_old || (same && rb->seq[i] > seq)) {
            rb->ts2[k] = rb->ts[i];
            rb->v2[k] = rb->v[i];
            rb->seq2[k] = rb->seq[i++];
            j += (size_t)same;
        } else {
            rb->ts2[k] = ts[j];
            rb->v2[k] = v[j++];
            rb->seq2[k] = seq;
            i += (size_t)same;
        }
    }
    memcpy(rb->ts + p, rb->ts2, k * sizeof *rb->ts);
    memcpy(rb->v + p, rb->v2, k * sizeof *rb->v);
    memcpy(rb->seq + p, rb->seq2, k * sizeof *rb->seq);
    *n = p + k;
}

/* Which sources a merge takes: a time range, chunk files lo..hi, the head or not. */
typedef struct merge_scope {
    int64_t from, to;
    uint64_t lo, hi;
    int head;
} merge_scope;

static int in_scope(const tsdb_cref *r, const merge_scope *sc)
{
    return r->t_last >= sc->from && r->t_first < sc->to && r->file->seq >= sc->lo &&
           r->file->seq <= sc->hi;
}

static int read_merge(const tsdb_series *s, const merge_scope *sc, tsdb_rbuf *rb, size_t *n,
                      disco_status *st)
{
    size_t total = 0, ha = disco__head_lower_bound(s, sc->from), hb, a, b;
    int head_done, rc;

    hb = sc->head ? disco__head_lower_bound(s, sc->to) : ha;
    head_done = ha == hb;
    for (size_t i = 0; i < s->n_chunks; i++)
        total += in_scope(&s->chunks[i], sc) ? s->chunks[i].count : 0;
    total += hb - ha;
    if ((rc = need_result(rb, total, st)) != DISCO_OK ||
        (rc = need_merge(rb, total, st)) != DISCO_OK)
        return rc;
    *n = 0;
    for (size_t i = 0; i <= s->n_chunks; i++) {
        const tsdb_cref *r = i < s->n_chunks ? &s->chunks[i] : NULL;
        if (!head_done && (!r || r->t_first > s->ts[ha])) {
            merge_in(rb, n, s->ts + ha, s->v + ha, hb - ha, UINT64_MAX);
            head_done = 1;
        }
        if (!r || !in_scope(r, sc))
            continue;
        if ((rc = decode_slice(r, sc->from, sc->to, rb, &a, &b, st)) != DISCO_OK)
            return rc;
        if (b > a)
            merge_in(rb, n, rb->dts + a, rb->dv + a, b - a, r->file->seq);
    }
    return DISCO_OK;
}

int disco__read_files(tsdb_series *s, uint64_t lo, uint64_t hi, tsdb_rbuf *rb, size_t *n,
                      disco_status *st)
{
    merge_scope sc = {INT64_MIN, INT64_MAX, lo, hi, 0};

    return read_merge(s, &sc, rb, n, st);
}

int disco__read_series(tsdb_series *s, int64_t from, int64_t to, tsdb_rbuf *rb, const int64_t **ts,
                       const double **v, size_t *n, disco_status *st)
{
    int merge = s->overlap || (s->n && s->n_chunks && s->ts[0] <= s->chunk_max);
    int rc;

    *n = 0;
    *ts = rb->ts;
    *v = rb->v;
    if (from >= to)
        return DISCO_OK;
    if (merge) {
        merge_scope sc = {from, to, 0, UINT64_MAX, 1};
        rc = read_merge(s, &sc, rb, n, st);
    } else {
        rc = read_plain(s, from, to, rb, n, st);
    }
    *ts = rb->ts;
    *v = rb->v;
    return rc;
}

int disco__chunks_hold(disco_tsdb *db, tsdb_series *s, int64_t ts)
{
    tsdb_rbuf *rb = &db->wrbuf;
    size_t a, b;

    for (size_t i = 0; i < s->n_chunks; i++) {
        const tsdb_cref *r = &s->chunks[i];
        if (r->t_first > ts || r->t_last < ts)
            continue;
        if (decode_slice(r, ts, ts + 1, rb, &a, &b, NULL) == DISCO_OK && b > a)
            return 1;
    }
    return 0;
}

/* ---- the public reads ------------------------------------------------------------------- */

static int check_selector(const disco_tsdb *db, const disco_ts_selector *sel, disco_status *st)
{
    if (!db || !sel)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb: no store or selector");
    return DISCO_OK;
}

/* Reads one series under the read lock; *s_out is NULL when it is gone. */
static int read_one(disco_tsdb *db, uint32_t id, const disco_ts_selector *sel, tsdb_rbuf *rb,
                    disco_ts_series_info *info, size_t *n, disco_status *st)
{
    tsdb_series *s;
    const int64_t *ts;
    const double *v;
    int rc = DISCO_OK;

    *n = 0;
    pthread_rwlock_rdlock(&db->lock);
    s = disco__series_by_id(db, id);
    if (s && s->alive) {
        rc = disco__read_series(s, sel->from, sel->to, rb, &ts, &v, n, st);
        *info = (disco_ts_series_info){id, s->metric->name, s->tags};
    }
    pthread_rwlock_unlock(&db->lock);
    return rc;
}

int disco_tsdb_read(disco_tsdb *db, const disco_ts_selector *sel, disco_ts_read_fn fn, void *user,
                    disco_status *st)
{
    tsdb_ids ids = {0};
    tsdb_rbuf rb = {0};
    int rc = check_selector(db, sel, st);

    if (rc == DISCO_OK && !fn)
        rc = disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb read: no callback");
    if (rc != DISCO_OK)
        return rc;
    pthread_rwlock_rdlock(&db->lock);
    rc = disco__select(db, sel, &ids, st);
    pthread_rwlock_unlock(&db->lock);
    for (size_t i = 0; rc == DISCO_OK && i < ids.n; i++) {
        disco_ts_series_info info;
        size_t n;
        rc = read_one(db, ids.v[i], sel, &rb, &info, &n, st);
        if (rc == DISCO_OK && n)
            rc = fn(user, &info, rb.ts, rb.v, n);
    }
    disco__ids_free(&ids);
    disco__rbuf_free(&rb);
    return rc;
}

/* Points of `s` in the range, with the first and last timestamps. */
static int summarize(tsdb_series *s, int64_t from, int64_t to, tsdb_rbuf *rb, size_t *count,
                     int64_t *first, int64_t *last, disco_status *st)
{
    const int64_t *ts;
    const double *v;
    int rc = disco__read_series(s, from, to, rb, &ts, &v, count, st);

    if (rc == DISCO_OK && *count) {
        *first = ts[0];
        *last = ts[*count - 1];
    }
    return rc;
}

static int series_entry(tsdb_series *s, const disco_ts_selector *sel, tsdb_rbuf *rb, json_t *arr,
                        disco_status *st)
{
    size_t count;
    int64_t first = 0, last = 0;
    json_t *e;
    int rc = summarize(s, sel->from, sel->to, rb, &count, &first, &last, st);

    if (rc != DISCO_OK || !count)
        return rc;
    e = json_pack("{s:s, s:O, s:I, s:I, s:I}", "metric", s->metric->name, "tags", s->tags, "points",
                  (json_int_t)count, "first", (json_int_t)first, "last", (json_int_t)last);
    if (!e || json_array_append_new(arr, e) != 0)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

int disco_tsdb_series(disco_tsdb *db, const disco_ts_selector *sel, json_t **out, disco_status *st)
{
    tsdb_ids ids = {0};
    tsdb_rbuf rb = {0};
    json_t *arr = json_array();
    int rc = check_selector(db, sel, st);

    if (rc == DISCO_OK && !arr)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc == DISCO_OK) {
        pthread_rwlock_rdlock(&db->lock);
        rc = disco__select(db, sel, &ids, st);
        for (size_t i = 0; rc == DISCO_OK && i < ids.n; i++)
            rc = series_entry(disco__series_by_id(db, ids.v[i]), sel, &rb, arr, st);
        pthread_rwlock_unlock(&db->lock);
    }
    disco__ids_free(&ids);
    disco__rbuf_free(&rb);
    if (rc != DISCO_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return DISCO_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int intersects(const tsdb_ids *a, const tsdb_ids *b)
{
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        if (a->v[i] == b->v[j])
            return 1;
        if (a->v[i] < b->v[j])
            i++;
        else
            j++;
    }
    return 0;
}

/* Values of `tk` held by series of `m` (all when m is NULL), sorted. */
static json_t *values_of(const tsdb_tagkey *tk, const tsdb_metric *m)
{
    const char **vals = malloc((tk->values.n ? tk->values.n : 1) * sizeof *vals);
    json_t *arr = json_array();
    size_t n = 0;

    if (!vals || !arr) {
        free(vals);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < tk->values.cap; i++) {
        const tsdb_tagval *tv = tk->values.slots[i].val;
        if (tk->values.slots[i].key && (!m || intersects(&tv->ids, &m->series)))
            vals[n++] = tv->value;
    }
    qsort(vals, n, sizeof *vals, cmp_str);
    for (size_t i = 0; i < n && arr; i++)
        if (json_array_append_new(arr, json_string(vals[i])) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    free(vals);
    return arr;
}

int disco_tsdb_tag_values(disco_tsdb *db, const char *metric, const char *key, json_t **out,
                          disco_status *st)
{
    const tsdb_tagkey *tk;
    const tsdb_metric *m = NULL;
    json_t *arr;

    if (!db || !key)
        return disco_status_set(st, DISCO_ERR_INVAL, "tag", "tsdb tag values: no store or key");
    pthread_rwlock_rdlock(&db->lock);
    tk = disco__map_get(&db->tagkeys, key);
    if (metric)
        m = disco__map_get(&db->metrics, metric);
    arr = (tk && (m || !metric)) ? values_of(tk, m) : json_array();
    pthread_rwlock_unlock(&db->lock);
    if (!arr)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    *out = arr;
    return DISCO_OK;
}
