/*
 * test_model_lm.c - the transformer's checkpoints and inference: save/load
 * round trip (same logits to the bit, resumed training identical to
 * uninterrupted training), damaged and mismatched files refused as
 * CORRUPT, the KV-cache lm against the batched forward (before and after
 * the context slides), and the lm interface (normalised log-probs, reset,
 * bad tokens).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/crc32c.h"
#include "disco/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/testutil.h"
#include "support/tu_num.h"

static disco_tf_config tiny(void)
{
    disco_tf_config c = {.vocab = 13, .ctx = 16, .d_model = 16, .layers = 2, .heads = 2, .seed = 7};

    return c;
}

static void random_tokens(int32_t *t, size_t n, uint32_t vocab)
{
    for (size_t i = 0; i < n; i++)
        t[i] = 1 + (int32_t)(rng_uniform() * (vocab - 1));
}

/* A tiny model after two training steps (so it has AdamW state). */
static disco_tf *trained(const int32_t *toks)
{
    disco_tf_config c = tiny();
    disco_tf *m = NULL;

    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(disco_tf_train_step(m, toks, 2, 16, 5e-3f, NULL, NULL, NULL), DISCO_OK);
    return m;
}

/* ---- checkpoints ------------------------------------------------------------------------ */

static void test_save_load_round_trip(void **state)
{
    char *dir = tu_tmpdir("tfckpt"), *path = tu_path(dir, "m.ckpt"), *bare = tu_path(dir, "b.ckpt");
    int32_t toks[2 * 17];
    disco_tf *m, *l = NULL, *b = NULL;
    disco_status st = {0};
    float la[2 * 16 * 13], lb[2 * 16 * 13];
    size_t n, len = 0;
    char *bytes;

    (void)state;
    rng_state = 11;
    random_tokens(toks, 34, 13);
    m = trained(toks);
    n = disco_tf_param_count(m);
    assert_int_equal(disco_tf_save(m, path, 1, &st), DISCO_OK);
    assert_int_equal(disco_tf_save(m, bare, 0, &st), DISCO_OK);
    bytes = tu_read_file(bare, &len);
    assert_int_equal(len, 64 + 4 * n + 4);
    free(bytes);
    assert_int_equal(disco_tf_load(path, &l, &st), DISCO_OK);
    assert_int_equal(disco_tf_load(bare, &b, &st), DISCO_OK);
    assert_int_equal(disco_tf_config_get(l)->d_model, 16);
    assert_int_equal(disco_tf_config_get(l)->heads, 2);
    assert_int_equal(disco_tf_config_get(l)->seed, 7);
    assert_memory_equal(disco_tf_params(l), disco_tf_params(m), n * sizeof(float));
    assert_int_equal(disco_tf_steps(l), 2);
    assert_int_equal(disco_tf_steps(b), 0);
    assert_int_equal(disco_tf_logits(m, toks, 2, 16, la, NULL), DISCO_OK);
    assert_int_equal(disco_tf_logits(l, toks, 2, 16, lb, NULL), DISCO_OK);
    assert_memory_equal(la, lb, sizeof la);
    /* resuming from the checkpoint continues exactly where training left off */
    assert_int_equal(disco_tf_train_step(m, toks, 2, 16, 5e-3f, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_tf_train_step(l, toks, 2, 16, 5e-3f, NULL, NULL, NULL), DISCO_OK);
    assert_memory_equal(disco_tf_params(l), disco_tf_params(m), n * sizeof(float));
    /* no temporary file is left behind */
    free(bare);
    bare = tu_path(dir, "m.ckpt.tmp");
    assert_null(tu_read_file(bare, &len));
    disco_tf_free(m);
    disco_tf_free(l);
    disco_tf_free(b);
    tu_rmrf(dir);
    free(bare);
    free(path);
    free(dir);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes bytes (re-sealing the checksum when asked) and expects `want` from the load. */
static void expect_load(const char *path, unsigned char *bytes, size_t len, int reseal, int want,
                        const char *says)
{
    disco_tf *m = (disco_tf *)1;
    disco_status st = {0};

    if (reseal)
        put32(bytes + len - 4, disco_crc32c(0, bytes, len - 4));
    assert_int_equal(tu_write_file(path, bytes, len), 0);
    assert_int_equal(disco_tf_load(path, &m, &st), want);
    assert_null(m);
    if (!strstr(st.msg, says))
        fail_msg("message \"%s\" lacks \"%s\"", st.msg, says);
}

static void test_damaged_checkpoints(void **state)
{
    char *dir = tu_tmpdir("tfbad"), *path = tu_path(dir, "m.ckpt"), *bad = tu_path(dir, "x.ckpt");
    int32_t toks[2 * 17];
    disco_tf *m, *none = NULL;
    disco_status st = {0};
    unsigned char *good, *b;
    size_t len;

    (void)state;
    rng_state = 12;
    random_tokens(toks, 34, 13);
    m = trained(toks);
    assert_int_equal(disco_tf_save(m, path, 1, NULL), DISCO_OK);
    good = (unsigned char *)tu_read_file(path, &len);
    b = malloc(len);
    memcpy(b, good, len), b[64 + 4 * 100] ^= 0x10; /* one bit of one weight */
    expect_load(bad, b, len, 0, DISCO_ERR_CORRUPT, "checksum");
    memcpy(b, good, len), b[len - 1] ^= 1; /* the checksum itself */
    expect_load(bad, b, len, 0, DISCO_ERR_CORRUPT, "checksum");
    expect_load(bad, good, len - 9, 0, DISCO_ERR_CORRUPT, "checksum"); /* truncated */
    expect_load(bad, good, 40, 0, DISCO_ERR_CORRUPT, "not a transformer checkpoint");
    memcpy(b, good, len), b[0] = 'X';
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "not a transformer checkpoint");
    memcpy(b, good, len), put32(b + 8, 2);
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "version");
    memcpy(b, good, len), put32(b + 32, 3); /* heads 3 do not divide d_model 16 */
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "invalid config");
    memcpy(b, good, len), put32(b + 24, 32); /* a wider model than the weights that follow */
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "do not match");
    memcpy(b, good, len), put32(b + 12, 0); /* says no AdamW state, but it is there */
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "do not match");
    memcpy(b, good, len), put32(b + 64, 0x7fc00000); /* a NaN weight */
    expect_load(bad, b, len, 1, DISCO_ERR_CORRUPT, "non-finite");
    free(bad);
    bad = tu_path(dir, "missing.ckpt");
    assert_int_equal(disco_tf_load(bad, &none, &st), DISCO_ERR_NOTFOUND);
    assert_null(none);
    free(bad);
    bad = tu_path(dir, "no/such/dir/m.ckpt");
    assert_int_not_equal(disco_tf_save(m, bad, 0, &st), DISCO_OK);
    free(b);
    free(good);
    free(bad);
    disco_tf_free(m);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

/* ---- inference ------------------------------------------------------------------------------ */

/* The lm's log-probs after toks[from..n) against the batched forward of toks[0..n). */
static void expect_matches_forward(disco_tf *m, const int32_t *toks, size_t n, size_t from,
                                   const float *got)
{
    size_t v = disco_tf_config_get(m)->vocab;
    float *ref = malloc(n * v * sizeof *ref);

    assert_int_equal(disco_tf_logits(m, toks, 1, n, ref, NULL), DISCO_OK);
    for (size_t i = from; i < n; i++) {
        double mx = ref[i * v], s = 0.0;
        for (size_t k = 0; k < v; k++)
            mx = ref[i * v + k] > mx ? ref[i * v + k] : mx;
        for (size_t k = 0; k < v; k++)
            s += exp(ref[i * v + k] - mx);
        for (size_t k = 0; k < v; k++)
            assert_near(got[i * v + k], ref[i * v + k] - mx - log(s), 1e-4);
    }
    free(ref);
}

/* Steps through ctx + 5 tokens: a full cache, then a slide, each against the batched forward. */
static void kv_cache_case(disco_tf_config c)
{
    size_t ctx = c.ctx, half = ctx / 2, v = c.vocab;
    int32_t toks[2 * 17], *stream = malloc((ctx + 5) * sizeof *stream);
    disco_tf *m = NULL;
    disco_lm *lm = NULL;
    float *logp = malloc((ctx + 5) * v * sizeof *logp);

    random_tokens(toks, 34, c.vocab);
    random_tokens(stream, ctx + 5, c.vocab);
    assert_int_equal(disco_tf_new(&c, &m, NULL), DISCO_OK);
    assert_int_equal(disco_tf_train_step(m, toks, 2, 16, 5e-3f, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_tf_set_threads(m, 2, NULL), DISCO_OK);
    assert_int_equal(disco_tf_lm_new(m, &lm, NULL), DISCO_OK);
    for (size_t i = 0; i < ctx; i++) /* a full context */
        assert_int_equal(lm->vt->step(lm, stream[i], logp + i * v, NULL), DISCO_OK);
    expect_matches_forward(m, stream, ctx, 0, logp);
    /* the next token slides: the cache keeps the last ctx/2 tokens at positions 0.., then appends
     */
    for (size_t i = ctx; i < ctx + 5; i++)
        assert_int_equal(lm->vt->step(lm, stream[i], logp + (i - ctx + half) * v, NULL), DISCO_OK);
    expect_matches_forward(m, stream + half, half + 5, half, logp);
    lm->vt->free(lm);
    disco_tf_free(m);
    free(logp);
    free(stream);
}

static void test_kv_cache_matches_forward(void **state)
{
    disco_tf_config odd = {
        .vocab = 21, .ctx = 16, .d_model = 12, .layers = 2, .heads = 3, .seed = 2};
    disco_tf_config long_ctx = {
        .vocab = 13, .ctx = 150, .d_model = 8, .layers = 1, .heads = 2, .seed = 3};

    (void)state;
    rng_state = 13;
    kv_cache_case(tiny());
    kv_cache_case(odd);      /* widths that leave partial matmul panels */
    kv_cache_case(long_ctx); /* attention over several row blocks, a partial last one */
}

static void test_lm_interface(void **state)
{
    disco_tf_config c = tiny();
    disco_tf *m;
    disco_lm *lm = NULL;
    disco_status st = {0};
    int32_t toks[2 * 17];
    float a[13], b[13];
    double sum = 0.0;

    (void)state;
    rng_state = 14;
    random_tokens(toks, 34, c.vocab);
    m = trained(toks);
    assert_int_equal(disco_tf_lm_new(m, &lm, NULL), DISCO_OK);
    assert_string_equal(lm->vt->name, "transformer");
    assert_int_equal(lm->vt->vocab(lm), 13);
    assert_int_equal(lm->vt->step(lm, 1, a, NULL), DISCO_OK);
    for (size_t k = 0; k < 13; k++) {
        assert_true(a[k] <= 0.0f);
        sum += exp(a[k]);
    }
    assert_near(sum, 1.0, 1e-5);
    for (size_t i = 0; i < 40; i++) /* past two slides */
        assert_int_equal(lm->vt->step(lm, toks[i % 34], b, NULL), DISCO_OK);
    lm->vt->reset(lm);
    assert_int_equal(lm->vt->step(lm, 1, b, NULL), DISCO_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(lm->vt->step(lm, 13, b, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "token");
    assert_int_equal(lm->vt->step(lm, -2, b, &st), DISCO_ERR_INVAL);
    lm->vt->free(lm);
    disco_tf_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_damaged_checkpoints),
        cmocka_unit_test(test_kv_cache_matches_forward),
        cmocka_unit_test(test_lm_interface),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
