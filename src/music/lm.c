/*
 * lm.c - what is written once for every next-token model: the per-token
 * negative log-likelihood of a sequence (lm.h).
 */
#include "disco/lm.h"

#include <stdlib.h>

/* A token the model gives probability 0 makes the result +inf. */
int disco_lm_nll(disco_lm *lm, const int32_t *toks, size_t n, double *nll, disco_status *st)
{
    size_t v;
    float *logp;
    double sum = 0.0;
    int rc = DISCO_OK;

    if (!lm || !lm->vt || !lm->vt->vocab || !lm->vt->reset || !lm->vt->step)
        return disco_status_set(st, DISCO_ERR_INVAL, "lm", "missing lm or vtable entry");
    if (!toks || !nll || n < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "toks",
                                "need at least 2 tokens to score, got %zu", toks ? n : 0);
    v = lm->vt->vocab(lm);
    for (size_t i = 0; i < n; i++)
        if (toks[i] < 0 || (size_t)toks[i] >= v)
            return disco_status_set(st, DISCO_ERR_INVAL, "toks", "toks[%zu]: id %d out of 0..%zu",
                                    i, toks[i], v - 1);
    if (!(logp = malloc(v * sizeof *logp)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "lm", "no memory for %zu log-probabilities",
                                v);
    lm->vt->reset(lm);
    for (size_t i = 0; i + 1 < n; i++) {
        if ((rc = lm->vt->step(lm, toks[i], logp, st)))
            break;
        sum -= (double)logp[toks[i + 1]];
    }
    if (rc == DISCO_OK)
        *nll = sum / (double)(n - 1);
    free(logp);
    return rc;
}
