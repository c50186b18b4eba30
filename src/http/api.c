/*
 * api.c - the routes that run operations: POST /api/<group>/<verb> (and
 * the aliases), the resource routes, and /healthz and /readyz.
 *
 * Every op route ends in run_op(), the HTTP twin of the CLI's run_op():
 *
 *   JSON body / query args / path  ->  raw params
 *     (a body of another media type is the op's input: streams.c)
 *   refuse server paths unless allowed, check the token's role
 *   disco_ops_validate()  ->  400 with the field on any error
 *   a long op (DISCO_OP_LONG)  ->  a job (jobs_api.c): 202
 *   else a fresh disco_ctx (principal of the token, the streams of "-")
 *     ->  disco_ops_run()  (an output "-" then kept as an object: outputs.c)
 *   200 with the result, or the error with its mapped status
 */
#include "http_int.h"

#include "disco/access.h"
#include "disco/id.h"
#include "disco/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- who is asking ------------------------------------------------------- */

int disco__http_role_allows(const http_req *rq, const disco_op *op, http_reply *r)
{
    disco_status st = {0};
    int rc = disco_access_op_check(op, (disco_role)rq->role, &st);

    if (rc == DISCO_OK)
        return 1;
    disco__http_error(r, rc, &st);
    return 0;
}

disco_ctx *disco__http_ctx(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    disco_ctx *ctx;
    int rc = disco_ctx_new(&rq->srv->cfg, &ctx, &st);

    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return NULL;
    }
    disco_ctx_set_principal(ctx, rq->principal);
    disco_ctx_set_role(ctx, (disco_role)rq->role);
    disco__http_share(rq->srv, ctx);
    return ctx;
}

/* ---- raw parameters ------------------------------------------------------ */

typedef struct query_acc {
    json_t *raw;
    const char *bad; /* a key whose value is not UTF-8 */
} query_acc;

/* One query argument; a repeated key collects a list ("?tags=a=b&tags=c=d"). */
static enum MHD_Result add_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    query_acc *acc = cls;
    json_t *v = json_string(value ? value : "true"), *k = json_string(key), *old;
    int key_ok = k != NULL;

    (void)kind;
    json_decref(k);
    if (!v || !key_ok) {
        acc->bad = key;
        json_decref(v);
        return MHD_NO;
    }
    old = json_object_get(acc->raw, key);
    if (!old) {
        json_object_set_new(acc->raw, key, v);
    } else if (json_is_array(old)) {
        json_array_append_new(old, v);
    } else {
        json_t *list = json_pack("[O, o]", old, v);
        json_object_set_new(acc->raw, key, list);
    }
    return MHD_YES;
}

/* The query arguments as raw params (strings, converted like CLI words). */
static json_t *query_params(http_req *rq, http_reply *r)
{
    query_acc acc = {json_object(), NULL};

    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_query_arg, &acc);
    if (acc.bad) {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, NULL,
                         "query argument is not valid UTF-8 text");
        json_decref(acc.raw);
        return NULL;
    }
    return acc.raw;
}

static int has_query(http_req *rq)
{
    return MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0;
}

/* The JSON body as raw params; an empty body is {}. */
static json_t *body_params(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    json_t *raw;
    int rc;

    if (rq->len == 0)
        return json_object();
    rc = disco_json_parse_object(rq->body, rq->len, "request body", &raw, &st);
    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        if (rc != DISCO_ERR_NOMEM)
            r->status = MHD_HTTP_BAD_REQUEST;
        return NULL;
    }
    return raw;
}

static int paths_allowed(const http_req *rq, const disco_op *op, const json_t *raw, http_reply *r)
{
    const char *key;
    json_t *v;

    if (rq->srv->hc.allow_local_paths)
        return 1;
    json_object_foreach ((json_t *)raw, key, v) {
        const disco_param *p = disco_ops_param(op, key);
        if (!p || !disco_ops_param_names_file(p, v))
            continue;
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, p->name,
                         p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_IN)
                             ? "param '%s': names a file on the server, which HTTP clients may "
                               "not do; send the content itself as the request body in its own "
                               "media type (parameters in the query string), or upload it with "
                               "PUT /api/objects"
                         : p->type == DISCO_P_PATH
                             ? "param '%s': names a file on the server, which HTTP clients may "
                               "not do; upload content with PUT /api/objects"
                         : p->type == DISCO_P_STRING /* a "file or resource id" param */
                             ? "param '%s': over HTTP this must be the id of a resource, not a "
                               "file on the server"
                             : "param '%s': \"@FILE\" reads a file on the server, which HTTP "
                               "clients may not do; send the JSON value itself",
                         p->name);
        return 0;
    }
    return 1;
}

/* ---- running an op ----------------------------------------------------------- */

static int validate(const disco_op *op, const json_t *raw, json_t **params, http_reply *r)
{
    disco_status st = {0};
    int rc = disco_ops_validate(op, raw, params, &st);

    if (rc == DISCO_OK)
        return 1;
    disco__http_error(r, rc, &st);
    if (r->status >= 500 && rc != DISCO_ERR_NOMEM)
        r->status = MHD_HTTP_BAD_REQUEST; /* bad input is never the server's fault */
    return 0;
}

/*
 * Runs `op` now in `ctx`, reading the request body for "-" when it is the
 * input; what it writes to "-" is kept as an object (outputs.c).
 */
static void run_inline(http_req *rq, disco_ctx *ctx, const disco_op *op, const json_t *params,
                       http_reply *r)
{
    json_t *result = NULL;
    disco_status st = {0};
    int out_fd, rc;

    if (disco__http_output_open(rq, op, params, &out_fd, r) != 0)
        return;
    disco_ctx_set_streams(ctx, rq->stream ? rq->spool_fd : -1, out_fd);
    rc = disco_ops_run(ctx, op, params, &result, &st);
    if (rc == DISCO_OK && out_fd >= 0)
        rc = disco__http_output_keep(rq->srv, ctx, op, out_fd, result, &st);
    if (out_fd >= 0)
        close(out_fd);
    if (rc == DISCO_OK) {
        disco__http_metrics_op_result(rq->srv, op->name, result);
        disco__http_ok(r, MHD_HTTP_OK, result);
    } else {
        json_decref(result);
        disco__http_error(r, rc, &st);
    }
}

/* Runs `op` on `raw` (borrowed) and sets the reply. */
static void run_op(http_req *rq, const disco_op *op, const json_t *raw, http_reply *r)
{
    json_t *params = NULL;
    disco_ctx *ctx = NULL;

    if (!disco__http_role_allows(rq, op, r) || !paths_allowed(rq, op, raw, r) ||
        !validate(op, raw, &params, r))
        return;
    if (disco__http_stream_missing(rq, op, params, r))
        goto release_params;
    if (op->flags & DISCO_OP_LONG) {
        disco__http_job_submit(rq, op, params, r);
        goto release_params;
    }
    ctx = disco__http_ctx(rq, r);
    if (ctx)
        run_inline(rq, ctx, op, params, r);
    disco_ctx_free(ctx);
release_params:
    json_decref(params);
}

static void post_op(http_req *rq, http_reply *r)
{
    json_t *raw;

    if (rq->stream) { /* the body is the op's input; its params are the query's */
        raw = query_params(rq, r);
        if (raw && disco__http_stream_params(rq, raw, r) == 0)
            run_op(rq, rq->rt.op, raw, r);
        else if (raw && !r->status)
            disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL,
                             "out of memory");
        json_decref(raw);
        return;
    }
    if (rq->method != HTTP_POST) { /* a listing op read with GET */
        raw = query_params(rq, r);
        if (raw)
            run_op(rq, rq->rt.op, raw, r);
        json_decref(raw);
        return;
    }
    if (has_query(rq)) {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, NULL,
                         "POST %s takes its parameters in the JSON body, not the query string%s",
                         rq->rt.op->name,
                         disco__http_stream_param(rq->rt.op)
                             ? " (they go in the query string when the body is the input itself, "
                               "sent in another media type than JSON)"
                             : "");
        return;
    }
    raw = body_params(rq, r);
    if (raw)
        run_op(rq, rq->rt.op, raw, r);
    json_decref(raw);
}

/* ---- resources --------------------------------------------------------------- */

/* Puts the {id} of the path into raw; 0 when the query named one too. */
static int add_path_id(http_req *rq, json_t *raw, http_reply *r)
{
    if (json_object_get(raw, "id")) {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, "id",
                         "param 'id': given by the path, not the query string");
        return 0;
    }
    json_object_set_new(raw, "id", json_string(rq->rt.arg));
    return 1;
}

/* Runs a GET/DELETE resource op from the query args (and the path id). */
static void resource_query_op(http_req *rq, const char *name, int with_id, http_reply *r)
{
    json_t *raw = query_params(rq, r);

    if (raw && (!with_id || add_path_id(rq, raw, r)))
        run_op(rq, disco_ops_find(name), raw, r);
    json_decref(raw);
}

/* ETag "v<N>" of a resource result, so a client can PATCH with If-Match. */
static void set_version_etag(http_reply *r)
{
    json_t *v = r->status == MHD_HTTP_OK ? json_object_get(r->body, "version") : NULL;

    if (json_is_integer(v))
        snprintf(r->etag, sizeof r->etag, "\"v%lld\"", (long long)json_integer_value(v));
}

static void patch_resource(http_req *rq, http_reply *r)
{
    const char *if_match =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
    json_t *patch = body_params(rq, r), *raw = json_object();
    disco_status st = {0};
    int rc;

    if (patch && add_path_id(rq, raw, r)) {
        rc = disco__http_patch_params(patch, if_match, raw, &st);
        if (rc == DISCO_OK)
            run_op(rq, disco_ops_find("resource.update"), raw, r);
        else
            disco__http_fail(r, MHD_HTTP_BAD_REQUEST, rc, st.field, "%s", st.msg);
        if (if_match && r->status == MHD_HTTP_CONFLICT)
            r->status = MHD_HTTP_PRECONDITION_FAILED;
    }
    json_decref(patch);
    json_decref(raw);
}

static void resource_route(http_req *rq, http_reply *r)
{
    switch (rq->rt.kind) {
    case ROUTE_RESOURCES:
        resource_query_op(rq, "resource.list", 0, r);
        break;
    case ROUTE_RESOURCE_VERSIONS:
        resource_query_op(rq, "resource.history", 1, r);
        break;
    case ROUTE_RESOURCE_LINEAGE:
        resource_query_op(rq, "resource.lineage", 1, r);
        break;
    default:
        if (rq->method == HTTP_PATCH) {
            patch_resource(rq, r);
        } else if (rq->method == HTTP_DELETE) {
            resource_query_op(rq, "resource.delete", 1, r);
        } else {
            resource_query_op(rq, "resource.get", 1, r);
            set_version_etag(r);
        }
        break;
    }
}

/* ---- health ---------------------------------------------------------------- */

/* Ready when the catalog and the object store open. */
static void readiness(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    disco_catalog *cat;
    disco_objects *objs;
    disco_ctx *ctx = disco__http_ctx(rq, r);
    int rc;

    if (!ctx)
        return;
    rc = disco_ctx_catalog(ctx, &cat, &st);
    if (rc == DISCO_OK)
        rc = disco_ctx_objects(ctx, &objs, &st);
    if (rc == DISCO_OK) {
        disco__http_ok(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ready"));
    } else {
        disco__http_error(r, rc, &st);
        json_object_set_new(r->body, "status", json_string("unavailable"));
        r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    disco_ctx_free(ctx);
}

void disco__http_api(http_req *rq, http_reply *r)
{
    switch (rq->rt.kind) {
    case ROUTE_HEALTH:
        disco__http_ok(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
        break;
    case ROUTE_READY:
        readiness(rq, r);
        break;
    case ROUTE_OP:
        post_op(rq, r);
        break;
    default:
        resource_route(rq, r);
        break;
    }
}
