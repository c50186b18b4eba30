/*
 * vindex_int.h - internals shared by the vector collection's files.
 *
 *   vindex.c         create/open/close/list/drop, the key map, slots, applying changes
 *   vindex_write.c   upsert and delete: checks, logging
 *   vindex_log.c     byte buffers, log.dvl: append, replay, torn-tail repair
 *   vindex_meta.c    config.json, index.dvx snapshots, the term index, fetch, stats
 *   vindex_search.c  selectivity estimates, strategy choice, search, batch search
 *
 * DESIGN
 *   A key (namespace, id) maps to a slot of the HNSW graph through an
 *   open-addressing table of slot numbers (linear probing, tombstones).
 *   Each slot holds its key and metadata; freed slots go on a stack and are
 *   taken again before the slot table grows.
 *
 *   One rwlock guards the handle: searches, fetches and stats take it
 *   shared; upserts, deletes and snapshots take it exclusively while they
 *   log and apply, so a search sees a vector either before or after an
 *   upsert of it.
 *
 *   The term index counts, per namespace, the live vectors whose metadata
 *   holds each string or boolean value of each field (a JSON object keyed
 *   "ns \x1f field \x1f s:value"), for selectivity estimates. Its postings
 *   list, per namespace, field and string, boolean or number value
 *   ("... \x1f n:value"), the slots holding it in ascending order, so that a
 *   search visits only the slots its $eq / $in conjuncts allow.
 */
#ifndef DISCO_VINDEX_INT_H
#define DISCO_VINDEX_INT_H

#include "disco/hnsw.h"
#include "disco/vindex.h"

#include <pthread.h>
#include <stdint.h>

#define VX_LOG_NAME "log.dvl"
#define VX_SNAP_NAME "index.dvx"
#define VX_CONFIG_NAME "config.json"
#define VX_FORMAT 1
#define VX_LOG_SNAPSHOT_BYTES ((uint64_t)8 << 20) /* close snapshots past this */

enum { VX_REC_UPSERT = 1, VX_REC_DELETE = 2 };

typedef struct vx_buf {
    uint8_t *p;
    size_t len, cap;
    int oom;
} vx_buf;

typedef struct vx_rd {
    const uint8_t *p;
    size_t len, off;
} vx_rd;

typedef struct vx_slot {
    char *ns; /* NULL: free slot; "" is the default namespace */
    char *id;
    json_t *meta;  /* NULL or an object */
    uint32_t pend; /* position + 1 in the batch being applied, else 0 */
} vx_slot;

/* The slots holding one term, ascending. */
typedef struct vx_post {
    uint32_t *s;
    size_t n, cap;
} vx_post;

struct disco_vindex {
    char *dir;
    char name[DISCO_VINDEX_NAME_MAX + 1];
    disco_vindex_config cfg;
    int lockfd, logfd;
    uint64_t log_bytes;
    pthread_rwlock_t lock;
    disco_hnsw *h;
    vx_slot *slots;
    size_t nslots, capslots, live;
    uint32_t *freel;
    size_t nfree, capfree;
    uint32_t *tab; /* slot + 1; 0 empty; UINT32_MAX tombstone */
    size_t tabcap, tabused;
    json_t *terms;   /* term key -> count */
    json_t *nscount; /* namespace -> live count */
    json_t *postix;  /* posting key -> index in posts */
    vx_post *posts;
    size_t nposts, capposts;
    int post_bad; /* a posting could not grow: searches do not use them */
};

/* One item of an upsert as it is applied (from a call or from the log). */
typedef struct vx_item {
    const char *ns, *id;
    const float *vec;
    json_t *meta; /* borrowed; copied when stored */
} vx_item;

/* vindex.c */
int disco__vx_map_add(disco_vindex *v, uint32_t slot);
int disco__vx_lookup(const disco_vindex *v, const char *ns, const char *id, uint32_t *slot);
int disco__vx_apply_upsert(disco_vindex *v, const vx_item *items, size_t n, size_t threads,
                           size_t *inserted, size_t *replaced, disco_status *st);
int disco__vx_apply_delete(disco_vindex *v, const char *ns, const char *id);
int disco__vx_name_check(const char *name, disco_status *st);
char *disco__vx_path(const char *dir, const char *file);
void disco__vx_free(disco_vindex *v);
int disco__vx_lock_file(const char *dir, const char *name, int *fd, disco_status *st);
const char *disco__vx_ns(const char *ns);

/* vindex_log.c */
void disco__vx_put(vx_buf *b, const void *p, size_t n);
void disco__vx_put_u8(vx_buf *b, uint8_t x);
void disco__vx_put_u16(vx_buf *b, uint16_t x);
void disco__vx_put_u32(vx_buf *b, uint32_t x);
void disco__vx_put_u64(vx_buf *b, uint64_t x);
void disco__vx_put_str16(vx_buf *b, const char *s);
void disco__vx_put_meta(vx_buf *b, const json_t *meta);
void disco__vx_put_vec(vx_buf *b, const float *vec, size_t dim);
int disco__vx_get(vx_rd *r, void *out, size_t n);
int disco__vx_get_u16(vx_rd *r, uint16_t *x);
int disco__vx_get_u32(vx_rd *r, uint32_t *x);
int disco__vx_get_u64(vx_rd *r, uint64_t *x);
int disco__vx_get_str16(vx_rd *r, char **out);
int disco__vx_get_meta(vx_rd *r, json_t **out);
uint32_t disco__vx_le32(const uint8_t *p);
int disco__vx_log_create(const char *dir, disco_status *st);
int disco__vx_log_open(disco_vindex *v, disco_status *st);
int disco__vx_log_append(disco_vindex *v, const vx_buf *rec, disco_status *st);
int disco__vx_log_reset(disco_vindex *v, disco_status *st);
int disco__vx_fsync_dir(const char *dir);

/* vindex_meta.c */
int disco__vx_config_write(const char *dir, const disco_vindex_config *cfg, disco_status *st);
int disco__vx_config_read(const char *dir, disco_vindex_config *cfg, disco_status *st);
int disco__vx_snapshot_load(disco_vindex *v, disco_status *st);
int disco__vx_snapshot_write(disco_vindex *v, disco_status *st);
int disco__vx_terms_update(disco_vindex *v, const char *ns, const json_t *meta, uint32_t slot,
                           int delta);
const vx_post *disco__vx_posting(const disco_vindex *v, const char *ns, const char *field,
                                 const json_t *value);
size_t disco__vx_ns_count(const disco_vindex *v, const char *ns);
size_t disco__vx_term_count(const disco_vindex *v, const char *ns, const char *field,
                            const json_t *value, int *known);
json_t *disco__vx_item_json(const disco_vindex *v, uint32_t slot, int values, int meta);

#endif
