/*
 * forecast.c - the seasonal naive baseline, forecast accuracy (MAE, RMSE,
 * MAPE), and a holdout comparison of Holt-Winters against the baseline.
 *
 *   x[0 .. n-holdout) --fit--> Holt-Winters --forecast--> scored on the rest
 *                     \--repeat last cycle--> seasonal naive --/
 */
#include "disco/tsa_forecast.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>

static int check_finite(const double *x, size_t n, const char *name, disco_status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, name, "%s[%zu] is not finite", name, i);
    }
    return DISCO_OK;
}

static int check_snaive(const double *x, size_t n, size_t period, size_t h, double level, int want,
                        disco_status *st)
{
    if (period < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "period", "period %zu must be >= 1", period);
    if (n < period + 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "x",
                                "series of %zu points is too short for period %zu (need %zu)", n,
                                period, period + 1);
    if (h < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "h", "horizon h = %zu must be >= 1", h);
    if (want && !(level > 0 && level < 1))
        return disco_status_set(st, DISCO_ERR_INVAL, "level", "interval level %g must be in (0, 1)",
                                level);
    return check_finite(x, n, "x", st);
}

int disco_tsa_snaive_forecast(const double *x, size_t n, size_t period, size_t h, double level,
                              double *mean, double *lower, double *upper, disco_status *st)
{
    int want = lower && upper, rc = check_snaive(x, n, period, h, level, want, st);
    double ss = 0, z;

    if (rc)
        return rc;
    for (size_t k = 0; k < h; k++)
        mean[k] = x[n - period + k % period];
    if (!want)
        return DISCO_OK;
    for (size_t t = period; t < n; t++)
        ss += (x[t] - x[t - period]) * (x[t] - x[t - period]);
    z = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
    for (size_t k = 0; k < h; k++) {
        double half = z * sqrt(ss / (double)(n - period) * (double)(k / period + 1));

        lower[k] = mean[k] - half;
        upper[k] = mean[k] + half;
    }
    return DISCO_OK;
}

int disco_tsa_forecast_accuracy(const double *actual, const double *pred, size_t n,
                                disco_tsa_accuracy *out, disco_status *st)
{
    double ae = 0, se = 0, pe = 0;
    size_t np = 0;
    int rc;

    if (n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "no points to score");
    if ((rc = check_finite(actual, n, "actual", st)) || (rc = check_finite(pred, n, "pred", st)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        double e = actual[i] - pred[i];

        ae += fabs(e);
        se += e * e;
        if (actual[i] != 0) {
            pe += fabs(e / actual[i]);
            np++;
        }
    }
    out->mae = ae / (double)n;
    out->rmse = sqrt(se / (double)n);
    out->mape = np ? 100 * pe / (double)np : NAN;
    return DISCO_OK;
}

/* Scores Holt-Winters and seasonal naive forecasts of the holdout in pred. */
static int score(const double *x, size_t train, size_t hold, const disco_tsa_hw_config *cfg,
                 double *pred, disco_tsa_forecast_eval *out, disco_status *st)
{
    disco_tsa_hw *hw = NULL;
    size_t period = cfg->season == DISCO_TSA_SEASON_NONE ? 1 : cfg->period;
    int rc = disco_tsa_hw_fit(x, train, cfg, &hw, st);

    if (rc)
        return rc;
    out->hw_sse = disco_tsa_hw_result_get(hw)->sse;
    rc = disco_tsa_hw_forecast(hw, hold, 0.95, pred, NULL, NULL, st);
    disco_tsa_hw_free(hw);
    if (rc || (rc = disco_tsa_forecast_accuracy(x + train, pred, hold, &out->hw, st)))
        return rc;
    rc = disco_tsa_snaive_forecast(x, train, period, hold, 0.95, pred, NULL, NULL, st);
    if (rc)
        return rc;
    return disco_tsa_forecast_accuracy(x + train, pred, hold, &out->snaive, st);
}

int disco_tsa_forecast_evaluate(const double *x, size_t n, size_t holdout,
                                const disco_tsa_hw_config *cfg, disco_tsa_forecast_eval *out,
                                disco_status *st)
{
    double *pred;
    int rc;

    if (holdout < 1 || holdout >= n)
        return disco_status_set(st, DISCO_ERR_INVAL, "holdout", "holdout %zu must be in 1..%zu",
                                holdout, n ? n - 1 : 0);
    pred = malloc(sizeof *pred * holdout);
    if (!pred)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory for %zu forecasts", holdout);
    out->train_n = n - holdout;
    out->holdout = holdout;
    rc = score(x, n - holdout, holdout, cfg, pred, out, st);
    free(pred);
    return rc;
}
