/*
 * ngram.c - the modified Kneser-Ney model once its counts exist: the
 * discounts and backoff weights, point probabilities, the per-sequence
 * NLL, and the next-token model (lm.h) that writes whole distributions.
 *
 * DESIGN
 *   Context lookup: the context's suffixes of length 1 .. order-1 are each
 *   walked down the trie from the root (a binary search per token). The
 *   first suffix that is missing ends the walk, since any longer context
 *   that was seen contains it.
 *
 *   Whole distribution: interpolation unrolled from the highest order
 *   found down to the uniform one. With s_k the product of the gammas of
 *   the orders above k,
 *       p(w) = sum_k s_k (c_k(hw) - D(c_k(hw))) / c_k(h.) + s_0 / vocab,
 *   so each order touches only its own followers, and the vocabulary is
 *   swept twice per step (clear, then log).
 */
#include "ngram_int.h"

#include "disco/tokens.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Discounts of an order whose count-of-counts cannot give them. */
#define DISC_FALLBACK 0.5
/* Smallest discount, as a fraction of i for D_i: keeps every backoff weight above zero. */
#define DISC_MIN 0.1

disco_ngram_config disco_ngram_config_default(void)
{
    disco_ngram_config c = {.order = 5, .vocab = DISCO_TOK_VOCAB};

    return c;
}

disco_ngram *disco__ngram_new(int order, int vocab)
{
    disco_ngram *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->order = order;
    m->vocab = vocab;
    return m;
}

int disco__ngram_level_alloc(disco_ngram *m, int k, size_t n, disco_status *st)
{
    disco__ngram_level *lv = &m->lv[k];
    size_t alloc = n ? n : 1;

    lv->n = n;
    lv->tok = malloc(alloc * sizeof *lv->tok);
    lv->count = malloc(alloc * sizeof *lv->count);
    if (k < m->order) {
        lv->child = calloc(n + 1, sizeof *lv->child);
        lv->total = malloc(alloc * sizeof *lv->total);
        lv->gamma = malloc(alloc * sizeof *lv->gamma);
    }
    if (!lv->tok || !lv->count || (k < m->order && (!lv->child || !lv->total || !lv->gamma)))
        return disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory for %zu %d-grams", n,
                                k);
    return DISCO_OK;
}

void disco_ngram_free(disco_ngram *m)
{
    if (!m)
        return;
    for (int k = 0; k <= m->order; k++) {
        free(m->lv[k].tok);
        free(m->lv[k].count);
        free(m->lv[k].child);
        free(m->lv[k].total);
        free(m->lv[k].gamma);
    }
    free(m);
}

/* --- discounts and backoff weights ------------------------------------------- */

/* D1, D2, D3+ from the count-of-counts of one order (Chen & Goodman). */
static void estimate_discounts(const uint32_t *count, size_t n, double d[3])
{
    double nc[5] = {0};
    double y;

    for (size_t r = 0; r < n; r++)
        if (count[r] >= 1 && count[r] <= 4)
            nc[count[r]] += 1.0;
    y = nc[1] + 2.0 * nc[2] > 0.0 ? nc[1] / (nc[1] + 2.0 * nc[2]) : NAN;
    for (int i = 1; i <= 3; i++) {
        double di = nc[i] > 0.0 ? i - (i + 1) * y * nc[i + 1] / nc[i] : NAN;

        if (!isfinite(di))
            di = DISC_FALLBACK * i;
        d[i - 1] = fmin(fmax(di, DISC_MIN * i), (double)i);
    }
}

static inline double discount(const double d[3], uint32_t c)
{
    return c == 0 ? 0.0 : d[(c < 3 ? c : 3) - 1];
}

/* total and gamma of every context of level k (followers in level k + 1). */
static int finish_level(disco_ngram *m, int k, disco_status *st)
{
    disco__ngram_level *lv = &m->lv[k];
    const disco__ngram_level *up = &m->lv[k + 1];
    const double *d = m->disc[k + 1];

    for (size_t r = 0; r < lv->n; r++) {
        uint64_t total = 0;
        double dsum = 0.0;

        for (uint32_t c = lv->child[r]; c < lv->child[r + 1]; c++) {
            total += up->count[c];
            dsum += discount(d, up->count[c]);
        }
        if (total > UINT32_MAX)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "ngram",
                                    "%d-gram %zu: follower counts overflow", k, r);
        lv->total[r] = (uint32_t)total;
        lv->gamma[r] = total ? (float)(dsum / (double)total) : 1.0f;
    }
    return DISCO_OK;
}

int disco__ngram_finish(disco_ngram *m, disco_status *st)
{
    for (int k = 1; k <= m->order; k++)
        estimate_discounts(m->lv[k].count, m->lv[k].n, m->disc[k]);
    for (int k = 0; k < m->order; k++) {
        int rc = finish_level(m, k, st);

        if (rc != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

/* --- accessors ---------------------------------------------------------------- */

int disco_ngram_order(const disco_ngram *m)
{
    return m->order;
}

size_t disco_ngram_vocab(const disco_ngram *m)
{
    return (size_t)m->vocab;
}

size_t disco_ngram_count(const disco_ngram *m, int k)
{
    return k >= 1 && k <= m->order ? m->lv[k].n : 0;
}

int disco_ngram_discounts(const disco_ngram *m, int k, double d[3])
{
    if (k < 1 || k > m->order)
        return DISCO_ERR_INVAL;
    memcpy(d, m->disc[k], sizeof m->disc[k]);
    return DISCO_OK;
}

size_t disco_ngram_memory(const disco_ngram *m)
{
    size_t bytes = sizeof *m;

    for (int k = 0; k <= m->order; k++) {
        size_t n = m->lv[k].n;

        bytes += n * (sizeof(uint16_t) + sizeof(uint32_t));
        if (k < m->order)
            bytes += (n + 1) * sizeof(uint32_t) + n * (sizeof(uint32_t) + sizeof(float));
    }
    return bytes;
}

/* --- lookup ------------------------------------------------------------------- */

/* The follower of node `r` of level k with token `tok` (in level k + 1), or -1. */
static int64_t find_child(const disco_ngram *m, int k, size_t r, int32_t tok)
{
    const uint16_t *t = m->lv[k + 1].tok;
    uint32_t lo = m->lv[k].child[r], hi = m->lv[k].child[r + 1];

    if (tok < 0 || tok >= m->vocab)
        return -1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (t[mid] < tok)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->lv[k].child[r + 1] && t[lo] == tok ? (int64_t)lo : -1;
}

/*
 * Nodes of the context's suffixes: node[L] is the last L tokens of ctx at
 * level L (node[0] the root). Returns the longest L found.
 */
static int find_context(const disco_ngram *m, const int32_t *ctx, size_t n, size_t *node)
{
    size_t most = n < (size_t)(m->order - 1) ? n : (size_t)(m->order - 1);
    int found = 0;

    node[0] = 0;
    for (size_t len = 1; len <= most; len++) {
        const int32_t *h = ctx + n - len;
        size_t r = 0;

        for (size_t j = 0; j < len; j++) {
            int64_t c = find_child(m, (int)j, r, h[j]);

            if (c < 0)
                return found;
            r = (size_t)c;
        }
        node[len] = r;
        found = (int)len;
    }
    return found;
}

double disco_ngram_prob(const disco_ngram *m, const int32_t *ctx, size_t n, int32_t tok)
{
    size_t node[DISCO_NGRAM_MAX_ORDER];
    int found = find_context(m, ctx, n, node);
    double p = 1.0 / m->vocab;

    if (tok < 0 || tok >= m->vocab)
        return 0.0;
    for (int k = 0; k <= found; k++) {
        const disco__ngram_level *lv = &m->lv[k];
        int64_t c = find_child(m, k, node[k], tok);
        uint32_t cnt = c < 0 ? 0 : m->lv[k + 1].count[c];

        if (lv->total[node[k]] == 0)
            continue;
        p = ((double)cnt - discount(m->disc[k + 1], cnt)) / lv->total[node[k]] +
            (double)lv->gamma[node[k]] * p;
    }
    return p;
}

int disco_ngram_nll(const disco_ngram *m, const int32_t *toks, size_t n, double *nll,
                    disco_status *st)
{
    size_t hist = (size_t)(m->order - 1);
    double sum = 0.0;

    if (n < 2)
        return disco_status_set(st, DISCO_ERR_INVAL, "toks",
                                "%zu tokens: need a first token and one to score", n);
    for (size_t i = 0; i < n; i++)
        if (toks[i] < 0 || toks[i] >= m->vocab)
            return disco_status_set(st, DISCO_ERR_INVAL, "toks", "token %zu is %d, outside 0..%d",
                                    i, toks[i], m->vocab - 1);
    for (size_t i = 1; i < n; i++) {
        size_t from = i > hist ? i - hist : 0;

        sum -= log(disco_ngram_prob(m, toks + from, i - from, toks[i]));
    }
    *nll = sum / (double)(n - 1);
    return DISCO_OK;
}

/* --- next-token model --------------------------------------------------------- */

typedef struct ngram_lm {
    disco_lm base;
    const disco_ngram *m;
    int32_t ctx[DISCO_NGRAM_MAX_ORDER];
    size_t n;
    double *acc; /* vocab: the distribution being summed */
} ngram_lm;

static size_t lm_vocab(const disco_lm *lm)
{
    return (size_t)((const ngram_lm *)lm)->m->vocab;
}

static void lm_reset(disco_lm *lm)
{
    ((ngram_lm *)lm)->n = 0;
}

static void lm_free(disco_lm *lm)
{
    if (!lm)
        return;
    free(((ngram_lm *)lm)->acc);
    free(lm);
}

/* Adds the discounted followers of each context found, highest order first. */
static void distribution(const disco_ngram *m, const int32_t *ctx, size_t n, double *acc,
                         float *logp)
{
    size_t node[DISCO_NGRAM_MAX_ORDER];
    int found = find_context(m, ctx, n, node);
    double scale = 1.0, base;

    memset(acc, 0, (size_t)m->vocab * sizeof *acc);
    for (int k = found; k >= 0; k--) {
        const disco__ngram_level *lv = &m->lv[k], *up = &m->lv[k + 1];
        const double *d = m->disc[k + 1];
        uint32_t total = lv->total[node[k]];
        double inv;

        if (total == 0)
            continue;
        inv = scale / total;
        for (uint32_t c = lv->child[node[k]]; c < lv->child[node[k] + 1]; c++)
            acc[up->tok[c]] += ((double)up->count[c] - discount(d, up->count[c])) * inv;
        scale *= lv->gamma[node[k]];
    }
    base = scale / m->vocab;
    for (int w = 0; w < m->vocab; w++)
        logp[w] = (float)log(acc[w] + base);
}

static int lm_step(disco_lm *lm, int32_t tok, float *logp, disco_status *st)
{
    ngram_lm *g = (ngram_lm *)lm;
    size_t hist = (size_t)(g->m->order - 1);

    if (tok < 0 || tok >= g->m->vocab)
        return disco_status_set(st, DISCO_ERR_INVAL, "tok", "token %d outside 0..%d", tok,
                                g->m->vocab - 1);
    if (g->n == hist) {
        memmove(g->ctx, g->ctx + 1, (hist - 1) * sizeof *g->ctx);
        g->n--;
    }
    g->ctx[g->n++] = tok;
    if (logp)
        distribution(g->m, g->ctx, g->n, g->acc, logp);
    return DISCO_OK;
}

static const disco_lm_vtable ngram_vtable = {
    .name = "ngram",
    .vocab = lm_vocab,
    .reset = lm_reset,
    .step = lm_step,
    .free = lm_free,
};

int disco_ngram_lm_new(const disco_ngram *m, disco_lm **out, disco_status *st)
{
    ngram_lm *g = calloc(1, sizeof *g);

    if (g)
        g->acc = malloc((size_t)m->vocab * sizeof *g->acc);
    if (!g || !g->acc) {
        lm_free(g ? &g->base : NULL);
        return disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory for the n-gram lm");
    }
    g->base.vt = &ngram_vtable;
    g->m = m;
    *out = &g->base;
    return DISCO_OK;
}
