/*
 * fuzz_tschunk.c - the chunk decoder must fail cleanly on any bytes, and
 * encoding any points must decode bit for bit.
 *
 * Each input is used three ways:
 *   1. as a chunk: disco_tscodec_info_read() and disco_tscodec_decode();
 *   2. as a chunk whose CRC is rewritten to match (where its header's sizes
 *      fit), so the decoder's own checks face the bytes, not just the CRC;
 *   3. as points: byte 0 picks the precision, byte 1 how timestamps are
 *      made, byte 2 how values are made, then 16 bytes per point (8 for
 *      the timestamp, 8 for the value). Timestamps are sorted and made
 *      unique, values rounded; the chunk must decode to exactly them.
 * Any chunk that decodes must hold increasing timestamps matching its
 * header, and must re-encode and decode to the same points.
 */
#include "disco/crc32c.h"
#include "disco/tscodec.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXP DISCO_TSCODEC_MAX_POINTS

static int64_t g_ts[MAXP], g_ts2[MAXP];
static double g_v[MAXP], g_v2[MAXP];
static uint8_t g_chunk[MAXP * 20 + 64];

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;

    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Encodes n points and checks they come back bit for bit. */
static void roundtrip(size_t n, const disco_ts_precision *p)
{
    size_t len = 0, m = 0;
    disco_tscodec_info info;

    if (disco_tscodec_encode(g_ts, g_v, n, p, g_chunk, sizeof g_chunk, &len, NULL) != DISCO_OK)
        abort();
    if (len > disco_tscodec_bound(n) || disco_tscodec_info_read(g_chunk, len, &info, NULL) ||
        info.size != len || info.count != n)
        abort();
    if (disco_tscodec_decode(g_chunk, len, g_ts2, g_v2, MAXP, &m, NULL) != DISCO_OK || m != n)
        abort();
    if (memcmp(g_ts, g_ts2, n * 8) != 0 || memcmp(g_v, g_v2, n * 8) != 0)
        abort();
}

/* Decodes a chunk; one that decodes must be consistent and re-encode. */
static void decode(const uint8_t *buf, size_t len)
{
    disco_tscodec_info info;
    size_t n = 0;
    int irc = disco_tscodec_info_read(buf, len, &info, NULL);
    int rc = disco_tscodec_decode(buf, len, g_ts, g_v, MAXP, &n, NULL);

    if (irc != DISCO_OK && rc == DISCO_OK)
        abort();
    if (rc != DISCO_OK)
        return;
    if (n != info.count || n == 0 || g_ts[0] != info.t_first || g_ts[n - 1] != info.t_last)
        abort();
    for (size_t i = 1; i < n; i++)
        if (g_ts[i] <= g_ts[i - 1])
            abort();
    const disco_ts_precision f64 = {DISCO_TS_FLOAT64, 0};
    roundtrip(n, &f64);
}

static void decode_forged(const uint8_t *data, size_t size)
{
    if (size < 60)
        return;
    uint64_t total = 56 + (uint64_t)le32(data + 12) + le32(data + 16) + 4;
    if (total > size)
        return;
    uint8_t *c = malloc((size_t)total);
    if (!c)
        return;
    memcpy(c, data, (size_t)total);
    uint32_t crc = disco_crc32c(0, c, (size_t)total - 4);
    for (int i = 0; i < 4; i++)
        c[total - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    decode(c, (size_t)total);
    free(c);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int64_t make_ts(int how, const uint8_t *rec, int64_t prev, size_t i)
{
    uint64_t x = le64(rec);

    if (how == 0)
        return (int64_t)x;
    if (how == 1)
        return i == 0 ? (int64_t)x : (int64_t)((uint64_t)prev + 1 + (x & 0xFF));
    return (int64_t)(i * 1000 + ((x & 7) == 0 ? x >> 56 : 0));
}

static double make_value(int how, const uint8_t *rec, double prev)
{
    uint64_t x = le64(rec + 8);
    double d;

    switch (how) {
    case 1:
        return (double)(int16_t)x / 10.0;
    case 2:
        memcpy(&d, &x, 8);
        return (double)(float)d;
    case 3:
        return prev + (double)(int8_t)x;
    default:
        memcpy(&d, &x, 8);
        return d;
    }
}

/* Builds points from the input (see top), sorted by time, one per time. */
static void from_points(const uint8_t *data, size_t size)
{
    disco_ts_precision p = {(disco_ts_precision_kind)(data[0] % 3), (data[0] / 3) % 10};
    int ts_how = data[1] % 3, v_how = data[2] % 4;
    size_t n = (size - 3) / 16, m = 0;

    if (n == 0)
        return;
    if (n > MAXP)
        n = MAXP;
    for (size_t i = 0; i < n; i++)
        g_ts[i] = make_ts(ts_how, data + 3 + 16 * i, i ? g_ts[i - 1] : 0, i);
    qsort(g_ts, n, sizeof *g_ts, cmp_i64);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || g_ts[i] != g_ts[m - 1])
            g_ts[m++] = g_ts[i];
    for (size_t i = 0; i < m; i++)
        g_v[i] = disco_ts_round(make_value(v_how, data + 3 + 16 * i, i ? g_v[i - 1] : 0), &p);
    roundtrip(m, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    decode_forged(data, size);
    if (size >= 3 + 16)
        from_points(data, size);
    return 0;
}
