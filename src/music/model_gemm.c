/*
 * model_gemm.c - the transformer's matrix product: the parallel driver,
 * B packing, the portable micro-kernel and the portable matrix-vector
 * product.
 *
 * DESIGN: C is cut into tiles of MC x NC; a task computes one tile as
 * micro-tiles of MR x NR (6 x 16), walking k in blocks of KC so the B
 * panel (KC x NR) stays in L1 while every strip of the tile passes over
 * it. The kernel reads A in place through a row and a k stride, so the
 * same kernel takes A or Aᵀ without copying; B is read in place when it is
 * stored [k][n], and packed into panels pb[panel][k][NR] when stored
 * transposed (always small: weights) or for the last, partial panel
 * (padded with zeros so the kernel can load all NR columns):
 *
 *   X · W     A rows, B in place      dY · Wᵀ   A rows, B packed
 *   Xᵀ · dY   A columns, B in place
 *
 * Tile and block bounds depend only on the shapes, and each C element sums
 * its k terms in order, so results do not depend on the number of threads.
 */
#include "model_int.h"

#include <string.h>

#define MR DISCO__TF_MR
#define NR DISCO__TF_NR
#define MC (8 * MR)
#define NC (8 * NR)
#define KC 256
#define PACK_PANELS 4 /* panels of B per packing task */

size_t disco__tf_pack_size(size_t n, size_t k, int tb)
{
    return (tb ? (n + NR - 1) / NR : n % NR != 0) * NR * k;
}

/* ---- portable micro-kernel ------------------------------------------------------- */

void disco__tf_kern_portable(const disco__tf_kargs *k)
{
    float acc[MR][NR] = {{0}};
    size_t off[MR];

    for (size_t r = 0; r < MR; r++)
        off[r] = (r < k->mr ? r : 0) * k->a_rs;
    for (size_t r = 0; r < k->mr; r++) {
        for (size_t j = 0; j < k->nr; j++)
            acc[r][j] = (k->load_c ? k->c[r * k->ldc + j] : 0.0f) + (k->bias ? k->bias[j] : 0.0f);
    }
    for (size_t p = 0; p < k->kc; p++) {
        const float *restrict b = k->b + p * k->b_ks, *a = k->a + p * k->a_ks;

        for (size_t r = 0; r < MR; r++) {
            float av = a[off[r]];
            for (size_t j = 0; j < NR; j++)
                acc[r][j] += av * b[j];
        }
    }
    for (size_t r = 0; r < k->mr; r++)
        memcpy(k->c + r * k->ldc, acc[r], k->nr * sizeof(float));
}

void disco__tf_matvec_portable(const float *x, const float *w, const float *bias, float *y,
                               size_t k, size_t n)
{
    size_t i = 0;

    for (size_t j = 0; j < n; j++)
        y[j] = bias ? bias[j] : 0.0f;
    for (; i + 4 <= k; i += 4) {
        const float *restrict w0 = w + i * n, *restrict w1 = w0 + n;
        const float *restrict w2 = w1 + n, *restrict w3 = w2 + n;
        float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        float *restrict yy = y;
        size_t j = 0;

        for (; j + 8 <= n; j += 8) {
            for (size_t u = j; u < j + 8; u++)
                yy[u] += x0 * w0[u] + x1 * w1[u] + x2 * w2[u] + x3 * w3[u];
        }
        for (; j < n; j++)
            yy[j] += x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j];
    }
    for (; i < k; i++) {
        for (size_t j = 0; j < n; j++)
            y[j] += x[i] * w[i * n + j];
    }
}

/* ---- packing ------------------------------------------------------------------------ */

static void pack_b_panel(const disco__tf_gemm *g, size_t p, float *restrict dst)
{
    size_t j0 = p * NR, cols = g->n - j0 < NR ? g->n - j0 : NR;

    if (cols < NR)
        memset(dst, 0, NR * g->k * sizeof(float));
    if (g->tb) {
        for (size_t k = 0; k < g->k; k++) {
            for (size_t j = 0; j < cols; j++)
                dst[k * NR + j] = g->b[(j0 + j) * g->ldb + k];
        }
        return;
    }
    for (size_t k = 0; k < g->k; k++) {
        for (size_t j = 0; j < cols; j++)
            dst[k * NR + j] = g->b[k * g->ldb + j0 + j];
    }
}

/* ---- the driver ---------------------------------------------------------------------- */

typedef struct gemm_job {
    const disco__tf_gemm *g;
    float *pack;
    size_t strips, panels, first_packed, cblocks;
    disco__tf_kern_fn kern;
} gemm_job;

static void pack_task(size_t i, void *arg)
{
    const gemm_job *j = arg;
    size_t p0 = j->first_packed + i * PACK_PANELS;
    size_t p1 = p0 + PACK_PANELS < j->panels ? p0 + PACK_PANELS : j->panels;

    for (size_t p = p0; p < p1; p++)
        pack_b_panel(j->g, p, j->pack + (p - j->first_packed) * NR * j->g->k);
}

/* The kernel arguments of panel p over k block [k0, k0 + kc), strip left unset. */
static disco__tf_kargs panel_args(const gemm_job *j, size_t p, size_t k0, size_t kc)
{
    const disco__tf_gemm *g = j->g;
    disco__tf_kargs ka = {.a_rs = g->ta ? 1 : g->lda,
                          .a_ks = g->ta ? g->lda : 1,
                          .ldc = g->ldc,
                          .kc = kc,
                          .load_c = g->acc || k0 > 0};

    ka.nr = g->n - p * NR < NR ? g->n - p * NR : NR;
    ka.bias = g->bias && k0 == 0 ? g->bias + p * NR : NULL;
    if (p >= j->first_packed) {
        ka.b = j->pack + (p - j->first_packed) * NR * g->k + k0 * NR;
        ka.b_ks = NR;
    } else {
        ka.b = g->b + k0 * g->ldb + p * NR;
        ka.b_ks = g->ldb;
    }
    return ka;
}

static void tile_task(size_t t, void *arg)
{
    const gemm_job *j = arg;
    const disco__tf_gemm *g = j->g;
    size_t s0 = t / j->cblocks * (MC / MR), p0 = t % j->cblocks * (NC / NR);
    size_t s1 = s0 + MC / MR < j->strips ? s0 + MC / MR : j->strips;
    size_t p1 = p0 + NC / NR < j->panels ? p0 + NC / NR : j->panels;

    for (size_t k0 = 0; k0 < g->k; k0 += KC) {
        size_t kc = g->k - k0 < KC ? g->k - k0 : KC;

        for (size_t p = p0; p < p1; p++) {
            disco__tf_kargs ka = panel_args(j, p, k0, kc);

            for (size_t s = s0; s < s1; s++) {
                size_t i0 = s * MR;
                ka.mr = g->m - i0 < MR ? g->m - i0 : MR;
                ka.a = g->ta ? g->a + k0 * g->lda + i0 : g->a + i0 * g->lda + k0;
                ka.c = g->c + i0 * g->ldc + p * NR;
                j->kern(&ka);
            }
        }
    }
}

/* k == 0: C = (acc ? C : 0) + bias. */
static void gemm_empty(const disco__tf_gemm *g)
{
    for (size_t i = 0; i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++) {
            float *c = g->c + i * g->ldc + j;
            *c = (g->acc ? *c : 0.0f) + (g->bias ? g->bias[j] : 0.0f);
        }
    }
}

void disco__tf_gemm_run(const disco__tf_exec *ex, const disco__tf_gemm *g, float *pack)
{
    gemm_job j = {.g = g, .pack = pack};
    size_t to_pack;

    if (g->m == 0 || g->n == 0)
        return;
    if (g->k == 0) {
        gemm_empty(g);
        return;
    }
    j.kern = ex->isa == DISCO__TF_ISA_AVX2 ? disco__tf_kern_avx2 : disco__tf_kern_portable;
    j.strips = (g->m + MR - 1) / MR;
    j.panels = (g->n + NR - 1) / NR;
    j.first_packed = g->tb ? 0 : g->n / NR; /* in place: all but a partial last panel */
    j.cblocks = (g->n + NC - 1) / NC;
    to_pack = j.panels - j.first_packed; /* into pack[0 ..] */
    disco__tf_par(ex, (to_pack + PACK_PANELS - 1) / PACK_PANELS, pack_task, &j);
    disco__tf_par(ex, (g->m + MC - 1) / MC * j.cblocks, tile_task, &j);
}
