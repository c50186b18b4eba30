/*
 * test_apitoken.c - API tokens in the catalog: create, verify, revoke, list,
 * name rules, roles, the secret never stored, batches, and the migration of
 * a catalog made before the tokens table existed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/apitoken.h"
#include "disco/hash.h"
#include "support/catalog_fixture.h"
#include "support/testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef tu_catalog_fixture fixture;

typedef char secret_t[DISCO_APITOKEN_SECRET_LEN + 1];

static int setup(void **state)
{
    return tu_catalog_setup(state, "apitoken", "catalog.db");
}

static void make(fixture *f, const char *name, disco_role role, const char *principal, char *secret,
                 disco_apitoken *t)
{
    disco_status st = {0};
    int rc = disco_apitoken_create(f->c, name, role, principal, secret, t, &st);

    if (rc != DISCO_OK)
        fail_msg("create %s: %s", name, st.msg);
}

static void test_create_verify(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_apitoken t, v;
    secret_t s1, s2;

    make(f, "ci-bot", DISCO_ROLE_WRITER, NULL, s1, &t);
    assert_int_equal(strlen(s1), DISCO_APITOKEN_SECRET_LEN);
    assert_memory_equal(s1, "dm_", 3);
    for (size_t i = 3; i < strlen(s1); i++)
        assert_non_null(strchr("0123456789abcdef", s1[i]));
    assert_true(disco_id_valid(t.id));
    assert_string_equal(t.principal, "ci-bot"); /* default: the name */
    assert_int_equal(t.role, DISCO_ROLE_WRITER);
    assert_true(t.created_ms > 0);
    assert_int_equal(t.last_used_ms, 0);
    assert_int_equal(t.revoked_ms, 0);

    make(f, "ada-laptop", DISCO_ROLE_ADMIN, "ada", s2, NULL);
    assert_string_not_equal(s1, s2);

    assert_int_equal(disco_apitoken_verify(f->c, s1, &v, &st), DISCO_OK);
    assert_string_equal(v.id, t.id);
    assert_string_equal(v.name, "ci-bot");
    assert_int_equal(v.role, DISCO_ROLE_WRITER);
    assert_true(v.last_used_ms >= t.created_ms); /* first use is recorded */
    assert_int_equal(disco_apitoken_verify(f->c, s2, &v, &st), DISCO_OK);
    assert_string_equal(v.principal, "ada");
    assert_int_equal(v.role, DISCO_ROLE_ADMIN);
}

static void test_verify_rejects(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    char unknown_msg[DISCO_STATUS_MSG_MAX];
    disco_apitoken v;
    secret_t s, forged;

    make(f, "x", DISCO_ROLE_READER, NULL, s, NULL);
    /* A well-formed secret that was never issued. */
    memcpy(forged, s, sizeof forged);
    forged[10] = forged[10] == 'a' ? 'b' : 'a';
    assert_int_equal(disco_apitoken_verify(f->c, forged, &v, &st), DISCO_ERR_PERM);
    assert_string_equal(st.field, "token");
    snprintf(unknown_msg, sizeof unknown_msg, "%s", st.msg);
    assert_null(strstr(st.msg, forged)); /* never echoes a secret */

    /* Revoked: the same code and message as unknown. */
    assert_int_equal(disco_apitoken_revoke(f->c, "x", NULL, &st), DISCO_OK);
    assert_int_equal(disco_apitoken_verify(f->c, s, &v, &st), DISCO_ERR_PERM);
    assert_string_equal(st.msg, unknown_msg);

    /* Not a token at all. */
    const char *bad[] = {"",
                         "dm_",
                         "abc",
                         "DM_0000000000000000000000000000000000000000000000000000000000000000",
                         "dm_000000000000000000000000000000000000000000000000000000000000000G",
                         "dm_00000000000000000000000000000000000000000000000000000000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(disco_apitoken_verify(f->c, bad[i], &v, &st), DISCO_ERR_INVAL);
        assert_string_equal(st.field, "token");
    }
    assert_int_equal(disco_apitoken_verify(f->c, NULL, &v, &st), DISCO_ERR_INVAL);
}

static void test_names_unique_among_live(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_apitoken a, b, r;
    secret_t s1, s2, s3;

    make(f, "deploy", DISCO_ROLE_READER, NULL, s1, &a);
    s2[0] = 'z';
    assert_int_equal(disco_apitoken_create(f->c, "deploy", DISCO_ROLE_ADMIN, NULL, s2, NULL, &st),
                     DISCO_ERR_EXISTS);
    assert_string_equal(st.field, "name");
    assert_non_null(strstr(st.msg, "deploy"));
    assert_int_not_equal(s2[0], 'd'); /* no secret handed out for a failed create */

    /* Revoked by id: the name is free again, the old secret stays dead. */
    assert_int_equal(disco_apitoken_revoke(f->c, a.id, &r, &st), DISCO_OK);
    assert_string_equal(r.id, a.id);
    assert_true(r.revoked_ms > 0);
    make(f, "deploy", DISCO_ROLE_ADMIN, NULL, s3, &b);
    assert_string_not_equal(a.id, b.id);
    assert_int_equal(disco_apitoken_verify(f->c, s1, &r, &st), DISCO_ERR_PERM);
    assert_int_equal(disco_apitoken_verify(f->c, s3, &r, &st), DISCO_OK);
    assert_string_equal(r.id, b.id);

    /* Revoking by name picks the live one; again finds none. */
    assert_int_equal(disco_apitoken_revoke(f->c, "deploy", &r, &st), DISCO_OK);
    assert_string_equal(r.id, b.id);
    assert_int_equal(disco_apitoken_revoke(f->c, "deploy", &r, &st), DISCO_ERR_NOTFOUND);
    assert_string_equal(st.field, "token");
    assert_int_equal(disco_apitoken_revoke(f->c, a.id, &r, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_apitoken_revoke(f->c, "", &r, &st), DISCO_ERR_INVAL);
}

static void test_list(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_apitoken_list l;
    disco_apitoken a, b, c;
    secret_t s;

    assert_int_equal(disco_apitoken_list_all(f->c, 0, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 0);
    disco_apitoken_list_release(&l);
    make(f, "a", DISCO_ROLE_READER, NULL, s, &a);
    make(f, "b", DISCO_ROLE_WRITER, "team-b", s, &b);
    make(f, "c", DISCO_ROLE_ADMIN, NULL, s, &c);
    assert_int_equal(disco_apitoken_revoke(f->c, "b", NULL, &st), DISCO_OK);

    assert_int_equal(disco_apitoken_list_all(f->c, 0, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].name, "a");
    assert_string_equal(l.items[1].name, "c");
    assert_int_equal(l.items[1].role, DISCO_ROLE_ADMIN);
    disco_apitoken_list_release(&l);

    assert_int_equal(disco_apitoken_list_all(f->c, 1, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 3);
    assert_string_equal(l.items[1].id, b.id);
    assert_string_equal(l.items[1].principal, "team-b");
    assert_true(l.items[1].revoked_ms > 0);
    assert_int_equal(l.items[0].revoked_ms, 0);
    disco_apitoken_list_release(&l);
    disco_apitoken_list_release(&l); /* released twice is harmless */
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    secret_t s;
    char longname[DISCO_APITOKEN_NAME_MAX + 2];

    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    struct {
        const char *name, *principal;
        disco_role role;
        const char *field;
    } cases[] = {
        {"", NULL, DISCO_ROLE_READER, "name"},
        {NULL, NULL, DISCO_ROLE_READER, "name"},
        {longname, NULL, DISCO_ROLE_READER, "name"},
        {"has space", NULL, DISCO_ROLE_READER, "name"},
        {"-dash", NULL, DISCO_ROLE_READER, "name"},
        {"tab\tname", NULL, DISCO_ROLE_READER, "name"},
        {"ok", "bad principal", DISCO_ROLE_READER, "principal"},
        {"ok", NULL, DISCO_ROLE_NONE, "role"},
        {"ok", NULL, (disco_role)7, "role"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        disco_status_clear(&st);
        assert_int_equal(disco_apitoken_create(f->c, cases[i].name, cases[i].role,
                                               cases[i].principal, s, NULL, &st),
                         DISCO_ERR_INVAL);
        assert_string_equal(st.field, cases[i].field);
    }
    longname[DISCO_APITOKEN_NAME_MAX] = '\0'; /* exactly the limit is fine */
    make(f, longname, DISCO_ROLE_READER, "ada@example.org", s, NULL);
}

static void test_roles(void **state)
{
    disco_status st = {0};
    disco_role r = DISCO_ROLE_NONE;

    (void)state;
    assert_int_equal(disco_apitoken_role_parse("writer", &r, &st), DISCO_OK);
    assert_int_equal(r, DISCO_ROLE_WRITER);
    assert_int_equal(disco_apitoken_role_parse("admin", &r, &st), DISCO_OK);
    assert_int_equal(r, DISCO_ROLE_ADMIN);
    assert_int_equal(disco_apitoken_role_parse("reader", &r, &st), DISCO_OK);
    assert_int_equal(r, DISCO_ROLE_READER);
    assert_int_equal(disco_apitoken_role_parse("root", &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "role");
    assert_int_equal(disco_apitoken_role_parse("none", &r, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_apitoken_role_parse(NULL, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(disco_apitoken_role_name(DISCO_ROLE_ADMIN), "admin");
    assert_string_equal(disco_apitoken_role_name(DISCO_ROLE_NONE), "none");
    assert_string_equal(disco_apitoken_role_name((disco_role)9), "?");
    assert_true(DISCO_ROLE_READER < DISCO_ROLE_WRITER && DISCO_ROLE_WRITER < DISCO_ROLE_ADMIN);
}

/* 1 when `needle` occurs in the file at `path` (a missing file has nothing). */
static int file_contains(const char *path, const char *needle)
{
    size_t len = 0, n = strlen(needle);
    char *data = tu_read_file(path, &len);
    int found = 0;

    for (size_t i = 0; data && !found && i + n <= len; i++)
        found = memcmp(data + i, needle, n) == 0;
    free(data);
    return found;
}

static void test_secret_never_stored(void **state)
{
    fixture *f = *state;
    char hash[DISCO_SHA256_HEX_LEN + 1], *wal = NULL;
    sqlite3 *db;
    sqlite3_stmt *stmt;
    disco_apitoken t;
    secret_t s;

    make(f, "stored", DISCO_ROLE_WRITER, NULL, s, &t);
    assert_int_equal(disco_sha256_hex(s, strlen(s), hash), DISCO_OK);
    /* Every column of the row: the hash is there, the secret is not. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM tokens", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int saw_hash = 0;
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
        const char *v = (const char *)sqlite3_column_text(stmt, i);
        assert_true(!v || !strstr(v, s + 3));
        saw_hash |= v && strcmp(v, hash) == 0;
    }
    assert_true(saw_hash);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    /* Nor anywhere in the files, hex or raw. */
    disco_catalog_close(f->c);
    f->c = NULL;
    wal = malloc(strlen(f->path) + 5);
    sprintf(wal, "%s-wal", f->path);
    assert_false(file_contains(f->path, s + 3));
    assert_false(file_contains(wal, s + 3));
    assert_true(file_contains(f->path, hash) || file_contains(wal, hash));
    free(wal);
}

static void test_batch_rollback(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_apitoken_list l;
    disco_apitoken v;
    secret_t s;

    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    make(f, "temp", DISCO_ROLE_READER, NULL, s, NULL);
    assert_int_equal(disco_catalog_rollback(f->c, &st), DISCO_OK);
    assert_int_equal(disco_apitoken_verify(f->c, s, &v, &st), DISCO_ERR_PERM);
    assert_int_equal(disco_apitoken_list_all(f->c, 1, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 0);
    disco_apitoken_list_release(&l);
}

static int64_t user_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int64_t v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

/* A catalog as version 1 left it: the same schema without `tokens` (nor version 3's uploads). */
static void downgrade_to_v1(const char *path)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE uploads; DROP INDEX versions_by_object;"
                                  " DROP INDEX tokens_live_name; DROP TABLE tokens;"
                                  " PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void test_migrates_v1_catalog(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r, back;
    disco_resource_spec spec = {.type = "audio", .owner = "ada"};
    disco_apitoken v;
    secret_t s;

    assert_int_equal(disco_catalog_create(f->c, &spec, &r, &st), DISCO_OK);
    disco_catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(user_version(f->path), 3);
    downgrade_to_v1(f->path);
    assert_int_equal(user_version(f->path), 1);

    assert_int_equal(disco_catalog_open(f->path, &f->c, &st), DISCO_OK);
    assert_int_equal(user_version(f->path), 3);
    disco_resource_init(&back);
    assert_int_equal(disco_catalog_get(f->c, r.id, 0, &back, &st), DISCO_OK); /* data kept */
    assert_string_equal(back.type, "audio");
    make(f, "after-migration", DISCO_ROLE_WRITER, NULL, s, NULL);
    assert_int_equal(disco_apitoken_verify(f->c, s, &v, &st), DISCO_OK);
    disco_resource_release(&back);
    disco_resource_release(&r);

    /* And the tokens survive a reopen. */
    disco_catalog_close(f->c);
    assert_int_equal(disco_catalog_open(f->path, &f->c, &st), DISCO_OK);
    assert_int_equal(disco_apitoken_verify(f->c, s, &v, &st), DISCO_OK);
    assert_string_equal(v.name, "after-migration");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_catalog_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_verify),
        T(test_verify_rejects),
        T(test_names_unique_among_live),
        T(test_list),
        T(test_bad_input),
        T(test_roles),
        T(test_secret_never_stored),
        T(test_batch_rollback),
        T(test_migrates_v1_catalog),
    };
    return cmocka_run_group_tests_name("store/apitoken", tests, NULL, NULL);
}
