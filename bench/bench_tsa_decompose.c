/*
 * bench_tsa_decompose.c - seasonal decomposition speed against statsmodels.
 *
 * Data: an hourly metric with a daily cycle (period 24): a slow trend, a
 * sine and uniform noise with a few outliers.
 *
 *   classical decomposition   100,000 points, additive, extrapolate 'freq'
 *   STL                        10,000 points, default settings
 *   STL robust                 10,000 points, robust=True (inner 2, outer 15)
 *
 * Each is timed here (best of several rounds) and, in the same run, with
 * statsmodels through /usr/bin/python3 on the same data (written to a temp
 * file; python prints its best seconds and writes its trends back so the
 * two can be compared). Goals: STL at least 10x faster than statsmodels,
 * the decomposition no slower. Without statsmodels the anchor is skipped.
 */
#include "disco/timeutil.h"
#include "disco/tsa_decompose.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PERIOD 24
#define N_DEC 100000
#define N_STL 10000
#define REPS 5
#define PYTHON "/usr/bin/python3"

enum { K_DEC, K_STL, K_ROBUST, K_COUNT };

static const char *const NAMES[K_COUNT] = {"decompose 100k", "STL 10k", "STL robust 10k"};

/* One timed call: its input and where its components go. */
typedef struct job {
    const double *x;
    size_t n;
    double *trend, *seasonal, *resid;
} job;

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static double rnd01(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * 0x1p-53;
}

static void die(const char *what, const disco_status *st)
{
    fprintf(stderr, "bench_tsa_decompose: %s: %s\n", what, st ? st->msg : "out of memory");
    exit(1);
}

static void make_series(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        x[i] =
            50.0 + 0.001 * (double)i + 5.0 * sin(2.0 * M_PI * (double)i / PERIOD) + rnd01() - 0.5;
        if (i % 997 == 500)
            x[i] += 20.0;
    }
}

static int run_once(int kind, const job *j, disco_status *st)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(PERIOD, kind == K_ROBUST);

    if (kind == K_DEC)
        return disco_tsa_decompose(j->x, j->n, PERIOD, DISCO_TSA_ADDITIVE,
                                   DISCO_TSA_EXTRAPOLATE_FREQ, j->trend, j->seasonal, j->resid, st);
    return disco_tsa_stl(j->x, j->n, &cfg, j->trend, j->seasonal, j->resid, NULL, st);
}

/* Best seconds of REPS rounds. */
static double time_c(int kind, const job *j)
{
    double best = INFINITY;
    disco_status st = {0};

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = disco_time_mono_ns();

        if (run_once(kind, j, &st) != DISCO_OK)
            die(NAMES[kind], &st);
        best = fmin(best, (double)(disco_time_mono_ns() - t0) / 1e9);
    }
    return best;
}

static const char PY_SCRIPT[] =
    "import sys, time\n"
    "try:\n"
    "    import numpy as np\n"
    "    from statsmodels.tsa.seasonal import STL, seasonal_decompose\n"
    "except Exception as e:\n"
    "    print('missing', e)\n"
    "    sys.exit(0)\n"
    "path, p, nd, ns, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "
    "int(sys.argv[4]), int(sys.argv[5])\n"
    "x = np.fromfile(path, dtype='<f8')\n"
    "xd, xs = x[:nd], x[nd:nd + ns]\n"
    "calls = [lambda: seasonal_decompose(xd, period=p, extrapolate_trend='freq').trend,\n"
    "         lambda: np.asarray(STL(xs, period=p).fit().trend),\n"
    "         lambda: np.asarray(STL(xs, period=p, robust=True).fit().trend)]\n"
    "trends = []\n"
    "for f in calls:\n"
    "    best = float('inf')\n"
    "    for _ in range(reps):\n"
    "        t0 = time.perf_counter()\n"
    "        tr = f()\n"
    "        best = min(best, time.perf_counter() - t0)\n"
    "    trends.append(tr)\n"
    "    print('seconds', best)\n"
    "np.concatenate(trends).astype('<f8').tofile(path + '.out')\n";

static int write_doubles(const char *path, const double *v, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(v, sizeof *v, n, f) == n;

    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* Runs the statsmodels script; fills secs[] and returns 0, or -1 when it is unavailable. */
static int time_statsmodels(const char *path, double secs[K_COUNT])
{
    char cmd[sizeof PY_SCRIPT + 512], line[512];
    FILE *p;
    int got = 0;

    if (access(PYTHON, X_OK) != 0) {
        printf("statsmodels: %s not found; anchor skipped\n", PYTHON);
        return -1;
    }
    snprintf(cmd, sizeof cmd, "%s - %s %d %d %d %d <<'PYEOF'\n%sPYEOF\n", PYTHON, path, PERIOD,
             N_DEC, N_STL, REPS, PY_SCRIPT);
    p = popen(cmd, "r");
    if (!p)
        return -1;
    while (fgets(line, sizeof line, p)) {
        if (strncmp(line, "seconds ", 8) == 0 && got < K_COUNT)
            secs[got++] = strtod(line + 8, NULL);
        else if (strncmp(line, "missing", 7) == 0)
            printf("statsmodels not available (%.*s); anchor skipped\n", (int)strcspn(line, "\n"),
                   line);
    }
    if (pclose(p) != 0 || got != K_COUNT)
        return -1;
    return 0;
}

/* Largest |ours - statsmodels| over a trend (NaN-free on both sides). */
static double max_diff(const double *a, const double *b, size_t n)
{
    double m = 0;

    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i] - b[i]));
    return m;
}

static double *read_doubles(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    double *v = malloc(n * sizeof *v);

    if (!f || !v || fread(v, sizeof *v, n, f) != n) {
        free(v);
        v = NULL;
    }
    if (f)
        fclose(f);
    return v;
}

static void report(const double ours[K_COUNT], const double *theirs, double *const trends[K_COUNT],
                   const char *out_path)
{
    const size_t ns[K_COUNT] = {N_DEC, N_STL, N_STL};
    double *py = theirs ? read_doubles(out_path, N_DEC + 2 * N_STL) : NULL;
    size_t off = 0;

    printf("%-16s %12s %14s %8s %12s\n", "", "disco ms", "statsmodels ms", "ratio", "max |diff|");
    for (int k = 0; k < K_COUNT; k++) {
        printf("%-16s %12.3f", NAMES[k], ours[k] * 1e3);
        if (theirs)
            printf(" %14.3f %7.1fx", theirs[k] * 1e3, theirs[k] / ours[k]);
        if (py)
            printf(" %12.2g", max_diff(trends[k], py + off, ns[k]));
        printf("\n");
        off += ns[k];
    }
    if (theirs)
        printf("goals: STL >= 10x (%s), decomposition >= 1x (%s)\n",
               theirs[K_STL] / ours[K_STL] >= 10 && theirs[K_ROBUST] / ours[K_ROBUST] >= 10
                   ? "met"
                   : "MISSED",
               theirs[K_DEC] / ours[K_DEC] >= 1 ? "met" : "MISSED");
    free(py);
}

int main(void)
{
    double *x = malloc((N_DEC + N_STL) * sizeof *x), *buf = malloc(3 * N_DEC * sizeof *buf);
    double *trends[K_COUNT], ours[K_COUNT], theirs[K_COUNT];
    char path[] = "/tmp/bench_tsa_decompose_XXXXXX", out_path[sizeof path + 8];
    int fd, have_py;

    if (!x || !buf)
        die("alloc", NULL);
    make_series(x, N_DEC);
    memcpy(x + N_DEC, x, N_STL * sizeof *x);
    for (int k = 0; k < K_COUNT; k++) {
        size_t n = k == K_DEC ? N_DEC : N_STL;
        job j = {k == K_DEC ? x : x + N_DEC, n, NULL, buf + n, buf + 2 * n};

        trends[k] = malloc(n * sizeof(double));
        if (!trends[k])
            die("alloc", NULL);
        j.trend = trends[k];
        ours[k] = time_c(k, &j);
    }
    fd = mkstemp(path);
    if (fd < 0 || close(fd) != 0 || write_doubles(path, x, N_DEC + N_STL) != 0)
        die("temp file", NULL);
    snprintf(out_path, sizeof out_path, "%s.out", path);
    have_py = time_statsmodels(path, theirs) == 0;
    report(ours, have_py ? theirs : NULL, trends, out_path);
    unlink(path);
    unlink(out_path);
    for (int k = 0; k < K_COUNT; k++)
        free(trends[k]);
    free(x);
    free(buf);
    return 0;
}
