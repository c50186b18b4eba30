/*
 * render.c - results for people: tables for lists, a tree for lineage,
 * "key: value" lines for everything else. `--json` bypasses all of this.
 */
#include "cli_int.h"

#include "disco/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define CELL_MAX 64

/* One value as table-cell text: maps as k=v,k=v; hashes shortened. */
static void cell_text(const char *col, const json_t *v, char *buf, size_t size, int cut)
{
    const char *key;
    json_t *item;
    size_t len = 0;

    buf[0] = '\0';
    if (json_is_string(v)) {
        int shorten = cut && (strcmp(col, "object") == 0 || strcmp(col, "hash") == 0);
        snprintf(buf, size, shorten ? "%.12s" : "%s", json_string_value(v));
    } else if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, key, item) {
            len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s=%s",
                                    len ? "," : "", key, json_string_value(item));
            if (len >= size)
                break;
        }
    } else if (!v || json_is_null(v)) {
        snprintf(buf, size, "-");
    } else if (cut && json_is_real(v)) {
        snprintf(buf, size, "%.6g", json_real_value(v));
    } else {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(buf, size, "%s", t ? t : "?");
        free(t);
    }
    if (cut && strlen(buf) >= CELL_MAX - 1)
        memcpy(buf + CELL_MAX - 4, "...", 4);
}

static size_t split_columns(const char *spec, char cols[][32], size_t max)
{
    size_t n = 0;

    while (*spec && n < max) {
        size_t len = strcspn(spec, ",");
        snprintf(cols[n++], 32, "%.*s", (int)len, spec);
        spec += len + (spec[len] == ',');
    }
    return n;
}

static void render_table(FILE *out, const char *spec, const json_t *items)
{
    char cols[16][32], cell[CELL_MAX];
    size_t ncol = split_columns(spec, cols, 16), width[16], i, c;
    json_t *row;

    for (c = 0; c < ncol; c++)
        width[c] = strlen(cols[c]);
    json_array_foreach (items, i, row) {
        for (c = 0; c < ncol; c++) {
            cell_text(cols[c], json_object_get(row, cols[c]), cell, sizeof cell, 1);
            if (strlen(cell) > width[c])
                width[c] = strlen(cell);
        }
    }
    for (c = 0; c < ncol; c++)
        fprintf(out, "%-*s%s", c + 1 < ncol ? (int)width[c] : 0, cols[c],
                c + 1 < ncol ? "  " : "\n");
    json_array_foreach (items, i, row) {
        for (c = 0; c < ncol; c++) {
            cell_text(cols[c], json_object_get(row, cols[c]), cell, sizeof cell, 1);
            fprintf(out, "%-*s%s", c + 1 < ncol ? (int)width[c] : 0, cell,
                    c + 1 < ncol ? "  " : "\n");
        }
    }
}

/* ---- lineage tree ---------------------------------------------------------- */

static const json_t *find_node(const json_t *nodes, const char *id)
{
    size_t i;
    json_t *n;

    json_array_foreach (nodes, i, n)
        if (strcmp(json_string_value(json_object_get(n, "resource_id")), id) == 0)
            return n;
    return NULL;
}

/* Prints the nodes reached from `id` following edges (up: child->parent). */
static void render_branch(FILE *out, const json_t *graph, const char *id, int up, int depth,
                          json_t *seen)
{
    const json_t *edges = json_object_get(graph, "edges");
    size_t i;
    json_t *e;

    json_array_foreach (edges, i, e) {
        const char *from = json_string_value(json_object_get(e, up ? "child" : "parent"));
        const char *to = json_string_value(json_object_get(e, up ? "parent" : "child"));
        if (strcmp(from, id) != 0)
            continue;
        const json_t *n = find_node(json_object_get(graph, "nodes"), to);
        int again = json_object_get(seen, to) != NULL;
        fprintf(out, "%*s%s %s  %s v%lld%s%s\n", depth * 2, "", up ? "<-" : "->", to,
                json_string_value(json_object_get(n, "resource_type")),
                (long long)json_integer_value(json_object_get(n, "version")),
                json_is_true(json_object_get(n, "deleted")) ? " (deleted)" : "",
                again ? " (shown above)" : "");
        if (!again) {
            json_object_set_new(seen, to, json_true());
            render_branch(out, graph, to, up, depth + 1, seen);
        }
    }
}

static void render_lineage(FILE *out, const json_t *graph)
{
    const char *root = json_string_value(json_object_get(graph, "root"));
    const json_t *self = find_node(json_object_get(graph, "nodes"), root);
    json_t *seen = json_object();

    fprintf(out, "%s  %s v%lld\n", root, json_string_value(json_object_get(self, "resource_type")),
            (long long)json_integer_value(json_object_get(self, "version")));
    fprintf(out, "ancestors (<- made from):\n");
    render_branch(out, graph, root, 1, 1, seen);
    json_object_clear(seen);
    fprintf(out, "descendants (-> used by):\n");
    render_branch(out, graph, root, 0, 1, seen);
    json_decref(seen);
}

/* ---- time-series query results -------------------------------------------- */

static void render_series_block(FILE *out, const json_t *series)
{
    const json_t *cols = json_object_get(series, "columns");
    const json_t *pts = json_object_get(series, "points");
    char cell[64];
    size_t i, c;
    json_t *row;

    cell_text("", json_object_get(series, "tags"), cell, sizeof cell, 1);
    fprintf(out, "%s{%s}  (%zu points)\n", json_string_value(json_object_get(series, "metric")),
            cell, json_array_size(pts));
    for (c = 0; c < json_array_size(cols); c++)
        fprintf(out, c == 0 ? "%-24s" : "  %14s", json_string_value(json_array_get(cols, c)));
    fprintf(out, "\n");
    json_array_foreach (pts, i, row) {
        char when[DISCO_TIME_ISO_MAX];
        disco_time_format_iso(json_integer_value(json_array_get(row, 0)), when);
        fprintf(out, "%-24s", when);
        for (c = 1; c < json_array_size(row); c++) {
            const json_t *v = json_array_get(row, c);
            if (json_is_number(v))
                fprintf(out, "  %14.6g", json_number_value(v));
            else
                fprintf(out, "  %14s", json_is_string(v) ? json_string_value(v) : "-");
        }
        fprintf(out, "\n");
    }
}

static int is_ts_result(const json_t *result)
{
    const json_t *series = json_object_get(result, "series");
    return json_is_array(series) && json_object_get(json_array_get(series, 0), "columns");
}

static void render_ts(FILE *out, const json_t *result)
{
    const json_t *series = json_object_get(result, "series");
    size_t i;
    json_t *s;

    json_array_foreach (series, i, s) {
        if (i)
            fprintf(out, "\n");
        render_series_block(out, s);
    }
}

/* ---- generic ------------------------------------------------------------- */

static void render_value(FILE *out, const json_t *v, int indent);

static void render_object(FILE *out, const json_t *obj, int indent)
{
    const char *key;
    json_t *v;

    json_object_foreach ((json_t *)obj, key, v) {
        int nested = (json_is_object(v) && json_object_size(v)) ||
                     (json_is_array(v) && json_is_object(json_array_get(v, 0)));
        fprintf(out, "%*s%s:%s", indent, "", key, nested ? "\n" : " ");
        render_value(out, v, indent + 2);
    }
}

static void render_value(FILE *out, const json_t *v, int indent)
{
    size_t i;
    json_t *item;

    if (json_is_object(v) && json_object_size(v)) {
        render_object(out, v, indent);
    } else if (json_is_array(v) && json_is_object(json_array_get(v, 0))) {
        json_array_foreach (v, i, item) {
            fprintf(out, "%*s-\n", indent, "");
            render_object(out, item, indent + 2);
        }
    } else if (json_is_array(v)) {
        json_array_foreach (v, i, item) {
            char cell[1024];
            cell_text("", item, cell, sizeof cell, 0);
            fprintf(out, "%s%s", i ? ", " : "", cell);
        }
        fprintf(out, json_array_size(v) ? "\n" : "-\n");
    } else {
        char cell[1024];
        cell_text("", v, cell, sizeof cell, 0);
        fprintf(out, "%s\n", json_is_object(v) ? "-" : cell);
    }
}

void cli_render(FILE *out, const disco_op *op, const json_t *result)
{
    const json_t *items = json_object_get(result, "items");
    const char *next = json_string_value(json_object_get(result, "next"));

    if (op->columns && json_is_array(items)) {
        render_table(out, op->columns, items);
        fprintf(out, "(%zu shown%s%s)\n", json_array_size(items),
                next ? "; next page: --after " : "", next ? next : "");
    } else if (json_object_get(result, "edges") && json_object_get(result, "root")) {
        render_lineage(out, result);
    } else if (is_ts_result(result)) {
        render_ts(out, result);
    } else if (cli_render_audio(out, result)) {
        return;
    } else {
        render_value(out, result, 0);
    }
}
