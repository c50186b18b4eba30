/*
 * test_access.c - access decisions: the role x relation x public/private
 * matrix of the pure functions, the role each op needs, the ACL enforced
 * by the resource ops for a context with a role (404 rather than 403 for
 * what a principal may not read), token ops for admins only, and the
 * authentication hook.
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

#define UNKNOWN_ID "01ARZ3NDEKTSV4RRFFQ69G5FAV"

/* ---- the pure matrix -------------------------------------------------------- */

enum relation { OWNER, READER_LISTED, WRITER_LISTED, STRANGER, NRELATIONS };

static json_t *acl_for(enum relation rel, int is_public)
{
    return json_pack("{s:s, s:[s], s:[s], s:b}", "owner", rel == OWNER ? "me" : "someone",
                     "readers", rel == READER_LISTED ? "me" : "r1", "writers",
                     rel == WRITER_LISTED ? "me" : "w1", "public", is_public);
}

/* The rules of access.h, spelled out case by case. */
static void expected(disco_role role, enum relation rel, int pub, int *read, int *write, int *share)
{
    int full = role == DISCO_ROLE_NONE || role == DISCO_ROLE_ADMIN;
    int can_change = role >= DISCO_ROLE_WRITER;

    *read = full || pub || rel != STRANGER;
    *write = full || (can_change && (rel == OWNER || rel == WRITER_LISTED));
    *share = full || (can_change && rel == OWNER);
}

static void test_matrix(void **state)
{
    const disco_role roles[] = {DISCO_ROLE_NONE, DISCO_ROLE_READER, DISCO_ROLE_WRITER,
                                DISCO_ROLE_ADMIN};
    int reads = 0, writes = 0;

    (void)state;
    for (size_t r = 0; r < 4; r++)
        for (int rel = 0; rel < NRELATIONS; rel++)
            for (int pub = 0; pub <= 1; pub++) {
                json_t *acl = acl_for((enum relation)rel, pub);
                int er, ew, es;
                expected(roles[r], (enum relation)rel, pub, &er, &ew, &es);
                assert_int_equal(disco_access_can_read(acl, "me", roles[r]), er);
                assert_int_equal(disco_access_can_write(acl, "me", roles[r]), ew);
                assert_int_equal(disco_access_can_share(acl, "me", roles[r]), es);
                reads += er;
                writes += ew;
                json_decref(acl);
            }
    /* The table is not trivially all-or-nothing. */
    assert_int_equal(reads, 2 * 8 + 2 * 7);
    assert_int_equal(writes, 2 * 8 + 4);
}

static void test_matrix_edges(void **state)
{
    json_t *acl = acl_for(OWNER, 0);
    json_t *bad = json_string("not an acl");

    (void)state;
    /* An empty principal is nobody, even against an empty owner. */
    json_object_set_new(acl, "owner", json_string(""));
    assert_false(disco_access_can_read(acl, "", DISCO_ROLE_WRITER));
    assert_false(disco_access_can_write(acl, NULL, DISCO_ROLE_WRITER));
    assert_false(disco_access_can_read(bad, "me", DISCO_ROLE_READER));
    assert_false(disco_access_can_read(NULL, "me", DISCO_ROLE_WRITER));
    assert_true(disco_access_can_read(NULL, "me", DISCO_ROLE_ADMIN));
    /* Names are compared whole: no prefixes, no case folding. */
    json_object_set_new(acl, "owner", json_string("mel"));
    assert_false(disco_access_can_read(acl, "me", DISCO_ROLE_READER));
    json_object_set_new(acl, "owner", json_string("Me"));
    assert_false(disco_access_can_read(acl, "me", DISCO_ROLE_READER));
    json_decref(acl);
    json_decref(bad);
}

static void test_op_roles(void **state)
{
    disco_status st = {0};
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    (void)state;
    assert_int_equal(disco_access_op_role(disco_ops_find("token.create")), DISCO_ROLE_ADMIN);
    assert_int_equal(disco_access_op_role(disco_ops_find("token.list")), DISCO_ROLE_ADMIN);
    assert_int_equal(disco_access_op_role(disco_ops_find("token.revoke")), DISCO_ROLE_ADMIN);
    assert_int_equal(disco_access_op_role(disco_ops_find("resource.create")), DISCO_ROLE_WRITER);
    assert_int_equal(disco_access_op_role(disco_ops_find("resource.delete")), DISCO_ROLE_WRITER);
    assert_int_equal(disco_access_op_role(disco_ops_find("resource.get")), DISCO_ROLE_READER);
    /* Every op needs some role; none is open to no one. */
    for (size_t i = 0; i < n; i++) {
        disco_role r = disco_access_op_role(all[i]);
        assert_true(r >= DISCO_ROLE_READER && r <= DISCO_ROLE_ADMIN);
        assert_int_equal(disco_access_op_check(all[i], DISCO_ROLE_ADMIN, &st), DISCO_OK);
        assert_int_equal(disco_access_op_check(all[i], DISCO_ROLE_NONE, &st), DISCO_OK);
    }
    assert_int_equal(disco_access_op_check(disco_ops_find("token.list"), DISCO_ROLE_WRITER, &st),
                     DISCO_ERR_PERM);
    assert_non_null(strstr(st.msg, "token.list"));
    assert_non_null(strstr(st.msg, "admin"));
    assert_int_equal(
        disco_access_op_check(disco_ops_find("resource.update"), DISCO_ROLE_READER, &st),
        DISCO_ERR_PERM);
    assert_int_equal(disco_access_op_check(disco_ops_find("resource.list"), DISCO_ROLE_READER, &st),
                     DISCO_OK);
}

/* ---- through the ops ---------------------------------------------------------- */

typedef struct fixture {
    char *dir;
    disco_config cfg;
    disco_ctx *ctx;
    char priv[DISCO_ID_LEN + 1];   /* alice's, private */
    char shared[DISCO_ID_LEN + 1]; /* alice's, readers [bob], writers [carol] */
    char pub[DISCO_ID_LEN + 1];    /* alice's, public, child of priv */
} fixture;

static void create(fixture *f, const char *params, char *id)
{
    disco_status st;
    json_t *r;

    if (tu_op_call(f->ctx, "resource.create", params, &r, &st) != DISCO_OK)
        fail_msg("create %s: %s", params, st.msg);
    snprintf(id, DISCO_ID_LEN + 1, "%s", json_string_value(json_object_get(r, "resource_id")));
    json_decref(r);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char params[256];

    f->dir = tu_tmpdir("access");
    f->cfg = disco_config_default();
    snprintf(f->cfg.data_dir, sizeof f->cfg.data_dir, "%s/data", f->dir);
    snprintf(f->cfg.user, sizeof f->cfg.user, "alice");
    assert_int_equal(disco_ctx_new(&f->cfg, &f->ctx, NULL), DISCO_OK);
    assert_int_equal(disco_ctx_role(f->ctx), DISCO_ROLE_NONE);
    create(f, "{\"type\":\"prompt\"}", f->priv);
    create(f, "{\"type\":\"audio\",\"readers\":\"bob\",\"writers\":\"carol\"}", f->shared);
    snprintf(params, sizeof params, "{\"type\":\"mix\",\"public\":true,\"parents\":\"%s\"}",
             f->priv);
    create(f, params, f->pub);
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

static int by_id(fixture *f, const char *op, const char *id, disco_status *st)
{
    char params[128];

    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    return tu_op_call(f->ctx, op, params, NULL, st);
}

/* The message an unknown id gets, with the id replaced by `id`. */
static void assert_same_as_unknown(fixture *f, const char *op, const char *id, const char *msg)
{
    disco_status st;
    char want[DISCO_STATUS_MSG_MAX], *at;

    assert_int_equal(by_id(f, op, UNKNOWN_ID, &st), DISCO_ERR_NOTFOUND);
    at = strstr(st.msg, UNKNOWN_ID);
    assert_non_null(at);
    snprintf(want, sizeof want, "%.*s%s%s", (int)(at - st.msg), st.msg, id,
             at + strlen(UNKNOWN_ID));
    assert_string_equal(msg, want);
}

static void test_hidden_is_not_found(void **state)
{
    fixture *f = *state;
    const char *ops[] = {"resource.get", "resource.history", "resource.lineage", "resource.delete"};
    disco_status st;

    tu_as(f->ctx, "mallory", DISCO_ROLE_WRITER);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        assert_int_equal(by_id(f, ops[i], f->priv, &st), DISCO_ERR_NOTFOUND);
        assert_string_equal(st.field, "id");
        assert_same_as_unknown(f, ops[i], f->priv, st.msg);
    }
    /* A parent one cannot see does not exist either. */
    char params[128];
    snprintf(params, sizeof params, "{\"type\":\"x\",\"parents\":\"%s\"}", f->priv);
    assert_int_equal(tu_op_call(f->ctx, "resource.create", params, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_string_equal(st.field, "parents");
    char hidden[DISCO_STATUS_MSG_MAX];
    snprintf(hidden, sizeof hidden, "%s", st.msg);
    snprintf(params, sizeof params, "{\"type\":\"x\",\"parents\":\"%s\"}", UNKNOWN_ID);
    assert_int_equal(tu_op_call(f->ctx, "resource.create", params, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, UNKNOWN_ID));
    assert_int_equal(strlen(st.msg), strlen(hidden));

    /* Public and shared ones are readable. */
    assert_int_equal(by_id(f, "resource.get", f->pub, &st), DISCO_OK);
    tu_as(f->ctx, "bob", DISCO_ROLE_READER);
    assert_int_equal(by_id(f, "resource.get", f->shared, &st), DISCO_OK);
    assert_int_equal(by_id(f, "resource.history", f->shared, &st), DISCO_OK);
    assert_int_equal(by_id(f, "resource.get", f->priv, &st), DISCO_ERR_NOTFOUND);
}

static void test_readable_but_not_writable_is_perm(void **state)
{
    fixture *f = *state;
    char params[160];
    disco_status st;
    json_t *r;

    /* bob may read `shared` but not change it, whatever his role. */
    tu_as(f->ctx, "bob", DISCO_ROLE_WRITER);
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"tags\":\"k=v\"}", f->shared);
    assert_int_equal(tu_op_call(f->ctx, "resource.update", params, NULL, &st), DISCO_ERR_PERM);
    assert_non_null(strstr(st.msg, "bob"));
    assert_int_equal(by_id(f, "resource.delete", f->shared, &st), DISCO_ERR_PERM);

    /* carol is a writer of it: she may change it, not who may see it. */
    tu_as(f->ctx, "carol", DISCO_ROLE_WRITER);
    assert_int_equal(tu_op_call(f->ctx, "resource.update", params, &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "version")), 2);
    json_decref(r);
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"public\":true}", f->shared);
    assert_int_equal(tu_op_call(f->ctx, "resource.update", params, NULL, &st), DISCO_ERR_PERM);
    /* ... and only with a writer token: a reader token changes nothing. */
    tu_as(f->ctx, "carol", DISCO_ROLE_READER);
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"tags\":\"k=w\"}", f->shared);
    assert_int_equal(tu_op_call(f->ctx, "resource.update", params, NULL, &st), DISCO_ERR_PERM);
    assert_int_equal(tu_op_call(f->ctx, "resource.create", "{\"type\":\"x\"}", NULL, &st),
                     DISCO_ERR_PERM);

    /* The owner with a writer token may share; an admin may do anything. */
    tu_as(f->ctx, "alice", DISCO_ROLE_WRITER);
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"public\":true}", f->shared);
    assert_int_equal(tu_op_call(f->ctx, "resource.update", params, NULL, &st), DISCO_OK);
    tu_as(f->ctx, "root", DISCO_ROLE_ADMIN);
    assert_int_equal(by_id(f, "resource.get", f->priv, &st), DISCO_OK);
    assert_int_equal(by_id(f, "resource.delete", f->priv, &st), DISCO_OK);
    /* A deleted resource's history stays readable to those who could read it. */
    tu_as(f->ctx, "alice", DISCO_ROLE_READER);
    assert_int_equal(by_id(f, "resource.history", f->priv, &st), DISCO_OK);
    tu_as(f->ctx, "mallory", DISCO_ROLE_READER);
    assert_int_equal(by_id(f, "resource.history", f->priv, &st), DISCO_ERR_NOTFOUND);
    assert_same_as_unknown(f, "resource.history", f->priv, st.msg);
}

static void test_list_and_lineage_filtered(void **state)
{
    fixture *f = *state;
    char params[128];
    disco_status st;
    json_t *r;

    tu_as(f->ctx, "mallory", DISCO_ROLE_READER);
    assert_int_equal(tu_op_call(f->ctx, "resource.list", "{}", &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 1); /* only the public one */
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r, "items"), 0), "resource_id")),
                        f->pub);
    json_decref(r);
    assert_int_equal(tu_op_call(f->ctx, "resource.list", "{\"visible_to\":\"alice\"}", NULL, &st),
                     DISCO_ERR_PERM);
    assert_string_equal(st.field, "visible_to");

    /* The lineage of the public mix hides its private parent. */
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", f->pub);
    assert_int_equal(tu_op_call(f->ctx, "resource.lineage", params, &r, &st), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(r, "nodes")), 1);
    assert_int_equal(json_array_size(json_object_get(r, "edges")), 0);
    json_decref(r);

    /* Local use (no role) sees everything, as the CLI always did. */
    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(tu_op_call(f->ctx, "resource.lineage", params, &r, &st), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(r, "nodes")), 2);
    assert_int_equal(json_array_size(json_object_get(r, "edges")), 1);
    json_decref(r);
    tu_as(f->ctx, "mallory", DISCO_ROLE_NONE);
    assert_int_equal(tu_op_call(f->ctx, "resource.list", "{}", &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 3);
    json_decref(r);
    tu_as(f->ctx, "bob", DISCO_ROLE_ADMIN);
    assert_int_equal(tu_op_call(f->ctx, "resource.list", "{\"visible_to\":\"bob\"}", &r, &st),
                     DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
    json_decref(r);
}

static void test_token_ops_admin_only(void **state)
{
    fixture *f = *state;
    disco_status st;
    json_t *r;

    tu_as(f->ctx, "bob", DISCO_ROLE_WRITER);
    assert_int_equal(
        tu_op_call(f->ctx, "token.create", "{\"name\":\"t\",\"role\":\"admin\"}", NULL, &st),
        DISCO_ERR_PERM);
    assert_int_equal(tu_op_call(f->ctx, "token.list", "{}", NULL, &st), DISCO_ERR_PERM);
    assert_int_equal(tu_op_call(f->ctx, "token.revoke", "{\"token\":\"t\"}", NULL, &st),
                     DISCO_ERR_PERM);
    tu_as(f->ctx, "root", DISCO_ROLE_ADMIN);
    assert_int_equal(
        tu_op_call(f->ctx, "token.create", "{\"name\":\"t\",\"role\":\"reader\"}", &r, &st),
        DISCO_OK);
    assert_non_null(json_object_get(r, "secret"));
    json_decref(r);
    assert_int_equal(tu_op_call(f->ctx, "token.list", "{}", &r, &st), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(r, "count")), 1);
    json_t *item = json_array_get(json_object_get(r, "items"), 0);
    assert_null(json_object_get(item, "secret"));
    assert_null(json_object_get(item, "hash"));
    assert_string_equal(json_string_value(json_object_get(item, "role")), "reader");
    json_decref(r);
}

static void test_authenticate_hook(void **state)
{
    fixture *f = *state;
    char principal[64], tiny[3];
    disco_access_auth *auth = NULL;
    disco_status st;
    const char *secret;
    json_t *r;
    int role = -1;

    tu_as(f->ctx, "alice", DISCO_ROLE_NONE);
    assert_int_equal(tu_op_call(f->ctx, "token.create",
                                "{\"name\":\"studio\",\"role\":\"writer\",\"principal\":\"ada\"}",
                                &r, &st),
                     DISCO_OK);
    secret = json_string_value(json_object_get(r, "secret"));
    assert_int_equal(disco_access_auth_new(&f->cfg, &auth, &st), DISCO_OK);
    for (int i = 0; i < 3; i++) { /* the pooled handle is reused */
        assert_int_equal(
            disco_access_authenticate(auth, secret, principal, sizeof principal, &role, &st),
            DISCO_OK);
        assert_string_equal(principal, "ada");
        assert_int_equal(role, DISCO_ROLE_WRITER);
    }
    assert_int_equal(disco_access_authenticate(auth, secret, tiny, sizeof tiny, &role, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_access_authenticate(auth, "", principal, sizeof principal, &role, &st),
                     DISCO_ERR_PERM);
    assert_int_equal(
        disco_access_authenticate(auth, "Bearer x", principal, sizeof principal, &role, &st),
        DISCO_ERR_INVAL);
    assert_int_equal(tu_op_call(f->ctx, "token.revoke", "{\"token\":\"studio\"}", NULL, &st),
                     DISCO_OK);
    assert_int_equal(
        disco_access_authenticate(auth, secret, principal, sizeof principal, &role, &st),
        DISCO_ERR_PERM);
    disco_access_auth_free(auth);
    json_decref(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_matrix_edges),
        cmocka_unit_test(test_op_roles),
        T(test_hidden_is_not_found),
        T(test_readable_but_not_writable_is_perm),
        T(test_list_and_lineage_filtered),
        T(test_token_ops_admin_only),
        T(test_authenticate_hook),
    };
    return cmocka_run_group_tests_name("ops/access", tests, NULL, NULL);
}
