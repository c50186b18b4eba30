/*
 * help.c - `disco --help`, `disco GROUP --help`, `disco GROUP VERB --help`,
 * all generated from the operation table.
 */
#include "cli_int.h"

#include <string.h>

static const char *verb_of(const disco_op *op)
{
    const char *dot = strchr(op->name, '.');
    return dot ? dot + 1 : op->name;
}

static int in_group(const disco_op *op, const char *group)
{
    size_t n = strlen(group);
    return strncmp(op->name, group, n) == 0 && op->name[n] == '.';
}

int cli_is_group(const char *group)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    for (size_t i = 0; i < n; i++)
        if (in_group(all[i], group))
            return 1;
    return 0;
}

void cli_help_top(FILE *out)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    fprintf(out, "Disco-Musica: music generation, analysis and versioned storage.\n\n"
                 "Usage: disco [global options] <group> <verb> [args] [--param value ...]\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < n; i++) {
        char words[64];
        snprintf(words, sizeof words, "%s", all[i]->name);
        char *dot = strchr(words, '.');
        if (dot)
            *dot = ' ';
        fprintf(out, "  %-20s %s\n", words, all[i]->summary);
    }
    fprintf(out, "  %-20s %s\n", "serve", "run the HTTP API server (see disco serve --help)");
    fprintf(out, "\nGlobal options:\n"
                 "  --data DIR         data folder (default ./disco-data; env DISCO_DATA)\n"
                 "  --config FILE      configuration file (env DISCO_CONFIG)\n"
                 "  --log-level LEVEL  error|warn|info|debug|trace (env DISCO_LOG_LEVEL)\n"
                 "  --json             print results (and errors) as JSON\n"
                 "  -q, --quiet        no progress bar\n"
                 "  -h, --help         help for disco, a group, or a command\n\n"
                 "Exit status: 0 success, 1 failure, 2 usage error.\n"
                 "See `disco <group> --help` and `disco <group> <verb> --help`.\n");
}

void cli_help_group(FILE *out, const char *group)
{
    size_t n;
    const disco_op *const *all = disco_ops_all(&n);

    fprintf(out, "Usage: disco %s <verb> [args] [--param value ...]\n\nVerbs:\n", group);
    for (size_t i = 0; i < n; i++)
        if (in_group(all[i], group))
            fprintf(out, "  %-12s %s\n", verb_of(all[i]), all[i]->summary);
    fprintf(out, "\nSee `disco %s <verb> --help` for a verb's parameters.\n", group);
}

static void usage_line(FILE *out, const disco_op *op, char *words, size_t size)
{
    snprintf(words, size, "%s", op->name);
    char *dot = strchr(words, '.');
    if (dot)
        *dot = ' ';
    fprintf(out, "Usage: disco %s", words);
    for (const disco_param *p = op->params; p && p->name; p++) {
        if (!(p->flags & DISCO_PARAM_POSITIONAL))
            continue;
        int list =
            p->type == DISCO_P_HASHES || p->type == DISCO_P_IDS || p->type == DISCO_P_STRINGS;
        fprintf(out, (p->flags & DISCO_PARAM_REQUIRED) ? " %s%s" : " [%s%s]", p->name,
                list ? "..." : "");
    }
    fprintf(out, " [options]\n\n%s.\n", op->summary);
}

static void param_line(FILE *out, const disco_param *p)
{
    char flag[96], extra[160] = "";
    size_t len;

    if (p->short_flag)
        snprintf(flag, sizeof flag, "-%c, --", p->short_flag);
    else
        snprintf(flag, sizeof flag, "    --");
    len = strlen(flag);
    for (const char *c = p->name; *c && len + 1 < sizeof flag; c++)
        flag[len++] = *c == '_' ? '-' : *c;
    flag[len] = '\0';
    if (p->type != DISCO_P_BOOL)
        snprintf(flag + len, sizeof flag - len, " <%s>", disco_ptype_name(p->type));
    if (p->flags & DISCO_PARAM_REQUIRED)
        snprintf(extra, sizeof extra, " (required)");
    if (p->def)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " (default %s)", p->def);
    if (p->flags & DISCO_PARAM_RANGE)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " [%g..%g]", p->min, p->max);
    for (int i = 0; p->choices && p->choices[i]; i++)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "%s%s", i ? "|" : " {",
                 p->choices[i]);
    if (p->choices)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "}");
    fprintf(out, "  %-30s %s%s\n", flag, p->help ? p->help : "", extra);
}

void cli_help_op(FILE *out, const disco_op *op)
{
    char words[64];

    usage_line(out, op, words, sizeof words);
    if (op->params && op->params->name) {
        fprintf(out, "\nParameters:\n");
        for (const disco_param *p = op->params; p->name; p++)
            param_line(out, p);
    }
    if (op->help)
        fprintf(out, "\n%s\n", op->help);
    for (char *c = words; *c; c++)
        if (*c == ' ')
            *c = '/';
    fprintf(out, "\nAdd --json for machine-readable output. HTTP: POST /api/%s\n", words);
}

/* Edit distance, capped: enough to suggest "resource" for "resorce". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0]++;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *cli_suggest(const char *group, const char *word)
{
    static char best[64];
    size_t n, best_d = 3;
    const disco_op *const *all = disco_ops_all(&n);

    best[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char cand[64];
        if (group && !in_group(all[i], group))
            continue;
        snprintf(cand, sizeof cand, "%s", group ? verb_of(all[i]) : all[i]->name);
        char *dot = group ? NULL : strchr(cand, '.');
        if (dot)
            *dot = '\0';
        size_t d = distance(cand, word);
        if (d < best_d) {
            best_d = d;
            snprintf(best, sizeof best, "%s", cand);
        }
    }
    return best[0] ? best : NULL;
}
