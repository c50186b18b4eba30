/*
 * test_openapi.c - the OpenAPI document made from the op table: every op
 * has its path and one of 200/202, every $ref resolves, operationIds are
 * unique, required params are listed, enums, bounds and defaults are
 * there, each parameter type maps to its schema (body and query forms),
 * and the fixed routes, aliases, security and servers are right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/ops.h"
#include "disco/version.h"
#include "ops/openapi_int.h"

#include <stdlib.h>
#include <string.h>

static json_t *g_doc;

static int setup(void **state)
{
    (void)state;
    g_doc = disco_ops_openapi(NULL);
    return g_doc ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_doc);
    return 0;
}

/* "/api/resource/create" for "resource.create", "/api/version" for "version". */
static void op_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "/api/%s", name);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = '/';
}

static json_t *body_schema(const json_t *post)
{
    return json_object_get(
        json_object_get(json_object_get(json_object_get(post, "requestBody"), "content"),
                        "application/json"),
        "schema");
}

static void test_header(void **state)
{
    (void)state;
    assert_string_equal(json_string_value(json_object_get(g_doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(g_doc, "info");
    assert_string_equal(json_string_value(json_object_get(info, "version")), disco_version());
    assert_non_null(json_string_value(json_object_get(info, "title")));
    json_t *server = json_array_get(json_object_get(g_doc, "servers"), 0);
    assert_string_equal(json_string_value(json_object_get(server, "url")), "/");
    json_t *bearer = json_object_get(
        json_object_get(json_object_get(g_doc, "components"), "securitySchemes"), "bearer");
    assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    assert_non_null(
        json_object_get(json_array_get(json_object_get(g_doc, "security"), 0), "bearer"));

    json_t *doc = disco_ops_openapi("https://music.example.org/base");
    server = json_array_get(json_object_get(doc, "servers"), 0);
    assert_string_equal(json_string_value(json_object_get(server, "url")),
                        "https://music.example.org/base");
    json_decref(doc);
}

static void test_every_op_has_a_path(void **state)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    json_t *paths = json_object_get(g_doc, "paths");
    char path[160];

    (void)state;
    assert_true(n > 30);
    for (size_t i = 0; i < n; i++) {
        op_path(all[i]->name, path, sizeof path);
        json_t *post = json_object_get(json_object_get(paths, path), "post");
        if (!post)
            fail_msg("no POST %s for %s", path, all[i]->name);
        assert_string_equal(json_string_value(json_object_get(post, "x-disco-op")), all[i]->name);
        assert_string_equal(json_string_value(json_object_get(post, "summary")), all[i]->summary);
        const char *role = json_string_value(json_object_get(post, "x-disco-role"));
        const char *want = (all[i]->flags & DISCO_OP_ADMIN)    ? "admin"
                           : (all[i]->flags & DISCO_OP_WRITES) ? "writer"
                                                               : "reader";
        assert_string_equal(role ? role : "", want);
        json_t *resp = json_object_get(post, "responses");
        int is_long = (all[i]->flags & DISCO_OP_LONG) != 0;
        assert_int_equal(json_object_get(resp, "202") != NULL, is_long);
        assert_int_equal(json_object_get(resp, "200") != NULL, !is_long);
        assert_non_null(json_object_get(resp, "400"));
        assert_non_null(json_object_get(resp, "default"));
    }
}

/* Required params are listed, and the body is required exactly when one is. */
static void test_required_params(void **state)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    char path[160];

    (void)state;
    for (size_t i = 0; i < n; i++) {
        op_path(all[i]->name, path, sizeof path);
        json_t *post =
            json_object_get(json_object_get(json_object_get(g_doc, "paths"), path), "post");
        json_t *schema = body_schema(post), *req = json_object_get(schema, "required");
        size_t nreq = 0;
        assert_true(json_is_false(json_object_get(schema, "additionalProperties")));
        for (const disco_param *p = all[i]->params; p && p->name; p++) {
            assert_non_null(json_object_get(json_object_get(schema, "properties"), p->name));
            if (!(p->flags & DISCO_PARAM_REQUIRED))
                continue;
            int listed = 0;
            for (size_t k = 0; k < json_array_size(req); k++)
                listed |= strcmp(json_string_value(json_array_get(req, k)), p->name) == 0;
            if (!listed)
                fail_msg("%s: required param %s not listed", all[i]->name, p->name);
            nreq++;
        }
        assert_int_equal(json_array_size(req), nreq);
        assert_int_equal(
            json_is_true(json_object_get(json_object_get(post, "requestBody"), "required")),
            nreq > 0);
    }
}

static void check_param_schema(const disco_op *op, const disco_param *p, const json_t *s)
{
    json_t *e = json_object_get(s, "enum");

    if (p->choices) {
        size_t k = 0;
        for (; p->choices[k]; k++)
            assert_string_equal(json_string_value(json_array_get(e, k)), p->choices[k]);
        assert_int_equal(json_array_size(e), k);
    } else {
        assert_null(e);
    }
    if (p->flags & DISCO_PARAM_RANGE) {
        assert_true(json_number_value(json_object_get(s, "minimum")) == p->min);
        assert_true(json_number_value(json_object_get(s, "maximum")) == p->max);
    } else {
        assert_null(json_object_get(s, "minimum"));
    }
    json_t *def = json_object_get(s, "default");
    if (p->def) {
        json_t *want = json_loads(p->def, JSON_DECODE_ANY, NULL);
        if (!json_equal(def, want))
            fail_msg("%s.%s: default differs from %s", op->name, p->name, p->def);
        json_decref(want);
    } else {
        assert_null(def);
    }
    assert_non_null(json_string_value(json_object_get(s, "description")));
}

static void test_enums_ranges_defaults(void **state)
{
    size_t n, nchoices = 0, nranges = 0;
    const disco_op *const *all = disco_ops_all(&n);
    char path[160];

    (void)state;
    for (size_t i = 0; i < n; i++) {
        op_path(all[i]->name, path, sizeof path);
        json_t *props =
            json_object_get(body_schema(json_object_get(
                                json_object_get(json_object_get(g_doc, "paths"), path), "post")),
                            "properties");
        for (const disco_param *p = all[i]->params; p && p->name; p++) {
            check_param_schema(all[i], p, json_object_get(props, p->name));
            nchoices += p->choices != NULL;
            nranges += (p->flags & DISCO_PARAM_RANGE) != 0;
        }
    }
    assert_true(nchoices > 5 && nranges > 10); /* the table really has both */
}

/* Resolves a local JSON pointer ("#/components/schemas/Job"), with ~1 and ~0. */
static json_t *resolve(const char *ref)
{
    json_t *at = g_doc;
    char seg[256];

    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    for (const char *s = ref + 2; at && *s;) {
        size_t len = strcspn(s, "/"), k = 0;
        for (size_t j = 0; j < len && k + 1 < sizeof seg; j++) {
            if (s[j] == '~' && j + 1 < len && (s[j + 1] == '0' || s[j + 1] == '1'))
                seg[k++] = s[++j] == '1' ? '/' : '~';
            else
                seg[k++] = s[j];
        }
        seg[k] = '\0';
        at = json_object_get(at, seg);
        s += len + (s[len] == '/');
    }
    return at;
}

/* Walks every value; counts $refs and fails on one that does not resolve. */
static void walk_refs(const json_t *v, size_t *count)
{
    const char *key;
    json_t *item;
    size_t i;

    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, key, item) {
            if (strcmp(key, "$ref") == 0) {
                if (!resolve(json_string_value(item)))
                    fail_msg("dangling $ref %s", json_string_value(item));
                (*count)++;
            } else {
                walk_refs(item, count);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, item)
            walk_refs(item, count);
    }
}

static void test_refs_resolve(void **state)
{
    size_t count = 0;

    (void)state;
    walk_refs(g_doc, &count);
    assert_true(count > 100);
    assert_null(resolve("#/components/schemas/NoSuchThing"));
    assert_non_null(resolve("#/paths/~1api~1jobs~1{id}/get"));
}

static void test_operation_ids_unique(void **state)
{
    static const char *const methods[] = {"get", "put", "post", "patch", "delete", "head", NULL};
    json_t *seen = json_object(), *item;
    const char *path;
    size_t count = 0;

    (void)state;
    json_object_foreach (json_object_get(g_doc, "paths"), path, item) {
        for (int m = 0; methods[m]; m++) {
            json_t *op = json_object_get(item, methods[m]);
            if (!op)
                continue;
            const char *id = json_string_value(json_object_get(op, "operationId"));
            assert_non_null(id);
            if (json_object_get(seen, id))
                fail_msg("operationId %s used twice (%s %s)", id, methods[m], path);
            json_object_set_new(seen, id, json_true());
            count++;
        }
    }
    assert_true(count > 50);
    json_decref(seen);
}

static void expect_route(const char *path, const char *method, const char *status)
{
    json_t *op = json_object_get(json_object_get(json_object_get(g_doc, "paths"), path), method);

    if (!op || !json_object_get(json_object_get(op, "responses"), status))
        fail_msg("no %s %s answering %s", method, path, status);
}

static void test_fixed_routes(void **state)
{
    (void)state;
    expect_route("/api/analyze/time-series", "post", "202");
    expect_route("/api/search/similar", "post", "200");
    expect_route("/api/resources", "get", "200");
    expect_route("/api/resources/{id}", "get", "200");
    expect_route("/api/resources/{id}", "patch", "409");
    expect_route("/api/resources/{id}", "delete", "200");
    expect_route("/api/resources/{id}/versions", "get", "200");
    expect_route("/api/resources/{id}/lineage", "get", "200");
    expect_route("/api/objects", "put", "201");
    expect_route("/api/objects/{hash}", "get", "206");
    expect_route("/api/objects/{hash}", "get", "416");
    expect_route("/api/jobs/{id}", "get", "200");
    expect_route("/api/jobs/{id}", "delete", "409");
    expect_route("/api/jobs/{id}/events", "get", "200");
    expect_route("/healthz", "get", "200");
    expect_route("/readyz", "get", "503");
    expect_route("/metrics", "get", "200");
    expect_route("/api/openapi.json", "get", "200");

    /* the alias is ts.analyze itself */
    json_t *alias = resolve("#/paths/~1api~1analyze~1time-series/post");
    assert_string_equal(json_string_value(json_object_get(alias, "x-disco-op")), "ts.analyze");
    /* public routes override the global bearer requirement */
    assert_int_equal(json_array_size(json_object_get(resolve("#/paths/~1healthz/get"), "security")),
                     0);
    assert_null(json_object_get(resolve("#/paths/~1api~1jobs~1{id}/get"), "security"));
    /* events are a stream; lineage query params come from resource.lineage's schema */
    assert_non_null(resolve("#/paths/~1api~1jobs~1{id}~1events/get/responses/200/content/"
                            "text~1event-stream"));
    json_t *q =
        json_object_get(resolve("#/paths/~1api~1resources~1{id}~1lineage/get"), "parameters");
    assert_string_equal(json_string_value(json_object_get(json_array_get(q, 0), "in")), "query");
    assert_non_null(json_object_get(json_object_get(json_array_get(q, 0), "schema"), "enum"));
}

static void test_error_schema(void **state)
{
    (void)state;
    json_t *body = resolve("#/components/schemas/ErrorBody");
    json_t *codes =
        json_object_get(json_object_get(json_object_get(body, "properties"), "code"), "enum");
    int has_inval = 0, has_ok = 0;
    for (size_t i = 0; i < json_array_size(codes); i++) {
        has_inval |= strcmp(json_string_value(json_array_get(codes, i)), "INVAL") == 0;
        has_ok |= strcmp(json_string_value(json_array_get(codes, i)), "OK") == 0;
    }
    assert_true(has_inval && !has_ok);
    assert_non_null(resolve("#/components/schemas/Error/properties/error/$ref"));
    assert_non_null(resolve("#/components/responses/NotFound/content/application~1json/schema"));
    json_t *states = resolve("#/components/schemas/JobState/enum");
    assert_int_equal(json_array_size(states), 5);
}

/* Every parameter type, as a body member and as a query argument. */
static void test_param_types(void **state)
{
    static const char *const colours[] = {"red", "blue", NULL};
    static const struct {
        disco_param p;
        const char *body, *query;
    } cases[] = {
        {{.name = "a", .type = DISCO_P_STRING, .choices = colours}, "string", "string"},
        {{.name = "b", .type = DISCO_P_INT, .flags = DISCO_PARAM_RANGE, .min = 1, .max = 9},
         "integer",
         "integer"},
        {{.name = "c", .type = DISCO_P_NUMBER}, "number", "number"},
        {{.name = "d", .type = DISCO_P_BOOL, .def = "true"}, "boolean", "boolean"},
        {{.name = "e", .type = DISCO_P_STRINGS}, "array", "string"},
        {{.name = "f", .type = DISCO_P_IDS}, "array", "string"},
        {{.name = "g", .type = DISCO_P_TAGS}, "#/components/schemas/Tags", "string"},
        {{.name = "h", .type = DISCO_P_OBJECT}, "object", "string"},
        {{.name = "i", .type = DISCO_P_PATH}, "string", "string"},
        {{.name = "j", .type = DISCO_P_ID}, "#/components/schemas/ResourceId", NULL},
        {{.name = "k", .type = DISCO_P_HASH}, "#/components/schemas/ObjectHash", NULL},
        {{.name = "l", .type = DISCO_P_HASHES}, "array", "string"},
        {{.name = "m", .type = DISCO_P_TIME}, "#/components/schemas/Time", NULL},
        {{.name = "n", .type = DISCO_P_JSON}, NULL, NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int q = 0; q < 2; q++) {
            json_t *s = disco__openapi_param_schema(&cases[i].p, q);
            const char *want = q ? cases[i].query : cases[i].body;
            const char *type = json_string_value(json_object_get(s, "type"));
            const char *ref = json_string_value(json_object_get(s, "$ref"));
            assert_non_null(s);
            if (want && want[0] == '#')
                assert_string_equal(ref ? ref : "", want);
            else if (want)
                assert_string_equal(type ? type : "", want);
            else if (q == 0 || cases[i].p.type == DISCO_P_JSON)
                assert_true(!type && !ref); /* any value */
            json_decref(s);
        }
    json_t *ids = disco__openapi_param_schema(&cases[5].p, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(ids, "items"), "$ref")),
                        "#/components/schemas/ResourceId");
    json_decref(ids);
    json_t *e = disco__openapi_param_schema(&cases[4].p, 1);
    assert_non_null(strstr(json_string_value(json_object_get(e, "description")), "comma"));
    json_decref(e);
}

/* The op prints what the function makes, with its server URL. */
static void test_op(void **state)
{
    disco_config cfg = disco_config_default();
    disco_ctx *ctx;
    json_t *raw = json_pack("{s:s}", "server", "http://10.0.0.1:9000"), *result = NULL;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_ctx_new(&cfg, &ctx, NULL), DISCO_OK);
    assert_int_equal(disco_ops_call(ctx, disco_ops_find("ops.openapi"), raw, &result, &st),
                     DISCO_OK);
    json_t *doc = disco_ops_openapi("http://10.0.0.1:9000");
    assert_true(json_equal(result, doc));
    json_decref(doc);
    json_decref(result);
    json_decref(raw);
    disco_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),          cmocka_unit_test(test_every_op_has_a_path),
        cmocka_unit_test(test_required_params), cmocka_unit_test(test_enums_ranges_defaults),
        cmocka_unit_test(test_refs_resolve),    cmocka_unit_test(test_operation_ids_unique),
        cmocka_unit_test(test_fixed_routes),    cmocka_unit_test(test_error_schema),
        cmocka_unit_test(test_param_types),     cmocka_unit_test(test_op),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
