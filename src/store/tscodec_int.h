/*
 * tscodec_int.h - chunk layout constants shared by the encoder (tscodec.c)
 * and the decoder (tscodec_decode.c); the layout is drawn in tscodec.c.
 */
#ifndef DISCO_TSCODEC_INT_H
#define DISCO_TSCODEC_INT_H

#include <stdint.h>

#define DISCO__TSC_MAGIC "DTC1"
#define DISCO__TSC_VERSION 1

/* Byte offsets in the header. */
enum {
    DISCO__TSC_H_MAGIC = 0,
    DISCO__TSC_H_VERSION = 4,
    DISCO__TSC_H_TS_MODE = 5,
    DISCO__TSC_H_V_MODE = 6,
    DISCO__TSC_H_V_PARAM = 7,
    DISCO__TSC_H_COUNT = 8,
    DISCO__TSC_H_TS_BYTES = 12,
    DISCO__TSC_H_V_BYTES = 16,
    DISCO__TSC_H_ZERO = 20,
    DISCO__TSC_H_T_FIRST = 24,
    DISCO__TSC_H_T_LAST = 32,
    DISCO__TSC_H_TS_PARAM = 40,
    DISCO__TSC_H_V_FIRST = 48,
    DISCO__TSC_HEADER = 56,
};

_Static_assert(DISCO__TSC_H_V_FIRST + 8 == DISCO__TSC_HEADER, "header fields end at its size");

/* INT value param: decimals in the low bits, this flag for delta coding. */
#define DISCO__TSC_DECIMALS_MASK 0x0F
#define DISCO__TSC_BY_DELTA 0x10

#define DISCO__TSC_MAX_DECIMALS 9

/* |n| and |v * 10^d| stay below 2^53, where doubles hold every integer. */
#define DISCO__TSC_INT_LIMIT 9007199254740992.0 /* 2^53 */

/*
 * disco_ts_round() rounds only below 2^50: there n / 10^d * 10^d is within
 * 0.25 of n, so a rounded value rounds to itself.
 */
#define DISCO__TSC_ROUND_LIMIT 1125899906842624.0 /* 2^50 */

/* Most bits one point can take in each stream: a 64-bit bucket; a new XOR64 window. */
#define DISCO__TSC_TS_MAX_BITS 71
#define DISCO__TSC_V_MAX_BITS 78

/* 10^0 .. 10^9, all exact doubles. */
extern const double disco__tscodec_pow10[DISCO__TSC_MAX_DECIMALS + 1];

#endif
