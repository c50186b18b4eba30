/*
 * test_artefact.c - payload + resource in one step, and garbage collection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/artefact.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    disco_catalog *cat;
    disco_objects *objs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char *db, *od;

    f->dir = tu_tmpdir("artefact");
    db = tu_path(f->dir, "catalog.db");
    od = tu_path(f->dir, "objects");
    assert_int_equal(disco_catalog_open(db, &f->cat, NULL), DISCO_OK);
    assert_int_equal(disco_objects_open(od, &f->objs, NULL), DISCO_OK);
    free(db);
    free(od);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_catalog_close(f->cat);
    disco_objects_close(f->objs);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void make_file(fixture *f, const char *name, const char *text, char **path)
{
    *path = tu_path(f->dir, name);
    assert_int_equal(tu_write_file(*path, text, strlen(text)), 0);
}

static int count_objects(void *user, const disco_object_info *info)
{
    (void)info;
    (*(size_t *)user)++;
    return 0;
}

static void test_create_stores_payload(void **state)
{
    fixture *f = *state;
    disco_resource r;
    disco_object_info info;
    disco_resource_spec spec = {.type = "audio", .owner = "alice"};
    char *path;
    disco_payload pl = {.fd = -1};

    make_file(f, "a.txt", "abc", &path);
    pl.path = path;
    disco_resource_init(&r);
    assert_int_equal(disco_artefact_create(f->cat, f->objs, &spec, &pl, NULL, &r, NULL), DISCO_OK);
    assert_string_equal(r.object,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(disco_objects_stat(f->objs, r.object, &info, NULL), DISCO_OK);
    assert_int_equal(info.size, 3);
    disco_resource_release(&r);
    free(path);
}

static void test_bad_input_stores_nothing(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_spec spec = {.type = "Bad Type", .owner = "alice"};
    disco_payload pl = {.fd = -1};
    char *path;
    size_t count = 0;

    make_file(f, "b.txt", "payload", &path);
    pl.path = path;
    assert_int_equal(disco_artefact_create(f->cat, f->objs, &spec, &pl, NULL, NULL, &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "type"));
    pl.path = "/nonexistent/file.wav";
    spec.type = "audio";
    assert_int_equal(disco_artefact_create(f->cat, f->objs, &spec, &pl, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "/nonexistent/file.wav"));
    assert_int_equal(disco_objects_foreach(f->objs, count_objects, &count, &st), DISCO_OK);
    assert_int_equal(count, 0);
    free(path);
}

static void test_update_and_gc(void **state)
{
    fixture *f = *state;
    disco_resource r1, r2;
    disco_resource_spec spec = {.type = "audio", .owner = "alice"};
    disco_resource_patch patch = {0};
    disco_payload pl = {.fd = -1};
    json_t *report;
    char *p1, *p2;
    size_t count = 0;

    make_file(f, "v1.txt", "version one", &p1);
    make_file(f, "v2.txt", "version two", &p2);
    disco_resource_init(&r1);
    disco_resource_init(&r2);
    pl.path = p1;
    assert_int_equal(disco_artefact_create(f->cat, f->objs, &spec, &pl, NULL, &r1, NULL), DISCO_OK);
    pl.path = p2;
    assert_int_equal(disco_artefact_update(f->cat, f->objs, r1.id, &patch, &pl, NULL, &r2, NULL),
                     DISCO_OK);
    assert_int_equal(r2.version, 2);
    assert_string_not_equal(r1.object, r2.object);

    /* Both versions' payloads are live; nothing to collect. */
    assert_int_equal(disco_artefact_gc(f->cat, f->objs, 1, 0, &report, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(report, "removed")), 0);
    json_decref(report);

    /* After delete both are collectable, but not within the grace period. */
    assert_int_equal(disco_catalog_delete(f->cat, r1.id, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_artefact_gc(f->cat, f->objs, 1, 3600 * 1000, &report, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(report, "removed")), 0);
    json_decref(report);
    assert_int_equal(disco_artefact_gc(f->cat, f->objs, 0, 0, &report, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(report, "unreferenced")), 2);
    assert_true(json_is_true(json_object_get(report, "dry_run")));
    json_decref(report);
    assert_int_equal(disco_objects_foreach(f->objs, count_objects, &count, NULL), DISCO_OK);
    assert_int_equal(count, 2);
    assert_int_equal(disco_artefact_gc(f->cat, f->objs, 1, 0, &report, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(report, "removed")), 2);
    json_decref(report);
    count = 0;
    assert_int_equal(disco_objects_foreach(f->objs, count_objects, &count, NULL), DISCO_OK);
    assert_int_equal(count, 0);
    disco_resource_release(&r1);
    disco_resource_release(&r2);
    free(p1);
    free(p2);
}

static void test_update_unknown_stores_nothing(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    disco_resource_patch patch = {0};
    disco_payload pl = {.fd = -1};
    char *path;
    size_t count = 0;

    make_file(f, "c.txt", "orphan?", &path);
    pl.path = path;
    assert_int_equal(disco_artefact_update(f->cat, f->objs, "01ARZ3NDEKTSV4RRFFQ69G5FAV", &patch,
                                           &pl, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_objects_foreach(f->objs, count_objects, &count, NULL), DISCO_OK);
    assert_int_equal(count, 0);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_stores_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_and_gc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update_unknown_stores_nothing, setup, teardown),
    };
    return cmocka_run_group_tests_name("flows/artefact", tests, NULL, NULL);
}
