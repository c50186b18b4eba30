/*
 * tsdb.h - the time-series store: compressed, crash-safe, queryable.
 *
 *   <dir>/LOCK              held (flock) while a handle is open: one at a time
 *   <dir>/wal/<seq>.log     write-ahead log segments (CRC-32C framed records)
 *   <dir>/chunks/<seq>.dtc  immutable chunk files (series chunks + index + CRC)
 *   <dir>/series.idx        series registry and metric definitions, rewritten
 *                           at each flush (the log holds what came after)
 *
 * A series is a metric plus a tag set. Writes go to the log, then to an
 * in-memory head per series. When the head grows past a threshold, points
 * older than the out-of-order window (all points of series that got
 * nothing within a window of the store's newest point) are encoded
 * (tscodec.h) into a new chunk file, written temp + fsync + rename, and
 * the log is cut down to what the head still holds; runs of small chunk
 * files (frequent explicit flushes) are merged. Opening replays the log
 * into the head, so a point is durable once disco_tsdb_write() returns
 * (with the fsync policy ALWAYS, also across power loss; with INTERVAL and
 * NEVER, across process crashes).
 *
 * Out-of-order points and flushes: a point may arrive up to the window
 * behind its series' newest, also after an explicit flush moved that range
 * into a chunk file; it then goes to the head and later to a newer file.
 * Reads merge overlapping data so that for equal timestamps the last write
 * wins (head over files, newer files over older ones).
 *
 * Rollups: a metric's rules ({"1m": "avg"}) feed series named
 * "<metric>:<step>:<agg>" with the raw series' tags ("loss:1m:avg"). A
 * bucket [k*step, (k+1)*step) is aggregated at a flush once it lies wholly
 * before the watermark (newest - window; the newest point on an explicit
 * flush), from the raw points, with disco_ts_aggregate() (tsquery.h). A
 * late point in an aggregated bucket has it computed again at the next
 * flush. Rollup series are ordinary series for reads, deletes and
 * retention (deleting raw points keeps their rollups); they never roll up
 * themselves.
 *
 * A handle is thread-safe: writers are serialised internally (concurrent
 * writers share log fsyncs), and readers see every write acknowledged
 * before they started.
 */
#ifndef DISCO_TSDB_H
#define DISCO_TSDB_H

#include "disco/err.h"
#include "disco/tsbatch.h"
#include "disco/tscodec.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct disco_tsdb disco_tsdb;

typedef enum disco_tsdb_fsync {
    DISCO_TSDB_FSYNC_ALWAYS = 0,   /* fsync the log before each write returns */
    DISCO_TSDB_FSYNC_INTERVAL = 1, /* fsync at most every fsync_interval_ms */
    DISCO_TSDB_FSYNC_NEVER = 2,    /* leave it to the kernel */
} disco_tsdb_fsync;

typedef struct disco_tsdb_config {
    int64_t ooo_window_ms;     /* accept points this far behind a series' newest (default 1 h) */
    int64_t retention_ms;      /* drop points older than this (0: keep forever) */
    disco_tsdb_fsync fsync;    /* default ALWAYS */
    int64_t fsync_interval_ms; /* with INTERVAL (default 1000) */
    size_t head_flush_points;  /* flush the head past this many points (default 1 << 20) */
    size_t chunk_points;       /* points per chunk when flushing (default 4096) */
} disco_tsdb_config;

disco_tsdb_config disco_tsdb_config_default(void);

/*
 * Opens (creating, with parents) the store in `dir` and recovers: chunk
 * file headers and indexes are checked, the log is replayed (a torn last
 * record is cut off and reported at WARN), deletes interrupted by a crash
 * are finished, retention is applied. `cfg` NULL means the defaults.
 * Errors: INVAL for a bad config, BUSY when another handle has `dir`
 * open, CORRUPT naming the file and offset of damage that is not a torn
 * tail, IO/PERM/NOSPC/NOMEM.
 */
int disco_tsdb_open(const char *dir, const disco_tsdb_config *cfg, disco_tsdb **out,
                    disco_status *st);

/* Writes out (and, unless NEVER, fsyncs) the log and frees the handle;
 * flushes nothing: the log keeps what the head holds. NULL is a no-op. */
void disco_tsdb_close(disco_tsdb *db);

/* ---- metrics --------------------------------------------------------------- */

/*
 * Declares how a metric is stored: its precision and its rollups
 * ({"1m": "avg", "1h": ["min", "max", "avg"]}: step -> aggregations,
 * steps as disco_ts_step_parse() reads them and made of digits and units,
 * aggregations as disco_ts_agg_parse(); NULL or {} for none). Series of
 * undeclared metrics are FLOAT64 with no rollups. Changing the precision
 * affects points written afterwards; changing the rules starts new steps
 * from the first stored point. Logged, and kept in series.idx. INVAL for
 * a bad name, precision or rules (two steps of equal length, a metric
 * named like a rollup series), IO when the log failed.
 */
int disco_tsdb_define(disco_tsdb *db, const char *metric, const disco_ts_precision *p,
                      const json_t *rollups, disco_status *st);

/* ---- writing --------------------------------------------------------------- */

typedef struct disco_tsdb_write_result {
    size_t written;    /* samples stored */
    size_t new_series; /* series created by this write */
    size_t replaced;   /* samples that replaced one with the same timestamp */
} disco_tsdb_write_result;

/*
 * Writes a batch atomically: either every sample is stored (durable per the
 * fsync policy when this returns) or none is. Values are rounded to their
 * metric's precision. A sample older than its series' newest point
 * (counting the batch's earlier samples) minus the out-of-order window, or
 * older than the retention, refuses the whole batch with INVAL naming the
 * series, the timestamp and the limit. Same timestamp again: the last
 * write wins. May flush when the head is full. LIMIT past 2^25 samples; IO
 * when the log cannot be written (the store then refuses writes until it
 * is reopened). `res` may be NULL.
 */
int disco_tsdb_write(disco_tsdb *db, const disco_ts_batch *b, disco_tsdb_write_result *res,
                     disco_status *st);

/* Moves everything in the head into a chunk file now (rollups first),
 * then cuts the log down. IO/NOSPC on failure (nothing is lost). */
int disco_tsdb_flush(disco_tsdb *db, disco_status *st);

/* ---- selecting ------------------------------------------------------------- */

typedef enum disco_ts_match_op {
    DISCO_TS_EQ = 0,  /* tag == value (absent tag matches "") */
    DISCO_TS_NE = 1,  /* tag != value */
    DISCO_TS_RE = 2,  /* tag matches the POSIX extended regex, anchored */
    DISCO_TS_NRE = 3, /* tag does not match it */
} disco_ts_match_op;

typedef struct disco_ts_matcher {
    const char *key; /* the tag key: key_len bytes, or a C string when key_len is 0 */
    disco_ts_match_op op;
    const char *value; /* a C string */
    size_t key_len;    /* set by disco_ts_matchers_parse(): its keys are not terminated */
} disco_ts_matcher;

typedef struct disco_ts_selector {
    const char *metric;               /* NULL: every metric */
    const disco_ts_matcher *matchers; /* all must hold */
    size_t n_matchers;
    int64_t from, to; /* [from, to); INT64_MIN/INT64_MAX for open ends */
} disco_ts_selector;

/*
 * Parses matchers written as key=value, key!=value, key=~regex, key!~regex
 * (one per string in `exprs`, an array of strings or a single string; an
 * object {"k": "v", ...} gives k=v matchers). The matchers point into
 * `exprs`'s strings, so keep `exprs` alive while using them; a key is the
 * first key_len bytes of its expression (print it with "%.*s"). INVAL
 * names a bad expression or regex; LIMIT when more than `cap`.
 */
int disco_ts_matchers_parse(const json_t *exprs, disco_ts_matcher *out, size_t cap, size_t *n,
                            disco_status *st);

typedef struct disco_ts_series_info {
    uint32_t id;
    const char *metric;
    const json_t *tags; /* borrowed string map */
} disco_ts_series_info;

/*
 * Calls `fn` once per selected series that has points in the range, with
 * its points sorted by time (arrays valid during the call only), in
 * series id order. Each series is read whole under the lock, then `fn`
 * runs unlocked (it may use the store). Non-zero from `fn` stops and is
 * returned. INVAL for a bad matcher, CORRUPT naming a damaged chunk file.
 */
typedef int (*disco_ts_read_fn)(void *user, const disco_ts_series_info *s, const int64_t *ts,
                                const double *v, size_t n);
int disco_tsdb_read(disco_tsdb *db, const disco_ts_selector *sel, disco_ts_read_fn fn, void *user,
                    disco_status *st);

/*
 * Selected series as [{"metric", "tags", "points", "first", "last"}]
 * (points counted in the selector's range). New reference.
 */
int disco_tsdb_series(disco_tsdb *db, const disco_ts_selector *sel, json_t **out, disco_status *st);

/* Distinct values of tag `key` among series of `metric` (NULL: all), sorted. */
int disco_tsdb_tag_values(disco_tsdb *db, const char *metric, const char *key, json_t **out,
                          disco_status *st);

/* ---- deleting and housekeeping ------------------------------------------------ */

/*
 * Deletes the selected series' points in [sel->from, sel->to) (rewriting
 * the chunk files they touch, atomically). The delete is logged and
 * fsynced first, so a crash part way is finished on the next open. A
 * series left with no points is forgotten (its key may be written again).
 * Rollup series are only touched when selected. *deleted (may be NULL)
 * counts points removed.
 */
int disco_tsdb_delete(disco_tsdb *db, const disco_ts_selector *sel, uint64_t *deleted,
                      disco_status *st);

/* Drops points older than now_ms - retention (also done on open and
 * flush); nothing when the retention is 0. *dropped may be NULL. */
int disco_tsdb_apply_retention(disco_tsdb *db, int64_t now_ms, uint64_t *dropped, disco_status *st);

/*
 * {"series", "points", "head_points", "chunks", "chunk_files",
 *  "chunk_bytes", "wal_bytes", "bytes_per_point", "metrics": {metric:
 *  {"series", "points", "bytes", "bytes_per_point", "precision",
 *  "rollups"?}}}. New reference. bytes_per_point is chunk bytes (whole
 * files; per metric, its chunks) over points in chunks; the log is
 * reported apart. "points" counts stored copies: a point written again
 * after an explicit flush counts twice until its file is rewritten.
 */
int disco_tsdb_stats(disco_tsdb *db, json_t **out, disco_status *st);

#endif
