/*
 * ngram_int.h - the n-gram model's storage, shared by its build
 * (ngram_build.c), queries (ngram.c) and file format (ngram_io.c).
 *
 * DESIGN
 *   A left-to-right count trie stored level by level, each level a set of
 *   parallel arrays (no pointers, no hash table once built):
 *
 *     level 0   root (the empty context), one node
 *     level k   the distinct k-grams, sorted by (parent, last token)
 *
 *   Node r of level k is the k-gram (its parent's (k-1)-gram, tok[r]) with
 *   count[r], its modified-KN count at order k. Below the top order a node
 *   is also a context: its followers are the nodes child[r] ..
 *   child[r + 1] - 1 of level k + 1 (sorted by token, found by binary
 *   search), total[r] is the sum of their counts and gamma[r] the weight
 *   left for the lower order. Per n-gram: 6 bytes at the top order, 18
 *   below it.
 *
 *   count, tok and child are the model; the discounts, total and gamma
 *   follow from them (disco__ngram_finish), so the file holds only those.
 */
#ifndef DISCO_MUSIC_NGRAM_INT_H
#define DISCO_MUSIC_NGRAM_INT_H

#include "disco/ngram.h"

#include <stddef.h>
#include <stdint.h>

typedef struct disco__ngram_level {
    size_t n;        /* nodes */
    uint16_t *tok;   /* last token of each n-gram */
    uint32_t *count; /* modified-KN count (raw at the top order) */
    uint32_t *child; /* n + 1 follower offsets into the next level; NULL at the top */
    uint32_t *total; /* sum of the followers' counts; NULL at the top */
    float *gamma;    /* lower-order weight as a context; NULL at the top */
} disco__ngram_level;

struct disco_ngram {
    int order;
    int vocab;
    double disc[DISCO_NGRAM_MAX_ORDER + 1][3]; /* D1, D2, D3+ of order k at disc[k] */
    disco__ngram_level lv[DISCO_NGRAM_MAX_ORDER + 1];
};

/* A model with no levels allocated yet (NULL when out of memory). */
disco_ngram *disco__ngram_new(int order, int vocab);

/*
 * Allocates the arrays of level k with n nodes (child/total/gamma only
 * below the top order; child zeroed). NOMEM.
 */
int disco__ngram_level_alloc(disco_ngram *m, int k, size_t n, disco_status *st);

/*
 * Derives the discounts of every order and each context's total and
 * gamma from the counts. CORRUPT when a context's total overflows 32 bits
 * (only a damaged file can do that).
 */
int disco__ngram_finish(disco_ngram *m, disco_status *st);

#endif
