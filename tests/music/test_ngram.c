/*
 * test_ngram.c - the modified Kneser-Ney n-gram baseline: hand-computed
 * probabilities on a toy corpus (orders 2 and 3, the arithmetic in the
 * comments), whole distributions that sum to one with no zero entry for
 * seen and unseen contexts, point probabilities and NLL that agree with
 * the next-token model, NLL that falls with the order and approaches the
 * true entropy of a word grammar as data grows, the file round trip and
 * damaged files, input validation, and the speed on a REMI-like corpus
 * (printed, not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/crc32c.h"
#include "disco/ngram.h"
#include "disco/tokens.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "support/testutil.h"
#include "support/tu_num.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* --- corpora ------------------------------------------------------------------ */

typedef struct corpus {
    int32_t **seqs;
    size_t *lens;
    size_t n, cap, ntok;
} corpus;

static void corpus_add(corpus *c, const int32_t *toks, size_t n)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->seqs = realloc(c->seqs, c->cap * sizeof *c->seqs);
        c->lens = realloc(c->lens, c->cap * sizeof *c->lens);
        assert_non_null(c->seqs);
        assert_non_null(c->lens);
    }
    c->seqs[c->n] = malloc(n * sizeof *toks);
    assert_non_null(c->seqs[c->n]);
    memcpy(c->seqs[c->n], toks, n * sizeof *toks);
    c->lens[c->n++] = n;
    c->ntok += n;
}

static void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->seqs[i]);
    free(c->seqs);
    free(c->lens);
    memset(c, 0, sizeof *c);
}

static disco_ngram *build(const corpus *c, int order, int vocab)
{
    disco_ngram_config cfg = {.order = order, .vocab = vocab};
    disco_status st = {0};
    disco_ngram *m = NULL;

    assert_int_equal(
        disco_ngram_build(&cfg, (const int32_t *const *)c->seqs, c->lens, c->n, &m, &st), DISCO_OK);
    return m;
}

/*
 * The toy corpus: PAD 0, BOS 1, EOS 2, a 3, b 4, c 5, vocab 6.
 *   BOS a a b c EOS  /  BOS b a c EOS  /  BOS a b b a c EOS  /  BOS a c a b c EOS
 */
#define A 3
#define B 4
#define C 5
#define EOS DISCO_TOK_EOS
#define BOS DISCO_TOK_BOS

static corpus toy(void)
{
    static const int32_t s1[] = {BOS, A, A, B, C, EOS}, s2[] = {BOS, B, A, C, EOS},
                         s3[] = {BOS, A, B, B, A, C, EOS}, s4[] = {BOS, A, C, A, B, C, EOS};
    corpus c = {0};

    corpus_add(&c, s1, 6);
    corpus_add(&c, s2, 5);
    corpus_add(&c, s3, 7);
    corpus_add(&c, s4, 7);
    return c;
}

/* p(tok | ctx) from the model's whole distribution after stepping through ctx. */
static double lm_prob(disco_lm *lm, const int32_t *ctx, size_t n, int32_t tok)
{
    float logp[64];

    assert_true(lm->vt->vocab(lm) <= 64);
    lm->vt->reset(lm);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(lm->vt->step(lm, ctx[i], logp, NULL), DISCO_OK);
    return exp((double)logp[tok]);
}

/* Both query paths agree with the hand value. */
static void expect_prob(const disco_ngram *m, disco_lm *lm, const int32_t *ctx, size_t n,
                        int32_t tok, double want)
{
    assert_near(disco_ngram_prob(m, ctx, n, tok), want, 1e-7); /* gamma is a float */
    assert_near(lm_prob(lm, ctx, n, tok), want, 2e-6);
}

/*
 * Order 2. Unigram level, continuation counts (distinct left neighbours):
 *   EOS {c} = 1, a {BOS, a, b, c} = 4, b {BOS, a, b} = 3, c {a, b} = 2; BOS, PAD 0.
 *   n1..n4 = 1, 1, 1, 1: Y = 1/3, D1 = 1 - 2/3 = 1/3, D2 = 2 - 3/3 = 1, D3+ = 3 - 4/3 = 5/3.
 *   total 10, gamma = (1/3 + 1 + 5/3 + 5/3) / 10 = 7/15, uniform share 7/15 / 6 = 7/90:
 *   p1(PAD) = 7/90, p1(EOS) = (2/3)/10 + 7/90 = 13/90, p1(a) = (7/3)/10 + 7/90 = 28/90,
 *   p1(b) = (4/3)/10 + 7/90 = 19/90, p1(c) = 1/10 + 7/90 = 16/90.
 * Bigram level, raw counts: BOS a 3, BOS b 1, a a 1, a b 3, a c 3, b a 2, b b 1, b c 2,
 *   c EOS 4, c a 1. n1..n4 = 4, 2, 3, 1: Y = 4/8 = 1/2, D1 = 1 - 2 (1/2)(2/4) = 1/2,
 *   D2 = 2 - 3 (1/2)(3/2) = -1/4 -> kept at 0.1 * 2 = 0.2, D3+ = 3 - 4 (1/2)(1/3) = 7/3.
 *   After BOS: total 4, gamma = (7/3 + 1/2) / 4 = 17/24;
 *     p(a|BOS) = (3 - 7/3)/4 + 17/24 * 28/90 = 1/6 + 476/2160 = 836/2160,
 *     p(c|BOS) = 17/24 * 16/90 = 272/2160.
 *   After a: total 7, gamma = (1/2 + 7/3 + 7/3) / 7 = 31/42;
 *     p(b|a) = (2/3)/7 + 31/42 * 19/90 = 360/3780 + 589/3780 = 949/3780,
 *     p(EOS|a) = 31/42 * 13/90 = 403/3780.
 *   After b: total 5, gamma = (0.2 + 0.5 + 0.2) / 5 = 0.18; p(a|b) = 1.8/5 + 0.18 * 28/90 = 0.416.
 *   After EOS (never followed): the unigram level, p(a|EOS) = 28/90.
 */
static void test_hand_order2(void **state)
{
    corpus c = toy();
    disco_ngram *m = build(&c, 2, 6);
    disco_lm *lm;
    double d[3];
    const int32_t bos[] = {BOS}, a[] = {BOS, A}, b[] = {B}, eos[] = {EOS};

    (void)state;
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    assert_int_equal(disco_ngram_count(m, 1), 5); /* BOS, EOS, a, b, c */
    assert_int_equal(disco_ngram_count(m, 2), 10);
    assert_int_equal(disco_ngram_discounts(m, 1, d), DISCO_OK);
    assert_near(d[0], 1.0 / 3, 1e-12);
    assert_near(d[1], 1.0, 1e-12);
    assert_near(d[2], 5.0 / 3, 1e-12);
    assert_int_equal(disco_ngram_discounts(m, 2, d), DISCO_OK);
    assert_near(d[0], 0.5, 1e-12);
    assert_near(d[1], 0.2, 1e-12);
    assert_near(d[2], 7.0 / 3, 1e-12);
    assert_int_equal(disco_ngram_discounts(m, 3, d), DISCO_ERR_INVAL);
    expect_prob(m, lm, bos, 1, A, 836.0 / 2160);
    expect_prob(m, lm, bos, 1, C, 272.0 / 2160);
    expect_prob(m, lm, a, 2, B, 949.0 / 3780); /* order 2: only the last token counts */
    expect_prob(m, lm, a, 2, EOS, 403.0 / 3780);
    expect_prob(m, lm, b, 1, A, 0.416);
    expect_prob(m, lm, eos, 1, A, 28.0 / 90);
    expect_prob(m, lm, eos, 1, DISCO_TOK_PAD, 7.0 / 90);
    assert_near(disco_ngram_prob(m, NULL, 0, B), 19.0 / 90, 1e-7);
    lm->vt->free(lm);
    disco_ngram_free(m);
    corpus_free(&c);
}

/*
 * Order 3, same corpus. Unigrams as for order 2 (p1(c) = 16/90 = 8/45).
 * Bigram level: continuation counts, but BOS-initial bigrams keep raw counts:
 *   BOS a 3, BOS b 1 (raw); a a {BOS} 1, a b {a, BOS, c} 3, a c {b, BOS} 2, b a {BOS, b} 2,
 *   b b {a} 1, b c {a} 1, c EOS {a, b} 2, c a {a} 1.  n1..n4 = 5, 3, 2, 0:
 *   Y = 5/11, D1 = 1 - 2 (5/11)(3/5) = 5/11, D2 = 2 - 3 (5/11)(2/3) = 12/11, D3+ = 3 - 0 = 3.
 * Trigram level, raw: all 1 but a b c, a c EOS, b a c, b c EOS 2. n1..n4 = 9, 4, 0, 0:
 *   Y = 9/17, D1 = 1 - 2 (9/17)(4/9) = 9/17, D2 = 2 - 0 = 2, D3+ cannot be formed (n3 = 0):
 *   0.5 * 3 = 1.5.
 * p(c | BOS a): after a: a a 1, a b 3, a c 2, total 6, gamma = (5/11 + 3 + 12/11) / 6 = 25/33,
 *   p2(c|a) = (2 - 12/11)/6 + 25/33 * 8/45 = 225/1485 + 200/1485 = 85/297;
 *   after BOS a: BOS a a, BOS a b, BOS a c each 1, total 3, gamma = 3 (9/17) / 3 = 9/17,
 *   p3 = (8/17)/3 + 9/17 * 85/297 = 8/51 + 5/33 = 173/561.
 * p(c | EOS a): "EOS a" was never seen, so p2(c|a) = 85/297.
 * p(a | BOS): BOS a 3, BOS b 1, total 4, gamma = (3 + 5/11) / 4 = 19/22,
 *   p = (3 - 3)/4 + 19/22 * 28/90 = 532/1980.
 */
static void test_hand_order3(void **state)
{
    corpus c = toy();
    disco_ngram *m = build(&c, 3, 6);
    disco_lm *lm;
    double d[3];
    const int32_t bos_a[] = {BOS, A}, eos_a[] = {EOS, A}, bos[] = {BOS};

    (void)state;
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    assert_int_equal(disco_ngram_discounts(m, 2, d), DISCO_OK);
    assert_near(d[0], 5.0 / 11, 1e-12);
    assert_near(d[1], 12.0 / 11, 1e-12);
    assert_near(d[2], 3.0, 1e-12);
    assert_int_equal(disco_ngram_discounts(m, 3, d), DISCO_OK);
    assert_near(d[0], 9.0 / 17, 1e-12);
    assert_near(d[1], 2.0, 1e-12);
    assert_near(d[2], 1.5, 1e-12);
    assert_int_equal(disco_ngram_count(m, 3), 13);
    expect_prob(m, lm, bos_a, 2, C, 173.0 / 561);
    expect_prob(m, lm, eos_a, 2, C, 85.0 / 297);
    expect_prob(m, lm, bos, 1, A, 532.0 / 1980);
    lm->vt->free(lm);
    disco_ngram_free(m);
    corpus_free(&c);
}

/* --- the word grammar --------------------------------------------------------- */

/*
 * Sentences of words from a fixed lexicon, each word drawn independently,
 * spelled with letters a..f (tokens 4..9), separated by SP (3); after each
 * word the sentence ends (EOS) with probability END_P. Vocab 12: tokens 10
 * and 11 never occur. The true next-token probability depends only on the
 * letters of the current word so far; an order-5 context always tells the
 * word's state (after "abc", only "f a b c" vs "SP a b c" says whether
 * "fabce" or "abc"/"abcd" is being spelled), order 4 does not.
 */
#define SP 3
#define GV 12
#define END_P 0.2
#define MAX_SENT 4096

static const struct {
    const char *w;
    double p;
} lexicon[] = {
    {"a", 0.10},   {"ab", 0.12},   {"abc", 0.08},  {"abcd", 0.05},  {"b", 0.07},
    {"bad", 0.10}, {"bead", 0.06}, {"cab", 0.09},  {"dace", 0.05},  {"dab", 0.08},
    {"e", 0.04},   {"face", 0.06}, {"fade", 0.05}, {"fabce", 0.05},
};
#define NLEX (sizeof lexicon / sizeof lexicon[0])

static size_t gen_sentence(int32_t *out)
{
    size_t n = 0;

    out[n++] = BOS;
    for (;;) {
        double u = rng_uniform(), acc = 0.0;
        size_t w = 0;

        for (; w + 1 < NLEX; w++) {
            acc += lexicon[w].p;
            if (u < acc)
                break;
        }
        for (const char *ch = lexicon[w].w; *ch; ch++)
            out[n++] = 4 + (*ch - 'a');
        if (rng_uniform() < END_P || n > MAX_SENT - 8) {
            out[n++] = EOS;
            return n;
        }
        out[n++] = SP;
    }
}

static corpus grammar(uint64_t seed, size_t ntok)
{
    int32_t buf[MAX_SENT];
    corpus c = {0};

    rng_state = seed;
    while (c.ntok < ntok)
        corpus_add(&c, buf, gen_sentence(buf));
    return c;
}

/* Lexicon mass of the words starting with prefix[0..n), and of the word equal to it. */
static double mass(const char *prefix, size_t n, double *exact)
{
    double m = 0.0;

    *exact = 0.0;
    for (size_t w = 0; w < NLEX; w++)
        if (strncmp(lexicon[w].w, prefix, n) == 0) {
            m += lexicon[w].p;
            if (strlen(lexicon[w].w) == n)
                *exact += lexicon[w].p;
        }
    return m;
}

/* True p(tok | the current word's letters prefix[0..n)). */
static double true_prob(const char *prefix, size_t n, int32_t tok)
{
    char ext[8];
    double exact, whole = mass(prefix, n, &exact), ignore;

    if (tok >= 4 && tok <= 9) {
        memcpy(ext, prefix, n);
        ext[n] = (char)('a' + tok - 4);
        return mass(ext, n + 1, &ignore) / whole;
    }
    if (n == 0)
        return 0.0;
    if (tok == SP)
        return (1.0 - END_P) * exact / whole;
    return tok == EOS ? END_P * exact / whole : 0.0;
}

/* Total -log p of every scored token of c, under the truth and under m (if not NULL). */
static void corpus_nll(const corpus *c, const disco_ngram *m, double *truth, double *model,
                       size_t *scored)
{
    *truth = *model = 0.0;
    *scored = 0;
    for (size_t s = 0; s < c->n; s++) {
        char word[8];
        size_t wl = 0;
        double nll;

        for (size_t i = 1; i < c->lens[s]; i++) {
            int32_t t = c->seqs[s][i];

            *truth -= log(true_prob(word, wl, t));
            if (t == SP)
                wl = 0;
            else if (t != EOS)
                word[wl++] = (char)('a' + t - 4);
        }
        *scored += c->lens[s] - 1;
        if (m) {
            assert_int_equal(disco_ngram_nll(m, c->seqs[s], c->lens[s], &nll, NULL), DISCO_OK);
            *model += nll * (double)(c->lens[s] - 1);
        }
    }
}

static double heldout_gap(const corpus *train, const corpus *test, int order)
{
    disco_ngram *m = build(train, order, GV);
    double truth, model;
    size_t scored;

    corpus_nll(test, m, &truth, &model, &scored);
    disco_ngram_free(m);
    return (model - truth) / (double)scored;
}

static void test_order_lowers_nll(void **state)
{
    corpus train = grammar(11, 60000), test = grammar(12, 20000);
    double prev = INFINITY;

    (void)state;
    for (int order = 2; order <= 6; order++) {
        double gap = heldout_gap(&train, &test, order);

        print_message("order %d: held-out NLL %.4f nats/token above the truth\n", order, gap);
        if (order <= 5)
            assert_true(gap < prev - 0.01); /* the word's letters matter up to 4 back */
        else
            assert_true(gap < prev + 0.01); /* nothing more to learn, only sparser counts */
        prev = gap;
    }
    corpus_free(&train);
    corpus_free(&test);
}

static void test_nll_approaches_entropy(void **state)
{
    corpus test = grammar(21, 20000);
    const size_t sizes[] = {2000, 20000, 300000};
    double gap[3], truth, ignore;
    size_t scored;

    (void)state;
    corpus_nll(&test, NULL, &truth, &ignore, &scored);
    print_message("true NLL of the test text: %.4f nats/token\n", truth / (double)scored);
    for (int i = 0; i < 3; i++) {
        corpus train = grammar(22 + (uint64_t)i, sizes[i]);

        gap[i] = heldout_gap(&train, &test, 5);
        print_message("%zu training tokens: %.4f nats/token above the truth\n", sizes[i], gap[i]);
        corpus_free(&train);
    }
    assert_true(gap[1] < gap[0] * 0.7);
    assert_true(gap[2] < gap[1] * 0.7);
    assert_true(gap[2] > -0.01 && gap[2] < 0.01);
    corpus_free(&test);
}

/* --- whole distributions -------------------------------------------------------- */

/* Steps through ctx; after each step the distribution sums to one with no zero entry. */
static void expect_normalised(disco_lm *lm, const int32_t *ctx, size_t n)
{
    size_t v = lm->vt->vocab(lm);
    float *logp = malloc(v * sizeof *logp);

    assert_non_null(logp);
    lm->vt->reset(lm);
    for (size_t i = 0; i < n; i++) {
        double sum = 0.0;

        assert_int_equal(lm->vt->step(lm, ctx[i], logp, NULL), DISCO_OK);
        for (size_t w = 0; w < v; w++) {
            assert_true(isfinite(logp[w]));
            assert_true(exp((double)logp[w]) > 0.0);
            sum += exp((double)logp[w]);
        }
        assert_near(sum, 1.0, 1e-5);
    }
    free(logp);
}

static void test_distributions(void **state)
{
    corpus c = grammar(31, 20000);
    disco_ngram *m = build(&c, 4, GV);
    disco_lm *lm;
    /* seen: a sentence start; unseen: tokens never in the data, and never-seen orders. */
    const int32_t seen[] = {BOS, 4, 5, 6, 7, SP, 7, 4, 5, EOS};
    const int32_t unseen[] = {10, 11, 10, 0, 11, 9, 9, 9, 9, SP, BOS};
    int32_t random[200];

    (void)state;
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    assert_string_equal(lm->vt->name, "ngram");
    assert_int_equal(lm->vt->vocab(lm), GV);
    expect_normalised(lm, seen, sizeof seen / sizeof seen[0]);
    expect_normalised(lm, unseen, sizeof unseen / sizeof unseen[0]);
    rng_state = 33;
    for (size_t i = 0; i < 200; i++)
        random[i] = (int32_t)(rng_uniform() * GV);
    expect_normalised(lm, random, 200);
    /* Tokens never seen keep probability mass, more after an unseen context. */
    assert_true(disco_ngram_prob(m, seen, 3, 10) > 0.0);
    assert_true(disco_ngram_prob(m, unseen, 2, 10) > disco_ngram_prob(m, seen, 3, 10));
    assert_true(disco_ngram_prob(m, seen, 3, 12) == 0.0); /* outside the vocabulary */
    lm->vt->free(lm);
    disco_ngram_free(m);
    corpus_free(&c);
}

/* The point-probability NLL equals the one summed from the lm's distributions. */
static void test_nll_matches_lm(void **state)
{
    corpus train = grammar(41, 30000), test = grammar(42, 3000);
    disco_ngram *m = build(&train, 5, GV);
    disco_lm *lm;
    float logp[GV];

    (void)state;
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    for (size_t s = 0; s < test.n; s++) {
        const int32_t *t = test.seqs[s];
        double nll, sum = 0.0;

        assert_int_equal(disco_ngram_nll(m, t, test.lens[s], &nll, NULL), DISCO_OK);
        lm->vt->reset(lm);
        for (size_t i = 0; i + 1 < test.lens[s]; i++) {
            assert_int_equal(lm->vt->step(lm, t[i], logp, NULL), DISCO_OK);
            sum -= logp[t[i + 1]];
        }
        assert_near(nll, sum / (double)(test.lens[s] - 1), 1e-5);
    }
    lm->vt->free(lm);
    disco_ngram_free(m);
    corpus_free(&train);
    corpus_free(&test);
}

/* --- the file ------------------------------------------------------------------ */

static void expect_same_model(const disco_ngram *a, const disco_ngram *b, const corpus *probe)
{
    disco_lm *la, *lb;
    float pa[GV], pb[GV];
    double da[3], db[3];

    assert_int_equal(disco_ngram_order(a), disco_ngram_order(b));
    assert_int_equal(disco_ngram_vocab(a), disco_ngram_vocab(b));
    assert_int_equal(disco_ngram_memory(a), disco_ngram_memory(b));
    for (int k = 1; k <= disco_ngram_order(a); k++) {
        assert_int_equal(disco_ngram_count(a, k), disco_ngram_count(b, k));
        assert_int_equal(disco_ngram_discounts(a, k, da), DISCO_OK);
        assert_int_equal(disco_ngram_discounts(b, k, db), DISCO_OK);
        assert_memory_equal(da, db, sizeof da);
    }
    assert_int_equal(disco_ngram_lm_new(a, &la, NULL), DISCO_OK);
    assert_int_equal(disco_ngram_lm_new(b, &lb, NULL), DISCO_OK);
    for (size_t s = 0; s < probe->n; s++)
        for (size_t i = 0; i < probe->lens[s]; i++) {
            assert_int_equal(la->vt->step(la, probe->seqs[s][i], pa, NULL), DISCO_OK);
            assert_int_equal(lb->vt->step(lb, probe->seqs[s][i], pb, NULL), DISCO_OK);
            assert_memory_equal(pa, pb, sizeof pa);
        }
    la->vt->free(la);
    lb->vt->free(lb);
}

static void test_save_load(void **state)
{
    corpus c = grammar(51, 20000), probe = grammar(52, 500);
    disco_ngram *m = build(&c, 5, GV), *back = NULL;
    char *dir = tu_tmpdir("ngram"), *path = tu_path(dir, "model.ngram");
    disco_status st = {0};

    (void)state;
    assert_int_equal(disco_ngram_save(m, path, &st), DISCO_OK);
    assert_int_equal(disco_ngram_save(m, path, &st), DISCO_OK); /* replaces it */
    assert_int_equal(disco_ngram_load(path, &back, &st), DISCO_OK);
    expect_same_model(m, back, &probe);
    disco_ngram_free(back);
    disco_ngram_free(m);
    tu_rmrf(dir);
    free(path);
    free(dir);
    corpus_free(&c);
    corpus_free(&probe);
}

/* Writes `len` bytes of `data` (CRC trailer recomputed if asked) and loads them. */
static int load_bytes(const char *path, unsigned char *data, size_t len, int fix_crc,
                      disco_status *st)
{
    disco_ngram *m = NULL;
    int rc;

    if (fix_crc) {
        uint32_t crc = disco_crc32c(0, data, len - 4);

        memcpy(data + len - 4, &crc, 4);
    }
    assert_int_equal(tu_write_file(path, data, len), 0);
    disco_status_clear(st);
    rc = disco_ngram_load(path, &m, st);
    assert_null(m);
    return rc;
}

static void test_damaged_file(void **state)
{
    corpus c = grammar(61, 5000);
    disco_ngram *m = build(&c, 3, GV), *none = NULL;
    char *dir = tu_tmpdir("ngram"), *path = tu_path(dir, "model.ngram");
    char *bad = tu_path(dir, "bad.ngram"), *missing = tu_path(dir, "none");
    disco_status st = {0};
    unsigned char *d, *copy;
    size_t len;
    const size_t tok1 = 24 + 8 * 3; /* level 1's first token */

    (void)state;
    assert_int_equal(disco_ngram_save(m, path, &st), DISCO_OK);
    d = (unsigned char *)tu_read_file(path, &len);
    assert_non_null(d);
    copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, d, len), copy[len / 2] ^= 0x10; /* a flipped bit */
    assert_int_equal(load_bytes(bad, copy, len, 0, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "checksum"));
    memcpy(copy, d, len); /* cut short */
    assert_int_equal(load_bytes(bad, copy, len - 7, 0, &st), DISCO_ERR_CORRUPT);
    assert_int_equal(load_bytes(bad, copy, 3, 0, &st), DISCO_ERR_CORRUPT);
    memcpy(copy, d, len), copy[0] = 'X'; /* not our magic */
    assert_int_equal(load_bytes(bad, copy, len, 0, &st), DISCO_ERR_CORRUPT);
    memcpy(copy, d, len), copy[8] = 2; /* a later version */
    assert_int_equal(load_bytes(bad, copy, len, 1, &st), DISCO_ERR_UNSUPPORTED);
    memcpy(copy, d, len), copy[24] += 1; /* one more unigram than the file holds */
    assert_int_equal(load_bytes(bad, copy, len, 1, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "sizes"));
    memcpy(copy, d, len), copy[tok1] = GV, copy[tok1 + 1] = 0; /* token outside the vocab */
    assert_int_equal(load_bytes(bad, copy, len, 1, &st), DISCO_ERR_CORRUPT);
    memcpy(copy, d, len), copy[tok1] = copy[tok1 + 2]; /* two equal followers */
    copy[tok1 + 1] = copy[tok1 + 3];
    assert_int_equal(load_bytes(bad, copy, len, 1, &st), DISCO_ERR_CORRUPT);
    assert_int_equal(disco_ngram_load(missing, &none, &st), DISCO_ERR_NOTFOUND);
    memcpy(copy, d, len); /* the intact bytes still load */
    assert_int_equal(tu_write_file(bad, copy, len), 0);
    assert_int_equal(disco_ngram_load(bad, &none, &st), DISCO_OK);
    disco_ngram_free(none);
    free(d);
    free(copy);
    disco_ngram_free(m);
    tu_rmrf(dir);
    free(path);
    free(bad);
    free(missing);
    free(dir);
    corpus_free(&c);
}

/* --- bad input ------------------------------------------------------------------ */

static void expect_bad_build(const disco_ngram_config *cfg, const int32_t *const *seqs,
                             const size_t *lens, size_t n, const char *field, const char *text)
{
    disco_status st = {0};
    disco_ngram *m = NULL;

    assert_int_equal(disco_ngram_build(cfg, seqs, lens, n, &m, &st), DISCO_ERR_INVAL);
    assert_null(m);
    assert_string_equal(st.field, field);
    if (!strstr(st.msg, text))
        fail_msg("message '%s' lacks '%s'", st.msg, text);
}

static void test_bad_input(void **state)
{
    const int32_t good[] = {BOS, A, EOS}, nobos[] = {A, B}, far[] = {BOS, 6};
    const int32_t *seqs[] = {good, nobos}, *seqs_far[] = {good, far}, *seqs_empty[] = {good, good};
    const size_t lens[] = {3, 2}, lens_far[] = {3, 2}, lens_empty[] = {3, 0};
    disco_ngram_config cfg = {.order = 2, .vocab = 6};
    disco_ngram *m;
    disco_lm *lm;
    disco_status st = {0};
    double nll;

    (void)state;
    cfg.order = 1;
    expect_bad_build(&cfg, seqs, lens, 1, "order", "order 1 out of range 2..8");
    cfg.order = 9;
    expect_bad_build(&cfg, seqs, lens, 1, "order", "order 9");
    cfg.order = 2, cfg.vocab = 2;
    expect_bad_build(&cfg, seqs, lens, 1, "vocab", "vocab 2 out of range");
    cfg.vocab = 6;
    expect_bad_build(&cfg, seqs, lens, 0, "seqs", "no training sequences");
    expect_bad_build(&cfg, seqs, lens, 2, "seqs", "sequence 1 starts with token 3, not BOS");
    expect_bad_build(&cfg, seqs_far, lens_far, 2, "seqs", "sequence 1 token 1 is 6, outside 0..5");
    expect_bad_build(&cfg, seqs_empty, lens_empty, 2, "seqs", "sequence 1 is empty");
    assert_int_equal(disco_ngram_build(&cfg, seqs, lens, 1, &m, &st), DISCO_OK);
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    assert_int_equal(lm->vt->step(lm, 6, NULL, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "tok");
    assert_int_equal(lm->vt->step(lm, -1, NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_ngram_nll(m, good, 1, &nll, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_ngram_nll(m, far, 2, &nll, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "token 1 is 6"));
    lm->vt->free(lm);
    disco_ngram_free(m);
    assert_int_equal(disco_ngram_build(NULL, seqs, lens, 1, &m, &st), DISCO_OK); /* defaults */
    assert_int_equal(disco_ngram_order(m), 5);
    assert_int_equal(disco_ngram_vocab(m), DISCO_TOK_VOCAB);
    disco_ngram_free(m);
}

/* --- speed ---------------------------------------------------------------------- */

/* A REMI-like piece: header, then bars of positions with 1..3 notes (pitch random walk). */
static size_t gen_piece(int32_t *out, size_t cap)
{
    static const int scale[7] = {0, 2, 4, 5, 7, 9, 11};
    size_t n = 0;
    int degree = 21 + (int)(rng_uniform() * 14), vel = 6 + (int)(rng_uniform() * 6);

    out[n++] = BOS;
    out[n++] = DISCO_TOK_KEY0 + (int)(rng_uniform() * 24);
    out[n++] = DISCO_TOK_STYLE0 + (int)(rng_uniform() * DISCO_TOK_NSTYLES);
    out[n++] = DISCO_TOK_FAMILY0 + (int)(rng_uniform() * 8);
    out[n++] = DISCO_TOK_TEMPO0 + (int)(rng_uniform() * DISCO_TOK_TEMPOS);
    out[n++] = DISCO_TOK_TIMESIG0 + 2;
    while (n + 16 * 12 + 1 < cap) {
        out[n++] = DISCO_TOK_BAR;
        for (int pos = 0; pos < 16; pos += 2) {
            if (rng_uniform() < 0.35)
                continue;
            out[n++] = DISCO_TOK_POS0 + pos;
            for (int k = 1 + (int)(rng_uniform() * 3); k > 0; k--) {
                degree += (int)(rng_uniform() * 5) - 2;
                degree = degree < 14 ? 14 : degree > 49 ? 49 : degree;
                vel += rng_uniform() < 0.2 ? (rng_uniform() < 0.5 ? -1 : 1) : 0;
                vel = vel < 2 ? 2 : vel > 14 ? 14 : vel;
                out[n++] = DISCO_TOK_PITCH0 + 12 * (degree / 7) + scale[degree % 7];
                out[n++] = DISCO_TOK_VEL0 + vel;
                out[n++] = DISCO_TOK_DUR1 + (rng_uniform() < 0.7 ? 1 : 3);
            }
        }
    }
    out[n++] = EOS;
    return n;
}

static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_speed(void **state)
{
    size_t want = 1000000, steps = UNDER_ASAN ? 20000 : 200000, total = 0;
    int32_t *buf = malloc(1200 * sizeof *buf);
    float *logp = malloc(DISCO_TOK_VOCAB * sizeof *logp);
    corpus c = {0}, test = {0};
    disco_ngram *m;
    disco_lm *lm;
    double t0, t_build, t_step, t_nll, nll;

    (void)state;
    assert_non_null(buf);
    assert_non_null(logp);
    rng_state = 71;
    while (c.ntok < want)
        corpus_add(&c, buf, gen_piece(buf, 400 + (size_t)(rng_uniform() * 800)));
    while (test.ntok < steps)
        corpus_add(&test, buf, gen_piece(buf, 1000));
    t0 = seconds();
    m = build(&c, 5, DISCO_TOK_VOCAB);
    t_build = seconds() - t0;
    for (int k = 1; k <= 5; k++)
        total += disco_ngram_count(m, k);
    assert_int_equal(disco_ngram_lm_new(m, &lm, NULL), DISCO_OK);
    t0 = seconds();
    for (size_t s = 0, done = 0; s < test.n && done < steps; s++) {
        lm->vt->reset(lm);
        for (size_t i = 0; i < test.lens[s] && done < steps; i++, done++)
            assert_int_equal(lm->vt->step(lm, test.seqs[s][i], logp, NULL), DISCO_OK);
    }
    t_step = seconds() - t0;
    expect_normalised(lm, test.seqs[0], 50);
    t0 = seconds();
    assert_int_equal(disco_ngram_nll(m, test.seqs[0], test.lens[0], &nll, NULL), DISCO_OK);
    t_nll = seconds() - t0;
    print_message("ngram order 5 on %zu tokens (vocab %d)%s: build %.3f s, %zu n-grams, "
                  "%.1f bytes/n-gram; %.0f steps/s (whole distribution); %.0f tokens/s scored "
                  "by disco_ngram_nll (NLL %.3f)\n",
                  c.ntok, DISCO_TOK_VOCAB, UNDER_ASAN ? " [ASan]" : "", t_build, total,
                  (double)disco_ngram_memory(m) / (double)total, (double)steps / t_step,
                  (double)(test.lens[0] - 1) / t_nll, nll);
    lm->vt->free(lm);
    disco_ngram_free(m);
    corpus_free(&c);
    corpus_free(&test);
    free(buf);
    free(logp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_order2),      cmocka_unit_test(test_hand_order3),
        cmocka_unit_test(test_distributions),    cmocka_unit_test(test_nll_matches_lm),
        cmocka_unit_test(test_order_lowers_nll), cmocka_unit_test(test_nll_approaches_entropy),
        cmocka_unit_test(test_save_load),        cmocka_unit_test(test_damaged_file),
        cmocka_unit_test(test_bad_input),        cmocka_unit_test(test_speed),
    };

    return cmocka_run_group_tests_name("music/ngram", tests, NULL, NULL);
}
