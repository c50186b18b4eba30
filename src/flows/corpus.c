/*
 * corpus.c - `disco corpus build`: sources -> deduplicated, licensed pieces
 * in the catalog -> train/valid token files (see include/disco/corpus.h).
 *
 * One pass over the sources in manifest order, files sorted: the first
 * occurrence of a tune is kept, later ones are listed as duplicates. Each
 * piece is tokenized and stored as soon as it is read, so memory holds one
 * score at a time plus the token sets.
 */
#include "corpus_int.h"

#include "disco/json.h"
#include "disco/timeutil.h"
#include "disco/tokens.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct build {
    const disco_corpus_config *cfg;
    disco_catalog *cat;
    disco_objects *objs;
    json_t *existing; /* content hash -> stored piece */
    json_t *seen;     /* content hash -> "source: path" of its first occurrence */
    json_t *skipped, *duplicates, *per_source;
    disco_tokset train, valid;
    size_t pieces, outcomes[3], train_pieces, valid_pieces, found;
    disco_status *st;
} build;

disco_corpus_config disco_corpus_config_default(void)
{
    return (disco_corpus_config){
        .name = "main", .valid_share = 0.1, .transpose = 1, .min_notes = 32};
}

static int check_config(const disco_corpus_config *c, disco_status *st)
{
    if (!c->source || !c->source[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "source", "a source folder is required");
    if (!c->out || !c->out[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "an output folder is required");
    if (!c->name || !c->name[0] || strlen(c->name) > DISCO_TAG_VALUE_MAX)
        return disco_status_set(st, DISCO_ERR_INVAL, "name", "corpus name must be 1..%d bytes",
                                DISCO_TAG_VALUE_MAX);
    if (!c->owner || !c->owner[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "owner", "an owner is required");
    if (!(c->valid_share >= 0 && c->valid_share <= 0.5))
        return disco_status_set(st, DISCO_ERR_INVAL, "valid_share",
                                "valid_share %g out of range 0..0.5", c->valid_share);
    if (c->min_notes < 1)
        return disco_status_set(st, DISCO_ERR_INVAL, "min_notes", "min_notes %d must be >= 1",
                                c->min_notes);
    return DISCO_OK;
}

/* ---- per piece --------------------------------------------------------------------- */

static json_t *source_counts(build *b, const char *source)
{
    json_t *c = json_object_get(b->per_source, source);
    if (!c) {
        c = json_pack("{s:i, s:i, s:i, s:i}", "files", 0, "pieces", 0, "duplicates", 0, "skipped",
                      0);
        json_object_set_new(b->per_source, source, c);
    }
    return c;
}

static void bump(build *b, const char *source, const char *what)
{
    json_t *c = source_counts(b, source);
    json_object_set_new(c, what, json_integer(disco_json_int(c, what, 0) + 1));
}

/* File names and texts inside files need not be UTF-8; JSON strings must be. */
static json_t *text(const char *s)
{
    return disco__corpus_text(s, strlen(s));
}

static int skip(build *b, const corpus_piece *p, const char *reason)
{
    json_array_append_new(b->skipped, json_pack("{s:s, s:o, s:o}", "source", p->src->name, "path",
                                                text(p->path), "reason", text(reason)));
    bump(b, p->src->name, "skipped");
    return DISCO_OK;
}

/* valid when the hash's first 64 bits, as a fraction of 2^64, fall below the share. */
static int is_valid(const char *hash, double share)
{
    char head[17];
    memcpy(head, hash, 16);
    head[16] = '\0';
    return (double)strtoull(head, NULL, 16) / 18446744073709551616.0 < share;
}

static json_t *piece_metadata(const corpus_piece *p, int valid)
{
    double secs = disco_score_seconds(&p->score, p->score.end_tick);
    json_t *md = json_pack("{s:s, s:o, s:o, s:o, s:I, s:f, s:s, s:s, s:s}", "source", p->src->name,
                           "path", text(p->path), "licence", text(p->licence), "title",
                           text(p->title), "notes", (json_int_t)p->score.nnotes, "duration_s",
                           round(secs * 1000) / 1000, "split", valid ? "valid" : "train", "style",
                           disco_tok_styles[p->style], "content_hash", p->hash);
    if (md && p->src->version[0])
        json_object_set_new(md, "package_version", json_string(p->src->version));
    const char *lf = p->licence_file ? p->licence_file : p->src->licence_file;
    if (md && lf[0])
        json_object_set_new(md, "licence_file", text(lf));
    if (md && p->attribution)
        json_object_set_new(md, "attribution", text(p->attribution));
    if (md && p->source_url)
        json_object_set_new(md, "source_url", text(p->source_url));
    return md;
}

/* The piece's tokens, and for train pieces its transpositions, into the token sets. */
static int add_tokens(build *b, const corpus_piece *p, const int32_t *toks, size_t n, int valid)
{
    disco_tokset *set = valid ? &b->valid : &b->train;
    uint32_t piece = (uint32_t)(valid ? b->valid_pieces : b->train_pieces);
    int rc = disco_tokset_add(set, p->src->name, piece, 0, toks, n, b->st);
    if (rc || valid || !b->cfg->transpose)
        return rc;
    int32_t *t = malloc(n * sizeof(*t));
    if (!t)
        return disco_status_set(b->st, DISCO_ERR_NOMEM, NULL, "out of memory");
    for (int s = DISCO_CORPUS_TRANSPOSE_LO; !rc && s <= DISCO_CORPUS_TRANSPOSE_HI; s++) {
        memcpy(t, toks, n * sizeof(*t));
        if (s != 0 && disco_tokens_transpose(t, n, s, NULL) == DISCO_OK)
            rc = disco_tokset_add(set, p->src->name, piece, s, t, n, b->st);
    }
    free(t);
    return rc;
}

static int keep_piece(build *b, const corpus_piece *p, const int32_t *toks, size_t n)
{
    int valid = is_valid(p->hash, b->cfg->valid_share), outcome = 0;
    json_t *md = piece_metadata(p, valid);
    int rc = md ? disco__corpus_store_piece(b->cat, b->objs, b->existing, b->cfg->name,
                                            b->cfg->owner, p, md, &outcome, b->st)
                : disco_status_set(b->st, DISCO_ERR_NOMEM, NULL, "out of memory");
    json_decref(md);
    if (!rc)
        rc = add_tokens(b, p, toks, n, valid);
    if (rc)
        return rc;
    b->outcomes[outcome]++;
    b->pieces++;
    if (valid)
        b->valid_pieces++;
    else
        b->train_pieces++;
    bump(b, p->src->name, "pieces");
    return DISCO_OK;
}

static int on_piece(void *user, corpus_piece *p, const disco_status *err)
{
    build *b = user;
    char reason[DISCO_STATUS_MSG_MAX + 64];
    if (disco_progress_report(b->cfg->progress, "read", ++b->found, 0))
        return disco_status_set(b->st, DISCO_ERR_CANCELLED, NULL, "corpus build cancelled");
    if (err)
        return skip(b, p, disco_status_message(err));
    if (p->score.nnotes < (size_t)b->cfg->min_notes) {
        snprintf(reason, sizeof(reason), "%zu notes, fewer than %d", p->score.nnotes,
                 b->cfg->min_notes);
        return skip(b, p, reason);
    }
    const char *first = disco_json_str(b->seen, p->hash, NULL);
    if (first) {
        json_array_append_new(b->duplicates, json_pack("{s:s, s:o, s:s}", "source", p->src->name,
                                                       "path", text(p->path), "same_as", first));
        bump(b, p->src->name, "duplicates");
        return DISCO_OK;
    }
    snprintf(reason, sizeof(reason), "%s: %s", p->src->name, p->path);
    json_object_set_new(b->seen, p->hash, text(reason));
    int32_t *toks = NULL;
    size_t n = 0;
    disco_tok_cond cond = {.key = -1, .style = p->style};
    disco_status tst = {0};
    int rc = disco_tokens_encode(&p->score, &cond, &toks, &n, &tst);
    if (rc == DISCO_ERR_NOMEM)
        return disco_status_set(b->st, rc, NULL, "out of memory tokenizing %s", p->path);
    if (rc) {
        snprintf(reason, sizeof(reason), "cannot tokenize: %s", disco_status_message(&tst));
        return skip(b, p, reason);
    }
    rc = keep_piece(b, p, toks, n);
    free(toks);
    return rc;
}

/* ---- outputs ----------------------------------------------------------------------- */

static int mkdir_p(const char *dir, disco_status *st)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof(buf), "%s", dir) >= sizeof(buf))
        return disco_status_set(st, DISCO_ERR_INVAL, "out", "output folder path too long");
    for (char *s = buf + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return disco_status_errno(st, errno, "out", "cannot create %s", buf);
        *s = c;
        if (c == '\0')
            return DISCO_OK;
    }
}

/* {"path", "sha256", "bytes", "sequences", "tokens"} of a written token file. */
static int describe_file(const char *path, const disco_tokset *s, json_t **out, disco_status *st)
{
    uint8_t buf[65536], digest[DISCO_SHA256_LEN];
    char hex[DISCO_SHA256_HEX_LEN + 1];
    disco_sha256 h;
    uint64_t bytes = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return disco_status_errno(st, errno, "out", "cannot read back %s", path);
    int rc = disco_sha256_init(&h);
    if (rc)
        rc = disco_status_set(st, rc, NULL, "cannot start SHA-256");
    for (size_t n; !rc && (n = fread(buf, 1, sizeof(buf), f)) > 0; bytes += n)
        disco_sha256_update(&h, buf, n);
    if (!rc) {
        disco_sha256_final(&h, digest);
        disco_hex_encode(digest, sizeof(digest), hex);
    }
    if (!rc && ferror(f))
        rc = disco_status_set(st, DISCO_ERR_IO, "out", "cannot read back %s", path);
    fclose(f);
    if (rc)
        return rc;
    *out = json_pack("{s:o, s:s, s:I, s:I, s:I}", "path", text(path), "sha256", hex, "bytes",
                     (json_int_t)bytes, "sequences", (json_int_t)s->nseqs, "tokens",
                     (json_int_t)s->ntokens);
    return *out ? DISCO_OK : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
}

static int write_token_files(build *b, json_t **files, disco_status *st)
{
    char train[4096], valid[4096];
    json_t *jt = NULL, *jv = NULL;
    int rc = mkdir_p(b->cfg->out, st);
    snprintf(train, sizeof(train), "%s/train.tok", b->cfg->out);
    snprintf(valid, sizeof(valid), "%s/valid.tok", b->cfg->out);
    if (!rc)
        rc = disco_tokset_write(train, &b->train, st);
    if (!rc)
        rc = disco_tokset_write(valid, &b->valid, st);
    if (!rc)
        rc = describe_file(train, &b->train, &jt, st);
    if (!rc)
        rc = describe_file(valid, &b->valid, &jv, st);
    *files = rc ? NULL : json_pack("{s:o, s:o}", "train", jt, "valid", jv);
    if (rc) {
        json_decref(jt);
        json_decref(jv);
    }
    return rc;
}

static json_t *corpus_metadata(const build *b, json_t *files)
{
    json_t *sources = json_object(), *aug;
    const char *key;
    json_t *v;
    json_object_foreach (b->per_source, key, v)
        json_object_set_new(sources, key, json_integer(disco_json_int(v, "pieces", 0)));
    if (b->cfg->transpose)
        aug =
            json_pack("{s:s, s:[i,i], s:s}", "kind", "transpose", "semitones",
                      DISCO_CORPUS_TRANSPOSE_LO, DISCO_CORPUS_TRANSPOSE_HI, "applies_to", "train");
    else
        aug = json_pack("{s:s}", "kind", "none");
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:o, s:f, s:i, s:i, s:s, "
                     "s:O}",
                     "pieces", (json_int_t)b->pieces, "train_pieces", (json_int_t)b->train_pieces,
                     "valid_pieces", (json_int_t)b->valid_pieces, "train_sequences",
                     (json_int_t)b->train.nseqs, "train_tokens", (json_int_t)b->train.ntokens,
                     "valid_tokens", (json_int_t)b->valid.ntokens, "sources", sources, "skipped",
                     (json_int_t)json_array_size(b->skipped), "duplicates",
                     (json_int_t)json_array_size(b->duplicates), "augmentation", aug, "valid_share",
                     b->cfg->valid_share, "min_notes", b->cfg->min_notes, "vocab", DISCO_TOK_VOCAB,
                     "format", "disco-tokset/1", "token_files", files);
}

static json_t *report(const build *b, const json_t *md, const char *id, int64_t version,
                      double secs)
{
    json_t *r = json_deep_copy(md);
    json_t *extra =
        json_pack("{s:o, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:O, s:O, s:O, s:f}", "corpus",
                  text(b->cfg->name), "resource", id, "version", (json_int_t)version, "source",
                  text(b->cfg->source), "out", text(b->cfg->out), "created",
                  (json_int_t)b->outcomes[0], "updated", (json_int_t)b->outcomes[1], "unchanged",
                  (json_int_t)b->outcomes[2], "sources", b->per_source, "duplicates", b->duplicates,
                  "skipped", b->skipped, "seconds", round(secs * 1000) / 1000);
    if (!r || !extra) {
        json_decref(r);
        json_decref(extra);
        return NULL;
    }
    json_object_update(r, extra);
    json_decref(extra);
    return r;
}

/* ---- the build --------------------------------------------------------------------- */

static int walk_sources(build *b, const corpus_sources *srcs, disco_status *st)
{
    int rc = DISCO_OK;
    for (size_t i = 0; !rc && i < srcs->count; i++) {
        size_t files = 0;
        source_counts(b, srcs->items[i].name);
        rc = disco__corpus_walk(b->cfg->source, &srcs->items[i], on_piece, b, &files, st);
        json_t *c = source_counts(b, srcs->items[i].name);
        json_object_set_new(c, "files",
                            json_integer(disco_json_int(c, "files", 0) + (json_int_t)files));
    }
    return rc;
}

static int finish(build *b, double t0, json_t **out, disco_status *st)
{
    json_t *files = NULL, *md = NULL;
    char id[DISCO_ID_LEN + 1] = "";
    int64_t version = 0;
    int rc = write_token_files(b, &files, st);
    if (!rc) {
        md = corpus_metadata(b, files);
        rc = md ? disco__corpus_store_corpus(b->cat, b->cfg->name, b->cfg->owner, md, id, &version,
                                             st)
                : disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    if (!rc) {
        *out = report(b, md, id, version, (double)(disco_time_mono_ns() - t0) / 1e9);
        if (!*out)
            rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    json_decref(files);
    json_decref(md);
    return rc;
}

int disco_corpus_build(disco_catalog *cat, disco_objects *objs, const disco_corpus_config *cfg,
                       json_t **out, disco_status *st)
{
    double t0 = (double)disco_time_mono_ns();
    corpus_sources srcs = {0};
    build b = {.cfg = cfg, .cat = cat, .objs = objs, .st = st};
    *out = NULL;
    disco_tokset_init(&b.train);
    disco_tokset_init(&b.valid);
    int rc = check_config(cfg, st);
    if (!rc)
        rc = disco__corpus_sources_load(cfg->source, &srcs, st);
    b.seen = json_object();
    b.skipped = json_array();
    b.duplicates = json_array();
    b.per_source = json_object();
    if (!rc && (!b.seen || !b.skipped || !b.duplicates || !b.per_source))
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!rc)
        rc = disco__corpus_existing(cat, cfg->name, &b.existing, st);
    if (!rc)
        rc = walk_sources(&b, &srcs, st);
    if (!rc)
        rc = finish(&b, t0, out, st);
    json_decref(b.existing);
    json_decref(b.seen);
    json_decref(b.skipped);
    json_decref(b.duplicates);
    json_decref(b.per_source);
    disco_tokset_release(&b.train);
    disco_tokset_release(&b.valid);
    disco__corpus_sources_release(&srcs);
    return rc;
}
