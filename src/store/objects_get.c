/*
 * objects_get.c - copying objects out of the store: get_fd and get_file.
 *
 * DESIGN
 *   A get copies inside the kernel where the output allows it
 *   (copy_file_range, then sendfile) and falls back to pread/write through
 *   one buffer.
 *
 *   get_file copies into a temporary file next to its target, fsyncs it,
 *   renames it into place and fsyncs the folder, so the target holds either
 *   what it held before or the whole object.
 */
#include "objects_int.h"

#include "disco/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_STEP ((size_t)8 << 20) /* kernel copy between progress checks */

enum { COPY_RANGE, COPY_SENDFILE, COPY_RW };

typedef struct copy_job {
    const disco_objects *os;
    const char *hash;
    int in_fd;
    int out_fd;
    const char *out_path; /* names the output in messages; NULL for a descriptor */
    const disco_progress *prog;
    int writeback;      /* start write-back as we go (our own output file) */
    int mode;           /* how bytes move: COPY_RANGE, then fallbacks */
    unsigned char *buf; /* for COPY_RW */
} copy_job;

static ssize_t copy_rw(copy_job *cj, off_t *off, size_t n)
{
    uint64_t w = 0;
    ssize_t r;
    int e;

    if (!cj->buf && !(cj->buf = malloc(DISCO__OBJECTS_IO_BUF))) {
        errno = ENOMEM;
        return -1;
    }
    r = pread(cj->in_fd, cj->buf, n < DISCO__OBJECTS_IO_BUF ? n : DISCO__OBJECTS_IO_BUF, *off);
    if (r <= 0)
        return r;
    e = disco__objects_write_full(cj->out_fd, cj->buf, (size_t)r, &w);
    if (e != 0) {
        errno = e;
        return -1;
    }
    *off += r;
    return r;
}

static ssize_t copy_once(copy_job *cj, off_t *off, size_t n)
{
    switch (cj->mode) {
    case COPY_RANGE:
        return copy_file_range(cj->in_fd, off, cj->out_fd, NULL, n, 0);
    case COPY_SENDFILE:
        return sendfile(cj->out_fd, cj->in_fd, off, n);
    default:
        return copy_rw(cj, off, n);
    }
}

/* Errors that mean "this way of copying does not apply to this output". */
static int copy_can_fall_back(int errnum)
{
    return errnum == EINVAL || errnum == EXDEV || errnum == EBADF || errnum == EOPNOTSUPP ||
           errnum == ENOSYS || errnum == ESPIPE;
}

/* Copies up to `n` bytes; returns the count (0 at the end) or -errno. */
static ssize_t copy_step(copy_job *cj, off_t *off, size_t n)
{
    for (;;) {
        ssize_t r = copy_once(cj, off, n);

        if (r > 0 || (r == 0 && cj->mode == COPY_RW))
            return r;
        if (r == 0 || (cj->mode != COPY_RW && copy_can_fall_back(errno))) {
            cj->mode++;
            continue;
        }
        if (errno == EINTR || (errno == EAGAIN && disco__objects_wait_fd(cj->out_fd, POLLOUT) == 0))
            continue;
        return -errno;
    }
}

/* A failed copy; `errnum` 0 means the object ended early. */
static int copy_fail(const copy_job *cj, int errnum, uint64_t at, disco_status *st)
{
    if (errnum == 0)
        return disco_status_set(st, DISCO_ERR_CORRUPT, "hash",
                                "object %s in store '%s': ended after %llu bytes", cj->hash,
                                cj->os->dir, (unsigned long long)at);
    if (cj->out_path)
        return disco_status_errno(st, errnum, "path",
                                  "object %s: copying to '%s' failed after %llu bytes", cj->hash,
                                  cj->out_path, (unsigned long long)at);
    return disco_status_errno(st, errnum, "fd",
                              "object %s: copying to descriptor %d failed after %llu bytes",
                              cj->hash, cj->out_fd, (unsigned long long)at);
}

/* Copies bytes [offset, offset + len) of the object to the output. */
static int copy_object(copy_job *cj, uint64_t offset, uint64_t len, disco_status *st)
{
    off_t off = (off_t)offset;
    uint64_t done = 0;
    int rc = DISCO_OK;

    (void)posix_fadvise(cj->in_fd, (off_t)offset, (off_t)len, POSIX_FADV_SEQUENTIAL);
    while (done < len && rc == DISCO_OK) {
        size_t step = len - done < COPY_STEP ? (size_t)(len - done) : COPY_STEP;
        ssize_t n = copy_step(cj, &off, step);

        if (n <= 0) {
            rc = copy_fail(cj, (int)-n, done, st);
            break;
        }
        if (cj->writeback)
            (void)sync_file_range(cj->out_fd, (off_t)done, n, SYNC_FILE_RANGE_WRITE);
        done += (uint64_t)n;
        if (disco_progress_report(cj->prog, "get", done, len))
            rc = disco_status_set(st, DISCO_ERR_CANCELLED, NULL,
                                  "object %s: get cancelled after %llu bytes", cj->hash,
                                  (unsigned long long)done);
    }
    free(cj->buf);
    cj->buf = NULL;
    return rc;
}

int disco_objects_get_fd(disco_objects *os, const char *hash, uint64_t offset, uint64_t length,
                         int out_fd, const disco_progress *prog, disco_status *st)
{
    copy_job cj = {.os = os, .hash = hash, .out_fd = out_fd, .prog = prog};
    struct stat sb;
    uint64_t size, len;
    int rc;

    rc = disco__objects_open_object(os, hash, &cj.in_fd, &sb, st);
    if (rc != DISCO_OK)
        return rc;
    size = (uint64_t)sb.st_size;
    if (offset > size) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "offset",
                              "object %s: offset %llu is past its end (%llu bytes)", hash,
                              (unsigned long long)offset, (unsigned long long)size);
        goto close_obj;
    }
    len = size - offset < length ? size - offset : length;
    rc = copy_object(&cj, offset, len, st);
close_obj:
    close(cj.in_fd);
    return rc;
}

/* Makes the copy in `tmp` durable and gives it the name `path`. */
static int out_commit(copy_job *cj, const char *tmp, const char *path, disco_status *st)
{
    int e = 0;

    if (fsync(cj->out_fd) != 0)
        e = errno;
    if (close(cj->out_fd) != 0 && e == 0)
        e = errno;
    cj->out_fd = -1;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e != 0)
        return disco_status_errno(st, e, "path", "object %s: cannot write '%s'", cj->hash, path);
    e = disco_fsync_parent(path);
    if (e != 0)
        return disco_status_errno(st, e, "path", "object %s: cannot sync the folder of '%s'",
                                  cj->hash, path);
    return DISCO_OK;
}

int disco_objects_get_file(disco_objects *os, const char *hash, const char *path,
                           const disco_progress *prog, disco_status *st)
{
    copy_job cj = {
        .os = os, .hash = hash, .out_fd = -1, .out_path = path, .prog = prog, .writeback = 1};
    struct stat sb;
    size_t cap;
    char *tmp = NULL, *prefix = NULL;
    int rc, e;

    if (!path || !*path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "object %s: no file given",
                                hash ? hash : "(null)");
    rc = disco__objects_open_object(os, hash, &cj.in_fd, &sb, st);
    if (rc != DISCO_OK)
        return rc;
    cap = strlen(path) + 32;
    tmp = malloc(cap);
    prefix = malloc(cap);
    if (!tmp || !prefix) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, "path", "object %s: out of memory", hash);
        goto free_names;
    }
    snprintf(prefix, cap, "%s.tmp-", path);
    e = disco__objects_create_tmp(AT_FDCWD, prefix, 0666, tmp, cap, &cj.out_fd);
    if (e != 0) {
        rc = disco_status_errno(st, e, "path", "object %s: cannot create '%s'", hash, tmp);
        goto free_names;
    }
    rc = copy_object(&cj, 0, (uint64_t)sb.st_size, st);
    if (rc == DISCO_OK)
        rc = out_commit(&cj, tmp, path, st);
    if (cj.out_fd >= 0)
        close(cj.out_fd);
    if (rc != DISCO_OK)
        unlink(tmp);
free_names:
    free(prefix);
    free(tmp);
    close(cj.in_fd);
    return rc;
}
