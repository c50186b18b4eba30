/*
 * npy.h - reading NumPy .npy arrays of vectors (format 1.0 to 3.0):
 * little-endian float32 ('<f4') or float64 ('<f8'), C order, shape (n, d)
 * or (d,). The bytes are checked against the header; malformed input is
 * INVAL naming the problem and the byte offset, never a crash.
 */
#ifndef DISCO_NPY_H
#define DISCO_NPY_H

#include "disco/err.h"

#include <stddef.h>

/*
 * Parses `len` bytes; on success *data is a malloc'd row-major float32
 * array of rows * cols values (float64 input is narrowed), owned by the
 * caller.
 */
int disco_npy_parse(const void *buf, size_t len, float **data, size_t *rows, size_t *cols,
                    disco_status *st);

#endif
