/*
 * tsdb_encode.c - encoding the chunks of a flush on every core.
 *
 * A flush cuts each series' head into chunks of at most chunk_points and
 * encodes them. Chunks are independent, so they are encoded in parallel
 * into buffers of their own (a worker pool made lazily, one thread per
 * CPU) and then appended to the file in order, by one thread. Small
 * flushes are encoded in place: a pool hand-off costs more than they do.
 *
 *     items:  s1[0..k1)  s2[0..k2) ...
 *     jobs:   s1 c0 | s1 c1 | s2 c0 | ...   -> encoded in parallel
 *     file:   c0 c1 c0 ...                  -> appended in job order
 */
#include "tsdb_int.h"

#include "disco/pool.h"

#include <stdlib.h>
#include <string.h>

#define PARALLEL_MIN_POINTS 65536 /* below this a flush encodes on one thread */

typedef struct enc_job {
    const tsdb_series *s;
    size_t at, n;
    uint8_t *out;
    size_t len;
    int rc;
    disco_status st;
} enc_job;

typedef struct enc_plan {
    enc_job *jobs;
    size_t n, points;
} enc_plan;

/* Splits item `it` into chunks of near-equal size, at most `per` points. */
static int plan_item(enc_plan *pl, size_t *cap, const tsdb_flush_item *it, size_t per)
{
    size_t k = it->k, parts = (k + per - 1) / per, at = 0;

    for (size_t i = 0; i < parts; i++) {
        if (pl->n == *cap) {
            size_t ncap = *cap ? *cap * 2 : 64;
            enc_job *nj = realloc(pl->jobs, ncap * sizeof *nj);
            if (!nj)
                return DISCO_ERR_NOMEM;
            pl->jobs = nj;
            *cap = ncap;
        }
        size_t n = k / parts + (i < k % parts);
        pl->jobs[pl->n++] = (enc_job){.s = it->s, .at = at, .n = n};
        at += n;
    }
    pl->points += k;
    return DISCO_OK;
}

static void encode_job(size_t i, void *arg)
{
    enc_job *j = &((enc_plan *)arg)->jobs[i];
    size_t cap = disco_tscodec_bound(j->n);

    j->out = malloc(cap);
    if (!j->out) {
        j->rc = disco_status_set(&j->st, DISCO_ERR_NOMEM, NULL, "out of memory");
        return;
    }
    j->rc = disco_tscodec_encode(j->s->ts + j->at, j->s->v + j->at, j->n, &j->s->metric->prec,
                                 j->out, cap, &j->len, &j->st);
}

static void plan_free(enc_plan *pl)
{
    for (size_t i = 0; i < pl->n; i++)
        free(pl->jobs[i].out);
    free(pl->jobs);
}

/* Encodes every job, in parallel when the flush is large enough. */
static void encode_all(disco_tsdb *db, enc_plan *pl)
{
    if (pl->points >= PARALLEL_MIN_POINTS && pl->n > 1 && !db->pool)
        (void)disco_pool_new(0, &db->pool);
    if (pl->points >= PARALLEL_MIN_POINTS && pl->n > 1 && db->pool &&
        disco_pool_threads(db->pool) > 1 &&
        disco_pool_parallel_for(db->pool, pl->n, encode_job, pl) == DISCO_OK)
        return;
    for (size_t i = 0; i < pl->n; i++)
        if (!pl->jobs[i].out)
            encode_job(i, pl);
}

int disco__encode_items(disco_tsdb *db, tsdb_cwriter *w, const tsdb_flush_item *items, size_t n,
                        disco_status *st)
{
    enc_plan pl = {0};
    size_t cap = 0;
    int rc = DISCO_OK;

    for (size_t i = 0; rc == DISCO_OK && i < n; i++)
        if (items[i].k)
            rc = plan_item(&pl, &cap, &items[i], db->cfg.chunk_points);
    if (rc != DISCO_OK) {
        plan_free(&pl);
        return disco_status_set(st, rc, NULL, "out of memory");
    }
    encode_all(db, &pl);
    for (size_t i = 0; rc == DISCO_OK && i < pl.n; i++) {
        const enc_job *j = &pl.jobs[i];
        if (j->rc != DISCO_OK) {
            if (st)
                *st = j->st;
            rc = j->rc;
            break;
        }
        rc = disco__cw_add_encoded(w, j->s->id, j->s->ts + j->at, j->n, &j->s->metric->prec, j->out,
                                   j->len, st);
    }
    plan_free(&pl);
    return rc;
}
