/*
 * master.c - mastering to a loudness target under a true-peak ceiling
 * (presets and chain in master.h).
 *
 * DESIGN: everything before the limiter is done once into a processed copy
 * P (input gain to the target, EQ, reference EQ, glue compressor), and the
 * limiter's detector runs once over P, since its output does not depend on
 * the gain. The gain is then searched on a cheap loudness estimate (see
 * `subblocks`: a gain-computer pass over the stored detector values, no
 * filtering), and each candidate is limited for real and measured by
 * libebur128; the measured error corrects the estimate for the next round.
 * Usually one round lands, two under heavy limiting.
 *
 *   in --gain--> EQ --> [ref FIR] --> glue --> P --+--> detector --> det[]
 *                                                  +--> 100 ms K-weighted energies
 *   round:  g = search(estimate + bias)
 *           out = P * 10^(g/20) * G(det, ceiling / 10^(g/20)) --> LUFS --> bias
 *
 * Loudness: libebur128, integrated mode only (the costly true-peak mode is
 * replaced by the limiter's own 4x interpolator, disco_true_peak()).
 */
#include "disco/master.h"
#include "disco/effects.h"

#include "fx_int.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SILENT_LUFS -70.0
#define MEASURE_BLOCK 65536
#define EST_TOL 0.02 /* LU: the search on the estimate stops this close */

static const struct {
    const char *name;
    double lufs, dbtp;
} presets[] = {
    [DISCO_MASTER_STREAMING] = {"streaming", -14.0, -1.0},
    [DISCO_MASTER_APPLE] = {"apple", -16.0, -1.0},
    [DISCO_MASTER_BROADCAST] = {"broadcast", -23.0, -1.0},
    [DISCO_MASTER_CLUB] = {"club", -9.0, -0.3},
};

#define NPRESETS (sizeof presets / sizeof presets[0])

int disco_master_preset_parse(const char *name, const char *field, disco_master_preset *out,
                              disco_status *st)
{
    for (size_t i = 0; i < NPRESETS; i++) {
        if (name && strcmp(name, presets[i].name) == 0) {
            *out = (disco_master_preset)i;
            return DISCO_OK;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, field,
                            "%s: unknown preset \"%s\"; known: streaming, apple, broadcast, club",
                            field, name ? name : "");
}

const char *disco_master_preset_name(disco_master_preset p)
{
    return (unsigned)p < NPRESETS ? presets[p].name : "unknown";
}

disco_master_config disco_master_config_preset(disco_master_preset p)
{
    if ((unsigned)p >= NPRESETS)
        p = DISCO_MASTER_STREAMING;
    return (disco_master_config){.target_lufs = presets[p].lufs,
                                 .ceiling_dbtp = presets[p].dbtp,
                                 .tolerance_lu = 0.2,
                                 .lowcut_hz = 30.0,
                                 .shelf_hz = 10000.0,
                                 .shelf_db = 1.0,
                                 .glue_ratio = 1.5,
                                 .glue_above_db = 2.0,
                                 .glue_attack_ms = 30.0,
                                 .glue_release_ms = 250.0,
                                 .lookahead_ms = 5.0,
                                 .release_ms = 80.0,
                                 .max_gain_db = 40.0,
                                 .max_eq_db = 6.0,
                                 .max_iterations = 8};
}

int disco_master_config_check(const disco_master_config *c, disco_status *st)
{
    int rc;

    if ((rc = disco__fx_range(c->target_lufs, -40.0, -5.0, "target_lufs", st)) ||
        (rc = disco__fx_range(c->ceiling_dbtp, -10.0, 0.0, "ceiling_dbtp", st)) ||
        (rc = disco__fx_range(c->tolerance_lu, 0.05, 2.0, "tolerance_lu", st)) ||
        (c->lowcut_hz != 0.0 &&
         (rc = disco__fx_range(c->lowcut_hz, 10.0, 200.0, "lowcut_hz", st))) ||
        (rc = disco__fx_range(c->shelf_hz, 1000.0, 20000.0, "shelf_hz", st)) ||
        (rc = disco__fx_range(c->shelf_db, -6.0, 6.0, "shelf_db", st)) ||
        (rc = disco__fx_range(c->glue_ratio, 1.0, 4.0, "glue_ratio", st)) ||
        (rc = disco__fx_range(c->glue_above_db, -20.0, 20.0, "glue_above_db", st)) ||
        (rc = disco__fx_range(c->glue_attack_ms, 0.1, 500.0, "glue_attack_ms", st)) ||
        (rc = disco__fx_range(c->glue_release_ms, 10.0, 5000.0, "glue_release_ms", st)) ||
        (rc = disco__fx_range(c->lookahead_ms, 0.5, 20.0, "lookahead_ms", st)) ||
        (rc = disco__fx_range(c->release_ms, 5.0, 1000.0, "release_ms", st)) ||
        (rc = disco__fx_range(c->max_gain_db, 0.0, 60.0, "max_gain_db", st)) ||
        (rc = disco__fx_range(c->max_eq_db, 0.0, 12.0, "max_eq_db", st)) ||
        (rc = disco__fx_range(c->max_iterations, 1, 20, "max_iterations", st)))
        return rc;
    return DISCO_OK;
}

/* --- measurement --------------------------------------------------------- */

/* BS.1770 weights as loudness.h documents: 5.0/5.1 surrounds, LFE unused. */
static void channel_map(ebur128_state *m, int channels)
{
    for (int c = 0; c < channels; c++) {
        int ch = EBUR128_LEFT;

        if ((channels == 5 && c >= 3) || (channels == 6 && c >= 4))
            ch = EBUR128_LEFT_SURROUND;
        else if (channels == 6 && c == 3)
            ch = EBUR128_UNUSED;
        ebur128_set_channel(m, (unsigned)c, ch);
    }
}

/* Integrated loudness (LUFS, -HUGE_VAL when gated out). */
static int measure_lufs(const float *x, size_t frames, int channels, int rate, double *lufs,
                        disco_status *st)
{
    ebur128_state *m = ebur128_init((unsigned)channels, (unsigned long)rate, EBUR128_MODE_I);
    int rc = DISCO_OK;

    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, "loudness", "loudness: out of memory");
    channel_map(m, channels);
    for (size_t s = 0; s < frames && rc == DISCO_OK; s += MEASURE_BLOCK) {
        size_t n = frames - s < MEASURE_BLOCK ? frames - s : MEASURE_BLOCK;

        if (ebur128_add_frames_float(m, x + s * (size_t)channels, n) != EBUR128_SUCCESS)
            rc = disco_status_set(st, DISCO_ERR_NOMEM, "loudness", "loudness: out of memory");
    }
    if (rc == DISCO_OK && ebur128_loudness_global(m, lufs) != EBUR128_SUCCESS)
        rc = disco_status_set(st, DISCO_ERR_INTERNAL, "loudness", "loudness: measurement failed");
    ebur128_destroy(&m);
    return rc;
}

static int measure_audio(const disco_audio *a, double *lufs, const char *what, disco_status *st)
{
    int rc = measure_lufs(a->data, a->frames, a->channels, a->rate, lufs, st);

    if (rc == DISCO_OK && !(*lufs > SILENT_LUFS))
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s is silent (integrated loudness below %.0f LUFS)", what,
                                SILENT_LUFS);
    return rc;
}

/* --- processing before the limiter --------------------------------------- */

/* Low-cut and high shelf, each skipped when off or too close to Nyquist. */
static void master_eq(float *x, const disco_audio *in, const disco_master_config *cfg)
{
    disco_biquad f[2];
    disco_biquad_coefs co;
    size_t n = 0;
    disco_biquad_band hp = {DISCO_BIQUAD_HIGHPASS, cfg->lowcut_hz, 0.0, M_SQRT1_2, 0.0};
    disco_biquad_band hs = {DISCO_BIQUAD_HIGHSHELF, cfg->shelf_hz, cfg->shelf_db, M_SQRT1_2, 0.0};

    if (cfg->lowcut_hz > 0.0 && disco_biquad_design(&hp, in->rate, &co, NULL) == DISCO_OK)
        disco_biquad_init(&f[n++], &co, in->channels);
    if (cfg->shelf_db != 0.0 && cfg->shelf_hz < 0.45 * in->rate &&
        disco_biquad_design(&hs, in->rate, &co, NULL) == DISCO_OK)
        disco_biquad_init(&f[n++], &co, in->channels);
    disco_biquad_process(f, n, x, in->frames);
}

static int master_glue(float *x, const disco_audio *in, const disco_master_config *cfg,
                       double target, disco_master_report *r, disco_status *st)
{
    disco_compressor_config cc = disco_compressor_config_default();
    disco_compressor *comp;
    int rc;

    if (cfg->glue_ratio <= 1.0)
        return DISCO_OK;
    cc.threshold_db = fmin(0.0, fmax(-80.0, target + cfg->glue_above_db));
    cc.ratio = cfg->glue_ratio;
    cc.knee_db = 6.0;
    cc.attack_ms = cfg->glue_attack_ms;
    cc.release_ms = cfg->glue_release_ms;
    cc.detector = DISCO_DETECT_RMS;
    cc.rms_ms = 50.0;
    if ((rc = disco_compressor_new(&cc, in->channels, in->rate, &comp, st)))
        return rc;
    disco_compressor_process(comp, x, in->frames);
    r->glue_reduction_db = disco_compressor_max_reduction_db(comp);
    disco_compressor_free(comp);
    return DISCO_OK;
}

/* P = in x gain -> EQ -> reference FIR -> glue. */
static int prepare(const disco_audio *in, const disco_master_config *cfg, double gain_db,
                   const double *ref_eq, double target, float *p, disco_master_report *r,
                   disco_status *st)
{
    const size_t n = in->frames * (size_t)in->channels;
    const float g = (float)pow(10.0, gain_db / 20.0);
    int rc;

    for (size_t i = 0; i < n; i++)
        p[i] = in->data[i] * g;
    master_eq(p, in, cfg);
    if (ref_eq && (rc = disco__master_fir_apply(p, in->frames, in->channels, in->rate, ref_eq,
                                                st)) != DISCO_OK)
        return rc;
    return master_glue(p, in, cfg, target, r, st);
}

/* --- loudness estimate for the gain search ------------------------------ */

/*
 * One libebur128 pass over P gives the K-weighted energy of every 100 ms
 * sub-block (its gating grid). Limiting P by a gain curve G scales each
 * sub-block's energy by sum(G^2 p) / sum(p), p the unweighted power per
 * frame; the gating is then redone on the scaled energies. That estimate
 * costs a gain-computer pass and no filtering, so the search runs on it and
 * libebur128 measures only the candidates (its reading corrects the
 * estimate's bias for the next round).
 */
typedef struct subblocks {
    size_t len;   /* frames per sub-block, libebur128's (rate + 5) / 10 */
    size_t n;     /* complete sub-blocks */
    double *e;    /* K-weighted mean square per sub-block */
    double *p;    /* unweighted sum of squares per sub-block */
    double *work; /* scaled energies of an estimate */
} subblocks;

static int subblocks_measure(const float *x, size_t frames, int channels, int rate, subblocks *sb,
                             double *lufs, disco_status *st)
{
    const size_t C = (size_t)channels;
    ebur128_state *m =
        ebur128_init((unsigned)C, (unsigned long)rate, EBUR128_MODE_I | EBUR128_MODE_M);
    int ok = m != NULL;

    sb->len = ((size_t)rate + 5) / 10;
    sb->n = frames / sb->len;
    sb->e = calloc(sb->n + 1, sizeof *sb->e);
    sb->p = calloc(sb->n + 1, sizeof *sb->p);
    sb->work = calloc(sb->n + 1, sizeof *sb->work);
    ok = ok && sb->e && sb->p && sb->work;
    if (ok)
        channel_map(m, channels);
    for (size_t j = 0; ok && j < sb->n; j++) {
        const float *blk = x + j * sb->len * C;
        double l = -HUGE_VAL;

        ok = ebur128_add_frames_float(m, blk, sb->len) == EBUR128_SUCCESS &&
             ebur128_loudness_window(m, 100, &l) == EBUR128_SUCCESS;
        sb->e[j] = l > -HUGE_VAL ? pow(10.0, (l + 0.691) / 10.0) : 0.0;
        for (size_t i = 0; i < sb->len * C; i++)
            sb->p[j] += (double)blk[i] * blk[i];
    }
    ok = ok && ebur128_add_frames_float(m, x + sb->n * sb->len * C, frames - sb->n * sb->len) ==
                   EBUR128_SUCCESS;
    ok = ok && ebur128_loudness_global(m, lufs) == EBUR128_SUCCESS;
    if (m)
        ebur128_destroy(&m);
    return ok ? DISCO_OK
              : disco_status_set(st, DISCO_ERR_NOMEM, "loudness", "loudness: out of memory");
}

static void subblocks_free(subblocks *sb)
{
    free(sb->e);
    free(sb->p);
    free(sb->work);
}

/* BS.1770 gating over 400 ms blocks made of 4 sub-block energies; LUFS. */
static double gated_lufs(const double *e, size_t n)
{
    const double abs_gate = pow(10.0, (SILENT_LUFS + 0.691) / 10.0);
    double sum = 0.0, rel;
    size_t count = 0;

    for (int pass = 0; pass < 2; pass++) {
        rel = pass == 0 ? abs_gate : fmax(abs_gate, 0.1 * sum / (double)count);
        sum = 0.0;
        count = 0;
        for (size_t k = 0; k + 3 < n; k++) {
            double b = (e[k] + e[k + 1] + e[k + 2] + e[k + 3]) / 4.0;

            if (b >= rel) {
                sum += b;
                count++;
            }
        }
        if (count == 0)
            return -HUGE_VAL;
    }
    return -0.691 + 10.0 * log10(sum / (double)count);
}

/* --- the limiter iterations ---------------------------------------------- */

typedef struct lim_run {
    const float *p;   /* processed signal */
    const float *det; /* its detector stream, frames + DISCO__TP_LAG */
    size_t frames;
    int channels, rate;
    double ceiling; /* linear, margin included */
    size_t box;
    double release_frames;
    disco__gaincomp gc;
    subblocks sb;
    double pg[2], pl[2]; /* last two (gain, estimate) points */
    int npts;
} lim_run;

/* Gain of the limiter's next frame for P scaled by gl (c_eff = ceiling / gl). */
static inline float lim_gain(lim_run *lr, size_t k, float c_eff)
{
    float d = k < lr->frames + DISCO__TP_LAG ? lr->det[k] : 0.0f;

    return disco__gaincomp_push(&lr->gc, d > c_eff ? c_eff / d : 1.0f);
}

/* out = P * gain * G; returns the smallest G through *min_gain. */
static void limit_into(lim_run *lr, double gain_db, float *out, float *min_gain)
{
    const size_t C = (size_t)lr->channels, D = DISCO__LIMITER_LATENCY(lr->box);
    const float gl = (float)pow(10.0, gain_db / 20.0), c_eff = (float)(lr->ceiling / gl);

    disco__gaincomp_reset(&lr->gc);
    for (size_t k = 0; k < lr->frames + D; k++) {
        float g = lim_gain(lr, k, c_eff) * gl;

        if (k >= D) {
            const float *src = lr->p + (k - D) * C;
            float *dst = out + (k - D) * C;

            for (size_t c = 0; c < C; c++)
                dst[c] = src[c] * g;
        }
    }
    *min_gain = lr->gc.min_gain;
}

/* Estimated loudness of P limited at gain_db (see subblocks). */
static double estimate(lim_run *lr, double gain_db)
{
    const size_t C = (size_t)lr->channels, D = DISCO__LIMITER_LATENCY(lr->box);
    const size_t end = D + lr->sb.n * lr->sb.len;
    const double gl = pow(10.0, gain_db / 20.0);
    const float c_eff = (float)(lr->ceiling / gl);
    double acc = 0.0;
    size_t j = 0, left = lr->sb.len;

    disco__gaincomp_reset(&lr->gc);
    for (size_t k = 0; k < end; k++) {
        float g = lim_gain(lr, k, c_eff);
        const float *src;
        double pw = 0.0;

        if (k < D)
            continue;
        src = lr->p + (k - D) * C;
        for (size_t c = 0; c < C; c++)
            pw += (double)src[c] * src[c];
        acc += (double)g * g * pw;
        if (--left == 0) {
            double ratio = lr->sb.p[j] > 0.0 ? acc / lr->sb.p[j] : 1.0;

            lr->sb.work[j] = gl * gl * lr->sb.e[j] * ratio;
            j++;
            acc = 0.0;
            left = lr->sb.len;
        }
    }
    return gated_lufs(lr->sb.work, lr->sb.n);
}

/* The next gain to try from the last two (gain, loudness) points. */
static double next_gain(const double g[2], const double l[2], int have_two, double target)
{
    double slope = 1.0;

    if (have_two && fabs(g[1] - g[0]) > 1e-6) {
        slope = (l[1] - l[0]) / (g[1] - g[0]);
        if (!(slope > 0.05 && slope < 1.5))
            slope = 1.0;
    }
    return g[1] + (target - l[1]) / slope;
}

/*
 * Secant search on the estimate for `want` from `gain`; returns the gain and
 * its estimate in *est. The last two points persist across rounds (the
 * estimate's slope does not change when the bias does), and a round that
 * starts where the last one ended reuses its point.
 */
static double solve_estimate(lim_run *lr, double want, double gain, double max_gain, double *est)
{
    for (int it = 0; it < 12; it++) {
        gain = fmin(gain, max_gain);
        if (lr->npts > 0 && gain == lr->pg[1]) {
            *est = lr->pl[1];
        } else {
            *est = estimate(lr, gain);
            lr->pg[0] = lr->pg[1], lr->pl[0] = lr->pl[1];
            lr->pg[1] = gain, lr->pl[1] = *est;
            lr->npts++;
        }
        if (!isfinite(*est) || fabs(*est - want) <= EST_TOL)
            break;
        gain = next_gain(lr->pg, lr->pl, lr->npts > 1, want);
    }
    return gain;
}

typedef struct iter_state {
    double target, tol_hit;
    double max_gain; /* for the limiter stage */
    double best_gain, best_err;
    float best_min;
} iter_state;

/*
 * Rounds of: search the estimate (shifted by the last measured bias), run
 * the limiter, measure. Leaves the best result in `out`.
 */
static int iterate(lim_run *lr, double lufs_p, const disco_master_config *cfg, iter_state *is,
                   float *out, disco_master_report *r, disco_status *st)
{
    double gain = is->target - lufs_p, bias = 0.0, est = 0.0, lufs, last = NAN;
    float min_gain = 1.0f;
    int rc;

    is->best_err = HUGE_VAL;
    for (int it = 0; it < cfg->max_iterations; it++) {
        gain = solve_estimate(lr, is->target - bias, gain, is->max_gain, &est);
        if (gain == last)
            break; /* no progress: capped by max_gain */
        limit_into(lr, gain, out, &min_gain);
        if (min_gain >= 1.0f) /* never limited: out is P scaled, its loudness follows */
            lufs = lufs_p + 20.0 * log10((double)(float)pow(10.0, gain / 20.0));
        else if ((rc = measure_lufs(out, lr->frames, lr->channels, lr->rate, &lufs, st)))
            return rc;
        last = gain;
        r->iterations = it + 1;
        if (fabs(lufs - is->target) < is->best_err) {
            is->best_err = fabs(lufs - is->target);
            is->best_gain = gain;
            is->best_min = min_gain;
            r->out_lufs = lufs;
        }
        if (fabs(lufs - is->target) <= is->tol_hit)
            break;
        bias = isfinite(est) ? lufs - est : 0.0;
    }
    if (last != is->best_gain)
        limit_into(lr, is->best_gain, out, &min_gain);
    r->max_reduction_db = 0.0 - 20.0 * log10((double)is->best_min);
    return DISCO_OK;
}

/* Limiter stage: sub-block loudness and detector once over P, then the rounds. */
static int limit_stage(const float *p, const disco_audio *in, const disco_master_config *cfg,
                       double target, double pre_gain, float *out, disco_master_report *r,
                       disco_status *st)
{
    lim_run lr = {.p = p,
                  .frames = in->frames,
                  .channels = in->channels,
                  .rate = in->rate,
                  .ceiling = pow(10.0, (cfg->ceiling_dbtp - DISCO_LIMITER_MARGIN_DB) / 20.0),
                  .box = (size_t)lround(cfg->lookahead_ms * in->rate / 1000.0),
                  .release_frames = cfg->release_ms * in->rate / 1000.0};
    iter_state is = {.target = target,
                     .tol_hit = cfg->tolerance_lu / 2.0,
                     .max_gain = cfg->max_gain_db - pre_gain};
    float *det = malloc((in->frames + DISCO__TP_LAG) * sizeof *det);
    double lufs_p;
    int rc;

    lr.det = det;
    if (!det)
        return disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory");
    if ((rc = disco__gaincomp_init(&lr.gc, lr.box, lr.release_frames, st)) ||
        (rc = subblocks_measure(p, in->frames, in->channels, in->rate, &lr.sb, &lufs_p, st)) ||
        (rc = disco__tp_detect(p, in->frames, in->channels, det, st)))
        goto done;
    if (!(lufs_p > SILENT_LUFS)) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "input",
                              "input is silent after the low-cut at %g Hz", cfg->lowcut_hz);
        goto done;
    }
    if ((rc = iterate(&lr, lufs_p, cfg, &is, out, r, st)))
        goto done;
    r->gain_db = pre_gain + is.best_gain;
done:
    subblocks_free(&lr.sb);
    disco__gaincomp_release(&lr.gc);
    free(det);
    return rc;
}

/* --- public -------------------------------------------------------------- */

static int check_signal(const disco_audio *a, const char *what, disco_status *st)
{
    if (!a || !a->data || a->frames == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, what, "%s has no audio frames", what);
    if (a->channels < 1 || a->channels > DISCO_AUDIO_MAX_CHANNELS ||
        a->rate < DISCO_AUDIO_MIN_RATE || a->rate > DISCO_AUDIO_MAX_RATE)
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s: %d channels at %d Hz is outside 1..%d channels, %d..%d Hz",
                                what, a->channels, a->rate, DISCO_AUDIO_MAX_CHANNELS,
                                DISCO_AUDIO_MIN_RATE, DISCO_AUDIO_MAX_RATE);
    if ((double)a->frames < 0.4 * a->rate) /* one BS.1770 gating block */
        return disco_status_set(st, DISCO_ERR_INVAL, what,
                                "%s is %.3f s long, shorter than the 0.4 s loudness needs", what,
                                (double)a->frames / a->rate);
    return DISCO_OK;
}

/* Input measurements, reference loudness and EQ; sets r->target_lufs. */
static int analyse(const disco_audio *in, const disco_master_config *cfg, const disco_audio *ref,
                   disco_master_report *r, disco_status *st)
{
    int rc;

    r->target_lufs = cfg->target_lufs;
    if ((rc = measure_audio(in, &r->in_lufs, "input", st)) ||
        (rc = disco_true_peak(in->data, in->frames, in->channels, &r->in_true_peak_db, st)))
        return rc;
    if (!ref)
        return DISCO_OK;
    r->has_reference = 1;
    if ((rc = check_signal(ref, "reference", st)) ||
        (rc = measure_audio(ref, &r->ref_lufs, "reference", st)) ||
        (rc = disco__master_ref_eq(in, ref, cfg->max_eq_db, r->band_hz, r->eq_db, st)))
        return rc;
    r->target_lufs = r->ref_lufs;
    return DISCO_OK;
}

/* Scales `out` down when the meter finds it above the ceiling (interpolator differences). */
static int final_peak(disco_audio *out, const disco_master_config *cfg, disco_master_report *r,
                      disco_status *st)
{
    int rc = disco_true_peak(out->data, out->frames, out->channels, &r->out_true_peak_db, st);
    double over = r->out_true_peak_db - cfg->ceiling_dbtp;

    if (rc == DISCO_OK && over > 0.0) {
        disco_gain_apply(out->data, out->frames, out->channels, -(over + 0.01));
        r->out_true_peak_db -= over + 0.01;
        r->out_lufs -= over + 0.01;
        r->gain_db -= over + 0.01;
    }
    return rc;
}

int disco_master_apply(const disco_audio *in, const disco_master_config *cfg,
                       const disco_audio *reference, disco_audio *out, disco_master_report *rep,
                       disco_status *st)
{
    disco_master_report r = {0};
    double pre_gain;
    float *p = NULL;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = check_signal(in, "input", st)) || (rc = disco_master_config_check(cfg, st)) ||
        (rc = analyse(in, cfg, reference, &r, st)))
        return rc;
    pre_gain = r.target_lufs - r.in_lufs;
    if (pre_gain > cfg->max_gain_db)
        return disco_status_set(st, DISCO_ERR_INVAL, "max_gain_db",
                                "input at %.1f LUFS needs %+.1f dB to reach %.1f LUFS, more "
                                "than max_gain_db (%.1f dB)",
                                r.in_lufs, pre_gain, r.target_lufs, cfg->max_gain_db);
    if (!(p = malloc(in->frames * (size_t)in->channels * sizeof *p)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "master", "master: out of memory");
    if ((rc = disco_audio_alloc(out, in->frames, in->channels, in->rate, st)) ||
        (rc = prepare(in, cfg, pre_gain, r.has_reference ? r.eq_db : NULL, r.target_lufs, p, &r,
                      st)) ||
        (rc = limit_stage(p, in, cfg, r.target_lufs, pre_gain, out->data, &r, st)) ||
        (rc = final_peak(out, cfg, &r, st)))
        disco_audio_release(out);
    free(p);
    r.converged = rc == DISCO_OK && fabs(r.out_lufs - r.target_lufs) <= cfg->tolerance_lu;
    if (rep)
        *rep = r;
    return rc;
}
