/*
 * tscodec_decode.c - the decoder of compressed chunks (layout in tscodec.c).
 *
 * Order of checks: the header must fit, its magic and version match, the
 * sizes it gives fit in the buffer, the CRC match; then every header field
 * must be one the encoder could have written. The streams are decoded with
 * a reader that cannot leave them (tscodec_bits.h); a stream that ends
 * early or late, a window outside its word, a timestamp that does not
 * increase or misses the last timestamp, or an integer outside +-2^53 make
 * the chunk CORRUPT. Loop invariants are cheap flags, tested once at the end.
 */
#include "disco/tscodec.h"

#include "disco/crc32c.h"
#include "tscodec_bits.h"
#include "tscodec_int.h"

#include <string.h>

typedef struct tsc_head {
    uint32_t count, ts_bytes, v_bytes, zero;
    uint8_t ts_mode, v_mode, v_param;
    int64_t t_first, t_last;
    uint64_t ts_param, v_first;
} tsc_head;

#define CORRUPT(st, ...) disco_status_set((st), DISCO_ERR_CORRUPT, "chunk", __VA_ARGS__)

static void head_parse(const uint8_t *b, tsc_head *h)
{
    h->ts_mode = b[DISCO__TSC_H_TS_MODE];
    h->v_mode = b[DISCO__TSC_H_V_MODE];
    h->v_param = b[DISCO__TSC_H_V_PARAM];
    h->count = tsc_le32(b + DISCO__TSC_H_COUNT);
    h->ts_bytes = tsc_le32(b + DISCO__TSC_H_TS_BYTES);
    h->v_bytes = tsc_le32(b + DISCO__TSC_H_V_BYTES);
    h->zero = tsc_le32(b + DISCO__TSC_H_ZERO);
    h->t_first = (int64_t)tsc_le64(b + DISCO__TSC_H_T_FIRST);
    h->t_last = (int64_t)tsc_le64(b + DISCO__TSC_H_T_LAST);
    h->ts_param = tsc_le64(b + DISCO__TSC_H_TS_PARAM);
    h->v_first = tsc_le64(b + DISCO__TSC_H_V_FIRST);
}

static int head_check_ts(const tsc_head *h, disco_status *st)
{
    uint64_t span = (uint64_t)h->t_last - (uint64_t)h->t_first, prod;

    if (h->t_first > h->t_last || (h->count == 1) != (h->t_first == h->t_last))
        return CORRUPT(st, "chunk: %u points from %lld to %lld", h->count, (long long)h->t_first,
                       (long long)h->t_last);
    if (h->ts_mode == DISCO_TSCODEC_TS_DOD) {
        if (h->count < 2 || h->ts_param != 0)
            return CORRUPT(st, "chunk: bad delta-of-delta timestamp header");
        return DISCO_OK;
    }
    if (h->ts_mode != DISCO_TSCODEC_TS_REGULAR)
        return CORRUPT(st, "chunk: unknown timestamp mode %u", h->ts_mode);
    if (h->ts_bytes != 0 || __builtin_mul_overflow(h->ts_param, h->count - 1, &prod) ||
        prod != span || (h->count > 1 && h->ts_param == 0))
        return CORRUPT(st, "chunk: regular timestamps every %llu do not span %lld..%lld",
                       (unsigned long long)h->ts_param, (long long)h->t_first,
                       (long long)h->t_last);
    return DISCO_OK;
}

static int head_check_values(const tsc_head *h, disco_status *st)
{
    uint64_t n0 = h->v_first + ((uint64_t)1 << 53) - 1;

    if (h->v_mode > DISCO_TSCODEC_V_INT)
        return CORRUPT(st, "chunk: unknown value mode %u", h->v_mode);
    if (h->v_mode == DISCO_TSCODEC_V_CONST ? h->v_bytes != 0 : h->count < 2)
        return CORRUPT(st, "chunk: value mode %u with %u points and %u stream bytes", h->v_mode,
                       h->count, h->v_bytes);
    if (h->v_mode == DISCO_TSCODEC_V_INT) {
        unsigned d = h->v_param & DISCO__TSC_DECIMALS_MASK;
        if ((h->v_param & ~(DISCO__TSC_DECIMALS_MASK | DISCO__TSC_BY_DELTA)) ||
            d > DISCO__TSC_MAX_DECIMALS || n0 > ((uint64_t)1 << 54) - 2)
            return CORRUPT(st, "chunk: bad integer value header");
    } else if (h->v_param != 0) {
        return CORRUPT(st, "chunk: value param %u with value mode %u", h->v_param, h->v_mode);
    }
    if (h->v_mode == DISCO_TSCODEC_V_XOR32 && h->v_first > 0xFFFFFFFFu)
        return CORRUPT(st, "chunk: first float32 value out of range");
    return DISCO_OK;
}

/* Header, sizes and CRC; on success h describes a chunk of h->size bytes. */
static int head_read(const uint8_t *buf, size_t len, tsc_head *h, uint64_t *size, disco_status *st)
{
    if (!buf || len < DISCO__TSC_HEADER + 4)
        return CORRUPT(st, "chunk: %zu bytes, less than a header", buf ? len : 0);
    if (memcmp(buf + DISCO__TSC_H_MAGIC, DISCO__TSC_MAGIC, 4) != 0)
        return CORRUPT(st, "chunk: bad magic");
    if (buf[DISCO__TSC_H_VERSION] != DISCO__TSC_VERSION)
        return CORRUPT(st, "chunk: version %u, expected %u", buf[DISCO__TSC_H_VERSION],
                       DISCO__TSC_VERSION);
    head_parse(buf, h);
    *size = (uint64_t)DISCO__TSC_HEADER + h->ts_bytes + h->v_bytes + 4;
    if (*size > len)
        return CORRUPT(st, "chunk: header gives %llu bytes, only %zu there",
                       (unsigned long long)*size, len);
    uint32_t want = tsc_le32(buf + *size - 4), got = disco_crc32c(0, buf, (size_t)*size - 4);
    if (want != got)
        return CORRUPT(st, "chunk: CRC-32C 0x%08x, computed 0x%08x", want, got);
    if (h->count < 1 || h->count > DISCO_TSCODEC_MAX_POINTS || h->zero != 0)
        return CORRUPT(st, "chunk: bad point count %u", h->count);
    int rc = head_check_ts(h, st);
    return rc != DISCO_OK ? rc : head_check_values(h, st);
}

int disco_tscodec_info_read(const uint8_t *buf, size_t len, disco_tscodec_info *info,
                            disco_status *st)
{
    tsc_head h;
    uint64_t size;
    int rc = head_read(buf, len, &h, &size, st);

    if (rc != DISCO_OK)
        return rc;
    info->count = h.count;
    info->t_first = h.t_first;
    info->t_last = h.t_last;
    info->ts_mode = h.ts_mode;
    info->value_mode = h.v_mode;
    info->size = (size_t)size;
    return DISCO_OK;
}

/* --- streams ------------------------------------------------------------------ */

#define SIGN_BIT ((uint64_t)1 << 63)

/* Deltas are checked in offset form (ts ^ SIGN_BIT, ordered as unsigned). */
static int dec_ts_dod(tsc_reader *r, int64_t *ts, const tsc_head *h)
{
    uint64_t u = (uint64_t)h->t_first ^ SIGN_BIT, delta = 0;
    int bad = 0;

    ts[0] = h->t_first;
    for (uint32_t i = 1; i < h->count; i++) {
        delta += tsc_unzigzag(tsc_get_bucket(r));
        bad |= (delta == 0) | (delta > ~u);
        u += delta;
        ts[i] = (int64_t)(u ^ SIGN_BIT);
    }
    return !bad && ts[h->count - 1] == h->t_last && tsc_reader_done(r);
}

static void dec_ts_regular(int64_t *ts, const tsc_head *h)
{
    uint64_t t = (uint64_t)h->t_first;

    for (uint32_t i = 0; i < h->count; i++, t += h->ts_param)
        ts[i] = (int64_t)t;
}

static int dec_int(tsc_reader *r, double *v, const tsc_head *h)
{
    const double scale = disco__tscodec_pow10[h->v_param & DISCO__TSC_DECIMALS_MASK];
    const uint64_t keep = (h->v_param & DISCO__TSC_BY_DELTA) ? 0 : ~(uint64_t)0;
    const uint64_t lim = (uint64_t)1 << 53;
    uint64_t n = h->v_first, delta = 0;
    int bad = 0;

    v[0] = (double)(int64_t)n / scale;
    for (uint32_t i = 1; i < h->count; i++) {
        delta = (delta & keep) + tsc_unzigzag(tsc_get_bucket(r));
        n += delta;
        bad |= n + (lim - 1) > 2 * lim - 2;
        v[i] = (double)(int64_t)n / scale;
    }
    return !bad && tsc_reader_done(r);
}

/* n bits, 1 <= n <= 64, refilling only when the window runs short. */
static inline uint64_t get_field(tsc_reader *r, unsigned n)
{
    uint64_t hi = 0;

    if (n > r->cnt) {
        tsc_refill(r);
        if (n > r->cnt) {
            hi = tsc_get(r, n - 32) << 32;
            tsc_refill(r);
            n = 32;
        }
    }
    return hi | tsc_get(r, n);
}

static int dec_xor64(tsc_reader *r, double *v, const tsc_head *h)
{
    uint64_t prev = h->v_first;
    unsigned wlead = 0, wlen = 64;

    v[0] = tsc_bitsd(prev);
    for (uint32_t i = 1; i < h->count; i++) {
        tsc_refill(r);
        uint64_t top = r->acc >> 62;
        if (top < 2) {
            tsc_skip(r, 1);
        } else if (top == 2) {
            tsc_skip(r, 2);
            prev ^= get_field(r, wlen) << (64 - wlead - wlen);
        } else {
            uint64_t f = tsc_get(r, 14) & 0xFFF;
            wlead = (unsigned)(f >> 6);
            wlen = (unsigned)(f & 63) + 1;
            if (wlead + wlen > 64)
                return 0;
            prev ^= get_field(r, wlen) << (64 - wlead - wlen);
        }
        v[i] = tsc_bitsd(prev);
    }
    return tsc_reader_done(r);
}

static double float_from_bits(uint64_t u)
{
    uint32_t b = (uint32_t)u;
    float f;

    memcpy(&f, &b, 4);
    return (double)f;
}

/* As dec_xor64 on 32-bit words: 5-bit fields, and one refill covers a point. */
static int dec_xor32(tsc_reader *r, double *v, const tsc_head *h)
{
    uint64_t prev = h->v_first;
    unsigned wlead = 0, wlen = 32;

    v[0] = float_from_bits(prev);
    for (uint32_t i = 1; i < h->count; i++) {
        tsc_refill(r);
        uint64_t top = r->acc >> 62;
        if (top < 2) {
            tsc_skip(r, 1);
        } else if (top == 2) {
            tsc_skip(r, 2);
            prev ^= tsc_get(r, wlen) << (32 - wlead - wlen);
        } else {
            uint64_t f = tsc_get(r, 12) & 0x3FF;
            wlead = (unsigned)(f >> 5);
            wlen = (unsigned)(f & 31) + 1;
            if (wlead + wlen > 32)
                return 0;
            prev ^= tsc_get(r, wlen) << (32 - wlead - wlen);
        }
        v[i] = float_from_bits(prev);
    }
    return tsc_reader_done(r);
}

static int dec_values(const uint8_t *s, const tsc_head *h, double *v)
{
    tsc_reader r;

    tsc_reader_init(&r, s, h->v_bytes);
    switch (h->v_mode) {
    case DISCO_TSCODEC_V_CONST:
        for (uint32_t i = 0; i < h->count; i++)
            v[i] = tsc_bitsd(h->v_first);
        return 1;
    case DISCO_TSCODEC_V_XOR64:
        return dec_xor64(&r, v, h);
    case DISCO_TSCODEC_V_XOR32:
        return dec_xor32(&r, v, h);
    default:
        return dec_int(&r, v, h);
    }
}

int disco_tscodec_decode(const uint8_t *buf, size_t len, int64_t *ts, double *v, size_t cap,
                         size_t *n, disco_status *st)
{
    tsc_head h;
    uint64_t size;
    int rc = head_read(buf, len, &h, &size, st);

    if (rc != DISCO_OK)
        return rc;
    if (h.count > cap)
        return disco_status_set(st, DISCO_ERR_LIMIT, "cap",
                                "chunk of %u points does not fit in room for %zu", h.count, cap);
    const uint8_t *s = buf + DISCO__TSC_HEADER;
    if (h.ts_mode == DISCO_TSCODEC_TS_REGULAR) {
        dec_ts_regular(ts, &h);
    } else {
        tsc_reader r;
        tsc_reader_init(&r, s, h.ts_bytes);
        if (!dec_ts_dod(&r, ts, &h))
            return CORRUPT(st, "chunk: timestamp stream is malformed");
    }
    if (!dec_values(s + h.ts_bytes, &h, v))
        return CORRUPT(st, "chunk: value stream is malformed");
    *n = h.count;
    return DISCO_OK;
}
