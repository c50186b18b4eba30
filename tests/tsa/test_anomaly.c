/*
 * test_anomaly.c - anomaly detectors: spikes injected into a noisy seasonal
 * series are found at their indices by every detector; clean seasonal data
 * gives no anomalies under STL thresholds and S-H-ESD; ESD critical values
 * against published Grubbs tables and Rosner's worked example (as in the
 * NIST/SEMATECH handbook); constant series, flat lines and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/tsa_anomaly.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 480
#define PERIOD 24
#define NOISE 0.05

static const double pi = 3.14159265358979323846;

/* Spikes injected into the seasonal series: index and size. */
static const size_t spike_at[] = {100, 250, 333};
static const double spike_by[] = {6.0, -5.0, 7.0};
#define NSPIKES (sizeof spike_at / sizeof spike_at[0])

/* ---- fixtures -------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Standard normal deviate (Box-Muller) from a fixed-seed generator. */
static double rng_gauss(uint64_t *s)
{
    double u1 = ((double)(rng_next(s) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = (double)(rng_next(s) >> 11) / 9007199254740992.0;

    return sqrt(-2.0 * log(u1)) * cos(2.0 * pi * u2);
}

/* 10 + a slow trend + a sine of period PERIOD + small Gaussian noise. */
static void seasonal_series(double *x, size_t n)
{
    uint64_t seed = 20240611;

    for (size_t i = 0; i < n; i++)
        x[i] = 10.0 + 0.002 * (double)i + sin(2.0 * pi * (double)i / PERIOD) +
               NOISE * rng_gauss(&seed);
}

/* 10 + Gaussian noise of sd 0.5, no seasonality. */
static void white_series(double *x, size_t n)
{
    uint64_t seed = 7;

    for (size_t i = 0; i < n; i++)
        x[i] = 10.0 + 0.5 * rng_gauss(&seed);
}

static void add_spikes(double *x)
{
    for (size_t j = 0; j < NSPIKES; j++)
        x[spike_at[j]] += spike_by[j];
}

static void spiked_series(double *x, size_t n)
{
    seasonal_series(x, n);
    add_spikes(x);
}

/* The result is exactly the injected spikes, each scored on its side. */
static void assert_spikes(const disco_tsa_anomalies *a)
{
    assert_int_equal(a->count, NSPIKES);
    for (size_t j = 0; j < NSPIKES; j++) {
        assert_int_equal(a->index[j], spike_at[j]);
        assert_true(a->score[j] * spike_by[j] > 0);
        assert_true(fabs(a->score[j]) > a->threshold);
    }
}

/* ---- detectors on spikes --------------------------------------------------- */

static void test_release_empty(void **state)
{
    disco_tsa_anomalies a = {0};

    (void)state;
    disco_tsa_anomalies_release(NULL);
    disco_tsa_anomalies_release(&a);
    assert_int_equal(a.count, 0);
    assert_null(a.index);
}

static void test_zscore_spikes(void **state)
{
    double x[N];
    disco_tsa_anomalies a;
    disco_status st = {0};

    (void)state;
    spiked_series(x, N);
    assert_int_equal(disco_tsa_detect_zscore(x, N, 48, DISCO_TSA_ZSCORE_THRESHOLD, &a, &st),
                     DISCO_OK);
    assert_spikes(&a);
    assert_true(a.threshold == DISCO_TSA_ZSCORE_THRESHOLD);
    disco_tsa_anomalies_release(&a);
}

/* The trailing window excludes the point: a 3-point window before a jump. */
static void test_zscore_window_excludes_point(void **state)
{
    const double x[] = {1, 2, 3, 2, 30};
    disco_tsa_anomalies a;

    (void)state;
    assert_int_equal(disco_tsa_detect_zscore(x, 5, 3, 3.0, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 4);
    /* window {2, 3, 2}: mean 7/3, sample sd sqrt(1/3) */
    assert_float_equal(a.score[0], (30.0 - 7.0 / 3.0) / sqrt(1.0 / 3.0), 1e-12);
    disco_tsa_anomalies_release(&a);
}

static void test_mad_spikes(void **state)
{
    double x[N];
    disco_tsa_anomalies a;

    (void)state;
    spiked_series(x, N);
    assert_int_equal(disco_tsa_detect_mad(x, N, DISCO_TSA_MODZ_THRESHOLD, &a, NULL), DISCO_OK);
    assert_spikes(&a);
    disco_tsa_anomalies_release(&a);
}

/* 0.6745 (x - median) / MAD on a small case worked out by hand. */
static void test_mad_hand_case(void **state)
{
    const double x[] = {1, 2, 3, 4, 100};
    disco_tsa_anomalies a;

    (void)state;
    /* median 3, |x - 3| = {2, 1, 0, 1, 97}, MAD 1 */
    assert_int_equal(disco_tsa_detect_mad(x, 5, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 4);
    assert_float_equal(a.score[0], 0.6745 * 97.0, 1e-12);
    assert_true(a.threshold == 3.5);
    disco_tsa_anomalies_release(&a);
}

static void test_mad_rolling_spikes(void **state)
{
    double x[N];
    disco_tsa_anomalies a;

    (void)state;
    spiked_series(x, N);
    assert_int_equal(disco_tsa_detect_mad_rolling(x, N, 48, DISCO_TSA_MODZ_THRESHOLD, &a, NULL),
                     DISCO_OK);
    assert_spikes(&a);
    disco_tsa_anomalies_release(&a);
}

/*
 * Robust STL with a periodic seasonal part; its remainder is heavier-tailed
 * than the Gaussian noise under it (the robust fit follows the bulk), so the
 * clean series stays quiet at 6 robust sigmas (its largest remainder over 1000
 * seeds is about 5.4) while the spikes score near 100.
 */
static disco_tsa_stl_config periodic_stl(size_t n)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(PERIOD, 1);

    cfg.seasonal = 10 * n + 1;
    cfg.seasonal_deg = 0;
    return cfg;
}

#define STL_K 6.0

static void test_stl_spikes(void **state)
{
    double x[N];
    disco_tsa_stl_config cfg = periodic_stl(N);
    disco_tsa_anomalies a;
    disco_status st = {0};

    (void)state;
    spiked_series(x, N);
    assert_int_equal(disco_tsa_detect_stl(x, N, &cfg, STL_K, &a, &st), DISCO_OK);
    assert_spikes(&a);
    disco_tsa_anomalies_release(&a);
}

static void test_stl_clean(void **state)
{
    double x[N];
    disco_tsa_stl_config cfg = periodic_stl(N);
    disco_tsa_anomalies a;

    (void)state;
    seasonal_series(x, N);
    assert_int_equal(disco_tsa_detect_stl(x, N, &cfg, STL_K, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_null(a.index);
    assert_true(a.threshold == STL_K);
    disco_tsa_anomalies_release(&a);
}

static void test_shesd_spikes(void **state)
{
    double x[N];
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;
    disco_status st = {0};

    (void)state;
    spiked_series(x, N);
    assert_int_equal(disco_tsa_detect_shesd(x, N, PERIOD, &cfg, &a, &st), DISCO_OK);
    assert_spikes(&a);
    disco_tsa_anomalies_release(&a);
}

static void test_shesd_clean(void **state)
{
    double x[N];
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;
    double lambda1;

    (void)state;
    seasonal_series(x, N);
    assert_int_equal(disco_tsa_detect_shesd(x, N, PERIOD, &cfg, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_esd_critical(N, 1, 0.05, DISCO_TSA_BOTH, &lambda1, NULL), DISCO_OK);
    assert_float_equal(a.threshold, lambda1, 1e-12);
    disco_tsa_anomalies_release(&a);
}

/* One-sided S-H-ESD keeps only its side's spikes. */
static void test_shesd_direction(void **state)
{
    double x[N];
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;

    (void)state;
    spiked_series(x, N);
    cfg.direction = DISCO_TSA_POS;
    assert_int_equal(disco_tsa_detect_shesd(x, N, PERIOD, &cfg, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.index[0], 100);
    assert_int_equal(a.index[1], 333);
    disco_tsa_anomalies_release(&a);
    cfg.direction = DISCO_TSA_NEG;
    assert_int_equal(disco_tsa_detect_shesd(x, N, PERIOD, &cfg, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 250);
    assert_true(a.score[0] < 0);
    disco_tsa_anomalies_release(&a);
}

static void test_esd_spikes(void **state)
{
    double x[N];
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;

    (void)state;
    white_series(x, N);
    add_spikes(x);
    assert_int_equal(disco_tsa_detect_esd(x, N, &cfg, &a, NULL), DISCO_OK);
    assert_spikes(&a);
    disco_tsa_anomalies_release(&a);
}

/* ---- ESD critical values ---------------------------------------------------- */

/* Grubbs' critical values (the ESD's first step), from the published tables. */
static void test_esd_critical_grubbs(void **state)
{
    double l;

    (void)state;
    assert_int_equal(disco_tsa_esd_critical(3, 1, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
    assert_float_equal(l, 1.1543, 5e-4);
    assert_int_equal(disco_tsa_esd_critical(5, 1, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
    assert_float_equal(l, 1.7150, 5e-4);
    assert_int_equal(disco_tsa_esd_critical(10, 1, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
    assert_float_equal(l, 2.2900, 5e-4);
    assert_int_equal(disco_tsa_esd_critical(20, 1, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
    assert_float_equal(l, 2.7082, 5e-4);
    /* one-sided: p = 1 - alpha / n */
    assert_int_equal(disco_tsa_esd_critical(10, 1, 0.05, DISCO_TSA_POS, &l, NULL), DISCO_OK);
    assert_float_equal(l, 2.1761, 5e-4);
    assert_int_equal(disco_tsa_esd_critical(10, 1, 0.05, DISCO_TSA_NEG, &l, NULL), DISCO_OK);
    assert_float_equal(l, 2.1761, 5e-4);
}

/*
 * n = 10, step 1, alpha 0.05 by hand: p = 1 - 0.05 / 20 = 0.9975, t(0.9975, 8)
 * = 3.8325 (t table), lambda = 9 t / sqrt((8 + t^2) 10) = 2.2900.
 */
static void test_esd_critical_by_hand(void **state)
{
    double l, t = 3.832519;

    (void)state;
    assert_int_equal(disco_tsa_esd_critical(10, 1, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
    assert_float_equal(l, 9.0 * t / sqrt((8.0 + t * t) * 10.0), 1e-5);
}

/* Rosner's 54 values with up to 10 outliers: three are found. */
static const double rosner[] = {-0.25, 0.68, 0.94, 1.15, 1.20, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49,
                                1.49,  1.55, 1.56, 1.58, 1.65, 1.69, 1.70, 1.76, 1.77, 1.81, 1.91,
                                1.94,  1.96, 1.99, 2.06, 2.09, 2.10, 2.14, 2.15, 2.23, 2.24, 2.26,
                                2.35,  2.37, 2.40, 2.47, 2.54, 2.62, 2.64, 2.90, 2.92, 2.92, 2.93,
                                3.21,  3.26, 3.30, 3.59, 3.68, 4.30, 4.64, 5.34, 5.42, 6.01};

static void test_esd_rosner(void **state)
{
    static const double lambda[] = {3.158, 3.151, 3.143, 3.136, 3.128,
                                    3.120, 3.111, 3.103, 3.094, 3.085};
    disco_tsa_esd_config cfg = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;
    double l;

    (void)state;
    assert_int_equal(sizeof rosner / sizeof rosner[0], 54);
    for (size_t i = 1; i <= 10; i++) {
        assert_int_equal(disco_tsa_esd_critical(54, i, 0.05, DISCO_TSA_BOTH, &l, NULL), DISCO_OK);
        assert_float_equal(l, lambda[i - 1], 1e-3); /* the handbook truncates */
    }
    cfg.hybrid = 0;
    cfg.max_anoms = 10.0 / 54.0 + 1e-9;
    assert_int_equal(disco_tsa_detect_esd(rosner, 54, &cfg, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.index[0], 51);
    assert_int_equal(a.index[1], 52);
    assert_int_equal(a.index[2], 53);
    assert_float_equal(a.score[2], 3.118, 1e-3); /* R_1 */
    assert_float_equal(a.score[0], 3.179, 1e-3); /* R_3 */
    assert_float_equal(a.threshold, 3.143, 1e-3);
    disco_tsa_anomalies_release(&a);
}

/* ---- constant series, flat lines, bad input --------------------------------- */

static void test_constant_series(void **state)
{
    double x[N];
    disco_tsa_stl_config stl = disco_tsa_stl_config_default(PERIOD, 1);
    disco_tsa_esd_config esd = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;

    (void)state;
    for (size_t i = 0; i < N; i++)
        x[i] = 4.2;
    assert_int_equal(disco_tsa_detect_zscore(x, N, 10, 3.0, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_detect_mad(x, N, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_detect_mad_rolling(x, N, 10, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_detect_stl(x, N, &stl, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_detect_esd(x, N, &esd, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    assert_int_equal(disco_tsa_detect_shesd(x, N, PERIOD, &esd, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
    esd.hybrid = 0;
    assert_int_equal(disco_tsa_detect_esd(x, N, &esd, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 0);
}

/* A spike on a flat line: MAD 0 falls back to MeanAD; a flat window scores it infinite. */
static void test_flat_line_spike(void **state)
{
    double x[50] = {0};
    disco_tsa_esd_config esd = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;

    (void)state;
    x[30] = 5.0;
    assert_int_equal(disco_tsa_detect_mad(x, 50, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 30);
    assert_float_equal(a.score[0], 0.7979 * 5.0 / (5.0 / 50.0), 1e-9);
    disco_tsa_anomalies_release(&a);
    assert_int_equal(disco_tsa_detect_mad_rolling(x, 50, 10, 3.5, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_true(isinf(a.score[0]) && a.score[0] > 0);
    disco_tsa_anomalies_release(&a);
    assert_int_equal(disco_tsa_detect_zscore(x, 50, 10, 3.0, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 30);
    disco_tsa_anomalies_release(&a);
    assert_int_equal(disco_tsa_detect_esd(x, 50, &esd, &a, NULL), DISCO_OK);
    assert_int_equal(a.count, 1);
    assert_int_equal(a.index[0], 30);
    disco_tsa_anomalies_release(&a);
}

static void assert_inval(int rc, const disco_status *st, const char *field, const char *needle)
{
    assert_int_equal(rc, DISCO_ERR_INVAL);
    assert_string_equal(st->field, field);
    assert_non_null(strstr(st->msg, needle));
}

static void test_bad_values(void **state)
{
    double x[N];
    disco_tsa_stl_config stl = disco_tsa_stl_config_default(PERIOD, 1);
    disco_tsa_esd_config esd = disco_tsa_esd_config_default();
    disco_tsa_anomalies a = {0};
    disco_status st = {0};

    (void)state;
    seasonal_series(x, N);
    x[17] = NAN;
    assert_inval(disco_tsa_detect_zscore(x, N, 10, 3, &a, &st), &st, "x", "x[17] is NaN");
    assert_inval(disco_tsa_detect_mad(x, N, 3.5, &a, &st), &st, "x", "x[17] is NaN");
    assert_inval(disco_tsa_detect_mad_rolling(x, N, 10, 3.5, &a, &st), &st, "x", "x[17]");
    assert_inval(disco_tsa_detect_stl(x, N, &stl, 3.5, &a, &st), &st, "x", "x[17]");
    assert_inval(disco_tsa_detect_esd(x, N, &esd, &a, &st), &st, "x", "x[17]");
    x[17] = 1.0;
    x[3] = -INFINITY;
    assert_inval(disco_tsa_detect_shesd(x, N, PERIOD, &esd, &a, &st), &st, "x", "x[3] is infinite");
    assert_int_equal(a.count, 0);
    assert_null(a.index);
}

static void test_bad_windows(void **state)
{
    double x[N];
    disco_tsa_stl_config stl = disco_tsa_stl_config_default(PERIOD, 1);
    disco_tsa_esd_config esd = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;
    disco_status st = {0};

    (void)state;
    seasonal_series(x, N);
    assert_inval(disco_tsa_detect_zscore(x, N, 1, 3, &a, &st), &st, "window", "window 1");
    assert_inval(disco_tsa_detect_mad_rolling(x, N, 0, 3.5, &a, &st), &st, "window", "below 2");
    assert_inval(disco_tsa_detect_zscore(x, 10, 10, 3, &a, &st), &st, "n", "too short");
    assert_inval(disco_tsa_detect_mad_rolling(x, 5, 8, 3, &a, &st), &st, "n", "window 8");
    assert_inval(disco_tsa_detect_stl(x, 40, &stl, 3.5, &a, &st), &st, "n", "period 24");
    assert_inval(disco_tsa_detect_shesd(x, 47, PERIOD, &esd, &a, &st), &st, "n", "needs 48");
    assert_inval(disco_tsa_detect_shesd(x, N, 1, &esd, &a, &st), &st, "period", "period 1");
    assert_inval(disco_tsa_detect_mad(x, 2, 3.5, &a, &st), &st, "n", "too short");
    assert_inval(disco_tsa_detect_esd(x, 2, &esd, &a, &st), &st, "n", "too short");
}

static void test_bad_settings(void **state)
{
    double x[N], l;
    disco_tsa_esd_config esd = disco_tsa_esd_config_default();
    disco_tsa_anomalies a;
    disco_status st = {0};

    (void)state;
    seasonal_series(x, N);
    assert_inval(disco_tsa_detect_zscore(x, N, 10, 0, &a, &st), &st, "threshold", "> 0");
    assert_inval(disco_tsa_detect_mad(x, N, NAN, &a, &st), &st, "threshold", "nan");
    assert_inval(disco_tsa_detect_stl(x, N, NULL, 3.5, &a, &st), &st, "stl", "NULL");
    assert_int_equal(disco_tsa_detect_mad(x, N, 3.5, NULL, &st), DISCO_ERR_INVAL);
    assert_inval(disco_tsa_detect_esd(NULL, N, &esd, &a, &st), &st, "x", "NULL");
    esd.max_anoms = 0.6;
    assert_inval(disco_tsa_detect_esd(x, N, &esd, &a, &st), &st, "max_anoms", "0.6");
    esd.max_anoms = 0.1;
    assert_inval(disco_tsa_detect_esd(x, 9, &esd, &a, &st), &st, "max_anoms", "no anomaly");
    esd.alpha = 1.0;
    assert_inval(disco_tsa_detect_shesd(x, N, PERIOD, &esd, &a, &st), &st, "alpha", "alpha 1");
    esd.alpha = 0.05;
    esd.direction = (disco_tsa_direction)7;
    assert_inval(disco_tsa_detect_esd(x, N, &esd, &a, &st), &st, "direction", "7");
    assert_inval(disco_tsa_esd_critical(10, 9, 0.05, DISCO_TSA_BOTH, &l, &st), &st, "i", "step 9");
    assert_inval(disco_tsa_esd_critical(10, 0, 0.05, DISCO_TSA_BOTH, &l, &st), &st, "i", "step 0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_release_empty),
        cmocka_unit_test(test_zscore_spikes),
        cmocka_unit_test(test_zscore_window_excludes_point),
        cmocka_unit_test(test_mad_spikes),
        cmocka_unit_test(test_mad_hand_case),
        cmocka_unit_test(test_mad_rolling_spikes),
        cmocka_unit_test(test_stl_spikes),
        cmocka_unit_test(test_stl_clean),
        cmocka_unit_test(test_shesd_spikes),
        cmocka_unit_test(test_shesd_clean),
        cmocka_unit_test(test_shesd_direction),
        cmocka_unit_test(test_esd_spikes),
        cmocka_unit_test(test_esd_critical_grubbs),
        cmocka_unit_test(test_esd_critical_by_hand),
        cmocka_unit_test(test_esd_rosner),
        cmocka_unit_test(test_constant_series),
        cmocka_unit_test(test_flat_line_spike),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_windows),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests_name("tsa/anomaly", tests, NULL, NULL);
}
