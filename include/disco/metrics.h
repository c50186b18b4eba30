/*
 * metrics.h - metrics as catalog resources over the time-series store.
 *
 * Every metric written to the tsdb is also a catalog resource of type
 * "metric", tagged metric=<name>, whose metadata holds what people need to
 * read it:
 *
 *     {"name": "loss", "description": "training loss", "unit": "nats",
 *      "precision": "float32", "aggregation_rules": {"1m": "avg"}}
 *
 * Metrics written without being created first are registered with
 * defaults (float64, no rules) by disco_metric_write().
 */
#ifndef DISCO_METRICS_H
#define DISCO_METRICS_H

#include "disco/catalog.h"
#include "disco/tsdb.h"

typedef struct disco_metric_spec {
    const char *name;                /* required */
    const char *description;         /* NULL: "" */
    const char *unit;                /* NULL: "" */
    const char *precision;           /* "float64" (NULL), "float32", "decimal:N" */
    const json_t *aggregation_rules; /* {"1m": "avg", "1h": ["min", "max"]} or NULL */
    const json_t *tags;              /* extra tags of the resource, or NULL */
    const char *owner;               /* required */
} disco_metric_spec;

/*
 * Declares the metric in the tsdb and creates its resource. EXISTS when a
 * live metric resource has that name (names the resource); INVAL for a bad
 * name, precision or rule, naming it.
 */
int disco_metric_create(disco_catalog *cat, disco_tsdb *db, const disco_metric_spec *spec,
                        disco_resource *out, disco_status *st);

/* The live resource of metric `name`; NOTFOUND when there is none. */
int disco_metric_find(disco_catalog *cat, const char *name, disco_resource *out,
                      disco_status *st);

/*
 * Writes a batch (atomically, see disco_tsdb_write) and registers the
 * metrics it names that have no resource yet. Result:
 *   {"written", "series", "new_series", "replaced", "registered": [names]}
 */
int disco_metric_write(disco_catalog *cat, disco_tsdb *db, const disco_ts_batch *b,
                       const char *owner, json_t **result, disco_status *st);

#endif
