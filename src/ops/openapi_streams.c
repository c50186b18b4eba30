/*
 * openapi_streams.c - the OpenAPI part of the path "-" over HTTP: an op
 * with an input stream param (DISCO_PARAM_STREAM_IN) also takes its input
 * itself as the request body, in the param's media types (format: binary),
 * with its other parameters as query arguments. One with an output stream
 * param (DISCO_PARAM_STREAM_OUT) says that over HTTP its output "-" is
 * stored as an object, named in the result's "output".
 */
#include "openapi_int.h"

#include <stdio.h>
#include <string.h>

#define MEDIA_MAX 96

static const disco_param *stream_param(const disco_op *op)
{
    for (const disco_param *p = op->params; p && p->name; p++)
        if (p->type == DISCO_P_PATH && (p->flags & DISCO_PARAM_STREAM_IN))
            return p;
    return NULL;
}

/* Sets content[type] to a binary schema for each media type of `p`; 1 on failure. */
static int add_binary(json_t *content, const disco_param *p, const char *text)
{
    const char *m = p->media ? p->media : "application/octet-stream";
    char type[MEDIA_MAX];
    int bad = !content;

    while (*m && !bad) {
        size_t n = strcspn(m, " ");
        snprintf(type, sizeof type, "%.*s", (int)n, m);
        if (!json_object_get(content, type))
            bad |= json_object_set_new(content, type,
                                       json_pack("{s:{s:s, s:s, s:s}}", "schema", "type", "string",
                                                 "format", "binary", "description", text)) != 0;
        m += n;
        m += strspn(m, " ");
    }
    return bad;
}

int disco__openapi_stream_body(const disco_op *op, json_t *body)
{
    const disco_param *p = stream_param(op);
    char text[256];

    if (!p)
        return DISCO_OK;
    snprintf(text, sizeof text,
             "the input of '%s' itself (any media type but JSON), the parameters then in the "
             "query string; up to the server's upload limit",
             p->name);
    if (add_binary(json_object_get(body, "content"), p, text) ||
        json_object_set_new(body, "description",
                            json_string("the parameters as a JSON object, or the input itself "
                                        "in another media type with the parameters as query "
                                        "arguments")) != 0)
        return DISCO_ERR_NOMEM;
    return DISCO_OK;
}

json_t *disco__openapi_stream_query(const disco_op *op)
{
    const disco_param *p = stream_param(op);
    const char *const skip[] = {p ? p->name : NULL, NULL};
    json_t *list = p ? disco__openapi_query_params(op, skip) : NULL, *q;
    char text[1200];
    size_t i;
    int bad = 0;

    json_array_foreach (list, i, q) {
        snprintf(text, sizeof text, "only with a body that is the input (not JSON): %s",
                 json_string_value(json_object_get(q, "description")));
        bad |= json_object_set_new(q, "required", json_false()) != 0;
        bad |= json_object_set_new(q, "description", json_string(text)) != 0;
    }
    if (bad) {
        json_decref(list);
        return NULL;
    }
    return list;
}

int disco__openapi_stream_out(const disco_op *op, json_t *operation)
{
    const disco_param *p = NULL;
    const char *desc = json_string_value(json_object_get(operation, "description"));
    char text[4096];

    for (const disco_param *q = op->params; !p && q && q->name; q++)
        if (q->type == DISCO_P_PATH && (q->flags & DISCO_PARAM_STREAM_OUT))
            p = q;
    if (!p)
        return DISCO_OK;
    snprintf(text, sizeof text,
             "%s\n\nOver HTTP, with '%s' \"-\" (%s), what the operation writes (%s) is stored "
             "as a content-addressed object readable by the caller, and the result has "
             "\"output\": {\"hash\", \"size\", \"media_type\", \"url\"}, the url being "
             "/api/objects/{hash}. A failed or cancelled run stores nothing.",
             desc ? desc : op->summary, p->name,
             p->def && strcmp(p->def, "\"-\"") == 0 ? "the default" : "given explicitly",
             p->media ? p->media : "application/octet-stream");
    return json_object_set_new(operation, "description", json_string(text)) != 0
               ? DISCO_ERR_NOMEM
               : DISCO_OK;
}
