/*
 * bench_model.c - speed of the music transformer (default config):
 *
 *   training     tokens/s of disco_tf_train_step on batches of 16 x 256
 *                (random tokens), with 1 thread and with every core
 *   evaluation   tokens/s of disco_tf_eval (forward only)
 *   sampling     tokens/s of the KV-cache lm's step() on one core, within
 *                the context and over a long stream (slides included)
 *
 * Goals: the model trains from scratch in 20-30 min on 2 cores, and samples
 * at >= 2000 tokens/s on one core. Figures only; no pass or fail. Training
 * lines also give CPU seconds per step: on a busy machine wall time says
 * little, and CPU time close to wall time x threads means the threads ran.
 * argv[1]: training steps to time (default 4).
 */
#include "disco/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define SEQ 256

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU seconds of the whole process: with wall time, shows whether other load slowed a run. */
static double cpu_now(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15u;

static int32_t rnd_tok(uint32_t vocab)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (int32_t)(1 + g_rng % (vocab - 1));
}

static int bench_train(size_t threads, int steps, const int32_t *toks)
{
    disco_tf_config cfg = disco_tf_config_default();
    disco_tf *m = NULL;
    disco_tf_step s = {0};
    disco_status st = {0};
    double t0, t1, c0, c1;

    if (disco_tf_new(&cfg, &m, &st) != DISCO_OK ||
        disco_tf_set_threads(m, threads, &st) != DISCO_OK ||
        disco_tf_train_step(m, toks, BATCH, SEQ, 1e-3f, NULL, &s, &st) != DISCO_OK) {
        fprintf(stderr, "bench_model: %s\n", st.msg);
        disco_tf_free(m);
        return 1;
    }
    t0 = now();
    c0 = cpu_now();
    for (int i = 0; i < steps; i++)
        disco_tf_train_step(m, toks, BATCH, SEQ, 1e-3f, NULL, &s, &st);
    t1 = now();
    c1 = cpu_now();
    printf("train  %zu thread(s): %8.0f tokens/s  (%.3f s/step of %d tokens, %.3f cpu-s/step, "
           "loss %.3f)\n",
           threads, (double)steps * BATCH * SEQ / (t1 - t0), (t1 - t0) / steps, BATCH * SEQ,
           (c1 - c0) / steps, s.loss);
    if (threads > 1) {
        double nll;
        size_t n = (size_t)BATCH * (SEQ + 1), cnt;
        t0 = now();
        disco_tf_eval(m, toks, n, &nll, &cnt, &st);
        t1 = now();
        printf("eval   %zu thread(s): %8.0f tokens/s\n", threads, (double)cnt / (t1 - t0));
    }
    disco_tf_free(m);
    return 0;
}

static int bench_sample(void)
{
    disco_tf_config cfg = disco_tf_config_default();
    disco_tf *m = NULL;
    disco_lm *lm = NULL;
    disco_status st = {0};
    float *logp = malloc(cfg.vocab * sizeof *logp);
    double t0, t1, t2;
    size_t in_ctx = cfg.ctx, stream = 4 * cfg.ctx;

    if (!logp || disco_tf_new(&cfg, &m, &st) != DISCO_OK ||
        disco_tf_lm_new(m, &lm, &st) != DISCO_OK) {
        fprintf(stderr, "bench_model: %s\n", st.msg);
        free(logp);
        disco_tf_free(m);
        return 1;
    }
    t0 = now();
    for (size_t i = 0; i < in_ctx; i++)
        lm->vt->step(lm, rnd_tok(cfg.vocab), logp, &st);
    t1 = now();
    lm->vt->reset(lm);
    for (size_t i = 0; i < stream; i++)
        lm->vt->step(lm, rnd_tok(cfg.vocab), logp, &st);
    t2 = now();
    printf("sample 1 thread:   %8.0f tokens/s within ctx %u, %.0f tokens/s over %zu tokens "
           "(goal >= 2000)\n",
           (double)in_ctx / (t1 - t0), cfg.ctx, (double)stream / (t2 - t1), stream);
    lm->vt->free(lm);
    disco_tf_free(m);
    free(logp);
    return 0;
}

int main(int argc, char **argv)
{
    disco_tf_config cfg = disco_tf_config_default();
    int steps = argc > 1 ? atoi(argv[1]) : 4, rc = 0;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int32_t *toks = malloc((size_t)BATCH * (SEQ + 1) * sizeof *toks);

    if (!toks)
        return 1;
    steps = steps > 0 ? steps : 1;
    for (size_t i = 0; i < (size_t)BATCH * (SEQ + 1); i++)
        toks[i] = rnd_tok(cfg.vocab);
    printf("transformer: vocab %u, ctx %u, d_model %u, layers %u, heads %u\n", cfg.vocab, cfg.ctx,
           cfg.d_model, cfg.layers, cfg.heads);
    rc |= bench_train(1, steps, toks);
    if (cores > 1)
        rc |= bench_train((size_t)cores, steps, toks);
    rc |= bench_sample();
    free(toks);
    return rc;
}
