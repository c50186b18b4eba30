/*
 * test_http.c - the HTTP server on loopback, driven by a tiny blocking
 * client (support/httpc.h): op round trips, the error shape and statuses,
 * routes and methods, refused server paths, object upload and download
 * (Range, ETag, 304), limits, PATCH, concurrency, clients that vanish mid
 * upload, tokens through the authentication hook, and the listening rules.
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

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)
#define MAX_UPLOAD (1024 * 1024)

static struct {
    char *dir;
    disco_config cfg;
    disco_http *srv;
    int port;
} g;

/* ---- fixture ------------------------------------------------------------------- */

static int start_server(void **state)
{
    disco_http_config hc = disco_http_config_default();
    disco_status st = {0};
    char *ui;

    (void)state;
    g.dir = tu_tmpdir("http");
    g.cfg = disco_config_default();
    snprintf(g.cfg.data_dir, sizeof g.cfg.data_dir, "%s/data", g.dir);
    ui = tu_path(g.dir, "ui");
    mkdir(ui, 0755);
    snprintf(hc.static_dir, sizeof hc.static_dir, "%s", ui);
    free(ui);
    ui = tu_path(g.dir, "ui/index.html");
    tu_write_file(ui, "<p>hello ui</p>\n", 16);
    free(ui);
    hc.port = 0;
    hc.threads = 4;
    hc.max_body = MAX_BODY;
    hc.max_upload = MAX_UPLOAD;
    if (disco_http_start(&g.cfg, &hc, &g.srv, &st) != DISCO_OK) {
        fprintf(stderr, "start: %s\n", st.msg);
        return -1;
    }
    g.port = disco_http_port(g.srv);
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    disco_http_stop(g.srv);
    tu_rmrf(g.dir);
    free(g.dir);
    return 0;
}

/* ---- helpers ------------------------------------------------------------------- */

/* One request; returns the status and the parsed JSON body (NULL if not JSON). */
static int call(const char *method, const char *path, const char *headers, const char *body,
                json_t **out)
{
    tu_http_resp r;
    int status;

    assert_int_equal(tu_http(g.port, method, path, headers, body, body ? strlen(body) : 0, &r), 0);
    status = r.status;
    *out = json_loadb(r.body, r.body_len, 0, NULL);
    tu_http_resp_release(&r);
    return status;
}

/* Asserts an error reply: the status, the code and the field (NULL: none). */
static json_t *expect_error(const char *method, const char *path, const char *body, int status,
                            const char *code, const char *field)
{
    json_t *j, *err;

    assert_int_equal(call(method, path, NULL, body, &j), status);
    assert_non_null(j);
    err = json_object_get(j, "error");
    assert_true(json_is_object(err));
    assert_string_equal(json_string_value(json_object_get(err, "code")), code);
    assert_true(json_is_string(json_object_get(err, "message")));
    if (field)
        assert_string_equal(json_string_value(json_object_get(err, "field")), field);
    return j;
}

static void create_resource(char id[DISCO_ID_LEN + 1])
{
    json_t *j;

    assert_int_equal(call("POST", "/api/resource/create", NULL,
                          "{\"type\": \"audio\", \"tags\": {\"genre\": \"jazz\"}}", &j),
                     200);
    snprintf(id, DISCO_ID_LEN + 1, "%s", json_string_value(json_object_get(j, "resource_id")));
    assert_int_equal(strlen(id), DISCO_ID_LEN);
    json_decref(j);
}

/* Raw exchange: `text` as given, then the whole response. */
static void raw_exchange(const char *text, size_t len, tu_http_resp *r)
{
    int fd = tu_http_connect(g.port);

    assert_true(fd >= 0);
    assert_int_equal(tu_http_write(fd, text, len), 0);
    shutdown(fd, SHUT_WR);
    assert_int_equal(tu_http_read(fd, r), 0);
}

/* ---- ops ------------------------------------------------------------------------- */

static void test_health(void **state)
{
    json_t *j;

    (void)state;
    assert_int_equal(call("GET", "/healthz", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    assert_int_equal(call("GET", "/readyz", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ready");
    json_decref(j);
}

static void test_op_round_trip(void **state)
{
    char id[DISCO_ID_LEN + 1], path[128], etag[64];
    tu_http_resp r;
    json_t *j;

    (void)state;
    create_resource(id);
    snprintf(path, sizeof path, "/api/resources/%s", id);
    assert_int_equal(tu_http(g.port, "GET", path, NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(tu_http_header(&r, "ETag", etag, sizeof etag));
    assert_string_equal(etag, "\"v1\"");
    j = json_loadb(r.body, r.body_len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "resource_id")), id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "tags"), "genre")),
                        "jazz");
    json_decref(j);
    tu_http_resp_release(&r);
    /* The same op by its table route, with the id in the body. */
    snprintf(path, sizeof path, "{\"id\": \"%s\", \"version\": 1}", id);
    assert_int_equal(call("POST", "/api/resource/get", NULL, path, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);
    /* One-word ops are /api/<op>. */
    assert_int_equal(call("POST", "/api/version", NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "disco");
    json_decref(j);
}

static void test_validation_errors(void **state)
{
    json_t *j;

    (void)state;
    j = expect_error("POST", "/api/resource/list", "{\"limit\": \"ten\"}", 400, "INVAL", "limit");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                        "param 'limit': must be an integer in 1..10000, got \"ten\"");
    json_decref(j);
    json_decref(
        expect_error("POST", "/api/resource/list", "{\"colour\": 1}", 400, "INVAL", "colour"));
    json_decref(expect_error("POST", "/api/resource/create", "{}", 400, "INVAL", "type"));
    json_decref(
        expect_error("POST", "/api/resource/get", "{\"id\": \"nope\"}", 400, "INVAL", "id"));
    json_decref(expect_error("POST", "/api/resource/list", "[1, 2]", 400, "INVAL", NULL));
    json_decref(expect_error("POST", "/api/resource/list", "{\"limit\": ", 400, "INVAL", NULL));
    json_decref(expect_error("GET", "/api/resources?limit=ten", NULL, 400, "INVAL", "limit"));
    json_decref(expect_error("POST", "/api/resource/list?limit=5", "{}", 400, "INVAL", NULL));
    /* Well-formed but unknown: 404, never 5xx. */
    json_decref(expect_error("GET", "/api/resources/01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, 404,
                             "NOTFOUND", NULL));
    /* The aliases reach their ops. */
    j = expect_error("POST", "/api/search/similar", "{}", 400, "INVAL", NULL);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(j, "error"), "message")), "vec.search"));
    json_decref(j);
    j = expect_error("POST", "/api/analyze/time-series", "{}", 400, "INVAL", NULL);
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(j, "error"), "message")), "ts.analyze"));
    json_decref(j);
}

static void test_routes_and_methods(void **state)
{
    tu_http_resp r;
    char allow[128];

    (void)state;
    json_decref(expect_error("POST", "/api/nope/nope", "{}", 404, "NOTFOUND", NULL));
    json_decref(expect_error("POST", "/api/resource.create", "{}", 404, "NOTFOUND", NULL));
    json_decref(expect_error("GET", "/nothing/here", NULL, 404, "NOTFOUND", NULL));
    json_decref(expect_error("GET", "/api/resources/X/extra", NULL, 404, "NOTFOUND", NULL));
    assert_int_equal(tu_http(g.port, "GET", "/api/version", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 405);
    assert_non_null(tu_http_header(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "POST, OPTIONS");
    assert_non_null(strstr(r.body, "\"code\":\"USAGE\""));
    tu_http_resp_release(&r);
    assert_int_equal(tu_http(g.port, "DELETE", "/healthz", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 405);
    assert_non_null(tu_http_header(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "GET, HEAD, OPTIONS");
    tu_http_resp_release(&r);
    assert_int_equal(tu_http(g.port, "OPTIONS", "/api/objects", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 204);
    assert_non_null(tu_http_header(&r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "PUT, OPTIONS");
    tu_http_resp_release(&r);
    assert_int_equal(tu_http(g.port, "POST", "/api/version",
                             "Content-Type: multipart/form-data; boundary=x\r\n", "--x--", 5, &r),
                     0);
    assert_int_equal(r.status, 415);
    tu_http_resp_release(&r);
}

static void test_server_paths_refused(void **state)
{
    json_t *j;

    (void)state;
    j = expect_error("POST", "/api/resource/create",
                     "{\"type\": \"audio\", \"file\": \"/etc/passwd\"}", 400, "INVAL", "file");
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
               "PUT /api/objects"));
    json_decref(j);
    json_decref(expect_error("POST", "/api/resource/create",
                             "{\"type\": \"audio\", \"metadata\": \"@/etc/passwd\"}", 400, "INVAL",
                             "metadata"));
    json_decref(expect_error("POST", "/api/object/get",
                             "{\"hash\": \"00\", \"output\": \"/tmp/x\"}", 400, "INVAL", "output"));
    /* "A file or the id of a resource": over HTTP only the id. */
    json_decref(expect_error("POST", "/api/audio/analyze", "{\"input\": \"/etc/passwd\"}", 400,
                             "INVAL", "input"));
    json_decref(
        expect_error("POST", "/api/audio/master",
                     "{\"input\": \"01ARZ3NDEKTSV4RRFFQ69G5FAV\", \"reference\": \"ref.wav\"}", 400,
                     "INVAL", "reference"));
    json_decref(expect_error("POST", "/api/music/sample", "{\"model\": \"/etc/shadow\"}", 400,
                             "INVAL", "model"));
}

/* ---- objects --------------------------------------------------------------------- */

#define OBJ_SIZE 300000

/* The sample object's bytes (malloc'd) and hash. */
static unsigned char *sample_object(char hash[DISCO_SHA256_HEX_LEN + 1])
{
    unsigned char *data = malloc(OBJ_SIZE);

    for (size_t i = 0; i < OBJ_SIZE; i++)
        data[i] = (unsigned char)(i * 7 + i / 251);
    disco_sha256_hex(data, OBJ_SIZE, hash);
    return data;
}

/* GET of the sample object with one extra header line; the status. */
static int get_object(const char *hash, const char *header, tu_http_resp *r)
{
    char path[128];

    snprintf(path, sizeof path, "/api/objects/%s", hash);
    assert_int_equal(tu_http(g.port, "GET", path, header, NULL, 0, r), 0);
    return r->status;
}

static void test_object_upload_download(void **state)
{
    char hash[DISCO_SHA256_HEX_LEN + 1], hdr[160], etag[80];
    unsigned char *data = sample_object(hash);
    tu_http_resp r;
    json_t *j;

    (void)state;
    assert_int_equal(tu_http(g.port, "PUT", "/api/objects", NULL, data, OBJ_SIZE, &r), 0);
    assert_int_equal(r.status, 201);
    j = json_loadb(r.body, r.body_len, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "hash")), hash);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), OBJ_SIZE);
    json_decref(j);
    tu_http_resp_release(&r);
    /* Again: already stored. */
    assert_int_equal(tu_http(g.port, "PUT", "/api/objects", NULL, data, OBJ_SIZE, &r), 0);
    assert_int_equal(r.status, 200);
    tu_http_resp_release(&r);

    assert_int_equal(get_object(hash, NULL, &r), 200);
    assert_int_equal(r.body_len, OBJ_SIZE);
    assert_memory_equal(r.body, data, OBJ_SIZE);
    snprintf(hdr, sizeof hdr, "\"%s\"", hash);
    assert_string_equal(tu_http_header(&r, "ETag", etag, sizeof etag), hdr);
    tu_http_resp_release(&r);
    snprintf(hdr, sizeof hdr, "If-None-Match: \"%s\"\r\n", hash);
    assert_int_equal(get_object(hash, hdr, &r), 304);
    assert_int_equal(r.body_len, 0);
    tu_http_resp_release(&r);

    json_decref(expect_error("GET", "/api/objects/xyz", NULL, 400, "INVAL", "hash"));
    snprintf(hdr, sizeof hdr, "/api/objects/%064d", 0);
    json_decref(expect_error("GET", hdr, NULL, 404, "NOTFOUND", NULL));
    free(data);
}

static void test_object_ranges(void **state)
{
    char hash[DISCO_SHA256_HEX_LEN + 1], hdr[160];
    unsigned char *data = sample_object(hash); /* stored by the test before */
    tu_http_resp r;

    (void)state;
    assert_int_equal(get_object(hash, "Range: bytes=1000-1099\r\n", &r), 206);
    assert_int_equal(r.body_len, 100);
    assert_memory_equal(r.body, data + 1000, 100);
    assert_string_equal(tu_http_header(&r, "Content-Range", hdr, sizeof hdr),
                        "bytes 1000-1099/300000");
    tu_http_resp_release(&r);
    assert_int_equal(get_object(hash, "Range: bytes=-10\r\n", &r), 206);
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, data + OBJ_SIZE - 10, 10);
    tu_http_resp_release(&r);
    assert_int_equal(get_object(hash, "Range: bytes=299990-999999\r\n", &r), 206);
    assert_int_equal(r.body_len, 10);
    tu_http_resp_release(&r);
    assert_int_equal(get_object(hash, "Range: bytes=300000-\r\n", &r), 416);
    assert_string_equal(tu_http_header(&r, "Content-Range", hdr, sizeof hdr), "bytes */300000");
    tu_http_resp_release(&r);
    /* Malformed or multiple ranges are ignored: the whole object. */
    assert_int_equal(get_object(hash, "Range: bytes=9-3\r\n", &r), 200);
    assert_int_equal(r.body_len, OBJ_SIZE);
    tu_http_resp_release(&r);
    assert_int_equal(get_object(hash, "Range: bytes=0-1,5-6\r\n", &r), 200);
    tu_http_resp_release(&r);
    free(data);
}

/* ---- limits ----------------------------------------------------------------------- */

static void test_limits(void **state)
{
    size_t n = MAX_BODY + 10, at = 0;
    char *big = malloc(n + 1), *chunked = malloc(n + 256);
    tu_http_resp r;

    (void)state;
    memset(big, ' ', n);
    big[n] = '\0';
    json_decref(expect_error("POST", "/api/version", big, 413, "LIMIT", NULL));

    /* The same body with no declared length: read, dropped, 413 at its end. */
    at = (size_t)sprintf(chunked,
                         "POST /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n%zx\r\n",
                         n);
    memcpy(chunked + at, big, n);
    at += n;
    at += (size_t)sprintf(chunked + at, "\r\n0\r\n\r\n");
    raw_exchange(chunked, at, &r);
    assert_int_equal(r.status, 413);
    tu_http_resp_release(&r);

    /* An upload declared too large is refused before its body is read. */
    at = (size_t)sprintf(chunked,
                         "PUT /api/objects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Content-Length: %d\r\n\r\n",
                         MAX_UPLOAD + 1);
    raw_exchange(chunked, at, &r);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "\"LIMIT\""));
    tu_http_resp_release(&r);

    /* Nesting past DISCO_JSON_MAX_DEPTH is bad input. */
    for (at = 0; at < 100; at++)
        big[at] = '[';
    for (; at < 200; at++)
        big[at] = ']';
    big[at] = '\0';
    json_decref(expect_error("POST", "/api/version", big, 400, "INVAL", NULL));
    free(big);
    free(chunked);
}

/* ---- resources: PATCH, DELETE, history, lineage ------------------------------------- */

static void test_patch(void **state)
{
    char id[DISCO_ID_LEN + 1], path[128];
    json_t *j;

    (void)state;
    create_resource(id);
    snprintf(path, sizeof path, "/api/resources/%s", id);
    assert_int_equal(call("PATCH", path, "If-Match: \"v1\"\r\n",
                          "{\"tags\": {\"mood\": \"calm\", \"genre\": null}, \"metadata\": "
                          "{\"bpm\": 120}, \"access_control\": {\"public\": true}}",
                          &j),
                     200);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "tags"), "mood")),
                        "calm");
    assert_null(json_object_get(json_object_get(j, "tags"), "genre"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "metadata"), "bpm")),
                     120);
    assert_true(json_is_true(json_object_get(json_object_get(j, "access_control"), "public")));
    json_decref(j);
    /* A stale If-Match: precondition failed. */
    assert_int_equal(call("PATCH", path, "If-Match: \"v1\"\r\n", "{\"metadata\": {\"x\": 1}}", &j),
                     412);
    json_decref(j);
    json_decref(
        expect_error("PATCH", path, "{\"resource_id\": \"x\"}", 400, "INVAL", "resource_id"));
    json_decref(expect_error("PATCH", path, "{\"tags\": {\"k\": 5}}", 400, "INVAL", "tags"));

    snprintf(path, sizeof path, "/api/resources/%s/versions", id);
    assert_int_equal(call("GET", path, NULL, NULL, &j), 200);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
    json_decref(j);
    snprintf(path, sizeof path, "/api/resources/%s/lineage?depth=2", id);
    assert_int_equal(call("GET", path, NULL, NULL, &j), 200);
    assert_string_equal(json_string_value(json_object_get(j, "root")), id);
    json_decref(j);
    snprintf(path, sizeof path, "/api/resources/%s", id);
    assert_int_equal(call("DELETE", path, NULL, NULL, &j), 200);
    assert_true(json_is_true(json_object_get(j, "deleted")));
    json_decref(j);
}

/* ---- concurrency and vanishing clients ---------------------------------------------- */

typedef struct worker {
    pthread_t th;
    int ok;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    char path[128];
    tu_http_resp r;

    for (int i = 0; i < 6; i++) {
        const char *body = "{\"type\": \"midi\"}";
        if (tu_http(g.port, "POST", "/api/resource/create", NULL, body, strlen(body), &r) != 0)
            continue;
        json_t *j = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
        const char *id = json_string_value(json_object_get(j, "resource_id"));
        tu_http_resp_release(&r);
        snprintf(path, sizeof path, "/api/resources/%s", id ? id : "none");
        json_decref(j);
        if (tu_http(g.port, "GET", path, NULL, NULL, 0, &r) == 0 && r.status == 200)
            w->ok++;
        tu_http_resp_release(&r);
    }
    return NULL;
}

static void test_concurrent(void **state)
{
    worker w[8] = {0};
    int ok = 0;

    (void)state;
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(w[i].th, NULL);
        ok += w[i].ok;
    }
    assert_int_equal(ok, 8 * 6);
}

/* Entries in <data>/objects/tmp (puts in progress or left behind). */
static int tmp_files(void)
{
    char *path = tu_path(g.cfg.data_dir, "objects/tmp");
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    free(path);
    return n;
}

static void reset_close(int fd)
{
    struct linger lg = {1, 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void test_client_gone_mid_upload(void **state)
{
    const char *head = "PUT /api/objects HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n";
    size_t part = 100000;
    char *zs = malloc(part), hash[DISCO_SHA256_HEX_LEN + 1], path[128];
    struct timespec nap = {0, 20 * 1000 * 1000};
    int fd, waited;
    tu_http_resp r;
    json_t *j;

    (void)state;
    memset(zs, 'z', part);
    fd = tu_http_connect(g.port);
    assert_true(fd >= 0);
    assert_int_equal(tu_http_write(fd, head, strlen(head)), 0);
    assert_int_equal(tu_http_write(fd, zs, part), 0);
    nanosleep(&nap, NULL);
    reset_close(fd);
    for (waited = 0; waited < 150 && tmp_files() > 0; waited++)
        nanosleep(&nap, NULL);
    assert_int_equal(tmp_files(), 0);
    /* Nothing was stored from the truncated body, and the server still answers. */
    disco_sha256_hex(zs, part, hash);
    snprintf(path, sizeof path, "/api/objects/%s", hash);
    json_decref(expect_error("GET", path, NULL, 404, "NOTFOUND", NULL));
    assert_int_equal(call("GET", "/healthz", NULL, NULL, &j), 200);
    json_decref(j);

    /* A download abandoned after its first bytes. */
    assert_int_equal(tu_http(g.port, "PUT", "/api/objects", NULL, zs, part, &r), 0);
    tu_http_resp_release(&r);
    fd = tu_http_connect(g.port);
    snprintf(path, sizeof path, "GET /api/objects/%s HTTP/1.1\r\nHost: x\r\n\r\n", hash);
    assert_int_equal(tu_http_write(fd, path, strlen(path)), 0);
    assert_true(recv(fd, zs, 1000, 0) > 0);
    reset_close(fd);
    assert_int_equal(call("GET", "/readyz", NULL, NULL, &j), 200);
    json_decref(j);
    free(zs);
}

/* ---- pages -------------------------------------------------------------------------- */

static void test_pages(void **state)
{
    tu_http_resp r;
    char type[64];
    json_t *j;

    (void)state;
    assert_int_equal(tu_http(g.port, "GET", "/", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(tu_http_header(&r, "Content-Type", type, sizeof type),
                        "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "POST /api/resource/create"));
    assert_non_null(strstr(r.body, "POST /api/model/analyze-training"));
    assert_non_null(strstr(r.body, "href=\"/api/openapi.json\""));
    tu_http_resp_release(&r);
    assert_int_equal(tu_http(g.port, "GET", "/ui/", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "<p>hello ui</p>\n");
    tu_http_resp_release(&r);
    json_decref(expect_error("GET", "/ui/../data/catalog.db", NULL, 404, "NOTFOUND", NULL));
    json_decref(expect_error("GET", "/ui/.hidden", NULL, 404, "NOTFOUND", NULL));
    assert_int_equal(call("GET", "/api/openapi.json", NULL, NULL, &j), 200);
    assert_non_null(json_object_get(json_object_get(j, "paths"), "/api/resource/create"));
    json_decref(j);
}

/* ---- tokens and listening ----------------------------------------------------------- */

static int fake_auth(void *user, const char *bearer, char *principal, size_t n, int *role,
                     disco_status *st)
{
    (void)user;
    if (strcmp(bearer, "reader-secret") == 0 || strcmp(bearer, "writer-secret") == 0) {
        snprintf(principal, n, "%s", bearer[0] == 'r' ? "rita" : "walt");
        *role = bearer[0] == 'r' ? DISCO_ROLE_READER : DISCO_ROLE_WRITER;
        return DISCO_OK;
    }
    return disco_status_set(st, DISCO_ERR_PERM, "token", "unknown or revoked token");
}

static int status_with(int port, const char *method, const char *path, const char *token,
                       const char *body, char *www, size_t size)
{
    char hdr[128] = "";
    tu_http_resp r;
    int status;

    if (token)
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\n", token);
    assert_int_equal(tu_http(port, method, path, hdr, body, body ? strlen(body) : 0, &r), 0);
    status = r.status;
    if (www && !tu_http_header(&r, "WWW-Authenticate", www, size))
        www[0] = '\0';
    tu_http_resp_release(&r);
    return status;
}

static void test_tokens(void **state)
{
    disco_http_config hc = disco_http_config_default();
    const char *create = "{\"type\": \"audio\"}";
    disco_status st = {0};
    disco_http *srv;
    char www[128];
    int port;

    (void)state;
    hc.port = 0;
    hc.threads = 2;
    hc.authenticate = fake_auth;
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_OK);
    port = disco_http_port(srv);
    assert_int_equal(status_with(port, "POST", "/api/resource/list", NULL, "{}", www, sizeof www),
                     401);
    assert_non_null(strstr(www, "Bearer"));
    assert_int_equal(
        status_with(port, "POST", "/api/resource/list", "bogus", "{}", www, sizeof www), 401);
    assert_non_null(strstr(www, "invalid_token"));
    assert_int_equal(
        status_with(port, "POST", "/api/resource/list", "reader-secret", "{}", NULL, 0), 200);
    assert_int_equal(
        status_with(port, "POST", "/api/resource/create", "reader-secret", create, NULL, 0), 403);
    assert_int_equal(status_with(port, "PUT", "/api/objects", "reader-secret", "abc", NULL, 0),
                     403);
    assert_int_equal(
        status_with(port, "POST", "/api/resource/create", "writer-secret", create, NULL, 0), 200);
    assert_int_equal(status_with(port, "GET", "/healthz", NULL, NULL, NULL, 0), 200);
    disco_http_stop(srv);
}

static void test_listening_rules(void **state)
{
    disco_http_config hc = disco_http_config_default();
    disco_status st = {0};
    disco_http *srv = NULL;

    (void)state;
    snprintf(hc.host, sizeof hc.host, "0.0.0.0");
    hc.port = 0;
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_ERR_PERM);
    assert_null(srv);
    assert_non_null(strstr(st.msg, "refusing to listen on 0.0.0.0 without API tokens"));
    hc.authenticate = fake_auth; /* with tokens, any address */
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_OK);
    disco_http_stop(srv);

    hc = disco_http_config_default();
    hc.port = g.port; /* taken by the fixture's server */
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_ERR_IO);
    assert_non_null(strstr(st.msg, "cannot listen on 127.0.0.1"));
    hc.port = 70000;
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "port");

    /* A server that cannot open its stores is alive but not ready. */
    disco_config bad = g.cfg;
    snprintf(bad.data_dir, sizeof bad.data_dir, "%s/ui/index.html", g.dir);
    hc.port = 0;
    assert_int_equal(disco_http_start(&bad, &hc, &srv, &st), DISCO_OK);
    assert_int_equal(status_with(disco_http_port(srv), "GET", "/healthz", NULL, NULL, NULL, 0),
                     200);
    assert_int_equal(status_with(disco_http_port(srv), "GET", "/readyz", NULL, NULL, NULL, 0), 503);
    disco_http_interrupt(srv);
    disco_http_wait(srv); /* returns at once: interrupted */
    disco_http_stop(srv);
}

/* A connection that sends nothing is closed after request_timeout_s. */
static void test_idle_timeout(void **state)
{
    disco_http_config hc = disco_http_config_default();
    struct timespec t0, t1;
    disco_status st = {0};
    disco_http *srv;
    char byte;
    int fd;

    (void)state;
    hc.port = 0;
    hc.threads = 1;
    hc.request_timeout_s = 1;
    assert_int_equal(disco_http_start(&g.cfg, &hc, &srv, &st), DISCO_OK);
    fd = tu_http_connect(disco_http_port(srv));
    assert_true(fd >= 0);
    assert_int_equal(tu_http_write(fd, "GET /healthz HTTP/1.1\r\n", 24), 0); /* and no more */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_true(recv(fd, &byte, 1, 0) <= 0); /* closed without an answer */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    close(fd);
    disco_http_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_op_round_trip),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_routes_and_methods),
        cmocka_unit_test(test_server_paths_refused),
        cmocka_unit_test(test_object_upload_download),
        cmocka_unit_test(test_object_ranges),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_client_gone_mid_upload),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_listening_rules),
        cmocka_unit_test(test_idle_timeout),
    };
    return cmocka_run_group_tests_name("http", tests, start_server, stop_server);
}
