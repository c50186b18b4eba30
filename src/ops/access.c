/*
 * access.c - access decisions: the role an op needs, what a principal may
 * do to a resource under its ACL (pure functions), and the checks that
 * read the ACL from the catalog. The rules are in access.h; the
 * authentication hook lives in access_auth.c.
 */
#include "ops_int.h"

#include "disco/access.h"

#include <string.h>

/* ---- pure decisions ------------------------------------------------------ */

disco_role disco_access_op_role(const disco_op *op)
{
    if (op->flags & DISCO_OP_ADMIN)
        return DISCO_ROLE_ADMIN;
    if (op->flags & DISCO_OP_WRITES)
        return DISCO_ROLE_WRITER;
    return DISCO_ROLE_READER;
}

int disco_access_op_check(const disco_op *op, disco_role role, disco_status *st)
{
    disco_role need = disco_access_op_role(op);

    if (role == DISCO_ROLE_NONE || role >= need)
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_PERM, "role", "op '%s' needs role %s; this token is %s",
                            op->name, disco_apitoken_role_name(need),
                            disco_apitoken_role_name(role));
}

static int is_full(disco_role role)
{
    return role == DISCO_ROLE_NONE || role == DISCO_ROLE_ADMIN;
}

static int named(const json_t *acl, const char *key, const char *principal)
{
    const char *v = json_string_value(json_object_get(acl, key));

    return v && principal && *principal && strcmp(v, principal) == 0;
}

static int listed(const json_t *acl, const char *key, const char *principal)
{
    const json_t *list = json_object_get(acl, key);
    size_t i;
    json_t *v;

    if (!principal || !*principal)
        return 0;
    json_array_foreach (list, i, v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, principal) == 0)
            return 1;
    }
    return 0;
}

int disco_access_can_read(const json_t *acl, const char *principal, disco_role role)
{
    if (is_full(role))
        return 1;
    if (!json_is_object(acl))
        return 0;
    return json_is_true(json_object_get(acl, "public")) || named(acl, "owner", principal) ||
           listed(acl, "readers", principal) || listed(acl, "writers", principal);
}

int disco_access_can_write(const json_t *acl, const char *principal, disco_role role)
{
    if (is_full(role))
        return 1;
    if (role < DISCO_ROLE_WRITER || !json_is_object(acl))
        return 0;
    return named(acl, "owner", principal) || listed(acl, "writers", principal);
}

int disco_access_can_share(const json_t *acl, const char *principal, disco_role role)
{
    if (is_full(role))
        return 1;
    if (role < DISCO_ROLE_WRITER || !json_is_object(acl))
        return 0;
    return named(acl, "owner", principal);
}

int disco_access_hidden(const char *what, const char *id, const char *field, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOTFOUND, field, "%s %s: no such resource", what, id);
}

/* ---- checks against the catalog ------------------------------------------ */

/*
 * The ACL of the latest version of `id` (a new reference in *acl), the
 * tombstone's when deleted. NOTFOUND (status untouched) when unknown.
 */
static int head_acl(disco_catalog *c, const char *id, json_t **acl, disco_status *st)
{
    disco_status local = {0};
    disco_resource r;
    disco_resource_list l = {0};
    int rc;

    disco_resource_init(&r);
    rc = disco_catalog_get(c, id, 0, &r, &local);
    if (rc == DISCO_OK) {
        *acl = json_incref(r.acl);
        disco_resource_release(&r);
        return DISCO_OK;
    }
    if (rc == DISCO_ERR_NOTFOUND)
        rc = disco_catalog_history(c, id, &l, &local);
    if (rc == DISCO_OK) {
        *acl = json_incref(l.items[l.count - 1].acl);
        disco_resource_list_release(&l);
        return DISCO_OK;
    }
    if (rc != DISCO_ERR_NOTFOUND && st)
        *st = local;
    return rc;
}

static int allowed(const json_t *acl, const char *principal, disco_role role,
                   disco_access_want want)
{
    switch (want) {
    case DISCO_ACCESS_READ:
        return disco_access_can_read(acl, principal, role);
    case DISCO_ACCESS_WRITE:
        return disco_access_can_write(acl, principal, role);
    case DISCO_ACCESS_SHARE:
        return disco_access_can_share(acl, principal, role);
    }
    return 0;
}

static const char *want_text(disco_access_want want)
{
    return want == DISCO_ACCESS_SHARE ? "change who may access" : "change";
}

int disco_access_check(disco_catalog *c, const char *id, const char *principal, disco_role role,
                       disco_access_want want, const char *what, const char *field,
                       disco_status *st)
{
    disco_status bad = {0};
    json_t *acl = NULL;
    int rc;

    if (role == DISCO_ROLE_NONE)
        return DISCO_OK;
    if ((rc = disco_id_check(id, what, &bad)))
        return disco_status_set(st, rc, field, "%s", bad.msg);
    rc = head_acl(c, id, &acl, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return disco_access_hidden(what, id, field, st);
    if (rc)
        return rc;
    if (!disco_access_can_read(acl, principal, role))
        rc = disco_access_hidden(what, id, field, st);
    else if (!allowed(acl, principal, role, want))
        rc = disco_status_set(st, DISCO_ERR_PERM, field,
                              "%s %s: %s (role %s) may read it but not %s it", what, id,
                              principal && *principal ? principal : "(nobody)",
                              disco_apitoken_role_name(role), want_text(want));
    json_decref(acl);
    return rc;
}

/* 1 when `principal` may read node `id`, 0 when not, or a negative error. */
static int node_visible(disco_catalog *c, const char *id, const char *principal, disco_role role,
                        disco_status *st)
{
    json_t *acl = NULL;
    int rc = head_acl(c, id, &acl, st);

    if (rc == DISCO_ERR_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    rc = disco_access_can_read(acl, principal, role);
    json_decref(acl);
    return rc;
}

/* Drops the edges of `graph` that name a node not in `keep`. */
static void drop_edges(json_t *graph, const json_t *keep)
{
    json_t *edges = json_object_get(graph, "edges");
    size_t i = 0;

    while (i < json_array_size(edges)) {
        json_t *e = json_array_get(edges, i);
        const char *child = json_string_value(json_object_get(e, "child"));
        const char *parent = json_string_value(json_object_get(e, "parent"));
        if (child && parent && json_object_get(keep, child) && json_object_get(keep, parent))
            i++;
        else
            json_array_remove(edges, i);
    }
}

int disco_access_filter_lineage(disco_catalog *c, json_t *graph, const char *principal,
                                disco_role role, disco_status *st)
{
    json_t *nodes = json_object_get(graph, "nodes"), *keep = json_object();
    size_t i = 0;
    int rc = keep ? DISCO_OK : DISCO_ERR_NOMEM;

    if (is_full(role)) {
        json_decref(keep);
        return DISCO_OK;
    }
    while (rc == DISCO_OK && i < json_array_size(nodes)) {
        json_t *n = json_array_get(nodes, i);
        const char *id = json_string_value(json_object_get(n, "resource_id"));
        const char *rel = json_string_value(json_object_get(n, "relation"));
        int vis = 0;

        if (id && rel && strcmp(rel, "self") == 0)
            vis = 1;
        else if (id)
            vis = node_visible(c, id, principal, role, st);
        if (vis < 0)
            rc = vis;
        else if (vis == 0)
            json_array_remove(nodes, i);
        else if (json_object_set_new(keep, id, json_true()))
            rc = DISCO_ERR_NOMEM;
        else
            i++;
    }
    if (rc == DISCO_OK)
        drop_edges(graph, keep);
    else if (rc == DISCO_ERR_NOMEM)
        disco_status_set(st, rc, NULL, "out of memory filtering lineage");
    json_decref(keep);
    return rc;
}
