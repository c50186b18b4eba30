/*
 * test_trend.c - polynomial trends: parity with numpy.polyfit (reference
 * files), exact polynomials and their slopes, times far from zero, degree
 * selection by AIC and BIC on noisy data, and bad input.
 */
#include "disco/tsa_trend.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define REF_DIR "../shared/ref/tsa/"

#include "support/tu_num.h"

/* Reads the two numeric columns of a CSV with a header line; returns the row count. */
static size_t read_csv2(const char *path, double *a, double *b, size_t max)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t n = 0;

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    while (n < max && fgets(line, sizeof line, f)) {
        char *end;

        a[n] = strtod(line, &end);
        assert_true(*end == ',');
        b[n] = strtod(end + 1, NULL);
        n++;
    }
    fclose(f);
    return n;
}

static void test_polyfit_matches_numpy(void **state)
{
    static double t[2000], y[2000];
    double k[8], ref[8], worst = 0.0;
    disco_tsa_poly fit;
    size_t n, nref;

    (void)state;
    n = read_csv2(REF_DIR "polyfit_deg3_input.csv", t, y, 2000);
    nref = read_csv2(REF_DIR "polyfit_deg3_coef_highest_first.csv", k, ref, 8);
    assert_int_equal(n, 1001);
    assert_int_equal(nref, 4);
    assert_int_equal(disco_tsa_polyfit(t, y, n, 3, &fit, NULL), DISCO_OK);
    assert_int_equal(fit.degree, 3);
    assert_int_equal(fit.n, 1001);
    for (size_t i = 0; i < nref; i++) {
        double tol = 1e-9 * fmax(1.0, fabs(ref[i]));

        assert_near(fit.coef[i], ref[i], tol);
        worst = fmax(worst, fabs(fit.coef[i] - ref[i]) / fmax(1.0, fabs(ref[i])));
    }
    print_message("polyfit deg 3: largest scaled difference from numpy %.3g\n", worst);
    assert_true(fit.r2 > 0.99 && fit.r2 <= 1.0);
}

static void test_exact_polynomials_and_slopes(void **state)
{
    double t[11], y[11], z[11];
    disco_tsa_poly fit;

    (void)state;
    for (int i = 0; i <= 10; i++) {
        t[i] = i;
        y[i] = t[i] * t[i];
        z[i] = 3.0 + 2.0 * t[i];
    }
    assert_int_equal(disco_tsa_polyfit(t, y, 11, 2, &fit, NULL), DISCO_OK);
    assert_near(fit.coef[0], 1.0, 1e-12);
    assert_near(fit.coef[1], 0.0, 1e-12);
    assert_near(fit.coef[2], 0.0, 1e-11);
    assert_near(fit.slope_end, 20.0, 1e-11);
    assert_near(fit.slope_mean, 10.0, 1e-11);
    assert_near(fit.r2, 1.0, 1e-14);
    assert_true(fit.rss < 1e-20);
    assert_near(disco_tsa_polyval(&fit, 4.5), 20.25, 1e-11);
    assert_near(disco_tsa_polyder(&fit, 4.5), 9.0, 1e-11);
    /* NULL times are the index; exact fits pick the lowest exact degree. */
    assert_int_equal(disco_tsa_trend(NULL, z, 11, 5, DISCO_TSA_AIC, &fit, NULL), DISCO_OK);
    assert_int_equal(fit.degree, 1);
    assert_near(fit.coef[0], 2.0, 1e-12);
    assert_near(fit.coef[1], 3.0, 1e-12);
    assert_near(fit.slope_end, 2.0, 1e-12);
    assert_near(fit.slope_mean, 2.0, 1e-12);
}

static void test_constant_and_single_point(void **state)
{
    double y[5] = {4, 4, 4, 4, 4};
    disco_tsa_poly fit;

    (void)state;
    assert_int_equal(disco_tsa_polyfit(NULL, y, 5, 0, &fit, NULL), DISCO_OK);
    assert_near(fit.coef[0], 4.0, 1e-15);
    assert_true(fit.r2 == 1.0);
    assert_true(fit.slope_end == 0.0 && fit.slope_mean == 0.0);
    assert_int_equal(disco_tsa_trend(NULL, y, 5, 3, DISCO_TSA_BIC, &fit, NULL), DISCO_OK);
    assert_int_equal(fit.degree, 0);
    assert_int_equal(disco_tsa_polyfit(NULL, y, 1, 0, &fit, NULL), DISCO_OK);
    assert_near(fit.coef[0], 4.0, 1e-15);
    assert_true(fit.slope_mean == 0.0);
}

/* Unix seconds: the centred form keeps values and slopes exact. */
static void test_times_far_from_zero(void **state)
{
    double t[100], y[100];
    disco_tsa_poly fit;

    (void)state;
    for (int i = 0; i < 100; i++) {
        t[i] = 1767225600.0 + 60.0 * i;
        y[i] = 10.0 + 0.5 * (t[i] - t[0]) / 86400.0 + 1e-7 * sin(i);
    }
    assert_int_equal(disco_tsa_polyfit(t, y, 100, 1, &fit, NULL), DISCO_OK);
    assert_near(fit.slope_end * 86400.0, 0.5, 1e-5);
    assert_near(fit.slope_mean * 86400.0, 0.5, 1e-5);
    assert_near(disco_tsa_polyval(&fit, t[0]), 10.0, 1e-5);
    assert_near(fit.coef[0] * 86400.0, 0.5, 1e-5);
}

static void noisy_poly(double *t, double *y, size_t n, const double *c, int deg, double sigma)
{
    for (size_t i = 0; i < n; i++) {
        double v = 0.0;

        t[i] = -2.0 + 4.0 * (double)i / (double)(n - 1);
        for (int j = deg; j >= 0; j--)
            v = v * t[i] + c[j];
        y[i] = v + sigma * rng_gauss();
    }
}

static void test_criteria_choose_true_degree(void **state)
{
    static const double c2[] = {1.0, -0.5, 2.0}, c3[] = {0.5, 1.0, -1.5, 0.8};
    double t[300], y[300];
    disco_tsa_poly fit, f2;

    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        rng_state = seed * 7919;
        noisy_poly(t, y, 300, c2, 2, 0.5);
        assert_int_equal(disco_tsa_trend(t, y, 300, 6, DISCO_TSA_BIC, &fit, NULL), DISCO_OK);
        assert_int_equal(fit.degree, 2);
        assert_int_equal(disco_tsa_trend(t, y, 300, 6, DISCO_TSA_AIC, &fit, NULL), DISCO_OK);
        assert_int_equal(fit.degree, 2);
        assert_int_equal(disco_tsa_polyfit(t, y, 300, 2, &f2, NULL), DISCO_OK);
        assert_true(fit.aic == f2.aic && fit.bic == f2.bic);
        assert_near(fit.coef[0], 2.0, 0.15);
        noisy_poly(t, y, 300, c3, 3, 0.5);
        assert_int_equal(disco_tsa_trend(t, y, 300, 6, DISCO_TSA_BIC, &fit, NULL), DISCO_OK);
        assert_int_equal(fit.degree, 3);
        assert_int_equal(disco_tsa_trend(t, y, 300, 6, DISCO_TSA_AIC, &fit, NULL), DISCO_OK);
        assert_int_equal(fit.degree, 3);
    }
}

static void test_criteria_values(void **state)
{
    double y[6] = {1, 3, 2, 5, 4, 6}, llf;
    disco_tsa_poly fit;

    (void)state;
    assert_int_equal(disco_tsa_polyfit(NULL, y, 6, 1, &fit, NULL), DISCO_OK);
    /* Sxy = 15.5, Sxx = TSS = 17.5: slope 31/35, intercept 7/2 - 5/2 * 31/35. */
    assert_near(fit.coef[0], 31.0 / 35.0, 1e-13);
    assert_near(fit.coef[1], 3.5 - 2.5 * 31.0 / 35.0, 1e-13);
    assert_near(fit.rss, 17.5 - 15.5 * 15.5 / 17.5, 1e-12);
    llf = -3.0 * (log(2.0 * M_PI) + log(fit.rss / 6.0) + 1.0);
    assert_near(fit.aic, -2.0 * llf + 4.0, 1e-12);
    assert_near(fit.bic, -2.0 * llf + 2.0 * log(6.0), 1e-12);
    assert_near(fit.r2, 1.0 - fit.rss / 17.5, 1e-13);
}

static void test_bad_input(void **state)
{
    double t[8] = {0, 1, 2, 3, 4, 5, 6, 7}, y[8] = {0};
    disco_tsa_poly fit;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_polyfit(t, NULL, 8, 1, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "y is NULL");
    assert_int_equal(disco_tsa_polyfit(t, y, 8, 1, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_polyfit(t, y, 8, -1, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "degree -1 out of range 0..10");
    assert_int_equal(disco_tsa_polyfit(t, y, 3, 3, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "3 points too few for degree 3: need 4");
    assert_int_equal(disco_tsa_trend(t, y, 5, 4, DISCO_TSA_AIC, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "5 points too few for degree 4: need 6");
    assert_int_equal(disco_tsa_trend(t, y, 8, 2, (disco_tsa_criterion)7, &fit, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "criterion");
    y[6] = NAN;
    assert_int_equal(disco_tsa_polyfit(t, y, 8, 1, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "y[6] is NaN");
    assert_string_equal(st.field, "y");
    y[6] = 0.0;
    t[2] = INFINITY;
    assert_int_equal(disco_tsa_polyfit(t, y, 8, 1, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "t[2] is infinite");
    t[2] = 1.0;
    assert_int_equal(disco_tsa_trend(t, y, 8, 2, DISCO_TSA_BIC, &fit, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "t[2] = 1 is not after t[1] = 1");
    assert_string_equal(st.field, "t");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_polyfit_matches_numpy),
        cmocka_unit_test(test_exact_polynomials_and_slopes),
        cmocka_unit_test(test_constant_and_single_point),
        cmocka_unit_test(test_times_far_from_zero),
        cmocka_unit_test(test_criteria_choose_true_degree),
        cmocka_unit_test(test_criteria_values),
        cmocka_unit_test(test_bad_input),
    };

    return cmocka_run_group_tests_name("tsa/trend", tests, NULL, NULL);
}
