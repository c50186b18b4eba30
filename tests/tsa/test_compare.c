/*
 * test_compare.c - alignment and comparison of series: DTW against
 * dtaidistance's results (../shared/ref/tsa/dtw_ref.csv) and against a
 * plain full-matrix DTW written here (window, psi, max_dist, pruning on
 * random series), LB_Keogh as a lower bound, the pairwise matrix,
 * resampling, grid choice, lag recovery, Pearson and Spearman values and
 * p-values worked out by hand, co-movement, rolling correlation, and bad
 * input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/tsa_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REF_CSV "../shared/ref/tsa/dtw_ref.csv"
#define MAXLEN 128

static uint64_t g_rng = 0x2545F4914F6CDD1Du;

static double rnd01(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (double)(g_rng >> 11) * 0x1p-53;
}

static void random_walk(double *v, size_t n)
{
    double x = 0.0;

    for (size_t i = 0; i < n; i++) {
        x += rnd01() - 0.5;
        v[i] = x;
    }
}

static int close_rel(double a, double b, double tol)
{
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= tol * fmax(1.0, fabs(b));
}

/*
 * Full-matrix DTW with the same meaning of window, psi and max_dist, kept
 * as plain as possible: D[i + 1][j + 1] for s1[i] against s2[j].
 */
static double dtw_plain(const double *s1, size_t n, const double *s2, size_t m, size_t window,
                        size_t psi, double max_dist)
{
    size_t longest = n > m ? n : m;
    size_t w = window == 0 || window > longest ? longest : window;
    long a = (long)((n > m ? n - m : 0) + w - 1), b = (long)((m > n ? m - n : 0) + w - 1);
    double *D = malloc((n + 1) * (m + 1) * sizeof *D), best = INFINITY;

#define CELL(i, j) D[(size_t)(i) * (m + 1) + (size_t)(j)]
    for (size_t i = 0; i <= n; i++)
        for (size_t j = 0; j <= m; j++)
            CELL(i, j) = INFINITY;
    for (size_t j = 0; j <= m && j <= psi; j++)
        CELL(0, j) = 0.0;
    for (size_t i = 0; i < n && i < psi; i++)
        if ((long)i - a <= 0)
            CELL(i + 1, 0) = 0.0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < m; j++) {
            double d = s1[i] - s2[j], prev;

            if ((long)j < (long)i - a || (long)j > (long)i + b)
                continue;
            prev = fmin(CELL(i, j), fmin(CELL(i, j + 1), CELL(i + 1, j)));
            CELL(i + 1, j + 1) = d * d + prev;
        }
    }
    for (size_t j = m > psi ? m - psi : 1; j <= m; j++)
        best = fmin(best, CELL(n, j));
    for (size_t i = n > psi ? n - psi : 1; i <= n; i++)
        best = fmin(best, CELL(i, m));
#undef CELL
    free(D);
    if (max_dist > 0.0 && best > max_dist * max_dist)
        return INFINITY;
    return sqrt(best);
}

static double dtw_of(const double *s1, size_t n, const double *s2, size_t m,
                     const disco_tsa_dtw_config *cfg)
{
    double scratch[DISCO_TSA_DTW_SCRATCH(MAXLEN)], d = -1.0;
    disco_status st = {0};

    assert_true(m <= MAXLEN);
    assert_int_equal(disco_tsa_dtw(s1, n, s2, m, cfg, scratch, &d, &st), DISCO_OK);
    return d;
}

static size_t parse_series(char *text, double *v, size_t cap)
{
    size_t n = 0;
    char *save = NULL;

    for (char *t = strtok_r(text, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        assert_true(n < cap);
        v[n++] = strtod(t, NULL);
    }
    return n;
}

/* Splits a CSV line of 6 fields in place. */
static void split6(char *line, char *f[6])
{
    line[strcspn(line, "\r\n")] = '\0';
    for (int i = 0; i < 6; i++) {
        char *comma = strchr(line, ',');

        f[i] = line;
        if (comma) {
            *comma = '\0';
            line = comma + 1;
        }
    }
}

static void test_dtw_reference(void **state)
{
    FILE *f = fopen(REF_CSV, "r");
    static char line[1 << 16];
    double s1[MAXLEN], s2[MAXLEN], worst = 0.0;
    int rows = 0;

    (void)state;
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
        char *fld[6];
        double ref_d, ref_s, d;
        size_t n, m;

        split6(line, fld);
        ref_d = strtod(fld[2], NULL);
        ref_s = strtod(fld[3], NULL);
        cfg.window = fld[1][0] ? (size_t)strtoul(fld[1], NULL, 10) : 0;
        n = parse_series(fld[4], s1, MAXLEN);
        m = parse_series(fld[5], s2, MAXLEN);
        d = dtw_of(s1, n, s2, m, &cfg);
        worst = fmax(worst, fabs(d - ref_d) / fmax(1.0, fabs(ref_d)));
        if (!close_rel(d, ref_d, 1e-9) || !close_rel(disco_tsa_dtw_similarity(d), ref_s, 1e-9))
            fail_msg("%s: distance %.17g similarity %.17g, reference %.17g %.17g", fld[0], d,
                     disco_tsa_dtw_similarity(d), ref_d, ref_s);
        /* DTW is symmetric, and pruning must not change the answer. */
        assert_true(close_rel(dtw_of(s2, m, s1, n, &cfg), ref_d, 1e-9));
        cfg.prune = 1;
        assert_true(close_rel(dtw_of(s1, n, s2, m, &cfg), ref_d, 1e-9));
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, 11);
    print_message("dtw_ref.csv: %d rows, worst relative error %.3g\n", rows, worst);
}

/* Random lengths, windows, psi and bounds against the plain full matrix. */
static void test_dtw_against_plain(void **state)
{
    double s1[MAXLEN], s2[MAXLEN];

    (void)state;
    for (int trial = 0; trial < 400; trial++) {
        disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
        size_t n = 1 + (size_t)(rnd01() * 40), m = 1 + (size_t)(rnd01() * 40);
        double want, got;

        random_walk(s1, n);
        random_walk(s2, m);
        cfg.window = (size_t)(rnd01() * 12);
        cfg.psi = trial % 3 == 0 ? (size_t)(rnd01() * 5) : 0;
        want = dtw_plain(s1, n, s2, m, cfg.window, cfg.psi, 0.0);
        cfg.max_dist = trial % 2 ? want * (0.5 + rnd01()) : 0.0;
        cfg.prune = trial % 4 == 1;
        want = dtw_plain(s1, n, s2, m, cfg.window, cfg.psi, cfg.max_dist);
        got = dtw_of(s1, n, s2, m, &cfg);
        if (!close_rel(got, want, 1e-12))
            fail_msg("trial %d n %zu m %zu window %zu psi %zu max_dist %g: %.17g, want %.17g",
                     trial, n, m, cfg.window, cfg.psi, cfg.max_dist, got, want);
    }
}

static void test_dtw_window(void **state)
{
    double s1[60], s2[60], euclid = 0.0, prev = INFINITY;
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();

    (void)state;
    random_walk(s1, 60);
    random_walk(s2, 60);
    for (int i = 0; i < 60; i++)
        euclid += (s1[i] - s2[i]) * (s1[i] - s2[i]);
    cfg.window = 1;
    assert_true(close_rel(dtw_of(s1, 60, s2, 60, &cfg), sqrt(euclid), 1e-12));
    /* A wider band can only find a cheaper path; a band wider than the series is no band. */
    for (size_t w = 1; w <= 61; w++) {
        double d;

        cfg.window = w;
        d = dtw_of(s1, 60, s2, 60, &cfg);
        assert_true(d <= prev);
        prev = d;
    }
    cfg.window = 0;
    assert_true(dtw_of(s1, 60, s2, 60, &cfg) == prev);
    cfg.window = 1000;
    assert_true(dtw_of(s1, 60, s2, 60, &cfg) == prev);
}

static void test_dtw_psi(void **state)
{
    /* s2 is s1 without its first two points, with two others at the end. */
    const double s1[] = {5, 5, 0, 1, 2, 3}, s2[] = {0, 1, 2, 3, 9, 9};
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();

    (void)state;
    assert_true(dtw_of(s1, 6, s2, 6, &cfg) > 5.0);
    cfg.psi = 1;
    assert_true(dtw_of(s1, 6, s2, 6, &cfg) > 0.0);
    cfg.psi = 2;
    assert_true(dtw_of(s1, 6, s2, 6, &cfg) == 0.0);
    assert_true(dtw_of(s2, 6, s1, 6, &cfg) == 0.0);
    cfg.psi = 100; /* more than the series: everything may be skipped but one point */
    assert_true(dtw_of(s1, 6, s2, 6, &cfg) == 0.0);
}

static void test_dtw_max_dist(void **state)
{
    const double s1[] = {0, 0, 1, 2, 1, 0, 1, 0, 0}, s2[] = {0, 1, 2, 0, 0, 0, 0, 0, 0};
    double big1[MAXLEN], big2[MAXLEN];
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();

    (void)state;
    cfg.max_dist = 1.5; /* the distance is sqrt(2) */
    assert_true(close_rel(dtw_of(s1, 9, s2, 9, &cfg), sqrt(2.0), 1e-15));
    cfg.max_dist = 1.4;
    assert_true(isinf(dtw_of(s1, 9, s2, 9, &cfg)));
    assert_true(disco_tsa_dtw_similarity(INFINITY) == 0.0);
    cfg.max_dist = INFINITY;
    assert_true(close_rel(dtw_of(s1, 9, s2, 9, &cfg), sqrt(2.0), 1e-15));
    /* Far apart series: abandoned early, still +Inf. */
    for (int i = 0; i < MAXLEN; i++) {
        big1[i] = rnd01();
        big2[i] = 100.0 + rnd01();
    }
    cfg.max_dist = 10.0;
    assert_true(isinf(dtw_of(big1, MAXLEN, big2, MAXLEN, &cfg)));
    cfg.max_dist = 0.0;
    assert_true(dtw_of(big1, MAXLEN, big2, MAXLEN, &cfg) > 1000.0);
}

static void test_lb_keogh(void **state)
{
    double s1[MAXLEN], s2[MAXLEN], lower[MAXLEN], upper[MAXLEN];
    size_t work[MAXLEN];

    (void)state;
    for (int trial = 0; trial < 500; trial++) {
        disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
        size_t n = 1 + (size_t)(rnd01() * 100), m = 1 + (size_t)(rnd01() * 100);
        double lb, d;

        random_walk(s1, n);
        random_walk(s2, m);
        cfg.window = (size_t)(rnd01() * 20);
        assert_int_equal(disco_tsa_lb_envelope(s2, m, n, cfg.window, lower, upper, work, NULL),
                         DISCO_OK);
        lb = disco_tsa_lb_keogh(s1, n, lower, upper);
        d = dtw_of(s1, n, s2, m, &cfg);
        if (!(lb <= d * (1.0 + 1e-12)))
            fail_msg("trial %d: LB_Keogh %.17g above DTW %.17g", trial, lb, d);
    }
}

/* Envelope against a direct min/max over each row's band. */
static void test_lb_envelope(void **state)
{
    const double s[] = {3, 1, 4, 1, 5, 9, 2, 6};
    double lower[10], upper[10];
    size_t work[8];

    (void)state;
    assert_int_equal(disco_tsa_lb_envelope(s, 8, 8, 2, lower, upper, work, NULL), DISCO_OK);
    {
        const double lo[] = {1, 1, 1, 1, 1, 2, 2, 2}, hi[] = {3, 4, 4, 5, 9, 9, 9, 6};

        for (int i = 0; i < 8; i++) {
            assert_true(lower[i] == lo[i]);
            assert_true(upper[i] == hi[i]);
        }
    }
    /* A query of 10 points widens the band by 2 on the left. */
    assert_int_equal(disco_tsa_lb_envelope(s, 8, 10, 1, lower, upper, work, NULL), DISCO_OK);
    assert_true(lower[2] == 1 && upper[2] == 4);
    assert_true(lower[8] == 2 && upper[8] == 6 && lower[9] == 6 && upper[9] == 6);
    assert_true(disco_tsa_lb_keogh((const double[]){3, 1, 4}, 3, (const double[]){3, 1, 4},
                                   (const double[]){3, 1, 4}) == 0.0);
    assert_true(disco_tsa_lb_keogh((const double[]){0, 5}, 2, (const double[]){3, 1},
                                   (const double[]){4, 1}) == 5.0);
}

static void check_matrix(double *const *series, const size_t *lens, size_t k,
                         const disco_tsa_dtw_config *cfg, disco_pool *pool)
{
    double *out = malloc(k * k * sizeof *out);
    disco_status st = {0};

    assert_int_equal(
        disco_tsa_dtw_matrix((const double *const *)series, lens, k, cfg, pool, out, &st),
        DISCO_OK);
    for (size_t i = 0; i < k; i++) {
        assert_true(out[i * k + i] == 0.0);
        for (size_t j = 0; j < k; j++) {
            double single = i == j ? 0.0 : dtw_of(series[i], lens[i], series[j], lens[j], cfg);

            assert_true(out[i * k + j] == out[j * k + i]);
            if (!(out[i * k + j] == single))
                fail_msg("[%zu][%zu] %.17g, single call %.17g", i, j, out[i * k + j], single);
        }
    }
    free(out);
}

static void test_dtw_matrix(void **state)
{
    enum { K = 13 };
    double *series[K];
    size_t lens[K];
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
    disco_pool *pool = NULL;

    (void)state;
    for (int i = 0; i < K; i++) {
        lens[i] = i % 4 == 3 ? 50 : 64;
        series[i] = malloc(lens[i] * sizeof **series);
        random_walk(series[i], lens[i]);
    }
    assert_int_equal(disco_pool_new(3, &pool), DISCO_OK);
    check_matrix(series, lens, K, &cfg, NULL);
    check_matrix(series, lens, K, &cfg, pool);
    cfg.window = 8;
    check_matrix(series, lens, K, &cfg, pool);
    /* Pruning by LB_Keogh and max_dist: the single calls give +Inf for the same pairs. */
    cfg.prune = 1;
    cfg.max_dist = 3.0;
    check_matrix(series, lens, K, &cfg, pool);
    check_matrix(series, lens, 1, &cfg, pool);
    disco_pool_free(pool);
    for (int i = 0; i < K; i++)
        free(series[i]);
}

static void test_resample(void **state)
{
    const int64_t ts[] = {1000, 2000, 4000, 5000};
    const double v[] = {1.0, 3.0, 7.0, NAN};
    disco_tsa_grid grid = {500, 500, 10}; /* 500, 1000, ..., 5000 */
    double out[10];

    (void)state;
    assert_int_equal(disco_tsa_resample(ts, v, 4, &grid, DISCO_TSA_FILL_LINEAR, out, NULL),
                     DISCO_OK);
    {
        const double want[] = {NAN, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, NAN, NAN};

        for (int i = 0; i < 10; i++)
            assert_true(isnan(want[i]) ? isnan(out[i]) : out[i] == want[i]);
    }
    assert_int_equal(disco_tsa_resample(ts, v, 4, &grid, DISCO_TSA_FILL_PREVIOUS, out, NULL),
                     DISCO_OK);
    {
        const double want[] = {NAN, 1.0, 1.0, 3.0, 3.0, 3.0, 3.0, 7.0, 7.0, NAN};

        for (int i = 0; i < 10; i++)
            assert_true(isnan(want[i]) ? isnan(out[i]) : out[i] == want[i]);
    }
    /* Past the last point is NaN in both modes. */
    grid = (disco_tsa_grid){4000, 1500, 2};
    assert_int_equal(disco_tsa_resample(ts, v, 3, &grid, DISCO_TSA_FILL_PREVIOUS, out, NULL),
                     DISCO_OK);
    assert_true(out[0] == 7.0 && isnan(out[1]));
    /* A single point is defined only at its own time. */
    grid = (disco_tsa_grid){999, 1, 3};
    assert_int_equal(disco_tsa_resample(ts, v, 1, &grid, DISCO_TSA_FILL_LINEAR, out, NULL),
                     DISCO_OK);
    assert_true(isnan(out[0]) && out[1] == 1.0 && isnan(out[2]));
}

static void test_grid_choose(void **state)
{
    const int64_t ta[] = {0, 10, 20, 30, 40, 50}, tb[] = {15, 25, 35, 45, 55, 65};
    const int64_t tc[] = {5, 25, 45};
    const double v[] = {0, 0, 0, 0, 0, 0};
    disco_tsa_series s[3] = {{ta, v, 6}, {tb, v, 6}, {tc, v, 3}};
    disco_tsa_grid g;
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_grid_choose(s, 3, &g, &st), DISCO_OK);
    /* overlap [15, 45]; steps: ten 10s and two 20s, median 10 */
    assert_true(g.start == 15 && g.step == 10 && g.count == 4);
    s[2].ts = (const int64_t[]){60, 70};
    s[2].n = 2;
    assert_int_equal(disco_tsa_grid_choose(s, 3, &g, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "do not overlap"));
    s[0].ts = (const int64_t[]){0, 10, 10};
    s[0].n = 3;
    assert_int_equal(disco_tsa_grid_choose(s, 1, &g, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "series[0]: timestamp 2"));
    s[0].n = 1;
    assert_int_equal(disco_tsa_grid_choose(s, 1, &g, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_grid_choose(s, 0, &g, &st), DISCO_ERR_INVAL);
}

static void test_lag(void **state)
{
    enum { N = 300, PAD = 20 };
    double buf[N + 2 * PAD], *x = buf + PAD, y[N], z[N], corr = 0.0;
    long lag = 0;

    (void)state;
    random_walk(buf, N + 2 * PAD);
    for (int t = 0; t < N; t++) {
        y[t] = 2.0 * x[t - 7] + 1.0; /* y lags x by 7 */
        z[t] = x[t + 4];             /* z leads x by 4 */
    }
    assert_int_equal(disco_tsa_lag(x, y, N, 15, &lag, &corr, NULL), DISCO_OK);
    assert_int_equal(lag, 7);
    assert_true(close_rel(corr, 1.0, 1e-12));
    assert_int_equal(disco_tsa_lag(x, z, N, 15, &lag, &corr, NULL), DISCO_OK);
    assert_int_equal(lag, -4);
    assert_true(close_rel(corr, 1.0, 1e-12));
    assert_int_equal(disco_tsa_lag(x, x, N, 0, &lag, &corr, NULL), DISCO_OK);
    assert_int_equal(lag, 0);
    assert_int_equal(disco_tsa_lag(x, y, N, N - 2, &lag, &corr, NULL), DISCO_ERR_INVAL);
}

static void test_pearson(void **state)
{
    disco_tsa_corr c;
    double x[50], y[50];

    (void)state;
    /* r = 1/2, t = 1/sqrt(3), df 1 (Cauchy): p = 1 - (2/pi) atan(1/sqrt(3)) = 2/3 */
    assert_int_equal(
        disco_tsa_pearson((const double[]){1, 2, 3}, (const double[]){1, 3, 2}, 3, &c, NULL),
        DISCO_OK);
    assert_true(close_rel(c.r, 0.5, 1e-15) && close_rel(c.p, 2.0 / 3.0, 1e-12) && c.n == 3);
    /* r = 4/5, t^2 = 32/9, df 2: p = 1 - t / sqrt(t^2 + 2) = 1/5 */
    assert_int_equal(
        disco_tsa_pearson((const double[]){1, 2, 3, 4}, (const double[]){1, 3, 2, 4}, 4, &c, NULL),
        DISCO_OK);
    assert_true(close_rel(c.r, 0.8, 1e-15) && close_rel(c.p, 0.2, 1e-12));
    /* NaN pairs are skipped: the same answer with two extra NaN pairs. */
    assert_int_equal(disco_tsa_pearson((const double[]){1, NAN, 2, 3, 5, 4},
                                       (const double[]){1, 7, 3, 2, NAN, 4}, 6, &c, NULL),
                     DISCO_OK);
    assert_true(close_rel(c.r, 0.8, 1e-15) && c.n == 4);
    for (int i = 0; i < 50; i++) {
        x[i] = rnd01();
        y[i] = 3.0 - 2.0 * x[i];
    }
    assert_int_equal(disco_tsa_pearson(x, y, 50, &c, NULL), DISCO_OK);
    assert_true(close_rel(c.r, -1.0, 1e-14) && c.p < 1e-12);
    for (int i = 0; i < 50; i++)
        y[i] = 0.5 * x[i] + 7.0;
    assert_int_equal(disco_tsa_pearson(x, y, 50, &c, NULL), DISCO_OK);
    assert_true(close_rel(c.r, 1.0, 1e-14) && c.p < 1e-12);
}

static void test_spearman(void **state)
{
    disco_tsa_corr c;
    double x[40], y[40];

    (void)state;
    /* ranks x = 1, 2.5, 2.5, 4; y = 1..4: r = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10) */
    assert_int_equal(
        disco_tsa_spearman((const double[]){1, 2, 2, 3}, (const double[]){1, 2, 3, 4}, 4, &c, NULL),
        DISCO_OK);
    assert_true(close_rel(c.r, 3.0 / sqrt(10.0), 1e-15));
    /* t^2 = 2 r^2 / (1 - r^2) = 18, df 2: p = 1 - sqrt(18 / 20) */
    assert_true(close_rel(c.p, 1.0 - sqrt(0.9), 1e-12));
    /* Monotone but not linear: Spearman 1, Pearson below 1. */
    for (int i = 0; i < 40; i++) {
        x[i] = (double)i + rnd01();
        y[i] = exp(x[i] / 4.0);
    }
    assert_int_equal(disco_tsa_spearman(x, y, 40, &c, NULL), DISCO_OK);
    assert_true(c.r == 1.0 && c.p == 0.0);
    assert_int_equal(disco_tsa_pearson(x, y, 40, &c, NULL), DISCO_OK);
    assert_true(c.r < 0.95);
    /* NaN skipped before ranking. */
    assert_int_equal(disco_tsa_spearman((const double[]){1, 2, NAN, 2, 3},
                                        (const double[]){1, 2, 9, 3, 4}, 5, &c, NULL),
                     DISCO_OK);
    assert_true(close_rel(c.r, 3.0 / sqrt(10.0), 1e-15) && c.n == 4);
}

static void test_comovement(void **state)
{
    /* moves x: + + 0 - + NaN ;  y: + - + - 0 + */
    const double x[] = {0, 1, 2, 2, 1, 3, NAN}, y[] = {5, 6, 4, 8, 7, 7, 9};
    disco_tsa_comove c;

    (void)state;
    assert_int_equal(disco_tsa_comovement(x, y, 7, &c, NULL), DISCO_OK);
    /* counted: steps 1 (same), 2 (opposite), 4 (same) */
    assert_true(c.steps == 3 && c.same == 2 && close_rel(c.fraction, 2.0 / 3.0, 1e-15));
    assert_int_equal(disco_tsa_comovement(x, x, 7, &c, NULL), DISCO_OK);
    assert_true(c.fraction == 1.0 && c.steps == 4);
    assert_int_equal(disco_tsa_comovement((const double[]){1, 1, 1}, y, 3, &c, NULL),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_comovement(x, y, 1, &c, NULL), DISCO_ERR_INVAL);
}

static void test_rolling_corr(void **state)
{
    double x[30], y[30], out[30];
    disco_tsa_corr c;

    (void)state;
    for (int i = 0; i < 30; i++) {
        x[i] = rnd01();
        y[i] = i < 15 ? x[i] + 0.1 * rnd01() : rnd01();
    }
    y[20] = NAN;
    assert_int_equal(disco_tsa_rolling_corr(x, y, 30, 5, out, NULL), DISCO_OK);
    for (int i = 0; i < 4; i++)
        assert_true(isnan(out[i]));
    for (int i = 4; i < 30; i++) {
        assert_int_equal(disco_tsa_pearson(x + i - 4, y + i - 4, 5, &c, NULL), DISCO_OK);
        assert_true(close_rel(out[i], c.r, 1e-15));
    }
    assert_true(out[10] > 0.9);
    x[3] = x[4] = x[5] = x[6] = x[7] = 1.0;
    assert_int_equal(disco_tsa_rolling_corr(x, y, 30, 5, out, NULL), DISCO_OK);
    assert_true(isnan(out[7]) && !isnan(out[8]));
}

static void test_bad_input_dtw(void **state)
{
    const double a[] = {1, 2, 3, 4}, nan_at_2[] = {1, 2, NAN, 4};
    double scratch[DISCO_TSA_DTW_SCRATCH(4)], d, out[16];
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_tsa_dtw(a, 0, a, 4, NULL, scratch, &d, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "s1 is empty"));
    assert_int_equal(disco_tsa_dtw(a, 4, nan_at_2, 4, NULL, scratch, &d, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "s2[2] is NaN");
    assert_int_equal(disco_tsa_dtw(a, 4, a, 4, NULL, NULL, &d, &st), DISCO_ERR_INVAL);
    cfg.max_dist = -1.0;
    assert_int_equal(disco_tsa_dtw(a, 4, a, 4, &cfg, scratch, &d, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "max_dist"));
    {
        const double *series[] = {a, nan_at_2};
        const size_t lens[] = {4, 4}, lens0[] = {4, 0};

        assert_int_equal(disco_tsa_dtw_matrix(series, lens, 2, NULL, NULL, out, &st),
                         DISCO_ERR_INVAL);
        assert_string_equal(st.msg, "series[1][2] is NaN");
        assert_int_equal(disco_tsa_dtw_matrix(series, lens0, 2, NULL, NULL, out, &st),
                         DISCO_ERR_INVAL);
        assert_int_equal(disco_tsa_dtw_matrix(series, lens, 0, NULL, NULL, out, &st),
                         DISCO_ERR_INVAL);
    }
}

static void test_bad_input_corr(void **state)
{
    const double a[] = {1, 2, 3, 4}, nan_at_2[] = {1, 2, NAN, 4};
    const int64_t ts[] = {1, 2, 3, 4};
    double d, out[16];
    disco_tsa_corr c;
    disco_status st = {0};
    long lag;

    (void)state;
    assert_int_equal(disco_tsa_pearson(a, a, 2, &c, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_pearson(a, nan_at_2, 4, &c, &st), DISCO_OK);
    assert_int_equal(disco_tsa_pearson((const double[]){1, NAN, 3, 4}, nan_at_2, 4, &c, &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "2 pairs without NaN"));
    assert_int_equal(disco_tsa_spearman((const double[]){2, 2, 2, 2}, a, 4, &c, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "x is constant over 4 pairs");
    assert_int_equal(disco_tsa_pearson(a, (const double[]){1, INFINITY, 2, 3}, 4, &c, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "y[1] is infinite");
    assert_int_equal(disco_tsa_lag(a, nan_at_2, 4, 1, &lag, &d, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.msg, "y[2] is NaN");
    assert_int_equal(disco_tsa_rolling_corr(a, a, 4, 5, out, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_rolling_corr(a, a, 4, 2, out, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_resample(ts, a, 0, &(disco_tsa_grid){0, 1, 4}, 0, out, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_resample(ts, a, 4, &(disco_tsa_grid){0, 0, 4}, 0, out, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(
        disco_tsa_resample(ts, a, 4, &(disco_tsa_grid){INT64_MAX - 5, 2, 4}, 0, out, &st),
        DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "passes the largest timestamp"));
    assert_int_equal(disco_tsa_resample((const int64_t[]){1, 3, 2}, a, 3,
                                        &(disco_tsa_grid){0, 1, 4}, 0, out, &st),
                     DISCO_ERR_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtw_reference),
        cmocka_unit_test(test_dtw_against_plain),
        cmocka_unit_test(test_dtw_window),
        cmocka_unit_test(test_dtw_psi),
        cmocka_unit_test(test_dtw_max_dist),
        cmocka_unit_test(test_lb_keogh),
        cmocka_unit_test(test_lb_envelope),
        cmocka_unit_test(test_dtw_matrix),
        cmocka_unit_test(test_resample),
        cmocka_unit_test(test_grid_choose),
        cmocka_unit_test(test_lag),
        cmocka_unit_test(test_pearson),
        cmocka_unit_test(test_spearman),
        cmocka_unit_test(test_comovement),
        cmocka_unit_test(test_rolling_corr),
        cmocka_unit_test(test_bad_input_dtw),
        cmocka_unit_test(test_bad_input_corr),
    };
    return cmocka_run_group_tests_name("tsa/compare", tests, NULL, NULL);
}
