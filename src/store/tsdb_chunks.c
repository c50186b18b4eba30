/*
 * tsdb_chunks.c - chunk files: immutable files of encoded series chunks,
 * written at a flush, mapped for reading, rewritten whole by deletes,
 * retention and merges (tsdb_compact.c).
 *
 *   chunks/000000000000002a.dtc
 *   +----------------------------- header (16 bytes) ---------------------------+
 *   | "DTSC" | version u16 | flags u16 | seq u64 (the number in the name)       |
 *   +----------------------------- chunks ---------------------------------------+
 *   | tscodec chunk | tscodec chunk | ...   (each self-checking, tscodec.h)    |
 *   +----------------------------- index: one entry per chunk (40 bytes) ------+
 *   | series u32 | count u32 | t_first i64 | t_last i64 | offset u64 |         |
 *   | length u32 | precision kind u8 | decimals u8 | reserved u16              |
 *   +----------------------------- footer (48 bytes) -------------------------+
 *   | index_offset u64 | n_entries u32 | index crc32c u32 | points u64 |      |
 *   | t_min i64 | t_max i64 | "DTSE" | crc32c u32 of the 44 footer bytes before|
 *   +----------------------------------------------------------------------------+
 *
 *   Entries are sorted by series, then time; a series' chunks are adjacent.
 *   The precision is the one its values were encoded under, so a rewrite
 *   can encode them again.
 *
 * Files are written as <seq>.tmp, fsynced, renamed and the folder fsynced.
 * A rewrite keeps the number (it holds the same generation of data, which
 * is what "newest wins" and the replay of deletes go by). Opening checks
 * headers, footers and indexes; chunk checksums are checked when read.
 */
#include "tsdb_int.h"

#include "disco/crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CF_VERSION 1
#define CF_FLUSH ((size_t)1 << 20)

typedef struct cf_header {
    char magic[4];
    uint16_t version, flags;
    uint64_t seq;
} cf_header;

typedef struct cf_entry {
    uint32_t series, count;
    int64_t t_first, t_last;
    uint64_t offset;
    uint32_t length;
    uint8_t prec_kind, prec_decimals;
    uint16_t reserved;
} cf_entry;

typedef struct cf_footer {
    uint64_t index_offset;
    uint32_t n_entries, index_crc;
    uint64_t points;
    int64_t t_min, t_max;
    char magic[4];
    uint32_t crc;
} cf_footer;

_Static_assert(sizeof(cf_header) == 16, "chunk file header is 16 bytes");
_Static_assert(sizeof(cf_entry) == 40, "chunk index entry is 40 bytes");
_Static_assert(offsetof(cf_entry, offset) == 24, "entry offset at 24");
_Static_assert(offsetof(cf_entry, prec_kind) == 36, "entry precision at 36");
_Static_assert(sizeof(cf_footer) == 48, "chunk file footer is 48 bytes");
_Static_assert(offsetof(cf_footer, magic) == 40, "footer magic at 40");

#define HDR_SIZE sizeof(cf_header)
#define ENT_SIZE sizeof(cf_entry)
#define FTR_SIZE sizeof(cf_footer)

/* ---- entries ---------------------------------------------------------------------- */

static void entry_encode(uint8_t *p, const tsdb_centry *e)
{
    tsdb_put32(p, e->series);
    tsdb_put32(p + 4, e->count);
    tsdb_put64(p + 8, (uint64_t)e->t_first);
    tsdb_put64(p + 16, (uint64_t)e->t_last);
    tsdb_put64(p + 24, e->offset);
    tsdb_put32(p + 32, e->length);
    p[36] = e->prec_kind;
    p[37] = e->prec_decimals;
    tsdb_put16(p + 38, 0);
}

static void entry_decode(const uint8_t *p, tsdb_centry *e)
{
    e->series = tsdb_get32(p);
    e->count = tsdb_get32(p + 4);
    e->t_first = (int64_t)tsdb_get64(p + 8);
    e->t_last = (int64_t)tsdb_get64(p + 16);
    e->offset = tsdb_get64(p + 24);
    e->length = tsdb_get32(p + 32);
    e->prec_kind = p[36];
    e->prec_decimals = p[37];
}

disco_ts_precision disco__centry_prec(const tsdb_centry *e)
{
    disco_ts_precision p = {(disco_ts_precision_kind)e->prec_kind, e->prec_decimals};
    return p;
}

/* ---- the file registry and chunk references ------------------------------------------- */

static char *file_path(const disco_tsdb *db, uint64_t seq)
{
    size_t n = strlen(db->dir) + 40;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/chunks/%016" PRIx64 ".dtc", db->dir, seq);
    return p;
}

static void file_name(uint64_t seq, const char *ext, char out[32])
{
    snprintf(out, 32, "%016" PRIx64 ".%s", seq, ext);
}

void disco__cfile_unmap(tsdb_cfile *f)
{
    if (f->map)
        munmap((void *)f->map, f->size);
    free(f->entries);
    f->map = NULL;
    f->entries = NULL;
    f->n_entries = 0;
}

static void cfile_free(tsdb_cfile *f)
{
    if (!f)
        return;
    disco__cfile_unmap(f);
    free(f->path);
    free(f);
}

static int files_push(disco_tsdb *db, tsdb_cfile *f)
{
    size_t at = db->n_files;

    if (db->n_files == db->cap_files) {
        size_t ncap = db->cap_files ? db->cap_files * 2 : 16;
        tsdb_cfile **nf = realloc(db->files, ncap * sizeof *nf);
        if (!nf)
            return DISCO_ERR_NOMEM;
        db->files = nf;
        db->cap_files = ncap;
    }
    while (at > 0 && db->files[at - 1]->seq > f->seq)
        at--;
    memmove(db->files + at + 1, db->files + at, (db->n_files - at) * sizeof *db->files);
    db->files[at] = f;
    db->n_files++;
    return DISCO_OK;
}

static void files_remove(disco_tsdb *db, tsdb_cfile *f)
{
    for (size_t i = 0; i < db->n_files; i++)
        if (db->files[i] == f) {
            memmove(db->files + i, db->files + i + 1, (db->n_files - i - 1) * sizeof *db->files);
            db->n_files--;
            return;
        }
}

static void overlap_refresh(tsdb_series *s)
{
    s->overlap = 0;
    for (size_t i = 1; i < s->n_chunks; i++)
        if (s->chunks[i].t_first <= s->chunks[i - 1].t_last)
            s->overlap = 1;
}

static int cref_add(tsdb_series *s, tsdb_cfile *f, uint32_t entry)
{
    const tsdb_centry *e = &f->entries[entry];
    size_t at = s->n_chunks;

    if (s->n_chunks == s->cap_chunks) {
        size_t ncap = s->cap_chunks ? s->cap_chunks * 2 : 4;
        tsdb_cref *nc = realloc(s->chunks, ncap * sizeof *nc);
        if (!nc)
            return DISCO_ERR_NOMEM;
        s->chunks = nc;
        s->cap_chunks = ncap;
    }
    while (at > 0 && s->chunks[at - 1].t_first > e->t_first)
        at--;
    memmove(s->chunks + at + 1, s->chunks + at, (s->n_chunks - at) * sizeof *s->chunks);
    s->chunks[at] = (tsdb_cref){f, entry, e->count, e->t_first, e->t_last};
    s->n_chunks++;
    if ((at > 0 && s->chunks[at - 1].t_last >= e->t_first) ||
        (at + 1 < s->n_chunks && e->t_last >= s->chunks[at + 1].t_first))
        s->overlap = 1;
    if (e->t_last > s->chunk_max)
        s->chunk_max = e->t_last;
    return DISCO_OK;
}

/* Adds the chunks of `f` to their series; CORRUPT when one is unknown. */
static int crefs_attach(disco_tsdb *db, tsdb_cfile *f, disco_status *st)
{
    for (uint32_t i = 0; i < f->n_entries; i++) {
        tsdb_series *s = disco__series_by_id(db, f->entries[i].series);
        if (!s || !s->alive)
            return disco_status_set(st, DISCO_ERR_CORRUPT, "chunks",
                                    "tsdb chunk file %s: index entry %" PRIu32
                                    " names series %" PRIu32 ", which is not in the registry",
                                    f->path, i, f->entries[i].series);
        if (cref_add(s, f, i) != DISCO_OK)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    return DISCO_OK;
}

static void crefs_detach(disco_tsdb *db, tsdb_cfile *f)
{
    for (uint32_t i = 0; i < f->n_entries; i++) {
        tsdb_series *s = disco__series_by_id(db, f->entries[i].series);
        size_t k = 0;
        if (!s || !s->n_chunks || (i > 0 && f->entries[i - 1].series == f->entries[i].series))
            continue;
        for (size_t j = 0; j < s->n_chunks; j++)
            if (s->chunks[j].file != f)
                s->chunks[k++] = s->chunks[j];
        s->n_chunks = k;
        overlap_refresh(s);
        disco__series_refresh(s);
    }
}

int disco__chunk_decode(const tsdb_cref *r, int64_t *ts, double *v, disco_status *st)
{
    const tsdb_centry *e = &r->file->entries[r->entry];
    disco_status cst = {0};
    size_t n = 0;
    int rc = disco_tscodec_decode(r->file->map + e->offset, e->length, ts, v, r->count, &n, &cst);

    if (rc == DISCO_OK && n == r->count &&
        (n == 0 || (ts[0] == e->t_first && ts[n - 1] == e->t_last)))
        return DISCO_OK;
    return disco_status_set(st, DISCO_ERR_CORRUPT, "chunks",
                            "tsdb chunk file %s: chunk of series %" PRIu32 " at offset %" PRIu64
                            ": %s",
                            r->file->path, e->series, e->offset,
                            rc != DISCO_OK ? disco_status_message(&cst)
                                           : "point count or time range differs from the index");
}

/* ---- reading a file ------------------------------------------------------------------- */

static int cf_bad(const tsdb_cfile *f, size_t off, const char *what, disco_status *st)
{
    return disco_status_set(st, DISCO_ERR_CORRUPT, "chunks", "tsdb chunk file %s: %s at offset %zu",
                            f->path, what, off);
}

static int check_entry(const tsdb_cfile *f, const tsdb_centry *e, uint64_t index_off, size_t at,
                       disco_status *st)
{
    if (e->offset < HDR_SIZE || e->offset > index_off || e->length > index_off - e->offset ||
        e->count == 0 || e->count > DISCO_TSCODEC_MAX_POINTS || e->t_first > e->t_last ||
        e->prec_kind > DISCO_TS_DECIMAL || e->prec_decimals > 9)
        return cf_bad(f, at, "bad index entry", st);
    return DISCO_OK;
}

static int parse_index(tsdb_cfile *f, uint64_t index_off, uint32_t n, disco_status *st)
{
    int rc;

    if (!(f->entries = calloc(n ? n : 1, sizeof *f->entries)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    f->n_entries = n;
    f->t_min = INT64_MAX;
    f->t_max = INT64_MIN;
    for (uint32_t i = 0; i < n; i++) {
        size_t at = (size_t)index_off + (size_t)i * ENT_SIZE;
        tsdb_centry *e = &f->entries[i];
        entry_decode(f->map + at, e);
        if ((rc = check_entry(f, e, index_off, at, st)) != DISCO_OK)
            return rc;
        if (i > 0 && e->series < f->entries[i - 1].series)
            return cf_bad(f, at, "index out of order", st);
        f->points += e->count;
        f->t_min = e->t_first < f->t_min ? e->t_first : f->t_min;
        f->t_max = e->t_last > f->t_max ? e->t_last : f->t_max;
    }
    return DISCO_OK;
}

static int cf_parse(tsdb_cfile *f, disco_status *st)
{
    const uint8_t *m = f->map, *ft;
    uint64_t index_off;
    uint32_t n;

    if (f->size < HDR_SIZE + FTR_SIZE)
        return cf_bad(f, 0, "file too short", st);
    if (memcmp(m, "DTSC", 4) != 0 || tsdb_get16(m + 4) != CF_VERSION)
        return cf_bad(f, 0, "not a chunk file (or unknown version)", st);
    if (tsdb_get64(m + 8) != f->seq)
        return cf_bad(f, 8, "number differs from the file name", st);
    ft = m + f->size - FTR_SIZE;
    if (memcmp(ft + 40, "DTSE", 4) != 0 || tsdb_get32(ft + 44) != disco_crc32c(0, ft, 44))
        return cf_bad(f, f->size - FTR_SIZE, "footer damaged", st);
    index_off = tsdb_get64(ft);
    n = tsdb_get32(ft + 8);
    if (index_off < HDR_SIZE || index_off > f->size - FTR_SIZE ||
        (f->size - FTR_SIZE - index_off) / ENT_SIZE != n ||
        (f->size - FTR_SIZE - index_off) % ENT_SIZE)
        return cf_bad(f, f->size - FTR_SIZE, "footer does not match the file size", st);
    if (tsdb_get32(ft + 12) != disco_crc32c(0, m + index_off, (size_t)n * ENT_SIZE))
        return cf_bad(f, (size_t)index_off, "index checksum mismatch", st);
    return parse_index(f, index_off, n, st);
}

static int cf_map(disco_tsdb *db, tsdb_cfile *f, const char *name, disco_status *st)
{
    struct stat sb;
    int fd = openat(db->chunkfd, name, O_RDONLY | O_CLOEXEC), rc = DISCO_OK;
    void *map;

    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = disco_status_errno(st, errno, "chunks", "tsdb: cannot open chunk file %s", f->path);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    f->size = (size_t)sb.st_size;
    map = f->size ? mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (map == MAP_FAILED)
        rc = f->size ? disco_status_errno(st, errno, "chunks", "tsdb: cannot map %s", f->path)
                     : cf_bad(f, 0, "empty file", st);
    else
        f->map = map;
    close(fd);
    return rc;
}

static int cf_open(disco_tsdb *db, uint64_t seq, tsdb_cfile **out, disco_status *st)
{
    tsdb_cfile *f = calloc(1, sizeof *f);
    char name[32];
    int rc;

    if (!f || !(f->path = file_path(db, seq))) {
        free(f);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    f->seq = seq;
    file_name(seq, "dtc", name);
    if ((rc = cf_map(db, f, name, st)) != DISCO_OK || (rc = cf_parse(f, st)) != DISCO_OK) {
        cfile_free(f);
        return rc;
    }
    *out = f;
    return DISCO_OK;
}

static int list_files(disco_tsdb *db, uint64_t **seqs, size_t *n, disco_status *st)
{
    int fd = dup(db->chunkfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    size_t cap = 0;

    *seqs = NULL;
    *n = 0;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return disco_status_errno(st, errno, "chunks", "tsdb: cannot list %s/chunks", db->dir);
    }
    rewinddir(d);
    while ((e = readdir(d)) != NULL) {
        char *end;
        uint64_t seq = strtoull(e->d_name, &end, 16);
        if (strlen(e->d_name) != 20 || end != e->d_name + 16)
            continue;
        if (strcmp(end, ".tmp") == 0)
            unlinkat(db->chunkfd, e->d_name, 0);
        if (strcmp(end, ".dtc") != 0)
            continue;
        if (*n == cap) {
            uint64_t *ns = realloc(*seqs, (cap = cap ? cap * 2 : 64) * sizeof *ns);
            if (!ns) {
                closedir(d);
                return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
            }
            *seqs = ns;
        }
        (*seqs)[(*n)++] = seq;
    }
    closedir(d);
    return DISCO_OK;
}

int disco__chunks_load(disco_tsdb *db, disco_status *st)
{
    uint64_t *seqs;
    size_t n;
    int rc = list_files(db, &seqs, &n, st);

    for (size_t i = 0; rc == DISCO_OK && i < n; i++) {
        tsdb_cfile *f = NULL;
        if ((rc = cf_open(db, seqs[i], &f, st)) != DISCO_OK)
            break;
        if (files_push(db, f) != DISCO_OK) {
            cfile_free(f);
            rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        }
        if (seqs[i] >= db->next_file_seq)
            db->next_file_seq = seqs[i] + 1;
    }
    free(seqs);
    return rc;
}

int disco__chunks_attach(disco_tsdb *db, disco_status *st)
{
    int rc;

    for (size_t i = 0; i < db->n_files; i++)
        if ((rc = crefs_attach(db, db->files[i], st)) != DISCO_OK)
            return rc;
    return DISCO_OK;
}

void disco__chunks_free(disco_tsdb *db)
{
    for (size_t i = 0; i < db->n_files; i++)
        cfile_free(db->files[i]);
    free(db->files);
    db->files = NULL;
    db->n_files = db->cap_files = 0;
}

/* ---- writing a file ------------------------------------------------------------------- */

static int cw_flush(tsdb_cwriter *w, disco_status *st)
{
    const uint8_t *p = w->buf.p;
    size_t len = w->buf.len;

    while (len) {
        ssize_t k = write(w->fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return disco_status_errno(st, errno, "chunks",
                                      "tsdb: cannot write chunk file %s/chunks/%016" PRIx64 ".tmp",
                                      w->db->dir, w->seq);
        p += k;
        len -= (size_t)k;
    }
    w->flushed += w->buf.len;
    w->buf.len = 0;
    return DISCO_OK;
}

static int cw_put(tsdb_cwriter *w, const uint8_t *p, size_t len, disco_status *st)
{
    if (disco__tsdb_buf_reserve(&w->buf, len) != DISCO_OK)
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    memcpy(w->buf.p + w->buf.len, p, len);
    w->buf.len += len;
    return w->buf.len >= CF_FLUSH ? cw_flush(w, st) : DISCO_OK;
}

/* Appends an encoded chunk and its index entry (offset filled in here). */
static int cw_add(tsdb_cwriter *w, tsdb_centry *e, const uint8_t *bytes, disco_status *st)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 256;
        tsdb_centry *ne = realloc(w->entries, ncap * sizeof *ne);
        if (!ne)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        w->entries = ne;
        w->cap = ncap;
    }
    e->offset = w->flushed + w->buf.len;
    w->entries[w->n++] = *e;
    return cw_put(w, bytes, e->length, st);
}

int disco__cw_open(tsdb_cwriter *w, disco_tsdb *db, uint64_t seq, disco_status *st)
{
    uint8_t hdr[HDR_SIZE];
    char name[32];

    memset(w, 0, sizeof *w);
    w->db = db;
    w->seq = seq;
    w->fd = -1;
    file_name(seq, "tmp", name);
    w->fd = openat(db->chunkfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0)
        return disco_status_errno(st, errno, "chunks", "tsdb: cannot create %s/chunks/%s", db->dir,
                                  name);
    memcpy(hdr, "DTSC", 4);
    tsdb_put16(hdr + 4, CF_VERSION);
    tsdb_put16(hdr + 6, 0);
    tsdb_put64(hdr + 8, seq);
    return cw_put(w, hdr, sizeof hdr, st);
}

int disco__cw_add_encoded(tsdb_cwriter *w, uint32_t series, const int64_t *ts, size_t n,
                          const disco_ts_precision *p, const uint8_t *bytes, size_t len,
                          disco_status *st)
{
    tsdb_centry e = {series,           (uint32_t)n,         ts[0], ts[n - 1], 0, (uint32_t)len,
                     (uint8_t)p->kind, (uint8_t)p->decimals};

    return cw_add(w, &e, bytes, st);
}

int disco__cw_encode(tsdb_cwriter *w, uint32_t series, const int64_t *ts, const double *v, size_t n,
                     const disco_ts_precision *p, disco_status *st)
{
    size_t need = disco_tscodec_bound(n), len;
    int rc;

    if (need > w->enc_cap) {
        uint8_t *ne = realloc(w->enc, need);
        if (!ne)
            return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
        w->enc = ne;
        w->enc_cap = need;
    }
    if ((rc = disco_tscodec_encode(ts, v, n, p, w->enc, w->enc_cap, &len, st)) != DISCO_OK)
        return rc;
    return disco__cw_add_encoded(w, series, ts, n, p, w->enc, len, st);
}

/* Index, footer, fsync. */
static int cw_finish(tsdb_cwriter *w, disco_status *st)
{
    uint64_t index_off = w->flushed + w->buf.len, points = 0;
    int64_t tmin = INT64_MAX, tmax = INT64_MIN;
    uint8_t ent[ENT_SIZE], ft[FTR_SIZE];
    uint32_t crc = 0;
    int rc;

    for (size_t i = 0; i < w->n; i++) {
        entry_encode(ent, &w->entries[i]);
        crc = disco_crc32c(crc, ent, sizeof ent);
        points += w->entries[i].count;
        tmin = w->entries[i].t_first < tmin ? w->entries[i].t_first : tmin;
        tmax = w->entries[i].t_last > tmax ? w->entries[i].t_last : tmax;
        if ((rc = cw_put(w, ent, sizeof ent, st)) != DISCO_OK)
            return rc;
    }
    tsdb_put64(ft, index_off);
    tsdb_put32(ft + 8, (uint32_t)w->n);
    tsdb_put32(ft + 12, crc);
    tsdb_put64(ft + 16, points);
    tsdb_put64(ft + 24, (uint64_t)tmin);
    tsdb_put64(ft + 32, (uint64_t)tmax);
    memcpy(ft + 40, "DTSE", 4);
    tsdb_put32(ft + 44, disco_crc32c(0, ft, 44));
    if ((rc = cw_put(w, ft, sizeof ft, st)) != DISCO_OK || (rc = cw_flush(w, st)) != DISCO_OK)
        return rc;
    if (fdatasync(w->fd) != 0)
        return disco_status_errno(st, errno, "chunks", "tsdb: cannot fsync a chunk file in %s",
                                  w->db->dir);
    return DISCO_OK;
}

void disco__cw_release(tsdb_cwriter *w, int remove_tmp)
{
    char name[32];

    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (remove_tmp && !w->committed) {
        file_name(w->seq, "tmp", name);
        unlinkat(w->db->chunkfd, name, 0);
    }
    disco__tsdb_buf_free(&w->buf);
    free(w->entries);
    free(w->enc);
    w->entries = NULL;
    w->enc = NULL;
}

int disco__cw_copy(tsdb_cwriter *w, const tsdb_centry *e, const uint8_t *bytes, disco_status *st)
{
    tsdb_centry c = *e;

    return cw_add(w, &c, bytes, st);
}

static void cfile_index(tsdb_cfile *f)
{
    f->points = 0;
    f->t_min = INT64_MAX;
    f->t_max = INT64_MIN;
    for (size_t i = 0; i < f->n_entries; i++) {
        f->points += f->entries[i].count;
        f->t_min = f->entries[i].t_first < f->t_min ? f->entries[i].t_first : f->t_min;
        f->t_max = f->entries[i].t_last > f->t_max ? f->entries[i].t_last : f->t_max;
    }
}

int disco__cw_commit(tsdb_cwriter *w, tsdb_cfile *f, disco_status *st)
{
    char tmp[32], name[32];
    int rc = cw_finish(w, st);

    if (rc != DISCO_OK)
        return rc;
    close(w->fd);
    w->fd = -1;
    file_name(w->seq, "tmp", tmp);
    file_name(w->seq, "dtc", name);
    if (renameat(w->db->chunkfd, tmp, w->db->chunkfd, name) != 0 || fsync(w->db->chunkfd) != 0)
        return disco_status_errno(st, errno, "chunks", "tsdb: cannot commit chunk file %s",
                                  f->path);
    w->committed = 1;
    if ((rc = cf_map(w->db, f, name, st)) != DISCO_OK)
        return rc;
    if (!(f->entries = malloc((w->n ? w->n : 1) * sizeof *f->entries)))
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    if (w->n)
        memcpy(f->entries, w->entries, w->n * sizeof *f->entries);
    f->n_entries = w->n;
    cfile_index(f);
    return DISCO_OK;
}

int disco__chunks_write(disco_tsdb *db, const tsdb_flush_item *items, size_t n, disco_status *st)
{
    tsdb_cfile *f = calloc(1, sizeof *f);
    tsdb_cwriter w;
    int rc;

    if (!f || !(f->path = file_path(db, db->next_file_seq))) {
        free(f);
        return disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    }
    f->seq = db->next_file_seq;
    rc = disco__cw_open(&w, db, f->seq, st);
    if (rc == DISCO_OK)
        rc = disco__encode_items(db, &w, items, n, st);
    if (rc == DISCO_OK)
        rc = disco__cw_commit(&w, f, st);
    if (rc == DISCO_OK && files_push(db, f) != DISCO_OK)
        rc = disco_status_set(st, DISCO_ERR_NOMEM, NULL, "out of memory");
    disco__cw_release(&w, rc != DISCO_OK);
    if (rc != DISCO_OK) {
        cfile_free(f);
        return rc;
    }
    db->next_file_seq++;
    return crefs_attach(db, f, st);
}

/* ---- replacing and removing a file ----------------------------------------------------- */

int disco__chunks_replace(disco_tsdb *db, tsdb_cfile *f, tsdb_cfile *nf, disco_status *st)
{
    crefs_detach(db, f);
    disco__cfile_unmap(f);
    nf->path = f->path;
    *f = *nf;
    memset(nf, 0, sizeof *nf);
    return crefs_attach(db, f, st);
}

int disco__chunks_drop(disco_tsdb *db, tsdb_cfile *f, disco_status *st)
{
    char name[32];

    file_name(f->seq, "dtc", name);
    if (unlinkat(db->chunkfd, name, 0) != 0 || fsync(db->chunkfd) != 0)
        return disco_status_errno(st, errno, "chunks", "tsdb: cannot remove %s", f->path);
    crefs_detach(db, f);
    files_remove(db, f);
    cfile_free(f);
    return DISCO_OK;
}
