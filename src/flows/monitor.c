/*
 * monitor.c - alert rules over stored metrics, and the checks that raise
 * alerts (see disco/monitor.h).
 */
#include "disco/monitor.h"

#include "disco/analysis.h"
#include "disco/metrics.h"
#include "disco/timeutil.h"
#include "disco/tsa_anomaly.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RULES_MAX 1000

static int check_rule(const json_t *r, disco_status *st)
{
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *op = json_string_value(json_object_get(r, "op"));
    int rc = disco_ts_check_metric(json_string_value(json_object_get(r, "metric")), st);

    if (rc != DISCO_OK)
        return rc;
    if (json_integer_value(json_object_get(r, "window_ms")) <= 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "window", "rule: window must be > 0");
    if (!kind || (strcmp(kind, "threshold") && strcmp(kind, "anomaly")))
        return disco_status_set(st, DISCO_ERR_INVAL, "kind",
                                "rule: kind must be threshold or anomaly");
    if (strcmp(kind, "threshold") == 0 &&
        (!op || (strcmp(op, ">") && strcmp(op, "<") && strcmp(op, ">=") && strcmp(op, "<="))))
        return disco_status_set(st, DISCO_ERR_INVAL, "op", "rule: op must be >, <, >= or <=");
    if (strcmp(kind, "threshold") == 0 && !json_is_number(json_object_get(r, "value")))
        return disco_status_set(st, DISCO_ERR_INVAL, "value",
                                "rule: a threshold rule needs a numeric value");
    return DISCO_OK;
}

int disco_monitor_add_rule(disco_catalog *cat, const json_t *rule, const char *owner,
                           disco_resource *out, disco_status *st)
{
    const char *metric = json_string_value(json_object_get(rule, "metric"));
    json_t *parents = json_array(), *tags;
    disco_resource m;
    int rc = check_rule(rule, st);

    disco_resource_init(&m);
    if (rc == DISCO_OK && disco_metric_find(cat, metric, &m, NULL) == DISCO_OK)
        json_array_append_new(parents, json_string(m.id));
    tags = json_pack("{s:s, s:s}", "metric", metric ? metric : "", "kind",
                     json_is_string(json_object_get(rule, "kind"))
                         ? json_string_value(json_object_get(rule, "kind"))
                         : "");
    disco_resource_spec spec = {
        .type = "alert_rule", .parents = parents, .tags = tags, .metadata = rule, .owner = owner};
    if (rc == DISCO_OK)
        rc = disco_catalog_create(cat, &spec, out, st);
    disco_resource_release(&m);
    json_decref(parents);
    json_decref(tags);
    return rc;
}

static int breaks(const char *op, double v, double limit)
{
    if (strcmp(op, ">") == 0)
        return v > limit;
    if (strcmp(op, ">=") == 0)
        return v >= limit;
    if (strcmp(op, "<") == 0)
        return v < limit;
    return v <= limit;
}

typedef struct check_ctx {
    disco_catalog *cat;
    const disco_resource *rule;
    const char *owner;
    json_t *raised;
    const char *metric_id;
} check_ctx;

static int already_raised(check_ctx *c, int64_t at)
{
    char when[32];
    json_t *tags;
    disco_resource_list l = {0};
    int found;

    snprintf(when, sizeof when, "%lld", (long long)at);
    tags = json_pack("{s:s, s:s}", "rule", c->rule->id, "at", when);
    disco_resource_filter f = {.type = "alert", .tags = tags, .limit = 1};
    found = disco_catalog_list(c->cat, &f, &l, NULL) == DISCO_OK && l.count > 0;
    disco_resource_list_release(&l);
    json_decref(tags);
    return found;
}

/* Raises one alert unless this rule already raised it for time `at`. */
static int raise_alert(check_ctx *c, int64_t at, double value, double score, const char *message,
                       disco_status *st)
{
    char when[32], iso[DISCO_TIME_ISO_MAX];
    json_t *parents = json_pack("[s]", c->rule->id), *tags, *md;
    int rc;

    if (already_raised(c, at)) {
        json_decref(parents);
        return DISCO_OK;
    }
    if (c->metric_id)
        json_array_append_new(parents, json_string(c->metric_id));
    snprintf(when, sizeof when, "%lld", (long long)at);
    disco_time_format_iso(at, iso);
    tags = json_pack("{s:s, s:s}", "rule", c->rule->id, "at", when);
    md = json_pack("{s:s, s:O, s:s, s:f, s:o, s:s}", "rule", c->rule->id, "metric",
                   json_object_get(c->rule->metadata, "metric"), "at", iso, "value", value, "score",
                   isfinite(score) ? json_real(score) : json_null(), "message", message);
    disco_resource_spec spec = {
        .type = "alert", .parents = parents, .tags = tags, .metadata = md, .owner = c->owner};
    rc = disco_catalog_create(c->cat, &spec, NULL, st);
    if (rc == DISCO_OK)
        json_array_append(c->raised, md);
    json_decref(parents);
    json_decref(tags);
    json_decref(md);
    return rc;
}

static int check_threshold(check_ctx *c, const disco_series_data *d, disco_status *st)
{
    const json_t *r = c->rule->metadata;
    const char *op = json_string_value(json_object_get(r, "op"));
    double limit = json_number_value(json_object_get(r, "value"));
    char msg[256];
    int rc = DISCO_OK;

    for (size_t i = 0; rc == DISCO_OK && i < d->n; i++) {
        if (!isfinite(d->v[i]) || !breaks(op, d->v[i], limit))
            continue;
        snprintf(msg, sizeof msg, "%s = %.6g %s %.6g", d->metric, d->v[i], op, limit);
        rc = raise_alert(c, d->ts[i], d->v[i], NAN, msg, st);
    }
    return rc;
}

static int check_anomaly(check_ctx *c, const disco_series_data *d, disco_status *st)
{
    const json_t *thr = json_object_get(c->rule->metadata, "threshold");
    disco_tsa_anomalies a = {0};
    char msg[256];
    int rc;

    if (d->n < 8)
        return DISCO_OK; /* too little in the window to call anything unusual */
    rc = disco_tsa_detect_mad(
        d->v, d->n, json_is_number(thr) ? json_number_value(thr) : DISCO_TSA_MODZ_THRESHOLD, &a,
        st);
    for (size_t i = 0; rc == DISCO_OK && i < a.count; i++) {
        size_t k = a.index[i];
        snprintf(msg, sizeof msg, "%s = %.6g is unusual (modified z %.1f)", d->metric, d->v[k],
                 a.score[i]);
        rc = raise_alert(c, d->ts[k], d->v[k], a.score[i], msg, st);
    }
    disco_tsa_anomalies_release(&a);
    return rc;
}

static int check_one(check_ctx *c, disco_tsdb *db, int64_t now, disco_status *st)
{
    const json_t *r = c->rule->metadata;
    disco_ts_matcher m[32];
    size_t nm = 0;
    disco_series_set set = {0};
    disco_resource met;
    int rc = json_object_get(r, "where")
                 ? disco_ts_matchers_parse(json_object_get(r, "where"), m, 32, &nm, st)
                 : DISCO_OK;
    disco_ts_selector sel = {.metric = json_string_value(json_object_get(r, "metric")),
                             .matchers = m,
                             .n_matchers = nm,
                             .from = now - json_integer_value(json_object_get(r, "window_ms")),
                             .to = now + 1};

    disco_resource_init(&met);
    if (disco_metric_find(c->cat, sel.metric, &met, NULL) == DISCO_OK)
        c->metric_id = met.id;
    if (rc == DISCO_OK)
        rc = disco_analysis_load(db, &sel, 0, 100, &set, st);
    if (rc == DISCO_ERR_NOTFOUND)
        rc = DISCO_OK; /* nothing in the window: nothing to say */
    int thresh = strcmp(json_string_value(json_object_get(r, "kind")), "threshold") == 0;
    for (size_t i = 0; rc == DISCO_OK && i < set.count; i++)
        rc = thresh ? check_threshold(c, &set.items[i], st) : check_anomaly(c, &set.items[i], st);
    disco_series_set_release(&set);
    disco_resource_release(&met);
    c->metric_id = NULL;
    return rc;
}

int disco_monitor_check(disco_catalog *cat, disco_tsdb *db, int64_t now_ms, const char *owner,
                        json_t **report, disco_status *st)
{
    disco_resource_filter f = {.type = "alert_rule", .limit = RULES_MAX};
    disco_resource_list rules = {0};
    json_t *raised = json_array(), *errors = json_array();
    int rc = disco_catalog_list(cat, &f, &rules, st);

    for (size_t i = 0; rc == DISCO_OK && i < rules.count; i++) {
        check_ctx c = {.cat = cat, .rule = &rules.items[i], .owner = owner, .raised = raised};
        disco_status one = {0};
        if (check_one(&c, db, now_ms, &one) != DISCO_OK)
            json_array_append_new(errors, json_pack("{s:s, s:s}", "rule", rules.items[i].id,
                                                    "message", disco_status_message(&one)));
    }
    if (rc == DISCO_OK)
        *report = json_pack("{s:I, s:O, s:O}", "rules", (json_int_t)rules.count, "raised", raised,
                            "errors", errors);
    disco_resource_list_release(&rules);
    json_decref(raised);
    json_decref(errors);
    return rc;
}
