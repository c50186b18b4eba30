/*
 * tsformat_int.h - what the ingest format parsers share (defined in tsformat.c).
 *
 *   tsformat.c        dispatch, options, all-or-nothing rollback, errors with
 *                     line and column, numbers, the series cache
 *   tsformat_json.c   the two JSON shapes
 *   tsformat_csv.c    RFC 4180 CSV
 *   tsformat_line.c   InfluxDB line protocol
 *   tsformat_export.c the CSV export writer (needs none of this)
 *
 * DESIGN
 *   A parser appends straight into the caller's batch; disco_tsformat_parse()
 *   remembers the batch's sample count and series count first and, when the
 *   parser fails, cuts the samples, the series table and the series index back
 *   to them, so a failed call leaves the batch as it found it.
 *
 *   Naming a series through disco_ts_batch_series() builds its canonical key
 *   and looks it up in a JSON object: far too slow for every line. The CSV and
 *   line-protocol parsers keep a series cache instead: an open-addressing hash
 *   table from the series' raw text in the input (two parts, e.g. the
 *   measurement-and-tags section and the field key of a line) to its index in
 *   the batch, so a series is resolved through the batch once per call.
 */
#ifndef DISCO_TSFORMAT_INT_H
#define DISCO_TSFORMAT_INT_H

#include "disco/tsformat.h"

#include <stddef.h>
#include <stdint.h>

/* Longest number token parsed (a longer one is an error). */
#define DISCO__TSFORMAT_NUMBER_MAX 400

/* Raw series text -> series index, for one parse call. */
typedef struct disco__tsformat_cache {
    struct disco__tsformat_slot *slots; /* cap slots, cap a power of two */
    size_t cap, used;
    char *keys; /* the keys' bytes, one after another */
    size_t keys_len, keys_cap;
} disco__tsformat_cache;

/* One parse call: its input, its options resolved, its output, its scratch. */
typedef struct disco__tsformat_ctx {
    const char *text;
    size_t len;
    const char *metric; /* default metric or NULL */
    const json_t *tags; /* tags under every series, or NULL */
    int64_t unit_ns;    /* line protocol timestamp unit */
    int64_t now_ms;     /* time of lines without one */
    disco_ts_batch *out;
    disco_status *st;
    disco__tsformat_cache cache;
} disco__tsformat_ctx;

/*
 * Sets INVAL with "line L, column C: <message>" for the byte at offset `off`
 * of the input and returns INVAL.
 */
int disco__tsformat_fail(disco__tsformat_ctx *c, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts "line L, column C: " before the status message a callee left; returns `rc`. */
int disco__tsformat_wrap(disco__tsformat_ctx *c, size_t off, int rc);

/* Room for disco__tsformat_show(): 64 bytes of input, "..." and the NUL. */
#define DISCO__TSFORMAT_SHOW_MAX 72

/*
 * Up to 64 bytes of s[0..n) for quoting in a message, control bytes as '?',
 * "..." when cut. Returns `buf`.
 */
const char *disco__tsformat_show(const char *s, size_t n, char buf[DISCO__TSFORMAT_SHOW_MAX]);

/* Sets NOMEM ("out of memory") and returns it. */
int disco__tsformat_nomem(disco__tsformat_ctx *c);

/*
 * Parses a decimal number: [+-]digits[.digits][(e|E)[+-]digits] (digits on at
 * least one side of the point), correctly rounded. With `words`, also NaN,
 * Inf, Infinity with an optional sign, in any case. Returns 0, -1 when the
 * text is not such a number, -2 when it overflows a double.
 */
int disco__tsformat_number(const char *s, size_t n, int words, double *v);

/* Parses [+-]digits into an int64; -1 when not that shape, -2 out of range. */
int disco__tsformat_int64(const char *s, size_t n, int64_t *v);

/* Hash of `n` bytes, chained through `seed`. */
uint64_t disco__tsformat_hash(const void *p, size_t n, uint64_t seed);

/* Looks up key a+b under hash h; 1 and *series when found, else 0. */
int disco__tsformat_cache_get(const disco__tsformat_cache *k, uint64_t h, const char *a, size_t na,
                              const char *b, size_t nb, uint32_t *series);

/* Adds key a+b -> series (not already present). 0 or NOMEM. */
int disco__tsformat_cache_put(disco__tsformat_cache *k, uint64_t h, const char *a, size_t na,
                              const char *b, size_t nb, uint32_t series);

/*
 * A new tag object holding the call's default tags (empty when none), for a
 * parser to add the input's own tags to. NULL on allocation failure.
 */
json_t *disco__tsformat_tags_new(const disco__tsformat_ctx *c);

/*
 * disco_ts_batch_series() on the call's batch; a failure is reported at
 * offset `off` of the input.
 */
int disco__tsformat_series(disco__tsformat_ctx *c, size_t off, const char *metric,
                           const json_t *tags, uint32_t *index);

/* Grows a byte buffer to hold at least `need` bytes. 0 or -1. */
int disco__tsformat_reserve(char **buf, size_t *cap, size_t need);

int disco__tsformat_parse_json(disco__tsformat_ctx *c);
int disco__tsformat_parse_csv(disco__tsformat_ctx *c);
int disco__tsformat_parse_line(disco__tsformat_ctx *c);

#endif
