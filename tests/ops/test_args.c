/*
 * test_args.c - command-line words to raw parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/ops.h"

#include <string.h>

static json_t *parse(const char *op_name, int argc, const char **argv, int expect_rc,
                     disco_status *st)
{
    const disco_op *op = disco_ops_find(op_name);
    json_t *raw = NULL;

    assert_non_null(op);
    disco_status_clear(st);
    assert_int_equal(disco_ops_parse_args(op, argc, (char **)argv, &raw, st), expect_rc);
    return raw;
}

static void test_flags_and_positionals(void **state)
{
    const char *argv[] = {"--type", "audio", "-f",  "a.wav",    "--tags",
                          "a=1",    "-t",    "b=2", "--public", "--metadata={\"x\":1}"};
    disco_status st;
    json_t *raw = parse("resource.create", 10, argv, DISCO_OK, &st);
    (void)state;

    assert_string_equal(json_string_value(json_object_get(raw, "type")), "audio");
    assert_string_equal(json_string_value(json_object_get(raw, "file")), "a.wav");
    assert_int_equal(json_array_size(json_object_get(raw, "tags")), 2);
    assert_string_equal(json_string_value(json_object_get(raw, "public")), "true");
    assert_string_equal(json_string_value(json_object_get(raw, "metadata")), "{\"x\":1}");
    json_decref(raw);
}

static void test_positional_lists_and_dashdash(void **state)
{
    const char *argv[] = {"h1", "h2", "--", "-h3"};
    disco_status st;
    json_t *raw = parse("object.verify", 4, argv, DISCO_OK, &st);
    (void)state;

    assert_int_equal(json_array_size(json_object_get(raw, "hashes")), 3);
    assert_string_equal(json_string_value(json_array_get(json_object_get(raw, "hashes"), 2)),
                        "-h3");
    json_decref(raw);
}

static void test_negated_bool_and_stdin_word(void **state)
{
    const char *gc[] = {"--no-apply"};
    const char *put[] = {"-"};
    disco_status st;
    json_t *raw = parse("object.gc", 1, gc, DISCO_OK, &st);
    (void)state;

    assert_string_equal(json_string_value(json_object_get(raw, "apply")), "false");
    json_decref(raw);
    raw = parse("object.put", 1, put, DISCO_OK, &st);
    assert_string_equal(json_string_value(json_object_get(raw, "file")), "-");
    json_decref(raw);
}

static void test_usage_errors(void **state)
{
    const char *unknown[] = {"--colour", "red"};
    const char *novalue[] = {"--limit"};
    const char *twice[] = {"--type", "a", "--type", "b"};
    const char *extra[] = {"01ARZ3NDEKTSV4RRFFQ69G5FAV", "surplus"};
    const char *badneg[] = {"--no-limit"};
    disco_status st;
    (void)state;

    assert_null(parse("resource.list", 2, unknown, DISCO_ERR_USAGE, &st));
    assert_non_null(strstr(st.msg, "unknown option --colour"));
    assert_non_null(strstr(st.msg, "disco resource list --help"));
    assert_null(parse("resource.list", 1, novalue, DISCO_ERR_USAGE, &st));
    assert_non_null(strstr(st.msg, "needs a value"));
    assert_null(parse("resource.create", 4, twice, DISCO_ERR_USAGE, &st));
    assert_non_null(strstr(st.msg, "given twice"));
    assert_null(parse("resource.get", 2, extra, DISCO_ERR_USAGE, &st));
    assert_non_null(strstr(st.msg, "unexpected argument 'surplus'"));
    assert_null(parse("resource.list", 1, badneg, DISCO_ERR_USAGE, &st));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_positionals),
        cmocka_unit_test(test_positional_lists_and_dashdash),
        cmocka_unit_test(test_negated_bool_and_stdin_word),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests_name("ops/args", tests, NULL, NULL);
}
