/*
 * test_vdist.c - distance kernels: every instruction set this CPU has
 * against the reference for d = 1..300 (unaligned, exact-size buffers),
 * metric names, normalisation, zero vectors, the bounded squared L2 and
 * forcing an instruction set, and the 4-bit code distance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/vdist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DMAX 300

static const char *const isas[] = {"portable", "avx2", "avx512"};

static int cpu_has(const char *isa)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
#endif
    return strcmp(isa, "portable") == 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* Uniform in [-2, 2). */
static float rnd(void)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (float)((double)(rng_state >> 40) / (double)(1u << 24) * 4.0 - 2.0);
}

/* Summation order differs between paths: bound the error by the sum of |terms|. */
static void assert_close(float got, double want, double scale, size_t d, const char *what)
{
    double tol = 1e-5 * scale + 1e-30;

    if (fabs((double)got - want) > tol)
        fail_msg("%s d=%zu: got %.9g, want %.9g (tolerance %.3g)", what, d, (double)got, want, tol);
}

static void check_pair(const float *a, const float *b, size_t d)
{
    double l2_scale = 0.0, dot_scale = 0.0;

    for (size_t i = 0; i < d; i++) {
        double t = (double)a[i] - (double)b[i];
        l2_scale += t * t;
        dot_scale += fabs((double)a[i] * (double)b[i]);
    }
    double l2 = disco_vdist_l2sq_ref(a, b, d), dot = disco_vdist_dot_ref(a, b, d);
    assert_close(disco_vdist_l2sq(a, b, d), l2, l2_scale, d, "l2sq");
    assert_close(disco_vdist_dot(a, b, d), dot, dot_scale, d, "dot");
    assert_close(disco_vdist(DISCO_VMETRIC_L2, a, b, d), l2, l2_scale, d, "vdist l2");
    assert_close(disco_vdist(DISCO_VMETRIC_IP, a, b, d), -dot, dot_scale, d, "vdist ip");
    assert_close(disco_vdist(DISCO_VMETRIC_COSINE, a, b, d), 1.0 - dot, dot_scale + 1.0, d,
                 "vdist cosine");
}

/* Exact-size heap buffers, so ASan sees a read past the end; offset 1 makes them unaligned. */
static void check_isa_against_ref(const char *isa)
{
    assert_int_equal(disco_vdist_force_isa(isa), 0);
    assert_string_equal(disco_vdist_isa(), isa);
    for (size_t d = 1; d <= DMAX; d++) {
        float *a = malloc((d + 1) * sizeof *a), *b = malloc((d + 1) * sizeof *b);
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < d + 1; i++) {
            a[i] = rnd();
            b[i] = rnd();
        }
        check_pair(a, b, d);
        check_pair(a + 1, b + 1, d);
        check_pair(a, a, d);
        free(a);
        free(b);
    }
}

static void test_every_isa_matches_reference(void **state)
{
    int tested = 0;

    (void)state;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!cpu_has(isas[i]))
            continue;
        check_isa_against_ref(isas[i]);
        tested++;
    }
    assert_true(tested >= 1);
    assert_int_equal(disco_vdist_force_isa("auto"), 0);
}

static void test_reference_values(void **state)
{
    const float a[] = {1, 2, 3}, b[] = {4, 6, 3};

    (void)state;
    assert_true(disco_vdist_l2sq_ref(a, b, 3) == 25.0f);
    assert_true(disco_vdist_dot_ref(a, b, 3) == 25.0f);
    assert_true(disco_vdist_l2sq_ref(a, b, 0) == 0.0f);
    assert_true(disco_vdist_dot_ref(a, b, 0) == 0.0f);
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (disco_vdist_force_isa(isas[i]) != 0)
            continue;
        assert_true(disco_vdist_l2sq(a, b, 3) == 25.0f);
        assert_true(disco_vdist_dot(a, b, 3) == 25.0f);
        assert_true(disco_vdist_l2sq(a, b, 0) == 0.0f);
        assert_true(disco_vdist_dot(a, b, 0) == 0.0f);
    }
    disco_vdist_force_isa(NULL);
}

static void test_metric_parse_and_name(void **state)
{
    (void)state;
    assert_int_equal(disco_vmetric_parse("cosine"), DISCO_VMETRIC_COSINE);
    assert_int_equal(disco_vmetric_parse("L2"), DISCO_VMETRIC_L2);
    assert_int_equal(disco_vmetric_parse("ip"), DISCO_VMETRIC_IP);
    assert_int_equal(disco_vmetric_parse("inner_product"), DISCO_VMETRIC_IP);
    assert_int_equal(disco_vmetric_parse("dot"), DISCO_VMETRIC_IP);
    assert_int_equal(disco_vmetric_parse("euclid"), -1);
    assert_int_equal(disco_vmetric_parse(""), -1);
    assert_int_equal(disco_vmetric_parse(NULL), -1);
    assert_string_equal(disco_vmetric_name(DISCO_VMETRIC_COSINE), "cosine");
    assert_string_equal(disco_vmetric_name(DISCO_VMETRIC_L2), "l2");
    assert_string_equal(disco_vmetric_name(DISCO_VMETRIC_IP), "ip");
    assert_string_equal(disco_vmetric_name((disco_vmetric)7), "unknown");
    for (int m = 0; m <= 2; m++)
        assert_int_equal(disco_vmetric_parse(disco_vmetric_name((disco_vmetric)m)), m);
    assert_true(isnan(disco_vdist((disco_vmetric)7, (const float[]){1}, (const float[]){1}, 1)));
}

static void test_normalize(void **state)
{
    float v[DMAX];

    (void)state;
    float small[] = {3, 4};
    assert_float_equal(disco_vdist_normalize(small, 2), 5.0f, 1e-6);
    assert_float_equal(small[0], 0.6f, 1e-6);
    assert_float_equal(small[1], 0.8f, 1e-6);
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (disco_vdist_force_isa(isas[i]) != 0)
            continue;
        for (size_t d = 1; d <= DMAX; d += 7) {
            for (size_t j = 0; j < d; j++)
                v[j] = rnd();
            double norm = sqrt(disco_vdist_dot_ref(v, v, d));
            assert_float_equal(disco_vdist_normalize(v, d), norm, 1e-5 * norm);
            assert_float_equal(disco_vdist_dot_ref(v, v, d), 1.0, 1e-5);
            assert_float_equal(disco_vdist(DISCO_VMETRIC_COSINE, v, v, d), 0.0, 1e-5);
        }
    }
    disco_vdist_force_isa(NULL);
}

static void test_zero_vectors(void **state)
{
    float z[DMAX] = {0}, u[DMAX] = {0};

    (void)state;
    u[0] = 1.0f;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (disco_vdist_force_isa(isas[i]) != 0)
            continue;
        for (size_t d = 1; d <= DMAX; d += 13) {
            assert_true(disco_vdist_normalize(z, d) == 0.0f);
            for (size_t j = 0; j < d; j++)
                assert_true(z[j] == 0.0f);
            assert_true(disco_vdist_l2sq(z, z, d) == 0.0f);
            assert_true(disco_vdist_dot(z, u, d) == 0.0f);
            assert_true(disco_vdist_l2sq(z, u, d) == 1.0f);
            assert_true(disco_vdist(DISCO_VMETRIC_COSINE, z, u, d) == 1.0f);
        }
    }
    assert_true(disco_vdist_normalize(z, 0) == 0.0f);
    disco_vdist_force_isa(NULL);
}

/*
 * The bounded squared L2: with a bound at or above the distance it is the
 * unbounded kernel's value bit for bit; below, any value above the bound.
 */
static void test_bounded_l2(void **state)
{
    float a[DMAX], b[DMAX];

    (void)state;
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (disco_vdist_force_isa(isas[i]) != 0)
            continue;
        for (size_t d = 1; d <= DMAX; d += 3) {
            for (size_t j = 0; j < d; j++) {
                a[j] = rnd();
                b[j] = rnd();
            }
            float full = disco_vdist_l2sq(a, b, d);
            assert_true(disco_vdist_l2sq_bounded(a, b, d, full) == full);
            assert_true(disco_vdist_l2sq_bounded(a, b, d, INFINITY) == full);
            assert_true(disco_vdist_l2sq_bounded(a, b, d, 2.0f * full) == full);
            for (float frac = 0.0f; frac < 1.0f; frac += 0.125f) {
                float got = disco_vdist_l2sq_bounded(a, b, d, frac * full);
                assert_true(got > frac * full);
                assert_true(got <= full * 1.0001f);
            }
        }
    }
    disco_vdist_force_isa(NULL);
}

/*
 * n values: every code value in both nibbles, random steps and offsets,
 * the code buffer exactly ceil(n/2) bytes (ASan sees any read past it).
 * Lanes holding no value get step 0 and offset 0, as the codes' users set.
 */
static void check_u4(size_t n)
{
    size_t lanes = 32 * ((n + 31) / 32), bytes = (n + 1) / 2, r = n % 32 ? n % 32 : 32;
    size_t half = (r + 1) / 2, last = lanes - 32;
    float *qa = calloc(lanes, sizeof *qa), *step = calloc(lanes, sizeof *step);
    uint8_t *code = malloc(bytes);
    double scale = 0.0;

    assert_non_null(qa);
    assert_non_null(step);
    assert_non_null(code);
    for (size_t i = 0; i < lanes; i++) {
        size_t k =
            i % 32; /* in the last group only lanes 0..half-1 and 16..16+r-half-1 hold values */
        if (i >= last && !(k < half || (k >= 16 && k < 16 + r - half)))
            continue;
        qa[i] = rnd();
        step[i] = rnd() * 0.25f;
    }
    for (size_t i = 0; i < bytes; i++)
        code[i] = (uint8_t)((i * 37u + n) & 0xFFu);
    for (size_t i = 0; i < lanes; i++) {
        size_t at = disco_vdist_u4_byte(n, i);
        uint8_t b = at < bytes ? code[at] : 0;
        double c = (i % 32) < 16 ? (b & 15u) : (b >> 4), t = c * step[i] + qa[i];
        scale += t * t;
    }
    assert_close(disco_vdist_u4(qa, step, code, n), disco_vdist_u4_ref(qa, step, code, n), scale, n,
                 "u4");
    assert_true(fabs(disco_vdist_u4_ref(qa, step, code, n) - scale) <= 1e-6 * scale);
    free(qa);
    free(step);
    free(code);
}

static void test_u4_codes(void **state)
{
    float qa[32] = {0}, step[32] = {0};
    uint8_t code[16] = {0};

    (void)state;
    /* lane 0 = low nibble of byte 0, lane 16 = its high nibble */
    code[0] = 0x53;
    step[0] = 1.0f;
    step[16] = 2.0f;
    qa[16] = -1.0f;
    assert_float_equal(disco_vdist_u4_ref(qa, step, code, 32), 3.0f * 3.0f + 9.0f * 9.0f, 1e-6);
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        if (!cpu_has(isas[i]))
            continue;
        assert_int_equal(disco_vdist_force_isa(isas[i]), 0);
        assert_float_equal(disco_vdist_u4(qa, step, code, 32), 90.0f, 1e-5);
        for (size_t n = 1; n <= 300; n++)
            check_u4(n);
    }
    assert_int_equal(disco_vdist_force_isa("auto"), 0);
}

static void test_force_isa(void **state)
{
    (void)state;
    assert_int_equal(disco_vdist_force_isa("portable"), 0);
    assert_int_equal(disco_vdist_force_isa("neon"), -1);
    assert_int_equal(disco_vdist_force_isa(""), -1);
    assert_int_equal(disco_vdist_force_isa("AVX2x"), -1);
    assert_string_equal(disco_vdist_isa(), "portable"); /* a refusal changes nothing */
    for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++) {
        int want = cpu_has(isas[i]) ? 0 : -1;
        assert_int_equal(disco_vdist_force_isa(isas[i]), want);
    }
    assert_int_equal(disco_vdist_force_isa("auto"), 0);
    const char *best = cpu_has("avx512") ? "avx512" : cpu_has("avx2") ? "avx2" : "portable";
    assert_string_equal(disco_vdist_isa(), best);
    assert_int_equal(disco_vdist_force_isa(NULL), 0);
    assert_string_equal(disco_vdist_isa(), best);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_every_isa_matches_reference),
        cmocka_unit_test(test_metric_parse_and_name),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_zero_vectors),
        cmocka_unit_test(test_bounded_l2),
        cmocka_unit_test(test_force_isa),
        cmocka_unit_test(test_u4_codes),
    };
    return cmocka_run_group_tests_name("store/vdist", tests, NULL, NULL);
}
