/*
 * npy.c - NumPy .npy arrays of vectors (see disco/npy.h).
 *
 *   "\x93NUMPY" major minor | header length (u16 for 1.x, u32 for 2.x/3.x)
 *   | header: a Python dict literal, e.g.
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), }
 *   | data: rows * cols values
 */
#include "disco/npy.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_VALUES ((size_t)1 << 31)

typedef struct npy_head {
    int f64;
    size_t rows, cols;
    size_t data_off;
} npy_head;

/* The text after `key':` in the header, or NULL. */
static const char *after_key(const char *h, size_t n, const char *key)
{
    size_t kl = strlen(key);

    for (size_t i = 0; i + kl + 2 < n; i++) {
        if ((h[i] == '\'' || h[i] == '"') && memcmp(h + i + 1, key, kl) == 0 &&
            h[i + 1 + kl] == h[i]) {
            const char *p = h + i + kl + 2;
            while (p < h + n && (*p == ' ' || *p == ':'))
                p++;
            return p < h + n ? p : NULL;
        }
    }
    return NULL;
}

static int read_shape(const char *p, const char *end, npy_head *hd, disco_status *st)
{
    size_t dims[2] = {0, 0}, nd = 0;

    if (!p || *p != '(')
        return disco_status_set(st, DISCO_ERR_INVAL, "shape", "npy: header has no shape tuple");
    for (p++; p < end && *p != ')';) {
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        if (!isdigit((unsigned char)*p) || nd == 2)
            return disco_status_set(st, DISCO_ERR_INVAL, "shape",
                                    "npy: shape must be (n, d) or (d,) of integers");
        size_t v = 0;
        for (; p < end && isdigit((unsigned char)*p); p++) {
            if (v > NPY_MAX_VALUES)
                return disco_status_set(st, DISCO_ERR_INVAL, "shape", "npy: shape too large");
            v = v * 10 + (size_t)(*p - '0');
        }
        dims[nd++] = v;
    }
    if (p >= end || nd == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "shape", "npy: shape tuple is not closed");
    hd->rows = nd == 2 ? dims[0] : 1;
    hd->cols = nd == 2 ? dims[1] : dims[0];
    if (hd->cols == 0 || (hd->rows && hd->cols > NPY_MAX_VALUES / hd->rows))
        return disco_status_set(st, DISCO_ERR_INVAL, "shape",
                                "npy: shape (%zu, %zu) has no columns or too many values", hd->rows,
                                hd->cols);
    return DISCO_OK;
}

static int read_head(const uint8_t *b, size_t len, npy_head *hd, disco_status *st)
{
    size_t hl, off;
    const char *h, *p;

    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "file", "npy: not a .npy file (magic)");
    if (b[6] < 1 || b[6] > 3)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "npy: format version %u.%u unsupported", b[6], b[7]);
    off = b[6] == 1 ? 10 : 12;
    if (len < off)
        return disco_status_set(st, DISCO_ERR_INVAL, "file", "npy: truncated header");
    hl = b[6] == 1 ? (size_t)b[8] | (size_t)b[9] << 8
                   : (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    if (hl > len - off)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "npy: header of %zu bytes runs past the end at offset %zu", hl,
                                off);
    h = (const char *)b + off;
    p = after_key(h, hl, "descr");
    if (!p || hl - (size_t)(p - h) < 5 || (memcmp(p + 1, "<f4", 3) && memcmp(p + 1, "<f8", 3)))
        return disco_status_set(
            st, DISCO_ERR_INVAL, "descr",
            "npy: dtype must be little-endian float32 or float64 ('<f4', '<f8')");
    hd->f64 = p[3] == '8';
    p = after_key(h, hl, "fortran_order");
    if (!p || (size_t)(h + hl - p) < 5 || memcmp(p, "False", 5) != 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "fortran_order",
                                "npy: only C-order arrays are read (fortran_order False)");
    hd->data_off = off + hl;
    return read_shape(after_key(h, hl, "shape"), h + hl, hd, st);
}

int disco_npy_parse(const void *buf, size_t len, float **data, size_t *rows, size_t *cols,
                    disco_status *st)
{
    const uint8_t *b = buf;
    npy_head hd = {0};
    int rc = read_head(b, len, &hd, st);
    size_t n, esize;

    if (rc != DISCO_OK)
        return rc;
    n = hd.rows * hd.cols;
    esize = hd.f64 ? 8 : 4;
    if (len - hd.data_off < n * esize)
        return disco_status_set(st, DISCO_ERR_INVAL, "file",
                                "npy: %zu values need %zu bytes after offset %zu, the file has %zu",
                                n, n * esize, hd.data_off, len - hd.data_off);
    *data = malloc((n ? n : 1) * sizeof **data);
    if (!*data)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (hd.f64) {
            double d;
            memcpy(&d, b + hd.data_off + i * 8, 8);
            (*data)[i] = (float)d;
        } else {
            memcpy(&(*data)[i], b + hd.data_off + i * 4, 4);
        }
    }
    *rows = hd.rows;
    *cols = hd.cols;
    return DISCO_OK;
}
