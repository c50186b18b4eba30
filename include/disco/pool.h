/*
 * pool.h - a fixed-size worker thread pool.
 *
 * Tasks are run in submission order by the first free worker. The pool is
 * thread-safe: any thread may submit. disco_pool_wait() waits until every
 * task submitted so far has finished.
 */
#ifndef DISCO_POOL_H
#define DISCO_POOL_H

#include <stddef.h>

typedef struct disco_pool disco_pool;

typedef void (*disco_task_fn)(void *arg);

/*
 * Starts `threads` workers (0: one per online CPU). Returns DISCO_OK, or
 * DISCO_ERR_NOMEM / DISCO_ERR_INTERNAL when threads cannot be created.
 */
int disco_pool_new(size_t threads, disco_pool **out);

/* Finishes queued tasks, joins the workers and frees the pool. NULL is a no-op. */
void disco_pool_free(disco_pool *pool);

/* Queues fn(arg). Returns DISCO_OK or DISCO_ERR_NOMEM. */
int disco_pool_submit(disco_pool *pool, disco_task_fn fn, void *arg);

/* Blocks until the queue is empty and no task is running. */
void disco_pool_wait(disco_pool *pool);

size_t disco_pool_threads(const disco_pool *pool);

/*
 * Runs fn(i, arg) for i in [0, n) across the pool and waits for all of them.
 * Must not be called from a task running on the same pool.
 */
int disco_pool_parallel_for(disco_pool *pool, size_t n, void (*fn)(size_t i, void *arg), void *arg);

#endif
