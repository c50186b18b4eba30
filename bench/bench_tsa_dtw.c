/*
 * bench_tsa_dtw.c - speed of the DTW distance and of the pairwise matrix.
 *
 *   DTW 1000 x 1000     two random walks of 1,000 points, no window: ms per
 *                       call, best of many (goal: <= 2 ms on one core)
 *   matrix 100 x 500    all pairs of 100 random walks of 500 points, on the
 *                       calling thread alone and with a pool of one worker
 *                       per CPU; plain, then with LB_Keogh + max_dist pruning
 *                       (max_dist the median distance: about half pruned)
 *
 * The anchor is dtaidistance's C DTW (distance_fast) through python3 on
 * series of the same length; Debian packages no dtaidistance, so where it
 * is not installed the anchor is skipped and said so. Its results are
 * matched in the tests instead (../shared/ref/tsa/dtw_ref.csv).
 */
#include "disco/pool.h"
#include "disco/timeutil.h"
#include "disco/tsa_compare.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEN_ONE 1000
#define REPS_ONE 300
#define K_MAT 100
#define LEN_MAT 500
#define REPS_MAT 3
#define GOAL_MS 2.0

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static double rnd01(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * 0x1p-53;
}

static void random_walk(double *v, size_t n)
{
    double x = 0.0;

    for (size_t i = 0; i < n; i++) {
        x += rnd01() - 0.5;
        v[i] = x;
    }
}

static void die(const char *what, const disco_status *st)
{
    fprintf(stderr, "bench_tsa_dtw: %s: %s\n", what, st ? st->msg : "out of memory");
    exit(1);
}

/* Best ms per call of DTW between two LEN_ONE-point walks. */
static double bench_one(const disco_tsa_dtw_config *cfg, double *dist)
{
    static double a[LEN_ONE], b[LEN_ONE], scratch[DISCO_TSA_DTW_SCRATCH(LEN_ONE)];
    disco_status st = {0};
    double best = INFINITY;

    random_walk(a, LEN_ONE);
    random_walk(b, LEN_ONE);
    for (int r = 0; r < REPS_ONE; r++) {
        uint64_t t0 = disco_time_mono_ns();

        if (disco_tsa_dtw(a, LEN_ONE, b, LEN_ONE, cfg, scratch, dist, &st) != DISCO_OK)
            die("dtw", &st);
        best = fmin(best, (double)(disco_time_mono_ns() - t0) / 1e6);
    }
    return best;
}

/* Best seconds for the whole K_MAT x K_MAT matrix; pool NULL: the calling thread alone. */
static double bench_matrix(double *const *series, disco_pool *pool, const disco_tsa_dtw_config *cfg,
                           double *out)
{
    size_t lens[K_MAT];
    disco_status st = {0};
    double best = INFINITY;

    for (size_t i = 0; i < K_MAT; i++)
        lens[i] = LEN_MAT;
    for (int r = 0; r < REPS_MAT; r++) {
        uint64_t t0 = disco_time_mono_ns();

        if (disco_tsa_dtw_matrix((const double *const *)series, lens, K_MAT, cfg, pool, out, &st))
            die("matrix", &st);
        best = fmin(best, (double)(disco_time_mono_ns() - t0) / 1e9);
    }
    return best;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;

    return (a > b) - (a < b);
}

/* Median of the off-diagonal entries of the matrix. */
static double median_distance(const double *out)
{
    size_t n = 0;
    double *v = malloc(K_MAT * K_MAT * sizeof *v), m;

    if (!v)
        die("median", NULL);
    for (size_t i = 0; i < K_MAT; i++)
        for (size_t j = i + 1; j < K_MAT; j++)
            v[n++] = out[i * K_MAT + j];
    qsort(v, n, sizeof *v, cmp_double);
    m = v[n / 2];
    free(v);
    return m;
}

static const char PY_ANCHOR[] =
    "import sys, time\n"
    "try:\n"
    "    import numpy as np\n"
    "    from dtaidistance import dtw\n"
    "except ImportError:\n"
    "    print('missing'); sys.exit(0)\n"
    "r = np.random.default_rng(1)\n"
    "a = np.cumsum(r.random(1000) - .5); b = np.cumsum(r.random(1000) - .5)\n"
    "best = min((lambda t: (dtw.distance_fast(a, b), time.perf_counter() - t)[1])"
    "(time.perf_counter()) for _ in range(50))\n"
    "print('ms %.6f' % (best * 1e3))\n";

/* dtaidistance's ms per call, or a negative number when it is not installed. */
static double anchor_ms(void)
{
    char cmd[sizeof PY_ANCHOR + 64], line[256];
    double ms = -1.0;
    FILE *p;

    snprintf(cmd, sizeof cmd, "python3 - 2>/dev/null <<'PYEOF'\n%sPYEOF\n", PY_ANCHOR);
    if (!(p = popen(cmd, "r")))
        return -1.0;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "ms ", 3) == 0)
            ms = strtod(line + 3, NULL);
    pclose(p);
    return ms;
}

static void report_matrix(double *const *series, const char *label, const disco_tsa_dtw_config *cfg,
                          disco_pool *pool, double *out)
{
    size_t pairs = K_MAT * (K_MAT - 1) / 2, inf = 0;
    double s1 = bench_matrix(series, NULL, cfg, out);
    double sn = bench_matrix(series, pool, cfg, out);

    for (size_t i = 0; i < K_MAT * K_MAT; i++)
        inf += isinf(out[i]);
    printf("matrix %dx%d of %d points, %-20s one thread %8.1f ms (%.3f ms/pair)   "
           "all threads %8.1f ms (%.2fx)   %zu of %zu pairs pruned\n",
           K_MAT, K_MAT, LEN_MAT, label, s1 * 1e3, s1 * 1e3 / (double)pairs, sn * 1e3, s1 / sn,
           inf / 2, pairs);
}

int main(void)
{
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
    double d, ms = bench_one(&cfg, &d), anchor, *series[K_MAT];
    double *out = malloc(K_MAT * K_MAT * sizeof *out);
    disco_pool *pool = NULL;
    char label[64];

    printf("DTW %d x %d (no window)          %.3f ms per call (best of %d), distance %.6g\n",
           LEN_ONE, LEN_ONE, ms, REPS_ONE, d);
    printf("goal <= %.1f ms per call: %s\n", GOAL_MS, ms <= GOAL_MS ? "met" : "NOT met");
    cfg.window = LEN_ONE / 10;
    printf("DTW %d x %d (window %zu)         %.3f ms per call\n", LEN_ONE, LEN_ONE, cfg.window,
           bench_one(&cfg, &d));
    cfg = disco_tsa_dtw_config_default();
    if ((anchor = anchor_ms()) >= 0.0)
        printf("anchor dtaidistance distance_fast %.3f ms per call (%.2fx ours)\n", anchor,
               anchor / ms);
    else
        printf("anchor: none - dtaidistance is not installed (Debian has no package for it); "
               "parity is tested against ../shared/ref/tsa/dtw_ref.csv\n");
    if (!out)
        die("matrix", NULL);
    for (size_t i = 0; i < K_MAT; i++) {
        if (!(series[i] = malloc(LEN_MAT * sizeof **series)))
            die("series", NULL);
        random_walk(series[i], LEN_MAT);
    }
    if (disco_pool_new(0, &pool) != DISCO_OK)
        die("pool", NULL);
    printf("threads: the calling thread alone, then it and a pool of %zu workers\n",
           disco_pool_threads(pool));
    report_matrix(series, "plain", &cfg, pool, out);
    cfg.prune = 1;
    cfg.max_dist = median_distance(out);
    snprintf(label, sizeof label, "LB + max_dist %.1f", cfg.max_dist);
    report_matrix(series, label, &cfg, pool, out);
    disco_pool_free(pool);
    for (size_t i = 0; i < K_MAT; i++)
        free(series[i]);
    free(out);
    return 0;
}
