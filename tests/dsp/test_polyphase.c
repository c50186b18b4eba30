/*
 * test_polyphase.c - the analysis resampler: pass band, stop band, timing,
 * streaming equals one call, output counts, bad rates.
 */
#include "disco/polyphase.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

/* Resamples `n` samples of `x`, pushing `block` at a time; returns the output count. */
static size_t run(int in_rate, int out_rate, const float *x, size_t n, size_t block, float **out)
{
    disco_polyphase *p = NULL;
    assert_int_equal(disco_polyphase_new(in_rate, out_rate, &p, NULL), 0);
    size_t cap = (size_t)((double)n * out_rate / in_rate) + 4096, len = 0;
    float *y = malloc(cap * sizeof(float));
    for (size_t off = 0; off < n; off += block) {
        size_t k = n - off < block ? n - off : block;
        assert_true(len + disco_polyphase_out_bound(p, k) <= cap);
        len += disco_polyphase_push(p, x + off, k, y + len);
    }
    len += disco_polyphase_finish(p, y + len);
    disco_polyphase_free(p);
    *out = y;
    return len;
}

static float *sine(size_t n, double freq, double rate, double amp)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2 * M_PI * freq * (double)i / rate));
    return x;
}

/* A tone in the pass band keeps its amplitude and phase at the new rate. */
static void check_passband(int in_rate, int out_rate, double freq)
{
    size_t n = (size_t)in_rate; /* 1 s */
    float *x = sine(n, freq, in_rate, 0.5), *y = NULL;
    size_t m = run(in_rate, out_rate, x, n, 4096, &y);
    size_t want = (size_t)(((long long)n * out_rate + in_rate - 1) / in_rate);
    assert_int_equal(m, want);
    double worst = 0;
    for (size_t j = m / 10; j < m - m / 10; j++) {
        double ref = 0.5 * sin(2 * M_PI * freq * (double)j / out_rate);
        worst = fmax(worst, fabs(y[j] - ref));
    }
    print_message("%d->%d %.0f Hz: worst %.2e\n", in_rate, out_rate, freq, worst);
    assert_true(worst < 2e-3);
    free(x);
    free(y);
}

static void test_passband(void **state)
{
    (void)state;
    check_passband(44100, 22050, 1000);
    check_passband(48000, 22050, 440);
    check_passband(16000, 22050, 3000);
    check_passband(44100, 22050, 8000);
    check_passband(48000, 22050, 440);
    check_passband(16000, 22050, 3000); /* upsampling */
}

/* A tone above the new Nyquist frequency is removed, not folded down. */
static void test_stopband(void **state)
{
    (void)state;
    float *x = sine(44100, 15000, 44100, 0.5), *y = NULL;
    size_t m = run(44100, 22050, x, 44100, 1000, &y);
    double e = 0;
    for (size_t j = 1000; j < m - 1000; j++)
        e += (double)y[j] * y[j];
    double rms = sqrt(e / (double)(m - 2000));
    assert_true(20 * log10(rms / (0.5 / sqrt(2))) < -50);
    free(x);
    free(y);
}

/* Pushing in odd block sizes gives exactly what one big push gives. */
static void test_streaming(void **state)
{
    (void)state;
    size_t n = 30001;
    float *x = sine(n, 1234, 48000, 0.7), *a = NULL, *b = NULL;
    size_t na = run(48000, 22050, x, n, n, &a), nb = run(48000, 22050, x, n, 97, &b);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_true(a[i] == b[i]);
    free(x);
    free(a);
    free(b);
}

/* An impulse at input time t comes out with its peak at output time t: no delay. */
static void test_no_delay(void **state)
{
    (void)state;
    size_t n = 44100;
    float *x = calloc(n, sizeof(float)), *y = NULL;
    x[20000] = 1.0f;
    size_t m = run(44100, 22050, x, n, 512, &y), best = 0;
    for (size_t j = 0; j < m; j++)
        if (fabsf(y[j]) > fabsf(y[best]))
            best = j;
    assert_int_equal(best, 10000);
    free(x);
    free(y);
}

static void test_bad_rates(void **state)
{
    (void)state;
    disco_polyphase *p = (disco_polyphase *)1;
    disco_status st = {0};
    assert_int_equal(disco_polyphase_new(100, 22050, &p, &st), DISCO_ERR_INVAL);
    assert_null(p);
    assert_string_equal(st.field, "in_rate");
    assert_int_equal(disco_polyphase_new(44100, 22051, &p, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "out_rate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passband),  cmocka_unit_test(test_stopband),
        cmocka_unit_test(test_streaming), cmocka_unit_test(test_no_delay),
        cmocka_unit_test(test_bad_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
