/*
 * jobs_int.h - the job manager's internals, shared by jobs.c (queue,
 * workers, cancelling, clean-up) and jobs_view.c (records, events, waits).
 *
 *   disco_jobs                      one mutex guards everything below
 *     head <-> ... <-> tail         every kept job, oldest first
 *     qhead -> ... -> qtail         the queued ones, in submission order
 *     work                          workers wait here for queued jobs
 *   disco__job
 *     ring[max_events]              event seq s lives at ring[(s-1) % max]
 *     cond                          waiters of this job's events
 */
#ifndef DISCO_JOBS_INT_H
#define DISCO_JOBS_INT_H

#include "disco/jobs.h"

#include <pthread.h>

typedef struct disco__job {
    struct disco__job *prev, *next; /* every job, oldest first */
    struct disco__job *qnext;       /* the queue */
    disco_jobs *owner;
    char id[DISCO_ID_LEN + 1];
    const disco_op *op; /* immutable after submit, as params/principal/role */
    json_t *params;
    char principal[128];
    disco_role role;
    int in_fd;  /* the input stream ("-"), owned; -1: none or closed */
    int out_fd; /* the output stream ("-"), owned; -1: none or closed */
    disco_job_state state;
    int cancel;                                   /* cancel requested */
    int64_t created_ms, started_ms, finished_ms;  /* Unix ms; 0: not yet */
    uint64_t created_ns, started_ns, finished_ns; /* monotonic */
    char stage[DISCO_JOB_STAGE_MAX];
    uint64_t done, total;
    uint64_t last_progress_ns; /* when the last progress event was logged */
    json_t *result;            /* succeeded */
    disco_status err;          /* failed or cancelled; err.code the disco_err */
    disco_job_event *ring;
    uint64_t seq; /* number of the last event (0: none) */
    int waiters;  /* threads in disco_jobs_wait() on it: not freed meanwhile */
    pthread_cond_t cond;
} disco__job;

struct disco_jobs {
    disco_config cfg;
    disco_jobs_config jc;
    pthread_mutex_t lock;
    pthread_cond_t work;
    pthread_condattr_t cattr; /* CLOCK_MONOTONIC for timed waits */
    pthread_t *threads;
    unsigned nthreads;
    int stopping, joined;
    disco__job *head, *tail;
    disco__job *qhead, *qtail;
    disco_jobs_stats stats;
};

/* Logs an event of `type` with the job's current state and progress; lock held. */
void disco__job_event(disco__job *j, disco_job_event_type type);

/* The job `id` as `viewer`/`role` may see it, or NULL with NOTFOUND in st; lock held. */
disco__job *disco__jobs_find(disco_jobs *jobs, const char *id, const char *viewer, disco_role role,
                             disco_status *st);

/* The record of a job (jobs.h); `with_result` adds the result; lock held. NULL: NOMEM. */
json_t *disco__job_record(const disco__job *j, int with_result);

/* 1 when `viewer`/`role` may see `j`. */
int disco__job_visible(const disco__job *j, const char *viewer, disco_role role);

#endif
