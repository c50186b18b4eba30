/*
 * jobs.h - long operations run in the background as jobs, with progress
 * events a client can follow and a way to cancel them.
 *
 * An interface submits an op (usually one flagged DISCO_OP_LONG) with
 * parameters it already validated, and answers at once with the job's id.
 * A pool of worker threads runs queued jobs in submission order, each
 * against its own disco_ctx (principal and role of the submitter, streams
 * only when they were handed over with disco_jobs_submit_input() or
 * disco_jobs_submit_streams()) whose progress reporter feeds the job's
 * event log:
 *
 *   submit -> queued -> running -> succeeded | failed | cancelled
 *                \________________________________/^
 *                    cancel of a queued job: at once
 *
 * A running job is cancelled when its handler next reports progress (the
 * reporter returns non-zero and the op returns DISCO_ERR_CANCELLED); an op
 * that never reports runs to its end. Events (state changes, and progress
 * reports at most one per progress_interval_ms per stage, plus every
 * stage change and completion) are numbered 1, 2, ... per job and kept in
 * a ring of the last max_events, so a reader that falls far behind sees a
 * gap in the numbers. disco_jobs_wait() blocks until there are events after
 * a given number: the server's server-sent-events handler loops on it.
 *
 * Memory is bounded: at most max_queued jobs wait (submit answers BUSY
 * beyond), and finished jobs are kept for keep_ms and at most keep_max of
 * them (oldest dropped first), then forgotten. Jobs live only in this
 * process's memory: a restart forgets them all, including those queued or
 * running (their ids then answer NOTFOUND).
 *
 * Visibility: a job is seen (get, list, cancel, wait) by the principal that
 * submitted it, and by every caller of role DISCO_ROLE_ADMIN or
 * DISCO_ROLE_NONE (local use). Others get NOTFOUND, as for an unknown id.
 *
 * Thread safety: every function but disco_jobs_free() may be called from
 * any thread; one mutex guards the manager, held only briefly (never while
 * an op runs).
 */
#ifndef DISCO_JOBS_H
#define DISCO_JOBS_H

#include "disco/id.h"
#include "disco/ops.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum disco_job_state {
    DISCO_JOB_QUEUED,
    DISCO_JOB_RUNNING,
    DISCO_JOB_SUCCEEDED,
    DISCO_JOB_FAILED,
    DISCO_JOB_CANCELLED,
} disco_job_state;

/* "queued", "running", "succeeded", "failed", "cancelled" ("?" for others). */
const char *disco_job_state_name(disco_job_state s);

/* 1 for succeeded, failed and cancelled: nothing more will happen. */
int disco_job_state_final(disco_job_state s);

typedef enum disco_job_event_type {
    DISCO_JOB_EVENT_STATE,    /* the job entered `state` */
    DISCO_JOB_EVENT_PROGRESS, /* a progress report: stage, done, total */
} disco_job_event_type;

#define DISCO_JOB_STAGE_MAX 64

typedef struct disco_job_event {
    uint64_t seq;    /* 1, 2, ... within the job */
    int64_t time_ms; /* Unix ms */
    disco_job_event_type type;
    disco_job_state state;           /* the job's state after the event */
    char stage[DISCO_JOB_STAGE_MAX]; /* latest progress (both types) */
    uint64_t done, total;            /* total 0: unknown */
} disco_job_event;

/*
 * {"seq", "time_ms", "type": "state"|"progress", "state", "stage", "done",
 * "total"}: the `data:` of a server-sent event. New reference; NULL when
 * out of memory.
 */
json_t *disco_job_event_to_json(const disco_job_event *ev);

/*
 * Called on the worker thread with the job's fresh context before its op
 * runs (principal, role and progress already set): a place to attach what
 * the interface shares. A non-zero return fails the job with `st`.
 */
typedef int (*disco_jobs_setup_fn)(void *user, disco_ctx *ctx, disco_status *st);

/*
 * Called once per job when it reaches a final state, without the manager's
 * lock held, from the thread that finished it: `queue_s` is the time from
 * submission to start (or to cancellation), `run_s` the running time (0 if
 * it never ran). For duration metrics.
 */
typedef void (*disco_jobs_done_fn)(void *user, const char *op, disco_job_state state,
                                   double queue_s, double run_s);

/*
 * Called on the worker thread with the result of each job that succeeded
 * (borrowed), before the job is seen to have succeeded: a client that saw
 * it succeed also sees what the hook did. For counters taken from results.
 */
typedef void (*disco_jobs_result_fn)(void *user, const char *op, const json_t *result);

/*
 * Called on the worker thread after the op of a job with an output stream
 * (disco_jobs_submit_streams()) succeeded, its context still open, with
 * the descriptor the op wrote to and its result (borrowed; the hook may
 * add members): a place to keep what was written. Not called when the op
 * failed or was cancelled. A non-zero return (a disco_err with `st`) fails
 * the job, or cancels it for DISCO_ERR_CANCELLED; the result is dropped.
 */
typedef int (*disco_jobs_output_fn)(void *user, disco_ctx *ctx, const disco_op *op, int out_fd,
                                    json_t *result, disco_status *st);

typedef struct disco_jobs_config {
    unsigned workers;             /* threads running jobs (default 2) */
    size_t max_queued;            /* jobs waiting at most (default 64) */
    size_t max_events;            /* events kept per job (default 128) */
    int64_t progress_interval_ms; /* progress events at most this often (default 100) */
    int64_t keep_ms;              /* finished jobs kept this long (default 1 h) */
    size_t keep_max;              /* and at most this many (default 200) */
    disco_jobs_setup_fn setup;    /* may be NULL */
    void *setup_user;
    disco_jobs_done_fn on_done; /* may be NULL */
    void *done_user;
    disco_jobs_result_fn on_result; /* may be NULL */
    void *result_user;
    disco_jobs_output_fn on_output; /* may be NULL */
    void *output_user;
} disco_jobs_config;

/* The defaults above. */
disco_jobs_config disco_jobs_config_default(void);

typedef struct disco_jobs disco_jobs;

/*
 * Starts the workers. `cfg` (copied) configures every job's context; `jc`
 * NULL means the defaults. INVAL (field "workers" or "max_events") for
 * zero workers or events; NOMEM; INTERNAL when threads cannot start.
 */
int disco_jobs_new(const disco_config *cfg, const disco_jobs_config *jc, disco_jobs **out,
                   disco_status *st);

/*
 * Stops taking jobs: queued ones are cancelled, running ones asked to
 * cancel, waiters woken (their waits answer CANCELLED), and returns once
 * the workers have finished their current ops. Idempotent.
 */
void disco_jobs_shutdown(disco_jobs *jobs);

/*
 * Shuts down (as above) and frees everything. No other call may be in
 * progress or start. NULL is a no-op.
 */
void disco_jobs_free(disco_jobs *jobs);

/*
 * Queues `op` with `params` (validated by disco_ops_validate(); copied;
 * NULL: none) for `principal` (NULL: "") with `role`, and writes the new
 * job's id to `id`. Errors: INVAL for a NULL op or params that are not an
 * object; BUSY (field "jobs") when max_queued jobs already wait;
 * CANCELLED after disco_jobs_shutdown(); NOMEM.
 */
int disco_jobs_submit(disco_jobs *jobs, const disco_op *op, const json_t *params,
                      const char *principal, disco_role role, char id[DISCO_ID_LEN + 1],
                      disco_status *st);

/*
 * As disco_jobs_submit(), and the job's context reads `in_fd` for the path
 * "-" (disco_ctx_set_streams(); -1: none, as for every other job). The
 * descriptor becomes the job's whatever the outcome: it is closed when the
 * job is final, cancelled in the queue included, or at once when the
 * submission fails. Its file offset is where the op starts reading.
 */
int disco_jobs_submit_input(disco_jobs *jobs, const disco_op *op, const json_t *params,
                            const char *principal, disco_role role, int in_fd,
                            char id[DISCO_ID_LEN + 1], disco_status *st);

/*
 * As disco_jobs_submit_input(), and the job's context writes `out_fd` for
 * the path "-" (-1: none). It too becomes the job's: closed when the job is
 * final, or at once when the submission fails. After a successful run it
 * is handed to the config's on_output hook.
 */
int disco_jobs_submit_streams(disco_jobs *jobs, const disco_op *op, const json_t *params,
                              const char *principal, disco_role role, int in_fd, int out_fd,
                              char id[DISCO_ID_LEN + 1], disco_status *st);

/*
 * The job record, a new object:
 *   {"id", "op", "state", "principal", "created_ms", "started_ms" (null
 *    until it runs), "finished_ms" (null until final), "cancel_requested",
 *    "progress": {"stage", "done", "total"},
 *    "result": {...} (succeeded) | "error": {"code", "message", "field"?}
 *    (failed, cancelled)}
 * `viewer`/`role` are the caller (see Visibility). NOTFOUND (field "job")
 * for an unknown or invisible id; NOMEM.
 */
int disco_jobs_get(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                   json_t **record, disco_status *st);

/*
 * {"items": [records, newest first, without results], "count"} of the jobs
 * the caller sees. NOMEM.
 */
int disco_jobs_list(disco_jobs *jobs, const char *viewer, disco_role role, json_t **out,
                    disco_status *st);

/*
 * Cancels a job: a queued one becomes cancelled at once; a running one is
 * flagged (cancel_requested) and stops at its next progress report.
 * `record` (may be NULL) gets the job after the request. NOTFOUND as
 * disco_jobs_get(); CONFLICT (field "job") when it has already finished.
 */
int disco_jobs_cancel(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                      json_t **record, disco_status *st);

/*
 * Copies up to `max` kept events with seq > `after`, oldest first, into
 * `events`, and sets *n. Blocks up to `timeout_ms` (0: do not block) while
 * there are none and the job is not final. *n == 0 with *finished == 0
 * means the wait timed out. *finished is 1 when the job is final and the
 * copied events reach its last one: nothing more will come. Errors:
 * NOTFOUND as disco_jobs_get(); CANCELLED when the manager shuts down
 * during the wait.
 */
int disco_jobs_wait(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                    uint64_t after, int timeout_ms, disco_job_event *events, size_t max, size_t *n,
                    int *finished, disco_status *st);

typedef struct disco_jobs_stats {
    size_t queued;                                              /* waiting now */
    size_t running;                                             /* running now */
    size_t kept;                                                /* finished and still kept */
    uint64_t submitted, rejected, succeeded, failed, cancelled; /* since start */
} disco_jobs_stats;

/* Counts for metrics (a gauge callback may call it). */
void disco_jobs_get_stats(disco_jobs *jobs, disco_jobs_stats *out);

#endif
