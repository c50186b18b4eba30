/*
 * test_ratelimit.c - token buckets per key: refill arithmetic and
 * Retry-After on an injected clock, independent keys, LRU eviction in fixed
 * memory, bad arguments, and four threads sharing one limiter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/ratelimit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

typedef struct fake_clock {
    _Atomic int64_t us;
} fake_clock;

static int64_t fake_now(void *user)
{
    return atomic_load(&((fake_clock *)user)->us);
}

static void advance_ms(fake_clock *c, int64_t ms)
{
    atomic_fetch_add(&c->us, ms * 1000);
}

static disco_ratelimit *make(fake_clock *clock, double rate, double burst, size_t capacity)
{
    disco_ratelimit_config cfg = disco_ratelimit_config_default();
    disco_ratelimit *rl = NULL;
    disco_status st = {0};

    cfg.rate = rate;
    cfg.burst = burst;
    cfg.capacity = capacity;
    cfg.clock_us = fake_now;
    cfg.clock_user = clock;
    if (disco_ratelimit_new(&cfg, &rl, &st) != DISCO_OK)
        fail_msg("ratelimit new: %s", st.msg);
    return rl;
}

/* Takes one token; returns 0 when allowed, else the Retry-After seconds. */
static int64_t take(disco_ratelimit *rl, const char *key)
{
    int64_t retry = -1;
    int rc = disco_ratelimit_take(rl, key, 1, &retry);

    if (rc == DISCO_OK)
        return 0;
    assert_int_equal(rc, DISCO_ERR_LIMIT);
    assert_true(retry >= 1);
    return retry;
}

static void test_bucket_math(void **state)
{
    fake_clock clock = {1000000};
    disco_ratelimit *rl = make(&clock, 2, 3, 16); /* 2 per second, burst 3 */

    (void)state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(take(rl, "tok"), 0);
    assert_int_equal(take(rl, "tok"), 1); /* 0.5 s to the next token: rounds up to 1 */
    advance_ms(&clock, 499);
    assert_int_equal(take(rl, "tok"), 1); /* 0.998 tokens: not yet */
    advance_ms(&clock, 1);
    assert_int_equal(take(rl, "tok"), 0); /* exactly 1 token after 500 ms */
    assert_int_equal(take(rl, "tok"), 1);
    /* Refill stops at the burst, however long the key was idle. */
    advance_ms(&clock, 3600 * 1000);
    for (int i = 0; i < 3; i++)
        assert_int_equal(take(rl, "tok"), 0);
    assert_int_equal(take(rl, "tok"), 1);
    disco_ratelimit_free(rl);
}

static void test_retry_after_and_cost(void **state)
{
    fake_clock clock = {0};
    disco_ratelimit *rl = make(&clock, 0.25, 2, 4); /* one token per 4 s */
    int64_t retry = 0;

    (void)state;
    assert_int_equal(disco_ratelimit_take(rl, "k", 2, &retry), DISCO_OK);
    assert_int_equal(disco_ratelimit_take(rl, "k", 2, &retry), DISCO_ERR_LIMIT);
    assert_int_equal(retry, 8); /* two tokens at 0.25/s */
    advance_ms(&clock, 4000);
    assert_int_equal(disco_ratelimit_take(rl, "k", 2, &retry), DISCO_ERR_LIMIT);
    assert_int_equal(retry, 4); /* a refused request took nothing */
    advance_ms(&clock, 2500);
    assert_int_equal(disco_ratelimit_take(rl, "k", 1, &retry), DISCO_OK); /* 1.625 tokens */
    assert_int_equal(disco_ratelimit_take(rl, "k", 1, &retry), DISCO_ERR_LIMIT);
    assert_int_equal(retry, 2); /* 0.375 tokens missing: 1.5 s, rounded up */
    assert_int_equal(disco_ratelimit_take(rl, "k", 0.5, NULL), DISCO_OK); /* 0.625 left */
    assert_int_equal(disco_ratelimit_take(rl, "k", 0.5, NULL), DISCO_ERR_LIMIT);
    disco_ratelimit_free(rl);
}

static void test_keys_independent(void **state)
{
    fake_clock clock = {0};
    disco_ratelimit *rl = make(&clock, 1, 1, 16);

    (void)state;
    assert_int_equal(take(rl, "alice"), 0);
    assert_int_equal(take(rl, "alice"), 1);
    assert_int_equal(take(rl, "bob"), 0);
    assert_int_equal(take(rl, "alice2"), 0);
    assert_int_equal(disco_ratelimit_count(rl), 3);
    disco_ratelimit_free(rl);
}

static void test_eviction_lru(void **state)
{
    fake_clock clock = {0};
    disco_ratelimit *rl = make(&clock, 0.001, 1, 2); /* practically no refill */
    char key[16];

    (void)state;
    assert_int_equal(take(rl, "a"), 0);
    assert_int_equal(take(rl, "b"), 0);
    assert_int_not_equal(take(rl, "a"), 0); /* a is now the most recently used */
    assert_int_equal(take(rl, "c"), 0);     /* evicts b, the least recently used */
    assert_int_equal(disco_ratelimit_count(rl), 2);
    assert_int_not_equal(take(rl, "a"), 0); /* a kept its empty bucket */
    assert_int_not_equal(take(rl, "c"), 0);
    assert_int_equal(take(rl, "b"), 0); /* b comes back with a full bucket (evicting a) */
    assert_int_equal(take(rl, "a"), 0); /* and a was evicted in turn */
    /* Many keys through a small table: memory stays fixed, lookups stay right. */
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        assert_int_equal(take(rl, key), 0);
        assert_int_not_equal(take(rl, key), 0);
    }
    assert_int_equal(disco_ratelimit_count(rl), 2);
    disco_ratelimit_free(rl);
}

static void test_bad_arguments(void **state)
{
    fake_clock clock = {0};
    disco_ratelimit_config cfg = disco_ratelimit_config_default();
    disco_ratelimit *rl = make(&clock, 1, 5, 4), *none = NULL;
    disco_status st = {0};
    char longkey[DISCO_RATELIMIT_KEY_MAX + 2];

    (void)state;
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(disco_ratelimit_take(rl, "", 1, NULL), DISCO_ERR_INVAL);
    assert_int_equal(disco_ratelimit_take(rl, NULL, 1, NULL), DISCO_ERR_INVAL);
    assert_int_equal(disco_ratelimit_take(rl, longkey, 1, NULL), DISCO_ERR_INVAL);
    longkey[DISCO_RATELIMIT_KEY_MAX] = '\0';
    assert_int_equal(disco_ratelimit_take(rl, longkey, 1, NULL), DISCO_OK);
    assert_int_equal(disco_ratelimit_take(rl, "k", 0, NULL), DISCO_ERR_INVAL);
    assert_int_equal(disco_ratelimit_take(rl, "k", 6, NULL), DISCO_ERR_INVAL); /* > burst */
    assert_int_equal(disco_ratelimit_take(NULL, "k", 1, NULL), DISCO_ERR_INVAL);
    disco_ratelimit_free(rl);
    disco_ratelimit_free(NULL);

    cfg.rate = 0;
    assert_int_equal(disco_ratelimit_new(&cfg, &none, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "rate");
    cfg = disco_ratelimit_config_default();
    cfg.burst = 0.5;
    assert_int_equal(disco_ratelimit_new(&cfg, &none, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "burst");
    cfg = disco_ratelimit_config_default();
    cfg.capacity = 0;
    assert_int_equal(disco_ratelimit_new(&cfg, &none, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "capacity");
    assert_null(none);
}

static void test_clock_backwards(void **state)
{
    fake_clock clock = {10000000};
    disco_ratelimit *rl = make(&clock, 1, 1, 4);

    (void)state;
    assert_int_equal(take(rl, "k"), 0);
    advance_ms(&clock, -5000); /* an injected clock jumps back */
    assert_int_not_equal(take(rl, "k"), 0);
    advance_ms(&clock, 5000);
    assert_int_not_equal(take(rl, "k"), 0); /* no refill was invented */
    advance_ms(&clock, 1000);
    assert_int_equal(take(rl, "k"), 0);
    disco_ratelimit_free(rl);
}

/* ---- threads ---------------------------------------------------------------- */

#define THREADS 4
#define KEYS 8
#define TRIES 2000

typedef struct worker {
    disco_ratelimit *rl;
    int seed;
    atomic_int *allowed;
} worker;

static void *hammer(void *arg)
{
    worker *w = arg;
    char key[16];

    for (int i = 0; i < TRIES; i++) {
        snprintf(key, sizeof key, "key%d", (i * 7 + w->seed) % KEYS);
        int64_t retry = 0;
        if (disco_ratelimit_take(w->rl, key, 1, &retry) == DISCO_OK)
            atomic_fetch_add(w->allowed, 1);
    }
    return NULL;
}

static int run_threads(disco_ratelimit *rl)
{
    pthread_t t[THREADS];
    worker w[THREADS];
    atomic_int allowed = 0;

    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){rl, i, &allowed};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    return atomic_load(&allowed);
}

static void test_threads(void **state)
{
    fake_clock clock = {0};
    disco_ratelimit *rl = make(&clock, 1, 50, 64);

    (void)state;
    /* The clock stands still: exactly the burst of every key gets through. */
    assert_int_equal(run_threads(rl), KEYS * 50);
    assert_int_equal(disco_ratelimit_count(rl), KEYS);
    disco_ratelimit_free(rl);

    /* Fewer slots than keys: constant eviction under contention stays sound. */
    rl = make(&clock, 1, 50, 3);
    int allowed = run_threads(rl);
    assert_true(allowed >= KEYS * 50 && allowed <= THREADS * TRIES);
    assert_int_equal(disco_ratelimit_count(rl), 3);
    disco_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_math),      cmocka_unit_test(test_retry_after_and_cost),
        cmocka_unit_test(test_keys_independent), cmocka_unit_test(test_eviction_lru),
        cmocka_unit_test(test_bad_arguments),    cmocka_unit_test(test_clock_backwards),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests_name("base/ratelimit", tests, NULL, NULL);
}
