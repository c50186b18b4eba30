/*
 * model_infer.c - the transformer as a disco_lm: incremental inference
 * with a KV cache, on the calling thread.
 *
 * A step embeds the token at the next position, runs each block on that
 * one row (matrix-vector products), appends its keys and values to the
 * layer's cache and attends over the cache, then gives the log-softmax of
 * lnf(x) · wteᵀ. The same arithmetic as the batched forward, so the two
 * agree to float rounding.
 *
 * Sliding: positions are learned only up to ctx - 1. When the cache is full
 * and a token arrives, the last ctx/2 tokens are run again from position 0
 * (as one block of rows through the packed matmul; only their keys and
 * values are kept), then the new token is appended at position ctx/2. A
 * long stream is thus scored with between ctx/2 and ctx tokens of context.
 */
#include "model_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tf_lm {
    disco_lm base;
    const disco_tf *m;
    disco__tf_exec ex; /* no pool */
    size_t n;          /* tokens in the cache */
    int32_t *hist;     /* the tokens at positions 0..n-1 */
    float *kc, *vc;    /* layers x ctx x d */
    float *s;          /* ctx attention weights */
    /* rows being run: R = 1 for a step, up to ctx/2 for a replay */
    float *x, *h, *qkv, *ao, *f, *pack;
    float *wte_t; /* d x vocab */
    void (*matvec)(const float *, const float *, const float *, float *, size_t, size_t);
} tf_lm;

static float dot(const float *restrict a, const float *restrict b, size_t n)
{
    float acc[8] = {0}, s = 0.0f;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        for (size_t u = 0; u < 8; u++)
            acc[u] += a[i + u] * b[i + u];
    }
    for (; i < n; i++)
        s += a[i] * b[i];
    return s + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static void axpy(float *restrict y, const float *restrict x, float a, size_t n)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        for (size_t u = i; u < i + 8; u++)
            y[u] += a * x[u];
    }
    for (; i < n; i++)
        y[i] += a * x[i];
}

/* Attention of query row q (all heads) at `pos` over one layer's cache, into o. */
static void attend(tf_lm *lm, const float *q, const float *kc, const float *vc, size_t pos,
                   float *o)
{
    size_t d = lm->m->cfg.d_model, hd = d / lm->m->cfg.heads;
    float scale = 1.0f / sqrtf((float)hd);

    memset(o, 0, d * sizeof(float));
    for (size_t h = 0; h < lm->m->cfg.heads; h++) {
        for (size_t j = 0; j <= pos; j++)
            lm->s[j] = dot(q + h * hd, kc + j * d + h * hd, hd);
        disco__tf_softmax(lm->ex.isa, lm->s, pos + 1, scale);
        for (size_t j = 0; j <= pos; j++)
            axpy(o + h * hd, vc + j * d + h * hd, lm->s[j], hd);
    }
}

/* y[rows x out] (+)= x[rows x in] · w + bias; one row accumulates through lm->h (free then). */
static void linear(tf_lm *lm, const float *x, const float *w, const float *bias, float *y,
                   size_t rows, size_t in, size_t out, int acc)
{
    disco__tf_gemm g = {.m = rows,
                        .n = out,
                        .k = in,
                        .a = x,
                        .lda = in,
                        .b = w,
                        .ldb = out,
                        .bias = bias,
                        .c = y,
                        .ldc = out,
                        .acc = acc};

    if (rows > 1) {
        disco__tf_gemm_run(&lm->ex, &g, lm->pack);
        return;
    }
    lm->matvec(x, w, bias, acc ? lm->h : y, in, out);
    if (acc) {
        for (size_t c = 0; c < out; c++)
            y[c] += lm->h[c];
    }
}

static void gelu_rows(tf_lm *lm, float *f, size_t n)
{
    if (lm->ex.isa == DISCO__TF_ISA_AVX2) {
        disco__tf_gelu_fwd_avx2(f, f, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        f[i] = disco__tf_gelu(f[i]);
}

/* One block over `rows` rows at positions lm->n.. (x in lm->x), caching their K and V. */
static void block(tf_lm *lm, size_t l, size_t rows)
{
    const disco_tf *m = lm->m;
    size_t d = m->cfg.d_model, ctx = m->cfg.ctx, pos = lm->n;
    float *kc = lm->kc + l * ctx * d, *vc = lm->vc + l * ctx * d, mu, rs;
    disco__tf_lp p;

    disco__tf_layer_ptrs(&m->lay, m->params, l, &p);
    for (size_t r = 0; r < rows; r++)
        disco__tf_ln_row(lm->x + r * d, p.ln1_g, p.ln1_b, lm->h + r * d, d, &mu, &rs);
    linear(lm, lm->h, p.w_qkv, p.b_qkv, lm->qkv, rows, d, 3 * d, 0);
    for (size_t r = 0; r < rows; r++) {
        memcpy(kc + (pos + r) * d, lm->qkv + r * 3 * d + d, d * sizeof(float));
        memcpy(vc + (pos + r) * d, lm->qkv + r * 3 * d + 2 * d, d * sizeof(float));
    }
    for (size_t r = 0; r < rows; r++)
        attend(lm, lm->qkv + r * 3 * d, kc, vc, pos + r, lm->ao + r * d);
    linear(lm, lm->ao, p.w_proj, p.b_proj, lm->x, rows, d, d, 1);
    for (size_t r = 0; r < rows; r++)
        disco__tf_ln_row(lm->x + r * d, p.ln2_g, p.ln2_b, lm->h + r * d, d, &mu, &rs);
    linear(lm, lm->h, p.w_fc, p.b_fc, lm->f, rows, d, 4 * d, 0);
    gelu_rows(lm, lm->f, rows * 4 * d);
    linear(lm, lm->f, p.w_out, p.b_out, lm->x, rows, 4 * d, d, 1);
}

/* Runs toks[0..rows) at positions lm->n.. and appends them; logp (rows == 1) gets the output. */
static void advance(tf_lm *lm, const int32_t *toks, size_t rows, float *logp)
{
    const disco_tf *m = lm->m;
    size_t d = m->cfg.d_model;
    float mu, rs;

    for (size_t r = 0; r < rows; r++) {
        const float *te = m->params + m->lay.wte + (size_t)toks[r] * d;
        const float *pe = m->params + m->lay.wpe + (lm->n + r) * d;
        for (size_t c = 0; c < d; c++)
            lm->x[r * d + c] = te[c] + pe[c];
    }
    for (size_t l = 0; l < m->cfg.layers; l++)
        block(lm, l, rows);
    memmove(lm->hist + lm->n, toks, rows * sizeof *toks);
    lm->n += rows;
    if (!logp)
        return;
    disco__tf_ln_row(lm->x, m->params + m->lay.lnf_g, m->params + m->lay.lnf_b, lm->h, d, &mu, &rs);
    lm->matvec(lm->h, lm->wte_t, NULL, logp, d, m->cfg.vocab);
    disco__tf_log_softmax(logp, m->cfg.vocab);
}

/* The cache is full: run the last ctx/2 tokens again from position 0. */
static void slide(tf_lm *lm)
{
    size_t keep = lm->m->cfg.ctx / 2;

    memmove(lm->hist, lm->hist + lm->n - keep, keep * sizeof *lm->hist);
    lm->n = 0;
    advance(lm, lm->hist, keep, NULL);
}

static int lm_step(disco_lm *base, int32_t tok, float *logp, disco_status *st)
{
    tf_lm *lm = (tf_lm *)base;

    if (tok < 0 || (uint32_t)tok >= lm->m->cfg.vocab)
        return disco_status_set(st, DISCO_ERR_INVAL, "token", "token %d out of range 0..%u",
                                (int)tok, lm->m->cfg.vocab - 1);
    if (lm->n == lm->m->cfg.ctx)
        slide(lm);
    advance(lm, &tok, 1, logp);
    return DISCO_OK;
}

static size_t lm_vocab(const disco_lm *base)
{
    return ((const tf_lm *)base)->m->cfg.vocab;
}

static void lm_reset(disco_lm *base)
{
    ((tf_lm *)base)->n = 0;
}

static void lm_free(disco_lm *base)
{
    tf_lm *lm = (tf_lm *)base;

    if (!lm)
        return;
    free(lm->hist);
    free(lm->kc);
    free(lm->x);
    free(lm->wte_t);
    free(lm);
}

static const disco_lm_vtable TF_LM_VT = {"transformer", lm_vocab, lm_reset, lm_step, lm_free};

/* Carves the row buffers (R rows) and the packing room out of lm->x. */
static size_t row_buffers(tf_lm *lm, size_t d, size_t rows, size_t ctx)
{
    size_t pack = DISCO__TF_NR * 4 * d; /* weights are read in place: a partial panel at most */

    if (lm->x) {
        lm->h = lm->x + rows * d;
        lm->qkv = lm->h + rows * d;
        lm->ao = lm->qkv + rows * 3 * d;
        lm->f = lm->ao + rows * d;
        lm->s = lm->f + rows * 4 * d;
        lm->pack = lm->s + ctx;
    }
    return rows * 10 * d + ctx + pack;
}

int disco_tf_lm_new(const disco_tf *m, disco_lm **out, disco_status *st)
{
    size_t d = m->cfg.d_model, ctx = m->cfg.ctx, v = m->cfg.vocab, cache = m->cfg.layers * ctx * d;
    tf_lm *lm = calloc(1, sizeof *lm);

    *out = NULL;
    if (lm) {
        lm->hist = calloc(ctx, sizeof *lm->hist);
        lm->kc = calloc(2 * cache, sizeof(float));
        lm->x = calloc(row_buffers(lm, d, ctx / 2, ctx), sizeof(float));
        lm->wte_t = malloc(d * v * sizeof(float));
    }
    if (!lm || !lm->hist || !lm->kc || !lm->x || !lm->wte_t) {
        lm_free((disco_lm *)lm);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for the KV cache");
    }
    row_buffers(lm, d, ctx / 2, ctx);
    lm->base.vt = &TF_LM_VT;
    lm->m = m;
    lm->ex = (disco__tf_exec){.pool = NULL, .isa = m->ex.isa};
    lm->vc = lm->kc + cache;
    for (size_t t = 0; t < v; t++) {
        for (size_t c = 0; c < d; c++)
            lm->wte_t[c * v + t] = m->params[m->lay.wte + t * d + c];
    }
    lm->matvec =
        lm->ex.isa == DISCO__TF_ISA_AVX2 ? disco__tf_matvec_avx2 : disco__tf_matvec_portable;
    *out = &lm->base;
    return DISCO_OK;
}
