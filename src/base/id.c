/*
 * id.c - ULID-style sortable ids.
 *
 *   01JD3Q8W5R   7K2M9XQ4TBNC6VHE
 *   |--------|   |--------------|
 *   48-bit ms    80 random bits        26 chars of Crockford base32, 128 bits
 *
 * The first character carries only 3 bits, so it is at most '7'.
 *
 * Ordering: the last (ms, random) pair is kept under a mutex, and an id in
 * the same millisecond as the previous one takes its random part plus one.
 * disco_id_new() and disco_id_new_at() keep separate pairs, so imports with
 * old or future timestamps never disturb the order of live ids; and
 * disco_id_new() never goes back in time when the clock does.
 */
#include "disco/id.h"

#include "base_int.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RAND_BYTES 10
#define TIME_CHARS 10
#define MS_MAX ((UINT64_C(1) << 48) - 1)

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The previous id of one stream. */
struct id_state {
    uint64_t ms;
    uint8_t rand[RAND_BYTES];
    int have;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct id_state g_live;     /* disco_id_new() */
static struct id_state g_explicit; /* disco_id_new_at() */

/* Last resort when getrandom() is unavailable: splitmix64 over clock and pid. */
static void fill_weak(uint8_t *buf, size_t len)
{
    static uint64_t counter;
    struct timespec ts;
    uint64_t x;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 48) ^ ++counter;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (x += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}

static void fill_random(uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fill_weak(buf + got, len - got);
            return;
        }
        got += (size_t)n;
    }
}

/* Adds one to a big-endian number; returns 1 when it wrapped to zero. */
static int increment(uint8_t *num, size_t len)
{
    for (size_t i = len; i-- > 0;) {
        if (++num[i] != 0)
            return 0;
    }
    return 1;
}

/* Chooses the random part for `*ms` after the stream's previous id (caller holds g_lock). */
static void next_random(struct id_state *prev, uint64_t *ms, uint8_t rnd[RAND_BYTES])
{
    if (prev->have && *ms == prev->ms) {
        memcpy(rnd, prev->rand, RAND_BYTES);
        if (increment(rnd, RAND_BYTES)) {
            /* 2^80 ids in one millisecond: move on to the next one. */
            if (*ms < MS_MAX)
                (*ms)++;
            fill_random(rnd, RAND_BYTES);
        }
    } else {
        fill_random(rnd, RAND_BYTES);
    }
    prev->ms = *ms;
    memcpy(prev->rand, rnd, RAND_BYTES);
    prev->have = 1;
}

/* Five bits of a big-endian byte string starting at bit `pos` (MSB first). */
static unsigned bits5(const uint8_t *b, size_t pos)
{
    unsigned v = 0;

    for (size_t i = pos; i < pos + 5; i++)
        v = (v << 1) | ((b[i / 8] >> (7 - i % 8)) & 1u);
    return v;
}

static void encode(uint64_t ms, const uint8_t rnd[RAND_BYTES], char out[DISCO_ID_LEN + 1])
{
    for (int i = 0; i < TIME_CHARS; i++)
        out[i] = crockford[(ms >> (45 - 5 * i)) & 31u];
    for (int i = 0; i < DISCO_ID_LEN - TIME_CHARS; i++)
        out[TIME_CHARS + i] = crockford[bits5(rnd, 5 * (size_t)i)];
    out[DISCO_ID_LEN] = '\0';
}

static void make_id(struct id_state *prev, uint64_t ms, int never_back, char out[DISCO_ID_LEN + 1])
{
    uint8_t rnd[RAND_BYTES];

    if (ms > MS_MAX)
        ms = MS_MAX;
    pthread_mutex_lock(&g_lock);
    if (never_back && prev->have && ms < prev->ms)
        ms = prev->ms;
    next_random(prev, &ms, rnd);
    pthread_mutex_unlock(&g_lock);
    encode(ms, rnd, out);
}

void disco_id_new(char out[DISCO_ID_LEN + 1])
{
    struct timespec ts;
    uint64_t ms = 0;

    if (clock_gettime(CLOCK_REALTIME, &ts) == 0 && ts.tv_sec >= 0)
        ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    make_id(&g_live, ms, 1, out);
}

void disco_id_new_at(uint64_t unix_ms, char out[DISCO_ID_LEN + 1])
{
    make_id(&g_explicit, unix_ms, 0, out);
}

/* Value of a Crockford base32 digit (either case), or -1. I, L, O and U are not digits. */
static int digit_value(char c)
{
    const char *p;

    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == '\0')
        return -1;
    p = strchr(crockford, c);
    return p ? (int)(p - crockford) : -1;
}

int disco_id_check(const char *s, const char *what, disco_status *st)
{
    char q[DISCO__QUOTE_MAX], cq[8];
    size_t len;

    what = disco__what(what);
    if (!s)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s: missing (expected 26 Crockford base32 characters)", what);
    len = strlen(s);
    if (len != DISCO_ID_LEN)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s '%s': expected 26 Crockford base32 characters, got %zu", what,
                                disco__quote(s, q), len);
    for (size_t i = 0; i < len; i++) {
        if (digit_value(s[i]) < 0)
            return disco_status_set(st, DISCO_ERR_INVAL, what,
                                    "%s '%s': '%s' at position %zu is not a Crockford base32 "
                                    "character",
                                    what, disco__quote(s, q), disco__quote_char(s[i], cq), i + 1);
    }
    if (digit_value(s[0]) > 7)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s '%s': first character '%c' is above '7' (timestamp overflows "
                                "48 bits)",
                                what, disco__quote(s, q), s[0]);
    return DISCO_OK;
}

int disco_id_valid(const char *s)
{
    return disco_id_check(s, NULL, NULL) == DISCO_OK;
}

uint64_t disco_id_time_ms(const char *id)
{
    uint64_t ms = 0;

    for (int i = 0; i < TIME_CHARS && id[i]; i++) {
        int v = digit_value(id[i]);
        if (v < 0)
            return 0;
        ms = (ms << 5) | (uint64_t)v;
    }
    return ms & MS_MAX;
}
