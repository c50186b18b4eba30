/*
 * test_access_object.c - the OBJECTS rule of access.h through the object
 * ops: a principal reads an object through a resource it may read (any
 * version, deleted ones too) or its own upload; everything else reads as
 * a hash the store does not hold, message included; a put never reveals
 * that someone else stored the same bytes; verifying every object and gc
 * are for admins, and gc forgets the uploads of what it removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/access.h"
#include "disco/ops.h"
#include "support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNKNOWN_HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

typedef struct fixture {
    char *dir;
    char *one, *two; /* payload files */
    disco_config cfg;
    disco_ctx *ctx;
    char res[DISCO_ID_LEN + 1];        /* alice's, private, payload `one` */
    char h1[DISCO_SHA256_HEX_LEN + 1]; /* hash of `one` */
    char h2[DISCO_SHA256_HEX_LEN + 1]; /* hash of `two`, put by wendy */
} fixture;

/* Calls `op` with {"<key>": "<value>"<extra>}. */
static int call1(fixture *f, const char *op, const char *key, const char *value, const char *extra,
                 json_t **out, disco_status *st)
{
    char params[1024];

    snprintf(params, sizeof params, "{\"%s\":\"%s\"%s}", key, value, extra ? extra : "");
    return tu_op_call(f->ctx, op, params, out, st);
}

/* Puts `file` as the current principal; writes the hash and returns "created". */
static int put(fixture *f, const char *file, char *hash)
{
    disco_status st;
    json_t *r;
    int created;

    if (call1(f, "object.put", "file", file, NULL, &r, &st) != DISCO_OK)
        fail_msg("put %s: %s", file, st.msg);
    snprintf(hash, DISCO_SHA256_HEX_LEN + 1, "%s", json_string_value(json_object_get(r, "hash")));
    created = json_is_true(json_object_get(r, "created"));
    json_decref(r);
    return created;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    disco_status st;
    json_t *r;

    f->dir = tu_tmpdir("access-object");
    f->one = tu_path(f->dir, "one.bin");
    f->two = tu_path(f->dir, "two.bin");
    assert_int_equal(tu_write_file(f->one, "first payload\n", 14), 0);
    assert_int_equal(tu_write_file(f->two, "second payload\n", 15), 0);
    f->cfg = disco_config_default();
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s/data", f->dir);
    snprintf(f->cfg.user, sizeof f->cfg.user, "alice");
    assert_int_equal(disco_ctx_new(&f->cfg, &f->ctx, NULL), DISCO_OK);
    if (call1(f, "resource.create", "file", f->one, ",\"type\":\"audio\"", &r, &st) != DISCO_OK)
        fail_msg("create: %s", st.msg);
    snprintf(f->res, sizeof f->res, "%s", json_string_value(json_object_get(r, "resource_id")));
    snprintf(f->h1, sizeof f->h1, "%s", json_string_value(json_object_get(r, "object")));
    json_decref(r);
    tu_as(f->ctx, "wendy", DISCO_ROLE_WRITER);
    assert_true(put(f, f->two, f->h2));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_ctx_free(f->ctx);
    tu_rmrf(f->dir);
    free(f->one);
    free(f->two);
    free(f->dir);
    free(f);
    return 0;
}

static int stat_as(fixture *f, const char *who, disco_role role, const char *hash, disco_status *st)
{
    tu_as(f->ctx, who, role);
    return call1(f, "object.stat", "hash", hash, NULL, NULL, st);
}

/* `msg` is what `op` says of a hash the store does not hold, with `hash` in its place. */
static void assert_same_as_unknown(fixture *f, const char *op, const char *extra, const char *hash,
                                   const char *msg)
{
    disco_status st;
    char want[DISCO_STATUS_MSG_MAX], *at;

    assert_int_equal(call1(f, op, "hash", UNKNOWN_HASH, extra, NULL, &st), DISCO_ERR_NOTFOUND);
    at = strstr(st.msg, UNKNOWN_HASH);
    assert_non_null(at);
    snprintf(want, sizeof want, "%.*s%s%s", (int)(at - st.msg), st.msg, hash,
             at + strlen(UNKNOWN_HASH));
    assert_string_equal(msg, want);
}

static void test_hidden_reads_as_missing(void **state)
{
    fixture *f = *state;
    char extra[512];
    disco_status st;

    assert_int_equal(stat_as(f, "rita", DISCO_ROLE_READER, f->h1, &st), DISCO_ERR_NOTFOUND);
    assert_string_equal(st.field, "hash");
    assert_same_as_unknown(f, "object.stat", NULL, f->h1, st.msg);

    snprintf(extra, sizeof extra, ",\"output\":\"%s/out.bin\"", f->dir);
    assert_int_equal(call1(f, "object.get", "hash", f->h1, extra, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_same_as_unknown(f, "object.get", extra, f->h1, st.msg);
    /* The output file was never written. */
    char *out = tu_path(f->dir, "out.bin");
    assert_null(tu_read_file(out, NULL));
    free(out);
}

static void test_through_resources(void **state)
{
    fixture *f = *state;
    disco_status st;
    char extra[512];

    /* The owner, though only a reader now; any role can read a public one. */
    assert_int_equal(stat_as(f, "alice", DISCO_ROLE_READER, f->h1, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "rita", DISCO_ROLE_READER, f->h1, &st), DISCO_ERR_NOTFOUND);
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(
        call1(f, "resource.update", "id", f->res, ",\"readers\":[\"rita\"]", NULL, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "rita", DISCO_ROLE_READER, f->h1, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "bob", DISCO_ROLE_READER, f->h1, &st), DISCO_ERR_NOTFOUND);
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(call1(f, "resource.update", "id", f->res, ",\"public\":true", NULL, &st),
                     DISCO_OK);
    assert_int_equal(stat_as(f, "bob", DISCO_ROLE_READER, f->h1, &st), DISCO_OK);
    snprintf(extra, sizeof extra, ",\"output\":\"%s/copy.bin\"", f->dir);
    assert_int_equal(call1(f, "object.get", "hash", f->h1, extra, NULL, &st), DISCO_OK);

    /* A later version without the payload, then deletion: the history still names it. */
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(call1(f, "resource.update", "id", f->res,
                           ",\"public\":false,\"remove_file\":true", NULL, &st),
                     DISCO_OK);
    assert_int_equal(call1(f, "resource.delete", "id", f->res, NULL, NULL, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "alice", DISCO_ROLE_READER, f->h1, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "rita", DISCO_ROLE_READER, f->h1, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "bob", DISCO_ROLE_READER, f->h1, &st), DISCO_ERR_NOTFOUND);
}

static void test_uploader_and_roles(void **state)
{
    fixture *f = *state;
    disco_status st;

    assert_int_equal(stat_as(f, "wendy", DISCO_ROLE_WRITER, f->h2, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "wendy", DISCO_ROLE_READER, f->h2, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "walt", DISCO_ROLE_WRITER, f->h2, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(stat_as(f, "ada", DISCO_ROLE_ADMIN, f->h2, &st), DISCO_OK);
    assert_int_equal(stat_as(f, "", DISCO_ROLE_NONE, f->h2, &st), DISCO_OK);
    /* A hash nobody stored is missing for everyone, admins included. */
    assert_int_equal(stat_as(f, "ada", DISCO_ROLE_ADMIN, UNKNOWN_HASH, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(stat_as(f, "wendy", DISCO_ROLE_WRITER, UNKNOWN_HASH, &st), DISCO_ERR_NOTFOUND);
}

static void test_put_does_not_reveal(void **state)
{
    fixture *f = *state;
    disco_catalog *cat;
    disco_upload up;
    disco_status st;
    char h[DISCO_SHA256_HEX_LEN + 1];

    /* walt stores alice's private bytes: new to him, and now his to read. */
    tu_as(f->ctx, "walt", DISCO_ROLE_WRITER);
    assert_true(put(f, f->one, h));
    assert_string_equal(h, f->h1);
    assert_int_equal(stat_as(f, "walt", DISCO_ROLE_WRITER, f->h1, &st), DISCO_OK);
    /* Once he may read it, a second put says what is true. */
    assert_false(put(f, f->one, h));
    tu_as(f->ctx, "ada", DISCO_ROLE_ADMIN);
    assert_false(put(f, f->one, h));
    /* Local use records nothing. */
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_false(put(f, f->two, h));
    assert_int_equal(disco_ctx_catalog(f->ctx, &cat, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(cat, f->h2, "alice", &up, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_upload_get(cat, f->h1, "walt", &up, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(cat, f->h1, "ada", &up, &st), DISCO_OK);
}

static void test_verify(void **state)
{
    fixture *f = *state;
    char params[256], hidden[DISCO_STATUS_MSG_MAX];
    disco_status st;
    json_t *r = NULL;

    tu_as(f->ctx, "rita", DISCO_ROLE_READER);
    snprintf(params, sizeof params, "{\"hashes\":[\"%s\"]}", f->h1);
    assert_int_equal(tu_op_call(f->ctx, "object.verify", params, NULL, &st), DISCO_ERR_CORRUPT);
    snprintf(hidden, sizeof hidden, "%s", st.msg);
    assert_int_equal(
        tu_op_call(f->ctx, "object.verify", "{\"hashes\":[\"" UNKNOWN_HASH "\"]}", NULL, &st),
        DISCO_ERR_CORRUPT);
    assert_int_equal(strlen(hidden), strlen(st.msg));
    assert_non_null(strstr(hidden, "not found in store"));

    assert_int_equal(tu_op_call(f->ctx, "object.verify", "{}", NULL, &st), DISCO_ERR_PERM);
    assert_string_equal(st.field, "hashes");
    assert_non_null(strstr(st.msg, "admin"));

    tu_as(f->ctx, "wendy", DISCO_ROLE_WRITER);
    snprintf(params, sizeof params, "{\"hashes\":[\"%s\"]}", f->h2);
    assert_int_equal(tu_op_call(f->ctx, "object.verify", params, &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "ok")), 1);
    json_decref(r);
    tu_as(f->ctx, "ada", DISCO_ROLE_ADMIN);
    assert_int_equal(tu_op_call(f->ctx, "object.verify", "{}", &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "checked")), 2);
    json_decref(r);
}

static void test_gc_admin_only_and_forgets_uploads(void **state)
{
    fixture *f = *state;
    struct timespec pause = {0, 20 * 1000000L};
    disco_catalog *cat;
    disco_upload up;
    disco_status st;
    json_t *r = NULL;

    assert_int_equal(disco_access_op_role(disco_ops_find("object.gc")), DISCO_ROLE_ADMIN);
    assert_int_equal(disco_access_op_check(disco_ops_find("object.gc"), DISCO_ROLE_WRITER, &st),
                     DISCO_ERR_PERM);
    assert_int_equal(disco_access_op_role(disco_ops_find("object.verify")), DISCO_ROLE_READER);

    nanosleep(&pause, NULL);
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(tu_op_call(f->ctx, "object.gc", "{\"grace\":0}", &r, &st), DISCO_OK);
    assert_null(json_object_get(r, "uploads_forgotten")); /* a dry run forgets nothing */
    json_decref(r);
    assert_int_equal(tu_op_call(f->ctx, "object.gc", "{\"grace\":0,\"apply\":true}", &r, &st),
                     DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "removed")), 1); /* two: unreferenced */
    assert_int_equal(json_integer_value(json_object_get(r, "uploads_forgotten")), 1);
    json_decref(r);
    assert_int_equal(disco_ctx_catalog(f->ctx, &cat, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(cat, f->h2, "wendy", &up, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(stat_as(f, "wendy", DISCO_ROLE_WRITER, f->h2, &st), DISCO_ERR_NOTFOUND);
}

static void test_hidden_helper_matches_store(void **state)
{
    fixture *f = *state;
    disco_objects *objs;
    disco_status store = {0}, hidden = {0};
    disco_object_info info;

    assert_int_equal(disco_ctx_objects(f->ctx, &objs, &store), DISCO_OK);
    assert_int_equal(disco_objects_stat(objs, UNKNOWN_HASH, &info, &store), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_access_object_hidden(objs, UNKNOWN_HASH, &hidden), DISCO_ERR_NOTFOUND);
    assert_string_equal(hidden.msg, store.msg);
    assert_string_equal(hidden.field, store.field);
    assert_int_equal(
        disco_access_object_check(NULL, objs, "nothex", "x", DISCO_ROLE_ADMIN, &hidden),
        DISCO_ERR_INVAL);
    assert_string_equal(hidden.field, "hash");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_hidden_reads_as_missing),
        T(test_through_resources),
        T(test_uploader_and_roles),
        T(test_put_does_not_reveal),
        T(test_verify),
        T(test_gc_admin_only_and_forgets_uploads),
        T(test_hidden_helper_matches_store),
    };
#undef T
    return cmocka_run_group_tests_name("ops/access_object", tests, NULL, NULL);
}
