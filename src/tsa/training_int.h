/*
 * training_int.h - internals shared by the training-curve analysis files:
 * validated, smoothed curves and the detectors that read them.
 *
 *   training.c          settings, validation, smoothing, analyse, release
 *   training_detect.c   best step, overfitting, divergence, plateaus,
 *                       spikes, throughput and memory shifts
 *   training_report.c   suggestions and the JSON of a diagnosis
 *   training_compare.c  ranking several runs
 */
#ifndef DISCO_TSA_TRAINING_INT_H
#define DISCO_TSA_TRAINING_INT_H

#include "disco/tsa_training.h"

#include <stddef.h>
#include <stdint.h>

/* Largest median or MAD window, in points (bounds the stack scratch). */
#define DISCO__TRAIN_MAX_WINDOW 255

/* One curve cut at its first non-finite value, with its smoothed values. */
typedef struct disco__train_series {
    const int64_t *step;
    const double *x;
    size_t n;  /* finite points */
    double *s; /* n smoothed values, owned; NULL when n == 0 */
} disco__train_series;

/* What the detectors share while one run is analysed. */
typedef struct disco__train_ctx {
    const disco_tsa_run *run;
    const disco_tsa_training_config *cfg;
    disco__train_series loss;
    disco__train_series val; /* n == 0 without val_loss */
    size_t limit;            /* loss points before the divergence */
    int64_t window;          /* plateau window N, steps */
} disco__train_ctx;

int disco__tsa_train_check_config(const disco_tsa_training_config *cfg, disco_status *st);

/* `label` names the run in messages ("" for a single run). */
int disco__tsa_train_check_run(const disco_tsa_run *run, const char *label, disco_status *st);

int disco__tsa_train_has(const disco_tsa_run *run, disco_tsa_metric m);

/* Value of a step-function curve (the lr) at `at`: the last point at or
 * before it, else the first; NaN when the run lacks the curve. */
double disco__tsa_train_at(const disco_tsa_run *run, disco_tsa_metric m, int64_t at);

/* Median of x[0..n) (reorders x); NaN when n == 0. */
double disco__tsa_train_median(double *x, size_t n);

/* Value at `at` by linear interpolation, clamped to the ends; NaN if n == 0. */
double disco__tsa_train_interp(const int64_t *step, const double *v, size_t n, int64_t at);

/* Cuts and smooths a curve; DISCO_ERR_NOMEM or DISCO_OK. */
int disco__tsa_train_series_init(disco__train_series *ser, const disco_tsa_curve *c,
                                 const disco_tsa_training_config *cfg, double alpha);
void disco__tsa_train_series_release(disco__train_series *ser);

/* Keeps the first n points and smooths them again, so that what follows
 * (an exploding loss) does not bend the smoothed values before it. */
void disco__tsa_train_series_cut(disco__train_series *ser, size_t n,
                                 const disco_tsa_training_config *cfg, double alpha);

/* Index of the first point where the median-filtered loss exceeds
 * diverge_factor x its running minimum (and that ratio), or l->n. */
size_t disco__tsa_train_explosion(const disco__train_series *l,
                                  const disco_tsa_training_config *cfg, double *ratio);

/* Detectors: each fills its part of `d`; the int ones return DISCO_OK or NOMEM. */
void disco__tsa_train_best(disco__train_ctx *cx, disco_tsa_training_diag *d);
void disco__tsa_train_overfit(disco__train_ctx *cx, disco_tsa_training_diag *d);
int disco__tsa_train_divergence(disco__train_ctx *cx, disco_tsa_training_diag *d);
int disco__tsa_train_plateaus(disco__train_ctx *cx, disco_tsa_training_diag *d);
int disco__tsa_train_spikes(disco__train_ctx *cx, disco_tsa_training_diag *d);
int disco__tsa_train_shifts(disco__train_ctx *cx, disco_tsa_training_diag *d);

/* Appends the suggestions for everything found in `d`. */
int disco__tsa_train_suggest(const disco__train_ctx *cx, disco_tsa_training_diag *d);

/* Compact number text: "0.0003" -> "3e-4", "1.834" -> "1.83". */
void disco__tsa_train_fmt(char *buf, size_t len, double v);

#endif
