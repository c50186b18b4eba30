/*
 * test_json.c - parsing with positions, depth limits, serialisation,
 * accessors, files, and RFC 7386 merge patch.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/json.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse_ok(const char *text)
{
    disco_status st = {0};
    json_t *v = NULL;

    if (disco_json_parse(text, strlen(text), "test", &v, &st) != DISCO_OK)
        fail_msg("'%s' did not parse: %s", text, st.msg);
    return v;
}

/* Parses `text`, expecting DISCO_ERR_INVAL; returns the message (in `st`). */
static const char *parse_err(const char *text, size_t len, disco_status *st)
{
    json_t *v = (json_t *)1;

    assert_int_equal(disco_json_parse(text, len, "param 'metadata'", &v, st), DISCO_ERR_INVAL);
    assert_null(v);
    assert_string_equal(st->field, "param 'metadata'");
    return st->msg;
}

/* Nested arrays: `depth` '[' then the same number of ']'. */
static char *nested(size_t depth)
{
    char *s = malloc(2 * depth + 1);

    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void test_parse_values(void **state)
{
    json_t *v;

    (void)state;
    v = parse_ok("{\"a\": [1, 2.5, \"x\", true, null], \"b\": {}}");
    assert_true(json_is_object(v));
    assert_int_equal(json_array_size(json_object_get(v, "a")), 5);
    json_decref(v);
    v = parse_ok("42");
    assert_true(json_is_integer(v) && json_integer_value(v) == 42);
    json_decref(v);
    v = parse_ok("\"caf\\u00e9 \xe2\x99\xab\"");
    assert_string_equal(json_string_value(v), "caf\xc3\xa9 \xe2\x99\xab");
    json_decref(v);
}

/* Only `len` bytes are read: the text need not be NUL-terminated. */
static void test_parse_uses_len(void **state)
{
    json_t *v = NULL;

    (void)state;
    assert_int_equal(disco_json_parse("[1][2]", 3, "t", &v, NULL), DISCO_OK);
    assert_int_equal(json_array_size(v), 1);
    json_decref(v);
}

static void test_parse_errors_have_positions(void **state)
{
    disco_status st = {0};
    const char *text = "{\n  \"a\": 1,\n  \"b\": }";

    (void)state;
    assert_string_equal(parse_err(text, strlen(text), &st),
                        "param 'metadata': invalid JSON at line 3, column 8: unexpected token "
                        "near '}'");
    assert_non_null(strstr(parse_err("[1,2", 4, &st), "line 1, column 4: ']' expected"));
    assert_non_null(strstr(parse_err("", 0, &st), "line 1, column 1"));
    assert_non_null(strstr(parse_err("{\"a\" 1}", 7, &st), "':' expected"));
    assert_non_null(strstr(parse_err("\xff", 1, &st), "unable to decode byte 0xff"));
    assert_non_null(strstr(parse_err("[1] x", 5, &st), "end of file expected"));
    assert_string_equal(parse_err("[1,\n 2\0]", 8, &st),
                        "param 'metadata': invalid JSON at line 2, column 3: NUL byte");
    assert_int_equal(disco_json_parse(NULL, 0, "t", &(json_t *){NULL}, &st), DISCO_ERR_INVAL);
}

static void test_parse_rejects_duplicates_and_overflow(void **state)
{
    disco_status st = {0};

    (void)state;
    assert_non_null(strstr(parse_err("{\"a\":1,\"a\":2}", 13, &st), "duplicate object key"));
    assert_non_null(strstr(parse_err("[99999999999999999999]", 22, &st), "too big integer"));
    assert_non_null(strstr(parse_err("[1e999]", 7, &st), "real number overflow"));
    assert_non_null(strstr(parse_err("\"\\u0000\"", 8, &st), "invalid JSON"));
}

static void test_depth(void **state)
{
    json_t *v;

    (void)state;
    v = parse_ok("1");
    assert_int_equal(disco_json_depth(v), 0);
    json_decref(v);
    v = parse_ok("[]");
    assert_int_equal(disco_json_depth(v), 1);
    json_decref(v);
    v = parse_ok("[[1]]");
    assert_int_equal(disco_json_depth(v), 2);
    json_decref(v);
    v = parse_ok("{\"a\": [1, {\"b\": [[]]}], \"c\": {}}");
    assert_int_equal(disco_json_depth(v), 5);
    json_decref(v);
    assert_int_equal(disco_json_depth(NULL), 0);
}

static void test_depth_limit(void **state)
{
    char *at_limit = nested(DISCO_JSON_MAX_DEPTH);
    char *over = nested(DISCO_JSON_MAX_DEPTH + 1);
    disco_status st = {0};
    json_t *v;

    (void)state;
    v = parse_ok(at_limit);
    assert_int_equal(disco_json_depth(v), DISCO_JSON_MAX_DEPTH);
    json_decref(v);
    assert_string_equal(parse_err(over, strlen(over), &st),
                        "param 'metadata': JSON nests deeper than 64 levels of objects and arrays");
    free(at_limit);
    free(over);
}

/* Far deeper than jansson's own limit: rejected cleanly, the stack survives. */
static void test_very_deep_input_is_rejected(void **state)
{
    size_t depth = 1000000;
    char *deep = nested(depth);
    char *open_only = malloc(depth);
    disco_status st = {0};

    (void)state;
    assert_non_null(strstr(parse_err(deep, 2 * depth, &st), "nests deeper than 64"));
    memset(open_only, '{', depth);
    memcpy(open_only, "{\"a\":", 5);
    parse_err(open_only, depth, &st);
    memset(open_only, '[', depth);
    assert_non_null(strstr(parse_err(open_only, depth, &st), "nests deeper than 64"));
    free(deep);
    free(open_only);
}

static void test_parse_object(void **state)
{
    disco_status st = {0};
    json_t *v = (json_t *)1;

    (void)state;
    assert_int_equal(disco_json_parse_object("{\"k\":\"v\"}", 9, "metadata", &v, &st), DISCO_OK);
    assert_string_equal(disco_json_str(v, "k", NULL), "v");
    json_decref(v);
    assert_int_equal(disco_json_parse_object("[1]", 3, "metadata", &v, &st), DISCO_ERR_INVAL);
    assert_null(v);
    assert_string_equal(st.msg, "metadata: expected a JSON object, got an array");
    assert_int_equal(disco_json_parse_object("null", 4, "metadata", &v, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "metadata: expected a JSON object, got null");
    assert_int_equal(disco_json_parse_object("{", 1, "metadata", &v, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "metadata: invalid JSON at line 1"));
}

static void test_dumps(void **state)
{
    json_t *v = parse_ok("{\"b\": 1, \"a\": [true, null, \"x\"], \"c\": {\"z\": 0.5, \"y\": {}}}");
    char *s;

    (void)state;
    s = disco_json_dumps(v);
    assert_string_equal(s, "{\"a\":[true,null,\"x\"],\"b\":1,\"c\":{\"y\":{},\"z\":0.5}}");
    free(s);
    s = disco_json_dumps_pretty(v);
    assert_string_equal(s, "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null,\n    \"x\"\n  ],\n"
                           "  \"c\": {\n    \"z\": 0.5,\n    \"y\": {}\n  }\n}");
    free(s);
    json_decref(v);
    v = json_string("scalar");
    s = disco_json_dumps(v);
    assert_string_equal(s, "\"scalar\"");
    free(s);
    json_decref(v);
    assert_null(disco_json_dumps(NULL));
    assert_null(disco_json_dumps_pretty(NULL));
}

static void test_dumps_round_trip_is_stable(void **state)
{
    json_t *v =
        parse_ok("{\"n\": -0.1, \"big\": 9223372036854775807, \"r\": 1.7976931348623157e308,"
                 " \"u\": \"\\ud834\\udd1e \\\"q\\\" \\n\", \"e\": [[], {}]}");
    json_t *back;
    char *a, *b;

    (void)state;
    a = disco_json_dumps(v);
    back = parse_ok(a);
    assert_true(json_equal(v, back));
    b = disco_json_dumps(back);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(back);
    json_decref(v);
}

static void test_accessors(void **state)
{
    json_t *v = parse_ok("{\"s\": \"str\", \"i\": 7, \"r\": 2.5, \"t\": true, \"f\": false,"
                         " \"n\": null}");

    (void)state;
    assert_string_equal(disco_json_str(v, "s", "d"), "str");
    assert_string_equal(disco_json_str(v, "i", "d"), "d");
    assert_string_equal(disco_json_str(v, "missing", "d"), "d");
    assert_null(disco_json_str(v, "n", NULL));
    assert_int_equal(disco_json_int(v, "i", -1), 7);
    assert_int_equal(disco_json_int(v, "r", -1), -1);
    assert_int_equal(disco_json_int(v, "s", -1), -1);
    assert_true(disco_json_num(v, "r", 0) == 2.5);
    assert_true(disco_json_num(v, "i", 0) == 7.0);
    assert_true(disco_json_num(v, "t", -3) == -3);
    assert_int_equal(disco_json_bool(v, "t", -1), 1);
    assert_int_equal(disco_json_bool(v, "f", -1), 0);
    assert_int_equal(disco_json_bool(v, "i", -1), -1);
    assert_int_equal(disco_json_int(NULL, "i", 5), 5);
    assert_string_equal(disco_json_str(json_object_get(v, "s"), "s", "d"), "d");
    json_decref(v);
}

static void test_is_string_map(void **state)
{
    json_t *tags = parse_ok("{\"genre\": \"disco\", \"mood\": \"happy\"}");
    json_t *mixed = parse_ok("{\"genre\": \"disco\", \"bpm\": 120}");
    json_t *empty = parse_ok("{}");
    json_t *arr = parse_ok("[\"a\"]");

    (void)state;
    assert_true(disco_json_is_string_map(tags));
    assert_false(disco_json_is_string_map(mixed));
    assert_true(disco_json_is_string_map(empty));
    assert_false(disco_json_is_string_map(arr));
    assert_false(disco_json_is_string_map(NULL));
    json_decref(tags);
    json_decref(mixed);
    json_decref(empty);
    json_decref(arr);
}

static void test_load_file(void **state)
{
    char *dir = tu_tmpdir("json");
    char *good = tu_path(dir, "good.json"), *bad = tu_path(dir, "bad.json");
    char *missing = tu_path(dir, "missing.json");
    disco_status st = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(tu_write_file(good, "{\"a\": [1, 2]}\n", 14), 0);
    assert_int_equal(tu_write_file(bad, "{\n\"a\": tru}", 11), 0);
    assert_int_equal(disco_json_load_file(good, 1024, &v, &st), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(v, "a")), 2);
    json_decref(v);
    assert_int_equal(disco_json_load_file(good, 14, &v, &st), DISCO_OK);
    json_decref(v);
    assert_int_equal(disco_json_load_file(good, 13, &v, &st), DISCO_ERR_LIMIT);
    assert_null(v);
    assert_non_null(strstr(st.msg, good));
    assert_non_null(strstr(st.msg, "limit of 13 bytes"));
    assert_int_equal(disco_json_load_file(bad, 1024, &v, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, bad));
    assert_non_null(strstr(st.msg, "line 2"));
    assert_int_equal(disco_json_load_file(missing, 1024, &v, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, missing));
    assert_int_equal(disco_json_load_file(dir, 1024, &v, &st), DISCO_ERR_INVAL);
    tu_rmrf(dir);
    free(good);
    free(bad);
    free(missing);
    free(dir);
}

/* A stream with no size up front (a pipe-like file) is still capped while reading. */
static void test_load_file_cap_without_size(void **state)
{
    disco_status st = {0};
    json_t *v = NULL;

    (void)state;
    assert_int_equal(disco_json_load_file("/dev/zero", 100000, &v, &st), DISCO_ERR_LIMIT);
    assert_null(v);
    assert_non_null(strstr(st.msg, "/dev/zero"));
    assert_int_equal(disco_json_load_file("/dev/null", 100, &v, &st), DISCO_ERR_INVAL);
}

/* Applies patch to a fresh copy of target and compares with the expected text. */
static void check_merge(const char *target, const char *patch, const char *expect)
{
    json_t *t = parse_ok(target), *p = parse_ok(patch), *e = parse_ok(expect), *out = NULL;

    assert_int_equal(disco_json_merge_patch(t, p, &out), DISCO_OK);
    if (!json_equal(out, e)) {
        char *got = disco_json_dumps(out);
        fail_msg("merge %s with %s gave %s, expected %s", target, patch, got, expect);
    }
    json_decref(out);
    json_decref(t);
    json_decref(p);
    json_decref(e);
}

/* RFC 7386, Appendix A. */
static void test_merge_patch_rfc_examples(void **state)
{
    (void)state;
    check_merge("{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_merge("{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    check_merge("{\"a\":\"b\"}", "{\"a\":null}", "{}");
    check_merge("{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    check_merge("{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    check_merge("{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    check_merge("{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
                "{\"a\":{\"b\":\"d\"}}");
    check_merge("{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    check_merge("[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    check_merge("{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    check_merge("{\"a\":\"foo\"}", "null", "null");
    check_merge("{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    check_merge("{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    check_merge("[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    check_merge("{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
}

/* RFC 7386, section 3. */
static void test_merge_patch_rfc_document(void **state)
{
    (void)state;
    check_merge("{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\","
                "\"familyName\":\"Doe\"},\"tags\":[\"example\",\"sample\"],"
                "\"content\":\"This will be unchanged\"}",
                "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\","
                "\"author\":{\"familyName\":null},\"tags\":[\"example\"]}",
                "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},"
                "\"tags\":[\"example\"],\"content\":\"This will be unchanged\","
                "\"phoneNumber\":\"+01-123-456-7890\"}");
}

/* An object target is changed in place; the patch is copied, never shared. */
static void test_merge_patch_ownership(void **state)
{
    json_t *t = parse_ok("{\"a\":{\"x\":1}}"), *p = parse_ok("{\"a\":{\"y\":[1]},\"b\":{\"z\":2}}");
    json_t *out = NULL;

    (void)state;
    assert_int_equal(disco_json_merge_patch(t, p, &out), DISCO_OK);
    assert_ptr_equal(out, t);
    json_decref(out);
    json_object_set_new(json_object_get(p, "b"), "z", json_integer(3));
    json_array_append_new(json_object_get(json_object_get(p, "a"), "y"), json_integer(2));
    assert_int_equal(disco_json_int(json_object_get(t, "b"), "z", 0), 2);
    assert_int_equal(json_array_size(json_object_get(json_object_get(t, "a"), "y")), 1);
    json_decref(t);
    json_decref(p);
}

static void test_merge_patch_non_object_target(void **state)
{
    json_t *t = parse_ok("[1,2]"), *p = parse_ok("{\"a\":1}"), *out = NULL;

    (void)state;
    assert_int_equal(disco_json_merge_patch(t, p, &out), DISCO_OK);
    assert_ptr_not_equal(out, t);
    assert_int_equal(json_array_size(t), 2);
    assert_int_equal(disco_json_int(out, "a", 0), 1);
    json_decref(out);
    assert_int_equal(disco_json_merge_patch(NULL, p, &out), DISCO_OK);
    assert_int_equal(disco_json_int(out, "a", 0), 1);
    json_decref(out);
    assert_int_equal(disco_json_merge_patch(t, NULL, &out), DISCO_ERR_INVAL);
    assert_null(out);
    json_decref(t);
    json_decref(p);
}

/* Patching a document with itself drops object members that are null, and nothing else. */
static void test_merge_patch_with_itself(void **state)
{
    json_t *v = parse_ok("{\"a\":null,\"b\":{\"c\":null,\"d\":[null]},\"e\":1}");
    json_t *expect = parse_ok("{\"b\":{\"d\":[null]},\"e\":1}"), *out = NULL;

    (void)state;
    assert_int_equal(disco_json_merge_patch(v, v, &out), DISCO_OK);
    assert_true(json_equal(out, expect));
    json_decref(out);
    json_decref(v);
    json_decref(expect);
}

/* Result numbers: rounded as asked, null where no number exists. */
static void test_number(void **state)
{
    (void)state;
    json_t *a = disco_json_number(1.23456, 2), *b = disco_json_number(-0.004, 2);
    json_t *c = disco_json_number(NAN, 2), *d = disco_json_number(-HUGE_VAL, -1);
    json_t *e = disco_json_number(1.23456, -1);
    assert_true(json_real_value(a) == 1.23);
    assert_true(json_real_value(b) == 0.0);
    assert_true(json_is_null(c) && json_is_null(d));
    assert_true(json_real_value(e) == 1.23456);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
    json_decref(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_uses_len),
        cmocka_unit_test(test_parse_errors_have_positions),
        cmocka_unit_test(test_parse_rejects_duplicates_and_overflow),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_very_deep_input_is_rejected),
        cmocka_unit_test(test_parse_object),
        cmocka_unit_test(test_dumps),
        cmocka_unit_test(test_dumps_round_trip_is_stable),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_is_string_map),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_file_cap_without_size),
        cmocka_unit_test(test_merge_patch_rfc_examples),
        cmocka_unit_test(test_merge_patch_rfc_document),
        cmocka_unit_test(test_merge_patch_ownership),
        cmocka_unit_test(test_merge_patch_non_object_target),
        cmocka_unit_test(test_merge_patch_with_itself),
        cmocka_unit_test(test_number),
    };
    return cmocka_run_group_tests_name("base/json", tests, NULL, NULL);
}
