/*
 * test_tsquery.c - tsdb queries: the aggregation kernel against values
 * worked out by hand (numpy's linear percentiles, population stddev, NaN
 * skipping), step and aggregation names, and whole queries through a real
 * store: raw ranges, step buckets, grouping, matchers, the point limit and
 * non-finite values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/tsquery.h"
#include "support/testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-12

static const unsigned ALL = (1u << 11) - 1;

/* out[] of every aggregation of v[0..n), in bit order. */
static void aggregate_all(const double *v, size_t n, double out[11])
{
    double *scratch = malloc((n ? n : 1) * sizeof *scratch);

    assert_non_null(scratch);
    disco_ts_aggregate(v, n, ALL, out, scratch);
    free(scratch);
}

static void check_close(double got, double want, double tol, int line)
{
    if (isnan(want) ? !isnan(got) : !(fabs(got - want) <= tol))
        fail_msg("line %d: got %.17g, want %.17g", line, got, want);
}

/* Equal within `tol`; NaN wants NaN. */
#define assert_close(got, want, tol) check_close((got), (want), (tol), __LINE__)
static double rel_tol(double want)
{
    return EPS * (fabs(want) > 1 ? fabs(want) : 1);
}

/* Equal within a relative 1e-12. */
#define assert_near(got, want) assert_close((got), (want), rel_tol(want))

enum { AVG, MIN, MAX, SUM, COUNT, FIRST, LAST, STDDEV, P50, P90, P99 };

/* ---- the kernel ------------------------------------------------------------ */

static void test_aggregate_small(void **state)
{
    const double v[] = {3, 1, 4, 2};
    double o[11];

    (void)state;
    aggregate_all(v, 4, o);
    assert_near(o[AVG], 2.5);
    assert_near(o[MIN], 1);
    assert_near(o[MAX], 4);
    assert_near(o[SUM], 10);
    assert_near(o[COUNT], 4);
    assert_near(o[FIRST], 3);
    assert_near(o[LAST], 2);
    assert_near(o[STDDEV], sqrt(1.25)); /* deviations 2.25 + 0.25 + 0.25 + 2.25 over 4 */
    assert_near(o[P50], 2.5);           /* rank 1.5 between 2 and 3 */
    assert_near(o[P90], 3.7);           /* rank 2.7 between 3 and 4 */
    assert_near(o[P99], 3.97);          /* rank 2.97 */
}

static void test_aggregate_nan_skipped(void **state)
{
    const double v[] = {NAN, 1, NAN, 3, NAN};
    double o[11];

    (void)state;
    aggregate_all(v, 5, o);
    assert_near(o[COUNT], 2);
    assert_near(o[SUM], 4);
    assert_near(o[AVG], 2);
    assert_near(o[MIN], 1);
    assert_near(o[MAX], 3);
    assert_near(o[STDDEV], 1);
    assert_near(o[P50], 2);
    assert_near(o[P90], 2.8); /* rank 0.9 of {1, 3} */
    assert_true(isnan(o[FIRST]));
    assert_true(isnan(o[LAST]));
}

static void test_aggregate_single_and_empty(void **state)
{
    const double one[] = {-7.25}, nans[] = {NAN, NAN};
    double o[11];

    (void)state;
    aggregate_all(one, 1, o);
    for (int i = 0; i < 11; i++)
        if (i != COUNT && i != STDDEV)
            assert_near(o[i], -7.25);
    assert_near(o[COUNT], 1);
    assert_near(o[STDDEV], 0);

    aggregate_all(nans, 2, o);
    assert_near(o[COUNT], 0);
    assert_near(o[SUM], 0);
    for (int i = 0; i < 11; i++)
        if (i != COUNT && i != SUM)
            assert_true(isnan(o[i]));

    aggregate_all(NULL, 0, o);
    assert_near(o[COUNT], 0);
    assert_true(isnan(o[AVG]) && isnan(o[FIRST]) && isnan(o[P99]));
}

static void test_aggregate_percentiles_known(void **state)
{
    /* sorted: -1 0.5 2.5 3 7 7 10 */
    const double v[] = {2.5, -1, 7, 7, 3, 10, 0.5};
    const double ten[] = {7, 2, 9, 0, 4, 1, 8, 3, 6, 5};
    double o[3], scratch[10];

    (void)state;
    disco_ts_aggregate(v, 7, DISCO_AGG_P50 | DISCO_AGG_P90 | DISCO_AGG_P99, o, scratch);
    assert_near(o[0], 3);    /* rank 3 */
    assert_near(o[1], 8.2);  /* rank 5.4: 7 + 0.4 * 3 */
    assert_near(o[2], 9.82); /* rank 5.94: 7 + 0.94 * 3 */
    disco_ts_aggregate(ten, 10, DISCO_AGG_P50 | DISCO_AGG_P90 | DISCO_AGG_P99, o, scratch);
    assert_near(o[0], 4.5);
    assert_near(o[1], 8.1);
    assert_near(o[2], 8.91);
    /* the input is left as it was */
    assert_near(v[0], 2.5);
    assert_near(ten[9], 5);
}

static void test_aggregate_bit_order(void **state)
{
    const double v[] = {5, 1, 9};
    double o[3] = {0}, scratch[3];

    (void)state;
    disco_ts_aggregate(v, 3, DISCO_AGG_P90 | DISCO_AGG_MAX | DISCO_AGG_COUNT, o, scratch);
    assert_near(o[0], 9);
    assert_near(o[1], 3);
    assert_near(o[2], 8.2); /* rank 1.8 of {1, 5, 9} */
}

static void test_aggregate_infinities(void **state)
{
    const double v[] = {1, -INFINITY, 2, INFINITY};
    double o[11];

    (void)state;
    aggregate_all(v, 4, o);
    assert_near(o[COUNT], 4);
    assert_true(isinf(o[MIN]) && o[MIN] < 0);
    assert_true(isinf(o[MAX]) && o[MAX] > 0);
    assert_true(isnan(o[SUM]) && isnan(o[AVG]) && isnan(o[STDDEV]));
    assert_near(o[P50], 1.5);
}

/* Sum and spread stay exact where a naive loop drifts. */
static void test_aggregate_numerically_careful(void **state)
{
    size_t n = 1000000;
    double *v = malloc(n * sizeof *v), o[11];
    const double offset[] = {1e12 + 4, 1e12 + 7, 1e12 + 13, 1e12 + 16};

    (void)state;
    assert_non_null(v);
    for (size_t i = 0; i < n; i++)
        v[i] = 0.1;
    aggregate_all(v, n, o);
    assert_close(o[AVG], 0.1, 1e-15);
    assert_close(o[SUM], 100000.0, 1e-9);
    assert_close(o[STDDEV], 0, 1e-15);
    free(v);
    aggregate_all(offset, 4, o);
    assert_close(o[STDDEV], sqrt(22.5), 1e-9);
    assert_near(o[AVG], 1e12 + 10);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* numpy's linear method on a sorted copy, the plain way. */
static double ref_percentile(const double *sorted, size_t n, double q)
{
    double h = (double)(n - 1) * q, t;
    size_t lo = (size_t)floor(h), hi = lo + 1 < n ? lo + 1 : lo;
    double a = sorted[lo], d = sorted[hi] - a;

    t = h - (double)lo;
    return t >= 0.5 ? sorted[hi] - d * (1 - t) : a + d * t;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Selection agrees with sorting on random, duplicate-heavy and sorted input. */
static void test_aggregate_percentiles_vs_sort(void **state)
{
    size_t sizes[] = {1, 2, 3, 17, 100, 1001, 65536};
    uint64_t seed = 42;

    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int kind = 0; kind < 3; kind++) {
            size_t n = sizes[s];
            double *v = malloc(n * sizeof *v), *sorted = malloc(n * sizeof *v);
            double *scratch = malloc(n * sizeof *v), o[3];
            assert_true(v && sorted && scratch);
            for (size_t i = 0; i < n; i++)
                v[i] = kind == 0   ? (double)(rng_next(&seed) % 1000000) / 7.0
                       : kind == 1 ? (double)(rng_next(&seed) % 3)
                                   : (double)i;
            memcpy(sorted, v, n * sizeof *v);
            qsort(sorted, n, sizeof *v, cmp_d);
            disco_ts_aggregate(v, n, DISCO_AGG_P50 | DISCO_AGG_P90 | DISCO_AGG_P99, o, scratch);
            assert_near(o[0], ref_percentile(sorted, n, 0.5));
            assert_near(o[1], ref_percentile(sorted, n, 0.9));
            assert_near(o[2], ref_percentile(sorted, n, 0.99));
            free(v);
            free(sorted);
            free(scratch);
        }
}

/* ---- names ----------------------------------------------------------------- */

static void test_agg_names(void **state)
{
    const char *names[] = {"avg",  "min",    "max", "sum", "count", "first",
                           "last", "stddev", "p50", "p90", "p99"};
    disco_status st = {0};
    unsigned bit = 0;

    (void)state;
    for (unsigned i = 0; i < 11; i++) {
        assert_int_equal(disco_ts_agg_parse(names[i], &bit, &st), DISCO_OK);
        assert_int_equal(bit, 1u << i);
        assert_string_equal(disco_ts_agg_name(bit), names[i]);
    }
    assert_int_equal(disco_ts_agg_parse("median", &bit, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "'median'"));
    assert_null(disco_ts_agg_name(DISCO_AGG_MIN | DISCO_AGG_MAX));
    assert_null(disco_ts_agg_name(0));
}

static void test_step_parse(void **state)
{
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {{"500ms", 500},     {"90s", 90000},   {"1m", 60000},     {"5m", 300000},
              {"1h", 3600000},    {"1d", 86400000}, {"1w", 604800000}, {"1500", 1500},
              {"1h30m", 5400000}, {"2m30s", 150000}};
    static const char *const bad[] = {"",
                                      "5x",
                                      "m",
                                      "0",
                                      "0s",
                                      "-5m",
                                      "1.5h",
                                      "5 m",
                                      "1h30",
                                      "99999999999999999999",
                                      "9999999999999999w"};
    disco_status st = {0};
    int64_t ms;

    (void)state;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(disco_ts_step_parse(ok[i].text, &ms, &st), DISCO_OK);
        assert_int_equal(ms, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char quoted[64];
        assert_int_equal(disco_ts_step_parse(bad[i], &ms, &st), DISCO_ERR_INVAL);
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        assert_non_null(strstr(st.msg, quoted));
    }
    assert_int_equal(disco_ts_step_parse(NULL, &ms, &st), DISCO_ERR_INVAL);
}

/* ---- queries through a store ------------------------------------------------ */

/*
 * The store of every query test, minutes from B (a multiple of 60 s):
 *   cpu{host=a,dc=x}  B + 10 s * i,          value i         (i < 60)
 *   cpu{host=b,dc=x}  B + 15 s + 20 s * i,   value 100 + i   (i < 30)
 *   cpu{host=c,dc=y}  B + 5 s + 10 s * i,    value 1000 + i  (i < 60)
 *   loss{run=r1}      B + 1 s * i,           NaN 1 Inf -Inf 2
 */
#define B 1700000040000ll

typedef struct fixture {
    char *dir;
    disco_tsdb *db;
} fixture;

static void add_series(disco_ts_batch *b, const char *metric, const char *tags, int64_t t0,
                       int64_t dt, const double *v, size_t n)
{
    json_t *t = json_loads(tags, 0, NULL);
    disco_status st = {0};
    uint32_t s;

    assert_non_null(t);
    assert_int_equal(disco_ts_batch_series(b, metric, t, &s, &st), DISCO_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(disco_ts_batch_add(b, s, t0 + dt * (int64_t)i, v[i]), DISCO_OK);
    json_decref(t);
}

static void write_fixture(disco_tsdb *db)
{
    double a[60], bv[30], c[60], loss[] = {NAN, 1, INFINITY, -INFINITY, 2};
    disco_ts_batch b;
    disco_status st = {0};

    for (int i = 0; i < 60; i++) {
        a[i] = i;
        c[i] = 1000 + i;
        if (i < 30)
            bv[i] = 100 + i;
    }
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    add_series(&b, "cpu", "{\"host\": \"a\", \"dc\": \"x\"}", B, 10000, a, 60);
    add_series(&b, "cpu", "{\"host\": \"b\", \"dc\": \"x\"}", B + 15000, 20000, bv, 30);
    add_series(&b, "cpu", "{\"host\": \"c\", \"dc\": \"y\"}", B + 5000, 10000, c, 60);
    add_series(&b, "loss", "{\"run\": \"r1\"}", B, 1000, loss, 5);
    assert_int_equal(disco_tsdb_write(db, &b, NULL, &st), DISCO_OK);
    disco_ts_batch_release(&b);
}

static int setup_store(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    disco_tsdb_config cfg = disco_tsdb_config_default();
    disco_status st = {0};

    if (!f || !(f->dir = tu_tmpdir("tsquery")))
        return -1;
    cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    if (disco_tsdb_open(f->dir, &cfg, &f->db, &st) != DISCO_OK)
        return -1;
    write_fixture(f->db);
    *state = f;
    return 0;
}

static int teardown_store(void **state)
{
    fixture *f = *state;

    disco_tsdb_close(f->db);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static json_t *query_ok(fixture *f, const disco_ts_query *q)
{
    disco_status st = {0};
    json_t *res = NULL;
    int rc = disco_tsdb_query(f->db, q, &res, &st);

    if (rc != DISCO_OK)
        fail_msg("query: %s", disco_status_message(&st));
    assert_non_null(res);
    return res;
}

static json_t *series_at(const json_t *res, size_t i)
{
    json_t *s = json_array_get(json_object_get(res, "series"), i);

    assert_non_null(s);
    return s;
}

/* Row i, column j of series s as a number (strings NaN/Inf/-Inf too). */
static double cell(const json_t *s, size_t i, size_t j)
{
    json_t *x = json_array_get(json_array_get(json_object_get(s, "points"), i), j);
    const char *t = json_string_value(x);

    assert_non_null(x);
    if (t)
        return strcmp(t, "NaN") == 0 ? NAN : strcmp(t, "Inf") == 0 ? INFINITY : -INFINITY;
    return json_number_value(x);
}

static size_t n_rows(const json_t *s)
{
    return json_array_size(json_object_get(s, "points"));
}

static void assert_json_text(const json_t *v, const char *want)
{
    char *got = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_query_raw_range(void **state)
{
    fixture *f = *state;
    disco_ts_matcher m = {.key = "host", .op = DISCO_TS_EQ, .value = "a"};
    disco_ts_query q = {.sel = {"cpu", &m, 1, B + 60000, B + 120000}};
    json_t *res = query_ok(f, &q), *s = series_at(res, 0);

    assert_int_equal(json_array_size(json_object_get(res, "series")), 1);
    assert_int_equal(json_integer_value(json_object_get(res, "points")), 6);
    assert_string_equal(json_string_value(json_object_get(s, "metric")), "cpu");
    assert_json_text(json_object_get(s, "tags"), "{\"dc\":\"x\",\"host\":\"a\"}");
    assert_json_text(json_object_get(s, "columns"), "[\"ts\",\"value\"]");
    assert_int_equal(n_rows(s), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_true(
            json_is_integer(json_array_get(json_array_get(json_object_get(s, "points"), i), 0)));
        assert_close(cell(s, i, 0), (double)(B + 60000 + 10000 * (int64_t)i), 0);
        assert_close(cell(s, i, 1), 6.0 + (double)i, 0);
    }
    json_decref(res);
}

/* Buckets start at multiples of the step, the first one at the start rounded down. */
static void test_query_step_alignment(void **state)
{
    fixture *f = *state;
    disco_ts_matcher m = {.key = "host", .op = DISCO_TS_EQ, .value = "a"};
    disco_ts_query q = {.sel = {"cpu", &m, 1, B + 65000, B + 185000},
                        .step_ms = 60000,
                        .aggs = DISCO_AGG_COUNT | DISCO_AGG_FIRST | DISCO_AGG_LAST};
    json_t *res = query_ok(f, &q), *s = series_at(res, 0);
    const double want[3][4] = {
        {B + 60000, 5, 7, 11}, {B + 120000, 6, 12, 17}, {B + 180000, 1, 18, 18}};

    assert_json_text(json_object_get(s, "columns"), "[\"ts\",\"count\",\"first\",\"last\"]");
    assert_int_equal(n_rows(s), 3);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++)
            assert_close(cell(s, i, j), want[i][j], 0);
    assert_true(
        json_is_integer(json_array_get(json_array_get(json_object_get(s, "points"), 0), 1)));
    json_decref(res);

    q.step_ms = 90000; /* B is not a multiple of 90 s */
    res = query_ok(f, &q);
    s = series_at(res, 0);
    assert_close(cell(s, 0, 0), (double)((B + 65000) / 90000 * 90000), 0);
    for (size_t i = 0; i < n_rows(s); i++)
        assert_int_equal((int64_t)cell(s, i, 0) % 90000, 0);
    json_decref(res);
}

/* Series agreeing on dc merge: aggregates over the union of their samples. */
static void test_query_group_by(void **state)
{
    fixture *f = *state;
    const char *by[] = {"dc"};
    unsigned aggs = DISCO_AGG_AVG | DISCO_AGG_MIN | DISCO_AGG_MAX | DISCO_AGG_SUM |
                    DISCO_AGG_COUNT | DISCO_AGG_FIRST | DISCO_AGG_LAST | DISCO_AGG_P50 |
                    DISCO_AGG_P90;
    disco_ts_query q = {.sel = {"cpu", NULL, 0, INT64_MIN, INT64_MAX},
                        .step_ms = 60000,
                        .aggs = aggs,
                        .group_by = by,
                        .n_group_by = 1};
    json_t *res = query_ok(f, &q), *x = series_at(res, 0), *y = series_at(res, 1);
    /* first minute of dc=x: a 0..5 at 0..50 s, b 100..102 at 15, 35, 55 s */
    const double want[] = {B, 318.0 / 9, 0, 102, 318, 9, 0, 102, 4, 101.2};

    assert_int_equal(json_array_size(json_object_get(res, "series")), 2);
    assert_json_text(json_object_get(x, "tags"), "{\"dc\":\"x\"}");
    assert_json_text(json_object_get(y, "tags"), "{\"dc\":\"y\"}");
    assert_int_equal(n_rows(x), 10);
    for (size_t j = 0; j < 10; j++)
        assert_near(cell(x, 0, j), want[j]);
    assert_close(cell(x, 9, 5), 9, 0); /* minute 9: 6 + 3 samples */
    assert_close(cell(y, 0, 5), 6, 0);
    assert_close(cell(y, 0, 1), 1002.5, 0);
    assert_int_equal(json_integer_value(json_object_get(res, "points")), 20);
    json_decref(res);
}

/* Grouping keeps metrics apart; a series without the key forms its own group. */
static void test_query_group_by_absent_key(void **state)
{
    fixture *f = *state;
    const char *by[] = {"dc"};
    disco_ts_query q = {.sel = {NULL, NULL, 0, INT64_MIN, INT64_MAX},
                        .step_ms = 3600000,
                        .aggs = DISCO_AGG_COUNT,
                        .group_by = by,
                        .n_group_by = 1};
    json_t *res = query_ok(f, &q);
    json_t *want = json_loads("[{\"metric\": \"cpu\", \"tags\": {\"dc\": \"x\"}},"
                              " {\"metric\": \"cpu\", \"tags\": {\"dc\": \"y\"}},"
                              " {\"metric\": \"loss\", \"tags\": {}}]",
                              0, NULL);
    const int counts[] = {90, 60, 4};

    assert_int_equal(json_array_size(json_object_get(res, "series")), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *s = series_at(res, i), *w = json_array_get(want, i);
        assert_true(json_equal(json_object_get(s, "metric"), json_object_get(w, "metric")));
        assert_true(json_equal(json_object_get(s, "tags"), json_object_get(w, "tags")));
        assert_close(cell(s, 0, 1), counts[i], 0);
    }
    json_decref(want);
    json_decref(res);
}

/* The same answers from chunk files, after a flush and a reopen, as from the head. */
static void test_query_after_flush_and_reopen(void **state)
{
    fixture *f = *state;
    const char *by[] = {"dc"};
    disco_tsdb_config cfg = disco_tsdb_config_default();
    disco_ts_query q = {.sel = {NULL, NULL, 0, INT64_MIN, INT64_MAX},
                        .step_ms = 60000,
                        .aggs = (1u << 11) - 1,
                        .group_by = by,
                        .n_group_by = 1};
    disco_ts_query raw = {.sel = {NULL, NULL, 0, INT64_MIN, INT64_MAX}};
    disco_status st = {0};
    json_t *grouped = query_ok(f, &q), *points = query_ok(f, &raw), *again;

    assert_int_equal(disco_tsdb_flush(f->db, &st), DISCO_OK);
    disco_tsdb_close(f->db);
    f->db = NULL;
    cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    assert_int_equal(disco_tsdb_open(f->dir, &cfg, &f->db, &st), DISCO_OK);
    again = query_ok(f, &q);
    assert_true(json_equal(grouped, again));
    json_decref(again);
    again = query_ok(f, &raw);
    assert_true(json_equal(points, again));
    json_decref(again);
    json_decref(grouped);
    json_decref(points);
}

static void assert_hosts(fixture *f, const disco_ts_matcher *m, const char *want)
{
    disco_ts_query q = {.sel = {"cpu", m, 1, INT64_MIN, INT64_MAX}, .step_ms = 3600000};
    json_t *res = query_ok(f, &q), *hosts = json_array();
    size_t i;
    json_t *s;

    json_array_foreach (json_object_get(res, "series"), i, s)
        json_array_append(hosts, json_object_get(json_object_get(s, "tags"), "host"));
    assert_json_text(hosts, want);
    json_decref(hosts);
    json_decref(res);
}

static void test_query_matchers(void **state)
{
    fixture *f = *state;
    disco_ts_matcher re = {.key = "host", .op = DISCO_TS_RE, .value = "a|c"};
    disco_ts_matcher ne = {.key = "host", .op = DISCO_TS_NE, .value = "a"};
    disco_ts_matcher nre = {.key = "dc", .op = DISCO_TS_NRE, .value = "x"};
    disco_ts_matcher none = {.key = "host", .op = DISCO_TS_EQ, .value = "zz"};
    disco_ts_query q = {.sel = {"cpu", &none, 1, INT64_MIN, INT64_MAX}};
    json_t *res;

    assert_hosts(f, &re, "[\"a\",\"c\"]");
    assert_hosts(f, &ne, "[\"b\",\"c\"]");
    assert_hosts(f, &nre, "[\"c\"]");
    res = query_ok(f, &q);
    assert_json_text(res, "{\"points\":0,\"series\":[]}");
    json_decref(res);
}

static void assert_limit(fixture *f, disco_ts_query *q, const char *count)
{
    disco_status st = {0};
    json_t *res = (json_t *)1;

    assert_int_equal(disco_tsdb_query(f->db, q, &res, &st), DISCO_ERR_LIMIT);
    assert_null(res);
    assert_non_null(strstr(st.msg, count));
}

static void test_query_max_points(void **state)
{
    fixture *f = *state;
    disco_ts_query q = {.sel = {"cpu", NULL, 0, INT64_MIN, INT64_MAX}, .max_points = 149};
    json_t *res;

    assert_limit(f, &q, "150 points"); /* 60 + 30 + 60 */
    q.max_points = 150;
    res = query_ok(f, &q);
    assert_int_equal(json_integer_value(json_object_get(res, "points")), 150);
    json_decref(res);
    q.step_ms = 60000;
    q.max_points = 29;
    assert_limit(f, &q, "30 points"); /* 10 minutes of 3 series */
    q.n_group_by = 1;
    q.group_by = (const char *const[]){"dc"};
    q.max_points = 19;
    assert_limit(f, &q, "20 points");
}

static void test_query_non_finite(void **state)
{
    fixture *f = *state;
    disco_ts_query q = {.sel = {"loss", NULL, 0, INT64_MIN, INT64_MAX}};
    json_t *res = query_ok(f, &q), *s = series_at(res, 0);

    assert_json_text(json_object_get(s, "points"),
                     "[[1700000040000,\"NaN\"],[1700000041000,1.0],[1700000042000,\"Inf\"],"
                     "[1700000043000,\"-Inf\"],[1700000044000,2.0]]");
    json_decref(res);
    q.step_ms = 60000;
    q.aggs = DISCO_AGG_AVG | DISCO_AGG_MIN | DISCO_AGG_MAX | DISCO_AGG_COUNT | DISCO_AGG_FIRST |
             DISCO_AGG_LAST;
    res = query_ok(f, &q);
    assert_json_text(json_object_get(series_at(res, 0), "points"),
                     "[[1700000040000,\"NaN\",\"-Inf\",\"Inf\",4,\"NaN\",2.0]]");
    json_decref(res);
}

static void test_query_bad(void **state)
{
    fixture *f = *state;
    const char *by[] = {"dc"}, *empty[] = {""};
    disco_ts_query q = {.sel = {"cpu", NULL, 0, INT64_MIN, INT64_MAX}, .aggs = DISCO_AGG_MAX};
    disco_status st = {0};
    json_t *res;

    assert_int_equal(disco_tsdb_query(f->db, &q, &res, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "step"));
    q.aggs = 0;
    q.group_by = by;
    q.n_group_by = 1;
    assert_int_equal(disco_tsdb_query(f->db, &q, &res, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "group_by"));
    q.step_ms = 60000;
    q.group_by = empty;
    assert_int_equal(disco_tsdb_query(f->db, &q, &res, &st), DISCO_ERR_INVAL);
    q.step_ms = -5;
    q.n_group_by = 0;
    assert_int_equal(disco_tsdb_query(f->db, &q, &res, &st), DISCO_ERR_INVAL);
    q.step_ms = 60000;
    q.aggs = 1u << 20;
    assert_int_equal(disco_tsdb_query(f->db, &q, &res, &st), DISCO_ERR_INVAL);
    assert_null(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aggregate_small),
        cmocka_unit_test(test_aggregate_nan_skipped),
        cmocka_unit_test(test_aggregate_single_and_empty),
        cmocka_unit_test(test_aggregate_percentiles_known),
        cmocka_unit_test(test_aggregate_bit_order),
        cmocka_unit_test(test_aggregate_infinities),
        cmocka_unit_test(test_aggregate_numerically_careful),
        cmocka_unit_test(test_aggregate_percentiles_vs_sort),
        cmocka_unit_test(test_agg_names),
        cmocka_unit_test(test_step_parse),
        cmocka_unit_test_setup_teardown(test_query_raw_range, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_step_alignment, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_group_by, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_group_by_absent_key, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(test_query_after_flush_and_reopen, setup_store,
                                        teardown_store),
        cmocka_unit_test_setup_teardown(test_query_matchers, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_max_points, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_non_finite, setup_store, teardown_store),
        cmocka_unit_test_setup_teardown(test_query_bad, setup_store, teardown_store),
    };
    return cmocka_run_group_tests_name("store/tsquery", tests, NULL, NULL);
}
