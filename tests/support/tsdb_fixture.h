/*
 * tsdb_fixture.h - what the tsdb test groups (test_tsdb.c, test_tsdb_series.c)
 * share: a fixture with a scratch store folder and a config the test may
 * change before opening, and helpers that open, flush, read stats, write a
 * run of generated points and check it back (failing the test on any error).
 * Include after cmocka.h.
 */
#ifndef DISCO_TU_TSDB_FIXTURE_H
#define DISCO_TU_TSDB_FIXTURE_H

#include "disco/tsdb.h"
#include "store/test_tsdb_util.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* db is NULL until tu_tsdb_open; got holds the last read (freed by teardown). */
typedef struct tu_tsdb_fixture {
    char *dir;
    disco_tsdb_config cfg;
    disco_tsdb *db;
    tt_got got;
} tu_tsdb_fixture;

/* cmocka setup / teardown: a tu_tsdb_fixture in *state, fsync off. */
int tu_tsdb_setup(void **state);
int tu_tsdb_teardown(void **state);

/* (Re)opens f->db on f->dir with f->cfg, closing the previous handle. */
void tu_tsdb_open(tu_tsdb_fixture *f);
void tu_tsdb_flush(tu_tsdb_fixture *f);

/* The store's stats object (caller decrefs), or one integer field of it. */
json_t *tu_tsdb_stats(tu_tsdb_fixture *f);
json_int_t tu_tsdb_stat_int(tu_tsdb_fixture *f, const char *key);

/* The value of generated point i. */
double tu_tsdb_value_of(int64_t i);

/* Writes points t0 + i*step for i in [a, b) of metric{tags}, one batch. */
void tu_tsdb_put_range(tu_tsdb_fixture *f, const char *metric, const char *tags, int64_t a,
                       int64_t b, int64_t t0, int64_t step);

/* Checks that g holds exactly the points tu_tsdb_put_range wrote for [a, b). */
void tu_tsdb_check_range(const tt_got *g, int64_t a, int64_t b, int64_t t0, int64_t step);

/* How many series metric{matchers} selects over all time (the read is left in f->got). */
size_t tu_tsdb_count_series(tu_tsdb_fixture *f, const char *metric, const char *matchers);

#endif
