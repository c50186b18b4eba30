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
