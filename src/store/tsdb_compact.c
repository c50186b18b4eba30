/*
 * tsdb_compact.c - chunk files written again: cut (deletes, retention) and
 * merged (runs of small files).
 *
 *   cut     file 7: [a: 0..99][a: 100..199][b: 0..99]   cut a in [150, 1000)
 *           file 7: [a: 0..99][a: 100..149][b: 0..99]   same number, chunks
 *                                                       outside the cut copied
 *                                                       as they are
 *
 *   merge   files 9 10 11 12 (small, one size tier)  ->  file 12
 *           each series' chunks merged (newest file wins on equal
 *           timestamps) and encoded again in chunks of chunk_points
 *
 * DESIGN
 *   Both write <seq>.tmp and rename it over <seq>.dtc, so a file is either
 *   old or new. A merge takes a run of consecutive file numbers and gives
 *   the result the highest, so it keeps its place in "newest wins" against
 *   every other file; the run's other files are removed after the rename. A
 *   crash in between leaves them next to the merged file, which holds the
 *   same data and wins over them: reads stay right, and the next merge
 *   takes them in. Merges only run when no delete is in flight (deletes
 *   finish their rewrites before returning, and recovery finishes
 *   interrupted ones before anything else), so a merged file never needs
 *   a logged delete replayed into it.
 *
 *   Files count as small below head_flush_points / 8 points (files of
 *   flushes at the threshold hold about head_flush_points and are left
 *   alone); size tiers are powers of 4 of the point count, and MERGE_RUN
 *   files of a tier at the end of the list make a run. Files written by
 *   explicit flushes (say, once per training epoch) thus merge into files
 *   about 4 times larger, and so on, so their number stays logarithmic and
 *   each point is rewritten a few times at most.
 */
#include "tsdb_int.h"

#include <stdlib.h>

#define MERGE_RUN 4  /* files of one tier merged at once */
#define SMALL_PART 8 /* files under head_flush_points / SMALL_PART are small */

/* ---- cuts ------------------------------------------------------------------------------ */

enum { KEEP, DROP, FILTER };

static int has_id(const tsdb_ids *ids, uint32_t id)
{
    size_t lo = 0, hi = ids->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids->v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ids->n && ids->v[lo] == id;
}

static int cut_action(const tsdb_centry *e, const tsdb_cut *cut)
{
    if (e->t_last < cut->from || e->t_first >= cut->to)
        return KEEP;
    if (cut->ids && !has_id(cut->ids, e->series))
        return KEEP;
    return (e->t_first >= cut->from && e->t_last < cut->to) ? DROP : FILTER;
}

/* Decodes a chunk, drops the cut range and encodes what is left. */
static int filter_chunk(tsdb_cwriter *w, tsdb_cfile *f, uint32_t i, const tsdb_cut *cut,
                        uint64_t *removed, disco_status *st)
{
    const tsdb_centry *e = &f->entries[i];
    tsdb_cref r = {f, i, e->count, e->t_first, e->t_last};
    int64_t *ts = malloc(e->count * sizeof *ts);
    double *v = malloc(e->count * sizeof *v);
    disco_ts_precision p = disco__centry_prec(e);
    size_t k = 0;
    int rc = (ts && v) ? disco__chunk_decode(&r, ts, v, st)
                       : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    for (size_t j = 0; rc == DISCO_OK && j < e->count; j++)
        if (ts[j] < cut->from || ts[j] >= cut->to) {
            ts[k] = ts[j];
            v[k++] = v[j];
        }
    if (rc == DISCO_OK && k)
        rc = disco__cw_encode(w, e->series, ts, v, k, &p, st);
    if (rc == DISCO_OK)
        *removed += e->count - k;
    free(ts);
    free(v);
    return rc;
}

/* Writes the file again without what `cut` covers; *empty when nothing is left. */
static int rewrite(disco_tsdb *db, tsdb_cfile *f, const tsdb_cut *cut, uint64_t *removed,
                   int *empty, disco_status *st)
{
    tsdb_cfile nf = {.seq = f->seq, .path = f->path};
    tsdb_cwriter w;
    int rc = disco__cw_open(&w, db, f->seq, st);

    for (uint32_t i = 0; rc == DISCO_OK && i < f->n_entries; i++) {
        const tsdb_centry *e = &f->entries[i];
        int act = cut_action(e, cut);
        if (act == KEEP)
            rc = disco__cw_copy(&w, e, f->map + e->offset, st);
        else if (act == DROP)
            *removed += e->count;
        else
            rc = filter_chunk(&w, f, i, cut, removed, st);
    }
    *empty = rc == DISCO_OK && w.n == 0;
    if (rc == DISCO_OK && !*empty)
        rc = disco__cw_commit(&w, &nf, st);
    disco__cw_release(&w, 1);
    if (rc == DISCO_OK && !*empty)
        return disco__chunks_replace(db, f, &nf, st);
    disco__cfile_unmap(&nf);
    return rc;
}

int disco__chunks_cut(disco_tsdb *db, tsdb_cfile *f, const tsdb_cut *cut, uint64_t *removed,
                      disco_status *st)
{
    size_t affected = 0, dropped = 0;
    uint64_t count = 0, got = 0;
    int empty = 0, rc;

    if (f->t_max < cut->from || f->t_min >= cut->to)
        return DISCO_OK;
    for (uint32_t i = 0; i < f->n_entries; i++) {
        int act = cut_action(&f->entries[i], cut);
        affected += act != KEEP;
        dropped += act == DROP;
        count += act == DROP ? f->entries[i].count : 0;
    }
    if (!affected)
        return DISCO_OK;
    if (dropped < f->n_entries) {
        if ((rc = rewrite(db, f, cut, &got, &empty, st)) != DISCO_OK)
            return rc;
        *removed += got;
        return empty ? disco__chunks_drop(db, f, st) : DISCO_OK;
    }
    if ((rc = disco__chunks_drop(db, f, st)) == DISCO_OK)
        *removed += count;
    return rc;
}

/* ---- merges ---------------------------------------------------------------------------- */

static int tier(uint64_t points)
{
    int t = 0;

    for (; points >= 4; points >>= 2)
        t++;
    return t;
}

/* First file of the run due for a merge; n_files when there is none. */
static size_t due_run(const disco_tsdb *db)
{
    size_t n = db->n_files, i = n;
    uint64_t small = db->cfg.head_flush_points / SMALL_PART;
    int t;

    if (n < MERGE_RUN || db->files[n - 1]->points >= small)
        return n;
    t = tier(db->files[n - 1]->points);
    while (i > 0 && db->files[i - 1]->points < small && tier(db->files[i - 1]->points) <= t)
        i--;
    return n - i >= MERGE_RUN ? i : n;
}

/* Encodes the merged points of every series of files[i0..] into w. */
static int merge_series(disco_tsdb *db, size_t i0, tsdb_cwriter *w, disco_status *st)
{
    uint64_t lo = db->files[i0]->seq, hi = db->files[db->n_files - 1]->seq;
    size_t per = db->cfg.chunk_points, n;
    tsdb_ids ids = {0};
    int rc = DISCO_OK;

    for (size_t i = i0; rc == DISCO_OK && i < db->n_files; i++)
        for (size_t j = 0; rc == DISCO_OK && j < db->files[i]->n_entries; j++)
            if (disco__ids_add(&ids, db->files[i]->entries[j].series) != DISCO_OK)
                rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == DISCO_OK && i < ids.n; i++) {
        tsdb_series *s = disco__series_by_id(db, ids.v[i]);
        rc = disco__read_files(s, lo, hi, &db->wrbuf, &n, st);
        for (size_t at = 0; rc == DISCO_OK && at < n; at += per) {
            size_t k = n - at < per ? n - at : per;
            rc = disco__cw_encode(w, s->id, db->wrbuf.ts + at, db->wrbuf.v + at, k,
                                  &s->metric->prec, st);
        }
    }
    disco__ids_free(&ids);
    return rc;
}

static int merge_run(disco_tsdb *db, size_t i0, disco_status *st)
{
    tsdb_cfile *last = db->files[db->n_files - 1];
    tsdb_cfile nf = {.seq = last->seq, .path = last->path};
    size_t others = db->n_files - 1 - i0;
    tsdb_cwriter w;
    int rc = disco__cw_open(&w, db, last->seq, st);

    if (rc == DISCO_OK)
        rc = merge_series(db, i0, &w, st);
    if (rc == DISCO_OK)
        rc = disco__cw_commit(&w, &nf, st);
    disco__cw_release(&w, 1);
    if (rc != DISCO_OK) {
        disco__cfile_unmap(&nf);
        return rc;
    }
    if ((rc = disco__chunks_replace(db, last, &nf, st)) != DISCO_OK)
        return rc;
    while (rc == DISCO_OK && others--)
        rc = disco__chunks_drop(db, db->files[i0], st);
    return rc;
}

int disco__compact_locked(disco_tsdb *db, disco_status *st)
{
    size_t i0;
    int rc = DISCO_OK;

    while (rc == DISCO_OK && (i0 = due_run(db)) < db->n_files)
        rc = merge_run(db, i0, st);
    return rc;
}
