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
 * WHEN. For L2 and cosine (squared L2 on unit vectors); inner product is
 * not a distance between points. Up to CODES_MAX_DIM components the codes
 * are of the components themselves. Past it, codes of every component
 * would cost dim / 2 bytes more per vector, so the codes are of the
 * vector's projections on its collection's PROJ_N leading principal
 * directions (hnsw_pca.c; refitted when the count has grown PROJ_REFIT
 * times), plus the norm of the rest. They are too coarse to walk on;
 * instead the exact walk skips scoring a neighbour whose guessed distance
 * (disco__hnsw_codes_guess) is past the worst result it keeps. On
 * Fashion-MNIST (784-d) that skips about two thirds of the exact scores.
 * Past PROJ_MAX_DIM the fit (a dim x dim covariance and its eigenvectors)
 * would take seconds at each refit, and the graph keeps no codes.
 *
 * LANES (disco_vdist_u4). Components come in groups of 32 over 16 bytes.
 * In a group of r components, with half = ceil(r / 2), component j < half
 * takes the low nibble of byte j (lane j) and component j >= half the high
 * nibble of byte j - half (lane 16 + j - half). A slot thus takes
 * ceil(dim / 2) bytes, a short last group's first (disco_vdist_u4_byte), so
 * the distance reads no byte of the next slot's (which an insert may be
 * writing).
 */
#include "hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CODES_MIN 1024
#define CODES_MAX_DIM 256 /* up to this: codes of the components */
#define PROJ_N 80         /* past it: codes of this many projections */
#define PROJ_MAX_DIM 1024 /* past this, fitting them would take seconds: no codes */
#define PROJ_REFIT 8      /* projections refitted when the count grew this many times */
#define RHO_SAMPLE 256    /* slots whose links measure the rests' correlation */
#define RHO_LINKS 8       /* links of each of them */
#define RHO_QUANTILE 0.95 /* share of near pairs whose correlation is at most rho */
#define GUESS_Z 1.0f      /* rounding noise taken off a guess, in standard deviations */
#define SCALE_SAMPLE 4096 /* projected codes: slots whose projections set the scale */

static int codes_wanted(const disco_hnsw *h)
{
    return h->metric != DISCO_VMETRIC_IP && h->dim <= PROJ_MAX_DIM;
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
    free(c->mean);
    free(c->rot);
    free(c->rmean);
    free(c->rx);
    free(c);
}

/* Lanes of the coded values, as the header describes. */
static void set_lanes(disco__hnsw_codes *c)
{
    for (size_t j = 0; j < c->n; j++) {
        size_t g = j / 32, base = 32 * g, r = c->n - base < 32 ? c->n - base : 32;
        size_t half = (r + 1) / 2, k = j - base;
        c->lane[j] = (uint32_t)(base + (k < half ? k : 16 + k - half));
    }
}

/* Room for the projections' tables and per-slot rest norms; 0 or -1. */
static int proj_new(disco__hnsw_codes *c, size_t dim, size_t cap)
{
    c->mean = calloc(dim, sizeof *c->mean);
    c->rot = calloc(c->n * dim, sizeof *c->rot);
    c->rmean = calloc(c->n, sizeof *c->rmean);
    c->rx = calloc(cap ? cap : 1, sizeof *c->rx);
    return c->mean && c->rot && c->rmean && c->rx ? 0 : -1;
}

static disco__hnsw_codes *codes_new(const disco_hnsw *h, size_t cap)
{
    disco__hnsw_codes *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->proj = h->dim > CODES_MAX_DIM;
    c->n = c->proj ? PROJ_N : h->dim;
    c->groups = (c->n + 31) / 32;
    c->stride = (c->n + 1) / 2;
    c->cap = cap;
    c->lo = calloc(c->n, sizeof *c->lo);
    c->inv = calloc(c->n, sizeof *c->inv);
    c->step = calloc(32 * c->groups, sizeof *c->step);
    c->lane = calloc(c->n, sizeof *c->lane);
    c->code = calloc(cap ? cap * c->stride : 1, 1);
    if (!c->lo || !c->inv || !c->step || !c->lane || !c->code ||
        (c->proj && proj_new(c, h->dim, cap))) {
        disco__hnsw_codes_free(c);
        return NULL;
    }
    set_lanes(c);
    return c;
}

int disco__hnsw_codes_grow(disco_hnsw *h, size_t cap)
{
    disco__hnsw_codes *c = h->codes;
    uint8_t *code;

    if (!c || cap <= c->cap)
        return DISCO_OK;
    if (c->proj) {
        float *rx = realloc(c->rx, cap * sizeof *rx);
        if (!rx)
            return DISCO_ERR_NOMEM;
        memset(rx + c->cap, 0, (cap - c->cap) * sizeof *rx);
        c->rx = rx;
    }
    code = realloc(c->code, cap * c->stride);
    if (!code)
        return DISCO_ERR_NOMEM;
    memset(code + c->cap * c->stride, 0, (cap - c->cap) * c->stride);
    c->code = code;
    c->cap = cap;
    return DISCO_OK;
}

/*
 * The values the codes of vector v stand for: its components, or its
 * projections (written to y[n]) with the norm of the rest in *rest.
 */
static const float *coded_values(const disco_hnsw *h, const disco__hnsw_codes *c, const float *v,
                                 float *y, float *rest)
{
    float r2;

    if (!c->proj)
        return v;
    r2 = disco_vdist_l2sq(v, c->mean, h->dim);
    for (size_t k = 0; k < c->n; k++) {
        y[k] = disco_vdist_dot(c->rot + k * h->dim, v, h->dim) - c->rmean[k];
        r2 -= y[k] * y[k];
    }
    *rest = r2 > 0.0f ? sqrtf(r2) : 0.0f;
    return y;
}

/* Writes the code of `slot` from its stored vector into c. */
static void encode(const disco_hnsw *h, disco__hnsw_codes *c, uint32_t slot)
{
    uint8_t buf[CODES_MAX_DIM / 2 + 1] = {0};
    float y[PROJ_N], rest = 0.0f;
    const float *x = coded_values(h, c, disco__hnsw_vec(h, slot), y, &rest);

    for (size_t j = 0; j < c->n; j++) {
        float t = (x[j] - c->lo[j]) * c->inv[j];
        unsigned q = t <= 0.0f ? 0u : t >= 15.0f ? 15u : (unsigned)lrintf(t);
        uint32_t lane = c->lane[j];
        buf[disco_vdist_u4_byte(c->n, lane)] |= (uint8_t)(lane % 32 < 16 ? q : q << 4);
    }
    memcpy(c->code + (size_t)slot * c->stride, buf, c->stride);
    if (c->proj)
        c->rx[slot] = rest;
}

void disco__hnsw_codes_put(const disco_hnsw *h, uint32_t slot)
{
    if (h->codes && slot < h->codes->cap)
        encode(h, h->codes, slot);
}

/* lo and step of every coded value over the occupied slots (a sample of them, projected). */
static void fit_scale(const disco_hnsw *h, disco__hnsw_codes *c)
{
    float *hi = c->inv, y[PROJ_N], rest; /* inv holds the maxima until the steps are known */
    size_t live = atomic_load(&h->live), every = 1, seen = 0;

    if (c->proj && live > SCALE_SAMPLE)
        every = (live + SCALE_SAMPLE - 1) / SCALE_SAMPLE;
    for (size_t j = 0; j < c->n; j++) {
        c->lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (uint32_t id = 0; id < h->cap; id++) {
        if (!(*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC) || seen++ % every)
            continue;
        const float *x = coded_values(h, c, disco__hnsw_vec(h, id), y, &rest);
        for (size_t j = 0; j < c->n; j++) {
            c->lo[j] = x[j] < c->lo[j] ? x[j] : c->lo[j];
            hi[j] = x[j] > hi[j] ? x[j] : hi[j];
        }
    }
    c->bias = 0.0f;
    for (size_t j = 0; j < c->n; j++) {
        float step = (hi[j] - c->lo[j]) / 15.0f;
        c->step[c->lane[j]] = step;
        c->inv[j] = step > 0.0f ? 1.0f / step : 0.0f;
        c->bias += step * step / 12.0f; /* a uniform rounding error's variance */
    }
    c->sigma = sqrtf(c->bias / (float)c->n);
}

/* The part of v - mean outside the projections, into r[dim]; returns its squared norm. */
static double rest_of(const disco_hnsw *h, const disco__hnsw_codes *c, const float *v, float *r)
{
    size_t d = h->dim;
    double n2 = 0.0;

    for (size_t j = 0; j < d; j++)
        r[j] = v[j] - c->mean[j];
    for (size_t k = 0; k < c->n; k++) {
        const float *u = c->rot + k * d;
        float y = disco_vdist_dot(u, v, d) - c->rmean[k];
        for (size_t j = 0; j < d; j++)
            r[j] -= y * u[j];
    }
    for (size_t j = 0; j < d; j++)
        n2 += (double)r[j] * r[j];
    return n2;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/*
 * The correlation of the rests (the parts outside the projections) of
 * near vectors, measured over layer-0 links of a sample of slots: the
 * RHO_QUANTILE quantile, so that a guess rarely overshoots a near
 * neighbour's distance (tight clusters have nearly parallel rests). 1, a
 * lower bound of the rest's part, when nothing could be measured.
 */
static float fit_rho(const disco_hnsw *h, const disco__hnsw_codes *c)
{
    size_t d = h->dim, n = 0, every = atomic_load(&h->live) / RHO_SAMPLE + 1, seen = 0;
    float *ri = malloc(2 * d * sizeof *ri), *corr = malloc(RHO_SAMPLE * RHO_LINKS * sizeof *corr);
    float rho = 1.0f;

    for (uint32_t id = 0; ri && corr && id < h->cap && n + RHO_LINKS <= RHO_SAMPLE * RHO_LINKS;
         id++) {
        if (!(*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC) || seen++ % every)
            continue;
        const uint32_t *l = disco__hnsw_links(h, id, 0);
        double ni = rest_of(h, c, disco__hnsw_vec(h, id), ri);
        for (uint32_t i = 1; i <= (l[0] & DISCO__HNSW_CNT) && i <= RHO_LINKS; i++) {
            double nj = rest_of(h, c, disco__hnsw_vec(h, l[i]), ri + d);
            if (ni > 0.0 && nj > 0.0)
                corr[n++] = (float)(disco_vdist_dot(ri, ri + d, d) / sqrt(ni * nj));
        }
    }
    if (n > 0) {
        qsort(corr, n, sizeof *corr, cmp_float);
        rho = corr[(size_t)(RHO_QUANTILE * (double)(n - 1))];
    }
    free(ri);
    free(corr);
    return rho < 0.0f ? 0.0f : rho > 1.0f ? 1.0f : rho;
}

/* The principal directions: kept from `old` until the count has grown PROJ_REFIT times. */
static int fit_projection(const disco_hnsw *h, disco__hnsw_codes *c, const disco__hnsw_codes *old)
{
    size_t live = atomic_load(&h->live), d = h->dim;

    if (old && old->proj && live < PROJ_REFIT * old->fitted) {
        memcpy(c->mean, old->mean, d * sizeof *c->mean);
        memcpy(c->rot, old->rot, c->n * d * sizeof *c->rot);
        memcpy(c->rmean, old->rmean, c->n * sizeof *c->rmean);
        c->fitted = old->fitted;
        c->rho = old->rho;
        return 0;
    }
    if (disco__hnsw_pca(h, c->n, c->mean, c->rot))
        return -1;
    c->fitted = live;
    for (size_t k = 0; k < c->n; k++)
        c->rmean[k] = disco_vdist_dot(c->rot + k * d, c->mean, d);
    c->rho = fit_rho(h, c);
    return 0;
}

/*
 * Fits the codes to the vectors present and re-encodes every slot; on no
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
    c = codes_new(h, h->cap);
    if (!c || (c->proj && fit_projection(h, c, h->codes))) {
        disco__hnsw_codes_free(c);
        return;
    }
    fit_scale(h, c);
    for (uint32_t id = 0; id < h->cap; id++)
        if (*disco__hnsw_hdr(h, id) & DISCO__HNSW_OCC)
            encode(h, c, id);
    disco__hnsw_codes_free(h->codes);
    h->codes = c;
}

/* s->qa (and s->rq) for query q (as the graph compares it); -1 when out of memory. */
int disco__hnsw_codes_query(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q)
{
    const disco__hnsw_codes *c = h->codes;
    size_t n = 32 * c->groups;
    float y[PROJ_N], rest = 0.0f;
    const float *x;

    if (s->qa_cap < n) {
        float *qa = realloc(s->qa, n * sizeof *qa);
        if (!qa)
            return -1;
        s->qa = qa;
        s->qa_cap = n;
    }
    memset(s->qa, 0, n * sizeof *s->qa);
    x = coded_values(h, c, q, y, &rest);
    for (size_t j = 0; j < c->n; j++)
        s->qa[c->lane[j]] = c->lo[j] - x[j];
    s->rq = rest;
    return 0;
}

/*
 * Projected codes: a guess at the squared distance from the query of
 * codes_query to slot id, on the low side. The projections give their part
 * up to rounding: bias removes its mean, and GUESS_Z typical errors of it
 * are taken off (at a fine scale, such as tight clusters, that error is
 * larger than the distances and the guess rarely skips anything). The
 * rest, whose norms are known but not their angle, is taken at the
 * correlation fit_rho measured.
 */
float disco__hnsw_codes_guess(const disco_hnsw *h, const disco__hnsw_scratch *s, uint32_t id)
{
    const disco__hnsw_codes *c = h->codes;
    float rx = c->rx[id];

    float proj = disco_vdist_u4(s->qa, c->step, c->code + (size_t)id * c->stride, c->n);
    float noise = GUESS_Z * 2.0f * sqrtf(proj) * c->sigma;

    return proj - c->bias - noise + s->rq * s->rq + rx * rx - 2.0f * c->rho * s->rq * rx;
}

size_t disco__hnsw_codes_bytes(const disco_hnsw *h)
{
    const disco__hnsw_codes *c = h->codes;
    size_t b;

    if (!c)
        return 0;
    b = sizeof *c + c->cap * c->stride + c->n * (sizeof *c->lo + sizeof *c->inv + sizeof *c->lane) +
        32 * c->groups * sizeof *c->step;
    if (c->proj)
        b += (h->dim + c->n * h->dim + c->n + c->cap) * sizeof(float);
    return b;
}

int disco_hnsw_codes_info(const disco_hnsw *h, size_t *bytes_per_vector, size_t *retrain_at)
{
    int has;

    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->sync->grow);
    has = h->codes != NULL;
    if (has && bytes_per_vector)
        *bytes_per_vector = h->codes->stride + (h->codes->proj ? sizeof(float) : 0);
    if (has && retrain_at)
        *retrain_at = atomic_load(&h->codes_next);
    pthread_rwlock_unlock(&h->sync->grow);
    return has;
}
