/*
 * vfilter_match.c - matching compiled filters against metadata, and the
 * check of metadata itself.
 *
 * Matching walks the tree of vfilter_int.h: one hash lookup per field node,
 * then per operator a comparison, or a binary search in the sorted $in set.
 * It reads only immutable state and allocates nothing, so one filter may
 * match on many threads at once.
 */
#include "vfilter_int.h"

#include <stdarg.h>
#include <stdio.h>

/* ---- matching ------------------------------------------------------------- */

static int set_has_str(const vf_set *set, const char *s, size_t len)
{
    size_t lo = 0, hi = set->nstrs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = disco__vfilter_cmp_str(set->strs[mid].s, set->strs[mid].len, s, len);
        if (r == 0)
            return 1;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int set_has_num(const vf_set *set, double x)
{
    size_t lo = 0, hi = set->nnums;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->nums[mid] == x)
            return 1;
        if (set->nums[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Whether an ordering `r` (value against operand) satisfies `op`. */
static int order_holds(int op, int r)
{
    switch (op) {
    case OP_EQ:
        return r == 0;
    case OP_GT:
        return r > 0;
    case OP_GTE:
        return r >= 0;
    case OP_LT:
        return r < 0;
    default:
        return r <= 0;
    }
}

/* The un-negated operator on one scalar value; other types never hold. */
static int atom_holds(const vf_pred *p, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (p->type == T_SET)
            return set_has_str(p->v.set, json_string_value(v), json_string_length(v));
        return p->type == T_STR &&
               order_holds(p->op,
                           disco__vfilter_cmp_str(json_string_value(v), json_string_length(v),
                                                  p->v.str.s, p->v.str.len));
    case JSON_INTEGER:
    case JSON_REAL: {
        double x = json_number_value(v);
        if (p->type == T_SET)
            return set_has_num(p->v.set, x);
        return p->type == T_NUM && order_holds(p->op, (x > p->v.num) - (x < p->v.num));
    }
    case JSON_TRUE:
    case JSON_FALSE:
        if (p->type == T_SET)
            return (p->v.set->bools & (json_is_true(v) ? 2u : 1u)) != 0;
        return p->type == T_BOOL && json_is_true(v) == p->v.boolean;
    default:
        return 0;
    }
}

static int pred_holds(const vf_pred *p, const json_t *v)
{
    int any = 0;

    if (p->op == OP_EXISTS)
        return (v != NULL) == p->v.boolean;
    if (json_is_array(v)) {
        for (size_t i = 0, n = json_array_size(v); i < n && !any; i++)
            any = atom_holds(p, json_array_get(v, i));
    } else if (v) {
        any = atom_holds(p, v);
    }
    return any != p->negate;
}

static int match_node(const vf_node *node, const json_t *meta)
{
    const json_t *v;

    switch (node->kind) {
    case VF_AND:
        for (size_t i = 0; i < node->n; i++) {
            if (!match_node(&node->u.kids[i], meta))
                return 0;
        }
        return 1;
    case VF_OR:
        for (size_t i = 0; i < node->n; i++) {
            if (match_node(&node->u.kids[i], meta))
                return 1;
        }
        return 0;
    default:
        v = meta ? json_object_getn(meta, node->u.field.name, node->u.field.len) : NULL;
        for (size_t i = 0; i < node->n; i++) {
            if (!pred_holds(&node->u.field.preds[i], v))
                return 0;
        }
        return 1;
    }
}

int disco_vfilter_match(const disco_vfilter *f, const json_t *meta)
{
    if (meta && !json_is_object(meta))
        meta = NULL;
    return match_node(&f->root, meta);
}

/* ---- metadata ------------------------------------------------------------- */

static int meta_fail(disco_status *st, const char *key, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int meta_fail(disco_status *st, const char *key, size_t len, const char *fmt, ...)
{
    char field[DISCO__VFILTER_QUOTE_MAX * 4 + 8] = "", msg[DISCO_STATUS_MSG_MAX];
    va_list ap;

    disco__vfilter_quote(field, sizeof field, key, len);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return disco_status_set(st, DISCO_ERR_INVAL, field, "metadata.%s: %s", field, msg);
}

static int check_value(const char *key, size_t len, const json_t *v, disco_status *st)
{
    size_t i;
    json_t *el;

    if (json_is_string(v) || json_is_number(v) || json_is_boolean(v))
        return DISCO_OK;
    if (!json_is_array(v))
        return meta_fail(st, key, len,
                         "%s is not allowed; values are strings, numbers, booleans or lists of "
                         "strings",
                         disco__vfilter_type_name(v));
    json_array_foreach (v, i, el) {
        if (!json_is_string(el))
            return meta_fail(st, key, len, "list element [%zu] is %s; lists hold only strings", i,
                             disco__vfilter_type_name(el));
    }
    return DISCO_OK;
}

static int check_key(const char *key, size_t len, disco_status *st)
{
    if (len == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "", "metadata: empty field name");
    if (len > DISCO__VFILTER_KEY_MAX)
        return meta_fail(st, key, len, "field name of %zu bytes, at most %d", len,
                         DISCO__VFILTER_KEY_MAX);
    if (key[0] == '$')
        return meta_fail(st, key, len, "field names may not start with '$'");
    if (memchr(key, '\0', len))
        return meta_fail(st, key, len, "field name contains a NUL byte");
    return DISCO_OK;
}

int disco_vmeta_check(const json_t *meta, disco_status *st)
{
    json_t *obj = (json_t *)meta;
    size_t bytes;

    if (!meta)
        return DISCO_OK;
    if (!json_is_object(meta))
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata: must be a JSON object, got %s",
                                disco__vfilter_type_name(meta));
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t len = json_object_iter_key_len(it);
        int rc = check_key(key, len, st);
        if (rc == DISCO_OK)
            rc = check_value(key, len, json_object_iter_value(it), st);
        if (rc != DISCO_OK)
            return rc;
    }
    bytes = json_dumpb(meta, NULL, 0, JSON_COMPACT);
    if (bytes > DISCO_VMETA_MAX_BYTES)
        return disco_status_set(st, DISCO_ERR_INVAL, "metadata",
                                "metadata: %zu bytes serialised, at most %d", bytes,
                                DISCO_VMETA_MAX_BYTES);
    return DISCO_OK;
}
