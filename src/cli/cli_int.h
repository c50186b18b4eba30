/*
 * cli_int.h - pieces of the `disco` command shared by its files.
 */
#ifndef DISCO_CLI_INT_H
#define DISCO_CLI_INT_H

#include "disco/ops.h"

#include <stdio.h>

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* help.c: generated from the operation table. */
void cli_help_top(FILE *out);
/* 1 when some op is named "<group>.<verb>". */
int cli_is_group(const char *group);
void cli_help_group(FILE *out, const char *group);
void cli_help_op(FILE *out, const disco_op *op);
/* The known word closest to `word` among groups (verb NULL) or a group's verbs, or NULL. */
const char *cli_suggest(const char *group, const char *word);

/* render.c: human-readable results. */
void cli_render(FILE *out, const disco_op *op, const json_t *result);
/* render_audio.c: audio analysis and mastering reports; 0 when `result` is neither. */
int cli_render_audio(FILE *out, const json_t *result);

/* serve.c: `disco serve [options]` (words after "serve"); returns an exit code. */
int cli_serve(const disco_config *cfg, int argc, char **argv);
void cli_help_serve(FILE *out);

/* serve_info.c: <data>/serve.json, written by a running `disco serve`. */
typedef struct cli_serve_info {
    long pid;
    char url[256];
    int64_t started_ms;
} cli_serve_info;

/* Writes serve.json for this process (temp + fsync + rename). IO errors name the file. */
int cli_serve_info_write(const char *data_dir, const char *url, disco_status *st);
/*
 * Takes <data>/serve.lock (creating the folder) for the life of this
 * process into *fd: BUSY, naming the running server, when another holds it.
 */
int cli_serve_lock(const char *data_dir, int *fd, disco_status *st);
/* Removes serve.json if it is this process's own. */
void cli_serve_info_remove(const char *data_dir);
/* The live server of `data_dir`: NOTFOUND when none or its pid is gone; CORRUPT when unreadable. */
int cli_serve_info_read(const char *data_dir, cli_serve_info *out, disco_status *st);
/*
 * When `st` is a BUSY of a store (not the catalog) and a live server holds
 * the data folder, appends who holds it and the route of `op` to send instead.
 */
void cli_busy_hint(const char *data_dir, const disco_op *op, disco_status *st);

/* progress_bar.c: a bar on a terminal, nothing elsewhere. */
typedef struct cli_bar {
    int fd;
    int drawn;
    unsigned long long last_ns;
    char stage[32];
} cli_bar;

int cli_bar_report(void *user, const char *stage, uint64_t done, uint64_t total);
void cli_bar_finish(cli_bar *bar);

#endif
