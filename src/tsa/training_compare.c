/*
 * training_compare.c - ranks several training runs: by their best smoothed
 * val_loss when every run has one, else by their final smoothed loss (a
 * loss that exploded or turned non-finite ranks last, its loss cut where it
 * exploded). For each run it also gives the
 * step at which its smoothed loss first reaches a level every run reaches
 * (the highest of the runs' minima), and the first step where its smoothed
 * loss separates from the best run's by more than compare_tol (relative),
 * over the steps both runs cover.
 */
#include "training_int.h"

#include "disco/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cmp_run {
    const disco_tsa_run *run;
    const char *name;
    char label[32]; /* "run 3" for an unnamed run */
    disco__train_series loss, val;
    double score;
    int64_t score_step;
    int64_t to_level, separates;
    int reached, separated;
    int diverged; /* the loss exploded or turned non-finite */
} cmp_run;

static int check_all(const disco_tsa_run *runs, size_t n, const disco_tsa_training_config *cfg,
                     disco_status *st)
{
    char label[160];
    int rc = disco__tsa_train_check_config(cfg, st);

    if (rc < 0)
        return rc;
    if (runs == NULL || n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "runs", "no runs to compare");
    for (size_t i = 0; i < n; i++) {
        if (runs[i].name != NULL)
            snprintf(label, sizeof label, "run '%.100s': ", runs[i].name);
        else
            snprintf(label, sizeof label, "run %zu: ", i);
        rc = disco__tsa_train_check_run(&runs[i], label, st);
        if (rc < 0)
            return rc;
    }
    return DISCO_OK;
}

static int prepare(cmp_run *r, const disco_tsa_run *run, size_t i,
                   const disco_tsa_training_config *cfg)
{
    int rc;

    r->run = run;
    snprintf(r->label, sizeof r->label, "run %zu", i);
    r->name = run->name != NULL ? run->name : r->label;
    rc = disco__tsa_train_series_init(&r->loss, &run->curve[DISCO_TSA_LOSS], cfg, cfg->ema_alpha);
    if (rc < 0)
        return rc;
    double ratio;
    size_t at = disco__tsa_train_explosion(&r->loss, cfg, &ratio);
    r->diverged = at < run->curve[DISCO_TSA_LOSS].n_values;
    disco__tsa_train_series_cut(&r->loss, at, cfg, cfg->ema_alpha);
    if (disco__tsa_train_has(run, DISCO_TSA_VAL_LOSS))
        rc = disco__tsa_train_series_init(&r->val, &run->curve[DISCO_TSA_VAL_LOSS], cfg,
                                          cfg->val_ema_alpha);
    return rc;
}

static void score(cmp_run *r, int use_val)
{
    const disco__train_series *s = use_val ? &r->val : &r->loss;

    r->score = INFINITY;
    r->score_step = 0;
    if (use_val) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->s[i] < r->score) {
                r->score = s->s[i];
                r->score_step = s->step[i];
            }
        }
        return;
    }
    if (s->n > 0 && !r->diverged) {
        r->score = s->s[s->n - 1];
        r->score_step = s->step[s->n - 1];
    }
}

static int by_score(const void *a, const void *b)
{
    const cmp_run *const *x = a, *const *y = b;

    if ((*x)->score != (*y)->score)
        return (*x)->score < (*y)->score ? -1 : 1;
    return *x < *y ? -1 : *x > *y;
}

static double series_min(const disco__train_series *s)
{
    double m = INFINITY;

    for (size_t i = 0; i < s->n; i++)
        m = s->s[i] < m ? s->s[i] : m;
    return m;
}

/* The highest of the runs' minimum smoothed losses; NaN if none has one. */
static double common_level(cmp_run *r, size_t n)
{
    double level = NAN;

    for (size_t i = 0; i < n; i++) {
        if (r[i].loss.n > 0 && !(series_min(&r[i].loss) <= level))
            level = series_min(&r[i].loss);
    }
    for (size_t i = 0; i < n && isfinite(level); i++) {
        const disco__train_series *s = &r[i].loss;
        for (size_t k = 0; k < s->n && !r[i].reached; k++) {
            if (s->s[k] <= level) {
                r[i].reached = 1;
                r[i].to_level = s->step[k];
            }
        }
    }
    return level;
}

static void separation(cmp_run *r, const cmp_run *best, double tol)
{
    const disco__train_series *a = &r->loss, *b = &best->loss;

    if (a->n == 0 || b->n == 0)
        return;
    int64_t lo = a->step[0] > b->step[0] ? a->step[0] : b->step[0];
    int64_t hi = a->step[a->n - 1] < b->step[b->n - 1] ? a->step[a->n - 1] : b->step[b->n - 1];
    for (size_t i = 0; i < a->n && a->step[i] <= hi; i++) {
        if (a->step[i] < lo)
            continue;
        double ref = disco__tsa_train_interp(b->step, b->s, b->n, a->step[i]);
        if (fabs(a->s[i] - ref) > tol * fmax(fabs(a->s[i]), fabs(ref))) {
            r->separated = 1;
            r->separates = a->step[i];
            return;
        }
    }
}

static json_t *run_json(const cmp_run *r, size_t rank)
{
    return json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "name", r->name, "rank", (json_int_t)rank,
                     "score", disco_json_number(r->score, -1), "score_step",
                     isfinite(r->score) ? json_integer(r->score_step) : json_null(),
                     "steps_to_level", r->reached ? json_integer(r->to_level) : json_null(),
                     "separates_at", r->separated ? json_integer(r->separates) : json_null());
}

static json_t *summary_text(cmp_run *const *order, size_t n, const char *metric, double level)
{
    char line[512], v[32], lv[32];
    size_t len;

    disco__tsa_train_fmt(v, sizeof v, order[0]->score);
    disco__tsa_train_fmt(lv, sizeof lv, level);
    len = (size_t)snprintf(line, sizeof line, "%.60s ranks first by %s (%s at step %lld)",
                           order[0]->name, metric, v, (long long)order[0]->score_step);
    for (size_t i = 1; i < n && len < sizeof line; i++) {
        const cmp_run *r = order[i];
        disco__tsa_train_fmt(v, sizeof v, r->score);
        len += (size_t)snprintf(line + len, sizeof line - len, "; %.60s %s", r->name, v);
        if (len < sizeof line && r->separated)
            len += (size_t)snprintf(line + len, sizeof line - len, ", apart from step %lld",
                                    (long long)r->separates);
    }
    if (len < sizeof line && isfinite(level) && order[0]->reached)
        snprintf(line + len, sizeof line - len, "; loss %s reached at step %lld by %.60s", lv,
                 (long long)order[0]->to_level, order[0]->name);
    return json_string(line);
}

static json_t *build_json(cmp_run *const *order, size_t n, const char *metric, double level)
{
    json_t *runs = json_array();

    for (size_t i = 0; runs != NULL && i < n; i++) {
        if (json_array_append_new(runs, run_json(order[i], i + 1)) != 0) {
            json_decref(runs);
            runs = NULL;
        }
    }
    if (runs == NULL)
        return NULL;
    return json_pack("{s:s, s:o, s:s, s:o, s:o}", "metric", metric, "level",
                     disco_json_number(level, -1), "best", order[0]->name, "runs", runs, "summary",
                     summary_text(order, n, metric, level));
}

static int rank_runs(cmp_run *r, size_t n, const disco_tsa_training_config *cfg, json_t **out)
{
    int use_val = 1;
    cmp_run **order = malloc(n * sizeof *order);

    if (order == NULL)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        use_val = use_val && r[i].val.n > 0;
        order[i] = &r[i];
    }
    for (size_t i = 0; i < n; i++)
        score(&r[i], use_val);
    qsort(order, n, sizeof *order, by_score);
    double level = common_level(r, n);
    for (size_t i = 1; i < n; i++)
        separation(order[i], order[0], cfg->compare_tol);
    *out = build_json(order, n, use_val ? "val_loss" : "loss", level);
    free(order);
    return *out == NULL ? DISCO_ERR_NOMEM : DISCO_OK;
}

int disco_tsa_training_compare(const disco_tsa_run *runs, size_t n,
                               const disco_tsa_training_config *cfg, json_t **out, disco_status *st)
{
    disco_tsa_training_config def = disco_tsa_training_config_default();
    cmp_run *r = NULL;
    int rc;

    if (out == NULL)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "result pointer is NULL");
    *out = NULL;
    cfg = cfg != NULL ? cfg : &def;
    rc = check_all(runs, n, cfg, st);
    if (rc < 0)
        return rc;
    r = calloc(n, sizeof *r);
    if (r == NULL)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory comparing %zu runs", n);
    for (size_t i = 0; i < n && rc == DISCO_OK; i++)
        rc = prepare(&r[i], &runs[i], i, cfg);
    if (rc == DISCO_OK)
        rc = rank_runs(r, n, cfg, out);
    for (size_t i = 0; i < n; i++) {
        disco__tsa_train_series_release(&r[i].val);
        disco__tsa_train_series_release(&r[i].loss);
    }
    free(r);
    if (rc < 0)
        return disco_status_set(st, rc, NULL, "out of memory comparing %zu runs", n);
    return DISCO_OK;
}
