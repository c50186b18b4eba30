/*
 * tsdb_retention.c - dropping points: retention by age and range deletes.
 *
 *   DELETE log record payload
 *   +------------------+---------+-------+--------+-------------------+
 *   | max_file_seq u64 | from i64| to i64| n u32  | series id u32 * n |
 *   +------------------+---------+-------+--------+-------------------+
 *
 * DESIGN
 *   A delete is logged (and fsynced) first, then removed from the head,
 *   then from every chunk file that holds points of the selected series in
 *   the range (each rewritten atomically, keeping its number). The record
 *   names the newest chunk file that existed, so replaying it after a crash
 *   mid-way touches those files only: newer files were written from a head
 *   that had the delete applied, and may hold points written since.
 *
 *   Retention is not logged: it runs again on open (after replay) and
 *   drops at least as much. Both forget series left without points.
 *   Rollup series are series of their own: deleting raw points leaves
 *   their rollups, and retention applies to them as to any series.
 */
#include "tsdb_int.h"

#include <inttypes.h>
#include <stdlib.h>

/* Cuts every file with seq <= max_seq. */
static int cut_files(disco_tsdb *db, const tsdb_cut *cut, uint64_t max_seq, uint64_t *removed,
                     disco_status *st)
{
    size_t i = 0;
    int rc;

    while (i < db->n_files && db->files[i]->seq <= max_seq) {
        size_t before = db->n_files;
        if ((rc = disco__chunks_cut(db, db->files[i], cut, removed, st)) != DISCO_OK)
            return rc;
        if (db->n_files == before)
            i++;
    }
    return DISCO_OK;
}

int disco__forget_empty(disco_tsdb *db, const tsdb_ids *ids, disco_status *st)
{
    tsdb_ids copy = {0};

    if (disco__ids_copy(&copy, ids ? ids : &db->all) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < copy.n; i++) {
        tsdb_series *s = disco__series_by_id(db, copy.v[i]);
        if (s && s->alive && !s->n && !s->n_chunks)
            disco__series_forget(db, s);
    }
    disco__ids_free(&copy);
    return DISCO_OK;
}

int disco__retention_locked(disco_tsdb *db, int64_t now_ms, uint64_t *dropped, disco_status *st)
{
    tsdb_cut cut = {NULL, INT64_MIN, tsdb_sub_sat(now_ms, db->cfg.retention_ms)};
    uint64_t removed = 0;
    int rc = DISCO_OK;

    if (db->cfg.retention_ms > 0) {
        rc = cut_files(db, &cut, UINT64_MAX, &removed, st);
        for (size_t i = 0; rc == DISCO_OK && i < db->all.n; i++) {
            tsdb_series *s = disco__series_by_id(db, db->all.v[i]);
            if (s->n && s->ts[0] < cut.to) {
                removed += disco__head_remove(db, s, INT64_MIN, cut.to);
                disco__series_refresh(s);
            }
        }
        if (rc == DISCO_OK)
            rc = disco__forget_empty(db, NULL, st);
    }
    if (dropped)
        *dropped = removed;
    return rc;
}

int disco_tsdb_apply_retention(disco_tsdb *db, int64_t now_ms, uint64_t *dropped, disco_status *st)
{
    int rc;

    if (!db)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb retention: no store");
    pthread_rwlock_wrlock(&db->lock);
    rc = disco__retention_locked(db, now_ms, dropped, st);
    pthread_rwlock_unlock(&db->lock);
    return rc;
}

/* ---- deletes ------------------------------------------------------------------------ */

int disco__delete_chunks(disco_tsdb *db, const tsdb_ids *ids, int64_t from, int64_t to,
                         uint64_t max_seq, uint64_t *removed, disco_status *st)
{
    tsdb_cut cut = {ids, from, to};

    return cut_files(db, &cut, max_seq, removed, st);
}

static uint64_t remove_from_heads(disco_tsdb *db, const tsdb_ids *ids, int64_t from, int64_t to)
{
    uint64_t n = 0;

    for (size_t i = 0; i < ids->n; i++) {
        tsdb_series *s = disco__series_by_id(db, ids->v[i]);
        if (s && s->alive && s->n)
            n += disco__head_remove(db, s, from, to);
    }
    return n;
}

static int log_delete(disco_tsdb *db, const tsdb_ids *ids, int64_t from, int64_t to,
                      uint64_t max_seq, disco_status *st)
{
    size_t len = 28 + 4 * ids->n;
    uint64_t lsn;
    uint8_t *p;
    int rc = disco__wal_begin(&db->wal, len, &p, st);

    if (rc != DISCO_OK)
        return rc;
    tsdb_put64(p, max_seq);
    tsdb_put64(p + 8, (uint64_t)from);
    tsdb_put64(p + 16, (uint64_t)to);
    tsdb_put32(p + 24, (uint32_t)ids->n);
    for (size_t i = 0; i < ids->n; i++)
        tsdb_put32(p + 28 + 4 * i, ids->v[i]);
    lsn = disco__wal_end(&db->wal, TSDB_REC_DELETE, len);
    return disco__wal_commit(&db->wal, lsn, 1, st);
}

/* Points the selected series hold in [from, to) (each timestamp once). */
static int count_range(disco_tsdb *db, const tsdb_ids *ids, int64_t from, int64_t to,
                       uint64_t *count, disco_status *st)
{
    const int64_t *ts;
    const double *v;
    size_t n;
    int rc = DISCO_OK;

    *count = 0;
    for (size_t i = 0; rc == DISCO_OK && i < ids->n; i++) {
        rc = disco__read_series(disco__series_by_id(db, ids->v[i]), from, to, &db->wrbuf, &ts, &v,
                                &n, st);
        *count += n;
    }
    return rc;
}

static int delete_locked(disco_tsdb *db, const disco_ts_selector *sel, uint64_t *deleted,
                         disco_status *st)
{
    tsdb_ids ids = {0};
    uint64_t max_seq = db->next_file_seq ? db->next_file_seq - 1 : 0, copies = 0;
    int rc = disco__select(db, sel, &ids, st);

    *deleted = 0;
    if (rc == DISCO_OK && ids.n && sel->from < sel->to)
        rc = count_range(db, &ids, sel->from, sel->to, deleted, st);
    if (rc == DISCO_OK && *deleted) {
        rc = log_delete(db, &ids, sel->from, sel->to, max_seq, st);
        if (rc == DISCO_OK) {
            remove_from_heads(db, &ids, sel->from, sel->to);
            rc = disco__delete_chunks(db, &ids, sel->from, sel->to, max_seq, &copies, st);
        }
        for (size_t i = 0; i < ids.n; i++)
            disco__series_refresh(disco__series_by_id(db, ids.v[i]));
        if (rc == DISCO_OK)
            rc = disco__forget_empty(db, &ids, st);
    }
    disco__ids_free(&ids);
    return rc;
}

int disco_tsdb_delete(disco_tsdb *db, const disco_ts_selector *sel, uint64_t *deleted,
                      disco_status *st)
{
    uint64_t n = 0;
    int rc;

    if (!db || !sel)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb delete: no store or selector");
    pthread_rwlock_wrlock(&db->lock);
    rc = disco__wal_usable(&db->wal, st);
    if (rc == DISCO_OK)
        rc = delete_locked(db, sel, &n, st);
    if (rc != DISCO_OK)
        n = 0;
    pthread_rwlock_unlock(&db->lock);
    if (deleted)
        *deleted = n;
    return rc;
}

/* ---- replay ------------------------------------------------------------------------------ */

int disco__replay_delete(disco_tsdb *db, const uint8_t *p, size_t len, const char *seg,
                         uint64_t off, disco_status *st)
{
    tsdb_pending_delete d = {0};
    uint32_t n = len >= 28 ? tsdb_get32(p + 24) : 0;

    if (len < 28 || (len - 28) / 4 != n || (len - 28) % 4)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                                "tsdb log %s/wal/%s: delete record at offset %" PRIu64
                                " is malformed",
                                db->dir, seg, off);
    d.max_file_seq = tsdb_get64(p);
    d.from = (int64_t)tsdb_get64(p + 8);
    d.to = (int64_t)tsdb_get64(p + 16);
    for (uint32_t i = 0; i < n; i++)
        if (disco__ids_add(&d.ids, tsdb_get32(p + 28 + 4 * i)) != DISCO_OK)
            goto nomem;
    remove_from_heads(db, &d.ids, d.from, d.to);
    if (db->n_pdel % 16 == 0) {
        tsdb_pending_delete *np = realloc(db->pdel, (db->n_pdel + 16) * sizeof *np);
        if (!np)
            goto nomem;
        db->pdel = np;
    }
    db->pdel[db->n_pdel++] = d;
    return DISCO_OK;
nomem:
    disco__ids_free(&d.ids);
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

int disco__pending_deletes(disco_tsdb *db, disco_status *st)
{
    int rc = DISCO_OK;

    for (size_t i = 0; i < db->n_pdel; i++) {
        tsdb_pending_delete *d = &db->pdel[i];
        uint64_t n = 0;
        if (rc == DISCO_OK)
            rc = disco__delete_chunks(db, &d->ids, d->from, d->to, d->max_file_seq, &n, st);
        disco__ids_free(&d->ids);
    }
    free(db->pdel);
    db->pdel = NULL;
    db->n_pdel = 0;
    return rc;
}
