/*
 * tscodec_bits.h - the bit streams, bucket code and byte helpers of the
 * chunk codec (tscodec.c), shared by its encoder and decoder.
 *
 * Streams are written most significant bit first:
 *
 *   byte      0               1               2
 *   bit       7 6 5 4 3 2 1 0 7 6 5 4 3 2 1 0 7 ...
 *   stream    a a a b b b b b b b c c c c 0 0 0     (a, b, c: fields; 0: padding)
 *
 * A stream ends on a byte boundary; the unused bits of its last byte are
 * zero.
 *
 * Writer: pending bits collect in a 64-bit word and leave 32 at a time.
 * With `p` NULL it only counts bits, so the encoder sizes a candidate
 * mode by running the real encoding without an output.
 *
 * Reader: a 64-bit window, most significant bit next, refilled with one
 * unaligned 8-byte load while 8 bytes remain; near the end the missing
 * bytes read as zero and only the position moves on. So the reader never
 * touches memory outside its stream, whatever the bits say; the decoder
 * then compares the position with the stream's length. After a refill at
 * least 56 bits are in the window.
 *
 * Bucket code of an unsigned value z (zig-zag of a signed delta): k ones,
 * a zero (none for k = 7), then `bits` bits of z - base.
 *
 *   k  code         bits  z covered
 *   0  0               0  0
 *   1  10              3  1 .. 8
 *   2  110             6  9 .. 72
 *   3  1110            9  73 .. 584
 *   4  11110          13  585 .. 8776
 *   5  111110         20  8777 .. 1057352
 *   6  1111110        32  1057353 .. 1057353 + 2^32 - 1
 *   7  1111111        64  anything (z itself)
 */
#ifndef DISCO_TSCODEC_BITS_H
#define DISCO_TSCODEC_BITS_H

#include <stdint.h>
#include <string.h>

/* --- little- and big-endian bytes ------------------------------------------ */

static inline uint32_t tsc_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t tsc_le64(const uint8_t *p)
{
    return (uint64_t)tsc_le32(p) | (uint64_t)tsc_le32(p + 4) << 32;
}

static inline void tsc_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void tsc_put_le64(uint8_t *p, uint64_t v)
{
    tsc_put_le32(p, (uint32_t)v);
    tsc_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint64_t tsc_be64(const uint8_t *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

_Static_assert(sizeof(double) == 8 && sizeof(float) == 4, "values are copied as 64/32-bit words");

/* --- values as bits ----------------------------------------------------------- */

static inline uint64_t tsc_dbits(double d)
{
    uint64_t u;

    memcpy(&u, &d, 8);
    return u;
}

static inline double tsc_bitsd(uint64_t u)
{
    double d;

    memcpy(&d, &u, 8);
    return d;
}

static inline uint64_t tsc_zigzag(uint64_t d)
{
    return (d << 1) ^ (0 - (d >> 63));
}

static inline uint64_t tsc_unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

/* --- bucket code ---------------------------------------------------------------- */

typedef struct tsc_bucket {
    uint8_t plen; /* length of the ones-and-zero prefix */
    uint8_t bits; /* payload bits */
    uint64_t base;
} tsc_bucket;

#define TSC_BUCKET_LAST 7

static const tsc_bucket tsc_buckets[TSC_BUCKET_LAST + 1] = {
    {1, 0, 0},    {2, 3, 1},     {3, 6, 9},        {4, 9, 73},
    {5, 13, 585}, {6, 20, 8777}, {7, 32, 1057353}, {7, 64, 0},
};

/* Smallest z of each bucket. */
static const uint64_t tsc_bucket_start[TSC_BUCKET_LAST + 1] = {
    0, 1, 9, 73, 585, 8777, 1057353, 1057353 + ((uint64_t)1 << 32),
};

/* Counts thresholds passed rather than searching: bucket sizes vary at random. */
static inline unsigned tsc_bucket_of(uint64_t z)
{
    unsigned k = 0;

    for (unsigned i = 1; i <= TSC_BUCKET_LAST; i++)
        k += z >= tsc_bucket_start[i];
    return k;
}

/*
 * Bits of the bucket code of z, estimated from its bit length alone (one
 * table look-up instead of seven comparisons): exact but near bucket
 * edges, where it may be off by one bucket. For planning only.
 */
static inline unsigned tsc_bucket_cost_estimate(uint64_t z)
{
    /* cost of the bucket holding 2^(len-1), len = bit length of z (0 for z = 0) */
    static const uint8_t by_len[65] = {
        1,  5,  5,  5,  5,  9,  9,  9,  13, 13, 13, 18, 18, 18, 18, 26, 26, 26, 26, 26, 26, 26,
        39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 39, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71,
        71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71, 71,
    };
    return by_len[z ? 64 - __builtin_clzll(z) : 0];
}

/* Bits of the bucket code of z. */
static inline unsigned tsc_bucket_cost(uint64_t z)
{
    const tsc_bucket *b = &tsc_buckets[tsc_bucket_of(z)];

    return b->plen + b->bits;
}

/* --- writer -------------------------------------------------------------------- */

typedef struct tsc_writer {
    uint8_t *p, *end; /* p NULL: count only */
    uint64_t acc;     /* pending bits, the newest lowest */
    unsigned cnt;     /* pending bits in acc, < 32 between calls */
    int overflow;     /* ran out of room */
    uint64_t bits;    /* bits put so far */
    uint64_t limit;   /* counting: encoders may stop once bits pass this */
} tsc_writer;

static inline void tsc_writer_init(tsc_writer *w, uint8_t *p, uint8_t *end)
{
    memset(w, 0, sizeof *w);
    w->p = p;
    w->end = end;
    w->limit = UINT64_MAX;
}

static inline void tsc_emit32(tsc_writer *w, uint32_t x)
{
    if (!w->p)
        return;
    if (w->end - w->p < 4) {
        w->overflow = 1;
        return;
    }
    w->p[0] = (uint8_t)(x >> 24);
    w->p[1] = (uint8_t)(x >> 16);
    w->p[2] = (uint8_t)(x >> 8);
    w->p[3] = (uint8_t)x;
    w->p += 4;
}

/* Puts the low n bits of x (n <= 32, x < 2^n). */
static inline void tsc_put(tsc_writer *w, uint64_t x, unsigned n)
{
    w->acc = (w->acc << n) | x;
    w->cnt += n;
    w->bits += n;
    if (w->cnt >= 32) {
        w->cnt -= 32;
        tsc_emit32(w, (uint32_t)(w->acc >> w->cnt));
    }
}

/* Puts the low n bits of x, n <= 64. */
static inline void tsc_put64(tsc_writer *w, uint64_t x, unsigned n)
{
    if (n > 32) {
        tsc_put(w, x >> 32, n - 32);
        x &= 0xFFFFFFFFu;
        n = 32;
    }
    tsc_put(w, x, n);
}

static inline void tsc_put_bucket(tsc_writer *w, uint64_t z)
{
    unsigned k = tsc_bucket_of(z);
    const tsc_bucket *b = &tsc_buckets[k];

    if (k == TSC_BUCKET_LAST) {
        tsc_put(w, 0x7F, 7);
        tsc_put64(w, z, 64);
        return;
    }
    /* prefix and payload together: at most 7 + 32 bits */
    uint64_t prefix = ((uint64_t)1 << b->plen) - 2;
    tsc_put64(w, prefix << b->bits | (z - b->base), b->plen + b->bits);
}

/* Pads to a byte boundary with zeros; returns the stream's bytes. */
static inline uint64_t tsc_writer_finish(tsc_writer *w)
{
    unsigned pad = (8 - w->cnt % 8) % 8;

    tsc_put(w, 0, pad);
    for (; w->cnt > 0; w->cnt -= 8) {
        if (w->p && w->p == w->end)
            w->overflow = 1;
        else if (w->p)
            *w->p++ = (uint8_t)(w->acc >> (w->cnt - 8));
    }
    return w->bits / 8;
}

/* --- reader -------------------------------------------------------------------- */

typedef struct tsc_reader {
    const uint8_t *buf;
    size_t len; /* bytes of the stream */
    size_t pos; /* next byte to load; beyond len once zeros were read */
    uint64_t acc;
    unsigned cnt; /* valid bits at the top of acc, <= 63 */
} tsc_reader;

static inline void tsc_reader_init(tsc_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->acc = 0;
    r->cnt = 0;
}

/* The 8 bytes at pos, zero beyond the stream. */
static inline uint64_t tsc_load_tail(const uint8_t *buf, size_t len, size_t pos)
{
    uint8_t tmp[8] = {0};

    if (pos < len)
        memcpy(tmp, buf + pos, len - pos);
    return tsc_be64(tmp);
}

static inline void tsc_refill(tsc_reader *r)
{
    uint64_t w;

    if (__builtin_expect(r->pos + 8 <= r->len, 1))
        w = tsc_be64(r->buf + r->pos);
    else
        w = tsc_load_tail(r->buf, r->len, r->pos);
    r->acc |= w >> r->cnt;
    r->pos += (63 - r->cnt) >> 3;
    r->cnt |= 56;
}

/* The next n bits, 0 <= n <= 63 (n <= cnt). */
static inline uint64_t tsc_peek(const tsc_reader *r, unsigned n)
{
    return (r->acc >> 1) >> (63 - n);
}

static inline void tsc_skip(tsc_reader *r, unsigned n)
{
    r->acc <<= n;
    r->cnt -= n;
}

/* Reads n bits, 0 <= n <= 56, with at least n bits in the window. */
static inline uint64_t tsc_get(tsc_reader *r, unsigned n)
{
    uint64_t x = tsc_peek(r, n);

    tsc_skip(r, n);
    return x;
}

/* Reads n bits, 1 <= n <= 64, refilling as needed. */
static inline uint64_t tsc_get64(tsc_reader *r, unsigned n)
{
    uint64_t hi = 0;

    tsc_refill(r);
    if (n > 56) {
        hi = tsc_get(r, n - 32) << 32;
        n = 32;
        tsc_refill(r);
    }
    return hi | tsc_get(r, n);
}

/*
 * The bucket of a code by its first 7 bits (k leading ones: bucket k), as
 * three tables so the loads do not wait on one another.
 */
#define TSC_R2(x) x, x
#define TSC_R4(x) TSC_R2(x), TSC_R2(x)
#define TSC_R8(x) TSC_R4(x), TSC_R4(x)
#define TSC_R16(x) TSC_R8(x), TSC_R8(x)
#define TSC_R32(x) TSC_R16(x), TSC_R16(x)
#define TSC_R64(x) TSC_R32(x), TSC_R32(x)
#define TSC_BY_PREFIX(b0, b1, b2, b3, b4, b5, b6, b7)                                              \
    {                                                                                              \
        TSC_R64(b0), TSC_R32(b1), TSC_R16(b2), TSC_R8(b3), TSC_R4(b4), TSC_R2(b5), b6, b7          \
    }
static const uint8_t tsc_prefix_plen[128] = TSC_BY_PREFIX(1, 2, 3, 4, 5, 6, 7, 7);
static const uint8_t tsc_prefix_bits[128] = TSC_BY_PREFIX(0, 3, 6, 9, 13, 20, 32, 64);
static const uint32_t tsc_prefix_base[128] = TSC_BY_PREFIX(0, 1, 9, 73, 585, 8777, 1057353, 0);

static inline uint64_t tsc_get_bucket(tsc_reader *r)
{
    tsc_refill(r);
    unsigned top = (unsigned)(r->acc >> 57);
    unsigned plen = tsc_prefix_plen[top], bits = tsc_prefix_bits[top];
    if (bits == 64) {
        tsc_skip(r, 7);
        return tsc_get64(r, 64);
    }
    uint64_t z = tsc_prefix_base[top] + ((r->acc << plen) >> 1 >> (63 - bits));
    tsc_skip(r, plen + bits);
    return z;
}

/*
 * After the last field: the stream must end within the last byte read, and
 * the padding bits must be zero. Returns 1 when it does.
 */
static inline int tsc_reader_done(tsc_reader *r)
{
    uint64_t used = (uint64_t)r->pos * 8 - r->cnt, total = (uint64_t)r->len * 8;

    if (used > total || total - used >= 8)
        return 0;
    tsc_refill(r);
    return tsc_peek(r, (unsigned)(total - used)) == 0;
}

#endif
