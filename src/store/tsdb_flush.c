/*
 * tsdb_flush.c - moving head points into a chunk file, then checkpointing
 * the log.
 *
 *   1. rollups: buckets completed since the last flush are aggregated
 *      and written (through the log) into their rollup series
 *   2. each series gives its points older than (newest - out-of-order
 *      window), or all of them on an explicit flush or when the series is
 *      idle (its newest point is older than the store's newest minus the
 *      window)
 *   3. those points become chunk file N (temp + fsync + rename + fsync dir)
 *      and leave the head
 *   4. series.idx is rewritten when the registry changed
 *   5. the log is replaced by one checkpoint segment holding the head's
 *      remaining points (WRITE records without series definitions)
 *   6. retention, then merges of small chunk files (tsdb_compact.c)
 *
 * A crash before 5 leaves the old log, which replays points that are also
 * in file N: the head then wins over the file with the same values, and
 * the next flush writes them again. A crash inside 5 is covered by the
 * checkpoint's rename (tsdb_wal.c).
 *
 * Points flushed by an explicit flush may get an out-of-order neighbour
 * later (inside the window): it goes to the head and then to a newer
 * file; reads merge overlapping chunks, newest file winning.
 */
#include "tsdb_int.h"

#include "disco/timeutil.h"

#include <stdlib.h>

#define CKPT_POINTS 65536 /* points per checkpoint record */

/* Series whose newest point is older than this are idle (nothing came
 * within a window of the store's newest point), so a flush takes all their
 * points; a late point after that still works: it goes to a newer file. */
static int64_t idle_before(const disco_tsdb *db)
{
    int64_t newest = INT64_MIN;

    for (size_t i = 0; i < db->all.n; i++) {
        const tsdb_series *s = disco__series_by_id(db, db->all.v[i]);
        if (s->newest > newest)
            newest = s->newest;
    }
    return tsdb_sub_sat(newest, db->cfg.ooo_window_ms);
}

int64_t disco__flush_mark(const disco_tsdb *db, const tsdb_series *s, int all, int64_t idle)
{
    if (all || s->newest < idle)
        return s->newest;
    return tsdb_sub_sat(s->newest, db->cfg.ooo_window_ms);
}

/* The head points of `s` that a flush moves: those before its mark, or all. */
static size_t flushable(const disco_tsdb *db, const tsdb_series *s, int all, int64_t idle)
{
    if (all || s->newest < idle)
        return s->n;
    return disco__head_lower_bound(s, disco__flush_mark(db, s, all, idle));
}

static int plan(disco_tsdb *db, int all, tsdb_flush_item **items, size_t *n, disco_status *st)
{
    int64_t idle = idle_before(db);
    size_t cap = 0;

    *items = NULL;
    *n = 0;
    for (size_t i = 0; i < db->all.n; i++) {
        tsdb_series *s = disco__series_by_id(db, db->all.v[i]);
        size_t k = s->n ? flushable(db, s, all, idle) : 0;
        if (!k)
            continue;
        if (*n == cap) {
            tsdb_flush_item *ni = realloc(*items, (cap = cap ? cap * 2 : 256) * sizeof *ni);
            if (!ni)
                return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
            *items = ni;
        }
        (*items)[(*n)++] = (tsdb_flush_item){s, k};
    }
    return DISCO_OK;
}

/* ---- the checkpoint: the head as WRITE records ------------------------------------------ */

typedef struct ckpt_rec {
    tsdb_ckpt *c;
    uint8_t *p;
    size_t n;
} ckpt_rec;

static int rec_emit(ckpt_rec *r, disco_status *st)
{
    int rc;

    if (!r->n)
        return DISCO_OK;
    tsdb_put32(r->p, 0);
    tsdb_put32(r->p + 4, (uint32_t)r->n);
    rc = disco__wal_ckpt_put(r->c, TSDB_REC_WRITE, r->p, 8 + r->n * TSDB_SAMPLE_BYTES, st);
    r->n = 0;
    return rc;
}

static int rec_series(ckpt_rec *r, const tsdb_series *s, disco_status *st)
{
    int rc;

    for (size_t i = 0; i < s->n; i++) {
        uint8_t *q = r->p + 8 + r->n * TSDB_SAMPLE_BYTES;
        tsdb_put32(q, s->id);
        tsdb_put64(q + 4, (uint64_t)s->ts[i]);
        tsdb_put64(q + 12, tsdb_dbits(s->v[i]));
        if (++r->n == CKPT_POINTS && (rc = rec_emit(r, st)) != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

static int ckpt_head(void *user, tsdb_ckpt *c, disco_status *st)
{
    disco_tsdb *db = user;
    ckpt_rec r = {c, malloc(8 + (size_t)CKPT_POINTS * TSDB_SAMPLE_BYTES), 0};
    int rc = r.p ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    for (size_t i = 0; rc == DISCO_OK && i < db->all.n; i++) {
        const tsdb_series *s = disco__series_by_id(db, db->all.v[i]);
        if (s->n)
            rc = rec_series(&r, s, st);
    }
    if (rc == DISCO_OK)
        rc = rec_emit(&r, st);
    free(r.p);
    return rc;
}

/* ---- the flush ------------------------------------------------------------------------ */

static int move_to_chunks(disco_tsdb *db, int all, size_t *moved, disco_status *st)
{
    tsdb_flush_item *items;
    size_t n;
    int rc = plan(db, all, &items, &n, st);

    *moved = 0;
    if (rc == DISCO_OK && n) {
        rc = disco__chunks_write(db, items, n, st);
        for (size_t i = 0; rc == DISCO_OK && i < n; i++) {
            disco__head_drop_front(db, items[i].s, items[i].k);
            *moved += items[i].k;
        }
    }
    free(items);
    return rc;
}

int disco__flush_locked(disco_tsdb *db, int all, disco_status *st)
{
    size_t moved = 0;
    int rc = disco__wal_usable(&db->wal, st);

    if (rc == DISCO_OK)
        rc = disco__rollup_run(db, all, idle_before(db), st);
    /* rollup points and series must be in the log before series.idx or a
     * chunk file speaks of them */
    if (rc == DISCO_OK)
        rc = disco__wal_commit(&db->wal, disco__wal_appended(&db->wal), 0, st);
    if (rc == DISCO_OK)
        rc = move_to_chunks(db, all, &moved, st);
    if (rc == DISCO_OK && db->registry_dirty)
        rc = disco__meta_save(db, st);
    if (rc == DISCO_OK && (moved || all))
        rc = disco__wal_checkpoint(&db->wal, ckpt_head, db, st);
    if (rc == DISCO_OK && db->cfg.retention_ms > 0)
        rc = disco__retention_locked(db, disco_time_now_ms(), NULL, st);
    if (rc == DISCO_OK)
        rc = disco__compact_locked(db, st);
    db->flush_at = db->head_points + db->cfg.head_flush_points;
    return rc;
}

int disco_tsdb_flush(disco_tsdb *db, disco_status *st)
{
    int rc;

    if (!db)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb flush: no store");
    pthread_rwlock_wrlock(&db->lock);
    rc = disco__flush_locked(db, 1, st);
    pthread_rwlock_unlock(&db->lock);
    return rc;
}
