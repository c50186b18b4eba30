/*
 * model_bwd.c - the transformer's backward pass, from d loss / d logits
 * (left in the work area by the cross-entropy) to the gradient of every
 * parameter in m->grads.
 *
 * dres carries d loss / d (residual stream) down the layers; each block
 * adds its branch's contribution through the LayerNorm backward. Weight
 * gradients are Xᵀ · dY products, bias gradients column sums, both summed
 * over rows in order. The tied embedding gets the output layer's gradient
 * first, then the input side's scatter-add (split by columns, rows in
 * order), so the result does not depend on the threads.
 */
#include "model_int.h"

#include <string.h>

#define EMB_COLS 64

/* C (+)= op(A) · op(B) on the model's pool and packing room. */
static void mm(const disco_tf *m, const float *a, size_t lda, int ta, const float *b, size_t ldb,
               int tb, float *c, size_t ldc, size_t rows, size_t cols, size_t k, int acc)
{
    disco__tf_gemm g = {.m = rows,
                        .n = cols,
                        .k = k,
                        .a = a,
                        .lda = lda,
                        .ta = ta,
                        .b = b,
                        .ldb = ldb,
                        .tb = tb,
                        .c = c,
                        .ldc = ldc,
                        .acc = acc};

    disco__tf_gemm_run(&m->ex, &g, m->w.pack);
}

/*
 * Backward of y = x · W + b (x n x in, W in x out) given dy: dW += xᵀ dy,
 * db += colsum(dy), dx = dy Wᵀ.
 */
static void linear_bwd(const disco_tf *m, const float *x, const float *w, const float *dy,
                       float *dw, float *db, float *dx, size_t n, size_t in, size_t out)
{
    mm(m, x, in, 1, dy, out, 0, dw, out, in, out, n, 1);
    disco__tf_colsum(&m->ex, dy, db, n, out);
    mm(m, dy, out, 0, w, out, 1, dx, in, n, in, out, 0);
}

static void layer_bwd(disco_tf *m, size_t l, const float *x)
{
    disco__tf_work *w = &m->w;
    const disco__tf_lacts *a = &w->layers[l];
    size_t d = m->cfg.d_model, n = w->b * w->t;
    disco__tf_lp p, g;
    disco__tf_attn at = {.b = w->b,
                         .t = w->t,
                         .h = m->cfg.heads,
                         .d = d,
                         .qkv = a->qkv,
                         .att = a->att,
                         .out = a->ao,
                         .scratch = w->attn_scratch};

    disco__tf_layer_ptrs(&m->lay, m->params, l, &p);
    disco__tf_layer_ptrs(&m->lay, m->grads, l, &g);
    /* MLP branch: res2 = res1 + GELU(LN2(res1) Wfc + b) Wout + b */
    linear_bwd(m, a->gl, p.w_out, w->dres, g.w_out, g.b_out, w->dbig, n, 4 * d, d);
    disco__tf_gelu_bwd(&m->ex, a->fc, w->dbig, n * 4 * d);
    linear_bwd(m, a->ln2, p.w_fc, w->dbig, g.w_fc, g.b_fc, w->dx, n, d, 4 * d);
    disco__tf_ln_bwd(&m->ex, a->res1, a->ln2_mu, a->ln2_rs, p.ln2_g, w->dx, w->dres, g.ln2_g,
                     g.ln2_b, n, d);
    /* attention branch: res1 = x + attn(LN1(x) Wqkv + b) Wproj + b */
    linear_bwd(m, a->ao, p.w_proj, w->dres, g.w_proj, g.b_proj, w->dx, n, d, d);
    disco__tf_attn_bwd(&m->ex, &at, w->dx, w->dbig);
    linear_bwd(m, a->ln1, p.w_qkv, w->dbig, g.w_qkv, g.b_qkv, w->dx, n, d, 3 * d);
    disco__tf_ln_bwd(&m->ex, x, a->ln1_mu, a->ln1_rs, p.ln1_g, w->dx, w->dres, g.ln1_g, g.ln1_b, n,
                     d);
}

typedef struct emb_job {
    disco_tf *m;
    const int32_t *toks;
    size_t stride;
} emb_job;

static void emb_bwd_task(size_t task, void *arg)
{
    const emb_job *j = arg;
    disco_tf *m = j->m;
    size_t d = m->cfg.d_model, c0 = task * EMB_COLS, c1 = c0 + EMB_COLS < d ? c0 + EMB_COLS : d;

    for (size_t b = 0; b < m->w.b; b++) {
        for (size_t t = 0; t < m->w.t; t++) {
            const float *dr = m->w.dres + (b * m->w.t + t) * d;
            float *te = m->grads + m->lay.wte + (size_t)j->toks[b * j->stride + t] * d;
            float *pe = m->grads + m->lay.wpe + t * d;
            for (size_t c = c0; c < c1; c++) {
                te[c] += dr[c];
                pe[c] += dr[c];
            }
        }
    }
}

void disco__tf_backward_pass(disco_tf *m, const int32_t *toks, size_t stride)
{
    disco__tf_work *w = &m->w;
    size_t d = m->cfg.d_model, v = m->cfg.vocab, n = w->b * w->t, layers = m->cfg.layers;
    const float *top = w->layers[layers - 1].res2;
    emb_job ej = {m, toks, stride};

    memset(m->grads, 0, m->lay.total * sizeof(float));
    /* head: logits = lnf · wteᵀ */
    mm(m, w->logits, v, 0, m->params + m->lay.wte, d, 0, w->dx, d, n, d, v, 0);
    mm(m, w->logits, v, 1, w->lnf, d, 0, m->grads + m->lay.wte, d, v, d, n, 1);
    memset(w->dres, 0, n * d * sizeof(float));
    disco__tf_ln_bwd(&m->ex, top, w->lnf_mu, w->lnf_rs, m->params + m->lay.lnf_g, w->dx, w->dres,
                     m->grads + m->lay.lnf_g, m->grads + m->lay.lnf_b, n, d);
    for (size_t l = layers; l-- > 0;)
        layer_bwd(m, l, l > 0 ? w->layers[l - 1].res2 : w->x0);
    disco__tf_par(&m->ex, (d + EMB_COLS - 1) / EMB_COLS, emb_bwd_task, &ej);
}
