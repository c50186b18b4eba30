/*
 * vindex_search.c - top-k search over a collection: selectivity estimate,
 * choice of strategy, the graph or exact search, and batches on a pool.
 *
 *   allowed share s = (vectors in ns / all) * (share of ns the filter keeps)
 *
 *   no filter, ns holds everything ----------------------> "graph"
 *   s * live < max(20 k, 2 % of live) or q->exact -------> "exact" (scan, filter each)
 *   otherwise -------------------------------------------> "graph-filtered",
 *                                                          ef = max(ef, k) / s (capped)
 *
 * The filter's share is the smaller of two estimates: the term index (for
 * each $eq / $in conjunct on strings or booleans, the count of vectors
 * holding the values; the rarest conjunct bounds the share) and a sample
 * of about SAMPLE vectors of the namespace, evaluated with the filter.
 *
 * When the filter has $eq / $in conjuncts, their postings give the
 * candidate slots: exact search scans only those that match the whole
 * filter, and walks below CAND_SHARE test the candidate bitmap before the
 * filter. A filter made of nothing but such conjuncts is answered by the
 * postings alone (disco_vfilter_only_terms), at any share: no candidate is
 * checked, a walk only tests bits. A graph-filtered plan becomes
 * a scan of the candidates when they are few enough (EXACT_CAND_MAX, EXACT_CAND_WORK): cheaper, and
 * exact.
 *
 * No on-disk format: searches only read the in-memory state.
 */
#include "vindex_int.h"

#include "disco/pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE 1000
#define K_MAX 10000
#define EXACT_PER_K 20   /* exact when fewer than k * this are allowed */
#define EXACT_SHARE 0.02 /* ... or fewer than this share of all vectors */
#define EF_MAX 4096
#define CAND_SHARE 0.25 /* walks gate on the postings' candidates below this share */
/* With a candidate list from the postings, checking and scanning it beats
 * the filtered walk up to about this many candidates and floats (n * dim);
 * measured on 100-d and 784-d data (bench_vindex). */
#define EXACT_CAND_MAX ((size_t)20000)
#define EXACT_CAND_WORK ((size_t)16000000)

typedef struct allow_ctx {
    const disco_vindex *v;
    const char *ns;
    const disco_vfilter *f;
    uint64_t *bits; /* NULL, or the slots of ns that the filter's terms allow */
    int bits_exact; /* the filter is only those terms: bits are the answer */
} allow_ctx;

static inline int bit_get(const uint64_t *b, uint32_t i)
{
    return (int)((b[i >> 6] >> (i & 63)) & 1);
}

static int allow(void *user, uint32_t slot)
{
    const allow_ctx *a = user;
    const vx_slot *s = &a->v->slots[slot];

    if (a->bits)
        return bit_get(a->bits, slot) && (a->bits_exact || disco_vfilter_match(a->f, s->meta));
    if (!s->ns || strcmp(s->ns, a->ns) != 0)
        return 0;
    return !a->f || disco_vfilter_match(a->f, s->meta);
}

/* ---- candidates from the postings ---------------------------------------------------- */

typedef struct cand_ctx {
    const disco_vindex *v;
    const char *ns;
    size_t words;
    uint64_t *bits, *tmp; /* the conjuncts so far; the one being read */
    int used, bad;
} cand_ctx;

static int cand_cb(void *user, const char *field, const json_t *values)
{
    cand_ctx *c = user;
    uint64_t *dst = c->used ? c->tmp : c->bits;
    size_t i;
    json_t *val;

    memset(dst, 0, c->words * sizeof *dst);
    json_array_foreach (values, i, val) {
        const vx_post *p = disco__vx_posting(c->v, c->ns, field, val);

        if (!p) {
            c->bad = 1;
            return 1;
        }
        for (size_t j = 0; j < p->n; j++)
            dst[p->s[j] >> 6] |= (uint64_t)1 << (p->s[j] & 63);
    }
    if (c->used)
        for (size_t w = 0; w < c->words; w++)
            c->bits[w] &= c->tmp[w];
    c->used = 1;
    return 0;
}

/*
 * The slots the filter's $eq / $in conjuncts allow, from the postings, as a
 * bitmap (*bits, nslots bits) and an ascending list (*list, *n); 0 when the
 * filter has no such conjunct or the postings are not usable, -1 when out
 * of memory. The rest of the filter still has to be checked on each.
 */
static int candidates(const allow_ctx *a, uint64_t **bits, uint32_t **list, size_t *n)
{
    cand_ctx c = {a->v, a->ns, (a->v->nslots + 63) / 64, NULL, NULL, 0, 0};
    size_t cnt = 0;

    *bits = NULL;
    *list = NULL;
    *n = 0;
    c.bits = calloc(c.words + 1, sizeof *c.bits);
    c.tmp = malloc((c.words + 1) * sizeof *c.tmp);
    if (!c.bits || !c.tmp)
        goto out_fail;
    disco_vfilter_terms(a->f, cand_cb, &c);
    free(c.tmp);
    c.tmp = NULL;
    if (!c.used || c.bad) {
        free(c.bits);
        return 0;
    }
    for (size_t w = 0; w < c.words; w++)
        cnt += (size_t)__builtin_popcountll(c.bits[w]);
    *list = malloc((cnt + 1) * sizeof **list);
    if (!*list)
        goto out_fail;
    for (size_t w = 0; w < c.words; w++)
        for (uint64_t x = c.bits[w]; x; x &= x - 1)
            (*list)[(*n)++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(x));
    *bits = c.bits;
    return 1;
out_fail:
    free(c.bits);
    free(c.tmp);
    return -1;
}

typedef struct term_est {
    const disco_vindex *v;
    const char *ns;
    double nslive, share;
} term_est;

static int term_cb(void *user, const char *field, const json_t *values)
{
    term_est *e = user;
    size_t i, sum = 0;
    json_t *val;
    int known;

    json_array_foreach (values, i, val) {
        sum += disco__vx_term_count(e->v, e->ns, field, val, &known);
        if (!known)
            return 0; /* a number: the index cannot bound this conjunct */
    }
    if (sum / e->nslive < e->share)
        e->share = sum / e->nslive;
    return 0;
}

/* The share of `ns` the filter allows, from a strided sample of its vectors. */
static double sample_share(const allow_ctx *a, size_t nslive)
{
    size_t step = nslive / SAMPLE > 1 ? nslive / SAMPLE : 1, seen = 0, hit = 0;
    const disco_vindex *v = a->v;

    for (size_t s = 0; s < v->nslots; s += step) {
        const vx_slot *sl = &v->slots[s];

        if (!sl->ns || strcmp(sl->ns, a->ns) != 0)
            continue;
        seen++;
        hit += (size_t)disco_vfilter_match(a->f, sl->meta);
    }
    if (seen == 0)
        return 1.0;
    return hit ? (double)hit / (double)seen : 0.5 / (double)seen;
}

static double filter_share(const allow_ctx *a, size_t nslive)
{
    term_est e = {a->v, a->ns, (double)nslive, 1.0};
    double s;

    if (!a->f || nslive == 0)
        return 1.0;
    disco_vfilter_terms(a->f, term_cb, &e);
    s = sample_share(a, nslive);
    return s < e.share ? s : e.share;
}

typedef struct plan {
    const char *strategy;
    double share; /* of all live vectors */
    size_t ef;
    int use_allow;
} plan;

static plan choose(const disco_vindex *v, const disco_vquery *q, const allow_ctx *a)
{
    size_t nslive = disco__vx_ns_count(v, a->ns), ef = q->ef ? q->ef : 64;
    double share = v->live ? (double)nslive / (double)v->live * filter_share(a, nslive) : 0.0;
    double allowed = share * (double)v->live, want = ef > q->k ? (double)ef : (double)q->k;
    double floor_n = (double)q->k * EXACT_PER_K;
    plan p = {"graph", share, ef > q->k ? ef : q->k, 0};

    if (floor_n < EXACT_SHARE * (double)v->live)
        floor_n = EXACT_SHARE * (double)v->live;
    if (q->exact || allowed < floor_n) {
        p.strategy = "exact";
        p.use_allow = 1;
    } else if (q->filter || nslive != v->live) {
        p.strategy = "graph-filtered";
        p.use_allow = 1;
        want /= share;
        p.ef = want > EF_MAX ? EF_MAX : (size_t)want;
        if (p.ef < q->k)
            p.ef = q->k;
    }
    return p;
}

static int check_query(const disco_vindex *v, const disco_vquery *q, disco_status *st)
{
    if (!v || !q || !q->vec)
        return disco_status_set(st, DISCO_ERR_INVAL, "vector", "search: NULL collection or vector");
    if (q->k == 0 || q->k > K_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "top_k", "top_k %zu out of range 1..%d", q->k,
                                K_MAX);
    if (q->dim != 0 && q->dim != v->cfg.dim)
        return disco_status_set(st, DISCO_ERR_INVAL, "vector",
                                "vector has %zu floats, the collection has dim %zu", q->dim,
                                v->cfg.dim);
    for (size_t d = 0; d < v->cfg.dim; d++)
        if (!isfinite(q->vec[d]))
            return disco_status_set(st, DISCO_ERR_INVAL, "vector",
                                    "vector[%zu]: not a finite number", d);
    if (q->ns && strlen(q->ns) > DISCO_VINDEX_ID_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "namespace", "namespace longer than %d bytes",
                                DISCO_VINDEX_ID_MAX);
    return DISCO_OK;
}

static json_t *matches_json(const disco_vindex *v, const disco_vquery *q, const uint32_t *slots,
                            const float *dists, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++) {
        json_t *m = disco__vx_item_json(v, slots[i], q->include_values, q->include_metadata);
        double score = v->cfg.metric == DISCO_VMETRIC_COSINE ? 1.0 - dists[i] : -dists[i];

        if (!m || json_array_append_new(a, m) != 0) {
            json_decref(a);
            return NULL;
        }
        json_object_set_new(m, "score", json_real(score));
        json_object_set_new(m, "distance", json_real(dists[i]));
    }
    return a;
}

/* Keeps the candidates that match the whole filter. */
static size_t verify(const allow_ctx *a, uint32_t *list, size_t n)
{
    size_t m = 0;

    if (a->bits_exact)
        return n;
    for (size_t i = 0; i < n; i++)
        if (disco_vfilter_match(a->f, a->v->slots[list[i]].meta))
            list[m++] = list[i];
    return m;
}

static int run_plan(const disco_vindex *v, const disco_vquery *q, const plan *p, allow_ctx *a,
                    uint32_t *cand, size_t ncand, json_t **out, disco_status *st)
{
    uint32_t *slots = malloc(q->k * sizeof *slots);
    float *dists = malloc(q->k * sizeof *dists);
    disco_hnsw_allow_fn fn = p->use_allow ? allow : NULL;
    size_t n = 0;
    int rc = DISCO_ERR_NOMEM;
    json_t *m;

    if (slots && dists) {
        if (cand && strcmp(p->strategy, "exact") == 0)
            rc = disco_hnsw_search_slots(v->h, q->vec, q->k, cand, verify(a, cand, ncand), slots,
                                         dists, &n, st);
        else if (strcmp(p->strategy, "exact") == 0)
            rc = disco_hnsw_search_exact(v->h, q->vec, q->k, fn, a, slots, dists, &n, st);
        else
            rc = disco_hnsw_search(v->h, q->vec, q->k, p->ef, fn, a, slots, dists, &n, st);
    }
    if (rc == DISCO_OK) {
        m = matches_json(v, q, slots, dists, n);
        *out = m ? json_pack("{s:o, s:s, s:f}", "matches", m, "strategy", p->strategy,
                             "selectivity", p->share)
                 : NULL;
        if (!*out)
            rc = DISCO_ERR_NOMEM;
    }
    if (rc == DISCO_ERR_NOMEM)
        disco_status_set(st, rc, NULL, "search: out of memory");
    free(slots);
    free(dists);
    return rc;
}

int disco_vindex_search(disco_vindex *v, const disco_vquery *q, json_t **out, disco_status *st)
{
    uint32_t *cand = NULL;
    size_t ncand = 0;
    allow_ctx a;
    plan p;
    int rc;

    if (out)
        *out = NULL;
    rc = check_query(v, q, st);
    if (rc != DISCO_OK)
        return rc;
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "search: NULL out");
    a = (allow_ctx){v, disco__vx_ns(q->ns), q->filter, NULL, 0};
    pthread_rwlock_rdlock(&v->lock);
    p = choose(v, q, &a);
    if (p.use_allow && q->filter &&
        (p.share < CAND_SHARE || strcmp(p.strategy, "exact") == 0 ||
         disco_vfilter_only_terms(q->filter)) &&
        candidates(&a, &a.bits, &cand, &ncand) < 0) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "search: out of memory");
        goto out_unlock;
    }
    a.bits_exact = a.bits && disco_vfilter_only_terms(q->filter);
    if (cand && strcmp(p.strategy, "graph-filtered") == 0 && ncand <= EXACT_CAND_MAX &&
        ncand * disco_vindex_dim(v) <= EXACT_CAND_WORK)
        p.strategy = "exact";
    rc = run_plan(v, q, &p, &a, cand, ncand, out, st);
out_unlock:
    pthread_rwlock_unlock(&v->lock);
    free(a.bits);
    free(cand);
    return rc;
}

typedef struct batch {
    disco_vindex *v;
    const disco_vquery *qs;
    json_t **res;
    int *rc;
    disco_status *sts;
} batch;

static void batch_one(size_t i, void *arg)
{
    batch *b = arg;

    b->rc[i] = disco_vindex_search(b->v, &b->qs[i], &b->res[i], &b->sts[i]);
}

static int batch_collect(batch *b, size_t n, json_t **out, disco_status *st)
{
    json_t *a = json_array();
    int rc = a ? DISCO_OK : DISCO_ERR_NOMEM;

    for (size_t i = 0; i < n; i++) {
        if (rc == DISCO_OK && b->rc[i] != DISCO_OK) {
            rc = disco_status_set(st, b->rc[i], b->sts[i].field, "queries[%zu]: %s", i,
                                  disco_status_message(&b->sts[i]));
        }
        if (rc == DISCO_OK && json_array_append_new(a, b->res[i]) != 0)
            rc = DISCO_ERR_NOMEM;
        else if (rc != DISCO_OK)
            json_decref(b->res[i]);
    }
    *out = rc == DISCO_OK ? json_pack("{s:o}", "results", a) : NULL;
    if (rc != DISCO_OK)
        json_decref(a);
    return rc;
}

int disco_vindex_search_batch(disco_vindex *v, const disco_vquery *qs, size_t n, size_t threads,
                              json_t **out, disco_status *st)
{
    batch b = {v, qs, calloc(n + 1, sizeof(json_t *)), calloc(n + 1, sizeof(int)),
               calloc(n + 1, sizeof(disco_status))};
    disco_pool *pool = NULL;
    int rc = DISCO_ERR_NOMEM;

    if (out)
        *out = NULL;
    if (!v || !out || (n > 0 && !qs)) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "queries", "search batch: NULL argument");
        goto out_free;
    }
    if (!b.res || !b.rc || !b.sts) {
        disco_status_set(st, rc, NULL, "search batch: out of memory");
        goto out_free;
    }
    for (size_t i = 0; i < n; i++)
        b.rc[i] = 1; /* not run yet */
    if (n > 1 && threads != 1 && disco_pool_new(threads, &pool) == DISCO_OK)
        disco_pool_parallel_for(pool, n, batch_one, &b);
    disco_pool_free(pool);
    for (size_t i = 0; i < n; i++)
        if (b.rc[i] == 1)
            batch_one(i, &b);
    rc = batch_collect(&b, n, out, st);
out_free:
    free(b.res);
    free(b.rc);
    free(b.sts);
    return rc;
}
