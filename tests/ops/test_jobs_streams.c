/*
 * test_jobs_streams.c - descriptors a job owns: an input stream the op
 * reads (closed when the job ends, is cancelled in the queue, fails to
 * submit, or is left at shutdown), the result hook, and an output stream
 * handed to the output hook only after the op succeeded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/jobs.h"
#include "support/jobs_fixture.h"
#include "support/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int input_file(const tu_jobs_fixture *f, const char *text)
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
    tu_jobs_fixture *f = *state;
    result_log l = {0};
    char id[DISCO_ID_LEN + 1], plain[DISCO_ID_LEN + 1];
    disco_job_event evs[16];
    disco_status st = {0};
    int fd = input_file(f, "hello stream");

    f->jc.on_result = on_result;
    f->jc.result_user = &l;
    disco_jobs *jobs = tu_jobs_start(f);
    assert_int_equal(
        disco_jobs_submit_input(jobs, &tu_op_read, NULL, "alice", DISCO_ROLE_WRITER, fd, id, &st),
        DISCO_OK);
    size_t n = tu_jobs_follow(jobs, id, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_SUCCEEDED);
    /* the hook ran before the job was seen final */
    assert_int_equal(atomic_load(&l.calls), 1);
    assert_int_equal(atomic_load(&l.bytes), 12);
    json_t *r = tu_jobs_record(jobs, id);
    assert_string_equal(tu_json_str(r, "result", "text"), "hello stream");
    json_decref(r);
    assert_true(closed(fd)); /* the job owned it */

    /* a job submitted without one has no stream */
    tu_jobs_submit(jobs, &tu_op_read, "{}", plain);
    n = tu_jobs_follow(jobs, plain, evs, 16);
    assert_int_equal(evs[n - 1].state, DISCO_JOB_FAILED);
    assert_int_equal(atomic_load(&l.calls), 1); /* failures are not results */
    disco_jobs_free(jobs);
}

static void test_input_closed_when_not_run(void **state)
{
    tu_jobs_fixture *f = *state;
    char gate[DISCO_ID_LEN + 1], queued[DISCO_ID_LEN + 1], left[DISCO_ID_LEN + 1];
    disco_status st = {0};
    int fd;

    f->jc.workers = 1;
    disco_jobs *jobs = tu_jobs_start(f);
    fd = input_file(f, "x");
    assert_int_equal(
        disco_jobs_submit_input(jobs, NULL, NULL, NULL, DISCO_ROLE_NONE, fd, queued, &st),
        DISCO_ERR_INVAL);
    assert_true(closed(fd)); /* a failed submission closes it */

    tu_jobs_submit(jobs, &tu_op_gate, "{}", gate);
    tu_jobs_wait_running(jobs, gate);
    fd = input_file(f, "queued");
    assert_int_equal(
        disco_jobs_submit_input(jobs, &tu_op_read, NULL, NULL, DISCO_ROLE_NONE, fd, queued, &st),
        DISCO_OK);
    assert_false(closed(fd));
    assert_int_equal(disco_jobs_cancel(jobs, queued, NULL, DISCO_ROLE_NONE, NULL, &st), DISCO_OK);
    assert_true(closed(fd)); /* cancelled in the queue */

    fd = input_file(f, "left at shutdown");
    assert_int_equal(
        disco_jobs_submit_input(jobs, &tu_op_read, NULL, NULL, DISCO_ROLE_NONE, fd, left, &st),
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

static const disco_param no_params[] = {{0}};
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
static json_t *run_write(disco_jobs *jobs, const tu_jobs_fixture *f, const char *params, int *fd)
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
    tu_jobs_follow(jobs, id, evs, 16);
    return tu_jobs_record(jobs, id);
}

static void test_output_stream(void **state)
{
    tu_jobs_fixture *f = *state;
    output_log l = {0};
    disco_status st = {0};
    char id[DISCO_ID_LEN + 1];
    int fd;

    f->jc.on_output = on_output;
    f->jc.output_user = &l;
    disco_jobs *jobs = tu_jobs_start(f);
    json_t *r = run_write(jobs, f, "{\"text\": \"a,b\\n1,2\\n\"}", &fd);
    assert_string_equal(tu_json_str(r, "state", NULL), "succeeded");
    assert_string_equal(tu_json_str(r, "result", "kept"), "a,b\n1,2\n");
    assert_true(closed(fd));
    json_decref(r);

    r = run_write(jobs, f, "{\"text\": \"partial\", \"fail\": true}", &fd);
    assert_string_equal(tu_json_str(r, "state", NULL), "failed");
    assert_int_equal(atomic_load(&l.calls), 1); /* not called for a failed op */
    assert_true(closed(fd));
    json_decref(r);

    l.refuse = 1;
    r = run_write(jobs, f, "{\"text\": \"x\"}", &fd);
    assert_string_equal(tu_json_str(r, "state", NULL), "failed");
    assert_string_equal(tu_json_str(r, "error", "code"), "NOSPC");
    assert_null(json_object_get(r, "result"));
    assert_true(closed(fd));
    json_decref(r);

    fd = input_file(f, "");
    assert_int_equal(
        disco_jobs_submit_streams(jobs, NULL, NULL, NULL, DISCO_ROLE_NONE, -1, fd, id, &st),
        DISCO_ERR_INVAL);
    assert_true(closed(fd)); /* a failed submission closes it */
    disco_jobs_free(jobs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_input_stream, tu_jobs_setup, tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_input_closed_when_not_run, tu_jobs_setup,
                                        tu_jobs_teardown),
        cmocka_unit_test_setup_teardown(test_output_stream, tu_jobs_setup, tu_jobs_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
