/*
 * ops_vec.c - vec create|upsert|fetch|delete|search|batch-search|stats|cluster:
 * vector collections under <data>/vectors.
 *
 * Upsert input: JSON ({"vectors": [{"id", "values", "metadata"?, "namespace"?}]}
 * or a bare list of such items) or a NumPy .npy array of float32/float64
 * rows with ids from --ids FILE (one per line) or --id-prefix (prefix + row).
 *
 * Collections come from disco__ctx_vindex(): opened for the op, or kept open
 * in the context's shared pool (the server's; vecpool.c).
 */
#include "ops_int.h"

#include "disco/json.h"
#include "disco/npy.h"
#include "disco/vanalysis.h"
#include "disco/vindex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_INPUT_MAX ((size_t)2 << 30)

static int vec_root(disco_ctx *ctx, char *buf, size_t size, disco_status *st)
{
    return disco__ctx_data_path(ctx, "vectors", buf, size, st);
}

static int open_coll(disco_ctx *ctx, const json_t *params, disco_vindex **v, disco_status *st)
{
    char root[DISCO_CONFIG_STR_MAX + 16];
    int rc = vec_root(ctx, root, sizeof root, st);

    return rc == DISCO_OK ? disco__ctx_vindex(ctx, root, disco__param_str(params, "name"), v, st)
                          : rc;
}

/* ---- create ------------------------------------------------------------------ */

static int op_create(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char root[DISCO_CONFIG_STR_MAX + 16];
    disco_vindex_config cfg = disco_vindex_config_default(
        (size_t)disco__param_int(params, "dim", 0),
        (disco_vmetric)disco_vmetric_parse(disco__param_str(params, "metric")));
    disco_vindex *v = NULL;
    int rc;

    cfg.M = (size_t)disco__param_int(params, "m", 16);
    cfg.ef_construction = (size_t)disco__param_int(params, "ef_construction", 200);
    rc = vec_root(ctx, root, sizeof root, st);
    if (rc == DISCO_OK)
        rc = disco_vindex_create(root, disco__param_str(params, "name"), &cfg, st);
    if (rc == DISCO_OK)
        rc = disco__ctx_vindex(ctx, root, disco__param_str(params, "name"), &v, st);
    if (rc == DISCO_OK)
        rc = disco_vindex_stats(v, result, st);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- upsert -------------------------------------------------------------------- */

typedef struct vec_input {
    disco_vitem *items;
    size_t n;
    float *data;  /* all vectors, row-major */
    json_t *json; /* keeps ids and metadata alive */
    char **ids;   /* npy ids (owned) */
} vec_input;

static void input_release(vec_input *in)
{
    for (size_t i = 0; in->ids && i < in->n; i++)
        free(in->ids[i]);
    free(in->ids);
    free(in->items);
    free(in->data);
    json_decref(in->json);
    memset(in, 0, sizeof *in);
}

static int item_from_json(const json_t *it, size_t i, size_t dim, vec_input *in, const char *ns,
                          disco_status *st)
{
    const json_t *vals = json_object_get(it, "values");
    const char *id = json_string_value(json_object_get(it, "id"));
    size_t j;
    json_t *x;

    if (!id || !json_is_array(vals) || json_array_size(vals) != dim)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "vector %zu: needs \"id\" (a string) and \"values\" (%zu numbers)",
                                i, dim);
    json_array_foreach (vals, j, x) {
        if (!json_is_number(x))
            return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                    "vector %zu (%s): value %zu is not a number", i, id, j);
        in->data[i * dim + j] = (float)json_number_value(x);
    }
    const char *item_ns = json_string_value(json_object_get(it, "namespace"));
    in->items[i] = (disco_vitem){item_ns ? item_ns : ns, id, in->data + i * dim,
                                 json_object_get(it, "metadata"), dim};
    return DISCO_OK;
}

static int parse_json_items(const char *text, size_t len, size_t dim, const char *ns, vec_input *in,
                            disco_status *st)
{
    int rc = disco_json_parse(text, len, "file", &in->json, st);
    json_t *list = json_is_array(in->json) ? in->json : json_object_get(in->json, "vectors");

    if (rc != DISCO_OK)
        return rc;
    if (!json_is_array(list))
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "expected {\"vectors\": [...]} or a list of vectors");
    in->n = json_array_size(list);
    in->items = calloc(in->n ? in->n : 1, sizeof *in->items);
    in->data = malloc((in->n ? in->n : 1) * dim * sizeof *in->data);
    if (!in->items || !in->data)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == DISCO_OK && i < in->n; i++)
        rc = item_from_json(json_array_get(list, i), i, dim, in, ns, st);
    return rc;
}

/* Ids for .npy rows: lines of --ids FILE, or --id-prefix plus the row number. */
static int npy_ids(disco_ctx *ctx, const json_t *params, vec_input *in, disco_status *st)
{
    const char *file = disco__param_str(params, "ids");
    const char *prefix = disco__param_str(params, "id_prefix");
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, i = 0;
    int rc = DISCO_OK;

    in->ids = calloc(in->n ? in->n : 1, sizeof *in->ids);
    if (!in->ids)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!file && !prefix)
        return disco_status_set(st, DISCO_ERR_INVAL, "ids",
                                "param 'ids': a .npy file needs --ids FILE or --id-prefix");
    if (file && (rc = disco__read_input(ctx, "ids", file, (size_t)1 << 30, &text, &len, st)))
        return rc;
    for (line = text ? strtok_r(text, "\r\n", &save) : NULL; line && i < in->n;
         line = strtok_r(NULL, "\r\n", &save))
        in->ids[i++] = strdup(line);
    for (; !file && i < in->n; i++) {
        char buf[DISCO_VINDEX_ID_MAX + 32];
        snprintf(buf, sizeof buf, "%s%zu", prefix, i);
        in->ids[i] = strdup(buf);
    }
    free(text);
    if (i < in->n)
        return disco_status_set(st, DISCO_ERR_INVAL, "ids", "param 'ids': %zu ids for %zu rows", i,
                                in->n);
    return DISCO_OK;
}

static int parse_npy_items(disco_ctx *ctx, const json_t *params, const char *buf, size_t len,
                           size_t dim, const char *ns, vec_input *in, disco_status *st)
{
    size_t rows, cols;
    int rc = disco_npy_parse(buf, len, &in->data, &rows, &cols, st);

    if (rc == DISCO_OK && cols != dim)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "file",
                              "the .npy rows have %zu values; the collection's dim is %zu", cols,
                              dim);
    in->n = rc == DISCO_OK ? rows : 0;
    if (rc == DISCO_OK)
        rc = npy_ids(ctx, params, in, st);
    in->items = rc == DISCO_OK ? calloc(rows ? rows : 1, sizeof *in->items) : NULL;
    if (rc == DISCO_OK && !in->items)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == DISCO_OK && i < rows; i++)
        in->items[i] = (disco_vitem){ns, in->ids[i], in->data + i * dim, NULL, dim};
    return rc;
}

static int op_upsert(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *file = disco__param_str(params, "file"),
               *ns = disco__param_str(params, "namespace");
    const char *fmt = disco__param_str(params, "format");
    disco_vindex *v = NULL;
    vec_input in = {0};
    char *text = NULL;
    size_t len = 0, ins = 0, rep = 0;
    int rc = open_coll(ctx, params, &v, st);

    if (rc == DISCO_OK)
        rc = disco__read_input(ctx, "file", file, VEC_INPUT_MAX, &text, &len, st);
    int npy = fmt ? strcmp(fmt, "npy") == 0 : len >= 6 && memcmp(text, "\x93NUMPY", 6) == 0;
    if (rc == DISCO_OK)
        rc = npy ? parse_npy_items(ctx, params, text, len, disco_vindex_dim(v), ns, &in, st)
                 : parse_json_items(text, len, disco_vindex_dim(v), ns, &in, st);
    if (rc == DISCO_OK)
        rc = disco_vindex_upsert(v, in.items, in.n, 0, &ins, &rep, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:I, s:I, s:I}", "upserted", (json_int_t)in.n, "inserted",
                            (json_int_t)ins, "replaced", (json_int_t)rep);
    free(text);
    input_release(&in);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- fetch, delete, stats ------------------------------------------------------ */

static const char **id_list(const json_t *ids, size_t *n)
{
    const char **out = calloc(json_array_size(ids) + 1, sizeof *out);

    *n = 0;
    for (size_t i = 0; out && i < json_array_size(ids); i++)
        out[(*n)++] = json_string_value(json_array_get(ids, i));
    return out;
}

static int op_fetch(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_vindex *v = NULL;
    size_t n;
    const char **ids = id_list(disco__param_json(params, "ids"), &n);
    json_t *items = NULL;
    int rc = open_coll(ctx, params, &v, st);

    if (rc == DISCO_OK)
        rc = disco_vindex_fetch(v, disco__param_str(params, "namespace"), ids, n, &items, st);
    if (rc == DISCO_OK)
        *result =
            json_pack("{s:o, s:I}", "items", items, "count", (json_int_t)json_array_size(items));
    free(ids);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

static int compile_filter(const json_t *params, disco_vfilter **f, disco_status *st)
{
    const json_t *expr = disco__param_json(params, "filter");
    int rc;

    *f = NULL;
    if (!expr)
        return DISCO_OK;
    rc = disco_vfilter_compile(expr, f, st);
    if (rc != DISCO_OK && st)
        snprintf(st->field, sizeof st->field, "filter");
    return rc;
}

static int op_delete(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const json_t *idj = disco__param_json(params, "ids");
    const char *ns = disco__param_str(params, "namespace");
    disco_vindex *v = NULL;
    disco_vfilter *f = NULL;
    size_t n, deleted = 0;
    const char **ids = id_list(idj, &n);
    int rc = compile_filter(params, &f, st);

    if (rc == DISCO_OK && !idj && !f && !disco__param_bool(params, "all", 0))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "ids",
                              "give ids, --filter, or --all to delete the whole namespace");
    if (rc == DISCO_OK)
        rc = open_coll(ctx, params, &v, st);
    if (rc == DISCO_OK)
        rc = idj ? disco_vindex_delete(v, ns, ids, n, &deleted, st)
                 : disco_vindex_delete_filter(v, ns, f, &deleted, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:I}", "deleted", (json_int_t)deleted);
    free(ids);
    disco_vfilter_free(f);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

static int op_stats(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    char root[DISCO_CONFIG_STR_MAX + 16];
    disco_vindex *v = NULL;
    json_t *list = NULL;
    int rc;

    if (!disco__param_str(params, "name")) {
        rc = vec_root(ctx, root, sizeof root, st);
        if (rc == DISCO_OK)
            rc = disco_vindex_list(root, &list, st);
        if (rc == DISCO_OK)
            *result =
                json_pack("{s:o, s:I}", "items", list, "count", (json_int_t)json_array_size(list));
        return rc;
    }
    rc = open_coll(ctx, params, &v, st);
    if (rc == DISCO_OK)
        rc = disco_vindex_stats(v, result, st);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- search ---------------------------------------------------------------------- */

/* The query vector: --vector (a JSON list) or the stored vector of --id. */
static int query_vector(disco_vindex *v, const json_t *params, float **q, disco_status *st)
{
    const json_t *vec = disco__param_json(params, "vector");
    const char *id = disco__param_str(params, "id");
    size_t dim = disco_vindex_dim(v), i;
    json_t *x;

    *q = malloc(dim * sizeof **q);
    if (!*q)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!vec && id)
        return disco_vindex_get(v, disco__param_str(params, "namespace"), id, *q, st);
    if (!json_is_array(vec) || json_array_size(vec) != dim)
        return disco_status_set(st, DISCO_ERR_INVAL, "vector",
                                "param 'vector': give a list of %zu numbers, or --id ID", dim);
    json_array_foreach (vec, i, x) {
        if (!json_is_number(x))
            return disco_status_set(st, DISCO_ERR_INVAL, "vector",
                                    "param 'vector': value %zu is not a number", i);
        (*q)[i] = (float)json_number_value(x);
    }
    return DISCO_OK;
}

/* Counts per metadata value over the matches (--facets field,...). */
static int add_facets(const json_t *params, json_t *res, disco_status *st)
{
    const json_t *fields = disco__param_json(params, "facets");
    const json_t *m = json_object_get(res, "matches");
    size_t n = json_array_size(m), nf = json_array_size(fields);
    json_t **meta = calloc(n ? n : 1, sizeof *meta), *out = NULL;
    const char **names = calloc(nf ? nf : 1, sizeof *names);
    disco_vanalysis_facets_config cfg = disco_vanalysis_facets_config_default();
    int rc = meta && names ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory");

    for (size_t i = 0; rc == DISCO_OK && i < n; i++)
        meta[i] = json_object_get(json_array_get(m, i), "metadata");
    for (size_t i = 0; rc == DISCO_OK && i < nf; i++)
        names[i] = json_string_value(json_array_get(fields, i));
    cfg.fields = names;
    cfg.nfields = nf;
    if (rc == DISCO_OK)
        rc = disco_vanalysis_facets(meta, n, &cfg, &out, st);
    if (rc == DISCO_OK)
        json_object_set_new(res, "facets", out);
    free(meta);
    free(names);
    return rc;
}

/*
 * MMR re-ranking (--diversity LAMBDA): the search fetched 4k candidates with
 * their vectors; keep the k that balance relevance and novelty.
 */
static int diversify(const json_t *params, const float *q, size_t dim, disco_vmetric metric,
                     json_t *res, disco_status *st)
{
    json_t *m = json_object_get(res, "matches"), *kept = json_array();
    size_t n = json_array_size(m), count = 0;
    float *x = malloc((n ? n : 1) * dim * sizeof *x);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    disco_vanalysis_mmr_config cfg = disco_vanalysis_mmr_config_default();
    int rc = x && order ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory");

    for (size_t i = 0; rc == DISCO_OK && i < n; i++)
        for (size_t j = 0; j < dim; j++)
            x[i * dim + j] = (float)json_number_value(
                json_array_get(json_object_get(json_array_get(m, i), "values"), j));
    cfg.lambda = json_number_value(disco__param_json(params, "diversity"));
    cfg.k = (size_t)disco__param_int(params, "k", 10);
    cfg.metric = metric == DISCO_VMETRIC_L2 ? DISCO_VMETRIC_L2 : DISCO_VMETRIC_COSINE;
    if (rc == DISCO_OK && n)
        rc = disco_vanalysis_mmr(x, n, dim, q, NULL, &cfg, order, &count, st);
    for (size_t i = 0; rc == DISCO_OK && i < count; i++) {
        json_t *item = json_array_get(m, order[i]);
        if (!disco__param_bool(params, "include_values", 0))
            json_object_del(item, "values");
        json_array_append(kept, item);
    }
    if (rc == DISCO_OK)
        json_object_set(res, "matches", kept);
    json_decref(kept);
    free(x);
    free(order);
    return rc;
}

static disco_vquery query_from(const json_t *params, const float *q, const disco_vfilter *f)
{
    return (disco_vquery){
        .ns = disco__param_str(params, "namespace"),
        .vec = q,
        .k = (size_t)disco__param_int(params, "k", 10),
        .ef = (size_t)disco__param_int(params, "ef", 0),
        .filter = f,
        .include_values = disco__param_bool(params, "include_values", 0),
        .include_metadata = 1,
        .exact = disco__param_bool(params, "exact", 0),
    };
}

static int op_search(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_vindex *v = NULL;
    disco_vfilter *f = NULL;
    float *q = NULL;
    int rc = compile_filter(params, &f, st);

    if (rc == DISCO_OK)
        rc = open_coll(ctx, params, &v, st);
    if (rc == DISCO_OK)
        rc = query_vector(v, params, &q, st);
    disco_vquery dq = query_from(params, q, f);
    int mmr = disco__param_json(params, "diversity") != NULL;
    if (mmr) {
        dq.k = dq.k * 4 > 10000 ? 10000 : dq.k * 4;
        dq.include_values = 1;
    }
    if (rc == DISCO_OK)
        rc = disco_vindex_search(v, &dq, result, st);
    if (rc == DISCO_OK && mmr)
        rc = diversify(params, q, disco_vindex_dim(v), disco_vindex_metric(v), *result, st);
    if (rc == DISCO_OK && disco__param_json(params, "facets"))
        rc = add_facets(params, *result, st);
    free(q);
    disco_vfilter_free(f);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- batch search ------------------------------------------------------------------ */

typedef struct batch {
    disco_vquery *qs;
    disco_vfilter **fs;
    float *vecs;
    size_t n;
    json_t *json;
} batch;

static void batch_release(batch *b)
{
    for (size_t i = 0; b->fs && i < b->n; i++)
        disco_vfilter_free(b->fs[i]);
    free(b->fs);
    free(b->qs);
    free(b->vecs);
    json_decref(b->json);
}

static int batch_query(batch *b, size_t i, const json_t *q, size_t dim, const json_t *params,
                       disco_status *st)
{
    const json_t *vec = json_object_get(q, "vector"), *x;
    size_t j;
    int rc = DISCO_OK;

    if (!json_is_array(vec) || json_array_size(vec) != dim)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "query %zu: \"vector\" must be a list of %zu numbers", i, dim);
    json_array_foreach (vec, j, x)
        b->vecs[i * dim + j] = (float)json_number_value(x);
    if (json_object_get(q, "filter"))
        rc = disco_vfilter_compile(json_object_get(q, "filter"), &b->fs[i], st);
    b->qs[i] = query_from(params, b->vecs + i * dim, b->fs[i]);
    if (json_is_integer(json_object_get(q, "k")))
        b->qs[i].k = (size_t)json_integer_value(json_object_get(q, "k"));
    if (json_is_string(json_object_get(q, "namespace")))
        b->qs[i].ns = json_string_value(json_object_get(q, "namespace"));
    return rc;
}

static int op_batch(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_vindex *v = NULL;
    batch b = {0};
    char *text = NULL;
    size_t len = 0;
    int rc = open_coll(ctx, params, &v, st);

    if (rc == DISCO_OK)
        rc = disco__read_input(ctx, "file", disco__param_str(params, "file"), VEC_INPUT_MAX, &text,
                               &len, st);
    if (rc == DISCO_OK)
        rc = disco_json_parse(text, len, "file", &b.json, st);
    const json_t *qs = json_is_array(b.json) ? b.json : json_object_get(b.json, "queries");
    size_t dim = rc == DISCO_OK ? disco_vindex_dim(v) : 0;
    b.n = json_array_size(qs);
    b.qs = calloc(b.n + 1, sizeof *b.qs);
    b.fs = calloc(b.n + 1, sizeof *b.fs);
    b.vecs = calloc(b.n * dim + 1, sizeof *b.vecs);
    if (rc == DISCO_OK && (!b.qs || !b.fs || !b.vecs))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == DISCO_OK && i < b.n; i++)
        rc = batch_query(&b, i, json_array_get(qs, i), dim, params, st);
    if (rc == DISCO_OK)
        rc = disco_vindex_search_batch(v, b.qs, b.n, 0, result, st);
    free(text);
    batch_release(&b);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- cluster ------------------------------------------------------------------------ */

/* k-means over the top matches of a query (their stored vectors). */
static int cluster_matches(const json_t *matches, size_t dim, disco_vmetric metric, size_t k,
                           json_t **out, disco_status *st)
{
    size_t n = json_array_size(matches);
    float *x = malloc((n ? n : 1) * dim * sizeof *x);
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_vanalysis_clusters c = {0};
    int rc = x ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    for (size_t i = 0; rc == DISCO_OK && i < n; i++)
        for (size_t j = 0; j < dim; j++)
            x[i * dim + j] = (float)json_number_value(
                json_array_get(json_object_get(json_array_get(matches, i), "values"), j));
    cfg.k = k;
    cfg.metric = metric == DISCO_VMETRIC_L2 ? DISCO_VMETRIC_L2 : DISCO_VMETRIC_COSINE;
    if (rc == DISCO_OK)
        rc = disco_vanalysis_kmeans(x, n, dim, &cfg, &c, st);
    if (rc == DISCO_OK) {
        json_t *clusters = json_array();
        for (size_t ci = 0; ci < c.k; ci++)
            json_array_append_new(clusters,
                                  json_pack("{s:I, s:[]}", "size", (json_int_t)c.sizes[ci], "ids"));
        for (size_t i = 0; i < n; i++)
            json_array_append(json_object_get(json_array_get(clusters, c.assign[i]), "ids"),
                              json_object_get(json_array_get(matches, i), "id"));
        *out = json_pack("{s:o, s:f, s:I}", "clusters", clusters, "inertia", c.inertia,
                         "iterations", (json_int_t)c.iterations);
    }
    disco_vanalysis_clusters_release(&c);
    free(x);
    return rc;
}

static int op_cluster(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_vindex *v = NULL;
    disco_vfilter *f = NULL;
    float *q = NULL;
    json_t *res = NULL;
    int rc = compile_filter(params, &f, st);

    if (rc == DISCO_OK)
        rc = open_coll(ctx, params, &v, st);
    if (rc == DISCO_OK)
        rc = query_vector(v, params, &q, st);
    disco_vquery dq = query_from(params, q, f);
    dq.k = (size_t)disco__param_int(params, "top", 500);
    dq.include_values = 1;
    if (rc == DISCO_OK)
        rc = disco_vindex_search(v, &dq, &res, st);
    if (rc == DISCO_OK)
        rc = cluster_matches(json_object_get(res, "matches"), disco_vindex_dim(v),
                             disco_vindex_metric(v),
                             (size_t)disco__param_int(params, "clusters", 8), result, st);
    json_decref(res);
    free(q);
    disco_vfilter_free(f);
    disco__ctx_vindex_done(ctx, v);
    return rc;
}

/* ---- the table ------------------------------------------------------------------------ */

static const char *const metrics[] = {"cosine", "l2", "ip", NULL};
static const char *const formats[] = {"json", "npy", NULL};

#define P_NAME(extra)                                                                              \
    {                                                                                              \
        .name = "name", .type = DISCO_P_STRING, .flags = (extra) | DISCO_PARAM_POSITIONAL,         \
        .help = "collection name ([a-z0-9_-])"                                                     \
    }
#define P_NS                                                                                       \
    {                                                                                              \
        .name = "namespace", .type = DISCO_P_STRING, .short_flag = 'N',                            \
        .help = "namespace within the collection (default: the default one)"                       \
    }
#define P_FILTER                                                                                   \
    {                                                                                              \
        .name = "filter", .type = DISCO_P_OBJECT, .short_flag = 'F',                               \
        .help = "metadata filter, e.g. {\"genre\":{\"$in\":[\"jazz\",\"soul\"]}}"                  \
    }
#define P_QUERY                                                                                    \
    {.name = "vector",                                                                             \
     .type = DISCO_P_JSON,                                                                         \
     .short_flag = 'v',                                                                            \
     .help = "query vector as a JSON list (or @FILE)"},                                            \
    {                                                                                              \
        .name = "id", .type = DISCO_P_STRING, .help = "query with the stored vector of this id"    \
    }

static const disco_param create_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    {.name = "dim",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_RANGE,
     .min = 1,
     .max = DISCO_VINDEX_DIM_MAX,
     .help = "vector dimension"},
    {.name = "metric",
     .type = DISCO_P_STRING,
     .choices = metrics,
     .def = "\"cosine\"",
     .help = "similarity"},
    {.name = "m",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 4,
     .max = 128,
     .def = "16",
     .help = "HNSW links per node"},
    {.name = "ef_construction",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 8,
     .max = 4096,
     .def = "200",
     .help = "HNSW build beam width"},
    {0},
};

static const disco_param upsert_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_POSITIONAL | DISCO_PARAM_STREAM_IN,
     .def = "\"-\"",
     .help = "JSON or .npy input (\"-\": standard input)",
     .media = "application/octet-stream text/plain application/x-npy"},
    {.name = "format",
     .type = DISCO_P_STRING,
     .choices = formats,
     .help = "input format (default: detected)"},
    {.name = "ids", .type = DISCO_P_PATH, .help = "for .npy: a file of ids, one per line"},
    {.name = "id_prefix", .type = DISCO_P_STRING, .help = "for .npy: ids are this plus the row"},
    P_NS,
    {0},
};

static const disco_param fetch_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    {.name = "ids",
     .type = DISCO_P_STRINGS,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "ids to fetch"},
    P_NS,
    {0},
};

static const disco_param delete_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    {.name = "ids",
     .type = DISCO_P_STRINGS,
     .flags = DISCO_PARAM_POSITIONAL,
     .help = "ids to delete"},
    P_FILTER,
    {.name = "all", .type = DISCO_P_BOOL, .help = "delete everything in the namespace"},
    P_NS,
    {0},
};

static const disco_param search_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    P_QUERY,
    {.name = "k",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 10000,
     .def = "10",
     .short_flag = 'k',
     .help = "how many matches"},
    {.name = "ef",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 100000,
     .help = "search beam width (default max(k, 64))"},
    P_FILTER,
    {.name = "include_values", .type = DISCO_P_BOOL, .help = "return the vectors too"},
    {.name = "exact", .type = DISCO_P_BOOL, .help = "exact search (no graph)"},
    {.name = "facets", .type = DISCO_P_STRINGS, .help = "count matches per value of these fields"},
    {.name = "diversity",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 1,
     .help = "re-rank for variety (MMR): 1 = relevance only, 0 = variety only"},
    P_NS,
    {0},
};

static const disco_param batch_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_POSITIONAL | DISCO_PARAM_STREAM_IN,
     .def = "\"-\"",
     .help = "{\"queries\": [{\"vector\": [...], \"k\"?, \"filter\"?}]} (\"-\": stdin)",
     .media = "application/octet-stream text/plain"},
    {.name = "k",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 10000,
     .def = "10",
     .help = "matches per query (a query's own k wins)"},
    P_NS,
    {0},
};

static const disco_param stats_params[] = {P_NAME(0), {0}};

static const disco_param cluster_params[] = {
    P_NAME(DISCO_PARAM_REQUIRED),
    P_QUERY,
    {.name = "top",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 2,
     .max = 10000,
     .def = "500",
     .help = "how many matches to cluster"},
    {.name = "clusters",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 1000,
     .def = "8",
     .help = "k of k-means"},
    P_FILTER,
    P_NS,
    {0},
};

const disco_op disco__ops_vec[] = {
    {.name = "vec.create",
     .summary = "create a vector collection",
     .help = "Example:\n  disco vec create songs --dim 128 --metric cosine",
     .params = create_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_create},
    {.name = "vec.upsert",
     .summary = "insert or replace vectors (JSON or .npy)",
     .params = upsert_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_upsert},
    {.name = "vec.fetch",
     .summary = "vectors and metadata by id",
     .params = fetch_params,
     .fn = op_fetch},
    {.name = "vec.delete",
     .summary = "delete vectors by id or by filter",
     .params = delete_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_delete},
    {.name = "vec.search",
     .summary = "nearest vectors, with metadata filters and facets",
     .help = "Example:\n  disco vec search songs --id 01J... --filter '{\"genre\":\"jazz\"}'",
     .params = search_params,
     .fn = op_search},
    {.name = "vec.batch-search",
     .summary = "many searches at once, on every core",
     .params = batch_params,
     .flags = DISCO_OP_LONG,
     .fn = op_batch},
    {.name = "vec.stats",
     .summary = "a collection's size and shape (or every collection)",
     .params = stats_params,
     .columns = "name,dim,metric,count",
     .fn = op_stats},
    {.name = "vec.cluster",
     .summary = "k-means over the top matches of a query",
     .params = cluster_params,
     .flags = DISCO_OP_LONG,
     .fn = op_cluster},
    {0},
};
