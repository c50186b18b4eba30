/*
 * test_tsdb_series.c - the time-series store by series and metric: the
 * series index and matchers, series and tag-value listings, metric
 * definitions (precision, rollup rules), deletes, retention and rollups.
 * The data path is in test_tsdb.c; the fixture is tests/support/tsdb_fixture.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/timeutil.h"
#include "disco/tsdb.h"
#include "support/tsdb_fixture.h"
#include "test_tsdb_util.h"

#include <math.h>
#include <string.h>

/* ---- index and matchers ------------------------------------------------------------- */

static void test_matchers(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_status st = {0};

    tu_tsdb_open(f);
    assert_int_equal(tt_put(f->db, "req", "{\"method\":\"GET\",\"code\":\"200\"}", 1, 1, NULL), 0);
    assert_int_equal(tt_put(f->db, "req", "{\"method\":\"POST\",\"code\":\"500\"}", 1, 1, NULL), 0);
    assert_int_equal(
        tt_put(f->db, "req", "{\"method\":\"GET\",\"code\":\"404\",\"path\":\"/x\"}", 1, 1, NULL),
        0);
    assert_int_equal(tt_put(f->db, "req", NULL, 1, 1, NULL), 0);
    assert_int_equal(tt_put(f->db, "other", "{\"method\":\"GET\"}", 1, 1, NULL), 0);

    assert_int_equal(tu_tsdb_count_series(f, "req", NULL), 4);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"method=GET\"]"), 2);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"method!=GET\"]"), 2);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"code=~2..|4..\"]"), 2);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"code=~0\"]"), 0); /* anchored */
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"code!~5..\"]"), 3);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"path=\"]"), 3);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"path!=\"]"), 1);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"path=~.*\"]"), 4);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"path!~.+\"]"), 3);
    assert_int_equal(tu_tsdb_count_series(f, "req", "[\"method=GET\", \"code!=200\"]"), 1);
    assert_int_equal(tu_tsdb_count_series(f, "req", "{\"method\":\"POST\"}"), 1);
    assert_int_equal(tu_tsdb_count_series(f, NULL, "[\"method=GET\"]"), 3);
    assert_int_equal(tu_tsdb_count_series(f, NULL, "\"method=~G.*\""), 3);

    /* parsed keys are not terminated: key_len says how long they are */
    {
        json_t *ex = json_loads("[\"method=~G.*\"]", 0, NULL);
        disco_ts_matcher m[1];
        size_t n = 0;
        assert_int_equal(disco_ts_matchers_parse(ex, m, 1, &n, &st), DISCO_OK);
        assert_int_equal(m[0].key_len, 6);
        assert_int_equal(strncmp(m[0].key, "method", 6), 0);
        assert_int_equal(m[0].op, DISCO_TS_RE);
        assert_string_equal(m[0].value, "G.*");
        json_decref(ex);
    }
    /* hand-made matchers with C-string keys */
    {
        disco_ts_matcher m[] = {{"method", DISCO_TS_NE, "GET", 0}};
        disco_ts_selector sel = {"req", m, 1, INT64_MIN, INT64_MAX};
        tt_got_free(&f->got);
        assert_int_equal(disco_tsdb_read(f->db, &sel, tt_collect, &f->got, NULL), DISCO_OK);
        assert_int_equal(f->got.series, 2);
    }
}

static void check_parse_error(const char *json, int code, const char *needle)
{
    json_t *ex = json_loads(json, JSON_DECODE_ANY, NULL);
    disco_ts_matcher m[2];
    disco_status st = {0};
    size_t n;

    assert_non_null(ex);
    assert_int_equal(disco_ts_matchers_parse(ex, m, 2, &n, &st), code);
    if (!strstr(st.msg, needle))
        fail_msg("message '%s' lacks '%s'", st.msg, needle);
    json_decref(ex);
}

static void test_matcher_errors(void **state)
{
    (void)state;
    check_parse_error("[\"method\"]", DISCO_ERR_INVAL, "'method'");
    check_parse_error("[\"=x\"]", DISCO_ERR_INVAL, "'=x'");
    check_parse_error("[\"1a=b\"]", DISCO_ERR_INVAL, "'1a=b'");
    check_parse_error("[\"code=~(\"]", DISCO_ERR_INVAL, "regex");
    /* repetitions that glibc's regcomp would expand to gigabytes are refused */
    check_parse_error("[\"code=~a++++++++++++++++++++++++++\"]", DISCO_ERR_INVAL, "too complex");
    check_parse_error("[\"code=~((a{200}){200}){200}\"]", DISCO_ERR_INVAL, "too complex");
    check_parse_error("[\"code=~(x(y(z{64}){64}){64})\"]", DISCO_ERR_INVAL, "too complex");
    check_parse_error("[\"code=~(GET|POST){1,3}[]0-9[:alpha:]]+x*\\\\{9\"]", DISCO_OK, "");
    check_parse_error("[\"code=~a{16000}\"]", DISCO_OK, "");
    check_parse_error("[\"a=1\", \"b=2\", \"c=3\"]", DISCO_ERR_LIMIT, "3 matchers");
    check_parse_error("[1]", DISCO_ERR_INVAL, "matcher 1");
    check_parse_error("42", DISCO_ERR_INVAL, "array of strings");
}

static void test_series_and_tag_values(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_selector sel = {"cpu", NULL, 0, 150, INT64_MAX};
    json_t *out = NULL, *e;

    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "cpu", "{\"host\":\"b\",\"dc\":\"x\"}", 0, 10, 100, 10);
    tu_tsdb_put_range(f, "cpu", "{\"host\":\"a\"}", 0, 3, 100, 10);
    tu_tsdb_put_range(f, "mem", "{\"host\":\"c\"}", 0, 3, 100, 10);
    tu_tsdb_flush(f);
    tu_tsdb_put_range(f, "cpu", "{\"host\":\"b\",\"dc\":\"x\"}", 10, 12, 100, 10);

    assert_int_equal(disco_tsdb_series(f->db, &sel, &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(out), 1); /* host=a has nothing after 150 */
    e = json_array_get(out, 0);
    assert_string_equal(json_string_value(json_object_get(e, "metric")), "cpu");
    assert_string_equal(json_string_value(json_object_get(json_object_get(e, "tags"), "host")),
                        "b");
    assert_int_equal(json_integer_value(json_object_get(e, "points")), 7);
    assert_int_equal(json_integer_value(json_object_get(e, "first")), 150);
    assert_int_equal(json_integer_value(json_object_get(e, "last")), 210);
    json_decref(out);

    assert_int_equal(disco_tsdb_tag_values(f->db, NULL, "host", &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(out), 3);
    assert_string_equal(json_string_value(json_array_get(out, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(out, 2)), "c");
    json_decref(out);
    assert_int_equal(disco_tsdb_tag_values(f->db, "cpu", "host", &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(out), 2);
    json_decref(out);
    assert_int_equal(disco_tsdb_tag_values(f->db, "nope", "host", &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(out), 0);
    json_decref(out);
}

/* ---- metric definitions ------------------------------------------------------------ */

static void test_precision(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_precision d1 = {DISCO_TS_DECIMAL, 1}, d2 = {DISCO_TS_DECIMAL, 2};
    disco_ts_precision f32 = {DISCO_TS_FLOAT32, 0};
    json_t *o, *m;

    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_define(f->db, "temp", &d1, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_tsdb_define(f->db, "f", &f32, NULL, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "temp", NULL, 1, 21.349, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "f", NULL, 1, 0.1, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "raw", NULL, 1, 0.1, NULL), DISCO_OK);
    assert_int_equal(disco_tsdb_define(f->db, "temp", &d2, NULL, NULL), DISCO_OK);
    assert_int_equal(tt_put(f->db, "temp", NULL, 2, 1.23456, NULL), DISCO_OK);

    for (int pass = 0; pass < 3; pass++) {
        tt_read(f->db, "temp", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.n, 2);
        assert_true(f->got.v[0] == disco_ts_round(21.349, &d1));
        assert_true(fabs(f->got.v[0] - 21.3) < 1e-12);
        assert_true(f->got.v[1] == disco_ts_round(1.23456, &d2));
        tt_read(f->db, "f", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_true(f->got.v[0] == (double)(float)0.1);
        assert_true(f->got.v[0] != 0.1);
        tt_read(f->db, "raw", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_true(f->got.v[0] == 0.1);
        if (pass == 0)
            tu_tsdb_open(f); /* definitions from the log */
        else if (pass == 1) {
            tu_tsdb_flush(f); /* from series.idx after the checkpoint */
            tu_tsdb_open(f);
        }
    }
    o = tu_tsdb_stats(f);
    m = json_object_get(json_object_get(o, "metrics"), "temp");
    assert_string_equal(json_string_value(json_object_get(m, "precision")), "decimal:2");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(o, "metrics"), "f"), "precision")),
                        "float32");
    json_decref(o);
}

static void test_define(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_DECIMAL, 3}, bad = {DISCO_TS_DECIMAL, 12};
    json_t *rules = json_loads("{\"1m\": \"avg\", \"1h\": [\"min\", \"max\"]}", 0, NULL);
    json_t *o, *m;
    disco_status st = {0};

    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_define(f->db, "loss", &p, rules, &st), DISCO_OK);
    for (int pass = 0; pass < 2; pass++) {
        tu_tsdb_open(f);
        o = tu_tsdb_stats(f);
        m = json_object_get(json_object_get(o, "metrics"), "loss");
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "precision")), "decimal:3");
        assert_true(json_equal(json_object_get(m, "rollups"), rules));
        json_decref(o);
        tu_tsdb_flush(f);
    }
    json_decref(rules);

    rules = json_loads("{\"1m\": \"bogus\"}", 0, NULL);
    assert_int_equal(disco_tsdb_define(f->db, "x", &p, rules, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "bogus"));
    json_decref(rules);
    rules = json_loads("{\"1q\": \"avg\"}", 0, NULL);
    assert_int_equal(disco_tsdb_define(f->db, "x", &p, rules, &st), DISCO_ERR_INVAL);
    json_decref(rules);
    rules = json_loads("{\"1m\": \"avg\", \"60s\": \"max\"}", 0, NULL);
    assert_int_equal(disco_tsdb_define(f->db, "x", &p, rules, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "the same"));
    json_decref(rules);
    rules = json_loads("{\"1m\": \"avg\"}", 0, NULL);
    assert_int_equal(disco_tsdb_define(f->db, "loss:1m:avg", &p, rules, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "rollup"));
    assert_int_equal(disco_tsdb_define(f->db, "x", &bad, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsdb_define(f->db, "bad name", &p, NULL, &st), DISCO_ERR_INVAL);
    json_decref(rules);
}

/* ---- deletes and retention ------------------------------------------------------------- */

static void test_delete(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_matcher ma[] = {{"host", DISCO_TS_EQ, "a", 0}}, mb[] = {{"host", DISCO_TS_EQ, "b", 0}};
    disco_ts_selector sa = {"d", ma, 1, 200, 700}, sb = {"d", mb, 1, INT64_MIN, INT64_MAX};
    uint64_t n = 0;
    json_t *vals;

    f->cfg.chunk_points = 16;
    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "d", "{\"host\":\"a\"}", 0, 50, 0, 10);
    tu_tsdb_put_range(f, "d", "{\"host\":\"b\"}", 0, 50, 0, 10);
    tu_tsdb_flush(f);
    tu_tsdb_put_range(f, "d", "{\"host\":\"a\"}", 50, 100, 0, 10);
    tu_tsdb_put_range(f, "d", "{\"host\":\"b\"}", 50, 100, 0, 10);

    assert_int_equal(disco_tsdb_delete(f->db, &sa, &n, NULL), DISCO_OK);
    assert_int_equal(n, 50); /* 30 from the file, 20 from the head */
    for (int pass = 0; pass < 2; pass++) {
        tt_read(f->db, "d", "[\"host=a\"]", INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.n, 50);
        for (size_t i = 0; i < f->got.n; i++)
            assert_true(f->got.ts[i] < 200 || f->got.ts[i] >= 700);
        assert_true(f->got.v[20] == tu_tsdb_value_of(70));
        tt_read(f->db, "d", "[\"host=b\"]", INT64_MIN, INT64_MAX, &f->got);
        tu_tsdb_check_range(&f->got, 0, 100, 0, 10);
        tu_tsdb_open(f);
    }

    assert_int_equal(disco_tsdb_delete(f->db, &sb, &n, NULL), DISCO_OK);
    assert_int_equal(n, 100);
    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(tu_tsdb_count_series(f, "d", NULL), 1);
        assert_int_equal(disco_tsdb_tag_values(f->db, "d", "host", &vals, NULL), DISCO_OK);
        assert_int_equal(json_array_size(vals), 1);
        json_decref(vals);
        assert_int_equal(tu_tsdb_stat_int(f, "series"), 1);
        if (pass == 1)
            tu_tsdb_flush(f);
        tu_tsdb_open(f);
    }
    /* the key is free again: a new series */
    assert_int_equal(tt_put(f->db, "d", "{\"host\":\"b\"}", 5, 5, NULL), DISCO_OK);
    tu_tsdb_open(f);
    tt_read(f->db, "d", "[\"host=b\"]", INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 1);
    assert_int_equal(f->got.ts[0], 5);
}

static void test_retention(void **state)
{
    tu_tsdb_fixture *f = *state;
    int64_t now = disco_time_now_ms(), hour = 3600 * 1000, min = 60 * 1000;
    disco_status st = {0};
    uint64_t dropped = 0;

    f->cfg.retention_ms = hour;
    tu_tsdb_open(f);
    assert_int_equal(tt_put(f->db, "r", NULL, now - 2 * hour, 1, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "retention"));
    tu_tsdb_put_range(f, "r", NULL, 0, 3, now - 30 * min, 10 * min); /* -30, -20, -10 min */
    tu_tsdb_put_range(f, "r", "{\"x\":\"y\"}", 0, 1, now - 25 * min, 1);
    tu_tsdb_flush(f);
    assert_int_equal(tt_put(f->db, "r", NULL, now, 4, NULL), DISCO_OK);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 1);

    assert_int_equal(disco_tsdb_apply_retention(f->db, now + 45 * min, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 3); /* -30, -20 min; the x=y series */
    tt_read(f->db, "r", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, 1);
    assert_int_equal(f->got.n, 2);
    assert_int_equal(f->got.ts[0], now - 10 * min);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 1); /* rewritten */
    assert_int_equal(tu_tsdb_stat_int(f, "series"), 1);

    assert_int_equal(disco_tsdb_apply_retention(f->db, now + 2 * hour, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 2);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 0);
    assert_int_equal(tu_tsdb_stat_int(f, "series"), 0);

    f->cfg.retention_ms = 0; /* forever: nothing dropped */
    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_apply_retention(f->db, INT64_MAX, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 0);
}

static void test_retention_on_open(void **state)
{
    tu_tsdb_fixture *f = *state;
    int64_t now = disco_time_now_ms(), min = 60 * 1000;

    tu_tsdb_open(f);
    tu_tsdb_put_range(f, "r", NULL, 0, 6, now - 100 * min, 10 * min); /* -100 .. -50 min */
    tu_tsdb_flush(f);
    tu_tsdb_put_range(f, "r", NULL, 6, 11, now - 100 * min, 10 * min); /* -40 .. 0 min */
    f->cfg.retention_ms = 35 * min;
    tu_tsdb_open(f);
    tt_read(f->db, "r", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 4);
    assert_int_equal(tu_tsdb_stat_int(f, "chunk_files"), 0);
}

/* ---- rollups ----------------------------------------------------------------------------- */

static void expect_points(tu_tsdb_fixture *f, const char *metric, size_t n, const int64_t *ts,
                          const double *v)
{
    tt_read(f->db, metric, "[\"run=r1\"]", INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(f->got.ts[i], ts[i]);
        if (fabs(f->got.v[i] - v[i]) > 1e-12)
            fail_msg("%s[%zu] = %.17g, expected %.17g", metric, i, f->got.v[i], v[i]);
    }
}

static void put_seconds(tu_tsdb_fixture *f, int a, int b)
{
    disco_ts_batch batch;

    assert_int_equal(disco_ts_batch_init(&batch), DISCO_OK);
    for (int i = a; i < b; i++) /* point i at i*10 s with value i */
        tt_add(&batch, "loss", "{\"run\":\"r1\"}", (int64_t)i * 10000, i);
    assert_int_equal(disco_tsdb_write(f->db, &batch, NULL, NULL), DISCO_OK);
    disco_ts_batch_release(&batch);
}

static void test_rollups(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *rules = json_loads("{\"1m\": \"avg\", \"2m\": [\"min\", \"max\", \"count\"]}", 0, NULL);

    f->cfg.ooo_window_ms = 300000;
    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_define(f->db, "loss", &p, rules, NULL), DISCO_OK);
    json_decref(rules);
    put_seconds(f, 0, 18); /* 0 .. 170 s, newest 170 s */
    tu_tsdb_flush(f);
    /* complete buckets end by 170 s: 1m [0,60) [60,120); 2m [0,120) */
    expect_points(f, "loss:1m:avg", 2, (int64_t[]){0, 60000}, (double[]){2.5, 8.5});
    expect_points(f, "loss:2m:min", 1, (int64_t[]){0}, (double[]){0});
    expect_points(f, "loss:2m:max", 1, (int64_t[]){0}, (double[]){11});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){12});

    put_seconds(f, 18, 24); /* to 230 s: 1m [120,180) completes */
    tu_tsdb_flush(f);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000}, (double[]){2.5, 8.5, 14.5});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){12});

    /* a late point inside the window reopens its buckets */
    assert_int_equal(tt_put(f->db, "loss", "{\"run\":\"r1\"}", 35000, 100, NULL), DISCO_OK);
    tu_tsdb_open(f); /* the dirty mark comes back from the log */
    tu_tsdb_flush(f);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000},
                  (double[]){115.0 / 7.0, 8.5, 14.5});
    expect_points(f, "loss:2m:max", 1, (int64_t[]){0}, (double[]){100});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){13});

    /* rollup series carry the tags and never roll up themselves */
    assert_int_equal(tu_tsdb_stat_int(f, "series"), 5);
    assert_int_equal(tu_tsdb_count_series(f, "loss:1m:avg:1m:avg", NULL), 0);
    tu_tsdb_open(f);
    tu_tsdb_flush(f);
    assert_int_equal(tu_tsdb_stat_int(f, "series"), 5);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000},
                  (double[]){115.0 / 7.0, 8.5, 14.5});
}

static void test_rollups_at_threshold(void **state)
{
    tu_tsdb_fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *rules = json_loads("{\"1m\": \"sum\"}", 0, NULL);

    f->cfg.ooo_window_ms = 60000;
    f->cfg.head_flush_points = 5;
    tu_tsdb_open(f);
    assert_int_equal(disco_tsdb_define(f->db, "loss", &p, rules, NULL), DISCO_OK);
    json_decref(rules);
    for (int i = 0; i < 60; i++)
        put_seconds(f, i, i + 1); /* to 590 s, flushing on the way */
    /* the watermark trails the newest point by the window: up to 530 s */
    tt_read(f->db, "loss:1m:sum", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_true(f->got.n >= 7 && f->got.n <= 8);
    for (size_t k = 0; k < f->got.n; k++) {
        double want = 0;
        for (int i = (int)k * 6; i < (int)k * 6 + 6; i++)
            want += i;
        assert_int_equal(f->got.ts[k], (int64_t)k * 60000);
        assert_true(f->got.v[k] == want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_matchers, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_matcher_errors, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_series_and_tag_values, tu_tsdb_setup,
                                        tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_precision, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_define, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_delete, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_retention, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_retention_on_open, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_rollups, tu_tsdb_setup, tu_tsdb_teardown),
        cmocka_unit_test_setup_teardown(test_rollups_at_threshold, tu_tsdb_setup, tu_tsdb_teardown),
    };

    return cmocka_run_group_tests_name("store/tsdb_series", tests, NULL, NULL);
}
