/*
 * test_decompose.c - classical decomposition and STL against statsmodels'
 * outputs, bad input, constant series, and the component strengths.
 *
 * Reference files (columns i,x,trend,seasonal,resid[,weights]; "nan" is NaN):
 *   ../shared/ref/tsa/sd_*.csv                 seasonal_decompose, statsmodels 0.13.5
 *   ../shared/ref/tsa/stl_co2_p12_default.csv  STL(co2, period=12).fit()
 *   tests/tsa/data/stl_co2_p12_{robust,jumps,short}.csv   robust STL with default,
 *     odd (degrees 0, jumps) and short-series settings, made once with Debian's
 *     python3-statsmodels 0.13.5:
 *
 *       import numpy as np
 *       from statsmodels.tsa.seasonal import STL
 *       x = np.loadtxt("../shared/ref/tsa/stl_co2_p12_default.csv", delimiter=",",
 *                      skiprows=1, usecols=1)
 *       def dump(path, y, r):
 *           with open(path, "w") as f:
 *               f.write("i,x,trend,seasonal,resid,weights\n")
 *               for i in range(len(y)):
 *                   f.write("%d,%.17g,%.17g,%.17g,%.17g,%.17g\n" % (i, y[i], r.trend[i],
 *                           r.seasonal[i], r.resid[i], r.weights[i]))
 *       dump("tests/tsa/data/stl_co2_p12_robust.csv", x,
 *            STL(x, period=12, robust=True).fit())
 *       dump("tests/tsa/data/stl_co2_p12_jumps.csv", x[:240],
 *            STL(x[:240], period=12, seasonal=9, trend=31, low_pass=15, seasonal_deg=0,
 *                trend_deg=0, low_pass_deg=1, seasonal_jump=2, trend_jump=3,
 *                low_pass_jump=4, robust=True).fit(inner_iter=2, outer_iter=3))
 *       dump("tests/tsa/data/stl_co2_p12_short.csv", x[:30],
 *            STL(x[:30], period=12, seasonal=11, trend=23, low_pass=13, trend_jump=5,
 *                robust=True).fit())
 *
 * Agreement: |ours - ref| <= 1e-9 * max(1, |ref|), NaN where the reference has NaN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/tsa_decompose.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_DIR "../shared/ref/tsa/"
#define TOL 1e-9
#define MAX_COLS 6

/* A reference table: n rows of up to MAX_COLS columns after the index. */
typedef struct ref_table {
    size_t n, ncols;
    double *col[MAX_COLS]; /* x, trend, seasonal, resid[, weights] */
} ref_table;

static size_t count_fields(const char *line)
{
    size_t k = 1;

    for (; *line && *line != '\n'; line++)
        k += *line == ',';
    return k;
}

static void parse_row(ref_table *t, char *line, size_t row)
{
    char *p = line, *end;

    (void)strtod(p, &end); /* the index column */
    for (size_t c = 0; c < t->ncols; c++) {
        assert_true(*end == ',');
        p = end + 1;
        t->col[c][row] = strtod(p, &end);
        assert_true(end != p);
    }
}

/* Reads a reference CSV; a missing file fails the test with its path. */
static ref_table load_ref(const char *path)
{
    ref_table t = {0};
    char line[1024];
    size_t cap = 1024;
    FILE *f = fopen(path, "r");

    if (!f)
        fail_msg("reference file %s is missing (run from the repository root)", path);
    assert_non_null(fgets(line, sizeof line, f));
    t.ncols = count_fields(line) - 1;
    assert_true(t.ncols >= 4 && t.ncols <= MAX_COLS);
    for (size_t c = 0; c < t.ncols; c++)
        assert_non_null(t.col[c] = malloc(cap * sizeof(double)));
    while (fgets(line, sizeof line, f)) {
        if (t.n == cap) {
            cap *= 2;
            for (size_t c = 0; c < t.ncols; c++)
                assert_non_null(t.col[c] = realloc(t.col[c], cap * sizeof(double)));
        }
        parse_row(&t, line, t.n++);
    }
    fclose(f);
    return t;
}

static void free_ref(ref_table *t)
{
    for (size_t c = 0; c < t->ncols; c++)
        free(t->col[c]);
}

/* Largest scaled error; fails when any value is off by more than tol or NaN-ness differs. */
static double compare_tol(const char *what, const double *got, const double *ref, size_t n,
                          double tol)
{
    double worst = 0;

    for (size_t i = 0; i < n; i++) {
        double scale = fmax(1.0, fabs(ref[i])), err;

        if (isnan(ref[i]) || isnan(got[i])) {
            if (!(isnan(ref[i]) && isnan(got[i])))
                fail_msg("%s[%zu]: got %.17g, want %.17g", what, i, got[i], ref[i]);
            continue;
        }
        err = fabs(got[i] - ref[i]) / scale;
        if (err > tol)
            fail_msg("%s[%zu]: got %.17g, want %.17g", what, i, got[i], ref[i]);
        worst = fmax(worst, err);
    }
    return worst;
}

static double compare(const char *what, const double *got, const double *ref, size_t n)
{
    return compare_tol(what, got, ref, n, TOL);
}

typedef struct sd_case {
    const char *file;
    size_t period;
    disco_tsa_model model;
    int extrapolate;
} sd_case;

static const sd_case SD_CASES[] = {
    {"sd_synth240_p24_add_freq.csv", 24, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_synth240_p24_add_none.csv", 24, DISCO_TSA_ADDITIVE, 0},
    {"sd_synth240_p24_add_ext5.csv", 24, DISCO_TSA_ADDITIVE, 5},
    {"sd_synth240_p24_mul_freq.csv", 24, DISCO_TSA_MULTIPLICATIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_synth250_p24_add_freq.csv", 24, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_synth70_p7_add_freq.csv", 7, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_synth48_p24_add_freq.csv", 24, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_airpassengers_p12_add_freq.csv", 12, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
    {"sd_airpassengers_p12_mul_freq.csv", 12, DISCO_TSA_MULTIPLICATIVE, DISCO_TSA_EXTRAPOLATE_FREQ},
};

static void test_decompose_parity(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof SD_CASES / sizeof SD_CASES[0]; c++) {
        const sd_case *k = &SD_CASES[c];
        char path[256];
        ref_table t;
        double *out, worst;
        disco_status st = {0};

        snprintf(path, sizeof path, REF_DIR "%s", k->file);
        t = load_ref(path);
        assert_non_null(out = malloc(3 * t.n * sizeof *out));
        assert_int_equal(disco_tsa_decompose(t.col[0], t.n, k->period, k->model, k->extrapolate,
                                             out, out + t.n, out + 2 * t.n, &st),
                         DISCO_OK);
        worst = compare("trend", out, t.col[1], t.n);
        worst = fmax(worst, compare("seasonal", out + t.n, t.col[2], t.n));
        worst = fmax(worst, compare("resid", out + 2 * t.n, t.col[3], t.n));
        printf("# %-36s max scaled error %.3g\n", k->file, worst);
        free(out);
        free_ref(&t);
    }
}

/*
 * Parity of one STL reference; the robustness weights are held to
 * `weight_tol` (they are ill-conditioned where residuals are tiny).
 */
static void check_stl_file(const char *path, const disco_tsa_stl_config *cfg, double weight_tol)
{
    ref_table t = load_ref(path);
    double *out, worst;
    disco_status st = {0};

    assert_non_null(out = malloc(4 * t.n * sizeof *out));
    assert_int_equal(
        disco_tsa_stl(t.col[0], t.n, cfg, out, out + t.n, out + 2 * t.n, out + 3 * t.n, &st),
        DISCO_OK);
    worst = compare("trend", out, t.col[1], t.n);
    worst = fmax(worst, compare("seasonal", out + t.n, t.col[2], t.n));
    worst = fmax(worst, compare("resid", out + 2 * t.n, t.col[3], t.n));
    if (t.ncols > 4)
        worst = fmax(worst, compare_tol("weights", out + 3 * t.n, t.col[4], t.n, weight_tol));
    printf("# %-36s max scaled error %.3g\n", strrchr(path, '/') + 1, worst);
    free(out);
    free_ref(&t);
}

static void test_stl_default_parity(void **state)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(12, 0);

    (void)state;
    check_stl_file(REF_DIR "stl_co2_p12_default.csv", &cfg, TOL);
}

static void test_stl_robust_parity(void **state)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(12, 1);

    (void)state;
    check_stl_file("tests/tsa/data/stl_co2_p12_robust.csv", &cfg, TOL);
}

/* Degrees 0, jumps and few outer iterations (see stl_co2_p12_jumps.csv). */
static void test_stl_jumps_parity(void **state)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(12, 1);

    (void)state;
    cfg.seasonal = 9;
    cfg.trend = 31;
    cfg.low_pass = 15;
    cfg.seasonal_deg = cfg.trend_deg = 0;
    cfg.seasonal_jump = 2;
    cfg.trend_jump = 3;
    cfg.low_pass_jump = 4;
    cfg.outer_iter = 3;
    check_stl_file("tests/tsa/data/stl_co2_p12_jumps.csv", &cfg, TOL);
}

/*
 * 30 points: seasonal window wider than each cycle-subseries. Most residuals
 * are ~1e-6 on values ~320, so ulp-level differences in them move the
 * weights by ~1e-8; the components still agree to TOL.
 */
static void test_stl_short_parity(void **state)
{
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(12, 1);

    (void)state;
    cfg.seasonal = 11;
    cfg.trend = 23;
    cfg.trend_jump = 5;
    check_stl_file("tests/tsa/data/stl_co2_p12_short.csv", &cfg, 1e-6);
}

static int decompose_rc(const double *x, size_t n, size_t period, disco_tsa_model model,
                        int extrapolate, disco_status *st)
{
    double out[3 * 64];

    assert_true(n <= 64);
    disco_status_clear(st);
    return disco_tsa_decompose(x, n, period, model, extrapolate, out, out + n, out + 2 * n, st);
}

static void expect_inval(int rc, const disco_status *st, const char *field, const char *part)
{
    assert_int_equal(rc, DISCO_ERR_INVAL);
    assert_string_equal(st->field, field);
    if (!strstr(st->msg, part))
        fail_msg("message \"%s\" does not mention \"%s\"", st->msg, part);
}

static void fill_wave(double *x, size_t n, size_t period)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 10.0 + 0.1 * (double)i + sin(2.0 * M_PI * (double)i / (double)period);
}

static void test_decompose_bad_input(void **state)
{
    double x[64];
    disco_status st;

    (void)state;
    fill_wave(x, 64, 8);
    expect_inval(decompose_rc(x, 64, 1, DISCO_TSA_ADDITIVE, 0, &st), &st, "period", "period 1");
    expect_inval(decompose_rc(x, 15, 8, DISCO_TSA_ADDITIVE, 0, &st), &st, "x", "15 points");
    assert_int_equal(decompose_rc(x, 16, 8, DISCO_TSA_ADDITIVE, 0, &st), DISCO_OK);
    expect_inval(decompose_rc(x, 64, 8, DISCO_TSA_ADDITIVE, -5, &st), &st, "extrapolate", "-5");
    expect_inval(decompose_rc(x, 64, 8, (disco_tsa_model)7, 0, &st), &st, "model", "7");
    x[5] = NAN;
    expect_inval(decompose_rc(x, 64, 8, DISCO_TSA_ADDITIVE, 0, &st), &st, "x", "x[5]");
    x[5] = 1.0;
    x[9] = -INFINITY;
    expect_inval(decompose_rc(x, 64, 8, DISCO_TSA_ADDITIVE, 0, &st), &st, "x", "x[9]");
    x[9] = 0.0;
    assert_int_equal(decompose_rc(x, 64, 8, DISCO_TSA_ADDITIVE, 0, &st), DISCO_OK);
    expect_inval(decompose_rc(x, 64, 8, DISCO_TSA_MULTIPLICATIVE, 0, &st), &st, "x", "x[9]");
    x[9] = -2.0;
    expect_inval(decompose_rc(x, 64, 8, DISCO_TSA_MULTIPLICATIVE, 0, &st), &st, "x", "x[9]");
    assert_int_equal(disco_tsa_decompose(NULL, 64, 8, DISCO_TSA_ADDITIVE, 0, x, x, x, NULL),
                     DISCO_ERR_INVAL);
}

static int stl_rc(const double *x, size_t n, const disco_tsa_stl_config *cfg, disco_status *st)
{
    double out[3 * 64];

    assert_true(n <= 64);
    disco_status_clear(st);
    return disco_tsa_stl(x, n, cfg, out, out + n, out + 2 * n, NULL, st);
}

static void test_stl_bad_input(void **state)
{
    double x[64];
    disco_status st;
    disco_tsa_stl_config c, base = disco_tsa_stl_config_default(8, 0);

    (void)state;
    fill_wave(x, 64, 8);
    assert_int_equal(stl_rc(x, 64, &base, &st), DISCO_OK);
    c = base, c.period = 1;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "period", "period 1");
    expect_inval(stl_rc(x, 15, &base, &st), &st, "x", "15 points");
    c = base, c.seasonal = 8;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "seasonal", "seasonal 8");
    c = base, c.seasonal = 1;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "seasonal", "seasonal 1");
    c = base, c.trend = 7;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "trend", "period 8");
    c = base, c.trend = 12;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "trend", "trend 12");
    c = base, c.low_pass = 8;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "low_pass", "low_pass 8");
    c = base, c.trend_deg = 2;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "trend_deg", "trend_deg 2");
    c = base, c.low_pass_jump = 0;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "low_pass_jump", "low_pass_jump");
    c = base, c.inner_iter = 0;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "inner_iter", "inner_iter 0");
    c = base, c.outer_iter = -1;
    expect_inval(stl_rc(x, 64, &c, &st), &st, "outer_iter", "outer_iter -1");
    x[40] = INFINITY;
    expect_inval(stl_rc(x, 64, &base, &st), &st, "x", "x[40]");
}

static void assert_all_near(const double *v, size_t n, double want, double tol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(v[i] - want) <= tol))
            fail_msg("[%zu] = %.17g, want %.17g", i, v[i], want);
}

static void test_constant_series(void **state)
{
    enum { N = 60, P = 12 };
    double x[N], t[N], s[N], r[N], w[N];
    disco_tsa_stl_config cfg = disco_tsa_stl_config_default(P, 1);

    (void)state;
    for (size_t i = 0; i < N; i++)
        x[i] = 5.0;
    assert_int_equal(
        disco_tsa_decompose(x, N, P, DISCO_TSA_ADDITIVE, DISCO_TSA_EXTRAPOLATE_FREQ, t, s, r, NULL),
        DISCO_OK);
    assert_all_near(t, N, 5.0, 1e-12);
    assert_all_near(s, N, 0.0, 1e-12);
    assert_all_near(r, N, 0.0, 1e-12);
    assert_int_equal(disco_tsa_decompose(x, N, P, DISCO_TSA_MULTIPLICATIVE, 0, t, s, r, NULL),
                     DISCO_OK);
    assert_true(isnan(t[0]) && isnan(r[N - 1]));
    assert_all_near(t + P / 2, N - P, 5.0, 1e-12);
    assert_all_near(s, N, 1.0, 1e-12);
    assert_all_near(r + P / 2, N - P, 1.0, 1e-12);
    assert_int_equal(disco_tsa_stl(x, N, &cfg, t, s, r, w, NULL), DISCO_OK);
    assert_all_near(t, N, 5.0, 1e-9);
    assert_all_near(s, N, 0.0, 1e-9);
    assert_all_near(r, N, 0.0, 1e-9);
    for (size_t i = 0; i < N; i++) /* residuals are rounding noise: weights are arbitrary */
        assert_true(w[i] >= 0.0 && w[i] <= 1.0);
}

static void test_strengths_exact(void **state)
{
    const double s[4] = {1, -1, 1, -1}, r[4] = {1, 1, -1, -1};
    const double t[4] = {0, 1, 2, 3}, r2[4] = {1, -1, 1, -1};
    const double tn[6] = {NAN, 0, 1, 2, 3, NAN}, rn[6] = {7, 1, -1, 1, -1, NAN};
    const double zero[4] = {0, 0, 0, 0};

    (void)state;
    assert_true(fabs(disco_tsa_seasonal_strength(s, r, 4) - 0.5) < 1e-15);
    assert_true(fabs(disco_tsa_trend_strength(t, r2, 4) - 0.2) < 1e-15);
    assert_true(fabs(disco_tsa_trend_strength(tn, rn, 6) - 0.2) < 1e-15);
    assert_true(disco_tsa_seasonal_strength(zero, r, 4) == 0.0);
    assert_true(disco_tsa_seasonal_strength(zero, zero, 4) == 0.0);
    assert_true(disco_tsa_trend_strength(t, r2, 1) == 0.0);
}

/* A strongly seasonal series decomposes into a high F_S; pure noise into a low one. */
static void test_strengths_of_decomposition(void **state)
{
    enum { N = 240, P = 12 };
    double x[N], t[N], s[N], r[N];
    uint64_t rng = 0x9E3779B97F4A7C15u;

    (void)state;
    for (size_t i = 0; i < N; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        x[i] = 0.05 * (double)i + 3.0 * sin(2.0 * M_PI * (double)i / P) +
               0.2 * ((double)(rng >> 11) * 0x1p-53 - 0.5);
    }
    assert_int_equal(disco_tsa_decompose(x, N, P, DISCO_TSA_ADDITIVE, 0, t, s, r, NULL), DISCO_OK);
    assert_true(disco_tsa_seasonal_strength(s, r, N) > 0.99);
    assert_true(disco_tsa_trend_strength(t, r, N) > 0.99);
    for (size_t i = 0; i < N; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        x[i] = (double)(rng >> 11) * 0x1p-53;
    }
    assert_int_equal(disco_tsa_decompose(x, N, P, DISCO_TSA_ADDITIVE, 0, t, s, r, NULL), DISCO_OK);
    assert_true(disco_tsa_seasonal_strength(s, r, N) < 0.3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decompose_parity),  cmocka_unit_test(test_stl_default_parity),
        cmocka_unit_test(test_stl_robust_parity), cmocka_unit_test(test_stl_jumps_parity),
        cmocka_unit_test(test_stl_short_parity),  cmocka_unit_test(test_decompose_bad_input),
        cmocka_unit_test(test_stl_bad_input),     cmocka_unit_test(test_constant_series),
        cmocka_unit_test(test_strengths_exact),   cmocka_unit_test(test_strengths_of_decomposition),
    };

    return cmocka_run_group_tests_name("tsa/decompose", tests, NULL, NULL);
}
