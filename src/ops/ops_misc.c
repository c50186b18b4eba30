/*
 * ops_misc.c - top-level operations: version, and the table's own schema.
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

static const disco_param no_params[] = {{0}};

const disco_op disco__ops_misc[] = {
    {.name = "version", .summary = "show the version", .params = no_params, .fn = op_version},
    {.name = "ops.describe",
     .summary = "every operation with its parameter schema, as JSON",
     .params = no_params,
     .fn = op_describe},
    {0},
};
