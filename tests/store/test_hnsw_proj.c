/*
 * test_hnsw_proj.c - the projected traversal codes of long vectors
 * (hnsw_codes.c, hnsw_pca.c): the principal directions and mean they are
 * fitted on, the norm of each vector's rest, how close the guessed
 * distances come to the exact ones, recall and exact distances with them
 * on, when the directions are copied and when refitted, serialise/load,
 * and filters and removals.
 *
 * Data: points around random centres with fixed seeds, so every figure is
 * repeatable. The tests look into the graph (store/hnsw_int.h); the
 * references they compare with are computed here in double precision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/hnsw.h"
#include "support/hnsw_check.h"
#include "support/testutil.h"
#include "store/hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define K 10
#define EF 64
#define TRAIN_AT 1024 /* live count of the first training */
#define NPROJ 80      /* projections per slot */
#define DMAX 512      /* longest vector these tests use */

static disco_hnsw *build(const float *x, size_t n, size_t d, disco_vmetric m, size_t efc)
{
    disco_hnsw *h = tu_hnsw_build(x, n, d, m, efc);

    assert_non_null(h->codes);
    assert_int_equal(h->codes->proj, 1);
    assert_int_equal(h->codes->n, NPROJ);
    assert_int_equal(h->codes->stride, NPROJ / 2);
    return h;
}

/* --- references in double --------------------------------------------- */

static double dot_fd(const float *a, const double *b, size_t d)
{
    double s = 0.0;

    for (size_t j = 0; j < d; j++)
        s += (double)a[j] * b[j];
    return s;
}

/*
 * Splits v - mean (c's table) into its projections y[NPROJ] on c's
 * directions and the rest (r[d], may be NULL); returns the rest's norm.
 */
static double split(const disco__hnsw_codes *c, const float *v, size_t d, double *y, double *r)
{
    double u[DMAX], s = 0.0;

    assert_true(d <= DMAX);
    for (size_t j = 0; j < d; j++)
        u[j] = (double)v[j] - (double)c->mean[j];
    for (size_t k = 0; k < NPROJ; k++) {
        const float *rk = c->rot + k * d;
        y[k] = dot_fd(rk, u, d);
        for (size_t j = 0; j < d; j++)
            u[j] -= y[k] * (double)rk[j];
    }
    for (size_t j = 0; j < d; j++)
        s += u[j] * u[j];
    if (r)
        memcpy(r, u, d * sizeof *u);
    return sqrt(s);
}

/* The mean of the slots from, from + every, ... below to, of x. */
static void data_mean(const float *x, size_t d, size_t to, size_t every, double *mean)
{
    size_t n = 0;

    memset(mean, 0, d * sizeof *mean);
    for (size_t i = 0; i < to; i += every, n++)
        for (size_t j = 0; j < d; j++)
            mean[j] += x[i * d + j];
    for (size_t j = 0; j < d; j++)
        mean[j] /= (double)n;
}

/* --- principal directions ---------------------------------------------- */

/* Rows of rot are unit and pairwise orthogonal; rmean is rot . mean. */
static void check_orthonormal(const disco__hnsw_codes *c, size_t d)
{
    for (size_t a = 0; a < NPROJ; a++) {
        double m = 0.0;
        for (size_t j = 0; j < d; j++)
            m += (double)c->rot[a * d + j] * c->mean[j];
        assert_float_equal(c->rmean[a], m, 1e-4 * fabs(m) + 1e-5);
        for (size_t b = a; b < NPROJ; b++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++)
                s += (double)c->rot[a * d + j] * c->rot[b * d + j];
            if (fabs(s - (a == b)) >= 1e-3)
                fail_msg("rot rows %zu . %zu = %.6f", a, b, s);
        }
    }
}

/*
 * The largest variance of the sample's rests (res[n][d]) along any one
 * direction, from below: a power iteration's Rayleigh quotient.
 */
static double rest_variance(const double *res, size_t n, size_t d)
{
    double v[DMAX], w[DMAX], rq = 0.0;

    for (size_t j = 0; j < d; j++)
        v[j] = 1.0 / sqrt((double)d) * (j % 2 ? 1.0 : -1.0);
    for (int it = 0; it < 30; it++) {
        double norm = 0.0;
        memset(w, 0, d * sizeof *w);
        for (size_t i = 0; i < n; i++) {
            double p = 0.0;
            for (size_t j = 0; j < d; j++)
                p += res[i * d + j] * v[j];
            for (size_t j = 0; j < d; j++)
                w[j] += p * res[i * d + j] / (double)n;
        }
        rq = 0.0;
        for (size_t j = 0; j < d; j++) {
            rq += w[j] * v[j];
            norm += w[j] * w[j];
        }
        norm = sqrt(norm);
        for (size_t j = 0; j < d; j++)
            v[j] = w[j] / norm;
    }
    return rq;
}

/*
 * c was fitted over x[0..n) (its sample: all of them): its mean is theirs,
 * its rows orthonormal, their variances decreasing, and no direction left
 * out carries more variance than the last row.
 */
static void check_pca(const disco__hnsw_codes *c, const float *x, size_t n, size_t d)
{
    double mean[DMAX], var[NPROJ] = {0}, y[NPROJ], top;
    double *res = malloc(n * d * sizeof *res);

    assert_non_null(res);
    data_mean(x, d, n, 1, mean);
    for (size_t j = 0; j < d; j++)
        assert_float_equal(c->mean[j], mean[j], 1e-5);
    check_orthonormal(c, d);
    for (size_t i = 0; i < n; i++) {
        split(c, x + i * d, d, y, res + i * d);
        for (size_t k = 0; k < NPROJ; k++)
            var[k] += y[k] * y[k] / (double)n;
    }
    for (size_t k = 1; k < NPROJ; k++)
        if (var[k] > var[k - 1] * (1.0 + 1e-3))
            fail_msg("variance along row %zu %.5f > row %zu %.5f", k, var[k], k - 1, var[k - 1]);
    top = rest_variance(res, n, d);
    print_message("variance along rows 0 / 79: %.3f / %.3f, most outside them: %.3f\n", var[0],
                  var[NPROJ - 1], top);
    assert_true(top <= var[NPROJ - 1] * (1.0 + 1e-3));
    free(res);
}

/*
 * Fitted at the first training over the 1024 points then present (the
 * later ones do not move it); a loaded graph fits over all it holds.
 */
static void test_directions(void **state)
{
    const size_t n = 1500, d = 400;
    float *x = tu_hnsw_points(n, d, 100, 3);
    disco_hnsw *h = build(x, n, d, DISCO_VMETRIC_L2, 16), *g;

    (void)state;
    assert_int_equal(h->codes->fitted, TRAIN_AT);
    check_pca(h->codes, x, TRAIN_AT, d);
    g = tu_hnsw_reload(h);
    assert_non_null(g->codes);
    assert_int_equal(g->codes->proj, 1);
    assert_int_equal(g->codes->fitted, n);
    check_pca(g->codes, x, n, d);
    disco_hnsw_free(h);
    disco_hnsw_free(g);
    free(x);
}

/* --- what each slot stores ------------------------------------------------ */

/* The 4-bit code of projection k of `slot`, read by its lane. */
static unsigned nibble(const disco__hnsw_codes *c, uint32_t slot, size_t k)
{
    uint32_t lane = c->lane[k];
    uint8_t byte = c->code[(size_t)slot * c->stride + disco_vdist_u4_byte(c->n, lane)];

    return lane % 32 < 16 ? byte & 15u : (unsigned)byte >> 4;
}

/* rx[slot] is the norm of its rest; its codes decode its projections within half a step. */
static void check_slot(const disco_hnsw *h, uint32_t slot, size_t *inside)
{
    const disco__hnsw_codes *c = h->codes;
    double y[NPROJ], rest = split(c, disco_hnsw_vector(h, slot), h->dim, y, NULL);

    if (fabs(c->rx[slot] - rest) > 1e-3 * rest + 1e-4)
        fail_msg("slot %u: rx %.6f, rest %.6f", slot, (double)c->rx[slot], rest);
    for (size_t k = 0; k < NPROJ; k++) {
        double step = c->step[c->lane[k]], lo = c->lo[k];
        double got = lo + nibble(c, slot, k) * step;
        if (y[k] < lo || y[k] > lo + 15.0 * step) /* clamped: past the fitted range */
            continue;
        ++*inside;
        if (fabs(got - y[k]) > 0.5 * step + 1e-4)
            fail_msg("slot %u projection %zu: %.5f decodes %.5f", slot, k, y[k], got);
    }
}

/*
 * Slots coded at training (below 1024) and at insert (after it), and a
 * query's rest as codes_query gives it.
 */
static void test_rest_norms(void **state)
{
    const size_t n = 1500, d = 320;
    float *x = tu_hnsw_points(n + 1, d, 40, 5);
    disco_hnsw *h = build(x, n, d, DISCO_VMETRIC_L2, 16);
    disco__hnsw_scratch *s = disco__hnsw_scratch_get(h);
    double y[NPROJ];
    size_t inside = 0, checked = 0;

    (void)state;
    for (uint32_t id = 0; id < n; id += 7, checked += NPROJ)
        check_slot(h, id, &inside);
    check_slot(h, (uint32_t)n - 1, &inside);
    assert_true(inside >= checked * 9 / 10);
    assert_non_null(s);
    assert_int_equal(disco__hnsw_codes_query(h, s, x + n * d), 0);
    assert_float_equal(s->rq, split(h->codes, x + n * d, d, y, NULL), 1e-3 * s->rq);
    disco__hnsw_scratch_put(h, s);
    disco_hnsw_free(h);
    free(x);
}

/* --- guessed distances ---------------------------------------------------- */

/* Mean |guess - exact| / exact and mean (guess - exact) / exact over pairs of q and slots. */
typedef struct guess_err {
    double abs, bias;
    size_t n;
} guess_err;

static void add_guess(const disco_hnsw *h, disco__hnsw_scratch *s, const float *q, uint32_t slot,
                      guess_err *e)
{
    float exact = disco_vdist_l2sq_ref(q, disco_hnsw_vector(h, slot), h->dim);
    float g = disco__hnsw_codes_guess(h, s, slot);

    assert_true(exact > 0.0f);
    e->abs += fabs((double)g - exact) / exact;
    e->bias += ((double)g - exact) / exact;
    e->n++;
}

static void print_guess(const char *what, const guess_err *e)
{
    print_message("guess error, %s slots: mean |rel| %.3f, mean rel %+.3f\n", what,
                  e->abs / (double)e->n, e->bias / (double)e->n);
}

/* Mean |relative error| at most `most`, and the guesses low on average. */
static void check_guess(const guess_err *e, double most)
{
    assert_true(e->abs / (double)e->n <= most);
    assert_true(e->bias / (double)e->n <= 0.0);
}

/* A data point plus uniform noise of +-0.2 per component, into q. */
static void noisy(const float *v, size_t d, uint64_t *rng, float *q)
{
    for (size_t j = 0; j < d; j++)
        q[j] = v[j] + 0.4f * ((float)(tu_xorshift(rng) >> 11) / 9007199254740992.0f - 0.5f);
}

/*
 * 200 queries near data points, each against a random slot (mostly in
 * another cluster), its EF-th nearest slot (about where a walk's bound
 * sits), its K-th nearest (same cluster) and its nearest: for the first
 * three the guess is on average within a modest fraction of the exact
 * squared distance, and low rather than high (a guess too high skips a
 * neighbour that belongs in the results). The nearest, a near copy, is
 * guessed far too long (their rests are nearly parallel, the guess takes
 * them at correlation 0.4): printed only.
 */
static void test_guess(void **state)
{
    const size_t n = 2000, d = 300, nq = 200;
    float *x = tu_hnsw_points(n, d, 40, 7), q[300];
    disco_hnsw *h = build(x, n, d, DISCO_VMETRIC_L2, 16);
    disco__hnsw_scratch *s = disco__hnsw_scratch_get(h);
    guess_err far = {0}, bound = {0}, kth = {0}, near = {0};
    uint64_t rng = 99;

    (void)state;
    assert_non_null(s);
    for (size_t i = 0; i < nq; i++) {
        uint32_t nn[EF];
        float nd[EF];
        size_t got = 0;
        noisy(x + (tu_xorshift(&rng) % n) * d, d, &rng, q);
        assert_int_equal(disco_hnsw_search_exact(h, q, EF, NULL, NULL, nn, nd, &got, NULL),
                         DISCO_OK);
        assert_int_equal(got, EF);
        assert_int_equal(disco__hnsw_codes_query(h, s, q), 0);
        add_guess(h, s, q, (uint32_t)(tu_xorshift(&rng) % n), &far);
        add_guess(h, s, q, nn[EF - 1], &bound);
        add_guess(h, s, q, nn[K - 1], &kth);
        add_guess(h, s, q, nn[0], &near);
    }
    disco__hnsw_scratch_put(h, s);
    print_guess("random", &far);
    print_guess("EF-th nearest", &bound);
    print_guess("K-th nearest", &kth);
    print_guess("nearest", &near);
    check_guess(&far, 0.15);
    check_guess(&bound, 0.15);
    check_guess(&kth, 0.35);
    disco_hnsw_free(h);
    free(x);
}

/* --- search with projected codes ------------------------------------------ */

/* Recall@K with codes on, for L2 and cosine. */
static void test_recall(void **state)
{
    const tu_hnsw_set set = {.n = 2500, .nq = 50, .d = 320, .centres = 30, .seed = 11, .efc = 48};

    (void)state;
    tu_hnsw_check_recall(build, &set, "projected codes", K, EF, 0.95);
}

/*
 * Many tight clusters larger than ef: at that scale the codes' rounding is
 * coarser than the distances, and the rests of near vectors are nearly
 * parallel (a fixed correlation of 0.4 in the guess gave recall 0.925 here
 * against 0.985 with the codes off). The
 * guess must then stay low (measured correlation, rounding taken off), so
 * the skim does not drop true neighbours: recall as with the codes off.
 */
static void test_tight_clusters(void **state)
{
    const size_t n = 12000, nq = 40, d = 300;
    float *x = tu_clustered(n + nq, d, 100, 0.02f, 43);
    disco_hnsw *h;
    disco__hnsw_codes *c;
    tu_hnsw_allow all = {NULL, NULL};

    (void)state;
    assert_non_null(x);
    h = build(x, n, d, DISCO_VMETRIC_L2, 64);
    for (size_t i = 0; i < nq; i++) /* queries: data points, slightly moved */
        for (size_t j = 0; j < d; j++)
            x[(n + i) * d + j] =
                x[(i * 97) * d + j] +
                0.01f * ((float)((j * 2654435761u + i * 40503u) % 1000) / 1000.0f - 0.5f);
    assert_non_null(h->codes);
    assert_true(h->codes->rho > 0.9f);
    double with = tu_hnsw_recall(h, x + n * d, nq, K, EF, all);
    c = h->codes;
    h->codes = NULL;
    double without = tu_hnsw_recall(h, x + n * d, nq, K, EF, all);
    h->codes = c;
    print_message("tight clusters: rho %.3f, recall@10 %.3f with codes, %.3f without\n",
                  (double)c->rho, with, without);
    assert_true(with >= without - 0.02);
    disco_hnsw_free(h);
    free(x);
}

/* --- refitting ------------------------------------------------------------- */

/* A copy of c's mean and directions. */
static float *save_fit(const disco__hnsw_codes *c, size_t d)
{
    float *f = malloc((d + NPROJ * d) * sizeof *f);

    assert_non_null(f);
    memcpy(f, c->mean, d * sizeof *f);
    memcpy(f + d, c->rot, NPROJ * d * sizeof *f);
    return f;
}

static int same_fit(const disco__hnsw_codes *c, const float *f, size_t d)
{
    return memcmp(f, c->mean, d * sizeof *f) == 0 &&
           memcmp(f + d, c->rot, NPROJ * d * sizeof *f) == 0;
}

/* lo and lo + 15 step of each projection are its extremes over slots 0..n-1. */
static void check_scale(const disco_hnsw *h, size_t n)
{
    const disco__hnsw_codes *c = h->codes;
    double lo[NPROJ], hi[NPROJ], y[NPROJ];

    for (size_t k = 0; k < NPROJ; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (uint32_t id = 0; id < n; id++) {
        split(c, disco_hnsw_vector(h, id), h->dim, y, NULL);
        for (size_t k = 0; k < NPROJ; k++) {
            lo[k] = fmin(lo[k], y[k]);
            hi[k] = fmax(hi[k], y[k]);
        }
    }
    for (size_t k = 0; k < NPROJ; k++) {
        double top = c->lo[k] + 15.0 * c->step[c->lane[k]];
        if (fabs(c->lo[k] - lo[k]) > 1e-3 || fabs(top - hi[k]) > 1e-3)
            fail_msg("projection %zu: scale %.5f..%.5f, extremes %.5f..%.5f", k, (double)c->lo[k],
                     top, lo[k], hi[k]);
    }
}

/*
 * Grows to 8192 under the retrainings at 1024, 2048, 4096 and 8192: the
 * directions are fitted at 1024, copied (with a new scale) until the count
 * is 8 times that, then refitted over a sample of every 4th slot.
 */
static void test_refit(void **state)
{
    const size_t d = 300, n = 8 * TRAIN_AT;
    float *x = tu_hnsw_points(n, d, 40, 13), *fit;
    disco_hnsw *h = tu_hnsw_empty(d, DISCO_VMETRIC_L2, 16);
    const disco__hnsw_codes *first;
    double mean[DMAX];

    (void)state;
    assert_int_equal(disco_hnsw_reserve(h, n, NULL), DISCO_OK);
    tu_hnsw_add_range(h, x, 0, TRAIN_AT);
    first = h->codes;
    assert_non_null(first);
    assert_int_equal(first->fitted, TRAIN_AT);
    fit = save_fit(first, d);
    for (size_t to = 2 * TRAIN_AT; to < n; to *= 2) {
        const disco__hnsw_codes *before = h->codes;
        tu_hnsw_add_range(h, x, to / 2, to);
        assert_ptr_not_equal(h->codes, before); /* retrained ... */
        assert_int_equal(h->codes->fitted, TRAIN_AT);
        assert_true(same_fit(h->codes, fit, d)); /* ... on the same directions */
        if (to == 2 * TRAIN_AT)
            check_scale(h, to); /* ... with the scale refitted over all the slots */
    }
    tu_hnsw_add_range(h, x, n / 2, n - 1);
    assert_int_equal(h->codes->fitted, TRAIN_AT);
    tu_hnsw_add_range(h, x, n - 1, n);
    assert_int_equal(h->codes->fitted, n);
    assert_false(same_fit(h->codes, fit, d));
    check_orthonormal(h->codes, d);
    data_mean(x, d, n, n / 2048, mean);
    for (size_t j = 0; j < d; j++)
        assert_float_equal(h->codes->mean[j], mean[j], 1e-5);
    assert_int_equal(atomic_load(&h->codes_next), 2 * n);
    free(fit);
    disco_hnsw_free(h);
    free(x);
}

/* --- serialisation, filters, removals ------------------------------------ */

/* The two graphs' codes are the same table, bit for bit, over n slots. */
static void check_same_codes(const disco_hnsw *a, const disco_hnsw *b, size_t n)
{
    const disco__hnsw_codes *x = a->codes, *y = b->codes;
    size_t d = a->dim;

    assert_non_null(y);
    assert_int_equal(y->proj, 1);
    assert_int_equal(y->n, NPROJ);
    assert_int_equal(y->stride, NPROJ / 2);
    assert_int_equal(y->fitted, x->fitted);
    assert_memory_equal(x->mean, y->mean, d * sizeof *x->mean);
    assert_memory_equal(x->rot, y->rot, NPROJ * d * sizeof *x->rot);
    assert_memory_equal(x->lo, y->lo, NPROJ * sizeof *x->lo);
    assert_memory_equal(x->step, y->step, 32 * x->groups * sizeof *x->step);
    assert_memory_equal(x->code, y->code, n * x->stride);
    assert_memory_equal(x->rx, y->rx, n * sizeof *x->rx);
}

/*
 * 1024 cosine vectors: the original was fitted over exactly these, so the
 * loaded graph (fitted at load) has the same codes and search results.
 */
static void test_roundtrip(void **state)
{
    const tu_hnsw_set set = {.n = TRAIN_AT,
                             .nq = 30,
                             .d = 300,
                             .centres = 20,
                             .seed = 17,
                             .m = DISCO_VMETRIC_COSINE,
                             .efc = 32};

    (void)state;
    tu_hnsw_check_roundtrip(build, check_same_codes, &set, K, EF);
}

static void test_filter_remove(void **state)
{
    const tu_hnsw_set set = {
        .n = 2000, .nq = 40, .d = 300, .centres = 20, .seed = 23, .m = DISCO_VMETRIC_L2, .efc = 32};

    (void)state;
    tu_hnsw_check_filter_remove(build, &set, K, EF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directions),     cmocka_unit_test(test_rest_norms),
        cmocka_unit_test(test_guess),          cmocka_unit_test(test_recall),
        cmocka_unit_test(test_tight_clusters), cmocka_unit_test(test_refit),
        cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_filter_remove),
    };

    return cmocka_run_group_tests_name("store/hnsw_proj", tests, NULL, NULL);
}
