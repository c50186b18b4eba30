/*
 * holtwinters_int.h - internals shared by the Holt-Winters files:
 *
 *   holtwinters.c           public fit: checks, scaling, statistics
 *   holtwinters_init.c      starting states (statsmodels' heuristic) and grid
 *   holtwinters_smooth.c    the recursion, its SSE and its gradient (adjoint)
 *   holtwinters_scale.c     Gauss-Newton diagonal, to scale the parameters
 *   holtwinters_opt.c       a bounded quasi-Newton minimiser
 *   holtwinters_forecast.c  point forecasts and prediction intervals
 *
 * Parameters live in one vector p of HW_S0 + m doubles (natural space):
 * alpha, beta, gamma, phi, l0, b0, s0[0..m). A model without trend has
 * beta = b0 = 0 and phi = 1; one without season has m = 1, s0 = 0 and
 * gamma = 0, so a single additive recursion covers it.
 */
#ifndef DISCO_HOLTWINTERS_INT_H
#define DISCO_HOLTWINTERS_INT_H

#include "disco/tsa_forecast.h"

#include <stddef.h>

enum { HW_ALPHA, HW_BETA, HW_GAMMA, HW_PHI, HW_L0, HW_B0, HW_S0 };

typedef struct disco__hw_spec {
    int trend;  /* has an additive trend */
    int damped; /* phi is estimated */
    int mul;    /* multiplicative season */
    int season; /* has a season */
    size_t m;   /* seasonal states (1 without season) */
} disco__hw_spec;

/* Scratch of one series: states before each step, seasonals, adjoints. */
typedef struct disco__hw_work {
    double *l, *b; /* n */
    double *s;     /* n + m: s[t] used at t, s[t + m] its update */
    double *sadj;  /* n + m */
} disco__hw_work;

struct disco_tsa_hw {
    disco_tsa_hw_config cfg;
    disco__hw_spec spec;
    disco_tsa_hw_result res;
    double *par;    /* HW_S0 + m natural parameters in data units */
    double *fitted; /* n */
    double *season; /* m seasonal states after the data */
    double level, trend;
};

int disco__hw_work_init(disco__hw_work *w, size_t n, size_t m);
void disco__hw_work_release(disco__hw_work *w);

/*
 * SSE of the recursion from parameters p; fills fitted[0..n) when not NULL,
 * and always w->s (so s[n..n+m) are the final seasonals). *level and
 * *trend, when not NULL, get the states after the data.
 */
double disco__hw_sse(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                     disco__hw_work *w, double *fitted, double *level, double *trend);

/* The states before every step into w->l, w->b, and w->s. */
void disco__hw_states(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                      disco__hw_work *w);

/* SSE and its gradient with respect to every entry of p (HW_S0 + m). */
double disco__hw_sse_grad(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                          disco__hw_work *w, double *grad);

/*
 * diag[i] = sum_t (d e_t / d theta_i)^2 at p, for every parameter, with
 * the alpha, beta, gamma columns mapped by tr (row j: d(alpha, beta,
 * gamma) / d u_j). Uses w for the states; NOMEM for its own scratch.
 */
int disco__hw_gn_diag(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                      const double tr[3][3], disco__hw_work *w, double *diag);

/* Starting l0, b0, s0 into p as statsmodels' "estimated" method does. */
void disco__hw_initial_states(const disco__hw_spec *sp, const double *y, size_t n, double *p);

/*
 * statsmodels' brute-force start: the (alpha, beta, gamma) grid point of
 * least SSE with the starting states, written into p. Allocation-free.
 */
void disco__hw_grid_start(const disco__hw_spec *sp, const double *y, size_t n, double *p,
                          disco__hw_work *w);

/* Objective for the minimiser: value, and gradient into g when g != NULL. */
typedef double (*disco__opt_fn)(const double *x, double *g, void *ctx);

typedef struct disco__opt_result {
    double f;
    int iterations;
    int converged;
} disco__opt_result;

/*
 * Minimises fn over the box lo <= x <= hi (lo[i] == hi[i] fixes x[i];
 * infinite bounds allowed) from x (projected into the box), by projected
 * limited-memory BFGS with an Armijo search along the projected path.
 * Returns DISCO_OK or DISCO_ERR_NOMEM.
 */
int disco__opt_minimize(disco__opt_fn fn, void *ctx, size_t dim, double *x, const double *lo,
                        const double *hi, int max_iter, disco__opt_result *out);

#endif
