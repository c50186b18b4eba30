/*
 * test_catalog_objects.c - what the catalog knows about objects: the
 * resources any of whose versions name a payload (deleted ones included,
 * stopping early, no re-entry), the upload records (first and last time,
 * batches, forgetting), bad input, the index behind the lookup, and the
 * migration of a version-2 catalog.
 */
#include "disco/catalog.h"
#include "disco/timeutil.h"
#include "support/catalog_fixture.h"
#include "support/testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

typedef tu_catalog_fixture fixture;

static int setup(void **state)
{
    return tu_catalog_setup(state, "catobj", "catalog.db");
}

/* Creates a resource owned by `owner` with payload `object` (or none); writes its id. */
static void make(disco_catalog *c, const char *owner, const char *object, char *id)
{
    disco_status st = {0};
    disco_resource r;
    disco_resource_spec spec = {.type = "audio", .object = object, .owner = owner};

    if (disco_catalog_create(c, &spec, &r, &st) != DISCO_OK)
        fail_msg("create: %s", st.msg);
    snprintf(id, DISCO_ID_LEN + 1, "%s", r.id);
    disco_resource_release(&r);
}

static void set_object(disco_catalog *c, const char *id, const char *object)
{
    disco_status st = {0};
    disco_resource_patch p = {.object = object};

    if (disco_catalog_update(c, id, &p, NULL, &st) != DISCO_OK)
        fail_msg("update: %s", st.msg);
}

/* Collects "id:version:deleted:owner;" for every referrer. */
typedef struct seen {
    char text[512];
    int stop_after; /* 0: never */
    int calls;
    disco_catalog *c;
    int inner_rc;
} seen;

static int collect(void *user, const disco_resource *r)
{
    seen *s = user;
    size_t n = strlen(s->text);
    const char *owner = json_string_value(json_object_get(r->acl, "owner"));

    snprintf(s->text + n, sizeof s->text - n, "%s:%lld:%d:%s;", r->id, (long long)r->version,
             r->deleted, owner ? owner : "?");
    s->calls++;
    if (s->c) {
        disco_resource inner;
        disco_status st = {0};
        s->inner_rc = disco_catalog_get(s->c, r->id, 0, &inner, &st);
    }
    return s->stop_after && s->calls == s->stop_after ? 7 : 0;
}

static void test_referrers_of_any_version(void **state)
{
    fixture *f = *state;
    char r1[DISCO_ID_LEN + 1], r2[DISCO_ID_LEN + 1], r3[DISCO_ID_LEN + 1], want[512];
    disco_status st = {0};
    seen s = {0};

    make(f->c, "wendy", HASH_A, r1);
    set_object(f->c, r1, HASH_B); /* version 2 names B; version 1 still names A */
    make(f->c, "walt", HASH_B, r2);
    make(f->c, "wendy", NULL, r3);

    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, collect, &s, &st), DISCO_OK);
    snprintf(want, sizeof want, "%s:2:0:wendy;", r1); /* its latest version */
    assert_string_equal(s.text, want);

    memset(&s, 0, sizeof s);
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_B, collect, &s, &st), DISCO_OK);
    snprintf(want, sizeof want, "%s:2:0:wendy;%s:1:0:walt;", r1, r2); /* oldest first */
    assert_string_equal(s.text, want);

    memset(&s, 0, sizeof s);
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_C, collect, &s, &st), DISCO_OK);
    assert_int_equal(s.calls, 0);
}

static void test_referrers_deleted_and_removed_payload(void **state)
{
    fixture *f = *state;
    char r1[DISCO_ID_LEN + 1], want[512];
    disco_status st = {0};
    seen s = {0};

    make(f->c, "wendy", HASH_A, r1);
    set_object(f->c, r1, ""); /* the payload removed: version 1 still named it */
    assert_int_equal(disco_catalog_delete(f->c, r1, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, collect, &s, &st), DISCO_OK);
    snprintf(want, sizeof want, "%s:3:1:wendy;", r1); /* the tombstone, with its ACL */
    assert_string_equal(s.text, want);
}

static void test_referrers_stop_and_no_reentry(void **state)
{
    fixture *f = *state;
    char id[DISCO_ID_LEN + 1];
    disco_status st = {0};
    seen s = {.stop_after = 1};

    for (int i = 0; i < 3; i++)
        make(f->c, "wendy", HASH_A, id);
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, collect, &s, &st), 7);
    assert_int_equal(s.calls, 1);

    memset(&s, 0, sizeof s);
    s.c = f->c;
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, collect, &s, &st), DISCO_OK);
    assert_int_equal(s.calls, 3);
    assert_int_equal(s.inner_rc, DISCO_ERR_BUSY);
    /* The handle works again afterwards. */
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
}

static void test_bad_input(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_upload up;
    seen s = {0};

    assert_int_equal(disco_catalog_foreach_referrer(f->c, "abc", collect, &s, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "hash");
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, NULL, &s, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_record(f->c, "ABC", "wendy", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "hash");
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "", &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "principal");
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "tab\there", &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "", &up, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_forget(f->c, "x", 0, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_upload_record(NULL, HASH_A, "wendy", &st), DISCO_ERR_INVAL);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_upload_record_and_get(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_upload up, again;
    int64_t before = disco_time_now_ms();

    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, HASH_A));
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_OK);
    assert_string_equal(up.hash, HASH_A);
    assert_string_equal(up.principal, "wendy");
    assert_true(up.first_ms >= before && up.first_ms <= disco_time_now_ms());
    assert_int_equal(up.last_ms, up.first_ms);

    sleep_ms(5);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &again, &st), DISCO_OK);
    assert_int_equal(again.first_ms, up.first_ms);
    assert_true(again.last_ms > up.last_ms);

    /* Per principal and per hash. */
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "rita", &up, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_B, "wendy", &up, &st), DISCO_ERR_NOTFOUND);
}

static void test_upload_in_batch(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_upload up;

    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_rollback(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_commit(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_OK);
}

static void test_upload_forget(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_upload up;
    int64_t removed = -1, t0;

    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "rita", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_B, "rita", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "rita", &up, &st), DISCO_OK);
    t0 = up.first_ms;

    /* Uploads at or after the cut-off stay: they may have stored the bytes again. */
    assert_int_equal(disco_catalog_upload_forget(f->c, HASH_A, t0 - 1000, &removed, &st), DISCO_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(
        disco_catalog_upload_forget(f->c, HASH_A, disco_time_now_ms() + 1, &removed, &st),
        DISCO_OK);
    assert_int_equal(removed, 2);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_B, "rita", &up, &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_forget(f->c, HASH_C, disco_time_now_ms(), NULL, &st),
                     DISCO_OK);
}

/* One row of `sql` as text ("" when none), from a raw connection. */
static void query_text(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    out[0] = '\0';
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        size_t n = strlen(out);
        const unsigned char *t = sqlite3_column_text(stmt, sqlite3_column_count(stmt) - 1);
        snprintf(out + n, size - n, "%s|", t ? (const char *)t : "");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_lookup_uses_the_index(void **state)
{
    fixture *f = *state;
    char plan[1024];

    query_text(f->path,
               "EXPLAIN QUERY PLAN SELECT rid FROM versions WHERE object = "
               "'" HASH_A "'",
               plan, sizeof plan);
    if (!strstr(plan, "versions_by_object"))
        fail_msg("plan does not use the index: %s", plan);
    query_text(f->path, "PRAGMA user_version", plan, sizeof plan);
    assert_string_equal(plan, "3|");
}

static void exec_raw(const char *path, const char *sql)
{
    sqlite3 *db;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_migrates_version_2(void **state)
{
    fixture *f = *state;
    char id[DISCO_ID_LEN + 1], names[256];
    disco_status st = {0};
    disco_upload up;
    seen s = {0};

    make(f->c, "wendy", HASH_A, id);
    disco_catalog_close(f->c);
    f->c = NULL;
    /* What a version-2 catalog looks like: no uploads, no payload index. */
    exec_raw(f->path, "DROP TABLE uploads; DROP INDEX versions_by_object; PRAGMA user_version = 2");
    query_text(f->path,
               "SELECT name FROM sqlite_master WHERE name IN ('uploads', 'versions_by_object')",
               names, sizeof names);
    assert_string_equal(names, "");

    assert_int_equal(disco_catalog_open(f->path, &f->c, &st), DISCO_OK);
    query_text(f->path,
               "SELECT name FROM sqlite_master WHERE name IN ('uploads', 'versions_by_object')"
               " ORDER BY name",
               names, sizeof names);
    assert_string_equal(names, "uploads|versions_by_object|");
    /* Old versions are found through the new index; uploads work. */
    assert_int_equal(disco_catalog_foreach_referrer(f->c, HASH_A, collect, &s, &st), DISCO_OK);
    assert_int_equal(s.calls, 1);
    assert_int_equal(disco_catalog_upload_record(f->c, HASH_A, "wendy", &st), DISCO_OK);
    assert_int_equal(disco_catalog_upload_get(f->c, HASH_A, "wendy", &up, &st), DISCO_OK);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_catalog_teardown)
    const struct CMUnitTest tests[] = {
        T(test_referrers_of_any_version),
        T(test_referrers_deleted_and_removed_payload),
        T(test_referrers_stop_and_no_reentry),
        T(test_bad_input),
        T(test_upload_record_and_get),
        T(test_upload_in_batch),
        T(test_upload_forget),
        T(test_lookup_uses_the_index),
        T(test_migrates_version_2),
    };
#undef T
    return cmocka_run_group_tests_name("catalog_objects", tests, NULL, NULL);
}
