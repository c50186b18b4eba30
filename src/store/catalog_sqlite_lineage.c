/*
 * catalog_sqlite_lineage.c - lineage graphs of the SQLite catalog, and the
 * cycle check that keeps the parent links a DAG.
 *
 * A walk is a recursive CTE over `parents` (PK (child, parent) going up,
 * index (parent, child) going down). UNION rather than UNION ALL drops a
 * node reached again at the same depth, so shared ancestors in a DAG are
 * visited once per depth instead of once per path. The nodes found go into
 * the connection's TEMP table `lineage` (id, relation, depth), from which
 * the graph is read in two statements:
 *
 *     nodes   lineage JOIN resources           (type, version, deleted)
 *     edges   parents whose child and parent are both in lineage
 *
 * Everything happens in one read snapshot, so the graph is consistent.
 */
#include "catalog_sqlite_int.h"

#include <stdlib.h>

enum { REL_SELF = 0, REL_ANCESTOR = 1, REL_DESCENDANT = 2 };

static const char *const RELATION_NAME[] = {"self", "ancestor", "descendant"};

static const char SQL_CLEAR[] = "DELETE FROM temp.lineage";
static const char SQL_SELF[] = "INSERT INTO temp.lineage (id, relation, depth) VALUES (?1, 0, 0)";
static const char SQL_UP[] =
    "WITH RECURSIVE walk(id, depth) AS ("
    " SELECT ?1, 0"
    " UNION SELECT p.parent, w.depth + 1 FROM walk w JOIN parents p ON p.child = w.id"
    " WHERE w.depth < ?2)"
    " INSERT OR IGNORE INTO temp.lineage (id, relation, depth)"
    " SELECT id, 1, min(depth) FROM walk GROUP BY id";
static const char SQL_DOWN[] =
    "WITH RECURSIVE walk(id, depth) AS ("
    " SELECT ?1, 0"
    " UNION SELECT p.child, w.depth + 1 FROM walk w JOIN parents p ON p.parent = w.id"
    " WHERE w.depth < ?2)"
    " INSERT OR IGNORE INTO temp.lineage (id, relation, depth)"
    " SELECT id, 2, min(depth) FROM walk GROUP BY id";
static const char SQL_NODES[] =
    "SELECT l.id, r.type, r.version, r.deleted, l.relation, l.depth"
    " FROM temp.lineage l JOIN resources r ON r.id = l.id"
    " ORDER BY l.depth, l.relation, l.id";
static const char SQL_EDGES[] =
    "SELECT p.child, p.parent FROM temp.lineage a JOIN parents p ON p.child = a.id"
    " WHERE p.parent IN (SELECT id FROM temp.lineage)";
static const char SQL_CYCLE[] =
    "WITH RECURSIVE down(id) AS ("
    " SELECT ?1 UNION SELECT p.child FROM parents p JOIN down d ON p.parent = d.id)"
    " SELECT j.value FROM json_each(?2) j WHERE j.value IN (SELECT id FROM down) LIMIT 1";

int disco__sqlite_check_cycle(disco__sqlite *s, const char *id, const json_t *added,
                              disco_status *st)
{
    sqlite3_stmt *stmt;
    char *text;
    int rc;

    if (json_array_size(added) == 0)
        return DISCO_OK;
    stmt = disco__sqlite_stmt(s, DISCO__SQ_CYCLE, SQL_CYCLE, st);
    text = json_dumps(added, JSON_COMPACT);
    if (!stmt || !text) {
        free(text);
        return stmt ? disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory")
                    : DISCO_ERR_INTERNAL;
    }
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, text, -1, free);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        rc = disco_status_set(st, DISCO_ERR_CONFLICT, "parents",
                              "parent %s is a descendant of %s: linking it would make a cycle",
                              (const char *)sqlite3_column_text(stmt, 0), id);
    else
        rc = rc == SQLITE_DONE ? DISCO_OK : disco__sqlite_fail(s, rc, "checking for cycles", st);
    sqlite3_reset(stmt);
    return rc;
}

/* Runs one of the statements that fill temp.lineage. */
static int fill(disco__sqlite *s, int slot, const char *sql, const char *id, int max_depth,
                disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    if (id)
        sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    if (max_depth)
        sqlite3_bind_int(stmt, 2, max_depth);
    return disco__sqlite_run(s, stmt, "walking the lineage", st);
}

static int walk(disco__sqlite *s, const char *id, disco_lineage_dir dir, int max_depth,
                disco_status *st)
{
    int rc;

    if ((rc = fill(s, DISCO__SQ_LINEAGE_CLEAR, SQL_CLEAR, NULL, 0, st)) ||
        (rc = fill(s, DISCO__SQ_LINEAGE_SELF, SQL_SELF, id, 0, st)))
        return rc;
    if ((dir & DISCO_LINEAGE_ANCESTORS) &&
        (rc = fill(s, DISCO__SQ_LINEAGE_UP, SQL_UP, id, max_depth, st)))
        return rc;
    if (dir & DISCO_LINEAGE_DESCENDANTS)
        rc = fill(s, DISCO__SQ_LINEAGE_DOWN, SQL_DOWN, id, max_depth, st);
    return rc;
}

static json_t *node_json(sqlite3_stmt *stmt)
{
    json_t *n = json_object();
    int rel = sqlite3_column_int(stmt, 4);

    if (!n)
        return NULL;
    if (rel < REL_SELF || rel > REL_DESCENDANT)
        rel = REL_SELF;
    json_object_set_new(n, "resource_id", json_string((const char *)sqlite3_column_text(stmt, 0)));
    json_object_set_new(n, "resource_type",
                        json_string((const char *)sqlite3_column_text(stmt, 1)));
    json_object_set_new(n, "version", json_integer(sqlite3_column_int64(stmt, 2)));
    json_object_set_new(n, "deleted", json_boolean(sqlite3_column_int(stmt, 3)));
    json_object_set_new(n, "relation", json_string(RELATION_NAME[rel]));
    json_object_set_new(n, "depth", json_integer(sqlite3_column_int(stmt, 5)));
    return n;
}

static json_t *edge_json(sqlite3_stmt *stmt)
{
    json_t *e = json_object();

    if (!e)
        return NULL;
    json_object_set_new(e, "child", json_string((const char *)sqlite3_column_text(stmt, 0)));
    json_object_set_new(e, "parent", json_string((const char *)sqlite3_column_text(stmt, 1)));
    return e;
}

/* Appends one JSON value per row of a cached statement to `arr`. */
static int collect(disco__sqlite *s, int slot, const char *sql, json_t *(*row)(sqlite3_stmt *),
                   json_t *arr, disco_status *st)
{
    sqlite3_stmt *stmt = disco__sqlite_stmt(s, slot, sql, st);
    int rc;

    if (!stmt)
        return DISCO_ERR_INTERNAL;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (json_array_append_new(arr, row(stmt))) {
            sqlite3_reset(stmt);
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory building a graph");
        }
    }
    rc = rc == SQLITE_DONE ? DISCO_OK : disco__sqlite_fail(s, rc, "reading the lineage", st);
    sqlite3_reset(stmt);
    return rc;
}

static int build_graph(disco__sqlite *s, const char *id, json_t **graph, disco_status *st)
{
    json_t *g = json_object(), *nodes = json_array(), *edges = json_array();
    int rc;

    if (!g || !nodes || !edges || json_object_set_new(g, "root", json_string(id))) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory building a graph");
        goto fail;
    }
    if ((rc = collect(s, DISCO__SQ_LINEAGE_NODES, SQL_NODES, node_json, nodes, st)) ||
        (rc = collect(s, DISCO__SQ_LINEAGE_EDGES, SQL_EDGES, edge_json, edges, st)))
        goto fail;
    json_object_set_new(g, "nodes", nodes);
    json_object_set_new(g, "edges", edges);
    *graph = g;
    return DISCO_OK;
fail:
    json_decref(g);
    json_decref(nodes);
    json_decref(edges);
    return rc;
}

int disco__sqlite_lineage(disco_catalog *c, const char *id, disco_lineage_dir dir, int max_depth,
                          json_t **graph, disco_status *st)
{
    disco__sqlite *s = (disco__sqlite *)c;
    int64_t version;
    int deleted, rc;

    rc = disco__sqlite_read_begin(s, st);
    if (rc)
        return rc;
    rc = disco__sqlite_head(s, id, &version, &deleted, st);
    if (rc == 0)
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "id", "resource %s: no such resource", id);
    if (rc == 1 && !(rc = walk(s, id, dir, max_depth, st)))
        rc = build_graph(s, id, graph, st);
    fill(s, DISCO__SQ_LINEAGE_CLEAR, SQL_CLEAR, NULL, 0, NULL);
    disco__sqlite_read_end(s);
    return rc;
}
