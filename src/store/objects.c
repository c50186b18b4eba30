/*
 * objects.c - the content-addressed object store (see disco/objects.h):
 * opening a store, the helpers that its files share (objects_int.h), and the
 * calls that look at stored objects without copying them: stat, open_read,
 * verify, remove, foreach and clean_tmp.
 *
 *   objects.c      opening, shared helpers, stat, verify, remove, listing
 *   objects_put.c  put_fd, put_file, put_mem: the hashing pipeline, the commit
 *   objects_get.c  get_fd, get_file: copying objects out
 *
 * DESIGN
 *   An object lives at <dir>/<first two hex digits>/<other 62 digits>;
 *   puts in progress live in <dir>/tmp/put-*. Every call opens its own files
 *   relative to the store's folder descriptor; the only shared mutable state
 *   is the test fault hook.
 */
#include "objects_int.h"

#include "disco/timeutil.h"
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TRIES 16 /* names tried by disco__objects_create_tmp() */

/* ---- names and shared helpers (objects_int.h) ----------------------------- */

void disco__objects_locate(const char *hash, char rel[DISCO__OBJECTS_REL_LEN + 1])
{
    rel[0] = hash[0];
    rel[1] = hash[1];
    rel[2] = '/';
    memcpy(rel + 3, hash + 2, DISCO_SHA256_HEX_LEN - 2);
    rel[DISCO__OBJECTS_REL_LEN] = '\0';
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

void disco__objects_fill_info(disco_object_info *info, const char *hash, const struct stat *sb)
{
    if (!info)
        return;
    memcpy(info->hash, hash, DISCO_SHA256_HEX_LEN);
    info->hash[DISCO_SHA256_HEX_LEN] = '\0';
    info->size = (uint64_t)sb->st_size;
    info->mtime_ms = mtime_ms(sb);
}

/* An error about one object: NOTFOUND for a missing one, else from errno. */
int disco__objects_fail(const disco_objects *os, const char *hash, int errnum, const char *action,
                        disco_status *st)
{
    if (errnum == ENOENT)
        return disco_status_set(st, DISCO_ERR_NOTFOUND, "hash",
                                "object %s: not found in store '%s'", hash, os->dir);
    return disco_status_errno(st, errnum, "hash", "object %s in store '%s': %s", hash, os->dir,
                              action);
}

/* Opens a stored object for reading and stats it. */
int disco__objects_open_object(disco_objects *os, const char *hash, int *fd, struct stat *sb,
                               disco_status *st)
{
    char rel[DISCO__OBJECTS_REL_LEN + 1];
    int rc = disco_hash_check(hash, "object hash", st);

    *fd = -1;
    if (rc != DISCO_OK)
        return rc;
    disco__objects_locate(hash, rel);
    *fd = openat(os->root_fd, rel, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        return disco__objects_fail(os, hash, errno, "cannot open", st);
    if (fstat(*fd, sb) != 0) {
        rc = disco__objects_fail(os, hash, errno, "cannot stat", st);
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
int disco__objects_create_tmp(int dirfd, const char *prefix, mode_t mode, char *name, size_t cap,
                              int *fd)
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

int disco__objects_wait_fd(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};

    return poll(&p, 1, -1) < 0 && errno != EINTR ? errno : 0;
}

/* Writes all of `p`, adding to `*written` as it goes. Returns 0 or errno. */
int disco__objects_write_full(int fd, const unsigned char *p, size_t n, uint64_t *written)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN && disco__objects_wait_fd(fd, POLLOUT) == 0)
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

/* ---- reading -------------------------------------------------------------- */

int disco_objects_stat(disco_objects *os, const char *hash, disco_object_info *info,
                       disco_status *st)
{
    char rel[DISCO__OBJECTS_REL_LEN + 1];
    struct stat sb;
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc != DISCO_OK)
        return rc;
    disco__objects_locate(hash, rel);
    if (fstatat(os->root_fd, rel, &sb, 0) != 0)
        return disco__objects_fail(os, hash, errno, "cannot stat", st);
    if (!S_ISREG(sb.st_mode))
        return disco_status_set(st, DISCO_ERR_CORRUPT, "hash",
                                "object %s in store '%s': not a regular file", hash, os->dir);
    disco__objects_fill_info(info, hash, &sb);
    return DISCO_OK;
}

int disco_objects_open_read(disco_objects *os, const char *hash, int *fd, disco_status *st)
{
    struct stat sb;

    return disco__objects_open_object(os, hash, fd, &sb, st);
}

/* ---- verify, remove, list ------------------------------------------------- */

/* Hashes the rest of `fd` into `hex`. */
static int hash_fd(disco_objects *os, const char *hash, int fd, uint64_t size,
                   const disco_progress *prog, char hex[DISCO_SHA256_HEX_LEN + 1], disco_status *st)
{
    unsigned char *buf = malloc(DISCO__OBJECTS_IO_BUF);
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 sha;
    uint64_t done = 0;
    int rc = DISCO_OK;

    if (!buf || disco_sha256_init(&sha) != DISCO_OK) {
        free(buf);
        return disco_status_set(st, DISCO_ERR_NOMEM, "hash", "object %s: out of memory", hash);
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (ssize_t r; rc == DISCO_OK && (r = read(fd, buf, DISCO__OBJECTS_IO_BUF)) != 0;) {
        if (r < 0 && errno != EINTR)
            rc = disco__objects_fail(os, hash, errno, "read failed", st);
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

    rc = disco__objects_open_object(os, hash, &fd, &sb, st);
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
    char rel[DISCO__OBJECTS_REL_LEN + 1];
    int rc = disco_hash_check(hash, "object hash", st);

    if (rc != DISCO_OK)
        return rc;
    disco__objects_locate(hash, rel);
    if (unlinkat(os->root_fd, rel, 0) != 0)
        return disco__objects_fail(os, hash, errno, "cannot remove", st);
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
        disco__objects_fill_info(&info, hash, &sb);
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
    d = dir_open(os, DISCO__OBJECTS_TMP_DIR);
    if (!d && errno != ENOENT)
        return disco_status_errno(st, errno, "dir", "object store '%s': cannot list %s/", os->dir,
                                  DISCO__OBJECTS_TMP_DIR);
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, DISCO__OBJECTS_TMP_PREFIX, strlen(DISCO__OBJECTS_TMP_PREFIX)) !=
                0 ||
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
