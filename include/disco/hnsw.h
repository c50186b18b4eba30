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
 * Growing the slot arrays, adding to a removed slot and serialising pause
 * the other threads briefly (they take the graph's lock exclusively).
 *
 * Errors: every int-returning function returns DISCO_OK or a negative
 * disco_err and, when `st` is not NULL, says what was wrong in it.
 */
#ifndef DISCO_HNSW_H
#define DISCO_HNSW_H

#include "disco/err.h"
#include "disco/vdist.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_hnsw disco_hnsw;

typedef struct disco_hnsw_config {
    size_t dim; /* 1..65536 */
    disco_vmetric metric;
    size_t M;               /* links per node above layer 0 (default 16; layer 0 has 2M), 2..1024 */
    size_t ef_construction; /* default 200, 1..2^20 */
    uint64_t seed;          /* level generator (default 100) */
} disco_hnsw_config;

disco_hnsw_config disco_hnsw_config_default(size_t dim, disco_vmetric metric);

/*
 * An empty graph for `cfg` in *out (free with disco_hnsw_free; NULL is a
 * no-op). INVAL for a config out of range, NOMEM.
 */
int disco_hnsw_new(const disco_hnsw_config *cfg, disco_hnsw **out, disco_status *st);
void disco_hnsw_free(disco_hnsw *h);

/*
 * Allocates room for slots 0..slots-1 now, exactly (growth otherwise
 * doubles), so a graph of known size holds no spare slots. INVAL, NOMEM.
 */
int disco_hnsw_reserve(disco_hnsw *h, size_t slots, disco_status *st);

/*
 * Inserts `vec` (dim finite floats, copied; normalised copy kept for
 * COSINE) at `slot` (0..UINT32_MAX-1); the graph grows as needed. A removed
 * slot is reused: it takes the new vector and is linked afresh. INVAL: NULL
 * argument, non-finite component, slot occupied (remove first) or
 * UINT32_MAX. NOMEM: no room to grow (nothing stored), or, rarely, no room
 * while linking (the vector is stored and found by exact search, with
 * fewer links).
 */
int disco_hnsw_add(disco_hnsw *h, uint32_t slot, const float *vec, disco_status *st);

/*
 * Marks `slot` deleted: it is no longer returned, and may be added again.
 * Its links stay and still route searches. NOTFOUND when the slot holds no
 * live vector; INVAL for a NULL graph.
 */
int disco_hnsw_remove(disco_hnsw *h, uint32_t slot, disco_status *st);

typedef int (*disco_hnsw_allow_fn)(void *user, uint32_t slot);

/*
 * The k nearest live slots to `q` with beam width max(ef, k), nearest
 * first; `allow` (may be NULL) keeps the slots it returns 1 for (it is
 * called from the searching thread, possibly more than once per slot).
 * Fills slots/dists (room for k) and *n (< k when fewer qualify).
 * INVAL: NULL argument or k == 0. NOMEM. Allocation-free once warm.
 */
int disco_hnsw_search(const disco_hnsw *h, const float *q, size_t k, size_t ef,
                      disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                      size_t *n, disco_status *st);

/* Exact k nearest by scanning every live allowed slot (the same results shape). */
int disco_hnsw_search_exact(const disco_hnsw *h, const float *q, size_t k,
                            disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                            size_t *n, disco_status *st);

/*
 * Exact k nearest among `cand` (ncand slots, any order; slots not live are
 * skipped), the same results shape as disco_hnsw_search.
 */
int disco_hnsw_search_slots(const disco_hnsw *h, const float *q, size_t k, const uint32_t *cand,
                            size_t ncand, uint32_t *slots, float *dists, size_t *n,
                            disco_status *st);

/*
 * The stored vector of a live slot (borrowed: valid until the slot is
 * re-added or the graph grows), or NULL.
 */
const float *disco_hnsw_vector(const disco_hnsw *h, uint32_t slot);

size_t disco_hnsw_count(const disco_hnsw *h);    /* live vectors */
size_t disco_hnsw_capacity(const disco_hnsw *h); /* slots allocated */
size_t disco_hnsw_bytes(const disco_hnsw *h);    /* memory held (graph and search scratch) */

/*
 * The traversal codes (4 bits a component, walked instead of the vectors on
 * layer 0; see hnsw_codes.c): 1 with their bytes per vector and the vector
 * count at which they are next retrained, or 0 when the graph has none
 * (inner product, more than 1,024 dimensions, or fewer than 1,024 vectors).
 */
int disco_hnsw_codes_info(const disco_hnsw *h, size_t *bytes_per_vector, size_t *retrain_at);

/*
 * Versioned, little-endian, CRC-32C-checked serialisation of the whole graph
 * to/from a buffer (disco_hnsw_serialize allocates *buf; caller frees with
 * free()). Serialising pauses inserts and searches while it copies.
 * Load fails cleanly on any malformed input: CORRUPT with the offset in the
 * message (bad size, magic, checksum, config, slot table, link or vector),
 * UNSUPPORTED for another format version, NOMEM, INVAL for NULL arguments.
 * A loaded graph is independent of `buf`.
 */
int disco_hnsw_serialize(const disco_hnsw *h, uint8_t **buf, size_t *len, disco_status *st);
int disco_hnsw_load(const uint8_t *buf, size_t len, disco_hnsw **out, disco_status *st);

#endif
