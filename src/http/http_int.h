/*
 * http_int.h - internals shared by the files of the HTTP server.
 *
 *   server.c       the daemon: listening socket, MHD callbacks, request life
 *   route.c        URL + method -> route (ops come from the table)
 *   reply.c        responses: JSON bodies, errors and their statuses, headers
 *   api.c          op routes, resource routes, health and readiness
 *   patch.c        PATCH /api/resources/{id}: merge patch -> resource.update
 *   objects_api.c  streamed object upload and download (ETag, Range)
 *   streams.c      op bodies of other media types as the op's input ("-")
 *   outputs.c      what an op writes to "-", kept as an object named in its result
 *   pages.c        the index page and static files under /ui/
 *   guard.c        who is asking: bearer tokens, the rate limit, /metrics access
 *   services.c     what runs beside the requests: jobs, the shared tsdb, start/stop
 *   jobs_api.c     long ops as jobs (202, Prefer: wait), /api/jobs routes
 *   watch.c        threads that follow a job: event streams (SSE), Prefer: wait
 *   metrics.c      /metrics: request counts and latencies, jobs, store sizes
 *   selfmon.c      the server's own figures into the tsdb, and alert checks
 *
 * A request's life (MHD calls the access handler repeatedly):
 *
 *   first call        route, authenticate, check declared size -> maybe reply now
 *   body chunks       appended to rq->body (JSON), written to an upload pipe,
 *                     or spooled to an unlinked file (an op's input stream)
 *   last call         run the route's handler, queue its reply (or suspend
 *                     the connection while a watch thread waits for a job)
 *   resumed           called again: answer from what the watch saw
 *   completed         count it in the metrics, free the request; abort an
 *                     unfinished upload, close a spooled body
 */
#ifndef DISCO_HTTP_INT_H
#define DISCO_HTTP_INT_H

#include "disco/http.h"
#include "disco/jobs.h"
#include "disco/ops.h"
#include "disco/ratelimit.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct http_metrics http_metrics; /* metrics.c */
typedef struct http_monitor http_monitor; /* selfmon.c */
typedef struct http_watch http_watch;     /* watch.c */

struct disco_http {
    disco_config cfg;
    disco_http_config hc;
    struct MHD_Daemon *mhd;
    int wake[2]; /* disco_http_interrupt() writes, disco_http_wait() reads */
    int port;
    unsigned threads;
    int max_long_ops;
    char url[300];
    char instance[280]; /* "host:port", the tag of the server's own series */
    char *index_html;   /* the page at "/", made once */
    size_t index_len;
    disco_jobs *jobs;
    disco_ratelimit *rl; /* NULL: no rate limit */
    http_metrics *metrics;
    http_monitor *mon;        /* NULL: no self-monitoring */
    disco_tsdb *_Atomic tsdb; /* shared with every context; NULL until open */
    disco_vec_pool *vecs;     /* vector collections, shared likewise */
    pthread_mutex_t tsdb_mu;  /* one attempt to open it at a time */
    int64_t tsdb_tried_ms;    /* the last attempt (guarded by tsdb_mu) */
    pthread_mutex_t watch_mu; /* guards watchers */
    pthread_cond_t watch_cv;  /* signalled when a watch thread ends */
    int watchers;             /* watch threads alive */
    int locks_ready;          /* the mutexes above are initialised */
};

/* Methods as bits, so a route can list the ones it allows. */
enum {
    HTTP_GET = 1u << 0,
    HTTP_HEAD = 1u << 1,
    HTTP_POST = 1u << 2,
    HTTP_PUT = 1u << 3,
    HTTP_PATCH = 1u << 4,
    HTTP_DELETE = 1u << 5,
    HTTP_OPTIONS = 1u << 6,
};

typedef enum http_route_kind {
    ROUTE_NONE,              /* no such route: 404 */
    ROUTE_INDEX,             /* GET / */
    ROUTE_HEALTH,            /* GET /healthz */
    ROUTE_READY,             /* GET /readyz */
    ROUTE_OPENAPI,           /* GET /api/openapi.json */
    ROUTE_UI,                /* GET /ui/<arg> */
    ROUTE_OP,                /* POST /api/<group>/<verb>, aliases */
    ROUTE_RESOURCES,         /* GET /api/resources */
    ROUTE_RESOURCE,          /* GET|PATCH|DELETE /api/resources/<arg> */
    ROUTE_RESOURCE_VERSIONS, /* GET /api/resources/<arg>/versions */
    ROUTE_RESOURCE_LINEAGE,  /* GET /api/resources/<arg>/lineage */
    ROUTE_OBJECTS,           /* PUT /api/objects */
    ROUTE_OBJECT,            /* GET|HEAD /api/objects/<arg> */
    ROUTE_JOBS,              /* GET /api/jobs */
    ROUTE_JOB,               /* GET|DELETE /api/jobs/<arg> */
    ROUTE_JOB_EVENTS,        /* GET /api/jobs/<arg>/events */
    ROUTE_METRICS,           /* GET /metrics */
} http_route_kind;

typedef struct http_route {
    http_route_kind kind;
    const disco_op *op; /* ROUTE_OP */
    unsigned methods;   /* the methods it allows (OPTIONS always) */
    int is_api;         /* under /api/: needs a token when tokens are on */
    char arg[256];      /* {id}, {hash} or the file under /ui/ */
} http_route;

typedef struct http_reply {
    unsigned status;
    json_t *body;             /* JSON body, owned; NULL for none */
    struct MHD_Response *raw; /* a ready response used instead of body */
    char etag[80];            /* with its quotes */
    char location[160];
    char content_type[64]; /* for raw responses */
    char content_range[96];
    unsigned allow;       /* methods for 405 and OPTIONS */
    int retry_after;      /* seconds; 0 for none */
    const char *www_auth; /* WWW-Authenticate value, or NULL */
    int immutable;        /* content-addressed: cache forever */
    char applied[24];     /* Preference-Applied value; "" for none */
    int suspended;        /* no reply now: the connection waits for a job */
} http_reply;

typedef struct http_upload http_upload;

typedef struct http_req {
    disco_http *srv;
    struct MHD_Connection *conn;
    http_route rt;
    unsigned method;
    char principal[128];
    int role;   /* disco_role; DISCO_ROLE_NONE when tokens are off */
    char *body; /* JSON body as received */
    size_t len, cap;
    uint64_t received; /* bytes of body so far */
    int overflow;      /* the body went past its limit: dropped, 413 at the end */
    http_upload *up;   /* PUT /api/objects in progress */
    int stream;        /* POST to an op with a non-JSON body: the body is its input ("-") */
    int spool_fd;      /* that body, in an unlinked file; -1: none, or handed on */
    int spool_err;     /* errno of a failed write to it (answered at the end); 0: none */
    const disco_param *stream_param; /* the op's input stream param */
    unsigned status;                 /* what was answered, for the log */
    uint64_t t0_ns;
    char what[96];              /* "GET /healthz" for the log */
    http_watch *watch;          /* Prefer: wait in progress (the connection is suspended) */
    char job[DISCO_ID_LEN + 1]; /* the job it waits for */
    int slow; /* waits on purpose (streams, Prefer: wait): not in latency figures */
} http_req;

/* ---- route.c ---- */
unsigned disco__http_method(const char *name);
/* Resolves `path` (no query string) into *rt; kind ROUTE_NONE when unknown. */
void disco__http_route(const char *path, http_route *rt);
/* "GET, HEAD, OPTIONS" for a set of methods. */
void disco__http_allow_text(unsigned methods, char *buf, size_t size);
/* "GET" for one method bit, "OTHER" for none. */
const char *disco__http_method_name(unsigned method);
/* The route's pattern for metrics: "/api/resources/{id}", "/api/ts/write", ... */
void disco__http_route_pattern(const http_route *rt, char *buf, size_t size);

/* ---- reply.c ---- */
/* The status for a disco_err code. */
unsigned disco__http_status(int rc);
/* Sets `r` to the JSON error for rc/st with the status mapped from rc. */
void disco__http_error(http_reply *r, int rc, const disco_status *st);
/* Sets `r` to an error with an explicit status. */
void disco__http_fail(http_reply *r, unsigned status, int rc, const char *field, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
/* Sets `r` to 200 with `body` (reference stolen). */
void disco__http_ok(http_reply *r, unsigned status, json_t *body);
/* Queues `r` on the connection and releases it; MHD_NO when that failed. */
enum MHD_Result disco__http_send(struct MHD_Connection *c, http_reply *r);
void disco__http_reply_release(http_reply *r);

/* ---- guard.c ---- */
/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
int disco__http_is_loopback(const struct sockaddr *sa);
/*
 * Who is asking and may they: the bearer token when tokens are on (for
 * /api/, and /metrics from other hosts), then the rate limit. Sets
 * rq->principal and rq->role; on refusal sets a 401/429/5xx reply and
 * returns -1.
 */
int disco__http_guard(http_req *rq, http_reply *r);

/* ---- api.c ---- */
/* Handles ROUTE_OP, ROUTE_RESOURCE*, ROUTE_HEALTH and ROUTE_READY once the body is in. */
void disco__http_api(http_req *rq, http_reply *r);
/* 1 when the request's role may call `op`, else a 403 reply and 0. */
int disco__http_role_allows(const http_req *rq, const disco_op *op, http_reply *r);
/* A context for the request (principal and role set), or an error reply and NULL. */
disco_ctx *disco__http_ctx(http_req *rq, http_reply *r);

/* ---- services.c ---- */
/* Rate limiter, metrics, the shared tsdb, job workers and the monitor. */
int disco__http_services_start(disco_http *srv, disco_status *st);
/* Before the daemon stops: ends the monitor, the jobs and every watch thread. */
void disco__http_services_quiesce(disco_http *srv);
/* After the daemon stopped: frees what services_start made. */
void disco__http_services_free(disco_http *srv);
/* The shared tsdb, or NULL (then tries to open it, at most every few seconds). */
disco_tsdb *disco__http_tsdb(disco_http *srv);
/* Gives a request's or job's context the stores the server shares. */
void disco__http_share(disco_http *srv, disco_ctx *ctx);
/* The disco_err named `name` ("INVAL"), or DISCO_ERR_INTERNAL. */
int disco__http_err_code(const char *name);

/* ---- jobs_api.c ---- */
/* Queues a long op (params validated; borrowed) and sets the 202, or waits (Prefer: wait). */
void disco__http_job_submit(http_req *rq, const disco_op *op, const json_t *params, http_reply *r);
/* The reply to a request resumed after Prefer: wait. */
void disco__http_job_waited(http_req *rq, http_reply *r);
/* ROUTE_JOBS, ROUTE_JOB and ROUTE_JOB_EVENTS. */
void disco__http_jobs(http_req *rq, http_reply *r);

/* ---- watch.c ---- */
/* An event stream of job rq->rt.arg after event `after`: a raw reply, or an error. */
void disco__http_job_events(http_req *rq, uint64_t after, http_reply *r);
/*
 * Waits up to `wait_s` seconds for job `id` to end on a thread of its own
 * and suspends rq's connection meanwhile (rq->watch, r->suspended); the
 * thread resumes it. 0, or -1 when no thread is free: answer at once.
 */
int disco__http_watch_wait(http_req *rq, const char *id, int wait_s, http_reply *r);
/* Drops the request's hold on its watch (on completion). */
void disco__http_watch_release(http_watch *w);
/* Waits until every watch thread has ended (after the jobs shut down). */
void disco__http_watchers_drain(disco_http *srv);

/* ---- metrics.c ---- */
int disco__http_metrics_new(disco_http *srv, http_metrics **out, disco_status *st);
void disco__http_metrics_free(http_metrics *m);
/* Counts a finished request (status, route, method) and its duration. */
void disco__http_metrics_observe(disco_http *srv, const http_req *rq, double seconds);
/* A disco_jobs_done_fn; `user` is the server. */
void disco__http_metrics_job_done(void *user, const char *op, disco_job_state state, double queue_s,
                                  double run_s);
/* Adds n points written to the tsdb by `source`. */
void disco__http_metrics_tsdb_written(http_metrics *m, const char *source, double n);
/*
 * Counts what a successful op reports (ts.write: its "written" points as
 * source="api"). A disco_jobs_result_fn; `user` is the server.
 */
void disco__http_metrics_op_result(void *user, const char *op, const json_t *result);
/* Requests, 5xx answers and the 95th percentile latency (ms) since the last call. */
void disco__http_metrics_window(http_metrics *m, uint64_t *requests, uint64_t *errors,
                                double *p95_ms);
/* GET /metrics. */
void disco__http_metrics_page(http_req *rq, http_reply *r);

/* ---- selfmon.c ---- */
int disco__http_monitor_start(disco_http *srv, disco_status *st);
void disco__http_monitor_stop(disco_http *srv);

/* ---- patch.c ---- */
/*
 * Turns a JSON merge patch of a resource ({"tags": {"k": null}, "metadata":
 * {...}, ...}) and an If-Match header (may be NULL) into resource.update
 * params added to `raw`. INVAL naming the member for what cannot change.
 */
int disco__http_patch_params(const json_t *patch, const char *if_match, json_t *raw,
                             disco_status *st);

/* ---- objects_api.c ---- */
int disco__http_upload_begin(http_req *rq, http_reply *r);
/* Feeds a chunk (dropped once the put has failed: its error is answered at the end). */
void disco__http_upload_data(http_req *rq, const char *data, size_t n);
void disco__http_upload_finish(http_req *rq, http_reply *r);
/* Cancels an upload (client gone, body too large); nothing is stored. */
void disco__http_upload_abort(http_req *rq);
void disco__http_object_get(http_req *rq, http_reply *r);

/* ---- streams.c ---- */
/*
 * 1 when a request body of this Content-Type (NULL: none) holds an op's
 * parameters: application/json, any +json type, and
 * application/x-www-form-urlencoded (what `curl -d` sends).
 */
int disco__http_type_is_params(const char *content_type);
/* The first parameter of `op` flagged DISCO_PARAM_STREAM_IN, or NULL. */
const disco_param *disco__http_stream_param(const disco_op *op);
/*
 * The value of `op`'s "format" parameter that `content_type` names
 * (text/csv -> "csv", text/plain -> "line", ...) when it is one of the
 * param's choices; NULL otherwise.
 */
const char *disco__http_stream_format(const disco_op *op, const char *content_type);
/* Sets rq->stream for a POST to an op whose body is not JSON (before the headers are checked). */
void disco__http_stream_detect(http_req *rq);
/* Once the headers passed: the op's stream param (415), its role (403), the spool file. */
int disco__http_stream_begin(http_req *rq, http_reply *r);
void disco__http_stream_data(http_req *rq, const char *data, size_t n);
/* Drops the spooled body (over the limit, or the request is done). */
void disco__http_stream_release(http_req *rq);
/*
 * Completes the raw params (query arguments) of a streamed request: the
 * stream param set to "-", "format" from the Content-Type; rewinds the
 * body. 0, or -1 with a 400 (empty body, another file named) or 5xx.
 */
int disco__http_stream_params(http_req *rq, json_t *raw, http_reply *r);
/*
 * An unlinked read-write file under <data>/tmp (made when missing); the
 * descriptor, or -1 with errno.
 */
int disco__http_spool_open(const disco_http *srv);
/* A 5xx reply for a spool file (`what`) that could not be made or written. */
void disco__http_spool_failed(http_reply *r, int err, const char *what);
/* The spooled body for a job, which then owns it; -1 when none. */
int disco__http_stream_take(http_req *rq);
/*
 * 1 when `op` (validated `params`) reads its input stream ("-") but the
 * request sent JSON: then a 400 saying how to send the input.
 */
int disco__http_stream_missing(const http_req *rq, const disco_op *op, const json_t *params,
                               http_reply *r);

/* ---- outputs.c ---- */
/* The first parameter of `op` flagged DISCO_PARAM_STREAM_OUT, or NULL. */
const disco_param *disco__http_output_param(const disco_op *op);
/* The media type of what `p` writes (its `media`, or application/octet-stream). */
const char *disco__http_output_media(const disco_param *p);
/*
 * {"hash", "size", "media_type", "url": "/api/objects/<hash>"}: where an
 * op's output was kept. New reference; NULL when out of memory.
 */
json_t *disco__http_output_json(const disco_object_info *info, const char *media);
/*
 * The output stream for `op` run with validated `params`: a fresh spool
 * file in *fd when its STREAM_OUT param is "-", else -1. 0, or -1 with a
 * 5xx reply when the file cannot be made.
 */
int disco__http_output_open(const http_req *rq, const disco_op *op, const json_t *params, int *fd,
                            http_reply *r);
/*
 * A disco_jobs_output_fn (inline runs call it too): stores what the op of
 * `ctx` wrote to `fd` as an object, records the upload for the context's
 * principal (so it may GET it) and sets result.output. Errors: IO, NOSPC,
 * CANCELLED from the store; the catalog's; NOMEM. `user` is unused.
 */
int disco__http_output_keep(void *user, disco_ctx *ctx, const disco_op *op, int fd, json_t *result,
                            disco_status *st);

/* ---- pages.c ---- */
char *disco__http_index_html(size_t *len);
void disco__http_ui(http_req *rq, http_reply *r);
void disco__http_openapi(http_req *rq, http_reply *r);

#endif
