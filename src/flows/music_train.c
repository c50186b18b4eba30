/*
 * music_train.c - training the music model (music_flow.h).
 *
 * Data: the train pieces' token sequences (each BOS .. EOS, transposed
 * copies included) laid end to end as one stream; every step takes `batch`
 * windows of seq + 1 tokens at positions drawn from a seeded generator, so
 * a run is reproducible. Validation scores the first eval_tokens tokens of
 * the valid pieces, piece by piece from each BOS, with the model
 * (disco_tf_eval) and with the Kneser-Ney baseline built on the same train
 * sequences, so the two numbers are comparable.
 */
#include "disco/artefact.h"
#include "disco/json.h"
#include "disco/corpus.h"
#include "disco/metrics.h"
#include "disco/music_flow.h"
#include "disco/ngram.h"
#include "disco/timeutil.h"
#include "disco/tsbatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct trainer {
    const disco_train_opts *o;
    disco_tokset train, valid;
    int32_t *stream; /* train sequences end to end */
    size_t nstream;
    int32_t *batch;
    disco_tf *tf;
    disco_ngram *ngram;
    double ngram_nll, val_nll, last_loss;
    double best_val;    /* lowest validation NLL so far (INFINITY before the first) */
    uint64_t best_step; /* its step */
    char resume[4200];  /* <out>.resume: weights and AdamW state of the last evaluation */
    uint64_t rng, tokens;
    int64_t last_ts;
    char run[64];
} trainer;

disco_train_opts disco_train_opts_default(void)
{
    disco_train_opts o = {
        .model = disco_tf_config_default(),
        .batch = 16,
        .steps = 3000,
        .lr = 3e-3f,
        .lr_min = 1e-4f,
        .warmup = 100,
        .seed = 1,
        .log_every = 10,
        .eval_every = 250,
        .eval_tokens = 60000,
        .ngram_order = 5,
        .corpus = "main",
        .keep_best = 1,
    };
    o.seq = o.model.ctx;
    return o;
}

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int load_data(trainer *t, disco_status *st)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/train.tok", t->o->corpus_dir);
    int rc = disco_tokset_read(path, &t->train, st);
    snprintf(path, sizeof path, "%s/valid.tok", t->o->corpus_dir);
    if (!rc)
        rc = disco_tokset_read(path, &t->valid, st);
    if (rc)
        return rc;
    if (t->train.ntokens < t->o->seq + 2 || t->valid.nseqs == 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "corpus",
                                "corpus %s: %zu train tokens and %zu valid pieces are too few "
                                "for windows of %zu tokens",
                                t->o->corpus_dir, t->train.ntokens, t->valid.nseqs, t->o->seq);
    t->stream = t->train.tokens; /* the set stores its sequences contiguously */
    t->nstream = t->train.ntokens;
    t->batch = malloc(t->o->batch * (t->o->seq + 1) * sizeof(int32_t));
    return t->batch ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

static int make_model(trainer *t, disco_status *st)
{
    const disco_train_opts *o = t->o;
    int rc = o->resume ? disco_tf_load(t->resume, &t->tf, st) : disco_tf_new(&o->model, &t->tf, st);
    if (!rc && o->seq > disco_tf_config_get(t->tf)->ctx)
        rc = disco_status_set(st, DISCO_ERR_INVAL, "seq", "seq %zu is longer than the context %u",
                              o->seq, disco_tf_config_get(t->tf)->ctx);
    if (!rc)
        rc = disco_tf_set_threads(t->tf, o->threads, st);
    return rc;
}

/* NLL of the first eval_tokens valid tokens, piece by piece, under the model or the n-gram. */
static int validate(trainer *t, int with_ngram, double *out, disco_status *st)
{
    double sum = 0, nsum = 0;
    size_t left = t->o->eval_tokens, total = 0;
    int rc = DISCO_OK;
    for (size_t i = 0; !rc && i < t->valid.nseqs && left > 1; i++) {
        size_t n = t->valid.lens[i] < left ? t->valid.lens[i] : left, cnt = 0;
        double nll = 0;
        if (n < 2)
            continue;
        if (with_ngram) {
            rc = disco_ngram_nll(t->ngram, t->valid.seqs[i], n, &nll, st);
            cnt = n - 1;
        } else {
            rc = disco_tf_eval(t->tf, t->valid.seqs[i], n, &nll, &cnt, st);
        }
        sum += nll * (double)cnt;
        total += cnt;
        left -= n;
    }
    nsum = total ? sum / (double)total : NAN;
    *out = nsum;
    return rc;
}

static int build_ngram(trainer *t, disco_status *st)
{
    if (t->o->ngram_order <= 0)
        return DISCO_OK;
    disco_ngram_config c = disco_ngram_config_default();
    c.order = t->o->ngram_order;
    int rc = disco_ngram_build(&c, t->train.seqs, t->train.lens, t->train.nseqs, &t->ngram, st);
    return rc ? rc : validate(t, 1, &t->ngram_nll, st);
}

static void fill_batch(trainer *t)
{
    size_t w = t->o->seq + 1;
    for (size_t b = 0; b < t->o->batch; b++) {
        size_t at = (size_t)(next_rand(&t->rng) % (t->nstream - w));
        memcpy(t->batch + b * w, t->stream + at, w * sizeof(int32_t));
    }
}

/* Writes named values at the next timestamp, tagged run=<id>. */
static int log_points(trainer *t, disco_catalog *cat, disco_tsdb *db, const char *const *names,
                      const double *vals, size_t n, disco_status *st)
{
    disco_ts_batch b;
    json_t *tags = json_pack("{s:s}", "run", t->run);
    int64_t now = disco_time_now_ms();
    t->last_ts = now > t->last_ts ? now : t->last_ts + 1;
    int rc = disco_ts_batch_init(&b);
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t idx;
        if (!isfinite(vals[i]) && strcmp(names[i], "loss") != 0)
            continue;
        rc = disco_ts_batch_series(&b, names[i], tags, &idx, st);
        if (!rc)
            rc = disco_ts_batch_add(&b, idx, t->last_ts, vals[i]);
    }
    json_t *res = NULL;
    if (!rc && db)
        rc = disco_metric_write(cat, db, &b, t->o->owner, &res, st);
    json_decref(res);
    json_decref(tags);
    disco_ts_batch_release(&b);
    return rc;
}

static int log_step(trainer *t, disco_catalog *cat, disco_tsdb *db, uint64_t step, float lr,
                    const disco_tf_step *s, double tps, disco_status *st)
{
    static const char *const names[] = {"step", "loss", "learning_rate", "grad_norm",
                                        "tokens_per_s"};
    double v[] = {(double)step, s->loss, lr, s->grad_norm, tps};
    return log_points(t, cat, db, names, v, 5, st);
}

/*
 * Validates, logs, keeps the state to resume from, and (with keep_best) writes
 * the weights to `out` whenever they are the best so far.
 */
static int evaluate(trainer *t, disco_catalog *cat, disco_tsdb *db, uint64_t step, disco_status *st)
{
    static const char *const names[] = {"step", "val_loss"};
    int rc = validate(t, 0, &t->val_nll, st);
    double v[] = {(double)step, t->val_nll};
    if (!rc)
        rc = log_points(t, cat, db, names, v, 2, st);
    if (!rc)
        rc = disco_tf_save(t->tf, t->resume, 1, st);
    if (!rc && t->val_nll < t->best_val) {
        t->best_val = t->val_nll;
        t->best_step = step;
        if (t->o->keep_best)
            rc = disco_tf_save(t->tf, t->o->out, 0, st);
    }
    return rc;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* The optimiser steps from the model's current step to o->steps. */
static int run_steps(trainer *t, disco_catalog *cat, disco_tsdb *db, double *secs, disco_status *st)
{
    const disco_train_opts *o = t->o;
    struct timespec t0, tl;
    uint64_t since_log = 0;
    int rc = DISCO_OK;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    tl = t0;
    for (uint64_t step = disco_tf_steps(t->tf); !rc && step < o->steps; step++) {
        disco_tf_step s;
        float lr = disco_tf_lr_at(step, o->warmup, o->steps, o->lr, o->lr_min);
        fill_batch(t);
        rc = disco_tf_train_step(t->tf, t->batch, o->batch, o->seq, lr, NULL, &s, st);
        if (rc)
            break;
        t->tokens += s.tokens;
        since_log += s.tokens;
        t->last_loss = s.loss;
        if ((step + 1) % o->log_every == 0 || step + 1 == o->steps) {
            double tps = (double)since_log / seconds_since(&tl);
            clock_gettime(CLOCK_MONOTONIC, &tl);
            since_log = 0;
            rc = log_step(t, cat, db, step + 1, lr, &s, tps, st);
        }
        if (!rc && ((step + 1) % o->eval_every == 0 || step + 1 == o->steps))
            rc = evaluate(t, cat, db, step + 1, st);
        if (!rc && disco_progress_report(o->progress, "train", step + 1, o->steps))
            rc = disco_status_set(st, DISCO_ERR_CANCELLED, NULL,
                                  "training cancelled at step %llu (checkpoint kept)",
                                  (unsigned long long)(step + 1));
    }
    *secs = seconds_since(&t0);
    return rc;
}

/* The corpus resource named o->corpus, as the model's parent ([] when there is none). */
static json_t *corpus_parents(disco_catalog *cat, const char *name)
{
    json_t *parents = json_array(), *tags = json_pack("{s:s}", "corpus", name);
    disco_resource_filter f = {.type = "corpus", .tags = tags, .limit = 1};
    disco_resource_list l = {0};
    if (cat && disco_catalog_list(cat, &f, &l, NULL) == DISCO_OK && l.count > 0)
        json_array_append_new(parents, json_string(l.items[0].id));
    disco_resource_list_release(&l);
    json_decref(tags);
    return parents;
}

int disco_music_register(disco_catalog *cat, disco_objects *objs, const char *path,
                         const char *corpus, const json_t *extra, const char *owner,
                         disco_resource *out, disco_status *st)
{
    disco_tf *tf = NULL;
    int rc = disco_tf_load(path, &tf, st);
    if (rc)
        return rc;
    const disco_tf_config *c = disco_tf_config_get(tf);
    json_t *parents = corpus_parents(cat, corpus);
    json_t *meta = json_pack("{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:I, s:I, s:s}", "kind",
                             "music-transformer", "config", "vocab", (int)c->vocab, "ctx",
                             (int)c->ctx, "d_model", (int)c->d_model, "layers", (int)c->layers,
                             "heads", (int)c->heads, "steps", (json_int_t)disco_tf_steps(tf),
                             "params", (json_int_t)disco_tf_param_count(tf), "corpus", corpus);
    if (extra)
        json_object_update_missing(meta, (json_t *)extra);
    disco_resource_spec spec = {
        .type = "model", .parents = parents, .metadata = meta, .owner = owner};
    disco_payload p = {.path = path, .fd = -1};
    rc = disco_artefact_create(cat, objs, &spec, &p, NULL, out, st);
    json_decref(parents);
    json_decref(meta);
    disco_tf_free(tf);
    return rc;
}

static int register_model(trainer *t, disco_catalog *cat, disco_objects *objs, json_t *res,
                          disco_status *st)
{
    json_t *extra =
        json_pack("{s:s, s:O, s:O}", "run", t->run, "val_nll", json_object_get(res, "val_nll"),
                  "ngram", json_object_get(res, "ngram"));
    disco_resource r;
    disco_resource_init(&r);
    int rc = disco_music_register(cat, objs, t->o->out, t->o->corpus, extra, t->o->owner, &r, st);
    if (!rc)
        json_object_set_new(res, "model", json_string(r.id));
    disco_resource_release(&r);
    json_decref(extra);
    return rc;
}

/* The validation NLL of the weights written to `out`. */
static double shipped_nll(const trainer *t)
{
    return t->o->keep_best ? t->best_val : t->val_nll;
}

static json_t *result_json(const trainer *t, double secs)
{
    return json_pack(
        "{s:s, s:I, s:I, s:f, s:o, s:o, s:{s:i, s:o}, s:b, s:s, s:I, s:n}", "run", t->run, "steps",
        (json_int_t)disco_tf_steps(t->tf), "tokens", (json_int_t)t->tokens, "seconds", secs,
        "train_loss", disco_json_number(t->last_loss, 4), "val_nll",
        disco_json_number(shipped_nll(t), 4), "ngram", "order", t->ngram ? t->o->ngram_order : 0,
        "val_nll", disco_json_number(t->ngram_nll, 4), "beats_ngram",
        t->ngram && shipped_nll(t) < t->ngram_nll, "checkpoint", t->o->out, "params",
        (json_int_t)disco_tf_param_count(t->tf), "model");
}

static void trainer_release(trainer *t)
{
    disco_tokset_release(&t->train);
    disco_tokset_release(&t->valid);
    free(t->batch);
    disco_tf_free(t->tf);
    disco_ngram_free(t->ngram);
}

int disco_music_train(disco_catalog *cat, disco_objects *objs, disco_tsdb *tsdb,
                      const disco_train_opts *o, json_t **result, disco_status *st)
{
    trainer t = {.o = o,
                 .rng = o->seed,
                 .val_nll = NAN,
                 .ngram_nll = NAN,
                 .last_loss = NAN,
                 .best_val = INFINITY};
    double secs = 0;
    *result = NULL;
    if (o->run)
        snprintf(t.run, sizeof t.run, "%s", o->run);
    else
        snprintf(t.run, sizeof t.run, "music-%lld", (long long)disco_time_now_ms());
    snprintf(t.resume, sizeof t.resume, "%s.resume", o->out);
    int rc = load_data(&t, st);
    if (!rc)
        rc = make_model(&t, st);
    if (!rc)
        rc = build_ngram(&t, st);
    if (!rc)
        rc = run_steps(&t, cat, tsdb, &secs, st);
    if (!rc && !o->keep_best)
        rc = disco_tf_save(t.tf, o->out, 0, st);
    if (!rc) {
        json_t *res = result_json(&t, secs);
        unlink(t.resume); /* the run is complete: nothing to resume */
        json_object_set_new(res, "best_step", json_integer((json_int_t)t.best_step));
        json_object_set_new(res, "last_val_nll", disco_json_number(t.val_nll, 4));
        json_object_set_new(res, "tokens_per_s",
                            json_real(secs > 0 ? (double)t.tokens / secs : 0.0));
        rc = o->store && cat ? register_model(&t, cat, objs, res, st) : DISCO_OK;
        if (rc)
            json_decref(res);
        else
            *result = res;
    }
    trainer_release(&t);
    return rc;
}
