/*
 * test_tsdb.c - the time-series store's data path: round trips through head
 * and chunks, automatic flushes and merges, the out-of-order window, last
 * write wins, stats, concurrent writers with a reader, open errors.
 * Selection, metric definitions, rollups, deletes and retention are in
 * test_tsdb_series.c; the fixture is tests/support/tsdb_fixture.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/tsdb.h"
#include "support/testutil.h"
#include "support/tsdb_fixture.h"
#include "test_tsdb_util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- round trips ------------------------------------------------------------------- */

static void test_round_trip_head(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;

    tu_tsdb_open(f);
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    for (int i = 9; i >= 0; i--) { /* reversed: the head sorts */
        tt_add(&b, "cpu", "{\"host\":\"a\"}", 1000 + i, i);
        tt_add(&b, "cpu", "{\"host\":\"b\"}", 1000 + i, 100 + i);
        tt_add(&b, "mem", "{\"host\":\"a\"}", 1000 + i, 200 + i);
    }
    assert_int_equal(disco_tsdb_write(f->db, &b, &r, NULL), DISCO_OK);
    disco_ts_batch_release(&b);
    assert_int_equal(r.written, 30);
    assert_int_equal(r.new_series, 3);
    assert_int_equal(r.replaced, 0);

    tt_read(f->db, "cpu", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, 2);
    assert_int_equal(f->got.n, 20);
    tt_read(f->db, "cpu", "[\"host=a\"]", 1002, 1005, &f->got);
    assert_int_equal(f->got.n, 3);
    assert_int_equal(f->got.ts[0], 1002);
    assert_true(f->got.v[2] == 4.0);
    tt_read(f->db, NULL, NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, 3);
    assert_int_equal(f->got.n, 30);
    tt_read(f->db, "nothing", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, 0);
}

static void test_round_trip_chunks(void **state)
{
    tu_tsdb_fixture *f = *state;

    f->cfg.chunk_points = 100;
    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "temp", "{\"room\":\"a\"}", 0, 1000, 5000, 10);
    tu_tsdb_put_range(f, "temp", "{\"room\":\"b\"}", 0, 500, 5000, 20);
    tu_tsdb_flush(f);
    assert_int_equal(tu_tsdb_stat_int(f, "head_points"), 0);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 1);
    assert_int_equal(tu_tsdb_stat_int(f, "chunks"), 15);

    tt_read(f->db, "temp", "[\"room=a\"]", INT64_MIN, INT64_MAX, &f->got);
    tu_tsdb_check_range(&f->got, 0, 1000, 5000, 10);
    /* boundaries inside chunks: [150, 777) of the indexes */
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 1500, 5000 + 7770, &f->got);
    tu_tsdb_check_range(&f->got, 150, 777, 5000, 10);
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 1505, 5000 + 1515, &f->got);
    tu_tsdb_check_range(&f->got, 151, 152, 5000, 10);

    tu_tsdb_put_range(f, "temp", "{\"room\":\"a\"}", 1000, 1100, 5000, 10); /* into the head */
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 9000, INT64_MAX, &f->got);
    tu_tsdb_check_range(&f->got, 900, 1100, 5000, 10);

    tu_tsdb_open(f); /* replays the log over the chunk file */
    tt_read(f->db, "temp", "[\"room=a\"]", INT64_MIN, INT64_MAX, &f->got);
    tu_tsdb_check_range(&f->got, 0, 1100, 5000, 10);
    tt_read(f->db, "temp", "[\"room=b\"]", INT64_MIN, INT64_MAX, &f->got);
    tu_tsdb_check_range(&f->got, 0, 500, 5000, 20);
}

/* A batch of many series is applied series by series: same result. */
static void test_wide_batch(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;
    char tags[32];

    tu_tsdb_open(f);
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    for (int i = 0; i < 50; i++)
        for (int s = 0; s < 100; s++) {
            snprintf(tags, sizeof tags, "{\"s\":\"%03d\"}", s);
            tt_add(&b, "wide", tags, (i * 7) % 50, s * 1000 + i); /* shuffled times */
            if (i == 10)
                tt_add(&b, "wide", tags, 3, -s); /* overwritten when t = 3 comes (i = 29) */
        }
    assert_int_equal(disco_tsdb_write(f->db, &b, &r, NULL), DISCO_OK);
    disco_ts_batch_release(&b);
    assert_int_equal(r.written, 5100);
    assert_int_equal(r.new_series, 100);
    assert_int_equal(r.replaced, 100);
    for (int pass = 0; pass < 2; pass++) {
        tt_read(f->db, "wide", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.series, 100);
        assert_int_equal(f->got.n, 100 * 50);
        for (int s = 0; s < 100; s++)
            for (int t = 0; t < 50; t++) {
                int i = (t * 43) % 50; /* 7 * 43 = 1 mod 50 */
                double want = s * 1000 + i;
                assert_int_equal(f->got.ts[s * 50 + t], t);
                if (f->got.v[s * 50 + t] != want)
                    fail_msg("s %d t %d: %g, expected %g", s, t, f->got.v[s * 50 + t], want);
            }
        tu_tsdb_open(f);
    }
}

static void test_auto_flush_reopen(void **state)
{
    tu_tsdb_fixture *f = *state;
    char tags[64];

    f->cfg.head_flush_points = 3000;
    f->cfg.ooo_window_ms = 100;
    f->cfg.chunk_points = 256;
    tu_tsdb_open(f);
    for (int round = 0; round < 20; round++)
        for (int s = 0; s < 5; s++) {
            snprintf(tags, sizeof tags, "{\"s\":\"%d\"}", s);
            tu_tsdb_put_range(f, "auto", tags, round * 200, (round + 1) * 200, 0, 1);
        }
    assert_true(tu_tsdb_stat_int(f, "chunk_files") >= 3);
    assert_true(tu_tsdb_stat_int(f, "head_points") < 5 * 4000);
    tu_tsdb_open(f);
    for (int s = 0; s < 5; s++) {
        char m[32];
        snprintf(m, sizeof m, "[\"s=%d\"]", s);
        tt_read(f->db, "auto", m, INT64_MIN, INT64_MAX, &f->got);
        tu_tsdb_check_range(&f->got, 0, 4000, 0, 1);
    }
    assert_int_equal(tu_tsdb_stat_int(f, "points"), 5 * 4000);
    tu_tsdb_flush(f);
    assert_int_equal(tu_tsdb_stat_int(f, "head_points"), 0);
    tu_tsdb_open(f);
    assert_int_equal(tu_tsdb_stat_int(f, "points"), 5 * 4000);
}

static void test_idle_series_flushed(void **state)
{
    tu_tsdb_fixture *f = *state;
    json_t *o, *m;

    f->cfg.ooo_window_ms = 1000;
    f->cfg.head_flush_points = 500;
    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "idle", NULL, 0, 50, 0, 1);
    for (int i = 0; i < 100; i++)
        tu_tsdb_put_range(f, "busy", NULL, i * 10, i * 10 + 10, 0, 100); /* to 99.9 s */
    o = tu_tsdb_stats(f);
    m = json_object_get(json_object_get(o, "metrics"), "idle");
    assert_true(json_integer_value(json_object_get(m, "bytes")) > 0);         /* in a chunk file */
    assert_true(json_integer_value(json_object_get(o, "head_points")) >= 10); /* busy's window */
    json_decref(o);
    /* a late point of the idle series still lands */
    assert_int_equal(tt_put(f->db, "idle", NULL, 60, 1, NULL), DISCO_OK);
    tt_read(f->db, "idle", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 51);
}

static void test_small_files_merged(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_selector all = {"ep", NULL, 0, 100, 200};
    uint64_t n = 0;

    f->cfg.head_flush_points = 1000;
    f->cfg.ooo_window_ms = 100;
    tu_tsdb_open(f);
    for (int r = 0; r < 64; r++) { /* an explicit flush per "epoch" */
        tu_tsdb_put_range(f, "ep", NULL, r * 10, r * 10 + 10, 0, 1);
        if (r > 0) /* a late correction of the previous epoch */
            assert_int_equal(tt_put(f->db, "ep", NULL, r * 10 - 5, -r, NULL), DISCO_OK);
        tu_tsdb_flush(f);
    }
    assert_true(tu_tsdb_stat_int(f, "chunk_files") <= 8);
    for (int pass = 0; pass < 2; pass++) {
        tt_read(f->db, "ep", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.n, 640);
        for (int64_t i = 0; i < 640; i++) {
            int late = i % 10 == 5 && i < 630;
            assert_int_equal(f->got.ts[i], i);
            assert_true(f->got.v[i] == (late ? -(double)(i / 10 + 1) : tu_tsdb_value_of(i)));
        }
        tu_tsdb_open(f);
    }
    assert_int_equal(disco_tsdb_delete(f->db, &all, &n, NULL), DISCO_OK);
    assert_int_equal(n, 100);
    tt_read(f->db, "ep", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 540);
}

/* ---- writing rules ------------------------------------------------------------------- */

static void test_ooo_window(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_status st = {0};
    disco_ts_batch b;

    f->cfg.ooo_window_ms = 1000;
    tu_tsdb_open(f);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 10000, 1, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 9500, 2, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 9000, 3, NULL), DISCO_OK);

    /* a refused sample refuses the whole batch, new series included */
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, "m", "{\"k\":\"new\"}", 1, 1);
    tt_add(&b, "m", "{\"k\":\"v\"}", 8999, 4);
    assert_int_equal(disco_tsdb_write(f->db, &b, NULL, &st), DISCO_ERR_INVAL);
    disco_ts_batch_release(&b);
    if (!strstr(st.msg, "m{\"k\"=\"v\"}"))
        fail_msg("%s", st.msg);
    assert_non_null(strstr(st.msg, "8999"));
    assert_non_null(strstr(st.msg, "limit 9000"));
    assert_int_equal(tu_tsdb_count_series(f, "m", NULL), 1);
    tt_read(f->db, "m", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 3);
    assert_int_equal(f->got.ts[0], 9000);
    assert_int_equal(f->got.ts[1], 9500);

    /* inside one batch the newest so far counts */
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, "m", "{\"k\":\"w\"}", 20000, 1);
    tt_add(&b, "m", "{\"k\":\"w\"}", 18999, 1);
    assert_int_equal(disco_tsdb_write(f->db, &b, NULL, &st), DISCO_ERR_INVAL);
    disco_ts_batch_release(&b);
    assert_int_equal(tu_tsdb_count_series(f, "m", NULL), 1);

    /* the window also holds after a flush and a reopen */
    tu_tsdb_flush(f);
    tu_tsdb_open(f);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 8000, 1, &st), DISCO_ERR_INVAL);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 9100, 5, &st), DISCO_OK);
    tt_read(f->db, "m", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 4);
    assert_int_equal(f->got.ts[1], 9100);
}

static void put_check(tu_tsdb_fixture *f, int64_t ts, double v, size_t replaced)
{
    disco_ts_batch b;
    disco_tsdb_write_result r;

    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, "lw", NULL, ts, v);
    assert_int_equal(disco_tsdb_write(f->db, &b, &r, NULL), DISCO_OK);
    assert_int_equal(r.replaced, replaced);
    disco_ts_batch_release(&b);
}

static double value_at(tu_tsdb_fixture *f, int64_t ts)
{
    tt_read(f->db, "lw", NULL, ts, ts + 1, &f->got);
    assert_int_equal(f->got.n, 1);
    return f->got.v[0];
}

static void test_last_write_wins(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;

    f->cfg.ooo_window_ms = 10000;
    tu_tsdb_open(f);
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, "lw", NULL, 100, 1);
    tt_add(&b, "lw", NULL, 100, 2);
    tt_add(&b, "lw", NULL, 200, 7);
    assert_int_equal(disco_tsdb_write(f->db, &b, &r, NULL), DISCO_OK);
    disco_ts_batch_release(&b);
    assert_int_equal(r.written, 3);
    assert_int_equal(r.replaced, 1);
    assert_true(value_at(f, 100) == 2);
    put_check(f, 100, 3, 1);
    assert_true(value_at(f, 100) == 3);

    tu_tsdb_flush(f);        /* 100 and 200 go to a chunk file */
    put_check(f, 100, 4, 1); /* the head overrides the file */
    put_check(f, 50, 5, 0);
    assert_true(value_at(f, 100) == 4);
    tt_read(f->db, "lw", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 3);
    tu_tsdb_open(f); /* from the log */
    assert_true(value_at(f, 100) == 4);
    tu_tsdb_flush(f); /* a newer file overrides the older one */
    assert_true(value_at(f, 100) == 4);
    assert_true(value_at(f, 50) == 5);
    put_check(f, 200, 8, 1);
    tu_tsdb_flush(f);
    tu_tsdb_open(f);
    tt_read(f->db, "lw", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 3);
    assert_true(f->got.v[0] == 5 && f->got.v[1] == 4 && f->got.v[2] == 8);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 3);
}

/* ---- stats and concurrency ------------------------------------------------------------- */

static void test_stats(void **state)
{
    tu_tsdb_fixture *f = *state;
    json_t *o, *m;
    double bpp;

    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "cpu", "{\"h\":\"1\"}", 0, 5000, 1700000000000, 1000);
    tu_tsdb_put_range(f, "cpu", "{\"h\":\"2\"}", 0, 3000, 1700000000000, 1000);
    tu_tsdb_flush(f);
    tu_tsdb_put_range(f, "cpu", "{\"h\":\"1\"}", 5000, 5010, 1700000000000, 1000);
    o = tu_tsdb_stats(f);
    assert_int_equal(json_integer_value(json_object_get(o, "series")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "points")), 8010);
    assert_int_equal(json_integer_value(json_object_get(o, "head_points")), 10);
    assert_int_equal(json_integer_value(json_object_get(o, "chunk_files")), 1);
    assert_true(json_integer_value(json_object_get(o, "chunk_bytes")) > 0);
    assert_true(json_integer_value(json_object_get(o, "wal_bytes")) > 0);
    bpp = json_real_value(json_object_get(o, "bytes_per_point"));
    assert_true(bpp > 0 && bpp < 16);
    m = json_object_get(json_object_get(o, "metrics"), "cpu");
    assert_int_equal(json_integer_value(json_object_get(m, "series")), 2);
    assert_int_equal(json_integer_value(json_object_get(m, "points")), 8010);
    assert_string_equal(json_string_value(json_object_get(m, "precision")), "float64");
    assert_true(json_real_value(json_object_get(m, "bytes_per_point")) > 0);
    json_decref(o);
}

#define WRITERS 4
#define ROUNDS 150
#define PER 40

typedef struct worker {
    disco_tsdb *db;
    int id, rc;
    volatile int *stop;
    size_t reads;
} worker;

static void *writer_main(void *arg)
{
    worker *w = arg;
    char tags[32];

    snprintf(tags, sizeof tags, "{\"w\":\"%d\"}", w->id);
    for (int r = 0; r < ROUNDS && !w->rc; r++) {
        disco_ts_batch b;
        disco_ts_batch_init(&b);
        for (int i = 0; i < PER; i++)
            tt_add(&b, "conc", tags, (int64_t)(r * PER + i), w->id * 1e6 + r * PER + i);
        w->rc = disco_tsdb_write(w->db, &b, NULL, NULL);
        disco_ts_batch_release(&b);
    }
    return NULL;
}

static int check_series(void *user, const disco_ts_series_info *s, const int64_t *ts,
                        const double *v, size_t n)
{
    (void)s;
    (void)user;
    for (size_t i = 0; i < n; i++)
        if (ts[i] != (int64_t)i || fmod(v[i], 1e6) != (double)i)
            return -1; /* each series is a prefix 0..n-1: no gaps, no reordering */
    return 0;
}

static void *reader_main(void *arg)
{
    worker *w = arg;
    disco_ts_selector sel = {"conc", NULL, 0, INT64_MIN, INT64_MAX};

    while (!*w->stop && !w->rc) {
        w->rc = disco_tsdb_read(w->db, &sel, check_series, NULL, NULL);
        w->reads++;
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    tu_tsdb_fixture *f = *state;
    pthread_t th[WRITERS + 1];
    worker w[WRITERS + 1];
    volatile int stop = 0;

    f->cfg.fsync = DISCO_TSDB_FSYNC_ALWAYS;
    f->cfg.head_flush_points = 3000;
    f->cfg.ooo_window_ms = 50;
    tu_tsdb_open(f);
    for (int i = 0; i <= WRITERS; i++) {
        w[i] = (worker){f->db, i, 0, &stop, 0};
        pthread_create(&th[i], NULL, i < WRITERS ? writer_main : reader_main, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    stop = 1;
    pthread_join(th[WRITERS], NULL);
    for (int i = 0; i <= WRITERS; i++)
        assert_int_equal(w[i].rc, 0);
    assert_true(w[WRITERS].reads > 0);
    assert_true(tu_tsdb_stat_int(f, "chunk_files") > 0);
    tu_tsdb_open(f);
    tt_read(f->db, "conc", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, WRITERS);
    assert_int_equal(f->got.n, WRITERS * ROUNDS * PER);
}

static void test_open_errors(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_tsdb_config bad = f->cfg;
    disco_tsdb *other = NULL;
    disco_status st = {0};
    char *file;

    bad.chunk_points = 0;
    assert_int_equal(disco_tsdb_open(f->dir, &bad, &other, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "chunk_points"));
    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_open(f->dir, &f->cfg, &other, &st), DISCO_ERR_BUSY);
    assert_null(other);
    file = tu_path(f->dir, "afile");
    assert_int_equal(tu_write_file(file, "x", 1), 0);
    assert_int_not_equal(disco_tsdb_open(file, &f->cfg, &other, &st), DISCO_OK);
    assert_non_null(strstr(st.msg, "afile"));
    free(file);
    disco_tsdb_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_head, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_chunks, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_wide_batch, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_auto_flush_reopen, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_idle_series_flushed, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_small_files_merged, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_ooo_window, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_last_write_wins, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_stats, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, tu_tsdb_setup, tu_tsdb_teardown),
    };

    return cmocka_run_group_tests_name("store/tsdb", tests, NULL, NULL);
}
