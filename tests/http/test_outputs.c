/*
 * test_outputs.c - outputs.c without a server: which param of an op is its
 * output stream and its media type, the "output" member of a result, the
 * spool file made only for "-", and keeping what an op wrote as an object
 * whose upload is recorded for the principal. The HTTP side (jobs, GET of
 * the object, other principals) is in tests/integration/test_http_streams.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http_int.h"
#include "support/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_output_params(void **state)
{
    const disco_param *p;

    (void)state;
    p = disco__http_output_param(disco_ops_find("ts.export"));
    assert_non_null(p);
    assert_string_equal(p->name, "output");
    assert_string_equal(disco__http_output_media(p), "text/csv");
    p = disco__http_output_param(disco_ops_find("object.get"));
    assert_non_null(p);
    assert_string_equal(disco__http_output_media(p), "application/octet-stream");
    assert_null(disco__http_output_param(disco_ops_find("ts.write")));
    assert_null(disco__http_output_param(disco_ops_find("object.put")));
    assert_null(disco__http_output_param(NULL));
    assert_string_equal(disco__http_output_media(NULL), "application/octet-stream");
}

static void test_names_file(void **state)
{
    const disco_param *p = disco__http_output_param(disco_ops_find("ts.export"));
    json_t *dash = json_string("-"), *file = json_string("/etc/passwd");

    (void)state;
    assert_false(disco_ops_param_names_file(p, dash)); /* the stream, kept as an object */
    assert_true(disco_ops_param_names_file(p, file));
    json_decref(dash);
    json_decref(file);
}

static void test_output_json(void **state)
{
    disco_object_info info = {.size = 42};
    json_t *j;

    (void)state;
    memset(info.hash, 'a', DISCO_SHA256_HEX_LEN);
    info.hash[DISCO_SHA256_HEX_LEN] = '\0';
    j = disco__http_output_json(&info, "text/csv");
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "hash")), info.hash);
    assert_int_equal(json_integer_value(json_object_get(j, "size")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "media_type")), "text/csv");
    assert_int_equal(strncmp(json_string_value(json_object_get(j, "url")), "/api/objects/", 13), 0);
    assert_string_equal(json_string_value(json_object_get(j, "url")) + 13, info.hash);
    json_decref(j);
}

/* Entries of `dir` (missing: 0). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void test_open_and_keep(void **state)
{
    char *dir = tu_tmpdir("outputs"), *tmp = tu_path(dir, "tmp");
    disco_http srv = {.cfg = disco_config_default()};
    http_req rq = {.srv = &srv};
    http_reply r = {0};
    const disco_op *op = disco_ops_find("ts.export");
    json_t *to_file = json_pack("{s:s}", "output", "/x.csv"),
           *to_stream = json_pack("{s:s}", "output", "-");
    json_t *result = json_pack("{s:i, s:s}", "rows", 1, "output", "-");
    const char csv[] = "ts,value\n1700000000000,1.5\n";
    disco_status st = {0};
    disco_ctx *ctx;
    disco_catalog *cat;
    disco_upload up;
    int fd;

    (void)state;
    snprintf(srv.cfg.data_dir, sizeof srv.cfg.data_dir, "%s", dir);
    assert_int_equal(disco__http_output_open(&rq, op, to_file, &fd, &r), 0);
    assert_int_equal(fd, -1); /* a file of its own: no stream */
    assert_int_equal(disco__http_output_open(&rq, op, to_stream, &fd, &r), 0);
    assert_true(fd >= 0);
    assert_int_equal(count_entries(tmp), 0); /* unlinked: nothing left behind */
    assert_int_equal(write(fd, csv, sizeof csv - 1), (ssize_t)(sizeof csv - 1));

    assert_int_equal(disco_ctx_new(&srv.cfg, &ctx, &st), DISCO_OK);
    disco_ctx_set_principal(ctx, "wendy");
    disco_ctx_set_role(ctx, DISCO_ROLE_WRITER);
    assert_int_equal(disco__http_output_keep(NULL, ctx, op, fd, result, &st), DISCO_OK);
    close(fd);
    json_t *out = json_object_get(result, "output");
    assert_true(json_is_object(out));
    assert_int_equal(json_integer_value(json_object_get(out, "size")), sizeof csv - 1);
    assert_string_equal(json_string_value(json_object_get(out, "media_type")), "text/csv");
    const char *hash = json_string_value(json_object_get(out, "hash"));
    assert_int_equal(disco_ctx_catalog(ctx, &cat, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(cat, hash, "wendy", &up, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(cat, hash, "rita", &up, &st), DISCO_ERR_NOTFOUND);

    /* a result that is not an object is refused, nothing stored from it */
    json_t *bad = json_string("x");
    assert_int_equal(disco__http_output_keep(NULL, ctx, op, -1, bad, &st), DISCO_ERR_INTERNAL);
    json_decref(bad);
    disco_ctx_free(ctx);
    disco__http_reply_release(&r);
    json_decref(result);
    json_decref(to_file);
    json_decref(to_stream);
    tu_rmrf(dir);
    free(tmp);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_params),
        cmocka_unit_test(test_names_file),
        cmocka_unit_test(test_output_json),
        cmocka_unit_test(test_open_and_keep),
    };
    return cmocka_run_group_tests_name("http_outputs", tests, NULL, NULL);
}
