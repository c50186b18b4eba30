/*
 * watch.c - threads that follow one job each, so that no request thread
 * ever blocks on a job (each MHD thread serves many connections).
 *
 *   event stream (GET /api/jobs/{id}/events)     Prefer: wait=N
 *   ---------------------------------------      ----------------------------
 *   thread: disco_jobs_wait(after, 15 s)          thread: disco_jobs_wait until
 *     events    -> SSE text into w->buf            the job is final or N s pass,
 *     nothing   -> ": ping" comment                then resumes the request,
 *     resumes the connection if suspended          which answers from the job
 *   MHD thread (content reader): copies w->buf     (jobs_api.c)
 *     out, ends after the final state, or
 *     suspends the connection while it is empty
 *
 * A watch is held by its thread and by its connection (refs); the last to
 * let go frees it. Suspending and resuming happen under w->mu, so a thread
 * resumes only a connection that is suspended (and so still alive). MHD
 * must not stop with connections suspended: at stop the jobs shut down
 * first, every wait returns, every thread resumes its connection and ends
 * (disco__http_watchers_drain), and only then does the daemon stop.
 */
#include "http_int.h"

#include "disco/timeutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCHERS_MAX 128          /* watch threads at once; beyond, 503 or an early 202 */
#define PING_MS 15000             /* a comment this often while a stream is idle */
#define EVENTS_AT_ONCE 16         /* events taken per wait */
#define STREAM_BLOCK 4096         /* what MHD asks of the content reader at most */
#define STREAM_BUF_MAX (1u << 20) /* pending text kept for a slow reader */

struct http_watch {
    disco_http *srv;
    struct MHD_Connection *conn;
    pthread_mutex_t mu;
    int refs;
    char job[DISCO_ID_LEN + 1];
    char viewer[128];
    disco_role role;
    uint64_t after;       /* the last event taken (thread only) */
    uint64_t deadline_ns; /* Prefer: wait (monotonic) */
    char *buf;            /* SSE text not yet read by MHD */
    size_t len, off, cap;
    int suspended, finished, closed;
};

static http_watch *watch_new(http_req *rq, const char *job, int refs)
{
    http_watch *w = calloc(1, sizeof *w);

    if (!w)
        return NULL;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return NULL;
    }
    w->srv = rq->srv;
    w->conn = rq->conn;
    w->refs = refs;
    w->role = (disco_role)rq->role;
    snprintf(w->job, sizeof w->job, "%s", job);
    snprintf(w->viewer, sizeof w->viewer, "%s", rq->principal);
    return w;
}

static void watch_unref(http_watch *w)
{
    int last;

    pthread_mutex_lock(&w->mu);
    last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&w->mu);
    free(w->buf);
    free(w);
}

void disco__http_watch_release(http_watch *w)
{
    if (w)
        watch_unref(w);
}

/* Resumes the connection if its reader suspended it; w->mu held. */
static void wake(http_watch *w)
{
    if (w->suspended) {
        w->suspended = 0;
        MHD_resume_connection(w->conn);
    }
}

/* ---- threads ---------------------------------------------------------------- */

static int spawn(http_watch *w, void *(*fn)(void *))
{
    disco_http *srv = w->srv;
    pthread_attr_t attr;
    pthread_t th;
    int rc = -1;

    pthread_mutex_lock(&srv->watch_mu);
    if (srv->watchers >= WATCHERS_MAX) {
        pthread_mutex_unlock(&srv->watch_mu);
        return -1;
    }
    srv->watchers++;
    pthread_mutex_unlock(&srv->watch_mu);
    if (pthread_attr_init(&attr) == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&th, &attr, fn, w) == 0 ? 0 : -1;
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        pthread_mutex_lock(&srv->watch_mu);
        srv->watchers--;
        pthread_cond_broadcast(&srv->watch_cv);
        pthread_mutex_unlock(&srv->watch_mu);
    }
    return rc;
}

/* The end of a watch thread: lets go of the watch, then of the server. */
static void *thread_done(http_watch *w)
{
    disco_http *srv = w->srv;

    watch_unref(w);
    pthread_mutex_lock(&srv->watch_mu);
    srv->watchers--;
    pthread_cond_broadcast(&srv->watch_cv);
    pthread_mutex_unlock(&srv->watch_mu);
    return NULL;
}

void disco__http_watchers_drain(disco_http *srv)
{
    pthread_mutex_lock(&srv->watch_mu);
    while (srv->watchers > 0)
        pthread_cond_wait(&srv->watch_cv, &srv->watch_mu);
    pthread_mutex_unlock(&srv->watch_mu);
}

/* ---- event streams ---------------------------------------------------------- */

/* Appends text to the pending buffer; w->mu held. Past STREAM_BUF_MAX the reader is hopeless. */
static void put_text(http_watch *w, const char *text, size_t n)
{
    size_t cap = w->cap ? w->cap : 1024;
    char *grown;

    if (w->len + n > STREAM_BUF_MAX) {
        w->finished = 1;
        return;
    }
    while (cap < w->len + n)
        cap *= 2;
    if (cap != w->cap) {
        grown = realloc(w->buf, cap);
        if (!grown) {
            w->finished = 1;
            return;
        }
        w->buf = grown;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, text, n);
    w->len += n;
}

/* One event: "id: 3\nevent: progress\ndata: {...}\n\n"; w->mu held. */
static void put_event(http_watch *w, const disco_job_event *ev)
{
    json_t *j = disco_job_event_to_json(ev);
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    char head[96];
    int n = snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)ev->seq,
                     ev->type == DISCO_JOB_EVENT_STATE ? "state" : "progress");

    if (data) {
        put_text(w, head, (size_t)n);
        put_text(w, data, strlen(data));
        put_text(w, "\n\n", 2);
    }
    free(data);
    json_decref(j);
}

/* The end of a stream that broke off (the server stops, the job was forgotten). */
static void put_error(http_watch *w, int rc, const disco_status *st)
{
    json_t *j =
        json_pack("{s:s, s:s}", "code", disco_errname(rc), "message", disco_status_message(st));
    char *data = j ? json_dumps(j, JSON_COMPACT) : NULL;

    if (data) {
        put_text(w, "event: error\ndata: ", 19);
        put_text(w, data, strlen(data));
        put_text(w, "\n\n", 2);
    }
    free(data);
    json_decref(j);
    w->finished = 1;
}

static void *stream_main(void *arg)
{
    http_watch *w = arg;
    disco_job_event ev[EVENTS_AT_ONCE];
    disco_status st = {0};
    size_t n;
    int fin, rc, done = 0;

    while (!done) {
        n = 0;
        fin = 0;
        rc = disco_jobs_wait(w->srv->jobs, w->job, w->viewer, w->role, w->after, PING_MS, ev,
                             EVENTS_AT_ONCE, &n, &fin, &st);
        pthread_mutex_lock(&w->mu);
        if (rc != DISCO_OK)
            put_error(w, rc, &st);
        else if (n == 0 && !fin)
            put_text(w, ": ping\n\n", 8);
        for (size_t i = 0; rc == DISCO_OK && i < n; i++)
            put_event(w, &ev[i]);
        if (n > 0)
            w->after = ev[n - 1].seq;
        if (fin)
            w->finished = 1;
        wake(w);
        done = w->finished || w->closed;
        pthread_mutex_unlock(&w->mu);
    }
    return thread_done(w);
}

/* MHD's content reader: pending text, the end, or a suspension until there is more. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    http_watch *w = cls;
    ssize_t out;

    (void)pos;
    pthread_mutex_lock(&w->mu);
    if (w->len > w->off) {
        size_t n = w->len - w->off < max ? w->len - w->off : max;
        memcpy(buf, w->buf + w->off, n);
        w->off += n;
        if (w->off == w->len)
            w->off = w->len = 0;
        out = (ssize_t)n;
    } else if (w->finished) {
        out = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        w->suspended = 1;
        MHD_suspend_connection(w->conn);
        out = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return out;
}

/* MHD is done with the response: the client is gone or the stream ended. */
static void stream_free(void *cls)
{
    http_watch *w = cls;

    pthread_mutex_lock(&w->mu);
    w->closed = 1;
    pthread_mutex_unlock(&w->mu);
    watch_unref(w);
}

void disco__http_job_events(http_req *rq, uint64_t after, http_reply *r)
{
    disco_status st = {0};
    json_t *rec = NULL;
    struct MHD_Response *resp;
    http_watch *w;
    int rc =
        disco_jobs_get(rq->srv->jobs, rq->rt.arg, rq->principal, (disco_role)rq->role, &rec, &st);

    json_decref(rec);
    if (rc != DISCO_OK) {
        disco__http_error(r, rc, &st);
        return;
    }
    w = watch_new(rq, rq->rt.arg, 1);
    resp = w ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, w,
                                                 stream_free)
             : NULL;
    if (!resp) {
        if (w)
            watch_unref(w);
        disco__http_fail(r, MHD_HTTP_INTERNAL_SERVER_ERROR, DISCO_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    w->after = after;
    pthread_mutex_lock(&w->mu);
    put_text(w, "retry: 2000\n\n", 13);
    w->refs++;
    rc = spawn(w, stream_main);
    w->refs -= rc != 0;
    pthread_mutex_unlock(&w->mu);
    if (rc != 0) {
        MHD_destroy_response(resp); /* stream_free lets go of the watch */
        disco__http_fail(r, MHD_HTTP_SERVICE_UNAVAILABLE, DISCO_ERR_BUSY, NULL,
                         "too many event streams open (%d); retry later", WATCHERS_MAX);
        r->retry_after = 5;
        return;
    }
    rq->slow = 1;
    r->status = MHD_HTTP_OK;
    r->raw = resp;
    snprintf(r->content_type, sizeof r->content_type, "text/event-stream");
}

/* ---- Prefer: wait ------------------------------------------------------------- */

static void *wait_main(void *arg)
{
    http_watch *w = arg;
    disco_job_event ev[EVENTS_AT_ONCE];
    disco_status st = {0};
    uint64_t now;
    size_t n;
    int fin = 0, rc = DISCO_OK;

    while (rc == DISCO_OK && !fin && (now = disco_time_mono_ns()) < w->deadline_ns) {
        uint64_t left_ms = (w->deadline_ns - now) / 1000000u + 1;
        rc = disco_jobs_wait(w->srv->jobs, w->job, w->viewer, w->role, w->after,
                             left_ms > INT_MAX ? INT_MAX : (int)left_ms, ev, EVENTS_AT_ONCE, &n,
                             &fin, &st);
        if (rc == DISCO_OK && n > 0)
            w->after = ev[n - 1].seq;
    }
    pthread_mutex_lock(&w->mu);
    w->finished = 1;
    wake(w);
    pthread_mutex_unlock(&w->mu);
    return thread_done(w);
}

int disco__http_watch_wait(http_req *rq, const char *id, int wait_s, http_reply *r)
{
    http_watch *w = watch_new(rq, id, 2); /* the thread's and the request's */

    if (!w)
        return -1;
    w->deadline_ns = disco_time_mono_ns() + (uint64_t)wait_s * 1000000000u;
    pthread_mutex_lock(&w->mu); /* the thread resumes only after the suspension */
    if (spawn(w, wait_main) != 0) {
        pthread_mutex_unlock(&w->mu);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -1;
    }
    MHD_suspend_connection(rq->conn);
    w->suspended = 1;
    pthread_mutex_unlock(&w->mu);
    rq->watch = w;
    rq->slow = 1;
    r->suspended = 1;
    return 0;
}
