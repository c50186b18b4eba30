/*
 * selfmon.c - the server watching itself (http.h, Monitoring). Every
 * monitor_interval_s seconds one thread:
 *
 *   1. writes the last interval's figures to the shared tsdb, each series
 *      tagged instance=<host:port>:
 *        server.requests        requests answered
 *        server.errors          of them answered 5xx
 *        server.latency_p95_ms  95th percentile latency (only with requests)
 *        server.jobs_queued     jobs waiting now
 *        server.jobs_running    jobs running now
 *   2. runs every alert rule (monitor.h): the users' and its own, which it
 *      adds once when no rule watches those metrics yet:
 *        server.latency_p95_ms  anomaly, modified z-score > 6 over 1 h
 *        server.errors          threshold, > 0 over 10 min
 *      Alerts are catalog resources (monitor.alerts lists them; so does
 *      GET /api/monitor/alerts); each new one is logged at WARN.
 */
#include "http_int.h"

#include "disco/log.h"
#include "disco/monitor.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct http_monitor {
    disco_http *srv;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    int stop;
    int rules_ready;
    disco_ctx *ctx; /* the thread's: a catalog connection */
};

/* ---- figures into the tsdb ------------------------------------------------- */

static int write_figures(http_monitor *mon, disco_tsdb *db, int64_t now, disco_status *st)
{
    disco_http *srv = mon->srv;
    disco_jobs_stats js = {0};
    disco_tsdb_write_result res = {0};
    disco_ts_batch b;
    uint64_t requests, errors;
    double p95;
    json_t *tags = json_pack("{s:s}", "instance", srv->instance);
    uint32_t idx;
    int rc;

    disco__http_metrics_window(srv->metrics, &requests, &errors, &p95);
    disco_jobs_get_stats(srv->jobs, &js);
    const struct {
        const char *metric;
        double value;
    } fig[] = {
        {"server.requests", (double)requests},
        {"server.errors", (double)errors},
        {"server.latency_p95_ms", p95},
        {"server.jobs_queued", (double)js.queued},
        {"server.jobs_running", (double)js.running},
    };
    rc = tags ? disco_ts_batch_init(&b) : DISCO_ERR_NOMEM;
    if (rc != DISCO_OK) {
        json_decref(tags);
        return disco_status_set(st, rc, NULL, "out of memory");
    }
    for (size_t i = 0; rc == DISCO_OK && i < sizeof fig / sizeof fig[0]; i++) {
        if (!isfinite(fig[i].value))
            continue;
        rc = disco_ts_batch_series(&b, fig[i].metric, tags, &idx, st);
        if (rc == DISCO_OK)
            rc = disco_ts_batch_add(&b, idx, now, fig[i].value);
    }
    if (rc == DISCO_OK)
        rc = disco_tsdb_write(db, &b, &res, st);
    if (rc == DISCO_OK)
        disco__http_metrics_tsdb_written(srv->metrics, "monitor", (double)res.written);
    disco_ts_batch_release(&b);
    json_decref(tags);
    return rc;
}

/* ---- alert rules and checks ---------------------------------------------------- */

static int has_rule(disco_catalog *cat, const char *metric, disco_status *st)
{
    json_t *tags = json_pack("{s:s}", "metric", metric);
    disco_resource_filter f = {.type = "alert_rule", .tags = tags, .limit = 1};
    disco_resource_list l = {0};
    int rc = disco_catalog_list(cat, &f, &l, st);

    if (rc == DISCO_OK)
        rc = l.count > 0;
    disco_resource_list_release(&l);
    json_decref(tags);
    return rc;
}

/* Adds the server's own rules where none watches their metrics; DISCO_OK when done. */
static int ensure_rules(disco_catalog *cat, const char *owner, disco_status *st)
{
    json_t *rules[2] = {
        json_pack("{s:s, s:s, s:I, s:f, s:s}", "metric", "server.latency_p95_ms", "kind", "anomaly",
                  "window_ms", (json_int_t)3600000, "threshold", 6.0, "note",
                  "added by disco serve"),
        json_pack("{s:s, s:s, s:s, s:f, s:I, s:s}", "metric", "server.errors", "kind", "threshold",
                  "op", ">", "value", 0.0, "window_ms", (json_int_t)600000, "note",
                  "added by disco serve"),
    };
    int rc = DISCO_OK;

    for (int i = 0; i < 2 && rc == DISCO_OK; i++) {
        const char *metric = json_string_value(json_object_get(rules[i], "metric"));
        int have = rules[i] ? has_rule(cat, metric, st) : DISCO_ERR_NOMEM;
        if (have < 0)
            rc = have;
        else if (have == 0)
            rc = disco_monitor_add_rule(cat, rules[i], owner, NULL, st);
    }
    json_decref(rules[0]);
    json_decref(rules[1]);
    return rc;
}

static void check_alerts(http_monitor *mon, disco_tsdb *db, int64_t now)
{
    const char *owner = mon->srv->cfg.user;
    disco_status st = {0};
    disco_catalog *cat;
    json_t *report = NULL, *a;
    size_t i;
    int rc = DISCO_OK;

    if (!mon->ctx)
        rc = disco_ctx_new(&mon->srv->cfg, &mon->ctx, &st);
    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(mon->ctx, &cat, &st);
    if (rc == DISCO_OK && !mon->rules_ready && (rc = ensure_rules(cat, owner, &st)) == DISCO_OK)
        mon->rules_ready = 1;
    if (rc == DISCO_OK)
        rc = disco_monitor_check(cat, db, now, owner, &report, &st);
    if (rc != DISCO_OK) {
        DISCO_LOG_WARN("monitor: alert check failed: %s", disco_status_message(&st));
        return;
    }
    json_array_foreach (json_object_get(report, "raised"), i, a)
        DISCO_LOG_WARN("monitor: alert: %s", json_string_value(json_object_get(a, "message")));
    json_decref(report);
}

static void tick(http_monitor *mon)
{
    disco_tsdb *db = disco__http_tsdb(mon->srv);
    int64_t now = disco_time_now_ms();
    disco_status st = {0};
    uint64_t requests, errors;
    double p95;

    if (!db) { /* nothing to write into yet: start the next window afresh */
        disco__http_metrics_window(mon->srv->metrics, &requests, &errors, &p95);
        return;
    }
    if (write_figures(mon, db, now, &st) != DISCO_OK) {
        DISCO_LOG_WARN("monitor: cannot record the server's figures: %s",
                       disco_status_message(&st));
        return;
    }
    check_alerts(mon, db, now);
}

/* ---- the thread ----------------------------------------------------------------- */

static void *monitor_main(void *arg)
{
    http_monitor *mon = arg;
    struct timespec at;

    pthread_mutex_lock(&mon->mu);
    while (!mon->stop) {
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_sec += mon->srv->hc.monitor_interval_s;
        while (!mon->stop && pthread_cond_timedwait(&mon->cv, &mon->mu, &at) != ETIMEDOUT)
            ;
        if (mon->stop)
            break;
        pthread_mutex_unlock(&mon->mu);
        tick(mon);
        pthread_mutex_lock(&mon->mu);
    }
    pthread_mutex_unlock(&mon->mu);
    return NULL;
}

static void monitor_free(http_monitor *mon)
{
    pthread_cond_destroy(&mon->cv);
    pthread_mutex_destroy(&mon->mu);
    disco_ctx_free(mon->ctx);
    free(mon);
}

int disco__http_monitor_start(disco_http *srv, disco_status *st)
{
    http_monitor *mon = calloc(1, sizeof *mon);
    pthread_condattr_t ca;
    int ok;

    if (!mon)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    mon->srv = srv;
    ok = pthread_condattr_init(&ca) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&mon->cv, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (ok && pthread_mutex_init(&mon->mu, NULL) != 0) {
        pthread_cond_destroy(&mon->cv);
        ok = 0;
    }
    if (!ok) {
        free(mon);
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot make the monitor's locks");
    }
    if (pthread_create(&mon->th, NULL, monitor_main, mon) != 0) {
        monitor_free(mon);
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot start the monitor thread");
    }
    srv->mon = mon;
    return DISCO_OK;
}

void disco__http_monitor_stop(disco_http *srv)
{
    http_monitor *mon = srv->mon;

    if (!mon)
        return;
    pthread_mutex_lock(&mon->mu);
    mon->stop = 1;
    pthread_cond_signal(&mon->cv);
    pthread_mutex_unlock(&mon->mu);
    pthread_join(mon->th, NULL);
    monitor_free(mon);
    srv->mon = NULL;
}
