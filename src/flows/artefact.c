/*
 * artefact.c - payload + resource in one step, and garbage collection.
 *
 * Order of writes: object first, then the catalog. A failure between the
 * two leaves an object no resource names; gc removes it after the grace
 * period. The reverse order could leave a resource naming a missing payload,
 * which would lose a user's work silently.
 */
#include "disco/artefact.h"

#include "disco/timeutil.h"

#include <stdlib.h>
#include <string.h>

/*
 * Stores the payload, if there is one, and points *object at its hash (kept
 * in `info`); leaves *object alone when there is no payload.
 */
static int put_payload(disco_objects *objs, const disco_payload *payload,
                       const disco_progress *prog, disco_object_info *info, const char **object,
                       disco_status *st)
{
    int rc;

    if (!payload || (!payload->path && payload->fd < 0))
        return DISCO_OK;
    if (payload->path)
        rc = disco_objects_put_file(objs, payload->path, prog, info, NULL, st);
    else
        rc = disco_objects_put_fd(objs, payload->fd, prog, info, NULL, st);
    if (rc == DISCO_OK)
        *object = info->hash;
    return rc;
}

int disco_artefact_create(disco_catalog *cat, disco_objects *objs, const disco_resource_spec *spec,
                          const disco_payload *payload, const disco_progress *prog,
                          disco_resource *out, disco_status *st)
{
    disco_resource_spec s = *spec;
    disco_object_info info;
    int rc;

    /* Check the cheap things before streaming a large payload. */
    rc = disco_catalog_check_type(spec->type, st);
    if (rc == DISCO_OK && spec->tags)
        rc = disco_catalog_check_tags(spec->tags, st);
    if (rc == DISCO_OK && spec->metadata)
        rc = disco_catalog_check_metadata(spec->metadata, st);
    if (rc == DISCO_OK)
        rc = put_payload(objs, payload, prog, &info, &s.object, st);
    if (rc != DISCO_OK)
        return rc;
    return disco_catalog_create(cat, &s, out, st);
}

int disco_artefact_update(disco_catalog *cat, disco_objects *objs, const char *id,
                          const disco_resource_patch *patch, const disco_payload *payload,
                          const disco_progress *prog, disco_resource *out, disco_status *st)
{
    disco_resource_patch p = *patch;
    disco_resource cur;
    disco_object_info info;
    int rc;

    /* Fail fast on an unknown or deleted resource before storing bytes. */
    disco_resource_init(&cur);
    rc = disco_catalog_get(cat, id, 0, &cur, st);
    disco_resource_release(&cur);
    if (rc == DISCO_OK)
        rc = put_payload(objs, payload, prog, &info, &p.object, st);
    if (rc != DISCO_OK)
        return rc;
    return disco_catalog_update(cat, id, &p, out, st);
}

/* ---- garbage collection --------------------------------------------------- */

typedef struct hash_set {
    char (*hashes)[DISCO_SHA256_HEX_LEN + 1];
    size_t count, cap;
} hash_set;

static int set_add(void *user, const char *hash)
{
    hash_set *set = user;

    if (set->count == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        void *p = realloc(set->hashes, cap * sizeof *set->hashes);
        if (!p)
            return DISCO_ERR_NOMEM;
        set->hashes = p;
        set->cap = cap;
    }
    memcpy(set->hashes[set->count++], hash, DISCO_SHA256_HEX_LEN + 1);
    return 0;
}

static int cmp_hash(const void *a, const void *b)
{
    return strcmp(a, b);
}

typedef struct gc_walk {
    hash_set *live;
    json_t *unreferenced;
    int64_t cutoff_ms;
    uint64_t scanned, bytes;
} gc_walk;

static int gc_visit(void *user, const disco_object_info *info)
{
    gc_walk *w = user;

    w->scanned++;
    if (w->live->count &&
        bsearch(info->hash, w->live->hashes, w->live->count, sizeof *w->live->hashes, cmp_hash))
        return 0;
    if (info->mtime_ms > w->cutoff_ms)
        return 0;
    w->bytes += info->size;
    return json_array_append_new(w->unreferenced, json_pack("{s:s, s:I}", "hash", info->hash,
                                                            "size", (json_int_t)info->size));
}

static int gc_remove(disco_objects *objs, json_t *unreferenced, uint64_t *removed, disco_status *st)
{
    size_t i;
    json_t *item;

    json_array_foreach (unreferenced, i, item) {
        int rc = disco_objects_remove(objs, json_string_value(json_object_get(item, "hash")), st);
        if (rc != DISCO_OK && rc != DISCO_ERR_NOTFOUND)
            return rc;
        if (rc == DISCO_OK)
            (*removed)++;
    }
    return DISCO_OK;
}

int disco_artefact_gc(disco_catalog *cat, disco_objects *objs, int apply, int64_t grace_ms,
                      json_t **report, disco_status *st)
{
    hash_set live = {0};
    gc_walk walk = {.live = &live, .cutoff_ms = disco_time_now_ms() - grace_ms};
    uint64_t removed = 0, tmp_files = 0, tmp_bytes = 0;
    int rc;

    walk.unreferenced = json_array();
    if (!walk.unreferenced)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    rc = disco_catalog_foreach_object(cat, set_add, &live, st);
    if (rc != DISCO_OK)
        goto free_set;
    if (live.count)
        qsort(live.hashes, live.count, sizeof *live.hashes, cmp_hash);
    rc = disco_objects_foreach(objs, gc_visit, &walk, st);
    if (rc != DISCO_OK)
        goto free_set;
    if (apply) {
        rc = gc_remove(objs, walk.unreferenced, &removed, st);
        if (rc == DISCO_OK)
            rc = disco_objects_clean_tmp(objs, grace_ms, &tmp_files, &tmp_bytes, st);
        if (rc != DISCO_OK)
            goto free_set;
    }
    *report = json_pack("{s:b, s:I, s:I, s:O, s:I, s:I, s:I, s:I}", "dry_run", !apply, "scanned",
                        (json_int_t)walk.scanned, "referenced", (json_int_t)live.count,
                        "unreferenced", walk.unreferenced, "removed", (json_int_t)removed, "bytes",
                        (json_int_t)walk.bytes, "tmp_files", (json_int_t)tmp_files, "tmp_bytes",
                        (json_int_t)tmp_bytes);
    if (!*report)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
free_set:
    json_decref(walk.unreferenced);
    free(live.hashes);
    return rc;
}
