/*
 * tsquery.c - queries over the tsdb: raw, stepped and grouped queries and
 * their JSON result (the aggregation kernel is in tsquery_agg.c).
 *
 * DESIGN. disco_tsdb_read() hands over each selected series whole, its
 * points sorted, so a series' step buckets are contiguous slices of its
 * arrays:
 *
 *     ts  | 0 1 2 ... 59 | 60 61 ... 119 | 120 ...     (seconds, step 1m)
 *         '-- bucket 0 --'-- bucket 60 --'
 *
 * Without grouping, each slice goes straight to the kernel: no copy, and
 * bucket ends are found by galloping search, not by a division per point.
 * With grouping, a group gathers its member series' values (one copy each)
 * and remembers each slice as a segment (bucket, first/last time, offset,
 * length); once all series are read, segments are sorted by bucket and the
 * kernel runs over the union of each bucket's samples, so avg is the mean
 * of every sample, not a mean of means.
 */
#include "tsquery_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_POINTS ((size_t)10000000)

/* ---- queries ------------------------------------------------------------- */

#define ALL_AGGS ((1u << DISCO__TS_N_AGGS) - 1)
#define PCT_AGGS (DISCO_AGG_P50 | DISCO_AGG_P90 | DISCO_AGG_P99)

typedef struct q_out { /* one result series */
    char *key;         /* canonical series key: the order of the result */
    json_t *obj;
} q_out;

typedef struct q_seg { /* one member series' slice of one bucket */
    int64_t bucket, first_ts, last_ts;
    size_t off, len; /* into the group's values */
    size_t seq;      /* the member's arrival order: breaks ties */
} q_seg;

typedef struct q_group { /* series agreeing on the group_by tags */
    char *key, *metric;
    json_t *tags; /* the group tags only */
    double *vals;
    size_t n_vals, cap_vals;
    q_seg *segs;
    size_t n_segs, cap_segs;
} q_group;

typedef struct q_run {
    const disco_ts_query *q;
    unsigned aggs;
    int count_col, last_col; /* positions of count and last in a row, or -1 */
    size_t max_points, total, seq;
    int over; /* past max_points: rows are counted, nothing is built */
    json_t *columns;
    q_out *outs;
    size_t n_outs, cap_outs;
    q_group *groups;
    size_t n_groups, cap_groups;
    json_t *group_index; /* group key -> index into groups */
    double *scratch, *gather;
    size_t cap_scratch, cap_gather;
    disco_status st; /* failures inside the read callback */
} q_run;

/*
 * `p` (capacity *cap elements of `size` bytes) with room for `need`: the
 * same or a moved block, or NULL (p untouched) when memory runs out.
 */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t ncap = *cap ? *cap : 16;

    if (p && need <= *cap)
        return p;
    if (need > SIZE_MAX / 2 / size)
        return NULL;
    while (ncap < need)
        ncap *= 2;
    p = realloc(p, ncap * size);
    if (p)
        *cap = ncap;
    return p;
}

static int nomem(q_run *r)
{
    return disco_status_set(&r->st, DISCO_ERR_NOMEM, NULL, "query: out of memory");
}

static int col_of(unsigned aggs, unsigned bit)
{
    return (aggs & bit) ? __builtin_popcount(aggs & (bit - 1)) : -1;
}

static json_t *num_json(double x)
{
    if (isnan(x))
        return json_string("NaN");
    if (isinf(x))
        return json_string(x > 0 ? "Inf" : "-Inf");
    return json_real(x);
}

static int run_init(q_run *r, const disco_ts_query *q)
{
    memset(r, 0, sizeof *r);
    r->q = q;
    r->aggs = q->step_ms && !q->aggs ? DISCO_AGG_AVG : q->aggs;
    r->count_col = col_of(r->aggs, DISCO_AGG_COUNT);
    r->last_col = col_of(r->aggs, DISCO_AGG_LAST);
    r->max_points = q->max_points ? q->max_points : DEFAULT_MAX_POINTS;
    r->columns = json_pack("[s]", "ts");
    r->group_index = json_object();
    if (!r->columns || !r->group_index)
        return -1;
    if (!q->step_ms)
        return json_array_append_new(r->columns, json_string("value"));
    for (int i = 0; i < DISCO__TS_N_AGGS; i++)
        if ((r->aggs & (1u << i)) &&
            json_array_append_new(r->columns, json_string(disco__ts_agg_names[i])))
            return -1;
    return 0;
}

static void drop_outs(q_run *r)
{
    for (size_t i = 0; i < r->n_outs; i++) {
        free(r->outs[i].key);
        json_decref(r->outs[i].obj);
    }
    r->n_outs = 0;
}

static void run_release(q_run *r)
{
    drop_outs(r);
    free(r->outs);
    for (size_t i = 0; i < r->n_groups; i++) {
        free(r->groups[i].key);
        free(r->groups[i].metric);
        json_decref(r->groups[i].tags);
        free(r->groups[i].vals);
        free(r->groups[i].segs);
    }
    free(r->groups);
    json_decref(r->group_index);
    json_decref(r->columns);
    free(r->scratch);
    free(r->gather);
}

/* Counts `rows` more result rows; past the limit, what was built goes. */
static void count_rows(q_run *r, size_t rows)
{
    r->total += rows;
    if (!r->over && r->total > r->max_points) {
        r->over = 1;
        drop_outs(r);
    }
}

/* {"metric", "tags", "columns", "points": []}, a new reference or NULL. */
static json_t *series_obj(q_run *r, const char *metric, const json_t *tags)
{
    json_t *t = tags ? json_deep_copy(tags) : json_object();

    return json_pack("{s:s, s:o, s:o, s:[]}", "metric", metric, "tags", t, "columns",
                     json_deep_copy(r->columns), "points");
}

/* Adds a finished series to the result (taking `obj` and `key`). */
static int push_out(q_run *r, json_t *obj, char *key)
{
    q_out *outs = key ? grow(r->outs, &r->cap_outs, r->n_outs + 1, sizeof *outs) : NULL;

    if (!outs) {
        free(key);
        json_decref(obj);
        return nomem(r);
    }
    r->outs = outs;
    r->outs[r->n_outs].key = key;
    r->outs[r->n_outs++].obj = obj;
    return DISCO_OK;
}

/* Ends one series' callback: keeps `obj` unless the run failed or is over. */
static int finish_series(q_run *r, json_t *obj, const disco_ts_series_info *s, int rc)
{
    if (rc != DISCO_OK || r->over) {
        json_decref(obj);
        return rc;
    }
    return push_out(r, obj, disco_ts_series_key(s->metric, s->tags));
}

static int append_row(q_run *r, json_t *points, int64_t t, const double *vals, size_t n)
{
    json_t *row = json_array();
    int bad = !row || json_array_append_new(row, json_integer(t));

    for (size_t i = 0; i < n && !bad; i++) {
        json_t *x = (int)i == r->count_col ? json_integer((json_int_t)vals[i]) : num_json(vals[i]);
        bad = json_array_append_new(row, x);
    }
    if (bad || json_array_append_new(points, row)) {
        json_decref(bad ? row : NULL);
        return nomem(r);
    }
    return DISCO_OK;
}

/* Start of the step bucket holding t: the multiple of step at or below it. */
static int64_t bucket_of(int64_t t, int64_t step)
{
    int64_t rem = t % step;

    if (rem >= 0)
        return t - rem;
    return t - rem >= INT64_MIN + step ? t - rem - step : INT64_MIN;
}

/* First index in [i, n) whose time is past bucket b (galloping search). */
static size_t bucket_end(const int64_t *ts, size_t i, size_t n, int64_t b, int64_t step)
{
    size_t lo = i, hi, k = 1;
    int64_t end;

    if (b > INT64_MAX - step)
        return n;
    end = b + step;
    while (k < n - i && ts[i + k] < end) {
        lo = i + k;
        k *= 2;
    }
    hi = k < n - i ? i + k : n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts[mid] < end)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Aggregates one bucket's values into a row of `points`. */
static int agg_row(q_run *r, json_t *points, int64_t bucket, const double *v, size_t n)
{
    double out[DISCO__TS_N_AGGS];

    if (r->aggs & PCT_AGGS) {
        double *s = grow(r->scratch, &r->cap_scratch, n, sizeof *s);
        if (!s)
            return nomem(r);
        r->scratch = s;
    }
    disco_ts_aggregate(v, n, r->aggs, out, r->scratch);
    return append_row(r, points, bucket, out, (size_t)__builtin_popcount(r->aggs));
}

static int on_series_raw(void *user, const disco_ts_series_info *s, const int64_t *ts,
                         const double *v, size_t n)
{
    q_run *r = user;
    json_t *obj, *points;
    int rc = DISCO_OK;

    count_rows(r, n);
    if (r->over)
        return DISCO_OK;
    if (!(obj = series_obj(r, s->metric, s->tags)))
        return nomem(r);
    points = json_object_get(obj, "points");
    for (size_t i = 0; i < n && rc == DISCO_OK; i++)
        rc = append_row(r, points, ts[i], &v[i], 1);
    return finish_series(r, obj, s, rc);
}

static int on_series_stepped(void *user, const disco_ts_series_info *s, const int64_t *ts,
                             const double *v, size_t n)
{
    q_run *r = user;
    int64_t step = r->q->step_ms;
    json_t *obj = r->over ? NULL : series_obj(r, s->metric, s->tags);
    json_t *points = json_object_get(obj, "points");
    size_t i = 0;
    int rc = DISCO_OK;

    if (!r->over && !obj)
        return nomem(r);
    while (i < n && rc == DISCO_OK) {
        int64_t b = bucket_of(ts[i], step);
        size_t j = bucket_end(ts, i, n, b, step);
        count_rows(r, 1);
        if (!r->over)
            rc = agg_row(r, points, b, v + i, j - i);
        i = j;
    }
    return finish_series(r, obj, s, rc);
}

/* ---- grouped queries ----------------------------------------------------- */

/* The group tags of a series: its values of the group_by keys it has. */
static json_t *group_tags(const disco_ts_query *q, const json_t *tags)
{
    json_t *g = json_object();

    for (size_t i = 0; g && i < q->n_group_by; i++) {
        json_t *v = json_object_get(tags, q->group_by[i]);
        if (v && json_object_set_new(g, q->group_by[i], json_deep_copy(v))) {
            json_decref(g);
            g = NULL;
        }
    }
    return g;
}

static int new_group(q_run *r, const char *metric, json_t *tags, char *key, q_group **out)
{
    q_group *gs = grow(r->groups, &r->cap_groups, r->n_groups + 1, sizeof *gs);
    json_t *index = json_integer((json_int_t)r->n_groups);
    char *m;

    if (!gs || !index) {
        json_decref(index);
        return -1;
    }
    r->groups = gs;
    if (!(m = strdup(metric)) || json_object_set_new(r->group_index, key, index)) {
        free(m);
        return -1;
    }
    *out = &gs[r->n_groups++];
    memset(*out, 0, sizeof **out);
    (*out)->key = key;
    (*out)->metric = m;
    (*out)->tags = tags;
    return 0;
}

/* The group of series `s`, created on its first member. */
static int find_group(q_run *r, const disco_ts_series_info *s, q_group **out)
{
    json_t *tags = group_tags(r->q, s->tags), *found;
    char *key = tags ? disco_ts_series_key(s->metric, tags) : NULL;

    if (!key)
        goto fail;
    found = json_object_get(r->group_index, key);
    if (found) {
        *out = &r->groups[json_integer_value(found)];
        free(key);
        json_decref(tags);
        return DISCO_OK;
    }
    if (new_group(r, s->metric, tags, key, out) == 0)
        return DISCO_OK;
fail:
    free(key);
    json_decref(tags);
    return nomem(r);
}

static int add_segment(q_group *g, const q_seg *seg)
{
    q_seg *segs = grow(g->segs, &g->cap_segs, g->n_segs + 1, sizeof *segs);

    if (!segs)
        return -1;
    g->segs = segs;
    segs[g->n_segs++] = *seg;
    return 0;
}

static int on_series_grouped(void *user, const disco_ts_series_info *s, const int64_t *ts,
                             const double *v, size_t n)
{
    q_run *r = user;
    int64_t step = r->q->step_ms;
    q_group *g = NULL;
    double *vals;
    size_t i = 0;
    int rc = find_group(r, s, &g);

    if (rc != DISCO_OK)
        return rc;
    if (!(vals = grow(g->vals, &g->cap_vals, g->n_vals + n, sizeof *vals)))
        return nomem(r);
    g->vals = vals;
    memcpy(vals + g->n_vals, v, n * sizeof *v);
    while (i < n) {
        int64_t b = bucket_of(ts[i], step);
        size_t j = bucket_end(ts, i, n, b, step);
        q_seg seg = {b, ts[i], ts[j - 1], g->n_vals + i, j - i, r->seq};
        if (add_segment(g, &seg))
            return nomem(r);
        i = j;
    }
    g->n_vals += n;
    r->seq++;
    return DISCO_OK;
}

static int cmp_seg(const void *pa, const void *pb)
{
    const q_seg *a = pa, *b = pb;

    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    if (a->first_ts != b->first_ts)
        return a->first_ts < b->first_ts ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Index of the value stored last in time among segs[0..n) (ties: later series). */
static size_t last_value_at(const q_seg *segs, size_t n)
{
    size_t best = 0;

    for (size_t i = 1; i < n; i++)
        if (segs[i].last_ts > segs[best].last_ts ||
            (segs[i].last_ts == segs[best].last_ts && segs[i].seq > segs[best].seq))
            best = i;
    return segs[best].off + segs[best].len - 1;
}

/* One row from a bucket's segments segs[0..n), sorted by first time. */
static int group_row(q_run *r, const q_group *g, json_t *points, const q_seg *segs, size_t n)
{
    double out[DISCO__TS_N_AGGS], *gather;
    size_t len = 0;

    if (n == 1)
        return agg_row(r, points, segs[0].bucket, g->vals + segs[0].off, segs[0].len);
    for (size_t i = 0; i < n; i++)
        len += segs[i].len;
    gather = grow(r->gather, &r->cap_gather, len, sizeof *gather);
    if (!gather)
        return nomem(r);
    r->gather = gather;
    len = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(gather + len, g->vals + segs[i].off, segs[i].len * sizeof *gather);
        len += segs[i].len;
    }
    if (r->aggs & PCT_AGGS) {
        double *s = grow(r->scratch, &r->cap_scratch, len, sizeof *s);
        if (!s)
            return nomem(r);
        r->scratch = s;
    }
    disco_ts_aggregate(gather, len, r->aggs, out, r->scratch);
    if (r->last_col >= 0)
        out[r->last_col] = g->vals[last_value_at(segs, n)];
    return append_row(r, points, segs[0].bucket, out, (size_t)__builtin_popcount(r->aggs));
}

static size_t same_bucket_end(const q_seg *segs, size_t i, size_t n)
{
    size_t j = i + 1;

    while (j < n && segs[j].bucket == segs[i].bucket)
        j++;
    return j;
}

/* Sorts a group's segments by bucket and turns each bucket into a row. */
static int finish_group(q_run *r, q_group *g)
{
    json_t *obj, *points;
    size_t rows = 0, i;
    int rc = DISCO_OK;

    qsort(g->segs, g->n_segs, sizeof *g->segs, cmp_seg);
    for (i = 0; i < g->n_segs; i = same_bucket_end(g->segs, i, g->n_segs))
        rows++;
    count_rows(r, rows);
    if (r->over)
        return DISCO_OK;
    if (!(obj = series_obj(r, g->metric, g->tags)))
        return nomem(r);
    points = json_object_get(obj, "points");
    for (i = 0; i < g->n_segs && rc == DISCO_OK;) {
        size_t j = same_bucket_end(g->segs, i, g->n_segs);
        rc = group_row(r, g, points, g->segs + i, j - i);
        i = j;
    }
    if (rc != DISCO_OK) {
        json_decref(obj);
        return rc;
    }
    rc = push_out(r, obj, g->key);
    g->key = NULL;
    return rc;
}

/* ---- running a query ----------------------------------------------------- */

static int cmp_out(const void *a, const void *b)
{
    return strcmp(((const q_out *)a)->key, ((const q_out *)b)->key);
}

static int check_query(const disco_ts_query *q, disco_status *st)
{
    if (!q)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "query: missing");
    if (q->step_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "step", "step %lld ms must be positive",
                                (long long)q->step_ms);
    if (q->aggs & ~ALL_AGGS)
        return disco_status_set(st, DISCO_ERR_INVAL, "agg", "aggregation bits 0x%x are unknown",
                                q->aggs & ~ALL_AGGS);
    if (!q->step_ms && q->aggs)
        return disco_status_set(st, DISCO_ERR_INVAL, "step",
                                "aggregations need a step (e.g. 1m): without one a query "
                                "returns raw points");
    if (!q->step_ms && q->n_group_by)
        return disco_status_set(st, DISCO_ERR_INVAL, "group_by",
                                "group_by needs a step (e.g. 1m) to aggregate over");
    if (q->n_group_by > DISCO_TS_TAGS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "group_by",
                                "group_by names %zu tag keys, more than %d", q->n_group_by,
                                DISCO_TS_TAGS_MAX);
    for (size_t i = 0; i < q->n_group_by; i++)
        if (!q->group_by || !q->group_by[i] || !*q->group_by[i])
            return disco_status_set(st, DISCO_ERR_INVAL, "group_by", "group_by key %zu is empty",
                                    i + 1);
    return DISCO_OK;
}

static int limit_error(const q_run *r, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_LIMIT, "max_points",
                            "query would return %zu points, more than the limit of %zu: narrow "
                            "the time range or the matchers%s",
                            r->total, r->max_points,
                            r->q->step_ms ? ", or use a larger step" : ", or aggregate by a step");
}

/* Moves the finished series, in key order, into the result. */
static int build_result(q_run *r, json_t **result)
{
    json_t *series = json_array();

    if (r->n_outs > 1)
        qsort(r->outs, r->n_outs, sizeof *r->outs, cmp_out);
    for (size_t i = 0; series && i < r->n_outs; i++) {
        json_t *obj = r->outs[i].obj;
        r->outs[i].obj = NULL;
        if (json_array_append_new(series, obj)) {
            json_decref(series);
            series = NULL;
        }
    }
    *result = json_pack("{s:o, s:I}", "series", series, "points", (json_int_t)r->total);
    return *result ? DISCO_OK : nomem(r);
}

static int run_query(q_run *r, disco_tsdb *db, json_t **result, disco_status *st)
{
    const disco_ts_query *q = r->q;
    disco_ts_read_fn fn = !q->step_ms     ? on_series_raw
                          : q->n_group_by ? on_series_grouped
                                          : on_series_stepped;
    int rc = disco_tsdb_read(db, &q->sel, fn, r, st);

    for (size_t i = 0; rc == DISCO_OK && i < r->n_groups; i++)
        rc = finish_group(r, &r->groups[i]);
    if (rc == DISCO_OK && r->over)
        return limit_error(r, st);
    if (rc == DISCO_OK)
        rc = build_result(r, result);
    if (rc != DISCO_OK && r->st.code == rc && st)
        *st = r->st;
    return rc;
}

int disco_tsdb_query(disco_tsdb *db, const disco_ts_query *q, json_t **result, disco_status *st)
{
    q_run r;
    int rc;

    if (result)
        *result = NULL;
    if (!result)
        return disco_status_set(st, DISCO_ERR_INVAL, NULL, "query: no result pointer");
    if ((rc = check_query(q, st)) != DISCO_OK)
        return rc;
    if (run_init(&r, q) != 0)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "query: out of memory");
    else
        rc = run_query(&r, db, result, st);
    run_release(&r);
    return rc;
}
