/*
 * hnsw_codes.c - traversal codes: every vector component in 4 bits.
 *
 * WHY. At ef 64 a search scores about 1,200 neighbours on layer 0 and keeps
 * 64. Scoring one exactly fetches its whole vector (400 bytes at d = 100,
 * mostly from main memory). The codes are an eighth of that and, for a
 * graph of 100k such vectors, fit in the last-level cache. So the walk of
 * layer 0 runs on the codes and only the ef nodes it keeps are scored
 * exactly (hnsw_search.c reranks them). Results carry exact distances.
 *
 * SCALE. Component i is stored as round((x - lo[i]) / step[i]) in 0..15,
 * lo and step spanning the minimum and maximum of that component over the
 * vectors present at training. Vectors added later are clamped to the
 * range. Training happens first at CODES_MIN vectors and again each time
 * the count doubles, re-encoding every slot (O(n * dim), under the graph's
 * lock held exclusively); before the first, walks use exact distances.
 *
 * WHEN. For L2 and cosine (squared L2 on unit vectors) with dim up to
 * CODES_MAX_DIM. Inner product is not a distance between points, and past
 * CODES_MAX_DIM bounded exact distances stop after a fraction of the vector
 * while codes would cost dim / 2 more bytes per vector.
 *
 * LANES (disco_vdist_u4). Components come in groups of 32 over 16 bytes.
 * In a group of r components, with half = ceil(r / 2), component j < half
 * takes the low nibble of byte j (lane j) and component j >= half the high
 * nibble of byte j - half (lane 16 + j - half). A slot thus takes
 * ceil(dim / 2) bytes; a short last group reads into the next slot's bytes
 * (or the 16 spare at the end), whose lanes have step and query 0.
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CODES_MIN 1024
#define CODES_MAX_DIM 256
#define CODES_SPARE 16

static int codes_wanted(const disco_hnsw *h)
{
    return h->metric != DISCO_VMETRIC_IP && h->dim <= CODES_MAX_DIM;
}

void disco__hnsw_codes_free(disco__hnsw_codes *c)
{
    if (!c)
        return;
    free(c->lo);
    free(c->inv);
    free(c->step);
    free(c->lane);
    free(c->code);
    free(c);
}

/* Lanes of components, as the header describes. */
static void set_lanes(disco__hnsw_codes *c, size_t dim)
{
    for (size_t j = 0; j < dim; j++) {
        size_t g = j / 32, base = 32 * g, r = dim - base < 32 ? dim - base : 32;
        size_t half = (r + 1) / 2, k = j - base;
        c->lane[j] = (uint32_t)(base + (k < half ? k : 16 + k - half));
    }
}

static disco__hnsw_codes *codes_new(size_t dim, size_t cap)
{
    disco__hnsw_codes *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->groups = (dim + 31) / 32;
    c->stride = (dim + 1) / 2;
    c->cap = cap;
    c->lo = calloc(dim, sizeof *c->lo);
    c->inv = calloc(dim, sizeof *c->inv);
    c->step = calloc(32 * c->groups, sizeof *c->step);
    c->lane = calloc(dim, sizeof *c->lane);
    c->code = calloc(cap * c->stride + CODES_SPARE, 1);
    if (!c->lo || !c->inv || !c->step || !c->lane || !c->code) {
        disco__hnsw_codes_free(c);
        return NULL;
    }
    set_lanes(c, dim);
    return c;
}

int disco__hnsw_codes_grow(disco_hnsw *h, size_t cap)
{
    disco__hnsw_codes *c = h->codes;
    uint8_t *code;

    if (!c || cap <= c->cap)
        return DISCO_OK;
    code = realloc(c->code, cap * c->stride + CODES_SPARE);
    if (!code)
        return DISCO_ERR_NOMEM;
    memset(code + c->cap * c->stride, 0, (cap - c->cap) * c->stride + CODES_SPARE);
    c->code = code;
    c->cap = cap;
    return DISCO_OK;
}

/* Writes the code of `slot` from its stored vector into c. */
static void encode(const disco_hnsw *h, disco__hnsw_codes *c, uint32_t slot)
{
    const float *v = disco__hnsw_vec(h, slot);
    uint8_t buf[CODES_MAX_DIM / 2 + 1] = {0};

    for (size_t j = 0; j < h->dim; j++) {
        float x = (v[j] - c->lo[j]) * c->inv[j];
        unsigned q = x <= 0.0f ? 0u : x >= 15.0f ? 15u : (unsigned)lrintf(x);
        uint32_t lane = c->lane[j], k = lane % 32;
        buf[16 * (lane / 32) + k % 16] |= (uint8_t)(k < 16 ? q : q << 4);
    }
    memcpy(c->code + (size_t)slot * c->stride, buf, c->stride);
}

void disco__hnsw_codes_put(const disco_hnsw *h, uint32_t slot)
{
    if (h->codes && slot < h->codes->cap)
        encode(h, h->codes, slot);
}

/* lo and step of every component over the occupied slots. */
static void fit_scale(const disco_hnsw *h, disco__hnsw_codes *c)
{
    float *hi = c->inv; /* room for the maxima until the steps are known */

    for (size_t j = 0; j < h->dim; j++) {
        c->lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (uint32_t id = 0; id < h->cap; id++) {
        if (!(*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC))
            continue;
        const float *v = disco__hnsw_vec(h, id);
        for (size_t j = 0; j < h->dim; j++) {
            c->lo[j] = v[j] < c->lo[j] ? v[j] : c->lo[j];
            hi[j] = v[j] > hi[j] ? v[j] : hi[j];
        }
    }
    for (size_t j = 0; j < h->dim; j++) {
        float step = (hi[j] - c->lo[j]) / 15.0f;
        c->step[c->lane[j]] = step;
        c->inv[j] = step > 0.0f ? 1.0f / step : 0.0f;
    }
}

/*
 * Fits the scale to the vectors present and re-encodes every slot; on no
 * memory keeps the codes it had. Caller holds sync->grow exclusively (or
 * owns the graph alone).
 */
void disco__hnsw_codes_train(disco_hnsw *h)
{
    size_t live = atomic_load(&h->live);
    disco__hnsw_codes *c;

    if (!codes_wanted(h) || live < CODES_MIN) {
        atomic_store(&h->codes_next, codes_wanted(h) ? CODES_MIN : SIZE_MAX);
        return;
    }
    atomic_store(&h->codes_next, live > SIZE_MAX / 2 ? SIZE_MAX : 2 * live);
    c = codes_new(h->dim, h->cap);
    if (!c)
        return;
    fit_scale(h, c);
    for (uint32_t id = 0; id < h->cap; id++)
        if (*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC)
            encode(h, c, id);
    disco__hnsw_codes_free(h->codes);
    h->codes = c;
}

/* s->qa for query q (as the graph compares it); -1 when out of memory. */
int disco__hnsw_codes_query(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q)
{
    const disco__hnsw_codes *c = h->codes;
    size_t n = 32 * c->groups;

    if (s->qa_cap < n) {
        float *qa = realloc(s->qa, n * sizeof *qa);
        if (!qa)
            return -1;
        s->qa = qa;
        s->qa_cap = n;
    }
    memset(s->qa, 0, n * sizeof *s->qa);
    for (size_t j = 0; j < h->dim; j++)
        s->qa[c->lane[j]] = c->lo[j] - q[j];
    return 0;
}

size_t disco__hnsw_codes_bytes(const disco_hnsw *h)
{
    const disco__hnsw_codes *c = h->codes;

    if (!c)
        return 0;
    return sizeof *c + c->cap * c->stride + CODES_SPARE +
           h->dim * (sizeof *c->lo + sizeof *c->inv + sizeof *c->lane) +
           32 * c->groups * sizeof *c->step;
}

int disco_hnsw_codes_info(const disco_hnsw *h, size_t *bytes_per_vector, size_t *retrain_at)
{
    int has;

    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->sync->grow);
    has = h->codes != NULL;
    if (has && bytes_per_vector)
        *bytes_per_vector = h->codes->stride;
    if (has && retrain_at)
        *retrain_at = atomic_load(&h->codes_next);
    pthread_rwlock_unlock(&h->sync->grow);
    return has;
}
