/*
 * main.c - the `disco` command: global options, dispatch to the operation
 * table, output for people or (--json) for programs, exit status.
 *
 *   disco [global options] <group> <verb> [args] [--param value ...]
 *
 * Exit status: 0 success, 1 failure, 2 usage error (unknown command or
 * option, bad or missing parameter).
 */
#include "cli_int.h"

#include "disco/json.h"
#include "disco/log.h"
#include "disco/version.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct cli_opts {
    const char *data;
    const char *config;
    const char *log_level;
    int json, quiet, help;
    int argc;    /* words left after removing global options */
    char **argv; /* borrowed strings, own array */
} cli_opts;

static void log_to_stderr(void *user, disco_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "disco: %s: %s\n", disco_log_level_name(level), msg);
}

static int opt_value(int argc, char **argv, int *i, const char **out)
{
    const char *eq = strchr(argv[*i], '=');

    if (eq) {
        *out = eq + 1;
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "disco: error: option %s needs a value\n", argv[*i]);
        return -1;
    }
    *out = argv[++*i];
    return 0;
}

static int is_opt(const char *word, const char *name)
{
    size_t n = strlen(name);
    return strncmp(word, name, n) == 0 && (word[n] == '\0' || word[n] == '=');
}

/* Takes the global options out of argv wherever they stand. */
static int parse_globals(int argc, char **argv, cli_opts *o)
{
    int rc = 0;

    o->argv = calloc((size_t)argc + 1, sizeof *o->argv);
    if (!o->argv)
        return -1;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--") == 0) {
            while (i < argc)
                o->argv[o->argc++] = argv[i++];
        } else if (is_opt(w, "--data")) {
            rc = opt_value(argc, argv, &i, &o->data);
        } else if (is_opt(w, "--config")) {
            rc = opt_value(argc, argv, &i, &o->config);
        } else if (is_opt(w, "--log-level")) {
            rc = opt_value(argc, argv, &i, &o->log_level);
        } else if (strcmp(w, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(w, "-q") == 0 || strcmp(w, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
            o->help = 1;
        } else {
            o->argv[o->argc++] = argv[i];
        }
    }
    return rc;
}

static void print_error(const cli_opts *o, int rc, const disco_status *st)
{
    fprintf(stderr, "disco: error: %s\n", disco_status_message(st));
    if (!o->json)
        return;
    json_t *err = json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", disco_errname(rc), "message",
                            disco_status_message(st), "field", st->field[0] ? st->field : NULL);
    char *text = disco_json_dumps_pretty(err);
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(err);
}

static int load_config(const cli_opts *o, disco_config *cfg, disco_status *st)
{
    int rc = disco_config_load(cfg, o->config, st);

    if (rc == DISCO_OK && o->data)
        rc = disco_config_set(cfg, "data_dir", o->data, "--data", st);
    if (rc == DISCO_OK && o->log_level)
        rc = disco_config_set(cfg, "log_level", o->log_level, "--log-level", st);
    if (rc == DISCO_OK)
        disco_log_set_level(cfg->log_level);
    return rc;
}

static void print_result(const cli_opts *o, const disco_op *op, disco_ctx *ctx,
                         const json_t *result)
{
    if (o->json) {
        char *text = disco_json_dumps_pretty(result);
        FILE *out = disco_ctx_wrote_output(ctx) ? stderr : stdout;
        fprintf(out, "%s\n", text ? text : "null");
        free(text);
    } else if (!disco_ctx_wrote_output(ctx)) {
        cli_render(stdout, op, result);
    }
}

/* Validates and runs one op: usage problems exit 2, failures 1. */
static int run_op(const cli_opts *o, const disco_op *op, int argc, char **argv)
{
    disco_status st = {0};
    disco_config cfg;
    disco_ctx *ctx = NULL;
    json_t *raw = NULL, *params = NULL, *result = NULL;
    cli_bar bar = {.fd = STDERR_FILENO};
    disco_progress prog = {cli_bar_report, &bar};
    int rc, code = CLI_USAGE;

    rc = disco_ops_parse_args(op, argc, argv, &raw, &st);
    if (rc == DISCO_OK)
        rc = disco_ops_validate(op, raw, &params, &st);
    if (rc == DISCO_OK) {
        code = CLI_FAIL;
        rc = load_config(o, &cfg, &st);
    }
    if (rc == DISCO_OK)
        rc = disco_ctx_new(&cfg, &ctx, &st);
    if (rc == DISCO_OK) {
        disco_ctx_set_streams(ctx, STDIN_FILENO, STDOUT_FILENO);
        disco_ctx_set_progress(ctx, !o->quiet && isatty(STDERR_FILENO) ? &prog : NULL);
        rc = disco_ops_run(ctx, op, params, &result, &st);
        cli_bar_finish(&bar);
    }
    if (rc == DISCO_ERR_BUSY)
        cli_busy_hint(cfg.data_dir, op, &st);
    if (rc == DISCO_OK)
        print_result(o, op, ctx, result);
    else
        print_error(o, rc, &st);
    json_decref(result);
    json_decref(params);
    json_decref(raw);
    disco_ctx_free(ctx);
    return rc == DISCO_OK ? CLI_OK : code;
}

static int unknown(const char *what, const char *word, const char *group)
{
    const char *hint = cli_suggest(group, word);

    fprintf(stderr, "disco: error: unknown %s '%s'", what, word);
    if (hint)
        fprintf(stderr, "; did you mean '%s'?", hint);
    fprintf(stderr, " (see: disco %s%s--help)\n", group ? group : "", group ? " " : "");
    return CLI_USAGE;
}

/* `disco serve`: the configuration as for ops, then the server (serve.c). */
static int serve(const cli_opts *o)
{
    disco_status st = {0};
    disco_config cfg;
    int rc;

    if (o->help) {
        cli_help_serve(stdout);
        return CLI_OK;
    }
    rc = load_config(o, &cfg, &st);
    if (rc != DISCO_OK) {
        print_error(o, rc, &st);
        return CLI_FAIL;
    }
    return cli_serve(&cfg, o->argc - 1, o->argv + 1);
}

static int dispatch(const cli_opts *o)
{
    char name[128];
    const disco_op *op;

    if (o->argc == 0) {
        cli_help_top(o->help ? stdout : stderr);
        return o->help ? CLI_OK : CLI_USAGE;
    }
    if (strcmp(o->argv[0], "help") == 0) {
        cli_help_top(stdout);
        return CLI_OK;
    }
    if (strcmp(o->argv[0], "serve") == 0)
        return serve(o);
    if ((op = disco_ops_find(o->argv[0])) != NULL) {
        if (o->help) {
            cli_help_op(stdout, op);
            return CLI_OK;
        }
        return run_op(o, op, o->argc - 1, o->argv + 1);
    }
    if (!cli_is_group(o->argv[0]))
        return unknown("command", o->argv[0], NULL);
    if (o->argc == 1) {
        cli_help_group(o->help ? stdout : stderr, o->argv[0]);
        return o->help ? CLI_OK : CLI_USAGE;
    }
    snprintf(name, sizeof name, "%s.%s", o->argv[0], o->argv[1]);
    if ((op = disco_ops_find(name)) == NULL)
        return unknown("verb", o->argv[1], o->argv[0]);
    if (o->help) {
        cli_help_op(stdout, op);
        return CLI_OK;
    }
    return run_op(o, op, o->argc - 2, o->argv + 2);
}

int main(int argc, char **argv)
{
    cli_opts o = {0};
    int code;

    disco_log_set_handler(log_to_stderr, NULL);
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("disco %s\n", disco_version());
        return CLI_OK;
    }
    if (parse_globals(argc, argv, &o) != 0) {
        free(o.argv);
        return CLI_USAGE;
    }
    code = dispatch(&o);
    free(o.argv);
    fflush(stdout);
    if (ferror(stdout)) {
        fprintf(stderr, "disco: error: writing the output failed\n");
        return CLI_FAIL;
    }
    return code;
}
