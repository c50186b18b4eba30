/*
 * ops_object.c - object put|get|stat|verify|gc over the content-addressed store.
 */
#include "ops_int.h"

#include "disco/artefact.h"
#include "disco/timeutil.h"

#include <stdio.h>
#include <string.h>

static json_t *info_json(const disco_object_info *info)
{
    char when[DISCO_TIME_ISO_MAX];

    disco_time_format_iso(info->mtime_ms, when);
    return json_pack("{s:s, s:I, s:s}", "hash", info->hash, "size", (json_int_t)info->size,
                     "stored", when);
}

static int op_put(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *file = disco__param_str(params, "file");
    disco_objects *objs;
    disco_object_info info;
    int created = 0, rc = disco_ctx_objects(ctx, &objs, st);

    if (rc != DISCO_OK)
        return rc;
    if (strcmp(file, "-") == 0) {
        if (disco_ctx_in_fd(ctx) < 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                    "param 'file': \"-\" (standard input) is not available here");
        rc = disco_objects_put_fd(objs, disco_ctx_in_fd(ctx), disco_ctx_progress(ctx), &info,
                                  &created, st);
    } else {
        rc = disco_objects_put_file(objs, file, disco_ctx_progress(ctx), &info, &created, st);
    }
    if (rc != DISCO_OK)
        return rc;
    *result = info_json(&info);
    json_object_set_new(*result, "created", json_boolean(created));
    return DISCO_OK;
}

static int op_get(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *hash = disco__param_str(params, "hash");
    const char *output = disco__param_str(params, "output");
    uint64_t offset = (uint64_t)disco__param_int(params, "offset", 0);
    int64_t length = disco__param_int(params, "length", -1);
    disco_objects *objs;
    disco_object_info info;
    int rc = disco_ctx_objects(ctx, &objs, st);

    if (rc == DISCO_OK)
        rc = disco_objects_stat(objs, hash, &info, st);
    if (rc != DISCO_OK)
        return rc;
    if (strcmp(output, "-") != 0) {
        if (offset != 0 || length >= 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "offset",
                                    "param 'offset': byte ranges go to standard output "
                                    "(\"-o -\"), not to a file");
        rc = disco_objects_get_file(objs, hash, output, disco_ctx_progress(ctx), st);
    } else if (disco_ctx_out_fd(ctx) < 0) {
        return disco_status_set(st, DISCO_ERR_INVAL, "output",
                                "param 'output': \"-\" (standard output) is not available here");
    } else {
        rc = disco_objects_get_fd(objs, hash, offset,
                                  length < 0 ? DISCO_OBJECT_TO_END : (uint64_t)length,
                                  disco_ctx_out_fd(ctx), disco_ctx_progress(ctx), st);
    }
    if (rc != DISCO_OK)
        return rc;
    *result = info_json(&info);
    json_object_set_new(*result, "output", json_string(output));
    return DISCO_OK;
}

static int op_stat(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_objects *objs;
    disco_object_info info;
    int rc = disco_ctx_objects(ctx, &objs, st);

    if (rc == DISCO_OK)
        rc = disco_objects_stat(objs, disco__param_str(params, "hash"), &info, st);
    if (rc == DISCO_OK)
        *result = info_json(&info);
    return rc;
}

/* Collects every stored hash when verify is given none. */
static int collect_hash(void *user, const disco_object_info *info)
{
    return json_array_append_new(user, json_string(info->hash));
}

typedef struct verify_tally {
    size_t checked, bad;
    char first_bad[DISCO_STATUS_MSG_MAX];
} verify_tally;

static int verify_one(disco_objects *objs, const char *hash, const disco_progress *prog,
                      json_t *problems, verify_tally *t)
{
    disco_status one = {0};
    int rc = disco_objects_verify(objs, hash, prog, &one);

    t->checked++;
    if (rc == DISCO_ERR_CANCELLED)
        return rc;
    if (rc == DISCO_OK)
        return DISCO_OK;
    if (t->bad++ == 0)
        snprintf(t->first_bad, sizeof t->first_bad, "%s", disco_status_message(&one));
    json_array_append_new(problems,
                          json_pack("{s:s, s:s, s:s}", "hash", hash, "problem", disco_errname(rc),
                                    "message", disco_status_message(&one)));
    return DISCO_OK;
}

static int op_verify(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const json_t *given = disco__param_json(params, "hashes");
    json_t *hashes = given ? json_incref((json_t *)given) : json_array(), *problems = json_array();
    verify_tally t = {0};
    disco_objects *objs;
    size_t i;
    int rc = disco_ctx_objects(ctx, &objs, st);

    if (rc == DISCO_OK && !given)
        rc = disco_objects_foreach(objs, collect_hash, hashes, st);
    for (i = 0; rc == DISCO_OK && i < json_array_size(hashes); i++)
        rc = verify_one(objs, json_string_value(json_array_get(hashes, i)), disco_ctx_progress(ctx),
                        problems, &t);
    if (rc == DISCO_OK && t.bad)
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "hashes", "%zu of %zu objects failed: %s%s",
                              t.bad, t.checked, t.first_bad, t.bad > 1 ? " (and more)" : "");
    if (rc == DISCO_OK)
        *result = json_pack("{s:I, s:I, s:O}", "checked", (json_int_t)t.checked, "ok",
                            (json_int_t)(t.checked - t.bad), "problems", problems);
    json_decref(hashes);
    json_decref(problems);
    return rc;
}

static int op_gc(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_objects *objs;
    int rc = disco_ctx_catalog(ctx, &cat, st);

    if (rc == DISCO_OK)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (rc == DISCO_OK)
        rc = disco_artefact_gc(cat, objs, disco__param_bool(params, "apply", 0),
                               disco__param_int(params, "grace", 3600) * 1000, result, st);
    return rc;
}

#define P_HASH                                                                                     \
    {                                                                                              \
        .name = "hash", .type = DISCO_P_HASH,                                                      \
        .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL, .help = "object hash (SHA-256)"    \
    }

static const disco_param put_params[] = {
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "file to store (\"-\" reads standard input)"},
    {0},
};

static const disco_param get_params[] = {
    P_HASH,
    {.name = "output",
     .type = DISCO_P_PATH,
     .short_flag = 'o',
     .def = "\"-\"",
     .help = "where to write it (\"-\": standard output)"},
    {.name = "offset",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 9e15,
     .help = "first byte of a range (with -o -)"},
    {.name = "length",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 9e15,
     .help = "bytes in the range (default: to the end)"},
    {0},
};

static const disco_param stat_params[] = {P_HASH, {0}};

static const disco_param verify_params[] = {
    {.name = "hashes",
     .type = DISCO_P_HASHES,
     .flags = DISCO_PARAM_POSITIONAL,
     .help = "objects to check (default: all)"},
    {0},
};

static const disco_param gc_params[] = {
    {.name = "apply", .type = DISCO_P_BOOL, .help = "really delete (default: only report)"},
    {.name = "grace",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 1e9,
     .def = "3600",
     .help = "seconds: leave objects younger than this alone"},
    {0},
};

const disco_op disco__ops_object[] = {
    {.name = "object.put",
     .summary = "store a file in the content-addressed object store",
     .params = put_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_put},
    {.name = "object.get",
     .summary = "copy an object (or a byte range of it) out",
     .params = get_params,
     .flags = DISCO_OP_LONG,
     .fn = op_get},
    {.name = "object.stat",
     .summary = "size and time of an object",
     .params = stat_params,
     .fn = op_stat},
    {.name = "object.verify",
     .summary = "re-hash objects to detect corruption on disk",
     .params = verify_params,
     .flags = DISCO_OP_LONG,
     .fn = op_verify},
    {.name = "object.gc",
     .summary = "find (and with --apply remove) objects nothing refers to",
     .params = gc_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_gc},
    {0},
};
