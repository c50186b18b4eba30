/*
 * openapi.c - the OpenAPI 3.1 description of the HTTP API, made from the
 * operation table, so a new op is documented the moment it exists.
 *
 * Every op is POST /api/<group>/<verb> (one-word ops: /api/<op>) whose JSON
 * body is the op's parameters: the schema of each comes from its disco_param
 * (type, choices as enum, range as minimum/maximum, default, help), the
 * required ones are listed, and unknown ones are refused
 * (additionalProperties: false), as disco_ops_validate() does. A quick op
 * answers 200 with its result; a long one (DISCO_OP_LONG) 202 with the job
 * that runs it. x-disco-role names the least token role that may call it
 * (access.h). An op that reads an input stream ("-") also takes the input
 * itself as the body (openapi_streams.c). The fixed routes are in
 * openapi_routes.c, the shared components in openapi_schemas.c.
 */
#include "openapi_int.h"

#include "disco/access.h"
#include "disco/version.h"

#include <stdio.h>
#include <string.h>

/* Paths that are other names for an op, kept in step with the server's router. */
static const struct {
    const char *path, *op, *operation_id;
} aliases[] = {
    {"/api/analyze/time-series", "ts.analyze", "analyze_time_series"},
    {"/api/search/similar", "vec.search", "search_similar"},
};

json_t *disco__openapi_ref(const char *kind, const char *name)
{
    char ref[160];

    snprintf(ref, sizeof ref, "#/components/%s/%s", kind, name);
    return json_pack("{s:s}", "$ref", ref);
}

static json_t *list_schema(const disco_param *p, int in_query)
{
    json_t *item;

    if (in_query)
        return json_pack("{s:s}", "type", "string");
    if (p->type == DISCO_P_IDS)
        item = disco__openapi_ref("schemas", "ResourceId");
    else if (p->type == DISCO_P_HASHES)
        item = disco__openapi_ref("schemas", "ObjectHash");
    else
        item = json_pack("{s:s, s:i}", "type", "string", "minLength", 1);
    return json_pack("{s:s, s:o}", "type", "array", "items", item);
}

/* The type part of a parameter's schema. */
static json_t *type_schema(const disco_param *p, int in_query)
{
    switch (p->type) {
    case DISCO_P_STRING:
    case DISCO_P_PATH:
        return json_pack("{s:s, s:i}", "type", "string", "minLength", 1);
    case DISCO_P_INT:
        return json_pack("{s:s}", "type", "integer");
    case DISCO_P_NUMBER:
        return json_pack("{s:s}", "type", "number");
    case DISCO_P_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case DISCO_P_STRINGS:
    case DISCO_P_IDS:
    case DISCO_P_HASHES:
        return list_schema(p, in_query);
    case DISCO_P_TAGS:
        return in_query ? json_pack("{s:s}", "type", "string")
                        : disco__openapi_ref("schemas", "Tags");
    case DISCO_P_OBJECT:
        return json_pack("{s:s}", "type", in_query ? "string" : "object");
    case DISCO_P_ID:
        return disco__openapi_ref("schemas", "ResourceId");
    case DISCO_P_HASH:
        return disco__openapi_ref("schemas", "ObjectHash");
    case DISCO_P_TIME:
        return disco__openapi_ref("schemas", "Time");
    case DISCO_P_JSON:
        return json_object(); /* any value */
    }
    return json_object();
}

/* The help text plus what a client must know about how the value is read. */
static void describe(const disco_param *p, int in_query, char *buf, size_t size)
{
    const char *note = "";

    if (p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_IN))
        note = " (over HTTP \"-\": the request body, sent in another media type than JSON; "
               "other values name a file on the server, refused unless it allows local paths)";
    else if (p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_OUT))
        note = " (over HTTP \"-\": what the operation writes is stored as an object and the "
               "result's 'output' gives its hash, size, media_type and url; other values name a "
               "file on the server, refused unless it allows local paths)";
    else if (p->type == DISCO_P_PATH)
        note = " (a file on the server; refused over HTTP unless the server allows local paths)";
    else if (p->type == DISCO_P_JSON)
        note = " (any JSON value; a string is read as JSON text)";
    else if (in_query &&
             (p->type == DISCO_P_STRINGS || p->type == DISCO_P_IDS || p->type == DISCO_P_HASHES))
        note = " (comma-separated)";
    else if (in_query && p->type == DISCO_P_TAGS)
        note = " (key=value pairs, comma-separated)";
    else if (in_query && p->type == DISCO_P_OBJECT)
        note = " (JSON text)";
    snprintf(buf, size, "%s%s", p->help ? p->help : disco_ptype_name(p->type), note);
}

/* A default is shown where its JSON form is what the schema describes. */
static int default_fits(const disco_param *p, int in_query)
{
    if (!p->def)
        return 0;
    return !in_query || p->type == DISCO_P_STRING || p->type == DISCO_P_INT ||
           p->type == DISCO_P_NUMBER || p->type == DISCO_P_BOOL || p->type == DISCO_P_PATH;
}

json_t *disco__openapi_param_schema(const disco_param *p, int in_query)
{
    json_t *s = type_schema(p, in_query);
    char text[1024];
    int bad = !s;

    describe(p, in_query, text, sizeof text);
    bad |= json_object_set_new(s, "description", json_string(text));
    if (p->choices) {
        json_t *e = json_array();
        for (int i = 0; p->choices[i]; i++)
            bad |= json_array_append_new(e, json_string(p->choices[i]));
        bad |= json_object_set_new(s, "enum", e);
    }
    if ((p->flags & DISCO_PARAM_RANGE) && p->type == DISCO_P_INT) {
        bad |= json_object_set_new(s, "minimum", json_integer((json_int_t)p->min));
        bad |= json_object_set_new(s, "maximum", json_integer((json_int_t)p->max));
    } else if (p->flags & DISCO_PARAM_RANGE) {
        bad |= json_object_set_new(s, "minimum", json_real(p->min));
        bad |= json_object_set_new(s, "maximum", json_real(p->max));
    }
    if (default_fits(p, in_query))
        bad |= json_object_set_new(s, "default", json_loads(p->def, JSON_DECODE_ANY, NULL));
    if (bad) {
        json_decref(s);
        return NULL;
    }
    return s;
}

json_t *disco__openapi_query_params(const disco_op *op, const char *const *skip)
{
    json_t *list = json_array();
    int bad = !list;

    for (const disco_param *p = op->params; !bad && p && p->name; p++) {
        int skipped = 0;
        for (size_t i = 0; skip && skip[i]; i++)
            skipped |= strcmp(skip[i], p->name) == 0;
        if (skipped)
            continue;
        json_t *schema = disco__openapi_param_schema(p, 1);
        bad |= json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:b, s:O?, s:o}", "name", p->name, "in", "query", "required",
                      (p->flags & DISCO_PARAM_REQUIRED) != 0, "description",
                      schema ? json_object_get(schema, "description") : NULL, "schema", schema));
    }
    if (bad) {
        json_decref(list);
        return NULL;
    }
    return list;
}

static json_t *request_body(const disco_op *op)
{
    json_t *props = json_object(), *required = json_array(), *schema;
    int bad = !props || !required;

    for (const disco_param *p = op->params; !bad && p && p->name; p++) {
        bad |= json_object_set_new(props, p->name, disco__openapi_param_schema(p, 0));
        if (p->flags & DISCO_PARAM_REQUIRED)
            bad |= json_array_append_new(required, json_string(p->name));
    }
    schema = json_pack("{s:s, s:o, s:b}", "type", "object", "properties", props,
                       "additionalProperties", 0);
    bad |= !schema;
    if (!bad && json_array_size(required))
        bad |= json_object_set(schema, "required", required);
    json_decref(required);
    if (bad) {
        json_decref(schema);
        return NULL;
    }
    json_t *body =
        json_pack("{s:s, s:b, s:{s:{s:o}}}", "description", "the parameters, as a JSON object",
                  "required", json_array_size(json_object_get(schema, "required")) > 0, "content",
                  "application/json", "schema", schema);
    if (body && disco__openapi_stream_body(op, body) != DISCO_OK) {
        json_decref(body);
        return NULL;
    }
    return body;
}

static json_t *op_responses(const disco_op *op)
{
    static const unsigned quick[] = {400, 401, 403, 404, 409, 413, 415, 0};
    static const unsigned slow[] = {400, 401, 403, 404, 409, 413, 415, 503, 0};
    char text[160];
    json_t *r;

    snprintf(text, sizeof text, "the result of %s", op->name);
    if (op->flags & DISCO_OP_LONG)
        r = json_pack("{s:o}", "202", disco__openapi_ref("responses", "JobAccepted"));
    else
        r = json_pack("{s:{s:s, s:{s:{s:{s:s}}}}}", "200", "description", text, "content",
                      "application/json", "schema", "type", "object");
    if (!r)
        return NULL;
    disco__openapi_errors(r, (op->flags & DISCO_OP_LONG) ? slow : quick);
    return r;
}

/* "resource.create" -> "resource_create"; "model.analyze-training" -> "model_analyze_training". */
static void operation_id(const char *name, char *buf, size_t size)
{
    size_t i;

    for (i = 0; name[i] && i + 1 < size; i++)
        buf[i] = (name[i] == '.' || name[i] == '-') ? '_' : name[i];
    buf[i] = '\0';
}

static json_t *operation(const disco_op *op, const char *id)
{
    char group[64];
    const char *dot = strchr(op->name, '.');

    snprintf(group, sizeof group, "%.*s", dot ? (int)(dot - op->name) : 4, dot ? op->name : "misc");
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:[s], s:o, s:o, s:s, s:b, s:s}", "operationId", id, "summary",
                  op->summary, "description", op->help ? op->help : op->summary, "tags", group,
                  "requestBody", request_body(op), "responses", op_responses(op), "x-disco-op",
                  op->name, "x-disco-job", (op->flags & DISCO_OP_LONG) != 0, "x-disco-role",
                  disco_apitoken_role_name(disco_access_op_role(op)));
    json_t *query = disco__openapi_stream_query(op);

    if (o && disco__openapi_stream_out(op, o) != DISCO_OK) {
        json_decref(o);
        o = NULL;
    }
    if (o && query && json_object_set_new(o, "parameters", query) != 0) {
        json_decref(o);
        return NULL;
    }
    if (!o)
        json_decref(query);
    return o;
}

/* POST /api/<group>/<verb> for every op, then the aliases. */
static int op_paths(json_t *paths)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);
    char path[160], id[128];
    int bad = 0;

    for (size_t i = 0; i < n && !bad; i++) {
        snprintf(path, sizeof path, "/api/%s", all[i]->name);
        char *dot = strchr(path, '.');
        if (dot)
            *dot = '/';
        operation_id(all[i]->name, id, sizeof id);
        bad |= json_object_set_new(paths, path, json_pack("{s:o}", "post", operation(all[i], id)));
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0] && !bad; i++) {
        const disco_op *op = disco_ops_find(aliases[i].op);
        if (op)
            bad |= json_object_set_new(
                paths, aliases[i].path,
                json_pack("{s:o}", "post", operation(op, aliases[i].operation_id)));
    }
    return bad ? DISCO_ERR_NOMEM : DISCO_OK;
}

static const char info_text[] =
    "Disco-Musica: text-to-music generation, audio analysis and mastering, versioned resources "
    "with lineage, time-series analytics and vector search. Every operation is POST "
    "/api/<group>/<verb> with its parameters as a JSON object; long operations answer 202 with "
    "a job to follow at /api/jobs/{id} (events as server-sent events at /api/jobs/{id}/events). "
    "Jobs live in the server's memory: they do not survive a restart. Errors are "
    "{\"error\": {\"code\", \"message\", \"field\"}}.";

json_t *disco_ops_openapi(const char *server_url)
{
    json_t *paths = json_object();
    json_t *doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:[{s:[]}]}", "openapi", "3.1.0",
                            "info", "title", "Disco-Musica API", "version", disco_version(),
                            "description", info_text, "servers", "url",
                            server_url && *server_url ? server_url : "/", "security", "bearer");
    int bad = !doc || !paths;

    if (!bad)
        bad |= op_paths(paths) != DISCO_OK;
    if (!bad)
        bad |= disco__openapi_routes(paths) != DISCO_OK;
    if (!bad)
        bad |= json_object_set(doc, "paths", paths);
    if (!bad)
        bad |= json_object_set_new(doc, "components", disco__openapi_components());
    json_decref(paths);
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}
