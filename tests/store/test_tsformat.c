/*
 * test_tsformat.c - ingest and export formats of the time-series store:
 * line protocol, CSV and JSON in (happy paths, escapes, every error with its
 * line and column, all-or-nothing), the CSV writer, and export -> import
 * round trips that keep every double bit for bit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/timeutil.h"
#include "disco/tsformat.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW INT64_C(1700000000000)

/* ---- helpers ------------------------------------------------------------ */

typedef struct fixture {
    disco_ts_batch b;
    disco_tsformat_opts o;
    disco_status st;
    char *text; /* last describe() */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    assert_int_equal(disco_ts_batch_init(&f->b), DISCO_OK);
    f->o.now_ms = NOW;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_ts_batch_release(&f->b);
    free(f->text);
    free(f);
    return 0;
}

static void parse_ok(fixture *f, disco_ts_format fmt, const char *text)
{
    disco_status_clear(&f->st);
    if (disco_tsformat_parse(fmt, text, strlen(text), &f->o, &f->b, &f->st) != DISCO_OK)
        fail_msg("parse failed: %s\n--- input:\n%s", f->st.msg, text);
}

/* Parses text that must fail; returns the message. */
static const char *parse_err(fixture *f, disco_ts_format fmt, const char *text)
{
    disco_status_clear(&f->st);
    if (disco_tsformat_parse(fmt, text, strlen(text), &f->o, &f->b, &f->st) != DISCO_ERR_INVAL)
        fail_msg("parse did not fail with INVAL\n--- input:\n%s", text);
    return f->st.msg;
}

/* Every sample as "series-key ts value\n", values in %.17g. */
static const char *describe(fixture *f)
{
    size_t len = 0;
    FILE *m;

    free(f->text);
    m = open_memstream(&f->text, &len);
    assert_non_null(m);
    for (size_t i = 0; i < f->b.count; i++) {
        const disco_ts_sample *s = &f->b.samples[i];
        json_t *e = json_array_get(f->b.series, s->series);
        char *key;
        assert_non_null(e);
        key = disco_ts_series_key(json_string_value(json_object_get(e, "metric")),
                                  json_object_get(e, "tags"));
        fprintf(m, "%s %lld %.17g\n", key, (long long)s->ts, s->value);
        free(key);
    }
    fclose(m);
    return f->text;
}

/* The batch's index maps each series' key to its position, and nothing else. */
static void assert_consistent(const disco_ts_batch *b)
{
    size_t n = json_array_size(b->series);

    assert_int_equal(json_object_size(b->index), n);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(b->series, i);
        char *key = disco_ts_series_key(json_string_value(json_object_get(e, "metric")),
                                        json_object_get(e, "tags"));
        assert_int_equal(json_integer_value(json_object_get(b->index, key)), i);
        free(key);
    }
    for (size_t i = 0; i < b->count; i++)
        assert_true(b->samples[i].series < n);
}

typedef struct err_case {
    const char *text;
    const char *msg;
} err_case;

static void check_errors(fixture *f, disco_ts_format fmt, const err_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *msg = parse_err(f, fmt, cases[i].text);
        if (strcmp(msg, cases[i].msg) != 0)
            fail_msg("input:\n%s\nexpected: %s\n     got: %s", cases[i].text, cases[i].msg, msg);
        assert_int_equal(f->b.count, 0);
        assert_int_equal(json_array_size(f->b.series), 0);
        assert_int_equal(json_object_size(f->b.index), 0);
    }
}

/* ---- names and options ---------------------------------------------------- */

static void test_parse_name(void **state)
{
    disco_ts_format fmt = DISCO_TSF_JSON;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsformat_parse_name("csv", &fmt, &st), DISCO_OK);
    assert_int_equal(fmt, DISCO_TSF_CSV);
    assert_int_equal(disco_tsformat_parse_name("line", &fmt, &st), DISCO_OK);
    assert_int_equal(fmt, DISCO_TSF_LINE);
    assert_int_equal(disco_tsformat_parse_name("Influx", &fmt, &st), DISCO_OK);
    assert_int_equal(fmt, DISCO_TSF_LINE);
    assert_int_equal(disco_tsformat_parse_name("JSON", &fmt, &st), DISCO_OK);
    assert_int_equal(fmt, DISCO_TSF_JSON);
    assert_int_equal(disco_tsformat_parse_name("xml", &fmt, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "format 'xml': expected json, csv or line (influx)");
    assert_string_equal(st.field, "format");
    assert_int_equal(disco_tsformat_parse_name(NULL, &fmt, &st), DISCO_ERR_INVAL);
}

static void test_bad_options(void **state)
{
    fixture *f = *state;
    json_t *tags = json_pack("{s:i}", "host", 1);

    f->o.line_unit_ns = 7;
    assert_non_null(strstr(parse_err(f, DISCO_TSF_LINE, "cpu x=1 1"), "line_unit_ns 7"));
    f->o.line_unit_ns = -1000;
    parse_err(f, DISCO_TSF_LINE, "cpu x=1 1");
    f->o.line_unit_ns = 0;
    f->o.metric = "cpu load";
    assert_non_null(strstr(parse_err(f, DISCO_TSF_CSV, "ts,value\n1,2\n"), "metric 'cpu load'"));
    f->o.metric = NULL;
    f->o.tags = tags;
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, "cpu x=1 1"),
                        "tag 'host': value must be a string");
    f->o.tags = NULL;
    json_decref(tags);
    assert_int_equal(disco_tsformat_parse(DISCO_TSF_LINE, "cpu x=1", 7, NULL, NULL, &f->st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tsformat_parse(DISCO_TSF_LINE, NULL, 3, NULL, &f->b, &f->st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tsformat_parse((disco_ts_format)9, "", 0, NULL, &f->b, &f->st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tsformat_parse(DISCO_TSF_LINE, NULL, 0, NULL, &f->b, &f->st), DISCO_OK);
}

/* No options at all: defaults, and lines without a time get the current one. */
static void test_null_options(void **state)
{
    fixture *f = *state;
    int64_t before = disco_time_now_ms(), after;

    assert_int_equal(disco_tsformat_parse(DISCO_TSF_LINE, "cpu x=1\n", 8, NULL, &f->b, &f->st),
                     DISCO_OK);
    after = disco_time_now_ms();
    assert_int_equal(f->b.count, 1);
    assert_true(f->b.samples[0].ts >= before && f->b.samples[0].ts <= after);
}

/* ---- line protocol ------------------------------------------------------- */

/* What Telegraf's cpu, mem, system and disk inputs send. */
static const char TELEGRAF[] =
    "cpu,cpu=cpu0,host=web01 usage_user=12.5,usage_system=3.25,usage_idle=84.25 "
    "1700000000000000000\n"
    "cpu,cpu=cpu1,host=web01 usage_user=1e1,usage_system=0,usage_idle=90 1700000000000000000\n"
    "mem,host=web01 used_percent=41.5,available=8589934592i,total=17179869184u "
    "1700000001000000000\n"
    "system,host=web01 load1=0.42,n_cpus=2i,uptime_format=\"12 days,  3:04\" "
    "1700000001000000000\n"
    "disk,device=sda1,fstype=ext4,host=web01,mode=rw,path=/ used_percent=63.1 "
    "1700000001000000000\n";

static void test_line_telegraf(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE, TELEGRAF);
    assert_string_equal(
        describe(f), "cpu_usage_user{\"cpu\"=\"cpu0\",\"host\"=\"web01\"} 1700000000000 12.5\n"
                     "cpu_usage_system{\"cpu\"=\"cpu0\",\"host\"=\"web01\"} 1700000000000 3.25\n"
                     "cpu_usage_idle{\"cpu\"=\"cpu0\",\"host\"=\"web01\"} 1700000000000 84.25\n"
                     "cpu_usage_user{\"cpu\"=\"cpu1\",\"host\"=\"web01\"} 1700000000000 10\n"
                     "cpu_usage_system{\"cpu\"=\"cpu1\",\"host\"=\"web01\"} 1700000000000 0\n"
                     "cpu_usage_idle{\"cpu\"=\"cpu1\",\"host\"=\"web01\"} 1700000000000 90\n"
                     "mem_used_percent{\"host\"=\"web01\"} 1700000001000 41.5\n"
                     "mem_available{\"host\"=\"web01\"} 1700000001000 8589934592\n"
                     "mem_total{\"host\"=\"web01\"} 1700000001000 17179869184\n"
                     "system_load1{\"host\"=\"web01\"} 1700000001000 0.41999999999999998\n"
                     "system_n_cpus{\"host\"=\"web01\"} 1700000001000 2\n"
                     "disk_used_percent{\"device\"=\"sda1\",\"fstype\"=\"ext4\",\"host\"=\"web01\","
                     "\"mode\"=\"rw\",\"path\"=\"/\"} 1700000001000 63.100000000000001\n");
    assert_int_equal(json_array_size(f->b.series), 12);
    assert_consistent(&f->b);
    /* The same lines again resolve to the same series. */
    parse_ok(f, DISCO_TSF_LINE, TELEGRAF);
    assert_int_equal(json_array_size(f->b.series), 12);
    assert_int_equal(f->b.count, 24);
    assert_consistent(&f->b);
}

static void test_line_field_types(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "m a=1,b=-1.,c=.5,d=+2E3,e=-2e-3,f=12i,g=-12i,h=12u,i=0.0,j=-0\n"
             "m k=9223372036854775807i,l=-9223372036854775808i,n=18446744073709551615u\n"
             "m t1=t,t2=T,t3=true,t4=True,t5=TRUE,f1=f,f2=F,f3=false,f4=False,f5=FALSE\n");
    assert_string_equal(describe(f), "m_a{} 1700000000000 1\n"
                                     "m_b{} 1700000000000 -1\n"
                                     "m_c{} 1700000000000 0.5\n"
                                     "m_d{} 1700000000000 2000\n"
                                     "m_e{} 1700000000000 -0.002\n"
                                     "m_f{} 1700000000000 12\n"
                                     "m_g{} 1700000000000 -12\n"
                                     "m_h{} 1700000000000 12\n"
                                     "m_i{} 1700000000000 0\n"
                                     "m_j{} 1700000000000 -0\n"
                                     "m_k{} 1700000000000 9.2233720368547758e+18\n"
                                     "m_l{} 1700000000000 -9.2233720368547758e+18\n"
                                     "m_n{} 1700000000000 1.8446744073709552e+19\n"
                                     "m_t1{} 1700000000000 1\n"
                                     "m_t2{} 1700000000000 1\n"
                                     "m_t3{} 1700000000000 1\n"
                                     "m_t4{} 1700000000000 1\n"
                                     "m_t5{} 1700000000000 1\n"
                                     "m_f1{} 1700000000000 0\n"
                                     "m_f2{} 1700000000000 0\n"
                                     "m_f3{} 1700000000000 0\n"
                                     "m_f4{} 1700000000000 0\n"
                                     "m_f5{} 1700000000000 0\n");
    assert_true(signbit(f->b.samples[9].value));
}

static void test_line_escapes(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "my\\ meas\\,x,tk=v\\,1\\=2\\ 3\\\\4 f\\=1=1 1000000\n"
             "m,t=a\\b x\\y=2,s=\"he said \\\"hi, there\\\" \\\\\",z=3 2000000\n"
             "m,t=caf\xC3\xA9 value=4 3000000\n");
    assert_string_equal(describe(f), "my_meas_x_f_1{\"tk\"=\"v,1=2 3\\\\4\"} 1 1\n"
                                     "m_x_y{\"t\"=\"a\\\\b\"} 2 2\n"
                                     "m_z{\"t\"=\"a\\\\b\"} 2 3\n"
                                     "m{\"t\"=\"caf\xC3\xA9\"} 3 4\n");
}

static void test_line_comments_blank_crlf(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "# a comment\r\n\r\n   \t\n  \t# indented comment\n"
             "  cpu,host=a   x=1   5000000   \r\n"
             "cpu,host=a x=2\r\n"
             "\n"
             "cpu,host=a x=3 7000000");
    assert_string_equal(describe(f), "cpu_x{\"host\"=\"a\"} 5 1\n"
                                     "cpu_x{\"host\"=\"a\"} 1700000000000 2\n"
                                     "cpu_x{\"host\"=\"a\"} 7 3\n");
    assert_int_equal(json_array_size(f->b.series), 1);
}

/* Names outside the metric alphabet are rewritten; "value" fields keep the measurement. */
static void test_line_metric_names(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "disk.io,host=a read-bytes=1,Bytes\\ Received/sec=2,value=3 1000000\n"
             "9lives x=4 1000000\n"
             "-neg value=5 1000000\n"
             "ns:m caf\xC3\xA9=6 1000000\n");
    assert_string_equal(describe(f), "disk.io_read-bytes{\"host\"=\"a\"} 1 1\n"
                                     "disk.io_Bytes_Received_sec{\"host\"=\"a\"} 1 2\n"
                                     "disk.io{\"host\"=\"a\"} 1 3\n"
                                     "_9lives_x{} 1 4\n"
                                     "_-neg{} 1 5\n"
                                     "ns:m_caf__{} 1 6\n");
}

/* Lines with string fields only add nothing, but their tags are still checked. */
static void test_line_string_fields(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "log,host=a msg=\"started\",level=\"info\" 1\n"
             "log,host=a msg=\"x\",n=2i 3000000\n");
    assert_string_equal(describe(f), "log_n{\"host\"=\"a\"} 3 2\n");
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, "log,1x=a msg=\"hi\"\n"),
                        "line 1, column 5: tag key '1x': use [A-Za-z_][A-Za-z0-9_.-]*");
}

/* Timestamps of every unit, rounded toward minus infinity. */
static void test_line_timestamps(void **state)
{
    static const struct {
        int64_t unit;
        const char *ts;
        int64_t ms;
    } cases[] = {
        {0, "1500000", 1},
        {1, "-1", -1},
        {1, "-1000000", -1},
        {1, "-1000001", -2},
        {1, "9223372036854775807", INT64_C(9223372036854)},
        {1, "-9223372036854775808", INT64_C(-9223372036855)},
        {1000, "1700000000123999", INT64_C(1700000000123)},
        {1000, "-1", -1},
        {1000000, "1700000000123", INT64_C(1700000000123)},
        {1000000000, "1700000000", INT64_C(1700000000000)},
        {1000000000, "-2", -2000},
        {INT64_C(60000000000), "2", 120000},
    };
    fixture *f = *state;
    char text[64];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        disco_ts_batch_clear(&f->b);
        f->o.line_unit_ns = cases[i].unit;
        snprintf(text, sizeof text, "cpu value=1 %s\n", cases[i].ts);
        parse_ok(f, DISCO_TSF_LINE, text);
        assert_int_equal(f->b.count, 1);
        if (f->b.samples[0].ts != cases[i].ms)
            fail_msg("%s: got %lld, want %lld", text, (long long)f->b.samples[0].ts,
                     (long long)cases[i].ms);
    }
    f->o.line_unit_ns = 1000000000;
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, "cpu value=1 9223372036854776\n"),
                        "line 1, column 13: timestamp '9223372036854776': out of range");
}

static void test_line_default_tags(void **state)
{
    fixture *f = *state;
    json_t *tags = json_pack("{s:s, s:s}", "job", "telegraf", "host", "default");

    f->o.tags = tags;
    parse_ok(f, DISCO_TSF_LINE, "cpu,host=a x=1 1000000\ncpu x=2 1000000\n");
    assert_string_equal(describe(f), "cpu_x{\"host\"=\"a\",\"job\"=\"telegraf\"} 1 1\n"
                                     "cpu_x{\"host\"=\"default\",\"job\"=\"telegraf\"} 1 2\n");
    json_decref(tags);
}

/* The same series written differently (tag order, "value" field) is one series. */
static void test_line_same_series(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_LINE,
             "cpu,a=1,b=2 x=1 1000000\n"
             "cpu,b=2,a=1 x=2 1000000\n"
             "c\\pu,a=1,b=2 x=3 1000000\n"
             "cpu,a=\\1,b=2 x=4 1000000\n"
             "cpu_x,a=1,b=2 value=5 1000000\n");
    assert_string_equal(describe(f), "cpu_x{\"a\"=\"1\",\"b\"=\"2\"} 1 1\n"
                                     "cpu_x{\"a\"=\"1\",\"b\"=\"2\"} 1 2\n"
                                     "c_pu_x{\"a\"=\"1\",\"b\"=\"2\"} 1 3\n"
                                     "cpu_x{\"a\"=\"\\\\1\",\"b\"=\"2\"} 1 4\n"
                                     "cpu_x{\"a\"=\"1\",\"b\"=\"2\"} 1 5\n");
    assert_int_equal(json_array_size(f->b.series), 3);
    assert_consistent(&f->b);
}

static void test_line_errors(void **state)
{
    static const err_case cases[] = {
        {"cpu", "line 1, column 4: expected fields after the measurement and tags"},
        {"cpu   ", "line 1, column 7: expected fields after the measurement and tags"},
        {"cpu x", "line 1, column 5: field 'x' has no '=value'"},
        {"cpu x,y=1", "line 1, column 5: field 'x' has no '=value'"},
        {"cpu x=", "line 1, column 7: field 'x' has no value"},
        {"cpu x=,y=1", "line 1, column 7: field 'x' has no value"},
        {"cpu =1", "line 1, column 5: expected a field key"},
        {"cpu x=1,", "line 1, column 9: expected a field key"},
        {"cpu x=1, y=2", "line 1, column 9: expected a field key"},
        {"cpu x=abc",
         "line 1, column 7: field 'x': expected a number, 12i, 12u, a boolean or a \"string\", "
         "not 'abc'"},
        {"cpu x=1.5i",
         "line 1, column 7: field 'x': expected a number, 12i, 12u, a boolean or a \"string\", "
         "not '1.5i'"},
        {"cpu x=-1u",
         "line 1, column 7: field 'x': expected a number, 12i, 12u, a boolean or a \"string\", "
         "not '-1u'"},
        {"cpu x=NaN",
         "line 1, column 7: field 'x': expected a number, 12i, 12u, a boolean or a \"string\", "
         "not 'NaN'"},
        {"cpu x=9223372036854775808i",
         "line 1, column 7: field 'x': number out of range: '9223372036854775808i'"},
        {"cpu x=18446744073709551616u",
         "line 1, column 7: field 'x': number out of range: '18446744073709551616u'"},
        {"cpu x=1e999", "line 1, column 7: field 'x': number out of range: '1e999'"},
        {"cpu x=\"abc", "line 1, column 7: field 'x': string without its closing '\"'"},
        {"cpu x=\"abc\\\"", "line 1, column 7: field 'x': string without its closing '\"'"},
        {"cpu x=\"a\"b", "line 1, column 10: expected ',' or ' ' after field 'x'"},
        {"cpu x=1 12a", "line 1, column 9: timestamp '12a': expected an integer"},
        {"cpu x=1 1.5", "line 1, column 9: timestamp '1.5': expected an integer"},
        {"cpu x=1 1 2", "line 1, column 11: unexpected '2' after the timestamp"},
        {"cpu x=1 99999999999999999999",
         "line 1, column 9: timestamp '99999999999999999999': out of range"},
        {",host=a x=1", "line 1, column 1: missing measurement"},
        {"cpu,host x=1", "line 1, column 5: tag 'host' has no '=value'"},
        {"cpu,=a x=1", "line 1, column 5: empty tag key"},
        {"cpu, x=1", "line 1, column 5: empty tag key"},
        {"cpu,host= x=1", "line 1, column 10: tag 'host' has no value"},
        {"cpu,host=a=b x=1", "line 1, column 11: unescaped '=' in the value of tag 'host'"},
        {"cpu,host=a,host=b x=1", "line 1, column 12: tag key 'host' given twice"},
        {"cpu,1x=a x=1", "line 1, column 5: tag key '1x': use [A-Za-z_][A-Za-z0-9_.-]*"},
        {"cpu,a\\ b=a x=1", "line 1, column 5: tag key 'a b': use [A-Za-z_][A-Za-z0-9_.-]*"},
        {"cpu,t=a\tb x=1", "line 1, column 5: tag 't': value holds a control character"},
        {"cpu,t=a\xff x=1", "line 1, column 5: tag 't': value is not valid UTF-8"},
        {"cpu x=1\n\n# fine\ncpu,a=1 y=2 3\ncpu,a=1 y=",
         "line 5, column 11: field 'y' has no value"},
        {"cpu x=1\r\ncpu x=1 z\r\n", "line 2, column 9: timestamp 'z': expected an integer"},
    };
    fixture *f = *state;

    check_errors(f, DISCO_TSF_LINE, cases, sizeof cases / sizeof cases[0]);
}

/* Limits that tsbatch enforces are reported at the line and column that break them. */
static void test_line_limits(void **state)
{
    fixture *f = *state;
    char text[1200], want[200];
    size_t n = 0;

    memset(text, 'm', 250);
    strcpy(text + 250, " x=1");
    snprintf(want, sizeof want, "line 1, column 252: metric '%.64s': must be 1..200 characters",
             "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm");
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, text), want);
    /* A long measurement after a short one (the name buffer must grow for both parts). */
    memcpy(text, "a x=1\n", 6);
    memset(text + 6, 'm', 254);
    strcpy(text + 260, " fffff=1");
    assert_non_null(strstr(parse_err(f, DISCO_TSF_LINE, text), "line 2, column 256: metric 'mm"));
    n = (size_t)snprintf(text, sizeof text, "cpu");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ",t%d=v", i);
    snprintf(text + n, sizeof text - n, " x=1");
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, text),
                        "line 1, column 187: more than 32 tags");
    memset(text, 'v', 1100);
    memcpy(text, "cpu,t=", 6);
    strcpy(text + 1100, " x=1");
    assert_string_equal(parse_err(f, DISCO_TSF_LINE, text),
                        "line 1, column 5: tag 't': value longer than 1024 bytes");
}

/* A failed parse leaves the batch exactly as it was: samples, series and index. */
static void test_all_or_nothing(void **state)
{
    static const struct {
        disco_ts_format fmt;
        const char *bad;
    } cases[] = {
        {DISCO_TSF_LINE, "cpu,host=a x=3 1\nnew,host=z y=1 2\nnew2 q=1\ncpu x=oops\n"},
        {DISCO_TSF_CSV, "metric,host,ts,value\ncpu_x,a,1,3\nnew,z,2,1\nnew2,,3,4\ncpu_x,a,4,\n"},
        {DISCO_TSF_JSON, "{\"series\": [{\"metric\": \"new\", \"points\": [[1, 2], [3, 4]]},"
                         " {\"metric\": \"cpu_x\", \"tags\": {\"host\": \"a\"}, \"points\":"
                         " [[5, 6], [7, \"x\"]]}]}"},
        {DISCO_TSF_JSON, "[{\"metric\": \"new\", \"ts\": 1, \"value\": 2},"
                         " {\"metric\": \"new2\", \"ts\": 1, \"value\": 2}, {\"ts\": 1}]"},
    };
    fixture *f = *state;
    char before[4096];

    parse_ok(f, DISCO_TSF_LINE, "cpu,host=a x=1 1000000\nmem value=2 2000000\n");
    snprintf(before, sizeof before, "%s", describe(f));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parse_err(f, cases[i].fmt, cases[i].bad);
        assert_string_equal(describe(f), before);
        assert_int_equal(json_array_size(f->b.series), 2);
        assert_consistent(&f->b);
    }
    /* The batch still works: new series get the next indices. */
    parse_ok(f, DISCO_TSF_LINE, "new y=1 3000000\ncpu,host=a x=4 4000000\n");
    assert_int_equal(f->b.samples[2].series, 2);
    assert_int_equal(f->b.samples[3].series, 0);
    assert_consistent(&f->b);
}

static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static double random_double(uint64_t *x)
{
    uint64_t bits = next_random(x);
    double d;

    memcpy(&d, &bits, sizeof d);
    return isfinite(d) ? d : (double)(bits >> 11) / 3.0;
}

/* Decimal text reads as strtod() reads it, bit for bit, for every shape of number. */
static void test_numbers_exact(void **state)
{
    static const int digits[] = {17, 15, 6, 3, 0, 20, 6};
    fixture *f = *state;
    uint64_t x = 88172645463325252u;
    char num[400], line[480];

    for (int i = 0; i < 20000; i++) {
        double d = random_double(&x), want, got;
        if (i % 3 == 0)
            d = (double)(next_random(&x) % 1000000) / 1000.0;
        if (i % 7 == 2 || i % 7 == 5)
            snprintf(num, sizeof num, "%.*e", digits[i % 7], d);
        else if (i % 7 == 3 || i % 7 == 4)
            snprintf(num, sizeof num, "%.*f", digits[i % 7], d);
        else
            snprintf(num, sizeof num, "%.*g", digits[i % 7], d);
        if (strlen(num) > 300)
            continue;
        want = strtod(num, NULL);
        if (isinf(want))
            continue;
        snprintf(line, sizeof line, "m x=%s 1\n", num);
        disco_ts_batch_clear(&f->b);
        parse_ok(f, DISCO_TSF_LINE, line);
        got = f->b.samples[0].value;
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("'%s': got %.17g, want %.17g", num, got, want);
    }
}

/* ---- CSV ------------------------------------------------------------------ */

static void test_csv_basic(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_CSV,
             "\xEF\xBB\xBFMetric,run,Split,TS,Value\r\n"
             "loss,a,train,2026-11-21T05:59:56Z,2.31\r\n"
             "\r\n"
             "loss,a,,1732168796123,NaN\r\n"
             "\"loss\",\"a\",\"val, held \"\"out\"\"\",-5,  -inf \r\n"
             "loss,\"multi line\",val, 7 ,+Infinity\n"
             "loss,a,train,1970-01-01,-0\n"
             "loss,a,train,8,1e-320");
    assert_string_equal(describe(f),
                        "loss{\"Split\"=\"train\",\"run\"=\"a\"} 1795240796000 2.3100000000000001\n"
                        "loss{\"run\"=\"a\"} 1732168796123 nan\n"
                        "loss{\"Split\"=\"val, held \\\"out\\\"\",\"run\"=\"a\"} -5 -inf\n"
                        "loss{\"Split\"=\"val\",\"run\"=\"multi line\"} 7 inf\n"
                        "loss{\"Split\"=\"train\",\"run\"=\"a\"} 0 -0\n"
                        "loss{\"Split\"=\"train\",\"run\"=\"a\"} 8 9.9998886718268301e-321\n");
    assert_int_equal(json_array_size(f->b.series), 4);
    assert_consistent(&f->b);
}

/* Without a metric column (or with an empty cell) the default metric is used. */
static void test_csv_default_metric(void **state)
{
    fixture *f = *state;
    json_t *tags = json_pack("{s:s, s:s}", "run", "r0", "host", "h");

    f->o.metric = "accuracy";
    f->o.tags = tags;
    parse_ok(f, DISCO_TSF_CSV, "ts,value,run\n1,0.5,r1\n2,0.75,\n");
    parse_ok(f, DISCO_TSF_CSV, "metric,ts,value\n,3,1\nloss,4,2\n");
    parse_ok(f, DISCO_TSF_CSV, "metric,ts,value\n");
    assert_string_equal(describe(f), "accuracy{\"host\"=\"h\",\"run\"=\"r1\"} 1 0.5\n"
                                     "accuracy{\"host\"=\"h\",\"run\"=\"r0\"} 2 0.75\n"
                                     "accuracy{\"host\"=\"h\",\"run\"=\"r0\"} 3 1\n"
                                     "loss{\"host\"=\"h\",\"run\"=\"r0\"} 4 2\n");
    json_decref(tags);
}

static void test_csv_errors(void **state)
{
    static const err_case cases[] = {
        {"", "line 1, column 1: no header row (it names the columns; \"ts\" and \"value\" are "
             "required)"},
        {"\n\n", "line 1, column 1: no header row (it names the columns; \"ts\" and \"value\" "
                 "are required)"},
        {"ts,value\n1,2\n",
         "line 1, column 1: the header has no \"metric\" column and no default metric was given"},
        {"metric,value\n", "line 1, column 1: the header has no \"ts\" column"},
        {"\n\nmetric,ts\n", "line 3, column 1: the header has no \"value\" column"},
        {"metric,ts,TS,value\n", "line 1, column 11: column \"ts\" given twice"},
        {"metric,host,host,ts,value\n", "line 1, column 13: column 'host' given twice"},
        {"metric,1x,ts,value\n", "line 1, column 8: tag key '1x': use [A-Za-z_][A-Za-z0-9_.-]*"},
        {"metric,,ts,value\n", "line 1, column 8: column 2 has no name"},
        {"metric,ts,value\nloss,1\n", "line 2, column 1: 2 cells where the header has 3"},
        {"metric,ts,value\nloss,1,2,3\n", "line 2, column 1: 4 cells where the header has 3"},
        {"metric,ts,value\nloss,1,\n", "line 2, column 8: empty value"},
        {"metric,ts,value\nloss,1,  \n", "line 2, column 8: empty value"},
        {"metric,ts,value\nloss,,1\n", "line 2, column 6: empty ts"},
        {"metric,ts,value\nloss,1,abc\n",
         "line 2, column 8: value 'abc': expected a number, NaN, Inf or -Inf"},
        {"metric,ts,value\nloss,1,0x10\n",
         "line 2, column 8: value '0x10': expected a number, NaN, Inf or -Inf"},
        {"metric,ts,value\nloss,1,1e400\n", "line 2, column 8: value '1e400': out of range"},
        {"metric,ts,value\nloss,yesterday,1\n",
         "line 2, column 6: ts 'yesterday': expected an ISO 8601 time "
         "(YYYY-MM-DD[THH:MM[:SS[.sss]]][Z|+hh:mm]) or Unix milliseconds"},
        {"metric,ts,value\nloss,2026-02-30,1\n",
         "line 2, column 6: ts '2026-02-30': day 30 out of range 1..28 for 2026-02"},
        {"metric,ts,value\nloss,99999999999999999999,1\n",
         "line 2, column 6: ts '99999999999999999999': Unix milliseconds out of range"},
        {"metric,ts,value\nloss,\"1,2\n", "line 2, column 6: quoted cell without its closing '\"'"},
        {"metric,ts,value\nloss,\"1\"2,3\n",
         "line 2, column 9: expected ',' or the end of the row after '\"'"},
        {"metric,ts,value\nlo\"ss,1,2\n",
         "line 2, column 3: '\"' inside an unquoted cell (quote the cell and write it as \"\")"},
        {"metric,ts,value\ncpu load,1,2\n",
         "line 2, column 1: metric 'cpu load': character 4 (' ') is not allowed "
         "(use [A-Za-z_:][A-Za-z0-9_:.-]*)"},
        {"metric,ts,value\n,1,2\n", "line 2, column 1: empty metric and no default metric was "
                                    "given"},
        {"metric,host,ts,value\nloss,\"a\tb\",1,2\n",
         "line 2, column 6: tag 'host': value holds a control character"},
        {"metric,host,ts,value\nloss,\"a\nb\",1,2\n",
         "line 2, column 6: tag 'host': value holds a control character"},
        {"metric,host,ts,value\nloss,\"a\nb\",1,x\n",
         "line 3, column 6: value 'x': expected a number, NaN, Inf or -Inf"},
        {"metric,host,ts,value\r\nloss,a,1,2\r\nloss,a,1,\r\n", "line 3, column 10: empty value"},
    };
    fixture *f = *state;

    char header[400];
    size_t n = (size_t)snprintf(header, sizeof header, "metric,ts,value");

    check_errors(f, DISCO_TSF_CSV, cases, sizeof cases / sizeof cases[0]);
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(header + n, sizeof header - n, ",t%d", i);
    assert_string_equal(parse_err(f, DISCO_TSF_CSV, header),
                        "line 1, column 1: 36 columns: at most metric, ts, value and 32 tags");
}

/* ---- CSV export ------------------------------------------------------------ */

static void test_csv_writer_format(void **state)
{
    static const int64_t ts1[] = {0, INT64_C(1732168796123)}, ts2[] = {-1, INT64_MAX}, ts3[] = {5};
    static const double v1[] = {0.1, NAN}, v2[] = {-0.0, INFINITY}, v3[] = {-INFINITY};
    json_t *keys = json_pack("[s,s]", "run", "note");
    json_t *t1 = json_pack("{s:s, s:s}", "run", "a", "note", "x, \"y\"");
    json_t *t2 = json_pack("{s:s}", "run", "b");
    disco_tscsv_writer w;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);

    (void)state;
    assert_int_equal(disco_tscsv_begin(&w, m, keys, 1), DISCO_OK);
    assert_int_equal(disco_tscsv_rows(&w, "loss", t1, ts1, v1, 2), DISCO_OK);
    assert_int_equal(disco_tscsv_rows(&w, "acc", t2, ts2, v2, 2), DISCO_OK);
    assert_int_equal(disco_tscsv_rows(&w, "acc", NULL, ts3, v3, 1), DISCO_OK);
    assert_int_equal(disco_tscsv_rows(&w, "acc", NULL, NULL, NULL, 0), DISCO_OK);
    disco_tscsv_end(&w);
    fclose(m);
    assert_string_equal(out, "metric,run,note,ts,value\n"
                             "loss,a,\"x, \"\"y\"\"\",1970-01-01T00:00:00.000Z,0.1\n"
                             "loss,a,\"x, \"\"y\"\"\",2024-11-21T05:59:56.123Z,NaN\n"
                             "acc,b,,1969-12-31T23:59:59.999Z,-0\n"
                             "acc,b,,9223372036854775807,Inf\n"
                             "acc,,,1970-01-01T00:00:00.005Z,-Inf\n");
    free(out);
    json_decref(keys);
    json_decref(t1);
    json_decref(t2);
}

static void test_csv_writer_errors(void **state)
{
    static const char *const bad_keys[] = {"[\"TS\"]",       "[\"metric\"]", "[\"Value\"]", "[1]",
                                           "[\"a\", \"a\"]", "[\"\"]",       "{}"};
    static const int64_t ts[] = {1};
    static const double v[] = {2};
    disco_tscsv_writer w;
    json_t *keys = json_pack("[s]", "run"), *tags = json_pack("{s:s}", "host", "h");
    FILE *m = fopen("/dev/null", "w");

    (void)state;
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        json_t *k = json_loads(bad_keys[i], 0, NULL);
        assert_non_null(k);
        assert_int_equal(disco_tscsv_begin(&w, m, k, 0), DISCO_ERR_INVAL);
        json_decref(k);
    }
    assert_int_equal(disco_tscsv_begin(&w, NULL, keys, 0), DISCO_ERR_INVAL);
    assert_int_equal(disco_tscsv_begin(&w, m, keys, 0), DISCO_OK);
    assert_int_equal(disco_tscsv_rows(&w, "m", tags, ts, v, 1), DISCO_ERR_INVAL);
    assert_int_equal(disco_tscsv_rows(&w, NULL, NULL, ts, v, 1), DISCO_ERR_INVAL);
    assert_int_equal(disco_tscsv_rows(&w, "m", NULL, NULL, v, 1), DISCO_ERR_INVAL);
    disco_tscsv_end(&w);
    disco_tscsv_end(&w);
    fclose(m);
    json_decref(keys);
    json_decref(tags);
}

/* Tag keys of every series of `b`, in the order they first appear. */
static json_t *tag_keys(const disco_ts_batch *b)
{
    json_t *keys = json_array(), *seen = json_object(), *v;
    const char *k;

    for (size_t i = 0; i < json_array_size(b->series); i++) {
        json_object_foreach (json_object_get(json_array_get(b->series, i), "tags"), k, v) {
            if (!json_object_get(seen, k)) {
                json_object_set_new(seen, k, json_true());
                json_array_append_new(keys, json_string(k));
            }
        }
    }
    json_decref(seen);
    return keys;
}

/* Writes every sample of `b` as CSV, in order; returns the malloc'd text. */
static char *export_csv(const disco_ts_batch *b, int iso)
{
    json_t *keys = tag_keys(b);
    disco_tscsv_writer w;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);

    assert_int_equal(disco_tscsv_begin(&w, m, keys, iso), DISCO_OK);
    for (size_t i = 0; i < b->count; i++) {
        const disco_ts_sample *s = &b->samples[i];
        json_t *e = json_array_get(b->series, s->series);
        assert_int_equal(disco_tscsv_rows(&w, json_string_value(json_object_get(e, "metric")),
                                          json_object_get(e, "tags"), &s->ts, &s->value, 1),
                         DISCO_OK);
    }
    disco_tscsv_end(&w);
    fclose(m);
    json_decref(keys);
    return out;
}

static void assert_same_batch(const disco_ts_batch *a, const disco_ts_batch *b)
{
    assert_true(json_equal(a->series, b->series));
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        const disco_ts_sample *x = &a->samples[i], *y = &b->samples[i];
        assert_int_equal(x->series, y->series);
        assert_true(x->ts == y->ts);
        if (memcmp(&x->value, &y->value, sizeof x->value) != 0)
            fail_msg("sample %zu: %.17g became %.17g", i, x->value, y->value);
    }
}

static void add_sample(disco_ts_batch *b, const char *metric, const json_t *tags, int64_t ts,
                       double v)
{
    uint32_t index;
    disco_status st = {0};

    assert_int_equal(disco_ts_batch_series(b, metric, tags, &index, &st), DISCO_OK);
    assert_int_equal(disco_ts_batch_add(b, index, ts, v), DISCO_OK);
}

static void fill_roundtrip_batch(disco_ts_batch *b)
{
    static const double special[] = {NAN,     INFINITY, -INFINITY, -0.0,    0.0,      0.1,
                                     1.0 / 3, DBL_MAX,  -DBL_MAX,  DBL_MIN, 5e-324,   DBL_EPSILON,
                                     1e22,    1e23,     -1e-300,   2.31,    12345.678};
    static const int64_t times[] = {0,
                                    -1,
                                    INT64_MIN,
                                    INT64_MAX,
                                    INT64_C(-62167219200001),
                                    INT64_C(253402300800000),
                                    INT64_C(1732168796123)};
    json_t *t1 = json_pack("{s:s, s:s}", "run", "a, \"quoted\"", "split", " spaced ");
    json_t *t2 = json_pack("{s:s}", "host", "caf\xC3\xA9");
    uint64_t x = 2463534242u;

    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        add_sample(b, "loss", t1, times[i % 7], special[i]);
    for (int i = 0; i < 3000; i++) {
        int64_t ts = (int64_t)next_random(&x) >> (i % 20);
        add_sample(b, i % 3 ? "val:acc" : "loss", i % 2 ? t2 : t1, ts, random_double(&x));
    }
    add_sample(b, "bare", NULL, 1, 1);
    json_decref(t1);
    json_decref(t2);
}

/* CSV export reads back to the same batch, every double bit for bit. */
static void test_csv_roundtrip(void **state)
{
    fixture *f = *state;
    disco_ts_batch back;

    fill_roundtrip_batch(&f->b);
    for (int iso = 0; iso < 2; iso++) {
        char *text = export_csv(&f->b, iso);
        assert_int_equal(disco_ts_batch_init(&back), DISCO_OK);
        if (disco_tsformat_parse(DISCO_TSF_CSV, text, strlen(text), &f->o, &back, &f->st))
            fail_msg("%s", f->st.msg);
        assert_same_batch(&f->b, &back);
        disco_ts_batch_release(&back);
        free(text);
    }
}

/* Line protocol from Telegraf, exported as CSV, reads back the same. */
static void test_line_to_csv_roundtrip(void **state)
{
    fixture *f = *state;
    disco_ts_batch back;
    char *text;

    parse_ok(f, DISCO_TSF_LINE, TELEGRAF);
    text = export_csv(&f->b, 1);
    assert_int_equal(disco_ts_batch_init(&back), DISCO_OK);
    assert_int_equal(disco_tsformat_parse(DISCO_TSF_CSV, text, strlen(text), &f->o, &back, &f->st),
                     DISCO_OK);
    assert_same_batch(&f->b, &back);
    disco_ts_batch_release(&back);
    free(text);
}

/* ---- JSON ----------------------------------------------------------------- */

static void test_json_series(void **state)
{
    fixture *f = *state;
    json_t *tags = json_pack("{s:s, s:s}", "job", "j", "run", "z");

    f->o.metric = "dflt";
    f->o.tags = tags;
    parse_ok(
        f, DISCO_TSF_JSON,
        "{\"series\": [\n"
        "  {\"metric\": \"loss\", \"tags\": {\"run\": \"a\"}, \"points\": [[1, 2.5],\n"
        "    [\"1970-01-01T00:00:00.002Z\", \"NaN\"], [3.0, \"-inf\"], [\"4\", \"Infinity\"],\n"
        "    [5, \"1.25\"], [6, 7], [7, 9007199254740993], [8e0, -0.0]]},\n"
        "  {\"metric\": \"loss\", \"tags\": null, \"points\": []},\n"
        "  {\"tags\": {\"run\": \"b\"}, \"points\": [[-9, 1e-5]]}\n"
        "]}");
    assert_string_equal(describe(f),
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 1 2.5\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 2 nan\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 3 -inf\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 4 inf\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 5 1.25\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 6 7\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 7 9007199254740992\n"
                        "loss{\"job\"=\"j\",\"run\"=\"a\"} 8 -0\n"
                        "dflt{\"job\"=\"j\",\"run\"=\"b\"} -9 1.0000000000000001e-05\n");
    assert_int_equal(json_array_size(f->b.series), 3);
    assert_consistent(&f->b);
    json_decref(tags);
}

static void test_json_points(void **state)
{
    fixture *f = *state;

    parse_ok(f, DISCO_TSF_JSON,
             "[{\"metric\": \"a\", \"ts\": 1, \"value\": 1},\n"
             " {\"metric\": \"a\", \"ts\": 2, \"value\": 2, \"tags\": {}},\n"
             " {\"metric\": \"b\", \"tags\": {\"k\": \"v\"}, \"ts\": \"1970-01-01T00:00:00.003Z\","
             " \"value\": \"nan\"},\n"
             " {\"metric\": \"b\", \"tags\": {\"k\": \"v\"}, \"ts\": 4, \"value\": -1e308}]");
    parse_ok(f, DISCO_TSF_JSON, "[]");
    parse_ok(f, DISCO_TSF_JSON, "{\"series\": []}");
    assert_string_equal(describe(f), "a{} 1 1\n"
                                     "a{} 2 2\n"
                                     "b{\"k\"=\"v\"} 3 nan\n"
                                     "b{\"k\"=\"v\"} 4 -1e+308\n");
    assert_int_equal(json_array_size(f->b.series), 2);
    assert_consistent(&f->b);
}

static void test_json_errors(void **state)
{
    static const err_case cases[] = {
        {"", "line 1, column 0: '[' or '{' expected near end of file"},
        {"{\"series\": [\n  {\"metric\": \"a\",, }]}",
         "line 2, column 18: string or '}' expected near ','"},
        {"{\"series\": [], \"series\": []}",
         "line 1, column 23: duplicate object key near '\"series\"'"},
        {"[{\"metric\": \"a\", \"tags\": {\"k\": \"a\\u0000b\"}, \"ts\": 1, \"value\": 1}]",
         "line 1, column 41: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"a\\u0000b\"'"},
        {"{}", "JSON object: expected {\"series\": [...]} or an array of points"},
        {"{\"series\": {}}", "JSON object: expected {\"series\": [...]} or an array of points"},
        {"{\"series\": [], \"extra\": 1}", "JSON object: unknown member 'extra'"},
        {"{\"series\": [1]}", "series 1: expected an object of metric, tags and points"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": []}, {\"metric\": \"a\", \"point\": []}]}",
         "series 2: unknown member 'point'"},
        {"{\"series\": [{\"metric\": \"a\"}]}",
         "series 1: \"points\" must be an array of [ts, value] pairs"},
        {"{\"series\": [{\"points\": []}]}", "series 1: no metric and no default metric was given"},
        {"{\"series\": [{\"metric\": 5, \"points\": []}]}", "series 1: metric must be a string"},
        {"{\"series\": [{\"metric\": \"cpu load\", \"points\": []}]}",
         "series 1: metric 'cpu load': character 4 (' ') is not allowed "
         "(use [A-Za-z_:][A-Za-z0-9_:.-]*)"},
        {"{\"series\": [{\"metric\": \"a\", \"tags\": [], \"points\": []}]}",
         "series 1: tags must be an object of strings"},
        {"{\"series\": [{\"metric\": \"a\", \"tags\": {\"1x\": \"v\"}, \"points\": []}]}",
         "series 1: tag key '1x': use [A-Za-z_][A-Za-z0-9_.-]*"},
        {"{\"series\": [{\"metric\": \"a\", \"tags\": {\"k\": 1}, \"points\": []}]}",
         "series 1: tag 'k': value must be a string"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[1, 2], [3]]}]}",
         "series 1, point 2: expected a [ts, value] pair"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[1, 2], [true, 1]]}]}",
         "series 1, point 2: ts must be Unix milliseconds or an ISO 8601 string"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[1.5, 2]]}]}",
         "series 1, point 1: ts 1.5: not a whole number of milliseconds"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[\"2026-13-01\", 2]]}]}",
         "series 1, point 1: ts '2026-13-01': month 13 out of range 1..12"},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[1, null]]}]}",
         "series 1, point 1: value must be a number or \"NaN\", \"Inf\", \"-Inf\""},
        {"{\"series\": [{\"metric\": \"a\", \"points\": [[1, \"many\"]]}]}",
         "series 1, point 1: value 'many': expected a number, NaN, Inf or -Inf"},
        {"[1]", "point 1: expected an object of metric, tags, ts and value"},
        {"[{\"metric\": \"a\", \"ts\": 1, \"value\": 1}, {\"metric\": \"a\", \"ts\": 1}]",
         "point 2: \"ts\" and \"value\" are required"},
        {"[{\"metric\": \"a\", \"ts\": 1, \"value\": 1, \"unit\": \"s\"}]",
         "point 1: unknown member 'unit'"},
        {"[{\"ts\": 1, \"value\": 1}]", "point 1: no metric and no default metric was given"},
    };
    fixture *f = *state;

    check_errors(f, DISCO_TSF_JSON, cases, sizeof cases / sizeof cases[0]);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_name),
        T(test_bad_options),
        T(test_null_options),
        T(test_line_telegraf),
        T(test_line_field_types),
        T(test_line_escapes),
        T(test_line_comments_blank_crlf),
        T(test_line_metric_names),
        T(test_line_string_fields),
        T(test_line_timestamps),
        T(test_line_default_tags),
        T(test_line_same_series),
        T(test_line_errors),
        T(test_line_limits),
        T(test_all_or_nothing),
        T(test_numbers_exact),
        T(test_csv_basic),
        T(test_csv_default_metric),
        T(test_csv_errors),
        cmocka_unit_test(test_csv_writer_format),
        cmocka_unit_test(test_csv_writer_errors),
        T(test_csv_roundtrip),
        T(test_line_to_csv_roundtrip),
        T(test_json_series),
        T(test_json_points),
        T(test_json_errors),
    };
#undef T
    return cmocka_run_group_tests_name("store/tsformat", tests, NULL, NULL);
}
