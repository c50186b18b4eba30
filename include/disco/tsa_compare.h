/*
 * tsa_compare.h - aligning and comparing time series: resampling onto a
 * common grid, lag by cross-correlation, Pearson and Spearman correlation
 * with p-values, co-movement, rolling correlation, and dynamic time warping
 * (DTW) with the LB_Keogh lower bound and a multi-threaded distance matrix.
 *
 * Pure computation on arrays: no storage. Outputs are caller-allocated.
 * Every function returns DISCO_OK or a negative disco_err and, when `st`
 * is not NULL, a message naming the bad input ("s1[17] is NaN").
 *
 * DTW follows dtaidistance's semantics (distance = sqrt of the summed
 * squared differences along the cheapest warping path; the same window,
 * psi and max_dist meanings), so its results agree with dtaidistance's.
 * The DTW and LB_Keogh kernels never allocate: they take caller scratch.
 */
#ifndef DISCO_TSA_COMPARE_H
#define DISCO_TSA_COMPARE_H

#include "disco/err.h"
#include "disco/pool.h"

#include <stddef.h>
#include <stdint.h>

/* ---- alignment ------------------------------------------------------- */

/* A regular grid of timestamps (ms): start, start + step, ..., count of them. */
typedef struct disco_tsa_grid {
    int64_t start;
    int64_t step; /* > 0 */
    size_t count; /* >= 1 */
} disco_tsa_grid;

/* One irregular series: n points, timestamps strictly increasing. Borrowed. */
typedef struct disco_tsa_series {
    const int64_t *ts;
    const double *v;
    size_t n;
} disco_tsa_series;

typedef enum disco_tsa_fill {
    DISCO_TSA_FILL_LINEAR = 0,   /* straight line between the two neighbours */
    DISCO_TSA_FILL_PREVIOUS = 1, /* value of the last point at or before the grid time */
} disco_tsa_fill;

/*
 * Values of a series at every grid time, into out[grid->count]. Grid times
 * before ts[0] or after ts[n-1] are NaN; a time equal to a timestamp takes
 * that point's value. NaN values in `v` are kept: they make the grid points
 * that depend on them NaN. Errors (INVAL): n == 0, timestamps not strictly
 * increasing (names the index), step <= 0, count == 0, a grid whose last
 * time overflows int64, NULL arrays.
 */
int disco_tsa_resample(const int64_t *ts, const double *v, size_t n, const disco_tsa_grid *grid,
                       disco_tsa_fill fill, double *out, disco_status *st);

/*
 * A grid common to k series: from the latest first timestamp to the
 * earliest last timestamp (the overlap of their ranges), stepping by the
 * median of all their consecutive timestamp differences (pooled; the lower
 * of the two middle values when their number is even). Allocates a
 * temporary array of those differences. Errors: INVAL for k == 0, an empty
 * or unsorted series (named by index), ranges that do not overlap, or no
 * series with two points; NOMEM.
 */
int disco_tsa_grid_choose(const disco_tsa_series *series, size_t k, disco_tsa_grid *grid,
                          disco_status *st);

/* ---- correlation ----------------------------------------------------- */

/* A correlation coefficient, its two-sided p-value, and the pairs used. */
typedef struct disco_tsa_corr {
    double r; /* in [-1, 1] */
    double p; /* two-sided, from Student's t with n - 2 degrees of freedom */
    size_t n; /* pairs where neither value was NaN */
} disco_tsa_corr;

/*
 * Pearson correlation of x and y (n values each). Pairs where either value
 * is NaN are skipped. p = 2 * Q_t(|t|, n - 2), t = r sqrt((n - 2) / (1 - r^2));
 * |r| == 1 gives p == 0. Errors (INVAL): fewer than 3 usable pairs, a
 * constant x or y (correlation undefined), +-Inf values, NULL arrays.
 */
int disco_tsa_pearson(const double *x, const double *y, size_t n, disco_tsa_corr *out,
                      disco_status *st);

/*
 * Spearman rank correlation: Pearson on the ranks, tied values sharing the
 * average of their ranks; p-value as for Pearson (the t approximation, as
 * scipy's spearmanr). NaN pairs are skipped before ranking. Allocates
 * working arrays for the ranks (NOMEM). Other errors as disco_tsa_pearson.
 */
int disco_tsa_spearman(const double *x, const double *y, size_t n, disco_tsa_corr *out,
                       disco_status *st);

/*
 * Lag of y behind x by normalised cross-correlation: for each lag L in
 * [-max_lag, max_lag], the Pearson correlation of x[t - L] with y[t] over
 * the overlapping part (n - |L| pairs). The best lag is the one with the
 * highest correlation (ties: the smallest |L|, then the negative one), so
 * y[t] = x[t - 3] gives lag 3. Lags whose overlap is constant are skipped.
 * Errors (INVAL): NaN/Inf values, max_lag > n - 3, no lag with a defined
 * correlation.
 */
int disco_tsa_lag(const double *x, const double *y, size_t n, size_t max_lag, long *lag,
                  double *corr, disco_status *st);

/* Result of disco_tsa_comovement. */
typedef struct disco_tsa_comove {
    double fraction; /* same / steps */
    size_t same;     /* steps where both rose or both fell */
    size_t steps;    /* steps counted: both series moved (non-zero, non-NaN change) */
} disco_tsa_comove;

/*
 * Co-movement: over the steps t = 1..n-1 where both x and y changed
 * (x[t] != x[t-1] and y[t] != y[t-1], neither change NaN), the fraction in
 * which they changed in the same direction. Steps where either series was
 * flat (a zero move) or NaN count neither way. Errors (INVAL): n < 2, no
 * step where both moved, NULL arrays.
 */
int disco_tsa_comovement(const double *x, const double *y, size_t n, disco_tsa_comove *out,
                         disco_status *st);

/*
 * Rolling Pearson correlation: out[i] for i >= window - 1 is the
 * correlation of x and y over [i - window + 1, i], NaN pairs skipped; it is
 * NaN where fewer than 3 pairs are usable or either side is constant, and
 * for i < window - 1. O(n * window). Errors (INVAL): window < 3,
 * window > n, NULL arrays.
 */
int disco_tsa_rolling_corr(const double *x, const double *y, size_t n, size_t window, double *out,
                           disco_status *st);

/* ---- dynamic time warping -------------------------------------------- */

/*
 * DTW settings; start from disco_tsa_dtw_config_default() (all zero).
 *
 * window   0: no band. w >= 1: row i of s1 (length n) may match column j of
 *          s2 (length m) only when i - (max(0, n - m) + w - 1) <= j and
 *          j <= i + max(0, m - n) + w - 1, as dtaidistance: for equal
 *          lengths |i - j| <= w - 1 (w = 1 is the Euclidean distance); for
 *          unequal lengths the band is widened by the length difference on
 *          the side of the longer series, so the end cell stays reachable.
 * psi      relaxation: up to psi points at the start and at the end of
 *          either series may be left unmatched at no cost (dtaidistance's
 *          integer psi).
 * max_dist 0 or +Inf: none. Otherwise a distance above max_dist is
 *          returned as +Inf, and the computation abandons as soon as no
 *          path can stay within it.
 * prune    1: also bound cells by the Euclidean distance when the lengths
 *          are equal (dtaidistance's use_pruning): the same result, faster
 *          on similar series. In disco_tsa_dtw_matrix it also skips pairs
 *          whose LB_Keogh exceeds max_dist (when max_dist is set, psi = 0).
 */
typedef struct disco_tsa_dtw_config {
    size_t window;
    size_t psi;
    double max_dist;
    int prune;
} disco_tsa_dtw_config;

disco_tsa_dtw_config disco_tsa_dtw_config_default(void);

/* Doubles of scratch disco_tsa_dtw needs for a second series of length m. */
#define DISCO_TSA_DTW_SCRATCH(m) (2 * ((size_t)(m) + 1))

/*
 * DTW distance between s1 (n points) and s2 (m points) into *dist (+Inf
 * when max_dist is exceeded). `scratch` holds DISCO_TSA_DTW_SCRATCH(m)
 * doubles, owned by the caller (one per thread); nothing is allocated.
 * O(n * m) time, O(m) memory (two rows of the cost matrix).
 * Errors (INVAL): n or m == 0, NaN/Inf values (named), negative or NaN
 * max_dist, NULL arrays or scratch.
 */
int disco_tsa_dtw(const double *s1, size_t n, const double *s2, size_t m,
                  const disco_tsa_dtw_config *cfg, double *scratch, double *dist, disco_status *st);

/* Similarity from a DTW distance: 1 / (1 + d) (0 for +Inf). */
double disco_tsa_dtw_similarity(double dist);

/*
 * LB_Keogh envelope of s (m points) for comparison with series of n points
 * under window `window` (as in disco_tsa_dtw_config): lower[i] and upper[i]
 * (n entries each) are the min and max of s over the columns row i may
 * match. `work` holds m size_t, owned by the caller. O(n + m); nothing is
 * allocated. Errors (INVAL): n or m == 0, NaN/Inf values, NULL arrays.
 */
int disco_tsa_lb_envelope(const double *s, size_t m, size_t n, size_t window, double *lower,
                          double *upper, size_t *work, disco_status *st);

/*
 * LB_Keogh lower bound of the DTW distance (psi = 0) between q (n points)
 * and the series whose envelope is lower/upper: sqrt of the summed squared
 * distances of q outside the envelope. Never above disco_tsa_dtw's distance
 * under the same window (up to rounding in the last bit). Inputs are not
 * checked (use finite values).
 */
double disco_tsa_lb_keogh(const double *q, size_t n, const double *lower, const double *upper);

/*
 * All pairwise DTW distances of k series into out[k * k] (row-major,
 * symmetric, zero diagonal; entries equal disco_tsa_dtw of that pair).
 * series[i] has lens[i] points. Rows are shared across `pool` with
 * disco_pool_parallel_for; pool NULL runs on the calling thread. With
 * cfg->prune and max_dist set (and psi = 0), pairs whose LB_Keogh exceeds
 * max_dist are +Inf without running DTW. Allocates scratch once per task.
 * Errors: INVAL as disco_tsa_dtw (naming "series[3][17]"), k == 0; NOMEM.
 */
int disco_tsa_dtw_matrix(const double *const *series, const size_t *lens, size_t k,
                         const disco_tsa_dtw_config *cfg, disco_pool *pool, double *out,
                         disco_status *st);

#endif
