/*
 * master_ref.c - reference matching for mastering: long-term average
 * spectra in third-octave bands, the correction curve between two of them,
 * and the linear-phase FIR that applies a curve.
 *
 * DESIGN: spectra are Welch averages of Hann-windowed mono frames (about
 * 0.37 s, so the 25 Hz band holds bins), turned into power density per Hz
 * so signals at different rates compare. The FIR is designed by frequency
 * sampling (zero-phase magnitude -> inverse FFT -> centred, Hann windowed,
 * about 46 ms long) and run by FFT overlap-add, in place, one channel at a
 * time, with its delay of `half` frames taken out.
 */
#include "disco/effects.h"
#include "disco/fftlock.h"
#include "disco/master.h"

#include "fx_int.h"

#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FLOOR_DB 60.0 /* bands this far below the loudest are left alone */

static const double nominal_hz[DISCO_MASTER_BANDS] = {
    25,  31.5, 40,   50,   63,   80,   100,  125,  160,  200,  250,  315,   400,   500,  630,
    800, 1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000};

/* Exact base-2 centre of band b (band 16 is 1 kHz). */
static double band_centre(int b)
{
    return 1000.0 * pow(2.0, (b - 16) / 3.0);
}

/* Smallest power of two >= rate * seconds (at least 1024). */
static size_t pow2_for(int rate, double seconds)
{
    size_t n = 1024;

    while ((double)n < rate * seconds)
        n *= 2;
    return n;
}

/* --- spectrum ------------------------------------------------------------ */

typedef struct fft_pair {
    size_t n;
    double *re;
    fftw_complex *spec;
    fftw_plan fwd, inv; /* inv only when asked for */
} fft_pair;

static int fft_open(fft_pair *f, size_t n, int with_inverse, disco_status *st)
{
    memset(f, 0, sizeof *f);
    f->n = n;
    f->re = fftw_malloc(n * sizeof *f->re);
    f->spec = fftw_malloc((n / 2 + 1) * sizeof *f->spec);
    if (f->re && f->spec) {
        disco_fft_plan_lock();
        f->fwd = fftw_plan_dft_r2c_1d((int)n, f->re, f->spec, FFTW_ESTIMATE);
        if (with_inverse)
            f->inv = fftw_plan_dft_c2r_1d((int)n, f->spec, f->re, FFTW_ESTIMATE);
        disco_fft_plan_unlock();
    }
    if (f->fwd && (f->inv || !with_inverse))
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory (FFT)");
}

static void fft_close(fft_pair *f)
{
    disco_fft_plan_lock();
    if (f->fwd)
        fftw_destroy_plan(f->fwd);
    if (f->inv)
        fftw_destroy_plan(f->inv);
    disco_fft_plan_unlock();
    fftw_free(f->re);
    fftw_free(f->spec);
}

/* Sum of |X|^2 over Hann-windowed mono frames; returns the frame count. */
static size_t welch(const disco_audio *a, fft_pair *f, double *power)
{
    const size_t n = f->n, C = (size_t)a->channels, bins = n / 2 + 1;
    size_t count = 0;

    for (size_t s = 0; s == 0 || s + n <= a->frames; s += n, count++) {
        for (size_t i = 0; i < n; i++) {
            double v = 0.0, w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)n);

            if (s + i < a->frames)
                for (size_t c = 0; c < C; c++)
                    v += a->data[(s + i) * C + c];
            f->re[i] = w * v / (double)C;
        }
        fftw_execute(f->fwd);
        for (size_t k = 0; k < bins; k++)
            power[k] +=
                creal(f->spec[k]) * creal(f->spec[k]) + cimag(f->spec[k]) * cimag(f->spec[k]);
    }
    return count;
}

int disco_master_spectrum(const disco_audio *a, double hz[DISCO_MASTER_BANDS],
                          double db[DISCO_MASTER_BANDS], disco_status *st)
{
    fft_pair f;
    double *power, norm;
    size_t n, count;
    int rc;

    if (!a || !a->data || a->frames == 0 || a->channels < 1 || a->rate < DISCO_AUDIO_MIN_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, "audio", "audio: empty or invalid signal");
    n = pow2_for(a->rate, 0.3);
    if ((rc = fft_open(&f, n, 0, st)) != DISCO_OK) {
        fft_close(&f);
        return rc;
    }
    if (!(power = calloc(n / 2 + 1, sizeof *power))) {
        fft_close(&f);
        return disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory");
    }
    count = welch(a, &f, power);
    norm = (double)count * a->rate * (double)n * 0.375; /* frames x rate x sum(w^2) */
    for (int b = 0; b < DISCO_MASTER_BANDS; b++) {
        double lo = band_centre(b) * pow(2.0, -1.0 / 6), hi = band_centre(b) * pow(2.0, 1.0 / 6);
        double sum = 0.0;
        size_t k0 = (size_t)ceil(lo * (double)n / a->rate),
               k1 = (size_t)ceil(hi * (double)n / a->rate);

        if (hz)
            hz[b] = nominal_hz[b];
        for (size_t k = k0; k < k1 && k <= n / 2; k++)
            sum += power[k];
        db[b] = -HUGE_VAL;
        if (hi <= a->rate / 2.0 && k1 > k0 && sum > 0.0)
            db[b] = 10.0 * log10(sum / (double)(k1 - k0) / norm);
    }
    free(power);
    fft_close(&f);
    return DISCO_OK;
}

/* --- correction curve ---------------------------------------------------- */

static double max_of(const double *v, int n)
{
    double m = -HUGE_VAL;

    for (int i = 0; i < n; i++)
        m = fmax(m, v[i]);
    return m;
}

int disco__master_ref_eq(const disco_audio *in, const disco_audio *ref, double max_db,
                         double hz[DISCO_MASTER_BANDS], double eq_db[DISCO_MASTER_BANDS],
                         disco_status *st)
{
    double a[DISCO_MASTER_BANDS], b[DISCO_MASTER_BANDS], d[DISCO_MASTER_BANDS], ma, mb;
    double mean = 0.0;
    int ok[DISCO_MASTER_BANDS], nok = 0, rc;

    if ((rc = disco_master_spectrum(in, hz, a, st)) ||
        (rc = disco_master_spectrum(ref, NULL, b, st)))
        return rc;
    ma = max_of(a, DISCO_MASTER_BANDS);
    mb = max_of(b, DISCO_MASTER_BANDS);
    for (int i = 0; i < DISCO_MASTER_BANDS; i++) {
        ok[i] = isfinite(a[i]) && isfinite(b[i]) && a[i] > ma - FLOOR_DB && b[i] > mb - FLOOR_DB;
        d[i] = ok[i] ? b[i] - a[i] : 0.0;
        mean += d[i];
        nok += ok[i];
    }
    mean = nok > 0 ? mean / nok : 0.0;
    for (int i = 0; i < DISCO_MASTER_BANDS; i++) {
        double sum = 0.0, wsum = 0.0;

        for (int j = i - 1; j <= i + 1; j++) {
            double w = j == i ? 0.5 : 0.25;

            if (j >= 0 && j < DISCO_MASTER_BANDS && ok[j]) {
                sum += w * (d[j] - mean);
                wsum += w;
            }
        }
        eq_db[i] = ok[i] && wsum > 0.0 ? fmin(max_db, fmax(-max_db, sum / wsum)) : 0.0;
    }
    return DISCO_OK;
}

/* --- FIR ----------------------------------------------------------------- */

/* The curve at `f` Hz: linear in log2(f) between band centres, held at the ends. */
static double curve_at(const double eq_db[DISCO_MASTER_BANDS], double f)
{
    double pos;
    int b;

    if (f <= band_centre(0))
        return eq_db[0];
    pos = 3.0 * log2(f / 1000.0) + 16.0;
    if (pos >= DISCO_MASTER_BANDS - 1)
        return eq_db[DISCO_MASTER_BANDS - 1];
    b = (int)pos;
    return eq_db[b] + (pos - b) * (eq_db[b + 1] - eq_db[b]);
}

/* The spectrum (n/2 + 1 bins, 1/n scaling folded in) of the 2 half + 1 tap filter. */
static int fir_design(fft_pair *f, int rate, size_t half, const double *eq_db, fftw_complex *filt,
                      disco_status *st)
{
    const size_t n = f->n, taps = 2 * half + 1;
    double *h = malloc(taps * sizeof *h);

    if (!h)
        return disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory");
    for (size_t k = 0; k <= n / 2; k++)
        f->spec[k] = pow(10.0, curve_at(eq_db, (double)k * rate / (double)n) / 20.0);
    fftw_execute(f->inv); /* zero-phase response, circular, scaled by n */
    for (size_t i = 0; i < taps; i++) {
        size_t t = i >= half ? i - half : n + i - half;
        double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)(i + 1) / (double)(taps + 1));

        h[i] = w * f->re[t] / (double)n;
    }
    memset(f->re, 0, n * sizeof *f->re);
    memcpy(f->re, h, taps * sizeof *h);
    fftw_execute(f->fwd);
    for (size_t k = 0; k <= n / 2; k++)
        filt[k] = f->spec[k] / (double)n;
    free(h);
    return DISCO_OK;
}

/* Overlap-add of one channel (stride C), in place, delay `half` removed. */
static void fir_channel(fft_pair *f, const fftw_complex *filt, float *x, size_t frames, size_t C,
                        size_t half, double *tail)
{
    const size_t n = f->n, B = n - 2 * half;

    memset(tail, 0, n * sizeof *tail);
    for (size_t bs = 0; bs < frames + half; bs += B) {
        for (size_t i = 0; i < n; i++)
            f->re[i] = i < B && bs + i < frames ? x[(bs + i) * C] : 0.0;
        fftw_execute(f->fwd);
        for (size_t k = 0; k <= n / 2; k++)
            f->spec[k] *= filt[k];
        fftw_execute(f->inv);
        for (size_t j = 0; j < n; j++)
            tail[j] += f->re[j];
        for (size_t j = 0; j < B; j++) {
            size_t t = bs + j;

            if (t >= half && t - half < frames)
                x[(t - half) * C] = (float)tail[j];
        }
        memmove(tail, tail + B, (n - B) * sizeof *tail);
        memset(tail + (n - B), 0, B * sizeof *tail);
    }
}

int disco__master_fir_apply(float *x, size_t frames, int channels, int rate,
                            const double eq_db[DISCO_MASTER_BANDS], disco_status *st)
{
    const size_t half = pow2_for(rate, 1.0 / 43.0), n = 8 * half;
    fft_pair f;
    fftw_complex *filt = NULL;
    double *tail = NULL;
    int rc = fft_open(&f, n, 1, st);

    if (rc != DISCO_OK)
        goto done;
    filt = fftw_malloc((n / 2 + 1) * sizeof *filt);
    tail = malloc(n * sizeof *tail);
    if (!filt || !tail) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory");
        goto done;
    }
    if ((rc = fir_design(&f, rate, half, eq_db, filt, st)) != DISCO_OK)
        goto done;
    for (int c = 0; c < channels; c++)
        fir_channel(&f, filt, x + c, frames, (size_t)channels, half, tail);
done:
    free(tail);
    fftw_free(filt);
    fft_close(&f);
    return rc;
}
