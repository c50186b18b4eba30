/*
 * test_tscodec.c - chunk codec: bit-exact round trips on edge values and
 * timestamps, the mode chosen for each kind of series, precision rounding,
 * argument errors, and damaged chunks (flipped bits, truncation, forged
 * checksums) that must fail cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/crc32c.h"
#include "disco/tscodec.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const disco_ts_precision F64 = {DISCO_TS_FLOAT64, 0};
static const disco_ts_precision F32 = {DISCO_TS_FLOAT32, 0};
static const disco_ts_precision D0 = {DISCO_TS_DECIMAL, 0};
static const disco_ts_precision D1 = {DISCO_TS_DECIMAL, 1};
static const disco_ts_precision D2 = {DISCO_TS_DECIMAL, 2};
static const disco_ts_precision D9 = {DISCO_TS_DECIMAL, 9};

static disco_ts_precision dec(int d)
{
    return (disco_ts_precision){DISCO_TS_DECIMAL, d};
}

static uint64_t g_rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Uniform in [0, 1). */
static double rnd01(void)
{
    return (double)(rnd() >> 11) * 0x1p-53;
}

static double from_bits(uint64_t u)
{
    double d;

    memcpy(&d, &u, 8);
    return d;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Points of one test, heap-allocated for up to MAX points. */
typedef struct pts {
    int64_t *ts, *ts2;
    double *v, *v2;
    uint8_t *buf;
    size_t cap;
} pts;

static int pts_setup(void **state)
{
    size_t n = DISCO_TSCODEC_MAX_POINTS + 1;
    pts *p = calloc(1, sizeof *p);

    assert_non_null(p);
    p->ts = calloc(n, sizeof *p->ts);
    p->ts2 = calloc(n, sizeof *p->ts2);
    p->v = calloc(n, sizeof *p->v);
    p->v2 = calloc(n, sizeof *p->v2);
    p->cap = disco_tscodec_bound(n);
    p->buf = malloc(p->cap);
    assert_true(p->ts && p->ts2 && p->v && p->v2 && p->buf);
    *state = p;
    return 0;
}

static int pts_teardown(void **state)
{
    pts *p = *state;

    free(p->ts);
    free(p->ts2);
    free(p->v);
    free(p->v2);
    free(p->buf);
    free(p);
    return 0;
}

static void regular_ts(pts *p, size_t n, int64_t t0, int64_t step)
{
    for (size_t i = 0; i < n; i++)
        p->ts[i] = t0 + (int64_t)i * step;
}

/* Encodes n points, checks info and a bit-exact decode; returns the chunk size. */
static size_t roundtrip(pts *p, size_t n, const disco_ts_precision *prec, disco_tscodec_info *out)
{
    disco_status st = {0};
    disco_tscodec_info info;
    size_t len = 0, m = 0;

    int rc = disco_tscodec_encode(p->ts, p->v, n, prec, p->buf, p->cap, &len, &st);
    if (rc != DISCO_OK)
        fail_msg("encode: %s", st.msg);
    assert_true(len <= disco_tscodec_bound(n));
    rc = disco_tscodec_info_read(p->buf, len, &info, &st);
    if (rc != DISCO_OK)
        fail_msg("info: %s", st.msg);
    assert_int_equal(info.count, n);
    assert_int_equal(info.size, len);
    assert_true(info.t_first == p->ts[0] && info.t_last == p->ts[n - 1]);
    rc = disco_tscodec_decode(p->buf, len, p->ts2, p->v2, n, &m, &st);
    if (rc != DISCO_OK)
        fail_msg("decode: %s", st.msg);
    assert_int_equal(m, n);
    assert_memory_equal(p->ts, p->ts2, n * sizeof *p->ts);
    assert_memory_equal(p->v, p->v2, n * sizeof *p->v);
    if (out)
        *out = info;
    return len;
}

static int value_mode(pts *p, size_t n, const disco_ts_precision *prec)
{
    disco_tscodec_info info;

    roundtrip(p, n, prec, &info);
    return info.value_mode;
}

/* --- precision ------------------------------------------------------------ */

static void test_round(void **state)
{
    (void)state;
    assert_true(disco_ts_round(0.123456789, &F64) == 0.123456789);
    assert_true(disco_ts_round(0.1, &F32) == (double)0.1f);
    assert_true(disco_ts_round(2.34, &D1) == 2.3);
    assert_true(disco_ts_round(-2.36, &D1) == -2.4);
    assert_true(disco_ts_round(2.5, &D0) == 3.0);
    assert_true(disco_ts_round(0.1234567894, &D9) == 0.123456789);
    assert_true(isnan(disco_ts_round(NAN, &D1)));
    assert_true(disco_ts_round(INFINITY, &D1) == INFINITY);
    assert_true(disco_ts_round(-INFINITY, &D1) == -INFINITY);
    assert_true(disco_ts_round(1e300, &D1) == 1e300);
    assert_true(disco_ts_round(0x1p49 + 0.5, &D0) == 0x1p49 + 1);
    assert_true(disco_ts_round(0x1p50 + 0.5, &D0) == 0x1p50 + 0.5);
    assert_true(disco_ts_round(0x1p50 / 100 + 0.001, &D2) == 0x1p50 / 100 + 0.001);
    double z = disco_ts_round(-0.0, &D1);
    assert_true(z == 0.0 && !signbit(z));
    assert_false(signbit(disco_ts_round(-0.04, &D1)));
}

/* Rounded values are stored exactly and rounding twice changes nothing. */
static void test_round_then_decode_is_exact(void **state)
{
    pts *p = *state;
    size_t n = 3000;

    regular_ts(p, n, 0, 1000);
    for (int d = 0; d <= 9; d++) {
        disco_ts_precision prec = dec(d);
        for (size_t i = 0; i < n; i++) {
            double scale = pow(10, (double)(rnd() % 12));
            double r = disco_ts_round((rnd01() - 0.5) * scale, &prec);
            assert_true(same_bits(disco_ts_round(r, &prec), r));
            p->v[i] = r;
        }
        roundtrip(p, n, &prec, NULL);
    }
}

static void test_precision_text(void **state)
{
    disco_ts_precision p;
    disco_status st = {0};
    char buf[32];

    (void)state;
    assert_int_equal(disco_ts_precision_parse("float64", &p, &st), DISCO_OK);
    assert_int_equal(p.kind, DISCO_TS_FLOAT64);
    assert_int_equal(disco_ts_precision_parse("float32", &p, &st), DISCO_OK);
    assert_int_equal(p.kind, DISCO_TS_FLOAT32);
    for (int d = 0; d <= 9; d++) {
        char text[24];
        snprintf(text, sizeof text, "decimal:%d", d);
        assert_int_equal(disco_ts_precision_parse(text, &p, &st), DISCO_OK);
        assert_true(p.kind == DISCO_TS_DECIMAL && p.decimals == d);
        disco_ts_precision_format(&p, buf, sizeof buf);
        assert_string_equal(buf, text);
    }
    const char *bad[] = {"",           "float",   "decimal:",   "decimal:10", "decimal:-1",
                         "decimal:1x", "Float64", "decimal: 1", "float64 "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(disco_ts_precision_parse(bad[i], &p, &st), DISCO_ERR_INVAL);
        assert_string_equal(st.field, "precision");
        assert_non_null(strstr(st.msg, "decimal:N"));
    }
    assert_int_equal(disco_ts_precision_parse(NULL, &p, &st), DISCO_ERR_INVAL);
    disco_ts_precision_format(&F64, buf, sizeof buf);
    assert_string_equal(buf, "float64");
    disco_ts_precision_format(&F32, buf, sizeof buf);
    assert_string_equal(buf, "float32");
}

/* --- round trips ---------------------------------------------------------- */

static const uint64_t edge_bits[] = {
    0x7FF8000000000000u, /* quiet NaN */
    0x7FF0000000000001u, /* signalling NaN, payload 1 */
    0xFFF8000000000123u, /* negative NaN with payload */
    0x7FFFFFFFFFFFFFFFu, /* NaN, all payload bits */
    0x7FF0000000000000u, /* +Inf */
    0xFFF0000000000000u, /* -Inf */
    0x8000000000000000u, /* -0.0 */
    0x0000000000000000u, /* +0.0 */
    0x0000000000000001u, /* smallest subnormal */
    0x000FFFFFFFFFFFFFu, /* largest subnormal */
    0x800FFFFFFFFFFFFFu, /* negative subnormal */
    0x7FEFFFFFFFFFFFFFu, /* DBL_MAX */
    0xFFEFFFFFFFFFFFFFu, /* -DBL_MAX */
    0x3FF0000000000000u, /* 1.0 */
    0x4340000000000000u, /* 2^53 */
    0xC340000000000000u, /* -2^53 */
    0x433FFFFFFFFFFFFFu, /* 2^53 - 1 */
};
#define N_EDGE (sizeof edge_bits / sizeof *edge_bits)

/* Edge values, alone, in pairs, repeated and shuffled, under every precision. */
static void test_edge_values(void **state)
{
    pts *p = *state;
    const disco_ts_precision precs[] = {F64, F32, D0, D1, D9};
    size_t n = 400;

    regular_ts(p, n, -5, 7);
    for (size_t k = 0; k < sizeof precs / sizeof *precs; k++) {
        for (size_t i = 0; i < N_EDGE; i++)
            for (size_t j = 0; j < N_EDGE; j++) {
                p->v[0] = from_bits(edge_bits[i]);
                p->v[1] = from_bits(edge_bits[j]);
                p->v[2] = p->v[1];
                roundtrip(p, 3, &precs[k], NULL);
            }
        for (size_t i = 0; i < n; i++)
            p->v[i] = from_bits(edge_bits[rnd() % N_EDGE]);
        roundtrip(p, n, &precs[k], NULL);
        for (size_t i = 0; i < n; i++)
            p->v[i] = from_bits(rnd());
        roundtrip(p, n, &precs[k], NULL);
    }
}

/* Values that differ from float-exact ones in the last bits, and float-exact NaNs. */
static void test_float32_edges(void **state)
{
    pts *p = *state;
    const float fv[] = {FLT_MAX, -FLT_MAX, FLT_MIN, 1e-45f, -1e-45f, 0.1f, -0.0f, 1.0f};
    size_t n = sizeof fv / sizeof *fv;

    regular_ts(p, n + 1, 100, 1);
    for (size_t i = 0; i < n; i++)
        p->v[i] = (double)fv[i];
    p->v[n] = from_bits(0x7FF8000020000000u); /* quiet NaN, float-exact payload */
    assert_int_equal(value_mode(p, n + 1, &F32), DISCO_TSCODEC_V_XOR32);
    p->v[n] = from_bits(0x7FF8000000000001u); /* payload a float cannot hold */
    assert_int_equal(value_mode(p, n + 1, &F32), DISCO_TSCODEC_V_XOR64);
    p->v[n] = 0.1; /* not rounded to float: still exact */
    assert_int_equal(value_mode(p, n + 1, &F32), DISCO_TSCODEC_V_XOR64);
}

static void test_extreme_timestamps(void **state)
{
    pts *p = *state;

    p->v[0] = 1.5;
    p->v[1] = 2.5;
    p->v[2] = 3.5;
    p->ts[0] = INT64_MIN;
    p->ts[1] = INT64_MAX;
    roundtrip(p, 2, &F64, NULL);
    p->ts[1] = 0;
    p->ts[2] = INT64_MAX;
    roundtrip(p, 3, &F64, NULL);
    p->ts[0] = INT64_MIN;
    p->ts[1] = INT64_MIN + 1;
    p->ts[2] = INT64_MAX;
    roundtrip(p, 3, &F64, NULL);
    p->ts[0] = INT64_MAX - 2;
    p->ts[1] = INT64_MAX - 1;
    p->ts[2] = INT64_MAX;
    roundtrip(p, 3, &F64, NULL);
    regular_ts(p, 1000, INT64_MAX - 999 * (INT64_MAX / 1000), INT64_MAX / 1000);
    for (size_t i = 0; i < 1000; i++)
        p->v[i] = (double)i;
    roundtrip(p, 1000, &F64, NULL);
    regular_ts(p, 1000, INT64_MIN, 1);
    roundtrip(p, 1000, &F64, NULL);
    /* irregular: huge and tiny gaps, negative times */
    int64_t t = INT64_MIN + 10;
    for (size_t i = 0; i < 1000; i++) {
        p->ts[i] = t;
        uint64_t gap = (i % 7 == 3) ? (uint64_t)1 << (rnd() % 56) : 1 + rnd() % 5;
        t += (int64_t)gap;
    }
    roundtrip(p, 1000, &F64, NULL);
}

/* Zig-zag values at both ends of every bucket of the variable-length code. */
static const uint64_t bucket_edges[] = {
    0,
    1,
    8,
    9,
    72,
    73,
    584,
    585,
    8776,
    8777,
    1057352,
    1057353,
    1057353 + 0xFFFFFFFFull,
    1057353 + 0x100000000ull,
    (uint64_t)1 << 40,
    3,
};
#define N_BUCKET_EDGES (sizeof bucket_edges / sizeof *bucket_edges)

static int64_t unzigzag(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

/* Deltas of deltas (timestamps) and of values hitting each bucket edge, both signs. */
static void test_bucket_edges(void **state)
{
    pts *p = *state;
    int64_t delta = (int64_t)1 << 42, x = 0;
    size_t n = 0;

    p->ts[0] = 0;
    p->v[0] = 0;
    for (size_t i = 0; i < 2 * N_BUCKET_EDGES; i++) {
        int64_t dod = unzigzag(bucket_edges[i / 2]) * (i % 2 ? -1 : 1);
        delta += dod;
        n++;
        p->ts[n] = p->ts[n - 1] + delta;
        x += dod;
        p->v[n] = (double)x;
    }
    roundtrip(p, n + 1, &F64, NULL);
    for (size_t i = 1; i <= n; i++) /* as deltas of values too */
        p->v[i] = p->v[i - 1] + (double)unzigzag(bucket_edges[(i - 1) % N_BUCKET_EDGES]);
    roundtrip(p, n + 1, &F64, NULL);
}

static void test_single_and_two_points(void **state)
{
    pts *p = *state;
    disco_tscodec_info info;

    p->ts[0] = -42;
    p->v[0] = from_bits(0xFFF8000000000123u);
    roundtrip(p, 1, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_REGULAR);
    assert_int_equal(info.value_mode, DISCO_TSCODEC_V_CONST);
    assert_int_equal(info.size, 60);
    p->ts[1] = 17;
    p->v[1] = -0.0;
    roundtrip(p, 2, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_REGULAR);
    p->v[0] = 3.0;
    p->v[1] = 3.0;
    roundtrip(p, 2, &D2, &info);
    assert_int_equal(info.value_mode, DISCO_TSCODEC_V_CONST);
}

static void test_max_points(void **state)
{
    pts *p = *state;
    size_t n = DISCO_TSCODEC_MAX_POINTS, len = 0;
    disco_status st = {0};
    double x = 0;

    for (size_t i = 0; i < n + 1; i++) {
        p->ts[i] = (int64_t)(i * 1000 + rnd() % 3);
        x += (double)(int64_t)(rnd() % 21 - 10) / 10;
        p->v[i] = disco_ts_round(x, &D1);
    }
    roundtrip(p, n, &D1, NULL);
    roundtrip(p, n, &F64, NULL);
    for (size_t i = 0; i < n; i++)
        p->v[i] = from_bits(rnd());
    assert_true(roundtrip(p, n, &F64, NULL) <= disco_tscodec_bound(n));
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, n + 1, &F64, p->buf, p->cap, &len, &st),
                     DISCO_ERR_INVAL);
    assert_string_equal(st.field, "n");
}

/* Worst cases for size: alternating huge deltas, values needing new windows. */
static void test_bound_holds(void **state)
{
    pts *p = *state;
    size_t n = 5000;

    for (size_t i = 0; i < n; i++) {
        p->ts[i] = (i % 2) ? INT64_MIN + (int64_t)i : (int64_t)(INT64_MAX / 2) + (int64_t)i;
        p->v[i] = from_bits((i % 2) ? 0x8000000000000001u : 0x7FFFFFFFFFFFFFFEu);
    }
    for (size_t i = 0; i < n; i++)
        p->ts[i] = (int64_t)(i % 2 ? (uint64_t)1 << 62 : 1) + (int64_t)(i * 3) - INT64_MAX;
    for (size_t i = 1; i < n; i++)
        p->ts[i] = p->ts[i - 1] + ((i % 2) ? ((int64_t)1 << 50) : 1);
    roundtrip(p, n, &F64, NULL);
    for (size_t i = 0; i < n; i++)
        p->v[i] = (i % 2 ? -1.0 : 1.0) * (double)((int64_t)1 << 52) + (double)(rnd() % 1000);
    roundtrip(p, n, &F64, NULL);
}

static void test_equal_consecutive_and_irregular(void **state)
{
    pts *p = *state;
    size_t n = 2000;
    disco_tscodec_info info;

    for (size_t i = 0; i < n; i++) {
        p->ts[i] = (int64_t)(i * i);
        p->v[i] = (i / 100) % 2 ? 0.3 : from_bits(rnd());
    }
    roundtrip(p, n, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_DOD);
    assert_int_equal(info.value_mode, DISCO_TSCODEC_V_XOR64);
}

/* --- modes ---------------------------------------------------------------- */

static void test_modes_chosen(void **state)
{
    pts *p = *state;
    size_t n = 1000;
    double x = 50;

    regular_ts(p, n, 1700000000000, 1000);
    for (size_t i = 0; i < n; i++)
        p->v[i] = 7.25;
    assert_int_equal(value_mode(p, n, &F64), DISCO_TSCODEC_V_CONST);
    for (size_t i = 0; i < n; i++)
        p->v[i] = (double)(i * 37 + rnd() % 50);
    assert_int_equal(value_mode(p, n, &F64), DISCO_TSCODEC_V_INT);
    p->v[500] = -0.0;
    assert_int_equal(value_mode(p, n, &F64), DISCO_TSCODEC_V_XOR32);
    for (size_t i = 0; i < n; i++) {
        x += (double)(int64_t)(rnd() % 7 - 3) / 10;
        p->v[i] = disco_ts_round(x, &D1);
    }
    assert_int_equal(value_mode(p, n, &D1), DISCO_TSCODEC_V_INT);
    assert_int_equal(value_mode(p, n, &F64), DISCO_TSCODEC_V_INT);
    p->v[10] = NAN;
    assert_int_equal(value_mode(p, n, &D1), DISCO_TSCODEC_V_XOR64);
    p->v[10] = INFINITY;
    assert_int_equal(value_mode(p, n, &D1), DISCO_TSCODEC_V_XOR64);
    p->v[10] = 1e300;
    assert_int_equal(value_mode(p, n, &D1), DISCO_TSCODEC_V_XOR64);
    for (size_t i = 0; i < n; i++)
        p->v[i] = 2 * exp(-(double)i / 300) + 0.01 * rnd01();
    assert_int_equal(value_mode(p, n, &F64), DISCO_TSCODEC_V_XOR64);
    for (size_t i = 0; i < n; i++)
        p->v[i] = disco_ts_round(p->v[i], &F32);
    assert_int_equal(value_mode(p, n, &F32), DISCO_TSCODEC_V_XOR32);
}

static void test_timestamp_modes(void **state)
{
    pts *p = *state;
    disco_tscodec_info info;
    size_t n = 500;

    for (size_t i = 0; i < n; i++)
        p->v[i] = (double)i;
    regular_ts(p, n, -1000, 1000);
    roundtrip(p, n, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_REGULAR);
    p->ts[n - 1] += 1;
    roundtrip(p, n, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_DOD);
    for (size_t i = 0; i < n; i++)
        p->ts[i] = (int64_t)(i * 1000 + rnd() % 10);
    size_t len = roundtrip(p, n, &F64, &info);
    assert_int_equal(info.ts_mode, DISCO_TSCODEC_TS_DOD);
    assert_true(len < n * 3); /* jitter of a few units: about a byte a point for both streams */
}

/* Typical series stay within their size goals (bytes per point, 4096-point chunks). */
static void test_sizes(void **state)
{
    pts *p = *state;
    size_t n = 4096;
    double x = 0;

    regular_ts(p, n, 1700000000000, 1000);
    for (size_t i = 0; i < n; i++)
        p->v[i] = x += (double)(rnd() % 101);
    assert_true(roundtrip(p, n, &F64, NULL) <= n * 3 / 2);
    x = 20;
    for (size_t i = 0; i < n; i++) {
        x += (rnd01() - 0.5) * 0.6;
        p->v[i] = disco_ts_round(x, &D1);
    }
    assert_true(roundtrip(p, n, &D1, NULL) <= n * 3);
    for (size_t i = 0; i < n; i++)
        p->v[i] = 2 * exp(-(double)i / 2000) + 0.1 + 0.02 * rnd01();
    assert_true(roundtrip(p, n, &F64, NULL) <= n * 8);
    for (size_t i = 0; i < n; i++)
        p->v[i] = disco_ts_round(p->v[i], &F32);
    assert_true(roundtrip(p, n, &F32, NULL) <= n * 9 / 2);
}

/* --- errors --------------------------------------------------------------- */

static void test_encode_errors(void **state)
{
    pts *p = *state;
    disco_status st = {0};
    size_t len = 0, n = 100, m;
    disco_ts_precision bad = dec(10);

    regular_ts(p, n, 0, 10);
    for (size_t i = 0; i < n; i++)
        p->v[i] = from_bits(rnd());
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, 0, &F64, p->buf, p->cap, &len, &st),
                     DISCO_ERR_INVAL);
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, n, &bad, p->buf, p->cap, &len, &st),
                     DISCO_ERR_INVAL);
    p->ts[50] = p->ts[49];
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, n, &F64, p->buf, p->cap, &len, &st),
                     DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "ts[50]"));
    p->ts[50] = p->ts[49] - 1;
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, n, &F64, p->buf, p->cap, &len, &st),
                     DISCO_ERR_INVAL);
    regular_ts(p, n, 0, 10);
    size_t full = roundtrip(p, n, &F64, NULL);
    for (size_t cap = 0; cap < full; cap++) {
        uint8_t *tight = malloc(cap ? cap : 1);
        assert_int_equal(disco_tscodec_encode(p->ts, p->v, n, &F64, tight, cap, &len, &st),
                         DISCO_ERR_LIMIT);
        free(tight);
    }
    uint8_t *exact = malloc(full);
    assert_int_equal(disco_tscodec_encode(p->ts, p->v, n, &F64, exact, full, &len, &st), DISCO_OK);
    assert_int_equal(len, full);
    assert_int_equal(disco_tscodec_decode(exact, len, p->ts2, p->v2, n - 1, &m, &st),
                     DISCO_ERR_LIMIT);
    free(exact);
}

/* One chunk of each mode, encoded into p->buf; returns its length. */
static size_t sample_chunk(pts *p, int kind)
{
    size_t n = 64;
    double x = 1;

    for (size_t i = 0; i < n; i++) {
        p->ts[i] = kind == 4 ? (int64_t)(i * 1000 + rnd() % 50) : (int64_t)i * 1000;
        x += (double)(rnd() % 5);
        p->v[i] = kind == 0 ? 1.0 : kind == 1 ? x : (double)(float)(x * 1.37);
    }
    if (kind >= 3)
        for (size_t i = 0; i < n; i++)
            p->v[i] = x * rnd01();
    return roundtrip(p, n, &F64, NULL);
}

static void test_flipped_bits(void **state)
{
    pts *p = *state;
    disco_status st = {0};
    disco_tscodec_info info;
    size_t m;

    for (int kind = 0; kind < 5; kind++) {
        size_t len = sample_chunk(p, kind);
        for (size_t bit = 0; bit < len * 8; bit++) {
            p->buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int rc = disco_tscodec_decode(p->buf, len, p->ts2, p->v2, 64, &m, &st);
            assert_int_equal(rc, DISCO_ERR_CORRUPT);
            assert_int_equal(disco_tscodec_info_read(p->buf, len, &info, &st), DISCO_ERR_CORRUPT);
            p->buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t i = 0; i < len; i++) {
            uint8_t keep = p->buf[i];
            p->buf[i] = (uint8_t)~keep;
            assert_int_equal(disco_tscodec_decode(p->buf, len, p->ts2, p->v2, 64, &m, &st),
                             DISCO_ERR_CORRUPT);
            p->buf[i] = keep;
        }
    }
}

static void test_truncated(void **state)
{
    pts *p = *state;
    disco_status st = {0};
    disco_tscodec_info info;
    size_t m;

    for (int kind = 0; kind < 5; kind++) {
        size_t len = sample_chunk(p, kind);
        for (size_t cut = 0; cut < len; cut++) {
            /* a copy of exactly `cut` bytes, so ASan sees any read past it */
            uint8_t *c = malloc(cut ? cut : 1);
            memcpy(c, p->buf, cut);
            assert_int_equal(disco_tscodec_decode(c, cut, p->ts2, p->v2, 64, &m, &st),
                             DISCO_ERR_CORRUPT);
            assert_int_equal(disco_tscodec_info_read(c, cut, &info, &st), DISCO_ERR_CORRUPT);
            free(c);
        }
        /* bytes after the chunk are not part of it */
        memset(p->buf + len, 0xAB, 16);
        assert_int_equal(disco_tscodec_info_read(p->buf, len + 16, &info, &st), DISCO_OK);
        assert_int_equal(info.size, len);
        assert_int_equal(disco_tscodec_decode(p->buf, len + 16, p->ts2, p->v2, 64, &m, &st),
                         DISCO_OK);
    }
    assert_int_equal(disco_tscodec_info_read(NULL, 0, &info, &st), DISCO_ERR_CORRUPT);
}

/* Rewrites the CRC after a change, so the decoder's own checks are what stands. */
static void fix_crc(uint8_t *buf, size_t len)
{
    uint32_t c = disco_crc32c(0, buf, len - 4);

    for (int i = 0; i < 4; i++)
        buf[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void test_forged_checksums(void **state)
{
    pts *p = *state;
    disco_status st = {0};
    size_t m;

    for (int kind = 0; kind < 5; kind++) {
        size_t len = sample_chunk(p, kind);
        uint8_t *c = malloc(len);
        for (size_t bit = 0; bit < (len - 4) * 8; bit++) {
            memcpy(c, p->buf, len);
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            fix_crc(c, len);
            int rc = disco_tscodec_decode(c, len, p->ts2, p->v2, 64, &m, &st);
            assert_true(rc == DISCO_OK || rc == DISCO_ERR_CORRUPT || rc == DISCO_ERR_LIMIT);
        }
        for (int round = 0; len > 60 && round < 2000; round++) {
            memcpy(c, p->buf, len);
            for (int k = 0; k < 1 + round % 4; k++)
                c[56 + rnd() % (len - 60)] = (uint8_t)rnd();
            fix_crc(c, len);
            int rc = disco_tscodec_decode(c, len, p->ts2, p->v2, 64, &m, &st);
            assert_true(rc == DISCO_OK || rc == DISCO_ERR_CORRUPT);
        }
        free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round),
        cmocka_unit_test_setup_teardown(test_round_then_decode_is_exact, pts_setup, pts_teardown),
        cmocka_unit_test(test_precision_text),
        cmocka_unit_test_setup_teardown(test_edge_values, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_float32_edges, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_extreme_timestamps, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_bucket_edges, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_single_and_two_points, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_max_points, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_bound_holds, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_equal_consecutive_and_irregular, pts_setup,
                                        pts_teardown),
        cmocka_unit_test_setup_teardown(test_modes_chosen, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_timestamp_modes, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_sizes, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_encode_errors, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_flipped_bits, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_truncated, pts_setup, pts_teardown),
        cmocka_unit_test_setup_teardown(test_forged_checksums, pts_setup, pts_teardown),
    };
    return cmocka_run_group_tests_name("store/tscodec", tests, NULL, NULL);
}
