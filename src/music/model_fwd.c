/*
 * model_fwd.c - the transformer's batched forward pass, keeping every
 * activation the backward needs, and what is built on it: logits, the
 * cross-entropy loss and the evaluation over a token stream.
 *
 * Per layer (N = batch x seq rows, all row-major):
 *
 *   ln1  = LN(x)                   qkv  = ln1 · Wqkv + b
 *   ao   = attention(qkv)          res1 = x + ao · Wproj + b
 *   ln2  = LN(res1)                fc   = ln2 · Wfc + b,  gl = GELU(fc)
 *   res2 = res1 + gl · Wout + b    (the next layer's x)
 *
 * then lnf = LN(x) and logits = lnf · wteᵀ. A residual add is a copy of x
 * followed by an accumulating matmul.
 */
#include "model_int.h"

#include <string.h>

#define EMB_ROWS 64
#define EVAL_BATCH 8

typedef struct emb_job {
    const disco_tf *m;
    const int32_t *toks;
    size_t n, seq, stride;
} emb_job;

static void emb_task(size_t task, void *arg)
{
    const emb_job *j = arg;
    size_t d = j->m->cfg.d_model, end = (task + 1) * EMB_ROWS < j->n ? (task + 1) * EMB_ROWS : j->n;

    for (size_t i = task * EMB_ROWS; i < end; i++) {
        size_t b = i / j->seq, t = i % j->seq;
        const float *te = j->m->params + j->m->lay.wte + (size_t)j->toks[b * j->stride + t] * d;
        const float *pe = j->m->params + j->m->lay.wpe + t * d;
        float *x = j->m->w.x0 + i * d;
        for (size_t c = 0; c < d; c++)
            x[c] = te[c] + pe[c];
    }
}

/* C = A · W + bias (acc: C += ...), A is n x k, W k x out. */
static void linear(const disco_tf *m, const float *a, const float *w, const float *bias, float *c,
                   size_t n, size_t k, size_t out, int acc)
{
    disco__tf_gemm g = {.m = n,
                        .n = out,
                        .k = k,
                        .a = a,
                        .lda = k,
                        .b = w,
                        .ldb = out,
                        .bias = bias,
                        .c = c,
                        .ldc = out,
                        .acc = acc};

    disco__tf_gemm_run(&m->ex, &g, m->w.pack);
}

static void layer_fwd(disco_tf *m, size_t l, const float *x)
{
    disco__tf_work *w = &m->w;
    disco__tf_lacts *a = &w->layers[l];
    size_t d = m->cfg.d_model, n = w->b * w->t;
    disco__tf_lp p;
    disco__tf_attn at = {.b = w->b,
                         .t = w->t,
                         .h = m->cfg.heads,
                         .d = d,
                         .qkv = a->qkv,
                         .att = a->att,
                         .out = a->ao,
                         .scratch = w->attn_scratch};

    disco__tf_layer_ptrs(&m->lay, m->params, l, &p);
    disco__tf_ln_fwd(&m->ex, x, p.ln1_g, p.ln1_b, a->ln1, a->ln1_mu, a->ln1_rs, n, d);
    linear(m, a->ln1, p.w_qkv, p.b_qkv, a->qkv, n, d, 3 * d, 0);
    disco__tf_attn_fwd(&m->ex, &at);
    memcpy(a->res1, x, n * d * sizeof(float));
    linear(m, a->ao, p.w_proj, p.b_proj, a->res1, n, d, d, 1);
    disco__tf_ln_fwd(&m->ex, a->res1, p.ln2_g, p.ln2_b, a->ln2, a->ln2_mu, a->ln2_rs, n, d);
    linear(m, a->ln2, p.w_fc, p.b_fc, a->fc, n, d, 4 * d, 0);
    disco__tf_gelu_fwd(&m->ex, a->fc, a->gl, n * 4 * d);
    memcpy(a->res2, a->res1, n * d * sizeof(float));
    linear(m, a->gl, p.w_out, p.b_out, a->res2, n, 4 * d, d, 1);
}

/* The output layer: logits = lnf · wteᵀ. */
static void head_fwd(disco_tf *m, size_t n)
{
    disco__tf_gemm g = {.m = n,
                        .n = m->cfg.vocab,
                        .k = m->cfg.d_model,
                        .a = m->w.lnf,
                        .lda = m->cfg.d_model,
                        .b = m->params + m->lay.wte,
                        .ldb = m->cfg.d_model,
                        .tb = 1,
                        .c = m->w.logits,
                        .ldc = m->cfg.vocab};

    disco__tf_gemm_run(&m->ex, &g, m->w.pack);
}

int disco__tf_forward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, size_t stride,
                      disco_status *st)
{
    disco__tf_work *w = &m->w;
    size_t d = m->cfg.d_model, n = batch * seq;
    const float *x;
    emb_job ej = {m, toks, n, seq, stride};
    int rc = disco__tf_work_reserve(m, batch, seq, st);

    if (rc != DISCO_OK)
        return rc;
    w->b = batch;
    w->t = seq;
    disco__tf_par(&m->ex, (n + EMB_ROWS - 1) / EMB_ROWS, emb_task, &ej);
    x = w->x0;
    for (size_t l = 0; l < m->cfg.layers; l++) {
        layer_fwd(m, l, x);
        x = w->layers[l].res2;
    }
    disco__tf_ln_fwd(&m->ex, x, m->params + m->lay.lnf_g, m->params + m->lay.lnf_b, w->lnf,
                     w->lnf_mu, w->lnf_rs, n, d);
    head_fwd(m, n);
    return DISCO_OK;
}

int disco_tf_logits(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, float *logits,
                    disco_status *st)
{
    int rc = disco__tf_check_batch(m, toks, batch, seq, seq, st);

    if (rc == DISCO_OK)
        rc = disco__tf_forward(m, toks, batch, seq, seq, st);
    if (rc == DISCO_OK)
        memcpy(logits, m->w.logits, batch * seq * m->cfg.vocab * sizeof(float));
    return rc;
}

/* Forward of rows of seq + 1 tokens `stride` apart, then the summed NLL of their targets. */
static int run_loss(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, size_t stride,
                    int grad, double *sum, size_t *count, disco_status *st)
{
    int rc = disco__tf_forward(m, toks, batch, seq, stride, st);

    if (rc != DISCO_OK)
        return rc;
    for (size_t b = 0; b < batch; b++) {
        for (size_t t = 0; t < seq; t++)
            m->w.tgt[b * seq + t] = toks[b * stride + t + 1];
    }
    *sum = disco__tf_xent(&m->ex, m->w.logits, m->w.tgt, batch * seq, m->cfg.vocab, grad, m->w.part,
                          count);
    return DISCO_OK;
}

/* The shared front of disco_tf_loss and disco_tf_backward. */
static int batch_loss(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, int grad,
                      double *loss, size_t *count, disco_status *st)
{
    double sum = 0.0;
    size_t cnt = 0;
    int rc = disco__tf_check_batch(m, toks, batch, seq, seq + 1, st);

    if (rc == DISCO_OK)
        rc = run_loss(m, toks, batch, seq, seq + 1, grad, &sum, &cnt, st);
    if (rc == DISCO_OK && cnt == 0)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "tokens", "every target of the batch is PAD");
    if (rc != DISCO_OK)
        return rc;
    *loss = sum / (double)cnt;
    if (count)
        *count = cnt;
    return DISCO_OK;
}

int disco_tf_loss(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                  size_t *count, disco_status *st)
{
    return batch_loss(m, toks, batch, seq, 0, loss, count, st);
}

int disco__tf_backward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                       size_t *count, disco_status *st)
{
    int rc = disco__tf_need_grads(m, st);

    if (rc == DISCO_OK)
        rc = batch_loss(m, toks, batch, seq, 1, loss, count, st);
    if (rc == DISCO_OK)
        disco__tf_backward_pass(m, toks, seq + 1);
    return rc;
}

int disco_tf_backward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                      disco_status *st)
{
    return disco__tf_backward(m, toks, batch, seq, loss, NULL, st);
}

int disco_tf_eval(disco_tf *m, const int32_t *toks, size_t n, double *nll, size_t *count,
                  disco_status *st)
{
    size_t ctx = m->cfg.ctx, full = n >= 2 ? (n - 1) / ctx : 0, cnt = 0, c;
    double total = 0.0, s;
    int rc = DISCO_OK;

    if (n < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "tokens", "%zu tokens: need at least 2", n);
    rc = disco__tf_check_batch(m, toks, 1, 1, n, st);
    for (size_t w0 = 0; rc == DISCO_OK && w0 < full; w0 += EVAL_BATCH) {
        size_t nb = full - w0 < EVAL_BATCH ? full - w0 : EVAL_BATCH;
        rc = run_loss(m, toks + w0 * ctx, nb, ctx, ctx, 0, &s, &c, st);
        total += s;
        cnt += c;
    }
    if (rc == DISCO_OK && full * ctx + 1 < n) {
        rc = run_loss(m, toks + full * ctx, 1, n - 1 - full * ctx, ctx, 0, &s, &c, st);
        total += s;
        cnt += c;
    }
    if (rc == DISCO_OK && cnt == 0)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "tokens", "every target is PAD");
    if (rc != DISCO_OK)
        return rc;
    *nll = total / (double)cnt;
    if (count)
        *count = cnt;
    return DISCO_OK;
}
