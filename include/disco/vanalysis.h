/*
 * vanalysis.h - analysis of vector search results: k-means clustering,
 * maximal marginal relevance (MMR) re-ranking and metadata facet counts.
 *
 *   disco_vanalysis_kmeans  k-means++ seeding, then Lloyd iterations
 *   disco_vanalysis_mmr     diverse top-k from candidates scored against a query
 *   disco_vanalysis_facets  {field: {value: count}} over flat JSON metadata
 *
 * Vectors are float32, row-major (vector i is x[i*d .. i*d+d-1]). Distances
 * come from disco/vdist.h. Pure computation: no storage, no logging; every
 * function is reentrant and only reads its inputs. Errors are a negative
 * disco_err with details in the optional disco_status.
 */
#ifndef DISCO_VANALYSIS_H
#define DISCO_VANALYSIS_H

#include "disco/err.h"
#include "disco/pool.h"
#include "disco/vdist.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct disco_vanalysis_kmeans_config {
    size_t k;             /* clusters, 1..n (default 8) */
    size_t max_iter;      /* Lloyd iterations at most, >= 1 (default 100) */
    uint64_t seed;        /* seeds the k-means++ draws (default 1) */
    disco_vmetric metric; /* L2 or COSINE (default L2); IP is INVAL */
    disco_pool *pool;     /* optional: runs the assignment step in parallel */
} disco_vanalysis_kmeans_config;

disco_vanalysis_kmeans_config disco_vanalysis_kmeans_config_default(void);

/*
 * A clustering. assign[i] is the cluster of vector i; centroids holds k rows
 * of d floats (unit length for COSINE unless the cluster's mean is zero).
 * inertia sums each vector's distance to its centroid: squared L2, or
 * 1 - cos for COSINE. iterations counts Lloyd iterations (update + assign);
 * converged is 1 when the last one changed no assignment. `assign`, `sizes`
 * and `centroids` are malloc'd and owned by the struct.
 */
typedef struct disco_vanalysis_clusters {
    size_t n, d, k;
    uint32_t *assign; /* n */
    size_t *sizes;    /* k: vectors per cluster */
    float *centroids; /* k * d */
    double inertia;
    size_t iterations;
    int converged;
} disco_vanalysis_clusters;

/* Frees the arrays and empties the struct; NULL and empty structs are fine. */
void disco_vanalysis_clusters_release(disco_vanalysis_clusters *c);

/*
 * Clusters n vectors of dimension d. Seeding is k-means++ (the first centre
 * drawn uniformly, each next one with probability proportional to its
 * distance to the nearest chosen centre) from a PRNG seeded with cfg->seed,
 * so equal inputs and seeds give equal results with or without a pool. For
 * COSINE the vectors are normalised (in a private copy) and centroids are
 * re-normalised means. An empty cluster takes the vector farthest from its
 * centroid; with fewer distinct vectors than k, some clusters stay empty
 * (size 0). Ties go to the lower cluster index. cfg NULL means defaults.
 * On error *out is left empty.
 * Errors: INVAL (x or out NULL, n or d 0, n * d overflows, k 0 or greater
 * than n, max_iter 0, metric not L2/COSINE, a non-finite value, named by
 * vector and dimension, k > 2^32 - 1); NOMEM; the pool's error.
 */
int disco_vanalysis_kmeans(const float *x, size_t n, size_t d,
                           const disco_vanalysis_kmeans_config *cfg, disco_vanalysis_clusters *out,
                           disco_status *st);

typedef struct disco_vanalysis_mmr_config {
    double lambda;        /* 1: relevance only, 0: diversity only; 0..1 (default 0.5) */
    size_t k;             /* items to select (default 10); fewer when n < k */
    disco_vmetric metric; /* similarity between candidates (default COSINE) */
} disco_vanalysis_mmr_config;

disco_vanalysis_mmr_config disco_vanalysis_mmr_config_default(void);

/*
 * Maximal marginal relevance: picks, one at a time, the candidate with the
 * highest  lambda * rel(i) - (1 - lambda) * max_{j picked} sim(i, j),
 * ties to the lower index. sim between candidates is cos(a, b) for COSINE
 * (any lengths; a zero vector has similarity 0), a . b for IP and
 * -|a - b|^2 for L2. rel(i) is query_sim[i] when given (higher = more
 * relevant, on the scale of sim), else sim(query, candidate i).
 *
 * cand: n rows of d floats; query: d floats, only read when query_sim is
 * NULL. Writes the chosen candidate indices, best first, to order (room for
 * cfg->k) and their number, min(k, n), to *count. cfg NULL means defaults.
 * Errors: INVAL (d 0; cand NULL with n > 0; query and query_sim both NULL
 * with n > 0; order NULL with k > 0; count NULL; lambda outside 0..1; a
 * metric outside disco_vmetric; a non-finite query_sim, named by index);
 * NOMEM.
 */
int disco_vanalysis_mmr(const float *cand, size_t n, size_t d, const float *query,
                        const float *query_sim, const disco_vanalysis_mmr_config *cfg,
                        size_t *order, size_t *count, disco_status *st);

typedef struct disco_vanalysis_facets_config {
    size_t top_n;              /* values kept per field, by count (default 10; 0: all) */
    const char *const *fields; /* count only these fields (NULL: every field seen) */
    size_t nfields;
} disco_vanalysis_facets_config;

disco_vanalysis_facets_config disco_vanalysis_facets_config_default(void);

/*
 * Counts metadata values per field over n flat JSON objects (meta[i] may be
 * NULL: an item without metadata). A string counts as itself, a boolean as
 * "true"/"false", an integer in decimal, a real in its shortest round-trip
 * form ("0.5"; an integral real as an integer, so 3.0 and 3 are one value);
 * a list counts each of its scalar elements (a repeated element counts
 * again). null, nested objects and lists inside lists are skipped.
 *
 * *out is a new object {field: {value: count}} (caller json_decref()s it; NULL on error):
 * fields in the order first seen (or the order of cfg->fields, where a field
 * never seen maps to {}), values by descending count then ascending byte
 * order, at most top_n of them. cfg NULL means defaults.
 * Errors: INVAL (meta NULL with n > 0, out NULL, meta[i] not an object,
 * named by index; fields NULL with nfields > 0); NOMEM.
 */
int disco_vanalysis_facets(json_t *const *meta, size_t n, const disco_vanalysis_facets_config *cfg,
                           json_t **out, disco_status *st);

#endif
