/*
 * hnsw.h - the HNSW graph: approximate nearest neighbours in memory.
 *
 * Vectors live in slots 0, 1, ... chosen by the caller (a collection maps
 * its ids to slots and reuses the slots of deleted vectors). Search can be
 * restricted by an `allow` predicate, evaluated during the graph walk
 * (in-graph filtering; the collection switches to exact search when few
 * slots are allowed).
 *
 * Threads: any number of searches may run while one thread inserts or
 * removes (per-node locks); inserts from several threads are also safe.
 */
#ifndef DISCO_HNSW_H
#define DISCO_HNSW_H

#include "disco/err.h"
#include "disco/vdist.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_hnsw disco_hnsw;

typedef struct disco_hnsw_config {
    size_t dim;
    disco_vmetric metric;
    size_t M;               /* links per node above layer 0 (default 16; layer 0 has 2M) */
    size_t ef_construction; /* default 200 */
    uint64_t seed;          /* level generator (default 100) */
} disco_hnsw_config;

disco_hnsw_config disco_hnsw_config_default(size_t dim, disco_vmetric metric);

int disco_hnsw_new(const disco_hnsw_config *cfg, disco_hnsw **out, disco_status *st);
void disco_hnsw_free(disco_hnsw *h);

/*
 * Inserts `vec` (dim floats; normalised copy kept for COSINE) at `slot`;
 * the graph grows as needed. An occupied slot is INVAL (remove first).
 */
int disco_hnsw_add(disco_hnsw *h, uint32_t slot, const float *vec, disco_status *st);

/* Marks `slot` deleted: it is no longer returned, and may be added again. */
int disco_hnsw_remove(disco_hnsw *h, uint32_t slot, disco_status *st);

typedef int (*disco_hnsw_allow_fn)(void *user, uint32_t slot);

/*
 * The k nearest live slots to `q` with beam width max(ef, k), nearest
 * first; `allow` (may be NULL) keeps the slots it returns 1 for. Fills
 * slots/dists (room for k) and *n.
 */
int disco_hnsw_search(const disco_hnsw *h, const float *q, size_t k, size_t ef,
                      disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                      size_t *n, disco_status *st);

/* Exact k nearest by scanning every live allowed slot (the same results shape). */
int disco_hnsw_search_exact(const disco_hnsw *h, const float *q, size_t k,
                            disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                            size_t *n, disco_status *st);

/* The stored vector of a live slot (borrowed), or NULL. */
const float *disco_hnsw_vector(const disco_hnsw *h, uint32_t slot);

size_t disco_hnsw_count(const disco_hnsw *h);    /* live vectors */
size_t disco_hnsw_capacity(const disco_hnsw *h); /* slots allocated */
size_t disco_hnsw_bytes(const disco_hnsw *h);    /* memory held */

/*
 * Versioned, little-endian, CRC-32C-checked serialisation of the whole graph
 * to/from a buffer (disco_hnsw_serialize allocates *buf; caller frees).
 * Load fails cleanly (CORRUPT with the offset) on any malformed input.
 */
int disco_hnsw_serialize(const disco_hnsw *h, uint8_t **buf, size_t *len, disco_status *st);
int disco_hnsw_load(const uint8_t *buf, size_t len, disco_hnsw **out, disco_status *st);

#endif
