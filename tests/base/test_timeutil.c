/*
 * test_timeutil.c - clocks and ISO 8601 / Unix-millisecond parsing and formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/timeutil.h"

#include <string.h>
#include <time.h>

/* 2026-11-21T05:59:56.123Z, worked out by hand: 20778 days after the epoch. */
#define REF_MS (INT64_C(20778) * 86400000 + (INT64_C(5) * 3600 + 59 * 60 + 56) * 1000 + 123)

static int64_t parse_ok(const char *s)
{
    disco_status st = {0};
    int64_t ms = -1;

    if (disco_time_parse(s, "time", &ms, &st) != DISCO_OK)
        fail_msg("'%s' did not parse: %s", s, st.msg);
    return ms;
}

static const char *parse_err(const char *s, disco_status *st)
{
    int64_t ms = 12345;

    assert_int_equal(disco_time_parse(s, "created_after", &ms, st), DISCO_ERR_INVAL);
    assert_true(ms == 12345);
    assert_string_equal(st->field, "created_after");
    assert_non_null(strstr(st->msg, "created_after"));
    return st->msg;
}

static void test_clocks(void **state)
{
    int64_t now = disco_time_now_ms();
    uint64_t a, b;
    struct timespec pause = {0, 2000000};

    (void)state;
    assert_true(now > INT64_C(1700000000000));
    assert_true(now - (int64_t)time(NULL) * 1000 < 2000);
    a = disco_time_mono_ns();
    nanosleep(&pause, NULL);
    b = disco_time_mono_ns();
    assert_true(b - a >= 2000000);
}

static void test_format(void **state)
{
    char buf[DISCO_TIME_ISO_MAX];

    (void)state;
    disco_time_format_iso(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    disco_time_format_iso(REF_MS, buf);
    assert_string_equal(buf, "2026-11-21T05:59:56.123Z");
    disco_time_format_iso(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    disco_time_format_iso(INT64_C(951782400000), buf);
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
}

/* Out-of-range times are clamped to years 0000..9999, so output always parses back. */
static void test_format_clamps(void **state)
{
    char buf[DISCO_TIME_ISO_MAX];

    (void)state;
    disco_time_format_iso(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    disco_time_format_iso(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    assert_true(parse_ok(buf) == INT64_C(-62167219200000));
}

static void test_parse_forms(void **state)
{
    (void)state;
    assert_true(parse_ok("2026-11-21T05:59:56.123Z") == REF_MS);
    assert_true(parse_ok("2026-11-21t05:59:56.123z") == REF_MS);
    assert_true(parse_ok("2026-11-21 05:59:56.123") == REF_MS);
    assert_true(parse_ok("2026-11-21T05:59:56,123Z") == REF_MS);
    assert_true(parse_ok("2026-11-21T05:59:56Z") == REF_MS - 123);
    assert_true(parse_ok("2026-11-21T05:59Z") == REF_MS - 56123);
    assert_true(parse_ok("2026-11-21") == REF_MS - (5 * 3600 + 59 * 60 + 56) * INT64_C(1000) - 123);
    assert_true(parse_ok("2026-11-21T05:59:56.1Z") == REF_MS - 23);
    assert_true(parse_ok("2026-11-21T05:59:56.123999999Z") == REF_MS);
    assert_true(parse_ok("1970-01-01") == 0);
    assert_true(parse_ok("2024-02-29") == INT64_C(1709164800000));
}

static void test_parse_offsets(void **state)
{
    (void)state;
    assert_true(parse_ok("2026-11-21T06:59:56.123+01:00") == REF_MS);
    assert_true(parse_ok("2026-11-21T06:59:56.123+0100") == REF_MS);
    assert_true(parse_ok("2026-11-21T06:59:56.123+01") == REF_MS);
    assert_true(parse_ok("2026-11-21T00:29:56.123-05:30") == REF_MS);
    assert_true(parse_ok("2026-11-20T23:59:56.123-06:00") == REF_MS);
    assert_true(parse_ok("2026-11-21T05:59:56.123+00:00") == REF_MS);
    assert_true(parse_ok("2026-11-21T05:59:56.123-00:00") == REF_MS);
}

static void test_parse_unix_ms(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_true(parse_ok("0") == 0);
    assert_true(parse_ok("1763704796123") == INT64_C(1763704796123));
    assert_true(parse_ok("-1000") == -1000);
    assert_true(parse_ok("9223372036854775807") == INT64_MAX);
    assert_non_null(strstr(parse_err("9223372036854775808", &st), "out of range"));
}

static void test_round_trips(void **state)
{
    const int64_t samples[] = {0,
                               1,
                               -1,
                               999,
                               REF_MS,
                               INT64_C(951782400000),
                               INT64_C(-86400001),
                               INT64_C(253402300799999),
                               INT64_C(-62167219200000)};
    char buf[DISCO_TIME_ISO_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        disco_time_format_iso(samples[i], buf);
        assert_true(parse_ok(buf) == samples[i]);
    }
    for (int64_t ms = -5000000000000; ms < 5000000000000; ms += 7777777777) {
        disco_time_format_iso(ms, buf);
        assert_true(parse_ok(buf) == ms);
    }
}

static void test_bad_dates(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_string_equal(parse_err("2026-02-30", &st),
                        "created_after '2026-02-30': day 30 out of range 1..28 for 2026-02");
    assert_non_null(strstr(parse_err("2025-02-29", &st), "day 29 out of range 1..28"));
    assert_non_null(strstr(parse_err("1900-02-29", &st), "day 29 out of range 1..28"));
    assert_non_null(strstr(parse_err("2026-04-31", &st), "day 31 out of range 1..30"));
    assert_non_null(strstr(parse_err("2026-00-10", &st), "month 0 out of range 1..12"));
    assert_non_null(strstr(parse_err("2026-13-01", &st), "month 13 out of range 1..12"));
    assert_non_null(strstr(parse_err("2026-01-00", &st), "day 0 out of range"));
    assert_non_null(strstr(parse_err("2026-01-01T24:00:00Z", &st), "hour 24 out of range"));
    assert_non_null(strstr(parse_err("2026-01-01T10:60Z", &st), "minute 60 out of range"));
    assert_non_null(strstr(parse_err("2026-01-01T10:00:60Z", &st), "second 60 out of range"));
    assert_non_null(strstr(parse_err("2026-01-01T10:00+24:00", &st), "offset +24:00 out of range"));
    assert_non_null(strstr(parse_err("2026-01-01T10:00-01:60", &st), "offset -01:60 out of range"));
}

static void test_garbage(void **state)
{
    const char *bad[] = {"soon",          "2026",       "2026-1-5",    "2026-01-5",
                         "26-01-05",      "2026/01/05", "2026-01-05T", "2026-01-05T1:00",
                         "2026-01-05T10", "12ab",       "-",           "2026-01-05T10:00:00.Z",
                         " 2026-01-05"};
    disco_status st = {0};

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 0;
        int rc = disco_time_parse(bad[i], "t", &ms, &st);
        if (i == 1) { /* an integer: Unix milliseconds */
            assert_int_equal(rc, DISCO_OK);
            continue;
        }
        if (rc != DISCO_ERR_INVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_non_null(strstr(st.msg, "t '"));
    }
    assert_non_null(strstr(parse_err("soon", &st), "expected an ISO 8601 time"));
    assert_non_null(strstr(parse_err("", &st), "created_after: empty"));
    assert_non_null(strstr(parse_err(NULL, &st), "created_after: empty"));
    assert_non_null(strstr(parse_err("2026-01-05T10:00:00.1234567890Z", &st), "1 to 9 digits"));
    assert_non_null(
        strstr(parse_err("2026-01-05T10:00:00Zjunk", &st), "unexpected 'j' at position 21"));
    assert_non_null(strstr(parse_err("2026-01-05Z", &st), "unexpected 'Z' at position 11"));
    assert_non_null(strstr(parse_err("2026-01-05T10:00+1:00", &st), "offset from UTC"));
    assert_non_null(strstr(parse_err("2026-01-05\n", &st), "'2026-01-05\\x0A'"));
}

static void test_durations(void **state)
{
    disco_status st = {0};
    int64_t ms = -1;
    (void)state;

    assert_int_equal(disco_duration_parse("1500", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 1500);
    assert_int_equal(disco_duration_parse("500ms", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 500);
    assert_int_equal(disco_duration_parse("90s", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 90000);
    assert_int_equal(disco_duration_parse("5m", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 300000);
    assert_int_equal(disco_duration_parse("30d", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 30LL * 86400000);
    assert_int_equal(disco_duration_parse("2w", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 14LL * 86400000);
    assert_int_equal(disco_duration_parse("0", "d", &ms, &st), DISCO_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(disco_duration_parse("-5s", "retention", &ms, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "retention '-5s'"));
    assert_int_equal(disco_duration_parse("5 m", "d", &ms, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_duration_parse("5y", "d", &ms, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_duration_parse("", "d", &ms, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_duration_parse("99999999999999999w", "d", &ms, &st), DISCO_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clocks),        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_clamps), cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_offsets), cmocka_unit_test(test_parse_unix_ms),
        cmocka_unit_test(test_round_trips),   cmocka_unit_test(test_bad_dates),
        cmocka_unit_test(test_garbage),       cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests_name("base/timeutil", tests, NULL, NULL);
}
