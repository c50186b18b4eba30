/*
 * test_tsdb_crash.c - every acknowledged point survives kill -9.
 *
 * A child process opens the store (fsync ALWAYS, a small flush threshold
 * so flushes happen all the time) and writes batches in a loop, now and
 * then flushing everything or deleting the previous batch of one series.
 * After each call returns it reports it to the parent through a pipe. The
 * parent kills the child with SIGKILL at a random moment (during recovery,
 * a write, a flush or a delete), reopens the store and checks that it
 * opens cleanly, that every acknowledged batch is there with its values,
 * that no batch is there in part, and that acknowledged deletes held. The
 * same folder is used for every round, so each recovery runs over the
 * ones before.
 *
 *   batch k  =  series s in {0, 1, 2}  x  points ts = 4k + i, i in 0..3,
 *               value 1000k + 10s + i
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "disco/tsdb.h"
#include "support/testutil.h"
#include "test_tsdb_util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 30
#define SERIES 3
#define PER 4
#define MAX_BATCHES 200000

enum { MSG_WRITE = 1, MSG_DELETE_BEGIN = 2, MSG_DELETE = 3 };

typedef struct msg {
    int64_t type, k;
} msg;

/* What the parent knows about each batch number. */
typedef struct ledger {
    uint8_t acked[MAX_BATCHES];
    uint8_t del_acked[MAX_BATCHES];
    uint8_t del_tried[MAX_BATCHES];
} ledger;

/* The policy of the round being run: ALWAYS, or NEVER (which also survives kill -9). */
static disco_tsdb_fsync policy = DISCO_TSDB_FSYNC_ALWAYS;

static disco_tsdb_config crash_config(void)
{
    disco_tsdb_config c = disco_tsdb_config_default();

    c.fsync = policy;
    c.head_flush_points = 150;
    c.chunk_points = 32;
    c.ooo_window_ms = 20;
    return c;
}

static int write_batch(disco_tsdb *db, int64_t k)
{
    disco_ts_batch b;
    char tags[32];
    int rc;

    if (disco_ts_batch_init(&b) != DISCO_OK)
        return -1;
    for (int i = 0; i < PER; i++)
        for (int s = 0; s < SERIES; s++) {
            uint32_t idx;
            json_t *t;
            snprintf(tags, sizeof tags, "{\"s\":\"%d\"}", s);
            t = json_loads(tags, 0, NULL);
            disco_ts_batch_series(&b, "crash", t, &idx, NULL);
            json_decref(t);
            disco_ts_batch_add(&b, idx, 4 * k + i, 1000.0 * (double)k + 10.0 * s + i);
        }
    rc = disco_tsdb_write(db, &b, NULL, NULL);
    disco_ts_batch_release(&b);
    return rc;
}

static void say(int fd, int64_t type, int64_t k)
{
    msg m = {type, k};

    if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
        _exit(3);
}

static void child(const char *dir, int fd, int64_t start)
{
    disco_tsdb_config cfg = crash_config();
    disco_ts_matcher m[] = {{"s", DISCO_TS_EQ, "2", 0}};
    disco_tsdb *db;

    if (disco_tsdb_open(dir, &cfg, &db, NULL) != DISCO_OK)
        _exit(2);
    for (int64_t k = start; k < MAX_BATCHES; k++) {
        if (write_batch(db, k) != DISCO_OK)
            _exit(4);
        say(fd, MSG_WRITE, k);
        if (k % 23 == 0 && disco_tsdb_flush(db, NULL) != DISCO_OK)
            _exit(5);
        if (k % 17 == 0) {
            disco_ts_selector sel = {"crash", m, 1, 4 * (k - 1), 4 * k};
            say(fd, MSG_DELETE_BEGIN, k - 1);
            if (disco_tsdb_delete(db, &sel, NULL, NULL) != DISCO_OK)
                _exit(6);
            say(fd, MSG_DELETE, k - 1);
        }
    }
    _exit(0);
}

static void read_messages(int fd, ledger *l)
{
    msg m;

    while (read(fd, &m, sizeof m) == (ssize_t)sizeof m) {
        assert_true(m.k >= 0 && m.k < MAX_BATCHES);
        if (m.type == MSG_WRITE)
            l->acked[m.k] = 1;
        else if (m.type == MSG_DELETE_BEGIN)
            l->del_tried[m.k] = 1;
        else if (m.type == MSG_DELETE)
            l->del_acked[m.k] = 1;
    }
}

/* Points found per batch and series; checks values on the way. */
static void tally(disco_tsdb *db, uint8_t (*count)[SERIES], int64_t *newest)
{
    tt_got g = {0};

    for (int s = 0; s < SERIES; s++) {
        char sel[32];
        snprintf(sel, sizeof sel, "[\"s=%d\"]", s);
        tt_read(db, "crash", sel, INT64_MIN, INT64_MAX, &g);
        for (size_t i = 0; i < g.n; i++) {
            int64_t k = g.ts[i] / 4, j = g.ts[i] % 4;
            assert_true(k < MAX_BATCHES);
            if (g.v[i] != 1000.0 * (double)k + 10.0 * s + (double)j)
                fail_msg("series %d ts %lld holds %g", s, (long long)g.ts[i], g.v[i]);
            count[k][s]++;
            if (g.ts[i] > *newest)
                *newest = g.ts[i];
        }
    }
    tt_got_free(&g);
}

/* Batch k must be whole (in every series or none), acknowledged ones present. */
static void check_batch(const ledger *l, int64_t k, const uint8_t *c)
{
    int deleted_ok = l->del_acked[k] || l->del_tried[k];

    if (l->del_acked[k] && c[2] != 0)
        fail_msg("batch %lld: acknowledged delete undone", (long long)k);
    for (int s = 0; s < SERIES; s++) {
        if (c[s] != 0 && c[s] != PER)
            fail_msg("batch %lld series %d: %d of %d points", (long long)k, s, c[s], PER);
        if (l->acked[k] && c[s] == 0 && !(s == 2 && deleted_ok))
            fail_msg("batch %lld series %d: acknowledged but missing", (long long)k, s);
    }
    if (c[0] != c[1] || (c[0] != c[2] && !deleted_ok))
        fail_msg("batch %lld is there in part (%d %d %d)", (long long)k, c[0], c[1], c[2]);
}

static int64_t verify(const char *dir, const ledger *l, int round)
{
    disco_tsdb_config cfg = crash_config();
    disco_status st = {0};
    uint8_t(*count)[SERIES] = calloc(MAX_BATCHES, sizeof *count);
    disco_tsdb *db;
    int64_t newest = -1;

    if (disco_tsdb_open(dir, &cfg, &db, &st) != DISCO_OK)
        fail_msg("round %d: reopen failed: %s", round, st.msg);
    tally(db, count, &newest);
    for (int64_t k = 0; k <= newest / 4; k++)
        check_batch(l, k, count[k]);
    for (int64_t k = newest / 4 + 1; k < MAX_BATCHES; k++)
        if (l->acked[k])
            fail_msg("round %d: acknowledged batch %lld lost", round, (long long)k);
    disco_tsdb_close(db);
    free(count);
    return newest;
}

static void kill_rounds(void)
{
    char *dir = tu_tmpdir("tsdb-crash");
    ledger *l = calloc(1, sizeof *l);
    int64_t newest = -1, acked_total = 0;
    unsigned seed = (unsigned)time(NULL);

    srand(seed);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2], status;
        pid_t pid;
        useconds_t delay =
            (useconds_t)(round % 4 == 0 ? 1000 + rand() % 8000 : 10000 + rand() % 390000);

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], newest / 4 + 2);
        }
        close(fds[1]);
        usleep(delay);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            fail_msg("round %d (seed %u): child ended with status %d", round, seed, status);
        read_messages(fds[0], l);
        close(fds[0]);
        newest = verify(dir, l, round);
    }
    for (int64_t k = 0; k < MAX_BATCHES; k++)
        acked_total += l->acked[k];
    print_message("fsync %s: %d rounds, %lld batches acknowledged, newest ts %lld\n",
                  policy == DISCO_TSDB_FSYNC_ALWAYS ? "always" : "never", ROUNDS,
                  (long long)acked_total, (long long)newest);
    assert_true(acked_total > ROUNDS);
    tu_rmrf(dir);
    free(dir);
    free(l);
}

static void test_kill_9_fsync_always(void **state)
{
    (void)state;
    policy = DISCO_TSDB_FSYNC_ALWAYS;
    kill_rounds();
}

static void test_kill_9_fsync_never(void **state)
{
    (void)state;
    policy = DISCO_TSDB_FSYNC_NEVER;
    kill_rounds();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_9_fsync_always),
        cmocka_unit_test(test_kill_9_fsync_never),
    };

    return cmocka_run_group_tests_name("store/tsdb_crash", tests, NULL, NULL);
}
