/*
 * test_model.c - the transformer's kernels and training: matmul and
 * matrix-vector kernels (portable and AVX2) against a double reference,
 * exp and GELU, config checks and bad input, overfitting a repeated
 * sequence, determinism (same seed, 1 vs 2 vs 3 threads), the AdamW step
 * against hand computation (clipping, decay only on matrices), PAD
 * targets, evaluation windows and the learning-rate schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/model.h"
#include "disco/tokens.h"
#include "music/model_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/tu_num.h"

static disco_tf_config tiny(void)
{
    disco_tf_config c = {.vocab = 13, .ctx = 16, .d_model = 16, .layers = 2, .heads = 2, .seed = 7};

    return c;
}

static void fill_uniform(float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * rng_uniform());
}

static void random_tokens(int32_t *t, size_t n, uint32_t vocab)
{
    for (size_t i = 0; i < n; i++)
        t[i] = 1 + (int32_t)(rng_uniform() * (vocab - 1));
}

/* ---- kernels ------------------------------------------------------------------------ */

static const int isas[] = {DISCO__TF_ISA_PORTABLE, DISCO__TF_ISA_AVX2};

static int have_isa(int isa)
{
    return isa == DISCO__TF_ISA_PORTABLE || disco__tf_isa_best() == isa;
}

typedef struct gemm_case {
    size_t m, n, k, lda, ldb, ldc;
    int ta, tb, acc;
    float *a, *b, *c0, *bias;
    double *want, *mag;
} gemm_case;

static void gemm_reference(gemm_case *g)
{
    for (size_t i = 0; i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++) {
            double w = (g->acc ? g->c0[i * g->ldc + j] : 0.0) + (g->bias ? g->bias[j] : 0.0);
            double mag = 1.0;
            for (size_t p = 0; p < g->k; p++) {
                double x = g->ta ? g->a[p * g->lda + i] : g->a[i * g->lda + p];
                double y = g->tb ? g->b[j * g->ldb + p] : g->b[p * g->ldb + j];
                w += x * y;
                mag += fabs(x * y);
            }
            g->want[i * g->n + j] = w;
            g->mag[i * g->n + j] = mag;
        }
    }
}

/* Runs the case with one kernel, serial or on the pool; checks it; leaves C in c. */
static void gemm_try(const gemm_case *g, int isa, disco_pool *pool, float *c, float *pack)
{
    disco__tf_exec ex = {pool, isa};
    disco__tf_gemm d = {.m = g->m,
                        .n = g->n,
                        .k = g->k,
                        .a = g->a,
                        .lda = g->lda,
                        .ta = g->ta,
                        .b = g->b,
                        .ldb = g->ldb,
                        .tb = g->tb,
                        .bias = g->bias,
                        .c = c,
                        .ldc = g->ldc,
                        .acc = g->acc};

    memcpy(c, g->c0, g->m * g->ldc * sizeof *c);
    disco__tf_gemm_run(&ex, &d, pack);
    for (size_t i = 0; i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++)
            assert_near(c[i * g->ldc + j], g->want[i * g->n + j], 1e-6 * g->mag[i * g->n + j]);
        /* padding columns untouched */
        assert_memory_equal(c + i * g->ldc + g->n, g->c0 + i * g->ldc + g->n, 4 * sizeof *c);
    }
}

/* One product against a double reference, for both kernels, serial and on a pool. */
static void check_gemm(size_t m, size_t n, size_t k, int mode, disco_pool *pool)
{
    gemm_case g = {
        .m = m, .n = n, .k = k, .ta = mode & 1, .tb = (mode >> 1) & 1, .acc = (mode >> 2) & 1};
    size_t asz, bsz;
    float *c, *serial, *pack;

    g.lda = g.ta ? m + 3 : k + 2;
    g.ldb = g.tb ? k + 1 : n + 5;
    g.ldc = n + 4;
    asz = (g.ta ? k : m) * g.lda;
    bsz = (g.tb ? n : k) * g.ldb;
    g.a = malloc(asz * 4), g.b = malloc(bsz * 4), g.c0 = malloc(m * g.ldc * 4);
    g.bias = (mode >> 3) & 1 ? malloc(n * 4) : NULL;
    g.want = malloc(m * n * sizeof(double)), g.mag = malloc(m * n * sizeof(double));
    c = malloc(m * g.ldc * 4), serial = malloc(m * g.ldc * 4);
    pack = malloc((disco__tf_pack_size(n, k, g.tb) + 1) * 4);
    fill_uniform(g.a, asz, -1, 1);
    fill_uniform(g.b, bsz, -1, 1);
    fill_uniform(g.c0, m * g.ldc, -1, 1);
    if (g.bias)
        fill_uniform(g.bias, n, -1, 1);
    gemm_reference(&g);
    for (size_t t = 0; t < 2; t++) {
        if (!have_isa(isas[t]))
            continue;
        gemm_try(&g, isas[t], NULL, serial, pack);
        gemm_try(&g, isas[t], pool, c, pack); /* threads change nothing, to the bit */
        assert_memory_equal(c, serial, m * g.ldc * sizeof *c);
    }
    free(g.a), free(g.b), free(g.c0), free(g.bias), free(g.want), free(g.mag);
    free(c), free(serial), free(pack);
}

static void test_gemm_kernels(void **state)
{
    static const size_t shapes[][3] = {{1, 1, 1},    {6, 16, 8},    {7, 17, 3},  {13, 37, 300},
                                       {50, 129, 5}, {97, 33, 257}, {5, 200, 70}};
    disco_pool *pool = NULL;

    (void)state;
    rng_state = 3;
    assert_int_equal(disco_pool_new(2, &pool), DISCO_OK);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int mode = 0; mode < 16; mode++)
            check_gemm(shapes[s][0], shapes[s][1], shapes[s][2], mode, pool);
    }
    disco_pool_free(pool);
}

static void test_matvec_kernels(void **state)
{
    static const size_t shapes[][2] = {{1, 1}, {4, 8}, {7, 13}, {33, 100}, {192, 576}};

    (void)state;
    rng_state = 4;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t k = shapes[s][0], n = shapes[s][1];
        float *x = malloc(k * 4), *w = malloc(k * n * 4), *b = malloc(n * 4), *y = malloc(n * 4);
        fill_uniform(x, k, -1, 1);
        fill_uniform(w, k * n, -1, 1);
        fill_uniform(b, n, -1, 1);
        for (int t = 0; t < 2; t++) {
            if (!have_isa(isas[t]))
                continue;
            (t ? disco__tf_matvec_avx2 : disco__tf_matvec_portable)(x, w, b, y, k, n);
            for (size_t j = 0; j < n; j++) {
                double want = b[j];
                for (size_t i = 0; i < k; i++)
                    want += (double)x[i] * w[i * n + j];
                assert_near(y[j], want, 1e-5 * (double)k);
            }
        }
        free(x);
        free(w);
        free(b);
        free(y);
    }
}

static void test_exp_and_gelu(void **state)
{
    float x[203], y[203], g[203];

    (void)state;
    for (double v = -80.0; v < 80.0; v += 0.01237)
        assert_near(disco__tf_exp((float)v) / exp((float)v), 1.0, 5e-7);
    assert_true(disco__tf_exp(-1000.0f) > 0.0f && disco__tf_exp(-1000.0f) < 1e-37f);
    assert_true(isfinite(disco__tf_exp(1000.0f)));
    for (size_t i = 0; i < 203; i++)
        x[i] = -8.0f + 16.0f * (float)i / 202.0f;
    for (size_t i = 0; i < 203; i++) { /* the tanh form, and the derivative by differences */
        double v = x[i], h = 1e-3;
        double want = 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        assert_near(disco__tf_gelu(x[i]), want, 1e-6 * (1.0 + fabs(v)));
        double fd = (disco__tf_gelu((float)(v + h)) - disco__tf_gelu((float)(v - h))) / (2 * h);
        assert_near(disco__tf_gelu_grad(x[i]), fd, 2e-3);
    }
    if (!have_isa(DISCO__TF_ISA_AVX2))
        return;
    disco__tf_gelu_fwd_avx2(x, y, 203);
    for (size_t i = 0; i < 203; i++) {
        g[i] = 1.0f;
        assert_near(y[i], disco__tf_gelu(x[i]), 1e-6 * (1.0 + fabs(x[i])));
    }
    disco__tf_gelu_bwd_avx2(x, g, 203);
    for (size_t i = 0; i < 203; i++)
        assert_near(g[i], disco__tf_gelu_grad(x[i]), 1e-5);
}

/* ---- config and input checks ---------------------------------------------------------- */

static void test_config(void **state)
{
    disco_tf_config c = disco_tf_config_default(), bad;
    disco_status st = {0};
    disco_tf *m = NULL;
    size_t d = c.d_model;

    (void)state;
    assert_int_equal(c.vocab, DISCO_TOK_VOCAB);
    assert_int_equal(c.ctx, 256);
    assert_int_equal(c.d_model, 192);
    assert_int_equal(c.layers, 4);
    assert_int_equal(c.heads, 6);
    assert_int_equal(disco_tf_new(&c, &m, &st), DISCO_OK);
    assert_int_equal(disco_tf_param_count(m),
                     (c.vocab + c.ctx) * d + c.layers * (12 * d * d + 13 * d) + 2 * d);
    /* checkpoint without optimiser state: header, parameters, checksum */
    assert_true(64 + 4 * disco_tf_param_count(m) + 4 <= 20u * 1000 * 1000);
    assert_int_equal(disco_tf_tensor_count(m), 4 + 12 * c.layers);
    disco_tf_free(m);
    struct {
        size_t off;
        uint32_t v;
        const char *field;
    } cases[] = {{offsetof(disco_tf_config, vocab), 1, "vocab"},
                 {offsetof(disco_tf_config, ctx), 7, "ctx"},
                 {offsetof(disco_tf_config, ctx), 2048, "ctx"},
                 {offsetof(disco_tf_config, d_model), 0, "d_model"},
                 {offsetof(disco_tf_config, layers), 0, "layers"},
                 {offsetof(disco_tf_config, heads), 5, "heads"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bad = c;
        memcpy((char *)&bad + cases[i].off, &cases[i].v, sizeof(uint32_t));
        assert_int_equal(disco_tf_new(&bad, &m, &st), DISCO_ERR_INVAL);
        assert_null(m);
        assert_string_equal(st.field, cases[i].field);
    }
}

static void test_tensors_and_decay(void **state)
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    disco_tf_tensor t;
    size_t at = 0, decayed = 0;

    (void)state;
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    for (size_t i = 0; i < disco_tf_tensor_count(m); i++) { /* contiguous, in order */
        assert_int_equal(disco_tf_tensor_info(m, i, &t, NULL), DISCO_OK);
        assert_int_equal(t.offset, at);
        at += t.rows * t.cols;
        decayed += t.decay;
        assert_int_equal(t.decay, strstr(t.name, ".w_") != NULL);
    }
    assert_int_equal(at, disco_tf_param_count(m));
    assert_int_equal(decayed, 4 * c.layers);
    assert_int_equal(disco_tf_tensor_info(m, disco_tf_tensor_count(m), &t, NULL), DISCO_ERR_INVAL);
    disco_tf_tensor_info(m, 4, &t, NULL);
    assert_string_equal(t.name, "h0.attn.w_qkv");
    assert_int_equal(t.rows, 16);
    assert_int_equal(t.cols, 48);
    disco_tf_free(m);
}

static void test_bad_input(void **state)
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    disco_status st = {0};
    int32_t toks[2 * 9] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    int32_t pads[5] = {1, 0, 0, 0, 0};
    double loss;
    float logits[13 * 8];

    (void)state;
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    toks[11] = 13;
    assert_int_equal(disco_tf_loss(m, toks, 2, 8, &loss, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tokens");
    toks[11] = -1;
    assert_int_equal(disco_tf_train_step(m, toks, 2, 8, 1e-3f, NULL, NULL, &st), DISCO_ERR_INVAL);
    toks[11] = 3;
    assert_int_equal(disco_tf_loss(m, toks, 1, 17, &loss, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "seq");
    assert_int_equal(disco_tf_loss(m, toks, 0, 8, &loss, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tf_logits(m, toks, 1, 0, logits, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tf_loss(m, pads, 1, 4, &loss, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tf_eval(m, toks, 1, &loss, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tf_train_step(m, toks, 2, 8, -1.0f, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "lr");
    assert_int_equal(disco_tf_steps(m), 0);
    disco_tf_free(m);
}

/* ---- training ------------------------------------------------------------------------------ */

static void test_overfit_repeated_sequence(void **state)
{
    disco_tf_config c = {.vocab = 12, .ctx = 16, .d_model = 16, .layers = 2, .heads = 2, .seed = 1};
    static const int32_t motif[5] = {3, 9, 4, 4, 7};
    int32_t toks[2 * 17];
    disco_tf *m = NULL;
    disco_tf_step s = {0};
    double first = 0.0;

    (void)state;
    for (size_t r = 0; r < 2; r++) {
        toks[r * 17] = 1; /* BOS, then the motif over and over */
        for (size_t i = 1; i < 17; i++)
            toks[r * 17 + i] = motif[(i - 1) % 5];
    }
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    for (int step = 0; step < 300; step++) {
        assert_int_equal(disco_tf_train_step(m, toks, 2, 16,
                                             disco_tf_lr_at(step, 20, 300, 1e-2f, 1e-3f), NULL, &s,
                                             NULL),
                         DISCO_OK);
        if (step == 0)
            first = s.loss;
        assert_true(isfinite(s.loss) && s.grad_norm > 0.0);
    }
    assert_true(first > 2.0);
    assert_true(s.loss < 0.05);
    assert_int_equal(s.tokens, 32);
    assert_int_equal(disco_tf_steps(m), 300);
    disco_tf_free(m);
}

/* Trains a fresh tiny model for 3 steps on `threads` threads; returns params and losses. */
static float *train_copy(size_t threads, uint64_t seed, double losses[3])
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    int32_t toks[3 * 17];
    disco_tf_step s;
    float *out;

    c.seed = seed;
    rng_state = 77;
    random_tokens(toks, 3 * 17, c.vocab);
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    assert_int_equal(disco_tf_set_threads(m, threads, NULL), DISCO_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(disco_tf_train_step(m, toks, 3, 16, 3e-3f, NULL, &s, NULL), DISCO_OK);
        losses[i] = s.loss;
    }
    out = malloc(disco_tf_param_count(m) * sizeof *out);
    memcpy(out, disco_tf_params(m), disco_tf_param_count(m) * sizeof *out);
    disco_tf_free(m);
    return out;
}

static void test_deterministic_across_threads(void **state)
{
    double l1[3], l2[3], l3[3], lo[3];
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    size_t n;
    float *p1 = train_copy(1, 7, l1), *p2 = train_copy(2, 7, l2), *p3 = train_copy(3, 7, l3);
    float *po = train_copy(1, 8, lo);

    (void)state;
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    n = disco_tf_param_count(m);
    disco_tf_free(m);
    assert_memory_equal(p1, p2, n * sizeof *p1);
    assert_memory_equal(p1, p3, n * sizeof *p1);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_memory_equal(l1, l3, sizeof l1);
    assert_true(memcmp(p1, po, n * sizeof *p1) != 0); /* another seed, other weights */
    assert_true(l1[2] < l1[0]);
    free(p1);
    free(p2);
    free(p3);
    free(po);
}

/* One step from fresh moments: each update is lr (g' / (|g'| + eps) + wd p [matrices only]). */
static void test_adamw_step(void **state)
{
    disco_tf_config c = tiny();
    disco_tf_opt o = disco_tf_opt_default();
    disco_tf *m = NULL;
    int32_t toks[2 * 9];
    float *before, *grads, lr = 0.01f;
    double loss, norm = 0.0;
    disco_tf_step s;
    size_t n;

    (void)state;
    rng_state = 5;
    random_tokens(toks, 18, c.vocab);
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    n = disco_tf_param_count(m);
    before = malloc(n * sizeof *before);
    grads = malloc(n * sizeof *grads);
    memcpy(before, disco_tf_params(m), n * sizeof *before);
    assert_int_equal(disco_tf_backward(m, toks, 2, 8, &loss, NULL), DISCO_OK);
    memcpy(grads, disco_tf_grads(m), n * sizeof *grads);
    for (size_t i = 0; i < n; i++)
        norm += (double)grads[i] * grads[i];
    norm = sqrt(norm);
    o.clip = (float)(norm / 4); /* clipping active: g' = g / 4 */
    assert_int_equal(disco_tf_train_step(m, toks, 2, 8, lr, &o, &s, NULL), DISCO_OK);
    assert_near(s.loss, loss, 1e-12);
    assert_near(s.grad_norm, norm, 1e-6 * norm);
    for (size_t t = 0; t < disco_tf_tensor_count(m); t++) {
        disco_tf_tensor ti;
        disco_tf_tensor_info(m, t, &ti, NULL);
        for (size_t k = 0; k < ti.rows * ti.cols; k += 7) {
            size_t i = ti.offset + k;
            double g = grads[i] * (o.clip / norm);
            double want = before[i] - lr * (g / (fabs(g) + o.eps) +
                                            (ti.decay ? o.weight_decay * before[i] : 0.0));
            assert_near(disco_tf_params(m)[i], want, 2e-6);
        }
    }
    free(before);
    free(grads);
    disco_tf_free(m);
}

/* A row whose targets are all PAD changes nothing; PAD targets inside a row are skipped. */
static void test_pad_targets(void **state)
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    int32_t one[9] = {1, 5, 6, 7, 8, 9, 10, 11, 12}, two[18] = {0};
    double a, b;
    size_t ca, cb;

    (void)state;
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    memcpy(two, one, sizeof one);
    two[9] = 4;
    assert_int_equal(disco_tf_loss(m, one, 1, 8, &a, &ca, NULL), DISCO_OK);
    assert_int_equal(disco_tf_loss(m, two, 2, 8, &b, &cb, NULL), DISCO_OK);
    assert_int_equal(ca, 8);
    assert_int_equal(cb, 8);
    assert_near(a, b, 1e-6);
    one[8] = 0;
    assert_int_equal(disco_tf_loss(m, one, 1, 8, &a, &ca, NULL), DISCO_OK);
    assert_int_equal(ca, 7);
    disco_tf_free(m);
}

/* Evaluation windows: ctx + 1 tokens overlapping by one, the rest in a short window. */
static void test_eval_windows(void **state)
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;
    int32_t toks[2 * 16 + 6];
    double nll, l0, l1, l2, lm_nll;
    size_t cnt, c0, c1, c2;
    disco_lm *lm = NULL;

    (void)state;
    rng_state = 9;
    random_tokens(toks, sizeof toks / sizeof toks[0], c.vocab);
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    assert_int_equal(disco_tf_eval(m, toks, 38, &nll, &cnt, NULL), DISCO_OK);
    assert_int_equal(cnt, 37);
    assert_int_equal(disco_tf_loss(m, toks, 1, 16, &l0, &c0, NULL), DISCO_OK);
    assert_int_equal(disco_tf_loss(m, toks + 16, 1, 16, &l1, &c1, NULL), DISCO_OK);
    assert_int_equal(disco_tf_loss(m, toks + 32, 1, 5, &l2, &c2, NULL), DISCO_OK);
    assert_near(nll, (l0 * c0 + l1 * c1 + l2 * c2) / 37.0, 1e-6);
    /* within one window, the KV-cache lm scores the same */
    assert_int_equal(disco_tf_eval(m, toks, 17, &nll, &cnt, NULL), DISCO_OK);
    assert_int_equal(disco_tf_lm_new(m, &lm, NULL), DISCO_OK);
    assert_int_equal(disco_lm_nll(lm, toks, 17, &lm_nll, NULL), DISCO_OK);
    assert_near(lm_nll, nll, 1e-5);
    lm->vt->free(lm);
    disco_tf_free(m);
}

static void test_lr_schedule(void **state)
{
    (void)state;
    assert_near(disco_tf_lr_at(0, 10, 110, 1e-3f, 1e-4f), 1e-4, 1e-9);
    assert_near(disco_tf_lr_at(9, 10, 110, 1e-3f, 1e-4f), 1e-3, 1e-9);
    assert_near(disco_tf_lr_at(10, 10, 110, 1e-3f, 1e-4f), 1e-3, 1e-9);
    assert_near(disco_tf_lr_at(60, 10, 110, 1e-3f, 1e-4f), 5.5e-4, 1e-8);
    assert_near(disco_tf_lr_at(110, 10, 110, 1e-3f, 1e-4f), 1e-4, 1e-9);
    assert_near(disco_tf_lr_at(500, 10, 110, 1e-3f, 1e-4f), 1e-4, 1e-9);
    assert_near(disco_tf_lr_at(0, 0, 100, 1e-3f, 0.0f), 1e-3, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_kernels),
        cmocka_unit_test(test_matvec_kernels),
        cmocka_unit_test(test_exp_and_gelu),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_tensors_and_decay),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_overfit_repeated_sequence),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_adamw_step),
        cmocka_unit_test(test_pad_targets),
        cmocka_unit_test(test_eval_windows),
        cmocka_unit_test(test_lr_schedule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
