/*
 * tsdb_int.h - internals of the time-series store shared by its files.
 *
 *   tsdb.c            open, close, config, define, stats; the order of recovery
 *   tsdb_index.c      series registry, key map, inverted index, selectors, matchers
 *   tsdb_meta.c       series.idx: snapshot of the registry and metric definitions
 *   tsdb_wal.c        write-ahead log: segments, records, group commit, replay
 *   tsdb_head.c       in-memory points of each series; the write path
 *   tsdb_chunks.c     chunk files: format, write, load, map
 *   tsdb_compact.c    chunk files rewritten: cuts (deletes, retention), merges
 *   tsdb_flush.c      flush (head -> chunk file) and the log checkpoint
 *   tsdb_read.c       reads: chunks and head merged, newest wins
 *   tsdb_retention.c  retention by age and range deletes
 *   tsdb_rollup.c     rollup rules and the rollup series they feed
 *
 * DESIGN
 *   A series lives in up to two places: sorted arrays in memory (the head)
 *   and chunks in immutable chunk files. Every change to the head is first
 *   a record in the log; a flush moves head points into a new chunk file,
 *   then rewrites the log as one checkpoint segment holding what the head
 *   still has, so the log never grows past one head's worth plus what came
 *   after the last flush.
 *
 *   Chunk files are numbered in the order they were written and keep their
 *   number when rewritten (delete, retention); a merge of consecutive
 *   files takes the highest of their numbers. Chunks may overlap in time
 *   (an explicit flush moves everything, and a later out-of-order point
 *   goes to the head and then to a newer file): a read merges and, on
 *   equal timestamps, the head wins over files and a newer file over an
 *   older one, which is exactly "the last write wins".
 *
 *   Locks: db->lock is a writer-preferring rwlock; writes, defines,
 *   flushes (also those a write triggers), deletes and retention hold it
 *   for writing, readers for reading (per series, in disco_tsdb_read).
 *   The log has its own mutex so that writers wait for fsync outside
 *   db->lock and share it (group commit). Order: db->lock, then the log's.
 */
#ifndef DISCO_TSDB_INT_H
#define DISCO_TSDB_INT_H

#include "disco/pool.h"
#include "disco/tsdb.h"

#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <string.h>

/* ---- little-endian fields ------------------------------------------------------ */

static inline void tsdb_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void tsdb_put32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline void tsdb_put64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint16_t tsdb_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t tsdb_get32(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static inline uint64_t tsdb_get64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)tsdb_get32(p) | (uint64_t)tsdb_get32(p + 4) << 32;
#endif
}

static inline uint64_t tsdb_dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    return u;
}

static inline double tsdb_bitsd(uint64_t u)
{
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* a - b clamped to the int64 range. */
static inline int64_t tsdb_sub_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? INT64_MIN : INT64_MAX;
    return r;
}

/* floor(t / step) * step, also for negative t; INT64_MIN when out of range. */
static inline int64_t tsdb_floor(int64_t t, int64_t step)
{
    int64_t q = t / step, r = t % step;
    if (r < 0)
        q--;
    return q >= INT64_MIN / step ? q * step : INT64_MIN;
}

/* ---- small containers ------------------------------------------------------------ */

typedef struct tsdb_buf {
    uint8_t *p;
    size_t len, cap;
} tsdb_buf;

/* Room for `extra` more bytes; DISCO_ERR_NOMEM. */
int disco__tsdb_buf_reserve(tsdb_buf *b, size_t extra);
void disco__tsdb_buf_free(tsdb_buf *b);

/* Sorted series ids (postings). */
typedef struct tsdb_ids {
    uint32_t *v;
    size_t n, cap;
} tsdb_ids;

int disco__ids_add(tsdb_ids *s, uint32_t id); /* keeps order; no duplicates */
void disco__ids_remove(tsdb_ids *s, uint32_t id);
int disco__ids_copy(tsdb_ids *dst, const tsdb_ids *src);
void disco__ids_free(tsdb_ids *s);

/* String-keyed open-addressing map; keys are borrowed from the values. */
typedef struct tsdb_map_slot {
    uint64_t hash;
    const char *key; /* NULL: empty */
    void *val;
} tsdb_map_slot;

typedef struct tsdb_map {
    tsdb_map_slot *slots;
    size_t cap, n;
} tsdb_map;

void *disco__map_get(const tsdb_map *m, const char *key);
int disco__map_put(tsdb_map *m, const char *key, void *val); /* replaces; NOMEM */
void disco__map_del(tsdb_map *m, const char *key);
void disco__map_free(tsdb_map *m);

/* ---- metrics and series ---------------------------------------------------------- */

#define TSDB_STEP_TEXT_MAX 24

typedef struct tsdb_rule {
    int64_t step_ms;
    unsigned aggs; /* DISCO_AGG_* bits */
    char step[TSDB_STEP_TEXT_MAX];
} tsdb_rule;

typedef struct tsdb_metric {
    char *name;
    disco_ts_precision prec;
    int defined;      /* declared with disco_tsdb_define (saved in series.idx) */
    int is_rollup;    /* named <metric>:<step>:<agg>: never rolls up itself */
    json_t *rollups;  /* the rules as declared, or NULL */
    tsdb_rule *rules; /* parsed, by step */
    size_t n_rules;
    tsdb_ids series; /* live series of this metric */
} tsdb_metric;

struct tsdb_cfile;

/* One chunk of a series in a chunk file (copied from the file's index). */
typedef struct tsdb_cref {
    struct tsdb_cfile *file;
    uint32_t entry; /* index into file->entries */
    uint32_t count;
    int64_t t_first, t_last;
} tsdb_cref;

/* Rollup progress of one step: buckets before `until` are written. */
typedef struct tsdb_rolled {
    int64_t step_ms;
    int64_t until;
} tsdb_rolled;

typedef struct tsdb_series {
    uint32_t id;
    uint8_t alive;
    uint8_t overlap; /* chunks overlap in time: reads merge */
    tsdb_metric *metric;
    json_t *tags; /* string map, owned; kept until close */
    char *key;    /* canonical key, owned */
    /* head: sorted, unique timestamps */
    int64_t *ts;
    double *v;
    size_t n, cap;
    /* chunks, sorted by t_first */
    tsdb_cref *chunks;
    size_t n_chunks, cap_chunks;
    int64_t chunk_max; /* largest t_last of the chunks (INT64_MIN: none) */
    int64_t newest;    /* newest point stored (INT64_MIN: none) */
    tsdb_rolled *rolled;
    size_t n_rolled;
    int64_t roll_ceil;  /* largest `until` of the rolled steps (INT64_MIN: none) */
    int64_t dirty_from; /* oldest point written below roll_ceil (INT64_MAX: none) */
} tsdb_series;

/* ---- chunk files --------------------------------------------------------------------- */

typedef struct tsdb_centry {
    uint32_t series, count;
    int64_t t_first, t_last;
    uint64_t offset;
    uint32_t length;
    uint8_t prec_kind, prec_decimals;
} tsdb_centry;

typedef struct tsdb_cfile {
    uint64_t seq;
    char *path; /* "<dir>/chunks/<seq>.dtc", for messages */
    const uint8_t *map;
    size_t size;
    tsdb_centry *entries;
    size_t n_entries;
    uint64_t points;
    int64_t t_min, t_max;
} tsdb_cfile;

/* ---- the log --------------------------------------------------------------------------- */

enum {
    TSDB_REC_DEFINE = 1, /* a metric definition */
    TSDB_REC_WRITE = 2,  /* new series, then samples */
    TSDB_REC_DELETE = 3, /* a range delete */
};

#define TSDB_SAMPLE_BYTES 20 /* u32 series id, i64 ts, f64 value */

typedef struct tsdb_wal {
    int opened; /* mutex and condition made */
    int dirfd;
    char *path; /* "<dir>/wal", for messages */
    disco_tsdb_fsync policy;
    int64_t interval_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a leader finished */
    pthread_cond_t stop_cv; /* the syncer is to stop */
    tsdb_buf pend, spare;   /* records appended / the buffer being written */
    uint64_t lsn_appended;  /* bytes ever appended */
    uint64_t lsn_written;   /* ... handed to the kernel */
    uint64_t lsn_synced;    /* ... fsynced */
    int busy;               /* a leader is writing (or a checkpoint runs) */
    int failed;             /* a write failed: no more appends */
    char failed_msg[256];
    int fd; /* current segment */
    uint64_t seg_seq, seg_bytes;
    uint64_t *segs; /* live segments, ascending */
    size_t n_segs, cap_segs;
    uint64_t old_bytes; /* bytes of the live segments before the current */
    pthread_t syncer;   /* with FSYNC_INTERVAL */
    int syncer_running, stop;
} tsdb_wal;

typedef int (*tsdb_wal_fn)(void *user, uint8_t type, const uint8_t *p, size_t len, const char *seg,
                           uint64_t off, disco_status *st);

int disco__wal_open(tsdb_wal *w, int dbdirfd, const char *dbdir, const disco_tsdb_config *cfg,
                    disco_status *st);
/* Replays the live segments (from the last checkpoint) and starts a new one. */
int disco__wal_replay(tsdb_wal *w, tsdb_wal_fn fn, void *user, disco_status *st);
/* Reserves a record of `len` payload bytes; *p is where they go. The log
 * stays locked until disco__wal_end() (and is unlocked on failure). */
int disco__wal_begin(tsdb_wal *w, size_t len, uint8_t **p, disco_status *st);
uint64_t disco__wal_end(tsdb_wal *w, uint8_t type, size_t len);
/* Waits until the log up to `lsn` is written (and fsynced per the policy,
 * or always with `force_sync`). */
int disco__wal_commit(tsdb_wal *w, uint64_t lsn, int force_sync, disco_status *st);
uint64_t disco__wal_appended(tsdb_wal *w);
/* Checks the log can take records; IO with the reason when it failed. */
int disco__wal_usable(tsdb_wal *w, disco_status *st);

typedef struct tsdb_ckpt tsdb_ckpt;
typedef int (*tsdb_ckpt_fn)(void *user, tsdb_ckpt *c, disco_status *st);
/* Appends a record to a checkpoint being written. */
int disco__wal_ckpt_put(tsdb_ckpt *c, uint8_t type, const uint8_t *p, size_t len, disco_status *st);
/* Writes a checkpoint segment from `fn`'s records, then drops older segments. */
int disco__wal_checkpoint(tsdb_wal *w, tsdb_ckpt_fn fn, void *user, disco_status *st);
uint64_t disco__wal_bytes(tsdb_wal *w);
void disco__wal_close(tsdb_wal *w);

/* ---- the store ------------------------------------------------------------------------- */

/* A delete found in the log at recovery, applied to chunk files afterwards. */
typedef struct tsdb_pending_delete {
    uint64_t max_file_seq;
    int64_t from, to;
    tsdb_ids ids;
} tsdb_pending_delete;

/* Buffers of one read; reused across series. */
typedef struct tsdb_rbuf {
    int64_t *ts; /* the result */
    double *v;
    size_t cap;
    uint64_t *seq, *seq2; /* merging: the source of each point, and a second result */
    int64_t *ts2;
    double *v2;
    size_t mcap;
    int64_t *dts; /* one decoded chunk */
    double *dv;
    size_t dcap;
} tsdb_rbuf;

struct disco_tsdb {
    char *dir;
    int dirfd, chunkfd, lockfd;
    disco_tsdb_config cfg;
    pthread_rwlock_t lock;
    tsdb_wal wal;
    /* registry */
    tsdb_series **series; /* by id; NULL for ids never used */
    size_t cap_series;
    uint32_t next_id;
    size_t n_alive;
    tsdb_ids all;     /* live ids */
    tsdb_map by_key;  /* canonical key -> tsdb_series */
    tsdb_map metrics; /* name -> tsdb_metric */
    tsdb_map tagkeys; /* tag key -> tsdb_tagkey */
    int registry_dirty;
    /* chunk files, ascending seq */
    tsdb_cfile **files;
    size_t n_files, cap_files;
    uint64_t next_file_seq;
    /* head */
    size_t head_points, flush_at;
    /* recovery */
    int replaying;
    tsdb_pending_delete *pdel;
    size_t n_pdel;
    /* scratch of the write path (under the write lock) */
    void *wscratch;
    size_t wscratch_cap;
    uint32_t *wperm; /* sample indexes grouped by series */
    size_t wperm_cap;
    tsdb_rbuf wrbuf;
    disco_pool *pool; /* flush encoders, made on the first large flush */
};

/* ---- tsdb_index.c -------------------------------------------------------------------- */

typedef struct tsdb_tagkey {
    char *key;
    tsdb_map values; /* value -> tsdb_tagval */
    tsdb_ids ids;    /* series having the key */
} tsdb_tagkey;

typedef struct tsdb_tagval {
    char *value;
    tsdb_ids ids;
} tsdb_tagval;

/* The metric named `name`, created (FLOAT64, no rollups) when unknown. */
int disco__metric_get(disco_tsdb *db, const char *name, tsdb_metric **out, disco_status *st);
/* Registers a live series with id `id`; `tags` is copied. */
int disco__series_add(disco_tsdb *db, uint32_t id, const char *metric, const json_t *tags,
                      const char *key, tsdb_series **out, disco_status *st);
/* Drops a series with no points left from the registry and the index. */
void disco__series_forget(disco_tsdb *db, tsdb_series *s);
tsdb_series *disco__series_by_id(const disco_tsdb *db, uint32_t id);
/* Ids of the live series a selector picks (metric and matchers). */
int disco__select(disco_tsdb *db, const disco_ts_selector *sel, tsdb_ids *out, disco_status *st);
void disco__index_free(disco_tsdb *db);

/* ---- tsdb_meta.c ----------------------------------------------------------------------- */

/* Series definitions in the log and in series.idx. */
size_t disco__series_def_size(const char *metric, const json_t *tags);
uint8_t *disco__series_def_put(uint8_t *p, uint32_t id, const char *metric, const json_t *tags);
/* Parses one definition at p[0..len); *used gets its size. CORRUPT (no message) when bad. */
int disco__series_def_get(const uint8_t *p, size_t len, uint32_t *id, char *metric, json_t **tags,
                          size_t *used);
/* Metric definitions in DEFINE log records and in series.idx. */
size_t disco__metric_def_size(const char *name, const char *rules);
uint8_t *disco__metric_def_put(uint8_t *p, const char *name, const disco_ts_precision *prec,
                               const char *rules);
/* Parses a definition at p[0..len) and applies it; *why says what was wrong. */
int disco__metric_def_apply(disco_tsdb *db, const uint8_t *p, size_t len, size_t *used,
                            const char **why, disco_status *st);
/* Applies a metric definition (precision and rules). */
int disco__metric_set(disco_tsdb *db, tsdb_metric *m, const disco_ts_precision *p,
                      const json_t *rollups, disco_status *st);
int disco__meta_load(disco_tsdb *db, disco_status *st);
int disco__meta_save(disco_tsdb *db, disco_status *st);

/* ---- tsdb_head.c ----------------------------------------------------------------------- */

int disco__head_reserve(tsdb_series *s, size_t extra);
/* Puts a point in order (room reserved); 1 when it replaced one. */
int disco__head_put(disco_tsdb *db, tsdb_series *s, int64_t ts, double v);
size_t disco__head_lower_bound(const tsdb_series *s, int64_t t);
/* Removes head points in [from, to); returns how many. */
size_t disco__head_remove(disco_tsdb *db, tsdb_series *s, int64_t from, int64_t to);
/* Drops the first k head points (flushed). */
void disco__head_drop_front(disco_tsdb *db, tsdb_series *s, size_t k);
void disco__head_free(disco_tsdb *db, tsdb_series *s);
/* Writes points of one series bypassing the write checks (rollups):
 * logged, rounded, applied. `is_new`: the series was just created. */
int disco__write_points(disco_tsdb *db, tsdb_series *s, int is_new, const int64_t *ts,
                        const double *v, size_t n, disco_status *st);
/* Replays a WRITE record. */
int disco__replay_write(disco_tsdb *db, const uint8_t *p, size_t len, const char *seg, uint64_t off,
                        disco_status *st);
/* Newest point and chunk bounds of a series, from its chunks and head. */
void disco__series_refresh(tsdb_series *s);

/* ---- tsdb_chunks.c --------------------------------------------------------------------- */

typedef struct tsdb_flush_item {
    tsdb_series *s;
    size_t k; /* its first k head points go into the file */
} tsdb_flush_item;

/* Writes the items into a new chunk file and adds its chunks to the series. */
int disco__chunks_write(disco_tsdb *db, const tsdb_flush_item *items, size_t n, disco_status *st);
int disco__chunks_load(disco_tsdb *db, disco_status *st);
/* Gives each series its chunks from the loaded files (after the log is replayed). */
int disco__chunks_attach(disco_tsdb *db, disco_status *st);

/* Writing a chunk file as <seq>.tmp, then renaming it <seq>.dtc. */
typedef struct tsdb_cwriter {
    disco_tsdb *db;
    uint64_t seq;
    int fd, committed;
    tsdb_buf buf;
    uint64_t flushed; /* bytes written before buf */
    tsdb_centry *entries;
    size_t n, cap;
    uint8_t *enc;
    size_t enc_cap;
} tsdb_cwriter;

int disco__cw_open(tsdb_cwriter *w, disco_tsdb *db, uint64_t seq, disco_status *st);
/* Encodes n points of a series as one chunk. */
int disco__cw_encode(tsdb_cwriter *w, uint32_t series, const int64_t *ts, const double *v, size_t n,
                     const disco_ts_precision *p, disco_status *st);
/* Appends a chunk encoded elsewhere: n points starting at ts[0]. */
int disco__cw_add_encoded(tsdb_cwriter *w, uint32_t series, const int64_t *ts, size_t n,
                          const disco_ts_precision *p, const uint8_t *bytes, size_t len,
                          disco_status *st);
/* tsdb_encode.c: encodes the items' chunks (in parallel) and appends them to `w`. */
int disco__encode_items(disco_tsdb *db, tsdb_cwriter *w, const tsdb_flush_item *items, size_t n,
                        disco_status *st);
/* Copies an encoded chunk as it is. */
int disco__cw_copy(tsdb_cwriter *w, const tsdb_centry *e, const uint8_t *bytes, disco_status *st);
/* Index, footer, fsync, rename over <seq>.dtc, fsync of the folder; maps the
 * result into `f` (whose path the caller set). */
int disco__cw_commit(tsdb_cwriter *w, tsdb_cfile *f, disco_status *st);
void disco__cw_release(tsdb_cwriter *w, int remove_tmp);
disco_ts_precision disco__centry_prec(const tsdb_centry *e);
/* Gives `f` the contents of `nf` (the same number, rewritten). */
int disco__chunks_replace(disco_tsdb *db, tsdb_cfile *f, tsdb_cfile *nf, disco_status *st);
/* Unmaps a file and frees its index (not its path). */
void disco__cfile_unmap(tsdb_cfile *f);
/* Removes file `f` from disk and from the store. */
int disco__chunks_drop(disco_tsdb *db, tsdb_cfile *f, disco_status *st);
void disco__chunks_free(disco_tsdb *db);
/* Decodes the chunk `r` into ts/v (room for r->count); CORRUPT names the file. */
int disco__chunk_decode(const tsdb_cref *r, int64_t *ts, double *v, disco_status *st);

/* ---- tsdb_compact.c -------------------------------------------------------------------- */

/* What a rewrite removes: points of `ids` (NULL: every series) in [from, to). */
typedef struct tsdb_cut {
    const tsdb_ids *ids;
    int64_t from, to;
} tsdb_cut;

/* Rewrites (or removes) file `f` without the points `cut` covers. */
int disco__chunks_cut(disco_tsdb *db, tsdb_cfile *f, const tsdb_cut *cut, uint64_t *removed,
                      disco_status *st);
/* Merges runs of small chunk files. */
int disco__compact_locked(disco_tsdb *db, disco_status *st);

/* ---- tsdb_flush.c ---------------------------------------------------------------------- */

int disco__flush_locked(disco_tsdb *db, int all, disco_status *st);
/* Points of `s` before this are final at a flush (`idle`: see tsdb_flush.c). */
int64_t disco__flush_mark(const disco_tsdb *db, const tsdb_series *s, int all, int64_t idle);

/* ---- tsdb_read.c ----------------------------------------------------------------------- */

/* Points of `s` in [from, to), merged; arrays point into `rb`. */
int disco__read_series(tsdb_series *s, int64_t from, int64_t to, tsdb_rbuf *rb, const int64_t **ts,
                       const double **v, size_t *n, disco_status *st);
/* Points of `s` in chunk files numbered lo..hi, merged (newest file wins),
 * into rb->ts and rb->v. */
int disco__read_files(tsdb_series *s, uint64_t lo, uint64_t hi, tsdb_rbuf *rb, size_t *n,
                      disco_status *st);
void disco__rbuf_free(tsdb_rbuf *rb);
/* Whether ts is stored in one of the series' chunks. */
int disco__chunks_hold(disco_tsdb *db, tsdb_series *s, int64_t ts);

/* ---- tsdb_retention.c ------------------------------------------------------------------ */

int disco__retention_locked(disco_tsdb *db, int64_t now_ms, uint64_t *dropped, disco_status *st);
/* Removes [from, to) of `ids` from chunk files with seq <= max_seq. */
int disco__delete_chunks(disco_tsdb *db, const tsdb_ids *ids, int64_t from, int64_t to,
                         uint64_t max_seq, uint64_t *removed, disco_status *st);
/* Forgets the series of `ids` (NULL: all) left without points. */
int disco__forget_empty(disco_tsdb *db, const tsdb_ids *ids, disco_status *st);
/* Applies the chunk-file part of deletes found in the log (recovery). */
int disco__pending_deletes(disco_tsdb *db, disco_status *st);
int disco__replay_delete(disco_tsdb *db, const uint8_t *p, size_t len, const char *seg,
                         uint64_t off, disco_status *st);

/* ---- tsdb_rollup.c --------------------------------------------------------------------- */

/* Parses {"1m": "avg", "1h": ["min", "max"]}; *rules is malloc'd. */
int disco__rollup_rules_parse(const char *metric, const json_t *rollups, tsdb_rule **rules,
                              size_t *n, disco_status *st);
/* Whether `metric` is named like a rollup series (<metric>:<step>:<agg>). */
int disco__rollup_named(const char *metric);
/* Writes the rollup points of every bucket completed since the last flush. */
int disco__rollup_run(disco_tsdb *db, int all, int64_t idle, disco_status *st);
/* Progress of `step` (INT64_MIN: nothing rolled yet). */
int64_t disco__rolled_get(const tsdb_series *s, int64_t step_ms);
int disco__rolled_set(tsdb_series *s, int64_t step_ms, int64_t until);

/* ---- tsdb_regex.c ---------------------------------------------------------------------- */

/*
 * Compiles the tag regex `value` of a matcher on `key`, anchored as
 * ^(value)$, into `re` (regfree() it). INVAL naming the matcher for a bad
 * regex or one whose repetitions expand too far to compile safely; NOMEM.
 */
int disco__tsdb_regex_compile(regex_t *re, const char *key, const char *value, disco_status *st);

#endif
