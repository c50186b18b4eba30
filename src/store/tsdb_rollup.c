/*
 * tsdb_rollup.c - rollups: per-step aggregates kept as series of their own.
 *
 *   rules of "loss"   {"1m": "avg", "1h": ["min", "max"]}
 *   raw series        loss{run="a"}
 *   rollup series     loss:1m:avg{run="a"}  loss:1h:min{run="a"}  loss:1h:max{run="a"}
 *
 *   loss{run="a"}     |..1m bucket..|..1m bucket..|..1m bucket..|.. newest
 *                     ^ rolled until (per step)   ^ watermark
 *
 * DESIGN
 *   At each flush, every step of a series aggregates the buckets
 *   [k*step, (k+1)*step) that lie wholly before its watermark: the newest
 *   point minus the out-of-order window (nothing can arrive there any more),
 *   or the newest point itself on an explicit flush or for an idle series
 *   (tsdb_flush.c). The rollup point of a
 *   bucket has the bucket's start as its timestamp. Buckets are computed
 *   from the raw points (chunks and head) with the query layer's kernel, so
 *   a rollup equals the query with that step. Rollup points are written
 *   through the log like any others; the progress per step ("rolled
 *   until") is saved in series.idx after them, so a crash at worst computes
 *   a bucket twice (same value, last write wins).
 *
 *   A point written later below the progress (possible after an explicit
 *   flush, inside the window) marks the series dirty from its time; the
 *   next flush computes those buckets again and overwrites them. Series
 *   named like rollups (<metric>:<step>:<agg>) never roll up themselves.
 */
#include "tsdb_int.h"

#include "disco/tsquery.h"

#include <stdio.h>
#include <stdlib.h>

#define AGG_BITS 11

/* ---- rules -------------------------------------------------------------------------- */

static int parse_aggs(const char *metric, const char *step, const json_t *v, unsigned *aggs,
                      disco_status *st)
{
    unsigned bit;
    size_t i;
    json_t *e;
    int rc;

    *aggs = 0;
    if (json_is_string(v))
        return disco_ts_agg_parse(json_string_value(v), aggs, st);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "rollups",
                                "rollups of %s: step '%s' needs an aggregation name or a list "
                                "of them",
                                metric, step);
    json_array_foreach (v, i, e) {
        if ((rc = disco_ts_agg_parse(json_string_value(e), &bit, st)) != DISCO_OK)
            return rc;
        *aggs |= bit;
    }
    return DISCO_OK;
}

static int check_step_text(const char *metric, const char *step, disco_status *st)
{
    size_t n = strlen(step);
    int ok = n > 0 && n < TSDB_STEP_TEXT_MAX && strlen(metric) + n + 9 <= DISCO_TS_METRIC_MAX;

    for (size_t i = 0; ok && i < n; i++)
        ok = (step[i] >= '0' && step[i] <= '9') || (step[i] >= 'a' && step[i] <= 'z');
    if (!ok)
        return disco_status_set(st, DISCO_ERR_INVAL, "rollups",
                                "rollups of %s: step '%.32s' must be digits and units (like 1m) "
                                "and keep rollup names within %d characters",
                                metric, step, DISCO_TS_METRIC_MAX);
    return DISCO_OK;
}

static int cmp_rule(const void *a, const void *b)
{
    int64_t x = ((const tsdb_rule *)a)->step_ms, y = ((const tsdb_rule *)b)->step_ms;
    return (x > y) - (x < y);
}

static int parse_rule(const char *metric, const char *step, const json_t *v, tsdb_rule *out,
                      size_t n_before, disco_status *st)
{
    int rc;

    if ((rc = check_step_text(metric, step, st)) != DISCO_OK ||
        (rc = disco_ts_step_parse(step, &out[n_before].step_ms, st)) != DISCO_OK ||
        (rc = parse_aggs(metric, step, v, &out[n_before].aggs, st)) != DISCO_OK)
        return rc;
    snprintf(out[n_before].step, sizeof out[n_before].step, "%s", step);
    for (size_t i = 0; i < n_before; i++)
        if (out[i].step_ms == out[n_before].step_ms)
            return disco_status_set(st, DISCO_ERR_INVAL, "rollups",
                                    "rollups of %s: steps '%s' and '%s' are the same", metric,
                                    out[i].step, step);
    return DISCO_OK;
}

int disco__rollup_rules_parse(const char *metric, const json_t *rollups, tsdb_rule **rules,
                              size_t *n, disco_status *st)
{
    const char *step;
    json_t *v;
    tsdb_rule *out;
    int rc;

    *rules = NULL;
    *n = 0;
    if (!rollups || json_is_null(rollups) ||
        (json_is_object(rollups) && !json_object_size(rollups)))
        return DISCO_OK;
    if (!json_is_object(rollups))
        return disco_status_set(st, DISCO_ERR_INVAL, "rollups",
                                "rollups of %s: expected an object like {\"1m\": \"avg\"}", metric);
    if (disco__rollup_named(metric))
        return disco_status_set(st, DISCO_ERR_INVAL, "rollups",
                                "metric %s is named like a rollup series (<metric>:<step>:<agg>) "
                                "and cannot roll up itself",
                                metric);
    if (!(out = calloc(json_object_size(rollups), sizeof *out)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    json_object_foreach ((json_t *)rollups, step, v) {
        if ((rc = parse_rule(metric, step, v, out, *n, st)) != DISCO_OK) {
            free(out);
            *n = 0;
            return rc;
        }
        (*n)++;
    }
    qsort(out, *n, sizeof *out, cmp_rule);
    *rules = out;
    return DISCO_OK;
}

int disco__rollup_named(const char *metric)
{
    const char *agg = strrchr(metric, ':'), *step;
    char text[TSDB_STEP_TEXT_MAX];
    unsigned bit;
    int64_t ms;

    if (!agg || agg == metric)
        return 0;
    for (step = agg - 1; step > metric && *step != ':'; step--)
        ;
    if (*step != ':' || step == metric || (size_t)(agg - step - 1) >= sizeof text)
        return 0;
    memcpy(text, step + 1, (size_t)(agg - step - 1));
    text[agg - step - 1] = '\0';
    return disco_ts_agg_parse(agg + 1, &bit, NULL) == DISCO_OK &&
           disco_ts_step_parse(text, &ms, NULL) == DISCO_OK;
}

/* ---- progress ----------------------------------------------------------------------- */

int64_t disco__rolled_get(const tsdb_series *s, int64_t step_ms)
{
    for (size_t i = 0; i < s->n_rolled; i++)
        if (s->rolled[i].step_ms == step_ms)
            return s->rolled[i].until;
    return INT64_MIN;
}

int disco__rolled_set(tsdb_series *s, int64_t step_ms, int64_t until)
{
    size_t i = 0;

    while (i < s->n_rolled && s->rolled[i].step_ms != step_ms)
        i++;
    if (i == s->n_rolled) {
        tsdb_rolled *nr = realloc(s->rolled, (s->n_rolled + 1) * sizeof *nr);
        if (!nr)
            return DISCO_ERR_NOMEM;
        s->rolled = nr;
        s->n_rolled++;
    }
    s->rolled[i] = (tsdb_rolled){step_ms, until};
    s->roll_ceil = INT64_MIN;
    for (i = 0; i < s->n_rolled; i++)
        if (s->rolled[i].until > s->roll_ceil)
            s->roll_ceil = s->rolled[i].until;
    return DISCO_OK;
}

/* ---- computing ---------------------------------------------------------------------- */

typedef struct roll_out {
    int64_t *ts;  /* bucket starts */
    double *vals; /* n_aggs values per bucket, agg-major */
    double *scratch;
    size_t nb, n_aggs;
} roll_out;

static int aggregate(const int64_t *ts, const double *v, size_t n, const tsdb_rule *r, roll_out *o,
                     disco_status *st)
{
    double row[AGG_BITS];
    size_t i = 0;

    o->n_aggs = (size_t)__builtin_popcount(r->aggs);
    o->ts = malloc(n * sizeof *o->ts);
    o->vals = malloc(n * o->n_aggs * sizeof *o->vals);
    o->scratch = malloc(n * sizeof *o->scratch);
    o->nb = 0;
    if (!o->ts || !o->vals || !o->scratch)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for rollups");
    while (i < n) {
        int64_t b = tsdb_floor(ts[i], r->step_ms), b_end;
        size_t j = i + 1;
        if (__builtin_add_overflow(b, r->step_ms, &b_end))
            b_end = INT64_MAX;
        while (j < n && ts[j] < b_end)
            j++;
        disco_ts_aggregate(v + i, j - i, r->aggs, row, o->scratch);
        o->ts[o->nb] = b;
        for (size_t k = 0; k < o->n_aggs; k++)
            o->vals[k * n + o->nb] = row[k];
        o->nb++;
        i = j;
    }
    return DISCO_OK;
}

/* The rollup series <metric>:<step>:<agg> with the tags of `s`, made when new. */
static int rollup_series(disco_tsdb *db, const tsdb_series *s, const tsdb_rule *r, unsigned bit,
                         tsdb_series **out, int *is_new, disco_status *st)
{
    char name[DISCO_TS_METRIC_MAX + 1], *key;
    int rc = DISCO_OK;

    snprintf(name, sizeof name, "%s:%s:%s", s->metric->name, r->step, disco_ts_agg_name(bit));
    if (!(key = disco_ts_series_key(name, s->tags)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    *out = disco__map_get(&db->by_key, key);
    *is_new = !*out;
    if (!*out)
        rc = disco__series_add(db, db->next_id, name, s->tags, key, out, st);
    free(key);
    return rc;
}

static int write_rollups(disco_tsdb *db, const tsdb_series *s, const tsdb_rule *r,
                         const roll_out *o, size_t stride, disco_status *st)
{
    size_t k = 0;
    int rc;

    for (unsigned bit = 1; bit && bit <= r->aggs; bit <<= 1) {
        tsdb_series *rs;
        int is_new;
        if (!(r->aggs & bit))
            continue;
        if ((rc = rollup_series(db, s, r, bit, &rs, &is_new, st)) != DISCO_OK)
            return rc;
        rc = disco__write_points(db, rs, is_new, o->ts, o->vals + k * stride, o->nb, st);
        if (rc != DISCO_OK) {
            if (is_new)
                disco__series_forget(db, rs);
            return rc;
        }
        k++;
    }
    return DISCO_OK;
}

static int64_t first_point(const tsdb_series *s)
{
    int64_t t = s->n ? s->ts[0] : INT64_MAX;

    for (size_t i = 0; i < s->n_chunks; i++)
        if (s->chunks[i].t_first < t)
            t = s->chunks[i].t_first;
    return t;
}

static int roll_step(disco_tsdb *db, tsdb_series *s, const tsdb_rule *r, int64_t mark,
                     disco_status *st)
{
    int64_t until = disco__rolled_get(s, r->step_ms), start = until, end;
    roll_out o = {0};
    const int64_t *ts;
    const double *v;
    size_t n;
    int rc;

    if (s->dirty_from != INT64_MAX && s->dirty_from < until)
        start = tsdb_floor(s->dirty_from, r->step_ms);
    if (start == INT64_MIN)
        start = tsdb_floor(first_point(s), r->step_ms);
    end = mark == INT64_MIN ? INT64_MIN : tsdb_floor(mark, r->step_ms);
    if (end <= start || end == INT64_MIN)
        return DISCO_OK;
    rc = disco__read_series(s, start, end, &db->wrbuf, &ts, &v, &n, st);
    if (rc == DISCO_OK && n)
        rc = aggregate(ts, v, n, r, &o, st);
    if (rc == DISCO_OK && n)
        rc = write_rollups(db, s, r, &o, n, st);
    if (rc == DISCO_OK && end > until && disco__rolled_set(s, r->step_ms, end) != DISCO_OK)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc == DISCO_OK)
        db->registry_dirty = 1;
    free(o.ts);
    free(o.vals);
    free(o.scratch);
    return rc;
}

int disco__rollup_run(disco_tsdb *db, int all, int64_t idle, disco_status *st)
{
    tsdb_ids ids = {0};
    int rc = DISCO_OK;

    if (disco__ids_copy(&ids, &db->all) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; rc == DISCO_OK && i < ids.n; i++) {
        tsdb_series *s = disco__series_by_id(db, ids.v[i]);
        const tsdb_metric *m = s->metric;
        int64_t mark = disco__flush_mark(db, s, all, idle);
        if (!m->n_rules || m->is_rollup || s->newest == INT64_MIN)
            continue;
        for (size_t j = 0; rc == DISCO_OK && j < m->n_rules; j++)
            rc = roll_step(db, s, &m->rules[j], mark, st);
        if (rc == DISCO_OK)
            s->dirty_from = INT64_MAX;
    }
    disco__ids_free(&ids);
    return rc;
}
