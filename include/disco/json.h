/*
 * json.h - helpers over jansson used across the library.
 *
 * Ownership follows jansson: functions returning json_t* return a new
 * reference the caller must json_decref(); "borrowed" results must not be.
 */
#ifndef DISCO_JSON_H
#define DISCO_JSON_H

#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting accepted by the parsers below (objects + arrays). */
#define DISCO_JSON_MAX_DEPTH 64

/*
 * Parses `len` bytes of JSON text. `what` names the input in messages
 * ("param 'metadata'"). Errors: DISCO_ERR_INVAL with line and column
 * ("param 'metadata': invalid JSON at line 1, column 7: ..."), or when the
 * text nests deeper than DISCO_JSON_MAX_DEPTH. Returns a new reference.
 */
int disco_json_parse(const char *text, size_t len, const char *what, json_t **out,
                     disco_status *st);

/* As disco_json_parse(), but the value must be an object. */
int disco_json_parse_object(const char *text, size_t len, const char *what, json_t **out,
                            disco_status *st);

/* Reads and parses a whole file (at most `max_bytes`). */
int disco_json_load_file(const char *path, size_t max_bytes, json_t **out, disco_status *st);

/* Nesting depth of a value (scalar = 0, [] = 1, [[1]] = 2). */
int disco_json_depth(const json_t *v);

/*
 * Compact, key-sorted serialisation; caller frees with free(). NULL on
 * allocation failure.
 */
char *disco_json_dumps(const json_t *v);

/* Pretty (2-space indent, key order preserved) serialisation; caller frees. */
char *disco_json_dumps_pretty(const json_t *v);

/*
 * Borrowed accessors with defaults: the member's value if present with the
 * right type, else `def`.
 */
const char *disco_json_str(const json_t *obj, const char *key, const char *def);
int64_t disco_json_int(const json_t *obj, const char *key, int64_t def);
double disco_json_num(const json_t *obj, const char *key, double def);
int disco_json_bool(const json_t *obj, const char *key, int def);

/*
 * Applies an RFC 7386 JSON Merge Patch to `target` in place: members of
 * `patch` set with null are removed, objects merge recursively, everything
 * else replaces. If `patch` is not an object, returns a new reference to a
 * copy of `patch` in *out; otherwise *out is a new reference to `target`
 * (or, when `target` is not an object or is NULL, to a new object built
 * from `patch`; `target` is then left alone). Members of `patch` are copied,
 * never shared. Returns DISCO_OK, DISCO_ERR_NOMEM, or DISCO_ERR_INVAL when
 * `patch` is NULL.
 */
int disco_json_merge_patch(json_t *target, const json_t *patch, json_t **out);

/*
 * True when every value in `obj` is a string (a flat string->string map),
 * as tags are. */
int disco_json_is_string_map(const json_t *obj);

/*
 * A number for a result: `v` rounded to `decimals` places (< 0: as is), or
 * null when it is NaN or infinite (JSON has neither; null says "does not
 * exist"). New reference.
 */
json_t *disco_json_number(double v, int decimals);

#endif
