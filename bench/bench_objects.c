/*
 * bench_objects.c - throughput of object-store puts and gets against cp.
 *
 * Makes one file of random-looking bytes (BENCH_OBJECTS_MB MiB, from argv[1]
 * or the environment, default 1024) in a temporary folder, then times in the
 * same run: cp, cp + sync, a put of a new object, the same put again
 * (deduplicated), a get to a file, and cp of the stored object back out.
 * Each figure is the best of BENCH_OBJECTS_REPS rounds (default 5). The page
 * cache is warm (the input was just written) and dirty pages are flushed,
 * untimed, before each step. Puts and gets fsync; plain cp does not, so
 * "cp + sync" is the like-for-like baseline.
 *
 * Then, where writing "3" to /proc/sys/vm/drop_caches works (root, a
 * writable /proc/sys), a cold round times cp, cp + sync, a put of a new
 * object and a get to a file with the page cache emptied, untimed, before
 * each step: the best of BENCH_OBJECTS_COLD_REPS rounds (default 3). Where
 * it does not, one line says why the cold round was skipped. Everything is
 * removed at the end.
 */
#include "disco/objects.h"
#include "disco/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

#define DROP_CACHES "/proc/sys/vm/drop_caches"

enum {
    /* warm round */
    B_CP,
    B_CP_SYNC,
    B_PUT,
    B_PUT_DEDUP,
    B_GET,
    B_CP_BACK,
    B_CP_BACK_SYNC,
    /* cold round */
    B_COLD_CP,
    B_COLD_CP_SYNC,
    B_COLD_PUT,
    B_COLD_GET,
    B_COUNT
};

static const char *const names[B_COUNT] = {
    [B_CP] = "cp",
    [B_CP_SYNC] = "cp + sync",
    [B_PUT] = "put (new object)",
    [B_PUT_DEDUP] = "put (deduplicated)",
    [B_GET] = "get to a file",
    [B_CP_BACK] = "cp back",
    [B_CP_BACK_SYNC] = "cp back + sync",
    [B_COLD_CP] = "cp",
    [B_COLD_CP_SYNC] = "cp + sync",
    [B_COLD_PUT] = "put (new object)",
    [B_COLD_GET] = "get to a file",
};

typedef struct bench {
    char dir[256];
    char src[300];
    char obj[400];
    char out[300];
    size_t mib;
    disco_objects *os;
    char hash[DISCO_SHA256_HEX_LEN + 1];
    double best[B_COUNT]; /* seconds */
    double sha_mbs;       /* SHA-256 over memory: the ceiling of a put */
    int cold;             /* empty the page cache before each step */
} bench;

static size_t size_arg(int argc, char **argv)
{
    const char *s = argc > 1 ? argv[1] : getenv("BENCH_OBJECTS_MB");
    long v = s ? strtol(s, NULL, 10) : 1024;

    return v > 0 ? (size_t)v : 1024;
}

static int reps_arg(const char *name, int def)
{
    const char *s = getenv(name);
    int v = s ? atoi(s) : def;

    return v > 0 ? v : def;
}

static double now_s(void)
{
    return (double)disco_time_mono_ns() / 1e9;
}

static int make_input(const bench *b)
{
    unsigned char *buf = malloc(MiB);
    FILE *f = fopen(b->src, "wb");
    uint64_t x = 0x2545F4914F6CDD1Dull;
    int rc = 0;

    for (size_t m = 0; buf && f && m < b->mib && rc == 0; m++) {
        for (size_t i = 0; i < MiB; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (unsigned char)(x >> 24);
        }
        rc = fwrite(buf, 1, MiB, f) == MiB ? 0 : -1;
    }
    if (!buf || !f || fclose(f) != 0)
        rc = -1;
    free(buf);
    sync();
    return rc;
}

/* SHA-256 throughput over a buffer in memory, in MB/s. */
static double sha_rate(void)
{
    size_t n = 64 * MiB;
    unsigned char *buf = calloc(1, n);
    uint8_t digest[DISCO_SHA256_LEN];
    disco_sha256 h;
    double t0;

    if (!buf || disco_sha256_init(&h) != DISCO_OK) {
        free(buf);
        return 0;
    }
    t0 = now_s();
    for (int i = 0; i < 4; i++)
        disco_sha256_update(&h, buf, n);
    disco_sha256_final(&h, digest);
    t0 = now_s() - t0;
    free(buf);
    return 4.0 * (double)n / 1e6 / t0;
}

static void record(bench *b, int which, double t0)
{
    double t = now_s() - t0;

    if (b->best[which] == 0 || t < b->best[which])
        b->best[which] = t;
}

/* Empties the page cache (after sync). Returns 0 or an errno value. */
static int drop_caches(void)
{
    int fd = open(DROP_CACHES, O_WRONLY | O_CLOEXEC);
    ssize_t w;
    int e = 0;

    if (fd < 0)
        return errno;
    w = write(fd, "3", 1);
    if (w != 1)
        e = w < 0 ? errno : EIO;
    if (close(fd) != 0 && e == 0)
        e = errno;
    return e;
}

/* Flushes dirty pages and, in the cold round, empties the page cache. */
static int settle(const bench *b)
{
    int e;

    sync();
    if (!b->cold)
        return 0;
    e = drop_caches();
    if (e != 0)
        fprintf(stderr, "bench_objects: cannot write '%s': %s\n", DROP_CACHES, strerror(e));
    return e;
}

/* Times a shell command; removes `made` afterwards (untimed). */
static int time_shell(bench *b, int which, const char *cmd, const char *made)
{
    double t0;
    int rc;

    if (settle(b) != 0)
        return -1;
    t0 = now_s();
    rc = system(cmd);
    record(b, which, t0);
    unlink(made);
    return rc == 0 ? 0 : -1;
}

static int time_cp(bench *b, int which, const char *from, int with_sync)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd, "cp '%s' '%s'%s%s%s", from, b->out, with_sync ? " && sync '" : "",
             with_sync ? b->out : "", with_sync ? "'" : "");
    return time_shell(b, which, cmd, b->out);
}

static int time_ours(bench *b)
{
    disco_object_info info;
    disco_status st = {0};
    double t0;
    int rc;

    disco_objects_remove(b->os, b->hash, NULL);
    sync();
    t0 = now_s();
    rc = disco_objects_put_file(b->os, b->src, NULL, &info, NULL, &st);
    record(b, B_PUT, t0);
    snprintf(b->hash, sizeof b->hash, "%s", info.hash);
    t0 = now_s();
    rc = rc ? rc : disco_objects_put_file(b->os, b->src, NULL, &info, NULL, &st);
    record(b, B_PUT_DEDUP, t0);
    sync();
    t0 = now_s();
    rc = rc ? rc : disco_objects_get_file(b->os, b->hash, b->out, NULL, &st);
    record(b, B_GET, t0);
    unlink(b->out);
    if (rc != DISCO_OK)
        fprintf(stderr, "bench_objects: %s\n", disco_status_message(&st));
    return rc;
}

/* A put of a new object and a get to a file, each from an empty page cache. */
static int time_ours_cold(bench *b)
{
    disco_object_info info;
    disco_status st = {0};
    double t0;
    int rc;

    disco_objects_remove(b->os, b->hash, NULL);
    if (settle(b) != 0)
        return -1;
    t0 = now_s();
    rc = disco_objects_put_file(b->os, b->src, NULL, &info, NULL, &st);
    record(b, B_COLD_PUT, t0);
    if (rc == DISCO_OK)
        snprintf(b->hash, sizeof b->hash, "%s", info.hash);
    if (rc == DISCO_OK && settle(b) != 0)
        return -1;
    t0 = now_s();
    rc = rc ? rc : disco_objects_get_file(b->os, b->hash, b->out, NULL, &st);
    record(b, B_COLD_GET, t0);
    unlink(b->out);
    if (rc != DISCO_OK)
        fprintf(stderr, "bench_objects: %s\n", disco_status_message(&st));
    return rc;
}

static int run_cold_round(bench *b)
{
    if (time_cp(b, B_COLD_CP, b->src, 0) || time_cp(b, B_COLD_CP_SYNC, b->src, 1))
        return -1;
    return time_ours_cold(b);
}

static int run_round(bench *b)
{
    if (time_cp(b, B_CP, b->src, 0) || time_cp(b, B_CP_SYNC, b->src, 1) || time_ours(b))
        return -1;
    snprintf(b->obj, sizeof b->obj, "%s/objects/%.2s/%s", b->dir, b->hash, b->hash + 2);
    return time_cp(b, B_CP_BACK, b->obj, 0) || time_cp(b, B_CP_BACK_SYNC, b->obj, 1);
}

static void report(const bench *b, int reps)
{
    double mb = (double)b->mib * (double)MiB / 1e6;
    double r[B_COUNT];

    printf("bench_objects: %zu MiB, best of %d, %ld CPUs, warm page cache (input just "
           "written; dirty pages flushed before each step)\n",
           b->mib, reps, sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = B_CP; i < B_COLD_CP; i++) {
        r[i] = mb / b->best[i];
        printf("  %-20s %8.1f MB/s  (%.3f s)\n", names[i], r[i], b->best[i]);
    }
    printf("  %-20s %8.1f MB/s  (in memory: no put can be faster)\n", "sha256", b->sha_mbs);
    printf("  ratio put/cp          %.2f\n", r[B_PUT] / r[B_CP]);
    printf("  ratio put/cp+sync     %.2f\n", r[B_PUT] / r[B_CP_SYNC]);
    printf("  ratio dedup put/cp    %.2f\n", r[B_PUT_DEDUP] / r[B_CP]);
    printf("  ratio get/cp back     %.2f\n", r[B_GET] / r[B_CP_BACK]);
    printf("  ratio get/cp back+sync %.2f\n", r[B_GET] / r[B_CP_BACK_SYNC]);
    printf("  (put and get fsync their output; plain cp does not)\n");
}

static void report_cold(const bench *b, int reps)
{
    double mb = (double)b->mib * (double)MiB / 1e6;
    double r[B_COUNT];

    printf("bench_objects: %zu MiB, best of %d, cold page cache (caches dropped before each "
           "step)\n",
           b->mib, reps);
    for (int i = B_COLD_CP; i < B_COUNT; i++) {
        r[i] = mb / b->best[i];
        printf("  %-20s %8.1f MB/s  (%.3f s)\n", names[i], r[i], b->best[i]);
    }
    printf("  ratio put/cp cold       %.2f\n", r[B_COLD_PUT] / r[B_COLD_CP]);
    printf("  ratio put/cp+sync cold  %.2f\n", r[B_COLD_PUT] / r[B_COLD_CP_SYNC]);
    printf("  ratio get/cp cold       %.2f\n", r[B_COLD_GET] / r[B_COLD_CP]);
    printf("  ratio get/cp+sync cold  %.2f\n", r[B_COLD_GET] / r[B_COLD_CP_SYNC]);
    printf("  (cp reads the input, get the stored object: both from disk; put and get fsync)\n");
}

/* The cold round where the page cache can be emptied; else says why not. */
static int run_cold(bench *b)
{
    int reps = reps_arg("BENCH_OBJECTS_COLD_REPS", 3), rc = 0;
    int e;

    sync();
    e = drop_caches();
    if (e != 0) {
        printf("bench_objects: cold round skipped: cannot write '3' to %s: %s\n", DROP_CACHES,
               strerror(e));
        return 0;
    }
    b->cold = 1;
    for (int i = 0; i < reps && rc == 0; i++)
        rc = run_cold_round(b) != 0;
    b->cold = 0;
    if (rc == 0)
        report_cold(b, reps);
    return rc;
}

static int setup(bench *b, size_t mib)
{
    const char *tmp = getenv("TMPDIR");
    char store[300];

    memset(b, 0, sizeof *b);
    b->mib = mib;
    snprintf(b->dir, sizeof b->dir, "%s/bench-objects-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(b->dir))
        return -1;
    snprintf(b->src, sizeof b->src, "%s/input.bin", b->dir);
    snprintf(b->out, sizeof b->out, "%s/output.bin", b->dir);
    snprintf(store, sizeof store, "%s/objects", b->dir);
    if (make_input(b) != 0)
        return -1;
    b->sha_mbs = sha_rate();
    return disco_objects_open(store, &b->os, NULL);
}

int main(int argc, char **argv)
{
    static bench b;
    char cmd[300];
    int reps = reps_arg("BENCH_OBJECTS_REPS", 5), rc = 0;

    if (setup(&b, size_arg(argc, argv)) != 0) {
        fprintf(stderr, "bench_objects: cannot set up in '%s'\n", b.dir);
        rc = 1;
    }
    for (int i = 0; i < reps && rc == 0; i++)
        rc = run_round(&b) != 0;
    if (rc == 0)
        report(&b, reps);
    fflush(stdout);
    if (rc == 0)
        rc = run_cold(&b);
    disco_objects_close(b.os);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
    if (b.dir[0] && system(cmd) != 0)
        rc = 1;
    return rc;
}
