/*
 * ops_monitor.c - monitor add-rule|rules|check|alerts: rules over stored
 * metrics and the alerts they raise (disco/monitor.h).
 */
#include "ops_int.h"

#include "disco/monitor.h"
#include "disco/timeutil.h"

#include <stdio.h>
#include <string.h>

static json_t *rule_from_params(const json_t *params, disco_status *st, int *rc)
{
    const char *window = disco__param_str(params, "window");
    int64_t window_ms = 0;
    json_t *r;

    *rc = disco_duration_parse(window, "param 'window'", &window_ms, st);
    if (*rc != DISCO_OK)
        return NULL;
    r = json_pack("{s:s, s:s, s:I}", "metric", disco__param_str(params, "metric"), "kind",
                  disco__param_str(params, "kind"), "window_ms", (json_int_t)window_ms);
    if (disco__param_json(params, "where"))
        json_object_set(r, "where", (json_t *)disco__param_json(params, "where"));
    if (disco__param_str(params, "op"))
        json_object_set_new(r, "op", json_string(disco__param_str(params, "op")));
    if (disco__param_json(params, "value"))
        json_object_set(r, "value", (json_t *)disco__param_json(params, "value"));
    if (disco__param_json(params, "threshold"))
        json_object_set(r, "threshold", (json_t *)disco__param_json(params, "threshold"));
    return r;
}

static int op_add_rule(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_resource r;
    int rc;
    json_t *rule = rule_from_params(params, st, &rc);

    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (rc == DISCO_OK)
        rc = disco_monitor_add_rule(cat, rule, disco_ctx_principal(ctx), &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    json_decref(rule);
    return rc;
}

static int op_check(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_tsdb *db;
    int rc = disco_ctx_catalog(ctx, &cat, st);

    if (rc == DISCO_OK)
        rc = disco_ctx_tsdb(ctx, &db, st);
    if (rc == DISCO_OK)
        rc = disco_monitor_check(cat, db, disco__param_int(params, "at", disco_time_now_ms()),
                                 disco_ctx_principal(ctx), result, st);
    return rc;
}

/* Lists resources of one type as {"items": [...], "count"} with flattened metadata. */
static int list_type(disco_ctx *ctx, const char *type, const json_t *params, json_t **result,
                     disco_status *st)
{
    disco_catalog *cat;
    disco_resource_list l = {0};
    json_t *tags = NULL, *items = json_array();
    const char *rule = disco__param_str(params, "rule");
    int rc = disco_ctx_catalog(ctx, &cat, st);

    if (rule)
        tags = json_pack("{s:s}", "rule", rule);
    disco_resource_filter f = {
        .type = type, .tags = tags, .limit = disco__param_int(params, "limit", 100)};
    if (rc == DISCO_OK)
        rc = disco_catalog_list(cat, &f, &l, st);
    for (size_t i = 0; rc == DISCO_OK && i < l.count; i++) {
        json_t *row = json_deep_copy(l.items[i].metadata);
        json_object_set_new(row, "resource_id", json_string(l.items[i].id));
        json_array_append_new(items, row);
    }
    if (rc == DISCO_OK)
        *result = json_pack("{s:O, s:I}", "items", items, "count", (json_int_t)l.count);
    disco_resource_list_release(&l);
    json_decref(items);
    json_decref(tags);
    return rc;
}

static int op_rules(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    return list_type(ctx, "alert_rule", params, result, st);
}

static int op_alerts(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    return list_type(ctx, "alert", params, result, st);
}

static const char *const kinds[] = {"threshold", "anomaly", NULL};
static const char *const cmps[] = {">", ">=", "<", "<=", NULL};

static const disco_param add_rule_params[] = {
    {.name = "metric",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "metric to watch"},
    {.name = "where",
     .type = DISCO_P_STRINGS,
     .short_flag = 'w',
     .help = "tag matchers: key=value, key!=value, key=~regex, key!~regex"},
    {.name = "kind",
     .type = DISCO_P_STRING,
     .choices = kinds,
     .def = "\"threshold\"",
     .help = "threshold: a value crosses a limit; anomaly: a value is unusual for the window"},
    {.name = "op",
     .type = DISCO_P_STRING,
     .choices = cmps,
     .def = "\">\"",
     .help = "comparison for threshold rules"},
    {.name = "value", .type = DISCO_P_NUMBER, .help = "limit for threshold rules"},
    {.name = "threshold",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 100,
     .help = "modified z-score for anomaly rules (default 3.5)"},
    {.name = "window",
     .type = DISCO_P_STRING,
     .def = "\"1h\"",
     .help = "how far back each check looks, e.g. 15m, 1h"},
    {0},
};

static const disco_param check_params[] = {
    {.name = "at", .type = DISCO_P_TIME, .help = "check as of this time (default: now)"},
    {0},
};

static const disco_param list_params[] = {
    {.name = "rule", .type = DISCO_P_ID, .help = "only alerts of this rule"},
    {.name = "limit",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = DISCO_LIST_LIMIT_MAX,
     .def = "100",
     .help = "how many"},
    {0},
};

const disco_op disco__ops_monitor[] = {
    {.name = "monitor.add-rule",
     .summary = "watch a metric: a threshold or anomaly rule",
     .help = "Example:\n  disco monitor add-rule http_latency_ms --op '>' --value 250 --window 15m",
     .params = add_rule_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_add_rule},
    {.name = "monitor.rules",
     .summary = "list alert rules",
     .params = list_params,
     .columns = "resource_id,metric,kind,op,value,window_ms",
     .fn = op_rules},
    {.name = "monitor.check",
     .summary = "evaluate every rule now and raise new alerts",
     .params = check_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_check},
    {.name = "monitor.alerts",
     .summary = "list raised alerts",
     .params = list_params,
     .columns = "resource_id,at,metric,value,message",
     .fn = op_alerts},
    {0},
};
