/*
 * test_tsdb.c - the time-series store: round trips through head and chunks,
 * the series index and matchers, the out-of-order window, last write wins,
 * precision, metric definitions, deletes, retention, rollups, stats and
 * concurrent writers with a reader.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/tsdb.h"
#include "disco/timeutil.h"
#include "support/testutil.h"
#include "test_tsdb_util.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    disco_tsdb_config cfg;
    disco_tsdb *db;
    tt_got got;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir("tsdb");
    f->cfg = disco_tsdb_config_default();
    f->cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_tsdb_close(f->db);
    tt_got_free(&f->got);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void open_db(fixture *f)
{
    disco_status st = {0};

    disco_tsdb_close(f->db);
    f->db = NULL;
    if (disco_tsdb_open(f->dir, &f->cfg, &f->db, &st) != DISCO_OK)
        fail_msg("open: %s", st.msg);
}

static void flush(fixture *f)
{
    disco_status st = {0};

    if (disco_tsdb_flush(f->db, &st) != DISCO_OK)
        fail_msg("flush: %s", st.msg);
}

static json_t *stats(fixture *f)
{
    json_t *o = NULL;

    assert_int_equal(disco_tsdb_stats(f->db, &o, NULL), DISCO_OK);
    return o;
}

static json_int_t stat_int(fixture *f, const char *key)
{
    json_t *o = stats(f);
    json_int_t v = json_integer_value(json_object_get(o, key));

    json_decref(o);
    return v;
}

static double value_of(int64_t i)
{
    return (double)i * 1.25 - 3.0 + (double)(i % 7) / 8.0;
}

/* Writes points t0 + i*step for i in [a, b) of metric{tags}, one batch. */
static void put_range(fixture *f, const char *metric, const char *tags, int64_t a, int64_t b,
                      int64_t t0, int64_t step)
{
    disco_ts_batch batch;
    disco_status st = {0};

    assert_int_equal(disco_ts_batch_init(&batch), DISCO_OK);
    for (int64_t i = a; i < b; i++)
        tt_add(&batch, metric, tags, t0 + i * step, value_of(i));
    if (disco_tsdb_write(f->db, &batch, NULL, &st) != DISCO_OK)
        fail_msg("write: %s", st.msg);
    disco_ts_batch_release(&batch);
}

static void check_range(const tt_got *g, int64_t a, int64_t b, int64_t t0, int64_t step)
{
    assert_int_equal(g->n, (size_t)(b - a));
    for (int64_t i = a; i < b; i++) {
        assert_int_equal(g->ts[i - a], t0 + i * step);
        assert_true(g->v[i - a] == value_of(i));
    }
}

/* ---- round trips ------------------------------------------------------------------- */

static void test_round_trip_head(void **state)
{
    fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;

    open_db(f);
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
    fixture *f = *state;

    f->cfg.chunk_points = 100;
    open_db(f);
    put_range(f, "temp", "{\"room\":\"a\"}", 0, 1000, 5000, 10);
    put_range(f, "temp", "{\"room\":\"b\"}", 0, 500, 5000, 20);
    flush(f);
    assert_int_equal(stat_int(f, "head_points"), 0);
    assert_int_equal(stat_int(f, "chunk_files"), 1);
    assert_int_equal(stat_int(f, "chunks"), 15);

    tt_read(f->db, "temp", "[\"room=a\"]", INT64_MIN, INT64_MAX, &f->got);
    check_range(&f->got, 0, 1000, 5000, 10);
    /* boundaries inside chunks: [150, 777) of the indexes */
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 1500, 5000 + 7770, &f->got);
    check_range(&f->got, 150, 777, 5000, 10);
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 1505, 5000 + 1515, &f->got);
    check_range(&f->got, 151, 152, 5000, 10);

    put_range(f, "temp", "{\"room\":\"a\"}", 1000, 1100, 5000, 10); /* into the head */
    tt_read(f->db, "temp", "[\"room=a\"]", 5000 + 9000, INT64_MAX, &f->got);
    check_range(&f->got, 900, 1100, 5000, 10);

    open_db(f); /* replays the log over the chunk file */
    tt_read(f->db, "temp", "[\"room=a\"]", INT64_MIN, INT64_MAX, &f->got);
    check_range(&f->got, 0, 1100, 5000, 10);
    tt_read(f->db, "temp", "[\"room=b\"]", INT64_MIN, INT64_MAX, &f->got);
    check_range(&f->got, 0, 500, 5000, 20);
}

/* A batch of many series is applied series by series: same result. */
static void test_wide_batch(void **state)
{
    fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;
    char tags[32];

    open_db(f);
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
        open_db(f);
    }
}

static void test_auto_flush_reopen(void **state)
{
    fixture *f = *state;
    char tags[64];

    f->cfg.head_flush_points = 3000;
    f->cfg.ooo_window_ms = 100;
    f->cfg.chunk_points = 256;
    open_db(f);
    for (int round = 0; round < 20; round++)
        for (int s = 0; s < 5; s++) {
            snprintf(tags, sizeof tags, "{\"s\":\"%d\"}", s);
            put_range(f, "auto", tags, round * 200, (round + 1) * 200, 0, 1);
        }
    assert_true(stat_int(f, "chunk_files") >= 3);
    assert_true(stat_int(f, "head_points") < 5 * 4000);
    open_db(f);
    for (int s = 0; s < 5; s++) {
        char m[32];
        snprintf(m, sizeof m, "[\"s=%d\"]", s);
        tt_read(f->db, "auto", m, INT64_MIN, INT64_MAX, &f->got);
        check_range(&f->got, 0, 4000, 0, 1);
    }
    assert_int_equal(stat_int(f, "points"), 5 * 4000);
    flush(f);
    assert_int_equal(stat_int(f, "head_points"), 0);
    open_db(f);
    assert_int_equal(stat_int(f, "points"), 5 * 4000);
}

static void test_idle_series_flushed(void **state)
{
    fixture *f = *state;
    json_t *o, *m;

    f->cfg.ooo_window_ms = 1000;
    f->cfg.head_flush_points = 500;
    open_db(f);
    put_range(f, "idle", NULL, 0, 50, 0, 1);
    for (int i = 0; i < 100; i++)
        put_range(f, "busy", NULL, i * 10, i * 10 + 10, 0, 100); /* to 99.9 s */
    o = stats(f);
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
    fixture *f = *state;
    disco_ts_selector all = {"ep", NULL, 0, 100, 200};
    uint64_t n = 0;

    f->cfg.head_flush_points = 1000;
    f->cfg.ooo_window_ms = 100;
    open_db(f);
    for (int r = 0; r < 64; r++) { /* an explicit flush per "epoch" */
        put_range(f, "ep", NULL, r * 10, r * 10 + 10, 0, 1);
        if (r > 0) /* a late correction of the previous epoch */
            assert_int_equal(tt_put(f->db, "ep", NULL, r * 10 - 5, -r, NULL), DISCO_OK);
        flush(f);
    }
    assert_true(stat_int(f, "chunk_files") <= 8);
    for (int pass = 0; pass < 2; pass++) {
        tt_read(f->db, "ep", NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.n, 640);
        for (int64_t i = 0; i < 640; i++) {
            int late = i % 10 == 5 && i < 630;
            assert_int_equal(f->got.ts[i], i);
            assert_true(f->got.v[i] == (late ? -(double)(i / 10 + 1) : value_of(i)));
        }
        open_db(f);
    }
    assert_int_equal(disco_tsdb_delete(f->db, &all, &n, NULL), DISCO_OK);
    assert_int_equal(n, 100);
    tt_read(f->db, "ep", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 540);
}

/* ---- index and matchers ------------------------------------------------------------- */

static size_t count_series(fixture *f, const char *metric, const char *matchers)
{
    tt_read(f->db, metric, matchers, INT64_MIN, INT64_MAX, &f->got);
    return f->got.series;
}

static void test_matchers(void **state)
{
    fixture *f = *state;
    disco_status st = {0};

    open_db(f);
    assert_int_equal(tt_put(f->db, "req", "{\"method\":\"GET\",\"code\":\"200\"}", 1, 1, NULL), 0);
    assert_int_equal(tt_put(f->db, "req", "{\"method\":\"POST\",\"code\":\"500\"}", 1, 1, NULL), 0);
    assert_int_equal(
        tt_put(f->db, "req", "{\"method\":\"GET\",\"code\":\"404\",\"path\":\"/x\"}", 1, 1, NULL),
        0);
    assert_int_equal(tt_put(f->db, "req", NULL, 1, 1, NULL), 0);
    assert_int_equal(tt_put(f->db, "other", "{\"method\":\"GET\"}", 1, 1, NULL), 0);

    assert_int_equal(count_series(f, "req", NULL), 4);
    assert_int_equal(count_series(f, "req", "[\"method=GET\"]"), 2);
    assert_int_equal(count_series(f, "req", "[\"method!=GET\"]"), 2);
    assert_int_equal(count_series(f, "req", "[\"code=~2..|4..\"]"), 2);
    assert_int_equal(count_series(f, "req", "[\"code=~0\"]"), 0); /* anchored */
    assert_int_equal(count_series(f, "req", "[\"code!~5..\"]"), 3);
    assert_int_equal(count_series(f, "req", "[\"path=\"]"), 3);
    assert_int_equal(count_series(f, "req", "[\"path!=\"]"), 1);
    assert_int_equal(count_series(f, "req", "[\"path=~.*\"]"), 4);
    assert_int_equal(count_series(f, "req", "[\"path!~.+\"]"), 3);
    assert_int_equal(count_series(f, "req", "[\"method=GET\", \"code!=200\"]"), 1);
    assert_int_equal(count_series(f, "req", "{\"method\":\"POST\"}"), 1);
    assert_int_equal(count_series(f, NULL, "[\"method=GET\"]"), 3);
    assert_int_equal(count_series(f, NULL, "\"method=~G.*\""), 3);

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
    fixture *f = *state;
    disco_ts_selector sel = {"cpu", NULL, 0, 150, INT64_MAX};
    json_t *out = NULL, *e;

    open_db(f);
    put_range(f, "cpu", "{\"host\":\"b\",\"dc\":\"x\"}", 0, 10, 100, 10);
    put_range(f, "cpu", "{\"host\":\"a\"}", 0, 3, 100, 10);
    put_range(f, "mem", "{\"host\":\"c\"}", 0, 3, 100, 10);
    flush(f);
    put_range(f, "cpu", "{\"host\":\"b\",\"dc\":\"x\"}", 10, 12, 100, 10);

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

/* ---- writing rules ------------------------------------------------------------------- */

static void test_ooo_window(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_ts_batch b;

    f->cfg.ooo_window_ms = 1000;
    open_db(f);
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
    assert_int_equal(count_series(f, "m", NULL), 1);
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
    assert_int_equal(count_series(f, "m", NULL), 1);

    /* the window also holds after a flush and a reopen */
    flush(f);
    open_db(f);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 8000, 1, &st), DISCO_ERR_INVAL);
    assert_int_equal(tt_put(f->db, "m", "{\"k\":\"v\"}", 9100, 5, &st), DISCO_OK);
    tt_read(f->db, "m", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 4);
    assert_int_equal(f->got.ts[1], 9100);
}

static void put_check(fixture *f, int64_t ts, double v, size_t replaced)
{
    disco_ts_batch b;
    disco_tsdb_write_result r;

    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    tt_add(&b, "lw", NULL, ts, v);
    assert_int_equal(disco_tsdb_write(f->db, &b, &r, NULL), DISCO_OK);
    assert_int_equal(r.replaced, replaced);
    disco_ts_batch_release(&b);
}

static double value_at(fixture *f, int64_t ts)
{
    tt_read(f->db, "lw", NULL, ts, ts + 1, &f->got);
    assert_int_equal(f->got.n, 1);
    return f->got.v[0];
}

static void test_last_write_wins(void **state)
{
    fixture *f = *state;
    disco_ts_batch b;
    disco_tsdb_write_result r;

    f->cfg.ooo_window_ms = 10000;
    open_db(f);
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

    flush(f);                /* 100 and 200 go to a chunk file */
    put_check(f, 100, 4, 1); /* the head overrides the file */
    put_check(f, 50, 5, 0);
    assert_true(value_at(f, 100) == 4);
    tt_read(f->db, "lw", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 3);
    open_db(f); /* from the log */
    assert_true(value_at(f, 100) == 4);
    flush(f); /* a newer file overrides the older one */
    assert_true(value_at(f, 100) == 4);
    assert_true(value_at(f, 50) == 5);
    put_check(f, 200, 8, 1);
    flush(f);
    open_db(f);
    tt_read(f->db, "lw", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 3);
    assert_true(f->got.v[0] == 5 && f->got.v[1] == 4 && f->got.v[2] == 8);
    assert_int_equal(stat_int(f, "chunk_files"), 3);
}

static void test_precision(void **state)
{
    fixture *f = *state;
    disco_ts_precision d1 = {DISCO_TS_DECIMAL, 1}, d2 = {DISCO_TS_DECIMAL, 2};
    disco_ts_precision f32 = {DISCO_TS_FLOAT32, 0};
    json_t *o, *m;

    open_db(f);
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
            open_db(f); /* definitions from the log */
        else if (pass == 1) {
            flush(f); /* from series.idx after the checkpoint */
            open_db(f);
        }
    }
    o = stats(f);
    m = json_object_get(json_object_get(o, "metrics"), "temp");
    assert_string_equal(json_string_value(json_object_get(m, "precision")), "decimal:2");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(o, "metrics"), "f"), "precision")),
                        "float32");
    json_decref(o);
}

static void test_define(void **state)
{
    fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_DECIMAL, 3}, bad = {DISCO_TS_DECIMAL, 12};
    json_t *rules = json_loads("{\"1m\": \"avg\", \"1h\": [\"min\", \"max\"]}", 0, NULL);
    json_t *o, *m;
    disco_status st = {0};

    open_db(f);
    assert_int_equal(disco_tsdb_define(f->db, "loss", &p, rules, &st), DISCO_OK);
    for (int pass = 0; pass < 2; pass++) {
        open_db(f);
        o = stats(f);
        m = json_object_get(json_object_get(o, "metrics"), "loss");
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "precision")), "decimal:3");
        assert_true(json_equal(json_object_get(m, "rollups"), rules));
        json_decref(o);
        flush(f);
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
    fixture *f = *state;
    disco_ts_matcher ma[] = {{"host", DISCO_TS_EQ, "a", 0}}, mb[] = {{"host", DISCO_TS_EQ, "b", 0}};
    disco_ts_selector sa = {"d", ma, 1, 200, 700}, sb = {"d", mb, 1, INT64_MIN, INT64_MAX};
    uint64_t n = 0;
    json_t *vals;

    f->cfg.chunk_points = 16;
    open_db(f);
    put_range(f, "d", "{\"host\":\"a\"}", 0, 50, 0, 10);
    put_range(f, "d", "{\"host\":\"b\"}", 0, 50, 0, 10);
    flush(f);
    put_range(f, "d", "{\"host\":\"a\"}", 50, 100, 0, 10);
    put_range(f, "d", "{\"host\":\"b\"}", 50, 100, 0, 10);

    assert_int_equal(disco_tsdb_delete(f->db, &sa, &n, NULL), DISCO_OK);
    assert_int_equal(n, 50); /* 30 from the file, 20 from the head */
    for (int pass = 0; pass < 2; pass++) {
        tt_read(f->db, "d", "[\"host=a\"]", INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.n, 50);
        for (size_t i = 0; i < f->got.n; i++)
            assert_true(f->got.ts[i] < 200 || f->got.ts[i] >= 700);
        assert_true(f->got.v[20] == value_of(70));
        tt_read(f->db, "d", "[\"host=b\"]", INT64_MIN, INT64_MAX, &f->got);
        check_range(&f->got, 0, 100, 0, 10);
        open_db(f);
    }

    assert_int_equal(disco_tsdb_delete(f->db, &sb, &n, NULL), DISCO_OK);
    assert_int_equal(n, 100);
    for (int pass = 0; pass < 3; pass++) {
        assert_int_equal(count_series(f, "d", NULL), 1);
        assert_int_equal(disco_tsdb_tag_values(f->db, "d", "host", &vals, NULL), DISCO_OK);
        assert_int_equal(json_array_size(vals), 1);
        json_decref(vals);
        assert_int_equal(stat_int(f, "series"), 1);
        if (pass == 1)
            flush(f);
        open_db(f);
    }
    /* the key is free again: a new series */
    assert_int_equal(tt_put(f->db, "d", "{\"host\":\"b\"}", 5, 5, NULL), DISCO_OK);
    open_db(f);
    tt_read(f->db, "d", "[\"host=b\"]", INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 1);
    assert_int_equal(f->got.ts[0], 5);
}

static void test_retention(void **state)
{
    fixture *f = *state;
    int64_t now = disco_time_now_ms(), hour = 3600 * 1000, min = 60 * 1000;
    disco_status st = {0};
    uint64_t dropped = 0;

    f->cfg.retention_ms = hour;
    open_db(f);
    assert_int_equal(tt_put(f->db, "r", NULL, now - 2 * hour, 1, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "retention"));
    put_range(f, "r", NULL, 0, 3, now - 30 * min, 10 * min); /* -30, -20, -10 min */
    put_range(f, "r", "{\"x\":\"y\"}", 0, 1, now - 25 * min, 1);
    flush(f);
    assert_int_equal(tt_put(f->db, "r", NULL, now, 4, NULL), DISCO_OK);
    assert_int_equal(stat_int(f, "chunk_files"), 1);

    assert_int_equal(disco_tsdb_apply_retention(f->db, now + 45 * min, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 3); /* -30, -20 min; the x=y series */
    tt_read(f->db, "r", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, 1);
    assert_int_equal(f->got.n, 2);
    assert_int_equal(f->got.ts[0], now - 10 * min);
    assert_int_equal(stat_int(f, "chunk_files"), 1); /* rewritten */
    assert_int_equal(stat_int(f, "series"), 1);

    assert_int_equal(disco_tsdb_apply_retention(f->db, now + 2 * hour, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 2);
    assert_int_equal(stat_int(f, "chunk_files"), 0);
    assert_int_equal(stat_int(f, "series"), 0);

    f->cfg.retention_ms = 0; /* forever: nothing dropped */
    open_db(f);
    assert_int_equal(disco_tsdb_apply_retention(f->db, INT64_MAX, &dropped, NULL), DISCO_OK);
    assert_int_equal(dropped, 0);
}

static void test_retention_on_open(void **state)
{
    fixture *f = *state;
    int64_t now = disco_time_now_ms(), min = 60 * 1000;

    open_db(f);
    put_range(f, "r", NULL, 0, 6, now - 100 * min, 10 * min); /* -100 .. -50 min */
    flush(f);
    put_range(f, "r", NULL, 6, 11, now - 100 * min, 10 * min); /* -40 .. 0 min */
    f->cfg.retention_ms = 35 * min;
    open_db(f);
    tt_read(f->db, "r", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 4);
    assert_int_equal(stat_int(f, "chunk_files"), 0);
}

/* ---- rollups ----------------------------------------------------------------------------- */

static void expect_points(fixture *f, const char *metric, size_t n, const int64_t *ts,
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

static void put_seconds(fixture *f, int a, int b)
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
    fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *rules = json_loads("{\"1m\": \"avg\", \"2m\": [\"min\", \"max\", \"count\"]}", 0, NULL);

    f->cfg.ooo_window_ms = 300000;
    open_db(f);
    assert_int_equal(disco_tsdb_define(f->db, "loss", &p, rules, NULL), DISCO_OK);
    json_decref(rules);
    put_seconds(f, 0, 18); /* 0 .. 170 s, newest 170 s */
    flush(f);
    /* complete buckets end by 170 s: 1m [0,60) [60,120); 2m [0,120) */
    expect_points(f, "loss:1m:avg", 2, (int64_t[]){0, 60000}, (double[]){2.5, 8.5});
    expect_points(f, "loss:2m:min", 1, (int64_t[]){0}, (double[]){0});
    expect_points(f, "loss:2m:max", 1, (int64_t[]){0}, (double[]){11});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){12});

    put_seconds(f, 18, 24); /* to 230 s: 1m [120,180) completes */
    flush(f);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000}, (double[]){2.5, 8.5, 14.5});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){12});

    /* a late point inside the window reopens its buckets */
    assert_int_equal(tt_put(f->db, "loss", "{\"run\":\"r1\"}", 35000, 100, NULL), DISCO_OK);
    open_db(f); /* the dirty mark comes back from the log */
    flush(f);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000},
                  (double[]){115.0 / 7.0, 8.5, 14.5});
    expect_points(f, "loss:2m:max", 1, (int64_t[]){0}, (double[]){100});
    expect_points(f, "loss:2m:count", 1, (int64_t[]){0}, (double[]){13});

    /* rollup series carry the tags and never roll up themselves */
    assert_int_equal(stat_int(f, "series"), 5);
    assert_int_equal(count_series(f, "loss:1m:avg:1m:avg", NULL), 0);
    open_db(f);
    flush(f);
    assert_int_equal(stat_int(f, "series"), 5);
    expect_points(f, "loss:1m:avg", 3, (int64_t[]){0, 60000, 120000},
                  (double[]){115.0 / 7.0, 8.5, 14.5});
}

static void test_rollups_at_threshold(void **state)
{
    fixture *f = *state;
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *rules = json_loads("{\"1m\": \"sum\"}", 0, NULL);

    f->cfg.ooo_window_ms = 60000;
    f->cfg.head_flush_points = 5;
    open_db(f);
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

/* ---- stats and concurrency ------------------------------------------------------------- */

static void test_stats(void **state)
{
    fixture *f = *state;
    json_t *o, *m;
    double bpp;

    open_db(f);
    put_range(f, "cpu", "{\"h\":\"1\"}", 0, 5000, 1700000000000, 1000);
    put_range(f, "cpu", "{\"h\":\"2\"}", 0, 3000, 1700000000000, 1000);
    flush(f);
    put_range(f, "cpu", "{\"h\":\"1\"}", 5000, 5010, 1700000000000, 1000);
    o = stats(f);
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
    fixture *f = *state;
    pthread_t th[WRITERS + 1];
    worker w[WRITERS + 1];
    volatile int stop = 0;

    f->cfg.fsync = DISCO_TSDB_FSYNC_ALWAYS;
    f->cfg.head_flush_points = 3000;
    f->cfg.ooo_window_ms = 50;
    open_db(f);
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
    assert_true(stat_int(f, "chunk_files") > 0);
    open_db(f);
    tt_read(f->db, "conc", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.series, WRITERS);
    assert_int_equal(f->got.n, WRITERS * ROUNDS * PER);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    disco_tsdb_config bad = f->cfg;
    disco_tsdb *other = NULL;
    disco_status st = {0};
    char *file;

    bad.chunk_points = 0;
    assert_int_equal(disco_tsdb_open(f->dir, &bad, &other, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "chunk_points"));
    open_db(f);
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
        cmocka_unit_test_setup_teardown(test_round_trip_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_chunks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_flush_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_series_flushed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_files_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matcher_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_and_tag_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ooo_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_write_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_define, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollups_at_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };

    return cmocka_run_group_tests_name("store/tsdb", tests, NULL, NULL);
}
