/*
 * catalog_sqlite.c - the embedded catalog: one SQLite file in WAL mode.
 *
 * SCHEMA (version 3, kept in PRAGMA user_version; migrations[] below)
 *
 *   resources(rid INTEGER PK, id UNIQUE, type, created, modified, version,
 *             deleted, object, owner)
 *       one row per resource: its latest state. `rid` is the compact key
 *       every other table uses; the 26-character id lives only here.
 *   versions(rid, version, modified, deleted, object, parents, tags, acl,
 *            metadata)  PK (rid, version)
 *       every version ever written; the JSON columns hold the key-sorted
 *       compact text of the members (parents as ids);
 *       partial index versions_by_object (object) WHERE object IS NOT NULL
 *       finds the resources that ever named a payload       (version 3)
 *   parents(child, parent)  PK (child, parent), index (parent, child)
 *       the links of each resource's latest version, as rids
 *   tags(rid, key, value)   PK (rid, key), index (key, value)
 *       the tags of each resource's latest version
 *   tokens(tid INTEGER PK, id UNIQUE, name, role, principal, hash UNIQUE,
 *          created, last_used, revoked)          (version 2)
 *       API tokens: the SHA-256 of each secret, never the secret; a name is
 *       unique among live tokens (revoked = 0), by a partial unique index
 *   uploads(hash, principal, first, last)  PK (hash, principal)  (version 3)
 *       who uploaded which object, and when first and last: an uploader may
 *       read its object before any resource names it (ops/access)
 *
 * resources, parents and tags index the latest versions and are kept in
 * step with versions by every write (one transaction each, or a savepoint
 * inside a batch). Listings run in id order on resources' unique index;
 * lineage walks `parents` both ways; metadata filters read versions.metadata.
 *
 * DURABILITY: WAL with synchronous=NORMAL. A commit appends its pages to
 * the WAL; the WAL is synced only at checkpoints. A process crash loses
 * nothing that was committed: the WAL frames are in the operating system's
 * cache and are replayed on the next open. Power loss or an OS crash may
 * lose the transactions since the last sync, but never corrupts the file.
 * Objects are fsynced before the resources naming them are written, so the
 * worst case is an object no resource names, which collection removes.
 * FULL would sync the WAL at every commit: one-at-a-time creates measured
 * about 4x slower with it (bench_catalog).
 */
#include "catalog_sqlite_int.h"

#include "disco/json.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 5000

static const char SCHEMA_V1[] =
    "CREATE TABLE resources ("
    " rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,"
    " created INTEGER NOT NULL, modified INTEGER NOT NULL, version INTEGER NOT NULL,"
    " deleted INTEGER NOT NULL, object TEXT, owner TEXT NOT NULL);"
    "CREATE INDEX resources_by_type ON resources(type, id);"
    "CREATE TABLE versions ("
    " rid INTEGER NOT NULL REFERENCES resources(rid), version INTEGER NOT NULL,"
    " modified INTEGER NOT NULL, deleted INTEGER NOT NULL, object TEXT,"
    " parents TEXT NOT NULL, tags TEXT NOT NULL, acl TEXT NOT NULL, metadata TEXT NOT NULL,"
    " PRIMARY KEY (rid, version)) WITHOUT ROWID;"
    "CREATE TABLE parents ("
    " child INTEGER NOT NULL REFERENCES resources(rid),"
    " parent INTEGER NOT NULL REFERENCES resources(rid),"
    " PRIMARY KEY (child, parent)) WITHOUT ROWID;"
    "CREATE INDEX parents_by_parent ON parents(parent, child);"
    "CREATE TABLE tags ("
    " rid INTEGER NOT NULL REFERENCES resources(rid), key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (rid, key)) WITHOUT ROWID;"
    "CREATE INDEX tags_by_value ON tags(key, value);";

static const char SCHEMA_V2[] =
    "CREATE TABLE tokens ("
    " tid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " role INTEGER NOT NULL, principal TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
    " created INTEGER NOT NULL, last_used INTEGER NOT NULL DEFAULT 0,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked = 0;";

static const char SCHEMA_V3[] =
    "CREATE INDEX versions_by_object ON versions(object) WHERE object IS NOT NULL;"
    "CREATE TABLE uploads ("
    " hash TEXT NOT NULL, principal TEXT NOT NULL,"
    " first INTEGER NOT NULL, last INTEGER NOT NULL,"
    " PRIMARY KEY (hash, principal)) WITHOUT ROWID;";

/* migrations[i] takes a catalog from schema version i to i + 1. */
static const char *const migrations[] = {SCHEMA_V1, SCHEMA_V2, SCHEMA_V3};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

static const char *const TX_SQL[] = {
    [DISCO__SQ_BEGIN] = "BEGIN IMMEDIATE",
    [DISCO__SQ_BEGIN_READ] = "BEGIN",
    [DISCO__SQ_COMMIT] = "COMMIT",
    [DISCO__SQ_ROLLBACK] = "ROLLBACK",
    [DISCO__SQ_SAVEPOINT] = "SAVEPOINT write",
    [DISCO__SQ_RELEASE] = "RELEASE write",
    [DISCO__SQ_ROLLBACK_TO] = "ROLLBACK TO write",
};

static const char SQL_HEAD[] = "SELECT rid, version, deleted FROM resources WHERE id = ?1";
static const char SQL_GET_LATEST[] =
    "SELECT " DISCO__SQLITE_COLS " FROM resources r JOIN versions v"
    " ON v.rid = r.rid AND v.version = r.version WHERE r.id = ?1";
static const char SQL_GET_VERSION[] =
    "SELECT " DISCO__SQLITE_COLS " FROM resources r JOIN versions v ON v.rid = r.rid"
    " WHERE r.id = ?1 AND v.version = ?2";
static const char SQL_HISTORY[] =
    "SELECT " DISCO__SQLITE_COLS " FROM resources r JOIN versions v ON v.rid = r.rid"
    " WHERE r.id = ?1 ORDER BY v.version";

/* ---- statements and errors ---------------------------------------------- */

int disco__sqlite_fail(disco__sqlite *s, int rc, const char *what, disco_status *st)
{
    int code;

    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        code = DISCO_ERR_NOMEM;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        code = DISCO_ERR_BUSY;
        break;
    case SQLITE_FULL:
        code = DISCO_ERR_NOSPC;
        break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        code = DISCO_ERR_CORRUPT;
        break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        code = DISCO_ERR_IO;
        break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        code = DISCO_ERR_PERM;
        break;
    default:
        code = DISCO_ERR_INTERNAL;
    }
    return disco_status_set(st, code, "catalog", "catalog %s: %s: %s", s->path, what,
                            (rc & 0xff) == SQLITE_NOTADB ? "not a SQLite database"
                                                         : sqlite3_errmsg(s->db));
}

sqlite3_stmt *disco__sqlite_stmt(disco__sqlite *s, int slot, const char *sql, disco_status *st)
{
    sqlite3_stmt *stmt = s->stmts[slot];
    int rc;

    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
    if (rc != SQLITE_OK) {
        disco__sqlite_fail(s, rc, "preparing a statement", st);
        return NULL;
    }
    s->stmts[slot] = stmt;
    return stmt;
}

/* Runs a statement that returns no rows. */
int disco__sqlite_run(disco__sqlite *s, sqlite3_stmt *stmt, const char *what, disco_status *st)
{
    int rc = sqlite3_step(stmt);

    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(stmt);
        return DISCO_OK;
    }
    rc = disco__sqlite_fail(s, rc, what, st);
    sqlite3_reset(stmt);
    return rc;
}

static int run_tx(disco__sqlite *s, int slot, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, TX_SQL[slot], st);

    return stmt ? disco__sqlite_run(s, stmt, TX_SQL[slot], st) : DISCO_ERR_INTERNAL;
}

/* ---- transactions -------------------------------------------------------- */

/* A write is its own transaction, or a savepoint inside a batch. */
int disco__sqlite_write_begin(disco__sqlite *s, disco_status *st)
{
    return run_tx(s, s->base.in_batch ? DISCO__SQ_SAVEPOINT : DISCO__SQ_BEGIN, st);
}

/* Commits a write when rc is OK, else undoes it; returns the first error. */
int disco__sqlite_write_end(disco__sqlite *s, int rc, disco_status *st)
{
    if (rc == DISCO_OK) {
        rc = run_tx(s, s->base.in_batch ? DISCO__SQ_RELEASE : DISCO__SQ_COMMIT, st);
        if (rc == DISCO_OK)
            return DISCO_OK;
    }
    if (s->base.in_batch) {
        run_tx(s, DISCO__SQ_ROLLBACK_TO, NULL);
        run_tx(s, DISCO__SQ_RELEASE, NULL);
    } else if (!sqlite3_get_autocommit(s->db)) {
        run_tx(s, DISCO__SQ_ROLLBACK, NULL);
    }
    return rc;
}

int disco__sqlite_read_begin(disco__sqlite *s, disco_status *st)
{
    return s->base.in_batch ? DISCO_OK : run_tx(s, DISCO__SQ_BEGIN_READ, st);
}

void disco__sqlite_read_end(disco__sqlite *s)
{
    if (!s->base.in_batch && !sqlite3_get_autocommit(s->db))
        run_tx(s, DISCO__SQ_COMMIT, NULL);
}

static int sqlite_begin(disco_catalog *c, disco_status *st)
{
    return run_tx((disco__sqlite *)c, DISCO__SQ_BEGIN, st);
}

static int sqlite_commit(disco_catalog *c, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    int rc = run_tx(s, DISCO__SQ_COMMIT, st);

    if (rc && !sqlite3_get_autocommit(s->db))
        run_tx(s, DISCO__SQ_ROLLBACK, NULL);
    return rc;
}

static int sqlite_rollback(disco_catalog *c, disco_status *st)
{
    return run_tx((disco__sqlite *)c, DISCO__SQ_ROLLBACK, st);
}

/* ---- rows ------------------------------------------------------------------ */

static void copy_text(char *dst, size_t size, sqlite3_stmt *stmt, int col)
{
    const unsigned char *t = sqlite3_column_text(stmt, col);

    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static json_t *column_json(sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);

    if (!text)
        return NULL;
    return json_loadb(text, (size_t)sqlite3_column_bytes(stmt, col), 0, NULL);
}

int disco__sqlite_read_row(disco__sqlite *s, sqlite3_stmt *stmt, disco_resource *out,
                           disco_status *st)
{
    disco_resource r;

    disco_resource_init(&r);
    copy_text(r.id, sizeof r.id, stmt, 0);
    copy_text(r.type, sizeof r.type, stmt, 1);
    r.created_ms = sqlite3_column_int64(stmt, 2);
    r.modified_ms = sqlite3_column_int64(stmt, 3);
    r.version = sqlite3_column_int64(stmt, 4);
    r.deleted = sqlite3_column_int(stmt, 5) != 0;
    copy_text(r.object, sizeof r.object, stmt, 6);
    r.parents = column_json(stmt, 7);
    r.tags = column_json(stmt, 8);
    r.acl = column_json(stmt, 9);
    r.metadata = column_json(stmt, 10);
    if (!json_is_array(r.parents) || !json_is_object(r.tags) || !json_is_object(r.acl) ||
        !json_is_object(r.metadata)) {
        disco_status_set(st, DISCO_ERR_CORRUPT, "catalog",
                         "catalog %s: resource %s version %lld: stored JSON is unreadable", s->path,
                         r.id, (long long)r.version);
        disco_resource_release(&r);
        return DISCO_ERR_CORRUPT;
    }
    *out = r;
    return DISCO_OK;
}

int disco__sqlite_head(disco__sqlite *s, const char *id, disco__sqlite_head_row *h,
                       disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_HEAD, SQL_HEAD, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        h->rid = sqlite3_column_int64(stmt, 0);
        h->version = sqlite3_column_int64(stmt, 1);
        h->deleted = sqlite3_column_int(stmt, 2);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : disco__sqlite_fail(s, rc, "reading a resource", st);
    }
    sqlite3_reset(stmt);
    return rc;
}

/* Reads one row of a cached statement, bound to id (and version when > 0). */
static int read_one(disco__sqlite *s, int slot, const char *sql, const char *id, int64_t version,
                    disco_resource *out, int64_t *rid, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    if (version > 0)
        sqlite3_bind_int64(stmt, 2, version);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && rid)
        *rid = sqlite3_column_int64(stmt, DISCO__SQLITE_COL_RID);
    if (rc == SQLITE_ROW)
        rc = disco__sqlite_read_row(s, stmt, out, st);
    else if (rc == SQLITE_DONE)
        rc = DISCO_ERR_NOTFOUND;
    else
        rc = disco__sqlite_fail(s, rc, "reading a resource", st);
    sqlite3_reset(stmt);
    return rc;
}

static int no_such(const char *what, const char *id, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOTFOUND, "id", "%s %s: no such resource", what, id);
}

static int was_deleted(const char *id, int64_t version, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOTFOUND, "id", "resource %s was deleted at version %lld",
                            id, (long long)version);
}

/* The latest version of a live resource. */
int disco__sqlite_load_live(disco__sqlite *s, const char *id, disco_resource *out, int64_t *rid,
                            disco_status *st)
{
    int rc = read_one(s, DISCO__SQ_GET_LATEST, SQL_GET_LATEST, id, 0, out, rid, st);

    if (rc == DISCO_ERR_NOTFOUND)
        return no_such("resource", id, st);
    if (rc == DISCO_OK && out->deleted) {
        rc = was_deleted(id, out->version, st);
        disco_resource_release(out);
    }
    return rc;
}

/* ---- reads ----------------------------------------------------------------- */

/* Why version `version` of `id` could not be read. */
static int explain_missing(disco__sqlite *s, const char *id, int64_t version, disco_status *st)
{
    disco__sqlite_head_row h;
    int rc = disco__sqlite_head(s, id, &h, st);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return no_such("resource", id, st);
    return disco_status_set(st, DISCO_ERR_NOTFOUND, "version",
                            "resource %s has no version %lld (latest is %lld)", id,
                            (long long)version, (long long)h.version);
}

static int sqlite_get(disco_catalog *c, const char *id, int64_t version, disco_resource *out,
                      disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    int rc;

    if (version == 0)
        return disco__sqlite_load_live(s, id, out, NULL, st);
    rc = read_one(s, DISCO__SQ_GET_VERSION, SQL_GET_VERSION, id, version, out, NULL, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return explain_missing(s, id, version, st);
    return rc;
}

static int sqlite_history(disco_catalog *c, const char *id, disco_resource_list *out,
                          disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_HISTORY, SQL_HISTORY, st);
    disco_resource r;
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((rc = disco__sqlite_read_row(s, stmt, &r, st)))
            break;
        if ((rc = disco__resource_list_push(out, &r))) {
            disco_resource_release(&r);
            disco_status_set(st, rc, NULL, "out of memory reading history of %s", id);
            break;
        }
    }
    if (rc == SQLITE_DONE)
        rc = out->count ? DISCO_OK : no_such("resource", id, st);
    else if (rc > 0)
        rc = disco__sqlite_fail(s, rc, "reading history", st);
    sqlite3_reset(stmt);
    if (rc)
        disco_resource_list_release(out);
    return rc;
}

/* ---- open, schema, close --------------------------------------------------- */

static void sqlite_close(disco_catalog *c)
{
    disco__sqlite *s = (disco__sqlite *)c;

    for (int i = 0; i < DISCO__SQ_COUNT; i++)
        sqlite3_finalize(s->stmts[i]);
    sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

static const disco__catalog_ops sqlite_ops = {
    .name = "sqlite",
    .create = disco__sqlite_create,
    .get = sqlite_get,
    .update = disco__sqlite_update,
    .remove = disco__sqlite_remove,
    .history = sqlite_history,
    .list = disco__sqlite_list,
    .lineage = disco__sqlite_lineage,
    .foreach_object = disco__sqlite_foreach_object,
    .stats = disco__sqlite_stats,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .token_insert = disco__sqlite_token_insert,
    .token_list = disco__sqlite_token_list,
    .token_find = disco__sqlite_token_find,
    .token_revoke = disco__sqlite_token_revoke,
    .token_touch = disco__sqlite_token_touch,
    .foreach_referrer = disco__sqlite_foreach_referrer,
    .upload_record = disco__sqlite_upload_record,
    .upload_get = disco__sqlite_upload_get,
    .upload_forget = disco__sqlite_upload_forget,
    .close = sqlite_close,
};

/* Creates the folders leading to `path`. */
static int make_parent_dirs(const char *path, disco_status *st)
{
    char *dir = strdup(path);
    int rc = DISCO_OK;

    if (!dir)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (char *p = dir + 1; *p && rc == DISCO_OK; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            rc = disco_status_errno(st, errno, "location", "catalog %s: cannot create folder %s",
                                    path, dir);
        *p = '/';
    }
    free(dir);
    return rc;
}

/* Runs SQL text without results; `what` says what for errors. */
static int exec_sql(disco__sqlite *s, const char *sql, const char *what, disco_status *st)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? DISCO_OK : disco__sqlite_fail(s, rc, what, st);
}

/* One integer from a query such as "PRAGMA user_version". */
static int query_int(disco__sqlite *s, const char *sql, int64_t *out, disco_status *st)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return disco__sqlite_fail(s, rc, "reading the schema", st);
    rc = sqlite3_step(stmt);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE
             ? DISCO_OK
             : disco__sqlite_fail(s, rc, "reading the schema", st);
    sqlite3_finalize(stmt);
    return rc;
}

/* UNSUPPORTED for a newer schema, CORRUPT for someone else's database. */
static int check_known(disco__sqlite *s, int64_t version, disco_status *st)
{
    int64_t tables;
    int rc;

    if (version > SCHEMA_VERSION)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "location",
                                "catalog %s: schema version %lld is newer than this build "
                                "understands (%d)",
                                s->path, (long long)version, SCHEMA_VERSION);
    if (version > 0)
        return DISCO_OK;
    rc = query_int(s,
                   "SELECT count(*) FROM sqlite_master"
                   " WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
                   &tables, st);
    if (rc == DISCO_OK && tables > 0)
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "location",
                              "catalog %s: a SQLite database with %lld tables but no catalog "
                              "schema",
                              s->path, (long long)tables);
    return rc;
}

static int apply_migrations(disco__sqlite *s, disco_status *st)
{
    int64_t version;
    char sql[64];
    int rc;

    if ((rc = query_int(s, "PRAGMA user_version", &version, st)) ||
        (rc = check_known(s, version, st)))
        return rc;
    for (int64_t v = version; v < SCHEMA_VERSION; v++) {
        if ((rc = exec_sql(s, migrations[v], "creating the schema", st)))
            return rc;
    }
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
    return exec_sql(s, sql, "creating the schema", st);
}

/* Brings the schema up to SCHEMA_VERSION, in one transaction. */
static int migrate(disco__sqlite *s, disco_status *st)
{
    int64_t version;
    int rc;

    if ((rc = query_int(s, "PRAGMA user_version", &version, st)) ||
        (rc = check_known(s, version, st)))
        return rc;
    if (version == SCHEMA_VERSION)
        return DISCO_OK;
    if ((rc = exec_sql(s, "BEGIN IMMEDIATE", "creating the schema", st)))
        return rc;
    rc = apply_migrations(s, st);
    if (rc == DISCO_OK)
        rc = exec_sql(s, "COMMIT", "creating the schema", st);
    if (rc && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int set_wal(disco__sqlite *s, disco_status *st)
{
    sqlite3_stmt *stmt;
    const char *mode;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return disco__sqlite_fail(s, rc, "setting WAL mode", st);
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        rc = disco__sqlite_fail(s, rc, "setting WAL mode", st);
    } else {
        mode = (const char *)sqlite3_column_text(stmt, 0);
        rc = DISCO_OK;
        if (!mode || (strcmp(mode, "wal") && strcmp(mode, "memory")))
            rc = disco_status_set(st, DISCO_ERR_UNSUPPORTED, "location",
                                  "catalog %s: the file system does not support WAL mode "
                                  "(journal mode stays '%s')",
                                  s->path, mode ? mode : "?");
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int configure(disco__sqlite *s, disco_status *st)
{
    int64_t version;
    int rc;

    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    /* The first read: fails with "not a SQLite database" for other files. */
    if ((rc = query_int(s, "PRAGMA user_version", &version, st)) ||
        (rc = check_known(s, version, st)) || (rc = set_wal(s, st)))
        return rc;
    return exec_sql(s,
                    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                    " PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768",
                    "configuring the connection", st);
}

int disco__catalog_sqlite_open(const char *path, disco_catalog **out, disco_status *st)
{
    disco__sqlite *s = calloc(1, sizeof *s);
    int rc;

    if (!s || !(s->path = strdup(path))) {
        free(s);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory opening %s", path);
    }
    s->base.ops = &sqlite_ops;
    if (strcmp(path, ":memory:") && (rc = make_parent_dirs(path, st)))
        goto fail;
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = s->db ? disco__sqlite_fail(s, rc, "opening", st)
                   : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory opening %s", path);
        goto fail;
    }
    if ((rc = configure(s, st)) || (rc = migrate(s, st)))
        goto fail;
    *out = &s->base;
    return DISCO_OK;
fail:
    sqlite_close(&s->base);
    return rc;
}
