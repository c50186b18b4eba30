/*
 * tscodec.h - compressed chunks of one series' points.
 *
 * A chunk holds up to DISCO_TSCODEC_MAX_POINTS points of one series with
 * strictly increasing timestamps. It is self-contained and self-checking:
 *
 *   header   magic "DTC1", version, point count, timestamp mode, value mode,
 *            first timestamp, last timestamp, mode parameters
 *   payload  bit stream
 *   crc      CRC-32C of everything before it (little-endian u32)
 *
 * Timestamp modes: REGULAR (all deltas equal: nothing per point) or
 * delta-of-delta with variable-length buckets (Gorilla-style).
 * Value modes, chosen per chunk by the encoder (smallest wins):
 *   CONST    every value bit-identical: nothing per point
 *   XOR64    Gorilla XOR of successive float64 bit patterns
 *   XOR32    the same on float32 patterns (every value of the chunk a float)
 *   INT      values n / 10^d with integer n: zig-zag delta or
 *            delta-of-delta of n (whichever is smaller), variable-length
 *            (d = 0 for integral values; d > 0 for series stored with d
 *            decimal places, or any values that are exactly n / 10^d)
 *   XOR32 and INT are used only where they reproduce every value of the
 *   chunk bit for bit; otherwise the chunk falls back to XOR64.
 * Decoding returns exactly the values that were encoded (after the
 * series' precision was applied on ingest with disco_ts_round()), NaN
 * payloads and -0.0 included.
 *
 * Chunks are immutable byte strings: any number of threads may decode the
 * same chunk at once. The functions keep no state.
 */
#ifndef DISCO_TSCODEC_H
#define DISCO_TSCODEC_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_TSCODEC_MAX_POINTS 65536

/* disco_tscodec_info.ts_mode */
enum {
    DISCO_TSCODEC_TS_REGULAR = 0, /* all deltas equal */
    DISCO_TSCODEC_TS_DOD = 1,     /* delta-of-delta buckets */
};

/* disco_tscodec_info.value_mode */
enum {
    DISCO_TSCODEC_V_CONST = 0,
    DISCO_TSCODEC_V_XOR64 = 1,
    DISCO_TSCODEC_V_XOR32 = 2,
    DISCO_TSCODEC_V_INT = 3,
};

/* How a series' values are stored. */
typedef enum disco_ts_precision_kind {
    DISCO_TS_FLOAT64 = 0, /* exact doubles */
    DISCO_TS_FLOAT32 = 1, /* rounded to the nearest float on ingest */
    DISCO_TS_DECIMAL = 2, /* rounded to `decimals` decimal places on ingest */
} disco_ts_precision_kind;

typedef struct disco_ts_precision {
    disco_ts_precision_kind kind;
    int decimals; /* 0..9, with DISCO_TS_DECIMAL */
} disco_ts_precision;

/*
 * The value stored for `v` under `p`: v itself for FLOAT64, (double)(float)v
 * for FLOAT32, and for DECIMAL (double)n / 10^d with n = llround(v * 10^d),
 * which is how the decoder computes it, so stored values decode
 * bit-identically (-0.0 becomes 0.0). NaN and infinities pass through
 * unchanged; so do values too large to round (|v| * 10^d >= 2^50, where
 * rounding twice could move the value). Rounding a rounded value changes
 * nothing.
 */
double disco_ts_round(double v, const disco_ts_precision *p);

/* Parses "float64", "float32" or "decimal:N"; INVAL with a message otherwise. */
int disco_ts_precision_parse(const char *text, disco_ts_precision *p, disco_status *st);
/* Writes the text form ("decimal:1") into buf. */
void disco_ts_precision_format(const disco_ts_precision *p, char *buf, size_t size);

/* Largest encoded size of n points (for sizing the output buffer). */
size_t disco_tscodec_bound(size_t n);

/*
 * Encodes n (1..DISCO_TSCODEC_MAX_POINTS) points with strictly increasing
 * `ts`; values should already be rounded with disco_ts_round(v, p) (any
 * value is stored exactly; unrounded ones just compress worse). Writes at
 * most `cap` bytes and the length to *len; cap >= disco_tscodec_bound(n)
 * always suffices. INVAL for unsorted or duplicate timestamps, a bad n or
 * a bad precision; LIMIT when cap is too small. Allocates nothing.
 */
int disco_tscodec_encode(const int64_t *ts, const double *v, size_t n, const disco_ts_precision *p,
                         uint8_t *out, size_t cap, size_t *len, disco_status *st);

typedef struct disco_tscodec_info {
    uint32_t count;
    int64_t t_first, t_last;
    uint8_t ts_mode, value_mode;
    size_t size; /* bytes of the whole chunk, crc included */
} disco_tscodec_info;

/*
 * Reads the header of a chunk at `buf` (which may be followed by other
 * bytes) and checks its CRC. CORRUPT with a message for anything that is
 * not a well-formed chunk: never reads outside [buf, buf + len).
 */
int disco_tscodec_info_read(const uint8_t *buf, size_t len, disco_tscodec_info *info,
                            disco_status *st);

/*
 * Decodes a chunk into ts[] and v[] (room for `cap` points) and sets *n to
 * its count. CORRUPT for malformed input, never a crash; LIMIT when the
 * count exceeds cap. On failure ts[] and v[] may hold garbage. Allocates
 * nothing.
 */
int disco_tscodec_decode(const uint8_t *buf, size_t len, int64_t *ts, double *v, size_t cap,
                         size_t *n, disco_status *st);

#endif
