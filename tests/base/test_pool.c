/*
 * test_pool.c - the worker pool: every task runs once, wait, parallel_for,
 * concurrent submitters, and draining on free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/err.h"
#include "disco/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void count_task(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    nanosleep(&ts, NULL);
}

static void test_threads(void **state)
{
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(3, &p), DISCO_OK);
    assert_int_equal(disco_pool_threads(p), 3);
    disco_pool_free(p);
    assert_int_equal(disco_pool_new(0, &p), DISCO_OK);
    assert_true(disco_pool_threads(p) == (size_t)sysconf(_SC_NPROCESSORS_ONLN));
    disco_pool_free(p);
    disco_pool_free(NULL);
}

/* Each task counts in its own slot; every slot must be hit exactly once. */
static void test_every_task_runs_once(void **state)
{
    enum { N = 5000 };
    atomic_int *hits = calloc(N, sizeof *hits);
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(4, &p), DISCO_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(disco_pool_submit(p, count_task, &hits[i]), DISCO_OK);
    disco_pool_wait(p);
    for (int i = 0; i < N; i++)
        assert_int_equal(atomic_load(&hits[i]), 1);
    disco_pool_free(p);
    free(hits);
}

struct slow {
    atomic_int started, finished;
};

static void slow_task(void *arg)
{
    struct slow *s = arg;

    atomic_fetch_add(&s->started, 1);
    sleep_us(20000);
    atomic_fetch_add(&s->finished, 1);
}

/* wait() returns only after running tasks have finished, not just been taken. */
static void test_wait_waits_for_running_tasks(void **state)
{
    struct slow s = {0};
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(2, &p), DISCO_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(disco_pool_submit(p, slow_task, &s), DISCO_OK);
    disco_pool_wait(p);
    assert_int_equal(atomic_load(&s.finished), 6);
    disco_pool_wait(p); /* nothing pending: returns at once */
    disco_pool_free(p);
}

/* free() runs what is still queued before joining. */
static void test_free_drains_queue(void **state)
{
    struct slow s = {0};
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(1, &p), DISCO_OK);
    for (int i = 0; i < 5; i++)
        assert_int_equal(disco_pool_submit(p, slow_task, &s), DISCO_OK);
    disco_pool_free(p);
    assert_int_equal(atomic_load(&s.finished), 5);
}

/* One worker takes tasks in submission order. */
struct order {
    int seen[200];
    int n;
};

struct order_item {
    struct order *o;
    int value;
};

static void order_task(void *arg)
{
    struct order_item *it = arg;

    it->o->seen[it->o->n++] = it->value;
}

static void test_single_worker_is_fifo(void **state)
{
    struct order o = {{0}, 0};
    struct order_item items[200];
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(1, &p), DISCO_OK);
    for (int i = 0; i < 200; i++) {
        items[i] = (struct order_item){&o, i};
        assert_int_equal(disco_pool_submit(p, order_task, &items[i]), DISCO_OK);
    }
    disco_pool_wait(p);
    assert_int_equal(o.n, 200);
    for (int i = 0; i < 200; i++)
        assert_int_equal(o.seen[i], i);
    disco_pool_free(p);
}

struct sum {
    const int64_t *values;
    int64_t *partial;
    atomic_int calls;
};

static void square_at(size_t i, void *arg)
{
    struct sum *s = arg;

    s->partial[i] = s->values[i] * s->values[i];
    atomic_fetch_add(&s->calls, 1);
}

static void test_parallel_for_sums(void **state)
{
    const size_t sizes[] = {0, 1, 2, 7, 1000, 100000};
    disco_pool *p = NULL;

    (void)state;
    assert_int_equal(disco_pool_new(4, &p), DISCO_OK);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        int64_t *values = malloc((n + 1) * sizeof *values);
        int64_t *partial = calloc(n + 1, sizeof *partial);
        struct sum s = {values, partial, 0};
        int64_t total = 0, expect = 0;

        for (size_t i = 0; i < n; i++) {
            values[i] = (int64_t)i + 1;
            expect += values[i] * values[i];
        }
        assert_int_equal(disco_pool_parallel_for(p, n, square_at, &s), DISCO_OK);
        for (size_t i = 0; i < n; i++)
            total += partial[i];
        assert_true(total == expect);
        assert_int_equal(atomic_load(&s.calls), (int)n);
        free(values);
        free(partial);
    }
    disco_pool_free(p);
}

struct submitter {
    disco_pool *pool;
    atomic_int *counter;
    int n;
};

static void *submit_many(void *arg)
{
    struct submitter *sub = arg;

    for (int i = 0; i < sub->n; i++) {
        if (disco_pool_submit(sub->pool, count_task, sub->counter) != DISCO_OK)
            return (void *)1;
    }
    return NULL;
}

static void test_many_submitters(void **state)
{
    enum { T = 8, PER = 5000 };
    atomic_int counter = 0;
    pthread_t th[T];
    struct submitter sub = {NULL, &counter, PER};

    (void)state;
    assert_int_equal(disco_pool_new(3, &sub.pool), DISCO_OK);
    for (int t = 0; t < T; t++)
        assert_int_equal(pthread_create(&th[t], NULL, submit_many, &sub), 0);
    for (int t = 0; t < T; t++) {
        void *ret = NULL;
        pthread_join(th[t], &ret);
        assert_null(ret);
    }
    disco_pool_wait(sub.pool);
    assert_int_equal(atomic_load(&counter), T * PER);
    disco_pool_free(sub.pool);
}

/* Tasks may submit more tasks; wait() covers them too. */
struct fanout {
    disco_pool *pool;
    atomic_int leaves;
};

static void leaf_task(void *arg)
{
    atomic_fetch_add(&((struct fanout *)arg)->leaves, 1);
}

static void parent_task(void *arg)
{
    struct fanout *f = arg;

    for (int i = 0; i < 10; i++)
        disco_pool_submit(f->pool, leaf_task, f);
}

static void test_tasks_submit_tasks(void **state)
{
    struct fanout f = {NULL, 0};

    (void)state;
    assert_int_equal(disco_pool_new(2, &f.pool), DISCO_OK);
    for (int i = 0; i < 50; i++)
        assert_int_equal(disco_pool_submit(f.pool, parent_task, &f), DISCO_OK);
    disco_pool_wait(f.pool);
    assert_int_equal(atomic_load(&f.leaves), 500);
    disco_pool_free(f.pool);
}

/* Concurrent parallel_for calls from several threads on one pool. */
struct pfor_caller {
    disco_pool *pool;
    int64_t result;
};

static void add_index(size_t i, void *arg)
{
    atomic_fetch_add((_Atomic int64_t *)arg, (int64_t)i);
}

static void *pfor_thread(void *arg)
{
    struct pfor_caller *c = arg;
    _Atomic int64_t acc = 0;

    for (int r = 0; r < 20; r++)
        disco_pool_parallel_for(c->pool, 1000, add_index, &acc);
    c->result = atomic_load(&acc);
    return NULL;
}

static void test_parallel_for_from_many_threads(void **state)
{
    enum { T = 4 };
    disco_pool *p = NULL;
    pthread_t th[T];
    struct pfor_caller callers[T];

    (void)state;
    assert_int_equal(disco_pool_new(3, &p), DISCO_OK);
    for (int t = 0; t < T; t++) {
        callers[t] = (struct pfor_caller){p, 0};
        assert_int_equal(pthread_create(&th[t], NULL, pfor_thread, &callers[t]), 0);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        assert_true(callers[t].result == INT64_C(20) * 999 * 1000 / 2);
    }
    disco_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_every_task_runs_once),
        cmocka_unit_test(test_wait_waits_for_running_tasks),
        cmocka_unit_test(test_free_drains_queue),
        cmocka_unit_test(test_single_worker_is_fifo),
        cmocka_unit_test(test_parallel_for_sums),
        cmocka_unit_test(test_many_submitters),
        cmocka_unit_test(test_tasks_submit_tasks),
        cmocka_unit_test(test_parallel_for_from_many_threads),
    };
    return cmocka_run_group_tests_name("base/pool", tests, NULL, NULL);
}
