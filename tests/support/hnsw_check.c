/*
 * hnsw_check.c - helpers shared by the HNSW graph's test groups (see
 * hnsw_check.h). They fail the running cmocka test on any mismatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/hnsw_check.h"
#include "support/testutil.h"
#include "store/hnsw_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

float *tu_hnsw_points(size_t n, size_t d, size_t centres, uint64_t seed)
{
    float *x = tu_clustered(n, d, centres, 0.4f, seed);

    assert_non_null(x);
    return x;
}

disco_hnsw *tu_hnsw_empty(size_t d, disco_vmetric m, size_t efc)
{
    disco_hnsw_config cfg = disco_hnsw_config_default(d, m);
    disco_hnsw *h = NULL;

    cfg.ef_construction = efc;
    assert_int_equal(disco_hnsw_new(&cfg, &h, NULL), DISCO_OK);
    return h;
}

void tu_hnsw_add_range(disco_hnsw *h, const float *x, size_t from, size_t to)
{
    disco_status st = {0};

    for (size_t i = from; i < to; i++)
        if (disco_hnsw_add(h, (uint32_t)i, x + i * h->dim, &st) != DISCO_OK)
            fail_msg("add slot %zu: %s", i, st.msg);
}

disco_hnsw *tu_hnsw_build(const float *x, size_t n, size_t d, disco_vmetric m, size_t efc)
{
    disco_hnsw *h = tu_hnsw_empty(d, m, efc);

    tu_hnsw_add_range(h, x, 0, n);
    return h;
}

disco_hnsw *tu_hnsw_reload(const disco_hnsw *h)
{
    disco_hnsw *g = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;

    assert_int_equal(disco_hnsw_serialize(h, &buf, &len, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_load(buf, len, &g, NULL), DISCO_OK);
    free(buf);
    return g;
}

void tu_hnsw_check_exact_dists(const disco_hnsw *h, const float *q, const uint32_t *s,
                               const float *dist, size_t n)
{
    float *qn = malloc(h->dim * sizeof *qn);

    assert_non_null(qn);
    memcpy(qn, q, h->dim * sizeof *q);
    if (h->metric == DISCO_VMETRIC_COSINE)
        disco_vdist_normalize(qn, h->dim);
    for (size_t i = 0; i < n; i++) {
        const float *v = disco_hnsw_vector(h, s[i]);
        assert_non_null(v);
        float want = disco_vdist(h->metric, qn, v, h->dim);
        if (fabsf(dist[i] - want) > 1e-4f * fabsf(want) + 1e-6f)
            fail_msg("slot %u: distance %.7g, exact %.7g", s[i], (double)dist[i], (double)want);
        if (i > 0)
            assert_true(dist[i - 1] <= dist[i]);
    }
    free(qn);
}

/* Graph search for q under a, returning its result count; k <= TU_HNSW_KMAX. */
static size_t graph_search(const disco_hnsw *h, const float *q, size_t k, size_t ef,
                           tu_hnsw_allow a, uint32_t *s, float *dist)
{
    size_t got = 0;

    assert_true(k <= TU_HNSW_KMAX);
    assert_int_equal(disco_hnsw_search(h, q, k, ef, a.fn, a.user, s, dist, &got, NULL), DISCO_OK);
    return got;
}

double tu_hnsw_recall(const disco_hnsw *h, const float *q, size_t nq, size_t k, size_t ef,
                      tu_hnsw_allow a)
{
    size_t hits = 0, total = 0;

    for (size_t i = 0; i < nq; i++) {
        uint32_t gs[TU_HNSW_KMAX], es[TU_HNSW_KMAX];
        float gd[TU_HNSW_KMAX], ed[TU_HNSW_KMAX];
        size_t en = 0;
        const float *qi = q + i * h->dim;
        size_t gn = graph_search(h, qi, k, ef, a, gs, gd);
        assert_int_equal(disco_hnsw_search_exact(h, qi, k, a.fn, a.user, es, ed, &en, NULL),
                         DISCO_OK);
        assert_int_equal(gn, en);
        tu_hnsw_check_exact_dists(h, qi, gs, gd, gn);
        for (size_t u = 0; u < en; u++)
            for (size_t v = 0; v < gn; v++)
                hits += es[u] == gs[v];
        total += en;
    }
    return total ? (double)hits / (double)total : 1.0;
}

/* The n + nq points of set. */
static float *set_points(const tu_hnsw_set *set)
{
    assert_true(set->centres > 0);
    return tu_hnsw_points(set->n + set->nq, set->d, set->centres, set->seed);
}

/* tu_hnsw_recall of the queries on the graph of set, made by build. */
static double set_recall(tu_hnsw_build_fn build, const tu_hnsw_set *set, size_t k, size_t ef)
{
    float *x = set_points(set);
    disco_hnsw *h = build(x, set->n, set->d, set->m, set->efc);
    tu_hnsw_allow all = {NULL, NULL};
    double r = tu_hnsw_recall(h, x + set->n * set->d, set->nq, k, ef, all);

    disco_hnsw_free(h);
    free(x);
    return r;
}

void tu_hnsw_check_recall(tu_hnsw_build_fn build, const tu_hnsw_set *set, const char *what,
                          size_t k, size_t ef, double least)
{
    const disco_vmetric metric[] = {DISCO_VMETRIC_L2, DISCO_VMETRIC_COSINE};

    for (size_t i = 0; i < 2; i++) {
        tu_hnsw_set one = *set;
        one.m = metric[i];
        one.seed = set->seed + (uint64_t)metric[i];
        double r = set_recall(build, &one, k, ef);
        print_message("recall@%zu %s dim %zu ef=%zu with %s: %.3f\n", k, disco_vmetric_name(one.m),
                      one.d, ef, what, r);
        assert_true(r >= least);
    }
}

/* Graph search for each of the nq queries under a gives k results, each satisfying ok(). */
static void check_results(const disco_hnsw *h, const float *q, size_t nq, size_t k, size_t ef,
                          tu_hnsw_allow a, int (*ok)(uint32_t slot))
{
    for (size_t i = 0; i < nq; i++) {
        uint32_t s[TU_HNSW_KMAX];
        float dist[TU_HNSW_KMAX];
        size_t got = graph_search(h, q + i * h->dim, k, ef, a, s, dist);
        assert_int_equal(got, k);
        for (size_t j = 0; j < got; j++)
            if (!ok(s[j]))
                fail_msg("query %zu: slot %u returned", i, s[j]);
    }
}

static int is_even(void *user, uint32_t slot)
{
    (void)user;
    return slot % 2 == 0;
}

static int even_slot(uint32_t slot)
{
    return slot % 2 == 0;
}

static int kept_slot(uint32_t slot)
{
    return slot % 3 != 0;
}

static int even_kept_slot(uint32_t slot)
{
    return even_slot(slot) && kept_slot(slot);
}

void tu_hnsw_check_filter_remove(tu_hnsw_build_fn build, const tu_hnsw_set *set, size_t k,
                                 size_t ef)
{
    const size_t n = set->n, nq = set->nq;
    float *x = set_points(set);
    disco_hnsw *h = build(x, n, set->d, set->m, set->efc);
    const float *q = x + n * set->d;
    tu_hnsw_allow all = {NULL, NULL}, even = {is_even, NULL};
    double r;

    check_results(h, q, nq, k, ef, even, even_slot);
    r = tu_hnsw_recall(h, q, nq, k, ef, even);
    print_message("recall@%zu even slots: %.3f\n", k, r);
    assert_true(r >= 0.9);
    for (uint32_t i = 0; i < n; i += 3)
        assert_int_equal(disco_hnsw_remove(h, i, NULL), DISCO_OK);
    check_results(h, q, nq, k, ef, all, kept_slot);
    check_results(h, x, nq, k, ef, all, kept_slot); /* queries on removed vectors themselves */
    check_results(h, q, nq, k, ef, even, even_kept_slot);
    r = tu_hnsw_recall(h, q, nq, k, ef, all);
    print_message("recall@%zu after removing a third: %.3f\n", k, r);
    assert_true(r >= 0.9);
    assert_true(tu_hnsw_recall(h, q, nq, k, ef, even) >= 0.9);
    disco_hnsw_free(h);
    free(x);
}

/* Graph search for each of the nq queries gives k results in a and in b, the same in both. */
static void check_same_search(const disco_hnsw *a, const disco_hnsw *b, const float *q, size_t nq,
                              size_t k, size_t ef)
{
    tu_hnsw_allow all = {NULL, NULL};

    for (size_t i = 0; i < nq; i++) {
        uint32_t s1[TU_HNSW_KMAX], s2[TU_HNSW_KMAX];
        float d1[TU_HNSW_KMAX], d2[TU_HNSW_KMAX];
        const float *qi = q + i * a->dim;
        assert_int_equal(graph_search(a, qi, k, ef, all, s1, d1), k);
        assert_int_equal(graph_search(b, qi, k, ef, all, s2, d2), k);
        assert_memory_equal(s1, s2, k * sizeof *s1);
        assert_memory_equal(d1, d2, k * sizeof *d1);
    }
}

void tu_hnsw_check_roundtrip(tu_hnsw_build_fn build, tu_hnsw_same_fn same_codes,
                             const tu_hnsw_set *set, size_t k, size_t ef)
{
    float *x = set_points(set);
    disco_hnsw *h = build(x, set->n, set->d, set->m, set->efc), *g = tu_hnsw_reload(h);

    same_codes(h, g, set->n);
    check_same_search(h, g, x + set->n * set->d, set->nq, k, ef);
    disco_hnsw_free(h);
    disco_hnsw_free(g);
    free(x);
}
