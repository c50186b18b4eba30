/*
 * tsdb_wal.c - the write-ahead log: append-only segments of checksummed
 * records, group commit, replay with torn-tail repair, checkpoints.
 *
 *   wal/0000000000000007.log
 *   +---------------------------- segment header (24 bytes) -------------+
 *   | "DWAL" | version u16 | flags u16 (1: checkpoint) | seq u64 |        |
 *   | reserved u32 | crc32c u32 of the 20 bytes before                   |
 *   +---------------------------- record ---------------------------------+
 *   | len u32 (type + payload) | crc32c u32 (len, type, payload) | type u8 |
 *   | payload (len - 1 bytes)                                             |
 *   +---------------------------- record ... -----------------------------+
 *
 *   All integers little-endian. Records never span segments; a segment is
 *   fsynced before the next one is started, so only the last segment can
 *   end in a torn record.
 *
 * DESIGN
 *   Group commit: writers append encoded records to `pend` under `mu`, then
 *   wait in disco__wal_commit() until the log has their bytes. The first
 *   waiter that finds no leader becomes the leader: it swaps `pend` with an
 *   empty buffer, drops the mutex, writes everything in one write() (and
 *   one fdatasync with FSYNC_ALWAYS) and wakes the others; records appended
 *   meanwhile go in the next round. With FSYNC_INTERVAL a thread fsyncs
 *   every interval when something was written since.
 *
 *   A checkpoint is a new segment with flag 1, written as <seq>.tmp,
 *   fsynced and renamed; it holds everything older segments are still
 *   needed for, so they are removed after it. Recovery starts at the last
 *   checkpoint (removing older segments a crash left behind).
 *
 *   Once a write fails the log refuses further records (a partial record
 *   must not be followed by good ones); reopening the store repairs it.
 */
#include "tsdb_int.h"

#include "disco/crc32c.h"
#include "disco/log.h"
#include "disco/timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_MAX ((uint64_t)64 << 20) /* start a new segment past this */
#define REC_HDR 9                    /* len, crc, type */
#define REC_MAX ((uint32_t)1 << 31)  /* larger lengths are damage */
#define SEG_FLAG_CHECKPOINT 1u
#define CKPT_FLUSH ((size_t)4 << 20)
#define NAME_MAX_LEN 32

typedef struct wal_seg_header {
    char magic[4];
    uint16_t version;
    uint16_t flags;
    uint64_t seq;
    uint32_t reserved;
    uint32_t crc;
} wal_seg_header;

_Static_assert(sizeof(wal_seg_header) == 24, "segment header is 24 bytes");
_Static_assert(offsetof(wal_seg_header, seq) == 8, "seq at 8");
_Static_assert(offsetof(wal_seg_header, crc) == 20, "crc at 20");

#define SEG_HDR ((uint64_t)sizeof(wal_seg_header))
#define WAL_VERSION 1

struct tsdb_ckpt {
    tsdb_wal *w;
    int fd;
    tsdb_buf buf;
    uint64_t bytes;
};

static void seg_name(uint64_t seq, const char *ext, char out[NAME_MAX_LEN])
{
    snprintf(out, NAME_MAX_LEN, "%016" PRIx64 ".%s", seq, ext);
}

static void header_encode(uint8_t out[24], uint64_t seq, uint16_t flags)
{
    memcpy(out, "DWAL", 4);
    tsdb_put16(out + offsetof(wal_seg_header, version), WAL_VERSION);
    tsdb_put16(out + offsetof(wal_seg_header, flags), flags);
    tsdb_put64(out + offsetof(wal_seg_header, seq), seq);
    tsdb_put32(out + offsetof(wal_seg_header, reserved), 0);
    tsdb_put32(out + offsetof(wal_seg_header, crc), disco_crc32c(0, out, 20));
}

/* 0 when well formed (flags in *flags), -1 otherwise. */
static int header_decode(const uint8_t in[24], uint64_t seq, uint16_t *flags)
{
    if (memcmp(in, "DWAL", 4) != 0 || tsdb_get32(in + 20) != disco_crc32c(0, in, 20) ||
        tsdb_get16(in + 4) != WAL_VERSION || tsdb_get64(in + 8) != seq)
        return -1;
    *flags = tsdb_get16(in + 6);
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

static int segs_push(tsdb_wal *w, uint64_t seq)
{
    if (w->n_segs == w->cap_segs) {
        size_t ncap = w->cap_segs ? w->cap_segs * 2 : 16;
        uint64_t *ns = realloc(w->segs, ncap * sizeof *ns);
        if (!ns)
            return DISCO_ERR_NOMEM;
        w->segs = ns;
        w->cap_segs = ncap;
    }
    w->segs[w->n_segs++] = seq;
    return DISCO_OK;
}

int disco__wal_open(tsdb_wal *w, int dbdirfd, const char *dbdir, const disco_tsdb_config *cfg,
                    disco_status *st)
{
    size_t n = strlen(dbdir) + 8;

    memset(w, 0, sizeof *w);
    w->fd = w->dirfd = -1;
    w->policy = cfg->fsync;
    w->interval_ms = cfg->fsync_interval_ms;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->stop_cv, NULL);
    w->opened = 1;
    if (!(w->path = malloc(n)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    snprintf(w->path, n, "%s/wal", dbdir);
    if (mkdirat(dbdirfd, "wal", 0755) != 0 && errno != EEXIST)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot create %s", w->path);
    w->dirfd = openat(dbdirfd, "wal", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0)
        return disco_status_errno(st, errno, "dir", "tsdb: cannot open %s", w->path);
    return DISCO_OK;
}

/* ---- segments ---------------------------------------------------------------------- */

/* Creates segment `seq` (header written and fsynced, folder fsynced). */
static int seg_create(tsdb_wal *w, uint64_t seq, int *fd_out, char *err, size_t errlen)
{
    char name[NAME_MAX_LEN];
    uint8_t hdr[24];
    int fd, e;

    seg_name(seq, "log", name);
    fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s/%s: %s", w->path, name, strerror(errno));
        return errno;
    }
    header_encode(hdr, seq, 0);
    if ((e = write_all(fd, hdr, sizeof hdr)) != 0 || (fdatasync(fd) != 0 && (e = errno)) ||
        (fsync(w->dirfd) != 0 && (e = errno))) {
        snprintf(err, errlen, "cannot write %s/%s: %s", w->path, name, strerror(e));
        close(fd);
        unlinkat(w->dirfd, name, 0);
        return e;
    }
    *fd_out = fd;
    return 0;
}

/* Closes the current segment (fsynced) and starts the next one. Leader only. */
static int seg_rotate(tsdb_wal *w, char *err, size_t errlen)
{
    int fd, e;

    if (fdatasync(w->fd) != 0) {
        e = errno;
        snprintf(err, errlen, "cannot fsync %s/%016" PRIx64 ".log: %s", w->path, w->seg_seq,
                 strerror(e));
        return e;
    }
    if ((e = seg_create(w, w->seg_seq + 1, &fd, err, errlen)) != 0)
        return e;
    if (segs_push(w, w->seg_seq + 1) != DISCO_OK) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return ENOMEM;
    }
    close(w->fd);
    w->fd = fd;
    w->old_bytes += w->seg_bytes;
    w->seg_seq++;
    w->seg_bytes = SEG_HDR;
    return 0;
}

static int seg_append(tsdb_wal *w, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    int e;

    if (w->seg_bytes > SEG_HDR && w->seg_bytes + len > SEG_MAX &&
        (e = seg_rotate(w, err, errlen)) != 0)
        return e;
    if ((e = write_all(w->fd, p, len)) != 0) {
        snprintf(err, errlen, "cannot write %s/%016" PRIx64 ".log: %s", w->path, w->seg_seq,
                 strerror(e));
        return e;
    }
    w->seg_bytes += len;
    return 0;
}

/* ---- appending and group commit ----------------------------------------------------- */

int disco__wal_usable(tsdb_wal *w, disco_status *st)
{
    int rc = DISCO_OK;

    pthread_mutex_lock(&w->mu);
    if (w->failed)
        rc = disco_status_set(st, DISCO_ERR_IO, "wal",
                              "tsdb log %s failed earlier (%s): reopen the store", w->path,
                              w->failed_msg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int disco__wal_begin(tsdb_wal *w, size_t len, uint8_t **out, disco_status *st)
{
    int rc;

    pthread_mutex_lock(&w->mu);
    if (w->failed)
        rc = disco_status_set(st, DISCO_ERR_IO, "wal",
                              "tsdb log %s failed earlier (%s): reopen the store", w->path,
                              w->failed_msg);
    else if (len + 1 >= REC_MAX)
        rc = disco_status_set(st, DISCO_ERR_LIMIT, "wal",
                              "tsdb log record of %zu bytes is too large", len);
    else if (disco__tsdb_buf_reserve(&w->pend, REC_HDR + len) != DISCO_OK)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL,
                              "out of memory for a log record of %zu bytes", len);
    else {
        *out = w->pend.p + w->pend.len + REC_HDR;
        return DISCO_OK;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

static void record_seal(uint8_t *h, uint8_t type, size_t len)
{
    uint32_t crc;

    tsdb_put32(h, (uint32_t)(len + 1));
    h[8] = type;
    crc = disco_crc32c(disco_crc32c(0, h, 4), h + 8, len + 1);
    tsdb_put32(h + 4, crc);
}

uint64_t disco__wal_end(tsdb_wal *w, uint8_t type, size_t len)
{
    uint64_t lsn;

    record_seal(w->pend.p + w->pend.len, type, len);
    w->pend.len += REC_HDR + len;
    w->lsn_appended += REC_HDR + len;
    lsn = w->lsn_appended;
    pthread_mutex_unlock(&w->mu);
    return lsn;
}

uint64_t disco__wal_appended(tsdb_wal *w)
{
    uint64_t lsn;

    pthread_mutex_lock(&w->mu);
    lsn = w->lsn_appended;
    pthread_mutex_unlock(&w->mu);
    return lsn;
}

/* Writes what is pending (and fsyncs when `sync`); mu held on entry and exit. */
static void lead(tsdb_wal *w, int sync)
{
    tsdb_buf b = w->pend;
    uint64_t target = w->lsn_appended;
    char err[256] = "";
    int e = 0;

    w->pend = w->spare;
    w->pend.len = 0;
    w->busy = 1;
    pthread_mutex_unlock(&w->mu);
    if (b.len)
        e = seg_append(w, b.p, b.len, err, sizeof err);
    if (e == 0 && sync && fdatasync(w->fd) != 0) {
        e = errno;
        snprintf(err, sizeof err, "cannot fsync %s/%016" PRIx64 ".log: %s", w->path, w->seg_seq,
                 strerror(e));
    }
    pthread_mutex_lock(&w->mu);
    b.len = 0;
    w->spare = b;
    if (e != 0) {
        w->failed = 1;
        snprintf(w->failed_msg, sizeof w->failed_msg, "%s", err);
    } else {
        w->lsn_written = target;
        if (sync)
            w->lsn_synced = target;
    }
    w->busy = 0;
    pthread_cond_broadcast(&w->cv);
}

int disco__wal_commit(tsdb_wal *w, uint64_t lsn, int force_sync, disco_status *st)
{
    int sync = force_sync || w->policy == DISCO_TSDB_FSYNC_ALWAYS, rc = DISCO_OK;

    pthread_mutex_lock(&w->mu);
    while (!w->failed && (w->lsn_written < lsn || (sync && w->lsn_synced < lsn))) {
        if (w->busy)
            pthread_cond_wait(&w->cv, &w->mu);
        else
            lead(w, sync);
    }
    if (w->failed)
        rc = disco_status_set(st, DISCO_ERR_IO, "wal", "tsdb log %s: %s", w->path, w->failed_msg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* With FSYNC_INTERVAL: fsyncs what was written, at most once per interval. */
static void *syncer_main(void *arg)
{
    tsdb_wal *w = arg;
    struct timespec due;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        clock_gettime(CLOCK_REALTIME, &due);
        due.tv_sec += w->interval_ms / 1000;
        due.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
        if (due.tv_nsec >= 1000000000L) {
            due.tv_sec++;
            due.tv_nsec -= 1000000000L;
        }
        while (!w->stop && pthread_cond_timedwait(&w->stop_cv, &w->mu, &due) != ETIMEDOUT)
            ;
        while (!w->stop && w->busy)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->stop && !w->failed && w->lsn_synced < w->lsn_written)
            lead(w, 1);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- replay -------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Lists segment numbers (ascending) and removes checkpoint leftovers. */
static int seg_list(tsdb_wal *w, disco_status *st)
{
    int fd = dup(w->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!d) {
        if (fd >= 0)
            close(fd);
        return disco_status_errno(st, errno, "wal", "tsdb: cannot list %s", w->path);
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        char *end;
        uint64_t seq = strtoull(e->d_name, &end, 16);
        if (strlen(e->d_name) == 20 && end == e->d_name + 16 && strcmp(end, ".tmp") == 0)
            unlinkat(w->dirfd, e->d_name, 0);
        else if (strlen(e->d_name) == 20 && end == e->d_name + 16 && strcmp(end, ".log") == 0 &&
                 segs_push(w, seq) != DISCO_OK) {
            closedir(d);
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        }
    }
    closedir(d);
    if (w->n_segs)
        qsort(w->segs, w->n_segs, sizeof *w->segs, cmp_u64);
    return DISCO_OK;
}

static void seg_drop(tsdb_wal *w, size_t i)
{
    char name[NAME_MAX_LEN];

    seg_name(w->segs[i], "log", name);
    unlinkat(w->dirfd, name, 0);
    memmove(w->segs + i, w->segs + i + 1, (w->n_segs - i - 1) * sizeof *w->segs);
    w->n_segs--;
}

/* Reads segment headers; a last segment cut short at its creation is removed. */
/* Reads the header of segment i: 0 good, 1 bad but nothing after it, 2 bad;
 * a negative error when the file cannot be read. */
static int seg_header(tsdb_wal *w, size_t i, uint16_t *flags, disco_status *st)
{
    char name[NAME_MAX_LEN];
    uint8_t hdr[24];
    struct stat sb;
    ssize_t got;
    int fd;

    seg_name(w->segs[i], "log", name);
    fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        int rc = disco_status_errno(st, errno, "wal", "tsdb: cannot open %s/%s", w->path, name);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    got = pread(fd, hdr, sizeof hdr, 0);
    close(fd);
    if (got == (ssize_t)sizeof hdr && header_decode(hdr, w->segs[i], flags) == 0)
        return 0;
    return (uint64_t)sb.st_size <= SEG_HDR ? 1 : 2;
}

/* Reads segment headers; a last segment cut short at its creation is removed. */
static int seg_headers(tsdb_wal *w, int *ckpt, disco_status *st)
{
    *ckpt = -1;
    for (size_t i = 0; i < w->n_segs; i++) {
        char name[NAME_MAX_LEN];
        uint16_t flags = 0;
        int r = seg_header(w, i, &flags, st);

        if (r < 0)
            return r;
        seg_name(w->segs[i], "log", name);
        if (r == 0) {
            if (flags & SEG_FLAG_CHECKPOINT)
                *ckpt = (int)i;
            continue;
        }
        if (r == 2 || i + 1 < w->n_segs)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                                    "tsdb log %s/%s: bad segment header at offset 0", w->path,
                                    name);
        DISCO_LOG_WARN("tsdb log %s/%s: segment cut short at creation; removed", w->path, name);
        seg_drop(w, i--);
    }
    return DISCO_OK;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* A bad record is a torn tail when it runs past the end of the file or
 * nothing but zeros follows it (a write that did not finish). */
static int torn_tail(const uint8_t *map, size_t size, size_t off)
{
    uint32_t len;

    if (size - off < 8)
        return 1;
    len = tsdb_get32(map + off);
    if (len == 0)
        return all_zero(map + off, size - off);
    if ((uint64_t)len > size - off - 8)
        return 1;
    return all_zero(map + off + 8 + len, size - off - 8 - len);
}

/* Length of the record at `off` when it is whole and its checksum holds; 0 otherwise. */
static size_t record_at(const uint8_t *map, size_t size, size_t off)
{
    uint32_t len, crc;

    if (size - off < REC_HDR)
        return 0;
    len = tsdb_get32(map + off);
    if (len == 0 || len >= REC_MAX || (uint64_t)len > size - off - 8)
        return 0;
    crc = disco_crc32c(disco_crc32c(0, map + off, 4), map + off + 8, len);
    return crc == tsdb_get32(map + off + 4) ? len : 0;
}

typedef struct replay_ctx {
    tsdb_wal *w;
    tsdb_wal_fn fn;
    void *user;
    int last;
    const char *name;
    uint64_t size; /* after any repair */
} replay_ctx;

static int replay_records(replay_ctx *rc, int fd, const uint8_t *map, size_t size, disco_status *st)
{
    size_t off = SEG_HDR, len;
    int r;

    while (off < size) {
        if ((len = record_at(map, size, off)) != 0) {
            if ((r = rc->fn(rc->user, map[off + 8], map + off + REC_HDR, len - 1, rc->name, off,
                            st)) != DISCO_OK)
                return r;
            off += 8 + len;
            continue;
        }
        if (!rc->last || !torn_tail(map, size, off))
            return disco_status_set(st, DISCO_ERR_CORRUPT, "wal",
                                    "tsdb log %s/%s: damaged record at offset %zu (checksum or "
                                    "length wrong, more data follows)",
                                    rc->w->path, rc->name, off);
        DISCO_LOG_WARN("tsdb log %s/%s: torn record at offset %zu (%zu bytes) cut off", rc->w->path,
                       rc->name, off, size - off);
        if (ftruncate(fd, (off_t)off) != 0 || fdatasync(fd) != 0)
            return disco_status_errno(st, errno, "wal",
                                      "tsdb log %s/%s: cannot cut off the torn "
                                      "tail",
                                      rc->w->path, rc->name);
        break;
    }
    rc->size = off < size ? off : size;
    return DISCO_OK;
}

static int replay_segment(replay_ctx *rc, uint64_t seq, disco_status *st)
{
    char name[NAME_MAX_LEN];
    struct stat sb;
    uint8_t *map;
    int fd, r;

    seg_name(seq, "log", name);
    rc->name = name;
    fd = openat(rc->w->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        r = disco_status_errno(st, errno, "wal", "tsdb: cannot open %s/%s", rc->w->path, name);
        if (fd >= 0)
            close(fd);
        return r;
    }
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        r = disco_status_errno(st, errno, "wal", "tsdb: cannot map %s/%s", rc->w->path, name);
        close(fd);
        return r;
    }
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    r = replay_records(rc, fd, map, (size_t)sb.st_size, st);
    munmap(map, (size_t)sb.st_size);
    close(fd);
    return r;
}

/* Appends go to the last segment (after any repair), or to a new first one. */
static int start_segment(tsdb_wal *w, uint64_t last_size, disco_status *st)
{
    char name[NAME_MAX_LEN], err[256];
    int e;

    if (w->n_segs) {
        w->seg_seq = w->segs[w->n_segs - 1];
        seg_name(w->seg_seq, "log", name);
        w->fd = openat(w->dirfd, name, O_WRONLY | O_CLOEXEC);
        if (w->fd < 0 || lseek(w->fd, (off_t)last_size, SEEK_SET) < 0)
            return disco_status_errno(st, errno, "wal", "tsdb: cannot open %s/%s", w->path, name);
        w->seg_bytes = last_size;
        w->old_bytes -= last_size;
    } else {
        if ((e = seg_create(w, 1, &w->fd, err, sizeof err)) != 0)
            return disco_status_errno(st, e, "wal", "tsdb log: %s", err);
        if (segs_push(w, 1) != DISCO_OK)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        w->seg_seq = 1;
        w->seg_bytes = SEG_HDR;
    }
    if (w->policy == DISCO_TSDB_FSYNC_INTERVAL) {
        if (pthread_create(&w->syncer, NULL, syncer_main, w) != 0)
            return disco_status_set(st, DISCO_ERR_INTERNAL, "wal", "tsdb: cannot start a thread");
        w->syncer_running = 1;
    }
    return DISCO_OK;
}

int disco__wal_replay(tsdb_wal *w, tsdb_wal_fn fn, void *user, disco_status *st)
{
    replay_ctx rc = {.w = w, .fn = fn, .user = user};
    int ckpt, r;

    if ((r = seg_list(w, st)) != DISCO_OK || (r = seg_headers(w, &ckpt, st)) != DISCO_OK)
        return r;
    for (; ckpt > 0; ckpt--)
        seg_drop(w, 0);
    if (fsync(w->dirfd) != 0)
        return disco_status_errno(st, errno, "wal", "tsdb: cannot fsync %s", w->path);
    for (size_t i = 0; i < w->n_segs; i++) {
        rc.last = i + 1 == w->n_segs;
        if ((r = replay_segment(&rc, w->segs[i], st)) != DISCO_OK)
            return r;
        w->old_bytes += rc.size;
    }
    return start_segment(w, rc.size, st);
}

/* ---- checkpoints ------------------------------------------------------------------------- */

static int ckpt_flush(tsdb_ckpt *c, disco_status *st)
{
    int e = write_all(c->fd, c->buf.p, c->buf.len);

    if (e != 0)
        return disco_status_errno(st, e, "wal", "tsdb: cannot write a checkpoint in %s",
                                  c->w->path);
    c->bytes += c->buf.len;
    c->buf.len = 0;
    return DISCO_OK;
}

int disco__wal_ckpt_put(tsdb_ckpt *c, uint8_t type, const uint8_t *p, size_t len, disco_status *st)
{
    if (len + 1 >= REC_MAX || disco__tsdb_buf_reserve(&c->buf, REC_HDR + len) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory for a checkpoint");
    memcpy(c->buf.p + c->buf.len + REC_HDR, p, len);
    record_seal(c->buf.p + c->buf.len, type, len);
    c->buf.len += REC_HDR + len;
    return c->buf.len >= CKPT_FLUSH ? ckpt_flush(c, st) : DISCO_OK;
}

/* Writes <seq>.tmp with the records of `fn`, fsynced, and renames it <seq>.log. */
static int ckpt_write(tsdb_ckpt *c, uint64_t seq, tsdb_ckpt_fn fn, void *user, disco_status *st)
{
    char tmp[NAME_MAX_LEN], name[NAME_MAX_LEN];
    int rc;

    seg_name(seq, "tmp", tmp);
    seg_name(seq, "log", name);
    c->fd = openat(c->w->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (c->fd < 0)
        return disco_status_errno(st, errno, "wal", "tsdb: cannot create %s/%s", c->w->path, tmp);
    if ((rc = disco__tsdb_buf_reserve(&c->buf, SEG_HDR)) != DISCO_OK)
        return disco_status_set(st, rc, NULL, "out of memory");
    header_encode(c->buf.p, seq, SEG_FLAG_CHECKPOINT);
    c->buf.len = SEG_HDR;
    if ((rc = fn(user, c, st)) != DISCO_OK || (rc = ckpt_flush(c, st)) != DISCO_OK)
        return rc;
    if (fdatasync(c->fd) != 0 || renameat(c->w->dirfd, tmp, c->w->dirfd, name) != 0 ||
        fsync(c->w->dirfd) != 0)
        return disco_status_errno(st, errno, "wal", "tsdb: cannot commit checkpoint %s/%s",
                                  c->w->path, name);
    return DISCO_OK;
}

static void wait_idle_and_hold(tsdb_wal *w)
{
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    w->busy = 1;
    pthread_mutex_unlock(&w->mu);
}

static void release_hold(tsdb_wal *w)
{
    pthread_mutex_lock(&w->mu);
    w->busy = 0;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int disco__wal_checkpoint(tsdb_wal *w, tsdb_ckpt_fn fn, void *user, disco_status *st)
{
    tsdb_ckpt c = {.w = w, .fd = -1};
    char tmp[NAME_MAX_LEN];
    uint64_t seq;
    int rc = disco__wal_commit(w, disco__wal_appended(w), 1, st);

    if (rc != DISCO_OK)
        return rc;
    wait_idle_and_hold(w);
    seq = w->seg_seq + 1;
    rc = ckpt_write(&c, seq, fn, user, st);
    if (rc == DISCO_OK)
        rc = segs_push(w, seq) == DISCO_OK
                 ? DISCO_OK
                 : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "no memory");
    if (rc != DISCO_OK) {
        seg_name(seq, "tmp", tmp);
        if (c.fd >= 0)
            close(c.fd);
        unlinkat(w->dirfd, tmp, 0);
        disco__tsdb_buf_free(&c.buf);
        release_hold(w);
        return rc;
    }
    close(w->fd);
    w->fd = c.fd;
    w->seg_seq = seq;
    w->seg_bytes = c.bytes;
    w->old_bytes = 0;
    while (w->n_segs > 1)
        seg_drop(w, 0);
    fsync(w->dirfd);
    disco__tsdb_buf_free(&c.buf);
    release_hold(w);
    return DISCO_OK;
}

uint64_t disco__wal_bytes(tsdb_wal *w)
{
    uint64_t n;

    wait_idle_and_hold(w);
    n = w->old_bytes + w->seg_bytes;
    release_hold(w);
    return n;
}

void disco__wal_close(tsdb_wal *w)
{
    if (!w->opened)
        return;
    if (w->fd >= 0 && !w->failed)
        disco__wal_commit(w, disco__wal_appended(w), w->policy != DISCO_TSDB_FSYNC_NEVER, NULL);
    if (w->syncer_running) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->stop_cv);
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->syncer, NULL);
    }
    if (w->fd >= 0)
        close(w->fd);
    if (w->dirfd >= 0)
        close(w->dirfd);
    disco__tsdb_buf_free(&w->pend);
    disco__tsdb_buf_free(&w->spare);
    free(w->segs);
    free(w->path);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->stop_cv);
    memset(w, 0, sizeof *w);
    w->fd = w->dirfd = -1;
}
