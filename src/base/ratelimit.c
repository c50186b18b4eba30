/*
 * ratelimit.c - token buckets per key in a fixed table with LRU eviction.
 *
 *   heads[hash & mask] -> entry -> entry ...   chained hash (2 heads per entry)
 *   lru_head <-> entry <-> ... <-> lru_tail    most to least recently used
 *
 * Every entry lives in one array allocated by disco_ratelimit_new(); links
 * are indexes (NIL = none). A new key takes the next unused entry, or the
 * LRU tail once all are used. A bucket is refilled lazily when its key is
 * seen: tokens = min(burst, tokens + elapsed * rate).
 */
#include "disco/ratelimit.h"

#include "disco/timeutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
/* Rounding slack of the refill sums: 1e-9 of a token is never worth a refusal. */
#define TOKEN_EPSILON 1e-9

typedef struct entry {
    uint64_t hash;
    double tokens;
    int64_t stamp_us; /* when tokens was last brought up to date */
    uint32_t chain;   /* next entry in the same hash chain */
    uint32_t prev, next;
    char key[DISCO_RATELIMIT_KEY_MAX + 1];
} entry;

struct disco_ratelimit {
    pthread_mutex_t mu;
    disco_ratelimit_config cfg;
    entry *entries;
    uint32_t *heads;
    uint32_t mask; /* heads has mask + 1 slots */
    uint32_t used; /* entries[0 .. used) have held a key */
    uint32_t lru_head, lru_tail;
};

disco_ratelimit_config disco_ratelimit_config_default(void)
{
    disco_ratelimit_config c = {.rate = 10, .burst = 20, .capacity = 4096};
    return c;
}

static int64_t mono_us(void *user)
{
    (void)user;
    return (int64_t)(disco_time_mono_ns() / 1000);
}

static int check_config(const disco_ratelimit_config *c, disco_status *st)
{
    if (!(c->rate > 0) || !isfinite(c->rate))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate",
                                "rate %g: must be a positive number of requests per second",
                                c->rate);
    if (!(c->burst >= 1) || !isfinite(c->burst))
        return disco_status_set(st, DISCO_ERR_INVAL, "burst", "burst %g: must be at least 1",
                                c->burst);
    if (c->capacity < 1 || c->capacity > DISCO_RATELIMIT_CAPACITY_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "capacity", "capacity %zu out of range 1..%u",
                                c->capacity, DISCO_RATELIMIT_CAPACITY_MAX);
    return DISCO_OK;
}

int disco_ratelimit_new(const disco_ratelimit_config *cfg, disco_ratelimit **out, disco_status *st)
{
    disco_ratelimit *rl;
    size_t nheads = 2;
    int rc;

    if (!cfg || !out)
        return disco_status_set(st, DISCO_ERR_INVAL, cfg ? "out" : "cfg",
                                "ratelimit new: %s is NULL", cfg ? "out" : "cfg");
    if ((rc = check_config(cfg, st)))
        return rc;
    while (nheads < 2 * cfg->capacity)
        nheads *= 2;
    rl = calloc(1, sizeof *rl);
    if (rl) {
        rl->entries = calloc(cfg->capacity, sizeof *rl->entries);
        rl->heads = malloc(nheads * sizeof *rl->heads);
    }
    if (!rl || !rl->entries || !rl->heads || pthread_mutex_init(&rl->mu, NULL)) {
        if (rl) {
            free(rl->entries);
            free(rl->heads);
        }
        free(rl);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for %zu rate limits",
                                cfg->capacity);
    }
    rl->cfg = *cfg;
    if (!rl->cfg.clock_us)
        rl->cfg.clock_us = mono_us;
    memset(rl->heads, 0xff, nheads * sizeof *rl->heads);
    rl->mask = (uint32_t)(nheads - 1);
    rl->lru_head = rl->lru_tail = NIL;
    *out = rl;
    return DISCO_OK;
}

void disco_ratelimit_free(disco_ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl->entries);
    free(rl->heads);
    free(rl);
}

/* FNV-1a, 64 bits. */
static uint64_t hash_key(const char *key)
{
    uint64_t h = 14695981039346656037ull;

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ull;
    return h;
}

/* ---- LRU list and hash chains ------------------------------------------ */

static void lru_unlink(disco_ratelimit *rl, uint32_t i)
{
    entry *e = &rl->entries[i];

    if (e->prev != NIL)
        rl->entries[e->prev].next = e->next;
    else
        rl->lru_head = e->next;
    if (e->next != NIL)
        rl->entries[e->next].prev = e->prev;
    else
        rl->lru_tail = e->prev;
}

static void lru_push_front(disco_ratelimit *rl, uint32_t i)
{
    entry *e = &rl->entries[i];

    e->prev = NIL;
    e->next = rl->lru_head;
    if (rl->lru_head != NIL)
        rl->entries[rl->lru_head].prev = i;
    rl->lru_head = i;
    if (rl->lru_tail == NIL)
        rl->lru_tail = i;
}

static void chain_remove(disco_ratelimit *rl, uint32_t i)
{
    uint32_t *link = &rl->heads[rl->entries[i].hash & rl->mask];

    while (*link != i) {
        DISCO_ASSERT(*link != NIL);
        link = &rl->entries[*link].chain;
    }
    *link = rl->entries[i].chain;
}

static uint32_t find(const disco_ratelimit *rl, const char *key, uint64_t h)
{
    uint32_t i = rl->heads[h & rl->mask];

    while (i != NIL && (rl->entries[i].hash != h || strcmp(rl->entries[i].key, key) != 0))
        i = rl->entries[i].chain;
    return i;
}

/* A fresh entry for `key` with a full bucket, evicting the LRU one when all are used. */
static uint32_t insert(disco_ratelimit *rl, const char *key, uint64_t h, int64_t now)
{
    uint32_t i;
    entry *e;

    if (rl->used < rl->cfg.capacity) {
        i = rl->used++;
    } else {
        i = rl->lru_tail;
        lru_unlink(rl, i);
        chain_remove(rl, i);
    }
    e = &rl->entries[i];
    e->hash = h;
    e->tokens = rl->cfg.burst;
    e->stamp_us = now;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->chain = rl->heads[h & rl->mask];
    rl->heads[h & rl->mask] = i;
    lru_push_front(rl, i);
    return i;
}

/* ---- buckets ------------------------------------------------------------ */

static void refill(const disco_ratelimit_config *cfg, entry *e, int64_t now)
{
    /* A clock that went back (an injected one) only delays refilling. */
    if (now <= e->stamp_us)
        return;
    e->tokens += (double)(now - e->stamp_us) * 1e-6 * cfg->rate;
    if (e->tokens > cfg->burst)
        e->tokens = cfg->burst;
    e->stamp_us = now;
}

static int check_take(const disco_ratelimit *rl, const char *key, double cost)
{
    size_t len = key ? strlen(key) : 0;

    if (len == 0 || len > DISCO_RATELIMIT_KEY_MAX)
        return DISCO_ERR_INVAL;
    if (!(cost > 0) || cost > rl->cfg.burst)
        return DISCO_ERR_INVAL;
    return DISCO_OK;
}

int disco_ratelimit_take(disco_ratelimit *rl, const char *key, double cost, int64_t *retry_after_s)
{
    uint64_t h;
    uint32_t i;
    entry *e;
    double wait_s;
    int rc;

    if (!rl || check_take(rl, key, cost))
        return DISCO_ERR_INVAL;
    h = hash_key(key);
    pthread_mutex_lock(&rl->mu);
    int64_t now = rl->cfg.clock_us(rl->cfg.clock_user);
    i = find(rl, key, h);
    if (i == NIL) {
        i = insert(rl, key, h, now);
    } else {
        lru_unlink(rl, i);
        lru_push_front(rl, i);
    }
    e = &rl->entries[i];
    refill(&rl->cfg, e, now);
    if (e->tokens >= cost - TOKEN_EPSILON) {
        e->tokens = e->tokens > cost ? e->tokens - cost : 0;
        rc = DISCO_OK;
    } else {
        wait_s = (cost - e->tokens) / rl->cfg.rate;
        if (retry_after_s)
            *retry_after_s = wait_s < 1 ? 1 : (int64_t)ceil(wait_s - TOKEN_EPSILON);
        rc = DISCO_ERR_LIMIT;
    }
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

size_t disco_ratelimit_count(disco_ratelimit *rl)
{
    size_t n;

    pthread_mutex_lock(&rl->mu);
    n = rl->used;
    pthread_mutex_unlock(&rl->mu);
    return n;
}
