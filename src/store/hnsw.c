/*
 * hnsw.c - the HNSW graph: its memory, growth, inserts and removals.
 *
 * MEMORY (see hnsw_int.h for the block layout)
 *
 *   base   [blk 0][blk 1] ... [blk cap-1]   blk = hdr | links[2M] | vec[dim]
 *   upper  [u0][u1] ...                     uint32 per slot: 0, or the offset
 *                                           in upool of layers 1..L of links
 *
 * Growth doubles `cap` under the exclusive rwlock: new zeroed arrays, the
 * old contents copied, so pages never touched by a slot stay unmapped.
 * A base of BIG_BASE bytes or more is its own mapping, advised to use huge
 * pages: a walk jumps between random blocks, and with 4 KiB pages nearly
 * every jump would also miss the TLB.
 *
 * INSERT (Malkov & Yashunin, HNSW): draw a level L = floor(-ln U / ln M);
 * descend greedily from the entry point to layer L+1; on each layer L..0
 * run a beam search of width ef_construction, keep at most M neighbours
 * chosen by the diversity heuristic (a candidate is dropped when a kept one
 * is nearer to it than the new node is), link both ways, and when a
 * neighbour's list is full re-select its links by the same heuristic.
 *
 * A removed slot keeps its links and routes walks; adding to it again
 * writes the new vector and re-links it from a fresh search (exclusively,
 * as searches may be reading the old vector).
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

disco_hnsw_config disco_hnsw_config_default(size_t dim, disco_vmetric metric)
{
    disco_hnsw_config c = {dim, metric, 16, 200, 100};

    return c;
}

static int check_config(const disco_hnsw_config *c, disco_status *st)
{
    if (c->dim == 0 || c->dim > DISCO__HNSW_MAX_DIM)
        return disco_status_set(st, DISCO_ERR_INVAL, "dim", "dim %zu out of range 1..%d", c->dim,
                                DISCO__HNSW_MAX_DIM);
    if ((unsigned)c->metric > DISCO_VMETRIC_IP)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric", "unknown metric %d", (int)c->metric);
    if (c->M < 2 || c->M > DISCO__HNSW_MAX_M)
        return disco_status_set(st, DISCO_ERR_INVAL, "M", "M %zu out of range 2..%d", c->M,
                                DISCO__HNSW_MAX_M);
    if (c->ef_construction == 0 || c->ef_construction > (1u << 20))
        return disco_status_set(st, DISCO_ERR_INVAL, "ef_construction",
                                "ef_construction %zu out of range 1..%u", c->ef_construction,
                                1u << 20);
    return DISCO_OK;
}

static disco__hnsw_sync *sync_new(void)
{
    disco__hnsw_sync *y = calloc(1, sizeof *y);
    pthread_rwlockattr_t ra;

    if (!y)
        return NULL;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&y->grow, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&y->ep, NULL);
    pthread_mutex_init(&y->pool_lock, NULL);
    for (size_t i = 0; i < DISCO__HNSW_STRIPES; i++)
        atomic_flag_clear(&y->stripe[i]);
    return y;
}

disco_hnsw *disco__hnsw_alloc(const disco_hnsw_config *cfg, disco_status *st)
{
    disco_hnsw *h;

    if (check_config(cfg, st))
        return NULL;
    h = calloc(1, sizeof *h);
    if (!h || !(h->sync = sync_new())) {
        free(h);
        disco_status_set(st, DISCO_ERR_NOMEM, NULL, "hnsw: out of memory");
        return NULL;
    }
    h->dim = cfg->dim;
    h->metric = cfg->metric;
    h->M = cfg->M;
    h->M0 = 2 * cfg->M;
    h->efc = cfg->ef_construction;
    h->seed = cfg->seed;
    h->mult = 1.0 / log((double)cfg->M);
    h->vec_off = 4 * (1 + h->M0);
    h->block = h->vec_off + 4 * h->dim;
    disco__hnsw_codes_train(h); /* none yet: sets when the first training happens */
    return h;
}

int disco_hnsw_new(const disco_hnsw_config *cfg, disco_hnsw **out, disco_status *st)
{
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw new: NULL argument");
    *out = NULL;
    if (!cfg)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw new: NULL config");
    *out = disco__hnsw_alloc(cfg, st);
    return *out ? DISCO_OK : (st ? st->code : DISCO_ERR_INVAL);
}

#define BIG_BASE ((size_t)4 << 20)

/* Zeroed room for the base array: a mapping advised for huge pages when big. */
static uint8_t *base_alloc(size_t bytes)
{
    void *p;

    if (bytes < BIG_BASE)
        return calloc(1, bytes);
    p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: 4 KiB pages still work */
#endif
    return p;
}

static void base_free(uint8_t *base, size_t bytes)
{
    if (!base)
        return;
    if (bytes < BIG_BASE)
        free(base);
    else
        munmap(base, bytes);
}

void disco_hnsw_free(disco_hnsw *h)
{
    disco__hnsw_scratch *s, *next;

    if (!h)
        return;
    free(h->upper);
    free(h->upool);
    base_free(h->base, h->cap * h->block);
    disco__hnsw_codes_free(h->codes);
    for (s = h->sync->pool; s; s = next) {
        next = s->next;
        disco__hnsw_scratch_free(s);
    }
    pthread_rwlock_destroy(&h->sync->grow);
    pthread_mutex_destroy(&h->sync->ep);
    pthread_mutex_destroy(&h->sync->pool_lock);
    free(h->sync);
    free(h);
}

/* Makes room for `need` slots exactly (caller holds the rwlock exclusively). */
/*
 * Makes room for `words` words in upool (caller holds the rwlock
 * exclusively, or owns the graph alone); new room is zeroed.
 */
int disco__hnsw_upool_grow(disco_hnsw *h, size_t words)
{
    uint32_t *p;

    if (words <= h->upool_cap)
        return DISCO_OK;
    if (words > UINT32_MAX || !(p = realloc(h->upool, words * sizeof *p)))
        return DISCO_ERR_NOMEM;
    memset(p + h->upool_cap, 0, (words - h->upool_cap) * sizeof *p);
    if (h->upool_cap == 0)
        atomic_store(&h->upool_used, 1); /* offset 0 means "no upper layers" */
    h->upool = p;
    h->upool_cap = words;
    return DISCO_OK;
}

/*
 * Upper-layer words that `slots` nodes are expected to take, with 5 % to
 * spare: a node reaches layer L with probability M^-L and takes M + 1
 * words there, (M + 1) / (M - 1) words a node in all.
 */
static size_t upool_expected(const disco_hnsw *h, size_t slots)
{
    double words = (double)slots * (double)(h->M + 1) / (double)(h->M - 1) * 1.05;

    return (size_t)words + 2 * (h->M + 1) * DISCO__HNSW_MAX_LEVEL;
}

/* Makes room for `need` slots exactly (caller holds the rwlock exclusively). */
static int resize(disco_hnsw *h, size_t need)
{
    uint8_t *base;
    uint32_t *upper;

    if (disco__hnsw_codes_grow(h, need) || disco__hnsw_upool_grow(h, upool_expected(h, need)))
        return DISCO_ERR_NOMEM;
    base = need <= SIZE_MAX / h->block ? base_alloc(need * h->block) : NULL;
    upper = calloc(need, sizeof *upper);
    if (!base || !upper) {
        base_free(base, base ? need * h->block : 0);
        free(upper);
        return DISCO_ERR_NOMEM;
    }
    if (h->cap) {
        memcpy(base, h->base, h->cap * h->block);
        memcpy(upper, h->upper, h->cap * sizeof *upper);
    }
    base_free(h->base, h->cap * h->block);
    free(h->upper);
    h->base = base;
    h->upper = upper;
    h->cap = need;
    return DISCO_OK;
}

int disco__hnsw_grow(disco_hnsw *h, size_t need, disco_status *st)
{
    size_t ncap = h->cap ? h->cap : 16;

    if (need <= h->cap)
        return DISCO_OK;
    while (ncap < need)
        ncap *= 2;
    if (resize(h, ncap) && resize(h, need))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "hnsw: no memory for %zu slots", need);
    return DISCO_OK;
}

int disco_hnsw_reserve(disco_hnsw *h, size_t slots, disco_status *st)
{
    int rc = DISCO_OK;

    if (!h)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw reserve: NULL graph");
    if (slots > (size_t)DISCO__HNSW_NONE)
        return disco_status_set(st, DISCO_ERR_INVAL, "slots", "%zu slots exceed %u", slots,
                                DISCO__HNSW_NONE);
    pthread_rwlock_wrlock(&h->sync->grow);
    if (slots > h->cap && resize(h, slots))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "hnsw: no memory for %zu slots", slots);
    pthread_rwlock_unlock(&h->sync->grow);
    return rc;
}

/* --- inserts --------------------------------------------------------------- */

static int draw_level(disco_hnsw *h)
{
    uint64_t x = h->seed + 0x9E3779B97F4A7C15ull * (atomic_fetch_add(&h->rng_n, 1) + 1);
    double u, l;

    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    u = (double)((x >> 11) + 1) * 0x1p-53;
    l = -log(u) * h->mult;
    return l >= DISCO__HNSW_MAX_LEVEL ? DISCO__HNSW_MAX_LEVEL : (int)l;
}

/*
 * Keeps at most m of the n candidates in w (nearest first, d = distance to
 * the base node): a candidate nearer to a kept one than to the base is
 * dropped. The kept ones end at the front of w; returns how many.
 */
static size_t select_diverse(const disco_hnsw *h, disco__hnsw_pair *w, size_t n, size_t m)
{
    size_t kept = 0;

    if (n <= m)
        return n;
    for (size_t i = 0; i < n && kept < m; i++) {
        const float *v = disco__hnsw_vec(h, w[i].id);
        size_t j = 0;
        while (j < kept &&
               !(disco__hnsw_dist_within(h, v, disco__hnsw_vec(h, w[j].id), w[i].d) < w[i].d))
            j++;
        if (j == kept)
            w[kept++] = w[i];
    }
    return kept;
}

/* Publishes n ids as the links of `id` at `lev` (caller holds its stripe). */
static void set_links(const disco_hnsw *h, uint32_t id, int lev, const disco__hnsw_pair *w,
                      size_t n)
{
    uint32_t *l = disco__hnsw_links(h, id, lev);

    for (size_t i = 0; i < n; i++)
        __atomic_store_n(&l[1 + i], w[i].id, __ATOMIC_RELAXED);
    if (lev == 0)
        __atomic_store_n(l, (l[0] & ~DISCO__HNSW_CNT) | (uint32_t)n, __ATOMIC_RELEASE);
    else
        __atomic_store_n(l, (uint32_t)n, __ATOMIC_RELEASE);
}

static int cmp_pair(const void *a, const void *b)
{
    float x = ((const disco__hnsw_pair *)a)->d, y = ((const disco__hnsw_pair *)b)->d;

    return (x > y) - (x < y);
}

/* Adds the link j -> id at `lev`, re-selecting j's links when full. w: room for M0+1. */
static void link_back(const disco_hnsw *h, disco__hnsw_pair *w, uint32_t j, uint32_t id, int lev)
{
    size_t maxm = lev ? h->M : h->M0;
    uint32_t *l = disco__hnsw_links(h, j, lev);
    const float *vj = disco__hnsw_vec(h, j);
    size_t n;

    disco__hnsw_lock(h, j);
    n = l[0] & DISCO__HNSW_CNT;
    for (size_t i = 1; i <= n; i++)
        if (l[i] == id)
            goto unlock;
    if (n < maxm) {
        __atomic_store_n(&l[n + 1], id, __ATOMIC_RELAXED);
        __atomic_store_n(l, l[0] + 1, __ATOMIC_RELEASE);
        goto unlock;
    }
    w[0].id = id;
    w[0].d = disco__hnsw_dist(h, vj, disco__hnsw_vec(h, id));
    for (size_t i = 0; i < n; i++) {
        w[i + 1].id = l[i + 1];
        w[i + 1].d = disco__hnsw_dist(h, vj, disco__hnsw_vec(h, l[i + 1]));
    }
    qsort(w, n + 1, sizeof *w, cmp_pair);
    set_links(h, j, lev, w, select_diverse(h, w, n + 1, maxm));
unlock:
    disco__hnsw_unlock(h, j);
}

/* Links `id` at `lev` to the best of the n sorted candidates in s->work. */
static uint32_t connect(const disco_hnsw *h, disco__hnsw_scratch *s, uint32_t id, int lev, size_t n)
{
    disco__hnsw_pair *w = s->work;

    n = select_diverse(h, w, n, h->M);
    disco__hnsw_lock(h, id);
    set_links(h, id, lev, w, n);
    disco__hnsw_unlock(h, id);
    for (size_t i = 0; i < n; i++)
        link_back(h, w + n, w[i].id, id, lev);
    return w[0].id;
}

/* Links node `id` (vector and level set) into the graph; skip: id when re-added. */
static int insert(disco_hnsw *h, disco__hnsw_scratch *s, uint32_t id, int level, uint32_t skip)
{
    disco__hnsw_filter f = {NULL, NULL, skip, 0};
    const float *q = disco__hnsw_vec(h, id);
    uint64_t e;
    int top, held, rc = DISCO_OK;
    uint32_t cur;

    pthread_mutex_lock(&h->sync->ep);
    e = atomic_load(&h->entry);
    top = (int)(e >> 32) - 1;
    held = level > top;
    if (!held)
        pthread_mutex_unlock(&h->sync->ep);
    cur = (uint32_t)e;
    for (int lev = top; lev > level; lev--)
        cur = disco__hnsw_greedy(h, q, cur, lev);
    for (int lev = level < top ? level : top; lev >= 0; lev--) {
        size_t n;
        f.all = skip == DISCO__HNSW_NONE && atomic_load(&h->ndel) == 0;
        rc = lev ? disco__hnsw_search_layer(h, s, q, cur, lev, h->efc, &f)
                 : disco__hnsw_search_base(h, s, q, cur, h->efc, &f);
        n = rc ? 0 : disco__hnsw_sorted(s);
        if (rc || disco__hnsw_reserve_work(s, n + h->M0 + 2)) {
            rc = DISCO_ERR_NOMEM;
            break;
        }
        if (n)
            cur = connect(h, s, id, lev, n);
    }
    if (held) {
        atomic_store(&h->entry, (uint64_t)id | (uint64_t)(level + 1) << 32);
        pthread_mutex_unlock(&h->sync->ep);
    }
    return rc;
}

static int check_vec(const disco_hnsw *h, const float *vec, disco_status *st)
{
    double ss = 0.0;

    for (size_t i = 0; i < h->dim; i++) {
        if (!isfinite(vec[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "vec",
                                    "vector component %zu is not finite", i);
        ss += (double)vec[i] * (double)vec[i];
    }
    if (!(ss > 0.0) && h->metric == DISCO_VMETRIC_COSINE)
        return disco_status_set(st, DISCO_ERR_INVAL, "vec",
                                "vector is all zeros: it has no direction, so its cosine distance "
                                "to anything is undefined");
    return DISCO_OK;
}

static void store_vec(disco_hnsw *h, uint32_t slot, const float *vec)
{
    float *v = (float *)disco__hnsw_vec(h, slot);

    memcpy(v, vec, h->dim * sizeof *v);
    if (h->metric == DISCO_VMETRIC_COSINE)
        disco_vdist_normalize(v, h->dim);
}

/* Takes the rwlock shared with slot < cap, growing first if needed. */
static int lock_slot(disco_hnsw *h, uint32_t slot, disco_status *st)
{
    for (;;) {
        int rc;
        pthread_rwlock_rdlock(&h->sync->grow);
        if (slot < h->cap)
            return DISCO_OK;
        pthread_rwlock_unlock(&h->sync->grow);
        pthread_rwlock_wrlock(&h->sync->grow);
        rc = disco__hnsw_grow(h, (size_t)slot + 1, st);
        pthread_rwlock_unlock(&h->sync->grow);
        if (rc)
            return rc;
    }
}

/* Adds to a removed slot: new vector, fresh links (holds the rwlock exclusively). */
static int readd(disco_hnsw *h, uint32_t slot, const float *vec, disco_status *st)
{
    uint32_t *hdr = disco__hnsw_hdr(h, slot);
    disco__hnsw_scratch *s;
    int rc;

    pthread_rwlock_wrlock(&h->sync->grow);
    if ((*hdr & (DISCO__HNSW_OCC | DISCO__HNSW_DEL)) != (DISCO__HNSW_OCC | DISCO__HNSW_DEL)) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "slot", "slot %u is occupied", slot);
        goto unlock;
    }
    store_vec(h, slot, vec);
    disco__hnsw_codes_put(h, slot);
    __atomic_store_n(hdr, *hdr & ~DISCO__HNSW_DEL, __ATOMIC_RELEASE);
    atomic_fetch_sub(&h->ndel, 1);
    atomic_fetch_add(&h->live, 1);
    s = disco__hnsw_scratch_get(h);
    rc = s ? insert(h, s, slot, disco__hnsw_level(h, slot), slot) : DISCO_ERR_NOMEM;
    if (s)
        disco__hnsw_scratch_put(h, s);
    if (rc)
        disco_status_set(st, rc, NULL, "hnsw add: out of memory re-linking slot %u", slot);
unlock:
    pthread_rwlock_unlock(&h->sync->grow);
    return rc;
}

/* Claims an empty slot: OCC|PEND; returns its previous header. */
static uint32_t claim(disco_hnsw *h, uint32_t slot)
{
    uint32_t *hdr = disco__hnsw_hdr(h, slot), old;

    disco__hnsw_lock(h, slot);
    old = *hdr;
    if (!(old & DISCO__HNSW_OCC))
        __atomic_store_n(hdr, DISCO__HNSW_OCC | DISCO__HNSW_PEND, __ATOMIC_RELEASE);
    disco__hnsw_unlock(h, slot);
    return old;
}

/* Takes `words` words of upool: their offset, or 0 when it has no room. */
static uint32_t upool_take(disco_hnsw *h, size_t words)
{
    size_t used = atomic_load(&h->upool_used);

    do {
        if (used + words > h->upool_cap)
            return 0;
    } while (!atomic_compare_exchange_weak(&h->upool_used, &used, used + words));
    return (uint32_t)used;
}

#define UPOOL_FULL 1 /* fill: upool had no room; grow it and try again */

/* Fills a claimed slot and links it (caller holds the rwlock shared). */
static int fill(disco_hnsw *h, uint32_t slot, const float *vec, int level, disco_status *st)
{
    disco__hnsw_scratch *s = disco__hnsw_scratch_get(h);
    uint32_t up = 0;
    int rc;

    if (s && level > 0)
        up = upool_take(h, (size_t)level * (h->M + 1));
    if (!s || (level > 0 && !up)) {
        __atomic_store_n(disco__hnsw_hdr(h, slot), 0, __ATOMIC_RELEASE);
        if (!s)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "hnsw add: out of memory");
        disco__hnsw_scratch_put(h, s);
        return UPOOL_FULL;
    }
    store_vec(h, slot, vec);
    disco__hnsw_codes_put(h, slot);
    h->upper[slot] = up;
    __atomic_store_n(disco__hnsw_hdr(h, slot),
                     DISCO__HNSW_OCC | (uint32_t)level << DISCO__HNSW_LEVEL_SHIFT,
                     __ATOMIC_RELEASE);
    atomic_fetch_add(&h->live, 1);
    rc = insert(h, s, slot, level, DISCO__HNSW_NONE);
    disco__hnsw_scratch_put(h, s);
    if (rc)
        disco_status_set(st, rc, NULL, "hnsw add: out of memory linking slot %u", slot);
    return rc;
}

/* Room in upool for one more node of `level` (half as much again, at least). */
static int grow_upool(disco_hnsw *h, int level, disco_status *st)
{
    int rc;

    pthread_rwlock_wrlock(&h->sync->grow);
    size_t need = atomic_load(&h->upool_used) + (size_t)level * (h->M + 1);
    size_t more = h->upool_cap + h->upool_cap / 2;
    rc = disco__hnsw_upool_grow(h, need > more ? need : more);
    pthread_rwlock_unlock(&h->sync->grow);
    if (rc)
        return disco_status_set(st, rc, NULL, "hnsw add: no memory for upper-layer links");
    return DISCO_OK;
}

/* Retrains the traversal codes when the live count has reached the next mark. */
static void maybe_train(disco_hnsw *h)
{
    if (atomic_load(&h->live) < atomic_load(&h->codes_next))
        return;
    pthread_rwlock_wrlock(&h->sync->grow);
    if (atomic_load(&h->live) >= atomic_load(&h->codes_next))
        disco__hnsw_codes_train(h);
    pthread_rwlock_unlock(&h->sync->grow);
}

int disco_hnsw_add(disco_hnsw *h, uint32_t slot, const float *vec, disco_status *st)
{
    uint32_t old;
    int rc, level;

    if (!h || !vec)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw add: NULL argument");
    if (slot == DISCO__HNSW_NONE)
        return disco_status_set(st, DISCO_ERR_INVAL, "slot", "slot %u is reserved", slot);
    if ((rc = check_vec(h, vec, st)))
        return rc;
    level = draw_level(h);
    do {
        if ((rc = lock_slot(h, slot, st)))
            return rc;
        old = claim(h, slot);
        if (old & DISCO__HNSW_OCC)
            break;
        rc = fill(h, slot, vec, level, st);
        pthread_rwlock_unlock(&h->sync->grow);
    } while (rc == UPOOL_FULL && (rc = grow_upool(h, level, st)) == DISCO_OK);
    if (old & DISCO__HNSW_OCC) {
        pthread_rwlock_unlock(&h->sync->grow);
        if ((old & (DISCO__HNSW_DEL | DISCO__HNSW_PEND)) != DISCO__HNSW_DEL)
            return disco_status_set(st, DISCO_ERR_INVAL, "slot", "slot %u is occupied", slot);
        rc = readd(h, slot, vec, st);
    }
    if (rc == DISCO_OK)
        maybe_train(h);
    return rc;
}

int disco_hnsw_remove(disco_hnsw *h, uint32_t slot, disco_status *st)
{
    uint32_t *hdr;
    int rc = DISCO_OK;

    if (!h)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw remove: NULL graph");
    pthread_rwlock_rdlock(&h->sync->grow);
    if (slot >= h->cap) {
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "slot", "slot %u is empty", slot);
        goto unlock;
    }
    hdr = disco__hnsw_hdr(h, slot);
    disco__hnsw_lock(h, slot);
    if (!disco__hnsw_live_hdr(*hdr)) {
        disco__hnsw_unlock(h, slot);
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "slot", "slot %u is empty", slot);
        goto unlock;
    }
    __atomic_store_n(hdr, *hdr | DISCO__HNSW_DEL, __ATOMIC_RELEASE);
    disco__hnsw_unlock(h, slot);
    atomic_fetch_add(&h->ndel, 1);
    atomic_fetch_sub(&h->live, 1);
unlock:
    pthread_rwlock_unlock(&h->sync->grow);
    return rc;
}

/* --- accessors ------------------------------------------------------------- */

const float *disco_hnsw_vector(const disco_hnsw *h, uint32_t slot)
{
    const float *v = NULL;

    if (!h)
        return NULL;
    pthread_rwlock_rdlock(&h->sync->grow);
    if (slot < h->cap && disco__hnsw_live_hdr(disco__hnsw_load(disco__hnsw_hdr(h, slot))))
        v = disco__hnsw_vec(h, slot);
    pthread_rwlock_unlock(&h->sync->grow);
    return v;
}

size_t disco_hnsw_count(const disco_hnsw *h)
{
    return h ? atomic_load(&h->live) : 0;
}

size_t disco_hnsw_capacity(const disco_hnsw *h)
{
    size_t cap;

    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->sync->grow);
    cap = h->cap;
    pthread_rwlock_unlock(&h->sync->grow);
    return cap;
}

size_t disco_hnsw_bytes(const disco_hnsw *h)
{
    size_t b;

    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->sync->grow);
    b = sizeof *h + sizeof *h->sync + h->cap * (h->block + sizeof *h->upper) +
        h->upool_cap * sizeof *h->upool + disco__hnsw_codes_bytes(h);
    pthread_mutex_lock(&h->sync->pool_lock);
    for (const disco__hnsw_scratch *s = h->sync->pool; s; s = s->next)
        b += sizeof *s + (s->seen_cap + 63) / 64 * sizeof *s->seen +
             DISCO__HNSW_TRAIL * sizeof *s->trail + s->qa_cap * sizeof *s->qa +
             (s->cand.cap + s->top.cap + s->work_cap) * sizeof(disco__hnsw_pair);
    pthread_mutex_unlock(&h->sync->pool_lock);
    pthread_rwlock_unlock(&h->sync->grow);
    return b;
}
