/*
 * model_io.c - transformer checkpoints.
 *
 * File format, version 1, all integers and floats little-endian:
 *
 *   off  size
 *     0     8  magic "DSCTFMDL"
 *     8     4  version (1)
 *    12     4  flags: bit 0 = AdamW state follows the parameters
 *    16    20  vocab, ctx, d_model, layers, heads (u32 each)
 *    36     4  reserved, 0
 *    40     8  seed
 *    48     8  parameter count P (must match the config's layout)
 *    56     8  optimiser steps taken
 *    64   4 P  parameters (float32, layout of model.c)
 *     .   8 P  with flag 0: AdamW first moments, then second moments
 *   end     4  CRC-32C of every byte before it
 *
 * Written to <path>.tmp, fsynced, renamed over <path>, and the folder
 * fsynced. A reader checks size, magic, version, checksum, config and
 * finiteness before it builds anything, and answers CORRUPT otherwise.
 */
#include "model_int.h"

#include "disco/crc32c.h"
#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "DSCTFMDL"
#define VERSION 1u
#define HEADER 64
#define FLAG_ADAM 1u
#define BUF_FLOATS 4096

_Static_assert(sizeof(float) == 4, "checkpoints store IEEE float32");

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- writing ---------------------------------------------------------------------- */

typedef struct writer {
    int fd;
    uint32_t crc;
    const char *path;
    disco_status *st;
} writer;

static int write_bytes(writer *w, const void *data, size_t len)
{
    const unsigned char *p = data;

    w->crc = disco_crc32c(w->crc, data, len);
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return disco_status_errno(w->st, errno, "path", "cannot write %s", w->path);
        p += n;
        len -= (size_t)n;
    }
    return DISCO_OK;
}

static int write_floats(writer *w, const float *x, size_t n)
{
    unsigned char buf[BUF_FLOATS * 4];
    int rc = DISCO_OK;

    for (size_t i = 0; i < n && rc == DISCO_OK; i += BUF_FLOATS) {
        size_t k = n - i < BUF_FLOATS ? n - i : BUF_FLOATS;
        for (size_t j = 0; j < k; j++) {
            uint32_t u;
            memcpy(&u, x + i + j, 4);
            put_u32(buf + 4 * j, u);
        }
        rc = write_bytes(w, buf, 4 * k);
    }
    return rc;
}

static void make_header(const disco_tf *m, int adam, unsigned char h[HEADER])
{
    memset(h, 0, HEADER);
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, VERSION);
    put_u32(h + 12, adam ? FLAG_ADAM : 0);
    put_u32(h + 16, m->cfg.vocab);
    put_u32(h + 20, m->cfg.ctx);
    put_u32(h + 24, m->cfg.d_model);
    put_u32(h + 28, m->cfg.layers);
    put_u32(h + 32, m->cfg.heads);
    put_u64(h + 40, m->cfg.seed);
    put_u64(h + 48, m->lay.total);
    put_u64(h + 56, m->steps);
}

static int write_body(const disco_tf *m, int adam, writer *w)
{
    unsigned char h[HEADER], tail[4];
    int rc;

    make_header(m, adam, h);
    rc = write_bytes(w, h, HEADER);
    if (rc == DISCO_OK)
        rc = write_floats(w, m->params, m->lay.total);
    if (rc == DISCO_OK && adam)
        rc = write_floats(w, m->adam_m, m->lay.total);
    if (rc == DISCO_OK && adam)
        rc = write_floats(w, m->adam_v, m->lay.total);
    put_u32(tail, w->crc);
    if (rc == DISCO_OK)
        rc = write_bytes(w, tail, 4);
    return rc;
}

int disco_tf_save(const disco_tf *m, const char *path, int with_opt, disco_status *st)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 5);
    writer w = {.fd = -1, .path = path, .st = st};
    int adam = with_opt && m->adam_m && m->adam_v, rc;

    if (!tmp)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0) {
        rc = disco_status_errno(st, errno, "path", "cannot create %s", tmp);
        goto out_tmp;
    }
    rc = write_body(m, adam, &w);
    if (rc == DISCO_OK && fsync(w.fd) != 0)
        rc = disco_status_errno(st, errno, "path", "cannot fsync %s", tmp);
    if (close(w.fd) != 0 && rc == DISCO_OK)
        rc = disco_status_errno(st, errno, "path", "cannot close %s", tmp);
    if (rc == DISCO_OK && rename(tmp, path) != 0)
        rc = disco_status_errno(st, errno, "path", "cannot rename %s to %s", tmp, path);
    if (rc != DISCO_OK)
        unlink(tmp);
    else
        disco_fsync_parent(path);
out_tmp:
    free(tmp);
    return rc;
}

/* ---- reading ---------------------------------------------------------------------- */

static int read_all(const char *path, unsigned char **out, size_t *len, disco_status *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = DISCO_OK;
    struct stat sb;
    unsigned char *buf = NULL;
    size_t got = 0;

    if (fd < 0)
        return disco_status_errno(st, errno, "path", "cannot open %s", path);
    if (fstat(fd, &sb) != 0) {
        rc = disco_status_errno(st, errno, "path", "cannot stat %s", path);
        goto out_fd;
    }
    buf = malloc(sb.st_size > 0 ? (size_t)sb.st_size : 1);
    if (!buf) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "path", "out of memory reading %s", path);
        goto out_fd;
    }
    while (got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? disco_status_errno(st, errno, "path", "cannot read %s", path)
                       : disco_status_set(st, DISCO_ERR_IO, "path", "%s shrank while read", path);
            free(buf);
            buf = NULL;
            goto out_fd;
        }
        got += (size_t)n;
    }
    *out = buf;
    *len = got;
out_fd:
    close(fd);
    return rc;
}

/* Checks size, magic, version and checksum; fills cfg, P, flags and steps. */
static int check_file(const unsigned char *b, size_t len, const char *path, disco_tf_config *cfg,
                      uint32_t *flags, uint64_t *steps, disco_status *st)
{
    uint64_t nparams, want;
    disco__tf_layout lay;
    disco_status cst = {0};

    if (len < HEADER + 4 || memcmp(b, MAGIC, 8) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                "%s is not a transformer checkpoint (bad magic or %zu bytes)", path,
                                len);
    if (get_u32(b + 8) != VERSION)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                "%s: checkpoint version %u, this build reads %u", path,
                                get_u32(b + 8), VERSION);
    if (disco_crc32c(0, b, len - 4) != get_u32(b + len - 4))
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: checksum mismatch", path);
    *flags = get_u32(b + 12);
    *cfg = (disco_tf_config){get_u32(b + 16), get_u32(b + 20), get_u32(b + 24),
                             get_u32(b + 28), get_u32(b + 32), get_u64(b + 40)};
    nparams = get_u64(b + 48);
    *steps = get_u64(b + 56);
    if (disco_tf_config_check(cfg, &cst) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s: invalid config (%s)", path,
                                cst.msg);
    disco__tf_layout_make(cfg, &lay);
    want = HEADER + 4 + (uint64_t)lay.total * 4 * ((*flags & FLAG_ADAM) ? 3 : 1);
    if (nparams != lay.total || len != want || (*flags & ~FLAG_ADAM) != 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "path",
                                "%s: %llu parameters and %zu bytes do not match the config "
                                "(%zu parameters, %llu bytes)",
                                path, (unsigned long long)nparams, len, lay.total,
                                (unsigned long long)want);
    return DISCO_OK;
}

/* Decodes n floats; 0, or -1 when one is not finite. */
static int read_floats(const unsigned char *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = get_u32(src + 4 * i);
        memcpy(dst + i, &u, 4);
        if (!isfinite(dst[i]))
            return -1;
    }
    return 0;
}

int disco_tf_load(const char *path, disco_tf **out, disco_status *st)
{
    unsigned char *buf = NULL;
    size_t len = 0, p;
    disco_tf_config cfg;
    uint32_t flags = 0;
    uint64_t steps = 0;
    disco_tf *m = NULL;
    int rc = read_all(path, &buf, &len, st);

    *out = NULL;
    if (rc == DISCO_OK)
        rc = check_file(buf, len, path, &cfg, &flags, &steps, st);
    if (rc == DISCO_OK)
        rc = disco__tf_alloc(&cfg, &m, st);
    if (rc == DISCO_OK && (flags & FLAG_ADAM))
        rc = disco__tf_need_adam(m, st);
    if (rc != DISCO_OK)
        goto out_buf;
    p = m->lay.total;
    if (read_floats(buf + HEADER, m->params, p) != 0 ||
        ((flags & FLAG_ADAM) && (read_floats(buf + HEADER + 4 * p, m->adam_m, p) != 0 ||
                                 read_floats(buf + HEADER + 8 * p, m->adam_v, p) != 0))) {
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "path", "%s holds a non-finite value", path);
        goto out_model;
    }
    m->steps = (flags & FLAG_ADAM) ? steps : 0;
    *out = m;
    m = NULL;
out_model:
    disco_tf_free(m);
out_buf:
    free(buf);
    return rc;
}
