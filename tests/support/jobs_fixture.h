/*
 * jobs_fixture.h - what the job-manager test groups share: fake long ops
 * (count, gate, read), a fixture with a scratch data folder, and helpers
 * that submit, follow and read jobs (failing the test on any error).
 */
#ifndef DISCO_TU_JOBS_FIXTURE_H
#define DISCO_TU_JOBS_FIXTURE_H

#include "disco/config.h"
#include "disco/jobs.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tu_jobs_fixture {
    char *dir;
    disco_config cfg;
    disco_jobs_config jc;
} tu_jobs_fixture;

/* test.gate runs until tu_gate_open; test.count keeps the most running at once. */
extern atomic_int tu_gate_open, tu_running, tu_max_running;

/* test.count {n, fail_at?, sleep_ms?}, test.gate, test.read (its input stream). */
extern const disco_op tu_op_count, tu_op_gate, tu_op_read;

void tu_sleep_ms(int ms);

/* cmocka setup / teardown: a tu_jobs_fixture in *state. */
int tu_jobs_setup(void **state);
int tu_jobs_teardown(void **state);

disco_jobs *tu_jobs_start(tu_jobs_fixture *f);
void tu_jobs_submit(disco_jobs *jobs, const disco_op *op, const char *params, char *id);

/* Follows a job's events until it is final; returns how many were seen (all in evs). */
size_t tu_jobs_follow(disco_jobs *jobs, const char *id, disco_job_event *evs, size_t max);

/* Waits until the job's events show it running; returns the last seq seen. */
uint64_t tu_jobs_wait_running(disco_jobs *jobs, const char *id);

json_t *tu_jobs_record(disco_jobs *jobs, const char *id);

/* The string at o[path1] or o[path1][path2]; NULL when absent. */
const char *tu_json_str(const json_t *o, const char *path1, const char *path2);

#endif
