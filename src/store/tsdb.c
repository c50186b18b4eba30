/*
 * tsdb.c - the time-series store: configuration, open (and recovery),
 * close, metric definitions, statistics.
 *
 *   <dir>/LOCK              flock()ed while a handle is open
 *   <dir>/series.idx        registry and metric definitions (tsdb_meta.c)
 *   <dir>/chunks/<seq>.dtc  chunk files (tsdb_chunks.c)
 *   <dir>/wal/<seq>.log     log segments (tsdb_wal.c)
 *
 *   DEFINE log record payload: a metric definition (tsdb_meta.c).
 *
 * Recovery, in order: series.idx; chunk files (headers, footers, indexes);
 * the log from its last checkpoint into the head (series and metric
 * definitions, points, deletes); then chunks are given to their series,
 * deletes found in the log are applied to the chunk files they name,
 * series left without points are forgotten, and retention runs.
 */
#include "tsdb_int.h"

#include "disco/json.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

disco_tsdb_config disco_tsdb_config_default(void)
{
    disco_tsdb_config c = {
        .ooo_window_ms = 3600 * 1000,
        .retention_ms = 0,
        .fsync = DISCO_TSDB_FSYNC_ALWAYS,
        .fsync_interval_ms = 1000,
        .head_flush_points = (size_t)1 << 20,
        .chunk_points = 4096,
    };
    return c;
}

static int check_config(const disco_tsdb_config *c, disco_status *st)
{
    if (c->ooo_window_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "ooo_window_ms",
                                "tsdb: out-of-order window %" PRId64 " ms must be >= 0",
                                c->ooo_window_ms);
    if (c->retention_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "retention_ms",
                                "tsdb: retention %" PRId64 " ms must be >= 0 (0: forever)",
                                c->retention_ms);
    if ((unsigned)c->fsync > DISCO_TSDB_FSYNC_NEVER)
        return disco_status_set(st, DISCO_ERR_INVAL, "fsync", "tsdb: fsync policy %d unknown",
                                (int)c->fsync);
    if (c->fsync == DISCO_TSDB_FSYNC_INTERVAL && c->fsync_interval_ms <= 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "fsync_interval_ms",
                                "tsdb: fsync interval %" PRId64 " ms must be > 0",
                                c->fsync_interval_ms);
    if (c->head_flush_points == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "head_flush_points",
                                "tsdb: head_flush_points must be > 0");
    if (c->chunk_points == 0 || c->chunk_points > DISCO_TSCODEC_MAX_POINTS)
        return disco_status_set(st, DISCO_ERR_INVAL, "chunk_points",
                                "tsdb: chunk_points %zu out of range 1..%d", c->chunk_points,
                                DISCO_TSCODEC_MAX_POINTS);
    return DISCO_OK;
}

/* ---- folders and the lock ----------------------------------------------------------- */

static int mkdir_parents(const char *dir, disco_status *st)
{
    char *path = strdup(dir);
    int rc = DISCO_OK;

    if (!path)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (char *p = path + 1; rc == DISCO_OK; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            rc = disco_status_errno(st, errno, "dir", "tsdb: cannot create %s", path);
        *p = c;
        if (c == '\0')
            break;
    }
    free(path);
    return rc;
}

static int open_dirs(disco_tsdb *db, disco_status *st)
{
    int rc = mkdir_parents(db->dir, st);

    if (rc != DISCO_OK)
        return rc;
    db->dirfd = open(db->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (db->dirfd < 0)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot open %s as a folder", db->dir);
    if (mkdirat(db->dirfd, "chunks", 0755) != 0 && errno != EEXIST)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot create %s/chunks", db->dir);
    db->chunkfd = openat(db->dirfd, "chunks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (db->chunkfd < 0)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot open %s/chunks", db->dir);
    db->lockfd = openat(db->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (db->lockfd < 0)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot open %s/LOCK", db->dir);
    if (flock(db->lockfd, LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK
                   ? disco_status_set(st, DISCO_ERR_BUSY, "dir",
                                      "tsdb %s is open elsewhere (its LOCK is held)", db->dir)
                   : disco_status_errno(st, errno, "dir", "tsdb: cannot lock %s/LOCK", db->dir);
    return DISCO_OK;
}

/* ---- recovery -------------------------------------------------------------------------- */

static int replay_define(disco_tsdb *db, const uint8_t *p, size_t len, const char *seg,
                         uint64_t off, disco_status *st)
{
    const char *why;
    size_t used = 0;
    int rc = disco__metric_def_apply(db, p, len, &used, &why, st);

    if (rc == DISCO_OK && used != len) {
        rc = DISCO_ERR_CORRUPT;
        why = "trailing bytes";
    }
    if (rc == DISCO_OK || rc == DISCO_ERR_NOMEM)
        return rc;
    return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                            "tsdb log %s/wal/%s: define record at offset %" PRIu64 ": %s", db->dir,
                            seg, off, why);
}

static int replay_record(void *user, uint8_t type, const uint8_t *p, size_t len, const char *seg,
                         uint64_t off, disco_status *st)
{
    disco_tsdb *db = user;

    switch (type) {
    case TSDB_REC_DEFINE:
        return replay_define(db, p, len, seg, off, st);
    case TSDB_REC_WRITE:
        return disco__replay_write(db, p, len, seg, off, st);
    case TSDB_REC_DELETE:
        return disco__replay_delete(db, p, len, seg, off, st);
    default:
        return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                                "tsdb log %s/wal/%s: record of unknown type %u at offset %" PRIu64,
                                db->dir, seg, type, off);
    }
}

static int recover(disco_tsdb *db, disco_status *st)
{
    int rc;

    if ((rc = disco__meta_load(db, st)) != DISCO_OK ||
        (rc = disco__chunks_load(db, st)) != DISCO_OK ||
        (rc = disco__wal_open(&db->wal, db->dirfd, db->dir, &db->cfg, st)) != DISCO_OK)
        return rc;
    db->replaying = 1;
    rc = disco__wal_replay(&db->wal, replay_record, db, st);
    db->replaying = 0;
    if (rc != DISCO_OK || (rc = disco__chunks_attach(db, st)) != DISCO_OK ||
        (rc = disco__pending_deletes(db, st)) != DISCO_OK)
        return rc;
    for (size_t i = 0; i < db->all.n; i++)
        disco__series_refresh(disco__series_by_id(db, db->all.v[i]));
    if ((rc = disco__forget_empty(db, NULL, st)) != DISCO_OK)
        return rc;
    if (db->cfg.retention_ms > 0)
        rc = disco__retention_locked(db, disco_time_now_ms(), NULL, st);
    db->flush_at = db->cfg.head_flush_points;
    return rc;
}

int disco_tsdb_open(const char *dir, const disco_tsdb_config *cfg, disco_tsdb **out,
                    disco_status *st)
{
    disco_tsdb_config def = disco_tsdb_config_default();
    pthread_rwlockattr_t attr;
    disco_tsdb *db;
    int rc;

    if (out)
        *out = NULL;
    if (!dir || !*dir || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, "dir", "tsdb: no folder given");
    if ((rc = check_config(cfg ? cfg : &def, st)) != DISCO_OK)
        return rc;
    if (!(db = calloc(1, sizeof *db)) || !(db->dir = strdup(dir))) {
        free(db);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    db->cfg = cfg ? *cfg : def;
    db->dirfd = db->chunkfd = db->lockfd = -1;
    db->next_file_seq = 1;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&db->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if ((rc = open_dirs(db, st)) != DISCO_OK || (rc = recover(db, st)) != DISCO_OK) {
        disco_tsdb_close(db);
        return rc;
    }
    *out = db;
    return DISCO_OK;
}

void disco_tsdb_close(disco_tsdb *db)
{
    if (!db)
        return;
    disco_pool_free(db->pool);
    disco__wal_close(&db->wal);
    disco__chunks_free(db);
    disco__index_free(db);
    for (size_t i = 0; i < db->n_pdel; i++)
        disco__ids_free(&db->pdel[i].ids);
    free(db->pdel);
    disco__rbuf_free(&db->wrbuf);
    free(db->wscratch);
    free(db->wperm);
    pthread_rwlock_destroy(&db->lock);
    if (db->chunkfd >= 0)
        close(db->chunkfd);
    if (db->dirfd >= 0)
        close(db->dirfd);
    if (db->lockfd >= 0)
        close(db->lockfd);
    free(db->dir);
    free(db);
}

/* ---- metric definitions ---------------------------------------------------------------- */

static int check_precision(const char *metric, const disco_ts_precision *p, disco_status *st)
{
    if (!p || (unsigned)p->kind > DISCO_TS_DECIMAL ||
        (p->kind == DISCO_TS_DECIMAL && (p->decimals < 0 || p->decimals > 9)))
        return disco_status_set(st, DISCO_ERR_INVAL, "precision",
                                "metric %s: precision must be float64, float32 or decimal:0..9",
                                metric);
    return DISCO_OK;
}

static int define_locked(disco_tsdb *db, const char *metric, const disco_ts_precision *p,
                         const json_t *rollups, uint64_t *lsn, disco_status *st)
{
    disco_ts_precision prec = {p->kind, p->kind == DISCO_TS_DECIMAL ? p->decimals : 0};
    char *text = NULL;
    tsdb_metric *m;
    size_t len;
    uint8_t *rec;
    int rc = disco__wal_usable(&db->wal, st);

    if (rc == DISCO_OK)
        rc = disco__metric_get(db, metric, &m, st);
    if (rc == DISCO_OK && rollups && json_is_object(rollups) && json_object_size(rollups) &&
        !(text = disco_json_dumps(rollups)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    len = disco__metric_def_size(metric, text);
    if (rc == DISCO_OK && (rc = disco__wal_begin(&db->wal, len, &rec, st)) == DISCO_OK) {
        disco__metric_def_put(rec, metric, &prec, text);
        *lsn = disco__wal_end(&db->wal, TSDB_REC_DEFINE, len);
        rc = disco__metric_set(db, m, &prec, text ? rollups : NULL, st);
    }
    free(text);
    return rc;
}

int disco_tsdb_define(disco_tsdb *db, const char *metric, const disco_ts_precision *p,
                      const json_t *rollups, disco_status *st)
{
    tsdb_rule *rules = NULL;
    size_t n = 0;
    uint64_t lsn = 0;
    int rc;

    if (!db)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb define: no store");
    if ((rc = disco_ts_check_metric(metric, st)) != DISCO_OK ||
        (rc = check_precision(metric, p, st)) != DISCO_OK ||
        (rc = disco__rollup_rules_parse(metric, rollups, &rules, &n, st)) != DISCO_OK)
        return rc;
    free(rules);
    pthread_rwlock_wrlock(&db->lock);
    rc = define_locked(db, metric, p, rollups, &lsn, st);
    pthread_rwlock_unlock(&db->lock);
    if (rc == DISCO_OK)
        rc = disco__wal_commit(&db->wal, lsn, 0, st);
    return rc;
}

/* ---- statistics ------------------------------------------------------------------------ */

typedef struct usage {
    uint64_t chunk_points, chunk_bytes, head_points, series;
} usage;

static void usage_of(const tsdb_metric *m, const disco_tsdb *db, usage *u)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < m->series.n; i++) {
        const tsdb_series *s = disco__series_by_id(db, m->series.v[i]);
        u->head_points += s->n;
        for (size_t j = 0; j < s->n_chunks; j++) {
            const tsdb_cref *r = &s->chunks[j];
            u->chunk_points += r->count;
            u->chunk_bytes += r->file->entries[r->entry].length;
        }
    }
    u->series = m->series.n;
}

static double per_point(uint64_t bytes, uint64_t points)
{
    return points ? (double)bytes / (double)points : 0.0;
}

static json_t *metric_stats(const disco_tsdb *db, const tsdb_metric *m)
{
    char prec[32];
    usage u;
    json_t *o;

    usage_of(m, db, &u);
    disco_ts_precision_format(&m->prec, prec, sizeof prec);
    o = json_pack("{s:I, s:I, s:I, s:f, s:s}", "series", (json_int_t)u.series, "points",
                  (json_int_t)(u.chunk_points + u.head_points), "bytes", (json_int_t)u.chunk_bytes,
                  "bytes_per_point", per_point(u.chunk_bytes, u.chunk_points), "precision", prec);
    if (o && m->rollups)
        json_object_set(o, "rollups", m->rollups);
    return o;
}

static json_t *stats_locked(disco_tsdb *db)
{
    uint64_t bytes = 0, points = 0, chunks = 0;
    json_t *metrics = json_object(), *o;

    for (size_t i = 0; i < db->n_files; i++) {
        bytes += db->files[i]->size;
        points += db->files[i]->points;
        chunks += db->files[i]->n_entries;
    }
    for (size_t i = 0; metrics && i < db->metrics.cap; i++) {
        const tsdb_metric *m = db->metrics.slots[i].val;
        if (db->metrics.slots[i].key && (m->defined || m->series.n))
            json_object_set_new(metrics, m->name, metric_stats(db, m));
    }
    o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}", "series",
                  (json_int_t)db->n_alive, "points", (json_int_t)(points + db->head_points),
                  "head_points", (json_int_t)db->head_points, "chunks", (json_int_t)chunks,
                  "chunk_files", (json_int_t)db->n_files, "chunk_bytes", (json_int_t)bytes,
                  "wal_bytes", (json_int_t)disco__wal_bytes(&db->wal), "bytes_per_point",
                  per_point(bytes, points), "metrics", metrics);
    return o;
}

int disco_tsdb_stats(disco_tsdb *db, json_t **out, disco_status *st)
{
    json_t *o;

    if (!db || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "tsdb stats: no store");
    pthread_rwlock_rdlock(&db->lock);
    o = stats_locked(db);
    pthread_rwlock_unlock(&db->lock);
    if (!o)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    *out = o;
    return DISCO_OK;
}
