/*
 * progress.h - how long operations report how far they are.
 *
 * A reporter is a callback with a stage name and done/total counts (total 0
 * means unknown). Operations call disco_progress_report() as they go; the
 * CLI draws a bar on a TTY, the server turns reports into events. A NULL
 * reporter or callback is allowed and ignored. A callback that returns
 * non-zero asks the operation to stop; the operation then returns
 * DISCO_ERR_CANCELLED at its next check.
 */
#ifndef DISCO_PROGRESS_H
#define DISCO_PROGRESS_H

#include <stdint.h>

typedef int (*disco_progress_fn)(void *user, const char *stage, uint64_t done, uint64_t total);

typedef struct disco_progress {
    disco_progress_fn fn;
    void *user;
} disco_progress;

/* Reports; returns non-zero when the callback asked to cancel. */
int disco_progress_report(const disco_progress *p, const char *stage, uint64_t done,
                          uint64_t total);

#endif
