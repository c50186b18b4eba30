/*
 * test_vanalysis.c - k-means recovers generated clusters (L2 and cosine),
 * is deterministic and thread-count independent, and checks its input; MMR
 * prefers diverse items over near-duplicates; facet counts, top-N and field
 * selection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/vanalysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NC 4   /* generated clusters */
#define PER 75 /* vectors per cluster: 300 in all, more than one assignment chunk */
#define DIM 16

static uint64_t rng = 12345;

static double unit(void)
{
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (double)(rng >> 11) * 0x1.0p-53;
}

/*
 * Vector i belongs to cluster i % NC, centred 10 units along axis 2c (L2),
 * or pointing along axis 2c with a random length (cosine); noise is small
 * (uniform in +-0.15, or +-5% of the length).
 */
static float *make_clusters(int cosine)
{
    float *x = malloc(NC * PER * DIM * sizeof *x);

    for (size_t i = 0; i < NC * PER; i++) {
        double scale = cosine ? 0.5 + 4.5 * unit() : 10.0;
        for (size_t j = 0; j < DIM; j++)
            x[i * DIM + j] = (float)((unit() - 0.5) * (cosine ? 0.1 * scale : 0.3));
        x[i * DIM + 2 * (i % NC)] += (float)scale;
    }
    return x;
}

/* Every generated cluster maps to one label, and no two share a label. */
static void assert_recovered(const disco_vanalysis_clusters *c)
{
    uint32_t label[NC];

    for (size_t g = 0; g < NC; g++) {
        label[g] = c->assign[g];
        for (size_t h = 0; h < g; h++)
            assert_int_not_equal(label[g], label[h]);
    }
    for (size_t i = 0; i < NC * PER; i++)
        assert_int_equal(c->assign[i], label[i % NC]);
    for (size_t g = 0; g < NC; g++)
        assert_int_equal(c->sizes[label[g]], PER);
}

static void test_kmeans_l2_recovers_clusters(void **state)
{
    float *x = make_clusters(0);
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_vanalysis_clusters c;

    (void)state;
    cfg.k = NC;
    assert_int_equal(disco_vanalysis_kmeans(x, NC * PER, DIM, &cfg, &c, NULL), DISCO_OK);
    assert_recovered(&c);
    assert_int_equal(c.k, NC);
    assert_int_equal(c.n, NC * PER);
    assert_true(c.converged);
    assert_true(c.iterations >= 1 && c.iterations <= cfg.max_iter);
    /* Noise is uniform in +-0.15 per dimension: about 0.12 per vector. */
    assert_true(c.inertia > 0.0 && c.inertia < 0.2 * NC * PER);
    for (size_t g = 0; g < NC; g++)
        assert_float_equal(c.centroids[c.assign[g] * DIM + 2 * g], 10.0, 0.1);
    disco_vanalysis_clusters_release(&c);
    disco_vanalysis_clusters_release(&c);
    disco_vanalysis_clusters_release(NULL);
    free(x);
}

static void test_kmeans_cosine_recovers_clusters(void **state)
{
    float *x = make_clusters(1);
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_vanalysis_clusters c;

    (void)state;
    cfg.k = NC;
    cfg.metric = DISCO_VMETRIC_COSINE;
    cfg.seed = 99;
    assert_int_equal(disco_vanalysis_kmeans(x, NC * PER, DIM, &cfg, &c, NULL), DISCO_OK);
    assert_recovered(&c);
    assert_true(c.inertia >= 0.0 && c.inertia < 0.05 * NC * PER);
    for (size_t g = 0; g < NC; g++) {
        const float *cen = c.centroids + c.assign[g] * DIM;
        assert_float_equal(disco_vdist_dot_ref(cen, cen, DIM), 1.0, 1e-4);
        assert_true(cen[2 * g] > 0.99f);
    }
    disco_vanalysis_clusters_release(&c);
    free(x);
}

static void assert_same(const disco_vanalysis_clusters *a, const disco_vanalysis_clusters *b)
{
    assert_int_equal(a->iterations, b->iterations);
    assert_true(a->inertia == b->inertia);
    assert_memory_equal(a->assign, b->assign, a->n * sizeof *a->assign);
    assert_memory_equal(a->centroids, b->centroids, a->k * a->d * sizeof *a->centroids);
}

/* Overlapping clusters so the seeding matters; a pool must not change anything. */
static void test_kmeans_deterministic(void **state)
{
    enum { N = 1000, D = 8 };
    float *x = malloc(N * D * sizeof *x);
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_vanalysis_clusters a, b, p;
    disco_pool *pool = NULL;

    (void)state;
    for (size_t i = 0; i < N * D; i++)
        x[i] = (float)unit();
    cfg.k = 7;
    cfg.seed = 42;
    assert_int_equal(disco_vanalysis_kmeans(x, N, D, &cfg, &a, NULL), DISCO_OK);
    assert_int_equal(disco_vanalysis_kmeans(x, N, D, &cfg, &b, NULL), DISCO_OK);
    assert_same(&a, &b);
    assert_int_equal(disco_pool_new(3, &pool), DISCO_OK);
    cfg.pool = pool;
    assert_int_equal(disco_vanalysis_kmeans(x, N, D, &cfg, &p, NULL), DISCO_OK);
    assert_same(&a, &p);
    for (size_t c = 0; c < cfg.k; c++)
        assert_true(a.sizes[c] > 0);
    disco_vanalysis_clusters_release(&b);
    cfg.seed = 43; /* another seed: a valid clustering, most likely another one */
    assert_int_equal(disco_vanalysis_kmeans(x, N, D, &cfg, &b, NULL), DISCO_OK);
    assert_int_equal(b.k, 7);
    disco_pool_free(pool);
    disco_vanalysis_clusters_release(&a);
    disco_vanalysis_clusters_release(&b);
    disco_vanalysis_clusters_release(&p);
    free(x);
}

/* k == n puts every vector in its own cluster; identical vectors give inertia 0. */
static void test_kmeans_edges(void **state)
{
    const float x[] = {0, 0, 5, 5, 9, 1};
    const float same[] = {1, 2, 1, 2, 1, 2, 1, 2};
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_vanalysis_clusters c;

    (void)state;
    cfg.k = 3;
    assert_int_equal(disco_vanalysis_kmeans(x, 3, 2, &cfg, &c, NULL), DISCO_OK);
    assert_true(c.inertia == 0.0);
    assert_int_not_equal(c.assign[0], c.assign[1]);
    assert_int_not_equal(c.assign[1], c.assign[2]);
    assert_int_not_equal(c.assign[0], c.assign[2]);
    disco_vanalysis_clusters_release(&c);
    assert_int_equal(disco_vanalysis_kmeans(same, 4, 2, &cfg, &c, NULL), DISCO_OK);
    assert_true(c.inertia == 0.0);
    assert_true(c.converged);
    assert_int_equal(c.sizes[0] + c.sizes[1] + c.sizes[2], 4);
    disco_vanalysis_clusters_release(&c);
    cfg.k = 1;
    cfg.max_iter = 1;
    assert_int_equal(disco_vanalysis_kmeans(x, 3, 2, &cfg, &c, NULL), DISCO_OK);
    assert_float_equal(c.centroids[0], 14.0 / 3.0, 1e-5);
    assert_float_equal(c.centroids[1], 2.0, 1e-5);
    disco_vanalysis_clusters_release(&c);
}

static void expect_inval(const float *x, size_t n, size_t d,
                         const disco_vanalysis_kmeans_config *cfg, const char *field)
{
    disco_status st = {0};
    disco_vanalysis_clusters c;

    assert_int_equal(disco_vanalysis_kmeans(x, n, d, cfg, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, field);
    assert_true(st.msg[0] != '\0');
    assert_null(c.assign);
    assert_null(c.centroids);
}

static void test_kmeans_bad_input(void **state)
{
    float x[] = {0, 0, 1, 1, 2, 2};
    disco_vanalysis_kmeans_config cfg = disco_vanalysis_kmeans_config_default();
    disco_status st = {0};

    (void)state;
    cfg.k = 4;
    expect_inval(x, 3, 2, &cfg, "k"); /* k > n */
    assert_int_equal(disco_vanalysis_kmeans(x, 3, 2, &cfg, NULL, NULL), DISCO_ERR_INVAL);
    cfg.k = 0;
    expect_inval(x, 3, 2, &cfg, "k");
    cfg.k = 2;
    expect_inval(NULL, 3, 2, &cfg, "x");
    expect_inval(x, 0, 2, &cfg, "n");
    expect_inval(x, 3, 0, &cfg, "d");
    cfg.metric = DISCO_VMETRIC_IP;
    expect_inval(x, 3, 2, &cfg, "metric");
    cfg.metric = DISCO_VMETRIC_L2;
    cfg.max_iter = 0;
    expect_inval(x, 3, 2, &cfg, "max_iter");
    cfg.max_iter = 10;
    x[3] = NAN;
    expect_inval(x, 3, 2, &cfg, "x");
    disco_vanalysis_clusters c;
    assert_int_equal(disco_vanalysis_kmeans(x, 3, 2, &cfg, &c, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "vector 1, dimension 1"));
}

/*
 * Three near-copies of one item lead on relevance; a different item is a little
 * less relevant. Diversity picks the different one second; relevance alone does not.
 */
static void test_mmr_prefers_diverse(void **state)
{
    const float cand[] = {1, 0, 0, 0.99f, 0.1f, 0, 0.98f, 0.05f, 0.05f, 0, 1, 0, 0, 0.1f, 1};
    const float sim[] = {0.9f, 0.89f, 0.88f, 0.7f, 0.6f};
    disco_vanalysis_mmr_config cfg = disco_vanalysis_mmr_config_default();
    size_t order[5], count = 99;

    (void)state;
    cfg.k = 3;
    assert_int_equal(disco_vanalysis_mmr(cand, 5, 3, NULL, sim, &cfg, order, &count, NULL),
                     DISCO_OK);
    assert_int_equal(count, 3);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 3);
    assert_int_equal(order[2], 4);
    cfg.lambda = 1.0;
    assert_int_equal(disco_vanalysis_mmr(cand, 5, 3, NULL, sim, &cfg, order, &count, NULL),
                     DISCO_OK);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 2);
    /* Relevance from the query vector itself; k > n gives all n. */
    const float query[] = {1, 0.5f, 0.2f};
    cfg.lambda = 0.5;
    cfg.k = 10;
    assert_int_equal(disco_vanalysis_mmr(cand, 5, 3, query, NULL, &cfg, order, &count, NULL),
                     DISCO_OK);
    assert_int_equal(count, 5);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 3);
    int seen = 0;
    for (size_t i = 0; i < count; i++)
        seen |= 1 << order[i];
    assert_int_equal(seen, 0x1f);
}

static void test_mmr_metrics_and_errors(void **state)
{
    const float cand[] = {0, 0, 0.1f, 0, 5, 5};
    const float sim[] = {1.0f, 0.95f, 0.5f};
    disco_vanalysis_mmr_config cfg = disco_vanalysis_mmr_config_default();
    disco_status st = {0};
    size_t order[3], count;

    (void)state;
    cfg.k = 2;
    cfg.metric = DISCO_VMETRIC_L2; /* close points are similar: the far one comes second */
    cfg.lambda = 0.9;
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, sim, &cfg, order, &count, NULL),
                     DISCO_OK);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(disco_vanalysis_mmr(NULL, 0, 2, NULL, NULL, &cfg, order, &count, NULL),
                     DISCO_OK);
    assert_int_equal(count, 0);
    cfg.lambda = 1.5;
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, sim, &cfg, order, &count, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "lambda");
    cfg.lambda = 0.5;
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, NULL, &cfg, order, &count, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, sim, &cfg, NULL, &count, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "order");
    const float bad[] = {1.0f, NAN, 0.5f};
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, bad, &cfg, order, &count, &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "query_sim[1]"));
    cfg.metric = (disco_vmetric)9;
    assert_int_equal(disco_vanalysis_mmr(cand, 3, 2, NULL, sim, &cfg, order, &count, &st),
                     DISCO_ERR_INVAL);
}

static json_t **load_meta(const char *const *texts, size_t n)
{
    json_t **m = calloc(n, sizeof *m);

    for (size_t i = 0; i < n; i++) {
        if (texts[i] == NULL)
            continue;
        m[i] = json_loads(texts[i], 0, NULL);
        assert_non_null(m[i]);
    }
    return m;
}

static void free_meta(json_t **m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(m[i]);
    free(m);
}

static json_int_t count_of(const json_t *facets, const char *field, const char *value)
{
    json_t *v = json_object_get(json_object_get(facets, field), value);

    return v ? json_integer_value(v) : -1;
}

static void test_facets_counts(void **state)
{
    const char *const texts[] = {
        "{\"genre\":\"disco\",\"tags\":[\"funk\",\"70s\"],\"bpm\":120,\"live\":true,\"x\":null}",
        "{\"genre\":\"disco\",\"tags\":[\"70s\",\"70s\"],\"bpm\":120.0,\"live\":false}",
        NULL,
        "{\"genre\":\"house\",\"tags\":[],\"rating\":4.5,\"nested\":{\"a\":1}}",
        "{\"genre\":\"funk\",\"tags\":[\"funk\",[\"deep\"]],\"rating\":0.1,\"bpm\":98}",
    };
    json_t **meta = load_meta(texts, 5), *f = NULL;

    (void)state;
    assert_int_equal(disco_vanalysis_facets(meta, 5, NULL, &f, NULL), DISCO_OK);
    assert_int_equal(count_of(f, "genre", "disco"), 2);
    assert_int_equal(count_of(f, "genre", "house"), 1);
    assert_int_equal(count_of(f, "tags", "70s"), 3);
    assert_int_equal(count_of(f, "tags", "funk"), 2);
    assert_int_equal(count_of(f, "tags", "deep"), -1);
    assert_int_equal(count_of(f, "bpm", "120"), 2);
    assert_int_equal(count_of(f, "bpm", "98"), 1);
    assert_int_equal(count_of(f, "live", "true"), 1);
    assert_int_equal(count_of(f, "live", "false"), 1);
    assert_int_equal(count_of(f, "rating", "4.5"), 1);
    assert_int_equal(count_of(f, "rating", "0.1"), 1);
    assert_int_equal(json_object_size(json_object_get(f, "x")), 0);
    assert_int_equal(json_object_size(json_object_get(f, "nested")), 0);
    /* Most frequent first, ties in byte order. */
    const char *key;
    json_t *v;
    const char *want[] = {"disco", "funk", "house"};
    size_t i = 0;
    json_object_foreach (json_object_get(f, "genre"), key, v)
        assert_string_equal(key, want[i++]);
    json_decref(f);
    free_meta(meta, 5);
}

static void test_facets_top_n_fields_and_errors(void **state)
{
    const char *const texts[] = {"{\"g\":\"a\",\"h\":1}", "{\"g\":\"b\"}", "{\"g\":\"b\"}",
                                 "{\"g\":\"c\"}", "[1]"};
    json_t **meta = load_meta(texts, 5), *f = NULL;
    disco_vanalysis_facets_config cfg = disco_vanalysis_facets_config_default();
    const char *fields[] = {"g", "missing"};
    disco_status st = {0};

    (void)state;
    cfg.top_n = 2;
    cfg.fields = fields;
    cfg.nfields = 2;
    assert_int_equal(disco_vanalysis_facets(meta, 4, &cfg, &f, NULL), DISCO_OK);
    assert_int_equal(json_object_size(f), 2);
    assert_int_equal(json_object_size(json_object_get(f, "g")), 2);
    assert_int_equal(count_of(f, "g", "b"), 2);
    assert_int_equal(count_of(f, "g", "a"), 1);
    assert_int_equal(count_of(f, "g", "c"), -1);
    assert_non_null(json_object_get(f, "missing"));
    assert_null(json_object_get(f, "h"));
    json_decref(f);
    assert_int_equal(disco_vanalysis_facets(meta, 5, NULL, &f, &st), DISCO_ERR_INVAL);
    assert_null(f);
    assert_non_null(strstr(st.msg, "metadata[4]"));
    assert_int_equal(disco_vanalysis_facets(NULL, 1, NULL, &f, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_vanalysis_facets(NULL, 0, NULL, &f, NULL), DISCO_OK);
    assert_int_equal(json_object_size(f), 0);
    json_decref(f);
    free_meta(meta, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans_l2_recovers_clusters),
        cmocka_unit_test(test_kmeans_cosine_recovers_clusters),
        cmocka_unit_test(test_kmeans_deterministic),
        cmocka_unit_test(test_kmeans_edges),
        cmocka_unit_test(test_kmeans_bad_input),
        cmocka_unit_test(test_mmr_prefers_diverse),
        cmocka_unit_test(test_mmr_metrics_and_errors),
        cmocka_unit_test(test_facets_counts),
        cmocka_unit_test(test_facets_top_n_fields_and_errors),
    };
    return cmocka_run_group_tests_name("embed/vanalysis", tests, NULL, NULL);
}
