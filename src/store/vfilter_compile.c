/*
 * vfilter_compile.c - compiling JSON filters into the tree of vfilter_int.h.
 *
 * Compiling checks everything a match could trip on (operator names, operand
 * types, depth, empty lists) so that matching never fails. Errors carry the
 * path of the offending key ("filter.$or[2].bpm"), built in a fixed buffer
 * as the compiler descends. Conjuncts of the forms field $eq v and field $in
 * [...] reachable through AND nodes only are kept as terms, with copies of
 * their values, for disco_vfilter_terms().
 */
#include "vfilter_int.h"

#include "disco/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define PATH_MAX_LEN 256
#define BLOCK_MIN 4096

/* ---- arena ---------------------------------------------------------------- */

static void *arena_alloc(disco_vfilter *f, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    vf_block *b = f->blocks;
    void *p;

    size = (size + align - 1) / align * align;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > BLOCK_MIN ? size : BLOCK_MIN;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = f->blocks;
        b->used = 0;
        b->cap = cap;
        f->blocks = b;
    }
    p = b->data + b->used;
    b->used += size;
    return p;
}

static char *arena_strdup(disco_vfilter *f, const char *s, size_t len)
{
    char *d = arena_alloc(f, len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void disco_vfilter_free(disco_vfilter *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nterms; i++)
        json_decref(f->terms[i].values);
    free(f->terms);
    while (f->blocks) {
        vf_block *next = f->blocks->next;
        free(f->blocks);
        f->blocks = next;
    }
    free(f);
}

/* ---- messages ------------------------------------------------------------- */

const char *disco__vfilter_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

void disco__vfilter_quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = strlen(out);

    for (size_t i = 0; i < len && i < DISCO__VFILTER_QUOTE_MAX && n + 5 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02X", ch);
        else
            out[n++] = (char)ch;
    }
    out[n] = '\0';
    if (len > DISCO__VFILTER_QUOTE_MAX && n + 4 < cap)
        strcat(out, "...");
}

/* ---- compiling ------------------------------------------------------------ */

typedef struct vf_ctx {
    disco_vfilter *f;
    disco_status *st;
    char path[PATH_MAX_LEN];
} vf_ctx;

static int fail(vf_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(vf_ctx *c, const char *fmt, ...)
{
    char msg[DISCO_STATUS_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return disco_status_set(c->st, DISCO_ERR_INVAL, c->path, "%s: %s", c->path, msg);
}

static int no_memory(vf_ctx *c)
{
    return disco_status_set(c->st, DISCO_ERR_NOMEM, c->path, "%s: out of memory compiling filter",
                            c->path);
}

static size_t path_push_key(vf_ctx *c, const char *key, size_t len)
{
    size_t old = strlen(c->path);

    if (old + 1 < sizeof c->path)
        strcat(c->path, ".");
    disco__vfilter_quote(c->path, sizeof c->path, key, len);
    return old;
}

static size_t path_push_index(vf_ctx *c, size_t i)
{
    size_t old = strlen(c->path);

    snprintf(c->path + old, sizeof c->path - old, "[%zu]", i);
    return old;
}

static int add_term(vf_ctx *c, const char *field, json_t *values)
{
    disco_vfilter *f = c->f;

    if (!values)
        return no_memory(c);
    if (f->nterms == f->capterms) {
        size_t cap = f->capterms ? 2 * f->capterms : 4;
        vf_term *t = realloc(f->terms, cap * sizeof *t);
        if (!t) {
            json_decref(values);
            return no_memory(c);
        }
        f->terms = t;
        f->capterms = cap;
    }
    f->terms[f->nterms].field = field;
    f->terms[f->nterms++].values = values;
    return DISCO_OK;
}

static int cmp_vf_str(const void *a, const void *b)
{
    const vf_str *x = a, *y = b;

    return disco__vfilter_cmp_str(x->s, x->len, y->s, y->len);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Fills a set from a list already known to hold only strings, numbers and booleans. */
static int fill_set(vf_ctx *c, vf_set *set, const json_t *list)
{
    size_t i, ns = 0, nn = 0;
    json_t *v;

    json_array_foreach (list, i, v) {
        ns += json_is_string(v);
        nn += json_is_number(v);
    }
    set->strs = ns ? arena_alloc(c->f, ns * sizeof *set->strs) : NULL;
    set->nums = nn ? arena_alloc(c->f, nn * sizeof *set->nums) : NULL;
    if ((ns && !set->strs) || (nn && !set->nums))
        return no_memory(c);
    json_array_foreach (list, i, v) {
        if (json_is_string(v)) {
            size_t len = json_string_length(v);
            const char *s = arena_strdup(c->f, json_string_value(v), len);
            if (!s)
                return no_memory(c);
            set->strs[set->nstrs++] = (vf_str){s, len};
        } else if (json_is_number(v)) {
            set->nums[set->nnums++] = json_number_value(v);
        } else {
            set->bools |= json_is_true(v) ? 2u : 1u;
        }
    }
    if (set->nstrs > 1)
        qsort(set->strs, set->nstrs, sizeof *set->strs, cmp_vf_str);
    if (set->nnums > 1)
        qsort(set->nums, set->nnums, sizeof *set->nums, cmp_double);
    return DISCO_OK;
}

static int compile_set(vf_ctx *c, const char *op, const json_t *arg, vf_pred *p)
{
    size_t i;
    json_t *v;

    if (!json_is_array(arg))
        return fail(c, "%s needs a list, got %s", op, disco__vfilter_type_name(arg));
    json_array_foreach (arg, i, v) {
        if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
            return fail(c, "%s[%zu] must be a string, number or boolean, got %s", op, i,
                        disco__vfilter_type_name(v));
    }
    p->type = T_SET;
    p->v.set = arena_alloc(c->f, sizeof *p->v.set);
    if (!p->v.set)
        return no_memory(c);
    memset(p->v.set, 0, sizeof *p->v.set);
    return fill_set(c, p->v.set, arg);
}

/* A string, number or boolean operand; booleans only when `bool_ok`. */
static int compile_scalar(vf_ctx *c, const char *op, const json_t *arg, int bool_ok, vf_pred *p)
{
    if (json_is_string(arg)) {
        size_t len = json_string_length(arg);
        p->type = T_STR;
        p->v.str.len = len;
        p->v.str.s = arena_strdup(c->f, json_string_value(arg), len);
        return p->v.str.s ? DISCO_OK : no_memory(c);
    }
    if (json_is_number(arg)) {
        p->type = T_NUM;
        p->v.num = json_number_value(arg);
        return DISCO_OK;
    }
    if (bool_ok && json_is_boolean(arg)) {
        p->type = T_BOOL;
        p->v.boolean = json_is_true(arg);
        return DISCO_OK;
    }
    if (bool_ok)
        return fail(c, "%s needs a string, number or boolean, got %s", op,
                    disco__vfilter_type_name(arg));
    return fail(c, "%s needs a number or string, got %s", op, disco__vfilter_type_name(arg));
}

static const struct {
    const char *name;
    uint8_t op, negate;
} OPS[] = {
    {"$eq", OP_EQ, 0},   {"$ne", OP_EQ, 1},  {"$gt", OP_GT, 0},
    {"$gte", OP_GTE, 0}, {"$lt", OP_LT, 0},  {"$lte", OP_LTE, 0},
    {"$in", OP_IN, 0},   {"$nin", OP_IN, 1}, {"$exists", OP_EXISTS, 0},
};

static int compile_pred(vf_ctx *c, const char *name, size_t len, const json_t *arg, vf_pred *p)
{
    size_t i;
    char q[DISCO__VFILTER_QUOTE_MAX * 4 + 8] = "";

    for (i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
        if (strlen(OPS[i].name) == len && memcmp(OPS[i].name, name, len) == 0)
            break;
    }
    if (i == sizeof OPS / sizeof OPS[0]) {
        disco__vfilter_quote(q, sizeof q, name, len);
        return fail(c, "unknown operator %s", q);
    }
    p->op = OPS[i].op;
    p->negate = OPS[i].negate;
    switch (p->op) {
    case OP_EQ:
        return compile_scalar(c, name, arg, 1, p);
    case OP_IN:
        return compile_set(c, name, arg, p);
    case OP_EXISTS:
        if (!json_is_boolean(arg))
            return fail(c, "$exists needs true or false, got %s", disco__vfilter_type_name(arg));
        p->type = T_BOOL;
        p->v.boolean = json_is_true(arg);
        return DISCO_OK;
    default:
        return compile_scalar(c, name, arg, 0, p);
    }
}

/* Records field $eq v / field $in [...] as a term when the field sits in a conjunction. */
static int note_term(vf_ctx *c, const char *field, const vf_pred *p, const json_t *arg)
{
    json_t *values;

    if (p->negate || (p->op != OP_EQ && p->op != OP_IN)) {
        c->f->some_not_terms = 1;
        return DISCO_OK;
    }
    if (p->op == OP_IN)
        return add_term(c, field, json_deep_copy(arg));
    values = json_array();
    if (values && json_array_append_new(values, json_deep_copy(arg))) {
        json_decref(values);
        values = NULL;
    }
    return add_term(c, field, values);
}

static int compile_ops(vf_ctx *c, const json_t *ops, vf_node *node, int conj)
{
    size_t i = 0;
    int rc;

    node->n = json_object_size(ops);
    if (node->n == 0)
        return fail(c, "needs at least one operator, got an empty object");
    node->u.field.preds = arena_alloc(c->f, node->n * sizeof *node->u.field.preds);
    if (!node->u.field.preds)
        return no_memory(c);
    for (void *it = json_object_iter((json_t *)ops); it;
         it = json_object_iter_next((json_t *)ops, it)) {
        vf_pred *p = &node->u.field.preds[i++];
        json_t *arg = json_object_iter_value(it);
        rc = compile_pred(c, json_object_iter_key(it), json_object_iter_key_len(it), arg, p);
        if (rc == DISCO_OK && conj)
            rc = note_term(c, node->u.field.name, p, arg);
        else
            c->f->some_not_terms = 1;
        if (rc != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

/* `{"f": v}`: an implicit $eq with one operand. */
static int compile_implicit(vf_ctx *c, const json_t *value, vf_node *node, int conj)
{
    int rc;

    if (json_is_array(value))
        return fail(c, "a list needs $in or $nin, as in {\"$in\": [...]}");
    node->n = 1;
    node->u.field.preds = arena_alloc(c->f, sizeof *node->u.field.preds);
    if (!node->u.field.preds)
        return no_memory(c);
    rc = compile_pred(c, "$eq", 3, value, node->u.field.preds);
    if (rc == DISCO_OK && conj)
        rc = note_term(c, node->u.field.name, node->u.field.preds, value);
    else
        c->f->some_not_terms = 1;
    return rc;
}

static int compile_field(vf_ctx *c, const char *key, size_t klen, const json_t *value,
                         vf_node *node, int conj)
{
    size_t old = path_push_key(c, key, klen);
    int rc;

    node->kind = VF_FIELD;
    node->u.field.len = klen;
    node->u.field.name = NULL;
    if (klen > DISCO__VFILTER_KEY_MAX)
        rc = fail(c, "field name of %zu bytes, at most %d", klen, DISCO__VFILTER_KEY_MAX);
    else if (!(node->u.field.name = arena_strdup(c->f, key, klen)))
        rc = no_memory(c);
    else if (json_is_object(value))
        rc = compile_ops(c, value, node, conj);
    else
        rc = compile_implicit(c, value, node, conj);
    c->path[old] = '\0';
    return rc;
}

static int compile_object(vf_ctx *c, const json_t *obj, vf_node *node, int depth, int conj);

static int compile_logic(vf_ctx *c, const char *op, const json_t *list, vf_node *node, int depth,
                         int conj)
{
    size_t i, old;
    json_t *el;
    int rc;

    if (!json_is_array(list))
        return fail(c, "%s needs a list of filter objects, got %s", op,
                    disco__vfilter_type_name(list));
    if (json_array_size(list) == 0)
        return fail(c, "%s needs at least one filter object, got an empty list", op);
    if (depth >= DISCO_VFILTER_MAX_DEPTH)
        return fail(c, "filter nests deeper than %d levels", DISCO_VFILTER_MAX_DEPTH);
    node->n = json_array_size(list);
    node->u.kids = arena_alloc(c->f, node->n * sizeof *node->u.kids);
    if (!node->u.kids)
        return no_memory(c);
    json_array_foreach (list, i, el) {
        old = path_push_index(c, i);
        if (!json_is_object(el))
            return fail(c, "must be a filter object, got %s", disco__vfilter_type_name(el));
        if (json_object_size(el) == 0)
            return fail(c, "must be a filter object with at least one key, got {}");
        rc = compile_object(c, el, &node->u.kids[i], depth + 1, conj);
        if (rc != DISCO_OK)
            return rc;
        c->path[old] = '\0';
    }
    return DISCO_OK;
}

static int compile_key(vf_ctx *c, const char *key, size_t len, const json_t *value, vf_node *node,
                       int depth, int conj)
{
    int is_and = len == 4 && memcmp(key, "$and", 4) == 0;
    int is_or = len == 3 && memcmp(key, "$or", 3) == 0;
    char q[DISCO__VFILTER_QUOTE_MAX * 4 + 8] = "";
    size_t old;
    int rc;

    if (len == 0)
        return fail(c, "empty field name");
    if (!is_and && !is_or && key[0] == '$') {
        disco__vfilter_quote(q, sizeof q, key, len);
        return fail(c, "unknown operator %s", q);
    }
    if (!is_and && !is_or)
        return compile_field(c, key, len, value, node, conj);
    node->kind = is_and ? VF_AND : VF_OR;
    old = path_push_key(c, key, len);
    rc = compile_logic(c, is_and ? "$and" : "$or", value, node, depth, conj && is_and);
    c->path[old] = '\0';
    return rc;
}

/* An object's keys all hold: one key compiles to its own node, more to an AND. */
static int compile_object(vf_ctx *c, const json_t *obj, vf_node *node, int depth, int conj)
{
    size_t n = json_object_size(obj), i = 0;
    void *it = json_object_iter((json_t *)obj);
    int rc;

    if (n == 1)
        return compile_key(c, json_object_iter_key(it), json_object_iter_key_len(it),
                           json_object_iter_value(it), node, depth, conj);
    node->kind = VF_AND;
    node->n = n;
    node->u.kids = n ? arena_alloc(c->f, n * sizeof *node->u.kids) : NULL;
    if (n && !node->u.kids)
        return no_memory(c);
    for (; it; it = json_object_iter_next((json_t *)obj, it)) {
        rc = compile_key(c, json_object_iter_key(it), json_object_iter_key_len(it),
                         json_object_iter_value(it), &node->u.kids[i++], depth, conj);
        if (rc != DISCO_OK)
            return rc;
    }
    return DISCO_OK;
}

int disco_vfilter_compile(const json_t *expr, disco_vfilter **out, disco_status *st)
{
    vf_ctx c = {.st = st, .path = "filter"};
    int rc;

    *out = NULL;
    if (!expr)
        return fail(&c, "missing filter");
    if (!json_is_object(expr))
        return fail(&c, "must be a JSON object, got %s", disco__vfilter_type_name(expr));
    c.f = calloc(1, sizeof *c.f);
    if (!c.f)
        return no_memory(&c);
    rc = compile_object(&c, expr, &c.f->root, 1, 1);
    if (rc != DISCO_OK) {
        disco_vfilter_free(c.f);
        return rc;
    }
    *out = c.f;
    return DISCO_OK;
}

int disco_vfilter_parse(const char *text, size_t len, disco_vfilter **out, disco_status *st)
{
    json_t *expr = NULL;
    int rc;

    *out = NULL;
    rc = disco_json_parse(text, len, "filter", &expr, st);
    if (rc == DISCO_OK)
        rc = disco_vfilter_compile(expr, out, st);
    json_decref(expr);
    return rc;
}

int disco_vfilter_only_terms(const disco_vfilter *f)
{
    return f && f->nterms > 0 && !f->some_not_terms;
}

int disco_vfilter_terms(const disco_vfilter *f, disco_vfilter_term_fn fn, void *user)
{
    for (size_t i = 0; f && i < f->nterms; i++) {
        int rc = fn(user, f->terms[i].field, f->terms[i].values);
        if (rc)
            return rc;
    }
    return 0;
}
