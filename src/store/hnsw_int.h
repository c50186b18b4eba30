/*
 * hnsw_int.h - internals shared by hnsw.c (graph and inserts), hnsw_search.c
 * (walks, scratch) and hnsw_io.c (serialisation).
 *
 * MEMORY LAYOUT
 *
 *   base: one flat array of `cap` fixed-size blocks, slot i at base + i*block
 *
 *   +-----+----------------------+------------------------+
 *   | hdr | links[M0] (uint32)   | vec[dim] (float)       |   block = 4 + 4*M0 + 4*dim
 *   +-----+----------------------+------------------------+
 *     hdr: bits 0..15 link count at layer 0, OCC (slot holds a vector),
 *          DEL (removed: still routes, never returned), PEND (being added),
 *          bits 19..23 the node's top layer L (0 for most)
 *
 *   upper[cap]   uint32: 0, or for a node of level L >= 1 the offset in
 *                upool of its links on layers 1..L:
 *                   +-------+---------+-------+---------+
 *                   | n (1) | ids[M]  | n (2) | ids[M]  | ... layers 1..L
 *                   +-------+---------+-------+---------+
 *   upool        one array for all of them (word 0 unused); inserts take
 *                room with a compare-and-swap on upool_used, and it grows
 *                only under sync->grow held exclusively
 *
 * The links of a node sit just before its vector, so expanding a node and
 * scoring its neighbours touch one block each.
 *
 *   codes        NULL, or 4-bit codes of every slot (hnsw_codes.c): searches
 *                walk layer 0 on them and rerank what they keep exactly
 *
 * CONCURRENCY
 *   sync->grow   rwlock: searches and inserts hold it shared; growing the
 *                arrays, re-adding a removed slot and serialising hold it
 *                exclusively (writers preferred).
 *   sync->stripe spinlocks by slot: a writer holds one at a time while it
 *                rewrites a link list. Readers never lock: link counts are
 *                loaded with acquire, ids with relaxed atomics, so a list
 *                being rewritten yields old or new ids, all valid nodes.
 *   sync->ep     mutex serialising changes of the entry point.
 */
#ifndef DISCO_HNSW_INT_H
#define DISCO_HNSW_INT_H

#include "disco/hnsw.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define DISCO__HNSW_MAX_LEVEL 30
#define DISCO__HNSW_MAX_M 1024
#define DISCO__HNSW_MAX_DIM 65536
#define DISCO__HNSW_STRIPES 4096
#define DISCO__HNSW_NONE UINT32_MAX
#define DISCO__HNSW_TRAIL 4096

#define DISCO__HNSW_CNT 0xFFFFu
#define DISCO__HNSW_OCC (1u << 16)
#define DISCO__HNSW_DEL (1u << 17)
#define DISCO__HNSW_PEND (1u << 18)
#define DISCO__HNSW_LEVEL_SHIFT 19
#define DISCO__HNSW_LEVEL_MASK (0x1Fu << DISCO__HNSW_LEVEL_SHIFT)

/* A candidate: distance to the query and slot. */
typedef struct disco__hnsw_pair {
    float d;
    uint32_t id;
} disco__hnsw_pair;

/* A binary heap of pairs (min- or max-ordered by its user). */
typedef struct disco__hnsw_heap {
    disco__hnsw_pair *a;
    size_t n, cap;
} disco__hnsw_heap;

/* Per-search scratch, kept in a pool and reused: no allocation per search. */
typedef struct disco__hnsw_scratch {
    struct disco__hnsw_scratch *next;
    uint64_t *seen;         /* visited slots, one bit each */
    size_t seen_cap;        /* slots it has room for */
    uint32_t *trail;        /* words of `seen` set by this walk, to clear for the next */
    size_t trail_n;         /* how many; past DISCO__HNSW_TRAIL the next walk clears all */
    disco__hnsw_heap cand;  /* min-heap: to expand */
    disco__hnsw_heap top;   /* max-heap: best so far */
    disco__hnsw_pair *work; /* sorting / pruning room */
    size_t work_cap;
    float *q;  /* normalised query (cosine) */
    float *qa; /* query against the codes: lo - q by lane (32 * groups) */
    size_t qa_cap;
    float rq; /* proj: norm of the query's part outside the projections */
    int skim; /* the walk of layer 0 may skip exact scores on projected codes */
} disco__hnsw_scratch;

/*
 * Traversal codes: each vector component as 4 bits on a per-component
 * scale (lo + code * step), packed in the lane order of disco_vdist_u4.
 * One table per training; a graph swaps it only under sync->grow held
 * exclusively.
 */
typedef struct disco__hnsw_codes {
    int proj;       /* 0: codes of the components, walked instead of the vectors;
                       1: codes of projections, to skip exact scores (long vectors) */
    size_t n;       /* values coded per slot: dim, or the projections */
    size_t groups;  /* lane groups of 32 */
    size_t stride;  /* code bytes per slot: ceil(n / 2) */
    size_t cap;     /* slots with room in `code` (and `rx`) */
    float *lo;      /* [n] */
    float *inv;     /* [n] 1 / step, 0 where a value never varied */
    float *step;    /* [32 * groups] in lane order, 0 on unused lanes */
    uint32_t *lane; /* [n] lane of each value */
    uint8_t *code;  /* cap * stride bytes, plus 16 so any group reads in bounds */
    float *mean;    /* proj: [dim] mean of the fitted sample */
    float *rot;     /* proj: [n][dim] leading principal directions */
    float *rmean;   /* proj: [n] rot . mean */
    float *rx;      /* proj: [cap] norm of each vector's part outside the projections */
    float bias;     /* proj: expected squared error of a code distance */
    float rho;      /* proj: correlation taken between two near vectors' rests */
    float sigma;    /* proj: rounding error of one coded value, typical */
    size_t fitted;  /* proj: live count when mean and rot were fitted */
} disco__hnsw_codes;

typedef struct disco__hnsw_sync {
    pthread_rwlock_t grow;
    pthread_mutex_t ep;
    pthread_mutex_t pool_lock;
    disco__hnsw_scratch *pool;
    atomic_flag stripe[DISCO__HNSW_STRIPES];
} disco__hnsw_sync;

struct disco_hnsw {
    size_t dim, M, M0, efc;
    disco_vmetric metric;
    uint64_t seed;
    double mult;    /* level = floor(-ln(u) * mult) */
    size_t block;   /* bytes per slot in base */
    size_t vec_off; /* offset of the vector in a block */
    uint8_t *base;
    uint32_t *upper; /* [cap] offsets in upool */
    uint32_t *upool;
    size_t upool_cap;
    _Atomic size_t upool_used;
    size_t cap;
    _Atomic size_t live;
    _Atomic size_t ndel;       /* slots marked removed */
    _Atomic uint64_t entry;    /* 0: empty, else ep | (top level + 1) << 32 */
    _Atomic uint64_t rng_n;    /* levels drawn so far */
    disco__hnsw_codes *codes;  /* NULL until trained, and always for IP or dim > 1024 */
    _Atomic size_t codes_next; /* live count at which codes are (re)trained */
    disco__hnsw_sync *sync;
};

/* Filter for a layer walk: which nodes may enter the results. */
typedef struct disco__hnsw_filter {
    disco_hnsw_allow_fn allow;
    void *user;
    uint32_t skip; /* never a result (the node being re-added), or NONE */
    int all;       /* 1: every node counts (no removals, no allow, no skip) */
} disco__hnsw_filter;

static inline uint32_t *disco__hnsw_hdr(const disco_hnsw *h, uint32_t id)
{
    return (uint32_t *)(void *)(h->base + (size_t)id * h->block);
}

static inline const float *disco__hnsw_vec(const disco_hnsw *h, uint32_t id)
{
    return (const float *)(const void *)(h->base + (size_t)id * h->block + h->vec_off);
}

/* The link list of `id` at `lev`: [count][ids...] (count masked at layer 0). */
static inline uint32_t *disco__hnsw_links(const disco_hnsw *h, uint32_t id, int lev)
{
    if (lev == 0)
        return disco__hnsw_hdr(h, id);
    return h->upool + h->upper[id] + (size_t)(lev - 1) * (h->M + 1);
}

/* The top layer of an occupied slot. */
static inline int disco__hnsw_level(const disco_hnsw *h, uint32_t id)
{
    return (int)((*disco__hnsw_hdr(h, id) & DISCO__HNSW_LEVEL_MASK) >> DISCO__HNSW_LEVEL_SHIFT);
}

static inline uint32_t disco__hnsw_load(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t disco__hnsw_id(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline int disco__hnsw_live_hdr(uint32_t hdr)
{
    return (hdr & (DISCO__HNSW_OCC | DISCO__HNSW_DEL | DISCO__HNSW_PEND)) == DISCO__HNSW_OCC;
}

/*
 * Distances as the graph keeps them. Cosine works on unit vectors (zero
 * vectors are refused), where 1 - cos(a, b) = |a - b|^2 / 2: squared L2 for
 * both, so a walk can stop scoring a candidate as soon as its partial sum
 * passes the worst distance it keeps (disco__hnsw_dist_within).
 */
static inline float disco__hnsw_dist(const disco_hnsw *h, const float *a, const float *b)
{
    switch (h->metric) {
    case DISCO_VMETRIC_L2:
        return disco_vdist_l2sq(a, b, h->dim);
    case DISCO_VMETRIC_IP:
        return -disco_vdist_dot(a, b, h->dim);
    default:
        return 0.5f * disco_vdist_l2sq(a, b, h->dim);
    }
}

/* disco__hnsw_dist when it is at most `bound`, else some value above bound. */
static inline float disco__hnsw_dist_within(const disco_hnsw *h, const float *a, const float *b,
                                            float bound)
{
    switch (h->metric) {
    case DISCO_VMETRIC_L2:
        return disco_vdist_l2sq_bounded(a, b, h->dim, bound);
    case DISCO_VMETRIC_IP:
        return -disco_vdist_dot(a, b, h->dim);
    default:
        return 0.5f * disco_vdist_l2sq_bounded(a, b, h->dim, 2.0f * bound);
    }
}

static inline void disco__hnsw_lock(const disco_hnsw *h, uint32_t id)
{
    atomic_flag *f = &h->sync->stripe[id % DISCO__HNSW_STRIPES];

    while (atomic_flag_test_and_set_explicit(f, memory_order_acquire)) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static inline void disco__hnsw_unlock(const disco_hnsw *h, uint32_t id)
{
    atomic_flag_clear_explicit(&h->sync->stripe[id % DISCO__HNSW_STRIPES], memory_order_release);
}

/* hnsw.c */
disco_hnsw *disco__hnsw_alloc(const disco_hnsw_config *cfg, disco_status *st);
int disco__hnsw_grow(disco_hnsw *h, size_t need, disco_status *st);
int disco__hnsw_upool_grow(disco_hnsw *h, size_t words);

/* hnsw_codes.c */
void disco__hnsw_codes_free(disco__hnsw_codes *c);
int disco__hnsw_codes_grow(disco_hnsw *h, size_t cap);
void disco__hnsw_codes_put(const disco_hnsw *h, uint32_t slot);
void disco__hnsw_codes_train(disco_hnsw *h);
int disco__hnsw_codes_query(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q);
size_t disco__hnsw_codes_bytes(const disco_hnsw *h);
float disco__hnsw_codes_guess(const disco_hnsw *h, const disco__hnsw_scratch *s, uint32_t id);

/* hnsw_pca.c */
int disco__hnsw_pca(const disco_hnsw *h, size_t p, float *mean, float *rot);

static inline float disco__hnsw_code_dist(const disco_hnsw *h, const disco__hnsw_scratch *s,
                                          uint32_t id)
{
    const disco__hnsw_codes *c = h->codes;

    return disco_vdist_u4(s->qa, c->step, c->code + (size_t)id * c->stride, c->n);
}

/* hnsw_search.c */
disco__hnsw_scratch *disco__hnsw_scratch_get(const disco_hnsw *h);
void disco__hnsw_scratch_put(const disco_hnsw *h, disco__hnsw_scratch *s);
void disco__hnsw_scratch_free(disco__hnsw_scratch *s);
int disco__hnsw_reserve_work(disco__hnsw_scratch *s, size_t n);
uint32_t disco__hnsw_greedy(const disco_hnsw *h, const float *q, uint32_t cur, int lev);
int disco__hnsw_search_layer(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q,
                             uint32_t ep, int lev, size_t ef, const disco__hnsw_filter *f);
int disco__hnsw_search_base(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q,
                            uint32_t ep, size_t ef, const disco__hnsw_filter *f);
size_t disco__hnsw_sorted(disco__hnsw_scratch *s);

#endif
