/*
 * tu_num.h - numeric helpers for cmocka tests: a tolerance assertion that
 * prints both values, and deterministic Gaussian noise (xorshift64* and
 * Box-Muller). Include after <cmocka.h>.
 */
#ifndef DISCO_TU_NUM_H
#define DISCO_TU_NUM_H

#include <math.h>
#include <stdint.h>

/* |a - b| <= tol, printing both values when not. */
#define assert_near(a, b, tol) tu_near_((a), (b), (tol), #a, __FILE__, __LINE__)

static inline void tu_near_(double a, double b, double tol, const char *what, const char *file,
                            int line)
{
    if (fabs(a - b) <= tol)
        return;
    print_error("%s = %.17g, expected %.17g +- %g\n", what, a, b, tol);
    _fail(file, line);
}

/* The noise generator's state; seed it by assigning a non-zero value. */
static uint64_t rng_state;

static inline double rng_uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * UINT64_C(2685821657736338717)) >> 11) + 0.5) / 9007199254740992.0;
}

static inline double rng_gauss(void)
{
    double u = rng_uniform(), v = rng_uniform();

    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

#endif
