/*
 * metrics.c - GET /metrics, the server's Prometheus registry (metrics_prom.h):
 *
 *   disco_http_requests_total{route,method,status}   counter
 *   disco_http_request_duration_seconds{route}       histogram
 *   disco_http_watchers                              gauge: event streams and waits
 *   disco_jobs_queued, disco_jobs_running            gauges (jobs.h stats)
 *   disco_job_duration_seconds{op,state}             histogram of running time
 *   disco_job_queue_seconds{op}                      histogram of time in the queue
 *   disco_catalog_resources, disco_catalog_versions  gauges  \
 *   disco_objects, disco_objects_bytes               gauges   } read on scrape, at
 *   disco_tsdb_series, disco_tsdb_points,            gauges   } most every 5 s
 *   disco_tsdb_bytes                                         /
 *   disco_tsdb_points_written_total{source}          counter: "monitor" (the self-monitor's),
 *                                                    "api" (ts.write through the server)
 *
 * Routes are labelled by pattern ("/api/resources/{id}"), never by the raw
 * path, so the series stay few. The self-monitor also reads a window from
 * here: requests and 5xx answers since its last tick, and a reservoir
 * sample of their latencies for the 95th percentile (requests that wait on
 * purpose - event streams, Prefer: wait - are left out of it).
 */
#include "http_int.h"

#include "disco/metrics_prom.h"
#include "disco/timeutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_CACHE_MS 5000
#define RESERVOIR 1024

enum {
    S_RESOURCES,
    S_VERSIONS,
    S_OBJECTS,
    S_OBJECT_BYTES,
    S_TSDB_SERIES,
    S_TSDB_POINTS,
    S_TSDB_BYTES,
    S_COUNT
};

static const struct {
    const char *name, *help;
} store_gauges[S_COUNT] = {
    {"disco_catalog_resources", "live resources in the catalog"},
    {"disco_catalog_versions", "resource versions in the catalog"},
    {"disco_objects", "objects in the object store"},
    {"disco_objects_bytes", "bytes of the objects in the object store"},
    {"disco_tsdb_series", "series in the time-series store"},
    {"disco_tsdb_points", "points in the time-series store"},
    {"disco_tsdb_bytes", "bytes of the time-series store (chunk files and log)"},
};

typedef struct store_gauge {
    http_metrics *m;
    int which;
} store_gauge;

struct http_metrics {
    disco_http *srv;
    disco_prom *reg;
    disco_prom_metric *requests, *duration, *job_run, *job_queue, *tsdb_written;
    store_gauge gauges[S_COUNT];
    pthread_mutex_t store_mu;
    int64_t store_ms; /* monotonic ms of the last read; 0: never */
    double store[S_COUNT];
    int have[S_COUNT];
    pthread_mutex_t win_mu;
    uint64_t win_requests, win_errors, win_seen, rng;
    double win_ms[RESERVOIR];
};

static const double job_bounds[] = {0.01, 0.05, 0.1, 0.5, 1,   2.5,  5,   10,
                                    30,   60,   120, 300, 600, 1800, 3600};

/* ---- store sizes, read on scrape -------------------------------------------- */

static int count_object(void *user, const disco_object_info *info)
{
    double *acc = user;

    acc[0] += 1;
    acc[1] += (double)info->size;
    return 0;
}

static void read_catalog_and_objects(http_metrics *m, disco_ctx *ctx)
{
    disco_status st = {0};
    disco_catalog *cat;
    disco_objects *os;
    json_t *j = NULL;
    double acc[2] = {0, 0};

    if (disco_ctx_catalog(ctx, &cat, &st) == DISCO_OK &&
        disco_catalog_stats(cat, &j, &st) == DISCO_OK) {
        m->store[S_RESOURCES] = json_number_value(json_object_get(j, "resources"));
        m->store[S_VERSIONS] = json_number_value(json_object_get(j, "versions"));
        m->have[S_RESOURCES] = m->have[S_VERSIONS] = 1;
    }
    json_decref(j);
    if (disco_ctx_objects(ctx, &os, &st) == DISCO_OK &&
        disco_objects_foreach(os, count_object, acc, &st) == DISCO_OK) {
        m->store[S_OBJECTS] = acc[0];
        m->store[S_OBJECT_BYTES] = acc[1];
        m->have[S_OBJECTS] = m->have[S_OBJECT_BYTES] = 1;
    }
}

static void read_tsdb(http_metrics *m)
{
    disco_tsdb *db = disco__http_tsdb(m->srv);
    disco_status st = {0};
    json_t *j = NULL;

    if (db && disco_tsdb_stats(db, &j, &st) == DISCO_OK) {
        m->store[S_TSDB_SERIES] = json_number_value(json_object_get(j, "series"));
        m->store[S_TSDB_POINTS] = json_number_value(json_object_get(j, "points"));
        m->store[S_TSDB_BYTES] = json_number_value(json_object_get(j, "chunk_bytes")) +
                                 json_number_value(json_object_get(j, "wal_bytes"));
        m->have[S_TSDB_SERIES] = m->have[S_TSDB_POINTS] = m->have[S_TSDB_BYTES] = 1;
    }
    json_decref(j);
}

/* Reads the stores' sizes unless read within STORE_CACHE_MS; store_mu held. */
static void refresh_stores(http_metrics *m)
{
    int64_t now = (int64_t)(disco_time_mono_ns() / 1000000u);
    disco_status st = {0};
    disco_ctx *ctx;

    if (m->store_ms && now - m->store_ms < STORE_CACHE_MS)
        return;
    m->store_ms = now;
    memset(m->have, 0, sizeof m->have);
    if (disco_ctx_new(&m->srv->cfg, &ctx, &st) == DISCO_OK) {
        read_catalog_and_objects(m, ctx);
        disco_ctx_free(ctx);
    }
    read_tsdb(m);
}

static void store_gauge_fn(void *user, disco_prom_sink *sink)
{
    store_gauge *g = user;
    http_metrics *m = g->m;
    double v;
    int have;

    pthread_mutex_lock(&m->store_mu);
    refresh_stores(m);
    v = m->store[g->which];
    have = m->have[g->which];
    pthread_mutex_unlock(&m->store_mu);
    if (have)
        disco_prom_sink_put(sink, NULL, v);
}

/* ---- jobs and watchers ----------------------------------------------------------- */

static void jobs_queued_fn(void *user, disco_prom_sink *sink)
{
    disco_http *srv = user;
    disco_jobs_stats js = {0};

    if (srv->jobs) {
        disco_jobs_get_stats(srv->jobs, &js);
        disco_prom_sink_put(sink, NULL, (double)js.queued);
    }
}

static void jobs_running_fn(void *user, disco_prom_sink *sink)
{
    disco_http *srv = user;
    disco_jobs_stats js = {0};

    if (srv->jobs) {
        disco_jobs_get_stats(srv->jobs, &js);
        disco_prom_sink_put(sink, NULL, (double)js.running);
    }
}

static void watchers_fn(void *user, disco_prom_sink *sink)
{
    disco_http *srv = user;
    int n;

    pthread_mutex_lock(&srv->watch_mu);
    n = srv->watchers;
    pthread_mutex_unlock(&srv->watch_mu);
    disco_prom_sink_put(sink, NULL, n);
}

void disco__http_metrics_job_done(void *user, const char *op, disco_job_state state, double queue_s,
                                  double run_s)
{
    disco_http *srv = user;
    const char *run_labels[] = {op, disco_job_state_name(state)};
    const char *queue_labels[] = {op};

    if (!srv->metrics)
        return;
    if (run_s > 0 || state != DISCO_JOB_CANCELLED)
        disco_prom_histogram_observe(srv->metrics->job_run, run_labels, run_s, NULL);
    disco_prom_histogram_observe(srv->metrics->job_queue, queue_labels, queue_s, NULL);
}

/* ---- the registry ----------------------------------------------------------------- */

static int add_store_gauges(http_metrics *m, disco_status *st)
{
    int rc = DISCO_OK;

    for (int i = 0; rc == DISCO_OK && i < S_COUNT; i++) {
        m->gauges[i] = (store_gauge){m, i};
        rc = disco_prom_gauge_new(m->reg, store_gauges[i].name, store_gauges[i].help, NULL,
                                  store_gauge_fn, &m->gauges[i], NULL, st);
    }
    return rc;
}

static int register_all(http_metrics *m, disco_status *st)
{
    static const char *const req[] = {"route", "method", "status", NULL};
    static const char *const route[] = {"route", NULL}, *const op_state[] = {"op", "state", NULL};
    static const char *const op[] = {"op", NULL}, *const source[] = {"source", NULL};
    disco_http *srv = m->srv;
    int rc = disco_prom_counter_new(m->reg, "disco_http_requests_total", "HTTP requests answered",
                                    req, &m->requests, st);

    if (rc == DISCO_OK)
        rc = disco_prom_histogram_new(m->reg, "disco_http_request_duration_seconds",
                                      "time to answer HTTP requests", route, NULL, 0, &m->duration,
                                      st);
    if (rc == DISCO_OK)
        rc = disco_prom_gauge_new(m->reg, "disco_http_watchers",
                                  "event streams and Prefer: wait requests open", NULL, watchers_fn,
                                  srv, NULL, st);
    if (rc == DISCO_OK)
        rc = disco_prom_gauge_new(m->reg, "disco_jobs_queued", "jobs waiting for a worker", NULL,
                                  jobs_queued_fn, srv, NULL, st);
    if (rc == DISCO_OK)
        rc = disco_prom_gauge_new(m->reg, "disco_jobs_running", "jobs running", NULL,
                                  jobs_running_fn, srv, NULL, st);
    if (rc == DISCO_OK)
        rc = disco_prom_histogram_new(m->reg, "disco_job_duration_seconds",
                                      "running time of finished jobs", op_state, job_bounds,
                                      sizeof job_bounds / sizeof job_bounds[0], &m->job_run, st);
    if (rc == DISCO_OK)
        rc = disco_prom_histogram_new(m->reg, "disco_job_queue_seconds",
                                      "time jobs waited for a worker", op, job_bounds,
                                      sizeof job_bounds / sizeof job_bounds[0], &m->job_queue, st);
    if (rc == DISCO_OK)
        rc = add_store_gauges(m, st);
    if (rc == DISCO_OK)
        rc = disco_prom_counter_new(m->reg, "disco_tsdb_points_written_total",
                                    "points this server wrote to the time-series store", source,
                                    &m->tsdb_written, st);
    if (rc == DISCO_OK) /* shown from the start, so a rate over it has a first sample */
        rc = disco_prom_counter_add(m->tsdb_written, (const char *const[]){"api"}, 0, st);
    return rc;
}

int disco__http_metrics_new(disco_http *srv, http_metrics **out, disco_status *st)
{
    http_metrics *m = calloc(1, sizeof *m);
    int rc;

    *out = NULL;
    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    m->srv = srv;
    m->rng = 0x9e3779b97f4a7c15u;
    pthread_mutex_init(&m->store_mu, NULL);
    pthread_mutex_init(&m->win_mu, NULL);
    rc = disco_prom_new(&m->reg, st);
    if (rc == DISCO_OK)
        rc = register_all(m, st);
    if (rc != DISCO_OK) {
        disco__http_metrics_free(m);
        return rc;
    }
    *out = m;
    return DISCO_OK;
}

void disco__http_metrics_free(http_metrics *m)
{
    if (!m)
        return;
    disco_prom_free(m->reg);
    pthread_mutex_destroy(&m->store_mu);
    pthread_mutex_destroy(&m->win_mu);
    free(m);
}

/* ---- requests and the self-monitor's window ------------------------------------------ */

/* Keeps a uniform sample of the window's latencies (reservoir sampling); win_mu held. */
static void sample_latency(http_metrics *m, double ms)
{
    uint64_t j;

    if (m->win_seen < RESERVOIR) {
        m->win_ms[m->win_seen++] = ms;
        return;
    }
    m->rng ^= m->rng << 13; /* xorshift64 */
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    j = m->rng % ++m->win_seen;
    if (j < RESERVOIR)
        m->win_ms[j] = ms;
}

void disco__http_metrics_observe(disco_http *srv, const http_req *rq, double seconds)
{
    http_metrics *m = srv->metrics;
    char route[160], status[16];
    const char *req[3], *rt[1];

    if (!m)
        return;
    disco__http_route_pattern(&rq->rt, route, sizeof route);
    snprintf(status, sizeof status, "%u", rq->status);
    req[0] = route;
    req[1] = disco__http_method_name(rq->method);
    req[2] = status;
    rt[0] = route;
    disco_prom_counter_inc(m->requests, req);
    disco_prom_histogram_observe(m->duration, rt, seconds, NULL);
    pthread_mutex_lock(&m->win_mu);
    m->win_requests++;
    m->win_errors += rq->status >= 500;
    if (!rq->slow)
        sample_latency(m, seconds * 1e3);
    pthread_mutex_unlock(&m->win_mu);
}

void disco__http_metrics_tsdb_written(http_metrics *m, const char *source, double n)
{
    const char *v[] = {source};

    if (m)
        disco_prom_counter_add(m->tsdb_written, v, n, NULL);
}

void disco__http_metrics_op_result(void *user, const char *op, const json_t *result)
{
    disco_http *srv = user;
    json_t *n = json_object_get(result, "written");

    if (strcmp(op, "ts.write") == 0 && json_is_integer(n) && json_integer_value(n) > 0)
        disco__http_metrics_tsdb_written(srv->metrics, "api", (double)json_integer_value(n));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void disco__http_metrics_window(http_metrics *m, uint64_t *requests, uint64_t *errors,
                                double *p95_ms)
{
    double ms[RESERVOIR];
    size_t n;

    pthread_mutex_lock(&m->win_mu);
    *requests = m->win_requests;
    *errors = m->win_errors;
    n = m->win_seen < RESERVOIR ? (size_t)m->win_seen : RESERVOIR;
    memcpy(ms, m->win_ms, n * sizeof ms[0]);
    m->win_requests = m->win_errors = m->win_seen = 0;
    pthread_mutex_unlock(&m->win_mu);
    qsort(ms, n, sizeof ms[0], cmp_double);
    *p95_ms = n ? ms[(size_t)ceil(0.95 * (double)n) - 1] : NAN;
}

void disco__http_metrics_page(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    char *text = NULL;
    size_t len = 0;
    int rc = disco_prom_write(rq->srv->metrics->reg, &text, &len, &st);

    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return;
    }
    r->raw = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r->raw) {
        free(text);
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    r->status = MHD_HTTP_OK;
    snprintf(r->content_type, sizeof r->content_type, "%s", DISCO_PROM_CONTENT_TYPE);
}
