/*
 * corpus_read.c - what the corpus build reads: sources.json, the source
 * folders (MIDI files, WAD music lumps, sidecar JSON), and the content hash
 * that finds the same tune in two places.
 */
#include "corpus_int.h"

#include "disco/json.h"
#include "disco/tokens.h"
#include "disco/wad.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MANIFEST_MAX (4u * 1024 * 1024)
#define SIDECAR_MAX (4u * 1024 * 1024)
#define MIDI_FILE_MAX (64u * 1024 * 1024)
#define WALK_DEPTH_MAX 32

/* ---- sources.json ------------------------------------------------------------------ */

void disco__corpus_sources_release(corpus_sources *s)
{
    for (size_t i = 0; i < s->count; i++) {
        corpus_source *c = &s->items[i];
        free(c->name);
        free(c->dir);
        free(c->licence);
        free(c->licence_file);
        free(c->version);
    }
    free(s->items);
    memset(s, 0, sizeof(*s));
}

static int style_index(const char *name)
{
    for (int i = 0; name && i < DISCO_TOK_NSTYLES; i++)
        if (strcasecmp(disco_tok_styles[i], name) == 0)
            return i;
    if (name && (strcasecmp(name, "ragtime") == 0 || strcasecmp(name, "blues") == 0))
        return style_index("jazz");
    return -1;
}

static int source_entry(const json_t *e, size_t i, const char *path, corpus_source *c,
                        disco_status *st)
{
    const char *name = disco_json_str(e, "name", NULL), *dir = disco_json_str(e, "dir", NULL);
    const char *style = disco_json_str(e, "style", "unknown");
    if (!json_is_object(e) || !name || !name[0] || !dir || !dir[0])
        return disco_status_set(st, DISCO_ERR_INVAL, "source",
                                "%s: source %zu needs a non-empty \"name\" and \"dir\"", path, i);
    c->style = style_index(style);
    if (c->style < 0)
        return disco_status_set(st, DISCO_ERR_INVAL, "source",
                                "%s: source '%s': style '%s' is not one of unknown, game, folk, "
                                "classical, jazz, pop, rock, electronic",
                                path, name, style);
    c->name = strdup(name);
    c->dir = strdup(dir);
    c->licence = strdup(disco_json_str(e, "licence", "unknown"));
    c->licence_file = strdup(disco_json_str(e, "licence_file", ""));
    c->version = strdup(disco_json_str(e, "version", ""));
    if (!c->name || !c->dir || !c->licence || !c->licence_file || !c->version)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    return DISCO_OK;
}

int disco__corpus_sources_load(const char *root, corpus_sources *out, disco_status *st)
{
    char path[4096];
    json_t *j = NULL;
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "%s/sources.json", root);
    int rc = disco_json_load_file(path, MANIFEST_MAX, &j, st);
    if (rc == DISCO_ERR_NOTFOUND)
        return disco_status_set(st, rc, "source",
                                "no %s: run scripts/fetch-corpus.sh (it prints the folder to "
                                "give) or write one (see include/disco/corpus.h)",
                                path);
    if (rc)
        return rc;
    const json_t *arr = json_object_get(j, "sources");
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        rc = disco_status_set(st, DISCO_ERR_INVAL, "source",
                              "%s: expected {\"sources\": [...]} with at least one source", path);
        goto done;
    }
    out->items = calloc(json_array_size(arr), sizeof(*out->items));
    if (!out->items) {
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
        out->count = i + 1;
        rc = source_entry(json_array_get(arr, i), i, path, &out->items[i], st);
    }
done:
    json_decref(j);
    if (rc)
        disco__corpus_sources_release(out);
    return rc;
}

/* ---- text ----------------------------------------------------------------------------- */

json_t *disco__corpus_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *buf = malloc(2 * n + 1);
    size_t k = 0;
    if (!buf)
        return j;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) /* controls (and NULs) become spaces */
            buf[k++] = ' ';
        else if (c < 0x80 || j) /* valid UTF-8 is kept as it is */
            buf[k++] = (char)c;
        else { /* otherwise read as Latin-1 */
            buf[k++] = (char)(0xC0 | c >> 6);
            buf[k++] = (char)(0x80 | (c & 0x3f));
        }
    }
    while (k > 0 && buf[k - 1] == ' ')
        k--;
    size_t b = 0;
    while (b < k && buf[b] == ' ')
        b++;
    json_decref(j);
    j = json_stringn(buf + b, k - b);
    free(buf);
    return j;
}

/* ---- pieces --------------------------------------------------------------------------- */

void disco__corpus_piece_release(corpus_piece *p)
{
    free(p->path);
    free(p->title);
    free(p->licence);
    free(p->attribution);
    free(p->source_url);
    free(p->licence_file);
    free(p->midi);
    disco_score_release(&p->score);
    memset(p, 0, sizeof(*p));
}

/* The first non-empty track name of the first track (the song's title by convention). */
static char *smf_title(const disco_smf *smf)
{
    if (smf->ntracks == 0)
        return NULL;
    const disco_midi_track *t = &smf->tracks[0];
    for (size_t i = 0; i < t->count; i++) {
        const disco_midi_event *e = &t->events[i];
        if (e->kind != DISCO_MIDI_META || e->meta != 0x03 || !e->data)
            continue;
        json_t *s = disco__corpus_text((const char *)e->data, e->len);
        char *title = s && json_string_length(s) ? strdup(json_string_value(s)) : NULL;
        json_decref(s);
        if (title)
            return title;
    }
    return NULL;
}

static int set_str(char **dst, const char *s)
{
    char *c = s ? strdup(s) : NULL;
    if (s && !c)
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

/* Reads p->midi into p->score and finds the title and content hash. */
static int read_midi(corpus_piece *p, const char *fallback_title, disco_status *st)
{
    disco_smf smf;
    int rc = disco_smf_read_mem(p->midi, p->midi_len, &smf, st);
    if (rc)
        return rc;
    rc = disco_score_from_smf(&smf, &p->score, st);
    if (!rc && !p->title) {
        p->title = smf_title(&smf);
        if (!p->title && set_str(&p->title, fallback_title))
            rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    disco_smf_release(&smf);
    if (!rc)
        rc = disco__corpus_content_hash(&p->score, p->hash, st);
    return rc;
}

/* `path` with its extension replaced by ".json", or NULL. */
static char *sidecar_path(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    char *out = NULL;
    if (!dot || (slash && dot < slash) || asprintf(&out, "%.*s.json", (int)(dot - path), path) < 0)
        return NULL;
    return out;
}

/* Title, style, licence and attribution from <stem>.json next to a MIDI file. */
static int read_sidecar(const char *file, const char *rel, corpus_piece *p)
{
    char *path = sidecar_path(file);
    json_t *j = NULL;
    int rc = path ? disco_json_load_file(path, SIDECAR_MAX, &j, NULL) : DISCO_ERR_NOTFOUND;
    free(path);
    if (rc)
        return 0; /* no sidecar, or not one we can read: the source's data stands */
    const json_t *prov = json_object_get(j, "provenance");
    int style = style_index(disco_json_str(j, "genre", NULL));
    const char *lic =
        disco_json_str(prov, "arrangement_license", disco_json_str(j, "license", NULL));
    int bad = set_str(&p->title, disco_json_str(j, "title", NULL)) ||
              set_str(&p->attribution, disco_json_str(prov, "arrangement_creator", NULL)) ||
              set_str(&p->source_url, disco_json_str(prov, "source_url", NULL)) ||
              (lic && set_str(&p->licence, lic));
    if (!bad && lic && !(p->licence_file = sidecar_path(rel)))
        bad = 1;
    if (style >= 0)
        p->style = style;
    json_decref(j);
    return bad ? -1 : 0;
}

static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    return strndup(base, dot ? (size_t)(dot - base) : strlen(base));
}

static int load_bytes(const char *path, uint8_t **buf, size_t *len, disco_status *st)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f)
        return disco_status_errno(st, errno, "path", "cannot open %s", path);
    int rc = DISCO_OK;
    if (fstat(fileno(f), &sb) != 0 || (uint64_t)sb.st_size > MIDI_FILE_MAX) {
        rc = disco_status_set(st, DISCO_ERR_LIMIT, "path", "%s is larger than %u bytes", path,
                              MIDI_FILE_MAX);
        goto close_file;
    }
    *len = (size_t)sb.st_size;
    *buf = malloc(*len ? *len : 1);
    if (!*buf)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory reading %s", path);
    else if (fread(*buf, 1, *len, f) != *len) {
        rc = disco_status_set(st, DISCO_ERR_IO, "path", "cannot read %s", path);
        free(*buf);
        *buf = NULL;
    }
close_file:
    fclose(f);
    return rc;
}

/* ---- walking -------------------------------------------------------------------------- */

typedef struct walk {
    const corpus_source *src;
    corpus_piece_fn fn;
    void *user;
    size_t files;
} walk;

static int piece_start(const walk *w, corpus_piece *p, const char *rel, const char *lump)
{
    memset(p, 0, sizeof(*p));
    p->src = w->src;
    p->style = w->src->style;
    p->licence = strdup(w->src->licence);
    if (lump && asprintf(&p->path, "%s:%s", rel, lump) < 0)
        p->path = NULL;
    else if (!lump)
        p->path = strdup(rel);
    return p->licence && p->path ? 0 : -1;
}

/* Hands a piece (or its failure) to the callback and releases it. */
static int deliver(walk *w, corpus_piece *p, int rc, const disco_status *err)
{
    int r = w->fn(w->user, p, rc ? err : NULL);
    disco__corpus_piece_release(p);
    return r;
}

static int visit_midi(walk *w, const char *abs, const char *rel)
{
    corpus_piece p;
    disco_status err = {0};
    int rc = DISCO_OK;
    char *stem = stem_of(abs);
    if (piece_start(w, &p, rel, NULL) || !stem || read_sidecar(abs, rel, &p))
        rc = disco_status_set(&err, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!rc)
        rc = load_bytes(abs, &p.midi, &p.midi_len, &err);
    if (!rc)
        rc = read_midi(&p, stem, &err);
    free(stem);
    if (rc == DISCO_ERR_NOMEM) {
        disco__corpus_piece_release(&p);
        return rc;
    }
    return deliver(w, &p, rc, &err);
}

static int visit_lump(walk *w, const disco_wad *wad, size_t i, const char *rel)
{
    corpus_piece p;
    disco_status err = {0};
    int rc = DISCO_OK;
    if (piece_start(w, &p, rel, wad->lumps[i].name))
        rc = disco_status_set(&err, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (!rc)
        rc = disco_wad_music(wad, i, &p.midi, &p.midi_len, &err);
    if (!rc)
        rc = read_midi(&p, wad->lumps[i].name, &err);
    if (rc == DISCO_ERR_NOMEM) {
        disco__corpus_piece_release(&p);
        return rc;
    }
    return deliver(w, &p, rc, &err);
}

/* Every lump named D_* with bytes is music (MIDI or MUS); anything else there is a failure. */
static int visit_wad(walk *w, const char *abs, const char *rel)
{
    disco_wad wad;
    disco_status err = {0};
    int rc = disco_wad_read(abs, &wad, &err);
    if (rc) {
        corpus_piece p;
        if (piece_start(w, &p, rel, NULL)) {
            disco__corpus_piece_release(&p);
            return DISCO_ERR_NOMEM;
        }
        return deliver(w, &p, rc, &err);
    }
    for (size_t i = 0; !rc && i < wad.nlumps; i++)
        if (wad.lumps[i].size > 0 && strncasecmp(wad.lumps[i].name, "D_", 2) == 0)
            rc = visit_lump(w, &wad, i, rel);
    disco_wad_release(&wad);
    return rc;
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

static int visit_dir(walk *w, const char *abs, const char *rel, int depth, disco_status *st);

static int visit_entry(walk *w, const char *abs, const char *rel, const char *name, int depth,
                       disco_status *st)
{
    struct stat sb;
    if (lstat(abs, &sb) != 0)
        return DISCO_OK; /* vanished while walking */
    if (S_ISDIR(sb.st_mode))
        return depth < WALK_DEPTH_MAX ? visit_dir(w, abs, rel, depth + 1, st) : DISCO_OK;
    if (S_ISLNK(sb.st_mode) && (stat(abs, &sb) != 0 || !S_ISREG(sb.st_mode)))
        return DISCO_OK; /* links are followed to files only, never to folders */
    int midi = has_ext(name, ".mid") || has_ext(name, ".midi") || has_ext(name, ".kar");
    int wad = has_ext(name, ".wad");
    if (!midi && !wad)
        return DISCO_OK;
    w->files++;
    int rc = midi ? visit_midi(w, abs, rel) : visit_wad(w, abs, rel);
    if (rc == DISCO_ERR_NOMEM)
        return disco_status_set(st, rc, NULL, "out of memory reading %s", abs);
    return rc;
}

static int visit_dir(walk *w, const char *abs, const char *rel, int depth, disco_status *st)
{
    struct dirent **ents = NULL;
    int n = scandir(abs, &ents, NULL, alphasort), rc = DISCO_OK;
    if (n < 0)
        return disco_status_errno(st, errno, "source", "cannot list %s (source '%s')", abs,
                                  w->src->name);
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        char *a = NULL, *r = NULL;
        if (!rc && name[0] != '.') {
            if (asprintf(&a, "%s/%s", abs, name) < 0 || asprintf(&r, "%s/%s", rel, name) < 0)
                rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
            else
                rc = visit_entry(w, a, r, name, depth, st);
        }
        free(a);
        free(r);
        free(ents[i]);
    }
    free(ents);
    return rc;
}

int disco__corpus_walk(const char *root, const corpus_source *src, corpus_piece_fn fn, void *user,
                       size_t *files, disco_status *st)
{
    walk w = {.src = src, .fn = fn, .user = user};
    char *abs = NULL;
    if (src->dir[0] == '/' ? asprintf(&abs, "%s", src->dir) < 0
                           : asprintf(&abs, "%s/%s", root, src->dir) < 0)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    int rc = visit_dir(&w, abs, src->dir, 0, st);
    free(abs);
    *files = w.files;
    return rc;
}

/* ---- content hash ---------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int disco__corpus_content_hash(const disco_score *sc, char out[DISCO_SHA256_HEX_LEN + 1],
                               disco_status *st)
{
    uint64_t *keys = malloc((sc->nnotes ? sc->nnotes : 1) * sizeof(*keys));
    if (!keys)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    uint64_t tpq = sc->tpq > 0 ? (uint64_t)sc->tpq : 480;
    for (size_t i = 0; i < sc->nnotes; i++) {
        const disco_note_ev *n = &sc->notes[i];
        uint64_t onset = ((uint64_t)n->start * 4 + tpq / 2) / tpq;
        keys[i] = onset << 16 | (uint64_t)(n->channel == DISCO_MIDI_DRUMS) << 8 | n->pitch;
    }
    qsort(keys, sc->nnotes, sizeof(*keys), cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < sc->nnotes; i++)
        if (k == 0 || keys[k - 1] != keys[i])
            keys[k++] = keys[i];
    uint8_t *bytes = (uint8_t *)keys; /* rewritten in place as little-endian */
    for (size_t i = 0; i < k; i++) {
        uint64_t v = keys[i];
        for (int b = 0; b < 8; b++)
            bytes[8 * i + (size_t)b] = (uint8_t)(v >> (8 * b));
    }
    int rc = disco_sha256_hex(bytes, 8 * k, out);
    free(keys);
    return rc ? disco_status_set(st, rc, NULL, "cannot hash the notes") : DISCO_OK;
}
