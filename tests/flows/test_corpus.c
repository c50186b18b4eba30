/*
 * test_corpus.c - the corpus build over a small source folder the test
 * writes itself (MIDI files made with disco_score_write, a duplicate at
 * another resolution, a broken and a short file, a sidecar, a WAD with a
 * MIDI and a MUS lump): pieces become "midi" resources with their licence,
 * the duplicate counts once, train and valid share no piece, a rebuild
 * writes nothing new, changes make new versions, and the token files read
 * back. Also the token file format on its own: round trip and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "disco/corpus.h"
#include "disco/crc32c.h"
#include "disco/json.h"
#include "disco/midi.h"
#include "disco/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/testutil.h"

typedef struct fixture {
    char *dir, *src, *out;
    disco_catalog *cat;
    disco_objects *objs;
} fixture;

static char *join(const char *a, const char *b)
{
    return tu_path(a, b);
}

static void mkdirs(const char *base, const char *sub)
{
    char *p = join(base, sub);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

static void write_text(const char *base, const char *name, const char *text)
{
    char *p = join(base, name);
    assert_int_equal(tu_write_file(p, text, strlen(text)), 0);
    free(p);
}

/* `n` eighth notes whose pitches follow a pattern set by `seed`. */
static void make_score(disco_score *sc, int seed, int n, int tpq, int vel)
{
    assert_int_equal(disco_score_init(sc, tpq, NULL), DISCO_OK);
    for (int i = 0; i < n; i++) {
        disco_note_ev e = {.start = (uint32_t)(i * tpq / 2),
                           .dur = (uint32_t)(tpq / 2),
                           .pitch = (uint8_t)(48 + (i * (seed * 5 + 2)) % 24),
                           .velocity = (uint8_t)vel};
        assert_int_equal(disco_score_add_note(sc, &e, NULL), DISCO_OK);
    }
    disco_score_sort(sc);
}

static void write_midi(const char *base, const char *name, int seed, int n, int tpq, int vel)
{
    disco_score sc;
    char *p = join(base, name);
    make_score(&sc, seed, n, tpq, vel);
    assert_int_equal(disco_score_write(p, &sc, NULL), DISCO_OK);
    disco_score_release(&sc);
    free(p);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* 40 MUS notes on channel 1, each a quarter (35 ticks) long. Caller frees. */
static uint8_t *make_mus(size_t *len)
{
    uint8_t *m = calloc(1, 16 + 40 * 6 + 1);
    size_t k = 16;
    assert_non_null(m);
    memcpy(m, "MUS\x1a", 4);
    m[6] = 16;
    for (int i = 0; i < 40; i++) {
        uint8_t pitch = (uint8_t)(50 + (i * 7) % 12);
        uint8_t ev[] = {0x91, (uint8_t)(0x80 | pitch), 100, 35, 0x01, pitch};
        memcpy(m + k, ev, sizeof(ev));
        k += sizeof(ev);
    }
    m[k++] = 0x60;
    m[4] = (uint8_t)(k - 16);
    m[5] = (uint8_t)((k - 16) >> 8);
    *len = k;
    return m;
}

/* A PWAD with a MIDI lump (seed 5), a MUS lump and a palette. */
static void write_wad(const char *base, const char *name)
{
    char *tmp = join(base, "lump.mid"), *p = join(base, name);
    size_t mlen, ulen;
    write_midi(base, "lump.mid", 5, 40, 480, 80);
    char *midi = tu_read_file(tmp, &mlen);
    uint8_t *mus = make_mus(&ulen), pal[8] = {0};
    assert_non_null(midi);
    size_t data = mlen + ulen + sizeof(pal), len = 12 + data + 48;
    uint8_t *w = calloc(1, len);
    assert_non_null(w);
    memcpy(w, "PWAD", 4);
    put32(w + 4, 3);
    put32(w + 8, (uint32_t)(12 + data));
    memcpy(w + 12, midi, mlen);
    memcpy(w + 12 + mlen, mus, ulen);
    memcpy(w + 12 + mlen + ulen, pal, sizeof(pal));
    const char *names[] = {"D_TUNE", "D_MUS", "PLAYPAL"};
    size_t offs[] = {12, 12 + mlen, 12 + mlen + ulen}, sizes[] = {mlen, ulen, sizeof(pal)};
    for (int i = 0; i < 3; i++) {
        uint8_t *e = w + 12 + data + 16 * i;
        put32(e, (uint32_t)offs[i]);
        put32(e + 4, (uint32_t)sizes[i]);
        memcpy(e + 8, names[i], strlen(names[i]));
    }
    assert_int_equal(tu_write_file(p, w, len), 0);
    remove(tmp);
    free(w);
    free(mus);
    free(midi);
    free(tmp);
    free(p);
}

static const char *manifest(const char *beta_licence)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"version\": 1, \"sources\": ["
             "{\"name\": \"alpha\", \"dir\": \"a\", \"licence\": \"MIT\", \"style\": \"folk\", "
             "\"version\": \"1.0\"},"
             "{\"name\": \"beta\", \"dir\": \"b\", \"licence\": \"%s\", \"style\": \"game\", "
             "\"licence_file\": \"b/COPYING\"}]}",
             beta_licence);
    return buf;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    f->dir = tu_tmpdir("corpus");
    f->src = join(f->dir, "src");
    f->out = join(f->dir, "out/main");
    char *db = join(f->dir, "catalog.db"), *od = join(f->dir, "objects");
    assert_int_equal(disco_catalog_open(db, &f->cat, NULL), DISCO_OK);
    assert_int_equal(disco_objects_open(od, &f->objs, NULL), DISCO_OK);
    free(db);
    free(od);
    assert_int_equal(mkdir(f->src, 0755), 0);
    mkdirs(f->src, "a");
    mkdirs(f->src, "a/sub");
    mkdirs(f->src, "b");
    write_text(f->src, "sources.json", manifest("GPL-2.0"));
    write_midi(f->src, "a/one.mid", 1, 40, 480, 80);
    write_midi(f->src, "a/two.mid", 2, 48, 480, 80);
    write_text(f->src, "a/two.json",
               "{\"title\": \"Second Tune\", \"genre\": \"classical\", \"provenance\": "
               "{\"arrangement_license\": \"CC0-1.0\", \"arrangement_creator\": \"Someone\"}}");
    write_midi(f->src, "a/sub/three.mid", 3, 40, 480, 80);
    write_midi(f->src, "a/short.mid", 6, 10, 480, 80);
    static const char broken[] = "MThd\0\0\0\6\0\1\0\1\1\340MTrk\0\0\1\0\0\220";
    char *bp = join(f->src, "a/broken.mid");
    assert_int_equal(tu_write_file(bp, broken, sizeof(broken) - 1), 0); /* a track cut short */
    free(bp);
    write_text(f->src, "a/readme.txt", "not music");
    write_midi(f->src, "b/copy.mid", 1, 40, 960, 90); /* a/one.mid at another resolution */
    write_midi(f->src, "b/four.mid", 4, 40, 480, 80);
    write_wad(f->src, "b/game.wad");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    disco_catalog_close(f->cat);
    disco_objects_close(f->objs);
    tu_rmrf(f->dir);
    free(f->dir);
    free(f->src);
    free(f->out);
    free(f);
    return 0;
}

static json_t *run_build(fixture *f, int transpose)
{
    disco_corpus_config cfg = disco_corpus_config_default();
    disco_status st = {0};
    json_t *report = NULL;
    cfg.source = f->src;
    cfg.name = "t";
    cfg.out = f->out;
    cfg.valid_share = 0.5;
    cfg.transpose = transpose;
    cfg.owner = "tester";
    int rc = disco_corpus_build(f->cat, f->objs, &cfg, &report, &st);
    if (rc)
        fail_msg("build failed: %s", st.msg);
    return report;
}

static int64_t num(const json_t *j, const char *key)
{
    return disco_json_int(j, key, -1);
}

/* The piece resources of corpus "t", by path. */
static json_t *pieces_by_path(fixture *f)
{
    json_t *tags = json_pack("{s:s}", "corpus", "t"), *by = json_object();
    disco_resource_filter flt = {.type = "midi", .tags = tags};
    disco_resource_list l = {0};
    assert_int_equal(disco_catalog_list(f->cat, &flt, &l, NULL), DISCO_OK);
    for (size_t i = 0; i < l.count; i++)
        json_object_set_new(by, disco_json_str(l.items[i].metadata, "path", "?"),
                            disco_resource_to_json(&l.items[i]));
    disco_resource_list_release(&l);
    json_decref(tags);
    return by;
}

static const json_t *md_of(const json_t *by, const char *path)
{
    const json_t *r = json_object_get(by, path);
    if (!r)
        fail_msg("no piece %s", path);
    return json_object_get(r, "metadata");
}

static void check_report(const json_t *r)
{
    assert_int_equal(num(r, "pieces"), 6);
    assert_int_equal(num(r, "created"), 6);
    assert_int_equal(json_array_size(json_object_get(r, "duplicates")), 1);
    const json_t *dup = json_array_get(json_object_get(r, "duplicates"), 0);
    assert_string_equal(disco_json_str(dup, "path", ""), "b/copy.mid");
    assert_string_equal(disco_json_str(dup, "same_as", ""), "alpha: a/one.mid");
    const json_t *skipped = json_object_get(r, "skipped");
    assert_int_equal(json_array_size(skipped), 2);
    assert_string_equal(disco_json_str(json_array_get(skipped, 0), "path", ""), "a/broken.mid");
    assert_non_null(strstr(disco_json_str(json_array_get(skipped, 0), "reason", ""), "offset"));
    assert_string_equal(disco_json_str(json_array_get(skipped, 1), "path", ""), "a/short.mid");
    assert_non_null(strstr(disco_json_str(json_array_get(skipped, 1), "reason", ""),
                           "10 notes, fewer than 32"));
    const json_t *alpha = json_object_get(json_object_get(r, "sources"), "alpha");
    assert_int_equal(num(alpha, "files"), 5);
    assert_int_equal(num(alpha, "pieces"), 3);
    assert_int_equal(num(alpha, "skipped"), 2);
    assert_int_equal(num(json_object_get(json_object_get(r, "sources"), "beta"), "duplicates"), 1);
    assert_int_equal(num(r, "train_pieces") + num(r, "valid_pieces"), 6);
    /* with these pieces both halves are non-empty (the split is a function of the content) */
    assert_true(num(r, "train_pieces") > 0 && num(r, "valid_pieces") > 0);
}

static void check_resources(fixture *f, const json_t *r)
{
    json_t *by = pieces_by_path(f);
    assert_int_equal(json_object_size(by), 6);
    const json_t *two = md_of(by, "a/two.mid"), *one = md_of(by, "a/one.mid");
    assert_string_equal(disco_json_str(one, "licence", ""), "MIT");
    assert_string_equal(disco_json_str(one, "source", ""), "alpha");
    assert_string_equal(disco_json_str(one, "package_version", ""), "1.0");
    assert_string_equal(disco_json_str(one, "style", ""), "folk");
    assert_int_equal(num(one, "notes"), 40);
    assert_true(disco_json_num(one, "duration_s", 0) > 9.9 &&
                disco_json_num(one, "duration_s", 0) < 10.1);
    assert_string_equal(disco_json_str(two, "licence", ""), "CC0-1.0");
    assert_string_equal(disco_json_str(two, "licence_file", ""), "a/two.json");
    assert_string_equal(disco_json_str(two, "title", ""), "Second Tune");
    assert_string_equal(disco_json_str(two, "attribution", ""), "Someone");
    assert_string_equal(disco_json_str(two, "style", ""), "classical");
    const json_t *mus = md_of(by, "b/game.wad:D_MUS");
    assert_string_equal(disco_json_str(mus, "licence", ""), "GPL-2.0");
    assert_string_equal(disco_json_str(mus, "licence_file", ""), "b/COPYING");
    assert_string_equal(disco_json_str(mus, "title", ""), "D_MUS");
    assert_int_equal(num(mus, "notes"), 40);
    md_of(by, "b/game.wad:D_TUNE");
    md_of(by, "b/four.mid");
    md_of(by, "a/sub/three.mid");
    /* the payload is the file's bytes; splits agree with the report */
    size_t len;
    char *path = join(f->src, "a/one.mid"), *bytes = tu_read_file(path, &len);
    char hex[DISCO_SHA256_HEX_LEN + 1];
    assert_int_equal(disco_sha256_hex(bytes, len, hex), DISCO_OK);
    assert_string_equal(disco_json_str(json_object_get(by, "a/one.mid"), "object", ""), hex);
    disco_object_info info;
    assert_int_equal(disco_objects_stat(f->objs, hex, &info, NULL), DISCO_OK);
    int64_t valid = 0;
    const char *key;
    json_t *v;
    json_object_foreach (by, key, v) {
        const json_t *md = json_object_get(v, "metadata");
        valid += strcmp(disco_json_str(md, "split", ""), "valid") == 0;
        assert_string_equal(disco_json_str(json_object_get(v, "tags"), "corpus", ""), "t");
    }
    assert_int_equal(valid, num(r, "valid_pieces"));
    free(path);
    free(bytes);
    json_decref(by);
}

static int same_seq(const disco_tokset *a, size_t i, const disco_tokset *b, size_t j)
{
    return a->lens[i] == b->lens[j] &&
           memcmp(a->seqs[i], b->seqs[j], a->lens[i] * sizeof(int32_t)) == 0;
}

static int style_of(const disco_tokset *s, size_t i)
{
    for (size_t k = 0; k < s->lens[i]; k++) {
        int v;
        if (disco_tok_kind_of(s->seqs[i][k], &v) == DISCO_TK_STYLE)
            return v;
    }
    return -1;
}

static void check_token_files(fixture *f, const json_t *r, int transposed)
{
    disco_tokset train, valid;
    disco_status st = {0};
    char *tp = join(f->out, "train.tok"), *vp = join(f->out, "valid.tok");
    assert_int_equal(disco_tokset_read(tp, &train, &st), DISCO_OK);
    assert_int_equal(disco_tokset_read(vp, &valid, &st), DISCO_OK);
    int64_t tp_n = num(r, "train_pieces"), vp_n = num(r, "valid_pieces");
    assert_int_equal(train.nseqs, transposed ? 12 * tp_n : tp_n);
    assert_int_equal(num(r, "train_sequences"), train.nseqs);
    assert_int_equal(valid.nseqs, vp_n);
    assert_int_equal(num(r, "train_tokens"), train.ntokens);
    assert_int_equal(num(r, "valid_tokens"), valid.ntokens);
    for (size_t i = 0; i < valid.nseqs; i++) {
        assert_int_equal(valid.transpose[i], 0);
        assert_int_equal(valid.piece[i], i);
        for (size_t j = 0; j < train.nseqs; j++)
            assert_false(same_seq(&valid, i, &train, j));
    }
    for (size_t i = 0; i < train.nseqs; i++) {
        const char *src = train.sources[train.source[i]];
        int style = style_of(&train, i);
        assert_int_equal(train.seqs[i][0], DISCO_TOK_BOS);
        assert_int_equal(train.seqs[i][train.lens[i] - 1], DISCO_TOK_EOS);
        assert_true(train.piece[i] < (uint32_t)tp_n);
        if (strcmp(src, "beta") == 0)
            assert_int_equal(style, 1); /* game */
        else
            assert_true(style == 2 || style == 3); /* folk, or classical from the sidecar */
    }
    disco_tokset_release(&train);
    disco_tokset_release(&valid);
    free(tp);
    free(vp);
}

static int64_t corpus_version(const json_t *r)
{
    return num(r, "version");
}

static void test_build_and_rebuild(void **state)
{
    fixture *f = *state;
    json_t *r1 = run_build(f, 1);
    check_report(r1);
    check_resources(f, r1);
    check_token_files(f, r1, 1);
    assert_int_equal(corpus_version(r1), 1);
    const char *train_hash =
        disco_json_str(json_object_get(json_object_get(r1, "token_files"), "train"), "sha256", "");

    json_t *r2 = run_build(f, 1); /* nothing changed: nothing written */
    assert_int_equal(num(r2, "created"), 0);
    assert_int_equal(num(r2, "updated"), 0);
    assert_int_equal(num(r2, "unchanged"), 6);
    assert_string_equal(disco_json_str(r2, "resource", ""), disco_json_str(r1, "resource", "?"));
    assert_int_equal(corpus_version(r2), 1);
    assert_string_equal(
        disco_json_str(json_object_get(json_object_get(r2, "token_files"), "train"), "sha256", ""),
        train_hash);
    json_t *by = pieces_by_path(f);
    assert_int_equal(json_object_size(by), 6);
    assert_int_equal(num(json_object_get(by, "b/four.mid"), "version"), 1);
    json_decref(by);

    json_t *r3 = run_build(f, 0); /* no augmentation: a new corpus version, same pieces */
    assert_int_equal(corpus_version(r3), 2);
    assert_int_equal(num(r3, "unchanged"), 6);
    check_token_files(f, r3, 0);
    assert_string_equal(disco_json_str(json_object_get(r3, "augmentation"), "kind", ""), "none");

    write_text(f->src, "sources.json", manifest("GPL-3.0")); /* a licence corrected */
    json_t *r4 = run_build(f, 0);
    assert_int_equal(num(r4, "updated"), 3);
    assert_int_equal(num(r4, "unchanged"), 3);
    by = pieces_by_path(f);
    const json_t *four = json_object_get(by, "b/four.mid");
    assert_int_equal(num(four, "version"), 2);
    assert_string_equal(disco_json_str(json_object_get(four, "metadata"), "licence", ""),
                        "GPL-3.0");
    json_decref(by);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(r4);
}

static void test_bad_sources(void **state)
{
    fixture *f = *state;
    disco_corpus_config cfg = disco_corpus_config_default();
    disco_status st = {0};
    json_t *report = NULL;
    char *empty = join(f->dir, "empty");
    assert_int_equal(mkdir(empty, 0755), 0);
    cfg.source = empty;
    cfg.out = f->out;
    cfg.owner = "tester";
    assert_int_equal(disco_corpus_build(f->cat, f->objs, &cfg, &report, &st), DISCO_ERR_NOTFOUND);
    assert_non_null(strstr(st.msg, "fetch-corpus.sh"));
    write_text(empty, "sources.json",
               "{\"sources\": [{\"name\": \"x\", \"dir\": \"x\", "
               "\"style\": \"polka\"}]}");
    assert_int_equal(disco_corpus_build(f->cat, f->objs, &cfg, &report, &st), DISCO_ERR_INVAL);
    assert_non_null(strstr(st.msg, "style 'polka'"));
    cfg.source = f->src;
    cfg.valid_share = 0.9;
    assert_int_equal(disco_corpus_build(f->cat, f->objs, &cfg, &report, &st), DISCO_ERR_INVAL);
    assert_string_equal(st.field, "valid_share");
    assert_null(report);
    free(empty);
}

/* ---- the token file format ---------------------------------------------------------- */

static void test_tokset_round_trip(void **state)
{
    fixture *f = *state;
    int32_t a[] = {DISCO_TOK_BOS, DISCO_TOK_BAR, DISCO_TOK_POS0, DISCO_TOK_EOS};
    int32_t b[] = {DISCO_TOK_BOS, DISCO_TOK_EOS};
    int32_t bad[] = {DISCO_TOK_BOS, DISCO_TOK_VOCAB};
    disco_tokset s, back;
    disco_status st = {0};
    char *path = join(f->dir, "x.tok");

    disco_tokset_init(&s);
    for (int i = 0; i < 300; i++) /* enough to move the buffers while growing */
        assert_int_equal(disco_tokset_add(&s, i % 2 ? "odd" : "even", (uint32_t)i / 2, i % 3 - 1,
                                          i % 2 ? a : b, i % 2 ? 4 : 2, &st),
                         DISCO_OK);
    assert_int_equal(disco_tokset_add(&s, "odd", 0, 0, bad, 2, &st), DISCO_ERR_INVAL);
    assert_int_equal(disco_tokset_add(&s, "odd", 0, 0, a, 0, &st), DISCO_ERR_INVAL);
    assert_int_equal(s.nsources, 2);
    assert_int_equal(disco_tokset_write(path, &s, &st), DISCO_OK);
    assert_int_equal(disco_tokset_read(path, &back, &st), DISCO_OK);
    assert_int_equal(back.nseqs, 300);
    assert_int_equal(back.ntokens, 150 * 4 + 150 * 2);
    assert_string_equal(back.sources[back.source[7]], "odd");
    for (size_t i = 0; i < 300; i++) {
        assert_true(same_seq(&s, i, &back, i));
        assert_int_equal(back.piece[i], i / 2);
        assert_int_equal(back.transpose[i], (int)(i % 3) - 1);
    }
    disco_tokset_release(&back);
    disco_tokset_release(&s);
    disco_tokset_release(&s); /* twice: a no-op */
    free(path);
}

static void expect_refused(const uint8_t *buf, size_t len, int code, const char *words)
{
    disco_tokset s;
    disco_status st = {0};
    assert_int_equal(disco_tokset_read_mem(buf, len, &s, &st), code);
    if (!strstr(st.msg, words))
        fail_msg("message '%s' lacks '%s'", st.msg, words);
    assert_int_equal(s.nseqs, 0);
}

/* Rewrites the trailing checksum after an edit, so the edit itself is what is refused. */
static void reseal(uint8_t *buf, size_t len)
{
    put32(buf + len - 4, disco_crc32c(0, buf, len - 4));
}

static void test_tokset_refusals(void **state)
{
    fixture *f = *state;
    int32_t a[] = {DISCO_TOK_BOS, DISCO_TOK_BAR, DISCO_TOK_EOS};
    disco_tokset s;
    char *path = join(f->dir, "y.tok");
    size_t len;

    disco_tokset_init(&s);
    assert_int_equal(disco_tokset_add(&s, "src", 0, 0, a, 3, NULL), DISCO_OK);
    assert_int_equal(disco_tokset_write(path, &s, NULL), DISCO_OK);
    disco_tokset_release(&s);
    uint8_t *buf = (uint8_t *)tu_read_file(path, &len);
    assert_int_equal(len, 32 + 2 + 3 + 16 + 12 + 4);

    expect_refused(buf, 20, DISCO_ERR_CORRUPT, "shorter than its header");
    buf[len - 10] ^= 1;
    expect_refused(buf, len, DISCO_ERR_CORRUPT, "checksum");
    buf[len - 10] ^= 1;
    buf[0] = 'X';
    expect_refused(buf, len, DISCO_ERR_CORRUPT, "not a token file");
    buf[0] = 'D';
    put32(buf + 8, 2);
    expect_refused(buf, len, DISCO_ERR_UNSUPPORTED, "version 2");
    put32(buf + 8, 1);
    put32(buf + 12, 12);
    reseal(buf, len);
    expect_refused(buf, len, DISCO_ERR_UNSUPPORTED, "vocabulary of 12");
    put32(buf + 12, DISCO_TOK_VOCAB);
    put32(buf + len - 8, 9999); /* the last token */
    reseal(buf, len);
    expect_refused(buf, len, DISCO_ERR_CORRUPT, "outside the vocabulary");
    put32(buf + len - 8, DISCO_TOK_EOS);
    put32(buf + 37, 5); /* source index */
    reseal(buf, len);
    expect_refused(buf, len, DISCO_ERR_CORRUPT, "source index");
    put32(buf + 37, 0);
    put32(buf + 24, 4); /* token count */
    reseal(buf, len);
    expect_refused(buf, len, DISCO_ERR_CORRUPT, "differs from the header");
    put32(buf + 24, 3);
    reseal(buf, len);
    disco_tokset ok;
    assert_int_equal(disco_tokset_read_mem(buf, len, &ok, NULL), DISCO_OK);
    disco_tokset_release(&ok);
    free(buf);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build_and_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokset_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokset_refusals, setup, teardown),
    };
    return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
