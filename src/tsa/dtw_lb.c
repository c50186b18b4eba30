/*
 * dtw_lb.c - the LB_Keogh lower bound of the DTW distance.
 *
 * Row i of s1 may only match the columns of s2 in its band [lo(i), hi(i))
 * (the same band as dtw.c), and every row is matched at least once, so
 * each point of s1 costs at least its squared distance to the envelope
 * [min, max] of s2 over its band. Both band ends only move right as i
 * grows, so the envelope is a sliding-window min/max: a monotone deque of
 * indices (caller's `work`) gives it in O(n + m).
 */
#include "disco/tsa_compare.h"

#include <math.h>

/* upper (sign 1) or lower (sign -1) envelope: the extreme of s over each band. */
static void lb_pass(const double *s, size_t m, size_t n, size_t a, size_t b, double sign,
                    size_t *dq, double *out)
{
    size_t head = 0, tail = 0, next = 0;

    for (size_t i = 0; i < n; i++) {
        size_t lo = i > a ? i - a : 0, hi = i + b < m ? i + b : m;

        for (; next < hi; next++) {
            while (tail > head && sign * s[dq[tail - 1]] <= sign * s[next])
                tail--;
            dq[tail++] = next;
        }
        while (dq[head] < lo)
            head++;
        out[i] = s[dq[head]];
    }
}

int disco_tsa_lb_envelope(const double *s, size_t m, size_t n, size_t window, double *lower,
                          double *upper, size_t *work, disco_status *st)
{
    size_t w, longest = n > m ? n : m;

    if (!s || m == 0 || n == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "s",
                                "envelope of an empty series (m %zu, n %zu)", m, n);
    if (!lower || !upper || !work)
        return disco_status_set(st, DISCO_ERR_INVAL, "work", "lower, upper and work are required");
    for (size_t j = 0; j < m; j++)
        if (!isfinite(s[j]))
            return disco_status_set(st, DISCO_ERR_INVAL, "s", "s[%zu] is %s", j,
                                    isnan(s[j]) ? "NaN" : "infinite");
    w = window == 0 || window > longest ? longest : window;
    lb_pass(s, m, n, (n > m ? n - m : 0) + w - 1, (m > n ? m - n : 0) + w, 1.0, work, upper);
    lb_pass(s, m, n, (n > m ? n - m : 0) + w - 1, (m > n ? m - n : 0) + w, -1.0, work, lower);
    return DISCO_OK;
}

double disco_tsa_lb_keogh(const double *q, size_t n, const double *lower, const double *upper)
{
    double acc = 0.0;

    for (size_t i = 0; i < n; i++) {
        double d = 0.0;

        if (q[i] > upper[i])
            d = q[i] - upper[i];
        else if (q[i] < lower[i])
            d = lower[i] - q[i];
        acc += d * d;
    }
    return sqrt(acc);
}
