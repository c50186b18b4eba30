/*
 * catalog.c - the public catalog calls: the resource value helpers, the
 * building of new versions shared by every back-end, and dispatch to the
 * back-end that the location names (catalog_int.h). Input checks live in
 * catalog_check.c.
 *
 * Decisions every back-end follows:
 *   - Parents are de-duplicated in order (the first mention stays); a
 *     resource cannot be its own parent. Only parents a write adds must
 *     exist and be live; links kept from the previous version are not
 *     checked again (a parent may be deleted after its children were made).
 *   - An update applies remove_tags before tags, so a key in both is set.
 *   - The ACL is always stored whole: {"owner", "readers", "writers", "public"}.
 *   - A metadata filter path "a.b" names object members; segments are never
 *     array indexes.
 */
#include "catalog_int.h"

#include "disco/json.h"
#include "disco/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- resource values --------------------------------------------------- */

void disco_resource_init(disco_resource *r)
{
    memset(r, 0, sizeof *r);
}

void disco_resource_release(disco_resource *r)
{
    if (!r)
        return;
    json_decref(r->parents);
    json_decref(r->tags);
    json_decref(r->acl);
    json_decref(r->metadata);
    memset(r, 0, sizeof *r);
}

static json_t *copy_or(const json_t *v, json_t *fallback)
{
    if (!v)
        return fallback;
    json_decref(fallback);
    return json_deep_copy(v);
}

json_t *disco_resource_to_json(const disco_resource *r)
{
    char created[DISCO_TIME_ISO_MAX], modified[DISCO_TIME_ISO_MAX];
    json_t *o = json_object();

    if (!o)
        return NULL;
    disco_time_format_iso(r->created_ms, created);
    disco_time_format_iso(r->modified_ms, modified);
    json_object_set_new(o, "resource_id", json_string(r->id));
    json_object_set_new(o, "resource_type", json_string(r->type));
    json_object_set_new(o, "creation_timestamp", json_string(created));
    json_object_set_new(o, "modification_timestamp", json_string(modified));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "deleted", json_boolean(r->deleted));
    json_object_set_new(o, "parent_resources", copy_or(r->parents, json_array()));
    json_object_set_new(o, "tags", copy_or(r->tags, json_object()));
    json_object_set_new(o, "access_control", copy_or(r->acl, json_object()));
    json_object_set_new(o, "object", r->object[0] ? json_string(r->object) : json_null());
    json_object_set_new(o, "metadata", copy_or(r->metadata, json_object()));
    if (json_object_size(o) != 11) {
        json_decref(o);
        return NULL;
    }
    return o;
}

void disco_resource_list_release(disco_resource_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        disco_resource_release(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

int disco__resource_list_push(disco_resource_list *l, disco_resource *src)
{
    size_t n = l->count;
    disco_resource *items;

    /* Grow at powers of two. */
    if ((n & (n - 1)) == 0) {
        items = realloc(l->items, (n ? 2 * n : 1) * sizeof *items);
        if (!items)
            return DISCO_ERR_NOMEM;
        l->items = items;
    }
    l->items[n] = *src;
    l->count = n + 1;
    disco_resource_init(src);
    return DISCO_OK;
}

int disco__resource_copy(disco_resource *dst, const disco_resource *src)
{
    *dst = *src;
    dst->parents = json_deep_copy(src->parents);
    dst->tags = json_deep_copy(src->tags);
    dst->acl = json_deep_copy(src->acl);
    dst->metadata = json_deep_copy(src->metadata);
    if (!dst->parents || !dst->tags || !dst->acl || !dst->metadata) {
        disco_resource_release(dst);
        return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

static int ids_contain(const json_t *ids, const char *id)
{
    size_t i;
    json_t *v;

    json_array_foreach (ids, i, v) {
        if (!strcmp(json_string_value(v), id))
            return 1;
    }
    return 0;
}

/* Appends the members of `more` not yet in `ids`; quadratic, at most 256². */
static int append_new_ids(json_t *ids, const json_t *more)
{
    size_t i;
    json_t *v;

    json_array_foreach (more, i, v) {
        if (!ids_contain(ids, json_string_value(v)) && json_array_append(ids, v))
            return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

json_t *disco__catalog_dedup_ids(const json_t *ids)
{
    json_t *out = json_array();

    if (out && ids && append_new_ids(out, ids)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- building versions ------------------------------------------------- */

/* The whole ACL: defaults, then the members `given` names. */
static json_t *acl_build(const json_t *given, const char *owner)
{
    json_t *acl, *copy;

    acl = json_pack("{s:s, s:[], s:[], s:b}", "owner", owner ? owner : "", "readers", "writers",
                    "public", 0);
    if (!acl || !given)
        return acl;
    copy = json_deep_copy(given);
    if (!copy || json_object_update(acl, copy)) {
        json_decref(acl);
        acl = NULL;
    }
    json_decref(copy);
    return acl;
}

static int check_self_parent(const char *id, const json_t *parents, disco_status *st)
{
    if (ids_contain(parents, id))
        return disco_status_set(st, DISCO_ERR_INVAL, "parents",
                                "parents: resource %s cannot be its own parent", id);
    return DISCO_OK;
}

/* Version 1 of a new resource from a checked spec. */
static int build_first(const disco_resource_spec *spec, disco_resource *r, disco_status *st)
{
    if (spec->id)
        snprintf(r->id, sizeof r->id, "%s", spec->id);
    else
        disco_id_new(r->id);
    snprintf(r->type, sizeof r->type, "%s", spec->type);
    snprintf(r->object, sizeof r->object, "%s", spec->object ? spec->object : "");
    r->created_ms = r->modified_ms = disco_time_now_ms();
    r->version = 1;
    r->parents = disco__catalog_dedup_ids(spec->parents);
    r->tags = spec->tags ? json_deep_copy(spec->tags) : json_object();
    r->metadata = spec->metadata ? json_deep_copy(spec->metadata) : json_object();
    r->acl = acl_build(spec->acl, spec->owner);
    if (!r->parents || !r->tags || !r->metadata || !r->acl)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory building resource");
    return check_self_parent(r->id, r->parents, st);
}

static int patch_parents(disco_resource *next, const disco_resource_patch *patch)
{
    json_t *parents;

    if (patch->parents) {
        parents = disco__catalog_dedup_ids(patch->parents);
        if (!parents)
            return DISCO_ERR_NOMEM;
        json_decref(next->parents);
        next->parents = parents;
    }
    if (patch->add_parents && append_new_ids(next->parents, patch->add_parents))
        return DISCO_ERR_NOMEM;
    return DISCO_OK;
}

static int patch_tags(disco_resource *next, const disco_resource_patch *patch, disco_status *st)
{
    size_t i;
    json_t *key, *copy;

    json_array_foreach (patch->remove_tags, i, key)
        json_object_del(next->tags, json_string_value(key));
    if (patch->tags) {
        copy = json_deep_copy(patch->tags);
        if (!copy || json_object_update(next->tags, copy)) {
            json_decref(copy);
            return DISCO_ERR_NOMEM;
        }
        json_decref(copy);
    }
    if (json_object_size(next->tags) > DISCO_TAGS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "tags",
                                "tags: the update leaves %zu keys, at most %d",
                                json_object_size(next->tags), DISCO_TAGS_MAX);
    return DISCO_OK;
}

static int patch_metadata(disco_resource *next, const disco_resource_patch *patch, disco_status *st)
{
    json_t *merged = NULL;
    int rc;

    if (!patch->metadata)
        return DISCO_OK;
    rc = disco_json_merge_patch(next->metadata, patch->metadata, &merged);
    if (rc)
        return disco_status_set(st, rc, "metadata", "metadata: merge patch failed: %s",
                                disco_strerror(rc));
    json_decref(next->metadata);
    next->metadata = merged;
    return disco_catalog_check_metadata(next->metadata, st);
}

static int patch_acl(disco_resource *next, const disco_resource_patch *patch)
{
    json_t *copy;
    int rc = DISCO_OK;

    if (!patch->acl)
        return DISCO_OK;
    copy = json_deep_copy(patch->acl);
    if (!copy || json_object_update(next->acl, copy))
        rc = DISCO_ERR_NOMEM;
    json_decref(copy);
    return rc;
}

static json_t *added_ids(const json_t *before, const json_t *after)
{
    json_t *added = json_array();
    size_t i;
    json_t *v;

    json_array_foreach (after, i, v) {
        if (added && !ids_contain(before, json_string_value(v)) && json_array_append(added, v)) {
            json_decref(added);
            return NULL;
        }
    }
    return added;
}

int disco__catalog_apply_patch(const disco_resource *cur, const disco_resource_patch *patch,
                               disco_resource *next, json_t **added, disco_status *st)
{
    int rc;

    *added = NULL;
    rc = disco__resource_copy(next, cur);
    if (rc)
        return disco_status_set(st, rc, NULL, "out of memory copying resource %s", cur->id);
    next->version = cur->version + 1;
    next->deleted = 0;
    if (patch->object)
        snprintf(next->object, sizeof next->object, "%s", patch->object);
    if ((rc = patch_parents(next, patch)) || (rc = patch_acl(next, patch)))
        goto fail;
    if ((rc = patch_tags(next, patch, st)) || (rc = patch_metadata(next, patch, st)) ||
        (rc = check_self_parent(next->id, next->parents, st)))
        goto fail;
    if (json_array_size(next->parents) > DISCO_PARENTS_MAX) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "parents",
                              "parents: the update leaves %zu, at most %d",
                              json_array_size(next->parents), DISCO_PARENTS_MAX);
        goto fail;
    }
    *added = added_ids(cur->parents, next->parents);
    if (*added)
        return DISCO_OK;
    rc = DISCO_ERR_NOMEM;
fail:
    if (rc == DISCO_ERR_NOMEM)
        disco_status_set(st, rc, NULL, "out of memory updating resource %s", cur->id);
    disco_resource_release(next);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------- */

static int ready(disco_catalog *c, disco_status *st)
{
    if (!c)
        return disco_status_set(st, DISCO_ERR_INVAL, "catalog", "catalog: handle is NULL");
    if (c->in_callback)
        return disco_status_set(st, DISCO_ERR_BUSY, "catalog",
                                "catalog: called from inside its own foreach_object callback");
    return DISCO_OK;
}

static int ready_id(disco_catalog *c, const char *id, disco_status *st)
{
    int rc = ready(c, st);

    return rc ? rc : disco__catalog_check_id(id, "resource id", "id", st);
}

int disco_catalog_open(const char *location, disco_catalog **out, disco_status *st)
{
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog open: out is NULL");
    *out = NULL;
    if (!location || !*location)
        return disco_status_set(st, DISCO_ERR_INVAL, "location",
                                "catalog location: required (a file path)");
    if (!strncasecmp(location, "postgres://", 11) || !strncasecmp(location, "postgresql://", 13))
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "location",
                                "catalog location postgres://...: the PostgreSQL back-end is "
                                "not available in this build; use a file path");
    return disco__catalog_sqlite_open(location, out, st);
}

void disco_catalog_close(disco_catalog *c)
{
    if (c)
        c->ops->close(c);
}

int disco_catalog_create(disco_catalog *c, const disco_resource_spec *spec, disco_resource *out,
                         disco_status *st)
{
    disco_resource r;
    int rc;

    if ((rc = ready(c, st)) || (rc = disco__catalog_check_spec(spec, st)))
        return rc;
    disco_resource_init(&r);
    rc = build_first(spec, &r, st);
    if (!rc)
        rc = c->ops->create(c, &r, st);
    if (!rc && out) {
        *out = r;
        return DISCO_OK;
    }
    disco_resource_release(&r);
    return rc;
}

int disco_catalog_get(disco_catalog *c, const char *id, int64_t version, disco_resource *out,
                      disco_status *st)
{
    int rc = ready_id(c, id, st);

    if (rc)
        return rc;
    if (version < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "version",
                                "version %lld: must be 0 (latest) or a version number",
                                (long long)version);
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog get: out is NULL");
    return c->ops->get(c, id, version, out, st);
}

int disco_catalog_update(disco_catalog *c, const char *id, const disco_resource_patch *patch,
                         disco_resource *out, disco_status *st)
{
    int rc = ready_id(c, id, st);

    if (rc || (rc = disco__catalog_check_patch(patch, st)))
        return rc;
    return c->ops->update(c, id, patch, out, st);
}

int disco_catalog_delete(disco_catalog *c, const char *id, disco_resource *out, disco_status *st)
{
    int rc = ready_id(c, id, st);

    return rc ? rc : c->ops->remove(c, id, out, st);
}

int disco_catalog_history(disco_catalog *c, const char *id, disco_resource_list *out,
                          disco_status *st)
{
    int rc = ready_id(c, id, st);

    if (rc)
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog history: out is NULL");
    memset(out, 0, sizeof *out);
    return c->ops->history(c, id, out, st);
}

int disco_catalog_list(disco_catalog *c, const disco_resource_filter *f, disco_resource_list *out,
                       disco_status *st)
{
    disco_resource_filter resolved = {0};
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog list: out is NULL");
    if (f)
        resolved = *f;
    if ((rc = disco__catalog_check_filter(&resolved, st)))
        return rc;
    if (resolved.limit == 0)
        resolved.limit = DISCO__LIST_LIMIT_DEFAULT;
    memset(out, 0, sizeof *out);
    return c->ops->list(c, &resolved, out, st);
}

int disco_catalog_lineage(disco_catalog *c, const char *id, disco_lineage_dir dir, int max_depth,
                          json_t **graph, disco_status *st)
{
    int rc = ready_id(c, id, st);

    if (rc)
        return rc;
    if (dir != DISCO_LINEAGE_ANCESTORS && dir != DISCO_LINEAGE_DESCENDANTS &&
        dir != DISCO_LINEAGE_BOTH)
        return disco_status_set(st, DISCO_ERR_INVAL, "direction",
                                "lineage direction %d: must be ancestors (1), descendants (2) "
                                "or both (3)",
                                (int)dir);
    if (max_depth < 1 || max_depth > DISCO__LINEAGE_DEPTH_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_depth", "max_depth %d out of range 1..%d",
                                max_depth, DISCO__LINEAGE_DEPTH_MAX);
    if (!graph)
        return disco_status_set(st, DISCO_ERR_INVAL, "graph", "catalog lineage: graph is NULL");
    *graph = NULL;
    return c->ops->lineage(c, id, dir, max_depth, graph, st);
}

int disco_catalog_foreach_object(disco_catalog *c, int (*fn)(void *user, const char *hash),
                                 void *user, disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!fn)
        return disco_status_set(st, DISCO_ERR_INVAL, "fn", "foreach_object: fn is NULL");
    c->in_callback = 1;
    rc = c->ops->foreach_object(c, fn, user, st);
    c->in_callback = 0;
    return rc;
}

/* ---- objects: referrers and uploads -------------------------------------- */

/* A well-formed payload hash, named in the status field "hash". */
static int check_hash(const char *hash, disco_status *st)
{
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc && st)
        snprintf(st->field, sizeof st->field, "hash");
    return rc;
}

int disco_catalog_foreach_referrer(disco_catalog *c, const char *hash,
                                   int (*fn)(void *user, const disco_resource *r), void *user,
                                   disco_status *st)
{
    int rc = ready(c, st);

    if (rc || (rc = check_hash(hash, st)))
        return rc;
    if (!fn)
        return disco_status_set(st, DISCO_ERR_INVAL, "fn", "foreach_referrer: fn is NULL");
    c->in_callback = 1;
    rc = c->ops->foreach_referrer(c, hash, fn, user, st);
    c->in_callback = 0;
    return rc;
}

int disco_catalog_upload_record(disco_catalog *c, const char *hash, const char *principal,
                                disco_status *st)
{
    int rc = ready(c, st);

    if (rc || (rc = check_hash(hash, st)) ||
        (rc = disco__catalog_check_principal(principal, "principal", st)))
        return rc;
    return c->ops->upload_record(c, hash, principal, disco_time_now_ms(), st);
}

int disco_catalog_upload_get(disco_catalog *c, const char *hash, const char *principal,
                             disco_upload *out, disco_status *st)
{
    int rc = ready(c, st);

    if (rc || (rc = check_hash(hash, st)) ||
        (rc = disco__catalog_check_principal(principal, "principal", st)))
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog upload get: out is NULL");
    memset(out, 0, sizeof *out);
    return c->ops->upload_get(c, hash, principal, out, st);
}

int disco_catalog_upload_forget(disco_catalog *c, const char *hash, int64_t before_ms,
                                int64_t *removed, disco_status *st)
{
    int64_t n = 0;
    int rc = ready(c, st);

    if (rc || (rc = check_hash(hash, st)))
        return rc;
    rc = c->ops->upload_forget(c, hash, before_ms, &n, st);
    if (removed)
        *removed = rc == DISCO_OK ? n : 0;
    return rc;
}

int disco_catalog_stats(disco_catalog *c, json_t **out, disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "catalog stats: out is NULL");
    *out = NULL;
    return c->ops->stats(c, out, st);
}

int disco_catalog_begin(disco_catalog *c, disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (c->in_batch)
        return disco_status_set(st, DISCO_ERR_INVAL, "batch",
                                "batch: one is already open; batches do not nest");
    rc = c->ops->begin(c, st);
    c->in_batch = rc == DISCO_OK;
    return rc;
}

/* Ends the batch whatever the back-end reports: it never leaves one open. */
static int end_batch(disco_catalog *c, int commit, disco_status *st)
{
    int rc = ready(c, st);

    if (rc)
        return rc;
    if (!c->in_batch)
        return disco_status_set(st, DISCO_ERR_INVAL, "batch", "batch: none is open");
    rc = commit ? c->ops->commit(c, st) : c->ops->rollback(c, st);
    c->in_batch = 0;
    return rc;
}

int disco_catalog_commit(disco_catalog *c, disco_status *st)
{
    return end_batch(c, 1, st);
}

int disco_catalog_rollback(disco_catalog *c, disco_status *st)
{
    return end_batch(c, 0, st);
}
