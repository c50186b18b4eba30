/*
 * args.c - command-line words to raw parameters, driven by an op's schema.
 *
 *   disco resource create --type audio --file a.wav --tags genre=jazz,mood=calm
 *   disco object get HASH -o out.wav
 *   disco resource list --include-deleted --limit=20
 *
 * Values stay strings here; disco_ops_validate() converts them, so the
 * command line and HTTP share one set of rules.
 */
#include "ops_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int is_list(const disco_param *p)
{
    return p->type == DISCO_P_STRINGS || p->type == DISCO_P_IDS || p->type == DISCO_P_HASHES ||
           p->type == DISCO_P_TAGS;
}

static int usage(disco_status *st, const disco_op *op, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int usage(disco_status *st, const disco_op *op, const char *field, const char *fmt, ...)
{
    char what[256], words[64];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(words, sizeof words, "%s", op->name);
    char *dot = strchr(words, '.');
    if (dot)
        *dot = ' ';
    return disco_status_set(st, DISCO_ERR_USAGE, field, "%s (see: disco %s --help)", what, words);
}

/* Stores a string value: lists collect, others may be given once. */
static int put_value(const disco_op *op, const disco_param *p, json_t *raw, const char *value,
                     disco_status *st)
{
    json_t *cur = json_object_get(raw, p->name);

    if (is_list(p)) {
        if (!cur) {
            cur = json_array();
            json_object_set_new(raw, p->name, cur);
        }
        json_array_append_new(cur, json_string(value));
        return DISCO_OK;
    }
    if (cur)
        return usage(st, op, p->name, "--%s given twice", p->name);
    json_object_set_new(raw, p->name, json_string(value));
    return DISCO_OK;
}

/* Finds the parameter a flag word names; sets *inline_value for --x=v. */
static const disco_param *flag_param(const disco_op *op, const char *word, char *name,
                                     size_t name_size, const char **inline_value, int *negated)
{
    const disco_param *p;
    const char *eq;

    *inline_value = NULL;
    *negated = 0;
    if (word[1] != '-') {
        for (p = op->params; word[1] && !word[2] && p && p->name; p++)
            if (p->short_flag == word[1])
                return p;
        return NULL;
    }
    eq = strchr(word, '=');
    snprintf(name, name_size, "%.*s", (int)(eq ? eq - word - 2 : (long)strlen(word + 2)), word + 2);
    if (eq)
        *inline_value = eq + 1;
    p = disco_ops_param(op, name);
    if (!p && strncmp(name, "no-", 3) == 0 && !eq) {
        p = disco_ops_param(op, name + 3);
        if (p && p->type == DISCO_P_BOOL)
            *negated = 1;
        else
            p = NULL;
    }
    return p;
}

/* Handles argv[*i], a flag; advances *i past its value. */
static int take_flag(const disco_op *op, int argc, char **argv, int *i, json_t *raw,
                     disco_status *st)
{
    const char *word = argv[*i], *value;
    char name[128];
    int negated;
    const disco_param *p = flag_param(op, word, name, sizeof name, &value, &negated);

    if (!p)
        return usage(st, op, NULL, "unknown option %s", word);
    if (p->type == DISCO_P_BOOL && !value) {
        if (json_object_get(raw, p->name))
            return usage(st, op, p->name, "--%s given twice", p->name);
        json_object_set_new(raw, p->name, json_string(negated ? "false" : "true"));
        return DISCO_OK;
    }
    if (!value) {
        if (*i + 1 >= argc)
            return usage(st, op, p->name, "option %s needs a value", word);
        value = argv[++*i];
    }
    return put_value(op, p, raw, value, st);
}

/* Gives a positional word to the next positional parameter not yet set. */
static int take_positional(const disco_op *op, const char *word, json_t *raw, disco_status *st)
{
    for (const disco_param *p = op->params; p && p->name; p++) {
        if (!(p->flags & DISCO_PARAM_POSITIONAL))
            continue;
        json_t *cur = json_object_get(raw, p->name);
        if (cur && !(is_list(p) && json_is_array(cur)))
            continue;
        return put_value(op, p, raw, word, st);
    }
    return usage(st, op, NULL, "unexpected argument '%s'", word);
}

int disco_ops_parse_args(const disco_op *op, int argc, char **argv, json_t **raw, disco_status *st)
{
    json_t *out = json_object();
    int rc = DISCO_OK, only_positional = 0;

    if (!out)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (int i = 0; i < argc && rc == DISCO_OK; i++) {
        const char *w = argv[i];
        if (!only_positional && strcmp(w, "--") == 0)
            only_positional = 1;
        else if (!only_positional && w[0] == '-' && w[1] != '\0')
            rc = take_flag(op, argc, argv, &i, out, st);
        else
            rc = take_positional(op, w, out, st);
    }
    if (rc != DISCO_OK) {
        json_decref(out);
        return rc;
    }
    *raw = out;
    return DISCO_OK;
}
