/*
 * vanalysis.c - k-means, MMR re-ranking and metadata facets over search
 * results (see disco/vanalysis.h for the contracts).
 *
 * DESIGN. k-means keeps one distance per vector (to its centroid) beside
 * the assignment; the assignment step, the only O(n k d) part, is split in
 * fixed chunks of rows that may run on a pool. Each chunk writes only its
 * own rows and its own change counter, and every sum is taken afterwards
 * in index order, so the result does not depend on the number of threads.
 *
 *   seed (k-means++) -> assign -> [update -> assign]* until nothing moves
 *
 * Assignments, distances and inertia therefore always describe the final
 * centroids.
 */
#include "disco/vanalysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KM_CHUNK 256 /* rows per assignment task */

/* ---- k-means --------------------------------------------------------------- */

struct kmeans {
    const float *x; /* n x d, normalised for COSINE */
    size_t n, d, k;
    disco_vmetric metric;
    float *cent;      /* k x d */
    uint32_t *assign; /* n */
    float *dist;      /* n: distance to the assigned centroid */
    size_t *changed;  /* per chunk */
    double *sums;     /* k x d, update scratch */
    size_t *sizes;    /* k */
};

disco_vanalysis_kmeans_config disco_vanalysis_kmeans_config_default(void)
{
    disco_vanalysis_kmeans_config c = {
        .k = 8, .max_iter = 100, .seed = 1, .metric = DISCO_VMETRIC_L2, .pool = NULL};
    return c;
}

void disco_vanalysis_clusters_release(disco_vanalysis_clusters *c)
{
    if (c == NULL)
        return;
    free(c->assign);
    free(c->sizes);
    free(c->centroids);
    memset(c, 0, sizeof *c);
}

/* splitmix64: small, fast and fully determined by the seed. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static float km_dist(const struct kmeans *km, const float *a, const float *b)
{
    if (km->metric == DISCO_VMETRIC_COSINE) {
        float t = 1.0f - disco_vdist_dot(a, b, km->d);
        return t > 0.0f ? t : 0.0f;
    }
    return disco_vdist_l2sq(a, b, km->d);
}

static int check_finite(const float *x, size_t n, size_t d, disco_status *st)
{
    for (size_t i = 0; i < n * d; i++) {
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                    "vector %zu, dimension %zu: value is not finite", i / d, i % d);
    }
    return DISCO_OK;
}

static int check_kmeans_args(const float *x, size_t n, size_t d,
                             const disco_vanalysis_kmeans_config *c, disco_status *st)
{
    if (x == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "vectors are NULL");
    if (n == 0 || d == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, n == 0 ? "n" : "d",
                                "n %zu and d %zu must both be positive", n, d);
    if (n > SIZE_MAX / sizeof(float) / d)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "n %zu times d %zu overflows", n, d);
    if (c->k == 0 || c->k > n || c->k > UINT32_MAX - 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "k", "k %zu out of range 1..n (n = %zu)", c->k,
                                n);
    if (c->max_iter == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_iter", "max_iter must be at least 1");
    if (c->metric != DISCO_VMETRIC_L2 && c->metric != DISCO_VMETRIC_COSINE)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric",
                                "metric %d not supported by k-means (l2 or cosine)",
                                (int)c->metric);
    return check_finite(x, n, d, st);
}

/* Draws an index with probability proportional to w[i]; total = sum of w > 0. */
static size_t draw_weighted(const float *w, size_t n, double total, uint64_t *rng)
{
    double r = rng_unit(rng) * total, cum = 0.0;
    size_t last = 0;

    for (size_t i = 0; i < n; i++) {
        if (w[i] <= 0.0f)
            continue;
        cum += w[i];
        last = i;
        if (cum > r)
            return i;
    }
    return last; /* rounding left r at the very end */
}

/* k-means++: centre c is vector pick; km->dist holds each vector's distance to the nearest. */
static void seed_plusplus(struct kmeans *km, uint64_t seed)
{
    uint64_t rng = seed;
    size_t pick = (size_t)(rng_unit(&rng) * (double)km->n), d = km->d;

    for (size_t c = 0; c < km->k; c++) {
        memcpy(km->cent + c * d, km->x + pick * d, d * sizeof(float));
        double total = 0.0;
        for (size_t i = 0; i < km->n; i++) {
            float t = km_dist(km, km->x + i * d, km->cent + c * d);
            if (c == 0 || t < km->dist[i])
                km->dist[i] = t;
            total += km->dist[i];
        }
        /* Every vector sits on a centre already: any vector will do. */
        pick = total > 0.0 ? draw_weighted(km->dist, km->n, total, &rng) : (c + 1) % km->n;
    }
}

/* Assigns rows of chunk `ci` to their nearest centroid (lowest index on ties). */
static void assign_chunk(size_t ci, void *arg)
{
    struct kmeans *km = arg;
    size_t end = (ci + 1) * KM_CHUNK < km->n ? (ci + 1) * KM_CHUNK : km->n, moved = 0;

    for (size_t i = ci * KM_CHUNK; i < end; i++) {
        const float *v = km->x + i * km->d;
        uint32_t best = 0;
        float bd = km_dist(km, v, km->cent);
        for (size_t c = 1; c < km->k; c++) {
            float t = km_dist(km, v, km->cent + c * km->d);
            if (t < bd) {
                bd = t;
                best = (uint32_t)c;
            }
        }
        moved += km->assign[i] != best;
        km->assign[i] = best;
        km->dist[i] = bd;
    }
    km->changed[ci] = moved;
}

/* One assignment step; *moved = vectors whose cluster changed. */
static int assign_all(struct kmeans *km, disco_pool *pool, size_t *moved, disco_status *st)
{
    size_t chunks = (km->n + KM_CHUNK - 1) / KM_CHUNK;

    if (pool != NULL && chunks > 1) {
        int rc = disco_pool_parallel_for(pool, chunks, assign_chunk, km);
        if (rc != DISCO_OK)
            return disco_status_set(st, rc, "pool", "assignment step: %s", disco_strerror(rc));
    } else {
        for (size_t ci = 0; ci < chunks; ci++)
            assign_chunk(ci, km);
    }
    *moved = 0;
    for (size_t ci = 0; ci < chunks; ci++)
        *moved += km->changed[ci];
    return DISCO_OK;
}

/*
 * Gives each empty cluster the vector farthest from its centroid, taken from
 * a cluster that keeps at least one (lowest index on ties). Vectors that sit
 * on their centroid are never moved: with fewer distinct vectors than k some
 * clusters stay empty.
 */
static void fill_empty(struct kmeans *km)
{
    for (size_t c = 0; c < km->k; c++) {
        if (km->sizes[c] > 0)
            continue;
        size_t far = SIZE_MAX;
        for (size_t i = 0; i < km->n; i++) {
            if (km->dist[i] > 0.0f && km->sizes[km->assign[i]] > 1 &&
                (far == SIZE_MAX || km->dist[i] > km->dist[far]))
                far = i;
        }
        if (far == SIZE_MAX)
            return; /* no vector can move */
        km->sizes[km->assign[far]]--;
        km->sizes[c] = 1;
        km->assign[far] = (uint32_t)c;
        km->dist[far] = 0.0f;
    }
}

static void count_sizes(struct kmeans *km)
{
    memset(km->sizes, 0, km->k * sizeof *km->sizes);
    for (size_t i = 0; i < km->n; i++)
        km->sizes[km->assign[i]]++;
}

/* Centroids become the means of their vectors (re-normalised for COSINE). */
static void update_centroids(struct kmeans *km)
{
    size_t d = km->d;

    count_sizes(km);
    fill_empty(km);
    memset(km->sums, 0, km->k * d * sizeof *km->sums);
    for (size_t i = 0; i < km->n; i++) {
        double *s = km->sums + (size_t)km->assign[i] * d;
        const float *v = km->x + i * d;
        for (size_t j = 0; j < d; j++)
            s[j] += v[j];
    }
    for (size_t c = 0; c < km->k; c++) {
        if (km->sizes[c] == 0)
            continue; /* keeps its old centroid */
        for (size_t j = 0; j < d; j++)
            km->cent[c * d + j] = (float)(km->sums[c * d + j] / (double)km->sizes[c]);
        if (km->metric == DISCO_VMETRIC_COSINE)
            disco_vdist_normalize(km->cent + c * d, d);
    }
}

static void kmeans_free(struct kmeans *km, float *xs)
{
    free(xs);
    free(km->cent);
    free(km->assign);
    free(km->dist);
    free(km->changed);
    free(km->sums);
    free(km->sizes);
}

/* Allocates the state; for COSINE *xs is a normalised copy of x. */
static int kmeans_alloc(struct kmeans *km, const float *x, float **xs, disco_status *st)
{
    size_t n = km->n, d = km->d, k = km->k;

    *xs = NULL;
    if (km->metric == DISCO_VMETRIC_COSINE) {
        *xs = malloc(n * d * sizeof **xs);
        if (*xs == NULL)
            return disco_status_set(st, DISCO_ERR_NOMEM, "x", "no memory for %zu vectors", n);
        memcpy(*xs, x, n * d * sizeof **xs);
        for (size_t i = 0; i < n; i++)
            disco_vdist_normalize(*xs + i * d, d);
        x = *xs;
    }
    km->x = x;
    km->cent = malloc(k * d * sizeof *km->cent);
    km->assign = malloc(n * sizeof *km->assign);
    km->dist = malloc(n * sizeof *km->dist);
    km->changed = calloc((n + KM_CHUNK - 1) / KM_CHUNK, sizeof *km->changed);
    km->sums = malloc(k * d * sizeof *km->sums);
    km->sizes = calloc(k, sizeof *km->sizes);
    if (!km->cent || !km->assign || !km->dist || !km->changed || !km->sums || !km->sizes)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for k-means state");
    return DISCO_OK;
}

/* Seeds, then alternates update and assignment until nothing moves. */
static int kmeans_run(struct kmeans *km, const disco_vanalysis_kmeans_config *c,
                      disco_vanalysis_clusters *out, disco_status *st)
{
    size_t moved;
    int rc;

    seed_plusplus(km, c->seed);
    memset(km->assign, 0xff, km->n * sizeof *km->assign);
    if ((rc = assign_all(km, c->pool, &moved, st)) != DISCO_OK)
        return rc;
    while (out->iterations < c->max_iter) {
        update_centroids(km);
        out->iterations++;
        if ((rc = assign_all(km, c->pool, &moved, st)) != DISCO_OK)
            return rc;
        if (moved == 0) {
            out->converged = 1;
            break;
        }
    }
    count_sizes(km);
    for (size_t i = 0; i < km->n; i++)
        out->inertia += km->dist[i];
    return DISCO_OK;
}

int disco_vanalysis_kmeans(const float *x, size_t n, size_t d,
                           const disco_vanalysis_kmeans_config *cfg, disco_vanalysis_clusters *out,
                           disco_status *st)
{
    disco_vanalysis_kmeans_config c = cfg ? *cfg : disco_vanalysis_kmeans_config_default();
    struct kmeans km = {.n = n, .d = d, .k = c.k, .metric = c.metric};
    float *xs = NULL;
    int rc;

    if (out == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "result is NULL");
    memset(out, 0, sizeof *out);
    if ((rc = check_kmeans_args(x, n, d, &c, st)) != DISCO_OK)
        return rc;
    if ((rc = kmeans_alloc(&km, x, &xs, st)) != DISCO_OK)
        goto free_state;
    if ((rc = kmeans_run(&km, &c, out, st)) != DISCO_OK)
        goto free_state;
    out->n = n;
    out->d = d;
    out->k = c.k;
    out->assign = km.assign;
    out->sizes = km.sizes;
    out->centroids = km.cent;
    km.assign = NULL;
    km.sizes = NULL;
    km.cent = NULL;
free_state:
    kmeans_free(&km, xs);
    if (rc != DISCO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- MMR ------------------------------------------------------------------- */

disco_vanalysis_mmr_config disco_vanalysis_mmr_config_default(void)
{
    disco_vanalysis_mmr_config c = {.lambda = 0.5, .k = 10, .metric = DISCO_VMETRIC_COSINE};
    return c;
}

struct mmr {
    const float *cand;
    size_t n, d;
    disco_vmetric metric;
    float *norm; /* n, COSINE only */
};

/* Similarity of a (norm na) and b (norm nb) under the metric (norms: COSINE only). */
static double mmr_sim(const struct mmr *m, const float *a, float na, const float *b, float nb)
{
    switch (m->metric) {
    case DISCO_VMETRIC_COSINE:
        if (!(na > 0.0f) || !(nb > 0.0f))
            return 0.0;
        return (double)disco_vdist_dot(a, b, m->d) / ((double)na * (double)nb);
    case DISCO_VMETRIC_IP:
        return disco_vdist_dot(a, b, m->d);
    case DISCO_VMETRIC_L2:
        break;
    }
    return -(double)disco_vdist_l2sq(a, b, m->d);
}

static int check_mmr_args(size_t n, size_t d, const float *cand, const float *query,
                          const float *query_sim, const disco_vanalysis_mmr_config *c,
                          const size_t *order, const size_t *count, disco_status *st)
{
    if (d == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "d", "d must be positive");
    if (n > 0 && cand == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "cand", "candidates are NULL");
    if (n > 0 && query == NULL && query_sim == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "query", "need a query or query_sim");
    if ((c->k > 0 && order == NULL) || count == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, count ? "order" : "count",
                                "output array is NULL");
    if (!(c->lambda >= 0.0 && c->lambda <= 1.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "lambda", "lambda %g out of range 0..1",
                                c->lambda);
    if ((unsigned)c->metric > DISCO_VMETRIC_IP)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric", "unknown metric %d", (int)c->metric);
    for (size_t i = 0; query_sim != NULL && i < n; i++) {
        if (!isfinite(query_sim[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "query_sim",
                                    "query_sim[%zu] is not finite", i);
    }
    return DISCO_OK;
}

/* rel[i] = query_sim[i], or the similarity of the query to candidate i. */
static void mmr_relevance(const struct mmr *m, const float *query, const float *query_sim,
                          double *rel)
{
    float nq = 0.0f;

    if (query_sim != NULL) {
        for (size_t i = 0; i < m->n; i++)
            rel[i] = query_sim[i];
        return;
    }
    if (m->metric == DISCO_VMETRIC_COSINE)
        nq = sqrtf(disco_vdist_dot(query, query, m->d));
    for (size_t i = 0; i < m->n; i++)
        rel[i] = mmr_sim(m, query, nq, m->cand + i * m->d, m->norm ? m->norm[i] : 0.0f);
}

/* Index of the best unpicked candidate by MMR score (lowest index on ties). */
static size_t mmr_best(size_t n, const double *rel, const double *maxsim,
                       const unsigned char *picked, double lambda, int first)
{
    size_t best = SIZE_MAX;
    double bs = 0.0;

    for (size_t i = 0; i < n; i++) {
        if (picked[i])
            continue;
        double s = lambda * rel[i] - (first ? 0.0 : (1.0 - lambda) * maxsim[i]);
        if (best == SIZE_MAX || s > bs) {
            bs = s;
            best = i;
        }
    }
    return best;
}

/* The greedy selection; maxsim[i] is the highest similarity of i to a picked item. */
static void mmr_select(const struct mmr *m, const double *rel, double lambda, size_t kk,
                       double *maxsim, unsigned char *picked, size_t *order)
{
    for (size_t t = 0; t < kk; t++) {
        size_t best = mmr_best(m->n, rel, maxsim, picked, lambda, t == 0);

        if (best >= m->n)
            return; /* kk <= n: not reached */
        const float *b = m->cand + best * m->d;
        float nb = m->norm ? m->norm[best] : 0.0f;

        order[t] = best;
        picked[best] = 1;
        for (size_t i = 0; i < m->n; i++) {
            if (picked[i])
                continue;
            double s = mmr_sim(m, m->cand + i * m->d, m->norm ? m->norm[i] : 0.0f, b, nb);
            if (t == 0 || s > maxsim[i])
                maxsim[i] = s;
        }
    }
}

int disco_vanalysis_mmr(const float *cand, size_t n, size_t d, const float *query,
                        const float *query_sim, const disco_vanalysis_mmr_config *cfg,
                        size_t *order, size_t *count, disco_status *st)
{
    disco_vanalysis_mmr_config c = cfg ? *cfg : disco_vanalysis_mmr_config_default();
    struct mmr m = {.cand = cand, .n = n, .d = d, .metric = c.metric};
    double *rel = NULL, *maxsim = NULL;
    unsigned char *picked = NULL;
    int rc = check_mmr_args(n, d, cand, query, query_sim, &c, order, count, st);

    if (rc != DISCO_OK)
        return rc;
    *count = 0;
    size_t kk = c.k < n ? c.k : n;
    if (kk == 0)
        return DISCO_OK;
    rel = malloc(n * sizeof *rel);
    maxsim = calloc(n, sizeof *maxsim);
    picked = calloc(n, 1);
    if (c.metric == DISCO_VMETRIC_COSINE)
        m.norm = malloc(n * sizeof *m.norm);
    if (!rel || !maxsim || !picked || (c.metric == DISCO_VMETRIC_COSINE && !m.norm)) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for %zu candidates", n);
        goto free_scratch;
    }
    for (size_t i = 0; m.norm != NULL && i < n; i++)
        m.norm[i] = sqrtf(disco_vdist_dot(cand + i * d, cand + i * d, d));
    mmr_relevance(&m, query, query_sim, rel);
    mmr_select(&m, rel, c.lambda, kk, maxsim, picked, order);
    *count = kk;
free_scratch:
    free(rel);
    free(maxsim);
    free(picked);
    free(m.norm);
    return rc;
}

/* ---- facets ---------------------------------------------------------------- */

disco_vanalysis_facets_config disco_vanalysis_facets_config_default(void)
{
    disco_vanalysis_facets_config c = {.top_n = 10, .fields = NULL, .nfields = 0};
    return c;
}

/* Shortest "%.Ng" that reads back as v; integral values as integers. */
static void format_real(double v, char *buf, size_t len)
{
    if (v == floor(v) && fabs(v) < 9.0e15) {
        snprintf(buf, len, "%.0f", v == 0.0 ? 0.0 : v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* The facet key of a scalar, in buf or borrowed from v; NULL when v is not counted. */
static const char *facet_key(const json_t *v, char *buf, size_t len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        format_real(json_real_value(v), buf, len);
        return buf;
    default:
        return NULL;
    }
}

static int count_scalar(json_t *counts, const json_t *v)
{
    char buf[64];
    const char *key = facet_key(v, buf, sizeof buf);
    json_t *c;

    if (key == NULL)
        return DISCO_OK;
    c = json_object_get(counts, key);
    if (c != NULL)
        return json_integer_set(c, json_integer_value(c) + 1) == 0 ? DISCO_OK : DISCO_ERR_NOMEM;
    return json_object_set_new(counts, key, json_integer(1)) == 0 ? DISCO_OK : DISCO_ERR_NOMEM;
}

/* Counts one field's value (each element of a list) into its {value: count}. */
static int count_value(json_t *counts, const json_t *v)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return count_scalar(counts, v);
    json_array_foreach (v, i, e) {
        if (count_scalar(counts, e) != DISCO_OK)
            return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

/* Adds one metadata object to the per-field counts. */
static int count_object(json_t *all, const json_t *obj, int restricted)
{
    const char *field;
    json_t *v;

    json_object_foreach ((json_t *)obj, field, v) {
        json_t *counts = json_object_get(all, field);
        if (counts == NULL) {
            if (restricted)
                continue;
            counts = json_object();
            if (json_object_set_new(all, field, counts) != 0)
                return DISCO_ERR_NOMEM;
        }
        if (count_value(counts, v) != DISCO_OK)
            return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

struct facet_entry {
    const char *key;
    json_int_t count;
};

static int facet_cmp(const void *pa, const void *pb)
{
    const struct facet_entry *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->key, b->key);
}

/* A new object with the top_n values of `counts` (0: all), most frequent first. */
static json_t *top_values(const json_t *counts, size_t top_n)
{
    size_t m = json_object_size(counts), i = 0;
    struct facet_entry *e = malloc((m ? m : 1) * sizeof *e);
    json_t *top = json_object(), *v;
    const char *key;

    if (e == NULL || top == NULL)
        goto fail;
    json_object_foreach ((json_t *)counts, key, v) {
        e[i].key = key;
        e[i++].count = json_integer_value(v);
    }
    qsort(e, m, sizeof *e, facet_cmp);
    for (i = 0; i < m && (top_n == 0 || i < top_n); i++) {
        if (json_object_set_new(top, e[i].key, json_integer(e[i].count)) != 0)
            goto fail;
    }
    free(e);
    return top;
fail:
    free(e);
    json_decref(top);
    return NULL;
}

static int check_facets_args(json_t *const *meta, size_t n, const disco_vanalysis_facets_config *c,
                             json_t **out, disco_status *st)
{
    if (out == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "result is NULL");
    if (meta == NULL && n > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "meta", "metadata array is NULL");
    if (c->fields == NULL && c->nfields > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "fields", "%zu fields but no names",
                                c->nfields);
    for (size_t i = 0; i < c->nfields; i++) {
        if (c->fields[i] == NULL)
            return disco_status_set(st, DISCO_ERR_INVAL, "fields", "fields[%zu] is NULL", i);
    }
    for (size_t i = 0; i < n; i++) {
        if (meta[i] != NULL && !json_is_object(meta[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "meta", "metadata[%zu] is not an object",
                                    i);
    }
    return DISCO_OK;
}

/* Per-field counts of every value, before the top_n cut. */
static json_t *count_all(json_t *const *meta, size_t n, const disco_vanalysis_facets_config *c)
{
    json_t *all = json_object();

    if (all == NULL)
        return NULL;
    for (size_t i = 0; i < c->nfields; i++) {
        if (json_object_get(all, c->fields[i]) == NULL &&
            json_object_set_new(all, c->fields[i], json_object()) != 0)
            goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (meta[i] != NULL && count_object(all, meta[i], c->fields != NULL) != DISCO_OK)
            goto fail;
    }
    return all;
fail:
    json_decref(all);
    return NULL;
}

int disco_vanalysis_facets(json_t *const *meta, size_t n, const disco_vanalysis_facets_config *cfg,
                           json_t **out, disco_status *st)
{
    disco_vanalysis_facets_config c = cfg ? *cfg : disco_vanalysis_facets_config_default();
    json_t *all, *res = NULL, *counts;
    const char *field;
    int rc;

    if (out != NULL)
        *out = NULL;
    if ((rc = check_facets_args(meta, n, &c, out, st)) != DISCO_OK)
        return rc;
    all = count_all(meta, n, &c);
    res = json_object();
    if (all == NULL || res == NULL)
        goto nomem;
    json_object_foreach (all, field, counts) {
        if (json_object_set_new(res, field, top_values(counts, c.top_n)) != 0)
            goto nomem;
    }
    json_decref(all);
    *out = res;
    return DISCO_OK;
nomem:
    json_decref(all);
    json_decref(res);
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for facet counts");
}
