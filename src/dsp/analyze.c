/*
 * analyze.c - the one-pass analysis driver (picture in audio_analysis.h).
 *
 * Blocks of the original signal go to the characteristics and loudness
 * accumulators, then are mixed to mono, resampled to the analysis rate by
 * the polyphase FIR (libsamplerate for the rare ratios that would need
 * more than 1024 phases, e.g. 7919 Hz) and cut into centred frames: the stream is preceded and
 * followed by n_fft/2 zeros (librosa's centre=True with pad_mode
 * "constant"), giving 1 + n / hop frames for n analysis samples.
 */
#include "analyze_int.h"

#include "disco/polyphase.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_FRAMES 16384
/* Mixed samples are clipped here (+60 dBFS) so that float power spectra of
 * damaged files holding values like 1e26 do not overflow to inf and NaN. */
#define SAMPLE_LIMIT 1000.0f

typedef struct pipeline {
    const disco_analysis_config *cfg;
    int channels;
    disco_character_acc *character;
    disco_loudness_meter *loudness;
    disco_polyphase *resampler; /* NULL when the input is at the analysis rate */
    disco_resampler *src;       /* instead of `resampler` for odd ratios */
    float *mono, *resampled;
    float *win; /* analysis samples from the current frame start */
    size_t win_len, win_cap;
    disco__frame_state frames;
} pipeline;

disco_analysis_config disco_analysis_config_default(void)
{
    disco_analysis_config c = {
        .rate = 22050,
        .n_fft = 2048,
        .hop = 512,
        .n_mels = 128,
        .n_mfcc = 20,
        .htk = 0,
        .key_profile = DISCO_KEY_COMBINED,
        .loudness_mode = DISCO_LOUDNESS_ALL,
        .keep_frames = 0,
    };
    return c;
}

static int check_config(const disco_analysis_config *c, disco_status *st)
{
    if (c->rate < 4000 || c->rate > 96000)
        return disco_status_set(st, DISCO_ERR_INVAL, "rate",
                                "analysis rate %d Hz is outside 4000..96000", c->rate);
    if (c->n_fft < 256 || c->n_fft > 16384 || (c->n_fft & (c->n_fft - 1)))
        return disco_status_set(st, DISCO_ERR_INVAL, "n_fft",
                                "n_fft %zu must be a power of two in 256..16384", c->n_fft);
    if (c->hop < 32 || c->hop > c->n_fft)
        return disco_status_set(st, DISCO_ERR_INVAL, "hop", "hop %zu must be in 32..n_fft (%zu)",
                                c->hop, c->n_fft);
    if (c->n_mels < 8 || c->n_mels > 512)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_mels", "n_mels %zu is outside 8..512",
                                c->n_mels);
    if (c->n_mfcc < 1 || c->n_mfcc > DISCO_ANALYSIS_MFCC_MAX || c->n_mfcc > c->n_mels)
        return disco_status_set(st, DISCO_ERR_INVAL, "n_mfcc",
                                "n_mfcc %zu is outside 1..%d (and at most n_mels)", c->n_mfcc,
                                DISCO_ANALYSIS_MFCC_MAX);
    if (c->loudness_mode != DISCO_LOUDNESS_ALL && c->loudness_mode != DISCO_LOUDNESS_FAST)
        return disco_status_set(st, DISCO_ERR_INVAL, "loudness_mode", "unknown loudness mode %d",
                                c->loudness_mode);
    return DISCO_OK;
}

static void pipeline_release(pipeline *p)
{
    disco_character_free(p->character);
    disco_loudness_meter_free(p->loudness);
    disco_polyphase_free(p->resampler);
    disco_resampler_free(p->src);
    free(p->mono);
    free(p->resampled);
    free(p->win);
    disco__frame_state_release(&p->frames);
}

static int make_resampler(pipeline *p, int rate, disco_status *st)
{
    disco_status probe = {0};
    if (disco_polyphase_new(rate, p->cfg->rate, &p->resampler, &probe) == DISCO_OK)
        return DISCO_OK;
    return disco_resampler_new(1, rate, p->cfg->rate, DISCO_RESAMPLE_FAST, &p->src, st);
}

/* Runs `n` samples (or the drain when `last`) through libsamplerate into the framer. */
static int frame_samples(pipeline *p, const float *x, size_t n, disco_status *st);

static int src_feed(pipeline *p, const float *x, size_t n, int last, disco_status *st)
{
    size_t cap = disco_resampler_out_bound(p->src, BLOCK_FRAMES) + 64, used = 0, made = 1;
    int rc = DISCO_OK;
    while (!rc && (n > 0 || (last && made > 0))) {
        rc = disco_resampler_process(p->src, x, n, p->resampled, cap, last, &used, &made, st);
        if (!rc)
            rc = frame_samples(p, p->resampled, made, st);
        if (used == 0 && made == 0 && !last)
            break;
        if (used > 0) {
            x += used;
            n -= used;
        }
    }
    return rc;
}

static int pipeline_init(pipeline *p, const disco_analysis_config *cfg, int channels, int rate,
                         disco_status *st)
{
    memset(p, 0, sizeof(*p));
    p->cfg = cfg;
    p->channels = channels;
    int rc = disco__frame_state_init(&p->frames, cfg, st);
    if (!rc)
        rc = disco_character_new(channels, rate, &p->character, st);
    if (!rc)
        rc = disco_loudness_meter_new(channels, rate, cfg->loudness_mode, &p->loudness, st);
    if (!rc && rate != cfg->rate)
        rc = make_resampler(p, rate, st);
    if (rc)
        return rc;
    size_t rs = p->resampler ? disco_polyphase_out_bound(p->resampler, BLOCK_FRAMES) + 64
                : p->src     ? disco_resampler_out_bound(p->src, BLOCK_FRAMES) + 64
                             : BLOCK_FRAMES;
    p->win_cap = cfg->n_fft + rs + 64;
    p->mono = malloc(BLOCK_FRAMES * sizeof(float));
    p->resampled = malloc(rs * sizeof(float));
    p->win = calloc(p->win_cap, sizeof(float));
    if (!p->mono || !p->resampled || !p->win)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for analysis buffers");
    p->win_len = cfg->n_fft / 2; /* the leading zeros of centred framing */
    return DISCO_OK;
}

/* Appends analysis-rate samples and pushes every complete frame. */
static int frame_samples(pipeline *p, const float *x, size_t n, disco_status *st)
{
    size_t n_fft = p->cfg->n_fft, hop = p->cfg->hop;
    while (n > 0) {
        size_t take = p->win_cap - p->win_len;
        take = take < n ? take : n;
        memcpy(p->win + p->win_len, x, take * sizeof(float));
        p->win_len += take;
        x += take;
        n -= take;
        size_t pos = 0;
        for (; pos + n_fft <= p->win_len; pos += hop) {
            int rc = disco__frame_push(&p->frames, p->win + pos, st);
            if (rc)
                return rc;
        }
        memmove(p->win, p->win + pos, (p->win_len - pos) * sizeof(float));
        p->win_len -= pos;
    }
    return DISCO_OK;
}

static int feed(pipeline *p, const float *block, size_t frames, disco_status *st)
{
    disco_character_add(p->character, block, frames);
    int rc = disco_loudness_meter_add(p->loudness, block, frames, st);
    if (rc)
        return rc;
    disco_audio_downmix(block, frames, p->channels, p->mono);
    for (size_t i = 0; i < frames; i++) {
        float v = p->mono[i];
        p->mono[i] = v > SAMPLE_LIMIT ? SAMPLE_LIMIT : v < -SAMPLE_LIMIT ? -SAMPLE_LIMIT : v;
    }
    if (p->src)
        return src_feed(p, p->mono, frames, 0, st);
    if (!p->resampler)
        return frame_samples(p, p->mono, frames, st);
    size_t n = disco_polyphase_push(p->resampler, p->mono, frames, p->resampled);
    return frame_samples(p, p->resampled, n, st);
}

static int finish(pipeline *p, disco_analysis_report *rep, disco_status *st)
{
    int rc = DISCO_OK;
    if (p->resampler) {
        size_t n = disco_polyphase_finish(p->resampler, p->resampled);
        rc = frame_samples(p, p->resampled, n, st);
    } else if (p->src) {
        rc = src_feed(p, NULL, 0, 1, st);
    }
    float zeros[1024] = {0};
    for (size_t left = p->cfg->n_fft / 2; !rc && left > 0;) {
        size_t k = left < 1024 ? left : 1024;
        rc = frame_samples(p, zeros, k, st);
        left -= k;
    }
    if (!rc)
        rc = disco_loudness_meter_result(p->loudness, &rep->loudness, st);
    if (!rc)
        disco_character_result(p->character, &rep->character);
    if (!rc)
        rc = disco__frame_finish(&p->frames, rep, st);
    return rc;
}

int disco_audio_analyze(disco_audio_reader *r, const disco_analysis_config *cfg,
                        const disco_progress *prog, disco_analysis_report *out, disco_status *st)
{
    memset(out, 0, sizeof(*out));
    int rc = check_config(cfg, st);
    if (rc)
        return rc;
    const disco_audio_info *info = disco_audio_reader_info(r);
    pipeline p;
    float *block = malloc((size_t)BLOCK_FRAMES * (size_t)info->channels * sizeof(float));
    rc = block ? pipeline_init(&p, cfg, info->channels, info->rate, st)
               : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for a block");
    if (!block)
        return rc;
    size_t n = 1;
    while (!rc && n > 0) {
        rc = disco_audio_reader_read(r, block, BLOCK_FRAMES, &n, st);
        if (!rc && n > 0)
            rc = feed(&p, block, n, st);
        if (!rc && disco_progress_report(prog, "analyze", disco_audio_reader_position(r),
                                         info->frames > 0 ? (uint64_t)info->frames : 0))
            rc = disco_status_set(st, DISCO_ERR_CANCELLED, NULL, "analysis cancelled");
    }
    if (!rc)
        rc = finish(&p, out, st);
    out->info = *info;
    free(block);
    pipeline_release(&p);
    if (rc)
        disco_analysis_report_release(out);
    return rc;
}

int disco_audio_analyze_signal(const disco_audio *a, const disco_analysis_config *cfg,
                               disco_analysis_report *out, disco_status *st)
{
    memset(out, 0, sizeof(*out));
    int rc = check_config(cfg, st);
    if (rc)
        return rc;
    if (a->frames == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "audio", "signal has no frames");
    pipeline p;
    rc = pipeline_init(&p, cfg, a->channels, a->rate, st);
    for (size_t off = 0; !rc && off < a->frames; off += BLOCK_FRAMES) {
        size_t k = a->frames - off < BLOCK_FRAMES ? a->frames - off : BLOCK_FRAMES;
        rc = feed(&p, a->data + off * (size_t)a->channels, k, st);
    }
    if (!rc)
        rc = finish(&p, out, st);
    out->info.frames = (int64_t)a->frames;
    out->info.channels = a->channels;
    out->info.rate = a->rate;
    strcpy(out->info.format, "memory");
    strcpy(out->info.subtype, "float");
    pipeline_release(&p);
    if (rc)
        disco_analysis_report_release(out);
    return rc;
}

void disco_analysis_report_release(disco_analysis_report *rep)
{
    free(rep->beats);
    free(rep->onsets);
    disco_analysis_frames *f = &rep->frames;
    float *all[] = {f->onset_env, f->rms,      f->zcr,  f->centroid, f->bandwidth,
                    f->rolloff,   f->flatness, f->mfcc, f->chroma};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    memset(rep, 0, sizeof(*rep));
}
