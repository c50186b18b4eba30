/*
 * tsa_training.h - learning-curve analysis of model training runs:
 * plateaus, overfitting and the best stopping step, divergence and
 * non-finite values, loss and grad-norm spikes, throughput drops and memory
 * growth, the learning rate at each event, suggestions as text, and a
 * ranking of several runs.
 *
 * Pure computation on arrays: no storage, no I/O, no global state; every
 * function is reentrant and may run on any thread.
 *
 * DESIGN
 *   A run is up to eight curves, each (step, value) pairs with steps
 *   strictly increasing. Curves need not share steps (validation is usually
 *   sparser than training): one curve's value at another's step is linearly
 *   interpolated, clamped at the ends. Non-finite values are allowed: they
 *   are what divergence looks like. Each curve is analysed up to its first
 *   non-finite value.
 *
 *   Smoothing is a centred running median of `median_window` points (which
 *   removes isolated spikes) followed by an EMA run forwards and then
 *   backwards, so that a minimum is not pushed later as a one-sided EMA
 *   would push it:
 *
 *       m_i = median(x_{i-h} .. x_{i+h})            h = median_window / 2
 *       f_0 = m_0,      f_i = a m_i + (1 - a) f_{i-1}
 *       s_last = f_last, s_i = a f_i + (1 - a) s_{i+1}
 *
 *   with a = ema_alpha (per point, not per step) for loss, accuracy and
 *   resource curves and a = val_ema_alpha for the sparser validation curves.
 *   A one-sided EMA with weight a has a lag of about (1 - a) / a points.
 *
 *   Plateau: at each point i of the smoothed loss s, the relative
 *   improvement over the next N steps is r_i = (s_i - s(step_i + N)) / |s_i|
 *   (scaled from the remaining span near the end of the run). A plateau
 *   starts where r_i < plateau_rel and ends where r_i >= 2 plateau_rel
 *   (hysteresis against noise); it covers step_first .. step_last + N and is
 *   reported when at least plateau_min_span steps long.
 *
 *   Spike: robust z = (x_i - median) / (1.4826 MAD) over a centred window of
 *   spike_window points; upward outliers only. The first half window is not
 *   tested (a run's opening fall is not a spike), nor the N steps before a
 *   divergence (its rise is part of it).
 */
#ifndef DISCO_TSA_TRAINING_H
#define DISCO_TSA_TRAINING_H

#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The curves a run may have; the index into disco_tsa_run.curve. */
typedef enum disco_tsa_metric {
    DISCO_TSA_LOSS = 0,
    DISCO_TSA_VAL_LOSS,
    DISCO_TSA_ACCURACY,
    DISCO_TSA_VAL_ACCURACY,
    DISCO_TSA_LEARNING_RATE,
    DISCO_TSA_GRAD_NORM,
    DISCO_TSA_TOKENS_PER_S,
    DISCO_TSA_MEMORY,
    DISCO_TSA_METRIC_COUNT
} disco_tsa_metric;

/* "loss", "val_loss", "accuracy", "val_accuracy", "learning_rate", "grad_norm",
 * "tokens_per_s", "memory"; "unknown" for other values. */
const char *disco_tsa_metric_name(disco_tsa_metric m);

/*
 * One curve, borrowed from the caller. Absent when both lengths are 0; when
 * present the lengths must be equal and non-zero, the pointers non-NULL and
 * the steps strictly increasing.
 */
typedef struct disco_tsa_curve {
    const int64_t *steps;
    size_t n_steps;
    const double *values;
    size_t n_values;
} disco_tsa_curve;

/* A run: a name (may be NULL) and its curves; the loss curve is required. */
typedef struct disco_tsa_run {
    const char *name;
    disco_tsa_curve curve[DISCO_TSA_METRIC_COUNT];
} disco_tsa_run;

/* Settings; take them from disco_tsa_training_config_default(). */
typedef struct disco_tsa_training_config {
    double ema_alpha;         /* EMA weight per point, 0 < a <= 1 (default 0.1) */
    double val_ema_alpha;     /* the same for val_loss/val_accuracy (default 0.5) */
    size_t median_window;     /* odd points of the pre-EMA median, 1 = none (default 5) */
    int64_t plateau_window;   /* N in steps; 0 = 1/20 of the loss's step span (default 0) */
    double plateau_rel;       /* plateau below this improvement per N steps (default 0.01) */
    int64_t plateau_min_span; /* shortest plateau reported in steps; 0 = 2 N (default 0) */
    double overfit_rel;       /* val_loss rise above its minimum that counts (default 0.02) */
    double diverge_factor;    /* k: loss above k x its running minimum (default 3) */
    size_t spike_window;      /* odd points of the MAD window, 5..255 (default 51) */
    double spike_z;           /* robust z above which a point is a spike (default 7) */
    size_t max_spikes;        /* spikes kept in the diagnosis (default 64) */
    double throughput_drop;   /* tokens_per_s fall reported, fraction (default 0.2) */
    double memory_growth;     /* memory rise reported, fraction (default 0.2) */
    double lr_factor;         /* factor suggested for lowering the lr (default 3) */
    double compare_tol;       /* relative gap at which two runs separate (default 0.05) */
} disco_tsa_training_config;

disco_tsa_training_config disco_tsa_training_config_default(void);

/* Finite values of one curve: count, first/last step, last value, extremes. */
typedef struct disco_tsa_curve_summary {
    int present;
    size_t n;      /* points given */
    size_t finite; /* points before the first non-finite value */
    int64_t first_step, last_step;
    double last, min, max;
    int64_t min_step, max_step;
} disco_tsa_curve_summary;

typedef struct disco_tsa_plateau {
    int64_t start, end; /* steps */
    double loss;        /* smoothed loss at start */
    double rel_change;  /* relative improvement from start to end */
    double lr, lr_end;  /* learning rate at start and end; NaN without an lr curve */
    int resumed;        /* 1 when the loss improves again before the run ends */
} disco_tsa_plateau;

typedef struct disco_tsa_spike {
    disco_tsa_metric metric; /* DISCO_TSA_LOSS or DISCO_TSA_GRAD_NORM */
    int64_t step;
    double value, median, z;
} disco_tsa_spike;

typedef struct disco_tsa_best {
    int found;
    disco_tsa_metric metric; /* val_loss when there is one, else loss */
    int64_t step;
    double value; /* smoothed */
} disco_tsa_best;

typedef struct disco_tsa_overfit {
    int found;
    int64_t start;     /* step where the smoothed val_loss turns up */
    double val_rise;   /* relative rise of val_loss above its minimum */
    double gap_start;  /* val_loss - loss (smoothed) at start */
    double gap_end;    /* the same at the last validation step */
    double gap_growth; /* gap_end - gap_start */
} disco_tsa_overfit;

typedef struct disco_tsa_divergence {
    int found;
    int64_t step;      /* loss above k x running minimum, or the first non-finite loss */
    double ratio;      /* smoothed loss / running minimum there (NaN when non-finite) */
    double lr;         /* learning rate there; NaN without an lr curve */
    double grad_ratio; /* grad_norm peak around it / median before; NaN without */
    int nonfinite;     /* 1 when it is the first non-finite value */
} disco_tsa_divergence;

typedef struct disco_tsa_nonfinite {
    int found;
    disco_tsa_metric metric; /* the curve with the earliest non-finite value */
    int64_t step;
    double value; /* NaN or +-Inf */
} disco_tsa_nonfinite;

typedef struct disco_tsa_shift {
    int found;
    int64_t step;         /* first step of the new level (throughput) or the last step */
    double before, after; /* medians before and after */
    double change;        /* relative: fall for throughput, rise for memory */
} disco_tsa_shift;

/* The diagnosis of one run; release with disco_tsa_training_diag_release(). */
typedef struct disco_tsa_training_diag {
    disco_tsa_curve_summary summary[DISCO_TSA_METRIC_COUNT];
    disco_tsa_best best;
    disco_tsa_overfit overfit;
    disco_tsa_nonfinite nonfinite;
    disco_tsa_divergence divergence;
    disco_tsa_plateau *plateaus;
    size_t n_plateaus;
    disco_tsa_spike *spikes; /* in step order, at most max_spikes */
    size_t n_spikes;
    size_t spikes_total; /* all spikes found */
    disco_tsa_shift throughput;
    disco_tsa_shift memory;
    int64_t plateau_window; /* N actually used, steps */
    int healthy;            /* 1 when none of the problems above was found */
    char **suggestions;     /* n_suggestions NUL-terminated lines */
    size_t n_suggestions;
} disco_tsa_training_diag;

/*
 * Analyses one run into *out (caller-owned; its previous contents are
 * ignored; release it with disco_tsa_training_diag_release() after success).
 * `cfg` may be NULL for the defaults. Errors: DISCO_ERR_INVAL naming the
 * input (st->field is the curve or setting): no loss curve, a curve with
 * zero points or with different step and value counts, NULL arrays, steps
 * not strictly increasing, a setting out of range; DISCO_ERR_NOMEM. On
 * error *out holds nothing to release.
 */
int disco_tsa_training_analyze(const disco_tsa_run *run, const disco_tsa_training_config *cfg,
                               disco_tsa_training_diag *out, disco_status *st);

/* Frees what a diagnosis holds and zeroes it; NULL is a no-op. */
void disco_tsa_training_diag_release(disco_tsa_training_diag *d);

/*
 * The diagnosis as a JSON object (non-finite numbers become null). Returns
 * a new reference, or NULL when out of memory.
 */
json_t *disco_tsa_training_to_json(const disco_tsa_training_diag *d);

/*
 * Compares `n` >= 1 runs and sets *out to a new JSON object:
 *   metric    "val_loss" when every run has one, else "loss"
 *   level     a loss every run reaches (the highest of the runs' minima)
 *   best      the name of the first run ("run <i>" for an unnamed one)
 *   runs      best first: name, rank, score (best smoothed val_loss or final
 *             smoothed loss; null when the loss diverged), score_step,
 *             steps_to_level, separates_at (first step where its smoothed
 *             loss differs from the best run's by more than compare_tol)
 *   summary   one line of text
 * Errors as for disco_tsa_training_analyze (the message names the run), and
 * DISCO_ERR_INVAL when n == 0 or runs is NULL; DISCO_ERR_NOMEM.
 */
int disco_tsa_training_compare(const disco_tsa_run *runs, size_t n,
                               const disco_tsa_training_config *cfg, json_t **out,
                               disco_status *st);

#endif
