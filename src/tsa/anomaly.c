/*
 * anomaly.c - anomaly detectors over plain arrays: rolling z-score, the
 * modified z-score (whole series and trailing window), STL remainder
 * thresholds, and the generalized ESD with its seasonal hybrid form.
 *
 * DESIGN
 * The simple detectors compute a score per point (NaN where a point is not
 * scored) and keep those beyond the threshold. The ESD removes the most
 * extreme point one step at a time, recomputing centre and scale over what
 * is left, so its cost is O(k n) for k = max_anoms n steps; the rolling
 * detectors recompute their window exactly for each point, O(n window), so
 * no running sum can drift and a flat window has exactly zero spread.
 *
 * Robust scale (shared by the modified z-score, the STL remainder and the
 * hybrid ESD): MAD / 0.6745, else MeanAD / 0.7979 when MAD is 0, else no
 * spread at all. `tiny` is the spread (and distance) that counts as zero:
 * 0 for raw input, a small fraction of the input's magnitude for STL output.
 */
#include "disco/tsa_anomaly.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MODZ_MAD 0.6745    /* 0.6745 (v - median) / MAD: Iglewicz and Hoaglin */
#define MODZ_MEANAD 0.7979 /* 0.7979 (v - median) / MeanAD when MAD is 0 */
#define STL_TINY 1e-10     /* relative spread below which an STL remainder is flat */

void disco_tsa_anomalies_release(disco_tsa_anomalies *a)
{
    if (!a)
        return;
    free(a->index);
    free(a->score);
    memset(a, 0, sizeof *a);
}

disco_tsa_esd_config disco_tsa_esd_config_default(void)
{
    disco_tsa_esd_config c = {
        .max_anoms = 0.1,
        .alpha = 0.05,
        .direction = DISCO_TSA_BOTH,
        .hybrid = 1,
    };
    return c;
}

/* ---- checks --------------------------------------------------------------- */

static int check_series(const double *x, size_t n, disco_tsa_anomalies *out, disco_status *st)
{
    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "result struct is NULL");
    memset(out, 0, sizeof *out);
    if (!x && n > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "x", "series is NULL");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "x", "x[%zu] is %s", i,
                                    isnan(x[i]) ? "NaN" : "infinite");
    }
    return DISCO_OK;
}

static int check_threshold(double t, const char *name, disco_status *st)
{
    if (!isfinite(t) || t <= 0)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s %g must be finite and > 0", name, t);
    return DISCO_OK;
}

static int check_window(size_t n, size_t window, disco_status *st)
{
    if (window < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "window", "window %zu is below 2", window);
    if (n <= window)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "series of %zu points is too short for window %zu (needs %zu)", n,
                                window, window + 1);
    return DISCO_OK;
}

static int check_min_length(size_t n, size_t min, disco_status *st)
{
    if (n < min)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "series of %zu points is too short (needs %zu)", n, min);
    return DISCO_OK;
}

static int check_period(size_t n, size_t period, disco_status *st)
{
    if (period < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "period", "period %zu is below 2", period);
    if (n < 2 * period)
        return disco_status_set(st, DISCO_ERR_INVAL, "n",
                                "series of %zu points is too short for period %zu (needs %zu)", n,
                                period, 2 * period);
    return DISCO_OK;
}

static int nomem(disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for anomaly scores");
}

/* ---- robust scale --------------------------------------------------------- */

/*
 * Median of v into *med and the robust sigma (0 when there is no spread).
 * Reorders and overwrites v.
 */
static double robust_sigma(double *v, size_t n, double tiny, double *med)
{
    double m = gsl_stats_median(v, 1, n), mad, meanad;

    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i] - m);
    *med = m;
    meanad = gsl_stats_mean(v, 1, n);
    mad = gsl_stats_median(v, 1, n);
    if (mad > tiny)
        return mad / MODZ_MAD;
    if (meanad > tiny)
        return meanad / MODZ_MEANAD;
    return 0.0;
}

/* (v - centre) / sigma, with zero spread scoring 0 or +-INFINITY. */
static double scaled(double v, double centre, double sigma, double tiny)
{
    double d = v - centre;

    if (sigma > 0)
        return d / sigma;
    if (fabs(d) <= tiny)
        return 0.0;
    return copysign(INFINITY, d);
}

static double max_abs(const double *x, size_t n)
{
    double m = 0;

    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/* ---- results -------------------------------------------------------------- */

static int result_alloc(disco_tsa_anomalies *out, size_t count, disco_status *st)
{
    out->count = count;
    if (count == 0)
        return DISCO_OK;
    out->index = malloc(count * sizeof *out->index);
    out->score = malloc(count * sizeof *out->score);
    if (!out->index || !out->score) {
        disco_tsa_anomalies_release(out);
        return nomem(st);
    }
    return DISCO_OK;
}

/* Keeps the points with |z| > threshold (NaN: not scored, never kept). */
static int collect(const double *z, size_t n, double threshold, disco_tsa_anomalies *out,
                   disco_status *st)
{
    size_t count = 0, j = 0;
    int rc;

    for (size_t i = 0; i < n; i++)
        count += fabs(z[i]) > threshold;
    rc = result_alloc(out, count, st);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && j < count; i++) {
        if (fabs(z[i]) > threshold) {
            out->index[j] = i;
            out->score[j++] = z[i];
        }
    }
    out->threshold = threshold;
    return DISCO_OK;
}

/* ---- rolling z-score and modified z-score --------------------------------- */

static void zscore_scores(const double *x, size_t n, size_t window, double *z)
{
    for (size_t i = 0; i < n; i++) {
        const double *w = x + i - window;
        double mean, sd;

        if (i < window) {
            z[i] = NAN;
            continue;
        }
        mean = gsl_stats_mean(w, 1, window);
        sd = gsl_stats_sd_m(w, 1, window, mean);
        z[i] = scaled(x[i], mean, sd, 0.0);
    }
}

/* The checks every rolling detector makes before it scores. */
static int check_rolling(const double *x, size_t n, size_t window, double threshold,
                         disco_tsa_anomalies *out, disco_status *st)
{
    int rc = check_series(x, n, out, st);

    if (rc == DISCO_OK)
        rc = check_window(n, window, st);
    if (rc == DISCO_OK)
        rc = check_threshold(threshold, "threshold", st);
    return rc;
}

int disco_tsa_detect_zscore(const double *x, size_t n, size_t window, double threshold,
                            disco_tsa_anomalies *out, disco_status *st)
{
    double *z;
    int rc = check_rolling(x, n, window, threshold, out, st);

    if (rc < 0)
        return rc;
    z = malloc(n * sizeof *z);
    if (!z)
        return nomem(st);
    zscore_scores(x, n, window, z);
    rc = collect(z, n, threshold, out, st);
    free(z);
    return rc;
}

int disco_tsa_detect_mad(const double *x, size_t n, double threshold, disco_tsa_anomalies *out,
                         disco_status *st)
{
    double *z, *work, med, sigma;
    int rc = check_series(x, n, out, st);

    if (rc == DISCO_OK)
        rc = check_min_length(n, 3, st);
    if (rc == DISCO_OK)
        rc = check_threshold(threshold, "threshold", st);
    if (rc < 0)
        return rc;
    z = malloc(2 * n * sizeof *z);
    if (!z)
        return nomem(st);
    work = z + n;
    memcpy(work, x, n * sizeof *x);
    sigma = robust_sigma(work, n, 0.0, &med);
    for (size_t i = 0; i < n; i++)
        z[i] = scaled(x[i], med, sigma, 0.0);
    rc = collect(z, n, threshold, out, st);
    free(z);
    return rc;
}

static void mad_rolling_scores(const double *x, size_t n, size_t window, double *work, double *z)
{
    for (size_t i = 0; i < n; i++) {
        double med, sigma;

        if (i < window) {
            z[i] = NAN;
            continue;
        }
        memcpy(work, x + i - window, window * sizeof *x);
        sigma = robust_sigma(work, window, 0.0, &med);
        z[i] = scaled(x[i], med, sigma, 0.0);
    }
}

int disco_tsa_detect_mad_rolling(const double *x, size_t n, size_t window, double threshold,
                                 disco_tsa_anomalies *out, disco_status *st)
{
    double *z;
    int rc = check_rolling(x, n, window, threshold, out, st);

    if (rc < 0)
        return rc;
    z = malloc((n + window) * sizeof *z);
    if (!z)
        return nomem(st);
    mad_rolling_scores(x, n, window, z + n, z);
    rc = collect(z, n, threshold, out, st);
    free(z);
    return rc;
}

/* ---- STL remainder -------------------------------------------------------- */

int disco_tsa_detect_stl(const double *x, size_t n, const disco_tsa_stl_config *stl, double k,
                         disco_tsa_anomalies *out, disco_status *st)
{
    double *buf, *trend, *seasonal, *resid, *work, med, sigma, tiny;
    int rc = check_series(x, n, out, st);

    if (rc == DISCO_OK && !stl)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "stl", "STL settings are NULL");
    if (rc == DISCO_OK)
        rc = check_period(n, stl->period, st);
    if (rc == DISCO_OK)
        rc = check_threshold(k, "k", st);
    if (rc < 0)
        return rc;
    buf = malloc(4 * n * sizeof *buf);
    if (!buf)
        return nomem(st);
    trend = buf, seasonal = buf + n, resid = buf + 2 * n, work = buf + 3 * n;
    rc = disco_tsa_stl(x, n, stl, trend, seasonal, resid, NULL, st);
    if (rc < 0)
        goto free_buf;
    tiny = STL_TINY * max_abs(x, n);
    memcpy(work, resid, n * sizeof *resid);
    sigma = robust_sigma(work, n, tiny, &med);
    for (size_t i = 0; i < n; i++)
        trend[i] = scaled(resid[i], med, sigma, tiny);
    rc = collect(trend, n, k, out, st);
free_buf:
    free(buf);
    return rc;
}

/* ---- generalized ESD ------------------------------------------------------ */

int disco_tsa_esd_critical(size_t n, size_t i, double alpha, disco_tsa_direction direction,
                           double *lambda, disco_status *st)
{
    double m, p, t;

    if (i < 1 || n < i + 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "i",
                                "ESD step %zu of %zu points leaves no degree of freedom", i, n);
    if (!(alpha > 0 && alpha < 1))
        return disco_status_set(st, DISCO_ERR_INVAL, "alpha", "alpha %g outside (0, 1)", alpha);
    if (direction != DISCO_TSA_BOTH && direction != DISCO_TSA_POS && direction != DISCO_TSA_NEG)
        return disco_status_set(st, DISCO_ERR_INVAL, "direction",
                                "direction %d is not both (0), pos (1) or neg (2)", (int)direction);
    if (!lambda)
        return disco_status_set(st, DISCO_ERR_INVAL, "lambda", "output is NULL");
    m = (double)(n - i + 1);
    p = 1.0 - alpha / (direction == DISCO_TSA_BOTH ? 2.0 * m : m);
    t = gsl_cdf_tdist_Pinv(p, m - 2.0);
    *lambda = (m - 1.0) * t / sqrt((m - 2.0 + t * t) * m);
    return DISCO_OK;
}

static int check_esd_config(const disco_tsa_esd_config *cfg, size_t n, size_t *k, disco_status *st)
{
    double lambda;
    int rc;

    if (!cfg)
        return disco_status_set(st, DISCO_ERR_INVAL, "cfg", "ESD settings are NULL");
    if (!(cfg->max_anoms > 0 && cfg->max_anoms <= 0.5))
        return disco_status_set(st, DISCO_ERR_INVAL, "max_anoms", "max_anoms %g outside (0, 0.5]",
                                cfg->max_anoms);
    rc = check_min_length(n, 3, st);
    if (rc == DISCO_OK) /* validates alpha and direction */
        rc = disco_tsa_esd_critical(n, 1, cfg->alpha, cfg->direction, &lambda, st);
    if (rc < 0)
        return rc;
    *k = (size_t)floor(cfg->max_anoms * (double)n);
    if (*k == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_anoms",
                                "max_anoms %g of %zu points allows no anomaly", cfg->max_anoms, n);
    return DISCO_OK;
}

/* The points still in the test: values and their indices in the series. */
typedef struct esd_pool {
    double *val;
    size_t *idx;
    double *work;
    size_t m;
} esd_pool;

/* One removed point: its index, signed statistic and critical value. */
typedef struct esd_step {
    size_t index;
    double stat;
    double lambda;
} esd_step;

/* Centre and scale of the pool; returns 0 when there is no spread. */
static double pool_scale(esd_pool *p, int hybrid, double tiny, double *centre)
{
    double sd;

    if (hybrid) {
        memcpy(p->work, p->val, p->m * sizeof *p->val);
        return robust_sigma(p->work, p->m, tiny, centre);
    }
    *centre = gsl_stats_mean(p->val, 1, p->m);
    sd = gsl_stats_sd_m(p->val, 1, p->m, *centre);
    return sd > tiny ? sd : 0.0;
}

/* How far a signed statistic lies in direction `dir` (larger is more extreme). */
static double directed(double z, disco_tsa_direction dir)
{
    if (dir == DISCO_TSA_POS)
        return z;
    if (dir == DISCO_TSA_NEG)
        return -z;
    return fabs(z);
}

/* Position in the pool of the point most extreme in `dir` and its statistic. */
static size_t pool_extreme(const esd_pool *p, disco_tsa_direction dir, double centre, double sigma,
                           double *stat)
{
    size_t best = 0;
    double best_r = -INFINITY;

    for (size_t j = 0; j < p->m; j++) {
        double z = (p->val[j] - centre) / sigma;
        double r = directed(z, dir);

        if (r > best_r) {
            best_r = r;
            best = j;
            *stat = z;
        }
    }
    return best;
}

/*
 * Runs up to k steps, filling steps[]; returns how many are anomalies (the
 * last step whose statistic beat its critical value).
 */
static size_t esd_run(esd_pool *p, size_t n, size_t k, const disco_tsa_esd_config *cfg, double tiny,
                      esd_step *steps)
{
    size_t flagged = 0;

    for (size_t i = 1; i <= k; i++) {
        double centre, sigma = pool_scale(p, cfg->hybrid, tiny, &centre), stat = 0;
        size_t j;

        if (sigma == 0)
            break;
        j = pool_extreme(p, cfg->direction, centre, sigma, &stat);
        steps[i - 1].index = p->idx[j];
        steps[i - 1].stat = stat;
        disco_tsa_esd_critical(n, i, cfg->alpha, cfg->direction, &steps[i - 1].lambda, NULL);
        if (directed(stat, cfg->direction) > steps[i - 1].lambda)
            flagged = i;
        p->m--;
        p->val[j] = p->val[p->m];
        p->idx[j] = p->idx[p->m];
    }
    return flagged;
}

static int cmp_step(const void *a, const void *b)
{
    const esd_step *x = a, *y = b;

    return (x->index > y->index) - (x->index < y->index);
}

static int esd_result(esd_step *steps, size_t flagged, double lambda1, disco_tsa_anomalies *out,
                      disco_status *st)
{
    int rc;

    out->threshold = flagged ? steps[flagged - 1].lambda : lambda1;
    rc = result_alloc(out, flagged, st);
    if (rc < 0 || flagged == 0)
        return rc;
    qsort(steps, flagged, sizeof *steps, cmp_step);
    for (size_t i = 0; i < flagged; i++) {
        out->index[i] = steps[i].index;
        out->score[i] = steps[i].stat;
    }
    return DISCO_OK;
}

/* The ESD on a checked series with its checked settings. */
static int esd_core(const double *x, size_t n, size_t k, const disco_tsa_esd_config *cfg,
                    double tiny, disco_tsa_anomalies *out, disco_status *st)
{
    esd_pool p = {.m = n};
    esd_step *steps = malloc(k * sizeof *steps);
    double lambda1;
    int rc = DISCO_ERR_NOMEM;

    p.val = malloc(2 * n * sizeof *p.val);
    p.idx = malloc(n * sizeof *p.idx);
    if (!steps || !p.val || !p.idx) {
        rc = nomem(st);
        goto free_all;
    }
    p.work = p.val + n;
    memcpy(p.val, x, n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        p.idx[i] = i;
    disco_tsa_esd_critical(n, 1, cfg->alpha, cfg->direction, &lambda1, NULL);
    rc = esd_result(steps, esd_run(&p, n, k, cfg, tiny, steps), lambda1, out, st);
free_all:
    free(steps);
    free(p.val);
    free(p.idx);
    return rc;
}

int disco_tsa_detect_esd(const double *x, size_t n, const disco_tsa_esd_config *cfg,
                         disco_tsa_anomalies *out, disco_status *st)
{
    size_t k = 0;
    int rc = check_series(x, n, out, st);

    if (rc == DISCO_OK)
        rc = check_esd_config(cfg, n, &k, st);
    if (rc < 0)
        return rc;
    return esd_core(x, n, k, cfg, 0.0, out, st);
}

/* ---- seasonal hybrid ESD -------------------------------------------------- */

/* resid = x - S - median(x), S from robust STL with a periodic seasonal part. */
static int shesd_residual(const double *x, size_t n, size_t period, double *buf, double *resid,
                          disco_status *st)
{
    disco_tsa_stl_config stl = disco_tsa_stl_config_default(period, 1);
    double *trend = buf, *seasonal = buf + n, *rem = buf + 2 * n, med;
    int rc;

    stl.seasonal = 10 * n + 1;
    stl.seasonal_deg = 0;
    rc = disco_tsa_stl(x, n, &stl, trend, seasonal, rem, NULL, st);
    if (rc < 0)
        return rc;
    memcpy(trend, x, n * sizeof *x);
    med = gsl_stats_median(trend, 1, n);
    for (size_t i = 0; i < n; i++)
        resid[i] = x[i] - seasonal[i] - med;
    return DISCO_OK;
}

int disco_tsa_detect_shesd(const double *x, size_t n, size_t period,
                           const disco_tsa_esd_config *cfg, disco_tsa_anomalies *out,
                           disco_status *st)
{
    double *buf;
    size_t k = 0;
    int rc = check_series(x, n, out, st);

    if (rc == DISCO_OK)
        rc = check_period(n, period, st);
    if (rc == DISCO_OK)
        rc = check_esd_config(cfg, n, &k, st);
    if (rc < 0)
        return rc;
    buf = malloc(4 * n * sizeof *buf);
    if (!buf)
        return nomem(st);
    rc = shesd_residual(x, n, period, buf, buf + 3 * n, st);
    if (rc == DISCO_OK)
        rc = esd_core(buf + 3 * n, n, k, cfg, STL_TINY * max_abs(x, n), out, st);
    free(buf);
    return rc;
}
