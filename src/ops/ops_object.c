/*
 * ops_object.c - object put|get|stat|verify|gc over the content-addressed store.
 *
 * With a role (a request with an API token) objects follow the OBJECTS
 * rule of access.h: get, stat and verify of named hashes answer for an
 * object the principal may not read exactly as for one that is not
 * stored; a put records its uploader; verifying every object and gc are
 * for admins. Local use (no role) opens no catalog for these checks.
 */
#include "ops_int.h"

#include "disco/access.h"
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

static int limited(const disco_ctx *ctx)
{
    disco_role role = disco_ctx_role(ctx);

    return role != DISCO_ROLE_NONE && role != DISCO_ROLE_ADMIN;
}

/* The context's principal may read `hash`; else NOTFOUND as for a missing object. */
static int guard(disco_ctx *ctx, disco_objects *objs, const char *hash, disco_status *st)
{
    disco_catalog *cat = NULL;
    int rc = limited(ctx) ? disco_ctx_catalog(ctx, &cat, st) : DISCO_OK;

    if (rc == DISCO_OK)
        rc = disco_access_object_check(cat, objs, hash, disco_ctx_principal(ctx),
                                       disco_ctx_role(ctx), st);
    return rc;
}

/* Records the upload of a request with a role (access.h); *created as the caller may see it. */
static int note_upload(disco_ctx *ctx, const char *hash, int *created, disco_status *st)
{
    disco_catalog *cat;
    int rc;

    if (disco_ctx_role(ctx) == DISCO_ROLE_NONE)
        return DISCO_OK;
    rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_access_object_uploaded(cat, hash, disco_ctx_principal(ctx), disco_ctx_role(ctx),
                                          created, st);
    return rc;
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
    if (rc == DISCO_OK)
        rc = note_upload(ctx, info.hash, &created, st);
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
        rc = guard(ctx, objs, hash, st);
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
    const char *hash = disco__param_str(params, "hash");
    disco_objects *objs;
    disco_object_info info;
    int rc = disco_ctx_objects(ctx, &objs, st);

    if (rc == DISCO_OK)
        rc = guard(ctx, objs, hash, st);
    if (rc == DISCO_OK)
        rc = disco_objects_stat(objs, hash, &info, st);
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

/*
 * Verifies one object and tallies a problem; one the principal may not
 * read is a problem exactly as a missing one. Returns only what stops the
 * whole check (cancelled, the catalog failing), with its status in `st`.
 */
static int verify_one(disco_ctx *ctx, disco_objects *objs, const char *hash, json_t *problems,
                      verify_tally *t, disco_status *st)
{
    disco_status one = {0};
    int rc = guard(ctx, objs, hash, &one);

    if (rc != DISCO_OK && rc != DISCO_ERR_NOTFOUND) {
        *st = one;
        return rc;
    }
    if (rc == DISCO_OK)
        rc = disco_objects_verify(objs, hash, disco_ctx_progress(ctx), &one);
    t->checked++;
    if (rc == DISCO_ERR_CANCELLED)
        *st = one;
    if (rc == DISCO_OK || rc == DISCO_ERR_CANCELLED)
        return rc;
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

    if (rc == DISCO_OK && !given && limited(ctx))
        rc = disco_status_set(st, DISCO_ERR_PERM, "hashes",
                              "param 'hashes': checking every object needs role admin; this "
                              "token is %s, so name the objects to check",
                              disco_apitoken_role_name(disco_ctx_role(ctx)));
    if (rc == DISCO_OK && !given)
        rc = disco_objects_foreach(objs, collect_hash, hashes, st);
    for (i = 0; rc == DISCO_OK && i < json_array_size(hashes); i++)
        rc = verify_one(ctx, objs, json_string_value(json_array_get(hashes, i)), problems, &t, st);
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

/*
 * After gc removed objects: forgets the uploads of each removed one made
 * before `cutoff_ms` (a later upload may have stored the bytes again) and
 * adds "uploads_forgotten" to the report.
 */
static int forget_uploads(disco_catalog *cat, disco_objects *objs, json_t *report,
                          int64_t cutoff_ms, disco_status *st)
{
    const json_t *gone = json_object_get(report, "unreferenced");
    int64_t total = 0, n;
    disco_status missing = {0};
    size_t i;
    json_t *item;
    int rc = DISCO_OK;

    json_array_foreach (gone, i, item) {
        const char *hash = json_string_value(json_object_get(item, "hash"));
        if (rc != DISCO_OK || !hash ||
            disco_objects_stat(objs, hash, NULL, &missing) != DISCO_ERR_NOTFOUND)
            continue;
        rc = disco_catalog_upload_forget(cat, hash, cutoff_ms, &n, st);
        total += n;
    }
    if (rc == DISCO_OK && json_object_set_new(report, "uploads_forgotten", json_integer(total)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return rc;
}

static int op_gc(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    int64_t grace_ms = disco__param_int(params, "grace", 3600) * 1000;
    int64_t cutoff_ms = disco_time_now_ms() - grace_ms;
    int apply = disco__param_bool(params, "apply", 0);
    disco_catalog *cat;
    disco_objects *objs;
    int rc = disco_ctx_catalog(ctx, &cat, st);

    if (rc == DISCO_OK)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (rc == DISCO_OK)
        rc = disco_artefact_gc(cat, objs, apply, grace_ms, result, st);
    if (rc == DISCO_OK && apply)
        rc = forget_uploads(cat, objs, *result, cutoff_ms, st);
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
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL | DISCO_PARAM_STREAM_IN,
     .help = "file to store (\"-\" reads standard input)",
     .media = "application/octet-stream"},
    {0},
};

static const disco_param get_params[] = {
    P_HASH,
    {.name = "output",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_STREAM_OUT,
     .short_flag = 'o',
     .def = "\"-\"",
     .help = "where to write it (\"-\": standard output)",
     .media = "application/octet-stream"},
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
     .help = "Without hashes it checks every object, which needs role admin over the API.",
     .params = verify_params,
     .flags = DISCO_OP_LONG,
     .fn = op_verify},
    {.name = "object.gc",
     .summary = "find (and with --apply remove) objects nothing refers to",
     .help = "Lists the hashes of every unreferenced object: for admins only.",
     .params = gc_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG | DISCO_OP_ADMIN,
     .fn = op_gc},
    {0},
};
