/*
 * jobs.c - the job manager: submitting, the worker threads that run jobs
 * against their own contexts, cancelling, shutting down and forgetting
 * finished jobs. Records, events and waits are in jobs_view.c.
 *
 * DESIGN: one mutex guards the manager and every job in it. A worker takes
 * the oldest queued job, marks it running and drops the lock while the op
 * runs; the op's progress reports take the lock for a moment to update the
 * job and log an event, and return the job's cancel flag. The worker then
 * records the outcome, logs the final event and wakes the job's waiters.
 * A job is freed only when final, outside its keep window, and with no
 * thread waiting on it.
 */
#include "jobs_int.h"

#include "disco/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

const char *disco_job_state_name(disco_job_state s)
{
    static const char *const names[] = {"queued", "running", "succeeded", "failed", "cancelled"};

    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int disco_job_state_final(disco_job_state s)
{
    return s == DISCO_JOB_SUCCEEDED || s == DISCO_JOB_FAILED || s == DISCO_JOB_CANCELLED;
}

disco_jobs_config disco_jobs_config_default(void)
{
    return (disco_jobs_config){
        .workers = 2,
        .max_queued = 64,
        .max_events = 128,
        .progress_interval_ms = 100,
        .keep_ms = 3600 * 1000,
        .keep_max = 200,
    };
}

/* ---- jobs and their events ---------------------------------------------- */

/* Closes the job's streams, those it has. */
static void drop_streams(disco__job *j)
{
    if (j->in_fd >= 0)
        close(j->in_fd);
    if (j->out_fd >= 0)
        close(j->out_fd);
    j->in_fd = -1;
    j->out_fd = -1;
}

static void job_free(disco__job *j)
{
    if (!j)
        return;
    drop_streams(j);
    json_decref(j->params);
    json_decref(j->result);
    free(j->ring);
    pthread_cond_destroy(&j->cond);
    free(j);
}

void disco__job_event(disco__job *j, disco_job_event_type type)
{
    size_t cap = j->owner->jc.max_events;
    disco_job_event *ev = &j->ring[j->seq % cap];

    j->seq++;
    ev->seq = j->seq;
    ev->time_ms = disco_time_now_ms();
    ev->type = type;
    ev->state = j->state;
    memcpy(ev->stage, j->stage, sizeof ev->stage);
    ev->done = j->done;
    ev->total = j->total;
    pthread_cond_broadcast(&j->cond);
}

int disco__job_visible(const disco__job *j, const char *viewer, disco_role role)
{
    if (role == DISCO_ROLE_NONE || role == DISCO_ROLE_ADMIN)
        return 1;
    return viewer && *viewer && strcmp(viewer, j->principal) == 0;
}

static void unlink_job(disco_jobs *jobs, disco__job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        jobs->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        jobs->tail = j->prev;
}

/* Forgets final jobs past keep_ms, then the oldest beyond keep_max; lock held. */
static void prune(disco_jobs *jobs)
{
    uint64_t now = disco_time_mono_ns(), keep_ns = (uint64_t)jobs->jc.keep_ms * 1000000u;
    disco__job *j = jobs->head, *next;

    for (; j; j = next) {
        next = j->next;
        if (!disco_job_state_final(j->state) || j->waiters)
            continue;
        if (now - j->finished_ns > keep_ns || jobs->stats.kept > jobs->jc.keep_max) {
            unlink_job(jobs, j);
            jobs->stats.kept--;
            job_free(j);
        }
    }
}

disco__job *disco__jobs_find(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                             disco_status *st)
{
    prune(jobs);
    for (disco__job *j = jobs->head; id && j; j = j->next)
        if (strcasecmp(j->id, id) == 0 && disco__job_visible(j, viewer, role))
            return j;
    disco_status_set(st, DISCO_ERR_NOTFOUND, "job", "no job %.32s", id ? id : "(null)");
    return NULL;
}

/* What on_done is told, gathered under the lock and reported after it. */
typedef struct done_note {
    const disco_op *op;
    disco_job_state state;
    double queue_s, run_s;
} done_note;

/* Moves a job to a final state and logs it; lock held. */
static done_note finalize(disco_jobs *jobs, disco__job *j, disco_job_state state)
{
    uint64_t began = j->started_ns;
    done_note note;

    drop_streams(j);
    j->state = state;
    j->finished_ms = disco_time_now_ms();
    j->finished_ns = disco_time_mono_ns();
    jobs->stats.kept++;
    if (state == DISCO_JOB_SUCCEEDED)
        jobs->stats.succeeded++;
    else if (state == DISCO_JOB_FAILED)
        jobs->stats.failed++;
    else
        jobs->stats.cancelled++;
    disco__job_event(j, DISCO_JOB_EVENT_STATE);
    note.op = j->op;
    note.state = state;
    note.queue_s = (double)((began ? began : j->finished_ns) - j->created_ns) / 1e9;
    note.run_s = began ? (double)(j->finished_ns - began) / 1e9 : 0;
    return note;
}

static void notify(disco_jobs *jobs, const done_note *note)
{
    if (jobs->jc.on_done)
        jobs->jc.on_done(jobs->jc.done_user, note->op->name, note->state, note->queue_s,
                         note->run_s);
}

/* ---- the queue ---------------------------------------------------------- */

static disco__job *queue_pop(disco_jobs *jobs)
{
    disco__job *j = jobs->qhead;

    jobs->qhead = j->qnext;
    if (!jobs->qhead)
        jobs->qtail = NULL;
    j->qnext = NULL;
    jobs->stats.queued--;
    return j;
}

static void queue_remove(disco_jobs *jobs, disco__job *j)
{
    disco__job **p = &jobs->qhead, *prev = NULL;

    while (*p && *p != j) {
        prev = *p;
        p = &(*p)->qnext;
    }
    if (!*p)
        return;
    *p = j->qnext;
    if (jobs->qtail == j)
        jobs->qtail = prev;
    j->qnext = NULL;
    jobs->stats.queued--;
}

/* A queued job cancelled before it ran; lock held, j already off the queue. */
static done_note cancel_queued(disco_jobs *jobs, disco__job *j, const char *why)
{
    disco_status_set(&j->err, DISCO_ERR_CANCELLED, NULL, "job %s cancelled %s", j->id, why);
    j->cancel = 1;
    return finalize(jobs, j, DISCO_JOB_CANCELLED);
}

/* ---- running ------------------------------------------------------------ */

static int on_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
    disco__job *j = user;
    disco_jobs *jobs = j->owner;
    uint64_t now = disco_time_mono_ns();
    int cancel;

    pthread_mutex_lock(&jobs->lock);
    int new_stage = strncmp(j->stage, stage ? stage : "", sizeof j->stage - 1) != 0;
    snprintf(j->stage, sizeof j->stage, "%s", stage ? stage : "");
    j->done = done;
    j->total = total;
    if (new_stage || (total && done >= total) ||
        now - j->last_progress_ns >= (uint64_t)jobs->jc.progress_interval_ms * 1000000u) {
        j->last_progress_ns = now;
        disco__job_event(j, DISCO_JOB_EVENT_PROGRESS);
    }
    cancel = j->cancel;
    pthread_mutex_unlock(&jobs->lock);
    return cancel;
}

/* Runs the job's op in a context of its own; no lock held. */
static int run_job(disco_jobs *jobs, disco__job *j, json_t **result, disco_status *st)
{
    disco_progress prog = {on_progress, j};
    disco_ctx *ctx = NULL;
    int rc = disco_ctx_new(&jobs->cfg, &ctx, st);

    *result = NULL;
    if (rc == DISCO_OK) {
        if (j->principal[0])
            disco_ctx_set_principal(ctx, j->principal);
        disco_ctx_set_role(ctx, j->role);
        disco_ctx_set_progress(ctx, &prog);
        /* the streams change only once the job is final */
        disco_ctx_set_streams(ctx, j->in_fd, j->out_fd);
        if (jobs->jc.setup)
            rc = jobs->jc.setup(jobs->jc.setup_user, ctx, st);
    }
    if (rc == DISCO_OK)
        rc = disco_ops_run(ctx, j->op, j->params, result, st);
    if (rc == DISCO_OK && j->out_fd >= 0 && jobs->jc.on_output) {
        rc = jobs->jc.on_output(jobs->jc.output_user, ctx, j->op, j->out_fd, *result, st);
        if (rc != DISCO_OK) {
            json_decref(*result);
            *result = NULL;
        }
    }
    disco_ctx_free(ctx);
    if (rc == DISCO_OK && jobs->jc.on_result)
        jobs->jc.on_result(jobs->jc.result_user, j->op->name, *result);
    return rc;
}

/* Records the outcome of a run; lock held. */
static done_note finish(disco_jobs *jobs, disco__job *j, int rc, json_t *result,
                        const disco_status *st)
{
    jobs->stats.running--;
    if (rc == DISCO_OK) {
        j->result = result;
        return finalize(jobs, j, DISCO_JOB_SUCCEEDED);
    }
    j->err = *st;
    j->err.code = rc;
    if (!j->err.msg[0])
        snprintf(j->err.msg, sizeof j->err.msg, "%s", disco_strerror(rc));
    return finalize(
        jobs, j, rc == DISCO_ERR_CANCELLED || j->cancel ? DISCO_JOB_CANCELLED : DISCO_JOB_FAILED);
}

static void *worker_main(void *arg)
{
    disco_jobs *jobs = arg;

    pthread_mutex_lock(&jobs->lock);
    for (;;) {
        while (!jobs->qhead && !jobs->stopping)
            pthread_cond_wait(&jobs->work, &jobs->lock);
        if (!jobs->qhead)
            break;
        disco__job *j = queue_pop(jobs);
        j->state = DISCO_JOB_RUNNING;
        j->started_ms = disco_time_now_ms();
        j->started_ns = disco_time_mono_ns();
        jobs->stats.running++;
        disco__job_event(j, DISCO_JOB_EVENT_STATE);
        pthread_mutex_unlock(&jobs->lock);

        disco_status st = {0};
        json_t *result;
        int rc = run_job(jobs, j, &result, &st);

        pthread_mutex_lock(&jobs->lock);
        done_note note = finish(jobs, j, rc, result, &st);
        prune(jobs);
        pthread_mutex_unlock(&jobs->lock);
        notify(jobs, &note);
        pthread_mutex_lock(&jobs->lock);
    }
    pthread_mutex_unlock(&jobs->lock);
    return NULL;
}

/* ---- the manager -------------------------------------------------------- */

static int check_config(const disco_jobs_config *jc, disco_status *st)
{
    if (jc->workers == 0 || jc->workers > 256)
        return disco_status_set(st, DISCO_ERR_INVAL, "workers",
                                "jobs: workers must be in 1..256, got %u", jc->workers);
    if (jc->max_events == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_events",
                                "jobs: max_events must be at least 1");
    if (jc->keep_ms < 0 || jc->progress_interval_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "keep_ms",
                                "jobs: keep_ms and progress_interval_ms must not be negative");
    return DISCO_OK;
}

static int start_workers(disco_jobs *jobs, disco_status *st)
{
    jobs->threads = calloc(jobs->jc.workers, sizeof *jobs->threads);
    if (!jobs->threads)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (unsigned i = 0; i < jobs->jc.workers; i++) {
        if (pthread_create(&jobs->threads[i], NULL, worker_main, jobs) != 0)
            return disco_status_set(st, DISCO_ERR_INTERNAL, "workers",
                                    "jobs: cannot start worker thread %u", i + 1);
        jobs->nthreads++;
    }
    return DISCO_OK;
}

int disco_jobs_new(const disco_config *cfg, const disco_jobs_config *jc, disco_jobs **out,
                   disco_status *st)
{
    disco_jobs_config def = disco_jobs_config_default();
    disco_jobs *jobs;
    int rc = check_config(jc ? jc : &def, st);

    if (rc != DISCO_OK)
        return rc;
    jobs = calloc(1, sizeof *jobs);
    if (!jobs)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    jobs->cfg = *cfg;
    jobs->jc = jc ? *jc : def;
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_condattr_init(&jobs->cattr);
    pthread_condattr_setclock(&jobs->cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&jobs->work, NULL);
    rc = start_workers(jobs, st);
    if (rc != DISCO_OK) {
        disco_jobs_free(jobs);
        return rc;
    }
    *out = jobs;
    return DISCO_OK;
}

void disco_jobs_shutdown(disco_jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    jobs->stopping = 1;
    while (jobs->qhead) {
        done_note note = cancel_queued(jobs, queue_pop(jobs), "at shutdown");
        pthread_mutex_unlock(&jobs->lock);
        notify(jobs, &note);
        pthread_mutex_lock(&jobs->lock);
    }
    for (disco__job *j = jobs->head; j; j = j->next) {
        if (j->state == DISCO_JOB_RUNNING)
            j->cancel = 1;
        pthread_cond_broadcast(&j->cond);
    }
    pthread_cond_broadcast(&jobs->work);
    int join = !jobs->joined;
    jobs->joined = 1;
    pthread_mutex_unlock(&jobs->lock);
    for (unsigned i = 0; join && i < jobs->nthreads; i++)
        pthread_join(jobs->threads[i], NULL);
}

void disco_jobs_free(disco_jobs *jobs)
{
    disco__job *j, *next;

    if (!jobs)
        return;
    disco_jobs_shutdown(jobs);
    for (j = jobs->head; j; j = next) {
        next = j->next;
        job_free(j);
    }
    free(jobs->threads);
    pthread_cond_destroy(&jobs->work);
    pthread_condattr_destroy(&jobs->cattr);
    pthread_mutex_destroy(&jobs->lock);
    free(jobs);
}

static disco__job *job_new(disco_jobs *jobs, const disco_op *op, const json_t *params,
                           const char *principal, disco_role role, const int fds[2])
{
    disco__job *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    j->in_fd = fds[0];
    j->out_fd = fds[1];
    j->owner = jobs;
    j->op = op;
    j->role = role;
    snprintf(j->principal, sizeof j->principal, "%s", principal ? principal : "");
    j->ring = calloc(jobs->jc.max_events, sizeof *j->ring);
    j->params = params ? json_deep_copy(params) : json_object();
    if (!j->ring || !j->params || pthread_cond_init(&j->cond, &jobs->cattr) != 0) {
        json_decref(j->params);
        free(j->ring);
        free(j);
        return NULL;
    }
    return j;
}

/* Appends a new job to the list and the queue; lock held. */
static void enqueue(disco_jobs *jobs, disco__job *j)
{
    disco_id_new(j->id);
    j->created_ms = disco_time_now_ms();
    j->created_ns = disco_time_mono_ns();
    j->state = DISCO_JOB_QUEUED;
    j->prev = jobs->tail;
    if (jobs->tail)
        jobs->tail->next = j;
    else
        jobs->head = j;
    jobs->tail = j;
    if (jobs->qtail)
        jobs->qtail->qnext = j;
    else
        jobs->qhead = j;
    jobs->qtail = j;
    jobs->stats.queued++;
    jobs->stats.submitted++;
    disco__job_event(j, DISCO_JOB_EVENT_STATE);
    pthread_cond_signal(&jobs->work);
}

int disco_jobs_submit(disco_jobs *jobs, const disco_op *op, const json_t *params,
                      const char *principal, disco_role role, char id[DISCO_ID_LEN + 1],
                      disco_status *st)
{
    return disco_jobs_submit_input(jobs, op, params, principal, role, -1, id, st);
}

int disco_jobs_submit_input(disco_jobs *jobs, const disco_op *op, const json_t *params,
                            const char *principal, disco_role role, int in_fd,
                            char id[DISCO_ID_LEN + 1], disco_status *st)
{
    return disco_jobs_submit_streams(jobs, op, params, principal, role, in_fd, -1, id, st);
}

/* Closes the descriptors of a submission no job took. */
static void close_fds(const int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int disco_jobs_submit_streams(disco_jobs *jobs, const disco_op *op, const json_t *params,
                              const char *principal, disco_role role, int in_fd, int out_fd,
                              char id[DISCO_ID_LEN + 1], disco_status *st)
{
    const int fds[2] = {in_fd, out_fd};
    disco__job *j = NULL;
    int rc = DISCO_OK;

    if (!op || !op->fn)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "op", "jobs: no operation to run");
    else if (params && !json_is_object(params))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "params",
                              "parameters of %s must be a JSON object", op->name);
    else if (!(j = job_new(jobs, op, params, principal, role, fds)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc != DISCO_OK) {
        close_fds(fds); /* no job took them */
        return rc;
    }
    pthread_mutex_lock(&jobs->lock);
    if (jobs->stopping) {
        rc = disco_status_set(st, DISCO_ERR_CANCELLED, "jobs", "the job manager is shutting down");
    } else if (jobs->stats.queued >= jobs->jc.max_queued) {
        jobs->stats.rejected++;
        rc = disco_status_set(st, DISCO_ERR_BUSY, "jobs",
                              "too many jobs waiting (%zu); try again later", jobs->stats.queued);
    } else {
        enqueue(jobs, j);
        memcpy(id, j->id, DISCO_ID_LEN + 1);
        prune(jobs);
    }
    pthread_mutex_unlock(&jobs->lock);
    if (rc != DISCO_OK)
        job_free(j);
    return rc;
}

int disco_jobs_cancel(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                      json_t **record, disco_status *st)
{
    done_note note = {0};
    int rc = DISCO_OK;

    if (record)
        *record = NULL;
    pthread_mutex_lock(&jobs->lock);
    disco__job *j = disco__jobs_find(jobs, id, viewer, role, st);
    if (!j) {
        rc = DISCO_ERR_NOTFOUND;
    } else if (disco_job_state_final(j->state)) {
        rc = disco_status_set(st, DISCO_ERR_CONFLICT, "job", "job %s has already %s", j->id,
                              disco_job_state_name(j->state));
    } else if (j->state == DISCO_JOB_QUEUED) {
        queue_remove(jobs, j);
        note = cancel_queued(jobs, j, "before it started");
    } else {
        j->cancel = 1;
    }
    if (rc == DISCO_OK && record && !(*record = disco__job_record(j, 1)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    pthread_mutex_unlock(&jobs->lock);
    if (note.op)
        notify(jobs, &note);
    return rc;
}
