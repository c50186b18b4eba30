/*
 * analysis.c - reading series for analysis and storing what was found.
 */
#include "disco/analysis.h"

#include "disco/json.h"
#include "disco/metrics.h"
#include "disco/tsquery.h"

#include <stdlib.h>
#include <string.h>

void disco_series_set_release(disco_series_set *set)
{
    for (size_t i = 0; set && i < set->count; i++) {
        free(set->items[i].metric);
        json_decref(set->items[i].tags);
        free(set->items[i].ts);
        free(set->items[i].v);
    }
    if (set) {
        free(set->items);
        set->items = NULL;
        set->count = 0;
    }
}

typedef struct load_ctx {
    disco_series_set *set;
    int64_t step;
    size_t max;
    int too_many;
} load_ctx;

/* Averages per step bucket into ts/v (already allocated for n points). */
static size_t bucket_avg(const int64_t *ts, const double *v, size_t n, int64_t step,
                         int64_t *out_ts, double *out_v)
{
    size_t m = 0, i = 0;

    while (i < n) {
        int64_t b = ts[i] >= 0 ? ts[i] / step * step : -((-ts[i] + step - 1) / step) * step;
        double sum = 0;
        size_t c = 0;
        for (; i < n && ts[i] < b + step; i++) {
            sum += v[i];
            c++;
        }
        out_ts[m] = b;
        out_v[m++] = sum / (double)c;
    }
    return m;
}

static int load_one(void *user, const disco_ts_series_info *s, const int64_t *ts, const double *v,
                    size_t n)
{
    load_ctx *lc = user;
    disco_series_set *set = lc->set;
    disco_series_data *d;

    if (set->count == lc->max) {
        lc->too_many = 1;
        return 1;
    }
    void *grown = realloc(set->items, (set->count + 1) * sizeof *set->items);
    if (!grown)
        return DISCO_ERR_NOMEM;
    set->items = grown;
    d = &set->items[set->count];
    memset(d, 0, sizeof *d);
    d->metric = strdup(s->metric);
    d->tags = json_deep_copy(s->tags);
    d->ts = malloc((n ? n : 1) * sizeof *d->ts);
    d->v = malloc((n ? n : 1) * sizeof *d->v);
    set->count++;
    if (!d->metric || !d->tags || !d->ts || !d->v)
        return DISCO_ERR_NOMEM;
    if (lc->step > 0) {
        d->n = bucket_avg(ts, v, n, lc->step, d->ts, d->v);
    } else {
        memcpy(d->ts, ts, n * sizeof *ts);
        memcpy(d->v, v, n * sizeof *v);
        d->n = n;
    }
    return 0;
}

int disco_analysis_load(disco_tsdb *db, const disco_ts_selector *sel, int64_t step_ms,
                        size_t max_series, disco_series_set *out, disco_status *st)
{
    load_ctx lc = {.set = out, .step = step_ms, .max = max_series ? max_series : 1000};
    int rc;

    memset(out, 0, sizeof *out);
    rc = disco_tsdb_read(db, sel, load_one, &lc, st);
    if (lc.too_many)
        rc = disco_status_set(st, DISCO_ERR_LIMIT, "where",
                              "more than %zu series match; narrow the selection with --where",
                              lc.max);
    else if (rc > 0 || rc == DISCO_ERR_NOMEM)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    else if (rc == DISCO_OK && out->count == 0)
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "metric",
                              "metric '%s': no points in the selected range and series",
                              sel->metric ? sel->metric : "*");
    if (rc != DISCO_OK)
        disco_series_set_release(out);
    return rc;
}

/* Ids of the live metric resources named in `metrics` (a list of names). */
static json_t *metric_parents(disco_catalog *cat, const json_t *metrics)
{
    json_t *ids = json_array(), *name;
    size_t i;

    json_array_foreach (metrics, i, name) {
        disco_resource r;
        disco_resource_init(&r);
        if (disco_metric_find(cat, json_string_value(name), &r, NULL) == DISCO_OK)
            json_array_append_new(ids, json_string(r.id));
        disco_resource_release(&r);
    }
    return ids;
}

static int store_payload(disco_objects *objs, const json_t *result, char hash[65], disco_status *st)
{
    char *text = disco_json_dumps(result);
    disco_object_info info;
    int rc;

    if (!text)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    rc = disco_objects_put_mem(objs, text, strlen(text), &info, NULL, st);
    free(text);
    if (rc == DISCO_OK)
        memcpy(hash, info.hash, 65);
    return rc;
}

int disco_analysis_store_with(disco_catalog *cat, disco_objects *objs, const char *kind,
                              const json_t *parents, const char *summary, const json_t *meta,
                              const json_t *result, const char *owner, disco_resource *out,
                              disco_status *st)
{
    char hash[65];
    json_t *md, *tags;
    int rc = store_payload(objs, result, hash, st);

    if (rc != DISCO_OK)
        return rc;
    md = meta ? json_deep_copy(meta) : json_object();
    json_object_set_new(md, "kind", json_string(kind));
    json_object_set_new(md, "summary", json_string(summary ? summary : ""));
    tags = json_pack("{s:s}", "analysis", kind);
    disco_resource_spec spec = {.type = "analysis",
                                .object = hash,
                                .parents = parents,
                                .tags = tags,
                                .metadata = md,
                                .owner = owner};
    rc = disco_catalog_create(cat, &spec, out, st);
    json_decref(md);
    json_decref(tags);
    return rc;
}

int disco_analysis_store(disco_catalog *cat, disco_objects *objs, const char *kind,
                         const json_t *metrics, const char *summary, const json_t *meta,
                         const json_t *result, const char *owner, disco_resource *out,
                         disco_status *st)
{
    json_t *parents = metric_parents(cat, metrics);
    json_t *md = meta ? json_deep_copy(meta) : json_object();
    json_object_set(md, "metrics", (json_t *)metrics);
    int rc =
        disco_analysis_store_with(cat, objs, kind, parents, summary, md, result, owner, out, st);
    json_decref(parents);
    json_decref(md);
    return rc;
}
