/*
 * openapi_routes.c - the parts of the OpenAPI document that are not
 * "POST an op": the REST routes over resources, objects and jobs, health,
 * readiness and metrics, GET on the listing ops the server also routes for
 * GET, and the error responses they share. The routes
 * are the server's (http.h); where a route stands for an op, its query
 * parameters still come from that op's schema. Schemas are in
 * openapi_schemas.c.
 */
#include "openapi_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
    unsigned status;
    const char *name, *text;
} errors[] = {
    {400, "BadRequest", "the request or one of its parameters is invalid (code INVAL or USAGE)"},
    {401, "Unauthorized", "no valid API token"},
    {403, "Forbidden", "the token's role or the resource's access control forbids it (PERM)"},
    {404, "NotFound", "no such route, resource, object or job (NOTFOUND)"},
    {409, "Conflict", "conflicts with the current state, e.g. a stale version (EXISTS, CONFLICT)"},
    {413, "TooLarge", "the request body is larger than the server accepts (LIMIT)"},
    {415, "UnsupportedMediaType",
     "a body neither JSON nor the input of an op that reads one (UNSUPPORTED)"},
    {429, "TooMany", "too many requests from this principal; see Retry-After"},
    {503, "Unavailable", "the server is busy or its job queue is full; see Retry-After (BUSY)"},
};

static const unsigned E_READ[] = {400, 401, 403, 404, 0};
static const unsigned E_WRITE[] = {400, 401, 403, 404, 409, 0};
static const unsigned E_NONE[] = {0};

/* Sets o[k] = v (stolen, even on failure); 1 when o or v is NULL or the set failed. */
static int put(json_t *o, const char *k, json_t *v)
{
    if (!o) {
        json_decref(v);
        return 1;
    }
    return json_object_set_new(o, k, v) != 0;
}

void disco__openapi_errors(json_t *responses, const unsigned *statuses)
{
    char key[8];

    for (; *statuses; statuses++)
        for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
            if (errors[i].status == *statuses) {
                snprintf(key, sizeof key, "%u", *statuses);
                json_object_set_new(responses, key,
                                    disco__openapi_ref("responses", errors[i].name));
            }
    json_object_set_new(responses, "default", disco__openapi_ref("responses", "ServerError"));
}

json_t *disco__openapi_error_responses(void)
{
    json_t *r = json_object();
    int bad = !r;

    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        bad |= put(r, errors[i].name,
                   json_pack("{s:s, s:{s:{s:o}}}", "description", errors[i].text, "content",
                             "application/json", "schema", disco__openapi_ref("schemas", "Error")));
    bad |= put(r, "ServerError",
               json_pack("{s:s, s:{s:{s:o}}}", "description", "the server failed (5xx)", "content",
                         "application/json", "schema", disco__openapi_ref("schemas", "Error")));
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/*
 * Responses: `status` with `text` and, when `type` is not NULL, a body of
 * that media type and `schema` (stolen); then the error statuses.
 */
static json_t *resp(const char *status, const char *text, const char *type, json_t *schema,
                    const unsigned *errs)
{
    json_t *one = json_pack("{s:s}", "description", text), *r;

    if (type && put(one, "content", json_pack("{s:{s:o}}", type, "schema", schema))) {
        json_decref(one);
        return NULL;
    }
    r = json_pack("{s:o}", status, one);
    if (r)
        disco__openapi_errors(r, errs);
    return r;
}

static json_t *json_resp(const char *status, const char *text, const char *schema,
                         const unsigned *errs)
{
    return resp(status, text, "application/json", disco__openapi_ref("schemas", schema), errs);
}

/* An operation object; `params` and `body` may be NULL (none). Steals all. */
static json_t *oper(const char *id, const char *summary, json_t *params, json_t *body,
                    json_t *responses)
{
    json_t *o =
        json_pack("{s:s, s:s, s:o}", "operationId", id, "summary", summary, "responses", responses);
    int bad = 0;

    if (params)
        bad |= put(o, "parameters", params);
    if (body)
        bad |= put(o, "requestBody", body);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* An operation open to everyone: no token needed. */
static json_t *public_oper(const char *id, const char *summary, json_t *responses)
{
    json_t *o = oper(id, summary, NULL, NULL, responses);

    if (put(o, "security", json_array())) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *query_of(const char *op_name, const char *const *skip)
{
    const disco_op *op = disco_ops_find(op_name);

    return op ? disco__openapi_query_params(op, skip) : json_array();
}

static json_t *header(const char *name, const char *text)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", name, "in", "header", "required", 0,
                     "description", text, "schema", "type", "string");
}

/* A path item whose operations share one path parameter (NULL: none). */
static json_t *item(const char *path_param)
{
    if (!path_param)
        return json_object();
    return json_pack("{s:[o]}", "parameters", disco__openapi_ref("parameters", path_param));
}

/* ---- resources ---------------------------------------------------------- */

static const char *const no_id[] = {"id", NULL};

static json_t *resource_item(void)
{
    json_t *it = item("ResourceIdPath");
    json_t *get_ok = json_resp("200", "the resource; ETag \"v<version>\"", "Resource", E_READ);
    int bad = put(it, "get",
                  oper("resources_get", "a resource (resource.get)",
                       query_of("resource.get", no_id), NULL, get_ok));

    bad |= put(
        it, "patch",
        oper("resources_update", "a new version from a JSON merge patch (resource.update)",
             json_pack("[o]", header("If-Match", "\"v<version>\": refused (409) unless "
                                                 "it is the current version")),
             json_pack("{s:b, s:{s:{s:{s:s, s:s}}}}", "required", 1, "content",
                       "application/merge-patch+json", "schema", "type", "object", "description",
                       "RFC 7396 merge patch of tags, metadata, parent_resources and "
                       "access_control"),
             json_resp("200", "the new version", "Resource", E_WRITE)));
    bad |= put(it, "delete",
               oper("resources_delete", "marks a resource deleted (resource.delete)", NULL, NULL,
                    json_resp("200", "the resource as deleted", "Resource", E_WRITE)));
    if (bad) {
        json_decref(it);
        return NULL;
    }
    return it;
}

static int resource_paths(json_t *paths)
{
    json_t *list = item(NULL), *versions = item("ResourceIdPath"),
           *lineage = item("ResourceIdPath");
    int bad = put(list, "get",
                  oper("resources_list", "resources matching filters (resource.list)",
                       query_of("resource.list", NULL), NULL,
                       json_resp("200", "a page of resources", "ResourceList", E_READ)));

    bad |= put(versions, "get",
               oper("resources_versions", "every version, oldest first (resource.history)", NULL,
                    NULL, json_resp("200", "the versions", "ResourceList", E_READ)));
    bad |= put(lineage, "get",
               oper("resources_lineage", "ancestors or descendants (resource.lineage)",
                    query_of("resource.lineage", no_id), NULL,
                    resp("200", "the lineage graph", "application/json",
                         json_pack("{s:s}", "type", "object"), E_READ)));
    bad |= put(paths, "/api/resources", list);
    bad |= put(paths, "/api/resources/{id}", resource_item());
    bad |= put(paths, "/api/resources/{id}/versions", versions);
    bad |= put(paths, "/api/resources/{id}/lineage", lineage);
    return bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

/* ---- objects ------------------------------------------------------------ */

static json_t *object_get_responses(void)
{
    json_t *r = resp("200", "the whole object; ETag is its hash", "application/octet-stream",
                     json_object(), E_READ);
    int bad = put(r, "206",
                  json_pack("{s:s, s:{s:{s:{s:s}}}, s:{s:{}}}", "description",
                            "the part asked for with Range", "headers", "Content-Range", "schema",
                            "type", "string", "content", "application/octet-stream"));

    bad |= put(r, "304", json_pack("{s:s}", "description", "If-None-Match matched the ETag"));
    bad |= put(r, "416", json_pack("{s:s}", "description", "the Range is outside the object"));
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

static json_t *object_params(void)
{
    return json_pack("[o, o]", header("Range", "one byte range, e.g. bytes=0-1023"),
                     header("If-None-Match", "the ETag already held"));
}

static int object_paths(json_t *paths)
{
    static const unsigned e_put[] = {400, 401, 403, 413, 0};
    json_t *up = item(NULL), *one = item("ObjectHashPath");
    int bad =
        put(up, "put",
            oper("objects_put", "stores the body as a content-addressed object", NULL,
                 json_pack("{s:b, s:{s:{}}}", "required", 1, "content", "application/octet-stream"),
                 json_resp("201", "stored (or already there)", "ObjectInfo", e_put)));

    bad |= put(one, "get",
               oper("objects_get", "an object's bytes, whole or a Range", object_params(), NULL,
                    object_get_responses()));
    bad |= put(one, "head",
               oper("objects_head", "an object's size and ETag", object_params(), NULL,
                    resp("200", "the object exists", NULL, NULL, E_READ)));
    bad |= put(paths, "/api/objects", up);
    bad |= put(paths, "/api/objects/{hash}", one);
    return bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

/* ---- jobs --------------------------------------------------------------- */

static json_t *events_params(void)
{
    return json_pack(
        "[o, {s:s, s:s, s:b, s:s, s:{s:s, s:i}}]",
        header("Last-Event-ID", "resume after this event sequence number (as sent in `id:`)"),
        "name", "after", "in", "query", "required", 0, "description",
        "resume after this event sequence number (0: from the oldest kept)", "schema", "type",
        "integer", "minimum", 0);
}

static int job_paths(json_t *paths)
{
    static const unsigned e_cancel[] = {401, 403, 404, 409, 0};
    static const unsigned e_list[] = {401, 0};
    json_t *list = item(NULL), *one = item("JobIdPath"), *events = item("JobIdPath");
    int bad = put(list, "get",
                  oper("jobs_list",
                       "the caller's jobs, newest first (admins see every job): {items, count}",
                       NULL, NULL,
                       resp("200", "the jobs, without their results", "application/json",
                            json_pack("{s:s}", "type", "object"), e_list)));

    bad |= put(one, "get",
               oper("jobs_get", "a job: state, progress, then result or error", NULL, NULL,
                    json_resp("200", "the job", "Job", E_READ)));

    json_t *cancel = json_resp("200", "cancelled: the job after the request", "Job", e_cancel);
    bad |= put(cancel, "202",
               json_pack("{s:s, s:{s:{s:o}}}", "description",
                         "a running job asked to stop (at its next progress report)", "content",
                         "application/json", "schema", disco__openapi_ref("schemas", "Job")));
    bad |= put(one, "delete",
               oper("jobs_cancel",
                    "cancels a job: a queued one at once, a running one at its next progress "
                    "report; 409 when it has already finished",
                    NULL, NULL, cancel));
    bad |= put(events, "get",
               oper("jobs_events",
                    "the job's events as server-sent events: `id: <seq>`, `event: state` or "
                    "`event: progress`, `data: <JobEvent JSON>`; the stream ends after the "
                    "event of the final state",
                    events_params(), NULL,
                    resp("200", "an event stream", "text/event-stream",
                         json_pack("{s:s}", "type", "string"), E_READ)));
    bad |= put(paths, "/api/jobs", list);
    bad |= put(paths, "/api/jobs/{id}", one);
    bad |= put(paths, "/api/jobs/{id}/events", events);
    return bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

/* ---- operations --------------------------------------------------------- */

static int service_paths(json_t *paths)
{
    json_t *ready = resp("200", "ready: the stores open", "application/json",
                         json_pack("{s:s}", "type", "object"), E_NONE);
    int bad = put(ready, "503", disco__openapi_ref("responses", "Unavailable"));

    bad |= put(paths, "/healthz",
               json_pack("{s:o}", "get",
                         public_oper("healthz", "liveness",
                                     resp("200", "the server is running", "application/json",
                                          json_pack("{s:s}", "type", "object"), E_NONE))));
    bad |=
        put(paths, "/readyz", json_pack("{s:o}", "get", public_oper("readyz", "readiness", ready)));
    bad |= put(paths, "/metrics",
               json_pack("{s:o}", "get",
                         public_oper("metrics", "Prometheus metrics, text format 0.0.4",
                                     resp("200", "the exposition", "text/plain",
                                          json_pack("{s:s}", "type", "string"), E_NONE))));
    bad |= put(paths, "/api/openapi.json",
               json_pack("{s:o}", "get",
                         public_oper("openapi", "this document",
                                     resp("200", "the OpenAPI 3.1 document", "application/json",
                                          json_pack("{s:s}", "type", "object"), E_NONE))));
    return bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

/* GET on the listing ops the server also routes for GET (their params as query args). */
static int listing_gets(json_t *paths)
{
    json_t *it = json_object_get(paths, "/api/monitor/alerts");

    if (!it)
        return DISCO_OK;
    return put(it, "get",
               oper("monitor_alerts_get", "alerts raised by alert rules (monitor.alerts)",
                    query_of("monitor.alerts", NULL), NULL,
                    resp("200", "{items, count}", "application/json",
                         json_pack("{s:s}", "type", "object"), E_READ)))
               ? DISCO_ERR_NOMEM
               : DISCO_OK;
}

int disco__openapi_routes(json_t *paths)
{
    int rc = resource_paths(paths);

    if (rc == DISCO_OK)
        rc = object_paths(paths);
    if (rc == DISCO_OK)
        rc = job_paths(paths);
    if (rc == DISCO_OK)
        rc = service_paths(paths);
    if (rc == DISCO_OK)
        rc = listing_gets(paths);
    return rc;
}
