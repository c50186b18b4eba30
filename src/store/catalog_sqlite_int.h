/*
 * catalog_sqlite_int.h - what the files of the SQLite catalog back-end share:
 * the handle, its cache of prepared statements, and the calls that the
 * query and lineage files implement.
 *
 *   catalog_sqlite.c          open, schema, statements, transactions, get, history
 *   catalog_sqlite_write.c    create, update, delete
 *   catalog_sqlite_query.c    list, foreach_object, stats
 *   catalog_sqlite_lineage.c  lineage graphs and the cycle check of updates
 *   catalog_sqlite_tokens.c   API tokens
 *   catalog_sqlite_objects.c  resources naming a payload, uploads
 */
#ifndef DISCO_CATALOG_SQLITE_INT_H
#define DISCO_CATALOG_SQLITE_INT_H

#include "catalog_int.h"

#include <sqlite3.h>

/* Slots of the statement cache; the SQL lives next to its user. */
enum disco__sqlite_slot {
    DISCO__SQ_BEGIN,
    DISCO__SQ_BEGIN_READ,
    DISCO__SQ_COMMIT,
    DISCO__SQ_ROLLBACK,
    DISCO__SQ_SAVEPOINT,
    DISCO__SQ_RELEASE,
    DISCO__SQ_ROLLBACK_TO,
    DISCO__SQ_HEAD,
    DISCO__SQ_GET_LATEST,
    DISCO__SQ_GET_VERSION,
    DISCO__SQ_HISTORY,
    DISCO__SQ_INSERT_RESOURCE,
    DISCO__SQ_UPDATE_RESOURCE,
    DISCO__SQ_INSERT_VERSION,
    DISCO__SQ_DELETE_PARENTS,
    DISCO__SQ_INSERT_PARENT,
    DISCO__SQ_DELETE_TAGS,
    DISCO__SQ_INSERT_TAG,
    DISCO__SQ_CYCLE,
    DISCO__SQ_LINEAGE_UP,
    DISCO__SQ_LINEAGE_DOWN,
    DISCO__SQ_LINEAGE_NODE,
    DISCO__SQ_OBJECTS,
    DISCO__SQ_STATS_COUNTS,
    DISCO__SQ_STATS_TYPES,
    DISCO__SQ_TOKEN_INSERT,
    DISCO__SQ_TOKEN_LIST,
    DISCO__SQ_TOKEN_FIND,
    DISCO__SQ_TOKEN_BY_ID,
    DISCO__SQ_TOKEN_BY_NAME,
    DISCO__SQ_TOKEN_REVOKE,
    DISCO__SQ_TOKEN_TOUCH,
    DISCO__SQ_REFERRERS,
    DISCO__SQ_UPLOAD_RECORD,
    DISCO__SQ_UPLOAD_GET,
    DISCO__SQ_UPLOAD_FORGET,
    DISCO__SQ_COUNT
};

typedef struct disco__sqlite {
    struct disco_catalog base; /* first: the handle callers see */
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmts[DISCO__SQ_COUNT];
} disco__sqlite;

/*
 * Columns every resource read selects, from resources r joined with
 * versions v, in the order disco__sqlite_read_row() expects; the last one,
 * r.rid, is the resource's integer key.
 */
#define DISCO__SQLITE_COLS                                                                         \
    "r.id, r.type, r.created, v.modified, v.version, v.deleted, v.object, v.parents, v.tags, "     \
    "v.acl, v.metadata, r.rid"
#define DISCO__SQLITE_COL_RID 11

/*
 * The cached statement of `slot`, prepared from `sql` on first use, reset
 * and with its bindings cleared. NULL on failure (status set). Callers
 * reset it again when done so that no read stays open.
 */
sqlite3_stmt *disco__sqlite_stmt(disco__sqlite *s, int slot, const char *sql, disco_status *st);

/* Steps a statement that returns no rows (or ignores them) and resets it. */
int disco__sqlite_run(disco__sqlite *s, sqlite3_stmt *stmt, const char *what, disco_status *st);

/*
 * Brackets a write: its own IMMEDIATE transaction, or a savepoint inside a
 * batch. write_end commits when `rc` is OK, else undoes the write, and
 * returns the first error.
 */
int disco__sqlite_write_begin(disco__sqlite *s, disco_status *st);
int disco__sqlite_write_end(disco__sqlite *s, int rc, disco_status *st);

/* Maps SQLite result `rc` to a disco_err and says what failed with which file. */
int disco__sqlite_fail(disco__sqlite *s, int rc, const char *what, disco_status *st);

/* Fills `out` from the DISCO__SQLITE_COLS of the current row. CORRUPT on bad JSON. */
int disco__sqlite_read_row(disco__sqlite *s, sqlite3_stmt *stmt, disco_resource *out,
                           disco_status *st);

/* What resources says of one resource. */
typedef struct disco__sqlite_head_row {
    int64_t rid; /* its integer key in resources, parents, tags and versions */
    int64_t version;
    int deleted;
} disco__sqlite_head_row;

/* Looks up `id`: 1 when found (`h` filled), 0 when unknown, or a negative disco_err. */
int disco__sqlite_head(disco__sqlite *s, const char *id, disco__sqlite_head_row *h,
                       disco_status *st);

/*
 * The latest version of a live resource and its integer key (`rid` may be
 * NULL); NOTFOUND names why not.
 */
int disco__sqlite_load_live(disco__sqlite *s, const char *id, disco_resource *out, int64_t *rid,
                            disco_status *st);

/* Opens a read snapshot for several statements (none inside a batch). */
int disco__sqlite_read_begin(disco__sqlite *s, disco_status *st);
void disco__sqlite_read_end(disco__sqlite *s);

/* CONFLICT when one of the ids in `added` is a descendant of resource `id` (key `rid`). */
int disco__sqlite_check_cycle(disco__sqlite *s, int64_t rid, const char *id, const json_t *added,
                              disco_status *st);

int disco__sqlite_create(disco_catalog *c, const disco_resource *r, disco_status *st);
int disco__sqlite_update(disco_catalog *c, const char *id, const disco_resource_patch *patch,
                         disco_resource *out, disco_status *st);
int disco__sqlite_remove(disco_catalog *c, const char *id, disco_resource *out, disco_status *st);
int disco__sqlite_list(disco_catalog *c, const disco_resource_filter *f, disco_resource_list *out,
                       disco_status *st);
int disco__sqlite_lineage(disco_catalog *c, const char *id, disco_lineage_dir dir, int max_depth,
                          json_t **graph, disco_status *st);
int disco__sqlite_foreach_object(disco_catalog *c, int (*fn)(void *user, const char *hash),
                                 void *user, disco_status *st);
int disco__sqlite_stats(disco_catalog *c, json_t **out, disco_status *st);
int disco__sqlite_token_insert(disco_catalog *c, const disco_apitoken *t, const char *hash,
                               disco_status *st);
int disco__sqlite_token_list(disco_catalog *c, int include_revoked, disco_apitoken_list *out,
                             disco_status *st);
int disco__sqlite_token_find(disco_catalog *c, const char *hash, disco_apitoken *out,
                             char stored[DISCO_SHA256_HEX_LEN + 1], disco_status *st);
int disco__sqlite_token_revoke(disco_catalog *c, const char *name_or_id, int64_t now_ms,
                               disco_apitoken *out, disco_status *st);
int disco__sqlite_token_touch(disco_catalog *c, const char *id, int64_t now_ms, disco_status *st);
int disco__sqlite_foreach_referrer(disco_catalog *c, const char *hash,
                                   int (*fn)(void *user, const disco_resource *r), void *user,
                                   disco_status *st);
int disco__sqlite_upload_record(disco_catalog *c, const char *hash, const char *principal,
                                int64_t now_ms, disco_status *st);
int disco__sqlite_upload_get(disco_catalog *c, const char *hash, const char *principal,
                             disco_upload *out, disco_status *st);
int disco__sqlite_upload_forget(disco_catalog *c, const char *hash, int64_t before_ms,
                                int64_t *removed, disco_status *st);

#endif
