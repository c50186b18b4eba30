/*
 * server.c - the HTTP daemon: configuration, the listening socket (loopback
 * only without tokens), libmicrohttpd with a pool of epoll threads, and the
 * life of a request (see http_int.h).
 *
 * We bind the socket ourselves and hand it to MHD, so a failure to listen
 * names the address and the system's reason ("Address already in use"),
 * and port 0 can be resolved to the port the kernel picked.
 */
#include "http_int.h"

#include "disco/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX 256
#define DISCARD_MAX ((uint64_t)8 << 20) /* body past its limit read and dropped for a 413 */

disco_http_config disco_http_config_default(void)
{
    disco_http_config hc;

    memset(&hc, 0, sizeof hc);
    snprintf(hc.host, sizeof hc.host, "127.0.0.1");
    hc.port = 8080;
    hc.max_body = (size_t)1 << 20;
    hc.max_upload = (uint64_t)64 << 20;
    hc.request_timeout_s = 60;
    return hc;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- configuration and the listening socket ------------------------------ */

static int check_config(const disco_http_config *hc, disco_status *st)
{
    struct stat sb;

    if (hc->port < 0 || hc->port > 65535)
        return disco_status_set(st, DISCO_ERR_INVAL, "port", "port %d out of range 0..65535",
                                hc->port);
    if (!hc->host[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "host", "no host to listen on");
    if (hc->threads < 0 || hc->threads > THREADS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "threads", "threads %d out of range 0..%d",
                                hc->threads, THREADS_MAX);
    if (hc->max_body == 0 || hc->max_upload == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_body",
                                "body and upload limits must be above 0 bytes");
    if (hc->request_timeout_s < 0 || hc->max_long_ops < 0 || hc->max_jobs_queued < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "request_timeout_s",
                                "timeout and job limits must not be negative");
    if (!(hc->rate >= 0 && hc->rate <= 1e9) || !(hc->burst >= 0 && hc->burst <= 1e9))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate",
                                "rate %g and burst %g must be in 0..1e9", hc->rate, hc->burst);
    if (hc->monitor_interval_s < 0 || hc->monitor_interval_s > 86400)
        return disco_status_set(st, DISCO_ERR_INVAL, "monitor_interval_s",
                                "monitor interval %d s out of range 0..86400",
                                hc->monitor_interval_s);
    if (hc->static_dir[0] && (stat(hc->static_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)))
        return disco_status_set(st, DISCO_ERR_INVAL, "static_dir",
                                "static folder %s is not a folder", hc->static_dir);
    return DISCO_OK;
}

/* Binds and listens on one resolved address; the socket or -1 with errno set. */
static int bind_one(const struct addrinfo *ai)
{
    int one = 1, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
        return fd;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* Fills srv->port, srv->url and srv->instance from the bound socket. */
static void describe_socket(disco_http *srv, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?", port[16] = "0";

    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    srv->port = atoi(port);
    snprintf(srv->url, sizeof srv->url,
             ss.ss_family == AF_INET6 ? "http://[%s]:%s" : "http://%s:%s", host, port);
    snprintf(srv->instance, sizeof srv->instance, "%s", srv->url + 7);
}

static int open_listener(disco_http *srv, int *fd_out, int *v6, disco_status *st)
{
    const disco_http_config *hc = &srv->hc;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    char port[16];
    int e, fd = -1, rc = DISCO_OK;

    snprintf(port, sizeof port, "%d", hc->port);
    e = getaddrinfo(hc->host, port, &hints, &res);
    if (e != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "host", "cannot resolve host '%s': %s",
                                hc->host, gai_strerror(e));
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        if (!hc->authenticate && !disco__http_is_loopback(ai->ai_addr)) {
            rc = disco_status_set(st, DISCO_ERR_PERM, "host",
                                  "refusing to listen on %s without API tokens (no "
                                  "authentication is configured; use 127.0.0.1 or ::1, or "
                                  "create a token: disco token create --name me --role admin)",
                                  hc->host);
            break;
        }
        fd = bind_one(ai);
        if (fd < 0)
            rc = disco_status_errno(st, errno, "port", "cannot listen on %s port %d", hc->host,
                                    hc->port);
        else
            *v6 = ai->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return rc != DISCO_OK ? rc : disco_status_set(st, DISCO_ERR_IO, "host", "no address");
    describe_socket(srv, fd);
    *fd_out = fd;
    return DISCO_OK;
}

/* ---- a request's life ------------------------------------------------------ */

static enum MHD_Result respond(http_req *rq, http_reply *r)
{
    if (r->suspended) /* a watch thread resumes the connection, then we answer */
        return MHD_YES;
    rq->status = r->status ? r->status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r->status = rq->status;
    return disco__http_send(rq->conn, r);
}

static uint64_t declared_length(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return v ? strtoull(v, NULL, 10) : 0;
}

/* A body streamed to a store or an op rather than parsed: it may be as large as an upload. */
static int is_upload(const http_req *rq)
{
    return rq->rt.kind == ROUTE_OBJECTS || rq->stream;
}

static uint64_t body_limit(const http_req *rq)
{
    return is_upload(rq) ? rq->srv->hc.max_upload : rq->srv->hc.max_body;
}

/* What can be answered from the headers alone; 0 when the request goes on. */
static int check_headers(http_req *rq, const char *url, http_reply *r)
{
    const char *type =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    uint64_t limit = body_limit(rq);

    if (rq->rt.kind == ROUTE_NONE) {
        disco__http_fail(r, MHD_HTTP_NOT_FOUND, DISCO_ERR_NOTFOUND, NULL,
                         "no such route: %s (see GET / for the API)", url);
    } else if (rq->method == HTTP_OPTIONS) {
        disco__http_ok(r, MHD_HTTP_NO_CONTENT, NULL);
        r->allow = rq->rt.methods;
    } else if (!(rq->method & rq->rt.methods)) {
        char allow[64];
        disco__http_allow_text(rq->rt.methods, allow, sizeof allow);
        disco__http_fail(r, MHD_HTTP_METHOD_NOT_ALLOWED, DISCO_ERR_USAGE, NULL,
                         "%s: method not allowed; %s takes %s", rq->what, url, allow);
        r->allow = rq->rt.methods;
    } else if (disco__http_guard(rq, r) != 0) {
        return -1;
    } else if (declared_length(rq->conn) > limit) {
        disco__http_fail(r, MHD_HTTP_CONTENT_TOO_LARGE, DISCO_ERR_LIMIT, NULL,
                         "request body of %llu bytes is over the limit of %llu bytes",
                         (unsigned long long)declared_length(rq->conn), (unsigned long long)limit);
    } else if (!is_upload(rq) && type && strncasecmp(type, "multipart/", 10) == 0) {
        disco__http_fail(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, DISCO_ERR_UNSUPPORTED, NULL,
                         "send parameters as a JSON object (Content-Type: application/json); "
                         "upload files with PUT /api/objects");
    } else {
        return 0;
    }
    return -1;
}

static enum MHD_Result begin(disco_http *srv, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
    http_req *rq = calloc(1, sizeof *rq);
    http_reply r = {0};

    if (!rq)
        return MHD_NO;
    *con_cls = rq;
    rq->srv = srv;
    rq->conn = c;
    rq->t0_ns = now_ns();
    snprintf(rq->what, sizeof rq->what, "%s %s", method, url);
    rq->method = disco__http_method(method);
    rq->spool_fd = -1;
    disco__http_route(url, &rq->rt);
    disco__http_stream_detect(rq);
    if (check_headers(rq, url, &r) != 0)
        return respond(rq, &r);
    if (rq->rt.kind == ROUTE_OBJECTS && disco__http_upload_begin(rq, &r) != 0)
        return respond(rq, &r);
    if (rq->stream && disco__http_stream_begin(rq, &r) != 0)
        return respond(rq, &r);
    return MHD_YES;
}

static int append(http_req *rq, const char *data, size_t n)
{
    if (rq->len + n > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 4096;
        while (cap < rq->len + n)
            cap *= 2;
        char *grown = realloc(rq->body, cap + 1);
        if (!grown)
            return -1;
        rq->body = grown;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, n);
    rq->len += n;
    return 0;
}

/*
 * A chunk of body: appended (JSON), streamed (upload) or spooled (an op's
 * input). A body of undeclared length that goes past its limit is read on
 * and dropped, for a 413 at its end, unless it goes on for DISCARD_MAX
 * more bytes: then the connection is closed.
 */
static enum MHD_Result feed(http_req *rq, const char *data, size_t n)
{
    uint64_t limit = body_limit(rq);

    rq->received += n;
    if (rq->received > limit && !rq->overflow) {
        rq->overflow = 1;
        if (rq->up)
            disco__http_upload_abort(rq);
        disco__http_stream_release(rq);
    }
    if (rq->overflow)
        return rq->received - limit <= DISCARD_MAX ? MHD_YES : MHD_NO;
    if (rq->up)
        disco__http_upload_data(rq, data, n);
    else if (rq->stream)
        disco__http_stream_data(rq, data, n);
    else if (append(rq, data, n) != 0)
        return MHD_NO;
    return MHD_YES;
}

static enum MHD_Result finish(http_req *rq)
{
    http_reply r = {0};

    if (rq->watch) { /* resumed after Prefer: wait */
        disco__http_job_waited(rq, &r);
        return respond(rq, &r);
    }
    if (rq->overflow) {
        disco__http_fail(&r, MHD_HTTP_CONTENT_TOO_LARGE, DISCO_ERR_LIMIT, NULL,
                         "request body is over the limit of %llu bytes",
                         (unsigned long long)body_limit(rq));
        return respond(rq, &r);
    }
    switch (rq->rt.kind) {
    case ROUTE_INDEX:
        r.status = MHD_HTTP_OK;
        r.raw = MHD_create_response_from_buffer(rq->srv->index_len, rq->srv->index_html,
                                                MHD_RESPMEM_PERSISTENT);
        snprintf(r.content_type, sizeof r.content_type, "text/html; charset=utf-8");
        break;
    case ROUTE_UI:
        disco__http_ui(rq, &r);
        break;
    case ROUTE_OPENAPI:
        disco__http_openapi(rq, &r);
        break;
    case ROUTE_OBJECTS:
        disco__http_upload_finish(rq, &r);
        break;
    case ROUTE_OBJECT:
        disco__http_object_get(rq, &r);
        break;
    case ROUTE_METRICS:
        disco__http_metrics_page(rq, &r);
        break;
    case ROUTE_JOBS:
    case ROUTE_JOB:
    case ROUTE_JOB_EVENTS:
        disco__http_jobs(rq, &r);
        break;
    default:
        disco__http_api(rq, &r);
        break;
    }
    return respond(rq, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    http_req *rq = *con_cls;
    enum MHD_Result ret;

    (void)version;
    if (!rq)
        return begin(cls, c, url, method, con_cls);
    if (rq->status) { /* answered already: the rest of the body is dropped */
        *data_size = 0;
        return MHD_YES;
    }
    if (*data_size) {
        ret = feed(rq, data, *data_size);
        *data_size = 0;
        return ret;
    }
    return finish(rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_req *rq = *con_cls;
    double ms;

    (void)cls;
    (void)c;
    if (!rq)
        return;
    if (rq->up)
        disco__http_upload_abort(rq);
    disco__http_stream_release(rq);
    if (rq->watch)
        disco__http_watch_release(rq->watch);
    ms = (double)(now_ns() - rq->t0_ns) / 1e6;
    if (rq->status)
        disco__http_metrics_observe(rq->srv, rq, ms / 1e3);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        DISCO_LOG_INFO("http: %s ended early after %.1f ms and %llu bytes of body (%s)", rq->what,
                       ms, (unsigned long long)rq->received,
                       rq->overflow ? "far over the limit" : "connection closed");
    else if (rq->status >= 500)
        DISCO_LOG_WARN("http: %s -> %u (%.1f ms)", rq->what, rq->status, ms);
    else
        DISCO_LOG_DEBUG("http: %s -> %u (%.1f ms)", rq->what, rq->status, ms);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    DISCO_LOG_DEBUG("http: libmicrohttpd: %s", msg);
}

/* ---- start, wait, stop ------------------------------------------------------ */

static unsigned pick_threads(const disco_http_config *hc, const disco_config *cfg)
{
    long n = hc->threads > 0 ? hc->threads : cfg->threads > 0 ? cfg->threads : 0;

    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > THREADS_MAX ? THREADS_MAX : (unsigned)n;
}

static int start_mhd(disco_http *srv, int fd, int v6, disco_status *st)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;

    if (v6)
        flags |= MHD_USE_IPv6;
    srv->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_THREAD_POOL_SIZE, srv->threads, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)srv->hc.request_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_END);
    if (!srv->mhd)
        return disco_status_set(st, DISCO_ERR_IO, NULL, "cannot start the HTTP server on %s",
                                srv->url);
    return DISCO_OK;
}

int disco_http_start(const disco_config *cfg, const disco_http_config *hc, disco_http **out,
                     disco_status *st)
{
    disco_http *srv;
    int rc, fd = -1, v6 = 0;

    *out = NULL;
    rc = check_config(hc, st);
    if (rc != DISCO_OK)
        return rc;
    srv = calloc(1, sizeof *srv);
    if (!srv)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    srv->cfg = *cfg;
    srv->hc = *hc;
    srv->wake[0] = srv->wake[1] = -1;
    srv->threads = pick_threads(hc, cfg);
    srv->max_long_ops = hc->max_long_ops > 0 ? hc->max_long_ops
                        : srv->threads > 1   ? (int)srv->threads - 1
                                             : 1;
    signal(SIGPIPE, SIG_IGN);
    srv->index_html = disco__http_index_html(&srv->index_len);
    if (!srv->index_html || pipe2(srv->wake, O_CLOEXEC) != 0)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory or descriptors");
    if (rc == DISCO_OK)
        rc = open_listener(srv, &fd, &v6, st);
    if (rc == DISCO_OK && (rc = disco__http_services_start(srv, st)) != DISCO_OK)
        close(fd);
    else if (rc == DISCO_OK && (rc = start_mhd(srv, fd, v6, st)) != DISCO_OK)
        close(fd);
    if (rc != DISCO_OK) {
        disco_http_stop(srv);
        return rc;
    }
    *out = srv;
    return DISCO_OK;
}

int disco_http_port(const disco_http *srv)
{
    return srv->port;
}

const char *disco_http_url(const disco_http *srv)
{
    return srv->url;
}

void disco_http_interrupt(disco_http *srv)
{
    char one = 1;

    if (srv && srv->wake[1] >= 0 && write(srv->wake[1], &one, 1) < 0)
        return; /* a full pipe already holds a wake-up */
}

void disco_http_wait(disco_http *srv)
{
    char byte;
    ssize_t n;

    do
        n = read(srv->wake[0], &byte, 1);
    while (n < 0 && errno == EINTR);
}

void disco_http_stop(disco_http *srv)
{
    if (!srv)
        return;
    disco__http_services_quiesce(srv);
    if (srv->mhd)
        MHD_stop_daemon(srv->mhd);
    disco__http_services_free(srv);
    if (srv->wake[0] >= 0)
        close(srv->wake[0]);
    if (srv->wake[1] >= 0)
        close(srv->wake[1]);
    free(srv->index_html);
    free(srv);
}
