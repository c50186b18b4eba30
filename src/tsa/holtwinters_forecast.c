/*
 * holtwinters_forecast.c - Holt-Winters point forecasts and prediction
 * intervals from a fitted model.
 *
 *   mean[k-1] = (l + (phi + ... + phi^k) b) (+ or *) s[n + (k-1) % m]
 *
 * using the seasonal states after the last observation. (statsmodels 0.13.5
 * reuses the seasonal from before the last update at horizons m, 2m, ...;
 * here every horizon uses the updated one.)
 *
 * Intervals: for additive and non-seasonal models the closed form of
 * Hyndman et al. (2008, ch. 6, class 1) with sigma2 = SSE/n; for a
 * multiplicative season, quantiles of cfg.nsim simulated futures (normal
 * errors of variance sigma2 fed through the recursion, GSL's MT19937 seeded
 * with cfg.seed, so the same model gives the same interval).
 */
#include "holtwinters_int.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void point_forecast(const disco_tsa_hw *hw, size_t h, double *mean)
{
    const double phi = hw->par[HW_PHI];
    const size_t m = hw->spec.m;
    double damp = 0, pk = 1;

    for (size_t k = 0; k < h; k++) {
        pk *= phi;
        damp += pk;
        double T = hw->level + damp * hw->trend, S = hw->season[k % m];
        mean[k] = hw->spec.mul ? T * S : T + S;
    }
}

/* Closed-form intervals for the additive (class 1) models. */
static void additive_intervals(const disco_tsa_hw *hw, size_t h, double z, const double *mean,
                               double *lower, double *upper)
{
    const double *p = hw->par;
    const size_t m = hw->spec.m;
    double sum = 1, phij = 0, pk = 1;

    for (size_t k = 0; k < h; k++) {
        double half = z * sqrt(hw->res.sigma2 * sum);

        lower[k] = mean[k] - half;
        upper[k] = mean[k] + half;
        pk *= p[HW_PHI];
        phij += pk; /* phi + ... + phi^(k+1) */
        double c = p[HW_ALPHA] * (1 + p[HW_BETA] * phij) + ((k + 1) % m == 0 ? p[HW_GAMMA] : 0);
        sum += c * c;
    }
}

/* One simulated future into out[k * stride] for k < h; s is m scratch. */
static void simulate_path(const disco_tsa_hw *hw, size_t h, gsl_rng *rng, double *s, double *out,
                          size_t stride)
{
    const double *p = hw->par, sigma = sqrt(hw->res.sigma2);
    const double a = p[HW_ALPHA], ab = p[HW_ALPHA] * p[HW_BETA], g = p[HW_GAMMA];
    const size_t m = hw->spec.m;
    double l = hw->level, b = hw->trend;

    memcpy(s, hw->season, sizeof *s * m);
    for (size_t k = 0; k < h; k++) {
        double T = l + p[HW_PHI] * b, S = s[k % m], e = gsl_ran_gaussian(rng, sigma);

        out[k * stride] = T * S + e;
        l = T + a * e / S;
        b = p[HW_PHI] * b + ab * e / S;
        s[k % m] = S + g * e / T;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n) with linear interpolation (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1), fl = floor(pos);
    size_t i = (size_t)fl;

    return i + 1 < n ? v[i] + (pos - fl) * (v[i + 1] - v[i]) : v[n - 1];
}

static int simulated_intervals(const disco_tsa_hw *hw, size_t h, double level, double *lower,
                               double *upper)
{
    size_t ns = hw->cfg.nsim < 2 ? 2 : hw->cfg.nsim;
    double *sims = malloc(sizeof *sims * (ns * h + hw->spec.m));
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

    if (!sims || !rng) {
        free(sims);
        if (rng)
            gsl_rng_free(rng);
        return DISCO_ERR_NOMEM;
    }
    gsl_rng_set(rng, (unsigned long)hw->cfg.seed);
    for (size_t i = 0; i < ns; i++)
        simulate_path(hw, h, rng, sims + ns * h, sims + i, ns);
    for (size_t k = 0; k < h; k++) {
        double *v = sims + k * ns;

        qsort(v, ns, sizeof *v, cmp_double);
        lower[k] = quantile(v, ns, 0.5 - level / 2);
        upper[k] = quantile(v, ns, 0.5 + level / 2);
    }
    gsl_rng_free(rng);
    free(sims);
    return DISCO_OK;
}

int disco_tsa_hw_forecast(const disco_tsa_hw *hw, size_t h, double level, double *mean,
                          double *lower, double *upper, disco_status *st)
{
    int want = lower && upper;

    if (h < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "h", "horizon h = %zu must be >= 1", h);
    if (want && !(level > 0 && level < 1))
        return disco_status_set(st, DISCO_ERR_INVAL, "level", "interval level %g must be in (0, 1)",
                                level);
    point_forecast(hw, h, mean);
    if (!want)
        return DISCO_OK;
    if (!hw->spec.mul) {
        additive_intervals(hw, h, gsl_cdf_ugaussian_Pinv(0.5 + level / 2), mean, lower, upper);
        return DISCO_OK;
    }
    if (simulated_intervals(hw, h, level, lower, upper))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for %zu x %zu simulations",
                                hw->cfg.nsim, h);
    return DISCO_OK;
}
