/*
 * spectral.c - periodogram, dominant cycles and Fisher's g test.
 *
 * DESIGN: one real-to-complex FFTW plan per series length, made with
 * FFTW_ESTIMATE | FFTW_UNALIGNED so it can be executed on any caller's
 * buffers through fftw_execute_dft_r2c() (thread-safe). Planning and
 * destroying go through `fftw_mutex`. The cache holds PLAN_CACHE_MAX
 * lengths; a length beyond that gets a one-off plan destroyed after use.
 */
#include "disco/tsa_spectral.h"
#include "disco/fftlock.h"

#include <fftw3.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_CACHE_MAX 32
#define PLAN_FLAGS (FFTW_ESTIMATE | FFTW_UNALIGNED)
#define FISHER_TERM_MAX 1e6 /* larger terms cancel too much in the exact sum */

typedef struct plan_slot {
    size_t n;
    fftw_plan plan;
} plan_slot;

static plan_slot plan_cache[PLAN_CACHE_MAX];
static size_t plan_count;

void disco_tsa_spectral_cleanup(void)
{
    disco_fft_plan_lock();
    for (size_t i = 0; i < plan_count; i++)
        fftw_destroy_plan(plan_cache[i].plan);
    plan_count = 0;
    disco_fft_plan_unlock();
}

/* The plan for length n; *one_off is set when the caller must release it. */
static fftw_plan plan_get(size_t n, double *in, fftw_complex *out, int *one_off)
{
    fftw_plan p = NULL;

    *one_off = 0;
    disco_fft_plan_lock();
    for (size_t i = 0; i < plan_count && !p; i++)
        if (plan_cache[i].n == n)
            p = plan_cache[i].plan;
    if (!p) {
        p = fftw_plan_dft_r2c_1d((int)n, in, out, PLAN_FLAGS);
        if (p && plan_count < PLAN_CACHE_MAX)
            plan_cache[plan_count++] = (plan_slot){n, p};
        else
            *one_off = p != NULL;
    }
    disco_fft_plan_unlock();
    return p;
}

static void plan_put(fftw_plan p, int one_off)
{
    if (!one_off)
        return;
    disco_fft_plan_lock();
    fftw_destroy_plan(p);
    disco_fft_plan_unlock();
}

static int check_series(const double *x, size_t n, disco_status *st)
{
    if (!x)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "x is NULL");
    if (n < DISCO_TSA_SPECTRAL_MIN_N)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "series of %zu samples too short: cycles need at least %d", n,
                                DISCO_TSA_SPECTRAL_MIN_N);
    if (n > INT_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "series of %zu samples too long", n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is %s", i,
                                    isnan(x[i]) ? "NaN" : "infinite");
    return DISCO_OK;
}

/* Copies x minus its mean into `in`; returns the sum of squares and the largest |x|. */
static double remove_mean(const double *x, size_t n, double *in, double *amax)
{
    double mean = 0.0, ss = 0.0;

    *amax = 0.0;
    for (size_t i = 0; i < n; i++) {
        mean += x[i];
        *amax = fmax(*amax, fabs(x[i]));
    }
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        in[i] = x[i] - mean;
        ss += in[i] * in[i];
    }
    return ss;
}

/* I_k into power and the sum of squares into *ss (0 for a numerically constant series). */
static int periodogram_ss(const double *x, size_t n, double *power, double *ss, disco_status *st)
{
    size_t nf = n / 2 + 1;
    double *in = fftw_malloc(sizeof *in * n);
    fftw_complex *out = fftw_malloc(sizeof *out * nf);
    double amax, tiny;
    int one_off, rc = DISCO_OK;
    fftw_plan p;

    if (!in || !out) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "x", "no memory for an FFT of %zu samples", n);
        goto free_buffers;
    }
    *ss = remove_mean(x, n, in, &amax);
    tiny = 64.0 * DBL_EPSILON * amax;
    if (*ss <= (double)n * tiny * tiny) {
        *ss = 0.0;
        memset(power, 0, sizeof *power * nf);
        goto free_buffers;
    }
    p = plan_get(n, in, out, &one_off);
    if (!p) {
        rc = disco_status_set(st, DISCO_ERR_INTERNAL, "n", "FFTW could not plan %zu samples", n);
        goto free_buffers;
    }
    fftw_execute_dft_r2c(p, in, out);
    plan_put(p, one_off);
    for (size_t k = 0; k < nf; k++)
        power[k] = (out[k][0] * out[k][0] + out[k][1] * out[k][1]) / (double)n;
    power[0] = 0.0;
free_buffers:
    fftw_free(in);
    fftw_free(out);
    return rc;
}

int disco_tsa_periodogram(const double *x, size_t n, double *power, disco_status *st)
{
    double ss;
    int rc = check_series(x, n, st);

    if (rc < 0)
        return rc;
    if (!power)
        return disco_status_set(st, DISCO_ERR_INVAL, "power", "power is NULL");
    return periodogram_ss(x, n, power, &ss, st);
}

disco_tsa_cycles_config disco_tsa_cycles_config_default(void)
{
    return (disco_tsa_cycles_config){.max_peaks = 3, .alpha = 0.01, .min_cycles = 2};
}

static int check_config(const disco_tsa_cycles_config *cfg, disco_status *st)
{
    if (cfg->max_peaks < 1 || cfg->max_peaks > DISCO_TSA_PEAKS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_peaks",
                                "max_peaks %zu out of range 1..%d", cfg->max_peaks,
                                DISCO_TSA_PEAKS_MAX);
    if (!(cfg->alpha > 0.0 && cfg->alpha < 1.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "alpha", "alpha %g out of range (0, 1)",
                                cfg->alpha);
    if (cfg->min_cycles < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "min_cycles", "min_cycles must be at least 1");
    return DISCO_OK;
}

double disco_tsa_fisher_p(double g, size_t m)
{
    double sum = 0.0, biggest = 0.0, md = (double)m;
    size_t jmax;

    if (m < 2 || !(g > 1.0 / md))
        return 1.0;
    if (g >= 1.0)
        return 0.0;
    jmax = (size_t)floor(1.0 / g);
    if (jmax > m)
        jmax = m;
    for (size_t j = 1; j <= jmax; j++) {
        double base = 1.0 - (double)j * g, lt, term;

        if (base <= 0.0)
            break;
        lt = lgamma(md + 1.0) - lgamma((double)j + 1.0) - lgamma(md - (double)j + 1.0) +
             (md - 1.0) * log(base);
        term = exp(lt);
        biggest = fmax(biggest, term);
        sum += (j % 2) ? term : -term;
    }
    if (biggest < FISHER_TERM_MAX)
        return fmin(1.0, fmax(0.0, sum));
    return -expm1(md * log1p(-exp(-md * g)));
}

static disco_tsa_peak make_peak(const double *power, size_t n, size_t k, double ss)
{
    double w = (2 * k == n) ? 1.0 : 2.0;

    return (disco_tsa_peak){.bin = k,
                            .frequency = (double)k / (double)n,
                            .period = (double)n / (double)k,
                            .power = power[k],
                            .share = w * power[k] / ss};
}

/* Keeps out->peaks sorted by power (ties: lower bin first), at most `max` of them. */
static void insert_peak(disco_tsa_cycles *out, size_t max, disco_tsa_peak pk)
{
    size_t i = out->npeaks < max ? out->npeaks++ : max;

    while (i > 0 && out->peaks[i - 1].power < pk.power) {
        if (i < max)
            out->peaks[i] = out->peaks[i - 1];
        i--;
    }
    if (i < max)
        out->peaks[i] = pk;
}

static void find_peaks(const double *power, size_t n, double ss, size_t max, disco_tsa_cycles *out)
{
    size_t last = n / 2;

    for (size_t k = 1; k <= last; k++) {
        double left = k > 1 ? power[k - 1] : 0.0, right = k < last ? power[k + 1] : 0.0;

        if (power[k] > left && power[k] >= right)
            insert_peak(out, max, make_peak(power, n, k, ss));
    }
}

static void fisher_test(const double *power, size_t n, disco_tsa_cycles *out)
{
    size_t m = (n - 1) / 2;
    double sum = 0.0, best = 0.0;

    for (size_t k = 1; k <= m; k++) {
        sum += power[k];
        if (power[k] > best) {
            best = power[k];
            out->fisher_bin = k;
        }
    }
    out->fisher_g = sum > 0.0 ? best / sum : 0.0;
    out->p_value = sum > 0.0 ? disco_tsa_fisher_p(out->fisher_g, m) : 1.0;
}

int disco_tsa_find_cycles(const double *x, size_t n, const disco_tsa_cycles_config *cfg,
                          disco_tsa_cycles *out, disco_status *st)
{
    disco_tsa_cycles_config def = disco_tsa_cycles_config_default();
    double *power = NULL, ss;
    int rc;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    cfg = cfg ? cfg : &def;
    if ((rc = check_config(cfg, st)) < 0 || (rc = check_series(x, n, st)) < 0)
        return rc;
    power = malloc(sizeof *power * (n / 2 + 1));
    if (!power)
        return disco_status_set(st, DISCO_ERR_NOMEM, "x", "no memory for %zu samples", n);
    if ((rc = periodogram_ss(x, n, power, &ss, st)) < 0)
        goto free_power;
    memset(out, 0, sizeof *out);
    out->n = n;
    out->variance = ss / (double)n;
    out->p_value = 1.0;
    if (ss > 0.0) {
        find_peaks(power, n, ss, cfg->max_peaks, out);
        fisher_test(power, n, out);
    }
    out->has_cycle = out->p_value < cfg->alpha && out->fisher_bin >= cfg->min_cycles;
free_power:
    free(power);
    return rc;
}
