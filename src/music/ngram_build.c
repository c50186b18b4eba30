/*
 * ngram_build.c - counting training sequences into the n-gram trie of
 * ngram_int.h, one order at a time.
 *
 * DESIGN
 *   Every position i of every sequence carries id[i], the node of the
 *   (k-1)-gram ending there. Order k is counted with an open-addressing
 *   hash table keyed by the exact 64-bit n-gram key
 *       (id[i-1] << 16) | tok[i]     (parent node, last token)
 *   whose slots hold entry numbers (4 bytes a slot); the entries keep the
 *   key, the raw count and the suffix node id[i]. The entries are then
 *   ordered by parent with a counting sort (whose offsets are the parent
 *   level's follower ranges) and by token within a parent, and the
 *   positions' ids are renumbered for the next order.
 *
 *   Kneser-Ney counts: below the top order a k-gram's count becomes the
 *   number of distinct (k+1)-grams with it as suffix, unless the k-gram
 *   starts with BOS (nothing can come before it), which keeps its raw
 *   count. Unigrams count only predicted positions, so BOS at the start of
 *   a sequence is a context but never a counted token.
 *
 *   Memory while building: 8 bytes per token (two id arrays), about 24
 *   bytes per distinct n-gram of the order being counted, plus the model.
 */
#include "ngram_int.h"

#include "disco/tokens.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_EMPTY UINT32_MAX
/* Groups of followers up to this size are sorted by insertion. */
#define SMALL_GROUP 16

typedef struct ng_entry {
    uint64_t key;    /* parent << 16 | token */
    uint32_t count;  /* raw count */
    uint32_t suffix; /* node of the n-gram without its first token */
} ng_entry;

typedef struct ng_table {
    uint32_t *slot; /* entry number or SLOT_EMPTY */
    size_t cap;     /* power of two */
    ng_entry *ent;
    size_t n, ent_cap;
} ng_table;

/* The corpus as the build walks it. */
typedef struct ng_corpus {
    const int32_t *const *seqs;
    const size_t *lens;
    size_t nseq, ntok;
} ng_corpus;

static inline size_t hash_key(uint64_t key, size_t mask)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    key *= UINT64_C(0xc4ceb9fe1a85ec53);
    key ^= key >> 33;
    return (size_t)key & mask;
}

static int table_init(ng_table *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->cap = cap;
    t->slot = malloc(cap * sizeof *t->slot);
    t->ent_cap = cap / 2;
    t->ent = malloc(t->ent_cap * sizeof *t->ent);
    if (!t->slot || !t->ent)
        return DISCO_ERR_NOMEM;
    memset(t->slot, 0xff, cap * sizeof *t->slot);
    return DISCO_OK;
}

static void table_release(ng_table *t)
{
    free(t->slot);
    free(t->ent);
    memset(t, 0, sizeof *t);
}

/* Doubles the slots and the entries (load stays at most one half). */
static int table_grow(ng_table *t)
{
    size_t cap = t->cap * 2, mask = cap - 1;
    uint32_t *slot = malloc(cap * sizeof *slot);
    ng_entry *ent = realloc(t->ent, cap / 2 * sizeof *ent);

    if (ent)
        t->ent = ent;
    if (!slot || !ent) {
        free(slot);
        return DISCO_ERR_NOMEM;
    }
    memset(slot, 0xff, cap * sizeof *slot);
    for (size_t e = 0; e < t->n; e++) {
        size_t h = hash_key(ent[e].key, mask);

        while (slot[h] != SLOT_EMPTY)
            h = (h + 1) & mask;
        slot[h] = (uint32_t)e;
    }
    free(t->slot);
    t->slot = slot;
    t->cap = cap;
    t->ent_cap = cap / 2;
    return DISCO_OK;
}

/* Counts one occurrence of `key`; its entry number goes to *e. */
static int table_add(ng_table *t, uint64_t key, uint32_t suffix, uint32_t *e)
{
    size_t mask = t->cap - 1, h = hash_key(key, mask);

    while (t->slot[h] != SLOT_EMPTY) {
        if (t->ent[t->slot[h]].key == key) {
            *e = t->slot[h];
            t->ent[*e].count++;
            return DISCO_OK;
        }
        h = (h + 1) & mask;
    }
    if (t->n + 1 > t->ent_cap) {
        if (table_grow(t) != DISCO_OK)
            return DISCO_ERR_NOMEM;
        return table_add(t, key, suffix, e);
    }
    *e = (uint32_t)t->n;
    t->slot[h] = *e;
    t->ent[t->n++] = (ng_entry){.key = key, .count = 1, .suffix = suffix};
    return DISCO_OK;
}

/* --- validation --------------------------------------------------------------- */

static int check_config(const disco_ngram_config *cfg, disco_status *st)
{
    if (cfg->order < DISCO_NGRAM_MIN_ORDER || cfg->order > DISCO_NGRAM_MAX_ORDER)
        return disco_status_set(st, DISCO_ERR_INVAL, "order", "order %d out of range %d..%d",
                                cfg->order, DISCO_NGRAM_MIN_ORDER, DISCO_NGRAM_MAX_ORDER);
    if (cfg->vocab <= DISCO_TOK_EOS || cfg->vocab > DISCO_NGRAM_MAX_VOCAB)
        return disco_status_set(st, DISCO_ERR_INVAL, "vocab", "vocab %d out of range %d..%d",
                                cfg->vocab, DISCO_TOK_EOS + 1, DISCO_NGRAM_MAX_VOCAB);
    return DISCO_OK;
}

static int check_corpus(const ng_corpus *c, int vocab, disco_status *st)
{
    if (c->nseq == 0 || !c->seqs || !c->lens)
        return disco_status_set(st, DISCO_ERR_INVAL, "seqs", "no training sequences");
    for (size_t s = 0; s < c->nseq; s++) {
        if (c->lens[s] == 0 || !c->seqs[s])
            return disco_status_set(st, DISCO_ERR_INVAL, "seqs", "sequence %zu is empty", s);
        if (c->seqs[s][0] != DISCO_TOK_BOS)
            return disco_status_set(st, DISCO_ERR_INVAL, "seqs",
                                    "sequence %zu starts with token %d, not BOS (%d)", s,
                                    c->seqs[s][0], DISCO_TOK_BOS);
        for (size_t j = 0; j < c->lens[s]; j++)
            if (c->seqs[s][j] < 0 || c->seqs[s][j] >= vocab)
                return disco_status_set(st, DISCO_ERR_INVAL, "seqs",
                                        "sequence %zu token %zu is %d, outside 0..%d", s, j,
                                        c->seqs[s][j], vocab - 1);
    }
    return DISCO_OK;
}

/* --- unigrams ----------------------------------------------------------------- */

/* Level 1: every token that occurs, counted where it is predicted; ids of all positions. */
static int build_unigrams(disco_ngram *m, const ng_corpus *c, uint32_t *id, disco_status *st)
{
    uint32_t *raw = calloc((size_t)m->vocab, sizeof *raw);
    uint32_t *rank = malloc((size_t)m->vocab * sizeof *rank);
    uint8_t *seen = calloc((size_t)m->vocab, 1);
    size_t n = 0, i = 0;
    int rc;

    if (!raw || !rank || !seen) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory counting unigrams");
        goto out_free;
    }
    for (size_t s = 0; s < c->nseq; s++)
        for (size_t j = 0; j < c->lens[s]; j++) {
            seen[c->seqs[s][j]] = 1;
            raw[c->seqs[s][j]] += j > 0;
        }
    for (int w = 0; w < m->vocab; w++)
        n += seen[w];
    rc = disco__ngram_level_alloc(m, 1, n, st);
    if (rc != DISCO_OK)
        goto out_free;
    n = 0;
    for (int w = 0; w < m->vocab; w++)
        if (seen[w]) {
            m->lv[1].tok[n] = (uint16_t)w;
            m->lv[1].count[n] = raw[w];
            rank[w] = (uint32_t)n++;
        }
    for (size_t s = 0; s < c->nseq; s++)
        for (size_t j = 0; j < c->lens[s]; j++)
            id[i++] = rank[c->seqs[s][j]];
    m->lv[0].child[1] = (uint32_t)n;
    m->lv[0].count[0] = 0;
    m->lv[0].tok[0] = 0;
out_free:
    free(raw);
    free(rank);
    free(seen);
    return rc;
}

/* --- higher orders ------------------------------------------------------------ */

/* Hashes every k-gram; cur[i] gets the entry number of the one ending at i. */
static int count_order(const ng_corpus *c, int k, const uint32_t *prev, uint32_t *cur, ng_table *t)
{
    size_t base = 0;

    for (size_t s = 0; s < c->nseq; s++) {
        const int32_t *seq = c->seqs[s];

        for (size_t j = (size_t)k - 1; j < c->lens[s]; j++) {
            size_t i = base + j;
            uint64_t key = (uint64_t)prev[i - 1] << 16 | (uint16_t)seq[j];

            if (table_add(t, key, prev[i], &cur[i]) != DISCO_OK)
                return DISCO_ERR_NOMEM;
        }
        base += c->lens[s];
    }
    return DISCO_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/* Orders the entry numbers ord[0..n) by token (the key's low 16 bits). */
static void sort_group(const ng_entry *ent, uint32_t *ord, size_t n, uint64_t *tmp)
{
    if (n <= SMALL_GROUP) {
        for (size_t a = 1; a < n; a++) {
            uint32_t e = ord[a];
            size_t b = a;

            for (; b > 0 && (uint16_t)ent[ord[b - 1]].key > (uint16_t)ent[e].key; b--)
                ord[b] = ord[b - 1];
            ord[b] = e;
        }
        return;
    }
    for (size_t a = 0; a < n; a++)
        tmp[a] = (uint64_t)(uint16_t)ent[ord[a]].key << 32 | ord[a];
    qsort(tmp, n, sizeof *tmp, cmp_u64);
    for (size_t a = 0; a < n; a++)
        ord[a] = (uint32_t)tmp[a];
}

/*
 * Sorts the entries by (parent, token) into ord: the counting sort by
 * parent fills the parent level's follower offsets.
 */
static int order_entries(disco_ngram *m, int k, const ng_table *t, uint32_t *ord)
{
    uint32_t *off = m->lv[k - 1].child;
    size_t np = m->lv[k - 1].n;
    uint32_t *cursor = malloc((np + 1) * sizeof *cursor);
    uint64_t *tmp = malloc((size_t)m->vocab * sizeof *tmp);

    if (!cursor || !tmp) {
        free(cursor);
        free(tmp);
        return DISCO_ERR_NOMEM;
    }
    memset(off, 0, (np + 1) * sizeof *off);
    for (size_t e = 0; e < t->n; e++)
        off[(t->ent[e].key >> 16) + 1]++;
    for (size_t p = 0; p < np; p++)
        off[p + 1] += off[p];
    memcpy(cursor, off, (np + 1) * sizeof *cursor);
    for (size_t e = 0; e < t->n; e++)
        ord[cursor[t->ent[e].key >> 16]++] = (uint32_t)e;
    for (size_t p = 0; p < np; p++)
        sort_group(t->ent, ord + off[p], off[p + 1] - off[p], tmp);
    free(cursor);
    free(tmp);
    return DISCO_OK;
}

/*
 * Level k - 1's Kneser-Ney counts: distinct left extensions (the level k
 * entries whose suffix it is), or the raw count for n-grams starting with
 * BOS; bos[] marks those in level k - 1 and becomes level k's marks.
 */
static void continuation(disco_ngram *m, int k, const ng_table *t, const uint8_t *bos,
                         uint8_t *bos_next)
{
    disco__ngram_level *lo = &m->lv[k - 1];
    uint32_t *cont = m->lv[k - 1].total; /* scratch until disco__ngram_finish */

    memset(cont, 0, lo->n * sizeof *cont);
    for (size_t e = 0; e < t->n; e++)
        cont[t->ent[e].suffix]++;
    for (size_t r = 0; r < lo->n; r++) {
        if (!bos[r])
            lo->count[r] = cont[r];
        for (uint32_t c = lo->child[r]; c < lo->child[r + 1]; c++)
            bos_next[c] = bos[r];
    }
}

/* Puts the sorted entries into level k and renumbers the positions' ids. */
static void place_entries(disco_ngram *m, int k, const ng_corpus *c, const ng_table *t,
                          const uint32_t *ord, uint32_t *remap, uint32_t *cur)
{
    disco__ngram_level *lv = &m->lv[k];
    size_t base = 0;

    for (size_t r = 0; r < t->n; r++) {
        const ng_entry *e = &t->ent[ord[r]];

        lv->tok[r] = (uint16_t)e->key;
        lv->count[r] = e->count;
        remap[ord[r]] = (uint32_t)r;
    }
    if (k == m->order)
        return;
    for (size_t s = 0; s < c->nseq; s++) {
        for (size_t j = (size_t)k - 1; j < c->lens[s]; j++)
            cur[base + j] = remap[cur[base + j]];
        base += c->lens[s];
    }
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 64;

    while (p < n)
        p *= 2;
    return p;
}

/*
 * Counts order k from the ids of order k - 1 (prev) into level k and cur,
 * finishing level k - 1's counts; *bos_next gets level k's BOS marks.
 */
static int build_order(disco_ngram *m, const ng_corpus *c, int k, const uint32_t *prev,
                       uint32_t *cur, const uint8_t *bos, uint8_t **bos_next, disco_status *st)
{
    ng_table t;
    size_t guess = m->lv[k - 1].n + 64;
    int rc = table_init(&t, pow2_at_least(2 * (guess < c->ntok ? guess : c->ntok)));

    if (rc == DISCO_OK)
        rc = count_order(c, k, prev, cur, &t);
    if (rc == DISCO_OK)
        rc = disco__ngram_level_alloc(m, k, t.n, NULL);
    if (rc == DISCO_OK && !(*bos_next = malloc(t.n ? t.n : 1)))
        rc = DISCO_ERR_NOMEM;
    /* The slots are free now: the first n become the sort order, the next n the renumbering. */
    if (rc == DISCO_OK)
        rc = order_entries(m, k, &t, t.slot);
    if (rc == DISCO_OK) {
        place_entries(m, k, c, &t, t.slot, t.slot + t.n, cur);
        continuation(m, k, &t, bos, *bos_next);
    }
    table_release(&t);
    if (rc != DISCO_OK)
        return disco_status_set(st, rc, "ngram", "out of memory counting %d-grams", k);
    return DISCO_OK;
}

static int build_levels(disco_ngram *m, const ng_corpus *c, disco_status *st)
{
    uint32_t *prev = malloc(c->ntok * sizeof *prev), *cur = malloc(c->ntok * sizeof *cur);
    uint8_t *bos = NULL, *bos_next = NULL;
    int rc = DISCO_OK;

    if (!prev || !cur)
        rc =
            disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory for %zu tokens", c->ntok);
    if (rc == DISCO_OK)
        rc = disco__ngram_level_alloc(m, 0, 1, st);
    if (rc == DISCO_OK)
        rc = build_unigrams(m, c, prev, st);
    if (rc == DISCO_OK && !(bos = malloc(m->lv[1].n ? m->lv[1].n : 1)))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory for unigram marks");
    for (size_t r = 0; rc == DISCO_OK && r < m->lv[1].n; r++)
        bos[r] = m->lv[1].tok[r] == DISCO_TOK_BOS;
    for (int k = 2; rc == DISCO_OK && k <= m->order; k++) {
        uint32_t *swap;

        rc = build_order(m, c, k, prev, cur, bos, &bos_next, st);
        free(bos);
        bos = bos_next;
        bos_next = NULL;
        swap = prev;
        prev = cur;
        cur = swap;
    }
    free(prev);
    free(cur);
    free(bos);
    return rc;
}

int disco_ngram_build(const disco_ngram_config *cfg, const int32_t *const *seqs, const size_t *lens,
                      size_t nseq, disco_ngram **out, disco_status *st)
{
    ng_corpus c = {.seqs = seqs, .lens = lens, .nseq = nseq};
    disco_ngram_config def = disco_ngram_config_default();
    disco_ngram *m;
    int rc;

    if (!cfg)
        cfg = &def;
    rc = check_config(cfg, st);
    if (rc == DISCO_OK)
        rc = check_corpus(&c, cfg->vocab, st);
    if (rc != DISCO_OK)
        return rc;
    for (size_t s = 0; s < nseq; s++) {
        c.ntok += lens[s];
        if (c.ntok >= (size_t)INT32_MAX)
            return disco_status_set(st, DISCO_ERR_LIMIT, "seqs", "more than %d tokens to count",
                                    INT32_MAX - 1);
    }
    m = disco__ngram_new(cfg->order, cfg->vocab);
    if (!m)
        return disco_status_set(st, DISCO_ERR_NOMEM, "ngram", "out of memory for the model");
    rc = build_levels(m, &c, st);
    if (rc == DISCO_OK)
        rc = disco__ngram_finish(m, st);
    if (rc != DISCO_OK) {
        disco_ngram_free(m);
        return rc;
    }
    *out = m;
    return DISCO_OK;
}
