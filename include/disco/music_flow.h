/*
 * music_flow.h - training the music model on the corpus, and sampling
 * from it: the Model Layer flows over music/ and the stores.
 *
 *   corpus resource (train.tok, valid.tok) --train--> checkpoint file
 *        |                                              + model resource (parent: corpus)
 *        |                                              + run metrics in the tsdb
 *        '-- Kneser-Ney n-gram on the same tokens: the baseline the model must beat
 *
 *   model --sample (conditioning, constraints)--> tokens --> MIDI (+ WAV) [+ midi resource]
 */
#ifndef DISCO_MUSIC_FLOW_H
#define DISCO_MUSIC_FLOW_H

#include "disco/catalog.h"
#include "disco/model.h"
#include "disco/objects.h"
#include "disco/progress.h"
#include "disco/sampler.h"
#include "disco/tsdb.h"

#include <jansson.h>

typedef struct disco_train_opts {
    const char *corpus_dir; /* holds train.tok and valid.tok (required) */
    const char *out;        /* weights written here (required); "<out>.resume" holds the
                               weights and AdamW state of the last evaluation until the run
                               completes, for resume */
    disco_tf_config model;  /* disco_tf_config_default() */
    size_t batch;           /* windows per step, 16 */
    size_t seq;             /* tokens per window, model.ctx */
    uint64_t steps;         /* optimiser steps, 3000 */
    float lr, lr_min;       /* 3e-3 -> 1e-4, cosine */
    uint64_t warmup;        /* 100 */
    size_t threads;         /* 0: every CPU */
    uint64_t seed;          /* window order, 1 */
    uint64_t log_every;     /* 10 */
    uint64_t eval_every;    /* 250 (and at the end) */
    size_t eval_tokens;     /* validation tokens scored at each evaluation, 60000 */
    int ngram_order;        /* baseline order, 5; 0 skips the baseline */
    const char *run;        /* run id (tag run=<id>); NULL: "music-<time>" */
    int resume;             /* continue from "<out>.resume" (weights, AdamW state, step) */
    int keep_best;          /* `out` gets the weights of the best validation, 1 */
    int store;              /* register the model as a resource (payload: the checkpoint) */
    const char *corpus;     /* corpus name (tag corpus=NAME) for the lineage, "main" */
    const char *owner;
    const disco_progress *progress; /* stage "train": steps done of steps */
} disco_train_opts;

disco_train_opts disco_train_opts_default(void);

/*
 * Trains. Result: {"run", "steps", "tokens", "seconds", "tokens_per_s",
 * "train_loss", "val_nll" (of the weights in `out`: the best evaluation with
 * keep_best), "best_step", "last_val_nll", "ngram": {"order", "val_nll"},
 * "beats_ngram", "checkpoint", "params", "model" (resource id or null)}. The run's loss,
 * val_loss, learning_rate, grad_norm, tokens_per_s and step series go to the
 * tsdb tagged run=<id>, so `disco model analyze-training --run <id>` reads
 * them. Errors of the token files, the model, the stores; CANCELLED when
 * the progress callback asks to stop (the last checkpoint stays).
 */
int disco_music_train(disco_catalog *cat, disco_objects *objs, disco_tsdb *tsdb,
                      const disco_train_opts *o, json_t **result, disco_status *st);

/*
 * Registers the checkpoint `path` as a resource of type "model" (the file as
 * its payload) whose parent is the corpus resource tagged corpus=`corpus`
 * when the catalog has one. Metadata: {"kind", "config", "steps", "params",
 * "corpus"} plus the members of `extra` (may be NULL) it does not have.
 * Errors of the checkpoint (CORRUPT, NOTFOUND) and of the stores.
 */
int disco_music_register(disco_catalog *cat, disco_objects *objs, const char *path,
                         const char *corpus, const json_t *extra, const char *owner,
                         disco_resource *out, disco_status *st);

typedef struct disco_sample_opts {
    const char *model; /* checkpoint path */
    disco_sampler_config sampler;
    const char *midi;     /* output .mid (may be NULL when storing) */
    const char *wav;      /* also render with FluidSynth (may be NULL) */
    int store;            /* keep the MIDI as a resource of type "midi" (parent: model_id) */
    const char *model_id; /* the model's resource, for lineage (may be NULL) */
    const char *owner;
} disco_sample_opts;

/*
 * Samples one piece. Result: {"tokens", "notes", "bars", "seconds",
 * "tokens_per_s", "skipped", "midi", "wav", "resource", "stats": sampler
 * stats, "analysis": MIDI metrics}.
 */
int disco_music_sample(disco_catalog *cat, disco_objects *objs, const disco_sample_opts *o,
                       json_t **result, disco_status *st);

/* MIDI metrics (midi_metrics.h) as JSON; non-finite values become null. */
struct disco_midi_metrics;
json_t *disco_midi_metrics_json(const struct disco_midi_metrics *m);

/*
 * Analyses a MIDI file or a resource of type "midi": {"input", "resource",
 * "metrics", "analysis"}; with `store` (default for resources) the analysis
 * is kept as a resource of type "analysis" under the MIDI resource.
 */
int disco_midi_flow_analyze(disco_catalog *cat, disco_objects *objs, const char *input, int store,
                            const char *owner, json_t **result, disco_status *st);

#endif
