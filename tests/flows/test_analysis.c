/*
 * test_analysis.c - the analysis flows on series built in memory, and the
 * monitor over a real catalog and tsdb.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/analysis.h"
#include "disco/monitor.h"
#include "disco/tsa_forecast.h"
#include "support/testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600000LL

/* An hourly series: daily sine, slow rise, fixed pseudo-noise, a spike. */
static void make_series(disco_series_data *d, size_t n, double phase, size_t spike)
{
    memset(d, 0, sizeof *d);
    d->metric = strdup("cpu");
    d->tags = json_pack("{s:s}", "host", "a");
    d->ts = malloc(n * sizeof *d->ts);
    d->v = malloc(n * sizeof *d->v);
    d->n = n;
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        d->ts[i] = 1767225600000LL + (int64_t)i * HOUR;
        d->v[i] = 50 + 10 * sin(2 * M_PI * ((double)i - phase) / 24) + 0.05 * (double)i +
                  ((double)(s >> 16) / 65536.0 - 0.5) * 0.2 + (i == spike ? 30 : 0);
    }
}

static void free_series(disco_series_data *d)
{
    free(d->metric);
    json_decref(d->tags);
    free(d->ts);
    free(d->v);
}

static void test_analyse_series(void **state)
{
    disco_series_data d;
    json_t *r = NULL;
    (void)state;

    make_series(&d, 480, 0, 300);
    assert_int_equal(disco_analysis_series(&d, 0, NULL, &r, NULL), DISCO_OK);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(r, "seasonal"), "period_samples")), 24);
    json_t *items = json_object_get(json_object_get(r, "anomalies"), "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "index")), 300);
    assert_true(json_real_value(json_object_get(json_object_get(r, "trend"), "slope_per_unit")) >
                0);
    assert_non_null(strstr(json_string_value(json_object_get(r, "summary")), "daily cycle"));
    json_decref(r);
    r = NULL;
    assert_int_equal(disco_analysis_series(&d, 0, "cyclic", &r, NULL), DISCO_OK);
    assert_null(json_object_get(r, "seasonal"));
    assert_null(json_object_get(r, "anomalies"));
    json_decref(r);
    free_series(&d);
}

static void test_compare_and_forecast(void **state)
{
    disco_series_set set = {calloc(2, sizeof(disco_series_data)), 2};
    disco_forecast_opts o = {.horizon = 24, .season = DISCO_TSA_SEASON_ADD, .level = 0.95};
    json_t *r = NULL;
    (void)state;

    make_series(&set.items[0], 240, 0, 1000);
    make_series(&set.items[1], 240, 3, 1000);
    assert_int_equal(disco_analysis_compare(&set, 0, &r, NULL), DISCO_OK);
    double lag =
        json_number_value(json_array_get(json_array_get(json_object_get(r, "lag_ms"), 0), 1));
    if (fabs(lag) != 3 * HOUR)
        fail_msg("lag %g ms", lag);
    double sim = json_number_value(
        json_array_get(json_array_get(json_object_get(r, "dtw_similarity"), 0), 1));
    assert_true(sim > 0 && sim <= 1);
    json_decref(r);
    r = NULL;
    assert_int_equal(disco_analysis_forecast(&set.items[0], &o, &r, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(r, "forecast")), 24);
    json_decref(r);
    set.items[0].v[5] = NAN;
    disco_status st = {0};
    assert_int_equal(disco_analysis_forecast(&set.items[0], &o, &r, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "not finite"));
    disco_series_set_release(&set);
}

static void test_monitor(void **state)
{
    char *dir = tu_tmpdir("monitor"), *cat_path = tu_path(dir, "c.db"),
         *ts_path = tu_path(dir, "ts");
    disco_catalog *cat;
    disco_tsdb *db;
    disco_ts_batch b;
    uint32_t idx;
    json_t *rule = json_pack("{s:s, s:s, s:s, s:f, s:I}", "metric", "lat", "kind", "threshold",
                             "op", ">", "value", 10.0, "window_ms", (json_int_t)HOUR);
    json_t *bad = json_pack("{s:s, s:s, s:I}", "metric", "lat", "kind", "sideways", "window_ms",
                            (json_int_t)HOUR);
    json_t *report = NULL;
    disco_status st = {0};
    (void)state;

    assert_int_equal(disco_catalog_open(cat_path, &cat, NULL), DISCO_OK);
    assert_int_equal(disco_tsdb_open(ts_path, NULL, &db, NULL), DISCO_OK);
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    assert_int_equal(disco_ts_batch_series(&b, "lat", NULL, &idx, NULL), DISCO_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(disco_ts_batch_add(&b, idx, 1000 * i, i == 7 ? 50 : 5), DISCO_OK);
    assert_int_equal(disco_tsdb_write(db, &b, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_monitor_add_rule(cat, bad, "ops", NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "kind");
    assert_int_equal(disco_monitor_add_rule(cat, rule, "ops", NULL, NULL), DISCO_OK);
    assert_int_equal(disco_monitor_check(cat, db, 10000, "ops", &report, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(report, "raised")), 1);
    json_decref(report);
    assert_int_equal(disco_monitor_check(cat, db, 10000, "ops", &report, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(report, "raised")), 0);
    json_decref(report);
    disco_ts_batch_release(&b);
    disco_tsdb_close(db);
    disco_catalog_close(cat);
    json_decref(rule);
    json_decref(bad);
    tu_rmrf(dir);
    free(dir);
    free(cat_path);
    free(ts_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analyse_series),
        cmocka_unit_test(test_compare_and_forecast),
        cmocka_unit_test(test_monitor),
    };
    return cmocka_run_group_tests_name("flows/analysis", tests, NULL, NULL);
}
