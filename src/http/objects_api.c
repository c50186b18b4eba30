/*
 * objects_api.c - PUT /api/objects (streamed upload) and
 * GET /api/objects/{hash} (streamed download with ETag and Range).
 *
 * DESIGN (upload)
 *   The body arrives in chunks on an MHD thread; the object store wants a
 *   descriptor to read. A pipe joins them, with a put thread on the far
 *   side, so an upload of any size takes constant memory and its bytes are
 *   hashed and written once:
 *
 *     MHD thread: chunk -> write(pipe)     put thread: disco_objects_put_fd(pipe)
 *     last call:  close(pipe) -> EOF       -> commit, {hash, size}
 *     client gone: cancel = 1, one more byte, close
 *                                          -> progress sees cancel -> nothing stored
 *
 *   The extra byte matters: the put checks for cancellation after hashing
 *   each buffer, and a bare EOF would end the put with no further check and
 *   store the truncated bytes. A byte written after the flag is set is
 *   hashed after it is visible, so the put always sees it.
 *
 *   When the put fails early (disk full), its thread closes the read end;
 *   our writes get EPIPE (SIGPIPE is ignored) and the rest of the body is
 *   dropped; the error is answered at the end.
 *
 * ACCESS
 *   Objects follow the OBJECTS rule of access.h: a finished upload is
 *   recorded for its principal (disco_access_object_uploaded), and a
 *   download (GET or HEAD) of an object the principal may not read is the
 *   404 of a hash the store does not hold, checked before the object is
 *   opened, so neither status nor message tells them apart.
 */
#include "http_int.h"

#include "disco/access.h"
#include "disco/hash.h"
#include "disco/log.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIPE_BYTES (1 << 20) /* asked-for pipe capacity */

struct http_upload {
    disco_ctx *ctx;
    disco_objects *objs;
    int wfd, rfd;
    pthread_t th;
    atomic_int cancel;
    int broken; /* the put ended before the body did */
    /* results of the put thread, read after joining it */
    int rc;
    disco_status st;
    disco_object_info info;
    int created;
};

/* ---- upload ------------------------------------------------------------------- */

static int put_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
    http_upload *up = user;

    (void)stage;
    (void)done;
    (void)total;
    return atomic_load(&up->cancel);
}

static void *put_main(void *arg)
{
    http_upload *up = arg;
    disco_progress prog = {put_progress, up};

    up->rc = disco_objects_put_fd(up->objs, up->rfd, &prog, &up->info, &up->created, &up->st);
    close(up->rfd);
    return NULL;
}

static void upload_free(http_upload *up)
{
    if (up->wfd >= 0)
        close(up->wfd);
    disco_ctx_free(up->ctx);
    free(up);
}

/* Opens the store and the pipe and starts the put thread (signals blocked in it). */
static int upload_start(http_upload *up, disco_status *st)
{
    int fds[2], rc = disco_ctx_objects(up->ctx, &up->objs, st), e;
    sigset_t all, old;

    if (rc != DISCO_OK)
        return rc;
    if (pipe2(fds, O_CLOEXEC) != 0)
        return disco_status_errno(st, errno, NULL, "cannot create a pipe for the upload");
    (void)fcntl(fds[1], F_SETPIPE_SZ, PIPE_BYTES);
    up->rfd = fds[0];
    up->wfd = fds[1];
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&up->th, NULL, put_main, up);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        close(up->rfd);
        return disco_status_errno(st, e, NULL, "cannot start the upload thread");
    }
    return DISCO_OK;
}

int disco__http_upload_begin(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    http_upload *up;
    int rc;

    if (!disco__http_role_allows(rq, disco_ops_find("object.put"), r))
        return -1;
    up = calloc(1, sizeof *up);
    if (!up) {
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    up->wfd = up->rfd = -1;
    up->ctx = disco__http_ctx(rq, r);
    rc = up->ctx ? upload_start(up, &st) : DISCO_ERR_NOMEM;
    if (rc != DISCO_OK) {
        if (up->ctx)
            disco__http_error(r, rc, &st);
        upload_free(up);
        return -1;
    }
    rq->up = up;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void disco__http_upload_data(http_req *rq, const char *data, size_t n)
{
    http_upload *up = rq->up;

    if (!up->broken && write_all(up->wfd, data, n) != 0)
        up->broken = 1;
}

/* Ends the body, waits for the put and frees the upload. */
static void upload_end(http_req *rq, int cancel)
{
    http_upload *up = rq->up;
    char sentinel = 0;

    if (cancel) {
        atomic_store(&up->cancel, 1);
        (void)write_all(up->wfd, &sentinel, 1);
    }
    close(up->wfd);
    up->wfd = -1;
    pthread_join(up->th, NULL);
}

/* Records the finished put for its principal; *created becomes what the caller may know. */
static int upload_note(http_upload *up)
{
    disco_catalog *cat;
    int rc;

    if (disco_ctx_role(up->ctx) == DISCO_ROLE_NONE)
        return DISCO_OK;
    rc = disco_ctx_catalog(up->ctx, &cat, &up->st);
    if (rc == DISCO_OK)
        rc = disco_access_object_uploaded(cat, up->info.hash, disco_ctx_principal(up->ctx),
                                          disco_ctx_role(up->ctx), &up->created, &up->st);
    return rc;
}

void disco__http_upload_finish(http_req *rq, http_reply *r)
{
    http_upload *up = rq->up;

    upload_end(rq, 0);
    if (up->rc == DISCO_OK)
        up->rc = upload_note(up);
    if (up->rc != DISCO_OK) {
        disco__http_error(r, up->rc, &up->st);
    } else {
        disco__http_ok(r, up->created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
                       json_pack("{s:s, s:I, s:b}", "hash", up->info.hash, "size",
                                 (json_int_t)up->info.size, "created", up->created));
        snprintf(r->location, sizeof r->location, "/api/objects/%s", up->info.hash);
        snprintf(r->etag, sizeof r->etag, "\"%s\"", up->info.hash);
    }
    upload_free(up);
    rq->up = NULL;
}

void disco__http_upload_abort(http_req *rq)
{
    http_upload *up = rq->up;

    upload_end(rq, 1);
    DISCO_ASSERT(up->rc != DISCO_OK); /* the sentinel guarantees a cancelled put */
    DISCO_LOG_INFO("http: upload cancelled after %llu bytes (%s)", (unsigned long long)rq->received,
                   disco_status_message(&up->st));
    upload_free(up);
    rq->up = NULL;
}

/* ---- download ------------------------------------------------------------------ */

/* Parses decimal digits at *s into *v; 0 when there are none or they overflow. */
static int parse_u64(const char **s, uint64_t *v)
{
    const char *p = *s;

    *v = 0;
    if (!isdigit((unsigned char)*p))
        return 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (*v > (UINT64_MAX - 9) / 10)
            return 0;
        *v = *v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    return 1;
}

/*
 * A single "bytes=a-b", "bytes=a-" or "bytes=-n" range of an object of
 * `size` bytes: 1 with [*off, *off + *len), 0 when there is none to honour
 * (absent, malformed, or several ranges: the whole object is sent), -1 when
 * it cannot be satisfied (416).
 */
static int parse_range(const char *h, uint64_t size, uint64_t *off, uint64_t *len)
{
    uint64_t a, b;

    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (*h == '-') {
        h++;
        if (!parse_u64(&h, &b) || *h)
            return 0;
        if (b == 0 || size == 0)
            return -1;
        *len = b < size ? b : size;
        *off = size - *len;
        return 1;
    }
    if (!parse_u64(&h, &a) || *h++ != '-')
        return 0;
    b = UINT64_MAX;
    if (*h && (!parse_u64(&h, &b) || *h || b < a))
        return 0;
    if (a >= size)
        return -1;
    *off = a;
    *len = (b >= size ? size - 1 : b) - a + 1;
    return 1;
}

/* Does If-None-Match list `etag` (or "*")? Weak tags compare equal too. */
static int etag_listed(const char *h, const char *etag)
{
    size_t n = strlen(etag);

    while (h && *h) {
        while (*h == ' ' || *h == ',')
            h++;
        if (strncmp(h, "W/", 2) == 0)
            h += 2;
        if (*h == '*' || (strncmp(h, etag, n) == 0 && (h[n] == '\0' || h[n] == ',' || h[n] == ' ')))
            return 1;
        h += strcspn(h, ",");
    }
    return 0;
}

/* Answers with bytes [off, off + len) of the open object `fd` (given to MHD). */
static void send_object(http_reply *r, int fd, uint64_t off, uint64_t len)
{
    r->raw = MHD_create_response_from_fd_at_offset64(len, fd, (int64_t)off);
    if (!r->raw) {
        close(fd);
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL,
                         "cannot create the response");
        return;
    }
    MHD_add_response_header(r->raw, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    snprintf(r->content_type, sizeof r->content_type, "application/octet-stream");
    r->immutable = 1;
}

static void serve_object(http_req *rq, http_reply *r, int fd, uint64_t size)
{
    const char *range =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    uint64_t off = 0, len = size;
    int kind = parse_range(range, size, &off, &len);

    if (kind < 0) {
        close(fd);
        disco__http_fail(r, MHD_HTTP_RANGE_NOT_SATISFIABLE, DISCO_ERR_INVAL, "Range",
                         "range %.60s is outside the object's %llu bytes", range,
                         (unsigned long long)size);
        snprintf(r->content_range, sizeof r->content_range, "bytes */%llu",
                 (unsigned long long)size);
        return;
    }
    r->status = kind ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK;
    if (kind)
        snprintf(r->content_range, sizeof r->content_range, "bytes %llu-%llu/%llu",
                 (unsigned long long)off, (unsigned long long)(off + len - 1),
                 (unsigned long long)size);
    send_object(r, fd, off, len);
}

/* The request's principal may read `hash`; else the store's NOTFOUND (access.h). */
static int object_guard(disco_ctx *ctx, const disco_objects *objs, const char *hash,
                        disco_status *st)
{
    disco_role role = disco_ctx_role(ctx);
    disco_catalog *cat = NULL;
    int rc = DISCO_OK;

    if (role != DISCO_ROLE_NONE && role != DISCO_ROLE_ADMIN)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_access_object_check(cat, objs, hash, disco_ctx_principal(ctx), role, st);
    return rc;
}

void disco__http_object_get(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    disco_objects *objs;
    disco_ctx *ctx;
    struct stat sb;
    char hash[sizeof rq->rt.arg];
    int fd = -1, rc;

    for (size_t i = 0; i < sizeof hash && (hash[i] = (char)tolower((unsigned char)rq->rt.arg[i]));
         i++)
        ;
    rc = disco_hash_check(hash, "hash", &st);
    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return;
    }
    if (!disco__http_role_allows(rq, disco_ops_find("object.get"), r) ||
        !(ctx = disco__http_ctx(rq, r)))
        return;
    rc = disco_ctx_objects(ctx, &objs, &st);
    if (rc == DISCO_OK)
        rc = object_guard(ctx, objs, hash, &st);
    if (rc == DISCO_OK)
        rc = disco_objects_open_read(objs, hash, &fd, &st);
    if (rc == DISCO_OK && fstat(fd, &sb) != 0)
        rc = disco_status_errno(&st, errno, "hash", "cannot stat object %s", hash);
    disco_ctx_free(ctx);
    if (rc != DISCO_OK) {
        if (fd >= 0)
            close(fd);
        disco__http_error(r, rc, &st);
        return;
    }
    snprintf(r->etag, sizeof r->etag, "\"%.64s\"", hash);
    if (etag_listed(
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH),
            r->etag)) {
        close(fd);
        r->status = MHD_HTTP_NOT_MODIFIED;
        r->raw = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        r->immutable = 1;
        return;
    }
    serve_object(rq, r, fd, (uint64_t)sb.st_size);
}
