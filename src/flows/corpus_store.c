/*
 * corpus_store.c - the corpus in the catalog: one "midi" resource per piece
 * (payload in the object store) and one "corpus" resource per corpus, both
 * tagged {corpus: NAME}.
 *
 * Idempotence: pieces are found by metadata.content_hash among the corpus'
 * pieces (listed once per build); a resource is only written again when
 * its metadata or payload differ, and then as a new version whose metadata
 * is replaced (keys no longer present are removed).
 */
#include "corpus_int.h"

#include "disco/json.h"

#include <stdlib.h>
#include <string.h>

#define LIST_PAGE 1000

static int list_corpus(disco_catalog *cat, const char *type, const char *name, const char *after,
                       disco_resource_list *l, disco_status *st)
{
    json_t *tags = json_pack("{s:s}", "corpus", name);
    disco_resource_filter f = {.type = type, .tags = tags, .after = after, .limit = LIST_PAGE};
    int rc = tags ? disco_catalog_list(cat, &f, l, st)
                  : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    json_decref(tags);
    return rc;
}

static int index_page(json_t *index, const disco_resource_list *l, disco_status *st)
{
    for (size_t i = 0; i < l->count; i++) {
        const disco_resource *r = &l->items[i];
        const char *h = disco_json_str(r->metadata, "content_hash", NULL);
        if (!h)
            continue;
        json_t *e =
            json_pack("{s:s, s:s, s:O}", "id", r->id, "object", r->object, "metadata", r->metadata);
        if (!e || json_object_set_new(index, h, e))
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    return DISCO_OK;
}

int disco__corpus_existing(disco_catalog *cat, const char *name, json_t **index, disco_status *st)
{
    char after[DISCO_ID_LEN + 1] = "";
    int rc = DISCO_OK;
    *index = json_object();
    if (!*index)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    do {
        disco_resource_list l = {0};
        rc = list_corpus(cat, "midi", name, after[0] ? after : NULL, &l, st);
        if (!rc)
            rc = index_page(*index, &l, st);
        snprintf(after, sizeof(after), "%s", l.next);
        disco_resource_list_release(&l);
    } while (!rc && after[0]);
    if (rc) {
        json_decref(*index);
        *index = NULL;
    }
    return rc;
}

/* An RFC 7386 patch turning `old` into `new` (members of `old` missing from `new` removed). */
static json_t *replace_patch(const json_t *old, const json_t *new)
{
    json_t *p = json_object();
    const char *key;
    json_t *v;
    if (!p)
        return NULL;
    json_object_foreach ((json_t *)old, key, v)
        if (!json_object_get(new, key))
            json_object_set_new(p, key, json_null());
    json_object_foreach ((json_t *)new, key, v) {
        const json_t *o = json_object_get(old, key);
        if (json_is_object(v) && json_is_object(o))
            json_object_set_new(p, key, replace_patch(o, v));
        else
            json_object_set(p, key, v);
    }
    return p;
}

static int update_metadata(disco_catalog *cat, const char *id, const json_t *old, const json_t *new,
                           const char *object, disco_resource *out, disco_status *st)
{
    json_t *patch_md = replace_patch(old, new);
    disco_resource_patch patch = {.metadata = patch_md, .object = object};
    int rc = patch_md ? disco_catalog_update(cat, id, &patch, out, st)
                      : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    json_decref(patch_md);
    return rc;
}

static int create_piece(disco_catalog *cat, disco_objects *objs, json_t *index, const char *name,
                        const char *owner, const corpus_piece *p, json_t *metadata,
                        disco_status *st)
{
    disco_object_info info;
    disco_resource r;
    json_t *tags = json_pack("{s:s}", "corpus", name);
    disco_resource_init(&r);
    int rc = tags ? disco_objects_put_mem(objs, p->midi, p->midi_len, &info, NULL, st)
                  : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!rc) {
        disco_resource_spec spec = {.type = "midi",
                                    .object = info.hash,
                                    .tags = tags,
                                    .metadata = metadata,
                                    .owner = owner};
        rc = disco_catalog_create(cat, &spec, &r, st);
    }
    if (!rc)
        json_object_set_new(
            index, p->hash,
            json_pack("{s:s, s:s, s:O}", "id", r.id, "object", r.object, "metadata", metadata));
    disco_resource_release(&r);
    json_decref(tags);
    return rc;
}

int disco__corpus_store_piece(disco_catalog *cat, disco_objects *objs, json_t *index,
                              const char *name, const char *owner, const corpus_piece *p,
                              json_t *metadata, int *outcome, disco_status *st)
{
    json_t *e = json_object_get(index, p->hash);
    char hex[DISCO_SHA256_HEX_LEN + 1];
    if (!e) {
        *outcome = 0;
        return create_piece(cat, objs, index, name, owner, p, metadata, st);
    }
    if (disco_sha256_hex(p->midi, p->midi_len, hex))
        return disco_status_set(st, DISCO_ERR_INTERNAL, NULL, "cannot hash a MIDI payload");
    const json_t *old = json_object_get(e, "metadata");
    int same_payload = strcmp(disco_json_str(e, "object", ""), hex) == 0;
    *outcome = 2;
    if (same_payload && json_equal(old, metadata))
        return DISCO_OK;
    *outcome = 1;
    disco_object_info info;
    disco_resource r;
    int rc = same_payload ? DISCO_OK
                          : disco_objects_put_mem(objs, p->midi, p->midi_len, &info, NULL, st);
    disco_resource_init(&r);
    if (!rc)
        rc = update_metadata(cat, disco_json_str(e, "id", ""), old, metadata,
                             same_payload ? NULL : info.hash, &r, st);
    if (!rc)
        json_object_set_new(
            index, p->hash,
            json_pack("{s:s, s:s, s:O}", "id", r.id, "object", r.object, "metadata", metadata));
    disco_resource_release(&r);
    return rc;
}

int disco__corpus_store_corpus(disco_catalog *cat, const char *name, const char *owner,
                               json_t *metadata, char id[DISCO_ID_LEN + 1], int64_t *version,
                               disco_status *st)
{
    disco_resource_list l = {0};
    disco_resource r;
    disco_resource_init(&r);
    int rc = list_corpus(cat, "corpus", name, NULL, &l, st);
    if (!rc && l.count == 0) {
        json_t *tags = json_pack("{s:s}", "corpus", name);
        disco_resource_spec spec = {
            .type = "corpus", .tags = tags, .metadata = metadata, .owner = owner};
        rc = tags ? disco_catalog_create(cat, &spec, &r, st)
                  : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        json_decref(tags);
    } else if (!rc && json_equal(l.items[0].metadata, metadata)) {
        rc = disco_catalog_get(cat, l.items[0].id, 0, &r, st);
    } else if (!rc) {
        rc = update_metadata(cat, l.items[0].id, l.items[0].metadata, metadata, NULL, &r, st);
    }
    if (!rc) {
        snprintf(id, DISCO_ID_LEN + 1, "%s", r.id);
        *version = r.version;
    }
    disco_resource_release(&r);
    disco_resource_list_release(&l);
    return rc;
}
