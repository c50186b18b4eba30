/*
 * holtwinters_init.c - where the Holt-Winters fit starts, as statsmodels
 * 0.13.5 ExponentialSmoothing(initialization_method="estimated") does:
 *
 *   states   Hyndman et al. (2008, sec. 2.6) heuristic when n >= 10 + 2 (m/2):
 *            seasonals from a centred 2xm moving average over the first
 *            max(min(5, n/m), ceil((10 + 2 (m/2)) / m)) cycles, then level
 *            and trend from a line through the first 10 trend values;
 *            shorter series the simple way (first cycle's mean, differences).
 *   smoothing  alpha = 0.5/m, beta = 0.1 alpha, gamma = 0.05 (1 - alpha),
 *            phi = 0.99, then the least-SSE point of statsmodels' grid over
 *            (alpha, beta <= alpha, gamma <= 1 - alpha) with the states fixed.
 *
 * The grid has 87/k points per smoothing parameter (k estimated); on long
 * series it is thinned so that points x n stays under GRID_BUDGET steps.
 */
#include "holtwinters_int.h"

#include <math.h>
#include <string.h>

#define GRID_BUDGET 1500000.0 /* recursion steps spent on the starting grid */
#define GRID_MIN 5            /* fewest points per parameter */

/* Level and trend of the line through v[0..10) at x = 1..10, as at x = 0. */
static void line10(const double *v, double *level, double *slope)
{
    double my = 0, sxy = 0;

    for (int i = 0; i < 10; i++)
        my += v[i] / 10;
    for (int i = 0; i < 10; i++)
        sxy += ((double)i - 4.5) * (v[i] - my);
    *slope = sxy / 82.5; /* sum of (i - 4.5)^2 over 0..9 */
    *level = my - *slope * 5.5;
}

/* Centred (2x)m moving average of y[0..len) at i, as pandas computes it. */
static double centred_ma(const double *y, size_t i, size_t m)
{
    size_t h = m / 2;
    double s = 0;

    if (m % 2) {
        for (size_t k = i - h; k <= i + h; k++)
            s += y[k];
        return s / (double)m;
    }
    for (size_t k = i - h + 1; k < i + h; k++)
        s += y[k];
    return (s + 0.5 * (y[i - h] + y[i + h])) / (double)m;
}

/* How many i in [lo, hi) have i % m == j. */
static size_t slot_count(size_t lo, size_t hi, size_t j, size_t m)
{
    size_t first = lo + (j + m - lo % m) % m;

    return first < hi ? (hi - 1 - first) / m + 1 : 0;
}

static void heuristic_season(const disco__hw_spec *sp, const double *y, size_t n, double *p)
{
    size_t m = sp->m, h = m / 2, min_obs = 10 + 2 * h;
    size_t k = n / m < 5 ? n / m : 5, need = (min_obs + m - 1) / m;
    size_t len = (k > need ? k : need) * m;
    double trend[10], *s = p + HW_S0, norm = 0;

    len = len < n ? len : n;
    memset(s, 0, sizeof *s * m);
    for (size_t i = h; i + h < len; i++) {
        double t = centred_ma(y, i, m);

        if (i - h < 10)
            trend[i - h] = t;
        s[i % m] += sp->mul ? y[i] / t : y[i] - t;
    }
    for (size_t j = 0; j < m; j++) {
        s[j] /= (double)slot_count(h, len - h, j, m);
        norm += s[j] / (double)m;
    }
    for (size_t j = 0; j < m; j++)
        s[j] = sp->mul ? s[j] / norm : s[j] - norm;
    line10(trend, &p[HW_L0], &p[HW_B0]);
}

static void simple_states(const disco__hw_spec *sp, const double *y, double *p)
{
    size_t m = sp->m;
    double l = 0, b = 0;

    if (!sp->season) {
        p[HW_L0] = y[0];
        p[HW_B0] = y[1] - y[0];
        return;
    }
    for (size_t j = 0; j < m; j++) {
        l += y[j] / (double)m;
        b += (y[m + j] - y[j]) / (double)m / (double)m;
    }
    p[HW_L0] = l;
    p[HW_B0] = b;
    for (size_t j = 0; j < m; j++)
        p[HW_S0 + j] = sp->mul ? y[j] / l : y[j] - l;
}

void disco__hw_initial_states(const disco__hw_spec *sp, const double *y, size_t n, double *p)
{
    size_t m = sp->season ? sp->m : 0;

    if (n < 10 + 2 * (m / 2))
        simple_states(sp, y, p);
    else if (sp->season)
        heuristic_season(sp, y, n, p);
    else
        line10(y, &p[HW_L0], &p[HW_B0]);
    if (!sp->trend)
        p[HW_B0] = 0;
    if (!sp->season)
        p[HW_S0] = 0;
}

/* Point i of `cnt` evenly spaced from lo to hi (numpy's linspace). */
static double linspace(double lo, double hi, size_t cnt, size_t i)
{
    return cnt < 2 ? lo : lo + (hi - lo) * (double)i / (double)(cnt - 1);
}

typedef struct grid {
    const disco__hw_spec *sp;
    const double *y;
    size_t n;
    double *p;
    disco__hw_work *w;
    double best, ba, bb, bg; /* best SSE and its point */
    size_t count;            /* points visited (or counted when y is NULL) */
} grid;

static void grid_try(grid *gr, double a, double b, double g)
{
    gr->count++;
    if (!gr->y)
        return;
    gr->p[HW_ALPHA] = a;
    gr->p[HW_BETA] = b;
    gr->p[HW_GAMMA] = g;
    double sse = disco__hw_sse(gr->sp, gr->y, gr->n, gr->p, gr->w, NULL, NULL, NULL);
    if (sse < gr->best) {
        gr->best = sse;
        gr->ba = a;
        gr->bb = b;
        gr->bg = g;
    }
}

/* statsmodels' _setup_brute with alpha always estimated, ns points on its axis. */
static void grid_walk(grid *gr, size_t ns)
{
    int tr = gr->sp->trend, se = gr->sp->season;
    double step = 0.005;

    for (size_t i = 0; i < ns; i++) {
        double a = linspace(step, 1 - step, ns, i);
        size_t nb = tr ? (size_t)ceil((double)ns * sqrt(a)) : 1;
        size_t ng = se ? (size_t)ceil((double)ns * sqrt(1 - a)) : 1;

        for (size_t jg = 0; jg < ng; jg++) {
            for (size_t jb = 0; jb < nb; jb++) {
                double b = tr ? linspace(0, a, nb, jb) : 0;
                double g = se ? linspace(0, 1 - a, ng, jg) : 0;

                grid_try(gr, a, b, g);
            }
        }
    }
}

void disco__hw_grid_start(const disco__hw_spec *sp, const double *y, size_t n, double *p,
                          disco__hw_work *w)
{
    size_t k = 1 + (size_t)sp->trend + (size_t)sp->season, ns = 87 / k;
    grid gr = {sp, NULL, n, p, w, INFINITY, p[HW_ALPHA], p[HW_BETA], p[HW_GAMMA], 0};

    for (;;) {
        gr.count = 0;
        grid_walk(&gr, ns);
        if (ns <= GRID_MIN || (double)gr.count * (double)n <= GRID_BUDGET)
            break;
        ns = ns * 3 / 4 > GRID_MIN ? ns * 3 / 4 : GRID_MIN;
    }
    gr.y = y;
    grid_walk(&gr, ns);
    p[HW_ALPHA] = gr.ba;
    p[HW_BETA] = gr.bb;
    p[HW_GAMMA] = gr.bg;
}
