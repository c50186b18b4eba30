/*
 * onset.c - the onset-strength envelope (streamed one log-mel frame at a
 * time) and onset picking on a finished envelope.
 *
 * Envelope (spectral flux on the log-mel spectrogram, as librosa's
 * onset_strength): for each band, the rise in dB since the previous frame,
 * half-wave rectified, averaged over bands. Before the difference both
 * frames are floored at (loudest value seen so far - 80 dB), the streaming
 * counterpart of power_to_db's top_db = 80: without it, bands that sit near
 * the 1e-10 power floor (silence, band-limited instruments) would add large
 * dB jumps from numerical noise.
 *
 * Picking (librosa's peak_pick, on the envelope minus its minimum divided
 * by its robust top, see robust_top(), rather than by its maximum): frame i is
 * an onset when it is the maximum over [i - pre_max, i + post_max), at least
 * the mean over [i - pre_avg, i + post_avg) plus delta, and more than `wait`
 * frames after the previous onset. The windows in seconds become frames as
 * floor(s * frame_rate), plus one for the post windows (so post_max_s 0
 * still looks at frame i itself).
 */
#include "disco/rhythm.h"

#include <math.h>
#include <stdlib.h>

#define TOP_DB 80.0f
#define ONSET_MAX_MELS 4096
#define ONSET_MAX_WINDOW_S 10.0 /* a longer pick window is a config mistake */
#define SCALE_QUANTILE 0.9
#define SCALE_MAX_DIV 4.0f

struct disco_onset_env {
    size_t n_mels;
    size_t frames;
    float peak_db; /* loudest band value seen so far */
    float *prev;   /* previous frame, as given */
};

int disco_onset_env_new(size_t n_mels, disco_onset_env **out, disco_status *st)
{
    disco_onset_env *o;

    *out = NULL;
    if (n_mels == 0 || n_mels > ONSET_MAX_MELS)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_mels", "n_mels %zu out of range 1..%d",
                                n_mels, ONSET_MAX_MELS);
    o = calloc(1, sizeof *o);
    if (!o || !(o->prev = calloc(n_mels, sizeof *o->prev))) {
        free(o);
        return disco_status_set(st, DISCO_ERR_NOMEM, "n_mels", "no memory for %zu mel bands",
                                n_mels);
    }
    o->n_mels = n_mels;
    o->peak_db = -INFINITY;
    *out = o;
    return DISCO_OK;
}

void disco_onset_env_free(disco_onset_env *o)
{
    if (!o)
        return;
    free(o->prev);
    free(o);
}

float disco_onset_env_push(disco_onset_env *o, const float *logmel)
{
    float peak = o->peak_db, floor_db, sum = 0.0f;

    for (size_t b = 0; b < o->n_mels; b++)
        peak = fmaxf(peak, logmel[b]); /* fmaxf skips a NaN */
    o->peak_db = peak;
    floor_db = peak - TOP_DB;
    if (o->frames++ > 0) {
        for (size_t b = 0; b < o->n_mels; b++) {
            float rise = fmaxf(logmel[b], floor_db) - fmaxf(o->prev[b], floor_db);

            if (rise > 0.0f)
                sum += rise;
        }
    }
    for (size_t b = 0; b < o->n_mels; b++)
        o->prev[b] = logmel[b];
    return sum / (float)o->n_mels;
}

disco_onset_config disco_onset_config_default(void)
{
    return (disco_onset_config){
        .pre_max_s = 0.03,
        .post_max_s = 0.0,
        .pre_avg_s = 0.10,
        .post_avg_s = 0.10,
        .delta = 0.07,
        .wait_s = 0.03,
    };
}

static int check_window(double v, const char *name, disco_status *st)
{
    if (!isfinite(v) || v < 0.0 || v > ONSET_MAX_WINDOW_S)
        return disco_status_set(st, DISCO_ERR_INVAL, name, "%s %g out of range 0..%g s", name, v,
                                ONSET_MAX_WINDOW_S);
    return DISCO_OK;
}

static int check_onset_config(const disco_onset_config *c, double frame_rate, disco_status *st)
{
    int rc;

    if (!isfinite(frame_rate) || frame_rate <= 0.0 || frame_rate > 1e6)
        return disco_status_set(st, DISCO_ERR_INVAL, "frame_rate",
                                "frame_rate %g out of range (0, 1e6]", frame_rate);
    if ((rc = check_window(c->pre_max_s, "pre_max_s", st)) ||
        (rc = check_window(c->post_max_s, "post_max_s", st)) ||
        (rc = check_window(c->pre_avg_s, "pre_avg_s", st)) ||
        (rc = check_window(c->post_avg_s, "post_avg_s", st)) ||
        (rc = check_window(c->wait_s, "wait_s", st)))
        return rc;
    if (!isfinite(c->delta))
        return disco_status_set(st, DISCO_ERR_INVAL, "delta", "delta %g is not finite", c->delta);
    return DISCO_OK;
}

/* Window sizes in frames. */
typedef struct pick_frames {
    size_t pre_max, post_max, pre_avg, post_avg, wait;
} pick_frames;

static pick_frames to_frames(const disco_onset_config *c, double fr)
{
    return (pick_frames){
        .pre_max = (size_t)floor(c->pre_max_s * fr),
        .post_max = (size_t)floor(c->post_max_s * fr) + 1,
        .pre_avg = (size_t)floor(c->pre_avg_s * fr),
        .post_avg = (size_t)floor(c->post_avg_s * fr) + 1,
        .wait = (size_t)floor(c->wait_s * fr),
    };
}

static size_t lo_index(size_t i, size_t back)
{
    return i > back ? i - back : 0;
}

/*
 * Picks peaks of x[n] (scaled to 0..1) into idx[], returning the count.
 * The running sum over the averaging window keeps this O(n).
 */
static size_t pick_peaks(const float *x, size_t n, const pick_frames *w, double delta, size_t *idx)
{
    size_t count = 0, a_lo = 0, a_hi = 0; /* averaging window [a_lo, a_hi) */
    double a_sum = 0.0;

    for (size_t i = 0; i < n; i++) {
        size_t lo = lo_index(i, w->pre_avg), hi = i + w->post_avg < n ? i + w->post_avg : n;

        while (a_hi < hi)
            a_sum += x[a_hi++];
        while (a_lo < lo)
            a_sum -= x[a_lo++];
        if ((double)x[i] < a_sum / (double)(hi - lo) + delta)
            continue;
        if (count > 0 && i - idx[count - 1] <= w->wait)
            continue;

        size_t m_lo = lo_index(i, w->pre_max), m_hi = i + w->post_max < n ? i + w->post_max : n;
        int is_max = 1;

        for (size_t j = m_lo; j < m_hi && is_max; j++)
            is_max = x[j] <= x[i];
        if (is_max)
            idx[count++] = i;
    }
    return count;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return (x > y) - (x < y);
}

/*
 * The envelope's robust top: the SCALE_QUANTILE quantile of its local
 * peaks, but at least max / SCALE_MAX_DIV. A plain maximum is set by the
 * rare outlier (the jump out of digital silence at the start of a render
 * is ten times a normal onset), which would make delta useless for the
 * rest of the piece; the floor keeps sparse clicks in low noise on the
 * maximum. `tmp` has room for n floats.
 */
static float robust_top(const float *x, size_t n, float max, float *tmp)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (x[i] > 0.0f && (i == 0 || x[i] >= x[i - 1]) && (i + 1 == n || x[i] > x[i + 1]))
            tmp[k++] = x[i];
    }
    if (k == 0)
        return max;
    qsort(tmp, k, sizeof *tmp, cmp_float);
    return fmaxf(tmp[(size_t)(SCALE_QUANTILE * (double)(k - 1))], max / SCALE_MAX_DIV);
}

/*
 * Writes env - min into x, divided by its robust top (so a typical strong
 * onset is about 1); returns 0 when env is flat (no onsets), -1 when it is
 * not finite.
 */
static int normalise(const float *env, size_t n, float *x, float *tmp)
{
    float lo = INFINITY, hi = -INFINITY, top;

    for (size_t i = 0; i < n; i++) {
        if (!isfinite(env[i]))
            return -1;
        lo = fminf(lo, env[i]);
        hi = fmaxf(hi, env[i]);
    }
    if (!(hi > lo))
        return 0;
    for (size_t i = 0; i < n; i++)
        x[i] = env[i] - lo;
    top = robust_top(x, n, hi - lo, tmp);
    for (size_t i = 0; i < n; i++)
        x[i] /= top;
    return 1;
}

int disco_onset_detect(const float *env, size_t n, double frame_rate, const disco_onset_config *cfg,
                       double **times, size_t *count, disco_status *st)
{
    disco_onset_config def = disco_onset_config_default();
    pick_frames w;
    float *x = NULL;
    size_t *idx = NULL, k = 0;
    int rc = DISCO_OK, norm;

    *times = NULL;
    *count = 0;
    if (!cfg)
        cfg = &def;
    if ((rc = check_onset_config(cfg, frame_rate, st)))
        return rc;
    if (n == 0)
        return DISCO_OK;
    w = to_frames(cfg, frame_rate);
    x = malloc(2 * n * sizeof *x); /* the envelope, then scratch */
    idx = malloc(n * sizeof *idx);
    if (!x || !idx) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "env", "no memory for %zu frames", n);
        goto out_free;
    }
    norm = normalise(env, n, x, x + n);
    if (norm < 0) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "env", "onset envelope has a non-finite value");
        goto out_free;
    }
    if (norm > 0)
        k = pick_peaks(x, n, &w, cfg->delta, idx);
    if (k > 0) {
        double *t = malloc(k * sizeof *t);

        if (!t) {
            rc = disco_status_set(st, DISCO_ERR_NOMEM, "env", "no memory for %zu onsets", k);
            goto out_free;
        }
        for (size_t i = 0; i < k; i++)
            t[i] = (double)idx[i] / frame_rate;
        *times = t;
        *count = k;
    }
out_free:
    free(x);
    free(idx);
    return rc;
}
