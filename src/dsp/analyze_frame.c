/*
 * analyze_frame.c - what one analysis frame yields, and the summary at the
 * end of the stream.
 *
 * Per frame: STFT power -> mel -> dB -> MFCC and the onset envelope;
 * spectral shape; zero-crossing rate and RMS of the frame itself; chroma.
 * Chroma needs the tuning, which is estimated from the first
 * TUNING_SECONDS of audio: until then power frames are held back (about
 * 5 MB at the defaults) and replayed through the chroma bank once the
 * tuning is known.
 */
#include "analyze_int.h"

#include "disco/key.h"
#include "disco/rhythm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TUNING_SECONDS 30.0

static void welford_add(disco__welford *w, double x)
{
    w->n += 1.0;
    double d = x - w->mean;
    w->mean += d / w->n;
    w->m2 += d * (x - w->mean);
}

static disco_stat welford_stat(const disco__welford *w)
{
    disco_stat s = {w->mean, w->n > 1 ? sqrt(w->m2 / w->n) : 0.0};
    return s;
}

static int series_add(disco__series *s, const float *v, size_t n)
{
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        while (cap < s->len + n)
            cap *= 2;
        float *p = realloc(s->v, cap * sizeof(float));
        if (!p)
            return DISCO_ERR_NOMEM;
        s->v = p;
        s->cap = cap;
    }
    memcpy(s->v + s->len, v, n * sizeof(float));
    s->len += n;
    return DISCO_OK;
}

static int make_kernels(disco__frame_state *fs, disco_status *st)
{
    const disco_analysis_config *c = fs->cfg;
    disco_mel_config mc = disco_mel_config_default();
    mc.rate = c->rate;
    mc.n_fft = c->n_fft;
    mc.n_mels = c->n_mels;
    mc.fmax = c->rate / 2.0;
    mc.htk = c->htk;
    int rc = disco_stft_new(c->n_fft, c->hop, &fs->stft, st);
    if (!rc)
        rc = disco_melbank_new(&mc, &fs->mel, st);
    if (!rc)
        rc = disco_dct_new(c->n_mels, c->n_mfcc, &fs->dct, st);
    if (!rc)
        rc = disco_spectral_new(c->rate, c->n_fft, &fs->spectral, st);
    if (!rc)
        rc = disco_tuning_new(c->rate, c->n_fft, &fs->tuning, st);
    if (!rc)
        rc = disco_onset_env_new(c->n_mels, &fs->onset, st);
    return rc;
}

int disco__frame_state_init(disco__frame_state *fs, const disco_analysis_config *cfg,
                            disco_status *st)
{
    memset(fs, 0, sizeof(*fs));
    fs->cfg = cfg;
    int rc = make_kernels(fs, st);
    if (rc)
        return rc;
    fs->bins = disco_stft_bins(fs->stft);
    size_t scratch = (disco_stft_scratch_floats(fs->stft) + 7) & ~(size_t)7;
    fs->scratch = aligned_alloc(32, scratch * sizeof(float));
    fs->power = malloc(fs->bins * sizeof(float));
    fs->logmel = malloc(cfg->n_mels * sizeof(float));
    fs->mfcc = malloc(cfg->n_mfcc * sizeof(float));
    fs->spec_scratch = malloc((disco_spectral_scratch_floats(fs->spectral) + 1) * sizeof(float));
    if (!fs->scratch || !fs->power || !fs->logmel || !fs->mfcc || !fs->spec_scratch)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for analysis buffers");
    return DISCO_OK;
}

void disco__frame_state_release(disco__frame_state *fs)
{
    disco_stft_free(fs->stft);
    disco_melbank_free(fs->mel);
    disco_dct_free(fs->dct);
    disco_spectral_free(fs->spectral);
    disco_tuning_free(fs->tuning);
    disco_chromabank_free(fs->chroma);
    disco_onset_env_free(fs->onset);
    free(fs->scratch);
    free(fs->power);
    free(fs->logmel);
    free(fs->mfcc);
    free(fs->spec_scratch);
    free(fs->held);
    disco__series *all[] = {&fs->env,        &fs->s_rms,       &fs->s_zcr,
                            &fs->s_centroid, &fs->s_bandwidth, &fs->s_rolloff,
                            &fs->s_flatness, &fs->s_mfcc,      &fs->s_chroma};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]->v);
    memset(fs, 0, sizeof(*fs));
}

static int chroma_frame(disco__frame_state *fs, const float *power)
{
    float c[12];
    disco_chromabank_apply(fs->chroma, power, c);
    for (int k = 0; k < 12; k++)
        fs->chroma_sum[k] += c[k];
    return fs->cfg->keep_frames ? series_add(&fs->s_chroma, c, 12) : DISCO_OK;
}

/* Estimates the tuning, makes the chroma bank and replays the held frames. */
static int release_held(disco__frame_state *fs, disco_status *st)
{
    double tuning = disco_tuning_result(fs->tuning);
    int rc = disco_chromabank_new(fs->cfg->rate, fs->cfg->n_fft, tuning, &fs->chroma, st);
    for (size_t i = 0; !rc && i < fs->held_count; i++)
        if (chroma_frame(fs, fs->held + i * fs->bins))
            rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for chroma frames");
    free(fs->held);
    fs->held = NULL;
    fs->held_count = fs->held_cap = 0;
    return rc;
}

static int hold_or_chroma(disco__frame_state *fs, disco_status *st)
{
    if (fs->chroma)
        return chroma_frame(fs, fs->power)
                   ? disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for chroma frames")
                   : DISCO_OK;
    disco_tuning_add(fs->tuning, fs->power);
    if (fs->held_count == fs->held_cap) {
        size_t cap = fs->held_cap ? fs->held_cap * 2 : 64;
        float *p = realloc(fs->held, cap * fs->bins * sizeof(float));
        if (!p)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for held frames");
        fs->held = p;
        fs->held_cap = cap;
    }
    memcpy(fs->held + fs->held_count++ * fs->bins, fs->power, fs->bins * sizeof(float));
    double seconds = (double)fs->frames * fs->cfg->hop / fs->cfg->rate;
    return seconds >= TUNING_SECONDS ? release_held(fs, st) : DISCO_OK;
}

static int keep_frame(disco__frame_state *fs, float env, float zcr, float rms,
                      const disco_spectral_frame *sf)
{
    int rc = series_add(&fs->s_rms, &rms, 1);
    rc |= series_add(&fs->s_zcr, &zcr, 1);
    rc |= series_add(&fs->s_centroid, &sf->centroid, 1);
    rc |= series_add(&fs->s_bandwidth, &sf->bandwidth, 1);
    rc |= series_add(&fs->s_rolloff, &sf->rolloff, 1);
    rc |= series_add(&fs->s_flatness, &sf->flatness, 1);
    rc |= series_add(&fs->s_mfcc, fs->mfcc, fs->cfg->n_mfcc);
    (void)env;
    return rc ? DISCO_ERR_NOMEM : DISCO_OK;
}

int disco__frame_push(disco__frame_state *fs, const float *frame, disco_status *st)
{
    const disco_analysis_config *c = fs->cfg;
    disco_stft_power(fs->stft, frame, fs->power, fs->scratch);
    disco_melbank_apply(fs->mel, fs->power, fs->logmel);
    disco_power_to_db(fs->logmel, c->n_mels);
    disco_dct_apply(fs->dct, fs->logmel, fs->mfcc);
    float env = disco_onset_env_push(fs->onset, fs->logmel);
    disco_spectral_frame sf;
    disco_spectral_apply(fs->spectral, fs->power, fs->spec_scratch, &sf);
    float zcr = disco_zcr(frame, c->n_fft), rms = disco_rms(frame, c->n_fft);
    for (size_t k = 0; k < c->n_mfcc; k++)
        welford_add(&fs->w_mfcc[k], fs->mfcc[k]);
    welford_add(&fs->w_centroid, sf.centroid);
    welford_add(&fs->w_bandwidth, sf.bandwidth);
    welford_add(&fs->w_rolloff, sf.rolloff);
    welford_add(&fs->w_flatness, sf.flatness);
    welford_add(&fs->w_zcr, zcr);
    welford_add(&fs->w_rms, rms);
    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++)
        welford_add(&fs->w_contrast[b], sf.contrast[b]);
    fs->frames++;
    if (series_add(&fs->env, &env, 1) || (c->keep_frames && keep_frame(fs, env, zcr, rms, &sf)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for frame series");
    return hold_or_chroma(fs, st);
}

static void fill_stats(const disco__frame_state *fs, disco_analysis_report *rep)
{
    rep->n_mfcc = fs->cfg->n_mfcc;
    for (size_t k = 0; k < rep->n_mfcc; k++)
        rep->mfcc[k] = welford_stat(&fs->w_mfcc[k]);
    rep->centroid = welford_stat(&fs->w_centroid);
    rep->bandwidth = welford_stat(&fs->w_bandwidth);
    rep->rolloff = welford_stat(&fs->w_rolloff);
    rep->flatness = welford_stat(&fs->w_flatness);
    rep->zcr = welford_stat(&fs->w_zcr);
    rep->rms = welford_stat(&fs->w_rms);
    for (int b = 0; b < DISCO_CONTRAST_BANDS; b++)
        rep->contrast[b] = welford_stat(&fs->w_contrast[b]);
    for (int k = 0; k < 12; k++)
        rep->chroma_mean[k] = fs->frames ? fs->chroma_sum[k] / (double)fs->frames : 0.0;
}

/* Moves the kept series into the report (the state no longer owns them). */
static void hand_over_frames(disco__frame_state *fs, disco_analysis_report *rep)
{
    disco_analysis_frames *f = &rep->frames;
    f->count = fs->frames;
    f->frame_rate = (double)fs->cfg->rate / (double)fs->cfg->hop;
    f->onset_env = fs->env.v;
    fs->env.v = NULL;
    if (!fs->cfg->keep_frames)
        return;
    f->rms = fs->s_rms.v, f->zcr = fs->s_zcr.v, f->centroid = fs->s_centroid.v;
    f->bandwidth = fs->s_bandwidth.v, f->rolloff = fs->s_rolloff.v;
    f->flatness = fs->s_flatness.v, f->mfcc = fs->s_mfcc.v, f->chroma = fs->s_chroma.v;
    fs->s_rms.v = fs->s_zcr.v = fs->s_centroid.v = fs->s_bandwidth.v = NULL;
    fs->s_rolloff.v = fs->s_flatness.v = fs->s_mfcc.v = fs->s_chroma.v = NULL;
}

static int rhythm(const disco__frame_state *fs, disco_analysis_report *rep, disco_status *st)
{
    double fr = (double)fs->cfg->rate / (double)fs->cfg->hop;
    const float *env = fs->env.v;
    size_t n = fs->env.len;
    disco_onset_config oc = disco_onset_config_default();
    int rc = disco_onset_detect(env, n, fr, &oc, &rep->onsets, &rep->n_onsets, st);
    disco_tempo_config tc = disco_tempo_config_default();
    if (!rc)
        rc = disco_tempo_estimate(env, n, fr, &tc, &rep->tempo, st);
    if (!rc && rep->tempo.bpm > 0)
        rc = disco_beat_track(env, n, fr, rep->tempo.bpm, 100.0, &rep->beats, &rep->n_beats, st);
    return rc;
}

int disco__frame_finish(disco__frame_state *fs, disco_analysis_report *rep, disco_status *st)
{
    int rc = fs->chroma ? DISCO_OK : release_held(fs, st);
    if (rc)
        return rc;
    rep->tuning = disco_tuning_result(fs->tuning);
    fill_stats(fs, rep);
    rc = rhythm(fs, rep, st);
    if (!rc)
        rc = disco_key_estimate(rep->chroma_mean, fs->cfg->key_profile, &rep->key, st);
    if (!rc)
        hand_over_frames(fs, rep);
    return rc;
}
