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
 * A list field matches if any element matches ($ne and $nin: no element
 * matches). Comparing different types is false (never an error); a missing
 * field fails every operator except $ne, $nin and {"$exists": false}.
 */
#ifndef DISCO_VFILTER_H
#define DISCO_VFILTER_H

#include "disco/err.h"

#include <jansson.h>
#include <stddef.h>

#define DISCO_VMETA_MAX_BYTES 16384 /* serialised metadata of one vector */
#define DISCO_VFILTER_MAX_DEPTH 32

/* Checks that `meta` is a flat object as above; INVAL names the field. */
int disco_vmeta_check(const json_t *meta, disco_status *st);

typedef struct disco_vfilter disco_vfilter;

/*
 * Compiles a filter. INVAL with the path of the problem ("filter.$and[1].bpm:
 * $gt needs a number or string, got a list"); never crashes on any JSON.
 */
int disco_vfilter_compile(const json_t *expr, disco_vfilter **out, disco_status *st);

/* Parses JSON text and compiles it (errors with line and column). */
int disco_vfilter_parse(const char *text, size_t len, disco_vfilter **out, disco_status *st);

void disco_vfilter_free(disco_vfilter *f);

/* 1 when `meta` (an object; NULL counts as empty) matches, else 0. Thread-safe. */
int disco_vfilter_match(const disco_vfilter *f, const json_t *meta);

/*
 * The fields and values a filter constrains, for estimating selectivity
 * from an index: calls `fn` for each top-level conjunct of the forms
 * field $eq value / field $in [values]; non-zero from `fn` stops.
 */
typedef int (*disco_vfilter_term_fn)(void *user, const char *field, const json_t *values);
int disco_vfilter_terms(const disco_vfilter *f, disco_vfilter_term_fn fn, void *user);

#endif
