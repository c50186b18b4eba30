/*
 * openapi_schemas.c - the components of the OpenAPI document: the schemas
 * of errors, identifiers, resources, objects and jobs, the shared responses
 * and path parameters, and the bearer-token security scheme.
 */
#include "openapi_int.h"

#define ULID_PATTERN "^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$"

static json_t *ref(const char *name)
{
    return disco__openapi_ref("schemas", name);
}

/* The codes of disco_err (err.h) but OK, as the error body names them. */
static json_t *error_codes(void)
{
    json_t *codes = json_array();
#define DISCO__OPENAPI_CODE(name, value, msg)                                                      \
    if ((value) != 0)                                                                              \
        json_array_append_new(codes, json_string(#name));
    DISCO_ERR_MAP(DISCO__OPENAPI_CODE)
#undef DISCO__OPENAPI_CODE
    return codes;
}

static int error_schemas(json_t *s)
{
    int bad = 0;

    bad |= json_object_set_new(
        s, "ErrorBody",
        json_pack("{s:s, s:[s, s], s:{s:{s:s, s:o, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}}", "type",
                  "object", "required", "code", "message", "properties", "code", "type", "string",
                  "enum", error_codes(), "description", "the disco_err name", "message", "type",
                  "string", "description", "what was wrong, naming the input", "field", "type",
                  "string", "description",
                  "the parameter or input it is about, when there is one"));
    bad |= json_object_set_new(s, "Error",
                               json_pack("{s:s, s:[s], s:{s:o}}", "type", "object", "required",
                                         "error", "properties", "error", ref("ErrorBody")));
    return bad;
}

static int id_schemas(json_t *s)
{
    int bad = 0;

    bad |=
        json_object_set_new(s, "ResourceId",
                            json_pack("{s:s, s:s, s:s}", "type", "string", "pattern", ULID_PATTERN,
                                      "description", "26 characters of Crockford base32 (a ULID)"));
    bad |= json_object_set_new(s, "JobId",
                               json_pack("{s:s, s:s, s:s}", "type", "string", "pattern",
                                         ULID_PATTERN, "description", "a job's id (a ULID)"));
    bad |= json_object_set_new(s, "ObjectHash",
                               json_pack("{s:s, s:s, s:s}", "type", "string", "pattern",
                                         "^[0-9a-fA-F]{64}$", "description",
                                         "SHA-256 of the object's bytes, 64 hex digits"));
    bad |= json_object_set_new(s, "Tags",
                               json_pack("{s:s, s:{s:s}, s:s}", "type", "object",
                                         "additionalProperties", "type", "string", "description",
                                         "string labels, key to value"));
    bad |= json_object_set_new(s, "Time",
                               json_pack("{s:[{s:s, s:s}, {s:s, s:s}]}", "oneOf", "type", "integer",
                                         "description", "Unix milliseconds", "type", "string",
                                         "description", "ISO 8601 date-time"));
    return bad;
}

static int resource_schemas(json_t *s)
{
    int bad = 0;

    bad |= json_object_set_new(
        s, "Resource",
        json_pack("{s:s, s:[s, s, s], s:{s:o, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:i}, "
                  "s:{s:s}, s:{s:s, s:o}, s:o, s:{s:s}, s:{s:o}, s:{s:s}}}",
                  "type", "object", "required", "resource_id", "resource_type", "version",
                  "properties", "resource_id", ref("ResourceId"), "resource_type", "type", "string",
                  "creation_timestamp", "type", "string", "modification_timestamp", "type",
                  "string", "version", "type", "integer", "minimum", 1, "deleted", "type",
                  "boolean", "parent_resources", "type", "array", "items", ref("ResourceId"),
                  "tags", ref("Tags"), "access_control", "type", "object", "object", "oneOf",
                  json_pack("[o, {s:s}]", ref("ObjectHash"), "type", "null"), "metadata", "type",
                  "object"));
    bad |= json_object_set_new(s, "ResourceList",
                               json_pack("{s:s, s:[s, s], s:{s:{s:s, s:o}, s:{s:s}, s:o}}", "type",
                                         "object", "required", "items", "count", "properties",
                                         "items", "type", "array", "items", ref("Resource"),
                                         "count", "type", "integer", "next", ref("ResourceId")));
    bad |=
        json_object_set_new(s, "ObjectInfo",
                            json_pack("{s:s, s:[s, s], s:{s:o, s:{s:s, s:i}}}", "type", "object",
                                      "required", "hash", "size", "properties", "hash",
                                      ref("ObjectHash"), "size", "type", "integer", "minimum", 0));
    return bad;
}

static json_t *nullable_ms(const char *text)
{
    return json_pack("{s:[s, s], s:s}", "type", "integer", "null", "description", text);
}

static int job_schemas(json_t *s)
{
    int bad = 0;

    bad |= json_object_set_new(s, "JobState",
                               json_pack("{s:s, s:[s, s, s, s, s]}", "type", "string", "enum",
                                         "queued", "running", "succeeded", "failed", "cancelled"));
    bad |= json_object_set_new(s, "Progress",
                               json_pack("{s:s, s:{s:{s:s}, s:{s:s, s:i}, s:{s:s, s:i, s:s}}}",
                                         "type", "object", "properties", "stage", "type", "string",
                                         "done", "type", "integer", "minimum", 0, "total", "type",
                                         "integer", "minimum", 0, "description", "0 when unknown"));
    bad |= json_object_set_new(
        s, "Job",
        json_pack("{s:s, s:[s, s, s, s], s:{s:o, s:{s:s}, s:o, s:{s:s}, s:{s:s}, s:o, s:o, "
                  "s:{s:s}, s:o, s:{s:s, s:s}, s:o}}",
                  "type", "object", "required", "id", "op", "state", "created_ms", "properties",
                  "id", ref("JobId"), "op", "type", "string", "state", ref("JobState"), "principal",
                  "type", "string", "created_ms", "type", "integer", "started_ms",
                  nullable_ms("when it started running"), "finished_ms",
                  nullable_ms("when it reached its final state"), "cancel_requested", "type",
                  "boolean", "progress", ref("Progress"), "result", "type", "object", "description",
                  "the op's result, once succeeded", "error", ref("ErrorBody")));
    bad |= json_object_set_new(s, "JobAccepted",
                               json_pack("{s:s, s:[s, s], s:{s:o, s:{s:s}, s:{s:s}}}", "type",
                                         "object", "required", "job", "status_url", "properties",
                                         "job", ref("JobId"), "status_url", "type", "string",
                                         "events_url", "type", "string"));
    bad |= json_object_set_new(
        s, "JobEvent",
        json_pack("{s:s, s:[s, s, s], s:{s:{s:s, s:i}, s:{s:s}, s:{s:s, s:[s, s]}, s:o, s:{s:s}, "
                  "s:{s:s}, s:{s:s}}}",
                  "type", "object", "required", "seq", "type", "state", "properties", "seq", "type",
                  "integer", "minimum", 1, "time_ms", "type", "integer", "type", "type", "string",
                  "enum", "state", "progress", "state", ref("JobState"), "stage", "type", "string",
                  "done", "type", "integer", "total", "type", "integer"));
    return bad;
}

static json_t *path_param(const char *name, const char *schema, const char *text)
{
    return json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "in", "path", "required", 1,
                     "description", text, "schema", ref(schema));
}

static json_t *shared_responses(void)
{
    json_t *r = disco__openapi_error_responses();

    if (!r)
        return NULL;
    if (json_object_set_new(r, "JobAccepted",
                            json_pack("{s:s, s:{s:{s:s, s:{s:s}}}, s:{s:{s:o}}}", "description",
                                      "accepted: runs as a job; follow status_url (or its events)",
                                      "headers", "Location", "description", "the job's status URL",
                                      "schema", "type", "string", "content", "application/json",
                                      "schema", ref("JobAccepted")))) {
        json_decref(r);
        return NULL;
    }
    return r;
}

json_t *disco__openapi_components(void)
{
    json_t *s = json_object();

    if (!s || error_schemas(s) | id_schemas(s) | resource_schemas(s) | job_schemas(s)) {
        json_decref(s);
        return NULL;
    }
    return json_pack("{s:o, s:o, s:{s:o, s:o, s:o}, s:{s:{s:s, s:s, s:s}}}", "schemas", s,
                     "responses", shared_responses(), "parameters", "ResourceIdPath",
                     path_param("id", "ResourceId", "the resource"), "ObjectHashPath",
                     path_param("hash", "ObjectHash", "the object's SHA-256"), "JobIdPath",
                     path_param("id", "JobId", "the job"), "securitySchemes", "bearer", "type",
                     "http", "scheme", "bearer", "description",
                     "an API token (dm_ followed by 64 hex digits)");
}
