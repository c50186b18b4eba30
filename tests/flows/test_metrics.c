/*
 * test_metrics.c - metric resources kept in step with the time-series store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "disco/metrics.h"
#include "disco/tsquery.h"
#include "support/testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    disco_catalog *cat;
    disco_tsdb *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char *cat_path, *ts_path;

    f->dir = tu_tmpdir("metrics");
    cat_path = tu_path(f->dir, "catalog.db");
    ts_path = tu_path(f->dir, "tsdb");
    assert_int_equal(disco_catalog_open(cat_path, &f->cat, NULL), DISCO_OK);
    assert_int_equal(disco_tsdb_open(ts_path, NULL, &f->db, NULL), DISCO_OK);
    free(cat_path);
    free(ts_path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_tsdb_close(f->db);
    disco_catalog_close(f->cat);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void test_create_and_find(void **state)
{
    fixture *f = *state;
    json_t *rules = json_pack("{s:s}", "1m", "avg");
    disco_metric_spec spec = {.name = "loss",
                              .description = "training loss",
                              .unit = "nats",
                              .precision = "decimal:2",
                              .aggregation_rules = rules,
                              .owner = "alice"};
    disco_resource r, found;
    disco_status st = {0};

    disco_resource_init(&r);
    disco_resource_init(&found);
    assert_int_equal(disco_metric_create(f->cat, f->db, &spec, &r, &st), DISCO_OK);
    assert_string_equal(r.type, "metric");
    assert_string_equal(json_string_value(json_object_get(r.tags, "metric")), "loss");
    assert_string_equal(json_string_value(json_object_get(r.metadata, "precision")), "decimal:2");
    assert_string_equal(json_string_value(json_object_get(r.metadata, "unit")), "nats");
    assert_true(json_equal(json_object_get(r.metadata, "aggregation_rules"), rules));
    assert_int_equal(disco_metric_find(f->cat, "loss", &found, &st), DISCO_OK);
    assert_string_equal(found.id, r.id);
    assert_int_equal(disco_metric_create(f->cat, f->db, &spec, NULL, &st), DISCO_ERR_EXISTS);
    assert_non_null(strstr(st.msg, r.id));
    assert_int_equal(disco_metric_find(f->cat, "nope", NULL, &st), DISCO_ERR_NOTFOUND);
    disco_resource_release(&r);
    disco_resource_release(&found);
    json_decref(rules);
}

static void test_bad_specs_change_nothing(void **state)
{
    fixture *f = *state;
    disco_metric_spec bad_name = {.name = "bad name", .owner = "alice"};
    disco_metric_spec bad_prec = {.name = "acc", .precision = "decimal:42", .owner = "alice"};
    disco_resource_list l = {0};
    disco_resource_filter all = {.type = "metric"};
    disco_status st = {0};

    assert_int_equal(disco_metric_create(f->cat, f->db, &bad_name, NULL, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "bad name"));
    assert_int_equal(disco_metric_create(f->cat, f->db, &bad_prec, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_catalog_list(f->cat, &all, &l, NULL), DISCO_OK);
    assert_int_equal(l.count, 0);
    disco_resource_list_release(&l);
}

static void test_precision_applies_to_writes(void **state)
{
    fixture *f = *state;
    disco_metric_spec spec = {.name = "temp", .precision = "decimal:1", .owner = "alice"};
    disco_ts_batch b;
    uint32_t idx;
    json_t *res = NULL, *q = NULL;
    disco_ts_query query = {.sel = {.metric = "temp", .from = INT64_MIN, .to = INT64_MAX}};

    assert_int_equal(disco_metric_create(f->cat, f->db, &spec, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    assert_int_equal(disco_ts_batch_series(&b, "temp", NULL, &idx, NULL), DISCO_OK);
    assert_int_equal(disco_ts_batch_add(&b, idx, 1000, 21.4567), DISCO_OK);
    assert_int_equal(disco_metric_write(f->cat, f->db, &b, "alice", &res, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(res, "registered")), 0);
    assert_int_equal(disco_tsdb_query(f->db, &query, &q, NULL), DISCO_OK);
    json_t *pt = json_array_get(
        json_object_get(json_array_get(json_object_get(q, "series"), 0), "points"), 0);
    assert_true(json_real_value(json_array_get(pt, 1)) == 21.5);
    json_decref(res);
    json_decref(q);
    disco_ts_batch_release(&b);
}

static void test_write_registers_new_metrics(void **state)
{
    fixture *f = *state;
    disco_ts_batch b;
    uint32_t a, c;
    json_t *res = NULL, *tags = json_pack("{s:s}", "host", "x");
    disco_resource r;

    assert_int_equal(disco_ts_batch_init(&b), DISCO_OK);
    assert_int_equal(disco_ts_batch_series(&b, "cpu", tags, &a, NULL), DISCO_OK);
    assert_int_equal(disco_ts_batch_series(&b, "mem", NULL, &c, NULL), DISCO_OK);
    assert_int_equal(disco_ts_batch_add(&b, a, 1, 0.5), DISCO_OK);
    assert_int_equal(disco_ts_batch_add(&b, c, 1, 2.0), DISCO_OK);
    assert_int_equal(disco_ts_batch_add(&b, a, 2, 0.7), DISCO_OK);
    assert_int_equal(disco_metric_write(f->cat, f->db, &b, "bob", &res, NULL), DISCO_OK);
    assert_int_equal(json_integer_value(json_object_get(res, "written")), 3);
    assert_int_equal(json_array_size(json_object_get(res, "registered")), 2);
    json_decref(res);
    /* A second write registers nothing new. */
    assert_int_equal(disco_metric_write(f->cat, f->db, &b, "bob", &res, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(res, "registered")), 0);
    disco_resource_init(&r);
    assert_int_equal(disco_metric_find(f->cat, "cpu", &r, NULL), DISCO_OK);
    assert_string_equal(json_string_value(json_object_get(r.acl, "owner")), "bob");
    assert_string_equal(json_string_value(json_object_get(r.metadata, "precision")), "float64");
    disco_resource_release(&r);
    json_decref(res);
    json_decref(tags);
    disco_ts_batch_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_specs_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precision_applies_to_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_registers_new_metrics, setup, teardown),
    };
    return cmocka_run_group_tests_name("flows/metrics", tests, NULL, NULL);
}
