/*
 * vindex.h - vector collections: HNSW + exact search, metadata filters,
 * persistence that survives kill -9.
 *
 *   <root>/<name>/
 *     LOCK           flock'd: one process opens a collection at a time
 *     config.json    dim, metric, M, ef_construction, format version
 *     index.dvx      snapshot: ids, namespaces, metadata, the HNSW graph (CRC-32C)
 *     log.dvl        records since the snapshot: upserts and deletes, CRC-32C
 *                    framed, fsynced before an upsert or delete returns
 *
 * Vectors are keyed by (namespace, id); ids are usually catalog resource
 * ids, so results link to resources. Upsert of an existing key replaces it;
 * deleted slots are reused. There is no fixed capacity.
 *
 * Filtered search is correct at any selectivity: the share of vectors a
 * filter allows is estimated (inverted index of metadata terms, else a
 * sample); when few pass, the allowed vectors are searched exactly, else the
 * graph is searched with the filter applied during the walk and a wider beam.
 *
 * Threads: a handle may be shared. Searches, fetches and stats run side by
 * side; an upsert, delete or snapshot holds the handle exclusively while it
 * logs and applies, so a search sees each vector either before or after a
 * concurrent upsert of it, never half-written.
 */
#ifndef DISCO_VINDEX_H
#define DISCO_VINDEX_H

#include "disco/err.h"
#include "disco/vdist.h"
#include "disco/vfilter.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DISCO_VINDEX_ID_MAX 128  /* bytes of an id or a namespace */
#define DISCO_VINDEX_NAME_MAX 64 /* collection names: [a-z0-9_-]{1,64} */
#define DISCO_VINDEX_DIM_MAX 65536

typedef struct disco_vindex disco_vindex;

typedef struct disco_vindex_config {
    size_t dim;
    disco_vmetric metric;
    size_t M;               /* default 16 */
    size_t ef_construction; /* default 200 */
} disco_vindex_config;

disco_vindex_config disco_vindex_config_default(size_t dim, disco_vmetric metric);

/* Creates collection `name` under `root`. EXISTS, INVAL (name, dim, metric). */
int disco_vindex_create(const char *root, const char *name, const disco_vindex_config *cfg,
                        disco_status *st);

/* Opens it: loads the snapshot (mmap) and replays the log (a torn last record is cut). */
int disco_vindex_open(const char *root, const char *name, disco_vindex **out, disco_status *st);

/* Snapshots when the log has grown, then closes. NULL is a no-op. */
void disco_vindex_close(disco_vindex *v);

/* Collections under `root`: [{"name", "dim", "metric", "count"}], by name; count is
 * null for a collection open elsewhere (counting opens each collection). */
int disco_vindex_list(const char *root, json_t **out, disco_status *st);

/* Removes a collection and its files. */
int disco_vindex_drop(const char *root, const char *name, disco_status *st);

typedef struct disco_vitem {
    const char *ns; /* NULL or "": the default namespace */
    const char *id;
    const float *vec;       /* dim floats, finite */
    const json_t *metadata; /* NULL or a flat object (disco_vmeta_check) */
    size_t dim;             /* floats at vec when the caller knows it (checked); 0: trusted */
} disco_vitem;

/*
 * Inserts or replaces n items: all are checked first (INVAL names the item
 * and field; nothing is written then), logged and fsynced, then added, on
 * `threads` threads (0: one per CPU). Counts may be NULL.
 */
int disco_vindex_upsert(disco_vindex *v, const disco_vitem *items, size_t n, size_t threads,
                        size_t *inserted, size_t *replaced, disco_status *st);

/* The items of these ids in `ns`: [{"id", "values", "metadata"}], missing ones skipped. */
int disco_vindex_fetch(disco_vindex *v, const char *ns, const char *const *ids, size_t n,
                       json_t **out, disco_status *st);

/* Deletes by ids, or every item of `ns` a filter matches (NULL filter: all of `ns`). */
int disco_vindex_delete(disco_vindex *v, const char *ns, const char *const *ids, size_t n,
                        size_t *deleted, disco_status *st);
int disco_vindex_delete_filter(disco_vindex *v, const char *ns, const disco_vfilter *f,
                               size_t *deleted, disco_status *st);

typedef struct disco_vquery {
    const char *ns;
    const float *vec;
    size_t k;                    /* 1..10000 */
    size_t ef;                   /* 0: max(k, 64) */
    const disco_vfilter *filter; /* NULL: none */
    int include_values, include_metadata;
    int exact;  /* force exact search */
    size_t dim; /* floats at vec when known (checked); 0: trusted */
} disco_vquery;

/*
 * Top k: {"matches": [{"id", "score", "distance", "metadata"?, "values"?}],
 * "strategy": "graph"|"graph-filtered"|"exact", "selectivity": estimate}.
 * score is the similarity for cosine (1 - distance) and ip (the dot
 * product), and -distance for l2, so higher is always better.
 */
int disco_vindex_search(disco_vindex *v, const disco_vquery *q, json_t **out, disco_status *st);

/* Many queries on `threads` threads: {"results": [one search result each]}. */
int disco_vindex_search_batch(disco_vindex *v, const disco_vquery *qs, size_t n, size_t threads,
                              json_t **out, disco_status *st);

/* {"name","dim","metric","count","deleted_slots","slots","bytes","namespaces": {ns: count},
 * "isa"}; slots: the slot table's size (live + deleted_slots). */
int disco_vindex_stats(disco_vindex *v, json_t **out, disco_status *st);

/* Writes a new snapshot (temp + fsync + rename) and empties the log. */
int disco_vindex_snapshot(disco_vindex *v, disco_status *st);

/* The stored vector of (ns, id) copied into out (dim floats; unit length for cosine);
 * NOTFOUND. */
int disco_vindex_get(disco_vindex *v, const char *ns, const char *id, float *out, disco_status *st);

size_t disco_vindex_dim(const disco_vindex *v);
disco_vmetric disco_vindex_metric(const disco_vindex *v);

#endif
