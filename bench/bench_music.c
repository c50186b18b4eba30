/*
 * bench_music.c - what the shipped music model writes, next to the corpus it
 * learned from:
 *
 *   sampling speed   tokens/s of constrained sampling on one core
 *   MusPy metrics    of N unconditioned samples (16 bars each, seeds 1..N)
 *                    and of the corpus pieces (untransposed train + valid,
 *                    decoded from the token files): mean and standard
 *                    deviation side by side; the corpus values are the target
 *                    range (scale consistency, empty-beat rate, groove ...)
 *
 * Environment: BENCH_MUSIC_MODEL (models/music.bin), BENCH_MUSIC_CORPUS
 * (build/model-data/corpus/main, as `make model` leaves it), BENCH_MUSIC_N
 * (50), BENCH_MUSIC_TEMPERATURE (1.0) and BENCH_MUSIC_TOP_P (0.95, as
 * `disco music sample`). Without a model or a corpus it says so and stops.
 */
#include "disco/corpus.h"
#include "disco/midi_metrics.h"
#include "disco/model.h"
#include "disco/sampler.h"
#include "disco/tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NM 9

static const char *const names[NM] = {
    "pitch_range", "pitch_classes",   "polyphony",          "scale_consistency", "pitch_entropy",
    "pc_entropy",  "empty_beat_rate", "groove_consistency", "notes_per_second"};

typedef struct acc {
    double sum[NM], sq[NM];
    size_t n;
} acc;

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Decodes tokens, measures, and adds the metrics to `a`; 0 when the piece has no pitched notes. */
static int add(acc *a, const int32_t *toks, size_t n)
{
    disco_score sc;
    disco_midi_metrics m;
    memset(&sc, 0, sizeof sc);
    if (disco_tokens_decode(toks, n, 480, &sc, NULL, NULL) ||
        disco_midi_metrics_compute(&sc, &m, NULL) || m.npitched == 0) {
        disco_score_release(&sc);
        return 0;
    }
    double v[NM] = {m.pitch_range,
                    m.pitch_classes,
                    m.polyphony,
                    m.scale_consistency,
                    m.pitch_entropy,
                    m.pitch_class_entropy,
                    m.empty_beat_rate,
                    m.groove_consistency,
                    m.seconds > 0 ? (double)m.nnotes / m.seconds : 0};
    for (int i = 0; i < NM; i++)
        if (isfinite(v[i])) {
            a->sum[i] += v[i];
            a->sq[i] += v[i] * v[i];
        }
    a->n++;
    disco_score_release(&sc);
    return 1;
}

static void corpus_metrics(const char *dir, acc *a)
{
    const char *files[] = {"train.tok", "valid.tok"};
    for (int f = 0; f < 2; f++) {
        char path[4096];
        disco_tokset s;
        disco_status st = {0};
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        if (disco_tokset_read(path, &s, &st)) {
            printf("corpus: %s\n", st.msg);
            continue;
        }
        for (size_t i = 0; i < s.nseqs; i++)
            if (s.transpose[i] == 0)
                add(a, s.seqs[i], s.lens[i]);
        disco_tokset_release(&s);
    }
}

static int sample_metrics(const char *model, size_t n, acc *a)
{
    disco_tf *tf = NULL;
    disco_lm *lm = NULL;
    disco_status st = {0};
    size_t tokens = 0;
    if (disco_tf_load(model, &tf, &st) || disco_tf_lm_new(tf, &lm, &st)) {
        printf("model: %s\n", st.msg);
        disco_tf_free(tf);
        return -1;
    }
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        disco_sampler_config c = disco_sampler_config_default();
        int32_t *toks = NULL;
        size_t len = 0;
        c.seed = i + 1;
        c.bars = 16;
        c.temperature = atof(env_or("BENCH_MUSIC_TEMPERATURE", "1.0"));
        c.top_p = atof(env_or("BENCH_MUSIC_TOP_P", "0.95"));
        if (disco_sampler_generate(lm, &c, &toks, &len, NULL, &st) == DISCO_OK) {
            add(a, toks, len);
            tokens += len;
        }
        free(toks);
    }
    double secs = now() - t0;
    printf("sampling: %zu pieces of 16 bars, %zu tokens in %.2f s: %.0f tokens/s on one core "
           "(goal >= 2000); temperature %s, top-p %s\n",
           n, tokens, secs, (double)tokens / secs, env_or("BENCH_MUSIC_TEMPERATURE", "1.0"),
           env_or("BENCH_MUSIC_TOP_P", "0.95"));
    lm->vt->free(lm);
    disco_tf_free(tf);
    return 0;
}

static void print_row(int i, const acc *c, const acc *s)
{
    double cm = c->n ? c->sum[i] / c->n : NAN, sm = s->n ? s->sum[i] / s->n : NAN;
    double cs = c->n ? sqrt(fmax(0, c->sq[i] / c->n - cm * cm)) : NAN;
    double ss = s->n ? sqrt(fmax(0, s->sq[i] / s->n - sm * sm)) : NAN;
    printf("%-20s %8.3f ± %-7.3f %8.3f ± %-7.3f\n", names[i], cm, cs, sm, ss);
}

int main(void)
{
    const char *model = env_or("BENCH_MUSIC_MODEL", "models/music.bin");
    const char *corpus = env_or("BENCH_MUSIC_CORPUS", "build/model-data/corpus/main");
    size_t n = (size_t)atol(env_or("BENCH_MUSIC_N", "50"));
    acc c = {0}, s = {0};
    printf("== music model: %s, corpus %s\n", model, corpus);
    if (sample_metrics(model, n ? n : 50, &s))
        return 0;
    corpus_metrics(corpus, &c);
    printf("%-20s %-18s %-18s\n", "metric", "corpus (n)", "samples (n)");
    printf("%-20s %-18zu %-18zu\n", "pieces", c.n, s.n);
    for (int i = 0; i < NM; i++)
        print_row(i, &c, &s);
    return 0;
}
