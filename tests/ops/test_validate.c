/*
 * test_validate.c - parameter checking and conversion against op schemas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/ops.h"

#include <stdio.h>
#include <string.h>

static const char *const colours[] = {"red", "green", NULL};

static const disco_param params[] = {
    {.name = "top_k",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 10000,
     .def = "10"},
    {.name = "ratio", .type = DISCO_P_NUMBER, .flags = DISCO_PARAM_RANGE, .min = 0, .max = 1},
    {.name = "on", .type = DISCO_P_BOOL},
    {.name = "colour", .type = DISCO_P_STRING, .choices = colours},
    {.name = "words", .type = DISCO_P_STRINGS},
    {.name = "ids", .type = DISCO_P_IDS},
    {.name = "tags", .type = DISCO_P_TAGS},
    {.name = "meta", .type = DISCO_P_OBJECT},
    {.name = "id", .type = DISCO_P_ID},
    {.name = "hash", .type = DISCO_P_HASH},
    {.name = "when", .type = DISCO_P_TIME},
    {.name = "need", .type = DISCO_P_PATH, .flags = DISCO_PARAM_REQUIRED},
    {0},
};

static int dummy(disco_ctx *ctx, const json_t *p, json_t **r, disco_status *st)
{
    (void)ctx;
    (void)st;
    *r = json_deep_copy(p);
    return 0;
}

static const disco_op op = {.name = "test.op", .summary = "t", .params = params, .fn = dummy};

/* Validates JSON text; returns the rc and leaves the output in *out. */
static int check(const char *text, json_t **out, disco_status *st)
{
    json_t *raw = json_loads(text, 0, NULL);
    int rc;

    assert_non_null(raw);
    *out = NULL;
    disco_status_clear(st);
    rc = disco_ops_validate(&op, raw, out, st);
    json_decref(raw);
    return rc;
}

static void expect_error(const char *text, const char *field, const char *needle)
{
    disco_status st;
    json_t *out;

    assert_int_equal(check(text, &out, &st), DISCO_ERR_INVAL);
    assert_null(out);
    assert_string_equal(st.field, field);
    if (!strstr(st.msg, needle))
        fail_msg("message '%s' lacks '%s'", st.msg, needle);
}

static void test_int_messages(void **state)
{
    (void)state;
    expect_error("{\"need\":\"x\",\"top_k\":\"ten\"}", "top_k",
                 "param 'top_k': must be an integer in 1..10000, got \"ten\"");
    expect_error("{\"need\":\"x\",\"top_k\":0}", "top_k", "got 0");
    expect_error("{\"need\":\"x\",\"top_k\":2.5}", "top_k", "got 2.5");
    expect_error("{\"need\":\"x\",\"top_k\":2e114}", "top_k", "must be an integer");
    expect_error("{\"need\":\"x\",\"top_k\":\" 5\"}", "top_k", "integer");
    expect_error("{\"need\":\"x\",\"ratio\":\"1.5\"}", "ratio", "must be a number in 0..1");
}

static void test_conversions(void **state)
{
    disco_status st;
    json_t *out;
    (void)state;

    assert_int_equal(check("{\"need\":\"p\",\"top_k\":\"42\",\"ratio\":\"0.5\",\"on\":\"yes\","
                           "\"colour\":\"red\",\"words\":\"a, b,,c\","
                           "\"ids\":[\"01arz3ndektsv4rrffq69g5fav\"],"
                           "\"tags\":[\"k=v\",\"x=1=2\"],\"meta\":\"{\\\"a\\\":1}\","
                           "\"hash\":\""
                           "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789"
                           "\",\"when\":\"1970-01-01T00:00:01Z\"}",
                           &out, &st),
                     DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "top_k")), 42);
    assert_true(json_real_value(json_object_get(out, "ratio")) == 0.5);
    assert_true(json_is_true(json_object_get(out, "on")));
    assert_int_equal(json_array_size(json_object_get(out, "words")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "ids"), 0)),
                        "01ARZ3NDEKTSV4RRFFQ69G5FAV");
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "tags"), "x")),
                        "1=2");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "meta"), "a")), 1);
    assert_string_equal(json_string_value(json_object_get(out, "hash")),
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(json_integer_value(json_object_get(out, "when")), 1000);
    json_decref(out);
}

static void test_defaults_and_required(void **state)
{
    disco_status st;
    json_t *out;
    (void)state;

    expect_error("{}", "need", "param 'need': required");
    assert_int_equal(check("{\"need\":\"p\"}", &out, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "top_k")), 10);
    assert_null(json_object_get(out, "ratio"));
    json_decref(out);
    assert_int_equal(check("{\"need\":\"p\",\"ratio\":null}", &out, &st), DISCO_OK);
    assert_null(json_object_get(out, "ratio"));
    json_decref(out);
}

static void test_other_errors(void **state)
{
    (void)state;
    expect_error("{\"need\":\"x\",\"bogus\":1}", "bogus", "unknown parameter of test.op");
    expect_error("{\"need\":\"x\",\"colour\":\"blue\"}", "colour", "one of red, green");
    expect_error("{\"need\":\"x\",\"on\":\"perhaps\"}", "on", "true or false");
    expect_error("{\"need\":\"x\",\"tags\":\"genre\"}", "tags",
                 "expected key=value, got \"genre\"");
    expect_error("{\"need\":\"x\",\"tags\":\"a b=c\"}", "tags", "param 'tags'");
    expect_error("{\"need\":\"x\",\"meta\":\"{\\\"a\\\":\"}", "meta", "line 1");
    expect_error("{\"need\":\"x\",\"meta\":\"[1]\"}", "meta", "object");
    expect_error("{\"need\":\"x\",\"id\":\"xyz\"}", "id", "param 'id'");
    expect_error("{\"need\":\"x\",\"hash\":\"abc\"}", "hash", "param 'hash'");
    expect_error("{\"need\":\"x\",\"when\":\"yesterday\"}", "when", "param 'when'");
    expect_error("{\"need\":\"\"}", "need", "must not be empty");
    expect_error("{\"need\":\"x\",\"words\":[1]}", "words", "list of strings");
}

static void test_object_from_missing_file(void **state)
{
    disco_status st;
    json_t *out;
    (void)state;

    assert_int_equal(check("{\"need\":\"x\",\"meta\":\"@/nonexistent/m.json\"}", &out, &st),
                     DISCO_ERR_NOTFOUND);
    assert_string_equal(st.field, "meta");
    assert_non_null(strstr(st.msg, "/nonexistent/m.json"));
}

static void test_kebab_names_and_idempotence(void **state)
{
    disco_status st;
    json_t *out, *again;
    (void)state;

    assert_int_equal(check("{\"need\":\"p\",\"top-k\":7}", &out, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "top_k")), 7);
    assert_int_equal(disco_ops_validate(&op, out, &again, &st), DISCO_OK);
    assert_true(json_equal(out, again));
    json_decref(out);
    json_decref(again);
}

/* A value that satisfies a required parameter of any type. */
static const char *sample_value(const disco_param *p)
{
    static char num[32];

    if (p->choices)
        return p->choices[0];
    if (p->type == DISCO_P_INT || p->type == DISCO_P_NUMBER) {
        snprintf(num, sizeof num, "%.0f", (p->flags & DISCO_PARAM_RANGE) ? p->min : 1.0);
        return num;
    }
    if (p->type == DISCO_P_ID || p->type == DISCO_P_IDS)
        return "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    if (p->type == DISCO_P_HASH || p->type == DISCO_P_HASHES)
        return "0000000000000000000000000000000000000000000000000000000000000000";
    if (p->type == DISCO_P_JSON || p->type == DISCO_P_OBJECT)
        return "{}";
    return "x";
}

static void test_table(void **state)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    (void)state;

    assert_true(n >= 10);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(all[i - 1]->name, all[i]->name) < 0);
    assert_non_null(disco_ops_find("resource.create"));
    assert_null(disco_ops_find("resource.nope"));
    /* Every default must validate against its own parameter. */
    for (size_t i = 0; i < n; i++) {
        json_t *raw = json_object(), *out = NULL;
        disco_status st;
        for (const disco_param *p = all[i]->params; p->name; p++)
            if (p->flags & DISCO_PARAM_REQUIRED)
                json_object_set_new(raw, p->name, json_string(sample_value(p)));
        if (disco_ops_validate(all[i], raw, &out, &st) != DISCO_OK)
            fail_msg("%s: %s", all[i]->name, st.msg);
        json_decref(out);
        json_decref(raw);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_int_messages),
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_defaults_and_required),
        cmocka_unit_test(test_other_errors),
        cmocka_unit_test(test_object_from_missing_file),
        cmocka_unit_test(test_kebab_names_and_idempotence),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests_name("ops/validate", tests, NULL, NULL);
}
