/*
 * ops_misc.c - top-level operations: version, and the table's own schema (as
 * JSON and as OpenAPI).
 */
#include "ops_int.h"

#include "disco/version.h"

static int op_version(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    (void)ctx;
    (void)params;
    *result = json_pack("{s:s, s:s, s:s}", "name", "disco", "version", disco_version(), "jansson",
                        JANSSON_VERSION);
    if (!*result)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

static int op_describe(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    (void)ctx;
    (void)params;
    *result = json_pack("{s:o}", "ops", disco_ops_describe());
    if (!*result)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

static int op_openapi(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    (void)ctx;
    *result = disco_ops_openapi(disco__param_str(params, "server"));
    if (!*result)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

static const disco_param no_params[] = {{0}};

static const disco_param openapi_params[] = {
    {.name = "server",
     .type = DISCO_P_STRING,
     .def = "\"http://127.0.0.1:8080\"",
     .help = "base URL of the server the document describes (\"/\": the host serving it)"},
    {0},
};

const disco_op disco__ops_misc[] = {
    {.name = "version", .summary = "show the version", .params = no_params, .fn = op_version},
    {.name = "ops.describe",
     .summary = "every operation with its parameter schema, as JSON",
     .params = no_params,
     .fn = op_describe},
    {.name = "ops.openapi",
     .summary = "the HTTP API as an OpenAPI 3.1 document (print it with --json)",
     .help = "Every operation is POST /api/<group>/<verb>; the document is generated from the\n"
             "operation table, as GET /api/openapi.json serves it.\n\n"
             "  disco ops openapi --json > openapi.json\n"
             "  disco ops openapi --server https://music.example.org --json",
     .params = openapi_params,
     .fn = op_openapi},
    {0},
};
