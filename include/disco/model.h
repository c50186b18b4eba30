/*
 * model.h - the music model: a small decoder-only transformer in float32,
 * with training (backward pass, AdamW) and KV-cache inference.
 *
 *   tokens ─> wte[tok] + wpe[pos] ─> L x [ x += attn(LN1(x));  x += mlp(LN2(x)) ] ─> LNf
 *          ─> logits = LNf(x) · wteᵀ          (output tied to the token embedding)
 *
 * attn: causal multi-head self-attention (fused QKV projection with bias,
 * output projection with bias); mlp: d -> 4d, GELU (tanh form), 4d -> d.
 * Pre-LayerNorm blocks, learned position embedding (ctx <= 1024).
 *
 * Determinism: every parallel kernel splits its work into pieces whose
 * bounds do not depend on the thread count, and every sum (matmul, bias and
 * norm gradients, loss, gradient norm) runs in a fixed order, so the same
 * seed and data give bit-identical weights and losses with any number of
 * threads on the same CPU. The matmul kernel is chosen once per model (AVX2
 * and FMA when the CPU has them, else a portable one); the two differ in
 * rounding, so results are reproducible per kernel, not across them.
 *
 * Threads: a disco_tf is one mutable object; calls on it must not overlap.
 * A disco_lm made from it (disco_tf_lm_new) only reads its parameters, so
 * several lms may run on different threads as long as nobody trains,
 * loads into or frees the model meanwhile.
 */
#ifndef DISCO_MODEL_H
#define DISCO_MODEL_H

#include "disco/err.h"
#include "disco/lm.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_TF_CTX_MAX 1024

typedef struct disco_tf_config {
    uint32_t vocab;   /* token ids 0..vocab-1; 0 is PAD (not a training target) */
    uint32_t ctx;     /* longest sequence, 2..DISCO_TF_CTX_MAX, even */
    uint32_t d_model; /* width; a multiple of heads */
    uint32_t layers;  /* 1..64 */
    uint32_t heads;   /* attention heads */
    uint64_t seed;    /* initialisation */
} disco_tf_config;

/* vocab DISCO_TOK_VOCAB, ctx 256, d_model 192, layers 4, heads 6, seed 1. */
disco_tf_config disco_tf_config_default(void);

/* DISCO_OK, or DISCO_ERR_INVAL naming the bad field. */
int disco_tf_config_check(const disco_tf_config *cfg, disco_status *st);

typedef struct disco_tf disco_tf;

/*
 * A model with fresh weights from cfg->seed: N(0, 0.02) for the token and
 * position embeddings and the matrices (the two that write into the residual
 * stream scaled by 1/sqrt(2 layers)), zero biases, LayerNorm gains of one.
 * Runs on the calling thread until disco_tf_set_threads(). Errors: INVAL
 * (config), NOMEM.
 */
int disco_tf_new(const disco_tf_config *cfg, disco_tf **out, disco_status *st);

/* NULL is a no-op. */
void disco_tf_free(disco_tf *m);

const disco_tf_config *disco_tf_config_get(const disco_tf *m);

/* Number of float parameters. */
size_t disco_tf_param_count(const disco_tf *m);

/*
 * Runs training, evaluation and batched forwards on `threads` threads (the
 * caller plus threads - 1 workers; 0: one per online CPU). Results do not
 * depend on it. Errors: NOMEM, INTERNAL (threads cannot start).
 */
int disco_tf_set_threads(disco_tf *m, size_t threads, disco_status *st);

/* ---- parameters, as tensors (for tests and tools) ----------------------- */

typedef struct disco_tf_tensor {
    char name[32]; /* "wte", "wpe", "h0.ln1.g", "h0.attn.w_qkv", ..., "lnf.b" */
    size_t offset; /* into disco_tf_params() / disco_tf_grads() */
    size_t rows;   /* matrices are stored rows x cols, row-major: [in][out] */
    size_t cols;   /* vectors have rows == 1 */
    int decay;     /* 1: AdamW weight decay applies (the four matrices of each block) */
} disco_tf_tensor;

size_t disco_tf_tensor_count(const disco_tf *m);

/* Fills `out` for tensor i < disco_tf_tensor_count(); INVAL otherwise. */
int disco_tf_tensor_info(const disco_tf *m, size_t i, disco_tf_tensor *out, disco_status *st);

/* The parameters, disco_tf_param_count() floats, owned by the model; writable. */
float *disco_tf_params(disco_tf *m);

/* Gradients of the last disco_tf_backward() (same layout); NULL before the first. */
const float *disco_tf_grads(const disco_tf *m);

/* ---- forward, loss, backward ---------------------------------------------- */

/*
 * Batched forward: `toks` holds `batch` sequences of `seq` tokens (1 <= seq
 * <= ctx), row-major; writes logits[batch * seq * vocab] (unnormalised, for
 * the token after each position). Errors: INVAL (sizes, token out of
 * range), NOMEM.
 */
int disco_tf_logits(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, float *logits,
                    disco_status *st);

/*
 * Cross-entropy of a batch: `toks` holds `batch` rows of seq + 1 tokens;
 * positions 0..seq-1 are the input and 1..seq the targets. `*loss` is the
 * mean NLL (nats) over targets that are not PAD (0); `*count` (may be NULL)
 * their number. Errors: INVAL (sizes, token out of range, every target
 * PAD), NOMEM.
 */
int disco_tf_loss(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                  size_t *count, disco_status *st);

/* As disco_tf_loss(), and leaves d loss / d params in disco_tf_grads(). */
int disco_tf_backward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                      disco_status *st);

/*
 * Mean NLL per token (nats) of a token stream toks[n], n >= 2: cut into
 * windows of ctx + 1 tokens that overlap by one, so every token but the
 * first is predicted exactly once, each window from an empty context
 * (unlike disco_lm_nll, which slides). PAD targets are skipped; `*count`
 * (may be NULL) gets the number scored. Errors: INVAL, NOMEM.
 */
int disco_tf_eval(disco_tf *m, const int32_t *toks, size_t n, double *nll, size_t *count,
                  disco_status *st);

/* ---- training --------------------------------------------------------------- */

typedef struct disco_tf_opt {
    float beta1;        /* 0.9 */
    float beta2;        /* 0.95 */
    float eps;          /* 1e-8 */
    float weight_decay; /* 0.1, decoupled, on tensors with decay == 1 only */
    float clip;         /* 1.0: global gradient norm limit; 0 turns clipping off */
} disco_tf_opt;

disco_tf_opt disco_tf_opt_default(void);

typedef struct disco_tf_step {
    double loss;      /* mean NLL of the batch before the update */
    double grad_norm; /* global L2 norm of the gradient before clipping */
    size_t tokens;    /* targets scored (not PAD) */
} disco_tf_step;

/*
 * One optimiser step on a batch laid out as for disco_tf_loss(): forward,
 * backward, clip the global gradient norm to opt->clip, AdamW with learning
 * rate `lr` (bias-corrected moments). The AdamW state is created on the
 * first step. `opt` NULL: disco_tf_opt_default(). Errors: INVAL (as
 * disco_tf_loss, or lr/opt out of range), NOMEM, INTERNAL (the loss or
 * gradient norm is not finite); the weights are unchanged when it fails.
 */
int disco_tf_train_step(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, float lr,
                        const disco_tf_opt *opt, disco_tf_step *out, disco_status *st);

/* Optimiser steps taken so far (restored by disco_tf_load with its state). */
uint64_t disco_tf_steps(const disco_tf *m);

/*
 * Learning rate for step `step` (0-based): linear warm-up from lr_max/warmup
 * to lr_max over `warmup` steps, then a cosine down to lr_min at step
 * `total`, lr_min after.
 */
float disco_tf_lr_at(uint64_t step, uint64_t warmup, uint64_t total, float lr_max, float lr_min);

/* ---- checkpoints -------------------------------------------------------------- */

/*
 * Writes the config, the parameters and, when `with_opt` and the model has
 * taken a step, the AdamW state, to `path` (a temporary file, fsync,
 * rename). Format: docs in model_io.c. Errors: IO, NOSPC, PERM, NOMEM.
 */
int disco_tf_save(const disco_tf *m, const char *path, int with_opt, disco_status *st);

/*
 * Reads a checkpoint into a new model (single-threaded; AdamW state and
 * step count restored when the file has them). Errors: NOTFOUND, IO, PERM,
 * NOMEM, CORRUPT (bad magic, unknown version, invalid config, wrong size,
 * checksum mismatch, non-finite weights), with a message saying which.
 */
int disco_tf_load(const char *path, disco_tf **out, disco_status *st);

/* ---- inference -------------------------------------------------------------- */

/*
 * A next-token lm over `m` with a KV cache: step() costs one token's worth
 * of work. When the cache holds ctx tokens and another arrives, it keeps
 * the last ctx/2 tokens, recomputes their cache at positions 0..ctx/2-1 and
 * then appends, so a long stream is scored with between ctx/2 and ctx
 * tokens of context. `m` must outlive the lm and not change under it.
 * Errors: NOMEM.
 */
int disco_tf_lm_new(const disco_tf *m, disco_lm **out, disco_status *st);

#endif
