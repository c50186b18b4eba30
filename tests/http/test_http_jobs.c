/*
 * test_http_jobs.c - what runs beside the requests of the HTTP server:
 * long ops as jobs (202, Location, the record, Prefer: wait), their
 * server-sent events (live, resumed with Last-Event-ID), cancelling
 * (queued 200, running 202, finished 409), who sees which job, the rate
 * limit (429 + Retry-After, per principal), /metrics (route patterns, jobs,
 * store sizes), concurrent ts ops on the shared tsdb, and the
 * self-monitor (server.* series, its alert rules, GET /api/monitor/alerts).
 *
 * The slow job is object.verify over one 4 MiB object named many times: it
 * reports progress after each, so it can be cancelled while it runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/apitoken.h"
#include "disco/hash.h"
#include "disco/http.h"
#include "support/httpc.h"
#include "support/testutil.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OBJ_SIZE (4 << 20)
#define SLOW_COPIES 900 /* the slow job verifies the object this many times */

static struct {
    char *dir;
    disco_config cfg;
    disco_http *srv;
    int port;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *slow_body; /* {"hashes": [hash x SLOW_COPIES]} */
} g;

/* ---- helpers ------------------------------------------------------------------- */

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One request on `port`; the status, the parsed body (NULL if not JSON), a header. */
static int call_on(int port, const char *method, const char *path, const char *headers,
                   const char *body, json_t **out, const char *hname, char *hval, size_t hsize)
{
    tu_http_resp r;
    int status;

    assert_int_equal(tu_http(port, method, path, headers, body, body ? strlen(body) : 0, &r), 0);
    status = r.status;
    if (out)
        *out = json_loadb(r.body, r.body_len, 0, NULL);
    if (hname && !tu_http_header(&r, hname, hval, hsize))
        hval[0] = '\0';
    tu_http_resp_release(&r);
    return status;
}

static int call(const char *method, const char *path, const char *body, json_t **out)
{
    return call_on(g.port, method, path, NULL, body, out, NULL, NULL, 0);
}

/* POSTs a long op; asserts the 202 and its Location; writes the job id. */
static void submit(const char *op_path, const char *body, char id[DISCO_ID_LEN + 1])
{
    char loc[128], want[128];
    json_t *j;

    assert_int_equal(call_on(g.port, "POST", op_path, NULL, body, &j, "Location", loc, sizeof loc),
                     202);
    snprintf(id, DISCO_ID_LEN + 1, "%s", json_string_value(json_object_get(j, "job")));
    assert_int_equal(strlen(id), DISCO_ID_LEN);
    snprintf(want, sizeof want, "/api/jobs/%s", id);
    assert_string_equal(loc, want);
    assert_string_equal(json_string_value(json_object_get(j, "status_url")), want);
    snprintf(want, sizeof want, "/api/jobs/%s/events", id);
    assert_string_equal(json_string_value(json_object_get(j, "events_url")), want);
    json_decref(j);
}

static int is_final(const char *state)
{
    return state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
                     strcmp(state, "cancelled") == 0);
}

/* Polls the job until it is final (30 s at most); its record. */
static json_t *wait_final(int port, const char *id, const char *auth)
{
    char path[96];
    json_t *j = NULL;

    snprintf(path, sizeof path, "/api/jobs/%s", id);
    for (int i = 0; i < 3000; i++) {
        json_decref(j);
        assert_int_equal(call_on(port, "GET", path, auth, NULL, &j, NULL, NULL, 0), 200);
        if (is_final(json_string_value(json_object_get(j, "state"))))
            return j;
        nap_ms(10);
    }
    fail_msg("job %s did not finish", id);
    return NULL;
}

static const char *state_of(const json_t *rec)
{
    return json_string_value(json_object_get(rec, "state"));
}

/* ---- fixture ------------------------------------------------------------------- */

static int start_server(void **state)
{
    disco_http_config hc = disco_http_config_default();
    disco_status st = {0};
    unsigned char *data = malloc(OBJ_SIZE);
    tu_http_resp r;
    size_t used;

    (void)state;
    g.dir = tu_tmpdir("httpjobs");
    g.cfg = disco_config_default();
    snprintf(g.cfg.data_dir, sizeof g.cfg.data_dir, "%s/data", g.dir);
    hc.port = 0;
    hc.threads = 4;
    hc.max_long_ops = 1; /* one worker: a second job waits behind a slow one */
    hc.monitor_interval_s = 1;
    hc.max_upload = 16 << 20;
    if (disco_http_start(&g.cfg, &hc, &g.srv, &st) != DISCO_OK) {
        fprintf(stderr, "start: %s\n", st.msg);
        return -1;
    }
    g.port = disco_http_port(g.srv);
    for (size_t i = 0; i < OBJ_SIZE; i++)
        data[i] = (unsigned char)(i * 31 + i / 4099);
    disco_sha256_hex(data, OBJ_SIZE, g.hash);
    if (tu_http(g.port, "PUT", "/api/objects", NULL, data, OBJ_SIZE, &r) != 0 || r.status != 201)
        return -1;
    tu_http_resp_release(&r);
    free(data);
    g.slow_body = malloc(SLOW_COPIES * 70 + 32);
    used = (size_t)sprintf(g.slow_body, "{\"hashes\": [");
    for (int i = 0; i < SLOW_COPIES; i++)
        used += (size_t)sprintf(g.slow_body + used, "%s\"%s\"", i ? "," : "", g.hash);
    sprintf(g.slow_body + used, "]}");
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    disco_http_stop(g.srv);
    tu_rmrf(g.dir);
    free(g.dir);
    free(g.slow_body);
    return 0;
}

/* ---- jobs ---------------------------------------------------------------------- */

static void test_job_runs_to_its_result(void **state)
{
    char id[DISCO_ID_LEN + 1], body[128];
    json_t *j, *items, *rec;
    size_t i;
    int found = 0;

    (void)state;
    snprintf(body, sizeof body, "{\"hashes\": [\"%s\"]}", g.hash);
    submit("/api/object/verify", body, id);
    j = wait_final(g.port, id, NULL);
    assert_string_equal(state_of(j), "succeeded");
    assert_string_equal(json_string_value(json_object_get(j, "op")), "object.verify");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "result"), "checked")),
                     1);
    json_decref(j);
    assert_int_equal(call("GET", "/api/jobs", NULL, &j), 200);
    items = json_object_get(j, "items");
    json_array_foreach (items, i, rec)
        found |= strcmp(json_string_value(json_object_get(rec, "id")), id) == 0;
    assert_true(found);
    json_decref(j);
    /* Validation happens before queueing: a bad request is still a 400 at once. */
    assert_int_equal(call("POST", "/api/object/verify", "{\"hashes\": [\"xyz\"]}", &j), 400);
    json_decref(j);
    assert_int_equal(call("GET", "/api/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, &j), 404);
    json_decref(j);
}

static void test_prefer_wait(void **state)
{
    char body[256], applied[32];
    json_t *j;

    (void)state;
    snprintf(body, sizeof body, "{\"hashes\": [\"%s\", \"%s\"]}", g.hash, g.hash);
    assert_int_equal(call_on(g.port, "POST", "/api/object/verify", "Prefer: wait=20\r\n", body, &j,
                             "Preference-Applied", applied, sizeof applied),
                     200);
    assert_string_equal(applied, "wait");
    assert_int_equal(json_integer_value(json_object_get(j, "checked")), 2);
    json_decref(j);
    /* A job that fails answers with the op's own error (a missing object: CORRUPT). */
    snprintf(body, sizeof body, "{\"hashes\": [\"%064d\"]}", 0);
    assert_int_equal(call_on(g.port, "POST", "/api/object/verify", "Prefer: wait=20\r\n", body, &j,
                             NULL, NULL, 0),
                     500);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "CORRUPT");
    json_decref(j);
    /* Not done within the wait: the 202. */
    assert_int_equal(call_on(g.port, "POST", "/api/object/verify", "Prefer: wait=1\r\n",
                             g.slow_body, &j, NULL, NULL, 0),
                     202);
    snprintf(body, sizeof body, "/api/jobs/%s", json_string_value(json_object_get(j, "job")));
    json_decref(j);
    assert_int_equal(call("DELETE", body, NULL, &j), 202);
    json_decref(j);
    json_decref(wait_final(g.port, strrchr(body, '/') + 1, NULL));
}

/* Reads a whole event stream on its own thread. */
typedef struct stream_reader {
    pthread_t th;
    char path[96];
    char headers[64];
    tu_http_resp r;
    int rc;
} stream_reader;

static void *read_stream(void *arg)
{
    stream_reader *s = arg;

    s->rc = tu_http(g.port, "GET", s->path, s->headers[0] ? s->headers : NULL, NULL, 0, &s->r);
    return NULL;
}

static void test_events(void **state)
{
    char slow[DISCO_ID_LEN + 1], type[64];
    stream_reader s = {0};
    json_t *j;

    (void)state;
    submit("/api/object/verify", g.slow_body, slow);
    snprintf(s.path, sizeof s.path, "/api/jobs/%s/events", slow);
    assert_int_equal(pthread_create(&s.th, NULL, read_stream, &s), 0);
    nap_ms(300); /* progress flows meanwhile */
    snprintf(type, sizeof type, "/api/jobs/%s", slow);
    assert_int_equal(call("DELETE", type, NULL, &j), 202);
    json_decref(j);
    pthread_join(s.th, NULL); /* the stream ends after the final state */
    assert_int_equal(s.rc, 0);
    assert_int_equal(s.r.status, 200);
    assert_string_equal(tu_http_header(&s.r, "Content-Type", type, sizeof type),
                        "text/event-stream");
    assert_non_null(strstr(s.r.body, "id: 1\nevent: state\ndata: {"));
    assert_non_null(strstr(s.r.body, "event: progress\ndata: {"));
    assert_non_null(strstr(s.r.body, "\"state\":\"running\""));
    assert_non_null(strstr(s.r.body, "\"state\":\"cancelled\""));
    tu_http_resp_release(&s.r);

    /* Resumed after event 1: the rest, and event 1 not again. */
    snprintf(s.headers, sizeof s.headers, "Last-Event-ID: 1\r\n");
    read_stream(&s);
    assert_int_equal(s.r.status, 200);
    assert_null(strstr(s.r.body, "id: 1\n"));
    assert_non_null(strstr(s.r.body, "id: 2\n"));
    assert_non_null(strstr(s.r.body, "\"state\":\"cancelled\""));
    tu_http_resp_release(&s.r);
    snprintf(s.headers, sizeof s.headers, "Last-Event-ID: x\r\n");
    read_stream(&s);
    assert_int_equal(s.r.status, 400);
    tu_http_resp_release(&s.r);
}

static void test_cancel(void **state)
{
    char slow[DISCO_ID_LEN + 1], queued[DISCO_ID_LEN + 1], path[96], body[128];
    json_t *j;

    (void)state;
    snprintf(body, sizeof body, "{\"hashes\": [\"%s\"]}", g.hash);
    submit("/api/object/verify", g.slow_body, slow);
    submit("/api/object/verify", body, queued); /* waits: one worker, busy */
    snprintf(path, sizeof path, "/api/jobs/%s", queued);
    assert_int_equal(call("DELETE", path, NULL, &j), 200);
    assert_string_equal(state_of(j), "cancelled");
    json_decref(j);
    assert_int_equal(call("DELETE", path, NULL, &j), 409); /* already final */
    json_decref(j);
    snprintf(path, sizeof path, "/api/jobs/%s", slow);
    assert_int_equal(call("DELETE", path, NULL, &j), 202);
    assert_true(json_is_true(json_object_get(j, "cancel_requested")));
    json_decref(j);
    j = wait_final(g.port, slow, NULL);
    assert_string_equal(state_of(j), "cancelled");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "code")),
                        "CANCELLED");
    json_decref(j);
    assert_int_equal(call("DELETE", path, NULL, &j), 409);
    json_decref(j);
}

/* ---- who sees what, and how often ------------------------------------------------ */

static int fake_auth(void *user, const char *bearer, char *principal, size_t n, int *role,
                     disco_status *st)
{
    (void)user;
    if (strcmp(bearer, "rita-secret") == 0 || strcmp(bearer, "walt-secret") == 0) {
        snprintf(principal, n, "%s", bearer[0] == 'r' ? "rita" : "walt");
        *role = bearer[0] == 'r' ? DISCO_ROLE_READER : DISCO_ROLE_WRITER;
        return DISCO_OK;
    }
    return disco_status_set(st, DISCO_ERR_PERM, "token", "unknown or revoked token");
}

#define RITA "Authorization: Bearer rita-secret\r\n"
#define WALT "Authorization: Bearer walt-secret\r\n"

static disco_http *start_with(double rate, double burst, int *port)
{
    disco_http_config hc = disco_http_config_default();
    disco_status st = {0};
    disco_http *srv;

    hc.port = 0;
    hc.threads = 2;
    hc.authenticate = fake_auth;
    hc.rate = rate;
    hc.burst = burst;
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_OK);
    *port = disco_http_port(srv);
    return srv;
}

static void test_job_visibility(void **state)
{
    char id[DISCO_ID_LEN + 1], path[96], body[128];
    int port;
    disco_http *srv = start_with(0, 0, &port);
    json_t *j;

    (void)state;
    snprintf(body, sizeof body, "{\"hashes\": [\"%s\"]}", g.hash);
    assert_int_equal(call_on(port, "POST", "/api/object/verify", RITA, body, &j, NULL, NULL, 0),
                     202);
    snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "job")));
    json_decref(j);
    json_decref(wait_final(port, id, RITA));
    snprintf(path, sizeof path, "/api/jobs/%s", id);
    assert_int_equal(call_on(port, "GET", path, WALT, NULL, &j, NULL, NULL, 0), 404);
    json_decref(j);
    assert_int_equal(call_on(port, "DELETE", path, WALT, NULL, &j, NULL, NULL, 0), 404);
    json_decref(j);
    snprintf(path, sizeof path, "/api/jobs/%s/events", id);
    assert_int_equal(call_on(port, "GET", path, WALT, NULL, &j, NULL, NULL, 0), 404);
    json_decref(j);
    assert_int_equal(call_on(port, "GET", "/api/jobs", WALT, NULL, &j, NULL, NULL, 0), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
    json_decref(j);
    assert_int_equal(call_on(port, "GET", "/api/jobs", RITA, NULL, &j, NULL, NULL, 0), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
    json_decref(j);
    assert_int_equal(call_on(port, "GET", "/api/jobs", NULL, NULL, &j, NULL, NULL, 0), 401);
    json_decref(j);
    /* A reader may not start a writing job; /metrics is open to loopback clients. */
    assert_int_equal(call_on(port, "POST", "/api/monitor/check", RITA, "{}", &j, NULL, NULL, 0),
                     403);
    json_decref(j);
    assert_int_equal(call_on(port, "GET", "/metrics", NULL, NULL, NULL, NULL, NULL, 0), 200);
    disco_http_stop(srv);
}

static void test_rate_limit(void **state)
{
    char retry[16];
    int port, i;
    disco_http *srv = start_with(1, 3, &port);

    (void)state;
    for (i = 0; i < 3; i++)
        assert_int_equal(call_on(port, "POST", "/api/version", RITA, NULL, NULL, NULL, NULL, 0),
                         200);
    assert_int_equal(
        call_on(port, "POST", "/api/version", RITA, NULL, NULL, "Retry-After", retry, sizeof retry),
        429);
    assert_true(atoi(retry) >= 1);
    /* Another principal has a bucket of its own; health checks are never limited. */
    assert_int_equal(call_on(port, "POST", "/api/version", WALT, NULL, NULL, NULL, NULL, 0), 200);
    for (i = 0; i < 5; i++)
        assert_int_equal(call_on(port, "GET", "/healthz", NULL, NULL, NULL, NULL, NULL, 0), 200);
    nap_ms(1100); /* one more token */
    assert_int_equal(call_on(port, "POST", "/api/version", RITA, NULL, NULL, NULL, NULL, 0), 200);
    disco_http_stop(srv);
}

/* ---- metrics, the shared tsdb, self-monitoring ---------------------------------------- */

static void test_metrics(void **state)
{
    char type[80];
    tu_http_resp r;
    json_t *j;

    (void)state;
    assert_int_equal(call("GET", "/api/resources/01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, &j), 404);
    json_decref(j);
    assert_int_equal(call("GET", "/healthz", NULL, &j), 200);
    json_decref(j);
    assert_int_equal(tu_http(g.port, "GET", "/metrics", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(tu_http_header(&r, "Content-Type", type, sizeof type),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(r.body, "disco_http_requests_total{route=\"/api/resources/{id}\","
                                   "method=\"GET\",status=\"404\"} 1\n"));
    assert_null(strstr(r.body, "01ARZ3NDEKTSV4RRFFQ69G5FAV")); /* patterns, not paths */
    assert_non_null(strstr(
        r.body, "disco_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "disco_jobs_queued "));
    assert_non_null(strstr(r.body, "disco_jobs_running "));
    assert_non_null(strstr(
        r.body, "disco_job_duration_seconds_count{op=\"object.verify\",state=\"succeeded\"}"));
    assert_non_null(strstr(r.body, "disco_catalog_resources "));
    assert_non_null(strstr(r.body, "disco_objects_bytes "));
    assert_non_null(strstr(r.body, "disco_tsdb_points "));
    tu_http_resp_release(&r);
}

typedef struct ts_worker {
    pthread_t th;
    int ok;
} ts_worker;

static void *ts_worker_main(void *arg)
{
    ts_worker *w = arg;
    tu_http_resp r;

    for (int i = 0; i < 6; i++) {
        const char *path = i % 2 ? "/api/ts/stats" : "/api/ts/list";
        if (tu_http(g.port, "POST", path, NULL, "{}", 2, &r) == 0 && r.status == 200)
            w->ok++;
        tu_http_resp_release(&r);
    }
    return NULL;
}

/* The tsdb takes one handle per folder: requests at once share the server's. */
static void test_concurrent_ts(void **state)
{
    ts_worker w[8] = {0};
    int ok = 0;

    (void)state;
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&w[i].th, NULL, ts_worker_main, &w[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(w[i].th, NULL);
        ok += w[i].ok;
    }
    assert_int_equal(ok, 8 * 6);
}

/* Metric `name` is listed by ts.list (as JSON text). */
static int ts_has(const char *name)
{
    char needle[96];
    tu_http_resp r;
    int found;

    assert_int_equal(tu_http(g.port, "POST", "/api/ts/list", NULL, "{}", 2, &r), 0);
    snprintf(needle, sizeof needle, "\"%s\"", name);
    found = r.status == 200 && strstr(r.body, needle) != NULL;
    tu_http_resp_release(&r);
    return found;
}

static void test_self_monitoring(void **state)
{
    char *rules;
    json_t *j;
    int i;

    (void)state;
    for (i = 0; i < 100 && !(ts_has("server.requests") && ts_has("server.latency_p95_ms")); i++)
        nap_ms(100);
    assert_true(ts_has("server.requests"));
    assert_true(ts_has("server.jobs_queued"));
    assert_true(ts_has("server.latency_p95_ms"));
    assert_int_equal(call("POST", "/api/monitor/rules", "{}", &j), 200);
    rules = json_dumps(j, 0);
    assert_non_null(strstr(rules, "server.latency_p95_ms"));
    assert_non_null(strstr(rules, "server.errors"));
    free(rules);
    json_decref(j);
    assert_int_equal(call("GET", "/api/monitor/alerts?limit=5", NULL, &j), 200);
    assert_true(json_is_array(json_object_get(j, "items")));
    json_decref(j);
    assert_int_equal(call("GET", "/api/monitor/alerts?limit=zero", NULL, &j), 400);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_runs_to_its_result),
        cmocka_unit_test(test_prefer_wait),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_job_visibility),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_concurrent_ts),
        cmocka_unit_test(test_self_monitoring),
    };
    return cmocka_run_group_tests_name("http_jobs", tests, start_server, stop_server);
}
