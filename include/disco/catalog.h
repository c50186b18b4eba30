/*
 * catalog.h - versioned resources with lineage, tags and access control.
 *
 * A resource is identified by a sortable id and has versions 1, 2, ...;
 * every update writes a new version and old versions stay readable. Delete
 * writes a tombstone version. Parents link a resource to the resources it
 * was made from; lineage walks those links both ways. Every write is one
 * transaction: it happens whole or not at all.
 *
 * The catalog is an interface: the embedded implementation is SQLite in WAL
 * mode (a file path); other back-ends plug in behind the same calls.
 * A handle belongs to one thread at a time; open one per thread.
 */
#ifndef DISCO_CATALOG_H
#define DISCO_CATALOG_H

#include "disco/err.h"
#include "disco/hash.h"
#include "disco/id.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct disco_catalog disco_catalog;

#define DISCO_TYPE_MAX 32    /* resource_type: [a-z][a-z0-9_.-]{0,31} */
#define DISCO_TAG_KEY_MAX 64 /* tag keys: [A-Za-z0-9_.:/-]{1,64} */
#define DISCO_TAG_VALUE_MAX 1024
#define DISCO_TAGS_MAX 64
#define DISCO_PARENTS_MAX 256
#define DISCO_METADATA_MAX (1024 * 1024) /* serialised bytes */
#define DISCO_LIST_LIMIT_MAX 10000
#define DISCO_PRINCIPAL_MAX 256 /* bytes of a principal name in an ACL or an upload */

/*
 * One version of a resource. The json_t members are owned references
 * (released by disco_resource_release()) and are never NULL after a
 * successful read.
 */
typedef struct disco_resource {
    char id[DISCO_ID_LEN + 1];
    char type[DISCO_TYPE_MAX + 1];
    int64_t created_ms;                    /* when version 1 was written */
    int64_t modified_ms;                   /* when this version was written */
    int64_t version;                       /* 1, 2, ... */
    int deleted;                           /* this version is a tombstone */
    char object[DISCO_SHA256_HEX_LEN + 1]; /* payload hash, "" when none */
    json_t *parents;                       /* array of id strings */
    json_t *tags;                          /* object: string -> string */
    json_t *acl;      /* {"owner": s, "readers": [s], "writers": [s], "public": b} */
    json_t *metadata; /* object */
} disco_resource;

/* Zeroes `r`. */
void disco_resource_init(disco_resource *r);
/* Drops the json members and zeroes `r`. */
void disco_resource_release(disco_resource *r);

/*
 * The resource as the API shows it: resource_id, resource_type,
 * creation_timestamp, modification_timestamp (ISO 8601), version, deleted,
 * parent_resources, tags, access_control, object (null when none),
 * metadata. New reference.
 */
json_t *disco_resource_to_json(const disco_resource *r);

/* What to create. Pointers are borrowed for the call. */
typedef struct disco_resource_spec {
    const char *type;       /* required */
    const char *object;     /* NULL or a payload hash */
    const json_t *parents;  /* NULL or array of ids; each must exist and not be deleted */
    const json_t *tags;     /* NULL or string map */
    const json_t *metadata; /* NULL or object */
    const json_t *acl;      /* NULL: {"owner": owner, private}; else fields as above */
    const char *owner;      /* principal creating it; required unless acl names one */
    const char *id;         /* NULL: a new id; else an unused well-formed id (imports) */
} disco_resource_spec;

/*
 * What an update changes; NULL members keep the current value. remove_tags
 * is applied before tags. Parents given twice are kept once (first
 * mention); only parents a write adds must exist and be live, so links to a
 * parent deleted later stay.
 */
typedef struct disco_resource_patch {
    int64_t expected_version;  /* 0: any; else CONFLICT unless it is the latest */
    const char *object;        /* new payload hash; "" removes the payload */
    const json_t *parents;     /* replaces the parents */
    const json_t *add_parents; /* appended to the parents (duplicates ignored) */
    const json_t *tags;        /* merged into the tags */
    const json_t *remove_tags; /* array of keys to remove */
    const json_t *metadata;    /* RFC 7386 merge patch applied to the metadata */
    const json_t *acl;         /* members given replace the current ones */
} disco_resource_patch;

/* Listing filters; zero-initialise, then set what you need. */
typedef struct disco_resource_filter {
    const char *type;
    const json_t *tags;      /* every key must have exactly this value */
    const json_t *metadata;  /* {"a.b": scalar}: metadata field at that path equals it */
    int64_t created_from_ms; /* inclusive; 0 = open */
    int64_t created_to_ms;   /* exclusive; 0 = open */
    int include_deleted;
    const char *visible_to; /* only what this principal may read (owner, reader, writer, public) */
    const char *after;      /* page cursor: list ids after this one */
    int64_t limit;          /* 0: 100; at most DISCO_LIST_LIMIT_MAX */
} disco_resource_filter;

typedef struct disco_resource_list {
    disco_resource *items;
    size_t count;
    char next[DISCO_ID_LEN + 1]; /* cursor for the next page; "" at the end */
} disco_resource_list;

void disco_resource_list_release(disco_resource_list *l);

typedef enum disco_lineage_dir {
    DISCO_LINEAGE_ANCESTORS = 1,
    DISCO_LINEAGE_DESCENDANTS = 2,
    DISCO_LINEAGE_BOTH = 3,
} disco_lineage_dir;

/*
 * Opens the catalog at `location`: a file path for the embedded SQLite
 * catalog (created when missing, with its folder), or a "postgres://" URI
 * (UNSUPPORTED until that back-end lands). CORRUPT when the file is not a
 * catalog; UNSUPPORTED when it was written by a newer version.
 */
int disco_catalog_open(const char *location, disco_catalog **out, disco_status *st);

/* NULL is a no-op. */
void disco_catalog_close(disco_catalog *c);

/*
 * Creates version 1 of a new resource and fills `out` (may be NULL).
 * Errors (all INVAL unless said, field named in the status): bad type, tags
 * or metadata; malformed parent id; NOTFOUND for an unknown or deleted parent;
 * EXISTS when spec->id is taken.
 */
int disco_catalog_create(disco_catalog *c, const disco_resource_spec *spec, disco_resource *out,
                         disco_status *st);

/*
 * Reads version `version` (0: the latest). The latest version of a deleted
 * resource is NOTFOUND ("resource X was deleted at version N"); explicit
 * older versions stay readable. INVAL for a malformed id.
 */
int disco_catalog_get(disco_catalog *c, const char *id, int64_t version, disco_resource *out,
                      disco_status *st);

/*
 * Writes a new version from the latest one with `patch` applied. Errors as
 * for create, plus NOTFOUND for an unknown or deleted resource, CONFLICT when
 * expected_version is stale or new parents would make a cycle.
 */
int disco_catalog_update(disco_catalog *c, const char *id, const disco_resource_patch *patch,
                         disco_resource *out, disco_status *st);

/*
 * Writes a tombstone version; the resource then no longer lists or resolves,
 * but its history does. Its payload becomes collectable once no live
 * resource refers to it. NOTFOUND when unknown or already deleted.
 */
int disco_catalog_delete(disco_catalog *c, const char *id, disco_resource *out, disco_status *st);

/* Every version of a resource, oldest first (deleted resources included). */
int disco_catalog_history(disco_catalog *c, const char *id, disco_resource_list *out,
                          disco_status *st);

/* Latest versions matching `f`, in id (= creation) order. */
int disco_catalog_list(disco_catalog *c, const disco_resource_filter *f, disco_resource_list *out,
                       disco_status *st);

/*
 * The lineage graph around `id` up to `max_depth` links away (1..1000) as
 *   {"root": id,
 *    "nodes": [{"resource_id", "resource_type", "version", "deleted",
 *               "relation": "self"|"ancestor"|"descendant", "depth"}],
 *    "edges": [{"child": id, "parent": id}]}
 * New reference in *graph.
 */
int disco_catalog_lineage(disco_catalog *c, const char *id, disco_lineage_dir dir, int max_depth,
                          json_t **graph, disco_status *st);

/*
 * Calls `fn` once for every distinct payload hash referred to by any
 * version of any resource that is not deleted. Non-zero from `fn` stops the
 * walk and is returned. The callback must not call the catalog (BUSY).
 */
int disco_catalog_foreach_object(disco_catalog *c, int (*fn)(void *user, const char *hash),
                                 void *user, disco_status *st);

/*
 * Calls `fn` with the latest version of each resource (a deleted one's
 * tombstone, which carries its last ACL) any of whose versions has payload
 * `hash`, oldest resource first; `r` is borrowed for the call. Non-zero
 * from `fn` stops the walk and is returned. The callback must not call the
 * catalog (BUSY). Answered from an index on the payload column, so the cost
 * is that of the resources found. Errors: INVAL for a malformed hash.
 */
int disco_catalog_foreach_referrer(disco_catalog *c, const char *hash,
                                   int (*fn)(void *user, const disco_resource *r), void *user,
                                   disco_status *st);

/* One principal's uploads of one object (disco_catalog_upload_record). */
typedef struct disco_upload {
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char principal[DISCO_PRINCIPAL_MAX + 1];
    int64_t first_ms; /* its first upload */
    int64_t last_ms;  /* its latest upload */
} disco_upload;

/*
 * Records that `principal` uploaded object `hash` now: the first call
 * stamps first_ms and last_ms, later ones only last_ms. Errors: INVAL for
 * a malformed hash or a principal that is not 1..DISCO_PRINCIPAL_MAX bytes
 * without control characters; the catalog's own errors.
 */
int disco_catalog_upload_record(disco_catalog *c, const char *hash, const char *principal,
                                disco_status *st);

/* The record of `principal`'s uploads of `hash`; NOTFOUND when it never uploaded it. */
int disco_catalog_upload_get(disco_catalog *c, const char *hash, const char *principal,
                             disco_upload *out, disco_status *st);

/*
 * Forgets the uploads of `hash` last seen before `before_ms` (after the
 * object was collected; a newer upload stays) and writes how many in
 * *removed (may be NULL). Errors: INVAL for a malformed hash.
 */
int disco_catalog_upload_forget(disco_catalog *c, const char *hash, int64_t before_ms,
                                int64_t *removed, disco_status *st);

/*
 * Counts: {"resources": n, "versions": n, "deleted": n, "by_type": {type: n}};
 * resources and by_type count live resources, deleted the deleted ones.
 */
int disco_catalog_stats(disco_catalog *c, json_t **out, disco_status *st);

/*
 * Groups the writes between begin and commit into one transaction (much
 * faster for bulk loads). Rollback undoes them. Batches do not nest.
 */
int disco_catalog_begin(disco_catalog *c, disco_status *st);
int disco_catalog_commit(disco_catalog *c, disco_status *st);
int disco_catalog_rollback(disco_catalog *c, disco_status *st);

/* Input checks shared by every back-end and by callers that parse input. */
int disco_catalog_check_type(const char *type, disco_status *st);
int disco_catalog_check_tags(const json_t *tags, disco_status *st);
int disco_catalog_check_metadata(const json_t *metadata, disco_status *st);
int disco_catalog_check_acl(const json_t *acl, disco_status *st);

#endif
