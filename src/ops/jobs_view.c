/*
 * jobs_view.c - what callers read from the job manager: job records,
 * listings, events (and the blocking wait for new ones) and counts.
 */
#include "jobs_int.h"

#include <errno.h>
#include <time.h>

json_t *disco_job_event_to_json(const disco_job_event *ev)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:I}", "seq", (json_int_t)ev->seq, "time_ms",
                     (json_int_t)ev->time_ms, "type",
                     ev->type == DISCO_JOB_EVENT_STATE ? "state" : "progress", "state",
                     disco_job_state_name(ev->state), "stage", ev->stage, "done",
                     (json_int_t)ev->done, "total", (json_int_t)ev->total);
}

static json_t *ms_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

static json_t *error_json(const disco_status *err)
{
    return json_pack("{s:s, s:s, s:s?}", "code", disco_errname(err->code), "message",
                     disco_status_message(err), "field", err->field[0] ? err->field : NULL);
}

json_t *disco__job_record(const disco__job *j, int with_result)
{
    json_t *r = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:b, s:{s:s, s:I, s:I}}", "id", j->id, "op",
        j->op->name, "state", disco_job_state_name(j->state), "principal", j->principal,
        "created_ms", (json_int_t)j->created_ms, "started_ms", ms_or_null(j->started_ms),
        "finished_ms", ms_or_null(j->finished_ms), "cancel_requested", j->cancel, "progress",
        "stage", j->stage, "done", (json_int_t)j->done, "total", (json_int_t)j->total);
    int bad = !r;

    if (!bad && with_result && j->state == DISCO_JOB_SUCCEEDED)
        bad = json_object_set_new(r, "result", json_deep_copy(j->result)) != 0;
    else if (!bad && (j->state == DISCO_JOB_FAILED || j->state == DISCO_JOB_CANCELLED))
        bad = json_object_set_new(r, "error", error_json(&j->err)) != 0;
    if (bad) {
        json_decref(r);
        return NULL;
    }
    return r;
}

int disco_jobs_get(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                   json_t **record, disco_status *st)
{
    int rc = DISCO_OK;

    *record = NULL;
    pthread_mutex_lock(&jobs->lock);
    disco__job *j = disco__jobs_find(jobs, id, viewer, role, st);
    if (!j)
        rc = DISCO_ERR_NOTFOUND;
    else if (!(*record = disco__job_record(j, 1)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    pthread_mutex_unlock(&jobs->lock);
    return rc;
}

int disco_jobs_list(disco_jobs *jobs, const char *viewer, disco_role role, json_t **out,
                    disco_status *st)
{
    json_t *items = json_array();
    int bad = !items;

    pthread_mutex_lock(&jobs->lock);
    for (disco__job *j = jobs->tail; !bad && j; j = j->prev)
        if (disco__job_visible(j, viewer, role))
            bad = json_array_append_new(items, disco__job_record(j, 0)) != 0;
    pthread_mutex_unlock(&jobs->lock);
    *out =
        bad ? NULL
            : json_pack("{s:O, s:I}", "items", items, "count", (json_int_t)json_array_size(items));
    json_decref(items);
    if (!*out)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

static struct timespec deadline_after(int timeout_ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Copies kept events after `after` (at most max); sets *finished; lock held. */
static size_t copy_events(const disco__job *j, uint64_t after, disco_job_event *events, size_t max,
                          int *finished)
{
    size_t cap = j->owner->jc.max_events, n = 0;
    uint64_t oldest = j->seq > cap ? j->seq - cap + 1 : 1;
    uint64_t from = after + 1 > oldest ? after + 1 : oldest;

    for (uint64_t s = from; s <= j->seq && n < max; s++)
        events[n++] = j->ring[(s - 1) % cap];
    *finished = disco_job_state_final(j->state) && (n ? events[n - 1].seq : after) >= j->seq;
    return n;
}

int disco_jobs_wait(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                    uint64_t after, int timeout_ms, disco_job_event *events, size_t max, size_t *n,
                    int *finished, disco_status *st)
{
    struct timespec until = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
    int rc = DISCO_OK;

    *n = 0;
    *finished = 0;
    pthread_mutex_lock(&jobs->lock);
    disco__job *j = disco__jobs_find(jobs, id, viewer, role, st);
    if (!j) {
        pthread_mutex_unlock(&jobs->lock);
        return DISCO_ERR_NOTFOUND;
    }
    j->waiters++;
    while (timeout_ms > 0 && j->seq <= after && !disco_job_state_final(j->state) && !jobs->stopping)
        if (pthread_cond_timedwait(&j->cond, &jobs->lock, &until) == ETIMEDOUT)
            break;
    if (j->seq <= after && !disco_job_state_final(j->state) && jobs->stopping)
        rc = disco_status_set(st, DISCO_ERR_CANCELLED, "job", "the job manager is shutting down");
    else
        *n = copy_events(j, after, events, max, finished);
    j->waiters--;
    pthread_mutex_unlock(&jobs->lock);
    return rc;
}

void disco_jobs_get_stats(disco_jobs *jobs, disco_jobs_stats *out)
{
    pthread_mutex_lock(&jobs->lock);
    *out = jobs->stats;
    pthread_mutex_unlock(&jobs->lock);
}
