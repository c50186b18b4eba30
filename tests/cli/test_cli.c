/*
 * test_cli.c - the command's help, suggestions, rendering and progress bar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/cli_int.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs `fn` with a temporary FILE and returns what it wrote (malloc'd). */
static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void top_help(FILE *f, const void *arg)
{
    (void)arg;
    cli_help_top(f);
}

static void op_help(FILE *f, const void *arg)
{
    cli_help_op(f, arg);
}

static void test_help(void **state)
{
    char *top = capture(top_help, NULL);
    char *op = capture(op_help, disco_ops_find("object.get"));
    (void)state;

    assert_non_null(strstr(top, "resource create"));
    assert_non_null(strstr(top, "object gc"));
    assert_non_null(strstr(op, "Usage: disco object get hash [options]"));
    assert_non_null(strstr(op, "-o, --output <path>"));
    assert_non_null(strstr(op, "(default \"-\")"));
    assert_non_null(strstr(op, "POST /api/object/get"));
    assert_true(cli_is_group("resource"));
    assert_false(cli_is_group("resourc"));
    free(top);
    free(op);
}

static void test_suggest(void **state)
{
    (void)state;
    assert_string_equal(cli_suggest(NULL, "resorce"), "resource");
    assert_string_equal(cli_suggest(NULL, "objct"), "object");
    assert_string_equal(cli_suggest("resource", "lst"), "list");
    assert_null(cli_suggest(NULL, "zzzzzzzz"));
}

typedef struct render_arg {
    const char *op;
    const char *json;
} render_arg;

static void render(FILE *f, const void *arg)
{
    const render_arg *r = arg;
    json_t *v = json_loads(r->json, 0, NULL);

    assert_non_null(v);
    cli_render(f, disco_ops_find(r->op), v);
    json_decref(v);
}

static void test_render_table_and_tree(void **state)
{
    render_arg list = {"resource.list",
                       "{\"items\":[{\"resource_id\":\"A\",\"resource_type\":\"audio\","
                       "\"version\":2,\"modification_timestamp\":\"t\",\"object\":"
                       "\"0123456789abcdef\",\"tags\":{\"k\":\"v\",\"x\":\"y\"}}],"
                       "\"count\":1,\"next\":\"A\"}"};
    render_arg tree = {"resource.lineage",
                       "{\"root\":\"B\",\"nodes\":[{\"resource_id\":\"A\",\"resource_type\":"
                       "\"prompt\",\"version\":1},{\"resource_id\":\"B\",\"resource_type\":"
                       "\"audio\",\"version\":3},{\"resource_id\":\"C\",\"resource_type\":"
                       "\"mix\",\"version\":1,\"deleted\":true}],"
                       "\"edges\":[{\"child\":\"B\",\"parent\":\"A\"},"
                       "{\"child\":\"C\",\"parent\":\"B\"}]}"};
    render_arg plain = {"object.stat", "{\"hash\":\""
                                       "0123456789abcdef0123456789abcdef"
                                       "0123456789abcdef0123456789abcdef\",\"size\":3}"};
    char *out;
    (void)state;

    out = capture(render, &list);
    assert_non_null(strstr(out, "resource_id"));
    assert_non_null(strstr(out, "0123456789ab "));
    assert_null(strstr(out, "0123456789abc"));
    assert_non_null(strstr(out, "k=v,x=y"));
    assert_non_null(strstr(out, "next page: --after A"));
    free(out);
    out = capture(render, &tree);
    assert_non_null(strstr(out, "B  audio v3"));
    assert_non_null(strstr(out, "<- A  prompt v1"));
    assert_non_null(strstr(out, "-> C  mix v1 (deleted)"));
    free(out);
    out = capture(render, &plain);
    /* Full hashes outside tables, so people can copy them. */
    assert_non_null(strstr(out, "hash: 0123456789abcdef0123456789abcdef0123456789abcdef"
                                "0123456789abcdef\n"));
    free(out);
}

static void test_progress_bar(void **state)
{
    int fds[2];
    char buf[512] = {0};
    cli_bar bar = {0};
    (void)state;

    assert_int_equal(pipe(fds), 0);
    bar.fd = fds[1];
    cli_bar_report(&bar, "put", 0, 2048);
    cli_bar_report(&bar, "put", 1024, 2048); /* throttled: too soon */
    cli_bar_report(&bar, "put", 2048, 2048); /* completion always drawn */
    cli_bar_finish(&bar);
    close(fds[1]);
    assert_true(read(fds[0], buf, sizeof buf - 1) > 0);
    close(fds[0]);
    assert_non_null(strstr(buf, "  0%"));
    assert_null(strstr(buf, " 50%"));
    assert_non_null(strstr(buf, "100% 2.0k/2.0k"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_render_table_and_tree),
        cmocka_unit_test(test_progress_bar),
    };
    return cmocka_run_group_tests_name("cli/cli", tests, NULL, NULL);
}
