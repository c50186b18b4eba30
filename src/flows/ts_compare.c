/*
 * ts_compare.c - how several stored series relate: aligned on one grid,
 * then correlation (Pearson, Spearman, with p-values), lag, co-movement and
 * DTW similarity of their z-normalised shapes, as matrices.
 */
#include "disco/analysis.h"

#include "disco/pool.h"
#include "disco/tsa_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cmp_ctx {
    const disco_series_set *set;
    size_t k;
    disco_tsa_grid grid;
    double **y; /* k resampled series of grid.count values */
    json_t *out;
} cmp_ctx;

static char *series_label(const disco_series_data *d)
{
    char *tags = json_dumps(d->tags, JSON_COMPACT | JSON_SORT_KEYS), *label;
    size_t n = strlen(d->metric) + (tags ? strlen(tags) : 0) + 2;

    label = malloc(n);
    if (label)
        snprintf(label, n, "%s%s", d->metric, tags && strcmp(tags, "{}") ? tags : "");
    free(tags);
    return label;
}

static int align(cmp_ctx *c, int64_t step_ms, disco_status *st)
{
    disco_tsa_series *ss = calloc(c->k, sizeof *ss);
    int rc = ss ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");

    for (size_t i = 0; rc == DISCO_OK && i < c->k; i++)
        ss[i] = (disco_tsa_series){c->set->items[i].ts, c->set->items[i].v, c->set->items[i].n};
    if (rc == DISCO_OK)
        rc = disco_tsa_grid_choose(ss, c->k, &c->grid, st);
    free(ss);
    if (rc == DISCO_OK && step_ms > 0) {
        int64_t span = c->grid.step * (int64_t)(c->grid.count - 1);
        c->grid.step = step_ms;
        c->grid.count = (size_t)(span / step_ms) + 1;
    }
    c->y = rc == DISCO_OK ? calloc(c->k, sizeof *c->y) : NULL;
    for (size_t i = 0; rc == DISCO_OK && i < c->k; i++) {
        const disco_series_data *d = &c->set->items[i];
        c->y[i] = malloc(c->grid.count * sizeof **c->y);
        rc = c->y[i] ? disco_tsa_resample(d->ts, d->v, d->n, &c->grid, DISCO_TSA_FILL_LINEAR,
                                          c->y[i], st)
                     : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    return rc;
}

/* z-normalised copies for DTW (shape, not scale); NaN become the mean (0). */
static double **znorm(cmp_ctx *c)
{
    double **z = calloc(c->k, sizeof *z);
    size_t n = c->grid.count;

    for (size_t i = 0; z && i < c->k; i++) {
        double mean = 0, var = 0;
        size_t m = 0;
        z[i] = malloc(n * sizeof **z);
        for (size_t j = 0; j < n; j++)
            if (isfinite(c->y[i][j])) {
                mean += c->y[i][j];
                m++;
            }
        mean = m ? mean / (double)m : 0;
        for (size_t j = 0; j < n; j++)
            if (isfinite(c->y[i][j]))
                var += (c->y[i][j] - mean) * (c->y[i][j] - mean);
        double sd = m > 1 ? sqrt(var / (double)(m - 1)) : 0;
        for (size_t j = 0; z[i] && j < n; j++)
            z[i][j] = isfinite(c->y[i][j]) && sd > 0 ? (c->y[i][j] - mean) / sd : 0;
    }
    return z;
}

static json_t *matrix_json(const double *m, size_t k)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < k; i++) {
        json_t *row = json_array();
        for (size_t j = 0; j < k; j++)
            json_array_append_new(row,
                                  isfinite(m[i * k + j]) ? json_real(m[i * k + j]) : json_null());
        json_array_append_new(rows, row);
    }
    return rows;
}

/*
 * Lag by cross-correlation of the first differences: levels with trends
 * correlate at any lag, changes only where the series really line up. A
 * periodic pair correlates as well one period further on, so among lags
 * within 1 % of the best correlation the smallest is taken.
 */
static long lag_of(const double *x, const double *y, size_t n, double *corr)
{
    double *dx = malloc(n * sizeof *dx), *dy = malloc(n * sizeof *dy), c = NAN, c2;
    long lag = 0, l2;

    if (dx && dy && n > 8) {
        for (size_t i = 1; i < n; i++) {
            dx[i - 1] = x[i] - x[i - 1];
            dy[i - 1] = y[i] - y[i - 1];
        }
        size_t max = (n - 1) / 10 < 100 ? (n - 1) / 10 : 100;
        if (disco_tsa_lag(dx, dy, n - 1, max, &lag, &c, NULL) != DISCO_OK)
            lag = 0;
        while (lag != 0 &&
               disco_tsa_lag(dx, dy, n - 1, (size_t)labs(lag) - 1, &l2, &c2, NULL) == DISCO_OK &&
               c2 >= 0.99 * c) {
            lag = l2;
            c = c2;
        }
    }
    *corr = c;
    free(dx);
    free(dy);
    return lag;
}

typedef struct pair_mats {
    double *pr, *pp, *sr, *sp, *lag, *co;
} pair_mats;

static void pair_one(cmp_ctx *c, pair_mats *m, size_t i, size_t j)
{
    size_t k = c->k, n = c->grid.count;
    disco_tsa_corr p = {NAN, NAN, 0}, s = {NAN, NAN, 0};
    disco_tsa_comove co = {NAN, 0, 0};
    long lag = 0;
    double lc = NAN;

    if (i == j) {
        p.r = s.r = co.fraction = 1;
        p.p = s.p = 0;
    } else {
        (void)disco_tsa_pearson(c->y[i], c->y[j], n, &p, NULL);
        (void)disco_tsa_spearman(c->y[i], c->y[j], n, &s, NULL);
        (void)disco_tsa_comovement(c->y[i], c->y[j], n, &co, NULL);
        lag = lag_of(c->y[i], c->y[j], n, &lc);
    }
    m->pr[i * k + j] = p.r;
    m->pp[i * k + j] = p.p;
    m->sr[i * k + j] = s.r;
    m->sp[i * k + j] = s.p;
    m->co[i * k + j] = co.fraction;
    m->lag[i * k + j] = (double)lag * (double)c->grid.step;
}

static int pairs(cmp_ctx *c, disco_status *st)
{
    size_t kk = c->k * c->k;
    double *buf = calloc(6 * kk, sizeof *buf);
    pair_mats m = {buf, buf + kk, buf + 2 * kk, buf + 3 * kk, buf + 4 * kk, buf + 5 * kk};

    if (!buf)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < c->k; i++)
        for (size_t j = 0; j < c->k; j++)
            pair_one(c, &m, i, j);
    json_object_set_new(c->out, "pearson", matrix_json(m.pr, c->k));
    json_object_set_new(c->out, "pearson_p", matrix_json(m.pp, c->k));
    json_object_set_new(c->out, "spearman", matrix_json(m.sr, c->k));
    json_object_set_new(c->out, "spearman_p", matrix_json(m.sp, c->k));
    json_object_set_new(c->out, "lag_ms", matrix_json(m.lag, c->k));
    json_object_set_new(c->out, "comovement", matrix_json(m.co, c->k));
    free(buf);
    return DISCO_OK;
}

static int dtw_all(cmp_ctx *c, disco_status *st)
{
    double **z = znorm(c), *d = calloc(c->k * c->k, sizeof *d);
    size_t *lens = calloc(c->k, sizeof *lens);
    disco_tsa_dtw_config cfg = disco_tsa_dtw_config_default();
    disco_pool *pool = NULL;
    int rc = z && d && lens ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory");

    for (size_t i = 0; rc == DISCO_OK && i < c->k; i++)
        lens[i] = c->grid.count;
    if (rc == DISCO_OK && c->k > 2)
        (void)disco_pool_new(0, &pool);
    if (rc == DISCO_OK)
        rc = disco_tsa_dtw_matrix((const double *const *)z, lens, c->k, &cfg, pool, d, st);
    if (rc == DISCO_OK) {
        json_object_set_new(c->out, "dtw_distance", matrix_json(d, c->k));
        for (size_t i = 0; i < c->k * c->k; i++)
            d[i] = disco_tsa_dtw_similarity(d[i]);
        json_object_set_new(c->out, "dtw_similarity", matrix_json(d, c->k));
    }
    disco_pool_free(pool);
    for (size_t i = 0; z && i < c->k; i++)
        free(z[i]);
    free(z);
    free(d);
    free(lens);
    return rc;
}

/* "a ~ b: r 0.93 (p 2e-08), DTW similarity 0.41; ..." for the strongest pairs. */
static void summarise(cmp_ctx *c, const json_t *labels, char *buf, size_t cap)
{
    json_t *pr = json_object_get(c->out, "pearson"), *pp = json_object_get(c->out, "pearson_p");
    json_t *ds = json_object_get(c->out, "dtw_similarity");
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < c->k; i++)
        for (size_t j = i + 1; j < c->k && len + 1 < cap; j++)
            len += (size_t)snprintf(buf + len, cap - len,
                                    "%s%s ~ %s: r %.2f (p %.2g), DTW similarity %.2f",
                                    len ? "; " : "", json_string_value(json_array_get(labels, i)),
                                    json_string_value(json_array_get(labels, j)),
                                    json_number_value(json_array_get(json_array_get(pr, i), j)),
                                    json_number_value(json_array_get(json_array_get(pp, i), j)),
                                    json_number_value(json_array_get(json_array_get(ds, i), j)));
}

int disco_analysis_compare(const disco_series_set *set, int64_t step_ms, json_t **result,
                           disco_status *st)
{
    cmp_ctx c = {.set = set, .k = set->count, .out = json_object()};
    json_t *labels = json_array();
    char summary[2048];
    int rc = c.k >= 2 ? DISCO_OK
                      : disco_status_set(st, DISCO_ERR_INVAL, "metrics",
                                         "compare needs at least two series, got %zu", c.k);

    for (size_t i = 0; i < c.k; i++) {
        char *l = series_label(&set->items[i]);
        json_array_append_new(labels, json_string(l ? l : "?"));
        free(l);
    }
    if (rc == DISCO_OK)
        rc = align(&c, step_ms, st);
    if (rc == DISCO_OK)
        rc = pairs(&c, st);
    if (rc == DISCO_OK)
        rc = dtw_all(&c, st);
    if (rc == DISCO_OK) {
        summarise(&c, labels, summary, sizeof summary);
        json_object_set_new(c.out, "summary", json_string(summary));
        json_object_set(c.out, "series", labels);
        json_object_set_new(c.out, "grid",
                            json_pack("{s:I, s:I, s:I}", "start", (json_int_t)c.grid.start,
                                      "step_ms", (json_int_t)c.grid.step, "count",
                                      (json_int_t)c.grid.count));
        *result = json_incref(c.out);
    }
    for (size_t i = 0; c.y && i < c.k; i++)
        free(c.y[i]);
    free(c.y);
    json_decref(labels);
    json_decref(c.out);
    return rc;
}
