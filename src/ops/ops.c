/*
 * ops.c - the operation table: lookup, description, and calling.
 */
#include "ops_int.h"

#include "disco/id.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const disco_op *const *g_table;
static size_t g_count;

static int cmp_op(const void *a, const void *b)
{
    const disco_op *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Joins the group tables once; the result is immutable afterwards. */
static void build_table(void)
{
    static const disco_op *const groups[] = {
        disco__ops_misc,     disco__ops_resource, disco__ops_object, disco__ops_ts,
        disco__ops_analysis, disco__ops_monitor,  disco__ops_vec,    disco__ops_audio,
        disco__ops_corpus,   disco__ops_music,    disco__ops_token};
    static const disco_op *all[256];
    size_t n = 0;

    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (const disco_op *op = groups[g]; op->name; op++) {
            DISCO_ASSERT(n < sizeof all / sizeof all[0]);
            all[n++] = op;
        }
    qsort(all, n, sizeof all[0], cmp_op);
    g_table = all;
    g_count = n;
}

const disco_op *const *disco_ops_all(size_t *n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, build_table);
    if (n)
        *n = g_count;
    return g_table;
}

const disco_op *disco_ops_find(const char *name)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    for (size_t i = 0; name && i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

/* Compares a schema name with a user's spelling, '-' matching '_'. */
static int same_name(const char *schema, const char *given)
{
    for (; *schema && *given; schema++, given++) {
        char g = *given == '-' ? '_' : *given;
        if (*schema != g)
            return 0;
    }
    return *schema == *given;
}

const disco_param *disco_ops_param(const disco_op *op, const char *name)
{
    for (const disco_param *p = op->params; p && p->name; p++)
        if (same_name(p->name, name))
            return p;
    return NULL;
}

const char *disco_ptype_name(disco_ptype t)
{
    static const char *const names[] = {
        [DISCO_P_STRING] = "string", [DISCO_P_INT] = "integer",     [DISCO_P_NUMBER] = "number",
        [DISCO_P_BOOL] = "boolean",  [DISCO_P_STRINGS] = "strings", [DISCO_P_IDS] = "ids",
        [DISCO_P_TAGS] = "tags",     [DISCO_P_OBJECT] = "json",     [DISCO_P_PATH] = "path",
        [DISCO_P_ID] = "id",         [DISCO_P_HASH] = "hash",       [DISCO_P_HASHES] = "hashes",
        [DISCO_P_TIME] = "time",     [DISCO_P_JSON] = "json-value",
    };
    if ((unsigned)t >= sizeof names / sizeof names[0])
        return "?";
    return names[t];
}

static json_t *describe_param(const disco_param *p)
{
    json_t *j =
        json_pack("{s:s, s:s, s:b, s:b, s:s}", "name", p->name, "type", disco_ptype_name(p->type),
                  "required", (p->flags & DISCO_PARAM_REQUIRED) != 0, "positional",
                  (p->flags & DISCO_PARAM_POSITIONAL) != 0, "help", p->help ? p->help : "");
    if (p->def)
        json_object_set_new(j, "default", json_loads(p->def, JSON_DECODE_ANY, NULL));
    if (p->flags & DISCO_PARAM_RANGE) {
        json_object_set_new(j, "min", json_real(p->min));
        json_object_set_new(j, "max", json_real(p->max));
    }
    if (p->choices) {
        json_t *c = json_array();
        for (int i = 0; p->choices[i]; i++)
            json_array_append_new(c, json_string(p->choices[i]));
        json_object_set_new(j, "choices", c);
    }
    return j;
}

json_t *disco_ops_describe(void)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    json_t *ops = json_array();

    for (size_t i = 0; i < n; i++) {
        json_t *params = json_array();
        for (const disco_param *p = all[i]->params; p && p->name; p++)
            json_array_append_new(params, describe_param(p));
        json_array_append_new(
            ops, json_pack("{s:s, s:s, s:b, s:b, s:o}", "name", all[i]->name, "summary",
                           all[i]->summary, "writes", (all[i]->flags & DISCO_OP_WRITES) != 0,
                           "long", (all[i]->flags & DISCO_OP_LONG) != 0, "params", params));
    }
    return ops;
}

int disco_ops_call(disco_ctx *ctx, const disco_op *op, const json_t *raw, json_t **result,
                   disco_status *st)
{
    json_t *params;
    int rc;

    rc = disco_ops_validate(op, raw, &params, st);
    if (rc != DISCO_OK)
        return rc;
    rc = disco_ops_run(ctx, op, params, result, st);
    json_decref(params);
    return rc;
}

int disco_ops_run(disco_ctx *ctx, const disco_op *op, const json_t *params, json_t **result,
                  disco_status *st)
{
    int rc;

    *result = NULL;
    rc = op->fn(ctx, params, result, st);
    if (rc == DISCO_OK && !*result)
        rc = disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "%s returned no result", op->name);
    if (rc != DISCO_OK && *result) {
        json_decref(*result);
        *result = NULL;
    }
    return rc;
}

/* ---- typed getters for handlers ----------------------------------------- */

const char *disco__param_str(const json_t *params, const char *name)
{
    return json_string_value(json_object_get(params, name));
}

int64_t disco__param_int(const json_t *params, const char *name, int64_t def)
{
    json_t *v = json_object_get(params, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

int disco__param_bool(const json_t *params, const char *name, int def)
{
    json_t *v = json_object_get(params, name);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

const json_t *disco__param_json(const json_t *params, const char *name)
{
    return json_object_get(params, name);
}

int disco__resource_result(const disco_resource *r, json_t **result, disco_status *st)
{
    *result = disco_resource_to_json(r);
    if (!*result)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

/* Text params that take "a file or the id of a resource" (audio input, reference, model). */
static int file_or_id(const disco_param *p)
{
    static const char *const names[] = {"input", "reference", "model"};

    for (size_t i = 0; p->type == DISCO_P_STRING && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(p->name, names[i]) == 0)
            return 1;
    return 0;
}

int disco_ops_param_names_file(const disco_param *p, const json_t *v)
{
    const char *s = json_string_value(v);

    if (p->type == DISCO_P_PATH && s && strcmp(s, "-") == 0 &&
        (p->flags & (DISCO_PARAM_STREAM_IN | DISCO_PARAM_STREAM_OUT)))
        return 0;
    if (p->type == DISCO_P_PATH)
        return !json_is_null(v);
    if (file_or_id(p))
        return s && !disco_id_valid(s);
    return (p->type == DISCO_P_OBJECT || p->type == DISCO_P_JSON) && s && s[0] == '@';
}
