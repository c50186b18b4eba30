/*
 * test_ops.c - handlers called through the table with a real context.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/ops.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char *dir;
    disco_ctx *ctx;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    disco_config cfg = disco_config_default();

    f->dir = tu_tmpdir("ops");
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", f->dir);
    snprintf(cfg.user, sizeof cfg.user, "alice");
    assert_int_equal(disco_ctx_new(&cfg, &f->ctx, NULL), DISCO_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_ctx_free(f->ctx);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Calls op `name` with JSON text params; returns rc, result in *out. */
static void test_create_get_lineage(void **state)
{
    fixture *f = *state;
    disco_status st;
    json_t *a, *b, *g;
    char params[256];

    assert_int_equal(
        tu_op_call(f->ctx, "resource.create", "{\"type\":\"prompt\",\"tags\":\"k=v\"}", &a, &st),
        DISCO_OK);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(a, "access_control"), "owner")), "alice");
    snprintf(params, sizeof params, "{\"type\":\"audio\",\"parents\":\"%s\"}",
             json_string_value(json_object_get(a, "resource_id")));
    assert_int_equal(tu_op_call(f->ctx, "resource.create", params, &b, &st), DISCO_OK);
    snprintf(params, sizeof params, "{\"id\":\"%s\"}",
             json_string_value(json_object_get(b, "resource_id")));
    assert_int_equal(tu_op_call(f->ctx, "resource.lineage", params, &g, &st), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 2);
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 1);
    json_decref(a);
    json_decref(b);
    json_decref(g);
}

static void test_streams(void **state)
{
    fixture *f = *state;
    disco_status st;
    json_t *r, *g;
    int in[2], out[2];
    char buf[16] = {0}, params[160];

    assert_int_equal(tu_op_call(f->ctx, "object.put", "{\"file\":\"-\"}", &r, &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "standard input"));
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(write(in[1], "hello world", 11), 11);
    close(in[1]);
    disco_ctx_set_streams(f->ctx, in[0], out[1]);
    assert_int_equal(tu_op_call(f->ctx, "object.put", "{\"file\":\"-\"}", &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "size")), 11);
    assert_false(disco_ctx_wrote_output(f->ctx));
    snprintf(params, sizeof params, "{\"hash\":\"%s\",\"offset\":6,\"length\":5}",
             json_string_value(json_object_get(r, "hash")));
    assert_int_equal(tu_op_call(f->ctx, "object.get", params, &g, &st), DISCO_OK);
    assert_true(disco_ctx_wrote_output(f->ctx));
    assert_int_equal(read(out[0], buf, sizeof buf - 1), 5);
    assert_string_equal(buf, "world");
    close(in[0]);
    close(out[0]);
    close(out[1]);
    json_decref(r);
    json_decref(g);
}

static void test_errors_name_fields(void **state)
{
    fixture *f = *state;
    disco_status st;
    json_t *r;

    assert_int_equal(
        tu_op_call(f->ctx, "resource.get", "{\"id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\"}", &r, &st),
        DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "01ARZ3NDEKTSV4RRFFQ69G5FAV"));
    assert_int_equal(tu_op_call(f->ctx, "resource.create",
                                "{\"type\":\"audio\",\"file\":\"/no/such.wav\"}", &r, &st),
                     DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "/no/such.wav"));
    assert_int_equal(tu_op_call(f->ctx, "resource.update",
                                "{\"id\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"remove_file\":true,"
                                "\"file\":\"x\"}",
                                &r, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "remove_file");
}

static void test_version_and_describe(void **state)
{
    fixture *f = *state;
    disco_status st;
    json_t *r;

    assert_int_equal(tu_op_call(f->ctx, "version", "{}", &r, &st), DISCO_OK);
    assert_non_null(json_string_value(json_object_get(r, "version")));
    json_decref(r);
    assert_int_equal(tu_op_call(f->ctx, "ops.describe", "{}", &r, &st), DISCO_OK);
    assert_true(json_array_size(json_object_get(r, "ops")) >= 10);
    json_decref(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_lineage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_and_describe, setup, teardown),
    };
    return cmocka_run_group_tests_name("ops/ops", tests, NULL, NULL);
}
