/*
 * test_vindex.c - vector collections: create/open/list/drop, upsert, fetch,
 * replace and delete (by ids and by filter) with slot reuse, recall against
 * exact search, filtered recall at 50/10/1/0.1 % selectivity with the
 * strategy each one picks, namespaces, persistence (snapshot, log replay,
 * torn log tail, damaged log), bad input and the LOCK.
 *
 * Data: DIM-dimensional points around random centres (fixed seed). Item i
 * has metadata {"tags": [...], "n": i}: "p50" on half the items, "p10" on
 * a tenth, "p1" on 1 %, "p01" on 0.1 %, spread by a multiplicative hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/vindex.h"
#include "support/testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIM 32
#define N 5000
#define K 10

static uint64_t g_rng;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

static float rnd01(void)
{
    return (float)((double)(rnd() >> 11) * 0x1p-53);
}

static float *clustered(size_t n, size_t dim, uint64_t seed)
{
    float *c = malloc(50 * dim * sizeof *c), *x = malloc(n * dim * sizeof *x);

    g_rng = seed;
    for (size_t i = 0; i < 50 * dim; i++)
        c[i] = rnd01() * 2 - 1;
    for (size_t i = 0; i < n; i++) {
        size_t k = rnd() % 50;

        for (size_t d = 0; d < dim; d++)
            x[i * dim + d] = c[k * dim + d] + (rnd01() - 0.5f) * 0.3f;
    }
    free(c);
    return x;
}

static json_t *meta_of(size_t i)
{
    size_t h = (i * 2654435761u) % 1000;
    json_t *tags = json_array();

    if (h < 500)
        json_array_append_new(tags, json_string("p50"));
    if (h < 100)
        json_array_append_new(tags, json_string("p10"));
    if (h < 10)
        json_array_append_new(tags, json_string("p1"));
    if (h < 1)
        json_array_append_new(tags, json_string("p01"));
    return json_pack("{s:o, s:I}", "tags", tags, "n", (json_int_t)i);
}

static char g_ids[N][16];

/* Upserts items [from, to) of x into ns with metadata. */
static void load(disco_vindex *v, const char *ns, const float *x, size_t from, size_t to)
{
    disco_vitem *it = calloc(to - from, sizeof *it);
    disco_status st = {0};
    size_t ins = 0, rep = 0;

    for (size_t i = from; i < to; i++) {
        snprintf(g_ids[i], sizeof g_ids[i], "r%zu", i);
        it[i - from] = (disco_vitem){ns, g_ids[i], x + i * DIM, meta_of(i), DIM};
    }
    assert_int_equal(disco_vindex_upsert(v, it, to - from, 0, &ins, &rep, &st), DISCO_OK);
    for (size_t i = 0; i < to - from; i++)
        json_decref((json_t *)it[i].metadata);
    free(it);
}

typedef struct fixture {
    char *root;
    disco_vindex *v;
    float *x;
} fixture;

static fixture *fx_new(size_t n, disco_vmetric metric)
{
    fixture *f = calloc(1, sizeof *f);
    disco_vindex_config cfg = disco_vindex_config_default(DIM, metric);

    f->root = tu_tmpdir("vindex");
    f->x = clustered(N, DIM, 42);
    assert_int_equal(disco_vindex_create(f->root, "c1", &cfg, NULL), DISCO_OK);
    assert_int_equal(disco_vindex_open(f->root, "c1", &f->v, NULL), DISCO_OK);
    if (n)
        load(f->v, NULL, f->x, 0, n);
    return f;
}

static void fx_free(fixture *f)
{
    disco_vindex_close(f->v);
    tu_rmrf(f->root);
    free(f->root);
    free(f->x);
    free(f);
}

static json_t *search(disco_vindex *v, const float *q, size_t k, const char *filter, int exact)
{
    disco_vfilter *f = NULL;
    disco_status st = {0};
    json_t *out = NULL;

    if (filter)
        assert_int_equal(disco_vfilter_parse(filter, strlen(filter), &f, NULL), DISCO_OK);
    disco_vquery q1 = {NULL, q, k, 0, f, 0, 1, exact, DIM};
    assert_int_equal(disco_vindex_search(v, &q1, &out, &st), DISCO_OK);
    disco_vfilter_free(f);
    return out;
}

static const char *strategy(const json_t *r)
{
    return json_string_value(json_object_get(r, "strategy"));
}

/* |approx ∩ exact| / |exact| of two results. */
static double overlap(const json_t *a, const json_t *e)
{
    json_t *ma = json_object_get(a, "matches"), *me = json_object_get(e, "matches");
    size_t hit = 0;

    for (size_t i = 0; i < json_array_size(me); i++)
        for (size_t j = 0; j < json_array_size(ma); j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(me, i), "id")),
                       json_string_value(json_object_get(json_array_get(ma, j), "id"))) == 0)
                hit++;
    return json_array_size(me) ? (double)hit / (double)json_array_size(me) : 1.0;
}

static void test_create_open_list_drop(void **state)
{
    char *root = tu_tmpdir("vindex");
    disco_vindex_config cfg = disco_vindex_config_default(8, DISCO_VMETRIC_L2);
    disco_vindex *v = NULL, *v2 = NULL;
    disco_status st = {0};
    json_t *list = NULL;

    (void)state;
    assert_int_equal(disco_vindex_create(root, "songs", &cfg, NULL), DISCO_OK);
    assert_int_equal(disco_vindex_create(root, "songs", &cfg, &st), DISCO_ERR_EXISTS);
    assert_int_equal(disco_vindex_create(root, "Bad Name", &cfg, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "name");
    cfg.dim = 0;
    assert_int_equal(disco_vindex_create(root, "x", &cfg, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "dim");
    assert_int_equal(disco_vindex_open(root, "songs", &v, &st), DISCO_OK);
    assert_int_equal(disco_vindex_dim(v), 8);
    assert_int_equal(disco_vindex_metric(v), DISCO_VMETRIC_L2);
    assert_int_equal(disco_vindex_open(root, "songs", &v2, &st), DISCO_ERR_BUSY);
    assert_null(v2);
    assert_int_equal(disco_vindex_drop(root, "songs", &st), DISCO_ERR_BUSY);
    assert_int_equal(disco_vindex_open(root, "nosuch", &v2, &st), DISCO_ERR_NOTFOUND);
    disco_vindex_close(v);
    assert_int_equal(disco_vindex_list(root, &list, NULL), DISCO_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
                        "songs");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 0), "count")), 0);
    json_decref(list);
    assert_int_equal(disco_vindex_drop(root, "songs", NULL), DISCO_OK);
    assert_int_equal(disco_vindex_drop(root, "songs", &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_vindex_list(root, &list, NULL), DISCO_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    tu_rmrf(root);
    free(root);
}

static size_t stat_int(disco_vindex *v, const char *key)
{
    json_t *s = NULL;
    size_t n;

    assert_int_equal(disco_vindex_stats(v, &s, NULL), DISCO_OK);
    n = (size_t)json_integer_value(json_object_get(s, key));
    json_decref(s);
    return n;
}

/* The stats name the graph's traversal codes once it has them: null, else their size. */
static void check_codes_stat(disco_vindex *v, size_t bytes_per_vector)
{
    json_t *s = NULL, *c;

    assert_int_equal(disco_vindex_stats(v, &s, NULL), DISCO_OK);
    c = json_object_get(s, "traversal_codes");
    assert_non_null(c);
    if (bytes_per_vector == 0) {
        assert_true(json_is_null(c));
    } else {
        assert_int_equal(json_integer_value(json_object_get(c, "bytes_per_vector")),
                         bytes_per_vector);
        assert_true(json_integer_value(json_object_get(c, "retrain_at")) > (json_int_t)N);
    }
    json_decref(s);
}

static void test_upsert_fetch_delete(void **state)
{
    fixture *f = fx_new(200, DISCO_VMETRIC_L2);
    const char *ids[3] = {"r1", "r2", "nope"};
    float got[DIM], nv[DIM];
    json_t *out = NULL, *m = json_pack("{s:s}", "genre", "jazz");
    size_t ins, rep, del;

    (void)state;
    assert_int_equal(disco_vindex_fetch(f->v, NULL, ids, 3, &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(out), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(out, 0), "id")), "r1");
    json_decref(out);
    for (size_t d = 0; d < DIM; d++)
        nv[d] = (float)d;
    disco_vitem it = {"", "r1", nv, m, 0};
    assert_int_equal(disco_vindex_upsert(f->v, &it, 1, 1, &ins, &rep, NULL), DISCO_OK);
    assert_int_equal(ins, 0);
    assert_int_equal(rep, 1);
    assert_int_equal(disco_vindex_get(f->v, NULL, "r1", got, NULL), DISCO_OK);
    assert_memory_equal(got, nv, sizeof nv);
    assert_int_equal(disco_vindex_delete(f->v, NULL, ids, 3, &del, NULL), DISCO_OK);
    assert_int_equal(del, 2);
    assert_int_equal(disco_vindex_get(f->v, NULL, "r1", got, NULL), DISCO_ERR_NOTFOUND);
    assert_int_equal(stat_int(f->v, "count"), 198);
    check_codes_stat(f->v, 0); /* 200 vectors: too few to train codes */
    assert_int_equal(stat_int(f->v, "deleted_slots"), 2);
    /* churn: delete by filter and re-add, the slot table must not grow */
    for (int round = 0; round < 3; round++) {
        disco_vfilter *flt = NULL;

        assert_int_equal(disco_vfilter_parse("{\"tags\":\"p50\"}", 14, &flt, NULL), DISCO_OK);
        assert_int_equal(disco_vindex_delete_filter(f->v, NULL, flt, &del, NULL), DISCO_OK);
        assert_true(del > 50);
        json_t *r = search(f->v, f->x, 50, "{\"tags\":\"p50\"}", 0);
        assert_int_equal(json_array_size(json_object_get(r, "matches")), 0);
        json_decref(r);
        disco_vfilter_free(flt);
        load(f->v, NULL, f->x, 0, 200);
        assert_int_equal(stat_int(f->v, "count"), 200);
        assert_int_equal(stat_int(f->v, "slots"), 200);
    }
    assert_int_equal(disco_vindex_delete_filter(f->v, NULL, NULL, &del, NULL), DISCO_OK);
    assert_int_equal(del, 200);
    json_decref(m);
    fx_free(f);
}

static void test_recall(void **state)
{
    fixture *f = fx_new(N, DISCO_VMETRIC_L2);
    double sum = 0;
    float *q = malloc(100 * DIM * sizeof *q);

    (void)state;
    check_codes_stat(f->v, DIM / 2);
    /* queries near the data, as real queries are: base rows plus a little noise */
    g_rng = 7;
    for (size_t i = 0; i < 100 * DIM; i++)
        q[i] = f->x[(i / DIM) * 37 * DIM + i % DIM] + (rnd01() - 0.5f) * 0.1f;
    for (size_t i = 0; i < 100; i++) {
        json_t *a = search(f->v, q + i * DIM, K, NULL, 0),
               *e = search(f->v, q + i * DIM, K, NULL, 1);

        assert_string_equal(strategy(a), "graph");
        assert_string_equal(strategy(e), "exact");
        sum += overlap(a, e);
        json_decref(a);
        json_decref(e);
    }
    assert_true(sum / 100 >= 0.95);
    free(q);
    fx_free(f);
}

static void check_filtered(fixture *f, const char *tag, const char *want, const char *filter)
{
    char flt[64];
    float *q = clustered(50, DIM, 9);
    double sum = 0;

    snprintf(flt, sizeof flt, "{\"tags\": \"%s\"}", tag);
    if (filter)
        snprintf(flt, sizeof flt, "%s", filter);
    for (size_t i = 0; i < 50; i++) {
        json_t *a = search(f->v, q + i * DIM, K, flt, 0), *e = search(f->v, q + i * DIM, K, flt, 1);
        json_t *ms = json_object_get(a, "matches");

        assert_string_equal(strategy(a), want);
        for (size_t j = 0; j < json_array_size(ms); j++) {
            json_t *tags =
                json_object_get(json_object_get(json_array_get(ms, j), "metadata"), "tags");
            int found = filter != NULL;

            for (size_t t = 0; t < json_array_size(tags); t++)
                found |= strcmp(json_string_value(json_array_get(tags, t)), tag) == 0;
            assert_true(found);
        }
        sum += overlap(a, e);
        json_decref(a);
        json_decref(e);
    }
    print_message("filter %s: recall %.3f\n", tag, sum / 50);
    assert_true(sum / 50 >= 0.95);
    free(q);
}

static void test_filtered_recall(void **state)
{
    fixture *f = fx_new(N, DISCO_VMETRIC_COSINE);

    (void)state;
    /* Only-terms filters: the postings are the answer; up to 20 k candidates are scanned. */
    check_filtered(f, "p50", "exact", NULL);
    check_filtered(f, "p10", "exact", NULL);
    check_filtered(f, "p1", "exact", NULL);
    check_filtered(f, "p01", "exact", NULL);
    /* A range keeps half and has no term: the walk checks each node's metadata. */
    check_filtered(f, "", "graph-filtered", "{\"n\": {\"$gte\": 2500}}");
    /* A term plus a range keeping 40 %: a walk checking the whole filter. */
    check_filtered(f, "p50", "graph-filtered", "{\"tags\": \"p50\", \"n\": {\"$lt\": 4000}}");
    /* A term plus a range keeping 8 %: the postings' candidates, each checked. */
    check_filtered(f, "p10", "exact", "{\"tags\": \"p10\", \"n\": {\"$lt\": 4000}}");
    fx_free(f);
}

static void test_filter_by_sample(void **state)
{
    fixture *f = fx_new(N, DISCO_VMETRIC_IP);
    json_t *r;

    (void)state;
    /* numbers are not in the term index: the sample decides */
    r = search(f->v, f->x, K, "{\"n\": {\"$lt\": 20}}", 0);
    assert_string_equal(strategy(r), "exact");
    assert_int_equal(json_array_size(json_object_get(r, "matches")), K);
    json_decref(r);
    r = search(f->v, f->x, K, "{\"n\": {\"$gte\": 1000}}", 0);
    assert_string_equal(strategy(r), "graph-filtered");
    json_t *m0 = json_array_get(json_object_get(r, "matches"), 0);
    assert_true(json_integer_value(json_object_get(json_object_get(m0, "metadata"), "n")) >= 1000);
    json_decref(r);
    fx_free(f);
}

static void test_namespaces(void **state)
{
    fixture *f = fx_new(0, DISCO_VMETRIC_L2);
    json_t *r, *ms;
    const char *id = "r3";
    float got[DIM];

    (void)state;
    load(f->v, "a", f->x, 0, 1000);
    load(f->v, "b", f->x, 1000, 1100);
    disco_vquery q = {"b", f->x, K, 0, NULL, 0, 0, 0, 0};
    assert_int_equal(disco_vindex_search(f->v, &q, &r, NULL), DISCO_OK);
    ms = json_object_get(r, "matches");
    assert_int_equal(json_array_size(ms), K);
    for (size_t i = 0; i < K; i++) {
        const char *mid = json_string_value(json_object_get(json_array_get(ms, i), "id"));
        assert_true(atoi(mid + 1) >= 1000);
    }
    assert_string_equal(strategy(r), "exact"); /* 100 of 1100 */
    json_decref(r);
    q.ns = "a";
    assert_int_equal(disco_vindex_search(f->v, &q, &r, NULL), DISCO_OK);
    assert_string_equal(strategy(r), "graph-filtered");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(r, "matches"), 0), "id")),
        "r0");
    json_decref(r);
    assert_int_equal(disco_vindex_get(f->v, "b", id, got, NULL), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_vindex_get(f->v, "a", id, got, NULL), DISCO_OK);
    q.ns = "c";
    assert_int_equal(disco_vindex_search(f->v, &q, &r, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(r, "matches")), 0);
    json_decref(r);
    fx_free(f);
}

static void reopen(fixture *f)
{
    disco_vindex_close(f->v);
    f->v = NULL;
    assert_int_equal(disco_vindex_open(f->root, "c1", &f->v, NULL), DISCO_OK);
}

static void test_persistence(void **state)
{
    fixture *f = fx_new(1000, DISCO_VMETRIC_COSINE);
    json_t *before, *after;
    const char *del[1] = {"r5"};

    (void)state;
    assert_int_equal(disco_vindex_delete(f->v, NULL, del, 1, NULL, NULL), DISCO_OK);
    before = search(f->v, f->x, K, "{\"tags\":\"p10\"}", 0);
    reopen(f); /* log replay, no snapshot yet */
    after = search(f->v, f->x, K, "{\"tags\":\"p10\"}", 0);
    assert_true(json_equal(json_object_get(before, "matches"), json_object_get(after, "matches")));
    json_decref(after);
    assert_int_equal(stat_int(f->v, "count"), 999);
    assert_int_equal(disco_vindex_snapshot(f->v, NULL), DISCO_OK);
    load(f->v, NULL, f->x, 1000, 1100); /* snapshot + log */
    reopen(f);
    assert_int_equal(stat_int(f->v, "count"), 1099);
    assert_int_equal(stat_int(f->v, "deleted_slots"), 0); /* r5's slot went to a new item */
    after = search(f->v, f->x, K, NULL, 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(after, "matches"), 0), "id")),
                        "r0");
    json_decref(after);
    json_decref(before);
    fx_free(f);
}

static void test_torn_and_damaged_log(void **state)
{
    fixture *f = fx_new(100, DISCO_VMETRIC_L2);
    char *log = tu_path(f->root, "c1/log.dvl");
    size_t len = 0;
    char *bytes;
    disco_status st = {0};

    (void)state;
    load(f->v, NULL, f->x, 100, 110);
    disco_vindex_close(f->v);
    f->v = NULL;
    bytes = tu_read_file(log, &len);
    assert_int_equal(truncate(log, (off_t)len - 7), 0); /* tear the last record */
    assert_int_equal(disco_vindex_open(f->root, "c1", &f->v, &st), DISCO_OK);
    assert_int_equal(stat_int(f->v, "count"), 100);
    disco_vindex_close(f->v);
    f->v = NULL;
    bytes[40] ^= 0x55; /* damage the first record, with the second after it */
    assert_int_equal(tu_write_file(log, bytes, len), 0);
    assert_int_equal(disco_vindex_open(f->root, "c1", &f->v, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "log.dvl"));
    assert_non_null(strstr(st.msg, "offset 16"));
    free(bytes);
    free(log);
    fx_free(f);
}

static void test_bad_input(void **state)
{
    fixture *f = fx_new(10, DISCO_VMETRIC_L2);
    float v[DIM] = {0};
    json_t *bad = json_pack("{s:n}", "genre"), *r = NULL;
    disco_status st = {0};
    char longid[200];

    (void)state;
    disco_vitem it[2] = {{NULL, "ok", v, NULL, 0}, {NULL, "x", v, NULL, 3}};
    assert_int_equal(disco_vindex_upsert(f->v, it, 2, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "items[1].values");
    assert_int_equal(stat_int(f->v, "count"), 10); /* nothing written */
    it[1].dim = 0;
    v[4] = NAN;
    assert_int_equal(disco_vindex_upsert(f->v, it, 2, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "values[4]"));
    v[4] = 0;
    it[1].metadata = bad;
    assert_int_equal(disco_vindex_upsert(f->v, it, 2, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "items[1].metadata.genre");
    it[1].metadata = NULL;
    it[1].id = "";
    assert_int_equal(disco_vindex_upsert(f->v, it, 2, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "items[1].id");
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = 0;
    it[1].id = longid;
    assert_int_equal(disco_vindex_upsert(f->v, it, 2, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
    disco_vquery q = {NULL, v, 0, 0, NULL, 0, 0, 0, 0};
    assert_int_equal(disco_vindex_search(f->v, &q, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "top_k");
    q.k = 5;
    q.dim = 4;
    assert_int_equal(disco_vindex_search(f->v, &q, &r, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "vector");
    assert_null(r);
    assert_int_equal(stat_int(f->v, "count"), 10);
    json_decref(bad);
    fx_free(f);
}

static void test_search_batch(void **state)
{
    fixture *f = fx_new(1000, DISCO_VMETRIC_L2);
    disco_vquery qs[8];
    json_t *out = NULL;

    (void)state;
    for (size_t i = 0; i < 8; i++)
        qs[i] = (disco_vquery){NULL, f->x + i * DIM, 3, 0, NULL, 0, 0, 0, 0};
    assert_int_equal(disco_vindex_search_batch(f->v, qs, 8, 4, &out, NULL), DISCO_OK);
    assert_int_equal(json_array_size(json_object_get(out, "results")), 8);
    for (size_t i = 0; i < 8; i++) {
        json_t *m0 = json_array_get(
            json_object_get(json_array_get(json_object_get(out, "results"), i), "matches"), 0);
        char want[16];

        snprintf(want, sizeof want, "r%zu", i);
        assert_string_equal(json_string_value(json_object_get(m0, "id")), want);
        assert_true(json_real_value(json_object_get(m0, "score")) <= 0);
    }
    json_decref(out);
    fx_free(f);
}

/* The ids of a result, sorted and joined, for comparing result sets. */
static void ids_of(const json_t *r, char *buf, size_t cap)
{
    json_t *m = json_object_get(r, "matches");
    const char *ids[64];
    size_t n = 0, len = 0;

    for (size_t i = 0; i < json_array_size(m) && n < 64; i++)
        ids[n++] = json_string_value(json_object_get(json_array_get(m, i), "id"));
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
            const char *t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n && len + 1 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s,", ids[i]);
}

/*
 * Filters made only of $eq / $in conjuncts are answered from the postings
 * without checking a vector: the answers equal those of the same filter
 * wrapped in an $or, which has no terms and is checked vector by vector.
 */
static void test_only_terms_equal_checked(void **state)
{
    static const char *const filters[] = {
        "{\"tags\": \"p10\"}",
        "{\"tags\": {\"$in\": [\"p1\", \"p01\"]}}",
        "{\"n\": {\"$in\": [3, 17, 99, 1234, 4000, 4999]}}",
        "{\"$and\": [{\"tags\": \"p50\"}, {\"tags\": {\"$eq\": \"p10\"}}]}",
        "{\"tags\": \"p50\", \"n\": {\"$in\": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}}",
    };
    fixture *f = fx_new(N, DISCO_VMETRIC_L2);
    char a[1024], b[1024], wrapped[512];
    (void)state;

    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        disco_vfilter *vf = NULL;
        assert_int_equal(disco_vfilter_parse(filters[i], strlen(filters[i]), &vf, NULL), 0);
        assert_int_equal(disco_vfilter_only_terms(vf), 1);
        disco_vfilter_free(vf);
        snprintf(wrapped, sizeof wrapped, "{\"$or\": [%s, {\"tags\": \"none\"}]}", filters[i]);
        for (size_t qi = 0; qi < 5; qi++) {
            json_t *r1 = search(f->v, f->x + qi * 97 * DIM, K, filters[i], 1);
            json_t *r2 = search(f->v, f->x + qi * 97 * DIM, K, wrapped, 1);
            ids_of(r1, a, sizeof a);
            ids_of(r2, b, sizeof b);
            assert_string_equal(a, b);
            json_decref(r1);
            json_decref(r2);
        }
    }
    fx_free(f);
}

/*
 * Posting lists stay right through replace, delete, snapshot and reopen:
 * a term-filtered search (answered from postings) equals the exact search
 * that checks every vector's metadata with a filter of the same meaning
 * but no indexable term.
 */
static void test_postings_upkeep(void **state)
{
    fixture *f = fx_new(2000, DISCO_VMETRIC_L2);
    const char *by_term = "{\"tags\": \"p1\"}";
    const char *by_scan = "{\"$or\": [{\"tags\": \"p1\"}, {\"tags\": \"nothing\"}]}";
    json_t *meta = json_pack("{s:[s], s:I}", "tags", "p1", "n", (json_int_t)7);
    disco_vitem moved = {NULL, "r3", f->x + 3 * DIM, meta, DIM};
    const char *gone[] = {"r0"};
    char a[4096], b[4096];
    (void)state;

    assert_int_equal(disco_vindex_upsert(f->v, &moved, 1, 1, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_vindex_delete(f->v, NULL, gone, 1, NULL, NULL), DISCO_OK);
    for (int round = 0; round < 3; round++) {
        json_t *r1 = search(f->v, f->x + 5 * DIM, 50, by_term, 1);
        json_t *r2 = search(f->v, f->x + 5 * DIM, 50, by_scan, 1);
        ids_of(r1, a, sizeof a);
        ids_of(r2, b, sizeof b);
        assert_string_equal(a, b);
        assert_non_null(strstr(a, "r3,"));
        json_decref(r1);
        json_decref(r2);
        if (round == 0)
            assert_int_equal(disco_vindex_snapshot(f->v, NULL), DISCO_OK);
        disco_vindex_close(f->v);
        assert_int_equal(disco_vindex_open(f->root, "c1", &f->v, NULL), DISCO_OK);
    }
    json_decref(meta);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open_list_drop),
        cmocka_unit_test(test_upsert_fetch_delete),
        cmocka_unit_test(test_recall),
        cmocka_unit_test(test_filtered_recall),
        cmocka_unit_test(test_filter_by_sample),
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_torn_and_damaged_log),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_search_batch),
        cmocka_unit_test(test_postings_upkeep),
        cmocka_unit_test(test_only_terms_equal_checked),
    };

    return cmocka_run_group_tests_name("store/vindex", tests, NULL, NULL);
}
