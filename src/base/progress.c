/*
 * progress.c - forwarding progress reports to an optional callback.
 */
#include "disco/progress.h"

#include <stddef.h>

int disco_progress_report(const disco_progress *p, const char *stage, uint64_t done, uint64_t total)
{
    if (!p || !p->fn)
        return 0;
    return p->fn(p->user, stage, done, total);
}
