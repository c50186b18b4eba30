/*
 * vfilter_int.h - the compiled form of a vector filter, shared by the
 * compiler (vfilter_compile.c) and the matcher (vfilter_match.c).
 *
 *   AND / OR  ->  kids[n]          contiguous child nodes
 *   FIELD     ->  name, preds[n]   every operator on one field: one lookup
 *   pred      ->  base op, negate flag, operand (string | number | boolean | set)
 *   set       ->  sorted strings, sorted numbers, two boolean bits
 *
 * $ne and $nin are a negated $eq and $in. Everything but the terms lives in
 * the filter's arena and is freed at once.
 */
#ifndef DISCO_VFILTER_INT_H
#define DISCO_VFILTER_INT_H

#include "disco/vfilter.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DISCO__VFILTER_KEY_MAX 128  /* bytes in a field name */
#define DISCO__VFILTER_QUOTE_MAX 64 /* bytes of an input echoed in a message */

enum vf_kind { VF_AND, VF_OR, VF_FIELD };
enum vf_op { OP_EQ, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_EXISTS };
enum vf_type { T_STR, T_NUM, T_BOOL, T_SET };

typedef struct vf_str {
    const char *s;
    size_t len;
} vf_str;

typedef struct vf_set {
    vf_str *strs;
    double *nums;
    size_t nstrs, nnums;
    unsigned bools; /* bit 0: false is in the set, bit 1: true */
} vf_set;

typedef struct vf_pred {
    uint8_t op, type, negate;
    union {
        vf_str str;
        double num;
        int boolean;
        vf_set *set;
    } v;
} vf_pred;

typedef struct vf_node {
    uint8_t kind;
    size_t n;
    union {
        struct vf_node *kids;
        struct {
            const char *name;
            size_t len;
            vf_pred *preds;
        } field;
    } u;
} vf_node;

typedef struct vf_term {
    const char *field;
    json_t *values;
} vf_term;

typedef struct vf_block {
    struct vf_block *next;
    size_t used, cap;
    _Alignas(max_align_t) unsigned char data[];
} vf_block;

struct disco_vfilter {
    vf_node root;
    vf_term *terms;
    size_t nterms, capterms;
    int some_not_terms; /* a predicate that is not a conjunct $eq / $in (see only_terms) */
    vf_block *blocks;
};

/* "a string", "a number", "a list", ... for messages. */
const char *disco__vfilter_type_name(const json_t *v);

/*
 * Appends at most DISCO__VFILTER_QUOTE_MAX bytes of `s` (control bytes as
 * \xNN, "..." when cut) to the NUL-terminated `out` of `cap` bytes.
 */
void disco__vfilter_quote(char *out, size_t cap, const char *s, size_t len);

/* Bytewise order of two strings with lengths; a prefix sorts first. */
static inline int disco__vfilter_cmp_str(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);

    return r ? r : (alen > blen) - (alen < blen);
}

#endif
