/*
 * bench_catalog.c - throughput and lineage latency of the embedded catalog.
 *
 * Figures, one line each:
 *   creates per second, each its own transaction       (CATALOG_BENCH_SINGLE, 20000)
 *   creates per second, 1000 per batch                 (CATALOG_BENCH_BATCHED, 100000)
 *   a layered DAG of CATALOG_BENCH_LAYERS (50) layers of CATALOG_BENCH_WIDTH
 *   (2000) resources, each with 1..3 parents in the layer above, then the
 *   time per lineage query to depth 50: ancestors of a deepest node,
 *   descendants of a root, both ways from a middle node
 *   (CATALOG_BENCH_QUERIES queries each, 5), with node and edge counts.
 *
 * Files go to a fresh folder under $TMPDIR, removed at the end, or to
 * CATALOG_BENCH_DIR (created when missing, kept) for a look afterwards.
 */
#include "disco/catalog.h"
#include "disco/timeutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000
#define LINEAGE_DEPTH 50

typedef char bench_id[DISCO_ID_LEN + 1];

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);
    long n = v ? strtol(v, NULL, 10) : 0;

    return n > 0 ? n : def;
}

static double seconds_since(uint64_t start_ns)
{
    return (double)(disco_time_mono_ns() - start_ns) / 1e9;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void die(const char *what, const disco_status *st)
{
    fprintf(stderr, "bench_catalog: %s: %s\n", what, disco_status_message(st));
    exit(1);
}

static disco_catalog *open_in(const char *dir, const char *name)
{
    char path[4096];
    disco_catalog *c;
    disco_status st = {0};

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (disco_catalog_open(path, &c, &st))
        die("open", &st);
    return c;
}

/* One create with a couple of tags and a small metadata document. */
static void create_one(disco_catalog *c, long i, const json_t *parents, char *id_out)
{
    disco_status st = {0};
    disco_resource r;
    json_t *tags = json_pack("{s:s, s:s}", "genre", i % 2 ? "house" : "techno", "bench", "1");
    json_t *md = json_pack("{s:I, s:{s:s}}", "n", (json_int_t)i, "key", "tonic", "A");
    disco_resource_spec spec = {
        .type = "bench", .parents = parents, .tags = tags, .metadata = md, .owner = "bench"};

    if (disco_catalog_create(c, &spec, id_out ? &r : NULL, &st))
        die("create", &st);
    if (id_out) {
        memcpy(id_out, r.id, sizeof r.id);
        disco_resource_release(&r);
    }
    json_decref(tags);
    json_decref(md);
}

static void bench_single(const char *dir, long n)
{
    disco_catalog *c = open_in(dir, "single.db");
    uint64_t t0 = disco_time_mono_ns();
    double s;

    for (long i = 0; i < n; i++)
        create_one(c, i, NULL, NULL);
    s = seconds_since(t0);
    printf("catalog create, one per transaction: %ld in %.2f s = %.0f resources/s\n", n, s,
           (double)n / s);
    disco_catalog_close(c);
}

/* Opens a batch before write i and commits it after every BATCH-th or the last. */
static void batch_open(disco_catalog *c, long i)
{
    disco_status st = {0};

    if (i % BATCH == 0 && disco_catalog_begin(c, &st))
        die("begin", &st);
}

static void batch_close(disco_catalog *c, long i, long n)
{
    disco_status st = {0};

    if ((i % BATCH == BATCH - 1 || i == n - 1) && disco_catalog_commit(c, &st))
        die("commit", &st);
}

static void bench_batched(const char *dir, long n)
{
    disco_catalog *c = open_in(dir, "batched.db");
    uint64_t t0 = disco_time_mono_ns();
    double s;

    for (long i = 0; i < n; i++) {
        batch_open(c, i);
        create_one(c, i, NULL, NULL);
        batch_close(c, i, n);
    }
    s = seconds_since(t0);
    printf("catalog create, %d per transaction: %ld in %.2f s = %.0f resources/s\n", BATCH, n, s,
           (double)n / s);
    disco_catalog_close(c);
}

/* 1..3 distinct parents from the layer above. */
static json_t *pick_parents(bench_id *above, long width, long *edges)
{
    json_t *parents = json_array();
    int want = 1 + (int)(rng_next() % 3);

    while ((int)json_array_size(parents) < want && (long)json_array_size(parents) < width) {
        const char *p = above[rng_next() % (uint32_t)width];
        size_t i;
        json_t *v;
        int dup = 0;

        json_array_foreach (parents, i, v)
            dup |= !strcmp(json_string_value(v), p);
        if (!dup)
            json_array_append_new(parents, json_string(p));
    }
    *edges += (long)json_array_size(parents);
    return parents;
}

static bench_id *build_dag(disco_catalog *c, long layers, long width)
{
    bench_id *ids = malloc((size_t)(layers * width) * sizeof *ids);
    long n = layers * width, edges = 0;
    uint64_t t0 = disco_time_mono_ns();
    double s;

    if (!ids)
        exit(1);
    for (long i = 0; i < n; i++) {
        long layer = i / width;
        json_t *parents = layer ? pick_parents(ids + (layer - 1) * width, width, &edges) : NULL;

        batch_open(c, i);
        create_one(c, i, parents, ids[i]);
        batch_close(c, i, n);
        json_decref(parents);
    }
    s = seconds_since(t0);
    printf("catalog lineage DAG: %ld resources, %ld edges, %ld layers of %ld, built in %.2f s\n", n,
           edges, layers, width, s);
    return ids;
}

static void time_lineage(disco_catalog *c, const char *label, bench_id *ids, long from, long span,
                         disco_lineage_dir dir, long queries)
{
    disco_status st = {0};
    size_t nodes = 0, edges = 0;
    double total = 0;

    for (long q = 0; q < queries; q++) {
        const char *id = ids[from + (long)(rng_next() % (uint32_t)span)];
        uint64_t t0 = disco_time_mono_ns();
        json_t *g = NULL;

        if (disco_catalog_lineage(c, id, dir, LINEAGE_DEPTH, &g, &st))
            die("lineage", &st);
        total += seconds_since(t0);
        nodes += json_array_size(json_object_get(g, "nodes"));
        edges += json_array_size(json_object_get(g, "edges"));
        json_decref(g);
    }
    printf("catalog lineage %s, depth %d: %.1f ms/query (%zu nodes, %zu edges on average)\n", label,
           LINEAGE_DEPTH, 1e3 * total / (double)queries, nodes / (size_t)queries,
           edges / (size_t)queries);
}

static void bench_lineage(const char *dir, long layers, long width, long queries)
{
    disco_catalog *c = open_in(dir, "dag.db");
    bench_id *ids = build_dag(c, layers, width);
    long last = (layers - 1) * width, middle = (layers / 2) * width;

    time_lineage(c, "ancestors of a deepest node", ids, last, width, DISCO_LINEAGE_ANCESTORS,
                 queries);
    time_lineage(c, "descendants of a root", ids, 0, width, DISCO_LINEAGE_DESCENDANTS, queries);
    time_lineage(c, "both ways from a middle node", ids, middle, width, DISCO_LINEAGE_BOTH,
                 queries);
    free(ids);
    disco_catalog_close(c);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR"), *keep = getenv("CATALOG_BENCH_DIR");
    char dir[4096];

    snprintf(dir, sizeof dir, "%s/disco-bench-catalog-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (keep && *keep)
        snprintf(dir, sizeof dir, "%s", keep);
    else if (!mkdtemp(dir)) {
        perror("bench_catalog: mkdtemp");
        return 1;
    }
    bench_single(dir, env_long("CATALOG_BENCH_SINGLE", 20000));
    bench_batched(dir, env_long("CATALOG_BENCH_BATCHED", 100000));
    bench_lineage(dir, env_long("CATALOG_BENCH_LAYERS", 50), env_long("CATALOG_BENCH_WIDTH", 2000),
                  env_long("CATALOG_BENCH_QUERIES", 5));
    if (!keep || !*keep)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
