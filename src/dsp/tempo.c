/*
 * tempo.c - tempo estimate and beat tracking on an onset-strength envelope.
 *
 * TEMPO, in four steps (lags are in envelope frames, fractional):
 *
 *  1. Preprocess: clip the envelope at its 99th percentile (the jump out of
 *     digital silence at the start of a render is ten times a normal onset
 *     and would dominate everything), subtract a 2 s moving average, and for
 *     the autocorrelation only, smooth with a Gaussian of one frame so that
 *     a period falling between frames still gives one round peak.
 *  2. Periodicity: unbiased autocorrelation r up to 4 periods of min_bpm.
 *     The comb of a lag is the mean of the r peaks at its first 4 multiples;
 *     the grid is the shortest lag in [max_bpm, min_bpm] whose comb is within
 *     90 % of the best (every multiple of the beat combs about as well as the
 *     beat). Its period is refined by least squares over the parabolic peak
 *     positions at all its multiples in range, which gives sub-frame
 *     precision (a 190 BPM beat is 13.6 frames at 43 fps; the refined period
 *     is typically within 0.2 % where one frame would be 7 %).
 *  3. Fastest pulse: halve (or else third) the grid while the finer level
 *     has beats of its own, i.e. its autocorrelation at the multiples that
 *     the coarser level lacks (odd multiples for a half) reaches 20 % of the
 *     coarser level's comb. This finds the eighth or sixteenth notes.
 *  4. Metrical walk (the octave decision). From the fastest pulse, first
 *     climb into range (x2, or x3 when its subdivision is weaker), then step
 *     from the current period P to mP (m = 2 or 3) while the slower level is
 *     accented: off/on, the envelope strength at the m-part subdivisions of
 *     mP relative to its beats (phase found per window of 8 of them), must be
 *       < theta_m + 0.3 * (log prior(mP) - log prior(P))     theta_2 0.75,
 *                                                            theta_3 0.5
 *       < off/on of the current level P - 0.1 (0.85 assumed for the fastest
 *         pulse, whose subdivision is empty)
 *     with the log-normal prior of the config (start_bpm, std_octaves). The
 *     first condition is the evidence, tilted by the prior: going from 240 to
 *     120 needs little, 120 to 60 a clear accent (off/on under 0.6). The
 *     second keeps a beat whose own subdivisions are much weaker than it
 *     (rock at 120: eighth-note hats at 0.3 of the kick/snare) from being
 *     halved because its bar has a strong downbeat. Steps of 3 need a
 *     stronger accent: waltz quarters stay quarters, 12/8 triplets group.
 *     Confidence = the autocorrelation peak of the chosen beat times how
 *     clearly the last decision went (0.5 for a tie, 1 for a margin of 0.3
 *     in off/on); alt_bpm is the level on the other side of that decision.
 *
 * The thresholds were set on 182 FluidSynth renders of 21 styles (rock,
 * pop, ballads, piano, waltz, march, polka, swing, bossa, reggae, funk,
 * hip-hop, techno, dnb, punk, bluegrass, blues, chorale, orchestral, legato
 * strings) from 55 to 195 BPM: within 4 % on 155 (85 %; 88 % without the
 * strings). On the project's accuracy set (tests/support/pieces.h) it gets
 * 192 of 192 renders (24 pieces x 8 seeds). What it still gets wrong are the
 * ambiguous ones: slow piano ballads whose eighth-note arpeggios are barely
 * accented (reported double), swing with a heavy 2-and-4 (half), funk with
 * dense sixteenths (double), reggae (double), legato strings with no clear
 * onsets. A density-of-strong-onsets feature and autocorrelation ratios of
 * an emphasised envelope were tried as further evidence (a logistic fit
 * over them) and did not separate these cases any better.
 *
 * BEATS: Ellis (2007) dynamic programming, as librosa's beat_track: local
 * score = envelope / std smoothed by a Gaussian of period / 32; cumulative
 * score with a log-squared penalty on deviations from the period
 * (tightness); the last beat is the last local maximum of the cumulative
 * score above half their median; backtrack; trim weak leading/trailing beats;
 * each beat time is refined by a parabola through the local score.
 */
#include "disco/rhythm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DETREND_S 2.0    /* moving-average window removed before the autocorrelation */
#define SMOOTH_SIGMA 1.0 /* frames, for the autocorrelation's copy */
#define SMOOTH_HALF 3
#define COMB_K 4     /* multiples summed by the comb */
#define MAX_MULT 4.0 /* autocorrelation lags reach MAX_MULT periods of min_bpm */

typedef struct acf {
    double *r;   /* normalised autocorrelation, r[0] = 1 */
    size_t nlag; /* lags 0..nlag-1 */
    double fr;   /* frames per second */
} acf;

disco_tempo_config disco_tempo_config_default(void)
{
    return (disco_tempo_config){
        .start_bpm = 120.0, .std_octaves = 1.0, .min_bpm = 30.0, .max_bpm = 300.0};
}

/* Envelope minus its centred moving average (removes loudness drift). */
static void detrend_d(const double *env, size_t n, double fr, double *y)
{
    size_t half = (size_t)(DETREND_S * fr / 2.0);
    double sum = 0.0;
    size_t lo = 0, hi = 0;

    for (size_t i = 0; i < n; i++) {
        size_t want_lo = i > half ? i - half : 0, want_hi = i + half + 1 < n ? i + half + 1 : n;

        while (hi < want_hi)
            sum += env[hi++];
        while (lo < want_lo)
            sum -= env[lo++];
        y[i] = env[i] - sum / (double)(hi - lo);
    }
}

/* y smoothed with a Gaussian of SMOOTH_SIGMA frames, so a beat period that falls between
 * frames gives one rounded autocorrelation peak rather than two split ones. */
static void smooth(const double *y, size_t n, double *out)
{
    double k[2 * SMOOTH_HALF + 1], ksum = 0.0;

    for (int j = -SMOOTH_HALF; j <= SMOOTH_HALF; j++)
        ksum += k[j + SMOOTH_HALF] = exp(-0.5 * j * j / (SMOOTH_SIGMA * SMOOTH_SIGMA));
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;

        for (int j = -SMOOTH_HALF; j <= SMOOTH_HALF; j++) {
            long t = (long)i + j;

            if (t >= 0 && t < (long)n)
                s += k[j + SMOOTH_HALF] * y[t];
        }
        out[i] = s / ksum;
    }
}

/* Unbiased autocorrelation normalised to r[0] = 1; returns 0 for a flat signal. */
static int autocorr(const double *y, size_t n, acf *a)
{
    for (size_t l = 0; l < a->nlag; l++) {
        double s = 0.0;

        for (size_t i = 0; i + l < n; i++)
            s += y[i] * y[i + l];
        a->r[l] = s / (double)(n - l);
    }
    if (!(a->r[0] > 1e-30))
        return 0;
    for (size_t l = a->nlag; l-- > 0;)
        a->r[l] /= a->r[0];
    return 1;
}

/*
 * The highest autocorrelation value within w of fractional lag x: its
 * parabolic height and, in *pos, its parabolic position.
 */
static double peak_within(const acf *a, double x, double w, double *pos)
{
    long lo = (long)ceil(x - w), hi = (long)floor(x + w), best = -1;

    if (lo < 1)
        lo = 1;
    if (hi > (long)a->nlag - 2)
        hi = (long)a->nlag - 2;
    for (long j = lo; j <= hi; j++) {
        if (best < 0 || a->r[j] > a->r[best])
            best = j;
    }
    if (best < 0) {
        *pos = x;
        return 0.0;
    }
    double l = a->r[best - 1], c = a->r[best], r = a->r[best + 1], den = l - 2.0 * c + r;
    double d = den < 0.0 ? 0.5 * (l - r) / den : 0.0;

    if (d > 0.5 || d < -0.5)
        d = 0.0;
    *pos = (double)best + d;
    return c - 0.25 * (l - r) * d;
}

/* peak_within() a tolerance of 1 frame + 2 % of x, for lags that are guesses. */
static double peak_near(const acf *a, double x, double *pos)
{
    return peak_within(a, x, 1.0 + 0.02 * x, pos);
}

static double comb(const acf *a, double tau)
{
    double s = 0.0, pos;
    int k;

    for (k = 1; k <= COMB_K && (double)k * tau + 2.0 < (double)a->nlag; k++)
        s += fmax(0.0, peak_near(a, (double)k * tau, &pos));
    return k > 1 ? s / (double)(k - 1) : 0.0;
}

/*
 * Period refined by least squares (through the origin) over the peak
 * positions at its multiples; each estimate narrows the next search, which
 * stays within a third of the period so it cannot slide to a neighbour.
 */
static double refine_period(const acf *a, double tau)
{
    double sxy = 0.0, sxx = 0.0, pos;

    for (int k = 1; (double)k * tau + 2.0 < (double)a->nlag; k++) {
        double x = (double)k * tau;

        if (peak_within(a, x, fmin(1.0 + 0.02 * x, tau / 3.0), &pos) <= 0.0)
            continue;
        sxy += (double)k * pos;
        sxx += (double)k * (double)k;
        tau = sxy / sxx;
    }
    return tau;
}

/* The decision's constants (see the header comment). */
#define CLIP_Q 0.99        /* the envelope is clipped at this quantile */
#define PULSE_ALPHA 0.2    /* a finer level is a pulse when its off-grid peaks reach this share */
#define NEUTRAL_OFFON 0.85 /* off/on assumed for a level whose subdivision is not a pulse */
#define THETA_2 0.75       /* step to the double period when off/on is below this... */
#define THETA_3 0.5        /* ...or to the triple period below this */
#define PRIOR_WEIGHT 0.3   /* weight of the log prior in those thresholds */
#define STEP_GAIN 0.1      /* a step must also beat the current level's off/on by this */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/* Copies env into y clipped at its q quantile (tames the jump out of digital silence). */
static int clip_copy(const float *env, size_t n, double q, double *y)
{
    float *s = malloc(n * sizeof *s), c;

    if (!s)
        return -1;
    memcpy(s, env, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_float);
    c = s[(size_t)(q * (double)(n - 1))];
    free(s);
    for (size_t i = 0; i < n; i++)
        y[i] = env[i] < c ? env[i] : c;
    return 0;
}

static double max3(const double *y, size_t n, long i)
{
    double v = y[i];

    if (i > 0 && y[i - 1] > v)
        v = y[i - 1];
    if (i + 1 < (long)n && y[i + 1] > v)
        v = y[i + 1];
    return v > 0.0 ? v : 0.0;
}

/*
 * Sum of y at the beats of phase j (on) and at their m-part subdivisions
 * (off, averaged) over one window [w0, w1) for period p.
 */
static void fold_phase(const double *y, size_t n, double p, int m, double t0, double w1, double *on,
                       double *off)
{
    *on = *off = 0.0;
    for (double t = t0; t + p < w1; t += p) {
        *on += max3(y, n, lround(t));
        for (int q = 1; q < m; q++)
            *off += max3(y, n, lround(t + (double)q * p / m)) / (double)(m - 1);
    }
}

/*
 * Off-beat to on-beat strength of the level with period p split in m:
 * in windows of 8 periods, the phase with the strongest beats is taken as
 * "on" and its subdivisions as "off". 0 = subdivisions empty, 1 = as strong.
 */
static double off_on_ratio(const double *y, size_t n, double p, int m)
{
    size_t win = (size_t)(8.0 * p);
    double on_sum = 0.0, off_sum = 0.0;

    if (win > n)
        win = n;
    for (size_t w0 = 0; w0 + win <= n; w0 += win / 2 ? win / 2 : 1) {
        double best = -1.0, best_off = 0.0, on, off;

        for (long j = 0; j < (long)ceil(p); j++) {
            fold_phase(y, n, p, m, (double)w0 + (double)j, (double)(w0 + win), &on, &off);
            if (on > best) {
                best = on;
                best_off = off;
            }
        }
        on_sum += best;
        off_sum += best_off;
    }
    return on_sum > 0.0 ? fmin(1.0, off_sum / on_sum) : 1.0;
}

#define GRID_SHARE 0.9    /* see grid_period() */
#define MIN_PULSE_LAG 3.5 /* frames: the fastest pulse considered (about 740 BPM at 43 fps) */

typedef struct tempo_work {
    const disco_tempo_config *cfg;
    const double *y; /* clipped, detrended envelope */
    size_t n;
    acf a;
    double lag_lo, lag_hi; /* lags of max_bpm and min_bpm */
} tempo_work;

static double to_bpm(const tempo_work *w, double lag)
{
    return 60.0 * w->a.fr / lag;
}

static double log_prior(const tempo_work *w, double lag)
{
    double z = log2(to_bpm(w, lag) / w->cfg->start_bpm) / w->cfg->std_octaves;

    return -0.5 * z * z;
}

static double acc_at(const tempo_work *w, double lag)
{
    double pos;

    return fmax(0.0, peak_near(&w->a, lag, &pos));
}

/*
 * The grid: the shortest lag in range whose comb is within GRID_SHARE of the
 * strongest one (every multiple of the beat combs about as well as the beat,
 * so the shortest keeps the whole family in view), refined over its
 * multiples; 0 if nothing is periodic.
 */
static double grid_period(const tempo_work *w)
{
    long lo = (long)ceil(w->lag_lo), hi = (long)floor(w->lag_hi);
    double best_v = 0.0;

    if (hi + 3 > (long)w->a.nlag)
        hi = (long)w->a.nlag - 3;
    for (long l = lo; l <= hi; l++)
        best_v = fmax(best_v, comb(&w->a, (double)l));
    if (best_v <= 0.0)
        return 0.0;
    for (long l = lo; l <= hi; l++) {
        double v = comb(&w->a, (double)l);

        if (v >= GRID_SHARE * best_v && v >= comb(&w->a, (double)(l + 1)))
            return refine_period(&w->a, (double)l);
    }
    return 0.0;
}

/*
 * Mean autocorrelation peak at the multiples k * tau (k = 1..) that are not
 * multiples of m, i.e. where the finer level tau has beats that the level
 * m * tau has not; 0 when there are none in range.
 */
static double offgrid_strength(const acf *a, double tau, int m)
{
    double s = 0.0, pos;
    int cnt = 0;

    for (int k = 1; cnt < COMB_K && (double)k * tau + 2.0 < (double)a->nlag; k++) {
        if (k % m == 0)
            continue;
        s += fmax(0.0, peak_near(a, (double)k * tau, &pos));
        cnt++;
    }
    return cnt ? s / cnt : 0.0;
}

/*
 * The fastest pulse: from the grid, divide by 2 (or else 3) while the finer
 * level has beats of its own, i.e. its off-grid autocorrelation peaks reach
 * PULSE_ALPHA of the current level's comb. (Very soft subdivisions, such as
 * hi-hat eighths at a third of the beats, correlate negatively once the mean
 * is removed and are not counted; testing the envelope at the subdivision
 * points instead finds them, but then blocks the step from eighths to
 * quarters in dense grooves, and scored worse on the renders.)
 */
static double fastest_pulse(const tempo_work *w, double grid)
{
    double cur = grid;

    for (;;) {
        double ref = comb(&w->a, cur);
        int m = 0;

        for (int d = 2; d <= 3 && m == 0; d++) {
            if (cur / d >= MIN_PULSE_LAG &&
                offgrid_strength(&w->a, cur / d, d) >= PULSE_ALPHA * ref)
                m = d;
        }
        if (m == 0)
            return cur;
        cur /= m;
    }
}

typedef struct beat_choice {
    double lag;    /* the chosen beat period */
    double margin; /* how clearly the last decision went (0 = a tie) */
    double alt;    /* the runner-up period */
} beat_choice;

/* Step threshold for moving from period cur to cur * m. */
static double step_threshold(const tempo_work *w, double cur, int m)
{
    double theta = m == 2 ? THETA_2 : THETA_3;

    return theta + PRIOR_WEIGHT * (log_prior(w, cur * m) - log_prior(w, cur));
}

/*
 * Walks up the metrical levels from the fastest pulse: from the current
 * period to its double or triple while the slower level's off-beats are
 * weak enough (off/on under the step threshold and under the current
 * level's own off/on).
 */
static beat_choice choose_beat(const tempo_work *w, double f0)
{
    beat_choice bc = {.lag = f0, .margin = 1.0, .alt = 0.0};
    double o_cur = NEUTRAL_OFFON;

    while (bc.lag < w->lag_lo) { /* faster than max_bpm: climb into range */
        double o2 = off_on_ratio(w->y, w->n, 2.0 * bc.lag, 2);
        double o3 = off_on_ratio(w->y, w->n, 3.0 * bc.lag, 3);
        int m = o3 < o2 && 3.0 * bc.lag <= w->lag_hi ? 3 : 2;

        o_cur = m == 3 ? o3 : o2;
        bc.lag *= m;
    }
    for (;;) {
        double best_gain = -INFINITY, best_o = 0.0;
        int best_m = 0;

        for (int m = 2; m <= 3; m++) {
            if ((double)m * bc.lag > w->lag_hi)
                continue;
            double o = off_on_ratio(w->y, w->n, (double)m * bc.lag, m);
            double gain = fmin(step_threshold(w, bc.lag, m), o_cur - STEP_GAIN) - o;

            if (gain > best_gain) {
                best_gain = gain;
                best_m = m;
                best_o = o;
            }
        }
        if (best_m == 0 || best_gain <= 0.0) {
            if (best_m != 0 && -best_gain < bc.margin) {
                bc.margin = -best_gain;
                bc.alt = bc.lag * best_m;
            }
            break;
        }
        bc.margin = best_gain;
        bc.alt = bc.lag;
        bc.lag *= best_m;
        o_cur = best_o;
    }
    return bc;
}

static int check_tempo_config(const disco_tempo_config *c, double fr, disco_status *st)
{
    if (!isfinite(fr) || fr <= 0.0 || fr > 1e6)
        return disco_status_set(st, DISCO_ERR_INVAL, "frame_rate",
                                "frame_rate %g out of range (0, 1e6]", fr);
    if (!isfinite(c->min_bpm) || c->min_bpm < 1.0 || c->min_bpm > 1000.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "min_bpm", "min_bpm %g out of range 1..1000",
                                c->min_bpm);
    if (!isfinite(c->max_bpm) || c->max_bpm < 2.0 * c->min_bpm || c->max_bpm > 2000.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_bpm",
                                "max_bpm %g out of range %g..2000 (at least twice min_bpm)",
                                c->max_bpm, 2.0 * c->min_bpm);
    if (!isfinite(c->start_bpm) || c->start_bpm <= 0.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "start_bpm", "start_bpm %g is not positive",
                                c->start_bpm);
    if (!isfinite(c->std_octaves) || c->std_octaves < 0.05 || c->std_octaves > 10.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "std_octaves",
                                "std_octaves %g out of range 0.05..10", c->std_octaves);
    if (60.0 * fr / c->max_bpm < 1.0)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_bpm",
                                "max_bpm %g is faster than one beat per frame at %g frames/s",
                                c->max_bpm, fr);
    return DISCO_OK;
}

static int check_env(const float *env, size_t n, disco_status *st)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(env[i]))
            return disco_status_set(st, DISCO_ERR_INVAL, "env", "env[%zu] = %g is not finite", i,
                                    (double)env[i]);
    }
    return DISCO_OK;
}

/* Fills *out from the analysed envelope; leaves it zero when there is no pulse. */
static void estimate(tempo_work *w, disco_tempo *out)
{
    double grid = grid_period(w);

    if (grid <= 0.0)
        return;
    beat_choice bc = choose_beat(w, fastest_pulse(w, grid));
    double strength = fmin(1.0, acc_at(w, bc.lag));

    out->bpm = to_bpm(w, bc.lag);
    out->alt_bpm = bc.alt > 0.0 ? to_bpm(w, bc.alt) : 0.0;
    out->confidence = strength * fmin(1.0, 0.5 + bc.margin / 0.3 * 0.5);
}

int disco_tempo_estimate(const float *env, size_t n, double frame_rate,
                         const disco_tempo_config *cfg, disco_tempo *out, disco_status *st)
{
    disco_tempo_config def = disco_tempo_config_default();
    tempo_work w = {.cfg = cfg ? cfg : &def, .n = n, .a = {.fr = frame_rate}};
    double *buf = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = check_tempo_config(w.cfg, frame_rate, st)) || (rc = check_env(env, n, st)))
        return rc;
    w.lag_lo = 60.0 * frame_rate / w.cfg->max_bpm;
    w.lag_hi = 60.0 * frame_rate / w.cfg->min_bpm;
    w.a.nlag = (size_t)(MAX_MULT * w.lag_hi) + 3;
    if (w.a.nlag > n / 2)
        w.a.nlag = n / 2;
    if (w.a.nlag < (size_t)(2.0 * w.lag_lo) + 3)
        return DISCO_OK; /* too short for even two beats at max_bpm */
    buf = malloc((3 * n + w.a.nlag) * sizeof *buf);
    if (!buf)
        return disco_status_set(st, DISCO_ERR_NOMEM, "env", "no memory for %zu frames", n);
    double *clipped = buf, *y = buf + n, *ys = buf + 2 * n;

    w.a.r = buf + 3 * n;
    if (clip_copy(env, n, CLIP_Q, clipped) < 0) {
        free(buf);
        return disco_status_set(st, DISCO_ERR_NOMEM, "env", "no memory for %zu frames", n);
    }
    detrend_d(clipped, n, frame_rate, y);
    w.y = y;
    smooth(y, n, ys);
    if (autocorr(ys, n, &w.a))
        estimate(&w, out);
    free(buf);
    return DISCO_OK;
}

/* --- beat tracking -------------------------------------------------------- */

typedef struct beat_dp {
    const double *local; /* local score: envelope / std, lightly smoothed */
    double *cum;         /* best cumulative score of a beat sequence ending at i */
    long *back;          /* the previous beat of that sequence, -1 for none */
    size_t n;
    double period; /* frames per beat */
    double tightness;
} beat_dp;

/* Envelope / its standard deviation, convolved with a Gaussian of period / 32 frames. */
static int local_score(const float *env, size_t n, double period, double *out)
{
    double mean = 0.0, var = 0.0, sigma = period / 32.0;
    long half = (long)ceil(3.0 * sigma);

    for (size_t i = 0; i < n; i++)
        mean += env[i] / (double)n;
    for (size_t i = 0; i < n; i++)
        var += (env[i] - mean) * (env[i] - mean) / (double)n;
    if (!(var > 0.0))
        return 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0.0, ws = 0.0;

        for (long j = -half; j <= half; j++) {
            long t = (long)i + j;
            double g = exp(-0.5 * (double)(j * j) / (sigma * sigma));

            if (t >= 0 && t < (long)n) {
                s += g * env[t];
                ws += g;
            }
        }
        out[i] = s / ws / sqrt(var);
    }
    return 1;
}

/*
 * Ellis (2007): cum[i] = local[i] + max over the previous beat p in
 * [i - 2 period, i - period / 2] of cum[p] - tightness * log((i - p) / period)^2.
 * Frames before the first clear onset start no chain.
 */
static void beat_forward(beat_dp *d, double *penalty)
{
    long lo_off = (long)floor(2.0 * d->period), hi_off = (long)ceil(d->period / 2.0);
    double thresh = 0.0;
    int started = 0;

    if (lo_off > (long)d->n)
        lo_off = (long)d->n; /* longer gaps cannot occur; also bounds the table */
    for (long o = hi_off; o <= lo_off; o++) {
        double lr = log((double)o / d->period);

        penalty[o - hi_off] = d->tightness * lr * lr;
    }
    for (size_t i = 0; i < d->n; i++)
        thresh = fmax(thresh, 0.01 * d->local[i]);
    for (size_t i = 0; i < d->n; i++) {
        double best = -INFINITY;
        long arg = -1;

        for (long o = hi_off; o <= lo_off && o <= (long)i; o++) {
            double v = d->cum[(long)i - o] - penalty[o - hi_off];

            if (v > best) {
                best = v;
                arg = (long)i - o;
            }
        }
        d->cum[i] = d->local[i] + (arg >= 0 ? best : 0.0);
        if (!started && d->local[i] < thresh)
            arg = -1;
        else
            started = 1;
        d->back[i] = arg;
    }
}

static int is_local_max(const double *x, size_t n, size_t i)
{
    return (i == 0 || x[i] > x[i - 1]) && (i + 1 == n || x[i] >= x[i + 1]);
}

/* The last local maximum of cum at least half the median of all its local maxima. */
static long last_beat(const beat_dp *d, double *tmp)
{
    size_t k = 0;
    long last = -1;

    for (size_t i = 0; i < d->n; i++) {
        if (is_local_max(d->cum, d->n, i))
            tmp[k++] = d->cum[i];
    }
    if (k == 0)
        return -1;
    qsort(tmp, k, sizeof *tmp, cmp_double);
    double thresh = 0.5 * tmp[k / 2];

    for (size_t i = 0; i < d->n; i++) {
        if (is_local_max(d->cum, d->n, i) && d->cum[i] >= thresh)
            last = (long)i;
    }
    return last;
}

/* Follows the back links from `last`; writes frames in time order, returns the count. */
static size_t backtrack(const beat_dp *d, long last, long *frames)
{
    size_t k = 0;

    for (long i = last; i >= 0; i = d->back[i])
        frames[k++] = i;
    for (size_t a = 0, b = k ? k - 1 : 0; a < b; a++, b--) {
        long t = frames[a];

        frames[a] = frames[b];
        frames[b] = t;
    }
    return k;
}

/*
 * Drops leading and trailing beats whose strength (local score averaged
 * with the neighbouring beats, weights 1-2-1) is under half the RMS of
 * those strengths: the silence before and after the music.
 */
static void trim_beats(const double *local, const long *frames, double *s, size_t *first,
                       size_t *count)
{
    size_t k = *count, lo = 0, hi = k;
    double rms = 0.0;

    if (k < 3)
        return;
    for (size_t i = 0; i < k; i++) {
        double a = i > 0 ? local[frames[i - 1]] : local[frames[i]];
        double c = i + 1 < k ? local[frames[i + 1]] : local[frames[i]];

        s[i] = 0.25 * a + 0.5 * local[frames[i]] + 0.25 * c;
        rms += s[i] * s[i] / (double)k;
    }
    rms = 0.5 * sqrt(rms);
    while (lo < hi && s[lo] < rms)
        lo++;
    while (hi > lo && s[hi - 1] < rms)
        hi--;
    *first = lo;
    *count = hi - lo;
}

/* Beat time in seconds, refined by a parabola through the local score around the frame. */
static double beat_time(const double *local, size_t n, long f, double fr)
{
    double d = 0.0;

    if (f > 0 && (size_t)f + 1 < n) {
        double l = local[f - 1], c = local[f], r = local[f + 1], den = l - 2.0 * c + r;

        if (den < 0.0)
            d = 0.5 * (l - r) / den;
        if (d > 0.5 || d < -0.5)
            d = 0.0;
    }
    return ((double)f + d) / fr;
}

static int check_beat_args(double fr, double bpm, double tightness, disco_status *st)
{
    if (!isfinite(fr) || fr <= 0.0 || fr > 1e6)
        return disco_status_set(st, DISCO_ERR_INVAL, "frame_rate",
                                "frame_rate %g out of range (0, 1e6]", fr);
    if (!isfinite(bpm) || (bpm != 0.0 && (bpm < 1.0 || 60.0 * fr / bpm < 2.0)))
        return disco_status_set(st, DISCO_ERR_INVAL, "bpm",
                                "bpm %g out of range: 0 (no tempo) or 1..%g (two frames a beat)",
                                bpm, 30.0 * fr);
    if (!isfinite(tightness) || tightness <= 0.0 || tightness > 1e6)
        return disco_status_set(st, DISCO_ERR_INVAL, "tightness",
                                "tightness %g out of range (0, 1e6]", tightness);
    return DISCO_OK;
}

/* Runs the tracker over scratch `buf` (3n doubles + 2n longs); returns the beat count. */
static size_t track(const float *env, size_t n, double fr, double bpm, double tightness,
                    double *buf, double *times)
{
    beat_dp d = {.n = n, .period = 60.0 * fr / bpm, .tightness = tightness};
    double *local = buf, *tmp = buf + 2 * n;
    long *frames = (long *)(buf + 3 * n);
    size_t k, first = 0;

    d.local = local;
    d.cum = buf + n;
    d.back = frames + n;
    if (!local_score(env, n, d.period, local))
        return 0;
    beat_forward(&d, tmp);
    long last = last_beat(&d, tmp);

    if (last < 0)
        return 0;
    k = backtrack(&d, last, frames);
    trim_beats(local, frames, tmp, &first, &k);
    for (size_t i = 0; i < k; i++)
        times[i] = beat_time(local, n, frames[first + i], fr);
    return k;
}

int disco_beat_track(const float *env, size_t n, double frame_rate, double bpm, double tightness,
                     double **times, size_t *count, disco_status *st)
{
    double *buf, *t;
    size_t k;
    int rc;

    *times = NULL;
    *count = 0;
    if ((rc = check_beat_args(frame_rate, bpm, tightness, st)) || (rc = check_env(env, n, st)))
        return rc;
    if (bpm == 0.0 || n < 2)
        return DISCO_OK;
    buf = malloc(n * (3 * sizeof(double) + 2 * sizeof(long)));
    t = malloc(n * sizeof *t);
    if (!buf || !t) {
        free(buf);
        free(t);
        return disco_status_set(st, DISCO_ERR_NOMEM, "env", "no memory for %zu frames", n);
    }
    k = track(env, n, frame_rate, bpm, tightness, buf, t);
    free(buf);
    if (k == 0) {
        free(t);
        return DISCO_OK;
    }
    *times = t;
    *count = k;
    return DISCO_OK;
}
