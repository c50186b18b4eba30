/*
 * training.c - a training run's curves read from the tsdb, for the
 * learning-curve diagnosis in tsa/training.
 *
 * A run is the series tagged run=<id> of the metrics loss, val_loss,
 * accuracy, val_accuracy, learning_rate, grad_norm, tokens_per_s and memory.
 * The x axis is the training step: when the run also has a "step" series,
 * each point takes the step written at the same time (points with no step
 * at their time are left out); otherwise milliseconds since the run's first
 * point stand in for steps.
 */
#include "disco/analysis.h"

#include "disco/tsa_training.h"

#include <stdlib.h>
#include <string.h>

static int read_curve(disco_tsdb *db, const char *metric, const char *run, disco_series_set *out,
                      disco_status *st)
{
    disco_ts_matcher m = {.key = "run", .op = DISCO_TS_EQ, .value = run};
    disco_ts_selector sel = {
        .metric = metric, .matchers = &m, .n_matchers = 1, .from = INT64_MIN, .to = INT64_MAX};
    int rc = disco_analysis_load(db, &sel, 0, 1, out, st);

    if (rc == DISCO_ERR_NOTFOUND) {
        memset(out, 0, sizeof *out);
        return DISCO_OK;
    }
    if (rc == DISCO_ERR_LIMIT)
        return disco_status_set(st, rc, "run",
                                "run '%s': metric '%s' has several series with that run tag; "
                                "give them distinct run ids",
                                run, metric);
    return rc;
}

static int64_t step_at(const disco_series_data *steps, int64_t ts, int *found)
{
    size_t lo = 0, hi = steps->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (steps->ts[mid] < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < steps->n && steps->ts[lo] == ts;
    return *found ? (int64_t)steps->v[lo] : 0;
}

/* Replaces the times of `d` by steps (or by ms since t0), dropping unmatched points. */
static void to_steps(disco_series_data *d, const disco_series_data *steps, int64_t t0)
{
    size_t w = 0;

    for (size_t i = 0; i < d->n; i++) {
        int found = 1;
        int64_t x = steps ? step_at(steps, d->ts[i], &found) : d->ts[i] - t0;
        if (!found)
            continue;
        d->ts[w] = x;
        d->v[w++] = d->v[i];
    }
    d->n = w;
}

void disco_training_release(disco_training_data *t)
{
    for (int i = 0; i < DISCO_TSA_METRIC_COUNT; i++)
        disco_series_set_release(&t->curves[i]);
    disco_series_set_release(&t->steps);
}

int disco_training_load(disco_tsdb *db, const char *run, disco_training_data *out, disco_status *st)
{
    int64_t t0 = INT64_MAX;
    int rc = read_curve(db, "step", run, &out->steps, st), any = 0;

    for (int i = 0; rc == DISCO_OK && i < DISCO_TSA_METRIC_COUNT; i++) {
        rc = read_curve(db, disco_tsa_metric_name((disco_tsa_metric)i), run, &out->curves[i], st);
        if (rc == DISCO_OK && out->curves[i].count && out->curves[i].items[0].n) {
            any = 1;
            t0 = out->curves[i].items[0].ts[0] < t0 ? out->curves[i].items[0].ts[0] : t0;
        }
    }
    if (rc == DISCO_OK && !any)
        rc = disco_status_set(st, DISCO_ERR_NOTFOUND, "run",
                              "run '%s': no training metrics tagged run=%s (loss, val_loss, ...)",
                              run, run);
    const disco_series_data *steps = out->steps.count ? &out->steps.items[0] : NULL;
    for (int i = 0; rc == DISCO_OK && i < DISCO_TSA_METRIC_COUNT; i++)
        if (out->curves[i].count)
            to_steps(&out->curves[i].items[0], steps, t0);
    if (rc != DISCO_OK)
        disco_training_release(out);
    return rc;
}

void disco_training_run(const disco_training_data *t, const char *name, disco_tsa_run *run)
{
    memset(run, 0, sizeof *run);
    run->name = name;
    for (int i = 0; i < DISCO_TSA_METRIC_COUNT; i++) {
        if (!t->curves[i].count)
            continue;
        const disco_series_data *d = &t->curves[i].items[0];
        run->curve[i] = (disco_tsa_curve){d->ts, d->n, d->v, d->n};
    }
}
