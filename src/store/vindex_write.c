/*
 * vindex_write.c - upserts and deletes: every item is checked before
 * anything is written, the change is logged and synced (vindex_log.c),
 * then applied to the slots and the graph (vindex.c).
 *
 *   call --check--> log.dvl record --fdatasync--> apply --> return
 *          (INVAL: nothing written)      (a crash after this point replays it)
 *
 * A delete by filter is logged as the ids it resolved to, so replay does
 * not depend on metadata that later changes.
 */
#include "vindex_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- upsert and delete ----------------------------------------------------------------- */

static int check_key(const char *ns, const char *id, size_t i, disco_status *st)
{
    size_t nl = ns ? strlen(ns) : 0, il = id ? strlen(id) : 0;
    char field[DISCO_STATUS_FIELD_MAX];

    snprintf(field, sizeof field, "items[%zu].%s", i, nl > DISCO_VINDEX_ID_MAX ? "ns" : "id");
    if (nl > DISCO_VINDEX_ID_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: namespace of %zu bytes, at most %d", field, nl,
                                DISCO_VINDEX_ID_MAX);
    if (il == 0 || il > DISCO_VINDEX_ID_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: id must be 1..%d bytes, got %zu",
                                field, DISCO_VINDEX_ID_MAX, il);
    return DISCO_OK;
}

static int check_vec(const disco_vindex *v, const disco_vitem *it, size_t i, disco_status *st)
{
    char field[DISCO_STATUS_FIELD_MAX];

    snprintf(field, sizeof field, "items[%zu].values", i);
    if (!it->vec)
        return disco_status_set(st, DISCO_ERR_INVAL, field, "%s: missing", field);
    if (it->dim != 0 && it->dim != v->cfg.dim)
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: %zu floats, the collection has dim %zu", field, it->dim,
                                v->cfg.dim);
    double ss = 0.0;
    for (size_t d = 0; d < v->cfg.dim; d++) {
        if (!isfinite(it->vec[d]))
            return disco_status_set(st, DISCO_ERR_INVAL, field, "%s[%zu]: not a finite number",
                                    field, d);
        ss += (double)it->vec[d] * (double)it->vec[d];
    }
    if (!(ss > 0.0) && v->cfg.metric == DISCO_VMETRIC_COSINE)
        return disco_status_set(st, DISCO_ERR_INVAL, field,
                                "%s: all zeros, which has no cosine distance to anything "
                                "(the collection's metric is cosine)",
                                field);
    return DISCO_OK;
}

static int check_meta(const json_t *meta, size_t i, disco_status *st)
{
    disco_status ms = {0};
    char field[DISCO_STATUS_FIELD_MAX + 64];
    int len;

    if (disco_vmeta_check(meta, &ms) == DISCO_OK)
        return DISCO_OK;
    len = snprintf(field, sizeof field, "items[%zu].metadata", i);
    if (ms.field[0] && len > 0 && (size_t)len + 1 < sizeof field)
        snprintf(field + len, sizeof field - (size_t)len, ".%.*s",
                 (int)(sizeof field - (size_t)len - 2), ms.field);
    return disco_status_set(st, ms.code, field, "items[%zu].%s", i, ms.msg);
}

static int check_items(const disco_vindex *v, const disco_vitem *items, size_t n, disco_status *st)
{
    if (n > 0 && !items)
        return disco_status_set(st, DISCO_ERR_INVAL, "items", "upsert: %zu items but NULL", n);
    for (size_t i = 0; i < n; i++) {
        int rc = check_key(items[i].ns, items[i].id, i, st);

        if (rc == DISCO_OK)
            rc = check_vec(v, &items[i], i, st);
        if (rc == DISCO_OK)
            rc = check_meta(items[i].metadata, i, st);
        if (rc != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

static void encode_upsert(const disco_vindex *v, const disco_vitem *items, size_t n, vx_buf *b)
{
    disco__vx_put_u8(b, VX_REC_UPSERT);
    disco__vx_put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        disco__vx_put_str16(b, disco__vx_ns(items[i].ns));
        disco__vx_put_str16(b, items[i].id);
        disco__vx_put_meta(b, items[i].metadata);
        disco__vx_put_vec(b, items[i].vec, v->cfg.dim);
    }
}

int disco_vindex_upsert(disco_vindex *v, const disco_vitem *items, size_t n, size_t threads,
                        size_t *inserted, size_t *replaced, disco_status *st)
{
    vx_buf rec = {0};
    vx_item *it;
    int rc;

    if (inserted)
        *inserted = 0;
    if (replaced)
        *replaced = 0;
    if (!v)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "upsert: NULL collection");
    rc = check_items(v, items, n, st);
    if (rc != DISCO_OK || n == 0)
        return rc;
    it = calloc(n, sizeof *it);
    if (!it)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "upsert: no memory for %zu items", n);
    for (size_t i = 0; i < n; i++)
        it[i] = (vx_item){items[i].ns, items[i].id, items[i].vec, (json_t *)items[i].metadata};
    encode_upsert(v, items, n, &rec);
    pthread_rwlock_wrlock(&v->lock);
    rc = disco__vx_log_append(v, &rec, st);
    if (rc == DISCO_OK)
        rc = disco__vx_apply_upsert(v, it, n, threads, inserted, replaced, st);
    pthread_rwlock_unlock(&v->lock);
    free(rec.p);
    free(it);
    return rc;
}

/* Logs the deletion of keys that exist, then applies it; the caller holds the lock. */
static int delete_keys(disco_vindex *v, const char *ns, const char *const *ids, size_t n,
                       size_t *deleted, disco_status *st)
{
    vx_buf rec = {0};
    size_t found = 0;
    int rc = DISCO_OK;

    disco__vx_put_u8(&rec, VX_REC_DELETE);
    disco__vx_put_u32(&rec, 0);
    for (size_t i = 0; i < n; i++) {
        uint32_t slot;

        if (!disco__vx_lookup(v, ns, ids[i], &slot))
            continue;
        disco__vx_put_str16(&rec, disco__vx_ns(ns));
        disco__vx_put_str16(&rec, ids[i]);
        found++;
    }
    if (found > 0 && !rec.oom) {
        uint8_t c[4] = {(uint8_t)found, (uint8_t)(found >> 8), (uint8_t)(found >> 16),
                        (uint8_t)(found >> 24)};

        memcpy(rec.p + 1, c, 4);
    }
    if (found > 0)
        rc = disco__vx_log_append(v, &rec, st);
    found = 0;
    for (size_t i = 0; i < n && rc == DISCO_OK; i++)
        found += (size_t)disco__vx_apply_delete(v, ns, ids[i]);
    if (deleted)
        *deleted = rc == DISCO_OK ? found : 0;
    free(rec.p);
    return rc;
}

int disco_vindex_delete(disco_vindex *v, const char *ns, const char *const *ids, size_t n,
                        size_t *deleted, disco_status *st)
{
    int rc;

    if (deleted)
        *deleted = 0;
    if (!v || (n > 0 && !ids))
        return disco_status_set(st, DISCO_ERR_INVAL, "ids", "delete: NULL collection or ids");
    for (size_t i = 0; i < n; i++) {
        rc = check_key(ns, ids[i], i, st);
        if (rc != DISCO_OK)
            return rc;
    }
    pthread_rwlock_wrlock(&v->lock);
    rc = delete_keys(v, ns, ids, n, deleted, st);
    pthread_rwlock_unlock(&v->lock);
    return rc;
}

int disco_vindex_delete_filter(disco_vindex *v, const char *ns, const disco_vfilter *f,
                               size_t *deleted, disco_status *st)
{
    const char **ids;
    size_t n = 0;
    int rc;

    if (deleted)
        *deleted = 0;
    if (!v)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "delete: NULL collection");
    ns = disco__vx_ns(ns);
    pthread_rwlock_wrlock(&v->lock);
    ids = malloc((v->live + 1) * sizeof *ids);
    if (!ids) {
        pthread_rwlock_unlock(&v->lock);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "delete: no memory");
    }
    for (size_t s = 0; s < v->nslots; s++) {
        const vx_slot *sl = &v->slots[s];

        if (sl->ns && strcmp(sl->ns, ns) == 0 && (!f || disco_vfilter_match(f, sl->meta)))
            ids[n++] = sl->id;
    }
    rc = delete_keys(v, ns, ids, n, deleted, st);
    pthread_rwlock_unlock(&v->lock);
    free(ids);
    return rc;
}
