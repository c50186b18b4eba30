/*
 * model_attn.c - causal multi-head self-attention of the batched passes,
 * forward and backward, one task per (sequence, head), built on the packed
 * matmul (run serially inside the task).
 *
 * Row n of qkv is [q | k | v], each d wide with head h in columns
 * h*hd .. h*hd+hd-1; P is the head's T x T block of att.
 *
 *   forward:  S = Q Kᵀ,  P = softmax(S / sqrt(hd)) per row over keys 0..i
 *             (zeros above the diagonal),  O = P V
 *   backward: dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P (dP - <P, dP>) / sqrt(hd)
 *             (written over P, which is not needed after),
 *             dQ = dS K,  dK = dSᵀ Q
 *
 * Query rows go in blocks of RB: block [i0, i1) only meets keys below i1,
 * so the products skip most of the zero upper triangle. A task touches
 * only its own head's columns, P block and scratch, and runs in a fixed
 * order, so the results do not depend on the threads.
 */
#include "model_int.h"

#include <math.h>
#include <string.h>

#define RB 64

size_t disco__tf_attn_scratch(size_t t, size_t hd)
{
    size_t p1 = disco__tf_pack_size(t, hd, 1), p2 = disco__tf_pack_size(hd, t, 0);

    return (RB * t + (p1 > p2 ? p1 : p2) + 15) / 16 * 16;
}

/* One (sequence, head): its operands, with rows 3d (qkv), d (out) or t (P) apart. */
typedef struct head {
    size_t t, d, hd;
    const float *q, *k, *v;
    float *p, *dp, *pack;
    disco__tf_exec ex; /* no pool: the task runs on one thread */
} head;

static void head_init(const disco__tf_attn *a, size_t task, int isa, head *h)
{
    size_t b = task / a->h, hh = task % a->h;
    float *scratch = a->scratch + task * disco__tf_attn_scratch(a->t, a->d / a->h);

    h->t = a->t;
    h->d = a->d;
    h->hd = a->d / a->h;
    h->q = a->qkv + b * a->t * 3 * a->d + hh * h->hd;
    h->k = h->q + a->d;
    h->v = h->q + 2 * a->d;
    h->p = a->att + task * a->t * a->t;
    h->dp = scratch;
    h->pack = h->dp + RB * a->t;
    h->ex = (disco__tf_exec){.pool = NULL, .isa = isa};
}

/* C[m x n] = op(A)[m x k] · op(B)[k x n] */
static void mm(const head *h, size_t m, size_t n, size_t k, const float *a, size_t lda, int ta,
               const float *b, size_t ldb, int tb, float *c, size_t ldc)
{
    disco__tf_gemm g = {.m = m,
                        .n = n,
                        .k = k,
                        .a = a,
                        .lda = lda,
                        .ta = ta,
                        .b = b,
                        .ldb = ldb,
                        .tb = tb,
                        .c = c,
                        .ldc = ldc};

    disco__tf_gemm_run(&h->ex, &g, h->pack);
}

typedef struct attn_job {
    const disco__tf_attn *a;
    const float *dout;
    float *dqkv;
    int isa;
} attn_job;

static void fwd_task(size_t task, void *arg)
{
    const attn_job *j = arg;
    head h;
    float scale;
    float *out =
        j->a->out + task / j->a->h * j->a->t * j->a->d + task % j->a->h * (j->a->d / j->a->h);

    head_init(j->a, task, j->isa, &h);
    scale = 1.0f / sqrtf((float)h.hd);
    for (size_t i0 = 0; i0 < h.t; i0 += RB) {
        size_t i1 = i0 + RB < h.t ? i0 + RB : h.t;
        mm(&h, i1 - i0, i1, h.hd, h.q + i0 * 3 * h.d, 3 * h.d, 0, h.k, 3 * h.d, 1, h.p + i0 * h.t,
           h.t);
        for (size_t i = i0; i < i1; i++) {
            disco__tf_softmax(h.ex.isa, h.p + i * h.t, i + 1, scale);
            memset(h.p + i * h.t + i + 1, 0, (h.t - i - 1) * sizeof(float));
        }
        mm(&h, i1 - i0, h.hd, i1, h.p + i0 * h.t, h.t, 0, h.v, 3 * h.d, 0, out + i0 * h.d, h.d);
    }
}

void disco__tf_attn_fwd(const disco__tf_exec *ex, const disco__tf_attn *a)
{
    attn_job j = {.a = a, .isa = ex->isa};

    disco__tf_par(ex, a->b * a->h, fwd_task, &j);
}

/* dP for query rows [i0, i1), then dS over those rows of P. */
static void ds_block(const head *h, const float *dout, size_t i0, size_t i1)
{
    float scale = 1.0f / sqrtf((float)h->hd);

    mm(h, i1 - i0, i1, h->hd, dout + i0 * h->d, h->d, 0, h->v, 3 * h->d, 1, h->dp, h->t);
    for (size_t i = i0; i < i1; i++) {
        float *p = h->p + i * h->t;
        const float *dp = h->dp + (i - i0) * h->t;
        float dot = 0.0f;

        for (size_t k = 0; k <= i; k++)
            dot += p[k] * dp[k];
        for (size_t k = 0; k <= i; k++)
            p[k] = p[k] * (dp[k] - dot) * scale;
    }
}

static void bwd_task(size_t task, void *arg)
{
    const attn_job *j = arg;
    size_t row = task / j->a->h * j->a->t, col = task % j->a->h * (j->a->d / j->a->h);
    const float *dout = j->dout + row * j->a->d + col;
    float *dq = j->dqkv + row * 3 * j->a->d + col, *dk = dq + j->a->d, *dv = dq + 2 * j->a->d;
    head h;

    head_init(j->a, task, j->isa, &h);
    for (size_t j0 = 0; j0 < h.t; j0 += RB) { /* dV = Pᵀ dO, key rows [j0, j1) */
        size_t j1 = j0 + RB < h.t ? j0 + RB : h.t;
        mm(&h, j1 - j0, h.hd, h.t - j0, h.p + j0 * h.t + j0, h.t, 1, dout + j0 * h.d, h.d, 0,
           dv + j0 * 3 * h.d, 3 * h.d);
    }
    for (size_t i0 = 0; i0 < h.t; i0 += RB)
        ds_block(&h, dout, i0, i0 + RB < h.t ? i0 + RB : h.t);
    for (size_t i0 = 0; i0 < h.t; i0 += RB) { /* dQ = dS K */
        size_t i1 = i0 + RB < h.t ? i0 + RB : h.t;
        mm(&h, i1 - i0, h.hd, i1, h.p + i0 * h.t, h.t, 0, h.k, 3 * h.d, 0, dq + i0 * 3 * h.d,
           3 * h.d);
    }
    for (size_t j0 = 0; j0 < h.t; j0 += RB) { /* dK = dSᵀ Q */
        size_t j1 = j0 + RB < h.t ? j0 + RB : h.t;
        mm(&h, j1 - j0, h.hd, h.t - j0, h.p + j0 * h.t + j0, h.t, 1, h.q + j0 * 3 * h.d, 3 * h.d, 0,
           dk + j0 * 3 * h.d, 3 * h.d);
    }
}

void disco__tf_attn_bwd(const disco__tf_exec *ex, const disco__tf_attn *a, const float *dout,
                        float *dqkv)
{
    attn_job j = {.a = a, .dout = dout, .dqkv = dqkv, .isa = ex->isa};

    disco__tf_par(ex, a->b * a->h, bwd_task, &j);
}
