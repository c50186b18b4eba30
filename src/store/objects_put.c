/*
 * objects_put.c - putting objects into the store: put_fd, put_file and
 * put_mem, the pipeline that hashes while it copies, and the commit that
 * gives a temporary file its object name.
 *
 * DESIGN
 *   A put is a pipeline over PUT_SLOTS buffers of DISCO__OBJECTS_IO_BUF
 *   bytes, so that hashing overlaps with reading and writing:
 *
 *     I/O thread                        caller's thread
 *     read(input)      -> slot k  ---->  SHA-256(slot k), progress
 *     write(tmp/put-*) <- slot k  <----
 *
 *   Memory does not grow with the input, and the bytes hashed are exactly
 *   the bytes written. The I/O thread asks the kernel to start write-back
 *   as it goes, so the final fsync has little left to do. At the end of the
 *   input the name is known: if that object exists, the temporary file is
 *   dropped unsynced; otherwise it is made read-only, fsynced, renamed
 *   without replacing (RENAME_NOREPLACE) into its fan-out folder, and the
 *   folder is fsynced. Every failure removes the temporary file.
 */
#include "objects_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUT_SLOTS 4                         /* buffers in flight in one put */
#define WRITEBACK_STEP ((uint64_t)16 << 20) /* write-back is started in steps of this */
#define TMP_REL_MAX 40                      /* "tmp/put-" and 16 hex digits, with room */
#define READAHEAD ((off_t)16 << 20)         /* a file input is asked for this far ahead */

/* ---- the temporary file of a put ------------------------------------------ */

typedef struct put_tmp {
    int fd;
    char rel[TMP_REL_MAX]; /* relative to the root; "" once renamed away */
} put_tmp;

static int put_tmp_open(disco_objects *os, put_tmp *t, disco_status *st)
{
    const char *prefix = DISCO__OBJECTS_TMP_DIR "/" DISCO__OBJECTS_TMP_PREFIX;
    int e = disco__objects_create_tmp(os->root_fd, prefix, 0600, t->rel, sizeof t->rel, &t->fd);

    if (e == ENOENT) {
        if (mkdirat(os->root_fd, DISCO__OBJECTS_TMP_DIR, 0755) == 0 || errno == EEXIST)
            e = disco__objects_create_tmp(os->root_fd, prefix, 0600, t->rel, sizeof t->rel, &t->fd);
        else
            e = errno;
    }
    if (e != 0) {
        t->fd = -1;
        t->rel[0] = '\0';
        return disco_status_errno(st, e, "dir",
                                  "object store '%s': cannot create a temporary file in %s/",
                                  os->dir, DISCO__OBJECTS_TMP_DIR);
    }
    return DISCO_OK;
}

/* Closes the temporary file and removes it unless it became an object. */
static void put_tmp_drop(disco_objects *os, put_tmp *t)
{
    if (t->fd >= 0)
        close(t->fd);
    if (t->rel[0])
        unlinkat(os->root_fd, t->rel, 0);
    t->fd = -1;
    t->rel[0] = '\0';
}

/* Writes to a put's temporary file, failing as the fault hook says. */
static int put_write(disco_objects *os, int fd, const unsigned char *p, size_t n, uint64_t *written)
{
    int fault = atomic_load(&os->fault_errno);
    uint64_t limit = atomic_load(&os->fault_after);
    size_t allowed;
    int e;

    if (!fault || *written + n <= limit)
        return disco__objects_write_full(fd, p, n, written);
    allowed = *written >= limit ? 0 : (size_t)(limit - *written);
    e = disco__objects_write_full(fd, p, allowed, written);
    return e ? e : fault;
}

static int put_write_fail(const disco_objects *os, int errnum, uint64_t written, disco_status *st)
{
    if (disco_err_from_errno(errnum) == DISCO_ERR_NOSPC)
        return disco_status_errno(st, errnum, "dir",
                                  "object store '%s': out of space after writing %llu bytes",
                                  os->dir, (unsigned long long)written);
    return disco_status_errno(st, errnum, "dir",
                              "object store '%s': writing a temporary file failed after %llu "
                              "bytes",
                              os->dir, (unsigned long long)written);
}

/* ---- committing a put ---------------------------------------------------- */

/* Opens the fan-out folder of `hash`, creating it (durably) when missing. */
static int fan_open(disco_objects *os, const char *hash, int *fd, disco_status *st)
{
    char fan[3] = {hash[0], hash[1], '\0'};

    if (mkdirat(os->root_fd, fan, 0755) == 0) {
        if (fsync(os->root_fd) != 0)
            return disco_status_errno(st, errno, "dir", "object store '%s': cannot sync", os->dir);
    } else if (errno != EEXIST) {
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot create %s/", os->dir,
                                  fan);
    }
    *fd = openat(os->root_fd, fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot open %s/", os->dir,
                                  fan);
    return DISCO_OK;
}

/*
 * Gives the temporary file its name without replacing an existing object.
 * Sets *placed to 1 when it did, 0 when the object was already there.
 */
static int put_place(disco_objects *os, put_tmp *t, const char *rel, int *placed)
{
    if (renameat2(os->root_fd, t->rel, os->root_fd, rel, RENAME_NOREPLACE) == 0) {
        t->rel[0] = '\0';
        *placed = 1;
        return 0;
    }
    if (errno == EEXIST) {
        *placed = 0;
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS)
        return errno;
    /* No RENAME_NOREPLACE here: link() never replaces either. */
    if (linkat(os->root_fd, t->rel, os->root_fd, rel, 0) == 0) {
        *placed = 1;
        return 0;
    }
    if (errno == EEXIST) {
        *placed = 0;
        return 0;
    }
    return errno;
}

/* Makes the temporary file durable and read-only before it gets its name. */
static int put_seal(disco_objects *os, put_tmp *t, uint64_t size, disco_status *st)
{
    if (fchmod(t->fd, 0444) != 0)
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot chmod %s", os->dir,
                                  t->rel);
    if (fsync(t->fd) != 0)
        return put_write_fail(os, errno, size, st);
    return DISCO_OK;
}

static int put_keep_existing(disco_objects *os, const char *hash, disco_object_info *info,
                             int *created, disco_status *st)
{
    char rel[DISCO__OBJECTS_REL_LEN + 1];
    struct stat sb;

    disco__objects_locate(hash, rel);
    if (fstatat(os->root_fd, rel, &sb, 0) != 0)
        return disco__objects_fail(os, hash, errno, "cannot stat", st);
    disco__objects_fill_info(info, hash, &sb);
    if (created)
        *created = 0;
    return DISCO_OK;
}

/* Turns a complete temporary file holding `size` bytes into object `hash`. */
static int put_commit(disco_objects *os, put_tmp *t, const char *hash, uint64_t size,
                      disco_object_info *info, int *created, disco_status *st)
{
    char rel[DISCO__OBJECTS_REL_LEN + 1];
    struct stat sb;
    int fan_fd = -1, placed = 0, rc, e;

    disco__objects_locate(hash, rel);
    if (fstatat(os->root_fd, rel, &sb, 0) == 0)
        return put_keep_existing(os, hash, info, created, st);
    rc = put_seal(os, t, size, st);
    if (rc == DISCO_OK)
        rc = fan_open(os, hash, &fan_fd, st);
    if (rc != DISCO_OK)
        return rc;
    e = put_place(os, t, rel, &placed);
    if (e == 0 && placed && fsync(fan_fd) != 0) {
        e = errno;
        unlinkat(os->root_fd, rel, 0);
    }
    close(fan_fd);
    if (e != 0)
        return disco_status_errno(st, e, "dir", "object store '%s': cannot rename %s to %s",
                                  os->dir, t->rel, rel);
    if (!placed)
        return put_keep_existing(os, hash, info, created, st);
    if (fstat(t->fd, &sb) != 0)
        return disco__objects_fail(os, hash, errno, "cannot stat", st);
    disco__objects_fill_info(info, hash, &sb);
    if (created)
        *created = 1;
    return DISCO_OK;
}

/* ---- the put pipeline ----------------------------------------------------- */

/*
 * Slots pass three stages in turn, counted by ever-growing counters:
 *
 *     drained <= hashed <= filled <= drained + PUT_SLOTS
 *
 * The I/O thread fills slots from the input and writes hashed ones to the
 * temporary file; the caller's thread hashes filled ones (and reports
 * progress), so SHA-256, the slowest stage, has a core to itself.
 */
typedef struct put_pipe {
    disco_objects *os;
    int in_fd;
    const char *in_path; /* names the input in messages; NULL for a descriptor */
    int out_fd;
    const disco_progress *prog;
    uint64_t total; /* input size when known, else 0 */
    disco_sha256 sha;
    unsigned char *buf; /* PUT_SLOTS buffers of DISCO__OBJECTS_IO_BUF */
    size_t len[PUT_SLOTS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t filled, hashed, drained; /* slots */
    int eof;                          /* the input has ended */
    int abort;                        /* the hashing side gave up */
    int rerr, werr;                   /* errno of a failed read or write */
    uint64_t size;                    /* bytes hashed; hashing side only */
    uint64_t written;                 /* bytes written; I/O thread only until joined */
    uint64_t synced;                  /* write-back started up to here */
    uint64_t read;                    /* bytes read; I/O thread only */
    off_t start;                      /* offset of a file input where the put began */
} put_pipe;

enum { IO_WAIT, IO_WRITE, IO_FILL, IO_DONE };

static int input_fail(const put_pipe *pp, int errnum, disco_status *st)
{
    if (pp->in_path)
        return disco_status_errno(st, errnum, "path", "object store '%s': reading '%s'",
                                  pp->os->dir, pp->in_path);
    return disco_status_errno(st, errnum, "fd", "object store '%s': reading descriptor %d",
                              pp->os->dir, pp->in_fd);
}

static uint64_t input_size(int fd)
{
    struct stat sb;
    off_t pos;

    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    pos = lseek(fd, 0, SEEK_CUR);
    if (pos < 0 || pos > sb.st_size)
        pos = 0;
    return (uint64_t)(sb.st_size - pos);
}

static int pipe_init(put_pipe *pp, disco_objects *os, int in_fd, const char *in_path,
                     const disco_progress *prog, disco_status *st)
{
    memset(pp, 0, sizeof *pp);
    pp->os = os;
    pp->in_fd = in_fd;
    pp->in_path = in_path;
    pp->out_fd = -1;
    pp->prog = prog;
    pp->total = input_size(in_fd);
    pp->start = pp->total ? lseek(in_fd, 0, SEEK_CUR) : 0;
    pp->buf = malloc(PUT_SLOTS * DISCO__OBJECTS_IO_BUF);
    if (!pp->buf || disco_sha256_init(&pp->sha) != DISCO_OK) {
        free(pp->buf);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "object store '%s': out of memory",
                                os->dir);
    }
    pthread_mutex_init(&pp->mu, NULL);
    pthread_cond_init(&pp->cv, NULL);
    return DISCO_OK;
}

static void pipe_release(put_pipe *pp)
{
    disco_sha256_release(&pp->sha);
    pthread_cond_destroy(&pp->cv);
    pthread_mutex_destroy(&pp->mu);
    free(pp->buf);
}

static unsigned char *pipe_slot(const put_pipe *pp, uint64_t n)
{
    return pp->buf + (size_t)(n % PUT_SLOTS) * DISCO__OBJECTS_IO_BUF;
}

/* Reads until `cap` bytes or the end of the input. Returns 0 or errno. */
static int read_full(int fd, unsigned char *buf, size_t cap, size_t *n, int *eof)
{
    while (*n < cap && !*eof) {
        ssize_t r = read(fd, buf + *n, cap - *n);

        if (r > 0)
            *n += (size_t)r;
        else if (r == 0)
            *eof = 1;
        else if (errno == EAGAIN && disco__objects_wait_fd(fd, POLLIN) != 0)
            return errno;
        else if (errno != EINTR && errno != EAGAIN)
            return errno;
    }
    return 0;
}

/* I/O thread: the next step, under the lock. Writing comes first. */
static int io_choice(const put_pipe *pp)
{
    if (pp->abort || pp->rerr || pp->werr)
        return IO_DONE;
    if (pp->drained < pp->hashed)
        return IO_WRITE;
    if (!pp->eof && pp->filled - pp->drained < PUT_SLOTS)
        return IO_FILL;
    return pp->eof && pp->drained == pp->filled ? IO_DONE : IO_WAIT;
}

/*
 * Asks the kernel to read a file input well ahead of us, so that reading
 * from disk overlaps with writing the temporary file on this same thread.
 */
static void read_ahead(put_pipe *pp)
{
    if (pp->total == 0 || pp->read % (uint64_t)(READAHEAD / 2) != 0)
        return;
    (void)posix_fadvise(pp->in_fd, pp->start + (off_t)pp->read, READAHEAD, POSIX_FADV_WILLNEED);
}

static void io_fill(put_pipe *pp)
{
    unsigned char *slot = pipe_slot(pp, pp->filled); /* only this thread moves `filled` */
    size_t n = 0;
    int eof, e;

    read_ahead(pp);
    eof = 0;
    e = read_full(pp->in_fd, slot, DISCO__OBJECTS_IO_BUF, &n, &eof);
    pp->read += n;

    pthread_mutex_lock(&pp->mu);
    if (n > 0)
        pp->len[pp->filled++ % PUT_SLOTS] = n;
    pp->eof = eof;
    pp->rerr = e;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

static void start_writeback(put_pipe *pp)
{
    if (pp->written - pp->synced < WRITEBACK_STEP)
        return;
    (void)sync_file_range(pp->out_fd, (off_t)pp->synced, (off_t)(pp->written - pp->synced),
                          SYNC_FILE_RANGE_WRITE);
    pp->synced = pp->written;
}

static void io_write(put_pipe *pp, size_t len)
{
    int e = put_write(pp->os, pp->out_fd, pipe_slot(pp, pp->drained), len, &pp->written);

    if (e == 0)
        start_writeback(pp);
    pthread_mutex_lock(&pp->mu);
    pp->drained++;
    pp->werr = e;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

static void *pipe_io(void *arg)
{
    put_pipe *pp = arg;

    for (;;) {
        size_t len = 0;
        int what;

        pthread_mutex_lock(&pp->mu);
        while ((what = io_choice(pp)) == IO_WAIT)
            pthread_cond_wait(&pp->cv, &pp->mu);
        if (what == IO_WRITE)
            len = pp->len[pp->drained % PUT_SLOTS];
        pthread_mutex_unlock(&pp->mu);
        if (what == IO_DONE)
            return NULL;
        if (what == IO_WRITE)
            io_write(pp, len);
        else
            io_fill(pp);
    }
}

/* Hashing side: waits for a filled slot; NULL when none will come. */
static unsigned char *hash_next(put_pipe *pp, size_t *len)
{
    unsigned char *slot = NULL;

    pthread_mutex_lock(&pp->mu);
    while (pp->hashed == pp->filled && !pp->eof && !pp->rerr && !pp->werr)
        pthread_cond_wait(&pp->cv, &pp->mu);
    if (pp->hashed < pp->filled && !pp->rerr && !pp->werr) {
        slot = pipe_slot(pp, pp->hashed);
        *len = pp->len[pp->hashed % PUT_SLOTS];
    }
    pthread_mutex_unlock(&pp->mu);
    return slot;
}

static void hash_done(put_pipe *pp, int abort)
{
    pthread_mutex_lock(&pp->mu);
    pp->hashed++;
    pp->abort = abort;
    pthread_cond_broadcast(&pp->cv);
    pthread_mutex_unlock(&pp->mu);
}

static int pipe_hash_all(put_pipe *pp, disco_status *st)
{
    unsigned char *slot;
    size_t len = 0;

    while ((slot = hash_next(pp, &len)) != NULL) {
        int cancel;

        disco_sha256_update(&pp->sha, slot, len);
        pp->size += len;
        cancel = disco_progress_report(pp->prog, "put", pp->size, pp->total);
        hash_done(pp, cancel);
        if (cancel)
            return disco_status_set(st, DISCO_ERR_CANCELLED, NULL,
                                    "object store '%s': put cancelled after %llu bytes",
                                    pp->os->dir, (unsigned long long)pp->size);
    }
    return DISCO_OK;
}

/* Starts the I/O thread with every signal blocked: signals stay with the caller's threads. */
static int start_io_thread(pthread_t *th, put_pipe *pp)
{
    sigset_t all, old;
    int e;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(th, NULL, pipe_io, pp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return e;
}

/* Runs the pipeline to the end of the input; the digest is left in pp->sha. */
static int pipe_run(put_pipe *pp, disco_status *st)
{
    pthread_t io;
    int rc, e;

    e = start_io_thread(&io, pp);
    if (e != 0)
        return disco_status_errno(st, e, NULL, "object store '%s': cannot start a thread",
                                  pp->os->dir);
    rc = pipe_hash_all(pp, st);
    pthread_join(io, NULL);
    if (rc == DISCO_OK && pp->rerr)
        rc = input_fail(pp, pp->rerr, st);
    if (rc == DISCO_OK && pp->werr)
        rc = put_write_fail(pp->os, pp->werr, pp->written, st);
    DISCO_ASSERT(rc != DISCO_OK || pp->size == pp->written);
    return rc;
}

static int put_stream(disco_objects *os, int in_fd, const char *in_path, const disco_progress *prog,
                      disco_object_info *info, int *created, disco_status *st)
{
    uint8_t digest[DISCO_SHA256_LEN];
    char hash[DISCO_SHA256_HEX_LEN + 1];
    put_tmp t = {.fd = -1};
    put_pipe pp;
    int rc;

    rc = pipe_init(&pp, os, in_fd, in_path, prog, st);
    if (rc != DISCO_OK)
        return rc;
    rc = put_tmp_open(os, &t, st);
    if (rc != DISCO_OK)
        goto release_pipe;
    pp.out_fd = t.fd;
    rc = pipe_run(&pp, st);
    if (rc != DISCO_OK)
        goto drop_tmp;
    disco_sha256_final(&pp.sha, digest);
    disco_hex_encode(digest, sizeof digest, hash);
    rc = put_commit(os, &t, hash, pp.written, info, created, st);
drop_tmp:
    put_tmp_drop(os, &t);
release_pipe:
    pipe_release(&pp);
    return rc;
}

/* ---- put ------------------------------------------------------------------ */

int disco_objects_put_fd(disco_objects *os, int fd, const disco_progress *prog,
                         disco_object_info *info, int *created, disco_status *st)
{
    if (fd < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "fd", "object store '%s': bad descriptor %d",
                                os->dir, fd);
    return put_stream(os, fd, NULL, prog, info, created, st);
}

int disco_objects_put_file(disco_objects *os, const char *path, const disco_progress *prog,
                           disco_object_info *info, int *created, disco_status *st)
{
    struct stat sb;
    int fd, rc;

    if (!path || !*path)
        return disco_status_set(st, DISCO_ERR_INVAL, "path", "object store '%s': no file given",
                                os->dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return disco_status_errno(st, errno, "path", "cannot open '%s'", path);
    if (fstat(fd, &sb) != 0)
        rc = disco_status_errno(st, errno, "path", "cannot stat '%s'", path);
    else if (S_ISDIR(sb.st_mode))
        rc = disco_status_set(st, DISCO_ERR_INVAL, "path", "'%s' is a folder, not a file", path);
    else
        rc = put_stream(os, fd, path, prog, info, created, st);
    close(fd);
    return rc;
}

int disco_objects_put_mem(disco_objects *os, const void *data, size_t len, disco_object_info *info,
                          int *created, disco_status *st)
{
    char hash[DISCO_SHA256_HEX_LEN + 1];
    put_tmp t = {.fd = -1};
    uint64_t written = 0;
    int rc, e;

    if (!data && len > 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "data",
                                "object store '%s': no data for %zu bytes", os->dir, len);
    rc = disco_sha256_hex(data ? data : "", len, hash);
    if (rc != DISCO_OK)
        return disco_status_set(st, rc, NULL, "object store '%s': cannot hash", os->dir);
    if (disco_objects_stat(os, hash, info, NULL) == DISCO_OK) {
        if (created)
            *created = 0;
        return DISCO_OK;
    }
    rc = put_tmp_open(os, &t, st);
    if (rc != DISCO_OK)
        return rc;
    e = put_write(os, t.fd, data, len, &written);
    if (e != 0)
        rc = put_write_fail(os, e, written, st);
    else
        rc = put_commit(os, &t, hash, written, info, created, st);
    put_tmp_drop(os, &t);
    return rc;
}
