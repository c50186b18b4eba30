/*
 * ops_analysis.c - ts analyze|patterns|compare: analyses of stored metrics,
 * each kept as an "analysis" resource whose parents are the metrics read.
 */
#include "ops_int.h"

#include "disco/analysis.h"
#include "disco/tsquery.h"

#include "disco/tsa_forecast.h"

#include <stdlib.h>
#include <string.h>

#define ANALYSE_MAX_SERIES 20

typedef struct an_stores {
    disco_catalog *cat;
    disco_objects *objs;
    disco_tsdb *db;
} an_stores;

static int open_all(disco_ctx *ctx, an_stores *s, disco_status *st)
{
    int rc = disco_ctx_catalog(ctx, &s->cat, st);

    if (rc == DISCO_OK)
        rc = disco_ctx_objects(ctx, &s->objs, st);
    if (rc == DISCO_OK)
        rc = disco_ctx_tsdb(ctx, &s->db, st);
    return rc;
}

static int step_of(const json_t *params, int64_t *step, disco_status *st)
{
    const char *text = disco__param_str(params, "step");
    int rc;

    *step = 0;
    if (!text)
        return DISCO_OK;
    rc = disco_ts_step_parse(text, step, st);
    if (rc != DISCO_OK && st)
        snprintf(st->field, sizeof st->field, "step");
    return rc;
}

/* Reads the selected series (averaged per --step when given). */
static int load(disco_ctx *ctx, const json_t *params, an_stores *s, disco_series_set *set,
                disco_status *st)
{
    sel_params sp;
    int64_t step;
    int rc = disco__ts_selector(params, &sp, st);

    if (rc == DISCO_OK)
        rc = step_of(params, &step, st);
    if (rc == DISCO_OK)
        rc = open_all(ctx, s, st);
    if (rc == DISCO_OK)
        rc = disco_analysis_load(s->db, &sp.sel, step, ANALYSE_MAX_SERIES, set, st);
    return rc;
}

/* Stores `result` as an analysis resource and returns {"analysis": id, ...result}. */
static int keep(disco_ctx *ctx, const json_t *params, an_stores *s, const char *kind,
                json_t *metrics, const char *summary, json_t *result, json_t **out,
                disco_status *st)
{
    disco_resource r;
    int rc = DISCO_OK;

    disco_resource_init(&r);
    if (disco__param_bool(params, "store", 1))
        rc = disco_analysis_store(s->cat, s->objs, kind, metrics, summary, NULL, result,
                                  disco_ctx_principal(ctx), &r, st);
    if (rc == DISCO_OK) {
        *out = json_pack("{s:s?, s:O}", "analysis", r.id[0] ? r.id : NULL, "result", result);
        json_object_set_new(*out, "summary", json_string(summary ? summary : ""));
    }
    disco_resource_release(&r);
    return rc;
}

static int analyse(disco_ctx *ctx, const json_t *params, const char *what, json_t **result,
                   disco_status *st)
{
    an_stores s;
    disco_series_set set = {0};
    json_t *items = json_array(), *metrics = json_array(), *one = NULL;
    size_t period = (size_t)disco__param_int(params, "period", 0);
    int rc = load(ctx, params, &s, &set, st);

    for (size_t i = 0; rc == DISCO_OK && i < set.count; i++) {
        rc = disco_analysis_series(&set.items[i], period, what, &one, st);
        if (rc == DISCO_OK) {
            json_array_append_new(items, one);
            if (i == 0)
                json_array_append_new(metrics, json_string(set.items[i].metric));
        }
    }
    if (rc == DISCO_OK) {
        json_t *res = json_pack("{s:s, s:O}", "kind", what, "series", items);
        const char *summary =
            json_string_value(json_object_get(json_array_get(items, 0), "summary"));
        rc = keep(ctx, params, &s, strcmp(what, "all") ? "patterns" : "analyze", metrics, summary,
                  res, result, st);
        json_decref(res);
    }
    disco_series_set_release(&set);
    json_decref(items);
    json_decref(metrics);
    return rc;
}

static int op_analyze(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    return analyse(ctx, params, "all", result, st);
}

static int op_patterns(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    return analyse(ctx, params, disco__param_str(params, "type"), result, st);
}

/* Loads every metric named in "metrics" (with the shared where/from/to). */
static int load_many(disco_ctx *ctx, const json_t *params, an_stores *s, disco_series_set *all,
                     disco_status *st)
{
    const json_t *names = disco__param_json(params, "metrics");
    int rc = DISCO_OK;

    memset(all, 0, sizeof *all);
    for (size_t i = 0; rc == DISCO_OK && i < json_array_size(names); i++) {
        json_t *p = json_deep_copy(params);
        disco_series_set one;
        json_object_set(p, "metric", json_array_get(names, i));
        rc = load(ctx, p, s, &one, st);
        json_decref(p);
        for (size_t j = 0; rc == DISCO_OK && j < one.count; j++) {
            void *grown = realloc(all->items, (all->count + 1) * sizeof *all->items);
            if (!grown) {
                rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
                break;
            }
            all->items = grown;
            all->items[all->count++] = one.items[j];
            memset(&one.items[j], 0, sizeof one.items[j]);
        }
        disco_series_set_release(&one);
    }
    return rc;
}

static int op_compare(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    an_stores s;
    disco_series_set set = {0};
    json_t *res = NULL;
    int64_t step = 0;
    int rc = step_of(params, &step, st);

    if (rc == DISCO_OK)
        rc = load_many(ctx, params, &s, &set, st);
    if (rc == DISCO_OK)
        rc = disco_analysis_compare(&set, step, &res, st);
    if (rc == DISCO_OK)
        rc = keep(ctx, params, &s, "compare", (json_t *)disco__param_json(params, "metrics"),
                  json_string_value(json_object_get(res, "summary")), res, result, st);
    json_decref(res);
    disco_series_set_release(&set);
    return rc;
}

/* ---- forecast ---------------------------------------------------------------- */

static int op_forecast(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *season = disco__param_str(params, "season");
    disco_forecast_opts o = {
        .horizon = (size_t)disco__param_int(params, "horizon", 24),
        .period = (size_t)disco__param_int(params, "period", 0),
        .season =
            strcmp(season, "multiplicative") == 0 ? DISCO_TSA_SEASON_MUL : DISCO_TSA_SEASON_ADD,
        .damped = disco__param_bool(params, "damped", 0),
        .level = json_number_value(disco__param_json(params, "level")),
    };
    an_stores s;
    disco_series_set set = {0};
    json_t *res = NULL, *metrics = json_array();
    int rc = load(ctx, params, &s, &set, st);

    if (rc == DISCO_OK && set.count > 1)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "where",
                              "%zu series match; forecast one at a time (narrow with --where)",
                              set.count);
    if (rc == DISCO_OK)
        rc = disco_analysis_forecast(&set.items[0], &o, &res, st);
    if (rc == DISCO_OK) {
        json_array_append_new(metrics, json_string(set.items[0].metric));
        rc = keep(ctx, params, &s, "forecast", metrics,
                  json_string_value(json_object_get(res, "summary")), res, result, st);
    }
    json_decref(res);
    json_decref(metrics);
    disco_series_set_release(&set);
    return rc;
}

/* ---- training runs -------------------------------------------------------------- */

static json_t *run_metrics(const disco_training_data *t)
{
    json_t *names = json_array();

    for (int i = 0; i < DISCO_TSA_METRIC_COUNT; i++)
        if (t->curves[i].count)
            json_array_append_new(names, json_string(t->curves[i].items[0].metric));
    return names;
}

static int op_training(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *run_id = disco__param_str(params, "run");
    disco_training_data t;
    disco_tsa_training_diag diag;
    disco_tsa_run run;
    an_stores s;
    json_t *res = NULL, *metrics = NULL;
    int rc = open_all(ctx, &s, st);

    memset(&t, 0, sizeof t);
    memset(&diag, 0, sizeof diag);
    if (rc == DISCO_OK)
        rc = disco_training_load(s.db, run_id, &t, st);
    if (rc == DISCO_OK) {
        disco_training_run(&t, run_id, &run);
        rc = disco_tsa_training_analyze(&run, NULL, &diag, st);
    }
    if (rc == DISCO_OK && !(res = disco_tsa_training_to_json(&diag)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (rc == DISCO_OK) {
        const char *summary = diag.n_suggestions ? diag.suggestions[0]
                              : diag.healthy     ? "healthy run: no problems found"
                                                 : "";
        json_object_set_new(res, "run", json_string(run_id));
        metrics = run_metrics(&t);
        rc = keep(ctx, params, &s, "training", metrics, summary, res, result, st);
    }
    disco_tsa_training_diag_release(&diag);
    disco_training_release(&t);
    json_decref(res);
    json_decref(metrics);
    return rc;
}

static int op_compare_runs(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const json_t *ids = disco__param_json(params, "runs");
    size_t n = json_array_size(ids);
    disco_training_data *t = calloc(n ? n : 1, sizeof *t);
    disco_tsa_run *runs = calloc(n ? n : 1, sizeof *runs);
    an_stores s;
    json_t *res = NULL, *metrics = json_array();
    int rc = t && runs ? open_all(ctx, &s, st) : DISCO_ERR_NOMEM;

    if (rc == DISCO_OK && n < 2)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "runs", "param 'runs': give two or more runs");
    for (size_t i = 0; rc == DISCO_OK && i < n; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        rc = disco_training_load(s.db, id, &t[i], st);
        if (rc == DISCO_OK)
            disco_training_run(&t[i], id, &runs[i]);
    }
    if (rc == DISCO_OK)
        rc = disco_tsa_training_compare(runs, n, NULL, &res, st);
    if (rc == DISCO_OK) {
        json_array_append_new(metrics, json_string("loss"));
        rc = keep(ctx, params, &s, "compare-runs", metrics,
                  json_string_value(json_object_get(res, "summary")), res, result, st);
    }
    for (size_t i = 0; t && i < n; i++)
        disco_training_release(&t[i]);
    free(t);
    free(runs);
    json_decref(res);
    json_decref(metrics);
    return rc;
}

/* ---- the table ---------------------------------------------------------------- */

static const char *const pattern_types[] = {"seasonal", "cyclic", "trend", "anomaly", NULL};

#define P_RANGE                                                                                    \
    {.name = "where",                                                                              \
     .type = DISCO_P_STRINGS,                                                                      \
     .short_flag = 'w',                                                                            \
     .help = "tag matchers: key=value, key!=value, key=~regex, key!~regex"},                       \
        {.name = "from", .type = DISCO_P_TIME, .help = "start (inclusive; ISO 8601 or Unix ms)"},  \
        {.name = "to", .type = DISCO_P_TIME, .help = "end (exclusive; ISO 8601 or Unix ms)"},      \
        {.name = "step",                                                                           \
         .type = DISCO_P_STRING,                                                                   \
         .short_flag = 's',                                                                        \
         .help = "average per step first, e.g. 1m, 1h (default: raw points)"},                     \
    {                                                                                              \
        .name = "store", .type = DISCO_P_BOOL, .def = "true",                                      \
        .help = "keep the result as an analysis resource"                                          \
    }

#define P_METRIC                                                                                   \
    {                                                                                              \
        .name = "metric", .type = DISCO_P_STRING,                                                  \
        .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL, .help = "metric name"              \
    }

#define P_PERIOD                                                                                   \
    {                                                                                              \
        .name = "period", .type = DISCO_P_INT, .flags = DISCO_PARAM_RANGE, .min = 2, .max = 1e7,   \
        .help = "season length in samples (default: the dominant cycle, if significant)"           \
    }

static const disco_param analyze_params[] = {P_METRIC, P_PERIOD, P_RANGE, {0}};

static const disco_param patterns_params[] = {
    P_METRIC,
    {.name = "type",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED,
     .choices = pattern_types,
     .help = "which pattern to look for"},
    P_PERIOD,
    P_RANGE,
    {0},
};

static const disco_param compare_params[] = {
    {.name = "metrics",
     .type = DISCO_P_STRINGS,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "metrics to compare (2 or more series)"},
    P_RANGE,
    {0},
};

static const char *const seasons[] = {"additive", "multiplicative", NULL};

static const disco_param forecast_params[] = {
    P_METRIC,
    {.name = "horizon",
     .type = DISCO_P_INT,
     .short_flag = 'n',
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 100000,
     .def = "24",
     .help = "steps to forecast"},
    P_PERIOD,
    {.name = "season",
     .type = DISCO_P_STRING,
     .choices = seasons,
     .def = "\"additive\"",
     .help = "how the season combines with the level"},
    {.name = "damped", .type = DISCO_P_BOOL, .help = "damp the trend"},
    {.name = "level",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0.5,
     .max = 0.999,
     .def = "0.95",
     .help = "prediction interval level"},
    P_RANGE,
    {0},
};

static const disco_param training_params[] = {
    {.name = "run",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "run id (the run=<id> tag of its metrics)"},
    {.name = "store",
     .type = DISCO_P_BOOL,
     .def = "true",
     .help = "keep the result as an analysis resource"},
    {0},
};

static const disco_param compare_runs_params[] = {
    {.name = "runs",
     .type = DISCO_P_STRINGS,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "run ids (two or more)"},
    {.name = "store",
     .type = DISCO_P_BOOL,
     .def = "true",
     .help = "keep the result as an analysis resource"},
    {0},
};

const disco_op disco__ops_analysis[] = {
    {.name = "ts.forecast",
     .summary = "forecast a metric (Holt-Winters, with intervals)",
     .help = "Example:\n  disco ts forecast cpu --where host=a --horizon 48",
     .params = forecast_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_forecast},
    {.name = "model.analyze-training",
     .summary = "diagnose a training run: plateaus, overfitting, divergence, when to stop",
     .help = "Reads the run's loss, val_loss, accuracy, learning_rate, grad_norm, tokens_per_s "
             "and memory (series tagged run=RUN; a \"step\" series gives the x axis).",
     .params = training_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_training},
    {.name = "model.compare-runs",
     .summary = "rank training runs and show where they differ",
     .params = compare_runs_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_compare_runs},
    {.name = "ts.analyze",
     .summary = "analyse a metric: cycles, season, trend, anomalies, in plain words",
     .help = "Example:\n  disco ts analyze cpu --where host=a --step 5m",
     .params = analyze_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_analyze},
    {.name = "ts.patterns",
     .summary = "look for one kind of pattern in a metric",
     .params = patterns_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_patterns},
    {.name = "ts.compare",
     .summary = "compare metrics: correlation, lag, co-movement, DTW similarity",
     .help = "Example:\n  disco ts compare loss val_loss --where run=a",
     .params = compare_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_compare},
    {0},
};
