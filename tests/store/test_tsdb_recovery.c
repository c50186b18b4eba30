/*
 * test_tsdb_recovery.c - the time-series store after damage and
 * interruptions: corrupt chunk files and series.idx, torn and damaged log
 * segments, a delete interrupted before its chunk files were rewritten,
 * leftovers of interrupted flushes, deleted series written again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/log.h"
#include "disco/tsdb.h"
#include "support/testutil.h"
#include "test_tsdb_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
    char *dir;
    disco_tsdb_config cfg;
    disco_tsdb *db;
    tt_got got;
} fixture;

/* WARN messages seen, for the torn-tail checks. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_seen[4096];

static void capture(void *user, disco_log_level level, const char *msg)
{
    (void)user;
    if (level > DISCO_LOG_WARN)
        return;
    pthread_mutex_lock(&log_mu);
    strncat(log_seen, msg, sizeof log_seen - strlen(log_seen) - 2);
    strcat(log_seen, "\n");
    pthread_mutex_unlock(&log_mu);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    f->dir = tu_tmpdir("tsdb-rec");
    f->cfg = disco_tsdb_config_default();
    f->cfg.fsync = DISCO_TSDB_FSYNC_NEVER;
    log_seen[0] = '\0';
    disco_log_set_handler(capture, NULL);
    *state = f;
    return f->dir ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    disco_log_set_handler(NULL, NULL);
    disco_tsdb_close(f->db);
    tt_got_free(&f->got);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static int try_open(fixture *f, disco_status *st)
{
    disco_tsdb_close(f->db);
    f->db = NULL;
    return disco_tsdb_open(f->dir, &f->cfg, &f->db, st);
}

static void open_db(fixture *f)
{
    disco_status st = {0};

    if (try_open(f, &st) != DISCO_OK)
        fail_msg("open: %s", st.msg);
}

static void close_db(fixture *f)
{
    disco_tsdb_close(f->db);
    f->db = NULL;
}

static void put_n(fixture *f, const char *tags, int64_t a, int64_t b)
{
    disco_ts_batch batch;
    disco_status st = {0};

    assert_int_equal(disco_ts_batch_init(&batch), DISCO_OK);
    for (int64_t i = a; i < b; i++)
        tt_add(&batch, "m", tags, i * 10, (double)i / 4);
    if (disco_tsdb_write(f->db, &batch, NULL, &st) != DISCO_OK)
        fail_msg("write: %s", st.msg);
    disco_ts_batch_release(&batch);
}

/* Checks that m{tags} holds exactly points a..b-1 as put_n wrote them. */
static void check_n(fixture *f, const char *matchers, int64_t a, int64_t b)
{
    tt_read(f->db, "m", matchers, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, (size_t)(b - a));
    for (int64_t i = a; i < b; i++) {
        assert_int_equal(f->got.ts[i - a], i * 10);
        assert_true(f->got.v[i - a] == (double)i / 4);
    }
}

/* Path of the last file in dir/sub with the extension (by name), malloc'd. */
static char *last_file(fixture *f, const char *sub, const char *ext)
{
    char *d = tu_path(f->dir, sub), best[256] = "", *out;
    DIR *dh = opendir(d);
    struct dirent *e;

    assert_non_null(dh);
    while ((e = readdir(dh)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > strlen(ext) && strcmp(e->d_name + n - strlen(ext), ext) == 0 &&
            strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(dh);
    assert_true(best[0] != '\0');
    out = tu_path(d, best);
    free(d);
    return out;
}

static size_t count_files(fixture *f, const char *sub, const char *ext)
{
    char *d = tu_path(f->dir, sub);
    DIR *dh = opendir(d);
    struct dirent *e;
    size_t n = 0;

    while (dh && (e = readdir(dh)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > strlen(ext) && strcmp(e->d_name + len - strlen(ext), ext) == 0;
    }
    if (dh)
        closedir(dh);
    free(d);
    return n;
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    unsigned char c;
    struct stat sb;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    if (off < 0)
        off += (long)sb.st_size;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static long file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

/* ---- chunk files and series.idx ---------------------------------------------------------- */

static void test_corrupt_chunk_payload(void **state)
{
    fixture *f = *state;
    disco_ts_selector sel = {"m", NULL, 0, INT64_MIN, INT64_MAX};
    disco_status st = {0};
    char *path;

    open_db(f);
    put_n(f, NULL, 0, 1000);
    assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
    close_db(f);
    path = last_file(f, "chunks", ".dtc");
    flip_byte(path, 16 + 70); /* inside the first chunk's streams */
    open_db(f);               /* headers and index are fine */
    tt_got_free(&f->got);
    assert_int_equal(disco_tsdb_read(f->db, &sel, tt_collect, &f->got, &st), DISCO_ERR_CORRUPT);
    if (!strstr(st.msg, path))
        fail_msg("message '%s' does not name %s", st.msg, path);
    free(path);
}

static void test_corrupt_chunk_index(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    char *path;

    open_db(f);
    put_n(f, NULL, 0, 100);
    assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
    close_db(f);
    path = last_file(f, "chunks", ".dtc");
    flip_byte(path, -48 - 10); /* the index */
    assert_int_equal(try_open(f, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, path));
    assert_non_null(strstr(st.msg, "index"));
    flip_byte(path, -48 - 10);
    flip_byte(path, -3); /* the footer */
    assert_int_equal(try_open(f, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "footer"));
    flip_byte(path, -3);
    open_db(f);
    check_n(f, NULL, 0, 100);
    free(path);
}

static void test_corrupt_series_idx(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    char *path = tu_path(f->dir, "series.idx");

    open_db(f);
    put_n(f, "{\"a\":\"b\"}", 0, 10);
    assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
    close_db(f);
    flip_byte(path, 30);
    assert_int_equal(try_open(f, &st), DISCO_ERR_CORRUPT);
    assert_non_null(strstr(st.msg, "series.idx"));
    free(path);
}

/* ---- the log -------------------------------------------------------------------------------- */

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void test_torn_tail_appended(void **state)
{
    fixture *f = *state;
    unsigned char junk[30] = {0xe8, 0x03, 0, 0, 0x12, 0x34, 0x56, 0x78, 2, 1, 2, 3};
    char *seg;
    long size;

    open_db(f);
    put_n(f, NULL, 0, 50);
    put_n(f, NULL, 50, 100);
    close_db(f);
    seg = last_file(f, "wal", ".log");
    size = file_size(seg);
    append_bytes(seg, junk, sizeof junk); /* a record of 1000 bytes cut after 30 */
    open_db(f);
    assert_non_null(strstr(log_seen, "torn"));
    assert_int_equal(file_size(seg), size);
    check_n(f, NULL, 0, 100);
    put_n(f, NULL, 100, 120); /* the log goes on */
    open_db(f);
    check_n(f, NULL, 0, 120);
    free(seg);
}

static void test_torn_tail_cut(void **state)
{
    fixture *f = *state;
    char *seg;

    open_db(f);
    put_n(f, NULL, 0, 50);
    put_n(f, NULL, 50, 100);
    close_db(f);
    seg = last_file(f, "wal", ".log");
    assert_int_equal(truncate(seg, file_size(seg) - 7), 0); /* the second batch is torn */
    open_db(f);
    assert_non_null(strstr(log_seen, "torn"));
    check_n(f, NULL, 0, 50);
    free(seg);
}

static void test_torn_tail_zeros(void **state)
{
    fixture *f = *state;
    unsigned char zeros[4096] = {0};
    char *seg;

    open_db(f);
    put_n(f, NULL, 0, 50);
    close_db(f);
    seg = last_file(f, "wal", ".log");
    append_bytes(seg, zeros, sizeof zeros); /* space allocated, never written */
    open_db(f);
    assert_non_null(strstr(log_seen, "torn"));
    check_n(f, NULL, 0, 50);
    free(seg);
}

static void test_log_damage_in_the_middle(void **state)
{
    fixture *f = *state;
    disco_status st = {0};
    char *seg, *name;

    open_db(f);
    put_n(f, NULL, 0, 10);
    put_n(f, NULL, 10, 20);
    put_n(f, NULL, 20, 30);
    close_db(f);
    seg = last_file(f, "wal", ".log");
    flip_byte(seg, 24 + 40); /* inside the first record */
    assert_int_equal(try_open(f, &st), DISCO_ERR_CORRUPT);
    name = strrchr(seg, '/') + 1;
    if (!strstr(st.msg, name) || !strstr(st.msg, "offset 24"))
        fail_msg("message '%s' should name %s and offset 24", st.msg, name);
    free(seg);
}

static void test_empty_segment(void **state)
{
    fixture *f = *state;
    static const char zeros24[24];
    char *seg, *next;

    open_db(f);
    put_n(f, NULL, 0, 10);
    close_db(f);
    seg = last_file(f, "wal", ".log");
    next = strdup(seg);
    next[strlen(next) - 5]++; /* the following segment number, created but never written */
    assert_int_equal(tu_write_file(next, "", 0), 0);
    open_db(f);
    assert_non_null(strstr(log_seen, "cut short"));
    check_n(f, NULL, 0, 10);
    close_db(f);
    log_seen[0] = '\0';
    assert_int_equal(tu_write_file(next, zeros24, sizeof zeros24), 0); /* header never synced */
    open_db(f);
    assert_non_null(strstr(log_seen, "cut short"));
    check_n(f, NULL, 0, 10);
    free(seg);
    free(next);
}

static void test_interval_policy(void **state)
{
    fixture *f = *state;

    f->cfg.fsync = DISCO_TSDB_FSYNC_INTERVAL;
    f->cfg.fsync_interval_ms = 20;
    open_db(f);
    for (int i = 0; i < 10; i++) {
        put_n(f, NULL, i * 10, i * 10 + 10);
        usleep(5000);
    }
    open_db(f);
    check_n(f, NULL, 0, 100);
}

/* ---- interrupted operations ------------------------------------------------------------- */

static void test_delete_replayed(void **state)
{
    fixture *f = *state;
    disco_ts_selector sel = {"m", NULL, 0, 2000, 5000};
    uint64_t n = 0;
    size_t len;
    char *path, *old;

    f->cfg.chunk_points = 64;
    open_db(f);
    put_n(f, NULL, 0, 1000);
    assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
    path = last_file(f, "chunks", ".dtc");
    old = tu_read_file(path, &len);
    assert_int_equal(disco_tsdb_delete(f->db, &sel, &n, NULL), DISCO_OK);
    assert_int_equal(n, 300);
    close_db(f);
    /* as if the process died after logging the delete, before rewriting the file */
    assert_int_equal(tu_write_file(path, old, len), 0);
    open_db(f);
    tt_read(f->db, "m", NULL, INT64_MIN, INT64_MAX, &f->got);
    assert_int_equal(f->got.n, 700);
    for (size_t i = 0; i < f->got.n; i++)
        assert_true(f->got.ts[i] < 2000 || f->got.ts[i] >= 5000);
    assert_true(file_size(path) < (long)len);
    free(old);
    free(path);
}

static void test_leftovers_removed(void **state)
{
    fixture *f = *state;
    char *p;

    open_db(f);
    put_n(f, NULL, 0, 10);
    close_db(f);
    p = tu_path(f->dir, "chunks/00000000000000ff.tmp");
    assert_int_equal(tu_write_file(p, "x", 1), 0);
    free(p);
    p = tu_path(f->dir, "wal/00000000000000ff.tmp");
    assert_int_equal(tu_write_file(p, "x", 1), 0);
    free(p);
    p = tu_path(f->dir, "series.idx.tmp");
    assert_int_equal(tu_write_file(p, "x", 1), 0);
    open_db(f);
    assert_int_equal(count_files(f, "chunks", ".tmp"), 0);
    assert_int_equal(count_files(f, "wal", ".tmp"), 0);
    assert_int_not_equal(access(p, F_OK), 0);
    check_n(f, NULL, 0, 10);
    free(p);
}

static void test_checkpoint_trims_log(void **state)
{
    fixture *f = *state;
    json_t *o;

    open_db(f);
    for (int i = 0; i < 5; i++) {
        put_n(f, NULL, i * 1000, i * 1000 + 1000);
        open_db(f); /* appends go on in the last segment */
    }
    assert_int_equal(count_files(f, "wal", ".log"), 1);
    assert_int_equal(disco_tsdb_stats(f->db, &o, NULL), DISCO_OK);
    assert_true(json_integer_value(json_object_get(o, "wal_bytes")) > 5000 * 20);
    json_decref(o);
    assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
    assert_int_equal(count_files(f, "wal", ".log"), 1);
    assert_int_equal(disco_tsdb_stats(f->db, &o, NULL), DISCO_OK);
    assert_true(json_integer_value(json_object_get(o, "wal_bytes")) < 100);
    json_decref(o);
    open_db(f);
    check_n(f, NULL, 0, 5000);
}

static void test_deleted_series_written_again(void **state)
{
    fixture *f = *state;
    disco_ts_selector all = {"m", NULL, 0, INT64_MIN, INT64_MAX};

    for (int flushed = 0; flushed < 2; flushed++) {
        open_db(f);
        put_n(f, "{\"k\":\"1\"}", 0, 10);
        if (flushed)
            assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
        assert_int_equal(disco_tsdb_delete(f->db, &all, NULL, NULL), DISCO_OK);
        put_n(f, "{\"k\":\"1\"}", 20, 25); /* a new series under the same key */
        open_db(f);
        check_n(f, NULL, 20, 25);
        tt_read(f->db, NULL, NULL, INT64_MIN, INT64_MAX, &f->got);
        assert_int_equal(f->got.series, 1);
        assert_int_equal(disco_tsdb_flush(f->db, NULL), DISCO_OK);
        open_db(f);
        check_n(f, NULL, 20, 25);
        assert_int_equal(disco_tsdb_delete(f->db, &all, NULL, NULL), DISCO_OK);
        close_db(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_corrupt_chunk_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_chunk_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_series_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_zeros, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_damage_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftovers_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_trims_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_series_written_again, setup, teardown),
    };

    return cmocka_run_group_tests_name("store/tsdb_recovery", tests, NULL, NULL);
}
