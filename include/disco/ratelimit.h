/*
 * ratelimit.h - token-bucket rate limiting per key (an API token's id, a
 * principal, an address), in fixed memory.
 *
 * Each key has a bucket of `burst` tokens that refills at `rate` tokens per
 * second; a request takes `cost` tokens or is refused with the whole seconds
 * to wait (an HTTP Retry-After). At most `capacity` keys are tracked: a new
 * key evicts the least recently used one, which then starts again with a
 * full bucket when it returns (exact when it was idle burst/rate seconds or
 * more; otherwise the limiter errs on the side of letting it through).
 *
 * Thread safety: a limiter may be shared by any number of threads (one
 * mutex; each call is a hash lookup and a few multiplications).
 */
#ifndef DISCO_RATELIMIT_H
#define DISCO_RATELIMIT_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_ratelimit disco_ratelimit;

#define DISCO_RATELIMIT_KEY_MAX 128 /* longest key, bytes */
#define DISCO_RATELIMIT_CAPACITY_MAX (1u << 24)

typedef struct disco_ratelimit_config {
    double rate;     /* tokens per second, > 0 (default 10) */
    double burst;    /* bucket size, >= 1 (default 20) */
    size_t capacity; /* keys tracked at once, 1..DISCO_RATELIMIT_CAPACITY_MAX (default 4096) */
    /* Microseconds on a monotonic clock; NULL uses disco_time_mono_ns(). For tests. */
    int64_t (*clock_us)(void *user);
    void *clock_user;
} disco_ratelimit_config;

disco_ratelimit_config disco_ratelimit_config_default(void);

/*
 * Makes a limiter (all memory is allocated here, none per call). INVAL
 * naming "rate", "burst" or "capacity" for values out of range; NOMEM.
 */
int disco_ratelimit_new(const disco_ratelimit_config *cfg, disco_ratelimit **out, disco_status *st);

/* NULL is a no-op. */
void disco_ratelimit_free(disco_ratelimit *rl);

/*
 * Takes `cost` tokens (usually 1) from the bucket of `key`. DISCO_OK when
 * allowed; DISCO_ERR_LIMIT when not, with *retry_after_s (may be NULL) set to
 * the whole seconds after which the same request would be allowed (>= 1).
 * A refused request takes nothing. INVAL for a NULL, empty or too long key,
 * or a cost outside 0 < cost <= burst (such a request could never pass).
 */
int disco_ratelimit_take(disco_ratelimit *rl, const char *key, double cost, int64_t *retry_after_s);

/* How many keys are tracked now (<= capacity). */
size_t disco_ratelimit_count(disco_ratelimit *rl);

#endif
