/*
 * test_jobs.c - the job manager with fake long ops defined here: success
 * with its event log, failure, cancelling queued and running jobs, waits
 * that time out, a ring that drops old events, several jobs at once, a full
 * queue, who sees which job, clean-up of finished jobs, the setup and done
 * hooks, and shutdown. Streams a job owns: test_jobs_streams.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/jobs.h"
#include "disco/timeutil.h"
#include "support/jobs_fixture.h"
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

/* ---- cases -------------------------------------------------------------- */

static void test_success_and_events(void **state)
{
    tu_jobs_fixture *f = *state;
    disco_jobs *jobs = tu_jobs_start(f);
    disco_job_event evs[64];
    char id[DISCO_ID_LEN + 1];

    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 5}", id);
    assert_true(disco_id_valid(id));
    size_t n = tu_jobs_follow(jobs, id, evs, 64);
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

    json_t *r = tu_jobs_record(jobs, id);
    assert_string_equal(tu_json_str(r, "state", NULL), "succeeded");
    assert_string_equal(tu_json_str(r, "op", NULL), "test.count");
    assert_string_equal(tu_json_str(r, "principal", NULL), "alice");
    assert_string_equal(tu_json_str(r, "result", "principal"), "alice"); /* the job's context */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "role")),
                     DISCO_ROLE_WRITER);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "result"), "counted")),
                     5);
    assert_true(json_is_integer(json_object_get(r, "started_ms")));
    assert_true(json_integer_value(json_object_get(r, "finished_ms")) >=
                json_integer_value(json_object_get(r, "started_ms")));
    assert_null(json_object_get(r, "error"));
    assert_string_equal(tu_json_str(r, "progress", "stage"), "counting");
    json_decref(r);

    json_t *ej = disco_job_event_to_json(&evs[8]);
    assert_string_equal(tu_json_str(ej, "type", NULL), "state");
    assert_string_equal(tu_json_str(ej, "state", NULL), "succeeded");
    assert_int_equal(json_integer_value(json_object_get(ej, "seq")), 9);
    json_decref(ej);
    disco_jobs_free(jobs);
}

static void test_failure(void **state)
{
    tu_jobs_fixture *f = *state;
    disco_jobs *jobs = tu_jobs_start(f);
    disco_job_event evs[64];
    char id[DISCO_ID_LEN + 1];

    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 5, \"fail_at\": 2}", id);
    size_t n = tu_jobs_follow(jobs, id, evs, 64);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    json_t *r = tu_jobs_record(jobs, id);
    assert_string_equal(tu_json_str(r, "state", NULL), "failed");
    assert_string_equal(tu_json_str(r, "error", "code"), "INVAL");
    assert_string_equal(tu_json_str(r, "error", "message"), "fail at 2");
    assert_string_equal(tu_json_str(r, "error", "field"), "fail_at");
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
    tu_jobs_fixture *f = *state;
    done_log d = {.lock = PTHREAD_MUTEX_INITIALIZER, .min_queue_s = 1e9};
    disco_status st = {0};
    char gate[DISCO_ID_LEN + 1], queued[DISCO_ID_LEN + 1];
    json_t *r;

    f->jc.workers = 1;
    f->jc.on_done = on_done;
    f->jc.done_user = &d;
    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_gate, "{}", gate);
    tu_jobs_wait_running(jobs, gate);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 3}", queued);

    /* queued: cancelled at once */
    assert_int_equal(disco_jobs_cancel(jobs, queued, NULL, DISCO_ROLE_NONE, &r, &st), DISCO_OK);
    assert_string_equal(tu_json_str(r, "state", NULL), "cancelled");
    assert_string_equal(tu_json_str(r, "error", "code"), "CANCELLED");
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
    size_t n = tu_jobs_follow(jobs, gate, evs, 4096);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_CANCELLED);
    r = tu_jobs_record(jobs, gate);
    assert_string_equal(tu_json_str(r, "error", "message"), "gate cancelled");
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
    tu_jobs_fixture *f = *state;
    disco_jobs *jobs = tu_jobs_start(f);
    disco_job_event ev[8];
    char id[DISCO_ID_LEN + 1];
    size_t n;
    int finished;

    tu_jobs_submit(jobs, &tu_op_gate, "{}", id);
    tu_jobs_wait_running(jobs, id);
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
    atomic_store(&tu_gate_open, 1);
    disco_job_event all[4096];
    n = tu_jobs_follow(jobs, id, all, 4096);
    assert_int_equal(all[n - 1].state, DISCO_JOB_SUCCEEDED);
    disco_jobs_free(jobs);
}

static void test_ring_keeps_the_latest(void **state)
{
    tu_jobs_fixture *f = *state;
    disco_job_event ev[32]; /* room for all 24 events when the follower keeps up */
    char id[DISCO_ID_LEN + 1];
    size_t n;
    int finished;

    f->jc.max_events = 4;
    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 20}", id);
    n = tu_jobs_follow(jobs, id, ev, 32); /* reads across the gaps the small ring leaves */
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
        s->rc[i] = disco_jobs_submit(s->jobs, &tu_op_count, p, "alice", DISCO_ROLE_WRITER,
                                     s->ids[i], NULL);
    json_decref(p);
    return NULL;
}

static void test_concurrency(void **state)
{
    tu_jobs_fixture *f = *state;
    submitter s[2];
    pthread_t th[2];

    f->jc.workers = 3;
    disco_jobs *jobs = tu_jobs_start(f);
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
            size_t n = tu_jobs_follow(jobs, s[i].ids[k], evs, 64);
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
    assert_true(atomic_load(&tu_max_running) <= 3);
    assert_true(atomic_load(&tu_max_running) >= 2);
    json_t *list;
    assert_int_equal(disco_jobs_list(jobs, NULL, DISCO_ROLE_NONE, &list, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(list, "count")), 12);
    assert_null(json_object_get(json_array_get(json_object_get(list, "items"), 0), "result"));
    json_decref(list);
    disco_jobs_free(jobs);
}

static void test_queue_full(void **state)
{
    tu_jobs_fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], a[DISCO_ID_LEN + 1], b[DISCO_ID_LEN + 1], c[DISCO_ID_LEN + 1];
    disco_status st = {0};

    f->jc.workers = 1;
    f->jc.max_queued = 2;
    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_gate, "{}", gate);
    tu_jobs_wait_running(jobs, gate);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", a);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", b);
    assert_int_equal(
        disco_jobs_submit(jobs, &tu_op_count, NULL, "alice", DISCO_ROLE_WRITER, c, &st),
        DISCO_ERR_BUSY);
    assert_string_equal(st.field, "jobs");
    disco_jobs_stats s;
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.queued, 2);
    assert_int_equal(s.running, 1);
    assert_int_equal(s.rejected, 1);
    atomic_store(&tu_gate_open, 1);
    disco_job_event evs[4096];
    tu_jobs_follow(jobs, b, evs, 4096);
    disco_jobs_free(jobs);
}

static void test_visibility(void **state)
{
    tu_jobs_fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_status st = {0};
    json_t *r = NULL, *list;

    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", id); /* alice, writer */
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
    tu_jobs_fixture *f = *state;
    char ids[5][DISCO_ID_LEN + 1];
    disco_job_event evs[64];
    disco_status st = {0};
    json_t *r = NULL;

    f->jc.keep_max = 2;
    disco_jobs *jobs = tu_jobs_start(f);
    for (int i = 0; i < 5; i++) {
        tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", ids[i]);
        tu_jobs_follow(jobs, ids[i], evs, 64);
    }
    disco_jobs_stats s;
    r = tu_jobs_record(jobs, ids[4]); /* a look-up also forgets what is past keeping */
    json_decref(r);
    disco_jobs_get_stats(jobs, &s);
    assert_int_equal(s.kept, 2);
    assert_int_equal(disco_jobs_get(jobs, ids[0], NULL, DISCO_ROLE_NONE, &r, &st),
                     DISCO_ERR_NOTFOUND);
    r = tu_jobs_record(jobs, ids[3]);
    json_decref(r);
    disco_jobs_free(jobs);

    /* keep_ms 0: gone as soon as nobody waits on it */
    f->jc.keep_max = 200;
    f->jc.keep_ms = 0;
    jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", ids[0]);
    for (int i = 0; i < 2000 && (disco_jobs_get_stats(jobs, &s), s.succeeded == 0); i++)
        tu_sleep_ms(1); /* poll the counts: a waiter would keep the job */
    tu_sleep_ms(2);
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
    tu_jobs_fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_job_event evs[16];

    f->jc.setup = failing_setup;
    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", id);
    size_t n = tu_jobs_follow(jobs, id, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    json_t *r = tu_jobs_record(jobs, id);
    assert_string_equal(tu_json_str(r, "error", "code"), "IO");
    assert_string_equal(tu_json_str(r, "error", "message"), "stores unavailable");
    json_decref(r);
    disco_jobs_free(jobs);
}

/* An unlinked file holding `text`, at offset 0. */
static void test_shutdown(void **state)
{
    tu_jobs_fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], q1[DISCO_ID_LEN + 1], q2[DISCO_ID_LEN + 1];
    disco_status st = {0};
    disco_job_event ev[4];
    size_t n;
    int finished;

    f->jc.workers = 1;
    disco_jobs *jobs = tu_jobs_start(f);
    tu_jobs_submit(jobs, &tu_op_gate, "{}", gate);
    tu_jobs_wait_running(jobs, gate);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", q1);
    tu_jobs_submit(jobs, &tu_op_count, "{\"n\": 1}", q2);
    disco_jobs_shutdown(jobs); /* returns once the gate saw its cancel */
    const char *ids[] = {gate, q1, q2};
    for (int i = 0; i < 3; i++) {
        json_t *r = tu_jobs_record(jobs, ids[i]);
        assert_string_equal(tu_json_str(r, "state", NULL), "cancelled");
        json_decref(r);
        assert_int_equal(disco_jobs_wait(jobs, ids[i], NULL, DISCO_ROLE_NONE, 0, 1000, ev, 4, &n,
                                         &finished, NULL),
                         DISCO_OK);
    }
    assert_int_equal(disco_jobs_submit(jobs, &tu_op_count, NULL, NULL, DISCO_ROLE_NONE, q1, &st),
                     DISCO_ERR_CANCELLED);
    disco_jobs_shutdown(jobs); /* again: nothing to do */
    disco_jobs_free(jobs);
}

static void test_bad_arguments(void **state)
{
    tu_jobs_fixture *f = *state;
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
    assert_int_equal(disco_jobs_submit(jobs, &tu_op_count, list, NULL, DISCO_ROLE_NONE, id, &st),
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
        cmocka_unit_test_setup_teardown(test_success_and_events, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_failure, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_queued_and_running, tu_jobs_setup,
                                        tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_wait_timeout, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_ring_keeps_the_latest, tu_jobs_setup,
                                        tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_visibility, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_cleanup, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_setup_hook, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, tu_jobs_setup, tu_jobs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
