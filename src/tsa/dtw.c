/*
 * dtw.c - dynamic time warping distance with dtaidistance's semantics.
 *
 * DESIGN. The cost matrix D has a row per point of s1 and a column per
 * point of s2, plus a virtual column 0 and a virtual row -1 where paths
 * begin. Only two rows are kept, P (row i-1) and C (row i), each m + 1
 * doubles of caller scratch, indexed q = j + 1:
 *
 *        q:   0     1 ...            qs ......... qe ... m
 *   P (i-1):  .     .    P[q-1] P[q]
 *   C (i)  :  .     .    C[q-1] C[q] = (s1[i]-s2[q-1])^2 + min(P[q-1], P[q], C[q-1])
 *
 * Row i covers the band [qs, qe]. With a bound thr (max_dist squared, or
 * the Euclidean distance squared when pruning), cells above thr can never
 * lead to an answer within it, so each row keeps the live range [L, R] of
 * cells <= thr: the next row starts at L, uses P only up to R + 1, and to
 * the right of that only the horizontal move remains, which stops as soon
 * as it passes thr. A row without live cells ends the computation. Cells
 * are never reset wholesale: only the boundary cells C[qs - 1] and
 * C[last + 1] are written, so a row costs exactly its computed cells.
 *
 * psi: row -1 is 0 in columns 0..psi and C[0] is 0 in rows i < psi (skip
 * the start of s2 or of s1); the answer is the least of the last row's
 * columns m - psi..m and the last column's rows n - 1 - psi..n - 1.
 */
#include "disco/tsa_compare.h"

#include <math.h>

typedef struct dtw_run {
    const double *s1, *s2;
    size_t n, m;
    size_t a, b; /* band of row i: columns [i - a, i + b) clipped to [0, m) */
    size_t psi;
    double thr; /* squared bound; +Inf for none */
} dtw_run;

/* The bounds of the row just computed, for the next one. */
typedef struct dtw_live {
    size_t qs, last; /* computed cells */
    size_t lo, hi;   /* live cells (<= thr); lo > hi when none */
} dtw_live;

disco_tsa_dtw_config disco_tsa_dtw_config_default(void)
{
    disco_tsa_dtw_config cfg = {0};

    return cfg;
}

double disco_tsa_dtw_similarity(double dist)
{
    return isinf(dist) ? 0.0 : 1.0 / (1.0 + dist);
}

/*
 * Cells qs..qe of row i; P is valid up to pr. Returns the last cell
 * computed (qe, or earlier when a horizontal run passed thr).
 */
static size_t dtw_row(const dtw_run *r, size_t i, const double *restrict P, double *restrict C,
                      size_t qs, size_t qe, size_t pr)
{
    const double *restrict s2 = r->s2;
    const double x = r->s1[i];
    size_t q1 = qe < pr ? qe : pr;
    double left = C[qs - 1];
    size_t q = qs;

    for (; q <= q1; q++) {
        double d = x - s2[q - 1];
        double best = P[q - 1] < P[q] ? P[q - 1] : P[q];

        best = best < left ? best : left;
        left = d * d + best;
        C[q] = left;
    }
    for (; q <= qe; q++) {
        double d = x - s2[q - 1];

        left = d * d + left;
        C[q] = left;
        if (left > r->thr)
            return q;
    }
    return qe;
}

/* Live range of the row in `lv`; returns 0 when no cell is within thr. */
static int dtw_live_range(const dtw_run *r, const double *C, dtw_live *lv)
{
    size_t lo = lv->qs, hi = lv->last;

    if (isinf(r->thr)) {
        lv->lo = lo;
        lv->hi = hi;
        return 1;
    }
    while (lo <= hi && C[lo] > r->thr)
        lo++;
    if (lo > hi)
        return 0;
    while (C[hi] > r->thr)
        hi--;
    lv->lo = lo;
    lv->hi = hi;
    return 1;
}

/* First row of the band of row i, and whether row i may begin a path (psi). */
static size_t dtw_band_lo(const dtw_run *r, size_t i)
{
    return i > r->a ? i - r->a : 0;
}

static int dtw_restarts(const dtw_run *r, size_t i)
{
    return i < r->psi && dtw_band_lo(r, i) == 0;
}

/* The answer from the last row (in P) and the best end of the last column. */
static double dtw_finish(const dtw_run *r, const double *P, const dtw_live *lv, double end)
{
    size_t q = r->m > r->psi ? r->m - r->psi : 1;

    if (q < lv->qs)
        q = lv->qs;
    for (; q <= lv->last && q <= r->m; q++)
        end = P[q] < end ? P[q] : end;
    return end > r->thr ? INFINITY : sqrt(end);
}

static double dtw_rows(const dtw_run *r, double *P, double *C)
{
    dtw_live lv = {.qs = 1, .last = r->m, .lo = 0, .hi = r->m};
    double end = INFINITY;

    for (size_t q = 0; q <= r->m; q++)
        P[q] = q <= r->psi ? 0.0 : INFINITY;
    for (size_t i = 0; i < r->n; i++) {
        size_t base = dtw_band_lo(r, i) + 1, qe = i + r->b < r->m ? i + r->b : r->m;
        int restart = dtw_restarts(r, i);
        double *t;

        lv.qs = restart ? 1 : (base > lv.lo ? base : lv.lo);
        C[lv.qs - 1] = restart ? 0.0 : INFINITY;
        lv.last = dtw_row(r, i, P, C, lv.qs, qe, lv.hi + 1);
        if (lv.last < r->m)
            C[lv.last + 1] = INFINITY;
        if (r->psi && i + r->psi + 1 >= r->n && lv.last == r->m && C[r->m] < end)
            end = C[r->m];
        if (!dtw_live_range(r, C, &lv)) {
            if (i + 1 >= r->n || !dtw_restarts(r, i + 1))
                return end > r->thr ? INFINITY : sqrt(end);
            lv.lo = r->m + 1;
            lv.hi = 0;
        }
        t = P;
        P = C;
        C = t;
    }
    return dtw_finish(r, P, &lv, end);
}

static int dtw_check(const double *s, size_t n, const char *name, disco_status *st)
{
    if (!s || n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s is empty", name);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(s[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, name, "%s[%zu] is %s", name, i,
                                    isnan(s[i]) ? "NaN" : "infinite");
    return DISCO_OK;
}

static double dtw_euclid2(const double *s1, const double *s2, size_t n)
{
    double acc = 0.0;

    for (size_t i = 0; i < n; i++) {
        double d = s1[i] - s2[i];

        acc = d * d + acc;
    }
    return acc;
}

int disco_tsa_dtw(const double *s1, size_t n, const double *s2, size_t m,
                  const disco_tsa_dtw_config *cfg, double *scratch, double *dist, disco_status *st)
{
    disco_tsa_dtw_config def = disco_tsa_dtw_config_default();
    dtw_run r = {.s1 = s1, .s2 = s2, .n = n, .m = m, .thr = INFINITY};
    size_t w, longest = n > m ? n : m;
    int rc;

    if (!cfg)
        cfg = &def;
    if ((rc = dtw_check(s1, n, "s1", st)) || (rc = dtw_check(s2, m, "s2", st)))
        return rc;
    if (!scratch || !dist)
        return disco_status_set(st, DISCO_ERR_INVAL, "scratch", "scratch and dist are required");
    if (!(cfg->max_dist >= 0.0))
        return disco_status_set(st, DISCO_ERR_INVAL, "max_dist", "max_dist %g is not >= 0",
                                cfg->max_dist);
    w = cfg->window == 0 || cfg->window > longest ? longest : cfg->window;
    r.a = (n > m ? n - m : 0) + w - 1;
    r.b = (m > n ? m - n : 0) + w;
    r.psi = cfg->psi;
    if (cfg->max_dist > 0.0)
        r.thr = cfg->max_dist * cfg->max_dist;
    if (cfg->prune && n == m) {
        double ub = dtw_euclid2(s1, s2, n);

        r.thr = ub < r.thr ? ub : r.thr;
    }
    *dist = dtw_rows(&r, scratch, scratch + m + 1);
    return DISCO_OK;
}
