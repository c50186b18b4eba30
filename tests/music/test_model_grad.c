/*
 * test_model_grad.c - the transformer's backward pass against central
 * finite differences of its loss, for every element of every parameter
 * tensor of a tiny model, with each matmul kernel this CPU has.
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

#define B 2
#define T 6
#define H 1e-2f

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

static double loss_at(disco_tf *m, const int32_t *toks)
{
    double loss = 0.0;

    assert_int_equal(disco_tf_loss(m, toks, B, T, &loss, NULL, NULL), DISCO_OK);
    return loss;
}

/* Worst |fd - an| / (|fd| + |an| + floor) over one tensor; all elements. */
static double check_tensor(disco_tf *m, const disco_tf_tensor *t, const float *an,
                           const int32_t *toks, size_t *worst_at)
{
    float *p = disco_tf_params(m);
    double worst = 0.0;

    for (size_t k = 0; k < t->rows * t->cols; k++) {
        size_t i = t->offset + k;
        float save = p[i];
        double up, down, fd, err;

        p[i] = save + H;
        up = loss_at(m, toks);
        p[i] = save - H;
        down = loss_at(m, toks);
        p[i] = save;
        fd = (up - down) / (double)(2.0f * H);
        err = fabs(fd - an[i]) / (fabs(fd) + fabs((double)an[i]) + 2e-3);
        if (err > worst) {
            worst = err;
            *worst_at = k;
        }
    }
    return worst;
}

static void grad_check(int isa)
{
    disco_tf_config cfg = {.vocab = 11, .ctx = 8, .d_model = 8, .layers = 2, .heads = 2, .seed = 5};
    /* targets include PAD (0), which must carry no gradient */
    int32_t toks[B * (T + 1)] = {1, 4, 7, 2, 9, 3, 10, 1, 5, 5, 8, 0, 6, 0};
    disco_tf *m = NULL;
    float *an;
    double loss;
    size_t n;
    char bad[160] = "";

    assert_int_equal(disco_tf_new(&cfg, &m, NULL), DISCO_OK);
    if (disco__tf_set_isa(m, isa) != DISCO_OK) {
        disco_tf_free(m);
        return; /* this CPU lacks the kernel */
    }
    rng_state = 99;
    randomise(m);
    assert_int_equal(disco_tf_backward(m, toks, B, T, &loss, NULL), DISCO_OK);
    assert_true(loss > 0.5 && loss < 10.0);
    n = disco_tf_param_count(m);
    an = malloc(n * sizeof *an);
    memcpy(an, disco_tf_grads(m), n * sizeof *an);
    for (size_t i = 0; i < disco_tf_tensor_count(m) && !bad[0]; i++) {
        disco_tf_tensor t;
        size_t at = 0;
        double worst;

        disco_tf_tensor_info(m, i, &t, NULL);
        worst = check_tensor(m, &t, an, toks, &at);
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

static void test_grad_portable(void **state)
{
    (void)state;
    grad_check(DISCO__TF_ISA_PORTABLE);
}

static void test_grad_best(void **state)
{
    (void)state;
    grad_check(disco__tf_isa_best());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_portable),
        cmocka_unit_test(test_grad_best),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
