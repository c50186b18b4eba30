/*
 * tsdb.h - the time-series store: compressed, crash-safe, queryable.
 *
 *   <dir>/wal/        write-ahead log segments (CRC-32C framed records)
 *   <dir>/chunks/     immutable chunk files (series chunks + index + CRC)
 *   <dir>/series.idx  series registry (rebuilt from chunks and the log)
 *
 * Writes go to the log, then to an in-memory head per series. When the head
 * grows past a threshold, points older than the out-of-order window are
 * encoded (tscodec.h) into a new chunk file, written temp + fsync + rename,
 * and the log is truncated. Opening replays the log into the head, so a
 * point is durable once disco_tsdb_write() returns (with the fsync policy
 * ALWAYS, also across power loss; with INTERVAL, NEVER across process
 * crashes only).
 *
 * A handle is thread-safe: writers are serialised internally and readers
 * see every write acknowledged before they started.
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
 * Opens (creating) the store in `dir` and recovers: chunk files are
 * checked, the log is replayed (a torn last record is cut off and
 * reported at WARN). CORRUPT names the file and offset of damage that is
 * not a torn tail.
 */
int disco_tsdb_open(const char *dir, const disco_tsdb_config *cfg, disco_tsdb **out,
                    disco_status *st);

/* Flushes nothing; the log keeps what the head holds. NULL is a no-op. */
void disco_tsdb_close(disco_tsdb *db);

/* ---- metrics --------------------------------------------------------------- */

/*
 * Declares how a metric is stored: its precision and its rollups
 * ({"1m": "avg", "1h": ["min", "max", "avg"]}: step -> aggregations).
 * Series of undeclared metrics are FLOAT64 with no rollups. Changing the
 * precision affects points written afterwards. INVAL for bad rules.
 */
int disco_tsdb_define(disco_tsdb *db, const char *metric, const disco_ts_precision *p,
                      const json_t *rollups, disco_status *st);

/* ---- writing --------------------------------------------------------------- */

typedef struct disco_tsdb_write_result {
    size_t written;       /* samples stored */
    size_t new_series;    /* series created by this write */
    size_t replaced;      /* samples that replaced one with the same timestamp */
} disco_tsdb_write_result;

/*
 * Writes a batch atomically: either every sample is stored (durable per the
 * fsync policy when this returns) or none is. A sample older than its
 * series' newest point minus the out-of-order window, or older than the
 * retention, refuses the whole batch with INVAL naming the series, the
 * timestamp and the limit. Same timestamp again: the last write wins.
 */
int disco_tsdb_write(disco_tsdb *db, const disco_ts_batch *b, disco_tsdb_write_result *res,
                     disco_status *st);

/* Moves everything in the head into chunk files now. */
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
    int64_t from, to;                 /* [from, to); INT64_MIN/INT64_MAX for open ends */
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
 * its points sorted by time (arrays valid during the call only). Non-zero
 * from `fn` stops and is returned.
 */
typedef int (*disco_ts_read_fn)(void *user, const disco_ts_series_info *s, const int64_t *ts,
                                const double *v, size_t n);
int disco_tsdb_read(disco_tsdb *db, const disco_ts_selector *sel, disco_ts_read_fn fn, void *user,
                    disco_status *st);

/*
 * Selected series as [{"metric", "tags", "points", "first", "last"}]
 * (points counted in the selector's range). New reference.
 */
int disco_tsdb_series(disco_tsdb *db, const disco_ts_selector *sel, json_t **out,
                      disco_status *st);

/* Distinct values of tag `key` among series of `metric` (NULL: all), sorted. */
int disco_tsdb_tag_values(disco_tsdb *db, const char *metric, const char *key, json_t **out,
                          disco_status *st);

/* ---- deleting and housekeeping ------------------------------------------------ */

/*
 * Deletes the selected series' points in [sel->from, sel->to) (rewriting
 * the chunk files they touch, atomically). A series left with no points
 * is forgotten. *deleted (may be NULL) counts points removed.
 */
int disco_tsdb_delete(disco_tsdb *db, const disco_ts_selector *sel, uint64_t *deleted,
                      disco_status *st);

/* Drops points older than now - retention (also done on open and flush). */
int disco_tsdb_apply_retention(disco_tsdb *db, int64_t now_ms, uint64_t *dropped,
                               disco_status *st);

/*
 * {"series", "points", "head_points", "chunks", "chunk_bytes", "wal_bytes",
 *  "bytes_per_point", "metrics": {metric: {"series", "points", "bytes",
 *  "bytes_per_point", "precision"}}}. New reference.
 */
int disco_tsdb_stats(disco_tsdb *db, json_t **out, disco_status *st);

#endif
