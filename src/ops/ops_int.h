/*
 * ops_int.h - internals shared by the files of the ops layer.
 *
 * Each group of operations lives in ops_<group>.c and exports its table,
 * terminated by an entry whose name is NULL; ops.c joins them.
 */
#ifndef DISCO_OPS_INT_H
#define DISCO_OPS_INT_H

#include "disco/ops.h"

extern const disco_op disco__ops_misc[];
extern const disco_op disco__ops_resource[];
extern const disco_op disco__ops_object[];
extern const disco_op disco__ops_ts[];
extern const disco_op disco__ops_analysis[];
extern const disco_op disco__ops_monitor[];
extern const disco_op disco__ops_vec[];
extern const disco_op disco__ops_audio[];
extern const disco_op disco__ops_corpus[];
extern const disco_op disco__ops_music[];
extern const disco_op disco__ops_token[];

/* An integer parameter in lo..hi with default `d` (JSON text, or NULL). */
#define DISCO__P_INT(n, lo, hi, d, h)                                                              \
    {                                                                                              \
        .name = n, .type = DISCO_P_INT, .flags = DISCO_PARAM_RANGE, .min = lo, .max = hi,          \
        .def = d, .help = h                                                                        \
    }

#define MATCHERS_MAX 32

/* A tsdb selector from the metric/where/from/to parameters (ops_ts.c). */
typedef struct sel_params {
    disco_ts_selector sel;
    disco_ts_matcher m[MATCHERS_MAX];
} sel_params;

int disco__ts_selector(const json_t *params, sel_params *sp, disco_status *st);

/* Typed getters for validated parameters (absent: the default given). */
const char *disco__param_str(const json_t *params, const char *name);
int64_t disco__param_int(const json_t *params, const char *name, int64_t def);
int disco__param_bool(const json_t *params, const char *name, int def);
const json_t *disco__param_json(const json_t *params, const char *name);

/* Converts a raw string to a parameter's type (the CLI's words). */
int disco__param_from_string(const disco_param *p, const char *s, json_t **out, disco_status *st);

/* Short description of a JSON value for messages: "\"ten\"", "3.5", "an object". */
void disco__json_brief(const json_t *v, char *buf, size_t size);

/*
 * Reads the whole input named by a path parameter ("-": the context's input
 * stream) into a malloc'd buffer (NUL-terminated), at most `max` bytes.
 * Errors name the parameter and the file.
 */
int disco__read_input(disco_ctx *ctx, const char *param, const char *path, size_t max, char **buf,
                      size_t *len, disco_status *st);

/* <data>/<sub>, created (with the data folder) when missing (ctx.c). */
int disco__ctx_data_path(disco_ctx *ctx, const char *sub, char *buf, size_t size, disco_status *st);

/* The vector pool the context shares (ctx.c), or NULL. */
disco_vec_pool *disco__ctx_vec_pool(const disco_ctx *ctx);

/*
 * Collection `name` under `root` for an op (vecpool.c): from the context's
 * pool when it shares one, else opened for this op. Give it back with
 * disco__ctx_vindex_done(), which closes only what was opened for the op.
 */
struct disco_vindex;
int disco__ctx_vindex(disco_ctx *ctx, const char *root, const char *name, struct disco_vindex **v,
                      disco_status *st);
void disco__ctx_vindex_done(disco_ctx *ctx, struct disco_vindex *v);

/* A resource result for a handler: disco_resource_to_json(), checked. */
int disco__resource_result(const disco_resource *r, json_t **result, disco_status *st);

#endif
