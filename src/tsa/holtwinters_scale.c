/*
 * holtwinters_scale.c - the diagonal of the Gauss-Newton matrix J'J of the
 * Holt-Winters one-step errors (J[t][i] = d e_t / d theta_i), by forward
 * sensitivities in one sweep. The fit uses it to give every parameter a
 * unit of comparable curvature before minimising: on long series the
 * initial trend and a small alpha act on thousands of steps and would
 * otherwise be orders of magnitude stiffer than the rest.
 *
 * Per step the sensitivities of l, b and the seasonal in use (vectors over
 * all parameters) follow the recursion of holtwinters_smooth.c; the columns
 * of alpha, beta, gamma are then mapped through `tr` (d natural / d unit,
 * row j = d(alpha, beta, gamma)/d u_j) before squaring.
 */
#include "holtwinters_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct sens {
    size_t dim;
    double *dl, *db, *ds, *dT, *de; /* ds: m x dim, the others dim */
} sens;

/* dT = dl + phi db, plus the explicit d/dphi of phi b. */
static void trend_sens(const sens *z, double phi, double b)
{
    for (size_t i = 0; i < z->dim; i++)
        z->dT[i] = z->dl[i] + phi * z->db[i];
    z->dT[HW_PHI] += b;
}

static void step_add(const double *p, double y, double l, double b, double S, double *dS,
                     const sens *z)
{
    const double a = p[HW_ALPHA], beta = p[HW_BETA], g = p[HW_GAMMA], phi = p[HW_PHI];
    double e = y - (l + phi * b) - S;

    trend_sens(z, phi, b);
    for (size_t i = 0; i < z->dim; i++) {
        z->de[i] = -z->dT[i] - dS[i];
        z->dl[i] = z->dT[i] + a * z->de[i];
        z->db[i] = phi * z->db[i] + a * beta * z->de[i];
        dS[i] += g * z->de[i];
    }
    z->db[HW_PHI] += b;
    z->dl[HW_ALPHA] += e;
    z->db[HW_ALPHA] += beta * e;
    z->db[HW_BETA] += a * e;
    dS[HW_GAMMA] += e;
}

static void step_mul(const double *p, double y, double l, double b, double S, double *dS,
                     const sens *z)
{
    const double a = p[HW_ALPHA], beta = p[HW_BETA], g = p[HW_GAMMA], phi = p[HW_PHI];
    double T = l + phi * b, ys = y / S, yt = y / T;

    trend_sens(z, phi, b);
    for (size_t i = 0; i < z->dim; i++) {
        double dT = z->dT[i];

        z->de[i] = -S * dT - T * dS[i];
        z->dl[i] = (1 - a) * dT - a * ys / S * dS[i];
        z->db[i] = phi * z->db[i] - a * beta * (ys / S * dS[i] + dT);
        dS[i] = (1 - g) * dS[i] - g * yt / T * dT;
    }
    z->db[HW_PHI] += b;
    z->dl[HW_ALPHA] += ys - T;
    z->db[HW_ALPHA] += beta * (ys - T);
    z->db[HW_BETA] += a * (ys - T);
    dS[HW_GAMMA] += yt - S;
}

/* Adds the squares of this step's error sensitivities, alpha..gamma mapped by tr. */
static void accumulate(const sens *z, const double tr[3][3], double *diag)
{
    for (int j = 0; j < 3; j++) {
        double v = 0;

        for (int k = 0; k < 3; k++)
            v += tr[j][k] * z->de[k];
        diag[j] += v * v;
    }
    for (size_t i = HW_PHI; i < z->dim; i++)
        diag[i] += z->de[i] * z->de[i];
}

int disco__hw_gn_diag(const disco__hw_spec *sp, const double *y, size_t n, const double *p,
                      const double tr[3][3], disco__hw_work *w, double *diag)
{
    size_t dim = HW_S0 + sp->m, m = sp->m;
    double *buf = calloc(dim * (m + 4), sizeof *buf);
    sens z = {dim, buf, buf + dim, buf + 2 * dim, buf + (m + 2) * dim, buf + (m + 3) * dim};

    if (!buf)
        return DISCO_ERR_NOMEM;
    disco__hw_states(sp, y, n, p, w);
    z.dl[HW_L0] = 1;
    z.db[HW_B0] = 1;
    for (size_t j = 0; j < m; j++)
        z.ds[j * dim + HW_S0 + j] = 1;
    memset(diag, 0, sizeof *diag * dim);
    for (size_t t = 0; t < n; t++) {
        double *dS = z.ds + (t % m) * dim;

        if (sp->mul)
            step_mul(p, y[t], w->l[t], w->b[t], w->s[t], dS, &z);
        else
            step_add(p, y[t], w->l[t], w->b[t], w->s[t], dS, &z);
        accumulate(&z, tr, diag);
    }
    free(buf);
    return DISCO_OK;
}
