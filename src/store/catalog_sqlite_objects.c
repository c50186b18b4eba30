/*
 * catalog_sqlite_objects.c - what the embedded catalog knows about objects
 * beyond the payload columns: which resources ever named a payload, and
 * who uploaded which object (schema version 3, see catalog_sqlite.c).
 *
 * Both answer the question of ops/access: may this principal read object
 * H? The referrers come from the partial index versions_by_object, so the
 * walk costs the resources found, not the size of the catalog; uploads are
 * one row per (hash, principal), so repeated uploads only move `last`.
 */
#include "catalog_sqlite_int.h"

#include <stdio.h>
#include <string.h>

static const char SQL_REFERRERS[] =
    "SELECT " DISCO__SQLITE_COLS " FROM resources r JOIN versions v"
    " ON v.rid = r.rid AND v.version = r.version"
    " WHERE r.rid IN (SELECT rid FROM versions WHERE object = ?1) ORDER BY r.rid";
static const char SQL_UPLOAD_RECORD[] =
    "INSERT INTO uploads (hash, principal, first, last) VALUES (?1, ?2, ?3, ?3)"
    " ON CONFLICT (hash, principal) DO UPDATE SET last = max(last, excluded.last)";
static const char SQL_UPLOAD_GET[] =
    "SELECT first, last FROM uploads WHERE hash = ?1 AND principal = ?2";
static const char SQL_UPLOAD_FORGET[] = "DELETE FROM uploads WHERE hash = ?1 AND last < ?2";

int disco__sqlite_foreach_referrer(disco_catalog *c, const char *hash,
                                   int (*fn)(void *user, const disco_resource *r), void *user,
                                   disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_REFERRERS, SQL_REFERRERS, st);
    disco_resource r;
    int rc, stop = 0;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((rc = disco__sqlite_read_row(s, stmt, &r, st)))
            break;
        stop = fn(user, &r);
        disco_resource_release(&r);
    }
    if (stop)
        rc = stop;
    else if (rc == SQLITE_DONE)
        rc = DISCO_OK;
    else if (rc > 0)
        rc = disco__sqlite_fail(s, rc, "finding the resources of an object", st);
    sqlite3_reset(stmt);
    return rc;
}

int disco__sqlite_upload_record(disco_catalog *c, const char *hash, const char *principal,
                                int64_t now_ms, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    stmt = disco__sqlite_stmt(s, DISCO__SQ_UPLOAD_RECORD, SQL_UPLOAD_RECORD, st);
    if (!stmt) {
        rc = DISCO_ERR_INTERNAL;
    } else {
        sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, principal, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, now_ms);
        rc = disco__sqlite_run(s, stmt, "recording an upload", st);
    }
    return disco__sqlite_write_end(s, rc, st);
}

int disco__sqlite_upload_get(disco_catalog *c, const char *hash, const char *principal,
                             disco_upload *out, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_UPLOAD_GET, SQL_UPLOAD_GET, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, principal, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        snprintf(out->hash, sizeof out->hash, "%s", hash);
        snprintf(out->principal, sizeof out->principal, "%s", principal);
        out->first_ms = sqlite3_column_int64(stmt, 0);
        out->last_ms = sqlite3_column_int64(stmt, 1);
        rc = DISCO_OK;
    } else if (rc == SQLITE_DONE) {
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "hash",
                              "object %s: no upload by '%.64s' recorded", hash, principal);
    } else {
        rc = disco__sqlite_fail(s, rc, "reading an upload", st);
    }
    sqlite3_reset(stmt);
    return rc;
}

int disco__sqlite_upload_forget(disco_catalog *c, const char *hash, int64_t before_ms,
                                int64_t *removed, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    stmt = disco__sqlite_stmt(s, DISCO__SQ_UPLOAD_FORGET, SQL_UPLOAD_FORGET, st);
    if (!stmt) {
        rc = DISCO_ERR_INTERNAL;
    } else {
        sqlite3_bind_text(stmt, 1, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, before_ms);
        rc = disco__sqlite_run(s, stmt, "forgetting uploads", st);
        *removed = rc == DISCO_OK ? (int64_t)sqlite3_changes(s->db) : 0;
    }
    return disco__sqlite_write_end(s, rc, st);
}
