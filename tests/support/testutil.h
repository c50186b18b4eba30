/*
 * testutil.h - small helpers shared by the cmocka test groups.
 */
#ifndef DISCO_TESTUTIL_H
#define DISCO_TESTUTIL_H

#include <stddef.h>

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

#endif
