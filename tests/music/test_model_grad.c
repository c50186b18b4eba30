/*
 * test_model_grad.c - the transformer's backward pass against central
 * finite differences of its loss, with each matmul kernel this CPU has:
 * every element of every parameter tensor of a tiny model on short rows,
 * and random elements of each tensor on a row long enough for attention
 * to span several row blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/model.h"
#include "music/model_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/tu_num.h"

#define H 1e-2f
/*
 * Gradients below FLOOR are compared in absolute terms (1e-2 * FLOOR): the
 * float32 loss carries ~1e-7 relative rounding noise, which the central
 * difference turns into ~2e-5 of noise on any gradient.
 */
#define FLOOR 5e-3

/* A batch to differentiate: `batch` rows of seq + 1 tokens; `sample` 0 checks every element. */
typedef struct grad_case {
    disco_tf_config cfg;
    const int32_t *toks;
    size_t batch, seq, sample;
} grad_case;

/* Random weights so every path (biases, gains, position rows) carries gradient. */
static void randomise(disco_tf *m)
{
    float *p = disco_tf_params(m);

    for (size_t i = 0; i < disco_tf_tensor_count(m); i++) {
        disco_tf_tensor t;
        size_t n;
        assert_int_equal(disco_tf_tensor_info(m, i, &t, NULL), DISCO_OK);
        n = t.rows * t.cols;
        for (size_t k = 0; k < n; k++) {
            double g = rng_gauss();
            if (t.rows > 1)
                p[t.offset + k] = (float)(g * (t.decay ? 0.3 : 0.5));
            else if (t.name[strlen(t.name) - 1] == 'g')
                p[t.offset + k] = (float)(1.0 + 0.2 * g);
            else
                p[t.offset + k] = (float)(0.1 * g);
        }
    }
}

static double loss_at(disco_tf *m, const grad_case *gc)
{
    double loss = 0.0;

    assert_int_equal(disco_tf_loss(m, gc->toks, gc->batch, gc->seq, &loss, NULL, NULL), DISCO_OK);
    return loss;
}

/* |fd - an| / (|fd| + |an| + FLOOR) for parameter i, by central differences. */
static double element_error(disco_tf *m, const grad_case *gc, const float *an, size_t i)
{
    float *p = disco_tf_params(m), save = p[i];
    double up, down, fd;

    p[i] = save + H;
    up = loss_at(m, gc);
    p[i] = save - H;
    down = loss_at(m, gc);
    p[i] = save;
    fd = (up - down) / (double)(2.0f * H);
    return fabs(fd - an[i]) / (fabs(fd) + fabs((double)an[i]) + FLOOR);
}

/* Worst error over one tensor: every element, or gc->sample random ones. */
static double check_tensor(disco_tf *m, const grad_case *gc, const disco_tf_tensor *t,
                           const float *an, size_t *worst_at)
{
    size_t n = t->rows * t->cols, count = gc->sample ? gc->sample : n;
    double worst = 0.0;

    for (size_t s = 0; s < count; s++) {
        size_t k = gc->sample ? (size_t)(rng_uniform() * (double)n) % n : s;
        double err = element_error(m, gc, an, t->offset + k);
        if (err > worst) {
            worst = err;
            *worst_at = k;
        }
    }
    return worst;
}

static void grad_check(const grad_case *gc, int isa)
{
    disco_tf *m = NULL;
    float *an;
    double loss;
    size_t n;
    char bad[160] = "";

    assert_int_equal(disco_tf_new(&gc->cfg, &m, NULL), DISCO_OK);
    if (disco__tf_set_isa(m, isa) != DISCO_OK) {
        disco_tf_free(m);
        return; /* this CPU lacks the kernel */
    }
    rng_state = 99;
    randomise(m);
    assert_int_equal(disco_tf_backward(m, gc->toks, gc->batch, gc->seq, &loss, NULL), DISCO_OK);
    assert_true(loss > 0.5 && loss < 10.0);
    n = disco_tf_param_count(m);
    an = malloc(n * sizeof *an);
    memcpy(an, disco_tf_grads(m), n * sizeof *an);
    for (size_t i = 0; i < disco_tf_tensor_count(m) && !bad[0]; i++) {
        disco_tf_tensor t;
        size_t at = 0;
        double worst;

        disco_tf_tensor_info(m, i, &t, NULL);
        worst = check_tensor(m, gc, &t, an, &at);
        if (getenv("TF_GRAD_VERBOSE"))
            printf("isa %d %-16s worst %.3g at %zu (analytic %.3g)\n", isa, t.name, worst, at,
                   (double)an[t.offset + at]);
        if (worst > 1e-2)
            snprintf(bad, sizeof bad, "isa %d tensor %s element %zu: analytic %.6g, error %.3g",
                     isa, t.name, at, (double)an[t.offset + at], worst);
    }
    free(an);
    disco_tf_free(m);
    if (bad[0])
        fail_msg("%s", bad);
}

/* Two short rows; targets include PAD (0), which must carry no gradient. Every element. */
static void short_case(int isa)
{
    static const int32_t toks[2 * 7] = {1, 4, 7, 2, 9, 3, 10, 1, 5, 5, 8, 0, 6, 0};
    grad_case gc = {
        .cfg = {.vocab = 11, .ctx = 8, .d_model = 8, .layers = 2, .heads = 2, .seed = 5},
        .toks = toks,
        .batch = 2,
        .seq = 6};

    grad_check(&gc, isa);
}

/* One row of 150 positions: attention over several row blocks. Sampled elements. */
static void long_case(int isa)
{
    int32_t toks[151];
    grad_case gc = {
        .cfg = {.vocab = 9, .ctx = 160, .d_model = 8, .layers = 1, .heads = 2, .seed = 6},
        .toks = toks,
        .batch = 1,
        .seq = 150,
        .sample = 6};

    rng_state = 21;
    for (size_t i = 0; i < 151; i++)
        toks[i] = 1 + (int32_t)(rng_uniform() * 8);
    grad_check(&gc, isa);
}

static void test_grad_portable(void **state)
{
    (void)state;
    short_case(DISCO__TF_ISA_PORTABLE);
    long_case(DISCO__TF_ISA_PORTABLE);
}

static void test_grad_best(void **state)
{
    (void)state;
    short_case(disco__tf_isa_best());
    long_case(disco__tf_isa_best());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_portable),
        cmocka_unit_test(test_grad_best),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
