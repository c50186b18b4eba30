/*
 * ops_resource.c - resource create|get|update|list|history|lineage|delete.
 *
 * When the context carries a role (a request with an API token), every op
 * checks the ACL of what it touches for the context's principal (access.h):
 * what it may not read does not exist for it (NOTFOUND, never PERM).
 */
#include "ops_int.h"

#include "disco/access.h"
#include "disco/artefact.h"

#include <string.h>

#define P_ID                                                                                       \
    {                                                                                              \
        .name = "id", .type = DISCO_P_ID, .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,  \
        .help = "resource id"                                                                      \
    }

/* An access_control object from public/readers/writers (only those given). */
static json_t *acl_from_params(const json_t *params, const char *owner)
{
    json_t *acl = json_object();
    const json_t *v;

    if (owner)
        json_object_set_new(acl, "owner", json_string(owner));
    if ((v = disco__param_json(params, "readers")))
        json_object_set(acl, "readers", (json_t *)v);
    if ((v = disco__param_json(params, "writers")))
        json_object_set(acl, "writers", (json_t *)v);
    if ((v = disco__param_json(params, "public")))
        json_object_set(acl, "public", (json_t *)v);
    return acl;
}

/* The payload named by the "file" parameter ("-" = the context's input). */
static int payload_from_params(disco_ctx *ctx, const json_t *params, disco_payload *pl,
                               disco_status *st)
{
    const char *file = disco__param_str(params, "file");

    pl->path = NULL;
    pl->fd = -1;
    if (!file)
        return DISCO_OK;
    if (strcmp(file, "-") != 0) {
        pl->path = file;
        return DISCO_OK;
    }
    pl->fd = disco_ctx_in_fd(ctx);
    if (pl->fd < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "param 'file': \"-\" (standard input) is not available here");
    return DISCO_OK;
}

static int open_stores(disco_ctx *ctx, disco_catalog **cat, disco_objects **objs, disco_status *st)
{
    int rc = disco_ctx_catalog(ctx, cat, st);
    if (rc == DISCO_OK && objs)
        rc = disco_ctx_objects(ctx, objs, st);
    return rc;
}

/* The context's principal may `want` resource `id` (always so for local use). */
static int guard(disco_ctx *ctx, disco_catalog *cat, const char *id, disco_access_want want,
                 disco_status *st)
{
    return disco_access_check(cat, id, disco_ctx_principal(ctx), disco_ctx_role(ctx), want,
                              "resource", "id", st);
}

/* Parents a write names must be readable: one that is not does not exist. */
static int guard_parents(disco_ctx *ctx, disco_catalog *cat, const json_t *ids, disco_status *st)
{
    const char *me = disco_ctx_principal(ctx);
    disco_role role = disco_ctx_role(ctx);
    size_t i;
    json_t *v;
    int rc = DISCO_OK;

    json_array_foreach (ids, i, v) {
        if (rc == DISCO_OK)
            rc = disco_access_check(cat, json_string_value(v), me, role, DISCO_ACCESS_READ,
                                    "parent", "parents", st);
    }
    return rc;
}

static int op_create(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_objects *objs;
    disco_payload pl;
    disco_resource r;
    json_t *acl = acl_from_params(params, disco_ctx_principal(ctx));
    disco_resource_spec spec = {
        .type = disco__param_str(params, "type"),
        .parents = disco__param_json(params, "parents"),
        .tags = disco__param_json(params, "tags"),
        .metadata = disco__param_json(params, "metadata"),
        .acl = acl,
        .owner = disco_ctx_principal(ctx),
    };
    int rc = disco_access_op_check(disco_ops_find("resource.create"), disco_ctx_role(ctx), st);

    if (rc == DISCO_OK)
        rc = payload_from_params(ctx, params, &pl, st);
    if (rc == DISCO_OK)
        rc = open_stores(ctx, &cat, &objs, st);
    if (rc == DISCO_OK)
        rc = guard_parents(ctx, cat, spec.parents, st);
    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = disco_artefact_create(cat, objs, &spec, &pl, disco_ctx_progress(ctx), &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    json_decref(acl);
    return rc;
}

static int op_get(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_resource r;
    int rc = open_stores(ctx, &cat, NULL, st);

    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = guard(ctx, cat, disco__param_str(params, "id"), DISCO_ACCESS_READ, st);
    if (rc == DISCO_OK)
        rc = disco_catalog_get(cat, disco__param_str(params, "id"),
                               disco__param_int(params, "version", 0), &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    return rc;
}

static int op_update(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_objects *objs;
    disco_payload pl;
    disco_resource r;
    json_t *acl = acl_from_params(params, NULL);
    disco_resource_patch patch = {
        .expected_version = disco__param_int(params, "expected_version", 0),
        .object = disco__param_bool(params, "remove_file", 0) ? "" : NULL,
        .parents = disco__param_json(params, "parents"),
        .add_parents = disco__param_json(params, "add_parents"),
        .tags = disco__param_json(params, "tags"),
        .remove_tags = disco__param_json(params, "remove_tags"),
        .metadata = disco__param_json(params, "metadata"),
        .acl = json_object_size(acl) ? acl : NULL,
    };
    int rc = payload_from_params(ctx, params, &pl, st);

    if (rc == DISCO_OK && patch.object && (pl.path || pl.fd >= 0))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "remove_file",
                              "param 'remove_file': cannot be combined with 'file'");
    if (rc == DISCO_OK)
        rc = open_stores(ctx, &cat, &objs, st);
    if (rc == DISCO_OK)
        rc = guard(ctx, cat, disco__param_str(params, "id"),
                   patch.acl ? DISCO_ACCESS_SHARE : DISCO_ACCESS_WRITE, st);
    if (rc == DISCO_OK)
        rc = guard_parents(ctx, cat, patch.parents, st);
    if (rc == DISCO_OK)
        rc = guard_parents(ctx, cat, patch.add_parents, st);
    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = disco_artefact_update(cat, objs, disco__param_str(params, "id"), &patch, &pl,
                                   disco_ctx_progress(ctx), &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    json_decref(acl);
    return rc;
}

static int list_result(disco_resource_list *l, json_t **result, disco_status *st)
{
    json_t *items = json_array();

    for (size_t i = 0; i < l->count; i++)
        json_array_append_new(items, disco_resource_to_json(&l->items[i]));
    *result = json_pack("{s:o, s:I, s:s?}", "items", items, "count", (json_int_t)l->count, "next",
                        l->next[0] ? l->next : NULL);
    if (!*result)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

/* With a role short of admin, a listing shows only what the principal may read. */
static int list_visibility(disco_ctx *ctx, disco_resource_filter *f, disco_status *st)
{
    disco_role role = disco_ctx_role(ctx);
    const char *me = disco_ctx_principal(ctx);

    if (role == DISCO_ROLE_NONE || role == DISCO_ROLE_ADMIN)
        return DISCO_OK;
    if (f->visible_to && strcmp(f->visible_to, me) != 0)
        return disco_status_set(st, DISCO_ERR_PERM, "visible_to",
                                "param 'visible_to': only admins may list what another "
                                "principal can see");
    f->visible_to = me;
    return DISCO_OK;
}

static int op_list(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_resource_list l = {0};
    disco_resource_filter f = {
        .type = disco__param_str(params, "type"),
        .tags = disco__param_json(params, "tags"),
        .metadata = disco__param_json(params, "metadata"),
        .created_from_ms = disco__param_int(params, "created_from", 0),
        .created_to_ms = disco__param_int(params, "created_to", 0),
        .include_deleted = disco__param_bool(params, "include_deleted", 0),
        .visible_to = disco__param_str(params, "visible_to"),
        .after = disco__param_str(params, "after"),
        .limit = disco__param_int(params, "limit", 100),
    };
    int rc = list_visibility(ctx, &f, st);

    if (rc == DISCO_OK)
        rc = open_stores(ctx, &cat, NULL, st);
    if (rc == DISCO_OK)
        rc = disco_catalog_list(cat, &f, &l, st);
    if (rc == DISCO_OK)
        rc = list_result(&l, result, st);
    disco_resource_list_release(&l);
    return rc;
}

static int op_history(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_resource_list l = {0};
    int rc = open_stores(ctx, &cat, NULL, st);

    if (rc == DISCO_OK)
        rc = guard(ctx, cat, disco__param_str(params, "id"), DISCO_ACCESS_READ, st);
    if (rc == DISCO_OK)
        rc = disco_catalog_history(cat, disco__param_str(params, "id"), &l, st);
    if (rc == DISCO_OK)
        rc = list_result(&l, result, st);
    disco_resource_list_release(&l);
    return rc;
}

static int op_lineage(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *dir_name = disco__param_str(params, "direction");
    disco_lineage_dir dir = strcmp(dir_name, "ancestors") == 0     ? DISCO_LINEAGE_ANCESTORS
                            : strcmp(dir_name, "descendants") == 0 ? DISCO_LINEAGE_DESCENDANTS
                                                                   : DISCO_LINEAGE_BOTH;
    disco_catalog *cat;
    int rc = open_stores(ctx, &cat, NULL, st);

    if (rc == DISCO_OK)
        rc = guard(ctx, cat, disco__param_str(params, "id"), DISCO_ACCESS_READ, st);
    if (rc == DISCO_OK)
        rc = disco_catalog_lineage(cat, disco__param_str(params, "id"), dir,
                                   (int)disco__param_int(params, "depth", 10), result, st);
    if (rc == DISCO_OK)
        rc = disco_access_filter_lineage(cat, *result, disco_ctx_principal(ctx),
                                         disco_ctx_role(ctx), st);
    return rc;
}

static int op_delete(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_resource r;
    int rc = open_stores(ctx, &cat, NULL, st);

    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = guard(ctx, cat, disco__param_str(params, "id"), DISCO_ACCESS_WRITE, st);
    if (rc == DISCO_OK)
        rc = disco_catalog_delete(cat, disco__param_str(params, "id"), &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    return rc;
}

static const char *const lineage_dirs[] = {"ancestors", "descendants", "both", NULL};

/* A payload is stored as bytes, whatever its type: these are the usual ones. */
#define P_PAYLOAD_MEDIA "application/octet-stream audio/wav audio/flac audio/midi"

#define P_ACL_PARAMS                                                                               \
    {.name = "public", .type = DISCO_P_BOOL, .help = "readable by everyone"},                      \
        {.name = "readers", .type = DISCO_P_STRINGS, .help = "principals who may read it"},        \
    {                                                                                              \
        .name = "writers", .type = DISCO_P_STRINGS, .help = "principals who may change it"         \
    }

static const disco_param create_params[] = {
    {.name = "type",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED,
     .help = "resource type, e.g. audio, midi, prompt, model ([a-z][a-z0-9_.-]*)"},
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_STREAM_IN,
     .short_flag = 'f',
     .help = "payload file to store with it (\"-\" reads standard input)",
     .media = P_PAYLOAD_MEDIA},
    {.name = "tags", .type = DISCO_P_TAGS, .short_flag = 't', .help = "key=value tags"},
    {.name = "metadata",
     .type = DISCO_P_OBJECT,
     .short_flag = 'm',
     .help = "JSON object of metadata (or @FILE)"},
    {.name = "parents",
     .type = DISCO_P_IDS,
     .short_flag = 'p',
     .help = "ids of the resources it was made from"},
    P_ACL_PARAMS,
    {0},
};

static const disco_param get_params[] = {
    P_ID,
    {.name = "version",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 1e15,
     .help = "version to read (default: the latest)"},
    {0},
};

static const disco_param update_params[] = {
    P_ID,
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_STREAM_IN,
     .short_flag = 'f',
     .help = "new payload file (\"-\" reads standard input)",
     .media = P_PAYLOAD_MEDIA},
    {.name = "remove_file", .type = DISCO_P_BOOL, .help = "drop the payload"},
    {.name = "tags", .type = DISCO_P_TAGS, .short_flag = 't', .help = "tags to set (merged)"},
    {.name = "remove_tags", .type = DISCO_P_STRINGS, .help = "tag keys to remove"},
    {.name = "metadata",
     .type = DISCO_P_OBJECT,
     .short_flag = 'm',
     .help = "JSON merge patch for the metadata (null removes a field)"},
    {.name = "parents", .type = DISCO_P_IDS, .help = "replace the parents (\"\" for none)"},
    {.name = "add_parents", .type = DISCO_P_IDS, .short_flag = 'p', .help = "parents to add"},
    {.name = "expected_version",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 1e15,
     .help = "fail unless this is the latest version (optimistic locking)"},
    P_ACL_PARAMS,
    {0},
};

static const disco_param list_params[] = {
    {.name = "type", .type = DISCO_P_STRING, .help = "only this resource type"},
    {.name = "tags",
     .type = DISCO_P_TAGS,
     .short_flag = 't',
     .help = "only resources with all these key=value tags"},
    {.name = "metadata",
     .type = DISCO_P_OBJECT,
     .short_flag = 'm',
     .help = "only resources whose metadata fields equal these, e.g. {\"audio.bpm\":120}"},
    {.name = "created_from", .type = DISCO_P_TIME, .help = "created at or after (ISO 8601)"},
    {.name = "created_to", .type = DISCO_P_TIME, .help = "created before (ISO 8601)"},
    {.name = "include_deleted", .type = DISCO_P_BOOL, .help = "include deleted resources"},
    {.name = "visible_to", .type = DISCO_P_STRING, .help = "only what this principal may read"},
    {.name = "after", .type = DISCO_P_ID, .help = "page cursor: the 'next' of the last page"},
    {.name = "limit",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = DISCO_LIST_LIMIT_MAX,
     .def = "100",
     .help = "page size"},
    {0},
};

static const disco_param id_params[] = {P_ID, {0}};

static const disco_param lineage_params[] = {
    P_ID,
    {.name = "direction",
     .type = DISCO_P_STRING,
     .choices = lineage_dirs,
     .def = "\"both\"",
     .help = "which way to walk"},
    {.name = "depth",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 1000,
     .def = "10",
     .help = "how many links to follow"},
    {0},
};

#define RESOURCE_COLUMNS "resource_id,resource_type,version,modification_timestamp,object,tags"

const disco_op disco__ops_resource[] = {
    {.name = "resource.create",
     .summary = "store a resource (and its payload file) with tags, "
                "metadata and parents",
     .help = "Example:\n  disco resource create --type audio --file song.wav "
             "--tags genre=jazz --parents ID",
     .params = create_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_create},
    {.name = "resource.get",
     .summary = "show a resource (latest or a given version)",
     .params = get_params,
     .fn = op_get},
    {.name = "resource.update",
     .summary = "write a new version of a resource",
     .help = "Old versions stay readable with `disco resource get ID --version N`.",
     .params = update_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_update},
    {.name = "resource.list",
     .summary = "list resources, filtered and paged",
     .params = list_params,
     .columns = RESOURCE_COLUMNS,
     .fn = op_list},
    {.name = "resource.history",
     .summary = "every version of a resource, oldest first",
     .params = id_params,
     .columns = "version,modification_timestamp,deleted,object,tags",
     .fn = op_history},
    {.name = "resource.lineage",
     .summary = "ancestors and descendants of a resource, as a graph",
     .params = lineage_params,
     .fn = op_lineage},
    {.name = "resource.delete",
     .summary = "delete a resource (its history stays readable)",
     .params = id_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_delete},
    {0},
};
