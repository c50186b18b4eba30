/*
 * tsdb_fixture.c - the fixture and helpers shared by the tsdb test groups
 * (see tsdb_fixture.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/tsdb_fixture.h"
#include "support/testutil.h"

#include <stdlib.h>

int tu_tsdb_setup(void **state)
{
    tu_tsdb_fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir("tsdb");
    f->cfg = disco_tsdb_config_default();
    f->cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    *state = f;
    return f->dir ? 0 : -1;
}

int tu_tsdb_teardown(void **state)
{
    tu_tsdb_fixture *f = *state;

    disco_tsdb_close(f->db);
    tt_got_free(&f->got);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

void tu_tsdb_open(tu_tsdb_fixture *f)
{
    disco_status st = {0};

    disco_tsdb_close(f->db);
    f->db = NULL;
    if (disco_tsdb_open(f->dir, &f->cfg, &f->db, &st) != DISCO_OK)
        fail_msg("open: %s", st.msg);
}

void tu_tsdb_flush(tu_tsdb_fixture *f)
{
    disco_status st = {0};

    if (disco_tsdb_flush(f->db, &st) != DISCO_OK)
        fail_msg("flush: %s", st.msg);
}

json_t *tu_tsdb_stats(tu_tsdb_fixture *f)
{
    json_t *o = NULL;

    assert_int_equal(disco_tsdb_stats(f->db, &o, NULL), DISCO_OK);
    return o;
}

json_int_t tu_tsdb_stat_int(tu_tsdb_fixture *f, const char *key)
{
    json_t *o = tu_tsdb_stats(f);
    json_int_t v = json_integer_value(json_object_get(o, key));

    json_decref(o);
    return v;
}

double tu_tsdb_value_of(int64_t i)
{
    return (double)i * 1.25 - 3.0 + (double)(i % 7) / 8.0;
}

void tu_tsdb_put_range(tu_tsdb_fixture *f, const char *metric, const char *tags, int64_t a,
                       int64_t b, int64_t t0, int64_t step)
{
    disco_ts_batch batch;
    disco_status st = {0};

    assert_int_equal(disco_ts_batch_init(&batch), DISCO_OK);
    for (int64_t i = a; i < b; i++)
        tt_add(&batch, metric, tags, t0 + i * step, tu_tsdb_value_of(i));
    if (disco_tsdb_write(f->db, &batch, NULL, &st) != DISCO_OK)
        fail_msg("write: %s", st.msg);
    disco_ts_batch_release(&batch);
}

void tu_tsdb_check_range(const tt_got *g, int64_t a, int64_t b, int64_t t0, int64_t step)
{
    assert_int_equal(g->n, (size_t)(b - a));
    for (int64_t i = a; i < b; i++) {
        assert_int_equal(g->ts[i - a], t0 + i * step);
        assert_true(g->v[i - a] == tu_tsdb_value_of(i));
    }
}

size_t tu_tsdb_count_series(tu_tsdb_fixture *f, const char *metric, const char *matchers)
{
    tt_read(f->db, metric, matchers, INT64_MIN, INT64_MAX, &f->got);
    return f->got.series;
}
