/*
 * bench_vindex.c - vector search side by side with hnswlib, in one run.
 *
 * Data sets (scripts/fetch-vector-data.sh prepares them in build/data/ and is
 * run when they are missing): wink100, 100,000 GloVe 100-d words, cosine;
 * fmnist, 60,000 Fashion-MNIST 784-d images, L2; 1,000 queries each with
 * their exact top-100.
 *
 * Per data set, M = 16, ef_construction = 200, one thread for both sides:
 *   build time, ours (disco_hnsw) and hnswlib's (bench/hnswlib_anchor);
 *   bytes per vector, both, and the goal raw + 2·M·4 + 64;
 *   recall@10 and QPS at ef 16..256 (best of ROUNDS passes, the two sides
 *   taking turns ef by ef), and the QPS ratio at the smallest ef where each
 *   side reaches recall 0.95 (goal >= 1.2x);
 *   filtered search through a collection (disco_vindex): each vector has
 *   "bucket" 0..999 (each value on 0.1 % of the vectors), and filters
 *   {"bucket": {"$in": [...]}} pass 50, 10, 1 and 0.1 %; recall@10 against
 *   an exact scan of the allowed vectors (goal >= 0.95) and QPS.
 *
 * Environment: BENCH_VINDEX_N limits the base (the truth is then recomputed),
 * BENCH_VINDEX_ANCHOR names the hnswlib_anchor binary (else the one next to
 * this binary, else build/release/bench/hnswlib_anchor, built when missing),
 * BENCH_VINDEX_FILTER_EF the ef of filtered searches (default 0: the
 * collection's default), BENCH_VINDEX_SETS the data sets to run (e.g.
 * "fmnist"; default both). Scratch files go to a fresh folder under $TMPDIR.
 */
#include "disco/hnsw.h"
#include "disco/timeutil.h"
#include "disco/vdist.h"
#include "disco/vfilter.h"
#include "disco/vindex.h"

#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define K 10
#define M_LINKS 16
#define EF_CONSTRUCTION 200
#define NEF 5
#define RECALL_GOAL 0.95
#define BUCKETS 1000
#define NSEL 4
#define UPSERT_BATCH 4096
#define ROUNDS 5 /* query passes per side and ef; the best counts */

static const size_t efs[NEF] = {16, 32, 64, 128, 256};
static const size_t sel_buckets[NSEL] = {500, 100, 10, 1}; /* of BUCKETS */

typedef struct vecs {
    float *v;
    size_t n, dim;
} vecs;

typedef struct dataset {
    const char *name;
    disco_vmetric metric;
    vecs base, query;
    float *nbase, *nquery; /* normalised copies for cosine, else base.v/query.v */
    int32_t *truth;        /* tk ids per query */
    size_t tk;
    char base_path[PATH_MAX], query_path[PATH_MAX], truth_path[PATH_MAX];
} dataset;

typedef struct side {
    double build_s, bytes_per_vec;
    double qps[NEF], recall[NEF];
} side;

static char work_dir[PATH_MAX];

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

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_vindex: %s: %s\n", what, why);
    exit(1);
}

/* snprintf's result checked: a path that does not fit is fatal. */
static void fit(int written, size_t len)
{
    if (written < 0 || (size_t)written >= len)
        die("path", "too long");
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* --- files ------------------------------------------------------------------ */

/* Reads at most `limit` vectors of an .fvecs file. */
static void read_fvecs(const char *path, size_t limit, vecs *out)
{
    FILE *f = fopen(path, "rb");
    int32_t dim = 0;
    size_t cap = 0;

    if (!f)
        die(path, "cannot open");
    memset(out, 0, sizeof *out);
    while (out->n < limit && fread(&dim, 4, 1, f) == 1) {
        if (dim <= 0 || (out->dim && (size_t)dim != out->dim))
            die(path, "bad dimension");
        out->dim = (size_t)dim;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 1024;
            out->v = realloc(out->v, cap * out->dim * sizeof(float));
            if (!out->v)
                die(path, "out of memory");
        }
        if (fread(out->v + out->n * out->dim, 4, out->dim, f) != out->dim)
            die(path, "truncated");
        out->n++;
    }
    fclose(f);
}

static int32_t *read_ivecs(const char *path, size_t rows, size_t *k)
{
    FILE *f = fopen(path, "rb");
    int32_t dim = 0, *out = NULL;

    if (!f)
        die(path, "cannot open");
    for (size_t r = 0; r < rows; r++) {
        if (fread(&dim, 4, 1, f) != 1 || dim < K)
            die(path, "truncated or fewer than 10 ids a query");
        if (!out && !(out = malloc(rows * (size_t)dim * sizeof *out)))
            die(path, "out of memory");
        *k = (size_t)dim;
        if (fread(out + r * *k, 4, *k, f) != *k)
            die(path, "truncated");
    }
    fclose(f);
    return out;
}

static void write_vecs(const char *path, const void *rows, size_t n, size_t dim)
{
    FILE *f = fopen(path, "wb");
    int32_t d = (int32_t)dim;

    if (!f)
        die(path, "cannot create");
    for (size_t i = 0; i < n; i++) {
        if (fwrite(&d, 4, 1, f) != 1 || fwrite((const char *)rows + i * dim * 4, 4, dim, f) != dim)
            die(path, "write failed");
    }
    if (fclose(f))
        die(path, "write failed");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* --- exact search ------------------------------------------------------------ */

/* The k nearest of the allowed slots (all n when allow is NULL), nearest first. */
static size_t exact_topk(const dataset *ds, const uint32_t *allow, size_t n, const float *q,
                         size_t k, uint32_t *ids)
{
    float best[K];
    size_t have = 0, dim = ds->base.dim;

    for (size_t j = 0; j < n; j++) {
        uint32_t s = allow ? allow[j] : (uint32_t)j;
        float d = disco_vdist(ds->metric, q, ds->nbase + (size_t)s * dim, dim);
        size_t p;

        if (have == k && d >= best[k - 1])
            continue;
        p = have < k ? have++ : k - 1;
        for (; p > 0 && best[p - 1] > d; p--) {
            best[p] = best[p - 1];
            ids[p] = ids[p - 1];
        }
        best[p] = d;
        ids[p] = s;
    }
    return have;
}

/* Hits of ids[0..n) among the first K ids of `truth`. */
static size_t hits_of(const uint32_t *ids, size_t n, const int32_t *truth)
{
    size_t hits = 0;

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < K; j++)
            hits += (uint32_t)truth[j] == ids[i];
    return hits;
}

/* --- data sets ---------------------------------------------------------------- */

static float *normalised_copy(const vecs *v)
{
    float *c = malloc(v->n * v->dim * sizeof *c);

    if (!c)
        die("normalise", "out of memory");
    memcpy(c, v->v, v->n * v->dim * sizeof *c);
    for (size_t i = 0; i < v->n; i++)
        disco_vdist_normalize(c + i * v->dim, v->dim);
    return c;
}

/* A limited base: writes it and its exact top-K to the scratch folder for the anchor. */
static void limit_base(dataset *ds)
{
    uint32_t *ids = malloc(ds->query.n * K * sizeof *ids);

    if (!ids)
        die("truth", "out of memory");
    for (size_t q = 0; q < ds->query.n; q++)
        if (exact_topk(ds, NULL, ds->base.n, ds->nquery + q * ds->query.dim, K, ids + q * K) < K)
            die("truth", "fewer than 10 base vectors");
    fit(snprintf(ds->base_path, sizeof ds->base_path, "%s/%s_base.fvecs", work_dir, ds->name),
        sizeof ds->base_path);
    fit(snprintf(ds->truth_path, sizeof ds->truth_path, "%s/%s_truth.ivecs", work_dir, ds->name),
        sizeof ds->truth_path);
    write_vecs(ds->base_path, ds->base.v, ds->base.n, ds->base.dim);
    write_vecs(ds->truth_path, ids, ds->query.n, K);
    free(ds->truth);
    ds->truth = (int32_t *)ids;
    ds->tk = K;
}

static void load_dataset(dataset *ds, const char *name, disco_vmetric metric, size_t limit)
{
    memset(ds, 0, sizeof *ds);
    ds->name = name;
    ds->metric = metric;
    snprintf(ds->base_path, sizeof ds->base_path, "build/data/%s_base.fvecs", name);
    snprintf(ds->query_path, sizeof ds->query_path, "build/data/%s_query.fvecs", name);
    snprintf(ds->truth_path, sizeof ds->truth_path, "build/data/%s_truth.ivecs", name);
    read_fvecs(ds->base_path, limit, &ds->base);
    read_fvecs(ds->query_path, SIZE_MAX, &ds->query);
    if (ds->base.dim != ds->query.dim)
        die(name, "base and query dimensions differ");
    ds->truth = read_ivecs(ds->truth_path, ds->query.n, &ds->tk);
    ds->nbase = metric == DISCO_VMETRIC_COSINE ? normalised_copy(&ds->base) : ds->base.v;
    ds->nquery = metric == DISCO_VMETRIC_COSINE ? normalised_copy(&ds->query) : ds->query.v;
    if (ds->base.n == limit)
        limit_base(ds);
}

static void free_dataset(dataset *ds)
{
    if (ds->nbase != ds->base.v)
        free(ds->nbase);
    if (ds->nquery != ds->query.v)
        free(ds->nquery);
    free(ds->base.v);
    free(ds->query.v);
    free(ds->truth);
}

static int have_data(void)
{
    static const char *const files[] = {"wink100_base.fvecs",  "wink100_query.fvecs",
                                        "wink100_truth.ivecs", "fmnist_base.fvecs",
                                        "fmnist_query.fvecs",  "fmnist_truth.ivecs"};
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "build/data/%s", files[i]);
        if (access(path, R_OK))
            return 0;
    }
    return 1;
}

/* --- the anchor ---------------------------------------------------------------- */

/*
 * Moves to the repository root when this binary lives in
 * <root>/<build>/release/bench/; exe_dir gets the binary's folder.
 */
static void find_root(char *exe_dir, size_t len)
{
    char exe[PATH_MAX], probe[PATH_MAX + 64], *cut;

    snprintf(exe_dir, len, ".");
    if (!realpath("/proc/self/exe", exe) || !(cut = strrchr(exe, '/')))
        return;
    *cut = '\0';
    snprintf(exe_dir, len, "%s", exe);
    for (int up = 0; up < 3 && (cut = strrchr(exe, '/')); up++)
        *cut = '\0';
    snprintf(probe, sizeof probe, "%s/scripts/fetch-vector-data.sh", exe);
    if (access(probe, X_OK) == 0 && chdir(exe))
        die(exe, "cannot enter");
}

static void find_anchor(const char *exe_dir, char *out, size_t len)
{
    const char *env = getenv("BENCH_VINDEX_ANCHOR");
    const char *def = "build/release/bench/hnswlib_anchor";

    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    fit(snprintf(out, len, "%s/hnswlib_anchor", exe_dir), len);
    if (access(out, X_OK) == 0)
        return;
    snprintf(out, len, "%s", def);
    if (access(out, X_OK) && system("make --no-print-directory build/release/bench/hnswlib_anchor"))
        die(def, "cannot build the hnswlib anchor");
}

/* The anchor as a child process: it builds, then answers "ef N" lines. */
typedef struct anchor_proc {
    pid_t pid;
    FILE *to, *from;
} anchor_proc;

static void start_anchor(const char *anchor, const dataset *ds, anchor_proc *ap, side *out)
{
    char k[16], line[256];
    int in[2], outp[2];
    size_t bytes = 0;

    snprintf(k, sizeof k, "%d", K);
    if (pipe(in) || pipe(outp))
        die(anchor, "no pipe");
    fflush(stdout);
    ap->pid = fork();
    if (ap->pid < 0)
        die(anchor, "cannot fork");
    if (ap->pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[1]);
        close(outp[0]);
        execl(anchor, anchor, ds->metric == DISCO_VMETRIC_COSINE ? "cosine" : "l2", ds->base_path,
              ds->query_path, ds->truth_path, k, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    ap->to = fdopen(in[1], "w");
    ap->from = fdopen(outp[0], "r");
    memset(out, 0, sizeof *out);
    if (!ap->to || !ap->from || !fgets(line, sizeof line, ap->from) ||
        sscanf(line, "build %lf %zu", &out->build_s, &bytes) != 2 || out->build_s <= 0)
        die(anchor, "failed to build");
    out->bytes_per_vec = (double)bytes / (double)ds->base.n;
}

/* One anchor pass at efs[e]; keeps the best QPS seen. */
static void sweep_anchor(anchor_proc *ap, size_t e, side *out)
{
    char line[256];
    double qps, recall;
    size_t ef;

    fprintf(ap->to, "ef %zu\n", efs[e]);
    fflush(ap->to);
    if (!fgets(line, sizeof line, ap->from) ||
        sscanf(line, "ef %zu %lf %lf", &ef, &qps, &recall) != 3 || ef != efs[e])
        die("hnswlib anchor", "no answer");
    if (qps > out->qps[e])
        out->qps[e] = qps;
    out->recall[e] = recall;
}

static void stop_anchor(anchor_proc *ap)
{
    int status = 0;

    fclose(ap->to);
    fclose(ap->from);
    if (waitpid(ap->pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("hnswlib anchor", "failed");
}

/* --- ours: the graph ------------------------------------------------------------ */

static disco_hnsw *build_ours(const dataset *ds, side *out)
{
    disco_hnsw_config cfg = disco_hnsw_config_default(ds->base.dim, ds->metric);
    disco_status st = {0};
    disco_hnsw *h = NULL;
    uint64_t t0 = disco_time_mono_ns();

    cfg.M = M_LINKS;
    cfg.ef_construction = EF_CONSTRUCTION;
    if (disco_hnsw_new(&cfg, &h, &st) || disco_hnsw_reserve(h, ds->base.n, &st))
        die("hnsw", st.msg);
    for (size_t i = 0; i < ds->base.n; i++)
        if (disco_hnsw_add(h, (uint32_t)i, ds->base.v + i * ds->base.dim, &st))
            die("hnsw add", st.msg);
    out->build_s = seconds_since(t0);
    out->bytes_per_vec = (double)disco_hnsw_bytes(h) / (double)ds->base.n;
    return h;
}

/* One pass of our graph at efs[e]; keeps the best QPS seen. */
static void sweep_ours(const disco_hnsw *h, const dataset *ds, size_t e, side *out)
{
    uint32_t slots[K];
    float dists[K];
    disco_status st = {0};
    size_t hits = 0, n = 0;
    uint64_t t0 = disco_time_mono_ns();
    double qps;

    for (size_t q = 0; q < ds->query.n; q++) {
        if (disco_hnsw_search(h, ds->query.v + q * ds->query.dim, K, efs[e], NULL, NULL, slots,
                              dists, &n, &st))
            die("hnsw search", st.msg);
        hits += hits_of(slots, n, ds->truth + q * ds->tk);
    }
    qps = (double)ds->query.n / seconds_since(t0);
    if (qps > out->qps[e])
        out->qps[e] = qps;
    out->recall[e] = (double)hits / (double)(ds->query.n * K);
}

/*
 * ROUNDS rounds; in each, every ef once on our side and once on the
 * anchor's, one after the other. Best QPS of the rounds per side and ef:
 * a busy spell of a shared machine lowers a pass, never raises it.
 */
static void sweep_both(const disco_hnsw *h, const dataset *ds, anchor_proc *ap, side *ours,
                       side *theirs)
{
    for (int r = 0; r < ROUNDS; r++)
        for (size_t e = 0; e < NEF; e++) {
            sweep_ours(h, ds, e, ours);
            sweep_anchor(ap, e, theirs);
        }
}

/* The index of the smallest ef reaching the recall goal, or -1. */
static int first_at_goal(const side *s)
{
    for (int e = 0; e < NEF; e++)
        if (s->recall[e] >= RECALL_GOAL)
            return e;
    return -1;
}

static void print_unfiltered(const dataset *ds, const side *ours, const side *theirs)
{
    size_t raw = ds->base.dim * sizeof(float), goal = raw + 2 * M_LINKS * 4 + 64;
    int a = first_at_goal(ours), b = first_at_goal(theirs);

    printf("build            ours %8.2f s   hnswlib %8.2f s   ours/hnswlib %.2fx\n", ours->build_s,
           theirs->build_s, ours->build_s / theirs->build_s);
    printf(
        "bytes/vector     ours %8.1f     hnswlib %8.1f     goal %zu (raw %zu + 2*%d*4 + 64): %s\n",
        ours->bytes_per_vec, theirs->bytes_per_vec, goal, raw, M_LINKS,
        ours->bytes_per_vec <= (double)goal ? "met" : "NOT met");
    printf("%5s  %12s %10s  %14s %12s  %9s\n", "ef", "ours recall", "ours QPS", "hnswlib recall",
           "hnswlib QPS", "QPS ratio");
    for (int e = 0; e < NEF; e++)
        printf("%5zu  %12.4f %10.0f  %14.4f %12.0f  %8.2fx\n", efs[e], ours->recall[e],
               ours->qps[e], theirs->recall[e], theirs->qps[e], ours->qps[e] / theirs->qps[e]);
    if (a < 0 || b < 0) {
        printf("recall >= %.2f: not reached by %s\n", RECALL_GOAL,
               a < 0 && b < 0 ? "either"
               : a < 0        ? "ours"
                              : "hnswlib");
        return;
    }
    printf("recall >= %.2f: ours ef %zu %.0f QPS, hnswlib ef %zu %.0f QPS: ratio %.2fx (goal >= "
           "1.2x)\n",
           RECALL_GOAL, efs[a], ours->qps[a], efs[b], theirs->qps[b],
           ours->qps[a] / theirs->qps[b]);
}

/* --- ours: filtered search through a collection ---------------------------------- */

/* Bucket 0..BUCKETS-1 of each vector, each value on n / BUCKETS of them, shuffled. */
static uint16_t *make_buckets(size_t n)
{
    uint16_t *b = malloc(n * sizeof *b);

    if (!b)
        die("buckets", "out of memory");
    for (size_t i = 0; i < n; i++)
        b[i] = (uint16_t)(i % BUCKETS);
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_next() % i;
        uint16_t t = b[i - 1];

        b[i - 1] = b[j];
        b[j] = t;
    }
    return b;
}

static int load_collection(disco_vindex *v, const dataset *ds, const uint16_t *bucket)
{
    disco_vitem *items = calloc(UPSERT_BATCH, sizeof *items);
    char(*ids)[24] = calloc(UPSERT_BATCH, sizeof *ids);
    disco_status st = {0};
    int rc = items && ids ? DISCO_OK : DISCO_ERR_NOMEM;

    for (size_t at = 0; rc == DISCO_OK && at < ds->base.n; at += UPSERT_BATCH) {
        size_t n = ds->base.n - at < UPSERT_BATCH ? ds->base.n - at : UPSERT_BATCH;

        for (size_t i = 0; i < n; i++) {
            snprintf(ids[i], sizeof ids[i], "%zu", at + i);
            items[i].id = ids[i];
            items[i].vec = ds->base.v + (at + i) * ds->base.dim;
            items[i].metadata = json_pack("{s:i}", "bucket", (int)bucket[at + i]);
        }
        rc = disco_vindex_upsert(v, items, n, 0, NULL, NULL, &st);
        for (size_t i = 0; i < n; i++)
            json_decref((json_t *)items[i].metadata);
    }
    if (rc)
        fprintf(stderr, "bench_vindex: upsert: %s\n", st.msg);
    free(items);
    free(ids);
    return rc;
}

static disco_vfilter *bucket_filter(size_t nbuckets)
{
    json_t *in = json_array(), *expr;
    disco_vfilter *f = NULL;
    disco_status st = {0};

    for (size_t b = 0; b < nbuckets; b++)
        json_array_append_new(in, json_integer((json_int_t)b));
    expr = json_pack("{s:{s:o}}", "bucket", "$in", in);
    if (!expr || disco_vfilter_compile(expr, &f, &st))
        die("filter", st.msg);
    json_decref(expr);
    return f;
}

/*
 * Exact top-K of every query among the vectors whose bucket is below
 * nbuckets (UINT32_MAX past the *per allowed ones when fewer than K pass).
 */
static uint32_t *filtered_truth(const dataset *ds, const uint16_t *bucket, size_t nbuckets,
                                size_t *per)
{
    uint32_t *allow = malloc(ds->base.n * sizeof *allow);
    uint32_t *truth = malloc(ds->query.n * K * sizeof *truth);
    size_t n = 0;

    if (!allow || !truth)
        die("truth", "out of memory");
    memset(truth, 0xff, ds->query.n * K * sizeof *truth);
    for (size_t i = 0; i < ds->base.n; i++)
        if (bucket[i] < nbuckets)
            allow[n++] = (uint32_t)i;
    for (size_t q = 0; q < ds->query.n; q++)
        exact_topk(ds, allow, n, ds->nquery + q * ds->query.dim, K, truth + q * K);
    *per = n < K ? n : K;
    free(allow);
    return truth;
}

/* Hits of a search result among the K truth ids; the strategy and estimate kept. */
static size_t result_hits(json_t *res, const uint32_t *truth, char *strategy, size_t len,
                          double *estimate)
{
    json_t *m;
    size_t i, hits = 0;

    json_array_foreach (json_object_get(res, "matches"), i, m) {
        const char *text = json_string_value(json_object_get(m, "id"));
        unsigned long id = text ? strtoul(text, NULL, 10) : ULONG_MAX;

        for (size_t j = 0; j < K; j++)
            hits += truth[j] == id;
    }
    snprintf(strategy, len, "%s", json_string_value(json_object_get(res, "strategy")));
    *estimate = json_number_value(json_object_get(res, "selectivity"));
    return hits;
}

static void run_filtered(disco_vindex *v, const dataset *ds, const uint16_t *bucket, size_t s)
{
    disco_vfilter *f = bucket_filter(sel_buckets[s]);
    size_t per = 0;
    uint32_t *truth = filtered_truth(ds, bucket, sel_buckets[s], &per);
    disco_vquery q = {.k = K, .ef = (size_t)env_long("BENCH_VINDEX_FILTER_EF", 0), .filter = f};
    disco_status st = {0};
    char strategy[32] = "";
    double estimate = 0;
    size_t hits = 0;
    uint64_t t0 = disco_time_mono_ns();

    for (size_t i = 0; i < ds->query.n; i++) {
        json_t *res = NULL;

        q.vec = ds->query.v + i * ds->query.dim;
        if (disco_vindex_search(v, &q, &res, &st))
            die("collection search", st.msg);
        hits += result_hits(res, truth + i * K, strategy, sizeof strategy, &estimate);
        json_decref(res);
    }
    printf("%7.1f %%  %14s %10.4f  %8.4f %10.0f\n", 100.0 * (double)sel_buckets[s] / BUCKETS,
           strategy, estimate, per ? (double)hits / (double)(ds->query.n * per) : 1.0,
           (double)ds->query.n / seconds_since(t0));
    disco_vfilter_free(f);
    free(truth);
}

static void bench_filtered(const dataset *ds)
{
    disco_vindex_config cfg = disco_vindex_config_default(ds->base.dim, ds->metric);
    disco_status st = {0};
    disco_vindex *v = NULL;
    uint16_t *bucket;
    uint64_t t0;

    cfg.M = M_LINKS;
    cfg.ef_construction = EF_CONSTRUCTION;
    if (disco_vindex_create(work_dir, ds->name, &cfg, &st)) {
        printf("filtered: collection not available (%s)\n", st.msg);
        return;
    }
    if (disco_vindex_open(work_dir, ds->name, &v, &st)) {
        printf("filtered: collection not available (%s)\n", st.msg);
        disco_vindex_drop(work_dir, ds->name, NULL);
        return;
    }
    bucket = make_buckets(ds->base.n);
    t0 = disco_time_mono_ns();
    if (load_collection(v, ds, bucket) == DISCO_OK) {
        long ef = env_long("BENCH_VINDEX_FILTER_EF", 0);

        printf("filtered (collection, k %d, ef %ld%s; loaded in %.2f s on all CPUs; goal recall "
               ">= %.2f)\n",
               K, ef, ef ? "" : " = the default", seconds_since(t0), RECALL_GOAL);
        printf("%9s  %14s %10s  %8s %10s\n", "pass", "strategy", "estimate", "recall", "QPS");
        for (size_t s = 0; s < NSEL; s++)
            run_filtered(v, ds, bucket, s);
    }
    disco_vindex_close(v);
    disco_vindex_drop(work_dir, ds->name, NULL);
    free(bucket);
}

/* --- driver ---------------------------------------------------------------------- */

static void bench_dataset(const char *anchor, const char *name, disco_vmetric metric, size_t limit)
{
    dataset ds;
    side ours, theirs;
    anchor_proc ap;
    disco_hnsw *h;

    load_dataset(&ds, name, metric, limit);
    printf("== %s (%s): %zu base, %zu queries, dim %zu, kernels %s, M %d, ef_construction %d\n",
           name, disco_vmetric_name(metric), ds.base.n, ds.query.n, ds.base.dim, disco_vdist_isa(),
           M_LINKS, EF_CONSTRUCTION);
    fflush(stdout);
    start_anchor(anchor, &ds, &ap, &theirs);
    memset(&ours, 0, sizeof ours);
    h = build_ours(&ds, &ours);
    sweep_both(h, &ds, &ap, &ours, &theirs);
    stop_anchor(&ap);
    disco_hnsw_free(h);
    print_unfiltered(&ds, &ours, &theirs);
    fflush(stdout);
    if (env_long("BENCH_VINDEX_FILTERED", 1) != 2)
        bench_filtered(&ds);
    printf("\n");
    fflush(stdout);
    free_dataset(&ds);
}

/* BENCH_VINDEX_SETS, e.g. "fmnist", picks data sets (default: both). */
static int wanted(const char *name)
{
    const char *sets = getenv("BENCH_VINDEX_SETS");

    return !sets || !*sets || strstr(sets, name) != NULL;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    size_t limit = (size_t)env_long("BENCH_VINDEX_N", 0);
    char exe_dir[PATH_MAX], anchor[PATH_MAX];

    find_root(exe_dir, sizeof exe_dir);
    if (!have_data() && system("scripts/fetch-vector-data.sh"))
        die("scripts/fetch-vector-data.sh", "failed");
    find_anchor(exe_dir, anchor, sizeof anchor);
    snprintf(work_dir, sizeof work_dir, "%s/disco-bench-vindex-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(work_dir))
        die(work_dir, "cannot create");
    if (wanted("wink100"))
        bench_dataset(anchor, "wink100", DISCO_VMETRIC_COSINE, limit ? limit : SIZE_MAX);
    if (wanted("fmnist"))
        bench_dataset(anchor, "fmnist", DISCO_VMETRIC_L2, limit ? limit : SIZE_MAX);
    nftw(work_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
