/*
 * tscodec.c - value precision and the encoder of compressed chunks; the
 * decoder is in tscodec_decode.c, the bit streams in tscodec_bits.h.
 *
 * Chunk layout (integers little-endian, streams as in tscodec_bits.h):
 *
 *   off  size
 *     0     4  magic "DTC1"
 *     4     1  version (1)
 *     5     1  ts mode      0 REGULAR, 1 DOD
 *     6     1  value mode   0 CONST, 1 XOR64, 2 XOR32, 3 INT
 *     7     1  value param  INT: decimals d (bits 0-3) | 0x10 when n is
 *                           coded by deltas, not deltas of deltas; else 0
 *     8     4  count        1 .. 65536
 *    12     4  ts bytes     length of the timestamp stream
 *    16     4  value bytes  length of the value stream
 *    20     4  zero
 *    24     8  first timestamp
 *    32     8  last timestamp
 *    40     8  ts param     REGULAR: the delta (0 for one point); DOD: 0
 *    48     8  first value  CONST, XOR64: its bits; XOR32: its float bits;
 *                           INT: n of the first value (two's complement)
 *    56        timestamp stream, then value stream
 *   end     4  CRC-32C of all bytes before it
 *
 * Streams hold points 1 .. count-1 (point 0 is in the header):
 *
 *   DOD     per point the bucket code of zigzag(delta - previous delta),
 *           the delta before point 1 counting as 0; deltas are taken
 *           modulo 2^64, so any increasing int64 timestamps fit.
 *   INT     per point the bucket code of zigzag(delta of n) or of
 *           zigzag(delta of n - previous delta); value = (double)n / 10^d.
 *   XOR64   per point x = bits ^ previous bits, W = 64, F = 6:
 *             0                           x == 0
 *             10 <len bits>               x inside the current window
 *             11 <lead:F> <len-1:F> <len bits>   new window
 *           the window (lead zeros, len bits) starts as (0, W).
 *   XOR32   the same on float bit patterns, W = 32, F = 5.
 */
#include "disco/tscodec.h"

#include "disco/crc32c.h"
#include "tscodec_bits.h"
#include "tscodec_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const double disco__tscodec_pow10[DISCO__TSC_MAX_DECIMALS + 1] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
};

/* --- precision ----------------------------------------------------------- */

/*
 * n = v * 10^d rounded to an integer, for |v * 10^d| < 2^53. Below 2^51
 * adding and removing 1.5 * 2^52 rounds (faster than llround; any n that
 * reproduces v will do, and as_decimal() checks that it does).
 */
static inline int64_t decimal_int(double v, unsigned d)
{
    const double magic = 0x1.8p52;
    double s = v * disco__tscodec_pow10[d];

    if (fabs(s) < 0x1p51)
        return (int64_t)((s + magic) - magic);
    return (int64_t)llround(s);
}

/* Whether v is exactly (double)n / 10^d with n = decimal_int(v, d), |n| < 2^53. */
static inline int as_decimal(double v, unsigned d)
{
    if (!(fabs(v * disco__tscodec_pow10[d]) < DISCO__TSC_INT_LIMIT))
        return 0;
    double r = (double)decimal_int(v, d);
    if (d > 0) /* r / 1 is r */
        r /= disco__tscodec_pow10[d];
    return tsc_dbits(r) == tsc_dbits(v);
}

double disco_ts_round(double v, const disco_ts_precision *p)
{
    if (!p || p->kind == DISCO_TS_FLOAT64)
        return v;
    if (p->kind == DISCO_TS_FLOAT32)
        return (double)(float)v;
    if (p->decimals < 0 || p->decimals > DISCO__TSC_MAX_DECIMALS)
        return v;
    double scale = disco__tscodec_pow10[p->decimals], s = v * scale;
    if (!(fabs(s) < DISCO__TSC_ROUND_LIMIT))
        return v;
    return (double)llround(s) / scale;
}

int disco_ts_precision_parse(const char *text, disco_ts_precision *p, disco_status *st)
{
    const char *t = text ? text : "";

    if (strcmp(t, "float64") == 0) {
        *p = (disco_ts_precision){DISCO_TS_FLOAT64, 0};
        return DISCO_OK;
    }
    if (strcmp(t, "float32") == 0) {
        *p = (disco_ts_precision){DISCO_TS_FLOAT32, 0};
        return DISCO_OK;
    }
    if (strncmp(t, "decimal:", 8) == 0 && t[8] >= '0' && t[8] <= '9' && t[9] == '\0') {
        *p = (disco_ts_precision){DISCO_TS_DECIMAL, t[8] - '0'};
        return DISCO_OK;
    }
    return disco_status_set(st, DISCO_ERR_INVAL, "precision",
                            "precision '%.64s': expected float64, float32 or decimal:N "
                            "with N in 0..9",
                            t);
}

void disco_ts_precision_format(const disco_ts_precision *p, char *buf, size_t size)
{
    if (!buf || size == 0)
        return;
    if (p->kind == DISCO_TS_FLOAT32)
        snprintf(buf, size, "float32");
    else if (p->kind == DISCO_TS_DECIMAL)
        snprintf(buf, size, "decimal:%d", p->decimals);
    else
        snprintf(buf, size, "float64");
}

/* --- per-chunk choices ------------------------------------------------------ */

typedef struct tsc_plan {
    uint8_t ts_mode, v_mode;
    uint8_t decimals, by_delta; /* INT */
    uint64_t ts_delta;          /* REGULAR */
} tsc_plan;

static int plan_ts(const int64_t *ts, size_t n, tsc_plan *pl, disco_status *st)
{
    uint64_t d0 = n > 1 ? (uint64_t)ts[1] - (uint64_t)ts[0] : 0;
    int regular = 1;

    for (size_t i = 1; i < n; i++) {
        if (ts[i] <= ts[i - 1])
            return disco_status_set(st, DISCO_ERR_INVAL, "ts",
                                    "timestamps must increase: ts[%zu] = %lld follows %lld", i,
                                    (long long)ts[i], (long long)ts[i - 1]);
        regular &= (uint64_t)ts[i] - (uint64_t)ts[i - 1] == d0;
    }
    pl->ts_mode = regular ? DISCO_TSCODEC_TS_REGULAR : DISCO_TSCODEC_TS_DOD;
    pl->ts_delta = regular ? d0 : 0;
    return DISCO_OK;
}

#define PLAN_PREFIX 512 /* points sampled to choose between INT and XOR */

static int all_identical(const double *v, size_t n)
{
    uint64_t b0 = tsc_dbits(v[0]);

    for (size_t i = 1; i < n; i++)
        if (tsc_dbits(v[i]) != b0)
            return 0;
    return 1;
}

static int float32_exact(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tsc_dbits((double)(float)v[i]) != tsc_dbits(v[i]))
            return 0;
    return 1;
}

/*
 * Bits of INT coding at d decimals, by deltas of deltas (cost[0]) and by
 * deltas (cost[1]); returns the index of the first value that is not
 * n / 10^d, or n when all are.
 */
static size_t int_scan(const double *v, size_t n, unsigned d, uint64_t cost[2])
{
    uint64_t prev, prev_delta = 0;

    cost[0] = cost[1] = 0;
    if (!as_decimal(v[0], d))
        return 0;
    prev = (uint64_t)decimal_int(v[0], d);
    for (size_t i = 1; i < n; i++) {
        if (!as_decimal(v[i], d))
            return i;
        uint64_t x = (uint64_t)decimal_int(v[i], d), delta = x - prev;
        cost[0] += tsc_bucket_cost_estimate(tsc_zigzag(delta - prev_delta));
        cost[1] += tsc_bucket_cost_estimate(tsc_zigzag(delta));
        prev = x;
        prev_delta = delta;
    }
    return n;
}

/* The fewest decimals d <= dmax that give every value exactly, or -1. */
static int int_decimals(const double *v, size_t n, unsigned dmax, uint64_t cost[2])
{
    for (unsigned d = 0; d <= dmax; d++)
        if (int_scan(v, n, d, cost) == n)
            return (int)d;
    return -1;
}

/* --- streams ------------------------------------------------------------------ */

static void put_ts(tsc_writer *w, const int64_t *ts, size_t n)
{
    uint64_t prev_delta = 0;

    for (size_t i = 1; i < n; i++) {
        uint64_t delta = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
        tsc_put_bucket(w, tsc_zigzag(delta - prev_delta));
        prev_delta = delta;
    }
}

static uint64_t int_of(double v, unsigned d)
{
    DISCO_ASSERT(as_decimal(v, d));
    return (uint64_t)decimal_int(v, d);
}

static void put_int(tsc_writer *w, const double *v, size_t n, unsigned d, int by_delta)
{
    uint64_t prev = int_of(v[0], d), prev_delta = 0;

    for (size_t i = 1; i < n; i++) {
        uint64_t cur = int_of(v[i], d), delta = cur - prev;
        tsc_put_bucket(w, tsc_zigzag(by_delta ? delta : delta - prev_delta));
        prev = cur;
        prev_delta = delta;
    }
}

static uint64_t float_bits(double v)
{
    float f = (float)v;
    uint32_t u;

    memcpy(&u, &f, 4);
    return u;
}

/* XOR of successive patterns, `width` 64 (doubles) or 32 (floats). */
static void put_xor(tsc_writer *w, const double *v, size_t n, unsigned width)
{
    unsigned fbits = width == 64 ? 6 : 5, wlead = 0, wlen = width;
    uint64_t prev = width == 64 ? tsc_dbits(v[0]) : float_bits(v[0]);

    for (size_t i = 1; i < n && w->bits <= w->limit; i++) {
        uint64_t cur = width == 64 ? tsc_dbits(v[i]) : float_bits(v[i]), x = cur ^ prev;
        prev = cur;
        if (x == 0) {
            tsc_put(w, 0, 1);
            continue;
        }
        unsigned lead = (unsigned)__builtin_clzll(x) - (64 - width);
        unsigned trail = (unsigned)__builtin_ctzll(x), len = width - lead - trail;
        if (lead >= wlead && trail >= width - wlead - wlen && wlen <= len + 2 * fbits) {
            tsc_put(w, 2, 2);
            tsc_put64(w, x >> (width - wlead - wlen), wlen);
            continue;
        }
        tsc_put(w, 3, 2);
        tsc_put(w, (uint64_t)lead << fbits | (len - 1), 2 * fbits);
        tsc_put64(w, x >> trail, len);
        wlead = lead;
        wlen = len;
    }
}

static void put_values(tsc_writer *w, const double *v, size_t n, const tsc_plan *pl)
{
    switch (pl->v_mode) {
    case DISCO_TSCODEC_V_XOR64:
        put_xor(w, v, n, 64);
        break;
    case DISCO_TSCODEC_V_XOR32:
        put_xor(w, v, n, 32);
        break;
    case DISCO_TSCODEC_V_INT:
        put_int(w, v, n, pl->decimals, pl->by_delta);
        break;
    default:
        break;
    }
}

/* Bits of the value stream, or something above `limit` once it is passed. */
static uint64_t values_cost(const double *v, size_t n, const tsc_plan *pl, uint64_t limit)
{
    tsc_writer w;

    tsc_writer_init(&w, NULL, NULL);
    w.limit = limit;
    put_values(&w, v, n, pl);
    return w.bits;
}

/*
 * Whether INT beats the XOR mode in `pl` by a wide margin on a prefix of
 * the chunk: then the full XOR trial is skipped (it would cost as much as
 * encoding the chunk again). Either choice decodes exactly; this only
 * trades a little size in rare chunks for encoding speed.
 */
static int int_clearly_smaller(const double *v, size_t n, unsigned d, int by_delta,
                               const tsc_plan *pl)
{
    size_t m = n < PLAN_PREFIX ? n : PLAN_PREFIX;
    uint64_t cost[2], xor_bits;

    if (m == n)
        return 0;
    int_scan(v, m, d, cost);
    xor_bits = values_cost(v, m, pl, UINT64_MAX);
    return xor_bits > cost[by_delta] + cost[by_delta] / 4;
}

/* CONST, else the smallest of INT (both ways) and XOR32 or XOR64. */
static void plan_values(const double *v, size_t n, const disco_ts_precision *p, tsc_plan *pl)
{
    unsigned dmax = p->kind == DISCO_TS_DECIMAL ? (unsigned)p->decimals : DISCO__TSC_MAX_DECIMALS;
    size_t m = n < PLAN_PREFIX ? n : PLAN_PREFIX;
    uint64_t cost[2];

    pl->decimals = pl->by_delta = 0;
    if (all_identical(v, n)) {
        pl->v_mode = DISCO_TSCODEC_V_CONST;
        return;
    }
    /* The XOR width from a prefix first: a full check only if XOR may win. */
    pl->v_mode = float32_exact(v, m) ? DISCO_TSCODEC_V_XOR32 : DISCO_TSCODEC_V_XOR64;
    int d = int_decimals(v, n, dmax, cost);
    int by_delta = d >= 0 && cost[1] <= cost[0];
    if (d >= 0 && int_clearly_smaller(v, n, (unsigned)d, by_delta, pl))
        goto use_int;
    if (pl->v_mode == DISCO_TSCODEC_V_XOR32 && m < n && !float32_exact(v + m, n - m))
        pl->v_mode = DISCO_TSCODEC_V_XOR64;
    if (d < 0 || values_cost(v, n, pl, cost[by_delta]) < cost[by_delta])
        return;
use_int:
    pl->v_mode = DISCO_TSCODEC_V_INT;
    pl->decimals = (uint8_t)d;
    pl->by_delta = (uint8_t)by_delta;
}

/* --- encoder ------------------------------------------------------------------- */

size_t disco_tscodec_bound(size_t n)
{
    size_t per_point = DISCO__TSC_TS_MAX_BITS + DISCO__TSC_V_MAX_BITS;

    return DISCO__TSC_HEADER + 4 + (n * per_point + 7) / 8 + 2;
}

static uint64_t first_value(const double *v, const tsc_plan *pl)
{
    if (pl->v_mode == DISCO_TSCODEC_V_XOR32)
        return float_bits(v[0]);
    if (pl->v_mode == DISCO_TSCODEC_V_INT)
        return int_of(v[0], pl->decimals);
    return tsc_dbits(v[0]);
}

static void put_header(uint8_t *out, const int64_t *ts, const double *v, size_t n,
                       const tsc_plan *pl, uint64_t ts_bytes, uint64_t v_bytes)
{
    memset(out, 0, DISCO__TSC_HEADER);
    memcpy(out + DISCO__TSC_H_MAGIC, DISCO__TSC_MAGIC, 4);
    out[DISCO__TSC_H_VERSION] = DISCO__TSC_VERSION;
    out[DISCO__TSC_H_TS_MODE] = pl->ts_mode;
    out[DISCO__TSC_H_V_MODE] = pl->v_mode;
    if (pl->v_mode == DISCO_TSCODEC_V_INT)
        out[DISCO__TSC_H_V_PARAM] =
            (uint8_t)(pl->decimals | (pl->by_delta ? DISCO__TSC_BY_DELTA : 0));
    tsc_put_le32(out + DISCO__TSC_H_COUNT, (uint32_t)n);
    tsc_put_le32(out + DISCO__TSC_H_TS_BYTES, (uint32_t)ts_bytes);
    tsc_put_le32(out + DISCO__TSC_H_V_BYTES, (uint32_t)v_bytes);
    tsc_put_le64(out + DISCO__TSC_H_T_FIRST, (uint64_t)ts[0]);
    tsc_put_le64(out + DISCO__TSC_H_T_LAST, (uint64_t)ts[n - 1]);
    tsc_put_le64(out + DISCO__TSC_H_TS_PARAM, pl->ts_delta);
    tsc_put_le64(out + DISCO__TSC_H_V_FIRST, first_value(v, pl));
}

static int check_args(const int64_t *ts, const double *v, size_t n, const disco_ts_precision *p,
                      disco_status *st)
{
    if (n < 1 || n > DISCO_TSCODEC_MAX_POINTS)
        return disco_status_set(st, DISCO_ERR_INVAL, "n", "chunk of %zu points: must hold 1..%d", n,
                                DISCO_TSCODEC_MAX_POINTS);
    if (!ts || !v || !p)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "chunk: no points or no precision");
    if (p->kind != DISCO_TS_FLOAT64 && p->kind != DISCO_TS_FLOAT32 && p->kind != DISCO_TS_DECIMAL)
        return disco_status_set(st, DISCO_ERR_INVAL, "precision", "precision kind %d unknown",
                                (int)p->kind);
    if (p->kind == DISCO_TS_DECIMAL && (p->decimals < 0 || p->decimals > DISCO__TSC_MAX_DECIMALS))
        return disco_status_set(st, DISCO_ERR_INVAL, "precision",
                                "precision decimal:%d: decimals must be in 0..%d", p->decimals,
                                DISCO__TSC_MAX_DECIMALS);
    return DISCO_OK;
}

int disco_tscodec_encode(const int64_t *ts, const double *v, size_t n, const disco_ts_precision *p,
                         uint8_t *out, size_t cap, size_t *len, disco_status *st)
{
    tsc_plan pl;
    tsc_writer w;
    int rc = check_args(ts, v, n, p, st);

    if (rc == DISCO_OK)
        rc = plan_ts(ts, n, &pl, st);
    if (rc != DISCO_OK)
        return rc;
    plan_values(v, n, p, &pl);
    if (cap < DISCO__TSC_HEADER + 4 || !out)
        goto too_small;
    tsc_writer_init(&w, out + DISCO__TSC_HEADER, out + cap - 4);
    if (pl.ts_mode == DISCO_TSCODEC_TS_DOD)
        put_ts(&w, ts, n);
    uint64_t ts_bytes = tsc_writer_finish(&w);
    int overflow = w.overflow;
    tsc_writer_init(&w, w.p, out + cap - 4);
    put_values(&w, v, n, &pl);
    uint64_t v_bytes = tsc_writer_finish(&w);
    if (overflow || w.overflow)
        goto too_small;
    put_header(out, ts, v, n, &pl, ts_bytes, v_bytes);
    size_t body = DISCO__TSC_HEADER + (size_t)(ts_bytes + v_bytes);
    tsc_put_le32(out + body, disco_crc32c(0, out, body));
    *len = body + 4;
    return DISCO_OK;

too_small:
    return disco_status_set(st, DISCO_ERR_LIMIT, "cap",
                            "chunk of %zu points does not fit in %zu bytes", n, cap);
}
