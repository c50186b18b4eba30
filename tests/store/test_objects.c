/*
 * test_objects.c - the content-addressed object store: puts from memory,
 * files and pipes, ranges, verify, listing, and every failure path of a put
 * (disk full, file size limit, interruption, cancellation).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/objects.h"
#include "store/store_int.h"
#include "support/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static const char *const HASH_ABC =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char *const HASH_EMPTY =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *const HASH_MILLION_A =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
static const char *const HASH_ABSENT =
    "0000000000000000000000000000000000000000000000000000000000000000";

typedef struct fixture {
    char *dir;       /* the test's folder */
    char *store_dir; /* <dir>/data/objects */
    disco_objects *os;
} fixture;

/* ---- helpers ------------------------------------------------------------ */

static void fill_pattern(unsigned char *buf, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
}

static unsigned char *make_pattern(size_t n, uint64_t seed)
{
    unsigned char *buf = malloc(n ? n : 1);

    assert_non_null(buf);
    fill_pattern(buf, n, seed);
    return buf;
}

static char *write_pattern_file(const fixture *f, const char *name, size_t n, uint64_t seed,
                                char hash[DISCO_SHA256_HEX_LEN + 1])
{
    unsigned char *buf = make_pattern(n, seed);
    char *path = tu_path(f->dir, name);

    assert_int_equal(tu_write_file(path, buf, n), 0);
    assert_int_equal(disco_sha256_hex(buf, n, hash), DISCO_OK);
    free(buf);
    return path;
}

static char *object_path(const fixture *f, const char *hash)
{
    char rel[128];

    snprintf(rel, sizeof rel, "%.2s/%s", hash, hash + 2);
    return tu_path(f->store_dir, rel);
}

static int count_visit(void *user, const disco_object_info *info)
{
    (void)info;
    (*(int *)user)++;
    return 0;
}

static int count_objects(const fixture *f)
{
    int n = 0;

    assert_int_equal(disco_objects_foreach(f->os, count_visit, &n, NULL), DISCO_OK);
    return n;
}

/* Entries of a folder other than "." and ".."; 0 when it does not exist. */
static int count_entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    int n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int count_tmp(const fixture *f)
{
    char *tmp = tu_path(f->store_dir, "tmp");
    int n = count_entries(tmp);

    free(tmp);
    return n;
}

/* The whole content of a descriptor, read from offset 0. */
static unsigned char *read_fd_all(int fd, size_t *len)
{
    struct stat sb;
    unsigned char *buf;

    assert_int_equal(fstat(fd, &sb), 0);
    buf = malloc((size_t)sb.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)sb.st_size, 0), sb.st_size);
    *len = (size_t)sb.st_size;
    return buf;
}

static void assert_msg_has(const disco_status *st, const char *needle)
{
    if (!strstr(st->msg, needle))
        fail_msg("message '%s' does not name '%s'", st->msg, needle);
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->dir = tu_tmpdir("objects");
    assert_non_null(f->dir);
    f->store_dir = tu_path(f->dir, "data/objects");
    assert_int_equal(disco_objects_open(f->store_dir, &f->os, NULL), DISCO_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_objects_close(f->os);
    tu_rmrf(f->dir);
    free(f->store_dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- puts and gets -------------------------------------------------------- */

static void test_put_mem_known_hash(void **state)
{
    fixture *f = *state;
    disco_object_info info;
    struct stat sb;
    int created = -1;
    char *path, *back;
    size_t len;

    assert_int_equal(disco_objects_put_mem(f->os, "abc", 3, &info, &created, NULL), DISCO_OK);
    assert_string_equal(info.hash, HASH_ABC);
    assert_int_equal(info.size, 3);
    assert_int_equal(created, 1);
    path = object_path(f, HASH_ABC);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0444);
    back = tu_read_file(path, &len);
    assert_non_null(back);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "abc", 3);
    assert_int_equal(count_tmp(f), 0);
    assert_string_equal(disco_objects_dir(f->os), f->store_dir);
    free(back);
    free(path);
}

static void test_put_empty(void **state)
{
    fixture *f = *state;
    disco_object_info info;
    int created = -1, fd;
    char *out = tu_path(f->dir, "empty.out");
    size_t len;
    unsigned char *back;

    assert_int_equal(disco_objects_put_mem(f->os, NULL, 0, &info, &created, NULL), DISCO_OK);
    assert_string_equal(info.hash, HASH_EMPTY);
    assert_int_equal(info.size, 0);
    assert_int_equal(created, 1);
    assert_int_equal(disco_objects_verify(f->os, HASH_EMPTY, NULL, NULL), DISCO_OK);
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(
        disco_objects_get_fd(f->os, HASH_EMPTY, 0, DISCO_OBJECT_TO_END, fd, NULL, NULL), DISCO_OK);
    back = read_fd_all(fd, &len);
    assert_int_equal(len, 0);
    close(fd);
    free(back);
    free(out);
}

static void test_put_file_known_hash(void **state)
{
    fixture *f = *state;
    char *path = tu_path(f->dir, "million-a");
    char *buf = malloc(1000000);
    disco_object_info info;

    memset(buf, 'a', 1000000);
    assert_int_equal(tu_write_file(path, buf, 1000000), 0);
    assert_int_equal(disco_objects_put_file(f->os, path, NULL, &info, NULL, NULL), DISCO_OK);
    assert_string_equal(info.hash, HASH_MILLION_A);
    assert_int_equal(info.size, 1000000);
    free(buf);
    free(path);
}

static void test_put_file_round_trip(void **state)
{
    fixture *f = *state;
    size_t n = 3 * MiB + 12345, len;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *src = write_pattern_file(f, "big.bin", n, 7, hash);
    char *out = tu_path(f->dir, "big.out");
    disco_object_info info;
    char *a, *b;
    int created = -1;

    assert_int_equal(disco_objects_put_file(f->os, src, NULL, &info, &created, NULL), DISCO_OK);
    assert_string_equal(info.hash, hash);
    assert_int_equal(info.size, n);
    assert_int_equal(created, 1);
    assert_int_equal(disco_objects_get_file(f->os, hash, out, NULL, NULL), DISCO_OK);
    a = tu_read_file(src, &len);
    b = tu_read_file(out, &len);
    assert_non_null(b);
    assert_int_equal(len, n);
    assert_memory_equal(a, b, n);
    assert_int_equal(disco_objects_verify(f->os, hash, NULL, NULL), DISCO_OK);
    assert_int_equal(count_tmp(f), 0);
    free(a);
    free(b);
    free(out);
    free(src);
}

typedef struct feeder {
    int fd;
    size_t total;
    const unsigned char *data; /* what to write; NULL for a pattern */
    char hash[DISCO_SHA256_HEX_LEN + 1];
} feeder;

static int write_all(int fd, const unsigned char *buf, size_t n)
{
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

/* Writes `total` bytes into a pipe in odd-sized pieces, then closes it. */
static void *feed_pipe(void *arg)
{
    feeder *fd = arg;
    size_t piece = 100003, done = 0;
    unsigned char *buf = malloc(piece);
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 sha;

    disco_sha256_init(&sha);
    for (uint64_t seed = 1; done < fd->total; seed++) {
        size_t n = fd->total - done < piece ? fd->total - done : piece;
        const unsigned char *p = fd->data ? fd->data + done : buf;
        if (!fd->data)
            fill_pattern(buf, n, seed);
        disco_sha256_update(&sha, p, n);
        if (write_all(fd->fd, p, n) != 0)
            break;
        done += n;
    }
    disco_sha256_final(&sha, digest);
    disco_hex_encode(digest, sizeof digest, fd->hash);
    close(fd->fd);
    free(buf);
    return NULL;
}

typedef struct progress_log {
    int calls;
    uint64_t last_done, last_total;
    uint64_t cancel_after; /* 0: never cancel */
    char stage[16];
} progress_log;

static int record_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
    progress_log *log = user;

    log->calls++;
    log->last_done = done;
    log->last_total = total;
    snprintf(log->stage, sizeof log->stage, "%s", stage);
    return log->cancel_after && done >= log->cancel_after;
}

static void test_put_fd_pipe_64mb(void **state)
{
    fixture *f = *state;
    feeder fd = {.total = 64 * MiB + 17};
    progress_log log = {0};
    disco_progress prog = {record_progress, &log};
    disco_object_info info;
    pthread_t th;
    int p[2];

    assert_int_equal(pipe(p), 0);
    fd.fd = p[1];
    assert_int_equal(pthread_create(&th, NULL, feed_pipe, &fd), 0);
    assert_int_equal(disco_objects_put_fd(f->os, p[0], &prog, &info, NULL, NULL), DISCO_OK);
    pthread_join(th, NULL);
    close(p[0]);
    assert_string_equal(info.hash, fd.hash);
    assert_int_equal(info.size, fd.total);
    assert_string_equal(log.stage, "put");
    assert_int_equal(log.last_done, fd.total);
    assert_int_equal(log.last_total, 0); /* a pipe has no known size */
    assert_int_equal(disco_objects_verify(f->os, info.hash, NULL, NULL), DISCO_OK);
    assert_int_equal(count_tmp(f), 0);
}

static void test_dedup(void **state)
{
    fixture *f = *state;
    size_t n = 2 * MiB + 5;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *src = write_pattern_file(f, "dup.bin", n, 3, hash);
    unsigned char *buf = make_pattern(n, 3);
    disco_object_info a, b, c;
    int created = -1;
    char *fan = tu_path(f->store_dir, "xx");

    assert_int_equal(disco_objects_put_file(f->os, src, NULL, &a, &created, NULL), DISCO_OK);
    assert_int_equal(created, 1);
    assert_int_equal(disco_objects_put_file(f->os, src, NULL, &b, &created, NULL), DISCO_OK);
    assert_int_equal(created, 0);
    assert_int_equal(disco_objects_put_mem(f->os, buf, n, &c, &created, NULL), DISCO_OK);
    assert_int_equal(created, 0);
    assert_string_equal(a.hash, hash);
    assert_string_equal(b.hash, hash);
    assert_string_equal(c.hash, hash);
    assert_int_equal(b.mtime_ms, a.mtime_ms); /* the first copy was kept */
    assert_int_equal(count_objects(f), 1);
    memcpy(fan + strlen(fan) - 2, hash, 2);
    assert_int_equal(count_entries(fan), 1);
    assert_int_equal(count_tmp(f), 0);
    free(fan);
    free(buf);
    free(src);
}

/* get_fd of a range into a fresh regular file; returns its bytes. */
static unsigned char *get_range(fixture *f, const char *hash, uint64_t off, uint64_t len, int flags,
                                size_t *got, int *rc)
{
    char *out = tu_path(f->dir, "range.out");
    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC | flags, 0644);
    unsigned char *buf;

    assert_true(fd >= 0);
    *rc = disco_objects_get_fd(f->os, hash, off, len, fd, NULL, NULL);
    buf = read_fd_all(fd, got);
    close(fd);
    free(out);
    return buf;
}

static void check_range(fixture *f, const char *hash, const unsigned char *data, uint64_t off,
                        uint64_t len, size_t want, int flags)
{
    size_t got;
    int rc;
    unsigned char *buf = get_range(f, hash, off, len, flags, &got, &rc);

    assert_int_equal(rc, DISCO_OK);
    assert_int_equal(got, want);
    assert_memory_equal(buf, data + off, want);
    free(buf);
}

static void test_ranges(void **state)
{
    fixture *f = *state;
    size_t n = 100000, got;
    unsigned char *data = make_pattern(n, 11), *buf;
    disco_object_info info;
    disco_status st = {0};
    int rc;

    assert_int_equal(disco_objects_put_mem(f->os, data, n, &info, NULL, NULL), DISCO_OK);
    check_range(f, info.hash, data, 0, 10, 10, 0);
    check_range(f, info.hash, data, 5000, 1000, 1000, 0);
    check_range(f, info.hash, data, 99990, 100, 10, 0);
    check_range(f, info.hash, data, 0, DISCO_OBJECT_TO_END, n, 0);
    check_range(f, info.hash, data, n, DISCO_OBJECT_TO_END, 0, 0);
    check_range(f, info.hash, data, 777, 50000, 50000, O_APPEND); /* read/write path */
    buf = get_range(f, info.hash, n + 1, 1, 0, &got, &rc);
    assert_int_equal(rc, DISCO_ERR_INVAL);
    assert_int_equal(got, 0);
    free(buf);
    rc = disco_objects_get_fd(f->os, info.hash, n + 1, 1, 1, NULL, &st);
    assert_int_equal(rc, DISCO_ERR_INVAL);
    assert_msg_has(&st, "100001");
    free(data);
}

static void test_get_fd_pipe(void **state)
{
    fixture *f = *state;
    size_t n = 20000;
    unsigned char *data = make_pattern(n, 5), buf[1000];
    disco_object_info info;
    int p[2];

    assert_int_equal(disco_objects_put_mem(f->os, data, n, &info, NULL, NULL), DISCO_OK);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(disco_objects_get_fd(f->os, info.hash, 5000, 1000, p[1], NULL, NULL),
                     DISCO_OK);
    close(p[1]);
    assert_int_equal(read(p[0], buf, sizeof buf), 1000);
    assert_memory_equal(buf, data + 5000, 1000);
    assert_int_equal(read(p[0], buf, sizeof buf), 0);
    close(p[0]);
    free(data);
}

static void test_get_file_atomic(void **state)
{
    fixture *f = *state;
    char *out_dir = tu_path(f->dir, "out");
    char *out = tu_path(out_dir, "song.wav");
    char *bad = tu_path(f->dir, "missing/song.wav");
    disco_object_info info;
    disco_status st = {0};
    char *back;
    size_t len;

    assert_int_equal(mkdir(out_dir, 0755), 0);
    assert_int_equal(tu_write_file(out, "old contents", 12), 0);
    assert_int_equal(disco_objects_get_file(f->os, HASH_ABSENT, out, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    back = tu_read_file(out, &len);
    assert_int_equal(len, 12); /* untouched */
    free(back);
    assert_int_equal(disco_objects_put_mem(f->os, "abc", 3, &info, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_get_file(f->os, HASH_ABC, out, NULL, NULL), DISCO_OK);
    back = tu_read_file(out, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "abc", 3);
    free(back);
    assert_int_equal(count_entries(out_dir), 1); /* no temporary left beside it */
    assert_int_equal(disco_objects_get_file(f->os, HASH_ABC, bad, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, bad);
    free(bad);
    free(out);
    free(out_dir);
}

static void test_open_read(void **state)
{
    fixture *f = *state;
    char buf[8];
    int fd = -1;

    assert_int_equal(disco_objects_put_mem(f->os, "abc", 3, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_open_read(f->os, HASH_ABC, &fd, NULL), DISCO_OK);
    assert_int_equal(read(fd, buf, sizeof buf), 3);
    assert_memory_equal(buf, "abc", 3);
    close(fd);
    assert_int_equal(disco_objects_open_read(f->os, HASH_ABSENT, &fd, NULL), DISCO_ERR_NOTFOUND);
}

/* ---- stat, verify, remove, foreach ------------------------------------------ */

static void test_stat(void **state)
{
    fixture *f = *state;
    disco_object_info info;
    disco_status st = {0};
    struct timespec now;

    assert_int_equal(disco_objects_put_mem(f->os, "abc", 3, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_stat(f->os, HASH_ABC, &info, &st), DISCO_OK);
    assert_string_equal(info.hash, HASH_ABC);
    assert_int_equal(info.size, 3);
    clock_gettime(CLOCK_REALTIME, &now);
    assert_true(llabs((long long)now.tv_sec * 1000 - info.mtime_ms) < 60000);
    assert_int_equal(disco_objects_stat(f->os, HASH_ABSENT, &info, &st), DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, HASH_ABSENT);
}

static void test_malformed_hash(void **state)
{
    fixture *f = *state;
    const char *upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
    disco_status st = {0};
    disco_object_info info;
    int fd;

    assert_int_equal(disco_objects_stat(f->os, "xyz", &info, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "xyz");
    assert_int_equal(disco_objects_stat(f->os, upper, &info, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_objects_get_fd(f->os, "../etc", 0, 1, 1, NULL, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, "../etc");
    assert_int_equal(disco_objects_verify(f->os, "abc", NULL, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_objects_remove(f->os, "abc", &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_objects_open_read(f->os, NULL, &fd, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_objects_get_file(f->os, "abc", "x", NULL, &st), DISCO_ERR_INVAL);
}

static void test_verify_corrupt(void **state)
{
    fixture *f = *state;
    size_t n = 4096;
    unsigned char *data = make_pattern(n, 21);
    char actual[DISCO_SHA256_HEX_LEN + 1];
    disco_object_info info;
    disco_status st = {0};
    char *path;
    int fd;
    unsigned char c;

    assert_int_equal(disco_objects_put_mem(f->os, data, n, &info, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_verify(f->os, info.hash, NULL, &st), DISCO_OK);
    path = object_path(f, info.hash);
    assert_int_equal(chmod(path, 0644), 0);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &c, 1, 1000), 1);
    c ^= 0x01;
    assert_int_equal(pwrite(fd, &c, 1, 1000), 1);
    close(fd);
    assert_int_equal(disco_objects_verify(f->os, info.hash, NULL, &st), DISCO_ERR_CORRUPT);
    assert_msg_has(&st, info.hash);
    data[1000] ^= 0x01;
    assert_int_equal(disco_sha256_hex(data, n, actual), DISCO_OK);
    assert_msg_has(&st, actual);
    free(path);
    free(data);
}

static void test_remove(void **state)
{
    fixture *f = *state;
    disco_status st = {0};

    assert_int_equal(disco_objects_put_mem(f->os, "abc", 3, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_remove(f->os, HASH_ABC, &st), DISCO_OK);
    assert_int_equal(disco_objects_stat(f->os, HASH_ABC, NULL, &st), DISCO_ERR_NOTFOUND);
    assert_int_equal(disco_objects_remove(f->os, HASH_ABC, &st), DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, HASH_ABC);
    assert_int_equal(count_objects(f), 0);
}

typedef struct visit_sum {
    int count, stop_at;
    uint64_t bytes;
} visit_sum;

static int sum_visit(void *user, const disco_object_info *info)
{
    visit_sum *v = user;

    v->count++;
    v->bytes += info->size;
    return v->stop_at && v->count >= v->stop_at;
}

static void test_foreach(void **state)
{
    fixture *f = *state;
    visit_sum all = {0}, some = {.stop_at = 2};
    char word[32];

    for (int i = 0; i < 5; i++) {
        snprintf(word, sizeof word, "object %d", i);
        assert_int_equal(disco_objects_put_mem(f->os, word, strlen(word), NULL, NULL, NULL),
                         DISCO_OK);
    }
    assert_int_equal(disco_objects_put_mem(f->os, "object 0", 8, NULL, NULL, NULL), DISCO_OK);
    assert_int_equal(disco_objects_foreach(f->os, sum_visit, &all, NULL), DISCO_OK);
    assert_int_equal(all.count, 5);
    assert_int_equal(all.bytes, 5 * 8);
    assert_int_equal(disco_objects_foreach(f->os, sum_visit, &some, NULL), DISCO_OK);
    assert_int_equal(some.count, 2);
}

/* ---- bad inputs ------------------------------------------------------------ */

static void test_missing_file(void **state)
{
    fixture *f = *state;
    char *path = tu_path(f->dir, "no-such-file.wav");
    disco_status st = {0};

    assert_int_equal(disco_objects_put_file(f->os, path, NULL, NULL, NULL, &st),
                     DISCO_ERR_NOTFOUND);
    assert_msg_has(&st, path);
    assert_int_equal(count_tmp(f), 0);
    free(path);
}

static void test_folder_input(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    int fd;

    assert_int_equal(disco_objects_put_file(f->os, f->dir, NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    assert_msg_has(&st, f->dir);
    fd = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(disco_objects_put_fd(f->os, fd, NULL, NULL, NULL, &st), DISCO_ERR_INVAL);
    close(fd);
    assert_int_equal(count_objects(f), 0);
    assert_int_equal(count_tmp(f), 0);
}

/*
 * Permission bits do not stop root, so the put runs in a child that first
 * gives up root (to "nobody") when the tests run as root.
 */
static void test_unreadable_file(void **state)
{
    fixture *f = *state;
    char *path = tu_path(f->dir, "secret.wav");
    int status;
    pid_t pid;

    assert_int_equal(tu_write_file(path, "secret", 6), 0);
    assert_int_equal(chmod(path, 0), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        disco_status st = {0};
        int rc;
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(77);
        rc = disco_objects_put_file(f->os, path, NULL, NULL, NULL, &st);
        _exit(rc == DISCO_ERR_PERM && strstr(st.msg, path) ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    free(path);
    if (WEXITSTATUS(status) == 77)
        skip(); /* cannot drop root here: no unreadable file is possible */
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_tmp(f), 0);
}

static void test_open_errors(void **state)
{
    fixture *f = *state;
    char *file = tu_path(f->dir, "plain");
    disco_objects *os = NULL;
    disco_status st = {0};

    assert_int_equal(tu_write_file(file, "x", 1), 0);
    assert_int_equal(disco_objects_open(file, &os, &st), DISCO_ERR_IO);
    assert_null(os);
    assert_msg_has(&st, file);
    assert_int_equal(disco_objects_open("", &os, &st), DISCO_ERR_INVAL);
    free(file);
}

/* ---- failures during a put ---------------------------------------------------- */

static void test_inject_disk_full(void **state)
{
    fixture *f = *state;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *src = write_pattern_file(f, "full.bin", 4 * MiB, 9, hash);
    unsigned char *buf = make_pattern(3 * MiB, 10);
    disco_status st = {0};

    disco__objects_inject_write_error(f->os, 1572864, ENOSPC);
    assert_int_equal(disco_objects_put_file(f->os, src, NULL, NULL, NULL, &st), DISCO_ERR_NOSPC);
    assert_msg_has(&st, f->store_dir);
    assert_msg_has(&st, "1572864 bytes");
    disco__objects_inject_write_error(f->os, 1000, EDQUOT);
    assert_int_equal(disco_objects_put_mem(f->os, buf, 3 * MiB, NULL, NULL, &st), DISCO_ERR_NOSPC);
    assert_msg_has(&st, "1000 bytes");
    disco__objects_inject_write_error(f->os, 0, EIO);
    assert_int_equal(disco_objects_put_file(f->os, src, NULL, NULL, NULL, &st), DISCO_ERR_IO);
    assert_int_equal(count_objects(f), 0);
    assert_int_equal(count_tmp(f), 0);
    disco__objects_inject_write_error(f->os, 0, 0);
    assert_int_equal(disco_objects_put_file(f->os, src, NULL, NULL, NULL, &st), DISCO_OK);
    assert_int_equal(count_objects(f), 1);
    free(buf);
    free(src);
}

/* A real file size limit: the kernel refuses writes past it with EFBIG. */
static void test_rlimit_fsize(void **state)
{
    fixture *f = *state;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *src = write_pattern_file(f, "limit.bin", 3 * MiB, 12, hash);
    unsigned char *buf = make_pattern(2 * MiB, 15);
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {.rlim_cur = MiB, .rlim_max = MiB};
        disco_status st = {0};
        int rc;
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(2);
        rc = disco_objects_put_file(f->os, src, NULL, NULL, NULL, &st);
        if (rc != DISCO_ERR_NOSPC)
            _exit(3);
        if (!strstr(st.msg, f->store_dir) || !strstr(st.msg, "1048576 bytes"))
            _exit(4);
        rc = disco_objects_put_mem(f->os, buf, 2 * MiB, NULL, NULL, &st);
        _exit(rc == DISCO_ERR_NOSPC ? 0 : 5);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(count_objects(f), 0);
    assert_int_equal(count_tmp(f), 0);
    free(buf);
    free(src);
}

/* The size of the one temporary file of a put, or -1 while there is none. */
static long long tmp_file_size(const fixture *f)
{
    char *tmp = tu_path(f->store_dir, "tmp");
    DIR *d = opendir(tmp);
    struct dirent *de;
    struct stat sb;
    long long size = -1;

    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &sb, 0) == 0)
            size = sb.st_size;
    }
    if (d)
        closedir(d);
    free(tmp);
    return size;
}

static void test_interrupted_put(void **state)
{
    fixture *f = *state;
    unsigned char *chunk = make_pattern(MiB, 13);
    uint64_t files = 9, bytes = 0;
    int p[2], status;
    pid_t pid;

    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        disco_objects_put_fd(f->os, p[0], NULL, NULL, NULL, NULL);
        _exit(0);
    }
    close(p[0]);
    for (int i = 0; i < 8; i++)
        assert_int_equal(write(p[1], chunk, MiB), (ssize_t)MiB);
    for (int i = 0; i < 500 && tmp_file_size(f) < (long long)(4 * MiB); i++)
        usleep(10000);
    assert_true(tmp_file_size(f) >= (long long)(4 * MiB));
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    close(p[1]);
    assert_int_equal(count_objects(f), 0);
    assert_int_equal(count_tmp(f), 1);
    assert_int_equal(disco_objects_clean_tmp(f->os, 3600 * 1000, &files, &bytes, NULL), DISCO_OK);
    assert_int_equal(files, 0); /* too recent */
    assert_int_equal(disco_objects_clean_tmp(f->os, 0, &files, &bytes, NULL), DISCO_OK);
    assert_int_equal(files, 1);
    assert_true(bytes >= 4 * MiB);
    assert_int_equal(count_tmp(f), 0);
    assert_int_equal(disco_objects_clean_tmp(f->os, -1, NULL, NULL, NULL), DISCO_ERR_INVAL);
    free(chunk);
}

static void test_progress_cancel(void **state)
{
    fixture *f = *state;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    char *src = write_pattern_file(f, "cancel.bin", 5 * MiB, 14, hash);
    progress_log log = {.cancel_after = 2 * MiB};
    disco_progress prog = {record_progress, &log};
    disco_status st = {0};
    int p[2];

    assert_int_equal(disco_objects_put_file(f->os, src, &prog, NULL, NULL, &st),
                     DISCO_ERR_CANCELLED);
    assert_int_equal(log.last_total, 5 * MiB);
    assert_true(log.last_done >= 2 * MiB && log.last_done < 5 * MiB);
    assert_int_equal(count_objects(f), 0);
    assert_int_equal(count_tmp(f), 0);
    log = (progress_log){0};
    assert_int_equal(disco_objects_put_file(f->os, src, &prog, NULL, NULL, &st), DISCO_OK);
    assert_int_equal(log.last_done, 5 * MiB);
    assert_int_equal(log.last_total, 5 * MiB);
    log = (progress_log){.cancel_after = 1};
    assert_int_equal(disco_objects_verify(f->os, hash, &prog, &st), DISCO_ERR_CANCELLED);
    assert_string_equal(log.stage, "verify");
    assert_int_equal(pipe(p), 0);
    assert_int_equal(disco_objects_get_fd(f->os, hash, 0, 10, p[1], &prog, &st),
                     DISCO_ERR_CANCELLED);
    assert_string_equal(log.stage, "get");
    close(p[0]);
    close(p[1]);
    free(src);
}

/* ---- threads ------------------------------------------------------------------ */

typedef struct putter {
    disco_objects *os;
    int id, rc, created;
    char hash[DISCO_SHA256_HEX_LEN + 1];
} putter;

/* Even ids put the same bytes, odd ids bytes of their own; half through pipes. */
static void *put_thread(void *arg)
{
    putter *p = arg;
    size_t n = MiB + 3;
    unsigned char *buf = make_pattern(n, p->id % 2 ? (uint64_t)p->id + 100 : 1);
    disco_object_info info;
    feeder fd = {.total = n, .data = buf};
    pthread_t th;
    int fds[2];

    memset(&info, 0, sizeof info);
    if (p->id % 4 < 2) {
        p->rc = disco_objects_put_mem(p->os, buf, n, &info, &p->created, NULL);
    } else if (pipe(fds) != 0) {
        p->rc = -100;
    } else {
        fd.fd = fds[1];
        pthread_create(&th, NULL, feed_pipe, &fd);
        p->rc = disco_objects_put_fd(p->os, fds[0], NULL, &info, &p->created, NULL);
        pthread_join(th, NULL);
        close(fds[0]);
    }
    snprintf(p->hash, sizeof p->hash, "%s", info.hash);
    free(buf);
    return NULL;
}

static void test_concurrent_puts(void **state)
{
    fixture *f = *state;
    putter ps[8];
    pthread_t th[8];
    int created = 0;

    for (int i = 0; i < 8; i++) {
        ps[i] = (putter){.os = f->os, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, put_thread, &ps[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ps[i].rc, DISCO_OK);
        assert_int_equal(disco_objects_verify(f->os, ps[i].hash, NULL, NULL), DISCO_OK);
    }
    for (int i = 0; i < 8; i += 2) {
        assert_string_equal(ps[i].hash, ps[0].hash);
        created += ps[i].created;
    }
    assert_int_equal(created, 1); /* one of the same-bytes puts made the object */
    assert_int_equal(count_objects(f), 5);
    assert_int_equal(count_tmp(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_mem_known_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_known_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_file_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_fd_pipe_64mb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_fd_pipe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_file_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inject_disk_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rlimit_fsize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_puts, setup, teardown),
    };

    return cmocka_run_group_tests_name("store/objects", tests, NULL, NULL);
}
