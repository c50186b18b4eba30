/*
 * test_hnsw_codes.c - the HNSW graph's 4-bit traversal codes (hnsw_codes.c):
 * when they are trained and retrained, which graphs get which kind, recall
 * and exact (reranked) distances with codes on, vectors outside the trained
 * range, filters and removals, serialise/load, the bytes they take and the
 * lane layout the distance kernel reads.
 *
 * Data: points around random centres with fixed seeds, so every figure is
 * repeatable. The tests look into the graph (store/hnsw_int.h) for the codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/hnsw.h"
#include "support/hnsw_check.h"
#include "store/hnsw_int.h"

#include <math.h>
#include <stdlib.h>

#define K 10
#define EF 64
#define TRAIN_AT 1024 /* live count of the first training */

/* A graph of x[0..n) that has codes. */
static disco_hnsw *build(const float *x, size_t n, size_t d, disco_vmetric m, size_t efc)
{
    disco_hnsw *h = tu_hnsw_build(x, n, d, m, efc);

    assert_non_null(h->codes);
    return h;
}

/* The 4-bit code of component j of `slot`, read by its lane. */
static unsigned nibble(const disco__hnsw_codes *c, uint32_t slot, size_t j)
{
    uint32_t lane = c->lane[j];
    uint8_t b = c->code[(size_t)slot * c->stride + disco_vdist_u4_byte(c->n, lane)];

    return lane % 32 < 16 ? b & 15u : (unsigned)b >> 4;
}

/* The smallest value of component j over the live stored vectors. */
static float stored_min(const disco_hnsw *h, size_t n, size_t j)
{
    float lo = INFINITY;

    for (uint32_t i = 0; i < n; i++) {
        const float *v = disco_hnsw_vector(h, i);
        if (v && v[j] < lo)
            lo = v[j];
    }
    return lo;
}

/* --- when codes exist ------------------------------------------------------ */

/* Checks that lo is the minimum over the first n stored vectors. */
static void check_lo(const disco_hnsw *h, size_t n)
{
    for (size_t j = 0; j < h->dim; j++)
        assert_float_equal(h->codes->lo[j], stored_min(h, n, j), 0.0);
}

/* Trained at 1024 live vectors, not before; retrained at 2048 over them all. */
static void test_train_points(void **state)
{
    const size_t d = 24;
    float *x = tu_hnsw_points(2048, d, 16, 3);
    disco_hnsw *h = tu_hnsw_empty(d, DISCO_VMETRIC_L2, 32);
    disco__hnsw_codes *first;

    (void)state;
    /* The later half spreads wider, so the retrained scale must differ. */
    for (size_t i = TRAIN_AT * d; i < 2048 * d; i++)
        x[i] *= 3.0f;
    assert_int_equal(atomic_load(&h->codes_next), TRAIN_AT);
    tu_hnsw_add_range(h, x, 0, TRAIN_AT - 1);
    assert_null(h->codes);
    tu_hnsw_add_range(h, x, TRAIN_AT - 1, TRAIN_AT);
    assert_non_null(h->codes);
    assert_int_equal(h->codes->cap, h->cap);
    assert_int_equal(atomic_load(&h->codes_next), 2 * TRAIN_AT);
    check_lo(h, TRAIN_AT);
    first = h->codes;
    tu_hnsw_add_range(h, x, TRAIN_AT, 2047);
    assert_ptr_equal(h->codes, first);
    float lo0 = first->lo[0];
    tu_hnsw_add_range(h, x, 2047, 2048);
    assert_ptr_not_equal(h->codes, first);
    assert_int_equal(atomic_load(&h->codes_next), 4096);
    assert_true(h->codes->lo[0] < lo0);
    check_lo(h, 2048);
    assert_int_equal(h->codes->cap, h->cap);
    disco_hnsw_free(h);
    free(x);
}

/*
 * Adds TRAIN_AT + 76 points of dim d under metric m. With proj < 0: no
 * codes and none due. Else codes of kind proj (1: projections), n values
 * and stride bytes a slot, next trained at 2 * TRAIN_AT.
 */
static void check_codes(size_t d, disco_vmetric m, int proj, size_t n, size_t stride)
{
    float *x = tu_hnsw_points(TRAIN_AT + 76, d, 8, 5 + d);
    disco_hnsw *h = tu_hnsw_build(x, TRAIN_AT + 76, d, m, 16);

    if (proj < 0) {
        assert_null(h->codes);
        assert_int_equal(atomic_load(&h->codes_next), SIZE_MAX);
    } else {
        assert_non_null(h->codes);
        assert_int_equal(atomic_load(&h->codes_next), 2 * TRAIN_AT);
        assert_int_equal(h->codes->proj, proj);
        assert_int_equal(h->codes->n, n);
        assert_int_equal(h->codes->stride, stride);
    }
    disco_hnsw_free(h);
    free(x);
}

/*
 * Inner product never gets codes; L2 and cosine up to dim 256 get codes of
 * the components, and past it codes of 80 projections (40 bytes a slot).
 */
static void test_no_codes(void **state)
{
    (void)state;
    check_codes(24, DISCO_VMETRIC_IP, -1, 0, 0);
    check_codes(300, DISCO_VMETRIC_IP, -1, 0, 0);
    check_codes(256, DISCO_VMETRIC_L2, 0, 256, 128);
    check_codes(257, DISCO_VMETRIC_COSINE, 1, 80, 40);
    check_codes(300, DISCO_VMETRIC_L2, 1, 80, 40);
}

/* --- search with codes ----------------------------------------------------- */

/* Recall@K with codes on, for L2 and cosine. */
static void test_recall(void **state)
{
    const tu_hnsw_set set = {.n = 3000, .nq = 60, .d = 40, .centres = 30, .seed = 11, .efc = 64};

    (void)state;
    tu_hnsw_check_recall(build, &set, "codes", K, EF, 0.95);
}

/* Query = the vector at `slot`: the top result is that slot at distance ~0. */
static void check_self(const disco_hnsw *h, const float *v, uint32_t slot)
{
    uint32_t s[K];
    float dist[K];
    size_t got = 0;

    assert_int_equal(disco_hnsw_search(h, v, K, EF, NULL, NULL, s, dist, &got, NULL), DISCO_OK);
    assert_int_equal(got, K);
    assert_int_equal(s[0], slot);
    assert_true(dist[0] <= 1e-6f);
    tu_hnsw_check_exact_dists(h, v, s, dist, got);
}

/* Vectors far outside the trained range: codes clamped, still found exactly. */
static void test_outlier(void **state)
{
    const size_t n = 3000, d = 24;
    float *x = tu_hnsw_points(n + 2, d, 20, 17);
    disco_hnsw *h = build(x, n, d, DISCO_VMETRIC_L2, 64);
    const disco__hnsw_codes *c = h->codes;
    float *hi = x + n * d, *lo = x + (n + 1) * d;

    (void)state;
    assert_non_null(c);
    hi[5] = c->lo[5] + 100.0f * 15.0f * c->step[c->lane[5]];
    lo[17] = c->lo[17] - 100.0f * 15.0f * c->step[c->lane[17]];
    tu_hnsw_add_range(h, x, n, n + 2);
    assert_ptr_equal(h->codes, c); /* no retraining: the scale is still the old one */
    assert_int_equal(nibble(c, (uint32_t)n, 5), 15);
    assert_int_equal(nibble(c, (uint32_t)n + 1, 17), 0);
    assert_memory_equal(disco_hnsw_vector(h, (uint32_t)n), hi, d * sizeof *hi);
    assert_memory_equal(disco_hnsw_vector(h, (uint32_t)n + 1), lo, d * sizeof *lo);
    check_self(h, hi, (uint32_t)n);
    check_self(h, lo, (uint32_t)n + 1);
    disco_hnsw_free(h);
    free(x);
}

/* --- filters, removals, serialisation ------------------------------------- */

static void test_filter_remove(void **state)
{
    const tu_hnsw_set set = {
        .n = 3000, .nq = 50, .d = 24, .centres = 20, .seed = 23, .m = DISCO_VMETRIC_L2, .efc = 64};

    (void)state;
    tu_hnsw_check_filter_remove(build, &set, K, EF);
}

/* The loaded codes equal the original ones (trained over the same vectors). */
static void check_same_codes(const disco_hnsw *a, const disco_hnsw *b, size_t n)
{
    const disco__hnsw_codes *x = a->codes, *y = b->codes;

    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(x->stride, y->stride);
    assert_int_equal(x->groups, y->groups);
    assert_memory_equal(x->lo, y->lo, a->dim * sizeof *x->lo);
    assert_memory_equal(x->step, y->step, 32 * x->groups * sizeof *x->step);
    assert_memory_equal(x->lane, y->lane, a->dim * sizeof *x->lane);
    assert_memory_equal(x->code, y->code, n * x->stride);
    assert_int_equal(atomic_load(&a->codes_next), atomic_load(&b->codes_next));
}

/*
 * 2048 vectors: the original was last trained over exactly these, so the
 * loaded graph's codes (trained at load) and its searches must match it.
 */
static void test_roundtrip(void **state)
{
    const tu_hnsw_set set = {
        .n = 2048, .nq = 50, .d = 24, .centres = 20, .seed = 29, .m = DISCO_VMETRIC_L2, .efc = 64};

    (void)state;
    tu_hnsw_check_roundtrip(build, check_same_codes, &set, K, EF);
}

/* Training over a loaded graph of 3000: codes fit all of them. */
static void test_load_retrains(void **state)
{
    const size_t n = 3000, d = 24;
    float *x = tu_hnsw_points(n, d, 20, 31);
    disco_hnsw *h = build(x, n, d, DISCO_VMETRIC_COSINE, 32), *g = tu_hnsw_reload(h);

    (void)state;
    assert_non_null(g->codes);
    assert_int_equal(atomic_load(&g->codes_next), 2 * n);
    check_lo(g, n);
    check_self(g, disco_hnsw_vector(g, 7), 7);
    disco_hnsw_free(h);
    disco_hnsw_free(g);
    free(x);
}

/* --- sizes and layout ------------------------------------------------------ */

/* Lanes are distinct and every component's nibble lies within its slot's stride. */
static void check_lane_bytes(const disco__hnsw_codes *c, size_t d)
{
    uint8_t seen[256] = {0};

    assert_int_equal(c->groups, (d + 31) / 32);
    for (size_t j = 0; j < d; j++) {
        uint32_t lane = c->lane[j];
        assert_true(lane < 32 * c->groups);
        assert_int_equal(seen[lane], 0);
        seen[lane] = 1;
        assert_true(disco_vdist_u4_byte(c->n, lane) < c->stride);
    }
}

/*
 * A graph of dim d reserved for TRAIN_AT slots: the stride of its codes.
 * disco_hnsw_bytes grows at training by at least the code table, and by
 * the table plus *extra when the graph is measured without its codes.
 */
static size_t stride_of(size_t d, size_t *extra)
{
    float *x = tu_hnsw_points(TRAIN_AT, d, 8, 37 + d);
    disco_hnsw *h = tu_hnsw_empty(d, DISCO_VMETRIC_L2, 16);
    disco__hnsw_codes *c;
    size_t before, after, bare, stride;

    assert_int_equal(disco_hnsw_reserve(h, TRAIN_AT, NULL), DISCO_OK);
    tu_hnsw_add_range(h, x, 0, TRAIN_AT - 1);
    assert_null(h->codes);
    before = disco_hnsw_bytes(h);
    tu_hnsw_add_range(h, x, TRAIN_AT - 1, TRAIN_AT);
    c = h->codes;
    assert_non_null(c);
    assert_int_equal(c->cap, TRAIN_AT);
    stride = c->stride;
    check_lane_bytes(c, d);
    after = disco_hnsw_bytes(h);
    h->codes = NULL; /* the same graph, measured without its codes */
    bare = disco_hnsw_bytes(h);
    h->codes = c;
    assert_true(after - before >= TRAIN_AT * stride);
    assert_true(after - bare >= TRAIN_AT * stride);
    *extra = after - bare - TRAIN_AT * stride;
    disco_hnsw_free(h);
    free(x);
    return stride;
}

static void test_code_bytes(void **state)
{
    size_t extra = 0;

    (void)state;
    assert_int_equal(stride_of(100, &extra), 50);
    print_message("dim 100: %d code bytes per slot, %zu bytes besides\n", 50, extra);
    assert_true(extra <= 4096); /* scale and lanes: small and fixed */
    assert_int_equal(stride_of(99, &extra), 50);
    assert_true(extra <= 4096);
    assert_int_equal(stride_of(33, &extra), 17);
    assert_true(extra <= 4096);
}

static void check_lanes(const disco__hnsw_codes *c, size_t d)
{
    uint8_t seen[64] = {0};

    assert_int_equal(c->groups, 2);
    assert_int_equal(c->stride, 20);
    for (size_t j = 0; j < d; j++) {
        assert_true(c->lane[j] < 32 * c->groups);
        assert_int_equal(seen[c->lane[j]], 0);
        seen[c->lane[j]] = 1;
    }
    for (size_t j = 0; j < 32; j++)
        assert_int_equal(c->lane[j], j);
    for (size_t j = 32; j < 36; j++)
        assert_int_equal(c->lane[j], j);
    for (size_t j = 36; j < 40; j++)
        assert_int_equal(c->lane[j], 48 + j - 36);
    for (size_t l = 0; l < 64; l++) /* lanes no component uses add nothing */
        if (!seen[l])
            assert_true(c->step[l] == 0.0f);
}

/*
 * Decoding slot `id` by its lanes gives its vector within half a step, and
 * disco_vdist_u4 over its code bytes is the distance from q to that decoding.
 */
static void check_decode(const disco_hnsw *h, uint32_t id, const float *q)
{
    const disco__hnsw_codes *c = h->codes;
    const float *v = disco_hnsw_vector(h, id);
    float r[40], qa[64] = {0};

    for (size_t j = 0; j < h->dim; j++) {
        float step = c->step[c->lane[j]];
        r[j] = c->lo[j] + (float)nibble(c, id, j) * step;
        assert_true(fabsf(r[j] - v[j]) <= 0.5f * step + 1e-5f);
        qa[c->lane[j]] = c->lo[j] - q[j];
    }
    float want = disco_vdist_l2sq_ref(q, r, h->dim);
    float got = disco_vdist_u4(qa, c->step, c->code + (size_t)id * c->stride, c->n);
    assert_float_equal(got, want, 1e-4 * want + 1e-5);
    assert_float_equal(disco_vdist_u4_ref(qa, c->step, c->code + (size_t)id * c->stride, c->n),
                       want, 1e-4 * want + 1e-5);
}

/* Dim 40: one full group of 32 and a tail of 8 split over both nibbles. */
static void test_lanes(void **state)
{
    const size_t d = 40;
    float *x = tu_hnsw_points(TRAIN_AT + 1, d, 8, 41);
    disco_hnsw *h = tu_hnsw_empty(d, DISCO_VMETRIC_L2, 16);

    (void)state;
    assert_int_equal(disco_hnsw_reserve(h, TRAIN_AT, NULL), DISCO_OK);
    tu_hnsw_add_range(h, x, 0, TRAIN_AT);
    assert_non_null(h->codes);
    check_lanes(h->codes, d);
    /* the last slot: its tail group is read without going past the codes (ASan checks) */
    for (uint32_t id = 0; id < TRAIN_AT; id += 73)
        check_decode(h, id, x + TRAIN_AT * d);
    check_decode(h, TRAIN_AT - 1, x + TRAIN_AT * d);
    disco_hnsw_free(h);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_points),  cmocka_unit_test(test_no_codes),
        cmocka_unit_test(test_recall),        cmocka_unit_test(test_outlier),
        cmocka_unit_test(test_filter_remove), cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_load_retrains), cmocka_unit_test(test_code_bytes),
        cmocka_unit_test(test_lanes),
    };

    return cmocka_run_group_tests_name("store/hnsw_codes", tests, NULL, NULL);
}
