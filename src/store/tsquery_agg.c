/*
 * tsquery_agg.c - the aggregation kernel behind tsdb queries and rollups,
 * and the names queries are written in: aggregations and steps.
 *
 * The kernel sums pairwise over blocks of eight running sums (numpy's
 * scheme: error grows with log n, speed of a plain loop); stddev takes a
 * second, corrected pass over deviations from the mean; percentiles select
 * the needed ranks in one multi-rank quickselect over a copy in `scratch`.
 */
#include "tsquery_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAIRWISE_LEAF 128
#define SELECT_SMALL 16

const char *const disco__ts_agg_names[DISCO__TS_N_AGGS] = {
    "avg", "min", "max", "sum", "count", "first", "last", "stddev", "p50", "p90", "p99"};

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
    double r[DISCO__TS_N_AGGS], pct[3] = {NAN, NAN, NAN};
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
    for (int i = 0; i < DISCO__TS_N_AGGS; i++)
        if (aggs & (1u << i))
            out[k++] = r[i];
}

/* ---- names ------------------------------------------------------------- */

int disco_ts_agg_parse(const char *name, unsigned *bit, disco_status *st)
{
    for (int i = 0; name && i < DISCO__TS_N_AGGS; i++)
        if (strcmp(name, disco__ts_agg_names[i]) == 0) {
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
    for (int i = 0; i < DISCO__TS_N_AGGS; i++)
        if (bit == 1u << i)
            return disco__ts_agg_names[i];
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
