/*
 * tsa_decompose.h - seasonal decomposition: classical (as statsmodels'
 * seasonal_decompose) and STL (as statsmodels' STL), and the strengths of
 * the components (Hyndman's F_S and F_T).
 *
 * Pure computation on arrays: no storage. Outputs are caller-allocated
 * arrays of n doubles. Inputs must be finite (NaN/Inf are INVAL naming the
 * first bad index); callers that want gaps filled interpolate first.
 */
#ifndef DISCO_TSA_DECOMPOSE_H
#define DISCO_TSA_DECOMPOSE_H

#include "disco/err.h"

#include <stddef.h>

typedef enum disco_tsa_model {
    DISCO_TSA_ADDITIVE = 0,
    DISCO_TSA_MULTIPLICATIVE = 1,
} disco_tsa_model;

#define DISCO_TSA_EXTRAPOLATE_FREQ (-1) /* statsmodels' extrapolate_trend='freq' */

/*
 * Classical decomposition exactly as statsmodels 0.13.5 seasonal_decompose
 * (see ../shared/ref/tsa/README.md for its steps): `extrapolate` is 0 (NaN
 * at the ends of trend and resid), k > 0, or DISCO_TSA_EXTRAPOLATE_FREQ.
 * Errors (INVAL, naming the input): period < 2, n < 2 * period, non-finite
 * values, values <= 0 in multiplicative mode.
 */
int disco_tsa_decompose(const double *x, size_t n, size_t period, disco_tsa_model model,
                        int extrapolate, double *trend, double *seasonal, double *resid,
                        disco_status *st);

/* STL settings; take them from disco_tsa_stl_config_default(). */
typedef struct disco_tsa_stl_config {
    size_t period;
    size_t seasonal; /* seasonal smoother length, odd >= 3 (default 7) */
    size_t trend;    /* odd >= 3, > period; 0: ceil(1.5 period / (1 - 1.5 / seasonal)),
                        plus 1 when even (statsmodels' rule) */
    size_t low_pass; /* odd >= 3, > period; 0: smallest odd > period */
    int seasonal_deg, trend_deg, low_pass_deg;       /* 0 or 1 (default 1) */
    size_t seasonal_jump, trend_jump, low_pass_jump; /* default 1 */
    int robust;                                      /* robustness weights (default 0) */
    int inner_iter;                                  /* >= 1; default 5, or 2 when robust */
    int outer_iter; /* >= 0 robustness passes; default 0, or 15 when robust */
} disco_tsa_stl_config;

disco_tsa_stl_config disco_tsa_stl_config_default(size_t period, int robust);

/*
 * STL as statsmodels 0.13.5 STL(...).fit(): trend, seasonal, resid (and the
 * final robustness weights when `weights` is not NULL; all 1 when
 * outer_iter is 0). Only inner_iter and outer_iter decide the passes; the
 * `robust` flag just picks their defaults. Errors as for
 * disco_tsa_decompose, plus bad window lengths, degrees, jumps or iteration
 * counts (INVAL naming the setting); NOMEM. Allocates its work arrays once
 * per call; thread-safe.
 */
int disco_tsa_stl(const double *x, size_t n, const disco_tsa_stl_config *cfg, double *trend,
                  double *seasonal, double *resid, double *weights, disco_status *st);

/*
 * Hyndman's strengths: seasonal F_S = max(0, 1 - var(R) / var(S + R)) and
 * trend F_T = max(0, 1 - var(R) / var(T + R)); points where either input
 * is NaN are skipped. 0 when fewer than two points remain or var(S + R)
 * (var(T + R)) is 0, or when an input is NULL.
 */
double disco_tsa_seasonal_strength(const double *seasonal, const double *resid, size_t n);
double disco_tsa_trend_strength(const double *trend, const double *resid, size_t n);

#endif
