/*
 * catalog_sqlite_write.c - the writes of the SQLite catalog: create, update
 * and delete. Each writes a row of `versions`, brings the latest-state rows
 * of `resources`, `parents` and `tags` in step, and runs as one transaction
 * (or one savepoint of a batch). Rows are keyed by the resource's integer
 * rid; the text id lives only in `resources`.
 */
#include "catalog_sqlite_int.h"

#include "disco/json.h"
#include "disco/timeutil.h"

#include <stdlib.h>

static const char SQL_INSERT_RESOURCE[] =
    "INSERT INTO resources (id, type, created, modified, version, deleted, object, owner)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char SQL_UPDATE_RESOURCE[] =
    "UPDATE resources SET modified = ?4, version = ?5, deleted = ?6, object = ?7, owner = ?8"
    " WHERE rid = ?1";
static const char SQL_INSERT_VERSION[] =
    "INSERT INTO versions (rid, version, modified, deleted, object, parents, tags, acl, metadata)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_DELETE_PARENTS[] = "DELETE FROM parents WHERE child = ?1";
static const char SQL_INSERT_PARENT[] =
    "INSERT INTO parents (child, parent) SELECT ?1, rid FROM resources WHERE id = ?2";
static const char SQL_DELETE_TAGS[] = "DELETE FROM tags WHERE rid = ?1";
static const char SQL_INSERT_TAG[] = "INSERT INTO tags (rid, key, value) VALUES (?1, ?2, ?3)";

/* Every id in `ids` names a resource that exists and is not deleted. */
static int check_parents_live(disco__sqlite *s, const json_t *ids, disco_status *st)
{
    disco__sqlite_head_row h;
    const char *id;
    size_t i;
    json_t *v;
    int rc;

    json_array_foreach (ids, i, v) {
        id = json_string_value(v);
        rc = disco__sqlite_head(s, id, &h, st);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return disco_status_set(st, DISCO_ERR_NOTFOUND, "parents",
                                    "parent %s: no such resource", id);
        if (h.deleted)
            return disco_status_set(st, DISCO_ERR_NOTFOUND, "parents",
                                    "parent %s: was deleted at version %lld", id,
                                    (long long)h.version);
    }
    return DISCO_OK;
}

/* ---- rows -------------------------------------------------------------------- */

/* Binds JSON text (owned by SQLite afterwards); NOMEM when it cannot be made. */
static int bind_json(sqlite3_stmt *stmt, int col, const json_t *v)
{
    char *text = disco_json_dumps(v);

    if (!text)
        return DISCO_ERR_NOMEM;
    sqlite3_bind_text(stmt, col, text, -1, free);
    return DISCO_OK;
}

static void bind_object(sqlite3_stmt *stmt, int col, const char *object)
{
    if (object[0])
        sqlite3_bind_text(stmt, col, object, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, col);
}

/*
 * Inserts the resources row of a new `r` and sets *rid, or (`*rid` > 0)
 * updates the row of that rid.
 */
static int put_head(disco__sqlite *s, const disco_resource *r, int64_t *rid, disco_status *st)
{
    int insert = *rid == 0;
    sqlite3_stmt *stmt =
        insert ? disco__sqlite_stmt(s, DISCO__SQ_INSERT_RESOURCE, SQL_INSERT_RESOURCE, st)
               : disco__sqlite_stmt(s, DISCO__SQ_UPDATE_RESOURCE, SQL_UPDATE_RESOURCE, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    if (insert) {
        sqlite3_bind_text(stmt, 1, r->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, r->type, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, r->created_ms);
    } else {
        sqlite3_bind_int64(stmt, 1, *rid);
    }
    sqlite3_bind_int64(stmt, 4, r->modified_ms);
    sqlite3_bind_int64(stmt, 5, r->version);
    sqlite3_bind_int(stmt, 6, r->deleted);
    bind_object(stmt, 7, r->object);
    sqlite3_bind_text(stmt, 8, disco_json_str(r->acl, "owner", ""), -1, SQLITE_STATIC);
    rc = disco__sqlite_run(s, stmt, "writing a resource", st);
    if (rc == DISCO_OK && insert)
        *rid = sqlite3_last_insert_rowid(s->db);
    return rc;
}

static int put_version(disco__sqlite *s, int64_t rid, const disco_resource *r, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_INSERT_VERSION, SQL_INSERT_VERSION, st);

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_int64(stmt, 1, rid);
    sqlite3_bind_int64(stmt, 2, r->version);
    sqlite3_bind_int64(stmt, 3, r->modified_ms);
    sqlite3_bind_int(stmt, 4, r->deleted);
    bind_object(stmt, 5, r->object);
    if (bind_json(stmt, 6, r->parents) || bind_json(stmt, 7, r->tags) ||
        bind_json(stmt, 8, r->acl) || bind_json(stmt, 9, r->metadata)) {
        sqlite3_clear_bindings(stmt);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory writing %s", r->id);
    }
    return disco__sqlite_run(s, stmt, "writing a version", st);
}

/* Deletes the rows of `rid` with a cached "DELETE ... WHERE ... = ?1". */
static int clear_rows(disco__sqlite *s, int slot, const char *sql, int64_t rid, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_int64(stmt, 1, rid);
    return disco__sqlite_run(s, stmt, "clearing old links", st);
}

/* Writes the parents rows of `r` (`clear`: delete the old ones first). */
static int put_parents(disco__sqlite *s, int64_t rid, const disco_resource *r, int clear,
                       disco_status *st)
{
    sqlite3_stmt *stmt;
    size_t i;
    json_t *v;
    int rc;

    if (clear && (rc = clear_rows(s, DISCO__SQ_DELETE_PARENTS, SQL_DELETE_PARENTS, rid, st)))
        return rc;
    json_array_foreach (r->parents, i, v) {
        stmt = disco__sqlite_stmt(s, DISCO__SQ_INSERT_PARENT, SQL_INSERT_PARENT, st);
        if (!stmt)
            return DISCO_ERR_INTERNAL;
        sqlite3_bind_int64(stmt, 1, rid);
        sqlite3_bind_text(stmt, 2, json_string_value(v), -1, SQLITE_STATIC);
        if ((rc = disco__sqlite_run(s, stmt, "writing parents", st)))
            return rc;
    }
    return DISCO_OK;
}

/* Writes the tags rows of `r` (`clear`: delete the old ones first). */
static int put_tags(disco__sqlite *s, int64_t rid, const disco_resource *r, int clear,
                    disco_status *st)
{
    sqlite3_stmt *stmt;
    const char *key;
    json_t *v;
    int rc;

    if (clear && (rc = clear_rows(s, DISCO__SQ_DELETE_TAGS, SQL_DELETE_TAGS, rid, st)))
        return rc;
    json_object_foreach (r->tags, key, v) {
        stmt = disco__sqlite_stmt(s, DISCO__SQ_INSERT_TAG, SQL_INSERT_TAG, st);
        if (!stmt)
            return DISCO_ERR_INTERNAL;
        sqlite3_bind_int64(stmt, 1, rid);
        sqlite3_bind_text(stmt, 2, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 3, json_string_value(v), -1, SQLITE_STATIC);
        if ((rc = disco__sqlite_run(s, stmt, "writing tags", st)))
            return rc;
    }
    return DISCO_OK;
}

/* ---- create, update, delete ---------------------------------------------------- */

static int create_locked(disco__sqlite *s, const disco_resource *r, disco_status *st)
{
    disco__sqlite_head_row h;
    int64_t rid = 0;
    int rc;

    rc = disco__sqlite_head(s, r->id, &h, st);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return disco_status_set(st, DISCO_ERR_EXISTS, "id", "id %s: a resource with this id exists",
                                r->id);
    if ((rc = check_parents_live(s, r->parents, st)) || (rc = put_head(s, r, &rid, st)) ||
        (rc = put_version(s, rid, r, st)) || (rc = put_parents(s, rid, r, 0, st)) ||
        (rc = put_tags(s, rid, r, 0, st)))
        return rc;
    return DISCO_OK;
}

int disco__sqlite_create(disco_catalog *c, const disco_resource *r, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    return disco__sqlite_write_end(s, create_locked(s, r, st), st);
}

/* A modification time after the previous one, so versions order by time too. */
static int64_t next_modified(const disco_resource *prev)
{
    int64_t now = disco_time_now_ms();

    return now > prev->modified_ms ? now : prev->modified_ms + 1;
}

static int check_expected(const disco_resource *cur, const disco_resource_patch *patch,
                          disco_status *st)
{
    if (patch->expected_version && patch->expected_version != cur->version)
        return disco_status_set(st, DISCO_ERR_CONFLICT, "expected_version",
                                "expected_version %lld: resource %s is at version %lld",
                                (long long)patch->expected_version, cur->id,
                                (long long)cur->version);
    return DISCO_OK;
}

/* Writes `next` over `cur`: the new version and whatever latest-state rows changed. */
static int write_next(disco__sqlite *s, int64_t rid, const disco_resource *cur,
                      const disco_resource *next, disco_status *st)
{
    int rc;

    if ((rc = put_head(s, next, &rid, st)) || (rc = put_version(s, rid, next, st)))
        return rc;
    if (!json_equal(cur->parents, next->parents) && (rc = put_parents(s, rid, next, 1, st)))
        return rc;
    if (!json_equal(cur->tags, next->tags))
        rc = put_tags(s, rid, next, 1, st);
    return rc;
}

static int update_locked(disco__sqlite *s, const char *id, const disco_resource_patch *patch,
                         disco_resource *next, disco_status *st)
{
    disco_resource cur;
    json_t *added = NULL;
    int64_t rid;
    int rc;

    rc = disco__sqlite_load_live(s, id, &cur, &rid, st);
    if (rc)
        return rc;
    if ((rc = check_expected(&cur, patch, st)) ||
        (rc = disco__catalog_apply_patch(&cur, patch, next, &added, st)))
        goto release;
    next->modified_ms = next_modified(&cur);
    if ((rc = check_parents_live(s, added, st)) ||
        (rc = disco__sqlite_check_cycle(s, rid, id, added, st)))
        goto release;
    rc = write_next(s, rid, &cur, next, st);
release:
    json_decref(added);
    disco_resource_release(&cur);
    return rc;
}

int disco__sqlite_update(disco_catalog *c, const char *id, const disco_resource_patch *patch,
                         disco_resource *out, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    disco_resource next;
    int rc;

    disco_resource_init(&next);
    rc = disco__sqlite_write_begin(s, st);
    if (rc)
        return rc;
    rc = disco__sqlite_write_end(s, update_locked(s, id, patch, &next, st), st);
    if (rc == DISCO_OK && out)
        *out = next;
    else
        disco_resource_release(&next);
    return rc;
}

static int remove_locked(disco__sqlite *s, const char *id, disco_resource *next, disco_status *st)
{
    disco_resource cur;
    int64_t rid;
    int rc;

    rc = disco__sqlite_load_live(s, id, &cur, &rid, st);
    if (rc)
        return rc;
    rc = disco__resource_copy(next, &cur);
    if (rc == DISCO_OK) {
        next->version = cur.version + 1;
        next->deleted = 1;
        next->modified_ms = next_modified(&cur);
        if (!(rc = put_head(s, next, &rid, st)))
            rc = put_version(s, rid, next, st);
    } else {
        disco_status_set(st, rc, NULL, "out of memory deleting %s", id);
    }
    disco_resource_release(&cur);
    return rc;
}

int disco__sqlite_remove(disco_catalog *c, const char *id, disco_resource *out, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    disco_resource next;
    int rc;

    disco_resource_init(&next);
    rc = disco__sqlite_write_begin(s, st);
    if (rc)
        return rc;
    rc = disco__sqlite_write_end(s, remove_locked(s, id, &next, st), st);
    if (rc == DISCO_OK && out)
        *out = next;
    else
        disco_resource_release(&next);
    return rc;
}
