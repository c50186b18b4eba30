/*
 * hnsw_check.h - helpers shared by the HNSW graph's test groups
 * (tests/store/test_hnsw_*.c): clustered points, graphs built slot by
 * slot, recall against exact search, checks on result lists (order, exact
 * distances), and whole scenarios run on a graph the test's own builder
 * makes: recall under L2 and cosine, filters and removals, serialise/load.
 * Failures go through cmocka: include after <cmocka.h>, call from a test.
 */
#ifndef DISCO_TU_HNSW_CHECK_H
#define DISCO_TU_HNSW_CHECK_H

#include "disco/hnsw.h"

#include <stddef.h>
#include <stdint.h>

/* The most results (k) the search checks below take. */
#define TU_HNSW_KMAX 64

/* A filter for search: fn (NULL: every slot) with its user pointer. */
typedef struct tu_hnsw_allow {
    disco_hnsw_allow_fn fn;
    void *user;
} tu_hnsw_allow;

/* n points of dim d around `centres` random centres (spread 0.4); malloc'd. */
float *tu_hnsw_points(size_t n, size_t d, size_t centres, uint64_t seed);

/* An empty graph of dim d under metric m with ef_construction efc. */
disco_hnsw *tu_hnsw_empty(size_t d, disco_vmetric m, size_t efc);

/* Adds x[from..to) (rows of the graph's dim) at slots from..to-1. */
void tu_hnsw_add_range(disco_hnsw *h, const float *x, size_t from, size_t to);

/* A graph as tu_hnsw_empty holding the n rows of x at slots 0..n-1. */
disco_hnsw *tu_hnsw_build(const float *x, size_t n, size_t d, disco_vmetric m, size_t efc);

/* Builds a graph as tu_hnsw_build does, with the caller's own checks on it. */
typedef disco_hnsw *(*tu_hnsw_build_fn)(const float *x, size_t n, size_t d, disco_vmetric m,
                                        size_t efc);

/*
 * The data of a scenario test: a graph under metric m (ef_construction
 * efc) of n points of dim d (tu_hnsw_points with centres and seed),
 * queried with the nq points drawn after them.
 */
typedef struct tu_hnsw_set {
    size_t n, nq, d, centres;
    uint64_t seed;
    disco_vmetric m;
    size_t efc;
} tu_hnsw_set;

/* A copy of h through disco_hnsw_serialize and disco_hnsw_load; the caller frees it. */
disco_hnsw *tu_hnsw_reload(const disco_hnsw *h);

/*
 * The n results s/dist of a search for q are ascending and each distance
 * is the exact one from q (normalised for cosine) to the stored vector.
 */
void tu_hnsw_check_exact_dists(const disco_hnsw *h, const float *q, const uint32_t *s,
                               const float *dist, size_t n);

/*
 * Recall@k of graph search (search width ef) against exact search over the
 * nq queries q (rows of the graph's dim), under filter a; checks each
 * graph result list with tu_hnsw_check_exact_dists. k <= TU_HNSW_KMAX.
 */
double tu_hnsw_recall(const disco_hnsw *h, const float *q, size_t nq, size_t k, size_t ef,
                      tu_hnsw_allow a);

/*
 * Recall@k (tu_hnsw_recall, no filter) of the queries on the graph of set
 * made by build under L2 and then under cosine (set->m unused), each with
 * seed set->seed + the metric's value: printed, naming `what`, and at
 * least `least`.
 */
void tu_hnsw_check_recall(tu_hnsw_build_fn build, const tu_hnsw_set *set, const char *what,
                          size_t k, size_t ef, double least);

/*
 * Filters and removals on the graph of set, made by build: graph search
 * (k results, width ef) under an even-slot filter returns only even
 * slots, with recall@k >= 0.9 (printed); after removing every third slot
 * it returns no removed slot (also for queries that are removed vectors),
 * and recall@k with and without the filter is >= 0.9.
 */
void tu_hnsw_check_filter_remove(tu_hnsw_build_fn build, const tu_hnsw_set *set, size_t k,
                                 size_t ef);

/* Checks that a and b (a loaded copy) hold the same codes over slots 0..n-1. */
typedef void (*tu_hnsw_same_fn)(const disco_hnsw *a, const disco_hnsw *b, size_t n);

/*
 * The graph of set, made by build, through serialise and load: same_codes
 * holds for the copy, and graph search (k results, width ef) for each
 * query gives the same slots and distances in both.
 */
void tu_hnsw_check_roundtrip(tu_hnsw_build_fn build, tu_hnsw_same_fn same_codes,
                             const tu_hnsw_set *set, size_t k, size_t ef);

#endif
