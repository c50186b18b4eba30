/*
 * tsa_anomaly.h - anomaly detection on a series of numbers.
 *
 * Detectors, from the simplest to the most careful about seasonality:
 *
 *   disco_tsa_detect_zscore      rolling z-score against the trailing window
 *   disco_tsa_detect_mad         modified z-score (Iglewicz-Hoaglin), whole series
 *   disco_tsa_detect_mad_rolling modified z-score against the trailing window
 *   disco_tsa_detect_stl         modified z-score of the STL remainder
 *   disco_tsa_detect_esd         generalized ESD (Rosner), optionally median/MAD based
 *   disco_tsa_detect_shesd       Seasonal Hybrid ESD: STL removes the seasonality, then ESD
 *
 * Pure computation on arrays: no storage, no logging. Inputs must be finite;
 * NaN/Inf are INVAL naming the first bad index. Every detector fills a
 * disco_tsa_anomalies the caller owns and frees with
 * disco_tsa_anomalies_release(); on error it is left empty.
 *
 * Robust scale. The modified z-score of v against a sample is
 * 0.6745 (v - median) / MAD, MAD the median absolute deviation from the
 * median. When MAD is 0 (more than half the sample is one value) the mean
 * absolute deviation from the median stands in: 0.7979 (v - median) / MeanAD.
 * When that is 0 too the sample has no spread: a value equal to the median
 * scores 0 and any other scores +-INFINITY (so a spike on a flat line is
 * still found, and a constant series has no anomalies).
 */
#ifndef DISCO_TSA_ANOMALY_H
#define DISCO_TSA_ANOMALY_H

#include "disco/err.h"
#include "disco/tsa_decompose.h"

#include <stddef.h>

#define DISCO_TSA_ZSCORE_THRESHOLD 3.0 /* usual rolling z-score cut-off */
#define DISCO_TSA_MODZ_THRESHOLD 3.5   /* Iglewicz and Hoaglin's recommended cut-off */

/* Which side of the centre counts as anomalous. */
typedef enum disco_tsa_direction {
    DISCO_TSA_BOTH = 0,
    DISCO_TSA_POS = 1, /* only values above the centre */
    DISCO_TSA_NEG = 2, /* only values below the centre */
} disco_tsa_direction;

/*
 * The points a detector flags, in ascending index order. score[i] is the
 * signed score of point index[i] (positive above the centre), in the
 * detector's unit (z, modified z, or the ESD statistic); `threshold` is the
 * cut-off it was compared with (see each detector). `index` and `score` are
 * malloc'd (NULL when count is 0) and owned by the struct.
 */
typedef struct disco_tsa_anomalies {
    size_t count;
    size_t *index;
    double *score;
    double threshold;
} disco_tsa_anomalies;

/* Frees the arrays and empties the struct; NULL and empty structs are fine. */
void disco_tsa_anomalies_release(disco_tsa_anomalies *a);

/*
 * Rolling z-score: point i (i >= window) scores (x[i] - mean) / sd over the
 * trailing window x[i-window .. i-1], which excludes the point itself (so a
 * spike cannot hide itself by inflating its own sd); sd is the sample
 * standard deviation (n - 1). The first `window` points are not scored. A
 * window with sd 0 scores a differing point +-INFINITY. Flags |score| >
 * threshold; `threshold` in the result is the one given.
 * Errors (INVAL): window < 2, n <= window, threshold not finite and > 0,
 * non-finite x; NOMEM.
 */
int disco_tsa_detect_zscore(const double *x, size_t n, size_t window, double threshold,
                            disco_tsa_anomalies *out, disco_status *st);

/*
 * Modified z-score of every point against the whole series (see the top of
 * this file); flags |score| > threshold (DISCO_TSA_MODZ_THRESHOLD usually).
 * Errors (INVAL): n < 3, threshold not finite and > 0, non-finite x; NOMEM.
 */
int disco_tsa_detect_mad(const double *x, size_t n, double threshold, disco_tsa_anomalies *out,
                         disco_status *st);

/*
 * Modified z-score of point i (i >= window) against the trailing window
 * x[i-window .. i-1], which excludes the point itself; the first `window`
 * points are not scored. Flags |score| > threshold.
 * Errors (INVAL): window < 2, n <= window, threshold not finite and > 0,
 * non-finite x; NOMEM.
 */
int disco_tsa_detect_mad_rolling(const double *x, size_t n, size_t window, double threshold,
                                 disco_tsa_anomalies *out, disco_status *st);

/*
 * STL remainder thresholds: decomposes x with STL using `stl` (take it from
 * disco_tsa_stl_config_default(period, robust); robust keeps the anomalies
 * out of trend and seasonal), then flags points whose remainder lies more
 * than k robust sigmas from the remainder's median, i.e. whose modified
 * z-score exceeds k in magnitude; `threshold` in the result is k. Spread
 * below 1e-10 of the series' largest magnitude counts as none, so rounding
 * in STL does not make a constant series anomalous.
 *
 * Choosing k: a robust STL's remainder is heavier-tailed than the noise under
 * it (the robust fit follows the bulk, shrinking its MAD), the more so the
 * more flexible the seasonal smoother. On 480 points of Gaussian noise a
 * periodic seasonal part (seasonal = 10 n + 1, seasonal_deg = 0) with k = 6
 * stays quiet, while k = 3.5 or the default seasonal window of 7 flag noise;
 * disco_tsa_detect_shesd controls false alarms by significance instead.
 * Errors: INVAL for k not finite and > 0 and whatever disco_tsa_stl rejects
 * (period < 2, n < 2 period, non-finite x, bad settings); NOMEM.
 */
int disco_tsa_detect_stl(const double *x, size_t n, const disco_tsa_stl_config *stl, double k,
                         disco_tsa_anomalies *out, disco_status *st);

/* Generalized ESD settings; take them from disco_tsa_esd_config_default(). */
typedef struct disco_tsa_esd_config {
    double max_anoms; /* most anomalies, as a fraction of n in (0, 0.5] (default 0.1) */
    double alpha;     /* significance level in (0, 1) (default 0.05) */
    disco_tsa_direction direction; /* default DISCO_TSA_BOTH */
    int hybrid; /* 1: median and MAD (default); 0: mean and sample sd, as Rosner */
} disco_tsa_esd_config;

disco_tsa_esd_config disco_tsa_esd_config_default(void);

/*
 * Rosner's critical value lambda_i for the i-th (1-based) of the generalized
 * ESD's steps on n points:
 *   lambda_i = (n - i) t / sqrt((n - i - 1 + t^2) (n - i + 1)),
 * t the Student t quantile with n - i - 1 degrees of freedom at
 * p = 1 - alpha / (2 (n - i + 1)) (both directions) or 1 - alpha / (n - i + 1)
 * (one direction). For i = 1 it is Grubbs' critical value.
 * Errors (INVAL): i < 1, n < i + 2, alpha outside (0, 1), bad direction.
 */
int disco_tsa_esd_critical(size_t n, size_t i, double alpha, disco_tsa_direction direction,
                           double *lambda, disco_status *st);

/*
 * Generalized ESD: up to k = floor(max_anoms n) times, removes the point
 * farthest from the centre (median, or mean) in `direction`, with statistic
 * R_i = |x - centre| / scale (MAD / 0.6745 with the fallback at the top of
 * this file, or the sample sd) over the points still in. The anomalies are
 * the points removed in the steps up to the last i with R_i > lambda_i.
 * Scores are the signed statistics at removal; `threshold` is lambda of that
 * last step (lambda_1 when nothing is flagged). Stops early, with what it has,
 * once the remaining points have no spread.
 * Errors (INVAL): n < 3, settings out of range, k = 0 for this n,
 * non-finite x; NOMEM.
 */
int disco_tsa_detect_esd(const double *x, size_t n, const disco_tsa_esd_config *cfg,
                         disco_tsa_anomalies *out, disco_status *st);

/*
 * Seasonal Hybrid ESD (Twitter's S-H-ESD): robust STL with a periodic
 * seasonal component (seasonal window 10 n + 1, degree 0) gives the seasonal
 * part S; the residual x - S - median(x) then goes through
 * disco_tsa_detect_esd with `cfg` (hybrid by default). Indices and scores are
 * those of the residual.
 * Errors (INVAL): period < 2, n < 2 period, as disco_tsa_detect_esd and
 * disco_tsa_stl; NOMEM.
 */
int disco_tsa_detect_shesd(const double *x, size_t n, size_t period,
                           const disco_tsa_esd_config *cfg, disco_tsa_anomalies *out,
                           disco_status *st);

#endif
