/*
 * test_insight.c - the plain-language summary, word for word: every part,
 * their combinations, the fallbacks, a buffer too small and bad fields.
 */
#include "disco/tsa_insight.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define T_2026_01_01_10H INT64_C(1767261600000) /* 2026-01-01T10:00:00Z */

static void expect_text(const disco_tsa_insight *in, const char *want)
{
    char buf[DISCO_TSA_INSIGHT_TEXT_MAX];
    disco_status st = {0};
    int rc = disco_tsa_insight_text(in, buf, sizeof buf, &st);

    if (rc < 0)
        print_error("insight_text failed: %s\n", disco_status_message(&st));
    assert_int_equal(rc, (int)strlen(want));
    assert_string_equal(buf, want);
}

static disco_tsa_insight full_example(void)
{
    disco_tsa_insight in;

    disco_tsa_insight_init(&in);
    in.time_unit = "day";
    in.has_season = 1;
    in.season_name = "daily";
    in.season_period = 1.0;
    in.season_strength = 0.8149;
    in.has_trend = 1;
    in.slope = 2.1;
    in.slope_pct = 2.34;
    in.change_pct = 16.12;
    in.has_anomalies = 1;
    in.anomalies = 3;
    in.anomaly_index = 34;
    in.anomaly_time_ms = T_2026_01_01_10H;
    in.anomaly_value = 97.5;
    in.anomaly_score = 4.21;
    return in;
}

static void test_full_summary(void **state)
{
    disco_tsa_insight in = full_example();

    (void)state;
    expect_text(&in, "daily cycle, strength 0.81; rising 2.3 %/day (+16.1 % overall); "
                     "3 anomalies, largest 97.5 at 2026-01-01T10:00:00Z (+4.2\xcf\x83)");
    /* The same period found by the periodogram is not repeated. */
    in.has_cycle = 1;
    in.cycle_period = 1.005;
    in.cycle_share = 0.6;
    expect_text(&in, "daily cycle, strength 0.81; rising 2.3 %/day (+16.1 % overall); "
                     "3 anomalies, largest 97.5 at 2026-01-01T10:00:00Z (+4.2\xcf\x83)");
    in.cycle_period = 7.0;
    expect_text(&in, "daily cycle, strength 0.81; rising 2.3 %/day (+16.1 % overall); "
                     "3 anomalies, largest 97.5 at 2026-01-01T10:00:00Z (+4.2\xcf\x83); "
                     "dominant cycle of 7 days (60 % of variance)");
}

static void test_season_by_period(void **state)
{
    disco_tsa_insight in;

    (void)state;
    disco_tsa_insight_init(&in);
    in.time_unit = "hour";
    in.has_season = 1;
    in.season_period = 24.0;
    in.season_strength = 0.5;
    expect_text(&in, "cycle of 24 hours, strength 0.50");
    in.time_unit = NULL;
    in.season_period = 1.0;
    expect_text(&in, "cycle of 1 sample, strength 0.50");
    in.season_period = 12.5;
    expect_text(&in, "cycle of 12.5 samples, strength 0.50");
}

static void test_trend_wordings(void **state)
{
    disco_tsa_insight in;

    (void)state;
    disco_tsa_insight_init(&in);
    in.time_unit = "week";
    in.has_trend = 1;
    in.slope = -3.0;
    in.slope_pct = -1.25;
    expect_text(&in, "falling 1.2 %/week");
    in.slope_pct = 0.04;
    in.change_pct = -0.04;
    expect_text(&in, "flat (+0.0 % overall)");
    in.slope_pct = NAN;
    in.change_pct = NAN;
    in.slope = 0.5234;
    expect_text(&in, "rising 0.523/week");
    in.slope = -1234.5;
    expect_text(&in, "falling 1.23e+03/week");
    in.slope = 0.0;
    expect_text(&in, "flat");
}

static void test_anomaly_wordings(void **state)
{
    disco_tsa_insight in;

    (void)state;
    disco_tsa_insight_init(&in);
    in.has_anomalies = 1;
    expect_text(&in, "no anomalies");
    in.anomalies = 1;
    in.anomaly_index = 17;
    in.anomaly_value = -3.25;
    in.anomaly_score = -5.04;
    expect_text(&in, "1 anomaly -3.25 at index 17 (-5.0\xcf\x83)");
    in.anomalies = 12;
    in.anomaly_time_ms = T_2026_01_01_10H + 250;
    in.anomaly_value = NAN;
    in.anomaly_score = NAN;
    expect_text(&in, "12 anomalies, largest at 2026-01-01T10:00:00.250Z");
}

static void test_cycle_only_and_nothing(void **state)
{
    disco_tsa_insight in;

    (void)state;
    disco_tsa_insight_init(&in);
    expect_text(&in, "no notable structure");
    in.has_cycle = 1;
    in.cycle_period = 24.0;
    in.cycle_share = 0.414;
    expect_text(&in, "dominant cycle of 24 samples (41 % of variance)");
}

static void test_small_buffer(void **state)
{
    disco_tsa_insight in = full_example();
    char buf[16];
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_insight_text(&in, buf, sizeof buf, &st), DISCO_ERR_LIMIT);
    assert_string_equal(buf, "daily cycle, st");
    assert_string_equal(st.msg, "buf of 16 bytes too small: the summary needs 123");
    assert_int_equal(disco_tsa_insight_text(&in, buf, 0, &st), DISCO_ERR_INVAL);
}

static void test_bad_fields(void **state)
{
    disco_tsa_insight in;
    char buf[64];
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_insight_text(NULL, buf, sizeof buf, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "in is NULL");
    disco_tsa_insight_init(&in);
    in.has_season = 1;
    in.season_name = "weekly";
    in.season_strength = 1.5;
    assert_int_equal(disco_tsa_insight_text(&in, buf, sizeof buf, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "season_strength 1.5 out of range 0..1");
    in.season_strength = 0.3;
    in.season_name = NULL;
    assert_int_equal(disco_tsa_insight_text(&in, buf, sizeof buf, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "season_period");
    disco_tsa_insight_init(&in);
    in.has_trend = 1;
    assert_int_equal(disco_tsa_insight_text(&in, buf, sizeof buf, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "slope nan is not finite");
    disco_tsa_insight_init(&in);
    in.has_cycle = 1;
    in.cycle_period = 0.0;
    assert_int_equal(disco_tsa_insight_text(&in, buf, sizeof buf, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "cycle_period");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_summary),
        cmocka_unit_test(test_season_by_period),
        cmocka_unit_test(test_trend_wordings),
        cmocka_unit_test(test_anomaly_wordings),
        cmocka_unit_test(test_cycle_only_and_nothing),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_bad_fields),
    };

    return cmocka_run_group_tests_name("tsa/insight", tests, NULL, NULL);
}
