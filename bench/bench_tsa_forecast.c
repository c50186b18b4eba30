/*
 * bench_tsa_forecast.c - Holt-Winters fitting speed against statsmodels.
 *
 * One series of BENCH_TSA_FORECAST_POINTS points (argv[1] or the
 * environment, default 10,000): level 100, trend 0.01 a step, a sine season
 * of period 24 and amplitude 10, unit normal noise (fixed seed). Fitted with
 * additive trend and additive season of period 24:
 *
 *   disco        disco_tsa_hw_fit, best of REPS runs
 *   statsmodels  ExponentialSmoothing(y, trend="add", seasonal="add",
 *                seasonal_periods=24).fit() in /usr/bin/python3 on the same
 *                points (written to a temporary file), best of SM_REPS runs,
 *                timed inside Python around fit() only
 *
 * Prints both times, both SSEs and the ratio; the goal is a fit at least
 * 50 times faster than statsmodels at an SSE no worse than 1% above its own.
 * Without statsmodels the anchor is skipped and said so.
 */
#include "disco/tsa_forecast.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 24
#define REPS 5
#define SM_REPS 2
#define PYTHON "/usr/bin/python3"

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static double rnd01(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return ((double)(g_rng >> 11) + 0.5) * 0x1p-53;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_series(double *y, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        double noise = sqrt(-2 * log(rnd01())) * cos(2 * M_PI * rnd01());

        y[t] = 100 + 0.01 * (double)t + 10 * sin(2 * M_PI * (double)t / PERIOD) + noise;
    }
}

typedef struct outcome {
    double seconds, sse, alpha, beta, gamma;
    int iterations;
} outcome;

static int fit_disco(const double *y, size_t n, outcome *out)
{
    disco_tsa_hw_config cfg = disco_tsa_hw_config_default();
    disco_status st = {0};

    cfg.period = PERIOD;
    out->seconds = INFINITY;
    for (int r = 0; r < REPS; r++) {
        disco_tsa_hw *hw = NULL;
        double t0 = now();

        if (disco_tsa_hw_fit(y, n, &cfg, &hw, &st)) {
            fprintf(stderr, "bench_tsa_forecast: %s\n", st.msg);
            return -1;
        }
        out->seconds = fmin(out->seconds, now() - t0);
        const disco_tsa_hw_result *res = disco_tsa_hw_result_get(hw);
        out->sse = res->sse;
        out->alpha = res->alpha;
        out->beta = res->beta;
        out->gamma = res->gamma;
        out->iterations = res->iterations;
        disco_tsa_hw_free(hw);
    }
    return 0;
}

static int write_series(char *path, const double *y, size_t n)
{
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (size_t t = 0; t < n; t++)
        fprintf(f, "%.17g\n", y[t]);
    return fclose(f) == 0 ? 0 : -1;
}

static const char SCRIPT[] =
    "import sys, time, warnings\n"
    "import numpy as np\n"
    "from statsmodels.tsa.holtwinters import ExponentialSmoothing\n"
    "warnings.simplefilter('ignore')\n"
    "y = np.loadtxt(sys.argv[1])\n"
    "best = float('inf')\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    t0 = time.perf_counter()\n"
    "    r = ExponentialSmoothing(y, trend='add', seasonal='add', seasonal_periods=24).fit()\n"
    "    best = min(best, time.perf_counter() - t0)\n"
    "p = r.params\n"
    "print(best, r.sse, p['smoothing_level'], p['smoothing_trend'], p['smoothing_seasonal'])\n";

/* Times statsmodels on the points in `path`; -1 when it cannot run. */
static int fit_statsmodels(const char *path, outcome *out)
{
    char cmd[sizeof SCRIPT + 4096 + 128];
    FILE *p;
    int got, len;

    if (system(PYTHON " -c 'import statsmodels' >/dev/null 2>&1") != 0)
        return -1;
    len = snprintf(cmd, sizeof cmd, PYTHON " - '%s' %d 2>/dev/null <<'DISCO_PY'\n%sDISCO_PY\n",
                   path, SM_REPS, SCRIPT);
    if (len < 0 || (size_t)len >= sizeof cmd)
        return -1;
    p = popen(cmd, "r");
    if (!p)
        return -1;
    got = fscanf(p, "%lf %lf %lf %lf %lf", &out->seconds, &out->sse, &out->alpha, &out->beta,
                 &out->gamma);
    return pclose(p) == 0 && got == 5 ? 0 : -1;
}

static void report(size_t n, const outcome *d, const outcome *sm, int have_sm)
{
    printf("Holt-Winters, additive trend + additive season (period %d), %zu points\n", PERIOD, n);
    printf("  disco        fit %9.2f ms (best of %d)  SSE %.4f  alpha %.3g beta %.3g gamma %.3g"
           "  (%d iterations)\n",
           d->seconds * 1e3, REPS, d->sse, d->alpha, d->beta, d->gamma, d->iterations);
    if (!have_sm) {
        printf("  statsmodels  missing (" PYTHON " cannot import it): anchor skipped\n");
        return;
    }
    printf("  statsmodels  fit %9.2f ms (best of %d)  SSE %.4f  alpha %.3g beta %.3g gamma %.3g\n",
           sm->seconds * 1e3, SM_REPS, sm->sse, sm->alpha, sm->beta, sm->gamma);
    printf("  speed-up %.1fx (goal >= 50x)  SSE disco/statsmodels %.6f (goal <= 1.01)\n",
           sm->seconds / d->seconds, d->sse / sm->sse);
}

int main(int argc, char **argv)
{
    const char *env = getenv("BENCH_TSA_FORECAST_POINTS");
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : env ? strtoul(env, NULL, 10) : 10000;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[4096];
    outcome d, sm;
    double *y;
    int have_sm = 0;

    if (n < 2 * PERIOD)
        n = 2 * PERIOD;
    y = malloc(sizeof *y * n);
    if (!y)
        return 1;
    make_series(y, n);
    if (fit_disco(y, n, &d)) {
        free(y);
        return 1;
    }
    snprintf(path, sizeof path, "%s/disco-bench-hw-XXXXXX", tmp);
    have_sm = write_series(path, y, n) == 0 && fit_statsmodels(path, &sm) == 0;
    unlink(path);
    report(n, &d, &sm, have_sm);
    free(y);
    return 0;
}
