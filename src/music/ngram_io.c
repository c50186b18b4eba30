/*
 * ngram_io.c - the n-gram model's file: save (temporary file, fsync,
 * rename, fsync of the folder) and load (checksum, then structure).
 *
 * FORMAT (version 1, little-endian, no padding)
 *
 *   0   "DSCNGRAM"                 magic
 *   8   u32 version = 1
 *   12  u32 order                  2..8
 *   16  u32 vocab                  3..65536
 *   20  u32 reserved = 0
 *   24  u64 n[order]               distinct k-grams, k = 1..order
 *   ..  per k = 1..order:
 *         u16 tok[n_k]
 *         u32 count[n_k]
 *         u32 child[n_k + 1]       below the top order only
 *   end u32 CRC-32C of every byte before it
 *
 * The discounts, totals and backoff weights are derived again on load, so
 * a file cannot hold values that disagree with its counts. Loading checks,
 * after the checksum, that the sizes add up to the file's length, that
 * tokens are in the vocabulary, and that follower ranges tile the next
 * level in order with strictly increasing tokens: a file that passes
 * cannot make a query read out of bounds.
 */
#include "ngram_int.h"

#include "disco/crc32c.h"
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NG_MAGIC "DSCNGRAM"
#define NG_VERSION 1
#define NG_HEADER 24
#define NG_BUF (64 * 1024)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NG_HOST_LE 0
#else
#define NG_HOST_LE 1
#endif

/* --- save ---------------------------------------------------------------------- */

typedef struct ng_writer {
    int fd;
    const char *path;
    uint32_t crc;
    size_t len;
    unsigned char buf[NG_BUF];
} ng_writer;

static int writer_flush(ng_writer *w, disco_status *st)
{
    size_t done = 0;

    while (done < w->len) {
        ssize_t put = write(w->fd, w->buf + done, w->len - done);

        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0)
            return disco_status_errno(st, errno, "path", "%s: write failed", w->path);
        done += (size_t)put;
    }
    w->len = 0;
    return DISCO_OK;
}

/* Appends bytes (host order is little-endian here) and extends the checksum. */
static int writer_put(ng_writer *w, const void *data, size_t len, disco_status *st)
{
    const unsigned char *p = data;

    w->crc = disco_crc32c(w->crc, data, len);
    while (len > 0) {
        size_t take = NG_BUF - w->len < len ? NG_BUF - w->len : len;

        memcpy(w->buf + w->len, p, take);
        w->len += take;
        p += take;
        len -= take;
        if (w->len == NG_BUF) {
            int rc = writer_flush(w, st);

            if (rc != DISCO_OK)
                return rc;
        }
    }
    return DISCO_OK;
}

static int write_model(ng_writer *w, const disco_ngram *m, disco_status *st)
{
    uint32_t head[4] = {NG_VERSION, (uint32_t)m->order, (uint32_t)m->vocab, 0};
    int rc = writer_put(w, NG_MAGIC, 8, st);
    uint32_t crc;

    if (rc == DISCO_OK)
        rc = writer_put(w, head, sizeof head, st);
    for (int k = 1; rc == DISCO_OK && k <= m->order; k++) {
        uint64_t n = m->lv[k].n;

        rc = writer_put(w, &n, sizeof n, st);
    }
    for (int k = 1; rc == DISCO_OK && k <= m->order; k++) {
        const disco__ngram_level *lv = &m->lv[k];

        rc = writer_put(w, lv->tok, lv->n * sizeof *lv->tok, st);
        if (rc == DISCO_OK)
            rc = writer_put(w, lv->count, lv->n * sizeof *lv->count, st);
        if (rc == DISCO_OK && k < m->order)
            rc = writer_put(w, lv->child, (lv->n + 1) * sizeof *lv->child, st);
    }
    crc = w->crc;
    if (rc == DISCO_OK)
        rc = writer_put(w, &crc, sizeof crc, st);
    if (rc == DISCO_OK)
        rc = writer_flush(w, st);
    return rc;
}

int disco_ngram_save(const disco_ngram *m, const char *path, disco_status *st)
{
    ng_writer *w;
    char *tmp;
    int rc;

    if (!NG_HOST_LE)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "path",
                                "%s: n-gram files are written on little-endian hosts only", path);
    w = malloc(sizeof *w);
    tmp = malloc(strlen(path) + 16);
    if (!w || !tmp) {
        free(w);
        free(tmp);
        return disco_status_set(st, DISCO_ERR_NOMEM, "path", "%s: out of memory", path);
    }
    sprintf(tmp, "%s.tmp-XXXXXX", path);
    *w = (ng_writer){.fd = mkstemp(tmp), .path = path};
    if (w->fd < 0) {
        rc = disco_status_errno(st, errno, "path", "%s: cannot create temporary file", path);
        goto out_free;
    }
    if (fchmod(w->fd, 0644) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: cannot set permissions", path);
    else
        rc = write_model(w, m, st);
    if (rc == DISCO_OK && fsync(w->fd) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: fsync failed", path);
    if (close(w->fd) != 0 && rc == DISCO_OK)
        rc = disco_status_errno(st, errno, "path", "%s: close failed", path);
    if (rc == DISCO_OK && rename(tmp, path) != 0)
        rc = disco_status_errno(st, errno, "path", "%s: cannot rename temporary file into place",
                                path);
    if (rc != DISCO_OK)
        unlink(tmp);
    else
        rc = disco_fsync_parent(path)
                 ? disco_status_errno(st, errno, "path", "%s: cannot sync its folder", path)
                 : DISCO_OK;
out_free:
    free(w);
    free(tmp);
    return rc;
}

/* --- load ---------------------------------------------------------------------- */

static int read_all(const char *path, unsigned char **data, size_t *len, disco_status *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    size_t done = 0;
    int rc = DISCO_OK;

    if (fd < 0)
        return disco_status_errno(st, errno, "path", "%s: cannot open", path);
    if (fstat(fd, &sb) != 0) {
        rc = disco_status_errno(st, errno, "path", "%s: cannot stat", path);
        goto out_close;
    }
    *len = (size_t)sb.st_size;
    *data = malloc(*len ? *len : 1);
    if (!*data) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "path", "%s: out of memory for %zu bytes", path,
                              *len);
        goto out_close;
    }
    while (done < *len) {
        ssize_t got = read(fd, *data + done, *len - done);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            rc = got < 0
                     ? disco_status_errno(st, errno, "path", "%s: read failed", path)
                     : disco_status_set(st, DISCO_ERR_IO, "path", "%s: shrank while read", path);
            free(*data);
            *data = NULL;
            goto out_close;
        }
        done += (size_t)got;
    }
out_close:
    close(fd);
    return rc;
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof v);
    return v;
}

/* Magic, version, checksum, order and vocab; CORRUPT / UNSUPPORTED. */
static int check_header(const char *path, const unsigned char *d, size_t len, disco_status *st)
{
    uint32_t order, vocab;

    if (len < NG_HEADER + 4 || memcmp(d, NG_MAGIC, 8) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: not an n-gram model file",
                                path);
    if (get_u32(d + 8) != NG_VERSION)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "path",
                                "%s: n-gram file version %u, this build reads %d", path,
                                get_u32(d + 8), NG_VERSION);
    if (disco_crc32c(0, d, len - 4) != get_u32(d + len - 4))
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: checksum mismatch", path);
    order = get_u32(d + 12);
    vocab = get_u32(d + 16);
    if (order < DISCO_NGRAM_MIN_ORDER || order > DISCO_NGRAM_MAX_ORDER || vocab < 3 ||
        vocab > DISCO_NGRAM_MAX_VOCAB)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: order %u or vocab %u invalid",
                                path, order, vocab);
    return DISCO_OK;
}

/* Level sizes, checked to add up to the file's length exactly. */
static int read_sizes(const char *path, const unsigned char *d, size_t len, int order, uint64_t *n,
                      disco_status *st)
{
    uint64_t need = NG_HEADER + 8 * (uint64_t)order + 4;

    if (len < need)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: truncated header", path);
    for (int k = 1; k <= order; k++) {
        memcpy(&n[k], d + NG_HEADER + 8 * (size_t)(k - 1), sizeof n[k]);
        if (n[k] > len || n[k] >= UINT32_MAX)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                    "%s: %d-gram count %llu "
                                    "does not fit the file",
                                    path, k, (unsigned long long)n[k]);
        need += 6 * n[k] + (k < order ? 4 * (n[k] + 1) : 0);
    }
    if (need != len)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                "%s: %zu bytes, the sizes it states need %llu", path, len,
                                (unsigned long long)need);
    return DISCO_OK;
}

/* Follower ranges of level k tile level k + 1 with strictly increasing tokens. */
static int check_level(const disco_ngram *m, int k)
{
    const disco__ngram_level *lv = &m->lv[k], *up = &m->lv[k + 1];

    if (lv->child[0] != 0 || lv->child[lv->n] != up->n)
        return DISCO_ERR_CORRUPT;
    for (size_t r = 0; r < lv->n; r++) {
        if (lv->child[r] > lv->child[r + 1])
            return DISCO_ERR_CORRUPT;
        for (uint32_t c = lv->child[r]; c < lv->child[r + 1]; c++)
            if (up->tok[c] >= m->vocab || (c > lv->child[r] && up->tok[c] <= up->tok[c - 1]))
                return DISCO_ERR_CORRUPT;
    }
    return DISCO_OK;
}

static int parse_levels(disco_ngram *m, const unsigned char *d, const uint64_t *n, disco_status *st)
{
    size_t at = NG_HEADER + 8 * (size_t)m->order;
    int rc = disco__ngram_level_alloc(m, 0, 1, st);

    for (int k = 1; rc == DISCO_OK && k <= m->order; k++) {
        disco__ngram_level *lv = &m->lv[k];

        rc = disco__ngram_level_alloc(m, k, (size_t)n[k], st);
        if (rc != DISCO_OK)
            break;
        memcpy(lv->tok, d + at, lv->n * sizeof *lv->tok);
        at += lv->n * sizeof *lv->tok;
        memcpy(lv->count, d + at, lv->n * sizeof *lv->count);
        at += lv->n * sizeof *lv->count;
        if (k < m->order) {
            memcpy(lv->child, d + at, (lv->n + 1) * sizeof *lv->child);
            at += (lv->n + 1) * sizeof *lv->child;
        }
    }
    if (rc == DISCO_OK)
        m->lv[0].child[1] = (uint32_t)m->lv[1].n;
    return rc;
}

int disco_ngram_load(const char *path, disco_ngram **out, disco_status *st)
{
    unsigned char *d = NULL;
    uint64_t n[DISCO_NGRAM_MAX_ORDER + 1];
    disco_ngram *m = NULL;
    size_t len = 0;
    int rc;

    if (!NG_HOST_LE)
        return disco_status_set(st, DISCO_ERR_UNSUPPORTED, "path",
                                "%s: n-gram files are read on little-endian hosts only", path);
    rc = read_all(path, &d, &len, st);
    if (rc == DISCO_OK)
        rc = check_header(path, d, len, st);
    if (rc == DISCO_OK)
        rc = read_sizes(path, d, len, (int)get_u32(d + 12), n, st);
    if (rc == DISCO_OK && !(m = disco__ngram_new((int)get_u32(d + 12), (int)get_u32(d + 16))))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "path", "%s: out of memory", path);
    if (rc == DISCO_OK)
        rc = parse_levels(m, d, n, st);
    for (int k = 0; rc == DISCO_OK && k < m->order; k++)
        if (check_level(m, k) != DISCO_OK)
            rc = disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                  "%s: followers of the %d-grams are out of order", path, k);
    if (rc == DISCO_OK)
        rc = disco__ngram_finish(m, st);
    free(d);
    if (rc != DISCO_OK) {
        disco_ngram_free(m);
        return rc;
    }
    *out = m;
    return DISCO_OK;
}
