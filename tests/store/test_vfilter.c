/*
 * test_vfilter.c - the vector filter language: every operator on every
 * type, lists, missing fields, nesting, errors with their paths, metadata
 * checks, terms, and a randomized comparison with a direct interpreter of
 * the filter JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/vfilter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *json(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    if (!v)
        fail_msg("bad test JSON '%s': %s", text, err.text);
    return v;
}

static disco_vfilter *compile_ok(const char *text)
{
    disco_status st = {0};
    disco_vfilter *f = NULL;

    if (disco_vfilter_parse(text, strlen(text), &f, &st) != DISCO_OK)
        fail_msg("filter '%s' did not compile: %s", text, st.msg);
    return f;
}

/* Whether filter `ftext` matches metadata `mtext` ("null" for NULL metadata). */
static int m(const char *ftext, const char *mtext)
{
    disco_vfilter *f = compile_ok(ftext);
    json_t *meta = strcmp(mtext, "null") ? json(mtext) : NULL;
    int r = disco_vfilter_match(f, meta);

    json_decref(meta);
    disco_vfilter_free(f);
    return r;
}

static void test_eq(void **state)
{
    (void)state;
    assert_true(m("{\"g\": \"jazz\"}", "{\"g\": \"jazz\"}"));
    assert_false(m("{\"g\": \"jazz\"}", "{\"g\": \"Jazz\"}"));
    assert_false(m("{\"g\": \"jazz\"}", "{\"g\": \"jazz \"}"));
    assert_true(m("{\"g\": {\"$eq\": \"\"}}", "{\"g\": \"\"}"));
    assert_true(m("{\"n\": 120}", "{\"n\": 120.0}"));
    assert_true(m("{\"n\": {\"$eq\": 0.5}}", "{\"n\": 0.5}"));
    assert_true(m("{\"n\": -0.0}", "{\"n\": 0}"));
    assert_false(m("{\"n\": 120}", "{\"n\": 121}"));
    assert_true(m("{\"b\": true}", "{\"b\": true}"));
    assert_false(m("{\"b\": true}", "{\"b\": false}"));
    assert_true(m("{\"b\": {\"$eq\": false}}", "{\"b\": false}"));
}

static void test_ne(void **state)
{
    (void)state;
    assert_false(m("{\"g\": {\"$ne\": \"jazz\"}}", "{\"g\": \"jazz\"}"));
    assert_true(m("{\"g\": {\"$ne\": \"jazz\"}}", "{\"g\": \"soul\"}"));
    assert_false(m("{\"n\": {\"$ne\": 1}}", "{\"n\": 1.0}"));
    assert_true(m("{\"n\": {\"$ne\": 1}}", "{\"n\": 2}"));
    assert_false(m("{\"b\": {\"$ne\": true}}", "{\"b\": true}"));
    assert_true(m("{\"b\": {\"$ne\": true}}", "{\"b\": false}"));
}

static void test_order_numbers(void **state)
{
    const char *meta = "{\"n\": 100}";

    (void)state;
    assert_true(m("{\"n\": {\"$gt\": 99.5}}", meta));
    assert_false(m("{\"n\": {\"$gt\": 100}}", meta));
    assert_true(m("{\"n\": {\"$gte\": 100}}", meta));
    assert_false(m("{\"n\": {\"$gte\": 100.001}}", meta));
    assert_true(m("{\"n\": {\"$lt\": 1e3}}", meta));
    assert_false(m("{\"n\": {\"$lt\": 100}}", meta));
    assert_true(m("{\"n\": {\"$lte\": 100.0}}", meta));
    assert_false(m("{\"n\": {\"$lte\": -5}}", meta));
    assert_true(m("{\"n\": {\"$gt\": -1e300}}", "{\"n\": -1e299}"));
}

static void test_order_strings(void **state)
{
    (void)state;
    assert_true(m("{\"s\": {\"$gt\": \"a\"}}", "{\"s\": \"b\"}"));
    assert_false(m("{\"s\": {\"$gt\": \"a\"}}", "{\"s\": \"B\"}")); /* bytewise: 'B' < 'a' */
    assert_true(m("{\"s\": {\"$gt\": \"ab\"}}", "{\"s\": \"abc\"}"));
    assert_false(m("{\"s\": {\"$lt\": \"ab\"}}", "{\"s\": \"abc\"}"));
    assert_true(m("{\"s\": {\"$gte\": \"abc\"}}", "{\"s\": \"abc\"}"));
    assert_true(m("{\"s\": {\"$lte\": \"abc\"}}", "{\"s\": \"abc\"}"));
    assert_true(m("{\"s\": {\"$lt\": \"\\u00e9\"}}", "{\"s\": \"z\"}")); /* UTF-8 after ASCII */
    assert_true(m("{\"s\": {\"$gt\": \"\"}}", "{\"s\": \"a\"}"));
    assert_false(m("{\"s\": {\"$lt\": \"\"}}", "{\"s\": \"\"}"));
    assert_true(m("{\"s\": {\"$gte\": \"a\", \"$lt\": \"b\"}}", "{\"s\": \"azz\"}"));
}

static void test_in_nin(void **state)
{
    const char *in = "{\"v\": {\"$in\": [\"jazz\", 1, true, \"soul\", 2.5]}}";
    const char *nin = "{\"v\": {\"$nin\": [\"jazz\", 1, true, \"soul\", 2.5]}}";

    (void)state;
    assert_true(m(in, "{\"v\": \"soul\"}"));
    assert_true(m(in, "{\"v\": 1.0}"));
    assert_true(m(in, "{\"v\": 2.5}"));
    assert_true(m(in, "{\"v\": true}"));
    assert_false(m(in, "{\"v\": false}"));
    assert_false(m(in, "{\"v\": \"funk\"}"));
    assert_false(m(in, "{\"v\": 2}"));
    assert_false(m(nin, "{\"v\": \"soul\"}"));
    assert_false(m(nin, "{\"v\": true}"));
    assert_true(m(nin, "{\"v\": false}"));
    assert_true(m(nin, "{\"v\": 3}"));
    assert_false(m("{\"v\": {\"$in\": []}}", "{\"v\": \"a\"}"));
    assert_true(m("{\"v\": {\"$nin\": []}}", "{\"v\": \"a\"}"));
    assert_true(m("{\"v\": {\"$in\": [false]}}", "{\"v\": false}"));
    assert_true(m("{\"v\": {\"$in\": [\"a\", \"a\", \"b\"]}}", "{\"v\": \"b\"}"));
}

static void test_in_large_set(void **state)
{
    json_t *expr = json_object(), *list = json_array(), *meta;
    disco_vfilter *f = NULL;
    char buf[32];

    (void)state;
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "v%d", i * 7);
        json_array_append_new(list, json_string(buf));
        json_array_append_new(list, json_integer(i * 3));
    }
    json_object_set_new(expr, "x", json_pack("{s:o}", "$in", list));
    assert_int_equal(disco_vfilter_compile(expr, &f, NULL), DISCO_OK);
    for (int i = 0; i < 7000; i++) {
        snprintf(buf, sizeof buf, "v%d", i);
        meta = json_pack("{s:s}", "x", buf);
        assert_int_equal(disco_vfilter_match(f, meta), i % 7 == 0);
        json_decref(meta);
        meta = json_pack("{s:i}", "x", i);
        assert_int_equal(disco_vfilter_match(f, meta), i % 3 == 0 && i < 3000);
        json_decref(meta);
    }
    disco_vfilter_free(f);
    json_decref(expr);
}

static void test_exists(void **state)
{
    (void)state;
    assert_true(m("{\"g\": {\"$exists\": true}}", "{\"g\": \"x\"}"));
    assert_true(m("{\"g\": {\"$exists\": true}}", "{\"g\": []}"));
    assert_true(m("{\"g\": {\"$exists\": true}}", "{\"g\": false}"));
    assert_false(m("{\"g\": {\"$exists\": true}}", "{\"h\": 1}"));
    assert_true(m("{\"g\": {\"$exists\": false}}", "{\"h\": 1}"));
    assert_false(m("{\"g\": {\"$exists\": false}}", "{\"g\": 0}"));
}

static void test_lists(void **state)
{
    const char *meta = "{\"tags\": [\"jazz\", \"live\", \"soul\"]}";

    (void)state;
    assert_true(m("{\"tags\": \"live\"}", meta));
    assert_false(m("{\"tags\": \"funk\"}", meta));
    assert_false(m("{\"tags\": {\"$ne\": \"live\"}}", meta));
    assert_true(m("{\"tags\": {\"$ne\": \"funk\"}}", meta));
    assert_true(m("{\"tags\": {\"$in\": [\"funk\", \"soul\"]}}", meta));
    assert_false(m("{\"tags\": {\"$in\": [\"funk\", \"rock\"]}}", meta));
    assert_false(m("{\"tags\": {\"$nin\": [\"funk\", \"soul\"]}}", meta));
    assert_true(m("{\"tags\": {\"$nin\": [\"funk\", \"rock\"]}}", meta));
    assert_true(m("{\"tags\": {\"$gt\": \"r\"}}", meta));
    assert_false(m("{\"tags\": {\"$gt\": \"z\"}}", meta));
    assert_true(m("{\"tags\": {\"$lt\": \"k\"}}", meta));
    /* each operator may be met by a different element */
    assert_true(m("{\"tags\": {\"$gt\": \"r\", \"$lt\": \"k\"}}", meta));
    assert_false(m("{\"tags\": {\"$gt\": 1}}", meta));
    assert_false(m("{\"tags\": \"x\"}", "{\"tags\": []}"));
    assert_true(m("{\"tags\": {\"$ne\": \"x\"}}", "{\"tags\": []}"));
    assert_true(m("{\"tags\": {\"$nin\": [\"x\"]}}", "{\"tags\": []}"));
}

static void test_missing(void **state)
{
    const char *ops[] = {"{\"$eq\": 1}",       "{\"$gt\": 1}",      "{\"$gte\": \"a\"}",
                         "{\"$lt\": 1}",       "{\"$lte\": \"a\"}", "{\"$in\": [1, \"a\"]}",
                         "{\"$exists\": true}"};
    char filter[128];

    (void)state;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        snprintf(filter, sizeof filter, "{\"x\": %s}", ops[i]);
        assert_false(m(filter, "{\"y\": 1}"));
        assert_false(m(filter, "null"));
        assert_false(m(filter, "{}"));
    }
    assert_true(m("{\"x\": {\"$ne\": 1}}", "{\"y\": 1}"));
    assert_true(m("{\"x\": {\"$nin\": [1]}}", "null"));
    assert_true(m("{\"x\": {\"$exists\": false}}", "{}"));
    assert_true(m("{}", "null"));
    assert_true(m("{}", "{\"a\": 1}"));
}

static void test_type_mismatch(void **state)
{
    (void)state;
    assert_false(m("{\"n\": \"120\"}", "{\"n\": 120}"));
    assert_false(m("{\"n\": 120}", "{\"n\": \"120\"}"));
    assert_false(m("{\"n\": {\"$gt\": \"1\"}}", "{\"n\": 5}"));
    assert_false(m("{\"n\": {\"$lt\": 10}}", "{\"n\": \"5\"}"));
    assert_false(m("{\"b\": 1}", "{\"b\": true}"));
    assert_false(m("{\"b\": true}", "{\"b\": 1}"));
    assert_false(m("{\"b\": \"true\"}", "{\"b\": true}"));
    assert_false(m("{\"b\": {\"$gt\": 0}}", "{\"b\": true}"));
    assert_false(m("{\"b\": {\"$in\": [1, \"true\"]}}", "{\"b\": true}"));
    /* the negations hold on a mismatch */
    assert_true(m("{\"n\": {\"$ne\": \"120\"}}", "{\"n\": 120}"));
    assert_true(m("{\"b\": {\"$nin\": [1]}}", "{\"b\": true}"));
}

static void test_nesting(void **state)
{
    const char *f =
        "{\"$or\": [{\"g\": \"jazz\", \"n\": {\"$gte\": 90, \"$lt\": 130}},"
        " {\"$and\": [{\"g\": \"soul\"}, {\"$or\": [{\"live\": true}, {\"n\": 60}]}]}]}";

    (void)state;
    assert_true(m(f, "{\"g\": \"jazz\", \"n\": 100}"));
    assert_false(m(f, "{\"g\": \"jazz\", \"n\": 130}"));
    assert_false(m(f, "{\"g\": \"jazz\"}"));
    assert_true(m(f, "{\"g\": \"soul\", \"live\": true}"));
    assert_true(m(f, "{\"g\": \"soul\", \"n\": 60}"));
    assert_false(m(f, "{\"g\": \"soul\", \"n\": 61}"));
    assert_false(m(f, "{}"));
    /* implicit AND of top-level keys, $and and $or side by side */
    f = "{\"a\": 1, \"b\": {\"$ne\": 2}, \"$and\": [{\"c\": 3}], \"$or\": [{\"d\": 4}, {\"e\": "
        "5}]}";
    assert_true(m(f, "{\"a\": 1, \"c\": 3, \"e\": 5}"));
    assert_false(m(f, "{\"a\": 1, \"b\": 2, \"c\": 3, \"e\": 5}"));
    assert_false(m(f, "{\"a\": 1, \"c\": 3}"));
    assert_false(m(f, "{\"a\": 1, \"d\": 4}"));
    assert_true(m("{\"$and\": [{\"a\": 1}]}", "{\"a\": 1}"));
    assert_true(m("{\"$or\": [{\"a\": 1}]}", "{\"a\": 1}"));
}

static void test_match_not_object(void **state)
{
    disco_vfilter *f = compile_ok("{\"x\": {\"$exists\": false}}");
    json_t *arr = json("[1]");

    (void)state;
    assert_true(disco_vfilter_match(f, arr));
    json_decref(arr);
    disco_vfilter_free(f);
    disco_vfilter_free(NULL);
}

/* ---- errors --------------------------------------------------------------- */

struct bad_filter {
    const char *text, *field, *msg;
};

static const struct bad_filter BAD[] = {
    {"{\"$or\": [{\"a\": 1}, {\"b\": 1}, {\"bpm\": {\"$gtt\": 3}}]}", "filter.$or[2].bpm",
     "filter.$or[2].bpm: unknown operator $gtt"},
    {"{\"$and\": [{\"a\": 1}, {\"bpm\": {\"$gt\": [1]}}]}", "filter.$and[1].bpm",
     "filter.$and[1].bpm: $gt needs a number or string, got a list"},
    {"{\"n\": {\"$gte\": true}}", "filter.n",
     "filter.n: $gte needs a number or string, got a boolean"},
    {"{\"n\": {\"$lt\": null}}", "filter.n", "filter.n: $lt needs a number or string, got null"},
    {"{\"n\": {\"$lte\": {}}}", "filter.n",
     "filter.n: $lte needs a number or string, got an object"},
    {"{\"g\": {\"$eq\": null}}", "filter.g",
     "filter.g: $eq needs a string, number or boolean, got null"},
    {"{\"g\": {\"$ne\": [\"a\"]}}", "filter.g",
     "filter.g: $ne needs a string, number or boolean, got a list"},
    {"{\"g\": null}", "filter.g", "filter.g: $eq needs a string, number or boolean, got null"},
    {"{\"g\": [\"a\"]}", "filter.g", "filter.g: a list needs $in or $nin, as in {\"$in\": [...]}"},
    {"{\"g\": {}}", "filter.g", "filter.g: needs at least one operator, got an empty object"},
    {"{\"g\": {\"$in\": \"jazz\"}}", "filter.g", "filter.g: $in needs a list, got a string"},
    {"{\"g\": {\"$nin\": 3}}", "filter.g", "filter.g: $nin needs a list, got a number"},
    {"{\"g\": {\"$nin\": [\"a\", null]}}", "filter.g",
     "filter.g: $nin[1] must be a string, number or boolean, got null"},
    {"{\"g\": {\"$in\": [[\"a\"]]}}", "filter.g",
     "filter.g: $in[0] must be a string, number or boolean, got a list"},
    {"{\"g\": {\"$exists\": 1}}", "filter.g",
     "filter.g: $exists needs true or false, got a number"},
    {"{\"$and\": []}", "filter.$and",
     "filter.$and: $and needs at least one filter object, got an empty list"},
    {"{\"x\": 1, \"$or\": []}", "filter.$or",
     "filter.$or: $or needs at least one filter object, got an empty list"},
    {"{\"$or\": {\"a\": 1}}", "filter.$or",
     "filter.$or: $or needs a list of filter objects, got an object"},
    {"{\"$or\": [{}]}", "filter.$or[0]",
     "filter.$or[0]: must be a filter object with at least one key, got {}"},
    {"{\"$or\": [{\"a\": 1}, 1]}", "filter.$or[1]",
     "filter.$or[1]: must be a filter object, got a number"},
    {"{\"$not\": {\"a\": 1}}", "filter", "filter: unknown operator $not"},
    {"{\"$and\": [{\"$nor\": 1}]}", "filter.$and[0]", "filter.$and[0]: unknown operator $nor"},
    {"{\"\": 1}", "filter", "filter: empty field name"},
    {"{\"g\": {\"$and\": [{\"a\": 1}]}}", "filter.g", "filter.g: unknown operator $and"},
    {"{\"g\": {\"eq\": 1}}", "filter.g", "filter.g: unknown operator eq"},
    {"{\"g\": {\"$\\u0001\": 1}}", "filter.g", "filter.g: unknown operator $\\x01"},
    {"[1]", "filter", "filter: must be a JSON object, got a list"},
    {"\"a\"", "filter", "filter: must be a JSON object, got a string"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        disco_status st = {0};
        disco_vfilter *f = (disco_vfilter *)1;
        int rc = disco_vfilter_parse(BAD[i].text, strlen(BAD[i].text), &f, &st);
        if (rc != DISCO_ERR_INVAL)
            fail_msg("'%s' compiled (rc %d)", BAD[i].text, rc);
        assert_null(f);
        assert_int_equal(st.code, DISCO_ERR_INVAL);
        assert_string_equal(st.field, BAD[i].field);
        assert_string_equal(st.msg, BAD[i].msg);
    }
}

static void test_error_misc(void **state)
{
    char key[200], text[300];
    disco_status st = {0};
    disco_vfilter *f = (disco_vfilter *)1;

    (void)state;
    assert_int_equal(disco_vfilter_compile(NULL, &f, &st), DISCO_ERR_INVAL);
    assert_null(f);
    assert_string_equal(st.msg, "filter: missing filter");
    assert_int_equal(disco_vfilter_parse("{\"a\": ", 6, &f, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "filter");
    assert_non_null(strstr(st.msg, "filter: invalid JSON at line 1"));
    assert_int_equal(disco_vfilter_parse("{}", 2, &f, NULL), DISCO_OK); /* NULL status */
    disco_vfilter_free(f);
    assert_int_equal(disco_vfilter_parse("[]", 2, &f, NULL), DISCO_ERR_INVAL);
    /* field names: 128 bytes fine, 129 refused with the name cut in the path */
    memset(key, 'k', 129);
    key[128] = '\0';
    snprintf(text, sizeof text, "{\"%s\": 1}", key);
    f = compile_ok(text);
    disco_vfilter_free(f);
    key[128] = 'k';
    key[129] = '\0';
    snprintf(text, sizeof text, "{\"%s\": 1}", key);
    assert_int_equal(disco_vfilter_parse(text, strlen(text), &f, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "kkk...: field name of 129 bytes, at most 128"));
}

/* {"$and": [{"$and": [... {"a": 1} ...]}]} with `levels` $and. */
static json_t *nested_and(int levels)
{
    json_t *f = json_pack("{s:i}", "a", 1);

    for (int i = 0; i < levels; i++)
        f = json_pack("{s:[o]}", "$and", f);
    return f;
}

static void test_depth_limit(void **state)
{
    json_t *ok = nested_and(DISCO_VFILTER_MAX_DEPTH - 1);
    json_t *deep = nested_and(DISCO_VFILTER_MAX_DEPTH);
    json_t *meta = json_pack("{s:i}", "a", 1);
    disco_status st = {0};
    disco_vfilter *f = NULL;

    (void)state;
    assert_int_equal(disco_vfilter_compile(ok, &f, &st), DISCO_OK);
    assert_true(disco_vfilter_match(f, meta));
    disco_vfilter_free(f);
    assert_int_equal(disco_vfilter_compile(deep, &f, &st), DISCO_ERR_INVAL);
    assert_null(f);
    assert_true(strncmp(st.msg, "filter.$and[0].$and[0]", 22) == 0);
    assert_non_null(strstr(st.msg, ": filter nests deeper than 32 levels"));
    json_decref(ok);
    json_decref(deep);
    json_decref(meta);
}

/* ---- metadata ------------------------------------------------------------- */

static void meta_err(json_t *meta, const char *field, const char *msg)
{
    disco_status st = {0};

    assert_int_equal(disco_vmeta_check(meta, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, field);
    assert_string_equal(st.msg, msg);
    json_decref(meta);
}

static void test_vmeta_check(void **state)
{
    json_t *ok = json("{\"genre\": \"jazz\", \"bpm\": 120, \"gain\": -1.5, \"live\": false,"
                      " \"tags\": [\"a\", \"b\"], \"none\": []}");
    json_t *big = json_object(), *nul = json_object();
    char *s = malloc(DISCO_VMETA_MAX_BYTES + 1);
    char key[130];

    (void)state;
    assert_int_equal(disco_vmeta_check(ok, NULL), DISCO_OK);
    assert_int_equal(disco_vmeta_check(NULL, NULL), DISCO_OK);
    json_decref(ok);
    meta_err(json("[1]"), "metadata", "metadata: must be a JSON object, got a list");
    meta_err(json("{\"bpm\": null}"), "bpm",
             "metadata.bpm: null is not allowed; values are strings, numbers, booleans or lists "
             "of strings");
    meta_err(json("{\"a\": 1, \"o\": {\"x\": 1}}"), "o",
             "metadata.o: an object is not allowed; values are strings, numbers, booleans or "
             "lists of strings");
    meta_err(json("{\"tags\": [\"a\", 2]}"), "tags",
             "metadata.tags: list element [1] is a number; lists hold only strings");
    meta_err(json("{\"tags\": [[\"a\"]]}"), "tags",
             "metadata.tags: list element [0] is a list; lists hold only strings");
    meta_err(json("{\"\": 1}"), "", "metadata: empty field name");
    meta_err(json("{\"$x\": 1}"), "$x", "metadata.$x: field names may not start with '$'");
    memset(key, 'k', 129);
    key[128] = '\0';
    ok = json_pack("{s:i}", key, 1);
    assert_int_equal(disco_vmeta_check(ok, NULL), DISCO_OK);
    json_decref(ok);
    key[128] = 'k';
    key[129] = '\0';
    ok = json_pack("{s:i}", key, 1);
    assert_int_equal(disco_vmeta_check(ok, NULL), DISCO_ERR_INVAL);
    json_decref(ok);
    json_object_setn_new(nul, "a\0b", 3, json_integer(1));
    meta_err(nul, "a\\x00b", "metadata.a\\x00b: field name contains a NUL byte");
    memset(s, 'x', DISCO_VMETA_MAX_BYTES);
    s[DISCO_VMETA_MAX_BYTES] = '\0';
    json_object_set_new(big, "s", json_string(s));
    meta_err(big, "metadata", "metadata: 16392 bytes serialised, at most 16384");
    free(s);
}

/* ---- terms ---------------------------------------------------------------- */

static int collect_term(void *user, const char *field, const json_t *values)
{
    json_t *out = user;
    char *text = json_dumps(values, JSON_COMPACT);

    json_array_append_new(out, json_pack("[s,s]", field, text));
    free(text);
    return 0;
}

static int stop_at_second(void *user, const char *field, const json_t *values)
{
    int *calls = user;

    (void)field;
    (void)values;
    return ++*calls == 2 ? 7 : 0;
}

static void test_terms(void **state)
{
    disco_vfilter *f = compile_ok(
        "{\"genre\": \"jazz\", \"bpm\": {\"$gte\": 90, \"$in\": [90, 100]},"
        " \"$and\": [{\"mood\": {\"$in\": [\"calm\"]}}, {\"$or\": [{\"x\": 1}, {\"y\": 2}]},"
        " {\"$and\": [{\"deep\": {\"$eq\": true}}]}],"
        " \"$or\": [{\"z\": 1}, {\"w\": 1}], \"k\": {\"$ne\": \"x\"}, \"n\": {\"$nin\": [1]}}");
    json_t *got = json_array();
    json_t *want = json("[[\"genre\", \"[\\\"jazz\\\"]\"], [\"bpm\", \"[90,100]\"],"
                        " [\"mood\", \"[\\\"calm\\\"]\"], [\"deep\", \"[true]\"]]");
    int calls = 0;

    (void)state;
    assert_int_equal(disco_vfilter_terms(f, collect_term, got), 0);
    if (!json_equal(got, want)) {
        char *text = json_dumps(got, JSON_COMPACT);
        fail_msg("terms: %s", text);
    }
    assert_int_equal(disco_vfilter_terms(f, stop_at_second, &calls), 7);
    assert_int_equal(calls, 2);
    json_decref(got);
    json_decref(want);
    disco_vfilter_free(f);
    f = compile_ok("{\"$or\": [{\"a\": 1}]}");
    calls = 0;
    assert_int_equal(disco_vfilter_terms(f, stop_at_second, &calls), 0);
    assert_int_equal(calls, 0);
    disco_vfilter_free(f);
}

/* ---- randomized comparison with a direct interpreter ---------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static const char *const FIELDS[] = {"a", "b", "c", "d"};
static const char *const STRS[] = {"", "a", "ab", "b", "jazz", "Jazz", "\xc3\xa9"};
static const double NUMS[] = {-1, 0, 0.5, 1, 2, 100};

static json_t *rnd_string(void)
{
    return json_string(STRS[rnd(7)]);
}

static json_t *rnd_number(void)
{
    double x = NUMS[rnd(6)];

    return rnd(2) && x == (int)x ? json_integer((json_int_t)x) : json_real(x);
}

/* kinds: 0 strings only, 1 numbers or strings, 2 any scalar */
static json_t *rnd_scalar(int kinds)
{
    unsigned pick = rnd(kinds == 0 ? 1 : kinds == 1 ? 2 : 3);

    return pick == 0 ? rnd_string() : pick == 1 ? rnd_number() : json_boolean(rnd(2));
}

static json_t *rnd_meta(void)
{
    json_t *meta = json_object();

    for (size_t i = 0; i < 4; i++) {
        json_t *v;
        unsigned kind = rnd(6);
        if (kind == 0)
            continue;
        if (kind == 4) {
            v = json_array();
            for (unsigned n = rnd(4); n > 0; n--)
                json_array_append_new(v, rnd_string());
        } else {
            v = kind == 5 && rnd(4) == 0 ? json_null() : rnd_scalar(2);
        }
        json_object_set_new(meta, FIELDS[i], v);
    }
    return meta;
}

static json_t *rnd_operand(const char *op)
{
    json_t *list;

    if (!strcmp(op, "$exists"))
        return json_boolean(rnd(2));
    if (!strcmp(op, "$eq") || !strcmp(op, "$ne"))
        return rnd_scalar(2);
    if (strcmp(op, "$in") && strcmp(op, "$nin"))
        return rnd_scalar(1);
    list = json_array();
    for (unsigned n = rnd(5); n > 0; n--)
        json_array_append_new(list, rnd_scalar(2));
    return list;
}

static int ref_match(const json_t *filter, const json_t *meta);

static json_t *rnd_field_value(void)
{
    static const char *const OPS[] = {"$eq",  "$ne", "$gt",  "$gte",   "$lt",
                                      "$lte", "$in", "$nin", "$exists"};
    json_t *ops;

    if (rnd(3) == 0)
        return rnd_scalar(2);
    ops = json_object();
    for (unsigned n = 1 + rnd(3); n > 0; n--) {
        const char *op = OPS[rnd(9)];
        json_object_set_new(ops, op, rnd_operand(op));
    }
    return ops;
}

static json_t *rnd_filter(int depth)
{
    json_t *f = json_object();

    for (unsigned n = 1 + rnd(3); n > 0; n--) {
        if (depth < 4 && rnd(4) == 0) {
            json_t *list = json_array();
            for (unsigned k = 1 + rnd(3); k > 0; k--)
                json_array_append_new(list, rnd_filter(depth + 1));
            json_object_set_new(f, rnd(2) ? "$and" : "$or", list);
        } else {
            json_object_set_new(f, FIELDS[rnd(4)], rnd_field_value());
        }
    }
    return f;
}

/* The reference: interprets the filter JSON as the header describes it. */
static int ref_scalar(const char *op, const json_t *arg, const json_t *x)
{
    int r;

    if (!strcmp(op, "$in")) {
        for (size_t i = 0; i < json_array_size(arg); i++) {
            if (ref_scalar("$eq", json_array_get(arg, i), x))
                return 1;
        }
        return 0;
    }
    if (json_is_number(arg) && json_is_number(x)) {
        double a = json_number_value(x), b = json_number_value(arg);
        r = a < b ? -1 : a > b ? 1 : 0;
    } else if (json_is_string(arg) && json_is_string(x)) {
        r = strcmp(json_string_value(x), json_string_value(arg));
    } else if (json_is_boolean(arg) && json_is_boolean(x)) {
        return !strcmp(op, "$eq") && json_is_true(arg) == json_is_true(x);
    } else {
        return 0;
    }
    if (!strcmp(op, "$eq"))
        return r == 0;
    if (!strcmp(op, "$gt"))
        return r > 0;
    if (!strcmp(op, "$gte"))
        return r >= 0;
    if (!strcmp(op, "$lt"))
        return r < 0;
    return r <= 0;
}

static int ref_op(const char *op, const json_t *arg, const json_t *v)
{
    if (!strcmp(op, "$exists"))
        return (v != NULL) == json_is_true(arg);
    if (!strcmp(op, "$ne"))
        return !ref_op("$eq", arg, v);
    if (!strcmp(op, "$nin"))
        return !ref_op("$in", arg, v);
    if (!v)
        return 0;
    if (!json_is_array(v))
        return ref_scalar(op, arg, v);
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (ref_scalar(op, arg, json_array_get(v, i)))
            return 1;
    }
    return 0;
}

static int ref_logic(const char *key, const json_t *list, const json_t *meta)
{
    size_t hits = 0, n = json_array_size(list);

    for (size_t i = 0; i < n; i++)
        hits += (size_t)ref_match(json_array_get(list, i), meta);
    return !strcmp(key, "$and") ? hits == n : hits > 0;
}

static int ref_match(const json_t *filter, const json_t *meta)
{
    const char *key, *op;
    json_t *value, *arg;

    json_object_foreach ((json_t *)filter, key, value) {
        const json_t *v = json_object_get(meta, key);
        if (!strcmp(key, "$and") || !strcmp(key, "$or")) {
            if (!ref_logic(key, value, meta))
                return 0;
        } else if (!json_is_object(value)) {
            if (!ref_op("$eq", value, v))
                return 0;
        } else {
            json_object_foreach (value, op, arg) {
                if (!ref_op(op, arg, v))
                    return 0;
            }
        }
    }
    return 1;
}

/* Only-terms filters: conjunctions of non-negated $eq / $in and nothing else. */
static void test_only_terms(void **state)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"{\"a\": \"x\"}", 1},
        {"{\"a\": {\"$in\": [1, 2]}, \"b\": true}", 1},
        {"{\"$and\": [{\"a\": \"x\"}, {\"b\": {\"$eq\": 3}}]}", 1},
        {"{\"a\": \"x\", \"b\": {\"$gt\": 3}}", 0},
        {"{\"a\": {\"$eq\": \"x\", \"$ne\": \"y\"}}", 0},
        {"{\"$or\": [{\"a\": \"x\"}, {\"a\": \"y\"}]}", 0},
        {"{\"a\": {\"$nin\": [\"x\"]}}", 0},
        {"{\"a\": {\"$exists\": true}}", 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        disco_vfilter *f = NULL;
        assert_int_equal(disco_vfilter_parse(cases[i].text, strlen(cases[i].text), &f, NULL), 0);
        if (disco_vfilter_only_terms(f) != cases[i].want)
            fail_msg("%s: only_terms %d", cases[i].text, disco_vfilter_only_terms(f));
        disco_vfilter_free(f);
    }
    assert_int_equal(disco_vfilter_only_terms(NULL), 0);
}

static void test_random_consistency(void **state)
{
    enum { FILTERS = 3000, METAS = 24 };
    json_t *metas[METAS];
    size_t matched = 0;

    (void)state;
    for (size_t j = 0; j < METAS; j++)
        metas[j] = rnd_meta();
    for (size_t i = 0; i < FILTERS; i++) {
        json_t *expr = rnd_filter(0);
        disco_status st = {0};
        disco_vfilter *f = NULL;
        if (disco_vfilter_compile(expr, &f, &st) != DISCO_OK)
            fail_msg("generated filter did not compile: %s", st.msg);
        for (size_t j = 0; j < METAS; j++) {
            int got = disco_vfilter_match(f, metas[j]), want = ref_match(expr, metas[j]);
            if (got != want) {
                char *ft = json_dumps(expr, JSON_COMPACT), *mt = json_dumps(metas[j], 0);
                fail_msg("filter %s on %s: got %d, want %d", ft, mt, got, want);
            }
            matched += (size_t)got;
        }
        disco_vfilter_free(f);
        json_decref(expr);
        for (size_t j = 0; i % 100 == 99 && j < METAS; j++) { /* fresh metadata now and then */
            json_decref(metas[j]);
            metas[j] = rnd_meta();
        }
    }
    for (size_t j = 0; j < METAS; j++)
        json_decref(metas[j]);
    /* both outcomes are well represented */
    assert_true(matched > FILTERS * METAS / 20);
    assert_true(matched < FILTERS * METAS * 19 / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eq),
        cmocka_unit_test(test_only_terms),
        cmocka_unit_test(test_ne),
        cmocka_unit_test(test_order_numbers),
        cmocka_unit_test(test_order_strings),
        cmocka_unit_test(test_in_nin),
        cmocka_unit_test(test_in_large_set),
        cmocka_unit_test(test_exists),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_type_mismatch),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_match_not_object),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_misc),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_vmeta_check),
        cmocka_unit_test(test_terms),
        cmocka_unit_test(test_random_consistency),
    };

    return cmocka_run_group_tests_name("store/vfilter", tests, NULL, NULL);
}
