/*
 * tsquery.c - queries over the tsdb: the aggregation kernel, step and
 * aggregation names, and raw, stepped and grouped queries.
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
 *
 * The kernel sums pairwise over blocks of eight running sums (numpy's
 * scheme: error grows with log n, speed of a plain loop); stddev takes a
 * second, corrected pass over deviations from the mean; percentiles select
 * the needed ranks in one multi-rank quickselect over a copy in `scratch`.
 */
#include "disco/tsquery.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_AGGS 11
#define PAIRWISE_LEAF 128
#define SELECT_SMALL 16
#define DEFAULT_MAX_POINTS ((size_t)10000000)

static const char *const agg_names[N_AGGS] = {"avg",  "min",    "max", "sum", "count", "first",
                                              "last", "stddev", "p50", "p90", "p99"};

/* ---- the aggregation kernel ---------------------------------------------- */

/* Count, sum, min and max of the non-NaN values of a slice. */
typedef struct moments {
    double sum, min, max;
    size_t count;
} moments;

static double sum8(const double s[8])
{
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static void leaf_moments(const double *restrict v, size_t n, moments *m)
{
    double s[8] = {0}, lo[8], hi[8];
    size_t c[8] = {0}, i = 0;

    for (int k = 0; k < 8; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
    }
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            double x = v[i + k];
            int ok = x == x;
            s[k] += ok ? x : 0.0;
            c[k] += (size_t)ok;
            lo[k] = x < lo[k] ? x : lo[k];
            hi[k] = x > hi[k] ? x : hi[k];
        }
    for (int k = 0; i < n; i++, k++) {
        double x = v[i];
        if (x == x) {
            s[k] += x;
            c[k]++;
            lo[k] = x < lo[k] ? x : lo[k];
            hi[k] = x > hi[k] ? x : hi[k];
        }
    }
    m->sum = sum8(s);
    m->count = c[0] + c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7];
    m->min = lo[0];
    m->max = hi[0];
    for (int k = 1; k < 8; k++) {
        m->min = lo[k] < m->min ? lo[k] : m->min;
        m->max = hi[k] > m->max ? hi[k] : m->max;
    }
}

/* Splits at a multiple of eight so leaves keep their eight lanes full. */
static size_t pairwise_split(size_t n)
{
    size_t h = n / 2;
    return h - h % 8;
}

static void pairwise_moments(const double *v, size_t n, moments *m)
{
    moments a, b;
    size_t h;

    if (n <= PAIRWISE_LEAF) {
        leaf_moments(v, n, m);
        return;
    }
    h = pairwise_split(n);
    pairwise_moments(v, h, &a);
    pairwise_moments(v + h, n - h, &b);
    m->sum = a.sum + b.sum;
    m->count = a.count + b.count;
    m->min = b.min < a.min ? b.min : a.min;
    m->max = b.max > a.max ? b.max : a.max;
}

/* Sums of d and d*d, d = x - mean, over the non-NaN values. */
static void leaf_devs(const double *restrict v, size_t n, double mean, double *sd, double *ss)
{
    double s1[8] = {0}, s2[8] = {0};
    size_t i = 0;

    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            double x = v[i + k];
            double d = x == x ? x - mean : 0.0;
            s1[k] += d;
            s2[k] += d * d;
        }
    for (int k = 0; i < n; i++, k++) {
        double d = v[i] == v[i] ? v[i] - mean : 0.0;
        s1[k] += d;
        s2[k] += d * d;
    }
    *sd = sum8(s1);
    *ss = sum8(s2);
}

static void pairwise_devs(const double *v, size_t n, double mean, double *sd, double *ss)
{
    double sd_a, ss_a, sd_b, ss_b;
    size_t h;

    if (n <= PAIRWISE_LEAF) {
        leaf_devs(v, n, mean, sd, ss);
        return;
    }
    h = pairwise_split(n);
    pairwise_devs(v, h, mean, &sd_a, &ss_a);
    pairwise_devs(v + h, n - h, mean, &sd_b, &ss_b);
    *sd = sd_a + sd_b;
    *ss = ss_a + ss_b;
}

/* Population standard deviation by the corrected two-pass formula. */
static double stddev_of(const double *v, size_t n, const moments *m)
{
    double mean, sd, ss, var;

    if (m->count == 0)
        return NAN;
    mean = m->sum / (double)m->count;
    if (!isfinite(mean))
        return NAN;
    pairwise_devs(v, n, mean, &sd, &ss);
    var = (ss - sd * sd / (double)m->count) / (double)m->count;
    return sqrt(var > 0 ? var : 0);
}

static void swap_d(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static double median3(double a, double b, double c)
{
    if (a < b)
        return b < c ? b : (a < c ? c : a);
    return a < c ? a : (b < c ? c : b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void insertion_sort(double *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

/* Three-way partition of a[lo, hi) around p: [lo,*lt) < p, [*lt,*gt) == p. */
static void partition3(double *a, size_t lo, size_t hi, double p, size_t *lt, size_t *gt)
{
    size_t l = lo, i = lo, g = hi;

    while (i < g) {
        if (a[i] < p)
            swap_d(&a[l++], &a[i++]);
        else if (a[i] > p)
            swap_d(&a[i], &a[--g]);
        else
            i++;
    }
    *lt = l;
    *gt = g;
}

/*
 * Puts the elements of ranks r[0..nr) (ascending, all in [lo, hi)) in
 * their sorted places. Ranks left of the pivot recurse, the others loop;
 * past `depth` partitions a range is sorted outright (no quadratic case).
 */
static void select_ranks(double *a, size_t lo, size_t hi, const size_t *r, size_t nr, int depth)
{
    while (nr > 0) {
        size_t lt, gt, i = 0, j;

        if (hi - lo <= SELECT_SMALL) {
            insertion_sort(a + lo, hi - lo);
            return;
        }
        if (depth-- <= 0) {
            qsort(a + lo, hi - lo, sizeof *a, cmp_double);
            return;
        }
        partition3(a, lo, hi, median3(a[lo], a[lo + (hi - lo) / 2], a[hi - 1]), &lt, &gt);
        while (i < nr && r[i] < lt)
            i++;
        for (j = i; j < nr && r[j] < gt; j++)
            ;
        select_ranks(a, lo, lt, r, i, depth);
        r += j;
        nr -= j;
        lo = gt;
    }
}

/* numpy's linear interpolation (its _lerp), exact when a == b. */
static double lerp(double a, double b, double t)
{
    double d;

    if (a == b)
        return a;
    d = b - a;
    return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

static const double pct_q[3] = {0.5, 0.9, 0.99};

/* Percentiles wanted by `aggs` (bits P50, P90, P99) of a[0..m), NaN-free. */
static void percentiles(double *a, size_t m, unsigned aggs, double out[3])
{
    size_t ranks[6], nr = 0, lo[3] = {0, 0, 0};
    double h[3] = {0, 0, 0};

    for (int k = 0; k < 3; k++) {
        out[k] = NAN;
        if (m == 0 || !(aggs & (DISCO_AGG_P50 << k)))
            continue;
        h[k] = (double)(m - 1) * pct_q[k];
        lo[k] = (size_t)floor(h[k]);
        for (size_t x = lo[k]; x <= lo[k] + 1 && x < m; x++)
            if (nr == 0 || x > ranks[nr - 1])
                ranks[nr++] = x;
    }
    select_ranks(a, 0, m, ranks, nr, 64);
    for (int k = 0; k < 3; k++)
        if (m > 0 && (aggs & (DISCO_AGG_P50 << k))) {
            size_t next = lo[k] + 1 < m ? lo[k] + 1 : lo[k];
            out[k] = lerp(a[lo[k]], a[next], h[k] - (double)lo[k]);
        }
}

static size_t copy_non_nan(const double *restrict v, size_t n, double *restrict out)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        out[m] = v[i];
        m += v[i] == v[i];
    }
    return m;
}

void disco_ts_aggregate(const double *v, size_t n, unsigned aggs, double *out, double *scratch)
{
    double r[N_AGGS], pct[3] = {NAN, NAN, NAN};
    moments m;
    size_t k = 0;

    pairwise_moments(v, n, &m);
    if (aggs & (DISCO_AGG_P50 | DISCO_AGG_P90 | DISCO_AGG_P99))
        percentiles(scratch, copy_non_nan(v, n, scratch), aggs, pct);
    r[0] = m.count ? m.sum / (double)m.count : NAN;
    r[1] = m.count ? m.min : NAN;
    r[2] = m.count ? m.max : NAN;
    r[3] = m.sum;
    r[4] = (double)m.count;
    r[5] = n ? v[0] : NAN;
    r[6] = n ? v[n - 1] : NAN;
    r[7] = (aggs & DISCO_AGG_STDDEV) ? stddev_of(v, n, &m) : NAN;
    r[8] = pct[0];
    r[9] = pct[1];
    r[10] = pct[2];
    for (int i = 0; i < N_AGGS; i++)
        if (aggs & (1u << i))
            out[k++] = r[i];
}

/* ---- names ------------------------------------------------------------- */

int disco_ts_agg_parse(const char *name, unsigned *bit, disco_status *st)
{
    for (int i = 0; name && i < N_AGGS; i++)
        if (strcmp(name, agg_names[i]) == 0) {
            *bit = 1u << i;
            return DISCO_OK;
        }
    return disco_status_set(st, DISCO_ERR_INVAL, "agg",
                            "aggregation '%.64s' is unknown (use avg, min, max, sum, count, "
                            "first, last, stddev, p50, p90 or p99)",
                            name ? name : "");
}

const char *disco_ts_agg_name(unsigned bit)
{
    for (int i = 0; i < N_AGGS; i++)
        if (bit == 1u << i)
            return agg_names[i];
    return NULL;
}

static int64_t unit_ms(const char **p)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1},      {"s", 1000},     {"m", 60000},
                 {"h", 3600000}, {"d", 86400000}, {"w", 604800000}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t len = strlen(units[i].name);
        if (strncmp(*p, units[i].name, len) == 0 && !((*p)[len] >= 'a' && (*p)[len] <= 'z')) {
            *p += len;
            return units[i].ms;
        }
    }
    return 0;
}

/* Reads digits into *n; 0 when there are none, -1 on overflow. */
static int read_count(const char **p, int64_t *n)
{
    const char *s = *p;

    for (*n = 0; **p >= '0' && **p <= '9'; (*p)++) {
        if (*n > (INT64_MAX - (**p - '0')) / 10)
            return -1;
        *n = *n * 10 + (**p - '0');
    }
    return *p > s;
}

int disco_ts_step_parse(const char *text, int64_t *ms, disco_status *st)
{
    const char *t = text ? text : "", *p = t;
    int64_t total = 0, n, unit;
    int got;

    do {
        if ((got = read_count(&p, &n)) < 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "step", "step '%.64s' is too large", t);
        if (!got)
            return disco_status_set(st, DISCO_ERR_INVAL, "step",
                                    "step '%.64s': expected a number at '%.16s' (e.g. 90s, 5m, "
                                    "1h, 1d, 1w or plain milliseconds)",
                                    t, p);
        unit = (*p == '\0' && total == 0) ? 1 : unit_ms(&p);
        if (!unit)
            return disco_status_set(st, DISCO_ERR_INVAL, "step",
                                    "step '%.64s': unknown unit at '%.16s' (use ms, s, m, h, d or "
                                    "w)",
                                    t, p);
        if (n > (INT64_MAX - total) / unit)
            return disco_status_set(st, DISCO_ERR_INVAL, "step", "step '%.64s' is too large", t);
        total += n * unit;
    } while (*p);
    if (total <= 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "step", "step '%.64s' must be positive", t);
    *ms = total;
    return DISCO_OK;
}

/* ---- queries ------------------------------------------------------------- */

#define ALL_AGGS ((1u << N_AGGS) - 1)
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
    for (int i = 0; i < N_AGGS; i++)
        if ((r->aggs & (1u << i)) && json_array_append_new(r->columns, json_string(agg_names[i])))
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
    double out[N_AGGS];

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
    double out[N_AGGS], *gather;
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
