/*
 * corpus_int.h - internals shared by the corpus build files:
 *
 *   corpus.c        the build: order of steps, split, tokens, report
 *   corpus_read.c   sources.json, walking folders, reading pieces, content hash
 *   corpus_store.c  piece and corpus resources in the catalog
 *   corpus_tokset.c token sets and the token file format
 */
#ifndef DISCO_CORPUS_INT_H
#define DISCO_CORPUS_INT_H

#include "disco/corpus.h"
#include "disco/hash.h"
#include "disco/midi.h"

/* One entry of sources.json. */
typedef struct corpus_source {
    char *name, *dir, *licence, *licence_file, *version;
    int style; /* index into disco_tok_styles */
} corpus_source;

typedef struct corpus_sources {
    corpus_source *items;
    size_t count;
} corpus_sources;

/* Reads <root>/sources.json. NOTFOUND / INVAL naming the file and entry. */
int disco__corpus_sources_load(const char *root, corpus_sources *out, disco_status *st);
void disco__corpus_sources_release(corpus_sources *s);

/* A piece as read from a source, before it is stored. */
typedef struct corpus_piece {
    const corpus_source *src;
    char *path;  /* relative to the source folder root; WAD lumps as "x.wad:D_NAME" */
    char *title; /* valid UTF-8 */
    char *licence;
    char *attribution, *source_url; /* from a sidecar; may be NULL */
    char *licence_file;             /* the sidecar when it gave the licence; may be NULL */
    int style;
    uint8_t *midi; /* the MIDI bytes stored as the payload */
    size_t midi_len;
    disco_score score;
    char hash[DISCO_SHA256_HEX_LEN + 1]; /* content hash of the quantised notes */
} corpus_piece;

void disco__corpus_piece_release(corpus_piece *p);

/*
 * Called for each piece found; `err` is non-NULL (with p->path set) for a
 * file or lump that could not be read. Non-zero return stops the walk and
 * is returned.
 */
typedef int (*corpus_piece_fn)(void *user, corpus_piece *p, const disco_status *err);

/*
 * Walks the source's folder (sorted, recursively) calling `fn` per MIDI
 * file and per music lump of a WAD. `files` counts the files looked at.
 */
int disco__corpus_walk(const char *root, const corpus_source *src, corpus_piece_fn fn, void *user,
                       size_t *files, disco_status *st);

/* SHA-256 hex of the quantised note content (see corpus.h). */
int disco__corpus_content_hash(const disco_score *sc, char out[DISCO_SHA256_HEX_LEN + 1],
                               disco_status *st);

/* Existing pieces of a corpus: content hash -> {"id", "metadata"}. */
int disco__corpus_existing(disco_catalog *cat, const char *name, json_t **index, disco_status *st);

/*
 * Stores a piece: creates it, or (found in `index`) updates its metadata
 * when it differs. *outcome: 0 created, 1 updated, 2 unchanged.
 */
int disco__corpus_store_piece(disco_catalog *cat, disco_objects *objs, json_t *index,
                              const char *name, const char *owner, const corpus_piece *p,
                              json_t *metadata, int *outcome, disco_status *st);

/*
 * Creates the corpus resource or writes a new version when its metadata
 * changed; fills *id and *version.
 */
int disco__corpus_store_corpus(disco_catalog *cat, const char *name, const char *owner,
                               json_t *metadata, char id[DISCO_ID_LEN + 1], int64_t *version,
                               disco_status *st);

/* A JSON string of `s` made valid UTF-8 (Latin-1 bytes converted, controls dropped). */
json_t *disco__corpus_text(const char *s, size_t n);

#endif
