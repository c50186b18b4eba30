/*
 * ops_ts.c - ts create|write|query|list|delete|export|stats: the
 * time-series store through the operation table.
 */
#include "ops_int.h"

#include "disco/metrics.h"
#include "disco/tsformat.h"
#include "disco/tsquery.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WRITE_MAX_BYTES ((size_t)1 << 30)

static int open_ts(disco_ctx *ctx, disco_catalog **cat, disco_tsdb **db, disco_status *st)
{
    int rc = cat ? disco_ctx_catalog(ctx, cat, st) : DISCO_OK;
    return rc == DISCO_OK ? disco_ctx_tsdb(ctx, db, st) : rc;
}

int disco__ts_selector(const json_t *params, sel_params *sp, disco_status *st)
{
    const json_t *where = disco__param_json(params, "where");
    size_t n = 0;
    int rc = DISCO_OK;

    memset(sp, 0, sizeof *sp);
    sp->sel.metric = disco__param_str(params, "metric");
    sp->sel.from = disco__param_int(params, "from", INT64_MIN);
    sp->sel.to = disco__param_int(params, "to", INT64_MAX);
    if (where)
        rc = disco_ts_matchers_parse(where, sp->m, MATCHERS_MAX, &n, st);
    if (rc != DISCO_OK && st)
        snprintf(st->field, sizeof st->field, "where");
    sp->sel.matchers = sp->m;
    sp->sel.n_matchers = n;
    if (rc == DISCO_OK && sp->sel.from >= sp->sel.to)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "to",
                              "param 'to': must be after 'from' (the range is [from, to))");
    return rc;
}

/* ---- create ----------------------------------------------------------------- */

static int op_create(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_tsdb *db;
    disco_resource r;
    disco_metric_spec spec = {
        .name = disco__param_str(params, "name"),
        .description = disco__param_str(params, "description"),
        .unit = disco__param_str(params, "unit"),
        .precision = disco__param_str(params, "precision"),
        .aggregation_rules = disco__param_json(params, "aggregation_rules"),
        .tags = disco__param_json(params, "tags"),
        .owner = disco_ctx_principal(ctx),
    };
    int rc = open_ts(ctx, &cat, &db, st);

    disco_resource_init(&r);
    if (rc == DISCO_OK)
        rc = disco_metric_create(cat, db, &spec, &r, st);
    if (rc == DISCO_OK)
        rc = disco__resource_result(&r, result, st);
    disco_resource_release(&r);
    return rc;
}

/* ---- write ------------------------------------------------------------------ */

static const char *format_from_path(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (dot && strcmp(dot, ".csv") == 0)
        return "csv";
    if (dot &&
        (strcmp(dot, ".lp") == 0 || strcmp(dot, ".line") == 0 || strcmp(dot, ".influx") == 0))
        return "line";
    return "json";
}

static int64_t unit_ns(const char *precision)
{
    static const struct {
        const char *name;
        int64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};

    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(precision, units[i].name) == 0)
            return units[i].ns;
    return 1;
}

static int parse_input(const json_t *params, const char *text, size_t len, disco_ts_batch *b,
                       disco_status *st)
{
    const char *file = disco__param_str(params, "file");
    const char *fname = disco__param_str(params, "format");
    disco_ts_format f;
    disco_tsformat_opts o = {
        .metric = disco__param_str(params, "metric"),
        .tags = disco__param_json(params, "tags"),
        .line_unit_ns = unit_ns(disco__param_str(params, "precision")),
        .now_ms = disco_time_now_ms(),
    };
    int rc = disco_tsformat_parse_name(fname ? fname : format_from_path(file), &f, st);

    if (rc == DISCO_OK)
        rc = disco_tsformat_parse(f, text, len, &o, b, st);
    return rc;
}

static int op_write(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_catalog *cat;
    disco_tsdb *db;
    disco_ts_batch b;
    char *text = NULL;
    size_t len = 0;
    int rc = disco_ts_batch_init(&b);

    if (rc != DISCO_OK)
        return disco_status_set(st, rc, NULL, "out of memory");
    rc = disco__read_input(ctx, "file", disco__param_str(params, "file"), WRITE_MAX_BYTES, &text,
                           &len, st);
    if (rc == DISCO_OK)
        rc = parse_input(params, text, len, &b, st);
    free(text);
    if (rc == DISCO_OK)
        rc = open_ts(ctx, &cat, &db, st);
    if (rc == DISCO_OK)
        rc = disco_metric_write(cat, db, &b, disco_ctx_principal(ctx), result, st);
    disco_ts_batch_release(&b);
    return rc;
}

/* ---- query ------------------------------------------------------------------ */

/* Copies a JSON list of strings into a NULL-free C array (borrowed strings). */
static size_t string_list(const json_t *list, const char **out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < json_array_size(list) && n < cap; i++)
        out[n++] = json_string_value(json_array_get(list, i));
    return n;
}

static int aggs_from(const json_t *list, unsigned *aggs, disco_status *st)
{
    *aggs = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        unsigned bit;
        int rc = disco_ts_agg_parse(json_string_value(json_array_get(list, i)), &bit, st);
        if (rc != DISCO_OK) {
            if (st)
                snprintf(st->field, sizeof st->field, "agg");
            return rc;
        }
        *aggs |= bit;
    }
    return DISCO_OK;
}

static int query_from(const json_t *params, sel_params *sp, disco_ts_query *q, const char **group,
                      disco_status *st)
{
    const char *step = disco__param_str(params, "step");
    int rc = disco__ts_selector(params, sp, st);

    memset(q, 0, sizeof *q);
    q->sel = sp->sel;
    q->max_points = (size_t)disco__param_int(params, "limit", 0);
    if (rc == DISCO_OK && step)
        rc = disco_ts_step_parse(step, &q->step_ms, st);
    if (rc == DISCO_OK)
        rc = aggs_from(disco__param_json(params, "agg"), &q->aggs, st);
    if (rc == DISCO_OK && q->aggs && !q->step_ms)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "agg",
                              "param 'agg': aggregations need a --step (e.g. --step 1m)");
    q->group_by = group;
    q->n_group_by = string_list(disco__param_json(params, "group_by"), group, MATCHERS_MAX);
    if (rc == DISCO_OK && q->n_group_by && !q->step_ms)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "group_by",
                              "param 'group_by': grouping needs a --step (e.g. --step 1m)");
    return rc;
}

static int op_query(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_tsdb *db;
    sel_params sp;
    disco_ts_query q;
    const char *group[MATCHERS_MAX];
    int rc = query_from(params, &sp, &q, group, st);

    if (rc == DISCO_OK)
        rc = open_ts(ctx, NULL, &db, st);
    if (rc == DISCO_OK)
        rc = disco_tsdb_query(db, &q, result, st);
    return rc;
}

/* ---- list, delete, stats ----------------------------------------------------- */

static int op_list(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *tag = disco__param_str(params, "tag");
    disco_tsdb *db;
    sel_params sp;
    json_t *items = NULL;
    int rc = disco__ts_selector(params, &sp, st);

    if (rc == DISCO_OK)
        rc = open_ts(ctx, NULL, &db, st);
    if (rc == DISCO_OK && tag)
        rc = disco_tsdb_tag_values(db, sp.sel.metric, tag, &items, st);
    else if (rc == DISCO_OK)
        rc = disco_tsdb_series(db, &sp.sel, &items, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:o, s:I}", tag ? "values" : "items", items, "count",
                            (json_int_t)json_array_size(items));
    return rc;
}

static int op_delete(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_tsdb *db;
    sel_params sp;
    uint64_t deleted = 0;
    int rc = disco__ts_selector(params, &sp, st);

    if (rc == DISCO_OK)
        rc = open_ts(ctx, NULL, &db, st);
    if (rc == DISCO_OK)
        rc = disco_tsdb_delete(db, &sp.sel, &deleted, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:I}", "deleted", (json_int_t)deleted);
    return rc;
}

static int op_stats(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_tsdb *db;
    int rc = open_ts(ctx, NULL, &db, st);

    (void)params;
    if (rc == DISCO_OK)
        rc = disco_tsdb_stats(db, result, st);
    return rc;
}

/* ---- export ----------------------------------------------------------------- */

typedef struct export_job {
    disco_tscsv_writer w;
    uint64_t rows;
} export_job;

static int export_series(void *user, const disco_ts_series_info *s, const int64_t *ts,
                         const double *v, size_t n)
{
    export_job *job = user;

    job->rows += n;
    return disco_tscsv_rows(&job->w, s->metric, s->tags, ts, v, n);
}

/* The union of the selected series' tag keys, sorted, for the CSV header. */
static json_t *tag_keys(const json_t *series)
{
    json_t *set = json_object(), *keys = json_array(), *s, *v;
    const char *k;
    size_t i;

    json_array_foreach (series, i, s) {
        json_object_foreach (json_object_get(s, "tags"), k, v)
            json_object_set(set, k, json_true());
    }
    json_object_foreach (set, k, v)
        json_array_append_new(keys, json_string(k));
    json_decref(set);
    return keys;
}

static int export_to(disco_tsdb *db, const disco_ts_selector *sel, FILE *out, int iso,
                     uint64_t *rows, disco_status *st)
{
    export_job job = {0};
    json_t *series = NULL, *keys;
    int rc = disco_tsdb_series(db, sel, &series, st);

    if (rc != DISCO_OK)
        return rc;
    keys = tag_keys(series);
    rc = disco_tscsv_begin(&job.w, out, keys, iso);
    if (rc != DISCO_OK)
        rc = disco_status_set(st, rc, "output", "cannot export: a tag key clashes with a column");
    if (rc == DISCO_OK)
        rc = disco_tsdb_read(db, sel, export_series, &job, st);
    if (rc != DISCO_OK && st && !st->msg[0])
        disco_status_set(st, rc, "output", "writing the CSV failed");
    disco_tscsv_end(&job.w);
    if (rc == DISCO_OK && (fflush(out) != 0 || ferror(out)))
        rc = disco_status_set(st, DISCO_ERR_IO, "output", "writing the CSV failed");
    *rows = job.rows;
    json_decref(keys);
    json_decref(series);
    return rc;
}

/* Writes to `path` through a temporary file renamed into place. */
static int export_file(disco_tsdb *db, const disco_ts_selector *sel, const char *path, int iso,
                       uint64_t *rows, disco_status *st)
{
    char tmp[4096];
    FILE *f;
    int rc;

    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        return disco_status_errno(st, errno, "output", "param 'output': cannot create %s", tmp);
    rc = export_to(db, sel, f, iso, rows, st);
    if (fclose(f) != 0 && rc == DISCO_OK)
        rc = disco_status_errno(st, errno, "output", "param 'output': writing %s", path);
    if (rc == DISCO_OK && rename(tmp, path) != 0)
        rc = disco_status_errno(st, errno, "output", "param 'output': cannot rename to %s", path);
    if (rc != DISCO_OK)
        unlink(tmp);
    return rc;
}

static int export_stream(disco_ctx *ctx, disco_tsdb *db, const disco_ts_selector *sel, int iso,
                         uint64_t *rows, disco_status *st)
{
    int fd = disco_ctx_out_fd(ctx) >= 0 ? dup(disco_ctx_out_fd(ctx)) : -1;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc;

    if (!f) {
        if (fd >= 0)
            close(fd);
        return disco_status_set(st, DISCO_ERR_INVAL, "output",
                                "param 'output': \"-\" (standard output) is not available here");
    }
    rc = export_to(db, sel, f, iso, rows, st);
    fclose(f);
    return rc;
}

static int op_export(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    const char *output = disco__param_str(params, "output");
    int iso = strcmp(disco__param_str(params, "time"), "iso") == 0;
    disco_tsdb *db;
    sel_params sp;
    uint64_t rows = 0;
    int rc = disco__ts_selector(params, &sp, st);

    if (rc == DISCO_OK)
        rc = open_ts(ctx, NULL, &db, st);
    if (rc == DISCO_OK && strcmp(output, "-") == 0)
        rc = export_stream(ctx, db, &sp.sel, iso, &rows, st);
    else if (rc == DISCO_OK)
        rc = export_file(db, &sp.sel, output, iso, &rows, st);
    if (rc == DISCO_OK)
        *result = json_pack("{s:I, s:s}", "rows", (json_int_t)rows, "output", output);
    return rc;
}

/* ---- the table ---------------------------------------------------------------- */

static const char *const formats[] = {"json", "csv", "line", NULL};
static const char *const units[] = {"ns", "us", "ms", "s", NULL};
static const char *const time_forms[] = {"iso", "ms", NULL};

#define P_SELECT(metric_flags)                                                                     \
    {.name = "metric",                                                                             \
     .type = DISCO_P_STRING,                                                                       \
     .flags = (metric_flags) | DISCO_PARAM_POSITIONAL,                                             \
     .help = "metric name"},                                                                       \
        {.name = "where",                                                                          \
         .type = DISCO_P_STRINGS,                                                                  \
         .short_flag = 'w',                                                                        \
         .help = "tag matchers: key=value, key!=value, key=~regex, key!~regex"},                   \
        {.name = "from", .type = DISCO_P_TIME, .help = "start (inclusive; ISO 8601 or Unix ms)"},  \
    {                                                                                              \
        .name = "to", .type = DISCO_P_TIME, .help = "end (exclusive; ISO 8601 or Unix ms)"         \
    }

static const disco_param create_params[] = {
    {.name = "name",
     .type = DISCO_P_STRING,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "metric name ([A-Za-z_:][A-Za-z0-9_:.-]*)"},
    {.name = "description", .type = DISCO_P_STRING, .short_flag = 'd', .help = "what it measures"},
    {.name = "unit", .type = DISCO_P_STRING, .short_flag = 'u', .help = "unit, e.g. seconds, nats"},
    {.name = "precision",
     .type = DISCO_P_STRING,
     .def = "\"float64\"",
     .help = "float64, float32 or decimal:N (N decimal places); rounds on ingest"},
    {.name = "aggregation_rules",
     .type = DISCO_P_OBJECT,
     .short_flag = 'r',
     .help = "rollups kept up to date, e.g. {\"1m\":\"avg\",\"1h\":[\"min\",\"max\"]}"},
    {.name = "tags", .type = DISCO_P_TAGS, .short_flag = 't', .help = "tags of the resource"},
    {0},
};

static const disco_param write_params[] = {
    {.name = "file",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_POSITIONAL | DISCO_PARAM_STREAM_IN,
     .def = "\"-\"",
     .help = "input file (\"-\": standard input)",
     .media = "text/csv text/plain application/octet-stream"},
    {.name = "format",
     .type = DISCO_P_STRING,
     .choices = formats,
     .help = "input format (default: from the file name, else json)"},
    {.name = "metric",
     .type = DISCO_P_STRING,
     .short_flag = 'm',
     .help = "metric for CSV input without a metric column"},
    {.name = "tags", .type = DISCO_P_TAGS, .short_flag = 't', .help = "tags added to every series"},
    {.name = "precision",
     .type = DISCO_P_STRING,
     .choices = units,
     .def = "\"ns\"",
     .help = "line protocol timestamp unit"},
    {0},
};

static const disco_param query_params[] = {
    P_SELECT(DISCO_PARAM_REQUIRED),
    {.name = "step",
     .type = DISCO_P_STRING,
     .short_flag = 's',
     .help = "bucket width, e.g. 1m, 1h (default: raw points)"},
    {.name = "agg",
     .type = DISCO_P_STRINGS,
     .short_flag = 'a',
     .help = "avg, min, max, sum, count, first, last, stddev, p50, p90, p99 (default avg)"},
    {.name = "group_by",
     .type = DISCO_P_STRINGS,
     .short_flag = 'g',
     .help = "tag keys: aggregate series that agree on them together"},
    {.name = "limit",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 1e9,
     .help = "refuse results with more points than this (default 10000000)"},
    {0},
};

static const disco_param list_params[] = {
    P_SELECT(0),
    {.name = "tag", .type = DISCO_P_STRING, .help = "list the values of this tag key instead"},
    {0},
};

static const disco_param delete_params[] = {P_SELECT(DISCO_PARAM_REQUIRED), {0}};

static const disco_param export_params[] = {
    P_SELECT(0),
    {.name = "output",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_STREAM_OUT,
     .short_flag = 'o',
     .def = "\"-\"",
     .help = "CSV file to write (\"-\": standard output)",
     .media = "text/csv"},
    {.name = "time",
     .type = DISCO_P_STRING,
     .choices = time_forms,
     .def = "\"iso\"",
     .help = "timestamps as ISO 8601 or Unix milliseconds"},
    {0},
};

static const disco_param no_params[] = {{0}};

const disco_op disco__ops_ts[] = {
    {.name = "ts.create",
     .summary = "create a metric: unit, precision and rollup rules",
     .help = "Example:\n  disco ts create loss --unit nats --precision float32 "
             "--aggregation-rules '{\"1m\":\"avg\"}'",
     .params = create_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_create},
    {.name = "ts.write",
     .summary = "write points from JSON, CSV or InfluxDB line protocol",
     .help = "A batch is stored whole or not at all; a malformed line names its line and "
             "column.\nExample:\n  telegraf ... | disco ts write --format line",
     .params = write_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_write},
    {.name = "ts.query",
     .summary = "read points: raw, or aggregated by step and tags",
     .help = "Example:\n  disco ts query loss --where run=a --step 1m --agg avg,p90",
     .params = query_params,
     .fn = op_query},
    {.name = "ts.list",
     .summary = "list series (or the values of a tag)",
     .params = list_params,
     .columns = "metric,tags,points,first,last",
     .fn = op_list},
    {.name = "ts.delete",
     .summary = "delete points of a metric in a time range",
     .params = delete_params,
     .flags = DISCO_OP_WRITES,
     .fn = op_delete},
    {.name = "ts.export",
     .summary = "export points as CSV",
     .params = export_params,
     .flags = DISCO_OP_LONG,
     .fn = op_export},
    {.name = "ts.stats",
     .summary = "series, points and bytes per point of the store",
     .params = no_params,
     .fn = op_stats},
    {0},
};
