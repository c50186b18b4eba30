/*
 * test_spectral.c - periodogram against a direct DFT, dominant periods of
 * known sinusoids, Fisher's g test (exact values, sinusoids, white noise),
 * constant series, bad input, and concurrent use of the plan cache.
 */
#include "disco/tsa_spectral.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/tu_num.h"

static void sinusoid(double *x, size_t n, double period, double amp, double noise)
{
    for (size_t i = 0; i < n; i++)
        x[i] += amp * sin(2.0 * M_PI * (double)i / period + 0.3) + noise * rng_gauss();
}

static void test_periodogram_matches_direct_dft(void **state)
{
    static const size_t sizes[] = {4, 9, 10, 17};
    double x[17], power[9];

    (void)state;
    rng_state = 7;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        double mean = 0.0;

        for (size_t i = 0; i < n; i++)
            mean += (x[i] = 5.0 + rng_gauss()) / (double)n;
        assert_int_equal(disco_tsa_periodogram(x, n, power, NULL), DISCO_OK);
        assert_true(power[0] == 0.0);
        for (size_t k = 1; k <= n / 2; k++) {
            double re = 0.0, im = 0.0;

            for (size_t i = 0; i < n; i++) {
                re += (x[i] - mean) * cos(2.0 * M_PI * (double)(k * i) / (double)n);
                im -= (x[i] - mean) * sin(2.0 * M_PI * (double)(k * i) / (double)n);
            }
            assert_near(power[k], (re * re + im * im) / (double)n, 1e-12);
        }
    }
}

static void test_sinusoid_period_recovered(void **state)
{
    double x[240] = {0};
    disco_tsa_cycles c;

    (void)state;
    rng_state = 11;
    sinusoid(x, 240, 24.0, 3.0, 0.5);
    assert_int_equal(disco_tsa_find_cycles(x, 240, NULL, &c, NULL), DISCO_OK);
    assert_int_equal(c.n, 240);
    assert_true(c.npeaks >= 1);
    assert_int_equal(c.peaks[0].bin, 10);
    assert_near(c.peaks[0].period, 24.0, 1e-12);
    assert_near(c.peaks[0].frequency, 1.0 / 24.0, 1e-12);
    assert_true(c.peaks[0].share > 0.9 && c.peaks[0].share <= 1.0);
    assert_int_equal(c.fisher_bin, 10);
    assert_true(c.fisher_g > 0.9);
    assert_true(c.p_value < 1e-100);
    assert_true(c.has_cycle);
}

static void test_two_cycles_ordered_by_power(void **state)
{
    double x[480] = {0}, total = 0.0;
    disco_tsa_cycles_config cfg = disco_tsa_cycles_config_default();
    disco_tsa_cycles c;

    (void)state;
    rng_state = 12;
    sinusoid(x, 480, 24.0, 2.0, 0.2);
    sinusoid(x, 480, 8.0, 1.0, 0.0);
    cfg.max_peaks = 2;
    assert_int_equal(disco_tsa_find_cycles(x, 480, &cfg, &c, NULL), DISCO_OK);
    assert_int_equal(c.npeaks, 2);
    assert_near(c.peaks[0].period, 24.0, 1e-12);
    assert_near(c.peaks[1].period, 8.0, 1e-12);
    assert_true(c.peaks[0].power > c.peaks[1].power);
    /* Variance 2 + 0.5 + noise 0.04: shares near 0.78 and 0.20. */
    assert_near(c.peaks[0].share, 2.0 / 2.54, 0.02);
    assert_near(c.peaks[1].share, 0.5 / 2.54, 0.02);
    total = c.peaks[0].share + c.peaks[1].share;
    assert_true(total < 1.0);
    assert_true(c.has_cycle);
}

static void test_white_noise_not_significant(void **state)
{
    double x[512];
    disco_tsa_cycles c;

    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        rng_state = seed * 1000003;
        for (size_t i = 0; i < 512; i++)
            x[i] = 10.0 + rng_gauss();
        assert_int_equal(disco_tsa_find_cycles(x, 512, NULL, &c, NULL), DISCO_OK);
        assert_true(c.p_value > 0.05);
        assert_false(c.has_cycle);
        assert_true(c.npeaks == 3);
        assert_true(c.peaks[0].share < 0.05);
    }
}

static void test_fisher_p_exact_values(void **state)
{
    (void)state;
    /* Exact values from the finite sum in rational arithmetic. */
    assert_near(disco_tsa_fisher_p(0.6, 2), 0.8, 1e-15);
    assert_near(disco_tsa_fisher_p(0.3, 10), 0.39173971, 1e-12);
    assert_near(disco_tsa_fisher_p(0.1, 100), 0.002950006201770899, 1e-15);
    assert_near(disco_tsa_fisher_p(0.05, 200), 0.007363920940769845, 1e-15);
    assert_near(disco_tsa_fisher_p(0.02, 500), 0.020753832974011635, 1e-13);
    assert_true(disco_tsa_fisher_p(0.5, 1) == 1.0);
    assert_true(disco_tsa_fisher_p(0.1, 10) == 1.0);
    assert_true(disco_tsa_fisher_p(1.0, 10) == 0.0);
    for (double g = 0.002; g < 0.05; g *= 1.1) {
        double p = disco_tsa_fisher_p(g, 1000);

        assert_true(p >= 0.0 && p <= 1.0);
    }
}

static void test_period_beyond_min_cycles_is_no_cycle(void **state)
{
    double x[100] = {0};
    disco_tsa_cycles_config cfg = disco_tsa_cycles_config_default();
    disco_tsa_cycles c;

    (void)state;
    rng_state = 5;
    sinusoid(x, 100, 100.0, 5.0, 0.1); /* one cycle in the window: a trend, not a cycle */
    assert_int_equal(disco_tsa_find_cycles(x, 100, &cfg, &c, NULL), DISCO_OK);
    assert_int_equal(c.fisher_bin, 1);
    assert_true(c.p_value < 1e-10);
    assert_false(c.has_cycle);
    cfg.min_cycles = 1;
    assert_int_equal(disco_tsa_find_cycles(x, 100, &cfg, &c, NULL), DISCO_OK);
    assert_true(c.has_cycle);
}

static void test_constant_and_short_series(void **state)
{
    double x[64], power[33];
    disco_tsa_cycles c;

    (void)state;
    for (size_t i = 0; i < 64; i++)
        x[i] = 0.1;
    assert_int_equal(disco_tsa_find_cycles(x, 64, NULL, &c, NULL), DISCO_OK);
    assert_int_equal(c.npeaks, 0);
    assert_true(c.fisher_g == 0.0);
    assert_true(c.p_value == 1.0);
    assert_false(c.has_cycle);
    assert_int_equal(disco_tsa_periodogram(x, 64, power, NULL), DISCO_OK);
    for (size_t k = 0; k < 33; k++)
        assert_true(power[k] == 0.0);
    x[0] = 1.0, x[1] = -1.0, x[2] = 1.0, x[3] = -1.0;
    assert_int_equal(disco_tsa_find_cycles(x, 4, NULL, &c, NULL), DISCO_OK);
    assert_int_equal(c.npeaks, 1);
    assert_int_equal(c.peaks[0].bin, 2);
    assert_near(c.peaks[0].share, 1.0, 1e-12);
    assert_true(c.p_value == 1.0);
}

static void test_bad_input(void **state)
{
    double x[16] = {0}, power[9];
    disco_tsa_cycles_config cfg = disco_tsa_cycles_config_default();
    disco_tsa_cycles c;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_find_cycles(x, 3, NULL, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "series of 3 samples too short: cycles need at least 4");
    assert_int_equal(disco_tsa_find_cycles(NULL, 16, NULL, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "x is NULL");
    assert_int_equal(disco_tsa_find_cycles(x, 16, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_periodogram(x, 16, NULL, &st), DISCO_ERR_INVAL);
    x[5] = NAN;
    assert_int_equal(disco_tsa_find_cycles(x, 16, NULL, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "x[5] is NaN");
    assert_string_equal(st.field, "x");
    x[5] = 0.0;
    x[9] = -INFINITY;
    assert_int_equal(disco_tsa_periodogram(x, 16, power, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "x[9] is infinite");
    x[9] = 0.0;
    cfg.max_peaks = 0;
    assert_int_equal(disco_tsa_find_cycles(x, 16, &cfg, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "max_peaks 0 out of range 1..16");
    cfg = disco_tsa_cycles_config_default();
    cfg.alpha = 1.5;
    assert_int_equal(disco_tsa_find_cycles(x, 16, &cfg, &c, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "alpha");
}

typedef struct job {
    size_t first;
    int failures;
} job;

/* Forty lengths: more than the cache holds, so one-off plans are made too. */
static void *cycles_worker(void *arg)
{
    job *j = arg;
    double x[200];
    disco_tsa_cycles c;

    for (size_t n = j->first; n < j->first + 40; n++) {
        for (size_t i = 0; i < n; i++)
            x[i] = sin(2.0 * M_PI * (double)i / 10.0);
        if (disco_tsa_find_cycles(x, n, NULL, &c, NULL) != DISCO_OK ||
            fabs(c.peaks[0].period - 10.0) > 1.0)
            j->failures++;
    }
    return NULL;
}

static void test_concurrent_plans(void **state)
{
    pthread_t th[4];
    job jobs[4];

    (void)state;
    disco_tsa_spectral_cleanup();
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){.first = 100 + (size_t)i * 10, .failures = 0};
        assert_int_equal(pthread_create(&th[i], NULL, cycles_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(jobs[i].failures, 0);
    }
    disco_tsa_spectral_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periodogram_matches_direct_dft),
        cmocka_unit_test(test_sinusoid_period_recovered),
        cmocka_unit_test(test_two_cycles_ordered_by_power),
        cmocka_unit_test(test_white_noise_not_significant),
        cmocka_unit_test(test_fisher_p_exact_values),
        cmocka_unit_test(test_period_beyond_min_cycles_is_no_cycle),
        cmocka_unit_test(test_constant_and_short_series),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_concurrent_plans),
    };
    int rc = cmocka_run_group_tests_name("tsa/spectral", tests, NULL, NULL);

    disco_tsa_spectral_cleanup();
    return rc;
}
