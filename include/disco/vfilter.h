/*
 * vfilter.h - metadata of vectors and the filter language over it.
 *
 * Metadata is a flat JSON object whose values are strings, numbers,
 * booleans or lists of strings. Filters follow Pinecone's language:
 *
 *   {"genre": "jazz"}                              implicit $eq
 *   {"bpm": {"$gte": 90, "$lt": 130}}              several operators: all hold
 *   {"genre": {"$in": ["jazz", "soul"]}}           $eq $ne $gt $gte $lt $lte $in $nin $exists
 *   {"$and": [{...}, {...}]}  {"$or": [...]}       nesting; top-level keys: all hold
 *
 * Numbers compare as doubles, strings bytewise (memcmp, then the shorter
 * first); booleans take only $eq $ne $in $nin. A comparison between
 * different types is false, never an error; $ne and $nin are the negations
 * of $eq and $in, so they hold on a type mismatch and on a missing field,
 * which fails every other operator except {"$exists": false}. A list field
 * matches if any element matches ($ne and $nin: no element matches); each
 * operator on a list field is tested on its own, so {"$gt": "a", "$lt": "c"}
 * holds when some element is above "a" and some (maybe another) below "c".
 * $in and $nin lists may mix strings, numbers and booleans (each value is
 * compared with the field's type) and may be empty ($in [] never holds).
 *
 * A filter is an object: its keys are field names (non-empty, at most 128
 * bytes), "$and" or "$or", whose value is a non-empty list of non-empty
 * filter objects, nested at most DISCO_VFILTER_MAX_DEPTH objects deep. {}
 * at the top matches everything. A field takes a string, number or boolean
 * (implicit $eq) or a non-empty object of operators.
 */
#ifndef DISCO_VFILTER_H
#define DISCO_VFILTER_H

#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>

#define DISCO_VMETA_MAX_BYTES 16384 /* serialised metadata of one vector */
#define DISCO_VFILTER_MAX_DEPTH 32

/*
 * Checks that `meta` is a flat object as above: keys non-empty, at most 128
 * bytes, not starting with '$' (a filter could not name them); values
 * strings, numbers, booleans or lists of strings; compact serialisation at
 * most DISCO_VMETA_MAX_BYTES. NULL is accepted (no metadata). INVAL with
 * the field in st->field and the message ("metadata.bpm: null is not allowed ...").
 */
int disco_vmeta_check(const json_t *meta, disco_status *st);

typedef struct disco_vfilter disco_vfilter;

/*
 * Compiles a filter into *out (free with disco_vfilter_free()); `expr` is
 * only read and may be freed afterwards. The compiled filter is immutable
 * and may be shared between threads. Errors: INVAL with the path of the
 * problem in st->field and the message ("filter.$and[1].bpm: $gt needs a
 * number or string, got a list"; "filter.$or[2].bpm: unknown operator
 * $gtt"), NOMEM. Never crashes on any JSON; *out is NULL on failure.
 */
int disco_vfilter_compile(const json_t *expr, disco_vfilter **out, disco_status *st);

/*
 * Parses JSON text and compiles it. Errors as disco_vfilter_compile(), and
 * INVAL for invalid JSON (with line and column) or JSON nesting deeper than
 * DISCO_JSON_MAX_DEPTH.
 */
int disco_vfilter_parse(const char *text, size_t len, disco_vfilter **out, disco_status *st);

void disco_vfilter_free(disco_vfilter *f);

/* 1 when `meta` (an object; NULL counts as empty) matches, else 0. Thread-safe. */
int disco_vfilter_match(const disco_vfilter *f, const json_t *meta);

/*
 * The fields and values a filter constrains, for estimating selectivity
 * from an index: calls `fn` for each conjunct of the forms field $eq value
 * (implicit or explicit) and field $in [values] that every match must
 * satisfy (top-level keys and, recursively, members of a top-level $and;
 * nothing under $or), in the filter's order. `values` is always a list
 * (one element for $eq), borrowed, valid while `f` lives. Returns 0, or
 * the first non-zero value of `fn`, which stops the walk.
 */
typedef int (*disco_vfilter_term_fn)(void *user, const char *field, const json_t *values);
int disco_vfilter_terms(const disco_vfilter *f, disco_vfilter_term_fn fn, void *user);

/*
 * 1 when the filter is nothing but the conjunction of its terms (every
 * predicate is a non-negated $eq / $in reached through objects and $and
 * only), so an index that answers each term exactly answers the filter:
 * no match needs checking afterwards. 0 otherwise, and for NULL.
 */
int disco_vfilter_only_terms(const disco_vfilter *f);

#endif
