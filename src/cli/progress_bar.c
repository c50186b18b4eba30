/*
 * progress_bar.c - draws progress reports as a bar on a terminal.
 *
 * Redraws at most ten times a second, and on completion; the line is
 * cleared when the operation ends so results print on a clean line.
 */
#include "cli_int.h"

#include "disco/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void human_count(uint64_t n, char *buf, size_t size)
{
    static const char *const units[] = {"", "k", "M", "G", "T"};
    double x = (double)n;
    int u = 0;

    while (x >= 1000.0 && u < 4) {
        x /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu", (unsigned long long)n);
    else
        snprintf(buf, size, "%.1f%s", x, units[u]);
}

int cli_bar_report(void *user, const char *stage, uint64_t done, uint64_t total)
{
    cli_bar *bar = user;
    unsigned long long now = disco_time_mono_ns();
    char line[160], d[16], t[16];
    int width = 30, fill;

    if (bar->drawn && done != total && now - bar->last_ns < 100000000ull &&
        strcmp(stage, bar->stage) == 0)
        return 0;
    bar->last_ns = now;
    snprintf(bar->stage, sizeof bar->stage, "%s", stage);
    human_count(done, d, sizeof d);
    if (total) {
        human_count(total, t, sizeof t);
        fill = (int)(done >= total ? width : (double)done / (double)total * width);
        snprintf(line, sizeof line, "\r\033[K%-8s [%.*s%*s] %3d%% %s/%s", stage, fill,
                 "##############################", width - fill, "",
                 (int)(done >= total ? 100 : done * 100 / total), d, t);
    } else {
        snprintf(line, sizeof line, "\r\033[K%-8s %s", stage, d);
    }
    if (write(bar->fd, line, strlen(line)) > 0)
        bar->drawn = 1;
    return 0;
}

void cli_bar_finish(cli_bar *bar)
{
    static const char clear[] = "\r\033[K";

    if (bar->drawn && write(bar->fd, clear, sizeof clear - 1) < 0)
        bar->drawn = 0;
    bar->drawn = 0;
}
