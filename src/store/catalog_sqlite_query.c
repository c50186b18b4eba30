/*
 * catalog_sqlite_query.c - the read-many calls of the SQLite catalog:
 * filtered listings, the payload hashes still in use, and counts.
 *
 * A listing is one SELECT over the latest versions (resources joined with
 * versions), built from the filter with numbered parameters:
 *   type            r.type = ?            (index resources_by_type)
 *   tags            r.rid IN (SELECT rid FROM tags WHERE key = ? AND value = ?)
 *   metadata        json_type / json_extract on v.metadata at '$."a"."b"'
 *   visible_to      r.owner = ? OR public OR a member of readers or writers
 *   paging          r.id > after ORDER BY r.id LIMIT n + 1 (one more says
 *                   whether a next page exists)
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

static const char SQL_OBJECTS[] =
    "SELECT DISTINCT v.object FROM resources r JOIN versions v ON v.rid = r.rid"
    " WHERE r.deleted = 0 AND v.object IS NOT NULL";
static const char SQL_STATS_COUNTS[] =
    "SELECT (SELECT count(*) FROM resources WHERE deleted = 0),"
    " (SELECT count(*) FROM resources WHERE deleted != 0), (SELECT count(*) FROM versions)";
static const char SQL_STATS_TYPES[] =
    "SELECT type, count(*) FROM resources WHERE deleted = 0 GROUP BY type ORDER BY type";

/* ---- building a listing query -------------------------------------------- */

enum bind_kind { BIND_TEXT, BIND_INT, BIND_REAL };

typedef struct bind_value {
    enum bind_kind kind;
    const char *text; /* borrowed, or `owned` */
    char *owned;
    int64_t i;
    double d;
} bind_value;

typedef struct list_query {
    sqlite3_str *sql;
    bind_value *binds;
    int count;
    int nomem;
} list_query;

/* Adds a parameter and returns its number (?N), or 0 when out of memory. */
static int add_bind(list_query *q, bind_value v)
{
    bind_value *binds = realloc(q->binds, (size_t)(q->count + 1) * sizeof *binds);

    if (!binds) {
        free(v.owned);
        q->nomem = 1;
        return 0;
    }
    if (v.owned)
        v.text = v.owned;
    q->binds = binds;
    q->binds[q->count++] = v;
    return q->count;
}

static int bind_text(list_query *q, const char *text)
{
    return add_bind(q, (bind_value){.kind = BIND_TEXT, .text = text});
}

static int bind_int(list_query *q, int64_t i)
{
    return add_bind(q, (bind_value){.kind = BIND_INT, .i = i});
}

static void add_plain(list_query *q, const disco_resource_filter *f)
{
    if (!f->include_deleted)
        sqlite3_str_appendall(q->sql, " AND r.deleted = 0");
    if (f->type)
        sqlite3_str_appendf(q->sql, " AND r.type = ?%d", bind_text(q, f->type));
    if (f->created_from_ms)
        sqlite3_str_appendf(q->sql, " AND r.created >= ?%d", bind_int(q, f->created_from_ms));
    if (f->created_to_ms)
        sqlite3_str_appendf(q->sql, " AND r.created < ?%d", bind_int(q, f->created_to_ms));
    if (f->after)
        sqlite3_str_appendf(q->sql, " AND r.id > ?%d", bind_text(q, f->after));
}

static void add_tags(list_query *q, const json_t *tags)
{
    const char *key;
    json_t *v;
    int k, val;

    json_object_foreach ((json_t *)tags, key, v) {
        k = bind_text(q, key);
        val = bind_text(q, json_string_value(v));
        sqlite3_str_appendf(q->sql,
                            " AND r.rid IN (SELECT t.rid FROM tags t WHERE t.key = ?%d"
                            " AND t.value = ?%d)",
                            k, val);
    }
}

/* One metadata condition: the value at path ?p has the JSON type and value of `v`. */
static void add_metadata_value(list_query *q, int p, const json_t *v)
{
    const char *fmt = " AND json_type(v.metadata, ?%d) IN ('integer', 'real')"
                      " AND json_extract(v.metadata, ?%d) = ?%d";

    switch (json_typeof(v)) {
    case JSON_STRING:
        fmt = " AND json_type(v.metadata, ?%d) = 'text' AND json_extract(v.metadata, ?%d) = ?%d";
        sqlite3_str_appendf(q->sql, fmt, p, p, bind_text(q, json_string_value(v)));
        break;
    case JSON_INTEGER:
        sqlite3_str_appendf(q->sql, fmt, p, p, bind_int(q, json_integer_value(v)));
        break;
    case JSON_REAL:
        sqlite3_str_appendf(q->sql, fmt, p, p,
                            add_bind(q, (bind_value){.kind = BIND_REAL, .d = json_real_value(v)}));
        break;
    case JSON_TRUE:
        sqlite3_str_appendf(q->sql, " AND json_type(v.metadata, ?%d) = 'true'", p);
        break;
    case JSON_FALSE:
        sqlite3_str_appendf(q->sql, " AND json_type(v.metadata, ?%d) = 'false'", p);
        break;
    default:
        sqlite3_str_appendf(q->sql, " AND json_type(v.metadata, ?%d) = 'null'", p);
    }
}

static int add_metadata(list_query *q, const json_t *md, disco_status *st)
{
    char path[2 * DISCO__METADATA_PATH_MAX + 16];
    const char *key;
    json_t *v;
    int rc, p;

    json_object_foreach ((json_t *)md, key, v) {
        rc = disco__catalog_json_path(key, path, sizeof path, st);
        if (rc)
            return rc;
        p = add_bind(q, (bind_value){.kind = BIND_TEXT, .owned = strdup(path)});
        if (!q->nomem)
            add_metadata_value(q, p, v);
    }
    return DISCO_OK;
}

static void add_visible(list_query *q, const char *who)
{
    int p = bind_text(q, who);

    sqlite3_str_appendf(
        q->sql,
        " AND (r.owner = ?%d OR json_extract(v.acl, '$.public') = 1"
        " OR EXISTS (SELECT 1 FROM json_each(v.acl, '$.readers') WHERE value = ?%d)"
        " OR EXISTS (SELECT 1 FROM json_each(v.acl, '$.writers') WHERE value = ?%d))",
        p, p, p);
}

/* The SQL text of a listing, owned by the caller (sqlite3_free). */
static char *build_query(list_query *q, const disco_resource_filter *f, disco_status *st)
{
    int rc = DISCO_OK;

    sqlite3_str_appendall(q->sql, "SELECT " DISCO__SQLITE_COLS " FROM resources r JOIN versions v"
                                  " ON v.rid = r.rid AND v.version = r.version WHERE 1");
    add_plain(q, f);
    if (f->tags)
        add_tags(q, f->tags);
    if (f->metadata)
        rc = add_metadata(q, f->metadata, st);
    if (f->visible_to)
        add_visible(q, f->visible_to);
    sqlite3_str_appendf(q->sql, " ORDER BY r.id LIMIT ?%d", bind_int(q, f->limit + 1));
    if (rc == DISCO_OK && (q->nomem || sqlite3_str_errcode(q->sql) != SQLITE_OK))
        disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory building a listing");
    else if (rc == DISCO_OK)
        return sqlite3_str_finish(q->sql);
    sqlite3_free(sqlite3_str_finish(q->sql));
    return NULL;
}

static void bind_all(sqlite3_stmt *stmt, const list_query *q)
{
    for (int i = 0; i < q->count; i++) {
        const bind_value *b = &q->binds[i];

        if (b->kind == BIND_TEXT)
            sqlite3_bind_text(stmt, i + 1, b->text, -1, SQLITE_STATIC);
        else if (b->kind == BIND_INT)
            sqlite3_bind_int64(stmt, i + 1, b->i);
        else
            sqlite3_bind_double(stmt, i + 1, b->d);
    }
}

static void query_release(list_query *q)
{
    for (int i = 0; i < q->count; i++)
        free(q->binds[i].owned);
    free(q->binds);
}

/* ---- running it ------------------------------------------------------------ */

/* Reads up to limit + 1 rows; the extra one only says that more follow. */
static int read_page(disco__sqlite *s, sqlite3_stmt *stmt, int64_t limit, disco_resource_list *out,
                     disco_status *st)
{
    disco_resource r;
    int rc;

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if ((int64_t)out->count == limit) {
            snprintf(out->next, sizeof out->next, "%s", out->items[out->count - 1].id);
            return DISCO_OK;
        }
        if ((rc = disco__sqlite_read_row(s, stmt, &r, st)))
            return rc;
        if ((rc = disco__resource_list_push(out, &r))) {
            disco_resource_release(&r);
            return disco_status_set(st, rc, NULL, "out of memory reading a listing");
        }
    }
    return rc == SQLITE_DONE ? DISCO_OK : disco__sqlite_fail(s, rc, "listing resources", st);
}

int disco__sqlite_list(disco_catalog *c, const disco_resource_filter *f, disco_resource_list *out,
                       disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    list_query q = {.sql = sqlite3_str_new(s->db)};
    sqlite3_stmt *stmt = NULL;
    char *sql = build_query(&q, f, st);
    int rc = DISCO_ERR_NOMEM;

    if (!sql)
        goto release;
    rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        rc = disco__sqlite_fail(s, rc, "preparing a listing", st);
        goto release;
    }
    bind_all(stmt, &q);
    rc = read_page(s, stmt, f->limit, out, st);
release:
    sqlite3_finalize(stmt);
    sqlite3_free(sql);
    query_release(&q);
    if (rc)
        disco_resource_list_release(out);
    return rc;
}

/* ---- objects and counts ---------------------------------------------------- */

int disco__sqlite_foreach_object(disco_catalog *c, int (*fn)(void *user, const char *hash),
                                 void *user, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_OBJECTS, SQL_OBJECTS, st);
    int rc, stop = 0;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW)
        stop = fn(user, (const char *)sqlite3_column_text(stmt, 0));
    if (stop)
        rc = stop;
    else if (rc == SQLITE_DONE)
        rc = DISCO_OK;
    else
        rc = disco__sqlite_fail(s, rc, "listing objects", st);
    sqlite3_reset(stmt);
    return rc;
}

static int stats_counts(disco__sqlite *s, json_t *out, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_STATS_COUNTS, SQL_STATS_COUNTS, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        json_object_set_new(out, "resources", json_integer(sqlite3_column_int64(stmt, 0)));
        json_object_set_new(out, "deleted", json_integer(sqlite3_column_int64(stmt, 1)));
        json_object_set_new(out, "versions", json_integer(sqlite3_column_int64(stmt, 2)));
        rc = DISCO_OK;
    } else {
        rc = disco__sqlite_fail(s, rc, "counting resources", st);
    }
    sqlite3_reset(stmt);
    return rc;
}

static int stats_types(disco__sqlite *s, json_t *out, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, DISCO__SQ_STATS_TYPES, SQL_STATS_TYPES, st);
    json_t *by_type = json_object();
    int rc;

    if (!stmt || !by_type) {
        json_decref(by_type);
        return stmt ? disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory")
                    : DISCO_ERR_INTERNAL;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        json_object_set_new(by_type, (const char *)sqlite3_column_text(stmt, 0),
                            json_integer(sqlite3_column_int64(stmt, 1)));
    rc = rc == SQLITE_DONE ? DISCO_OK : disco__sqlite_fail(s, rc, "counting types", st);
    sqlite3_reset(stmt);
    json_object_set_new(out, "by_type", by_type);
    return rc;
}

int disco__sqlite_stats(disco_catalog *c, json_t **out, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    json_t *stats = json_object();
    int rc;

    if (!stats)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    rc = disco__sqlite_read_begin(s, st);
    if (rc == DISCO_OK) {
        if (!(rc = stats_counts(s, stats, st)))
            rc = stats_types(s, stats, st);
        disco__sqlite_read_end(s);
    }
    if (rc) {
        json_decref(stats);
        return rc;
    }
    *out = stats;
    return DISCO_OK;
}
