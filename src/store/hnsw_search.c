/*
 * hnsw_search.c - walking the graph: greedy descent through the upper
 * layers, the beam search of one layer, exact scans, and the per-search
 * scratch that makes a search allocation-free once warm.
 *
 * SCRATCH (one per concurrent search, pooled on the graph)
 *
 *   seen       one bit per slot: visited by this walk; the words a walk
 *              sets are noted in `trail` (up to DISCO__HNSW_TRAIL) and the
 *              next walk clears just those, or all of them after a walk
 *              that set more
 *   cand       min-heap of pairs {dist, slot} still to expand
 *   top        max-heap of the ef best results (root: the worst kept)
 *   work       room to sort results and prune link lists
 *
 * A layer search expands the nearest candidate until it is farther than the
 * worst of `ef` results. Nodes that fail the filter (removed, disallowed)
 * are still expanded, so they route the walk, but never enter `top`.
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PREFETCH_AHEAD 4 /* fresh neighbours requested ahead of scoring */
#define PREFETCH_LINES 8 /* cache lines of a vector requested at most */
#define SKIM_SLACK                                                                                 \
    0.9f /* a neighbour is skipped when 90 % of its guessed distance is past the bound */

/* --- heaps ----------------------------------------------------------------- */

static int heap_room(disco__hnsw_heap *hp)
{
    size_t cap = hp->cap ? hp->cap * 2 : 64;
    disco__hnsw_pair *a;

    if (hp->n < hp->cap)
        return 0;
    a = realloc(hp->a, cap * sizeof *a);
    if (!a)
        return -1;
    hp->a = a;
    hp->cap = cap;
    return 0;
}

/* Max-heap when max != 0, else min-heap; `max` is a constant at each call. */
static inline int before(float x, float y, int max)
{
    return max ? x > y : x < y;
}

static inline int heap_push(disco__hnsw_heap *hp, float d, uint32_t id, int max)
{
    size_t i;

    if (heap_room(hp))
        return -1;
    i = hp->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(d, hp->a[p].d, max))
            break;
        hp->a[i] = hp->a[p];
        i = p;
    }
    hp->a[i].d = d;
    hp->a[i].id = id;
    return 0;
}

static inline disco__hnsw_pair heap_pop(disco__hnsw_heap *hp, int max)
{
    disco__hnsw_pair root = hp->a[0], last = hp->a[--hp->n];
    size_t i = 0, n = hp->n;

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(hp->a[c + 1].d, hp->a[c].d, max))
            c++;
        if (!before(hp->a[c].d, last.d, max))
            break;
        hp->a[i] = hp->a[c];
        i = c;
    }
    if (n)
        hp->a[i] = last;
    return root;
}

/* --- scratch --------------------------------------------------------------- */

int disco__hnsw_reserve_work(disco__hnsw_scratch *s, size_t n)
{
    disco__hnsw_pair *w;

    if (n <= s->work_cap)
        return 0;
    w = realloc(s->work, n * sizeof *w);
    if (!w)
        return -1;
    s->work = w;
    s->work_cap = n;
    return 0;
}

void disco__hnsw_scratch_free(disco__hnsw_scratch *s)
{
    if (!s)
        return;
    free(s->seen);
    free(s->trail);
    free(s->cand.a);
    free(s->top.a);
    free(s->work);
    free(s->q);
    free(s->qa);
    free(s);
}

/* A scratch sized for the graph as it is now (caller holds sync->grow). */
disco__hnsw_scratch *disco__hnsw_scratch_get(const disco_hnsw *h)
{
    disco__hnsw_sync *y = h->sync;
    disco__hnsw_scratch *s;

    pthread_mutex_lock(&y->pool_lock);
    s = y->pool;
    if (s)
        y->pool = s->next;
    pthread_mutex_unlock(&y->pool_lock);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || !(s->q = malloc(h->dim * sizeof *s->q))) {
            disco__hnsw_scratch_free(s);
            return NULL;
        }
    }
    if (!s->trail && !(s->trail = malloc(DISCO__HNSW_TRAIL * sizeof *s->trail))) {
        disco__hnsw_scratch_free(s);
        return NULL;
    }
    if (s->seen_cap < h->cap) {
        free(s->seen);
        s->seen_cap = 0;
        s->seen = calloc((h->cap + 63) / 64, sizeof *s->seen);
        if (!s->seen) {
            disco__hnsw_scratch_free(s);
            return NULL;
        }
        s->seen_cap = h->cap;
        s->trail_n = 0;
    }
    return s;
}

void disco__hnsw_scratch_put(const disco_hnsw *h, disco__hnsw_scratch *s)
{
    disco__hnsw_sync *y = h->sync;

    pthread_mutex_lock(&y->pool_lock);
    s->next = y->pool;
    y->pool = s;
    pthread_mutex_unlock(&y->pool_lock);
}

/* Forgets the previous walk's visits. */
static void clear_seen(disco__hnsw_scratch *s)
{
    if (s->trail_n > DISCO__HNSW_TRAIL)
        memset(s->seen, 0, (s->seen_cap + 63) / 64 * sizeof *s->seen);
    else
        for (size_t i = 0; i < s->trail_n; i++)
            s->seen[s->trail[i]] = 0;
    s->trail_n = 0;
}

/* Marks `id` visited; 1 when it already was. */
static inline int visit(disco__hnsw_scratch *s, uint32_t id)
{
    uint64_t *w = s->seen + id / 64, bit = (uint64_t)1 << (id % 64);

    if (*w & bit)
        return 1;
    if (*w == 0) {
        if (s->trail_n < DISCO__HNSW_TRAIL)
            s->trail[s->trail_n] = id / 64;
        s->trail_n++;
    }
    *w |= bit;
    return 0;
}

/* --- walks ----------------------------------------------------------------- */

uint32_t disco__hnsw_greedy(const disco_hnsw *h, const float *q, uint32_t cur, int lev)
{
    float d = disco__hnsw_dist(h, q, disco__hnsw_vec(h, cur));
    int changed = 1;

    while (changed) {
        const uint32_t *l = disco__hnsw_links(h, cur, lev);
        uint32_t n = disco__hnsw_load(l) & DISCO__HNSW_CNT;
        changed = 0;
        for (uint32_t i = 1; i <= n; i++) {
            uint32_t nb = disco__hnsw_id(l + i);
            float dn = disco__hnsw_dist_within(h, q, disco__hnsw_vec(h, nb), d);
            if (dn < d) {
                d = dn;
                cur = nb;
                changed = 1;
            }
        }
    }
    return cur;
}

static inline int accepted(const disco_hnsw *h, const disco__hnsw_filter *f, uint32_t id)
{
    if (f->all)
        return 1;
    if (id == f->skip || !disco__hnsw_live_hdr(disco__hnsw_load(disco__hnsw_hdr(h, id))))
        return 0;
    return !f->allow || f->allow(f->user, id);
}

/*
 * Asks for a neighbour's visit bits and the first lines of its vector (up to
 * PREFETCH_LINES: enough for a 100-d vector whole, and for the part of a
 * longer one that a bounded distance usually reads before it stops).
 */
static inline void prefetch_node(const disco_hnsw *h, const disco__hnsw_scratch *s, uint32_t id)
{
    const char *v = (const char *)disco__hnsw_vec(h, id);
    size_t lines = (h->dim * sizeof(float) + 63) / 64;

    __builtin_prefetch(s->seen + id / 64);
    if (lines > PREFETCH_LINES)
        lines = PREFETCH_LINES;
    for (size_t i = 0; i < lines; i++)
        __builtin_prefetch(v + 64 * i);
}

/* Offers neighbour `nb` at distance d; returns -1 when out of memory. */
static inline int offer(const disco_hnsw *h, disco__hnsw_scratch *s, const disco__hnsw_filter *f,
                        size_t ef, float d, uint32_t nb, float *bound)
{
    if (s->top.n >= ef && !(d < *bound))
        return 0;
    if (heap_push(&s->cand, d, nb, 0))
        return -1;
    if (!accepted(h, f, nb))
        return 0;
    if (heap_push(&s->top, d, nb, 1))
        return -1;
    if (s->top.n > ef)
        heap_pop(&s->top, 1);
    *bound = s->top.a[0].d;
    return 0;
}

/*
 * The unvisited neighbours of `id` at `lev` into fresh[] (marking them),
 * from the visit bits alone: a small array, mostly cached, so no memory traffic
 * goes to neighbours already seen. Returns how many.
 */
static uint32_t take_fresh(const disco_hnsw *h, disco__hnsw_scratch *s, uint32_t id, int lev,
                           uint32_t *fresh)
{
    const uint32_t *l = disco__hnsw_links(h, id, lev);
    uint32_t n = disco__hnsw_load(l) & DISCO__HNSW_CNT, m = 0;

    if (n > DISCO__HNSW_MAX_M * 2) /* never for a checked graph; keeps fresh[] safe */
        n = DISCO__HNSW_MAX_M * 2;
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t nb = disco__hnsw_id(l + i);
        if (!visit(s, nb))
            fresh[m++] = nb;
    }
    return m;
}

/*
 * Keeps the fresh neighbours whose distance guessed from projected codes
 * is within the bound; returns how many (at the front of fresh[]).
 */
static uint32_t skim(const disco_hnsw *h, const disco__hnsw_scratch *s, uint32_t *fresh, uint32_t m,
                     float bound)
{
    const disco__hnsw_codes *c = h->codes;
    float scale = h->metric == DISCO_VMETRIC_COSINE ? 0.5f : 1.0f;
    uint32_t keep = 0;

    for (uint32_t i = 0; i < m; i++) {
        const uint8_t *p = c->code + (size_t)fresh[i] * c->stride;
        __builtin_prefetch(p);
        __builtin_prefetch(p + c->stride - 1);
        __builtin_prefetch(c->rx + fresh[i]);
    }
    for (uint32_t i = 0; i < m; i++)
        if (scale * disco__hnsw_codes_guess(h, s, fresh[i]) <= bound)
            fresh[keep++] = fresh[i];
    return keep;
}

/*
 * Scores the fresh neighbours of `id` exactly, requesting their vectors
 * PREFETCH_AHEAD ahead of the one being scored; on layer 0 with projected
 * codes, only those whose guessed distance could make the results.
 */
static int expand(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, uint32_t id, int lev,
                  size_t ef, const disco__hnsw_filter *f, float *bound)
{
    uint32_t fresh[DISCO__HNSW_MAX_M * 2];
    uint32_t m = take_fresh(h, s, id, lev, fresh);

    if (lev == 0 && s->skim && s->top.n >= ef)
        m = skim(h, s, fresh, m, *bound);

    for (uint32_t i = 0; i < m && i < PREFETCH_AHEAD; i++)
        prefetch_node(h, s, fresh[i]);
    for (uint32_t i = 0; i < m; i++) {
        uint32_t nb = fresh[i];
        if (i + PREFETCH_AHEAD < m)
            prefetch_node(h, s, fresh[i + PREFETCH_AHEAD]);
        const float *v = disco__hnsw_vec(h, nb);
        float d =
            s->top.n >= ef ? disco__hnsw_dist_within(h, q, v, *bound) : disco__hnsw_dist(h, q, v);
        if (offer(h, s, f, ef, d, nb, bound))
            return -1;
    }
    return 0;
}

/* Scores the fresh neighbours of `id` on layer 0 by their codes, all requested at once. */
static int expand_coded(const disco_hnsw *h, disco__hnsw_scratch *s, uint32_t id, size_t ef,
                        const disco__hnsw_filter *f, float *bound)
{
    const disco__hnsw_codes *c = h->codes;
    uint32_t fresh[DISCO__HNSW_MAX_M * 2];
    uint32_t m = take_fresh(h, s, id, 0, fresh);

    for (uint32_t i = 0; i < m; i++) {
        const uint8_t *p = c->code + (size_t)fresh[i] * c->stride;
        __builtin_prefetch(p);
        __builtin_prefetch(p + c->stride - 1);
    }
    for (uint32_t i = 0; i < m; i++)
        if (offer(h, s, f, ef, disco__hnsw_code_dist(h, s, fresh[i]), fresh[i], bound))
            return -1;
    return 0;
}

/*
 * Beam search of layer `lev` from `ep` with width ef, by exact distances
 * or (coded) by the codes; leaves the accepted results in s->top.
 */
static int walk(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, uint32_t ep, int lev,
                size_t ef, const disco__hnsw_filter *f, int coded)
{
    float d =
        coded ? disco__hnsw_code_dist(h, s, ep) : disco__hnsw_dist(h, q, disco__hnsw_vec(h, ep));
    float bound = INFINITY;

    clear_seen(s);
    s->cand.n = s->top.n = 0;
    visit(s, ep);
    if (heap_push(&s->cand, d, ep, 0))
        return DISCO_ERR_NOMEM;
    if (accepted(h, f, ep)) {
        if (heap_push(&s->top, d, ep, 1))
            return DISCO_ERR_NOMEM;
        bound = d;
    }
    while (s->cand.n) {
        if (s->cand.a[0].d > bound && s->top.n >= ef)
            break;
        disco__hnsw_pair c = heap_pop(&s->cand, 0);
        if (s->cand.n) /* the links of the next one to expand */
            __builtin_prefetch(disco__hnsw_links(h, s->cand.a[0].id, lev));
        if (coded ? expand_coded(h, s, c.id, ef, f, &bound)
                  : expand(h, s, q, c.id, lev, ef, f, &bound))
            return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

/*
 * Beam search of layer `lev` from `ep` with width ef by exact distances;
 * leaves the accepted results in s->top. Returns 0 or DISCO_ERR_NOMEM.
 */
int disco__hnsw_search_layer(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q,
                             uint32_t ep, int lev, size_t ef, const disco__hnsw_filter *f)
{
    return walk(h, s, q, ep, lev, ef, f, 0);
}

/* Replaces the code distances in s->top by exact ones, keeping it a max-heap. */
static void rerank(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q)
{
    disco__hnsw_pair *a = s->top.a;
    size_t n = s->top.n;

    for (size_t i = 0; i < n; i++)
        prefetch_node(h, s, a[i].id);
    for (size_t i = 0; i < n; i++)
        a[i].d = disco__hnsw_dist(h, q, disco__hnsw_vec(h, a[i].id));
    for (size_t i = 1; i < n; i++) { /* sift each up: a heap of a[0..i] */
        disco__hnsw_pair x = a[i];
        size_t j = i;
        while (j > 0 && a[(j - 1) / 2].d < x.d) {
            a[j] = a[(j - 1) / 2];
            j = (j - 1) / 2;
        }
        a[j] = x;
    }
}

/*
 * Layer 0 of a search or insert: with codes of the components, walked on
 * them and reranked; with projected codes, an exact walk that skips the
 * neighbours they place past the bound; else an exact walk.
 */
int disco__hnsw_search_base(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q,
                            uint32_t ep, size_t ef, const disco__hnsw_filter *f)
{
    int rc;

    if (!h->codes)
        return walk(h, s, q, ep, 0, ef, f, 0);
    if (disco__hnsw_codes_query(h, s, q))
        return DISCO_ERR_NOMEM;
    if (h->codes->proj) { /* exact walk, skimmed */
        s->skim = 1;
        rc = walk(h, s, q, ep, 0, ef, f, 0);
        s->skim = 0;
        return rc;
    }
    rc = walk(h, s, q, ep, 0, ef, f, 1);
    if (rc == DISCO_OK)
        rerank(h, s, q);
    return rc;
}

/* Empties s->top into s->work, nearest first; returns the count (0 if no room). */
size_t disco__hnsw_sorted(disco__hnsw_scratch *s)
{
    size_t n = s->top.n;

    if (disco__hnsw_reserve_work(s, n ? n : 1))
        return 0;
    for (size_t i = n; i > 0; i--)
        s->work[i - 1] = heap_pop(&s->top, 1);
    return n;
}

/* --- public searches ------------------------------------------------------- */

static int check_query(const disco_hnsw *h, const float *q, size_t k, uint32_t *slots, float *dists,
                       size_t *n, disco_status *st)
{
    if (n)
        *n = 0;
    if (!h || !q || !slots || !dists || !n)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw search: NULL argument");
    if (k == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "k", "k must be at least 1");
    return DISCO_OK;
}

/* The query as the graph compares it: a normalised copy for cosine. */
static const float *query_vec(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q)
{
    if (h->metric != DISCO_VMETRIC_COSINE)
        return q;
    memcpy(s->q, q, h->dim * sizeof *q);
    disco_vdist_normalize(s->q, h->dim);
    return s->q;
}

static void emit(disco__hnsw_scratch *s, size_t k, uint32_t *slots, float *dists, size_t *n)
{
    size_t m = disco__hnsw_sorted(s);

    if (m > k)
        m = k;
    for (size_t i = 0; i < m; i++) {
        slots[i] = s->work[i].id;
        dists[i] = s->work[i].d;
    }
    *n = m;
}

static int graph_search(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, size_t k,
                        size_t ef, disco__hnsw_filter *f)
{
    uint64_t e = atomic_load(&h->entry);
    uint32_t cur = (uint32_t)e;

    s->top.n = 0;
    if (e == 0)
        return DISCO_OK;
    for (int lev = (int)(e >> 32) - 1; lev > 0; lev--)
        cur = disco__hnsw_greedy(h, q, cur, lev);
    f->all = !f->allow && atomic_load(&h->ndel) == 0;
    return disco__hnsw_search_base(h, s, q, cur, ef > k ? ef : k, f);
}

/*
 * What one search does: walk the graph, scan every slot, or scan a list of
 * slots (exactly one of ef > 0, cand, or neither with exact set).
 */
typedef struct search_job {
    size_t k, ef;
    disco__hnsw_filter f;
    const uint32_t *cand; /* with listed: the slots to scan (may be empty) */
    size_t ncand;
    int exact, listed;
} search_job;

static int scan_one(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, size_t k,
                    const disco__hnsw_filter *f, uint32_t id)
{
    if (id >= h->cap || !accepted(h, f, id))
        return DISCO_OK;
    float d = disco__hnsw_dist(h, q, disco__hnsw_vec(h, id));
    if (s->top.n >= k && !(d < s->top.a[0].d))
        return DISCO_OK;
    if (heap_push(&s->top, d, id, 1))
        return DISCO_ERR_NOMEM;
    if (s->top.n > k)
        heap_pop(&s->top, 1);
    return DISCO_OK;
}

/* Exact top k over the candidate list, or over every slot when there is none. */
static int scan(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, search_job *j)
{
    size_t n = j->listed ? j->ncand : h->cap;
    int rc = DISCO_OK;

    s->top.n = 0;
    for (size_t i = 0; rc == DISCO_OK && i < n; i++)
        rc = scan_one(h, s, q, j->k, &j->f, j->listed ? j->cand[i] : (uint32_t)i);
    return rc;
}

/* The shared frame of every search: checks, the growth lock, scratch, results. */
static int run_search(const disco_hnsw *h, const float *q, search_job *j, uint32_t *slots,
                      float *dists, size_t *n, disco_status *st)
{
    disco__hnsw_scratch *s;
    int rc = check_query(h, q, j->k, slots, dists, n, st);

    if (rc)
        return rc;
    pthread_rwlock_rdlock(&h->sync->grow);
    s = disco__hnsw_scratch_get(h);
    if (!s)
        rc = DISCO_ERR_NOMEM;
    else if (j->exact)
        rc = scan(h, s, query_vec(h, s, q), j);
    else
        rc = graph_search(h, s, query_vec(h, s, q), j->k, j->ef, &j->f);
    if (rc == DISCO_OK)
        emit(s, j->k, slots, dists, n);
    if (s)
        disco__hnsw_scratch_put(h, s);
    pthread_rwlock_unlock(&h->sync->grow);
    if (rc)
        return disco_status_set(st, rc, NULL, "hnsw search: out of memory");
    return DISCO_OK;
}

int disco_hnsw_search(const disco_hnsw *h, const float *q, size_t k, size_t ef,
                      disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                      size_t *n, disco_status *st)
{
    search_job j = {k, ef, {allow, user, DISCO__HNSW_NONE, 0}, NULL, 0, 0, 0};

    return run_search(h, q, &j, slots, dists, n, st);
}

int disco_hnsw_search_exact(const disco_hnsw *h, const float *q, size_t k,
                            disco_hnsw_allow_fn allow, void *user, uint32_t *slots, float *dists,
                            size_t *n, disco_status *st)
{
    search_job j = {k, 0, {allow, user, DISCO__HNSW_NONE, 0}, NULL, 0, 1, 0};

    return run_search(h, q, &j, slots, dists, n, st);
}

int disco_hnsw_search_slots(const disco_hnsw *h, const float *q, size_t k, const uint32_t *cand,
                            size_t ncand, uint32_t *slots, float *dists, size_t *n,
                            disco_status *st)
{
    search_job j = {k, 0, {NULL, NULL, DISCO__HNSW_NONE, 0}, cand, ncand, 1, 1};

    if (!cand && ncand)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "hnsw search: NULL slot list");
    return run_search(h, q, &j, slots, dists, n, st);
}
