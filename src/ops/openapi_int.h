/*
 * openapi_int.h - the pieces of the OpenAPI document shared by openapi.c
 * (operation paths made from the table), openapi_routes.c (the fixed
 * routes and error responses) and openapi_schemas.c (the components).
 */
#ifndef DISCO_OPENAPI_INT_H
#define DISCO_OPENAPI_INT_H

#include "ops_int.h"

/* "#/components/<kind>/<name>" as a {"$ref": ...} object. */
json_t *disco__openapi_ref(const char *kind, const char *name);

/*
 * The JSON Schema of one parameter: type, enum, bounds, default and its help
 * as description. `in_query`: as a URL query argument, where lists are
 * comma-separated text and objects JSON text.
 */
json_t *disco__openapi_param_schema(const disco_param *p, int in_query);

/*
 * Query parameters (OpenAPI Parameter objects) for every parameter of `op`
 * except those named in `skip` (NULL-terminated, may be NULL).
 */
json_t *disco__openapi_query_params(const disco_op *op, const char *const *skip);

/*
 * Adds the shared error responses to `responses`: one entry per status in
 * `statuses` (a 0-terminated list), each a $ref to components/responses.
 */
void disco__openapi_errors(json_t *responses, const unsigned *statuses);

/* The shared error responses (components/responses), each with the Error schema. */
json_t *disco__openapi_error_responses(void);

/* Adds the routes that are not "POST an op" (resources, objects, jobs, health) to `paths`. */
int disco__openapi_routes(json_t *paths);

/* ---- openapi_streams.c ---- */
/* Adds the media types of `op`'s input stream, if it has one, to its requestBody `body`. */
int disco__openapi_stream_body(const disco_op *op, json_t *body);
/* The query parameters that go with a body that is the input; NULL when op has no input stream. */
json_t *disco__openapi_stream_query(const disco_op *op);
/*
 * For an op with an output stream param (DISCO_PARAM_STREAM_OUT): appends
 * to `operation`'s description that over HTTP its output "-" is stored as
 * an object named by the result's "output". DISCO_OK or NOMEM.
 */
int disco__openapi_stream_out(const disco_op *op, json_t *operation);

/* The components object: schemas, responses, parameters, securitySchemes. */
json_t *disco__openapi_components(void);

#endif
