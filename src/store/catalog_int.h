/*
 * catalog_int.h - what a catalog back-end implements, and the helpers that
 * every back-end shares.
 *
 * DESIGN
 *   disco_catalog_*()  (catalog.c)      validate input (catalog_check.c),
 *                                       normalise it, dispatch
 *          |
 *   const disco__catalog_ops *ops       one table per back-end
 *          |
 *   catalog_sqlite*.c                   embedded SQLite (the default)
 *   (PostgreSQL later)                  same table, same semantics
 *
 * A back-end allocates its own handle with `struct disco_catalog` as its
 * first member. Back-ends receive input that catalog.c has already checked
 * for syntax (ids, type, tags, metadata, ACL, limits); they check what needs
 * the stored state (existence, deletion, versions, cycles) and own the
 * transactions.
 */
#ifndef DISCO_CATALOG_INT_H
#define DISCO_CATALOG_INT_H

#include "disco/apitoken.h"
#include "disco/catalog.h"

/* Deepest metadata accepted (an object alone is depth 1). */
#define DISCO__METADATA_DEPTH_MAX 32
/* Longest principal name in an ACL, a visible_to filter or an upload record. */
#define DISCO__PRINCIPAL_MAX DISCO_PRINCIPAL_MAX
/* Longest metadata filter path ("a.b.c"). */
#define DISCO__METADATA_PATH_MAX 256
/* Default page size of a listing. */
#define DISCO__LIST_LIMIT_DEFAULT 100
/* Deepest lineage walk. */
#define DISCO__LINEAGE_DEPTH_MAX 1000

typedef struct disco__catalog_ops {
    const char *name;
    /* Writes version 1 of `r`, already complete and checked except for the
     * existence of its parents and the freedom of its id. */
    int (*create)(disco_catalog *c, const disco_resource *r, disco_status *st);
    int (*get)(disco_catalog *c, const char *id, int64_t version, disco_resource *out,
               disco_status *st);
    /* Reads the latest version, applies disco__catalog_apply_patch(),
     * checks new parents and writes the result, all in one transaction. */
    int (*update)(disco_catalog *c, const char *id, const disco_resource_patch *patch,
                  disco_resource *out, disco_status *st);
    int (*remove)(disco_catalog *c, const char *id, disco_resource *out, disco_status *st);
    int (*history)(disco_catalog *c, const char *id, disco_resource_list *out, disco_status *st);
    /* `f` is checked; f->limit is already resolved to 1..DISCO_LIST_LIMIT_MAX. */
    int (*list)(disco_catalog *c, const disco_resource_filter *f, disco_resource_list *out,
                disco_status *st);
    int (*lineage)(disco_catalog *c, const char *id, disco_lineage_dir dir, int max_depth,
                   json_t **graph, disco_status *st);
    /* Returns fn's non-zero value when it stops the walk. */
    int (*foreach_object)(disco_catalog *c, int (*fn)(void *user, const char *hash), void *user,
                          disco_status *st);
    int (*stats)(disco_catalog *c, json_t **out, disco_status *st);
    int (*begin)(disco_catalog *c, disco_status *st);
    /* Leaves no batch open, even when it fails (it then rolls back). */
    int (*commit)(disco_catalog *c, disco_status *st);
    int (*rollback)(disco_catalog *c, disco_status *st);
    /* API tokens (apitoken.c checks input and makes secrets and hashes).
     * token_insert: EXISTS when a live token has t->name. token_find: the
     * token whose stored hash is `hash` (revoked ones too) and that hash;
     * NOTFOUND when none. token_revoke: NOTFOUND when no live token has that
     * id or name. token_touch: sets last_used_ms. */
    int (*token_insert)(disco_catalog *c, const disco_apitoken *t, const char *hash,
                        disco_status *st);
    int (*token_list)(disco_catalog *c, int include_revoked, disco_apitoken_list *out,
                      disco_status *st);
    int (*token_find)(disco_catalog *c, const char *hash, disco_apitoken *out,
                      char stored[DISCO_SHA256_HEX_LEN + 1], disco_status *st);
    int (*token_revoke)(disco_catalog *c, const char *name_or_id, int64_t now_ms,
                        disco_apitoken *out, disco_status *st);
    int (*token_touch)(disco_catalog *c, const char *id, int64_t now_ms, disco_status *st);
    /* Objects: the resources whose versions name a payload, and who
     * uploaded what. `hash` and `principal` arrive checked; upload_get
     * answers NOTFOUND (with a message) when there is no record. */
    int (*foreach_referrer)(disco_catalog *c, const char *hash,
                            int (*fn)(void *user, const disco_resource *r), void *user,
                            disco_status *st);
    int (*upload_record)(disco_catalog *c, const char *hash, const char *principal, int64_t now_ms,
                         disco_status *st);
    int (*upload_get)(disco_catalog *c, const char *hash, const char *principal, disco_upload *out,
                      disco_status *st);
    int (*upload_forget)(disco_catalog *c, const char *hash, int64_t before_ms, int64_t *removed,
                         disco_status *st);
    void (*close)(disco_catalog *c);
} disco__catalog_ops;

struct disco_catalog {
    const disco__catalog_ops *ops;
    int in_batch;    /* between begin and commit/rollback */
    int in_callback; /* inside foreach_object's callback: the handle is busy */
};

/*
 * Syntax and limit checks of whole inputs (catalog_check.c); INVAL naming
 * the field. check_filter does not resolve limit 0.
 */
int disco__catalog_check_spec(const disco_resource_spec *spec, disco_status *st);
int disco__catalog_check_patch(const disco_resource_patch *patch, disco_status *st);
int disco__catalog_check_filter(const disco_resource_filter *f, disco_status *st);

/* A principal given as a C string: INVAL naming `field` unless 1..DISCO__PRINCIPAL_MAX
 * bytes without control characters. */
int disco__catalog_check_principal(const char *name, const char *field, disco_status *st);

/* disco_id_check() of `id` named `what`, with the status field set to `field`. */
int disco__catalog_check_id(const char *id, const char *what, const char *field, disco_status *st);

/* Opens the embedded catalog at a file path (catalog_sqlite.c). */
int disco__catalog_sqlite_open(const char *path, disco_catalog **out, disco_status *st);

/*
 * Builds the next version of `cur` with `patch` applied into `next`
 * (initialised by the caller; released on error). Parents are de-duplicated
 * in order; `*added` (new reference, never NULL on success) holds the
 * parents that `cur` did not have, for the back-end to check. Errors: INVAL
 * when the result breaks a limit or names the resource as its own parent.
 */
int disco__catalog_apply_patch(const disco_resource *cur, const disco_resource_patch *patch,
                               disco_resource *next, json_t **added, disco_status *st);

/* A copy of an id array with later duplicates dropped; NULL on NOMEM. */
json_t *disco__catalog_dedup_ids(const json_t *ids);

/* Deep copy of the resource's members into `dst` (initialised); NOMEM. */
int disco__resource_copy(disco_resource *dst, const disco_resource *src);

/* Appends a resource to a list, taking over its members (src is zeroed). */
int disco__resource_list_push(disco_resource_list *l, disco_resource *src);

/*
 * Translates a metadata filter path "a.b" into a JSON path '$."a"."b"'
 * in `buf`. INVAL for empty segments or characters a path cannot quote.
 */
int disco__catalog_json_path(const char *path, char *buf, size_t size, disco_status *st);

#endif
