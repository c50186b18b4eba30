/*
 * jobs_api.c - long operations as jobs over HTTP (jobs.h):
 *
 *   POST /api/<long op>          validated, queued: 202 {"job", "state",
 *                                "status_url", "events_url"} + Location; a
 *                                body that is the op's input goes with the job,
 *                                and so does a file for its output "-"
 *                                (outputs.c: kept as an object on success)
 *     with Prefer: wait=N        the connection waits (suspended, on a watch
 *                                thread) up to N s: 200 with the result or the
 *                                op's error when the job ends in time
 *                                (Preference-Applied: wait), else the 202
 *   GET    /api/jobs             the caller's jobs, newest first
 *   GET    /api/jobs/{id}        the record: state, progress, result | error
 *   DELETE /api/jobs/{id}        cancel: 200 when it is final at once (it was
 *                                queued), 202 while a running one stops; 409
 *                                when it had already finished
 *   GET    /api/jobs/{id}/events server-sent events (watch.c)
 *
 * A caller sees its own jobs; admins and local use (no tokens) see all.
 */
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WAIT_MAX_S 60

/* The N of "Prefer: wait=N" (RFC 7240), clamped to 1..WAIT_MAX_S; 0 when absent. */
static int prefer_wait(struct MHD_Connection *c)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Prefer");
    const char *p;
    long n;

    for (const char *w = h; w && (w = strcasestr(w, "wait")) != NULL; w += 4) {
        if (w != h && !strchr(" \t,;", w[-1]))
            continue;
        for (p = w + 4; *p == ' '; p++)
            ;
        if (*p++ != '=')
            continue;
        while (*p == ' ' || *p == '"')
            p++;
        n = strtol(p, NULL, 10);
        return n < 1 ? 0 : n > WAIT_MAX_S ? WAIT_MAX_S : (int)n;
    }
    return 0;
}

/* 202 with where to follow the job. */
static void accepted(http_reply *r, const char *id, const char *state)
{
    char status_url[64], events_url[72];

    snprintf(status_url, sizeof status_url, "/api/jobs/%s", id);
    snprintf(events_url, sizeof events_url, "/api/jobs/%s/events", id);
    disco__http_ok(r, MHD_HTTP_ACCEPTED,
                   json_pack("{s:s, s:s, s:s, s:s}", "job", id, "state", state, "status_url",
                             status_url, "events_url", events_url));
    snprintf(r->location, sizeof r->location, "%s", status_url);
}

void disco__http_job_submit(http_req *rq, const disco_op *op, const json_t *params, http_reply *r)
{
    disco_status st = {0};
    int wait_s = prefer_wait(rq->conn), out_fd, rc;

    if (disco__http_output_open(rq, op, params, &out_fd, r) != 0)
        return;
    /* a body that is the op's input, and the output file, belong to the job from here on */
    rc = disco_jobs_submit_streams(rq->srv->jobs, op, params, rq->principal, (disco_role)rq->role,
                                   disco__http_stream_take(rq), out_fd, rq->job, &st);
    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        if (rc == DISCO_ERR_BUSY || rc == DISCO_ERR_CANCELLED) { /* queue full, or stopping */
            r->status = MHD_HTTP_SERVICE_UNAVAILABLE;
            r->retry_after = 5;
        }
        return;
    }
    if (wait_s > 0 && disco__http_watch_wait(rq, rq->job, wait_s, r) == 0)
        return; /* suspended: answered by disco__http_job_waited() */
    accepted(r, rq->job, "queued");
}

/* The op's own answer from a final record: its result, or its error and status. */
static void final_answer(http_reply *r, const json_t *rec, const char *state)
{
    json_t *err = json_object_get(rec, "error");

    if (strcmp(state, "succeeded") == 0) {
        disco__http_ok(r, MHD_HTTP_OK, json_incref(json_object_get(rec, "result")));
        if (!r->body)
            r->body = json_object();
        return;
    }
    r->status =
        disco__http_status(disco__http_err_code(json_string_value(json_object_get(err, "code"))));
    err = json_is_object(err) ? json_copy(err) : json_object();
    if (json_is_null(json_object_get(err, "field")))
        json_object_del(err, "field"); /* the error shape leaves out an absent field */
    r->body = json_pack("{s:o}", "error", err);
}

void disco__http_job_waited(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    json_t *rec = NULL;
    const char *state;
    int rc = disco_jobs_get(rq->srv->jobs, rq->job, rq->principal, (disco_role)rq->role, &rec, &st);

    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return;
    }
    state = json_string_value(json_object_get(rec, "state"));
    if (state && (strcmp(state, "succeeded") == 0 || strcmp(state, "failed") == 0 ||
                  strcmp(state, "cancelled") == 0)) {
        final_answer(r, rec, state);
        snprintf(r->applied, sizeof r->applied, "wait");
        snprintf(r->location, sizeof r->location, "/api/jobs/%s", rq->job);
    } else {
        accepted(r, rq->job, state ? state : "queued");
    }
    json_decref(rec);
}

/* DELETE /api/jobs/{id}: 200 when final now, 202 while it stops, 409 when it had ended. */
static void cancel(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    json_t *rec = NULL;
    const char *state;
    int rc = disco_jobs_cancel(rq->srv->jobs, rq->rt.arg, rq->principal, (disco_role)rq->role, &rec,
                               &st);

    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return;
    }
    state = json_string_value(json_object_get(rec, "state"));
    disco__http_ok(r, state && strcmp(state, "cancelled") == 0 ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED,
                   rec);
}

/* Where an event stream starts: Last-Event-ID, else ?after=N, else 0. */
static int events_after(http_req *rq, uint64_t *after, http_reply *r)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Last-Event-ID");
    char *end;

    if (!v)
        v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "after");
    *after = 0;
    if (!v || !*v)
        return 0;
    *after = strtoull(v, &end, 10);
    if (*end || *v == '-') {
        disco__http_fail(r, MHD_HTTP_BAD_REQUEST, DISCO_ERR_INVAL, "after",
                         "Last-Event-ID or 'after' must be an event number, got \"%.32s\"", v);
        return -1;
    }
    return 0;
}

void disco__http_jobs(http_req *rq, http_reply *r)
{
    disco_status st = {0};
    json_t *out = NULL;
    uint64_t after;
    int rc;

    if (rq->rt.kind == ROUTE_JOB_EVENTS) {
        if (events_after(rq, &after, r) == 0)
            disco__http_job_events(rq, after, r);
        return;
    }
    if (rq->rt.kind == ROUTE_JOB && rq->method == HTTP_DELETE) {
        cancel(rq, r);
        return;
    }
    if (rq->rt.kind == ROUTE_JOBS)
        rc = disco_jobs_list(rq->srv->jobs, rq->principal, (disco_role)rq->role, &out, &st);
    else
        rc = disco_jobs_get(rq->srv->jobs, rq->rt.arg, rq->principal, (disco_role)rq->role, &out,
                            &st);
    if (rc == DISCO_OK)
        disco__http_ok(r, MHD_HTTP_OK, out);
    else
        disco__http_error(r, rc, &st);
}
