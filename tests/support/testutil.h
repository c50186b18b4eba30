/*
 * testutil.h - small helpers shared by the cmocka test groups.
 */
#ifndef DISCO_TESTUTIL_H
#define DISCO_TESTUTIL_H

#include "disco/ops.h"

#include <stddef.h>
#include <stdint.h>

/* A fresh empty folder under $TMPDIR (or /tmp); caller frees the string. */
char *tu_tmpdir(const char *tag);

/* Removes a folder tree (like rm -rf); ignores errors. */
void tu_rmrf(const char *path);

/* path = dir + "/" + name, malloc'd. */
char *tu_path(const char *dir, const char *name);

/* Writes `len` bytes to `path` (truncating); returns 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len);

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on failure. */
char *tu_read_file(const char *path, size_t *len);

/*
 * Calls op `name` on ctx with params given as JSON text. With out, the
 * result (or NULL) goes to *out for the caller to free; without, it is
 * dropped. Params that are not JSON are an INVAL naming "params".
 */
int tu_op_call(disco_ctx *ctx, const char *name, const char *params, json_t **out,
               disco_status *st);

/* Makes later op calls on ctx act as `principal` with `role`. */
void tu_as(disco_ctx *ctx, const char *principal, disco_role role);

/* xorshift64: the next value of *state (which must not be 0). */
uint64_t tu_xorshift(uint64_t *state);

/*
 * n points of dim d around `centres` centres drawn uniformly in [-1, 1]^d,
 * each component off its centre by Gaussian noise of deviation `spread`;
 * the same seed gives the same points. malloc'd; NULL when out of memory.
 */
float *tu_clustered(size_t n, size_t d, size_t centres, float spread, uint64_t seed);

#endif
