/*
 * objects.c - the content-addressed object store (see disco/objects.h).
 *
 * DESIGN
 *   A put is a pipeline over PUT_SLOTS buffers of IO_BUF_SIZE bytes, so that
 *   hashing overlaps with reading and writing:
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
 *
 *   A get copies inside the kernel where the output allows it
 *   (copy_file_range, then sendfile) and falls back to pread/write through
 *   one buffer.
 *
 *   Every call opens its own files relative to the store's folder
 *   descriptor; the only shared mutable state is the test fault hook.
 */
#include "disco/objects.h"

#include "disco/timeutil.h"
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define IO_BUF_SIZE ((size_t)1 << 20)          /* read, hash and write unit */
#define PUT_SLOTS 4                            /* buffers in flight in one put */
#define COPY_STEP ((size_t)8 << 20)            /* kernel copy between progress checks */
#define WRITEBACK_STEP ((uint64_t)16 << 20)    /* write-back is started in steps of this */
#define OBJ_REL_LEN (DISCO_SHA256_HEX_LEN + 1) /* "ab/" and the other 62 digits */
#define TMP_DIR "tmp"
#define TMP_PREFIX "put-"
#define TMP_REL_MAX 40
#define TMP_TRIES 16

struct disco_objects {
    char *dir;
    int root_fd;
    _Atomic uint64_t fault_after;
    _Atomic int fault_errno;
};

/* ---- names and small helpers ---------------------------------------------- */

static void obj_rel(const char *hash, char rel[OBJ_REL_LEN + 1])
{
    rel[0] = hash[0];
    rel[1] = hash[1];
    rel[2] = '/';
    memcpy(rel + 3, hash + 2, DISCO_SHA256_HEX_LEN - 2);
    rel[OBJ_REL_LEN] = '\0';
}

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return s[n] == '\0';
}

static int64_t mtime_ms(const struct stat *sb)
{
    return (int64_t)sb->st_mtim.tv_sec * 1000 + sb->st_mtim.tv_nsec / 1000000;
}

static void info_fill(disco_object_info *info, const char *hash, const struct stat *sb)
{
    if (!info)
        return;
    memcpy(info->hash, hash, DISCO_SHA256_HEX_LEN);
    info->hash[DISCO_SHA256_HEX_LEN] = '\0';
    info->size = (uint64_t)sb->st_size;
    info->mtime_ms = mtime_ms(sb);
}

/* An error about one object: NOTFOUND for a missing one, else from errno. */
static int obj_fail(const disco_objects *os, const char *hash, int errnum, const char *action,
                    disco_status *st)
{
    if (errnum == ENOENT)
        return disco_status_set(st, DISCO_ERR_NOTFOUND, "hash",
                                "object %s: not found in store '%s'", hash, os->dir);
    return disco_status_errno(st, errnum, "hash", "object %s in store '%s': %s", hash, os->dir,
                              action);
}

/* Opens a stored object for reading and stats it. */
static int obj_open(disco_objects *os, const char *hash, int *fd, struct stat *sb, disco_status *st)
{
    char rel[OBJ_REL_LEN + 1];
    int rc = disco_hash_check(hash, "object hash", st);

    *fd = -1;
    if (rc != DISCO_OK)
        return rc;
    obj_rel(hash, rel);
    *fd = openat(os->root_fd, rel, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return obj_fail(os, hash, errno, "cannot open", st);
    if (fstat(*fd, sb) != 0) {
        rc = obj_fail(os, hash, errno, "cannot stat", st);
        goto close_fd;
    }
    if (!S_ISREG(sb->st_mode)) {
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "hash",
                              "object %s in store '%s': not a regular file", hash, os->dir);
        goto close_fd;
    }
    return DISCO_OK;

close_fd:
    close(*fd);
    *fd = -1;
    return rc;
}

static uint64_t random_u64(void)
{
    uint64_t r;

    if (getrandom(&r, sizeof r, 0) == (ssize_t)sizeof r)
        return r;
    return disco_time_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&r;
}

/*
 * Creates a new file named `prefix` plus 16 random hex digits relative to
 * `dirfd`, for writing. Returns 0 or an errno value.
 */
static int tmp_create(int dirfd, const char *prefix, mode_t mode, char *name, size_t cap, int *fd)
{
    for (int i = 0; i < TMP_TRIES; i++) {
        uint64_t r = random_u64();
        uint8_t bytes[sizeof r];
        int n = snprintf(name, cap, "%s", prefix);

        if (n < 0 || (size_t)n + 2 * sizeof r >= cap)
            return ENAMETOOLONG;
        memcpy(bytes, &r, sizeof r);
        disco_hex_encode(bytes, sizeof r, name + n);
        *fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (*fd >= 0)
            return 0;
        if (errno != EEXIST)
            return errno;
    }
    return EEXIST;
}

static int wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    return poll(&p, 1, -1) < 0 && errno != EINTR ? errno : 0;
}

/* Writes all of `p`, adding to `*written` as it goes. Returns 0 or errno. */
static int write_full(int fd, const unsigned char *p, size_t n, uint64_t *written)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT) == 0)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return EIO;
        p += w;
        n -= (size_t)w;
        *written += (uint64_t)w;
    }
    return 0;
}

/* ---- opening ---------------------------------------------------------------- */

/* A store that cannot be opened: IO, unless permission, space or memory is the cause. */
static int store_fail(const char *dir, const char *what, int errnum, disco_status *st)
{
    int code = disco_err_from_errno(errnum);

    if (code != DISCO_ERR_PERM && code != DISCO_ERR_NOSPC && code != DISCO_ERR_NOMEM)
        code = DISCO_ERR_IO;
    return disco_status_set(st, code, "dir", "object store '%s': %s: %s", dir, what,
                            strerror(errnum));
}

/* Creates `dir` and its missing parents, like mkdir -p. */
static int mkdir_parents(const char *dir, disco_status *st)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);

    if (len >= sizeof path)
        return disco_status_set(st, DISCO_ERR_INVAL, "dir", "object store '%s': path too long",
                                dir);
    memcpy(path, dir, len + 1);
    for (char *p = path + 1;; p++) {
        char c = *p;

        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return store_fail(dir, "cannot create the folder", errno, st);
        if (c == '\0')
            return DISCO_OK;
        *p = c;
    }
}

static int root_open(const char *dir, int *fd, disco_status *st)
{
    int rc = mkdir_parents(dir, st);

    if (rc != DISCO_OK)
        return rc;
    *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd < 0)
        return store_fail(dir, "cannot open the folder", errno, st);
    if (faccessat(*fd, ".", W_OK | X_OK, 0) != 0) {
        rc = store_fail(dir, "the folder is not writable", errno, st);
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int disco_objects_open(const char *dir, disco_objects **out, disco_status *st)
{
    disco_objects *os;
    int fd, rc;

    *out = NULL;
    if (!dir || !*dir)
        return disco_status_set(st, DISCO_ERR_INVAL, "dir", "object store: no folder given");
    rc = root_open(dir, &fd, st);
    if (rc != DISCO_OK)
        return rc;
    os = calloc(1, sizeof *os);
    if (!os || !(os->dir = strdup(dir))) {
        free(os);
        close(fd);
        return disco_status_set(st, DISCO_ERR_NOMEM, "dir", "object store '%s': out of memory",
                                dir);
    }
    os->root_fd = fd;
    atomic_init(&os->fault_after, 0);
    atomic_init(&os->fault_errno, 0);
    *out = os;
    return DISCO_OK;
}

void disco_objects_close(disco_objects *os)
{
    if (!os)
        return;
    close(os->root_fd);
    free(os->dir);
    free(os);
}

const char *disco_objects_dir(const disco_objects *os)
{
    return os->dir;
}

void disco__objects_inject_write_error(disco_objects *os, uint64_t after_bytes, int errnum)
{
    atomic_store(&os->fault_after, after_bytes);
    atomic_store(&os->fault_errno, errnum);
}

/* ---- the temporary file of a put ------------------------------------------ */

typedef struct put_tmp {
    int fd;
    char rel[TMP_REL_MAX]; /* relative to the root; "" once renamed away */
} put_tmp;

static int put_tmp_open(disco_objects *os, put_tmp *t, disco_status *st)
{
    const char *prefix = TMP_DIR "/" TMP_PREFIX;
    int e = tmp_create(os->root_fd, prefix, 0600, t->rel, sizeof t->rel, &t->fd);

    if (e == ENOENT) {
        if (mkdirat(os->root_fd, TMP_DIR, 0755) == 0 || errno == EEXIST)
            e = tmp_create(os->root_fd, prefix, 0600, t->rel, sizeof t->rel, &t->fd);
        else
            e = errno;
    }
    if (e != 0) {
        t->fd = -1;
        t->rel[0] = '\0';
        return disco_status_errno(st, e, "dir",
                                  "object store '%s': cannot create a temporary file in %s/",
                                  os->dir, TMP_DIR);
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
        return write_full(fd, p, n, written);
    allowed = *written >= limit ? 0 : (size_t)(limit - *written);
    e = write_full(fd, p, allowed, written);
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
    char rel[OBJ_REL_LEN + 1];
    struct stat sb;

    obj_rel(hash, rel);
    if (fstatat(os->root_fd, rel, &sb, 0) != 0)
        return obj_fail(os, hash, errno, "cannot stat", st);
    info_fill(info, hash, &sb);
    if (created)
        *created = 0;
    return DISCO_OK;
}

/* Turns a complete temporary file holding `size` bytes into object `hash`. */
static int put_commit(disco_objects *os, put_tmp *t, const char *hash, uint64_t size,
                      disco_object_info *info, int *created, disco_status *st)
{
    char rel[OBJ_REL_LEN + 1];
    struct stat sb;
    int fan_fd = -1, placed = 0, rc, e;

    obj_rel(hash, rel);
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
        return obj_fail(os, hash, errno, "cannot stat", st);
    info_fill(info, hash, &sb);
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
    unsigned char *buf; /* PUT_SLOTS buffers of IO_BUF_SIZE */
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
    pp->buf = malloc(PUT_SLOTS * IO_BUF_SIZE);
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
    return pp->buf + (size_t)(n % PUT_SLOTS) * IO_BUF_SIZE;
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
        else if (errno == EAGAIN && wait_fd(fd, POLLIN) != 0)
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

static void io_fill(put_pipe *pp)
{
    unsigned char *slot = pipe_slot(pp, pp->filled); /* only this thread moves `filled` */
    size_t n = 0;
    int eof = 0, e = read_full(pp->in_fd, slot, IO_BUF_SIZE, &n, &eof);

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

/* ---- reading -------------------------------------------------------------- */

int disco_objects_stat(disco_objects *os, const char *hash, disco_object_info *info,
                       disco_status *st)
{
    char rel[OBJ_REL_LEN + 1];
    struct stat sb;
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc != DISCO_OK)
        return rc;
    obj_rel(hash, rel);
    if (fstatat(os->root_fd, rel, &sb, 0) != 0)
        return obj_fail(os, hash, errno, "cannot stat", st);
    if (!S_ISREG(sb.st_mode))
        return disco_status_set(st, DISCO_ERR_CORRUPT, "hash",
                                "object %s in store '%s': not a regular file", hash, os->dir);
    info_fill(info, hash, &sb);
    return DISCO_OK;
}

int disco_objects_open_read(disco_objects *os, const char *hash, int *fd, disco_status *st)
{
    struct stat sb;

    return obj_open(os, hash, fd, &sb, st);
}

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

    if (!cj->buf && !(cj->buf = malloc(IO_BUF_SIZE))) {
        errno = ENOMEM;
        return -1;
    }
    r = pread(cj->in_fd, cj->buf, n < IO_BUF_SIZE ? n : IO_BUF_SIZE, *off);
    if (r <= 0)
        return r;
    e = write_full(cj->out_fd, cj->buf, (size_t)r, &w);
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
        if (errno == EINTR || (errno == EAGAIN && wait_fd(cj->out_fd, POLLOUT) == 0))
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

    rc = obj_open(os, hash, &cj.in_fd, &sb, st);
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

/* fsyncs the folder that holds `path`. Returns 0 or errno. */
static int sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, e = 0;

    if (!slash)
        dir = strdup(".");
    else
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir)
        return ENOMEM;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    return e;
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
    e = sync_parent(path);
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
    rc = obj_open(os, hash, &cj.in_fd, &sb, st);
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
    e = tmp_create(AT_FDCWD, prefix, 0666, tmp, cap, &cj.out_fd);
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

/* ---- verify, remove, list ------------------------------------------------- */

/* Hashes the rest of `fd` into `hex`. */
static int hash_fd(disco_objects *os, const char *hash, int fd, uint64_t size,
                   const disco_progress *prog, char hex[DISCO_SHA256_HEX_LEN + 1], disco_status *st)
{
    unsigned char *buf = malloc(IO_BUF_SIZE);
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 sha;
    uint64_t done = 0;
    int rc = DISCO_OK;

    if (!buf || disco_sha256_init(&sha) != DISCO_OK) {
        free(buf);
        return disco_status_set(st, DISCO_ERR_NOMEM, "hash", "object %s: out of memory", hash);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (ssize_t r; rc == DISCO_OK && (r = read(fd, buf, IO_BUF_SIZE)) != 0;) {
        if (r < 0 && errno != EINTR)
            rc = obj_fail(os, hash, errno, "read failed", st);
        if (r <= 0)
            continue;
        disco_sha256_update(&sha, buf, (size_t)r);
        done += (uint64_t)r;
        if (disco_progress_report(prog, "verify", done, size))
            rc = disco_status_set(st, DISCO_ERR_CANCELLED, NULL,
                                  "object %s: verify cancelled after %llu bytes", hash,
                                  (unsigned long long)done);
    }
    disco_sha256_final(&sha, digest);
    disco_hex_encode(digest, sizeof digest, hex);
    free(buf);
    return rc;
}

int disco_objects_verify(disco_objects *os, const char *hash, const disco_progress *prog,
                         disco_status *st)
{
    char actual[DISCO_SHA256_HEX_LEN + 1];
    struct stat sb;
    int fd, rc;

    rc = obj_open(os, hash, &fd, &sb, st);
    if (rc != DISCO_OK)
        return rc;
    rc = hash_fd(os, hash, fd, (uint64_t)sb.st_size, prog, actual, st);
    if (rc == DISCO_OK && strcmp(actual, hash) != 0)
        rc = disco_status_set(st, DISCO_ERR_CORRUPT, "hash",
                              "object %s in store '%s' is corrupt: its %llu bytes hash to %s", hash,
                              os->dir, (unsigned long long)sb.st_size, actual);
    close(fd);
    return rc;
}

int disco_objects_remove(disco_objects *os, const char *hash, disco_status *st)
{
    char rel[OBJ_REL_LEN + 1];
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc != DISCO_OK)
        return rc;
    obj_rel(hash, rel);
    if (unlinkat(os->root_fd, rel, 0) != 0)
        return obj_fail(os, hash, errno, "cannot remove", st);
    return DISCO_OK;
}

/* Opens the folder `rel` under the root for listing; NULL with errno set. */
static DIR *dir_open(const disco_objects *os, const char *rel)
{
    int fd = openat(os->root_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

/* Visits the objects of one fan-out folder; sets *stop when `fn` asks to. */
static int foreach_fan(disco_objects *os, const char *fan, disco_object_visit_fn fn, void *user,
                       int *stop, disco_status *st)
{
    DIR *d = dir_open(os, fan);
    struct dirent *de;
    struct stat sb;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    disco_object_info info;

    if (!d)
        return errno == ENOENT
                   ? DISCO_OK
                   : disco_status_errno(st, errno, "dir", "object store '%s': cannot list %s/",
                                        os->dir, fan);
    while (!*stop && (de = readdir(d)) != NULL) {
        if (!is_lower_hex(de->d_name, DISCO_SHA256_HEX_LEN - 2))
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
            continue; /* removed meanwhile, or not ours */
        memcpy(hash, fan, 2);
        memcpy(hash + 2, de->d_name, DISCO_SHA256_HEX_LEN - 1);
        info_fill(&info, hash, &sb);
        *stop = fn(user, &info) != 0;
    }
    closedir(d);
    return DISCO_OK;
}

int disco_objects_foreach(disco_objects *os, disco_object_visit_fn fn, void *user, disco_status *st)
{
    DIR *d = dir_open(os, ".");
    struct dirent *de;
    int rc = DISCO_OK, stop = 0;

    if (!fn)
        return disco_status_set(st, DISCO_ERR_INVAL, "fn", "object store '%s': no visitor",
                                os->dir);
    if (!d)
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot list", os->dir);
    while (rc == DISCO_OK && !stop && (de = readdir(d)) != NULL) {
        if (is_lower_hex(de->d_name, 2))
            rc = foreach_fan(os, de->d_name, fn, user, &stop, st);
    }
    closedir(d);
    return rc;
}

int disco_objects_clean_tmp(disco_objects *os, int64_t older_than_ms, uint64_t *files,
                            uint64_t *bytes, disco_status *st)
{
    int64_t now = disco_time_now_ms();
    uint64_t nfiles = 0, nbytes = 0;
    DIR *d;
    struct dirent *de;
    struct stat sb;

    if (older_than_ms < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "older_than_ms",
                                "object store '%s': age %lld ms is negative", os->dir,
                                (long long)older_than_ms);
    d = dir_open(os, TMP_DIR);
    if (!d && errno != ENOENT)
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot list %s/", os->dir,
                                  TMP_DIR);
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
            fstatat(dirfd(d), de->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (now - mtime_ms(&sb) < older_than_ms || unlinkat(dirfd(d), de->d_name, 0) != 0)
            continue;
        nfiles++;
        nbytes += (uint64_t)sb.st_size;
    }
    if (d)
        closedir(d);
    if (files)
        *files = nfiles;
    if (bytes)
        *bytes = nbytes;
    return DISCO_OK;
}
