/*
 * holtwinters_smooth.c - the Holt-Winters recursion in error-correction form,
 * its sum of squared errors, and the exact gradient of that sum with respect
 * to every parameter by one backward (adjoint) sweep.
 *
 * One step, T = l + phi b, S = s[t]:
 *
 *   additive        e = y - T - S   l' = T + alpha e     s[t+m] = S + gamma e
 *   multiplicative  e = y - T S     l' = T + alpha e/S   s[t+m] = S + gamma e/T
 *   both            b' = phi b + beta (l' - l - phi b)
 *
 * which is the textbook smoothing form rearranged. The backward sweep walks
 * t = n-1 .. 0 carrying the adjoints of l and b and an array of seasonal
 * adjoints; it costs about twice the forward sweep.
 */
#include "holtwinters_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int disco__hw_work_init(disco__hw_work *w, size_t n, size_t m)
{
    w->l = malloc(sizeof *w->l * n);
    w->b = malloc(sizeof *w->b * n);
    w->s = malloc(sizeof *w->s * (n + m));
    w->sadj = malloc(sizeof *w->sadj * (n + m));
    if (!w->l || !w->b || !w->s || !w->sadj) {
        disco__hw_work_release(w);
        return DISCO_ERR_NOMEM;
    }
    return DISCO_OK;
}

void disco__hw_work_release(disco__hw_work *w)
{
    free(w->l);
    free(w->b);
    free(w->s);
    free(w->sadj);
    memset(w, 0, sizeof *w);
}

/*
 * Forward sweeps in smoothing form, l' = (1 - alpha) T + alpha (y - S): the
 * terms that do not depend on the level (y - S, y / S) stay off the chain
 * of dependent operations from one step to the next. Each stores the states
 * before every step when `keep`.
 */
static double forward_add(const double *y, size_t n, size_t m, const double *p, disco__hw_work *w,
                          int keep, double *fitted, double *state)
{
    const double a = p[HW_ALPHA], ab = p[HW_ALPHA] * p[HW_BETA], g = p[HW_GAMMA];
    const double phi = p[HW_PHI], cl = 1 - a, cb = (1 - a) * phi, cbb = (1 - ab) * phi;
    double l = p[HW_L0], b = p[HW_B0], sse = 0, *s = w->s;

    for (size_t t = 0; t < n; t++) {
        double S = s[t], ys = y[t] - S, e = ys - (l + phi * b);

        if (keep) {
            w->l[t] = l;
            w->b[t] = b;
        }
        if (fitted)
            fitted[t] = l + phi * b + S;
        sse += e * e;
        s[t + m] = S + g * e;
        double ln = cl * l + (cb * b + a * ys); /* (1 - a) T + a (y - S) */
        b = cbb * b + ab * (ys - l);            /* phi b + ab e */
        l = ln;
    }
    state[0] = l;
    state[1] = b;
    return sse;
}

static double forward_mul(const double *y, size_t n, size_t m, const double *p, disco__hw_work *w,
                          int keep, double *fitted, double *state)
{
    const double a = p[HW_ALPHA], ab = p[HW_ALPHA] * p[HW_BETA], g = p[HW_GAMMA];
    const double phi = p[HW_PHI];
    double l = p[HW_L0], b = p[HW_B0], sse = 0, *s = w->s;

    for (size_t t = 0; t < n; t++) {
        double S = s[t], ys = y[t] / S, T = l + phi * b, e = y[t] - T * S;

        if (keep) {
            w->l[t] = l;
            w->b[t] = b;
        }
        if (fitted)
            fitted[t] = T * S;
        sse += e * e;
        b = phi * b + ab * (ys - T);
        l = (1 - a) * T + a * ys;
        s[t + m] = (1 - g) * S + g * y[t] / T;
    }
    state[0] = l;
    state[1] = b;
    return sse;
}

static double forward(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                      disco__hw_work *w, int keep, double *fitted, double *state)
{
    double sse;

    memcpy(w->s, p + HW_S0, sizeof *w->s * sp->m);
    if (sp->mul)
        sse = forward_mul(y, n, sp->m, p, w, keep, fitted, state);
    else
        sse = forward_add(y, n, sp->m, p, w, keep, fitted, state);
    return isfinite(sse) ? sse : INFINITY;
}

double disco__hw_sse(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                     disco__hw_work *w, double *fitted, double *level, double *trend)
{
    double state[2] = {0, 0};
    double sse = forward(sp, y, n, p, w, 0, fitted, state);

    if (level)
        *level = state[0];
    if (trend)
        *trend = state[1];
    return sse;
}

void disco__hw_states(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                      disco__hw_work *w)
{
    double state[2];

    forward(sp, y, n, p, w, 1, NULL, state);
}

/* Adjoints carried backwards, and the parameter gradient they build up. */
typedef struct adj {
    double L, B;             /* of l and b after the step */
    double da, db, dg, dphi; /* of alpha, beta, gamma, phi */
} adj;

static void back_add(const double *p, double y, double l, double b, double S, double Sig, adj *j,
                     double *Sbar)
{
    const double a = p[HW_ALPHA], beta = p[HW_BETA], g = p[HW_GAMMA], phi = p[HW_PHI];
    double e = y - (l + phi * b) - S, E0 = 2 * e + g * Sig;
    double Tbar = (1 - a) * j->L - (beta * a * j->B + E0); /* L - E, E = E0 + a L + ab B */

    j->da += e * (j->L + beta * j->B);
    j->db += a * e * j->B;
    j->dg += e * Sig;
    j->dphi += b * (j->B + Tbar);
    *Sbar = Sig - j->L + Tbar;
    j->B = phi * (j->B + Tbar);
    j->L = Tbar;
}

static void back_mul(const double *p, double y, double l, double b, double S, double Sig, adj *j,
                     double *Sbar)
{
    const double a = p[HW_ALPHA], beta = p[HW_BETA], g = p[HW_GAMMA], phi = p[HW_PHI];
    double T = l + phi * b, e = y - T * S, q = e / S, r = e / T;
    double Qbar = a * (j->L + beta * j->B), Rbar = g * Sig;
    double E = 2 * e + Qbar / S + Rbar / T;
    double Tbar = j->L - E * S - Rbar * r / T;

    j->da += q * (j->L + beta * j->B);
    j->db += a * q * j->B;
    j->dg += r * Sig;
    j->dphi += b * (j->B + Tbar);
    *Sbar = Sig - E * T - Qbar * q / S;
    j->B = phi * (j->B + Tbar);
    j->L = Tbar;
}

double disco__hw_sse_grad(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                          disco__hw_work *w, double *grad)
{
    const size_t m = sp->m;
    double state[2];
    double sse = forward(sp, y, n, p, w, 1, NULL, state);
    adj j = {0, 0, 0, 0, 0, 0};

    memset(w->sadj, 0, sizeof *w->sadj * (n + m));
    if (!isfinite(sse)) {
        memset(grad, 0, sizeof *grad * (HW_S0 + m));
        return sse;
    }
    for (size_t t = n; t-- > 0;) {
        double Sbar;

        if (sp->mul)
            back_mul(p, y[t], w->l[t], w->b[t], w->s[t], w->sadj[t + m], &j, &Sbar);
        else
            back_add(p, y[t], w->l[t], w->b[t], w->s[t], w->sadj[t + m], &j, &Sbar);
        w->sadj[t] += Sbar;
    }
    grad[HW_ALPHA] = j.da;
    grad[HW_BETA] = j.db;
    grad[HW_GAMMA] = j.dg;
    grad[HW_PHI] = j.dphi;
    grad[HW_L0] = j.L;
    grad[HW_B0] = j.B;
    memcpy(grad + HW_S0, w->sadj, sizeof *grad * m);
    return sse;
}
