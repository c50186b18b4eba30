/*
 * json.c - parsing, depth limits, serialisation, accessors and RFC 7386
 * merge patch over jansson.
 *
 * Depth: jansson's parser recurses but stops at JSON_PARSER_MAX_DEPTH (2048)
 * with json_error_stack_overflow, so no input can exhaust the stack while
 * parsing. The tighter DISCO_JSON_MAX_DEPTH is then checked on the result
 * with disco_json_depth(), which also stops descending past a cap so that
 * values built in memory (even cyclic ones) cannot make it recurse forever.
 */
#include "disco/json.h"

#include "base_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if JSON_PARSER_MAX_DEPTH > 4096
#error "jansson's parser depth limit is too high to bound the stack"
#endif

#define PARSE_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)
#define DEPTH_CAP (JSON_PARSER_MAX_DEPTH + 1)

static int depth_capped(const json_t *v, int level)
{
    int deepest = 0;

    if (level >= DEPTH_CAP)
        return 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach ((json_t *)v, key, child) {
            int d = depth_capped(child, level + 1);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int d = depth_capped(json_array_get(v, i), level + 1);
            deepest = d > deepest ? d : deepest;
        }
        return deepest + 1;
    }
    return 0;
}

int disco_json_depth(const json_t *v)
{
    return v ? depth_capped(v, 0) : 0;
}

static int too_deep(const char *what, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_INVAL, what,
                            "%s: JSON nests deeper than %d levels of objects and arrays", what,
                            DISCO_JSON_MAX_DEPTH);
}

/* jansson's message with control bytes (echoed from the input) made visible. */
static const char *printable(char out[JSON_ERROR_TEXT_LENGTH], const char *text)
{
    size_t i;

    for (i = 0; text[i] && i + 1 < JSON_ERROR_TEXT_LENGTH; i++)
        out[i] = (unsigned char)text[i] < 0x20 || text[i] == 0x7F ? '?' : text[i];
    out[i] = '\0';
    return out;
}

static int parse_error(const char *what, const json_error_t *err, disco_status *st)
{
    char text[JSON_ERROR_TEXT_LENGTH];

    if (json_error_code(err) == json_error_stack_overflow)
        return too_deep(what, st);
    if (json_error_code(err) == json_error_out_of_memory)
        return disco_status_set(st, DISCO_ERR_NOMEM, what, "%s: out of memory parsing JSON", what);
    return disco_status_set(st, DISCO_ERR_INVAL, what, "%s: invalid JSON at line %d, column %d: %s",
                            what, err->line, err->column > 0 ? err->column : 1,
                            printable(text, err->text));
}

/* jansson stops at a NUL byte as if the text ended there, so NULs are refused up front. */
static int nul_byte(const char *what, const char *text, size_t len, disco_status *st)
{
    const char *nul = memchr(text, '\0', len);
    int line = 1, column = 1;

    for (const char *p = text; p < nul; p++) {
        if (*p == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    return disco_status_set(st, DISCO_ERR_INVAL, what,
                            "%s: invalid JSON at line %d, column %d: NUL byte", what, line, column);
}

int disco_json_parse(const char *text, size_t len, const char *what, json_t **out, disco_status *st)
{
    json_error_t err;
    json_t *v;

    what = disco__what(what);
    *out = NULL;
    if (!text)
        return disco_status_set(st, DISCO_ERR_INVAL, what, "%s: missing JSON text", what);
    if (memchr(text, '\0', len))
        return nul_byte(what, text, len, st);
    v = json_loadb(text, len, PARSE_FLAGS, &err);
    if (!v)
        return parse_error(what, &err, st);
    if (disco_json_depth(v) > DISCO_JSON_MAX_DEPTH) {
        json_decref(v);
        return too_deep(what, st);
    }
    *out = v;
    return DISCO_OK;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
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

int disco_json_parse_object(const char *text, size_t len, const char *what, json_t **out,
                            disco_status *st)
{
    int rc;

    what = disco__what(what);
    rc = disco_json_parse(text, len, what, out, st);
    if (rc != DISCO_OK)
        return rc;
    if (!json_is_object(*out)) {
        const char *got = type_name(*out);
        json_decref(*out);
        *out = NULL;
        return disco_status_set(st, DISCO_ERR_INVAL, what, "%s: expected a JSON object, got %s",
                                what, got);
    }
    return DISCO_OK;
}

/* Reads all of `fd` into a NUL-terminated buffer; more than `max` bytes is DISCO_ERR_LIMIT. */
static int read_capped(int fd, const char *path, size_t max, char **out, size_t *len,
                       disco_status *st)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;

    while (n <= max) {
        ssize_t r;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                return disco_status_set(st, DISCO_ERR_NOMEM, path, "'%s': out of memory reading it",
                                        path);
            }
            buf = nb;
            cap = ncap;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            free(buf);
            return disco_status_errno(st, err, path, "cannot read '%s'", path);
        }
        if (r == 0) {
            buf[n] = '\0';
            *out = buf;
            *len = n;
            return DISCO_OK;
        }
        n += (size_t)r;
    }
    free(buf);
    return disco_status_set(st, DISCO_ERR_LIMIT, path, "'%s': larger than the limit of %zu bytes",
                            path, max);
}

int disco_json_load_file(const char *path, size_t max_bytes, json_t **out, disco_status *st)
{
    struct stat sb;
    size_t len = 0;
    char *buf = NULL;
    int fd, rc;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return disco_status_errno(st, errno, path, "cannot open '%s'", path);
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return disco_status_set(st, DISCO_ERR_LIMIT, path,
                                "'%s': %lld bytes, larger than the limit of %zu bytes", path,
                                (long long)sb.st_size, max_bytes);
    }
    rc = read_capped(fd, path, max_bytes, &buf, &len, st);
    close(fd);
    if (rc != DISCO_OK)
        return rc;
    rc = disco_json_parse(buf, len, path, out, st);
    free(buf);
    return rc;
}

char *disco_json_dumps(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
}

char *disco_json_dumps_pretty(const json_t *v)
{
    return v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
}

static json_t *member(const json_t *obj, const char *key)
{
    return json_is_object(obj) && key ? json_object_get(obj, key) : NULL;
}

const char *disco_json_str(const json_t *obj, const char *key, const char *def)
{
    json_t *v = member(obj, key);

    return json_is_string(v) ? json_string_value(v) : def;
}

int64_t disco_json_int(const json_t *obj, const char *key, int64_t def)
{
    json_t *v = member(obj, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

double disco_json_num(const json_t *obj, const char *key, double def)
{
    json_t *v = member(obj, key);

    return json_is_number(v) ? json_number_value(v) : def;
}

int disco_json_bool(const json_t *obj, const char *key, int def)
{
    json_t *v = member(obj, key);

    return json_is_boolean(v) ? json_is_true(v) : def;
}

/*
 * Merges object `patch` into object `target` in place. `patch` is private to
 * the merge (a deep copy), so its members can be moved into `target`.
 */
static int merge_object(json_t *target, json_t *patch)
{
    const char *key;
    json_t *value;

    json_object_foreach (patch, key, value) {
        json_t *cur = json_object_get(target, key);
        if (json_is_null(value)) {
            json_object_del(target, key);
        } else if (json_is_object(value) && json_is_object(cur)) {
            if (merge_object(cur, value) != DISCO_OK)
                return DISCO_ERR_NOMEM;
        } else if (json_is_object(value)) {
            json_t *fresh = json_object();
            if (!fresh || merge_object(fresh, value) != DISCO_OK ||
                json_object_set_new(target, key, fresh) != 0)
                return DISCO_ERR_NOMEM;
        } else if (json_object_set(target, key, value) != 0) {
            return DISCO_ERR_NOMEM;
        }
    }
    return DISCO_OK;
}

int disco_json_merge_patch(json_t *target, const json_t *patch, json_t **out)
{
    json_t *copy, *result;
    int rc;

    *out = NULL;
    if (!patch)
        return DISCO_ERR_INVAL;
    copy = json_deep_copy(patch);
    if (!copy)
        return DISCO_ERR_NOMEM;
    if (!json_is_object(copy)) {
        *out = copy;
        return DISCO_OK;
    }
    result = json_is_object(target) ? json_incref(target) : json_object();
    rc = result ? merge_object(result, copy) : DISCO_ERR_NOMEM;
    json_decref(copy);
    if (rc != DISCO_OK) {
        json_decref(result);
        return rc;
    }
    *out = result;
    return DISCO_OK;
}

int disco_json_is_string_map(const json_t *obj)
{
    const char *key;
    json_t *value;

    if (!json_is_object(obj))
        return 0;
    json_object_foreach ((json_t *)obj, key, value) {
        if (!json_is_string(value))
            return 0;
    }
    return 1;
}

json_t *disco_json_number(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    if (decimals >= 0) {
        double scale = pow(10.0, decimals);
        v = round(v * scale) / scale;
    }
    return json_real(v);
}
