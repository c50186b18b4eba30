/*
 * test_hnsw.c - the HNSW graph: recall against exact search for each
 * metric on clustered data, exact search, removal and slot reuse, in-graph
 * filtering, growth, serialisation round trips and damaged buffers,
 * searches running while other threads insert, and bad input.
 *
 * Data: DIM-dimensional points around random centres (fixed seeds), so
 * recall figures are repeatable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/crc32c.h"
#include "disco/hnsw.h"
#include "support/testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DIM 32
#define K 10

static uint64_t g_rng;

/* n points of dim d around `centres` random centres; malloc'd. */
static float *clustered(size_t n, size_t d, size_t centres, uint64_t seed)
{
    float *x = tu_clustered(n, d, centres, 0.4f, seed);

    assert_non_null(x);
    return x;
}

static disco_hnsw *build(const float *x, size_t n, size_t d, disco_vmetric m, size_t efc)
{
    disco_hnsw_config cfg = disco_hnsw_config_default(d, m);
    disco_hnsw *h = NULL;
    disco_status st = {0};

    cfg.ef_construction = efc;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(disco_hnsw_add(h, (uint32_t)i, x + i * d, &st), DISCO_OK);
    return h;
}

/* Mean recall@K of graph search against exact search over nq queries. */
static double recall(const disco_hnsw *h, const float *q, size_t nq, size_t d, size_t ef,
                     disco_hnsw_allow_fn allow, void *user)
{
    size_t hits = 0, total = 0;

    for (size_t i = 0; i < nq; i++) {
        uint32_t gs[K], es[K];
        float gd[K], ed[K];
        size_t gn = 0, en = 0;
        assert_int_equal(disco_hnsw_search(h, q + i * d, K, ef, allow, user, gs, gd, &gn, NULL),
                         DISCO_OK);
        assert_int_equal(disco_hnsw_search_exact(h, q + i * d, K, allow, user, es, ed, &en, NULL),
                         DISCO_OK);
        assert_int_equal(gn, en);
        for (size_t a = 1; a < gn; a++)
            assert_true(gd[a - 1] <= gd[a]);
        for (size_t a = 0; a < en; a++)
            for (size_t b = 0; b < gn; b++)
                hits += es[a] == gs[b];
        total += en;
    }
    return total ? (double)hits / (double)total : 1.0;
}

static void check_recall(disco_vmetric m)
{
    const size_t n = 10000, nq = 100;
    float *x = clustered(n + nq, 64, 100, 7 + (uint64_t)m);
    disco_hnsw *h = build(x, n, 64, m, 100);
    double r = recall(h, x + n * 64, nq, 64, 64, NULL, NULL);

    print_message("recall@10 %s ef=64: %.3f\n", disco_vmetric_name(m), r);
    assert_true(r >= 0.95);
    assert_int_equal(disco_hnsw_count(h), n);
    disco_hnsw_free(h);
    free(x);
}

static void test_recall_l2(void **state)
{
    (void)state;
    check_recall(DISCO_VMETRIC_L2);
}

static void test_recall_ip(void **state)
{
    (void)state;
    check_recall(DISCO_VMETRIC_IP);
}

static void test_recall_cosine(void **state)
{
    (void)state;
    check_recall(DISCO_VMETRIC_COSINE);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* Exact search returns the true K smallest distances, in order. */
static void test_exact(void **state)
{
    const size_t n = 500;
    float *x = clustered(n + 1, 8, 5, 11), all[500];
    disco_hnsw *h = build(x, n, 8, DISCO_VMETRIC_L2, 32);
    uint32_t s[K];
    float d[K];
    size_t got = 0;

    (void)state;
    for (size_t i = 0; i < n; i++)
        all[i] = disco_vdist_l2sq_ref(x + n * 8, x + i * 8, 8);
    qsort(all, n, sizeof *all, cmp_float);
    assert_int_equal(disco_hnsw_search_exact(h, x + n * 8, K, NULL, NULL, s, d, &got, NULL),
                     DISCO_OK);
    assert_int_equal(got, K);
    for (size_t i = 0; i < K; i++) {
        assert_float_equal(d[i], all[i], 1e-4);
        assert_float_equal(d[i], disco_vdist_l2sq_ref(x + n * 8, x + s[i] * 8, 8), 1e-4);
    }
    /* k above the count: every vector, nearest first. */
    uint32_t *bs = malloc(600 * sizeof *bs);
    float *bd = malloc(600 * sizeof *bd);
    assert_int_equal(disco_hnsw_search_exact(h, x, 600, NULL, NULL, bs, bd, &got, NULL), DISCO_OK);
    assert_int_equal(got, n);
    assert_int_equal(bs[0], 0);
    assert_int_equal(disco_hnsw_search(h, x, 600, 10, NULL, NULL, bs, bd, &got, NULL), DISCO_OK);
    assert_true(got >= n * 9 / 10);
    free(bs);
    free(bd);
    disco_hnsw_free(h);
    free(x);
}

static int is_even(void *user, uint32_t slot)
{
    (void)user;
    return slot % 2 == 0;
}

/* Removed slots are never returned; re-adding reuses them with new vectors. */
static void test_remove_readd(void **state)
{
    const size_t n = 3000;
    float *x = clustered(2 * n, DIM, 20, 21);
    disco_hnsw *h = build(x, n, DIM, DISCO_VMETRIC_L2, 64);
    disco_status st = {0};
    size_t cap = disco_hnsw_capacity(h);

    (void)state;
    for (uint32_t i = 1; i < n; i += 2)
        assert_int_equal(disco_hnsw_remove(h, i, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_remove(h, 1, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_hnsw_count(h), n / 2);
    assert_null(disco_hnsw_vector(h, 1));
    assert_non_null(disco_hnsw_vector(h, 2));
    for (size_t i = 0; i < 50; i++) {
        uint32_t s[K];
        float d[K];
        size_t got = 0;
        assert_int_equal(disco_hnsw_search(h, x + i * DIM, K, 32, NULL, NULL, s, d, &got, NULL),
                         DISCO_OK);
        assert_int_equal(got, K);
        for (size_t j = 0; j < got; j++)
            assert_int_equal(s[j] % 2, 0);
    }
    assert_true(recall(h, x + n * DIM, 50, DIM, 64, NULL, NULL) >= 0.95);
    /* Re-add the odd slots with other vectors: same capacity, found again. */
    for (uint32_t i = 1; i < n; i += 2)
        assert_int_equal(disco_hnsw_add(h, i, x + (n + i) * DIM, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_add(h, 1, x, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_hnsw_count(h), n);
    assert_int_equal(disco_hnsw_capacity(h), cap);
    assert_memory_equal(disco_hnsw_vector(h, 3), x + (n + 3) * DIM, DIM * sizeof(float));
    size_t self = 0;
    for (uint32_t i = 1; i < n; i += 2) {
        uint32_t s[1];
        float d[1];
        size_t got = 0;
        assert_int_equal(
            disco_hnsw_search(h, x + (n + i) * DIM, 1, 32, NULL, NULL, s, d, &got, NULL), DISCO_OK);
        self += got == 1 && s[0] == i;
    }
    assert_true(self >= (n / 2) * 98 / 100);
    assert_true(recall(h, x + n * DIM, 50, DIM, 64, NULL, NULL) >= 0.95);
    disco_hnsw_free(h);
    free(x);
}

/* allow(): results satisfy it; recall against exact-filtered at 50 %. */
static void test_allow(void **state)
{
    const size_t n = 4000, nq = 60;
    float *x = clustered(n + nq, DIM, 30, 31);
    disco_hnsw *h = build(x, n, DIM, DISCO_VMETRIC_L2, 100);
    double r;

    (void)state;
    for (size_t i = 0; i < nq; i++) {
        uint32_t s[K];
        float d[K];
        size_t got = 0;
        assert_int_equal(
            disco_hnsw_search(h, x + (n + i) * DIM, K, 32, is_even, NULL, s, d, &got, NULL),
            DISCO_OK);
        assert_int_equal(got, K);
        for (size_t j = 0; j < got; j++)
            assert_int_equal(s[j] % 2, 0);
    }
    r = recall(h, x + n * DIM, nq, DIM, 64, is_even, NULL);
    print_message("filtered recall@10 (50%%): %.3f\n", r);
    assert_true(r >= 0.95);
    disco_hnsw_free(h);
    free(x);
}

/* From an empty graph to thousands of slots; sparse slots; reserve. */
static void test_growth(void **state)
{
    const size_t n = 2500;
    float *x = clustered(n, 8, 10, 41);
    disco_hnsw_config cfg = disco_hnsw_config_default(8, DISCO_VMETRIC_L2);
    disco_hnsw *h = NULL;
    uint32_t s[K];
    float d[K];
    size_t got = 1;

    (void)state;
    cfg.M = 4;
    cfg.ef_construction = 20;
    assert_int_equal(disco_hnsw_new(&cfg, &h, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_capacity(h), 0);
    assert_int_equal(disco_hnsw_search(h, x, K, 10, NULL, NULL, s, d, &got, NULL), DISCO_OK);
    assert_int_equal(got, 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(disco_hnsw_add(h, (uint32_t)i, x + i * 8, NULL), DISCO_OK);
        assert_true(disco_hnsw_capacity(h) > i);
    }
    assert_true(disco_hnsw_capacity(h) < 2 * n);
    assert_int_equal(disco_hnsw_add(h, 100000, x, NULL), DISCO_OK);
    assert_true(disco_hnsw_capacity(h) > 100000);
    assert_int_equal(disco_hnsw_search(h, x, 2, 10, NULL, NULL, s, d, &got, NULL), DISCO_OK);
    assert_int_equal(got, 2);
    assert_true((s[0] == 0 && s[1] == 100000) || (s[0] == 100000 && s[1] == 0));
    assert_true(recall(h, x + 100 * 8, 20, 8, 64, NULL, NULL) >= 0.9);
    assert_true(disco_hnsw_bytes(h) > disco_hnsw_capacity(h) * 8 * sizeof(float));
    disco_hnsw_free(h);

    assert_int_equal(disco_hnsw_new(&cfg, &h, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_reserve(h, 1000, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_capacity(h), 1000);
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(disco_hnsw_add(h, (uint32_t)i, x + i * 8, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_capacity(h), 1000);
    disco_hnsw_free(h);
    free(x);
}

static void same_results(const disco_hnsw *a, const disco_hnsw *b, const float *q, size_t nq,
                         size_t d)
{
    for (size_t i = 0; i < nq; i++) {
        uint32_t s1[K], s2[K];
        float d1[K], d2[K];
        size_t n1 = 0, n2 = 0;
        assert_int_equal(disco_hnsw_search(a, q + i * d, K, 40, NULL, NULL, s1, d1, &n1, NULL),
                         DISCO_OK);
        assert_int_equal(disco_hnsw_search(b, q + i * d, K, 40, NULL, NULL, s2, d2, &n2, NULL),
                         DISCO_OK);
        assert_int_equal(n1, n2);
        assert_memory_equal(s1, s2, n1 * sizeof *s1);
        assert_memory_equal(d1, d2, n1 * sizeof *d1);
    }
}

/* A small graph with removed and empty slots, serialised. */
static disco_hnsw *small_graph(uint8_t **buf, size_t *len, float **xs)
{
    float *x = clustered(400, 8, 6, 51);
    disco_hnsw_config cfg = disco_hnsw_config_default(8, DISCO_VMETRIC_COSINE);
    disco_hnsw *h = NULL;

    cfg.M = 6;
    cfg.ef_construction = 40;
    assert_int_equal(disco_hnsw_new(&cfg, &h, NULL), DISCO_OK);
    for (uint32_t i = 0; i < 300; i++)
        assert_int_equal(disco_hnsw_add(h, i + (i >= 150 ? 7 : 0), x + i * 8, NULL), DISCO_OK);
    for (uint32_t i = 0; i < 300; i += 5)
        assert_int_equal(disco_hnsw_remove(h, i + (i >= 150 ? 7 : 0), NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_serialize(h, buf, len, NULL), DISCO_OK);
    *xs = x;
    return h;
}

static void test_roundtrip(void **state)
{
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t len = 0, len2 = 0;
    float *x;
    disco_hnsw *h = small_graph(&buf, &len, &x), *g = NULL;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_hnsw_load(buf, len, &g, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_count(g), disco_hnsw_count(h));
    same_results(h, g, x + 300 * 8, 100, 8);
    assert_int_equal(disco_hnsw_serialize(g, &buf2, &len2, NULL), DISCO_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    /* Both keep working the same way after the load. */
    for (uint32_t i = 0; i < 20; i++) {
        assert_int_equal(disco_hnsw_add(h, 500 + i, x + (300 + i) * 8, NULL), DISCO_OK);
        assert_int_equal(disco_hnsw_add(g, 500 + i, x + (300 + i) * 8, NULL), DISCO_OK);
        assert_int_equal(disco_hnsw_add(g, i * 5, x + (320 + i) * 8, NULL), DISCO_OK);
        assert_int_equal(disco_hnsw_add(h, i * 5, x + (320 + i) * 8, NULL), DISCO_OK);
        assert_int_equal(disco_hnsw_add(h, 152, x, NULL), i ? DISCO_ERR_INVAL : DISCO_OK);
        assert_int_equal(disco_hnsw_add(g, 152, x, NULL), i ? DISCO_ERR_INVAL : DISCO_OK);
    }
    same_results(h, g, x + 340 * 8, 60, 8);
    free(buf2);
    disco_hnsw_free(g);
    /* An empty graph round-trips too. */
    disco_hnsw_config cfg = disco_hnsw_config_default(3, DISCO_VMETRIC_IP);
    assert_int_equal(disco_hnsw_new(&cfg, &g, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_serialize(g, &buf2, &len2, NULL), DISCO_OK);
    disco_hnsw_free(g);
    assert_int_equal(disco_hnsw_load(buf2, len2, &g, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_count(g), 0);
    disco_hnsw_free(g);
    free(buf2);
    free(buf);
    disco_hnsw_free(h);
    free(x);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void reseal(uint8_t *b, size_t len)
{
    put32(b + len - 4, disco_crc32c(0, b, len - 4));
}

static void expect_corrupt(const uint8_t *b, size_t len)
{
    disco_hnsw *g = (disco_hnsw *)1;
    disco_status st = {0};
    int rc = disco_hnsw_load(b, len, &g, &st);

    assert_true(rc == DISCO_ERR_CORRUPT || rc == DISCO_ERR_UNSUPPORTED);
    assert_null(g);
    assert_non_null(strstr(st.msg, "offset"));
}

static void test_corrupt(void **state)
{
    uint8_t *buf = NULL, *b;
    size_t len = 0;
    float *x;
    disco_hnsw *h = small_graph(&buf, &len, &x);

    (void)state;
    b = malloc(len);
    for (size_t i = 0; i < len; i += 7) { /* flipped bits */
        memcpy(b, buf, len);
        b[i] ^= (uint8_t)(1u << (i % 8));
        expect_corrupt(b, len);
    }
    for (size_t l = 0; l < len; l += l < 200 ? 1 : 37) /* truncation */
        expect_corrupt(buf, l);
    /* Forged checksums: the structure checks must catch these. */
    const size_t table = 64, body = 64 + 2 * 307;
    size_t forged[][2] = {
        {8, 0},             /* dim 0 */
        {12, 1},            /* M 1 */
        {48, 1u << 30},     /* slots far beyond the buffer */
        {56, 7},            /* live count */
        {20, 151},          /* entry point on an empty slot */
        {24, 40},           /* top level */
        {table, 9},         /* bad state */
        {table + 1, 200},   /* bad level */
        {body, 100},        /* link count above 2M */
        {body + 4, 100000}, /* link out of range */
        {body + 4, 151},    /* link to an empty slot */
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        memcpy(b, buf, len);
        if (forged[i][0] >= table && forged[i][0] < body)
            b[forged[i][0]] = (uint8_t)forged[i][1];
        else
            put32(b + forged[i][0], (uint32_t)forged[i][1]);
        reseal(b, len);
        expect_corrupt(b, len);
    }
    memcpy(b, buf, len);
    b[4] = 2; /* another version */
    reseal(b, len);
    disco_hnsw *g = NULL;
    assert_int_equal(disco_hnsw_load(b, len, &g, NULL), DISCO_ERR_UNSUPPORTED);
    /* Junk: random bytes, with and without a valid checksum. */
    g_rng = 99;
    for (size_t t = 0; t < 200; t++) {
        size_t l = 68 + tu_xorshift(&g_rng) % 400;
        for (size_t i = 0; i < l; i++)
            b[i] = (uint8_t)tu_xorshift(&g_rng);
        put32(b, 0x57534E48u);
        b[4] = 1;
        b[5] = 0;
        if (t % 2)
            reseal(b, l);
        expect_corrupt(b, l);
    }
    free(b);
    free(buf);
    disco_hnsw_free(h);
    free(x);
}

struct conc {
    disco_hnsw *h;
    const float *x;
    size_t n, from, to;
    int stop, bad;
    size_t searches;
};

static void *searcher(void *arg)
{
    struct conc *c = arg;
    size_t i = 0;

    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        uint32_t s[K];
        float d[K];
        size_t got = 0;
        const float *q = c->x + (i++ % c->n) * DIM;
        if (disco_hnsw_search(c->h, q, K, 32, NULL, NULL, s, d, &got, NULL) != DISCO_OK)
            c->bad = 1;
        for (size_t j = 0; j < got; j++)
            if (s[j] >= c->n || (j && d[j] < d[j - 1]))
                c->bad = 1;
        c->searches++;
    }
    return NULL;
}

static void *inserter(void *arg)
{
    struct conc *c = arg;

    for (size_t i = c->from; i < c->to; i++)
        if (disco_hnsw_add(c->h, (uint32_t)i, c->x + i * DIM, NULL) != DISCO_OK)
            c->bad = 1;
    return NULL;
}

/* Searches while two threads insert (and the graph grows): no crash, sane results. */
static void test_concurrent(void **state)
{
    const size_t n = 3000;
    float *x = clustered(n + 50, DIM, 20, 61);
    disco_hnsw_config cfg = disco_hnsw_config_default(DIM, DISCO_VMETRIC_L2);
    struct conc s[3], w[2];
    pthread_t ts[3], tw[2];

    (void)state;
    cfg.ef_construction = 64;
    disco_hnsw *h = NULL;
    assert_int_equal(disco_hnsw_new(&cfg, &h, NULL), DISCO_OK);
    for (int i = 0; i < 3; i++) {
        s[i] = (struct conc){h, x, n, 0, 0, 0, 0, 0};
        assert_int_equal(pthread_create(&ts[i], NULL, searcher, &s[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        w[i] = (struct conc){h, x, n, i * n / 2, (i + 1) * n / 2, 0, 0, 0};
        assert_int_equal(pthread_create(&tw[i], NULL, inserter, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(tw[i], NULL);
    for (int i = 0; i < 3; i++)
        __atomic_store_n(&s[i].stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        pthread_join(ts[i], NULL);
        assert_false(s[i].bad);
        assert_true(s[i].searches > 0);
    }
    assert_false(w[0].bad || w[1].bad);
    assert_int_equal(disco_hnsw_count(h), n);
    assert_true(recall(h, x + n * DIM, 50, DIM, 64, NULL, NULL) >= 0.95);
    disco_hnsw_free(h);
    free(x);
}

/* search_slots ranks only the listed slots; an empty list gives nothing. */
static void test_search_slots(void **state)
{
    float *x = clustered(300, 8, 5, 11);
    disco_hnsw *h = build(x, 300, 8, DISCO_VMETRIC_L2, 100);
    const uint32_t list[] = {7, 150, 299, 42};
    uint32_t slots[10];
    float dists[10];
    size_t n = 99;
    (void)state;

    assert_int_equal(disco_hnsw_search_slots(h, x, 10, list, 0, slots, dists, &n, NULL), DISCO_OK);
    assert_int_equal(n, 0);
    assert_int_equal(disco_hnsw_search_slots(h, x + 150 * 8, 10, list, 4, slots, dists, &n, NULL),
                     DISCO_OK);
    assert_int_equal(n, 4);
    assert_int_equal(slots[0], 150);
    for (size_t i = 1; i < n; i++)
        assert_true(dists[i - 1] <= dists[i]);
    assert_int_equal(disco_hnsw_remove(h, 42, NULL), DISCO_OK);
    assert_int_equal(disco_hnsw_search_slots(h, x, 10, list, 4, slots, dists, &n, NULL), DISCO_OK);
    assert_int_equal(n, 3);
    disco_hnsw_free(h);
    free(x);
}

static void test_bad_input(void **state)
{
    disco_hnsw_config cfg = disco_hnsw_config_default(0, DISCO_VMETRIC_L2);
    disco_hnsw *h = (disco_hnsw *)1;
    disco_status st = {0};
    float v[4] = {1, 2, 3, 4}, d[K];
    uint32_t s[K];
    size_t got = 5;

    (void)state;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_ERR_INVAL);
    assert_null(h);
    assert_string_equal(st.field, "dim");
    cfg.dim = 4;
    cfg.M = 1;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_ERR_INVAL);
    cfg.M = 16;
    cfg.metric = (disco_vmetric)7;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_ERR_INVAL);
    cfg.metric = DISCO_VMETRIC_L2;
    cfg.ef_construction = 0;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_ERR_INVAL);
    cfg.ef_construction = 200;
    assert_int_equal(disco_hnsw_new(NULL, &h, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_add(h, 3, v, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_add(h, 3, v, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "slot");
    assert_int_equal(disco_hnsw_add(h, UINT32_MAX, v, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_hnsw_add(h, 4, NULL, &st), DISCO_ERR_INVAL);
    v[2] = NAN;
    assert_int_equal(disco_hnsw_add(h, 4, v, &st), DISCO_ERR_INVAL);
    v[2] = 3;
    assert_int_equal(disco_hnsw_search(h, v, 0, 10, NULL, NULL, s, d, &got, &st), DISCO_ERR_INVAL);
    assert_int_equal(got, 0);
    assert_string_equal(st.field, "k");
    assert_int_equal(disco_hnsw_search_exact(h, v, 0, NULL, NULL, s, d, &got, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_hnsw_search(h, NULL, 1, 10, NULL, NULL, s, d, &got, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_hnsw_remove(h, 0, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_hnsw_remove(h, 99999, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_hnsw_load(NULL, 0, &h, &st), DISCO_ERR_INVAL);
    assert_null(disco_hnsw_vector(h, 99));
    assert_int_equal(disco_hnsw_search(h, v, 3, 0, NULL, NULL, s, d, &got, &st), DISCO_OK);
    assert_int_equal(got, 1);
    assert_int_equal(s[0], 3);
    disco_hnsw_free(h);
    disco_hnsw_free(NULL);

    /* Cosine: a zero vector has no direction; an L2 graph takes it. */
    float zero[4] = {0};
    cfg.metric = DISCO_VMETRIC_COSINE;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_add(h, 0, zero, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "vec");
    assert_non_null(strstr(st.msg, "zeros"));
    disco_hnsw_free(h);
    cfg.metric = DISCO_VMETRIC_L2;
    assert_int_equal(disco_hnsw_new(&cfg, &h, &st), DISCO_OK);
    assert_int_equal(disco_hnsw_add(h, 0, zero, &st), DISCO_OK);
    disco_hnsw_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input),     cmocka_unit_test(test_exact),
        cmocka_unit_test(test_recall_l2),     cmocka_unit_test(test_recall_ip),
        cmocka_unit_test(test_recall_cosine), cmocka_unit_test(test_remove_readd),
        cmocka_unit_test(test_allow),         cmocka_unit_test(test_growth),
        cmocka_unit_test(test_roundtrip),     cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_concurrent),    cmocka_unit_test(test_search_slots),
    };

    return cmocka_run_group_tests_name("store/hnsw", tests, NULL, NULL);
}
