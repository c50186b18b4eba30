/*
 * tsa_forecast.h - forecasting: Holt-Winters exponential smoothing fitted by
 * least squares (as statsmodels 0.13.5 ExponentialSmoothing(...).fit()), the
 * seasonal naive baseline, and forecast accuracy on a holdout.
 *
 * Pure computation on arrays: no storage. Inputs must be finite (NaN/Inf are
 * INVAL naming the first bad index). Every function reports bad input as
 * DISCO_ERR_INVAL with a disco_status naming the input ("x", "period", "h",
 * "level", ...).
 *
 * Holt-Winters: level l, trend b, seasonals s of period m; the one-step
 * fitted value yhat[t] comes from the states before y[t]:
 *
 *   T = l + phi b                  (b = 0 without trend, phi = 1 undamped)
 *   additive:        yhat = T + s[t]   l' = alpha (y - s[t]) + (1 - alpha) T
 *                                      s[t+m] = gamma (y - T) + (1 - gamma) s[t]
 *   multiplicative:  yhat = T s[t]     l' = alpha y / s[t] + (1 - alpha) T
 *                                      s[t+m] = gamma y / T + (1 - gamma) s[t]
 *   trend:           b' = beta (l' - l) + (1 - beta) phi b
 *
 * Fitting minimises SSE = sum (y - yhat)^2 over the smoothing parameters and
 * the initial states together (statsmodels' default "estimated"
 * initialisation), with statsmodels' bounds: 0 <= beta <= alpha,
 * 0 <= gamma <= 1 - alpha, 0.8 <= phi <= 0.995, level and seasonals >= 0 for
 * multiplicative seasonality.
 */
#ifndef DISCO_TSA_FORECAST_H
#define DISCO_TSA_FORECAST_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

typedef enum disco_tsa_hw_trend {
    DISCO_TSA_TREND_NONE = 0,
    DISCO_TSA_TREND_ADD = 1,
} disco_tsa_hw_trend;

typedef enum disco_tsa_hw_season {
    DISCO_TSA_SEASON_NONE = 0,
    DISCO_TSA_SEASON_ADD = 1,
    DISCO_TSA_SEASON_MUL = 2,
} disco_tsa_hw_season;

/* Holt-Winters settings; take them from disco_tsa_hw_config_default(). */
typedef struct disco_tsa_hw_config {
    disco_tsa_hw_trend trend;   /* default DISCO_TSA_TREND_ADD */
    int damped;                 /* damped trend (needs a trend; default 0) */
    disco_tsa_hw_season season; /* default DISCO_TSA_SEASON_ADD */
    size_t period;              /* season length, >= 2 with a season (default 12) */
    int use_brute;              /* grid search for starting smoothing values (default 1) */
    int max_iter;               /* optimiser iterations (default 1000) */
    size_t nsim;                /* simulated paths for multiplicative intervals (default 2000) */
    uint64_t seed;              /* their random seed (default 1) */
} disco_tsa_hw_config;

disco_tsa_hw_config disco_tsa_hw_config_default(void);

/* A fitted model: opaque, immutable after fitting (may be shared by threads). */
typedef struct disco_tsa_hw disco_tsa_hw;

/*
 * What a fit found. Absent components read NaN (beta without trend, gamma
 * and season0 without season, phi when undamped). Pointers belong to the
 * model and live as long as it does.
 */
typedef struct disco_tsa_hw_result {
    double alpha, beta, gamma, phi;
    double level0, trend0; /* initial level and trend (trend0 NaN without trend) */
    const double *season0; /* period initial seasonals, or NULL */
    const double *fitted;  /* n one-step-ahead fitted values */
    size_t n, period, k;   /* k: parameters counted by AIC, as statsmodels */
    double sse;            /* sum of squared one-step errors */
    double sigma2;         /* SSE / n, the residual variance of the intervals */
    double aic, aicc, bic; /* n log(SSE/n) + 2k, + AICc correction, + k log n */
    int iterations;        /* optimiser iterations */
    int converged;         /* 1 when the optimiser met its tolerance */
} disco_tsa_hw_result;

/*
 * Fits Holt-Winters to x[0..n). Errors (INVAL): bad config (trend, season,
 * damped without trend, period < 2 with a season), n < 2 periods with a
 * season or n < 4 without, non-finite x[i], x[i] <= 0 with multiplicative
 * season; NOMEM. On success *out is a new model the caller frees with
 * disco_tsa_hw_free().
 */
int disco_tsa_hw_fit(const double *x, size_t n, const disco_tsa_hw_config *cfg, disco_tsa_hw **out,
                     disco_status *st);

/* Frees a model; NULL is a no-op. */
void disco_tsa_hw_free(disco_tsa_hw *m);

/* The fit's parameters and statistics; valid while the model lives. */
const disco_tsa_hw_result *disco_tsa_hw_result_get(const disco_tsa_hw *m);

/*
 * Forecasts h >= 1 steps after the data into mean[0..h) and, when lower and
 * upper are not NULL, a central prediction interval of coverage `level` in
 * (0, 1) (e.g. 0.95). Additive-season and non-seasonal models use the
 * closed form var_h = sigma2 (1 + sum_{j<h} c_j^2),
 * c_j = alpha (1 + beta (phi + ... + phi^j)) + gamma [j % period == 0]
 * (Hyndman et al. 2008, class 1); multiplicative seasonality simulates
 * cfg.nsim paths with normal errors of variance sigma2 and cfg.seed, and
 * takes their quantiles. Every horizon uses the seasonal states after the
 * last update (statsmodels 0.13.5 uses the one before it at horizons m, 2m,
 * ..., so its forecasts there differ by gamma times the last error).
 * Errors (INVAL): h < 1, level outside (0, 1); NOMEM.
 */
int disco_tsa_hw_forecast(const disco_tsa_hw *m, size_t h, double level, double *mean,
                          double *lower, double *upper, disco_status *st);

/*
 * Seasonal naive: mean[k] = x[n - period + (k % period)], and when lower and
 * upper are not NULL an interval from the variance of the in-sample seasonal
 * differences times (k / period + 1). period 1 is the plain naive forecast.
 * Errors (INVAL): period < 1, n < period + 1, non-finite x, h < 1, level
 * outside (0, 1).
 */
int disco_tsa_snaive_forecast(const double *x, size_t n, size_t period, size_t h, double level,
                              double *mean, double *lower, double *upper, disco_status *st);

/* Forecast errors on a holdout. MAPE is in percent over non-zero actuals. */
typedef struct disco_tsa_accuracy {
    double mae, rmse, mape; /* mape NaN when every actual is 0 */
} disco_tsa_accuracy;

/*
 * Accuracy of pred[0..n) against actual[0..n). Errors (INVAL): n == 0,
 * non-finite values (naming the array and index).
 */
int disco_tsa_forecast_accuracy(const double *actual, const double *pred, size_t n,
                                disco_tsa_accuracy *out, disco_status *st);

/* Holt-Winters against seasonal naive on the last `holdout` points. */
typedef struct disco_tsa_forecast_eval {
    size_t train_n, holdout;
    disco_tsa_accuracy hw;     /* Holt-Winters fitted on the first train_n points */
    disco_tsa_accuracy snaive; /* seasonal naive (period 1 without season) */
    double hw_sse;             /* in-sample SSE of that fit */
} disco_tsa_forecast_eval;

/*
 * Fits Holt-Winters with `cfg` on x[0..n - holdout), forecasts the holdout
 * with it and with seasonal naive, and scores both. Errors: holdout < 1 or
 * holdout >= n (INVAL "holdout"), and those of disco_tsa_hw_fit() on the
 * training part; NOMEM.
 */
int disco_tsa_forecast_evaluate(const double *x, size_t n, size_t holdout,
                                const disco_tsa_hw_config *cfg, disco_tsa_forecast_eval *out,
                                disco_status *st);

#endif
