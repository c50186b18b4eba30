/*
 * tsa_spectral.h - cycles in a time series: the periodogram (FFTW), its
 * dominant periods, Fisher's g test for the largest peak, and a verdict.
 *
 * Pure computation on arrays: no storage. The series is mean-removed
 * before the transform. With X_k the DFT of the mean-removed series x_t
 * (t = 0..n-1), the periodogram ordinate at Fourier bin k (frequency k/n
 * cycles per sample, period n/k samples) is
 *
 *     I_k = |X_k|^2 / n,          k = 0 .. n/2   (I_0 = 0)
 *
 * and by Parseval sum_t x_t^2 = I_0 + 2 sum_{0<k<n/2} I_k (+ I_{n/2} when
 * n is even), so a bin's share of the variance is 2 I_k / SS (I_k / SS at
 * the Nyquist bin), SS being the sum of squares of the mean-removed series.
 *
 * Fisher's g test (Fisher 1929): g = max I_k / sum I_k over the m =
 * floor((n-1)/2) bins strictly between 0 and Nyquist. Under Gaussian white
 * noise P(g > x) = sum_{j=1}^{floor(1/x)} (-1)^(j-1) C(m,j) (1 - j x)^(m-1).
 * That sum is used while its terms are small enough to add without losing
 * precision (p-values below ~0.5, which is where decisions are made); when
 * they are not, the asymptotic form 1 - (1 - exp(-m g))^m is used instead.
 *
 * Inputs must be finite (NaN/Inf are INVAL naming the first bad index) and
 * have at least 4 samples. A constant series is not an error: it has no
 * peaks, g = 0, p = 1 and no cycle.
 *
 * Threads: FFTW's planner is not thread-safe, so plans are made (once per
 * length, for up to 32 lengths) and destroyed under one mutex of this
 * module; executing a plan on new arrays is thread-safe, so all functions
 * here may be called from several threads at once. Other modules that plan
 * FFTW transforms concurrently must not race with this one's planner: they
 * plan through disco_fft_plan_lock()/disco_fft_plan_unlock() (fftlock.h).
 */
#ifndef DISCO_TSA_SPECTRAL_H
#define DISCO_TSA_SPECTRAL_H

#include "disco/err.h"

#include <stddef.h>

#define DISCO_TSA_PEAKS_MAX 16
#define DISCO_TSA_SPECTRAL_MIN_N 4

/* One periodogram peak (a local maximum of I_k over k = 1..n/2). */
typedef struct disco_tsa_peak {
    size_t bin;       /* Fourier bin k */
    double frequency; /* k / n, cycles per sample */
    double period;    /* n / k, samples */
    double power;     /* I_k */
    double share;     /* share of the variance, 0..1 */
} disco_tsa_peak;

/* Settings of disco_tsa_find_cycles(); take them from disco_tsa_cycles_config_default(). */
typedef struct disco_tsa_cycles_config {
    size_t max_peaks;  /* peaks to report, 1..DISCO_TSA_PEAKS_MAX (default 3) */
    double alpha;      /* significance level of the verdict, in (0, 1) (default 0.01) */
    size_t min_cycles; /* the tested peak must repeat at least this often (default 2) */
} disco_tsa_cycles_config;

/* Result of disco_tsa_find_cycles(); caller-owned, nothing to free. */
typedef struct disco_tsa_cycles {
    size_t n;        /* samples analysed */
    double variance; /* SS / n of the mean-removed series */
    size_t npeaks;   /* peaks filled, strongest first */
    disco_tsa_peak peaks[DISCO_TSA_PEAKS_MAX];
    size_t fisher_bin; /* bin of the largest I_k in 1..m (0 if none) */
    double fisher_g;   /* Fisher's g (0 for a constant series) */
    double p_value;    /* P(g this large | white noise) */
    int has_cycle;     /* p_value < alpha and fisher_bin >= min_cycles */
} disco_tsa_cycles;

disco_tsa_cycles_config disco_tsa_cycles_config_default(void);

/*
 * The periodogram I_0..I_{n/2} of the mean-removed x into `power`
 * (caller-allocated, n/2 + 1 doubles). Allocates its FFT buffers per call.
 * Errors: INVAL for NULL arrays, n < 4 or n > INT_MAX, a non-finite x[i]
 * (naming i); NOMEM.
 */
int disco_tsa_periodogram(const double *x, size_t n, double *power, disco_status *st);

/*
 * Dominant cycles of x: the strongest peaks, Fisher's g test for the
 * largest ordinate, and the verdict. `cfg` may be NULL (defaults).
 * Errors: as disco_tsa_periodogram, plus INVAL naming a bad setting.
 */
int disco_tsa_find_cycles(const double *x, size_t n, const disco_tsa_cycles_config *cfg,
                          disco_tsa_cycles *out, disco_status *st);

/*
 * P(g > `g`) for Fisher's g over `m` ordinates under Gaussian white noise
 * (see the top of this header). Returns 1 for m < 2 or g <= 1/m, 0 for g >= 1.
 */
double disco_tsa_fisher_p(double g, size_t m);

/* Destroys the cached plans (e.g. at exit); safe to call any time, plans are remade on demand. */
void disco_tsa_spectral_cleanup(void);

#endif
