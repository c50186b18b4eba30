/*
 * dynamics.c - the compressor, the 4x true-peak detector, and the
 * look-ahead true-peak limiter built on it.
 *
 * Compressor: a feed-forward design with the gain computer in the log
 * domain and a smooth branching peak detector on the gain reduction (the
 * "decoupled, log domain" topology). Level -> static curve -> reduction in
 * dB -> attack/release one-pole -> linear gain. The log and exp are skipped
 * below the knee and while no reduction is pending.
 *
 * Limiter (see effects.h and fx_int.h for the timing):
 *
 *   in --> detector: max |x|, 4x polyphase --> r = min(1, ceiling / peak)
 *     |        running minimum over A + 11 --> release (one-pole up, instant down)
 *     |        --> moving average over A --> g
 *     +--> delay line (A + 10 frames) ----------------------> x * g --> out
 *
 * The minimum covers a peak's whole interpolator span plus the average's
 * length, so g has reached, and holds flat, the needed gain over every
 * sample an inter-sample point is built from.
 */
#include "disco/effects.h"

#include "fx_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DB_PER_LOG2 6.020599913279624 /* 20 log10(2) */

/* --- compressor ---------------------------------------------------------- */

struct disco_compressor {
    disco_compressor_config cfg;
    int channels;
    double att, rel; /* one-pole coefficients of the reduction smoother */
    double rms_a;    /* one-pole coefficient of the mean square */
    double ms;       /* mean-square state (RMS detector) */
    double red;      /* smoothed reduction, dB >= 0 */
    double makeup;   /* linear */
    double knee_lo;  /* detector value below which the curve is flat (|x| or x^2) */
    double max_red;
};

disco_compressor_config disco_compressor_config_default(void)
{
    return (disco_compressor_config){.threshold_db = -18.0,
                                     .ratio = 4.0,
                                     .knee_db = 6.0,
                                     .attack_ms = 10.0,
                                     .release_ms = 150.0,
                                     .makeup_db = 0.0,
                                     .detector = DISCO_DETECT_PEAK,
                                     .rms_ms = 10.0};
}

int disco_compressor_config_check(const disco_compressor_config *c, disco_status *st)
{
    int rc;

    if ((rc = disco__fx_range(c->threshold_db, -80.0, 0.0, "threshold_db", st)) ||
        (rc = disco__fx_range(c->ratio, 1.0, 100.0, "ratio", st)) ||
        (rc = disco__fx_range(c->knee_db, 0.0, 24.0, "knee_db", st)) ||
        (rc = disco__fx_range(c->attack_ms, 0.0, 1000.0, "attack_ms", st)) ||
        (rc = disco__fx_range(c->release_ms, 1.0, 5000.0, "release_ms", st)) ||
        (rc = disco__fx_range(c->makeup_db, -24.0, 48.0, "makeup_db", st)) ||
        (rc = disco__fx_range(c->rms_ms, 1.0, 1000.0, "rms_ms", st)))
        return rc;
    if (c->detector != DISCO_DETECT_PEAK && c->detector != DISCO_DETECT_RMS)
        return disco_status_set(st, DISCO_ERR_INVAL, "detector",
                                "detector: %d is neither peak (0) nor rms (1)", c->detector);
    return DISCO_OK;
}

double disco_compressor_curve_db(const disco_compressor_config *cfg, double level_db)
{
    double d = level_db - cfg->threshold_db, w = cfg->knee_db, slope = 1.0 / cfg->ratio - 1.0;

    if (2.0 * d <= -w)
        return 0.0;
    if (w > 0.0 && 2.0 * d < w)
        return slope * (d + w / 2.0) * (d + w / 2.0) / (2.0 * w);
    return slope * d;
}

/* exp(-1 / (ms * rate / 1000)); 0 for an instant time constant. */
static double one_pole(double ms, double rate)
{
    return ms > 0.0 ? exp(-1000.0 / (ms * rate)) : 0.0;
}

int disco_compressor_new(const disco_compressor_config *cfg, int channels, double rate,
                         disco_compressor **out, disco_status *st)
{
    disco_compressor *c;
    int rc = disco_compressor_config_check(cfg, st);

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    if ((rc = disco__fx_signal(channels, rate, st)))
        return rc;
    if (!(c = calloc(1, sizeof *c)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "compressor", "compressor: out of memory");
    c->cfg = *cfg;
    c->channels = channels;
    c->att = one_pole(cfg->attack_ms, rate);
    c->rel = one_pole(cfg->release_ms, rate);
    c->rms_a = one_pole(cfg->rms_ms, rate);
    c->makeup = pow(10.0, cfg->makeup_db / 20.0);
    c->knee_lo = pow(10.0, (cfg->threshold_db - cfg->knee_db / 2.0) / 20.0);
    if (cfg->detector == DISCO_DETECT_RMS)
        c->knee_lo *= c->knee_lo;
    *out = c;
    return DISCO_OK;
}

/* The detector value of one frame: max |x| (peak) or the smoothed mean square (RMS). */
static double detect(disco_compressor *c, const float *f)
{
    double v = 0.0;

    if (c->cfg.detector == DISCO_DETECT_PEAK) {
        for (int ch = 0; ch < c->channels; ch++) {
            double a = fabs((double)f[ch]);

            v = a > v ? a : v;
        }
        return v;
    }
    for (int ch = 0; ch < c->channels; ch++)
        v += (double)f[ch] * f[ch];
    c->ms = c->rms_a * c->ms + (1.0 - c->rms_a) * v / c->channels;
    return c->ms;
}

void disco_compressor_process(disco_compressor *c, float *x, size_t frames)
{
    const size_t C = (size_t)c->channels;
    const double lvl_scale = c->cfg.detector == DISCO_DETECT_RMS ? DB_PER_LOG2 / 2 : DB_PER_LOG2;

    for (size_t i = 0; i < frames; i++) {
        float *f = x + i * C;
        double v = detect(c, f), want = 0.0, g;

        if (v > c->knee_lo)
            want = -disco_compressor_curve_db(&c->cfg, lvl_scale * log2(v));
        if (want > c->red)
            c->red = c->att * c->red + (1.0 - c->att) * want;
        else
            c->red = c->rel * c->red + (1.0 - c->rel) * want;
        if (c->red < 1e-9) {
            c->red = 0.0;
            g = c->makeup;
        } else if (c->red < 0.01) { /* 10^(-x/20) to first order: error < 1e-6 */
            g = c->makeup * (1.0 - c->red * (M_LN10 / 20.0));
        } else {
            g = c->makeup * exp2(-c->red / DB_PER_LOG2);
            if (c->red > c->max_red)
                c->max_red = c->red;
        }
        for (size_t ch = 0; ch < C; ch++)
            f[ch] = (float)(f[ch] * g);
    }
}

double disco_compressor_max_reduction_db(const disco_compressor *c)
{
    return c->max_red;
}

void disco_compressor_free(disco_compressor *c)
{
    free(c);
}

/* --- 4x true-peak detector ----------------------------------------------- */

#define HIST (DISCO__TP_TAPS - 1) /* frames of history kept before each block */
#define HALF (DISCO__TP_TAPS / 2)

/*
 * Phase p (1..3) interpolates the point p/4 after frame m from frames
 * m - 5 .. m + 6: tap k sits at distance tau = p/4 + 5 - k. A sinc under a
 * Hann window spanning +-6 frames: the 49-tap, 4x interpolator of
 * libebur128 (BS.1770-4 Annex 2 sized), deliberately, so that the limiter
 * holds the peaks that meter reads. Not renormalised, as there.
 */
static void tp_design(float h[3][DISCO__TP_TAPS])
{
    for (int p = 1; p <= 3; p++) {
        for (int k = 0; k < DISCO__TP_TAPS; k++) {
            double tau = p / 4.0 + (HALF - 1) - k;

            h[p - 1][k] =
                (float)(sin(M_PI * tau) / (M_PI * tau) * 0.5 * (1.0 + cos(M_PI * tau / HALF)));
        }
    }
}

/*
 * The detector kernel on 8 frames at a time with generic vectors (GCC and
 * Clang lower them to whatever the target has). One body, compiled twice:
 * portable (SSE2 on x86-64) and, chosen at run time, AVX2. Both do the
 * same float operations in the same order, so they agree bit for bit.
 * Vectors travel by pointer only (no 32-byte vector ABI without AVX).
 */
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

/* *acc = the larger in magnitude of |*acc| and |*x| (both made non-negative). */
static inline __attribute__((always_inline)) void v8_max_abs(v8f *acc, const v8f *x)
{
    const v8i mag = (v8i){0, 0, 0, 0, 0, 0, 0, 0} + 0x7fffffff;
    v8i ai = (v8i)*acc & mag, bi = (v8i)*x & mag, gt = ai > bi; /* ordered as integers */

    *acc = (v8f)((ai & gt) | (bi & ~gt));
}

/* m[j] = max(m[j], |b[j+7]|, |phases|) for j < n rounded up to 8 (b and m have room). */
static inline __attribute__((always_inline)) void
tp_kernel_body(const float *h, const float *restrict b, size_t n, float *restrict m)
{
    for (size_t j = 0; j < n; j += 8) {
        v8f a1 = {0}, a2 = {0}, a3 = {0}, x;

        for (size_t k = 0; k < DISCO__TP_TAPS; k++) {
            memcpy(&x, b + j + k, sizeof x);
            a1 += h[k] * x;
            a2 += h[DISCO__TP_TAPS + k] * x;
            a3 += h[2 * DISCO__TP_TAPS + k] * x;
        }
        memcpy(&x, b + j + DISCO__TP_TAPS / 2 - 1, sizeof x);
        v8_max_abs(&a1, &a2);
        v8_max_abs(&a1, &a3);
        v8_max_abs(&a1, &x);
        memcpy(&x, m + j, sizeof x);
        v8_max_abs(&a1, &x);
        memcpy(m + j, &a1, sizeof a1);
    }
}

static void tp_kernel_portable(const float *h, const float *restrict b, size_t n, float *restrict m)
{
    tp_kernel_body(h, b, n, m);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void tp_kernel_avx2(const float *h, const float *restrict b,
                                                           size_t n, float *restrict m)
{
    tp_kernel_body(h, b, n, m);
}
#endif

int disco__tpdet_init(disco__tpdet *d, int channels, disco_status *st)
{
    memset(d, 0, sizeof *d);
    if (channels < 1 || channels > DISCO_AUDIO_MAX_CHANNELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "channels", "channels: %d out of range 1..%d",
                                channels, DISCO_AUDIO_MAX_CHANNELS);
    d->channels = channels;
    d->hist = calloc((size_t)channels * (HIST + DISCO__TP_BLOCK), sizeof *d->hist);
    if (!d->hist)
        return disco_status_set(st, DISCO_ERR_NOMEM, "limiter", "limiter: out of memory");
    tp_design(d->h);
    d->kernel = tp_kernel_portable;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        d->kernel = tp_kernel_avx2;
#endif
    return DISCO_OK;
}

void disco__tpdet_reset(disco__tpdet *d)
{
    memset(d->hist, 0, (size_t)d->channels * (HIST + DISCO__TP_BLOCK) * sizeof *d->hist);
}

void disco__tpdet_release(disco__tpdet *d)
{
    free(d->hist);
    d->hist = NULL;
}

void disco__tpdet_use_portable(disco__tpdet *d)
{
    d->kernel = tp_kernel_portable;
}

/* Deinterleaves channel c into its history after the HIST frames kept from the last call. */
void disco__tpdet_run(disco__tpdet *d, const float *x, size_t frames, float *det)
{
    const size_t C = (size_t)d->channels, stride = HIST + DISCO__TP_BLOCK;
    float m[DISCO__TP_BLOCK];

    memset(m, 0, sizeof m);
    for (size_t c = 0; c < C; c++) {
        float *b = d->hist + c * stride;

        for (size_t j = 0; j < frames; j++)
            b[HIST + j] = x[j * C + c];
        d->kernel(&d->h[0][0], b, frames, m);
        memmove(b, b + frames, HIST * sizeof *b);
    }
    memcpy(det, m, frames * sizeof *det);
}

int disco__tp_detect(const float *x, size_t frames, int channels, float *det, disco_status *st)
{
    static const float zeros[DISCO__TP_LAG * DISCO_AUDIO_MAX_CHANNELS];
    disco__tpdet d;
    int rc = disco__tpdet_init(&d, channels, st);

    if (rc != DISCO_OK)
        return rc;
    for (size_t s = 0; s < frames; s += DISCO__TP_BLOCK) {
        size_t n = frames - s < DISCO__TP_BLOCK ? frames - s : DISCO__TP_BLOCK;

        disco__tpdet_run(&d, x + s * (size_t)channels, n, det + s);
    }
    disco__tpdet_run(&d, zeros, DISCO__TP_LAG, det + frames);
    disco__tpdet_release(&d);
    return DISCO_OK;
}

int disco_true_peak(const float *x, size_t frames, int channels, double *dbtp, disco_status *st)
{
    float det[DISCO__TP_BLOCK], peak = 0.0f;
    static const float zeros[DISCO__TP_LAG * DISCO_AUDIO_MAX_CHANNELS];
    disco__tpdet d;
    int rc = disco__tpdet_init(&d, channels, st);

    if (rc != DISCO_OK)
        return rc;
    for (size_t s = 0, n; s < frames + DISCO__TP_LAG; s += n) {
        if (s < frames) {
            n = frames - s < DISCO__TP_BLOCK ? frames - s : DISCO__TP_BLOCK;
            disco__tpdet_run(&d, x + s * (size_t)channels, n, det);
        } else {
            n = DISCO__TP_LAG;
            disco__tpdet_run(&d, zeros, n, det);
        }
        for (size_t j = 0; j < n; j++)
            peak = det[j] > peak ? det[j] : peak;
    }
    disco__tpdet_release(&d);
    *dbtp = peak > 0.0f ? 20.0 * log10(peak) : -HUGE_VAL;
    return DISCO_OK;
}

/* --- gain computer ------------------------------------------------------- */

/*
 * The running minimum is van Herk / Gil-Werman's: the stream is cut into
 * blocks of `win`; the minimum of the last `win` values is the smaller of
 * the running minimum of the current block so far and the suffix minimum of
 * the previous block from the same position on. Suffixes are computed once
 * per block, so a push costs two min operations and no branches that
 * depend on the data.
 */
int disco__gaincomp_init(disco__gaincomp *g, size_t box, double release_frames, disco_status *st)
{
    memset(g, 0, sizeof *g);
    g->box = box < 1 ? 1 : box;
    g->win = g->box + DISCO__TP_TAPS - 1;
    g->rel = (float)(1.0 - exp(-1.0 / (release_frames > 1.0 ? release_frames : 1.0)));
    g->inv_box = 1.0 / (double)g->box;
    g->blk = malloc(g->win * sizeof *g->blk);
    g->suf = malloc((g->win + 1) * sizeof *g->suf);
    g->ring = malloc(g->box * sizeof *g->ring);
    if (!g->blk || !g->suf || !g->ring) {
        disco__gaincomp_release(g);
        return disco_status_set(st, DISCO_ERR_NOMEM, "limiter", "limiter: out of memory");
    }
    disco__gaincomp_reset(g);
    return DISCO_OK;
}

void disco__gaincomp_reset(disco__gaincomp *g)
{
    for (size_t i = 0; i <= g->win; i++)
        g->suf[i] = 1.0f;
    g->pos = 0;
    g->pre = 1.0f;
    g->env = 1.0f;
    for (size_t i = 0; i < g->box; i++)
        g->ring[i] = 1.0f;
    g->ring_pos = 0;
    g->sum = (double)g->box;
    g->min_gain = 1.0f;
}

void disco__gaincomp_release(disco__gaincomp *g)
{
    free(g->blk);
    free(g->suf);
    free(g->ring);
    g->blk = g->suf = g->ring = NULL;
}

/* Minimum of the last `win` pushes. */
static inline float running_min(disco__gaincomp *g, float r)
{
    size_t i = g->pos;
    float q;

    g->blk[i] = r;
    g->pre = i == 0 || r < g->pre ? r : g->pre;
    q = g->suf[i + 1] < g->pre ? g->suf[i + 1] : g->pre;
    if (++g->pos == g->win) {
        g->pos = 0;
        for (size_t j = g->win; j-- > 0;)
            g->suf[j] = g->blk[j] < g->suf[j + 1] ? g->blk[j] : g->suf[j + 1];
    }
    return q;
}

float disco__gaincomp_push(disco__gaincomp *g, float r)
{
    float q = running_min(g, r), env, out;

    /* Idle (nothing held, released or averaged): the state only ages. */
    if (q >= 1.0f && g->env >= 1.0f && g->sum == (double)g->box) {
        if (++g->ring_pos == g->box)
            g->ring_pos = 0;
        return 1.0f;
    }
    env = g->env + (1.0f - g->env) * g->rel;
    g->env = env = q < env ? q : env;
    g->sum += (double)env - (double)g->ring[g->ring_pos];
    g->ring[g->ring_pos] = env;
    if (++g->ring_pos == g->box)
        g->ring_pos = 0;
    out = (float)(g->sum * g->inv_box);
    if (out > 1.0f)
        out = 1.0f;
    if (out < g->min_gain)
        g->min_gain = out;
    return out;
}

/* --- limiter ------------------------------------------------------------- */

struct disco_limiter {
    int channels;
    float ceiling; /* linear, margin included */
    size_t latency;
    disco__tpdet det;
    disco__gaincomp gc;
    float *line; /* latency x channels, ring */
    size_t line_pos;
    float *scratch; /* DISCO__TP_BLOCK x channels, for disco_limiter_apply */
};

disco_limiter_config disco_limiter_config_default(void)
{
    return (disco_limiter_config){.ceiling_db = -1.0, .lookahead_ms = 5.0, .release_ms = 80.0};
}

int disco_limiter_config_check(const disco_limiter_config *c, disco_status *st)
{
    int rc;

    if ((rc = disco__fx_range(c->ceiling_db, -30.0, 0.0, "ceiling_db", st)) ||
        (rc = disco__fx_range(c->lookahead_ms, 0.1, 50.0, "lookahead_ms", st)) ||
        (rc = disco__fx_range(c->release_ms, 1.0, 5000.0, "release_ms", st)))
        return rc;
    return DISCO_OK;
}

int disco_limiter_new(const disco_limiter_config *cfg, int channels, double rate,
                      disco_limiter **out, disco_status *st)
{
    disco_limiter *l;
    size_t box;
    int rc = disco_limiter_config_check(cfg, st);

    *out = NULL;
    if (rc != DISCO_OK)
        return rc;
    if ((rc = disco__fx_range(rate, DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE, "rate", st)))
        return rc;
    if (!(l = calloc(1, sizeof *l)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "limiter", "limiter: out of memory");
    box = (size_t)lround(cfg->lookahead_ms * rate / 1000.0);
    box = box < 1 ? 1 : box;
    l->channels = channels;
    l->ceiling = (float)pow(10.0, (cfg->ceiling_db - DISCO_LIMITER_MARGIN_DB) / 20.0);
    l->latency = DISCO__LIMITER_LATENCY(box);
    if ((rc = disco__tpdet_init(&l->det, channels, st)) ||
        (rc = disco__gaincomp_init(&l->gc, box, cfg->release_ms * rate / 1000.0, st)))
        goto fail;
    l->line = calloc(l->latency * (size_t)channels, sizeof *l->line);
    l->scratch = malloc((size_t)DISCO__TP_BLOCK * (size_t)channels * sizeof *l->scratch);
    if (!l->line || !l->scratch) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "limiter", "limiter: out of memory");
        goto fail;
    }
    *out = l;
    return DISCO_OK;
fail:
    disco_limiter_free(l);
    return rc;
}

size_t disco_limiter_latency(const disco_limiter *l)
{
    return l->latency;
}

static void limiter_block(disco_limiter *l, const float *in, float *out, size_t n)
{
    const size_t C = (size_t)l->channels;
    float det[DISCO__TP_BLOCK];

    disco__tpdet_run(&l->det, in, n, det);
    for (size_t j = 0; j < n; j++) {
        float r = det[j] > l->ceiling ? l->ceiling / det[j] : 1.0f;
        float g = disco__gaincomp_push(&l->gc, r);
        float *slot = l->line + l->line_pos * C;

        for (size_t c = 0; c < C; c++) {
            float v = in[j * C + c];

            out[j * C + c] = slot[c] * g;
            slot[c] = v;
        }
        if (++l->line_pos == l->latency)
            l->line_pos = 0;
    }
}

void disco_limiter_process(disco_limiter *l, const float *in, float *out, size_t frames)
{
    const size_t C = (size_t)l->channels;

    for (size_t s = 0; s < frames; s += DISCO__TP_BLOCK) {
        size_t n = frames - s < DISCO__TP_BLOCK ? frames - s : DISCO__TP_BLOCK;

        limiter_block(l, in + s * C, out + s * C, n);
    }
}

static void limiter_reset(disco_limiter *l)
{
    disco__tpdet_reset(&l->det);
    disco__gaincomp_reset(&l->gc);
    memset(l->line, 0, l->latency * (size_t)l->channels * sizeof *l->line);
    l->line_pos = 0;
}

void disco_limiter_apply(disco_limiter *l, disco_audio *a)
{
    const size_t C = (size_t)l->channels, D = l->latency, total = a->frames + D;
    float min_gain = l->gc.min_gain;

    limiter_reset(l);
    for (size_t s = 0; s < total; s += DISCO__TP_BLOCK) {
        size_t n = total - s < DISCO__TP_BLOCK ? total - s : DISCO__TP_BLOCK;
        size_t have = s < a->frames ? a->frames - s : 0;

        if (have > n)
            have = n;
        memcpy(l->scratch, a->data + s * C, have * C * sizeof *l->scratch);
        memset(l->scratch + have * C, 0, (n - have) * C * sizeof *l->scratch);
        limiter_block(l, l->scratch, l->scratch, n);
        for (size_t j = 0; j < n; j++) {
            if (s + j >= D)
                memcpy(a->data + (s + j - D) * C, l->scratch + j * C, C * sizeof *l->scratch);
        }
    }
    if (min_gain < l->gc.min_gain)
        l->gc.min_gain = min_gain;
}

double disco_limiter_max_reduction_db(const disco_limiter *l)
{
    return 0.0 - 20.0 * log10((double)l->gc.min_gain);
}

void disco_limiter_free(disco_limiter *l)
{
    if (!l)
        return;
    disco__tpdet_release(&l->det);
    disco__gaincomp_release(&l->gc);
    free(l->line);
    free(l->scratch);
    free(l);
}
