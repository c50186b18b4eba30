/*
 * model_int.h - internals shared by the transformer's files:
 *
 *   model.c          config, parameter layout, initialisation, threads
 *   model_io.c       checkpoints
 *   model_gemm.c     blocked matmul (portable micro-kernel) and its parallel driver
 *   model_avx2.c     AVX2/FMA micro-kernel, matrix-vector product, exp, GELU, softmax
 *   model_ops.c      LayerNorm, GELU, softmax cross-entropy, column sums (fwd and bwd)
 *   model_attn.c     causal attention, forward and backward, on the matmul
 *   model_fwd.c      the batched forward (activations kept), loss, logits, eval
 *   model_bwd.c      the backward pass
 *   model_opt.c      gradient clipping, AdamW, learning-rate schedule, train step
 *   model_infer.c    KV-cache incremental inference as a disco_lm
 */
#ifndef DISCO_MUSIC_MODEL_INT_H
#define DISCO_MUSIC_MODEL_INT_H

#include "disco/model.h"
#include "disco/pool.h"

#include <stddef.h>
#include <stdint.h>

/* ---- execution: thread pool and kernel choice ------------------------------ */

enum { DISCO__TF_ISA_PORTABLE = 0, DISCO__TF_ISA_AVX2 = 1 };

typedef struct disco__tf_exec {
    disco_pool *pool; /* NULL: run on the caller only */
    int isa;
} disco__tf_exec;

/* The best kernel this CPU runs. */
int disco__tf_isa_best(void);

/* Forces a kernel (tests); AVX2 is refused (INVAL) on a CPU without it. */
int disco__tf_set_isa(disco_tf *m, int isa);

/* Runs fn(i, arg) for i in [0, n) on the pool, or in order on the caller. */
void disco__tf_par(const disco__tf_exec *ex, size_t n, void (*fn)(size_t i, void *arg), void *arg);

/* ---- parameter layout (offsets in floats) ----------------------------------- */

typedef struct disco__tf_loff {
    size_t ln1_g, ln1_b, w_qkv, b_qkv, w_proj, b_proj;
    size_t ln2_g, ln2_b, w_fc, b_fc, w_out, b_out;
} disco__tf_loff;

typedef struct disco__tf_layout {
    size_t wte, wpe, layer0, layer_size, lnf_g, lnf_b, total;
    disco__tf_loff l; /* relative to the start of a layer */
} disco__tf_layout;

void disco__tf_layout_make(const disco_tf_config *cfg, disco__tf_layout *lay);

/* The parameters (or gradients: same layout) of one layer. */
typedef struct disco__tf_lp {
    float *ln1_g, *ln1_b, *w_qkv, *b_qkv, *w_proj, *b_proj;
    float *ln2_g, *ln2_b, *w_fc, *b_fc, *w_out, *b_out;
} disco__tf_lp;

void disco__tf_layer_ptrs(const disco__tf_layout *lay, float *base, size_t layer,
                          disco__tf_lp *out);

/* ---- activations of one batched forward, kept for the backward -------------- */

typedef struct disco__tf_lacts {
    float *ln1, *ln1_mu, *ln1_rs; /* N x d, N, N */
    float *qkv;                   /* N x 3d */
    float *att;                   /* B x H x T x T softmax rows (zero above the diagonal) */
    float *ao;                    /* N x d attention output, heads concatenated */
    float *res1;                  /* N x d residual after attention */
    float *ln2, *ln2_mu, *ln2_rs;
    float *fc, *gl; /* N x 4d before and after GELU */
    float *res2;    /* N x d residual after the MLP */
} disco__tf_lacts;

typedef struct disco__tf_work {
    size_t cap_b, cap_t; /* allocated for batch x seq up to these */
    size_t b, t;         /* shape of the last forward */
    float *mem;          /* one allocation; everything below points into it */
    float *x0;           /* N x d embeddings */
    disco__tf_lacts *layers;
    float *lnf, *lnf_mu, *lnf_rs;
    float *logits;           /* N x V; d loss / d logits after the backward */
    float *dres, *dx, *dbig; /* backward: N x d, N x d, N x 4d */
    float *attn_scratch;     /* B x H x disco__tf_attn_scratch(T, d / H) */
    float *pack;             /* matmul packing */
    double *part;            /* per-chunk partial sums */
    int32_t *tgt;            /* N targets of the last forward (PAD: none) */
} disco__tf_work;

/* Makes sure the work area holds batch x seq. Errors: NOMEM. */
int disco__tf_work_reserve(disco_tf *m, size_t batch, size_t seq, disco_status *st);

/* ---- the model ----------------------------------------------------------------- */

struct disco_tf {
    disco_tf_config cfg;
    disco__tf_layout lay;
    float *params;
    float *grads;           /* NULL until the first backward */
    float *adam_m, *adam_v; /* NULL until the first step (or a load with state) */
    uint64_t steps;
    disco__tf_exec ex;
    disco__tf_work w;
};

/* Allocates the model around an (already checked) config; params zeroed. */
int disco__tf_alloc(const disco_tf_config *cfg, disco_tf **out, disco_status *st);

/* Allocates grads / AdamW state when missing. Errors: NOMEM. */
int disco__tf_need_grads(disco_tf *m, disco_status *st);
int disco__tf_need_adam(disco_tf *m, disco_status *st);

/* Checks batch/seq and that every token is in range. `n_per_row` tokens per row. */
int disco__tf_check_batch(const disco_tf *m, const int32_t *toks, size_t batch, size_t seq,
                          size_t n_per_row, disco_status *st);

/* ---- matmul ----------------------------------------------------------------------- */

/*
 * C[m x n] = (acc ? C : 0) + bias[n] + A[m x k] · B[k x n], row-major with
 * leading dimensions; ta / tb: A or B is stored transposed (A[i,k] at
 * a[k * lda + i]). Each C element is summed over k in order, whatever the
 * threads.
 */
typedef struct disco__tf_gemm {
    size_t m, n, k;
    const float *a;
    size_t lda;
    int ta;
    const float *b;
    size_t ldb;
    int tb;
    const float *bias;
    float *c;
    size_t ldc;
    int acc;
} disco__tf_gemm;

#define DISCO__TF_MR 6
#define DISCO__TF_NR 16

/* Floats of packing room that a product with n columns, depth k and B (tb) needs. */
size_t disco__tf_pack_size(size_t n, size_t k, int tb);

/* Runs g across the pool; `pack` holds disco__tf_pack_size(g->n, g->k, g->tb) floats. */
void disco__tf_gemm_run(const disco__tf_exec *ex, const disco__tf_gemm *g, float *pack);

/*
 * One micro-kernel call: the mr x nr (<= MR x NR) tile at c gets
 * (load_c ? c : 0) + (bias ? bias[0..nr) : 0) + sum over k < kc of
 * A(r, k) B(k, j), with A(r, k) at a[r * a_rs + k * a_ks] (rows r >= mr
 * are never read) and B(k, j) at b[k * b_ks + j] for all NR columns (the
 * caller pads a partial panel).
 */
typedef struct disco__tf_kargs {
    const float *a;
    size_t a_rs, a_ks;
    const float *b;
    size_t b_ks;
    float *c;
    size_t ldc, kc, mr, nr;
    const float *bias;
    int load_c;
} disco__tf_kargs;

typedef void (*disco__tf_kern_fn)(const disco__tf_kargs *k);

void disco__tf_kern_portable(const disco__tf_kargs *k);
void disco__tf_kern_avx2(const disco__tf_kargs *k);

/* y[n] = bias[n] (or 0) + x[k] · W[k x n] (row-major); y must not alias. */
void disco__tf_matvec_portable(const float *x, const float *w, const float *bias, float *y,
                               size_t k, size_t n);
void disco__tf_matvec_avx2(const float *x, const float *w, const float *bias, float *y, size_t k,
                           size_t n);

/* ---- elementwise and row operations (model_ops.c) ----------------------------------- */

/*
 * e^x in float without libm: x clamped to [-87, 88], x = n ln2 + r with
 * |r| <= ln2 / 2, e^r by its degree-6 Taylor polynomial, 2^n put into the
 * exponent bits. Relative error below 3e-7. The AVX2 version in
 * model_avx2.c computes the same steps eight lanes at a time.
 */
static inline float disco__tf_exp(float x)
{
    union {
        float f;
        int32_t i;
    } t, p;
    float n, r;

    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    t.f = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: rounds to an integer */
    n = t.f - 12582912.0f;
    r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    p.f = 1.0f +
          r * (1.0f +
               r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    p.i += (t.i - 0x4B400000) * (1 << 23);
    return p.f;
}

/* GELU forward / backward over n values with AVX2 (same formulas as model_ops.c). */
void disco__tf_gelu_fwd_avx2(const float *x, float *y, size_t n);
void disco__tf_gelu_bwd_avx2(const float *x, float *dy, size_t n);

#define DISCO__TF_LN_EPS 1e-5f

/* One row: y = (x - mean) / sqrt(var + eps) * g + b; returns mean and 1/std. */
void disco__tf_ln_row(const float *x, const float *g, const float *b, float *y, size_t d, float *mu,
                      float *rs);

/* LayerNorm over rows [n x d] across the pool. */
void disco__tf_ln_fwd(const disco__tf_exec *ex, const float *x, const float *g, const float *b,
                      float *y, float *mu, float *rs, size_t n, size_t d);

/*
 * LayerNorm backward: dx += d/dx (n x d), dg/db += sums over rows (in row
 * order, split by columns).
 */
void disco__tf_ln_bwd(const disco__tf_exec *ex, const float *x, const float *mu, const float *rs,
                      const float *g, const float *dy, float *dx, float *dg, float *db, size_t n,
                      size_t d);

/* out[j] += sum over rows of x[i * d + j] (rows in order, split by columns). */
void disco__tf_colsum(const disco__tf_exec *ex, const float *x, float *out, size_t n, size_t d);

/* GELU (tanh form) of one value and its derivative. */
float disco__tf_gelu(float x);
float disco__tf_gelu_grad(float x);

void disco__tf_gelu_fwd(const disco__tf_exec *ex, const float *x, float *y, size_t n);

/* dy[i] *= gelu'(x[i]) */
void disco__tf_gelu_bwd(const disco__tf_exec *ex, const float *x, float *dy, size_t n);

/*
 * Softmax cross-entropy over rows logits[n x v] with targets tgt[n] (PAD 0
 * skipped). Returns the summed NLL (double, fixed order); *count gets the
 * non-PAD rows. With `grad`, logits become d(sum / scale)/d logits where
 * scale is the count (rows with a PAD target get zeros).
 */
double disco__tf_xent(const disco__tf_exec *ex, float *logits, const int32_t *tgt, size_t n,
                      size_t v, int grad, double *part, size_t *count);

/* Log-softmax of one row in place. */
void disco__tf_log_softmax(float *x, size_t n);

/* Softmax of scale * p[0..n) in place (n >= 1, scale > 0). */
void disco__tf_softmax(int isa, float *p, size_t n, float scale);

/* p[j] = e^(scale p[j] - mx) for j < n with AVX2; returns their sum. */
float disco__tf_softmax_avx2(float *p, size_t n, float scale, float mx);

/* ---- attention (model_attn.c) --------------------------------------------------------- */

typedef struct disco__tf_attn {
    size_t b, t, h, d; /* batch, seq, heads, width */
    const float *qkv;  /* N x 3d: q | k | v, head-major inside each */
    float *att;        /* B x H x T x T; the backward leaves dS in it */
    float *out;        /* N x d */
    float *scratch;    /* B x H x disco__tf_attn_scratch(T, d / H) */
} disco__tf_attn;

/* Scratch floats one (sequence, head) task needs. */
size_t disco__tf_attn_scratch(size_t t, size_t hd);

void disco__tf_attn_fwd(const disco__tf_exec *ex, const disco__tf_attn *a);

/* From dout (N x d) to dqkv (N x 3d, overwritten). */
void disco__tf_attn_bwd(const disco__tf_exec *ex, const disco__tf_attn *a, const float *dout,
                        float *dqkv);

/* ---- passes ---------------------------------------------------------------------------- */

/* Forward of `batch` rows of `seq` inputs (row stride `stride` tokens); logits left in w. */
int disco__tf_forward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, size_t stride,
                      disco_status *st);

/* disco_tf_backward, also giving the number of targets scored. */
int disco__tf_backward(disco_tf *m, const int32_t *toks, size_t batch, size_t seq, double *loss,
                       size_t *count, disco_status *st);

/* After a forward with targets: fills m->grads (the logits hold d loss / d logits). */
void disco__tf_backward_pass(disco_tf *m, const int32_t *toks, size_t stride);

#endif
