/*
 * test_streams.c - the pure parts of streams.c: which Content-Types carry
 * an op's JSON parameters and which are its input, which parameter of an op
 * is its input stream, and the "format" a media type names. The server
 * side (spooling, jobs owning the body, 413/415) is driven end to end by
 * tests/integration/test_http_streams.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http_int.h"

#include <string.h>

static void test_params_types(void **state)
{
    (void)state;
    assert_true(disco__http_type_is_params(NULL));
    assert_true(disco__http_type_is_params(""));
    assert_true(disco__http_type_is_params("application/json"));
    assert_true(disco__http_type_is_params("Application/JSON; charset=utf-8"));
    assert_true(disco__http_type_is_params(" application/json ;charset=utf-8"));
    assert_true(disco__http_type_is_params("application/merge-patch+json"));
    assert_true(disco__http_type_is_params("application/x-www-form-urlencoded"));
    assert_false(disco__http_type_is_params("text/csv"));
    assert_false(disco__http_type_is_params("text/plain; charset=utf-8"));
    assert_false(disco__http_type_is_params("application/octet-stream"));
    assert_false(disco__http_type_is_params("application/x-ndjson"));
    assert_false(disco__http_type_is_params("audio/wav"));
    assert_false(disco__http_type_is_params("application/jsonx"));
    assert_false(disco__http_type_is_params("+json"));
}

static void expect_stream(const char *op, const char *param)
{
    const disco_param *p = disco__http_stream_param(disco_ops_find(op));

    if (!param) {
        if (p)
            fail_msg("%s: unexpected stream param %s", op, p->name);
        return;
    }
    if (!p)
        fail_msg("%s: no stream param", op);
    assert_string_equal(p->name, param);
    assert_int_equal(p->type, DISCO_P_PATH);
}

static void test_stream_params(void **state)
{
    (void)state;
    expect_stream("ts.write", "file");
    expect_stream("vec.upsert", "file");
    expect_stream("vec.batch-search", "file");
    expect_stream("resource.create", "file");
    expect_stream("resource.update", "file");
    expect_stream("object.put", "file");
    expect_stream("ts.query", NULL);
    expect_stream("ts.export", NULL); /* "-" is its output, not an input */
    expect_stream("version", NULL);
    expect_stream(NULL, NULL);
}

static void expect_format(const char *op, const char *type, const char *want)
{
    const char *got = disco__http_stream_format(disco_ops_find(op), type);

    if (!want) {
        if (got)
            fail_msg("%s with %s: unexpected format %s", op, type, got);
        return;
    }
    if (!got)
        fail_msg("%s with %s: no format", op, type);
    assert_string_equal(got, want);
}

static void test_formats(void **state)
{
    (void)state;
    expect_format("ts.write", "text/csv", "csv");
    expect_format("ts.write", "Text/CSV; header=present", "csv");
    expect_format("ts.write", "text/plain; charset=utf-8", "line");
    expect_format("ts.write", "application/octet-stream", NULL); /* the op decides */
    expect_format("vec.upsert", "application/x-npy", "npy");
    expect_format("vec.upsert", "text/plain", NULL); /* no "line" among its formats */
    expect_format("vec.upsert", "text/csv", NULL);
    expect_format("resource.create", "text/csv", NULL); /* no format param */
    expect_format("ts.write", NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_types),
        cmocka_unit_test(test_stream_params),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests_name("http_streams", tests, NULL, NULL);
}
