/*
 * model_ops.c - the transformer's row and elementwise operations, forward
 * and backward: LayerNorm, GELU, softmax cross-entropy, column sums.
 *
 * Work is cut into fixed pieces (64 rows, 64 columns, 16384 elements):
 * per-row results are independent, and sums across rows (norm and bias
 * gradients, the loss) are taken per column block or per row chunk in row
 * order and then combined in chunk order, so no result depends on the
 * number of threads.
 */
#include "model_int.h"

#include <math.h>
#include <string.h>

#define ROWS 64
#define COLS 64
#define ELEMS 16384

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* ---- LayerNorm -------------------------------------------------------------------- */

void disco__tf_ln_row(const float *x, const float *g, const float *b, float *y, size_t d, float *mu,
                      float *rs)
{
    float s = 0.0f, v = 0.0f, m, r;

    for (size_t i = 0; i < d; i++)
        s += x[i];
    m = s / (float)d;
    for (size_t i = 0; i < d; i++)
        v += (x[i] - m) * (x[i] - m);
    r = 1.0f / sqrtf(v / (float)d + DISCO__TF_LN_EPS);
    for (size_t i = 0; i < d; i++)
        y[i] = (x[i] - m) * r * g[i] + b[i];
    *mu = m;
    *rs = r;
}

typedef struct ln_job {
    const float *x, *g, *b, *mu, *rs, *dy;
    float *y, *omu, *ors, *dx, *dg, *db;
    size_t n, d, row_tasks;
} ln_job;

static void ln_fwd_task(size_t t, void *arg)
{
    const ln_job *j = arg;

    for (size_t i = t * ROWS; i < min_sz(j->n, (t + 1) * ROWS); i++)
        disco__tf_ln_row(j->x + i * j->d, j->g, j->b, j->y + i * j->d, j->d, j->omu + i,
                         j->ors + i);
}

void disco__tf_ln_fwd(const disco__tf_exec *ex, const float *x, const float *g, const float *b,
                      float *y, float *mu, float *rs, size_t n, size_t d)
{
    ln_job j = {.x = x, .g = g, .b = b, .y = y, .omu = mu, .ors = rs, .n = n, .d = d};

    disco__tf_par(ex, ceil_div(n, ROWS), ln_fwd_task, &j);
}

/* dx += rs (dxh - mean(dxh) - xh mean(dxh xh)), dxh = dy g, xh = (x - mu) rs. */
static void ln_bwd_row(const ln_job *j, size_t i)
{
    const float *x = j->x + i * j->d, *dy = j->dy + i * j->d;
    float *dx = j->dx + i * j->d, mu = j->mu[i], rs = j->rs[i], s1 = 0.0f, s2 = 0.0f;

    for (size_t c = 0; c < j->d; c++) {
        float dxh = dy[c] * j->g[c];
        s1 += dxh;
        s2 += dxh * (x[c] - mu) * rs;
    }
    s1 /= (float)j->d;
    s2 /= (float)j->d;
    for (size_t c = 0; c < j->d; c++)
        dx[c] += rs * (dy[c] * j->g[c] - s1 - (x[c] - mu) * rs * s2);
}

static void ln_bwd_task(size_t t, void *arg)
{
    const ln_job *j = arg;

    if (t < j->row_tasks) {
        for (size_t i = t * ROWS; i < min_sz(j->n, (t + 1) * ROWS); i++)
            ln_bwd_row(j, i);
        return;
    }
    t -= j->row_tasks;
    size_t c0 = t * COLS, c1 = min_sz(j->d, c0 + COLS);
    for (size_t i = 0; i < j->n; i++) {
        const float *x = j->x + i * j->d, *dy = j->dy + i * j->d;
        float mu = j->mu[i], rs = j->rs[i];
        for (size_t c = c0; c < c1; c++) {
            j->dg[c] += dy[c] * (x[c] - mu) * rs;
            j->db[c] += dy[c];
        }
    }
}

void disco__tf_ln_bwd(const disco__tf_exec *ex, const float *x, const float *mu, const float *rs,
                      const float *g, const float *dy, float *dx, float *dg, float *db, size_t n,
                      size_t d)
{
    ln_job j = {.x = x,
                .mu = mu,
                .rs = rs,
                .g = g,
                .dy = dy,
                .dx = dx,
                .dg = dg,
                .db = db,
                .n = n,
                .d = d,
                .row_tasks = ceil_div(n, ROWS)};

    disco__tf_par(ex, j.row_tasks + ceil_div(d, COLS), ln_bwd_task, &j);
}

/* ---- column sums ---------------------------------------------------------------------- */

typedef struct colsum_job {
    const float *x;
    float *out;
    size_t n, d;
} colsum_job;

static void colsum_task(size_t t, void *arg)
{
    const colsum_job *j = arg;
    size_t c0 = t * COLS, c1 = min_sz(j->d, c0 + COLS);

    for (size_t i = 0; i < j->n; i++) {
        const float *x = j->x + i * j->d;
        for (size_t c = c0; c < c1; c++)
            j->out[c] += x[c];
    }
}

void disco__tf_colsum(const disco__tf_exec *ex, const float *x, float *out, size_t n, size_t d)
{
    colsum_job j = {x, out, n, d};

    disco__tf_par(ex, ceil_div(d, COLS), colsum_task, &j);
}

/* ---- GELU ----------------------------------------------------------------------------- */

/*
 * GELU, tanh form: 0.5 x (1 + tanh(u)), u = K (x + C x³), written as
 * x s with s = 0.5 (1 + tanh u) = 1 / (1 + e^(-2u)); its derivative is
 * s + x s (1 - s) 2K (1 + 3C x²).
 */
#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

static float gelu_s(float x)
{
    return 1.0f / (1.0f + disco__tf_exp(-2.0f * GELU_K * (x + GELU_C * x * x * x)));
}

float disco__tf_gelu(float x)
{
    return x * gelu_s(x);
}

float disco__tf_gelu_grad(float x)
{
    float s = gelu_s(x);

    return s + x * s * (1.0f - s) * 2.0f * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
}

typedef struct gelu_job {
    const float *x;
    float *y;
    size_t n;
    int isa;
} gelu_job;

static void gelu_fwd_task(size_t t, void *arg)
{
    const gelu_job *j = arg;
    size_t i0 = t * ELEMS, i1 = min_sz(j->n, i0 + ELEMS);

    if (j->isa == DISCO__TF_ISA_AVX2) {
        disco__tf_gelu_fwd_avx2(j->x + i0, j->y + i0, i1 - i0);
        return;
    }
    for (size_t i = i0; i < i1; i++)
        j->y[i] = disco__tf_gelu(j->x[i]);
}

static void gelu_bwd_task(size_t t, void *arg)
{
    const gelu_job *j = arg;
    size_t i0 = t * ELEMS, i1 = min_sz(j->n, i0 + ELEMS);

    if (j->isa == DISCO__TF_ISA_AVX2) {
        disco__tf_gelu_bwd_avx2(j->x + i0, j->y + i0, i1 - i0);
        return;
    }
    for (size_t i = i0; i < i1; i++)
        j->y[i] *= disco__tf_gelu_grad(j->x[i]);
}

void disco__tf_gelu_fwd(const disco__tf_exec *ex, const float *x, float *y, size_t n)
{
    gelu_job j = {x, y, n, ex->isa};

    disco__tf_par(ex, ceil_div(n, ELEMS), gelu_fwd_task, &j);
}

void disco__tf_gelu_bwd(const disco__tf_exec *ex, const float *x, float *dy, size_t n)
{
    gelu_job j = {x, dy, n, ex->isa};

    disco__tf_par(ex, ceil_div(n, ELEMS), gelu_bwd_task, &j);
}

/* ---- softmax and cross-entropy ---------------------------------------------------------- */

/* p[j] = e^(scale p[j] - mx) for j < n; returns their sum. */
static float exp_sum(int isa, float *p, size_t n, float scale, float mx)
{
    float s = 0.0f;

    if (isa == DISCO__TF_ISA_AVX2)
        return disco__tf_softmax_avx2(p, n, scale, mx);
    for (size_t j = 0; j < n; j++)
        s += p[j] = disco__tf_exp(p[j] * scale - mx);
    return s;
}

void disco__tf_softmax(int isa, float *p, size_t n, float scale)
{
    float mx = p[0] * scale, inv;

    for (size_t j = 1; j < n; j++)
        mx = p[j] * scale > mx ? p[j] * scale : mx;
    inv = 1.0f / exp_sum(isa, p, n, scale, mx);
    for (size_t j = 0; j < n; j++)
        p[j] *= inv;
}

void disco__tf_log_softmax(float *x, size_t n)
{
    float mx = x[0];
    double s = 0.0;

    for (size_t i = 1; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    for (size_t i = 0; i < n; i++)
        s += exp((double)(x[i] - mx));
    float lse = mx + (float)log(s);
    for (size_t i = 0; i < n; i++)
        x[i] -= lse;
}

typedef struct xent_job {
    float *logits;
    const int32_t *tgt;
    size_t n, v;
    int grad, isa;
    float inv_count;
    double *part;
} xent_job;

/* NLL of one row; with grad, the row becomes (softmax - onehot) * inv_count. */
static double xent_row(const xent_job *j, size_t i)
{
    float *x = j->logits + i * j->v, mx = x[0], s, at;
    int32_t t = j->tgt[i];

    if (t == 0) {
        if (j->grad)
            memset(x, 0, j->v * sizeof(float));
        return 0.0;
    }
    for (size_t c = 1; c < j->v; c++)
        mx = x[c] > mx ? x[c] : mx;
    at = x[t];
    s = exp_sum(j->isa, x, j->v, 1.0f, mx);
    if (j->grad) {
        float inv = j->inv_count / s;
        for (size_t c = 0; c < j->v; c++)
            x[c] *= inv;
        x[t] -= j->inv_count;
    }
    return (double)mx + log((double)s) - (double)at;
}

static void xent_task(size_t t, void *arg)
{
    const xent_job *j = arg;
    double s = 0.0;

    for (size_t i = t * ROWS; i < min_sz(j->n, (t + 1) * ROWS); i++)
        s += xent_row(j, i);
    j->part[t] = s;
}

double disco__tf_xent(const disco__tf_exec *ex, float *logits, const int32_t *tgt, size_t n,
                      size_t v, int grad, double *part, size_t *count)
{
    xent_job j = {
        .logits = logits, .tgt = tgt, .n = n, .v = v, .grad = grad, .isa = ex->isa, .part = part};
    size_t cnt = 0, tasks = ceil_div(n, ROWS);
    double sum = 0.0;

    for (size_t i = 0; i < n; i++)
        cnt += tgt[i] != 0;
    j.inv_count = cnt ? 1.0f / (float)cnt : 0.0f;
    disco__tf_par(ex, tasks, xent_task, &j);
    for (size_t t = 0; t < tasks; t++)
        sum += part[t];
    *count = cnt;
    return sum;
}
