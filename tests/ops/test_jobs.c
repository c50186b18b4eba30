/*
 * test_jobs.c - the job manager with fake long ops defined here: success
 * with its event log, failure, cancelling queued and running jobs, waits
 * that time out, a ring that drops old events, several jobs at once, a full
 * queue, who sees which job, clean-up of finished jobs, the setup, done
 * and result hooks, an input stream the job owns, and shutdown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/jobs.h"
#include "disco/timeutil.h"
#include "support/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- fake ops ----------------------------------------------------------- */

static atomic_int g_gate_open, g_running, g_max_running;

static void sleep_ms(int ms)
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
    int now = atomic_fetch_add(&g_running, 1) + 1, max = atomic_load(&g_max_running);

    while (now > max && !atomic_compare_exchange_weak(&g_max_running, &max, now))
        ;
    for (int64_t i = 0; i < n; i++) {
        if (disco_progress_report(disco_ctx_progress(ctx), "counting", (uint64_t)i, (uint64_t)n)) {
            atomic_fetch_sub(&g_running, 1);
            return disco_status_set(st, DISCO_ERR_CANCELLED, NULL, "stopped at %d", (int)i);
        }
        if (fail && json_integer_value(fail) == i) {
            atomic_fetch_sub(&g_running, 1);
            return disco_status_set(st, DISCO_ERR_INVAL, "fail_at", "fail at %d", (int)i);
        }
        if (pause)
            sleep_ms(pause);
    }
    disco_progress_report(disco_ctx_progress(ctx), "counting", (uint64_t)n, (uint64_t)n);
    atomic_fetch_sub(&g_running, 1);
    *result = json_pack("{s:I, s:s, s:i}", "counted", (json_int_t)n, "principal",
                        disco_ctx_principal(ctx), "role", (int)disco_ctx_role(ctx));
    return DISCO_OK;
}

/* Runs until the gate opens, reporting every millisecond (so it can be cancelled). */
static int op_gate(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    uint64_t i = 0;

    (void)params;
    while (!atomic_load(&g_gate_open)) {
        if (disco_progress_report(disco_ctx_progress(ctx), "waiting", i++, 0))
            return disco_status_set(st, DISCO_ERR_CANCELLED, NULL, "gate cancelled");
        sleep_ms(1);
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
static const disco_op op_count_def = {.name = "test.count",
                                      .summary = "count",
                                      .params = no_params,
                                      .flags = DISCO_OP_LONG,
                                      .fn = op_count};
static const disco_op op_read_def = {.name = "test.read",
                                     .summary = "read",
                                     .params = no_params,
                                     .flags = DISCO_OP_LONG,
                                     .fn = op_read};
static const disco_op op_gate_def = {.name = "test.gate",
                                     .summary = "gate",
                                     .params = no_params,
                                     .flags = DISCO_OP_LONG,
                                     .fn = op_gate};

/* ---- helpers ------------------------------------------------------------ */

typedef struct fixture {
    char *dir;
    disco_config cfg;
    disco_jobs_config jc;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir("jobs");
    f->cfg = disco_config_default();
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s/data", f->dir);
    snprintf(f->cfg.user, sizeof f->cfg.user, "local");
    f->jc = disco_jobs_config_default();
    f->jc.progress_interval_ms = 0;
    atomic_store(&g_gate_open, 0);
    atomic_store(&g_running, 0);
    atomic_store(&g_max_running, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static disco_jobs *start(fixture *f)
{
    disco_jobs *jobs = NULL;
    disco_status st = {0};

    if (disco_jobs_new(&f->cfg, &f->jc, &jobs, &st) != DISCO_OK)
        fail_msg("disco_jobs_new: %s", st.msg);
    return jobs;
}

static void submit(disco_jobs *jobs, const disco_op *op, const char *params, char *id)
{
    json_t *p = json_loads(params, 0, NULL);
    disco_status st = {0};

    assert_non_null(p);
    if (disco_jobs_submit(jobs, op, p, "alice", DISCO_ROLE_WRITER, id, &st) != DISCO_OK)
        fail_msg("submit: %s", st.msg);
    json_decref(p);
}

/* Follows a job's events until it is final; returns how many were seen (all in evs). */
static size_t follow(disco_jobs *jobs, const char *id, disco_job_event *evs, size_t max)
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
static uint64_t wait_running(disco_jobs *jobs, const char *id)
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

static json_t *record(disco_jobs *jobs, const char *id)
{
    json_t *r = NULL;
    disco_status st = {0};

    if (disco_jobs_get(jobs, id, NULL, DISCO_ROLE_NONE, &r, &st) != DISCO_OK)
        fail_msg("get %s: %s", id, st.msg);
    return r;
}

static const char *str(const json_t *o, const char *path1, const char *path2)
{
    const json_t *v = json_object_get(o, path1);
    return json_string_value(path2 ? json_object_get(v, path2) : v);
}

/* ---- cases -------------------------------------------------------------- */

static void test_success_and_events(void **state)
{
    fixture *f = *state;
    disco_jobs *jobs = start(f);
    disco_job_event evs[64];
    char id[DISCO_ID_LEN + 1];

    submit(jobs, &op_count_def, "{\"n\": 5}", id);
    assert_true(disco_id_valid(id));
    size_t n = follow(jobs, id, evs, 64);
    /* queued, running, progress 0..5, succeeded: every number once, in order */
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(evs[i].seq, i + 1);
    assert_int_equal(evs[0].type, DISCO_JOB_EVENT_STATE);
    assert_int_equal(evs[0].state, DISCO_JOB_QUEUED);
    assert_int_equal(evs[1].state, DISCO_JOB_RUNNING);
    assert_int_equal(evs[2].type, DISCO_JOB_EVENT_PROGRESS);
    assert_string_equal(evs[2].stage, "counting");
    assert_int_equal(evs[7].done, 5);
    assert_int_equal(evs[7].total, 5);
    assert_int_equal(evs[8].state, DISCO_JOB_SUCCEEDED);

    json_t *r = record(jobs, id);
    assert_string_equal(str(r, "state", NULL), "succeeded");
    assert_string_equal(str(r, "op", NULL), "test.count");
    assert_string_equal(str(r, "principal", NULL), "alice");
    assert_string_equal(str(r, "result", "principal"), "alice"); /* the job's context */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "role")),
                     DISCO_ROLE_WRITER);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "counted")),
                     5);
    assert_true(json_is_integer(json_object_get(r, "started_ms")));
    assert_true(json_integer_value(json_object_get(r, "finished_ms")) >=
                json_integer_value(json_object_get(r, "started_ms")));
    assert_null(json_object_get(r, "error"));
    assert_string_equal(str(r, "progress", "stage"), "counting");
    json_decref(r);

    json_t *ej = disco_job_event_to_json(&evs[8]);
    assert_string_equal(str(ej, "type", NULL), "state");
    assert_string_equal(str(ej, "state", NULL), "succeeded");
    assert_int_equal(json_integer_value(json_object_get(ej, "seq")), 9);
    json_decref(ej);
    disco_jobs_free(jobs);
}

static void test_failure(void **state)
{
    fixture *f = *state;
    disco_jobs *jobs = start(f);
    disco_job_event evs[64];
    char id[DISCO_ID_LEN + 1];

    submit(jobs, &op_count_def, "{\"n\": 5, \"fail_at\": 2}", id);
    size_t n = follow(jobs, id, evs, 64);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    json_t *r = record(jobs, id);
    assert_string_equal(str(r, "state", NULL), "failed");
    assert_string_equal(str(r, "error", "code"), "INVAL");
    assert_string_equal(str(r, "error", "message"), "fail at 2");
    assert_string_equal(str(r, "error", "field"), "fail_at");
    assert_null(json_object_get(r, "result"));
    json_decref(r);
    disco_jobs_stats s;
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.succeeded, 0);
    disco_jobs_free(jobs);
}

typedef struct done_log {
    pthread_mutex_t lock;
    int succeeded, failed, cancelled;
    double min_queue_s, max_run_s;
} done_log;

static void on_done(void *user, const char *op, disco_job_state state, double queue_s, double run_s)
{
    done_log *d = user;

    assert_true(strncmp(op, "test.", 5) == 0);
    pthread_mutex_lock(&d->lock);
    d->succeeded += state == DISCO_JOB_SUCCEEDED;
    d->failed += state == DISCO_JOB_FAILED;
    d->cancelled += state == DISCO_JOB_CANCELLED;
    if (queue_s < d->min_queue_s)
        d->min_queue_s = queue_s;
    if (run_s > d->max_run_s)
        d->max_run_s = run_s;
    pthread_mutex_unlock(&d->lock);
}

static void test_cancel_queued_and_running(void **state)
{
    fixture *f = *state;
    done_log d = {.lock = PTHREAD_MUTEX_INITIALIZER, .min_queue_s = 1e9};
    disco_status st = {0};
    char gate[DISCO_ID_LEN + 1], queued[DISCO_ID_LEN + 1];
    json_t *r;

    f->jc.workers = 1;
    f->jc.on_done = on_done;
    f->jc.done_user = &d;
    disco_jobs *jobs = start(f);
    submit(jobs, &op_gate_def, "{}", gate);
    wait_running(jobs, gate);
    submit(jobs, &op_count_def, "{\"n\": 3}", queued);

    /* queued: cancelled at once */
    assert_int_equal(disco_jobs_cancel(jobs, queued, NULL, DISCO_ROLE_NONE, &r, &st), DISCO_OK);
    assert_string_equal(str(r, "state", NULL), "cancelled");
    assert_string_equal(str(r, "error", "code"), "CANCELLED");
    assert_true(json_is_null(json_object_get(r, "started_ms")));
    json_decref(r);
    assert_int_equal(disco_jobs_cancel(jobs, queued, NULL, DISCO_ROLE_NONE, NULL, &st),
                     DISCO_ERR_CONFLICT);
    assert_non_null(strstr(st.msg, "already cancelled"));

    /* running: flagged, then stops at its next report */
    assert_int_equal(disco_jobs_cancel(jobs, gate, NULL, DISCO_ROLE_NONE, &r, &st), DISCO_OK);
    assert_true(json_is_true(json_object_get(r, "cancel_requested")));
    json_decref(r);
    disco_job_event evs[4096];
    size_t n = follow(jobs, gate, evs, 4096);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_CANCELLED);
    r = record(jobs, gate);
    assert_string_equal(str(r, "error", "message"), "gate cancelled");
    json_decref(r);

    disco_jobs_stats s;
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.cancelled, 2);
    assert_int_equal(s.queued + s.running, 0);
    disco_jobs_free(jobs);
    assert_int_equal(d.cancelled, 2); /* on_done for both, and nothing else */
    assert_int_equal(d.succeeded + d.failed, 0);
    assert_true(d.min_queue_s >= 0 && d.max_run_s > 0);
}

static void test_wait_timeout(void **state)
{
    fixture *f = *state;
    disco_jobs *jobs = start(f);
    disco_job_event ev[8];
    char id[DISCO_ID_LEN + 1];
    size_t n;
    int finished;

    submit(jobs, &op_gate_def, "{}", id);
    wait_running(jobs, id);
    /* after a number far ahead: nothing comes, so the wait times out */
    uint64_t t0 = disco_time_mono_ns();
    assert_int_equal(
        disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, 1000000, 60, ev, 8, &n, &finished, NULL),
        DISCO_OK);
    double waited_ms = (double)(disco_time_mono_ns() - t0) / 1e6;
    assert_int_equal(n, 0);
    assert_false(finished);
    assert_true(waited_ms >= 55 && waited_ms < 2000);
    /* timeout 0 answers at once */
    assert_int_equal(
        disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, 1000000, 0, ev, 8, &n, &finished, NULL),
        DISCO_OK);
    assert_int_equal(n, 0);
    /* unknown ids */
    disco_status st = {0};
    assert_int_equal(disco_jobs_wait(jobs, "01ARZ3NDEKTSV4RRFFQ69G5FAV", NULL, DISCO_ROLE_NONE, 0,
                                     10, ev, 8, &n, &finished, &st),
                     DISCO_ERR_NOTFOUND);
    assert_string_equal(st.field, "job");
    atomic_store(&g_gate_open, 1);
    disco_job_event all[4096];
    n = follow(jobs, id, all, 4096);
    assert_int_equal(all[n - 1].state, DISCO_JOB_SUCCEEDED);
    disco_jobs_free(jobs);
}

static void test_ring_keeps_the_latest(void **state)
{
    fixture *f = *state;
    disco_job_event ev[32]; /* room for all 24 events when the follower keeps up */
    char id[DISCO_ID_LEN + 1];
    size_t n;
    int finished;

    f->jc.max_events = 4;
    disco_jobs *jobs = start(f);
    submit(jobs, &op_count_def, "{\"n\": 20}", id);
    n = follow(jobs, id, ev, 32); /* reads across the gaps the small ring leaves */
    assert_int_equal(ev[n - 1].state, DISCO_JOB_SUCCEEDED);
    /* 1 queued + 1 running + 21 progress + 1 final = 24 events; the last 4 kept */
    assert_int_equal(
        disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, 0, 100, ev, 16, &n, &finished, NULL),
        DISCO_OK);
    assert_int_equal(n, 4);
    assert_int_equal(ev[0].seq, 21);
    assert_int_equal(ev[3].seq, 24);
    assert_true(finished);
    /* asking for fewer than are there: not finished until the last is read */
    assert_int_equal(
        disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, 20, 100, ev, 2, &n, &finished, NULL),
        DISCO_OK);
    assert_int_equal(n, 2);
    assert_false(finished);
    assert_int_equal(
        disco_jobs_wait(jobs, id, NULL, DISCO_ROLE_NONE, 24, 100, ev, 2, &n, &finished, NULL),
        DISCO_OK);
    assert_int_equal(n, 0);
    assert_true(finished);
    disco_jobs_free(jobs);
}

typedef struct submitter {
    disco_jobs *jobs;
    char ids[6][DISCO_ID_LEN + 1];
    int rc[6];
} submitter;

/* Submits six jobs from another thread (no cmocka asserts off the main thread). */
static void *submit_six(void *arg)
{
    submitter *s = arg;
    json_t *p = json_pack("{s:i, s:i}", "n", 8, "sleep_ms", 2);

    for (int i = 0; i < 6; i++)
        s->rc[i] = disco_jobs_submit(s->jobs, &op_count_def, p, "alice", DISCO_ROLE_WRITER,
                                     s->ids[i], NULL);
    json_decref(p);
    return NULL;
}

static void test_concurrency(void **state)
{
    fixture *f = *state;
    submitter s[2];
    pthread_t th[2];

    f->jc.workers = 3;
    disco_jobs *jobs = start(f);
    for (int i = 0; i < 2; i++) {
        s[i].jobs = jobs;
        assert_int_equal(pthread_create(&th[i], NULL, submit_six, &s[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    json_t *seen = json_object();
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 6; k++) {
            disco_job_event evs[64];
            assert_int_equal(s[i].rc[k], DISCO_OK);
            size_t n = follow(jobs, s[i].ids[k], evs, 64);
            assert_int_equal(evs[n - 1].state, DISCO_JOB_SUCCEEDED);
            assert_null(json_object_get(seen, s[i].ids[k])); /* ids are unique */
            json_object_set_new(seen, s[i].ids[k], json_true());
        }
    json_decref(seen);
    disco_jobs_stats st;
    disco_jobs_get_stats(jobs, &st);
    assert_int_equal(st.submitted, 12);
    assert_int_equal(st.succeeded, 12);
    /* at most one job per worker ran at a time, and the workers did overlap */
    assert_true(atomic_load(&g_max_running) <= 3);
    assert_true(atomic_load(&g_max_running) >= 2);
    json_t *list;
    assert_int_equal(disco_jobs_list(jobs, NULL, DISCO_ROLE_NONE, &list, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 12);
    assert_null(json_object_get(json_array_get(json_object_get(list, "items"), 0), "result"));
    json_decref(list);
    disco_jobs_free(jobs);
}

static void test_queue_full(void **state)
{
    fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], a[DISCO_ID_LEN + 1], b[DISCO_ID_LEN + 1], c[DISCO_ID_LEN + 1];
    disco_status st = {0};

    f->jc.workers = 1;
    f->jc.max_queued = 2;
    disco_jobs *jobs = start(f);
    submit(jobs, &op_gate_def, "{}", gate);
    wait_running(jobs, gate);
    submit(jobs, &op_count_def, "{\"n\": 1}", a);
    submit(jobs, &op_count_def, "{\"n\": 1}", b);
    assert_int_equal(
        disco_jobs_submit(jobs, &op_count_def, NULL, "alice", DISCO_ROLE_WRITER, c, &st),
        DISCO_ERR_BUSY);
    assert_string_equal(st.field, "jobs");
    disco_jobs_stats s;
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.queued, 2);
    assert_int_equal(s.running, 1);
    assert_int_equal(s.rejected, 1);
    atomic_store(&g_gate_open, 1);
    disco_job_event evs[4096];
    follow(jobs, b, evs, 4096);
    disco_jobs_free(jobs);
}

static void test_visibility(void **state)
{
    fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_status st = {0};
    json_t *r = NULL, *list;

    disco_jobs *jobs = start(f);
    submit(jobs, &op_count_def, "{\"n\": 1}", id); /* alice, writer */
    assert_int_equal(disco_jobs_get(jobs, id, "bob", DISCO_ROLE_WRITER, &r, &st),
                     DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_jobs_cancel(jobs, id, "bob", DISCO_ROLE_READER, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_jobs_list(jobs, "bob", DISCO_ROLE_READER, &list, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 0);
    json_decref(list);
    const struct {
        const char *who;
        disco_role role;
    } may[] = {{"alice", DISCO_ROLE_READER}, {"root", DISCO_ROLE_ADMIN}, {NULL, DISCO_ROLE_NONE}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(disco_jobs_get(jobs, id, may[i].who, may[i].role, &r, &st), DISCO_OK);
        json_decref(r);
    }
    /* ids are matched whatever their case */
    char lower[DISCO_ID_LEN + 1];
    for (int i = 0; i <= DISCO_ID_LEN; i++)
        lower[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
    assert_int_equal(disco_jobs_get(jobs, lower, "alice", DISCO_ROLE_READER, &r, &st), DISCO_OK);
    json_decref(r);
    disco_jobs_free(jobs);
}

static void test_cleanup(void **state)
{
    fixture *f = *state;
    char ids[5][DISCO_ID_LEN + 1];
    disco_job_event evs[64];
    disco_status st = {0};
    json_t *r = NULL;

    f->jc.keep_max = 2;
    disco_jobs *jobs = start(f);
    for (int i = 0; i < 5; i++) {
        submit(jobs, &op_count_def, "{\"n\": 1}", ids[i]);
        follow(jobs, ids[i], evs, 64);
    }
    disco_jobs_stats s;
    r = record(jobs, ids[4]); /* a look-up also forgets what is past keeping */
    json_decref(r);
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.kept, 2);
    assert_int_equal(disco_jobs_get(jobs, ids[0], NULL, DISCO_ROLE_NONE, &r, &st),
                     DISCO_ERR_NOTFOUND);
    r = record(jobs, ids[3]);
    json_decref(r);
    disco_jobs_free(jobs);

    /* keep_ms 0: gone as soon as nobody waits on it */
    f->jc.keep_max = 200;
    f->jc.keep_ms = 0;
    jobs = start(f);
    submit(jobs, &op_count_def, "{\"n\": 1}", ids[0]);
    for (int i = 0; i < 2000 && (disco_jobs_get_stats(jobs, &s), s.succeeded == 0); i++)
        sleep_ms(1); /* poll the counts: a waiter would keep the job */
    sleep_ms(2);
    assert_int_equal(disco_jobs_get(jobs, ids[0], NULL, DISCO_ROLE_NONE, &r, &st),
                     DISCO_ERR_NOTFOUND);
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.kept, 0);
    assert_int_equal(s.succeeded, 1);
    disco_jobs_free(jobs);
}

static int failing_setup(void *user, disco_ctx *ctx, disco_status *st)
{
    (void)user;
    (void)ctx;
    return disco_status_set(st, DISCO_ERR_IO, "data_dir", "stores unavailable");
}

static void test_setup_hook(void **state)
{
    fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_job_event evs[16];

    f->jc.setup = failing_setup;
    disco_jobs *jobs = start(f);
    submit(jobs, &op_count_def, "{\"n\": 1}", id);
    size_t n = follow(jobs, id, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    json_t *r = record(jobs, id);
    assert_string_equal(str(r, "error", "code"), "IO");
    assert_string_equal(str(r, "error", "message"), "stores unavailable");
    json_decref(r);
    disco_jobs_free(jobs);
}

/* An unlinked file holding `text`, at offset 0. */
static int input_file(const fixture *f, const char *text)
{
    int fd = open(f->dir, O_TMPFILE | O_RDWR, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static int closed(int fd)
{
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

typedef struct result_log {
    atomic_int calls;
    atomic_llong bytes;
} result_log;

static void on_result(void *user, const char *op, const json_t *result)
{
    result_log *l = user;

    if (strcmp(op, "test.read") == 0)
        atomic_fetch_add(&l->bytes,
                         (long long)json_integer_value(json_object_get(result, "bytes")));
    atomic_fetch_add(&l->calls, 1);
}

static void test_input_stream(void **state)
{
    fixture *f = *state;
    result_log l = {0};
    char id[DISCO_ID_LEN + 1], plain[DISCO_ID_LEN + 1];
    disco_job_event evs[16];
    disco_status st = {0};
    int fd = input_file(f, "hello stream");

    f->jc.on_result = on_result;
    f->jc.result_user = &l;
    disco_jobs *jobs = start(f);
    assert_int_equal(
        disco_jobs_submit_input(jobs, &op_read_def, NULL, "alice", DISCO_ROLE_WRITER, fd, id, &st),
        DISCO_OK);
    size_t n = follow(jobs, id, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_SUCCEEDED);
    /* the hook ran before the job was seen final */
    assert_int_equal(atomic_load(&l.calls), 1);
    assert_int_equal(atomic_load(&l.bytes), 12);
    json_t *r = record(jobs, id);
    assert_string_equal(str(r, "result", "text"), "hello stream");
    json_decref(r);
    assert_true(closed(fd)); /* the job owned it */

    /* a job submitted without one has no stream */
    submit(jobs, &op_read_def, "{}", plain);
    n = follow(jobs, plain, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    assert_int_equal(atomic_load(&l.calls), 1); /* failures are not results */
    disco_jobs_free(jobs);
}

static void test_input_closed_when_not_run(void **state)
{
    fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], queued[DISCO_ID_LEN + 1], left[DISCO_ID_LEN + 1];
    disco_status st = {0};
    int fd;

    f->jc.workers = 1;
    disco_jobs *jobs = start(f);
    fd = input_file(f, "x");
    assert_int_equal(
        disco_jobs_submit_input(jobs, NULL, NULL, NULL, DISCO_ROLE_NONE, fd, queued, &st),
        DISCO_ERR_INVAL);
    assert_true(closed(fd)); /* a failed submission closes it */

    submit(jobs, &op_gate_def, "{}", gate);
    wait_running(jobs, gate);
    fd = input_file(f, "queued");
    assert_int_equal(
        disco_jobs_submit_input(jobs, &op_read_def, NULL, NULL, DISCO_ROLE_NONE, fd, queued, &st),
        DISCO_OK);
    assert_false(closed(fd));
    assert_int_equal(disco_jobs_cancel(jobs, queued, NULL, DISCO_ROLE_NONE, NULL, &st), DISCO_OK);
    assert_true(closed(fd)); /* cancelled in the queue */

    fd = input_file(f, "left at shutdown");
    assert_int_equal(
        disco_jobs_submit_input(jobs, &op_read_def, NULL, NULL, DISCO_ROLE_NONE, fd, left, &st),
        DISCO_OK);
    disco_jobs_shutdown(jobs);
    assert_true(closed(fd));
    disco_jobs_free(jobs);
}

/* Writes params.text to the output stream, or fails when params.fail is set. */
static int op_write(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *text = json_string_value(json_object_get(params, "text"));
    int fd = disco_ctx_out_fd(ctx);

    if (fd < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "output", "no output stream");
    if (text && write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return disco_status_set(st, DISCO_ERR_IO, "output", "short write");
    if (json_is_true(json_object_get(params, "fail")))
        return disco_status_set(st, DISCO_ERR_INVAL, "fail", "failed after writing");
    *result = json_pack("{s:s}", "output", "-");
    return DISCO_OK;
}

static const disco_op op_write_def = {.name = "test.write",
                                      .summary = "write",
                                      .params = no_params,
                                      .flags = DISCO_OP_LONG,
                                      .fn = op_write};

typedef struct output_log {
    atomic_int calls;
    int refuse; /* the hook fails */
} output_log;

/* Reads back what the op wrote into result.kept. */
static int on_output(void *user, disco_ctx *ctx, const disco_op *op, int fd, json_t *result,
                     disco_status *st)
{
    output_log *l = user;
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

    (void)ctx;
    atomic_fetch_add(&l->calls, 1);
    if (l->refuse || n < 0)
        return disco_status_set(st, DISCO_ERR_NOSPC, "output", "%s: no room", op->name);
    buf[n] = '\0';
    json_object_set_new(result, "kept", json_string(buf));
    return DISCO_OK;
}

/* Submits test.write with `params` and an output file; returns the final record. */
static json_t *run_write(disco_jobs *jobs, const fixture *f, const char *params, int *fd)
{
    char id[DISCO_ID_LEN + 1];
    disco_job_event evs[16];
    disco_status st = {0};
    json_t *p = json_loads(params, 0, NULL);

    *fd = input_file(f, "");
    assert_int_equal(disco_jobs_submit_streams(jobs, &op_write_def, p, "alice", DISCO_ROLE_WRITER,
                                               -1, *fd, id, &st),
                     DISCO_OK);
    json_decref(p);
    follow(jobs, id, evs, 16);
    return record(jobs, id);
}

static void test_output_stream(void **state)
{
    fixture *f = *state;
    output_log l = {0};
    disco_status st = {0};
    char id[DISCO_ID_LEN + 1];
    int fd;

    f->jc.on_output = on_output;
    f->jc.output_user = &l;
    disco_jobs *jobs = start(f);
    json_t *r = run_write(jobs, f, "{\"text\": \"a,b\\n1,2\\n\"}", &fd);
    assert_string_equal(str(r, "state", NULL), "succeeded");
    assert_string_equal(str(r, "result", "kept"), "a,b\n1,2\n");
    assert_true(closed(fd));
    json_decref(r);

    r = run_write(jobs, f, "{\"text\": \"partial\", \"fail\": true}", &fd);
    assert_string_equal(str(r, "state", NULL), "failed");
    assert_int_equal(atomic_load(&l.calls), 1); /* not called for a failed op */
    assert_true(closed(fd));
    json_decref(r);

    l.refuse = 1;
    r = run_write(jobs, f, "{\"text\": \"x\"}", &fd);
    assert_string_equal(str(r, "state", NULL), "failed");
    assert_string_equal(str(r, "error", "code"), "NOSPC");
    assert_null(json_object_get(r, "result"));
    assert_true(closed(fd));
    json_decref(r);

    fd = input_file(f, "");
    assert_int_equal(disco_jobs_submit_streams(jobs, NULL, NULL, NULL, DISCO_ROLE_NONE, -1, fd, id,
                                               &st),
                     DISCO_ERR_INVAL);
    assert_true(closed(fd)); /* a failed submission closes it */
    disco_jobs_free(jobs);
}

static void test_shutdown(void **state)
{
    fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], q1[DISCO_ID_LEN + 1], q2[DISCO_ID_LEN + 1];
    disco_status st = {0};
    disco_job_event ev[4];
    size_t n;
    int finished;

    f->jc.workers = 1;
    disco_jobs *jobs = start(f);
    submit(jobs, &op_gate_def, "{}", gate);
    wait_running(jobs, gate);
    submit(jobs, &op_count_def, "{\"n\": 1}", q1);
    submit(jobs, &op_count_def, "{\"n\": 1}", q2);
    disco_jobs_shutdown(jobs); /* returns once the gate saw its cancel */
    const char *ids[] = {gate, q1, q2};
    for (int i = 0; i < 3; i++) {
        json_t *r = record(jobs, ids[i]);
        assert_string_equal(str(r, "state", NULL), "cancelled");
        json_decref(r);
        assert_int_equal(disco_jobs_wait(jobs, ids[i], NULL, DISCO_ROLE_NONE, 0, 1000, ev, 4, &n,
                                         &finished, NULL),
                         DISCO_OK);
    }
    assert_int_equal(disco_jobs_submit(jobs, &op_count_def, NULL, NULL, DISCO_ROLE_NONE, q1, &st),
                     DISCO_ERR_CANCELLED);
    disco_jobs_shutdown(jobs); /* again: nothing to do */
    disco_jobs_free(jobs);
}

static void test_bad_arguments(void **state)
{
    fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_status st = {0};
    disco_jobs *jobs = NULL;
    json_t *list = json_array();

    f->jc.workers = 0;
    assert_int_equal(disco_jobs_new(&f->cfg, &f->jc, &jobs, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "workers");
    f->jc.workers = 1;
    f->jc.max_events = 0;
    assert_int_equal(disco_jobs_new(&f->cfg, &f->jc, &jobs, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_jobs_new(&f->cfg, NULL, &jobs, &st), DISCO_OK);
    assert_int_equal(disco_jobs_submit(jobs, NULL, NULL, NULL, DISCO_ROLE_NONE, id, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_jobs_submit(jobs, &op_count_def, list, NULL, DISCO_ROLE_NONE, id, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "params");
    json_decref(list);
    assert_string_equal(disco_job_state_name(DISCO_JOB_RUNNING), "running");
    assert_string_equal(disco_job_state_name((disco_job_state)42), "?");
    disco_jobs_free(jobs);
    disco_jobs_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_and_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_queued_and_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_keeps_the_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_setup_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_closed_when_not_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
