/*
 * metrics.c - metric resources kept in step with the time-series store.
 *
 * Create checks the catalog first (so a refused create changes nothing),
 * then declares the metric in the tsdb, then writes the resource. Writes go
 * to the tsdb first: the points are what matters, and a crash before the
 * registration only leaves a metric to be registered by the next write.
 */
#include "disco/metrics.h"

#include <string.h>

int disco_metric_find(disco_catalog *cat, const char *name, disco_resource *out, disco_status *st)
{
    disco_resource_list l = {0};
    json_t *tags = json_pack("{s:s}", "metric", name);
    disco_resource_filter f = {.type = "metric", .tags = tags, .limit = 1};
    int rc = disco_catalog_list(cat, &f, &l, st);

    json_decref(tags);
    if (rc == DISCO_OK && l.count == 0)
        rc =
            disco_status_set(st, DISCO_ERR_NOTFOUND, "metric", "metric '%s': no such metric", name);
    if (rc == DISCO_OK && out) {
        *out = l.items[0];
        memset(&l.items[0], 0, sizeof l.items[0]);
    }
    disco_resource_list_release(&l);
    return rc;
}

static int check_absent(disco_catalog *cat, const char *name, disco_status *st)
{
    disco_resource r;
    int rc;

    disco_resource_init(&r);
    rc = disco_metric_find(cat, name, &r, NULL);
    if (rc == DISCO_OK)
        rc = disco_status_set(st, DISCO_ERR_EXISTS, "name",
                              "metric '%s' exists already as resource %s "
                              "(change it with: disco resource update %s)",
                              name, r.id, r.id);
    else if (rc == DISCO_ERR_NOTFOUND)
        rc = DISCO_OK;
    else
        disco_status_set(st, rc, "name", "metric '%s': looking it up failed", name);
    disco_resource_release(&r);
    return rc;
}

static json_t *metric_metadata(const disco_metric_spec *spec, const disco_ts_precision *p)
{
    char prec[32];

    disco_ts_precision_format(p, prec, sizeof prec);
    return json_pack("{s:s, s:s, s:s, s:s, s:O?}", "name", spec->name, "description",
                     spec->description ? spec->description : "", "unit",
                     spec->unit ? spec->unit : "", "precision", prec, "aggregation_rules",
                     spec->aggregation_rules);
}

static json_t *metric_tags(const disco_metric_spec *spec)
{
    json_t *tags = spec->tags ? json_deep_copy(spec->tags) : json_object();

    json_object_set_new(tags, "metric", json_string(spec->name));
    return tags;
}

int disco_metric_create(disco_catalog *cat, disco_tsdb *db, const disco_metric_spec *spec,
                        disco_resource *out, disco_status *st)
{
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *meta = NULL, *tags = NULL;
    int rc = disco_ts_check_metric(spec->name, st);

    if (rc == DISCO_OK && spec->precision)
        rc = disco_ts_precision_parse(spec->precision, &p, st);
    if (rc == DISCO_OK)
        rc = check_absent(cat, spec->name, st);
    if (rc == DISCO_OK)
        rc = disco_tsdb_define(db, spec->name, &p, spec->aggregation_rules, st);
    if (rc != DISCO_OK)
        return rc;
    meta = metric_metadata(spec, &p);
    tags = metric_tags(spec);
    disco_resource_spec rs = {
        .type = "metric", .tags = tags, .metadata = meta, .owner = spec->owner};
    rc = disco_catalog_create(cat, &rs, out, st);
    json_decref(meta);
    json_decref(tags);
    return rc;
}

/* Registers `name` with defaults unless it has a resource already. */
static int register_one(disco_catalog *cat, const char *name, const char *owner, json_t *done,
                        disco_status *st)
{
    disco_metric_spec spec = {.name = name, .owner = owner};
    disco_ts_precision p = {DISCO_TS_FLOAT64, 0};
    json_t *meta, *tags;
    int rc = disco_metric_find(cat, name, NULL, NULL);

    if (rc == DISCO_OK)
        return DISCO_OK;
    if (rc != DISCO_ERR_NOTFOUND)
        return disco_status_set(st, rc, "metric", "metric '%s': looking it up failed", name);
    meta = metric_metadata(&spec, &p);
    tags = metric_tags(&spec);
    disco_resource_spec rs = {.type = "metric", .tags = tags, .metadata = meta, .owner = owner};
    rc = disco_catalog_create(cat, &rs, NULL, st);
    json_decref(meta);
    json_decref(tags);
    if (rc == DISCO_OK)
        json_array_append_new(done, json_string(name));
    return rc;
}

static int register_batch(disco_catalog *cat, const disco_ts_batch *b, const char *owner,
                          json_t *done, disco_status *st)
{
    json_t *seen = json_object(), *s;
    size_t i;
    int rc = DISCO_OK;

    json_array_foreach (b->series, i, s) {
        const char *name = json_string_value(json_object_get(s, "metric"));
        if (json_object_get(seen, name))
            continue;
        json_object_set_new(seen, name, json_true());
        if ((rc = register_one(cat, name, owner, done, st)) != DISCO_OK)
            break;
    }
    json_decref(seen);
    return rc;
}

int disco_metric_write(disco_catalog *cat, disco_tsdb *db, const disco_ts_batch *b,
                       const char *owner, json_t **result, disco_status *st)
{
    disco_tsdb_write_result wr = {0};
    json_t *done = json_array();
    int rc = disco_tsdb_write(db, b, &wr, st);

    if (rc == DISCO_OK)
        rc = register_batch(cat, b, owner, done, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:I, s:I, s:I, s:I, s:O}", "written", (json_int_t)wr.written,
                            "series", (json_int_t)json_array_size(b->series), "new_series",
                            (json_int_t)wr.new_series, "replaced", (json_int_t)wr.replaced,
                            "registered", done);
    json_decref(done);
    return rc;
}
