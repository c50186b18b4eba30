/*
 * test_training.c - learning-curve analysis on synthetic runs with known
 * problems (fixed PRNG seeds): a healthy run, overfitting, a plateau ended
 * by a learning-rate drop, divergence to NaN, spikes, a throughput drop
 * and memory growth, ranking of runs, the JSON, and bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/err.h"
#include "disco/tsa_training.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- synthetic runs ---------------------------------------------------- */

typedef struct synth {
    int64_t *steps[DISCO_TSA_METRIC_COUNT];
    double *v[DISCO_TSA_METRIC_COUNT];
    disco_tsa_run run;
    uint64_t rng;
} synth;

static double urand(synth *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(synth *s)
{
    double u = urand(s), v = urand(s);

    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static void synth_init(synth *s, const char *name, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->run.name = name;
    s->rng = seed;
}

/* Allocates curve m with n points at first, first + every, ... */
static double *curve(synth *s, disco_tsa_metric m, size_t n, int64_t first, int64_t every)
{
    s->steps[m] = calloc(n, sizeof *s->steps[m]);
    s->v[m] = calloc(n, sizeof *s->v[m]);
    assert_non_null(s->steps[m]);
    assert_non_null(s->v[m]);
    for (size_t i = 0; i < n; i++)
        s->steps[m][i] = first + (int64_t)i * every;
    s->run.curve[m] = (disco_tsa_curve){s->steps[m], n, s->v[m], n};
    return s->v[m];
}

static void synth_free(synth *s)
{
    for (int m = 0; m < DISCO_TSA_METRIC_COUNT; m++) {
        free(s->steps[m]);
        free(s->v[m]);
    }
}

static double step_of(const synth *s, disco_tsa_metric m, size_t i)
{
    return (double)s->steps[m][i];
}

/* 0..10000 every 10: loss = 0.5 + 2.5 exp(-t / tau) + noise; val every 200. */
static void healthy(synth *s, const char *name, uint64_t seed, double tau)
{
    synth_init(s, name, seed);
    double *loss = curve(s, DISCO_TSA_LOSS, 1001, 0, 10);
    for (size_t i = 0; i < 1001; i++)
        loss[i] = 0.5 + 2.5 * exp(-step_of(s, DISCO_TSA_LOSS, i) / tau) + 0.01 * gauss(s);
    double *val = curve(s, DISCO_TSA_VAL_LOSS, 51, 0, 200);
    for (size_t i = 0; i < 51; i++)
        val[i] = 0.55 + 2.5 * exp(-step_of(s, DISCO_TSA_VAL_LOSS, i) / tau) + 0.005 * gauss(s);
    double *lr = curve(s, DISCO_TSA_LEARNING_RATE, 1001, 0, 10);
    double *gn = curve(s, DISCO_TSA_GRAD_NORM, 1001, 0, 10);
    double *tps = curve(s, DISCO_TSA_TOKENS_PER_S, 1001, 0, 10);
    double *mem = curve(s, DISCO_TSA_MEMORY, 101, 0, 100);
    for (size_t i = 0; i < 1001; i++) {
        lr[i] = 3e-4;
        gn[i] = 1.0 + 0.05 * gauss(s);
        tps[i] = 12000 + 150 * gauss(s);
    }
    for (size_t i = 0; i < 101; i++)
        mem[i] = 8e9 + 1e7 * gauss(s);
}

static void analyze_ok(const synth *s, disco_tsa_training_diag *d)
{
    disco_status st = {0};

    assert_int_equal(disco_tsa_training_analyze(&s->run, NULL, d, &st), DISCO_OK);
}

static int has_line(const disco_tsa_training_diag *d, const char *part)
{
    for (size_t i = 0; i < d->n_suggestions; i++) {
        if (strstr(d->suggestions[i], part) != NULL)
            return 1;
    }
    return 0;
}

static void print_lines(const disco_tsa_training_diag *d)
{
    for (size_t i = 0; i < d->n_suggestions; i++)
        print_message("  suggestion: %s\n", d->suggestions[i]);
}

/* ---- single runs ------------------------------------------------------- */

static void test_healthy(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    healthy(&s, "healthy", 1, 4000);
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_true(d.healthy);
    assert_int_equal(d.n_plateaus, 0);
    assert_int_equal(d.spikes_total, 0);
    assert_false(d.overfit.found || d.divergence.found || d.nonfinite.found);
    assert_false(d.throughput.found || d.memory.found);
    assert_true(d.best.found);
    assert_int_equal(d.best.metric, DISCO_TSA_VAL_LOSS);
    assert_true(d.best.step >= 9000);
    assert_int_equal(d.plateau_window, 500);
    assert_true(has_line(&d, "still falling"));
    assert_int_equal(d.summary[DISCO_TSA_LOSS].n, 1001);
    assert_int_equal(d.summary[DISCO_TSA_LOSS].finite, 1001);
    disco_tsa_training_diag_release(&d);
    disco_tsa_training_diag_release(NULL);
    synth_free(&s);
}

/* Without validation the best step comes from the training loss. */
static void test_best_without_val(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    healthy(&s, NULL, 2, 4000);
    s.run.curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){0};
    analyze_ok(&s, &d);
    assert_true(d.best.found);
    assert_int_equal(d.best.metric, DISCO_TSA_LOSS);
    assert_true(d.best.step >= 9500);
    assert_false(d.overfit.found);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

/* val_loss turns up at step 4000 while the training loss keeps falling. */
static void overfitting(synth *s)
{
    synth_init(s, "overfit", 7);
    double *loss = curve(s, DISCO_TSA_LOSS, 1001, 0, 10);
    for (size_t i = 0; i < 1001; i++)
        loss[i] = 0.3 + 2.0 * exp(-step_of(s, DISCO_TSA_LOSS, i) / 2500) + 0.01 * gauss(s);
    double *val = curve(s, DISCO_TSA_VAL_LOSS, 101, 0, 100);
    for (size_t i = 0; i < 101; i++) {
        double t = step_of(s, DISCO_TSA_VAL_LOSS, i);
        val[i] = 0.45 + 2.0 * exp(-t / 2500) + 4e-4 * fmax(0, t - 4000) + 0.005 * gauss(s);
    }
}

static void test_overfitting(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    overfitting(&s);
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_true(d.overfit.found);
    assert_in_range(d.overfit.start, 3600, 4400);
    assert_true(d.overfit.gap_growth > 1.0);
    assert_true(d.overfit.val_rise > 0.5);
    assert_true(d.best.found);
    assert_int_equal(d.best.metric, DISCO_TSA_VAL_LOSS);
    assert_in_range(d.best.step, 3600, 4400);
    assert_false(d.healthy);
    assert_false(d.divergence.found);
    assert_non_null(strstr(d.suggestions[0], "stop at step "));
    assert_non_null(strstr(d.suggestions[0], "(val_loss minimum "));
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

/* Linear fall to 1.5 at step 1800, flat until 3000, then lr 3e-4 -> 1e-4 and
 * the loss falls again. */
static void test_plateau_lr_drop(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    synth_init(&s, "plateau", 11);
    double *loss = curve(&s, DISCO_TSA_LOSS, 601, 0, 10);
    double *lr = curve(&s, DISCO_TSA_LEARNING_RATE, 601, 0, 10);
    for (size_t i = 0; i < 601; i++) {
        double t = step_of(&s, DISCO_TSA_LOSS, i), y = 1.5;
        if (t < 1800)
            y = 3.0 - 1.5 * t / 1800;
        else if (t > 3000)
            y = 1.5 - 0.6 * (1 - exp(-(t - 3000) / 1500));
        loss[i] = y + 0.005 * gauss(&s);
        lr[i] = t < 3000 ? 3e-4 : 1e-4;
    }
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_int_equal(d.plateau_window, 300);
    assert_int_equal(d.n_plateaus, 1);
    assert_in_range(d.plateaus[0].start, 1600, 1950);
    assert_in_range(d.plateaus[0].end, 2900, 3200);
    assert_true(d.plateaus[0].resumed);
    assert_true(fabs(d.plateaus[0].lr - 3e-4) < 1e-12);
    assert_true(fabs(d.plateaus[0].loss - 1.5) < 0.05);
    assert_true(has_line(&d, "lower the learning rate by ×3 after step "));
    assert_true(has_line(&d, "at lr 3e-4)"));
    assert_false(d.healthy);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

/* The loss explodes from step 900 and is NaN from step 1000 on. */
static void diverging(synth *s)
{
    synth_init(s, "diverge", 13);
    double *loss = curve(s, DISCO_TSA_LOSS, 121, 0, 10);
    double *gn = curve(s, DISCO_TSA_GRAD_NORM, 121, 0, 10);
    double *lr = curve(s, DISCO_TSA_LEARNING_RATE, 121, 0, 10);
    for (size_t i = 0; i < 121; i++) {
        double t = step_of(s, DISCO_TSA_LOSS, i);
        double base = 1 + 2 * exp(-fmin(t, 900) / 200);
        loss[i] = base * (t < 900 ? 1 : exp((t - 900) / 20)) + 0.01 * gauss(s);
        gn[i] = t < 900 ? 1 + 0.05 * gauss(s) : exp((t - 900) / 10);
        lr[i] = 1e-3;
        if (t >= 1000)
            loss[i] = gn[i] = NAN;
    }
}

static void test_divergence(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    diverging(&s);
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_true(d.nonfinite.found);
    assert_int_equal(d.nonfinite.metric, DISCO_TSA_LOSS);
    assert_int_equal(d.nonfinite.step, 1000);
    assert_true(isnan(d.nonfinite.value));
    assert_true(d.divergence.found);
    assert_false(d.divergence.nonfinite);
    assert_in_range(d.divergence.step, 900, 960);
    assert_true(d.divergence.ratio > 3);
    assert_true(d.divergence.grad_ratio > 10);
    assert_true(fabs(d.divergence.lr - 1e-3) < 1e-15);
    assert_true(d.best.found && d.best.step < 960);
    assert_int_equal(d.summary[DISCO_TSA_LOSS].finite, 100);
    assert_non_null(strstr(d.suggestions[0], "divergence at step "));
    assert_non_null(strstr(d.suggestions[0], "lower the learning rate or clip gradients"));
    assert_non_null(strstr(d.suggestions[0], "grad_norm spiked ×"));
    assert_true(has_line(&d, "first non-finite value: loss = nan at step 1000"));
    assert_false(d.healthy);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

/* NaN without a preceding explosion: the divergence is the NaN itself. */
static void test_sudden_nan(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    healthy(&s, "nan", 17, 4000);
    s.v[DISCO_TSA_LOSS][700] = INFINITY;
    analyze_ok(&s, &d);
    assert_true(d.nonfinite.found);
    assert_int_equal(d.nonfinite.step, 7000);
    assert_true(d.divergence.found);
    assert_true(d.divergence.nonfinite);
    assert_int_equal(d.divergence.step, 7000);
    assert_true(d.best.found);
    assert_true(has_line(&d, "divergence at step 7000 (loss became non-finite)"));
    assert_false(has_line(&d, "first non-finite value"));
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

static void test_spikes(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    healthy(&s, "spiky", 19, 4000);
    s.v[DISCO_TSA_LOSS][250] *= 2;
    s.v[DISCO_TSA_LOSS][600] *= 2;
    s.v[DISCO_TSA_GRAD_NORM][400] *= 8;
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_int_equal(d.spikes_total, 3);
    assert_int_equal(d.n_spikes, 3);
    assert_int_equal(d.spikes[0].step, 2500);
    assert_int_equal(d.spikes[0].metric, DISCO_TSA_LOSS);
    assert_int_equal(d.spikes[1].step, 4000);
    assert_int_equal(d.spikes[1].metric, DISCO_TSA_GRAD_NORM);
    assert_true(d.spikes[1].z > 6);
    assert_int_equal(d.spikes[2].step, 6000);
    assert_false(d.divergence.found);
    assert_int_equal(d.n_plateaus, 0);
    assert_true(has_line(&d, "loss spiked 2 times"));
    assert_true(has_line(&d, "grad_norm spiked 1 time (largest at step 4000"));
    assert_false(d.healthy);
    disco_tsa_training_diag_release(&d);

    disco_tsa_training_config cfg = disco_tsa_training_config_default();
    disco_status st = {0};
    cfg.max_spikes = 1;
    assert_int_equal(disco_tsa_training_analyze(&s.run, &cfg, &d, &st), DISCO_OK);
    assert_int_equal(d.spikes_total, 3);
    assert_int_equal(d.n_spikes, 1);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

/* tokens/s falls from 10000 to 6000 at step 5000; memory grows after 3000. */
static void test_throughput_and_memory(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    healthy(&s, "slow", 23, 4000);
    for (size_t i = 0; i < 1001; i++) {
        double t = step_of(&s, DISCO_TSA_TOKENS_PER_S, i);
        s.v[DISCO_TSA_TOKENS_PER_S][i] = (t < 5000 ? 10000 : 6000) + 100 * gauss(&s);
    }
    for (size_t i = 0; i < 101; i++) {
        double t = step_of(&s, DISCO_TSA_MEMORY, i);
        s.v[DISCO_TSA_MEMORY][i] = 8e9 + (t > 3000 ? 6e5 * (t - 3000) : 0);
    }
    analyze_ok(&s, &d);
    print_lines(&d);
    assert_true(d.throughput.found);
    assert_int_equal(d.throughput.step, 5000);
    assert_true(fabs(d.throughput.change - 0.4) < 0.02);
    assert_true(has_line(&d, "throughput fell 40 % after step 5000"));
    assert_true(d.memory.found);
    assert_true(d.memory.change > 0.4);
    assert_in_range(d.memory.step, 3000, 7000);
    assert_true(has_line(&d, "memory grew "));
    assert_false(d.healthy);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
}

static void test_json(void **state)
{
    synth s;
    disco_tsa_training_diag d;

    (void)state;
    diverging(&s);
    analyze_ok(&s, &d);
    json_t *j = disco_tsa_training_to_json(&d);
    assert_non_null(j);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    assert_false(json_is_true(json_object_get(j, "healthy")));
    json_t *nf = json_object_get(j, "nonfinite");
    assert_string_equal(json_string_value(json_object_get(nf, "value")), "nan");
    assert_int_equal(json_integer_value(json_object_get(nf, "step")), 1000);
    json_t *dv = json_object_get(j, "divergence");
    assert_true(json_is_integer(json_object_get(dv, "step")));
    assert_true(json_is_null(json_object_get(j, "overfitting")));
    assert_int_equal(json_array_size(json_object_get(j, "suggestions")), d.n_suggestions);
    json_t *loss = json_object_get(json_object_get(j, "curves"), "loss");
    assert_int_equal(json_integer_value(json_object_get(loss, "finite")), 100);
    assert_null(json_object_get(json_object_get(j, "curves"), "val_loss"));
    json_decref(j);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);

    overfitting(&s);
    analyze_ok(&s, &d);
    j = disco_tsa_training_to_json(&d);
    assert_non_null(j);
    json_t *best = json_object_get(j, "best");
    assert_string_equal(json_string_value(json_object_get(best, "metric")), "val_loss");
    assert_int_equal(json_integer_value(json_object_get(best, "step")), d.best.step);
    assert_true(json_is_object(json_object_get(j, "overfitting")));
    json_decref(j);
    disco_tsa_training_diag_release(&d);
    synth_free(&s);
    assert_null(disco_tsa_training_to_json(NULL));
}

/* ---- comparing runs ---------------------------------------------------- */

static json_t *compare_ok(const disco_tsa_run *runs, size_t n)
{
    disco_status st = {0};
    json_t *out = NULL;

    assert_int_equal(disco_tsa_training_compare(runs, n, NULL, &out, &st), DISCO_OK);
    assert_non_null(out);
    return out;
}

static void test_compare(void **state)
{
    synth slow, fast;
    disco_tsa_run runs[2];

    (void)state;
    healthy(&slow, "slow", 29, 4000);
    healthy(&fast, "fast", 31, 2000);
    runs[0] = slow.run;
    runs[1] = fast.run;
    json_t *j = compare_ok(runs, 2);
    print_message("  %s\n", json_string_value(json_object_get(j, "summary")));
    assert_string_equal(json_string_value(json_object_get(j, "metric")), "val_loss");
    assert_string_equal(json_string_value(json_object_get(j, "best")), "fast");
    json_t *r0 = json_array_get(json_object_get(j, "runs"), 0);
    json_t *r1 = json_array_get(json_object_get(j, "runs"), 1);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "fast");
    assert_int_equal(json_integer_value(json_object_get(r0, "rank")), 1);
    assert_string_equal(json_string_value(json_object_get(r1, "name")), "slow");
    assert_true(json_real_value(json_object_get(r0, "score")) <
                json_real_value(json_object_get(r1, "score")));
    json_int_t fast_lvl = json_integer_value(json_object_get(r0, "steps_to_level"));
    json_int_t slow_lvl = json_integer_value(json_object_get(r1, "steps_to_level"));
    assert_true(fast_lvl < slow_lvl);
    assert_true(json_is_null(json_object_get(r0, "separates_at")));
    json_int_t sep = json_integer_value(json_object_get(r1, "separates_at"));
    assert_in_range(sep, 10, 2000);
    assert_true(json_real_value(json_object_get(j, "level")) > 0.5);
    json_decref(j);

    /* Without validation both rank by the final loss. */
    runs[0].curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){0};
    j = compare_ok(runs, 2);
    assert_string_equal(json_string_value(json_object_get(j, "metric")), "loss");
    assert_string_equal(json_string_value(json_object_get(j, "best")), "fast");
    json_decref(j);
    synth_free(&slow);
    synth_free(&fast);
}

/* A run whose loss turns NaN ranks last on the final loss. */
static void test_compare_diverged_last(void **state)
{
    synth ok, bad;
    disco_tsa_run runs[2];

    (void)state;
    healthy(&ok, NULL, 37, 4000);
    diverging(&bad);
    runs[0] = bad.run;
    runs[1] = ok.run;
    runs[1].curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){0};
    json_t *j = compare_ok(runs, 2);
    json_t *r0 = json_array_get(json_object_get(j, "runs"), 0);
    json_t *r1 = json_array_get(json_object_get(j, "runs"), 1);
    assert_string_equal(json_string_value(json_object_get(r0, "name")), "run 1");
    assert_string_equal(json_string_value(json_object_get(r1, "name")), "diverge");
    assert_true(json_is_null(json_object_get(r1, "score")));
    json_decref(j);
    j = compare_ok(runs + 1, 1);
    assert_int_equal(json_array_size(json_object_get(j, "runs")), 1);
    json_decref(j);
    synth_free(&ok);
    synth_free(&bad);
}

/* ---- bad input --------------------------------------------------------- */

static void expect_inval(const disco_tsa_run *run, const disco_tsa_training_config *cfg,
                         const char *field, const char *part)
{
    disco_status st = {0};
    disco_tsa_training_diag d;

    assert_int_equal(disco_tsa_training_analyze(run, cfg, &d, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, field);
    if (strstr(st.msg, part) == NULL)
        fail_msg("message '%s' lacks '%s'", st.msg, part);
}

static void test_bad_input(void **state)
{
    int64_t steps[4] = {0, 10, 20, 30}, unsorted[4] = {0, 20, 10, 30};
    double vals[4] = {3, 2, 1.5, 1.2};
    disco_tsa_run run = {0};
    disco_tsa_training_config cfg = disco_tsa_training_config_default();

    (void)state;
    expect_inval(&run, NULL, "loss", "no loss curve");
    expect_inval(NULL, NULL, "run", "NULL");
    run.curve[DISCO_TSA_LOSS] = (disco_tsa_curve){steps, 4, vals, 3};
    expect_inval(&run, NULL, "loss", "4 steps but 3 values");
    run.curve[DISCO_TSA_LOSS] = (disco_tsa_curve){unsorted, 4, vals, 4};
    expect_inval(&run, NULL, "loss", "step 10 at index 2 does not follow step 20");
    run.curve[DISCO_TSA_LOSS] = (disco_tsa_curve){steps, 4, vals, 4};
    run.curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){steps, 0, vals, 2};
    expect_inval(&run, NULL, "val_loss", "0 steps but 2 values");
    run.curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){NULL, 2, vals, 2};
    expect_inval(&run, NULL, "val_loss", "steps array is NULL");
    run.curve[DISCO_TSA_VAL_LOSS] = (disco_tsa_curve){0};
    cfg.ema_alpha = 0;
    expect_inval(&run, &cfg, "ema_alpha", "ema_alpha = 0 out of range");
    cfg = disco_tsa_training_config_default();
    cfg.spike_window = 30;
    expect_inval(&run, &cfg, "spike_window", "odd 5..255");

    /* A tiny valid run analyses without findings. */
    disco_tsa_training_diag d;
    disco_status st = {0};
    assert_int_equal(disco_tsa_training_analyze(&run, NULL, &d, &st), DISCO_OK);
    assert_true(d.best.found);
    disco_tsa_training_diag_release(&d);
    assert_int_equal(disco_tsa_training_analyze(&run, NULL, NULL, &st), DISCO_ERR_INVAL);
}

static void test_compare_bad_input(void **state)
{
    int64_t steps[3] = {0, 10, 5};
    double vals[3] = {3, 2, 1};
    disco_tsa_run runs[2] = {{.name = "good"}, {.name = "broken"}};
    disco_status st = {0};
    json_t *out = NULL;

    (void)state;
    runs[0].curve[DISCO_TSA_LOSS] = (disco_tsa_curve){steps, 2, vals, 2};
    runs[1].curve[DISCO_TSA_LOSS] = (disco_tsa_curve){steps, 3, vals, 3};
    assert_int_equal(disco_tsa_training_compare(runs, 0, NULL, &out, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "runs");
    assert_int_equal(disco_tsa_training_compare(NULL, 2, NULL, &out, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tsa_training_compare(runs, 2, NULL, &out, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "loss");
    assert_non_null(strstr(st.msg, "run 'broken': curve 'loss'"));
    assert_null(out);
    assert_int_equal(disco_tsa_training_compare(runs, 1, NULL, NULL, &st), DISCO_ERR_INVAL);
}

static void test_metric_names(void **state)
{
    (void)state;
    assert_string_equal(disco_tsa_metric_name(DISCO_TSA_LOSS), "loss");
    assert_string_equal(disco_tsa_metric_name(DISCO_TSA_TOKENS_PER_S), "tokens_per_s");
    assert_string_equal(disco_tsa_metric_name(DISCO_TSA_METRIC_COUNT), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy),
        cmocka_unit_test(test_best_without_val),
        cmocka_unit_test(test_overfitting),
        cmocka_unit_test(test_plateau_lr_drop),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_sudden_nan),
        cmocka_unit_test(test_spikes),
        cmocka_unit_test(test_throughput_and_memory),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_diverged_last),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_compare_bad_input),
        cmocka_unit_test(test_metric_names),
    };
    return cmocka_run_group_tests_name("tsa/training", tests, NULL, NULL);
}
