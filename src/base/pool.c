/*
 * pool.c - a fixed-size pool of worker threads over one FIFO queue.
 *
 *   submit ──> [ ring buffer of tasks ] ──> worker 1..n ──> fn(arg)
 *                     │ mu, work_cv             │
 *                     └──── pending ──── idle_cv (wait)
 *
 * `pending` counts tasks queued or running; disco_pool_wait() sleeps until
 * it is zero. The ring grows by doubling, so submit fails only when memory
 * runs out. Workers leave once `stopping` is set and the queue is empty,
 * so freeing a pool still runs everything already submitted.
 */
#include "disco/pool.h"

#include "disco/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define QUEUE_INITIAL 64
#define THREADS_MAX 1024

struct task {
    disco_task_fn fn;
    void *arg;
};

struct disco_pool {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* queue became non-empty, or stopping */
    pthread_cond_t idle_cv; /* pending reached zero */
    struct task *ring;
    size_t cap, head, count;
    size_t pending;
    int stopping;
    size_t nthreads;
    pthread_t *threads;
};

/* Takes the next task; the caller holds mu and the queue is not empty. */
static struct task pop_task(disco_pool *p)
{
    struct task t = p->ring[p->head];

    p->head = (p->head + 1) % p->cap;
    p->count--;
    return t;
}

static void *worker_main(void *arg)
{
    disco_pool *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct task t;
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->count == 0)
            break;
        t = pop_task(p);
        pthread_mutex_unlock(&p->mu);
        t.fn(t.arg);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0)
            pthread_cond_broadcast(&p->idle_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static size_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (size_t)n : 1;
}

/* Stops and joins the first `started` workers. */
static void stop_workers(disco_pool *p, size_t started)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(p->threads[i], NULL);
}

static void pool_destroy(disco_pool *p)
{
    pthread_cond_destroy(&p->idle_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->ring);
    free(p);
}

int disco_pool_new(size_t threads, disco_pool **out)
{
    disco_pool *p;

    *out = NULL;
    if (threads == 0)
        threads = online_cpus();
    if (threads > THREADS_MAX)
        threads = THREADS_MAX;
    p = calloc(1, sizeof *p);
    if (!p)
        return DISCO_ERR_NOMEM;
    p->cap = QUEUE_INITIAL;
    p->ring = calloc(p->cap, sizeof *p->ring);
    p->threads = calloc(threads, sizeof *p->threads);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    if (!p->ring || !p->threads) {
        pool_destroy(p);
        return DISCO_ERR_NOMEM;
    }
    for (p->nthreads = 0; p->nthreads < threads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            stop_workers(p, p->nthreads);
            pool_destroy(p);
            return DISCO_ERR_INTERNAL;
        }
    }
    *out = p;
    return DISCO_OK;
}

void disco_pool_free(disco_pool *pool)
{
    if (!pool)
        return;
    stop_workers(pool, pool->nthreads);
    pool_destroy(pool);
}

/* Doubles the ring, unrolling it so the oldest task is at index 0. */
static int grow_ring(disco_pool *p)
{
    size_t cap = p->cap * 2;
    struct task *ring = malloc(cap * sizeof *ring);

    if (!ring)
        return DISCO_ERR_NOMEM;
    for (size_t i = 0; i < p->count; i++)
        ring[i] = p->ring[(p->head + i) % p->cap];
    free(p->ring);
    p->ring = ring;
    p->cap = cap;
    p->head = 0;
    return DISCO_OK;
}

int disco_pool_submit(disco_pool *pool, disco_task_fn fn, void *arg)
{
    int rc = DISCO_OK;

    pthread_mutex_lock(&pool->mu);
    DISCO_ASSERT(!pool->stopping);
    if (pool->count == pool->cap)
        rc = grow_ring(pool);
    if (rc == DISCO_OK) {
        pool->ring[(pool->head + pool->count) % pool->cap] = (struct task){fn, arg};
        pool->count++;
        pool->pending++;
        pthread_cond_signal(&pool->work_cv);
    }
    pthread_mutex_unlock(&pool->mu);
    return rc;
}

void disco_pool_wait(disco_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->pending > 0)
        pthread_cond_wait(&pool->idle_cv, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

size_t disco_pool_threads(const disco_pool *pool)
{
    return pool->nthreads;
}

/*
 * One parallel_for call: runners (on the pool, and the calling thread) take
 * indices from `next` until none are left. The caller waits for `active`
 * runners to finish, as this lives on its stack.
 */
struct pfor {
    atomic_size_t next;
    size_t n;
    void (*fn)(size_t i, void *arg);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    size_t active;
};

static void pfor_drain(struct pfor *pf)
{
    size_t i;

    while ((i = atomic_fetch_add(&pf->next, 1)) < pf->n)
        pf->fn(i, pf->arg);
}

static void pfor_runner(void *arg)
{
    struct pfor *pf = arg;

    pfor_drain(pf);
    pthread_mutex_lock(&pf->mu);
    if (--pf->active == 0)
        pthread_cond_signal(&pf->done_cv);
    pthread_mutex_unlock(&pf->mu);
}

/* Queues up to `helpers` runners; stops early if the queue cannot grow. */
static void pfor_start_helpers(disco_pool *pool, struct pfor *pf, size_t helpers)
{
    for (size_t i = 0; i < helpers; i++) {
        pthread_mutex_lock(&pf->mu);
        pf->active++;
        pthread_mutex_unlock(&pf->mu);
        if (disco_pool_submit(pool, pfor_runner, pf) != DISCO_OK) {
            pthread_mutex_lock(&pf->mu);
            pf->active--;
            pthread_mutex_unlock(&pf->mu);
            return;
        }
    }
}

int disco_pool_parallel_for(disco_pool *pool, size_t n, void (*fn)(size_t i, void *arg), void *arg)
{
    struct pfor pf = {.n = n, .fn = fn, .arg = arg};

    if (n == 0)
        return DISCO_OK;
    atomic_init(&pf.next, 0);
    pthread_mutex_init(&pf.mu, NULL);
    pthread_cond_init(&pf.done_cv, NULL);
    /* The caller runs too: n - 1 helpers at most, and it finishes alone if none start. */
    pfor_start_helpers(pool, &pf, n - 1 < pool->nthreads ? n - 1 : pool->nthreads);
    pfor_drain(&pf);
    pthread_mutex_lock(&pf.mu);
    while (pf.active > 0)
        pthread_cond_wait(&pf.done_cv, &pf.mu);
    pthread_mutex_unlock(&pf.mu);
    pthread_cond_destroy(&pf.done_cv);
    pthread_mutex_destroy(&pf.mu);
    return DISCO_OK;
}
