/*
 * tsdb_regex.c - the tag regexes of selectors (key=~re, key!~re): POSIX
 * extended syntax, anchored, compiled only when small enough.
 *
 * DESIGN: glibc's regcomp expands a repetition by copying the repeated
 * subtree (a+ becomes aa*, a{3} becomes aaa), so stacked and nested
 * repetitions multiply: 26 characters of "a++++..." or
 * "((a{200}){200}){200}" ask for millions of copies and gigabytes. Selectors
 * come from anyone who may query (the HTTP API), so before compiling,
 * regex_size() adds up the tree the way those copies do and a pattern
 * larger than REGEX_NODES_MAX (about 5 MB in regcomp) is refused.
 *
 *   atom              1                      x  \.  [a-z]  ^  $
 *   r* r?             size(r) + 1
 *   r+                2 size(r) + 1          (r r*)
 *   r{m} r{m,} r{m,n} size(r) (max(m,n)+1) + 1
 *   (r) r|s           size(r) + size(s) + 1
 */
#include "tsdb_int.h"

#include "../base/base_int.h"

#include <stdio.h>
#include <stdlib.h>

#define REGEX_NODES_MAX ((uint64_t)1 << 14)
#define REGEX_DEPTH_MAX 32
#define SIZE_CAP ((uint64_t)1 << 40) /* sizes saturate here */

static uint64_t sat(uint64_t x)
{
    return x > SIZE_CAP ? SIZE_CAP : x;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    return a && b > SIZE_CAP / a ? SIZE_CAP : sat(a * b);
}

/* Past the ']' closing the bracket expression at p ('['), or the end of the text. */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++;
    for (; *p && *p != ']'; p++)
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            const char *end = strchr(p + 2, p[1]);
            if (end && end[1] == ']')
                p = end + 1;
        }
    return *p ? p + 1 : p;
}

/* A bound "{m}", "{m,}" or "{m,n}" at p: past it with the copies it makes, or NULL. */
static const char *parse_bound(const char *p, uint64_t *copies)
{
    uint64_t m = 0, n;

    if (p[1] < '0' || p[1] > '9')
        return NULL;
    for (p++; *p >= '0' && *p <= '9'; p++)
        m = sat(m * 10 + (uint64_t)(*p - '0'));
    n = m;
    if (*p == ',' && p[1] >= '0' && p[1] <= '9')
        for (p++, n = 0; *p >= '0' && *p <= '9'; p++)
            n = sat(n * 10 + (uint64_t)(*p - '0'));
    else if (*p == ',')
        p++;
    if (*p != '}')
        return NULL;
    *copies = (m > n ? m : n) + 1;
    return p + 1;
}

typedef struct re_level {
    uint64_t total; /* size of what precedes `last` in the group */
    uint64_t last;  /* size of the last atom or group, which a repetition applies to */
} re_level;

static void add_atom(re_level *l, uint64_t size)
{
    l->total = sat(l->total + l->last);
    l->last = size;
}

/* Estimated size of the expanded tree of `re` (saturating; SIZE_CAP when too deep). */
static uint64_t regex_size(const char *re)
{
    re_level lv[REGEX_DEPTH_MAX + 1] = {{0, 0}};
    int d = 0;
    uint64_t copies, size = 0;

    for (const char *p = re; *p;) {
        const char *next = p + 1, *bound;
        switch (*p) {
        case '\\':
            add_atom(&lv[d], 1);
            next = p[1] ? p + 2 : p + 1;
            break;
        case '[':
            add_atom(&lv[d], 1);
            next = skip_bracket(p);
            break;
        case '(':
            if (d == REGEX_DEPTH_MAX)
                return SIZE_CAP;
            lv[++d] = (re_level){0, 0};
            break;
        case ')':
            size = d ? sat(lv[d].total + lv[d].last + 1) : 1;
            d -= d > 0;
            add_atom(&lv[d], size);
            break;
        case '|':
            add_atom(&lv[d], 1);
            break;
        case '*':
        case '?':
            lv[d].last = sat(lv[d].last + 1);
            break;
        case '+':
            lv[d].last = sat(2 * lv[d].last + 1);
            break;
        case '{':
            bound = parse_bound(p, &copies);
            if (bound)
                lv[d].last = sat(sat_mul(lv[d].last, copies) + 1);
            else
                add_atom(&lv[d], 1);
            next = bound ? bound : p + 1;
            break;
        default:
            add_atom(&lv[d], 1);
            break;
        }
        p = next;
    }
    for (size = 0; d >= 0; d--)
        size = sat(size + lv[d].total + lv[d].last + 1);
    return size;
}

int disco__tsdb_regex_compile(regex_t *re, const char *key, const char *value, disco_status *st)
{
    size_t len = strlen(value) + 8;
    char *anchored, err[128], q[DISCO__QUOTE_MAX];
    int e;

    if (regex_size(value) > REGEX_NODES_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                "matcher on tag '%s': regex '%s' is too complex (groups nested "
                                "over %d deep, or repetitions expanding past %llu nodes)",
                                key, disco__quote(value, q), REGEX_DEPTH_MAX,
                                (unsigned long long)REGEX_NODES_MAX);
    anchored = malloc(len);
    if (!anchored)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    snprintf(anchored, len, "^(%s)$", value);
    e = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    if (e != 0) {
        regerror(e, NULL, err, sizeof err);
        return disco_status_set(st, DISCO_ERR_INVAL, "matchers",
                                "matcher on tag '%s': regex '%s': %s", key, disco__quote(value, q),
                                err);
    }
    return DISCO_OK;
}
