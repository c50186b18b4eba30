/*
 * ngram.h - the n-gram baseline the music model must beat: an interpolated
 * modified Kneser-Ney language model over token ids (Chen & Goodman 1998).
 *
 *   p_k(w | h) = (c_k(hw) - D_k(c_k(hw))) / c_k(h.) + gamma(h) p_{k-1}(w | h')
 *   gamma(h)   = (D_k1 N1(h.) + D_k2 N2(h.) + D_k3+ N3+(h.)) / c_k(h.)
 *   p_0(w)     = 1 / vocab
 *
 * h' is h without its oldest token. At the highest order c_k is the raw
 * count; below it c_k(g) is the continuation count, the number of distinct
 * tokens seen just before g, except for n-grams that start with BOS, which
 * nothing can precede: they keep their raw count. Each order has three
 * discounts D1, D2, D3+ from its count-of-counts n1..n4:
 *   Y = n1 / (n1 + 2 n2),  D_i = i - (i + 1) Y n_{i+1} / n_i,
 * an estimate that cannot be formed (a zero denominator) falls back to
 * 0.5 i, and every D_i is kept within [0.1 i, i], so unseen tokens always keep
 * a non-zero probability. A context the model never saw, or one never
 * followed by anything, passes its lower order through unchanged.
 *
 * Training data is a set of sequences, each starting with BOS; contexts
 * never cross from one sequence into the next. At query time the context is
 * the last order - 1 tokens.
 *
 * Threads: a built or loaded disco_ngram is immutable and may be shared;
 * each disco_lm made from it belongs to one thread.
 */
#ifndef DISCO_NGRAM_H
#define DISCO_NGRAM_H

#include "disco/err.h"
#include "disco/lm.h"

#include <stddef.h>
#include <stdint.h>

#define DISCO_NGRAM_MIN_ORDER 2
#define DISCO_NGRAM_MAX_ORDER 8
#define DISCO_NGRAM_MAX_VOCAB 65536

typedef struct disco_ngram disco_ngram;

typedef struct disco_ngram_config {
    int order; /* 2..8; default 5 */
    int vocab; /* token ids are 0..vocab-1, 3..65536; default DISCO_TOK_VOCAB */
} disco_ngram_config;

disco_ngram_config disco_ngram_config_default(void);

/*
 * Counts `nseq` sequences (`seqs[i]` has `lens[i]` tokens) into a new model
 * (*out, free with disco_ngram_free); cfg NULL means the defaults. The data
 * is not kept. INVAL for a bad
 * config, no sequences, an empty sequence, a sequence not starting with BOS
 * or a token outside 0..vocab-1 (the message names the sequence and
 * position); LIMIT for 2^31 - 1 tokens or more; NOMEM.
 */
int disco_ngram_build(const disco_ngram_config *cfg, const int32_t *const *seqs, const size_t *lens,
                      size_t nseq, disco_ngram **out, disco_status *st);

void disco_ngram_free(disco_ngram *m);

int disco_ngram_order(const disco_ngram *m);
size_t disco_ngram_vocab(const disco_ngram *m);

/* Distinct n-grams of length k (1..order) kept by the model; 0 for another k. */
size_t disco_ngram_count(const disco_ngram *m, int k);

/* The discounts D1, D2, D3+ of order k (1..order); INVAL for another k. */
int disco_ngram_discounts(const disco_ngram *m, int k, double d[3]);

/* Bytes the model holds on the heap. */
size_t disco_ngram_memory(const disco_ngram *m);

/*
 * p(tok | ctx[0..n)) with the last order - 1 tokens of ctx as the context
 * (n may be 0). Returns 0 for a token outside the vocabulary; context tokens
 * outside it match nothing.
 */
double disco_ngram_prob(const disco_ngram *m, const int32_t *ctx, size_t n, int32_t tok);

/*
 * Mean negative log-likelihood (nats) per token of toks[0..n): toks[0] is
 * given, each later token is scored against the tokens before it. Same
 * result as disco_lm_nll() over disco_ngram_lm_new(), without building
 * whole distributions. INVAL for n < 2 or a token outside the vocabulary.
 */
int disco_ngram_nll(const disco_ngram *m, const int32_t *toks, size_t n, double *nll,
                    disco_status *st);

/*
 * A next-token model over `m` (lm.h) in *out; free it with lm->vt->free.
 * It borrows `m`, which must outlive it. step() takes a token in
 * 0..vocab-1 (INVAL otherwise, context unchanged) and writes vocab
 * log-probabilities to `logp` unless logp is NULL; the context slides to
 * the last order - 1 tokens. NOMEM.
 */
int disco_ngram_lm_new(const disco_ngram *m, disco_lm **out, disco_status *st);

/*
 * Writes the model to `path` (temporary file, fsync, rename, fsync of the
 * folder). Format: version 1, little-endian, CRC-32C trailer; the
 * discounts and backoff weights are derived again on load. IO, NOSPC,
 * PERM, NOMEM.
 */
int disco_ngram_save(const disco_ngram *m, const char *path, disco_status *st);

/*
 * Reads a model written by disco_ngram_save (*out, free with
 * disco_ngram_free). NOTFOUND, PERM, IO; CORRUPT for a damaged or
 * inconsistent file (bad magic, checksum, size or structure);
 * UNSUPPORTED for another format version; NOMEM.
 */
int disco_ngram_load(const char *path, disco_ngram **out, disco_status *st);

#endif
