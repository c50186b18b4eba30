/*
 * http_int.h - internals shared by the files of the HTTP server.
 *
 *   server.c       the daemon: listening socket, MHD callbacks, request life
 *   route.c        URL + method -> route (ops come from the table)
 *   reply.c        responses: JSON bodies, errors and their statuses, headers
 *   api.c          op routes, resource routes, health and readiness
 *   patch.c        PATCH /api/resources/{id}: merge patch -> resource.update
 *   objects_api.c  streamed object upload and download (ETag, Range)
 *   pages.c        the index page and static files under /ui/
 *
 * A request's life (MHD calls the access handler repeatedly):
 *
 *   first call        route, authenticate, check declared size -> maybe reply now
 *   body chunks       appended to rq->body (JSON) or written to an upload pipe
 *   last call         run the route's handler, queue its reply
 *   completed         free the request; abort an unfinished upload
 */
#ifndef DISCO_HTTP_INT_H
#define DISCO_HTTP_INT_H

#include "disco/http.h"
#include "disco/ops.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>

struct disco_http {
    disco_config cfg;
    disco_http_config hc;
    struct MHD_Daemon *mhd;
    int wake[2]; /* disco_http_interrupt() writes, disco_http_wait() reads */
    int port;
    unsigned threads;
    int max_long_ops;
    atomic_int long_ops; /* long ops running now */
    char url[300];
    char *index_html; /* the page at "/", made once */
    size_t index_len;
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
    unsigned status;   /* what was answered, for the log */
    uint64_t t0_ns;
    char what[96]; /* "GET /healthz" for the log */
} http_req;

/* ---- route.c ---- */
unsigned disco__http_method(const char *name);
/* Resolves `path` (no query string) into *rt; kind ROUTE_NONE when unknown. */
void disco__http_route(const char *path, http_route *rt);
/* "GET, HEAD, OPTIONS" for a set of methods. */
void disco__http_allow_text(unsigned methods, char *buf, size_t size);

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

/* ---- api.c ---- */
/* Checks the bearer token when tokens are on; replies 401/403/5xx and returns -1 on failure. */
int disco__http_authenticate(http_req *rq, http_reply *r);
/* Handles ROUTE_OP, ROUTE_RESOURCE*, ROUTE_HEALTH and ROUTE_READY once the body is in. */
void disco__http_api(http_req *rq, http_reply *r);
/* 1 when the request's role may call `op`, else a 403 reply and 0. */
int disco__http_role_allows(const http_req *rq, const disco_op *op, http_reply *r);
/* A context for the request (principal and role set), or an error reply and NULL. */
disco_ctx *disco__http_ctx(http_req *rq, http_reply *r);

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

/* ---- pages.c ---- */
char *disco__http_index_html(size_t *len);
void disco__http_ui(http_req *rq, http_reply *r);
void disco__http_openapi(http_req *rq, http_reply *r);

#endif
