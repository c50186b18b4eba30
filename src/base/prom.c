/*
 * prom.c - the Prometheus metrics registry and its text exposition.
 *
 * DESIGN: a registry is a list of metrics appended under the registry's
 * mutex and never shortened until it is freed, so metric handles stay
 * valid. Each metric keeps its series in a list guarded by the metric's
 * own mutex; a series is found by a hash of its label values and then a
 * full compare. Histogram series keep one non-cumulative count per bucket
 * plus one for +Inf; the exposition sums them, so the +Inf bucket and
 * _count always agree within one scrape.
 */
#include "disco/metrics_prom.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double disco_prom_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60};
const size_t disco_prom_latency_buckets_n =
    sizeof disco_prom_latency_buckets / sizeof disco_prom_latency_buckets[0];

typedef enum prom_kind { PROM_COUNTER, PROM_HISTOGRAM, PROM_GAUGE } prom_kind;

typedef struct prom_series {
    struct prom_series *next;
    uint64_t hash;
    char *values; /* label values, each NUL-terminated, back to back */
    size_t values_len;
    double value;      /* counter total, or histogram sum */
    uint64_t counts[]; /* histogram: per bucket, the last one for +Inf */
} prom_series;

struct disco_prom_metric {
    struct disco_prom_metric *next;
    prom_kind kind;
    char name[DISCO_PROM_NAME_MAX + 1];
    char *help;
    size_t nlabels;
    char labels[DISCO_PROM_LABELS_MAX][DISCO_PROM_NAME_MAX + 1];
    size_t nbounds;
    double bounds[DISCO_PROM_BUCKETS_MAX];
    disco_prom_gauge_fn fn;
    void *user;
    pthread_mutex_t lock; /* guards the series list and their values */
    prom_series *series, **tail;
    size_t nseries;
};

struct disco_prom {
    pthread_mutex_t lock; /* guards the metric list */
    disco_prom_metric *metrics, **tail;
};

/* ---- growing text buffer ------------------------------------------------ */

typedef struct pbuf {
    char *p;
    size_t len, cap;
    int oom;
} pbuf;

static void pb_put(pbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void pb_str(pbuf *b, const char *s)
{
    pb_put(b, s, strlen(s));
}

/* Writes `s` with backslash and newline escaped, and '"' too when `quote`. */
static void pb_escaped(pbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            pb_str(b, "\\\\");
        else if (*s == '\n')
            pb_str(b, "\\n");
        else if (*s == '"' && quote)
            pb_str(b, "\\\"");
        else
            pb_put(b, s, 1);
    }
}

/* Shortest of %.15g / %.17g that reads back exactly; Inf and NaN as Prometheus spells them. */
static void pb_num(pbuf *b, double x)
{
    char text[40];

    if (isnan(x))
        snprintf(text, sizeof text, "NaN");
    else if (isinf(x))
        snprintf(text, sizeof text, "%s", x > 0 ? "+Inf" : "-Inf");
    else {
        snprintf(text, sizeof text, "%.15g", x);
        if (strtod(text, NULL) != x)
            snprintf(text, sizeof text, "%.17g", x);
    }
    pb_str(b, text);
}

/* ---- names -------------------------------------------------------------- */

static int name_ok(const char *s, int colon)
{
    if (!s || !*s || strlen(s) > DISCO_PROM_NAME_MAX)
        return 0;
    for (const char *c = s; *c; c++) {
        int alpha = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' ||
                    (colon && *c == ':');
        if (!alpha && !(c > s && *c >= '0' && *c <= '9'))
            return 0;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int check_labels(disco_prom_metric *m, const char *const *labels, disco_status *st)
{
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *l = labels[i];
        if (!name_ok(l, 0) || strncmp(l, "__", 2) == 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "labels",
                                    "metric %s: label name \"%.64s\" must match "
                                    "[a-zA-Z_][a-zA-Z0-9_]* and not start with __",
                                    m->name, l);
        if (m->kind == PROM_HISTOGRAM && strcmp(l, "le") == 0)
            return disco_status_set(st, DISCO_ERR_INVAL, "labels",
                                    "histogram %s: label \"le\" is reserved for buckets", m->name);
        for (size_t j = 0; j < m->nlabels; j++)
            if (strcmp(m->labels[j], l) == 0)
                return disco_status_set(st, DISCO_ERR_INVAL, "labels",
                                        "metric %s: label \"%s\" given twice", m->name, l);
        if (m->nlabels == DISCO_PROM_LABELS_MAX)
            return disco_status_set(st, DISCO_ERR_INVAL, "labels", "metric %s: more than %d labels",
                                    m->name, DISCO_PROM_LABELS_MAX);
        snprintf(m->labels[m->nlabels++], DISCO_PROM_NAME_MAX + 1, "%s", l);
    }
    return DISCO_OK;
}

static int check_bounds(disco_prom_metric *m, const double *bounds, size_t n, disco_status *st)
{
    if (!bounds) {
        bounds = disco_prom_latency_buckets;
        n = disco_prom_latency_buckets_n;
    }
    if (n > DISCO_PROM_BUCKETS_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "buckets",
                                "histogram %s: %zu buckets, at most %d", m->name, n,
                                DISCO_PROM_BUCKETS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            return disco_status_set(st, DISCO_ERR_INVAL, "buckets",
                                    "histogram %s: bucket bound %zu (%g) must be finite and "
                                    "greater than the one before",
                                    m->name, i, bounds[i]);
        m->bounds[i] = bounds[i];
    }
    m->nbounds = n;
    return DISCO_OK;
}

/* ---- registry ----------------------------------------------------------- */

int disco_prom_new(disco_prom **out, disco_status *st)
{
    disco_prom *reg = calloc(1, sizeof *reg);

    if (!reg)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    pthread_mutex_init(&reg->lock, NULL);
    reg->tail = &reg->metrics;
    *out = reg;
    return DISCO_OK;
}

static void metric_free(disco_prom_metric *m)
{
    prom_series *s = m->series, *next;

    for (; s; s = next) {
        next = s->next;
        free(s->values);
        free(s);
    }
    pthread_mutex_destroy(&m->lock);
    free(m->help);
    free(m);
}

void disco_prom_free(disco_prom *reg)
{
    disco_prom_metric *m, *next;

    if (!reg)
        return;
    for (m = reg->metrics; m; m = next) {
        next = m->next;
        metric_free(m);
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a over the values and their NULs */

    for (size_t i = 0; i < n; i++)
        for (const unsigned char *c = (const unsigned char *)values[i];; c++) {
            h = (h ^ *c) * 1099511628211ull;
            if (!*c)
                break;
        }
    return h;
}

static int same_values(const prom_series *s, const char *const *values, size_t n)
{
    const char *v = s->values;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, values[i]) != 0)
            return 0;
        v += strlen(v) + 1;
    }
    return 1;
}

static prom_series *series_alloc(const disco_prom_metric *m, const char *const *values,
                                 uint64_t hash)
{
    size_t ncounts = m->kind == PROM_HISTOGRAM ? m->nbounds + 1 : 0, len = 0;
    prom_series *s = calloc(1, sizeof *s + ncounts * sizeof s->counts[0]);

    for (size_t i = 0; i < m->nlabels; i++)
        len += strlen(values[i]) + 1;
    if (!s || !(s->values = malloc(len ? len : 1))) {
        free(s);
        return NULL;
    }
    len = 0;
    for (size_t i = 0; i < m->nlabels; i++) {
        size_t k = strlen(values[i]) + 1;
        memcpy(s->values + len, values[i], k);
        len += k;
    }
    s->values_len = len;
    s->hash = hash;
    return s;
}

/* The series for `values`, created when missing; call with m->lock held. */
static int series_get(disco_prom_metric *m, const char *const *values, int create,
                      prom_series **out, disco_status *st)
{
    uint64_t h = hash_values(values, m->nlabels);

    for (prom_series *s = m->series; s; s = s->next)
        if (s->hash == h && same_values(s, values, m->nlabels)) {
            *out = s;
            return DISCO_OK;
        }
    *out = NULL;
    if (!create)
        return DISCO_ERR_NOTFOUND;
    if (m->nseries >= DISCO_PROM_SERIES_MAX)
        return disco_status_set(st, DISCO_ERR_LIMIT, "labels",
                                "metric %s: more than %d label combinations", m->name,
                                DISCO_PROM_SERIES_MAX);
    *out = series_alloc(m, values, h);
    if (!*out)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    *m->tail = *out;
    m->tail = &(*out)->next;
    m->nseries++;
    return DISCO_OK;
}

static int metric_new(prom_kind kind, const char *name, const char *help, const char *const *labels,
                      disco_prom_metric **out, disco_status *st)
{
    disco_prom_metric *m = calloc(1, sizeof *m);
    int rc = DISCO_OK;

    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    m->kind = kind;
    m->tail = &m->series;
    pthread_mutex_init(&m->lock, NULL);
    if (!name_ok(name, 1))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "name",
                              "metric name \"%.64s\" must match [a-zA-Z_:][a-zA-Z0-9_:]*",
                              name ? name : "");
    else if (kind == PROM_COUNTER && !ends_with(name, "_total"))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "name", "counter %s: name must end in _total",
                              name);
    if (rc == DISCO_OK) {
        snprintf(m->name, sizeof m->name, "%s", name);
        rc = check_labels(m, labels, st);
    }
    if (rc == DISCO_OK && help && !(m->help = strdup(help)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc != DISCO_OK) {
        metric_free(m);
        return rc;
    }
    *out = m;
    return DISCO_OK;
}

/* Appends `m` unless its name is taken; frees it then. */
static int metric_add(disco_prom *reg, disco_prom_metric *m, disco_prom_metric **out,
                      disco_status *st)
{
    prom_series *s;
    int rc = DISCO_OK;

    if (m->nlabels == 0 && m->kind != PROM_GAUGE)
        rc = series_get(m, NULL, 1, &s, st);
    pthread_mutex_lock(&reg->lock);
    for (disco_prom_metric *o = reg->metrics; rc == DISCO_OK && o; o = o->next)
        if (strcmp(o->name, m->name) == 0)
            rc = disco_status_set(st, DISCO_ERR_EXISTS, "name", "metric %s is already registered",
                                  m->name);
    if (rc == DISCO_OK) {
        *reg->tail = m;
        reg->tail = &m->next;
    }
    pthread_mutex_unlock(&reg->lock);
    if (rc != DISCO_OK) {
        metric_free(m);
        return rc;
    }
    if (out)
        *out = m;
    return DISCO_OK;
}

int disco_prom_counter_new(disco_prom *reg, const char *name, const char *help,
                           const char *const *labels, disco_prom_metric **out, disco_status *st)
{
    disco_prom_metric *m;
    int rc = metric_new(PROM_COUNTER, name, help, labels, &m, st);

    return rc == DISCO_OK ? metric_add(reg, m, out, st) : rc;
}

int disco_prom_histogram_new(disco_prom *reg, const char *name, const char *help,
                             const char *const *labels, const double *bounds, size_t n,
                             disco_prom_metric **out, disco_status *st)
{
    disco_prom_metric *m;
    int rc = metric_new(PROM_HISTOGRAM, name, help, labels, &m, st);

    if (rc != DISCO_OK)
        return rc;
    rc = check_bounds(m, bounds, n, st);
    if (rc != DISCO_OK) {
        metric_free(m);
        return rc;
    }
    return metric_add(reg, m, out, st);
}

int disco_prom_gauge_new(disco_prom *reg, const char *name, const char *help,
                         const char *const *labels, disco_prom_gauge_fn fn, void *user,
                         disco_prom_metric **out, disco_status *st)
{
    disco_prom_metric *m;
    int rc;

    if (!fn)
        return disco_status_set(st, DISCO_ERR_INVAL, "fn", "gauge %.64s: no callback",
                                name ? name : "");
    rc = metric_new(PROM_GAUGE, name, help, labels, &m, st);
    if (rc != DISCO_OK)
        return rc;
    m->fn = fn;
    m->user = user;
    return metric_add(reg, m, out, st);
}

/* ---- updates ------------------------------------------------------------ */

static int check_values(const disco_prom_metric *m, const char *const *values, disco_status *st)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (!values || !values[i])
            return disco_status_set(st, DISCO_ERR_INVAL, "labels",
                                    "metric %s: no value for label %s", m->name, m->labels[i]);
    return DISCO_OK;
}

int disco_prom_counter_add(disco_prom_metric *m, const char *const *values, double delta,
                           disco_status *st)
{
    prom_series *s;
    int rc;

    if (m->kind != PROM_COUNTER)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric", "%s is not a counter", m->name);
    if (!isfinite(delta) || delta < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "delta",
                                "counter %s: increment %g must be finite and not negative", m->name,
                                delta);
    rc = check_values(m, values, st);
    if (rc != DISCO_OK)
        return rc;
    pthread_mutex_lock(&m->lock);
    rc = series_get(m, values, 1, &s, st);
    if (rc == DISCO_OK)
        s->value += delta;
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int disco_prom_counter_inc(disco_prom_metric *m, const char *const *values)
{
    return disco_prom_counter_add(m, values, 1, NULL);
}

/* Index of the first bucket whose bound is >= x (nbounds: the +Inf bucket). */
static size_t bucket_of(const disco_prom_metric *m, double x)
{
    size_t lo = 0, hi = m->nbounds;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int disco_prom_histogram_observe(disco_prom_metric *m, const char *const *values, double x,
                                 disco_status *st)
{
    prom_series *s;
    int rc;

    if (m->kind != PROM_HISTOGRAM)
        return disco_status_set(st, DISCO_ERR_INVAL, "metric", "%s is not a histogram", m->name);
    if (isnan(x))
        return disco_status_set(st, DISCO_ERR_INVAL, "value", "histogram %s: observed NaN",
                                m->name);
    rc = check_values(m, values, st);
    if (rc != DISCO_OK)
        return rc;
    pthread_mutex_lock(&m->lock);
    rc = series_get(m, values, 1, &s, st);
    if (rc == DISCO_OK) {
        s->counts[bucket_of(m, x)]++;
        s->value += x;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

double disco_prom_value(disco_prom_metric *m, const char *const *values, double *sum)
{
    prom_series *s = NULL;
    double v = 0;

    if (sum)
        *sum = 0;
    if (m->kind == PROM_GAUGE || check_values(m, values, NULL) != DISCO_OK)
        return 0;
    pthread_mutex_lock(&m->lock);
    if (series_get(m, values, 0, &s, NULL) == DISCO_OK) {
        if (m->kind == PROM_COUNTER) {
            v = s->value;
        } else {
            for (size_t i = 0; i <= m->nbounds; i++)
                v += (double)s->counts[i];
            if (sum)
                *sum = s->value;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return v;
}

/* ---- exposition --------------------------------------------------------- */

struct disco_prom_sink {
    pbuf *b;
    const disco_prom_metric *m;
};

/* name{l1="v1",...,extra} value\n ; `extra` is a preformatted pair or NULL. */
static void pb_sample(pbuf *b, const disco_prom_metric *m, const char *suffix, const char *values,
                      const char *extra, double x)
{
    pb_str(b, m->name);
    pb_str(b, suffix);
    if (m->nlabels || extra) {
        pb_str(b, "{");
        for (size_t i = 0; i < m->nlabels; i++) {
            pb_str(b, i ? "," : "");
            pb_str(b, m->labels[i]);
            pb_str(b, "=\"");
            pb_escaped(b, values, 1);
            pb_str(b, "\"");
            values += strlen(values) + 1;
        }
        if (extra) {
            pb_str(b, m->nlabels ? "," : "");
            pb_str(b, extra);
        }
        pb_str(b, "}");
    }
    pb_str(b, " ");
    pb_num(b, x);
    pb_str(b, "\n");
}

static void pb_histogram(pbuf *b, const disco_prom_metric *m, const prom_series *s)
{
    uint64_t cum = 0;
    pbuf le = {0};

    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += s->counts[i];
        le.len = 0;
        pb_str(&le, "le=\"");
        if (i < m->nbounds)
            pb_num(&le, m->bounds[i]);
        else
            pb_str(&le, "+Inf");
        pb_str(&le, "\"");
        if (le.oom) {
            b->oom = 1;
            break;
        }
        pb_sample(b, m, "_bucket", s->values, le.p, (double)cum);
    }
    free(le.p);
    pb_sample(b, m, "_sum", s->values, NULL, s->value);
    pb_sample(b, m, "_count", s->values, NULL, (double)cum);
}

void disco_prom_sink_put(disco_prom_sink *sink, const char *const *values, double value)
{
    pbuf joined = {0};

    if (check_values(sink->m, values, NULL) != DISCO_OK)
        return;
    for (size_t i = 0; i < sink->m->nlabels; i++)
        pb_put(&joined, values[i], strlen(values[i]) + 1);
    if (joined.oom)
        sink->b->oom = 1;
    else
        pb_sample(sink->b, sink->m, "", joined.p ? joined.p : "", NULL, value);
    free(joined.p);
}

static void pb_metric(pbuf *b, disco_prom_metric *m)
{
    static const char *const types[] = {"counter", "histogram", "gauge"};

    if (m->help) {
        pb_str(b, "# HELP ");
        pb_str(b, m->name);
        pb_str(b, " ");
        pb_escaped(b, m->help, 0);
        pb_str(b, "\n");
    }
    pb_str(b, "# TYPE ");
    pb_str(b, m->name);
    pb_str(b, " ");
    pb_str(b, types[m->kind]);
    pb_str(b, "\n");
    if (m->kind == PROM_GAUGE) {
        disco_prom_sink sink = {b, m};
        m->fn(m->user, &sink);
        return;
    }
    pthread_mutex_lock(&m->lock);
    for (prom_series *s = m->series; s; s = s->next) {
        if (m->kind == PROM_COUNTER)
            pb_sample(b, m, "", s->values, NULL, s->value);
        else
            pb_histogram(b, m, s);
    }
    pthread_mutex_unlock(&m->lock);
}

int disco_prom_write(disco_prom *reg, char **text, size_t *len, disco_status *st)
{
    pbuf b = {0};

    pb_put(&b, "", 0);
    pthread_mutex_lock(&reg->lock);
    for (disco_prom_metric *m = reg->metrics; m; m = m->next)
        pb_metric(&b, m);
    pthread_mutex_unlock(&reg->lock);
    if (b.oom) {
        free(b.p);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    *text = b.p;
    if (len)
        *len = b.len;
    return DISCO_OK;
}
