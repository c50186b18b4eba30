/*
 * test_prom.c - the Prometheus registry: exact exposition text for counters,
 * histograms and gauges, escaping, number formatting, refused names and
 * values, the series cap, and concurrent updates from several threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/metrics_prom.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dump(disco_prom *reg)
{
    char *text = NULL;
    size_t len = 0;

    assert_int_equal(disco_prom_write(reg, &text, &len, NULL), DISCO_OK);
    assert_int_equal(len, strlen(text));
    return text;
}

static void test_counter_text(void **state)
{
    disco_prom *reg;
    disco_prom_metric *c, *plain;
    const char *const labels[] = {"method", "code", NULL};
    const char *const get200[] = {"GET", "200"}, *const post400[] = {"POST", "400"};

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(
        disco_prom_counter_new(reg, "http_requests_total", "requests served", labels, &c, NULL),
        DISCO_OK);
    assert_int_equal(disco_prom_counter_new(reg, "starts_total", NULL, NULL, &plain, NULL),
                     DISCO_OK);
    assert_int_equal(disco_prom_counter_inc(c, get200), DISCO_OK);
    assert_int_equal(disco_prom_counter_inc(c, get200), DISCO_OK);
    assert_int_equal(disco_prom_counter_add(c, post400, 0.5, NULL), DISCO_OK);
    assert_true(disco_prom_value(c, get200, NULL) == 2);
    assert_true(disco_prom_value(c, (const char *const[]){"PUT", "201"}, NULL) == 0);

    char *text = dump(reg);
    assert_string_equal(text, "# HELP http_requests_total requests served\n"
                              "# TYPE http_requests_total counter\n"
                              "http_requests_total{method=\"GET\",code=\"200\"} 2\n"
                              "http_requests_total{method=\"POST\",code=\"400\"} 0.5\n"
                              "# TYPE starts_total counter\n"
                              "starts_total 0\n");
    free(text);
    disco_prom_free(reg);
}

static void test_histogram_text(void **state)
{
    disco_prom *reg;
    disco_prom_metric *h;
    const double bounds[] = {0.1, 1, 10};
    const char *const labels[] = {"route", NULL};
    const char *const jobs[] = {"/api/jobs"};
    double sum;

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(
        disco_prom_histogram_new(reg, "req_seconds", "latency", labels, bounds, 3, &h, NULL),
        DISCO_OK);
    /* 0.1 falls in the le="0.1" bucket (upper bounds are inclusive), 20 in +Inf. */
    const double xs[] = {0.05, 0.1, 0.5, 20, INFINITY};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(disco_prom_histogram_observe(h, jobs, xs[i], NULL), DISCO_OK);
    assert_true(disco_prom_value(h, jobs, &sum) == 5);
    assert_true(isinf(sum));

    char *text = dump(reg);
    assert_string_equal(text, "# HELP req_seconds latency\n"
                              "# TYPE req_seconds histogram\n"
                              "req_seconds_bucket{route=\"/api/jobs\",le=\"0.1\"} 2\n"
                              "req_seconds_bucket{route=\"/api/jobs\",le=\"1\"} 3\n"
                              "req_seconds_bucket{route=\"/api/jobs\",le=\"10\"} 3\n"
                              "req_seconds_bucket{route=\"/api/jobs\",le=\"+Inf\"} 5\n"
                              "req_seconds_sum{route=\"/api/jobs\"} +Inf\n"
                              "req_seconds_count{route=\"/api/jobs\"} 5\n");
    free(text);
    disco_prom_free(reg);
}

static void test_default_buckets(void **state)
{
    disco_prom *reg;
    disco_prom_metric *h;
    char line[128];

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(disco_prom_histogram_new(reg, "op_seconds", "x", NULL, NULL, 0, &h, NULL),
                     DISCO_OK);
    assert_int_equal(disco_prom_histogram_observe(h, NULL, 0.003, NULL), DISCO_OK);
    char *text = dump(reg);
    for (size_t i = 0; i < disco_prom_latency_buckets_n; i++) {
        double b = disco_prom_latency_buckets[i];
        snprintf(line, sizeof line, "op_seconds_bucket{le=\"%g\"} %d\n", b, b >= 0.003);
        assert_non_null(strstr(text, line));
    }
    assert_non_null(strstr(text, "op_seconds_bucket{le=\"+Inf\"} 1\nop_seconds_sum 0.003\n"
                                 "op_seconds_count 1\n"));
    free(text);
    disco_prom_free(reg);
}

static void escape_gauge(void *user, disco_prom_sink *sink)
{
    (void)user;
    disco_prom_sink_put(sink, (const char *const[]){"a\"b\\c\nd"}, 1.25);
}

static void test_escaping(void **state)
{
    disco_prom *reg;
    const char *const labels[] = {"path", NULL};

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(disco_prom_gauge_new(reg, "odd", "help with \\ and\nnewline \"quoted\"",
                                          labels, escape_gauge, NULL, NULL, NULL),
                     DISCO_OK);
    char *text = dump(reg);
    assert_string_equal(text, "# HELP odd help with \\\\ and\\nnewline \"quoted\"\n"
                              "# TYPE odd gauge\n"
                              "odd{path=\"a\\\"b\\\\c\\nd\"} 1.25\n");
    free(text);
    disco_prom_free(reg);
}

typedef struct depth {
    int queued, running;
} depth;

static void depth_gauge(void *user, disco_prom_sink *sink)
{
    const depth *d = user;

    disco_prom_sink_put(sink, (const char *const[]){"queued"}, d->queued);
    disco_prom_sink_put(sink, (const char *const[]){"running"}, d->running);
    disco_prom_sink_put(sink, (const char *const[]){NULL}, 99); /* dropped */
}

static void test_gauge_reads_at_write(void **state)
{
    disco_prom *reg;
    depth d = {3, 1};
    const char *const labels[] = {"state", NULL};

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(
        disco_prom_gauge_new(reg, "jobs", "jobs by state", labels, depth_gauge, &d, NULL, NULL),
        DISCO_OK);
    char *text = dump(reg);
    assert_non_null(strstr(text, "jobs{state=\"queued\"} 3\njobs{state=\"running\"} 1\n"));
    assert_null(strstr(text, "99"));
    free(text);
    d.queued = 0;
    text = dump(reg);
    assert_non_null(strstr(text, "jobs{state=\"queued\"} 0\n"));
    free(text);
    disco_prom_free(reg);
}

static void test_numbers(void **state)
{
    disco_prom *reg;
    disco_prom_metric *c;

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(disco_prom_counter_new(reg, "a_total", NULL, NULL, &c, NULL), DISCO_OK);
    assert_int_equal(disco_prom_counter_add(c, NULL, 0.1, NULL), DISCO_OK);
    assert_int_equal(disco_prom_counter_add(c, NULL, 0.2, NULL), DISCO_OK);
    char *text = dump(reg);
    /* 0.1 + 0.2 is not 0.3 in binary: 17 digits are needed to read it back. */
    assert_string_equal(text, "# TYPE a_total counter\na_total 0.30000000000000004\n");
    free(text);
    assert_int_equal(disco_prom_counter_add(c, NULL, 1e20, NULL), DISCO_OK);
    text = dump(reg);
    assert_string_equal(text, "# TYPE a_total counter\na_total 1e+20\n");
    free(text);
    disco_prom_free(reg);
}

static void test_refused(void **state)
{
    disco_prom *reg;
    disco_prom_metric *c, *h;
    disco_status st = {0};
    const double bad[] = {1, 1};
    const double nan_bound[] = {NAN};

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(disco_prom_counter_new(reg, "1bad_total", NULL, NULL, &c, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "name");
    assert_int_equal(disco_prom_counter_new(reg, "requests", NULL, NULL, &c, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "_total"));
    assert_int_equal(
        disco_prom_counter_new(reg, "x_total", NULL, (const char *const[]){"__a", NULL}, &c, &st),
        DISCO_ERR_INVAL);
    assert_string_equal(st.field, "labels");
    assert_int_equal(disco_prom_counter_new(reg, "x_total", NULL,
                                            (const char *const[]){"a", "a", NULL}, &c, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_histogram_new(reg, "h", NULL, (const char *const[]){"le", NULL},
                                              NULL, 0, &h, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_histogram_new(reg, "h", NULL, NULL, bad, 2, &h, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "buckets");
    assert_int_equal(disco_prom_histogram_new(reg, "h", NULL, NULL, nan_bound, 1, &h, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_gauge_new(reg, "g", NULL, NULL, NULL, NULL, NULL, &st),
                     DISCO_ERR_INVAL);

    assert_int_equal(
        disco_prom_counter_new(reg, "x_total", NULL, (const char *const[]){"k", NULL}, &c, NULL),
        DISCO_OK);
    assert_int_equal(disco_prom_counter_new(reg, "x_total", NULL, NULL, NULL, &st),
                     DISCO_ERR_EXISTS);
    assert_int_equal(disco_prom_counter_add(c, (const char *const[]){"v"}, -1, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_counter_add(c, (const char *const[]){"v"}, NAN, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_counter_add(c, NULL, 1, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "label k"));
    assert_int_equal(disco_prom_histogram_observe(c, (const char *const[]){"v"}, 1, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_histogram_new(reg, "h", NULL, NULL, NULL, 0, &h, NULL), DISCO_OK);
    assert_int_equal(disco_prom_histogram_observe(h, NULL, NAN, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_prom_counter_add(h, NULL, 1, &st), DISCO_ERR_INVAL);
    disco_prom_free(reg);
}

static void test_series_cap(void **state)
{
    disco_prom *reg;
    disco_prom_metric *c;
    disco_status st = {0};
    char v[16];
    const char *const values[] = {v};

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(
        disco_prom_counter_new(reg, "ids_total", NULL, (const char *const[]){"id", NULL}, &c, NULL),
        DISCO_OK);
    for (int i = 0; i < DISCO_PROM_SERIES_MAX; i++) {
        snprintf(v, sizeof v, "%d", i);
        assert_int_equal(disco_prom_counter_inc(c, values), DISCO_OK);
    }
    snprintf(v, sizeof v, "one-more");
    assert_int_equal(disco_prom_counter_add(c, values, 1, &st), DISCO_ERR_LIMIT);
    snprintf(v, sizeof v, "7"); /* existing series still count */
    assert_int_equal(disco_prom_counter_inc(c, values), DISCO_OK);
    assert_true(disco_prom_value(c, values, NULL) == 2);
    disco_prom_free(reg);
}

typedef struct hammer {
    disco_prom_metric *c, *h;
    int id;
} hammer;

#define HAMMER_N 20000

static void *hammer_run(void *arg)
{
    hammer *hm = arg;
    const char *const shared[] = {"shared"};
    const char *const own[] = {hm->id % 2 ? "odd" : "even"};

    for (int i = 0; i < HAMMER_N; i++) {
        disco_prom_counter_inc(hm->c, shared);
        disco_prom_histogram_observe(hm->h, own, (i % 100) / 1000.0, NULL);
    }
    return NULL;
}

static void test_threads(void **state)
{
    disco_prom *reg;
    hammer hm[4];
    pthread_t th[4];
    double sum;

    (void)state;
    assert_int_equal(disco_prom_new(&reg, NULL), DISCO_OK);
    assert_int_equal(disco_prom_counter_new(reg, "hits_total", "h",
                                            (const char *const[]){"who", NULL}, &hm[0].c, NULL),
                     DISCO_OK);
    assert_int_equal(disco_prom_histogram_new(reg, "lat_seconds", "l",
                                              (const char *const[]){"who", NULL}, NULL, 0, &hm[0].h,
                                              NULL),
                     DISCO_OK);
    for (int i = 0; i < 4; i++) {
        hm[i] = hm[0];
        hm[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &hm[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        char *text = NULL;
        if (i == 0) /* scrape while writers run */
            assert_int_equal(disco_prom_write(reg, &text, NULL, NULL), DISCO_OK);
        free(text);
        pthread_join(th[i], NULL);
    }
    assert_true(disco_prom_value(hm[0].c, (const char *const[]){"shared"}, NULL) == 4 * HAMMER_N);
    assert_true(disco_prom_value(hm[0].h, (const char *const[]){"odd"}, &sum) == 2 * HAMMER_N);
    /* (0 + 1 + ... + 99) / 1000 per 100 observations */
    assert_true(fabs(sum - 2.0 * HAMMER_N / 100 * 4.95) < 1e-6);
    disco_prom_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_text),
        cmocka_unit_test(test_histogram_text),
        cmocka_unit_test(test_default_buckets),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_gauge_reads_at_write),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_series_cap),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
