/*
 * bench_tsdb.c - the tsdb engine against SQLite, side by side in one run.
 *
 * Four generated series, BENCH_TSDB_POINTS points each (default 10 M), one
 * second apart: a constant gauge, a monotone counter (integer increments),
 * a gauge of 0.1 resolution (random walk) and a noisy training loss
 * (decaying curve plus noise). Each is stored as float64; the gauge also
 * as decimal:1 and the loss as float32. For each kind and precision:
 *
 *   bytes/point  bytes of the chunk files after disco_tsdb_flush() over the
 *                points (the write-ahead log and the series index excluded)
 *   ingest       disco_tsdb_write() of batches of 100 k (filling the batch
 *                included), fsync policy NEVER, then the flush; one thread
 *   scan         disco_tsdb_read() of everything, summing the values
 *   1m avg       disco_tsdb_query() with a 1-minute step, avg, all points
 *
 * The anchor is SQLite in WAL mode with synchronous=OFF and one table
 * (series INTEGER, ts INTEGER, value REAL) indexed on (series, ts) - the
 * plain indexed table a C user would write (BENCH_TSDB_SQLITE_SCHEMA=pk
 * makes it WITHOUT ROWID with primary key (series, ts) instead: SQLite's
 * fastest layout for this) - prepared inserts in transactions of 100 k, per kind on
 * BENCH_TSDB_SQLITE_POINTS points (default: as many as ours): size is
 * page_count * page_size after a checkpoint, scan is SELECT ts, value ...
 * ORDER BY ts, and the 1-minute avg is GROUP BY ts / 60000. Per-point
 * figures stay comparable when the counts differ.
 *
 * Files go to a fresh folder under $TMPDIR, removed at the end.
 */
#include "disco/timeutil.h"
#include "disco/tsdb.h"
#include "disco/tsquery.h"

#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BATCH 100000
#define STEP_MS 60000
#define T0 1700000000000ll
#define REPS 5

enum { K_CONST, K_COUNTER, K_GAUGE, K_LOSS, N_KINDS };

static const char *const kind_names[N_KINDS] = {"constant gauge", "counter", "gauge 0.1",
                                                "noisy loss"};

typedef struct run_def {
    int kind;
    const char *mode;
    double goal_bpp; /* 0: none */
} run_def;

static const run_def runs[] = {
    {K_CONST, "float64", 0.25},  {K_COUNTER, "float64", 1.5}, {K_GAUGE, "float64", 0},
    {K_GAUGE, "decimal:1", 3.0}, {K_LOSS, "float64", 8.0},    {K_LOSS, "float32", 4.5},
};
#define N_RUNS (sizeof runs / sizeof runs[0])

typedef struct figures {
    double bpp, ingest_pps, scan_pps, query_s;
    double fill_s, write_s, flush_s; /* ours: parts of the ingest time */
    size_t rows;
} figures;

typedef struct series_data {
    int64_t *ts;
    double *v;
    size_t n;
} series_data;

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;

    return n > 0 ? n : def;
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(disco_time_mono_ns() - start_ns) / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_tsdb: %s: %s\n", what, msg);
    exit(1);
}

static void check(int rc, const char *what, const disco_status *st)
{
    if (rc != DISCO_OK)
        die(what, disco_status_message(st));
}

/* ---- data ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
    return (double)(rng_next() >> 11) * 0x1p-53;
}

static double value_at(int kind, size_t i, size_t n, double *state)
{
    switch (kind) {
    case K_CONST:
        return 42.0;
    case K_COUNTER:
        return *state += (double)(rng_next() % 5);
    case K_GAUGE: /* state counts tenths */
        *state += (double)(rng_next() % 3) - 1.0;
        return *state / 10.0;
    default: { /* sum of uniforms: roughly normal noise */
        double noise = rng_unit() + rng_unit() + rng_unit() + rng_unit() - 2.0;
        return 2.3 * exp(-5.0 * (double)i / (double)n) + 0.1 + 0.02 * noise;
    }
    }
}

static void generate(int kind, size_t n, series_data *d)
{
    double state = kind == K_GAUGE ? 500.0 : 0.0;

    d->n = n;
    d->ts = malloc(n * sizeof *d->ts);
    d->v = malloc(n * sizeof *d->v);
    if (!d->ts || !d->v)
        die("generate", "out of memory");
    for (size_t i = 0; i < n; i++) {
        d->ts[i] = T0 + (int64_t)i * 1000;
        d->v[i] = value_at(kind, i, n, &state);
    }
}

/* ---- files ----------------------------------------------------------------- */

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)path;
    (void)ftw;
    if (flag == FTW_F)
        tree_bytes += (uint64_t)sb->st_size;
    return 0;
}

static uint64_t bytes_under(const char *dir)
{
    tree_bytes = 0;
    nftw(dir, add_size, 16, FTW_PHYS);
    return tree_bytes;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- ours ------------------------------------------------------------------ */

/* Writes d in batches, then flushes; fills f's ingest figures. */
static void ours_ingest(disco_tsdb *db, const char *metric, const series_data *d, figures *f)
{
    disco_ts_batch b;
    disco_status st = {0};
    json_t *tags = json_pack("{s:s}", "host", "bench");
    uint64_t t;
    uint32_t s;

    f->fill_s = f->write_s = 0;
    check(disco_ts_batch_init(&b), "batch", &st);
    for (size_t i = 0; i < d->n; i += BATCH) {
        size_t end = i + BATCH < d->n ? i + BATCH : d->n;
        t = disco_time_mono_ns();
        disco_ts_batch_clear(&b);
        check(disco_ts_batch_series(&b, metric, tags, &s, &st), "batch series", &st);
        for (size_t j = i; j < end; j++)
            check(disco_ts_batch_add(&b, s, d->ts[j], d->v[j]), "batch add", &st);
        f->fill_s += seconds_since(t);
        t = disco_time_mono_ns();
        check(disco_tsdb_write(db, &b, NULL, &st), "write", &st);
        f->write_s += seconds_since(t);
    }
    t = disco_time_mono_ns();
    check(disco_tsdb_flush(db, &st), "flush", &st);
    f->flush_s = seconds_since(t);
    f->ingest_pps = (double)d->n / (f->fill_s + f->write_s + f->flush_s);
    disco_ts_batch_release(&b);
    json_decref(tags);
}

typedef struct scan_sum {
    double sum;
    size_t points;
} scan_sum;

static int scan_cb(void *user, const disco_ts_series_info *s, const int64_t *ts, const double *v,
                   size_t n)
{
    scan_sum *a = user;
    double sum = 0;

    (void)s;
    (void)ts;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    a->sum += sum;
    a->points += n;
    return 0;
}

static double ours_scan(disco_tsdb *db, const char *metric, size_t n)
{
    disco_ts_selector sel = {.metric = metric, .from = INT64_MIN, .to = INT64_MAX};
    disco_status st = {0};
    scan_sum a = {0, 0};
    uint64_t t = disco_time_mono_ns();
    double s;

    check(disco_tsdb_read(db, &sel, scan_cb, &a, &st), "read", &st);
    s = seconds_since(t);
    if (a.points != n || a.sum != a.sum)
        die("scan", "read back a different number of points");
    return (double)n / s;
}

static double ours_query(disco_tsdb *db, const char *metric, size_t *rows)
{
    disco_ts_query q = {
        .sel = {.metric = metric, .from = INT64_MIN, .to = INT64_MAX},
        .step_ms = STEP_MS,
        .aggs = DISCO_AGG_AVG,
    };
    disco_status st = {0};
    json_t *res;
    uint64_t t = disco_time_mono_ns();
    double s;

    check(disco_tsdb_query(db, &q, &res, &st), "query", &st);
    s = seconds_since(t);
    *rows = (size_t)json_integer_value(json_object_get(res, "points"));
    json_decref(res);
    return s;
}

static void ours_run(const char *base, const run_def *r, const series_data *d, figures *f)
{
    char dir[4096], chunks[4200];
    disco_tsdb_config cfg = disco_tsdb_config_default();
    disco_ts_precision p;
    disco_status st = {0};
    disco_tsdb *db;
    const char *metric = "bench";

    if (snprintf(dir, sizeof dir, "%s/tsdb-%d-%s", base, r->kind, r->mode) >= (int)sizeof dir ||
        snprintf(chunks, sizeof chunks, "%s/chunks", dir) >= (int)sizeof chunks)
        die(base, "path too long");
    cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    check(disco_tsdb_open(dir, &cfg, &db, &st), "open", &st);
    check(disco_ts_precision_parse(r->mode, &p, &st), "precision", &st);
    check(disco_tsdb_define(db, metric, &p, NULL, &st), "define", &st);
    ours_ingest(db, metric, d, f);
    f->bpp = (double)bytes_under(chunks) / (double)d->n;
    f->scan_pps = 0;
    f->query_s = INFINITY;
    for (int rep = 0; rep < REPS; rep++) { /* best of REPS: the machine is shared */
        double pps = ours_scan(db, metric, d->n), qs = ours_query(db, metric, &f->rows);
        f->scan_pps = pps > f->scan_pps ? pps : f->scan_pps;
        f->query_s = qs < f->query_s ? qs : f->query_s;
    }
    disco_tsdb_close(db);
    rm_tree(dir);
}

/* ---- SQLite ------------------------------------------------------------------ */

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        die(sql, err ? err : "failed");
}

static sqlite3_stmt *sql_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
    return s;
}

static double sqlite_ingest(sqlite3 *db, const series_data *d, size_t n)
{
    sqlite3_stmt *ins = sql_prepare(db, "INSERT INTO p(series, ts, value) VALUES (1, ?1, ?2)");
    uint64_t t = disco_time_mono_ns();

    for (size_t i = 0; i < n; i += BATCH) {
        size_t end = i + BATCH < n ? i + BATCH : n;
        sql_exec(db, "BEGIN");
        for (size_t j = i; j < end; j++) {
            sqlite3_bind_int64(ins, 1, d->ts[j]);
            sqlite3_bind_double(ins, 2, d->v[j]);
            if (sqlite3_step(ins) != SQLITE_DONE)
                die("insert", sqlite3_errmsg(db));
            sqlite3_reset(ins);
        }
        sql_exec(db, "COMMIT");
    }
    sqlite3_finalize(ins);
    return (double)n / seconds_since(t);
}

/* Runs `sql` to the end; returns the rows and adds column 1 into *sum. */
static size_t sqlite_rows(sqlite3 *db, const char *sql, double *sum)
{
    sqlite3_stmt *q = sql_prepare(db, sql);
    size_t rows = 0;
    int rc;

    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        *sum += sqlite3_column_double(q, 1);
        rows++;
    }
    if (rc != SQLITE_DONE)
        die(sql, sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rows;
}

static int64_t sqlite_pragma(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = sql_prepare(db, sql);
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;

    sqlite3_finalize(q);
    return v;
}

/* BENCH_TSDB_SQLITE_SCHEMA=pk: WITHOUT ROWID table; default: table + index. */
static int sqlite_schema_pk(void)
{
    const char *e = getenv("BENCH_TSDB_SQLITE_SCHEMA");
    return e && strcmp(e, "pk") == 0;
}

static void sqlite_run(const char *base, int kind, const series_data *d, size_t n, figures *f)
{
    char path[4096];
    sqlite3 *db;
    double sum = 0;
    uint64_t t;

    if (snprintf(path, sizeof path, "%s/sqlite-%d.db", base, kind) >= (int)sizeof path - 8)
        die(base, "path too long");
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("sqlite open", sqlite3_errmsg(db));
    sql_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;");
    sql_exec(db, sqlite_schema_pk() ? "CREATE TABLE p(series INTEGER, ts INTEGER, value REAL,"
                                      " PRIMARY KEY (series, ts)) WITHOUT ROWID"
                                    : "CREATE TABLE p(series INTEGER, ts INTEGER, value REAL);"
                                      "CREATE INDEX p_series_ts ON p(series, ts)");
    f->ingest_pps = sqlite_ingest(db, d, n);
    sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    f->bpp =
        (double)(sqlite_pragma(db, "PRAGMA page_count") * sqlite_pragma(db, "PRAGMA page_size")) /
        (double)n;
    t = disco_time_mono_ns();
    if (sqlite_rows(db, "SELECT ts, value FROM p WHERE series = 1 ORDER BY ts", &sum) != n)
        die("sqlite scan", "read back a different number of rows");
    f->scan_pps = (double)n / seconds_since(t);
    t = disco_time_mono_ns();
    f->rows = sqlite_rows(db,
                          "SELECT ts / 60000, avg(value) FROM p WHERE series = 1"
                          " GROUP BY ts / 60000",
                          &sum);
    f->query_s = seconds_since(t);
    sqlite3_close(db);
    rm_tree(path);
    snprintf(path + strlen(path), sizeof path - strlen(path), "-wal");
    remove(path);
}

/* ---- report ------------------------------------------------------------------ */

static const char *verdict(int ok)
{
    return ok ? "ok" : "MISSED";
}

static void print_label(size_t i)
{
    printf("  %-14s %-9s", kind_names[runs[i].kind], runs[i].mode);
}

static void print_bytes(const figures *ours, const figures *lite)
{
    printf("\n%-26s %8s %8s %12s  %s\n", "bytes per point", "ours", "SQLite", "ours/SQLite",
           "goal");
    for (size_t i = 0; i < N_RUNS; i++) {
        const figures *o = &ours[i], *l = &lite[runs[i].kind];
        print_label(i);
        printf(" %8.3f %8.2f %12.4f", o->bpp, l->bpp, o->bpp / l->bpp);
        if (runs[i].goal_bpp > 0)
            printf("  <= %-4g %s", runs[i].goal_bpp, verdict(o->bpp <= runs[i].goal_bpp));
        printf("\n");
    }
}

static void print_ingest(const figures *ours, const figures *lite)
{
    printf("\n%-26s %8s %8s %12s  %-18s %s\n", "ingest, M points/s", "ours", "SQLite",
           "ours/SQLite", "goal", "ours: s filling batches / writing / flushing");
    for (size_t i = 0; i < N_RUNS; i++) {
        const figures *o = &ours[i], *l = &lite[runs[i].kind];
        double ratio = o->ingest_pps / l->ingest_pps;
        print_label(i);
        printf(" %8.2f %8.3f %11.1fx  >= 5, >= 20x  %-6s  %.2f / %.2f / %.2f\n",
               o->ingest_pps / 1e6, l->ingest_pps / 1e6, ratio,
               verdict(o->ingest_pps >= 5e6 && ratio >= 20), o->fill_s, o->write_s, o->flush_s);
    }
}

static void print_scan(const figures *ours, const figures *lite)
{
    printf("\n%-26s %8s %8s %12s  %s\n", "scan, M points/s", "ours", "SQLite", "ours/SQLite",
           "goal");
    for (size_t i = 0; i < N_RUNS; i++) {
        const figures *o = &ours[i], *l = &lite[runs[i].kind];
        print_label(i);
        printf(" %8.1f %8.2f %11.1fx  >= 100 %s\n", o->scan_pps / 1e6, l->scan_pps / 1e6,
               o->scan_pps / l->scan_pps, verdict(o->scan_pps >= 100e6));
    }
}

static void print_query(const figures *ours, const figures *lite, size_t n, size_t n_lite)
{
    printf("\n%-26s %8s %9s %12s %13s %16s  %s\n", "1-minute avg query", "ours ms", "SQLite ms",
           "ours/SQLite", "ours M pts/s", "above scan M/s", "rows (ours, SQLite)");
    for (size_t i = 0; i < N_RUNS; i++) {
        const figures *o = &ours[i], *l = &lite[runs[i].kind];
        double po = (double)n / o->query_s, pl = (double)n_lite / l->query_s;
        double extra = o->query_s - (double)n / o->scan_pps;
        print_label(i);
        printf(" %8.1f %9.1f %11.1fx %13.1f", o->query_s * 1e3, l->query_s * 1e3, po / pl,
               po / 1e6);
        if (extra > 0)
            printf(" %16.0f", (double)n / extra / 1e6);
        else
            printf(" %16s", "within noise");
        printf("  %zu, %zu\n", o->rows, l->rows);
    }
    printf("ours/SQLite compares points per second; \"above scan\" is the points over the query "
           "time\nless the scan time (the aggregation and the result, on top of the read)\n");
}

static void run_all(const char *dir, size_t n, size_t n_lite)
{
    figures ours[N_RUNS], lite[N_KINDS];

    for (int k = 0; k < N_KINDS; k++) {
        series_data d;
        generate(k, n, &d);
        sqlite_run(dir, k, &d, n_lite, &lite[k]);
        for (size_t i = 0; i < N_RUNS; i++)
            if (runs[i].kind == k)
                ours_run(dir, &runs[i], &d, &ours[i]);
        free(d.ts);
        free(d.v);
    }
    print_bytes(ours, lite);
    print_ingest(ours, lite);
    print_scan(ours, lite);
    print_query(ours, lite, n, n_lite);
}

int main(void)
{
    size_t n = (size_t)env_long("BENCH_TSDB_POINTS", 10000000);
    size_t n_lite = (size_t)env_long("BENCH_TSDB_SQLITE_POINTS", (long)n);
    const char *tmp = getenv("TMPDIR");
    char dir[4096];

    if (n_lite > n)
        n_lite = n;
    snprintf(dir, sizeof dir, "%s/disco-bench-tsdb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp", dir);
    printf("tsdb engine vs SQLite %s: %zu points per series kind (SQLite: %zu), 1 s apart\n",
           sqlite3_libversion(), n, n_lite);
    printf("ours: fsync NEVER, batches of %d, bytes = chunk files after flush (log and index "
           "excluded)\n",
           BATCH);
    printf("SQLite: WAL, synchronous=OFF, %s, "
           "transactions of %d,\n        bytes = page_count * page_size after a checkpoint; "
           "one run per kind (it stores REAL whatever our precision)\n",
           sqlite_schema_pk() ? "WITHOUT ROWID table with PRIMARY KEY (series, ts)"
                              : "table (series, ts, value) with an index on (series, ts)",
           BATCH);
    printf("scan and query: best of %d; ingest: one pass\n", REPS);
    run_all(dir, n, n_lite);
    rm_tree(dir);
    return 0;
}
