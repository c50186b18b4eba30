/*
 * jobs_fixture.c - fake long ops and helpers shared by the job-manager
 * test groups (see jobs_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/jobs_fixture.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* ---- fake ops ----------------------------------------------------------- */

atomic_int tu_gate_open, tu_running, tu_max_running;

void tu_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Counts to n (sleeping `sleep_ms` per step), reporting each step; fails at `fail_at`. */
static int op_count(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    int64_t n = json_integer_value(json_object_get(params, "n"));
    json_t *fail = json_object_get(params, "fail_at");
    int pause = (int)json_integer_value(json_object_get(params, "sleep_ms"));
    int now = atomic_fetch_add(&tu_running, 1) + 1, max = atomic_load(&tu_max_running);

    while (now > max && !atomic_compare_exchange_weak(&tu_max_running, &max, now))
        ;
    for (int64_t i = 0; i < n; i++) {
        if (disco_progress_report(disco_ctx_progress(ctx), "counting", (uint64_t)i, (uint64_t)n)) {
            atomic_fetch_sub(&tu_running, 1);
            return disco_status_set(st, DISCO_ERR_CANCELLED, NULL, "stopped at %d", (int)i);
        }
        if (fail && json_integer_value(fail) == i) {
            atomic_fetch_sub(&tu_running, 1);
            return disco_status_set(st, DISCO_ERR_INVAL, "fail_at", "fail at %d", (int)i);
        }
        if (pause)
            tu_sleep_ms(pause);
    }
    disco_progress_report(disco_ctx_progress(ctx), "counting", (uint64_t)n, (uint64_t)n);
    atomic_fetch_sub(&tu_running, 1);
    *result = json_pack("{s:I, s:s, s:i}", "counted", (json_int_t)n, "principal",
                        disco_ctx_principal(ctx), "role", (int)disco_ctx_role(ctx));
    return DISCO_OK;
}

/* Runs until the gate opens, reporting every millisecond (so it can be cancelled). */
static int op_gate(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    uint64_t i = 0;

    (void)params;
    while (!atomic_load(&tu_gate_open)) {
        if (disco_progress_report(disco_ctx_progress(ctx), "waiting", i++, 0))
            return disco_status_set(st, DISCO_ERR_CANCELLED, NULL, "gate cancelled");
        tu_sleep_ms(1);
    }
    *result = json_pack("{s:b}", "opened", 1);
    return DISCO_OK;
}

/* Reads the context's input stream to its end: {"bytes", "text"}. */
static int op_read(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char buf[256];
    size_t n = 0;
    ssize_t r;
    int fd = disco_ctx_in_fd(ctx);

    (void)params;
    if (fd < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "file", "no input stream");
    while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    *result = json_pack("{s:I, s:s}", "bytes", (json_int_t)n, "text", buf);
    return DISCO_OK;
}

static const disco_param no_params[] = {{0}};
const disco_op tu_op_count = {.name = "test.count",
                              .summary = "count",
                              .params = no_params,
                              .flags = DISCO_OP_LONG,
                              .fn = op_count};
const disco_op tu_op_read = {.name = "test.read",
                             .summary = "read",
                             .params = no_params,
                             .flags = DISCO_OP_LONG,
                             .fn = op_read};
const disco_op tu_op_gate = {.name = "test.gate",
                             .summary = "gate",
                             .params = no_params,
                             .flags = DISCO_OP_LONG,
                             .fn = op_gate};

/* ---- helpers ------------------------------------------------------------ */

int tu_jobs_setup(void **state)
{
    tu_jobs_fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir("jobs");
    f->cfg = disco_config_default();
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s/data", f->dir);
    snprintf(f->cfg.user, sizeof f->cfg.user, "local");
    f->jc = disco_jobs_config_default();
    f->jc.progress_interval_ms = 0;
    atomic_store(&tu_gate_open, 0);
    atomic_store(&tu_running, 0);
    atomic_store(&tu_max_running, 0);
    *state = f;
    return 0;
}

int tu_jobs_teardown(void **state)
{
    tu_jobs_fixture *f = *state;

    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

disco_jobs *tu_jobs_start(tu_jobs_fixture *f)
{
    disco_jobs *jobs = NULL;
    disco_status st = {0};

    if (disco_jobs_new(&f->cfg, &f->jc, &jobs, &st) != DISCO_OK)
        fail_msg("disco_jobs_new: %s", st.msg);
    return jobs;
}

void tu_jobs_submit(disco_jobs *jobs, const disco_op *op, const char *params, char *id)
{
    json_t *p = json_loads(params, 0, NULL);
    disco_status st = {0};

    assert_non_null(p);
    if (disco_jobs_submit(jobs, op, p, "alice", DISCO_ROLE_WRITER, id, &st) != DISCO_OK)
        fail_msg("submit: %s", st.msg);
    json_decref(p);
}

/* Follows a job's events until it is final; returns how many were seen (all in evs). */
size_t tu_jobs_follow(disco_jobs *jobs, const char *id, disco_job_event *evs, size_t max)
{
    size_t total = 0, n;
    uint64_t after = 0;
    int finished = 0;

    for (int rounds = 0; !finished; rounds++) {
        assert_true(rounds < 10000);
        assert_int_equal(disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, after, 2000, evs + total,
                                         max - total, &n, &finished, NULL),
                         DISCO_OK);
        if (n)
            after = evs[total + n - 1].seq;
        total += n;
        assert_true(total < max || finished);
    }
    return total;
}

/* Waits until the job's events show it running; returns the last seq seen. */
uint64_t tu_jobs_wait_running(disco_jobs *jobs, const char *id)
{
    disco_job_event ev[16];
    uint64_t after = 0;
    size_t n;
    int finished;

    for (int rounds = 0;; rounds++) {
        assert_true(rounds < 1000);
        assert_int_equal(disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, after, 2000, ev, 16, &n,
                                         &finished, NULL),
                         DISCO_OK);
        assert_false(finished);
        for (size_t i = 0; i < n; i++)
            if (ev[i].state == DISCO_JOB_RUNNING)
                return ev[i].seq;
        if (n)
            after = ev[n - 1].seq;
    }
}

json_t *tu_jobs_record(disco_jobs *jobs, const char *id)
{
    json_t *r = NULL;
    disco_status st = {0};

    if (disco_jobs_get(jobs, id, NULL, DISCO_ROLE_NONE, &r, &st) != DISCO_OK)
        fail_msg("get %s: %s", id, st.msg);
    return r;
}

const char *tu_json_str(const json_t *o, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(o, path1);
    return json_string_value(path2 ? json_object_get(v, path2) : v);
}
