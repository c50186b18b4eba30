/*
 * catalog_sqlite_tokens.c - API tokens in the embedded catalog: the `tokens`
 * table (schema version 2, see catalog_sqlite.c).
 *
 * Input arrives checked by apitoken.c; this file owns the statements and
 * transactions. Revocation keeps the row (revoked = the time it happened),
 * so a listing can show what was revoked and when; the partial unique index
 * on live names lets a revoked token's name be used again.
 */
#include "catalog_sqlite_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_COLS "id, name, role, principal, created, last_used, revoked, hash"
#define COL_HASH 7

static const char SQL_INSERT[] = "INSERT INTO tokens (id, name, role, principal, hash, created)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_LIST[] = "SELECT " TOKEN_COLS " FROM tokens"
                               " WHERE ?1 OR revoked = 0 ORDER BY id LIMIT ?2";
static const char SQL_FIND[] = "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1";
static const char SQL_BY_ID[] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = ?1 AND revoked = 0";
static const char SQL_BY_NAME[] =
    "SELECT " TOKEN_COLS " FROM tokens WHERE name = ?1 AND revoked = 0";
static const char SQL_REVOKE[] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked = 0";
static const char SQL_TOUCH[] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1";

static void copy_text(char *dst, size_t size, sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);

    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Fills `t` from the TOKEN_COLS of the current row; CORRUPT on a bad role. */
static int read_token(disco__sqlite *s, sqlite3_stmt *stmt, disco_apitoken *t, disco_status *st)
{
    int64_t role = sqlite3_column_int64(stmt, 2);

    memset(t, 0, sizeof *t);
    copy_text(t->id, sizeof t->id, stmt, 0);
    copy_text(t->name, sizeof t->name, stmt, 1);
    copy_text(t->principal, sizeof t->principal, stmt, 3);
    t->created_ms = sqlite3_column_int64(stmt, 4);
    t->last_used_ms = sqlite3_column_int64(stmt, 5);
    t->revoked_ms = sqlite3_column_int64(stmt, 6);
    if (role < DISCO_ROLE_READER || role > DISCO_ROLE_ADMIN)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "catalog",
                                "catalog %s: token %s has unknown role %lld", s->path, t->id,
                                (long long)role);
    t->role = (disco_role)role;
    return DISCO_OK;
}

/*
 * Runs a statement bound to one text value and reads at most one token:
 * 1 when found, 0 when none, or a negative disco_err. `stored` may be NULL.
 */
static int read_one(disco__sqlite *s, int slot, const char *sql, const char *key,
                    disco_apitoken *out, char *stored, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        rc = read_token(s, stmt, out, st);
        if (rc == DISCO_OK && stored)
            copy_text(stored, DISCO_SHA256_HEX_LEN + 1, stmt, COL_HASH);
        rc = rc == DISCO_OK ? 1 : rc;
    } else {
        rc = rc == SQLITE_DONE ? 0 : disco__sqlite_fail(s, rc, "reading a token", st);
    }
    sqlite3_reset(stmt);
    return rc;
}

static int insert_row(disco__sqlite *s, const disco_apitoken *t, const char *hash, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_TOKEN_INSERT, SQL_INSERT, st);

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, t->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, (int)t->role);
    sqlite3_bind_text(stmt, 4, t->principal, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 5, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, t->created_ms);
    return disco__sqlite_run(s, stmt, "writing a token", st);
}

int disco__sqlite_token_insert(disco_catalog *c, const disco_apitoken *t, const char *hash,
                               disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    disco_apitoken old;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    rc = read_one(s, DISCO__SQ_TOKEN_BY_NAME, SQL_BY_NAME, t->name, &old, NULL, st);
    if (rc == 1)
        rc = disco_status_set(st, DISCO_ERR_EXISTS, "name",
                              "token name '%s': a live token has it (id %s); revoke it first "
                              "or pick another name",
                              t->name, old.id);
    if (rc == 0)
        rc = insert_row(s, t, hash, st);
    return disco__sqlite_write_end(s, rc, st);
}

static int list_push(disco_apitoken_list *l, const disco_apitoken *t)
{
    size_t n = l->count;
    disco_apitoken *items;

    /* Grow at powers of two. */
    if ((n & (n - 1)) == 0) {
        items = realloc(l->items, (n ? 2 * n : 1) * sizeof *items);
        if (!items)
            return DISCO_ERR_NOMEM;
        l->items = items;
    }
    l->items[n] = *t;
    l->count = n + 1;
    return DISCO_OK;
}

int disco__sqlite_token_list(disco_catalog *c, int include_revoked, disco_apitoken_list *out,
                             disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_TOKEN_LIST, SQL_LIST, st);
    disco_apitoken t;
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_int(stmt, 1, include_revoked != 0);
    sqlite3_bind_int(stmt, 2, DISCO_APITOKEN_LIST_MAX);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((rc = read_token(s, stmt, &t, st)))
            break;
        if ((rc = list_push(out, &t))) {
            disco_status_set(st, rc, NULL, "out of memory listing tokens");
            break;
        }
    }
    if (rc == SQLITE_DONE)
        rc = DISCO_OK;
    else if (rc > 0)
        rc = disco__sqlite_fail(s, rc, "listing tokens", st);
    sqlite3_reset(stmt);
    if (rc)
        disco_apitoken_list_release(out);
    return rc;
}

int disco__sqlite_token_find(disco_catalog *c, const char *hash, disco_apitoken *out,
                             char stored[DISCO_SHA256_HEX_LEN + 1], disco_status *st)
{
    int rc = read_one((disco__sqlite *)c, DISCO__SQ_TOKEN_FIND, SQL_FIND, hash, out, stored, st);

    return rc == 1 ? DISCO_OK : rc == 0 ? DISCO_ERR_NOTFOUND : rc;
}

/* The live token with id or name `key`: 1, 0 when none, or an error. */
static int find_live(disco__sqlite *s, const char *key, disco_apitoken *t, disco_status *st)
{
    int rc = 0;

    if (disco_id_valid(key))
        rc = read_one(s, DISCO__SQ_TOKEN_BY_ID, SQL_BY_ID, key, t, NULL, st);
    if (rc == 0)
        rc = read_one(s, DISCO__SQ_TOKEN_BY_NAME, SQL_BY_NAME, key, t, NULL, st);
    return rc;
}

static int set_time(disco__sqlite *s, int slot, const char *sql, const char *id, int64_t ms,
                    disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, ms);
    return disco__sqlite_run(s, stmt, "writing a token", st);
}

int disco__sqlite_token_revoke(disco_catalog *c, const char *name_or_id, int64_t now_ms,
                               disco_apitoken *out, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    disco_apitoken t;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    rc = find_live(s, name_or_id, &t, st);
    if (rc == 0)
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "token",
                              "token '%s': no live token has this name or id", name_or_id);
    if (rc == 1)
        rc = set_time(s, DISCO__SQ_TOKEN_REVOKE, SQL_REVOKE, t.id, now_ms, st);
    rc = disco__sqlite_write_end(s, rc, st);
    if (rc == DISCO_OK && out) {
        t.revoked_ms = now_ms;
        *out = t;
    }
    return rc;
}

int disco__sqlite_token_touch(disco_catalog *c, const char *id, int64_t now_ms, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    int rc = disco__sqlite_write_begin(s, st);

    if (rc)
        return rc;
    rc = set_time(s, DISCO__SQ_TOKEN_TOUCH, SQL_TOUCH, id, now_ms, st);
    return disco__sqlite_write_end(s, rc, st);
}
