/*
 * ops_corpus.c - corpus build: the MIDI training corpus flow
 * (flows/corpus*.c) as an operation.
 */
#include "ops_int.h"

#include "disco/corpus.h"
#include "disco/json.h"

#include <stdio.h>
#include <string.h>

/* Corpus names become folder names under <data>/corpus/: [A-Za-z0-9_.-], not starting with '.'. */
static int check_name(const char *name, disco_status *st)
{
    size_t n = strlen(name);
    int ok = n >= 1 && n <= 64 && name[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '.' || c == '-';
    }
    if (!ok)
        return disco_status_set(st, DISCO_ERR_INVAL, "name",
                                "param 'name': \"%.64s\" must be 1..64 of A-Z a-z 0-9 _ . - "
                                "and not start with '.'",
                                name);
    return DISCO_OK;
}

static int op_build(disco_ctx *ctx, const json_t *params, json_t **result, disco_status *st)
{
    disco_corpus_config cfg = disco_corpus_config_default();
    disco_catalog *cat = NULL;
    disco_objects *objs = NULL;
    char out[4096];
    cfg.source = disco__param_str(params, "source");
    cfg.name = disco__param_str(params, "name");
    cfg.out = disco__param_str(params, "out");
    cfg.valid_share = disco_json_num(params, "valid_share", cfg.valid_share);
    cfg.transpose = disco__param_bool(params, "transpose", 1);
    cfg.min_notes = (int)disco__param_int(params, "min_notes", cfg.min_notes);
    cfg.owner = disco_ctx_principal(ctx);
    cfg.progress = disco_ctx_progress(ctx);
    int rc = check_name(cfg.name, st);
    if (!rc && !cfg.out) {
        rc = disco__ctx_data_path(ctx, "corpus", out, sizeof(out), st);
        if (!rc && (size_t)snprintf(out + strlen(out), sizeof(out) - strlen(out), "/%s",
                                    cfg.name) >= sizeof(out) - strlen(out))
            rc = disco_status_set(st, DISCO_ERR_INVAL, "out", "output folder path too long");
        cfg.out = out;
    }
    if (!rc)
        rc = disco_ctx_catalog(ctx, &cat, st);
    if (!rc)
        rc = disco_ctx_objects(ctx, &objs, st);
    if (!rc)
        rc = disco_corpus_build(cat, objs, &cfg, result, st);
    return rc;
}

static const disco_param build_params[] = {
    {.name = "source",
     .type = DISCO_P_PATH,
     .flags = DISCO_PARAM_REQUIRED | DISCO_PARAM_POSITIONAL,
     .help = "folder with sources.json, as scripts/fetch-corpus.sh prints it"},
    {.name = "name",
     .type = DISCO_P_STRING,
     .def = "\"main\"",
     .help = "corpus name: the value of the corpus tag on every resource"},
    {.name = "out",
     .type = DISCO_P_PATH,
     .short_flag = 'o',
     .help = "folder for train.tok and valid.tok (default <data>/corpus/<name>)"},
    {.name = "valid_share",
     .type = DISCO_P_NUMBER,
     .flags = DISCO_PARAM_RANGE,
     .min = 0,
     .max = 0.5,
     .def = "0.1",
     .help = "share of pieces held out for validation (split by piece)"},
    {.name = "transpose",
     .type = DISCO_P_BOOL,
     .def = "true",
     .help = "augment training pieces by transposition, -5..+6 semitones"},
    {.name = "min_notes",
     .type = DISCO_P_INT,
     .flags = DISCO_PARAM_RANGE,
     .min = 1,
     .max = 100000,
     .def = "32",
     .help = "pieces with fewer notes are dropped"},
    {0},
};

const disco_op disco__ops_corpus[] = {
    {.name = "corpus.build",
     .summary = "collect MIDI sources into deduplicated, licensed pieces and token files",
     .help = "Reads the sources that scripts/fetch-corpus.sh collected (MIDI files, WAD music\n"
             "lumps, ABC tunes converted to MIDI), drops unreadable, short and duplicate pieces,\n"
             "stores each piece as a \"midi\" resource with its source and licence, splits\n"
             "train/validation by piece, and writes train.tok and valid.tok for the trainer.\n"
             "Rebuilding is idempotent.\n\n"
             "Examples:\n"
             "  scripts/fetch-corpus.sh\n"
             "  disco corpus build build/corpus-src\n"
             "  disco corpus build build/corpus-src --name folk --valid-share 0.2 --no-transpose",
     .params = build_params,
     .flags = DISCO_OP_WRITES | DISCO_OP_LONG,
     .fn = op_build},
    {0},
};
