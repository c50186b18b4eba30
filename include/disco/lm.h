/*
 * lm.h - a next-token model, as the sampler sees it.
 *
 * Both the neural model (model.h) and the n-gram baseline (ngram.h)
 * implement this interface, so sampling, constrained decoding and the
 * per-token negative log-likelihood are written once for both.
 *
 *   lm->vt->reset(lm)                      empty context
 *   lm->vt->step(lm, tok, logp, st)        append `tok`, get log p(next | context)
 *
 * `logp` has vocab floats (natural log, normalised). A model with a finite
 * context slides it (documented by the implementation).
 *
 * Threads: one lm per thread (it holds the context state).
 */
#ifndef DISCO_LM_H
#define DISCO_LM_H

#include "disco/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco_lm disco_lm;

typedef struct disco_lm_vtable {
    const char *name; /* "transformer", "ngram" */
    size_t (*vocab)(const disco_lm *lm);
    void (*reset)(disco_lm *lm);
    int (*step)(disco_lm *lm, int32_t tok, float *logp, disco_status *st);
    void (*free)(disco_lm *lm);
} disco_lm_vtable;

struct disco_lm {
    const disco_lm_vtable *vt;
};

/*
 * Mean negative log-likelihood per token (nats) of `toks[n]` under `lm`:
 * the first token is given (BOS), each later one is scored. Resets first.
 */
int disco_lm_nll(disco_lm *lm, const int32_t *toks, size_t n, double *nll, disco_status *st);

#endif
