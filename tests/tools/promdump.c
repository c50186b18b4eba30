/*
 * promdump.c - fills a Prometheus registry with every kind of metric (with
 * and without labels, escapes in label values and help, empty label sets,
 * +Inf observations) and prints its exposition, for
 * tests/integration/test_promtool.sh to feed to an independent parser.
 *
 *   promdump
 */
#include "disco/metrics_prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void queue_gauge(void *user, disco_prom_sink *sink)
{
    (void)user;
    disco_prom_sink_put(sink, (const char *const[]){"queued"}, 2);
    disco_prom_sink_put(sink, (const char *const[]){"running"}, 1);
}

static void uptime_gauge(void *user, disco_prom_sink *sink)
{
    (void)user;
    disco_prom_sink_put(sink, NULL, 12.5);
}

static int fill(disco_prom *reg, disco_status *st)
{
    disco_prom_metric *req, *lat, *sizes, *unused;
    const char *const rl[] = {"method", "route", "code", NULL};
    const double size_bounds[] = {1024, 65536, 1048576};
    int rc = disco_prom_counter_new(reg, "disco_http_requests_total", "HTTP requests served", rl,
                                    &req, st);

    if (!rc)
        rc = disco_prom_histogram_new(reg, "disco_http_request_duration_seconds",
                                      "time to answer a request\nfrom first byte to last", rl, NULL,
                                      0, &lat, st);
    if (!rc)
        rc = disco_prom_histogram_new(reg, "disco_object_size_bytes", "sizes of stored objects",
                                      NULL, size_bounds, 3, &sizes, st);
    if (!rc)
        rc = disco_prom_counter_new(reg, "disco_never_used_total", "a labelled counter, no series",
                                    (const char *const[]){"kind", NULL}, &unused, st);
    if (!rc)
        rc =
            disco_prom_gauge_new(reg, "disco_jobs", "jobs by state",
                                 (const char *const[]){"state", NULL}, queue_gauge, NULL, NULL, st);
    if (!rc)
        rc = disco_prom_gauge_new(reg, "disco_uptime_seconds", "seconds since start", NULL,
                                  uptime_gauge, NULL, NULL, st);
    const char *const ok[] = {"GET", "/api/jobs/{id}", "200"};
    const char *const odd[] = {"POST", "/weird\"path\\with\nnewline", "400"};
    const double xs[] = {0.0004, 0.003, 0.2, 7, 100, INFINITY};
    for (size_t i = 0; !rc && i < sizeof xs / sizeof xs[0]; i++) {
        rc = disco_prom_counter_inc(req, i % 2 ? odd : ok);
        if (!rc)
            rc = disco_prom_histogram_observe(lat, i % 2 ? odd : ok, xs[i], st);
        if (!rc)
            rc = disco_prom_histogram_observe(sizes, NULL, 1000.0 * (double)(i * i * i), st);
    }
    return rc;
}

int main(void)
{
    disco_status st = {0};
    disco_prom *reg = NULL;
    char *text = NULL;
    int rc = disco_prom_new(&reg, &st);

    if (!rc)
        rc = fill(reg, &st);
    if (!rc)
        rc = disco_prom_write(reg, &text, NULL, &st);
    if (rc) {
        fprintf(stderr, "promdump: %s\n", disco_status_message(&st));
        disco_prom_free(reg);
        return 1;
    }
    fputs(text, stdout);
    free(text);
    disco_prom_free(reg);
    return 0;
}
