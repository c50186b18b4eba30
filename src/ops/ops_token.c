/*
 * ops_token.c - token create|list|revoke: API tokens for the HTTP API.
 *
 * Admin ops (DISCO_OP_ADMIN): interfaces let only admins call them, and the
 * handlers refuse any other token role themselves too. The secret appears
 * once, in the result of token.create; listings never show secrets or
 * hashes (the store does not return hashes at all).
 */
#include "ops_int.h"

#include "disco/access.h"
#include "disco/timeutil.h"

#include <string.h>

#define SECRET_NOTE                                                                                \
    "store this secret now: it is shown only this once and cannot be recovered (only its "         \
    "hash is kept); send it as \"Authorization: Bearer <secret>\""

static int admin_only(disco_ctx *ctx, const char *name, disco_status *st)
{
    return disco_access_op_check(disco_ops_find(name), disco_ctx_role(ctx), st);
}

static json_t *time_or_null(int64_t ms)
{
    char iso[DISCO_TIME_ISO_MAX];

    if (ms <= 0)
        return json_null();
    disco_time_format_iso(ms, iso);
    return json_string(iso);
}

/* A token as ops show it: never its secret or hash. */
static json_t *token_json(const disco_apitoken *t)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id", t->id, "name", t->name, "role",
                     disco_apitoken_role_name(t->role), "principal", t->principal, "created",
                     time_or_null(t->created_ms), "last_used", time_or_null(t->last_used_ms),
                     "revoked", time_or_null(t->revoked_ms));
}

static int no_memory(disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

static int op_create(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char secret[DISCO_APITOKEN_SECRET_LEN + 1];
    disco_catalog *cat;
    disco_apitoken t;
    disco_role role;
    int rc = admin_only(ctx, "token.create", st);

    if (rc == DISCO_OK)
        rc = disco_apitoken_role_parse(disco__param_str(params, "role"), &role, st);
    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_apitoken_create(cat, disco__param_str(params, "name"), role,
                                   disco__param_str(params, "principal"), secret, &t, st);
    if (rc)
        return rc;
    *result = token_json(&t);
    if (!*result || json_object_set_new(*result, "secret", json_string(secret)) ||
        json_object_set_new(*result, "note", json_string(SECRET_NOTE)))
        rc = no_memory(st);
    explicit_bzero(secret, sizeof secret);
    return rc;
}

static int op_list(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_apitoken_list l = {0};
    json_t *items;
    int rc = admin_only(ctx, "token.list", st);

    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_apitoken_list_all(cat, disco__param_bool(params, "include_revoked", 0), &l, st);
    if (rc)
        return rc;
    items = json_array();
    for (size_t i = 0; items && i < l.count; i++)
        if (json_array_append_new(items, token_json(&l.items[i]))) {
            json_decref(items);
            items = NULL;
        }
    *result = items ? json_pack("{s:o, s:I}", "items", items, "count", (json_int_t)l.count) : NULL;
    disco_apitoken_list_release(&l);
    return *result ? DISCO_OK : no_memory(st);
}

static int op_revoke(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_apitoken t;
    int rc = admin_only(ctx, "token.revoke", st);

    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_apitoken_revoke(cat, disco__param_str(params, "token"), &t, st);
    if (rc)
        return rc;
    *result = token_json(&t);
    return *result ? DISCO_OK : no_memory(st);
}

static const char *const roles[] = {"reader", "writer", "admin", NULL};

static const disco_param create_params[] = {
    {.name = "name",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "token name, unique among live tokens ([A-Za-z0-9_.@:-], at most 64)"},
    {.name = "role",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED,
     .choices = roles,
     .short_flag = 'r',
     .help = "reader: read what ACLs allow; writer: also create and change; admin: everything"},
    {.name = "principal",
     .type = DISCO_P_STRING,
     .help = "who the token acts as (owner of what it creates); default: its name"},
    {0},
};

static const disco_param list_params[] = {
    {.name = "include_revoked", .type = DISCO_P_BOOL, .help = "also list revoked tokens"},
    {0},
};

static const disco_param revoke_params[] = {
    {.name = "token",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "name or id of the live token to revoke"},
    {0},
};

const disco_op disco__ops_token[] = {
    {.name = "token.create",
     .summary = "make an API token for the HTTP API (its secret is shown once)",
     .help = "Example:\n  disco token create ci-bot --role writer\n"
             "The secret is printed only this once; only its SHA-256 is stored.",
     .params = create_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_ADMIN,
     .fn = op_create},
    {.name = "token.list",
     .summary = "list API tokens (never their secrets)",
     .params = list_params,
     .flags = DISCO_OP_ADMIN,
     .columns = "id,name,role,principal,created,last_used,revoked",
     .fn = op_list},
    {.name = "token.revoke",
     .summary = "revoke an API token by name or id; it stops working at once",
     .params = revoke_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_ADMIN,
     .fn = op_revoke},
    {0},
};
