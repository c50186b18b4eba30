/*
 * spectral.c - per-frame scalar features of a power spectrum (centroid,
 * bandwidth, roll-off, flatness, octave-band contrast) and of a time frame
 * (zero-crossing rate, RMS).
 *
 * Definitions (librosa 0.10, frame of power P[k], magnitude S = sqrt(P),
 * bin frequency f_k = k * rate / n_fft):
 *   centroid  sum f_k S_k / sum S_k                     (0 for silence)
 *   bandwidth sqrt(sum S_k (f_k - centroid)^2 / sum S_k)
 *   rolloff   the lowest f_k whose cumulative sum of S reaches 0.85 x total
 *   flatness  geometric / arithmetic mean of max(P_k, 1e-10)
 *   contrast  band b: 10 log10(peak / valley), where peak (valley) is the
 *             mean of the q largest (smallest) S in the band, q =
 *             max(1, rint(0.02 x band size)); bands [0, 200], then octaves
 *             from 200 Hz, the last one running to Nyquist. As in librosa a
 *             band also takes the bin just below it and drops its top bin
 *             (except the last band), and q counts the bins before the drop.
 *             librosa's 10 log10 of magnitudes is kept (it names the values
 *             power), with amin 1e-10. Not done: librosa clips each of the
 *             peak and valley dB at 80 dB below their maximum over the whole
 *             file, which a per-frame kernel cannot know.
 *
 * DESIGN: one pass over the bins computes S and, in 8 independent lanes
 * (so the compiler can vectorise without reassociating), the sums for the
 * centroid, the flatness means and per-64-bin chunk sums of S. The
 * geometric mean needs no per-bin log: each P_k = 2^e m with m in [1, 2),
 * so sum log2 P_k = sum e + log2(prod m); lanes multiply mantissas and fold
 * the exponent of the running product back out every chunk, leaving eight
 * log2 calls per frame. Roll-off finds its chunk from the chunk sums, then
 * its bin inside it. Contrast needs the mean of the q smallest and largest
 * magnitudes of each band, never a full sort: q == 1 is a min/max scan;
 * q <= 32 runs four lanes, each keeping its q extremes in a branch-free
 * compare-exchange chain (SSE2 minps/maxps, or a portable equivalent that
 * picks the same values), then merges the lanes (plain insertion costs
 * n x q mispredicted branches on a sloping spectrum); larger q (very long
 * FFTs) use two quickselects on a copy in scratch.
 */
#include "disco/spectrum.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define LANES 8
#define CHUNK 64 /* bins per chunk: lane products stay below 2^(CHUNK/LANES) */
#define FLAT_AMIN 1e-10f
#define DB_AMIN 1e-10f
#define ROLL_PERCENT 0.85
#define CONTRAST_FMIN 200.0
#define CONTRAST_QUANTILE 0.02
#define QUAD_Q_MAX 32 /* largest q kept in lanes; beyond, quickselect */

struct disco_spectral {
    double rate, df;
    size_t n_fft, bins, chunks;
    size_t band_lo[DISCO_CONTRAST_BANDS];  /* first bin of the sub-band */
    size_t band_len[DISCO_CONTRAST_BANDS]; /* bins in the sub-band */
    size_t band_q[DISCO_CONTRAST_BANDS];   /* bins averaged at each end */
    size_t band_max;
};

/* Sub-band b of the contrast: bins, and q from the bins counted before the drop. */
static int plan_band(disco_spectral *s, int b, double f_lo, double f_hi)
{
    size_t lo = 0, hi, counted;
    int last = b == DISCO_CONTRAST_BANDS - 1;

    while (lo < s->bins && (double)lo * s->df < f_lo)
        lo++;
    hi = lo;
    while (hi < s->bins && (double)hi * s->df <= f_hi)
        hi++;
    if (hi == lo)
        return -1; /* no bin inside [f_lo, f_hi] */
    if (b > 0)
        lo--;
    if (last)
        hi = s->bins;
    counted = hi - lo;
    s->band_lo[b] = lo;
    s->band_len[b] = last ? counted : counted - 1;
    s->band_q[b] = (size_t)nearbyint(CONTRAST_QUANTILE * (double)counted);
    if (s->band_q[b] < 1)
        s->band_q[b] = 1;
    if (s->band_q[b] > s->band_len[b])
        s->band_q[b] = s->band_len[b];
    if (s->band_len[b] > s->band_max)
        s->band_max = s->band_len[b];
    return s->band_len[b] ? 0 : -1;
}

int disco_spectral_new(double rate, size_t n_fft, disco_spectral **out, disco_status *st)
{
    disco_spectral *s;
    double f_lo = 0.0, f_hi = CONTRAST_FMIN;

    if (!out)
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "out is NULL");
    *out = NULL;
    if (n_fft < 16 || n_fft > 65536 || n_fft % 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                "n_fft %zu must be even and in 16..65536", n_fft);
    if (!(rate > 2.0 * CONTRAST_FMIN * (1 << (DISCO_CONTRAST_BANDS - 2))) || !isfinite(rate))
        return disco_status_set(st, DISCO_ERR_INVAL, "rate",
                                "rate %g too low: the contrast bands start at %g Hz, so the rate "
                                "must exceed %g",
                                rate, CONTRAST_FMIN * (1 << (DISCO_CONTRAST_BANDS - 2)),
                                2.0 * CONTRAST_FMIN * (1 << (DISCO_CONTRAST_BANDS - 2)));
    s = calloc(1, sizeof *s);
    if (!s)
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_fft", "no memory for spectral features");
    s->rate = rate;
    s->n_fft = n_fft;
    s->bins = n_fft / 2 + 1;
    s->df = rate / (double)n_fft;
    s->chunks = (s->bins + CHUNK - 1) / CHUNK;
    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++, f_lo = f_hi, f_hi *= 2.0) {
        if (plan_band(s, b, f_lo, f_hi)) {
            free(s);
            return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                    "n_fft %zu too short: contrast band %d (%g..%g Hz) holds "
                                    "no FFT bin at rate %g",
                                    n_fft, b, f_lo, f_hi, rate);
        }
    }
    *out = s;
    return DISCO_OK;
}

void disco_spectral_free(disco_spectral *s)
{
    free(s);
}

/* Layout: magnitudes (bins), chunk sums (chunks), room for a band's copy. */
size_t disco_spectral_scratch_floats(const disco_spectral *s)
{
    return s->bins + s->chunks + s->band_max;
}

/* --- the one pass over the bins ------------------------------------------ */

typedef struct bin_sums {
    double mag, fmag; /* sum S, sum k S */
    double thr;       /* sum max(P, amin) */
    double log2p;     /* sum log2 max(P, amin) */
} bin_sums;

typedef struct lanes {
    float mag[LANES], kmag[LANES], thr[LANES], prod[LANES], k[LANES];
    int32_t exp2sum[LANES];
} lanes;

static void lanes_init(lanes *l)
{
    for (int j = 0; j < LANES; j++) {
        l->mag[j] = l->kmag[j] = l->thr[j] = 0.0f;
        l->prod[j] = 1.0f;
        l->k[j] = (float)j;
        l->exp2sum[j] = 0;
    }
}

/* Splits v >= FLT_MIN into its binary exponent and mantissa in [1, 2). */
static inline float split_float(float v, int32_t *e)
{
    uint32_t u;

    memcpy(&u, &v, sizeof u);
    *e = (int32_t)(u >> 23) - 127;
    u = (u & 0x7fffffu) | 0x3f800000u;
    memcpy(&v, &u, sizeof v);
    return v;
}

/*
 * Bins [k0, k0 + n), n a multiple of LANES, S already in mag; returns the
 * sum of S over them. Works on copies of the lanes so nothing aliases, then
 * folds the exponent of each running product out into exp2sum.
 */
static float lanes_run(lanes *l, const float *restrict p, const float *restrict mag, size_t k0,
                       size_t n)
{
    float chunk[LANES] = {0}, kmag[LANES], thr[LANES], prod[LANES], k[LANES];
    int32_t ex[LANES] = {0};
    float sum = 0.0f;

    memcpy(kmag, l->kmag, sizeof kmag);
    memcpy(thr, l->thr, sizeof thr);
    memcpy(prod, l->prod, sizeof prod);
    memcpy(k, l->k, sizeof k);
    for (size_t i = k0; i < k0 + n; i += LANES) {
        for (int j = 0; j < LANES; j++) {
            float v = p[i + (size_t)j], m = mag[i + (size_t)j];
            float t = v > FLAT_AMIN ? v : FLAT_AMIN;
            int32_t e;

            chunk[j] += m;
            kmag[j] += k[j] * m;
            k[j] += (float)LANES;
            thr[j] += t;
            prod[j] *= split_float(t, &e);
            ex[j] += e;
        }
    }
    for (int j = 0; j < LANES; j++) {
        int32_t e;

        l->prod[j] = split_float(prod[j], &e);
        l->exp2sum[j] += ex[j] + e;
        l->mag[j] += chunk[j];
        l->kmag[j] = kmag[j];
        l->thr[j] = thr[j];
        l->k[j] = k[j];
        sum += chunk[j];
    }
    return sum;
}

/*
 * mag = sqrt(p). With errno semantics the compiler will not vectorise
 * sqrtf, so SSE2 takes four at a time; IEEE square roots are correctly
 * rounded, so both paths give the same bits.
 */
static void magnitudes(const float *restrict p, float *restrict mag, size_t n)
{
    size_t i = 0;

#if defined(__SSE2__)
    for (; i + 4 <= n; i += 4)
        _mm_storeu_ps(mag + i, _mm_sqrt_ps(_mm_loadu_ps(p + i)));
#endif
    for (; i < n; i++)
        mag[i] = sqrtf(p[i]);
}

/*
 * S into mag, the sums of S over bins [c * CHUNK, (c + 1) * CHUNK) into
 * chunk[c], and the frame sums. Lanes take the bins up to a multiple of
 * LANES; the few left over are added one by one.
 */
static void bins_pass(const disco_spectral *s, const float *p, float *mag, float *chunk,
                      bin_sums *out)
{
    lanes l;
    size_t k = 0, full = s->bins / LANES * LANES;

    magnitudes(p, mag, s->bins);
    memset(chunk, 0, sizeof *chunk * s->chunks);
    lanes_init(&l);
    for (; k < full; k += CHUNK) {
        size_t n = full - k < CHUNK ? full - k : CHUNK;

        chunk[k / CHUNK] = lanes_run(&l, p, mag, k, n);
    }
    k = full;
    *out = (bin_sums){0};
    for (int j = 0; j < LANES; j++) {
        out->mag += l.mag[j];
        out->fmag += l.kmag[j];
        out->thr += l.thr[j];
        out->log2p += (double)l.exp2sum[j] + log2((double)l.prod[j]);
    }
    for (; k < s->bins; k++) {
        float v = p[k], t = v > FLAT_AMIN ? v : FLAT_AMIN;

        chunk[k / CHUNK] += mag[k];
        out->mag += mag[k];
        out->fmag += (double)k * mag[k];
        out->thr += t;
        out->log2p += log2((double)t);
    }
    out->fmag *= s->df;
}

/* --- contrast: the q smallest and largest values of a band --------------- */

/* q == 1: the band's minimum and maximum. */
static void extremes_one(const float *restrict v, size_t n, double *lo, double *hi)
{
    float mn = v[0], mx = v[0];

    for (size_t i = 1; i < n; i++) {
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    *lo = mn;
    *hi = mx;
}

/*
 * Four lanes of floats. The SSE2 and portable versions pick the same
 * elements (min is a < b ? a : b, max a > b ? a : b, as minps and maxps do),
 * so both give the same bits.
 */
#if defined(__SSE2__)
typedef __m128 quad;
#define quad_load(p) _mm_loadu_ps(p)
#define quad_store(p, a) _mm_storeu_ps((p), (a))
#define quad_set1(x) _mm_set1_ps(x)
#define quad_min(a, b) _mm_min_ps((a), (b))
#define quad_max(a, b) _mm_max_ps((a), (b))
#else
typedef struct quad {
    float v[4];
} quad;

static inline quad quad_load(const float *p)
{
    return (quad){{p[0], p[1], p[2], p[3]}};
}

static inline void quad_store(float *p, quad a)
{
    memcpy(p, a.v, sizeof a.v);
}

static inline quad quad_set1(float x)
{
    return (quad){{x, x, x, x}};
}

static inline quad quad_min(quad a, quad b)
{
    for (int j = 0; j < 4; j++)
        a.v[j] = a.v[j] < b.v[j] ? a.v[j] : b.v[j];
    return a;
}

static inline quad quad_max(quad a, quad b)
{
    for (int j = 0; j < 4; j++)
        a.v[j] = a.v[j] > b.v[j] ? a.v[j] : b.v[j];
    return a;
}
#endif

/* Passes x through lo[] (each lane's q smallest, ascending) and y through hi[] (q largest). */
static inline void quad_keep(quad *lo, quad *hi, size_t q, quad x, quad y)
{
    for (size_t r = 0; r < q; r++) {
        quad a = quad_min(lo[r], x), b = quad_max(hi[r], y);

        x = quad_max(lo[r], x);
        y = quad_min(hi[r], y);
        lo[r] = a;
        hi[r] = b;
    }
}

/*
 * Sum of the q first of four sorted lane lists merged (sign 1: ascending
 * lists; -1: descending, merged negated). Written so the pick of the least
 * of the four heads compiles to selects, not branches.
 */
static double merge_lanes(const quad *lists, size_t q, float sign)
{
    float v[4][QUAD_Q_MAX + 1], tmp[4];
    size_t head[4] = {0, 0, 0, 0};
    double sum = 0.0;

    for (size_t r = 0; r < q; r++) {
        quad_store(tmp, lists[r]);
        for (size_t j = 0; j < 4; j++)
            v[j][r] = sign * tmp[j];
    }
    for (size_t j = 0; j < 4; j++)
        v[j][q] = INFINITY; /* a spent lane is never picked */
    for (size_t k = 0; k < q; k++) {
        float h0 = v[0][head[0]], h1 = v[1][head[1]], h2 = v[2][head[2]], h3 = v[3][head[3]];
        float ha = h1 < h0 ? h1 : h0, hb = h3 < h2 ? h3 : h2;
        size_t a = h1 < h0 ? 1 : 0, b = h3 < h2 ? 3 : 2;

        sum += hb < ha ? hb : ha;
        head[hb < ha ? b : a]++;
    }
    return sign * sum;
}

/*
 * 1 < q <= QUAD_Q_MAX: sums of the q smallest and q largest, branch-free.
 * Each of four lanes keeps its own q extremes in registers sorted by a
 * compare-exchange chain; the overall q smallest are among the lanes' q
 * smallest, so a 4-way merge of the lanes finishes it. n x q / 4 steps.
 */
static void extremes_lanes(const float *v, size_t n, size_t q, double *lo_sum, double *hi_sum)
{
    quad lo[QUAD_Q_MAX], hi[QUAD_Q_MAX];
    size_t i = 0;

    for (size_t r = 0; r < q; r++) {
        lo[r] = quad_set1(INFINITY);
        hi[r] = quad_set1(-INFINITY);
    }
    for (; i + 4 <= n; i += 4)
        quad_keep(lo, hi, q, quad_load(v + i), quad_load(v + i));
    for (; i < n; i++) { /* the last few, each in lane 0 alone */
        float pad_lo[4] = {v[i], INFINITY, INFINITY, INFINITY};
        float pad_hi[4] = {v[i], -INFINITY, -INFINITY, -INFINITY};

        quad_keep(lo, hi, q, quad_load(pad_lo), quad_load(pad_hi));
    }
    *lo_sum = merge_lanes(lo, q, 1.0f);
    *hi_sum = merge_lanes(hi, q, -1.0f);
}

static void swap_floats(float *a, float *b)
{
    float t = *a;

    *a = *b;
    *b = t;
}

/* Reorders a[0..n) so that a[k] is its k-th smallest, smaller ones before, larger after. */
static void select_kth(float *a, ptrdiff_t n, ptrdiff_t k)
{
    ptrdiff_t lo = 0, hi = n - 1;

    while (hi > lo) {
        ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
        float x = a[lo], y = a[mid], z = a[hi];
        float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));

        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j)
                swap_floats(&a[i++], &a[j--]);
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return;
    }
}

/* q > QUAD_Q_MAX: the same sums by two selections on a copy in `sel`. */
static void extremes_select(const float *v, size_t n, size_t q, float *sel, double *lo_sum,
                            double *hi_sum)
{
    memcpy(sel, v, sizeof *sel * n);
    select_kth(sel, (ptrdiff_t)n, (ptrdiff_t)q - 1);
    *lo_sum = *hi_sum = 0.0;
    for (size_t i = 0; i < q; i++)
        *lo_sum += sel[i];
    select_kth(sel, (ptrdiff_t)n, (ptrdiff_t)(n - q));
    for (size_t i = n - q; i < n; i++)
        *hi_sum += sel[i];
}

static float band_contrast(const float *v, size_t n, size_t q, float *sel)
{
    double lo, hi;

    if (q == 1)
        extremes_one(v, n, &lo, &hi);
    else if (q <= QUAD_Q_MAX)
        extremes_lanes(v, n, q, &lo, &hi);
    else
        extremes_select(v, n, q, sel, &lo, &hi);
    lo /= (double)q;
    hi /= (double)q;
    return (float)(10.0 * log10((hi > DB_AMIN ? hi : DB_AMIN) / (lo > DB_AMIN ? lo : DB_AMIN)));
}

/* --- the features ------------------------------------------------------- */

static float bandwidth(const disco_spectral *s, const float *restrict mag, double centroid,
                       double total)
{
    float acc[LANES] = {0}, k[LANES], c = (float)(centroid / s->df);
    size_t i = 0, full = s->bins / LANES * LANES;
    double sum = 0.0;

    for (int j = 0; j < LANES; j++)
        k[j] = (float)j;
    for (; i < full; i += LANES)
        for (int j = 0; j < LANES; j++) {
            float d = k[j] - c;

            acc[j] += mag[i + (size_t)j] * d * d;
            k[j] += (float)LANES;
        }
    for (; i < s->bins; i++)
        sum += (double)mag[i] * ((double)i - c) * ((double)i - c);
    for (int j = 0; j < LANES; j++)
        sum += acc[j];
    return (float)(sqrt(sum / total) * s->df);
}

static float rolloff(const disco_spectral *s, const float *mag, const float *chunk, double total)
{
    double target = ROLL_PERCENT * total, cum = 0.0;
    size_t c = 0, k, end;

    if (!(total > 0.0))
        return 0.0f;
    while (c + 1 < s->chunks && cum + chunk[c] < target)
        cum += chunk[c++];
    end = c + 1 < s->chunks ? (c + 1) * CHUNK : s->bins;
    for (k = c * CHUNK; k < end; k++) {
        cum += mag[k];
        if (cum >= target)
            break;
    }
    if (k >= end)
        k = end - 1; /* rounding: the chunk sum reached the target, its bins not quite */
    return (float)((double)k * s->df);
}

void disco_spectral_apply(const disco_spectral *s, const float *power, float *scratch,
                          disco_spectral_frame *out)
{
    float *mag = scratch, *chunk = scratch + s->bins, *sel = chunk + s->chunks;
    bin_sums sums;
    double centroid = 0.0;

    bins_pass(s, power, mag, chunk, &sums);
    if (sums.mag > 0.0) {
        centroid = sums.fmag / sums.mag;
        out->bandwidth = bandwidth(s, mag, centroid, sums.mag);
    } else {
        out->bandwidth = 0.0f;
    }
    out->centroid = (float)centroid;
    out->rolloff = rolloff(s, mag, chunk, sums.mag);
    out->flatness = (float)(exp2(sums.log2p / (double)s->bins) / (sums.thr / (double)s->bins));
    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++)
        out->contrast[b] = band_contrast(mag + s->band_lo[b], s->band_len[b], s->band_q[b], sel);
}

/* --- time-domain frame features ----------------------------------------- */

float disco_zcr(const float *frame, size_t n)
{
    const float thr = -1e-10f; /* librosa zeroes |x| <= 1e-10, which then counts as positive */
    uint32_t lane[LANES] = {0};
    size_t i = 1, count = 0;

    if (n == 0)
        return 0.0f;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            lane[j] += (uint32_t)((frame[i + (size_t)j] < thr) != (frame[i + (size_t)j - 1] < thr));
    for (; i < n; i++)
        count += (size_t)((frame[i] < thr) != (frame[i - 1] < thr));
    for (int j = 0; j < LANES; j++)
        count += lane[j];
    return (float)((double)count / (double)n);
}

float disco_rms(const float *frame, size_t n)
{
    float acc[LANES] = {0};
    size_t i = 0;
    double sum = 0.0;

    if (n == 0)
        return 0.0f;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            acc[j] += frame[i + (size_t)j] * frame[i + (size_t)j];
    for (; i < n; i++)
        sum += (double)frame[i] * frame[i];
    for (int j = 0; j < LANES; j++)
        sum += acc[j];
    return (float)sqrt(sum / (double)n);
}
