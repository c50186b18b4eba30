/*
 * test_catalog.c - the catalog of versioned resources (SQLite back-end):
 * versions, tags, metadata, ACL, listing filters and paging, deletion,
 * lineage, payload references, batches, bad input and persistence.
 */
#include "disco/catalog.h"
#include "disco/json.h"
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
#define UNKNOWN_ID "01ARZ3NDEKTSV4RRFFQ69G5FAV"

typedef tu_catalog_fixture fixture;

typedef char id_t_[DISCO_ID_LEN + 1];

static int setup(void **state)
{
    return tu_catalog_setup(state, "catalog", "sub/dir/catalog.db");
}

/* Parses JSON text in tests; NULL text gives NULL. */
static json_t *J(const char *text)
{
    json_t *v;

    if (!text)
        return NULL;
    v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    return v;
}

static void assert_json(const json_t *v, const char *text)
{
    json_t *want = J(text);

    if (!json_equal(v, want)) {
        char *got = json_dumps(v, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fail_msg("got %s, want %s", got, text);
    }
    json_decref(want);
}

static void assert_msg(const disco_status *st, const char *part)
{
    if (!strstr(st->msg, part))
        fail_msg("message '%s' does not mention '%s'", st->msg, part);
}

/* Creates a resource from JSON texts (any may be NULL) and writes its id. */
static void make(disco_catalog *c, const char *type, const char *parents, const char *tags,
                 const char *metadata, char id[DISCO_ID_LEN + 1])
{
    disco_status st = {0};
    disco_resource r;
    json_t *p = J(parents), *t = J(tags), *m = J(metadata);
    disco_resource_spec spec = {
        .type = type, .parents = p, .tags = t, .metadata = m, .owner = "alice"};
    int rc = disco_catalog_create(c, &spec, &r, &st);

    if (rc)
        fail_msg("create failed: %s", st.msg);
    strcpy(id, r.id);
    disco_resource_release(&r);
    json_decref(p);
    json_decref(t);
    json_decref(m);
}

/* JSON text "[\"a\", \"b\"]" of up to three ids. */
static char *ids_json(const char *a, const char *b, const char *c)
{
    static char buf[4][128];
    static int which;
    char *out = buf[which++ % 4];

    snprintf(out, 128, "[\"%s\"%s%s%s%s%s%s]", a, b ? ",\"" : "", b ? b : "", b ? "\"" : "",
             c ? ",\"" : "", c ? c : "", c ? "\"" : "");
    return out;
}

static int try_create(disco_catalog *c, const char *type, const char *parents, const char *tags,
                      const char *metadata, const char *acl, disco_status *st)
{
    json_t *p = J(parents), *t = J(tags), *m = J(metadata), *a = J(acl);
    disco_resource_spec spec = {
        .type = type, .parents = p, .tags = t, .metadata = m, .acl = a, .owner = "alice"};
    int rc = disco_catalog_create(c, &spec, NULL, st);

    json_decref(p);
    json_decref(t);
    json_decref(m);
    json_decref(a);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---- create, get, update ------------------------------------------------- */

static void test_create_get(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r, g;
    json_t *tags = J("{\"genre\": \"house\", \"bpm\": \"124\"}");
    json_t *md = J("{\"tempo\": 124, \"key\": {\"tonic\": \"A\", \"mode\": \"minor\"}}");
    disco_resource_spec spec = {
        .type = "audio.master", .object = HASH_A, .tags = tags, .metadata = md, .owner = "alice"};

    assert_int_equal(disco_catalog_create(f->c, &spec, &r, &st), DISCO_OK);
    assert_int_equal(strlen(r.id), DISCO_ID_LEN);
    assert_int_equal(r.version, 1);
    assert_true(r.created_ms > 0);
    assert_int_equal(r.created_ms, r.modified_ms);
    assert_int_equal(disco_catalog_get(f->c, r.id, 0, &g, &st), DISCO_OK);
    assert_string_equal(g.id, r.id);
    assert_string_equal(g.type, "audio.master");
    assert_string_equal(g.object, HASH_A);
    assert_int_equal(g.version, 1);
    assert_int_equal(g.deleted, 0);
    assert_int_equal(g.created_ms, r.created_ms);
    assert_true(json_equal(g.tags, tags));
    assert_true(json_equal(g.metadata, md));
    assert_json(g.parents, "[]");
    assert_json(g.acl,
                "{\"owner\": \"alice\", \"readers\": [], \"writers\": [], \"public\": false}");
    disco_resource_release(&g);
    assert_int_equal(disco_catalog_get(f->c, r.id, 1, &g, &st), DISCO_OK);
    assert_int_equal(g.version, 1);
    disco_resource_release(&g);
    disco_resource_release(&r);
    json_decref(tags);
    json_decref(md);
}

static void test_to_json(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    disco_resource_spec spec = {.type = "midi", .owner = "bob"};
    json_t *j;

    assert_int_equal(disco_catalog_create(f->c, &spec, &r, &st), DISCO_OK);
    j = disco_resource_to_json(&r);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "resource_id")), r.id);
    assert_string_equal(json_string_value(json_object_get(j, "resource_type")), "midi");
    assert_non_null(strchr(json_string_value(json_object_get(j, "creation_timestamp")), 'T'));
    assert_non_null(json_string_value(json_object_get(j, "modification_timestamp")));
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_true(json_is_false(json_object_get(j, "deleted")));
    assert_true(json_is_null(json_object_get(j, "object")));
    assert_json(json_object_get(j, "parent_resources"), "[]");
    assert_json(json_object_get(j, "tags"), "{}");
    assert_json(json_object_get(j, "metadata"), "{}");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "access_control"), "owner")), "bob");
    json_decref(j);
    disco_resource_release(&r);
}

static void test_update_versions(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r, old;
    id_t_ id;
    json_t *tags = J("{\"genre\": \"techno\", \"mood\": \"dark\"}");
    json_t *rm = J("[\"bpm\", \"absent\"]");
    json_t *md = J("{\"tempo\": 128, \"key\": {\"mode\": null, \"tonic\": \"C\"}, \"new\": [1]}");
    disco_resource_patch patch = {
        .object = HASH_B, .tags = tags, .remove_tags = rm, .metadata = md};

    make(f->c, "audio", NULL, "{\"genre\": \"house\", \"bpm\": \"124\"}",
         "{\"tempo\": 124, \"key\": {\"tonic\": \"A\", \"mode\": \"minor\"}, \"keep\": true}", id);
    assert_int_equal(disco_catalog_update(f->c, id, &patch, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 2);
    assert_string_equal(r.object, HASH_B);
    assert_json(r.tags, "{\"genre\": \"techno\", \"mood\": \"dark\"}");
    assert_json(r.metadata,
                "{\"tempo\": 128, \"key\": {\"tonic\": \"C\"}, \"new\": [1], \"keep\": true}");
    assert_true(r.modified_ms > r.created_ms);
    disco_resource_release(&r);

    assert_int_equal(disco_catalog_get(f->c, id, 1, &old, &st), DISCO_OK);
    assert_int_equal(old.version, 1);
    assert_string_equal(old.object, "");
    assert_json(old.tags, "{\"genre\": \"house\", \"bpm\": \"124\"}");
    disco_resource_release(&old);

    /* "" removes the payload; an empty patch still makes a version. */
    disco_resource_patch clear = {.object = ""};
    assert_int_equal(disco_catalog_update(f->c, id, &clear, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 3);
    assert_string_equal(r.object, "");
    assert_json(r.tags, "{\"genre\": \"techno\", \"mood\": \"dark\"}");
    disco_resource_release(&r);
    json_decref(tags);
    json_decref(rm);
    json_decref(md);
}

static void test_update_parents(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    id_t_ a, b, c, x;
    json_t *p, *add;

    make(f->c, "prompt", NULL, NULL, NULL, a);
    make(f->c, "prompt", NULL, NULL, NULL, b);
    make(f->c, "prompt", NULL, NULL, NULL, c);
    /* Duplicates are dropped, first mention kept. */
    make(f->c, "midi", ids_json(a, b, a), NULL, NULL, x);
    assert_int_equal(disco_catalog_get(f->c, x, 0, &r, &st), DISCO_OK);
    assert_json(r.parents, ids_json(a, b, NULL));
    disco_resource_release(&r);

    p = J(ids_json(c, NULL, NULL));
    disco_resource_patch replace = {.parents = p};
    assert_int_equal(disco_catalog_update(f->c, x, &replace, &r, &st), DISCO_OK);
    assert_json(r.parents, ids_json(c, NULL, NULL));
    disco_resource_release(&r);

    add = J(ids_json(c, a, NULL));
    disco_resource_patch append = {.add_parents = add};
    assert_int_equal(disco_catalog_update(f->c, x, &append, &r, &st), DISCO_OK);
    assert_json(r.parents, ids_json(c, a, NULL));
    disco_resource_release(&r);
    json_decref(p);
    json_decref(add);
}

static void test_update_acl(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r, u;
    json_t *acl = J("{\"readers\": [\"bob\"]}"), *pub = J("{\"public\": true}");
    disco_resource_spec spec = {.type = "stem", .acl = acl, .owner = "alice"};
    disco_resource_patch patch = {.acl = pub};

    assert_int_equal(disco_catalog_create(f->c, &spec, &r, &st), DISCO_OK);
    assert_json(
        r.acl,
        "{\"owner\": \"alice\", \"readers\": [\"bob\"], \"writers\": [], \"public\": false}");
    assert_int_equal(disco_catalog_update(f->c, r.id, &patch, &u, &st), DISCO_OK);
    assert_json(
        u.acl, "{\"owner\": \"alice\", \"readers\": [\"bob\"], \"writers\": [], \"public\": true}");
    disco_resource_release(&u);
    disco_resource_release(&r);
    json_decref(acl);
    json_decref(pub);
}

static void test_expected_version(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    id_t_ id;
    disco_resource_patch patch = {.expected_version = 1};

    make(f->c, "mix", NULL, NULL, NULL, id);
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_CONFLICT);
    assert_string_equal(st.field, "expected_version");
    assert_msg(&st, "at version 2");
    patch.expected_version = 2;
    assert_int_equal(disco_catalog_update(f->c, id, &patch, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 3);
    disco_resource_release(&r);
    patch.expected_version = -1;
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "expected_version");
}

static void test_history(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_list l;
    disco_resource_patch patch = {0};
    id_t_ id;

    make(f->c, "mix", NULL, NULL, NULL, id);
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_delete(f->c, id, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_history(f->c, id, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 4);
    for (size_t i = 0; i < l.count; i++) {
        assert_int_equal(l.items[i].version, (int64_t)i + 1);
        assert_int_equal(l.items[i].deleted, i == 3);
        if (i > 0)
            assert_true(l.items[i].modified_ms > l.items[i - 1].modified_ms);
    }
    disco_resource_list_release(&l);
    assert_int_equal(disco_catalog_history(f->c, UNKNOWN_ID, &l, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, UNKNOWN_ID);
}

/* ---- delete ----------------------------------------------------------------- */

static void test_delete_tombstone(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    disco_resource_list l;
    disco_resource_filter all = {.include_deleted = 1};
    disco_resource_patch patch = {0};
    id_t_ id;

    make(f->c, "mix", NULL, "{\"k\": \"v\"}", "{\"n\": 1}", id);
    assert_int_equal(disco_catalog_delete(f->c, id, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 2);
    assert_true(r.deleted);
    assert_json(r.tags, "{\"k\": \"v\"}");
    disco_resource_release(&r);

    assert_int_equal(disco_catalog_get(f->c, id, 0, &r, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "was deleted at version 2");
    assert_int_equal(disco_catalog_get(f->c, id, 1, &r, &st), DISCO_OK);
    assert_false(r.deleted);
    assert_json(r.metadata, "{\"n\": 1}");
    disco_resource_release(&r);
    assert_int_equal(disco_catalog_get(f->c, id, 2, &r, &st), DISCO_OK);
    assert_true(r.deleted);
    disco_resource_release(&r);
    assert_int_equal(disco_catalog_get(f->c, id, 3, &r, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "no version 3");

    assert_int_equal(disco_catalog_delete(f->c, id, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "deleted");
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "deleted");

    assert_int_equal(disco_catalog_list(f->c, NULL, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 0);
    disco_resource_list_release(&l);
    assert_int_equal(disco_catalog_list(f->c, &all, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 1);
    assert_true(l.items[0].deleted);
    disco_resource_list_release(&l);

    assert_int_equal(try_create(f->c, "x", ids_json(id, NULL, NULL), NULL, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg(&st, "parent");
    assert_msg(&st, id);
}

/* ---- listing ----------------------------------------------------------------- */

static size_t list_count(disco_catalog *c, const disco_resource_filter *flt)
{
    disco_status st = {0};
    disco_resource_list l;
    size_t n;

    if (disco_catalog_list(c, flt, &l, &st))
        fail_msg("list failed: %s", st.msg);
    n = l.count;
    disco_resource_list_release(&l);
    return n;
}

static void test_list_type_tags(void **state)
{
    fixture *f = *state;
    id_t_ id;
    json_t *t1 = J("{\"genre\": \"house\"}"), *t2 = J("{\"genre\": \"house\", \"mood\": \"up\"}");
    json_t *t3 = J("{\"genre\": \"jazz\"}");
    disco_resource_filter flt = {0};

    make(f->c, "audio", NULL, "{\"genre\": \"house\", \"mood\": \"up\"}", NULL, id);
    make(f->c, "audio", NULL, "{\"genre\": \"house\"}", NULL, id);
    make(f->c, "midi", NULL, "{\"genre\": \"house\", \"mood\": \"up\"}", NULL, id);
    make(f->c, "midi", NULL, NULL, NULL, id);
    assert_int_equal(list_count(f->c, &flt), 4);
    flt.type = "audio";
    assert_int_equal(list_count(f->c, &flt), 2);
    flt.type = "stem";
    assert_int_equal(list_count(f->c, &flt), 0);
    flt.type = NULL;
    flt.tags = t1;
    assert_int_equal(list_count(f->c, &flt), 3);
    flt.tags = t2;
    assert_int_equal(list_count(f->c, &flt), 2);
    flt.type = "midi";
    assert_int_equal(list_count(f->c, &flt), 1);
    flt.tags = t3;
    assert_int_equal(list_count(f->c, &flt), 0);
    json_decref(t1);
    json_decref(t2);
    json_decref(t3);
}

static size_t list_md(disco_catalog *c, const char *md)
{
    json_t *m = J(md);
    disco_resource_filter flt = {.metadata = m};
    size_t n = list_count(c, &flt);

    json_decref(m);
    return n;
}

static void test_list_metadata(void **state)
{
    fixture *f = *state;
    id_t_ id;

    make(f->c, "a", NULL, NULL,
         "{\"tempo\": 120, \"gain\": 0.5, \"live\": true, \"note\": null, \"key\": "
         "{\"tonic\": \"A\", \"deep\": {\"n\": 3}}, \"name\": \"120\", \"a.b\": 1}",
         id);
    make(f->c, "a", NULL, NULL, "{\"tempo\": 90, \"gain\": 1, \"live\": false, \"name\": \"x\"}",
         id);
    assert_int_equal(list_md(f->c, "{\"tempo\": 120}"), 1);
    assert_int_equal(list_md(f->c, "{\"tempo\": 120.0}"), 1);
    assert_int_equal(list_md(f->c, "{\"tempo\": \"120\"}"), 0);
    assert_int_equal(list_md(f->c, "{\"name\": \"120\"}"), 1);
    assert_int_equal(list_md(f->c, "{\"name\": 120}"), 0);
    assert_int_equal(list_md(f->c, "{\"gain\": 0.5}"), 1);
    assert_int_equal(list_md(f->c, "{\"gain\": 1}"), 1);
    assert_int_equal(list_md(f->c, "{\"live\": true}"), 1);
    assert_int_equal(list_md(f->c, "{\"live\": false}"), 1);
    assert_int_equal(list_md(f->c, "{\"note\": null}"), 1);
    assert_int_equal(list_md(f->c, "{\"key.tonic\": \"A\"}"), 1);
    assert_int_equal(list_md(f->c, "{\"key.deep.n\": 3}"), 1);
    assert_int_equal(list_md(f->c, "{\"key.deep.n\": 3, \"tempo\": 90}"), 0);
    assert_int_equal(list_md(f->c, "{\"missing\": null}"), 0);
    assert_int_equal(list_md(f->c, "{\"key\": \"A\"}"), 0);
}

static void test_list_created_range(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource a, b;
    id_t_ id;
    disco_resource_filter flt = {0};

    make(f->c, "a", NULL, NULL, NULL, id);
    assert_int_equal(disco_catalog_get(f->c, id, 0, &a, &st), DISCO_OK);
    sleep_ms(5);
    make(f->c, "a", NULL, NULL, NULL, id);
    assert_int_equal(disco_catalog_get(f->c, id, 0, &b, &st), DISCO_OK);
    assert_true(b.created_ms > a.created_ms);
    flt.created_from_ms = a.created_ms;
    assert_int_equal(list_count(f->c, &flt), 2);
    flt.created_from_ms = b.created_ms;
    assert_int_equal(list_count(f->c, &flt), 1);
    flt.created_from_ms = 0;
    flt.created_to_ms = b.created_ms;
    assert_int_equal(list_count(f->c, &flt), 1);
    flt.created_from_ms = b.created_ms + 1;
    flt.created_to_ms = 0;
    assert_int_equal(list_count(f->c, &flt), 0);
    flt.created_from_ms = b.created_ms;
    flt.created_to_ms = a.created_ms;
    assert_int_equal(disco_catalog_list(f->c, &flt, &(disco_resource_list){0}, &st),
                     DISCO_ERR_INVAL);
    assert_msg(&st, "created");
    disco_resource_release(&a);
    disco_resource_release(&b);
}

static void test_list_visible_to(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    const char *acls[] = {
        "{\"owner\": \"alice\"}",
        "{\"owner\": \"alice\", \"readers\": [\"bob\"]}",
        "{\"owner\": \"alice\", \"writers\": [\"carol\"]}",
        "{\"owner\": \"dave\", \"public\": true}",
        "{\"owner\": \"bob\"}",
    };
    disco_resource_filter flt = {0};

    for (size_t i = 0; i < 5; i++)
        assert_int_equal(try_create(f->c, "a", NULL, NULL, NULL, acls[i], &st), DISCO_OK);
    flt.visible_to = "alice";
    assert_int_equal(list_count(f->c, &flt), 4);
    flt.visible_to = "bob";
    assert_int_equal(list_count(f->c, &flt), 3);
    flt.visible_to = "carol";
    assert_int_equal(list_count(f->c, &flt), 2);
    flt.visible_to = "eve";
    assert_int_equal(list_count(f->c, &flt), 1);
    flt.visible_to = NULL;
    assert_int_equal(list_count(f->c, &flt), 5);
}

static void test_list_paging(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_list l;
    disco_resource_filter flt = {.limit = 10};
    id_t_ ids[25], after = "";
    size_t seen = 0;

    for (int i = 0; i < 25; i++)
        make(f->c, "p", NULL, NULL, NULL, ids[i]);
    for (int page = 0; page < 3; page++) {
        flt.after = after[0] ? after : NULL;
        assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_OK);
        assert_int_equal(l.count, page < 2 ? 10 : 5);
        for (size_t i = 0; i < l.count; i++)
            assert_string_equal(l.items[i].id, ids[seen++]);
        if (page < 2)
            assert_string_equal(l.next, l.items[9].id);
        else
            assert_string_equal(l.next, "");
        strcpy(after, l.next);
        disco_resource_list_release(&l);
    }
    assert_int_equal(seen, 25);
    flt.after = NULL;
    flt.limit = 25;
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 25);
    assert_string_equal(l.next, "");
    disco_resource_list_release(&l);
    flt.limit = 0; /* default 100 */
    assert_int_equal(list_count(f->c, &flt), 25);
    flt.limit = DISCO_LIST_LIMIT_MAX;
    assert_int_equal(list_count(f->c, &flt), 25);
}

/* ---- lineage ----------------------------------------------------------------- */

typedef struct diamond {
    id_t_ a, b, c, d, e;
} diamond;

/* a <- b, a <- c, (b, c) <- d, d <- e */
static void make_diamond(disco_catalog *c, diamond *g)
{
    make(c, "prompt", NULL, NULL, NULL, g->a);
    make(c, "midi", ids_json(g->a, NULL, NULL), NULL, NULL, g->b);
    make(c, "midi", ids_json(g->a, NULL, NULL), NULL, NULL, g->c);
    make(c, "mix", ids_json(g->b, g->c, NULL), NULL, NULL, g->d);
    make(c, "master", ids_json(g->d, NULL, NULL), NULL, NULL, g->e);
}

static const json_t *find_node(const json_t *graph, const char *id)
{
    size_t i;
    json_t *n;

    json_array_foreach (json_object_get(graph, "nodes"), i, n) {
        if (!strcmp(json_string_value(json_object_get(n, "resource_id")), id))
            return n;
    }
    return NULL;
}

static void assert_node(const json_t *graph, const char *id, const char *relation, int depth)
{
    const json_t *n = find_node(graph, id);

    if (!n)
        fail_msg("node %s missing", id);
    assert_string_equal(json_string_value(json_object_get(n, "relation")), relation);
    assert_int_equal(json_integer_value(json_object_get(n, "depth")), depth);
}

static json_t *lineage(disco_catalog *c, const char *id, disco_lineage_dir dir, int depth,
                       size_t nodes, size_t edges)
{
    disco_status st = {0};
    json_t *g = NULL;

    if (disco_catalog_lineage(c, id, dir, depth, &g, &st))
        fail_msg("lineage failed: %s", st.msg);
    assert_string_equal(json_string_value(json_object_get(g, "root")), id);
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), nodes);
    assert_int_equal(json_array_size(json_object_get(g, "edges")), edges);
    return g;
}

static void test_lineage_diamond(void **state)
{
    fixture *f = *state;
    diamond d;
    json_t *g;

    make_diamond(f->c, &d);
    g = lineage(f->c, d.d, DISCO_LINEAGE_ANCESTORS, 1, 3, 2);
    assert_node(g, d.d, "self", 0);
    assert_node(g, d.b, "ancestor", 1);
    assert_node(g, d.c, "ancestor", 1);
    json_decref(g);
    g = lineage(f->c, d.e, DISCO_LINEAGE_ANCESTORS, 50, 5, 5);
    assert_node(g, d.a, "ancestor", 3);
    assert_string_equal(json_string_value(json_object_get(find_node(g, d.a), "resource_type")),
                        "prompt");
    json_decref(g);
    g = lineage(f->c, d.a, DISCO_LINEAGE_DESCENDANTS, 1, 3, 2);
    assert_node(g, d.b, "descendant", 1);
    json_decref(g);
    g = lineage(f->c, d.a, DISCO_LINEAGE_DESCENDANTS, 3, 5, 5);
    assert_node(g, d.e, "descendant", 3);
    json_decref(g);
    g = lineage(f->c, d.b, DISCO_LINEAGE_BOTH, 10, 4, 3);
    assert_node(g, d.a, "ancestor", 1);
    assert_node(g, d.d, "descendant", 1);
    assert_node(g, d.e, "descendant", 2);
    assert_null(find_node(g, d.c));
    json_decref(g);
    g = lineage(f->c, d.e, DISCO_LINEAGE_DESCENDANTS, 5, 1, 0);
    json_decref(g);
}

/* Links that neither walk follows are still edges between graph nodes. */
static void test_lineage_shortcuts(void **state)
{
    fixture *f = *state;
    id_t_ a, b, c, r, d;
    json_t *g;

    make(f->c, "a", NULL, NULL, NULL, a);
    make(f->c, "a", ids_json(a, NULL, NULL), NULL, NULL, b);
    make(f->c, "a", ids_json(b, a, NULL), NULL, NULL, c);
    g = lineage(f->c, a, DISCO_LINEAGE_DESCENDANTS, 1, 3, 3);
    assert_node(g, c, "descendant", 1);
    json_decref(g);
    g = lineage(f->c, c, DISCO_LINEAGE_ANCESTORS, 1, 3, 3);
    assert_node(g, a, "ancestor", 1);
    json_decref(g);
    /* r's parent a is also a parent of r's child d. */
    make(f->c, "a", NULL, NULL, NULL, a);
    make(f->c, "a", ids_json(a, NULL, NULL), NULL, NULL, r);
    make(f->c, "a", ids_json(r, a, NULL), NULL, NULL, d);
    g = lineage(f->c, r, DISCO_LINEAGE_BOTH, 5, 3, 3);
    assert_node(g, a, "ancestor", 1);
    assert_node(g, d, "descendant", 1);
    json_decref(g);
}

static void test_lineage_errors(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    json_t *g = NULL;
    diamond d;

    make_diamond(f->c, &d);
    assert_int_equal(disco_catalog_lineage(f->c, UNKNOWN_ID, DISCO_LINEAGE_BOTH, 5, &g, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg(&st, UNKNOWN_ID);
    assert_int_equal(disco_catalog_lineage(f->c, d.a, DISCO_LINEAGE_BOTH, 0, &g, &st),
                     DISCO_ERR_INVAL);
    assert_msg(&st, "max_depth");
    assert_int_equal(disco_catalog_lineage(f->c, d.a, DISCO_LINEAGE_BOTH, 1001, &g, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_lineage(f->c, d.a, (disco_lineage_dir)7, 3, &g, &st),
                     DISCO_ERR_INVAL);
    assert_msg(&st, "direction");
    /* A deleted node stays in the graph, marked. */
    assert_int_equal(disco_catalog_delete(f->c, d.b, NULL, &st), DISCO_OK);
    g = lineage(f->c, d.e, DISCO_LINEAGE_ANCESTORS, 50, 5, 5);
    assert_true(json_is_true(json_object_get(find_node(g, d.b), "deleted")));
    json_decref(g);
}

/* ---- objects, stats, batches ----------------------------------------------- */

static int collect_hash(void *user, const char *hash)
{
    json_t *set = user;

    json_object_set_new(set, hash, json_true());
    return 0;
}

static int stop_at_first(void *user, const char *hash)
{
    (void)hash;
    ++*(int *)user;
    return 7;
}

static void assert_objects(disco_catalog *c, const char *want)
{
    disco_status st = {0};
    json_t *set = json_object();

    assert_int_equal(disco_catalog_foreach_object(c, collect_hash, set, &st), DISCO_OK);
    assert_json(set, want);
    json_decref(set);
}

static void test_foreach_object(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r1, r2;
    disco_resource_spec s1 = {.type = "a", .object = HASH_A, .owner = "o"};
    disco_resource_spec s2 = {.type = "a", .object = HASH_C, .owner = "o"};
    disco_resource_spec s3 = {.type = "a", .object = HASH_A, .owner = "o"};
    disco_resource_patch to_b = {.object = HASH_B};
    int calls = 0;

    assert_int_equal(disco_catalog_create(f->c, &s1, &r1, &st), DISCO_OK);
    assert_int_equal(disco_catalog_update(f->c, r1.id, &to_b, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_create(f->c, &s2, &r2, &st), DISCO_OK);
    assert_objects(f->c, "{\"" HASH_A "\": true, \"" HASH_B "\": true, \"" HASH_C "\": true}");
    assert_int_equal(disco_catalog_delete(f->c, r1.id, NULL, &st), DISCO_OK);
    assert_objects(f->c, "{\"" HASH_C "\": true}");
    assert_int_equal(disco_catalog_create(f->c, &s3, NULL, &st), DISCO_OK);
    assert_objects(f->c, "{\"" HASH_A "\": true, \"" HASH_C "\": true}");
    assert_int_equal(disco_catalog_foreach_object(f->c, stop_at_first, &calls, &st), 7);
    assert_int_equal(calls, 1);
    disco_resource_release(&r1);
    disco_resource_release(&r2);
}

static int reenter(void *user, const char *hash)
{
    disco_catalog *c = user;
    disco_status st = {0};
    json_t *stats = NULL;

    (void)hash;
    assert_int_equal(disco_catalog_stats(c, &stats, &st), DISCO_ERR_BUSY);
    return 0;
}

static void test_foreach_reentry(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_spec s1 = {.type = "a", .object = HASH_A, .owner = "o"};

    assert_int_equal(disco_catalog_create(f->c, &s1, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_foreach_object(f->c, reenter, f->c, &st), DISCO_OK);
}

static void test_stats(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_patch patch = {0};
    json_t *stats;
    id_t_ a, b, c;

    assert_int_equal(disco_catalog_stats(f->c, &stats, &st), DISCO_OK);
    assert_json(stats, "{\"resources\": 0, \"versions\": 0, \"deleted\": 0, \"by_type\": {}}");
    json_decref(stats);
    make(f->c, "audio", NULL, NULL, NULL, a);
    make(f->c, "audio", NULL, NULL, NULL, b);
    make(f->c, "midi", NULL, NULL, NULL, c);
    assert_int_equal(disco_catalog_update(f->c, a, &patch, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_delete(f->c, c, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_stats(f->c, &stats, &st), DISCO_OK);
    assert_json(stats,
                "{\"resources\": 2, \"versions\": 5, \"deleted\": 1, \"by_type\": {\"audio\": 2}}");
    json_decref(stats);
}

static void test_batch(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    id_t_ id, kept;

    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "nest");
    for (int i = 0; i < 3; i++)
        make(f->c, "a", NULL, NULL, NULL, id);
    assert_int_equal(list_count(f->c, NULL), 3);
    assert_int_equal(disco_catalog_rollback(f->c, &st), DISCO_OK);
    assert_int_equal(list_count(f->c, NULL), 0);
    assert_int_equal(disco_catalog_get(f->c, id, 0, &(disco_resource){0}, &st), DISCO_ERR_NOTFOUND);

    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    make(f->c, "a", NULL, NULL, NULL, kept);
    /* A failed write inside a batch is undone alone. */
    assert_int_equal(try_create(f->c, "a", ids_json(UNKNOWN_ID, NULL, NULL), NULL, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    make(f->c, "a", ids_json(kept, NULL, NULL), NULL, NULL, id);
    assert_int_equal(disco_catalog_commit(f->c, &st), DISCO_OK);
    assert_int_equal(list_count(f->c, NULL), 2);
    assert_int_equal(disco_catalog_commit(f->c, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_rollback(f->c, &st), DISCO_ERR_INVAL);
}

/* ---- bad input --------------------------------------------------------------- */

static void test_bad_ids(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    id_t_ id;
    json_t *g;

    assert_int_equal(disco_catalog_get(f->c, "nope", 0, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "id");
    assert_msg(&st, "nope");
    assert_int_equal(disco_catalog_get(f->c, UNKNOWN_ID, 0, &r, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "no such resource");
    assert_int_equal(disco_catalog_delete(f->c, UNKNOWN_ID, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_update(f->c, UNKNOWN_ID, &(disco_resource_patch){0}, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg(&st, UNKNOWN_ID);
    make(f->c, "a", NULL, NULL, NULL, id);
    assert_int_equal(disco_catalog_get(f->c, id, -1, &r, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "version");
    assert_int_equal(disco_catalog_get(f->c, id, 9, &r, &st), DISCO_ERR_NOTFOUND);
    assert_msg(&st, "no version 9");
    assert_int_equal(disco_catalog_lineage(f->c, "bad id", DISCO_LINEAGE_BOTH, 3, &g, &st),
                     DISCO_ERR_INVAL);
}

static void test_spec_id(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    disco_resource_spec spec = {.type = "a", .owner = "o", .id = UNKNOWN_ID};

    assert_int_equal(disco_catalog_create(f->c, &spec, &r, &st), DISCO_OK);
    assert_string_equal(r.id, UNKNOWN_ID);
    disco_resource_release(&r);
    assert_int_equal(disco_catalog_create(f->c, &spec, NULL, &st), DISCO_ERR_EXISTS);
    assert_msg(&st, UNKNOWN_ID);
    spec.id = "short";
    assert_int_equal(disco_catalog_create(f->c, &spec, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "id");
}

static void test_bad_parents(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_spec spec = {.type = "a", .owner = "o", .id = "01BX5ZZKBKACTAV9WEVGEMMVRZ"};
    json_t *self = J("[\"01BX5ZZKBKACTAV9WEVGEMMVRZ\"]");
    id_t_ a;

    assert_int_equal(try_create(f->c, "a", ids_json(UNKNOWN_ID, NULL, NULL), NULL, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg(&st, "parent " UNKNOWN_ID);
    assert_int_equal(try_create(f->c, "a", "[\"xyz\"]", NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "parents[0]");
    assert_int_equal(try_create(f->c, "a", "[1]", NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "parents");
    assert_int_equal(try_create(f->c, "a", "{}", NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "parents");
    spec.parents = self;
    assert_int_equal(disco_catalog_create(f->c, &spec, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "own parent");
    make(f->c, "a", NULL, NULL, NULL, a);
    json_t *own = J(ids_json(a, NULL, NULL));
    disco_resource_patch patch = {.add_parents = own};
    assert_int_equal(disco_catalog_update(f->c, a, &patch, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "own parent");
    assert_int_equal(list_count(f->c, NULL), 1);
    json_decref(own);
    json_decref(self);
}

static void test_cycle(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    diamond d;
    json_t *p;

    make_diamond(f->c, &d);
    p = J(ids_json(d.e, NULL, NULL));
    disco_resource_patch patch = {.add_parents = p};
    assert_int_equal(disco_catalog_update(f->c, d.b, &patch, NULL, &st), DISCO_ERR_CONFLICT);
    assert_string_equal(st.field, "parents");
    assert_msg(&st, d.e);
    assert_msg(&st, d.b);
    assert_msg(&st, "descendant");
    disco_resource_patch replace = {.parents = p};
    assert_int_equal(disco_catalog_update(f->c, d.a, &replace, NULL, &st), DISCO_ERR_CONFLICT);
    assert_int_equal(disco_catalog_get(f->c, d.a, 0, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 1);
    assert_json(r.parents, "[]");
    disco_resource_release(&r);
    json_decref(p);
    /* Linking to a sibling is fine. */
    p = J(ids_json(d.c, NULL, NULL));
    patch.add_parents = p;
    assert_int_equal(disco_catalog_update(f->c, d.b, &patch, NULL, &st), DISCO_OK);
    json_decref(p);
}

static void test_bad_type(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    const char *bad[] = {"", "Audio", "1x", "a b", "a$", "abcdefghijklmnopqrstuvwxyzabcdefg"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(try_create(f->c, bad[i], NULL, NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
        assert_string_equal(st.field, "type");
        assert_msg(&st, "type");
    }
    assert_int_equal(try_create(f->c, NULL, NULL, NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "type");
    assert_int_equal(disco_catalog_check_type("audio.stem_2-x", &st), DISCO_OK);
    assert_int_equal(disco_catalog_check_type("abcdefghijklmnopqrstuvwxyzabcdef", &st), DISCO_OK);
}

static void test_bad_tags(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    char big[DISCO_TAG_VALUE_MAX + 32];
    json_t *many = json_object(), *long_value;

    assert_int_equal(try_create(f->c, "a", NULL, "{\"a b\": \"x\"}", NULL, NULL, &st),
                     DISCO_ERR_INVAL);
    assert_msg(&st, "tag key 'a b'");
    assert_int_equal(try_create(f->c, "a", NULL, "{\"k\": 1}", NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "tag 'k'");
    assert_int_equal(try_create(f->c, "a", NULL, "[\"k\"]", NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tags");
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    long_value = json_pack("{s:s}", "k", big);
    assert_int_equal(disco_catalog_check_tags(long_value, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "tag 'k'");
    for (int i = 0; i <= DISCO_TAGS_MAX; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        json_object_set_new(many, key, json_string("v"));
    }
    assert_int_equal(disco_catalog_check_tags(many, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "tags");
    assert_int_equal(disco_catalog_check_tags(NULL, &st), DISCO_OK);
    json_decref(many);
    json_decref(long_value);
    /* A non-string tag in an update. */
    id_t_ id;
    json_t *t = J("{\"ok\": true}");
    make(f->c, "a", NULL, NULL, NULL, id);
    disco_resource_patch patch = {.tags = t};
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "tag 'ok'");
    json_decref(t);
}

static json_t *nested(int depth)
{
    json_t *v = json_object();

    for (int i = 1; i < depth; i++)
        v = json_pack("{s:o}", "x", v);
    return v;
}

static void test_bad_metadata(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    json_t *deep = nested(40), *ok = nested(10), *big, *half;
    char *text = malloc(DISCO_METADATA_MAX / 2 + 16);
    id_t_ id;

    assert_int_equal(try_create(f->c, "a", NULL, NULL, "[1, 2]", NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "metadata");
    assert_int_equal(disco_catalog_check_metadata(deep, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "metadata");
    assert_msg(&st, "deep");
    assert_int_equal(disco_catalog_check_metadata(ok, &st), DISCO_OK);
    memset(text, 'z', DISCO_METADATA_MAX / 2 + 15);
    text[DISCO_METADATA_MAX / 2 + 15] = '\0';
    half = json_pack("{s:s}", "a", text);
    big = json_pack("{s:s, s:s}", "a", text, "b", text);
    assert_int_equal(disco_catalog_check_metadata(big, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "bytes");
    /* A merge patch that makes the metadata too big is refused whole. */
    make(f->c, "a", NULL, NULL, NULL, id);
    disco_resource_patch patch = {.metadata = half};
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_OK);
    json_object_set_new(half, "a", json_null());
    json_object_set_new(half, "b", json_string(text));
    json_object_set_new(half, "c", json_string(text));
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "metadata");
    json_t *notobj = J("[1]");
    patch.metadata = notobj;
    assert_int_equal(disco_catalog_update(f->c, id, &patch, NULL, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "metadata");
    json_decref(notobj);
    free(text);
    json_decref(deep);
    json_decref(ok);
    json_decref(big);
    json_decref(half);
}

static void test_bad_acl(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    const char *bad[] = {
        "[]",
        "{\"owner\": \"\"}",
        "{\"owner\": 3}",
        "{\"readers\": \"bob\"}",
        "{\"readers\": [1]}",
        "{\"writers\": [\"\"]}",
        "{\"public\": \"yes\"}",
        "{\"admins\": []}",
    };
    disco_resource_spec spec = {.type = "a"};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(try_create(f->c, "a", NULL, NULL, NULL, bad[i], &st), DISCO_ERR_INVAL);
        assert_string_equal(st.field, "acl");
        assert_msg(&st, "acl");
    }
    assert_int_equal(disco_catalog_create(f->c, &spec, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "owner");
    assert_int_equal(disco_catalog_check_acl(NULL, &st), DISCO_OK);
}

static void test_bad_object_and_filter(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_list l;
    disco_resource_spec spec = {.type = "a", .owner = "o", .object = "abc"};
    disco_resource_filter flt = {.limit = -1};
    json_t *md;

    assert_int_equal(disco_catalog_create(f->c, &spec, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "object");
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "limit -1");
    flt.limit = DISCO_LIST_LIMIT_MAX + 1;
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "limit");
    flt.limit = 0;
    flt.after = "zz";
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "after");
    flt.after = NULL;
    flt.type = "Bad Type";
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "type");
    flt.type = NULL;
    md = J("{\"a..b\": 1}");
    flt.metadata = md;
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "a..b");
    json_decref(md);
    md = J("{\"a\": {\"b\": 1}}");
    flt.metadata = md;
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    assert_msg(&st, "metadata filter 'a'");
    json_decref(md);
    md = J("{\"a\\\"b\": 1}");
    flt.metadata = md;
    assert_int_equal(disco_catalog_list(f->c, &flt, &l, &st), DISCO_ERR_INVAL);
    json_decref(md);
}

/* ---- opening ----------------------------------------------------------------- */

static void test_reopen(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource r;
    disco_resource_list l;
    disco_resource_patch patch = {0};
    diamond d;
    json_t *g, *t = J("{\"genre\": \"dub\"}");

    make_diamond(f->c, &d);
    patch.tags = t;
    assert_int_equal(disco_catalog_update(f->c, d.d, &patch, NULL, &st), DISCO_OK);
    assert_int_equal(disco_catalog_delete(f->c, d.e, NULL, &st), DISCO_OK);
    disco_catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(disco_catalog_open(f->path, &f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_get(f->c, d.d, 0, &r, &st), DISCO_OK);
    assert_int_equal(r.version, 2);
    assert_json(r.tags, "{\"genre\": \"dub\"}");
    disco_resource_release(&r);
    assert_int_equal(disco_catalog_get(f->c, d.e, 0, &r, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_history(f->c, d.e, &l, &st), DISCO_OK);
    assert_int_equal(l.count, 2);
    disco_resource_list_release(&l);
    g = lineage(f->c, d.a, DISCO_LINEAGE_DESCENDANTS, 10, 5, 5);
    json_decref(g);
    disco_resource_filter flt = {.tags = t};
    assert_int_equal(list_count(f->c, &flt), 1);
    json_decref(t);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_catalog *c = (disco_catalog *)1;
    char *junk = tu_path(f->dir, "junk.db");
    char *foreign = tu_path(f->dir, "foreign.db");
    char text[4096];
    sqlite3 *db;

    memset(text, 'j', sizeof text);
    assert_int_equal(tu_write_file(junk, text, sizeof text), 0);
    assert_int_equal(disco_catalog_open(junk, &c, &st), DISCO_ERR_CORRUPT);
    assert_null(c);
    assert_msg(&st, junk);
    assert_int_equal(disco_catalog_open("postgres://u:secret@h/db", &c, &st),
                     DISCO_ERR_UNSUPPORTED);
    assert_null(strstr(st.msg, "secret"));
    assert_int_equal(disco_catalog_open("postgresql://h/db", &c, &st), DISCO_ERR_UNSUPPORTED);
    assert_int_equal(disco_catalog_open("", &c, &st), DISCO_ERR_INVAL);

    assert_int_equal(sqlite3_open(foreign, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE songs (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(disco_catalog_open(foreign, &c, &st), DISCO_ERR_CORRUPT);
    assert_msg(&st, foreign);
    free(junk);
    free(foreign);
}

/* Two handles on one file: each sees the other's committed writes only. */
static void test_two_handles(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_catalog *other = NULL;
    disco_resource r;
    id_t_ a, b;

    assert_int_equal(disco_catalog_open(f->path, &other, &st), DISCO_OK);
    make(f->c, "a", NULL, NULL, NULL, a);
    assert_int_equal(disco_catalog_get(other, a, 0, &r, &st), DISCO_OK);
    disco_resource_release(&r);
    assert_int_equal(disco_catalog_begin(f->c, &st), DISCO_OK);
    make(f->c, "a", NULL, NULL, NULL, b);
    assert_int_equal(disco_catalog_get(other, b, 0, &r, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_catalog_commit(f->c, &st), DISCO_OK);
    assert_int_equal(disco_catalog_get(other, b, 0, &r, &st), DISCO_OK);
    disco_resource_release(&r);
    assert_int_equal(list_count(other, NULL), 2);
    disco_catalog_close(other);
}

static void test_newer_schema(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_catalog *c = NULL;
    sqlite3 *db;

    disco_catalog_close(f->c);
    f->c = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(disco_catalog_open(f->path, &c, &st), DISCO_ERR_UNSUPPORTED);
    assert_msg(&st, "99");
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, tu_catalog_teardown)
        T(test_create_get),
        T(test_to_json),
        T(test_update_versions),
        T(test_update_parents),
        T(test_update_acl),
        T(test_expected_version),
        T(test_history),
        T(test_delete_tombstone),
        T(test_list_type_tags),
        T(test_list_metadata),
        T(test_list_created_range),
        T(test_list_visible_to),
        T(test_list_paging),
        T(test_lineage_diamond),
        T(test_lineage_shortcuts),
        T(test_lineage_errors),
        T(test_foreach_object),
        T(test_foreach_reentry),
        T(test_stats),
        T(test_batch),
        T(test_bad_ids),
        T(test_spec_id),
        T(test_bad_parents),
        T(test_cycle),
        T(test_bad_type),
        T(test_bad_tags),
        T(test_bad_metadata),
        T(test_bad_acl),
        T(test_bad_object_and_filter),
        T(test_reopen),
        T(test_open_errors),
        T(test_two_handles),
        T(test_newer_schema),
#undef T
    };

    return cmocka_run_group_tests_name("store/catalog", tests, NULL, NULL);
}
