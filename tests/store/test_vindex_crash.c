/*
 * test_vindex_crash.c - acknowledged upserts survive kill -9.
 *
 * A child opens a collection and upserts batches in a loop, writing each
 * batch number to a pipe once disco_vindex_upsert() has returned. The
 * parent SIGKILLs it at a random moment, reopens the collection (which
 * must open cleanly) and fetches every acknowledged item, checking its
 * vector. ROUNDS rounds run on the same collection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/vindex.h"
#include "support/testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DIM 8
#define BATCH 20
#define ROUNDS 24

static float value(uint32_t batch, uint32_t i, uint32_t d)
{
    return (float)((batch * 31u + i * 7u + d) % 101) / 10.0f + 0.5f;
}

static void child(const char *root, int fd, uint32_t first)
{
    disco_vindex *v = NULL;
    float vecs[BATCH][DIM];
    char ids[BATCH][32];
    disco_vitem it[BATCH];

    if (disco_vindex_open(root, "crash", &v, NULL) != DISCO_OK)
        _exit(2);
    for (uint32_t b = first;; b++) {
        for (uint32_t i = 0; i < BATCH; i++) {
            for (uint32_t d = 0; d < DIM; d++)
                vecs[i][d] = value(b, i, d);
            snprintf(ids[i], sizeof ids[i], "b%u-%u", b, i);
            it[i] = (disco_vitem){NULL, ids[i], vecs[i], NULL, DIM};
        }
        if (disco_vindex_upsert(v, it, BATCH, 1, NULL, NULL, NULL) != DISCO_OK)
            _exit(3);
        if (write(fd, &b, sizeof b) != sizeof b)
            _exit(4);
    }
}

/* Reads acknowledgements until EOF; returns the last batch number + 1 (or `first`). */
static uint32_t drain(int fd, uint32_t first)
{
    uint32_t b, next = first;

    while (read(fd, &b, sizeof b) == sizeof b)
        next = b + 1;
    return next;
}

static void verify(const char *root, uint32_t acked)
{
    disco_vindex *v = NULL;
    disco_status st = {0};
    float got[DIM];

    assert_int_equal(disco_vindex_open(root, "crash", &v, &st), DISCO_OK);
    for (uint32_t b = 0; b < acked; b++) {
        for (uint32_t i = 0; i < BATCH; i++) {
            char id[32];

            snprintf(id, sizeof id, "b%u-%u", b, i);
            assert_int_equal(disco_vindex_get(v, NULL, id, got, NULL), DISCO_OK);
            for (uint32_t d = 0; d < DIM; d++)
                assert_true(got[d] == value(b, i, d));
        }
    }
    if (acked % 5 == 0)
        assert_int_equal(disco_vindex_snapshot(v, NULL), DISCO_OK);
    disco_vindex_close(v);
}

static void test_kill9(void **state)
{
    char *root = tu_tmpdir("vindex_crash");
    disco_vindex_config cfg = disco_vindex_config_default(DIM, DISCO_VMETRIC_L2);
    uint32_t acked = 0;

    (void)state;
    srand((unsigned)time(NULL));
    assert_int_equal(disco_vindex_create(root, "crash", &cfg, NULL), DISCO_OK);
    for (int round = 0; round < ROUNDS; round++) {
        int p[2];
        pid_t pid;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(root, p[1], acked);
        }
        close(p[1]);
        usleep((useconds_t)(20000 + rand() % 150000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        acked = drain(p[0], acked);
        close(p[0]);
        verify(root, acked);
    }
    print_message("%u batches acknowledged\n", acked);
    assert_true(acked > 0);
    tu_rmrf(root);
    free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9),
    };

    return cmocka_run_group_tests_name("store/vindex_crash", tests, NULL, NULL);
}
